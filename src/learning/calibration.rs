//! Thresholds from the moderators' decisions. For each label and language: at a grid of
//! thresholds, what holding every comment scored at or over it would have meant on the
//! decided comments (a removal counts as abuse, an approval as not; spam and off-topic
//! removals count as neither), and the lowest threshold whose false holds stay within a
//! target. Only the latest decision per comment counts, and only verdicts of the model now
//! in force: an older model's scores say nothing about the current one's thresholds.
//!
//! What moderators decide is what they were shown: held comments and reported ones. Recall
//! here is over those, not over every abusive comment readers never reported.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{CurrentVersions, removed_as_abuse};
use crate::domain::Label;
use crate::store::decisions::DecisionRow;

/// Fewest decisions per label and language, and fewest of each kind, to say anything: on
/// 50 decisions a measured false-hold rate of 20% is uncertain by about ±11 points (95%
/// binomial interval), and with fewer than 10 removals or approvals one decision moves it
/// by more than 10 points.
pub const MIN_DECISIONS: usize = 50;
pub const MIN_EACH: usize = 10;

/// Thresholds tried: 0.05, 0.10, … 0.95.
pub fn grid() -> Vec<f32> {
    (1..20).map(|i| i as f32 / 20.0).collect()
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Calibration {
    pub label: String,
    /// Language code; `null` for every language together.
    pub language: Option<String>,
    /// Decided comments counted (latest decision each, current model).
    pub decisions: usize,
    pub removed: usize,
    pub approved: usize,
    pub points: Vec<GridPoint>,
    /// The lowest threshold whose false-hold rate is within the target (most abuse held);
    /// `null` when none is or when there were too few decisions.
    pub recommended: Option<f32>,
    /// Why nothing is recommended, when nothing is.
    pub refused: Option<String>,
    /// The `config.toml` lines to paste.
    pub config_lines: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct GridPoint {
    pub threshold: f32,
    /// Decided comments scored at or over the threshold.
    pub held: usize,
    /// Of those, removed by moderators: precision = removed_held / held.
    pub removed_held: usize,
    pub precision: Option<f64>,
    /// Removed comments held at this threshold, of all removed.
    pub recall: Option<f64>,
    /// Approved comments held at this threshold, of all held: 1 - precision.
    pub false_hold_rate: Option<f64>,
}

/// Decided comments used for calibration: the latest decision per comment whose verdict
/// came from a current model, with whether it was removed as abuse.
pub fn samples<'a>(
    rows: &'a [DecisionRow],
    current: &CurrentVersions,
) -> (Vec<(&'a DecisionRow, bool)>, usize) {
    let mut latest: BTreeMap<i64, &DecisionRow> = BTreeMap::new();
    for row in rows {
        latest.insert(row.comment_id, row);
    }
    let mut older = 0;
    let mut out = Vec::new();
    for row in latest.into_values() {
        let Some(v) = &row.verdict else { continue };
        if v.unscored {
            continue;
        }
        // Only the model matters for thresholds; rules versions may differ.
        if !current.model_ids.contains(&v.model_id) {
            older += 1;
            continue;
        }
        if let Some(removed) = removed_as_abuse(row) {
            out.push((row, removed));
        }
    }
    (out, older)
}

/// Calibrate `label` for `language` (`None`: all languages together) on `samples`.
pub fn calibrate(
    samples: &[(&DecisionRow, bool)],
    label: Label,
    language: Option<&str>,
    max_false_holds: f64,
) -> Calibration {
    let picked: Vec<(f32, bool)> = samples
        .iter()
        .filter(|(row, _)| language.is_none_or(|l| row.language.as_deref() == Some(l)))
        .filter_map(|(row, removed)| {
            row.verdict
                .as_ref()
                .map(|v| (v.scores.get(label), *removed))
        })
        .collect();
    let removed = picked.iter().filter(|(_, r)| *r).count();
    let approved = picked.len() - removed;
    let ratio = |a: usize, b: usize| (b > 0).then(|| a as f64 / b as f64);
    let points: Vec<GridPoint> = grid()
        .into_iter()
        .map(|t| {
            let held = picked.iter().filter(|(s, _)| *s >= t).count();
            let removed_held = picked.iter().filter(|(s, r)| *s >= t && *r).count();
            GridPoint {
                threshold: t,
                held,
                removed_held,
                precision: ratio(removed_held, held),
                recall: ratio(removed_held, removed),
                false_hold_rate: ratio(held - removed_held, held),
            }
        })
        .collect();
    let refused = if picked.len() < MIN_DECISIONS || removed < MIN_EACH || approved < MIN_EACH {
        Some(format!(
            "too few decisions: {} ({removed} removed, {approved} approved); at least {MIN_DECISIONS}, with {MIN_EACH} of each, are needed: on fewer a false-hold rate is uncertain by more than ±11 points (95%), and one decision moves it by more than 10",
            picked.len()
        ))
    } else {
        None
    };
    let recommended = refused.is_none().then(|| {
        points
            .iter()
            .find(|p| p.held > 0 && p.false_hold_rate.is_some_and(|f| f <= max_false_holds))
            .map(|p| p.threshold)
    });
    let recommended = recommended.flatten();
    let refused = refused.or_else(|| {
        recommended
            .is_none()
            .then(|| format!("no threshold keeps false holds at or under {max_false_holds}"))
    });
    let config_lines = recommended.map(|t| {
        let table = match language {
            Some(l) => format!("[policy.languages.{l}.thresholds]"),
            None => "[policy.thresholds]".to_string(),
        };
        format!("{table}\n{} = {{ hold_at = {t:.2} }}", label.as_str())
    });
    Calibration {
        label: label.as_str().into(),
        language: language.map(str::to_string),
        decisions: picked.len(),
        removed,
        approved,
        points,
        recommended,
        refused,
        config_lines,
    }
}
