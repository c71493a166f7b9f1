//! A transcript: a conversation with everything said and given in it, and
//! the formats conversations are exported in.

use serde::Serialize;

use super::{
    DomainError,
    conversation::{Conversation, Message},
    csat::CsatAnswer,
    feedback::Feedback,
    golden::csv_field,
    vote::Vote,
};

/// The thumbs an assistant answer received.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FeedbackBadges {
    pub up: i64,
    pub down: i64,
    /// The current (not retracted) records.
    pub records: Vec<Feedback>,
}

/// A message of a transcript; assistant answers carry their badges.
#[derive(Debug, Clone, Serialize)]
pub struct TranscriptMessage {
    #[serde(flatten)]
    pub message: Message,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub feedback: Option<FeedbackBadges>,
}

/// A conversation with its messages in order, its votes, CSAT answers and satisfaction.
#[derive(Debug, Clone, Serialize)]
pub struct Transcript {
    #[serde(flatten)]
    pub conversation: Conversation,
    pub messages: Vec<TranscriptMessage>,
    pub votes: Vec<Vote>,
    pub csat: Vec<CsatAnswer>,
}

/// Writes one transcript into an export's chunk.
pub type TranscriptWriter = std::sync::Arc<dyn Fn(&Transcript, &mut Vec<u8>) + Send + Sync>;

/// How conversations are exported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConversationFormat {
    /// One transcript object a line.
    Jsonl,
    /// A header and one row a conversation (its messages as JSON in a column).
    Csv,
}

impl ConversationFormat {
    pub fn parse(raw: Option<&str>) -> Result<Self, DomainError> {
        match raw.unwrap_or("jsonl") {
            "jsonl" => Ok(Self::Jsonl),
            "csv" => Ok(Self::Csv),
            _ => Err(DomainError::invalid("format", "must be jsonl or csv")),
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Self::Jsonl => "application/x-ndjson",
            Self::Csv => "text/csv; charset=utf-8",
        }
    }

    pub fn header(self) -> &'static str {
        match self {
            Self::Jsonl => "",
            Self::Csv => {
                "id,bot_id,contact_id,locale,variant,status,created_at,ended_at,satisfaction,negative_reason,\
                 message_count,thumbs_up,thumbs_down,upvotes,downvotes,csat_average,messages\n"
            }
        }
    }

    /// Appends one conversation to `out`, as a line with its newline.
    pub fn write(self, t: &Transcript, out: &mut Vec<u8>) {
        match self {
            Self::Jsonl => {
                // Writing into memory fails only on a value JSON cannot hold,
                // which a transcript never is; the line is then left out.
                let mark = out.len();
                if serde_json::to_writer(&mut *out, t).is_err() {
                    out.truncate(mark);
                    return;
                }
                out.push(b'\n');
            }
            Self::Csv => {
                let c = &t.conversation;
                let (up, down) = t
                    .messages
                    .iter()
                    .filter_map(|m| m.feedback.as_ref())
                    .fold((0, 0), |(u, d), b| (u + b.up, d + b.down));
                let upvotes = t.votes.iter().filter(|v| v.value > 0).count();
                #[allow(clippy::cast_precision_loss)]
                let csat = (!t.csat.is_empty())
                    .then(|| t.csat.iter().map(|a| a.score).sum::<i64>() as f64 / t.csat.len() as f64);
                let messages: Vec<serde_json::Value> = t
                    .messages
                    .iter()
                    .map(|m| serde_json::json!({"id": m.message.id, "role": m.message.role, "content": m.message.content}))
                    .collect();
                let fields = [
                    c.id.clone(),
                    c.bot_id.to_string(),
                    c.contact_id.clone().unwrap_or_default(),
                    c.locale.clone().unwrap_or_default(),
                    c.metadata.text("variant").unwrap_or_default(),
                    c.status.as_str().to_owned(),
                    c.created_at.to_rfc3339(),
                    c.ended_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
                    c.satisfaction.value.as_str().to_owned(),
                    c.satisfaction.negative_reason.clone().unwrap_or_default(),
                    t.messages.iter().filter(|m| m.message.role.as_str() != "activity").count().to_string(),
                    up.to_string(),
                    down.to_string(),
                    upvotes.to_string(),
                    (t.votes.len() - upvotes).to_string(),
                    csat.map(|a| format!("{a:.2}")).unwrap_or_default(),
                    serde_json::to_string(&messages).unwrap_or_default(),
                ];
                let row: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
                out.extend_from_slice(row.join(",").as_bytes());
                out.push(b'\n');
            }
        }
    }
}
