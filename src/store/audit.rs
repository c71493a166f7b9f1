//! The audit log: entries appended in the transaction of the change they
//! record, and listed newest first. No statement here (or anywhere) edits or
//! deletes an entry; the schema refuses it too.

use crate::{
    domain::{
        Timestamp,
        access::Scope,
        audit::{Actor, ActorKind, AuditEntry, AuditFilter, Target},
        page::{Cursor, Page, PageRequest},
    },
    params,
    store::{
        StoreError,
        sql::{Conn, Row},
    },
};

/// Appends an entry.
pub(super) async fn append(c: &mut impl Conn, entry: &AuditEntry) -> Result<(), StoreError> {
    let json = |v: &Option<serde_json::Value>| v.as_ref().map(serde_json::Value::to_string);
    c.execute(
        "INSERT INTO audit_log (id, account_id, at, actor_type, actor_id, actor_name, action, target_type, target_id, before, after)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        params![
            &entry.id,
            &entry.account_id,
            entry.at,
            entry.actor.kind.as_str(),
            &entry.actor.id,
            &entry.actor.name,
            &entry.action,
            &entry.target.kind,
            &entry.target.id,
            json(&entry.before),
            json(&entry.after)
        ],
    )
    .await
    .map(drop)
}

fn entry_from(row: &Row) -> Result<AuditEntry, StoreError> {
    let json = |i: usize| -> Result<Option<serde_json::Value>, StoreError> {
        let raw: Option<String> = row.get(i)?;
        raw.map(|r| serde_json::from_str(&r).map_err(StoreError::other)).transpose()
    };
    let kind: String = row.get(3)?;
    Ok(AuditEntry {
        id: row.get(0)?,
        account_id: row.get(1)?,
        at: row.get(2)?,
        actor: Actor { kind: ActorKind::from_db(&kind), id: row.get(4)?, name: row.get(5)? },
        action: row.get(6)?,
        target: Target { kind: row.get(7)?, id: row.get(8)? },
        before: json(9)?,
        after: json(10)?,
    })
}

/// The entries of the scope's account, newest first, filtered.
pub(super) async fn list(
    c: &mut impl Conn,
    scope: &Scope,
    filter: &AuditFilter,
    page: PageRequest,
) -> Result<Page<AuditEntry>, StoreError> {
    let (at, seq) = page.start();
    let (actor_type, actor_id) = match filter.actor.as_deref() {
        Some("cli") => (Some("cli"), None),
        Some(a) => a.split_once(':').map_or((None, None), |(k, id)| (Some(k), Some(id))),
        None => (None, None),
    };
    let rows = c
        .query(
            "SELECT id, account_id, at, actor_type, actor_id, actor_name, action, target_type, target_id, before, after, seq
             FROM audit_log
             WHERE account_id = $1
               AND (CAST($2 AS TEXT) IS NULL OR actor_type = $2)
               AND (CAST($3 AS TEXT) IS NULL OR actor_id = $3)
               AND (CAST($4 AS TEXT) IS NULL OR action = $4)
               AND at >= $5 AND at < $6
               AND (at < $7 OR (at = $7 AND seq < $8))
             ORDER BY at DESC, seq DESC LIMIT $9",
            params![
                &scope.account_id,
                actor_type,
                actor_id,
                filter.action.map(|a| a.as_str()),
                filter.from.unwrap_or(Timestamp(i64::MIN)),
                filter.to.unwrap_or(Timestamp(i64::MAX)),
                at,
                seq,
                page.limit + 1
            ],
        )
        .await?;
    let rows = rows
        .iter()
        .map(|r| Ok((entry_from(r)?, Cursor { at: r.get(2)?, seq: r.get(11)? })))
        .collect::<Result<_, StoreError>>()?;
    Ok(Page::from_rows(rows, page.limit))
}
