//! `GET/PATCH /v1/api/conversation_ratings/configuration`: the rating
//! configuration with the exact body of the native route, acting on
//! `?bot_id=`, the key's bot, or the account's only bot.

use axum::{Json, extract::State};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    app::App,
    domain::{
        access::{Principal, Role},
        csat::RatingConfig,
        ids::Uuid,
    },
    http::{ApiError, ApiJson, ApiQuery, Auth, ErrorResponses, RatingConfigDoc, RatingConfigPatchBody},
};

pub fn router() -> OpenApiRouter<App> {
    OpenApiRouter::new().routes(routes!(get_configuration, patch_configuration))
}

/// Which bot: needed unless the key is bound to one.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BotQuery {
    pub bot_id: Option<String>,
}

/// The bot the call acts on: `?bot_id=`, else the key's bot, else the
/// account's only bot (clients of this shape often never name one).
async fn bot(app: &App, principal: &Principal, query: &BotQuery) -> Result<Uuid, ApiError> {
    let requested = query.bot_id.as_deref().map(|b| Uuid::parse("bot_id", b)).transpose()?;
    Ok(app.bot_or_only(principal, requested).await?)
}

/// The conversation-rating configuration.
#[utoipa::path(get, path = "/v1/api/conversation_ratings/configuration", tag = "compatibility", params(BotQuery),
    responses((status = 200, description = "The configuration", body = RatingConfigDoc), ErrorResponses))]
async fn get_configuration(
    State(app): State<App>,
    Auth(principal): Auth,
    ApiQuery(query): ApiQuery<BotQuery>,
) -> Result<Json<RatingConfig>, ApiError> {
    principal.require(Role::Public)?;
    let bot = bot(&app, &principal, &query).await?;
    Ok(Json(app.rating_config(&principal.scope(), &bot).await?))
}

/// Updates the conversation-rating configuration (admin); answers the updated configuration.
#[utoipa::path(patch, path = "/v1/api/conversation_ratings/configuration", tag = "compatibility", params(BotQuery),
    request_body = RatingConfigPatchBody,
    responses((status = 200, description = "The updated configuration", body = RatingConfigDoc), ErrorResponses))]
async fn patch_configuration(
    State(app): State<App>,
    Auth(principal): Auth,
    ApiQuery(query): ApiQuery<BotQuery>,
    ApiJson(patch): ApiJson<RatingConfigPatchBody>,
) -> Result<Json<RatingConfig>, ApiError> {
    principal.require(Role::Admin)?;
    let bot = bot(&app, &principal, &query).await?;
    Ok(Json(app.update_rating_config(&principal, &bot, patch.into()).await?))
}
