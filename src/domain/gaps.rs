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

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use super::{DomainError, Timestamp, ids::Uuid};

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
#[derive(Debug, Clone, Serialize, ToSchema)]
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
#[derive(Debug, Clone, Serialize, ToSchema)]
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

/// The body of `POST /v1/recommendations/{id}/answer`.
#[derive(Debug, Clone, serde::Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswerBody {
    /// The ideal answer to the group's question.
    pub answer: String,
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

// ---- normalizing --------------------------------------------------------------

/// Words that carry no meaning of their own in a question. Question words are
/// deliberately absent.
const STOP_WORDS: &[&str] = &[
    "a", "about", "actually", "again", "all", "also", "am", "an", "and", "another", "any", "anyone", "are", "as", "at",
    "be", "been", "being", "but", "by", "can", "could", "d", "did", "do", "does", "doing", "done", "for", "from",
    "get", "got", "great", "had", "has", "have", "having", "he", "hello", "help", "her", "hey", "hi", "him", "his",
    "hmm", "i", "if", "im", "in", "into", "is", "it", "its", "just", "know", "let", "ll", "m", "may", "me", "might",
    "mine", "more", "must", "my", "myself", "need", "no", "nor", "not", "now", "of", "off", "oh", "ok", "okay", "on",
    "one", "onto", "or", "our", "ours", "please", "pls", "question", "re", "s", "shall", "she", "should", "so", "some",
    "someone", "sorry", "still", "t", "tell", "than", "thank", "thanks", "that", "the", "their", "them", "then",
    "there", "these", "they", "thing", "this", "those", "to", "too", "u", "us", "ve", "very", "want", "was", "we",
    "well", "were", "will", "with", "would", "yet", "you", "your", "yours",
];

/// Question words: kept (they tell questions apart) and never stemmed.
const QUESTION_WORDS: &[&str] = &["how", "what", "when", "where", "which", "who", "whom", "whose", "why"];

/// Folds the accented Latin letters that are one letter plus a mark.
fn fold(c: char) -> char {
    match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' => 'a',
        'ç' | 'ć' | 'č' => 'c',
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ę' | 'ě' => 'e',
        'ì' | 'í' | 'î' | 'ï' | 'ī' => 'i',
        'ñ' | 'ń' | 'ň' => 'n',
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' => 'o',
        'ù' | 'ú' | 'û' | 'ü' | 'ū' | 'ů' => 'u',
        'ý' | 'ÿ' => 'y',
        'š' | 'ś' => 's',
        'ž' | 'ź' | 'ż' => 'z',
        'ł' => 'l',
        'ř' => 'r',
        other => other,
    }
}

/// The words of a text, lower-cased and folded, contractions cut.
fn words(text: &str) -> Vec<String> {
    let lowered: String = text.to_lowercase().chars().map(fold).map(|c| if c == '’' { '\'' } else { c }).collect();
    let mut out = Vec::new();
    for raw in lowered.split(|c: char| !(c.is_alphanumeric() || c == '\'')) {
        // `where's` → `where`, `hasn't` → `has`, `o'clock` → `o`: the part after
        // an apostrophe is a contraction or a possessive, never the meaning.
        let head = raw.trim_matches('\'').split('\'').next().unwrap_or_default();
        let negated = raw.trim_end_matches('\'').ends_with("n't");
        let word = match head {
            "can" | "won" | "shan" if negated => "",
            h if negated => h.strip_suffix('n').unwrap_or(h),
            h => h,
        };
        if !word.is_empty() {
            out.push(word.to_owned());
        }
    }
    out
}

fn is_vowel(b: u8) -> bool {
    matches!(b, b'a' | b'e' | b'i' | b'o' | b'u' | b'y')
}

/// A light stemmer: plurals, `-ing`, `-ed`, a doubled final consonant and a
/// final `e`. Words of three letters or fewer, words that are not plain
/// ASCII, and question words are left alone.
pub fn stem(word: &str) -> String {
    if word.len() <= 3 || !word.is_ascii() || QUESTION_WORDS.contains(&word) {
        return word.to_owned();
    }
    let mut w = word.to_owned();
    if let Some(s) = w.strip_suffix("ies").filter(|s| s.len() >= 2) {
        w = format!("{s}y");
    } else if let Some(s) = w.strip_suffix("sses") {
        w = format!("{s}ss");
    } else if let Some(s) = w
        .strip_suffix("es")
        .filter(|s| s.len() >= 3 && (s.ends_with(['s', 'x', 'z']) || s.ends_with("ch") || s.ends_with("sh")))
    {
        w = s.to_owned();
    } else if w.ends_with('s') && !w.ends_with("ss") && !w.ends_with("us") && !w.ends_with("is") {
        w.pop();
    }
    let mut cut = false;
    for suffix in ["ing", "ed"] {
        if let Some(s) = w.strip_suffix(suffix)
            && s.len() >= 3
            && s.bytes().any(is_vowel)
        {
            w = s.to_owned();
            cut = true;
            break;
        }
    }
    let b = w.as_bytes();
    if cut && b.len() >= 4 {
        let (x, y) = (b[b.len() - 1], b[b.len() - 2]);
        if x == y && !is_vowel(x) && !matches!(x, b'l' | b's' | b'z') {
            w.pop();
        }
    }
    if w.len() > 4 && w.ends_with('e') {
        w.pop();
    }
    w
}

/// A question reduced to what is compared: its normalized tokens and their
/// character trigrams.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint {
    /// The sorted, distinct tokens joined by spaces: identical for questions
    /// that normalize alike.
    pub key: String,
    tokens: Vec<String>,
    trigrams: Vec<u64>,
}

impl Fingerprint {
    /// Normalizes `text` (see the module's documentation).
    pub fn of(text: &str) -> Self {
        let all = words(text);
        let mut tokens: Vec<String> =
            all.iter().filter(|w| !STOP_WORDS.contains(&w.as_str())).map(|w| stem(w)).collect();
        if tokens.is_empty() {
            // Nothing but stop words ("can you help me?"): keep them all rather
            // than make every such question alike.
            tokens = all.iter().map(|w| stem(w)).collect();
        }
        if tokens.is_empty() {
            // No word at all (emoji, punctuation): the text itself is the token.
            let trimmed = text.trim().to_lowercase();
            if !trimmed.is_empty() {
                tokens.push(trimmed);
            }
        }
        tokens.sort();
        tokens.dedup();
        let mut trigrams: Vec<u64> = tokens.iter().flat_map(|t| trigrams_of(t)).collect();
        trigrams.sort_unstable();
        trigrams.dedup();
        Self { key: tokens.join(" "), tokens, trigrams }
    }

    /// The normalized tokens, sorted.
    pub fn tokens(&self) -> &[String] {
        &self.tokens
    }
}

/// The character trigrams of a token padded with spaces, hashed (FNV-1a).
fn trigrams_of(token: &str) -> Vec<u64> {
    let chars: Vec<char> = format!("  {token} ").chars().collect();
    chars
        .windows(3)
        .map(|w| {
            let mut h: u64 = 0xcbf2_9ce4_8422_2325;
            for c in w {
                for b in (*c as u32).to_le_bytes() {
                    h ^= u64::from(b);
                    h = h.wrapping_mul(0x0100_0000_01b3);
                }
            }
            h
        })
        .collect()
}

/// How many items two sorted, distinct slices share.
fn shared<T: Ord>(a: &[T], b: &[T]) -> usize {
    let (mut i, mut j, mut n) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                n += 1;
                i += 1;
                j += 1;
            }
        }
    }
    n
}

/// How alike two questions are, 0–1 (see the module's documentation).
pub fn similarity(a: &Fingerprint, b: &Fingerprint) -> f64 {
    similarity_above(a, b, 0.0)
}

/// [`similarity`], or 0 as soon as the token figures show it cannot reach
/// `floor` whatever the trigrams say: grouping compares many pairs, and most
/// are far apart.
fn similarity_above(a: &Fingerprint, b: &Fingerprint, floor: f64) -> f64 {
    if a.tokens.is_empty() || b.tokens.is_empty() {
        return 0.0;
    }
    if a.key == b.key {
        return 1.0;
    }
    let common = shared(&a.tokens, &b.tokens) as f64;
    let (la, lb) = (a.tokens.len() as f64, b.tokens.len() as f64);
    let jaccard = common / (la + lb - common);
    let overlap = if la.min(lb) >= 2.0 { common / la.min(lb) } else { jaccard };
    if (jaccard + overlap + 1.0) / 3.0 < floor {
        return 0.0;
    }
    let grams = (a.trigrams.len() + b.trigrams.len()) as f64;
    let dice = if grams == 0.0 { 0.0 } else { 2.0 * shared(&a.trigrams, &b.trigrams) as f64 / grams };
    (jaccard + overlap + dice) / 3.0
}

/// Whether two fingerprints are paraphrases.
fn alike_prints(a: &Fingerprint, b: &Fingerprint) -> bool {
    similarity_above(a, b, SIMILARITY_THRESHOLD) >= SIMILARITY_THRESHOLD
}

/// Whether two questions are paraphrases of each other.
pub fn alike(a: &str, b: &str) -> bool {
    alike_prints(&Fingerprint::of(a), &Fingerprint::of(b))
}

/// The id of a phrasing of a bot: 16 hex digits of a SHA-256.
pub fn gap_id(bot_id: &Uuid, key: &str) -> String {
    let digest = Sha256::digest(format!("knowledge-gap\n{}\n{key}", bot_id.as_str()).as_bytes());
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

// ---- grouping -----------------------------------------------------------------

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
            }
        })
        .collect();
    gaps.sort_by(|a, b| {
        b.count.cmp(&a.count).then_with(|| b.last_seen.cmp(&a.last_seen)).then_with(|| a.id.cmp(&b.id))
    });
    gaps
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fp(text: &str) -> Fingerprint {
        Fingerprint::of(text)
    }

    fn sim(a: &str, b: &str) -> f64 {
        similarity(&fp(a), &fp(b))
    }

    fn row(message: &str, bot: &str, question: &str, at: i64) -> RatedQuestion {
        RatedQuestion {
            message_id: message.into(),
            conversation_id: format!("c-{message}"),
            bot_id: Uuid::from_db(bot.into()),
            question: question.into(),
            rated_at: Timestamp(at),
        }
    }

    #[test]
    fn normalizing_folds_case_punctuation_accents_and_stop_words() {
        assert_eq!(fp("Where is my order?").key, "order where");
        assert_eq!(fp("where's my order??").key, "order where");
        assert_eq!(fp("WHERE IS MY ORDER").key, "order where");
        assert_eq!(fp("My order hasn’t arrived, where is it").key, "arriv order where");
        assert_eq!(fp("Café décaféiné ?").key, fp("cafe decafeine").key);
        assert_eq!(fp("How do I reset my password").key, "how password reset");
        // Only stop words: they are kept rather than make the question empty.
        assert_eq!(fp("Can you help me?").key, "can help me you");
        assert_eq!(fp("🙂").key, "🙂");
        assert_eq!(fp("").key, "");
    }

    #[test]
    fn the_stemmer_folds_plurals_ing_and_ed() {
        for (word, expected) in [
            ("orders", "order"),
            ("deliveries", "delivery"),
            ("addresses", "address"),
            ("boxes", "box"),
            ("arrived", "arriv"),
            ("arrive", "arriv"),
            ("arriving", "arriv"),
            ("shipping", "ship"),
            ("shipped", "ship"),
            ("ships", "ship"),
            ("refunded", "refund"),
            ("installed", "install"),
            ("status", "status"),
            ("class", "class"),
            ("bus", "bus"),
            ("red", "red"),
            ("thing", "thing"),
            ("resetting", "reset"),
            ("packages", "packag"),
        ] {
            assert_eq!(stem(word), expected, "{word}");
        }
    }

    #[test]
    fn paraphrases_are_alike_and_other_questions_are_not() {
        let order = ["Where is my order?", "where's my order??", "My order hasn't arrived, where is it"];
        for a in order {
            for b in order {
                assert!(alike(a, b), "{a} ~ {b}: {}", sim(a, b));
            }
        }
        for (a, b) in [
            ("How do I reset my password", "how can I reset my password?"),
            ("How do I reset my password", "How do I change my password"),
            ("How do I reset my password", "Resetting passwords: how?"),
            ("What are your opening hours?", "what are the opening hours"),
            ("Do you ship to Canada?", "Can you ship my order to Canada?"),
            ("How long does shipping take", "how long does shipping take to France?"),
            ("Can I return an item?", "How can I return items"),
        ] {
            assert!(alike(a, b), "{a} ~ {b}: {}", sim(a, b));
        }
        for (a, b) in [
            ("Where is my order?", "How do I reset my password"),
            ("Where is my order?", "How do I cancel my order?"),
            ("Where is my order?", "Where is your store?"),
            ("Do you ship to Canada?", "What are your opening hours?"),
            ("How do I reset my password", "How do I cancel my order?"),
            ("Can I return an item?", "Where is my refund?"),
            ("Do you ship to Canada?", "Do you ship to France?"),
            ("When will my refund arrive?", "Where is my refund?"),
        ] {
            assert!(!alike(a, b), "{a} !~ {b}: {}", sim(a, b));
        }
    }

    #[test]
    fn similarity_is_symmetric_and_bounded() {
        let texts = ["Where is my order?", "How do I reset my password", "order", "🙂", "", "where where where"];
        for a in texts {
            for b in texts {
                let (x, y) = (sim(a, b), sim(b, a));
                assert!((x - y).abs() < 1e-12, "{a} / {b}");
                assert!((0.0..=1.0).contains(&x), "{a} / {b}: {x}");
            }
        }
        assert_eq!(sim("", ""), 0.0, "nothing is like nothing");
    }

    #[test]
    fn paraphrases_land_in_one_group_largest_first() {
        let rows = vec![
            row("m1", "b1", "Where is my order?", 10),
            row("m2", "b1", "where's my order??", 20),
            row("m3", "b1", "My order hasn't arrived, where is it", 30),
            row("m4", "b1", "How do I reset my password", 40),
            row("m5", "b1", "how can I reset my password?", 50),
            row("m6", "b1", "Where is my order?", 5),
            row("m7", "b1", "Do you ship to Canada?", 60),
        ];
        let gaps = group(rows, &[]);
        assert_eq!(gaps.len(), 3, "{gaps:#?}");
        assert_eq!(gaps[0].count, 4);
        assert_eq!(gaps[0].question, "Where is my order?", "the most frequent wording");
        assert_eq!(gaps[0].example_message_ids, ["m3", "m2", "m1", "m6"], "newest first");
        assert_eq!((gaps[0].first_seen, gaps[0].last_seen), (Timestamp(5), Timestamp(30)));
        assert_eq!(gaps[0].examples[0].conversation_id, "c-m3");
        assert_eq!(gaps[1].count, 2);
        assert!(gaps[1].question.contains("reset my password"));
        assert_eq!(gaps[2].count, 1);
        assert_eq!(gaps[2].question, "Do you ship to Canada?");
        assert!(gaps.iter().all(|g| !g.answered && g.golden_example_id.is_none()));
        assert!(gaps.iter().all(|g| is_gap_id(&g.id)));
    }

    #[test]
    fn the_representative_is_the_plain_question_not_a_follow_up() {
        let rows = vec![
            row("m1", "b1", "The tracking link says delivered but I have nothing.", 10),
            row(
                "m2",
                "b1",
                "Hmm, that doesn't help. Another question: the tracking link says delivered but I have nothing.",
                20,
            ),
        ];
        let gaps = group(rows, &[]);
        assert_eq!(gaps.len(), 1);
        assert_eq!(gaps[0].question, "The tracking link says delivered but I have nothing.");
        assert_eq!(gaps[0].example_message_ids, ["m2", "m1"]);
    }

    #[test]
    fn ids_are_stable_and_differ_by_bot() {
        let rows = || {
            vec![
                row("m1", "b1", "Where is my order?", 10),
                row("m2", "b1", "where's my order??", 20),
                row("m3", "b2", "Where is my order?", 30),
            ]
        };
        let first = group(rows(), &[]);
        let again = group(rows(), &[]);
        assert_eq!(first.len(), 2, "a gap is a gap of one bot");
        assert_eq!(first.iter().map(|g| &g.id).collect::<Vec<_>>(), again.iter().map(|g| &g.id).collect::<Vec<_>>());
        assert_ne!(first[0].id, first[1].id);
        // More paraphrases arriving keep the id while the representative stays.
        let mut more = rows();
        more.push(row("m4", "b1", "My order hasn't arrived, where is it", 40));
        let grown = group(more, &[]);
        let b1 = grown.iter().find(|g| g.bot_id.as_str() == "b1").unwrap();
        assert_eq!(b1.count, 3);
        assert!(first.iter().any(|g| g.id == b1.id));
        // The id of any phrasing of the group still names it.
        let alias = gap_id(&Uuid::from_db("b1".into()), &fp("My order hasn't arrived, where is it").key);
        assert!(b1.is_named(&alias));
        assert!(!b1.is_named("0000000000000000"));
    }

    #[test]
    fn an_answer_thumbed_down_twice_counts_once_and_empty_questions_count_for_nothing() {
        let rows = vec![
            row("m1", "b1", "Where is my order?", 10),
            row("m1", "b1", "Where is my order?", 50),
            row("m2", "b1", "   ", 20),
        ];
        let gaps = group(rows, &[]);
        assert_eq!(gaps.len(), 1);
        assert_eq!(gaps[0].count, 1);
        assert_eq!((gaps[0].first_seen, gaps[0].last_seen), (Timestamp(10), Timestamp(50)));
    }

    #[test]
    fn answered_groups_are_marked_by_id_or_by_a_paraphrase() {
        let rows = vec![
            row("m1", "b1", "Where is my order?", 10),
            row("m2", "b1", "How do I reset my password", 20),
            row("m3", "b1", "Do you ship to Canada?", 30),
        ];
        let id = group(rows.clone(), &[]).iter().find(|g| g.question == "Where is my order?").unwrap().id.clone();
        let answers = [
            GapAnswer {
                gap_id: "ffffffffffffffff".into(),
                bot_id: Uuid::from_db("b1".into()),
                question: "how can I reset my password?".into(),
                golden_example_id: Uuid::from_db("g2".into()),
            },
            GapAnswer {
                gap_id: id.clone(),
                bot_id: Uuid::from_db("b1".into()),
                question: "something else entirely".into(),
                golden_example_id: Uuid::from_db("g1".into()),
            },
            GapAnswer {
                gap_id: "eeeeeeeeeeeeeeee".into(),
                bot_id: Uuid::from_db("b2".into()),
                question: "Do you ship to Canada?".into(),
                golden_example_id: Uuid::from_db("g3".into()),
            },
        ];
        let gaps = group(rows, &answers);
        let of = |q: &str| gaps.iter().find(|g| g.question == q).unwrap();
        assert_eq!(of("Where is my order?").golden_example_id.as_ref().map(Uuid::as_str), Some("g1"));
        assert_eq!(of("How do I reset my password").golden_example_id.as_ref().map(Uuid::as_str), Some("g2"));
        assert!(!of("Do you ship to Canada?").answered, "an answer of another bot does not count");
    }

    #[test]
    fn answers_are_checked() {
        assert_eq!(parse_answer("  It ships in 2 days. ").unwrap(), "It ships in 2 days.");
        assert!(parse_answer("   ").unwrap_err().to_string().starts_with("answer:"));
        assert!(parse_answer(&"x".repeat(MAX_ANSWER_CHARS + 1)).is_err());
        assert!(is_gap_id("0123456789abcdef"));
        assert!(!is_gap_id("0123456789ABCDEF") && !is_gap_id("short") && !is_gap_id("0123456789abcdeg"));
    }

    #[test]
    fn many_distinct_questions_stay_apart_among_many_answers() {
        // The worst case for the candidate index: every question shares "how"
        // yet none is a paraphrase of another, and a thousand answers exist.
        let word = |i: usize| format!("w{}x{}", i % 53, i / 53);
        let rows: Vec<RatedQuestion> = (0..MAX_ROWS as usize)
            .map(|i| row(&format!("m{i}"), "b1", &format!("how do I {} {}", word(i), word(i * 7 + 3)), i as i64))
            .collect();
        let answers: Vec<GapAnswer> = (0..1_000)
            .map(|i| GapAnswer {
                gap_id: format!("{i:016x}"),
                bot_id: Uuid::from_db("b1".into()),
                question: format!("how do I {}", word(i * 13)),
                golden_example_id: Uuid::from_db(format!("g{i}")),
            })
            .collect();
        let gaps = group(rows, &answers);
        assert!(gaps.len() > 1_000, "{}", gaps.len());
    }

    #[test]
    fn a_full_read_of_rows_lands_each_row_in_one_group() {
        // The bound is MAX_ROWS rows, every question sharing a token.
        let topics = ["order", "password", "refund", "shipping", "invoice", "account", "coupon", "store"];
        let verbs = ["where", "how", "why", "when", "what"];
        let rows: Vec<RatedQuestion> = (0..MAX_ROWS)
            .map(|i| {
                let i = i as usize;
                let q = format!(
                    "{} is my {} number {} {}",
                    verbs[i % verbs.len()],
                    topics[i % topics.len()],
                    i % 97,
                    topics[(i / 8) % topics.len()]
                );
                row(&format!("m{i}"), "b1", &q, i as i64)
            })
            .collect();
        let gaps = group(rows, &[]);
        assert!(!gaps.is_empty());
        assert_eq!(gaps.iter().map(|g| g.count).sum::<i64>(), MAX_ROWS);
    }
}
