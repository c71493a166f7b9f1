//! A/B comparisons: message-thumbs satisfaction per variant, bot or topic,
//! with Wilson intervals and two-proportion tests against a baseline.

use serde::Serialize;

use super::stats::{percent, round2, two_proportion_p, wilson};
use crate::domain::DomainError;

/// What `compare` groups by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum GroupBy {
    Variant,
    Bot,
    Topic,
    /// The conversation's language tag, in lower case.
    Locale,
}

impl GroupBy {
    /// Every value, in order.
    pub const ALL: [Self; 4] = [Self::Variant, Self::Bot, Self::Topic, Self::Locale];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Variant => "variant",
            Self::Bot => "bot",
            Self::Topic => "topic",
            Self::Locale => "locale",
        }
    }

    /// `variant`, `bot`, `topic` or `locale`.
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        Self::ALL
            .into_iter()
            .find(|g| g.as_str() == raw)
            .ok_or_else(|| DomainError::invalid("group_by", "must be variant, bot, topic or locale"))
    }
}

/// One group of a comparison.
#[derive(Debug, Clone, Serialize)]
pub struct CompareGroup {
    /// The variant, bot id, topic or language; `null` for messages without one.
    pub key: Option<String>,
    /// Thumbs in the group.
    pub n: i64,
    /// Positive thumbs.
    pub good: i64,
    /// `100·good/n`.
    pub rate: Option<f64>,
    /// 95% Wilson interval of the rate, in percent.
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    /// Two-sided pooled two-proportion z-test against the baseline; `null` for the baseline.
    pub p_value: Option<f64>,
}

/// The answer of `GET /v1/analytics/compare`.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    pub group_by: GroupBy,
    pub baseline: Option<String>,
    pub groups: Vec<CompareGroup>,
}

/// Orders groups by size and tests each against the baseline (the named
/// key, or the largest group).
pub fn compare(
    group_by: GroupBy,
    mut raw: Vec<(Option<String>, i64, i64)>,
    baseline: Option<&str>,
) -> Result<Comparison, DomainError> {
    raw.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let base_index = match baseline {
        Some(key) => Some(
            raw.iter()
                .position(|(k, _, _)| k.as_deref() == Some(key))
                .ok_or_else(|| DomainError::invalid("baseline", format!("no group '{key}' in this period")))?,
        ),
        None => (!raw.is_empty()).then_some(0),
    };
    let base = base_index.map(|i| raw[i].clone());
    let groups = raw
        .iter()
        .enumerate()
        .map(|(i, (key, n, good))| {
            let ci = wilson(*good, *n);
            CompareGroup {
                key: key.clone(),
                n: *n,
                good: *good,
                rate: percent(*good, *n),
                ci_low: ci.map(|c| round2(c.0)),
                ci_high: ci.map(|c| round2(c.1)),
                p_value: match (&base, Some(i) == base_index) {
                    (Some((_, bn, bg)), false) => {
                        two_proportion_p(*good, *n, *bg, *bn).map(|p| (p * 1e6).round() / 1e6)
                    }
                    _ => None,
                },
            }
        })
        .collect();
    Ok(Comparison { group_by, baseline: base.and_then(|b| b.0), groups })
}
