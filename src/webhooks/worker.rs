//! The delivery worker: fans new outbox events out to the configured endpoints, POSTs due
//! deliveries, and schedules retries with capped exponential backoff. Delivery is
//! at-least-once: a delivery interrupted by a stop is sent again after the restart, so
//! receivers deduplicate on the event id.

use std::time::{Duration, Instant};

use rand::Rng;
use tokio::sync::watch;
use tokio::task::JoinSet;

use super::signing;
use crate::app::AppState;
use crate::config::webhooks::WebhookConfig;
use crate::store::outbox::{self, AttemptResult, Due, NextStep};
use crate::store::{DbError, Store};

/// Longest sleep between checks for new events.
const POLL: Duration = Duration::from_millis(500);
/// Deliveries attempted at once.
const BATCH: i64 = 32;
/// A claimed delivery is left to its claimant this much longer than its timeout.
const CLAIM_MARGIN: time::Duration = time::Duration::seconds(5);
/// Finished events are deleted after this long.
const RETENTION: time::Duration = time::Duration::days(30);
const PRUNE_EVERY: Duration = Duration::from_secs(3600);
/// Longest error text kept per attempt.
const MAX_ERROR_CHARS: usize = 500;

/// Delay before retry number `attempt` (1 = the first retry): `initial * 2^(attempt-1)`,
/// capped at `max`.
pub fn backoff(initial: Duration, max: Duration, attempt: u32) -> Duration {
    let factor = 2u32.saturating_pow(attempt.saturating_sub(1));
    initial.saturating_mul(factor).min(max)
}

/// ±10% so endpoints that failed together are not retried in lockstep.
fn jittered(d: Duration) -> Duration {
    d.mul_f64(rand::thread_rng().gen_range(0.9..=1.1))
}

/// A running worker; [`DeliveryWorker::stop`] ends it.
pub struct DeliveryWorker {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl DeliveryWorker {
    pub fn spawn(state: AppState) -> DeliveryWorker {
        let (stop, stopped) = watch::channel(false);
        let client = reqwest::Client::builder()
            // A redirect is a misconfigured endpoint: never re-send the body elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("modgate-webhooks/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("the TLS backend initialises");
        let task = tokio::spawn(run(state, client, stopped));
        DeliveryWorker { stop, task }
    }

    /// Stop after the attempts in flight (bounded by `grace`); anything unfinished stays
    /// pending in the outbox for the next start.
    pub async fn stop(self, grace: Duration) {
        let _ = self.stop.send(true);
        let mut task = self.task;
        if tokio::time::timeout(grace, &mut task).await.is_err() {
            task.abort();
            tracing::warn!(
                "webhook worker did not stop in time; unfinished deliveries stay pending"
            );
        }
    }
}

async fn run(state: AppState, client: reqwest::Client, mut stopped: watch::Receiver<bool>) {
    let mut last_prune: Option<Instant> = None;
    loop {
        if *stopped.borrow() {
            break;
        }
        let hooks = state.live().config.webhooks.clone();
        if let Err(e) = tick(&state.store, &client, &hooks).await {
            tracing::warn!(error = %e, "webhook delivery pass failed");
        }
        if last_prune.is_none_or(|t| t.elapsed() >= PRUNE_EVERY) {
            last_prune = Some(Instant::now());
            let before = time::OffsetDateTime::now_utc() - RETENTION;
            match outbox::prune(state.store.writer(), before).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(events = n, "pruned old webhook events"),
                Err(e) => tracing::warn!(error = %e, "pruning webhook events failed"),
            }
        }
        let wait = match outbox::next_due(state.store.reader()).await {
            Ok(Some(at)) => {
                let until = at - time::OffsetDateTime::now_utc();
                Duration::try_from(until)
                    .unwrap_or(Duration::ZERO)
                    .min(POLL)
            }
            _ => POLL,
        };
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = stopped.changed() => break,
        }
    }
}

/// One pass: dispatch new events, then attempt every due delivery.
async fn tick(
    store: &Store,
    client: &reqwest::Client,
    hooks: &[WebhookConfig],
) -> Result<(), DbError> {
    let subscribers = |event_type: &str| -> Vec<String> {
        hooks
            .iter()
            .filter(|h| h.wants(event_type))
            .map(|h| h.name().to_string())
            .collect()
    };
    const DISPATCH_BATCH: i64 = 500;
    if outbox::has_undispatched(store.reader()).await? {
        while outbox::dispatch(store.writer(), subscribers, DISPATCH_BATCH).await? as i64
            == DISPATCH_BATCH
        {}
    }
    loop {
        // Claimed for longer than any attempt may take: another pass (or instance) leaves
        // them alone until then, and takes them over if this one dies mid-attempt.
        let now = time::OffsetDateTime::now_utc();
        let longest = hooks.iter().map(|h| h.timeout_ms).max().unwrap_or(0);
        let lease = time::Duration::milliseconds(longest as i64) + CLAIM_MARGIN;
        let due = outbox::claim_due(store.writer(), now, now + lease, BATCH).await?;
        let full = due.len() as i64 == BATCH;
        let mut attempts = JoinSet::new();
        for d in due {
            let hook = hooks.iter().find(|h| h.name() == d.endpoint).cloned();
            let (client, store) = (client.clone(), store.clone());
            attempts.spawn(async move { deliver(&store, &client, hook.as_ref(), d).await });
        }
        while let Some(done) = attempts.join_next().await {
            match done {
                Ok(Err(e)) => return Err(e),
                Err(e) => tracing::error!(error = %e, "webhook attempt panicked"),
                Ok(Ok(())) => {}
            }
        }
        if !full {
            return Ok(());
        }
    }
}

/// One attempt of one delivery, recorded with what happens next.
async fn deliver(
    store: &Store,
    client: &reqwest::Client,
    hook: Option<&WebhookConfig>,
    d: Due,
) -> Result<(), DbError> {
    let attempt = d.attempts + 1;
    let Some(hook) = hook else {
        let result = AttemptResult {
            status_code: None,
            error: Some(format!("endpoint `{}` is no longer configured", d.endpoint)),
            duration_ms: 0,
        };
        return outbox::record_attempt(
            store.writer(),
            d.delivery_id,
            attempt,
            &result,
            NextStep::Failed,
        )
        .await;
    };
    let started = Instant::now();
    let outcome = post(client, hook, &d, attempt).await;
    let result = AttemptResult {
        status_code: outcome.as_ref().ok().copied(),
        error: match &outcome {
            Ok(code) if (200..300).contains(code) => None,
            Ok(code) => Some(format!("endpoint answered HTTP {code}")),
            Err(e) => Some(e.clone()),
        },
        duration_ms: started.elapsed().as_millis() as i64,
    };
    let next = if result.error.is_none() {
        NextStep::Delivered
    } else if attempt >= i64::from(hook.max_attempts) {
        NextStep::Failed
    } else {
        let delay = jittered(backoff(
            Duration::from_millis(hook.retry_initial_ms),
            Duration::from_millis(hook.retry_max_ms),
            attempt as u32,
        ));
        NextStep::Retry(time::OffsetDateTime::now_utc() + delay)
    };
    match next {
        NextStep::Delivered => {
            tracing::debug!(event = %d.event_id, endpoint = %d.endpoint, "webhook delivered")
        }
        _ => tracing::warn!(
            event = %d.event_id, endpoint = %d.endpoint, attempt,
            error = result.error.as_deref().unwrap_or(""), "webhook delivery failed"
        ),
    }
    outbox::record_attempt(store.writer(), d.delivery_id, attempt, &result, next).await
}

/// POST the event; the HTTP status, or why there was none.
async fn post(
    client: &reqwest::Client,
    hook: &WebhookConfig,
    d: &Due,
    attempt: i64,
) -> Result<u16, String> {
    let timestamp = time::OffsetDateTime::now_utc().unix_timestamp();
    let signature = signing::sign(hook.secret.as_bytes(), timestamp, d.payload.as_bytes());
    let response = client
        .post(&hook.url)
        .timeout(Duration::from_millis(hook.timeout_ms))
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(signing::SIGNATURE_HEADER, signature)
        .header(signing::EVENT_HEADER, &d.event_type)
        .header(signing::DELIVERY_HEADER, &d.event_id)
        .header(signing::ATTEMPT_HEADER, attempt.to_string())
        .body(d.payload.clone())
        .send()
        .await
        .map_err(|e| describe(&e))?;
    Ok(response.status().as_u16())
}

/// The error and its causes on one line, without the URL (it may carry a token).
fn describe(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    let mut text = kind.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text.chars().take(MAX_ERROR_CHARS).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let s = Duration::from_secs;
        let delays: Vec<Duration> = (1..=8).map(|n| backoff(s(10), s(600), n)).collect();
        assert_eq!(
            delays,
            [s(10), s(20), s(40), s(80), s(160), s(320), s(600), s(600)]
        );
        assert_eq!(
            backoff(s(10), s(600), 200),
            s(600),
            "no overflow on large attempt numbers"
        );
    }
}
