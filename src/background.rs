//! Work the server repeats in the background for as long as what it works
//! on lives: folding the rollups, retention, embedding and grouping; and the
//! one low-priority thread that computes for the embedding worker.

use std::{
    future::Future,
    sync::{
        Arc, Weak,
        atomic::{AtomicU64, Ordering},
    },
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
///
/// Idle cores alone do not make it free: the model streams its weights
/// through the caches the request threads share, and the worker's results
/// are written by the database's one writer. So how long `work` waited for a
/// core is kept, for the worker to give the cores back in proportion
/// ([`yield_to_load`]).
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
    Ok(pool.install(|| {
        let before = run_queue_wait();
        let out = work();
        if let (Some(before), Some(after)) = (before, run_queue_wait()) {
            WAITED_NS.fetch_add(after.saturating_sub(before), Ordering::Relaxed);
        }
        out
    }))
}

/// What the background thread waited for a core in its work since
/// [`yield_to_load`] last took it, in nanoseconds.
static WAITED_NS: AtomicU64 = AtomicU64::new(0);

/// How many times what the work waited the worker pauses: under load the
/// work so takes at most about a fifth of the time it would.
const YIELD_FACTOR: u32 = 4;
/// The longest pause: well inside the worker's lease.
const LONGEST_YIELD: Duration = Duration::from_secs(5);

/// Pauses the background worker in proportion to how long its work waited
/// for a core since the last pause: on a busy machine (requests keep the
/// cores) the worker steps aside, on an idle one it goes on at once.
pub async fn yield_to_load() {
    let waited = Duration::from_nanos(WAITED_NS.swap(0, Ordering::Relaxed));
    if waited >= Duration::from_millis(1) {
        tokio::time::sleep((waited * YIELD_FACTOR).min(LONGEST_YIELD)).await;
    }
}

/// The calling thread's time spent waiting on a run queue, in nanoseconds
/// (the second field of Linux's `/proc/thread-self/schedstat`); `None`
/// where the kernel does not say.
fn run_queue_wait() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    stat.split_whitespace().nth(1)?.parse().ok()
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
