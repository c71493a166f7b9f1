//! Routes shaped like other platforms' APIs, so that clients written for
//! them work unchanged. Both are doors onto the same operations as the
//! native API.
//!
//! - `rating_config`: the conversation-rating configuration endpoint (seed 001).
//! - `request_feedback`: good/bad feedback on a chat request (seed 004),
//!   answering in that platform's error shape.

pub mod rating_config;
pub mod request_feedback;

use utoipa_axum::router::OpenApiRouter;

use crate::app::App;

/// The compatible routes, each carrying its OpenAPI operation.
pub fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new().merge(request_feedback::router()).merge(rating_config::router())
}
