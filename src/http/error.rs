//! The one error type at the HTTP edge.
//!
//! Every failure of every native route ends up as an [`ApiError`], rendered as
//! `{"error": "<code>", "message": "<sentence>"}` (plus `field` when one input
//! is to blame). Causes of 5xx are logged and never shown to the client.

use std::error::Error;

use axum::{
    Json,
    extract::rejection::PathRejection,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Serialize;
use utoipa::ToSchema;

use crate::{
    app::AppError,
    domain::{DomainError, access::KeyRefusal, people::SignInRefusal, token::TokenRefusal},
    error_chain::Chain,
};

/// The body of every error answer of the native API.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// Machine-readable code: `invalid_request`, `invalid_api_key`, `not_found`, ...
    pub error: String,
    /// A sentence for people.
    pub message: String,
    /// The input at fault, when there is one (`metadata.confidence`, `events[3].id`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// Everything a native route can answer instead of success.
#[derive(Debug)]
pub enum ApiError {
    /// 400 (or a more specific code with 400).
    BadRequest { code: &'static str, message: String, field: Option<String> },
    /// 401 `invalid_api_key`.
    InvalidApiKey,
    /// 401 `invalid_feedback_token`: missing, expired, forged, or for another conversation.
    InvalidFeedbackToken(&'static str),
    /// 403.
    Forbidden { code: &'static str, message: String },
    /// 404 `not_found`.
    NotFound(String),
    /// 405 `method_not_allowed`.
    MethodNotAllowed,
    /// 409.
    Conflict { code: &'static str, message: String },
    /// 413 `payload_too_large`.
    PayloadTooLarge,
    /// 415 `unsupported_media_type`.
    UnsupportedMediaType,
    /// 429 `rate_limited`, with the seconds to wait.
    RateLimited { retry_after_secs: u64 },
    /// 503 `unavailable`: the database cannot be reached (the cause is logged).
    Unavailable(Box<dyn Error + Send + Sync>),
    /// 500 `internal`: the cause is logged, not shown.
    Internal(Box<dyn Error + Send + Sync>),
}

impl ApiError {
    pub fn bad_request(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::BadRequest { code: "invalid_request", message: message.into(), field: Some(field.into()) }
    }

    pub fn status_code(&self) -> StatusCode {
        match self {
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::InvalidApiKey | Self::InvalidFeedbackToken(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden { .. } => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The body shown to the client.
    pub fn body(&self) -> ErrorBody {
        let (error, message, field) = match self {
            Self::BadRequest { code, message, field } => (*code, message.clone(), field.clone()),
            Self::InvalidApiKey => {
                ("invalid_api_key", "the API key is missing, unknown, expired or revoked".to_owned(), None)
            }
            Self::InvalidFeedbackToken(why) => ("invalid_feedback_token", (*why).to_owned(), None),
            Self::Forbidden { code, message } | Self::Conflict { code, message } => (*code, message.clone(), None),
            Self::NotFound(what) => ("not_found", format!("{what} not found"), None),
            Self::MethodNotAllowed => ("method_not_allowed", "this route does not accept that method".to_owned(), None),
            Self::PayloadTooLarge => ("payload_too_large", "the request body is too large".to_owned(), None),
            Self::UnsupportedMediaType => (
                "unsupported_media_type",
                "the body must be JSON, sent with Content-Type: application/json".to_owned(),
                None,
            ),
            Self::RateLimited { retry_after_secs } => {
                ("rate_limited", format!("too many requests for this key; retry in {retry_after_secs} s"), None)
            }
            Self::Unavailable(_) => ("unavailable", "the database is unavailable; retry shortly".to_owned(), None),
            Self::Internal(_) => ("internal", "an unexpected error occurred".to_owned(), None),
        };
        ErrorBody { error: error.to_owned(), message, field }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match &self {
            Self::Internal(cause) => tracing::error!(cause = %Chain(&**cause), "request failed"),
            Self::Unavailable(cause) => tracing::warn!(cause = %Chain(&**cause), "database unavailable"),
            _ => {}
        }
        let mut response = (self.status_code(), Json(self.body())).into_response();
        if let Self::RateLimited { retry_after_secs } = self
            && let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
        response
    }
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        match e {
            DomainError::Invalid { code, field, message } => {
                Self::BadRequest { code, message: format!("{field}: {message}"), field: Some(field) }
            }
            DomainError::Conflict { code, message } => Self::Conflict { code, message },
            DomainError::Forbidden { code, message } => Self::Forbidden { code, message },
            DomainError::NotFound { what } => Self::NotFound(what.to_owned()),
        }
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Rule(rule) => rule.into(),
            AppError::NotFound(what) => Self::NotFound(what.to_owned()),
            AppError::Key(KeyRefusal::Invalid) => Self::InvalidApiKey,
            AppError::Key(KeyRefusal::NoApiAccess) => Self::Forbidden {
                code: "api_access_not_available_on_plan",
                message: "this account's plan does not include API access".to_owned(),
            },
            AppError::Token(refusal) => Self::InvalidFeedbackToken(match refusal {
                TokenRefusal::Expired => "the feedback token has expired",
                TokenRefusal::Malformed | TokenRefusal::BadSignature => "the feedback token is not valid",
                TokenRefusal::OtherKey => "the feedback token is not valid for this key",
                TokenRefusal::OtherConversation => "the feedback token is for another conversation",
                TokenRefusal::OtherBot => "the feedback token is for another bot",
                TokenRefusal::IssuerRevoked => "the key that issued the feedback token is revoked",
            }),
            // The JSON API is key-only; no route signs a person in.
            AppError::SignIn(SignInRefusal::WrongCredentials) => Self::InvalidApiKey,
            AppError::SignIn(SignInRefusal::Throttled { retry_after_secs }) => {
                Self::RateLimited { retry_after_secs: retry_after_secs.unsigned_abs() }
            }
            AppError::Conflict(cause) => {
                tracing::info!(cause = %Chain(&cause), "write refused by a database constraint");
                Self::Conflict { code: "conflict", message: "the write conflicts with existing data".to_owned() }
            }
            AppError::Unavailable(cause) => Self::Unavailable(Box::new(cause)),
            AppError::Internal(cause) => Self::Internal(Box::new(cause)),
        }
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> Self {
        Self::BadRequest { code: "invalid_request", message: format!("bad path: {}", r.body_text()), field: None }
    }
}

/// The error answers every route may give, for the OpenAPI document.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub enum ErrorResponses {
    /// Invalid input; the message and `field` name the problem.
    #[response(status = 400)]
    BadRequest(#[to_schema] ErrorBody),
    /// Missing, unknown, expired or revoked API key (`invalid_api_key`), or a
    /// feedback token that is missing, expired or for another conversation
    /// (`invalid_feedback_token`).
    #[response(status = 401)]
    Unauthorized(#[to_schema] ErrorBody),
    /// The key's role may not do this (`forbidden`), or its plan has no API access
    /// (`api_access_not_available_on_plan`).
    #[response(status = 403)]
    Forbidden(#[to_schema] ErrorBody),
    /// The object does not exist in the key's account (or bot).
    #[response(status = 404)]
    NotFound(#[to_schema] ErrorBody),
    /// The write contradicts stored state.
    #[response(status = 409)]
    Conflict(#[to_schema] ErrorBody),
    /// The body is larger than the configured limit (1 MiB by default).
    #[response(status = 413)]
    PayloadTooLarge(#[to_schema] ErrorBody),
    /// The body is not sent as application/json.
    #[response(status = 415)]
    UnsupportedMediaType(#[to_schema] ErrorBody),
    /// Too many requests for this key; see `Retry-After`.
    #[response(status = 429)]
    RateLimited(#[to_schema] ErrorBody),
    /// An unexpected error (the cause is logged).
    #[response(status = 500)]
    Internal(#[to_schema] ErrorBody),
    /// The database cannot be reached.
    #[response(status = 503)]
    Unavailable(#[to_schema] ErrorBody),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_failures_hide_their_cause() {
        use crate::store::StoreError;
        let e = ApiError::from(AppError::from(StoreError::other("SELECT secret FROM x")));
        assert_eq!(e.status_code(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!e.body().message.contains("SELECT"));
        let e = ApiError::from(AppError::from(StoreError::unavailable("connection refused")));
        assert_eq!(e.status_code(), StatusCode::SERVICE_UNAVAILABLE);
    }
}
