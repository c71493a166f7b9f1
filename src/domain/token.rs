//! Feedback tokens: short-lived, signed permission for a browser to rate one
//! conversation as its contact, next to a `public` key.
//!
//! A token is `base64url(payload) "." base64url(HMAC-SHA256(payload))`; the
//! payload names the account, bot, conversation, contact, expiry and the key
//! that issued it (revoking that key ends its tokens). The signing secret is
//! shared by every instance through the database; rotating it ends every
//! token signed before.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use super::{
    DomainError, Timestamp,
    access::{Principal, Rater},
    ids::{MAX_SHORT_TEXT_LEN, optional_short_text},
};

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
    /// The key that issued it. Tokens issued before keys were named in them
    /// have none, and are honoured until they expire.
    #[serde(rename = "k", default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
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
    /// Issued in another account, or for a bot the key is not bound to.
    OtherKey,
    /// Presented for another conversation than its own.
    OtherConversation,
    /// Issued for another bot than the one asked about.
    OtherBot,
    /// The key that issued it is revoked or expired.
    IssuerRevoked,
}

impl TokenClaims {
    /// A token is valid only with a key of its account, bound to no bot or
    /// to the token's.
    pub fn check_key(&self, principal: &Principal) -> Result<(), TokenRefusal> {
        let foreign_bot = principal.bot_id.as_ref().is_some_and(|b| b.as_str() != self.bot_id);
        if self.account_id != principal.account_id || foreign_bot {
            return Err(TokenRefusal::OtherKey);
        }
        Ok(())
    }
}

/// Who acts on a rating route: a key, and for a `public` key the feedback
/// token that says which conversation it may rate, as whom.
#[derive(Debug, Clone)]
pub struct Caller {
    pub principal: Principal,
    pub token: Option<TokenClaims>,
}

impl Caller {
    /// A key acting on its own, without a token.
    pub fn key(principal: Principal) -> Self {
        Self { principal, token: None }
    }

    /// The token's contact, when rating through a token.
    pub fn contact(&self) -> Option<&str> {
        self.token.as_ref().map(|t| t.contact_id.as_str())
    }

    /// A token may rate only its own conversation.
    pub fn check_conversation(&self, conversation_id: &str) -> Result<(), TokenRefusal> {
        match &self.token {
            Some(t) if t.conversation_id != conversation_id => Err(TokenRefusal::OtherConversation),
            _ => Ok(()),
        }
    }

    /// Who rates: see [`Principal::rater`].
    pub fn rater(&self, user_id: Option<&str>, has_created_at: bool) -> Result<Rater, DomainError> {
        self.principal.rater(self.contact(), user_id, has_created_at)
    }
}

/// What a token is asked for: its contact (by default the conversation's)
/// and its lifetime.
#[derive(Debug, Clone)]
pub struct TokenRequest {
    pub contact_id: Option<String>,
    pub ttl_seconds: i64,
}

impl Default for TokenRequest {
    fn default() -> Self {
        Self { contact_id: None, ttl_seconds: DEFAULT_TTL_SECONDS }
    }
}

impl TokenRequest {
    pub fn parse(contact_id: Option<&str>, ttl_seconds: Option<i64>) -> Result<Self, DomainError> {
        Ok(Self {
            contact_id: optional_short_text("contact_id", contact_id, MAX_SHORT_TEXT_LEN)?,
            ttl_seconds: ttl(ttl_seconds)?,
        })
    }
}

/// The contact a token rates as: the conversation's own, else the one asked
/// for, else `visitor:<conversation id>`. Asking for another contact than
/// the conversation's is refused.
pub fn contact_for(
    conversation_id: &str,
    own: Option<String>,
    requested: Option<String>,
) -> Result<String, DomainError> {
    match (own, requested) {
        (Some(own), Some(asked)) if own != asked => {
            Err(DomainError::invalid("contact_id", "does not match the conversation's contact"))
        }
        (Some(own), _) => Ok(own),
        (None, Some(asked)) => Ok(asked),
        (None, None) => Ok(format!("visitor:{conversation_id}")),
    }
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
            key_id: Some("k1".into()),
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
    fn tokens_without_an_issuer_still_read() {
        let mut old = claims();
        old.key_id = None;
        let t = sign(&old, b"secret");
        assert!(
            !String::from_utf8(URL_SAFE_NO_PAD.decode(t.split_once('.').unwrap().0).unwrap())
                .unwrap()
                .contains("\"k\"")
        );
        assert_eq!(verify(&t, b"secret", Timestamp(0)).unwrap().key_id, None);
    }

    #[test]
    fn lifetimes_are_bounded() {
        assert_eq!(ttl(None).unwrap(), DEFAULT_TTL_SECONDS);
        assert!(ttl(Some(0)).is_err());
        assert!(ttl(Some(MAX_TTL_SECONDS + 1)).is_err());
    }
}
