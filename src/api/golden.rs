//! Golden examples: list, delete, and export as fine-tuning data.

use axum::{extract::State, http::StatusCode, response::Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{ApiError, ApiPath, ApiQuery, App, Auth, ErrorResponses, PageDoc};
use crate::{
    domain::{
        Timestamp,
        access::Role,
        feedback::FeedbackType,
        golden::{ExportFormat, GoldenExample},
        ids::Uuid,
        page::{Page, PageRequest},
    },
    http::download,
};

pub fn router() -> OpenApiRouter<App> {
    OpenApiRouter::new().routes(routes!(list_golden)).routes(routes!(export_golden)).routes(routes!(delete_golden))
}

/// Filters of the golden-example routes.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GoldenQuery {
    pub bot_id: Option<String>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// Export options.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// `openai` (chat fine-tuning JSONL), `jsonl` (default) or `csv`.
    pub format: Option<String>,
    pub bot_id: Option<String>,
}

/// Path of one golden example.
#[derive(Debug, Deserialize, IntoParams)]
pub struct GoldenPath {
    pub id: String,
}

fn bot_filter(raw: Option<&str>) -> Result<Option<Uuid>, ApiError> {
    Ok(raw.map(|b| Uuid::parse("bot_id", b)).transpose()?)
}

/// Golden examples, newest first.
#[utoipa::path(get, path = "/v1/golden-examples", tag = "golden examples", params(GoldenQuery),
    responses((status = 200, description = "A page of golden examples", body = PageDoc<GoldenExampleDoc>), ErrorResponses))]
async fn list_golden(
    State(app): State<App>,
    Auth(principal): Auth,
    ApiQuery(q): ApiQuery<GoldenQuery>,
) -> Result<axum::Json<Page<GoldenExample>>, ApiError> {
    principal.require(Role::Server)?;
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    let bot = bot_filter(q.bot_id.as_deref())?;
    Ok(axum::Json(app.golden_examples(&principal.scope(), bot.as_ref(), page).await?))
}

/// Deletes a golden example (admin).
#[utoipa::path(delete, path = "/v1/golden-examples/{id}", tag = "golden examples", params(GoldenPath),
    responses((status = 204, description = "Deleted"), ErrorResponses))]
async fn delete_golden(
    State(app): State<App>,
    Auth(principal): Auth,
    ApiPath(path): ApiPath<GoldenPath>,
) -> Result<StatusCode, ApiError> {
    principal.require(Role::Admin)?;
    let id = super::path_uuid(&path.id, "golden example")?;
    app.delete_golden(&principal, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Streams every golden example in `format`, a page at a time, so memory
/// stays flat however many there are.
#[utoipa::path(get, path = "/v1/golden-examples/export", tag = "golden examples", params(ExportQuery),
    responses((status = 200, description = "The examples, one a line (openai, jsonl) or as CSV rows",
               content_type = "application/x-ndjson", body = String), ErrorResponses))]
async fn export_golden(
    State(app): State<App>,
    Auth(principal): Auth,
    ApiQuery(q): ApiQuery<ExportQuery>,
) -> Result<Response, ApiError> {
    principal.require(Role::Server)?;
    let format = ExportFormat::parse(q.format.as_deref())?;
    let bot = bot_filter(q.bot_id.as_deref())?;
    Ok(download(app.export_golden(principal.scope(), bot, format).await?))
}

/// A golden example.
#[derive(Serialize, ToSchema)]
#[schema(as = GoldenExample)]
pub struct GoldenExampleDoc {
    pub id: Uuid,
    pub bot_id: Uuid,
    /// The feedback it was made from.
    pub feedback_id: Option<Uuid>,
    pub conversation_id: String,
    /// The rated answer.
    pub message_id: String,
    pub feedback_type: FeedbackType,
    /// `auto_approved`, `reviewed`, or `knowledge_gap` (an admin's answer to a
    /// group of thumbed-down questions, see `/v1/recommendations`).
    pub origin: String,
    /// The conversation before the rated answer.
    pub messages: Vec<TurnDoc>,
    /// The answer to learn: the rated answer, or the reviewer's correction.
    pub ideal_response: String,
    pub created_at: Timestamp,
    /// The knowledge gap it answers (`knowledge_gap` examples only).
    pub recommendation_id: Option<String>,
    /// Who made it: the reviewer who approved it or the person who answered
    /// the gap (`null` when it came from automatic approval).
    pub created_by: Option<String>,
    /// `user:<id>` or `key:<id>`.
    pub created_by_id: Option<String>,
}

/// One turn of a golden example's context.
#[derive(Serialize, ToSchema)]
#[schema(as = Turn)]
pub struct TurnDoc {
    /// `system`, `user` or `assistant`.
    pub role: String,
    pub content: String,
}
