//! The reasons people give with thumbs, grouped after folding case, spacing
//! and trailing punctuation, and then by meaning.

use serde::Serialize;

use crate::domain::{DomainError, meaning::group_vectors};

/// The longest reason grouped by meaning: a longer one is a note, listed as
/// given.
pub const MAX_GROUPED_REASON_CHARS: usize = 200;
/// Two groups of reasons merge while the average cosine similarity of their
/// vectors reaches this: reasons are short, so they are held closer than
/// questions before they count as one.
pub const REASON_THRESHOLD: f64 = 0.55;

/// Whether a reason (trimmed) is represented and grouped by meaning.
pub fn groups_by_meaning(reason: &str) -> bool {
    !reason.is_empty() && reason.chars().count() <= MAX_GROUPED_REASON_CHARS
}

/// How `GET /v1/analytics/reasons` groups: by meaning (default), or only
/// after folding the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReasonGrouping {
    #[default]
    Meaning,
    Text,
}

impl ReasonGrouping {
    /// `meaning` or `text`.
    pub fn parse(raw: Option<&str>) -> Result<Self, DomainError> {
        match raw {
            None | Some("meaning") => Ok(Self::Meaning),
            Some("text") => Ok(Self::Text),
            Some(_) => Err(DomainError::invalid("group_by", "must be meaning or text")),
        }
    }
}

/// Merges the literal groups (as [`group_reasons`] makes them) whose reasons
/// mean the same: `vectors[i]` is the unit vector of `literal[i]`'s shown
/// spelling, if represented (one not represented stays as it is). A merged
/// group is shown by its most frequent member's spelling; most frequent
/// first.
pub fn group_reasons_by_meaning(literal: Vec<ReasonCount>, vectors: &[Option<Vec<f32>>]) -> Vec<ReasonCount> {
    let with: Vec<usize> = (0..literal.len()).filter(|&i| vectors.get(i).is_some_and(Option::is_some)).collect();
    let picked: Vec<Vec<f32>> = with.iter().filter_map(|&i| vectors[i].clone()).collect();
    let mut merged: Vec<Option<ReasonCount>> = literal.into_iter().map(Some).collect();
    for members in group_vectors(&picked, REASON_THRESHOLD) {
        let members: Vec<usize> = members.iter().map(|&m| with[m]).collect();
        // The first member (ascending) is the most frequent: literal is sorted so.
        let Some((&first, rest)) = members.split_first() else { continue };
        let added: i64 = rest.iter().filter_map(|&m| merged[m].take()).map(|r| r.count).sum();
        if let Some(r) = merged[first].as_mut() {
            r.count += added;
        }
    }
    let mut items: Vec<ReasonCount> = merged.into_iter().flatten().collect();
    items.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.reason.cmp(&b.reason)));
    items
}

/// The grouping key of a reason: lower case, runs of white space made one
/// space, trailing punctuation and spaces dropped.
pub fn fold_reason(reason: &str) -> String {
    let spaced = reason.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase();
    spaced.trim_end_matches(|c: char| c.is_ascii_punctuation() || c.is_whitespace() || "…。！？".contains(c)).to_owned()
}

/// Groups raw `(reason, count)` pairs by their folded form, most frequent
/// first; each group is shown by its most frequent spelling.
pub fn group_reasons(raw: Vec<(String, i64)>) -> Vec<ReasonCount> {
    let mut groups: std::collections::HashMap<String, (i64, String, i64)> = std::collections::HashMap::new();
    for (reason, count) in raw {
        let key = fold_reason(&reason);
        if key.is_empty() {
            continue;
        }
        let entry = groups.entry(key).or_insert((0, reason.trim().to_owned(), 0));
        entry.0 += count;
        if count > entry.2 {
            entry.1 = reason.trim().to_owned();
            entry.2 = count;
        }
    }
    let mut items: Vec<ReasonCount> =
        groups.into_values().map(|(count, reason, _)| ReasonCount { reason, count }).collect();
    items.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.reason.cmp(&b.reason)));
    items
}

/// A reason and how often it was given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReasonCount {
    pub reason: String,
    pub count: i64,
}
