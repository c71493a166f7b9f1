//! Bots: the assistants of an account.

use axum::{Json, extract::State, http::StatusCode};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{ApiError, ApiJson, ApiPath, ApiQuery, App, Auth, ErrorResponses, PageDoc, PageQuery};
use crate::domain::{
    Timestamp,
    access::Role,
    account::{Bot, bot_name},
    feedback::{BotSettings, BotSettingsPatch},
    ids::Uuid,
    page::Page,
};

pub fn router() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(create_bot, list_bots))
        .routes(routes!(get_bot))
        .routes(routes!(get_settings, patch_settings))
}

/// The body of `POST /v1/bots`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewBotBody {
    /// A name people recognise, such as "Support assistant".
    pub name: String,
}

/// Path of one bot.
#[derive(Debug, Deserialize, IntoParams)]
pub struct BotPath {
    /// The bot's UUID.
    pub id: String,
}

/// Creates a bot (admin).
#[utoipa::path(post, path = "/v1/bots", tag = "bots", request_body = NewBotBody,
    responses((status = 201, description = "The new bot", body = BotDoc), ErrorResponses))]
async fn create_bot(
    State(app): State<App>,
    Auth(principal): Auth,
    ApiJson(body): ApiJson<NewBotBody>,
) -> Result<(StatusCode, Json<Bot>), ApiError> {
    principal.require(Role::Admin)?;
    let bot = app.create_bot(&principal, bot_name(&body.name)?).await?;
    Ok((StatusCode::CREATED, Json(bot)))
}

/// Lists the account's bots, newest first.
#[utoipa::path(get, path = "/v1/bots", tag = "bots", params(PageQuery),
    responses((status = 200, description = "A page of bots", body = PageDoc<BotDoc>), ErrorResponses))]
async fn list_bots(
    State(app): State<App>,
    Auth(principal): Auth,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> Result<Json<Page<Bot>>, ApiError> {
    principal.require(Role::Server)?;
    Ok(Json(app.list_bots(&principal.scope(), page.parse()?).await?))
}

/// One bot.
#[utoipa::path(get, path = "/v1/bots/{id}", tag = "bots", params(BotPath),
    responses((status = 200, description = "The bot", body = BotDoc), ErrorResponses))]
async fn get_bot(
    State(app): State<App>,
    Auth(principal): Auth,
    ApiPath(path): ApiPath<BotPath>,
) -> Result<Json<Bot>, ApiError> {
    principal.require(Role::Server)?;
    let id = super::path_uuid(&path.id, "bot")?;
    Ok(Json(app.bot(&principal.scope(), &id).await?))
}

/// A bot's feedback and vote settings.
#[utoipa::path(get, path = "/v1/bots/{id}/settings", tag = "bots", params(BotPath),
    responses((status = 200, description = "The settings", body = BotSettingsDoc), ErrorResponses))]
async fn get_settings(
    State(app): State<App>,
    Auth(principal): Auth,
    ApiPath(path): ApiPath<BotPath>,
) -> Result<Json<BotSettings>, ApiError> {
    principal.require(Role::Server)?;
    let id = super::path_uuid(&path.id, "bot")?;
    Ok(Json(app.bot_settings(&principal.scope(), &id).await?))
}

/// Changes any of a bot's settings (admin); `vote_window_seconds` is 1 s to a year;
/// `retention_days` is 1 to 36,500, or `null` to keep conversations forever.
#[utoipa::path(patch, path = "/v1/bots/{id}/settings", tag = "bots", params(BotPath), request_body = BotSettingsPatchBody,
    responses((status = 200, description = "The new settings", body = BotSettingsDoc), ErrorResponses))]
async fn patch_settings(
    State(app): State<App>,
    Auth(principal): Auth,
    ApiPath(path): ApiPath<BotPath>,
    ApiJson(patch): ApiJson<BotSettingsPatchBody>,
) -> Result<Json<BotSettings>, ApiError> {
    principal.require(Role::Admin)?;
    let id = super::path_uuid(&path.id, "bot")?;
    Ok(Json(app.update_bot_settings(&principal, &id, patch.into()).await?))
}

/// The body of `PATCH /v1/bots/{id}/settings`: any subset of the settings.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[schema(as = BotSettingsPatch)]
#[serde(deny_unknown_fields)]
pub struct BotSettingsPatchBody {
    pub auto_approve_positive: Option<bool>,
    pub auto_approve_negative: Option<bool>,
    pub require_reason_positive: Option<bool>,
    pub require_reason_negative: Option<bool>,
    pub vote_window_seconds: Option<i64>,
    /// Erase conversations this many days after their last activity; `null`: keep them.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>)]
    pub retention_days: Option<Option<i64>>,
}

/// A field that may be `null`: absent is `None`, `null` is `Some(None)`.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<i64>>, D::Error> {
    Option::<i64>::deserialize(d).map(Some)
}

impl From<BotSettingsPatchBody> for BotSettingsPatch {
    fn from(body: BotSettingsPatchBody) -> Self {
        Self {
            auto_approve_positive: body.auto_approve_positive,
            auto_approve_negative: body.auto_approve_negative,
            require_reason_positive: body.require_reason_positive,
            require_reason_negative: body.require_reason_negative,
            vote_window_seconds: body.vote_window_seconds,
            retention_days: body.retention_days,
        }
    }
}

/// One AI assistant of an account.
#[derive(Serialize, ToSchema)]
#[schema(as = Bot)]
pub struct BotDoc {
    pub id: Uuid,
    pub name: String,
    pub created_at: Timestamp,
}

/// The per-bot settings that steer feedback and votes.
#[derive(Serialize, ToSchema)]
#[schema(as = BotSettings)]
pub struct BotSettingsDoc {
    pub auto_approve_positive: bool,
    pub auto_approve_negative: bool,
    pub require_reason_positive: bool,
    pub require_reason_negative: bool,
    /// One vote per voter per conversation within this many seconds.
    pub vote_window_seconds: i64,
    /// Conversations are erased this many days after their last activity; `null`: kept.
    pub retention_days: Option<i64>,
}
