//! Conversation-level signals: votes and CSAT answers, and the satisfaction
//! they leave on the conversation.

use super::conversations::{conversation_with_settings, get_conversation};
use crate::{
    domain::{
        Timestamp,
        access::Scope,
        feedback::Source,
        ids::{ClientId, Uuid},
        page::{Cursor, Page, PageRequest},
        rating::{CsatAnswer, QuestionCode, Satisfaction, SatisfactionValue, next_satisfaction, vote_score},
        rollup::{Contribution, Rows, VoteFact},
        vote::{Direction, Vote, VoteAck, activity_text},
    },
    params,
    store::{
        Applied, CsatInput, StoreError, VoteInput,
        sql::{Conn, Row},
    },
};

/// Folds a new signal into the conversation's satisfaction (a newer signal
/// wins); returns the conversation's variant.
async fn record_signal(
    c: &mut impl Conn,
    account_id: &str,
    conversation_id: &str,
    score: f64,
    reason: Option<&str>,
    at: Timestamp,
) -> Result<Option<String>, StoreError> {
    let row = c
        .query_opt(
            &format!(
                "SELECT satisfaction, negative_reason, satisfaction_at, variant FROM conversations
                 WHERE account_id = $1 AND id = $2{}",
                c.dialect().lock_rows()
            ),
            params![account_id, conversation_id],
        )
        .await?
        .ok_or(StoreError::NotFound("conversation"))?;
    let value: Option<String> = row.get(0)?;
    let current = Satisfaction { value: SatisfactionValue::from_db(value.as_deref()), negative_reason: row.get(1)? };
    let since: Option<Timestamp> = row.get(2)?;
    if let Some(next) = next_satisfaction((&current, since), score, reason, at) {
        c.execute_later(
            "UPDATE conversations SET satisfaction = $3, negative_reason = $4, satisfaction_at = $5
             WHERE account_id = $1 AND id = $2",
            params![account_id, conversation_id, next.value.as_str(), next.negative_reason, at],
        )
        .await?;
    }
    row.get(3)
}

// ---- votes ------------------------------------------------------------------

/// Reads what a vote's write will read and change (see
/// [`Engine::prefetches`](crate::store::sql::Engine::prefetches)): the
/// conversation with its bot's settings, the voter's window, the newest of the
/// conversation's votes and messages (where the new ones go), and the
/// conversation's entries in the satisfaction indexes, before and after. The
/// rows found are dropped.
pub(super) async fn prefetch_vote(c: &mut impl Conn, scope: &Scope, input: &VoteInput) -> Result<(), StoreError> {
    let conversation = match conversation_with_settings(c, scope, input.conversation_id.as_str()).await {
        Ok((conversation, _, _)) => conversation,
        Err(StoreError::NotFound(_)) => return Ok(()),
        Err(e) => return Err(e),
    };
    let (account, id) = (&scope.account_id, conversation.id.as_str());
    c.query(
        "SELECT last_vote_at FROM vote_windows WHERE account_id = $1 AND conversation_id = $2 AND user_id = $3",
        params![account, id, input.rater.user_id.as_str()],
    )
    .await?;
    for table in ["votes", "messages"] {
        c.query(
            &format!(
                "SELECT 1 FROM {table} WHERE account_id = $1 AND conversation_id = $2
                 ORDER BY created_at DESC, seq DESC LIMIT 1"
            ),
            params![account, id],
        )
        .await?;
    }
    let before = conversation.satisfaction.value;
    let after = SatisfactionValue::from_score(vote_score(input.value));
    let values = if before == after { vec![before] } else { vec![before, after] };
    let dialect = c.dialect();
    for value in values {
        // Unknown is stored as NULL.
        let stored = (value != SatisfactionValue::Unknown).then(|| value.as_str());
        let key = params![account, stored, conversation.created_at, &conversation.bot_id];
        for (index, bot, width) in
            [("conversations_by_satisfaction", "", 3), ("conversations_by_bot_satisfaction", " AND bot_id = $4", 4)]
        {
            c.query(
                &format!(
                    "SELECT 1 FROM conversations{} WHERE account_id = $1 AND satisfaction IS NOT DISTINCT FROM $2
                     AND created_at = $3{bot} LIMIT 1",
                    dialect.use_index(index)
                ),
                &key[..width],
            )
            .await?;
        }
    }
    Ok(())
}

/// Records a vote unless the voter already voted on this conversation within
/// the bot's window. The window is claimed with one atomic upsert on
/// `vote_windows`, so racing requests and processes agree on a single winner.
/// A recorded vote adds itself to the rollups in `pending`.
pub(super) async fn record_vote(
    c: &mut impl Conn,
    scope: &Scope,
    input: VoteInput,
    now: Timestamp,
    pending: &mut Rows,
) -> Result<Applied, StoreError> {
    let (conversation, settings, _) = conversation_with_settings(c, scope, input.conversation_id.as_str()).await?;
    let ack = VoteAck { conversation_id: conversation.id.clone(), vote: input.direction.vote_name().to_owned() };
    let at = input.created_at.unwrap_or(now);
    let window_ms = settings.vote_window_seconds * 1000;
    // Changes one row when the claim wins (an insert, or an update outside
    // the window), none otherwise.
    let claimed = c
        .execute(
            "INSERT INTO vote_windows (account_id, conversation_id, user_id, last_vote_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (account_id, conversation_id, user_id) DO UPDATE SET last_vote_at =
                 CASE WHEN excluded.last_vote_at > vote_windows.last_vote_at
                      THEN excluded.last_vote_at ELSE vote_windows.last_vote_at END
             WHERE vote_windows.last_vote_at <= excluded.last_vote_at - $5
                OR vote_windows.last_vote_at >= excluded.last_vote_at + $5",
            params![&scope.account_id, &input.conversation_id, input.rater.user_id.as_str(), at, window_ms],
        )
        .await?;
    if claimed == 0 {
        return Ok(Applied::Vote { ack, recorded: false });
    }
    let vote_id = Uuid::new();
    let activity_id = format!("vote:{vote_id}");
    let kind = input.direction.vote_name();
    let metadata = serde_json::json!({
        "kind": kind, "value": input.value, "user_id": input.rater.user_id,
        "reason": input.reason, "vote_id": vote_id.as_str(),
    });
    c.execute_later(
        "INSERT INTO messages (account_id, id, conversation_id, role, content, status, metadata, fingerprint, created_at, updated_at)
         VALUES ($1, $2, $3, 'activity', $4, 'completed', $5, $6, $7, $8)",
        params![
            &scope.account_id,
            activity_id.as_str(),
            conversation.id.as_str(),
            activity_text(input.direction, input.value, &input.rater.user_id, input.reason.as_deref()),
            metadata.to_string(),
            format!("activity:{activity_id}"),
            at,
            now
        ],
    )
    .await?;
    c.execute_later(
        "INSERT INTO votes (id, account_id, conversation_id, bot_id, contact_id, user_id, direction, value, reason,
                            source, activity_message_id, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        params![
            &vote_id,
            &scope.account_id,
            conversation.id.as_str(),
            &conversation.bot_id,
            conversation.contact_id.as_deref(),
            input.rater.user_id.as_str(),
            input.direction.as_str(),
            input.value,
            input.reason.as_deref(),
            input.rater.source.as_str(),
            activity_id.as_str(),
            at
        ],
    )
    .await?;
    let negative_reason = if input.value < 0 { input.reason.as_deref() } else { None };
    let variant =
        record_signal(c, &scope.account_id, &conversation.id, vote_score(input.value), negative_reason, at).await?;
    let vote = VoteFact {
        bot_id: conversation.bot_id.to_string(),
        variant,
        up: input.direction == Direction::Up,
        value: input.value,
        at: at.0,
    };
    pending.absorb(Rows::of(&Contribution { votes: vec![vote], ..Default::default() }));
    Ok(Applied::Vote { ack, recorded: true })
}

const VOTE_COLUMNS: &str = "id, conversation_id, bot_id, contact_id, user_id, direction, value, reason, source, \
     activity_message_id, created_at, seq";

fn vote_from(row: &mut Row) -> Result<Vote, StoreError> {
    let direction = Direction::from_db(row.text(5)?);
    let source = Source::from_db(row.text(8)?);
    Ok(Vote {
        id: row.take(0)?,
        conversation_id: row.take(1)?,
        bot_id: row.take(2)?,
        contact_id: row.take(3)?,
        user_id: row.take(4)?,
        direction,
        value: row.get(6)?,
        reason: row.take(7)?,
        source,
        activity_message_id: row.take(9)?,
        created_at: row.get(10)?,
    })
}

/// Some conversations' votes, each conversation's oldest first (for
/// transcripts). Ordered by conversation first, so that SQLite walks the
/// per-conversation index rather than every vote of the account by time.
pub(super) async fn votes_of(c: &mut impl Conn, account_id: &str, ids: &[String]) -> Result<Vec<Vote>, StoreError> {
    let mut rows = super::rows_by_ids(c, account_id, ids, &[], |list, _| {
        format!(
            "SELECT {VOTE_COLUMNS} FROM votes WHERE account_id = $1 AND conversation_id IN ({list})
             ORDER BY conversation_id, created_at, seq"
        )
    })
    .await?;
    rows.iter_mut().map(vote_from).collect()
}

pub(super) async fn list_votes(
    c: &mut impl Conn,
    scope: &Scope,
    conversation: &ClientId,
    page: PageRequest,
) -> Result<Page<Vote>, StoreError> {
    get_conversation(c, scope, conversation.as_str()).await?;
    let (at, seq) = super::page_start(&page);
    let mut rows = c
        .query(
            &format!(
                "SELECT {VOTE_COLUMNS} FROM votes WHERE account_id = $1 AND conversation_id = $2
                   AND (created_at < $3 OR (created_at = $3 AND seq < $4))
                 ORDER BY created_at DESC, seq DESC LIMIT $5"
            ),
            params![&scope.account_id, conversation, at, seq, page.limit + 1],
        )
        .await?;
    let rows = rows
        .iter_mut()
        .map(|r| Ok((vote_from(r)?, Cursor { at: r.get(10)?, seq: r.get(11)? })))
        .collect::<Result<_, StoreError>>()?;
    Ok(Page::from_rows(rows, page.limit))
}

// ---- CSAT -------------------------------------------------------------------

const CSAT_COLUMNS: &str = "id, conversation_id, bot_id, question_code, value, score, negative_reason, user_id, source, created_at, answered_at";

fn csat_from(row: &mut Row) -> Result<CsatAnswer, StoreError> {
    let question_code =
        QuestionCode::parse("question_code", row.text(3)?).map_err(|e| StoreError::Other(e.to_string()))?;
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

/// Some conversations' CSAT answers, each conversation's in the order they
/// were given (by conversation first, for the same reason as [`votes_of`]).
pub(super) async fn csat_of(
    c: &mut impl Conn,
    account_id: &str,
    ids: &[String],
) -> Result<Vec<CsatAnswer>, StoreError> {
    let mut rows = super::rows_by_ids(c, account_id, ids, &[], |list, _| {
        format!(
            "SELECT {CSAT_COLUMNS} FROM csat_answers WHERE account_id = $1 AND conversation_id IN ({list})
             ORDER BY conversation_id, answered_at, seq"
        )
    })
    .await?;
    rows.iter_mut().map(csat_from).collect()
}

/// Records an answer, or changes the respondent's earlier answer to the same
/// question. The same answer again changes nothing.
pub(super) async fn record_csat(
    c: &mut impl Conn,
    scope: &Scope,
    input: CsatInput,
    now: Timestamp,
) -> Result<Applied, StoreError> {
    let (conversation, _, config) = conversation_with_settings(c, scope, input.conversation_id.as_str()).await?;
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
        return Ok(Applied::Csat { answer: answer.clone(), created: false });
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
        .ok_or(StoreError::Other("an upsert returned no row".into()))?;
    let answer = csat_from(&mut row)?;
    #[allow(clippy::cast_precision_loss)]
    let score = input.score as f64;
    record_signal(c, &scope.account_id, &conversation.id, score, input.negative_reason.as_deref(), at).await?;
    Ok(Applied::Csat { created: answer.id == id, answer })
}
