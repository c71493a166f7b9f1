//! `POST /v1/ingest`: many writes in one request.
//!
//! Each event is the body of the matching endpoint plus a `type`; events
//! apply in order, each on its own, and the answer reports every one.

use axum::{Json, extract::State};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{
    ApiError, AppState, Auth, Caller, ErrorResponses,
    conversations::conversation_command,
    extract::{JsonObject, parse_json},
    feedback::feedback_command,
    invalid_field,
    rating::csat_command,
    votes::vote_command,
};
use crate::{
    domain::{
        DomainError, Timestamp,
        access::{Principal, Role},
        conversation::{MessageInput, MessageUpdate},
        ids::ClientId,
        vote::Direction,
    },
    store::Command,
};

/// Most events in one batch.
pub const MAX_EVENTS: usize = 1000;

/// Batches parsed and applied at once by this process; a further batch
/// waits, its body already read, until one of them is answered. All events
/// go through one writer, so more batches in flight commit no more events a
/// second; they only hold more parsed events in memory.
pub const IN_FLIGHT: usize = 8;

static APPLYING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(IN_FLIGHT);

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(ingest))
}

/// The body of `POST /v1/ingest`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IngestBody {
    /// Up to 1,000 events: `{"type": "conversation" | "message" | "message_update" |
    /// "conversation_end" | "vote" | "feedback" | "csat", ...the body of the matching
    /// endpoint}`. A `conversation`, `message_update` and `conversation_end` event
    /// carries the `id`; `message`, `vote` and `csat` events carry `conversation_id`;
    /// a `vote` also carries `direction` (`up` or `down`).
    #[schema(value_type = Vec<Object>)]
    pub events: Vec<Value>,
}

/// What happened to one event.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventResult {
    /// The event's position in the batch.
    pub index: usize,
    pub ok: bool,
    /// The status the matching endpoint would have answered.
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// The answer of `POST /v1/ingest`, in the order of the events.
#[derive(Debug, Serialize, ToSchema)]
pub struct IngestResponse {
    pub results: Vec<EventResult>,
}

fn take_string(event: &mut Map<String, Value>, key: &str) -> Result<String, DomainError> {
    match event.remove(key) {
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(DomainError::invalid(key, "must be a string")),
        None => Err(DomainError::invalid(key, "is required for this event type")),
    }
}

fn body<T: serde::de::DeserializeOwned>(event: Map<String, Value>) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(Value::Object(event))
        .map_err(|e| invalid_field(&e.path().to_string(), &e.into_inner().to_string()))
}

/// Turns one raw event into the command its endpoint would run.
fn parse_event(principal: &Principal, raw: Value, now: Timestamp) -> Result<Command, ApiError> {
    let Value::Object(mut event) = raw else {
        return Err(DomainError::invalid("event", "must be a JSON object").into());
    };
    let kind = take_string(&mut event, "type")?;
    match kind.as_str() {
        "conversation" => {
            let id = take_string(&mut event, "id")?;
            conversation_command(principal, &id, body(event)?, now)
        }
        "message" => {
            let conversation_id = take_string(&mut event, "conversation_id")?;
            Ok(Command::AppendMessage(MessageInput::parse(&conversation_id, body(event)?, now)?))
        }
        "message_update" => {
            let id = take_string(&mut event, "id")?;
            Ok(Command::UpdateMessage(MessageUpdate::parse(&id, body(event)?)?))
        }
        "conversation_end" => {
            let id = take_string(&mut event, "id")?;
            if let Some(extra) = event.keys().next() {
                return Err(DomainError::invalid(extra.as_str(), "is not a field of a conversation_end event").into());
            }
            Ok(Command::EndConversation(ClientId::parse("id", &id)?))
        }
        "vote" => {
            let conversation_id = take_string(&mut event, "conversation_id")?;
            let direction = match take_string(&mut event, "direction")?.as_str() {
                "up" => Direction::Up,
                "down" => Direction::Down,
                _ => return Err(DomainError::invalid("direction", "must be up or down").into()),
            };
            vote_command(&caller(principal), &conversation_id, direction, body(event)?, now)
        }
        "feedback" => feedback_command(&caller(principal), body(event)?, now),
        "csat" => {
            let conversation_id = take_string(&mut event, "conversation_id")?;
            csat_command(&caller(principal), &conversation_id, body(event)?, now)
        }
        other => Err(DomainError::invalid(
            "type",
            format!(
                "unknown event type '{other}'; expected conversation, message, message_update, conversation_end, \
                 vote, feedback or csat"
            ),
        )
        .into()),
    }
}

/// Batches come from server keys, never through a feedback token.
fn caller(principal: &Principal) -> Caller {
    Caller { principal: principal.clone(), token: None }
}

fn failure(index: usize, error: ApiError) -> EventResult {
    let body = error.body();
    EventResult {
        index,
        ok: false,
        status: error.status_code().as_u16(),
        error: Some(body.error),
        message: Some(match body.field {
            Some(field) if !body.message.starts_with(&field) => format!("{field}: {}", body.message),
            _ => body.message,
        }),
    }
}

/// Applies a batch of events in order; one bad event does not sink the others.
///
/// The answer is 200 whenever the batch itself was readable, with one result
/// per event. Events that parse are committed together before the answer.
#[utoipa::path(post, path = "/v1/ingest", tag = "ingest", request_body = IngestBody,
    responses((status = 200, description = "One result per event, in order", body = IngestResponse), ErrorResponses))]
async fn ingest(
    State(state): State<AppState>,
    Auth(principal): Auth,
    JsonObject(body): JsonObject,
) -> Result<Json<IngestResponse>, ApiError> {
    principal.require(Role::Server)?;
    let _turn = APPLYING.acquire().await.map_err(|e| ApiError::Unavailable(e.to_string()))?;
    let batch: IngestBody = parse_json(&body)?;
    drop(body);
    if batch.events.len() > MAX_EVENTS {
        return Err(ApiError::bad_request("events", format!("events: at most {MAX_EVENTS} events a batch")));
    }
    let now = Timestamp::now();
    let total = batch.events.len();
    let mut results: Vec<Option<EventResult>> = (0..total).map(|_| None).collect();
    let mut commands = Vec::with_capacity(total);
    let mut positions = Vec::with_capacity(total);
    for (index, raw) in batch.events.into_iter().enumerate() {
        match parse_event(&principal, raw, now) {
            Ok(command) => {
                commands.push(command);
                positions.push(index);
            }
            Err(e) => {
                let e = match e {
                    ApiError::BadRequest { code, message, field } => ApiError::BadRequest {
                        code,
                        message: format!("events[{index}].{message}"),
                        field: field.map(|f| format!("events[{index}].{f}")),
                    },
                    other => other,
                };
                results[index] = Some(failure(index, e));
            }
        }
    }
    let applied = state.store.apply(&principal.scope(), commands, now).await?;
    for (index, outcome) in positions.into_iter().zip(applied) {
        results[index] = Some(match outcome {
            Ok(a) => {
                EventResult { index, ok: true, status: if a.created() { 201 } else { 200 }, error: None, message: None }
            }
            Err(e) => failure(index, e.into()),
        });
    }
    Ok(Json(IngestResponse { results: results.into_iter().flatten().collect() }))
}
