//! Webhooks over the API (admin only; SPEC §13): subscriptions, their
//! secrets (shown when created or rotated, never again), a test, and the
//! deliveries log with retry by hand.

use axum::{Json, extract::State, http::StatusCode};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{ApiError, ApiJson, ApiPath, ApiQuery, App, Auth, ErrorResponses, PageDoc, PageQuery, path_uuid};
use crate::domain::{
    DomainError, Timestamp,
    access::{Principal, Role},
    ids::Uuid,
    page::{Page, PageRequest},
    webhook::{Delivery, DeliveryStatus, Format, Health, NewWebhook, Webhook, WebhookPatch},
};

pub fn router() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(create_webhook, list_webhooks))
        .routes(routes!(get_webhook, update_webhook, delete_webhook))
        .routes(routes!(rotate_secret))
        .routes(routes!(test_webhook))
        .routes(routes!(list_deliveries))
        .routes(routes!(retry_delivery))
}

/// The body of `POST /v1/webhooks`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWebhookBody {
    /// `https://` (or `http://` with `webhooks_allow_http`).
    pub url: String,
    /// The events to receive, such as `feedback.created`.
    pub events: Vec<String>,
    pub description: Option<String>,
    /// Only this bot's events (a key bound to a bot: its bot).
    pub bot_id: Option<String>,
    /// `standard` (default) or `slack`.
    pub format: Option<String>,
    /// Only thumbs-down, downvotes and CSAT answers below 3.
    pub only_negative: Option<bool>,
}

/// The body of `PATCH /v1/webhooks/{id}`: each field given is set.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookPatchBody {
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    /// `true` turns a deactivated webhook on again.
    pub active: Option<bool>,
    pub only_negative: Option<bool>,
}

/// A field that may be `null`: absent is `None`, `null` is `Some(None)`.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

/// A webhook with its secret, shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookWithSecret {
    #[serde(flatten)]
    #[schema(value_type = WebhookDoc)]
    pub webhook: Webhook,
    /// `whsec_…`: verify deliveries with it. Store it now; it is not shown again.
    pub secret: String,
}

/// Path of one webhook.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct WebhookPath {
    pub id: String,
}

/// Path of one delivery.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct DeliveryPath {
    pub id: String,
    /// The delivery's id (its event's).
    pub delivery_id: String,
}

/// The query of the deliveries log.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DeliveriesQuery {
    /// `pending`, `succeeded` or `failed`.
    pub status: Option<String>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

impl DeliveriesQuery {
    fn parse(&self) -> Result<(Option<DeliveryStatus>, PageRequest), DomainError> {
        let status = self.status.as_deref().map(|s| DeliveryStatus::parse("status", s)).transpose()?;
        let page = PageQuery { limit: self.limit, cursor: self.cursor.clone() }.parse()?;
        Ok((status, page))
    }
}

fn admin(principal: &Principal) -> Result<(), ApiError> {
    principal.require(Role::Admin)?;
    Ok(())
}

fn webhook_id(path: &WebhookPath) -> Result<Uuid, ApiError> {
    path_uuid(&path.id, "webhook")
}

/// Creates a webhook (admin). Its secret is in this answer only.
#[utoipa::path(post, path = "/v1/webhooks", tag = "webhooks", request_body = NewWebhookBody,
    responses((status = 201, description = "The webhook, with its secret shown once", body = WebhookWithSecret), ErrorResponses))]
async fn create_webhook(
    State(app): State<App>,
    Auth(principal): Auth,
    ApiJson(body): ApiJson<NewWebhookBody>,
) -> Result<(StatusCode, Json<WebhookWithSecret>), ApiError> {
    admin(&principal)?;
    let new = NewWebhook::parse(
        principal.account_id.clone(),
        &body.url,
        &body.events,
        body.description.as_deref(),
        body.bot_id.as_deref(),
        body.format.as_deref(),
        body.only_negative,
        app.webhooks_allow_http(),
    )?;
    let (webhook, secret) = app.create_webhook(&principal, new).await?;
    Ok((StatusCode::CREATED, Json(WebhookWithSecret { webhook, secret })))
}

/// Lists the webhooks, oldest first, with their health (admin).
#[utoipa::path(get, path = "/v1/webhooks", tag = "webhooks",
    responses((status = 200, description = "The webhooks", body = PageDoc<WebhookDoc>), ErrorResponses))]
async fn list_webhooks(State(app): State<App>, Auth(principal): Auth) -> Result<Json<Page<Webhook>>, ApiError> {
    admin(&principal)?;
    Ok(Json(Page { items: app.list_webhooks(&principal).await?, next_cursor: None }))
}

/// One webhook (admin).
#[utoipa::path(get, path = "/v1/webhooks/{id}", tag = "webhooks", params(WebhookPath),
    responses((status = 200, description = "The webhook", body = WebhookDoc), ErrorResponses))]
async fn get_webhook(
    State(app): State<App>,
    Auth(principal): Auth,
    ApiPath(path): ApiPath<WebhookPath>,
) -> Result<Json<Webhook>, ApiError> {
    admin(&principal)?;
    Ok(Json(app.get_webhook(&principal, &webhook_id(&path)?).await?))
}

/// Changes a webhook (admin).
#[utoipa::path(patch, path = "/v1/webhooks/{id}", tag = "webhooks", params(WebhookPath), request_body = WebhookPatchBody,
    responses((status = 200, description = "The webhook", body = WebhookDoc), ErrorResponses))]
async fn update_webhook(
    State(app): State<App>,
    Auth(principal): Auth,
    ApiPath(path): ApiPath<WebhookPath>,
    ApiJson(body): ApiJson<WebhookPatchBody>,
) -> Result<Json<Webhook>, ApiError> {
    admin(&principal)?;
    let id = webhook_id(&path)?;
    let patch = WebhookPatch::parse(
        body.url.as_deref(),
        body.events.as_deref(),
        body.description.as_ref().map(Option::as_deref),
        body.active,
        body.only_negative,
        app.webhooks_allow_http(),
    )?;
    Ok(Json(app.update_webhook(&principal, &id, patch).await?))
}

/// Deletes a webhook and its deliveries (admin).
#[utoipa::path(delete, path = "/v1/webhooks/{id}", tag = "webhooks", params(WebhookPath),
    responses((status = 200, description = "The deleted webhook", body = WebhookDoc), ErrorResponses))]
async fn delete_webhook(
    State(app): State<App>,
    Auth(principal): Auth,
    ApiPath(path): ApiPath<WebhookPath>,
) -> Result<Json<Webhook>, ApiError> {
    admin(&principal)?;
    Ok(Json(app.delete_webhook(&principal, &webhook_id(&path)?).await?))
}

/// Replaces the secret (admin): the new one is in this answer only; for 24
/// hours deliveries carry a signature with each.
#[utoipa::path(post, path = "/v1/webhooks/{id}/rotate-secret", tag = "webhooks", params(WebhookPath),
    responses((status = 200, description = "The webhook, with its new secret shown once", body = WebhookWithSecret), ErrorResponses))]
async fn rotate_secret(
    State(app): State<App>,
    Auth(principal): Auth,
    ApiPath(path): ApiPath<WebhookPath>,
) -> Result<Json<WebhookWithSecret>, ApiError> {
    admin(&principal)?;
    let (webhook, secret) = app.rotate_webhook_secret(&principal, &webhook_id(&path)?).await?;
    Ok(Json(WebhookWithSecret { webhook, secret }))
}

/// Sends a `ping` (admin): 202 with the queued delivery.
#[utoipa::path(post, path = "/v1/webhooks/{id}/test", tag = "webhooks", params(WebhookPath),
    responses((status = 202, description = "The queued delivery", body = DeliveryDoc), ErrorResponses))]
async fn test_webhook(
    State(app): State<App>,
    Auth(principal): Auth,
    ApiPath(path): ApiPath<WebhookPath>,
) -> Result<(StatusCode, Json<Delivery>), ApiError> {
    admin(&principal)?;
    Ok((StatusCode::ACCEPTED, Json(app.test_webhook(&principal, &webhook_id(&path)?).await?)))
}

/// A webhook's deliveries, newest first (admin).
#[utoipa::path(get, path = "/v1/webhooks/{id}/deliveries", tag = "webhooks", params(WebhookPath, DeliveriesQuery),
    responses((status = 200, description = "A page of deliveries", body = PageDoc<DeliveryDoc>), ErrorResponses))]
async fn list_deliveries(
    State(app): State<App>,
    Auth(principal): Auth,
    ApiPath(path): ApiPath<WebhookPath>,
    ApiQuery(query): ApiQuery<DeliveriesQuery>,
) -> Result<Json<Page<Delivery>>, ApiError> {
    admin(&principal)?;
    let id = webhook_id(&path)?;
    let (status, page) = query.parse()?;
    Ok(Json(app.webhook_deliveries(&principal, &id, status, page).await?))
}

/// Sends a delivery again now, with a new retry window (admin).
#[utoipa::path(post, path = "/v1/webhooks/{id}/deliveries/{delivery_id}/retry", tag = "webhooks", params(DeliveryPath),
    responses((status = 200, description = "The delivery, pending", body = DeliveryDoc), ErrorResponses))]
async fn retry_delivery(
    State(app): State<App>,
    Auth(principal): Auth,
    ApiPath(path): ApiPath<DeliveryPath>,
) -> Result<Json<Delivery>, ApiError> {
    admin(&principal)?;
    let id = path_uuid(&path.id, "webhook")?;
    Ok(Json(app.retry_delivery(&principal, &id, &path.delivery_id).await?))
}

/// A webhook as the API shows it: its URL masked, never its secret.
#[derive(Serialize, ToSchema)]
#[schema(as = Webhook)]
pub struct WebhookDoc {
    pub id: Uuid,
    pub account_id: String,
    /// Scheme, host and a masked path.
    pub url: String,
    pub description: Option<String>,
    pub events: Vec<String>,
    pub bot_id: Option<Uuid>,
    #[schema(value_type = String)]
    pub format: Format,
    pub only_negative: bool,
    /// `false` once deactivated (by hand, or for failing too long).
    pub active: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    #[schema(value_type = HealthDoc)]
    pub health: Health,
}

/// How a webhook is doing.
#[derive(Serialize, ToSchema)]
#[schema(as = WebhookHealth)]
pub struct HealthDoc {
    pub last_success_at: Option<Timestamp>,
    pub last_failure_at: Option<Timestamp>,
    /// Since when every attempt failed.
    pub failing_since: Option<Timestamp>,
    pub deactivated_at: Option<Timestamp>,
    pub pending: i64,
    pub failed: i64,
}

/// One event on its way to one webhook.
#[derive(Serialize, ToSchema)]
#[schema(as = Delivery)]
pub struct DeliveryDoc {
    /// The event's id: the `webhook-id` header.
    pub id: String,
    pub event_id: String,
    pub event_type: String,
    /// `pending`, `succeeded` or `failed`.
    pub status: String,
    pub attempts: i64,
    pub last_status_code: Option<i64>,
    pub last_error: Option<String>,
    pub latency_ms: Option<i64>,
    pub next_attempt_at: Option<Timestamp>,
    pub created_at: Timestamp,
}
