//! A background job's lease in the database (SPEC §16, §13): one instance
//! at a time holds it; a task renews it every third of its length while
//! the job runs, so an instance that dies gives it up to another within
//! that length; the holder gives it back when done.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use crate::{
    domain::Timestamp,
    store::{Store, StoreError},
};

/// A lease held by this instance, renewed until released or dropped.
pub struct Lease {
    store: Arc<dyn Store>,
    name: String,
    holder: String,
    lost: Arc<AtomicBool>,
    renewer: tokio::task::JoinHandle<()>,
}

impl Lease {
    /// Takes the lease `name` for `holder` if no other holder's lease runs.
    pub async fn take(
        store: &Arc<dyn Store>,
        name: &str,
        holder: &str,
        length: Duration,
    ) -> Result<Option<Self>, StoreError> {
        let now = Timestamp::now();
        if !store.take_lease(name, holder, now, until(now, length)).await? {
            return Ok(None);
        }
        let lost = Arc::new(AtomicBool::new(false));
        let renewer = {
            let (store, name, holder, lost) =
                (Arc::clone(store), name.to_owned(), holder.to_owned(), Arc::clone(&lost));
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(length / 3).await;
                    let now = Timestamp::now();
                    match store.take_lease(&name, &holder, now, until(now, length)).await {
                        Ok(true) => {}
                        Ok(false) => {
                            lost.store(true, Ordering::Relaxed);
                            return tracing::warn!(lease = %name, "the lease went to another instance");
                        }
                        Err(e) => tracing::warn!(lease = %name, error = %e, "cannot renew the lease; retrying"),
                    }
                }
            })
        };
        Ok(Some(Self { store: Arc::clone(store), name: name.to_owned(), holder: holder.to_owned(), lost, renewer }))
    }

    /// Whether another instance took the lease over: the job stops.
    pub fn lost(&self) -> bool {
        self.lost.load(Ordering::Relaxed)
    }

    /// Gives the lease back.
    pub async fn release(self) -> Result<(), StoreError> {
        self.renewer.abort();
        self.store.release_lease(&self.name, &self.holder).await
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.renewer.abort();
    }
}

/// Until when a lease taken at `now` runs.
fn until(now: Timestamp, length: Duration) -> Timestamp {
    Timestamp(now.0.saturating_add(i64::try_from(length.as_millis()).unwrap_or(i64::MAX)))
}
