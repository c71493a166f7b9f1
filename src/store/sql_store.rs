//! [`SqlStore`]: the one [`Store`], generic over the engine. Each method
//! runs one operation of an area module on a reader connection or in a write
//! transaction; single thumbs and votes go through the engine's write lanes
//! where it has them, and are read ahead where the engine prefetches.

use std::sync::Arc;

use super::{
    Applied, Command, Recorded, Store, StoreError, Voted, accounts, analytics, batches,
    batches::{Lanes, Single},
    bots, conversations, csat, feedback, gap_groups, gap_questions, gaps, golden, inbox,
    key_cache::KeyCache,
    keys, messages, outbox, rollups, settings,
    sql::{Conn, Engine, Work},
    thumbs, transcripts, votes,
    writes::{Counted, write_counted, write_settled},
};
use crate::domain::{
    Timestamp,
    access::{ApiKey, KeyRecord, NewKey, Rater, Scope, Secret},
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
    vote::{Vote, VoteInput},
};

/// The one [`Store`] implementation, generic over the engine.
pub struct SqlStore<E> {
    pub(super) engine: Arc<E>,
    pub(super) keys: KeyCache,
    /// Where the engine gathers single thumbs and votes
    /// ([`Engine::write_lanes`]): the lanes that write them in batches.
    lanes: Option<Arc<Lanes>>,
}

impl<E: Engine> SqlStore<E> {
    /// A store on `engine` that keeps each key it found for `key_ttl`
    /// (see [`KeyCache`]).
    pub fn new(engine: E, key_ttl: std::time::Duration) -> Self {
        // Every transaction's rollup changes and webhook deliveries are
        // written just before it commits.
        engine.set_before_commit(Arc::new(|c| {
            Box::pin(async move {
                rollups::flush(c).await?;
                outbox::flush(c).await
            })
        }));
        let engine = Arc::new(engine);
        let lanes = batches::lanes(&engine);
        Self { engine, keys: KeyCache::new(key_ttl), lanes }
    }

    /// Writes single thumbs and votes of any accounts as one batch, in one
    /// transaction, answering each as it would be answered alone (what a
    /// lane of [`Engine::write_lanes`] does with the writes it took). Other
    /// commands are not written this way, and are answered so.
    pub async fn write_together(&self, writes: Vec<(Scope, Command, Timestamp)>) -> Vec<Result<Applied, StoreError>> {
        batches::write_commands_together(&*self.engine, writes).await
    }

    /// See [`write_settled`].
    pub(super) async fn write<T: Send + 'static>(&self, work: impl Work<E::Conn, T>) -> Result<T, StoreError> {
        write_settled(&*self.engine, work).await
    }

    /// See [`write_counted`].
    pub(super) async fn write_counted<T: Send + 'static>(
        &self,
        scope: &Scope,
        work: impl Counted<E::Conn, T>,
    ) -> Result<T, StoreError> {
        write_counted(&*self.engine, scope.account_id.clone(), work).await
    }

    /// Reads ahead, on a reader connection, what a hot single write will
    /// read and change, where the engine asks for it
    /// ([`Engine::prefetches`]). Only a hint: the write reads everything
    /// again and reports any failure itself.
    async fn prefetch(&self, work: impl Work<E::Conn, ()>) {
        if self.engine.prefetches()
            && let Err(e) = self.engine.read(work).await
        {
            tracing::debug!(error = %e, "prefetch failed");
        }
    }
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

    async fn signing_secret(&self) -> Result<String, StoreError> {
        let candidate = Secret::generate().expose().to_owned();
        self.write(move |c| Box::pin(async move { settings::instance_secret(c, "feedback_token", &candidate).await }))
            .await
    }

    async fn read_signing_secret(&self) -> Result<Option<String>, StoreError> {
        self.engine.read(|c| Box::pin(async move { settings::read_instance_secret(c, "feedback_token").await })).await
    }

    async fn rotate_signing_secret(&self, new: String) -> Result<(), StoreError> {
        self.write(move |c| Box::pin(async move { settings::replace_instance_secret(c, "feedback_token", &new).await }))
            .await
    }

    async fn create_account(
        &self,
        name: String,
        api_access: bool,
        by: &Actor,
        now: Timestamp,
    ) -> Result<Account, StoreError> {
        let by = by.clone();
        self.write(move |c| Box::pin(async move { accounts::create(c, &name, api_access, &by, now).await })).await
    }

    async fn get_account(&self, id: &str) -> Result<Account, StoreError> {
        let id = id.to_owned();
        self.engine.read(move |c| Box::pin(async move { accounts::get(c, &id).await })).await
    }

    async fn find_key(&self, secret_hash: &str) -> Result<Option<KeyRecord>, StoreError> {
        if let Some(record) = self.keys.get(secret_hash) {
            return Ok(Some(record));
        }
        let hash = secret_hash.to_owned();
        let found = self.engine.read(move |c| Box::pin(async move { keys::find(c, &hash).await })).await?;
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
        by: &Actor,
        now: Timestamp,
    ) -> Result<ApiKey, StoreError> {
        let by = by.clone();
        self.write(move |c| Box::pin(async move { keys::create(c, &key, &secret_hash, &prefix, &by, now).await })).await
    }

    async fn list_keys(&self, scope: &Scope, page: PageRequest) -> Result<Page<ApiKey>, StoreError> {
        let scope = scope.clone();
        self.engine.read(move |c| Box::pin(async move { keys::list(c, &scope, page).await })).await
    }

    async fn revoke_key(&self, scope: &Scope, id: &Uuid, by: &Actor, now: Timestamp) -> Result<ApiKey, StoreError> {
        let (scope, id, by) = (scope.clone(), id.clone(), by.clone());
        let revoked =
            self.write(move |c| Box::pin(async move { keys::revoke(c, &scope, &id, &by, now).await })).await?;
        // This instance stops admitting it now; others within their TTL.
        self.keys.forget(&revoked.id);
        Ok(revoked)
    }

    async fn find_key_by_id(&self, id: &Uuid) -> Result<Option<KeyRecord>, StoreError> {
        let cached = format!("id:{id}");
        if let Some(record) = self.keys.get(&cached) {
            return Ok(Some(record));
        }
        let id = id.clone();
        let found = self.engine.read(move |c| Box::pin(async move { keys::find_by_id(c, &id).await })).await?;
        if let Some(record) = &found {
            self.keys.put(&cached, record);
        }
        Ok(found)
    }

    async fn get_key_by_id(&self, id: &Uuid) -> Result<ApiKey, StoreError> {
        let id = id.clone();
        self.engine.read(move |c| Box::pin(async move { keys::by_id(c, &id).await })).await
    }

    async fn create_bot(&self, account_id: &str, name: String, by: &Actor, now: Timestamp) -> Result<Bot, StoreError> {
        let (account_id, by) = (account_id.to_owned(), by.clone());
        self.write(move |c| Box::pin(async move { bots::create(c, &account_id, &name, &by, now).await })).await
    }

    async fn get_bot(&self, scope: &Scope, id: &Uuid) -> Result<Bot, StoreError> {
        let (scope, id) = (scope.clone(), id.clone());
        self.engine.read(move |c| Box::pin(async move { bots::get(c, &scope, &id).await })).await
    }

    async fn list_bots(&self, scope: &Scope, page: PageRequest) -> Result<Page<Bot>, StoreError> {
        let scope = scope.clone();
        self.engine.read(move |c| Box::pin(async move { bots::list(c, &scope, page).await })).await
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
        by: &Actor,
        now: Timestamp,
    ) -> Result<BotSettings, StoreError> {
        let (scope, bot, by) = (scope.clone(), bot.clone(), by.clone());
        self.write(move |c| {
            Box::pin(async move { settings::update_bot_settings(c, &scope, &bot, &patch, &by, now).await })
        })
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
        by: &Actor,
        now: Timestamp,
    ) -> Result<RatingConfig, StoreError> {
        let (scope, bot, by) = (scope.clone(), bot.clone(), by.clone());
        self.write(move |c| {
            Box::pin(async move { settings::update_rating_config(c, &scope, &bot, &patch, &by, now).await })
        })
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
        by: &Actor,
        now: Timestamp,
    ) -> Result<ResolvedCopy, StoreError> {
        let (scope, bot, locale, by) = (scope.clone(), bot.clone(), locale.to_owned(), by.clone());
        self.write(move |c| {
            Box::pin(async move { settings::put_prompt_copy(c, &scope, &bot, &locale, &copy, &by, now).await })
        })
        .await
    }

    async fn upsert_conversation(
        &self,
        scope: &Scope,
        input: ConversationInput,
        now: Timestamp,
    ) -> Result<Recorded<Conversation>, StoreError> {
        let s = scope.clone();
        self.write_counted(scope, move |c, pending| {
            Box::pin(async move { conversations::upsert(c, &s, input, now, pending).await })
        })
        .await
    }

    async fn end_conversation(&self, scope: &Scope, id: &ClientId, now: Timestamp) -> Result<Conversation, StoreError> {
        let (scope, id) = (scope.clone(), id.clone());
        self.write(move |c| Box::pin(async move { conversations::end(c, &scope, &id, now).await })).await
    }

    async fn append_message(
        &self,
        scope: &Scope,
        input: MessageInput,
        now: Timestamp,
    ) -> Result<Recorded<Message>, StoreError> {
        let s = scope.clone();
        self.write_counted(scope, move |c, pending| {
            Box::pin(async move { messages::append(c, &s, input, now, pending).await })
        })
        .await
    }

    async fn update_message(
        &self,
        scope: &Scope,
        update: MessageUpdate,
        now: Timestamp,
    ) -> Result<Message, StoreError> {
        let s = scope.clone();
        self.write_counted(scope, move |c, pending| {
            Box::pin(async move { messages::update(c, &s, update, now, pending).await })
        })
        .await
    }

    async fn apply(
        &self,
        scope: &Scope,
        commands: Vec<Command>,
        now: Timestamp,
    ) -> Result<Vec<Result<Applied, StoreError>>, StoreError> {
        // First without savepoints (events that are refused wrote nothing); if
        // an event fails for real, the batch is undone and run again with a
        // savepoint around each event, so that one failure stays its own.
        let first = {
            let (scope, commands) = (scope.clone(), commands.clone());
            self.engine
                .write(move |c| Box::pin(async move { batches::apply_all(c, &scope, commands, now, false).await }))
                .await
        };
        match first {
            Ok(results) => Ok(results),
            Err(e) => {
                tracing::info!(error = %e, "a batch failed as a whole; applying it again event by event");
                let scope = scope.clone();
                self.engine
                    .write(move |c| Box::pin(async move { batches::apply_all(c, &scope, commands, now, true).await }))
                    .await
            }
        }
    }

    async fn transcript(&self, scope: &Scope, id: &ClientId) -> Result<Transcript, StoreError> {
        let (scope, id) = (scope.clone(), id.clone());
        self.engine.read(move |c| Box::pin(async move { transcripts::one(c, &scope, &id).await })).await
    }

    async fn conversation(&self, scope: &Scope, id: &ClientId) -> Result<Conversation, StoreError> {
        let (scope, id) = (scope.clone(), id.clone());
        self.engine.read(move |c| Box::pin(async move { conversations::get(c, &scope, id.as_str()).await })).await
    }

    async fn message(&self, scope: &Scope, id: &ClientId) -> Result<Option<MessageInContext>, StoreError> {
        let (scope, id) = (scope.clone(), id.clone());
        self.engine
            .read(move |c| {
                Box::pin(
                    async move { messages::find_in_context(c, &scope, messages::MessageKey::Id, id.as_str()).await },
                )
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
                Box::pin(async move {
                    messages::find_in_context(c, &scope, messages::MessageKey::RequestId, &request_id).await
                })
            })
            .await
    }

    async fn submit_feedback(
        &self,
        scope: &Scope,
        input: FeedbackInput,
        now: Timestamp,
    ) -> Result<Recorded<Feedback>, StoreError> {
        let (s, i) = (scope.clone(), input.clone());
        self.prefetch(move |c| Box::pin(async move { thumbs::prefetch(c, &s, &i).await })).await;
        if let Some(lanes) = &self.lanes {
            let thumb = (scope.clone(), input, now);
            return batches::in_lane(lanes, |reply| Single::Thumb(thumb, reply)).await;
        }
        let s = scope.clone();
        self.write_counted(scope, move |c, pending| {
            Box::pin(async move { thumbs::submit(c, &s, input, now, pending).await })
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
        self.engine.read(move |c| Box::pin(async move { feedback::of_user(c, &scope, &message, &user_id).await })).await
    }

    async fn retract_feedback(
        &self,
        scope: &Scope,
        message: &ClientId,
        rater: &Rater,
        now: Timestamp,
    ) -> Result<Feedback, StoreError> {
        let (s, message, rater) = (scope.clone(), message.clone(), rater.clone());
        self.write_counted(scope, move |c, pending| {
            Box::pin(async move { feedback::retract(c, &s, &message, &rater, now, pending).await })
        })
        .await
    }

    async fn feedback_detail(&self, scope: &Scope, id: &Uuid) -> Result<FeedbackDetail, StoreError> {
        let (scope, id) = (scope.clone(), id.clone());
        self.engine.read(move |c| Box::pin(async move { feedback::detail(c, &scope, &id).await })).await
    }

    async fn list_feedback(
        &self,
        scope: &Scope,
        filter: &FeedbackFilter,
        page: PageRequest,
    ) -> Result<Page<FeedbackItem>, StoreError> {
        let (scope, filter) = (scope.clone(), filter.clone());
        self.engine.read(move |c| Box::pin(async move { feedback::queue(c, &scope, &filter, page).await })).await
    }

    async fn review_feedback(
        &self,
        scope: &Scope,
        id: &Uuid,
        review: ReviewRequest,
        reviewer: &Actor,
        now: Timestamp,
    ) -> Result<Feedback, StoreError> {
        let (scope, id, reviewer) = (scope.clone(), id.clone(), reviewer.clone());
        self.write(move |c| Box::pin(async move { feedback::review(c, &scope, &id, &review, &reviewer, now).await }))
            .await
    }

    async fn vote(&self, scope: &Scope, input: VoteInput, now: Timestamp) -> Result<Voted, StoreError> {
        let (s, i) = (scope.clone(), input.clone());
        self.prefetch(move |c| Box::pin(async move { votes::prefetch(c, &s, &i).await })).await;
        if let Some(lanes) = &self.lanes {
            let vote = (scope.clone(), input, now);
            return batches::in_lane(lanes, |reply| Single::Vote(vote, reply)).await;
        }
        let s = scope.clone();
        self.write_counted(scope, move |c, pending| {
            Box::pin(async move { votes::vote(c, &s, input, now, pending).await })
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
        self.engine.read(move |c| Box::pin(async move { votes::list(c, &scope, &conversation, page).await })).await
    }

    async fn answer_csat(
        &self,
        scope: &Scope,
        input: CsatInput,
        now: Timestamp,
    ) -> Result<Recorded<CsatAnswer>, StoreError> {
        let s = scope.clone();
        self.write_counted(scope, move |c, pending| {
            Box::pin(async move { csat::answer(c, &s, input, now, pending).await })
        })
        .await
    }

    async fn list_golden(
        &self,
        scope: &Scope,
        bot: Option<&Uuid>,
        page: PageRequest,
    ) -> Result<Page<GoldenExample>, StoreError> {
        let (scope, bot) = (scope.clone(), bot.cloned());
        self.engine.read(move |c| Box::pin(async move { golden::list(c, &scope, bot.as_ref(), page).await })).await
    }

    async fn delete_golden(&self, scope: &Scope, id: &Uuid, by: &Actor, now: Timestamp) -> Result<(), StoreError> {
        let (scope, id, by) = (scope.clone(), id.clone(), by.clone());
        self.write(move |c| Box::pin(async move { golden::delete(c, &scope, &id, &by, now).await })).await
    }

    async fn gap_tallies(&self, scope: &Scope, filter: &GapFilter) -> Result<Vec<GapTally>, StoreError> {
        let (scope, filter) = (scope.clone(), filter.clone());
        self.engine
            .read(move |c| {
                Box::pin(async move {
                    let period = (filter.previous_from(), filter.from, filter.to);
                    gaps::tallies(c, &scope, filter.bot.as_ref(), period, filter.locale.as_ref()).await
                })
            })
            .await
    }

    async fn gap_details(
        &self,
        scope: &Scope,
        wanted: Vec<(GapKey, String, Uuid)>,
        period: (Timestamp, Timestamp),
    ) -> Result<Vec<GapDetail>, StoreError> {
        let scope = scope.clone();
        self.engine
            .read(move |c| {
                Box::pin(async move {
                    let mut details = Vec::with_capacity(wanted.len());
                    for (key, id, bot) in &wanted {
                        details.push(gaps::detail(c, &scope, (key, id, bot), period).await?);
                    }
                    Ok(details)
                })
            })
            .await
    }

    async fn find_gap(&self, scope: &Scope, id: &str) -> Result<Option<(GapKey, Uuid)>, StoreError> {
        let (scope, id) = (scope.clone(), id.to_owned());
        self.engine.read(move |c| Box::pin(async move { gaps::find(c, &scope, &id).await })).await
    }

    async fn gap_members(&self, scope: &Scope, key: GapKey, page: PageRequest) -> Result<Page<GapExample>, StoreError> {
        let scope = scope.clone();
        self.engine.read(move |c| Box::pin(async move { gaps::members(c, &scope, &key, page).await })).await
    }

    async fn gap_listing_token(&self, scope: &Scope) -> Result<String, StoreError> {
        let account = scope.account_id.clone();
        self.engine.read(move |c| Box::pin(async move { gaps::listing_token(c, &account).await })).await
    }

    async fn gap_work_waiting(&self) -> Result<bool, StoreError> {
        self.engine
            .read(move |c| {
                Box::pin(async move { Ok(gap_questions::queued(c).await? || gap_groups::any_work(c).await?) })
            })
            .await
    }

    async fn gap_shelves_with_work(&self) -> Result<Vec<(Shelf, i64, i64)>, StoreError> {
        self.engine.read(move |c| Box::pin(async move { gap_groups::with_work(c).await })).await
    }

    async fn gap_shelf(&self, shelf: &Shelf, after: i64, limit: i64) -> Result<ShelfRows, StoreError> {
        let shelf = shelf.clone();
        self.engine.read(move |c| Box::pin(async move { gap_groups::read(c, &shelf, after, limit).await })).await
    }

    async fn link_gap_questions(
        &self,
        shelf: &Shelf,
        lists: Vec<(i64, Vec<i64>)>,
        aliases: Vec<(i64, String)>,
    ) -> Result<(i64, i64), StoreError> {
        let shelf = shelf.clone();
        self.write(move |c| Box::pin(async move { gap_groups::link(c, &shelf, &lists, &aliases).await })).await
    }

    async fn regroup_gap_shelf(&self, shelf: &Shelf, changed: i64, places: Vec<Assignment>) -> Result<(), StoreError> {
        let shelf = shelf.clone();
        self.write(move |c| Box::pin(async move { gap_groups::regroup(c, &shelf, changed, &places).await })).await
    }

    async fn answer_knowledge_gap(
        &self,
        scope: &Scope,
        answer: GapAnswerInput,
        by: &Actor,
        now: Timestamp,
    ) -> Result<GoldenExample, StoreError> {
        let (scope, by) = (scope.clone(), by.clone());
        self.write(move |c| Box::pin(async move { gaps::answer(c, &scope, &answer, &by, now).await })).await
    }

    async fn drain_gap_queue(&self) -> Result<u64, StoreError> {
        let mut moved = 0;
        loop {
            if !self.engine.read(|c| Box::pin(async move { gap_questions::queued(c).await })).await? {
                return Ok(moved);
            }
            let limit = gap_questions::DRAIN;
            let n = self.write(move |c| Box::pin(async move { gap_questions::drain(c, limit).await })).await?;
            moved += n;
            if n < limit.unsigned_abs() {
                return Ok(moved);
            }
        }
    }

    async fn pending_gap_questions(&self, limit: i64) -> Result<Vec<PendingQuestion>, StoreError> {
        self.engine.read(move |c| Box::pin(async move { gap_questions::pending(c, limit).await })).await
    }

    async fn represent_gap_questions(
        &self,
        model: &str,
        done: Vec<(i64, Option<Vec<f32>>)>,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let model = model.to_owned();
        self.write(move |c| Box::pin(async move { gap_questions::represent(c, &model, &done, now).await })).await
    }

    async fn requeue_gap_questions(&self, model: &str) -> Result<u64, StoreError> {
        let model = model.to_owned();
        self.write(move |c| Box::pin(async move { gap_questions::requeue_other_models(c, &model).await })).await
    }

    async fn pending_reasons(&self, limit: i64) -> Result<Vec<(i64, String)>, StoreError> {
        self.engine.read(move |c| Box::pin(async move { gap_questions::pending_reasons(c, limit).await })).await
    }

    async fn represent_reasons(
        &self,
        model: &str,
        done: Vec<(i64, Vec<f32>)>,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let model = model.to_owned();
        self.write(move |c| Box::pin(async move { gap_questions::represent_reasons(c, &model, &done, now).await }))
            .await
    }

    async fn reason_vectors(&self, scope: &Scope, reasons: Vec<String>) -> Result<Vec<(String, Vec<f32>)>, StoreError> {
        let account = scope.account_id.clone();
        self.engine
            .read(move |c| Box::pin(async move { gap_questions::reason_vectors(c, &account, &reasons).await }))
            .await
    }

    async fn inbox(
        &self,
        scope: &Scope,
        filter: &InboxFilter,
        page: PageRequest,
    ) -> Result<Page<ConversationRow>, StoreError> {
        let (scope, filter) = (scope.clone(), filter.clone());
        self.engine.read(move |c| Box::pin(async move { inbox::page(c, &scope, &filter, page).await })).await
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
                    for t in transcripts::many(c, &account_id, rows.collect()).await? {
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
            access::Source,
            conversation::{ConversationFields, ConversationInput, MessageFields, MessageInput, MessageRole},
            vote::Direction,
        },
        store::{
            migrate,
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
        let account =
            store.create_account("prefetch".into(), true, &crate::domain::audit::Actor::cli(), now).await.unwrap();
        let bot = store.create_bot(&account.id, "bot".into(), &crate::domain::audit::Actor::cli(), now).await.unwrap();
        let scope = Scope::account(account.id.as_str());
        let body = ConversationFields {
            bot_id: Some(bot.id.to_string()),
            contact_id: None,
            locale: None,
            metadata: None,
            created_at: None,
        };
        let message = |id: &str, role| MessageFields {
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
        let thumb = |message: &str| FeedbackInput {
            message_id: ClientId::parse("message_id", message).unwrap(),
            feedback_type: FeedbackType::Positive,
            reason: None,
            rater: rater.clone(),
            created_at: None,
            reason_optional: false,
        };
        let vote = |conversation: &str, direction, value| VoteInput {
            conversation_id: ClientId::parse("conversation_id", conversation).unwrap(),
            direction,
            value,
            reason: None,
            rater: rater.clone(),
            created_at: None,
        };
        let prefetch_thumb = |input: FeedbackInput| {
            let scope = scope.clone();
            store.engine.read(move |c| Box::pin(async move { thumbs::prefetch(c, &scope, &input).await }))
        };
        let prefetch_vote = |input: VoteInput| {
            let scope = scope.clone();
            store.engine.read(move |c| Box::pin(async move { votes::prefetch(c, &scope, &input).await }))
        };
        prefetch_thumb(thumb("a1")).await.unwrap();
        prefetch_thumb(thumb("missing")).await.unwrap();
        prefetch_vote(vote("c1", Direction::Up, 100)).await.unwrap();
        prefetch_vote(vote("missing", Direction::Up, 100)).await.unwrap();
        // With a satisfaction set, a vote the other way reads both entries.
        store.vote(&scope, vote("c1", Direction::Up, 100), now).await.unwrap();
        prefetch_vote(vote("c1", Direction::Down, -100)).await.unwrap();
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
}
