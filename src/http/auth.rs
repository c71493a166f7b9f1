//! Authentication: the API key of a request, checked once per request.
//!
//! A key is read from `Authorization: Bearer <key>` or `X-API-Key: <key>`.
//! The outcome is a [`Principal`]: who the request acts as, in which account
//! and bot. A request that rates ([`Caller`]) with a public key also presents
//! the feedback token that says which conversation it may rate, as whom.
//!
//! Rate limits are checked here too. Server and admin keys each have their
//! own budget. A public key is shared by every visitor of a site, so it has
//! none: its requests are limited per client address, and those that rate
//! also per feedback token, and both must allow a request; one busy visitor
//! never throttles another.

use std::{hash::Hash, net::IpAddr, num::NonZeroU32, sync::Arc, time::Duration};

use axum::{extract::FromRequestParts, http::request::Parts};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter, clock::Clock};

use super::{ApiError, client::ClientAddress};
use crate::{
    app::App,
    domain::{
        access::{Principal, Role},
        token::Caller,
    },
};

/// A budget per key of some kind (a key id, a token, an address).
struct Budget<K: Hash + Eq + Clone>(DefaultKeyedRateLimiter<K>);

impl<K: Hash + Eq + Clone> Budget<K> {
    /// `None` when the limit is turned off (a rate of 0).
    fn new(per_second: u32, burst: u32) -> Option<Self> {
        let rate = NonZeroU32::new(per_second)?;
        let burst = NonZeroU32::new(burst.max(per_second)).unwrap_or(rate);
        Some(Self(RateLimiter::keyed(Quota::per_second(rate).allow_burst(burst))))
    }

    fn check(&self, key: &K) -> Result<(), ApiError> {
        self.0.check_key(key).map_err(|not_until| {
            let wait = not_until.wait_time_from(governor::clock::DefaultClock::default().now());
            ApiError::RateLimited { retry_after_secs: wait.as_secs() + 1 }
        })
    }

    /// Forgets the entries that are full again (idle), so that memory stays
    /// bounded by the recently active keys.
    fn forget_idle(&self) {
        self.0.retain_recent();
        self.0.shrink_to_fit();
    }
}

/// How often idle limiter entries are dropped.
const FORGET_IDLE_EVERY: Duration = Duration::from_secs(30);

/// The request budgets. Serving them in the router's extensions turns them on.
pub struct RateLimits {
    per_key: Option<Budget<String>>,
    per_token: Option<Budget<String>>,
    per_address: Option<Budget<IpAddr>>,
}

/// A rate as configured: requests a second and the burst above it (0: off).
#[derive(Debug, Clone, Copy)]
pub struct Rate {
    pub per_second: u32,
    pub burst: u32,
}

impl RateLimits {
    /// The budgets, and (inside a runtime) a task that drops idle entries
    /// for as long as they live. `None` when every limit is off.
    pub fn new(per_key: Rate, per_token: Rate, per_address: Rate) -> Option<Arc<Self>> {
        let limits = Self {
            per_key: Budget::new(per_key.per_second, per_key.burst),
            per_token: Budget::new(per_token.per_second, per_token.burst),
            per_address: Budget::new(per_address.per_second, per_address.burst),
        };
        if limits.per_key.is_none() && limits.per_token.is_none() && limits.per_address.is_none() {
            return None;
        }
        let limits = Arc::new(limits);
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let weak = Arc::downgrade(&limits);
            runtime.spawn(async move {
                let mut tick = tokio::time::interval(FORGET_IDLE_EVERY);
                loop {
                    tick.tick().await;
                    let Some(limits) = weak.upgrade() else { return };
                    limits.forget_idle();
                }
            });
        }
        Some(limits)
    }

    fn forget_idle(&self) {
        self.per_key.iter().for_each(Budget::forget_idle);
        self.per_token.iter().for_each(Budget::forget_idle);
        self.per_address.iter().for_each(Budget::forget_idle);
    }

    /// The entries kept now (for tests of the idle drop).
    pub fn entries(&self) -> usize {
        self.per_key.as_ref().map_or(0, |b| b.0.len())
            + self.per_token.as_ref().map_or(0, |b| b.0.len())
            + self.per_address.as_ref().map_or(0, |b| b.0.len())
    }

    fn check_key(&self, key_id: &str) -> Result<(), ApiError> {
        self.per_key.as_ref().map_or(Ok(()), |b| b.check(&key_id.to_owned()))
    }

    fn check_address(&self, address: Option<IpAddr>) -> Result<(), ApiError> {
        match (&self.per_address, address) {
            (Some(budget), Some(address)) => budget.check(&address),
            _ => Ok(()),
        }
    }

    fn check_token(&self, token: &str) -> Result<(), ApiError> {
        self.per_token.as_ref().map_or(Ok(()), |b| b.check(&token.to_owned()))
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
        if let Some(limits) = parts.extensions.get::<Arc<RateLimits>>() {
            if principal.role == Role::Public {
                limits.check_address(ClientAddress::of(parts).0)?;
            } else {
                limits.check_key(principal.actor.id.as_str())?;
            }
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
        let caller = app.caller_with_token(principal, raw).await?;
        if let Some(limits) = parts.extensions.get::<Arc<RateLimits>>() {
            limits.check_token(raw)?;
        }
        Ok(caller)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idle_entries_are_dropped() {
        let budget = Budget::<String>::new(1_000, 1_000).unwrap();
        for key in ["a", "b", "c"] {
            budget.check(&key.to_owned()).unwrap();
        }
        assert_eq!(budget.0.len(), 3);
        // A thousandth of a second refills one request: they are full again.
        std::thread::sleep(Duration::from_millis(10));
        budget.forget_idle();
        assert_eq!(budget.0.len(), 0);
    }

    #[test]
    fn a_budget_refuses_past_its_burst_with_a_wait() {
        let budget = Budget::<IpAddr>::new(1, 2).unwrap();
        let ip: IpAddr = "198.51.100.1".parse().unwrap();
        assert!(budget.check(&ip).is_ok() && budget.check(&ip).is_ok());
        assert!(matches!(budget.check(&ip), Err(ApiError::RateLimited { retry_after_secs: 1 | 2 })));
        assert!(Budget::<String>::new(0, 10).is_none(), "a rate of 0 is no limit");
    }
}
