//! A streamed download: the chunks of an export as the body of a `200`,
//! with the content type and the file name it is saved under.

use axum::{
    body::Body,
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};
use futures_util::TryStreamExt;

use crate::app::Export;

/// The answer of a download route.
pub fn download(export: Export) -> Response {
    let body = Body::from_stream(export.chunks.map_ok(|(chunk, _)| chunk));
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(export.content_type));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{}\"", export.file_name)) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    response
}
