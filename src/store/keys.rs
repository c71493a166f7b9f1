//! API keys: created with the hash of their secret (never the secret),
//! listed, revoked, and found by the hash a request presents.

use super::{accounts, audit, bots};
use crate::{
    domain::{
        Timestamp,
        access::{ApiKey, KeyRecord, NewKey, Role, Scope},
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

const KEY_COLUMNS: &str =
    "k.id, k.account_id, k.name, k.role, k.bot_id, k.prefix, k.created_at, k.expires_at, k.revoked_at, k.seq";

fn key_from(row: &Row) -> Result<ApiKey, StoreError> {
    let role: String = row.get(3)?;
    Ok(ApiKey {
        id: row.get(0)?,
        account_id: row.get(1)?,
        name: row.get(2)?,
        role: Role::parse("role", &role).map_err(StoreError::other)?,
        bot_id: row.get(4)?,
        prefix: row.get(5)?,
        created_at: row.get(6)?,
        expires_at: row.get(7)?,
        revoked_at: row.get(8)?,
    })
}

async fn get(c: &mut impl Conn, scope: &Scope, id: &Uuid) -> Result<ApiKey, StoreError> {
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

/// The key whose `column` is `value`, with whether its account's plan has API access.
async fn record_where(c: &mut impl Conn, column: &str, value: &str) -> Result<Option<KeyRecord>, StoreError> {
    let row = c
        .query_opt(
            &format!(
                "SELECT {KEY_COLUMNS}, p.api_access FROM api_keys k
                 JOIN accounts a ON a.id = k.account_id JOIN plans p ON p.id = a.plan_id
                 WHERE k.{column} = $1"
            ),
            params![value],
        )
        .await?;
    row.map(|r| Ok(KeyRecord { key: key_from(&r)?, api_access: r.get(10)? })).transpose()
}

/// The key with this secret hash.
pub(super) async fn find(c: &mut impl Conn, secret_hash: &str) -> Result<Option<KeyRecord>, StoreError> {
    record_where(c, "secret_hash", secret_hash).await
}

/// The key with this id.
pub(super) async fn find_by_id(c: &mut impl Conn, id: &Uuid) -> Result<Option<KeyRecord>, StoreError> {
    record_where(c, "id", id.as_str()).await
}

/// A key by id in any account.
pub(super) async fn by_id(c: &mut impl Conn, id: &Uuid) -> Result<ApiKey, StoreError> {
    let row = c
        .query_opt(&format!("SELECT {KEY_COLUMNS} FROM api_keys k WHERE k.id = $1"), params![id])
        .await?
        .ok_or(StoreError::NotFound("key"))?;
    key_from(&row)
}

/// A new key of an existing account (and bot, if bound to one).
pub(super) async fn create(
    c: &mut impl Conn,
    key: &NewKey,
    secret_hash: &str,
    prefix: &str,
    by: &Actor,
    now: Timestamp,
) -> Result<ApiKey, StoreError> {
    accounts::get(c, &key.account_id).await?;
    let scope = Scope::account(key.account_id.clone());
    if let Some(bot) = &key.bot_id {
        bots::get(c, &scope, bot).await?;
    }
    let id = Uuid::new();
    c.execute(
        "INSERT INTO api_keys (id, account_id, bot_id, role, name, prefix, secret_hash, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        params![
            &id,
            &key.account_id,
            key.bot_id.as_ref(),
            key.role.as_str(),
            key.name.as_str(),
            prefix,
            secret_hash,
            now,
            key.expires_at
        ],
    )
    .await?;
    // What the key may do, never its secret (nor the secret's first characters).
    let after =
        serde_json::json!({"name": key.name, "role": key.role, "bot_id": key.bot_id, "expires_at": key.expires_at});
    audit::append(c, &AuditEntry::new(&key.account_id, by, Action::KeyCreated, &id, None, Some(after), now)).await?;
    get(c, &scope, &id).await
}

/// The keys in scope, newest first.
pub(super) async fn list(c: &mut impl Conn, scope: &Scope, page: PageRequest) -> Result<Page<ApiKey>, StoreError> {
    let (at, seq) = page.start();
    let rows = c
        .query(
            &format!(
                "SELECT {KEY_COLUMNS} FROM api_keys k
                 WHERE k.account_id = $1 AND (CAST($2 AS TEXT) IS NULL OR k.bot_id = $2)
                   AND (k.created_at < $3 OR (k.created_at = $3 AND k.seq < $4))
                 ORDER BY k.created_at DESC, k.seq DESC LIMIT $5"
            ),
            params![&scope.account_id, scope.bot_id.as_ref(), at, seq, page.limit + 1],
        )
        .await?;
    let rows = rows
        .iter()
        .map(|r| Ok((key_from(r)?, Cursor { at: r.get(6)?, seq: r.get(9)? })))
        .collect::<Result<_, StoreError>>()?;
    Ok(Page::from_rows(rows, page.limit))
}

/// Revokes a key; revoking it again keeps the first time.
pub(super) async fn revoke(
    c: &mut impl Conn,
    scope: &Scope,
    id: &Uuid,
    by: &Actor,
    now: Timestamp,
) -> Result<ApiKey, StoreError> {
    if get(c, scope, id).await?.revoked_at.is_none() {
        let entry = AuditEntry::new(
            &scope.account_id,
            by,
            Action::KeyRevoked,
            id,
            Some(serde_json::json!({"revoked": false})),
            Some(serde_json::json!({"revoked": true})),
            now,
        );
        audit::append(c, &entry).await?;
        // Its dashboard sessions end with it.
        c.execute("DELETE FROM sessions WHERE key_id = $1", params![id]).await?;
    }
    c.execute(
        "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $3) WHERE id = $1 AND account_id = $2",
        params![id, &scope.account_id, now],
    )
    .await?;
    get(c, scope, id).await
}
