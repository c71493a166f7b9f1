//! Conversations: creating and updating them, ending them, and finding one
//! in the caller's scope (with its bot's settings, for the writes that
//! decide by them).

use super::{
    Recorded, bots, outbox,
    rollups::{Moves, Target},
    settings::{SETTINGS_COLUMNS, settings_from},
};
use crate::{
    domain::{
        DomainError, Timestamp,
        access::Scope,
        conversation::{Conversation, ConversationInput, ConversationStatus, Metadata, StoredMetadata},
        csat::RatingConfig,
        feedback::BotSettings,
        ids::ClientId,
        rollup::Rows,
        satisfaction::{Satisfaction, SatisfactionValue},
        webhook::Event,
    },
    params,
    store::{
        StoreError,
        sql::{Conn, Row},
    },
};

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
pub(super) async fn find(c: &mut impl Conn, scope: &Scope, id: &str) -> Result<Option<Conversation>, StoreError> {
    let mut row = c.query_opt(&conversation_sql(""), params![&scope.account_id, id, scope.bot_id.as_ref()]).await?;
    row.as_mut().map(conversation_from).transpose()
}

/// A conversation in the caller's scope with its bot's settings and rating
/// configuration, in one read (what votes and CSAT answers decide by).
/// With `lock`, a write's read: the conversation's row stays locked to the
/// end of the transaction (the bot's settings are not), as its satisfaction
/// will change; taken before anything else of the write, so that single
/// votes and batches of them lock in one order (conversation, then window).
pub(super) async fn with_settings(
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

/// The query of [`find`], with its parameters (account, id,
/// scoped bot); `settings` adds the bot's settings columns
/// ([`SETTINGS_COLUMNS`], from column [`CONVERSATION_WIDTH`] on) in the
/// same read.
fn conversation_sql(settings: &str) -> String {
    let (settings, join) = join_settings(settings);
    format!(
        "SELECT {CONVERSATION_COLUMNS}{settings} FROM conversations v{join}
         WHERE v.account_id = $1 AND v.id = $2 AND (CAST($3 AS TEXT) IS NULL OR v.bot_id = $3)"
    )
}

/// Columns of a [`conversation_sql`] row before the settings.
pub(super) const CONVERSATION_WIDTH: usize = 12;

/// The extra columns and join that add a bot's settings to a read of its
/// conversation `v` (none for `""`).
pub(super) fn join_settings(settings: &str) -> (String, &'static str) {
    if settings.is_empty() {
        (String::new(), "")
    } else {
        (format!(", {settings}"), " JOIN bot_settings s ON s.bot_id = v.bot_id")
    }
}

pub(super) async fn get(c: &mut impl Conn, scope: &Scope, id: &str) -> Result<Conversation, StoreError> {
    find(c, scope, id).await?.ok_or(StoreError::NotFound("conversation"))
}

/// Does a conversation with this id exist in the account at all (any bot)?
async fn exists_in_account(c: &mut impl Conn, account_id: &str, id: &str) -> Result<bool, StoreError> {
    Ok(c.query_opt("SELECT 1 FROM conversations WHERE account_id = $1 AND id = $2", params![account_id, id])
        .await?
        .is_some())
}

/// Creates a conversation, or updates the contact, locale and metadata of
/// the one there (its bot never changes). Metadata and locale can move the
/// conversation's signals to another variant or language: what they count
/// for is read before and after, and the difference added to `pending`.
pub(super) async fn upsert(
    c: &mut impl Conn,
    scope: &Scope,
    input: ConversationInput,
    now: Timestamp,
    pending: &mut Rows,
) -> Result<Recorded<Conversation>, StoreError> {
    let account = scope.account_id.as_str();
    let moves = if input.metadata.is_some() || input.locale.is_some() {
        Some(Moves::before(c, account, Target::conversation(input.id.as_str())).await?)
    } else {
        None
    };
    let recorded = create_or_update(c, scope, input, now).await?;
    if let Some(moves) = moves {
        moves.after(c, account, pending, true).await?;
    }
    Ok(recorded)
}

async fn create_or_update(
    c: &mut impl Conn,
    scope: &Scope,
    input: ConversationInput,
    now: Timestamp,
) -> Result<Recorded<Conversation>, StoreError> {
    if let Some(existing) = find(c, scope, input.id.as_str()).await? {
        return update(c, scope, existing, input, now).await;
    }
    if exists_in_account(c, &scope.account_id, input.id.as_str()).await? {
        // Either another writer created it just now, or it belongs to a bot
        // this key cannot see (then it does not exist for this key).
        let existing = find(c, scope, input.id.as_str()).await?.ok_or(StoreError::NotFound("conversation"))?;
        return update(c, scope, existing, input, now).await;
    }
    let bot_id = match (&input.bot_id, &scope.bot_id) {
        (Some(b), _) => b.clone(),
        (None, Some(own)) => own.clone(),
        (None, None) => return Err(DomainError::invalid("bot_id", "is required to create a conversation").into()),
    };
    bots::get(c, scope, &bot_id).await?;
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
        let existing = get(c, scope, input.id.as_str()).await?;
        return update(c, scope, existing, input, now).await;
    }
    Ok(Recorded { value: get(c, scope, input.id.as_str()).await?, created: true })
}

async fn update(
    c: &mut impl Conn,
    scope: &Scope,
    existing: Conversation,
    input: ConversationInput,
    now: Timestamp,
) -> Result<Recorded<Conversation>, StoreError> {
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
    Ok(Recorded { value: get(c, scope, input.id.as_str()).await?, created: false })
}

/// Marks a conversation ended; ending it again changes nothing.
pub(super) async fn end(
    c: &mut impl Conn,
    scope: &Scope,
    id: &ClientId,
    now: Timestamp,
) -> Result<Conversation, StoreError> {
    let conversation = get(c, scope, id.as_str()).await?;
    if conversation.status == ConversationStatus::Ended {
        return Ok(conversation);
    }
    c.execute(
        "UPDATE conversations SET status = 'ended', ended_at = $3, updated_at = $3 WHERE account_id = $1 AND id = $2",
        params![&scope.account_id, id, now],
    )
    .await?;
    let ended = get(c, scope, id.as_str()).await?;
    outbox::emit(c, &scope.account_id, Event::conversation_ended(&ended, now));
    Ok(ended)
}
