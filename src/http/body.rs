//! Request bodies a server on the internet must not wait for: one declared
//! larger than the limit is refused before a byte of it is read.

use axum::{
    extract::{Request, State},
    http::header,
    middleware::Next,
    response::{IntoResponse, Response},
};

use super::ApiError;

/// Refuses with 413 a request whose `Content-Length` is over `max` bytes,
/// and closes the connection rather than read what follows.
pub async fn refuse_oversized(State(max): State<usize>, request: Request, next: Next) -> Response {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|length| length > max as u64) {
        let mut response = ApiError::PayloadTooLarge.into_response();
        response.headers_mut().insert(header::CONNECTION, header::HeaderValue::from_static("close"));
        return response;
    }
    next.run(request).await
}
