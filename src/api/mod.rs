//! The JSON API: one module per resource, each with its routes (their
//! OpenAPI operations beside the handlers), the wire types of its requests
//! and answers, and handlers that authenticate, parse the wire format into
//! domain inputs, call one operation of the [`App`], and answer. The router
//! is composed with the other doors in `startup.rs`.

pub mod analytics;
pub mod audit;
pub mod bots;
pub mod contacts;
pub mod conversations;
pub mod csat;
mod docs;
pub mod exports;
pub mod feedback;
pub mod gaps;
pub mod golden;
pub mod ingest;
pub mod keys;
pub mod ops;
pub mod tokens;
pub mod votes;
pub mod webhooks;

use axum::{Json, Router, http::StatusCode, routing::get};
use serde::{Deserialize, Serialize};
use utoipa::{
    IntoParams, Modify, OpenApi, ToSchema,
    openapi::security::{ApiKey as ApiKeyScheme, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme},
};
use utoipa_axum::router::OpenApiRouter;

use crate::{
    app::App,
    domain::{DomainError, ids::Uuid, page::PageRequest, token::Caller},
    http::{ApiError, ApiJson, ApiPath, ApiQuery, Auth, ErrorBody, ErrorResponses, OptionalJson},
    store::Recorded,
};

/// The id in a resource's path. One that is not a UUID names no resource, so
/// it answers 404 for `what`, as an unknown one does.
pub(super) fn path_uuid(value: &str, what: &str) -> Result<Uuid, ApiError> {
    Uuid::parse("id", value).map_err(|_| ApiError::NotFound(what.into()))
}

/// Path of one conversation or message.
#[derive(Debug, Deserialize, IntoParams)]
pub struct IdPath {
    /// The client-chosen id.
    pub id: String,
}

/// 201 with what a write made, 200 with what it found or updated.
pub(super) fn created_or_found<T>(recorded: Recorded<T>) -> (StatusCode, Json<T>) {
    (if recorded.created { StatusCode::CREATED } else { StatusCode::OK }, Json(recorded.value))
}

/// `limit` and `cursor` of every list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Items a page, 1–500 (default 50).
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl PageQuery {
    pub fn parse(&self) -> Result<PageRequest, DomainError> {
        PageRequest::parse(self.limit, self.cursor.as_deref())
    }
}

// The schema of the domain's `Page` (see `http/schemas.rs`).
/// One page of a list.
#[derive(Serialize, ToSchema)]
#[schema(as = Page)]
pub struct PageDoc<T> {
    pub items: Vec<T>,
    /// Pass this back as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Plaudit", description = "Self-hosted feedback service for AI assistants."),
    modifiers(&SecuritySchemes),
    security(("bearer" = []), ("api_key" = [])),
    tags(
        (name = "bots", description = "The assistants of an account"),
        (name = "keys", description = "API keys (admin)"),
        (name = "audit", description = "Who changed what (admin)"),
        (name = "conversations", description = "Logging conversations and messages"),
        (name = "contacts", description = "One person's data: erasure and subject access (admin)"),
        (name = "ingest", description = "Batches of events"),
        (name = "votes", description = "Conversation votes"),
        (name = "feedback", description = "Message feedback and review"),
        (name = "golden examples", description = "Curated training data"),
        (name = "rating", description = "Rating configuration, prompt copy, CSAT and feedback tokens"),
        (name = "compatibility", description = "Routes shaped like other platforms' APIs"),
        (name = "analytics", description = "Figures, comparisons and reasons"),
        (name = "knowledge gaps", description = "Thumbed-down questions, grouped, and their answers"),
        (name = "exports", description = "Whole conversations, streamed"),
        (name = "webhooks", description = "Events delivered to your endpoints, signed and retried (admin)"),
        (name = "operations", description = "Health and readiness"),
    )
)]
struct ApiDoc;

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "api_key",
            SecurityScheme::ApiKey(ApiKeyScheme::Header(ApiKeyValue::new("X-API-Key"))),
        );
    }
}

/// The documented routes of the API, each carrying its OpenAPI operation.
pub fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(ops::router())
        .merge(bots::router())
        .merge(keys::router())
        .merge(audit::router())
        .merge(conversations::router())
        .merge(contacts::router())
        .merge(ingest::router())
        .merge(votes::private_router())
        .merge(feedback::private_router())
        .merge(tokens::router())
        .merge(golden::router())
        .merge(analytics::router())
        .merge(gaps::router())
        .merge(exports::router())
        .merge(votes::router())
        .merge(feedback::router())
        .merge(csat::router())
        .merge(webhooks::router())
}

/// The OpenAPI document at `/openapi.json`, and its page at `/docs`.
pub fn docs(openapi: utoipa::openapi::OpenApi) -> Router<App> {
    let page = docs::render(&openapi);
    let openapi = std::sync::Arc::new(openapi);
    Router::new().route("/openapi.json", get(move || async move { Json(openapi.as_ref().clone()) })).route(
        "/docs",
        get(move || async move { page.clone() })
            .layer(axum::middleware::map_response(crate::http::styled_page_headers)),
    )
}
