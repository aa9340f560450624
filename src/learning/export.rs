//! The decisions as a CSV of training rows, in the columns `models/modgate_models/data.py` reads for
//! its `moderator_decisions` source (`python -m modgate_models.train_e5_full --decisions FILE`):
//! `text`, `language`, `decision` (`approve` or `remove`), `reason`, and what the system
//! had decided (`verdict`, `model_id`, `rules_version`, one `score_<label>` per label), so
//! an operator can also see where the model and the moderators disagreed. The latest
//! decision per comment wins; a restore counts as an approval.

use std::collections::BTreeMap;
use std::io::Write;

use super::CurrentVersions;
use crate::domain::Label;
use crate::store::decisions::DecisionRow;

pub const COLUMNS: [&str; 11] = [
    "comment_id",
    "text",
    "language",
    "decision",
    "reason",
    "decided_at",
    "moderator",
    "verdict",
    "model_id",
    "rules_version",
    "current_model",
];

/// Writes the CSV; returns the number of rows written.
pub fn write_csv<W: Write>(
    rows: &[DecisionRow],
    current: &CurrentVersions,
    out: W,
) -> Result<usize, csv::Error> {
    let mut latest: BTreeMap<i64, &DecisionRow> = BTreeMap::new();
    for row in rows {
        latest.insert(row.comment_id, row);
    }
    let mut w = csv::Writer::from_writer(out);
    let mut header: Vec<String> = COLUMNS.iter().map(|c| c.to_string()).collect();
    header.extend(Label::ALL.iter().map(|l| format!("score_{}", l.as_str())));
    w.write_record(&header)?;
    let mut n = 0;
    for row in latest.values() {
        let decision = match row.action.as_str() {
            "remove" => "remove",
            _ => "approve",
        };
        let v = row.verdict.as_ref();
        let mut record = vec![
            row.comment_id.to_string(),
            row.body.clone(),
            row.language.clone().unwrap_or_default(),
            decision.to_string(),
            row.reason.clone().unwrap_or_default(),
            row.decided_at.clone(),
            row.moderator.clone(),
            v.map(|v| v.status.as_str().to_string()).unwrap_or_default(),
            v.map(|v| v.model_id.clone()).unwrap_or_default(),
            v.map(|v| v.rules_version.clone()).unwrap_or_default(),
            v.map(|v| u8::from(current.model_ids.contains(&v.model_id)).to_string())
                .unwrap_or_default(),
        ];
        record.extend(Label::ALL.iter().map(|l| {
            v.map(|v| format!("{:.6}", v.scores.get(*l)))
                .unwrap_or_default()
        }));
        w.write_record(&record)?;
        n += 1;
    }
    w.flush()?;
    Ok(n)
}
