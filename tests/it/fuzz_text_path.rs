//! Hostile input through the WHOLE text path: body parsing → normalisation → rule matching →
//! tokenisation → BiLSTM → policy, plus the Perspective sentence splitter. Built from the
//! project's config.toml and the real model files.
//!
//! Two sources of input:
//! - the committed corpus `tests/fuzz_corpus/` (crafted nasty cases and anything that ever
//!   failed), replayed on every run;
//! - property-based generation (arbitrary bytes, arbitrary Unicode, and texts assembled
//!   from rule terms, evasion characters and long runs of one code point).
//!
//! `PROPTEST_CASES` sets the case count for long runs, e.g.
//! `PROPTEST_CASES=200000 cargo test --release --test fuzz_text_path`.

use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use modgate::api::perspective::sentences;
use modgate::config::Config;
use modgate::domain::AuthorStanding;
use modgate::domain::Flags;
use modgate::domain::Status;
use modgate::domain::comment::parse_body;
use modgate::domain::{Action, RuleHit};
use modgate::scoring::classifier::Classifier;
use modgate::scoring::classifier::bilstm::BiLstm;
use modgate::scoring::language;
use modgate::scoring::normalize::{Mapped, Target, prepare, view};
use modgate::scoring::pipeline::Scorer;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

/// What the service loads at start: config, compiled rules and policy, model.
struct TextPath {
    config: Config,
    scorer: Scorer,
    model: BiLstm,
    /// Rule terms as written (without `*`), to build texts that actually hit rules.
    terms: Vec<String>,
}

static PATH: LazyLock<TextPath> = LazyLock::new(|| {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = Config::load_file(&root.join("config.toml")).expect("config.toml loads");
    let scorer = Scorer::from_config(&config).expect("rules and policy compile");
    // One thread: texts are scored one at a time, and proptest runs its cases in sequence.
    // The BiLSTM, not the shipped transformer: proptest's thousands of cases need a model
    // that scores in microseconds (the text path up to the model is the same for both).
    let model = BiLstm::load(&root.join("models/bilstm"))
        .unwrap_or_else(|e| panic!("{e} (run models/fetch-models.sh)"))
        .with_threads(1);
    let terms = config
        .rules
        .list
        .iter()
        .chain(&config.rules.included)
        .flat_map(|l| &l.terms)
        .map(|t| t.get_ref().text.trim_matches('*').to_string())
        .filter(|t| !t.is_empty())
        .collect();
    TextPath {
        config,
        scorer,
        model,
        terms,
    }
});

/// Model words per text: the BiLSTM reads at most the last `maxlen` (vocab.json) words.
const MAXLEN: usize = 100;

fn rank(status: Status) -> u8 {
    match status {
        Status::Published => 0,
        Status::Pending => 1,
        Status::Removed => 2,
    }
}

/// The least severe status a rule action forces.
fn floor_of(action: Action) -> u8 {
    match action {
        Action::Allow | Action::Flag => 0,
        Action::Hold => 1,
        Action::Remove => 2,
    }
}

/// Byte offset of char `index` in `text` (`text.len()` for the end).
fn byte_of_char(text: &str, index: usize) -> Option<usize> {
    text.char_indices()
        .map(|(b, _)| b)
        .chain(std::iter::once(text.len()))
        .nth(index)
}

/// A rule hit's span is a non-empty char range of the ORIGINAL text that slices cleanly.
fn check_span(text: &str, n: usize, hit: &RuleHit) -> Result<(), TestCaseError> {
    prop_assert!(
        hit.start < hit.end && hit.end <= n,
        "hit {hit:?} outside {n} chars"
    );
    let (start, end) = (byte_of_char(text, hit.start), byte_of_char(text, hit.end));
    let (Some(start), Some(end)) = (start, end) else {
        return Err(TestCaseError::fail(format!(
            "hit {hit:?} has no byte offsets"
        )));
    };
    prop_assert!(text.is_char_boundary(start) && text.is_char_boundary(end));
    prop_assert_eq!(text[start..end].chars().count(), hit.end - hit.start);
    Ok(())
}

/// Every char of a normalised view maps back to a non-empty range of the original.
fn check_origins(what: &str, mapped: &Mapped, n: usize) -> Result<(), TestCaseError> {
    prop_assert_eq!(mapped.chars().len(), mapped.origins().len(), "{}", what);
    for o in mapped.origins() {
        prop_assert!(
            o.start < o.end && o.end <= n,
            "{what}: origin {o:?} outside {n} chars"
        );
    }
    Ok(())
}

/// Runs one text through every stage and checks what each promises.
fn check(text: &str) -> Result<(), TestCaseError> {
    let path = &*PATH;
    let n = text.chars().count();

    // Intake: trimmed, bounded, or a field error; never a panic.
    let max_chars = path.config.comments.max_chars;
    if let Ok(body) = parse_body(text, max_chars) {
        let len = body.chars().count();
        prop_assert!(len >= 1 && len <= max_chars);
        prop_assert_eq!(body.trim(), body.as_str());
    }

    // Normalisation, both targets and both readings of "1".
    let flags = Flags::default();
    let prepared = prepare(text, &flags);
    check_origins("prepared", &prepared, n)?;
    for target in [Target::Latin, Target::Native] {
        for one_as in ['i', 'l'] {
            let v = view(&prepared, &flags, target, one_as);
            check_origins("view", &v.text, n)?;
            check_origins("squeezed", &v.squeezed, n)?;
            prop_assert_eq!(v.runs.len(), v.squeezed.len());
        }
    }

    // Rules, for any language and for scoped lists.
    for lang in [None, Some("ru"), Some("uz-Latn"), Some("kk_KZ"), Some("")] {
        let checked = path.scorer.rules().check_explained(text, lang);
        for hit in checked.hits.iter().chain(&checked.suppressed) {
            check_span(text, n, hit)?;
        }
        prop_assert!(checked.hits.windows(2).all(|w| w[0].start <= w[1].start));
    }

    // Tokeniser and the whole scoring pipeline.
    prop_assert!(path.model.known_words(text) <= MAXLEN);
    let verdict = path
        .scorer
        .score_with(&path.model, text, AuthorStanding::default())
        .map_err(|e| TestCaseError::fail(format!("scoring failed: {e}")))?;
    for (label, score) in verdict.scores.iter() {
        prop_assert!(
            score.is_finite() && (0.0..=1.0).contains(&score),
            "{label} = {score}"
        );
    }
    // The verdict's language is the detected one, and its rules are those of that language.
    prop_assert_eq!(verdict.language, language::detect(text));
    prop_assert_eq!(
        &verdict.hits,
        &path.scorer.check_rules(text, language::detect(text))
    );
    let strongest = verdict.hits.iter().map(|h| floor_of(h.action)).max();
    prop_assert!(
        rank(verdict.status) >= strongest.unwrap_or(0),
        "verdict {} below its rule hits {:?}",
        verdict.status,
        verdict.hits
    );
    serde_json::to_string(&verdict).map_err(|e| TestCaseError::fail(e.to_string()))?;
    // A premoderated author's comment is never published, whatever the text.
    let held = path.scorer.verdict(
        &verdict.model_id,
        verdict.scores,
        verdict.hits.clone(),
        None,
        AuthorStanding {
            banned: false,
            premoderated: true,
        },
        verdict.language,
    );
    prop_assert_ne!(held.status, Status::Published);

    // Perspective: sentence spans in order, non-empty, consistent char and byte ranges.
    let spans = sentences::sentences(text);
    prop_assert!(spans.len() <= sentences::MAX_SPANS);
    let mut last_end = 0;
    for span in &spans {
        prop_assert!(span.begin >= last_end && span.begin < span.end && span.end <= n);
        prop_assert!(
            text.is_char_boundary(span.bytes.start) && text.is_char_boundary(span.bytes.end)
        );
        prop_assert_eq!(byte_of_char(text, span.begin), Some(span.bytes.start));
        prop_assert_eq!(span.text(text).chars().count(), span.end - span.begin);
        last_end = span.end;
    }
    // Language detection: any text, one of the four languages or none, and none exactly
    // when the text has no Latin or Cyrillic letter.
    let letters = text.chars().any(|c| {
        use unicode_script::{Script, UnicodeScript};
        c.is_alphabetic() && matches!(c.script(), Script::Latin | Script::Cyrillic)
    });
    prop_assert_eq!(language::detect(text).is_some(), letters);
    Ok(())
}

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz_corpus")
}

/// Every corpus file, read as bytes (some are not UTF-8: the lossy text is what a client
/// that sends such bytes would have to produce to get past the JSON parser).
#[test]
fn corpus_replays_clean() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(corpus_dir())
        .expect("tests/fuzz_corpus exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "txt"))
        .collect();
    files.sort();
    assert!(files.len() >= 20, "corpus too small: {}", files.len());
    let mut files_with_hits = 0;
    for file in &files {
        let bytes = std::fs::read(file).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        if !PATH
            .scorer
            .check_rules(&text, language::detect(&text))
            .is_empty()
        {
            files_with_hits += 1;
        }
        // Each file whole, and each line alone (a file may hold one case per line).
        let lines = text.lines().filter(|l| !l.is_empty());
        for case in std::iter::once(text.as_ref()).chain(lines) {
            if let Err(e) = check(case) {
                panic!("{}: {e}\ninput: {case:?}", file.display());
            }
        }
    }
    // The evasion cases must reach the rules, or the span checks above check nothing.
    assert!(
        files_with_hits >= 8,
        "only {files_with_hits} corpus files hit a rule"
    );
}

/// Characters that change meaning or length under normalisation, or that confuse
/// segmentation: combining marks, bidi controls, joiners, expanding NFKC and case forms.
const NASTY: &[&str] = &[
    "\u{301}",
    "\u{336}",
    "\u{20DD}",
    "\u{200B}",
    "\u{200C}",
    "\u{200D}",
    "\u{2060}",
    "\u{FEFF}",
    "\u{202E}",
    "\u{2067}",
    "\u{061C}",
    "\u{180E}",
    "\u{00AD}",
    "👨\u{200D}👩\u{200D}👧\u{200D}👦",
    "🏳\u{FE0F}\u{200D}🌈",
    "👍🏽",
    "🇺🇿",
    "1\u{FE0F}\u{20E3}",
    "مرحبا",
    "שָׁלוֹם",
    "\u{FDFA}",
    "\u{FB03}",
    "İ",
    "ß",
    "ẞ",
    "ŉ",
    "ǅ",
    "ς",
    "K",
    "Å",
    "ｓｗｉｎｅ",
    "𝐬𝐰𝐢𝐧𝐞",
    "ʻ",
    "’",
    "oʻ",
    "gʻ",
    "ё",
    "ң",
    "қ",
    "ұ",
    "<b>",
    "</b>",
    "<",
    ">",
    "&amp;",
    "&#115;",
    "&#x0;",
    "&#xD800;",
    "&#1114112;",
    "&",
    ";",
    ".",
    " ",
    "\n",
    "\r\n",
    "\t",
    "\u{85}",
    "\u{2028}",
    "1",
    "0",
    "$",
    "@",
    "!",
    "*",
    "\0",
    "\u{FFFD}",
    "\u{FFFF}",
    "\u{10FFFF}",
    "\u{E000}",
];

/// One piece of a generated text.
fn piece() -> impl Strategy<Value = String> {
    let terms = PATH.terms.clone();
    prop_oneof![
        3 => any::<char>().prop_map(String::from),
        3 => prop::sample::select(NASTY).prop_map(String::from),
        3 => prop::sample::select(terms.clone()).prop_map(String::from),
        // A term with evasion between its letters: "s.w.i.n.e", "s\u{200B}wine", "s\u{301}w…".
        2 => (prop::sample::select(terms), prop::sample::select(NASTY)).prop_map(|(t, sep)| {
            t.chars().map(|c| format!("{c}{sep}")).collect()
        }),
        2 => "[a-zа-яё' ]{1,40}",
        // Long runs of one code point, up to the comment limit and beyond.
        1 => (any::<char>(), 1usize..2000).prop_map(|(c, k)| std::iter::repeat_n(c, k).collect()),
        1 => (prop::sample::select(NASTY), 1usize..700).prop_map(|(s, k)| s.repeat(k)),
    ]
}

fn assembled() -> impl Strategy<Value = String> {
    prop::collection::vec(piece(), 0..12).prop_map(|v| v.concat())
}

/// Case count: `PROPTEST_CASES` when set (for long local runs), else `default`.
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(300)))]

    #[test]
    fn arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..3000)) {
        check(&String::from_utf8_lossy(&bytes))?;
    }

    #[test]
    fn arbitrary_unicode(text in any::<String>()) {
        check(&text)?;
    }

    #[test]
    fn assembled_hostile_text(text in assembled()) {
        check(&text)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases((cases(300) / 20).max(10)))]

    /// The classifier's contract: a text scores the same alone or in a batch with others
    /// of any length.
    #[test]
    fn batch_scores_equal_single_scores(texts in prop::collection::vec(assembled(), 1..8)) {
        let model = &PATH.model;
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let batch = model.score_batch(&refs).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(batch.len(), texts.len());
        for (text, scores) in refs.iter().zip(&batch) {
            let alone = model.score_batch(&[text]).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(&alone[0], scores, "{:?}", text);
        }
    }
}
