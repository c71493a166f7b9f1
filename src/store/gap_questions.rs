//! What the embedding worker represents off the request path (SPEC §10):
//! the questions of knowledge gaps, and the reasons given with thumbs. A
//! thumbs-down queues its answer's question, and a thumb with a reason its
//! reason (each distinct reason once an account), in the transaction that
//! writes it; the worker reads each queue in order and stores each text's
//! vector (or, for a question, that it has none).
//!
//! A question waits first in `gap_queue`, appended to (one page a write
//! transaction, whatever the answers), and moves into `gap_questions` (one
//! row an answer, found by answer and by gap id) in batches, off the
//! request path ([`drain`]).

use base64::{Engine as _, engine::general_purpose::STANDARD};

use crate::{
    domain::{
        Timestamp,
        analytics::groups_by_meaning,
        feedback::{Feedback, FeedbackType},
        gaps::{PendingQuestion, gap_id},
        meaning::vector,
    },
    params,
    store::{
        StoreError,
        messages::QUESTION_BEFORE,
        sql::{Conn, ROWS_A_STATEMENT, Value, insert_sql, runs_of},
    },
};

const QUEUE_HEAD: &str = "INSERT INTO gap_queue (account_id, message_id, bot_id, queued_at)";
const QUESTION_HEAD: &str = "INSERT INTO gap_questions (account_id, message_id, bot_id, queued_at, alias)";
const QUESTION_TAIL: &str = " ON CONFLICT (account_id, message_id) DO NOTHING";
/// Queued questions one [`drain`] moves at most.
pub(super) const DRAIN: i64 = 2_000;

const REASON_HEAD: &str = "INSERT INTO reason_vectors (account_id, reason, queued_at)";
const REASON_TAIL: &str = " ON CONFLICT (account_id, reason) DO NOTHING";

/// Queues the questions of the current thumbs-down among `records` (an
/// answer already queued stays as it is), and their reasons not queued yet
/// (those short enough to group by meaning), in inserts held back until the
/// transaction's next statement.
pub(super) async fn queue(c: &mut impl Conn, account_id: &str, records: &[&Feedback]) -> Result<(), StoreError> {
    let reasons: Vec<(&str, Timestamp)> = records
        .iter()
        .filter(|f| f.retracted_at.is_none())
        .filter_map(|f| f.reason.as_deref().map(|r| (r.trim(), f.submitted_at)))
        .filter(|(r, _)| groups_by_meaning(r))
        .collect();
    for run in runs_of(&reasons, ROWS_A_STATEMENT) {
        let sql = insert_sql(REASON_HEAD, 3, run.len(), REASON_TAIL);
        let params: Vec<Value> = run
            .iter()
            .flat_map(|(r, at)| [Value::Text(account_id.to_owned()), Value::Text((*r).to_owned()), Value::Int(at.0)])
            .collect();
        c.execute_later(&sql, &params).await?;
    }
    let down: Vec<&&Feedback> =
        records.iter().filter(|f| f.feedback_type == FeedbackType::Negative && f.retracted_at.is_none()).collect();
    for run in runs_of(&down, ROWS_A_STATEMENT) {
        let sql = insert_sql(QUEUE_HEAD, 4, run.len(), "");
        let params: Vec<Value> = run
            .iter()
            .flat_map(|f| {
                [
                    Value::Text(account_id.to_owned()),
                    Value::Text(f.message_id.as_str().to_owned()),
                    Value::Text(f.bot_id.as_str().to_owned()),
                    Value::Int(f.submitted_at.0),
                ]
            })
            .collect();
        c.execute_later(&sql, &params).await?;
    }
    Ok(())
}

/// Moves the oldest `limit` queued questions into `gap_questions`, in queue
/// order, each with its own gap id (which names the answer while it waits
/// alone); an answer already there stays as it is. Returns how many moved.
/// On PostgreSQL the moved rows are locked first: a concurrent drain waits,
/// then finds them gone.
pub(super) async fn drain(c: &mut impl Conn, limit: i64) -> Result<u64, StoreError> {
    let rows = c
        .query(
            &format!(
                "SELECT seq, account_id, message_id, bot_id, queued_at FROM gap_queue ORDER BY seq LIMIT $1{}",
                c.dialect().lock_rows()
            ),
            params![limit],
        )
        .await?;
    let mut seqs = Vec::with_capacity(rows.len());
    let mut questions = Vec::with_capacity(rows.len());
    for r in &rows {
        let (bot, message): (crate::domain::ids::Uuid, String) = (r.get(3)?, r.get(2)?);
        seqs.push(Value::Int(r.get(0)?));
        let alias = gap_id(&bot, &message);
        let (account, at): (String, i64) = (r.get(1)?, r.get(4)?);
        questions.push([account.into(), message.into(), bot.as_str().into(), Value::Int(at), alias.into()]);
    }
    for run in runs_of(&questions, ROWS_A_STATEMENT) {
        let params: Vec<Value> = run.iter().flatten().cloned().collect();
        c.execute(&insert_sql(QUESTION_HEAD, 5, run.len(), QUESTION_TAIL), &params).await?;
    }
    for run in runs_of(&seqs, ROWS_A_STATEMENT) {
        let sql = format!("DELETE FROM gap_queue WHERE seq IN ({})", super::sql::placeholders(1, run.len()));
        c.execute(&sql, run).await?;
    }
    Ok(seqs.len() as u64)
}

/// Whether any question waits in the queue.
pub(super) async fn queued(c: &mut impl Conn) -> Result<bool, StoreError> {
    Ok(c.query_opt("SELECT seq FROM gap_queue LIMIT 1", &[]).await?.is_some())
}

/// The oldest `limit` questions still to represent, in queue order, with the
/// user message before each answer (none if the answer has none).
pub(super) async fn pending(c: &mut impl Conn, limit: i64) -> Result<Vec<PendingQuestion>, StoreError> {
    let rows = c
        .query(
            &format!(
                "SELECT g.seq, g.account_id, g.message_id, {QUESTION_BEFORE}
                 FROM gap_questions g
                 LEFT JOIN messages m ON m.account_id = g.account_id AND m.id = g.message_id
                 WHERE g.represented_at IS NULL ORDER BY g.seq LIMIT $1"
            ),
            params![limit],
        )
        .await?;
    rows.iter()
        .map(|r| {
            Ok(PendingQuestion { seq: r.get(0)?, account_id: r.get(1)?, message_id: r.get(2)?, question: r.get(3)? })
        })
        .collect()
}

/// Stores what the worker made of queued questions: each one's vector by
/// `model`, or `None` for a question it has nothing to represent of. A
/// question with a vector takes its place on its shelf, to be linked.
pub(super) async fn represent(
    c: &mut impl Conn,
    model: &str,
    done: &[(i64, Option<Vec<f32>>)],
    now: Timestamp,
) -> Result<(), StoreError> {
    for (seq, v) in done {
        set_vector(c, "gap_questions", *seq, model, v.as_deref(), now).await?;
        if v.is_some() {
            super::gap_groups::shelve(c, *seq).await?;
        }
    }
    Ok(())
}

/// Marks row `seq` of a queue (`table`) represented at `now`, with its
/// vector by `model` in its stored form (none: nothing to represent).
async fn set_vector(
    c: &mut impl Conn,
    table: &str,
    seq: i64,
    model: &str,
    v: Option<&[f32]>,
    now: Timestamp,
) -> Result<(), StoreError> {
    let stored = v.map(|v| STANDARD.encode(vector::encode(v)));
    let sql = format!("UPDATE {table} SET represented_at = $2, model = $3, vector = $4 WHERE seq = $1");
    c.execute(&sql, params![seq, now, stored.as_ref().map(|_| model), stored.as_deref()]).await?;
    Ok(())
}

/// Queues again every question and reason represented by another model
/// than `model` (the configured one changed): their vectors are not
/// comparable, so neither are their neighbours and groups, and every shelf
/// changed.
pub(super) async fn requeue_other_models(c: &mut impl Conn, model: &str) -> Result<u64, StoreError> {
    let other = "represented_at IS NOT NULL AND model IS NOT NULL AND model <> $1";
    let questions = c
        .execute(
            &format!(
                "UPDATE gap_questions SET represented_at = NULL, model = NULL, vector = NULL, neighbours = NULL,
                     group_id = NULL, central = 0 WHERE {other}"
            ),
            params![model],
        )
        .await?;
    if questions > 0 {
        c.execute("UPDATE gap_shelves SET changed = changed + 1, removed = removed + 1", &[]).await?;
    }
    let sql = format!("UPDATE reason_vectors SET represented_at = NULL, model = NULL, vector = NULL WHERE {other}");
    Ok(questions + c.execute(&sql, params![model]).await?)
}

/// The oldest `limit` reasons still to represent, in queue order.
pub(super) async fn pending_reasons(c: &mut impl Conn, limit: i64) -> Result<Vec<(i64, String)>, StoreError> {
    let rows = c
        .query(
            "SELECT seq, reason FROM reason_vectors WHERE represented_at IS NULL ORDER BY seq LIMIT $1",
            params![limit],
        )
        .await?;
    rows.iter().map(|r| Ok((r.get(0)?, r.get(1)?))).collect()
}

/// Stores the vectors (by `model`) of represented reasons, by queue place.
pub(super) async fn represent_reasons(
    c: &mut impl Conn,
    model: &str,
    done: &[(i64, Vec<f32>)],
    now: Timestamp,
) -> Result<(), StoreError> {
    for (seq, v) in done {
        set_vector(c, "reason_vectors", *seq, model, Some(v), now).await?;
    }
    Ok(())
}

/// The vectors of those of `reasons` (as given, trimmed) an account has
/// represented.
pub(super) async fn reason_vectors(
    c: &mut impl Conn,
    account_id: &str,
    reasons: &[String],
) -> Result<Vec<(String, Vec<f32>)>, StoreError> {
    let mut found = Vec::new();
    for chunk in reasons.chunks(200) {
        let mut values: Vec<Value> = vec![Value::Text(account_id.to_owned())];
        values.extend(chunk.iter().map(|r| Value::Text(r.clone())));
        let sql = format!(
            "SELECT reason, vector FROM reason_vectors WHERE account_id = $1 AND vector IS NOT NULL AND reason IN ({})",
            super::sql::placeholders(2, chunk.len())
        );
        for r in c.query(&sql, &values).await? {
            if let Some(v) = vector_of(r.get::<Option<String>>(1)?.as_deref()) {
                found.push((r.get(0)?, v));
            }
        }
    }
    Ok(found)
}

/// After an erasure took feedback away: forgets the vectors of `reasons`
/// that no feedback of the account gives any more.
pub(super) async fn forget_reasons(c: &mut impl Conn, account_id: &str, reasons: &[String]) -> Result<(), StoreError> {
    for reason in reasons {
        c.execute(
            "DELETE FROM reason_vectors WHERE account_id = $1 AND reason = $2
               AND NOT EXISTS (SELECT 1 FROM message_feedback f WHERE f.account_id = $1 AND TRIM(f.reason) = $2)",
            params![account_id, reason.as_str()],
        )
        .await?;
    }
    Ok(())
}

/// The stored form of a vector read back, if it is one.
pub(super) fn vector_of(stored: Option<&str>) -> Option<Vec<f32>> {
    vector::decode(&STANDARD.decode(stored?).ok()?)
}
