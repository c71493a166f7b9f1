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

    /// Parses a client-supplied creation time for backfill, when one is
    /// given: RFC 3339, not in the future relative to `now`.
    pub fn parse_backfill(field: &str, raw: Option<&str>, now: Timestamp) -> Result<Option<Self>, DomainError> {
        let Some(raw) = raw else { return Ok(None) };
        let t = Self::parse_rfc3339(field, raw)?;
        if t.0 > now.0 + FUTURE_TOLERANCE_MS {
            return Err(DomainError::invalid(field, "must not be in the future"));
        }
        Ok(Some(t))
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

/// The RFC 3339 form of an instant of years 0 to 9999, written into a buffer of its own:
/// `YYYY-MM-DDTHH:MM:SS`, then `.` and the milliseconds without their
/// trailing zeros when there are any, then `Z` (what jiff writes, which a
/// test checks). An export of L writes about 25 million: through jiff's
/// `Display` and `fmt` each cost about 820 instructions, this about 260.
struct Rfc3339 {
    bytes: [u8; 24],
    len: usize,
}

impl Rfc3339 {
    /// From the first millisecond of year 0 to the last instant jiff holds
    /// (late on 9999-12-30), so that nothing jiff refuses is written.
    const RANGE: std::ops::RangeInclusive<i64> = -62_167_219_200_000..=253_402_207_200_000;

    fn of(ms: i64) -> Option<Self> {
        if !Self::RANGE.contains(&ms) {
            return None;
        }
        let (days, in_day) = (ms.div_euclid(86_400_000), ms.rem_euclid(86_400_000));
        let (year, month, day) = civil_from_days(days);
        let (secs, millis) = (in_day / 1000, in_day % 1000);
        let mut bytes = *b"0000-00-00T00:00:00.000Z";
        let mut put = |at: usize, value: i64, width: usize| {
            let mut v = value;
            for i in (at..at + width).rev() {
                bytes[i] = b'0' + (v % 10) as u8;
                v /= 10;
            }
        };
        put(0, year, 4);
        put(5, month, 2);
        put(8, day, 2);
        put(11, secs / 3600, 2);
        put(14, secs / 60 % 60, 2);
        put(17, secs % 60, 2);
        let len = if millis == 0 {
            19
        } else {
            put(20, millis, 3);
            let mut end = 23;
            while bytes[end - 1] == b'0' {
                end -= 1;
            }
            end
        };
        bytes[len] = b'Z';
        Some(Self { bytes, len: len + 1 })
    }

    fn as_str(&self) -> &str {
        // Only ASCII digits and separators were written.
        std::str::from_utf8(&self.bytes[..self.len]).unwrap_or(EPOCH)
    }
}

/// The proleptic Gregorian date of a day counted from 1970-01-01 (Howard
/// Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

impl fmt::Display for Timestamp {
    /// Written straight into the formatter, without a string of its own (an
    /// export writes millions, through [`Serialize`]).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(text) = Rfc3339::of(self.0) {
            return f.write_str(text.as_str());
        }
        match jiff::Timestamp::from_millisecond(self.0) {
            Ok(t) => fmt::Display::fmt(&t, f),
            Err(_) => f.write_str(EPOCH),
        }
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match Rfc3339::of(self.0) {
            Some(text) => s.serialize_str(text.as_str()),
            None => s.collect_str(self),
        }
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Self::parse_rfc3339("time", &raw).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_utc_with_z() {
        assert_eq!(Timestamp(0).to_rfc3339(), "1970-01-01T00:00:00Z");
        assert_eq!(Timestamp(1_718_289_165_123).to_rfc3339(), "2024-06-13T14:32:45.123Z");
    }

    #[test]
    fn writes_what_jiff_writes() {
        let jiff_form = |ms: i64| jiff::Timestamp::from_millisecond(ms).unwrap().to_string();
        let mut edges =
            vec![0, 1, 10, 100, 999, 1000, -1, -999, -1000, -86_400_000, 951_782_400_000, 4_107_542_400_000];
        edges.extend([*Rfc3339::RANGE.start(), *Rfc3339::RANGE.end()]);
        // Every leap-year boundary and day of four centuries around the epoch,
        // and random instants with random milliseconds over the whole range.
        edges.extend((-73_000..73_000).map(|d: i64| d * 86_400_000 + (d.rem_euclid(1000))));
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let span = (Rfc3339::RANGE.end() - Rfc3339::RANGE.start()) as u64;
        for _ in 0..200_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            edges.push(Rfc3339::RANGE.start() + (x % span) as i64);
        }
        for ms in edges {
            assert_eq!(Rfc3339::of(ms).unwrap().as_str(), jiff_form(ms), "{ms}");
        }
        // Before year 0 jiff writes it (a sign and six digits); after its
        // range, the epoch stands in, as before.
        let before = Rfc3339::RANGE.start() - 1;
        assert!(Rfc3339::of(before).is_none());
        assert_eq!(Timestamp(before).to_string(), jiff_form(before));
        assert!(Rfc3339::of(Rfc3339::RANGE.end() + 1).is_none());
        assert_eq!(Timestamp(Rfc3339::RANGE.end() + 1).to_string(), EPOCH);
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
        assert!(Timestamp::parse_backfill("created_at", Some(&later), now).is_err());
        let earlier = Timestamp(now.0 - 3_600_000).to_rfc3339();
        assert!(Timestamp::parse_backfill("created_at", Some(&earlier), now).is_ok());
        assert!(Timestamp::parse_backfill("created_at", None, now).unwrap().is_none());
    }
}
