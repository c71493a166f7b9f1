//! Conversations, messages, the commands that write them, and the transcript.

use std::collections::{HashMap, HashSet};

use super::{
    feedback::{feedback_from, feedback_of_messages, prefetch_feedback, submit_feedback},
    ratings::{csat_from, csat_of, prefetch_vote, record_csat, record_vote, vote_from, votes_of},
    rollups,
    settings::{SETTINGS_COLUMNS, settings_from},
    tenancy::get_bot,
};
use crate::{
    domain::{
        DomainError, Timestamp,
        access::Scope,
        conversation::{
            Conversation, ConversationInput, ConversationStatus, Message, MessageInput, MessageRole, MessageStatus,
            MessageUpdate, Metadata, StoredMetadata,
        },
        feedback::{BotSettings, FeedbackType},
        ids::ClientId,
        rating::{RatingConfig, Satisfaction, SatisfactionValue},
        rollup::Rows,
    },
    params,
    store::{
        Applied, Command, FeedbackBadges, MessageInContext, StoreError, Transcript, TranscriptMessage,
        sql::{Conn, Dialect, Param, Row, Value, placeholders, value_rows},
    },
};

// ---- conversations ----------------------------------------------------------

pub(super) const CONVERSATION_COLUMNS: &str = "v.id, v.bot_id, v.contact_id, v.locale, v.metadata, v.status, v.created_at, \
     v.updated_at, v.ended_at, v.seq, v.satisfaction, v.negative_reason";

pub(super) fn conversation_from(row: &mut Row) -> Result<Conversation, StoreError> {
    let status = ConversationStatus::from_db(row.text(5)?);
    let satisfaction = SatisfactionValue::from_db(row.text_opt(10)?);
    Ok(Conversation {
        id: row.take(0)?,
        bot_id: row.take(1)?,
        contact_id: row.take(2)?,
        locale: row.take(3)?,
        metadata: StoredMetadata::from_db(row.take(4)?),
        status,
        satisfaction: Satisfaction { value: satisfaction, negative_reason: row.take(11)? },
        created_at: row.get(6)?,
        updated_at: row.get(7)?,
        ended_at: row.get(8)?,
    })
}

/// A conversation in the caller's scope, or `None`.
pub(super) async fn find_conversation(
    c: &mut impl Conn,
    scope: &Scope,
    id: &str,
) -> Result<Option<Conversation>, StoreError> {
    let mut row = c.query_opt(&conversation_sql(""), params![&scope.account_id, id, scope.bot_id.as_ref()]).await?;
    row.as_mut().map(conversation_from).transpose()
}

/// A conversation in the caller's scope with its bot's settings and rating
/// configuration, in one read (what votes and CSAT answers decide by).
/// With `lock`, a write's read: the conversation's row stays locked to the
/// end of the transaction (the bot's settings are not), as its satisfaction
/// will change; taken before anything else of the write, so that single
/// votes and batches of them lock in one order (conversation, then window).
pub(super) async fn conversation_with_settings(
    c: &mut impl Conn,
    scope: &Scope,
    id: &str,
    lock: bool,
) -> Result<(Conversation, BotSettings, RatingConfig), StoreError> {
    let mut sql = conversation_sql(SETTINGS_COLUMNS);
    if lock {
        sql.push_str(&c.dialect().lock_rows_of("v"));
    }
    let mut row = c
        .query_opt(&sql, params![&scope.account_id, id, scope.bot_id.as_ref()])
        .await?
        .ok_or(StoreError::NotFound("conversation"))?;
    let (settings, rating) = settings_from(&row, CONVERSATION_WIDTH)?;
    Ok((conversation_from(&mut row)?, settings, rating))
}

/// The query of [`find_conversation`], with its parameters (account, id,
/// scoped bot); `settings` adds the bot's settings columns
/// ([`SETTINGS_COLUMNS`], from column [`CONVERSATION_WIDTH`] on) in the
/// same read.
fn conversation_sql(settings: &str) -> String {
    let (settings, join) = with_settings(settings);
    format!(
        "SELECT {CONVERSATION_COLUMNS}{settings} FROM conversations v{join}
         WHERE v.account_id = $1 AND v.id = $2 AND (CAST($3 AS TEXT) IS NULL OR v.bot_id = $3)"
    )
}

/// Columns of a [`conversation_sql`] row before the settings.
pub(super) const CONVERSATION_WIDTH: usize = 12;

/// The extra columns and join that add a bot's settings to a read of its
/// conversation `v` (none for `""`).
fn with_settings(settings: &str) -> (String, &'static str) {
    if settings.is_empty() {
        (String::new(), "")
    } else {
        (format!(", {settings}"), " JOIN bot_settings s ON s.bot_id = v.bot_id")
    }
}

pub(super) async fn get_conversation(c: &mut impl Conn, scope: &Scope, id: &str) -> Result<Conversation, StoreError> {
    find_conversation(c, scope, id).await?.ok_or(StoreError::NotFound("conversation"))
}

/// Does a conversation with this id exist in the account at all (any bot)?
pub(super) async fn conversation_exists_in_account(
    c: &mut impl Conn,
    account_id: &str,
    id: &str,
) -> Result<bool, StoreError> {
    Ok(c.query_opt("SELECT 1 FROM conversations WHERE account_id = $1 AND id = $2", params![account_id, id])
        .await?
        .is_some())
}

pub(super) async fn upsert_conversation(
    c: &mut impl Conn,
    scope: &Scope,
    input: ConversationInput,
    now: Timestamp,
) -> Result<Applied, StoreError> {
    if let Some(existing) = find_conversation(c, scope, input.id.as_str()).await? {
        return update_conversation(c, scope, existing, input, now).await;
    }
    if conversation_exists_in_account(c, &scope.account_id, input.id.as_str()).await? {
        // Either another writer created it just now, or it belongs to a bot
        // this key cannot see (then it does not exist for this key).
        let existing =
            find_conversation(c, scope, input.id.as_str()).await?.ok_or(StoreError::NotFound("conversation"))?;
        return update_conversation(c, scope, existing, input, now).await;
    }
    let bot_id = match (&input.bot_id, &scope.bot_id) {
        (Some(b), _) => b.clone(),
        (None, Some(own)) => own.clone(),
        (None, None) => return Err(DomainError::invalid("bot_id", "is required to create a conversation").into()),
    };
    get_bot(c, scope, &bot_id).await?;
    let metadata = input.metadata.clone().unwrap_or_default();
    let created_at = input.created_at.unwrap_or(now);
    let inserted = c
        .query_opt(
            "INSERT INTO conversations (account_id, id, bot_id, contact_id, locale, metadata, variant, status, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'open', $8, $9)
             ON CONFLICT DO NOTHING RETURNING seq",
            params![
                &scope.account_id,
                &input.id,
                &bot_id,
                input.contact_id.clone(),
                input.locale.clone(),
                metadata.json(),
                metadata.variant(),
                created_at,
                now
            ],
        )
        .await?;
    if inserted.is_none() {
        // Another writer created it in between: this becomes an update.
        let existing = get_conversation(c, scope, input.id.as_str()).await?;
        return update_conversation(c, scope, existing, input, now).await;
    }
    Ok(Applied::Conversation { conversation: get_conversation(c, scope, input.id.as_str()).await?, created: true })
}

pub(super) async fn update_conversation(
    c: &mut impl Conn,
    scope: &Scope,
    existing: Conversation,
    input: ConversationInput,
    now: Timestamp,
) -> Result<Applied, StoreError> {
    crate::domain::conversation::check_bot_unchanged(&existing.bot_id, input.bot_id.as_ref())?;
    let metadata = input.metadata.as_ref();
    c.execute(
        "UPDATE conversations SET
            contact_id = COALESCE($3, contact_id),
            locale = COALESCE($4, locale),
            metadata = COALESCE($5, metadata),
            variant = CASE WHEN $6 = 1 THEN $7 ELSE variant END,
            updated_at = $8
         WHERE account_id = $1 AND id = $2",
        params![
            &scope.account_id,
            &input.id,
            input.contact_id.clone(),
            input.locale.clone(),
            metadata.map(Metadata::json),
            metadata.is_some(),
            metadata.and_then(Metadata::variant),
            now
        ],
    )
    .await?;
    Ok(Applied::Conversation { conversation: get_conversation(c, scope, input.id.as_str()).await?, created: false })
}

pub(super) async fn end_conversation(
    c: &mut impl Conn,
    scope: &Scope,
    id: &ClientId,
    now: Timestamp,
) -> Result<Applied, StoreError> {
    let conversation = get_conversation(c, scope, id.as_str()).await?;
    if conversation.status == ConversationStatus::Ended {
        return Ok(Applied::Conversation { conversation, created: false });
    }
    c.execute(
        "UPDATE conversations SET status = 'ended', ended_at = $3, updated_at = $3 WHERE account_id = $1 AND id = $2",
        params![&scope.account_id, id, now],
    )
    .await?;
    Ok(Applied::Conversation { conversation: get_conversation(c, scope, id.as_str()).await?, created: false })
}

// ---- messages ---------------------------------------------------------------

pub(super) const MESSAGE_COLUMNS: &str = "m.id, m.conversation_id, m.role, m.content, m.request_id, m.status, m.metadata, m.created_at, m.updated_at, m.fingerprint";

pub(super) fn message_from(row: &mut Row) -> Result<Message, StoreError> {
    let role = MessageRole::from_db(row.text(2)?);
    let status = MessageStatus::from_db(row.text(5)?);
    Ok(Message {
        id: row.take(0)?,
        conversation_id: row.take(1)?,
        role,
        content: row.take(3)?,
        request_id: row.take(4)?,
        status,
        metadata: StoredMetadata::from_db(row.take(6)?),
        created_at: row.get(7)?,
        updated_at: row.get(8)?,
    })
}

/// A message whose conversation is in the caller's scope, with its fingerprint.
pub(super) async fn find_message(
    c: &mut impl Conn,
    scope: &Scope,
    id: &str,
) -> Result<Option<(Message, String)>, StoreError> {
    let row = c
        .query_opt(
            &format!(
                "SELECT {MESSAGE_COLUMNS} FROM messages m
                 JOIN conversations v ON v.account_id = m.account_id AND v.id = m.conversation_id
                 WHERE m.account_id = $1 AND m.id = $2 AND (CAST($3 AS TEXT) IS NULL OR v.bot_id = $3)"
            ),
            params![&scope.account_id, id, scope.bot_id.as_ref()],
        )
        .await?;
    row.map(|mut r| Ok((message_from(&mut r)?, r.get(9)?))).transpose()
}

/// How a message is looked up: by its id or by its chat request's id.
#[derive(Debug, Clone, Copy)]
pub(super) enum MessageKey {
    Id,
    RequestId,
}

/// A message in the caller's scope with its conversation's bot.
pub(super) async fn find_message_in_context(
    c: &mut impl Conn,
    scope: &Scope,
    key: MessageKey,
    value: &str,
) -> Result<Option<MessageInContext>, StoreError> {
    let row =
        c.query_opt(&message_in_context_sql(key, ""), params![&scope.account_id, value, scope.bot_id.as_ref()]).await?;
    row.map(|mut r| message_in_context_from(&mut r)).transpose()
}

/// The query of [`find_message_in_context`], with its parameters
/// (account, key, scoped bot); `settings` adds the bot's settings columns
/// ([`super::settings::SETTINGS_COLUMNS`], from column
/// [`MESSAGE_IN_CONTEXT_WIDTH`] on) in the same read.
pub(super) fn message_in_context_sql(key: MessageKey, settings: &str) -> String {
    let column = match key {
        MessageKey::Id => "m.id",
        MessageKey::RequestId => "m.request_id",
    };
    let (settings, join) = with_settings(settings);
    format!(
        "SELECT {MESSAGE_COLUMNS}, v.bot_id, v.variant, m.topic{settings} FROM messages m
         JOIN conversations v ON v.account_id = m.account_id AND v.id = m.conversation_id{join}
         WHERE m.account_id = $1 AND {column} = $2 AND (CAST($3 AS TEXT) IS NULL OR v.bot_id = $3)"
    )
}

/// The query of [`message_in_context_sql`] for the messages of ids listed
/// in `$2` to `$n+1`, in any bot of the account `$1` (the caller checks a
/// bot's scope).
pub(super) fn messages_in_context_sql(settings: &str, n: usize) -> String {
    let (settings, join) = with_settings(settings);
    format!(
        "SELECT {MESSAGE_COLUMNS}, v.bot_id, v.variant, m.topic{settings} FROM messages m
         JOIN conversations v ON v.account_id = m.account_id AND v.id = m.conversation_id{join}
         WHERE m.account_id = $1 AND m.id IN ({})",
        placeholders(2, n)
    )
}

/// Columns of a [`message_in_context_sql`] row before the settings.
pub(super) const MESSAGE_IN_CONTEXT_WIDTH: usize = 13;

pub(super) fn message_in_context_from(r: &mut Row) -> Result<MessageInContext, StoreError> {
    Ok(MessageInContext { message: message_from(r)?, bot_id: r.get(10)?, variant: r.get(11)?, topic: r.get(12)? })
}

/// Appends a message and counts it on its conversation through `pending`,
/// which adds a batch's counts to each conversation once, at its end.
pub(super) async fn append_message(
    c: &mut impl Conn,
    scope: &Scope,
    input: MessageInput,
    now: Timestamp,
    pending: &mut Rows,
) -> Result<Applied, StoreError> {
    // The conversation must be visible; one an earlier event of the batch
    // counted on is. Activity messages are never appended here. The insert
    // tells what it did by the rows it changed, not with `RETURNING`, which
    // SQLite gathers in a temporary table per execution.
    if !pending.conversations.contains_key(input.conversation_id.as_str())
        && find_conversation(c, scope, input.conversation_id.as_str()).await?.is_none()
    {
        return Err(StoreError::NotFound("conversation"));
    }
    let inserted = c.execute(&INSERT_ONE, &message_params(scope, &input, now).map(Value::from)).await?;
    if inserted == 1 {
        return Ok(appended(input, now, pending));
    }
    explain_skipped(c, scope, input).await
}

/// Appends a run of messages, answering each as [`append_message`] would one
/// by one: one read checks the run's conversations, and on PostgreSQL the new
/// messages go in multi-row inserts (a batch of 500 events is a dozen
/// statements instead of 500 round trips). The answers are in the run's
/// order. A message the insert skipped (its id or request id taken, also by
/// an earlier message of the run) is explained afterwards, when everything
/// before it in the run is stored, as it would have been one by one.
pub(super) async fn append_messages(
    c: &mut impl Conn,
    scope: &Scope,
    inputs: Vec<MessageInput>,
    now: Timestamp,
    pending: &mut Rows,
) -> Result<Vec<Result<Applied, StoreError>>, StoreError> {
    let mut unknown: Vec<String> = inputs
        .iter()
        .map(|m| m.conversation_id.as_str())
        .filter(|id| !pending.conversations.contains_key(*id))
        .map(str::to_owned)
        .collect();
    unknown.sort_unstable();
    unknown.dedup();
    let visible = visible_conversations(c, scope, &unknown).await?;
    let mut answers: Vec<Option<Result<Applied, StoreError>>> = Vec::with_capacity(inputs.len());
    let mut rows: Vec<MessageInput> = Vec::with_capacity(inputs.len());
    for input in inputs {
        let id = input.conversation_id.as_str();
        if pending.conversations.contains_key(id) || visible.contains(id) {
            rows.push(input);
            answers.push(None);
        } else {
            answers.push(Some(Err(StoreError::NotFound("conversation"))));
        }
    }
    // Whether each row was stored (not skipped for a taken id or request id).
    let stored: Vec<bool> = match c.dialect() {
        // One row a statement, prepared once for the run. SQLite keeps a
        // statement journal for an insert of several rows that may abort
        // midway (a CHECK, NOT NULL or foreign key), and copies into it every
        // page the statement changes for the first time: at scale, most of
        // the pages of a run.
        Dialect::Sqlite => c
            .execute_each(&INSERT_ONE, rows.iter().map(|input| message_params(scope, input, now)))
            .await?
            .into_iter()
            .map(|changed| changed == 1)
            .collect(),
        // Few statements: each is a round trip to the server.
        Dialect::Postgres => {
            let mut inserted: HashSet<String> = HashSet::with_capacity(rows.len());
            let mut rest = &rows[..];
            while !rest.is_empty() {
                let (n, sql) = INSERTS.iter().find(|(n, _)| *n <= rest.len()).unwrap_or(&INSERTS[INSERTS.len() - 1]);
                let (chunk, after) = rest.split_at(*n);
                let params: Vec<Value> =
                    chunk.iter().flat_map(|input| message_params(scope, input, now)).map(Value::from).collect();
                for row in c.query(sql, &params).await? {
                    inserted.insert(row.get(0)?);
                }
                rest = after;
            }
            // `remove`: of two messages of the run with one id, only the first was stored.
            rows.iter().map(|input| inserted.remove(input.id.as_str())).collect()
        }
    };
    let mut rows = rows.into_iter().zip(stored);
    for answer in &mut answers {
        if answer.is_some() {
            continue;
        }
        let Some((input, stored)) = rows.next() else { break };
        *answer = Some(if stored { Ok(appended(input, now, pending)) } else { explain_skipped(c, scope, input).await });
    }
    Ok(answers.into_iter().flatten().collect())
}

/// The multi-row inserts of [`append_messages`] on PostgreSQL with their
/// number of rows, largest first: a run is cut into these, so that only four
/// statement texts are ever prepared (and built), whatever its length.
static INSERTS: std::sync::LazyLock<[(usize, String); 4]> =
    std::sync::LazyLock::new(|| [128, 32, 8, 1].map(|n| (n, insert_messages_sql(n, " RETURNING id"))));

/// The insert of [`append_message`], which tells what it did by the rows it
/// changed.
static INSERT_ONE: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| insert_messages_sql(1, ""));

/// Columns of a row of [`insert_messages_sql`].
const INSERT_WIDTH: usize = 13;

/// Inserts `n` messages, skipping any whose id or request id is taken.
fn insert_messages_sql(n: usize, returning: &str) -> String {
    format!(
        "INSERT INTO messages (account_id, id, conversation_id, role, content, request_id, status, metadata,
                               topic, confidence, fingerprint, created_at, updated_at)
         VALUES {} ON CONFLICT DO NOTHING{returning}",
        value_rows(1, INSERT_WIDTH, n)
    )
}

/// The values of a message's row in [`insert_messages_sql`], borrowed
/// from the message.
fn message_params<'a>(scope: &'a Scope, input: &'a MessageInput, now: Timestamp) -> [Param<'a>; INSERT_WIDTH] {
    [
        scope.account_id.as_str().into(),
        input.id.as_str().into(),
        input.conversation_id.as_str().into(),
        input.role.as_str().into(),
        input.content.as_str().into(),
        input.request_id.as_deref().into(),
        input.status.as_str().into(),
        input.metadata.json().into(),
        input.metadata.topic().into(),
        input.metadata.confidence_value().into(),
        input.fingerprint().into(),
        input.created_at.unwrap_or(now).into(),
        now.into(),
    ]
}

/// The ids among `ids` of conversations in the caller's scope.
async fn visible_conversations(
    c: &mut impl Conn,
    scope: &Scope,
    ids: &[String],
) -> Result<HashSet<String>, StoreError> {
    let rows = super::rows_by_ids(c, &scope.account_id, ids, &[scope.bot_id.as_ref().into()], |list, n| {
        format!(
            "SELECT v.id FROM conversations v
             WHERE v.account_id = $1 AND v.id IN ({list}) AND (CAST(${n} AS TEXT) IS NULL OR v.bot_id = ${n})"
        )
    })
    .await?;
    rows.iter().map(|row| row.get(0)).collect()
}

/// A message just inserted, answered as stored without reading it back, and
/// counted on its conversation.
fn appended(input: MessageInput, now: Timestamp, pending: &mut Rows) -> Applied {
    let message = Message {
        id: input.id.into_string(),
        conversation_id: input.conversation_id.into_string(),
        role: input.role,
        content: input.content,
        request_id: input.request_id,
        status: input.status,
        metadata: input.metadata.stored(),
        created_at: input.created_at.unwrap_or(now),
        updated_at: now,
    };
    pending.count_message(&message.conversation_id);
    Applied::Message { message, created: true }
}

/// Why an insert skipped a message: the same message stored before (a
/// replay, answered with the stored one), or its id or request id taken.
async fn explain_skipped(c: &mut impl Conn, scope: &Scope, input: MessageInput) -> Result<Applied, StoreError> {
    match find_message(c, scope, input.id.as_str()).await? {
        Some((message, stored)) if stored == input.fingerprint() => Ok(Applied::Message { message, created: false }),
        Some(_) => Err(DomainError::conflict(
            "conflict",
            format!(
                "message id '{}' is already taken by a different message; use a message_update to change it",
                input.id.as_str()
            ),
        )
        .into()),
        None if c
            .query_opt(
                "SELECT 1 FROM messages WHERE account_id = $1 AND id = $2",
                params![&scope.account_id, &input.id],
            )
            .await?
            .is_some() =>
        {
            Err(DomainError::conflict("conflict", format!("message id '{}' is already taken", input.id.as_str()))
                .into())
        }
        None => Err(DomainError::conflict(
            "conflict",
            format!("request_id '{}' already belongs to another message", input.request_id.unwrap_or_default()),
        )
        .into()),
    }
}

pub(super) async fn update_message(
    c: &mut impl Conn,
    scope: &Scope,
    update: MessageUpdate,
    now: Timestamp,
) -> Result<Applied, StoreError> {
    let (current, _) = find_message(c, scope, update.id.as_str()).await?.ok_or(StoreError::NotFound("message"))?;
    update.check_against(current.status, &current.content)?;
    if !update.changes(&current) {
        return Ok(Applied::Message { message: current, created: false });
    }
    let metadata = update.metadata.as_ref();
    c.execute(
        "UPDATE messages SET
            status = COALESCE($3, status),
            content = COALESCE($4, content),
            metadata = COALESCE($5, metadata),
            topic = CASE WHEN $6 = 1 THEN $7 ELSE topic END,
            confidence = CASE WHEN $6 = 1 THEN $8 ELSE confidence END,
            updated_at = $9
         WHERE account_id = $1 AND id = $2",
        params![
            &scope.account_id,
            &update.id,
            update.status.map(MessageStatus::as_str),
            update.content.clone(),
            metadata.map(Metadata::json),
            metadata.is_some(),
            metadata.and_then(Metadata::topic),
            metadata.and_then(Metadata::confidence_value),
            now
        ],
    )
    .await?;
    let (message, _) = find_message(c, scope, update.id.as_str()).await?.ok_or(StoreError::NotFound("message"))?;
    Ok(Applied::Message { message, created: false })
}

/// Runs one command. Thumbs and votes add their change to the rollups to
/// `pending` themselves; the other commands' changes are found by
/// [`rollups::counted`].
pub(super) async fn apply_one(
    c: &mut impl Conn,
    scope: &Scope,
    command: Command,
    now: Timestamp,
    pending: &mut Rows,
) -> Result<Applied, StoreError> {
    match command {
        Command::UpsertConversation(input) => upsert_conversation(c, scope, input, now).await,
        Command::AppendMessage(input) => append_message(c, scope, input, now, pending).await,
        Command::UpdateMessage(update) => update_message(c, scope, update, now).await,
        Command::EndConversation(id) => end_conversation(c, scope, &id, now).await,
        Command::Vote(input) => record_vote(c, scope, input, now, pending).await,
        Command::Feedback(input) => submit_feedback(c, scope, input, now, pending).await,
        Command::Csat(input) => record_csat(c, scope, input, now).await,
    }
}

/// Whether [`prefetch`] reads anything ahead of `command`.
pub(super) fn has_prefetch(command: &Command) -> bool {
    matches!(command, Command::Feedback(_) | Command::Vote(_))
}

/// Reads, ahead of a write and on a reader connection, what the hot
/// single-command writes (a thumb, a vote) will read and change, so that the
/// write finds it in memory (see [`Engine::prefetches`](crate::store::sql::Engine::prefetches)).
pub(super) async fn prefetch(c: &mut impl Conn, scope: &Scope, command: &Command) -> Result<(), StoreError> {
    match command {
        Command::Feedback(input) => prefetch_feedback(c, scope, input).await,
        Command::Vote(input) => prefetch_vote(c, scope, input).await,
        _ => Ok(()),
    }
}

/// Runs commands in order. Refused events wrote nothing and become results;
/// any other failure aborts the batch, unless `careful`, where each event runs
/// in a savepoint and fails alone (savepoints are costly inside a large
/// transaction, so this is the fallback, not the rule). Outside the careful
/// mode, consecutive messages are appended together ([`append_messages`]).
pub(super) async fn apply_all(
    c: &mut impl Conn,
    scope: &Scope,
    commands: Vec<Command>,
    now: Timestamp,
    careful: bool,
) -> Result<Vec<Result<Applied, StoreError>>, StoreError> {
    let mut results = Vec::with_capacity(commands.len());
    let mut rollup = Rows::default();
    let mut commands = commands.into_iter().peekable();
    while let Some(command) = commands.next() {
        if !careful {
            let outcomes = match command {
                Command::AppendMessage(first) => {
                    let mut run = vec![first];
                    while let Some(Command::AppendMessage(next)) =
                        commands.next_if(|next| matches!(next, Command::AppendMessage(_)))
                    {
                        run.push(next);
                    }
                    append_messages(c, scope, run, now, &mut rollup).await?
                }
                command => vec![rollups::counted(c, scope, command, now, &mut rollup).await],
            };
            for outcome in outcomes {
                results.push(super::settle(outcome)?);
            }
            continue;
        }
        c.batch("SAVEPOINT event").await?;
        let mut own = Rows::default();
        let result = match rollups::counted(c, scope, command, now, &mut own).await {
            // What the event held back must fail inside its savepoint too.
            Ok(applied) => c.flush().await.map(|()| applied),
            Err(e) => Err(e),
        };
        if result.is_err() {
            c.batch("ROLLBACK TO SAVEPOINT event").await?;
        } else {
            rollup.absorb(own);
        }
        c.batch("RELEASE SAVEPOINT event").await?;
        if let Err(StoreError::Unavailable(e)) = &result {
            return Err(StoreError::Unavailable(e.clone()));
        }
        results.push(result);
    }
    rollups::add(c, &scope.account_id, rollup);
    Ok(results)
}

pub(super) async fn transcript(c: &mut impl Conn, scope: &Scope, id: &ClientId) -> Result<Transcript, StoreError> {
    let conversation = get_conversation(c, scope, id.as_str()).await?;
    let mut all = transcripts(c, &scope.account_id, vec![(conversation, true)]).await?;
    all.pop().ok_or(StoreError::NotFound("conversation"))
}

/// The transcripts of some conversations, in the same order, with one query
/// per table for each [`MAX_LIMIT`](crate::domain::page::MAX_LIMIT) of them
/// (exports read a page at a time). Each conversation comes with whether it
/// may have thumbs (an inbox row's counts say, as of its listing), and only
/// what may exist is looked up: the thumbs of those that may have some, the
/// votes and CSAT answers of those whose satisfaction a signal set (half of
/// them at L, whose every conversation has thumbs). The messages, votes and
/// CSAT answers are read at once, then the answers' thumbs: two round trips
/// on PostgreSQL.
pub(super) async fn transcripts(
    c: &mut impl Conn,
    account_id: &str,
    conversations: Vec<(Conversation, bool)>,
) -> Result<Vec<Transcript>, StoreError> {
    if conversations.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<String> = conversations.iter().map(|(c, _)| c.id.clone()).collect();
    let rated: HashSet<&str> =
        conversations.iter().filter(|(_, thumbed)| *thumbed).map(|(c, _)| c.id.as_str()).collect();
    let signalled: Vec<String> =
        conversations.iter().filter(|(c, _)| c.satisfaction.has_signal()).map(|(c, _)| c.id.clone()).collect();
    // In the order of the key on (account, conversation, time), so that no
    // sort is needed; each conversation's messages still come in time order.
    let message_reads = super::reads_by_ids(account_id, &ids, &[], |list, _| {
        format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages m
             WHERE m.account_id = $1 AND m.conversation_id IN ({list})
             ORDER BY m.conversation_id, m.created_at, m.seq"
        )
    });
    let (vote_reads, csat_reads) = (votes_of(account_id, &signalled), csat_of(account_id, &signalled));
    let [mut rows, mut vote_rows, mut csat_rows] =
        super::rows_of_sets(c, [&message_reads, &vote_reads, &csat_reads]).await?;
    let stored: Vec<Message> = rows.iter_mut().map(message_from).collect::<Result<_, _>>()?;
    // Only answers can be rated: their records, through the key on messages.
    let answers: Vec<String> = stored
        .iter()
        .filter(|m| m.role == MessageRole::Assistant && rated.contains(m.conversation_id.as_str()))
        .map(|m| m.id.clone())
        .collect();
    let mut badges: HashMap<String, FeedbackBadges> = HashMap::new();
    let [mut records] = super::rows_of_sets(c, [&feedback_of_messages(account_id, &answers)]).await?;
    for f in records.iter_mut().map(feedback_from) {
        let f = f?;
        let b = badges.entry(f.message_id.clone()).or_default();
        match f.feedback_type {
            FeedbackType::Positive => b.up += 1,
            FeedbackType::Negative => b.down += 1,
        }
        b.records.push(f);
    }
    // Each row goes to its conversation's place in the answer, found by id
    // without a copy of it.
    let place: HashMap<&str, usize> = ids.iter().enumerate().map(|(i, id)| (id.as_str(), i)).collect();
    fn slots<T>(n: usize) -> Vec<Vec<T>> {
        (0..n).map(|_| Vec::new()).collect()
    }
    let (mut messages, mut votes, mut csat) = (slots(ids.len()), slots(ids.len()), slots(ids.len()));
    for message in stored {
        let Some(&i) = place.get(message.conversation_id.as_str()) else { continue };
        let feedback = (message.role == MessageRole::Assistant).then(|| badges.remove(&message.id).unwrap_or_default());
        messages[i].push(TranscriptMessage { message, feedback });
    }
    for v in vote_rows.iter_mut().map(vote_from) {
        let v = v?;
        if let Some(&i) = place.get(v.conversation_id.as_str()) {
            votes[i].push(v);
        }
    }
    for a in csat_rows.iter_mut().map(csat_from) {
        let a = a?;
        if let Some(&i) = place.get(a.conversation_id.as_str()) {
            csat[i].push(a);
        }
    }
    Ok(conversations
        .into_iter()
        .zip(messages.into_iter().zip(votes).zip(csat))
        .map(|((conversation, _), ((messages, votes), csat))| Transcript { messages, votes, csat, conversation })
        .collect())
}
