//! The overview: thumbs, CSAT, votes and daily satisfaction of a period,
//! against the period before, from the counts the store gives.

use serde::Serialize;

use super::{
    period::{Period, sum_pairs},
    stats::{change_percent, percent, round2},
};
use crate::domain::Timestamp;

/// Thumbs counted in one bucket (`bucket` is its first millisecond).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThumbBucket {
    pub bucket: i64,
    pub up: i64,
    pub down: i64,
}

/// Conversation ratings that fall in one bucket: how many, and the sum of
/// their averages in millionths (see the rollups' `rating_micros`).
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
#[derive(Debug, Clone, Serialize)]
pub struct PeriodOut {
    pub from: Timestamp,
    pub to: Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tz: Option<String>,
}

/// Thumbs up (or down) of the period against the previous one.
#[derive(Debug, Clone, Serialize)]
pub struct ThumbFigure {
    pub count: i64,
    /// Share among all thumbs of the period, 0–100.
    pub percent: Option<f64>,
    pub previous_count: i64,
    pub previous_percent: Option<f64>,
    /// `100·(count − previous_count)/previous_count`.
    pub change_percent: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MessageFeedbackFigures {
    pub thumbs_up: ThumbFigure,
    pub thumbs_down: ThumbFigure,
}

#[derive(Debug, Clone, Serialize)]
pub struct CsatDay {
    pub date: String,
    pub average: Option<f64>,
    /// Rated conversations that day.
    pub count: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct CsatQuestion {
    pub question_code: String,
    pub average: Option<f64>,
    pub count: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct CsatFigures {
    /// Over rated conversations, each conversation's answers averaged first (1–5).
    pub average: Option<f64>,
    pub rated_conversations: i64,
    pub previous_average: Option<f64>,
    pub daily: Vec<CsatDay>,
    pub by_question: Vec<CsatQuestion>,
}

#[derive(Debug, Clone, Serialize)]
pub struct VoteFigures {
    pub upvotes: i64,
    pub downvotes: i64,
    pub average_value: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SatisfactionDay {
    pub date: String,
    /// Positive thumbs.
    pub good: i64,
    /// All thumbs.
    pub total: i64,
    /// `100·good/total`.
    pub rate: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SatisfactionFigures {
    pub daily: Vec<SatisfactionDay>,
}

/// The answer of `GET /v1/analytics/overview`.
#[derive(Debug, Clone, Serialize)]
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
