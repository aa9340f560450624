//! Prometheus metrics: comments by verdict, queue sizes, scoring and HTTP latency, the
//! thread cache.

use std::sync::atomic::AtomicU64;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::domain::Status;
use crate::domain::moderation::DecisionAction;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct VerdictLabels {
    verdict: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ActionLabels {
    action: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct QueueLabels {
    queue: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ModelLabels {
    model: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HttpLabels {
    pub method: String,
    pub route: String,
    pub status: u16,
}

fn latency_histogram() -> Histogram {
    // 0.25 ms .. ~8 s
    Histogram::new(exponential_buckets(0.000_25, 2.0, 16))
}

pub struct Metrics {
    registry: Registry,
    comments: Family<VerdictLabels, Counter>,
    duplicates: Counter,
    decisions: Family<ActionLabels, Counter>,
    scoring_failures: Counter,
    scoring_seconds: Histogram,
    queue_size: Family<QueueLabels, Gauge>,
    scoring_wait: Family<ModelLabels, Gauge<f64, AtomicU64>>,
    cascade_windows: Family<ModelLabels, Counter>,
    cascade_first_stage: Family<ModelLabels, Counter>,
    http_seconds: Family<HttpLabels, Histogram>,
    thread_cache: crate::http::thread_cache::CacheMetrics,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("modgate");
        let comments = Family::<VerdictLabels, Counter>::default();
        registry.register(
            "comments_received",
            "Comments accepted, by verdict",
            comments.clone(),
        );
        let duplicates = Counter::default();
        registry.register(
            "comments_duplicate",
            "Posts answered with an earlier identical comment",
            duplicates.clone(),
        );
        let decisions = Family::<ActionLabels, Counter>::default();
        registry.register(
            "moderator_decisions",
            "Moderator decisions, by action",
            decisions.clone(),
        );
        let scoring_failures = Counter::default();
        registry.register(
            "scoring_failures",
            "Comments stored unscored: the classifier failed or timed out, or its queue was full",
            scoring_failures.clone(),
        );
        let scoring_seconds = latency_histogram();
        registry.register(
            "scoring_seconds",
            "Time to score one comment (rules, classifier, policy)",
            scoring_seconds.clone(),
        );
        let queue_size = Family::<QueueLabels, Gauge>::default();
        registry.register(
            "queue_size",
            "Comments in each moderation queue",
            queue_size.clone(),
        );
        let scoring_wait = Family::<ModelLabels, Gauge<f64, AtomicU64>>::default();
        registry.register(
            "scoring_queue_seconds",
            "Expected wait of a comment joining each model's scoring queue now (over half of \
             [model] timeout_ms: stored unscored)",
            scoring_wait.clone(),
        );
        let cascade_windows = Family::<ModelLabels, Counter>::default();
        registry.register(
            "cascade_windows",
            "Windows a cascade model scored (a window: up to 512 tokens of a comment)",
            cascade_windows.clone(),
        );
        let cascade_first_stage = Family::<ModelLabels, Counter>::default();
        registry.register(
            "cascade_first_stage_windows",
            "Windows a cascade model's first stage decided alone, skipping its other layers",
            cascade_first_stage.clone(),
        );
        let http_seconds = Family::<HttpLabels, Histogram>::new_with_constructor(
            latency_histogram as fn() -> Histogram,
        );
        registry.register(
            "http_request_seconds",
            "HTTP request latency by route and status",
            http_seconds.clone(),
        );
        let thread_cache = crate::http::thread_cache::CacheMetrics::default();
        registry.register(
            "thread_cache_hits",
            "Public thread reads answered from the in-memory cache",
            thread_cache.hits.clone(),
        );
        registry.register(
            "thread_cache_joined",
            "Public thread reads answered by a concurrent database read of the same thread",
            thread_cache.joined.clone(),
        );
        registry.register(
            "thread_cache_misses",
            "Public thread reads that went to the database",
            thread_cache.misses.clone(),
        );
        registry.register(
            "thread_cache_bytes",
            "Memory held by cached public threads",
            thread_cache.bytes.clone(),
        );
        registry.register(
            "thread_cache_entries",
            "Cached public threads (article and query)",
            thread_cache.entries.clone(),
        );
        Metrics {
            registry,
            comments,
            duplicates,
            decisions,
            scoring_failures,
            scoring_seconds,
            queue_size,
            scoring_wait,
            cascade_windows,
            cascade_first_stage,
            http_seconds,
            thread_cache,
        }
    }

    /// The thread cache's counters and gauges, for the cache to update.
    pub fn thread_cache(&self) -> crate::http::thread_cache::CacheMetrics {
        self.thread_cache.clone()
    }

    pub fn comment_received(&self, status: Status, duplicate: bool) {
        if duplicate {
            self.duplicates.inc();
        } else {
            self.comments
                .get_or_create(&VerdictLabels {
                    verdict: status.as_str().to_string(),
                })
                .inc();
        }
    }

    pub fn decision(&self, action: DecisionAction) {
        self.decisions
            .get_or_create(&ActionLabels {
                action: action.as_str().to_string(),
            })
            .inc();
    }

    pub fn scoring_failed(&self) {
        self.scoring_failures.inc();
    }

    /// Comments stored unscored since start (model error, timeout or full queue).
    pub fn scoring_failures(&self) -> u64 {
        self.scoring_failures.get()
    }

    pub fn scoring_latency(&self, d: Duration) {
        self.scoring_seconds.observe(d.as_secs_f64());
    }

    pub fn http(&self, labels: HttpLabels, d: Duration) {
        self.http_seconds
            .get_or_create(&labels)
            .observe(d.as_secs_f64());
    }

    pub fn set_queue_size(&self, queue: &str, n: i64) {
        self.queue_size
            .get_or_create(&QueueLabels {
                queue: queue.to_string(),
            })
            .set(n);
    }

    pub fn set_scoring_wait(&self, model: &str, wait: Duration) {
        self.scoring_wait
            .get_or_create(&ModelLabels {
                model: model.to_string(),
            })
            .set(wait.as_secs_f64());
    }

    /// A cascade model's counts so far (read from the model when /metrics is scraped).
    pub fn set_cascade_counts(&self, model: &str, windows: u64, first_stage: u64) {
        let labels = ModelLabels {
            model: model.to_string(),
        };
        for (family, now) in [
            (&self.cascade_windows, windows),
            (&self.cascade_first_stage, first_stage),
        ] {
            let counter = family.get_or_create(&labels);
            counter.inc_by(now.saturating_sub(counter.get()));
        }
    }

    /// The Prometheus text exposition.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)
            .expect("writing to a String cannot fail");
        out
    }
}
