//! The time zone the dashboard shows days and times in: picked by the
//! person from the footer of every page (`session::pick_zone`), remembered
//! in a cookie, UTC until then. Periods of whole days start at its
//! midnights; times read in it.

use super::WebError;
use crate::domain::Timestamp;

/// The zones the picker offers, besides the one in use.
const OFFERED: [&str; 18] = [
    "UTC",
    "Europe/London",
    "Europe/Dublin",
    "Europe/Lisbon",
    "Europe/Paris",
    "Europe/Berlin",
    "Europe/Madrid",
    "Europe/Amsterdam",
    "Europe/Helsinki",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "America/Sao_Paulo",
    "Asia/Kolkata",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Australia/Sydney",
];

/// A time zone by its IANA name.
#[derive(Debug, Clone)]
pub struct Zone {
    pub name: String,
    tz: jiff::tz::TimeZone,
}

impl Default for Zone {
    fn default() -> Self {
        Self { name: "UTC".into(), tz: jiff::tz::TimeZone::UTC }
    }
}

impl Zone {
    /// The zone named `name` (an IANA name), if there is one.
    pub fn parse(name: &str) -> Option<Self> {
        let name = name.trim();
        if name.is_empty() || name.len() > 64 {
            return None;
        }
        jiff::tz::TimeZone::get(name).ok().map(|tz| Self { name: name.to_owned(), tz })
    }

    /// The zone a cookie's value names, or UTC.
    pub fn remembered(cookie: Option<&str>) -> Self {
        cookie.and_then(Self::parse).unwrap_or_default()
    }

    /// `2024-06-13 16:05` in this zone.
    pub fn datetime(&self, t: Timestamp) -> String {
        jiff::Timestamp::from_millisecond(t.0)
            .map_or_else(|_| "—".into(), |ts| ts.to_zoned(self.tz.clone()).strftime("%Y-%m-%d %H:%M").to_string())
    }

    /// The first instant of `day` (`2024-06-13`) in this zone.
    pub fn start_of(&self, field: &str, day: &str) -> Result<Timestamp, WebError> {
        let bad = || WebError::BadRequest(format!("{field}: must be a date such as 2024-06-13"));
        let date: jiff::civil::Date = day.parse().map_err(|_| bad())?;
        let start = date.to_zoned(self.tz.clone()).map_err(|_| bad())?;
        Ok(Timestamp(start.timestamp().as_millisecond()))
    }

    /// The zones to offer, this one first if it is not among them.
    pub fn offered(&self) -> Vec<&str> {
        let mut zones = Vec::with_capacity(OFFERED.len() + 1);
        if !OFFERED.contains(&self.name.as_str()) {
            zones.push(self.name.as_str());
        }
        zones.extend(OFFERED);
        zones
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_zone_is_named_by_iana_and_shows_local_times() {
        let paris = Zone::parse("Europe/Paris").unwrap();
        assert_eq!(paris.datetime(Timestamp(0)), "1970-01-01 01:00");
        assert_eq!(Zone::default().datetime(Timestamp(0)), "1970-01-01 00:00");
        assert!(Zone::parse("Mars/Olympus").is_none() && Zone::parse("").is_none());
        assert_eq!(Zone::parse("Asia/Kathmandu").unwrap().offered()[0], "Asia/Kathmandu");
        assert_eq!(paris.offered().len(), OFFERED.len());
        assert_eq!(paris.start_of("from", "1970-01-02").unwrap(), Timestamp(86_400_000 - 3_600_000));
        assert!(paris.start_of("from", "yesterday").is_err());
    }
}
