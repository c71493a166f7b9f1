//! Logging conversations and messages, and reading a transcript back.

use axum::{Json, extract::State, http::StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{
    ApiError, ApiJson, ApiPath, ApiQuery, App, Auth, ErrorResponses, IdPath, OptionalJson, PageDoc, created_or_found,
    csat::CsatAnswerDoc, feedback::FeedbackDoc, votes::VoteDoc,
};
use crate::domain::{
    DomainError, Timestamp,
    access::{Principal, Role},
    analytics::{InboxFilter, SatisfactionFilter, ThumbsFilter},
    conversation::{
        Conversation, ConversationFields, ConversationInput, ConversationRow, ConversationStatus, Message,
        MessageFields, MessageInput, MessageRole, MessageStatus, MessageUpdate, MessageUpdateFields,
    },
    erasure::Erased,
    ids::{ClientId, LocaleFilter, MAX_SHORT_TEXT_LEN, Uuid, optional_short_text},
    page::{Page, PageRequest},
    satisfaction::SatisfactionValue,
    transcript::Transcript,
};

pub fn router() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(list_conversations))
        .routes(routes!(put_conversation, get_conversation, delete_conversation))
        .routes(routes!(append_message))
        .routes(routes!(end_conversation))
        .routes(routes!(update_message))
}

/// The inbox's filters.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InboxQuery {
    pub bot_id: Option<String>,
    /// The conversation's satisfaction (its votes and CSAT answers): `upvote`
    /// (positive), `downvote` (negative) or `unknown` (no signal).
    pub feedback: Option<String>,
    /// `down` (or `up`): at least one current thumbs-down (or up) on an answer.
    pub thumbs: Option<String>,
    /// The conversation's language: `fr` matches `fr` and `fr-CA`.
    pub locale: Option<String>,
    /// Started at or after (RFC 3339, or a date: midnight UTC).
    pub from: Option<String>,
    /// Started before.
    pub to: Option<String>,
    /// Text in a message, the conversation id or the contact id (case-insensitive).
    pub q: Option<String>,
    /// Exactly this contact's conversations.
    pub contact_id: Option<String>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

impl InboxQuery {
    pub fn parse(&self) -> Result<InboxFilter, ApiError> {
        Ok(InboxFilter {
            bot_id: self.bot_id.as_deref().map(|b| Uuid::parse("bot_id", b)).transpose()?,
            feedback: self
                .feedback
                .as_deref()
                .filter(|f| !f.is_empty())
                .map(|f| SatisfactionFilter::parse("feedback", f))
                .transpose()?,
            thumbs: self
                .thumbs
                .as_deref()
                .filter(|t| !t.is_empty())
                .map(|t| ThumbsFilter::parse("thumbs", t))
                .transpose()?,
            locale: self
                .locale
                .as_deref()
                .filter(|l| !l.is_empty())
                .map(|l| LocaleFilter::parse("locale", l))
                .transpose()?,
            from: self.from.as_deref().map(|t| Timestamp::parse_instant("from", t)).transpose()?,
            to: self.to.as_deref().map(|t| Timestamp::parse_instant("to", t)).transpose()?,
            q: self.q.clone(),
            contact_id: optional_short_text("contact_id", self.contact_id.as_deref(), MAX_SHORT_TEXT_LEN)?,
        })
    }
}

/// The inbox: conversations newest first, with satisfaction and thumbs counts.
#[utoipa::path(get, path = "/v1/conversations", tag = "conversations", params(InboxQuery),
    responses((status = 200, description = "A page of conversations", body = PageDoc<ConversationRowDoc>), ErrorResponses))]
async fn list_conversations(
    State(app): State<App>,
    Auth(principal): Auth,
    ApiQuery(q): ApiQuery<InboxQuery>,
) -> Result<Json<Page<ConversationRow>>, ApiError> {
    principal.require(Role::Server)?;
    let filter = q.parse()?;
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    Ok(Json(app.inbox(&principal.scope(), &filter, page).await?))
}

impl ConversationBody {
    /// The conversation `id` as sent, checked, with its bot checked against the key.
    pub fn parse(self, principal: &Principal, id: &str, now: Timestamp) -> Result<ConversationInput, DomainError> {
        let fields = ConversationFields {
            bot_id: self.bot_id,
            contact_id: self.contact_id,
            locale: self.locale,
            metadata: self.metadata,
            created_at: self.created_at,
        };
        let mut input = ConversationInput::parse(id, fields, now)?;
        if let Some(requested) = input.bot_id.take() {
            input.bot_id = Some(principal.resolve_bot(Some(requested))?);
        }
        Ok(input)
    }
}

impl MessageBody {
    /// The message of conversation `conversation_id` as sent, checked.
    pub fn parse(self, conversation_id: &str, now: Timestamp) -> Result<MessageInput, DomainError> {
        let fields = MessageFields {
            id: self.id,
            role: self.role,
            content: self.content,
            request_id: self.request_id,
            status: self.status,
            metadata: self.metadata,
            created_at: self.created_at,
        };
        MessageInput::parse(conversation_id, fields, now)
    }
}

impl MessageUpdateBody {
    /// The change to message `id` as sent, checked.
    pub fn parse(self, id: &str) -> Result<MessageUpdate, DomainError> {
        MessageUpdate::parse(
            id,
            MessageUpdateFields { status: self.status, content: self.content, metadata: self.metadata },
        )
    }
}

/// Creates a conversation (201) or updates its contact, locale and metadata (200).
///
/// `bot_id` is needed on creation unless the key is bound to a bot; it cannot
/// change afterwards (409).
#[utoipa::path(put, path = "/v1/conversations/{id}", tag = "conversations", params(IdPath),
    request_body = ConversationBody,
    responses((status = 201, description = "Created", body = ConversationDoc),
              (status = 200, description = "Updated", body = ConversationDoc), ErrorResponses))]
async fn put_conversation(
    State(app): State<App>,
    Auth(principal): Auth,
    ApiPath(path): ApiPath<IdPath>,
    OptionalJson(body): OptionalJson<ConversationBody>,
) -> Result<(StatusCode, Json<Conversation>), ApiError> {
    principal.require(Role::Server)?;
    let now = Timestamp::now();
    let input = body.parse(&principal, &path.id, now)?;
    Ok(created_or_found(app.log_conversation(&principal.scope(), input, now).await?))
}

/// The transcript: the conversation and its messages in order.
#[utoipa::path(get, path = "/v1/conversations/{id}", tag = "conversations", params(IdPath),
    responses((status = 200, description = "The transcript", body = TranscriptDoc), ErrorResponses))]
async fn get_conversation(
    State(app): State<App>,
    Auth(principal): Auth,
    ApiPath(path): ApiPath<IdPath>,
) -> Result<Json<Transcript>, ApiError> {
    principal.require(Role::Server)?;
    let id = ClientId::parse("id", &path.id).map_err(|_| ApiError::NotFound("conversation".into()))?;
    Ok(Json(app.transcript(&principal.scope(), &id).await?))
}

/// Deletes a conversation and all it holds (admin): its messages, thumbs,
/// votes, CSAT answers and the golden examples made of it, with every
/// figure corrected as if it had never been. An unknown id is 404.
#[utoipa::path(delete, path = "/v1/conversations/{id}", tag = "conversations", params(IdPath),
    responses((status = 200, description = "Deleted", body = ConversationDeleted), ErrorResponses))]
async fn delete_conversation(
    State(app): State<App>,
    Auth(principal): Auth,
    ApiPath(path): ApiPath<IdPath>,
) -> Result<Json<ConversationDeleted>, ApiError> {
    principal.require(Role::Admin)?;
    let id = ClientId::parse("id", &path.id).map_err(|_| ApiError::NotFound("conversation".into()))?;
    let erased = app.delete_conversation(&principal, &id).await?;
    Ok(Json(ConversationDeleted { id: id.into_string(), erased }))
}

/// What an erasure removed.
#[derive(Serialize, ToSchema)]
#[schema(as = Erased)]
pub struct ErasedDoc {
    pub conversations: u64,
    pub messages: u64,
    pub feedback: u64,
    pub votes: u64,
    pub csat: u64,
    pub golden_examples: u64,
}

/// The answer of a deletion: what went with the conversation.
#[derive(Serialize, ToSchema)]
pub struct ConversationDeleted {
    pub id: String,
    #[schema(value_type = ErasedDoc)]
    pub erased: Erased,
}

/// Appends a message (201). Sending the same message again answers 200 with
/// the stored one; another message under a taken id is 409.
#[utoipa::path(post, path = "/v1/conversations/{id}/messages", tag = "conversations", params(IdPath),
    request_body = MessageBody,
    responses((status = 201, description = "Appended", body = MessageDoc),
              (status = 200, description = "Already there, unchanged", body = MessageDoc), ErrorResponses))]
async fn append_message(
    State(app): State<App>,
    Auth(principal): Auth,
    ApiPath(path): ApiPath<IdPath>,
    ApiJson(body): ApiJson<MessageBody>,
) -> Result<(StatusCode, Json<Message>), ApiError> {
    principal.require(Role::Server)?;
    let now = Timestamp::now();
    let input = body.parse(&path.id, now)?;
    Ok(created_or_found(app.append_message(&principal.scope(), input, now).await?))
}

/// Marks the conversation ended (resolved); ending it again changes nothing.
#[utoipa::path(post, path = "/v1/conversations/{id}/end", tag = "conversations", params(IdPath),
    responses((status = 200, description = "The ended conversation", body = ConversationDoc), ErrorResponses))]
async fn end_conversation(
    State(app): State<App>,
    Auth(principal): Auth,
    ApiPath(path): ApiPath<IdPath>,
) -> Result<Json<Conversation>, ApiError> {
    principal.require(Role::Server)?;
    let id = ClientId::parse("id", &path.id)?;
    Ok(Json(app.end_conversation(&principal.scope(), &id).await?))
}

/// Updates a message: a pending answer completes or fails, its content may
/// grow while pending; metadata may change at any time.
#[utoipa::path(patch, path = "/v1/messages/{id}", tag = "conversations", params(IdPath),
    request_body = MessageUpdateBody,
    responses((status = 200, description = "The updated message", body = MessageDoc), ErrorResponses))]
async fn update_message(
    State(app): State<App>,
    Auth(principal): Auth,
    ApiPath(path): ApiPath<IdPath>,
    ApiJson(body): ApiJson<MessageUpdateBody>,
) -> Result<Json<Message>, ApiError> {
    principal.require(Role::Server)?;
    let update = body.parse(&path.id)?;
    Ok(Json(app.update_message(&principal.scope(), update).await?))
}

/// The body of `PUT /v1/conversations/{id}` (and of a `conversation` event).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConversationBody {
    /// The bot this conversation belongs to; defaults to the key's bot.
    pub bot_id: Option<String>,
    /// The end user or visitor.
    pub contact_id: Option<String>,
    /// BCP 47 language tag, such as `fr-CA`.
    pub locale: Option<String>,
    /// Free JSON object; `variant`, `channel`, `tags` are conventional.
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Value>,
    /// Backfill: when the conversation started (server and admin keys).
    pub created_at: Option<String>,
}

/// The body of `POST /v1/conversations/{id}/messages`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageBody {
    /// Client-chosen id, unique in the account.
    pub id: String,
    pub role: MessageRole,
    pub content: String,
    /// The id of the chat request that produced this answer; unique in the account.
    pub request_id: Option<String>,
    /// Defaults to `completed`.
    pub status: Option<MessageStatus>,
    /// Free JSON object; `topic` (string) and `confidence` (0..1) are conventional.
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Value>,
    /// Backfill: when the message was sent (server and admin keys).
    pub created_at: Option<String>,
}

/// The body of `PATCH /v1/messages/{id}`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageUpdateBody {
    pub status: Option<MessageStatus>,
    pub content: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Value>,
}

/// A conversation as the API shows it.
#[derive(Serialize, ToSchema)]
#[schema(as = Conversation)]
pub struct ConversationDoc {
    pub id: String,
    pub bot_id: Uuid,
    pub contact_id: Option<String>,
    pub locale: Option<String>,
    #[schema(value_type = Object)]
    pub metadata: serde_json::Value,
    pub status: ConversationStatus,
    /// Its latest conversation-level signal (a vote or a CSAT answer).
    pub satisfaction: SatisfactionDoc,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub ended_at: Option<Timestamp>,
}

/// A conversation's satisfaction, as shown in the transcript and the inbox.
#[derive(Serialize, ToSchema)]
#[schema(as = Satisfaction)]
pub struct SatisfactionDoc {
    pub value: SatisfactionValue,
    /// The reason given with a negative signal, when there is one.
    pub negative_reason: Option<String>,
}

/// An inbox row: a conversation with its counts.
#[derive(Serialize, ToSchema)]
#[schema(as = ConversationRow)]
pub struct ConversationRowDoc {
    #[serde(flatten)]
    pub conversation: ConversationDoc,
    /// Messages, activity messages left out.
    pub message_count: i64,
    pub thumbs_up: i64,
    pub thumbs_down: i64,
}

/// A message as the API shows it.
#[derive(Serialize, ToSchema)]
#[schema(as = Message)]
pub struct MessageDoc {
    pub id: String,
    pub conversation_id: String,
    pub role: MessageRole,
    pub content: String,
    pub request_id: Option<String>,
    pub status: MessageStatus,
    #[schema(value_type = Object)]
    pub metadata: serde_json::Value,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A conversation with its messages in order, its votes, CSAT answers and satisfaction.
#[derive(Serialize, ToSchema)]
#[schema(as = Transcript)]
pub struct TranscriptDoc {
    #[serde(flatten)]
    pub conversation: ConversationDoc,
    pub messages: Vec<TranscriptMessageDoc>,
    pub votes: Vec<VoteDoc>,
    pub csat: Vec<CsatAnswerDoc>,
}

/// A message of a transcript; assistant answers carry their badges.
#[derive(Serialize, ToSchema)]
#[schema(as = TranscriptMessage)]
pub struct TranscriptMessageDoc {
    #[serde(flatten)]
    pub message: MessageDoc,
    pub feedback: Option<FeedbackBadgesDoc>,
}

/// The thumbs an assistant answer received.
#[derive(Serialize, ToSchema)]
#[schema(as = FeedbackBadges)]
pub struct FeedbackBadgesDoc {
    pub up: i64,
    pub down: i64,
    /// The current (not retracted) records.
    pub records: Vec<FeedbackDoc>,
}
