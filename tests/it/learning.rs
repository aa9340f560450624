//! Learning from the moderators, as a seeded simulation over real HTTP with the real model
//! and SQLite: a few hundred comments are posted (from ../shared/train when present,
//! generated otherwise), a moderator who follows the gold labels decides them through the
//! API (held ones approved or removed, published abusive ones reported and removed), and
//! then the agreement report's counts, `modgate calibrate`'s threshold and
//! `modgate export-decisions`' CSV (read back by the training scripts' loader) are checked
//! against what was decided.

use crate::common;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{TestApp, project_root, spawn_with, test_config};
use modgate::store::moderators::Role;
use serde_json::{Value, json};

/// (text, abusive) pairs: the Jigsaw 2018 training sample when it is here (150 toxic, 150
/// not), else comments built from templates.
fn gold_comments() -> Vec<(String, bool)> {
    let path = project_root()
        .join("../shared/train/jigsaw2018_train_sample/jigsaw2018_trainsplit_5000.csv");
    if let Ok(mut reader) = csv::Reader::from_path(&path) {
        let mut toxic = Vec::new();
        let mut clean = Vec::new();
        let mut seen = HashSet::new();
        for record in reader.records() {
            let r = record.unwrap();
            let text = r[1].trim().to_string();
            let key = text
                .to_lowercase()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            if text.is_empty() || text.chars().count() > 600 || !seen.insert(key) {
                continue;
            }
            match &r[2] {
                "1" if toxic.len() < 150 => toxic.push((text, true)),
                "0" if clean.len() < 150 => clean.push((text, false)),
                _ => {}
            }
        }
        if toxic.len() == 150 && clean.len() == 150 {
            eprintln!("comments from {}", path.display());
            return toxic.into_iter().chain(clean).collect();
        }
    }
    eprintln!("../shared/train is not here: generated comments");
    let insults = [
        "stupid idiot",
        "worthless moron",
        "pathetic loser",
        "disgusting pig",
        "brainless clown",
    ];
    let subtle = [
        "people like you should not be allowed to vote",
        "go back to school before you write again",
        "nobody asked for your opinion",
        "your kind ruins every discussion",
    ];
    let topics = [
        "the budget",
        "the new bridge",
        "the election",
        "the school reform",
        "the water prices",
        "the bus routes",
    ];
    let identities = [
        "gay man",
        "black woman",
        "muslim",
        "jew",
        "deaf person",
        "trans woman",
    ];
    let mut out = Vec::new();
    for i in 0..150 {
        let topic = topics[i % topics.len()];
        if i % 3 == 0 {
            out.push((
                format!("About {topic}: {} (comment {i})", subtle[i % subtle.len()]),
                true,
            ));
        } else {
            out.push((
                format!(
                    "You are a {} and your take on {topic} is garbage (comment {i})",
                    insults[i % insults.len()]
                ),
                true,
            ));
        }
        if i % 4 == 0 {
            // Criticism, rude but of a plan, not a person, from someone naming who they are:
            // what a model trained on abuse holds and a moderator approves.
            let who = identities[i % identities.len()];
            out.push((
                format!("As a {who} I say this plan for {topic} is damn stupid (comment {i})."),
                false,
            ));
        } else {
            out.push((format!("Thank you for the careful reporting on {topic}, it answered my questions (comment {i})."), false));
        }
    }
    out
}

/// Enough readers' reports (`comments.reports_to_queue`, 3) to put comment `id` in the
/// reported queue.
async fn report(app: &TestApp, i: usize, id: i64, reason: &str) {
    for reader in 0..3 {
        let ip = format!("10.{reader}.{}.{}", i / 250, i % 250);
        let (code, out) = app.report_from(&ip, id, &json!({"reason": reason})).await;
        assert!(code == 200 || code == 201, "{out}");
    }
}

/// What the moderator did, to compare with the report.
#[derive(Default, Debug)]
struct Decided {
    held: usize,
    false_holds: usize,
    confirmed_holds: usize,
    reported: usize,
    misses: usize,
    approved: usize,
    removed: usize,
}

async fn simulate(app: &TestApp, token: &str) -> Decided {
    let mut decided = Decided::default();
    let mut kept_after_reports = 0;
    for (i, (text, abusive)) in gold_comments().into_iter().enumerate() {
        let (code, posted) = app
            .post_comment(
                &format!("story-{}", i % 7),
                None,
                &format!("reader{i}"),
                &text,
            )
            .await;
        assert_eq!(code, 201, "{posted}");
        let id = posted["id"].as_i64().unwrap();
        let status = posted["status"].as_str().unwrap().to_string();
        let decide = |action: &'static str| {
            let body = if action == "remove" {
                json!({"action": "remove", "reason": "abusive"})
            } else {
                json!({"action": "approve"})
            };
            async move {
                let (code, out) = app
                    .mod_post(
                        token,
                        &format!("/api/v1/moderation/comments/{id}/decision"),
                        &body,
                    )
                    .await;
                assert_eq!(code, 200, "{action} {id}: {out}");
            }
        };
        match (status.as_str(), abusive) {
            ("pending", true) => {
                decide("remove").await;
                decided.held += 1;
                decided.confirmed_holds += 1;
                decided.removed += 1;
            }
            ("pending", false) => {
                decide("approve").await;
                decided.held += 1;
                decided.false_holds += 1;
                decided.approved += 1;
            }
            ("published", true) => {
                report(app, i, id, "abusive").await;
                decide("remove").await;
                decided.reported += 1;
                decided.misses += 1;
                decided.removed += 1;
            }
            ("published", false) if kept_after_reports < 20 => {
                report(app, i, id, "other").await;
                decide("approve").await;
                decided.reported += 1;
                decided.approved += 1;
                kept_after_reports += 1;
            }
            _ => {}
        }
    }
    decided
}

/// A config file for the CLI on the test's database: the project's config.toml with the
/// BiLSTM the test service ran (so the verdicts' model is the current one) and absolute
/// paths.
/// The shipped config for the CLI, on `app`'s database (its SQLite file, or its
/// PostgreSQL database when the tests run on PostgreSQL).
fn cli_config(dir: &Path, app: &TestApp) -> PathBuf {
    let db = &app.db_path;
    let root = project_root();
    let source = std::fs::read_to_string(root.join("config.toml"))
        .unwrap()
        .replace(
            "backend = \"onnx\"\ndir = \"models/e5-toxic-full-int8\"",
            "backend = \"bilstm\"\ndir = \"models/bilstm\"",
        )
        .replace("\"models/", &format!("\"{}/models/", root.display()))
        .replace("\"rules/", &format!("\"{}/rules/", root.display()));
    assert!(
        source.contains("backend = \"bilstm\""),
        "config.toml's [model] changed shape"
    );
    let mut database = format!("path = \"{}\"", db.display());
    if app.on_postgres() {
        database += &format!("\nurl = \"{}\"", app.database.to_str().unwrap());
    }
    let source = source.replace("path = \"data/modgate.db\"", &database);
    assert!(
        source.contains(&db.display().to_string()),
        "config.toml's [database] changed shape"
    );
    let path = dir.join("cli.toml");
    std::fs::write(&path, source).unwrap();
    path
}

fn modgate(config: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_modgate"))
        .arg("--config")
        .arg(config)
        .args(args)
        .env_remove("MODGATE_CONFIG")
        .env_remove("MODGATE_DATABASE")
        .output()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moderators_decisions_become_agreement_thresholds_and_training_rows() {
    let dir = std::sync::Arc::new(tempfile::tempdir().unwrap());
    let db = dir.path().join("modgate.db");
    let mut config = test_config(&db);
    config.limits.posts_per_minute_per_ip = 100_000;
    config.limits.posts_per_minute_per_author = 100_000;
    config.limits.reports_per_minute_per_ip = 100_000;
    let app = spawn_with(config, dir.clone()).await;
    let admin = app.moderator_token("editor", Role::Admin).await;
    let moderator = app.moderator_token("night-shift", Role::Moderator).await;

    let decided = simulate(&app, &moderator).await;
    eprintln!("{decided:?}");
    assert!(
        decided.false_holds > 0 && decided.confirmed_holds > 0 && decided.misses > 0,
        "{decided:?}"
    );

    // The agreement report counts exactly what was decided.
    let (code, _) = app.mod_get(&moderator, "/api/v1/moderation/stats").await;
    assert_eq!(code, 403, "admins only");
    let (code, report) = app.mod_get(&admin, "/api/v1/moderation/stats").await;
    assert_eq!(code, 200, "{report}");
    let sum = |field: &str| -> usize {
        report["current"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g[field].as_u64().unwrap() as usize)
            .sum()
    };
    assert_eq!(
        report["older"],
        json!([]),
        "one model and rules version in this run"
    );
    assert_eq!(report["unscored"], 0);
    assert_eq!(report["decisions"], decided.held + decided.reported);
    assert_eq!(sum("held"), decided.held);
    assert_eq!(sum("false_holds"), decided.false_holds);
    assert_eq!(sum("confirmed_holds"), decided.confirmed_holds);
    assert_eq!(sum("reported"), decided.reported);
    assert_eq!(sum("misses"), decided.misses);
    let group = &report["current"][0];
    assert!(
        group["model_id"].as_str().unwrap().starts_with("bilstm"),
        "{group}"
    );
    assert!(group["week"].as_str().unwrap().contains("-W"), "{group}");
    let examples: usize = report["current"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["false_hold_examples"].as_array().unwrap().len())
        .sum();
    assert!(examples > 0, "false holds come with examples");
    let (code, err) = app
        .mod_get(&admin, "/api/v1/moderation/stats?since=yesterday")
        .await;
    assert_eq!(code, 400, "{err}");
    assert_eq!(err["error"]["field"], "since");
    let (code, later) = app
        .mod_get(&admin, "/api/v1/moderation/stats?since=2999-01-01")
        .await;
    assert_eq!(code, 200);
    assert_eq!(later["decisions"], 0);

    // calibrate recovers a threshold that meets its target on these decisions.
    let config = cli_config(dir.path(), &app);
    let out = modgate(
        &config,
        &[
            "calibrate",
            "--json",
            "--label",
            "toxic",
            "--max-false-holds",
            "0.2",
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let result: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("{e}: {stdout}\n{}", String::from_utf8_lossy(&out.stderr)));
    assert!(out.status.success(), "{result}");
    let scores = decided_scores(&app).await;
    let mut recommended = 0;
    for c in result["calibrations"].as_array().unwrap() {
        let Some(t) = c["recommended"].as_f64() else {
            continue;
        };
        recommended += 1;
        let language = c["language"].as_str();
        let rate = |t: f64| {
            let held: Vec<&(Option<String>, f64, bool)> = scores
                .iter()
                .filter(|(l, s, _)| {
                    language.is_none_or(|x| l.as_deref() == Some(x)) && *s >= t - 1e-6
                })
                .collect();
            let approved = held.iter().filter(|(_, _, removed)| !removed).count();
            (held.len(), approved as f64 / held.len().max(1) as f64)
        };
        let (held, at) = rate(t);
        assert!(held > 0 && at <= 0.2, "{c}: false-hold rate {at} at {t}");
        if t > 0.06 {
            let (_, below) = rate(t - 0.05);
            assert!(
                below > 0.2,
                "{c}: {t} is not the lowest threshold meeting the target ({below} at {})",
                t - 0.05
            );
        }
        let lines = c["config_lines"].as_str().unwrap();
        assert!(
            lines.contains(&format!("toxic = {{ hold_at = {t:.2} }}")),
            "{lines}"
        );
    }
    assert!(recommended > 0, "{result}");
    // The table form ends with lines to paste.
    let out = modgate(&config, &["calibrate", "--label", "toxic"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("# config.toml lines"), "{text}");
    // Too few decisions: a clear refusal, saying how many are needed.
    let out = modgate(&config, &["calibrate", "--language", "ru"]);
    assert_eq!(out.status.code(), Some(2));
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(said.contains("at least 50"), "{said}");

    // export-decisions writes what the training scripts' loader reads back.
    let csv_path = dir.path().join("decisions.csv");
    let out = modgate(
        &config,
        &["export-decisions", "--out", csv_path.to_str().unwrap()],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut reader = csv::Reader::from_path(&csv_path).unwrap();
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_string)
        .collect();
    for column in [
        "text",
        "language",
        "decision",
        "reason",
        "model_id",
        "rules_version",
        "score_toxic",
    ] {
        assert!(header.iter().any(|h| h == column), "{column} in {header:?}");
    }
    assert_eq!(reader.records().count(), decided.approved + decided.removed);
    let python = project_root().join("models/.venv/bin/python");
    if !python.is_file() {
        eprintln!(
            "skipped the loader check: models/.venv is missing (models/fetch-models.sh makes it)"
        );
        return;
    }
    let loaded = Command::new(&python)
        .current_dir(project_root().join("models"))
        .arg("-c")
        .arg(
            "import sys; from modgate_models.data import select_grouped, decision_sources; \
             t, y, s, g, l = select_grouped('.', decision_sources([sys.argv[1]]), full=True); \
             print(len(t), int((y[:, 0] == 1).sum()), int((y[:, 0] == 0).sum()), l[0]['rows_used'])",
        )
        .arg(&csv_path)
        .output()
        .unwrap();
    assert!(
        loaded.status.success(),
        "{}",
        String::from_utf8_lossy(&loaded.stderr)
    );
    let counts: Vec<usize> = String::from_utf8_lossy(&loaded.stdout)
        .split_whitespace()
        .map(|n| n.parse().unwrap())
        .collect();
    assert_eq!(
        counts,
        [
            decided.approved + decided.removed,
            decided.removed,
            decided.approved,
            decided.approved + decided.removed
        ],
        "rows, toxic, not toxic, rows used"
    );
}

/// (language, toxic score, removed) for every decided comment, straight from the tables.
async fn decided_scores(app: &TestApp) -> Vec<(Option<String>, f64, bool)> {
    let rows: Vec<(Option<String>, String, String)> =
        modgate::on_pool!(app.state.store.reader(), p => sqlx::query_as(
        "SELECT c.language, v.scores, l.action FROM moderation_log l
           JOIN comments c ON c.id = l.comment_id
           JOIN verdicts v ON v.id = (SELECT max(id) FROM verdicts WHERE comment_id = c.id)
          WHERE l.moderator_id IS NOT NULL",
    )
    .fetch_all(p)
    .await)
        .unwrap();
    rows.into_iter()
        .map(|(language, scores, action)| {
            let scores: Value = serde_json::from_str(&scores).unwrap();
            (
                language,
                scores["toxic"].as_f64().unwrap(),
                action == "remove",
            )
        })
        .collect()
}
