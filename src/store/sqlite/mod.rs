//! The SQLite engine: the embedded default.
//!
//! - [`writer`]: one thread owns the only writing connection and commits
//!   whatever is queued in one transaction (group commit).
//! - [`durability`]: the sync thread that makes commits durable off the
//!   writer's path, the checkpoint thread, and the WAL's bound.
//! - [`readers`]: a few reader threads, each with a connection of its own;
//!   in WAL mode they never wait on the writer.
//! - [`conn`]: a connection speaking the shared SQL.
//!
//! This module opens the file and starts the threads ([`SqliteEngine::open`]),
//! and hands reads and writes to them ([`Engine`]).

mod backup;
mod conn;
mod durability;
#[cfg(test)]
mod migration_tests;
mod readers;
mod writer;

pub use backup::backup;

use std::{
    path::PathBuf,
    sync::{
        Arc, Mutex, OnceLock,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

pub use conn::SqliteConn;
use conn::{map_err, run_now};
use durability::{WalFile, checkpoint_loop, note_wal_pages, sync_loop};
use readers::{DiskReads, ReadJob, process_read_bytes, reader_loop};
use tokio::sync::{mpsc, oneshot};
use writer::writer_loop;

use super::{
    StoreError, because,
    sql::{BeforeCommit, Conn, Engine, Work},
};

/// Tuning knobs of the SQLite engine.
#[derive(Debug, Clone)]
pub struct SqliteOptions {
    pub path: PathBuf,
    pub busy_timeout: Duration,
    /// `FULL` survives power loss, `NORMAL` only a crash of the process.
    pub synchronous_full: bool,
    pub readers: usize,
    /// WAL frames (pages) past which the writer restarts the WAL between two
    /// commits, so that it cannot grow without end under sustained writes.
    pub wal_frames_bound: i64,
}

/// The default [`SqliteOptions::wal_frames_bound`]: about 64 MB of WAL.
pub const WAL_FRAMES_BOUND: i64 = 16_000;

/// Parses `sqlite://relative.db`, `sqlite:///absolute/path.db` or `sqlite:path.db`.
pub fn path_from_url(url: &str) -> Option<PathBuf> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let rest = rest.split('?').next().unwrap_or_default();
    (!rest.is_empty()).then(|| PathBuf::from(rest))
}

/// Answers a unit of work once its group's commit is known (and, with
/// durable commits, synced).
type Reply = Box<dyn FnOnce(Result<(), StoreError>) + Send>;
/// A queued unit of work. Given a connection it runs and says whether it
/// succeeded; given none (its transaction could not go on) it only prepares
/// its answer.
type Job = Box<dyn FnOnce(Option<&mut SqliteConn>) -> (bool, Reply) + Send>;

/// The SQLite engine: a writer thread and reader threads.
pub struct SqliteEngine {
    jobs: mpsc::UnboundedSender<Job>,
    /// Reads, taken in turn by the reader threads; they stop when it closes.
    reads: std::sync::mpsc::Sender<ReadJob>,
    /// Tells the checkpoint thread to stop.
    closing: Arc<AtomicBool>,
    /// Whether the process reads from the disk lately: writes are prefetched then.
    disk_reads: DiskReads,
    /// What the writer runs before each group's commit.
    before_commit: Arc<OnceLock<BeforeCommit<SqliteConn>>>,
    /// How connections are opened (for [`Engine::scrub`]'s own).
    opts: SqliteOptions,
}

impl SqliteEngine {
    /// Opens the file (creating it), switches it to WAL and starts the writer.
    pub fn open(opts: SqliteOptions) -> Result<Self, StoreError> {
        // With `synchronous = FULL` the writer's commits are made durable by
        // the sync thread, off the writer's path (see `sync_loop`).
        let writer = SqliteConn::open(&opts, false, opts.synchronous_full)?;
        // The writer never checkpoints; the checkpoint thread does. A WAL that
        // outgrew its bound is cut back to it when the writer restarts it,
        // which the hook's report of each commit's WAL size tells it to do.
        writer.conn.pragma_update(None, "wal_autocheckpoint", 0).map_err(map_err)?;
        writer.conn.wal_hook(Some(note_wal_pages));
        let page_size: i64 = writer.conn.pragma_query_value(None, "page_size", |r| r.get(0)).map_err(map_err)?;
        writer.conn.pragma_update(None, "journal_size_limit", opts.wal_frames_bound * page_size).map_err(map_err)?;
        let checkpointer = SqliteConn::open(&opts, false, false)?;
        let syncer = if opts.synchronous_full {
            let (tx, rx) = std::sync::mpsc::channel::<Vec<Reply>>();
            let mut wal = WalFile::new(&opts.path);
            std::thread::Builder::new()
                .name("plaudit-sqlite-sync".into())
                .spawn(move || sync_loop(&rx, || wal.sync()))
                .map_err(|e| StoreError::other(because("cannot start the SQLite sync thread", e)))?;
            Some(tx)
        } else {
            None
        };
        let (jobs, rx) = mpsc::unbounded_channel();
        let restarting = Arc::new(AtomicBool::new(false));
        let (flag, bound) = (Arc::clone(&restarting), opts.wal_frames_bound);
        let before_commit = Arc::new(OnceLock::new());
        let hook = Arc::clone(&before_commit);
        std::thread::Builder::new()
            .name("plaudit-sqlite-writer".into())
            .spawn(move || writer_loop(writer, rx, bound, &flag, syncer.as_ref(), &hook))
            .map_err(|e| StoreError::other(because("cannot start the SQLite writer", e)))?;
        let closing = Arc::new(AtomicBool::new(false));
        let stop = Arc::clone(&closing);
        std::thread::Builder::new()
            .name("plaudit-sqlite-checkpoint".into())
            .spawn(move || checkpoint_loop(&checkpointer, &stop, &restarting))
            .map_err(|e| StoreError::other(because("cannot start the SQLite checkpointer", e)))?;
        let (reads, queue) = std::sync::mpsc::channel::<ReadJob>();
        let queue = Arc::new(Mutex::new(queue));
        for n in 0..opts.readers.max(1) {
            let (queue, opts) = (Arc::clone(&queue), opts.clone());
            std::thread::Builder::new()
                .name(format!("plaudit-sqlite-reader-{n}"))
                .spawn(move || reader_loop(&opts, &queue))
                .map_err(|e| StoreError::other(because("cannot start a SQLite reader", e)))?;
        }
        Ok(Self {
            jobs,
            reads,
            closing,
            disk_reads: DiskReads::new(process_read_bytes),
            before_commit,
            opts: opts.clone(),
        })
    }

    /// Hands back the memory that the writer's connection keeps in its caches
    /// (`PRAGMA shrink_memory`). A migration that builds an index over a
    /// large table leaves them full: at scale L, 0016 left the process at
    /// 99 MB, which it would otherwise keep until it stops.
    pub async fn release_memory(&self) -> Result<(), StoreError> {
        self.write(|c| Box::pin(async move { c.batch("PRAGMA shrink_memory").await })).await
    }
}

impl Drop for SqliteEngine {
    fn drop(&mut self) {
        self.closing.store(true, Ordering::Relaxed);
    }
}

impl Engine for SqliteEngine {
    type Conn = SqliteConn;

    async fn read<T: Send + 'static>(&self, work: impl Work<SqliteConn, T>) -> Result<T, StoreError> {
        let (tx, rx) = oneshot::channel::<Result<T, StoreError>>();
        let job: ReadJob = Box::new(move |conn: Result<&mut SqliteConn, StoreError>| {
            let _ = tx.send(conn.and_then(|c| run_now(c, work)));
        });
        self.reads.send(job).map_err(|_| StoreError::unavailable("the SQLite readers have stopped"))?;
        rx.await.map_err(|_| StoreError::unavailable("a SQLite reader dropped a read"))?
    }

    async fn write<T: Send + 'static>(&self, work: impl Work<SqliteConn, T>) -> Result<T, StoreError> {
        let (tx, rx) = oneshot::channel::<Result<T, StoreError>>();
        let job: Job = Box::new(move |conn: Option<&mut SqliteConn>| {
            let result = match conn {
                None => Err(StoreError::unavailable("the SQLite transaction could not go on; retry")),
                Some(conn) => run_now(conn, work),
            };
            let ok = result.is_ok();
            let reply: Reply = Box::new(move |committed: Result<(), StoreError>| {
                // A unit's own failure comes first; a successful unit is
                // answered only once its commit is known.
                let _ = tx.send(result.and_then(|v| committed.map(|()| v)));
            });
            (ok, reply)
        });
        self.jobs.send(job).map_err(|_| StoreError::unavailable("the SQLite writer has stopped"))?;
        rx.await.map_err(|_| StoreError::unavailable("the SQLite writer dropped a write"))?
    }

    /// Only while the process reads from the disk. When the file is in the
    /// operating system's cache, a prefetch only copies pages the writer
    /// copies again: at M with the file cached, thumbs without it ran at
    /// 3,600-4,060 req/s against 3,160-3,190 with it, and took 245-280 µs of
    /// server CPU each against 350; with the file evicted, 2,690-3,030
    /// against 3,240-3,350.
    fn prefetches(&self) -> bool {
        self.disk_reads.lately(std::time::Instant::now())
    }

    fn set_before_commit(&self, hook: BeforeCommit<SqliteConn>) {
        let _ = self.before_commit.set(hook);
    }

    /// The WAL keeps the pages as they were before each commit until it is
    /// written over: copies everything into the database file and truncates
    /// the WAL to nothing (`TRUNCATE`), waiting (within a few seconds) for
    /// readers still on older pages. With `secure_delete` on, the file then
    /// holds no deleted row's bytes.
    async fn scrub(&self) -> Result<(), StoreError> {
        let opts = self.opts.clone();
        let work = move || {
            let conn = SqliteConn::open(&opts, false, false)?;
            let deadline = std::time::Instant::now() + Duration::from_secs(5);
            loop {
                let busy = conn.conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get::<_, i64>(0));
                match busy {
                    Ok(0) => return Ok(()),
                    _ if std::time::Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
                    Ok(_) => return Err(StoreError::unavailable("readers kept the WAL from being truncated; retry")),
                    Err(e) => return Err(map_err(e)),
                }
            }
        };
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|e| StoreError::other(because("the WAL truncation stopped", e)))?
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::params;

    /// The tests' engine options: a file in `dir`, commits not synced.
    pub(super) fn options(dir: &tempfile::TempDir) -> SqliteOptions {
        SqliteOptions {
            path: dir.path().join("t.db"),
            busy_timeout: Duration::from_secs(5),
            synchronous_full: false,
            readers: 2,
            wal_frames_bound: WAL_FRAMES_BOUND,
        }
    }

    pub(super) fn engine(dir: &tempfile::TempDir) -> SqliteEngine {
        SqliteEngine::open(options(dir)).unwrap()
    }

    pub(super) async fn count(e: &SqliteEngine, v: i64) -> i64 {
        e.read(move |c| {
            Box::pin(async move { c.query("SELECT COUNT(*) FROM t WHERE v = $1", params![v]).await?[0].get::<i64>(0) })
        })
        .await
        .unwrap()
    }

    pub(super) async fn count_all(e: &SqliteEngine) -> i64 {
        e.read(|c| Box::pin(async move { c.query("SELECT COUNT(*) FROM t", &[]).await?[0].get::<i64>(0) }))
            .await
            .unwrap()
    }

    /// `.cargo/config.toml` builds the bundled SQLite without the options
    /// that put every connection behind process-wide locks.
    #[tokio::test]
    async fn sqlite_is_built_without_its_process_wide_locks() {
        let dir = tempfile::tempdir().unwrap();
        let e = engine(&dir);
        let rows = e.read(|c| Box::pin(async move { c.query("PRAGMA compile_options", &[]).await })).await.unwrap();
        let options: Vec<String> = rows.iter().map(|r| r.get::<String>(0).unwrap()).collect();
        assert!(options.iter().any(|o| o == "THREADSAFE=1"), "{options:?}");
        assert!(options.iter().any(|o| o == "DEFAULT_MEMSTATUS=0"), "{options:?}");
        assert!(!options.iter().any(|o| o == "ENABLE_MEMORY_MANAGEMENT"), "{options:?}");
    }
}
