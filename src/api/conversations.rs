//! Logging conversations and messages, and reading a transcript back.

use axum::{Json, extract::State, http::StatusCode};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{ApiError, ApiJson, ApiPath, ApiQuery, App, Auth, ErrorResponses, OptionalJson};
use crate::{
    domain::{
        Timestamp,
        access::{Principal, Role},
        analytics::{InboxFilter, SatisfactionFilter},
        conversation::{
            Conversation, ConversationBody, ConversationInput, ConversationRow, Message, MessageBody, MessageInput,
            MessageUpdate, MessageUpdateBody,
        },
        ids::{ClientId, Uuid},
        page::{Page, PageRequest},
        transcript::Transcript,
    },
    store::Recorded,
};

pub fn router() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(list_conversations))
        .routes(routes!(put_conversation, get_conversation))
        .routes(routes!(append_message))
        .routes(routes!(end_conversation))
        .routes(routes!(update_message))
}

/// Path of one conversation or message.
#[derive(Debug, Deserialize, IntoParams)]
pub struct IdPath {
    /// The client-chosen id.
    pub id: String,
}

/// The inbox's filters.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InboxQuery {
    pub bot_id: Option<String>,
    /// `upvote` (positive satisfaction), `downvote` (negative) or `unknown` (no signal).
    pub feedback: Option<String>,
    /// Started at or after (RFC 3339, or a date: midnight UTC).
    pub from: Option<String>,
    /// Started before.
    pub to: Option<String>,
    /// Text in a message, the conversation id or the contact id (case-insensitive).
    pub q: Option<String>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

impl InboxQuery {
    pub fn filter(&self) -> Result<InboxFilter, ApiError> {
        Ok(InboxFilter {
            bot_id: self.bot_id.as_deref().map(|b| Uuid::parse("bot_id", b)).transpose()?,
            feedback: self
                .feedback
                .as_deref()
                .filter(|f| !f.is_empty())
                .map(|f| SatisfactionFilter::parse("feedback", f))
                .transpose()?,
            from: self.from.as_deref().map(|t| Timestamp::parse_instant("from", t)).transpose()?,
            to: self.to.as_deref().map(|t| Timestamp::parse_instant("to", t)).transpose()?,
            q: self.q.clone(),
        })
    }
}

/// The inbox: conversations newest first, with satisfaction and thumbs counts.
#[utoipa::path(get, path = "/v1/conversations", tag = "conversations", params(InboxQuery),
    responses((status = 200, description = "A page of conversations", body = Page<ConversationRow>), ErrorResponses))]
async fn list_conversations(
    State(app): State<App>,
    Auth(principal): Auth,
    ApiQuery(q): ApiQuery<InboxQuery>,
) -> Result<Json<Page<ConversationRow>>, ApiError> {
    principal.require(Role::Server)?;
    let filter = q.filter()?;
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    Ok(Json(app.inbox(&principal.scope(), &filter, page).await?))
}

/// Checks a conversation body's bot against the key, before the store sees it.
pub(super) fn conversation_input(
    principal: &Principal,
    id: &str,
    body: ConversationBody,
    now: Timestamp,
) -> Result<ConversationInput, ApiError> {
    let mut input = ConversationInput::parse(id, body, now)?;
    if let Some(requested) = input.bot_id.take() {
        input.bot_id = Some(principal.resolve_bot(Some(requested))?);
    }
    Ok(input)
}

/// 201 with what a write made, 200 with what it found or updated.
pub(super) fn created_or_found<T>(recorded: Recorded<T>) -> (StatusCode, Json<T>) {
    (if recorded.created { StatusCode::CREATED } else { StatusCode::OK }, Json(recorded.value))
}

/// Creates a conversation (201) or updates its contact, locale and metadata (200).
///
/// `bot_id` is needed on creation unless the key is bound to a bot; it cannot
/// change afterwards (409).
#[utoipa::path(put, path = "/v1/conversations/{id}", tag = "conversations", params(IdPath),
    request_body = ConversationBody,
    responses((status = 201, description = "Created", body = Conversation),
              (status = 200, description = "Updated", body = Conversation), ErrorResponses))]
async fn put_conversation(
    State(app): State<App>,
    Auth(principal): Auth,
    ApiPath(path): ApiPath<IdPath>,
    OptionalJson(body): OptionalJson<ConversationBody>,
) -> Result<(StatusCode, Json<Conversation>), ApiError> {
    principal.require(Role::Server)?;
    let now = Timestamp::now();
    let input = conversation_input(&principal, &path.id, body, now)?;
    Ok(created_or_found(app.log_conversation(&principal.scope(), input, now).await?))
}

/// The transcript: the conversation and its messages in order.
#[utoipa::path(get, path = "/v1/conversations/{id}", tag = "conversations", params(IdPath),
    responses((status = 200, description = "The transcript", body = Transcript), ErrorResponses))]
async fn get_conversation(
    State(app): State<App>,
    Auth(principal): Auth,
    ApiPath(path): ApiPath<IdPath>,
) -> Result<Json<Transcript>, ApiError> {
    principal.require(Role::Server)?;
    let id = ClientId::parse("id", &path.id).map_err(|_| ApiError::NotFound("conversation".into()))?;
    Ok(Json(app.transcript(&principal.scope(), &id).await?))
}

/// Appends a message (201). Sending the same message again answers 200 with
/// the stored one; another message under a taken id is 409.
#[utoipa::path(post, path = "/v1/conversations/{id}/messages", tag = "conversations", params(IdPath),
    request_body = MessageBody,
    responses((status = 201, description = "Appended", body = Message),
              (status = 200, description = "Already there, unchanged", body = Message), ErrorResponses))]
async fn append_message(
    State(app): State<App>,
    Auth(principal): Auth,
    ApiPath(path): ApiPath<IdPath>,
    ApiJson(body): ApiJson<MessageBody>,
) -> Result<(StatusCode, Json<Message>), ApiError> {
    principal.require(Role::Server)?;
    let now = Timestamp::now();
    let input = MessageInput::parse(&path.id, body, now)?;
    Ok(created_or_found(app.append_message(&principal.scope(), input, now).await?))
}

/// Marks the conversation ended (resolved); ending it again changes nothing.
#[utoipa::path(post, path = "/v1/conversations/{id}/end", tag = "conversations", params(IdPath),
    responses((status = 200, description = "The ended conversation", body = Conversation), ErrorResponses))]
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
    responses((status = 200, description = "The updated message", body = Message), ErrorResponses))]
async fn update_message(
    State(app): State<App>,
    Auth(principal): Auth,
    ApiPath(path): ApiPath<IdPath>,
    ApiJson(body): ApiJson<MessageUpdateBody>,
) -> Result<Json<Message>, ApiError> {
    principal.require(Role::Server)?;
    let update = MessageUpdate::parse(&path.id, body)?;
    Ok(Json(app.update_message(&principal.scope(), update).await?))
}
