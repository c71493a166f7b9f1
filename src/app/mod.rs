//! The application: every operation a door performs, written once.
//!
//! The doors (the JSON API, the dashboard, the compatible routes, the
//! command line) authenticate, parse their wire format into domain inputs,
//! call one method of [`App`], and render its answer. An operation here
//! reads and writes through the [`Store`], decides through the domain's
//! rules, and knows nothing of HTTP. One file an area:
//!
//! - `keys.rs`: admitting a presented key, minting, listing and revoking keys;
//! - `sessions.rs`: signing in (people and admin keys) and dashboard sessions;
//! - `users.rs`: invitations, users and their roles, the audit log;
//! - `sso.rs`: single sign-on with OpenID Connect;
//! - `tokens.rs`: feedback tokens, signed with the instance's secret;
//! - `bots.rs`: accounts, bots and their settings, rating configuration and
//!   prompt copy;
//! - `conversations.rs`: logging conversations and messages, batches, the
//!   inbox and transcripts;
//! - `feedback.rs`, `votes.rs`: thumbs and their review, votes, CSAT;
//! - `golden.rs`, `gaps.rs`, `analytics.rs`, `exports.rs`: what people read
//!   and download;
//! - `lifecycle.rs`: erasure, subject access, retention and its job;
//! - `webhooks.rs`: webhooks and their deliveries; `delivery.rs`: the
//!   worker that sends them; `lease.rs`: background jobs' leases.

mod analytics;
mod bots;
mod conversations;
mod delivery;
pub mod demo;
mod error;
mod exports;
mod feedback;
mod gap_groups;
mod gaps;
mod golden;
mod keys;
mod lease;
mod lifecycle;
mod representing;
mod sessions;
mod sso;
mod tokens;
mod users;
mod votes;
mod webhooks;

use std::sync::{Arc, RwLock};

pub use delivery::DeliveryFigures;
pub use error::AppError;
pub use exports::{Chunks, Export};
pub use lifecycle::Purged;
pub use sessions::Session;
pub use sso::{RoundTrip, SingleSignOn, SsoError};
pub use tokens::IssuedToken;
pub use users::Invited;
pub use webhooks::WebhookOptions;

use crate::store::Store;

/// What every operation stands on: the store, and the secret that signs
/// feedback tokens, CSRF tokens and sign-on round trips (the same in every
/// instance, read again every second: see [`App::keep_secret_fresh`]).
/// Cheap to clone.
#[derive(Clone)]
pub struct App {
    store: Arc<dyn Store>,
    secret: Arc<RwLock<Arc<[u8]>>>,
    webhooks: Arc<WebhookOptions>,
    delivery_counts: Arc<delivery::DeliveryCounts>,
    gap_listings: Arc<gaps::Listings>,
}

impl App {
    /// The application over an open store; reads (or makes, the first time)
    /// the instance's signing secret.
    pub async fn start(store: Arc<dyn Store>) -> Result<Self, AppError> {
        let secret = store.signing_secret().await?;
        Ok(Self {
            store,
            secret: Arc::new(RwLock::new(Arc::from(secret.into_bytes()))),
            webhooks: Arc::default(),
            delivery_counts: Arc::default(),
            gap_listings: Arc::default(),
        })
    }

    /// The same application with these webhook settings.
    pub fn with_webhooks(mut self, options: WebhookOptions) -> Self {
        self.webhooks = Arc::new(options);
        self
    }

    /// The instance's signing secret as last read.
    pub fn secret(&self) -> Arc<[u8]> {
        self.secret.read().map_or_else(|poisoned| Arc::clone(&poisoned.into_inner()), |s| Arc::clone(&s))
    }

    fn set_secret(&self, value: String) {
        let mut kept = self.secret.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        if kept.as_ref() != value.as_bytes() {
            *kept = Arc::from(value.into_bytes());
        }
    }

    /// Replaces the signing secret (`plaudit secrets rotate`): feedback
    /// tokens, open forms and sign-ons begun before stop working, on this
    /// instance at once and on the others within a second.
    pub async fn rotate_secret(&self) -> Result<(), AppError> {
        let fresh = crate::domain::access::Secret::generate().expose().to_owned();
        self.store.rotate_signing_secret(fresh.clone()).await?;
        self.set_secret(fresh);
        Ok(())
    }

    /// Reads the signing secret again every `every` while the application
    /// lives, so that a rotation made elsewhere takes effect here.
    pub fn keep_secret_fresh(&self, every: std::time::Duration) {
        let (store, secret) = (Arc::downgrade(&self.store), Arc::downgrade(&self.secret));
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let (Some(store), Some(secret)) = (store.upgrade(), secret.upgrade()) else { return };
                match store.read_signing_secret().await {
                    Ok(Some(value)) => {
                        Self {
                            store,
                            secret,
                            webhooks: Arc::default(),
                            delivery_counts: Arc::default(),
                            gap_listings: Arc::default(),
                        }
                        .set_secret(value);
                    }
                    Ok(None) => {}
                    Err(e) => tracing::warn!(error = %crate::error_chain::Chain(&e), "cannot read the signing secret"),
                }
            }
        });
    }

    /// Whether the database answers.
    pub async fn ready(&self) -> Result<(), AppError> {
        Ok(self.store.ping().await?)
    }
}
