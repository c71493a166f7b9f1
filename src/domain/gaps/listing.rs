//! A listing of knowledge gaps: the groups' tallies over the period, in
//! order, and the details of the groups shown.

use super::{GapExample, KnowledgeGap, MAX_REASONS, gap_id};
use crate::domain::{Timestamp, analytics::group_reasons, ids::Uuid};

/// What a listed gap is: a stored group, or a thumbed-down answer not
/// grouped yet (by its message id), which stands alone.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum GapKey {
    Group(String),
    Alone(String),
}

/// A gap's thumbs-down in a listing's period, as the store counts them.
#[derive(Debug, Clone, PartialEq)]
pub struct GapTally {
    pub key: GapKey,
    pub bot_id: Uuid,
    /// Lower case; empty: not given.
    pub locale: String,
    /// Answers thumbed down in the period.
    pub count: i64,
    /// Answers thumbed down in the previous period of equal length, and not in this one.
    pub previous_count: i64,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
}

impl GapTally {
    /// The gap's id: its group's, or its answer's own.
    pub fn id(&self) -> String {
        match &self.key {
            GapKey::Group(id) => id.clone(),
            GapKey::Alone(message) => gap_id(&self.bot_id, message),
        }
    }
}

/// What a listing shows of a gap beyond its tally.
#[derive(Debug, Clone, PartialEq)]
pub struct GapDetail {
    /// The representative question, as a user wrote it.
    pub question: String,
    /// The newest answers of the period, newest first.
    pub examples: Vec<GapExample>,
    /// The reasons given with the period's thumbs-down, as given, with their counts.
    pub reasons: Vec<(String, i64)>,
    /// The golden example written for the group (or for one of its members' ids).
    pub golden_example_id: Option<Uuid>,
}

/// Orders tallies as a listing shows them: largest first, then the most
/// recently seen, then by id; gaps with nothing in the period are dropped.
pub fn order(mut tallies: Vec<GapTally>) -> Vec<(String, GapTally)> {
    tallies.retain(|t| t.count > 0);
    let mut named: Vec<(String, GapTally)> = tallies.into_iter().map(|t| (t.id(), t)).collect();
    named.sort_by(|(ia, a), (ib, b)| {
        b.count.cmp(&a.count).then_with(|| b.last_seen.cmp(&a.last_seen)).then_with(|| ia.cmp(ib))
    });
    named
}

impl KnowledgeGap {
    /// A listed gap from its tally and its details.
    pub fn of(id: String, tally: GapTally, detail: GapDetail) -> Self {
        let mut reasons = group_reasons(detail.reasons);
        reasons.truncate(MAX_REASONS);
        Self {
            id,
            pending: matches!(tally.key, GapKey::Alone(_)),
            bot_id: tally.bot_id,
            locale: Some(tally.locale).filter(|l| !l.is_empty()),
            question: detail.question.trim().to_owned(),
            count: tally.count,
            previous_count: tally.previous_count,
            reasons,
            example_message_ids: detail.examples.iter().map(|e| e.message_id.clone()).collect(),
            examples: detail.examples,
            first_seen: tally.first_seen,
            last_seen: tally.last_seen,
            answered: detail.golden_example_id.is_some(),
            golden_example_id: detail.golden_example_id,
        }
    }
}
