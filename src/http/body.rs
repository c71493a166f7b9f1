//! Request bodies a server on the internet must not wait for: one declared
//! larger than the limit is refused (by the connection loop, `server.rs`)
//! without being kept.

use axum::{
    http::{HeaderMap, HeaderValue, header},
    response::{IntoResponse, Response},
};

use super::ApiError;

/// The length a request's `Content-Length` declares, when it is over `max`
/// bytes.
pub fn declared_too_large(headers: &HeaderMap, max: usize) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|length| *length > max as u64)
}

/// How much of a body declared too large is read (and thrown away) before
/// the 413, as a multiple of the limit. A client that writes its whole body
/// before it reads the answer (most do) would otherwise find the connection
/// closed under it and report a broken pipe instead of the 413; a body
/// declared larger than this is not read at all, and the connection closed.
const READ_OVER: u64 = 8;

/// The 413 for a request whose body is declared `declared` bytes, over
/// `max`: a body of up to [`READ_OVER`] times the limit is read first
/// (within the body timeout, which wraps it) and thrown away; a larger one
/// not at all. The connection is closed after the answer.
pub async fn refuse_too_large(declared: u64, body: axum::body::Body, max: usize) -> Response {
    use futures_util::StreamExt as _;

    if declared <= (max as u64).saturating_mul(READ_OVER) {
        let mut stream = body.into_data_stream();
        while let Some(Ok(_)) = stream.next().await {}
    }
    too_large()
}

/// The 413 for such a request; the connection is closed after it.
pub fn too_large() -> Response {
    let mut response = ApiError::PayloadTooLarge.into_response();
    response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}
