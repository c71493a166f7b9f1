//! Dashboard sessions: the cookie, the CSRF token tied to it, and the
//! signed, short-lived state of a single sign-on round trip.
//!
//! A session is a row in the database named by the hash of a random cookie
//! value (see `people::random_token`): signing out, signing out everywhere,
//! disabling a user or changing their role deletes the rows, and every
//! instance reads the row on each request. The CSRF token of a session is a
//! MAC of its cookie with the instance-shared secret, so it needs no storage.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use serde::{Serialize, de::DeserializeOwned};
use sha2::Sha256;

use super::{Timestamp, token::TokenRefusal};

/// How long a sign-in lasts.
pub const SESSION_TTL_SECONDS: i64 = 12 * 3_600;
/// Prefix of session cookie values.
pub const SESSION_PREFIX: &str = "pls_";
/// How long a single sign-on round trip may take.
pub const SIGN_ON_TTL_SECONDS: i64 = 10 * 60;

const CSRF_PURPOSE: &[u8] = b"plaudit-csrf\n";
const SIGN_ON_PURPOSE: &[u8] = b"plaudit-sign-on\n";

fn mac(secret: &[u8], purpose: &[u8]) -> Hmac<Sha256> {
    let mut m = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
    m.update(purpose);
    m
}

/// Signs the state of a single sign-on round trip (kept in a cookie until
/// the provider sends the browser back), valid for [`SIGN_ON_TTL_SECONDS`].
pub fn sign_round_trip<T: Serialize>(state: &T, secret: &[u8], now: Timestamp) -> String {
    let payload = serde_json::to_vec(&(now.0 + SIGN_ON_TTL_SECONDS * 1000, state)).unwrap_or_default();
    let mut m = mac(secret, SIGN_ON_PURPOSE);
    m.update(&payload);
    format!("{}.{}", URL_SAFE_NO_PAD.encode(&payload), URL_SAFE_NO_PAD.encode(m.finalize().into_bytes()))
}

/// The state [`sign_round_trip`] signed, if the signature holds and it has not expired.
pub fn verify_round_trip<T: DeserializeOwned>(raw: &str, secret: &[u8], now: Timestamp) -> Result<T, TokenRefusal> {
    let (payload, signature) = raw.split_once('.').ok_or(TokenRefusal::Malformed)?;
    let payload = URL_SAFE_NO_PAD.decode(payload).map_err(|_| TokenRefusal::Malformed)?;
    let signature = URL_SAFE_NO_PAD.decode(signature).map_err(|_| TokenRefusal::Malformed)?;
    let mut m = mac(secret, SIGN_ON_PURPOSE);
    m.update(&payload);
    m.verify_slice(&signature).map_err(|_| TokenRefusal::BadSignature)?;
    let (expires_at, state): (i64, T) = serde_json::from_slice(&payload).map_err(|_| TokenRefusal::Malformed)?;
    if expires_at <= now.0 {
        return Err(TokenRefusal::Expired);
    }
    Ok(state)
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

    #[test]
    fn round_trips_verify_until_they_expire() {
        let signed = sign_round_trip(&("state", 7), b"secret", Timestamp(0));
        let back: (String, i32) = verify_round_trip(&signed, b"secret", Timestamp(1)).unwrap();
        assert_eq!(back, ("state".to_owned(), 7));
        let end = Timestamp(SIGN_ON_TTL_SECONDS * 1000);
        assert_eq!(verify_round_trip::<(String, i32)>(&signed, b"secret", end).unwrap_err(), TokenRefusal::Expired);
        assert_eq!(
            verify_round_trip::<(String, i32)>(&signed, b"other", Timestamp(1)).unwrap_err(),
            TokenRefusal::BadSignature
        );
        assert!(verify_round_trip::<(String, i32)>("nonsense", b"secret", Timestamp(1)).is_err());
    }

    #[test]
    fn csrf_tokens_belong_to_their_session() {
        let (a, b) = ("pls_a", "pls_b");
        let token = csrf_token(a, b"secret");
        assert!(check_csrf(a, &token, b"secret"));
        assert!(!check_csrf(b, &token, b"secret"));
        assert!(!check_csrf(a, &token, b"other"));
        assert!(!check_csrf(a, "", b"secret"));
        assert!(!check_csrf(a, "not base64 !", b"secret"));
    }
}
