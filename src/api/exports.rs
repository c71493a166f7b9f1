//! Conversation exports: every conversation that matches the inbox filters,
//! with its messages, feedback, votes, CSAT and satisfaction, streamed a page
//! at a time so that memory stays flat whatever the size.

use axum::{
    body::Body,
    extract::State,
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{ApiError, ApiQuery, AppState, Auth, ErrorResponses, conversations::InboxQuery};
use crate::{
    domain::{access::Role, page::PageRequest},
    export::{ConversationFormat, EXPORT_PAGE, stream},
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(export_conversations))
}

/// Export options: the format and the inbox's filters.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// `jsonl` (default) or `csv`.
    pub format: Option<String>,
    pub bot_id: Option<String>,
    /// upvote, downvote or unknown.
    pub feedback: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub q: Option<String>,
}

/// Streams the matching conversations.
#[utoipa::path(get, path = "/v1/exports/conversations", tag = "exports", params(ExportQuery),
    responses((status = 200, description = "One conversation a line (jsonl) or a CSV row",
               content_type = "application/x-ndjson", body = String), ErrorResponses))]
async fn export_conversations(
    State(state): State<AppState>,
    Auth(principal): Auth,
    ApiQuery(q): ApiQuery<ExportQuery>,
) -> Result<Response, ApiError> {
    principal.require(Role::Server)?;
    let format = ConversationFormat::parse(q.format.as_deref())?;
    let filter = InboxQuery {
        bot_id: q.bot_id,
        feedback: q.feedback,
        from: q.from,
        to: q.to,
        q: q.q,
        limit: None,
        cursor: None,
    }
    .filter()?;
    let scope = principal.scope();
    // The first page is read before answering: errors cannot follow a 200.
    let first = state.store.inbox(&scope, &filter, PageRequest::parse(Some(EXPORT_PAGE), None)?).await?;
    let chunks = stream(state.store.clone(), scope, filter, format, first);
    let body = Body::from_stream(futures_util::TryStreamExt::map_ok(chunks, |(chunk, _)| chunk));
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(format.content_type()));
    let name = if format == ConversationFormat::Csv { "conversations.csv" } else { "conversations.jsonl" };
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(response)
}
