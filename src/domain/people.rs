//! People: the users of the dashboard, their invitations and passwords, and
//! the sign-in throttle.
//!
//! A user belongs to one account with one role (`viewer`, `reviewer`,
//! `admin`); an email is unique in the installation, so signing in by email
//! finds the account. An admin invites a person, which makes the user and a
//! one-time link (valid 7 days) where they set a password. Passwords are
//! kept as Argon2id hashes.

use argon2::{
    Argon2,
    password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString},
};
use rand::{Rng, distr::Alphanumeric};
use serde::Serialize;

use super::{
    DomainError, Timestamp,
    access::Role,
    ids::{MAX_SHORT_TEXT_LEN, Uuid, short_text},
};

/// How long an invitation link stays valid.
pub const INVITATION_TTL_SECONDS: i64 = 7 * 86_400;
/// The shortest password accepted, in characters.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// The longest password accepted, in bytes (hashing is bounded work).
pub const MAX_PASSWORD_BYTES: usize = 1_024;

/// A person who uses the dashboard.
#[derive(Debug, Clone, Serialize)]
pub struct User {
    pub id: Uuid,
    pub account_id: String,
    pub email: String,
    pub name: String,
    pub role: Role,
    /// Whether a password is set (a user who only signs in through single
    /// sign-on, or who has not accepted the invitation yet, has none).
    pub has_password: bool,
    pub created_at: Timestamp,
    pub disabled_at: Option<Timestamp>,
}

impl User {
    /// Whether the user may sign in and keep a session.
    pub fn active(&self) -> bool {
        self.disabled_at.is_none()
    }
}

/// A user to make, with their invitation.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub account_id: String,
    pub email: String,
    pub name: String,
    pub role: Role,
}

impl NewUser {
    /// Checks an invitation's fields. Without a name, the part of the email
    /// before `@` stands for it.
    pub fn parse(account_id: String, email: &str, name: Option<&str>, role: &str) -> Result<Self, DomainError> {
        let email = parse_email("email", email)?;
        let role = Role::parse_user("role", role)?;
        let name = match name.map(str::trim).filter(|n| !n.is_empty()) {
            Some(n) => short_text("name", n, MAX_SHORT_TEXT_LEN)?,
            None => email.split('@').next().unwrap_or_default().to_owned(),
        };
        Ok(Self { account_id, email, name, role })
    }
}

/// A lower-cased email address, checked for shape (one `@`, a dotted
/// domain, no spaces; at most 254 characters).
pub fn parse_email(field: &str, raw: &str) -> Result<String, DomainError> {
    let email = raw.trim().to_lowercase();
    let bad = || DomainError::invalid(field, "must be an email address such as ana@example.com");
    if email.len() > 254 || email.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad());
    }
    let (local, domain) = email.split_once('@').ok_or_else(bad)?;
    let labels_ok = domain.split('.').all(|l| !l.is_empty() && !l.starts_with('-') && !l.ends_with('-'));
    if local.is_empty() || domain.contains('@') || !domain.contains('.') || !labels_ok {
        return Err(bad());
    }
    Ok(email)
}

/// The domain of a checked email address.
pub fn email_domain(email: &str) -> &str {
    email.rsplit_once('@').map_or("", |(_, d)| d)
}

/// A password as the person chose it, checked for length.
pub struct Password(String);

impl Password {
    pub fn parse(field: &str, raw: &str) -> Result<Self, DomainError> {
        if raw.len() > MAX_PASSWORD_BYTES {
            return Err(DomainError::invalid(field, format!("must be at most {MAX_PASSWORD_BYTES} bytes")));
        }
        if raw.chars().count() < MIN_PASSWORD_CHARS {
            return Err(DomainError::invalid(field, format!("must be at least {MIN_PASSWORD_CHARS} characters")));
        }
        Ok(Self(raw.to_owned()))
    }

    /// The Argon2id hash (a PHC string, with its own random salt) to keep.
    /// Deliberately slow: run it off the async threads.
    pub fn hash(&self) -> String {
        let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>()).expect("16 bytes make a valid salt");
        Argon2::default()
            .hash_password(self.0.as_bytes(), &salt)
            .map(|h| h.to_string())
            .expect("Argon2id with default parameters hashes any password")
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// Whether `presented` matches a kept hash. Slow, like [`Password::hash`].
pub fn verify_password(kept: &str, presented: &str) -> bool {
    if presented.len() > MAX_PASSWORD_BYTES {
        return false;
    }
    PasswordHash::new(kept).is_ok_and(|h| Argon2::default().verify_password(presented.as_bytes(), &h).is_ok())
}

/// A hash of a throwaway password, checked against when the email is
/// unknown, so that an unknown email takes as long as a wrong password.
pub fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| Password("not a password anyone has".into()).hash())
}

/// A random one-time token (an invitation, a session cookie) with a
/// recognisable prefix. Only its hash is kept.
pub fn random_token(prefix: &str) -> String {
    let body: String = rand::rng().sample_iter(&Alphanumeric).take(40).map(char::from).collect();
    format!("{prefix}{body}")
}

/// Prefix of invitation tokens.
pub const INVITATION_PREFIX: &str = "pli_";

/// The sign-in link of an invitation, on the address people reach Plaudit at.
pub fn invitation_link(public_url: &str, token: &str) -> String {
    format!("{}/invite/{token}", public_url.trim_end_matches('/'))
}

/// A user's invitation as the link finds it.
#[derive(Debug, Clone)]
pub struct Invitation {
    pub user: User,
    pub expires_at: Timestamp,
    pub used_at: Option<Timestamp>,
}

/// Why an invitation link does not work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvitationRefusal {
    Unknown,
    Used,
    Expired,
    Disabled,
}

impl InvitationRefusal {
    pub fn message(self) -> &'static str {
        match self {
            Self::Unknown => "This invitation link is not valid. Ask an admin for a new one.",
            Self::Used => "This invitation link was already used. Sign in, or ask an admin for a new one.",
            Self::Expired => "This invitation link has expired. Ask an admin for a new one.",
            Self::Disabled => "This user is disabled. Ask an admin.",
        }
    }
}

impl Invitation {
    /// Whether the link may still set a password at `now`.
    pub fn check(&self, now: Timestamp) -> Result<(), InvitationRefusal> {
        if self.used_at.is_some() {
            Err(InvitationRefusal::Used)
        } else if self.expires_at <= now {
            Err(InvitationRefusal::Expired)
        } else if !self.user.active() {
            Err(InvitationRefusal::Disabled)
        } else {
            Ok(())
        }
    }
}

/// Why a sign-in was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInRefusal {
    /// Unknown email, wrong password, or a disabled user: one answer for all,
    /// so that it tells nothing about who exists.
    WrongCredentials,
    /// Too many failures: try again in this many seconds.
    Throttled { retry_after_secs: i64 },
}

/// The sign-in throttle: after this many failures for one email or one
/// client address within [`THROTTLE_WINDOW_MS`], sign-ins answer 429 for
/// [`THROTTLE_LOCK_MS`].
pub const THROTTLE_FAILURES: usize = 5;
pub const THROTTLE_WINDOW_MS: i64 = 15 * 60_000;
pub const THROTTLE_LOCK_MS: i64 = 15 * 60_000;
/// How far back the failures that can still lock are read.
pub const THROTTLE_LOOKBACK_MS: i64 = THROTTLE_WINDOW_MS + THROTTLE_LOCK_MS;

/// Until when a subject is locked out, given its recent failures (oldest
/// first): 15 minutes after any failure that completed 5 within 15 minutes.
pub fn locked_until(failures: &[Timestamp], now: Timestamp) -> Option<Timestamp> {
    failures
        .windows(THROTTLE_FAILURES)
        .filter(|w| w[THROTTLE_FAILURES - 1].0 - w[0].0 <= THROTTLE_WINDOW_MS)
        .map(|w| Timestamp(w[THROTTLE_FAILURES - 1].0 + THROTTLE_LOCK_MS))
        .max()
        .filter(|until| *until > now)
}

/// The throttle subjects of a sign-in attempt.
pub fn throttle_subjects(email: &str, address: Option<&str>) -> Vec<String> {
    let mut subjects = vec![format!("email:{}", email.trim().to_lowercase())];
    subjects.extend(address.map(|a| format!("address:{a}")));
    subjects
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_checked_and_lower_cased() {
        assert_eq!(parse_email("email", " Ana@Example.COM ").unwrap(), "ana@example.com");
        for bad in ["", "ana", "@example.com", "ana@", "ana@example", "a b@example.com", "a@b@example.com", "a@.com"] {
            assert!(parse_email("email", bad).is_err(), "{bad}");
        }
        assert_eq!(email_domain("ana@example.com"), "example.com");
    }

    #[test]
    fn invitations_default_the_name_and_check_the_role() {
        let u = NewUser::parse("default".into(), "ana@example.com", None, "reviewer").unwrap();
        assert_eq!((u.name.as_str(), u.role), ("ana", Role::Reviewer));
        assert!(NewUser::parse("default".into(), "ana@example.com", None, "server").is_err());
        assert!(NewUser::parse("default".into(), "ana@example.com", Some(" "), "owner").is_err());
    }

    #[test]
    fn passwords_need_twelve_characters_and_verify_against_their_hash() {
        assert!(Password::parse("password", "elevenchars").is_err());
        assert!(Password::parse("password", &"x".repeat(MAX_PASSWORD_BYTES + 1)).is_err());
        let p = Password::parse("password", "twelve chars").unwrap();
        assert_eq!(format!("{p:?}"), "Password(<redacted>)");
        let kept = p.hash();
        assert!(kept.starts_with("$argon2id$"), "{kept}");
        assert_ne!(kept, Password::parse("password", "twelve chars").unwrap().hash(), "salted");
        assert!(verify_password(&kept, "twelve chars"));
        assert!(!verify_password(&kept, "twelve chars!"));
        assert!(!verify_password("not a hash", "twelve chars"));
        assert!(!verify_password(decoy_hash(), "twelve chars"));
    }

    #[test]
    fn five_failures_in_fifteen_minutes_lock_for_fifteen_minutes() {
        let min = 60_000;
        let at = |m: &[i64]| m.iter().map(|m| Timestamp(m * min)).collect::<Vec<_>>();
        assert_eq!(locked_until(&at(&[0, 1, 2, 3]), Timestamp(4 * min)), None);
        let five = at(&[0, 1, 2, 3, 4]);
        assert_eq!(locked_until(&five, Timestamp(4 * min)), Some(Timestamp(19 * min)));
        assert_eq!(locked_until(&five, Timestamp(19 * min)), None, "free again after 15 minutes");
        assert_eq!(locked_until(&at(&[0, 5, 10, 15, 20]), Timestamp(20 * min)), None, "spread over 20 minutes");
        assert_eq!(locked_until(&at(&[0, 5, 10, 14, 15]), Timestamp(16 * min)), Some(Timestamp(30 * min)));
    }

    #[test]
    fn invitations_work_once_and_for_seven_days() {
        let user = User {
            id: Uuid::new(),
            account_id: "default".into(),
            email: "a@b.co".into(),
            name: "a".into(),
            role: Role::Viewer,
            has_password: false,
            created_at: Timestamp(0),
            disabled_at: None,
        };
        let mut inv = Invitation { user, expires_at: Timestamp(INVITATION_TTL_SECONDS * 1000), used_at: None };
        assert!(inv.check(Timestamp(1)).is_ok());
        assert_eq!(inv.check(inv.expires_at).unwrap_err(), InvitationRefusal::Expired);
        inv.used_at = Some(Timestamp(2));
        assert_eq!(inv.check(Timestamp(3)).unwrap_err(), InvitationRefusal::Used);
        inv.used_at = None;
        inv.user.disabled_at = Some(Timestamp(2));
        assert_eq!(inv.check(Timestamp(3)).unwrap_err(), InvitationRefusal::Disabled);
    }
}
