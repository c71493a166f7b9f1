//! Normalizing questions and comparing them: folding, stop words, a light
//! stemmer, and the similarity of two questions (see the module above).

use super::SIMILARITY_THRESHOLD;

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
pub(super) fn similarity_above(a: &Fingerprint, b: &Fingerprint, floor: f64) -> f64 {
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
pub(super) fn alike_prints(a: &Fingerprint, b: &Fingerprint) -> bool {
    similarity_above(a, b, SIMILARITY_THRESHOLD) >= SIMILARITY_THRESHOLD
}

/// Whether two questions are paraphrases of each other.
pub fn alike(a: &str, b: &str) -> bool {
    alike_prints(&Fingerprint::of(a), &Fingerprint::of(b))
}
