//! Analytics: periods cut into days of a time zone, the figures' formulas,
//! and the statistics behind A/B comparisons. Pure functions; the store
//! supplies counts, this module turns them into answers.
//!
//! Every formula here is written out in `docs/analytics.md`.

use jiff::{Timestamp as JTimestamp, ToSpan, civil::Date, tz::TimeZone};
use serde::Serialize;
use utoipa::ToSchema;

use super::{DomainError, Timestamp, ids::Uuid};

/// Days a period may span at most.
pub const MAX_PERIOD_DAYS: i64 = 3_660;
/// Days in the default period.
pub const DEFAULT_PERIOD_DAYS: i64 = 30;
/// The width of the buckets counts are grouped in. Every time zone's midnight
/// falls on a multiple of 15 minutes, so a bucket never straddles two days.
pub const BUCKET_MS: i64 = 15 * 60 * 1000;

/// The filters shared by every analytics call.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filters {
    pub bot_id: Option<Uuid>,
    /// Message feedback on answers of this topic; conversation-level signals
    /// of conversations with such an answer.
    pub topic: Option<String>,
    pub min_confidence: Option<f64>,
    pub max_confidence: Option<f64>,
    pub variant: Option<String>,
    /// Only signals with (true) or without (false) a reason.
    pub has_reason: Option<bool>,
}

impl Filters {
    pub fn parse(
        bot_id: Option<&str>,
        topic: Option<&str>,
        min_confidence: Option<f64>,
        max_confidence: Option<f64>,
        variant: Option<&str>,
        has_reason: Option<bool>,
    ) -> Result<Self, DomainError> {
        for (field, c) in [("min_confidence", min_confidence), ("max_confidence", max_confidence)] {
            if c.is_some_and(|c| !(0.0..=1.0).contains(&c)) {
                return Err(DomainError::invalid(field, "must be a number from 0 to 1"));
            }
        }
        if let (Some(lo), Some(hi)) = (min_confidence, max_confidence)
            && lo > hi
        {
            return Err(DomainError::invalid("min_confidence", "must not be above max_confidence"));
        }
        Ok(Self {
            bot_id: bot_id.map(|b| Uuid::parse("bot_id", b)).transpose()?,
            topic: topic.filter(|t| !t.is_empty()).map(str::to_owned),
            min_confidence,
            max_confidence,
            variant: variant.filter(|v| !v.is_empty()).map(str::to_owned),
            has_reason,
        })
    }

    /// Whether a topic or confidence filter narrows conversation-level signals.
    pub fn filters_answers(&self) -> bool {
        self.topic.is_some() || self.min_confidence.is_some() || self.max_confidence.is_some()
    }
}

/// Which conversations the inbox shows, by their satisfaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SatisfactionFilter {
    /// Positive satisfaction.
    Upvote,
    /// Negative satisfaction.
    Downvote,
    /// No conversation-level signal at all (neutral matches neither filter).
    Unknown,
}

impl SatisfactionFilter {
    pub fn parse(field: &str, raw: &str) -> Result<Self, DomainError> {
        match raw {
            "upvote" => Ok(Self::Upvote),
            "downvote" => Ok(Self::Downvote),
            "unknown" => Ok(Self::Unknown),
            _ => Err(DomainError::invalid(field, "must be upvote, downvote or unknown")),
        }
    }

    /// The stored satisfaction value it selects (`unknown` selects none stored).
    pub fn satisfaction(self) -> &'static str {
        match self {
            Self::Upvote => "positive",
            Self::Downvote => "negative",
            Self::Unknown => "unknown",
        }
    }
}

/// The filters of the inbox and of conversation exports.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InboxFilter {
    pub bot_id: Option<Uuid>,
    pub feedback: Option<SatisfactionFilter>,
    /// Started at or after.
    pub from: Option<Timestamp>,
    /// Started before.
    pub to: Option<Timestamp>,
    /// Text to find in the messages, the conversation id or the contact id.
    pub q: Option<String>,
}

impl InboxFilter {
    /// A case-insensitive `LIKE` pattern for `q`, its wildcards escaped with `\`.
    pub fn like_pattern(&self) -> Option<String> {
        self.q.as_deref().map(str::trim).filter(|q| !q.is_empty()).map(|q| {
            let escaped: String = q
                .to_lowercase()
                .chars()
                .flat_map(|c| match c {
                    '%' | '_' | '\\' => vec!['\\', c],
                    c => vec![c],
                })
                .collect();
            format!("%{escaped}%")
        })
    }
}

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

/// Rounds to two decimals.
pub fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// `100·part/whole` with two decimals; `None` over zero.
#[allow(clippy::cast_precision_loss)]
pub fn percent(part: i64, whole: i64) -> Option<f64> {
    (whole != 0).then(|| round2(100.0 * part as f64 / whole as f64))
}

/// `100·(now − before)/before`; `None` when there was nothing before.
#[allow(clippy::cast_precision_loss)]
pub fn change_percent(now: i64, before: i64) -> Option<f64> {
    (before != 0).then(|| round2(100.0 * (now - before) as f64 / before as f64))
}

/// The mean of some values; `None` for none.
#[allow(clippy::cast_precision_loss)]
pub fn mean(values: &[f64]) -> Option<f64> {
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

/// The z of a two-sided 95% interval.
pub const Z95: f64 = 1.959_963_984_540_054;

/// The 95% Wilson score interval of `good` successes in `n`, in percent.
#[allow(clippy::cast_precision_loss)]
pub fn wilson(good: i64, n: i64) -> Option<(f64, f64)> {
    if n <= 0 {
        return None;
    }
    let (n, p) = (n as f64, good as f64 / n as f64);
    let z2 = Z95 * Z95;
    let denominator = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denominator;
    let half = Z95 * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / denominator;
    Some((100.0 * (centre - half).max(0.0), 100.0 * (centre + half).min(1.0)))
}

/// The complementary error function (Numerical Recipes' Chebyshev fit,
/// relative error below 1.2e-7 everywhere).
pub fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98 + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let r = t * poly.exp();
    if x >= 0.0 { r } else { 2.0 - r }
}

/// The two-sided p-value of the pooled two-proportion z-test: is `g1/n1`
/// different from `g2/n2`? `None` when either group is empty or the pooled
/// rate is 0 or 1 (no variance to test against).
#[allow(clippy::cast_precision_loss)]
pub fn two_proportion_p(g1: i64, n1: i64, g2: i64, n2: i64) -> Option<f64> {
    if n1 <= 0 || n2 <= 0 {
        return None;
    }
    let (p1, p2) = (g1 as f64 / n1 as f64, g2 as f64 / n2 as f64);
    let pooled = (g1 + g2) as f64 / (n1 + n2) as f64;
    let se = (pooled * (1.0 - pooled) * (1.0 / n1 as f64 + 1.0 / n2 as f64)).sqrt();
    if se == 0.0 {
        return (p1 == p2).then_some(1.0);
    }
    let z = (p1 - p2) / se;
    Some(erfc(z.abs() / std::f64::consts::SQRT_2).min(1.0))
}

/// The grouping key of a reason: lower case, runs of white space made one
/// space, trailing punctuation and spaces dropped.
pub fn fold_reason(reason: &str) -> String {
    let spaced = reason.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase();
    spaced.trim_end_matches(|c: char| c.is_ascii_punctuation() || c.is_whitespace() || "…。！？".contains(c)).to_owned()
}

/// Groups raw `(reason, count)` pairs by their folded form, most frequent
/// first; each group is shown by its most frequent spelling.
pub fn group_reasons(raw: Vec<(String, i64)>) -> Vec<ReasonCount> {
    let mut groups: std::collections::HashMap<String, (i64, String, i64)> = std::collections::HashMap::new();
    for (reason, count) in raw {
        let key = fold_reason(&reason);
        if key.is_empty() {
            continue;
        }
        let entry = groups.entry(key).or_insert((0, reason.trim().to_owned(), 0));
        entry.0 += count;
        if count > entry.2 {
            entry.1 = reason.trim().to_owned();
            entry.2 = count;
        }
    }
    let mut items: Vec<ReasonCount> =
        groups.into_values().map(|(count, reason, _)| ReasonCount { reason, count }).collect();
    items.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.reason.cmp(&b.reason)));
    items
}

/// A reason and how often it was given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ReasonCount {
    pub reason: String,
    pub count: i64,
}

/// Thumbs counted in one bucket (`bucket` is its first millisecond).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThumbBucket {
    pub bucket: i64,
    pub up: i64,
    pub down: i64,
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

/// Conversation ratings that fall in one bucket: how many, and the sum of
/// their averages in millionths (see [`super::rollup::rating_micros`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RatingBucket {
    pub bucket: i64,
    pub micros: i64,
    pub count: i64,
}

/// A CSAT question's answers in a period: their score total and number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuestionTotal {
    pub question_code: String,
    pub total: i64,
    pub count: i64,
}

/// Everything the overview counts, for the period and the one before it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OverviewFacts {
    pub thumbs: Vec<ThumbBucket>,
    pub previous_thumbs: Vec<ThumbBucket>,
    pub ratings: Vec<RatingBucket>,
    pub previous_ratings: Vec<RatingBucket>,
    pub questions: Vec<QuestionTotal>,
    pub votes: VoteTotals,
}

impl OverviewFacts {
    /// The same facts in one order, empty buckets left out: two ways of
    /// counting agree when their normal forms are equal.
    #[must_use]
    pub fn normalized(mut self) -> Self {
        self.thumbs = merge_thumbs(self.thumbs);
        self.previous_thumbs = merge_thumbs(self.previous_thumbs);
        self.ratings = merge_ratings(self.ratings);
        self.previous_ratings = merge_ratings(self.previous_ratings);
        self.questions.retain(|q| q.count != 0);
        self.questions.sort_by(|a, b| a.question_code.cmp(&b.question_code));
        self
    }
}

/// Pairs of amounts summed per key, in key order.
fn sum_pairs(counts: impl IntoIterator<Item = (i64, [i64; 2])>) -> Vec<(i64, [i64; 2])> {
    let mut sums: std::collections::BTreeMap<i64, [i64; 2]> = std::collections::BTreeMap::new();
    for (key, [a, b]) in counts {
        let e = sums.entry(key).or_default();
        e[0] += a;
        e[1] += b;
    }
    sums.into_iter().collect()
}

fn merge_thumbs(buckets: Vec<ThumbBucket>) -> Vec<ThumbBucket> {
    sum_pairs(buckets.into_iter().map(|b| (b.bucket, [b.up, b.down])))
        .into_iter()
        .filter(|(_, [u, d])| *u != 0 || *d != 0)
        .map(|(bucket, [up, down])| ThumbBucket { bucket, up, down })
        .collect()
}

fn merge_ratings(buckets: Vec<RatingBucket>) -> Vec<RatingBucket> {
    sum_pairs(buckets.into_iter().map(|b| (b.bucket, [b.micros, b.count])))
        .into_iter()
        .filter(|(_, [_, n])| *n != 0)
        .map(|(bucket, [micros, count])| RatingBucket { bucket, micros, count })
        .collect()
}

/// Vote totals of a period.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VoteTotals {
    pub upvotes: i64,
    pub downvotes: i64,
    pub value_sum: i64,
}

/// A period as answered.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PeriodOut {
    pub from: Timestamp,
    pub to: Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tz: Option<String>,
}

/// Thumbs up (or down) of the period against the previous one.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ThumbFigure {
    pub count: i64,
    /// Share among all thumbs of the period, 0–100.
    pub percent: Option<f64>,
    pub previous_count: i64,
    pub previous_percent: Option<f64>,
    /// `100·(count − previous_count)/previous_count`.
    pub change_percent: Option<f64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MessageFeedbackFigures {
    pub thumbs_up: ThumbFigure,
    pub thumbs_down: ThumbFigure,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CsatDay {
    pub date: String,
    pub average: Option<f64>,
    /// Rated conversations that day.
    pub count: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CsatQuestion {
    pub question_code: String,
    pub average: Option<f64>,
    pub count: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CsatFigures {
    /// Over rated conversations, each conversation's answers averaged first (1–5).
    pub average: Option<f64>,
    pub rated_conversations: i64,
    pub previous_average: Option<f64>,
    pub daily: Vec<CsatDay>,
    pub by_question: Vec<CsatQuestion>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VoteFigures {
    pub upvotes: i64,
    pub downvotes: i64,
    pub average_value: Option<f64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SatisfactionDay {
    pub date: String,
    /// Positive thumbs.
    pub good: i64,
    /// All thumbs.
    pub total: i64,
    /// `100·good/total`.
    pub rate: Option<f64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SatisfactionFigures {
    pub daily: Vec<SatisfactionDay>,
}

/// The answer of `GET /v1/analytics/overview`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Overview {
    pub period: PeriodOut,
    pub previous_period: PeriodOut,
    pub message_feedback: MessageFeedbackFigures,
    pub csat: CsatFigures,
    pub votes: VoteFigures,
    pub satisfaction: SatisfactionFigures,
}

fn totals(buckets: &[ThumbBucket]) -> (i64, i64) {
    buckets.iter().fold((0, 0), |(u, d), b| (u + b.up, d + b.down))
}

/// The average of ratings summed in millionths, to 2 decimals.
#[allow(clippy::cast_precision_loss)]
fn average_of(micros: i64, count: i64) -> Option<f64> {
    (count > 0).then(|| round2(micros as f64 / 1e6 / count as f64))
}

fn rating_totals(buckets: &[RatingBucket]) -> (i64, i64) {
    buckets.iter().fold((0, 0), |(m, n), b| (m + b.micros, n + b.count))
}

/// Assembles the overview from the counts of the period and the previous one.
pub fn overview(period: &Period, facts: &OverviewFacts) -> Overview {
    let (up, down) = totals(&facts.thumbs);
    let (pup, pdown) = totals(&facts.previous_thumbs);
    let figure = |count: i64, previous_count: i64| ThumbFigure {
        count,
        percent: percent(count, up + down),
        previous_count,
        previous_percent: percent(previous_count, pup + pdown),
        change_percent: change_percent(count, previous_count),
    };
    let mut good = vec![0; period.days.len()];
    let mut total = vec![0; period.days.len()];
    for b in &facts.thumbs {
        if let Some(i) = period.day_of(b.bucket.max(period.from.0)) {
            good[i] += b.up;
            total[i] += b.up + b.down;
        }
    }
    let mut rating_days = vec![(0, 0); period.days.len()];
    for b in &facts.ratings {
        if let Some(i) = period.day_of(b.bucket.max(period.from.0)) {
            rating_days[i].0 += b.micros;
            rating_days[i].1 += b.count;
        }
    }
    let (micros, rated) = rating_totals(&facts.ratings);
    let (previous_micros, previous_rated) = rating_totals(&facts.previous_ratings);
    let mut questions = facts.questions.clone();
    questions.sort_by(|a, b| a.question_code.cmp(&b.question_code));
    let votes = facts.votes;
    let (prev_from, prev_to) = period.previous();
    Overview {
        period: PeriodOut { from: period.from, to: period.to, tz: Some(period.tz_name.clone()) },
        previous_period: PeriodOut { from: prev_from, to: prev_to, tz: None },
        message_feedback: MessageFeedbackFigures { thumbs_up: figure(up, pup), thumbs_down: figure(down, pdown) },
        csat: CsatFigures {
            average: average_of(micros, rated),
            rated_conversations: rated,
            previous_average: average_of(previous_micros, previous_rated),
            daily: period
                .days
                .iter()
                .zip(&rating_days)
                .map(|(d, (micros, count))| CsatDay {
                    date: d.date.clone(),
                    average: average_of(*micros, *count),
                    count: *count,
                })
                .collect(),
            by_question: questions
                .into_iter()
                .filter(|q| q.count > 0)
                .map(|q| CsatQuestion {
                    average: average_of(q.total * 1_000_000, q.count),
                    question_code: q.question_code,
                    count: q.count,
                })
                .collect(),
        },
        votes: VoteFigures {
            upvotes: votes.upvotes,
            downvotes: votes.downvotes,
            #[allow(clippy::cast_precision_loss)]
            average_value: (votes.upvotes + votes.downvotes > 0)
                .then(|| round2(votes.value_sum as f64 / (votes.upvotes + votes.downvotes) as f64)),
        },
        satisfaction: SatisfactionFigures {
            daily: period
                .days
                .iter()
                .enumerate()
                .map(|(i, d)| SatisfactionDay {
                    date: d.date.clone(),
                    good: good[i],
                    total: total[i],
                    rate: percent(good[i], total[i]),
                })
                .collect(),
        },
    }
}

/// What `compare` groups by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum GroupBy {
    Variant,
    Bot,
    Topic,
}

/// One group of a comparison.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CompareGroup {
    /// The variant, bot id or topic; `null` for messages without one.
    pub key: Option<String>,
    /// Thumbs in the group.
    pub n: i64,
    /// Positive thumbs.
    pub good: i64,
    /// `100·good/n`.
    pub rate: Option<f64>,
    /// 95% Wilson interval of the rate, in percent.
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    /// Two-sided pooled two-proportion z-test against the baseline; `null` for the baseline.
    pub p_value: Option<f64>,
}

/// The answer of `GET /v1/analytics/compare`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Comparison {
    pub group_by: GroupBy,
    pub baseline: Option<String>,
    pub groups: Vec<CompareGroup>,
}

/// Orders groups by size and tests each against the baseline (the named
/// key, or the largest group).
pub fn compare(
    group_by: GroupBy,
    mut raw: Vec<(Option<String>, i64, i64)>,
    baseline: Option<&str>,
) -> Result<Comparison, DomainError> {
    raw.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let base_index = match baseline {
        Some(key) => Some(
            raw.iter()
                .position(|(k, _, _)| k.as_deref() == Some(key))
                .ok_or_else(|| DomainError::invalid("baseline", format!("no group '{key}' in this period")))?,
        ),
        None => (!raw.is_empty()).then_some(0),
    };
    let base = base_index.map(|i| raw[i].clone());
    let groups = raw
        .iter()
        .enumerate()
        .map(|(i, (key, n, good))| {
            let ci = wilson(*good, *n);
            CompareGroup {
                key: key.clone(),
                n: *n,
                good: *good,
                rate: percent(*good, *n),
                ci_low: ci.map(|c| round2(c.0)),
                ci_high: ci.map(|c| round2(c.1)),
                p_value: match (&base, Some(i) == base_index) {
                    (Some((_, bn, bg)), false) => {
                        two_proportion_p(*good, *n, *bg, *bn).map(|p| (p * 1e6).round() / 1e6)
                    }
                    _ => None,
                },
            }
        })
        .collect();
    Ok(Comparison { group_by, baseline: base.and_then(|b| b.0), groups })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-6 * b.abs().max(1e-12)
    }

    #[test]
    fn a_late_evening_in_utc_is_the_next_day_in_paris() {
        let p = Period::parse(Some("2024-06-01"), Some("2024-06-03"), Some("Europe/Paris"), Timestamp(0)).unwrap();
        assert_eq!(p.from.to_rfc3339(), "2024-05-31T22:00:00Z");
        assert_eq!(p.days.iter().map(|d| d.date.as_str()).collect::<Vec<_>>(), ["2024-06-01", "2024-06-02"]);
        let late = Timestamp::parse_rfc3339("t", "2024-06-01T23:30:00Z").unwrap();
        assert_eq!(p.day_of(late.0), Some(1), "23:30 UTC is 01:30 the next day in Paris");
        let utc = Period::parse(Some("2024-06-01"), Some("2024-06-03"), None, Timestamp(0)).unwrap();
        assert_eq!(utc.day_of(late.0), Some(0));
        assert_eq!(p.day_of(p.to.0), None);
    }

    #[test]
    fn days_follow_daylight_saving_changes() {
        let p = Period::parse(Some("2024-03-30"), Some("2024-04-01"), Some("Europe/Paris"), Timestamp(0)).unwrap();
        assert_eq!(p.days.len(), 2);
        assert_eq!(p.days[1].start - p.days[0].start, 24 * 3_600_000);
        assert_eq!(p.to.0 - p.days[1].start, 23 * 3_600_000, "the day clocks go forward has 23 hours");
    }

    #[test]
    fn the_default_period_is_the_last_thirty_days() {
        let now = Timestamp::parse_rfc3339("t", "2024-06-13T10:00:00Z").unwrap();
        let p = Period::parse(None, None, None, now).unwrap();
        assert_eq!(p.to.to_rfc3339(), "2024-06-14T00:00:00Z");
        assert_eq!(p.from.to_rfc3339(), "2024-05-15T00:00:00Z");
        assert_eq!(p.days.len(), 30);
        let (pf, pt) = p.previous();
        assert_eq!(pt, p.from);
        assert_eq!(pf.to_rfc3339(), "2024-04-15T00:00:00Z");
    }

    #[test]
    fn bad_periods_name_their_field() {
        let now = Timestamp(0);
        for (from, to, tz, field) in [
            (Some("2024-06-02"), Some("2024-06-01"), None, "from:"),
            (Some("soon"), None, None, "from:"),
            (None, Some("2024-06-01"), Some("Mars/Olympus"), "tz:"),
            (Some("2000-01-01"), Some("2024-01-01"), None, "to:"),
        ] {
            let err = Period::parse(from, to, tz, now).unwrap_err().to_string();
            assert!(err.starts_with(field), "{err}");
        }
    }

    #[test]
    fn percentages_have_two_decimals_and_no_nan() {
        assert_eq!(percent(1, 3), Some(33.33));
        assert_eq!(percent(2, 3), Some(66.67));
        assert_eq!(percent(0, 0), None);
        assert_eq!(change_percent(15, 10), Some(50.0));
        assert_eq!(change_percent(5, 0), None);
        assert_eq!(change_percent(0, 4), Some(-100.0));
        assert_eq!(mean(&[]), None);
    }

    #[test]
    fn wilson_intervals_match_reference_values() {
        let (lo, hi) = wilson(45, 100).unwrap();
        assert!(close(lo, 35.614_537_979_511_98) && close(hi, 54.755_397_002_557_87), "{lo} {hi}");
        let (lo, hi) = wilson(0, 10).unwrap();
        assert!(lo.abs() < 1e-9 && close(hi, 27.753_279_986_288_92));
        let (lo, hi) = wilson(10, 10).unwrap();
        assert!(close(lo, 72.246_720_013_711_07) && close(hi, 100.0));
        assert_eq!(wilson(0, 0), None);
    }

    #[test]
    fn erfc_matches_reference_values() {
        assert!((erfc(1.0) - 0.157_299_207_050_285_13).abs() < 2e-8);
        assert!((erfc(0.5) - 0.479_500_122_186_953_5).abs() < 6e-8);
        assert!((erfc(3.0) - 2.209_049_699_858_543_8e-5).abs() < 3e-12);
        assert!((erfc(-1.0) - (2.0 - 0.157_299_207_050_285_13)).abs() < 2e-8);
    }

    #[test]
    fn two_proportion_p_values_match_reference_values() {
        assert!(close(two_proportion_p(45, 100, 60, 100).unwrap(), 0.033_672_068_856_345_876));
        assert!(close(two_proportion_p(120, 200, 100, 200).unwrap(), 0.044_423_184_850_006_12));
        assert!(close(two_proportion_p(1, 2, 1, 2).unwrap(), 1.0));
        assert_eq!(two_proportion_p(1, 0, 1, 2), None);
        assert_eq!(two_proportion_p(5, 5, 7, 7), Some(1.0));
    }

    #[test]
    fn reasons_fold_case_spacing_and_trailing_punctuation() {
        assert_eq!(fold_reason("  Too   SLOW!!  "), "too slow");
        assert_eq!(fold_reason("Wrong answer."), "wrong answer");
        let grouped = group_reasons(vec![
            ("Too slow".into(), 3),
            ("too slow!".into(), 1),
            ("TOO  slow.".into(), 1),
            ("Wrong answer".into(), 2),
            ("...".into(), 4),
        ]);
        assert_eq!(
            grouped,
            vec![
                ReasonCount { reason: "Too slow".into(), count: 5 },
                ReasonCount { reason: "Wrong answer".into(), count: 2 }
            ]
        );
    }

    #[test]
    fn groupings_never_straddle_a_day() {
        let utc = Period::parse(Some("2024-06-01"), Some("2024-06-03"), None, Timestamp(0)).unwrap();
        assert_eq!(utc.grouping(), Grouping { size: 86_400_000, offset: 0 });
        let paris = Period::parse(Some("2024-06-01"), Some("2024-06-03"), Some("Europe/Paris"), Timestamp(0)).unwrap();
        assert_eq!(paris.grouping(), Grouping { size: 86_400_000, offset: 2 * 3_600_000 });
        // The change to summer time on 31 March: days of 23 hours, so hours.
        let spring = Period::parse(Some("2024-03-30"), Some("2024-04-02"), Some("Europe/Paris"), Timestamp(0)).unwrap();
        assert_eq!(spring.grouping(), Grouping { size: 3_600_000, offset: 0 });
        let kathmandu =
            Period::parse(Some("2024-06-01"), Some("2024-06-03"), Some("Asia/Kathmandu"), Timestamp(0)).unwrap();
        assert_eq!(kathmandu.grouping().size, 86_400_000, "a fixed +05:45 still cuts whole days");
        let odd = Period::parse(Some("2024-06-01T10:07:00Z"), Some("2024-06-03"), None, Timestamp(0)).unwrap();
        assert_eq!(odd.grouping(), Grouping::BUCKETS);
        // Every bucket of a day groups to a moment of that same day.
        let g = paris.grouping();
        for b in (paris.from.0..paris.to.0).step_by(usize::try_from(BUCKET_MS).unwrap()) {
            assert_eq!(paris.day_of(g.group(b).max(paris.from.0)), paris.day_of(b));
        }
    }

    #[test]
    fn bucket_counts_sum_into_the_spans_of_a_grouping() {
        let paris = Period::parse(Some("2024-06-01"), Some("2024-06-03"), Some("Europe/Paris"), Timestamp(0)).unwrap();
        let at = |s: &str| Timestamp::parse_rfc3339("t", s).unwrap().0;
        // Hours of two Paris days (which start at 22:00 UTC), out of order,
        // one of them twice (a folded row and a pending change).
        let counts = [
            (at("2024-06-02T21:00:00Z"), [1, 0]),
            (at("2024-05-31T22:00:00Z"), [2, 1]),
            (at("2024-06-01T21:45:00Z"), [0, 3]),
            (at("2024-06-01T22:00:00Z"), [5, 0]),
            (at("2024-05-31T22:00:00Z"), [1, 1]),
        ];
        assert_eq!(
            paris.grouping().sum(counts),
            vec![(at("2024-05-31T22:00:00Z"), [3, 5]), (at("2024-06-01T22:00:00Z"), [6, 0])]
        );
        assert_eq!(Grouping::BUCKETS.sum([(900_000, [1, 2]), (0, [3, 4])]), vec![(0, [3, 4]), (900_000, [1, 2])]);
        assert!(Grouping::BUCKETS.sum([]).is_empty());
    }

    #[test]
    fn the_overview_adds_up_by_hand() {
        let p = Period::parse(Some("2024-06-01"), Some("2024-06-03"), Some("Europe/Paris"), Timestamp(0)).unwrap();
        let at = |s: &str| Timestamp::parse_rfc3339("t", s).unwrap().0;
        let bucket = |s: &str| at(s) / BUCKET_MS * BUCKET_MS;
        let thumbs = [
            ThumbBucket { bucket: bucket("2024-06-01T08:00:00Z"), up: 3, down: 1 },
            ThumbBucket { bucket: bucket("2024-06-01T23:30:00Z"), up: 1, down: 1 },
        ];
        let previous = [ThumbBucket { bucket: bucket("2024-05-30T08:00:00Z"), up: 2, down: 2 }];
        // Conversation a: answers 5 and 1, rated 3 on June 1; b: 5 on June 2.
        let ratings = [
            RatingBucket { bucket: bucket("2024-06-01T09:00:00Z"), micros: 3_000_000, count: 1 },
            RatingBucket { bucket: bucket("2024-06-02T09:00:00Z"), micros: 5_000_000, count: 1 },
        ];
        let questions = [
            QuestionTotal { question_code: "HELPFUL_THUMBS".into(), total: 10, count: 2 },
            QuestionTotal { question_code: "EXPERIENCE_THUMBS".into(), total: 1, count: 1 },
        ];
        let facts = OverviewFacts {
            thumbs: thumbs.to_vec(),
            previous_thumbs: previous.to_vec(),
            ratings: ratings.to_vec(),
            previous_ratings: vec![],
            questions: questions.to_vec(),
            votes: VoteTotals { upvotes: 2, downvotes: 1, value_sum: 100 },
        };
        let o = overview(&p, &facts);
        let up = &o.message_feedback.thumbs_up;
        assert_eq!(
            (up.count, up.percent, up.previous_count, up.previous_percent, up.change_percent),
            (4, Some(66.67), 2, Some(50.0), Some(100.0))
        );
        let down = &o.message_feedback.thumbs_down;
        assert_eq!((down.count, down.percent, down.change_percent), (2, Some(33.33), Some(0.0)));
        // Conversation a averages (5+1)/2 = 3, b 5: the average is 4 over two conversations.
        assert_eq!((o.csat.average, o.csat.rated_conversations, o.csat.previous_average), (Some(4.0), 2, None));
        assert_eq!(
            o.csat.daily.iter().map(|d| (d.average, d.count)).collect::<Vec<_>>(),
            [(Some(3.0), 1), (Some(5.0), 1)]
        );
        let by_question: Vec<_> =
            o.csat.by_question.iter().map(|q| (q.question_code.as_str(), q.average, q.count)).collect();
        assert_eq!(by_question, [("EXPERIENCE_THUMBS", Some(1.0), 1), ("HELPFUL_THUMBS", Some(5.0), 2)]);
        assert_eq!(o.votes.average_value, Some(33.33));
        let days: Vec<(i64, i64, Option<f64>)> =
            o.satisfaction.daily.iter().map(|d| (d.good, d.total, d.rate)).collect();
        assert_eq!(days, [(3, 4, Some(75.0)), (1, 2, Some(50.0))], "23:30 UTC counts on the Paris day after");
    }

    #[test]
    fn comparisons_order_groups_and_test_them_against_the_baseline() {
        let raw = vec![(Some("A".to_owned()), 100, 45), (Some("B".to_owned()), 200, 120), (None, 0, 0)];
        let c = compare(GroupBy::Variant, raw.clone(), None).unwrap();
        assert_eq!(c.baseline.as_deref(), Some("B"), "the largest group by default");
        assert_eq!(c.groups[0].key.as_deref(), Some("B"));
        assert_eq!(c.groups[0].p_value, None);
        assert_eq!(c.groups[0].rate, Some(60.0));
        let a = &c.groups[1];
        assert_eq!((a.ci_low, a.ci_high), (Some(35.61), Some(54.76)));
        let expected = two_proportion_p(45, 100, 120, 200).unwrap();
        assert!((a.p_value.unwrap() - expected).abs() < 1e-6);
        assert_eq!(c.groups[2].rate, None);
        let on_a = compare(GroupBy::Variant, raw.clone(), Some("A")).unwrap();
        assert_eq!(on_a.groups[1].p_value, None, "A is the baseline now");
        assert!(compare(GroupBy::Variant, raw, Some("Z")).is_err());
    }

    #[test]
    fn search_patterns_escape_wildcards() {
        let f = InboxFilter { q: Some(" 50%_Off\\ ".into()), ..Default::default() };
        assert_eq!(f.like_pattern().as_deref(), Some("%50\\%\\_off\\\\%"));
        assert_eq!(InboxFilter { q: Some("  ".into()), ..Default::default() }.like_pattern(), None);
    }

    #[test]
    fn filters_check_confidence_bounds() {
        assert!(Filters::parse(None, None, Some(1.5), None, None, None).is_err());
        assert!(Filters::parse(None, None, Some(0.8), Some(0.2), None, None).is_err());
        assert!(Filters::parse(Some("nope"), None, None, None, None, None).is_err());
        let f = Filters::parse(None, Some("billing"), Some(0.2), Some(0.8), Some("B"), Some(true)).unwrap();
        assert!(f.filters_answers());
    }
}
