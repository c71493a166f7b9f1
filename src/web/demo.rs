//! The demo: `plaudit demo` fills a fresh database with sample data
//! ([`crate::app::demo`]) and serves `/demo`, a small chat page wired to the
//! widget, so a new user sees the whole loop — ask, rate, end, see it in the
//! dashboard — in a minute.
//!
//! The page's chat backend (`POST /demo/chat`) plays the part of a customer's
//! chat server: it answers from a canned knowledge base
//! ([`crate::app::demo::content`]), logs the conversation and both messages
//! through [`App::apply`], as a batch of the API would, and hands the page a
//! feedback token issued exactly as `POST /v1/conversations/{id}/feedback-token`
//! issues them. None of these routes exist unless the server runs as the demo.

use axum::{
    Extension, Json, Router,
    extract::State,
    http::{HeaderValue, StatusCode, header},
    response::{Html, IntoResponse, Response},
    routing::{get, post},
};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::{
    app::{
        App, AppError,
        demo::{DemoData, content},
    },
    domain::{
        Timestamp,
        access::Principal,
        conversation::{ConversationFields, ConversationInput, MessageFields, MessageInput, MessageRole},
        ids::{ClientId, Uuid, locale},
        token::{TokenClaims, TokenRefusal, TokenRequest},
    },
    http::{ApiError, ApiJson},
    store::Command,
};

/// What the demo routes need to know: the demo bot and the keys of its two doors.
#[derive(Clone)]
pub struct DemoSite {
    /// The bot the demo chat talks as.
    pub bot_id: Uuid,
    pub bot_name: String,
    /// The public key the page's widget carries.
    pub public_key: String,
    /// The chat backend's server key; it is checked on every request like
    /// any other, so revoking it stops the demo chat.
    server_key: String,
}

impl std::fmt::Debug for DemoSite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DemoSite")
            .field("bot_id", &self.bot_id)
            .field("bot_name", &self.bot_name)
            .finish_non_exhaustive()
    }
}

impl DemoSite {
    /// The demo of a freshly generated dataset.
    pub fn new(data: &DemoData) -> Self {
        let bot = &data.bots[0].bot;
        Self {
            bot_id: bot.id.clone(),
            bot_name: bot.name.clone(),
            public_key: data.public_key.clone(),
            server_key: data.server_key.clone(),
        }
    }
}

/// Longest question the demo chat takes.
pub const MAX_QUESTION_CHARS: usize = 2_000;

const PAGE: &str = include_str!("assets/demo.html");
const SCRIPT: &str = include_str!("assets/demo.js");
const STYLE: &str = include_str!("assets/demo.css");

pub fn router() -> Router<App> {
    Router::new()
        .route("/demo", get(page))
        .route("/demo/demo.js", get(script))
        .route("/demo/demo.css", get(style))
        .route("/demo/chat", post(chat))
        .route("/demo/end", post(end))
}

/// Escapes text for HTML content and attribute values.
fn escape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn not_demo_page() -> Response {
    let body = "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><title>Not found</title>\
                <h1>Not found</h1><p>The demo page is served only by <code>plaudit demo</code>.</p></html>";
    (StatusCode::NOT_FOUND, Html(body)).into_response()
}

/// The demo's site, which only `plaudit demo` serves.
type Site = Extension<Option<Arc<DemoSite>>>;

fn served(site: &Option<Arc<DemoSite>>) -> Result<&DemoSite, ApiError> {
    site.as_deref().ok_or_else(|| ApiError::NotFound("route".into()))
}

async fn page(Extension(site): Site) -> Response {
    let Some(site) = site.as_deref() else {
        return not_demo_page();
    };
    let html =
        PAGE.replace("{{PUBLIC_KEY}}", &escape(&site.public_key)).replace("{{BOT_NAME}}", &escape(&site.bot_name));
    ([(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))], Html(html)).into_response()
}

fn asset(site: &Option<Arc<DemoSite>>, content_type: &'static str, body: &'static str) -> Response {
    if site.is_none() {
        return ApiError::NotFound("route".into()).into_response();
    }
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        body,
    )
        .into_response()
}

async fn script(Extension(site): Site) -> Response {
    asset(&site, "text/javascript; charset=utf-8", SCRIPT)
}

async fn style(Extension(site): Site) -> Response {
    asset(&site, "text/css; charset=utf-8", STYLE)
}

/// A question from the demo page; `token` continues the conversation it was issued for.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChatBody {
    pub message: String,
    pub token: Option<String>,
    pub locale: Option<String>,
}

/// The answer, with what the widget needs to rate it.
#[derive(Debug, Serialize)]
pub struct ChatReply {
    pub conversation_id: String,
    pub contact_id: String,
    pub bot_id: String,
    pub user_message_id: String,
    /// The assistant message: pass it to `Plaudit.rate`.
    pub message_id: String,
    pub answer: String,
    pub topic: Option<String>,
    /// A fresh feedback token for the conversation.
    pub token: String,
    pub expires_at: Timestamp,
}

/// The chat backend's identity: its server key, admitted like any request's.
async fn backend(app: &App, site: &DemoSite) -> Result<Principal, ApiError> {
    Ok(app.admit_key(&site.server_key).await?)
}

/// The conversation a token was issued for, checked like any feedback token.
fn claims(app: &App, site: &DemoSite, raw: &str) -> Result<TokenClaims, ApiError> {
    let claims = app.token_claims(raw).map_err(AppError::Token)?;
    if claims.bot_id != site.bot_id.as_str() {
        return Err(AppError::Token(TokenRefusal::OtherBot).into());
    }
    Ok(claims)
}

fn short_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..12].to_owned()
}

/// What the canned assistant says, and the topic and confidence it logs.
fn answer(question: &str) -> (String, Option<&'static str>, f64) {
    match content::best_entry(&content::SHOP, question) {
        Some(entry) => (entry.answer.to_owned(), Some(entry.topic), 0.86),
        None => {
            let quoted: String = question.chars().take(200).collect();
            (format!("You asked: “{quoted}”. {}", content::FALLBACK), None, 0.12)
        }
    }
}

/// Answers a visitor's question, logs the exchange, and returns a feedback token.
async fn chat(
    State(app): State<App>,
    Extension(site): Site,
    ApiJson(body): ApiJson<ChatBody>,
) -> Result<Json<ChatReply>, ApiError> {
    let site = served(&site)?;
    let question = body.message.trim();
    if question.is_empty() {
        return Err(ApiError::bad_request("message", "message must not be empty"));
    }
    if question.chars().count() > MAX_QUESTION_CHARS {
        return Err(ApiError::bad_request(
            "message",
            format!("message must be at most {MAX_QUESTION_CHARS} characters"),
        ));
    }
    let principal = backend(&app, site).await?;
    let now = Timestamp::now();
    let mut commands = Vec::new();
    let conversation_id = match body.token.as_deref() {
        Some(raw) => claims(&app, site, raw)?.conversation_id,
        None => {
            let id = format!("chat-{}", short_id());
            let locale = body.locale.as_deref().map(|l| locale("locale", l)).transpose()?;
            let conversation = ConversationFields {
                bot_id: Some(site.bot_id.to_string()),
                contact_id: Some(format!("demo-visitor-{}", short_id())),
                locale,
                metadata: Some(serde_json::json!({ "channel": "demo" })),
                created_at: None,
            };
            commands.push(Command::UpsertConversation(ConversationInput::parse(&id, conversation, now)?));
            id
        }
    };
    let turn = short_id();
    let (text, topic, confidence) = answer(question);
    let user_message_id = format!("{conversation_id}-u-{turn}");
    let message_id = format!("{conversation_id}-a-{turn}");
    let message = |id: &str, role, content: String, metadata| MessageFields {
        id: id.to_owned(),
        role,
        content,
        request_id: None,
        status: None,
        metadata,
        created_at: None,
    };
    let mut meta = serde_json::json!({ "confidence": confidence });
    if let Some(topic) = topic {
        meta["topic"] = serde_json::json!(topic);
    }
    commands.push(Command::AppendMessage(MessageInput::parse(
        &conversation_id,
        message(&user_message_id, MessageRole::User, question.to_owned(), None),
        now,
    )?));
    commands.push(Command::AppendMessage(MessageInput::parse(
        &conversation_id,
        message(&message_id, MessageRole::Assistant, text.clone(), Some(meta)),
        now,
    )?));
    for result in app.apply(&principal.scope(), commands, now).await? {
        result?;
    }
    let id = ClientId::parse("conversation_id", &conversation_id)?;
    let issued = app.issue_token(&principal, &id, TokenRequest::default()).await?;
    Ok(Json(ChatReply {
        conversation_id,
        contact_id: issued.contact_id,
        bot_id: site.bot_id.to_string(),
        user_message_id,
        message_id,
        answer: text,
        topic: topic.map(str::to_owned),
        token: issued.token,
        expires_at: issued.expires_at,
    }))
}

/// The conversation to end, named by its token.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndBody {
    pub token: String,
}

/// Marks the visitor's conversation ended, as a chat backend does when the visitor leaves.
async fn end(
    State(app): State<App>,
    Extension(site): Site,
    ApiJson(body): ApiJson<EndBody>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let site = served(&site)?;
    let claims = claims(&app, site, &body.token)?;
    let principal = backend(&app, site).await?;
    let id = ClientId::parse("conversation_id", &claims.conversation_id)?;
    app.end_conversation(&principal.scope(), &id).await?;
    Ok(Json(serde_json::json!({ "conversation_id": claims.conversation_id, "status": "ended" })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_covers_markup_and_quotes() {
        assert_eq!(escape(r#"<a href="x">'&'</a>"#), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
    }

    #[test]
    fn unknown_questions_get_the_fallback_echoing_them() {
        let (text, topic, _) = answer("<b>opening hours</b>?");
        assert!(text.contains("<b>opening hours</b>?"));
        assert!(topic.is_none());
        assert_eq!(answer("When will my order arrive?").1, Some("shipping"));
    }
}
