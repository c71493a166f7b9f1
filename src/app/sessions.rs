//! Dashboard sessions: a signed cookie naming the admin key that signed in,
//! and the CSRF token tied to it. The key is looked up again on every
//! request, so revoking it ends its sessions at once.

use super::{App, AppError};
use crate::domain::{
    Timestamp,
    access::{KeyRecord, KeyRefusal, Principal, Role},
    ids::Uuid,
    session::{self, SessionClaims},
};

/// A signed-in admin, with the cookie of the session and its CSRF token.
#[derive(Debug, Clone)]
pub struct Session {
    pub principal: Principal,
    pub cookie: String,
    /// The CSRF token every form of this session must carry.
    pub csrf: String,
}

impl App {
    /// Signs an admin key in: the key must be admitted and be an admin key.
    /// Returns the session's cookie value.
    pub async fn sign_in(&self, secret: &str) -> Result<String, AppError> {
        let principal = self.admit_key(secret).await?;
        principal.require(Role::Admin)?;
        Ok(session::sign(&SessionClaims::new(principal.key_id.as_str(), Timestamp::now()), &self.secret))
    }

    /// The session a cookie holds, if it is signed, unexpired, and names an
    /// admin key that is still admitted (read by id: the cookie proves it
    /// signed in with its secret). `None` means: sign in again.
    pub async fn session(&self, cookie: &str) -> Result<Option<Session>, AppError> {
        let now = Timestamp::now();
        let Ok(claims) = session::verify(cookie, &self.secret, now) else { return Ok(None) };
        let Ok(key_id) = Uuid::parse("key", &claims.key_id) else { return Ok(None) };
        let key = match self.store.get_key_by_id(&key_id).await.map_err(AppError::from) {
            Ok(key) => key,
            Err(AppError::NotFound(_)) => return Ok(None),
            Err(e) => return Err(e),
        };
        let account = match self.store.get_account(&key.account_id).await.map_err(AppError::from) {
            Ok(account) => account,
            Err(AppError::NotFound(_)) => return Ok(None),
            Err(e) => return Err(e),
        };
        let admitted: Result<Principal, KeyRefusal> =
            Principal::admit(Some(KeyRecord { key, api_access: account.api_access }), now);
        let Ok(principal) = admitted else { return Ok(None) };
        if principal.role != Role::Admin {
            return Ok(None);
        }
        let csrf = session::csrf_token(cookie, &self.secret);
        Ok(Some(Session { principal, cookie: cookie.to_owned(), csrf }))
    }

    /// Whether `presented` is the CSRF token of `session`.
    pub fn check_csrf(&self, session: &Session, presented: &str) -> bool {
        session::check_csrf(&session.cookie, presented, &self.secret)
    }
}
