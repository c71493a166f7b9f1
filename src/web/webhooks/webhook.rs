//! The page of one webhook: its health and subscription, its recent
//! deliveries (by status, page by page), and what an admin does with it: a
//! test, a retry by hand, turning it off and on, a new secret (shown this
//! once), deleting it.

use axum::{
    extract::{Path, State},
    response::{IntoResponse, Redirect, Response},
};
use maud::{Markup, html};
use serde::Deserialize;

use super::{NOTICES, href, secret_panel, state, to_webhook, webhook_id, when};
use crate::{
    app::App,
    domain::{
        ids::Uuid,
        page::PageRequest,
        webhook::{Delivery, DeliveryStatus, Webhook, WebhookPatch},
    },
    web::{
        PageForm, PageQuery, SignedIn, WebError, bot_name, bots, enc,
        layout::{self, Section},
        non_empty, query_string,
        session::CsrfForm,
    },
};

/// Deliveries on a page of one webhook.
const DELIVERIES_PER_PAGE: i64 = 50;

/// The deliveries shown, and a notice after a change.
#[derive(Debug, Default, Deserialize)]
pub struct WebhookQuery {
    status: Option<String>,
    cursor: Option<String>,
    notice: Option<String>,
}

fn delivery_status(d: &Delivery) -> Markup {
    let class = match d.status {
        DeliveryStatus::Pending => "pill neutral",
        DeliveryStatus::Succeeded => "pill good",
        DeliveryStatus::Failed => "pill bad",
    };
    html! { span class=(class) { (d.status.as_str()) } }
}

fn deliveries_table(w: &Webhook, deliveries: &[Delivery], session: &SignedIn) -> Markup {
    html! {
        div.table-wrap {
            table.list #deliveries-table data-testid="deliveries-table" {
                caption.visually-hidden { "Deliveries" }
                thead { tr {
                    th scope="col" { "Event" } th scope="col" { "Status" } th scope="col" class="num" { "Attempts" }
                    th scope="col" { "Last answer" } th scope="col" { "Queued" } th scope="col" { "Next attempt" }
                    th scope="col" { span.visually-hidden { "Actions" } }
                } }
                tbody {
                    @for d in deliveries {
                        tr data-testid="delivery-row" data-delivery-id=(d.id) data-event-type=(d.event_type) data-status=(d.status.as_str()) {
                            td data-label="Event" { span.mono { (d.event_type) } span.muted.small.block.mono { (d.event_id) } }
                            td data-label="Status" { (delivery_status(d)) }
                            td.num data-label="Attempts" { (d.attempts) }
                            td data-label="Last answer" {
                                @if let Some(code) = d.last_status_code { "HTTP " (code) }
                                @if let Some(ms) = d.latency_ms { span.muted.small { " in " (ms) " ms" } }
                                @if let Some(e) = &d.last_error { span.small.block data-testid="delivery-error" { (e) } }
                                @if d.attempts == 0 { span.muted { "not sent yet" } }
                            }
                            td data-label="Queued" { (layout::time(d.created_at, &session.zone)) }
                            td data-label="Next attempt" { @if let Some(t) = d.next_attempt_at { (layout::time(t, &session.zone)) } }
                            td {
                                @if d.status == DeliveryStatus::Failed {
                                    form method="post" action={ (href(w)) "/deliveries/" (enc(&d.id)) "/retry" } {
                                        (layout::csrf_field(session))
                                        button type="submit" data-testid="delivery-retry" aria-label={ "Retry " (d.event_type) " " (d.event_id) } { "Retry" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

async fn render_webhook(
    app: &App,
    session: &SignedIn,
    id: &Uuid,
    q: &WebhookQuery,
    secret: Option<&str>,
) -> Result<Markup, WebError> {
    let w = app.get_webhook(&session.principal, id).await?;
    let status = non_empty(q.status.as_deref());
    let filter = status.map(|s| DeliveryStatus::parse("status", s)).transpose()?;
    let page = PageRequest::parse(Some(DELIVERIES_PER_PAGE), non_empty(q.cursor.as_deref()))?;
    let deliveries = app.webhook_deliveries(&session.principal, id, filter, page).await?;
    let bots = bots(app, session).await?;
    let base = href(&w);
    let next = deliveries
        .next_cursor
        .as_deref()
        .map(|c| format!("{base}{}", query_string(&[("status", status), ("cursor", Some(c))])));
    let body = html! {
        p.crumbs { a href="/settings/webhooks" { "← Webhooks" } }
        div.page-head {
            h1 { "Webhook " span.mono data-testid="webhook-url" { (w.url) } }
            @if let Some(d) = &w.description { p.muted { (d) } }
        }
        (layout::notice(q.notice.as_deref(), &NOTICES))
        @if let Some(secret) = secret { (secret_panel("New signing secret", secret)) }
        div.settings-grid {
            section.panel aria-labelledby="health-title" data-testid="webhook-health" {
                h2 #health-title { "Health" }
                p { (state(&w, &session.zone)) }
                @if let (false, Some(_)) = (w.active, w.health.deactivated_at) {
                    p.small data-testid="deactivated-note" { "Every delivery failed for too long, so it was turned off; what was queued is marked failed. Turn it on again, then retry." }
                } @else if !w.active {
                    p.small { "Off: it receives no new events, and what is queued waits until it is turned on." }
                }
                dl.exchange {
                    dt { "Last success" } dd data-testid="webhook-last-success" { (when(w.health.last_success_at, &session.zone)) }
                    dt { "Last failure" } dd data-testid="webhook-last-failure" { (when(w.health.last_failure_at, &session.zone)) }
                    dt { "Pending" } dd data-testid="webhook-pending" { (w.health.pending) }
                    dt { "Failed" } dd data-testid="webhook-failed" { (w.health.failed) }
                }
            }
            section.panel aria-labelledby="subscription-title" {
                h2 #subscription-title { "Subscription" }
                dl.exchange {
                    dt { "Events" } dd { (w.events.join(", ")) }
                    dt { "Bot" } dd { (w.bot_id.as_ref().map_or("all bots", |b| bot_name(&bots, b.as_str()))) }
                    dt { "Format" } dd { (w.format.as_str()) }
                    dt { "Only negative" } dd { (if w.only_negative { "yes" } else { "no" }) }
                    dt { "Created" } dd { (layout::time(w.created_at, &session.zone)) }
                }
            }
            section.panel aria-labelledby="actions-title" {
                h2 #actions-title { "Actions" }
                div.buttons {
                    form method="post" action={ (base) "/test" } {
                        (layout::csrf_field(session))
                        button.primary type="submit" data-testid="webhook-test" { "Send a test" }
                    }
                    form method="post" action={ (base) "/active" } {
                        (layout::csrf_field(session))
                        @if w.active {
                            input type="hidden" name="active" value="false";
                            button type="submit" data-testid="webhook-turn-off" { "Turn off" }
                        } @else {
                            input type="hidden" name="active" value="true";
                            button type="submit" data-testid="webhook-turn-on" { "Turn on" }
                        }
                    }
                    form method="post" action={ (base) "/rotate" } {
                        (layout::csrf_field(session))
                        button type="submit" data-testid="webhook-rotate" { "New secret" }
                    }
                }
                p.muted.small { "After a new secret, deliveries are signed with both for 24 hours." }
                form method="post" action={ (base) "/delete" } data-testid="webhook-delete" {
                    (layout::csrf_field(session))
                    label.check {
                        input type="checkbox" name="confirm" value="yes" required data-testid="webhook-delete-confirm";
                        " Delete this webhook and its deliveries."
                    }
                    button.danger type="submit" data-testid="webhook-delete-submit" { "Delete webhook" }
                }
            }
            section.panel.wide aria-labelledby="deliveries-title" {
                h2 #deliveries-title { "Recent deliveries" }
                form.inline method="get" action=(base) #deliveries-filter {
                    label for="delivery-status" { "Status" }
                    select #delivery-status name="status" {
                        option value="" selected[filter.is_none()] { "All" }
                        @for s in [DeliveryStatus::Pending, DeliveryStatus::Succeeded, DeliveryStatus::Failed] {
                            option value=(s.as_str()) selected[filter == Some(s)] { (s.as_str()) }
                        }
                    }
                    button type="submit" { "Show" }
                }
                @if deliveries.items.is_empty() {
                    p.muted data-testid="no-deliveries" { "No deliveries" @if let Some(s) = status { " " (s) } " yet." }
                } @else {
                    (deliveries_table(&w, &deliveries.items, session))
                }
                @if let Some(next) = next {
                    nav.pager aria-label="Pages" { a.button href=(next) rel="next" { "Older deliveries →" } }
                }
            }
        }
    };
    Ok(layout::page("Webhook", Section::Settings, session, body))
}

/// `GET /settings/webhooks/{id}`
pub async fn show(
    State(app): State<App>,
    session: SignedIn,
    Path(id): Path<String>,
    PageQuery(q): PageQuery<WebhookQuery>,
) -> Result<Markup, WebError> {
    render_webhook(&app, &session, &webhook_id(&id)?, &q, None).await
}

/// `POST /settings/webhooks/{id}/test`: queues a ping.
pub async fn test(
    State(app): State<App>,
    session: SignedIn,
    Path(id): Path<String>,
    PageForm(form): PageForm<CsrfForm>,
) -> Result<Response, WebError> {
    session.check_csrf(&app, form.csrf.as_deref())?;
    let id = webhook_id(&id)?;
    app.test_webhook(&session.principal, &id).await?;
    Ok(to_webhook(&id, "test_sent"))
}

/// Turning a webhook off, or on (again).
#[derive(Debug, Deserialize)]
pub struct ActiveForm {
    csrf: Option<String>,
    active: Option<String>,
}

/// `POST /settings/webhooks/{id}/active`
pub async fn set_active(
    State(app): State<App>,
    session: SignedIn,
    Path(id): Path<String>,
    PageForm(form): PageForm<ActiveForm>,
) -> Result<Response, WebError> {
    session.check_csrf(&app, form.csrf.as_deref())?;
    let id = webhook_id(&id)?;
    let active = match form.active.as_deref() {
        Some("true") => true,
        Some("false") => false,
        _ => return Err(WebError::BadRequest("active: must be true or false".into())),
    };
    let patch = WebhookPatch::parse(None, None, None, Some(active), None, app.webhooks_allow_http())?;
    app.update_webhook(&session.principal, &id, patch).await?;
    Ok(to_webhook(&id, if active { "turned_on" } else { "turned_off" }))
}

/// `POST /settings/webhooks/{id}/rotate`: a new secret, shown this once.
pub async fn rotate(
    State(app): State<App>,
    session: SignedIn,
    Path(id): Path<String>,
    PageForm(form): PageForm<CsrfForm>,
) -> Result<Markup, WebError> {
    session.check_csrf(&app, form.csrf.as_deref())?;
    let id = webhook_id(&id)?;
    let (_, secret) = app.rotate_webhook_secret(&session.principal, &id).await?;
    render_webhook(&app, &session, &id, &WebhookQuery::default(), Some(&secret)).await
}

/// Deleting a webhook: it must be confirmed.
#[derive(Debug, Deserialize)]
pub struct DeleteForm {
    csrf: Option<String>,
    confirm: Option<String>,
}

/// `POST /settings/webhooks/{id}/delete`
pub async fn delete(
    State(app): State<App>,
    session: SignedIn,
    Path(id): Path<String>,
    PageForm(form): PageForm<DeleteForm>,
) -> Result<Response, WebError> {
    session.check_csrf(&app, form.csrf.as_deref())?;
    let id = webhook_id(&id)?;
    if form.confirm.as_deref() != Some("yes") {
        return Err(WebError::BadRequest("Tick the box to confirm: this cannot be undone.".into()));
    }
    app.delete_webhook(&session.principal, &id).await?;
    Ok(Redirect::to("/settings/webhooks?notice=deleted").into_response())
}

/// `POST /settings/webhooks/{id}/deliveries/{delivery_id}/retry`
pub async fn retry(
    State(app): State<App>,
    session: SignedIn,
    Path((id, delivery)): Path<(String, String)>,
    PageForm(form): PageForm<CsrfForm>,
) -> Result<Response, WebError> {
    session.check_csrf(&app, form.csrf.as_deref())?;
    let id = webhook_id(&id)?;
    app.retry_delivery(&session.principal, &id, &delivery).await?;
    Ok(to_webhook(&id, "retried"))
}
