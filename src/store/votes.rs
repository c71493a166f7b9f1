//! Conversation votes: one per voter per window, claimed with one atomic
//! upsert so that racing requests and processes agree on a single winner; a
//! recorded vote writes its activity message into the conversation and
//! moves the conversation's satisfaction, in the same transaction. One at a
//! time, or many of one account in a few statements (a batch of PostgreSQL's
//! write lanes).

use std::{
    collections::{BTreeMap, BTreeSet, HashMap, HashSet},
    sync::LazyLock,
};

use super::{
    Voted, conversations,
    conversations::{CONVERSATION_COLUMNS, CONVERSATION_WIDTH, conversation_from},
    id_lists::{Read, reads_by_ids, rows_by_ids},
    outbox, satisfaction,
    settings::{SETTINGS_COLUMNS, settings_from},
    writes::settle,
};
use crate::{
    domain::{
        Timestamp,
        access::Scope,
        access::Source,
        conversation::Conversation,
        feedback::BotSettings,
        ids::{ClientId, Uuid},
        page::{Cursor, Page, PageRequest},
        rollup::{Contribution, Rows, VoteFact},
        satisfaction::{SatisfactionValue, next_satisfaction, vote_score},
        vote::{Direction, Vote, VoteAck, VoteInput, activity_text},
        webhook::Event,
    },
    params,
    store::{
        StoreError,
        sql::{Conn, Dialect, ROWS_A_STATEMENT, Row, Value, insert_sql, runs_of, typed_value_rows, value_rows},
    },
};

/// Reads what a vote's write will read and change (see
/// [`Engine::prefetches`](crate::store::sql::Engine::prefetches)): the
/// conversation with its bot's settings, the voter's window, the newest of the
/// conversation's votes and messages (where the new ones go), and the
/// conversation's entries in the satisfaction indexes, before and after. The
/// rows found are dropped.
pub(super) async fn prefetch(c: &mut impl Conn, scope: &Scope, input: &VoteInput) -> Result<(), StoreError> {
    let conversation = match conversations::with_settings(c, scope, input.conversation_id.as_str(), false).await {
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
pub(super) async fn vote(
    c: &mut impl Conn,
    scope: &Scope,
    input: VoteInput,
    now: Timestamp,
    pending: &mut Rows,
) -> Result<Voted, StoreError> {
    let (conversation, settings, _) =
        conversations::with_settings(c, scope, input.conversation_id.as_str(), true).await?;
    let ack = VoteAck { conversation_id: conversation.id.clone(), vote: input.direction.vote_name().to_owned() };
    let at = input.created_at.unwrap_or(now);
    let window_ms = settings.vote_window_seconds * 1000;
    static CLAIM: LazyLock<String> = LazyLock::new(|| claim_sql(1, ""));
    let claimed = c
        .execute(
            &CLAIM,
            params![window_ms, &scope.account_id, &input.conversation_id, input.rater.user_id.as_str(), at],
        )
        .await?;
    if claimed == 0 {
        return Ok(Voted { ack, recorded: false });
    }
    let rows = VoteRows::of(&scope.account_id, &conversation, &input, at, now);
    c.execute_later(&ACTIVITY_SQL, &rows.activity).await?;
    c.execute_later(&VOTE_SQL, &rows.vote).await?;
    outbox::emit(c, &scope.account_id, Event::of_vote(&rows.record));
    let negative_reason = if input.value < 0 { input.reason.as_deref() } else { None };
    let dimensions =
        satisfaction::record(c, &scope.account_id, &conversation.id, vote_score(input.value), negative_reason, at)
            .await?;
    pending.absorb(vote_fact(&conversation, dimensions, &input, at));
    Ok(Voted { ack, recorded: true })
}

/// Claims `n` voters' windows: each row `(account, conversation, user,
/// time)` from `$2` on, the window's length in milliseconds in `$1`. A claim
/// wins, and changes its row, where the voter has no window on the
/// conversation yet or the time is outside it; `tail` follows (`RETURNING`
/// tells a batch which claims won).
fn claim_sql(n: usize, tail: &str) -> String {
    format!(
        "INSERT INTO vote_windows (account_id, conversation_id, user_id, last_vote_at) VALUES {}
         ON CONFLICT (account_id, conversation_id, user_id) DO UPDATE SET last_vote_at =
             CASE WHEN excluded.last_vote_at > vote_windows.last_vote_at
                  THEN excluded.last_vote_at ELSE vote_windows.last_vote_at END
         WHERE vote_windows.last_vote_at <= excluded.last_vote_at - $1
            OR vote_windows.last_vote_at >= excluded.last_vote_at + $1{tail}",
        value_rows(2, 4, n)
    )
}

/// The rows a recorded vote adds: its activity message in the transcript,
/// and the vote, which points at it.
struct VoteRows {
    activity: Vec<Value>,
    vote: Vec<Value>,
    /// The vote as the API shows it (for its webhook event).
    record: Vote,
}

const ACTIVITY_HEAD: &str = "INSERT INTO messages (account_id, id, conversation_id, role, content, status, metadata, \
     fingerprint, created_at, updated_at)";
const ACTIVITY_WIDTH: usize = 10;
const VOTE_HEAD: &str = "INSERT INTO votes (id, account_id, conversation_id, bot_id, contact_id, user_id, direction, \
     value, reason, source, activity_message_id, created_at)";
const VOTE_WIDTH: usize = 12;

/// The single-row inserts of a vote's rows.
static ACTIVITY_SQL: LazyLock<String> = LazyLock::new(|| insert_sql(ACTIVITY_HEAD, ACTIVITY_WIDTH, 1, ""));
static VOTE_SQL: LazyLock<String> = LazyLock::new(|| insert_sql(VOTE_HEAD, VOTE_WIDTH, 1, ""));

impl VoteRows {
    fn of(account_id: &str, conversation: &Conversation, input: &VoteInput, at: Timestamp, now: Timestamp) -> Self {
        let vote_id = Uuid::new();
        let activity_id = format!("vote:{vote_id}");
        let metadata = serde_json::json!({
            "kind": input.direction.vote_name(), "value": input.value, "user_id": input.rater.user_id,
            "reason": input.reason, "vote_id": vote_id.as_str(),
        });
        let text = activity_text(input.direction, input.value, &input.rater.user_id, input.reason.as_deref());
        let activity = params![
            account_id,
            activity_id.as_str(),
            conversation.id.as_str(),
            "activity",
            text,
            "completed",
            metadata.to_string(),
            format!("activity:{activity_id}"),
            at,
            now
        ]
        .to_vec();
        let vote = params![
            &vote_id,
            account_id,
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
        ]
        .to_vec();
        let record = Vote {
            id: vote_id,
            conversation_id: conversation.id.clone(),
            bot_id: conversation.bot_id.clone(),
            contact_id: conversation.contact_id.clone(),
            user_id: input.rater.user_id.clone(),
            direction: input.direction,
            value: input.value,
            reason: input.reason.clone(),
            source: input.rater.source,
            activity_message_id: activity_id,
            created_at: at,
        };
        Self { activity, vote, record }
    }
}

/// What a recorded vote adds to the rollups.
/// `(variant, locale)`: the conversation's, as read under its lock.
fn vote_fact(
    conversation: &Conversation,
    (variant, locale): (Option<String>, Option<String>),
    input: &VoteInput,
    at: Timestamp,
) -> Rows {
    let vote = VoteFact {
        bot_id: conversation.bot_id.to_string(),
        variant,
        locale,
        up: input.direction == Direction::Up,
        value: input.value,
        at: at.0,
    };
    Rows::of(&Contribution { votes: vec![vote], ..Default::default() })
}

/// A vote of a batch: its scope, what it says, and when it came.
pub(super) type Voting = (Scope, VoteInput, Timestamp);

/// A conversation a batch of votes is on, as read and locked: with its
/// bot's settings, when its satisfaction was last set, and its variant.
struct VotedOn {
    conversation: Conversation,
    settings: BotSettings,
    since: Option<Timestamp>,
    variant: Option<String>,
}

/// Votes of one account, from many requests, answered each as
/// [`vote`] would answer it alone and in this order, in a few
/// statements: one read that locks every conversation (and those of `lock`
/// too: the conversations whose counts the batch's thumbs change, so that
/// a batch locks all its conversations at once and in key order); the
/// voters' window claims, one multi-row upsert per window length; the
/// activity messages and votes in multi-row inserts; each conversation's
/// satisfaction folded over its votes in order and written once. A
/// voter's second vote on one conversation in the batch goes through
/// [`vote`] after the rest.
pub(super) async fn vote_many(
    c: &mut impl Conn,
    account_id: &str,
    votes: Vec<Voting>,
    lock: Vec<String>,
    pending: &mut Rows,
) -> Result<Vec<Result<Voted, StoreError>>, StoreError> {
    let mut found = read_voted(c, account_id, &votes, lock).await?;
    let mut answers: Vec<Option<Result<Voted, StoreError>>> = votes.iter().map(|_| None).collect();
    let mut one_by_one: Vec<usize> = Vec::new();
    // The claims of each window length, in the order of the batch.
    let mut claims: BTreeMap<i64, Vec<usize>> = BTreeMap::new();
    let mut seen: HashSet<(&str, &str)> = HashSet::new();
    for (i, (scope, input, _)) in votes.iter().enumerate() {
        let Some(voted) = found
            .get(input.conversation_id.as_str())
            .filter(|v| scope.bot_id.as_ref().is_none_or(|bot| *bot == v.conversation.bot_id))
        else {
            answers[i] = Some(Err(StoreError::NotFound("conversation")));
            continue;
        };
        if !seen.insert((input.conversation_id.as_str(), input.rater.user_id.as_str())) {
            one_by_one.push(i);
            continue;
        }
        claims.entry(voted.settings.vote_window_seconds * 1000).or_default().push(i);
    }
    let at = |(_, input, now): &Voting| input.created_at.unwrap_or(*now);
    let mut won: HashSet<(String, String)> = HashSet::new();
    for (window_ms, places) in &claims {
        for run in runs_of(places, ROWS_A_STATEMENT) {
            let sql = claim_sql(run.len(), " RETURNING conversation_id, user_id");
            let mut params = vec![Value::Int(*window_ms)];
            for &i in run {
                let (_, input, _) = &votes[i];
                params.extend_from_slice(params![
                    account_id,
                    input.conversation_id.as_str(),
                    input.rater.user_id.as_str(),
                    at(&votes[i])
                ]);
            }
            for row in c.query(&sql, &params).await? {
                won.insert((row.get(0)?, row.get(1)?));
            }
        }
    }
    // The claims that won, in the order of the batch.
    let mut recorded: Vec<usize> = Vec::new();
    for places in claims.into_values() {
        for i in places {
            let (_, input, _) = &votes[i];
            let key = (input.conversation_id.as_str().to_owned(), input.rater.user_id.clone());
            let ack = VoteAck {
                conversation_id: input.conversation_id.as_str().to_owned(),
                vote: input.direction.vote_name().to_owned(),
            };
            let recorded_now = won.contains(&key);
            answers[i] = Some(Ok(Voted { ack, recorded: recorded_now }));
            if recorded_now {
                recorded.push(i);
            }
        }
    }
    recorded.sort_unstable();
    let rows: Vec<VoteRows> = recorded
        .iter()
        .map(|&i| {
            let (_, input, now) = &votes[i];
            VoteRows::of(account_id, &found[input.conversation_id.as_str()].conversation, input, at(&votes[i]), *now)
        })
        .collect();
    for run in runs_of(&rows, ROWS_A_STATEMENT) {
        let activity: Vec<Value> = run.iter().flat_map(|r| r.activity.iter().cloned()).collect();
        c.execute_later(&insert_sql(ACTIVITY_HEAD, ACTIVITY_WIDTH, run.len(), ""), &activity).await?;
        let vote: Vec<Value> = run.iter().flat_map(|r| r.vote.iter().cloned()).collect();
        c.execute_later(&insert_sql(VOTE_HEAD, VOTE_WIDTH, run.len(), ""), &vote).await?;
    }
    for r in &rows {
        outbox::emit(c, account_id, Event::of_vote(&r.record));
    }
    // Each conversation's satisfaction after its votes, in order.
    let mut changed: BTreeSet<&str> = BTreeSet::new();
    for &i in &recorded {
        let (_, input, _) = &votes[i];
        let when = at(&votes[i]);
        let voted = found.get_mut(input.conversation_id.as_str()).expect("a recorded vote's conversation was read");
        let negative_reason = if input.value < 0 { input.reason.as_deref() } else { None };
        let current = (&voted.conversation.satisfaction, voted.since);
        if let Some(next) = next_satisfaction(current, vote_score(input.value), negative_reason, when) {
            voted.conversation.satisfaction = next;
            voted.since = Some(when);
            changed.insert(input.conversation_id.as_str());
        }
        pending.absorb(vote_fact(
            &voted.conversation,
            (voted.variant.clone(), voted.conversation.locale.clone()),
            input,
            when,
        ));
    }
    let changed: Vec<&VotedOn> = changed.iter().map(|id| &found[*id]).collect();
    write_satisfactions(c, account_id, &changed).await?;
    for i in one_by_one {
        let (scope, input, now) = votes[i].clone();
        answers[i] = Some(settle(vote(c, &scope, input, now, pending).await)?);
    }
    Ok(answers.into_iter().map(|a| a.expect("every vote of a batch is answered")).collect())
}

/// The conversations of `votes`, and those of `lock`, with what a vote
/// decides by, locked in key order, by id.
async fn read_voted(
    c: &mut impl Conn,
    account_id: &str,
    votes: &[Voting],
    lock: Vec<String>,
) -> Result<HashMap<String, VotedOn>, StoreError> {
    let mut ids = lock;
    ids.extend(votes.iter().map(|(_, input, _)| input.conversation_id.as_str().to_owned()));
    ids.sort_unstable();
    ids.dedup();
    let lock_rows = c.dialect().lock_rows_of("v");
    let rows = rows_by_ids(c, account_id, &ids, &[], |list, _| {
        format!(
            "SELECT {CONVERSATION_COLUMNS}, v.satisfaction_at, v.variant, {SETTINGS_COLUMNS}
             FROM conversations v JOIN bot_settings s ON s.bot_id = v.bot_id
             WHERE v.account_id = $1 AND v.id IN ({list}) ORDER BY v.id{lock_rows}"
        )
    })
    .await?;
    let mut found = HashMap::with_capacity(rows.len());
    for mut row in rows {
        let (settings, _) = settings_from(&row, CONVERSATION_WIDTH + 2)?;
        let since: Option<Timestamp> = row.get(CONVERSATION_WIDTH)?;
        let variant: Option<String> = row.take(CONVERSATION_WIDTH + 1)?;
        let conversation = conversation_from(&mut row)?;
        found.insert(conversation.id.clone(), VotedOn { conversation, settings, since, variant });
    }
    Ok(found)
}

/// Writes the satisfaction of conversations (in key order): one statement
/// each, or on PostgreSQL, for more than one, a few multi-row updates.
async fn write_satisfactions(c: &mut impl Conn, account_id: &str, voted: &[&VotedOn]) -> Result<(), StoreError> {
    let row = |v: &VotedOn| {
        let s = &v.conversation.satisfaction;
        params![v.conversation.id.as_str(), s.value.as_str(), s.negative_reason.as_deref(), v.since].to_vec()
    };
    if voted.len() <= 1 || c.dialect() == Dialect::Sqlite {
        for v in voted {
            let mut params = vec![Value::from(account_id)];
            params.extend(row(v));
            c.execute_later(
                "UPDATE conversations SET satisfaction = $3, negative_reason = $4, satisfaction_at = $5
                 WHERE account_id = $1 AND id = $2",
                &params,
            )
            .await?;
        }
        return Ok(());
    }
    for run in runs_of(voted, ROWS_A_STATEMENT) {
        // Typed: a NULL reason, and the time, are otherwise text.
        let rows = typed_value_rows(2, &["", "", "TEXT", "BIGINT"], run.len());
        let params: Vec<Value> =
            std::iter::once(Value::from(account_id)).chain(run.iter().flat_map(|v| row(v))).collect();
        c.execute_later(
            &format!(
                "UPDATE conversations AS c SET satisfaction = v.column2, negative_reason = v.column3,
                     satisfaction_at = v.column4
                 FROM (VALUES {rows}) AS v WHERE c.account_id = $1 AND c.id = v.column1"
            ),
            &params,
        )
        .await?;
    }
    Ok(())
}

pub(super) const VOTE_COLUMNS: &str = "id, conversation_id, bot_id, contact_id, user_id, direction, value, reason, source, \
     activity_message_id, created_at, seq";

pub(super) fn vote_from(row: &mut Row) -> Result<Vote, StoreError> {
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

/// The reads of some conversations' votes, each conversation's oldest first
/// (for transcripts; rows read with [`vote_from`]). Ordered by conversation
/// first, so that SQLite walks the per-conversation index rather than every
/// vote of the account by time.
pub(super) fn votes_of(account_id: &str, ids: &[String]) -> Vec<Read> {
    reads_by_ids(account_id, ids, &[], |list, _| {
        format!(
            "SELECT {VOTE_COLUMNS} FROM votes WHERE account_id = $1 AND conversation_id IN ({list})
             ORDER BY conversation_id, created_at, seq"
        )
    })
}

pub(super) async fn list(
    c: &mut impl Conn,
    scope: &Scope,
    conversation: &ClientId,
    page: PageRequest,
) -> Result<Page<Vote>, StoreError> {
    conversations::get(c, scope, conversation.as_str()).await?;
    let (at, seq) = page.start();
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
