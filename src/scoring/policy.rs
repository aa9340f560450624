//! Combines classifier scores, rule hits and author standing into a verdict.
//!
//! The decision is a pure function of its inputs and the config: no clock, no randomness,
//! and reasons are sorted, so the same comment always gets the same verdict JSON.
//!
//! The model alone is not trusted: it over-reacts to identity terms ("gay", "muslim"…),
//! so a hold or removal that only the model asked for is re-checked on a counterfactual
//! text with those terms replaced (see [`Policy::counterfactual_text`]).

use crate::domain::{AuthorStanding, Reason};
use std::cmp::Reverse;

use regex::{Regex, RegexBuilder};

use crate::config::{PolicyConfig, SensitivityAction, Threshold};
use crate::domain::Language;
use crate::domain::Status;
use crate::domain::{Action, RuleHit};
use crate::domain::{Label, Scores};

impl Reason {
    fn threshold(label: Label, score: f32, threshold: f32, action: Action) -> Reason {
        Reason::Threshold {
            label,
            score: round6(score),
            threshold: round6(threshold),
            action,
        }
    }

    fn rule(hit: &RuleHit) -> Reason {
        Reason::Rule {
            list: hit.list.clone(),
            category: hit.category,
            term: hit.term.clone(),
            action: hit.action,
        }
    }

    /// Sort key: author reasons first, then rules and thresholds by severity, then
    /// identity sensitivity; ties broken by names so the order never depends on input order.
    fn sort_key(&self) -> (u8, Reverse<Action>, String, String) {
        match self {
            Reason::AuthorBanned => (0, Reverse(Action::Allow), String::new(), String::new()),
            Reason::AuthorPremoderated => (1, Reverse(Action::Allow), String::new(), String::new()),
            Reason::Unscored { detail } => {
                (2, Reverse(Action::Allow), detail.clone(), String::new())
            }
            Reason::Rule {
                list, term, action, ..
            } => (3, Reverse(*action), list.clone(), term.clone()),
            Reason::Threshold { label, action, .. } => (
                4,
                Reverse(*action),
                format!("{:02}", label.index()),
                String::new(),
            ),
            Reason::IdentityTermSensitivity { label, .. } => (
                5,
                Reverse(Action::Allow),
                format!("{:02}", label.index()),
                String::new(),
            ),
        }
    }
}

/// Scores in reasons are rounded like [`Scores`] serialises them, so JSON stays short.
fn round6(v: f32) -> f64 {
    (v as f64 * 1e6).round() / 1e6
}

fn sort_reasons(reasons: &mut Vec<Reason>) {
    reasons.sort_by(|a, b| {
        a.sort_key()
            .cmp(&b.sort_key())
            .then_with(|| format!("{a:?}").cmp(&format!("{b:?}")))
    });
    reasons.dedup();
}

fn status_of(action: Action) -> Status {
    match action {
        Action::Remove => Status::Removed,
        Action::Hold => Status::Pending,
        Action::Allow | Action::Flag => Status::Published,
    }
}

/// `Status` ordered by severity.
fn severity(s: Status) -> u8 {
    match s {
        Status::Published => 0,
        Status::Pending => 1,
        Status::Removed => 2,
    }
}

fn max_status(a: Status, b: Status) -> Status {
    if severity(b) > severity(a) { b } else { a }
}

/// A comment text with identity terms replaced, to be scored by the caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Counterfactual {
    pub text: String,
    /// The configured terms found (lower case, sorted, unique).
    pub terms: Vec<String>,
}

impl Counterfactual {
    pub fn with_scores(self, scores: Scores) -> CounterfactualScores {
        CounterfactualScores {
            terms: self.terms,
            scores,
        }
    }
}

/// The classifier's scores for a [`Counterfactual`] text.
#[derive(Clone, Debug, PartialEq)]
pub struct CounterfactualScores {
    pub terms: Vec<String>,
    pub scores: Scores,
}

/// Everything [`Policy::decide`] looks at.
#[derive(Clone, Copy, Debug)]
pub struct DecisionInput<'a> {
    pub scores: &'a Scores,
    pub counterfactual: Option<&'a CounterfactualScores>,
    pub hits: &'a [RuleHit],
    pub author: AuthorStanding,
    /// The comment's detected language: its `[policy.languages]` thresholds apply.
    pub language: Option<Language>,
}

/// Finds identity terms as whole words, case-insensitively, with an optional plural `s`.
#[derive(Clone, Debug)]
struct IdentityMatcher {
    regex: Regex,
    /// Canonical term of capture group `i + 1`.
    terms: Vec<String>,
}

impl IdentityMatcher {
    fn new(terms: &[String]) -> Result<Option<IdentityMatcher>, regex::Error> {
        let mut terms: Vec<String> = terms
            .iter()
            .map(|t| {
                t.split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
                    .to_lowercase()
            })
            .filter(|t| !t.is_empty())
            .collect();
        if terms.is_empty() {
            return Ok(None);
        }
        // Longest first: the regex alternation is leftmost-first, and "african american"
        // must win over "african".
        terms.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        terms.dedup();
        let alternatives: Vec<String> = terms
            .iter()
            .map(|t| {
                let words: Vec<String> = t.split(' ').map(regex::escape).collect();
                format!("({})", words.join(r"\s+"))
            })
            .collect();
        let pattern = format!(r"\b(?:{})(?:s|es)?\b", alternatives.join("|"));
        let regex = RegexBuilder::new(&pattern)
            .case_insensitive(true)
            .size_limit(50 << 20)
            .build()?;
        Ok(Some(IdentityMatcher { regex, terms }))
    }

    /// The text with every term replaced by `placeholder`, and the terms found.
    fn replace(&self, text: &str, placeholder: &str) -> Option<Counterfactual> {
        let mut found = Vec::new();
        let replaced = self.regex.replace_all(text, |caps: &regex::Captures| {
            if let Some(i) = (1..caps.len()).find(|&i| caps.get(i).is_some()) {
                found.push(self.terms[i - 1].clone());
            }
            placeholder.to_string()
        });
        if found.is_empty() {
            return None;
        }
        found.sort();
        found.dedup();
        Some(Counterfactual {
            text: replaced.into_owned(),
            terms: found,
        })
    }
}

/// Thresholds of the six labels, in [`Label::ALL`] order.
type Thresholds = [Option<Threshold>; 6];

/// The compiled `[policy]` section.
#[derive(Clone, Debug)]
pub struct Policy {
    /// `[policy.thresholds]`, for comments without a detected language.
    thresholds: Thresholds,
    /// Per language, in [`Language::ALL`] order: `[policy.thresholds]` with that
    /// language's `[policy.languages.CODE.thresholds]` laid over it.
    by_language: [Thresholds; Language::ALL.len()],
    /// Compiled even when the check is disabled, for [`Policy::identity_terms`].
    identity: Option<IdentityMatcher>,
    identity_enabled: bool,
    /// `[policy.identity] labels`, in [`Label::ALL`] order: whose holds the check may lower.
    identity_labels: [bool; 6],
    placeholder: String,
    on_sensitivity: SensitivityAction,
}

impl Policy {
    pub fn new(config: &PolicyConfig) -> Result<Policy, regex::Error> {
        let thresholds = Label::ALL.map(|l| config.threshold(l));
        let by_language =
            Language::ALL.map(|lang| Label::ALL.map(|l| config.threshold_for(l, Some(lang))));
        Ok(Policy {
            thresholds,
            by_language,
            identity: IdentityMatcher::new(&config.identity.terms)?,
            identity_enabled: config.identity.enabled,
            identity_labels: Label::ALL.map(|l| config.identity.labels.contains(&l)),
            placeholder: config.identity.placeholder.clone(),
            on_sensitivity: config.identity.on_sensitivity,
        })
    }

    /// The thresholds in force for comments in `language`.
    pub fn thresholds(&self, language: Option<Language>) -> &[Option<Threshold>; 6] {
        match language {
            Some(lang) => &self.by_language[lang.index()],
            None => &self.thresholds,
        }
    }

    /// The threshold reasons the scores trigger (at most one per label: remove beats hold).
    pub fn threshold_reasons(&self, scores: &Scores, language: Option<Language>) -> Vec<Reason> {
        let thresholds = self.thresholds(language);
        Label::ALL
            .into_iter()
            .filter_map(|label| threshold_action(thresholds, label, scores.get(label)))
            .map(|(label, score, threshold, action)| {
                Reason::threshold(label, score, threshold, action)
            })
            .collect()
    }

    /// The strongest action the model alone asks for through a label the identity check
    /// may lower.
    fn checkable_model_action(
        &self,
        scores: &Scores,
        language: Option<Language>,
    ) -> Option<Action> {
        let thresholds = self.thresholds(language);
        Label::ALL
            .into_iter()
            .filter(|l| self.identity_labels[l.index()])
            .filter_map(|l| threshold_action(thresholds, l, scores.get(l)).map(|t| t.3))
            .max()
    }
    /// The text to re-score with identity terms replaced, when the model alone would hold
    /// or remove the comment and it mentions a configured identity term; else `None`.
    pub fn counterfactual_text(
        &self,
        text: &str,
        scores: &Scores,
        hits: &[RuleHit],
        language: Option<Language>,
    ) -> Option<Counterfactual> {
        let matcher = self.identity.as_ref().filter(|_| self.identity_enabled)?;
        self.checkable_model_action(scores, language)?;
        if rule_status(hits) != Status::Published {
            return None;
        }
        matcher.replace(text, &self.placeholder)
    }

    /// The configured identity terms a text mentions (lower case, sorted, unique).
    pub fn identity_terms(&self, text: &str) -> Vec<String> {
        self.identity
            .as_ref()
            .and_then(|m| m.replace(text, ""))
            .map(|c| c.terms)
            .unwrap_or_default()
    }

    /// The verdict status and its sorted reasons.
    pub fn decide(&self, input: &DecisionInput) -> (Status, Vec<Reason>) {
        let mut reasons = Vec::new();
        let effective = effective_hits(input.hits);
        let rules = effective
            .iter()
            .map(|h| status_of(h.action))
            .fold(Status::Published, max_status);
        reasons.extend(effective.iter().map(|h| Reason::rule(h)));

        let counterfactual = input
            .counterfactual
            .filter(|_| self.identity_enabled && rules == Status::Published);
        let mut status = rules;
        let mut sensitive = false;
        let thresholds = self.thresholds(input.language);
        for label in Label::ALL {
            let score = input.scores.get(label);
            let Some((_, _, threshold, action)) = threshold_action(thresholds, label, score) else {
                continue;
            };
            // A model-only hold/removal stands only as far as the counterfactual text
            // (identity terms replaced) still reaches it.
            let mut kept = Some((threshold, action));
            if let Some(cf) = counterfactual.filter(|_| self.identity_labels[label.index()]) {
                let cf_score = cf.scores.get(label);
                let cf_action = threshold_action(thresholds, label, cf_score).map(|t| t.3);
                if cf_action < Some(action) {
                    sensitive = true;
                    reasons.push(Reason::IdentityTermSensitivity {
                        terms: cf.terms.clone(),
                        label,
                        score: round6(score),
                        counterfactual_score: round6(cf_score),
                    });
                    // Still over hold_at after replacement: keep the hold.
                    kept = cf_action.and_then(|_| {
                        thresholds[label.index()]
                            .and_then(|t| t.hold_at)
                            .map(|h| (h, Action::Hold))
                    });
                }
            }
            if let Some((threshold, action)) = kept {
                reasons.push(Reason::threshold(label, score, threshold, action));
                status = max_status(status, status_of(action));
            }
        }
        if sensitive && self.on_sensitivity == SensitivityAction::Hold {
            status = max_status(status, Status::Pending);
        }

        // Author standing only ever makes the outcome stricter; the API layer turns a
        // banned author into a rejection when configured to.
        if input.author.premoderated {
            reasons.push(Reason::AuthorPremoderated);
            status = max_status(status, Status::Pending);
        }
        if input.author.banned {
            reasons.push(Reason::AuthorBanned);
            status = max_status(status, Status::Pending);
        }
        sort_reasons(&mut reasons);
        (status, reasons)
    }

    /// The decision when the classifier failed: pending with reason `unscored` (rules still
    /// apply, so a rule removal stays a removal).
    pub fn decide_unscored(
        &self,
        hits: &[RuleHit],
        author: AuthorStanding,
        detail: &str,
    ) -> (Status, Vec<Reason>) {
        let no_scores = Scores::default();
        let (status, mut reasons) = self.decide(&DecisionInput {
            scores: &no_scores,
            counterfactual: None,
            hits,
            author,
            language: None,
        });
        reasons.push(Reason::Unscored {
            detail: detail.to_string(),
        });
        sort_reasons(&mut reasons);
        (max_status(status, Status::Pending), reasons)
    }
}

/// The action a label's score reaches under `thresholds`, with the threshold reached.
fn threshold_action(
    thresholds: &Thresholds,
    label: Label,
    score: f32,
) -> Option<(Label, f32, f32, Action)> {
    let t = thresholds[label.index()]?;
    if let Some(r) = t.remove_at.filter(|&r| score >= r) {
        return Some((label, score, r, Action::Remove));
    }
    t.hold_at
        .filter(|&h| score >= h)
        .map(|h| (label, score, h, Action::Hold))
}

/// Hits that count: `allow` hits are exceptions and suppress every hit they overlap.
fn effective_hits(hits: &[RuleHit]) -> Vec<&RuleHit> {
    hits.iter()
        .filter(|h| h.action != Action::Allow && !h.allowed_by(hits))
        .collect()
}

fn rule_status(hits: &[RuleHit]) -> Status {
    effective_hits(hits)
        .iter()
        .map(|h| status_of(h.action))
        .fold(Status::Published, max_status)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::config::IdentityConfig;
    use crate::domain::Category;

    fn policy(on_sensitivity: SensitivityAction) -> Policy {
        let mut thresholds = BTreeMap::new();
        thresholds.insert(
            "toxic".to_string(),
            Threshold {
                hold_at: Some(0.8),
                remove_at: Some(0.97),
            },
        );
        thresholds.insert(
            "threat".to_string(),
            Threshold {
                hold_at: Some(0.5),
                remove_at: None,
            },
        );
        Policy::new(&PolicyConfig {
            thresholds,
            languages: BTreeMap::new(),
            identity: IdentityConfig {
                enabled: true,
                terms: vec!["gay".into(), "african".into(), "African  American".into()],
                placeholder: "person".into(),
                on_sensitivity,
                labels: Label::ALL.to_vec(),
            },
        })
        .unwrap()
    }

    fn scores(toxic: f32) -> Scores {
        let mut s = Scores::default();
        s.set(Label::Toxic, toxic);
        s
    }

    fn hit(action: Action, start: usize, end: usize) -> RuleHit {
        RuleHit {
            list: "test".into(),
            category: Category::Threat,
            term: "kill".into(),
            action,
            start,
            end,
        }
    }

    fn decide(p: &Policy, s: &Scores, hits: &[RuleHit], author: AuthorStanding) -> Status {
        p.decide(&DecisionInput {
            scores: s,
            counterfactual: None,
            hits,
            author,
            language: None,
        })
        .0
    }

    #[test]
    fn thresholds_pick_hold_or_remove() {
        let p = policy(SensitivityAction::Publish);
        let a = AuthorStanding::default();
        assert_eq!(decide(&p, &scores(0.5), &[], a), Status::Published);
        assert_eq!(decide(&p, &scores(0.8), &[], a), Status::Pending);
        assert_eq!(decide(&p, &scores(0.99), &[], a), Status::Removed);
        let (_, reasons) = p.decide(&DecisionInput {
            scores: &scores(0.93),
            counterfactual: None,
            hits: &[],
            author: a,
            language: None,
        });
        let json = serde_json::to_string(&reasons).unwrap();
        assert_eq!(
            json,
            r#"[{"kind":"threshold","label":"toxic","score":0.93,"threshold":0.8,"action":"hold"}]"#
        );
    }

    #[test]
    fn rules_combine_by_severity_and_allow_suppresses() {
        let p = policy(SensitivityAction::Publish);
        let a = AuthorStanding::default();
        let s = scores(0.1);
        assert_eq!(
            decide(&p, &s, &[hit(Action::Flag, 0, 4)], a),
            Status::Published
        );
        assert_eq!(
            decide(
                &p,
                &s,
                &[hit(Action::Flag, 0, 4), hit(Action::Hold, 5, 8)],
                a
            ),
            Status::Pending
        );
        assert_eq!(
            decide(
                &p,
                &s,
                &[hit(Action::Hold, 0, 4), hit(Action::Remove, 5, 8)],
                a
            ),
            Status::Removed
        );
        // The allow exception covers the removal but not the hold.
        assert_eq!(
            decide(
                &p,
                &s,
                &[
                    hit(Action::Remove, 5, 8),
                    hit(Action::Allow, 4, 9),
                    hit(Action::Hold, 0, 4)
                ],
                a
            ),
            Status::Pending
        );
    }

    #[test]
    fn author_standing_makes_it_stricter() {
        let p = policy(SensitivityAction::Publish);
        let banned = AuthorStanding {
            banned: true,
            premoderated: false,
        };
        let premod = AuthorStanding {
            banned: false,
            premoderated: true,
        };
        let (st, reasons) = p.decide(&DecisionInput {
            scores: &scores(0.1),
            counterfactual: None,
            hits: &[],
            author: banned,
            language: None,
        });
        assert_eq!((st, reasons), (Status::Pending, vec![Reason::AuthorBanned]));
        assert_eq!(decide(&p, &scores(0.1), &[], premod), Status::Pending);
        assert_eq!(decide(&p, &scores(0.99), &[], premod), Status::Removed);
    }

    #[test]
    fn counterfactual_only_for_model_only_holds_with_terms() {
        let p = policy(SensitivityAction::Publish);
        let cf = p
            .counterfactual_text(
                "I am a Gay man, an African  American one.",
                &scores(0.9),
                &[],
                None,
            )
            .unwrap();
        assert_eq!(cf.text, "I am a person man, an person one.");
        assert_eq!(
            cf.terms,
            vec!["african american".to_string(), "gay".to_string()]
        );
        assert!(
            p.counterfactual_text("gays", &scores(0.9), &[], None)
                .is_some()
        );
        assert!(
            p.counterfactual_text("gayety", &scores(0.9), &[], None)
                .is_none()
        );
        assert!(
            p.counterfactual_text("I am gay", &scores(0.1), &[], None)
                .is_none()
        );
        assert!(
            p.counterfactual_text("I am gay", &scores(0.9), &[hit(Action::Hold, 0, 1)], None)
                .is_none()
        );
        assert!(
            p.counterfactual_text("I am gay", &scores(0.9), &[hit(Action::Flag, 0, 1)], None)
                .is_some()
        );
    }

    /// `[policy.identity] labels`: a hold through a label not listed stands, and a text
    /// held only through such labels is not re-scored at all.
    #[test]
    fn the_check_lowers_only_the_listed_labels() {
        let mut thresholds = BTreeMap::new();
        for label in ["toxic", "identity_hate"] {
            thresholds.insert(
                label.to_string(),
                Threshold {
                    hold_at: Some(0.5),
                    remove_at: None,
                },
            );
        }
        let p = Policy::new(&PolicyConfig {
            thresholds,
            languages: BTreeMap::new(),
            identity: IdentityConfig {
                terms: vec!["gay".into()],
                labels: vec![Label::Toxic],
                ..IdentityConfig::default()
            },
        })
        .unwrap();
        let mut hateful = Scores::default();
        hateful.set(Label::IdentityHate, 0.9);
        assert!(
            p.counterfactual_text("gay people", &hateful, &[], None)
                .is_none()
        );
        let mut both = hateful;
        both.set(Label::Toxic, 0.9);
        assert!(
            p.counterfactual_text("gay people", &both, &[], None)
                .is_some()
        );
        // Both scores fall on the counterfactual text: only the toxic hold is lowered.
        let cf = CounterfactualScores {
            terms: vec!["gay".into()],
            scores: Scores::default(),
        };
        let (status, reasons) = p.decide(&DecisionInput {
            scores: &both,
            counterfactual: Some(&cf),
            hits: &[],
            author: AuthorStanding::default(),
            language: None,
        });
        assert_eq!(status, Status::Pending, "{reasons:?}");
        assert!(reasons.contains(&Reason::threshold(
            Label::IdentityHate,
            0.9,
            0.5,
            Action::Hold
        )));
        assert!(!reasons.iter().any(|r| matches!(
            r,
            Reason::Threshold {
                label: Label::Toxic,
                ..
            }
        )));
    }

    #[test]
    fn identity_terms_are_found_even_when_the_check_is_off() {
        let mut config = PolicyConfig::default();
        config.identity.enabled = false;
        config.identity.terms = vec!["Kazakh".into(), "middle eastern".into()];
        let p = Policy::new(&config).unwrap();
        assert_eq!(
            p.identity_terms("KAZAKHS and Middle\nEastern people"),
            vec!["kazakh".to_string(), "middle eastern".to_string()]
        );
        assert!(p.identity_terms("Kazakhstan").is_empty());
        assert!(
            p.counterfactual_text("Kazakhs", &scores(0.99), &[], None)
                .is_none()
        );
    }

    #[test]
    fn identity_sensitivity_publishes_or_holds() {
        let cf = CounterfactualScores {
            terms: vec!["gay".into()],
            scores: scores(0.2),
        };
        let input = DecisionInput {
            scores: &scores(0.9),
            counterfactual: Some(&cf),
            hits: &[],
            author: AuthorStanding::default(),
            language: None,
        };
        let (st, reasons) = policy(SensitivityAction::Publish).decide(&input);
        assert_eq!(st, Status::Published);
        assert_eq!(
            reasons,
            vec![Reason::IdentityTermSensitivity {
                terms: vec!["gay".into()],
                label: Label::Toxic,
                score: 0.9,
                counterfactual_score: 0.2,
            }]
        );
        let (st, _) = policy(SensitivityAction::Hold).decide(&input);
        assert_eq!(st, Status::Pending);
    }

    #[test]
    fn counterfactual_still_toxic_keeps_the_verdict() {
        let p = policy(SensitivityAction::Publish);
        let still = CounterfactualScores {
            terms: vec!["gay".into()],
            scores: scores(0.85),
        };
        let (st, reasons) = p.decide(&DecisionInput {
            scores: &scores(0.9),
            counterfactual: Some(&still),
            hits: &[],
            author: AuthorStanding::default(),
            language: None,
        });
        assert_eq!(st, Status::Pending);
        assert!(matches!(reasons.as_slice(), [Reason::Threshold { .. }]));
        // Removal that drops to hold level after replacement becomes a hold.
        let (st, reasons) = p.decide(&DecisionInput {
            scores: &scores(0.99),
            counterfactual: Some(&still),
            hits: &[],
            author: AuthorStanding::default(),
            language: None,
        });
        assert_eq!(st, Status::Pending);
        assert_eq!(reasons.len(), 2);
    }

    #[test]
    fn reasons_are_sorted_regardless_of_hit_order() {
        let p = policy(SensitivityAction::Publish);
        let mut a = hit(Action::Flag, 0, 3);
        a.list = "b_list".into();
        let b = hit(Action::Hold, 4, 6);
        let run = |hits: &[RuleHit]| {
            p.decide(&DecisionInput {
                scores: &scores(0.99),
                counterfactual: None,
                hits,
                author: AuthorStanding {
                    banned: true,
                    premoderated: true,
                },
                language: None,
            })
        };
        let x = run(&[a.clone(), b.clone()]);
        assert_eq!(x, run(&[b, a]));
        assert_eq!(x.1[0], Reason::AuthorBanned);
        assert_eq!(x.1[1], Reason::AuthorPremoderated);
    }

    #[test]
    fn unscored_is_pending_unless_rules_remove() {
        let p = policy(SensitivityAction::Publish);
        let (st, reasons) = p.decide_unscored(&[], AuthorStanding::default(), "timeout");
        assert_eq!(st, Status::Pending);
        assert_eq!(
            serde_json::to_value(&reasons).unwrap(),
            serde_json::json!([{"kind": "unscored", "detail": "timeout"}])
        );
        let (st, _) =
            p.decide_unscored(&[hit(Action::Remove, 0, 1)], AuthorStanding::default(), "x");
        assert_eq!(st, Status::Removed);
    }

    #[test]
    fn thresholds_per_language_override_per_label() {
        let config: PolicyConfig = toml::from_str(
            r#"
            [thresholds]
            toxic = { hold_at = 0.8, remove_at = 0.97 }
            threat = { hold_at = 0.5 }
            [languages.ru.thresholds]
            toxic = { hold_at = 0.6 }
            [languages.kk.thresholds]
            threat = {}
            "#,
        )
        .unwrap();
        let p = Policy::new(&config).unwrap();
        let decide = |toxic: f32, threat: f32, language: Option<Language>| {
            let mut s = scores(toxic);
            s.set(Label::Threat, threat);
            p.decide(&DecisionInput {
                scores: &s,
                counterfactual: None,
                hits: &[],
                author: AuthorStanding::default(),
                language,
            })
        };
        // Russian: toxic holds from 0.6, and no longer removes (the override has no
        // remove_at); threat keeps the base threshold.
        assert_eq!(decide(0.7, 0.0, None).0, Status::Published);
        assert_eq!(decide(0.7, 0.0, Some(Language::Ru)).0, Status::Pending);
        assert_eq!(decide(0.99, 0.0, None).0, Status::Removed);
        assert_eq!(decide(0.99, 0.0, Some(Language::Ru)).0, Status::Pending);
        assert_eq!(decide(0.0, 0.6, Some(Language::Ru)).0, Status::Pending);
        let (_, reasons) = decide(0.7, 0.0, Some(Language::Ru));
        assert_eq!(
            reasons,
            vec![Reason::threshold(Label::Toxic, 0.7, 0.6, Action::Hold)]
        );
        // Kazakh: threat switched off, toxic as in the base table; English: the base table.
        assert_eq!(decide(0.0, 0.6, Some(Language::Kk)).0, Status::Published);
        assert_eq!(decide(0.85, 0.0, Some(Language::Kk)).0, Status::Pending);
        assert_eq!(decide(0.0, 0.6, Some(Language::En)).0, Status::Pending);
        // The counterfactual check follows the language's thresholds too.
        let cf = Policy::new(&PolicyConfig {
            identity: IdentityConfig {
                terms: vec!["gay".into()],
                ..IdentityConfig::default()
            },
            ..config
        })
        .unwrap();
        assert!(
            cf.counterfactual_text("gay", &scores(0.7), &[], None)
                .is_none()
        );
        assert!(
            cf.counterfactual_text("gay", &scores(0.7), &[], Some(Language::Ru))
                .is_some()
        );
    }
}
