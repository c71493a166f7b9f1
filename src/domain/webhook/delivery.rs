//! A delivery: one event on its way to one webhook, what its attempts
//! answered, and what follows an attempt (done, tried again later, given
//! up; the webhook deactivated).

use std::time::Duration;

use serde::Serialize;

use super::{EventType, retry_after};
use crate::domain::{DomainError, Timestamp};

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Waiting for its next attempt.
    Pending,
    Succeeded,
    /// Retried for `webhooks_retry_hours` without success (or its webhook
    /// was deactivated): waits for a retry by hand.
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
        }
    }

    pub fn parse(field: &str, raw: &str) -> Result<Self, DomainError> {
        match raw {
            "pending" => Ok(Self::Pending),
            "succeeded" => Ok(Self::Succeeded),
            "failed" => Ok(Self::Failed),
            _ => Err(DomainError::invalid(field, "must be pending, succeeded or failed")),
        }
    }
}

/// A delivery as the API shows it. Its id is its event's: each event
/// reaches a webhook once.
#[derive(Debug, Clone, Serialize)]
pub struct Delivery {
    pub id: String,
    pub event_id: String,
    pub event_type: &'static str,
    pub status: DeliveryStatus,
    pub attempts: i64,
    /// The HTTP status the last attempt was answered with.
    pub last_status_code: Option<i64>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// How long the last attempt took.
    pub latency_ms: Option<i64>,
    /// When a pending delivery is tried next.
    pub next_attempt_at: Option<Timestamp>,
    pub created_at: Timestamp,
}

/// A delivery as the worker sends it.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub seq: i64,
    pub event_id: String,
    pub event_type: EventType,
    pub body: String,
    pub attempts: i64,
    pub retry_from: Timestamp,
}

/// What an attempt was answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub status: Option<u16>,
    pub error: Option<String>,
    pub latency_ms: i64,
    pub at: Timestamp,
}

impl Attempt {
    /// A 2xx answer.
    pub fn succeeded(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

/// How long deliveries are retried, and a failing webhook kept active.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// `webhooks_retry_hours`.
    pub retry_for: Duration,
    /// `webhooks_deactivate_hours`.
    pub deactivate_after: Duration,
}

/// What follows an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    Succeeded,
    /// Tried again at this time.
    RetryAt(Timestamp),
    /// Retried long enough: failed, until retried by hand.
    GaveUp,
}

impl RetryPolicy {
    /// What follows the `attempts`-th attempt (from 1) of a delivery whose
    /// retries started at `retry_from`; `jitter` from 0 to 1.
    pub fn next(&self, attempt: &Attempt, attempts: i64, retry_from: Timestamp, jitter: f64) -> Next {
        if attempt.succeeded() {
            return Next::Succeeded;
        }
        let wait = retry_after(u32::try_from(attempts.max(1)).unwrap_or(u32::MAX), jitter);
        let at = Timestamp(attempt.at.0.saturating_add(millis(wait)));
        if at.0 > retry_from.0.saturating_add(millis(self.retry_for)) { Next::GaveUp } else { Next::RetryAt(at) }
    }

    /// Whether a webhook whose every attempt failed since `failing_since`
    /// is deactivated at `now`.
    pub fn deactivates(&self, failing_since: Timestamp, now: Timestamp) -> bool {
        now.0.saturating_sub(failing_since.0) >= millis(self.deactivate_after)
    }
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answered(status: Option<u16>, at: i64) -> Attempt {
        Attempt { status, error: None, latency_ms: 3, at: Timestamp(at) }
    }

    #[test]
    fn a_failed_attempt_is_retried_within_the_window_then_gives_up() {
        let policy = RetryPolicy { retry_for: Duration::from_secs(60), deactivate_after: Duration::from_secs(120) };
        assert_eq!(policy.next(&answered(Some(204), 0), 1, Timestamp(0), 0.5), Next::Succeeded);
        assert_eq!(policy.next(&answered(Some(500), 0), 1, Timestamp(0), 0.0), Next::RetryAt(Timestamp(4_000)));
        assert_eq!(policy.next(&answered(None, 0), 2, Timestamp(0), 0.0), Next::RetryAt(Timestamp(8_000)));
        assert_eq!(policy.next(&answered(Some(302), 50_000), 4, Timestamp(0), 0.0), Next::GaveUp);
        // A retry by hand starts a new window.
        assert_eq!(
            policy.next(&answered(Some(410), 50_000), 4, Timestamp(45_000), 0.0),
            Next::RetryAt(Timestamp(82_000))
        );
        assert!(!policy.deactivates(Timestamp(0), Timestamp(119_999)));
        assert!(policy.deactivates(Timestamp(0), Timestamp(120_000)));
        assert_eq!(DeliveryStatus::parse("status", "failed").unwrap(), DeliveryStatus::Failed);
        assert!(DeliveryStatus::parse("status", "done").is_err());
    }
}
