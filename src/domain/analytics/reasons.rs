//! The reasons people give with thumbs, grouped after folding case, spacing
//! and trailing punctuation.

use serde::Serialize;

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
