//! Knowledge gaps (at `/v1/recommendations`): the questions whose answers
//! were thumbed down, grouped by meaning, and answering a group with a
//! golden example.

use axum::{Json, extract::State, http::StatusCode};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{
    ApiError, ApiJson, ApiPath, ApiQuery, App, Auth, ErrorResponses, PageDoc, analytics::ReasonCountDoc,
    golden::GoldenExampleDoc,
};
use crate::domain::{
    Timestamp,
    access::Role,
    gaps::{GapExample, GapFilter, KnowledgeGap},
    golden::GoldenExample,
    ids::Uuid,
    page::{Page, PageRequest},
};

/// The knowledge-gap routes.
pub fn router() -> OpenApiRouter<App> {
    OpenApiRouter::new().routes(routes!(list_gaps)).routes(routes!(list_members)).routes(routes!(answer_gap))
}

/// Filters of the knowledge-gap routes.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GapQuery {
    pub bot_id: Option<String>,
    /// Thumbs-down given at or after; RFC 3339, or a date meaning its midnight in `tz`. Default: 30 days before `to`.
    pub from: Option<String>,
    /// Thumbs-down given before; RFC 3339 or a date. Default: tomorrow's midnight in `tz`.
    pub to: Option<String>,
    /// IANA time zone of bare dates (default UTC).
    pub tz: Option<String>,
    /// The conversations' language: `fr` takes `fr`, `FR` and `fr-CA`; `fr-CA` only `fr-CA`.
    pub locale: Option<String>,
    /// Groups a page, 1–500 (default 50).
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Questions whose answers were thumbed down, grouped by meaning so that
/// paraphrases land together; largest group first.
///
/// Groups live per bot and language over all time: the background worker
/// embeds each thumbed-down answer's question (the user message before it)
/// and regroups; `from`, `to` and `tz` only choose which thumbs-down are
/// counted (retracted ones never are), so a group keeps its id whatever the
/// period. Each names a representative question (its most central), the
/// number of thumbed-down answers in the period, a few of them newest first,
/// the count of the previous period of equal length, the most frequent
/// reasons, the first and last thumbs-down, and whether it was answered.
/// A question not grouped yet stands alone, marked `pending`.
#[utoipa::path(get, path = "/v1/recommendations", operation_id = "list_recommendations", tag = "knowledge gaps", params(GapQuery),
    responses((status = 200, description = "The groups, largest first", body = PageDoc<KnowledgeGapDoc>), ErrorResponses))]
async fn list_gaps(
    State(app): State<App>,
    Auth(principal): Auth,
    ApiQuery(q): ApiQuery<GapQuery>,
) -> Result<Json<Page<KnowledgeGap>>, ApiError> {
    principal.require(Role::Server)?;
    let filter = GapFilter::parse(
        q.bot_id.as_deref(),
        (q.from.as_deref(), q.to.as_deref(), q.tz.as_deref()),
        q.locale.as_deref(),
    )?;
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    Ok(Json(app.gaps(&principal.scope(), &filter, page).await?))
}

/// Paging through a group's members.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MembersQuery {
    /// Answers a page, 1–500 (default 50).
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Path of one knowledge gap.
#[derive(Debug, Deserialize, IntoParams)]
pub struct GapPath {
    /// The group's id, from `GET /v1/recommendations`, or the id it was
    /// listed under before it grew or merged.
    pub id: String,
}

/// Every thumbed-down answer of a knowledge gap, the most recently
/// thumbed down first (whatever the period): message, conversation,
/// question and when it was last thumbed down. The listing's `examples` are
/// a short sample of these. 404 for an id that names no group.
#[utoipa::path(get, path = "/v1/recommendations/{id}/members", operation_id = "list_recommendation_members", tag = "knowledge gaps", params(GapPath, MembersQuery),
    responses((status = 200, description = "The group's thumbed-down answers", body = PageDoc<GapExampleDoc>), ErrorResponses))]
async fn list_members(
    State(app): State<App>,
    Auth(principal): Auth,
    ApiPath(path): ApiPath<GapPath>,
    ApiQuery(q): ApiQuery<MembersQuery>,
) -> Result<Json<Page<GapExample>>, ApiError> {
    principal.require(Role::Server)?;
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    Ok(Json(app.gap_members(&principal.scope(), &path.id, page).await?))
}

/// Answers a knowledge gap (admin): the group's representative question and
/// the answer become a golden example (origin `knowledge_gap`).
///
/// Any id the group was listed under finds it, in any period. 400 for an
/// empty answer, 404 for an id that names no group, 409 when the group
/// already has an answer (delete that golden example to write another).
#[utoipa::path(post, path = "/v1/recommendations/{id}/answer", operation_id = "answer_recommendation", tag = "knowledge gaps", params(GapPath),
    request_body = AnswerBody,
    responses((status = 201, description = "The golden example made", body = GoldenExampleDoc), ErrorResponses))]
async fn answer_gap(
    State(app): State<App>,
    Auth(principal): Auth,
    ApiPath(path): ApiPath<GapPath>,
    ApiJson(body): ApiJson<AnswerBody>,
) -> Result<(StatusCode, Json<GoldenExample>), ApiError> {
    principal.require(Role::Admin)?;
    let golden = app.answer_gap(&principal, &path.id, &body.answer).await?;
    Ok((StatusCode::CREATED, Json(golden)))
}

/// The body of `POST /v1/recommendations/{id}/answer`.
#[derive(Debug, Clone, serde::Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswerBody {
    /// The ideal answer to the group's question.
    pub answer: String,
}

/// A group of paraphrased questions whose answers were thumbed down.
#[derive(Serialize, ToSchema)]
#[schema(as = KnowledgeGap)]
pub struct KnowledgeGapDoc {
    /// The id of the group's oldest thumbed-down answer: stable as paraphrases join.
    pub id: String,
    pub bot_id: Uuid,
    /// The language of the group's conversations (null: not given).
    pub locale: Option<String>,
    /// The representative: the group's most central question, as a user wrote it.
    pub question: String,
    /// Thumbed-down answers of the group in the period (an answer thumbed down by two users counts once).
    pub count: i64,
    /// The same in the previous period of equal length, just before `from`: is the gap growing?
    pub previous_count: i64,
    /// The reasons given most often with the group's thumbs-down (at most 3), folded as `/v1/analytics/reasons` folds them.
    pub reasons: Vec<ReasonCountDoc>,
    /// A few of them, newest first.
    pub example_message_ids: Vec<String>,
    /// The same answers with their conversation and question, newest first.
    pub examples: Vec<GapExampleDoc>,
    /// The first and the last thumbs-down of the group in the period.
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    /// A question not grouped yet (embedded and grouped by the background worker), listed alone until it is.
    pub pending: bool,
    /// Whether an answer was written for this group (or for a paraphrase of it).
    pub answered: bool,
    /// The golden example that answer became.
    pub golden_example_id: Option<Uuid>,
}

/// One thumbed-down answer of a group.
#[derive(Serialize, ToSchema)]
#[schema(as = GapExample)]
pub struct GapExampleDoc {
    /// The rated assistant answer.
    pub message_id: String,
    pub conversation_id: String,
    /// The question as the user asked it.
    pub question: String,
    /// When it was thumbed down (the latest thumb, if several users gave one).
    pub rated_at: Timestamp,
}
