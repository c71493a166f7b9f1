//! Extractors whose rejections are [`ApiError`]s, so that malformed JSON, a
//! wrong content type or a bad path or query answer in the same JSON shape as
//! every other error.

use axum::{
    extract::{FromRequest, FromRequestParts, Request},
    http::header,
};
use serde::de::DeserializeOwned;

use super::ApiError;

/// A JSON body.
#[derive(Debug, Clone, Copy, Default, FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct ApiJson<T>(pub T);

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
