//! Erasing records (SPEC §16): a whole conversation with everything in it and
//! everything made of it, or one person's signals on a conversation that is
//! not theirs. Each is one unit of work, run in a transaction of its own, so
//! that an erasure of many conversations holds no other write up for long
//! and a crash leaves whole units done or not done.
//!
//! Figures move as if the records had never existed (their contribution to
//! the rollups and the conversations' counts is withdrawn, and the stored
//! satisfaction is worked out again from the signals left), except for
//! retention, which keeps past periods' counts ([`Figures::Keep`]).

use crate::{
    domain::{
        Timestamp,
        access::Scope,
        erasure::{Erased, Figures},
        golden::question_prompt,
        rollup::Rows,
        satisfaction::{replay, vote_score},
    },
    params,
    store::{
        StoreError, gap_groups, gap_questions,
        rollups::{self, Moves, Target},
        sql::{Conn, Value, placeholders},
    },
};

/// Erases conversation `id` of the scope and all it holds: messages, thumbs
/// (with their history), votes and their windows, CSAT answers, webhook
/// deliveries about it, and golden examples made of it (from its answers or
/// thumbs, or a knowledge-gap answer of the account whose prompt is
/// verbatim one of its questions). `None` if there is no
/// such conversation.
pub(super) async fn conversation(
    c: &mut impl Conn,
    scope: &Scope,
    id: &str,
    figures: Figures,
    pending: &mut Rows,
) -> Result<Option<Erased>, StoreError> {
    let account = scope.account_id.as_str();
    let bot = scope.bot_id.as_ref().map(ToString::to_string);
    let found = c
        .query_opt(
            &format!(
                "SELECT bot_id FROM conversations
                 WHERE account_id = $1 AND id = $2 AND (CAST($3 AS TEXT) IS NULL OR bot_id = $3){}",
                c.dialect().lock_rows()
            ),
            params![account, id, bot.as_deref()],
        )
        .await?;
    if found.is_none() {
        return Ok(None);
    }
    if figures == Figures::Correct {
        let mut withdrawn = rollups::withdraw(c, account, &Target::conversation(id)).await?;
        // The conversation's own counts go with it.
        withdrawn.conversations.remove(id);
        pending.absorb(withdrawn);
    }
    let p = params![account, id];
    let mut golden = c.execute("DELETE FROM golden_examples WHERE account_id = $1 AND conversation_id = $2", p).await?;
    let its_messages = "SELECT m.id FROM messages m WHERE m.conversation_id = $2 AND m.account_id = $1";
    let (feedback, made_of_them) = made_of_messages(c, its_messages, p).await?;
    golden += made_of_them;
    let votes = c.execute("DELETE FROM votes WHERE account_id = $1 AND conversation_id = $2", p).await?;
    c.execute("DELETE FROM vote_windows WHERE account_id = $1 AND conversation_id = $2", p).await?;
    let csat = c.execute("DELETE FROM csat_answers WHERE account_id = $1 AND conversation_id = $2", p).await?;
    let messages = c.execute("DELETE FROM messages WHERE conversation_id = $2 AND account_id = $1", p).await?;
    // Webhook deliveries about it, whatever their state: they hold its words.
    c.execute("DELETE FROM webhook_deliveries WHERE account_id = $1 AND conversation_id = $2", p).await?;
    c.execute("DELETE FROM conversations WHERE account_id = $1 AND id = $2", p).await?;
    Ok(Some(Erased { conversations: 1, messages, feedback, votes, csat, golden_examples: golden }))
}

/// The most messages of a long conversation erased in one transaction
/// ([`oldest_messages`]), before the transaction that erases the rest.
pub(super) const MESSAGES_A_TRANSACTION: i64 = 200;

/// Erases the oldest messages of conversation `id` (up to
/// [`MESSAGES_A_TRANSACTION`], activity messages aside: they go with the
/// votes that record them) with their thumbs and what was made of them,
/// moving figures as `figures` says; the conversation stays, its counts
/// right. A long conversation is erased so, a transaction at a time, then
/// by [`conversation`]. Zero when there is no such message left, or (for
/// retention, `expired_before` given) when the conversation has had
/// activity since.
pub(super) async fn oldest_messages(
    c: &mut impl Conn,
    scope: &Scope,
    id: &str,
    figures: Figures,
    expired_before: Option<Timestamp>,
    pending: &mut Rows,
) -> Result<Erased, StoreError> {
    let account = scope.account_id.as_str();
    if let Some(cut) = expired_before
        && !super::retention::is_expired(c, account, id, cut).await?
    {
        return Ok(Erased::default());
    }
    let bot = scope.bot_id.as_ref().map(ToString::to_string);
    let ids: Vec<String> = c
        .query(
            "SELECT m.id FROM messages m JOIN conversations v ON v.account_id = m.account_id AND v.id = m.conversation_id
             WHERE m.conversation_id = $2 AND m.account_id = $1 AND m.role <> 'activity'
               AND (CAST($3 AS TEXT) IS NULL OR v.bot_id = $3)
             ORDER BY m.created_at, m.seq LIMIT $4",
            params![account, id, bot.as_deref(), MESSAGES_A_TRANSACTION],
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect::<Result<_, _>>()?;
    if ids.is_empty() {
        return Ok(Erased::default());
    }
    let mut moved = Rows::default();
    for m in &ids {
        moved.absorb(rollups::withdraw(c, account, &Target::Message(m.clone())).await?);
    }
    moved.count_messages(id, -i64::try_from(ids.len()).unwrap_or(i64::MAX));
    pending.absorb(if figures == Figures::Correct { moved } else { moved.counts_only() });
    let list = placeholders(2, ids.len());
    let mut values: Vec<Value> = vec![account.into()];
    values.extend(ids.iter().map(Value::from));
    let (feedback, golden) = made_of_messages(c, &list, &values).await?;
    let messages =
        c.execute(&format!("DELETE FROM messages WHERE account_id = $1 AND id IN ({list})"), &values).await?;
    Ok(Erased { messages, feedback, golden_examples: golden, ..Erased::default() })
}

/// Deletes what was made of a set of messages (`messages`: their ids, as a
/// list or a subquery over `values`, `$1` being the account): the thumbs on
/// them with their history and the golden examples made of those thumbs,
/// their questions' vectors (or their place in the worker's queue), and the
/// knowledge-gap answers of the account whose prompt is verbatim
/// one of their questions. How many thumbs and golden examples went.
async fn made_of_messages(c: &mut impl Conn, messages: &str, values: &[Value]) -> Result<(u64, u64), StoreError> {
    let their_feedback =
        format!("SELECT f.id FROM message_feedback f WHERE f.account_id = $1 AND f.message_id IN ({messages})");
    let mut golden =
        c.execute(&format!("DELETE FROM golden_examples WHERE feedback_id IN ({their_feedback})"), values).await?;
    let questions: Vec<String> = c
        .query(
            &format!(
                "SELECT m.content FROM messages m WHERE m.account_id = $1 AND m.role = 'user' AND m.id IN ({messages})"
            ),
            values,
        )
        .await?
        .iter()
        .map(|r| r.get::<String>(0).map(|q| question_prompt(&q)))
        .collect::<Result<_, _>>()?;
    for prompts in questions.chunks(100) {
        let mut quoted: Vec<Value> = vec![values[0].clone()];
        quoted.extend(prompts.iter().map(Value::from));
        let sql = format!(
            "DELETE FROM golden_examples WHERE account_id = $1 AND origin = 'knowledge_gap' AND prompt IN ({})",
            placeholders(2, prompts.len())
        );
        golden += c.execute(&sql, &quoted).await?;
    }
    c.execute(&format!("DELETE FROM feedback_history WHERE feedback_id IN ({their_feedback})"), values).await?;
    // The vectors of their answers' questions, represented or pending, and
    // those still queued.
    c.execute(&format!("DELETE FROM gap_queue WHERE account_id = $1 AND message_id IN ({messages})"), values).await?;
    let questions = c
        .execute(&format!("DELETE FROM gap_questions WHERE account_id = $1 AND message_id IN ({messages})"), values)
        .await?;
    if let (true, Some(Value::Text(account))) = (questions > 0, values.first()) {
        gap_groups::erased(c, account).await?;
    }
    let reasons = reasons_of(c, &format!("f.message_id IN ({messages})"), values).await?;
    let feedback = c
        .execute(&format!("DELETE FROM message_feedback WHERE account_id = $1 AND message_id IN ({messages})"), values)
        .await?;
    if let Some(Value::Text(account)) = values.first() {
        gap_questions::forget_reasons(c, account, &reasons).await?;
    }
    Ok((feedback, golden))
}

/// The reasons (trimmed) of the account's feedback `f` matching `condition`
/// (over `values`, `$1` being the account), before it is deleted: their
/// vectors go too unless other feedback gives the same reason.
async fn reasons_of(c: &mut impl Conn, condition: &str, values: &[Value]) -> Result<Vec<String>, StoreError> {
    let sql = format!(
        "SELECT DISTINCT TRIM(f.reason) FROM message_feedback f WHERE f.account_id = $1 AND f.reason IS NOT NULL AND {condition}"
    );
    c.query(&sql, values).await?.iter().map(|r| r.get(0)).collect()
}

/// Erases what `user_id` gave on conversation `id` (someone else's): their
/// thumbs with their history and the golden examples made of them, their
/// votes with the activity messages and windows that record them, their
/// CSAT answers; then works out the conversation's satisfaction again.
pub(super) async fn signals_on(
    c: &mut impl Conn,
    account: &str,
    user_id: &str,
    id: &str,
    pending: &mut Rows,
) -> Result<Erased, StoreError> {
    let moves = Moves::before(c, account, Target::conversation(id)).await?;
    let p = params![account, user_id, id];
    let theirs =
        "SELECT f.id FROM message_feedback f WHERE f.account_id = $1 AND f.user_id = $2 AND f.conversation_id = $3";
    let golden_examples = c.execute(&format!("DELETE FROM golden_examples WHERE feedback_id IN ({theirs})"), p).await?;
    c.execute(&format!("DELETE FROM feedback_history WHERE feedback_id IN ({theirs})"), p).await?;
    let reasons = reasons_of(c, "f.user_id = $2 AND f.conversation_id = $3", p).await?;
    let feedback = c
        .execute("DELETE FROM message_feedback WHERE account_id = $1 AND user_id = $2 AND conversation_id = $3", p)
        .await?;
    if feedback > 0 {
        gap_groups::recounted(c, account).await?;
    }
    gap_questions::forget_reasons(c, account, &reasons).await?;
    // A vote's activity message is referred to by the vote: read, then both go.
    let activity: Vec<String> = c
        .query(
            "SELECT activity_message_id FROM votes WHERE account_id = $1 AND user_id = $2 AND conversation_id = $3",
            p,
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect::<Result<_, _>>()?;
    let votes =
        c.execute("DELETE FROM votes WHERE account_id = $1 AND user_id = $2 AND conversation_id = $3", p).await?;
    let mut messages = 0;
    for ids in activity.chunks(200) {
        let mut values: Vec<Value> = vec![account.into()];
        values.extend(ids.iter().map(Value::from));
        let sql = format!("DELETE FROM messages WHERE account_id = $1 AND id IN ({})", placeholders(2, ids.len()));
        messages += c.execute(&sql, &values).await?;
    }
    c.execute("DELETE FROM vote_windows WHERE account_id = $1 AND conversation_id = $3 AND user_id = $2", p).await?;
    c.execute("DELETE FROM webhook_deliveries WHERE account_id = $1 AND conversation_id = $3 AND person = $2", p)
        .await?;
    let csat = c
        .execute("DELETE FROM csat_answers WHERE account_id = $1 AND user_id = $2 AND conversation_id = $3", p)
        .await?;
    if votes + csat > 0 {
        satisfaction_again(c, account, id).await?;
    }
    moves.after(c, account, pending, false).await?;
    Ok(Erased { conversations: 0, messages, feedback, votes, csat, golden_examples })
}

/// Sets a conversation's satisfaction to what its remaining votes and CSAT
/// answers leave, in the order they came.
async fn satisfaction_again(c: &mut impl Conn, account: &str, id: &str) -> Result<(), StoreError> {
    // Found by the conversation; ordered here (by the time column, a
    // planner would walk every answer of the account in time order).
    let p = params![account, id];
    let votes = c
        .query("SELECT value, reason, created_at, seq FROM votes WHERE account_id = $1 AND conversation_id = $2", p)
        .await?;
    let answers = c
        .query(
            "SELECT score, negative_reason, answered_at, seq FROM csat_answers WHERE account_id = $1 AND conversation_id = $2",
            p,
        )
        .await?;
    let mut signals: Vec<(Timestamp, u8, i64, f64, Option<String>)> = Vec::with_capacity(votes.len() + answers.len());
    for r in &votes {
        let value: i64 = r.get(0)?;
        let reason: Option<String> = r.get(1)?;
        signals.push((r.get(2)?, 0, r.get(3)?, vote_score(value), reason.filter(|_| value < 0)));
    }
    for r in &answers {
        let score: i64 = r.get(0)?;
        #[allow(clippy::cast_precision_loss)]
        signals.push((r.get(2)?, 1, r.get(3)?, score as f64, r.get(1)?));
    }
    // By time; at the same instant, votes first, each in the order it came.
    signals.sort_by_key(|s| (s.0, s.1, s.2));
    let now = replay(signals.iter().map(|(at, _, _, score, reason)| (*score, reason.as_deref(), *at)));
    let (value, reason, at) = match now {
        Some((s, at)) => (Some(s.value.as_str()), s.negative_reason, Some(at)),
        None => (None, None, None),
    };
    c.execute(
        "UPDATE conversations SET satisfaction = $3, negative_reason = $4, satisfaction_at = $5
         WHERE account_id = $1 AND id = $2",
        params![account, id, value, reason, at],
    )
    .await
    .map(drop)
}

/// The conversations of the scope whose contact is `contact_id`, a few at
/// a time, with how many messages each has (activity messages aside).
pub(super) async fn contact_conversations(
    c: &mut impl Conn,
    scope: &Scope,
    contact_id: &str,
    limit: i64,
) -> Result<Vec<(String, i64)>, StoreError> {
    let bot = scope.bot_id.as_ref().map(ToString::to_string);
    c.query(
        "SELECT id, message_count FROM conversations
         WHERE account_id = $1 AND contact_id = $2 AND (CAST($3 AS TEXT) IS NULL OR bot_id = $3)
         ORDER BY created_at, seq LIMIT $4",
        params![&scope.account_id, contact_id, bot.as_deref(), limit],
    )
    .await?
    .iter()
    .map(|r| Ok((r.get(0)?, r.get(1)?)))
    .collect()
}

/// How many messages conversation `id` of the scope has (activity messages
/// aside); `None` if there is no such conversation.
pub(super) async fn message_count(c: &mut impl Conn, scope: &Scope, id: &str) -> Result<Option<i64>, StoreError> {
    let bot = scope.bot_id.as_ref().map(ToString::to_string);
    let row = c
        .query_opt(
            "SELECT message_count FROM conversations
             WHERE account_id = $1 AND id = $2 AND (CAST($3 AS TEXT) IS NULL OR bot_id = $3)",
            params![&scope.account_id, id, bot.as_deref()],
        )
        .await?;
    row.map(|r| r.get(0)).transpose()
}

/// The conversations of the scope on which `user_id` gave a thumb, a vote
/// or a CSAT answer, a few at a time.
pub(super) async fn conversations_rated_by(
    c: &mut impl Conn,
    scope: &Scope,
    user_id: &str,
    limit: i64,
) -> Result<Vec<String>, StoreError> {
    let bot = scope.bot_id.as_ref().map(ToString::to_string);
    let by = "account_id = $1 AND user_id = $2 AND (CAST($3 AS TEXT) IS NULL OR bot_id = $3)";
    c.query(
        &format!(
            "SELECT conversation_id FROM message_feedback WHERE {by}
             UNION SELECT conversation_id FROM votes WHERE {by}
             UNION SELECT conversation_id FROM csat_answers WHERE {by}
             LIMIT $4"
        ),
        params![&scope.account_id, user_id, bot.as_deref(), limit],
    )
    .await?
    .iter()
    .map(|r| r.get(0))
    .collect()
}
