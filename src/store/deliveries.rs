//! What the delivery worker reads and writes: the webhooks with deliveries
//! due, found by their state (never by "ids after the last one seen": ids
//! do not commit in order on PostgreSQL); a webhook's due deliveries in
//! order; the outcome of a round of attempts, with the webhook's health
//! and its deactivation; the pruning of old successes; the backlog for
//! `/metrics`.

use super::audit;
use crate::{
    domain::{
        Timestamp,
        audit::{Action, Actor, AuditEntry},
        ids::Uuid,
        webhook::{Attempt, EventType, Format, Next, Outgoing, RetryPolicy},
    },
    params,
    store::{StoreError, sql::Conn},
};

/// A webhook as its deliveries are sent: where, how, and the secrets that sign.
#[derive(Debug, Clone)]
pub struct Sender {
    pub id: Uuid,
    pub account_id: String,
    pub url: String,
    pub format: Format,
    /// `whsec_…`: the current secret, then the one before a rotation while it still signs.
    pub secrets: Vec<String>,
}

/// One attempt's outcome, for [`record`].
#[derive(Debug, Clone)]
pub struct Outcome {
    pub seq: i64,
    pub attempt: Attempt,
    pub next: Next,
}

/// The webhooks, active and not held, with a delivery due at `now`.
pub(super) async fn due_webhooks(c: &mut impl Conn, now: Timestamp) -> Result<Vec<Uuid>, StoreError> {
    let rows = c
        .query(
            "SELECT DISTINCT d.webhook_id FROM webhook_deliveries d
             JOIN webhooks w ON w.id = d.webhook_id AND w.active = 1
                             AND (w.held_until IS NULL OR w.held_until <= $1)
             WHERE d.status = 'pending' AND d.next_attempt_at <= $1",
            params![now],
        )
        .await?;
    rows.iter().map(|r| r.get(0)).collect()
}

/// The webhook `id`, if it is active.
pub(super) async fn sender(c: &mut impl Conn, id: &Uuid, now: Timestamp) -> Result<Option<Sender>, StoreError> {
    let row = c
        .query_opt(
            "SELECT account_id, url, format, secret, previous_secret, previous_secret_until
             FROM webhooks WHERE id = $1 AND active = 1",
            params![id],
        )
        .await?;
    let Some(row) = row else { return Ok(None) };
    let format: String = row.get(2)?;
    let mut secrets = vec![row.get::<String>(3)?];
    let previous: Option<String> = row.get(4)?;
    let until: Option<Timestamp> = row.get(5)?;
    if let (Some(previous), Some(until)) = (previous, until)
        && until > now
    {
        secrets.push(previous);
    }
    Ok(Some(Sender {
        id: id.clone(),
        account_id: row.get(0)?,
        url: row.get(1)?,
        format: Format::parse("format", &format).map_err(StoreError::other)?,
        secrets,
    }))
}

/// Up to `limit` deliveries of `webhook` due at `now`, in the order their
/// events were recorded.
pub(super) async fn due(
    c: &mut impl Conn,
    webhook: &Uuid,
    now: Timestamp,
    limit: i64,
) -> Result<Vec<Outgoing>, StoreError> {
    let rows = c
        .query(
            "SELECT seq, event_id, event_type, body, attempts, retry_from FROM webhook_deliveries
             WHERE webhook_id = $1 AND status = 'pending' AND next_attempt_at <= $2
             ORDER BY seq LIMIT $3",
            params![webhook, now, limit],
        )
        .await?;
    rows.iter()
        .map(|r| {
            let event_type: String = r.get(2)?;
            Ok(Outgoing {
                seq: r.get(0)?,
                event_id: r.get(1)?,
                event_type: EventType::parse("event_type", &event_type).map_err(StoreError::other)?,
                body: r.get(3)?,
                attempts: r.get(4)?,
                retry_from: r.get(5)?,
            })
        })
        .collect()
}

/// Writes what a round of attempts to `webhook` answered, and the
/// webhook's health; holds it until `hold` (its receiver keeps failing:
/// nothing is sent to it before then); deactivates it when every attempt failed for
/// the policy's time, failing its pending deliveries. Whether it deactivated.
pub(super) async fn record(
    c: &mut impl Conn,
    webhook: &Uuid,
    outcomes: &[Outcome],
    hold: Option<Timestamp>,
    policy: &RetryPolicy,
    now: Timestamp,
) -> Result<bool, StoreError> {
    for o in outcomes {
        let (status, next_at) = match o.next {
            Next::Succeeded => ("succeeded", o.attempt.at),
            Next::RetryAt(at) => ("pending", at),
            Next::GaveUp => ("failed", o.attempt.at),
        };
        c.execute_later(
            "UPDATE webhook_deliveries SET status = $2, attempts = attempts + 1, last_status = $3, last_error = $4,
                 latency_ms = $5, next_attempt_at = $6
             WHERE seq = $1 AND status = 'pending'",
            params![
                o.seq,
                status,
                o.attempt.status.map(i64::from),
                o.attempt.error.as_deref(),
                o.attempt.latency_ms,
                next_at
            ],
        )
        .await?;
    }
    let last_success = outcomes.iter().rposition(|o| o.attempt.succeeded());
    let failures_after = &outcomes[last_success.map_or(0, |i| i + 1)..];
    let first_failure = failures_after.first().map(|o| o.attempt.at);
    let last_failure = outcomes.iter().rev().find(|o| !o.attempt.succeeded()).map(|o| o.attempt.at);
    let row = c
        .query_opt(
            "UPDATE webhooks SET
                 last_success_at = COALESCE($2, last_success_at),
                 last_failure_at = COALESCE($3, last_failure_at),
                 failing_since = CASE WHEN $2 IS NOT NULL THEN $4 ELSE COALESCE(failing_since, $4) END,
                 held_until = $5
             WHERE id = $1 RETURNING account_id, failing_since, active",
            params![webhook, last_success.map(|i| outcomes[i].attempt.at), last_failure, first_failure, hold],
        )
        .await?;
    let Some(row) = row else { return Ok(false) };
    let (account, failing_since, active): (String, Option<Timestamp>, i64) = (row.get(0)?, row.get(1)?, row.get(2)?);
    match failing_since {
        Some(since) if active == 1 && policy.deactivates(since, now) => {
            deactivate(c, &account, webhook, now).await?;
            Ok(true)
        }
        _ => Ok(false),
    }
}

async fn deactivate(c: &mut impl Conn, account: &str, webhook: &Uuid, now: Timestamp) -> Result<(), StoreError> {
    c.execute("UPDATE webhooks SET active = 0, deactivated_at = $2 WHERE id = $1", params![webhook, now]).await?;
    c.execute(
        "UPDATE webhook_deliveries SET status = 'failed', last_error = $2
         WHERE webhook_id = $1 AND status = 'pending'",
        params![webhook, "the webhook was deactivated: its receiver failed for too long"],
    )
    .await?;
    let entry = AuditEntry::new(account, &Actor::job("webhooks"), Action::WebhookDeactivated, webhook, None, None, now);
    audit::append(c, &entry).await
}

/// Deletes up to `limit` deliveries that succeeded before `cut`; how many.
pub(super) async fn prune(c: &mut impl Conn, cut: Timestamp, limit: i64) -> Result<u64, StoreError> {
    c.execute(
        "DELETE FROM webhook_deliveries WHERE seq IN (
             SELECT seq FROM webhook_deliveries WHERE status = 'succeeded' AND next_attempt_at < $1 LIMIT $2)",
        params![cut, limit],
    )
    .await
}

/// The deliveries waiting, and when the oldest of them was recorded.
pub(super) async fn backlog(c: &mut impl Conn) -> Result<(i64, Option<Timestamp>), StoreError> {
    let row = c
        .query_opt("SELECT COUNT(*), MIN(created_at) FROM webhook_deliveries WHERE status = 'pending'", &[])
        .await?
        .ok_or(StoreError::other("an aggregate returned no row"))?;
    Ok((row.get(0)?, row.get(1)?))
}

/// What a Slack line names: the bot, and the rated answer of a thumb.
pub(super) async fn slack_context(
    c: &mut impl Conn,
    account: &str,
    bot: Option<&str>,
    message: Option<&str>,
) -> Result<(Option<String>, Option<String>), StoreError> {
    let name = match bot {
        Some(bot) => c
            .query_opt("SELECT name FROM bots WHERE account_id = $1 AND id = $2", params![account, bot])
            .await?
            .map(|r| r.get(0))
            .transpose()?,
        None => None,
    };
    let answer = match message {
        Some(message) => c
            .query_opt("SELECT content FROM messages WHERE account_id = $1 AND id = $2", params![account, message])
            .await?
            .map(|r| r.get(0))
            .transpose()?,
        None => None,
    };
    Ok((name, answer))
}
