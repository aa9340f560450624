//! Dynamic batching in front of a [`Classifier`]: async callers submit texts, blocking
//! worker threads (inference is CPU-bound, so not tokio tasks) collect up to `batch_size`
//! texts — waiting at most `batch_wait` after the first — and score them in one call.
//!
//! A panicking or failing classifier fails only the requests of that batch; the worker
//! keeps serving. The classifier can be swapped at run time (model reload); every result
//! carries the model id of the classifier that produced it.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use super::classifier::{Classifier, Scores};
use crate::config::ModelConfig;

/// Scores for one text and the model that produced them.
#[derive(Clone, Debug, PartialEq)]
pub struct Scored {
    pub scores: Scores,
    pub model_id: Arc<str>,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BatchError {
    #[error("classifier failed: {0}")]
    Classifier(String),
    #[error("classifier panicked: {0}")]
    Panicked(String),
    /// The queue is full; the caller should treat the text as unscored.
    #[error("scoring queue is full")]
    Overloaded,
    #[error("scoring workers have stopped")]
    Closed,
}

#[derive(Clone, Debug)]
pub struct BatcherConfig {
    /// Most texts per classifier call (a single `score_many` larger than this is still
    /// scored in one call).
    pub batch_size: usize,
    /// Longest a request waits for others to join its batch.
    pub batch_wait: Duration,
    /// Worker threads. One is usually right: the classifier spreads a batch over the cores.
    pub workers: usize,
    /// Requests (not texts) that may wait before `Overloaded` is returned.
    pub queue_capacity: usize,
}

impl From<&ModelConfig> for BatcherConfig {
    fn from(m: &ModelConfig) -> Self {
        BatcherConfig {
            batch_size: m.batch_size.max(1),
            batch_wait: Duration::from_millis(m.batch_wait_ms),
            workers: 1,
            queue_capacity: m.batch_size.max(1) * 64,
        }
    }
}

/// The classifier in use, with its id ready to hand out.
type Current = (Arc<dyn Classifier>, Arc<str>);

struct Job {
    texts: Vec<String>,
    reply: oneshot::Sender<Result<Vec<Scored>, BatchError>>,
}

pub struct Batcher {
    tx: SyncSender<Job>,
    current: Arc<RwLock<Current>>,
}

impl Batcher {
    /// Starts the worker threads; they stop when the `Batcher` is dropped and the queue
    /// has drained.
    pub fn new(classifier: Arc<dyn Classifier>, config: BatcherConfig) -> std::io::Result<Self> {
        let (tx, rx) = mpsc::sync_channel(config.queue_capacity.max(1));
        let rx = Arc::new(Mutex::new(rx));
        let current = Arc::new(RwLock::new(with_id(classifier)));
        for n in 0..config.workers.max(1) {
            let worker = Worker {
                rx: Arc::clone(&rx),
                current: Arc::clone(&current),
                batch_size: config.batch_size.max(1),
                batch_wait: config.batch_wait,
            };
            std::thread::Builder::new()
                .name(format!("modgate-scoring-{n}"))
                .spawn(move || worker.run())?;
        }
        Ok(Batcher { tx, current })
    }

    /// Scores one text.
    pub async fn score(&self, text: String) -> Result<Scored, BatchError> {
        let mut scored = self.score_many(vec![text]).await?;
        scored.pop().ok_or(BatchError::Closed)
    }

    /// Scores several texts; results are in input order.
    pub async fn score_many(&self, texts: Vec<String>) -> Result<Vec<Scored>, BatchError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let (reply, rx) = oneshot::channel();
        self.tx
            .try_send(Job { texts, reply })
            .map_err(|e| match e {
                TrySendError::Full(_) => BatchError::Overloaded,
                TrySendError::Disconnected(_) => BatchError::Closed,
            })?;
        rx.await.map_err(|_| BatchError::Closed)?
    }

    /// Uses `classifier` for batches started from now on; returns the previous one.
    pub fn swap(&self, classifier: Arc<dyn Classifier>) -> Arc<dyn Classifier> {
        let mut current = self.current.write().unwrap_or_else(PoisonError::into_inner);
        std::mem::replace(&mut *current, with_id(classifier)).0
    }

    /// The classifier new batches go to.
    pub fn classifier(&self) -> Arc<dyn Classifier> {
        Arc::clone(
            &self
                .current
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .0,
        )
    }

    pub fn model_id(&self) -> Arc<str> {
        Arc::clone(
            &self
                .current
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .1,
        )
    }
}

fn with_id(classifier: Arc<dyn Classifier>) -> Current {
    let id: Arc<str> = classifier.model_id().into();
    (classifier, id)
}

struct Worker {
    rx: Arc<Mutex<Receiver<Job>>>,
    current: Arc<RwLock<Current>>,
    batch_size: usize,
    batch_wait: Duration,
}

impl Worker {
    fn run(self) {
        while let Some(jobs) = self.collect() {
            let (classifier, model_id) = self
                .current
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .clone();
            answer(jobs, classifier.as_ref(), &model_id);
        }
    }

    /// Blocks for the first job, then gathers more until the batch is full or
    /// `batch_wait` has passed since the first arrived. `None` when the queue is closed.
    fn collect(&self) -> Option<Vec<Job>> {
        // Holding the lock while gathering keeps batches whole when there are several
        // workers; the others are idle anyway until jobs arrive.
        let rx = self.rx.lock().unwrap_or_else(PoisonError::into_inner);
        let first = rx.recv().ok()?;
        let deadline = Instant::now() + self.batch_wait;
        let mut count = first.texts.len();
        let mut jobs = vec![first];
        while count < self.batch_size {
            let left = deadline.saturating_duration_since(Instant::now());
            let next = if left.is_zero() {
                rx.try_recv().ok()
            } else {
                rx.recv_timeout(left).ok()
            };
            let Some(job) = next else { break };
            count += job.texts.len();
            jobs.push(job);
        }
        Some(jobs)
    }
}

/// Scores all texts of `jobs` in one call and replies to each job with its share.
fn answer(jobs: Vec<Job>, classifier: &dyn Classifier, model_id: &Arc<str>) {
    let texts: Vec<&str> = jobs
        .iter()
        .flat_map(|j| j.texts.iter().map(String::as_str))
        .collect();
    let outcome = match catch_unwind(AssertUnwindSafe(|| classifier.score_batch(&texts))) {
        Ok(Ok(scores)) if scores.len() == texts.len() => Ok(scores),
        Ok(Ok(scores)) => Err(BatchError::Classifier(format!(
            "returned {} scores for {} texts",
            scores.len(),
            texts.len()
        ))),
        Ok(Err(e)) => Err(BatchError::Classifier(e.to_string())),
        Err(payload) => Err(BatchError::Panicked(panic_message(payload.as_ref()))),
    };
    match outcome {
        Ok(scores) => {
            let mut scores = scores.into_iter();
            for job in jobs {
                let share = scores
                    .by_ref()
                    .zip(&job.texts)
                    .map(|(scores, text)| {
                        let id = classifier.model_id_for(text);
                        Scored {
                            scores,
                            model_id: if id == &**model_id {
                                Arc::clone(model_id)
                            } else {
                                id.into()
                            },
                        }
                    })
                    .collect();
                // The caller may have given up (timeout); nothing to do then.
                let _ = job.reply.send(Ok(share));
            }
        }
        Err(e) => {
            tracing::error!(model_id = %model_id, texts = texts.len(), error = %e, "scoring batch failed");
            for job in jobs {
                let _ = job.reply.send(Err(e.clone()));
            }
        }
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scoring::classifier::ClassifierError;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Scores a text as [its length, batch size, 0…]; panics on "panic", fails on "fail".
    struct Echo {
        id: &'static str,
        calls: AtomicUsize,
    }

    impl Echo {
        fn new(id: &'static str) -> Arc<Echo> {
            Arc::new(Echo {
                id,
                calls: AtomicUsize::new(0),
            })
        }
    }

    impl Classifier for Echo {
        fn model_id(&self) -> &str {
            self.id
        }

        fn score_batch(&self, texts: &[&str]) -> Result<Vec<Scores>, ClassifierError> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            if texts.contains(&"panic") {
                panic!("test classifier panicked");
            }
            if texts.contains(&"fail") {
                return Err(ClassifierError::Inference("test failure".into()));
            }
            Ok(texts
                .iter()
                .map(|t| Scores([t.len() as f32, texts.len() as f32, 0.0, 0.0, 0.0, 0.0]))
                .collect())
        }
    }

    fn config(batch_size: usize, wait_ms: u64) -> BatcherConfig {
        BatcherConfig {
            batch_size,
            batch_wait: Duration::from_millis(wait_ms),
            workers: 1,
            queue_capacity: 1024,
        }
    }

    #[tokio::test]
    async fn concurrent_requests_get_their_own_scores() {
        let echo = Echo::new("echo");
        let batcher = Arc::new(Batcher::new(echo.clone(), config(8, 50)).expect("start"));
        let tasks: Vec<_> = (0..40)
            .map(|i| {
                let b = Arc::clone(&batcher);
                tokio::spawn(async move { (i, b.score("x".repeat(i)).await) })
            })
            .collect();
        for t in tasks {
            let (i, scored) = t.await.expect("task");
            let scored = scored.expect("scored");
            assert_eq!(scored.scores.0[0], i as f32);
            assert!(scored.scores.0[1] <= 8.0, "batch over batch_size");
            assert_eq!(&*scored.model_id, "echo");
        }
        assert!(echo.calls.load(Ordering::SeqCst) >= 5);
    }

    #[tokio::test]
    async fn score_many_keeps_input_order() {
        let batcher = Batcher::new(Echo::new("echo"), config(4, 1)).expect("start");
        let texts: Vec<String> = (0..10).map(|i| "y".repeat(i)).collect();
        let scored = batcher.score_many(texts).await.expect("scored");
        let lengths: Vec<f32> = scored.iter().map(|s| s.scores.0[0]).collect();
        assert_eq!(lengths, (0..10).map(|i| i as f32).collect::<Vec<_>>());
        assert!(
            batcher
                .score_many(Vec::new())
                .await
                .expect("empty")
                .is_empty()
        );
    }

    #[tokio::test]
    async fn panic_fails_the_batch_and_worker_survives() {
        let batcher = Batcher::new(Echo::new("echo"), config(4, 1)).expect("start");
        let err = batcher
            .score("panic".into())
            .await
            .expect_err("should fail");
        assert!(
            matches!(&err, BatchError::Panicked(m) if m.contains("test classifier panicked")),
            "{err}"
        );
        let err = batcher.score("fail".into()).await.expect_err("should fail");
        assert!(matches!(&err, BatchError::Classifier(m) if m.contains("test failure")));
        let ok = batcher
            .score("fine".into())
            .await
            .expect("worker still running");
        assert_eq!(ok.scores.0[0], 4.0);
    }

    #[tokio::test]
    async fn lone_request_completes_without_a_full_batch() {
        // batch_size far above one request: the worker must stop waiting after batch_wait.
        let batcher = Batcher::new(Echo::new("echo"), config(1000, 5)).expect("start");
        let scored = batcher.score("alone".into()).await.expect("scored");
        assert_eq!(scored.scores.0[..2], [5.0, 1.0]);
    }

    #[tokio::test]
    async fn swap_changes_model_for_new_batches() {
        let batcher = Batcher::new(Echo::new("old"), config(4, 1)).expect("start");
        assert_eq!(
            &*batcher.score("a".into()).await.expect("scored").model_id,
            "old"
        );
        let previous = batcher.swap(Echo::new("new"));
        assert_eq!(previous.model_id(), "old");
        assert_eq!(&*batcher.model_id(), "new");
        assert_eq!(
            &*batcher.score("a".into()).await.expect("scored").model_id,
            "new"
        );
    }

    #[tokio::test]
    async fn full_queue_is_overloaded_not_blocking() {
        /// Holds every batch until the test lets it go.
        struct Gate {
            entered: tokio::sync::mpsc::UnboundedSender<()>,
            release: Mutex<mpsc::Receiver<()>>,
        }
        impl Classifier for Gate {
            fn model_id(&self) -> &str {
                "gate"
            }
            fn score_batch(&self, texts: &[&str]) -> Result<Vec<Scores>, ClassifierError> {
                let _ = self.entered.send(());
                let _ = self.release.lock().expect("lock").recv();
                Ok(vec![Scores::default(); texts.len()])
            }
        }
        let (entered, mut entered_rx) = tokio::sync::mpsc::unbounded_channel();
        let (release, release_rx) = mpsc::channel();
        let gate = Arc::new(Gate {
            entered,
            release: Mutex::new(release_rx),
        });
        let config = BatcherConfig {
            queue_capacity: 1,
            ..config(1, 0)
        };
        let batcher = Arc::new(Batcher::new(gate, config).expect("start"));

        // A is being scored, B fills the one queue slot, C finds the queue full.
        let a = tokio::spawn({
            let b = Arc::clone(&batcher);
            async move { b.score("a".into()).await }
        });
        entered_rx
            .recv()
            .await
            .expect("worker entered the classifier");
        let mut b = std::pin::pin!(batcher.score("b".into()));
        std::future::poll_fn(|cx| {
            assert!(b.as_mut().poll(cx).is_pending());
            std::task::Poll::Ready(())
        })
        .await;
        assert_eq!(batcher.score("c".into()).await, Err(BatchError::Overloaded));

        release.send(()).expect("release a");
        release.send(()).expect("release b");
        assert!(a.await.expect("task").is_ok());
        assert!(b.await.is_ok());
    }
}
