//! Extractors whose rejections are [`ApiError`]s, so that malformed JSON, a
//! wrong content type or a bad path or query answer in the same JSON shape as
//! every other error.

use std::marker::PhantomData;

use axum::{
    body::Bytes,
    extract::{FromRequest, FromRequestParts, Request},
    http::{StatusCode, header, request::Parts},
};
use serde::{
    Deserialize,
    de::{DeserializeOwned, IgnoredAny},
};

use super::{ApiError, explain::explain};
use crate::domain::text;

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

/// Parses a JSON body, naming the path of the first bad field (`events[2].role`).
pub fn parse_json<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> Result<T, ApiError> {
    parse_json_as::<T, T>(bytes)
}

/// [`parse_json`] for a type that only serde_json can read (one that keeps
/// raw JSON text): `Shape` is the same type with those parts left unread,
/// and explains a body that does not fit.
pub fn parse_json_as<'a, T: Deserialize<'a>, Shape: Deserialize<'a>>(bytes: &'a [u8]) -> Result<T, ApiError> {
    refuse_nul(bytes)?;
    parse_envelope_as::<T, Shape>(bytes)
}

/// [`parse_json_as`] for an envelope whose parts are parsed (and checked
/// for NUL characters) one by one afterwards, such as a batch's events.
pub fn parse_envelope_as<'a, T: Deserialize<'a>, Shape: Deserialize<'a>>(bytes: &'a [u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| refused::<Shape>(bytes, &e))
}

/// Refuses a body with a NUL character in any key or string, naming where.
fn refuse_nul(bytes: &[u8]) -> Result<(), ApiError> {
    if !text::may_hold_nul(bytes) {
        return Ok(());
    }
    // Malformed JSON is reported by the parse that follows.
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(bytes) else { return Ok(()) };
    match text::nul_in_json(&value) {
        Some(path) => Err(text::nul(&path).into()),
        None => Ok(()),
    }
}

/// The 400 for a body serde_json refused with `error`.
fn refused<'a, Shape: Deserialize<'a>>(bytes: &'a [u8], error: &serde_json::Error) -> ApiError {
    let well_formed = serde_json::from_slice::<IgnoredAny>(bytes).is_ok();
    let message = if well_formed {
        match explain(bytes, PhantomData::<Shape>) {
            Some(explained) => return explained,
            None => format!("the body does not fit: {error}"),
        }
    } else {
        format!("the body is not valid JSON: {error}")
    };
    ApiError::BadRequest { code: "invalid_request", message, field: None }
}

/// Path parameters.
#[derive(Debug, Clone, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct ApiPath<T>(pub T);

/// Query parameters. A value that does not fit is named by its parameter.
#[derive(Debug, Clone)]
pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        if let Some((name, _)) =
            form_urlencoded::parse(query.as_bytes()).find(|(k, v)| k.contains('\0') || v.contains('\0'))
        {
            return Err(text::nul(&name.replace('\0', "\\u0000")).into());
        }
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(de).map(Self).map_err(|e| {
            let path = e.path().to_string();
            let field = (path != "." && !path.is_empty()).then_some(path);
            let message = match &field {
                Some(field) => format!("bad query string: {field}: {}", e.inner()),
                None => format!("bad query string: {}", e.inner()),
            };
            ApiError::BadRequest { code: "invalid_request", message, field }
        })
    }
}

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
