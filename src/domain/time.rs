//! Points in time: integer milliseconds since the Unix epoch, UTC.
//!
//! The database stores milliseconds in a 64-bit integer on both engines; the
//! API speaks RFC 3339 with a `Z`. This type is the one bridge between them.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::DomainError;

/// How far ahead of the server's clock a client-supplied time may be before it
/// counts as "in the future" (clocks drift; a minute is forgiving enough).
pub const FUTURE_TOLERANCE_MS: i64 = 60_000;

/// How an instant outside jiff's range (never stored) is shown.
const EPOCH: &str = "1970-01-01T00:00:00Z";

/// A UTC instant with millisecond precision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// The server's clock.
    pub fn now() -> Self {
        Self(jiff::Timestamp::now().as_millisecond())
    }

    /// Milliseconds since the epoch.
    pub fn millis(self) -> i64 {
        self.0
    }

    /// Parses an RFC 3339 string (any offset; stored as UTC).
    pub fn parse_rfc3339(field: &str, raw: &str) -> Result<Self, DomainError> {
        raw.parse::<jiff::Timestamp>()
            .map(|t| Self(t.as_millisecond()))
            .map_err(|_| DomainError::invalid(field, "must be an RFC 3339 time such as 2024-06-13T14:32:45Z"))
    }

    /// Parses a client-supplied creation time for backfill: RFC 3339, not in
    /// the future relative to `now`.
    pub fn parse_backfill(field: &str, raw: &str, now: Timestamp) -> Result<Self, DomainError> {
        let t = Self::parse_rfc3339(field, raw)?;
        if t.0 > now.0 + FUTURE_TOLERANCE_MS {
            return Err(DomainError::invalid(field, "must not be in the future"));
        }
        Ok(t)
    }

    /// Parses a bound of a time filter: RFC 3339, or a bare `YYYY-MM-DD`
    /// meaning that day's midnight UTC.
    pub fn parse_instant(field: &str, raw: &str) -> Result<Self, DomainError> {
        if let Ok(date) = raw.parse::<jiff::civil::Date>() {
            return date
                .to_zoned(jiff::tz::TimeZone::UTC)
                .map(|z| Self(z.timestamp().as_millisecond()))
                .map_err(|_| DomainError::invalid(field, "is out of range"));
        }
        Self::parse_rfc3339(field, raw)
            .map_err(|_| DomainError::invalid(field, "must be an RFC 3339 time or a date such as 2024-06-13"))
    }

    /// RFC 3339 in UTC with a `Z`, milliseconds shown only when non-zero
    /// (the [`Display`](fmt::Display) form).
    pub fn to_rfc3339(self) -> String {
        self.to_string()
    }
}

impl fmt::Display for Timestamp {
    /// Written straight into the formatter, without a string of its own (an
    /// export writes millions, through [`Serialize`]).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match jiff::Timestamp::from_millisecond(self.0) {
            Ok(t) => fmt::Display::fmt(&t, f),
            Err(_) => f.write_str(EPOCH),
        }
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Self::parse_rfc3339("time", &raw).map_err(serde::de::Error::custom)
    }
}

impl utoipa::PartialSchema for Timestamp {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(utoipa::openapi::KnownFormat::DateTime)))
            .examples([serde_json::json!("2024-06-13T14:32:45Z")])
            .into()
    }
}

impl utoipa::ToSchema for Timestamp {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_utc_with_z() {
        assert_eq!(Timestamp(0).to_rfc3339(), "1970-01-01T00:00:00Z");
        assert_eq!(Timestamp(1_718_289_165_123).to_rfc3339(), "2024-06-13T14:32:45.123Z");
    }

    #[test]
    fn serializes_as_it_renders() {
        for ms in [0, 1_718_289_165_123, 1_718_289_165_500, 1_718_289_165_000, -86_400_001, i64::MAX] {
            let t = Timestamp(ms);
            assert_eq!(serde_json::to_string(&t).unwrap(), format!("\"{}\"", t.to_rfc3339()), "{ms}");
        }
        assert_eq!(serde_json::to_string(&Timestamp(i64::MAX)).unwrap(), "\"1970-01-01T00:00:00Z\"");
    }

    #[test]
    fn parses_offsets_into_utc() {
        let t = Timestamp::parse_rfc3339("t", "2024-06-13T16:32:45+02:00").unwrap();
        assert_eq!(t.to_rfc3339(), "2024-06-13T14:32:45Z");
    }

    #[test]
    fn rejects_garbage_and_names_the_field() {
        let err = Timestamp::parse_rfc3339("created_at", "yesterday").unwrap_err();
        assert!(err.to_string().starts_with("created_at:"));
    }

    #[test]
    fn filter_bounds_take_times_or_dates() {
        assert_eq!(Timestamp::parse_instant("from", "2024-06-13").unwrap().to_rfc3339(), "2024-06-13T00:00:00Z");
        assert_eq!(
            Timestamp::parse_instant("from", "2024-06-13T10:00:00Z").unwrap().to_rfc3339(),
            "2024-06-13T10:00:00Z"
        );
        assert!(Timestamp::parse_instant("from", "13/06/2024").unwrap_err().to_string().starts_with("from:"));
    }

    #[test]
    fn backfill_refuses_the_future() {
        let now = Timestamp(1_700_000_000_000);
        let later = Timestamp(now.0 + 3_600_000).to_rfc3339();
        assert!(Timestamp::parse_backfill("created_at", &later, now).is_err());
        let earlier = Timestamp(now.0 - 3_600_000).to_rfc3339();
        assert!(Timestamp::parse_backfill("created_at", &earlier, now).is_ok());
    }
}
