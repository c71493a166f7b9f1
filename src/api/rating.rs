//! Conversation rating: configuration, prompt copy per locale, CSAT answers,
//! and the feedback tokens a browser rates with.

use axum::{Json, extract::State, http::StatusCode};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{
    ApiError, ApiJson, ApiPath, AppState, Auth, Caller, ErrorResponses, OptionalJson,
    bots::BotPath,
    conversations::{IdPath, created_or_found},
};
use crate::domain::{
    DomainError, Timestamp,
    access::{Principal, Role},
    feedback::{MAX_REASON_CHARS, optional_text},
    ids::{ClientId, MAX_SHORT_TEXT_LEN, Uuid, locale, optional_short_text},
    rating::{
        CsatAnswer, CsatBody, CsatInput, PromptCopy, QuestionCode, RatingConfig, RatingConfigPatch, ResolvedCopy,
    },
    token::{self, TokenClaims},
};

/// Routes a browser may call with a public key.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_rating_config, patch_rating_config))
        .routes(routes!(get_copy, put_copy))
        .routes(routes!(answer_csat))
}

/// Routes for secret keys only.
pub fn private_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(create_feedback_token))
}

fn bot_id(path: &BotPath) -> Result<Uuid, ApiError> {
    Uuid::parse("id", &path.id).map_err(|_| ApiError::NotFound("bot".into()))
}

/// The rating configuration of a bot (any key, public included).
#[utoipa::path(get, path = "/v1/bots/{id}/rating-config", tag = "rating", params(BotPath),
    responses((status = 200, description = "The configuration", body = RatingConfig), ErrorResponses))]
async fn get_rating_config(
    State(state): State<AppState>,
    Auth(principal): Auth,
    ApiPath(path): ApiPath<BotPath>,
) -> Result<Json<RatingConfig>, ApiError> {
    principal.require(Role::Public)?;
    Ok(Json(state.store.rating_config(&principal.scope(), &bot_id(&path)?).await?))
}

/// Changes the rating configuration (admin). `conv_rating_popup_active` must
/// end up equal to `conv_rating_active`; question codes must be known, unique, and at least one.
#[utoipa::path(patch, path = "/v1/bots/{id}/rating-config", tag = "rating", params(BotPath), request_body = RatingConfigPatch,
    responses((status = 200, description = "The new configuration", body = RatingConfig), ErrorResponses))]
async fn patch_rating_config(
    State(state): State<AppState>,
    Auth(principal): Auth,
    ApiPath(path): ApiPath<BotPath>,
    ApiJson(patch): ApiJson<RatingConfigPatch>,
) -> Result<Json<RatingConfig>, ApiError> {
    principal.require(Role::Admin)?;
    Ok(Json(state.store.update_rating_config(&principal.scope(), &bot_id(&path)?, patch, Timestamp::now()).await?))
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
    State(state): State<AppState>,
    Auth(principal): Auth,
    ApiPath(path): ApiPath<CopyPath>,
) -> Result<Json<ResolvedCopy>, ApiError> {
    principal.require(Role::Public)?;
    let bot = Uuid::parse("id", &path.id).map_err(|_| ApiError::NotFound("bot".into()))?;
    let locale = locale("locale", &path.locale)?;
    Ok(Json(state.store.prompt_copy(&principal.scope(), &bot, &locale).await?))
}

/// Sets the prompt copy for a locale (admin); every piece is required.
#[utoipa::path(put, path = "/v1/bots/{id}/csat-copy/{locale}", tag = "rating", params(CopyPath), request_body = PromptCopy,
    responses((status = 200, description = "The stored copy", body = ResolvedCopy), ErrorResponses))]
async fn put_copy(
    State(state): State<AppState>,
    Auth(principal): Auth,
    ApiPath(path): ApiPath<CopyPath>,
    ApiJson(copy): ApiJson<PromptCopy>,
) -> Result<Json<ResolvedCopy>, ApiError> {
    principal.require(Role::Admin)?;
    let bot = Uuid::parse("id", &path.id).map_err(|_| ApiError::NotFound("bot".into()))?;
    let locale = locale("locale", &path.locale)?;
    Ok(Json(state.store.put_prompt_copy(&principal.scope(), &bot, &locale, copy.validate()?, Timestamp::now()).await?))
}

/// Turns a CSAT body into the answer it records.
pub(super) fn csat_input(
    caller: &Caller,
    conversation_id: &str,
    body: CsatBody,
    now: Timestamp,
) -> Result<CsatInput, ApiError> {
    let conversation_id = ClientId::parse("conversation_id", conversation_id)?;
    caller.check_conversation(conversation_id.as_str())?;
    let rater = caller.principal.rater(caller.contact(), body.user_id.as_deref(), body.created_at.is_some())?;
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
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(path): ApiPath<IdPath>,
    ApiJson(body): ApiJson<CsatBody>,
) -> Result<(StatusCode, Json<CsatAnswer>), ApiError> {
    caller.principal.require(Role::Public)?;
    let now = Timestamp::now();
    let input = csat_input(&caller, &path.id, body, now)?;
    Ok(created_or_found(state.store.answer_csat(&caller.principal.scope(), input, now).await?))
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
    State(state): State<AppState>,
    Auth(principal): Auth,
    ApiPath(path): ApiPath<IdPath>,
    OptionalJson(body): OptionalJson<TokenBody>,
) -> Result<(StatusCode, Json<IssuedToken>), ApiError> {
    principal.require(Role::Server)?;
    Ok((StatusCode::CREATED, Json(issue_token(&state, &principal, &path.id, body).await?)))
}

/// Issues a feedback token for a conversation, exactly as the route does: the
/// token's contact is the conversation's, else the one asked for, else
/// `visitor:<conversation id>`. Also used by the demo's chat backend.
pub async fn issue_token(
    state: &AppState,
    principal: &Principal,
    conversation_id: &str,
    body: TokenBody,
) -> Result<IssuedToken, ApiError> {
    let id = ClientId::parse("id", conversation_id).map_err(|_| ApiError::NotFound("conversation".into()))?;
    let conversation = state.store.conversation(&principal.scope(), &id).await?;
    let requested = optional_short_text("contact_id", body.contact_id.as_deref(), MAX_SHORT_TEXT_LEN)?;
    let contact = match (conversation.contact_id.clone(), requested) {
        (Some(own), Some(asked)) if own != asked => {
            return Err(DomainError::invalid("contact_id", "does not match the conversation's contact").into());
        }
        (Some(own), _) => own,
        (None, Some(asked)) => asked,
        (None, None) => format!("visitor:{}", conversation.id),
    };
    let ttl = token::ttl(body.ttl_seconds)?;
    let expires_at = Timestamp(Timestamp::now().0 + ttl * 1000);
    let claims = TokenClaims {
        account_id: principal.account_id.clone(),
        bot_id: conversation.bot_id.to_string(),
        conversation_id: conversation.id.clone(),
        contact_id: contact.clone(),
        expires_at: expires_at.0,
    };
    let token = token::sign(&claims, &state.token_secret);
    Ok(IssuedToken { token, conversation_id: conversation.id, contact_id: contact, expires_at })
}
