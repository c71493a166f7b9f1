//! Dashboard sessions: signing in (a person by email and password, or an
//! admin key), the session a cookie names, signing out, and the CSRF token
//! tied to a session.
//!
//! A session is a row of the database named by the hash of the cookie's
//! random value. Each request reads it, and then the user (or key) behind
//! it, so a disabled user, a changed role, a revoked key or a signed-out
//! session stops working at once on every instance.

use super::{App, AppError};
use crate::{
    domain::{
        Timestamp,
        access::{KeyRecord, Principal, Role, hash_secret},
        audit::Actor,
        people::{self, SignInRefusal, User},
        session,
    },
    store::{SessionOwner, UserChange},
};

/// A signed-in person or admin key, with the cookie of the session and its CSRF token.
#[derive(Debug, Clone)]
pub struct Session {
    /// Who acts: the user (with their role) or the admin key.
    pub principal: Principal,
    /// The signed-in user, for a person's session.
    pub user: Option<User>,
    pub cookie: String,
    /// The CSRF token every form of this session must carry.
    pub csrf: String,
}

impl App {
    /// Signs an admin key in. Returns the session's cookie value.
    pub async fn sign_in_with_key(&self, secret: &str) -> Result<String, AppError> {
        let principal = self.admit_key(secret).await?;
        principal.require(Role::Admin)?;
        let key_id = crate::domain::ids::Uuid::parse("key", &principal.actor.id)?;
        self.start_session(principal.account_id, SessionOwner::Key(key_id)).await
    }

    /// Signs a person in by email and password, under the throttle: after 5
    /// failures for the email or the client address within 15 minutes,
    /// attempts are refused for 15 minutes without checking the password.
    pub async fn sign_in_with_password(
        &self,
        email: &str,
        password: &str,
        address: Option<&str>,
    ) -> Result<String, AppError> {
        let now = Timestamp::now();
        let subjects = people::throttle_subjects(email, address);
        let since = Timestamp(now.0 - people::THROTTLE_LOOKBACK_MS);
        let failures = self.store.sign_in_failures(&subjects, since).await?;
        if let Some(until) = failures.iter().filter_map(|f| people::locked_until(f, now)).max() {
            return Err(SignInRefusal::Throttled { retry_after_secs: (until.0 - now.0 + 999) / 1000 }.into());
        }
        let found = match people::parse_email("email", email) {
            Ok(email) => self.store.user_by_email(&email).await?,
            Err(_) => None,
        };
        let (kept, presented) = (found.as_ref().and_then(|(_, hash)| hash.clone()), password.to_owned());
        // Argon2id is deliberately slow: off the async threads. An unknown
        // email is checked against a decoy, so it takes as long.
        let matches = tokio::task::spawn_blocking(move || {
            people::verify_password(kept.as_deref().unwrap_or(people::decoy_hash()), &presented)
        })
        .await
        .unwrap_or(false);
        let user = found.map(|(user, _)| user).filter(|user| matches && user.active());
        let Some(user) = user else {
            self.store.record_sign_in_failure(&subjects, since, now).await?;
            return Err(SignInRefusal::WrongCredentials.into());
        };
        self.store.clear_sign_in_failures(&subjects[0]).await?;
        self.start_session(user.account_id.clone(), SessionOwner::User(user.id)).await
    }

    /// Starts a session for a user who proved who they are elsewhere (an
    /// invitation link, single sign-on).
    pub(super) async fn sign_in_user(&self, user: &User) -> Result<String, AppError> {
        if !user.active() {
            return Err(SignInRefusal::WrongCredentials.into());
        }
        self.start_session(user.account_id.clone(), SessionOwner::User(user.id.clone())).await
    }

    async fn start_session(&self, account_id: String, owner: SessionOwner) -> Result<String, AppError> {
        let now = Timestamp::now();
        let cookie = people::random_token(session::SESSION_PREFIX);
        let expires_at = Timestamp(now.0 + session::SESSION_TTL_SECONDS * 1000);
        self.store.start_session(hash_secret(&cookie), account_id, owner, expires_at, now).await?;
        Ok(cookie)
    }

    /// The session a cookie names, if it exists, has not expired, and its
    /// user is active (or its key still an admitted admin key). `None`
    /// means: sign in again.
    pub async fn session(&self, cookie: &str) -> Result<Option<Session>, AppError> {
        let now = Timestamp::now();
        if !cookie.starts_with(session::SESSION_PREFIX) {
            return Ok(None);
        }
        let Some(row) = self.store.session(&hash_secret(cookie), now).await? else { return Ok(None) };
        let account = match self.store.get_account(&row.account_id).await {
            Ok(account) => account,
            Err(crate::store::StoreError::NotFound(_)) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let (principal, user) = match row.owner {
            SessionOwner::User(id) => {
                let Some(user) = self.store.user_by_id(&id).await?.filter(User::active) else { return Ok(None) };
                let principal = Principal {
                    actor: Actor::user(&user.id, &user.name),
                    account_id: user.account_id.clone(),
                    role: user.role,
                    bot_id: None,
                };
                (principal, Some(user))
            }
            SessionOwner::Key(id) => {
                let key = match self.store.get_key_by_id(&id).await {
                    Ok(key) => key,
                    Err(crate::store::StoreError::NotFound(_)) => return Ok(None),
                    Err(e) => return Err(e.into()),
                };
                let record = KeyRecord { key, api_access: account.api_access };
                let Ok(principal) = Principal::admit(Some(record), now) else { return Ok(None) };
                if principal.role != Role::Admin {
                    return Ok(None);
                }
                (principal, None)
            }
        };
        let csrf = session::csrf_token(cookie, &self.secret());
        Ok(Some(Session { principal, user, cookie: cookie.to_owned(), csrf }))
    }

    /// Ends one session.
    pub async fn sign_out(&self, session: &Session) -> Result<(), AppError> {
        Ok(self.store.end_session(&hash_secret(&session.cookie)).await?)
    }

    /// Ends every session of the signed-in person (this one too).
    pub async fn sign_out_everywhere(&self, session: &Session) -> Result<(), AppError> {
        match &session.user {
            Some(user) => {
                let scope = session.principal.scope();
                let now = Timestamp::now();
                let by = &session.principal.actor;
                self.store.change_user(&scope, &user.id, UserChange::SignOutEverywhere, by, now).await?;
                Ok(())
            }
            None => self.sign_out(session).await,
        }
    }

    /// Whether `presented` is the CSRF token of `session`.
    pub fn check_csrf(&self, session: &Session, presented: &str) -> bool {
        session::check_csrf(&session.cookie, presented, &self.secret())
    }
}
