//! The embedding worker (SPEC §10): off the request path, it represents
//! each thumbed-down answer's question once, and each distinct reason, as
//! a vector stored beside it.
//!
//! A thumbs-down queues its question in the transaction that writes it, so
//! no question is lost to a crash; the worker reads the queue in order, a
//! batch at a time, embeds the questions, stores the vectors, and links and
//! regroups their shelves ([`super::gap_groups`]). One instance at a time
//! works the queue (a lease in the database, taken for each round and
//! renewed while it runs), and the model and the grouping compute on one
//! low-priority thread, so the rest of the machine serves requests.

use std::{sync::Arc, time::Duration};

use super::{
    App,
    gap_groups::{Keeper, keep},
    lease::Lease,
};
use crate::{domain::Timestamp, domain::ids::Uuid, embedding::Embedder, store::Store};

/// The lease of the embedding worker.
const LEASE: &str = "gap-questions";
/// How long the lease lasts unrenewed.
const LEASE_FOR: Duration = Duration::from_secs(30);
/// Questions read, embedded and written at a time.
const BATCH: i64 = 16;

impl App {
    /// Represents queued questions every `poll` while the application lives,
    /// with `embedder`. Questions represented by another model are queued
    /// again first.
    pub fn keep_representing(&self, embedder: Arc<dyn Embedder>, poll: Duration) {
        let holder = Uuid::new().to_string();
        let requeued = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let keeper = Arc::new(tokio::sync::Mutex::new(Keeper::default()));
        crate::background::every(poll, Arc::downgrade(&self.store), move |store| {
            let (embedder, holder, requeued) = (Arc::clone(&embedder), holder.clone(), Arc::clone(&requeued));
            let keeper = Arc::clone(&keeper);
            async move {
                let mut keeper = keeper.lock().await;
                if let Err(e) = round(&store, &*embedder, &holder, &requeued, &mut keeper).await {
                    tracing::warn!(error = %crate::error_chain::Chain(e.as_ref()), "cannot represent knowledge-gap questions");
                }
            }
        });
    }
}

/// Works the queues until they are empty, if there is work and this
/// instance holds the lease.
async fn round(
    store: &Arc<dyn Store>,
    embedder: &dyn Embedder,
    holder: &str,
    requeued: &std::sync::atomic::AtomicBool,
    keeper: &mut Keeper,
) -> anyhow::Result<()> {
    use std::sync::atomic::Ordering;
    // An idle round reads; only one with work takes (writes) the lease.
    let idle = requeued.load(Ordering::Relaxed)
        && store.pending_gap_questions(1).await?.is_empty()
        && store.pending_reasons(1).await?.is_empty()
        && !store.gap_work_waiting().await?;
    if idle {
        return Ok(());
    }
    let Some(lease) = Lease::take(store, LEASE, holder, LEASE_FOR).await? else { return Ok(()) };
    let worked = async {
        if !requeued.load(Ordering::Relaxed) {
            let again = store.requeue_gap_questions(embedder.model()).await?;
            if again > 0 {
                tracing::info!(
                    questions = again,
                    model = embedder.model(),
                    "the embedding model changed: representing again"
                );
            }
            requeued.store(true, Ordering::Relaxed);
        }
        // Questions first, each batch linked and grouped as it lands: a
        // thumbs-down waits for its group; reasons are read later.
        keep(store, keeper, &lease).await?;
        while !lease.lost() {
            store.drain_gap_queue().await?;
            let batch = store.pending_gap_questions(BATCH).await?;
            if batch.is_empty() {
                break;
            }
            let texts: Vec<String> =
                batch.iter().filter_map(|q| q.question.as_deref().map(str::trim).map(str::to_owned)).collect();
            let mut vectors = embedder.embed(&texts).await?.into_iter();
            let done: Vec<(i64, Option<Vec<f32>>)> =
                batch.iter().map(|q| (q.seq, q.question.as_ref().and_then(|_| vectors.next()))).collect();
            store.represent_gap_questions(embedder.model(), done, Timestamp::now()).await?;
            keep(store, keeper, &lease).await?;
            crate::background::yield_to_load().await;
        }
        while !lease.lost() {
            let batch = store.pending_reasons(BATCH).await?;
            if batch.is_empty() {
                break;
            }
            let texts: Vec<String> = batch.iter().map(|(_, r)| r.clone()).collect();
            let vectors = embedder.embed(&texts).await?;
            let done: Vec<(i64, Vec<f32>)> = batch.iter().map(|(seq, _)| *seq).zip(vectors).collect();
            store.represent_reasons(embedder.model(), done, Timestamp::now()).await?;
            crate::background::yield_to_load().await;
        }
        Ok::<(), anyhow::Error>(())
    }
    .await;
    lease.release().await?;
    worked
}
