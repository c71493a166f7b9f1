//! Webhooks as configured (created, listed, changed, deleted, their secret
//! rotated; each change in the audit log with the URL masked), and the
//! deliveries of one webhook as people see them (listed, retried by hand,
//! a test queued). What the delivery worker reads and writes is in
//! `deliveries.rs`.

use super::{audit, bots, outbox};
use crate::{
    domain::{
        Timestamp,
        access::Scope,
        audit::{Action, Actor, AuditEntry},
        ids::Uuid,
        page::{Cursor, Page, PageRequest},
        webhook::{
            Delivery, DeliveryStatus, Event, EventType, Format, Health, NewWebhook, Webhook, WebhookPatch,
            WebhookSecret, WebhookUrl, events_column, events_from_column,
        },
    },
    params,
    store::{
        StoreError,
        sql::{Conn, Row},
    },
};

/// How long the secret before a rotation still signs.
pub const PREVIOUS_SECRET_MS: i64 = 24 * 3600 * 1000;

const WEBHOOK_COLUMNS: &str = "w.id, w.account_id, w.url, w.description, w.events, w.bot_id, w.format, \
     w.only_negative, w.active, w.created_at, w.updated_at, w.last_success_at, w.last_failure_at, \
     w.failing_since, w.deactivated_at, \
     (SELECT COUNT(*) FROM webhook_deliveries d WHERE d.webhook_id = w.id AND d.status = 'pending'), \
     (SELECT COUNT(*) FROM webhook_deliveries d WHERE d.webhook_id = w.id AND d.status = 'failed')";

fn webhook_from(row: &Row) -> Result<Webhook, StoreError> {
    let url: String = row.get(2)?;
    let events: String = row.get(4)?;
    let format: String = row.get(6)?;
    Ok(Webhook {
        id: row.get(0)?,
        account_id: row.get(1)?,
        url: WebhookUrl::parse("url", &url, true).map(|u| u.masked()).unwrap_or_default(),
        description: row.get(3)?,
        events: events_from_column(&events).into_iter().map(EventType::as_str).collect(),
        bot_id: row.get(5)?,
        format: Format::parse("format", &format).map_err(StoreError::other)?,
        only_negative: row.get::<i64>(7)? == 1,
        active: row.get::<i64>(8)? == 1,
        created_at: row.get(9)?,
        updated_at: row.get(10)?,
        health: Health {
            last_success_at: row.get(11)?,
            last_failure_at: row.get(12)?,
            failing_since: row.get(13)?,
            deactivated_at: row.get(14)?,
            pending: row.get(15)?,
            failed: row.get(16)?,
        },
    })
}

/// The webhook `id` in scope (a bot-bound key sees only its bot's).
pub(super) async fn get(c: &mut impl Conn, scope: &Scope, id: &Uuid) -> Result<Webhook, StoreError> {
    let row = c
        .query_opt(
            &format!(
                "SELECT {WEBHOOK_COLUMNS} FROM webhooks w
                 WHERE w.id = $1 AND w.account_id = $2 AND (CAST($3 AS TEXT) IS NULL OR w.bot_id = $3)"
            ),
            params![id, &scope.account_id, scope.bot_id.as_ref()],
        )
        .await?
        .ok_or(StoreError::NotFound("webhook"))?;
    webhook_from(&row)
}

/// The webhooks in scope, oldest first.
pub(super) async fn list(c: &mut impl Conn, scope: &Scope) -> Result<Vec<Webhook>, StoreError> {
    let rows = c
        .query(
            &format!(
                "SELECT {WEBHOOK_COLUMNS} FROM webhooks w
                 WHERE w.account_id = $1 AND (CAST($2 AS TEXT) IS NULL OR w.bot_id = $2)
                 ORDER BY w.created_at, w.id"
            ),
            params![&scope.account_id, scope.bot_id.as_ref()],
        )
        .await?;
    rows.iter().map(webhook_from).collect()
}

/// What the audit log keeps of a webhook: never its secret, its URL masked.
fn audited(w: &Webhook) -> serde_json::Value {
    serde_json::json!({
        "url": w.url, "events": w.events, "bot_id": w.bot_id, "format": w.format,
        "only_negative": w.only_negative, "active": w.active,
    })
}

pub(super) async fn create(
    c: &mut impl Conn,
    scope: &Scope,
    new: &NewWebhook,
    secret: &WebhookSecret,
    by: &Actor,
    now: Timestamp,
) -> Result<Webhook, StoreError> {
    if let Some(bot) = &new.subscription.bot_id {
        bots::get(c, scope, bot).await?;
    }
    let id = Uuid::new();
    c.execute(
        "INSERT INTO webhooks (id, account_id, bot_id, url, description, events, format, only_negative, active,
                               secret, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, $9, $10, $10)",
        params![
            &id,
            &scope.account_id,
            new.subscription.bot_id.as_ref(),
            new.url.as_str(),
            new.description.as_deref(),
            events_column(&new.subscription.events),
            new.format.as_str(),
            new.subscription.only_negative,
            secret.expose(),
            now
        ],
    )
    .await?;
    let made = get(c, scope, &id).await?;
    let entry = AuditEntry::new(&scope.account_id, by, Action::WebhookCreated, &id, None, Some(audited(&made)), now);
    audit::append(c, &entry).await?;
    Ok(made)
}

pub(super) async fn update(
    c: &mut impl Conn,
    scope: &Scope,
    id: &Uuid,
    patch: &WebhookPatch,
    by: &Actor,
    now: Timestamp,
) -> Result<Webhook, StoreError> {
    let before = get(c, scope, id).await?;
    if patch.is_empty() {
        return Ok(before);
    }
    let description = patch.description.as_ref().map(|d| d.as_deref().unwrap_or(""));
    // Turned on again: its failures start over.
    let reactivated = patch.active == Some(true) && !before.active;
    c.execute(
        "UPDATE webhooks SET
             url = COALESCE($3, url),
             events = COALESCE($4, events),
             description = CASE WHEN CAST($5 AS TEXT) IS NULL THEN description
                                WHEN $5 = '' THEN NULL ELSE $5 END,
             active = COALESCE($6, active),
             only_negative = COALESCE($7, only_negative),
             failing_since = CASE WHEN CAST($8 AS BIGINT) = 1 THEN NULL ELSE failing_since END,
             deactivated_at = CASE WHEN CAST($8 AS BIGINT) = 1 THEN NULL ELSE deactivated_at END,
             held_until = CASE WHEN CAST($8 AS BIGINT) = 1 THEN NULL ELSE held_until END,
             updated_at = $9
         WHERE id = $1 AND account_id = $2",
        params![
            id,
            &scope.account_id,
            patch.url.as_ref().map(WebhookUrl::as_str),
            patch.events.as_deref().map(events_column),
            description,
            patch.active,
            patch.only_negative,
            reactivated,
            now
        ],
    )
    .await?;
    let after = get(c, scope, id).await?;
    let entry = AuditEntry::new(
        &scope.account_id,
        by,
        Action::WebhookUpdated,
        id,
        Some(audited(&before)),
        Some(audited(&after)),
        now,
    );
    audit::append(c, &entry).await?;
    Ok(after)
}

/// Deletes a webhook with its deliveries.
pub(super) async fn delete(
    c: &mut impl Conn,
    scope: &Scope,
    id: &Uuid,
    by: &Actor,
    now: Timestamp,
) -> Result<Webhook, StoreError> {
    let gone = get(c, scope, id).await?;
    c.execute("DELETE FROM webhook_deliveries WHERE webhook_id = $1", params![id]).await?;
    c.execute("DELETE FROM webhooks WHERE id = $1 AND account_id = $2", params![id, &scope.account_id]).await?;
    let entry = AuditEntry::new(&scope.account_id, by, Action::WebhookDeleted, id, Some(audited(&gone)), None, now);
    audit::append(c, &entry).await?;
    Ok(gone)
}

/// Replaces the secret; the one it replaces still signs for a day.
pub(super) async fn rotate(
    c: &mut impl Conn,
    scope: &Scope,
    id: &Uuid,
    secret: &WebhookSecret,
    by: &Actor,
    now: Timestamp,
) -> Result<Webhook, StoreError> {
    get(c, scope, id).await?;
    c.execute(
        "UPDATE webhooks SET previous_secret = secret, previous_secret_until = $3, secret = $4, updated_at = $5
         WHERE id = $1 AND account_id = $2",
        params![id, &scope.account_id, Timestamp(now.0 + PREVIOUS_SECRET_MS), secret.expose(), now],
    )
    .await?;
    let entry = AuditEntry::new(&scope.account_id, by, Action::WebhookSecretRotated, id, None, None, now);
    audit::append(c, &entry).await?;
    get(c, scope, id).await
}

const DELIVERY_COLUMNS: &str =
    "event_id, event_type, status, attempts, last_status, last_error, latency_ms, next_attempt_at, created_at, seq";

fn delivery_from(row: &Row) -> Result<Delivery, StoreError> {
    let event_id: String = row.get(0)?;
    let event_type: String = row.get(1)?;
    let status = DeliveryStatus::parse("status", &row.get::<String>(2)?).map_err(StoreError::other)?;
    Ok(Delivery {
        id: event_id.clone(),
        event_id,
        event_type: EventType::parse("event_type", &event_type).map_err(StoreError::other)?.as_str(),
        status,
        attempts: row.get(3)?,
        last_status_code: row.get(4)?,
        last_error: row.get(5)?,
        latency_ms: row.get(6)?,
        next_attempt_at: if status == DeliveryStatus::Pending { Some(row.get(7)?) } else { None },
        created_at: row.get(8)?,
    })
}

/// A webhook's deliveries, newest first, maybe of one status.
pub(super) async fn deliveries(
    c: &mut impl Conn,
    scope: &Scope,
    webhook: &Uuid,
    status: Option<DeliveryStatus>,
    page: PageRequest,
) -> Result<Page<Delivery>, StoreError> {
    get(c, scope, webhook).await?;
    let (_, seq) = page.start();
    let rows = c
        .query(
            &format!(
                "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries
                 WHERE webhook_id = $1 AND (CAST($2 AS TEXT) IS NULL OR status = $2) AND seq < $3
                 ORDER BY seq DESC LIMIT $4"
            ),
            params![webhook, status.map(DeliveryStatus::as_str), seq, page.limit + 1],
        )
        .await?;
    let rows = rows
        .iter()
        .map(|r| {
            let seq: i64 = r.get(9)?;
            Ok((delivery_from(r)?, Cursor { at: 0, seq }))
        })
        .collect::<Result<_, StoreError>>()?;
    Ok(Page::from_rows(rows, page.limit))
}

async fn delivery(c: &mut impl Conn, webhook: &Uuid, event_id: &str) -> Result<Delivery, StoreError> {
    let row = c
        .query_opt(
            &format!("SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE webhook_id = $1 AND event_id = $2"),
            params![webhook, event_id],
        )
        .await?
        .ok_or(StoreError::NotFound("delivery"))?;
    delivery_from(&row)
}

/// Sends a delivery again now, with a new retry window.
pub(super) async fn retry(
    c: &mut impl Conn,
    scope: &Scope,
    webhook: &Uuid,
    event_id: &str,
    now: Timestamp,
) -> Result<Delivery, StoreError> {
    get(c, scope, webhook).await?;
    c.execute(
        "UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = $3, retry_from = $3
         WHERE webhook_id = $1 AND event_id = $2",
        params![webhook, event_id, now],
    )
    .await?;
    // A retry by hand is tried at once, even while the webhook is held.
    c.execute("UPDATE webhooks SET held_until = NULL WHERE id = $1", params![webhook]).await?;
    delivery(c, webhook, event_id).await
}

/// Queues a `ping` for one webhook, whatever it subscribes to.
pub(super) async fn test(
    c: &mut impl Conn,
    scope: &Scope,
    webhook: &Uuid,
    now: Timestamp,
) -> Result<Delivery, StoreError> {
    get(c, scope, webhook).await?;
    let ping = Event::ping(webhook, now);
    outbox::enqueue(c, webhook, &scope.account_id, &ping, now).await?;
    delivery(c, webhook, &ping.id).await
}
