//! Messages: appending them (one, or a run of a batch in few statements),
//! updating them, and finding one in the caller's scope with its
//! conversation's bot, variant and topic.

use std::collections::HashSet;

use super::{
    Recorded, conversations,
    rollups::{Moves, Target},
};
use crate::{
    domain::{
        DomainError, Timestamp,
        access::Scope,
        conversation::{
            Message, MessageInContext, MessageInput, MessageRole, MessageStatus, MessageUpdate, Metadata,
            StoredMetadata,
        },
        rollup::Rows,
    },
    params,
    store::{
        StoreError,
        sql::{Conn, Dialect, Param, Row, Value, placeholders, value_rows},
    },
};

pub(super) const MESSAGE_COLUMNS: &str = "m.id, m.conversation_id, m.role, m.content, m.request_id, m.status, m.metadata, m.created_at, m.updated_at, m.fingerprint";

/// The question an answer `m` answered: the content of the last user
/// message before it in its conversation (NULL if none), as a subquery. The
/// review queue, knowledge gaps and the embedding worker read the same.
pub(super) const QUESTION_BEFORE: &str = "(SELECT q.content FROM messages q
      WHERE q.account_id = m.account_id AND q.conversation_id = m.conversation_id AND q.role = 'user'
        AND (q.created_at < m.created_at OR (q.created_at = m.created_at AND q.seq < m.seq))
      ORDER BY q.created_at DESC, q.seq DESC LIMIT 1)";

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
async fn find(c: &mut impl Conn, scope: &Scope, id: &str) -> Result<Option<(Message, String)>, StoreError> {
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
pub(super) async fn find_in_context(
    c: &mut impl Conn,
    scope: &Scope,
    key: MessageKey,
    value: &str,
) -> Result<Option<MessageInContext>, StoreError> {
    let row =
        c.query_opt(&message_in_context_sql(key, ""), params![&scope.account_id, value, scope.bot_id.as_ref()]).await?;
    row.map(|mut r| message_in_context_from(&mut r)).transpose()
}

/// The query of [`find_in_context`], with its parameters
/// (account, key, scoped bot); `settings` adds the bot's settings columns
/// ([`SETTINGS_COLUMNS`](super::settings::SETTINGS_COLUMNS), from column
/// [`MESSAGE_IN_CONTEXT_WIDTH`] on) in the same read.
pub(super) fn message_in_context_sql(key: MessageKey, settings: &str) -> String {
    let column = match key {
        MessageKey::Id => "m.id",
        MessageKey::RequestId => "m.request_id",
    };
    let (settings, join) = conversations::join_settings(settings);
    format!(
        "SELECT {MESSAGE_COLUMNS}, v.bot_id, v.variant, m.topic, v.locale{settings} FROM messages m
         JOIN conversations v ON v.account_id = m.account_id AND v.id = m.conversation_id{join}
         WHERE m.account_id = $1 AND {column} = $2 AND (CAST($3 AS TEXT) IS NULL OR v.bot_id = $3)"
    )
}

/// The query of [`message_in_context_sql`] for the messages of ids listed
/// in `$2` to `$n+1`, in any bot of the account `$1` (the caller checks a
/// bot's scope).
pub(super) fn messages_in_context_sql(settings: &str, n: usize) -> String {
    let (settings, join) = conversations::join_settings(settings);
    format!(
        "SELECT {MESSAGE_COLUMNS}, v.bot_id, v.variant, m.topic, v.locale{settings} FROM messages m
         JOIN conversations v ON v.account_id = m.account_id AND v.id = m.conversation_id{join}
         WHERE m.account_id = $1 AND m.id IN ({})",
        placeholders(2, n)
    )
}

/// Columns of a [`message_in_context_sql`] row before the settings.
pub(super) const MESSAGE_IN_CONTEXT_WIDTH: usize = 14;

pub(super) fn message_in_context_from(r: &mut Row) -> Result<MessageInContext, StoreError> {
    Ok(MessageInContext {
        message: message_from(r)?,
        bot_id: r.get(10)?,
        variant: r.get(11)?,
        topic: r.get(12)?,
        locale: r.get(13)?,
    })
}

/// Appends a message and counts it on its conversation through `pending`,
/// which adds a batch's counts to each conversation once, at its end.
pub(super) async fn append(
    c: &mut impl Conn,
    scope: &Scope,
    input: MessageInput,
    now: Timestamp,
    pending: &mut Rows,
) -> Result<Recorded<Message>, StoreError> {
    // The conversation must be visible; one an earlier event of the batch
    // counted on is. Activity messages are never appended here. The insert
    // tells what it did by the rows it changed, not with `RETURNING`, which
    // SQLite gathers in a temporary table per execution.
    if !pending.conversations.contains_key(input.conversation_id.as_str())
        && conversations::find(c, scope, input.conversation_id.as_str()).await?.is_none()
    {
        return Err(StoreError::NotFound("conversation"));
    }
    let inserted = c.execute(&INSERT_ONE, &message_params(scope, &input, now).map(Value::from)).await?;
    if inserted == 1 {
        return Ok(appended(input, now, pending));
    }
    explain_skipped(c, scope, input).await
}

/// Appends a run of messages, answering each as [`append`] would one
/// by one: one read checks the run's conversations, and on PostgreSQL the new
/// messages go in multi-row inserts (a batch of 500 events is a dozen
/// statements instead of 500 round trips). The answers are in the run's
/// order. A message the insert skipped (its id or request id taken, also by
/// an earlier message of the run) is explained afterwards, when everything
/// before it in the run is stored, as it would have been one by one.
pub(super) async fn append_run(
    c: &mut impl Conn,
    scope: &Scope,
    inputs: Vec<MessageInput>,
    now: Timestamp,
    pending: &mut Rows,
) -> Result<Vec<Result<Recorded<Message>, StoreError>>, StoreError> {
    let mut unknown: Vec<String> = inputs
        .iter()
        .map(|m| m.conversation_id.as_str())
        .filter(|id| !pending.conversations.contains_key(*id))
        .map(str::to_owned)
        .collect();
    unknown.sort_unstable();
    unknown.dedup();
    let visible = visible_conversations(c, scope, &unknown).await?;
    let mut answers: Vec<Option<Result<Recorded<Message>, StoreError>>> = Vec::with_capacity(inputs.len());
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

/// The multi-row inserts of [`append_run`] on PostgreSQL with their
/// number of rows, largest first: a run is cut into these, so that only four
/// statement texts are ever prepared (and built), whatever its length.
static INSERTS: std::sync::LazyLock<[(usize, String); 4]> =
    std::sync::LazyLock::new(|| [128, 32, 8, 1].map(|n| (n, insert_messages_sql(n, " RETURNING id"))));

/// The insert of [`append`], which tells what it did by the rows it
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
    let rows = super::id_lists::rows_by_ids(c, &scope.account_id, ids, &[scope.bot_id.as_ref().into()], |list, n| {
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
fn appended(input: MessageInput, now: Timestamp, pending: &mut Rows) -> Recorded<Message> {
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
    Recorded { value: message, created: true }
}

/// Why an insert skipped a message: the same message stored before (a
/// replay, answered with the stored one), or its id or request id taken.
async fn explain_skipped(
    c: &mut impl Conn,
    scope: &Scope,
    input: MessageInput,
) -> Result<Recorded<Message>, StoreError> {
    match find(c, scope, input.id.as_str()).await? {
        Some((message, stored)) if stored == input.fingerprint() => Ok(Recorded { value: message, created: false }),
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

/// Updates a message: a pending answer completes or fails, its content may
/// grow while pending; metadata may change at any time. New metadata can move
/// the message's thumbs to another topic: what they count for is read before
/// and after, and the difference added to `pending`.
pub(super) async fn update(
    c: &mut impl Conn,
    scope: &Scope,
    update: MessageUpdate,
    now: Timestamp,
    pending: &mut Rows,
) -> Result<Message, StoreError> {
    let account = scope.account_id.as_str();
    let moves = match &update.metadata {
        Some(_) => Some(Moves::before(c, account, Target::Message(update.id.as_str().to_owned())).await?),
        None => None,
    };
    let (current, _) = find(c, scope, update.id.as_str()).await?.ok_or(StoreError::NotFound("message"))?;
    update.check_against(current.status, &current.content)?;
    if !update.changes(&current) {
        return Ok(current);
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
    if let Some(moves) = moves {
        moves.after(c, account, pending, true).await?;
    }
    let (message, _) = find(c, scope, update.id.as_str()).await?.ok_or(StoreError::NotFound("message"))?;
    Ok(message)
}
