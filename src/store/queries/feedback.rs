//! Message feedback: submission, retraction and review, carried out as the
//! domain's lifecycle decides; every change leaves a history row; golden
//! examples are made and withdrawn in the same transaction as the change.

use std::collections::{HashMap, HashSet};

use super::{
    conversations::{
        MESSAGE_IN_CONTEXT_WIDTH, MessageKey, find_message_in_context, message_in_context_from, message_in_context_sql,
        messages_in_context_sql,
    },
    settings::{SETTINGS_COLUMNS, settings_from},
    tenancy::get_bot,
};
use crate::{
    domain::{
        Timestamp,
        access::{Rater, Scope},
        feedback::{
            BotSettings, Feedback, FeedbackDetail, FeedbackEvent, FeedbackFilter, FeedbackItem, FeedbackStatus,
            FeedbackType, Review, ReviewBody, Source, Submission, check_rateable, decide_review, decide_submission,
            golden_on_arrival,
        },
        golden::{GoldenExample, Turn},
        ids::{ClientId, Uuid},
        page::{Cursor, MAX_LIMIT, Page, PageRequest},
        rollup::{Rows, ThumbFact},
    },
    params,
    store::{
        Applied, FeedbackInput, MessageInContext, StoreError,
        sql::{Conn, Dialect, ROWS_A_STATEMENT, Row, Value, insert_sql, list_len, runs_of, value_rows},
    },
};

const FEEDBACK_COLUMNS: &str = "f.id, f.message_id, f.conversation_id, f.bot_id, f.user_id, f.feedback_type, f.reason, \
     f.status, f.source, f.reviewed_by, f.reviewed_at, f.corrected_response, f.review_note, f.created_at, f.updated_at, \
     f.submitted_at, f.retracted_at, f.seq";

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
async fn record_of(
    c: &mut impl Conn,
    account_id: &str,
    message_id: &str,
    user_id: &str,
) -> Result<Option<Feedback>, StoreError> {
    let mut row = c.query_opt(&record_sql(c.dialect()), params![account_id, message_id, user_id]).await?;
    row.as_mut().map(feedback_from).transpose()
}

/// The query of [`record_of`], with its parameters (account, message, user).
fn record_sql(dialect: Dialect) -> String {
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
async fn update_record(c: &mut impl Conn, set: &str, params: &[Value]) -> Result<Feedback, StoreError> {
    let mut row = c
        .query_opt(&format!("UPDATE message_feedback SET {set} WHERE id = $1{}", returning_record()), params)
        .await?
        .ok_or(StoreError::NotFound("feedback"))?;
    feedback_from(&mut row)
}

/// Appends the record's present state (`f`, as the write left it) to its history.
async fn log_event(
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
    c.execute_later(&ONE, &history_row(account_id, f, event, actor, source, at)).await
}

const HISTORY_HEAD: &str =
    "INSERT INTO feedback_history (account_id, feedback_id, event, feedback_type, reason, status, source, actor, at)";
const HISTORY_WIDTH: usize = 9;

/// The values of a history row: the record's state `f` after `event`.
fn history_row(account_id: &str, f: &Feedback, event: &str, actor: &str, source: Source, at: Timestamp) -> Vec<Value> {
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

// ---- golden examples --------------------------------------------------------

/// Makes the golden example of a record: the conversation before the rated
/// answer, and the ideal answer. At most one per record (a unique key).
async fn make_golden(
    c: &mut impl Conn,
    account_id: &str,
    f: &Feedback,
    origin: &str,
    ideal: Option<&str>,
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
    let prompt = serde_json::to_string(&turns).map_err(|e| StoreError::Other(e.to_string()))?;
    c.execute(
        "INSERT INTO golden_examples (id, account_id, bot_id, feedback_id, conversation_id, message_id, feedback_type,
                                      origin, prompt, ideal_response, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (feedback_id) DO NOTHING",
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
            now
        ],
    )
    .await?;
    Ok(())
}

/// Withdraws the golden example made from a record, if there is one.
async fn withdraw_golden(c: &mut impl Conn, f: &Feedback) -> Result<(), StoreError> {
    c.execute("DELETE FROM golden_examples WHERE feedback_id = $1", params![&f.id]).await?;
    Ok(())
}

pub(super) const GOLDEN_COLUMNS: &str = "id, bot_id, feedback_id, conversation_id, message_id, feedback_type, origin, \
     prompt, ideal_response, created_at, seq, gap_id";

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
        recommendation_id: row.get(11)?,
    })
}

pub(super) async fn list_golden(
    c: &mut impl Conn,
    scope: &Scope,
    bot: Option<&Uuid>,
    page: PageRequest,
) -> Result<Page<GoldenExample>, StoreError> {
    if let Some(b) = bot {
        get_bot(c, scope, b).await?;
    }
    let (at, seq) = super::page_start(&page);
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

pub(super) async fn delete_golden(c: &mut impl Conn, scope: &Scope, id: &Uuid) -> Result<(), StoreError> {
    let n = c
        .execute(
            "DELETE FROM golden_examples WHERE id = $1 AND account_id = $2 AND (CAST($3 AS TEXT) IS NULL OR bot_id = $3)",
            params![id, &scope.account_id, scope.bot_id.as_ref()],
        )
        .await?;
    if n == 0 { Err(StoreError::NotFound("golden example")) } else { Ok(()) }
}

// ---- submission -------------------------------------------------------------

/// A thumb on an answer: create, keep, update the reason, or switch, as the
/// lifecycle decides ([`decide_submission`]); what it changes in the rollups
/// is added to `pending`.
pub(super) async fn submit_feedback(
    c: &mut impl Conn,
    scope: &Scope,
    input: FeedbackInput,
    now: Timestamp,
    pending: &mut Rows,
) -> Result<Applied, StoreError> {
    let rater = &input.rater;
    let (mut target, mut record) = read_target(c, scope, &input).await?;
    let target = target.first_mut().ok_or(StoreError::NotFound("message"))?;
    let (settings, _) = settings_from(target, MESSAGE_IN_CONTEXT_WIDTH)?;
    let target = message_in_context_from(target)?;
    check_rateable(target.message.role, target.message.status)?;
    let at = input.created_at.unwrap_or(now);
    let mut existing = record.first_mut().map(feedback_from).transpose()?;
    // Two attempts: a concurrent first submission may win the insert.
    for attempt in 0..2 {
        if attempt > 0 {
            existing = record_of(c, &scope.account_id, input.message_id.as_str(), &rater.user_id).await?;
        }
        let decision = decide_submission(
            existing.as_ref().map(Feedback::current).as_ref(),
            input.feedback_type,
            input.reason.as_deref(),
            &settings,
        )?;
        let feedback = match (&decision, &existing) {
            (Submission::Create { status }, None) => {
                let created = new_record(&target, &input, *status, now);
                if !insert_record(c, &scope.account_id, &created).await? {
                    continue;
                }
                created
            }
            (Submission::Unchanged, Some(f)) => return Ok(Applied::Feedback { feedback: f.clone(), created: false }),
            (Submission::UpdateReason, Some(f)) => {
                update_record(c, "reason = $2, updated_at = $3", params![&f.id, input.reason.as_deref(), now]).await?
            }
            (Submission::Switch { status } | Submission::Restore { status }, Some(f)) => {
                withdraw_golden(c, f).await?;
                update_record(
                    c,
                    "feedback_type = $2, reason = $3, status = $4, source = $5,
                     reviewed_by = NULL, reviewed_at = NULL, corrected_response = NULL, review_note = NULL,
                     retracted_at = NULL, submitted_at = $6, updated_at = $7",
                    params![
                        &f.id,
                        input.feedback_type.as_str(),
                        input.reason.as_deref(),
                        status.as_str(),
                        rater.source.as_str(),
                        at,
                        now
                    ],
                )
                .await?
            }
            _ => return Err(StoreError::Other(format!("inconsistent feedback decision {decision:?}"))),
        };
        let fact = |f: &Feedback| ThumbFact::of(f, target.variant.as_deref(), target.topic.as_deref());
        pending.absorb(Rows::thumb_change(existing.as_ref().and_then(fact), fact(&feedback)));
        if let Some(event) = decision.event() {
            log_event(c, &scope.account_id, &feedback, event, &rater.user_id, rater.source, now).await?;
        }
        if decision.new_status().is_some() && golden_on_arrival(feedback.status, feedback.feedback_type) {
            make_golden(c, &scope.account_id, &feedback, "auto_approved", None, now).await?;
        }
        let created = matches!(decision, Submission::Create { .. });
        return Ok(Applied::Feedback { feedback, created });
    }
    Err(StoreError::Unavailable("feedback kept changing under a concurrent writer; retry".into()))
}

/// A thumb of a batch: its scope, what it says, and when it came.
pub(super) type Thumb = (Scope, FeedbackInput, Timestamp);

/// Thumbs of one account, from many requests, answered each as
/// [`submit_feedback`] would answer it alone and in this order, in few
/// statements: one read finds all their messages and the raters' records, and
/// the new records (most thumbs) go in with their history in multi-row
/// inserts, held back until the batch's next statement (no round trip of
/// their own). A thumb that changes a record, or makes a golden example on
/// arrival, or follows an earlier thumb of the batch on the same record,
/// goes through [`submit_feedback`] after them. A new record whose key a
/// concurrent writer took meanwhile fails the batch, whose writes are then
/// made one by one. Refusals are answers; any other failure is the batch's.
pub(super) async fn submit_feedbacks(
    c: &mut impl Conn,
    account_id: &str,
    thumbs: Vec<Thumb>,
    pending: &mut Rows,
) -> Result<Vec<Result<Applied, StoreError>>, StoreError> {
    if thumbs.is_empty() {
        return Ok(Vec::new());
    }
    let (targets, mut records) = read_targets(c, account_id, &thumbs).await?;
    let mut answers: Vec<Option<Result<Applied, StoreError>>> = thumbs.iter().map(|_| None).collect();
    let mut creates: Vec<(usize, Feedback)> = Vec::new();
    let mut one_by_one: Vec<usize> = Vec::new();
    let mut seen: HashSet<(&str, &str)> = HashSet::new();
    for (i, (scope, input, now)) in thumbs.iter().enumerate() {
        if !seen.insert((input.message_id.as_str(), input.rater.user_id.as_str())) {
            one_by_one.push(i);
            continue;
        }
        let target = targets
            .get(input.message_id.as_str())
            .filter(|(t, _)| scope.bot_id.as_ref().is_none_or(|bot| *bot == t.bot_id));
        let Some((target, settings)) = target else {
            answers[i] = Some(Err(StoreError::NotFound("message")));
            continue;
        };
        let existing = records.remove(&(input.message_id.as_str().to_owned(), input.rater.user_id.clone()));
        let decided = check_rateable(target.message.role, target.message.status).and_then(|()| {
            decide_submission(
                existing.as_ref().map(Feedback::current).as_ref(),
                input.feedback_type,
                input.reason.as_deref(),
                settings,
            )
        });
        match (decided, existing) {
            (Err(e), _) => answers[i] = Some(Err(e.into())),
            (Ok(Submission::Unchanged), Some(feedback)) => {
                answers[i] = Some(Ok(Applied::Feedback { feedback, created: false }));
            }
            (Ok(Submission::Create { status }), None) if !golden_on_arrival(status, input.feedback_type) => {
                creates.push((i, new_record(target, input, status, *now)));
            }
            _ => one_by_one.push(i),
        }
    }
    let (places, records): (Vec<usize>, Vec<Feedback>) = creates.into_iter().unzip();
    insert_records_later(c, account_id, &records).await?;
    log_submissions(c, account_id, &records).await?;
    for (i, feedback) in places.into_iter().zip(records) {
        let (target, _) = &targets[feedback.message_id.as_str()];
        let fact = ThumbFact::of(&feedback, target.variant.as_deref(), target.topic.as_deref());
        pending.absorb(Rows::thumb_change(None, fact));
        answers[i] = Some(Ok(Applied::Feedback { feedback, created: true }));
    }
    one_by_one.sort_unstable();
    for i in one_by_one {
        let (scope, input, now) = thumbs[i].clone();
        answers[i] = Some(super::settle(submit_feedback(c, &scope, input, now, pending).await)?);
    }
    Ok(answers.into_iter().map(|a| a.expect("every thumb of a batch is answered")).collect())
}

/// The messages of a batch of thumbs, with their bots' settings, by id; and
/// the raters' records on them, locked, by (message, user).
async fn read_targets(
    c: &mut impl Conn,
    account_id: &str,
    thumbs: &[Thumb],
) -> Result<(HashMap<String, (MessageInContext, BotSettings)>, HashMap<(String, String), Feedback>), StoreError> {
    // Each list sorted, without repeats, and padded to one of a few lengths
    // by repeating its last value.
    fn listed<T: Ord + Copy + Default>(values: impl Iterator<Item = T>) -> Vec<T> {
        let mut all: Vec<T> = values.collect();
        all.sort_unstable();
        all.dedup();
        let n = list_len(all.len(), MAX_LIMIT as usize);
        let last = all.last().copied().unwrap_or_default();
        all.resize(n, last);
        all
    }
    let messages = listed(thumbs.iter().map(|(_, input, _)| input.message_id.as_str()));
    let keys = listed(thumbs.iter().map(|(_, input, _)| (input.message_id.as_str(), input.rater.user_id.as_str())));
    let targets_sql = messages_in_context_sql(SETTINGS_COLUMNS, messages.len());
    // By (message, user) pairs: lists of messages and of users would probe
    // the key for every message with every user.
    let records_sql = format!(
        "SELECT {FEEDBACK_COLUMNS} FROM message_feedback f
         WHERE f.account_id = $1 AND (f.message_id, f.user_id) IN (VALUES {}){}",
        value_rows(2, 2, keys.len()),
        c.dialect().lock_rows()
    );
    let target_params: Vec<Value> =
        std::iter::once(account_id).chain(messages.iter().copied()).map(Value::from).collect();
    let record_params: Vec<Value> =
        std::iter::once(account_id).chain(keys.iter().flat_map(|(m, u)| [*m, *u])).map(Value::from).collect();
    let (target_rows, record_rows) =
        c.query_pair((&targets_sql, &target_params), (&records_sql, &record_params)).await?;
    let mut targets = HashMap::with_capacity(target_rows.len());
    for mut row in target_rows {
        let (settings, _) = settings_from(&row, MESSAGE_IN_CONTEXT_WIDTH)?;
        let target = message_in_context_from(&mut row)?;
        targets.insert(target.message.id.clone(), (target, settings));
    }
    let mut records = HashMap::with_capacity(record_rows.len());
    for mut row in record_rows {
        let f = feedback_from(&mut row)?;
        records.insert((f.message_id.clone(), f.user_id.clone()), f);
    }
    Ok((targets, records))
}

/// A new record of `input` on `target`, in `status`, built here and written
/// as is, rather than read back with `RETURNING` (which SQLite gathers in a
/// temporary table).
fn new_record(target: &MessageInContext, input: &FeedbackInput, status: FeedbackStatus, now: Timestamp) -> Feedback {
    let at = input.created_at.unwrap_or(now);
    Feedback {
        id: Uuid::new(),
        message_id: input.message_id.as_str().to_owned(),
        conversation_id: target.message.conversation_id.clone(),
        bot_id: target.bot_id.clone(),
        user_id: input.rater.user_id.clone(),
        feedback_type: input.feedback_type,
        reason: input.reason.clone(),
        status,
        source: input.rater.source,
        reviewed_by: None,
        reviewed_at: None,
        corrected_response: None,
        review_note: None,
        created_at: at,
        updated_at: now,
        submitted_at: at,
        retracted_at: None,
    }
}

/// A new record's insert, and its values in the order of the columns.
const INSERT_HEAD: &str = "INSERT INTO message_feedback (id, account_id, message_id, conversation_id, bot_id, user_id,
     feedback_type, reason, status, source, created_at, updated_at, submitted_at)";
const INSERT_WIDTH: usize = 13;

fn record_row(account_id: &str, f: &Feedback) -> Vec<Value> {
    params![
        &f.id,
        account_id,
        f.message_id.as_str(),
        f.conversation_id.as_str(),
        &f.bot_id,
        f.user_id.as_str(),
        f.feedback_type.as_str(),
        f.reason.as_deref(),
        f.status.as_str(),
        f.source.as_str(),
        f.created_at,
        f.updated_at,
        f.submitted_at
    ]
    .to_vec()
}

/// Inserts a new record unless its (message, user) key is taken (by a
/// concurrent writer); says whether it went in.
async fn insert_record(c: &mut impl Conn, account_id: &str, f: &Feedback) -> Result<bool, StoreError> {
    static ONE: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        insert_sql(INSERT_HEAD, INSERT_WIDTH, 1, " ON CONFLICT (account_id, message_id, user_id) DO NOTHING")
    });
    Ok(c.execute(&ONE, &record_row(account_id, f)).await? == 1)
}

/// Inserts a batch's new records, in multi-row inserts held back until the
/// next statement, so that they cost the batch no round trip of their own.
/// None of their keys was taken when the batch read them; a key a
/// concurrent writer took since fails the insert, and so the batch, whose
/// writes are then made one by one (a race of one user's two thumbs on one
/// answer, which only a batch's retry can meet).
async fn insert_records_later(c: &mut impl Conn, account_id: &str, records: &[Feedback]) -> Result<(), StoreError> {
    for run in runs_of(records, ROWS_A_STATEMENT) {
        let sql = insert_sql(INSERT_HEAD, INSERT_WIDTH, run.len(), "");
        let params: Vec<Value> = run.iter().flat_map(|f| record_row(account_id, f)).collect();
        c.execute_later(&sql, &params).await?;
    }
    Ok(())
}

/// Logs the submission of new records (by their raters, as they were made),
/// in multi-row inserts held back until the next statement.
async fn log_submissions(c: &mut impl Conn, account_id: &str, records: &[Feedback]) -> Result<(), StoreError> {
    for run in runs_of(records, ROWS_A_STATEMENT) {
        let sql = insert_sql(HISTORY_HEAD, HISTORY_WIDTH, run.len(), "");
        let params: Vec<Value> = run
            .iter()
            .flat_map(|f| history_row(account_id, f, "submitted", &f.user_id, f.source, f.updated_at))
            .collect();
        c.execute_later(&sql, &params).await?;
    }
    Ok(())
}

/// The rated message with its bot's settings, and the rater's record, read
/// together.
async fn read_target(
    c: &mut impl Conn,
    scope: &Scope,
    input: &FeedbackInput,
) -> Result<(Vec<Row>, Vec<Row>), StoreError> {
    c.query_pair(
        (
            &message_in_context_sql(MessageKey::Id, SETTINGS_COLUMNS),
            params![&scope.account_id, &input.message_id, scope.bot_id.as_ref()],
        ),
        (&record_sql(c.dialect()), params![&scope.account_id, &input.message_id, input.rater.user_id.as_str()]),
    )
    .await
}

/// Reads what a thumb's write will read and change (see
/// [`Engine::prefetches`](crate::store::sql::Engine::prefetches)): the message
/// with its conversation and bot, and the rater's record (the key a new
/// record goes into). The rows found are dropped.
pub(super) async fn prefetch_feedback(
    c: &mut impl Conn,
    scope: &Scope,
    input: &FeedbackInput,
) -> Result<(), StoreError> {
    read_target(c, scope, input).await.map(drop)
}

pub(super) async fn user_feedback(
    c: &mut impl Conn,
    scope: &Scope,
    message: &ClientId,
    user_id: &str,
) -> Result<Option<Feedback>, StoreError> {
    find_message_in_context(c, scope, MessageKey::Id, message.as_str())
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

/// The user takes the thumb back. An auto-approved golden example goes with
/// it; one a reviewer approved stays (it is the reviewer's judgement now).
/// Returns the record and the change it makes to the rollups.
pub(super) async fn retract_feedback(
    c: &mut impl Conn,
    scope: &Scope,
    message: &ClientId,
    rater: &Rater,
    now: Timestamp,
) -> Result<(Feedback, Rows), StoreError> {
    let target = find_message_in_context(c, scope, MessageKey::Id, message.as_str())
        .await?
        .ok_or(StoreError::NotFound("message"))?;
    let f = record_of(c, &scope.account_id, message.as_str(), &rater.user_id)
        .await?
        .ok_or(StoreError::NotFound("feedback"))?;
    if f.retracted_at.is_some() {
        return Ok((f, Rows::default()));
    }
    if f.status == FeedbackStatus::AutoApproved {
        withdraw_golden(c, &f).await?;
    }
    let before = ThumbFact::of(&f, target.variant.as_deref(), target.topic.as_deref());
    let f = update_record(c, "retracted_at = $2, updated_at = $2", params![&f.id, now]).await?;
    log_event(c, &scope.account_id, &f, "retracted", &rater.user_id, rater.source, now).await?;
    Ok((f, Rows::thumb_change(before, None)))
}

// ---- review -----------------------------------------------------------------

pub(super) async fn review_feedback(
    c: &mut impl Conn,
    scope: &Scope,
    id: &Uuid,
    review: &ReviewBody,
    reviewer: &str,
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
    withdraw_golden(c, &f).await?;
    let f = update_record(
        c,
        "status = $2, reviewed_by = $3, reviewed_at = $4, corrected_response = $5, review_note = $6, updated_at = $4",
        params![&f.id, status.as_str(), reviewer, now, corrected.as_deref(), note.as_deref()],
    )
    .await?;
    if status == FeedbackStatus::Reviewed {
        make_golden(c, &scope.account_id, &f, "reviewed", corrected.as_deref(), now).await?;
    }
    log_event(c, &scope.account_id, &f, event, reviewer, Source::Reviewer, now).await?;
    Ok(f)
}

// ---- reading ----------------------------------------------------------------

pub(super) async fn feedback_detail(c: &mut impl Conn, scope: &Scope, id: &Uuid) -> Result<FeedbackDetail, StoreError> {
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
pub(super) async fn list_feedback(
    c: &mut impl Conn,
    scope: &Scope,
    filter: &FeedbackFilter,
    page: PageRequest,
) -> Result<Page<FeedbackItem>, StoreError> {
    if let Some(b) = &filter.bot_id {
        get_bot(c, scope, b).await?;
    }
    let (at, seq) = super::page_start(&page);
    let mut rows = c
        .query(
            &format!(
                "SELECT {FEEDBACK_COLUMNS}, m.content,
                    (SELECT q.content FROM messages q
                      WHERE q.account_id = m.account_id AND q.conversation_id = m.conversation_id AND q.role = 'user'
                        AND (q.created_at < m.created_at OR (q.created_at = m.created_at AND q.seq < m.seq))
                      ORDER BY q.created_at DESC, q.seq DESC LIMIT 1)
                 FROM message_feedback f
                 JOIN messages m ON m.account_id = f.account_id AND m.id = f.message_id
                 WHERE f.account_id = $1 AND f.retracted_at IS NULL
                   AND (CAST($2 AS TEXT) IS NULL OR f.bot_id = $2)
                   AND (CAST($3 AS TEXT) IS NULL OR f.bot_id = $3)
                   AND (CAST($4 AS TEXT) IS NULL OR f.status = $4)
                   AND (CAST($5 AS TEXT) IS NULL OR f.feedback_type = $5)
                   AND f.submitted_at >= $6 AND f.submitted_at < $7
                   AND (f.submitted_at < $8 OR (f.submitted_at = $8 AND f.seq < $9))
                 ORDER BY f.submitted_at DESC, f.seq DESC LIMIT $10"
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
                page.limit + 1
            ],
        )
        .await?;
    let rows = rows
        .iter_mut()
        .map(|r| {
            let item = FeedbackItem { feedback: feedback_from(r)?, answer: r.get(18)?, question: r.get(19)? };
            Ok((item, Cursor { at: r.get(15)?, seq: r.get(17)? }))
        })
        .collect::<Result<_, StoreError>>()?;
    Ok(Page::from_rows(rows, page.limit))
}

/// The reads of the current records of some answers, for their
/// transcripts' badges, oldest first for each answer (rows read with
/// [`feedback_from`]): through the (account, message, user) key,
/// [`MAX_LIMIT`](crate::domain::page::MAX_LIMIT) answers a statement.
pub(super) fn feedback_of_messages(account_id: &str, ids: &[String]) -> Vec<super::Read> {
    super::reads_by_ids(account_id, ids, &[], |list, _| {
        format!(
            "SELECT {FEEDBACK_COLUMNS} FROM message_feedback f
             WHERE f.account_id = $1 AND f.message_id IN ({list}) AND f.retracted_at IS NULL ORDER BY f.seq"
        )
    })
}
