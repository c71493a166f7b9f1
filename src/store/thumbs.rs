//! Submitting a thumb: create, keep, update the reason, or switch, as the
//! domain's lifecycle decides; one at a time, or many of one account in a
//! few statements (a batch of PostgreSQL's write lanes). Each new record
//! leaves its history row; a golden example is made on arrival where the
//! bot's settings approve it.

use std::collections::{HashMap, HashSet};

use super::{
    Recorded,
    feedback::{
        FEEDBACK_COLUMNS, HISTORY_HEAD, HISTORY_WIDTH, feedback_from, history_row, log_event, record_of, record_sql,
        update_record,
    },
    gap_questions, golden,
    messages::{
        MESSAGE_IN_CONTEXT_WIDTH, MessageKey, message_in_context_from, message_in_context_sql, messages_in_context_sql,
    },
    outbox,
    settings::{SETTINGS_COLUMNS, settings_from},
};
use crate::{
    domain::{
        Timestamp,
        access::Scope,
        conversation::MessageInContext,
        feedback::{
            BotSettings, Feedback, FeedbackInput, FeedbackStatus, Submission, check_rateable, decide_submission,
            golden_on_arrival,
        },
        ids::Uuid,
        page::MAX_LIMIT,
        rollup::{Rows, ThumbFact},
        webhook::Event,
    },
    params,
    store::{
        StoreError,
        sql::{Conn, ROWS_A_STATEMENT, Row, Value, insert_sql, list_len, runs_of, value_rows},
    },
};

/// A thumb on an answer: create, keep, update the reason, or switch, as the
/// lifecycle decides ([`decide_submission`]); what it changes in the rollups
/// is added to `pending`.
pub(super) async fn submit(
    c: &mut impl Conn,
    scope: &Scope,
    input: FeedbackInput,
    now: Timestamp,
    pending: &mut Rows,
) -> Result<Recorded<Feedback>, StoreError> {
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
            input.reason_optional,
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
            (Submission::Unchanged, Some(f)) => return Ok(Recorded { value: f.clone(), created: false }),
            (Submission::UpdateReason, Some(f)) => {
                update_record(c, "reason = $2, updated_at = $3", params![&f.id, input.reason.as_deref(), now]).await?
            }
            (Submission::Switch { status } | Submission::Restore { status }, Some(f)) => {
                golden::withdraw(c, &scope.account_id, f, now).await?;
                update_record(
                    c,
                    "feedback_type = $2, reason = $3, status = $4, source = $5,
                     reviewed_by = NULL, reviewed_by_id = NULL, reviewed_at = NULL, corrected_response = NULL, review_note = NULL,
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
            _ => return Err(StoreError::other(format!("inconsistent feedback decision {decision:?}"))),
        };
        let fact = |f: &Feedback| ThumbFact::of(f, &target);
        pending.absorb(Rows::thumb_change(existing.as_ref().and_then(fact), fact(&feedback)));
        gap_questions::queue(c, &scope.account_id, &[&feedback]).await?;
        if let Some(event) = decision.event() {
            log_event(c, &scope.account_id, &feedback, event, &rater.user_id, rater.source, now).await?;
        }
        if decision.new_status().is_some() && golden_on_arrival(feedback.status, feedback.feedback_type) {
            golden::make(c, &scope.account_id, &feedback, "auto_approved", None, None, now).await?;
        }
        let created = matches!(decision, Submission::Create { .. });
        return Ok(Recorded { value: feedback, created });
    }
    Err(StoreError::unavailable("feedback kept changing under a concurrent writer; retry"))
}

/// A thumb of a batch: its scope, what it says, and when it came.
pub(super) type Thumb = (Scope, FeedbackInput, Timestamp);

/// Thumbs of one account, from many requests, answered each as
/// [`submit`] would answer it alone and in this order, in few
/// statements: one read finds all their messages and the raters' records, and
/// the new records (most thumbs) go in with their history in multi-row
/// inserts, held back until the batch's next statement (no round trip of
/// their own). A thumb that changes a record, or makes a golden example on
/// arrival, or follows an earlier thumb of the batch on the same record,
/// goes through [`submit`] after them. A new record whose key a
/// concurrent writer took meanwhile fails the batch, whose writes are then
/// made one by one. Refusals are answers; any other failure is the batch's.
pub(super) async fn submit_many(
    c: &mut impl Conn,
    account_id: &str,
    thumbs: Vec<Thumb>,
    pending: &mut Rows,
) -> Result<Vec<Result<Recorded<Feedback>, StoreError>>, StoreError> {
    if thumbs.is_empty() {
        return Ok(Vec::new());
    }
    let (targets, mut records) = read_targets(c, account_id, &thumbs).await?;
    let mut answers: Vec<Option<Result<Recorded<Feedback>, StoreError>>> = thumbs.iter().map(|_| None).collect();
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
                input.reason_optional,
                settings,
            )
        });
        match (decided, existing) {
            (Err(e), _) => answers[i] = Some(Err(e.into())),
            (Ok(Submission::Unchanged), Some(feedback)) => {
                answers[i] = Some(Ok(Recorded { value: feedback, created: false }));
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
    gap_questions::queue(c, account_id, &records.iter().collect::<Vec<_>>()).await?;
    for (i, feedback) in places.into_iter().zip(records) {
        let (target, _) = &targets[feedback.message_id.as_str()];
        let fact = ThumbFact::of(&feedback, target);
        pending.absorb(Rows::thumb_change(None, fact));
        answers[i] = Some(Ok(Recorded { value: feedback, created: true }));
    }
    one_by_one.sort_unstable();
    for i in one_by_one {
        let (scope, input, now) = thumbs[i].clone();
        answers[i] = Some(super::writes::settle(submit(c, &scope, input, now, pending).await)?);
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
        reviewed_by_id: None,
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
        for f in run {
            if let Some(e) = Event::of_feedback("submitted", f, f.updated_at) {
                outbox::emit(c, account_id, e);
            }
        }
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
pub(super) async fn prefetch(c: &mut impl Conn, scope: &Scope, input: &FeedbackInput) -> Result<(), StoreError> {
    read_target(c, scope, input).await.map(drop)
}
