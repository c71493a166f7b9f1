//! Cross-origin access: the routes a browser calls with a public key (and a
//! feedback token) answer any origin; every other route gets no CORS
//! headers, so browsers keep them same-origin.

use axum::http::{HeaderName, Method, header};
use tower_http::cors::{AllowOrigin, CorsLayer};

use super::FEEDBACK_TOKEN_HEADER;

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
        .max_age(std::time::Duration::from_secs(3600))
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
