//! The data lifecycle (SPEC §16): erasing a person or a conversation,
//! subject access, and retention, on demand and as a background job that
//! one instance at a time runs (a lease in the database).

use std::{sync::Arc, time::Duration};

use super::{App, AppError, lease::Lease};
use crate::{
    domain::{
        DomainError, Timestamp,
        access::{Principal, Scope},
        audit::Actor,
        erasure::{Erased, SubjectExport},
        ids::{ClientId, Uuid, short_text},
        retention::retention_cut,
    },
    store::{Progress, Store},
};

/// The lease of the retention job, and how long a holder keeps it without
/// renewing it (see [`Lease`]).
const RETENTION_LEASE: &str = "retention";
const LEASE_FOR: Duration = Duration::from_secs(90);

/// What a purge of one bot did (or, on a dry run, would do).
#[derive(Debug, Clone)]
pub struct Purged {
    pub bot_id: Uuid,
    pub cut: Timestamp,
    pub erased: Erased,
}

impl App {
    /// Erases one person: the conversations whose contact they are and what
    /// they gave elsewhere (admin).
    pub async fn erase_contact(&self, by: &Principal, contact_id: &str) -> Result<Erased, AppError> {
        let person = person(contact_id)?;
        Ok(self.store.erase_contact(&by.scope(), &person, &by.actor, Timestamp::now()).await?)
    }

    /// Deletes one conversation with all it holds (admin).
    pub async fn delete_conversation(&self, by: &Principal, id: &ClientId) -> Result<Erased, AppError> {
        Ok(self.store.delete_conversation(&by.scope(), id, &by.actor, Timestamp::now()).await?)
    }

    /// What the account holds about one person (admin).
    pub async fn subject_export(&self, by: &Principal, contact_id: &str) -> Result<SubjectExport, AppError> {
        let person = person(contact_id)?;
        Ok(self.store.subject_export(&by.scope(), &person).await?)
    }

    /// Erases the conversations of `bot` (of every bot of the account when
    /// `None`) whose last activity is more than `days` old; on a dry run,
    /// only counts them.
    pub async fn purge(
        &self,
        scope: &Scope,
        bot: Option<&Uuid>,
        days: i64,
        dry_run: bool,
        by: &Actor,
        progress: Progress<'_>,
    ) -> Result<Vec<Purged>, AppError> {
        let days = crate::domain::retention::parse_retention_days("older_than", days)?;
        let bots = match bot {
            Some(b) => vec![self.store.get_bot(scope, b).await?.id],
            None => self.all_bots(scope).await?.into_iter().map(|b| b.id).collect(),
        };
        let now = Timestamp::now();
        let cut = retention_cut(now, days);
        let mut done = Vec::with_capacity(bots.len());
        for bot_id in bots {
            let erased = self.store.purge(scope, &bot_id, cut, dry_run, by, now, progress).await?;
            done.push(Purged { bot_id, cut, erased });
        }
        Ok(done)
    }

    /// Runs retention every `every` while the application lives: the
    /// instance holding the lease erases, for each bot with a
    /// `retention_days`, the conversations that outlived it.
    pub fn keep_retention(&self, every: Duration) {
        let holder = Uuid::new().to_string();
        crate::background::every(every, Arc::downgrade(&self.store), move |store| {
            let holder = holder.clone();
            async move {
                if let Err(e) = retention_round(store, &holder).await {
                    tracing::warn!(error = %crate::error_chain::Chain(&e), "a retention round failed; the next will retry");
                }
            }
        });
    }
}

/// One round of the retention job, if this instance holds (or takes) the
/// lease, which is renewed while the round runs.
async fn retention_round(store: Arc<dyn Store>, holder: &str) -> Result<(), AppError> {
    let Some(lease) = Lease::take(&store, RETENTION_LEASE, holder, LEASE_FOR).await? else { return Ok(()) };
    let purged = purge_expired(&*store).await;
    lease.release().await?;
    purged
}

/// Erases, bot by bot, the conversations that outlived their bot's retention.
async fn purge_expired(store: &dyn Store) -> Result<(), AppError> {
    let job = Actor::job("retention");
    for (account, bot, days) in store.bots_with_retention().await? {
        let now = Timestamp::now();
        let erased =
            store.purge(&Scope::account(account), &bot, retention_cut(now, days), false, &job, now, &|_| {}).await?;
        if !erased.is_empty() {
            tracing::info!(bot_id = %bot, conversations = erased.conversations, "retention erased expired conversations");
        }
    }
    Ok(())
}

/// A person's id as conversations and signals hold it.
fn person(raw: &str) -> Result<String, DomainError> {
    short_text("contact_id", raw, crate::domain::ids::MAX_SHORT_TEXT_LEN)
}
