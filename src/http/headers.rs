//! The security headers of pages: the dashboard's, and those of the pages
//! beside it (the API reference at `/docs`, the demo at `/demo`). Every
//! answer, JSON included, also gets `X-Content-Type-Options: nosniff` from
//! the connection loop (see `server.rs`).

use axum::{
    http::{HeaderValue, header},
    response::Response,
};

/// No scripts, styles, frames or form targets from anywhere else, no inline
/// scripts or styles, no framing of the page.
pub const PAGE_POLICY: &str =
    "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'";

/// [`PAGE_POLICY`] for pages that carry styles inline (the reference's
/// `<style>`, the widget's styles in its shadow root): inline styles are
/// allowed, inline scripts still are not.
pub const STYLED_PAGE_POLICY: &str = "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; \
     frame-ancestors 'none'; form-action 'self'; base-uri 'none'";

fn secure(mut response: Response, policy: &'static str) -> Response {
    let headers = response.headers_mut();
    headers.entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("no-store"));
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(policy));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    response
}

/// The headers of a dashboard page (no caching unless the answer says so).
pub async fn page_headers(response: Response) -> Response {
    secure(response, PAGE_POLICY)
}

/// The headers of a page with inline styles.
pub async fn styled_page_headers(response: Response) -> Response {
    secure(response, STYLED_PAGE_POLICY)
}

/// `X-Content-Type-Options: nosniff` on an answer that has none (every
/// answer gets it, from the connection loop: JSON, scripts, downloads), so
/// that no browser reads an answer as another type than it says.
pub fn set_nosniff(response: &mut Response) {
    response.headers_mut().entry(header::X_CONTENT_TYPE_OPTIONS).or_insert(HeaderValue::from_static("nosniff"));
}
