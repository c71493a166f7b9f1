//! `POST /v1/ingest`: many writes in one request.
//!
//! Each event is the body of the matching endpoint plus a `type`; events
//! apply in order, each on its own, and the answer reports every one.

use std::{fmt, marker::PhantomData};

use axum::{Json, extract::State};
use serde::{
    Deserialize, Deserializer, Serialize,
    de::{
        self, DeserializeOwned, DeserializeSeed, IgnoredAny, IntoDeserializer, MapAccess, Visitor,
        value::{BorrowedStrDeserializer, MapAccessDeserializer},
    },
};
use serde_json::{Value, value::RawValue};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{
    ApiError, App, Auth, Caller, ErrorResponses,
    conversations::{ConversationBody, MessageBody, MessageUpdateBody},
    csat::CsatBody,
    feedback::FeedbackBody,
    votes::VoteBody,
};
use crate::http::{JsonObject, explain, parse_envelope_as, parse_json};
use crate::{
    domain::{
        DomainError, Timestamp,
        access::{Principal, Role},
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

pub fn router() -> OpenApiRouter<App> {
    OpenApiRouter::new().routes(routes!(ingest))
}

/// The body of `POST /v1/ingest`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IngestBody<'a> {
    /// Up to 1,000 events: `{"type": "conversation" | "message" | "message_update" |
    /// "conversation_end" | "vote" | "feedback" | "csat", ...the body of the matching
    /// endpoint}`. A `conversation`, `message_update` and `conversation_end` event
    /// carries the `id`; `message`, `vote` and `csat` events carry `conversation_id`;
    /// a `vote` also carries `direction` (`up` or `down`).
    ///
    /// Each event is kept as its text in the body and read straight into
    /// its endpoint's body type: no tree of JSON values is built.
    #[schema(value_type = Vec<Object>)]
    #[serde(borrow)]
    pub events: Vec<&'a RawValue>,
}

/// [`IngestBody`] with its events left unread, which explains a body that
/// does not fit (raw JSON text can only be read by serde_json itself).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IngestShape {
    #[serde(rename = "events")]
    _events: Vec<IgnoredAny>,
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

/// The keys an event carries beside the body of its endpoint, taken out of
/// the event as it is read, with their values.
#[derive(Debug, Default)]
struct Keys(Vec<(&'static str, Value)>);

impl Keys {
    fn string(&mut self, key: &str) -> Result<String, DomainError> {
        required_string(key, self.0.iter().position(|(k, _)| *k == key).map(|i| self.0.swap_remove(i).1))
    }
}

/// The text of an event's key, which must be given and be a string.
fn required_string(key: &str, value: Option<Value>) -> Result<String, DomainError> {
    match value {
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(DomainError::invalid(key, "must be a string")),
        None => Err(DomainError::invalid(key, "is required for this event type")),
    }
}

/// Reads an event straight into the body `B` of its endpoint, setting aside
/// `keys` (the id or direction the endpoint takes from its path) and
/// skipping the `type`, which [`Head`] read. One pass over the text, with no
/// tree of JSON values built first.
fn split<B: DeserializeOwned>(text: &str, keys: &'static [&'static str]) -> Result<(Keys, B), ApiError> {
    let mut found = Keys::default();
    let mut de = serde_json::Deserializer::from_str(text);
    let seed = Split { keys, found: &mut found, body: PhantomData };
    match seed.deserialize(&mut de) {
        Ok(body) => Ok((found, body)),
        Err(e) => {
            // Read again to learn which field is at fault.
            let seed = Split { keys, found: &mut Keys::default(), body: PhantomData::<B> };
            Err(explain(text.as_bytes(), seed).unwrap_or_else(|| ApiError::BadRequest {
                code: "invalid_request",
                message: format!("the event does not fit: {e}"),
                field: None,
            }))
        }
    }
}

struct Split<'k, B> {
    keys: &'static [&'static str],
    found: &'k mut Keys,
    body: PhantomData<B>,
}

impl<'de, B: Deserialize<'de>> DeserializeSeed<'de> for Split<'_, B> {
    type Value = B;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<B, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de, B: Deserialize<'de>> Visitor<'de> for Split<'_, B> {
    type Value = B;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<B, A::Error> {
        B::deserialize(MapAccessDeserializer::new(Filtered { map, keys: self.keys, found: self.found }))
    }
}

/// The entries of an event's object but its `type` and set-aside keys.
struct Filtered<'k, A> {
    map: A,
    keys: &'static [&'static str],
    found: &'k mut Keys,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for Filtered<'_, A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, A::Error> {
        loop {
            let Some(key) = self.map.next_key::<Key<'de>>()? else {
                return Ok(None);
            };
            let name = match &key {
                Key::Borrowed(s) => s,
                Key::Owned(s) => s.as_str(),
            };
            if name == "type" {
                self.map.next_value::<IgnoredAny>()?;
                continue;
            }
            if let Some(kept) = self.keys.iter().find(|k| **k == name) {
                if self.found.0.iter().any(|(k, _)| k == kept) {
                    return Err(de::Error::duplicate_field(kept));
                }
                let value = self.map.next_value::<Value>()?;
                self.found.0.push((kept, value));
                continue;
            }
            return match key {
                Key::Borrowed(s) => seed.deserialize(BorrowedStrDeserializer::new(s)).map(Some),
                Key::Owned(s) => seed.deserialize(s.into_deserializer()).map(Some),
            };
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
        self.map.next_value_seed(seed)
    }
}

/// An object's key, borrowed from the body where it has no escapes.
enum Key<'de> {
    Borrowed(&'de str),
    Owned(String),
}

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Key<'de>, E> {
                Ok(Key::Borrowed(s))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Key<'de>, E> {
                Ok(Key::Owned(s.to_owned()))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

/// The body of an event with none: the first key it has, if any.
struct FirstKey(Option<String>);

impl<'de> Deserialize<'de> for FirstKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FirstKeyVisitor;
        impl<'de> Visitor<'de> for FirstKeyVisitor {
            type Value = FirstKey;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<FirstKey, A::Error> {
                let first = map.next_key::<String>()?;
                if first.is_some() {
                    map.next_value::<IgnoredAny>()?;
                    while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                }
                Ok(FirstKey(first))
            }
        }
        deserializer.deserialize_map(FirstKeyVisitor)
    }
}

/// An event's `type`, read before the rest (a second `type` is refused here).
#[derive(Deserialize)]
struct Head {
    #[serde(rename = "type")]
    kind: Option<Value>,
}

/// Turns one raw event into the command its endpoint would run.
fn parse_event(principal: &Principal, raw: &RawValue, now: Timestamp) -> Result<Command, ApiError> {
    let text = raw.get();
    if !text.starts_with('{') {
        return Err(DomainError::invalid("event", "must be a JSON object").into());
    }
    let head: Head = parse_json(text.as_bytes())?;
    match required_string("type", head.kind)?.as_str() {
        "conversation" => {
            let (mut keys, body) = split(text, &["id"])?;
            let body: ConversationBody = body;
            Ok(Command::UpsertConversation(body.parse(principal, &keys.string("id")?, now)?))
        }
        "message" => {
            let (mut keys, body) = split(text, &["conversation_id"])?;
            let body: MessageBody = body;
            Ok(Command::AppendMessage(body.parse(&keys.string("conversation_id")?, now)?))
        }
        "message_update" => {
            let (mut keys, body) = split(text, &["id"])?;
            let body: MessageUpdateBody = body;
            Ok(Command::UpdateMessage(body.parse(&keys.string("id")?)?))
        }
        "conversation_end" => {
            let (mut keys, FirstKey(extra)) = split(text, &["id"])?;
            let id = keys.string("id")?;
            if let Some(extra) = extra {
                return Err(DomainError::invalid(extra.as_str(), "is not a field of a conversation_end event").into());
            }
            Ok(Command::EndConversation(ClientId::parse("id", &id)?))
        }
        "vote" => {
            let (mut keys, body) = split(text, &["conversation_id", "direction"])?;
            let conversation_id = keys.string("conversation_id")?;
            let direction = match keys.string("direction")?.as_str() {
                "up" => Direction::Up,
                "down" => Direction::Down,
                _ => return Err(DomainError::invalid("direction", "must be up or down").into()),
            };
            let body: VoteBody = body;
            Ok(Command::Vote(body.parse(&caller(principal), &conversation_id, direction, now)?))
        }
        "feedback" => {
            let (_, body) = split(text, &[])?;
            let body: FeedbackBody = body;
            Ok(Command::Feedback(body.parse(&caller(principal), now)?))
        }
        "csat" => {
            let (mut keys, body) = split(text, &["conversation_id"])?;
            let body: CsatBody = body;
            Ok(Command::Csat(body.parse(&caller(principal), &keys.string("conversation_id")?, now)?))
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
    Caller::key(principal.clone())
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
    State(app): State<App>,
    Auth(principal): Auth,
    JsonObject(body): JsonObject,
) -> Result<Json<IngestResponse>, ApiError> {
    principal.require(Role::Server)?;
    let _turn = APPLYING.acquire().await.map_err(|e| ApiError::Unavailable(Box::new(e)))?;
    let batch: IngestBody = parse_envelope_as::<_, IngestShape>(&body)?;
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
    let applied = app.apply(&principal.scope(), commands, now).await?;
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
