//! CSAT: the end-of-conversation prompt's configuration (the rating
//! configuration), its copy per locale, and the answers to its questions.

use axum::{Json, extract::State, http::StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{ApiError, ApiJson, ApiPath, App, Auth, Caller, ErrorResponses, IdPath, bots::BotPath, created_or_found};
use crate::{
    domain::{
        DomainError, Timestamp,
        access::{Role, Source},
        csat::{CsatAnswer, CsatInput, PromptCopy, QuestionCode, RatingConfig, ResolvedCopy},
        feedback::{MAX_REASON_CHARS, optional_text},
        ids::{ClientId, Uuid, locale},
    },
    http::{RatingConfigDoc, RatingConfigPatchBody},
};

/// Routes a browser may call with a public key.
pub fn router() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(get_rating_config, patch_rating_config))
        .routes(routes!(get_copy, put_copy))
        .routes(routes!(answer_csat))
}

fn bot_id(path: &BotPath) -> Result<Uuid, ApiError> {
    super::path_uuid(&path.id, "bot")
}

/// The rating configuration of a bot (any key, public included).
#[utoipa::path(get, path = "/v1/bots/{id}/rating-config", tag = "rating", params(BotPath),
    responses((status = 200, description = "The configuration", body = RatingConfigDoc), ErrorResponses))]
async fn get_rating_config(
    State(app): State<App>,
    Auth(principal): Auth,
    ApiPath(path): ApiPath<BotPath>,
) -> Result<Json<RatingConfig>, ApiError> {
    principal.require(Role::Public)?;
    Ok(Json(app.rating_config(&principal.scope(), &bot_id(&path)?).await?))
}

/// Changes the rating configuration (admin). `conv_rating_popup_active` must
/// end up equal to `conv_rating_active`; question codes must be known, unique, and at least one.
#[utoipa::path(patch, path = "/v1/bots/{id}/rating-config", tag = "rating", params(BotPath), request_body = RatingConfigPatchBody,
    responses((status = 200, description = "The new configuration", body = RatingConfigDoc), ErrorResponses))]
async fn patch_rating_config(
    State(app): State<App>,
    Auth(principal): Auth,
    ApiPath(path): ApiPath<BotPath>,
    ApiJson(patch): ApiJson<RatingConfigPatchBody>,
) -> Result<Json<RatingConfig>, ApiError> {
    principal.require(Role::Admin)?;
    Ok(Json(app.update_rating_config(&principal, &bot_id(&path)?, patch.into()).await?))
}

/// Path of a bot's copy in one locale.
#[derive(Debug, Deserialize, IntoParams)]
pub struct CopyPath {
    /// The bot's UUID.
    pub id: String,
    /// A BCP 47 tag such as `fr-CA`.
    pub locale: String,
}

/// The prompt copy for a locale: `fr-CA`, else `fr`, else the built-in English copy;
/// `resolved_locale` says which answered (`default` for the built-in one).
#[utoipa::path(get, path = "/v1/bots/{id}/csat-copy/{locale}", tag = "rating", params(CopyPath),
    responses((status = 200, description = "The copy", body = ResolvedCopyDoc), ErrorResponses))]
async fn get_copy(
    State(app): State<App>,
    Auth(principal): Auth,
    ApiPath(path): ApiPath<CopyPath>,
) -> Result<Json<ResolvedCopy>, ApiError> {
    principal.require(Role::Public)?;
    let bot = super::path_uuid(&path.id, "bot")?;
    let locale = locale("locale", &path.locale)?;
    Ok(Json(app.prompt_copy(&principal.scope(), &bot, &locale).await?))
}

/// Sets the prompt copy for a locale (admin); every piece is required.
#[utoipa::path(put, path = "/v1/bots/{id}/csat-copy/{locale}", tag = "rating", params(CopyPath), request_body = PromptCopyBody,
    responses((status = 200, description = "The stored copy", body = ResolvedCopyDoc), ErrorResponses))]
async fn put_copy(
    State(app): State<App>,
    Auth(principal): Auth,
    ApiPath(path): ApiPath<CopyPath>,
    ApiJson(copy): ApiJson<PromptCopyBody>,
) -> Result<Json<ResolvedCopy>, ApiError> {
    principal.require(Role::Admin)?;
    let bot = super::path_uuid(&path.id, "bot")?;
    let locale = locale("locale", &path.locale)?;
    Ok(Json(app.put_prompt_copy(&principal, &bot, &locale, copy.into()).await?))
}

impl CsatBody {
    /// The answer on conversation `conversation_id` as sent by `caller`, checked and scored.
    pub fn parse(self, caller: &Caller, conversation_id: &str, now: Timestamp) -> Result<CsatInput, DomainError> {
        let conversation_id = ClientId::parse("conversation_id", conversation_id)?;
        let rater = caller.rater(self.user_id.as_deref(), self.created_at.is_some())?;
        let question_code = QuestionCode::parse("question_code", &self.question_code)?;
        let (value, score) = question_code.score(&self.value)?;
        Ok(CsatInput {
            conversation_id,
            question_code,
            value,
            score,
            negative_reason: optional_text("negative_reason", self.negative_reason.as_deref(), MAX_REASON_CHARS)?,
            rater,
            created_at: Timestamp::parse_backfill("created_at", self.created_at.as_deref(), now)?,
        })
    }
}

impl From<PromptCopyBody> for PromptCopy {
    fn from(body: PromptCopyBody) -> Self {
        Self {
            title: body.title,
            negative_reason: body.negative_reason,
            negative_placeholder: body.negative_placeholder,
            negative_button: body.negative_button,
            after_submission: body.after_submission,
        }
    }
}

/// Answers one question of the end-of-conversation prompt. Answering the same
/// question again replaces the respondent's answer.
#[utoipa::path(post, path = "/v1/conversations/{id}/csat", tag = "rating", params(IdPath), request_body = CsatBody,
    responses((status = 201, description = "Recorded", body = CsatAnswerDoc),
              (status = 200, description = "Changed, or the same answer again", body = CsatAnswerDoc), ErrorResponses))]
async fn answer_csat(
    State(app): State<App>,
    caller: Caller,
    ApiPath(path): ApiPath<IdPath>,
    ApiJson(body): ApiJson<CsatBody>,
) -> Result<(StatusCode, Json<CsatAnswer>), ApiError> {
    caller.principal.require(Role::Public)?;
    let now = Timestamp::now();
    let input = body.parse(&caller, &path.id, now)?;
    Ok(created_or_found(app.answer_csat(&caller, input, now).await?))
}

/// The body of `POST /v1/conversations/{id}/csat` (and of a `csat` event).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CsatBody {
    pub question_code: String,
    /// `up`/`down` for thumbs questions, 1–5 for stars.
    #[schema(value_type = Object)]
    pub value: Value,
    pub negative_reason: Option<String>,
    /// The respondent; defaults to the caller (the key, or the token's contact).
    pub user_id: Option<String>,
    /// Backfill: when it was answered (server and admin keys).
    pub created_at: Option<String>,
}

/// The words of the end-of-conversation prompt in one locale.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(as = PromptCopy)]
#[serde(deny_unknown_fields)]
pub struct PromptCopyBody {
    /// The heading of the prompt.
    pub title: String,
    /// The label of the free-text follow-up after a thumbs-down.
    pub negative_reason: String,
    /// The placeholder of that text box.
    pub negative_placeholder: String,
    /// The label of its submit button.
    pub negative_button: String,
    /// The message shown after submitting.
    pub after_submission: String,
}

/// Prompt copy as answered, with the locale that answered.
#[derive(Serialize, ToSchema)]
#[schema(as = ResolvedCopy)]
pub struct ResolvedCopyDoc {
    #[serde(flatten)]
    pub copy: PromptCopyBody,
    /// The locale asked for.
    pub locale: String,
    /// The locale whose copy this is, or `default` for the built-in English copy.
    pub resolved_locale: String,
}

/// A CSAT answer.
#[derive(Serialize, ToSchema)]
#[schema(as = CsatAnswer)]
pub struct CsatAnswerDoc {
    pub id: Uuid,
    pub conversation_id: String,
    pub bot_id: Uuid,
    pub question_code: QuestionCode,
    /// `up`, `down`, or the number of stars.
    pub value: String,
    /// 1–5.
    pub score: i64,
    pub negative_reason: Option<String>,
    pub user_id: String,
    pub source: Source,
    pub created_at: Timestamp,
    /// When the current answer was given.
    pub answered_at: Timestamp,
}
