//! API keys over the API (admin only). The secret is in the creation answer
//! and nowhere else, ever.

use axum::{Json, extract::State, http::StatusCode};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{ApiError, ApiJson, ApiPath, ApiQuery, App, Auth, ErrorResponses, PageDoc, PageQuery};
use crate::domain::{
    DomainError, Timestamp,
    access::{ApiKey, NewKey, Principal, Role},
    ids::Uuid,
    page::Page,
};

pub fn router() -> OpenApiRouter<App> {
    OpenApiRouter::new().routes(routes!(create_key, list_keys)).routes(routes!(revoke_key))
}

/// The body of `POST /v1/keys`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewKeyBody {
    pub role: Role,
    /// A label, such as "chat backend (prod)".
    pub name: Option<String>,
    /// Bind the key to one bot of the account.
    pub bot_id: Option<String>,
    /// Seconds until the key stops working.
    pub expires_in: Option<i64>,
}

impl NewKeyBody {
    /// The key `principal` asks for, checked.
    pub fn parse(self, principal: &Principal, now: Timestamp) -> Result<NewKey, DomainError> {
        let account = principal.account_id.clone();
        NewKey::parse(account, self.name.as_deref(), self.role, self.bot_id.as_deref(), self.expires_in, now)?
            .made_by(principal)
    }
}

/// A created key with its secret, shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedKey {
    #[serde(flatten)]
    #[schema(value_type = ApiKeyDoc)]
    pub key: ApiKey,
    /// The secret. Store it now: Plaudit keeps only its hash.
    pub secret: String,
}

/// Path of one key.
#[derive(Debug, Deserialize, IntoParams)]
pub struct KeyPath {
    pub id: String,
}

/// Creates a key (admin).
#[utoipa::path(post, path = "/v1/keys", tag = "keys", request_body = NewKeyBody,
    responses((status = 201, description = "The key, with its secret shown once", body = CreatedKey), ErrorResponses))]
async fn create_key(
    State(app): State<App>,
    Auth(principal): Auth,
    ApiJson(body): ApiJson<NewKeyBody>,
) -> Result<(StatusCode, Json<CreatedKey>), ApiError> {
    principal.require(Role::Admin)?;
    let (key, secret) = app.mint_key(body.parse(&principal, Timestamp::now())?, &principal.actor).await?;
    Ok((StatusCode::CREATED, Json(CreatedKey { key, secret: secret.expose().to_owned() })))
}

/// Lists the account's keys, newest first, without secrets (admin).
#[utoipa::path(get, path = "/v1/keys", tag = "keys", params(PageQuery),
    responses((status = 200, description = "A page of keys", body = PageDoc<ApiKeyDoc>), ErrorResponses))]
async fn list_keys(
    State(app): State<App>,
    Auth(principal): Auth,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> Result<Json<Page<ApiKey>>, ApiError> {
    principal.require(Role::Admin)?;
    Ok(Json(app.list_keys(&principal.scope(), page.parse()?).await?))
}

/// Revokes a key at once (admin). Revoking twice keeps the first time.
#[utoipa::path(delete, path = "/v1/keys/{id}", tag = "keys", params(KeyPath),
    responses((status = 200, description = "The revoked key", body = ApiKeyDoc), ErrorResponses))]
async fn revoke_key(
    State(app): State<App>,
    Auth(principal): Auth,
    ApiPath(path): ApiPath<KeyPath>,
) -> Result<Json<ApiKey>, ApiError> {
    principal.require(Role::Admin)?;
    let id = super::path_uuid(&path.id, "key")?;
    Ok(Json(app.revoke_key(&principal, &id).await?))
}

/// An API key as listed (never with its secret).
#[derive(Serialize, ToSchema)]
#[schema(as = ApiKey)]
pub struct ApiKeyDoc {
    pub id: Uuid,
    pub account_id: String,
    pub name: String,
    pub role: Role,
    /// When set, the key acts only on this bot.
    pub bot_id: Option<Uuid>,
    /// The first characters of the secret, to recognise it.
    pub prefix: String,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
}
