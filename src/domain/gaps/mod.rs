//! Knowledge gaps: the questions whose answers were thumbed down, grouped
//! so that questions of one meaning land together (SPEC §10).
//!
//! Everything here is pure. Groups live per bot and language (a *shelf*)
//! over all time: the embedding worker represents each question as a
//! vector, links it to its nearest neighbours on its shelf, and regroups the
//! shelf by meaning ([`crate::domain::meaning`]) at [`MEANING_THRESHOLD`]
//! ([`group::regroup`]); the store keeps each question's group. A group is
//! named by its oldest thumbed-down answer, so its id stays as paraphrases
//! join, and every member's own id names it too. A listing only counts: the
//! store tallies each group's thumbs-down of the period ([`GapTally`]) and
//! reads the details of the groups shown ([`GapDetail`]). A question not
//! grouped yet stands alone, marked pending. A group's representative is
//! its most central question.

mod group;
mod listing;
#[cfg(test)]
mod tests;

use serde::Serialize;
use sha2::{Digest, Sha256};

pub use group::{Assignment, ShelfQuestion, ShelfRow, ShelfRows, regroup};
pub use listing::{GapDetail, GapKey, GapTally, order};

use super::{
    DomainError, Timestamp,
    analytics::{Period, ReasonCount},
    ids::{LocaleFilter, Uuid},
};
/// Two groups of questions merge while the average cosine similarity of
/// their questions' vectors reaches this (see [`crate::domain::meaning`]).
pub const MEANING_THRESHOLD: f64 = 0.40;
/// How many reasons a group lists.
pub const MAX_REASONS: usize = 3;
/// How many example answers a group lists.
pub const MAX_EXAMPLES: usize = 5;
/// The longest answer to a gap.
pub const MAX_ANSWER_CHARS: usize = super::feedback::MAX_CORRECTION_CHARS;

/// A question waiting for the embedding worker.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingQuestion {
    /// Its place in the queue.
    pub seq: i64,
    pub account_id: String,
    /// The rated answer.
    pub message_id: String,
    /// The user message before the answer; none: nothing to represent.
    pub question: Option<String>,
}

/// A bot and a language (lower case; empty: not given): the questions
/// that may group together.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Shelf {
    pub account_id: String,
    pub bot_id: Uuid,
    pub locale: String,
}

/// One thumbed-down answer of a group.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GapExample {
    /// The rated assistant answer.
    pub message_id: String,
    pub conversation_id: String,
    /// The question as the user asked it.
    pub question: String,
    /// When it was thumbed down (the latest thumb, if several users gave one).
    pub rated_at: Timestamp,
}

/// A group of questions of one meaning whose answers were thumbed down.
#[derive(Debug, Clone, Serialize)]
pub struct KnowledgeGap {
    /// The id of the group's oldest thumbed-down answer: stable as paraphrases join.
    pub id: String,
    pub bot_id: Uuid,
    /// The language of the group's conversations (none: not given).
    pub locale: Option<String>,
    /// The representative: the group's most central question, as a user wrote it.
    pub question: String,
    /// Thumbed-down answers in the group in the period (an answer thumbed
    /// down by two users counts once).
    pub count: i64,
    /// The same in the previous period of equal length: is the gap growing?
    pub previous_count: i64,
    /// The reasons given most often with the group's thumbs-down, most frequent first.
    pub reasons: Vec<ReasonCount>,
    /// A few of them, newest first.
    pub example_message_ids: Vec<String>,
    /// The same answers with their conversation and question, newest first.
    pub examples: Vec<GapExample>,
    /// The first and the last thumbs-down of the group in the period.
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    /// A question not represented yet, listed alone until it is.
    pub pending: bool,
    /// Whether an answer was written for this group (or for a paraphrase of it).
    pub answered: bool,
    /// The golden example that answer became.
    pub golden_example_id: Option<Uuid>,
}

/// An answer written for a knowledge gap, to keep as a golden example.
#[derive(Debug, Clone)]
pub struct GapAnswerInput {
    /// The group's id.
    pub gap_id: String,
    pub bot_id: Uuid,
    /// The group's representative question: the example's prompt.
    pub question: String,
    /// The ideal response.
    pub answer: String,
    /// The group's newest thumbed-down answer, which the example points to.
    pub conversation_id: String,
    pub message_id: String,
}

/// The answer, trimmed; empty or too long is a 400.
pub fn parse_answer(raw: &str) -> Result<String, DomainError> {
    super::feedback::optional_text("answer", Some(raw), MAX_ANSWER_CHARS)?
        .ok_or_else(|| DomainError::invalid("answer", "must not be empty"))
}

/// Whether `raw` has the shape of a gap id (16 lower-case hex digits).
pub fn is_gap_id(raw: &str) -> bool {
    raw.len() == 16 && raw.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The id of a thumbed-down answer of a bot as a gap: 16 hex digits of a SHA-256.
pub fn gap_id(bot_id: &Uuid, key: &str) -> String {
    let digest = Sha256::digest(format!("knowledge-gap\n{}\n{key}", bot_id.as_str()).as_bytes());
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// Which thumbs-down a listing groups: a bot (or all in scope), a period,
/// and a language (that of the conversations; `fr` takes `fr-CA` too).
#[derive(Debug, Clone)]
pub struct GapFilter {
    pub bot: Option<Uuid>,
    pub from: Timestamp,
    pub to: Timestamp,
    pub locale: Option<LocaleFilter>,
}

impl GapFilter {
    /// As the analytics routes read `from`, `to` and `tz` (default: the last 30 days).
    pub fn parse(
        bot: Option<&str>,
        (from, to, tz): (Option<&str>, Option<&str>, Option<&str>),
        locale: Option<&str>,
    ) -> Result<Self, DomainError> {
        let bot = bot.filter(|b| !b.is_empty()).map(|b| Uuid::parse("bot_id", b)).transpose()?;
        let period = Period::parse(from, to, tz, Timestamp::now())?;
        let locale = locale.filter(|l| !l.trim().is_empty()).map(|l| LocaleFilter::parse("locale", l)).transpose()?;
        Ok(Self { bot, from: period.from, to: period.to, locale })
    }

    /// Where the previous period of equal length starts.
    pub fn previous_from(&self) -> Timestamp {
        Timestamp(self.from.0.saturating_sub(self.to.0.saturating_sub(self.from.0)))
    }
}
