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
//!   and download.

mod analytics;
mod bots;
mod conversations;
pub mod demo;
mod error;
mod exports;
mod feedback;
mod gaps;
mod golden;
mod keys;
mod sessions;
mod sso;
mod tokens;
mod users;
mod votes;

use std::sync::Arc;

pub use error::AppError;
pub use exports::{Chunks, Export};
pub use sessions::Session;
pub use sso::{RoundTrip, SingleSignOn, SsoError};
pub use tokens::IssuedToken;
pub use users::Invited;

use crate::store::Store;

/// What every operation stands on: the store, and the secret that signs
/// feedback tokens and sessions (the same in every instance). Cheap to clone.
#[derive(Clone)]
pub struct App {
    store: Arc<dyn Store>,
    secret: Arc<[u8]>,
}

impl App {
    /// The application over an open store; reads (or makes, the first time)
    /// the instance's signing secret.
    pub async fn start(store: Arc<dyn Store>) -> Result<Self, AppError> {
        let secret = store.signing_secret().await?;
        Ok(Self { store, secret: Arc::from(secret.into_bytes()) })
    }

    /// The instance's signing secret (sessions' CSRF tokens, sign-on round trips).
    pub fn secret(&self) -> &[u8] {
        &self.secret
    }

    /// Whether the database answers.
    pub async fn ready(&self) -> Result<(), AppError> {
        Ok(self.store.ping().await?)
    }
}
