//! Grouping thumbed-down questions per bot, most frequent phrasing first,
//! and marking the groups already answered.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::{
    GapAnswer, GapExample, KnowledgeGap, MAX_COMPARED_MEMBERS, MAX_EXAMPLES, RatedQuestion, SIMILARITY_THRESHOLD,
    gap_id,
    text::{Fingerprint, alike_prints, similarity, similarity_above},
};
use crate::domain::{Timestamp, ids::Uuid};

/// One thumbed-down answer, its thumbs merged.
struct Answer {
    message_id: String,
    conversation_id: String,
    question: String,
    newest: Timestamp,
    oldest: Timestamp,
}

/// The answers of one bot whose questions normalize alike.
struct Phrasing {
    bot_id: Uuid,
    fingerprint: Fingerprint,
    answers: Vec<Answer>,
    newest: Timestamp,
}

impl Phrasing {
    /// The way users wrote it most often (ties: the shortest, so a follow-up's
    /// preamble is left out; then the most recent).
    fn wording(&self) -> String {
        let mut counts: HashMap<&str, (usize, Timestamp)> = HashMap::new();
        for a in &self.answers {
            let e = counts.entry(a.question.trim()).or_insert((0, a.newest));
            e.0 += 1;
            e.1 = e.1.max(a.newest);
        }
        counts
            .into_iter()
            .max_by(|x, y| {
                (x.1.0.cmp(&y.1.0))
                    .then_with(|| y.0.chars().count().cmp(&x.0.chars().count()))
                    .then_with(|| x.1.1.cmp(&y.1.1))
                    .then_with(|| y.0.cmp(x.0))
            })
            .map(|(text, _)| text.to_owned())
            .unwrap_or_default()
    }
}

/// The answers already written, indexed for [`answered_by`]: by gap id, and
/// by (bot, token) of their questions.
struct AnswerBook<'a> {
    by_id: HashMap<&'a str, usize>,
    by_token: HashMap<(&'a str, String), Vec<usize>>,
    prints: Vec<Fingerprint>,
    bots: Vec<&'a str>,
}

impl<'a> AnswerBook<'a> {
    /// `answers` newest first: where two could match, the newest wins.
    fn new(answers: &'a [GapAnswer]) -> Self {
        let prints: Vec<Fingerprint> = answers.iter().map(|a| Fingerprint::of(&a.question)).collect();
        let mut by_id = HashMap::new();
        let mut by_token: HashMap<(&str, String), Vec<usize>> = HashMap::new();
        for (i, a) in answers.iter().enumerate() {
            by_id.entry(a.gap_id.as_str()).or_insert(i);
            for token in prints[i].tokens() {
                by_token.entry((a.bot_id.as_str(), token.clone())).or_default().push(i);
            }
        }
        Self { by_id, by_token, prints, bots: answers.iter().map(|a| a.bot_id.as_str()).collect() }
    }
}

/// The answer of a group, if it has one: one written for the group's id or
/// one of its phrasings' ids, else one written for a question similar to one
/// of its phrasings (a paraphrase does not reopen an answered gap).
fn answered_by(
    book: &AnswerBook<'_>,
    bot: &str,
    aliases: &[String],
    members: &[usize],
    phrasings: &[Phrasing],
) -> Option<usize> {
    if let Some(&i) = aliases.iter().find_map(|id| book.by_id.get(id.as_str())).filter(|&&i| book.bots[i] == bot) {
        return Some(i);
    }
    let mut candidates: Vec<usize> = members
        .iter()
        .take(MAX_COMPARED_MEMBERS)
        .flat_map(|&m| phrasings[m].fingerprint.tokens())
        .filter_map(|t| book.by_token.get(&(bot, t.clone())))
        .flatten()
        .copied()
        .collect();
    candidates.sort_unstable();
    candidates.dedup();
    candidates.into_iter().find(|&i| {
        members.iter().take(MAX_COMPARED_MEMBERS).any(|&m| alike_prints(&book.prints[i], &phrasings[m].fingerprint))
    })
}

/// The representative of a group: its most frequent phrasing; among equally
/// frequent ones the most central (the highest summed similarity to the
/// group's other phrasings), then the shortest wording (a follow-up's preamble
/// is not the question), then the most recent.
fn representative(phrasings: &[Phrasing], members: &[usize]) -> usize {
    let top = members.iter().map(|&m| phrasings[m].answers.len()).max().unwrap_or(0);
    let centrality = |m: usize| -> f64 {
        members
            .iter()
            .take(MAX_COMPARED_MEMBERS)
            .filter(|&&o| o != m)
            .map(|&o| similarity(&phrasings[m].fingerprint, &phrasings[o].fingerprint))
            .sum()
    };
    members
        .iter()
        .copied()
        .filter(|&m| phrasings[m].answers.len() == top)
        .map(|m| (m, centrality(m), phrasings[m].wording().chars().count()))
        .max_by(|a, b| {
            a.1.total_cmp(&b.1)
                .then_with(|| b.2.cmp(&a.2))
                .then_with(|| phrasings[a.0].newest.cmp(&phrasings[b.0].newest))
                .then_with(|| phrasings[b.0].fingerprint.key.cmp(&phrasings[a.0].fingerprint.key))
        })
        .map_or(members[0], |(m, _, _)| m)
}

/// Groups thumbed-down answers by the similarity of their questions and marks
/// the groups already answered; largest group first (then the most recently
/// seen). Rows without a question text count for nothing.
pub fn group(rows: Vec<RatedQuestion>, answers: &[GapAnswer]) -> Vec<KnowledgeGap> {
    // One entry per rated answer, whoever thumbed it down.
    let mut by_message: BTreeMap<String, (Uuid, Answer)> = BTreeMap::new();
    for row in rows {
        if row.question.trim().is_empty() {
            continue;
        }
        let entry = by_message.entry(row.message_id.clone()).or_insert_with(|| {
            let answer = Answer {
                message_id: row.message_id.clone(),
                conversation_id: row.conversation_id.clone(),
                question: row.question.clone(),
                newest: row.rated_at,
                oldest: row.rated_at,
            };
            (row.bot_id.clone(), answer)
        });
        entry.1.newest = entry.1.newest.max(row.rated_at);
        entry.1.oldest = entry.1.oldest.min(row.rated_at);
    }

    let mut phrasings: BTreeMap<(String, String), Phrasing> = BTreeMap::new();
    for (_, (bot_id, answer)) in by_message {
        let fingerprint = Fingerprint::of(&answer.question);
        let key = (bot_id.as_str().to_owned(), fingerprint.key.clone());
        let p = phrasings.entry(key).or_insert_with(|| Phrasing {
            bot_id,
            fingerprint,
            answers: Vec::new(),
            newest: answer.newest,
        });
        p.newest = p.newest.max(answer.newest);
        p.answers.push(answer);
    }
    let mut phrasings: Vec<Phrasing> = phrasings.into_values().collect();
    phrasings.sort_by(|a, b| {
        b.answers
            .len()
            .cmp(&a.answers.len())
            .then_with(|| b.newest.cmp(&a.newest))
            .then_with(|| a.fingerprint.key.cmp(&b.fingerprint.key))
    });

    // Greedy: each phrasing joins the group of its most similar phrasing, or
    // starts one. Only groups sharing a token can reach the threshold (every
    // figure but the trigrams' is zero otherwise), so candidates come from an
    // index of (bot, token) → groups.
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut index: HashMap<(&str, &str), Vec<usize>> = HashMap::new();
    for (i, p) in phrasings.iter().enumerate() {
        let bot = p.bot_id.as_str();
        let mut seen = HashSet::new();
        let mut best: Option<(usize, f64)> = None;
        for token in p.fingerprint.tokens() {
            for &g in index.get(&(bot, token.as_str())).map_or(&[][..], Vec::as_slice) {
                if !seen.insert(g) {
                    continue;
                }
                let score = groups[g]
                    .iter()
                    .take(MAX_COMPARED_MEMBERS)
                    .map(|&m| similarity_above(&p.fingerprint, &phrasings[m].fingerprint, SIMILARITY_THRESHOLD))
                    .fold(0.0, f64::max);
                if score >= SIMILARITY_THRESHOLD && best.is_none_or(|(bg, bs)| score > bs || (score == bs && g < bg)) {
                    best = Some((g, score));
                }
            }
        }
        let g = match best {
            Some((g, _)) => {
                groups[g].push(i);
                g
            }
            None => {
                groups.push(vec![i]);
                groups.len() - 1
            }
        };
        for token in p.fingerprint.tokens() {
            let list = index.entry((bot, token.as_str())).or_default();
            // A repeat only costs a skipped candidate (`seen`), never a wrong answer.
            if list.last() != Some(&g) {
                list.push(g);
            }
        }
    }

    let answer_book = AnswerBook::new(answers);
    let mut gaps: Vec<KnowledgeGap> = groups
        .iter()
        .map(|members| {
            let first = &phrasings[representative(&phrasings, members)];
            let mut all: Vec<&Answer> = members.iter().flat_map(|&m| phrasings[m].answers.iter()).collect();
            all.sort_by(|a, b| b.newest.cmp(&a.newest).then_with(|| b.message_id.cmp(&a.message_id)));
            let examples: Vec<GapExample> = all
                .iter()
                .take(MAX_EXAMPLES)
                .map(|a| GapExample {
                    message_id: a.message_id.clone(),
                    conversation_id: a.conversation_id.clone(),
                    question: a.question.clone(),
                    rated_at: a.newest,
                })
                .collect();
            let aliases: Vec<String> =
                members.iter().map(|&m| gap_id(&first.bot_id, &phrasings[m].fingerprint.key)).collect();
            let answered = answered_by(&answer_book, first.bot_id.as_str(), &aliases, members, &phrasings);
            KnowledgeGap {
                id: gap_id(&first.bot_id, &first.fingerprint.key),
                bot_id: first.bot_id.clone(),
                question: first.wording(),
                count: all.len() as i64,
                example_message_ids: examples.iter().map(|e| e.message_id.clone()).collect(),
                examples,
                first_seen: all.iter().map(|a| a.oldest).min().unwrap_or(Timestamp(0)),
                last_seen: all.iter().map(|a| a.newest).max().unwrap_or(Timestamp(0)),
                answered: answered.is_some(),
                golden_example_id: answered.map(|a| answers[a].golden_example_id.clone()),
                aliases,
                members: all.iter().map(|a| a.message_id.clone()).collect(),
            }
        })
        .collect();
    gaps.sort_by(|a, b| {
        b.count.cmp(&a.count).then_with(|| b.last_seen.cmp(&a.last_seen)).then_with(|| a.id.cmp(&b.id))
    });
    gaps
}
