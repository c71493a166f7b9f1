//! Which listener serves what: the one table of the routes a browser needs
//! (the widget, the token-authenticated feedback, vote and CSAT routes, the
//! rating configuration and prompt-copy reads, and the demo). The public
//! listener serves only these, cross-origin access is granted only to the
//! API's among them, and the tests walk this same table.

use axum::{
    extract::{MatchedPath, Request},
    http::Method,
    middleware::Next,
    response::{IntoResponse, Response},
};

use super::ApiError;

/// A route of the browser face: method and path template, as routed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BrowserRoute {
    pub method: &'static str,
    pub path: &'static str,
}

const fn route(method: &'static str, path: &'static str) -> BrowserRoute {
    BrowserRoute { method, path }
}

/// Every route a browser needs, and nothing else.
pub const BROWSER_ROUTES: &[BrowserRoute] = &[
    route("GET", "/widget.js"),
    route("POST", "/v1/feedback"),
    route("GET", "/v1/messages/{id}/feedback"),
    route("DELETE", "/v1/messages/{id}/feedback"),
    route("POST", "/v1/conversations/{id}/upvote"),
    route("POST", "/v1/conversations/{id}/downvote"),
    route("POST", "/v1/conversations/{id}/csat"),
    route("GET", "/v1/bots/{id}/rating-config"),
    route("GET", "/v1/bots/{id}/csat-copy/{locale}"),
    route("GET", "/v1/api/conversation_ratings/configuration"),
    // Served only under `plaudit demo`.
    route("GET", "/demo"),
    route("GET", "/demo/demo.js"),
    route("GET", "/demo/demo.css"),
    route("POST", "/demo/chat"),
    route("POST", "/demo/end"),
];

/// Whether a concrete path matches a route template (`{name}` matches one
/// non-empty segment).
fn matches(template: &str, path: &str) -> bool {
    let (mut t, mut p) = (template.split('/'), path.trim_end_matches('/').split('/'));
    loop {
        match (t.next(), p.next()) {
            (None, None) => return true,
            (Some(t), Some(p)) if t.starts_with('{') && !p.is_empty() => {}
            (Some(t), Some(p)) if t == p => {}
            _ => return false,
        }
    }
}

/// Whether a path is one of the API's browser routes (any method): these
/// answer cross-origin requests.
pub fn is_browser_route(path: &str) -> bool {
    BROWSER_ROUTES.iter().any(|r| r.path.starts_with("/v1/") && matches(r.path, path))
}

/// Whether the public listener serves `method` on the routed template.
pub fn serves_publicly(method: &Method, template: &str) -> bool {
    BROWSER_ROUTES.iter().any(|r| r.path == template && (r.method == method.as_str() || method == Method::OPTIONS))
}

/// The public listener's gate (a route layer, so the matched route is
/// known): a route outside [`BROWSER_ROUTES`] does not exist there.
pub async fn public_only(request: Request, next: Next) -> Response {
    let template = request.extensions().get::<MatchedPath>().map(|m| m.as_str().to_owned());
    match template {
        Some(template) if serves_publicly(request.method(), &template) => next.run(request).await,
        _ => ApiError::NotFound("route".into()).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
            "/v1/bots//rating-config",
            "/widget.js",
        ] {
            assert!(!is_browser_route(closed), "{closed}");
        }
        assert!(serves_publicly(&Method::GET, "/widget.js"));
        assert!(serves_publicly(&Method::OPTIONS, "/v1/feedback"));
        assert!(!serves_publicly(&Method::GET, "/v1/feedback"));
        assert!(!serves_publicly(&Method::GET, "/metrics"));
    }
}
