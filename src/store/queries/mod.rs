//! Every query of the product, written once for both engines.
//!
//! Functions here take a [`Conn`] and speak portable SQL. Rules that need
//! stored state are decided by calling into `domain`; rules that must hold
//! across processes are constraints or single atomic statements. One file
//! per area; this one implements [`Store`] by running them on an engine.

mod analytics;
mod conversations;
mod feedback;
mod gaps;
mod ratings;
mod rollups;
mod settings;
mod tenancy;

use std::{collections::BTreeMap, sync::Arc};

use conversations::*;
use feedback::Thumb;
use ratings::Voting;
use tenancy::*;

use super::{
    Applied, Command, ConversationRow, GapAnswerInput, MessageInContext, Store, StoreError, Transcript,
    TranscriptWriter,
    gather::{Gather, Turn},
    key_cache::KeyCache,
    sql::{Conn, Engine, Row, Value, Work, account_and, list_len, placeholders},
};
use crate::{
    domain::{
        Timestamp,
        access::{ApiKey, KeyRecord, NewKey, Rater, Scope},
        account::{Account, Bot, PLAN_NO_API, PLAN_STANDARD},
        analytics::{Filters, GroupBy, Grouping, InboxFilter, OverviewFacts},
        conversation::Conversation,
        feedback::{
            BotSettings, BotSettingsPatch, Feedback, FeedbackDetail, FeedbackFilter, FeedbackItem, FeedbackType,
            ReviewBody,
        },
        gaps::GapFacts,
        golden::GoldenExample,
        ids::{ClientId, Uuid},
        page::{Cursor, MAX_LIMIT, Page, PageRequest},
        rating::{PromptCopy, RatingConfig, RatingConfigPatch, ResolvedCopy},
        rollup::{Counting, Rows},
        vote::Vote,
    },
    params,
};

/// The upper bound of a keyset page when no cursor was given.
fn page_start(page: &PageRequest) -> (i64, i64) {
    page.after.map_or((i64::MAX, i64::MAX), |c| (c.at, c.seq))
}

/// The one [`Store`] implementation, generic over the engine.
pub struct SqlStore<E> {
    engine: Arc<E>,
    keys: KeyCache,
    /// Where the engine gathers single thumbs and votes
    /// ([`Engine::write_lanes`]): the lanes that write them in batches.
    gathered: Option<Arc<Gather<Single, Applied>>>,
}

/// A single write of a batch: its scope, the command (a thumb or a vote),
/// and when it came.
pub type Single = (Scope, Command, Timestamp);

/// How many writes a batch takes at most (how many batches are written at
/// once is the engine's [`Engine::write_lanes`]).
const BATCH: usize = 64;

impl<E: Engine> SqlStore<E> {
    /// A store on `engine` that keeps each key it found for `key_ttl`
    /// (see [`KeyCache`]).
    pub fn new(engine: E, key_ttl: std::time::Duration) -> Self {
        // Every transaction's rollup changes are written just before it commits.
        engine.set_before_commit(Arc::new(|c| Box::pin(rollups::flush(c))));
        let engine = Arc::new(engine);
        let lanes = engine.write_lanes();
        let gathered = (lanes > 0).then(|| {
            let engine = engine.clone();
            Gather::new(lanes, BATCH, move |writes, turn| {
                let engine = engine.clone();
                Box::pin(async move { write_together(&*engine, writes, turn).await })
            })
        });
        Self { engine, keys: KeyCache::new(key_ttl), gathered }
    }

    /// Writes single thumbs and votes of any accounts as one batch, in one
    /// transaction, answering each as it would be answered alone (what a
    /// lane of [`Engine::write_lanes`] does with the writes it took).
    pub async fn write_together(&self, writes: Vec<Single>) -> Vec<Result<Applied, StoreError>> {
        write_together(&*self.engine, writes, Turn::alone()).await
    }

    /// See [`write_settled`].
    async fn write<T: Send + 'static>(&self, work: impl Work<E::Conn, T>) -> Result<T, StoreError> {
        write_settled(&*self.engine, work).await
    }
}

/// What one account's part of a batch holds: its thumbs, its votes and any
/// other writes, each with its place in the batch.
#[derive(Default)]
struct AccountPart {
    thumbs: (Vec<usize>, Vec<Thumb>),
    votes: (Vec<usize>, Vec<Voting>),
    others: Vec<(usize, Single)>,
}

/// Writes a batch in one transaction, account by account: the thumbs with
/// [`feedback::submit_feedbacks`], the votes with [`ratings::record_votes`]
/// (which also locks the conversations whose counts the thumbs change, so
/// that a batch takes its conversations' locks together, in key order), any
/// other write on its own, and the rollup rows once, then passes its `turn`
/// on to the next batch before committing. If the transaction
/// fails as a whole, nothing of it is stored, and each write is made again
/// on its own, so that a failure stays with the write it belongs to.
async fn write_together<E: Engine>(engine: &E, writes: Vec<Single>, turn: Turn) -> Vec<Result<Applied, StoreError>> {
    let n = writes.len();
    let again = writes.clone();
    let together = engine
        .write(move |c| {
            Box::pin(async move {
                let mut by_account: BTreeMap<String, AccountPart> = BTreeMap::new();
                for (i, (scope, command, now)) in writes.into_iter().enumerate() {
                    let part = by_account.entry(scope.account_id.clone()).or_default();
                    match command {
                        Command::Feedback(input) => {
                            part.thumbs.0.push(i);
                            part.thumbs.1.push((scope, input, now));
                        }
                        Command::Vote(input) => {
                            part.votes.0.push(i);
                            part.votes.1.push((scope, input, now));
                        }
                        other => part.others.push((i, (scope, other, now))),
                    }
                }
                let mut answers: Vec<Option<Result<Applied, StoreError>>> = (0..n).map(|_| None).collect();
                for (account_id, part) in by_account {
                    let mut rollup = Rows::default();
                    let (places, thumbs) = part.thumbs;
                    let mut results = feedback::submit_feedbacks(c, &account_id, thumbs, &mut rollup).await?;
                    let (vote_places, votes) = part.votes;
                    if !votes.is_empty() {
                        let counted: Vec<String> = rollup.conversations.keys().cloned().collect();
                        results.extend(ratings::record_votes(c, &account_id, votes, counted, &mut rollup).await?);
                    }
                    for (i, result) in places.into_iter().chain(vote_places).zip(results) {
                        answers[i] = Some(result);
                    }
                    for (i, (scope, command, now)) in part.others {
                        answers[i] = Some(settle(rollups::counted(c, &scope, command, now, &mut rollup).await)?);
                    }
                    rollups::add(c, &account_id, rollup);
                }
                turn.pass();
                Ok(answers.into_iter().map(|a| a.expect("every write of a batch is answered")).collect())
            })
        })
        .await;
    match together {
        Ok(answers) => answers,
        Err(e) => {
            tracing::info!(error = %e, writes = n, "a batch failed as a whole; making each write on its own");
            let alone = again.into_iter().map(|(scope, command, now)| write_one(engine, scope, command, now));
            futures_util::future::join_all(alone).await
        }
    }
}

/// A write whose answers (not found, a rule refused) commit like successes
/// (they wrote nothing), while any other error aborts the transaction.
async fn write_settled<E: Engine, T: Send + 'static>(engine: &E, work: impl Work<E::Conn, T>) -> Result<T, StoreError> {
    engine.write(move |c| Box::pin(async move { Ok(settle(work(c).await)) })).await.and_then(|r| r?)
}

/// Runs one command in a transaction of its own, adding its rollup rows.
async fn write_one<E: Engine>(
    engine: &E,
    scope: Scope,
    command: Command,
    now: Timestamp,
) -> Result<Applied, StoreError> {
    write_settled(engine, move |c| {
        Box::pin(async move {
            let mut rollup = Rows::default();
            let applied = rollups::counted(c, &scope, command, now, &mut rollup).await?;
            rollups::add(c, &scope.account_id, rollup);
            Ok(applied)
        })
    })
    .await
}

/// Splits an outcome into an answer for the caller (`Ok(..)`) and a failure
/// that must abort the transaction (`Err`).
fn settle<T>(result: Result<T, StoreError>) -> Result<Result<T, StoreError>, StoreError> {
    match result {
        Err(e @ (StoreError::NotFound(_) | StoreError::Rule(_))) => Ok(Err(e)),
        Err(e) => Err(e),
        Ok(v) => Ok(Ok(v)),
    }
}

/// A statement with its parameters, to be run later.
pub(super) type Read = (String, Vec<Value>);

/// The statements of a query `WHERE account_id = $1 AND … IN (…)` over
/// `ids`, [`MAX_LIMIT`] ids a statement, in order. `sql` is given the list's
/// placeholders (`$2, $3, …`) and the number of the first parameter after
/// them, where `after`'s values go. The list is padded to one of a few
/// lengths ([`list_len`]) by repeating its last id, which selects nothing
/// more.
fn reads_by_ids(account_id: &str, ids: &[String], after: &[Value], sql: impl Fn(&str, usize) -> String) -> Vec<Read> {
    ids.chunks(MAX_LIMIT as usize)
        .map(|chunk| {
            let n = list_len(chunk.len(), MAX_LIMIT as usize);
            let mut params = account_and(account_id, chunk);
            if let Some(last) = params.last().cloned() {
                params.resize(n + 1, last);
            }
            params.extend_from_slice(after);
            (sql(&placeholders(2, n), n + 2), params)
        })
        .collect()
}

/// The rows of the statements of [`reads_by_ids`], in order (run as one
/// set of [`rows_of_sets`]).
async fn rows_by_ids(
    c: &mut impl Conn,
    account_id: &str,
    ids: &[String],
    after: &[Value],
    sql: impl Fn(&str, usize) -> String,
) -> Result<Vec<Row>, StoreError> {
    let [rows] = rows_of_sets(c, [&reads_by_ids(account_id, ids, after, sql)]).await?;
    Ok(rows)
}

/// The rows of `N` sets of statements, each set's in order, all run at once
/// ([`Conn::query_many`]: one round trip on PostgreSQL).
async fn rows_of_sets<const N: usize>(c: &mut impl Conn, sets: [&[Read]; N]) -> Result<[Vec<Row>; N], StoreError> {
    let statements: Vec<(&str, &[Value])> =
        sets.iter().flat_map(|set| set.iter().map(|(sql, params)| (sql.as_str(), params.as_slice()))).collect();
    let mut results = c.query_many(&statements).await?.into_iter();
    Ok(std::array::from_fn(|i| results.by_ref().take(sets[i].len()).flatten().collect()))
}

#[async_trait::async_trait]
impl<E: Engine> Store for SqlStore<E> {
    async fn ping(&self) -> Result<(), StoreError> {
        self.engine.read(|c| Box::pin(async move { c.query("SELECT 1", &[]).await.map(drop) })).await
    }

    async fn fold_rollups(&self) -> Result<u64, StoreError> {
        // Each step its own write, so that writes queued meanwhile go first.
        let mut folded = 0;
        loop {
            let (rows, more) = self.write(|c| Box::pin(rollups::fold(c))).await?;
            folded += rows;
            if !more {
                break;
            }
        }
        if folded > 0 {
            // A read connection: outside any transaction, as a vacuum must be.
            self.engine.read(|c| Box::pin(rollups::tidy(c))).await?;
        }
        Ok(folded)
    }

    async fn create_account(&self, name: String, api_access: bool, now: Timestamp) -> Result<Account, StoreError> {
        let id = Uuid::new().to_string();
        let plan = if api_access { PLAN_STANDARD } else { PLAN_NO_API };
        self.write(move |c| {
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
        if let Some(record) = self.keys.get(secret_hash) {
            return Ok(Some(record));
        }
        let hash = secret_hash.to_owned();
        let found = self
            .engine
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
            .await?;
        if let Some(record) = &found {
            self.keys.put(secret_hash, record);
        }
        Ok(found)
    }

    async fn create_key(
        &self,
        key: NewKey,
        secret_hash: String,
        prefix: String,
        now: Timestamp,
    ) -> Result<ApiKey, StoreError> {
        self.write(move |c| {
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
        let revoked = self
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
            .await?;
        // This instance stops admitting it now; others within their TTL.
        self.keys.forget(&revoked.id);
        Ok(revoked)
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
        self.write(move |c| {
            Box::pin(async move {
                let id = Uuid::new();
                c.execute(
                    "INSERT INTO bots (id, account_id, name, created_at) VALUES ($1, $2, $3, $4)",
                    params![&id, &scope.account_id, name, now],
                )
                .await?;
                settings::create_settings(c, &scope.account_id, &id, now).await?;
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
            if self.engine.prefetches() && has_prefetch(&command) {
                let (scope, command) = (scope.clone(), command.clone());
                // Only a hint: the write reads everything again and reports
                // any failure itself.
                let warmed = self.engine.read(move |c| Box::pin(async move { prefetch(c, &scope, &command).await }));
                if let Err(e) = warmed.await {
                    tracing::debug!(error = %e, "prefetch failed");
                }
            }
            let result = match &self.gathered {
                Some(gathered) if matches!(command, Command::Feedback(_) | Command::Vote(_)) => {
                    gathered.submit((scope, command, now)).await
                }
                _ => write_one(&*self.engine, scope, command, now).await,
            };
            return match result {
                Err(e @ StoreError::Unavailable(_)) => Err(e),
                other => Ok(vec![other]),
            };
        }
        // First without savepoints (events that are refused wrote nothing); if
        // an event fails for real, the batch is undone and run again with a
        // savepoint around each event, so that one failure stays its own.
        let first = {
            let (scope, commands) = (scope.clone(), commands.clone());
            self.engine.write(move |c| Box::pin(async move { apply_all(c, &scope, commands, now, false).await })).await
        };
        match first {
            Ok(results) => Ok(results),
            Err(e) => {
                tracing::info!(error = %e, "a batch failed as a whole; applying it again event by event");
                self.engine
                    .write(move |c| Box::pin(async move { apply_all(c, &scope, commands, now, true).await }))
                    .await
            }
        }
    }

    async fn transcript(&self, scope: &Scope, id: &ClientId) -> Result<Transcript, StoreError> {
        let (scope, id) = (scope.clone(), id.clone());
        self.engine.read(move |c| Box::pin(async move { transcript(c, &scope, &id).await })).await
    }

    async fn conversation(&self, scope: &Scope, id: &ClientId) -> Result<Conversation, StoreError> {
        let (scope, id) = (scope.clone(), id.clone());
        self.engine.read(move |c| Box::pin(async move { get_conversation(c, &scope, id.as_str()).await })).await
    }

    async fn message(&self, scope: &Scope, id: &ClientId) -> Result<Option<MessageInContext>, StoreError> {
        let (scope, id) = (scope.clone(), id.clone());
        self.engine
            .read(move |c| {
                Box::pin(async move { find_message_in_context(c, &scope, MessageKey::Id, id.as_str()).await })
            })
            .await
    }

    async fn message_by_request_id(
        &self,
        scope: &Scope,
        request_id: &str,
    ) -> Result<Option<MessageInContext>, StoreError> {
        let (scope, request_id) = (scope.clone(), request_id.to_owned());
        self.engine
            .read(move |c| {
                Box::pin(async move { find_message_in_context(c, &scope, MessageKey::RequestId, &request_id).await })
            })
            .await
    }

    async fn bot_settings(&self, scope: &Scope, bot: &Uuid) -> Result<BotSettings, StoreError> {
        let (scope, bot) = (scope.clone(), bot.clone());
        self.engine.read(move |c| Box::pin(async move { settings::bot_settings(c, &scope, &bot).await })).await
    }

    async fn update_bot_settings(
        &self,
        scope: &Scope,
        bot: &Uuid,
        patch: BotSettingsPatch,
        now: Timestamp,
    ) -> Result<BotSettings, StoreError> {
        let (scope, bot) = (scope.clone(), bot.clone());
        self.write(move |c| Box::pin(async move { settings::update_bot_settings(c, &scope, &bot, &patch, now).await }))
            .await
    }

    async fn rating_config(&self, scope: &Scope, bot: &Uuid) -> Result<RatingConfig, StoreError> {
        let (scope, bot) = (scope.clone(), bot.clone());
        self.engine.read(move |c| Box::pin(async move { settings::rating_config(c, &scope, &bot).await })).await
    }

    async fn update_rating_config(
        &self,
        scope: &Scope,
        bot: &Uuid,
        patch: RatingConfigPatch,
        now: Timestamp,
    ) -> Result<RatingConfig, StoreError> {
        let (scope, bot) = (scope.clone(), bot.clone());
        self.write(move |c| Box::pin(async move { settings::update_rating_config(c, &scope, &bot, &patch, now).await }))
            .await
    }

    async fn prompt_copy(&self, scope: &Scope, bot: &Uuid, locale: &str) -> Result<ResolvedCopy, StoreError> {
        let (scope, bot, locale) = (scope.clone(), bot.clone(), locale.to_owned());
        self.engine.read(move |c| Box::pin(async move { settings::prompt_copy(c, &scope, &bot, &locale).await })).await
    }

    async fn prompt_copy_locales(&self, scope: &Scope, bot: &Uuid) -> Result<Vec<String>, StoreError> {
        let (scope, bot) = (scope.clone(), bot.clone());
        self.engine.read(move |c| Box::pin(async move { settings::prompt_copy_locales(c, &scope, &bot).await })).await
    }

    async fn put_prompt_copy(
        &self,
        scope: &Scope,
        bot: &Uuid,
        locale: &str,
        copy: PromptCopy,
        now: Timestamp,
    ) -> Result<ResolvedCopy, StoreError> {
        let (scope, bot, locale) = (scope.clone(), bot.clone(), locale.to_owned());
        self.write(move |c| {
            Box::pin(async move { settings::put_prompt_copy(c, &scope, &bot, &locale, &copy, now).await })
        })
        .await
    }

    async fn user_feedback(
        &self,
        scope: &Scope,
        message: &ClientId,
        user_id: &str,
    ) -> Result<Option<Feedback>, StoreError> {
        let (scope, message, user_id) = (scope.clone(), message.clone(), user_id.to_owned());
        self.engine
            .read(move |c| Box::pin(async move { feedback::user_feedback(c, &scope, &message, &user_id).await }))
            .await
    }

    async fn retract_feedback(
        &self,
        scope: &Scope,
        message: &ClientId,
        rater: &Rater,
        now: Timestamp,
    ) -> Result<Feedback, StoreError> {
        let (scope, message, rater) = (scope.clone(), message.clone(), rater.clone());
        self.write(move |c| {
            Box::pin(async move {
                let (retracted, change) = feedback::retract_feedback(c, &scope, &message, &rater, now).await?;
                rollups::add(c, &scope.account_id, change);
                Ok(retracted)
            })
        })
        .await
    }

    async fn feedback_detail(&self, scope: &Scope, id: &Uuid) -> Result<FeedbackDetail, StoreError> {
        let (scope, id) = (scope.clone(), id.clone());
        self.engine.read(move |c| Box::pin(async move { feedback::feedback_detail(c, &scope, &id).await })).await
    }

    async fn list_feedback(
        &self,
        scope: &Scope,
        filter: &FeedbackFilter,
        page: PageRequest,
    ) -> Result<Page<FeedbackItem>, StoreError> {
        let (scope, filter) = (scope.clone(), filter.clone());
        self.engine
            .read(move |c| Box::pin(async move { feedback::list_feedback(c, &scope, &filter, page).await }))
            .await
    }

    async fn review_feedback(
        &self,
        scope: &Scope,
        id: &Uuid,
        review: ReviewBody,
        reviewer: &str,
        now: Timestamp,
    ) -> Result<Feedback, StoreError> {
        let (scope, id, reviewer) = (scope.clone(), id.clone(), reviewer.to_owned());
        self.write(move |c| {
            Box::pin(async move { feedback::review_feedback(c, &scope, &id, &review, &reviewer, now).await })
        })
        .await
    }

    async fn list_votes(
        &self,
        scope: &Scope,
        conversation: &ClientId,
        page: PageRequest,
    ) -> Result<Page<Vote>, StoreError> {
        let (scope, conversation) = (scope.clone(), conversation.clone());
        self.engine
            .read(move |c| Box::pin(async move { ratings::list_votes(c, &scope, &conversation, page).await }))
            .await
    }

    async fn list_golden(
        &self,
        scope: &Scope,
        bot: Option<&Uuid>,
        page: PageRequest,
    ) -> Result<Page<GoldenExample>, StoreError> {
        let (scope, bot) = (scope.clone(), bot.cloned());
        self.engine
            .read(move |c| Box::pin(async move { feedback::list_golden(c, &scope, bot.as_ref(), page).await }))
            .await
    }

    async fn delete_golden(&self, scope: &Scope, id: &Uuid) -> Result<(), StoreError> {
        let (scope, id) = (scope.clone(), id.clone());
        self.write(move |c| Box::pin(async move { feedback::delete_golden(c, &scope, &id).await })).await
    }

    async fn knowledge_gap_facts(
        &self,
        scope: &Scope,
        bot: Option<&Uuid>,
        from: Timestamp,
        to: Timestamp,
        limit: i64,
    ) -> Result<GapFacts, StoreError> {
        let (scope, bot) = (scope.clone(), bot.cloned());
        self.engine
            .read(move |c| Box::pin(async move { gaps::gap_facts(c, &scope, bot.as_ref(), from, to, limit).await }))
            .await
    }

    async fn answer_knowledge_gap(
        &self,
        scope: &Scope,
        answer: GapAnswerInput,
        now: Timestamp,
    ) -> Result<GoldenExample, StoreError> {
        let scope = scope.clone();
        self.write(move |c| Box::pin(async move { gaps::answer_gap(c, &scope, &answer, now).await })).await
    }

    async fn signing_secret(&self) -> Result<String, StoreError> {
        let candidate = crate::domain::access::Secret::generate().expose().to_owned();
        self.write(move |c| Box::pin(async move { settings::instance_secret(c, "feedback_token", &candidate).await }))
            .await
    }

    async fn inbox(
        &self,
        scope: &Scope,
        filter: &InboxFilter,
        page: PageRequest,
    ) -> Result<Page<ConversationRow>, StoreError> {
        let (scope, filter) = (scope.clone(), filter.clone());
        self.engine.read(move |c| Box::pin(async move { analytics::inbox(c, &scope, &filter, page).await })).await
    }

    async fn write_transcripts(
        &self,
        scope: &Scope,
        conversations: Vec<ConversationRow>,
        write: TranscriptWriter,
        mut chunk: Vec<u8>,
    ) -> Result<Vec<u8>, StoreError> {
        let account_id = scope.account_id.clone();
        self.engine
            .read(move |c| {
                Box::pin(async move {
                    let rows = conversations.into_iter().map(|r| {
                        let thumbed = r.may_have_thumbs();
                        (r.conversation, thumbed)
                    });
                    for t in transcripts(c, &account_id, rows.collect()).await? {
                        write(&t, &mut chunk);
                    }
                    Ok(chunk)
                })
            })
            .await
    }

    async fn overview_facts(
        &self,
        scope: &Scope,
        filters: &Filters,
        previous_from: Timestamp,
        from: Timestamp,
        to: Timestamp,
        grouping: Grouping,
        counting: Counting,
    ) -> Result<OverviewFacts, StoreError> {
        let (scope, f) = (scope.clone(), filters.clone());
        self.engine
            .read(move |c| {
                Box::pin(async move {
                    analytics::overview_facts(c, &scope, &f, (previous_from, from, to), grouping, counting).await
                })
            })
            .await
    }

    async fn compare_groups(
        &self,
        scope: &Scope,
        filters: &Filters,
        from: Timestamp,
        to: Timestamp,
        group_by: GroupBy,
        counting: Counting,
    ) -> Result<Vec<(Option<String>, i64, i64)>, StoreError> {
        let (scope, f) = (scope.clone(), filters.clone());
        self.engine
            .read(move |c| {
                Box::pin(async move { analytics::compare_groups(c, &scope, &f, from, to, group_by, counting).await })
            })
            .await
    }

    async fn reason_counts(
        &self,
        scope: &Scope,
        filters: &Filters,
        from: Timestamp,
        to: Timestamp,
        feedback_type: FeedbackType,
    ) -> Result<Vec<(String, i64)>, StoreError> {
        let (scope, f) = (scope.clone(), filters.clone());
        self.engine
            .read(move |c| {
                Box::pin(async move { analytics::reason_counts(c, &scope, &f, from, to, feedback_type).await })
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        domain::{
            access::Rater,
            conversation::{ConversationBody, ConversationInput, MessageBody, MessageInput, MessageRole},
            feedback::Source,
            vote::Direction,
        },
        store::{
            FeedbackInput, VoteInput, migrate,
            sqlite::{SqliteEngine, SqliteOptions, WAL_FRAMES_BOUND},
        },
    };

    /// A SQLite engine on a new file in `dir`, migrated.
    async fn migrated_sqlite(dir: &tempfile::TempDir) -> SqliteEngine {
        let engine = SqliteEngine::open(SqliteOptions {
            path: dir.path().join("t.db"),
            busy_timeout: std::time::Duration::from_secs(5),
            synchronous_full: false,
            readers: 2,
            wal_frames_bound: WAL_FRAMES_BOUND,
        })
        .unwrap();
        migrate::run(&engine).await.unwrap();
        engine
    }

    /// A prefetch's failure is only logged (the write reads everything
    /// again), so a broken one would go unseen but for this: each runs
    /// cleanly on SQLite, for rows that exist and rows that do not, and for a
    /// conversation with and without a satisfaction.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn prefetches_read_cleanly_whatever_they_find() {
        let dir = tempfile::tempdir().unwrap();
        let engine = migrated_sqlite(&dir).await;
        assert!(engine.prefetches());
        let store = SqlStore::new(engine, std::time::Duration::ZERO);
        let now = Timestamp::now();
        let account = store.create_account("prefetch".into(), true, now).await.unwrap();
        let bot = store.create_bot(&account.id, "bot".into(), now).await.unwrap();
        let scope = Scope::account(account.id.as_str());
        let body = ConversationBody {
            bot_id: Some(bot.id.to_string()),
            contact_id: None,
            locale: None,
            metadata: None,
            created_at: None,
        };
        let message = |id: &str, role| MessageBody {
            id: id.to_owned(),
            role,
            content: "hello".into(),
            request_id: None,
            status: None,
            metadata: None,
            created_at: None,
        };
        let commands = vec![
            Command::UpsertConversation(ConversationInput::parse("c1", body, now).unwrap()),
            Command::AppendMessage(MessageInput::parse("c1", message("u1", MessageRole::User), now).unwrap()),
            Command::AppendMessage(MessageInput::parse("c1", message("a1", MessageRole::Assistant), now).unwrap()),
        ];
        for result in store.apply(&scope, commands, now).await.unwrap() {
            result.unwrap();
        }
        let rater = Rater { user_id: "u".into(), source: Source::Api };
        let thumb = |message: &str| {
            Command::Feedback(FeedbackInput {
                message_id: ClientId::parse("message_id", message).unwrap(),
                feedback_type: FeedbackType::Positive,
                reason: None,
                rater: rater.clone(),
                created_at: None,
            })
        };
        let vote = |conversation: &str, direction, value| {
            Command::Vote(VoteInput {
                conversation_id: ClientId::parse("conversation_id", conversation).unwrap(),
                direction,
                value,
                reason: None,
                rater: rater.clone(),
                created_at: None,
            })
        };
        let prefetch = |command: Command| {
            assert!(has_prefetch(&command));
            let scope = scope.clone();
            store.engine.read(move |c| Box::pin(async move { prefetch(c, &scope, &command).await }))
        };
        prefetch(thumb("a1")).await.unwrap();
        prefetch(thumb("missing")).await.unwrap();
        prefetch(vote("c1", Direction::Up, 100)).await.unwrap();
        prefetch(vote("missing", Direction::Up, 100)).await.unwrap();
        // With a satisfaction set, a vote the other way reads both entries.
        store.apply(&scope, vec![vote("c1", Direction::Up, 100)], now).await.unwrap().remove(0).unwrap();
        prefetch(vote("c1", Direction::Down, -100)).await.unwrap();
        assert!(!has_prefetch(&Command::EndConversation(ClientId::parse("conversation_id", "c1").unwrap())));
    }

    /// A fold on SQLite moves the oldest pending rows of each table, at most
    /// `FOLD_CHUNK` of them in one transaction, and says when some may be
    /// left; `fold_rollups` repeats it until none are, and the sums come out
    /// whole.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite_folds_in_steps_of_a_chunk_oldest_first() {
        let dir = tempfile::tempdir().unwrap();
        let engine = migrated_sqlite(&dir).await;
        let store = SqlStore::new(engine, std::time::Duration::ZERO);
        let chunk = rollups::FOLD_CHUNK;
        let rows = |n: i64| u64::try_from(n).unwrap();
        // Two and a half chunks of thumbs, each bucket counted twice (up in
        // the first half, down in the second), and a few votes.
        let pending = 5 * chunk / 2;
        store
            .write(move |c| {
                Box::pin(async move {
                    c.batch(&format!(
                        "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < {pending})
                         INSERT INTO thumb_rollup_pending
                             (account_id, bot_id, variant, topic, has_reason, span, bucket, up, down)
                         SELECT 'a', 'b', 'A', 't', 0, 3600000, i % {half}, i < {half}, i >= {half} FROM n;
                         INSERT INTO vote_rollup_pending (account_id, bot_id, variant, span, bucket, up, down, value_sum)
                         VALUES ('a', 'b', 'A', 3600000, 7, 1, 0, 1), ('a', 'b', 'A', 3600000, 7, 0, 1, -1);",
                        half = pending / 2
                    ))
                    .await
                })
            })
            .await
            .unwrap();
        let left = |table: &'static str| {
            store.engine.read(move |c| {
                Box::pin(async move {
                    let row = c.query(&format!("SELECT COUNT(*), MIN(rowid) FROM {table}_pending"), &[]).await?;
                    Ok::<_, StoreError>((row[0].get::<i64>(0)?, row[0].get::<Option<i64>>(1)?))
                })
            })
        };
        let (_, first) = left("thumb_rollup").await.unwrap();
        let first = first.unwrap();
        let step = store.write(|c| Box::pin(rollups::fold(c))).await.unwrap();
        assert_eq!(step, (rows(chunk + 2), true), "one chunk of thumbs and both votes");
        assert_eq!(left("thumb_rollup").await.unwrap(), (pending - chunk, Some(first + chunk)), "the oldest went");
        assert_eq!(left("vote_rollup").await.unwrap(), (0, None));
        assert_eq!(store.fold_rollups().await.unwrap(), rows(pending - chunk));
        assert_eq!(left("thumb_rollup").await.unwrap(), (0, None));
        let sums = store
            .engine
            .read(|c| {
                Box::pin(async move {
                    let mut all = Vec::new();
                    for sql in [
                        "SELECT COUNT(*), SUM(up), SUM(down), MIN(up), MIN(down) FROM thumb_rollup",
                        "SELECT COUNT(*), up, down, value_sum, 0 FROM vote_rollup",
                    ] {
                        let row = &c.query(sql, &[]).await?[0];
                        all.push((0..5).map(|i| row.get::<i64>(i)).collect::<Result<Vec<_>, _>>()?);
                    }
                    Ok(all)
                })
            })
            .await
            .unwrap();
        let half = pending / 2;
        assert_eq!(sums, [vec![half, half, half, 1, 1], vec![1, 1, 1, 0, 0]]);
    }

    /// Sets of statements run at once come back each with its own rows, in
    /// order, whatever the number of statements in each (none included).
    #[tokio::test]
    async fn sets_of_reads_come_back_apart_and_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let engine = migrated_sqlite(&dir).await;
        let read = |sql: &str, n: i64| -> Read { (sql.to_owned(), vec![Value::Int(n)]) };
        let first = [read("SELECT $1 UNION ALL SELECT $1 + 1", 1), read("SELECT $1", 3)];
        let third = [read("SELECT $1 WHERE $1 > 0", 4), read("SELECT $1 WHERE $1 < 0", 5), read("SELECT $1", 6)];
        let sets = engine
            .read(move |c| {
                Box::pin(async move {
                    let sets = rows_of_sets(c, [&first[..], &[], &third[..]]).await?;
                    let ints = |rows: &[Row]| rows.iter().map(|r| r.get::<i64>(0)).collect::<Result<Vec<_>, _>>();
                    Ok([ints(&sets[0])?, ints(&sets[1])?, ints(&sets[2])?])
                })
            })
            .await
            .unwrap();
        assert_eq!(sets, [vec![1, 2, 3], vec![], vec![4, 6]]);
    }
}
