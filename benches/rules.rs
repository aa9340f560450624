//! Rule matching time per comment (20–80 words, English and Russian): the default lists,
//! the default lists plus a synthetic 5,000-term list, and naive per-term baselines over
//! the same 5,000 terms (`str::contains` on lower-cased text, and one regex per term).
//! Each iteration checks ONE comment, so criterion's time is the time per comment.
//!
//! `cargo bench --bench rules`

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, criterion_group, criterion_main};
use modgate::config::Config;
use modgate::scoring::rules::RuleSet;
use regex::Regex;

const SENTENCES: &[&str] = &[
    "I have been reading this paper for years and this is the first time I disagree so strongly.",
    "The new metro line in Tashkent is great but the ticket prices are too high for students.",
    "Who wrote this nonsense, are you people completely stupid or just paid to lie?",
    "Thank you for covering the water shortage in the villages, nobody else talks about it.",
    "The minister should resign, he has failed every promise he made last spring.",
    "What an idiot, go back to school and learn some basic economics before you write.",
    "Let these swine forage in their bogs, nobody asked them to come here.",
    "Please check your facts, the bridge was opened in 2019 and not in 2021 as you say.",
    "Мы живём здесь уже двадцать лет и никогда не видели таких цен на хлеб.",
    "Автор статьи явно не был в Алматы, там всё совсем не так, как он пишет.",
    "Опять эти чиновники обещают построить дорогу, которую обещали ещё в прошлом году.",
    "Спасибо за статью, очень полезно знать, что происходит в регионах.",
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
                s += 1;
            }
            words.truncate(target);
            words.join(" ")
        })
        .collect()
}

/// 5,000 distinct pseudo-words of 5–10 letters (deterministic LCG).
fn synthetic_terms(n: usize) -> Vec<String> {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) as usize
    };
    let mut terms = std::collections::BTreeSet::new();
    while terms.len() < n {
        let len = 5 + next() % 6;
        let word: String = (0..len)
            .map(|_| (b'a' + (next() % 26) as u8) as char)
            .collect();
        terms.insert(word);
    }
    terms.into_iter().collect()
}

/// The project's config.toml rules, plus `extra` lists.
fn load(extra: &str) -> RuleSet {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config.toml");
    let source = std::fs::read_to_string(&path).unwrap();
    let config =
        Config::parse(&path, &format!("{source}\n{extra}")).unwrap_or_else(|e| panic!("{e:?}"));
    RuleSet::compile(&config.rules).unwrap()
}

fn bench(c: &mut Criterion) {
    let comments = comments();
    let terms = synthetic_terms(5_000);
    let quoted: Vec<String> = terms.iter().map(|t| format!("\"{t}\"")).collect();
    let synthetic = format!(
        "[[rules.list]]\nname = \"synthetic\"\ncategory = \"custom\"\naction = \"flag\"\nterms = [{}]\n",
        quoted.join(", ")
    );
    let default_rules = load("");
    let big_rules = load(&synthetic);
    let per_term_regexes: Vec<Regex> = terms
        .iter()
        .map(|t| Regex::new(&format!(r"\b{t}\b")).unwrap())
        .collect();

    let mut group = c.benchmark_group("rules_per_comment");
    let mut i = 0;
    let mut next_comment = || {
        i = (i + 1) % comments.len();
        comments[i].as_str()
    };
    group.bench_function("default_lists", |b| {
        b.iter(|| black_box(default_rules.check(next_comment(), None)))
    });
    group.bench_function("default_plus_5000_terms", |b| {
        b.iter(|| black_box(big_rules.check(next_comment(), None)))
    });
    group.bench_function("baseline_5000_contains", |b| {
        b.iter(|| {
            let text = next_comment().to_lowercase();
            black_box(terms.iter().filter(|t| text.contains(t.as_str())).count())
        })
    });
    group.sample_size(20);
    group.bench_function("baseline_5000_regex_loop", |b| {
        b.iter(|| {
            let text = next_comment().to_lowercase();
            black_box(
                per_term_regexes
                    .iter()
                    .filter(|r| r.is_match(&text))
                    .count(),
            )
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
