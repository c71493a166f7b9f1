//! `POST /api/v1/m2m/sites/{site_id}/chat/feedback`: good/bad feedback on a
//! chat request, with the request and answer bodies of seed 004.
//!
//! `site_id` is the bot, `session_id` the conversation, `request_id` the
//! assistant message's `request_id`. `good`/`bad` become positive/negative
//! message feedback in the same record the native API uses, given by the
//! session's contact (or `session:<id>` when the conversation has none).

use axum::{
    Json,
    body::Bytes,
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    app::App,
    domain::{
        Timestamp,
        access::Source,
        access::{Principal, Rater, Role},
        feedback::{FeedbackInput, FeedbackType, MAX_REASON_CHARS, optional_text},
        ids::{ClientId, Uuid},
        text,
        token::Caller,
    },
    http::{ApiError, Auth},
};

pub fn router() -> OpenApiRouter<App> {
    OpenApiRouter::new().routes(routes!(submit))
}

/// The request body.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RequestFeedbackBody {
    /// The session (conversation) id of the chat request.
    pub session_id: String,
    /// The chat request's id.
    pub request_id: String,
    /// `good` or `bad`.
    pub feedback: String,
    /// An extension of the seed's body: why, stored like a native reason
    /// (at most 2,000 characters). The bot's required reasons do not apply
    /// to this door.
    pub reason: Option<String>,
}

/// The success body.
#[derive(Debug, Serialize, ToSchema)]
pub struct RequestFeedbackOk {
    /// `ok`
    pub status: &'static str,
    pub request_id: String,
    pub feedback: String,
    /// When the current value was given; a repeat of the same value keeps the original time.
    pub feedback_submitted_at: Timestamp,
}

/// The error body: `{"error": "..."}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct CompatError {
    pub error: String,
}

fn fail(status: StatusCode, error: &str) -> Response {
    (status, Json(CompatError { error: error.to_owned() })).into_response()
}

const NOT_FOUND: &str = "request not found";
const NOT_COMPLETED: &str = "feedback can only be submitted for completed responses";
const BAD_FEEDBACK: &str = "feedback must be 'good' or 'bad'";

/// The native error, said the way this platform says it.
fn from_api(e: ApiError) -> Response {
    let status = e.status_code();
    let body = e.body();
    let retry_after = match &e {
        ApiError::RateLimited { retry_after_secs } => {
            axum::http::HeaderValue::from_str(&retry_after_secs.to_string()).ok()
        }
        _ => None,
    };
    if status.is_server_error() {
        // Rendering the native error logs its cause; the client gets the short form.
        drop(e.into_response());
    }
    let error = match status {
        StatusCode::NOT_FOUND => NOT_FOUND.to_owned(),
        StatusCode::CONFLICT if body.error == "message_not_completed" => NOT_COMPLETED.to_owned(),
        StatusCode::BAD_REQUEST => body.message,
        _ => body.error,
    };
    let mut response = fail(status, &error);
    if let Some(v) = retry_after {
        response.headers_mut().insert(axum::http::header::RETRY_AFTER, v);
    }
    response
}

fn field<'a>(body: &'a Value, name: &str) -> Option<&'a str> {
    body.get(name).and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// Records good or bad feedback on a completed chat request.
#[utoipa::path(post, path = "/api/v1/m2m/sites/{site_id}/chat/feedback", tag = "compatibility",
    params(("site_id" = String, Path, description = "The bot's UUID")),
    request_body = RequestFeedbackBody,
    responses((status = 200, description = "Recorded (or already recorded)", body = RequestFeedbackOk),
              (status = 400, description = "Missing or invalid fields", body = CompatError),
              (status = 401, description = "invalid_api_key", body = CompatError),
              (status = 403, description = "api_access_not_available_on_plan", body = CompatError),
              (status = 404, description = "request not found", body = CompatError),
              (status = 409, description = "the response is not completed", body = CompatError),
              (status = 500, description = "internal", body = CompatError)))]
async fn submit(
    State(app): State<App>,
    auth: Result<Auth, ApiError>,
    Path(site_id): Path<String>,
    body: Bytes,
) -> Response {
    let principal = match auth {
        Ok(Auth(p)) => p,
        Err(e) => return from_api(e),
    };
    if principal.require(Role::Server).is_err() {
        return fail(StatusCode::FORBIDDEN, "forbidden");
    }
    let Ok(site) = Uuid::parse("site_id", &site_id) else {
        return fail(StatusCode::BAD_REQUEST, "site_id must be a valid UUID");
    };
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return fail(StatusCode::BAD_REQUEST, "the body must be a JSON object");
    };
    let (Some(session_id), Some(request_id)) = (field(&body, "session_id"), field(&body, "request_id")) else {
        let missing = if field(&body, "session_id").is_none() { "session_id" } else { "request_id" };
        return fail(StatusCode::BAD_REQUEST, &format!("{missing} is required"));
    };
    let feedback_type = match field(&body, "feedback") {
        Some("good") => FeedbackType::Positive,
        Some("bad") => FeedbackType::Negative,
        _ => return fail(StatusCode::BAD_REQUEST, BAD_FEEDBACK),
    };
    // An extension of the seed's body: an optional reason, stored like a native one.
    let reason = match body.get("reason") {
        None | Some(Value::Null) => None,
        Some(Value::String(r)) => match optional_text("reason", Some(r), MAX_REASON_CHARS)
            .and_then(|r| r.map(|r| text::refuse_nul("reason", &r).map(|()| r)).transpose())
        {
            Ok(reason) => reason,
            Err(e) => return from_api(e.into()),
        },
        Some(_) => return fail(StatusCode::BAD_REQUEST, "reason must be a string"),
    };
    match record(&app, &principal, &site, session_id, request_id, feedback_type, reason).await {
        Ok(submitted_at) => Json(RequestFeedbackOk {
            status: "ok",
            request_id: request_id.to_owned(),
            feedback: if feedback_type == FeedbackType::Positive { "good" } else { "bad" }.to_owned(),
            feedback_submitted_at: submitted_at,
        })
        .into_response(),
        Err(e) => from_api(e),
    }
}

async fn record(
    app: &App,
    principal: &Principal,
    site: &Uuid,
    session_id: &str,
    request_id: &str,
    feedback_type: FeedbackType,
    reason: Option<String>,
) -> Result<Timestamp, ApiError> {
    let scope = principal.scope();
    let found = app.message_by_request_id(&scope, request_id).await?;
    let Some(found) = found.filter(|m| &m.bot_id == site && m.message.conversation_id == session_id) else {
        return Err(ApiError::NotFound("request".into()));
    };
    let conversation_id =
        ClientId::parse("session_id", session_id).map_err(|_| ApiError::NotFound("request".into()))?;
    let conversation = app.conversation(&scope, &conversation_id).await?;
    let user_id = conversation.contact_id.unwrap_or_else(|| format!("session:{session_id}"));
    let input = FeedbackInput {
        message_id: ClientId::parse("request_id", &found.message.id)?,
        feedback_type,
        reason,
        rater: Rater { user_id, source: Source::Api },
        created_at: None,
        // The seed's body has no reason: a bot's required reasons do not refuse this door.
        reason_optional: true,
    };
    let caller = Caller::key(principal.clone());
    Ok(app.submit_feedback(&caller, input, Timestamp::now()).await?.value.submitted_at)
}
