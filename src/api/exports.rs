//! Conversation exports: every conversation that matches the inbox filters,
//! with its messages, feedback, votes, CSAT and satisfaction, streamed a page
//! at a time so that memory stays flat whatever the size.

use axum::{extract::State, response::Response};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{ApiError, ApiQuery, App, Auth, ErrorResponses, conversations::InboxQuery};
use crate::{
    domain::{access::Role, transcript::ConversationFormat},
    http::download,
};

pub fn router() -> OpenApiRouter<App> {
    OpenApiRouter::new().routes(routes!(export_conversations))
}

/// Export options: the format and the inbox's filters.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// `jsonl` (default) or `csv`.
    pub format: Option<String>,
    pub bot_id: Option<String>,
    /// The conversation's satisfaction: upvote, downvote or unknown.
    pub feedback: Option<String>,
    /// `down` (or `up`): at least one current thumbs-down (or up) on an answer.
    pub thumbs: Option<String>,
    /// The conversation's language: `fr` matches `fr` and `fr-CA`.
    pub locale: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    /// Text in a message, the conversation id or the contact id (case-insensitive).
    pub q: Option<String>,
    /// Exactly this contact's conversations.
    pub contact_id: Option<String>,
}

/// Streams the matching conversations.
#[utoipa::path(get, path = "/v1/exports/conversations", tag = "exports", params(ExportQuery),
    responses((status = 200, description = "One conversation a line (jsonl) or a CSV row",
               content_type = "application/x-ndjson", body = String), ErrorResponses))]
async fn export_conversations(
    State(app): State<App>,
    Auth(principal): Auth,
    ApiQuery(q): ApiQuery<ExportQuery>,
) -> Result<Response, ApiError> {
    principal.require(Role::Server)?;
    let format = ConversationFormat::parse(q.format.as_deref())?;
    let filter = InboxQuery {
        bot_id: q.bot_id,
        feedback: q.feedback,
        thumbs: q.thumbs,
        locale: q.locale,
        from: q.from,
        to: q.to,
        q: q.q,
        contact_id: q.contact_id,
        limit: None,
        cursor: None,
    }
    .parse()?;
    Ok(download(app.export_conversations(principal.scope(), filter, format).await?))
}
