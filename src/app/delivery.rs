//! The delivery worker (SPEC §13). Every `poll`, it asks the store which
//! active webhooks have deliveries due (by their state) and starts a task
//! for each one it is not already sending to. A task takes the webhook's
//! lease (one instance at a time sends a webhook's queue, so commit order
//! holds), then sends its due deliveries in order, signed afresh for each
//! attempt, and writes their outcomes a round at a time. A receiver that
//! fails three times in a row ends the round, and the webhook is held until
//! its next retry is due, so that a dead receiver is not hammered and never
//! delays another's (a retry by hand is sent at once).
//! Succeeded deliveries older than `webhooks_keep_days` are pruned.

use std::{
    collections::HashSet,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use super::{App, AppError, WebhookOptions, lease::Lease};
use crate::{
    domain::{
        Timestamp,
        ids::Uuid,
        webhook::{Attempt, Format, Next, Outgoing, WebhookSecret, WebhookUrl, signature_header, slack_body},
    },
    outbound::{self, Receivers},
    store::{Outcome, Sender, Store},
};

/// How long a webhook's lease lasts unrenewed: another instance takes a
/// dead one's webhooks over within it.
const LEASE_FOR: Duration = Duration::from_secs(30);
/// Deliveries read and written a round.
const ROUND: i64 = 100;
/// The longest a round sends before its outcomes are written.
const ROUND_TIME: Duration = Duration::from_secs(1);
/// Failures in a row that end a round.
const FAILURES_IN_A_ROW: usize = 3;
/// Succeeded deliveries pruned a transaction.
const PRUNE_BATCH: i64 = 5_000;

/// Attempts since the process started, by outcome (for `/metrics`).
#[derive(Debug, Default)]
pub struct DeliveryCounts {
    pub succeeded: AtomicU64,
    /// Failed, to be retried.
    pub retried: AtomicU64,
    /// Failed, and retried long enough: given up.
    pub failed: AtomicU64,
}

/// What `/metrics` shows of deliveries.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DeliveryFigures {
    pub succeeded: u64,
    pub retried: u64,
    pub failed: u64,
    pub pending: i64,
    /// Seconds since the oldest pending delivery was recorded.
    pub oldest_pending_seconds: f64,
}

struct Worker {
    holder: String,
    receivers: Receivers,
    options: Arc<WebhookOptions>,
    counts: Arc<DeliveryCounts>,
    /// Webhooks a task of this instance is sending to.
    running: Mutex<HashSet<Uuid>>,
}

impl App {
    /// Delivers webhooks every `poll` while the application lives, and
    /// prunes old successes.
    pub fn keep_delivering(&self, poll: Duration) -> anyhow::Result<()> {
        let worker = Arc::new(Worker {
            holder: Uuid::new().to_string(),
            receivers: Receivers::new(self.webhooks.allow_private, outbound::TIMEOUT)?,
            options: Arc::clone(&self.webhooks),
            counts: Arc::clone(&self.delivery_counts),
            running: Mutex::default(),
        });
        crate::background::every(poll, Arc::downgrade(&self.store), move |store| {
            let worker = Arc::clone(&worker);
            async move {
                if let Err(e) = worker.start_due(&store).await {
                    tracing::warn!(error = %crate::error_chain::Chain(&e), "cannot look for due webhook deliveries");
                }
            }
        });
        let keep = self.webhooks.keep;
        let every = (keep / 4).clamp(Duration::from_secs(1), Duration::from_secs(60));
        crate::background::every(every, Arc::downgrade(&self.store), move |store| async move {
            if let Err(e) = prune(&*store, keep).await {
                tracing::warn!(error = %crate::error_chain::Chain(&e), "cannot prune webhook deliveries");
            }
        });
        Ok(())
    }

    /// Deliveries by outcome since the process started, and the backlog.
    pub async fn delivery_figures(&self) -> Result<DeliveryFigures, AppError> {
        let (pending, oldest) = self.store.delivery_backlog().await?;
        #[allow(clippy::cast_precision_loss)]
        let oldest_pending_seconds = oldest.map_or(0.0, |o| (Timestamp::now().0 - o.0).max(0) as f64 / 1000.0);
        Ok(DeliveryFigures {
            succeeded: self.delivery_counts.succeeded.load(Ordering::Relaxed),
            retried: self.delivery_counts.retried.load(Ordering::Relaxed),
            failed: self.delivery_counts.failed.load(Ordering::Relaxed),
            pending,
            oldest_pending_seconds,
        })
    }
}

impl Worker {
    /// Starts a task for each webhook with deliveries due that this instance
    /// does not send to already.
    async fn start_due(self: &Arc<Self>, store: &Arc<dyn Store>) -> Result<(), AppError> {
        let due = store.due_webhooks(Timestamp::now()).await?;
        let mut running = self.running.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        for id in due {
            if !running.insert(id.clone()) {
                continue;
            }
            let (worker, store) = (Arc::clone(self), Arc::clone(store));
            tokio::spawn(async move {
                if let Err(e) = worker.deliver(&store, &id).await {
                    tracing::warn!(webhook_id = %id, error = %crate::error_chain::Chain(&e), "a delivery round failed");
                }
                worker.running.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(&id);
            });
        }
        Ok(())
    }

    /// Sends a webhook's due deliveries, round after round, while this
    /// instance holds its lease.
    async fn deliver(&self, store: &Arc<dyn Store>, id: &Uuid) -> Result<(), AppError> {
        let Some(lease) = Lease::take(store, &format!("webhook:{id}"), &self.holder, LEASE_FOR).await? else {
            return Ok(());
        };
        let sent = self.rounds(store, id, &lease).await;
        lease.release().await?;
        sent
    }

    async fn rounds(&self, store: &Arc<dyn Store>, id: &Uuid, lease: &Lease) -> Result<(), AppError> {
        loop {
            let now = Timestamp::now();
            let Some(sender) = store.webhook_sender(id, now).await? else { return Ok(()) };
            let due = store.due_deliveries(id, now, ROUND).await?;
            if due.is_empty() {
                return Ok(());
            }
            let url = WebhookUrl::parse("url", &sender.url, self.options.allow_http);
            let mut outcomes = Vec::with_capacity(due.len());
            let mut failures = 0;
            let started = Instant::now();
            for delivery in due {
                if lease.lost() || started.elapsed() > ROUND_TIME {
                    break;
                }
                let attempt = match &url {
                    Ok(url) => self.send(&**store, &sender, url, &delivery).await,
                    Err(e) => refused(e.to_string()),
                };
                let next =
                    self.options.retry.next(&attempt, delivery.attempts + 1, delivery.retry_from, rand::random());
                let counter = match next {
                    Next::Succeeded => &self.counts.succeeded,
                    Next::RetryAt(_) => &self.counts.retried,
                    Next::GaveUp => &self.counts.failed,
                };
                counter.fetch_add(1, Ordering::Relaxed);
                failures = if attempt.succeeded() { 0 } else { failures + 1 };
                outcomes.push(Outcome { seq: delivery.seq, attempt, next });
                if failures >= FAILURES_IN_A_ROW {
                    break;
                }
            }
            // Nothing got through: the webhook waits for the earliest retry.
            let hold = if outcomes.iter().any(|o| o.attempt.succeeded()) {
                None
            } else {
                let retries =
                    outcomes.iter().filter_map(|o| if let Next::RetryAt(at) = o.next { Some(at) } else { None });
                Some(retries.min().unwrap_or(Timestamp(Timestamp::now().0 + 4_000)))
            };
            let deactivated = store.record_deliveries(id, outcomes, hold, self.options.retry, Timestamp::now()).await?;
            if deactivated {
                tracing::warn!(webhook_id = %id, "webhook deactivated: its receiver failed for too long");
                return Ok(());
            }
            if lease.lost() || hold.is_some() {
                return Ok(());
            }
        }
    }

    /// One attempt: the body in the webhook's format, signed now.
    async fn send(&self, store: &dyn Store, sender: &Sender, url: &WebhookUrl, d: &Outgoing) -> Attempt {
        let body = match sender.format {
            Format::Standard => d.body.clone(),
            Format::Slack => match slack(store, sender, &d.body, self.options.public_url.as_deref()).await {
                Ok(body) => body,
                Err(e) => return refused(format!("cannot compose the Slack line: {e}")),
            },
        };
        let secrets: Vec<WebhookSecret> =
            sender.secrets.iter().filter_map(|s| WebhookSecret::parse("secret", s).ok()).collect();
        let timestamp = Timestamp::now().0 / 1000;
        let signature = signature_header(&secrets.iter().collect::<Vec<_>>(), &d.event_id, timestamp, body.as_bytes());
        let headers = [
            ("webhook-id", d.event_id.clone()),
            ("webhook-timestamp", timestamp.to_string()),
            ("webhook-signature", signature),
        ];
        let answer = self.receivers.post(url, &headers, body.into_bytes()).await;
        Attempt {
            status: answer.status,
            error: answer.error,
            latency_ms: i64::try_from(answer.latency.as_millis()).unwrap_or(i64::MAX),
            at: Timestamp::now(),
        }
    }
}

/// An attempt that could not be made.
fn refused(error: String) -> Attempt {
    Attempt { status: None, error: Some(error), latency_ms: 0, at: Timestamp::now() }
}

/// The Slack line of a standard body: the bot's name and the rated answer
/// read from the store.
async fn slack(store: &dyn Store, sender: &Sender, body: &str, public_url: Option<&str>) -> Result<String, AppError> {
    let parsed: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
    let text = |key: &str| parsed["data"][key].as_str().map(str::to_owned);
    let rated =
        if parsed["type"].as_str().is_some_and(|t| t.starts_with("feedback.")) { text("message_id") } else { None };
    let (bot, answer) = store.slack_context(&sender.account_id, text("bot_id"), rated).await?;
    Ok(slack_body(body, bot.as_deref(), answer.as_deref(), public_url))
}

/// Deletes the deliveries that succeeded more than `keep` ago.
async fn prune(store: &dyn Store, keep: Duration) -> Result<(), AppError> {
    let cut = Timestamp(Timestamp::now().0 - i64::try_from(keep.as_millis()).unwrap_or(i64::MAX / 2));
    while store.prune_deliveries(cut, PRUNE_BATCH).await? == PRUNE_BATCH.unsigned_abs() {}
    Ok(())
}
