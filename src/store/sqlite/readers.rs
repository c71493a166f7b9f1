//! The readers: a few threads, each with a read-only connection of its
//! own, taking reads from one shared queue. In WAL mode they never wait on
//! the writer. Beside them, [`DiskReads`]: whether the process reads from
//! the disk lately, which decides whether hot writes are read ahead here.

use std::{
    sync::{
        Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use super::{SqliteOptions, conn::SqliteConn};
use crate::store::StoreError;

/// A queued read: runs on a reader's connection, or answers why there is none.
pub(super) type ReadJob = Box<dyn FnOnce(Result<&mut SqliteConn, StoreError>) + Send>;

/// A reader thread: takes reads from the shared queue one at a time and runs
/// them on its own connection, opened at its first read (and again after a
/// failed open). A fixed set of threads, each keeping its connection, means
/// a connection's page cache and the rows it reads are allocated by one
/// thread, not by whichever blocking thread of the runtime was free: after
/// busy traffic the latter spread them over many allocator arenas, and a long
/// export then held about twice the memory.
pub(super) fn reader_loop(opts: &SqliteOptions, queue: &Mutex<std::sync::mpsc::Receiver<ReadJob>>) {
    let mut conn: Option<SqliteConn> = None;
    loop {
        // The lock is held only while waiting for the next read.
        let next = match queue.lock() {
            Ok(queue) => queue.recv(),
            Err(_) => return,
        };
        let Ok(job) = next else { return };
        let c = match conn {
            Some(ref mut c) => c,
            None => match SqliteConn::open(opts, true, false) {
                Ok(c) => conn.insert(c),
                Err(e) => {
                    job(Err(e));
                    continue;
                }
            },
        };
        // `run_now` turns a panicking read into its error.
        job(Ok(c));
    }
}

/// Tells whether the process has read from the disk (not the operating
/// system's page cache) within the last [`DiskReads::LATELY`], from the
/// kernel's count of the bytes it fetched from storage, looked at no more
/// often than every [`DiskReads::CHECK_EVERY`]. Where the count cannot be
/// read, the answer is always yes.
pub(super) struct DiskReads {
    read_bytes: fn() -> Option<u64>,
    last: Mutex<DiskReadsSeen>,
    lately: AtomicBool,
}

struct DiskReadsSeen {
    checked: std::time::Instant,
    bytes: Option<u64>,
    until: std::time::Instant,
}

impl DiskReads {
    const CHECK_EVERY: Duration = Duration::from_millis(100);
    const LATELY: Duration = Duration::from_secs(2);

    /// Counts from `read_bytes`; a new engine has read from the disk lately
    /// (its file is not known to be cached yet).
    pub(super) fn new(read_bytes: fn() -> Option<u64>) -> Self {
        let now = std::time::Instant::now();
        let seen = DiskReadsSeen { checked: now, bytes: read_bytes(), until: now + Self::LATELY };
        Self { read_bytes, last: Mutex::new(seen), lately: AtomicBool::new(true) }
    }

    pub(super) fn lately(&self, now: std::time::Instant) -> bool {
        // One caller looks at the count; the others take its last answer.
        let Ok(mut seen) = self.last.try_lock() else { return self.lately.load(Ordering::Relaxed) };
        if now.duration_since(seen.checked) >= Self::CHECK_EVERY {
            let bytes = (self.read_bytes)();
            if bytes.is_none() || bytes != seen.bytes {
                seen.until = now + Self::LATELY;
            }
            seen.bytes = bytes;
            seen.checked = now;
            self.lately.store(now < seen.until, Ordering::Relaxed);
        }
        self.lately.load(Ordering::Relaxed)
    }
}

/// Bytes this process has had fetched from storage (`read_bytes` of
/// `/proc/self/io`), where the system counts them.
pub(super) fn process_read_bytes() -> Option<u64> {
    let io = std::fs::read_to_string("/proc/self/io").ok()?;
    io.lines().find_map(|l| l.strip_prefix("read_bytes:")).and_then(|n| n.trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::{
        super::tests::{count, engine},
        *,
    };
    use crate::store::sql::{Conn, Engine};

    static FETCHED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

    /// Writes are prefetched while the process reads from the disk, and for
    /// a while after; not once its reads all come from the page cache.
    #[test]
    fn writes_are_prefetched_while_the_disk_is_read() {
        let reads = DiskReads::new(|| Some(FETCHED.load(Ordering::Relaxed)));
        let start = std::time::Instant::now();
        let at = |ms: u64| start + Duration::from_millis(ms);
        assert!(reads.lately(at(0)), "not known to be cached at first");
        assert!(reads.lately(at(1_000)));
        assert!(!reads.lately(at(2_500)), "no disk reads for 2 s");
        FETCHED.fetch_add(4096, Ordering::Relaxed);
        assert!(!reads.lately(at(2_550)), "looked at every 100 ms only");
        assert!(reads.lately(at(2_650)), "a read from the disk");
        assert!(reads.lately(at(4_000)));
        assert!(!reads.lately(at(4_700)));
        let unknown = DiskReads::new(|| None);
        assert!(unknown.lately(at(10_000)), "without the count, always");
        assert!(process_read_bytes().is_some(), "the kernel counts this process's disk reads");
    }

    /// Reads run on the engine's own reader threads, never more than
    /// `readers` of them whatever the number of reads at once, and a read
    /// that panics loses only its own answer.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn reads_share_a_fixed_set_of_reader_threads_that_outlive_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let e = Arc::new(engine(&dir));
        e.write(|c| Box::pin(async move { c.batch("CREATE TABLE t (v INTEGER NOT NULL)").await })).await.unwrap();
        e.write(|c| Box::pin(async move { c.execute("INSERT INTO t (v) VALUES (7)", &[]).await })).await.unwrap();
        let reads: Vec<_> = (0..64)
            .map(|_| {
                let e = Arc::clone(&e);
                tokio::spawn(async move {
                    e.read(|c| {
                        Box::pin(async move {
                            let name = std::thread::current().name().unwrap_or_default().to_owned();
                            Ok((name, c.query("SELECT COUNT(*) FROM t", &[]).await?[0].get::<i64>(0)?))
                        })
                    })
                    .await
                })
            })
            .collect();
        let mut readers = std::collections::HashSet::new();
        for read in reads {
            let (thread, n) = read.await.unwrap().unwrap();
            assert_eq!(n, 1);
            readers.insert(thread);
        }
        assert!(!readers.is_empty() && readers.len() <= 2, "reads ran on {readers:?}");
        assert!(readers.iter().all(|t| t.starts_with("plaudit-sqlite-reader-")), "reads ran on {readers:?}");
        for _ in 0..3 {
            let panicked =
                e.read(|_c| -> futures_util::future::BoxFuture<'_, Result<(), StoreError>> { panic!("a bug") }).await;
            assert!(matches!(panicked, Err(StoreError::Other(_))), "{panicked:?}");
        }
        // Both readers are still there, with working connections.
        for _ in 0..8 {
            assert_eq!(count(&e, 7).await, 1);
        }
    }
}
