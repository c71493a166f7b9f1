//! Accounts: the tenants. Every other row names its account.

use crate::{
    domain::{
        Timestamp,
        account::{Account, PLAN_NO_API, PLAN_STANDARD},
        audit::{Action, Actor, AuditEntry},
        ids::Uuid,
    },
    params,
    store::{
        StoreError,
        sql::{Conn, Row},
    },
};

const ACCOUNT_COLUMNS: &str = "a.id, a.name, a.plan_id, p.api_access, a.created_at";

fn account_from(row: &Row) -> Result<Account, StoreError> {
    Ok(Account {
        id: row.get(0)?,
        name: row.get(1)?,
        plan: row.get(2)?,
        api_access: row.get(3)?,
        created_at: row.get(4)?,
    })
}

pub(super) async fn get(c: &mut impl Conn, id: &str) -> Result<Account, StoreError> {
    let row = c
        .query_opt(
            &format!("SELECT {ACCOUNT_COLUMNS} FROM accounts a JOIN plans p ON p.id = a.plan_id WHERE a.id = $1"),
            params![id],
        )
        .await?
        .ok_or(StoreError::NotFound("account"))?;
    account_from(&row)
}

/// A new account, on the standard plan or on one without API access.
pub(super) async fn create(
    c: &mut impl Conn,
    name: &str,
    api_access: bool,
    by: &Actor,
    now: Timestamp,
) -> Result<Account, StoreError> {
    let id = Uuid::new().to_string();
    let plan = if api_access { PLAN_STANDARD } else { PLAN_NO_API };
    c.execute(
        "INSERT INTO accounts (id, name, plan_id, created_at) VALUES ($1, $2, $3, $4)",
        params![id.as_str(), name, plan, now],
    )
    .await?;
    let after = serde_json::json!({"name": name, "plan": plan});
    super::audit::append(c, &AuditEntry::new(&id, by, Action::AccountCreated, &id, None, Some(after), now)).await?;
    get(c, &id).await
}
