//! Authentication: the API key of a request, checked once per request.
//!
//! A key is read from `Authorization: Bearer <key>` or `X-API-Key: <key>`.
//! The outcome is a [`Principal`]: who the request acts as, in which account
//! and bot. Keys are also rate-limited here, each on its own budget. A
//! request that rates ([`Caller`]) with a public key also presents the
//! feedback token that says which conversation it may rate, as whom.

use std::{num::NonZeroU32, sync::Arc};

use axum::{extract::FromRequestParts, http::request::Parts};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter, clock::Clock};

use super::ApiError;
use crate::{
    app::App,
    domain::{
        access::{Principal, Role},
        token::Caller,
    },
};

/// Per-key request budget. Serving it in the router's extensions turns it on.
pub struct KeyRateLimiter {
    limiter: DefaultKeyedRateLimiter<String>,
}

impl KeyRateLimiter {
    /// `None` when the limit is turned off (a rate of 0).
    pub fn new(per_second: u32, burst: u32) -> Option<Arc<Self>> {
        let rate = NonZeroU32::new(per_second)?;
        let burst = NonZeroU32::new(burst.max(per_second)).unwrap_or(rate);
        Some(Arc::new(Self { limiter: RateLimiter::keyed(Quota::per_second(rate).allow_burst(burst)) }))
    }

    fn check(&self, key_id: &str) -> Result<(), ApiError> {
        self.limiter.check_key(&key_id.to_owned()).map_err(|not_until| {
            let wait = not_until.wait_time_from(governor::clock::DefaultClock::default().now());
            ApiError::RateLimited { retry_after_secs: wait.as_secs() + 1 }
        })
    }
}

/// The secret a request presents, if any.
pub fn presented_key(parts: &Parts) -> Option<&str> {
    let bearer = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim);
    let header = parts.headers.get("x-api-key").and_then(|v| v.to_str().ok()).map(str::trim);
    bearer.or(header).filter(|k| !k.is_empty())
}

/// An authenticated request.
#[derive(Debug, Clone)]
pub struct Auth(pub Principal);

impl FromRequestParts<App> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        let secret = presented_key(parts).ok_or(ApiError::InvalidApiKey)?;
        let principal = app.admit_key(secret).await?;
        tracing::Span::current().record("key_id", principal.actor.id.as_str());
        if let Some(limiter) = parts.extensions.get::<Arc<KeyRateLimiter>>() {
            limiter.check(principal.actor.id.as_str())?;
        }
        Ok(Self(principal))
    }
}

/// Header carrying a feedback token.
pub const FEEDBACK_TOKEN_HEADER: &str = "x-feedback-token";

impl FromRequestParts<App> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        let Auth(principal) = Auth::from_request_parts(parts, app).await?;
        if principal.role != Role::Public {
            return Ok(Caller::key(principal));
        }
        let raw = parts
            .headers
            .get(FEEDBACK_TOKEN_HEADER)
            .and_then(|v| v.to_str().ok())
            .ok_or(ApiError::InvalidFeedbackToken("a public key needs an X-Feedback-Token header"))?;
        Ok(app.caller_with_token(principal, raw)?)
    }
}
