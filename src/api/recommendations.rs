//! Knowledge gaps (recommendations): the questions whose answers were thumbed
//! down, grouped by similarity, and answering a group with a golden example.
//!
//! Groups are not stored: each listing reads the most recent thumbs-down
//! (at most [`MAX_ROWS`]) and groups them with the pure rules of
//! [`crate::domain::gaps`], so they follow the data as it changes. What is
//! stored is an answer: a golden example that names its group.

use axum::{Json, extract::State, http::StatusCode};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{ApiError, ApiJson, ApiPath, ApiQuery, App, Auth, ErrorResponses};
use crate::{
    app::GapFilter,
    domain::{
        access::Role,
        gaps::{AnswerBody, KnowledgeGap},
        golden::GoldenExample,
        page::{Page, PageRequest},
    },
};

/// The knowledge-gap routes.
pub fn router() -> OpenApiRouter<App> {
    OpenApiRouter::new().routes(routes!(list_recommendations)).routes(routes!(answer_recommendation))
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
    /// Groups a page, 1–500 (default 50).
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Questions whose answers were thumbed down, grouped by similarity so that
/// paraphrases land together; largest group first.
///
/// Reads the most recent 2,000 current thumbs-down of the period (retracted
/// ones left out), each with the user message before the rated answer.
/// Groups are per bot; each names a representative question (its most
/// frequent phrasing), the number of thumbed-down answers, a few of them
/// newest first, the first and last thumbs-down, and whether it was answered.
#[utoipa::path(get, path = "/v1/recommendations", tag = "knowledge gaps", params(GapQuery),
    responses((status = 200, description = "The groups, largest first", body = Page<KnowledgeGap>), ErrorResponses))]
async fn list_recommendations(
    State(app): State<App>,
    Auth(principal): Auth,
    ApiQuery(q): ApiQuery<GapQuery>,
) -> Result<Json<Page<KnowledgeGap>>, ApiError> {
    principal.require(Role::Server)?;
    let filter = GapFilter::parse(q.bot_id.as_deref(), q.from.as_deref(), q.to.as_deref(), q.tz.as_deref())?;
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    Ok(Json(app.gaps(&principal.scope(), &filter, page).await?))
}

/// Where `POST /v1/recommendations/{id}/answer` looks for the group: the
/// filters of the listing the id came from.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AnswerQuery {
    pub bot_id: Option<String>,
    /// As in the listing (default: 30 days before `to`).
    pub from: Option<String>,
    /// As in the listing (default: tomorrow's midnight in `tz`).
    pub to: Option<String>,
    /// IANA time zone of bare dates (default UTC).
    pub tz: Option<String>,
}

/// Path of one knowledge gap.
#[derive(Debug, Deserialize, IntoParams)]
pub struct GapPath {
    /// The group's id, from `GET /v1/recommendations`.
    pub id: String,
}

/// Answers a knowledge gap (admin): the group's representative question and
/// the answer become a golden example (origin `knowledge_gap`).
///
/// Send the filters of the listing the id came from (`bot_id`, `from`, `to`,
/// `tz`; the same defaults). 400 for an empty answer, 404 for an id that
/// names no group, 409 when the group already has an answer (delete that
/// golden example to write another).
#[utoipa::path(post, path = "/v1/recommendations/{id}/answer", tag = "knowledge gaps", params(GapPath, AnswerQuery),
    request_body = AnswerBody,
    responses((status = 201, description = "The golden example made", body = GoldenExample), ErrorResponses))]
async fn answer_recommendation(
    State(app): State<App>,
    Auth(principal): Auth,
    ApiPath(path): ApiPath<GapPath>,
    ApiQuery(q): ApiQuery<AnswerQuery>,
    ApiJson(body): ApiJson<AnswerBody>,
) -> Result<(StatusCode, Json<GoldenExample>), ApiError> {
    principal.require(Role::Admin)?;
    let filter = GapFilter::parse(q.bot_id.as_deref(), q.from.as_deref(), q.to.as_deref(), q.tz.as_deref())?;
    let golden = app.answer_gap(&principal.scope(), &filter, &path.id, &body.answer).await?;
    Ok((StatusCode::CREATED, Json(golden)))
}
