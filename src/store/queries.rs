//! Every query of the product, written once for both engines.
//!
//! Functions here take a [`Conn`] and speak portable SQL. Rules that need
//! stored state are decided by calling into `domain`; rules that must hold
//! across processes are constraints or single atomic statements.

use super::{
    Applied, Command, Store, StoreError, Transcript,
    sql::{Conn, Engine, Row},
};
use crate::{
    domain::{
        DomainError, Timestamp,
        access::{ApiKey, KeyRecord, NewKey, Role, Scope},
        account::{Account, Bot, PLAN_NO_API, PLAN_STANDARD},
        conversation::{
            Conversation, ConversationInput, ConversationStatus, Message, MessageInput, MessageRole, MessageStatus,
            MessageUpdate, Metadata,
        },
        ids::{ClientId, Uuid},
        page::{Cursor, Page, PageRequest},
    },
    params,
};

/// The one [`Store`] implementation, generic over the engine.
pub struct SqlStore<E> {
    engine: E,
}

impl<E: Engine> SqlStore<E> {
    pub fn new(engine: E) -> Self {
        Self { engine }
    }
}

/// The upper bound of a keyset page when no cursor was given.
fn page_start(page: &PageRequest) -> (i64, i64) {
    page.after.map_or((i64::MAX, i64::MAX), |c| (c.at, c.seq))
}

// ---- accounts ---------------------------------------------------------------

const ACCOUNT_COLUMNS: &str = "a.id, a.name, a.plan_id, p.api_access, a.created_at";

fn account_from(row: &Row) -> Result<Account, StoreError> {
    Ok(Account {
        id: row.get(0)?,
        name: row.get(1)?,
        plan: row.get(2)?,
        api_access: row.get(3)?,
        created_at: row.get(4)?,
    })
}

async fn get_account(c: &mut impl Conn, id: &str) -> Result<Account, StoreError> {
    let row = c
        .query_opt(
            &format!("SELECT {ACCOUNT_COLUMNS} FROM accounts a JOIN plans p ON p.id = a.plan_id WHERE a.id = $1"),
            params![id],
        )
        .await?
        .ok_or(StoreError::NotFound("account"))?;
    account_from(&row)
}

// ---- keys -------------------------------------------------------------------

const KEY_COLUMNS: &str =
    "k.id, k.account_id, k.name, k.role, k.bot_id, k.prefix, k.created_at, k.expires_at, k.revoked_at, k.seq";

fn key_from(row: &Row) -> Result<ApiKey, StoreError> {
    let role: String = row.get(3)?;
    Ok(ApiKey {
        id: row.get(0)?,
        account_id: row.get(1)?,
        name: row.get(2)?,
        role: Role::parse("role", &role).map_err(|e| StoreError::Other(e.to_string()))?,
        bot_id: row.get(4)?,
        prefix: row.get(5)?,
        created_at: row.get(6)?,
        expires_at: row.get(7)?,
        revoked_at: row.get(8)?,
    })
}

fn key_cursor(row: &Row) -> Result<Cursor, StoreError> {
    Ok(Cursor { at: row.get(6)?, seq: row.get(9)? })
}

async fn get_key(c: &mut impl Conn, scope: &Scope, id: &Uuid) -> Result<ApiKey, StoreError> {
    let row = c
        .query_opt(
            &format!(
                "SELECT {KEY_COLUMNS} FROM api_keys k WHERE k.id = $1 AND k.account_id = $2 AND (CAST($3 AS TEXT) IS NULL OR k.bot_id = $3)"
            ),
            params![id, &scope.account_id, scope.bot_id.as_ref()],
        )
        .await?
        .ok_or(StoreError::NotFound("key"))?;
    key_from(&row)
}

// ---- bots -------------------------------------------------------------------

const BOT_COLUMNS: &str = "b.id, b.name, b.created_at, b.seq";

fn bot_from(row: &Row) -> Result<Bot, StoreError> {
    Ok(Bot { id: row.get(0)?, name: row.get(1)?, created_at: row.get(2)? })
}

async fn get_bot(c: &mut impl Conn, scope: &Scope, id: &Uuid) -> Result<Bot, StoreError> {
    let row = c
        .query_opt(
            &format!("SELECT {BOT_COLUMNS} FROM bots b WHERE b.id = $1 AND b.account_id = $2 AND (CAST($3 AS TEXT) IS NULL OR b.id = $3)"),
            params![id, &scope.account_id, scope.bot_id.as_ref()],
        )
        .await?
        .ok_or(StoreError::NotFound("bot"))?;
    bot_from(&row)
}

// ---- conversations ----------------------------------------------------------

const CONVERSATION_COLUMNS: &str =
    "v.id, v.bot_id, v.contact_id, v.locale, v.metadata, v.status, v.created_at, v.updated_at, v.ended_at, v.seq";

fn conversation_from(row: &Row) -> Result<Conversation, StoreError> {
    let metadata: String = row.get(4)?;
    let status: String = row.get(5)?;
    Ok(Conversation {
        id: row.get(0)?,
        bot_id: row.get(1)?,
        contact_id: row.get(2)?,
        locale: row.get(3)?,
        metadata: Metadata::from_db(&metadata),
        status: ConversationStatus::from_db(&status),
        created_at: row.get(6)?,
        updated_at: row.get(7)?,
        ended_at: row.get(8)?,
    })
}

/// A conversation in the caller's scope, or `None`.
async fn find_conversation(c: &mut impl Conn, scope: &Scope, id: &str) -> Result<Option<Conversation>, StoreError> {
    let row = c
        .query_opt(
            &format!(
                "SELECT {CONVERSATION_COLUMNS} FROM conversations v
                 WHERE v.account_id = $1 AND v.id = $2 AND (CAST($3 AS TEXT) IS NULL OR v.bot_id = $3)"
            ),
            params![&scope.account_id, id, scope.bot_id.as_ref()],
        )
        .await?;
    row.as_ref().map(conversation_from).transpose()
}

async fn get_conversation(c: &mut impl Conn, scope: &Scope, id: &str) -> Result<Conversation, StoreError> {
    find_conversation(c, scope, id).await?.ok_or(StoreError::NotFound("conversation"))
}

/// Does a conversation with this id exist in the account at all (any bot)?
async fn conversation_exists_in_account(c: &mut impl Conn, account_id: &str, id: &str) -> Result<bool, StoreError> {
    Ok(c.query_opt("SELECT 1 FROM conversations WHERE account_id = $1 AND id = $2", params![account_id, id])
        .await?
        .is_some())
}

async fn upsert_conversation(
    c: &mut impl Conn,
    scope: &Scope,
    input: ConversationInput,
    now: Timestamp,
) -> Result<Applied, StoreError> {
    if let Some(existing) = find_conversation(c, scope, input.id.as_str()).await? {
        return update_conversation(c, scope, existing, input, now).await;
    }
    if conversation_exists_in_account(c, &scope.account_id, input.id.as_str()).await? {
        // It exists, but for another bot than the key's: invisible to this key.
        return Err(StoreError::NotFound("conversation"));
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
                metadata.to_json(),
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

async fn update_conversation(
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
            metadata.map(Metadata::to_json),
            metadata.is_some(),
            metadata.and_then(Metadata::variant),
            now
        ],
    )
    .await?;
    Ok(Applied::Conversation { conversation: get_conversation(c, scope, input.id.as_str()).await?, created: false })
}

async fn end_conversation(
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

const MESSAGE_COLUMNS: &str = "m.id, m.conversation_id, m.role, m.content, m.request_id, m.status, m.metadata, m.created_at, m.updated_at, m.fingerprint";

fn message_from(row: &Row) -> Result<Message, StoreError> {
    let role: String = row.get(2)?;
    let status: String = row.get(5)?;
    let metadata: String = row.get(6)?;
    Ok(Message {
        id: row.get(0)?,
        conversation_id: row.get(1)?,
        role: MessageRole::from_db(&role),
        content: row.get(3)?,
        request_id: row.get(4)?,
        status: MessageStatus::from_db(&status),
        metadata: Metadata::from_db(&metadata),
        created_at: row.get(7)?,
        updated_at: row.get(8)?,
    })
}

/// A message whose conversation is in the caller's scope, with its fingerprint.
async fn find_message(c: &mut impl Conn, scope: &Scope, id: &str) -> Result<Option<(Message, String)>, StoreError> {
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
    row.map(|r| Ok((message_from(&r)?, r.get(9)?))).transpose()
}

async fn append_message(
    c: &mut impl Conn,
    scope: &Scope,
    input: MessageInput,
    now: Timestamp,
) -> Result<Applied, StoreError> {
    get_conversation(c, scope, input.conversation_id.as_str()).await?;
    let fingerprint = input.fingerprint();
    let inserted = c
        .query_opt(
            "INSERT INTO messages (account_id, id, conversation_id, role, content, request_id, status, metadata,
                                   topic, confidence, fingerprint, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
             ON CONFLICT DO NOTHING RETURNING seq",
            params![
                &scope.account_id,
                &input.id,
                &input.conversation_id,
                input.role.as_str(),
                input.content.as_str(),
                input.request_id.as_deref(),
                input.status.as_str(),
                input.metadata.to_json(),
                input.metadata.topic(),
                input.metadata.confidence_value(),
                fingerprint.as_str(),
                input.created_at.unwrap_or(now),
                now
            ],
        )
        .await?;
    if inserted.is_some() {
        let (message, _) = find_message(c, scope, input.id.as_str()).await?.ok_or(StoreError::NotFound("message"))?;
        return Ok(Applied::Message { message, created: true });
    }
    // Nothing was written: the id or the request id is taken.
    match find_message(c, scope, input.id.as_str()).await? {
        Some((message, stored)) if stored == fingerprint => Ok(Applied::Message { message, created: false }),
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

async fn update_message(
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
            metadata.map(Metadata::to_json),
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

async fn apply_one(c: &mut impl Conn, scope: &Scope, command: Command, now: Timestamp) -> Result<Applied, StoreError> {
    match command {
        Command::UpsertConversation(input) => upsert_conversation(c, scope, input, now).await,
        Command::AppendMessage(input) => append_message(c, scope, input, now).await,
        Command::UpdateMessage(update) => update_message(c, scope, update, now).await,
        Command::EndConversation(id) => end_conversation(c, scope, &id, now).await,
    }
}

/// Runs commands in order, each in a savepoint so that one failing is undone
/// alone while the others stay.
async fn apply_all(
    c: &mut impl Conn,
    scope: &Scope,
    commands: Vec<Command>,
    now: Timestamp,
) -> Result<Vec<Result<Applied, StoreError>>, StoreError> {
    let mut results = Vec::with_capacity(commands.len());
    for command in commands {
        c.batch("SAVEPOINT event").await?;
        let result = apply_one(c, scope, command, now).await;
        if result.is_err() {
            c.batch("ROLLBACK TO SAVEPOINT event").await?;
        }
        c.batch("RELEASE SAVEPOINT event").await?;
        if let Err(StoreError::Unavailable(e)) = &result {
            return Err(StoreError::Unavailable(e.clone()));
        }
        results.push(result);
    }
    Ok(results)
}

async fn transcript(c: &mut impl Conn, scope: &Scope, id: &ClientId) -> Result<Transcript, StoreError> {
    let conversation = get_conversation(c, scope, id.as_str()).await?;
    let rows = c
        .query(
            &format!(
                "SELECT {MESSAGE_COLUMNS} FROM messages m
                 WHERE m.account_id = $1 AND m.conversation_id = $2 ORDER BY m.created_at, m.seq"
            ),
            params![&scope.account_id, id],
        )
        .await?;
    let messages = rows.iter().map(message_from).collect::<Result<_, _>>()?;
    Ok(Transcript { conversation, messages })
}

#[async_trait::async_trait]
impl<E: Engine> Store for SqlStore<E> {
    async fn ping(&self) -> Result<(), StoreError> {
        self.engine.read(|c| Box::pin(async move { c.query("SELECT 1", &[]).await.map(drop) })).await
    }

    async fn create_account(&self, name: String, api_access: bool, now: Timestamp) -> Result<Account, StoreError> {
        let id = Uuid::new().to_string();
        let plan = if api_access { PLAN_STANDARD } else { PLAN_NO_API };
        self.engine
            .write(move |c| {
                Box::pin(async move {
                    c.execute(
                        "INSERT INTO accounts (id, name, plan_id, created_at) VALUES ($1, $2, $3, $4)",
                        params![id.as_str(), name, plan, now],
                    )
                    .await?;
                    get_account(c, &id).await
                })
            })
            .await
    }

    async fn get_account(&self, id: &str) -> Result<Account, StoreError> {
        let id = id.to_owned();
        self.engine.read(move |c| Box::pin(async move { get_account(c, &id).await })).await
    }

    async fn find_key(&self, secret_hash: &str) -> Result<Option<KeyRecord>, StoreError> {
        let hash = secret_hash.to_owned();
        self.engine
            .read(move |c| {
                Box::pin(async move {
                    let row = c
                        .query_opt(
                            &format!(
                                "SELECT {KEY_COLUMNS}, p.api_access FROM api_keys k
                                 JOIN accounts a ON a.id = k.account_id JOIN plans p ON p.id = a.plan_id
                                 WHERE k.secret_hash = $1"
                            ),
                            params![hash],
                        )
                        .await?;
                    row.map(|r| Ok(KeyRecord { key: key_from(&r)?, api_access: r.get(10)? })).transpose()
                })
            })
            .await
    }

    async fn create_key(
        &self,
        key: NewKey,
        secret_hash: String,
        prefix: String,
        now: Timestamp,
    ) -> Result<ApiKey, StoreError> {
        self.engine
            .write(move |c| {
                Box::pin(async move {
                    get_account(c, &key.account_id).await?;
                    let scope = Scope::account(key.account_id.clone());
                    if let Some(bot) = &key.bot_id {
                        get_bot(c, &scope, bot).await?;
                    }
                    let id = Uuid::new();
                    c.execute(
                        "INSERT INTO api_keys (id, account_id, bot_id, role, name, prefix, secret_hash, created_at, expires_at)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                        params![
                            &id,
                            &key.account_id,
                            key.bot_id.as_ref(),
                            key.role.as_str(),
                            key.name,
                            prefix,
                            secret_hash,
                            now,
                            key.expires_at
                        ],
                    )
                    .await?;
                    get_key(c, &scope, &id).await
                })
            })
            .await
    }

    async fn list_keys(&self, scope: &Scope, page: PageRequest) -> Result<Page<ApiKey>, StoreError> {
        let scope = scope.clone();
        self.engine
            .read(move |c| {
                Box::pin(async move {
                    let (at, seq) = page_start(&page);
                    let rows = c
                        .query(
                            &format!(
                                "SELECT {KEY_COLUMNS} FROM api_keys k
                                 WHERE k.account_id = $1 AND (CAST($2 AS TEXT) IS NULL OR k.bot_id = $2)
                                   AND (k.created_at < $3 OR (k.created_at = $3 AND k.seq < $4))
                                 ORDER BY k.created_at DESC, k.seq DESC LIMIT $5"
                            ),
                            params![&scope.account_id, scope.bot_id.as_ref(), at, seq, page.limit + 1],
                        )
                        .await?;
                    let rows =
                        rows.iter().map(|r| Ok((key_from(r)?, key_cursor(r)?))).collect::<Result<_, StoreError>>()?;
                    Ok(Page::from_rows(rows, page.limit))
                })
            })
            .await
    }

    async fn revoke_key(&self, scope: &Scope, id: &Uuid, now: Timestamp) -> Result<ApiKey, StoreError> {
        let (scope, id) = (scope.clone(), id.clone());
        self.engine
            .write(move |c| {
                Box::pin(async move {
                    get_key(c, &scope, &id).await?;
                    c.execute(
                        "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $3) WHERE id = $1 AND account_id = $2",
                        params![&id, &scope.account_id, now],
                    )
                    .await?;
                    get_key(c, &scope, &id).await
                })
            })
            .await
    }

    async fn get_key_by_id(&self, id: &Uuid) -> Result<ApiKey, StoreError> {
        let id = id.clone();
        self.engine
            .read(move |c| {
                Box::pin(async move {
                    let row = c
                        .query_opt(&format!("SELECT {KEY_COLUMNS} FROM api_keys k WHERE k.id = $1"), params![&id])
                        .await?
                        .ok_or(StoreError::NotFound("key"))?;
                    key_from(&row)
                })
            })
            .await
    }

    async fn create_bot(&self, account_id: &str, name: String, now: Timestamp) -> Result<Bot, StoreError> {
        let scope = Scope::account(account_id);
        self.engine
            .write(move |c| {
                Box::pin(async move {
                    let id = Uuid::new();
                    c.execute(
                        "INSERT INTO bots (id, account_id, name, created_at) VALUES ($1, $2, $3, $4)",
                        params![&id, &scope.account_id, name, now],
                    )
                    .await?;
                    get_bot(c, &scope, &id).await
                })
            })
            .await
    }

    async fn get_bot(&self, scope: &Scope, id: &Uuid) -> Result<Bot, StoreError> {
        let (scope, id) = (scope.clone(), id.clone());
        self.engine.read(move |c| Box::pin(async move { get_bot(c, &scope, &id).await })).await
    }

    async fn list_bots(&self, scope: &Scope, page: PageRequest) -> Result<Page<Bot>, StoreError> {
        let scope = scope.clone();
        self.engine
            .read(move |c| {
                Box::pin(async move {
                    let (at, seq) = page_start(&page);
                    let rows = c
                        .query(
                            &format!(
                                "SELECT {BOT_COLUMNS} FROM bots b
                                 WHERE b.account_id = $1 AND (CAST($2 AS TEXT) IS NULL OR b.id = $2)
                                   AND (b.created_at < $3 OR (b.created_at = $3 AND b.seq < $4))
                                 ORDER BY b.created_at DESC, b.seq DESC LIMIT $5"
                            ),
                            params![&scope.account_id, scope.bot_id.as_ref(), at, seq, page.limit + 1],
                        )
                        .await?;
                    let rows = rows
                        .iter()
                        .map(|r| Ok((bot_from(r)?, Cursor { at: r.get(2)?, seq: r.get(3)? })))
                        .collect::<Result<_, StoreError>>()?;
                    Ok(Page::from_rows(rows, page.limit))
                })
            })
            .await
    }

    async fn apply(
        &self,
        scope: &Scope,
        commands: Vec<Command>,
        now: Timestamp,
    ) -> Result<Vec<Result<Applied, StoreError>>, StoreError> {
        let scope = scope.clone();
        if commands.len() <= 1 {
            // One command needs no savepoint: its transaction is the unit.
            let Some(command) = commands.into_iter().next() else {
                return Ok(Vec::new());
            };
            let result =
                self.engine.write(move |c| Box::pin(async move { apply_one(c, &scope, command, now).await })).await;
            return match result {
                Err(e @ StoreError::Unavailable(_)) => Err(e),
                other => Ok(vec![other]),
            };
        }
        self.engine.write(move |c| Box::pin(async move { apply_all(c, &scope, commands, now).await })).await
    }

    async fn transcript(&self, scope: &Scope, id: &ClientId) -> Result<Transcript, StoreError> {
        let (scope, id) = (scope.clone(), id.clone());
        self.engine.read(move |c| Box::pin(async move { transcript(c, &scope, &id).await })).await
    }
}
