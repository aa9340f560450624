//! The multilingual e5 models through the ONNX Runtime backend, against the real files
//! `models/fetch-models.sh` builds: `models/e5-toxic-full/` (all twelve layers fine-tuned,
//! the shipped default) and `models/e5-toxic/` (top two layers), each fp32 and `-int8`, and
//! `models/onnxruntime/`.

use crate::common;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

use modgate::config::{Config, Vocabulary};
use modgate::domain::AuthorStanding;
use modgate::domain::Label;
use modgate::scoring::classifier::onnx::{OnnxClassifier, OnnxOptions};
use modgate::scoring::classifier::{self, Classifier};
use modgate::scoring::pipeline::Scorer;
use serde_json::Value;

/// Both fine-tuned e5 models; every test below runs on each.
const MODELS: [&str; 2] = ["e5-toxic-full", "e5-toxic"];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `models/{dir}`, loaded once per test binary.
fn model(dir: &str) -> &'static OnnxClassifier {
    model_with(dir, Vocabulary::default())
}

/// `models/{dir}` with the given `[model] vocabulary`, loaded once per test binary.
fn model_with(dir: &str, vocabulary: Vocabulary) -> &'static OnnxClassifier {
    type Loaded = HashMap<(String, Vocabulary), &'static OnnxClassifier>;
    static MODELS: OnceLock<Mutex<Loaded>> = OnceLock::new();
    let mut loaded = MODELS.get_or_init(Default::default).lock().unwrap();
    loaded
        .entry((dir.to_string(), vocabulary))
        .or_insert_with(|| {
            let options = OnnxOptions {
                runtime: Some(root().join("models/onnxruntime/libonnxruntime.so.1.31.1")),
                threads: 1,
                vocabulary,
                ..OnnxOptions::default()
            };
            let m = OnnxClassifier::load(&root().join("models").join(dir), &options)
                .unwrap_or_else(|e| panic!("{dir}: {e} (run models/fetch-models.sh)"));
            Box::leak(Box::new(m))
        })
}

fn fp32(name: &str) -> &'static OnnxClassifier {
    model(name)
}

fn int8(name: &str) -> &'static OnnxClassifier {
    model(&format!("{name}-int8"))
}

/// Texts, token ids and logits that models/modgate_models/build_e5_onnx.py computed with the Python
/// `tokenizers` library and the float64 numpy reference forward pass (not ONNX Runtime).
fn reference(name: &str) -> Vec<(String, Vec<u32>, Vec<f32>)> {
    let path = root().join("models").join(name).join("provenance.json");
    let prov: Value = serde_json::from_slice(&std::fs::read(&path).expect("provenance.json"))
        .expect("provenance JSON");
    let v = &prov["verified_logits"];
    let texts = v["texts"].as_array().expect("texts");
    (0..texts.len())
        .map(|i| {
            let ids = v["ids"][i].as_array().expect("ids");
            let logits = v["logits"][i].as_array().expect("logits");
            (
                texts[i].as_str().unwrap().to_string(),
                ids.iter().map(|x| x.as_u64().unwrap() as u32).collect(),
                logits.iter().map(|x| x.as_f64().unwrap() as f32).collect(),
            )
        })
        .collect()
}

#[test]
fn tokens_and_logits_match_the_python_tokenizer_and_numpy_reference() {
    for name in MODELS {
        let cases = reference(name);
        assert!(cases.len() >= 4);
        for (text, ids, logits) in cases {
            let windows = fp32(name).windows(&text).expect("tokenise");
            assert_eq!(windows.len(), 1, "{name} {text:?} fits one window");
            let model_ids: Vec<u32> = fp32(name).model_ids(&windows[0]).collect();
            assert_eq!(model_ids, ids, "{name} {text:?}: token ids");
            let got = &fp32(name).window_logits(&text).expect("scoring")[0];
            for (j, (g, w)) in got.iter().zip(&logits).enumerate() {
                assert!(
                    (g - w).abs() <= 1e-4,
                    "{name} {text:?} label {j}: {g} vs {w}"
                );
            }
        }
    }
}

#[test]
fn the_tokenizer_adds_the_e5_prefix_and_keeps_cyrillic_and_uzbek_letters() {
    for name in MODELS {
        let with = fp32(name).windows("Oʻzbekiston ғалаба").expect("tokenise");
        let tokens = with[0].get_tokens().join(" ");
        assert!(tokens.starts_with("<s> ▁que ry : ▁O"), "{name}: {tokens}");
        assert!(!tokens.contains("<unk>"), "{name}: {tokens}");
    }
}

/// int8 quantises activations per tensor per pass, so single scores drift: on the 4,761
/// held-out training rows e5-toxic-full's toxic moved by 0.019 on average, 0.155 at the 99th
/// percentile and 0.375 at most, and 2.7% of verdicts differ, while accuracy (0.817 against
/// 0.819) and ROC-AUC (0.915 against 0.916) hold (docs/e5-full.md). The bound is set above
/// that 99th percentile: it catches a broken conversion, not that drift.
#[test]
fn int8_scores_stay_close_to_fp32() {
    for name in MODELS {
        let texts: Vec<String> = reference(name).into_iter().map(|(t, _, _)| t).collect();
        let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
        let a = fp32(name).score_batch(&texts).expect("fp32");
        let b = int8(name).score_batch(&texts).expect("int8");
        for ((text, x), y) in texts.iter().zip(a).zip(b) {
            for label in Label::ALL {
                let (p, q) = (x.get(label), y.get(label));
                assert!(
                    (p - q).abs() < 0.2,
                    "{name} {text:?} {label}: fp32 {p} int8 {q}"
                );
            }
        }
    }
}

/// Hand-written smoke cases (not evaluation data): a threat or insult must outscore a
/// neutral comment on the same topic, in each language the site serves.
#[test]
fn abuse_outscores_neutral_comments_in_each_language() {
    let pairs = [
        (
            "en",
            "I will find you and kill you, you filthy animal.",
            "Thank you for the report on the new water pipeline.",
        ),
        (
            "ru",
            "Я тебя найду и убью, мразь.",
            "Спасибо за статью о новом водопроводе.",
        ),
        (
            "kk",
            "Сені өлтіремін, ақымақ мал.",
            "Жаңа су құбыры туралы мақала үшін рахмет.",
        ),
        (
            "uz",
            "Seni oʻldiraman, ahmoq hayvon.",
            "Yangi suv quvuri haqidagi maqola uchun rahmat.",
        ),
    ];
    for name in MODELS {
        for (lang, abusive, neutral) in pairs {
            let s = int8(name)
                .score_batch(&[abusive, neutral])
                .expect("scoring");
            let (a, n) = (s[0].get(Label::Toxic), s[1].get(Label::Toxic));
            assert!(
                a > n + 0.2,
                "{name} {lang}: toxic {a} (abusive) vs {n} (neutral)"
            );
        }
    }
}

#[test]
fn verdicts_carry_the_e5_model_id() {
    let mut config = Config::load_file(&root().join("config.toml")).expect("config.toml");
    config.model.backend = modgate::config::Backend::Onnx;
    config.model.dir = root().join("models/e5-toxic-int8");
    config.model.onnx_runtime = Some(root().join("models/onnxruntime/libonnxruntime.so.1.31.1"));
    config.model.threads = 1;
    let scorer = Scorer::from_config(&config).expect("scorer");
    let model = classifier::load(&config).expect("e5-toxic-int8");
    let verdict = scorer
        .score_with(
            model.as_ref(),
            "Спасибо за статью.",
            AuthorStanding::default(),
        )
        .expect("verdict");
    assert!(
        verdict.model_id.starts_with("onnx:e5-toxic-int8@"),
        "{}",
        verdict.model_id
    );
}

/// The shipped config.toml: e5-toxic-full-int8 scores every language, each stored verdict
/// names it, and hate speech the BiLSTM published (the model issue's examples) is held.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shipped_config_scores_each_language_with_its_model() {
    let dir = std::sync::Arc::new(tempfile::tempdir().unwrap());
    let config = common::default_config(&dir.path().join("m.db"));
    let app = common::spawn_with(config, dir.clone()).await;
    let model = "onnx:e5-toxic-full-int8@";
    let cases = [
        ("en", "Thank you, a clear and useful article."),
        ("ru", "Спасибо, полезная и понятная статья."),
        ("kk", "Рақмет, пайдалы және түсінікті мақала."),
        ("uz", "Rahmat, foydali va tushunarli maqola, oʻqidim."),
    ];
    let verdict_of = |id: i64| {
        let app = &app;
        async move {
            modgate::on_pool!(app.state.store.reader(), p => sqlx::query_as::<_, (String, Option<String>, String)>(
                "SELECT v.model_id, c.language, v.reasons FROM verdicts v \
                 JOIN comments c ON c.id = v.comment_id WHERE c.id = $1 ORDER BY v.id DESC LIMIT 1",
            )
            .bind(id)
            .fetch_one(p)
            .await)
            .unwrap()
        }
    };
    for (lang, body) in cases {
        let (code, out) = app.post_comment("langs", None, "ann", body).await;
        assert_eq!(code, 201, "{out}");
        assert_eq!(out["status"], "published", "{lang}: {out}");
        let (model_id, language, _) = verdict_of(out["id"].as_i64().unwrap()).await;
        assert!(model_id.starts_with(model), "{lang}: {model_id}");
        assert_eq!(language.as_deref(), Some(lang));
    }
    // Hate speech without a slur (no rule list names it): the model holds it.
    for body in [
        "Muslims are a disease and should be deported",
        "You people are animals, go back to your country",
        "Заткнись, тупая скотина, никто тебя не спрашивал.",
    ] {
        let (code, out) = app.post_comment("langs", None, "bob", body).await;
        assert_eq!(code, 201, "{out}");
        let (model_id, _, reasons) = verdict_of(out["id"].as_i64().unwrap()).await;
        assert_eq!(out["status"], "pending", "{body}: {model_id} {reasons}");
        assert!(model_id.starts_with(model), "{model_id}");
    }
}

/// With English on the BiLSTM and Russian on e5-toxic-int8 (`[model.languages]`), a burst
/// of Russian comments far beyond what the transformer scores within the budget: English
/// comments posted meanwhile are still scored (their model has its own lane); the Russian
/// ones over the limit are stored at once as pending/unscored, not after a timeout; and
/// once the burst is over every one of them is re-scored by e5-toxic.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_russian_burst_does_not_hold_up_english_and_is_rescored_afterwards() {
    let dir = std::sync::Arc::new(tempfile::tempdir().unwrap());
    let mut config = common::default_config(&dir.path().join("m.db"));
    config.model.backend = modgate::config::Backend::Bilstm;
    config.model.dir = root().join("models/bilstm");
    config.model.languages.clear();
    config.model.languages.insert(
        toml::Spanned::new(0..0, "ru".to_string()),
        modgate::config::ModelRoute {
            backend: modgate::config::Backend::Onnx,
            dir: root().join("models/e5-toxic-int8"),
            label_map: Default::default(),
            max_tokens: None,
        },
    );
    // A queue limit of 200 ms: 64 Russian comments in flight would need e5 at 3 ms each.
    config.model.timeout_ms = 400;
    config.limits.posts_per_minute_per_ip = 0;
    config.limits.posts_per_minute_per_author = 0;
    config.limits.duplicate_window_secs = 0;
    let app = std::sync::Arc::new(common::spawn_with(config, dir.clone()).await);

    let topics = [
        "налоги",
        "дороги",
        "школы",
        "больницы",
        "транспорт",
        "погода",
        "цены",
        "выборы",
    ];
    let russian: Vec<String> = (0..256)
        .map(|i| {
            format!(
                "Комментарий {i}. Статья про {} написана подробно, но автор не упомянул, \
                 что в нашем районе всё совсем иначе: люди ждут перемен уже много лет, а \
                 чиновники только обещают. Хотелось бы продолжения с мнениями жителей.",
                topics[i % topics.len()]
            )
        })
        .collect();
    let burst = {
        let app = std::sync::Arc::clone(&app);
        tokio::spawn(async move {
            let mut ids = Vec::new();
            for chunk in russian.chunks(64) {
                let posts = chunk.iter().enumerate().map(|(i, body)| {
                    let app = std::sync::Arc::clone(&app);
                    let body = body.clone();
                    async move {
                        app.post_comment("burst", None, &format!("ru{i}"), &body)
                            .await
                    }
                });
                let mut set = tokio::task::JoinSet::new();
                for p in posts {
                    set.spawn(p);
                }
                while let Some(done) = set.join_next().await {
                    let (code, out) = done.unwrap();
                    assert_eq!(code, 201, "{out}");
                    ids.push(out["id"].as_i64().unwrap());
                }
            }
            ids
        })
    };
    let mut english = Vec::new();
    for i in 0..20 {
        let body =
            format!("Thanks for reporting on the roads, comment number {i} from the east side.");
        let (code, out) = app
            .post_comment("burst", None, &format!("en{i}"), &body)
            .await;
        assert_eq!(code, 201, "{out}");
        english.push(out["id"].as_i64().unwrap());
    }
    let russian_ids = burst.await.unwrap();
    assert!(
        app.state.metrics.scoring_failures() > 0,
        "the burst should overflow the Russian model's queue"
    );

    let latest = |id: i64| {
        let app = std::sync::Arc::clone(&app);
        async move {
            modgate::on_pool!(app.state.store.reader(), p => sqlx::query_as::<_, (String, String)>(
                "SELECT model_id, reasons FROM verdicts WHERE comment_id = $1 ORDER BY id DESC LIMIT 1",
            )
            .bind(id)
            .fetch_one(p)
            .await)
            .unwrap()
        }
    };
    for id in english {
        let (model_id, reasons) = latest(id).await;
        assert!(model_id.starts_with("bilstm"), "{model_id} {reasons}");
        assert!(
            !reasons.contains("unscored"),
            "English waited on the Russian model: {reasons}"
        );
    }
    // The background job re-scores the unscored ones once comments stop overflowing.
    let mut left = russian_ids.clone();
    for _ in 0..360 {
        let mut still = Vec::new();
        for &id in &left {
            let (model_id, reasons) = latest(id).await;
            if reasons.contains("\"unscored\"") || !model_id.starts_with("onnx:e5-toxic-int8@") {
                still.push(id);
            }
        }
        left = still;
        if left.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    assert!(
        left.is_empty(),
        "{} Russian comments never re-scored",
        left.len()
    );

    // Operators see each model's queue; drained, the expected wait is back to 0.
    let mut waits = Vec::new();
    for _ in 0..100 {
        let text = app.metrics_text().await;
        waits = text
            .lines()
            .filter(|l| l.starts_with("modgate_scoring_queue_seconds{model="))
            .map(|l| l.rsplit_once(' ').unwrap().1.parse::<f64>().unwrap())
            .collect();
        let models = ["model=\"bilstm", "model=\"onnx:e5-toxic-int8@"];
        assert!(models.iter().all(|m| text.contains(m)), "{text}");
        if waits.iter().all(|&w| w == 0.0) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(waits.iter().all(|&w| w == 0.0), "{waits:?}");
}

/// The trimmed vocabulary (`[model] vocabulary = "latin-cyrillic"`) gives the
/// model the same token ids as the full `tokenizer.json` for every text written in Latin,
/// Cyrillic and script-neutral characters: sample sentences in the ten languages modgate
/// detects, and every Jigsaw 2020 validation comment (es, fr, it, pt, ru, tr) when
/// `../shared` is present. Other scripts are split into smaller pieces, never into more
/// unknown tokens.
#[test]
fn the_trimmed_vocabulary_tokenises_latin_and_cyrillic_text_as_the_full_one() {
    use unicode_script::{Script, UnicodeScript};
    let dir = root().join("models/e5-toxic-full-int8");
    let full = tokenizers::Tokenizer::from_file(dir.join("tokenizer.json")).expect("tokenizer");
    let trimmed = model_with("e5-toxic-full-int8", Vocabulary::LatinCyrillic);
    // Other scripts tokenise differently: the model id says which vocabulary decided.
    let whole = model_with("e5-toxic-full-int8", Vocabulary::Full);
    assert_ne!(trimmed.model_id(), whole.model_id());
    let mut texts: Vec<String> = [
        "You are a complete idiot and everyone here knows it.",
        "Ты полный идиот, и все здесь это знают.",
        "Мақала үшін рахмет, өте қызықты екен.",
        "Seni oʻldiraman! Bu gʻalaba emas.",
        "Бошингни кесаман, ўзингни билмайсан.",
        "Du bist ein Vollidiot, geh nach Hause!",
        "Eres un idiota y te odio, ¿entiendes?",
        "Tu es un imbécile, ça se voit à l'œil nu.",
        "Sei un idiota, lo sanno tutti perché è così.",
        "Você é um idiota, não é? Ação!",
        "Sen tam bir aptalsın, ığdır şehrinde görüşürüz.",
        "Numbers 1234, e-mail a@b.org, emoji 😀🔥 and ✓ symbols…",
    ]
    .map(String::from)
    .to_vec();
    let shared = root().join("../shared/eval/jigsaw_multilingual_2020/validation840_labelled.csv");
    match csv::Reader::from_path(&shared) {
        Ok(mut reader) => {
            let headers = reader.headers().expect("header").clone();
            let at = headers
                .iter()
                .position(|h| h == "text")
                .expect("text column");
            texts.extend(reader.records().map(|r| r.expect("row")[at].to_string()));
        }
        Err(_) => eprintln!("../shared/eval not found: checking the built-in sentences only"),
    }
    let in_scripts = |t: &str| {
        t.chars().all(|c| {
            matches!(
                c.script(),
                Script::Latin | Script::Cyrillic | Script::Common | Script::Inherited
            )
        })
    };
    let (mut same, mut other_scripts) = (0, 0);
    for text in &texts {
        let windows = trimmed.windows(text).expect("tokenise");
        if windows.len() != 1 {
            continue;
        }
        let got: Vec<u32> = trimmed.model_ids(&windows[0]).collect();
        let want = full
            .encode(text.as_str(), true)
            .expect("encode")
            .get_ids()
            .to_vec();
        if in_scripts(text) {
            assert_eq!(got, want, "{text:?}");
            same += 1;
        } else {
            other_scripts += 1;
        }
    }
    assert!(same >= 12, "{same} texts compared");
    // Other scripts: longer pieces dropped, single characters kept, so no more unknowns.
    let unk = 3;
    for text in [
        "中华人民共和国 is a country",
        "Γεια σου κόσμε",
        "مرحبا بالعالم",
    ] {
        let windows = trimmed.windows(text).expect("tokenise");
        let got: Vec<u32> = trimmed.model_ids(&windows[0]).collect();
        let want = full.encode(text, true).expect("encode").get_ids().to_vec();
        let unknowns = |ids: &[u32]| ids.iter().filter(|&&i| i == unk).count();
        assert!(
            unknowns(&got) <= unknowns(&want),
            "{text:?}: {got:?} vs {want:?}"
        );
        assert!(got.len() >= want.len(), "{text:?}");
    }
    eprintln!(
        "{same} texts tokenised identically; {other_scripts} with other scripts not compared"
    );
}

/// The compact vocabulary (`onnx/unigram.rs`: a double-array trie where the `tokenizers`
/// crate keeps a hash map per trie node) splits every text as the crate's own Unigram model
/// does: the same ids, pieces and offsets, with the full vocabulary. Checked on sentences in
/// the ten languages and in other scripts, unknown and control characters, a long text,
/// and every text of the evaluation sets when `../shared` is present.
#[test]
fn the_compact_vocabulary_splits_every_text_as_the_crate_does() {
    use modgate::scoring::classifier::onnx::load_tokenizer;
    let path = root().join("models/e5-toxic-full-int8/tokenizer.json");
    let reference = tokenizers::Tokenizer::from_file(&path).expect("tokenizer");
    let (compact, model_ids) = load_tokenizer(&path, Vocabulary::Full).expect("tokenizer");
    assert!(model_ids.is_none());
    let mut texts: Vec<String> = [
        "You are a complete idiot and everyone here knows it.",
        "Ты полный идиот, и все здесь это знают.",
        "Мақала үшін рахмет, өте қызықты екен.",
        "Seni oʻldiraman! Bu gʻalaba emas. Бошингни кесаман.",
        "Du bist ein Vollidiot! Eres un idiota, ¿entiendes? Tu es un imbécile, l'œil nu.",
        "中华人民共和国 is a country; Γεια σου κόσμε; مرحبا بالعالم; こんにちは世界; 안녕하세요",
        "Numbers 1234, e-mail a@b.org, emoji 😀🔥👍🏽 and ✓ symbols… \u{200b}\u{feff}",
        "unknown \u{10ffff}\u{e000}\u{e001} runs, a NUL \0 and tabs\tand\nnewlines",
        "",
        "   ",
    ]
    .map(String::from)
    .to_vec();
    texts.push("Long comment, many words. ".repeat(300));
    let eval = root().join("../shared/eval");
    for (file, column) in [
        ("hatecheck_en/test_suite_cases.csv", "test_case"),
        (
            "jigsaw2018_test_samples/ibm_max_test_examples.csv",
            "comment_text",
        ),
        (
            "jigsaw2018_test_samples/detoxify_dummy_test_labelled.csv",
            "comment_text",
        ),
        ("jigsaw_multilingual_2020/test6000_labelled.csv", "text"),
        (
            "jigsaw_multilingual_2020/validation840_labelled.csv",
            "text",
        ),
        ("bias_madlibs/bias_madlibs_77k.csv", "Text"),
    ] {
        let Ok(mut reader) = csv::Reader::from_path(eval.join(file)) else {
            eprintln!("../shared/eval/{file} not found: not compared");
            continue;
        };
        let at = reader
            .headers()
            .expect("header")
            .iter()
            .position(|h| h == column)
            .expect("text column");
        texts.extend(reader.records().map(|r| r.expect("row")[at].to_string()));
    }
    for text in &texts {
        let want = reference.encode(text.as_str(), true).expect("encode");
        let got = compact.encode(text.as_str(), true).expect("encode");
        assert_eq!(got.get_ids(), want.get_ids(), "{text:?}");
        assert_eq!(got.get_tokens(), want.get_tokens(), "{text:?}");
        assert_eq!(got.get_offsets(), want.get_offsets(), "{text:?}");
    }
    eprintln!("{} texts split identically", texts.len());
}
