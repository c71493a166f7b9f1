//! The questions of knowledge gaps, represented off the request path
//! (SPEC §10): a thumbs-down queues its answer's question in the
//! transaction that writes it; the embedding worker reads the queue in
//! order, and stores each question's vector (or that it has none).

use base64::{Engine as _, engine::general_purpose::STANDARD};

use crate::{
    domain::{
        Timestamp,
        feedback::{Feedback, FeedbackType},
        gaps::{PendingQuestion, vector},
    },
    params,
    store::{
        StoreError,
        sql::{Conn, ROWS_A_STATEMENT, Value, insert_sql, runs_of},
    },
};

const QUEUE_HEAD: &str = "INSERT INTO gap_questions (account_id, message_id, bot_id, queued_at)";
const QUEUE_TAIL: &str = " ON CONFLICT (account_id, message_id) DO NOTHING";

/// Queues the questions of the current thumbs-down among `records` (an
/// answer already queued stays as it is), in inserts held back until the
/// transaction's next statement.
pub(super) async fn queue(c: &mut impl Conn, account_id: &str, records: &[&Feedback]) -> Result<(), StoreError> {
    let down: Vec<&&Feedback> =
        records.iter().filter(|f| f.feedback_type == FeedbackType::Negative && f.retracted_at.is_none()).collect();
    for run in runs_of(&down, ROWS_A_STATEMENT) {
        let sql = insert_sql(QUEUE_HEAD, 4, run.len(), QUEUE_TAIL);
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

/// The oldest `limit` questions still to represent, in queue order, with the
/// user message before each answer (none if the answer has none).
pub(super) async fn pending(c: &mut impl Conn, limit: i64) -> Result<Vec<PendingQuestion>, StoreError> {
    let rows = c
        .query(
            "SELECT g.seq, g.account_id, g.message_id,
                (SELECT q.content FROM messages q
                  WHERE q.account_id = m.account_id AND q.conversation_id = m.conversation_id AND q.role = 'user'
                    AND (q.created_at < m.created_at OR (q.created_at = m.created_at AND q.seq < m.seq))
                  ORDER BY q.created_at DESC, q.seq DESC LIMIT 1)
             FROM gap_questions g
             LEFT JOIN messages m ON m.account_id = g.account_id AND m.id = g.message_id
             WHERE g.represented_at IS NULL ORDER BY g.seq LIMIT $1",
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
/// `model`, or `None` for a question it has nothing to represent of.
pub(super) async fn represent(
    c: &mut impl Conn,
    model: &str,
    done: &[(i64, Option<Vec<f32>>)],
    now: Timestamp,
) -> Result<(), StoreError> {
    for (seq, v) in done {
        let stored = v.as_ref().map(|v| STANDARD.encode(vector::encode(v)));
        c.execute(
            "UPDATE gap_questions SET represented_at = $2, model = $3, vector = $4 WHERE seq = $1",
            params![*seq, now, stored.as_ref().map(|_| model), stored.as_deref()],
        )
        .await?;
    }
    Ok(())
}

/// Queues again every question represented by another model than `model`
/// (the configured one changed): their vectors are not comparable.
pub(super) async fn requeue_other_models(c: &mut impl Conn, model: &str) -> Result<u64, StoreError> {
    c.execute(
        "UPDATE gap_questions SET represented_at = NULL, model = NULL, vector = NULL
         WHERE represented_at IS NOT NULL AND model IS NOT NULL AND model <> $1",
        params![model],
    )
    .await
}

/// The stored form of a vector read back, if it is one.
pub(super) fn vector_of(stored: Option<&str>) -> Option<Vec<f32>> {
    vector::decode(&STANDARD.decode(stored?).ok()?)
}
