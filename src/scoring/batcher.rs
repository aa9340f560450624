//! Dynamic batching in front of a [`Classifier`]: async callers submit texts, blocking
//! worker threads (inference is CPU-bound, so not tokio tasks) collect up to `batch_size`
//! texts — waiting at most `batch_wait` after the first — and score them in one call.
//!
//! Each model has its own lane (queue and workers), so a slow model for some languages
//! does not hold up the texts of a fast one; a job whose caller has stopped waiting is
//! dropped unscored. A panicking or failing classifier fails only the requests of that
//! batch; the worker keeps serving. The classifier can be swapped at run time (model reload); every result
//! carries the model id of the classifier that produced it.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use crate::domain::Scores;

use super::classifier::Classifier;
use crate::config::ModelConfig;
use crate::domain::Language;

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
    /// Longest a text may be expected to wait for its scores (the lane's unanswered text,
    /// its own included, × the lane's measured time per byte); a text that would wait
    /// longer gets `Overloaded` at once rather than a timeout later. `None`: no limit but
    /// `queue_capacity`.
    pub max_queue_wait: Option<Duration>,
}

impl From<&ModelConfig> for BatcherConfig {
    fn from(m: &ModelConfig) -> Self {
        BatcherConfig {
            batch_size: m.batch_size.max(1),
            batch_wait: Duration::from_millis(m.batch_wait_ms),
            // Batches of one model run side by side, one per worker (`model.sessions`:
            // concurrent runs on one ONNX Runtime session; the BiLSTM scores any number
            // at once).
            workers: m.sessions.max(1),
            queue_capacity: m.batch_size.max(1) * 64,
            // Half the scoring budget: the rest is for the batch being scored when the
            // text arrives and for a counterfactual pass.
            max_queue_wait: Some(Duration::from_millis(m.timeout_ms / 2)),
        }
    }
}

/// The classifier in use, with its id ready to hand out.
type Current = (Arc<dyn Classifier>, Arc<str>);

struct Job {
    texts: Vec<String>,
    /// The texts' languages when the caller knows them (it detected them already, or was
    /// told); otherwise a model chosen per language detects them.
    languages: Option<Vec<Option<Language>>>,
    /// What scoring `texts` costs ([`Classifier::cost`]): what the job adds to its lane's
    /// load.
    bytes: usize,
    reply: oneshot::Sender<Result<Vec<Scored>, BatchError>>,
}

/// One queue and its workers per model: texts for a slow model (a transformer for some
/// languages) never wait behind, or hold up, texts for a fast one.
struct Lane {
    model_id: Arc<str>,
    tx: SyncSender<Job>,
    load: Arc<LaneLoad>,
}

/// What a lane has to do and how fast it does it. Counted in bytes of text, not texts: a
/// transformer's time grows with the length of the comment (9 ms to 60 ms here).
struct LaneLoad {
    /// Bytes submitted and not yet answered (queued or being scored).
    unanswered: AtomicUsize,
    /// Moving average of a worker's wall time per byte, in picoseconds (0 until the
    /// first batch).
    picos_per_byte: AtomicU64,
    /// Workers scoring this lane's batches side by side (at least 1).
    workers: usize,
}

impl LaneLoad {
    /// How long a job of `bytes` can expect to wait for its scores.
    fn expected_wait(&self, bytes: usize) -> Duration {
        let ahead = (self.unanswered.load(Ordering::Relaxed) + bytes) as u128;
        // Several workers drain the queue together: each takes its own batch.
        let picos = ahead * u128::from(self.picos_per_byte.load(Ordering::Relaxed))
            / self.workers.max(1) as u128;
        Duration::from_nanos((picos / 1000).min(u128::from(u64::MAX)) as u64)
    }

    fn record(&self, bytes: usize, took: Duration) {
        let sample =
            (took.as_nanos() * 1000 / bytes.max(1) as u128).min(u128::from(u64::MAX)) as u64;
        let old = self.picos_per_byte.load(Ordering::Relaxed);
        let new = if old == 0 {
            sample
        } else {
            old / 5 * 4 + sample / 5
        };
        self.picos_per_byte.store(new, Ordering::Relaxed);
    }
}

pub struct Batcher {
    lanes: Mutex<Vec<Lane>>,
    current: Arc<RwLock<Current>>,
    config: BatcherConfig,
}

impl Batcher {
    /// Starts a lane (queue and worker threads) for each model of `classifier`. Workers
    /// stop when their lane is dropped (the `Batcher`, or a swap to other models) and
    /// their queue has drained.
    pub fn new(classifier: Arc<dyn Classifier>, config: BatcherConfig) -> std::io::Result<Self> {
        let ids: Vec<String> = classifier
            .model_ids()
            .iter()
            .map(|s| s.to_string())
            .collect();
        let batcher = Batcher {
            lanes: Mutex::new(Vec::new()),
            current: Arc::new(RwLock::new(with_id(classifier))),
            config,
        };
        for id in ids {
            batcher.lane(&id)?;
        }
        Ok(batcher)
    }

    /// The lane for `model_id`, started if it is the first text for it.
    fn lane(&self, model_id: &str) -> std::io::Result<(SyncSender<Job>, Arc<LaneLoad>)> {
        let mut lanes = self.lanes.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(lane) = lanes.iter().find(|l| &*l.model_id == model_id) {
            return Ok((lane.tx.clone(), Arc::clone(&lane.load)));
        }
        let (tx, rx) = mpsc::sync_channel(self.config.queue_capacity.max(1));
        let rx = Arc::new(Mutex::new(rx));
        let load = Arc::new(LaneLoad {
            unanswered: AtomicUsize::new(0),
            picos_per_byte: AtomicU64::new(0),
            workers: self.config.workers.max(1),
        });
        for n in 0..self.config.workers.max(1) {
            let worker = Worker {
                rx: Arc::clone(&rx),
                current: Arc::clone(&self.current),
                load: Arc::clone(&load),
                batch_size: self.config.batch_size.max(1),
                batch_wait: self.config.batch_wait,
            };
            std::thread::Builder::new()
                .name(format!("modgate-scoring-{}-{n}", lanes.len()))
                .spawn(move || worker.run())?;
        }
        tracing::debug!(model_id, lane = lanes.len(), "scoring lane started");
        lanes.push(Lane {
            model_id: model_id.into(),
            tx: tx.clone(),
            load: Arc::clone(&load),
        });
        Ok((tx, load))
    }

    /// Queues `texts` on the lane for `model_id`, unless they would wait longer than
    /// `limit` there.
    fn submit(
        &self,
        model_id: &str,
        texts: Vec<String>,
        languages: Option<Vec<Option<Language>>>,
        bytes: usize,
        limit: Option<Duration>,
    ) -> Result<Answer, BatchError> {
        let (tx, load) = self.lane(model_id).map_err(|_| BatchError::Closed)?;
        // An idle lane takes any job: the limit is for waiting behind others.
        if let Some(limit) = limit
            && load.unanswered.load(Ordering::Relaxed) > 0
            && load.expected_wait(bytes) > limit
        {
            return Err(BatchError::Overloaded);
        }
        let (reply, rx) = oneshot::channel();
        load.unanswered.fetch_add(bytes, Ordering::Relaxed);
        let job = Job {
            texts,
            languages,
            bytes,
            reply,
        };
        tx.try_send(job).map_err(|e| {
            load.unanswered.fetch_sub(bytes, Ordering::Relaxed);
            match e {
                TrySendError::Full(_) => BatchError::Overloaded,
                TrySendError::Disconnected(_) => BatchError::Closed,
            }
        })?;
        Ok(rx)
    }

    /// Scores one text.
    pub async fn score(&self, text: String) -> Result<Scored, BatchError> {
        let mut scored = self.score_many(vec![text]).await?;
        scored.pop().ok_or(BatchError::Closed)
    }

    /// Scores several texts; results are in input order. Texts for different models go to
    /// their lanes as separate jobs.
    pub async fn score_many(&self, texts: Vec<String>) -> Result<Vec<Scored>, BatchError> {
        self.score_many_within(texts, self.config.max_queue_wait)
            .await
    }

    /// [`Batcher::score_many`] for a caller with its own budget: `Overloaded` at once if
    /// the texts can expect to wait longer than `max_wait` (or the configured limit).
    pub async fn score_many_within(
        &self,
        texts: Vec<String>,
        max_wait: Option<Duration>,
    ) -> Result<Vec<Scored>, BatchError> {
        self.score_texts(texts, None, max_wait).await
    }

    /// [`Batcher::score_many_within`] for texts whose languages the caller knows (one per
    /// text): a model chosen per language goes by them instead of detecting its own.
    pub async fn score_many_in(
        &self,
        texts: Vec<String>,
        languages: Vec<Option<Language>>,
        max_wait: Option<Duration>,
    ) -> Result<Vec<Scored>, BatchError> {
        debug_assert_eq!(texts.len(), languages.len());
        self.score_texts(texts, Some(languages), max_wait).await
    }

    async fn score_texts(
        &self,
        texts: Vec<String>,
        mut languages: Option<Vec<Option<Language>>>,
        max_wait: Option<Duration>,
    ) -> Result<Vec<Scored>, BatchError> {
        let limit = match (max_wait, self.config.max_queue_wait) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let classifier = self.classifier();
        // (lane, positions of its texts in `texts`)
        let mut groups: Vec<(&str, Vec<usize>)> = Vec::new();
        for (i, text) in texts.iter().enumerate() {
            let id = match &languages {
                Some(l) => classifier.model_id_in(l[i]),
                None => classifier.model_id_for(text),
            };
            match groups.iter_mut().find(|(g, _)| *g == id) {
                Some((_, members)) => members.push(i),
                None => groups.push((id, vec![i])),
            }
        }
        let costs: Vec<usize> = texts.iter().map(|t| classifier.cost(t)).collect();
        if let [(id, _)] = groups.as_slice() {
            let bytes = costs.iter().sum();
            return self
                .submit(id, texts, languages, bytes, limit)?
                .await
                .map_err(|_| BatchError::Closed)?;
        }
        // Every job is queued before the first answer is awaited.
        let mut texts: Vec<Option<String>> = texts.into_iter().map(Some).collect();
        let mut pending = Vec::with_capacity(groups.len());
        for (id, members) in &groups {
            let part = members.iter().filter_map(|&i| texts[i].take()).collect();
            let part_languages = languages
                .as_mut()
                .map(|l| members.iter().map(|&i| l[i]).collect());
            let bytes = members.iter().map(|&i| costs[i]).sum();
            pending.push(self.submit(id, part, part_languages, bytes, limit)?);
        }
        let mut out: Vec<Option<Scored>> = vec![None; texts.len()];
        for ((_, members), rx) in groups.iter().zip(pending) {
            let scored = rx.await.map_err(|_| BatchError::Closed)??;
            for (&i, s) in members.iter().zip(scored) {
                out[i] = Some(s);
            }
        }
        out.into_iter()
            .map(|s| s.ok_or(BatchError::Closed))
            .collect()
    }

    /// Per model (lane): how long a text joining its queue now can expect to wait.
    pub fn expected_waits(&self) -> Vec<(Arc<str>, Duration)> {
        let lanes = self.lanes.lock().unwrap_or_else(PoisonError::into_inner);
        lanes
            .iter()
            .map(|l| (Arc::clone(&l.model_id), l.load.expected_wait(0)))
            .collect()
    }

    /// Uses `classifier` for batches started from now on; returns the previous one.
    /// The lanes of models no longer in use are closed; those of new ones start.
    pub fn swap(&self, classifier: Arc<dyn Classifier>) -> Arc<dyn Classifier> {
        let ids: Vec<String> = classifier
            .model_ids()
            .iter()
            .map(|s| s.to_string())
            .collect();
        let previous = {
            let mut current = self.current.write().unwrap_or_else(PoisonError::into_inner);
            std::mem::replace(&mut *current, with_id(classifier)).0
        };
        self.lanes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|lane| ids.iter().any(|id| *id == *lane.model_id));
        for id in ids {
            if let Err(e) = self.lane(&id) {
                tracing::error!(model_id = %id, error = %e, "cannot start a scoring lane");
            }
        }
        previous
    }

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

type Answer = oneshot::Receiver<Result<Vec<Scored>, BatchError>>;

fn with_id(classifier: Arc<dyn Classifier>) -> Current {
    let id: Arc<str> = classifier.model_id().into();
    (classifier, id)
}

struct Worker {
    rx: Arc<Mutex<Receiver<Job>>>,
    current: Arc<RwLock<Current>>,
    load: Arc<LaneLoad>,
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
            let bytes = jobs.iter().map(|j| j.bytes).sum();
            let started = Instant::now();
            // `answer` catches the classifier's panics; this one is for the rest (a reply
            // not sent is an error for its caller), so the lane's count stays right.
            let answered = catch_unwind(AssertUnwindSafe(|| {
                answer(jobs, classifier.as_ref(), &model_id)
            }));
            if matches!(answered, Ok(true)) {
                self.load.record(bytes, started.elapsed());
            }
            self.load.unanswered.fetch_sub(bytes, Ordering::Relaxed);
        }
    }

    /// Blocks for the first job, then gathers more until the batch is full or
    /// `batch_wait` has passed since the first arrived. `None` when the queue is closed.
    fn collect(&self) -> Option<Vec<Job>> {
        // Holding the lock while gathering keeps batches whole when there are several
        // workers; the others are idle anyway until jobs arrive.
        let rx = self.rx.lock().unwrap_or_else(PoisonError::into_inner);
        // A caller that gave up (its scoring budget ran out while it queued) is not
        // scored: under overload that work would only delay the callers still waiting.
        let first = loop {
            let job = rx.recv().ok()?;
            if !job.reply.is_closed() {
                break job;
            }
            self.load.unanswered.fetch_sub(job.bytes, Ordering::Relaxed);
        };
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
            if job.reply.is_closed() {
                self.load.unanswered.fetch_sub(job.bytes, Ordering::Relaxed);
                continue;
            }
            count += job.texts.len();
            jobs.push(job);
        }
        Some(jobs)
    }
}

/// Scores a batch and sends every job its share; `true` when the classifier succeeded.
fn answer(jobs: Vec<Job>, classifier: &dyn Classifier, model_id: &Arc<str>) -> bool {
    let texts: Vec<&str> = jobs
        .iter()
        .flat_map(|j| j.texts.iter().map(String::as_str))
        .collect();
    // Known languages for every text when any job brought them (the others detected).
    let languages: Option<Vec<Option<Language>>> =
        jobs.iter().any(|j| j.languages.is_some()).then(|| {
            jobs.iter()
                .flat_map(|j| match &j.languages {
                    Some(l) => l.clone(),
                    None => j.texts.iter().map(|t| super::language::detect(t)).collect(),
                })
                .collect()
        });
    let outcome = match catch_unwind(AssertUnwindSafe(|| match &languages {
        Some(l) => classifier.score_batch_in(&texts, l),
        None => classifier.score_batch(&texts),
    })) {
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
                    .take(job.texts.len())
                    .zip(job.texts.iter().enumerate())
                    .map(|(scores, (i, text))| {
                        let id = match &job.languages {
                            Some(l) => classifier.model_id_in(l[i]),
                            None => classifier.model_id_for(text),
                        };
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
            true
        }
        Err(e) => {
            tracing::error!(model_id = %model_id, texts = texts.len(), error = %e, "scoring batch failed");
            for job in jobs {
                let _ = job.reply.send(Err(e.clone()));
            }
            false
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
            max_queue_wait: None,
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
        // The old model's lane is closed, the new one's started.
        let lanes: Vec<Arc<str>> = batcher
            .expected_waits()
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        assert_eq!(lanes, [Arc::from("new")]);
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

    /// Two models behind one classifier: texts starting with "slow" go to a model that
    /// holds each batch until the test lets it go; every text scored is recorded.
    struct TwoModels {
        entered: tokio::sync::mpsc::UnboundedSender<()>,
        release: Mutex<mpsc::Receiver<()>>,
        seen: Mutex<Vec<String>>,
    }

    impl Classifier for TwoModels {
        fn model_id(&self) -> &str {
            "fast; slow"
        }
        fn model_id_for(&self, text: &str) -> &str {
            if text.starts_with("slow") {
                "slow"
            } else {
                "fast"
            }
        }
        fn model_ids(&self) -> Vec<&str> {
            vec!["fast", "slow"]
        }
        fn score_batch(&self, texts: &[&str]) -> Result<Vec<Scores>, ClassifierError> {
            let mut seen = texts.iter().map(|t| t.to_string()).collect();
            self.seen.lock().expect("lock").append(&mut seen);
            if texts.iter().any(|t| t.starts_with("slow")) {
                let _ = self.entered.send(());
                let _ = self.release.lock().expect("lock").recv();
            }
            Ok(texts
                .iter()
                .map(|t| Scores([t.len() as f32, 0.0, 0.0, 0.0, 0.0, 0.0]))
                .collect())
        }
    }

    #[tokio::test]
    async fn a_busy_slow_model_does_not_hold_up_the_fast_one_nor_score_abandoned_texts() {
        let (entered, mut entered_rx) = tokio::sync::mpsc::unbounded_channel();
        let (release, release_rx) = mpsc::channel();
        let models = Arc::new(TwoModels {
            entered,
            release: Mutex::new(release_rx),
            seen: Mutex::new(Vec::new()),
        });
        let batcher = Arc::new(Batcher::new(models.clone(), config(8, 0)).expect("start"));

        let slow = tokio::spawn({
            let b = Arc::clone(&batcher);
            async move { b.score("slow one".into()).await }
        });
        entered_rx.recv().await.expect("the slow model is busy");
        // The fast lane answers while the slow model is still held.
        let fast = batcher.score("fast".into()).await.expect("fast lane");
        assert_eq!((&*fast.model_id, fast.scores.0[0]), ("fast", 4.0));
        // A caller that stops waiting (its budget ran out) leaves its text unscored.
        let gave_up = tokio::time::timeout(
            Duration::from_millis(20),
            batcher.score("slow abandoned".into()),
        )
        .await;
        assert!(gave_up.is_err(), "the slow lane should still be busy");

        release.send(()).expect("release the first batch");
        assert_eq!(
            &*slow.await.expect("task").expect("scored").model_id,
            "slow"
        );
        release.send(()).expect("release the next batch");
        let mixed = batcher
            .score_many(vec!["fast a".into(), "slow b".into(), "fast cc".into()])
            .await
            .expect("mixed");
        let got: Vec<(&str, f32)> = mixed
            .iter()
            .map(|s| (&*s.model_id, s.scores.0[0]))
            .collect();
        assert_eq!(got, [("fast", 6.0), ("slow", 6.0), ("fast", 7.0)]);

        let seen = models.seen.lock().expect("lock").clone();
        assert!(!seen.contains(&"slow abandoned".to_string()), "{seen:?}");
        for text in ["slow one", "fast", "fast a", "slow b", "fast cc"] {
            assert!(
                seen.contains(&text.to_string()),
                "{text} not scored: {seen:?}"
            );
        }
    }

    #[tokio::test]
    async fn a_text_that_would_queue_past_the_limit_is_refused_at_once() {
        /// At least 60 ms per text; holds a batch with "hold" until the test lets it go.
        struct Slow {
            entered: tokio::sync::mpsc::UnboundedSender<()>,
            release: Mutex<mpsc::Receiver<()>>,
        }
        impl Classifier for Slow {
            fn model_id(&self) -> &str {
                "slow"
            }
            fn score_batch(&self, texts: &[&str]) -> Result<Vec<Scores>, ClassifierError> {
                std::thread::sleep(Duration::from_millis(60) * texts.len() as u32);
                if texts.contains(&"hold") {
                    let _ = self.entered.send(());
                    let _ = self.release.lock().expect("lock").recv();
                }
                Ok(vec![Scores::default(); texts.len()])
            }
        }
        let (entered, mut entered_rx) = tokio::sync::mpsc::unbounded_channel();
        let (release, release_rx) = mpsc::channel();
        let slow = Arc::new(Slow {
            entered,
            release: Mutex::new(release_rx),
        });
        let config = BatcherConfig {
            max_queue_wait: Some(Duration::from_secs(1)),
            ..config(1, 0)
        };
        let batcher = Arc::new(Batcher::new(slow, config).expect("start"));
        // The lane learns its time per byte from a first batch: ≥ 60 ms for one text,
        // which costs its 5 bytes and the fixed 128 (`Classifier::cost`).
        batcher.score("first".into()).await.expect("scored");

        let held = tokio::spawn({
            let b = Arc::clone(&batcher);
            async move { b.score("hold".into()).await }
        });
        entered_rx.recv().await.expect("the lane is busy");
        // "hold" and "queued", 266: ≥ 120 ms expected, well under the limit, so it waits
        // its turn.
        let queued = tokio::spawn({
            let b = Arc::clone(&batcher);
            async move { b.score("queued".into()).await }
        });
        let load = Arc::clone(&batcher.lanes.lock().expect("lock")[0].load);
        while load.unanswered.load(Ordering::Relaxed)
            < "hold".len() + "queued".len() + 2 * crate::scoring::classifier::FIXED_TEXT_COST
        {
            tokio::task::yield_now().await;
        }
        // A caller with a budget of its own is held to it: ≥ 180 ms expected > 100 ms.
        let short = batcher
            .score_many_within(vec!["y".into()], Some(Duration::from_millis(100)))
            .await;
        assert_eq!(short, Err(BatchError::Overloaded));
        // 2,000 more bytes would wait ≥ 2 s: refused now, not timed out later.
        assert_eq!(
            batcher.score("x".repeat(2000)).await,
            Err(BatchError::Overloaded)
        );

        release.send(()).expect("release");
        assert!(held.await.expect("task").is_ok());
        assert!(queued.await.expect("task").is_ok());
    }
}
