//! Handing freed memory back to the system.
//!
//! glibc's allocator keeps what a burst of work freed in the arena of the
//! thread that freed it, for that arena's next allocations. Work on other
//! threads cannot use it: after a burst of ingest batches on the runtime's
//! threads the server stayed at 80 MB, of which 44 MB was in use, and an
//! export on the reader threads then added its own working set on top, to
//! 120 MB. `malloc_trim` returns every arena's free pages, so `serve` calls
//! it every few seconds (`memory_trim_interval_ms`). One arena for every
//! thread (`MALLOC_ARENA_MAX=2`) kept the memory down too, but slowed the
//! export by 15-20%.

use std::time::Duration;

/// Returns freed heap pages to the system every `every`, from the first
/// `every` on, on a blocking thread (a trim walks and briefly locks each arena
/// in turn).
pub fn keep_trimming(every: Duration) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let _ = tokio::task::spawn_blocking(trim).await;
        }
    });
}

/// Returns the free pages of every arena to the system.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
pub fn trim() {
    // SAFETY: malloc_trim takes no pointers and may be called from any
    // thread at any time; it only releases pages no allocation holds.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Other allocators keep no per-thread arenas of this kind.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn trim() {}
