//! The scoring pipeline with the DEFAULT config.toml and its real model (e5-toxic-full-int8),
//! on a real comment thread from a news article about a regional security crisis; and the
//! identity-term counterfactual with the BiLSTM, the model it exists for.

use std::path::Path;
use std::sync::Arc;

use modgate::config::{Config, SensitivityAction};
use modgate::domain::Label;
use modgate::domain::{Action, Category};
use modgate::domain::{AuthorStanding, Reason};
use modgate::domain::{Status, Verdict};
use modgate::scoring::classifier::{self, Classifier};
use modgate::scoring::pipeline::Scorer;

const THREAD: [&str; 8] = [
    "Let these swine forage in their bogs. Kazakhstan is for Kazakhs.",
    "No more of these CSTO schmucks should be on sacred Kazakh land. So go back to your middle of nowhere if you don't want to part with your heads.",
    "Stink in Russia, you Russian swine ))",
    "Good riddance, and never you show up in Kazakhstan again.",
    "Russia sucked. The CSTO is getting out of Kazakhstan because it's way out of Russia's league. The occupation has not gone through.",
    "Kazakhstan didn't request the CSTO to waltz in here. It was a decision made by the person whose surname was Tokaev and his illegal action.",
    "The Syrian people openly asked the USA to remove al-Asad the dictator",
    "CSTO [troops] ought to return where they belong",
];

fn default_config() -> Config {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config.toml");
    Config::load_file(&path).unwrap_or_else(|errors| panic!("default config invalid: {errors:?}"))
}

/// The shipped config switched back to the BiLSTM (the one-line switch in config.toml), with
/// the identity-term check on, as config.toml advises for it.
fn bilstm_config() -> Config {
    let mut config = default_config();
    config.model.backend = modgate::config::Backend::Bilstm;
    config.model.dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/bilstm");
    config.policy.identity.enabled = true;
    config
}

fn setup(config: &Config) -> (Scorer, Arc<dyn Classifier>) {
    let scorer = Scorer::from_config(config).unwrap_or_else(|e| panic!("scorer: {e:?}"));
    let classifier = classifier::load(config).expect("model loads (run models/fetch-models.sh)");
    (scorer, classifier)
}

fn score_thread() -> Vec<Verdict> {
    let (scorer, classifier) = setup(&default_config());
    scorer
        .score_batch_with(classifier.as_ref(), &THREAD, AuthorStanding::default())
        .unwrap()
}

/// Rule reasons of a verdict, as (category, action).
fn rule_reasons(v: &Verdict) -> Vec<(Category, Action)> {
    v.reasons
        .iter()
        .filter_map(|r| match r {
            Reason::Rule {
                category, action, ..
            } => Some((*category, *action)),
            _ => None,
        })
        .collect()
}

fn explain(i: usize, v: &Verdict) -> String {
    format!(
        "comment {}: {}\n{}",
        i + 1,
        THREAD[i],
        serde_json::to_string_pretty(v).unwrap()
    )
}

#[test]
fn hostile_comments_are_not_published() {
    let verdicts = score_thread();
    for i in [0, 1, 2] {
        assert_ne!(
            verdicts[i].status,
            Status::Published,
            "{}",
            explain(i, &verdicts[i])
        );
    }
    // 2 is held back for its threat ("part with your heads"), named by a threat rule.
    let threat = rule_reasons(&verdicts[1]);
    assert!(
        threat
            .iter()
            .any(|&(c, a)| c == Category::Threat && a >= Action::Hold),
        "{}",
        explain(1, &verdicts[1])
    );
    // 1 and 3 call people swine: a dehumanising insult rule must name it.
    for i in [0, 2] {
        let rules = rule_reasons(&verdicts[i]);
        assert!(
            rules
                .iter()
                .any(|&(c, a)| matches!(c, Category::Insult | Category::Slur) && a >= Action::Hold),
            "{}",
            explain(i, &verdicts[i])
        );
    }
}

#[test]
fn ordinary_political_comments_are_published() {
    let verdicts = score_thread();
    // Comment 8 ("CSTO [troops] ought to return where they belong") carries the "go back
    // where you belong" trope: the first CPU run of e5-toxic-full held it (toxic 0.802 against
    // the 0.80 threshold); the continued run scores it 0.776 and publishes it, as the BiLSTM
    // did and as the seed thread expects.
    for i in [3, 5, 6, 7] {
        assert_eq!(
            verdicts[i].status,
            Status::Published,
            "{}",
            explain(i, &verdicts[i])
        );
    }
}

/// Hate speech without a slur, which the BiLSTM published (the model issue's examples), is
/// held by the shipped model; a harmless mention of a group is published without any
/// counterfactual help (the check is off in the shipped config).
#[test]
fn the_shipped_model_holds_hate_and_publishes_mentions() {
    let (scorer, classifier) = setup(&default_config());
    for text in [
        "Muslims are a disease and should be deported",
        "Jews control the media and the banks",
        "Women belong in the kitchen, not in parliament",
        "You people are animals, go back to your country",
        "Gay people should be locked up",
    ] {
        let v = scorer
            .score_with(classifier.as_ref(), text, AuthorStanding::default())
            .unwrap();
        assert_eq!(v.status, Status::Pending, "{text}: {v:#?}");
    }
    for text in [
        "I am a gay man",
        "My neighbours are Muslim and Jewish families.",
    ] {
        let v = scorer
            .score_with(classifier.as_ref(), text, AuthorStanding::default())
            .unwrap();
        assert_eq!(v.status, Status::Published, "{text}: {v:#?}");
        assert!(v.reasons.is_empty(), "{text}: {v:#?}");
    }
}

/// Scoring is deterministic, and a text scores exactly the same alone as in a batch (the
/// int8 transformer quantises activations per forward pass, so it runs one window per
/// pass; before that a batch moved its scores by up to 0.06).
#[test]
fn verdicts_are_deterministic_and_batch_independent() {
    let (scorer, classifier) = setup(&default_config());
    let author = AuthorStanding::default();
    let batch = scorer
        .score_batch_with(classifier.as_ref(), &THREAD, author)
        .unwrap();
    for (i, text) in THREAD.iter().enumerate() {
        let a = scorer
            .score_with(classifier.as_ref(), text, author)
            .unwrap();
        let b = scorer
            .score_with(classifier.as_ref(), text, author)
            .unwrap();
        let json = serde_json::to_string(&a).unwrap();
        assert_eq!(json, serde_json::to_string(&b).unwrap());
        assert_eq!(json, serde_json::to_string(&batch[i]).unwrap());
    }
}

#[test]
fn identity_mention_is_published_when_the_term_caused_the_hold() {
    let config = bilstm_config();
    let (scorer, classifier) = setup(&config);
    let text = "I am a gay man";
    let raw = classifier.score_batch(&[text]).unwrap()[0];
    let hold_at = config
        .policy
        .threshold(Label::Toxic)
        .unwrap()
        .hold_at
        .unwrap();
    // The premise: the model alone would hold this sentence (toxic 0.85 at the time of
    // writing), although it says nothing toxic.
    assert!(
        raw.get(Label::Toxic) >= hold_at,
        "premise changed: toxic {} < hold_at {hold_at}",
        raw.get(Label::Toxic)
    );

    let v = scorer
        .score_with(classifier.as_ref(), text, AuthorStanding::default())
        .unwrap();
    assert_eq!(v.status, Status::Published, "{v:#?}");
    let sensitivity = v.reasons.iter().find_map(|r| match r {
        Reason::IdentityTermSensitivity {
            terms,
            label,
            score,
            counterfactual_score,
        } => Some((terms.clone(), *label, *score, *counterfactual_score)),
        _ => None,
    });
    let (terms, label, score, counterfactual) = sensitivity.expect("identity reason recorded");
    assert_eq!(terms, vec!["gay".to_string()]);
    assert_eq!(label, Label::Toxic);
    assert!(score >= hold_at as f64 && counterfactual < hold_at as f64);

    // With on_sensitivity = "hold" the same comment waits for a moderator instead.
    let mut holding = config.clone();
    holding.policy.identity.on_sensitivity = SensitivityAction::Hold;
    let (scorer, _) = setup(&holding);
    let v = scorer
        .score_with(classifier.as_ref(), text, AuthorStanding::default())
        .unwrap();
    assert_eq!(v.status, Status::Pending);
    assert!(
        v.reasons
            .iter()
            .any(|r| matches!(r, Reason::IdentityTermSensitivity { .. }))
    );
}

#[test]
fn toxic_text_with_identity_term_stays_held() {
    let (scorer, classifier) = setup(&default_config());
    // Comment 3 mentions "Russian", but without it it is still abusive.
    let v = scorer
        .score_with(classifier.as_ref(), THREAD[2], AuthorStanding::default())
        .unwrap();
    assert_ne!(v.status, Status::Published, "{v:#?}");
}

#[test]
fn author_standing_and_unscored_verdicts() {
    let (scorer, classifier) = setup(&default_config());
    let text = THREAD[5];
    let premoderated = AuthorStanding {
        banned: false,
        premoderated: true,
    };
    let v = scorer
        .score_with(classifier.as_ref(), text, premoderated)
        .unwrap();
    assert_eq!(v.status, Status::Pending);
    assert_eq!(v.reasons, vec![Reason::AuthorPremoderated]);

    let banned = AuthorStanding {
        banned: true,
        premoderated: false,
    };
    let v = scorer
        .score_with(classifier.as_ref(), text, banned)
        .unwrap();
    assert_eq!(
        (v.status, v.reasons),
        (Status::Pending, vec![Reason::AuthorBanned])
    );

    let hits = scorer.check_rules(text, None);
    let v = scorer.unscored_verdict(
        classifier.model_id(),
        hits,
        AuthorStanding::default(),
        "timeout",
        None,
    );
    assert_eq!(v.status, Status::Pending);
    assert_eq!(
        serde_json::to_value(&v.reasons).unwrap(),
        serde_json::json!([{"kind": "unscored", "detail": "timeout"}])
    );
    assert_eq!(v.model_id, classifier.model_id());
}
