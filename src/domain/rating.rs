//! Conversation rating: the end-of-conversation prompt's configuration, its
//! copy per locale, CSAT answers, and a conversation's satisfaction.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::{
    DomainError, Timestamp,
    access::Rater,
    feedback::Source,
    ids::{ClientId, Uuid},
};

/// The questions a prompt can ask.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum QuestionCode {
    /// Was it helpful? `up` or `down`.
    HelpfulThumbs,
    /// How was the experience? `up` or `down`.
    ExperienceThumbs,
    /// 1 to 5 stars.
    SatisfactionStars,
}

impl QuestionCode {
    pub const ALL: [Self; 3] = [Self::HelpfulThumbs, Self::ExperienceThumbs, Self::SatisfactionStars];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::HelpfulThumbs => "HELPFUL_THUMBS",
            Self::ExperienceThumbs => "EXPERIENCE_THUMBS",
            Self::SatisfactionStars => "SATISFACTION_STARS",
        }
    }

    pub fn parse(field: &str, raw: &str) -> Result<Self, DomainError> {
        Self::ALL.into_iter().find(|c| c.as_str() == raw).ok_or_else(|| DomainError::Invalid {
            code: "unknown_question_code",
            field: field.into(),
            message: format!(
                "unknown question code '{raw}'; known codes are HELPFUL_THUMBS, EXPERIENCE_THUMBS, SATISFACTION_STARS"
            ),
        })
    }

    /// Reads an answer's value and scores it 1–5 (thumbs up 5, down 1, stars as given).
    /// Returns the value as stored (`up`, `down` or the number of stars) and its score.
    pub fn score(self, value: &Value) -> Result<(String, i64), DomainError> {
        let invalid = |message: &str| DomainError::Invalid {
            code: "invalid_value",
            field: "value".into(),
            message: message.into(),
        };
        match self {
            Self::HelpfulThumbs | Self::ExperienceThumbs => match value.as_str() {
                Some("up") => Ok(("up".into(), 5)),
                Some("down") => Ok(("down".into(), 1)),
                _ => Err(invalid("must be \"up\" or \"down\" for this question")),
            },
            Self::SatisfactionStars => match value.as_i64() {
                Some(stars @ 1..=5) if value.is_i64() || value.is_u64() => Ok((stars.to_string(), stars)),
                _ => Err(invalid("must be a whole number of stars from 1 to 5")),
            },
        }
    }
}

/// Which questions the end-of-conversation prompt asks, and whether it shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct RatingConfig {
    pub conv_rating_active: bool,
    /// Must equal `conv_rating_active`.
    pub conv_rating_popup_active: bool,
    pub conv_rating_question_codes: Vec<QuestionCode>,
}

impl Default for RatingConfig {
    fn default() -> Self {
        Self {
            conv_rating_active: true,
            conv_rating_popup_active: true,
            conv_rating_question_codes: vec![QuestionCode::HelpfulThumbs, QuestionCode::ExperienceThumbs],
        }
    }
}

impl RatingConfig {
    /// The stored form of the codes.
    pub fn codes_json(&self) -> String {
        serde_json::to_string(&self.conv_rating_question_codes).unwrap_or_else(|_| "[]".into())
    }

    /// Reads stored codes back (unknown ones are dropped).
    pub fn codes_from_db(raw: &str) -> Vec<QuestionCode> {
        serde_json::from_str::<Vec<String>>(raw)
            .unwrap_or_default()
            .iter()
            .filter_map(|c| QuestionCode::parse("code", c).ok())
            .collect()
    }

    /// Refuses an answer to a question the prompt does not ask, or any answer
    /// while rating is off.
    pub fn accepts(&self, code: QuestionCode) -> Result<(), DomainError> {
        if !self.conv_rating_active {
            return Err(DomainError::conflict(
                "conversation_rating_disabled",
                "conversation rating is turned off for this bot",
            ));
        }
        if !self.conv_rating_question_codes.contains(&code) {
            return Err(DomainError::Invalid {
                code: "unknown_question_code",
                field: "question_code".into(),
                message: format!("{} is not one of this bot's rating questions", code.as_str()),
            });
        }
        Ok(())
    }
}

/// The body of a rating-configuration PATCH: any subset of the fields.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RatingConfigPatch {
    pub conv_rating_active: Option<bool>,
    pub conv_rating_popup_active: Option<bool>,
    pub conv_rating_question_codes: Option<Vec<String>>,
}

impl RatingConfigPatch {
    /// The configuration after the patch, or why it is refused.
    pub fn apply_to(&self, current: &RatingConfig) -> Result<RatingConfig, DomainError> {
        let codes = match &self.conv_rating_question_codes {
            None => current.conv_rating_question_codes.clone(),
            Some(raw) => {
                if raw.is_empty() {
                    return Err(DomainError::invalid("conv_rating_question_codes", "must name at least one question"));
                }
                let mut codes = Vec::with_capacity(raw.len());
                for (i, c) in raw.iter().enumerate() {
                    let code = QuestionCode::parse(&format!("conv_rating_question_codes[{i}]"), c)?;
                    if codes.contains(&code) {
                        return Err(DomainError::invalid("conv_rating_question_codes", format!("{c} is listed twice")));
                    }
                    codes.push(code);
                }
                codes
            }
        };
        let next = RatingConfig {
            conv_rating_active: self.conv_rating_active.unwrap_or(current.conv_rating_active),
            conv_rating_popup_active: self.conv_rating_popup_active.unwrap_or(current.conv_rating_popup_active),
            conv_rating_question_codes: codes,
        };
        if next.conv_rating_popup_active != next.conv_rating_active {
            return Err(DomainError::invalid(
                "conv_rating_popup_active",
                "must equal conv_rating_active (the prompt shows exactly when rating is active)",
            ));
        }
        Ok(next)
    }
}

/// The body of `POST /v1/conversations/{id}/csat` (and of a `csat` event).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CsatBody {
    pub question_code: String,
    /// `up`/`down` for thumbs questions, 1–5 for stars.
    #[schema(value_type = Object)]
    pub value: Value,
    pub negative_reason: Option<String>,
    /// The respondent; defaults to the caller (the key, or the token's contact).
    pub user_id: Option<String>,
    /// Backfill: when it was answered (server and admin keys).
    pub created_at: Option<String>,
}

/// An answer to a CSAT question, parsed and scored.
#[derive(Debug, Clone)]
pub struct CsatInput {
    pub conversation_id: ClientId,
    pub question_code: QuestionCode,
    pub value: String,
    pub score: i64,
    pub negative_reason: Option<String>,
    pub rater: Rater,
    /// Backfill: when it was answered.
    pub created_at: Option<Timestamp>,
}

/// A CSAT answer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CsatAnswer {
    pub id: Uuid,
    pub conversation_id: String,
    pub bot_id: Uuid,
    pub question_code: QuestionCode,
    /// `up`, `down`, or the number of stars.
    pub value: String,
    /// 1–5.
    pub score: i64,
    pub negative_reason: Option<String>,
    pub user_id: String,
    pub source: Source,
    pub created_at: Timestamp,
    /// When the current answer was given.
    pub answered_at: Timestamp,
}

/// How a conversation went, by its latest conversation-level signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SatisfactionValue {
    Positive,
    Negative,
    Neutral,
    Unknown,
}

impl SatisfactionValue {
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
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
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

/// The words of the end-of-conversation prompt in one locale.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PromptCopy {
    /// The heading of the prompt.
    pub title: String,
    /// The label of the free-text follow-up after a thumbs-down.
    pub negative_reason: String,
    /// The placeholder of that text box.
    pub negative_placeholder: String,
    /// The label of its submit button.
    pub negative_button: String,
    /// The message shown after submitting.
    pub after_submission: String,
}

/// Longest piece of prompt copy.
pub const MAX_COPY_CHARS: usize = 500;

impl PromptCopy {
    /// The built-in English copy, answered when no locale of the chain has any.
    pub fn builtin() -> Self {
        Self {
            title: "How was this conversation?".into(),
            negative_reason: "What went wrong?".into(),
            negative_placeholder: "Tell us what we could do better".into(),
            negative_button: "Send feedback".into(),
            after_submission: "Thank you for your feedback!".into(),
        }
    }

    /// Checks every piece: non-empty, at most 500 characters.
    pub fn validate(self) -> Result<Self, DomainError> {
        for (field, text) in [
            ("title", &self.title),
            ("negative_reason", &self.negative_reason),
            ("negative_placeholder", &self.negative_placeholder),
            ("negative_button", &self.negative_button),
            ("after_submission", &self.after_submission),
        ] {
            if text.trim().is_empty() {
                return Err(DomainError::invalid(field, "must not be empty"));
            }
            if text.chars().count() > MAX_COPY_CHARS {
                return Err(DomainError::invalid(field, format!("must be at most {MAX_COPY_CHARS} characters")));
            }
        }
        Ok(self)
    }
}

/// The locales to try for a request, most specific first: `fr-CA` → `fr`.
/// After them comes the built-in English copy.
pub fn locale_chain(locale: &str) -> Vec<String> {
    let parts: Vec<&str> = locale.split('-').collect();
    (1..=parts.len()).rev().map(|n| parts[..n].join("-").to_ascii_lowercase()).collect()
}

/// Prompt copy as answered, with the locale that answered.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ResolvedCopy {
    /// The locale asked for.
    pub locale: String,
    /// The locale whose copy this is, or `default` for the built-in English copy.
    pub resolved_locale: String,
    #[serde(flatten)]
    pub copy: PromptCopy,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn answers_score_from_one_to_five() {
        assert_eq!(QuestionCode::HelpfulThumbs.score(&json!("up")).unwrap(), ("up".into(), 5));
        assert_eq!(QuestionCode::ExperienceThumbs.score(&json!("down")).unwrap(), ("down".into(), 1));
        assert_eq!(QuestionCode::SatisfactionStars.score(&json!(4)).unwrap(), ("4".into(), 4));
        for bad in [json!("sideways"), json!(5), json!(null)] {
            assert!(QuestionCode::HelpfulThumbs.score(&bad).is_err(), "{bad}");
        }
        for bad in [json!(0), json!(6), json!(3.5), json!("3"), json!(-1)] {
            assert!(QuestionCode::SatisfactionStars.score(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_popup_follows_the_active_flag() {
        let c = RatingConfig::default();
        let off = RatingConfigPatch { conv_rating_active: Some(false), ..Default::default() };
        assert!(off.apply_to(&c).is_err(), "popup would stay on");
        let both = RatingConfigPatch {
            conv_rating_active: Some(false),
            conv_rating_popup_active: Some(false),
            ..Default::default()
        };
        let next = both.apply_to(&c).unwrap();
        assert!(!next.conv_rating_active && !next.conv_rating_popup_active);
    }

    #[test]
    fn question_codes_are_known_unique_and_present() {
        let c = RatingConfig::default();
        let patch = |codes: Vec<&str>| RatingConfigPatch {
            conv_rating_question_codes: Some(codes.into_iter().map(str::to_owned).collect()),
            ..Default::default()
        };
        assert!(patch(vec![]).apply_to(&c).is_err());
        assert!(patch(vec!["HELPFUL_THUMBS", "HELPFUL_THUMBS"]).apply_to(&c).is_err());
        assert!(patch(vec!["NPS"]).apply_to(&c).is_err());
        let next = patch(vec!["SATISFACTION_STARS"]).apply_to(&c).unwrap();
        assert_eq!(next.conv_rating_question_codes, vec![QuestionCode::SatisfactionStars]);
        assert_eq!(RatingConfig::codes_from_db(&next.codes_json()), next.conv_rating_question_codes);
    }

    #[test]
    fn answers_need_an_active_prompt_and_a_configured_question() {
        let c = RatingConfig::default();
        assert!(c.accepts(QuestionCode::HelpfulThumbs).is_ok());
        assert!(matches!(c.accepts(QuestionCode::SatisfactionStars), Err(DomainError::Invalid { .. })));
        let off = RatingConfig { conv_rating_active: false, conv_rating_popup_active: false, ..c };
        assert!(matches!(
            off.accepts(QuestionCode::HelpfulThumbs),
            Err(DomainError::Conflict { code: "conversation_rating_disabled", .. })
        ));
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

    #[test]
    fn locales_fall_back_to_their_language() {
        assert_eq!(locale_chain("fr-CA"), vec!["fr-ca", "fr"]);
        assert_eq!(locale_chain("zh-Hant-TW"), vec!["zh-hant-tw", "zh-hant", "zh"]);
        assert_eq!(locale_chain("en"), vec!["en"]);
    }

    #[test]
    fn copy_pieces_must_be_present() {
        assert!(PromptCopy::builtin().validate().is_ok());
        let blank = PromptCopy { title: " ".into(), ..PromptCopy::builtin() };
        assert!(blank.validate().is_err());
    }
}
