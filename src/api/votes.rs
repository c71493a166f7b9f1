//! Conversation votes: up or down, one per voter per window.

use axum::{Json, extract::State};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{
    ApiError, ApiPath, ApiQuery, App, Auth, Caller, ErrorResponses, OptionalJson, PageQuery, conversations::IdPath,
};
use crate::domain::{
    Timestamp,
    access::Role,
    feedback::{MAX_REASON_CHARS, optional_text},
    ids::ClientId,
    page::Page,
    vote::{Direction, Vote, VoteAck, VoteBody, VoteInput},
};

pub fn router() -> OpenApiRouter<App> {
    OpenApiRouter::new().routes(routes!(upvote)).routes(routes!(downvote))
}

/// The votes listing is for secret keys, outside the browser-facing routes.
pub fn private_router() -> OpenApiRouter<App> {
    OpenApiRouter::new().routes(routes!(list_votes))
}

/// Turns a vote body into the vote it records.
pub(super) fn vote_input(
    caller: &Caller,
    conversation_id: &str,
    direction: Direction,
    body: VoteBody,
    now: Timestamp,
) -> Result<VoteInput, ApiError> {
    let conversation_id = ClientId::parse("conversation_id", conversation_id)?;
    let rater = caller.rater(body.user_id.as_deref(), body.created_at.is_some())?;
    Ok(VoteInput {
        conversation_id,
        direction,
        value: direction.value(body.value)?,
        reason: optional_text("reason", body.reason.as_deref(), MAX_REASON_CHARS)?,
        rater,
        created_at: body.created_at.as_deref().map(|t| Timestamp::parse_backfill("created_at", t, now)).transpose()?,
    })
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
    let input = vote_input(caller, id, direction, body, now)?;
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
    responses((status = 200, description = "Recorded, or already voted within the window", body = VoteAck), ErrorResponses))]
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
    responses((status = 200, description = "Recorded, or already voted within the window", body = VoteAck), ErrorResponses))]
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
    responses((status = 200, description = "A page of votes", body = Page<Vote>), ErrorResponses))]
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
