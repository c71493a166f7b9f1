//! Identifiers and the small validated strings of the API.

use serde::Serialize;

use super::DomainError;

/// Longest client-chosen id.
pub const MAX_CLIENT_ID_LEN: usize = 128;
/// Longest free-form short string (names, contact ids, user ids, request ids).
pub const MAX_SHORT_TEXT_LEN: usize = 256;

/// An id chosen by the client for a conversation or message:
/// 1–128 characters of `A-Za-z0-9_.:-`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct ClientId(String);

impl ClientId {
    pub fn parse(field: &str, raw: &str) -> Result<Self, DomainError> {
        let ok_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | ':' | '-');
        if raw.is_empty() || raw.len() > MAX_CLIENT_ID_LEN || !raw.chars().all(ok_char) {
            return Err(DomainError::invalid(field, "must be 1-128 characters of A-Z, a-z, 0-9, '_', '.', ':' or '-'"));
        }
        Ok(Self(raw.to_owned()))
    }

    /// An id the server makes up (activity messages, for instance); it obeys
    /// the same alphabet as client ids.
    pub fn generated(prefix: &str) -> Self {
        Self(format!("{prefix}:{}", uuid::Uuid::now_v7().simple()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// A server-generated UUID (bots, keys, feedback, ...), in its hyphenated form.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Uuid(String);

impl Uuid {
    /// A new time-ordered UUID (v7), so ids sort roughly by creation.
    pub fn new() -> Self {
        Self(uuid::Uuid::now_v7().hyphenated().to_string())
    }

    /// Parses any UUID spelling into the canonical lower-case hyphenated form.
    pub fn parse(field: &str, raw: &str) -> Result<Self, DomainError> {
        uuid::Uuid::parse_str(raw)
            .map(|u| Self(u.hyphenated().to_string()))
            .map_err(|_| DomainError::invalid(field, "must be a UUID"))
    }

    /// Wraps a value read back from the database.
    pub fn from_db(raw: String) -> Self {
        Self(raw)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for Uuid {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Display for Uuid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Checks a required short free-form string: non-blank, at most `max` chars,
/// no control characters. Returns it trimmed.
pub fn short_text(field: &str, raw: &str, max: usize) -> Result<String, DomainError> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(DomainError::invalid(field, "must not be empty"));
    }
    if trimmed.chars().count() > max {
        return Err(DomainError::invalid(field, format!("must be at most {max} characters")));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(DomainError::invalid(field, "must not contain control characters"));
    }
    Ok(trimmed.to_owned())
}

/// Like [`short_text`] for an optional value.
pub fn optional_short_text(field: &str, raw: Option<&str>, max: usize) -> Result<Option<String>, DomainError> {
    raw.map(|r| short_text(field, r, max)).transpose()
}

/// A BCP 47 language tag such as `en`, `fr-CA` or `zh-Hant-TW`, checked for
/// shape (letters and digits in hyphen-separated subtags), not against the registry.
pub fn locale(field: &str, raw: &str) -> Result<String, DomainError> {
    let mut parts = raw.split('-');
    let primary = parts.next().unwrap_or_default();
    let primary_ok = (2..=8).contains(&primary.len()) && primary.chars().all(|c| c.is_ascii_alphabetic());
    let rest_ok = parts.all(|p| (1..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()));
    if !primary_ok || !rest_ok || raw.len() > 35 {
        return Err(DomainError::invalid(field, "must be a BCP 47 language tag such as 'en' or 'fr-CA'"));
    }
    Ok(raw.to_owned())
}

/// A `locale` filter: a language tag that matches itself and its more
/// specific tags, whatever their case (`fr` matches `fr`, `FR` and `fr-CA`;
/// `fr-CA` matches `fr-CA` only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocaleFilter(String);

impl LocaleFilter {
    pub fn parse(field: &str, raw: &str) -> Result<Self, DomainError> {
        Ok(Self(locale(field, raw.trim())?.to_ascii_lowercase()))
    }

    /// The tag itself, lower case (compare with the lower-cased stored tag).
    pub fn exact(&self) -> &str {
        &self.0
    }

    /// A `LIKE` pattern of its more specific tags (a tag holds no wildcard).
    pub fn narrower(&self) -> String {
        format!("{}-%", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_locale_filter_matches_its_narrower_tags() {
        let fr = LocaleFilter::parse("locale", " FR ").unwrap();
        assert_eq!((fr.exact(), fr.narrower().as_str()), ("fr", "fr-%"));
        assert!(LocaleFilter::parse("locale", "fr_CA").is_err());
        assert!(LocaleFilter::parse("locale", "%").is_err());
    }

    #[test]
    fn client_ids_follow_the_alphabet() {
        for good in ["a", "conv-1", "user:42.session_7", &"x".repeat(128)] {
            assert!(ClientId::parse("id", good).is_ok(), "{good}");
        }
        for bad in ["", "has space", "slash/y", "é", &"x".repeat(129)] {
            let err = ClientId::parse("id", bad).unwrap_err();
            assert!(err.to_string().starts_with("id:"), "{bad}");
        }
    }

    #[test]
    fn generated_ids_are_valid_client_ids() {
        let id = ClientId::generated("vote");
        assert!(ClientId::parse("id", id.as_str()).is_ok());
    }

    #[test]
    fn uuids_are_canonicalised() {
        let u = Uuid::parse("bot_id", "550E8400-E29B-41D4-A716-446655440000").unwrap();
        assert_eq!(u.as_str(), "550e8400-e29b-41d4-a716-446655440000");
        assert!(Uuid::parse("bot_id", "not-a-uuid").is_err());
    }

    #[test]
    fn short_text_is_trimmed_and_bounded() {
        assert_eq!(short_text("name", "  Support ", 10).unwrap(), "Support");
        assert!(short_text("name", "   ", 10).is_err());
        assert!(short_text("name", "abcdefghijk", 10).is_err());
        assert!(short_text("name", "a\u{0}b", 10).is_err());
    }

    #[test]
    fn locales_are_shape_checked() {
        for good in ["en", "fr-CA", "zh-Hant-TW", "es-419"] {
            assert!(locale("locale", good).is_ok(), "{good}");
        }
        for bad in ["", "e", "en_US", "fr-", "-fr", "toolonglang"] {
            assert!(locale("locale", bad).is_err(), "{bad}");
        }
    }
}
