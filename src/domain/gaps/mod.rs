//! Knowledge gaps: the questions whose answers were thumbed down, grouped so
//! that paraphrases of one question land together.
//!
//! Everything here is pure. The store hands over the most recent thumbed-down
//! answers (at most [`MAX_ROWS`]) with the user question before each; this
//! module normalizes the questions, compares them, groups them and names each
//! group with an id that stays the same from call to call.
//!
//! **Normalizing.** Lower case; accents folded where it is a matter of one
//! letter (`é` → `e`); contractions cut (`where's` → `where`, `hasn't` →
//! `has`); split on anything that is not a letter or digit; stop words
//! dropped (articles, pronouns, auxiliaries, politeness) but question words
//! kept (`where`, `how`, `why`…: "where is my order" and "how do I cancel my
//! order" are different questions); a light stemmer folds plurals, `-ing`
//! and `-ed` and a final `e` (`arrived`, `arrives`, `arriving` → `arriv`).
//!
//! **Comparing.** Two questions score the mean of three figures in 0–1: the
//! Jaccard index of their token sets, the overlap coefficient (shared tokens
//! over the smaller set, so that a short question matches a longer paraphrase
//! of it; only when both have two tokens or more), and the Dice coefficient
//! of their tokens' character trigrams (which forgives what the stemmer
//! misses). Two questions are paraphrases at [`SIMILARITY_THRESHOLD`] or above.
//!
//! **Grouping.** Per bot (a gap is a gap of one assistant). Identical
//! normalized questions are one phrasing; phrasings are taken most frequent
//! first, and each joins the group holding its most similar phrasing (among
//! that group's first [`MAX_COMPARED_MEMBERS`]) if that similarity reaches the
//! threshold, or starts a group of its own. The group's representative is its
//! most frequent phrasing (ties: the most central, then the shortest), and
//! the group's id is derived from it and the bot.

mod group;
#[cfg(test)]
mod tests;
mod text;

use serde::Serialize;
use sha2::{Digest, Sha256};

pub use group::group;
pub use text::{Fingerprint, alike, similarity, stem};

use super::{DomainError, Timestamp, analytics::Period, ids::Uuid};

/// The most thumbed-down answers one listing reads, newest first: enough for
/// weeks of a busy assistant, and small enough to group on every request.
pub const MAX_ROWS: i64 = 2_000;
/// Two questions at this similarity or above are paraphrases of each other.
///
/// Measured on the paraphrases of the tests, true paraphrases score 0.6 or
/// more and different questions sharing words ("where is my order" / "where
/// is your store") 0.47 at most; the threshold sits between them.
pub const SIMILARITY_THRESHOLD: f64 = 0.55;
/// How many of a group's phrasings a newcomer is compared with (the most
/// frequent ones): bounds the work of a large group.
pub const MAX_COMPARED_MEMBERS: usize = 16;
/// How many example answers a group lists.
pub const MAX_EXAMPLES: usize = 5;
/// The longest answer to a gap.
pub const MAX_ANSWER_CHARS: usize = super::feedback::MAX_CORRECTION_CHARS;

/// A thumbed-down answer and the user question before it, as the store reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct RatedQuestion {
    /// The rated assistant answer.
    pub message_id: String,
    pub conversation_id: String,
    pub bot_id: Uuid,
    /// The user message before the answer.
    pub question: String,
    /// When the thumbs-down was given.
    pub rated_at: Timestamp,
}

/// A gap already answered: the golden example made from it.
#[derive(Debug, Clone, PartialEq)]
pub struct GapAnswer {
    /// The id of the group when it was answered.
    pub gap_id: String,
    pub bot_id: Uuid,
    /// The question the answer was written for.
    pub question: String,
    pub golden_example_id: Uuid,
}

/// What the store reads for a listing: the thumbed-down answers with their
/// questions, newest first, and the gaps already answered.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GapFacts {
    pub questions: Vec<RatedQuestion>,
    pub answers: Vec<GapAnswer>,
}

/// One thumbed-down answer of a group.
#[derive(Debug, Clone, Serialize)]
pub struct GapExample {
    /// The rated assistant answer.
    pub message_id: String,
    pub conversation_id: String,
    /// The question as the user asked it.
    pub question: String,
    /// When it was thumbed down (the latest thumb, if several users gave one).
    pub rated_at: Timestamp,
}

/// A group of paraphrased questions whose answers were thumbed down.
#[derive(Debug, Clone, Serialize)]
pub struct KnowledgeGap {
    /// Stable while the group's most frequent phrasing stays the same.
    pub id: String,
    pub bot_id: Uuid,
    /// The representative: the group's most frequent phrasing, as users wrote it.
    pub question: String,
    /// Thumbed-down answers in the group (an answer thumbed down by two users counts once).
    pub count: i64,
    /// A few of them, newest first.
    pub example_message_ids: Vec<String>,
    /// The same answers with their conversation and question, newest first.
    pub examples: Vec<GapExample>,
    /// The first and the last thumbs-down of the group.
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    /// Whether an answer was written for this group (or for a paraphrase of it).
    pub answered: bool,
    /// The golden example that answer became.
    pub golden_example_id: Option<Uuid>,
    /// The ids of every phrasing of the group: an id given out before the
    /// representative changed still finds the group.
    #[serde(skip)]
    pub aliases: Vec<String>,
    /// Every thumbed-down answer of the group (its message id), newest first.
    #[serde(skip)]
    pub members: Vec<String>,
}

impl KnowledgeGap {
    /// Whether `id` names this group (its id, or the id of one of its phrasings).
    pub fn is_named(&self, id: &str) -> bool {
        self.id == id || self.aliases.iter().any(|a| a == id)
    }
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

/// The id of a phrasing of a bot: 16 hex digits of a SHA-256.
pub fn gap_id(bot_id: &Uuid, key: &str) -> String {
    let digest = Sha256::digest(format!("knowledge-gap\n{}\n{key}", bot_id.as_str()).as_bytes());
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// Which thumbs-down a listing groups: a bot (or all in scope) and a period.
#[derive(Debug, Clone)]
pub struct GapFilter {
    pub bot: Option<Uuid>,
    pub from: Timestamp,
    pub to: Timestamp,
}

impl GapFilter {
    /// As the analytics routes read `from`, `to` and `tz` (default: the last 30 days).
    pub fn parse(
        bot: Option<&str>,
        from: Option<&str>,
        to: Option<&str>,
        tz: Option<&str>,
    ) -> Result<Self, DomainError> {
        let bot = bot.filter(|b| !b.is_empty()).map(|b| Uuid::parse("bot_id", b)).transpose()?;
        let period = Period::parse(from, to, tz, Timestamp::now())?;
        Ok(Self { bot, from: period.from, to: period.to })
    }
}
