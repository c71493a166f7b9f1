//! A transcript: a conversation with everything said and given in it.

use serde::Serialize;
use utoipa::ToSchema;

use super::{
    conversation::{Conversation, Message},
    feedback::Feedback,
    rating::CsatAnswer,
    vote::Vote,
};

/// The thumbs an assistant answer received.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct FeedbackBadges {
    pub up: i64,
    pub down: i64,
    /// The current (not retracted) records.
    pub records: Vec<Feedback>,
}

/// A message of a transcript; assistant answers carry their badges.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TranscriptMessage {
    #[serde(flatten)]
    pub message: Message,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub feedback: Option<FeedbackBadges>,
}

/// A conversation with its messages in order, its votes, CSAT answers and satisfaction.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Transcript {
    #[serde(flatten)]
    pub conversation: Conversation,
    pub messages: Vec<TranscriptMessage>,
    pub votes: Vec<Vote>,
    pub csat: Vec<CsatAnswer>,
}

/// Writes one transcript into an export's chunk.
pub type TranscriptWriter = std::sync::Arc<dyn Fn(&Transcript, &mut Vec<u8>) + Send + Sync>;
