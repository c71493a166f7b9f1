//! Accounts, keys and bots.

use crate::{
    domain::{
        access::{ApiKey, Role, Scope},
        account::{Account, Bot},
        ids::Uuid,
        page::Cursor,
    },
    params,
    store::{
        StoreError,
        sql::{Conn, Row},
    },
};

// ---- accounts ---------------------------------------------------------------

pub(super) const ACCOUNT_COLUMNS: &str = "a.id, a.name, a.plan_id, p.api_access, a.created_at";

pub(super) fn account_from(row: &Row) -> Result<Account, StoreError> {
    Ok(Account {
        id: row.get(0)?,
        name: row.get(1)?,
        plan: row.get(2)?,
        api_access: row.get(3)?,
        created_at: row.get(4)?,
    })
}

pub(super) async fn get_account(c: &mut impl Conn, id: &str) -> Result<Account, StoreError> {
    let row = c
        .query_opt(
            &format!("SELECT {ACCOUNT_COLUMNS} FROM accounts a JOIN plans p ON p.id = a.plan_id WHERE a.id = $1"),
            params![id],
        )
        .await?
        .ok_or(StoreError::NotFound("account"))?;
    account_from(&row)
}

// ---- keys -------------------------------------------------------------------

pub(super) const KEY_COLUMNS: &str =
    "k.id, k.account_id, k.name, k.role, k.bot_id, k.prefix, k.created_at, k.expires_at, k.revoked_at, k.seq";

pub(super) fn key_from(row: &Row) -> Result<ApiKey, StoreError> {
    let role: String = row.get(3)?;
    Ok(ApiKey {
        id: row.get(0)?,
        account_id: row.get(1)?,
        name: row.get(2)?,
        role: Role::parse("role", &role).map_err(|e| StoreError::Other(e.to_string()))?,
        bot_id: row.get(4)?,
        prefix: row.get(5)?,
        created_at: row.get(6)?,
        expires_at: row.get(7)?,
        revoked_at: row.get(8)?,
    })
}

pub(super) fn key_cursor(row: &Row) -> Result<Cursor, StoreError> {
    Ok(Cursor { at: row.get(6)?, seq: row.get(9)? })
}

pub(super) async fn get_key(c: &mut impl Conn, scope: &Scope, id: &Uuid) -> Result<ApiKey, StoreError> {
    let row = c
        .query_opt(
            &format!(
                "SELECT {KEY_COLUMNS} FROM api_keys k WHERE k.id = $1 AND k.account_id = $2 AND (CAST($3 AS TEXT) IS NULL OR k.bot_id = $3)"
            ),
            params![id, &scope.account_id, scope.bot_id.as_ref()],
        )
        .await?
        .ok_or(StoreError::NotFound("key"))?;
    key_from(&row)
}

// ---- bots -------------------------------------------------------------------

pub(super) const BOT_COLUMNS: &str = "b.id, b.name, b.created_at, b.seq";

pub(super) fn bot_from(row: &Row) -> Result<Bot, StoreError> {
    Ok(Bot { id: row.get(0)?, name: row.get(1)?, created_at: row.get(2)? })
}

pub(super) async fn get_bot(c: &mut impl Conn, scope: &Scope, id: &Uuid) -> Result<Bot, StoreError> {
    let row = c
        .query_opt(
            &format!("SELECT {BOT_COLUMNS} FROM bots b WHERE b.id = $1 AND b.account_id = $2 AND (CAST($3 AS TEXT) IS NULL OR b.id = $3)"),
            params![id, &scope.account_id, scope.bot_id.as_ref()],
        )
        .await?
        .ok_or(StoreError::NotFound("bot"))?;
    bot_from(&row)
}
