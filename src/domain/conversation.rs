//! Conversations and messages: what a chat backend logs.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, value::RawValue};
use sha2::{Digest, Sha256};

use super::{
    DomainError, Timestamp,
    ids::{ClientId, MAX_SHORT_TEXT_LEN, Uuid, locale, optional_short_text},
    satisfaction::Satisfaction,
};

/// Largest metadata object, serialised.
pub const MAX_METADATA_BYTES: usize = 16 * 1024;

/// Whether a conversation is still going.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConversationStatus {
    Open,
    Ended,
}

impl ConversationStatus {
    /// Every value, in order.
    pub const ALL: [Self; 2] = [Self::Open, Self::Ended];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Ended => "ended",
        }
    }

    pub fn from_db(raw: &str) -> Self {
        if raw == "ended" { Self::Ended } else { Self::Open }
    }
}

/// Who spoke a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MessageRole {
    User,
    Assistant,
    System,
    /// Written by Plaudit itself into the history (a vote, for instance).
    Activity,
}

impl MessageRole {
    /// Every value, in order.
    pub const ALL: [Self; 4] = [Self::User, Self::Assistant, Self::System, Self::Activity];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Assistant => "assistant",
            Self::System => "system",
            Self::Activity => "activity",
        }
    }

    pub fn from_db(raw: &str) -> Self {
        match raw {
            "user" => Self::User,
            "assistant" => Self::Assistant,
            "system" => Self::System,
            _ => Self::Activity,
        }
    }
}

/// Where an answer is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MessageStatus {
    Pending,
    Completed,
    Failed,
}

impl MessageStatus {
    /// Every value, in order.
    pub const ALL: [Self; 3] = [Self::Pending, Self::Completed, Self::Failed];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Completed => "completed",
            Self::Failed => "failed",
        }
    }

    pub fn from_db(raw: &str) -> Self {
        match raw {
            "pending" => Self::Pending,
            "failed" => Self::Failed,
            _ => Self::Completed,
        }
    }
}

/// A metadata object with the conventional keys pulled out and checked:
/// `variant` (A/B arm) on conversations, `topic` and `confidence` on messages.
#[derive(Debug, Clone, PartialEq)]
pub struct Metadata {
    object: Map<String, Value>,
    /// `object` as stored: compact JSON, written once, when parsed (to check
    /// its size), so that the write does not serialise it again. Empty for
    /// the empty object (most messages have no metadata), which then costs
    /// no allocation.
    json: String,
}

/// No metadata: the empty object.
impl Default for Metadata {
    fn default() -> Self {
        Self { object: Map::new(), json: String::new() }
    }
}

impl Metadata {
    /// Accepts a JSON object (or nothing) of bounded size.
    pub fn parse(field: &str, raw: Option<Value>) -> Result<Self, DomainError> {
        let object = match raw {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(o)) => o,
            Some(_) => return Err(DomainError::invalid(field, "must be a JSON object")),
        };
        // Keys in sorted order (serde_json's map is a BTreeMap), so equal
        // objects serialise equally.
        let json = if object.is_empty() {
            String::new()
        } else {
            serde_json::to_string(&object).map_err(|e| DomainError::invalid(field, e.to_string()))?
        };
        let meta = Self { object, json };
        if meta.json.len() > MAX_METADATA_BYTES {
            return Err(DomainError::invalid(field, "must be at most 16 KiB when serialised"));
        }
        meta.optional_string(field, "variant")?;
        meta.optional_string(field, "channel")?;
        meta.optional_string(field, "topic")?;
        meta.confidence(field)?;
        if let Some(tags) = meta.object.get("tags")
            && !tags.as_array().is_some_and(|a| a.iter().all(Value::is_string))
        {
            return Err(DomainError::invalid(format!("{field}.tags"), "must be an array of strings"));
        }
        Ok(meta)
    }

    fn optional_string(&self, field: &str, key: &str) -> Result<Option<String>, DomainError> {
        match self.object.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if !s.is_empty() && s.chars().count() <= MAX_SHORT_TEXT_LEN => Ok(Some(s.clone())),
            Some(_) => Err(DomainError::invalid(
                format!("{field}.{key}"),
                "must be a non-empty string of at most 256 characters",
            )),
        }
    }

    fn confidence(&self, field: &str) -> Result<Option<f64>, DomainError> {
        match self.object.get("confidence") {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => match n.as_f64() {
                Some(c) if (0.0..=1.0).contains(&c) => Ok(Some(c)),
                _ => Err(DomainError::invalid(format!("{field}.confidence"), "must be a number from 0 to 1")),
            },
            Some(_) => Err(DomainError::invalid(format!("{field}.confidence"), "must be a number from 0 to 1")),
        }
    }

    /// The A/B arm, if any.
    pub fn variant(&self) -> Option<String> {
        self.object.get("variant").and_then(Value::as_str).map(str::to_owned)
    }

    /// The message's topic, if any.
    pub fn topic(&self) -> Option<&str> {
        self.object.get("topic").and_then(Value::as_str)
    }

    /// The answer's confidence, if any.
    pub fn confidence_value(&self) -> Option<f64> {
        self.object.get("confidence").and_then(Value::as_f64)
    }

    /// The object, taken out.
    pub fn into_object(self) -> Map<String, Value> {
        self.object
    }

    /// The object as stored: compact JSON, equal objects written equally.
    pub fn json(&self) -> &str {
        if self.object.is_empty() { "{}" } else { &self.json }
    }

    /// The object as it is answered once stored (see [`StoredMetadata`]).
    pub fn stored(&self) -> StoredMetadata {
        StoredMetadata::from_db(self.json().to_owned())
    }
}

/// A metadata object as stored: the JSON text it is stored as (compact,
/// keys in order, as [`Metadata::json`] wrote it), answered as is. Reads that
/// only show metadata (the inbox, transcripts, exports) never build a tree of
/// it: parsing it into a tree and writing the tree again was about a tenth
/// of an inbox page's work. The few that look inside parse it then.
#[derive(Debug, Clone, Serialize)]
#[serde(transparent)]
pub struct StoredMetadata(Box<RawValue>);

impl StoredMetadata {
    /// The empty object.
    pub fn empty() -> Self {
        Self(RawValue::from_string("{}".to_owned()).expect("{} is JSON"))
    }

    /// Reads stored metadata back, keeping the text without a copy where it
    /// needs no trimming; anything that is not a JSON object becomes `{}`.
    /// The text is checked, not parsed into a tree.
    pub fn from_db(raw: String) -> Self {
        let trimmed = raw.trim();
        // Most rows hold no metadata.
        if trimmed == "{}" || !trimmed.starts_with('{') {
            return Self::empty();
        }
        let raw = if trimmed.len() == raw.len() { raw } else { trimmed.to_owned() };
        RawValue::from_string(raw).map_or_else(|_| Self::empty(), Self)
    }

    /// The object, parsed.
    pub fn object(&self) -> Map<String, Value> {
        serde_json::from_str(self.0.get()).unwrap_or_default()
    }

    /// A key's value, where it is a string.
    pub fn text(&self, key: &str) -> Option<String> {
        self.object().remove(key).and_then(|v| match v {
            Value::String(s) => Some(s),
            _ => None,
        })
    }
}

impl PartialEq for StoredMetadata {
    /// Equal objects: the same keys with equal values, however written.
    fn eq(&self, other: &Self) -> bool {
        self.0.get() == other.0.get() || self.object() == other.object()
    }
}

/// A conversation as sent, not yet checked.
#[derive(Debug, Clone, Default)]
pub struct ConversationFields {
    /// The bot this conversation belongs to; defaults to the key's bot.
    pub bot_id: Option<String>,
    /// The end user or visitor.
    pub contact_id: Option<String>,
    /// A BCP 47 language tag, such as `fr-CA`.
    pub locale: Option<String>,
    /// A JSON object; `variant`, `channel` and `tags` are conventional.
    pub metadata: Option<Value>,
    /// Backfill: when the conversation started.
    pub created_at: Option<String>,
}

/// A validated conversation upsert.
#[derive(Debug, Clone)]
pub struct ConversationInput {
    pub id: ClientId,
    /// `None` when the key must supply its own bot, decided by the caller.
    pub bot_id: Option<Uuid>,
    pub contact_id: Option<String>,
    pub locale: Option<String>,
    /// `None` leaves stored metadata alone on update.
    pub metadata: Option<Metadata>,
    pub created_at: Option<Timestamp>,
}

impl ConversationInput {
    pub fn parse(id: &str, body: ConversationFields, now: Timestamp) -> Result<Self, DomainError> {
        Ok(Self {
            id: ClientId::parse("id", id)?,
            bot_id: body.bot_id.as_deref().map(|b| Uuid::parse("bot_id", b)).transpose()?,
            contact_id: optional_short_text("contact_id", body.contact_id.as_deref(), MAX_SHORT_TEXT_LEN)?,
            locale: body.locale.as_deref().map(|l| locale("locale", l)).transpose()?,
            metadata: body.metadata.map(|m| Metadata::parse("metadata", Some(m))).transpose()?,
            created_at: Timestamp::parse_backfill("created_at", body.created_at.as_deref(), now)?,
        })
    }
}

/// A conversation as the API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Conversation {
    pub id: String,
    pub bot_id: Uuid,
    pub contact_id: Option<String>,
    pub locale: Option<String>,
    pub metadata: StoredMetadata,
    pub status: ConversationStatus,
    /// Its latest conversation-level signal (a vote or a CSAT answer).
    pub satisfaction: Satisfaction,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub ended_at: Option<Timestamp>,
}

/// A conversation stays with the bot it was created for: moving it would
/// silently rewrite that bot's history and figures.
pub fn check_bot_unchanged(current: &Uuid, requested: Option<&Uuid>) -> Result<(), DomainError> {
    match requested {
        Some(r) if r != current => Err(DomainError::conflict(
            "conflict",
            format!("this conversation belongs to bot {current}; its bot_id cannot change"),
        )),
        _ => Ok(()),
    }
}

/// A message as sent, not yet checked.
#[derive(Debug, Clone)]
pub struct MessageFields {
    /// Client-chosen id, unique in the account.
    pub id: String,
    pub role: MessageRole,
    pub content: String,
    /// The id of the chat request that produced this answer; unique in the account.
    pub request_id: Option<String>,
    /// Defaults to `completed`.
    pub status: Option<MessageStatus>,
    /// A JSON object; `topic` (string) and `confidence` (0..1) are conventional.
    pub metadata: Option<Value>,
    /// Backfill: when the message was sent.
    pub created_at: Option<String>,
}

/// A validated message append.
#[derive(Debug, Clone)]
pub struct MessageInput {
    pub id: ClientId,
    pub conversation_id: ClientId,
    pub role: MessageRole,
    pub content: String,
    pub request_id: Option<String>,
    pub status: MessageStatus,
    pub metadata: Metadata,
    pub created_at: Option<Timestamp>,
    /// See [`MessageInput::fingerprint`]; computed once, when parsed.
    fingerprint: String,
}

impl MessageInput {
    pub fn parse(conversation_id: &str, body: MessageFields, now: Timestamp) -> Result<Self, DomainError> {
        if body.role == MessageRole::Activity {
            return Err(DomainError::invalid(
                "role",
                "activity messages are written by Plaudit itself; use user, assistant or system",
            ));
        }
        let request_id = optional_short_text("request_id", body.request_id.as_deref(), MAX_SHORT_TEXT_LEN)?;
        if request_id.is_some() && body.role != MessageRole::Assistant {
            return Err(DomainError::invalid("request_id", "is only for assistant messages"));
        }
        let mut input = Self {
            id: ClientId::parse("id", &body.id)?,
            conversation_id: ClientId::parse("conversation_id", conversation_id)?,
            role: body.role,
            content: body.content,
            request_id,
            status: body.status.unwrap_or(MessageStatus::Completed),
            metadata: Metadata::parse("metadata", body.metadata)?,
            created_at: Timestamp::parse_backfill("created_at", body.created_at.as_deref(), now)?,
            fingerprint: String::new(),
        };
        // Here, on the request's own thread, not in the write that stores it.
        input.fingerprint = input.digest();
        Ok(input)
    }

    /// A fingerprint of the message as first sent (a SHA-256 of its fields,
    /// in hex). Re-sending the same body is an idempotent repeat; a different
    /// body under a taken id is a conflict.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    fn digest(&self) -> String {
        // The JSON array `[conversation_id, role, content, request_id, status,
        // metadata, created_at]`, written straight into the hash: the same
        // bytes as building it as a value first, without copying the content.
        let canonical = (
            self.conversation_id.as_str(),
            self.role.as_str(),
            &self.content,
            &self.request_id,
            self.status.as_str(),
            &self.metadata.object,
            self.created_at.map(Timestamp::millis),
        );
        // A `Sha256` is an `io::Write` that hashes what is written to it.
        let mut hasher = Sha256::new();
        serde_json::to_writer(&mut hasher, &canonical).expect("hashing never fails to write");
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut hex = String::with_capacity(64);
        for b in hasher.finalize() {
            hex.push(char::from(HEX[usize::from(b >> 4)]));
            hex.push(char::from(HEX[usize::from(b & 15)]));
        }
        hex
    }
}

/// A message as the API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Message {
    pub id: String,
    pub conversation_id: String,
    pub role: MessageRole,
    pub content: String,
    pub request_id: Option<String>,
    pub status: MessageStatus,
    pub metadata: StoredMetadata,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A change to a message as sent, not yet checked.
#[derive(Debug, Clone, Default)]
pub struct MessageUpdateFields {
    pub status: Option<MessageStatus>,
    pub content: Option<String>,
    pub metadata: Option<Value>,
}

/// A validated message update.
#[derive(Debug, Clone)]
pub struct MessageUpdate {
    pub id: ClientId,
    pub status: Option<MessageStatus>,
    pub content: Option<String>,
    pub metadata: Option<Metadata>,
}

impl MessageUpdate {
    pub fn parse(id: &str, body: MessageUpdateFields) -> Result<Self, DomainError> {
        if body.status.is_none() && body.content.is_none() && body.metadata.is_none() {
            return Err(DomainError::invalid("body", "give at least one of status, content, metadata"));
        }
        Ok(Self {
            id: ClientId::parse("id", id)?,
            status: body.status,
            content: body.content,
            metadata: body.metadata.map(|m| Metadata::parse("metadata", Some(m))).transpose()?,
        })
    }

    /// Whether applying this update to `current` would change anything; a
    /// repeated update (a re-sent batch) writes nothing.
    pub fn changes(&self, current: &Message) -> bool {
        self.status.is_some_and(|s| s != current.status)
            || self.content.as_deref().is_some_and(|c| c != current.content)
            || self.metadata.as_ref().is_some_and(|m| current.metadata.object() != m.object)
    }

    /// The lifecycle of an answer: `pending` may complete or fail; a finished
    /// message keeps its status and its content (feedback may already rate
    /// that content). Repeating the current status is allowed. Metadata may
    /// change at any time (topics and confidences are often computed later).
    pub fn check_against(&self, current: MessageStatus, current_content: &str) -> Result<(), DomainError> {
        if current == MessageStatus::Pending {
            return Ok(());
        }
        if let Some(next) = self.status
            && next != current
        {
            return Err(DomainError::conflict(
                "invalid_status_transition",
                format!("a {} message cannot become {}", current.as_str(), next.as_str()),
            ));
        }
        if self.content.as_deref().is_some_and(|c| c != current_content) {
            return Err(DomainError::conflict(
                "message_final",
                format!("the content of a {} message can no longer change", current.as_str()),
            ));
        }
        Ok(())
    }
}

/// An inbox row: a conversation with its counts.
#[derive(Debug, Clone, Serialize)]
pub struct ConversationRow {
    #[serde(flatten)]
    pub conversation: Conversation,
    /// Messages, activity messages left out.
    pub message_count: i64,
    pub thumbs_up: i64,
    pub thumbs_down: i64,
}

impl ConversationRow {
    /// Whether the conversation may have current thumbs: its counts hold
    /// every record not retracted, so none counted means none to look up.
    pub fn may_have_thumbs(&self) -> bool {
        self.thumbs_up + self.thumbs_down > 0
    }
}

/// A stored message with the bot and variant of its conversation, and its
/// topic (what its thumbs are counted under).
#[derive(Debug, Clone)]
pub struct MessageInContext {
    pub message: Message,
    pub bot_id: Uuid,
    pub variant: Option<String>,
    /// The conversation's language.
    pub locale: Option<String>,
    pub topic: Option<String>,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn body(role: MessageRole) -> MessageFields {
        MessageFields {
            id: "m1".into(),
            role,
            content: "hi".into(),
            request_id: None,
            status: None,
            metadata: None,
            created_at: None,
        }
    }

    #[test]
    fn metadata_must_be_an_object_with_sane_conventional_keys() {
        assert!(Metadata::parse("metadata", Some(json!([1]))).is_err());
        let err = Metadata::parse("metadata", Some(json!({"confidence": 1.5}))).unwrap_err();
        assert!(err.to_string().starts_with("metadata.confidence:"));
        assert!(Metadata::parse("metadata", Some(json!({"topic": 3}))).is_err());
        assert!(Metadata::parse("metadata", Some(json!({"tags": ["a", 1]}))).is_err());
        let m =
            Metadata::parse("metadata", Some(json!({"topic": "billing", "confidence": 0.4, "variant": "B"}))).unwrap();
        assert_eq!(m.topic(), Some("billing"));
        assert_eq!(m.confidence_value(), Some(0.4));
        assert_eq!(m.variant().as_deref(), Some("B"));
        // Stored as compact JSON with its keys in order, however they came.
        assert_eq!(m.json(), r#"{"confidence":0.4,"topic":"billing","variant":"B"}"#);
        assert_eq!(Metadata::parse("metadata", None).unwrap().json(), "{}");
        assert_eq!(Metadata::default(), Metadata::parse("metadata", Some(json!({}))).unwrap());
        let big = json!({"blob": "x".repeat(MAX_METADATA_BYTES)});
        assert!(Metadata::parse("metadata", Some(big)).is_err());
    }

    #[test]
    fn messages_default_to_completed_and_refuse_activity() {
        let m = MessageInput::parse("c1", body(MessageRole::User), Timestamp(0)).unwrap();
        assert_eq!(m.status, MessageStatus::Completed);
        assert!(MessageInput::parse("c1", body(MessageRole::Activity), Timestamp(0)).is_err());
        let mut with_request = body(MessageRole::User);
        with_request.request_id = Some("r1".into());
        assert!(MessageInput::parse("c1", with_request, Timestamp(0)).is_err());
    }

    #[test]
    fn a_fingerprint_is_the_hex_sha256_of_the_fields_as_json() {
        // Stored fingerprints are compared with new ones: the form must not change.
        let m = MessageInput::parse("c1", body(MessageRole::User), Timestamp(0)).unwrap();
        // sha256 of `["c1","user","hi",null,"completed",{},null]`
        assert_eq!(m.fingerprint(), "51062c52fbee8ac9aa51842a4eb05b8f1f7c093ab6bedfc9a227bb0bb53d0932");
    }

    #[test]
    fn a_fingerprint_hashes_the_same_bytes_as_the_fields_built_as_json() {
        let mut tricky = body(MessageRole::Assistant);
        tricky.content = "quote \" backslash \\ tab\t é 😀 \u{1}".into();
        tricky.status = Some(MessageStatus::Pending);
        tricky.created_at = Some("2026-03-01T10:00:00.123+02:00".into());
        tricky.metadata = Some(serde_json::json!({"z": [1, 2.5, null], "a": {"b": "c"}, "n": -7}));
        let m = MessageInput::parse("conv-1", tricky, Timestamp::now()).unwrap();
        let canonical = serde_json::json!([
            m.conversation_id.as_str(),
            m.role.as_str(),
            m.content,
            m.request_id,
            m.status.as_str(),
            m.metadata.object,
            m.created_at.map(Timestamp::millis),
        ]);
        let expected: String =
            Sha256::digest(canonical.to_string().as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(m.fingerprint(), expected);
    }

    #[test]
    fn fingerprints_tell_identical_from_different() {
        let a = MessageInput::parse("c1", body(MessageRole::User), Timestamp(0)).unwrap();
        let b = MessageInput::parse("c1", body(MessageRole::User), Timestamp(0)).unwrap();
        assert_eq!(a.fingerprint(), b.fingerprint());
        let mut other = body(MessageRole::User);
        other.content = "hello".into();
        let c = MessageInput::parse("c1", other, Timestamp(0)).unwrap();
        assert_ne!(a.fingerprint(), c.fingerprint());
    }

    #[test]
    fn pending_answers_complete_or_fail_once() {
        let complete = MessageUpdate::parse(
            "m1",
            MessageUpdateFields { status: Some(MessageStatus::Completed), ..Default::default() },
        )
        .unwrap();
        assert!(complete.check_against(MessageStatus::Pending, "x").is_ok());
        assert!(complete.check_against(MessageStatus::Completed, "x").is_ok());
        let fail = MessageUpdate::parse(
            "m1",
            MessageUpdateFields { status: Some(MessageStatus::Failed), ..Default::default() },
        )
        .unwrap();
        assert!(matches!(fail.check_against(MessageStatus::Completed, "x"), Err(DomainError::Conflict { .. })));
        let edit = MessageUpdate::parse("m1", MessageUpdateFields { content: Some("y".into()), ..Default::default() })
            .unwrap();
        assert!(edit.check_against(MessageStatus::Pending, "x").is_ok());
        assert!(edit.check_against(MessageStatus::Completed, "x").is_err());
        assert!(edit.check_against(MessageStatus::Completed, "y").is_ok());
        assert!(MessageUpdate::parse("m1", MessageUpdateFields::default()).is_err());
    }

    /// Stored metadata is answered as the very text it is stored as, which
    /// is what writing its parsed tree gave; what is not an object reads as
    /// `{}`; the few readers that look inside find its keys.
    #[test]
    fn stored_metadata_is_answered_as_stored() {
        let written =
            Metadata::parse("metadata", Some(json!({"z": [1, 2.5, null], "a": {"b": "c"}, "topic": "t"}))).unwrap();
        let stored = written.stored();
        let tree: Value = serde_json::from_str(written.json()).unwrap();
        assert_eq!(serde_json::to_string(&stored).unwrap(), serde_json::to_string(&tree).unwrap());
        assert_eq!(stored.text("topic").as_deref(), Some("t"));
        assert_eq!(stored.text("a"), None, "not a string");
        assert_eq!(stored.object(), written.clone().into_object());
        let db = |raw: &str| StoredMetadata::from_db(raw.to_owned());
        let read = |raw: &str| serde_json::to_string(&db(raw)).unwrap();
        for unreadable in ["", "[1]", "\"x\"", "{\"a\":", "null", " {}"] {
            assert_eq!(read(unreadable), "{}", "{unreadable}");
        }
        assert_eq!(db("{\"a\":1,\"b\":2}"), db("{\"b\": 2, \"a\": 1}"));
        assert_ne!(db("{\"a\":1}"), StoredMetadata::empty());
        assert_eq!(read(" {\"a\":1} "), "{\"a\":1}", "trimmed");
        assert_eq!(read("{\"a\":1}"), "{\"a\":1}", "kept as is");
        assert_eq!(read("{}"), "{}");
    }
}
