//! The built `modgate` binary: `score`, `check-config` and `eval`, with the default config
//! and the real model.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

fn project_config() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("config.toml")
}

/// The binary, run from a scratch directory so nothing depends on the working directory.
fn modgate(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_modgate"));
    cmd.current_dir(dir).env_remove("MODGATE_CONFIG");
    cmd
}

fn stdout_json(out: &Output) -> Value {
    let stdout = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not one JSON document ({e}):\n{stdout}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn assert_verdict_shape(v: &Value) {
    let obj = v.as_object().expect("object");
    let mut keys: Vec<&str> = obj.keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "hits",
            "language",
            "model_id",
            "reasons",
            "rules_version",
            "scores",
            "verdict"
        ]
    );
    assert!(matches!(
        v["verdict"].as_str(),
        Some("published" | "pending" | "removed")
    ));
    let scores = v["scores"].as_object().unwrap();
    for label in [
        "toxic",
        "severe_toxic",
        "obscene",
        "threat",
        "insult",
        "identity_hate",
    ] {
        let s = scores[label].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&s), "{label} = {s}");
    }
    assert!(v["hits"].is_array() && v["reasons"].is_array());
    assert!(!v["model_id"].as_str().unwrap().is_empty());
    assert!(v["rules_version"].is_string());
    assert!(matches!(
        v["language"].as_str(),
        Some("en" | "ru" | "kk" | "uz")
    ));
}

#[test]
fn score_prints_one_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let out = modgate(dir.path())
        .arg("--config")
        .arg(project_config())
        .args(["score", "You are a complete idiot and a moron."])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = stdout_json(&out);
    assert_verdict_shape(&v);
    assert_eq!(v["language"], "en", "{v}");
    assert_ne!(v["verdict"], "published", "{v}");
    assert!(v["scores"]["toxic"].as_f64().unwrap() > 0.8);
    assert!(
        v["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["kind"] == "threshold" && r["label"] == "toxic"),
        "{v}"
    );
}

#[test]
fn score_reads_stdin_and_config_from_env() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = modgate(dir.path())
        .env("MODGATE_CONFIG", project_config())
        .arg("score")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"Thanks for the article, very informative.\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = stdout_json(&out);
    assert_verdict_shape(&v);
    assert_eq!(v["verdict"], "published", "{v}");
}

/// `modgate check-config PATH`, which must fail (exit code 1): what it printed on stderr.
fn check_config_fails(dir: &Path, path: &Path) -> String {
    let out = modgate(dir)
        .args(["check-config"])
        .arg(path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn check_config_reports_file_line_column() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.toml");
    std::fs::write(
        &path,
        "[model]\ndir = \"models/bilstm\"\n\n[policy.thresholds]\ntoxic = { hold_at = 1.5 }\n",
    )
    .unwrap();
    let stderr = check_config_fails(dir.path(), &path);
    let expected = format!("{}:5:1:", path.display());
    assert!(stderr.contains(&expected), "want {expected} in:\n{stderr}");
    assert!(stderr.contains("hold_at"), "{stderr}");

    // A misspelt backend is found by check-config, with its place, not at model load.
    std::fs::write(
        &path,
        "[model]\nbackend = \"onxx\"\ndir = \"models/bilstm\"\n",
    )
    .unwrap();
    let stderr = check_config_fails(dir.path(), &path);
    assert!(
        stderr.contains(&format!("{}:2:", path.display())) && stderr.contains("onxx"),
        "{stderr}"
    );
    assert!(
        stderr.contains("bilstm") && stderr.contains("onnx"),
        "{stderr}"
    );

    // A database URL that is not PostgreSQL's is refused at its place, naming the key.
    std::fs::write(
        &path,
        "[model]\ndir = \"models/bilstm\"\n\n[database]\nurl = \"mysql://db/modgate\"\n",
    )
    .unwrap();
    let stderr = check_config_fails(dir.path(), &path);
    assert!(
        stderr.contains(&format!("{}:5:", path.display())) && stderr.contains("database.url"),
        "{stderr}"
    );

    // A TOML syntax error is located too.
    std::fs::write(&path, "[server]\nbind = \n").unwrap();
    let stderr = check_config_fails(dir.path(), &path);
    assert!(
        stderr.contains(&format!("{}:2:", path.display())),
        "{stderr}"
    );

    let out = modgate(dir.path())
        .args(["check-config"])
        .arg(project_config())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

const CSV: &str = "\
id,comment,gold,lang
1,\"Thanks for the article, very informative.\",0,en
2,You are a complete idiot and a moron.,1,en
3,\"The parliament will vote on the budget next week.\",0,en
4,\"Shut up, you stupid pathetic loser.\",1,en
5,Спасибо за статью,0,ru
6,I hope the minister has a good holiday.,0,ru
";

#[test]
fn eval_reports_metrics_as_json_and_table() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("small.csv");
    std::fs::write(&csv, CSV).unwrap();
    let run = |extra: &[&str]| {
        let out = modgate(dir.path())
            .arg("--config")
            .arg(project_config())
            .arg("eval")
            .arg(&csv)
            .args([
                "--text-col",
                "comment",
                "--label-col",
                "gold",
                "--group-col",
                "lang",
            ])
            .args(extra)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    };

    let report = stdout_json(&run(&["--json"]));
    let overall = &report["overall"];
    assert_eq!(overall["rows"], 6);
    assert_eq!(overall["positives"], 2);
    // The two insults are the most toxic texts here.
    assert_eq!(overall["auc"]["labels"]["toxic"], 1.0);
    let c = &overall["confusion"];
    assert_eq!(c["tp"].as_u64().unwrap() + c["fn"].as_u64().unwrap(), 2);
    assert_eq!(c["fp"].as_u64().unwrap() + c["tn"].as_u64().unwrap(), 4);
    assert_eq!(report["groups"]["en"]["rows"], 4);
    assert_eq!(report["groups"]["ru"]["positives"], 0);
    assert!(report["groups"]["ru"]["auc"]["verdict"].is_null());

    let table = String::from_utf8(run(&[]).stdout).unwrap();
    for needle in ["ROC-AUC", "verdict (0/1/2)", "Confusion", "By lang"] {
        assert!(table.contains(needle), "{needle} missing:\n{table}");
    }
}

#[test]
fn eval_names_a_missing_column() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("small.csv");
    std::fs::write(&csv, CSV).unwrap();
    let out = modgate(dir.path())
        .arg("--config")
        .arg(project_config())
        .arg("eval")
        .arg(&csv)
        .args(["--text-col", "text", "--label-col", "gold"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no column `text`"), "{stderr}");
}
