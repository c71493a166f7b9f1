//! CSAT answers: one per respondent and question, changed by answering
//! again; an answer moves its conversation's satisfaction and its figures
//! in the rollups.

use super::{
    Recorded, conversations,
    id_lists::{Read, reads_by_ids},
    outbox,
    rollups::{Moves, Target},
    satisfaction,
};
use crate::{
    domain::{
        Timestamp,
        access::Scope,
        access::Source,
        csat::{CsatAnswer, CsatInput, QuestionCode},
        ids::Uuid,
        rollup::Rows,
        webhook::Event,
    },
    params,
    store::{
        StoreError,
        sql::{Conn, Row},
    },
};

pub(super) const CSAT_COLUMNS: &str = "id, conversation_id, bot_id, question_code, value, score, negative_reason, user_id, source, created_at, answered_at";

pub(super) fn csat_from(row: &mut Row) -> Result<CsatAnswer, StoreError> {
    let question_code = QuestionCode::parse("question_code", row.text(3)?).map_err(StoreError::other)?;
    let source = Source::from_db(row.text(8)?);
    Ok(CsatAnswer {
        id: row.take(0)?,
        conversation_id: row.take(1)?,
        bot_id: row.take(2)?,
        question_code,
        value: row.take(4)?,
        score: row.get(5)?,
        negative_reason: row.take(6)?,
        user_id: row.take(7)?,
        source,
        created_at: row.get(9)?,
        answered_at: row.get(10)?,
    })
}

/// The reads of some conversations' CSAT answers, each conversation's in
/// the order they were given (rows read with [`csat_from`]; by conversation
/// first, for the same reason as [`votes_of`]).
pub(super) fn csat_of(account_id: &str, ids: &[String]) -> Vec<Read> {
    reads_by_ids(account_id, ids, &[], |list, _| {
        format!(
            "SELECT {CSAT_COLUMNS} FROM csat_answers WHERE account_id = $1 AND conversation_id IN ({list})
             ORDER BY conversation_id, answered_at, seq"
        )
    })
}

/// Records an answer, or changes the respondent's earlier answer to the same
/// question. The same answer again changes nothing. What the conversation's
/// answers count for is read before and after, and the difference added to
/// `pending`.
pub(super) async fn answer(
    c: &mut impl Conn,
    scope: &Scope,
    input: CsatInput,
    now: Timestamp,
    pending: &mut Rows,
) -> Result<Recorded<CsatAnswer>, StoreError> {
    let account = scope.account_id.as_str();
    let moves = Moves::before(c, account, Target::answers_of(input.conversation_id.as_str())).await?;
    let (conversation, _, config) =
        conversations::with_settings(c, scope, input.conversation_id.as_str(), true).await?;
    config.accepts(input.question_code)?;
    let existing = c
        .query_opt(
            &format!(
                "SELECT {CSAT_COLUMNS} FROM csat_answers
                 WHERE account_id = $1 AND conversation_id = $2 AND question_code = $3 AND user_id = $4{}",
                c.dialect().lock_rows()
            ),
            params![
                &scope.account_id,
                conversation.id.as_str(),
                input.question_code.as_str(),
                input.rater.user_id.as_str()
            ],
        )
        .await?
        .map(|mut r| csat_from(&mut r))
        .transpose()?;
    if let Some(answer) = &existing
        && answer.value == input.value
        && answer.negative_reason == input.negative_reason
    {
        return Ok(Recorded { value: answer.clone(), created: false });
    }
    let at = input.created_at.unwrap_or(now);
    let id = Uuid::new();
    let mut row = c
        .query_opt(
            &format!(
                "INSERT INTO csat_answers (id, account_id, conversation_id, bot_id, question_code, user_id, value, score,
                                           negative_reason, source, created_at, answered_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)
                 ON CONFLICT (account_id, conversation_id, question_code, user_id) DO UPDATE SET
                    value = excluded.value, score = excluded.score, negative_reason = excluded.negative_reason,
                    source = excluded.source, answered_at = excluded.answered_at
                 RETURNING {CSAT_COLUMNS}"
            ),
            params![
                &id,
                &scope.account_id,
                conversation.id.as_str(),
                &conversation.bot_id,
                input.question_code.as_str(),
                input.rater.user_id.as_str(),
                input.value.as_str(),
                input.score,
                input.negative_reason.as_deref(),
                input.rater.source.as_str(),
                at
            ],
        )
        .await?
        .ok_or(StoreError::other("an upsert returned no row"))?;
    let answer = csat_from(&mut row)?;
    #[allow(clippy::cast_precision_loss)]
    let score = input.score as f64;
    satisfaction::record(c, account, &conversation.id, score, input.negative_reason.as_deref(), at).await?;
    moves.after(c, account, pending, false).await?;
    outbox::emit(c, account, Event::of_csat(&answer, at));
    Ok(Recorded { created: answer.id == id, value: answer })
}
