//! Dashboard sessions: a signed cookie naming the admin key that signed in,
//! and the CSRF token tied to it.
//!
//! A session is `base64url(payload) "." base64url(HMAC-SHA256(purpose ‖ payload))`,
//! the same shape as a feedback token, signed with the same instance-shared
//! secret: any instance behind a load balancer can check it without shared
//! memory. The purpose prefix keeps a feedback token from ever passing as a
//! session (and the other way round). The session holds no rights of its own:
//! the key is looked up again on every request, so revoking it ends the
//! session at once.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use super::{Timestamp, token::TokenRefusal};

/// How long a sign-in lasts.
pub const SESSION_TTL_SECONDS: i64 = 12 * 3_600;

const SESSION_PURPOSE: &[u8] = b"plaudit-session\n";
const CSRF_PURPOSE: &[u8] = b"plaudit-csrf\n";

/// What a session cookie says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionClaims {
    /// The id of the admin key that signed in.
    #[serde(rename = "k")]
    pub key_id: String,
    /// Expiry, UTC milliseconds.
    #[serde(rename = "e")]
    pub expires_at: i64,
}

impl SessionClaims {
    /// A session for `key_id` starting at `now`.
    pub fn new(key_id: impl Into<String>, now: Timestamp) -> Self {
        Self { key_id: key_id.into(), expires_at: now.0 + SESSION_TTL_SECONDS * 1000 }
    }
}

fn mac(secret: &[u8], purpose: &[u8]) -> Hmac<Sha256> {
    let mut m = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
    m.update(purpose);
    m
}

/// Signs claims into a cookie value.
pub fn sign(claims: &SessionClaims, secret: &[u8]) -> String {
    let payload = serde_json::to_vec(claims).unwrap_or_default();
    let mut m = mac(secret, SESSION_PURPOSE);
    m.update(&payload);
    let signature = m.finalize().into_bytes();
    format!("{}.{}", URL_SAFE_NO_PAD.encode(&payload), URL_SAFE_NO_PAD.encode(signature))
}

/// Checks a cookie value's signature and expiry and returns its claims.
pub fn verify(raw: &str, secret: &[u8], now: Timestamp) -> Result<SessionClaims, TokenRefusal> {
    let (payload, signature) = raw.split_once('.').ok_or(TokenRefusal::Malformed)?;
    let payload = URL_SAFE_NO_PAD.decode(payload).map_err(|_| TokenRefusal::Malformed)?;
    let signature = URL_SAFE_NO_PAD.decode(signature).map_err(|_| TokenRefusal::Malformed)?;
    let mut m = mac(secret, SESSION_PURPOSE);
    m.update(&payload);
    m.verify_slice(&signature).map_err(|_| TokenRefusal::BadSignature)?;
    let claims: SessionClaims = serde_json::from_slice(&payload).map_err(|_| TokenRefusal::Malformed)?;
    if claims.expires_at <= now.0 {
        return Err(TokenRefusal::Expired);
    }
    Ok(claims)
}

/// The CSRF token of a session: a MAC of the session cookie, so it is valid
/// for that session only and needs no storage.
pub fn csrf_token(session: &str, secret: &[u8]) -> String {
    let mut m = mac(secret, CSRF_PURPOSE);
    m.update(session.as_bytes());
    URL_SAFE_NO_PAD.encode(m.finalize().into_bytes())
}

/// Whether `presented` is the CSRF token of `session` (compared in constant time).
pub fn check_csrf(session: &str, presented: &str, secret: &[u8]) -> bool {
    let Ok(presented) = URL_SAFE_NO_PAD.decode(presented.trim()) else {
        return false;
    };
    let mut m = mac(secret, CSRF_PURPOSE);
    m.update(session.as_bytes());
    m.verify_slice(&presented).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::token::{self, TokenClaims};

    #[test]
    fn a_session_verifies_until_it_expires() {
        let claims = SessionClaims::new("k1", Timestamp(0));
        let cookie = sign(&claims, b"secret");
        assert_eq!(verify(&cookie, b"secret", Timestamp(1)).unwrap(), claims);
        let end = Timestamp(SESSION_TTL_SECONDS * 1000);
        assert_eq!(verify(&cookie, b"secret", end).unwrap_err(), TokenRefusal::Expired);
    }

    #[test]
    fn tampered_or_foreign_sessions_are_refused() {
        let cookie = sign(&SessionClaims::new("k1", Timestamp(0)), b"secret");
        assert_eq!(verify(&cookie, b"other", Timestamp(0)).unwrap_err(), TokenRefusal::BadSignature);
        let forged = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&SessionClaims::new("k2", Timestamp(0))).unwrap());
        let tampered = format!("{forged}.{}", cookie.split_once('.').unwrap().1);
        assert_eq!(verify(&tampered, b"secret", Timestamp(0)).unwrap_err(), TokenRefusal::BadSignature);
        assert_eq!(verify("nonsense", b"secret", Timestamp(0)).unwrap_err(), TokenRefusal::Malformed);
    }

    #[test]
    fn a_feedback_token_is_not_a_session() {
        let claims = TokenClaims {
            account_id: "default".into(),
            bot_id: "b".into(),
            conversation_id: "c".into(),
            contact_id: "u".into(),
            expires_at: i64::MAX,
        };
        let feedback_token = token::sign(&claims, b"secret");
        assert!(verify(&feedback_token, b"secret", Timestamp(0)).is_err());
    }

    #[test]
    fn csrf_tokens_belong_to_their_session() {
        let a = sign(&SessionClaims::new("k1", Timestamp(0)), b"secret");
        let b = sign(&SessionClaims::new("k2", Timestamp(0)), b"secret");
        let token = csrf_token(&a, b"secret");
        assert!(check_csrf(&a, &token, b"secret"));
        assert!(!check_csrf(&b, &token, b"secret"));
        assert!(!check_csrf(&a, &token, b"other"));
        assert!(!check_csrf(&a, "", b"secret"));
        assert!(!check_csrf(&a, "not base64 !", b"secret"));
    }
}
