//! The dashboard's error page: every failure answers HTML, never JSON.

use axum::{
    http::StatusCode,
    response::{IntoResponse, Response},
};
use maud::html;

use super::layout;
use crate::{app::AppError, domain::DomainError, error_chain::Chain};

/// What can go wrong on a page.
#[derive(Debug)]
pub enum WebError {
    /// 400: a filter or form field is malformed.
    BadRequest(String),
    /// 403: a missing or wrong CSRF token, or a forbidden action.
    Forbidden(String),
    /// 404: the object does not exist (for this account).
    NotFound(String),
    /// 409: the change contradicts the current state.
    Conflict(String),
    /// 503: the database cannot be reached.
    Unavailable,
    /// 500: a bug.
    Internal,
}

impl From<DomainError> for WebError {
    fn from(e: DomainError) -> Self {
        match e {
            DomainError::Invalid { field, message, .. } => Self::BadRequest(format!("{field}: {message}")),
            DomainError::Conflict { message, .. } => Self::Conflict(message),
            DomainError::Forbidden { message, .. } => Self::Forbidden(message),
            DomainError::NotFound { what } => Self::NotFound(format!("This {what} does not exist.")),
        }
    }
}

impl From<AppError> for WebError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Rule(rule) => rule.into(),
            AppError::NotFound(what) => Self::NotFound(format!("This {what} does not exist.")),
            AppError::SignIn(_) => Self::Forbidden("Wrong email or password.".into()),
            AppError::Key(_) | AppError::Token(_) => {
                Self::Forbidden("This key or token is not valid for the dashboard.".into())
            }
            AppError::Conflict(cause) => {
                tracing::info!(cause = %Chain(&cause), "write refused by a database constraint");
                Self::Conflict("The change conflicts with existing data.".into())
            }
            AppError::Unavailable(cause) => {
                tracing::warn!(cause = %Chain(&cause), "database unavailable");
                Self::Unavailable
            }
            AppError::Internal(cause) => {
                tracing::error!(cause = %Chain(&cause), "database error");
                Self::Internal
            }
        }
    }
}

impl WebError {
    fn parts(&self) -> (StatusCode, &'static str, String) {
        match self {
            Self::BadRequest(m) => (StatusCode::BAD_REQUEST, "That request was not understood", m.clone()),
            Self::Forbidden(m) => (StatusCode::FORBIDDEN, "Not allowed", m.clone()),
            Self::NotFound(m) => (StatusCode::NOT_FOUND, "Not found", m.clone()),
            Self::Conflict(m) => (StatusCode::CONFLICT, "That change was refused", m.clone()),
            Self::Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "The database is not answering",
                "Please try again in a moment.".into(),
            ),
            Self::Internal => {
                (StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong", "The error has been logged.".into())
            }
        }
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let (status, title, message) = self.parts();
        let body = html! {
            section.error-page data-testid="error-page" {
                p.error-code { (status.as_u16()) }
                h1 { (title) }
                p #error-message { (message) }
                p { a href="/" { "Back to the overview" } }
            }
        };
        (status, layout::bare(title, body)).into_response()
    }
}
