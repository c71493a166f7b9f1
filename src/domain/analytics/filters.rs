//! The filters shared by every analytics call, and the inbox's.

use serde::Serialize;

use crate::domain::{
    DomainError, Timestamp,
    ids::{LocaleFilter, Uuid},
};

/// The filters shared by every analytics call.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filters {
    pub bot_id: Option<Uuid>,
    /// Message feedback on answers of this topic; conversation-level signals
    /// of conversations with such an answer.
    pub topic: Option<String>,
    pub min_confidence: Option<f64>,
    pub max_confidence: Option<f64>,
    pub variant: Option<String>,
    /// Only signals with (true) or without (false) a reason.
    pub has_reason: Option<bool>,
    /// Signals in conversations of this language (`fr` matches `fr-CA`).
    pub locale: Option<LocaleFilter>,
}

impl Filters {
    pub fn parse(
        bot_id: Option<&str>,
        topic: Option<&str>,
        min_confidence: Option<f64>,
        max_confidence: Option<f64>,
        variant: Option<&str>,
        has_reason: Option<bool>,
        locale: Option<&str>,
    ) -> Result<Self, DomainError> {
        for (field, c) in [("min_confidence", min_confidence), ("max_confidence", max_confidence)] {
            if c.is_some_and(|c| !(0.0..=1.0).contains(&c)) {
                return Err(DomainError::invalid(field, "must be a number from 0 to 1"));
            }
        }
        if let (Some(lo), Some(hi)) = (min_confidence, max_confidence)
            && lo > hi
        {
            return Err(DomainError::invalid("min_confidence", "must not be above max_confidence"));
        }
        Ok(Self {
            bot_id: bot_id.map(|b| Uuid::parse("bot_id", b)).transpose()?,
            topic: topic.filter(|t| !t.is_empty()).map(str::to_owned),
            min_confidence,
            max_confidence,
            variant: variant.filter(|v| !v.is_empty()).map(str::to_owned),
            has_reason,
            locale: locale.filter(|l| !l.trim().is_empty()).map(|l| LocaleFilter::parse("locale", l)).transpose()?,
        })
    }

    /// Whether a topic or confidence filter narrows conversation-level signals.
    pub fn filters_answers(&self) -> bool {
        self.topic.is_some() || self.min_confidence.is_some() || self.max_confidence.is_some()
    }
}

/// Which conversations the inbox shows, by their satisfaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SatisfactionFilter {
    /// Positive satisfaction.
    Upvote,
    /// Negative satisfaction.
    Downvote,
    /// No conversation-level signal at all (neutral matches neither filter).
    Unknown,
}

impl SatisfactionFilter {
    pub fn parse(field: &str, raw: &str) -> Result<Self, DomainError> {
        match raw {
            "upvote" => Ok(Self::Upvote),
            "downvote" => Ok(Self::Downvote),
            "unknown" => Ok(Self::Unknown),
            _ => Err(DomainError::invalid(field, "must be upvote, downvote or unknown")),
        }
    }

    /// The stored satisfaction value it selects (`unknown` selects none stored).
    pub fn satisfaction(self) -> &'static str {
        match self {
            Self::Upvote => "positive",
            Self::Downvote => "negative",
            Self::Unknown => "unknown",
        }
    }
}

/// The inbox's `thumbs` filter: conversations with at least one current
/// thumb of this kind on an answer (unlike `feedback`, which selects the
/// conversation's satisfaction: its votes and CSAT answers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThumbsFilter {
    Up,
    Down,
}

impl ThumbsFilter {
    pub fn parse(field: &str, raw: &str) -> Result<Self, DomainError> {
        match raw {
            "up" => Ok(Self::Up),
            "down" => Ok(Self::Down),
            _ => Err(DomainError::invalid(field, "must be up or down")),
        }
    }
}

/// The filters of the inbox and of conversation exports.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InboxFilter {
    pub bot_id: Option<Uuid>,
    /// The conversation's satisfaction (votes and CSAT answers).
    pub feedback: Option<SatisfactionFilter>,
    /// At least one current thumb of this kind on an answer.
    pub thumbs: Option<ThumbsFilter>,
    /// The conversation's language.
    pub locale: Option<LocaleFilter>,
    /// Started at or after.
    pub from: Option<Timestamp>,
    /// Started before.
    pub to: Option<Timestamp>,
    /// Text to find in the messages, the conversation id or the contact id.
    pub q: Option<String>,
    /// Exactly this contact's conversations.
    pub contact_id: Option<String>,
}

impl InboxFilter {
    /// A case-insensitive `LIKE` pattern for `q`, its wildcards escaped with `\`.
    pub fn like_pattern(&self) -> Option<String> {
        self.q.as_deref().map(str::trim).filter(|q| !q.is_empty()).map(|q| {
            let escaped: String = q
                .to_lowercase()
                .chars()
                .flat_map(|c| match c {
                    '%' | '_' | '\\' => vec!['\\', c],
                    c => vec![c],
                })
                .collect();
            format!("%{escaped}%")
        })
    }
}
