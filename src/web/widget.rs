//! `/widget.js`: the embeddable script that puts thumbs under assistant
//! answers and shows the end-of-conversation prompt (see `docs/widget.md`).
//!
//! The script is compiled into the binary, so a deployment serves exactly
//! the widget that matches its API.

use std::sync::LazyLock;

use axum::{
    Router,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use sha2::{Digest, Sha256};

use crate::app::App;

/// The widget's source.
pub const WIDGET_JS: &str = include_str!("assets/widget.js");

/// A strong validator of this build's widget, so browsers revalidate cheaply.
static ETAG: LazyLock<String> = LazyLock::new(|| {
    let digest = Sha256::digest(WIDGET_JS.as_bytes());
    let hex: String = digest.iter().take(12).map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
});

/// One hour: a new release reaches pages within the hour, and the ETag keeps
/// revalidation to a 304.
const CACHE_CONTROL: &str = "public, max-age=3600";

pub fn router() -> Router<App> {
    Router::new().route("/widget.js", get(serve))
}

async fn serve(headers: HeaderMap) -> Response {
    let etag = HeaderValue::from_str(&ETAG).unwrap_or_else(|_| HeaderValue::from_static("\"widget\""));
    let common = [
        (header::CACHE_CONTROL, HeaderValue::from_static(CACHE_CONTROL)),
        (header::ETAG, etag.clone()),
        (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
    ];
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|tag| tag.trim() == ETAG.as_str()));
    if fresh {
        return (StatusCode::NOT_MODIFIED, common).into_response();
    }
    (common, [(header::CONTENT_TYPE, HeaderValue::from_static("text/javascript; charset=utf-8"))], WIDGET_JS)
        .into_response()
}
