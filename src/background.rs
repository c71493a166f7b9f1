//! Work the server repeats in the background for as long as what it works
//! on lives: folding the rollups, retention.

use std::{
    future::Future,
    sync::{Arc, Weak},
    time::Duration,
};

/// Runs `work` on `target` every `interval` (the first at once; a late round
/// delays the next rather than bunching them) until `target` is dropped.
pub fn every<T, F, Fut>(interval: Duration, target: Weak<T>, work: F)
where
    T: ?Sized + Send + Sync + 'static,
    F: Fn(Arc<T>) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let Some(target) = target.upgrade() else { return };
            work(target).await;
        }
    });
}
