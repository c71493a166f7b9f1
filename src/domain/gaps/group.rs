//! Turning thumbed-down answers into knowledge gaps: their questions
//! grouped by meaning per bot and language ([`crate::domain::meaning`]), each group
//! named, summed up and marked answered or not. A question the worker has
//! not represented yet stands alone, marked pending.

use std::collections::BTreeMap;

use super::{GapAnswer, GapExample, KnowledgeGap, MAX_EXAMPLES, MAX_REASONS, MEANING_THRESHOLD, RatedQuestion, gap_id};
use crate::domain::{
    Timestamp,
    analytics::group_reasons,
    ids::Uuid,
    meaning::{group_vectors, linkage::central},
};

/// One thumbed-down answer, its thumbs merged.
struct Answer {
    message_id: String,
    conversation_id: String,
    question: String,
    newest: Timestamp,
    oldest: Timestamp,
    vector: Option<Vec<f32>>,
    pending: bool,
    /// Thumbed down in the listing's period (else only in the previous one).
    current: bool,
    /// Its first thumbs-down read, of either period.
    first: Timestamp,
    /// The reasons given with its thumbs-down of the period.
    reasons: Vec<String>,
}

/// The answers of one bot in one language.
type Shelf = BTreeMap<(String, Option<String>), (Uuid, Vec<Answer>)>;

/// The answer written for a group, if any: one written for its id or one of
/// its members' ids, else one whose question is verbatim one of its
/// members' (a group that grows keeps its answer). The newest answer wins.
fn answered_by<'a>(
    answers: &'a [GapAnswer],
    bot: &Uuid,
    aliases: &[String],
    members: &[&Answer],
) -> Option<&'a GapAnswer> {
    let same = |a: &str, b: &str| a.trim().eq_ignore_ascii_case(b.trim());
    answers
        .iter()
        .filter(|a| a.bot_id == *bot)
        .find(|a| aliases.contains(&a.gap_id) || members.iter().any(|m| same(&m.question, &a.question)))
}

/// A gap of the answers `members` (indices into `all`), represented by
/// `all[representative]`.
fn gap_of(
    bot: &Uuid,
    locale: Option<&String>,
    all: &[Answer],
    members: &[usize],
    representative: usize,
    written: &[GapAnswer],
) -> KnowledgeGap {
    let previous_count = members.iter().filter(|&&m| !all[m].current).count() as i64;
    let mut listed: Vec<&Answer> = members.iter().map(|&m| &all[m]).filter(|a| a.current).collect();
    listed.sort_by(|a, b| b.newest.cmp(&a.newest).then_with(|| b.message_id.cmp(&a.message_id)));
    // Named by its oldest answer: a paraphrase that joins later is newer.
    let oldest = members
        .iter()
        .map(|&m| &all[m])
        .min_by(|a, b| a.first.cmp(&b.first).then_with(|| a.message_id.cmp(&b.message_id)))
        .map_or("", |a| a.message_id.as_str());
    let aliases: Vec<String> = listed.iter().map(|a| gap_id(bot, &a.message_id)).collect();
    let examples: Vec<GapExample> = listed
        .iter()
        .take(MAX_EXAMPLES)
        .map(|a| GapExample {
            message_id: a.message_id.clone(),
            conversation_id: a.conversation_id.clone(),
            question: a.question.clone(),
            rated_at: a.newest,
        })
        .collect();
    let answer = answered_by(written, bot, &aliases, &listed);
    let given: Vec<(String, i64)> = listed.iter().flat_map(|a| a.reasons.iter().map(|r| (r.clone(), 1))).collect();
    let mut reasons = group_reasons(given);
    reasons.truncate(MAX_REASONS);
    KnowledgeGap {
        id: gap_id(bot, oldest),
        bot_id: bot.clone(),
        locale: locale.cloned(),
        question: all[representative].question.trim().to_owned(),
        count: listed.len() as i64,
        previous_count,
        reasons,
        example_message_ids: examples.iter().map(|e| e.message_id.clone()).collect(),
        examples,
        first_seen: listed.iter().map(|a| a.oldest).min().unwrap_or(Timestamp(0)),
        last_seen: listed.iter().map(|a| a.newest).max().unwrap_or(Timestamp(0)),
        pending: members.iter().any(|&m| all[m].pending),
        answered: answer.is_some(),
        golden_example_id: answer.map(|a| a.golden_example_id.clone()),
        aliases,
        members: listed.iter().map(|a| a.message_id.clone()).collect(),
    }
}

/// Groups thumbed-down answers by the meaning of their questions, per bot
/// and language, and marks the groups already answered (`answers` newest
/// first); largest group first (then the most recently seen). Rows without
/// a question text count for nothing.
pub fn group(rows: Vec<RatedQuestion>, answers: &[GapAnswer]) -> Vec<KnowledgeGap> {
    // One entry per rated answer, whoever thumbed it down.
    let mut by_message: BTreeMap<String, (Uuid, Option<String>, Answer)> = BTreeMap::new();
    for row in rows {
        if row.question.trim().is_empty() {
            continue;
        }
        let entry = by_message.entry(row.message_id.clone()).or_insert_with(|| {
            let answer = Answer {
                message_id: row.message_id,
                conversation_id: row.conversation_id,
                question: row.question,
                newest: row.rated_at,
                oldest: row.rated_at,
                vector: row.vector,
                pending: row.pending,
                current: false,
                first: row.rated_at,
                reasons: Vec::new(),
            };
            (row.bot_id, row.locale, answer)
        });
        entry.2.first = entry.2.first.min(row.rated_at);
        if !row.previous {
            // The period's thumbs make the answer's dates and reasons.
            let a = &mut entry.2;
            (a.newest, a.oldest) = if a.current {
                (a.newest.max(row.rated_at), a.oldest.min(row.rated_at))
            } else {
                (row.rated_at, row.rated_at)
            };
            a.current = true;
            a.reasons.extend(row.reason);
        }
    }
    let mut shelves: Shelf = BTreeMap::new();
    for (_, (bot, locale, answer)) in by_message {
        shelves.entry((bot.as_str().to_owned(), locale)).or_insert_with(|| (bot, Vec::new())).1.push(answer);
    }

    let mut gaps = Vec::new();
    for ((_, locale), (bot, all)) in &shelves {
        // Represented questions group by meaning; the others stand alone.
        let (with, alone): (Vec<usize>, Vec<usize>) = (0..all.len()).partition(|&i| all[i].vector.is_some());
        let vectors: Vec<Vec<f32>> = with.iter().filter_map(|&i| all[i].vector.clone()).collect();
        for group in group_vectors(&vectors, MEANING_THRESHOLD) {
            let representative = with[central(&vectors, &group).unwrap_or(group[0])];
            let members: Vec<usize> = group.iter().map(|&m| with[m]).collect();
            gaps.push(gap_of(bot, locale.as_ref(), all, &members, representative, answers));
        }
        for i in alone {
            gaps.push(gap_of(bot, locale.as_ref(), all, &[i], i, answers));
        }
    }
    // Groups of the previous period only are not listed.
    gaps.retain(|g| g.count > 0);
    gaps.sort_by(|a, b| {
        b.count.cmp(&a.count).then_with(|| b.last_seen.cmp(&a.last_seen)).then_with(|| a.id.cmp(&b.id))
    });
    gaps
}
