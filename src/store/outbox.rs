//! The outbox of webhooks (SPEC §13): an event is recorded in the
//! transaction of the change that causes it. A write calls [`emit`] where
//! it makes the change; just before the transaction commits, [`flush`]
//! (the engine's before-commit hook, after the rollups') writes a delivery
//! for each webhook of the account that wants the event, in multi-row
//! inserts. An account without webhooks costs one indexed read a commit.
//! A unit that fails inside a savepoint takes its events back
//! ([`mark`], [`rewind`]); a transaction that rolls back forgets them all.

use std::collections::BTreeMap;

use crate::{
    domain::{
        Timestamp,
        ids::Uuid,
        webhook::{Event, Subscription, events_from_column},
    },
    params,
    store::{
        StoreError,
        sql::{Conn, Value, insert_sql, runs_of},
    },
};

/// The events a transaction emitted, with their accounts, in order.
type Pending = Vec<(String, Event)>;

const INSERT_HEAD: &str = "INSERT INTO webhook_deliveries (webhook_id, event_id, account_id, event_type,
     conversation_id, person, body, status, attempts, next_attempt_at, retry_from, created_at)";
const WIDTH: usize = 12;
/// Deliveries a statement, at most.
const ROWS_A_STATEMENT: usize = 64;

/// Records that `event` happened in account `account_id`, to be delivered
/// if the transaction commits.
pub(super) fn emit(c: &mut impl Conn, account_id: &str, event: Event) {
    c.tx_local().get_or_default::<Pending>().push((account_id.to_owned(), event));
}

/// How many events the transaction emitted so far (see [`rewind`]).
pub(super) fn mark(c: &mut impl Conn) -> usize {
    c.tx_local().get_or_default::<Pending>().len()
}

/// Forgets the events emitted since `mark`: their unit rolled back to a savepoint.
pub(super) fn rewind(c: &mut impl Conn, mark: usize) {
    c.tx_local().get_or_default::<Pending>().truncate(mark);
}

/// Writes a delivery of each emitted event to each webhook that wants it.
pub(super) async fn flush(c: &mut impl Conn) -> Result<(), StoreError> {
    let pending = c.tx_local().take::<Pending>();
    if pending.is_empty() {
        return Ok(());
    }
    let mut by_account: BTreeMap<&str, Vec<&Event>> = BTreeMap::new();
    for (account, event) in &pending {
        by_account.entry(account).or_default().push(event);
    }
    let now = Timestamp::now();
    for (account, events) in by_account {
        let hooks = subscriptions(c, account).await?;
        if hooks.is_empty() {
            continue;
        }
        let rows: Vec<(&Uuid, &Event)> =
            events.iter().flat_map(|e| hooks.iter().filter(|(_, s)| s.wants(e)).map(move |(id, _)| (id, *e))).collect();
        for run in runs_of(&rows, ROWS_A_STATEMENT) {
            let params: Vec<Value> = run.iter().flat_map(|(id, e)| row(id, account, e, now)).collect();
            c.execute_later(&insert_sql(INSERT_HEAD, WIDTH, run.len(), ""), &params).await?;
        }
    }
    Ok(())
}

/// Queues `event` for one webhook only (a `ping`).
pub(super) async fn enqueue(
    c: &mut impl Conn,
    webhook_id: &Uuid,
    account_id: &str,
    event: &Event,
    now: Timestamp,
) -> Result<(), StoreError> {
    c.execute(&insert_sql(INSERT_HEAD, WIDTH, 1, ""), &row(webhook_id, account_id, event, now)).await.map(drop)
}

fn row(webhook_id: &Uuid, account_id: &str, e: &Event, now: Timestamp) -> Vec<Value> {
    vec![
        webhook_id.into(),
        e.id.as_str().into(),
        account_id.into(),
        e.event_type.as_str().into(),
        e.conversation_id.as_deref().into(),
        e.person.as_deref().into(),
        e.body.as_str().into(),
        "pending".into(),
        Value::Int(0),
        now.into(),
        now.into(),
        now.into(),
    ]
}

/// The account's active webhooks and what each wants.
async fn subscriptions(c: &mut impl Conn, account_id: &str) -> Result<Vec<(Uuid, Subscription)>, StoreError> {
    let rows = c
        .query(
            "SELECT id, events, bot_id, only_negative FROM webhooks WHERE account_id = $1 AND active = 1",
            params![account_id],
        )
        .await?;
    rows.iter()
        .map(|r| {
            let events: String = r.get(1)?;
            let only_negative: i64 = r.get(3)?;
            Ok((
                r.get(0)?,
                Subscription {
                    events: events_from_column(&events),
                    bot_id: r.get(2)?,
                    only_negative: only_negative == 1,
                },
            ))
        })
        .collect()
}
