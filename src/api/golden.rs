//! Golden examples: list, delete, and export as fine-tuning data.

use axum::{
    body::Body,
    extract::State,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{ApiError, ApiPath, ApiQuery, AppState, Auth, ErrorResponses};
use crate::{
    domain::{
        access::{Role, Scope},
        golden::{ExportFormat, GoldenExample},
        ids::Uuid,
        page::{MAX_LIMIT, Page, PageRequest},
    },
    store::StoreError,
};

pub fn router() -> OpenApiRouter<AppState> {
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
    responses((status = 200, description = "A page of golden examples", body = Page<GoldenExample>), ErrorResponses))]
async fn list_golden(
    State(state): State<AppState>,
    Auth(principal): Auth,
    ApiQuery(q): ApiQuery<GoldenQuery>,
) -> Result<axum::Json<Page<GoldenExample>>, ApiError> {
    principal.require(Role::Server)?;
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    let bot = bot_filter(q.bot_id.as_deref())?;
    Ok(axum::Json(state.store.list_golden(&principal.scope(), bot.as_ref(), page).await?))
}

/// Deletes a golden example (admin).
#[utoipa::path(delete, path = "/v1/golden-examples/{id}", tag = "golden examples", params(GoldenPath),
    responses((status = 204, description = "Deleted"), ErrorResponses))]
async fn delete_golden(
    State(state): State<AppState>,
    Auth(principal): Auth,
    ApiPath(path): ApiPath<GoldenPath>,
) -> Result<StatusCode, ApiError> {
    principal.require(Role::Admin)?;
    let id = Uuid::parse("id", &path.id).map_err(|_| ApiError::NotFound("golden example".into()))?;
    state.store.delete_golden(&principal.scope(), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Streams every golden example in `format`, a page at a time, so memory
/// stays flat however many there are.
#[utoipa::path(get, path = "/v1/golden-examples/export", tag = "golden examples", params(ExportQuery),
    responses((status = 200, description = "The examples, one a line (openai, jsonl) or as CSV rows",
               content_type = "application/x-ndjson", body = String), ErrorResponses))]
async fn export_golden(
    State(state): State<AppState>,
    Auth(principal): Auth,
    ApiQuery(q): ApiQuery<ExportQuery>,
) -> Result<Response, ApiError> {
    principal.require(Role::Server)?;
    let format = ExportFormat::parse(q.format.as_deref())?;
    let bot = bot_filter(q.bot_id.as_deref())?;
    Ok(download(&state, principal.scope(), bot, format).await?)
}

/// The golden examples in scope (of one bot, if given) as a streamed
/// download in `format`; the dashboard's download is this same answer.
pub async fn download(
    state: &AppState,
    scope: Scope,
    bot: Option<Uuid>,
    format: ExportFormat,
) -> Result<Response, StoreError> {
    // The first page is read before answering: errors cannot follow a 200.
    let first = state.store.list_golden(&scope, bot.as_ref(), PageRequest::parse(Some(MAX_LIMIT), None)?).await?;
    let store = state.store.clone();
    let fetch = move |cursor: String| {
        let (store, scope, bot) = (store.clone(), scope.clone(), bot.clone());
        async move {
            let request = PageRequest::parse(Some(MAX_LIMIT), Some(&cursor))?;
            store.list_golden(&scope, bot.as_ref(), request).await
        }
    };
    let whole = |examples| vec![examples];
    let load = move |examples: Vec<_>| {
        std::future::ready(Ok(crate::export::chunk_of(&examples, |e, out| {
            out.extend_from_slice(format.line(e).as_bytes())
        })))
    };
    let stream = crate::export::paged(format.header(), first, fetch, whole, load);
    let mut response =
        Body::from_stream(futures_util::TryStreamExt::map_ok(stream, |(chunk, _)| chunk)).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(format.content_type()));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"golden-examples.{}\"", format.extension())) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(response)
}
