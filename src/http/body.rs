//! Request bodies a server on the internet must not wait for: one declared
//! larger than the limit is refused before a byte of it is read (by the
//! connection loop, `server.rs`).

use axum::{
    http::{HeaderMap, HeaderValue, header},
    response::{IntoResponse, Response},
};

use super::ApiError;

/// Whether a request's `Content-Length` says more than `max` bytes.
pub fn declared_too_large(headers: &HeaderMap, max: usize) -> bool {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .is_some_and(|length| length > max as u64)
}

/// The 413 for such a request; the connection is closed rather than read on.
pub fn too_large() -> Response {
    let mut response = ApiError::PayloadTooLarge.into_response();
    response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}
