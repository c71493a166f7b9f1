//! The HTTP API (axum).
//!
//! One module per resource, each with its own `router()`; [`router`] merges
//! them with the dashboard's pages, adds the OpenAPI document and the
//! fallbacks (JSON; an HTML page for a browser outside `/v1`). Handlers
//! extract and authenticate, parse into domain types, call the store, and answer.

pub mod analytics;
mod auth;
pub mod bots;
pub mod conversations;
mod docs;
mod error;
pub mod exports;
mod extract;
pub mod feedback;
pub mod golden;
pub mod ingest;
pub mod keys;
pub mod metrics;
pub mod ops;
pub mod rating;
pub mod recommendations;
pub mod votes;

use std::sync::Arc;

use axum::{
    Json, Router,
    http::{HeaderName, Method, header},
    routing::get,
};
use serde::Deserialize;
use tower_http::cors::{AllowOrigin, CorsLayer};
use utoipa::{
    IntoParams, Modify, OpenApi,
    openapi::security::{ApiKey as ApiKeyScheme, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme},
};
use utoipa_axum::router::OpenApiRouter;

pub use auth::{Auth, Caller, KeyRateLimiter};
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
    /// Signs and checks feedback tokens; the same in every instance.
    pub token_secret: Arc<Vec<u8>>,
    /// Request counts and latencies, for `/metrics`.
    pub metrics: Arc<metrics::Metrics>,
    /// Set when running as `plaudit demo`: turns on `/demo` and its chat backend.
    pub demo: Option<Arc<crate::web::demo::DemoSite>>,
    /// Whether the dashboard's session cookie is marked `Secure` (served over https).
    pub secure_cookies: bool,
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

#[cfg(test)]
mod tests {
    use super::is_browser_route;

    #[test]
    fn browser_routes_are_the_public_ones() {
        for open in [
            "/v1/feedback",
            "/v1/conversations/c1/upvote",
            "/v1/conversations/c1/csat",
            "/v1/messages/m1/feedback",
            "/v1/bots/b/rating-config",
            "/v1/bots/b/csat-copy/fr-CA",
            "/v1/api/conversation_ratings/configuration",
        ] {
            assert!(is_browser_route(open), "{open}");
        }
        for closed in [
            "/v1/keys",
            "/v1/ingest",
            "/v1/conversations/c1",
            "/v1/conversations/c1/feedback-token",
            "/v1/feedback/x/review",
        ] {
            assert!(!is_browser_route(closed), "{closed}");
        }
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
        (name = "votes", description = "Conversation votes"),
        (name = "feedback", description = "Message feedback and review"),
        (name = "golden examples", description = "Curated training data"),
        (name = "rating", description = "Rating configuration, prompt copy, CSAT and feedback tokens"),
        (name = "compatibility", description = "Routes shaped like other platforms' APIs"),
        (name = "analytics", description = "Figures, comparisons and reasons"),
        (name = "knowledge gaps", description = "Thumbed-down questions, grouped, and their answers"),
        (name = "exports", description = "Whole conversations, streamed"),
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

/// The routes a browser calls with a public key (and a feedback token).
pub fn is_browser_route(path: &str) -> bool {
    let parts: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    matches!(
        parts.as_slice(),
        ["", "v1", "feedback"]
            | ["", "v1", "conversations", _, "upvote" | "downvote" | "csat"]
            | ["", "v1", "messages", _, "feedback"]
            | ["", "v1", "bots", _, "rating-config"]
            | ["", "v1", "bots", _, "csat-copy", _]
            | ["", "v1", "api", "conversation_ratings", "configuration"]
    )
}

/// Cross-origin access for the browser routes, from any origin. Every other
/// route gets no CORS headers, so browsers keep them same-origin.
pub fn public_cors() -> CorsLayer {
    CorsLayer::new()
        .allow_origin(AllowOrigin::predicate(|_, parts| is_browser_route(parts.uri.path())))
        .allow_methods([Method::GET, Method::POST, Method::DELETE, Method::OPTIONS])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            HeaderName::from_static("x-api-key"),
            HeaderName::from_static(auth::FEEDBACK_TOKEN_HEADER),
        ])
        .max_age(std::time::Duration::from_secs(3600))
}

/// All documented routes, each carrying its OpenAPI operation.
fn documented() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(ops::router())
        .merge(bots::router())
        .merge(keys::router())
        .merge(conversations::router())
        .merge(ingest::router())
        .merge(votes::private_router())
        .merge(feedback::private_router())
        .merge(rating::private_router())
        .merge(golden::router())
        .merge(analytics::router())
        .merge(recommendations::router())
        .merge(exports::router())
        .merge(crate::compat::request_feedback::router())
        .merge(votes::router())
        .merge(feedback::router())
        .merge(rating::router())
        .merge(crate::compat::rating_config::router())
}

/// Every route of the API, with the OpenAPI document served at `/openapi.json`.
pub fn router(state: AppState) -> Router {
    let (router, openapi) = documented().split_for_parts();
    let page = docs::render(&openapi);
    let openapi = Arc::new(openapi);
    let recorder = Arc::clone(&state.metrics);
    router
        .route("/openapi.json", get(move || async move { Json(openapi.as_ref().clone()) }))
        .route("/docs", get(move || async move { page.clone() }))
        .route("/metrics", get(metrics::serve))
        .merge(crate::web::router())
        .route_layer(axum::middleware::from_fn_with_state(recorder, metrics::record))
        .fallback(crate::web::fallback)
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .with_state(state)
}

/// The OpenAPI document, for tools and tests.
pub fn openapi() -> utoipa::openapi::OpenApi {
    documented().into_openapi()
}
