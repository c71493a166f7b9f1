//! [`LifecycleStore`]: erasing a person or a conversation, subject access,
//! retention and the leases of background jobs (SPEC §16), as the
//! [`SqlStore`] runs them (SQL in `erasure.rs`, `subject.rs` and
//! `retention.rs`).
//!
//! An erasure of many records is many transactions of one conversation
//! each, so that other writes never wait long behind it; a crash between
//! two leaves whole conversations done, and repeating the erasure finds and
//! finishes the rest.

use super::{
    PeopleStore as _, SqlStore, StoreError, audit,
    erasure::{self, MESSAGES_A_TRANSACTION},
    retention,
    sql::Engine,
    subject,
};
use crate::domain::{
    Timestamp,
    access::Scope,
    audit::{Action, Actor, AuditEntry},
    erasure::{Erased, Figures, SubjectExport},
    ids::{ClientId, Uuid},
};

/// Conversations listed a round of an erasure.
const ROUND: i64 = 50;
/// Expired conversations erased a transaction.
const PURGE_BATCH: usize = 25;

/// Progress of a purge: what it erased so far.
pub type Progress<'a> = &'a (dyn Fn(&Erased) + Send + Sync);

/// What the store does about the data lifecycle.
#[async_trait::async_trait]
pub trait LifecycleStore: Send + Sync {
    /// Erases everything the scope holds about one person: the
    /// conversations whose contact they are, and what they gave as
    /// `user_id` elsewhere; figures move as if it had never been. Zeros for
    /// a person the scope does not know.
    async fn erase_contact(
        &self,
        scope: &Scope,
        contact_id: &str,
        by: &Actor,
        now: Timestamp,
    ) -> Result<Erased, StoreError>;
    /// Erases one conversation and all it holds (not found: an error).
    async fn delete_conversation(
        &self,
        scope: &Scope,
        id: &ClientId,
        by: &Actor,
        now: Timestamp,
    ) -> Result<Erased, StoreError>;
    /// What the scope holds about one person.
    async fn subject_export(&self, scope: &Scope, contact_id: &str) -> Result<SubjectExport, StoreError>;
    /// Erases the conversations of `bot` whose last activity is before
    /// `cut`, a batch a transaction, keeping past periods' figures; counts
    /// them only if `dry_run`. Calls `progress` after each batch.
    #[allow(clippy::too_many_arguments)]
    async fn purge(
        &self,
        scope: &Scope,
        bot: &Uuid,
        cut: Timestamp,
        dry_run: bool,
        by: &Actor,
        now: Timestamp,
        progress: Progress<'_>,
    ) -> Result<Erased, StoreError>;
    /// Every bot with a retention, as its account, id and days.
    async fn bots_with_retention(&self) -> Result<Vec<(String, Uuid, i64)>, StoreError>;
    /// Takes or renews the lease on a background job until `until`; whether
    /// `holder` has it.
    async fn take_lease(&self, name: &str, holder: &str, now: Timestamp, until: Timestamp) -> Result<bool, StoreError>;
    async fn release_lease(&self, name: &str, holder: &str) -> Result<(), StoreError>;
}

#[async_trait::async_trait]
impl<E: Engine> LifecycleStore for SqlStore<E> {
    async fn erase_contact(
        &self,
        scope: &Scope,
        contact_id: &str,
        by: &Actor,
        now: Timestamp,
    ) -> Result<Erased, StoreError> {
        let mut total = Erased::default();
        // Their conversations, one a transaction, then what they gave elsewhere.
        loop {
            let (s, person) = (scope.clone(), contact_id.to_owned());
            let ids = self
                .engine
                .read(move |c| Box::pin(async move { erasure::contact_conversations(c, &s, &person, ROUND).await }))
                .await?;
            let before = total;
            for (id, messages) in ids {
                if messages > MESSAGES_A_TRANSACTION {
                    total.absorb(self.shorten(scope, &id, Figures::Correct, None).await?);
                }
                let s = scope.clone();
                let erased = self
                    .write_counted(scope, move |c, pending| {
                        Box::pin(async move { erasure::conversation(c, &s, &id, Figures::Correct, pending).await })
                    })
                    .await?;
                total.absorb(erased.unwrap_or_default());
            }
            if total == before {
                break;
            }
        }
        loop {
            let (s, person) = (scope.clone(), contact_id.to_owned());
            let ids = self
                .engine
                .read(move |c| Box::pin(async move { erasure::conversations_rated_by(c, &s, &person, ROUND).await }))
                .await?;
            let before = total;
            for id in ids {
                let (account, person) = (scope.account_id.clone(), contact_id.to_owned());
                let erased = self
                    .write_counted(scope, move |c, pending| {
                        Box::pin(async move { erasure::signals_on(c, &account, &person, &id, pending).await })
                    })
                    .await?;
                total.absorb(erased);
            }
            if total == before {
                break;
            }
        }
        // Who was erased is not recorded: the entry's target is the erasure itself.
        let entry =
            AuditEntry::new(&scope.account_id, by, Action::ContactErased, Uuid::new(), None, counts(&total), now);
        self.append_audit(entry).await?;
        self.engine.scrub().await?;
        Ok(total)
    }

    async fn delete_conversation(
        &self,
        scope: &Scope,
        id: &ClientId,
        by: &Actor,
        now: Timestamp,
    ) -> Result<Erased, StoreError> {
        let (s, i) = (scope.clone(), id.as_str().to_owned());
        let messages =
            self.engine.read(move |c| Box::pin(async move { erasure::message_count(c, &s, &i).await })).await?;
        let shortened = match messages {
            None => return Err(StoreError::NotFound("conversation")),
            Some(n) if n > MESSAGES_A_TRANSACTION => self.shorten(scope, id.as_str(), Figures::Correct, None).await?,
            Some(_) => Erased::default(),
        };
        let (s, id, by) = (scope.clone(), id.clone(), by.clone());
        let erased = self
            .write_counted(scope, move |c, pending| {
                Box::pin(async move {
                    let mut erased = match erasure::conversation(c, &s, id.as_str(), Figures::Correct, pending).await? {
                        Some(rest) => rest,
                        None if shortened.is_empty() => return Err(StoreError::NotFound("conversation")),
                        // Deleted meanwhile, after its first messages went.
                        None => Erased::default(),
                    };
                    erased.absorb(shortened);
                    let entry = AuditEntry::new(
                        &s.account_id,
                        &by,
                        Action::ConversationDeleted,
                        Uuid::new(),
                        None,
                        counts(&erased),
                        now,
                    );
                    audit::append(c, &entry).await?;
                    Ok(erased)
                })
            })
            .await?;
        self.engine.scrub().await?;
        Ok(erased)
    }

    async fn subject_export(&self, scope: &Scope, contact_id: &str) -> Result<SubjectExport, StoreError> {
        let (s, person) = (scope.clone(), contact_id.to_owned());
        self.engine.read(move |c| Box::pin(async move { subject::export(c, &s, &person).await })).await
    }

    async fn purge(
        &self,
        scope: &Scope,
        bot: &Uuid,
        cut: Timestamp,
        dry_run: bool,
        by: &Actor,
        now: Timestamp,
        progress: Progress<'_>,
    ) -> Result<Erased, StoreError> {
        let mut total = Erased::default();
        let mut after = (i64::MIN, i64::MIN);
        loop {
            let (account, b) = (scope.account_id.clone(), bot.clone());
            let limit = i64::try_from(PURGE_BATCH * 8).unwrap_or(200);
            let found = self
                .engine
                .read(move |c| Box::pin(async move { retention::expired(c, &account, &b, cut, after, limit).await }))
                .await?;
            let Some(last) = found.last() else { break };
            after = (last.created_at, last.seq);
            if dry_run {
                total.conversations += found.len() as u64;
                total.messages += found.iter().map(|e| u64::try_from(e.messages).unwrap_or(0)).sum::<u64>();
                progress(&total);
                continue;
            }
            for long in found.iter().filter(|e| e.messages > MESSAGES_A_TRANSACTION) {
                total.absorb(self.shorten(scope, &long.id, Figures::Keep, Some(cut)).await?);
            }
            let ids: Vec<String> = found.into_iter().map(|e| e.id).collect();
            for batch in ids.chunks(PURGE_BATCH) {
                let (s, batch) = (scope.clone(), batch.to_vec());
                let erased = self
                    .write_counted(scope, move |c, pending| {
                        Box::pin(async move {
                            let mut erased = Erased::default();
                            for id in &batch {
                                // Its activity may have come back since it was listed.
                                if retention::is_expired(c, &s.account_id, id, cut).await? {
                                    let done = erasure::conversation(c, &s, id, Figures::Keep, pending).await?;
                                    erased.absorb(done.unwrap_or_default());
                                }
                            }
                            Ok(erased)
                        })
                    })
                    .await?;
                total.absorb(erased);
                progress(&total);
            }
        }
        if !dry_run && !total.is_empty() {
            let entry = AuditEntry::new(
                &scope.account_id,
                by,
                Action::ConversationsPurged,
                bot.to_string(),
                None,
                counts(&total),
                now,
            );
            self.append_audit(entry).await?;
            self.engine.scrub().await?;
        }
        Ok(total)
    }

    async fn bots_with_retention(&self) -> Result<Vec<(String, Uuid, i64)>, StoreError> {
        self.engine.read(|c| Box::pin(async move { retention::bots_with_retention(c).await })).await
    }

    async fn take_lease(&self, name: &str, holder: &str, now: Timestamp, until: Timestamp) -> Result<bool, StoreError> {
        let (name, holder) = (name.to_owned(), holder.to_owned());
        self.write(move |c| Box::pin(async move { retention::take_lease(c, &name, &holder, now, until).await })).await
    }

    async fn release_lease(&self, name: &str, holder: &str) -> Result<(), StoreError> {
        let (name, holder) = (name.to_owned(), holder.to_owned());
        self.write(move |c| Box::pin(async move { retention::release_lease(c, &name, &holder).await })).await
    }
}

impl<E: Engine> SqlStore<E> {
    /// Erases the messages of conversation `id` a transaction at a time
    /// (see [`erasure::oldest_messages`]) when it has more than one
    /// transaction's worth, so that the last transaction, which erases the
    /// rest, stays short too.
    async fn shorten(
        &self,
        scope: &Scope,
        id: &str,
        figures: Figures,
        expired_before: Option<Timestamp>,
    ) -> Result<Erased, StoreError> {
        let mut total = Erased::default();
        loop {
            let (s, id) = (scope.clone(), id.to_owned());
            let done = self
                .write_counted(scope, move |c, pending| {
                    Box::pin(
                        async move { erasure::oldest_messages(c, &s, &id, figures, expired_before, pending).await },
                    )
                })
                .await?;
            total.absorb(done);
            if done.messages < u64::try_from(MESSAGES_A_TRANSACTION).unwrap_or(u64::MAX) {
                return Ok(total);
            }
        }
    }
}

/// The audit entry's record of an erasure: its counts.
fn counts(erased: &Erased) -> Option<serde_json::Value> {
    serde_json::to_value(erased).ok()
}
