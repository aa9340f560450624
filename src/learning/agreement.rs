//! The moderators' agreement with the system: per model, rules version, language and ISO
//! week, how many held comments they approved (false holds) and how many published
//! comments they removed after reports (misses), per label too, with examples.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{CurrentVersions, Outcome, outcome};
use crate::domain::Label;
use crate::store::decisions::DecisionRow;
use crate::store::feedback::ScoredFeedback;

/// Coral Talk holds a comment whose score is strictly above its threshold, 0.80 unless the
/// site changed it: the line the Perspective feedback figures are counted at.
pub const CORAL_THRESHOLD: f64 = 0.8;

/// Examples kept per group and kind.
pub const EXAMPLES: usize = 3;

#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct AgreementReport {
    /// Decisions read (approve, restore or remove by a moderator).
    pub decisions: usize,
    /// Groups whose verdicts came from the model and rules now in force.
    pub current: Vec<Group>,
    /// Groups decided on verdicts of an older model or rules version.
    pub older: Vec<Group>,
    /// Decisions on comments never scored, or held only because scoring failed.
    pub unscored: usize,
    /// Feedback from Perspective clients (`comments:suggestscore`; Coral Talk sends its
    /// moderators' approvals as 0 and rejections as 1), against modgate's score of the same
    /// text at Coral's default threshold.
    pub perspective: Vec<PerspectiveGroup>,
}

/// One model, attribute, language and week of Perspective feedback.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct PerspectiveGroup {
    pub model_id: String,
    /// The attribute as the client sent it (Coral: its model name, `TOXICITY`).
    pub attribute: String,
    pub language: String,
    pub week: String,
    /// Whether `model_id` is a model now loaded.
    pub current: bool,
    pub feedback: usize,
    /// Sent value under 0.5: approved by the site's moderators.
    pub approved: usize,
    pub rejected: usize,
    /// Approved, but modgate's score is over the threshold: Coral would have held them.
    pub false_holds: usize,
    /// Rejected, but modgate's score is at or under the threshold: Coral published them.
    pub misses: usize,
    /// The threshold counted at ([`CORAL_THRESHOLD`]).
    pub threshold: f64,
}

/// One model, rules version, language and week.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct Group {
    pub model_id: String,
    pub rules_version: String,
    /// Detected language code, or `unknown`.
    pub language: String,
    /// ISO week of the decisions, e.g. `2026-W49`.
    pub week: String,
    pub decisions: usize,
    /// Decisions on comments the system held (or removed).
    pub held: usize,
    /// Of those, approved or restored by a moderator.
    pub false_holds: usize,
    /// Of those, removed by a moderator.
    pub confirmed_holds: usize,
    /// Decisions on published comments that readers reported.
    pub reported: usize,
    /// Of those, removed by a moderator.
    pub misses: usize,
    /// `false_holds / held`; null without held comments.
    pub false_hold_rate: Option<f64>,
    /// Per label whose threshold held the comment.
    pub labels: Vec<LabelAgreement>,
    pub false_hold_examples: Vec<Example>,
    pub miss_examples: Vec<Example>,
}

#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct LabelAgreement {
    pub label: String,
    /// Held comments this label's threshold held.
    pub held: usize,
    pub false_holds: usize,
    /// Misses where this label's score was the highest.
    pub misses: usize,
}

#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct Example {
    pub comment_id: i64,
    pub body: String,
    pub moderator: String,
    pub reason: Option<String>,
    pub decided_at: String,
    /// The label and score that weighed most in the system's verdict.
    pub label: String,
    pub score: f32,
}

type Key = (String, String, String, String);

/// The report for `rows` and Perspective `feedback` (oldest first), given what is in force
/// now.
pub fn report(
    rows: &[DecisionRow],
    feedback: &[ScoredFeedback],
    current: &CurrentVersions,
) -> AgreementReport {
    let mut groups: BTreeMap<(bool, Key), Group> = BTreeMap::new();
    let mut unscored = 0;
    for row in rows {
        let kind = outcome(row);
        let Some(v) = &row.verdict else {
            unscored += 1;
            continue;
        };
        if v.unscored {
            unscored += 1;
            continue;
        }
        let language = row.language.clone().unwrap_or_else(|| "unknown".into());
        let week = super::iso_week(&row.decided_at);
        let key = (
            v.model_id.clone(),
            v.rules_version.clone(),
            language.clone(),
            week.clone(),
        );
        let group = groups
            .entry((!current.is_current(v), key))
            .or_insert_with(|| Group {
                model_id: v.model_id.clone(),
                rules_version: v.rules_version.clone(),
                language,
                week,
                decisions: 0,
                held: 0,
                false_holds: 0,
                confirmed_holds: 0,
                reported: 0,
                misses: 0,
                false_hold_rate: None,
                labels: Label::ALL
                    .iter()
                    .map(|l| LabelAgreement {
                        label: l.as_str().into(),
                        held: 0,
                        false_holds: 0,
                        misses: 0,
                    })
                    .collect(),
                false_hold_examples: Vec::new(),
                miss_examples: Vec::new(),
            });
        group.decisions += 1;
        let (top_label, top_score) =
            v.scores
                .iter()
                .fold((Label::Toxic, f32::MIN), |best, (l, s)| {
                    if s > best.1 { (l, s) } else { best }
                });
        let example = || Example {
            comment_id: row.comment_id,
            body: row.body.chars().take(280).collect(),
            moderator: row.moderator.clone(),
            reason: row.reason.clone(),
            decided_at: row.decided_at.clone(),
            label: top_label.as_str().into(),
            score: top_score,
        };
        match kind {
            Outcome::FalseHold | Outcome::ConfirmedHold => {
                group.held += 1;
                let false_hold = kind == Outcome::FalseHold;
                if false_hold {
                    group.false_holds += 1;
                    if group.false_hold_examples.len() < EXAMPLES {
                        group.false_hold_examples.push(example());
                    }
                } else {
                    group.confirmed_holds += 1;
                }
                for l in &v.threshold_labels {
                    if let Some(entry) = group.labels.iter_mut().find(|e| e.label == *l) {
                        entry.held += 1;
                        entry.false_holds += usize::from(false_hold);
                    }
                }
            }
            Outcome::Miss | Outcome::KeptAfterReports => {
                group.reported += 1;
                if kind == Outcome::Miss {
                    group.misses += 1;
                    if let Some(entry) = group
                        .labels
                        .iter_mut()
                        .find(|e| e.label == top_label.as_str())
                    {
                        entry.misses += 1;
                    }
                    if group.miss_examples.len() < EXAMPLES {
                        group.miss_examples.push(example());
                    }
                }
            }
            Outcome::Other => {}
        }
    }
    let mut report = AgreementReport {
        decisions: rows.len(),
        current: Vec::new(),
        older: Vec::new(),
        unscored,
        perspective: perspective_groups(feedback, current),
    };
    for ((older, _), mut group) in groups {
        group.false_hold_rate =
            (group.held > 0).then(|| group.false_holds as f64 / group.held as f64);
        if older {
            report.older.push(group);
        } else {
            report.current.push(group);
        }
    }
    report
}

fn perspective_groups(
    feedback: &[ScoredFeedback],
    current: &CurrentVersions,
) -> Vec<PerspectiveGroup> {
    let mut groups: BTreeMap<Key, PerspectiveGroup> = BTreeMap::new();
    for f in feedback {
        let language = f.language.clone().unwrap_or_else(|| "unknown".into());
        let week = super::iso_week(&f.created_at);
        let key = (
            f.model_id.clone(),
            f.attribute.clone(),
            language.clone(),
            week.clone(),
        );
        let g = groups.entry(key).or_insert_with(|| PerspectiveGroup {
            model_id: f.model_id.clone(),
            attribute: f.attribute.clone(),
            language,
            week,
            current: current.model_ids.contains(&f.model_id),
            feedback: 0,
            approved: 0,
            rejected: 0,
            false_holds: 0,
            misses: 0,
            threshold: CORAL_THRESHOLD,
        });
        g.feedback += 1;
        let held = f.model_score > CORAL_THRESHOLD;
        if f.sent < 0.5 {
            g.approved += 1;
            g.false_holds += usize::from(held);
        } else {
            g.rejected += 1;
            g.misses += usize::from(!held);
        }
    }
    groups.into_values().collect()
}

/// Held comments' approval rate per week (all current groups together), oldest first:
/// `(week, held, false_holds)`.
pub fn weekly_false_holds(groups: &[Group]) -> Vec<(String, usize, usize)> {
    let mut weeks: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for g in groups {
        let w = weeks.entry(&g.week).or_default();
        w.0 += g.held;
        w.1 += g.false_holds;
    }
    weeks
        .into_iter()
        .map(|(w, (held, false_holds))| (w.to_string(), held, false_holds))
        .collect()
}
