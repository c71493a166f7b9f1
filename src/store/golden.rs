//! Golden examples: made from a record when it is approved (or arrives
//! auto-approved), withdrawn when it changes, listed and deleted. At most one
//! per feedback record, by a unique key.

use super::{audit, bots, outbox};
use crate::{
    domain::{
        Timestamp,
        access::Scope,
        audit::{Action, Actor, AuditEntry},
        feedback::{Feedback, FeedbackType},
        golden::{GoldenExample, Turn},
        ids::Uuid,
        page::{Cursor, Page, PageRequest},
        webhook::{Event, EventType},
    },
    params,
    store::{
        StoreError,
        sql::{Conn, Row},
    },
};

/// Makes the golden example of a record: the conversation before the rated
/// answer, and the ideal answer. At most one per record (a unique key).
pub(super) async fn make(
    c: &mut impl Conn,
    account_id: &str,
    f: &Feedback,
    origin: &str,
    ideal: Option<&str>,
    by: Option<&Actor>,
    now: Timestamp,
) -> Result<(), StoreError> {
    let answer = c
        .query_opt(
            "SELECT content, created_at, seq FROM messages WHERE account_id = $1 AND id = $2",
            params![account_id, f.message_id.as_str()],
        )
        .await?
        .ok_or(StoreError::NotFound("message"))?;
    let (content, at, seq): (String, i64, i64) = (answer.get(0)?, answer.get(1)?, answer.get(2)?);
    let rows = c
        .query(
            "SELECT role, content FROM messages
             WHERE account_id = $1 AND conversation_id = $2 AND role <> 'activity'
               AND (created_at < $3 OR (created_at = $3 AND seq < $4))
             ORDER BY created_at, seq",
            params![account_id, f.conversation_id.as_str(), at, seq],
        )
        .await?;
    let turns = rows
        .iter()
        .map(|r| Ok(Turn { role: r.get(0)?, content: r.get(1)? }))
        .collect::<Result<Vec<_>, StoreError>>()?;
    let prompt = serde_json::to_string(&turns).map_err(StoreError::other)?;
    let made = c
        .query_opt(
        &format!("INSERT INTO golden_examples (id, account_id, bot_id, feedback_id, conversation_id, message_id, feedback_type,
                                      origin, prompt, ideal_response, created_at, created_by, created_by_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) ON CONFLICT (feedback_id) DO NOTHING
         RETURNING {GOLDEN_COLUMNS}"),
        params![
            &Uuid::new(),
            account_id,
            &f.bot_id,
            &f.id,
            f.conversation_id.as_str(),
            f.message_id.as_str(),
            f.feedback_type.as_str(),
            origin,
            prompt,
            ideal.unwrap_or(&content),
            now,
            by.map(|a| a.name.as_str()),
            by.map(Actor::reference)
        ],
    )
    .await?;
    if let Some(row) = made {
        let example = golden_from(&row)?;
        let event = Event::of_golden(EventType::GoldenExampleCreated, &example, Some(&f.user_id), now);
        outbox::emit(c, account_id, event);
    }
    Ok(())
}

/// Withdraws the golden example made from a record, if there is one.
pub(super) async fn withdraw(
    c: &mut impl Conn,
    account_id: &str,
    f: &Feedback,
    now: Timestamp,
) -> Result<(), StoreError> {
    let gone = c
        .query_opt(
            &format!("DELETE FROM golden_examples WHERE feedback_id = $1 RETURNING {GOLDEN_COLUMNS}"),
            params![&f.id],
        )
        .await?;
    if let Some(row) = gone {
        let example = golden_from(&row)?;
        outbox::emit(c, account_id, Event::of_golden(EventType::GoldenExampleDeleted, &example, Some(&f.user_id), now));
    }
    Ok(())
}

pub(super) const GOLDEN_COLUMNS: &str = "id, bot_id, feedback_id, conversation_id, message_id, feedback_type, origin, \
     prompt, ideal_response, created_at, seq, gap_id, created_by, created_by_id";

pub(super) fn golden_from(row: &Row) -> Result<GoldenExample, StoreError> {
    let t = row.text(5)?;
    let prompt: String = row.get(7)?;
    Ok(GoldenExample {
        id: row.get(0)?,
        bot_id: row.get(1)?,
        feedback_id: row.get(2)?,
        conversation_id: row.get(3)?,
        message_id: row.get(4)?,
        feedback_type: FeedbackType::from_db(t),
        origin: row.get(6)?,
        messages: serde_json::from_str(&prompt).unwrap_or_default(),
        ideal_response: row.get(8)?,
        created_at: row.get(9)?,
        gap_id: row.get(11)?,
        created_by: row.get(12)?,
        created_by_id: row.get(13)?,
    })
}

pub(super) async fn list(
    c: &mut impl Conn,
    scope: &Scope,
    bot: Option<&Uuid>,
    page: PageRequest,
) -> Result<Page<GoldenExample>, StoreError> {
    if let Some(b) = bot {
        bots::get(c, scope, b).await?;
    }
    let (at, seq) = page.start();
    let rows = c
        .query(
            &format!(
                "SELECT {GOLDEN_COLUMNS} FROM golden_examples
                 WHERE account_id = $1 AND (CAST($2 AS TEXT) IS NULL OR bot_id = $2)
                   AND (CAST($3 AS TEXT) IS NULL OR bot_id = $3)
                   AND (created_at < $4 OR (created_at = $4 AND seq < $5))
                 ORDER BY created_at DESC, seq DESC LIMIT $6"
            ),
            params![&scope.account_id, scope.bot_id.as_ref(), bot, at, seq, page.limit + 1],
        )
        .await?;
    let rows = rows
        .iter()
        .map(|r| Ok((golden_from(r)?, Cursor { at: r.get(9)?, seq: r.get(10)? })))
        .collect::<Result<_, StoreError>>()?;
    Ok(Page::from_rows(rows, page.limit))
}

pub(super) async fn delete(
    c: &mut impl Conn,
    scope: &Scope,
    id: &Uuid,
    by: &Actor,
    now: Timestamp,
) -> Result<(), StoreError> {
    let found = c
        .query_opt(
            &format!(
                "SELECT {GOLDEN_COLUMNS} FROM golden_examples
                 WHERE id = $1 AND account_id = $2 AND (CAST($3 AS TEXT) IS NULL OR bot_id = $3)"
            ),
            params![id, &scope.account_id, scope.bot_id.as_ref()],
        )
        .await?
        .ok_or(StoreError::NotFound("golden example"))?;
    let example = golden_from(&found)?;
    let before = serde_json::json!({"origin": example.origin, "bot_id": example.bot_id});
    outbox::emit(c, &scope.account_id, Event::of_golden(EventType::GoldenExampleDeleted, &example, None, now));
    let entry = AuditEntry::new(&scope.account_id, by, Action::GoldenExampleDeleted, id, Some(before), None, now);
    audit::append(c, &entry).await?;
    let n = c
        .execute(
            "DELETE FROM golden_examples WHERE id = $1 AND account_id = $2 AND (CAST($3 AS TEXT) IS NULL OR bot_id = $3)",
            params![id, &scope.account_id, scope.bot_id.as_ref()],
        )
        .await?;
    if n == 0 { Err(StoreError::NotFound("golden example")) } else { Ok(()) }
}
