//! Message feedback: thumbs on one assistant answer by one user, and its
//! review lifecycle.
//!
//! The lifecycle is a small explicit state machine. Every decision about what
//! a submission, a retraction or a review does is made here, from the current
//! record and the settings; the store only carries the decision out.
//!
//! ```text
//!            submit (auto-approval on)        approve
//!   (none) ───────────────────────────▶ auto_approved ─────────┐
//!     │                                     │ dismiss           ▼
//!     │ submit                              ▼                reviewed
//!     └──────────▶ pending ──dismiss──▶ dismissed ──approve──▶  │
//!                     └──────────approve───────────────────────▶│
//!                                                  dismiss ◀─────┘
//! ```
//!
//! Switching the type (thumbs up → down) starts the lifecycle over from the
//! top: review fields clear and a golden example made from the old state is
//! withdrawn. Retracting takes the thumb out of the counts; submitting again
//! afterwards also starts over.

use serde::{Deserialize, Serialize};

use super::{
    DomainError, Timestamp,
    access::{Rater, Source},
    conversation::{MessageRole, MessageStatus},
    ids::{ClientId, LocaleFilter, Uuid},
};

/// Longest reason, note or corrected answer, in characters.
pub const MAX_REASON_CHARS: usize = 2_000;
/// Longest corrected answer, in characters.
pub const MAX_CORRECTION_CHARS: usize = 20_000;

/// Thumbs up or down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FeedbackType {
    Positive,
    Negative,
}

impl FeedbackType {
    /// Every value, in order.
    pub const ALL: [Self; 2] = [Self::Positive, Self::Negative];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Positive => "positive",
            Self::Negative => "negative",
        }
    }

    pub fn from_db(raw: &str) -> Self {
        if raw == "negative" { Self::Negative } else { Self::Positive }
    }
}

/// Where a feedback record is in its review lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeedbackStatus {
    /// Waiting for a reviewer.
    Pending,
    /// Approved by the bot's settings on arrival.
    AutoApproved,
    /// Approved by a reviewer.
    Reviewed,
    /// Looked at and set aside.
    Dismissed,
}

impl FeedbackStatus {
    /// Every value, in order.
    pub const ALL: [Self; 4] = [Self::Pending, Self::AutoApproved, Self::Reviewed, Self::Dismissed];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::AutoApproved => "auto_approved",
            Self::Reviewed => "reviewed",
            Self::Dismissed => "dismissed",
        }
    }

    pub fn from_db(raw: &str) -> Self {
        match raw {
            "auto_approved" => Self::AutoApproved,
            "reviewed" => Self::Reviewed,
            "dismissed" => Self::Dismissed,
            _ => Self::Pending,
        }
    }

    pub fn parse(field: &str, raw: &str) -> Result<Self, DomainError> {
        match raw {
            "pending" => Ok(Self::Pending),
            "auto_approved" => Ok(Self::AutoApproved),
            "reviewed" => Ok(Self::Reviewed),
            "dismissed" => Ok(Self::Dismissed),
            _ => Err(DomainError::invalid(field, "must be one of pending, auto_approved, reviewed, dismissed")),
        }
    }
}

/// The per-bot settings that steer feedback and votes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct BotSettings {
    pub auto_approve_positive: bool,
    pub auto_approve_negative: bool,
    pub require_reason_positive: bool,
    pub require_reason_negative: bool,
    /// One vote per voter per conversation within this many seconds.
    pub vote_window_seconds: i64,
    /// Conversations are erased this many days after their last activity
    /// (SPEC §16); `None` keeps them.
    pub retention_days: Option<i64>,
}

impl Default for BotSettings {
    fn default() -> Self {
        Self {
            auto_approve_positive: false,
            auto_approve_negative: false,
            require_reason_positive: false,
            require_reason_negative: false,
            vote_window_seconds: 86_400,
            retention_days: None,
        }
    }
}

/// Longest vote window: a year.
pub const MAX_VOTE_WINDOW_SECONDS: i64 = 366 * 86_400;

/// A change to a bot's settings: any subset of them.
#[derive(Debug, Clone, Default)]
pub struct BotSettingsPatch {
    pub auto_approve_positive: Option<bool>,
    pub auto_approve_negative: Option<bool>,
    pub require_reason_positive: Option<bool>,
    pub require_reason_negative: Option<bool>,
    pub vote_window_seconds: Option<i64>,
    /// `Some(None)` sets it back to keeping conversations forever.
    pub retention_days: Option<Option<i64>>,
}

impl BotSettingsPatch {
    /// The settings after this patch, or why it is refused.
    pub fn apply_to(&self, current: BotSettings) -> Result<BotSettings, DomainError> {
        if let Some(w) = self.vote_window_seconds
            && !(1..=MAX_VOTE_WINDOW_SECONDS).contains(&w)
        {
            return Err(DomainError::invalid(
                "vote_window_seconds",
                format!("must be a whole number of seconds from 1 to {MAX_VOTE_WINDOW_SECONDS}"),
            ));
        }
        Ok(BotSettings {
            auto_approve_positive: self.auto_approve_positive.unwrap_or(current.auto_approve_positive),
            auto_approve_negative: self.auto_approve_negative.unwrap_or(current.auto_approve_negative),
            require_reason_positive: self.require_reason_positive.unwrap_or(current.require_reason_positive),
            require_reason_negative: self.require_reason_negative.unwrap_or(current.require_reason_negative),
            vote_window_seconds: self.vote_window_seconds.unwrap_or(current.vote_window_seconds),
            retention_days: match self.retention_days {
                Some(Some(days)) => Some(super::retention::parse_retention_days("retention_days", days)?),
                Some(None) => None,
                None => current.retention_days,
            },
        })
    }
}

impl BotSettings {
    fn auto_approves(&self, t: FeedbackType) -> bool {
        match t {
            FeedbackType::Positive => self.auto_approve_positive,
            FeedbackType::Negative => self.auto_approve_negative,
        }
    }

    fn requires_reason(&self, t: FeedbackType) -> bool {
        match t {
            FeedbackType::Positive => self.require_reason_positive,
            FeedbackType::Negative => self.require_reason_negative,
        }
    }

    /// The status a fresh submission of type `t` starts in.
    pub fn initial_status(&self, t: FeedbackType) -> FeedbackStatus {
        if self.auto_approves(t) { FeedbackStatus::AutoApproved } else { FeedbackStatus::Pending }
    }
}

/// Normalises an optional free-text field: trimmed, empty means absent, bounded.
pub fn optional_text(field: &str, raw: Option<&str>, max_chars: usize) -> Result<Option<String>, DomainError> {
    let Some(text) = raw.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    if text.chars().count() > max_chars {
        return Err(DomainError::invalid(field, format!("must be at most {max_chars} characters")));
    }
    Ok(Some(text.to_owned()))
}

/// The part of a stored feedback record the lifecycle looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurrentFeedback {
    pub feedback_type: FeedbackType,
    pub reason: Option<String>,
    pub status: FeedbackStatus,
    pub retracted: bool,
}

/// What a submission does to the record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Submission {
    /// No record yet: create one in `status`.
    Create { status: FeedbackStatus },
    /// Same type, nothing new: answer the record as it is.
    Unchanged,
    /// Same type with a new reason: only the reason changes.
    UpdateReason,
    /// The other type: the lifecycle starts over in `status`, review fields
    /// clear, a golden example from the old state is withdrawn.
    Switch { status: FeedbackStatus },
    /// The user had taken the thumb back and gives one again: starts over in `status`.
    Restore { status: FeedbackStatus },
}

impl Submission {
    /// The status the record is in afterwards, when it changes.
    pub fn new_status(&self) -> Option<FeedbackStatus> {
        match self {
            Self::Create { status } | Self::Switch { status } | Self::Restore { status } => Some(*status),
            Self::Unchanged | Self::UpdateReason => None,
        }
    }

    /// Whether the value (the type) counts as submitted now: the time the
    /// current value was given moves only when the value is given anew.
    pub fn resubmits(&self) -> bool {
        matches!(self, Self::Create { .. } | Self::Switch { .. } | Self::Restore { .. })
    }

    /// Whether a golden example of the old state must go.
    pub fn withdraws_golden(&self) -> bool {
        matches!(self, Self::Switch { .. } | Self::Restore { .. })
    }

    /// The history event this submission records, if any.
    pub fn event(&self) -> Option<&'static str> {
        match self {
            Self::Create { .. } => Some("submitted"),
            Self::Unchanged => None,
            Self::UpdateReason => Some("reason_updated"),
            Self::Switch { .. } => Some("switched"),
            Self::Restore { .. } => Some("resubmitted"),
        }
    }
}

/// Decides what submitting `(feedback_type, reason)` does, given the current
/// record (if any) and the bot's settings.
pub fn decide_submission(
    current: Option<&CurrentFeedback>,
    feedback_type: FeedbackType,
    reason: Option<&str>,
    reason_optional: bool,
    settings: &BotSettings,
) -> Result<Submission, DomainError> {
    let effective_reason = reason.or_else(|| {
        current.filter(|c| !c.retracted && c.feedback_type == feedback_type).and_then(|c| c.reason.as_deref())
    });
    if settings.requires_reason(feedback_type) && effective_reason.is_none() && !reason_optional {
        return Err(DomainError::Invalid {
            code: "reason_required",
            field: "reason".into(),
            message: format!("a reason is required for {} feedback on this bot", feedback_type.as_str()),
        });
    }
    let fresh = settings.initial_status(feedback_type);
    Ok(match current {
        None => Submission::Create { status: fresh },
        Some(c) if c.retracted => Submission::Restore { status: fresh },
        Some(c) if c.feedback_type != feedback_type => Submission::Switch { status: fresh },
        Some(c) => match reason {
            Some(r) if c.reason.as_deref() != Some(r) => Submission::UpdateReason,
            _ => Submission::Unchanged,
        },
    })
}

/// Only completed assistant answers can be rated.
pub fn check_rateable(role: MessageRole, status: MessageStatus) -> Result<(), DomainError> {
    if role != MessageRole::Assistant {
        return Err(DomainError::invalid("message_id", "only assistant messages can be rated"));
    }
    if status != MessageStatus::Completed {
        return Err(DomainError::conflict(
            "message_not_completed",
            format!("feedback can only be given on completed answers; this one is {}", status.as_str()),
        ));
    }
    Ok(())
}

/// Whether a record in this state, of this type, carries a golden example
/// made on arrival (auto-approved positive feedback does; negative feedback
/// needs a reviewer's corrected answer first).
pub fn golden_on_arrival(status: FeedbackStatus, feedback_type: FeedbackType) -> bool {
    status == FeedbackStatus::AutoApproved && feedback_type == FeedbackType::Positive
}

/// A reviewer's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReviewAction {
    Approve,
    Dismiss,
}

impl ReviewAction {
    /// Every value, in order.
    pub const ALL: [Self; 2] = [Self::Approve, Self::Dismiss];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Approve => "approve",
            Self::Dismiss => "dismiss",
        }
    }
}

/// A reviewer's decision on a record, as sent.
#[derive(Debug, Clone)]
pub struct ReviewRequest {
    pub action: ReviewAction,
    /// The ideal answer. Required to approve negative feedback.
    pub corrected_response: Option<String>,
    /// A note for other reviewers.
    pub note: Option<String>,
}

/// What a review does to the record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Review {
    /// Becomes `reviewed`; a golden example is made whose ideal answer is the
    /// corrected response, or the original answer when none is given.
    Approve { corrected_response: Option<String>, note: Option<String> },
    /// Becomes `dismissed`; a golden example of the record is withdrawn.
    Dismiss { note: Option<String> },
    /// The same decision again: nothing changes.
    Unchanged,
}

/// Decides what a review does. Retracted feedback cannot be reviewed.
pub fn decide_review(current: &CurrentFeedback, body: &ReviewRequest) -> Result<Review, DomainError> {
    if current.retracted {
        return Err(DomainError::conflict("feedback_retracted", "the user took this feedback back; nothing to review"));
    }
    let note = optional_text("note", body.note.as_deref(), MAX_REASON_CHARS)?;
    let corrected = optional_text("corrected_response", body.corrected_response.as_deref(), MAX_CORRECTION_CHARS)?;
    match body.action {
        ReviewAction::Approve => {
            if current.feedback_type == FeedbackType::Negative && corrected.is_none() {
                return Err(DomainError::invalid(
                    "corrected_response",
                    "is required to approve negative feedback: it becomes the ideal answer",
                ));
            }
            if current.status == FeedbackStatus::Reviewed {
                return match corrected {
                    None => Ok(Review::Unchanged),
                    Some(_) => Err(DomainError::conflict(
                        "already_reviewed",
                        "this feedback is already approved; dismiss it first to approve it again",
                    )),
                };
            }
            Ok(Review::Approve { corrected_response: corrected, note })
        }
        ReviewAction::Dismiss => {
            if current.status == FeedbackStatus::Dismissed {
                return Ok(Review::Unchanged);
            }
            Ok(Review::Dismiss { note })
        }
    }
}

/// A thumb on an answer, parsed.
#[derive(Debug, Clone)]
pub struct FeedbackInput {
    pub message_id: ClientId,
    pub feedback_type: FeedbackType,
    pub reason: Option<String>,
    pub rater: Rater,
    /// Backfill: when it was given.
    pub created_at: Option<Timestamp>,
    /// Whether the bot's `require_reason_*` settings are waived: the door
    /// it came through has no field for a reason (the seed-004 door).
    pub reason_optional: bool,
}

/// A feedback record as the API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Feedback {
    pub id: Uuid,
    pub message_id: String,
    pub conversation_id: String,
    pub bot_id: Uuid,
    pub user_id: String,
    pub feedback_type: FeedbackType,
    pub reason: Option<String>,
    pub status: FeedbackStatus,
    pub source: Source,
    /// The display name of the person, or the name of the key, that reviewed it.
    pub reviewed_by: Option<String>,
    /// Who reviewed it: `user:<id>` or `key:<id>`.
    pub reviewed_by_id: Option<String>,
    pub reviewed_at: Option<Timestamp>,
    pub corrected_response: Option<String>,
    pub review_note: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// When the current value (the type) was given.
    pub submitted_at: Timestamp,
    /// Set when the user took the thumb back.
    pub retracted_at: Option<Timestamp>,
}

impl Feedback {
    pub fn current(&self) -> CurrentFeedback {
        CurrentFeedback {
            feedback_type: self.feedback_type,
            reason: self.reason.clone(),
            status: self.status,
            retracted: self.retracted_at.is_some(),
        }
    }
}

/// Filters of the review queue.
#[derive(Debug, Clone, Default)]
pub struct FeedbackFilter {
    pub status: Option<FeedbackStatus>,
    pub feedback_type: Option<FeedbackType>,
    pub bot_id: Option<Uuid>,
    /// Submitted at or after.
    pub from: Option<Timestamp>,
    /// Submitted before.
    pub to: Option<Timestamp>,
    /// The language of the rated conversation.
    pub locale: Option<LocaleFilter>,
}

/// A review-queue entry: the feedback with the exchange it rates.
#[derive(Debug, Clone, Serialize)]
pub struct FeedbackItem {
    #[serde(flatten)]
    pub feedback: Feedback,
    /// The rated answer.
    pub answer: String,
    /// The user's message just before it, if any.
    pub question: Option<String>,
}

/// A record with its full history, oldest first.
#[derive(Debug, Clone, Serialize)]
pub struct FeedbackDetail {
    #[serde(flatten)]
    pub feedback: Feedback,
    pub history: Vec<FeedbackEvent>,
}

/// One entry of a record's history.
#[derive(Debug, Clone, Serialize)]
pub struct FeedbackEvent {
    /// submitted, reason_updated, switched, retracted, resubmitted, approved, dismissed
    pub event: String,
    pub feedback_type: FeedbackType,
    pub reason: Option<String>,
    pub status: FeedbackStatus,
    pub source: Source,
    /// The user or key name that caused it.
    pub actor: String,
    pub at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::{FeedbackStatus::*, FeedbackType::*, *};

    fn current(t: FeedbackType, reason: Option<&str>, status: FeedbackStatus) -> CurrentFeedback {
        CurrentFeedback { feedback_type: t, reason: reason.map(str::to_owned), status, retracted: false }
    }

    fn auto(positive: bool, negative: bool) -> BotSettings {
        BotSettings { auto_approve_positive: positive, auto_approve_negative: negative, ..BotSettings::default() }
    }

    #[test]
    fn a_first_submission_is_pending_or_auto_approved() {
        let plain = BotSettings::default();
        assert_eq!(
            decide_submission(None, Positive, None, false, &plain).unwrap(),
            Submission::Create { status: Pending }
        );
        assert_eq!(
            decide_submission(None, Negative, None, false, &plain).unwrap(),
            Submission::Create { status: Pending }
        );
        let s = auto(true, false);
        assert_eq!(
            decide_submission(None, Positive, None, false, &s).unwrap(),
            Submission::Create { status: AutoApproved }
        );
        assert_eq!(decide_submission(None, Negative, None, false, &s).unwrap(), Submission::Create { status: Pending });
        let s = auto(false, true);
        assert_eq!(
            decide_submission(None, Negative, None, false, &s).unwrap(),
            Submission::Create { status: AutoApproved }
        );
    }

    #[test]
    fn the_same_type_again_is_unchanged_and_a_new_reason_updates_it() {
        let s = BotSettings::default();
        for status in [Pending, AutoApproved, Reviewed, Dismissed] {
            let c = current(Negative, None, status);
            assert_eq!(
                decide_submission(Some(&c), Negative, None, false, &s).unwrap(),
                Submission::Unchanged,
                "{status:?}"
            );
            assert_eq!(
                decide_submission(Some(&c), Negative, Some("wrong"), false, &s).unwrap(),
                Submission::UpdateReason
            );
            let with_reason = current(Negative, Some("wrong"), status);
            assert_eq!(
                decide_submission(Some(&with_reason), Negative, Some("wrong"), false, &s).unwrap(),
                Submission::Unchanged
            );
            assert_eq!(
                decide_submission(Some(&with_reason), Negative, None, false, &s).unwrap(),
                Submission::Unchanged
            );
        }
    }

    #[test]
    fn switching_type_starts_the_lifecycle_over_from_every_state() {
        for status in [Pending, AutoApproved, Reviewed, Dismissed] {
            let c = current(Positive, None, status);
            let plain = decide_submission(Some(&c), Negative, None, false, &BotSettings::default()).unwrap();
            assert_eq!(plain, Submission::Switch { status: Pending }, "{status:?}");
            assert!(plain.withdraws_golden());
            assert!(plain.resubmits());
            let auto_negative = decide_submission(Some(&c), Negative, None, false, &auto(false, true)).unwrap();
            assert_eq!(auto_negative, Submission::Switch { status: AutoApproved });
        }
    }

    #[test]
    fn giving_a_thumb_back_after_retracting_starts_over() {
        let mut c = current(Positive, None, Reviewed);
        c.retracted = true;
        let again = decide_submission(Some(&c), Positive, None, false, &auto(true, false)).unwrap();
        assert_eq!(again, Submission::Restore { status: AutoApproved });
        assert!(again.withdraws_golden());
    }

    #[test]
    fn required_reasons_are_enforced_per_type() {
        let s = BotSettings { require_reason_negative: true, ..BotSettings::default() };
        let err = decide_submission(None, Negative, None, false, &s).unwrap_err();
        assert!(matches!(err, DomainError::Invalid { code: "reason_required", .. }));
        assert!(decide_submission(None, Negative, Some("too vague"), false, &s).is_ok());
        assert!(decide_submission(None, Positive, None, false, &s).is_ok());
        // A door with no field for a reason is not held to it.
        assert!(decide_submission(None, Negative, None, true, &s).is_ok());
        // A reason given before still counts for a repeat of the same type.
        let c = current(Negative, Some("too vague"), Pending);
        assert_eq!(decide_submission(Some(&c), Negative, None, false, &s).unwrap(), Submission::Unchanged);
        // But not when switching: the new value needs its own.
        let p = current(Positive, Some("great"), Pending);
        assert!(decide_submission(Some(&p), Negative, None, false, &s).is_err());
    }

    #[test]
    fn golden_examples_on_arrival_are_for_auto_approved_positive_only() {
        assert!(golden_on_arrival(AutoApproved, Positive));
        assert!(!golden_on_arrival(AutoApproved, Negative));
        assert!(!golden_on_arrival(Pending, Positive));
    }

    fn review(action: ReviewAction, corrected: Option<&str>) -> ReviewRequest {
        ReviewRequest { action, corrected_response: corrected.map(str::to_owned), note: None }
    }

    #[test]
    fn approving_and_dismissing_from_each_state() {
        use ReviewAction::*;
        for status in [Pending, AutoApproved, Dismissed] {
            let c = current(Positive, None, status);
            assert!(matches!(decide_review(&c, &review(Approve, None)).unwrap(), Review::Approve { .. }), "{status:?}");
        }
        for status in [Pending, AutoApproved, Reviewed] {
            let c = current(Positive, None, status);
            assert!(matches!(decide_review(&c, &review(Dismiss, None)).unwrap(), Review::Dismiss { .. }), "{status:?}");
        }
        assert_eq!(
            decide_review(&current(Positive, None, Dismissed), &review(Dismiss, None)).unwrap(),
            Review::Unchanged
        );
        assert_eq!(
            decide_review(&current(Positive, None, Reviewed), &review(Approve, None)).unwrap(),
            Review::Unchanged
        );
        let again = decide_review(&current(Positive, None, Reviewed), &review(Approve, Some("better")));
        assert!(matches!(again, Err(DomainError::Conflict { code: "already_reviewed", .. })));
    }

    #[test]
    fn approving_negative_feedback_needs_the_corrected_answer() {
        let c = current(Negative, Some("wrong"), Pending);
        let err = decide_review(&c, &review(ReviewAction::Approve, None)).unwrap_err();
        assert!(err.to_string().starts_with("corrected_response:"));
        let err = decide_review(&c, &review(ReviewAction::Approve, Some("   "))).unwrap_err();
        assert!(err.to_string().starts_with("corrected_response:"));
        let ok = decide_review(&c, &review(ReviewAction::Approve, Some("The right answer."))).unwrap();
        assert_eq!(ok, Review::Approve { corrected_response: Some("The right answer.".into()), note: None });
    }

    #[test]
    fn retracted_feedback_cannot_be_reviewed() {
        let mut c = current(Positive, None, Pending);
        c.retracted = true;
        assert!(decide_review(&c, &review(ReviewAction::Approve, None)).is_err());
    }

    #[test]
    fn settings_patches_are_validated() {
        let base = BotSettings::default();
        for bad in [0, -5, MAX_VOTE_WINDOW_SECONDS + 1] {
            let p = BotSettingsPatch { vote_window_seconds: Some(bad), ..Default::default() };
            assert!(p.apply_to(base).is_err(), "{bad}");
        }
        let p =
            BotSettingsPatch { auto_approve_positive: Some(true), vote_window_seconds: Some(60), ..Default::default() };
        let s = p.apply_to(base).unwrap();
        assert!(s.auto_approve_positive && !s.auto_approve_negative);
        assert_eq!(s.vote_window_seconds, 60);
    }

    #[test]
    fn only_completed_assistant_answers_are_rated() {
        assert!(check_rateable(MessageRole::Assistant, MessageStatus::Completed).is_ok());
        for role in [MessageRole::User, MessageRole::System, MessageRole::Activity] {
            assert!(matches!(check_rateable(role, MessageStatus::Completed), Err(DomainError::Invalid { .. })));
        }
        for status in [MessageStatus::Pending, MessageStatus::Failed] {
            assert!(matches!(
                check_rateable(MessageRole::Assistant, status),
                Err(DomainError::Conflict { code: "message_not_completed", .. })
            ));
        }
    }

    #[test]
    fn reasons_are_trimmed_and_bounded() {
        assert_eq!(optional_text("reason", Some("  ok "), 10).unwrap().as_deref(), Some("ok"));
        assert_eq!(optional_text("reason", Some("   "), 10).unwrap(), None);
        assert!(optional_text("reason", Some(&"x".repeat(11)), 10).is_err());
    }
}
