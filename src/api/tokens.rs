//! Feedback tokens: what a chat backend's key issues for one conversation,
//! so that a browser with a public key can rate exactly it, as its contact.

use axum::{Json, extract::State, http::StatusCode};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{ApiError, ApiPath, App, Auth, ErrorResponses, IdPath, OptionalJson};
use crate::domain::{DomainError, Timestamp, access::Role, ids::ClientId, token::TokenRequest};

/// Routes for secret keys only.
pub fn router() -> OpenApiRouter<App> {
    OpenApiRouter::new().routes(routes!(create_feedback_token))
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
    let request = TokenRequest::try_from(body)?;
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

impl TryFrom<TokenBody> for TokenRequest {
    type Error = DomainError;

    fn try_from(body: TokenBody) -> Result<Self, DomainError> {
        TokenRequest::parse(body.contact_id.as_deref(), body.ttl_seconds)
    }
}
