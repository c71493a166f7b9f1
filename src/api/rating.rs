//! Conversation rating: configuration, prompt copy per locale, CSAT answers,
//! and the feedback tokens a browser rates with.

use axum::{Json, extract::State, http::StatusCode};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{
    ApiError, ApiJson, ApiPath, App, Auth, Caller, ErrorResponses, OptionalJson,
    bots::BotPath,
    conversations::{IdPath, created_or_found},
};
use crate::domain::{
    Timestamp,
    access::Role,
    feedback::{MAX_REASON_CHARS, optional_text},
    ids::{ClientId, Uuid, locale},
    rating::{
        CsatAnswer, CsatBody, CsatInput, PromptCopy, QuestionCode, RatingConfig, RatingConfigPatch, ResolvedCopy,
    },
    token::TokenRequest,
};

/// Routes a browser may call with a public key.
pub fn router() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(get_rating_config, patch_rating_config))
        .routes(routes!(get_copy, put_copy))
        .routes(routes!(answer_csat))
}

/// Routes for secret keys only.
pub fn private_router() -> OpenApiRouter<App> {
    OpenApiRouter::new().routes(routes!(create_feedback_token))
}

fn bot_id(path: &BotPath) -> Result<Uuid, ApiError> {
    Uuid::parse("id", &path.id).map_err(|_| ApiError::NotFound("bot".into()))
}

/// The rating configuration of a bot (any key, public included).
#[utoipa::path(get, path = "/v1/bots/{id}/rating-config", tag = "rating", params(BotPath),
    responses((status = 200, description = "The configuration", body = RatingConfig), ErrorResponses))]
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
#[utoipa::path(patch, path = "/v1/bots/{id}/rating-config", tag = "rating", params(BotPath), request_body = RatingConfigPatch,
    responses((status = 200, description = "The new configuration", body = RatingConfig), ErrorResponses))]
async fn patch_rating_config(
    State(app): State<App>,
    Auth(principal): Auth,
    ApiPath(path): ApiPath<BotPath>,
    ApiJson(patch): ApiJson<RatingConfigPatch>,
) -> Result<Json<RatingConfig>, ApiError> {
    principal.require(Role::Admin)?;
    Ok(Json(app.update_rating_config(&principal.scope(), &bot_id(&path)?, patch).await?))
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
    responses((status = 200, description = "The copy", body = ResolvedCopy), ErrorResponses))]
async fn get_copy(
    State(app): State<App>,
    Auth(principal): Auth,
    ApiPath(path): ApiPath<CopyPath>,
) -> Result<Json<ResolvedCopy>, ApiError> {
    principal.require(Role::Public)?;
    let bot = Uuid::parse("id", &path.id).map_err(|_| ApiError::NotFound("bot".into()))?;
    let locale = locale("locale", &path.locale)?;
    Ok(Json(app.prompt_copy(&principal.scope(), &bot, &locale).await?))
}

/// Sets the prompt copy for a locale (admin); every piece is required.
#[utoipa::path(put, path = "/v1/bots/{id}/csat-copy/{locale}", tag = "rating", params(CopyPath), request_body = PromptCopy,
    responses((status = 200, description = "The stored copy", body = ResolvedCopy), ErrorResponses))]
async fn put_copy(
    State(app): State<App>,
    Auth(principal): Auth,
    ApiPath(path): ApiPath<CopyPath>,
    ApiJson(copy): ApiJson<PromptCopy>,
) -> Result<Json<ResolvedCopy>, ApiError> {
    principal.require(Role::Admin)?;
    let bot = Uuid::parse("id", &path.id).map_err(|_| ApiError::NotFound("bot".into()))?;
    let locale = locale("locale", &path.locale)?;
    Ok(Json(app.put_prompt_copy(&principal.scope(), &bot, &locale, copy).await?))
}

/// Turns a CSAT body into the answer it records.
pub(super) fn csat_input(
    caller: &Caller,
    conversation_id: &str,
    body: CsatBody,
    now: Timestamp,
) -> Result<CsatInput, ApiError> {
    let conversation_id = ClientId::parse("conversation_id", conversation_id)?;
    let rater = caller.rater(body.user_id.as_deref(), body.created_at.is_some())?;
    let question_code = QuestionCode::parse("question_code", &body.question_code)?;
    let (value, score) = question_code.score(&body.value)?;
    Ok(CsatInput {
        conversation_id,
        question_code,
        value,
        score,
        negative_reason: optional_text("negative_reason", body.negative_reason.as_deref(), MAX_REASON_CHARS)?,
        rater,
        created_at: body.created_at.as_deref().map(|t| Timestamp::parse_backfill("created_at", t, now)).transpose()?,
    })
}

/// Answers one question of the end-of-conversation prompt. Answering the same
/// question again replaces the respondent's answer.
#[utoipa::path(post, path = "/v1/conversations/{id}/csat", tag = "rating", params(IdPath), request_body = CsatBody,
    responses((status = 201, description = "Recorded", body = CsatAnswer),
              (status = 200, description = "Changed, or the same answer again", body = CsatAnswer), ErrorResponses))]
async fn answer_csat(
    State(app): State<App>,
    caller: Caller,
    ApiPath(path): ApiPath<IdPath>,
    ApiJson(body): ApiJson<CsatBody>,
) -> Result<(StatusCode, Json<CsatAnswer>), ApiError> {
    caller.principal.require(Role::Public)?;
    let now = Timestamp::now();
    let input = csat_input(&caller, &path.id, body, now)?;
    Ok(created_or_found(app.answer_csat(&caller, input, now).await?))
}

/// The body of `POST /v1/conversations/{id}/feedback-token`; both fields optional.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenBody {
    /// The visitor; defaults to the conversation's contact.
    pub contact_id: Option<String>,
    /// Lifetime, 1 s to 7 days (default 1 hour).
    pub ttl_seconds: Option<i64>,
}

/// A feedback token for the browser.
#[derive(Debug, Serialize, ToSchema)]
pub struct IssuedToken {
    /// Send it as `X-Feedback-Token` with a public key.
    pub token: String,
    pub conversation_id: String,
    pub contact_id: String,
    pub expires_at: Timestamp,
}

/// Issues a token that lets a browser, with a public key, vote, thumb and
/// answer CSAT for exactly this conversation, as its contact.
#[utoipa::path(post, path = "/v1/conversations/{id}/feedback-token", tag = "rating", params(IdPath),
    request_body(content = TokenBody, description = "Optional"),
    responses((status = 201, description = "The token", body = IssuedToken), ErrorResponses))]
async fn create_feedback_token(
    State(app): State<App>,
    Auth(principal): Auth,
    ApiPath(path): ApiPath<IdPath>,
    OptionalJson(body): OptionalJson<TokenBody>,
) -> Result<(StatusCode, Json<IssuedToken>), ApiError> {
    principal.require(Role::Server)?;
    let id = ClientId::parse("id", &path.id).map_err(|_| ApiError::NotFound("conversation".into()))?;
    let request = TokenRequest::parse(body.contact_id.as_deref(), body.ttl_seconds)?;
    let issued = app.issue_token(&principal, &id, request).await?;
    Ok((
        StatusCode::CREATED,
        Json(IssuedToken {
            token: issued.token,
            conversation_id: issued.conversation_id,
            contact_id: issued.contact_id,
            expires_at: issued.expires_at,
        }),
    ))
}
