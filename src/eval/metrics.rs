//! Binary-classification metrics: ROC-AUC with tie handling and confusion-matrix rates.

use serde::Serialize;

/// Area under the ROC curve of `scores` against `labels` (true = positive).
///
/// Computed as the Mann-Whitney U statistic with average ranks for tied scores, so a tie
/// between a positive and a negative counts one half. `None` when either class is empty.
pub fn roc_auc(scores: &[f64], labels: &[bool]) -> Option<f64> {
    assert_eq!(scores.len(), labels.len(), "one label per score");
    let positives = labels.iter().filter(|&&l| l).count();
    let negatives = labels.len() - positives;
    if positives == 0 || negatives == 0 {
        return None;
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    // Sum of the (1-based, tie-averaged) ranks of the positives.
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && scores[order[j + 1]] == scores[order[i]] {
            j += 1;
        }
        let average_rank = (i + j) as f64 / 2.0 + 1.0;
        let tied_positives = order[i..=j].iter().filter(|&&k| labels[k]).count();
        rank_sum += average_rank * tied_positives as f64;
        i = j + 1;
    }
    let p = positives as f64;
    let u = rank_sum - p * (p + 1.0) / 2.0;
    Some(u / (p * negatives as f64))
}

/// Counts of a binary decision against gold labels.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Confusion {
    pub tp: u64,
    pub fp: u64,
    pub tn: u64,
    #[serde(rename = "fn")]
    pub fn_: u64,
}

impl Confusion {
    pub fn add(&mut self, predicted: bool, actual: bool) {
        match (predicted, actual) {
            (true, true) => self.tp += 1,
            (true, false) => self.fp += 1,
            (false, false) => self.tn += 1,
            (false, true) => self.fn_ += 1,
        }
    }

    pub fn from_pairs(pairs: impl IntoIterator<Item = (bool, bool)>) -> Confusion {
        let mut c = Confusion::default();
        for (predicted, actual) in pairs {
            c.add(predicted, actual);
        }
        c
    }

    pub fn total(&self) -> u64 {
        self.tp + self.fp + self.tn + self.fn_
    }

    /// `None` when nothing was predicted positive.
    pub fn precision(&self) -> Option<f64> {
        ratio(self.tp, self.tp + self.fp)
    }

    /// True-positive rate; `None` without positives.
    pub fn recall(&self) -> Option<f64> {
        ratio(self.tp, self.tp + self.fn_)
    }

    /// Harmonic mean of precision and recall; 0 when both are 0.
    pub fn f1(&self) -> Option<f64> {
        let (p, r) = (self.precision()?, self.recall()?);
        Some(if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        })
    }

    pub fn accuracy(&self) -> Option<f64> {
        ratio(self.tp + self.tn, self.total())
    }

    /// False-positive rate: share of negatives predicted positive.
    pub fn fpr(&self) -> Option<f64> {
        ratio(self.fp, self.fp + self.tn)
    }

    /// False-negative rate: share of positives predicted negative.
    pub fn fnr(&self) -> Option<f64> {
        ratio(self.fn_, self.fn_ + self.tp)
    }

    pub fn summary(&self) -> Rates {
        Rates {
            precision: self.precision(),
            recall: self.recall(),
            f1: self.f1(),
            accuracy: self.accuracy(),
            fpr: self.fpr(),
            fnr: self.fnr(),
        }
    }
}

/// The rates of a [`Confusion`], for reports.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Rates {
    pub precision: Option<f64>,
    pub recall: Option<f64>,
    pub f1: Option<f64>,
    pub accuracy: Option<f64>,
    pub fpr: Option<f64>,
    pub fnr: Option<f64>,
}

fn ratio(num: u64, den: u64) -> Option<f64> {
    (den > 0).then(|| num as f64 / den as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: Option<f64>, b: f64) -> bool {
        a.is_some_and(|a| (a - b).abs() < 1e-12)
    }

    #[test]
    fn auc_perfect_inverse_and_random() {
        let labels = [false, false, true, true];
        assert!(close(roc_auc(&[0.1, 0.2, 0.8, 0.9], &labels), 1.0));
        assert!(close(roc_auc(&[0.9, 0.8, 0.2, 0.1], &labels), 0.0));
        assert!(close(roc_auc(&[0.5, 0.5, 0.5, 0.5], &labels), 0.5));
    }

    #[test]
    fn auc_hand_computed_with_ties() {
        // Pairs (pos, neg): pos 0.8 beats negs 0.3, 0.5 and ties 0.8 → 2.5;
        // pos 0.5 beats 0.3, ties 0.5, loses to 0.8 → 1.5. Total 4 / 6.
        let scores = [0.3, 0.5, 0.8, 0.8, 0.5];
        let labels = [false, false, false, true, true];
        assert!(close(roc_auc(&scores, &labels), 4.0 / 6.0));
    }

    #[test]
    fn auc_of_ordinal_verdicts() {
        // Verdict scores 0/1/2: pos {2, 1}, neg {0, 1}: pairs 2>0, 2>1, 1>0, 1=1 → 3.5/4.
        let auc = roc_auc(&[2.0, 1.0, 0.0, 1.0], &[true, true, false, false]);
        assert!(close(auc, 0.875));
    }

    #[test]
    fn auc_undefined_for_one_class() {
        assert_eq!(roc_auc(&[0.1, 0.2], &[true, true]), None);
        assert_eq!(roc_auc(&[], &[]), None);
    }

    #[test]
    fn confusion_rates() {
        // predicted, actual
        let c = Confusion::from_pairs([
            (true, true),
            (true, true),
            (true, false),
            (false, true),
            (false, false),
            (false, false),
            (false, false),
        ]);
        assert_eq!(
            c,
            Confusion {
                tp: 2,
                fp: 1,
                tn: 3,
                fn_: 1
            }
        );
        assert!(close(c.precision(), 2.0 / 3.0));
        assert!(close(c.recall(), 2.0 / 3.0));
        assert!(close(c.f1(), 2.0 / 3.0));
        assert!(close(c.accuracy(), 5.0 / 7.0));
        assert!(close(c.fpr(), 0.25));
        assert!(close(c.fnr(), 1.0 / 3.0));
    }

    #[test]
    fn rates_undefined_without_denominator() {
        let c = Confusion::from_pairs([(false, false)]);
        assert_eq!(c.precision(), None);
        assert_eq!(c.recall(), None);
        assert_eq!(c.f1(), None);
        assert!(close(c.accuracy(), 1.0));
        assert!(close(c.fpr(), 0.0));
        let zero = Confusion::from_pairs([(true, false), (false, true)]);
        assert!(close(zero.f1(), 0.0));
    }
}
