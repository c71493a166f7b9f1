//! CSAT: the end-of-conversation prompt (its configuration and its copy per
//! locale) and the answers people give to its questions.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{
    DomainError, Timestamp,
    access::Rater,
    access::Source,
    ids::{ClientId, Uuid},
};

/// The questions a prompt can ask.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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

/// A change to the rating configuration: any subset of it.
#[derive(Debug, Clone, Default)]
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
#[derive(Debug, Clone, Serialize)]
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

/// The words of the end-of-conversation prompt in one locale.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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
#[derive(Debug, Clone, Serialize)]
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
