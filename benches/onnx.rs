//! Comments per second of the ONNX Runtime backend (minilm-toxic and e5-toxic, fp32 and int8) at batch 1
//! and 32, and, in the same run, ONNX Runtime's own Python API on the same model, texts,
//! batch sizes and thread count (`python -m modgate_models.bench_onnx`, tokenisation included on both sides).
//!
//! `models/fetch-models.sh && cargo bench --bench onnx`
//! Threads: `MODGATE_BENCH_THREADS` (default 1). Models: `MODGATE_BENCH_MODELS`, a comma
//! list of directories under models/ (default: all four).
//!
//! ONNX Runtime settings (`MODGATE_BENCH_SETTINGS=1`): for each model, batch 32 at every
//! graph optimisation level (`disable`, `basic`, `extended`, `all`); then two sessions of
//! one thread each scoring at once, one one-thread session scoring two batches at once (what
//! `[model] sessions = 2` runs) and one session of two threads; the Python side is skipped
//! then.
//!
//! A load mix (`MODGATE_BENCH_TEXTS=FILE.jsonl`, request bodies as `python3 bench/bodies.py
//! FILE.jsonl` writes them): each model scores the first 128 bodies per iteration, cascade
//! models with their exit rule on (the share of windows their first stage decided is
//! printed); the Python side is skipped then.
//!
//! The tokenizer alone (`MODGATE_BENCH_TOKENIZER=1`): e5-toxic-full's `tokenizer.json`
//! through the `tokenizers` crate's Unigram model and through modgate's compact one
//! (`onnx/unigram.rs`), on the comments above or the load mix; the resident memory each
//! adds when loaded is printed.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use modgate::scoring::classifier::Classifier;
use modgate::scoring::classifier::onnx::{OnnxClassifier, OnnxOptions, Optimization};

/// Sentences in the style of reader comments on a regional news site, some of them rude.
const SENTENCES: &[&str] = &[
    "I have been reading this paper for years and this is the first time I disagree so strongly.",
    "The new metro line in Tashkent is great but the ticket prices are too high for students.",
    "Who wrote this nonsense, are you people completely stupid or just paid to lie?",
    "Thank you for covering the water shortage in the villages, nobody else talks about it.",
    "The minister should resign, he has failed every promise he made last spring.",
    "What an idiot, go back to school and learn some basic economics before you write.",
    "My grandmother lives in Almaty and she says the prices doubled since the winter.",
    "This is fake news and the author is a clown who should be ashamed of himself.",
];

/// 64 comments of 36 words (about 48 tokens each), deterministic.
fn comments() -> Vec<String> {
    (0..64)
        .map(|i| {
            let mut words: Vec<&str> = Vec::new();
            let mut s = i * 5;
            while words.len() < 36 {
                words.extend(SENTENCES[s % SENTENCES.len()].split(' '));
                s += 3;
            }
            words.truncate(36);
            words.join(" ")
        })
        .collect()
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn threads() -> usize {
    std::env::var("MODGATE_BENCH_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1)
}

fn python_side(model: &Path, texts: &[String], threads: usize) {
    let python = root().join("models/.venv/bin/python");
    if !python.exists() {
        eprintln!("python side skipped: {} is absent", python.display());
        return;
    }
    let file =
        std::env::temp_dir().join(format!("modgate-bench-texts-{}.json", std::process::id()));
    std::fs::write(&file, serde_json::to_string(texts).unwrap()).unwrap();
    let out = Command::new(python)
        .current_dir(root().join("models"))
        .args(["-m", "modgate_models.bench_onnx"])
        .args(["--model", &model.display().to_string()])
        .args(["--texts", &file.display().to_string()])
        .args(["--threads", &threads.to_string()])
        .output()
        .expect("run python -m modgate_models.bench_onnx");
    let _ = std::fs::remove_file(&file);
    if !out.status.success() {
        eprintln!(
            "python side failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        println!("python onnxruntime: {line}");
    }
}

/// Batch 32 per optimisation level; then two one-thread sessions in parallel, one
/// one-thread session run from two threads at once, and one two-thread session, 64
/// comments per iteration each.
fn settings(c: &mut Criterion, variant: &str, dir: &Path, refs: &[&str], options: &OnnxOptions) {
    for optimization in Optimization::ALL {
        let model = OnnxClassifier::load(
            dir,
            &OnnxOptions {
                optimization,
                ..options.clone()
            },
        )
        .unwrap();
        let mut group = c.benchmark_group(format!(
            "onnx-settings/{variant}/threads{}/opt-{}",
            options.threads,
            optimization.name()
        ));
        group.throughput(Throughput::Elements(32));
        let mut half = 0;
        group.bench_function("batch32", |b| {
            b.iter(|| {
                half ^= 32;
                black_box(model.score_batch(&refs[half..half + 32]).unwrap())
            })
        });
        group.finish();
    }
    let one_thread = OnnxOptions {
        threads: 1,
        ..options.clone()
    };
    let lanes = [
        OnnxClassifier::load(dir, &one_thread).unwrap(),
        OnnxClassifier::load(dir, &one_thread).unwrap(),
    ];
    let two_threads = OnnxClassifier::load(
        dir,
        &OnnxOptions {
            threads: 2,
            ..options.clone()
        },
    )
    .unwrap();
    let mut group = c.benchmark_group(format!("onnx-settings/{variant}/sessions"));
    group.throughput(Throughput::Elements(64));
    group.bench_function("two sessions x 1 thread, batch32 each at once", |b| {
        b.iter(|| {
            std::thread::scope(|s| {
                for (i, m) in lanes.iter().enumerate() {
                    s.spawn(move || black_box(m.score_batch(&refs[i * 32..i * 32 + 32]).unwrap()));
                }
            })
        })
    });
    // What `[model] sessions = 2` runs now: two workers on one shared session.
    group.bench_function("one session x 1 thread, two batch32 at once", |b| {
        b.iter(|| {
            std::thread::scope(|s| {
                for i in 0..2 {
                    let m = &lanes[0];
                    s.spawn(move || black_box(m.score_batch(&refs[i * 32..i * 32 + 32]).unwrap()));
                }
            })
        })
    });
    group.bench_function("one session x 2 threads, batch32 twice", |b| {
        b.iter(|| {
            for i in 0..2 {
                black_box(two_threads.score_batch(&refs[i * 32..i * 32 + 32]).unwrap());
            }
        })
    });
    group.finish();
}

/// The first 128 bodies of a load-mix file.
fn mix(path: &str) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    text.lines()
        .take(128)
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("a JSON body per line");
            v["body"].as_str().expect("body").to_string()
        })
        .collect()
}

fn bench_mix(c: &mut Criterion, variants: &str, texts: &[String], options: &OnnxOptions) {
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    for variant in variants.split(',').map(str::trim).filter(|v| !v.is_empty()) {
        let dir = root().join("models").join(variant);
        let model = OnnxClassifier::load(&dir, options)
            .unwrap_or_else(|e| panic!("{e} (run models/fetch-models.sh)"));
        let mut group = c.benchmark_group(format!("onnx-mix/{variant}/threads{}", options.threads));
        group.throughput(Throughput::Elements(refs.len() as u64));
        group.bench_function("load mix, 128 comments", |b| {
            b.iter(|| black_box(model.score_batch(&refs).unwrap()))
        });
        group.finish();
        if let Some((windows, exited)) = model.cascade_exits() {
            eprintln!(
                "{variant}: the first stage decided {exited} of {windows} windows ({:.1}%)",
                100.0 * exited as f64 / windows.max(1) as f64
            );
        }
    }
}

/// Resident memory of this process, in MB.
fn rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn bench_tokenizers(c: &mut Criterion, texts: &[String]) {
    use modgate::config::Vocabulary;
    use modgate::scoring::classifier::onnx::load_tokenizer;
    let path = root().join("models/e5-toxic-full-int8/tokenizer.json");
    // The compact one first, so it cannot reuse heap the crate's parse freed.
    let before = rss_mb();
    let (compact, _) = load_tokenizer(&path, Vocabulary::Full).expect("tokenizer");
    let compact_mb = rss_mb() - before;
    let before = rss_mb();
    let reference = tokenizers::Tokenizer::from_file(&path).expect("tokenizer");
    let crate_mb = rss_mb() - before;
    eprintln!(
        "resident memory added by loading tokenizer.json: the crate's Unigram {crate_mb:.0} MB, \
         the compact one {compact_mb:.0} MB"
    );
    let mut group = c.benchmark_group("tokenizer/e5-toxic-full");
    group.throughput(Throughput::Elements(texts.len() as u64));
    group.bench_function("tokenizers crate Unigram", |b| {
        b.iter(|| {
            for t in texts {
                black_box(reference.encode(t.as_str(), true).unwrap());
            }
        })
    });
    group.bench_function("compact Unigram", |b| {
        b.iter(|| {
            for t in texts {
                black_box(compact.encode(t.as_str(), true).unwrap());
            }
        })
    });
    group.finish();
}

fn bench(c: &mut Criterion) {
    let threads = threads();
    if std::env::var("MODGATE_BENCH_TOKENIZER").is_ok_and(|v| v == "1") {
        let texts = match std::env::var("MODGATE_BENCH_TEXTS") {
            Ok(path) => mix(&path),
            Err(_) => comments(),
        };
        bench_tokenizers(c, &texts);
        return;
    }
    let study = std::env::var("MODGATE_BENCH_SETTINGS").is_ok_and(|v| v == "1");
    let texts = comments();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let options = OnnxOptions {
        runtime: Some(root().join("models/onnxruntime/libonnxruntime.so.1.31.1")),
        threads,
        cascade: true,
        ..OnnxOptions::default()
    };
    let variants = std::env::var("MODGATE_BENCH_MODELS")
        .unwrap_or_else(|_| "minilm-toxic,minilm-toxic-int8,e5-toxic,e5-toxic-int8".into());
    if let Ok(path) = std::env::var("MODGATE_BENCH_TEXTS") {
        bench_mix(c, &variants, &mix(&path), &options);
        return;
    }
    for variant in variants.split(',').map(str::trim).filter(|v| !v.is_empty()) {
        let dir = root().join("models").join(variant);
        if study {
            settings(c, variant, &dir, &refs, &options);
            continue;
        }
        let model = OnnxClassifier::load(&dir, &options)
            .unwrap_or_else(|e| panic!("{e} (run models/fetch-models.sh)"));
        let tokens: usize = refs
            .iter()
            .map(|t| model.windows(t).unwrap()[0].len())
            .sum();
        eprintln!(
            "{variant}: {} comments, {:.1} tokens on average, {threads} thread(s)",
            refs.len(),
            tokens as f64 / refs.len() as f64
        );
        let mut group = c.benchmark_group(format!("onnx/{variant}/threads{threads}"));
        group.throughput(Throughput::Elements(1));
        let mut i = 0;
        group.bench_function("batch1", |b| {
            b.iter(|| {
                i = (i + 1) % refs.len();
                black_box(model.score_batch(&refs[i..i + 1]).unwrap())
            })
        });
        group.throughput(Throughput::Elements(32));
        let mut half = 0;
        group.bench_function("batch32", |b| {
            b.iter(|| {
                half ^= 32;
                black_box(model.score_batch(&refs[half..half + 32]).unwrap())
            })
        });
        group.finish();
        python_side(&dir, &texts, threads);
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(5));
    targets = bench
}
criterion_main!(benches);
