//! Comments per second of the BiLSTM backend on realistic 20–80-word comments:
//! the plain reference path (one text at a time, no shortcuts) against the batched path
//! at batch 1 and 32, on one thread and on all cores.
//!
//! `models/fetch-models.sh && cargo bench --bench classifier`

use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use modgate::scoring::batcher::{Batcher, BatcherConfig};
use modgate::scoring::classifier::Classifier;
use modgate::scoring::classifier::bilstm::BiLstm;

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
    "Good article, but you forgot to mention the cotton harvest and the workers' conditions.",
    "Shut up, nobody cares about your opinion, you worthless troll.",
    "The football team played badly again, the coach must change the tactics now.",
    "Please check your facts, the bridge was opened in 2019 and not in 2021 as you say.",
    "People like you are the reason this country never changes, disgusting.",
    "I agree with the previous comment, the roads outside the city are terrible.",
];

/// 64 comments of 20–80 words, deterministic.
fn comments() -> Vec<String> {
    (0..64)
        .map(|i| {
            let target = 20 + (i * 29) % 61;
            let mut words: Vec<&str> = Vec::new();
            let mut s = i * 5;
            while words.len() < target {
                words.extend(SENTENCES[s % SENTENCES.len()].split(' '));
                s += 3;
            }
            words.truncate(target);
            words.join(" ")
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/bilstm");
    let start = std::time::Instant::now();
    let model = BiLstm::load(&dir).unwrap_or_else(|e| panic!("{e}"));
    eprintln!("model loaded in {:?}", start.elapsed());
    let cores = model.threads();
    let single = BiLstm::load(&dir).expect("load").with_threads(1);
    let texts = comments();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let words: usize = texts.iter().map(|t| t.split(' ').count()).sum();
    let known: usize = texts.iter().map(|t| model.known_words(t)).sum();
    let n = texts.len() as f64;
    eprintln!(
        "{} comments, {:.1} words and {:.1} known words on average, {cores} cores available",
        texts.len(),
        words as f64 / n,
        known as f64 / n
    );

    let mut g = c.benchmark_group("bilstm");
    g.measurement_time(Duration::from_secs(6));
    g.throughput(Throughput::Elements(texts.len() as u64));
    g.bench_function("reference/batch1/threads1", |b| {
        b.iter(|| {
            for t in &refs {
                black_box(model.score_reference(t));
            }
        })
    });
    g.bench_function("fast/batch1/threads1", |b| {
        b.iter(|| {
            for t in &refs {
                black_box(single.score_batch(&[t]).expect("score"));
            }
        })
    });
    for (name, m) in [("threads1", &single), ("all_cores", &model)] {
        g.bench_function(format!("fast/batch32/{name}"), |b| {
            b.iter(|| {
                for chunk in refs.chunks(32) {
                    black_box(m.score_batch(chunk).expect("score"));
                }
            })
        });
    }

    // End to end through the dynamic batcher: 64 concurrent single-comment requests, as
    // the HTTP handlers make them (batch_size 32 as by default; batch_wait 2 ms, the
    // default until the writer stopped being the bottleneck, see docs/performance.md).
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .expect("runtime");
    let batcher = Arc::new(
        Batcher::new(
            Arc::new(BiLstm::load(&dir).expect("load")),
            BatcherConfig {
                batch_size: 32,
                batch_wait: Duration::from_millis(2),
                workers: 1,
                queue_capacity: 4096,
                max_queue_wait: None,
            },
        )
        .expect("batcher"),
    );
    g.bench_function("batcher/64_concurrent_requests/all_cores", |b| {
        b.iter(|| {
            rt.block_on(async {
                let tasks: Vec<_> = texts
                    .iter()
                    .map(|t| {
                        let (batcher, t) = (Arc::clone(&batcher), t.clone());
                        tokio::spawn(async move { batcher.score(t).await })
                    })
                    .collect();
                for t in tasks {
                    black_box(t.await.expect("task").expect("score"));
                }
            })
        })
    });
    g.finish();

    // Wall-clock figures depend on what else the machine runs; comments per CPU-second
    // show the cost of the work itself, and whether splitting a batch over threads adds
    // any.
    for (name, m) in [("threads1", &single), ("all_cores", &model)] {
        if let Some((wall, cpu)) = per_second(|| {
            for chunk in refs.chunks(32) {
                black_box(m.score_batch(chunk).expect("score"));
            }
        }) {
            eprintln!(
                "fast/batch32/{name}: {:.0} comments/s wall, {:.0} comments per CPU-second",
                wall * n,
                cpu * n
            );
        }
    }
}

/// Runs `f` for about 5 s; returns calls per wall-clock second and per CPU-second of this
/// process (all threads). `None` where /proc is unavailable.
fn per_second(mut f: impl FnMut()) -> Option<(f64, f64)> {
    let (cpu0, start) = (cpu_seconds()?, Instant::now());
    let mut calls = 0u32;
    while start.elapsed() < Duration::from_secs(5) {
        f();
        calls += 1;
    }
    let (cpu, wall) = (cpu_seconds()? - cpu0, start.elapsed().as_secs_f64());
    Some((calls as f64 / wall, calls as f64 / cpu))
}

/// User + system CPU time of this process from /proc/self/stat (in USER_HZ = 1/100 s).
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the parenthesised command name start at field 3; utime and stime are
    // fields 14 and 15.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

criterion_group!(benches, bench);
criterion_main!(benches);
