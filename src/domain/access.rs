//! API keys, roles and the principal a request acts as.

use rand::{Rng, distr::Alphanumeric};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{
    DomainError, Timestamp,
    audit::{Actor, ActorKind},
    ids::Uuid,
};

/// What a key or a person may do. Keys are `public`, `server` or `admin`;
/// people (users of the dashboard) are `viewer`, `reviewer` or `admin`.
/// [`Role::grants`] says which role covers which.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// A key safe to ship in a browser: reads rating config and prompt copy,
    /// and rates one conversation through a feedback token.
    Public,
    /// The chat backend's key: logs conversations, submits and reads
    /// feedback, analytics and exports.
    Server,
    /// A person who reads: overview, inbox, transcripts, knowledge gaps, exports.
    Viewer,
    /// A person who also reviews feedback, answers gaps and curates golden examples.
    Reviewer,
    /// Everything, including settings, keys, users and the audit log.
    Admin,
}

impl Role {
    /// The roles of keys, in order.
    pub const KEY_ROLES: [Self; 3] = [Self::Public, Self::Server, Self::Admin];
    /// The roles the JSON API names: those of keys (people use the dashboard only).
    pub const ALL: [Self; 3] = Self::KEY_ROLES;
    /// The roles of people, in order.
    pub const USER_ROLES: [Self; 3] = [Self::Viewer, Self::Reviewer, Self::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::Server => "server",
            Self::Viewer => "viewer",
            Self::Reviewer => "reviewer",
            Self::Admin => "admin",
        }
    }

    /// A key's role.
    pub fn parse(field: &str, raw: &str) -> Result<Self, DomainError> {
        Self::KEY_ROLES
            .into_iter()
            .find(|r| r.as_str() == raw)
            .ok_or_else(|| DomainError::invalid(field, "must be one of admin, server, public"))
    }

    /// A person's role.
    pub fn parse_user(field: &str, raw: &str) -> Result<Self, DomainError> {
        Self::USER_ROLES
            .into_iter()
            .find(|r| r.as_str() == raw)
            .ok_or_else(|| DomainError::invalid(field, "must be one of viewer, reviewer, admin"))
    }

    /// Whether this role may do what `needed` may: admin everything, each
    /// role what the ones below it on its own ladder may (public → server →
    /// admin for keys, viewer → reviewer → admin for people).
    pub fn grants(self, needed: Self) -> bool {
        let rank = |r: Self| match r {
            Self::Public | Self::Viewer => 0,
            Self::Server | Self::Reviewer => 1,
            Self::Admin => 2,
        };
        let is_key = |r: Self| matches!(r, Self::Public | Self::Server);
        let is_user = |r: Self| matches!(r, Self::Viewer | Self::Reviewer);
        self == Self::Admin
            || (rank(self) >= rank(needed) && !(is_key(self) && is_user(needed)) && !(is_user(self) && is_key(needed)))
    }
}

/// Who gives a signal (a thumb, a vote, a CSAT answer), so that analytics
/// can keep them apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// A visitor, through the widget or a feedback token.
    EndUser,
    /// A server key, on a user's behalf.
    Api,
    /// An admin.
    Reviewer,
}

impl Source {
    /// Every value, in order.
    pub const ALL: [Self; 3] = [Self::EndUser, Self::Api, Self::Reviewer];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::EndUser => "end_user",
            Self::Api => "api",
            Self::Reviewer => "reviewer",
        }
    }

    pub fn from_db(raw: &str) -> Self {
        match raw {
            "end_user" => Self::EndUser,
            "reviewer" => Self::Reviewer,
            _ => Self::Api,
        }
    }

    /// The source a key's role speaks for.
    pub fn of_role(role: Role) -> Self {
        match role {
            Role::Public => Self::EndUser,
            Role::Server => Self::Api,
            Role::Viewer | Role::Reviewer | Role::Admin => Self::Reviewer,
        }
    }
}

/// Prefix of every secret, so a leaked key is recognisable in logs and scanners.
pub const SECRET_PREFIX: &str = "plk_";

/// A freshly generated key secret. It is shown once; only its hash is kept.
pub struct Secret(String);

impl Secret {
    pub fn generate() -> Self {
        let body: String = rand::rng().sample_iter(&Alphanumeric).take(40).map(char::from).collect();
        Self(format!("{SECRET_PREFIX}{body}"))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The first characters, stored so that people can tell their keys apart.
    pub fn display_prefix(&self) -> String {
        self.0.chars().take(SECRET_PREFIX.len() + 6).collect()
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// The stored form of a secret: SHA-256, hex. The secrets carry 238 bits of
/// randomness, so a fast hash is enough (no password stretching needed).
pub fn hash_secret(secret: &str) -> String {
    let digest = Sha256::digest(secret.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// An API key as listed (never with its secret).
#[derive(Debug, Clone, Serialize)]
pub struct ApiKey {
    pub id: Uuid,
    pub account_id: String,
    pub name: String,
    pub role: Role,
    /// When set, the key acts only on this bot.
    pub bot_id: Option<Uuid>,
    /// The first characters of the secret, to recognise it.
    pub prefix: String,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
}

/// A key to create.
#[derive(Debug, Clone)]
pub struct NewKey {
    pub account_id: String,
    pub name: String,
    pub role: Role,
    pub bot_id: Option<Uuid>,
    pub expires_at: Option<Timestamp>,
}

impl NewKey {
    /// Validates the parts of a key request that need no database.
    pub fn parse(
        account_id: String,
        name: Option<&str>,
        role: Role,
        bot_id: Option<&str>,
        expires_in_seconds: Option<i64>,
        now: Timestamp,
    ) -> Result<Self, DomainError> {
        let name = match name {
            Some(n) => super::ids::short_text("name", n, super::ids::MAX_SHORT_TEXT_LEN)?,
            None => format!("{} key", role.as_str()),
        };
        let bot_id = bot_id.map(|b| Uuid::parse("bot_id", b)).transpose()?;
        let expires_at = match expires_in_seconds {
            None => None,
            Some(s) if s <= 0 => {
                return Err(DomainError::invalid("expires_in", "must be a positive number of seconds"));
            }
            Some(s) if s > 100 * 365 * 86_400 => {
                return Err(DomainError::invalid("expires_in", "must be at most 100 years"));
            }
            Some(s) => Some(Timestamp(now.0 + s * 1000)),
        };
        Ok(Self { account_id, name, role, bot_id, expires_at })
    }

    /// The key as `principal` may make it: a key bound to a bot makes keys of
    /// that bot only (bound to it, whether asked or not).
    pub fn made_by(mut self, principal: &Principal) -> Result<Self, DomainError> {
        if principal.bot_id.is_some() {
            self.bot_id = Some(principal.resolve_bot(self.bot_id)?);
        }
        Ok(self)
    }
}

/// What the database knows about the key a request presented.
#[derive(Debug, Clone)]
pub struct KeyRecord {
    pub key: ApiKey,
    pub api_access: bool,
}

/// Why a presented key was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyRefusal {
    /// Unknown, expired or revoked: 401.
    Invalid,
    /// The account's plan has no API access: 403.
    NoApiAccess,
}

/// The identity a request acts as once its key checked out.
#[derive(Debug, Clone)]
pub struct Principal {
    /// Who acts: the key, or the person signed in to the dashboard.
    pub actor: Actor,
    pub account_id: String,
    pub role: Role,
    pub bot_id: Option<Uuid>,
}

impl Principal {
    /// Decides whether a looked-up key may be used at `now`.
    pub fn admit(record: Option<KeyRecord>, now: Timestamp) -> Result<Self, KeyRefusal> {
        let record = record.ok_or(KeyRefusal::Invalid)?;
        let key = record.key;
        if key.revoked_at.is_some() || key.expires_at.is_some_and(|e| e <= now) {
            return Err(KeyRefusal::Invalid);
        }
        if !record.api_access {
            return Err(KeyRefusal::NoApiAccess);
        }
        Ok(Self {
            actor: Actor::key(&key.id, &key.name),
            account_id: key.account_id,
            role: key.role,
            bot_id: key.bot_id,
        })
    }

    /// Refuses with 403 unless the role grants `needed`.
    pub fn require(&self, needed: Role) -> Result<(), DomainError> {
        if self.role.grants(needed) {
            return Ok(());
        }
        Err(DomainError::forbidden(match self.actor.kind {
            ActorKind::User => format!("this needs the {} role; yours is {}", needed.as_str(), self.role.as_str()),
            _ => format!("this route needs a {} key; this key is {}", needed.as_str(), self.role.as_str()),
        }))
    }

    /// The bot a new object goes to: the requested one, or the key's own.
    /// A key bound to a bot may not name another one.
    pub fn resolve_bot(&self, requested: Option<Uuid>) -> Result<Uuid, DomainError> {
        match (requested, &self.bot_id) {
            (Some(r), Some(own)) if &r != own => Err(DomainError::forbidden("this key is bound to another bot")),
            (Some(r), _) => Ok(r),
            (None, Some(own)) => Ok(own.clone()),
            (None, None) => Err(DomainError::invalid("bot_id", "is required (this key is not bound to a bot)")),
        }
    }

    /// The tenancy scope every store call is made in.
    pub fn scope(&self) -> Scope {
        Scope { account_id: self.account_id.clone(), bot_id: self.bot_id.clone() }
    }
}

/// Who gives a piece of feedback, a vote or a CSAT answer, and in what capacity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rater {
    pub user_id: String,
    pub source: Source,
}

impl Principal {
    /// Resolves the rater of a request. A public key rates only as the contact
    /// of its feedback token; server and admin keys rate on behalf of
    /// `user_id`, or as themselves (`key:<id>`) when it is left out. Only
    /// server and admin keys may backfill (`has_created_at`).
    pub fn rater(
        &self,
        token_contact: Option<&str>,
        user_id: Option<&str>,
        has_created_at: bool,
    ) -> Result<Rater, DomainError> {
        let source = Source::of_role(self.role);
        if self.role == Role::Public {
            let contact = token_contact.ok_or_else(|| DomainError::forbidden("a public key needs a feedback token"))?;
            if user_id.is_some_and(|u| u != contact) {
                return Err(DomainError::forbidden("a feedback token rates only as its own contact"));
            }
            if has_created_at {
                return Err(DomainError::forbidden("created_at (backfill) needs a server or admin key"));
            }
            return Ok(Rater { user_id: contact.to_owned(), source });
        }
        let user_id = match user_id {
            Some(u) => super::ids::short_text("user_id", u, super::ids::MAX_SHORT_TEXT_LEN)?,
            None => self.actor.reference(),
        };
        Ok(Rater { user_id, source })
    }
}

/// The slice of data a caller may see: one account, and maybe one bot of it.
/// Objects outside the scope do not exist for the caller (404).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub account_id: String,
    pub bot_id: Option<Uuid>,
}

impl Scope {
    /// The whole of one account.
    pub fn account(account_id: impl Into<String>) -> Self {
        Self { account_id: account_id.into(), bot_id: None }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(role: Role) -> KeyRecord {
        KeyRecord {
            key: ApiKey {
                id: Uuid::new(),
                account_id: "default".into(),
                name: "k".into(),
                role,
                bot_id: None,
                prefix: "plk_abcdef".into(),
                created_at: Timestamp(0),
                expires_at: None,
                revoked_at: None,
            },
            api_access: true,
        }
    }

    #[test]
    fn secrets_are_random_and_hashed() {
        let (a, b) = (Secret::generate(), Secret::generate());
        assert_ne!(a.expose(), b.expose());
        assert!(a.expose().starts_with(SECRET_PREFIX));
        assert_eq!(a.expose().len(), 44);
        assert_eq!(hash_secret(a.expose()).len(), 64);
        assert_ne!(hash_secret(a.expose()), hash_secret(b.expose()));
        assert_eq!(format!("{a:?}"), "Secret(<redacted>)");
    }

    #[test]
    fn unknown_revoked_and_expired_keys_are_invalid() {
        let now = Timestamp(10_000);
        assert_eq!(Principal::admit(None, now).unwrap_err(), KeyRefusal::Invalid);
        let mut revoked = record(Role::Admin);
        revoked.key.revoked_at = Some(Timestamp(5));
        assert_eq!(Principal::admit(Some(revoked), now).unwrap_err(), KeyRefusal::Invalid);
        let mut expired = record(Role::Admin);
        expired.key.expires_at = Some(now);
        assert_eq!(Principal::admit(Some(expired), now).unwrap_err(), KeyRefusal::Invalid);
        let mut later = record(Role::Admin);
        later.key.expires_at = Some(Timestamp(now.0 + 1));
        assert!(Principal::admit(Some(later), now).is_ok());
    }

    #[test]
    fn plans_without_api_access_are_refused() {
        let mut r = record(Role::Admin);
        r.api_access = false;
        assert_eq!(Principal::admit(Some(r), Timestamp(0)).unwrap_err(), KeyRefusal::NoApiAccess);
    }

    #[test]
    fn roles_are_ordered_on_their_own_ladder() {
        let server = Principal::admit(Some(record(Role::Server)), Timestamp(0)).unwrap();
        assert!(server.require(Role::Public).is_ok());
        assert!(server.require(Role::Server).is_ok());
        assert!(server.require(Role::Admin).is_err());
        assert!(!Role::Server.grants(Role::Viewer), "a key is no person");
        assert!(!Role::Reviewer.grants(Role::Server), "a person is no key");
        assert!(Role::Reviewer.grants(Role::Viewer) && !Role::Viewer.grants(Role::Reviewer));
        assert!(!Role::Reviewer.grants(Role::Admin));
        assert!(Role::USER_ROLES.iter().chain(&Role::KEY_ROLES).all(|r| Role::Admin.grants(*r)));
        assert!(Role::parse("role", "viewer").is_err() && Role::parse_user("role", "server").is_err());
    }

    #[test]
    fn bound_keys_stay_on_their_bot() {
        let mut p = Principal::admit(Some(record(Role::Server)), Timestamp(0)).unwrap();
        let (own, other) = (Uuid::new(), Uuid::new());
        assert!(p.resolve_bot(None).is_err());
        assert_eq!(p.resolve_bot(Some(other.clone())).unwrap(), other);
        p.bot_id = Some(own.clone());
        assert_eq!(p.resolve_bot(None).unwrap(), own);
        assert!(p.resolve_bot(Some(other)).is_err());
    }

    #[test]
    fn raters_come_from_the_token_or_the_body() {
        use crate::domain::access::Source;
        let mut p = Principal::admit(Some(record(Role::Server)), Timestamp(0)).unwrap();
        let r = p.rater(None, Some("u1"), true).unwrap();
        assert_eq!((r.user_id.as_str(), r.source), ("u1", Source::Api));
        assert!(p.rater(None, None, false).unwrap().user_id.starts_with("key:"));
        assert!(p.rater(None, Some(" "), false).is_err());
        p.role = Role::Public;
        assert!(p.rater(None, None, false).is_err(), "public needs a token");
        let r = p.rater(Some("visitor-7"), None, false).unwrap();
        assert_eq!((r.user_id.as_str(), r.source), ("visitor-7", Source::EndUser));
        assert!(p.rater(Some("visitor-7"), Some("someone-else"), false).is_err());
        assert!(p.rater(Some("visitor-7"), None, true).is_err(), "no backfill from browsers");
        p.role = Role::Admin;
        assert_eq!(p.rater(None, None, false).unwrap().source, Source::Reviewer);
    }

    #[test]
    fn key_expiry_must_be_positive() {
        let now = Timestamp(0);
        assert!(NewKey::parse("a".into(), None, Role::Admin, None, Some(0), now).is_err());
        let k = NewKey::parse("a".into(), None, Role::Admin, None, Some(60), now).unwrap();
        assert_eq!(k.expires_at, Some(Timestamp(60_000)));
        assert_eq!(k.name, "admin key");
    }
}
