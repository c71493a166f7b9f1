//! Periods: a range of days in a time zone, the period before it, and how
//! bucket counts are grouped into its days.

use jiff::{Timestamp as JTimestamp, ToSpan, civil::Date, tz::TimeZone};

use super::{BUCKET_MS, DEFAULT_PERIOD_DAYS, MAX_PERIOD_DAYS};
use crate::domain::{DomainError, Timestamp};

/// One day of a period in its time zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Day {
    /// `YYYY-MM-DD`
    pub date: String,
    /// First millisecond of the day inside the period.
    pub start: i64,
}

/// A span of time, `[from, to)`, with its days in a time zone.
#[derive(Debug, Clone)]
pub struct Period {
    pub from: Timestamp,
    pub to: Timestamp,
    pub tz_name: String,
    pub days: Vec<Day>,
}

fn parse_bound(field: &str, raw: &str, tz: &TimeZone) -> Result<Timestamp, DomainError> {
    if let Ok(date) = raw.parse::<Date>() {
        return midnight(date, tz).ok_or_else(|| DomainError::invalid(field, "is out of range"));
    }
    Timestamp::parse_rfc3339(field, raw)
        .map_err(|_| DomainError::invalid(field, "must be an RFC 3339 time or a date such as 2024-06-13"))
}

fn midnight(date: Date, tz: &TimeZone) -> Option<Timestamp> {
    date.to_zoned(tz.clone()).ok().map(|z| Timestamp(z.timestamp().as_millisecond()))
}

fn local_date(ms: i64, tz: &TimeZone) -> Option<Date> {
    JTimestamp::from_millisecond(ms).ok().map(|t| t.to_zoned(tz.clone()).date())
}

impl Period {
    /// `from` inclusive, `to` exclusive; a bare date is that day's midnight in
    /// `tz`. Without bounds: the last 30 days, today included.
    pub fn parse(from: Option<&str>, to: Option<&str>, tz: Option<&str>, now: Timestamp) -> Result<Self, DomainError> {
        let tz_name = tz.filter(|t| !t.is_empty()).unwrap_or("UTC").to_owned();
        let zone = TimeZone::get(&tz_name)
            .map_err(|_| DomainError::invalid("tz", "must be an IANA time zone such as Europe/Paris"))?;
        let to = match to {
            Some(raw) => parse_bound("to", raw, &zone)?,
            None => {
                let today = local_date(now.0, &zone).ok_or_else(|| DomainError::invalid("to", "is out of range"))?;
                let tomorrow = today.checked_add(1.day()).map_err(|_| DomainError::invalid("to", "is out of range"))?;
                midnight(tomorrow, &zone).ok_or_else(|| DomainError::invalid("to", "is out of range"))?
            }
        };
        let from = match from {
            Some(raw) => parse_bound("from", raw, &zone)?,
            None => {
                let last =
                    local_date(to.0 - 1, &zone).ok_or_else(|| DomainError::invalid("from", "is out of range"))?;
                let first = last
                    .checked_sub((DEFAULT_PERIOD_DAYS - 1).days())
                    .map_err(|_| DomainError::invalid("from", "is out of range"))?;
                midnight(first, &zone).ok_or_else(|| DomainError::invalid("from", "is out of range"))?
            }
        };
        if from >= to {
            return Err(DomainError::invalid("from", "must be before to"));
        }
        if to.0 - from.0 > MAX_PERIOD_DAYS * 86_400_000 {
            return Err(DomainError::invalid("to", format!("a period spans at most {MAX_PERIOD_DAYS} days")));
        }
        let mut days = Vec::new();
        let mut date = local_date(from.0, &zone).ok_or_else(|| DomainError::invalid("from", "is out of range"))?;
        let last = local_date(to.0 - 1, &zone).ok_or_else(|| DomainError::invalid("to", "is out of range"))?;
        while date <= last {
            let start = midnight(date, &zone).map_or(from.0, |m| m.0.max(from.0));
            days.push(Day { date: date.to_string(), start });
            date = match date.checked_add(1.day()) {
                Ok(d) => d,
                Err(_) => break,
            };
        }
        Ok(Self { from, to, tz_name, days })
    }

    /// The equal-length span just before this one.
    pub fn previous(&self) -> (Timestamp, Timestamp) {
        (Timestamp(self.from.0 - (self.to.0 - self.from.0)), self.from)
    }

    /// How 15-minute counts may be summed before they leave the database.
    pub fn grouping(&self) -> Grouping {
        Grouping::of(self)
    }

    /// Which day of the period a moment falls on.
    pub fn day_of(&self, ms: i64) -> Option<usize> {
        if ms < self.from.0 || ms >= self.to.0 {
            return None;
        }
        Some(self.days.partition_point(|d| d.start <= ms).saturating_sub(1))
    }
}

/// How bucket counts are summed: into spans of `size` milliseconds starting
/// at multiples of `size` minus `offset`. A period's grouping never lets a
/// span straddle two of its days, so the figures are the same as from
/// 15-minute buckets, from far fewer rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grouping {
    pub size: i64,
    pub offset: i64,
}

impl Grouping {
    /// The 15-minute buckets themselves.
    pub const BUCKETS: Self = Self { size: BUCKET_MS, offset: 0 };

    /// The coarsest of whole days, hours or buckets whose edges fall on every
    /// day boundary of `period` (whole days in UTC and in any zone without a
    /// change of offset inside the period; hours across most daylight-saving
    /// changes).
    pub fn of(period: &Period) -> Self {
        const HOUR: i64 = 3_600_000;
        let edges: Vec<i64> = period.days.iter().map(|d| d.start).chain([period.to.0]).collect();
        for size in [86_400_000, HOUR] {
            let offset = (-edges[0]).rem_euclid(size);
            if offset % BUCKET_MS == 0 && edges.iter().all(|e| (e + offset).rem_euclid(size) == 0) {
                return Self { size, offset };
            }
        }
        Self::BUCKETS
    }

    /// The first millisecond of the span holding `bucket`.
    pub fn group(self, bucket: i64) -> i64 {
        (bucket + self.offset).div_euclid(self.size) * self.size - self.offset
    }

    /// Pairs of counts per bucket, summed per span, in time order.
    pub fn sum(self, counts: impl IntoIterator<Item = (i64, [i64; 2])>) -> Vec<(i64, [i64; 2])> {
        sum_pairs(counts.into_iter().map(|(bucket, amounts)| (self.group(bucket), amounts)))
    }

    /// [`Self::group`] as SQL over the integer expression `bucket`.
    pub fn sql(self, bucket: &str) -> String {
        let Self { size, offset } = self;
        format!("(({bucket}) + {offset}) / {size} * {size} - {offset}")
    }
}

/// Pairs of amounts summed per key, in key order.
pub(super) fn sum_pairs(counts: impl IntoIterator<Item = (i64, [i64; 2])>) -> Vec<(i64, [i64; 2])> {
    let mut sums: std::collections::BTreeMap<i64, [i64; 2]> = std::collections::BTreeMap::new();
    for (key, [a, b]) in counts {
        let e = sums.entry(key).or_default();
        e[0] += a;
        e[1] += b;
    }
    sums.into_iter().collect()
}
