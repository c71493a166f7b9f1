//! Cross-origin access: the routes a browser calls with a public key (and a
//! feedback token) answer any origin; every other route gets no CORS
//! headers, so browsers keep them same-origin.

use axum::http::{HeaderName, Method, header};
use tower_http::cors::{AllowOrigin, CorsLayer};

use super::{FEEDBACK_TOKEN_HEADER, faces::is_browser_route};

/// Cross-origin access for the browser routes, from any origin.
pub fn public_cors() -> CorsLayer {
    CorsLayer::new()
        .allow_origin(AllowOrigin::predicate(|_, parts| is_browser_route(parts.uri.path())))
        .allow_methods([Method::GET, Method::POST, Method::DELETE, Method::OPTIONS])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            HeaderName::from_static("x-api-key"),
            HeaderName::from_static(FEEDBACK_TOKEN_HEADER),
        ])
        // The widget reads it to wait as long as the server asks before a retry.
        .expose_headers([header::RETRY_AFTER])
        .max_age(std::time::Duration::from_secs(3600))
}
