//! Storage: one [`Store`] trait, two engines.
//!
//! The trait speaks domain types: each write is one typed call whose answer
//! is what it produced. Its one implementation, [`SqlStore`]
//! (`sql_store.rs`), runs the queries of the product, written once in
//! portable SQL and kept by area:
//!
//! - `accounts.rs`, `keys.rs` (with `key_cache.rs`), `bots.rs`,
//!   `settings.rs` (bot settings, rating configuration, prompt copy,
//!   instance secrets);
//! - `conversations.rs`, `messages.rs`, `transcripts.rs`;
//! - `feedback.rs` (a thumb's lifecycle: submission, retraction, review),
//!   `golden.rs`, `votes.rs`, `csat.rs`, `satisfaction.rs` (what a vote or a
//!   CSAT answer leaves on its conversation);
//! - `inbox.rs`, `analytics.rs`, `gaps.rs`: reads;
//! - `rollups.rs`: each write's change to the rollups, added just before
//!   its transaction commits, and the fold;
//! - `batches.rs`: many writes in one transaction (`/v1/ingest`, and the
//!   thumbs and votes PostgreSQL's write lanes gather, `gather.rs`).
//! - `outbox.rs`: the webhook deliveries each write's events owe, written
//!   just before its transaction commits; `webhooks.rs`, `deliveries.rs`:
//!   webhooks and what their delivery worker reads and writes
//!   ([`WebhookStore`], `webhook_store.rs`).
//!
//! Beneath them the engine seam (`sql.rs`) runs statements and transactions,
//! and the engines (`sqlite/`, `postgres.rs`) implement it. [`connect`]
//! picks the engine from the URL scheme and runs the migrations
//! (`migrate.rs`).

mod accounts;
mod analytics;
mod audit;
mod batches;
mod bots;
mod conversations;
mod csat;
mod deliveries;
mod erasure;
mod error;
mod feedback;
mod gap_groups;
mod gap_questions;
mod gaps;
mod gather;
mod golden;
mod id_lists;
mod inbox;
mod key_cache;
mod keys;
mod lifecycle_store;
mod messages;
pub mod migrate;
mod outbox;
mod people;
mod people_store;
pub mod postgres;
mod retention;
mod rollups;
mod satisfaction;
mod settings;
pub mod sql;
mod sql_store;
pub mod sqlite;
mod subject;
mod thumbs;
mod transcripts;
mod votes;
mod webhook_store;
mod webhooks;
mod writes;

use std::sync::Arc;

use async_trait::async_trait;

pub use error::{Because, Cause, StoreError, because};
pub use lifecycle_store::{LifecycleStore, Progress};
pub use people::{SessionOwner, SessionRow, UserChange};
pub use people_store::PeopleStore;
pub use sql_store::SqlStore;
pub use webhook_store::{Outcome, Sender, WebhookStore};

use crate::domain::{
    Timestamp,
    access::{ApiKey, KeyRecord, NewKey, Rater, Scope},
    account::{Account, Bot},
    analytics::{Filters, GroupBy, Grouping, InboxFilter, OverviewFacts},
    audit::Actor,
    conversation::{
        Conversation, ConversationInput, ConversationRow, Message, MessageInContext, MessageInput, MessageUpdate,
    },
    csat::{CsatAnswer, CsatInput, PromptCopy, RatingConfig, RatingConfigPatch, ResolvedCopy},
    feedback::{
        BotSettings, BotSettingsPatch, Feedback, FeedbackDetail, FeedbackFilter, FeedbackInput, FeedbackItem,
        FeedbackType, ReviewRequest,
    },
    gaps::{
        Assignment, GapAnswerInput, GapDetail, GapExample, GapFilter, GapKey, GapTally, PendingQuestion, Shelf,
        ShelfRows,
    },
    golden::GoldenExample,
    ids::{ClientId, Uuid},
    page::{Page, PageRequest},
    rollup::Counting,
    transcript::{Transcript, TranscriptWriter},
    vote::{Vote, VoteAck, VoteInput},
};

/// What a write that may find its object already there did: the object as
/// stored, and whether this write made it (201) or found or updated it (200).
#[derive(Debug, Clone)]
pub struct Recorded<T> {
    pub value: T,
    pub created: bool,
}

/// What a vote did: the acknowledgement every vote gets, and whether it was
/// recorded (a vote inside its window is acknowledged the same way, with
/// nothing recorded).
#[derive(Debug, Clone)]
pub struct Voted {
    pub ack: VoteAck,
    pub recorded: bool,
}

/// One write of a batch (`/v1/ingest`, the demo, the generators).
#[derive(Debug, Clone)]
pub enum Command {
    UpsertConversation(ConversationInput),
    AppendMessage(MessageInput),
    UpdateMessage(MessageUpdate),
    EndConversation(ClientId),
    Vote(VoteInput),
    Feedback(FeedbackInput),
    Csat(CsatInput),
}

/// What a [`Command`] of a batch did.
#[derive(Debug, Clone)]
pub enum Applied {
    Conversation(Recorded<Conversation>),
    Message(Recorded<Message>),
    Vote(Voted),
    Feedback(Recorded<Feedback>),
    Csat(Recorded<CsatAnswer>),
}

impl Applied {
    /// Whether something new was made (201) rather than found or updated (200).
    /// Votes always answer 200, recorded or not, so that duplicates look the same.
    pub fn created(&self) -> bool {
        match self {
            Self::Conversation(r) => r.created,
            Self::Message(r) => r.created,
            Self::Feedback(r) => r.created,
            Self::Csat(r) => r.created,
            Self::Vote(_) => false,
        }
    }
}

/// Everything the product keeps. Implemented once by [`SqlStore`] over both engines.
#[async_trait]
pub trait Store: PeopleStore + LifecycleStore + WebhookStore + Send + Sync {
    // ---- the instance ----------------------------------------------------------

    /// Checks that the database answers.
    async fn ping(&self) -> Result<(), StoreError>;

    /// Adds the rollups' pending changes to the rollup rows, in one
    /// transaction; figures read the same before and after. Returns the
    /// pending rows folded. Servers call it every second ([`keep_folding`]).
    /// On PostgreSQL it then vacuums the pending tables, whose every row a
    /// fold deletes.
    async fn fold_rollups(&self) -> Result<u64, StoreError>;

    /// The secret that signs feedback tokens and sessions, made on first use
    /// and shared by every instance.
    async fn signing_secret(&self) -> Result<String, StoreError>;
    /// The signing secret as it is now (a read; `None` before any was made).
    async fn read_signing_secret(&self) -> Result<Option<String>, StoreError>;
    /// Replaces the signing secret: what was signed before stops verifying.
    async fn rotate_signing_secret(&self, new: String) -> Result<(), StoreError>;

    // ---- accounts, keys, bots ---------------------------------------------------

    async fn create_account(
        &self,
        name: String,
        api_access: bool,
        by: &Actor,
        now: Timestamp,
    ) -> Result<Account, StoreError>;
    async fn get_account(&self, id: &str) -> Result<Account, StoreError>;

    /// Looks a key up by the hash of its secret.
    async fn find_key(&self, secret_hash: &str) -> Result<Option<KeyRecord>, StoreError>;
    async fn create_key(
        &self,
        key: NewKey,
        secret_hash: String,
        prefix: String,
        by: &Actor,
        now: Timestamp,
    ) -> Result<ApiKey, StoreError>;
    async fn list_keys(&self, scope: &Scope, page: PageRequest) -> Result<Page<ApiKey>, StoreError>;
    /// Revokes a key and ends its dashboard sessions.
    async fn revoke_key(&self, scope: &Scope, id: &Uuid, by: &Actor, now: Timestamp) -> Result<ApiKey, StoreError>;
    /// A key by id in any account: for operators (the CLI) and sessions, never for the API.
    async fn get_key_by_id(&self, id: &Uuid) -> Result<ApiKey, StoreError>;
    /// A key by id, with whether its plan has API access, kept like a key
    /// found by its secret (the issuer of a feedback token).
    async fn find_key_by_id(&self, id: &Uuid) -> Result<Option<KeyRecord>, StoreError>;

    async fn create_bot(&self, account_id: &str, name: String, by: &Actor, now: Timestamp) -> Result<Bot, StoreError>;
    async fn get_bot(&self, scope: &Scope, id: &Uuid) -> Result<Bot, StoreError>;
    async fn list_bots(&self, scope: &Scope, page: PageRequest) -> Result<Page<Bot>, StoreError>;

    // ---- bot settings, rating configuration, prompt copy ------------------------

    async fn bot_settings(&self, scope: &Scope, bot: &Uuid) -> Result<BotSettings, StoreError>;
    async fn update_bot_settings(
        &self,
        scope: &Scope,
        bot: &Uuid,
        patch: BotSettingsPatch,
        by: &Actor,
        now: Timestamp,
    ) -> Result<BotSettings, StoreError>;
    async fn rating_config(&self, scope: &Scope, bot: &Uuid) -> Result<RatingConfig, StoreError>;
    async fn update_rating_config(
        &self,
        scope: &Scope,
        bot: &Uuid,
        patch: RatingConfigPatch,
        by: &Actor,
        now: Timestamp,
    ) -> Result<RatingConfig, StoreError>;
    /// Prompt copy for `locale`, falling back along its chain to the built-in copy.
    async fn prompt_copy(&self, scope: &Scope, bot: &Uuid, locale: &str) -> Result<ResolvedCopy, StoreError>;
    /// The locales a bot has its own prompt copy for (lower-cased), in order.
    async fn prompt_copy_locales(&self, scope: &Scope, bot: &Uuid) -> Result<Vec<String>, StoreError>;
    async fn put_prompt_copy(
        &self,
        scope: &Scope,
        bot: &Uuid,
        locale: &str,
        copy: PromptCopy,
        by: &Actor,
        now: Timestamp,
    ) -> Result<ResolvedCopy, StoreError>;

    // ---- conversations and messages -----------------------------------------------

    /// Creates a conversation, or updates its contact, locale and metadata.
    async fn upsert_conversation(
        &self,
        scope: &Scope,
        input: ConversationInput,
        now: Timestamp,
    ) -> Result<Recorded<Conversation>, StoreError>;
    /// Marks a conversation ended; ending it again changes nothing.
    async fn end_conversation(&self, scope: &Scope, id: &ClientId, now: Timestamp) -> Result<Conversation, StoreError>;
    /// Appends a message; the same message again is found, not appended.
    async fn append_message(
        &self,
        scope: &Scope,
        input: MessageInput,
        now: Timestamp,
    ) -> Result<Recorded<Message>, StoreError>;
    async fn update_message(&self, scope: &Scope, update: MessageUpdate, now: Timestamp)
    -> Result<Message, StoreError>;

    /// Applies writes in order, in one transaction, each on its own: one
    /// refused leaves the others alone. All that succeeded are committed
    /// before this returns.
    async fn apply(
        &self,
        scope: &Scope,
        commands: Vec<Command>,
        now: Timestamp,
    ) -> Result<Vec<Result<Applied, StoreError>>, StoreError>;

    /// A conversation with its messages, votes, CSAT answers and satisfaction.
    async fn transcript(&self, scope: &Scope, id: &ClientId) -> Result<Transcript, StoreError>;
    async fn conversation(&self, scope: &Scope, id: &ClientId) -> Result<Conversation, StoreError>;
    /// A message, if it exists in scope.
    async fn message(&self, scope: &Scope, id: &ClientId) -> Result<Option<MessageInContext>, StoreError>;
    /// The assistant message that answered chat request `request_id`.
    async fn message_by_request_id(
        &self,
        scope: &Scope,
        request_id: &str,
    ) -> Result<Option<MessageInContext>, StoreError>;

    // ---- thumbs, votes, CSAT ------------------------------------------------------

    /// A thumb on an answer: created, kept, its reason updated, or switched,
    /// as the feedback lifecycle decides.
    async fn submit_feedback(
        &self,
        scope: &Scope,
        input: FeedbackInput,
        now: Timestamp,
    ) -> Result<Recorded<Feedback>, StoreError>;
    /// The current feedback of `user_id` on a message (`None` if none or retracted).
    async fn user_feedback(
        &self,
        scope: &Scope,
        message: &ClientId,
        user_id: &str,
    ) -> Result<Option<Feedback>, StoreError>;
    /// The user takes the thumb back: it leaves the counts, stays in the history.
    async fn retract_feedback(
        &self,
        scope: &Scope,
        message: &ClientId,
        rater: &Rater,
        now: Timestamp,
    ) -> Result<Feedback, StoreError>;
    async fn feedback_detail(&self, scope: &Scope, id: &Uuid) -> Result<FeedbackDetail, StoreError>;
    async fn list_feedback(
        &self,
        scope: &Scope,
        filter: &FeedbackFilter,
        page: PageRequest,
    ) -> Result<Page<FeedbackItem>, StoreError>;
    async fn review_feedback(
        &self,
        scope: &Scope,
        id: &Uuid,
        review: ReviewRequest,
        reviewer: &Actor,
        now: Timestamp,
    ) -> Result<Feedback, StoreError>;

    /// Records a vote unless the voter voted on the conversation within the bot's window.
    async fn vote(&self, scope: &Scope, input: VoteInput, now: Timestamp) -> Result<Voted, StoreError>;
    async fn list_votes(
        &self,
        scope: &Scope,
        conversation: &ClientId,
        page: PageRequest,
    ) -> Result<Page<Vote>, StoreError>;

    /// Records a CSAT answer, or changes the respondent's earlier answer to the question.
    async fn answer_csat(
        &self,
        scope: &Scope,
        input: CsatInput,
        now: Timestamp,
    ) -> Result<Recorded<CsatAnswer>, StoreError>;

    // ---- golden examples and knowledge gaps -----------------------------------------

    async fn list_golden(
        &self,
        scope: &Scope,
        bot: Option<&Uuid>,
        page: PageRequest,
    ) -> Result<Page<GoldenExample>, StoreError>;
    async fn delete_golden(&self, scope: &Scope, id: &Uuid, by: &Actor, now: Timestamp) -> Result<(), StoreError>;

    /// The thumbs-down of `filter`'s period and the previous one, counted by
    /// knowledge gap: by stored group, and each answer not grouped yet alone.
    async fn gap_tallies(&self, scope: &Scope, filter: &GapFilter) -> Result<Vec<GapTally>, StoreError>;
    /// In one read, what a listing shows of each of `gaps` (key, id, bot)
    /// beyond its tally, over the thumbs-down of `[from, to)`.
    async fn gap_details(
        &self,
        scope: &Scope,
        gaps: Vec<(GapKey, String, Uuid)>,
        period: (Timestamp, Timestamp),
    ) -> Result<Vec<GapDetail>, StoreError>;
    /// The gap a gap id names in scope (a group's id, or a member's own), and its bot.
    async fn find_gap(&self, scope: &Scope, id: &str) -> Result<Option<(GapKey, Uuid)>, StoreError>;
    /// One page of every thumbed-down answer of a gap, the most recently queued first.
    async fn gap_members(&self, scope: &Scope, key: GapKey, page: PageRequest) -> Result<Page<GapExample>, StoreError>;
    /// A value that changes whenever a listing of the account's gaps may.
    async fn gap_listing_token(&self, scope: &Scope) -> Result<String, StoreError>;
    /// Whether the embedding worker has questions to move from the queue or
    /// to link, or shelves to regroup.
    async fn gap_work_waiting(&self) -> Result<bool, StoreError>;
    /// The shelves with questions to link or groups to redo, each with its
    /// count of changes and the count its groups were made from.
    async fn gap_shelves_with_work(&self) -> Result<Vec<(Shelf, i64, i64)>, StoreError>;
    /// The first `limit` represented questions of a shelf queued after
    /// `after`, in queue order, with the shelf's counts, in one read.
    async fn gap_shelf(&self, shelf: &Shelf, after: i64, limit: i64) -> Result<ShelfRows, StoreError>;
    /// Stores neighbour lists of a shelf and the ids of questions linked for
    /// the first time; the shelf's new counts of changes and of lists stored.
    async fn link_gap_questions(
        &self,
        shelf: &Shelf,
        lists: Vec<(i64, Vec<i64>)>,
        aliases: Vec<(i64, String)>,
    ) -> Result<(i64, i64), StoreError>;
    /// Stores the changed places of a regrouping made from the shelf's
    /// `changed`-th count of changes.
    async fn regroup_gap_shelf(&self, shelf: &Shelf, changed: i64, places: Vec<Assignment>) -> Result<(), StoreError>;
    /// Keeps the answer to a knowledge gap as a golden example (origin
    /// `knowledge_gap`); a gap already answered is a conflict.
    async fn answer_knowledge_gap(
        &self,
        scope: &Scope,
        answer: GapAnswerInput,
        by: &Actor,
        now: Timestamp,
    ) -> Result<GoldenExample, StoreError>;
    /// Moves the questions thumbs-down queued into the knowledge gaps' own
    /// table, a few thousand a transaction, where they are listed (pending)
    /// and represented; how many moved. Reads only, when none wait.
    async fn drain_gap_queue(&self) -> Result<u64, StoreError>;
    /// The oldest `limit` questions the embedding worker has yet to
    /// represent, in queue order, across accounts (those moved by
    /// [`Store::drain_gap_queue`]).
    async fn pending_gap_questions(&self, limit: i64) -> Result<Vec<PendingQuestion>, StoreError>;
    /// Stores the vectors (by `model`) of represented questions, by queue
    /// place; `None`: nothing to represent.
    async fn represent_gap_questions(
        &self,
        model: &str,
        done: Vec<(i64, Option<Vec<f32>>)>,
        now: Timestamp,
    ) -> Result<(), StoreError>;
    /// Queues again the questions and reasons represented by another model
    /// than `model`; how many.
    async fn requeue_gap_questions(&self, model: &str) -> Result<u64, StoreError>;
    /// The oldest `limit` reasons the embedding worker has yet to represent
    /// (queue place, text), across accounts.
    async fn pending_reasons(&self, limit: i64) -> Result<Vec<(i64, String)>, StoreError>;
    /// Stores the vectors (by `model`) of represented reasons, by queue place.
    async fn represent_reasons(
        &self,
        model: &str,
        done: Vec<(i64, Vec<f32>)>,
        now: Timestamp,
    ) -> Result<(), StoreError>;
    /// The vectors of those of `reasons` (trimmed, as given) the scope's
    /// account has represented.
    async fn reason_vectors(&self, scope: &Scope, reasons: Vec<String>) -> Result<Vec<(String, Vec<f32>)>, StoreError>;

    // ---- the inbox, exports and analytics ---------------------------------------------

    /// Conversations newest first, filtered.
    async fn inbox(
        &self,
        scope: &Scope,
        filter: &InboxFilter,
        page: PageRequest,
    ) -> Result<Page<ConversationRow>, StoreError>;
    /// The transcripts of some conversations (a group of an export), in the
    /// same order, each handed to `write` as soon as it is assembled and
    /// dropped after, appended to `chunk`, which is returned. Written where
    /// the rows are read, so that the thread which allocated a transcript
    /// also frees it (freeing another thread's allocations cost an export a
    /// tenth of its time). The caller gives the chunk, with the room it
    /// expects a group to take.
    async fn write_transcripts(
        &self,
        scope: &Scope,
        conversations: Vec<ConversationRow>,
        write: TranscriptWriter,
        chunk: Vec<u8>,
    ) -> Result<Vec<u8>, StoreError>;
    /// The counts of `[from, to)` and of `[previous_from, from)`, summed per
    /// span of `grouping`.
    #[allow(clippy::too_many_arguments)]
    async fn overview_facts(
        &self,
        scope: &Scope,
        filters: &Filters,
        previous_from: Timestamp,
        from: Timestamp,
        to: Timestamp,
        grouping: Grouping,
        counting: Counting,
    ) -> Result<OverviewFacts, StoreError>;
    /// `(key, thumbs, positive thumbs)` per group.
    async fn compare_groups(
        &self,
        scope: &Scope,
        filters: &Filters,
        from: Timestamp,
        to: Timestamp,
        group_by: GroupBy,
        counting: Counting,
    ) -> Result<Vec<(Option<String>, i64, i64)>, StoreError>;
    /// `(reason, count)` by exact reason.
    async fn reason_counts(
        &self,
        scope: &Scope,
        filters: &Filters,
        from: Timestamp,
        to: Timestamp,
        feedback_type: FeedbackType,
    ) -> Result<Vec<(String, i64)>, StoreError>;
}

/// Engine settings that do not come from the URL.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    pub sqlite_busy_timeout_ms: u64,
    pub sqlite_synchronous_full: bool,
    pub sqlite_readers: usize,
    pub postgres_max_connections: usize,
    /// Batches of single thumbs and votes the PostgreSQL engine writes at
    /// once (0: each alone; see `Engine::write_lanes`).
    pub postgres_write_lanes: usize,
    /// How long a key found stays admitted without a new lookup, in
    /// milliseconds (see `key_cache.rs`; 0: looked up on every request).
    pub key_cache_ms: u64,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        Self {
            sqlite_busy_timeout_ms: 5_000,
            sqlite_synchronous_full: true,
            sqlite_readers: 4,
            postgres_max_connections: 16,
            postgres_write_lanes: postgres::WRITE_LANES,
            key_cache_ms: 2_000,
        }
    }
}

/// Folds `store`'s pending rollup changes every `every` until the store is
/// dropped, so that reads find few of them to add up.
pub fn keep_folding(store: &Arc<dyn Store>, every: std::time::Duration) {
    crate::background::every(every, Arc::downgrade(store), |store| async move {
        if let Err(e) = store.fold_rollups().await {
            tracing::warn!(error = %e, "folding the pending rollup changes failed; the next fold retries");
        }
    });
}

/// Opens the database named by `url` (`sqlite://…` or `postgres://…`) and
/// brings its schema up to date.
pub async fn connect(url: &str, opts: &ConnectOptions) -> Result<Arc<dyn Store>, StoreError> {
    let key_ttl = std::time::Duration::from_millis(opts.key_cache_ms);
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let engine = postgres::PgEngine::connect(url, opts.postgres_max_connections)?
            .with_write_lanes(opts.postgres_write_lanes);
        migrate::run(&engine).await?;
        Ok(Arc::new(SqlStore::new(engine, key_ttl)))
    } else if let Some(path) = sqlite::path_from_url(url) {
        let engine = sqlite::SqliteEngine::open(sqlite::SqliteOptions {
            path,
            busy_timeout: std::time::Duration::from_millis(opts.sqlite_busy_timeout_ms),
            synchronous_full: opts.sqlite_synchronous_full,
            readers: opts.sqlite_readers,
            wal_frames_bound: sqlite::WAL_FRAMES_BOUND,
        })?;
        if !migrate::run(&engine).await?.is_empty() {
            engine.release_memory().await?;
        }
        Ok(Arc::new(SqlStore::new(engine, key_ttl)))
    } else {
        Err(StoreError::other("PLAUDIT_DATABASE_URL must start with sqlite:// or postgres://"))
    }
}
