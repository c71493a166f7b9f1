//! Message feedback: thumbs on answers, the review queue, and reviews.

use axum::{Json, extract::State, http::StatusCode};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{
    ApiError, ApiJson, ApiPath, ApiQuery, App, Auth, Caller, ErrorResponses, PageDoc, PageQuery, created_or_found,
};
use crate::domain::{
    DomainError, Timestamp,
    access::{Role, Source},
    feedback::{
        Feedback, FeedbackDetail, FeedbackFilter, FeedbackInput, FeedbackItem, FeedbackStatus, FeedbackType,
        MAX_REASON_CHARS, ReviewAction, ReviewRequest, optional_text,
    },
    ids::{ClientId, LocaleFilter, Uuid},
    page::Page,
};

/// The routes a browser may call with a public key and a feedback token.
pub fn router() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(submit_feedback, list_feedback))
        .routes(routes!(get_user_feedback, retract_feedback))
}

/// The reviewer's routes.
pub fn private_router() -> OpenApiRouter<App> {
    OpenApiRouter::new().routes(routes!(get_feedback)).routes(routes!(review_feedback))
}

/// Path of one message.
#[derive(Debug, Deserialize, IntoParams)]
pub struct MessagePath {
    /// The message id.
    pub id: String,
}

/// Path of one feedback record.
#[derive(Debug, Deserialize, IntoParams)]
pub struct FeedbackPath {
    /// The feedback id.
    pub id: String,
}

/// Whose feedback: defaults to the caller (the key, or the token's contact).
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserQuery {
    pub user_id: Option<String>,
}

/// Filters of the review queue.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QueueQuery {
    /// pending, auto_approved, reviewed or dismissed.
    pub status: Option<String>,
    /// positive or negative.
    pub feedback_type: Option<FeedbackType>,
    pub bot_id: Option<String>,
    /// Submitted at or after (RFC 3339 or YYYY-MM-DD, UTC).
    pub from: Option<String>,
    /// Submitted before (RFC 3339 or YYYY-MM-DD, UTC).
    pub to: Option<String>,
    /// The rated conversation's language: `fr` matches `fr` and `fr-CA`.
    pub locale: Option<String>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

impl FeedbackBody {
    /// The thumb as sent by `caller`, checked.
    pub fn parse(self, caller: &Caller, now: Timestamp) -> Result<FeedbackInput, DomainError> {
        let rater = caller.rater(self.user_id.as_deref(), self.created_at.is_some())?;
        Ok(FeedbackInput {
            message_id: ClientId::parse("message_id", &self.message_id)?,
            feedback_type: self.feedback_type,
            reason: optional_text("reason", self.reason.as_deref(), MAX_REASON_CHARS)?,
            rater,
            created_at: Timestamp::parse_backfill("created_at", self.created_at.as_deref(), now)?,
            reason_optional: false,
        })
    }
}

impl From<ReviewBody> for ReviewRequest {
    fn from(body: ReviewBody) -> Self {
        Self { action: body.action, corrected_response: body.corrected_response, note: body.note }
    }
}

/// Thumbs up or down on a completed assistant answer.
///
/// The same user and type again returns the record unchanged (200); a new
/// reason updates it; the other type switches it and starts its review over.
/// With auto-approval on for the type, new feedback is `auto_approved`, and
/// positive auto-approved feedback becomes a golden example at once.
#[utoipa::path(post, path = "/v1/feedback", tag = "feedback", request_body = FeedbackBody,
    responses((status = 201, description = "Recorded", body = FeedbackDoc),
              (status = 200, description = "Already there, or updated", body = FeedbackDoc), ErrorResponses))]
async fn submit_feedback(
    State(app): State<App>,
    caller: Caller,
    ApiJson(body): ApiJson<FeedbackBody>,
) -> Result<(StatusCode, Json<Feedback>), ApiError> {
    caller.principal.require(Role::Public)?;
    let now = Timestamp::now();
    let input = body.parse(&caller, now)?;
    Ok(created_or_found(app.submit_feedback(&caller, input, now).await?))
}

fn message_id(path: &MessagePath) -> Result<ClientId, ApiError> {
    ClientId::parse("id", &path.id).map_err(|_| ApiError::NotFound("message".into()))
}

/// A user's current feedback on a message, or `null` when there is none.
#[utoipa::path(get, path = "/v1/messages/{id}/feedback", tag = "feedback", params(MessagePath, UserQuery),
    responses((status = 200, description = "The record, or null", body = Option<FeedbackDoc>), ErrorResponses))]
async fn get_user_feedback(
    State(app): State<App>,
    caller: Caller,
    ApiPath(path): ApiPath<MessagePath>,
    ApiQuery(query): ApiQuery<UserQuery>,
) -> Result<Json<Option<Feedback>>, ApiError> {
    caller.principal.require(Role::Public)?;
    let id = message_id(&path)?;
    Ok(Json(app.user_feedback(&caller, &id, query.user_id.as_deref()).await?))
}

/// The user takes the thumb back: it leaves the counts and stays in the history.
#[utoipa::path(delete, path = "/v1/messages/{id}/feedback", tag = "feedback", params(MessagePath, UserQuery),
    responses((status = 200, description = "The retracted record", body = FeedbackDoc), ErrorResponses))]
async fn retract_feedback(
    State(app): State<App>,
    caller: Caller,
    ApiPath(path): ApiPath<MessagePath>,
    ApiQuery(query): ApiQuery<UserQuery>,
) -> Result<Json<Feedback>, ApiError> {
    caller.principal.require(Role::Public)?;
    let id = message_id(&path)?;
    Ok(Json(app.retract_feedback(&caller, &id, query.user_id.as_deref()).await?))
}

/// The review queue: feedback with the exchange it rates, newest first.
#[utoipa::path(get, path = "/v1/feedback", tag = "feedback", params(QueueQuery),
    responses((status = 200, description = "A page of feedback", body = PageDoc<FeedbackItemDoc>), ErrorResponses))]
async fn list_feedback(
    State(app): State<App>,
    Auth(principal): Auth,
    ApiQuery(q): ApiQuery<QueueQuery>,
) -> Result<Json<Page<FeedbackItem>>, ApiError> {
    principal.require(Role::Server)?;
    let filter = FeedbackFilter {
        status: q.status.as_deref().map(|s| FeedbackStatus::parse("status", s)).transpose()?,
        feedback_type: q.feedback_type,
        bot_id: q.bot_id.as_deref().map(|b| Uuid::parse("bot_id", b)).transpose()?,
        from: q.from.as_deref().map(|t| Timestamp::parse_instant("from", t)).transpose()?,
        to: q.to.as_deref().map(|t| Timestamp::parse_instant("to", t)).transpose()?,
        locale: q.locale.as_deref().filter(|l| !l.is_empty()).map(|l| LocaleFilter::parse("locale", l)).transpose()?,
    };
    let page = PageQuery { limit: q.limit, cursor: q.cursor }.parse()?;
    Ok(Json(app.review_queue(&principal.scope(), &filter, page).await?))
}

fn feedback_id(path: &FeedbackPath) -> Result<Uuid, ApiError> {
    super::path_uuid(&path.id, "feedback")
}

/// One feedback record with its full history.
#[utoipa::path(get, path = "/v1/feedback/{id}", tag = "feedback", params(FeedbackPath),
    responses((status = 200, description = "The record and its history", body = FeedbackDetailDoc), ErrorResponses))]
async fn get_feedback(
    State(app): State<App>,
    Auth(principal): Auth,
    ApiPath(path): ApiPath<FeedbackPath>,
) -> Result<Json<FeedbackDetail>, ApiError> {
    principal.require(Role::Server)?;
    Ok(Json(app.feedback_detail(&principal.scope(), &feedback_id(&path)?).await?))
}

/// Approves or dismisses feedback (admin).
///
/// Approving makes it `reviewed` and creates a golden example (negative
/// feedback needs `corrected_response`, which becomes the ideal answer);
/// dismissing withdraws any golden example. Repeating a decision changes nothing.
#[utoipa::path(post, path = "/v1/feedback/{id}/review", tag = "feedback", params(FeedbackPath), request_body = ReviewBody,
    responses((status = 200, description = "The reviewed record", body = FeedbackDoc), ErrorResponses))]
async fn review_feedback(
    State(app): State<App>,
    Auth(principal): Auth,
    ApiPath(path): ApiPath<FeedbackPath>,
    ApiJson(body): ApiJson<ReviewBody>,
) -> Result<Json<Feedback>, ApiError> {
    principal.require(Role::Admin)?;
    let id = feedback_id(&path)?;
    Ok(Json(app.review(&principal, &id, body.into()).await?))
}

/// The body of `POST /v1/feedback` (and of a `feedback` event).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FeedbackBody {
    /// The assistant message rated.
    pub message_id: String,
    pub feedback_type: FeedbackType,
    pub reason: Option<String>,
    /// Who gives the feedback; defaults to the caller (the key, or the token's contact).
    pub user_id: Option<String>,
    /// Backfill: when it was given (server and admin keys).
    pub created_at: Option<String>,
}

/// The body of `POST /v1/feedback/{id}/review`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewBody {
    pub action: ReviewAction,
    /// The ideal answer. Required to approve negative feedback.
    pub corrected_response: Option<String>,
    /// A note for other reviewers.
    pub note: Option<String>,
}

/// A feedback record as the API shows it.
#[derive(Serialize, ToSchema)]
#[schema(as = Feedback)]
pub struct FeedbackDoc {
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

/// A review-queue entry: the feedback with the exchange it rates.
#[derive(Serialize, ToSchema)]
#[schema(as = FeedbackItem)]
pub struct FeedbackItemDoc {
    #[serde(flatten)]
    pub feedback: FeedbackDoc,
    /// The rated answer.
    pub answer: String,
    /// The user's message just before it, if any.
    pub question: Option<String>,
}

/// A record with its full history, oldest first.
#[derive(Serialize, ToSchema)]
#[schema(as = FeedbackDetail)]
pub struct FeedbackDetailDoc {
    #[serde(flatten)]
    pub feedback: FeedbackDoc,
    pub history: Vec<FeedbackEventDoc>,
}

/// One entry of a record's history.
#[derive(Serialize, ToSchema)]
#[schema(as = FeedbackEvent)]
pub struct FeedbackEventDoc {
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
