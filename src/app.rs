//! Application state shared by every request: the store, the live (reloadable) config and
//! scorer, the classifier batcher, the write path, limits and metrics.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use crate::config::Config;
use crate::domain::AuthorStanding;
use crate::domain::Scores;
use crate::domain::Verdict;
use crate::http::client_ip::TrustedProxy;
use crate::http::key_cache::{KeyCache, TOKEN_CACHE_TTL};
use crate::http::limits::Limits;
use crate::http::thread_cache::ThreadCache;
use crate::metrics::Metrics;
use crate::scoring::batcher::{BatchError, Batcher};
use crate::scoring::classifier::{Classifier, ClassifierError};
use crate::scoring::language;
use crate::scoring::pipeline::Scorer;
use crate::store::Store;
use crate::store::writer::Writer;

/// What a config reload replaces as one unit, so a request never sees half a reload.
pub struct Live {
    pub config: Config,
    pub scorer: Scorer,
}

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub store: Store,
    pub writer: Writer,
    pub batcher: Batcher,
    pub limits: Limits,
    pub metrics: Metrics,
    /// Verified moderator API tokens (`api::auth`).
    pub token_cache: KeyCache,
    pub thread_cache: ThreadCache,
    live: RwLock<Arc<Live>>,
}

impl TrustedProxy for AppState {
    fn trusted_proxy_header(&self) -> Option<String> {
        self.live().config.limits.trusted_proxy_header.clone()
    }
}

impl std::ops::Deref for AppState {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}

/// A comment's verdict plus facts found while scoring that are stored with the comment
/// (not the batcher's `Scored`, which is one text's scores).
pub struct ScoredComment {
    pub verdict: Verdict,
    /// The detected language's code (`en`, `ru`, …), stored in `comments.language`.
    pub language: Option<String>,
}

impl AppState {
    /// The model ids and rules version now in force, to tell decisions on their verdicts
    /// from decisions on older ones.
    pub fn current_versions(&self) -> crate::learning::CurrentVersions {
        crate::learning::CurrentVersions {
            model_ids: self
                .batcher
                .classifier()
                .model_ids()
                .into_iter()
                .map(str::to_string)
                .collect(),
            rules_version: self.live().scorer.rules_version().to_string(),
        }
    }

    pub fn new(store: Store, batcher: Batcher, live: Live, metrics: Metrics) -> AppState {
        let limits = Limits::new(live.config.limits.clone());
        let thread_cache = ThreadCache::new(
            live.config.comments.thread_cache_mb.saturating_mul(1 << 20),
            metrics.thread_cache(),
        );
        AppState(Arc::new(Inner {
            writer: Writer::new(store.clone(), live.config.database.group_commit_max),
            store,
            batcher,
            limits,
            metrics,
            token_cache: KeyCache::new(TOKEN_CACHE_TTL),
            thread_cache,
            live: RwLock::new(Arc::new(live)),
        }))
    }

    /// The config and scorer in force now.
    pub fn live(&self) -> Arc<Live> {
        self.0.live.read().expect("live lock").clone()
    }

    /// Swap in a new config and scorer (after a successful reload).
    pub fn replace_live(&self, live: Live) {
        self.limits.reconfigure(live.config.limits.clone());
        self.thread_cache
            .set_max_bytes(live.config.comments.thread_cache_mb.saturating_mul(1 << 20));
        *self.0.live.write().expect("live lock") = Arc::new(live);
    }

    /// Language → rules → classifier (batched) → identity counterfactual → policy. Never
    /// fails: when the classifier errors, panics or exceeds its budget, the verdict is
    /// `pending` with reason `unscored`.
    pub async fn score_comment(
        &self,
        live: &Live,
        text: &str,
        author: AuthorStanding,
    ) -> ScoredComment {
        let scorer = &live.scorer;
        let lang = language::detect(text);
        let hits = scorer.check_rules(text, lang);
        let budget = Duration::from_millis(live.config.model.timeout_ms);
        let started = std::time::Instant::now();
        let verdict = match self.classify(text, budget).await {
            Ok((scores, model_id)) => {
                let counterfactual = match scorer.counterfactual(text, &scores, &hits, lang) {
                    Some(cf) => {
                        let remaining = budget.saturating_sub(started.elapsed());
                        match self.classify(&cf.text, remaining).await {
                            Ok((cf_scores, _)) => Some(cf.with_scores(cf_scores)),
                            // Without the counterfactual the model's hold stands.
                            Err(_) => None,
                        }
                    }
                    None => None,
                };
                scorer.verdict(
                    &model_id,
                    scores,
                    hits,
                    counterfactual.as_ref(),
                    author,
                    lang,
                )
            }
            Err(detail) => {
                self.metrics.scoring_failed();
                tracing::warn!(%detail, "scoring failed; comment held as unscored");
                scorer.unscored_verdict(&self.batcher.model_id(), hits, author, &detail, lang)
            }
        };
        self.metrics.scoring_latency(started.elapsed());
        ScoredComment {
            verdict,
            language: lang.map(|l| l.code().to_string()),
        }
    }

    /// The scoring lanes as a blocking [`Classifier`], for background re-scoring (inside
    /// `block_in_place`): its texts queue behind the comments being posted, under the same
    /// admission limit, instead of taking the model from them.
    pub fn queued_classifier(&self) -> QueuedClassifier {
        QueuedClassifier {
            state: self.clone(),
            classifier: self.batcher.classifier(),
            runtime: tokio::runtime::Handle::current(),
        }
    }

    async fn classify(
        &self,
        text: &str,
        budget: Duration,
    ) -> Result<(crate::domain::Scores, String), String> {
        match tokio::time::timeout(budget, self.batcher.score(text.to_string())).await {
            Ok(Ok(scored)) => Ok((scored.scores, scored.model_id.to_string())),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err(format!("timeout after {} ms", budget.as_millis())),
        }
    }
}

/// See [`AppState::queued_classifier`].
pub struct QueuedClassifier {
    state: AppState,
    /// The model in use when this was made: its ids answer for the texts scored.
    classifier: Arc<dyn Classifier>,
    runtime: tokio::runtime::Handle,
}

impl Classifier for QueuedClassifier {
    fn model_id(&self) -> &str {
        self.classifier.model_id()
    }

    fn model_id_for(&self, text: &str) -> &str {
        self.classifier.model_id_for(text)
    }

    /// One text at a time: each waits its turn behind the comments being posted and adds
    /// at most one comment's work to the queue they join (a page at once would have them
    /// refused while it is scored).
    fn score_batch(&self, texts: &[&str]) -> Result<Vec<Scores>, ClassifierError> {
        let mut out = Vec::with_capacity(texts.len());
        for text in texts {
            let scored = match self
                .runtime
                .block_on(self.state.batcher.score(text.to_string()))
            {
                Ok(scored) => scored,
                Err(BatchError::Overloaded) => {
                    return Err(ClassifierError::Busy(BatchError::Overloaded.to_string()));
                }
                Err(e) => return Err(ClassifierError::Inference(e.to_string())),
            };
            // The verdict will name the model of this snapshot: a reload since means
            // another model scored the text, so leave it for the next run.
            if *scored.model_id != *self.classifier.model_id_for(text) {
                return Err(ClassifierError::Busy("the model was replaced".into()));
            }
            out.push(scored.scores);
        }
        Ok(out)
    }
}
