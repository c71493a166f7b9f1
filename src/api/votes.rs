//! Conversation votes: up or down, one per voter per window.

use axum::{Json, extract::State};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{ApiError, ApiPath, ApiQuery, App, Auth, Caller, ErrorResponses, IdPath, OptionalJson, PageDoc, PageQuery};
use crate::domain::{
    DomainError, Timestamp,
    access::{Role, Source},
    feedback::{MAX_REASON_CHARS, optional_text},
    ids::{ClientId, Uuid},
    page::Page,
    vote::{Direction, Vote, VoteAck, VoteInput},
};

pub fn router() -> OpenApiRouter<App> {
    OpenApiRouter::new().routes(routes!(upvote)).routes(routes!(downvote))
}

/// The votes listing is for secret keys, outside the browser-facing routes.
pub fn private_router() -> OpenApiRouter<App> {
    OpenApiRouter::new().routes(routes!(list_votes))
}

impl VoteBody {
    /// The vote in `direction` on conversation `conversation_id` as sent by `caller`, checked.
    pub fn parse(
        self,
        caller: &Caller,
        conversation_id: &str,
        direction: Direction,
        now: Timestamp,
    ) -> Result<VoteInput, DomainError> {
        let conversation_id = ClientId::parse("conversation_id", conversation_id)?;
        let rater = caller.rater(self.user_id.as_deref(), self.created_at.is_some())?;
        Ok(VoteInput {
            conversation_id,
            direction,
            value: direction.value(self.value)?,
            reason: optional_text("reason", self.reason.as_deref(), MAX_REASON_CHARS)?,
            rater,
            created_at: Timestamp::parse_backfill("created_at", self.created_at.as_deref(), now)?,
        })
    }
}

async fn vote(
    app: &App,
    caller: &Caller,
    id: &str,
    direction: Direction,
    body: VoteBody,
) -> Result<Json<VoteAck>, ApiError> {
    caller.principal.require(Role::Public)?;
    let now = Timestamp::now();
    let input = body.parse(caller, id, direction, now)?;
    Ok(Json(app.vote(caller, input, now).await?.ack))
}

/// Upvotes a conversation. Both fields are optional (`value` 1..100, default 100).
///
/// One vote per voter per conversation per `vote_window_seconds`: a second
/// vote of either direction inside the window answers the same 200 and
/// records nothing. A recorded vote also writes an activity message into the
/// conversation, in the same transaction.
#[utoipa::path(post, path = "/v1/conversations/{id}/upvote", tag = "votes", params(IdPath),
    request_body(content = VoteBody, description = "Optional; an empty body is a full-strength upvote"),
    responses((status = 200, description = "Recorded, or already voted within the window", body = VoteAckDoc), ErrorResponses))]
async fn upvote(
    State(app): State<App>,
    caller: Caller,
    ApiPath(path): ApiPath<IdPath>,
    OptionalJson(body): OptionalJson<VoteBody>,
) -> Result<Json<VoteAck>, ApiError> {
    vote(&app, &caller, &path.id, Direction::Up, body).await
}

/// Downvotes a conversation (`value` -100..-1, default -100); same rules as upvotes.
#[utoipa::path(post, path = "/v1/conversations/{id}/downvote", tag = "votes", params(IdPath),
    request_body(content = VoteBody, description = "Optional; an empty body is a full-strength downvote"),
    responses((status = 200, description = "Recorded, or already voted within the window", body = VoteAckDoc), ErrorResponses))]
async fn downvote(
    State(app): State<App>,
    caller: Caller,
    ApiPath(path): ApiPath<IdPath>,
    OptionalJson(body): OptionalJson<VoteBody>,
) -> Result<Json<VoteAck>, ApiError> {
    vote(&app, &caller, &path.id, Direction::Down, body).await
}

/// A conversation's votes, newest first.
#[utoipa::path(get, path = "/v1/conversations/{id}/votes", tag = "votes", params(IdPath, PageQuery),
    responses((status = 200, description = "A page of votes", body = PageDoc<VoteDoc>), ErrorResponses))]
async fn list_votes(
    State(app): State<App>,
    Auth(principal): Auth,
    ApiPath(path): ApiPath<IdPath>,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> Result<Json<Page<Vote>>, ApiError> {
    principal.require(Role::Server)?;
    let id = ClientId::parse("id", &path.id).map_err(|_| ApiError::NotFound("conversation".into()))?;
    Ok(Json(app.votes(&principal.scope(), &id, page.parse()?).await?))
}

/// The body of `POST /v1/conversations/{id}/upvote` and `/downvote`; every field is optional.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VoteBody {
    /// 1..100 for an upvote (default 100), -100..-1 for a downvote (default -100).
    pub value: Option<i64>,
    pub reason: Option<String>,
    /// The voter; defaults to the caller (the key, or the token's contact).
    pub user_id: Option<String>,
    /// Backfill: when the vote was cast (server and admin keys).
    pub created_at: Option<String>,
}

/// The answer of the vote routes, the same whether the vote was recorded or
/// was a duplicate inside the window.
#[derive(Serialize, ToSchema)]
#[schema(as = VoteAck)]
pub struct VoteAckDoc {
    pub conversation_id: String,
    /// `upvote` or `downvote`.
    pub vote: String,
}

/// A recorded vote.
#[derive(Serialize, ToSchema)]
#[schema(as = Vote)]
pub struct VoteDoc {
    pub id: Uuid,
    pub conversation_id: String,
    pub bot_id: Uuid,
    pub contact_id: Option<String>,
    pub user_id: String,
    pub direction: Direction,
    pub value: i64,
    pub reason: Option<String>,
    pub source: Source,
    /// The activity message written into the conversation with the vote.
    pub activity_message_id: String,
    pub created_at: Timestamp,
}
