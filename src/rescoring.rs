//! Re-scoring stored comments with the current model and rules: the `rescore` command and
//! the background job that scores comments stored while the classifier was unavailable.

use std::sync::Arc;

use crate::domain::AuthorStanding;
use crate::domain::{Status, Verdict};
use crate::scoring::classifier::{Classifier, ClassifierError};
use crate::scoring::pipeline::Scorer;
use crate::store::rescore::{self, Candidate, Change};
use crate::store::{DbError, Store};

#[derive(Debug, thiserror::Error)]
pub enum RescoreError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Classifier(#[from] ClassifierError),
}

pub struct RescoreRun {
    pub status: Option<Status>,
    pub only_unscored: bool,
    pub dry_run: bool,
    /// Comments read and scored at a time.
    pub page_size: i64,
}

/// Re-score every candidate; returns the comments whose status changes (or would change),
/// calling `on_change` for each as it is found.
pub async fn run(
    store: &Store,
    scorer: &Scorer,
    classifier: Arc<dyn Classifier>,
    opts: &RescoreRun,
    on_change: impl FnMut(&Change),
) -> Result<usize, RescoreError> {
    run_until(store, scorer, classifier, opts, || false, on_change).await
}

/// [`run`], stopping before the next page once `stop` says so (what is done stays done).
pub async fn run_until(
    store: &Store,
    scorer: &Scorer,
    classifier: Arc<dyn Classifier>,
    opts: &RescoreRun,
    stop: impl Fn() -> bool,
    mut on_change: impl FnMut(&Change),
) -> Result<usize, RescoreError> {
    let mut after = 0;
    let mut changed = 0;
    while !stop() {
        let page = rescore::candidates(
            store.reader(),
            opts.status,
            opts.only_unscored,
            after,
            opts.page_size.max(1),
        )
        .await?;
        let Some(last) = page.last() else { break };
        after = last.id;
        let verdicts = score_page(scorer, classifier.clone(), &page).await?;
        for (c, verdict) in page.iter().zip(verdicts) {
            let change = Change {
                id: c.id,
                old_status: c.status,
                new_status: verdict.status,
                verdict,
            };
            let differs = change.old_status != change.new_status;
            if !opts.dry_run {
                // Store the new verdict even when the status stays (e.g. unscored → scored).
                rescore::apply(store.writer(), &change, opts.only_unscored).await?;
            }
            if differs {
                changed += 1;
                on_change(&change);
            }
        }
    }
    Ok(changed)
}

async fn score_page(
    scorer: &Scorer,
    classifier: Arc<dyn Classifier>,
    page: &[Candidate],
) -> Result<Vec<Verdict>, ClassifierError> {
    // CPU-bound: run on this worker thread without stalling the others' async tasks.
    tokio::task::block_in_place(|| {
        let mut out: Vec<Option<Verdict>> = vec![None; page.len()];
        // Comments are batched per author standing, which the policy takes per batch.
        let mut standings: Vec<AuthorStanding> = page.iter().map(|c| c.author).collect();
        standings.sort_by_key(|a| (a.banned, a.premoderated));
        standings.dedup();
        for standing in standings {
            let idx: Vec<usize> = (0..page.len())
                .filter(|&i| page[i].author == standing)
                .collect();
            let texts: Vec<&str> = idx.iter().map(|&i| page[i].body.as_str()).collect();
            let verdicts = scorer.score_batch_with(classifier.as_ref(), &texts, standing)?;
            for (i, v) in idx.into_iter().zip(verdicts) {
                out[i] = Some(v);
            }
        }
        Ok(out
            .into_iter()
            .map(|v| v.expect("every comment scored"))
            .collect())
    })
}
