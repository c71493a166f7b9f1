//! The audit log over the API (admin keys): every change made by a person,
//! a key or the command line, newest first. Read-only: no route edits or
//! deletes an entry.

use axum::{Json, extract::State};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{ApiError, ApiQuery, App, Auth, ErrorResponses, PageDoc};
use crate::domain::{
    DomainError, Timestamp,
    access::Role,
    audit::{AuditEntry, AuditFilter},
    ids::Uuid,
    page::{Page, PageRequest},
};

pub fn router() -> OpenApiRouter<App> {
    OpenApiRouter::new().routes(routes!(audit_log))
}

/// The filters of `GET /v1/audit-log`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// Who made the change: `user:<id>`, `key:<id>` or `cli`.
    pub actor: Option<String>,
    /// One action, such as `key.created` or `settings.updated`.
    pub action: Option<String>,
    /// Entries at or after this instant (RFC 3339).
    pub from: Option<String>,
    /// Entries before this instant (RFC 3339).
    pub to: Option<String>,
    /// Items a page, 1–500 (default 50).
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl AuditQuery {
    fn parse(&self) -> Result<(AuditFilter, PageRequest), DomainError> {
        let from = self.from.as_deref().map(|t| Timestamp::parse_instant("from", t)).transpose()?;
        let to = self.to.as_deref().map(|t| Timestamp::parse_instant("to", t)).transpose()?;
        let filter = AuditFilter::parse(self.actor.as_deref(), self.action.as_deref(), from, to)?;
        Ok((filter, PageRequest::parse(self.limit, self.cursor.as_deref())?))
    }
}

/// The account's audit log, newest first (admin keys not bound to a bot).
#[utoipa::path(get, path = "/v1/audit-log", tag = "audit", params(AuditQuery),
    responses((status = 200, description = "A page of entries", body = PageDoc<AuditEntryDoc>), ErrorResponses))]
async fn audit_log(
    State(app): State<App>,
    Auth(principal): Auth,
    ApiQuery(query): ApiQuery<AuditQuery>,
) -> Result<Json<Page<AuditEntry>>, ApiError> {
    principal.require(Role::Admin)?;
    if principal.bot_id.is_some() {
        return Err(
            DomainError::forbidden("the audit log is the whole account's: it needs a key not bound to a bot").into()
        );
    }
    let (filter, page) = query.parse()?;
    Ok(Json(app.audit_log(&principal.scope(), &filter, page).await?))
}

/// Who made a change.
#[derive(Serialize, ToSchema)]
#[schema(as = Actor)]
pub struct ActorDoc {
    /// `user`, `key` or `cli` (the command line on the server).
    #[serde(rename = "type")]
    pub kind: String,
    pub id: String,
    /// The person's display name or the key's name.
    pub name: String,
}

/// What a change was made to.
#[derive(Serialize, ToSchema)]
#[schema(as = AuditTarget)]
pub struct TargetDoc {
    /// `bot`, `key`, `user`, `feedback`, `golden_example`, `account`.
    #[serde(rename = "type")]
    pub kind: String,
    pub id: String,
}

/// One entry of the audit log.
#[derive(Serialize, ToSchema)]
#[schema(as = AuditEntry)]
pub struct AuditEntryDoc {
    pub id: Uuid,
    pub at: Timestamp,
    pub actor: ActorDoc,
    /// `resource.verb`: `settings.updated`, `key.created`, `user.invited`, ...
    pub action: String,
    pub target: TargetDoc,
    /// Configuration values before the change (never a secret, never an end user's text).
    pub before: Option<serde_json::Value>,
    /// Configuration values after the change.
    pub after: Option<serde_json::Value>,
}
