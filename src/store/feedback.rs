//! Message feedback records after their submission (see `thumbs.rs`):
//! retraction and review as the domain's lifecycle decides, each change
//! leaving a history row and making or withdrawing the record's golden
//! example in the same transaction; and reading records, their history and
//! the review queue.

use super::{
    audit, golden,
    messages::{self, QUESTION_BEFORE},
    outbox,
};
use crate::{
    domain::{
        Timestamp,
        access::Source,
        access::{Rater, Scope},
        audit::{Action, Actor, AuditEntry},
        feedback::{
            Feedback, FeedbackDetail, FeedbackEvent, FeedbackFilter, FeedbackItem, FeedbackStatus, FeedbackType,
            Review, ReviewRequest, decide_review,
        },
        ids::{ClientId, LocaleFilter, Uuid},
        page::{Cursor, Page, PageRequest},
        rollup::{Rows, ThumbFact},
        webhook::Event,
    },
    params,
    store::{
        StoreError,
        sql::{Conn, Dialect, Row, Value, insert_sql, locale_matches},
    },
};

pub(super) const FEEDBACK_COLUMNS: &str = "f.id, f.message_id, f.conversation_id, f.bot_id, f.user_id, f.feedback_type, f.reason, \
     f.status, f.source, f.reviewed_by, f.reviewed_at, f.corrected_response, f.review_note, f.created_at, f.updated_at, \
     f.submitted_at, f.retracted_at, f.seq, f.reviewed_by_id";

pub(super) fn feedback_from(row: &mut Row) -> Result<Feedback, StoreError> {
    let feedback_type = FeedbackType::from_db(row.text(5)?);
    let status = FeedbackStatus::from_db(row.text(7)?);
    let source = Source::from_db(row.text(8)?);
    Ok(Feedback {
        id: row.take(0)?,
        message_id: row.take(1)?,
        conversation_id: row.take(2)?,
        bot_id: row.take(3)?,
        user_id: row.take(4)?,
        feedback_type,
        reason: row.take(6)?,
        status,
        source,
        reviewed_by: row.take(9)?,
        reviewed_by_id: row.take(18)?,
        reviewed_at: row.get(10)?,
        corrected_response: row.take(11)?,
        review_note: row.take(12)?,
        created_at: row.get(13)?,
        updated_at: row.get(14)?,
        submitted_at: row.get(15)?,
        retracted_at: row.get(16)?,
    })
}

/// One user's record on a message (retracted or not), locked for the transaction.
pub(super) async fn record_of(
    c: &mut impl Conn,
    account_id: &str,
    message_id: &str,
    user_id: &str,
) -> Result<Option<Feedback>, StoreError> {
    let mut row = c.query_opt(&record_sql(c.dialect()), params![account_id, message_id, user_id]).await?;
    row.as_mut().map(feedback_from).transpose()
}

/// The query of [`record_of`], with its parameters (account, message, user).
pub(super) fn record_sql(dialect: Dialect) -> String {
    format!(
        "SELECT {FEEDBACK_COLUMNS} FROM message_feedback f
         WHERE f.account_id = $1 AND f.message_id = $2 AND f.user_id = $3{}",
        dialect.lock_rows()
    )
}

/// A record by id in scope; `lock` holds it for the rest of the transaction
/// (for a write that decides from it).
async fn record_by_id(c: &mut impl Conn, scope: &Scope, id: &Uuid, lock: bool) -> Result<Feedback, StoreError> {
    let lock = if lock { c.dialect().lock_rows() } else { "" };
    let mut row = c
        .query_opt(
            &format!(
                "SELECT {FEEDBACK_COLUMNS} FROM message_feedback f
                 WHERE f.id = $1 AND f.account_id = $2 AND (CAST($3 AS TEXT) IS NULL OR f.bot_id = $3){lock}"
            ),
            params![id, &scope.account_id, scope.bot_id.as_ref()],
        )
        .await?
        .ok_or(StoreError::NotFound("feedback"))?;
    feedback_from(&mut row)
}

/// The clause that has a write hand back the record it leaves.
fn returning_record() -> String {
    format!(" RETURNING {}", FEEDBACK_COLUMNS.replace("f.", ""))
}

/// Runs an `UPDATE message_feedback … WHERE id = $1` and returns the record it left.
pub(super) async fn update_record(c: &mut impl Conn, set: &str, params: &[Value]) -> Result<Feedback, StoreError> {
    let mut row = c
        .query_opt(&format!("UPDATE message_feedback SET {set} WHERE id = $1{}", returning_record()), params)
        .await?
        .ok_or(StoreError::NotFound("feedback"))?;
    feedback_from(&mut row)
}

/// Appends the record's present state (`f`, as the write left it) to its history.
pub(super) async fn log_event(
    c: &mut impl Conn,
    account_id: &str,
    f: &Feedback,
    event: &str,
    actor: &str,
    source: Source,
    at: Timestamp,
) -> Result<(), StoreError> {
    static ONE: std::sync::LazyLock<String> =
        std::sync::LazyLock::new(|| insert_sql(HISTORY_HEAD, HISTORY_WIDTH, 1, ""));
    if let Some(e) = Event::of_feedback(event, f, at) {
        outbox::emit(c, account_id, e);
    }
    c.execute_later(&ONE, &history_row(account_id, f, event, actor, source, at)).await
}

pub(super) const HISTORY_HEAD: &str =
    "INSERT INTO feedback_history (account_id, feedback_id, event, feedback_type, reason, status, source, actor, at)";
pub(super) const HISTORY_WIDTH: usize = 9;

/// The values of a history row: the record's state `f` after `event`.
pub(super) fn history_row(
    account_id: &str,
    f: &Feedback,
    event: &str,
    actor: &str,
    source: Source,
    at: Timestamp,
) -> Vec<Value> {
    params![
        account_id,
        &f.id,
        event,
        f.feedback_type.as_str(),
        f.reason.as_deref(),
        f.status.as_str(),
        source.as_str(),
        actor,
        at
    ]
    .to_vec()
}

pub(super) async fn of_user(
    c: &mut impl Conn,
    scope: &Scope,
    message: &ClientId,
    user_id: &str,
) -> Result<Option<Feedback>, StoreError> {
    messages::find_in_context(c, scope, messages::MessageKey::Id, message.as_str())
        .await?
        .ok_or(StoreError::NotFound("message"))?;
    let mut row = c
        .query_opt(
            &format!(
                "SELECT {FEEDBACK_COLUMNS} FROM message_feedback f
                 WHERE f.account_id = $1 AND f.message_id = $2 AND f.user_id = $3 AND f.retracted_at IS NULL"
            ),
            params![&scope.account_id, message, user_id],
        )
        .await?;
    row.as_mut().map(feedback_from).transpose()
}

/// The user takes the thumb back: it leaves the counts (its change added to
/// `pending`) and stays in the history. An auto-approved golden example goes
/// with it; one a reviewer approved stays (it is the reviewer's judgement now).
pub(super) async fn retract(
    c: &mut impl Conn,
    scope: &Scope,
    message: &ClientId,
    rater: &Rater,
    now: Timestamp,
    pending: &mut Rows,
) -> Result<Feedback, StoreError> {
    let target = messages::find_in_context(c, scope, messages::MessageKey::Id, message.as_str())
        .await?
        .ok_or(StoreError::NotFound("message"))?;
    let f = record_of(c, &scope.account_id, message.as_str(), &rater.user_id)
        .await?
        .ok_or(StoreError::NotFound("feedback"))?;
    if f.retracted_at.is_some() {
        return Ok(f);
    }
    if f.status == FeedbackStatus::AutoApproved {
        golden::withdraw(c, &scope.account_id, &f, now).await?;
    }
    let before = ThumbFact::of(&f, &target);
    let f = update_record(c, "retracted_at = $2, updated_at = $2", params![&f.id, now]).await?;
    log_event(c, &scope.account_id, &f, "retracted", &rater.user_id, rater.source, now).await?;
    pending.absorb(Rows::thumb_change(before, None));
    Ok(f)
}

// ---- review -----------------------------------------------------------------

pub(super) async fn review(
    c: &mut impl Conn,
    scope: &Scope,
    id: &Uuid,
    review: &ReviewRequest,
    reviewer: &Actor,
    now: Timestamp,
) -> Result<Feedback, StoreError> {
    let f = record_by_id(c, scope, id, true).await?;
    let (status, corrected, note, event) = match decide_review(&f.current(), review)? {
        Review::Unchanged => return Ok(f),
        Review::Approve { corrected_response, note } => {
            (FeedbackStatus::Reviewed, corrected_response, note, "approved")
        }
        Review::Dismiss { note } => (FeedbackStatus::Dismissed, None, note, "dismissed"),
    };
    golden::withdraw(c, &scope.account_id, &f, now).await?;
    let f = update_record(
        c,
        "status = $2, reviewed_by = $3, reviewed_at = $4, corrected_response = $5, review_note = $6, updated_at = $4,
         reviewed_by_id = $7",
        params![
            &f.id,
            status.as_str(),
            &reviewer.name,
            now,
            corrected.as_deref(),
            note.as_deref(),
            reviewer.reference()
        ],
    )
    .await?;
    if status == FeedbackStatus::Reviewed {
        golden::make(c, &scope.account_id, &f, "reviewed", corrected.as_deref(), Some(reviewer), now).await?;
    }
    log_event(c, &scope.account_id, &f, event, &reviewer.name, Source::Reviewer, now).await?;
    // The decision, not the words: no reason, note or correction.
    let after = serde_json::json!({"status": status.as_str(), "corrected": corrected.is_some()});
    let entry = AuditEntry::new(&scope.account_id, reviewer, Action::FeedbackReviewed, &f.id, None, Some(after), now);
    audit::append(c, &entry).await?;
    Ok(f)
}

// ---- reading ----------------------------------------------------------------

pub(super) async fn detail(c: &mut impl Conn, scope: &Scope, id: &Uuid) -> Result<FeedbackDetail, StoreError> {
    let feedback = record_by_id(c, scope, id, false).await?;
    let rows = c
        .query(
            "SELECT event, feedback_type, reason, status, source, actor, at FROM feedback_history
             WHERE feedback_id = $1 ORDER BY seq",
            params![id],
        )
        .await?;
    let history = rows
        .iter()
        .map(|r| {
            let (t, status, source): (String, String, String) = (r.get(1)?, r.get(3)?, r.get(4)?);
            Ok(FeedbackEvent {
                event: r.get(0)?,
                feedback_type: FeedbackType::from_db(&t),
                reason: r.get(2)?,
                status: FeedbackStatus::from_db(&status),
                source: Source::from_db(&source),
                actor: r.get(5)?,
                at: r.get(6)?,
            })
        })
        .collect::<Result<_, StoreError>>()?;
    Ok(FeedbackDetail { feedback, history })
}

/// The review queue, newest first; retracted feedback is not in it.
pub(super) async fn queue(
    c: &mut impl Conn,
    scope: &Scope,
    filter: &FeedbackFilter,
    page: PageRequest,
) -> Result<Page<FeedbackItem>, StoreError> {
    if let Some(b) = &filter.bot_id {
        super::bots::get(c, scope, b).await?;
    }
    let (at, seq) = page.start();
    let mut rows = c
        .query(
            &format!(
                "SELECT {FEEDBACK_COLUMNS}, m.content,
                    {QUESTION_BEFORE}
                 FROM message_feedback f
                 JOIN messages m ON m.account_id = f.account_id AND m.id = f.message_id
                 WHERE f.account_id = $1 AND f.retracted_at IS NULL
                   AND (CAST($2 AS TEXT) IS NULL OR f.bot_id = $2)
                   AND (CAST($3 AS TEXT) IS NULL OR f.bot_id = $3)
                   AND (CAST($4 AS TEXT) IS NULL OR f.status = $4)
                   AND (CAST($5 AS TEXT) IS NULL OR f.feedback_type = $5)
                   AND f.submitted_at >= $6 AND f.submitted_at < $7
                   AND (f.submitted_at < $8 OR (f.submitted_at = $8 AND f.seq < $9))
                   AND (CAST($11 AS TEXT) IS NULL OR EXISTS (
                        SELECT 1 FROM conversations v WHERE v.account_id = f.account_id AND v.id = f.conversation_id
                          AND {language}))
                 ORDER BY f.submitted_at DESC, f.seq DESC LIMIT $10",
                language = locale_matches("LOWER(v.locale)", "$11", "$12")
            ),
            params![
                &scope.account_id,
                scope.bot_id.as_ref(),
                filter.bot_id.as_ref(),
                filter.status.map(FeedbackStatus::as_str),
                filter.feedback_type.map(FeedbackType::as_str),
                filter.from.map_or(i64::MIN, |t| t.0),
                filter.to.map_or(i64::MAX, |t| t.0),
                at,
                seq,
                page.limit + 1,
                filter.locale.as_ref().map(LocaleFilter::exact),
                filter.locale.as_ref().map(LocaleFilter::narrower)
            ],
        )
        .await?;
    let rows = rows
        .iter_mut()
        .map(|r| {
            let item = FeedbackItem { feedback: feedback_from(r)?, answer: r.get(19)?, question: r.get(20)? };
            Ok((item, Cursor { at: r.get(15)?, seq: r.get(17)? }))
        })
        .collect::<Result<_, StoreError>>()?;
    Ok(Page::from_rows(rows, page.limit))
}

/// The reads of the current records of some answers, for their
/// transcripts' badges, oldest first for each answer (rows read with
/// [`feedback_from`]): through the (account, message, user) key,
/// [`MAX_LIMIT`](crate::domain::page::MAX_LIMIT) answers a statement.
pub(super) fn feedback_of_messages(account_id: &str, ids: &[String]) -> Vec<super::id_lists::Read> {
    super::id_lists::reads_by_ids(account_id, ids, &[], |list, _| {
        format!(
            "SELECT {FEEDBACK_COLUMNS} FROM message_feedback f
             WHERE f.account_id = $1 AND f.message_id IN ({list}) AND f.retracted_at IS NULL ORDER BY f.seq"
        )
    })
}
