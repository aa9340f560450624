//! Aggregates verdicts against gold labels into the `modgate eval` report.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use super::metrics::{Confusion, Rates, roc_auc};
use crate::domain::Label;
use crate::domain::{Status, Verdict};

/// One evaluated row: gold label, the groups it counts in, and its verdict.
#[derive(Clone, Debug)]
pub struct Item {
    pub label: bool,
    pub groups: Vec<String>,
    pub verdict: Verdict,
    /// The verdict the policy gives without the identity-term counterfactual.
    pub without_counterfactual: Status,
}

impl Item {
    /// The counterfactual made the verdict milder (removed → pending, held → published).
    pub fn lowered_by_counterfactual(&self) -> bool {
        ordinal(self.without_counterfactual) > ordinal(self.verdict.status)
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub file: String,
    /// What the groups are: a column name or `identity_term`.
    pub group_by: Option<String>,
    pub overall: GroupMetrics,
    pub groups: BTreeMap<String, GroupMetrics>,
    /// Precision/recall of each label's score at a grid of thresholds (with `--sweep`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sweep: Option<BTreeMap<Label, Vec<SweepPoint>>>,
}

#[derive(Clone, Debug, Serialize)]
pub struct GroupMetrics {
    pub rows: usize,
    pub positives: usize,
    /// ROC-AUC of each label's score, of the verdict as an ordinal score (published 0,
    /// pending 1, removed 2) and of the binary `flagged` (= not published).
    pub auc: Auc,
    /// Positive prediction = not published, at the configured policy.
    pub confusion: Confusion,
    pub rates: Rates,
    /// Verdict counts split by gold label.
    pub verdicts: VerdictsByGold,
    /// Rows whose verdict the identity-term counterfactual made milder, by gold label: on
    /// negatives it prevented a false positive, on positives it caused a miss (or a
    /// lighter action).
    pub lowered_by_counterfactual: ByGold,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ByGold {
    pub negative: usize,
    pub positive: usize,
}

#[derive(Clone, Debug, Serialize)]
pub struct Auc {
    pub labels: BTreeMap<Label, Option<f64>>,
    pub verdict: Option<f64>,
    pub flagged: Option<f64>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct VerdictCounts {
    pub published: usize,
    pub pending: usize,
    pub removed: usize,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct VerdictsByGold {
    pub negative: VerdictCounts,
    pub positive: VerdictCounts,
}

#[derive(Clone, Copy, Debug, Serialize)]
pub struct SweepPoint {
    pub threshold: f64,
    /// Share of all rows at or above the threshold.
    pub flagged: f64,
    pub precision: Option<f64>,
    pub recall: Option<f64>,
}

const SWEEP_GRID: [f64; 14] = [
    0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.97, 0.99,
];

fn ordinal(s: Status) -> f64 {
    match s {
        Status::Published => 0.0,
        Status::Pending => 1.0,
        Status::Removed => 2.0,
    }
}

impl GroupMetrics {
    pub fn compute(items: &[&Item]) -> GroupMetrics {
        let gold: Vec<bool> = items.iter().map(|i| i.label).collect();
        let score_auc = |f: &dyn Fn(&Verdict) -> f64| {
            let s: Vec<f64> = items.iter().map(|i| f(&i.verdict)).collect();
            roc_auc(&s, &gold)
        };
        let labels = Label::ALL
            .into_iter()
            .map(|l| (l, score_auc(&|v| v.scores.get(l) as f64)))
            .collect();
        let flagged = |v: &Verdict| v.status != Status::Published;
        let mut verdicts = VerdictsByGold::default();
        for item in items {
            let counts = if item.label {
                &mut verdicts.positive
            } else {
                &mut verdicts.negative
            };
            match item.verdict.status {
                Status::Published => counts.published += 1,
                Status::Pending => counts.pending += 1,
                Status::Removed => counts.removed += 1,
            }
        }
        let sensitive = |gold: bool| {
            items
                .iter()
                .filter(|i| i.label == gold && i.lowered_by_counterfactual())
                .count()
        };
        let confusion = Confusion::from_pairs(items.iter().map(|i| (flagged(&i.verdict), i.label)));
        GroupMetrics {
            rows: items.len(),
            positives: gold.iter().filter(|&&g| g).count(),
            auc: Auc {
                labels,
                verdict: score_auc(&|v| ordinal(v.status)),
                flagged: score_auc(&|v| if flagged(v) { 1.0 } else { 0.0 }),
            },
            confusion,
            rates: confusion.summary(),
            verdicts,
            lowered_by_counterfactual: ByGold {
                negative: sensitive(false),
                positive: sensitive(true),
            },
        }
    }
}

fn sweep(items: &[&Item]) -> BTreeMap<Label, Vec<SweepPoint>> {
    Label::ALL
        .into_iter()
        .map(|label| {
            let points = SWEEP_GRID
                .iter()
                .map(|&t| {
                    let c = Confusion::from_pairs(
                        items
                            .iter()
                            .map(|i| (i.verdict.scores.get(label) as f64 >= t, i.label)),
                    );
                    SweepPoint {
                        threshold: t,
                        flagged: (c.tp + c.fp) as f64 / c.total().max(1) as f64,
                        precision: c.precision(),
                        recall: c.recall(),
                    }
                })
                .collect();
            (label, points)
        })
        .collect()
}

impl Report {
    pub fn compute(file: &str, group_by: Option<&str>, items: &[Item], with_sweep: bool) -> Report {
        let all: Vec<&Item> = items.iter().collect();
        let mut members: BTreeMap<&str, Vec<&Item>> = BTreeMap::new();
        for item in items {
            for g in &item.groups {
                members.entry(g.as_str()).or_default().push(item);
            }
        }
        Report {
            file: file.to_string(),
            group_by: group_by.map(str::to_string),
            overall: GroupMetrics::compute(&all),
            groups: members
                .into_iter()
                .map(|(g, m)| (g.to_string(), GroupMetrics::compute(&m)))
                .collect(),
            sweep: with_sweep.then(|| sweep(&all)),
        }
    }

    /// The human-readable table.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let o = &self.overall;
        let _ = writeln!(
            out,
            "{}: {} rows, {} positive ({})",
            self.file,
            o.rows,
            o.positives,
            pct(ratio(o.positives, o.rows))
        );
        let _ = writeln!(out, "\nROC-AUC");
        for (label, auc) in &o.auc.labels {
            let _ = writeln!(out, "  {:<16}{}", label.as_str(), num(*auc));
        }
        let _ = writeln!(out, "  {:<16}{}", "verdict (0/1/2)", num(o.auc.verdict));
        let _ = writeln!(out, "  {:<16}{}", "flagged (0/1)", num(o.auc.flagged));

        let r = &o.rates;
        let _ = writeln!(out, "\nAt the configured policy (positive = not published)");
        let _ = writeln!(
            out,
            "  precision {}  recall {}  F1 {}  accuracy {}  FPR {}  FNR {}",
            num(r.precision),
            num(r.recall),
            num(r.f1),
            num(r.accuracy),
            num(r.fpr),
            num(r.fnr)
        );
        let c = &o.confusion;
        let _ = writeln!(out, "\nConfusion          predicted+  predicted-");
        let _ = writeln!(out, "  gold positive    {:>10}  {:>10}", c.tp, c.fn_);
        let _ = writeln!(out, "  gold negative    {:>10}  {:>10}", c.fp, c.tn);
        let v = &o.verdicts;
        let _ = writeln!(
            out,
            "\nVerdicts           published     pending     removed"
        );
        for (name, counts) in [("gold positive", v.positive), ("gold negative", v.negative)] {
            let _ = writeln!(
                out,
                "  {name:<16} {:>10}  {:>10}  {:>10}",
                counts.published, counts.pending, counts.removed
            );
        }
        let _ = writeln!(
            out,
            "  identity-term counterfactual lowered {} verdicts ({} gold negative, {} gold positive)",
            o.lowered_by_counterfactual.negative + o.lowered_by_counterfactual.positive,
            o.lowered_by_counterfactual.negative,
            o.lowered_by_counterfactual.positive
        );

        if let Some(sweep) = &self.sweep {
            let _ = writeln!(
                out,
                "\nScore sweep (label score >= t): flagged% / precision / recall"
            );
            for (label, points) in sweep {
                let _ = writeln!(out, "  {}", label.as_str());
                for p in points {
                    let _ = writeln!(
                        out,
                        "    t={:<5} {:>6}  P {}  R {}",
                        p.threshold,
                        pct(Some(p.flagged)),
                        num(p.precision),
                        num(p.recall)
                    );
                }
            }
        }

        if !self.groups.is_empty() {
            let by = self.group_by.as_deref().unwrap_or("group");
            let width = self
                .groups
                .keys()
                .map(|k| k.chars().count())
                .max()
                .unwrap_or(5)
                .max(by.len())
                .min(40);
            let _ = writeln!(
                out,
                "\nBy {by}\n  {:<width$} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6} {:>7} {:>7} {:>9}",
                by,
                "rows",
                "pos",
                "acc",
                "prec",
                "recall",
                "F1",
                "FPR",
                "AUCtox",
                "AUCvrd",
                "cf-/+"
            );
            for (g, m) in &self.groups {
                let name: String = g.chars().take(width).collect();
                let _ = writeln!(
                    out,
                    "  {:<width$} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6} {:>7} {:>7} {:>9}",
                    name,
                    m.rows,
                    m.positives,
                    num(m.rates.accuracy),
                    num(m.rates.precision),
                    num(m.rates.recall),
                    num(m.rates.f1),
                    num(m.rates.fpr),
                    num(m.auc.labels.get(&Label::Toxic).copied().flatten()),
                    num(m.auc.verdict),
                    format!(
                        "{}/{}",
                        m.lowered_by_counterfactual.negative, m.lowered_by_counterfactual.positive
                    )
                );
            }
        }
        out
    }
}

fn ratio(a: usize, b: usize) -> Option<f64> {
    (b > 0).then(|| a as f64 / b as f64)
}

fn num(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_string(), |v| format!("{v:.3}"))
}

fn pct(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_string(), |v| format!("{:.1}%", v * 100.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Scores;

    fn item(label: bool, toxic: f32, status: Status, group: &str) -> Item {
        let mut scores = Scores::default();
        scores.set(Label::Toxic, toxic);
        Item {
            label,
            groups: vec![group.to_string()],
            verdict: Verdict {
                status,
                scores,
                hits: vec![],
                reasons: vec![],
                model_id: "m".into(),
                rules_version: "r".into(),
                language: None,
            },
            without_counterfactual: status,
        }
    }

    #[test]
    fn overall_and_groups() {
        let items = vec![
            item(true, 0.9, Status::Removed, "a"),
            item(true, 0.6, Status::Published, "a"),
            item(false, 0.7, Status::Pending, "b"),
            Item {
                without_counterfactual: Status::Pending,
                ..item(false, 0.1, Status::Published, "b")
            },
        ];
        let r = Report::compute("f.csv", Some("g"), &items, true);
        assert_eq!(r.overall.rows, 4);
        assert_eq!(
            r.overall.confusion,
            Confusion {
                tp: 1,
                fp: 1,
                tn: 1,
                fn_: 1
            }
        );
        // toxic: positives 0.9, 0.6 vs negatives 0.7, 0.1 → 3 of 4 pairs.
        assert_eq!(r.overall.auc.labels[&Label::Toxic], Some(0.75));
        // verdict: pos {2, 0}, neg {1, 0} → 2>1, 2>0, 0<1, 0=0 → 2.5 / 4.
        assert_eq!(r.overall.auc.verdict, Some(0.625));
        assert_eq!(r.overall.verdicts.positive.removed, 1);
        assert_eq!(
            r.overall.lowered_by_counterfactual,
            ByGold {
                negative: 1,
                positive: 0
            }
        );
        assert_eq!(r.groups["b"].rates.fpr, Some(0.5));
        assert_eq!(r.groups["a"].auc.verdict, None);
        let table = r.render();
        assert!(table.contains("By g"), "{table}");
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["overall"]["auc"]["labels"]["toxic"], 0.75);
        assert_eq!(json["overall"]["confusion"]["fn"], 1);
        assert!(json["sweep"]["toxic"].is_array());
    }
}
