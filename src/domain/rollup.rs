//! Rollups: the signals counted ahead of time, per 15-minute bucket, so that
//! analytics read a few rows a bucket instead of every signal.
//!
//! Each signal adds to three grains of one table: every bot (`*`), its bot,
//! and its bot with the dimensions a filter can name (variant, the
//! conversation's language and, for thumbs, topic and whether a reason was
//! given). A query reads the coarsest
//! grain that its filters allow; filters no grain is keyed by (confidence,
//! and topic or reason for conversation-level signals) and bounds that are not
//! on a bucket's edge are counted from the signals themselves.
//!
//! The store keeps the rollups in the same transaction as each change: it
//! takes what a message or a conversation contributed before the change and
//! after it ([`Contribution`]), and adds the difference ([`Rows::minus`]).
//! This module says what a contribution is; the store only reads and writes.

use std::collections::BTreeMap;

use super::analytics::{BUCKET_MS, Filters};

/// The key part meaning "every value": the coarser grains.
pub const ANY: &str = "*";
/// `has_reason` of the coarser grains.
pub const ANY_REASON: i64 = -1;

/// A dimension's value as a key part: `-` for none, `=value` for a value, so
/// that no stored value can read as [`ANY`] or as none.
pub fn key_part(value: Option<&str>) -> String {
    value.map_or_else(|| "-".to_owned(), |v| format!("={v}"))
}

/// A conversation's language as a key part: its tag in lower case, as
/// [`crate::domain::ids::LocaleFilter`] compares it.
pub fn locale_part(locale: Option<&str>) -> String {
    key_part(locale.map(str::to_ascii_lowercase).as_deref())
}

/// The value back from a key part written by [`key_part`].
pub fn from_key_part(part: &str) -> Option<String> {
    part.strip_prefix('=').map(str::to_owned)
}

/// The first millisecond of the bucket holding `at` (truncating, as SQL's
/// integer division does).
pub fn bucket_of(at: i64) -> i64 {
    at / BUCKET_MS * BUCKET_MS
}

/// An hour and a day (of UTC), the longer spans the coarse grains are also
/// counted in, and blocks of 8 and 64 days, which only totals use.
pub const HOUR_MS: i64 = 3_600_000;
pub const DAY_MS: i64 = 86_400_000;
pub const BLOCK_MS: i64 = 8 * DAY_MS;
pub const LONG_BLOCK_MS: i64 = 64 * DAY_MS;

/// The spans every grain is counted in (the dimension grain in the first only).
const SPANS: [i64; 5] = [BUCKET_MS, HOUR_MS, DAY_MS, BLOCK_MS, LONG_BLOCK_MS];

/// The rollup rows a read of `[from, to)` (on bucket edges) takes: each as a
/// span and the range `[lo, hi)` of its buckets. Summed by `grouping`, rows
/// of the one longest span that divides both bounds and the grouping's
/// spans, so that each row falls in one of them. For totals (no grouping), a
/// cover: the longest span's whole buckets inside the period, then shorter
/// spans for what is left at either end, so that a year takes a few dozen
/// rows instead of 365. Only the bot grain keeps the longer spans.
pub fn ranges_for(
    grain: Grain,
    from: i64,
    to: i64,
    grouping: Option<super::analytics::Grouping>,
) -> Vec<(i64, i64, i64)> {
    let spans: &[i64] = if grain == Grain::Dimensions { &SPANS[..1] } else { &SPANS };
    match grouping {
        Some(g) => {
            let fits = |span: i64| {
                let on_edge = |t: i64| t == i64::MAX || t.rem_euclid(span) == 0;
                on_edge(from) && on_edge(to) && g.size % span == 0 && g.offset % span == 0
            };
            let span = spans.iter().rev().copied().find(|s| fits(*s)).unwrap_or(BUCKET_MS);
            vec![(span, from, to)]
        }
        None => {
            let mut ranges = Vec::new();
            cover(from, to, spans, &mut ranges);
            if ranges.is_empty() {
                // An empty period: a range that holds no row.
                ranges.push((BUCKET_MS, from, to));
            }
            ranges
        }
    }
}

/// Adds to `ranges` the coarsest rows of `spans` (finest first) that count
/// `[from, to)` exactly.
fn cover(from: i64, to: i64, spans: &[i64], ranges: &mut Vec<(i64, i64, i64)>) {
    let Some((&span, finer)) = spans.split_last() else { return };
    if from >= to {
        return;
    }
    if finer.is_empty() {
        ranges.push((span, from, to));
        return;
    }
    let lo = from + (span - from.rem_euclid(span)) % span;
    let hi = if to == i64::MAX { to } else { to - to.rem_euclid(span) };
    if lo >= hi {
        return cover(from, to, finer, ranges);
    }
    ranges.push((span, lo, hi));
    cover(from, lo, finer, ranges);
    cover(hi, to, finer, ranges);
}

/// Whether `[from, to)` is made of whole buckets, so that the rollups count
/// it exactly.
pub fn whole_buckets(from: i64, to: i64) -> bool {
    from.rem_euclid(BUCKET_MS) == 0 && (to == i64::MAX || to.rem_euclid(BUCKET_MS) == 0)
}

/// A conversation's CSAT rating (the average of its answers) in millionths,
/// the unit in which ratings are summed exactly.
pub fn rating_micros(score_sum: i64, answers: i64) -> i64 {
    if answers == 0 {
        return 0;
    }
    // Rounded half up; scores are positive, so this is exact integer rounding.
    (score_sum * 1_000_000 * 2 + answers) / (2 * answers)
}

/// How figures are counted: from the rollups wherever they can answer, or
/// always from the signals themselves (the reference the rollups are
/// checked against).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counting {
    Rollups,
    Direct,
}

/// Which grain of a rollup answers a query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grain {
    /// Every bot, or one bot: the filters name nothing else.
    Bot,
    /// The finest grain: the filters name a dimension.
    Dimensions,
}

/// The grain that answers message-thumb figures under `f` on `[from, to)`,
/// or `None` when they must be counted from the feedback itself.
pub fn thumb_grain(f: &Filters, from: i64, to: i64) -> Option<Grain> {
    if f.min_confidence.is_some() || f.max_confidence.is_some() || !whole_buckets(from, to) {
        return None;
    }
    Some(if f.variant.is_none() && f.locale.is_none() && f.topic.is_none() && f.has_reason.is_none() {
        Grain::Bot
    } else {
        Grain::Dimensions
    })
}

/// The grain that answers vote and CSAT figures, which are keyed by bot,
/// variant and language only: a topic, confidence or reason filter counts
/// directly.
pub fn signal_grain(f: &Filters, from: i64, to: i64) -> Option<Grain> {
    if f.filters_answers() || f.has_reason.is_some() || !whole_buckets(from, to) {
        return None;
    }
    Some(if f.variant.is_none() && f.locale.is_none() { Grain::Bot } else { Grain::Dimensions })
}

/// One thumb that counts (not retracted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThumbFact {
    pub conversation_id: String,
    pub bot_id: String,
    pub variant: Option<String>,
    /// The conversation's language.
    pub locale: Option<String>,
    pub topic: Option<String>,
    pub has_reason: bool,
    pub positive: bool,
    pub at: i64,
}

impl ThumbFact {
    /// What a feedback record counts for, on `answer`: nothing once retracted.
    pub fn of(f: &super::feedback::Feedback, answer: &super::conversation::MessageInContext) -> Option<Self> {
        f.retracted_at.is_none().then(|| Self {
            conversation_id: f.conversation_id.clone(),
            bot_id: f.bot_id.to_string(),
            variant: answer.variant.clone(),
            locale: answer.locale.clone(),
            topic: answer.topic.clone(),
            has_reason: f.reason.is_some(),
            positive: f.feedback_type == super::feedback::FeedbackType::Positive,
            at: f.submitted_at.0,
        })
    }
}

/// One vote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoteFact {
    pub bot_id: String,
    pub variant: Option<String>,
    pub locale: Option<String>,
    pub up: bool,
    pub value: i64,
    pub at: i64,
}

/// One CSAT answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnswerFact {
    pub conversation_id: String,
    pub bot_id: String,
    pub variant: Option<String>,
    pub locale: Option<String>,
    pub question_code: String,
    pub score: i64,
    pub at: i64,
}

/// What a message or a conversation adds to the rollups.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Contribution {
    pub thumbs: Vec<ThumbFact>,
    pub votes: Vec<VoteFact>,
    pub answers: Vec<AnswerFact>,
}

/// A row of `thumb_rollup`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ThumbKey {
    pub bot_id: String,
    pub variant: String,
    pub topic: String,
    pub has_reason: i64,
    pub locale: String,
    pub span: i64,
    pub bucket: i64,
}

/// A row of `vote_rollup` or `csat_rollup` (`question_code` empty for votes
/// and for conversation ratings).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct SignalKey {
    pub bot_id: String,
    pub variant: String,
    pub question_code: String,
    pub locale: String,
    pub span: i64,
    pub bucket: i64,
}

/// Rollup rows with the amounts to add: thumbs `[up, down]`, votes
/// `[up, down, value_sum]`, CSAT `[total, count]` (a conversation rating's
/// total in millionths, a question's total in points), and each
/// conversation's own counts `[thumbs up, thumbs down, messages]` (shown by
/// the inbox).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rows {
    pub conversations: BTreeMap<String, [i64; 3]>,
    pub thumbs: BTreeMap<ThumbKey, [i64; 2]>,
    pub votes: BTreeMap<SignalKey, [i64; 3]>,
    pub csat: BTreeMap<SignalKey, [i64; 2]>,
}

fn add<K: Ord, const N: usize>(map: &mut BTreeMap<K, [i64; N]>, key: K, amounts: [i64; N], sign: i64) {
    let entry = map.entry(key).or_insert([0; N]);
    for (e, a) in entry.iter_mut().zip(amounts) {
        *e += sign * a;
    }
}

/// The bot, variant and language parts of the three grains a signal adds
/// to, with the spans each is counted in.
fn grains(bot_id: &str, variant: Option<&str>, locale: Option<&str>) -> [Grained; 3] {
    let any = || (ANY.to_owned(), ANY.to_owned());
    [
        (ANY.into(), any(), &SPANS),
        (bot_id.into(), any(), &SPANS),
        (bot_id.into(), (key_part(variant), locale_part(locale)), &SPANS[..1]),
    ]
}

/// A grain's bot, its (variant, language) parts and its spans.
type Grained = (String, (String, String), &'static [i64]);

impl Rows {
    /// The rows a contribution adds.
    pub fn of(c: &Contribution) -> Self {
        let mut rows = Self::default();
        for t in &c.thumbs {
            let amounts = if t.positive { [1, 0] } else { [0, 1] };
            add(&mut rows.conversations, t.conversation_id.clone(), [amounts[0], amounts[1], 0], 1);
            let grains = grains(&t.bot_id, t.variant.as_deref(), t.locale.as_deref());
            for (i, (bot_id, (variant, locale), spans)) in grains.into_iter().enumerate() {
                let fine = i == 2;
                for &span in spans {
                    let key = ThumbKey {
                        bot_id: bot_id.clone(),
                        variant: variant.clone(),
                        topic: if fine { key_part(t.topic.as_deref()) } else { ANY.into() },
                        has_reason: if fine { i64::from(t.has_reason) } else { ANY_REASON },
                        locale: locale.clone(),
                        span,
                        bucket: t.at / span * span,
                    };
                    add(&mut rows.thumbs, key, amounts, 1);
                }
            }
        }
        let signal =
            |bot_id: &String, (variant, locale): &(String, String), code: &str, span: i64, at: i64| SignalKey {
                bot_id: bot_id.clone(),
                variant: variant.clone(),
                question_code: code.to_owned(),
                locale: locale.clone(),
                span,
                bucket: at / span * span,
            };
        for v in &c.votes {
            let amounts = if v.up { [1, 0, v.value] } else { [0, 1, v.value] };
            for (bot_id, parts, spans) in grains(&v.bot_id, v.variant.as_deref(), v.locale.as_deref()) {
                for &span in spans {
                    add(&mut rows.votes, signal(&bot_id, &parts, "", span, v.at), amounts, 1);
                }
            }
        }
        // Each answer counts for its question at its own time; each
        // conversation's answers count once together, at its latest answer.
        let mut ratings: BTreeMap<&str, (&AnswerFact, i64, i64, i64)> = BTreeMap::new();
        for a in &c.answers {
            for (bot_id, parts, spans) in grains(&a.bot_id, a.variant.as_deref(), a.locale.as_deref()) {
                for &span in spans {
                    add(&mut rows.csat, signal(&bot_id, &parts, &a.question_code, span, a.at), [a.score, 1], 1);
                }
            }
            let r = ratings.entry(&a.conversation_id).or_insert((a, 0, 0, i64::MIN));
            r.1 += a.score;
            r.2 += 1;
            r.3 = r.3.max(a.at);
        }
        for (a, sum, n, latest) in ratings.into_values() {
            for (bot_id, parts, spans) in grains(&a.bot_id, a.variant.as_deref(), a.locale.as_deref()) {
                for &span in spans {
                    add(&mut rows.csat, signal(&bot_id, &parts, "", span, latest), [rating_micros(sum, n), 1], 1);
                }
            }
        }
        rows
    }

    /// The change when one thumb record goes from counting for `before` to
    /// counting for `after` (either none), for a write that has both in hand.
    pub fn thumb_change(before: Option<ThumbFact>, after: Option<ThumbFact>) -> Self {
        let counts = |fact: Option<ThumbFact>| {
            Self::of(&Contribution { thumbs: fact.into_iter().collect(), ..Default::default() })
        };
        counts(after).minus(&counts(before))
    }

    /// What turns `before` into `self`: the amounts to add, rows that do
    /// not change left out.
    pub fn minus(mut self, before: &Self) -> Self {
        fn sub<K: Ord + Clone, const N: usize>(after: &mut BTreeMap<K, [i64; N]>, before: &BTreeMap<K, [i64; N]>) {
            for (k, v) in before {
                add(after, k.clone(), *v, -1);
            }
            after.retain(|_, v| v.iter().any(|x| *x != 0));
        }
        sub(&mut self.conversations, &before.conversations);
        sub(&mut self.thumbs, &before.thumbs);
        sub(&mut self.votes, &before.votes);
        sub(&mut self.csat, &before.csat);
        self
    }

    /// Adds `other`'s amounts to these.
    pub fn absorb(&mut self, other: Self) {
        for (k, v) in other.conversations {
            add(&mut self.conversations, k, v, 1);
        }
        for (k, v) in other.thumbs {
            add(&mut self.thumbs, k, v, 1);
        }
        for (k, v) in other.votes {
            add(&mut self.votes, k, v, 1);
        }
        for (k, v) in other.csat {
            add(&mut self.csat, k, v, 1);
        }
    }

    /// Counts a message appended to a conversation.
    pub fn count_message(&mut self, conversation_id: &str) {
        self.count_messages(conversation_id, 1);
    }

    /// Counts `n` messages appended to a conversation (taken away, when negative).
    pub fn count_messages(&mut self, conversation_id: &str, n: i64) {
        add(&mut self.conversations, conversation_id.to_owned(), [0, 0, n], 1);
    }

    /// Keeps only the conversations' own counts: for erasures that leave
    /// past periods' rollups as they were (retention).
    pub fn counts_only(mut self) -> Self {
        self.thumbs.clear();
        self.votes.clear();
        self.csat.clear();
        self
    }

    pub fn is_empty(&self) -> bool {
        self.conversations.is_empty() && self.thumbs.is_empty() && self.votes.is_empty() && self.csat.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::LocaleFilter;

    fn thumb(positive: bool, at: i64) -> ThumbFact {
        ThumbFact {
            conversation_id: "c".into(),
            bot_id: "b".into(),
            variant: Some("A".into()),
            locale: Some("fr-CA".into()),
            topic: None,
            has_reason: !positive,
            positive,
            at,
        }
    }

    #[test]
    fn a_thumb_adds_to_three_grains() {
        let rows = Rows::of(&Contribution { thumbs: vec![thumb(true, BUCKET_MS + 5)], ..Contribution::default() });
        let keys: Vec<_> = rows
            .thumbs
            .keys()
            .filter(|k| k.span == BUCKET_MS)
            .map(|k| (k.bot_id.as_str(), k.variant.as_str(), k.topic.as_str(), k.has_reason, k.locale.as_str()))
            .collect();
        assert_eq!(keys, [("*", "*", "*", -1, "*"), ("b", "*", "*", -1, "*"), ("b", "=A", "-", 0, "=fr-ca")]);
        assert!(rows.thumbs.keys().all(|k| k.bucket == k.bucket / k.span * k.span));
        // The two coarse grains are also counted by the hour, the day and
        // the blocks of 8 and 64 days.
        let longer: Vec<_> = rows.thumbs.keys().filter(|k| k.span != BUCKET_MS).map(|k| (k.span, k.bucket)).collect();
        let spans = [(HOUR_MS, 0), (DAY_MS, 0), (BLOCK_MS, 0), (LONG_BLOCK_MS, 0)];
        assert_eq!(longer, [spans, spans].concat());
        assert!(rows.thumbs.values().all(|v| *v == [1, 0]));
    }

    #[test]
    fn a_switch_moves_the_count_and_an_unchanged_row_is_left_out() {
        let before = Rows::of(&Contribution { thumbs: vec![thumb(true, 0)], ..Contribution::default() });
        let after = Rows::of(&Contribution { thumbs: vec![thumb(false, 10)], ..Contribution::default() });
        let delta = after.minus(&before);
        // Same bucket: the coarse rows move one from up to down; the fine
        // rows differ by has_reason, so one loses and one gains.
        assert_eq!(delta.thumbs.len(), 12, "two fine rows, and five spans of two coarse grains");
        let coarse = &delta.thumbs[&ThumbKey {
            bot_id: "*".into(),
            variant: "*".into(),
            topic: "*".into(),
            has_reason: -1,
            locale: "*".into(),
            span: BUCKET_MS,
            bucket: 0,
        }];
        assert_eq!(*coarse, [-1, 1]);
        let same = Rows::of(&Contribution { thumbs: vec![thumb(true, 0)], ..Contribution::default() });
        assert!(same.minus(&before).is_empty());
    }

    #[test]
    fn a_conversation_rating_is_its_answers_averaged_at_the_latest() {
        let answer = |code: &str, score, at| AnswerFact {
            conversation_id: "c".into(),
            bot_id: "b".into(),
            variant: None,
            locale: None,
            question_code: code.into(),
            score,
            at,
        };
        let rows = Rows::of(&Contribution {
            answers: vec![answer("HELPFUL_THUMBS", 5, 0), answer("SATISFACTION_STARS", 4, 2 * BUCKET_MS)],
            ..Contribution::default()
        });
        let rating = &rows.csat[&SignalKey {
            bot_id: "*".into(),
            variant: "*".into(),
            question_code: String::new(),
            locale: "*".into(),
            span: BUCKET_MS,
            bucket: 2 * BUCKET_MS,
        }];
        assert_eq!(*rating, [4_500_000, 1]);
        let helpful = &rows.csat[&SignalKey {
            bot_id: "b".into(),
            variant: "-".into(),
            question_code: "HELPFUL_THUMBS".into(),
            locale: "-".into(),
            span: BUCKET_MS,
            bucket: 0,
        }];
        assert_eq!(*helpful, [5, 1]);
    }

    #[test]
    fn ratings_round_to_millionths() {
        assert_eq!(rating_micros(10, 3), 3_333_333);
        assert_eq!(rating_micros(11, 3), 3_666_667);
        assert_eq!(rating_micros(0, 0), 0);
    }

    #[test]
    fn key_parts_cannot_collide_with_any() {
        assert_eq!(key_part(None), "-");
        assert_eq!(key_part(Some("*")), "=*");
        assert_eq!(from_key_part("=*"), Some("*".into()));
        assert_eq!(from_key_part("-"), None);
    }

    #[test]
    fn series_take_the_longest_span_that_fits() {
        use super::super::analytics::Grouping;
        let day = Grouping { size: DAY_MS, offset: 0 };
        let span = |grain, from, to, g| {
            let ranges = ranges_for(grain, from, to, Some(g));
            assert_eq!(ranges.len(), 1);
            assert_eq!((ranges[0].1, ranges[0].2), (from, to));
            ranges[0].0
        };
        assert_eq!(span(Grain::Bot, 0, 80 * DAY_MS, day), DAY_MS, "never a block: a day's rows stay apart");
        assert_eq!(span(Grain::Bot, 0, 10 * DAY_MS, Grouping { size: DAY_MS, offset: 2 * HOUR_MS }), HOUR_MS);
        assert_eq!(span(Grain::Bot, HOUR_MS, 10 * DAY_MS, day), HOUR_MS, "a bound inside a day");
        assert_eq!(span(Grain::Bot, 0, DAY_MS, Grouping::BUCKETS), BUCKET_MS);
        assert_eq!(span(Grain::Dimensions, 0, DAY_MS, day), BUCKET_MS);
    }

    #[test]
    fn totals_take_a_cover_of_the_longest_spans() {
        // 2024-01-01 to 2025-01-01 (366 days), from 10:15 to 07:45.
        let (from, to) = (19_723 * DAY_MS + 10 * HOUR_MS + BUCKET_MS, 20_089 * DAY_MS + 7 * HOUR_MS + 3 * BUCKET_MS);
        let ranges = ranges_for(Grain::Bot, from, to, None);
        assert!(ranges.iter().all(|&(_, lo, hi)| lo < hi));
        // The ranges tile the period exactly, each on its span's edges.
        let mut tiles: Vec<(i64, i64)> = ranges.iter().map(|&(_, lo, hi)| (lo, hi)).collect();
        tiles.sort_unstable();
        assert_eq!(tiles.first().unwrap().0, from);
        assert_eq!(tiles.last().unwrap().1, to);
        assert!(tiles.windows(2).all(|w| w[0].1 == w[1].0), "{tiles:?}");
        assert!(ranges.iter().all(|&(span, lo, hi)| lo < hi && lo % span == 0 && hi % span == 0));
        let rows: i64 = ranges.iter().map(|&(span, lo, hi)| (hi - lo) / span).sum();
        assert!(rows < 60, "{rows} rows for a year: {ranges:?}");
        assert_eq!(ranges[0].0, LONG_BLOCK_MS, "the longest span first");
        // A whole day is one row; the dimension grain has buckets only; an
        // open end takes the longest span to the end.
        assert_eq!(ranges_for(Grain::Bot, DAY_MS, 2 * DAY_MS, None), vec![(DAY_MS, DAY_MS, 2 * DAY_MS)]);
        assert_eq!(ranges_for(Grain::Dimensions, 0, DAY_MS, None), vec![(BUCKET_MS, 0, DAY_MS)]);
        assert_eq!(ranges_for(Grain::Bot, 0, i64::MAX, None), vec![(LONG_BLOCK_MS, 0, i64::MAX)]);
        assert_eq!(ranges_for(Grain::Bot, DAY_MS, DAY_MS, None), vec![(BUCKET_MS, DAY_MS, DAY_MS)], "nothing to read");
    }

    #[test]
    fn grains_follow_the_filters() {
        let none = Filters::default();
        assert_eq!(thumb_grain(&none, 0, BUCKET_MS * 4), Some(Grain::Bot));
        assert_eq!(thumb_grain(&none, 1, BUCKET_MS * 4), None, "a bound inside a bucket");
        let topic = Filters { topic: Some("billing".into()), ..Filters::default() };
        assert_eq!(thumb_grain(&topic, 0, BUCKET_MS), Some(Grain::Dimensions));
        assert_eq!(signal_grain(&topic, 0, BUCKET_MS), None);
        let confident = Filters { min_confidence: Some(0.5), ..Filters::default() };
        assert_eq!(thumb_grain(&confident, 0, BUCKET_MS), None);
        let variant = Filters { variant: Some("A".into()), ..Filters::default() };
        assert_eq!(signal_grain(&variant, 0, BUCKET_MS), Some(Grain::Dimensions));
        let french = Filters { locale: Some(LocaleFilter::parse("locale", "fr").unwrap()), ..Filters::default() };
        assert_eq!(thumb_grain(&french, 0, BUCKET_MS), Some(Grain::Dimensions));
        assert_eq!(signal_grain(&french, 0, BUCKET_MS), Some(Grain::Dimensions));
    }
}
