//! Accounts (tenants), their plans, and bots.

use serde::Serialize;

use super::{
    DomainError, Timestamp,
    ids::{MAX_SHORT_TEXT_LEN, Uuid, short_text},
};

/// The account every fresh installation starts with.
pub const DEFAULT_ACCOUNT_ID: &str = "default";
/// The plan with API access.
pub const PLAN_STANDARD: &str = "standard";
/// The plan without API access (its keys get 403 on the API).
pub const PLAN_NO_API: &str = "no_api";

/// A tenant.
#[derive(Debug, Clone, Serialize)]
pub struct Account {
    pub id: String,
    pub name: String,
    pub plan: String,
    pub api_access: bool,
    pub created_at: Timestamp,
}

/// Parses an account name.
pub fn account_name(raw: &str) -> Result<String, DomainError> {
    short_text("name", raw, MAX_SHORT_TEXT_LEN)
}

/// One AI assistant of an account.
#[derive(Debug, Clone, Serialize)]
pub struct Bot {
    pub id: Uuid,
    pub name: String,
    pub created_at: Timestamp,
}

/// Parses a bot name.
pub fn bot_name(raw: &str) -> Result<String, DomainError> {
    short_text("name", raw, MAX_SHORT_TEXT_LEN)
}
