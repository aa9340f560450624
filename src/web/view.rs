//! View models: queue items, score bars and reasons turned into plain values the templates
//! print (and escape). No HTML is built here.

use serde::Serialize;

use super::highlight::{self, Piece};
use crate::config::PolicyConfig;
use crate::domain::Label;
use crate::domain::Language;
use crate::domain::Reason;
use crate::domain::Status;
use crate::store::queue::QueueItem;

/// Removal reasons in key order: digit `n` picks the `n`-th. Values are the API's.
pub const REMOVAL_REASONS: [(&str, &str); 7] = [
    ("offensive", "Offensive"),
    ("abusive", "Abusive"),
    ("spam", "Spam"),
    ("hate_speech", "Hate speech"),
    ("threat", "Threat"),
    ("off_topic", "Off topic"),
    ("other", "Other"),
];

/// One label's score as a bar with its thresholds, all in percent (0..=100).
pub struct Bar {
    pub label: &'static str,
    pub score: String,
    pub pct: u32,
    pub hold_pct: Option<u32>,
    pub remove_pct: Option<u32>,
    /// `""`, `"hold"` or `"remove"`: the threshold the score reached.
    pub level: &'static str,
    pub description: String,
}

pub struct HitLegend {
    pub list: String,
    pub term: String,
    pub action: &'static str,
}

pub struct ParentView {
    pub id: i64,
    pub author_name: String,
    pub body: String,
    pub status: &'static str,
}

pub struct ReportView {
    pub count: i64,
    pub reasons: Vec<(String, i64)>,
    pub notes: Vec<String>,
}

pub struct ItemView {
    pub id: i64,
    pub article_id: String,
    pub article_href: String,
    pub article_title: String,
    pub author_name: String,
    pub author_key: String,
    pub banned: bool,
    pub premoderated: bool,
    pub published: i64,
    pub pending: i64,
    pub removed: i64,
    pub created_at: String,
    pub created_display: String,
    /// The detected language's code and its name.
    pub language: Option<String>,
    pub language_name: &'static str,
    pub status: &'static str,
    pub reported: bool,
    pub parent: Option<ParentView>,
    pub pieces: Vec<Piece>,
    pub hits: Vec<HitLegend>,
    pub bars: Vec<Bar>,
    pub reasons: Vec<String>,
    pub reports: Option<ReportView>,
    pub model: String,
    pub can_approve: bool,
    pub can_remove: bool,
    pub can_restore: bool,
    /// What `a` does on this item: `approve`, `restore` or nothing.
    pub positive: &'static str,
}

fn pct(v: f32) -> u32 {
    (v.clamp(0.0, 1.0) * 100.0).round() as u32
}

/// Any serde unit-like enum as its wire name (labels, categories, actions).
fn name<T: Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        _ => "?".into(),
    }
}

/// Score bars with the thresholds in force for comments in `language`.
pub fn bars(
    scores: &crate::domain::Scores,
    policy: &PolicyConfig,
    language: Option<Language>,
) -> Vec<Bar> {
    Label::ALL
        .into_iter()
        .map(|label| {
            let score = scores.get(label);
            let t = policy.threshold_for(label, language);
            let hold = t.and_then(|t| t.hold_at);
            let remove = t.and_then(|t| t.remove_at);
            let level = match (hold, remove) {
                (_, Some(r)) if score >= r => "remove",
                (Some(h), _) if score >= h => "hold",
                _ => "",
            };
            let mut description = format!("{}: {:.2}", label.as_str(), score);
            if let Some(h) = hold {
                description.push_str(&format!(", held at {h:.2}"));
            }
            if let Some(r) = remove {
                description.push_str(&format!(", removed at {r:.2}"));
            }
            Bar {
                label: label.as_str(),
                score: format!("{score:.2}"),
                pct: pct(score),
                hold_pct: hold.map(pct),
                remove_pct: remove.map(pct),
                level,
                description,
            }
        })
        .collect()
}

pub fn reason_text(r: &Reason) -> String {
    match r {
        Reason::Threshold {
            label,
            score,
            threshold,
            action,
        } => format!(
            "model: {} {score:.2} ≥ {threshold:.2} → {}",
            label.as_str(),
            name(action)
        ),
        Reason::Rule {
            list,
            category,
            term,
            action,
        } => format!(
            "rule: {list} ({}) matched “{term}” → {}",
            name(category),
            name(action)
        ),
        Reason::IdentityTermSensitivity {
            terms,
            label,
            score,
            counterfactual_score,
        } => format!(
            "identity terms ({}): {} {score:.2} drops to {counterfactual_score:.2} without them",
            terms.join(", "),
            label.as_str()
        ),
        Reason::AuthorPremoderated => "author is pre-moderated".into(),
        Reason::AuthorBanned => "author is banned".into(),
        Reason::Unscored { detail } => format!("not scored yet ({detail})"),
    }
}

/// `2026-11-28T07:12:00.123Z` → `2026-11-28 07:12 UTC`.
pub fn display_time(t: &str) -> String {
    match (t.get(..10), t.get(11..16)) {
        (Some(d), Some(hm)) => format!("{d} {hm} UTC"),
        _ => t.to_string(),
    }
}

impl ItemView {
    pub fn new(item: QueueItem, policy: &PolicyConfig) -> ItemView {
        let c = item.comment;
        let language = c.language.as_deref().and_then(Language::parse);
        let (pieces, hits, bars_, reasons, model) = match &item.verdict {
            Some(v) => (
                highlight::pieces(&c.body, &v.hits),
                v.hits
                    .iter()
                    .map(|h| HitLegend {
                        list: h.list.clone(),
                        term: h.term.clone(),
                        action: highlight::action_str(h.action),
                    })
                    .collect(),
                bars(&v.scores, policy, language),
                v.reasons.iter().map(reason_text).collect(),
                format!("{} · rules {}", v.model_id, v.rules_version),
            ),
            None => (
                highlight::pieces(&c.body, &[]),
                Vec::new(),
                Vec::new(),
                Vec::new(),
                String::new(),
            ),
        };
        let can_approve =
            c.status == Status::Pending || (c.status == Status::Published && c.reported);
        let can_remove = c.status != Status::Removed;
        let can_restore = c.status == Status::Removed;
        let reports = (item.reports.count > 0).then(|| ReportView {
            count: item.reports.count,
            reasons: item.reports.reasons.into_iter().collect(),
            notes: item.reports.notes,
        });
        ItemView {
            id: c.id,
            article_title: item
                .article
                .title
                .filter(|t| !t.is_empty())
                .unwrap_or_else(|| c.article_id.clone()),
            article_href: format!("/articles/{}", super::path_segment(&c.article_id)),
            article_id: c.article_id,
            author_name: c.author_name,
            author_key: item.author.key,
            banned: item.author.banned,
            premoderated: item.author.premoderated,
            published: item.author.history.published,
            pending: item.author.history.pending,
            removed: item.author.history.removed,
            created_display: display_time(&c.created_at),
            created_at: c.created_at,
            language: c.language,
            language_name: language.map_or("unknown", Language::name),
            status: c.status.as_str(),
            reported: c.reported,
            parent: item.parent.map(|p| ParentView {
                id: p.id,
                author_name: p.author_name,
                body: p.body,
                status: p.status.as_str(),
            }),
            pieces,
            hits,
            bars: bars_,
            reasons,
            reports,
            model,
            can_approve,
            can_remove,
            can_restore,
            positive: if can_approve {
                "approve"
            } else if can_restore {
                "restore"
            } else {
                ""
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Threshold;
    use crate::domain::Scores;

    #[test]
    fn bars_mark_thresholds_and_level() {
        let mut policy = PolicyConfig::default();
        policy.thresholds.insert(
            "severe_toxic".into(),
            Threshold {
                hold_at: Some(0.4),
                remove_at: Some(0.5),
            },
        );
        let mut scores = Scores::default();
        scores.set(Label::Toxic, 0.93);
        scores.set(Label::SevereToxic, 0.45);
        let b = bars(&scores, &policy, None);
        assert_eq!(b.len(), 6);
        assert_eq!(
            (b[0].label, b[0].pct, b[0].hold_pct, b[0].level),
            ("toxic", 93, Some(80), "hold")
        );
        assert_eq!(
            (b[1].hold_pct, b[1].remove_pct, b[1].level),
            (Some(40), Some(50), "hold")
        );
        assert_eq!(b[2].level, "");
        assert_eq!(b[0].description, "toxic: 0.93, held at 0.80");
    }

    #[test]
    fn times_display_in_utc() {
        assert_eq!(
            display_time("2026-11-28T07:12:00.123Z"),
            "2026-11-28 07:12 UTC"
        );
        assert_eq!(display_time("odd"), "odd");
    }
}
