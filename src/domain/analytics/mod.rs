//! Analytics: periods cut into days of a time zone, the figures' formulas,
//! and the statistics behind A/B comparisons. Pure functions; the store
//! supplies counts, this module turns them into answers.
//!
//! - `filters.rs`: the filters of the figures and of the inbox;
//! - `period.rs`: periods, their days, and how counts are grouped into them;
//! - `overview.rs`: the overview's counts and figures;
//! - `compare.rs`: A/B comparisons;
//! - `reasons.rs`: the reasons given with thumbs, grouped;
//! - `stats.rs`: percentages, means, Wilson intervals, two-proportion tests.
//!
//! Every formula here is written out in `docs/analytics.md`.

mod compare;
mod filters;
mod overview;
mod period;
mod reasons;
mod stats;
#[cfg(test)]
mod tests;

pub use compare::{CompareGroup, Comparison, GroupBy, compare};
pub use filters::{Filters, InboxFilter, SatisfactionFilter, ThumbsFilter};
pub use overview::{
    CsatDay, CsatFigures, CsatQuestion, MessageFeedbackFigures, Overview, OverviewFacts, PeriodOut, QuestionTotal,
    RatingBucket, SatisfactionDay, SatisfactionFigures, ThumbBucket, ThumbFigure, VoteFigures, VoteTotals, overview,
};
pub use period::{Day, Grouping, Period};
pub use reasons::{
    MAX_GROUPED_REASON_CHARS, REASON_THRESHOLD, ReasonCount, ReasonGrouping, fold_reason, group_reasons,
    group_reasons_by_meaning, groups_by_meaning,
};
pub use stats::{Z95, change_percent, erfc, mean, percent, round2, two_proportion_p, wilson};

/// Days a period may span at most.
pub const MAX_PERIOD_DAYS: i64 = 3_660;
/// Days in the default period.
pub const DEFAULT_PERIOD_DAYS: i64 = 30;
/// The width of the buckets counts are grouped in. Every time zone's midnight
/// falls on a multiple of 15 minutes, so a bucket never straddles two days.
pub const BUCKET_MS: i64 = 15 * 60 * 1000;
