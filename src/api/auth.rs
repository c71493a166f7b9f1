//! Authentication: the API key of a request, checked once per request.
//!
//! A key is read from `Authorization: Bearer <key>` or `X-API-Key: <key>`.
//! The outcome is a [`Principal`]: who the request acts as, in which account
//! and bot. Keys are also rate-limited here, each on its own budget.

use std::{num::NonZeroU32, sync::Arc};

use axum::{extract::FromRequestParts, http::request::Parts};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter, clock::Clock};

use super::{ApiError, AppState};
use crate::domain::{
    Timestamp,
    access::{KeyRefusal, Principal, Role, hash_secret},
    token::{self, TokenClaims, TokenRefusal},
};

/// Per-key request budget.
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

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let secret = presented_key(parts).ok_or(ApiError::InvalidApiKey)?;
        let record = state.store.find_key(&hash_secret(secret)).await?;
        let principal = Principal::admit(record, Timestamp::now()).map_err(|refusal| match refusal {
            KeyRefusal::Invalid => ApiError::InvalidApiKey,
            KeyRefusal::NoApiAccess => ApiError::Forbidden {
                code: "api_access_not_available_on_plan",
                message: "this account's plan does not include API access".to_owned(),
            },
        })?;
        tracing::Span::current().record("key_id", principal.key_id.as_str());
        if let Some(limiter) = &state.rate_limiter {
            limiter.check(principal.key_id.as_str())?;
        }
        Ok(Self(principal))
    }
}

/// Header carrying a feedback token.
pub(crate) const FEEDBACK_TOKEN_HEADER: &str = "x-feedback-token";

/// An authenticated request that may rate: a key, and for a `public` key the
/// feedback token that says which conversation it may rate, as whom.
#[derive(Debug, Clone)]
pub struct Caller {
    pub principal: Principal,
    pub token: Option<TokenClaims>,
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let Auth(principal) = Auth::from_request_parts(parts, state).await?;
        if principal.role != Role::Public {
            return Ok(Self { principal, token: None });
        }
        let raw = parts
            .headers
            .get(FEEDBACK_TOKEN_HEADER)
            .and_then(|v| v.to_str().ok())
            .ok_or(ApiError::InvalidFeedbackToken("a public key needs an X-Feedback-Token header"))?;
        let claims = token::verify(raw.trim(), &state.token_secret, Timestamp::now()).map_err(|why| match why {
            TokenRefusal::Expired => ApiError::InvalidFeedbackToken("the feedback token has expired"),
            TokenRefusal::Malformed | TokenRefusal::BadSignature => {
                ApiError::InvalidFeedbackToken("the feedback token is not valid")
            }
        })?;
        let foreign_bot = principal.bot_id.as_ref().is_some_and(|b| b.as_str() != claims.bot_id);
        if claims.account_id != principal.account_id || foreign_bot {
            return Err(ApiError::InvalidFeedbackToken("the feedback token is not valid for this key"));
        }
        Ok(Self { principal, token: Some(claims) })
    }
}

impl Caller {
    /// The token's contact, when rating through a token.
    pub fn contact(&self) -> Option<&str> {
        self.token.as_ref().map(|t| t.contact_id.as_str())
    }

    /// A token may rate only its own conversation.
    pub fn check_conversation(&self, conversation_id: &str) -> Result<(), ApiError> {
        match &self.token {
            Some(t) if t.conversation_id != conversation_id => {
                Err(ApiError::InvalidFeedbackToken("the feedback token is for another conversation"))
            }
            _ => Ok(()),
        }
    }
}
