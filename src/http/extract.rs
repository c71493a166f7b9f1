//! Extractors whose rejections are [`ApiError`]s, so that malformed JSON, a
//! wrong content type or a bad path or query answer in the same JSON shape as
//! every other error.

use axum::{
    body::Bytes,
    extract::{FromRequest, FromRequestParts, Request},
    http::{StatusCode, header},
};
use serde::{Deserialize, de::DeserializeOwned};

use super::ApiError;

/// A JSON object body, sent as `application/json` (or any `+json` type).
///
/// Anything but an object is refused: serde would otherwise read a struct
/// from an array, and `["x"]` is never what a client meant.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

fn is_json_content_type(req: &Request) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|mime| {
            let mime = mime.trim().to_ascii_lowercase();
            mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"))
        })
        .unwrap_or(false)
}

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let JsonObject(bytes) = JsonObject::from_request(req, state).await?;
        parse_json(&bytes).map(Self)
    }
}

/// The bytes of a body that [`ApiJson`] would accept, read but not yet
/// parsed: for a handler that decides when to parse.
#[derive(Debug, Clone, Default)]
pub struct JsonObject(pub Bytes);

impl<S> FromRequest<S> for JsonObject
where
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json_content_type(&req) {
            return Err(ApiError::UnsupportedMediaType);
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge
            } else {
                ApiError::BadRequest { code: "invalid_request", message: e.body_text(), field: None }
            }
        })?;
        if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
            return Err(ApiError::BadRequest {
                code: "invalid_request",
                message: "the body must be a JSON object".to_owned(),
                field: None,
            });
        }
        Ok(Self(bytes))
    }
}

/// Parses JSON, naming the path of the first bad field (`events[2].role`).
pub fn parse_json<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> Result<T, ApiError> {
    let syntax = |inner: serde_json::Error| ApiError::BadRequest {
        code: "invalid_request",
        message: format!("the body is not valid JSON: {inner}"),
        field: None,
    };
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        // serde_json also files some wrong types (a number for an enum) under
        // syntax; only a body that is not JSON at all is a syntax error.
        let well_formed = serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_ok();
        if (inner.is_syntax() || inner.is_eof()) && !well_formed {
            return syntax(inner);
        }
        invalid_field(&path, &inner.to_string())
    })?;
    de.end().map_err(syntax)?;
    Ok(value)
}

/// A 400 for a value that deserialised badly at `path`.
pub fn invalid_field(path: &str, detail: &str) -> ApiError {
    let detail = detail.split(" at line ").next().unwrap_or(detail);
    let field = match detail.strip_prefix("missing field `").and_then(|r| r.split_once('`')) {
        Some((missing, _)) if path == "." || path.is_empty() => missing.to_owned(),
        Some((missing, _)) => format!("{path}.{missing}"),
        None => match ["unknown field `", "duplicate field `"]
            .iter()
            .find_map(|prefix| detail.strip_prefix(prefix))
            .and_then(|r| r.split_once('`'))
        {
            Some((unknown, _)) if path == "." || path.is_empty() => unknown.to_owned(),
            _ => path.to_owned(),
        },
    };
    let field = if field == "." || field.is_empty() { "body".to_owned() } else { field };
    ApiError::BadRequest { code: "invalid_request", message: format!("{field}: {detail}"), field: Some(field) }
}

/// Path parameters.
#[derive(Debug, Clone, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct ApiPath<T>(pub T);

/// Query parameters.
#[derive(Debug, Clone, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct ApiQuery<T>(pub T);

/// A JSON body that may be left out entirely: an empty body reads as `T::default()`.
#[derive(Debug, Clone, Default)]
pub struct OptionalJson<T>(pub T);

impl<S, T> FromRequest<S> for OptionalJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Default,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let declared_empty = req.headers().get(header::CONTENT_LENGTH).is_some_and(|v| v.as_bytes() == b"0");
        let has_type = req.headers().contains_key(header::CONTENT_TYPE);
        if declared_empty || (!has_type && !req.headers().contains_key(header::TRANSFER_ENCODING)) {
            return Ok(Self(T::default()));
        }
        let ApiJson(value) = ApiJson::<T>::from_request(req, state).await?;
        Ok(Self(value))
    }
}
