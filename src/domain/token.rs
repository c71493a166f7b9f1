//! Feedback tokens: short-lived, signed permission for a browser to rate one
//! conversation as its contact, next to a `public` key.
//!
//! A token is `base64url(payload) "." base64url(HMAC-SHA256(payload))`; the
//! payload names the account, bot, conversation, contact and expiry. The
//! signing secret is shared by every instance through the database.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use super::{DomainError, Timestamp};

/// Default lifetime of a token.
pub const DEFAULT_TTL_SECONDS: i64 = 3_600;
/// Longest lifetime a token may be given.
pub const MAX_TTL_SECONDS: i64 = 7 * 86_400;

/// What a token grants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenClaims {
    #[serde(rename = "a")]
    pub account_id: String,
    #[serde(rename = "b")]
    pub bot_id: String,
    #[serde(rename = "c")]
    pub conversation_id: String,
    #[serde(rename = "u")]
    pub contact_id: String,
    /// Expiry, UTC milliseconds.
    #[serde(rename = "e")]
    pub expires_at: i64,
}

fn mac(secret: &[u8]) -> Hmac<Sha256> {
    Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length")
}

/// Signs claims into a token.
pub fn sign(claims: &TokenClaims, secret: &[u8]) -> String {
    let payload = serde_json::to_vec(claims).unwrap_or_default();
    let mut m = mac(secret);
    m.update(&payload);
    let signature = m.finalize().into_bytes();
    format!("{}.{}", URL_SAFE_NO_PAD.encode(&payload), URL_SAFE_NO_PAD.encode(signature))
}

/// Why a token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenRefusal {
    Malformed,
    BadSignature,
    Expired,
}

/// Checks a token's signature and expiry and returns its claims.
pub fn verify(token: &str, secret: &[u8], now: Timestamp) -> Result<TokenClaims, TokenRefusal> {
    let (payload, signature) = token.split_once('.').ok_or(TokenRefusal::Malformed)?;
    let payload = URL_SAFE_NO_PAD.decode(payload).map_err(|_| TokenRefusal::Malformed)?;
    let signature = URL_SAFE_NO_PAD.decode(signature).map_err(|_| TokenRefusal::Malformed)?;
    let mut m = mac(secret);
    m.update(&payload);
    m.verify_slice(&signature).map_err(|_| TokenRefusal::BadSignature)?;
    let claims: TokenClaims = serde_json::from_slice(&payload).map_err(|_| TokenRefusal::Malformed)?;
    if claims.expires_at <= now.0 {
        return Err(TokenRefusal::Expired);
    }
    Ok(claims)
}

/// Checks a requested lifetime.
pub fn ttl(raw: Option<i64>) -> Result<i64, DomainError> {
    match raw {
        None => Ok(DEFAULT_TTL_SECONDS),
        Some(s) if (1..=MAX_TTL_SECONDS).contains(&s) => Ok(s),
        Some(_) => Err(DomainError::invalid("ttl_seconds", format!("must be from 1 to {MAX_TTL_SECONDS} seconds"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims() -> TokenClaims {
        TokenClaims {
            account_id: "default".into(),
            bot_id: "b".into(),
            conversation_id: "c1".into(),
            contact_id: "visitor-7".into(),
            expires_at: 10_000,
        }
    }

    #[test]
    fn a_signed_token_verifies_until_it_expires() {
        let t = sign(&claims(), b"secret");
        assert_eq!(verify(&t, b"secret", Timestamp(9_999)).unwrap(), claims());
        assert_eq!(verify(&t, b"secret", Timestamp(10_000)).unwrap_err(), TokenRefusal::Expired);
    }

    #[test]
    fn tampering_or_another_secret_is_refused() {
        let t = sign(&claims(), b"secret");
        assert_eq!(verify(&t, b"other", Timestamp(0)).unwrap_err(), TokenRefusal::BadSignature);
        let mut forged = claims();
        forged.conversation_id = "c2".into();
        let forged_payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&forged).unwrap());
        let signature = t.split_once('.').unwrap().1;
        let tampered = format!("{forged_payload}.{signature}");
        assert_eq!(verify(&tampered, b"secret", Timestamp(0)).unwrap_err(), TokenRefusal::BadSignature);
        assert_eq!(verify("garbage", b"secret", Timestamp(0)).unwrap_err(), TokenRefusal::Malformed);
    }

    #[test]
    fn lifetimes_are_bounded() {
        assert_eq!(ttl(None).unwrap(), DEFAULT_TTL_SECONDS);
        assert!(ttl(Some(0)).is_err());
        assert!(ttl(Some(MAX_TTL_SECONDS + 1)).is_err());
    }
}
