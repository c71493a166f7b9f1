//! The HTTP API (axum).
//!
//! One module per resource, each with its own `router()`; [`router`] merges
//! them, adds the OpenAPI document and the JSON fallbacks. Handlers extract
//! and authenticate, parse into domain types, call the store, and answer.

mod auth;
pub mod bots;
pub mod conversations;
mod error;
mod extract;
pub mod ingest;
pub mod keys;
pub mod ops;

use std::sync::Arc;

use axum::{Json, Router, routing::get};
use serde::Deserialize;
use utoipa::{
    IntoParams, Modify, OpenApi,
    openapi::security::{ApiKey as ApiKeyScheme, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme},
};
use utoipa_axum::router::OpenApiRouter;

pub use auth::{Auth, KeyRateLimiter};
pub use error::{ApiError, ErrorBody, ErrorResponses};
pub use extract::{ApiJson, ApiPath, ApiQuery, OptionalJson, invalid_field};

use crate::{
    domain::{DomainError, page::PageRequest},
    store::Store,
};

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub rate_limiter: Option<Arc<KeyRateLimiter>>,
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

#[derive(OpenApi)]
#[openapi(
    info(title = "Plaudit", description = "Self-hosted feedback service for AI assistants."),
    modifiers(&SecuritySchemes),
    security(("bearer" = []), ("api_key" = [])),
    tags(
        (name = "bots", description = "The assistants of an account"),
        (name = "keys", description = "API keys (admin)"),
        (name = "conversations", description = "Logging conversations and messages"),
        (name = "ingest", description = "Batches of events"),
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

/// All documented routes, each carrying its OpenAPI operation.
fn documented() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(ops::router())
        .merge(bots::router())
        .merge(keys::router())
        .merge(conversations::router())
        .merge(ingest::router())
}

/// Every route of the API, with the OpenAPI document served at `/openapi.json`.
pub fn router(state: AppState) -> Router {
    let (router, openapi) = documented().split_for_parts();
    let openapi = Arc::new(openapi);
    router
        .route("/openapi.json", get(move || async move { Json(openapi.as_ref().clone()) }))
        .fallback(|| async { ApiError::NotFound("route".into()) })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .with_state(state)
}

/// The OpenAPI document, for tools and tests.
pub fn openapi() -> utoipa::openapi::OpenApi {
    documented().into_openapi()
}
