//! Bots: the assistants of an account, each born with its settings row.

use crate::{
    domain::{
        Timestamp,
        access::Scope,
        account::Bot,
        audit::{Action, Actor, AuditEntry},
        ids::Uuid,
        page::{Cursor, Page, PageRequest},
    },
    params,
    store::{
        StoreError,
        sql::{Conn, Row},
    },
};

const BOT_COLUMNS: &str = "b.id, b.name, b.created_at, b.seq";

fn bot_from(row: &Row) -> Result<Bot, StoreError> {
    Ok(Bot { id: row.get(0)?, name: row.get(1)?, created_at: row.get(2)? })
}

/// A bot in the caller's scope.
pub(super) async fn get(c: &mut impl Conn, scope: &Scope, id: &Uuid) -> Result<Bot, StoreError> {
    let row = c
        .query_opt(
            &format!("SELECT {BOT_COLUMNS} FROM bots b WHERE b.id = $1 AND b.account_id = $2 AND (CAST($3 AS TEXT) IS NULL OR b.id = $3)"),
            params![id, &scope.account_id, scope.bot_id.as_ref()],
        )
        .await?
        .ok_or(StoreError::NotFound("bot"))?;
    bot_from(&row)
}

/// A new bot with its default settings, in one transaction.
pub(super) async fn create(
    c: &mut impl Conn,
    account_id: &str,
    name: &str,
    by: &Actor,
    now: Timestamp,
) -> Result<Bot, StoreError> {
    let id = Uuid::new();
    c.execute(
        "INSERT INTO bots (id, account_id, name, created_at) VALUES ($1, $2, $3, $4)",
        params![&id, account_id, name, now],
    )
    .await?;
    // Every bot has its settings row from birth, with the defaults.
    c.execute(
        "INSERT INTO bot_settings (bot_id, account_id, updated_at) VALUES ($1, $2, $3)",
        params![&id, account_id, now],
    )
    .await?;
    let after = serde_json::json!({"name": name});
    super::audit::append(c, &AuditEntry::new(account_id, by, Action::BotCreated, &id, None, Some(after), now)).await?;
    get(c, &Scope::account(account_id), &id).await
}

/// The bots in scope, newest first.
pub(super) async fn list(c: &mut impl Conn, scope: &Scope, page: PageRequest) -> Result<Page<Bot>, StoreError> {
    let (at, seq) = page.start();
    let rows = c
        .query(
            &format!(
                "SELECT {BOT_COLUMNS} FROM bots b
                 WHERE b.account_id = $1 AND (CAST($2 AS TEXT) IS NULL OR b.id = $2)
                   AND (b.created_at < $3 OR (b.created_at = $3 AND b.seq < $4))
                 ORDER BY b.created_at DESC, b.seq DESC LIMIT $5"
            ),
            params![&scope.account_id, scope.bot_id.as_ref(), at, seq, page.limit + 1],
        )
        .await?;
    let rows = rows
        .iter()
        .map(|r| Ok((bot_from(r)?, Cursor { at: r.get(2)?, seq: r.get(3)? })))
        .collect::<Result<_, StoreError>>()?;
    Ok(Page::from_rows(rows, page.limit))
}
