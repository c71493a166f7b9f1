//! Work the server repeats in the background for as long as what it works
//! on lives: folding the rollups, retention, embedding and grouping; and the
//! one low-priority thread that computes for the embedding worker.

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

/// Runs `work` on the process's one background computing thread (the
/// embedding model's, the grouping's), blocking the caller until it is done.
/// The thread runs under the idle scheduling policy (Linux's `SCHED_IDLE`):
/// only when a core has nothing else to do, so this work never slows
/// requests down. Call it from a blocking context (`spawn_blocking`).
pub fn on_idle_thread<T: Send>(work: impl FnOnce() -> T + Send) -> anyhow::Result<T> {
    static POOL: std::sync::OnceLock<rayon::ThreadPool> = std::sync::OnceLock::new();
    let pool = match POOL.get() {
        Some(pool) => pool,
        None => {
            let built = rayon::ThreadPoolBuilder::new()
                .num_threads(1)
                .thread_name(|_| "background-compute".into())
                .start_handler(|_| lowest_priority())
                .build()?;
            POOL.get_or_init(|| built)
        }
    };
    Ok(pool.install(work))
}

/// Puts the calling thread under the idle scheduling policy. Elsewhere than
/// Linux, or if refused, the thread keeps its priority.
fn lowest_priority() {
    #[cfg(target_os = "linux")]
    {
        use thread_priority::{NormalThreadSchedulePolicy, ThreadPriority, ThreadSchedulePolicy, unix};
        let idle = ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Idle);
        if let Err(e) = unix::set_thread_priority_and_policy(unix::thread_native_id(), ThreadPriority::Min, idle) {
            tracing::warn!(error = ?e, "the background computing thread keeps its priority");
        }
    }
}
