//! A conversation's satisfaction: what its latest conversation-level signal
//! (a vote or a CSAT answer) says of how it went.

use serde::{Deserialize, Serialize};

use super::Timestamp;

/// How a conversation went, by its latest conversation-level signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SatisfactionValue {
    Positive,
    Negative,
    Neutral,
    Unknown,
}

impl SatisfactionValue {
    /// Every value, in order.
    pub const ALL: [Self; 4] = [Self::Positive, Self::Negative, Self::Neutral, Self::Unknown];

    /// From a 1–5 score: above 3 positive, below 3 negative, 3 neutral.
    pub fn from_score(score: f64) -> Self {
        if score > 3.0 {
            Self::Positive
        } else if score < 3.0 {
            Self::Negative
        } else {
            Self::Neutral
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Positive => "positive",
            Self::Negative => "negative",
            Self::Neutral => "neutral",
            Self::Unknown => "unknown",
        }
    }

    pub fn from_db(raw: Option<&str>) -> Self {
        match raw {
            Some("positive") => Self::Positive,
            Some("negative") => Self::Negative,
            Some("neutral") => Self::Neutral,
            _ => Self::Unknown,
        }
    }
}

/// A vote of value v scores 3 + 2·v/100 on the CSAT scale.
#[allow(clippy::cast_precision_loss)]
pub fn vote_score(value: i64) -> f64 {
    3.0 + 2.0 * value as f64 / 100.0
}

/// A conversation's satisfaction, as shown in the transcript and the inbox.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Satisfaction {
    pub value: SatisfactionValue,
    /// The reason given with a negative signal, when there is one.
    pub negative_reason: Option<String>,
}

impl Satisfaction {
    /// Whether the conversation has had a vote or a CSAT answer: the first
    /// one sets its satisfaction, and nothing sets it back to unknown.
    pub fn has_signal(&self) -> bool {
        self.value != SatisfactionValue::Unknown
    }
}

/// The satisfaction a new signal leaves, given what the conversation had.
///
/// Only a signal at least as recent as the current one changes anything (a
/// backfilled old answer does not override a newer one). A negative signal
/// without a reason keeps the reason of an earlier negative signal.
pub fn next_satisfaction(
    current: (&Satisfaction, Option<Timestamp>),
    score: f64,
    reason: Option<&str>,
    at: Timestamp,
) -> Option<Satisfaction> {
    let (now, since) = current;
    if since.is_some_and(|s| at < s) {
        return None;
    }
    let value = SatisfactionValue::from_score(score);
    let negative_reason = match value {
        SatisfactionValue::Negative => reason
            .map(str::to_owned)
            .or_else(|| (now.value == SatisfactionValue::Negative).then(|| now.negative_reason.clone()).flatten()),
        _ => None,
    };
    Some(Satisfaction { value, negative_reason })
}

/// What a conversation's satisfaction is from its conversation-level
/// signals, each `(score, negative reason, at)`, folded in the order given
/// (the order they arrived, as near as the records tell): how it is worked
/// out again when an erasure removes some of them. `None`: no signal left.
pub fn replay<'a>(
    signals: impl IntoIterator<Item = (f64, Option<&'a str>, Timestamp)>,
) -> Option<(Satisfaction, Timestamp)> {
    let mut current: Option<(Satisfaction, Timestamp)> = None;
    for (score, reason, at) in signals {
        let unknown = Satisfaction { value: SatisfactionValue::Unknown, negative_reason: None };
        let (now, since) = current.as_ref().map_or((&unknown, None), |(s, t)| (s, Some(*t)));
        if let Some(next) = next_satisfaction((now, since), score, reason, at) {
            current = Some((next, at));
        }
    }
    current
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaying_signals_keeps_the_latest_and_an_earlier_reason() {
        assert_eq!(replay([]), None);
        let (s, at) = replay([(1.0, Some("slow"), Timestamp(10)), (1.0, None, Timestamp(20))]).unwrap();
        assert_eq!(
            (s.value, s.negative_reason.as_deref(), at),
            (SatisfactionValue::Negative, Some("slow"), Timestamp(20))
        );
        // A backfilled older signal does not override a newer one.
        let (s, at) = replay([(5.0, None, Timestamp(30)), (1.0, Some("late"), Timestamp(5))]).unwrap();
        assert_eq!((s.value, at), (SatisfactionValue::Positive, Timestamp(30)));
    }

    #[test]
    fn satisfaction_comes_from_the_score() {
        assert_eq!(SatisfactionValue::from_score(5.0), SatisfactionValue::Positive);
        assert_eq!(SatisfactionValue::from_score(1.0), SatisfactionValue::Negative);
        assert_eq!(SatisfactionValue::from_score(3.0), SatisfactionValue::Neutral);
        assert!((vote_score(100) - 5.0).abs() < 1e-9);
        assert!((vote_score(-100) - 1.0).abs() < 1e-9);
        assert!((vote_score(-50) - 2.0).abs() < 1e-9);
        assert!((vote_score(1) - 3.02).abs() < 1e-9);
    }

    #[test]
    fn the_latest_signal_decides_and_keeps_a_negative_reason() {
        let unknown = Satisfaction { value: SatisfactionValue::Unknown, negative_reason: None };
        let neg = next_satisfaction((&unknown, None), 1.0, Some("slow"), Timestamp(10)).unwrap();
        assert_eq!(neg, Satisfaction { value: SatisfactionValue::Negative, negative_reason: Some("slow".into()) });
        let still = next_satisfaction((&neg, Some(Timestamp(10))), 1.0, None, Timestamp(11)).unwrap();
        assert_eq!(still.negative_reason.as_deref(), Some("slow"));
        let pos = next_satisfaction((&neg, Some(Timestamp(10))), 5.0, Some("ignored"), Timestamp(12)).unwrap();
        assert_eq!(pos, Satisfaction { value: SatisfactionValue::Positive, negative_reason: None });
        assert_eq!(
            next_satisfaction((&pos, Some(Timestamp(12))), 1.0, None, Timestamp(5)),
            None,
            "older signals do not override"
        );
    }
}
