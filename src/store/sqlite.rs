//! The SQLite engine: the embedded default.
//!
//! One writer thread owns the only writing connection and commits whatever
//! is queued in one transaction (group commit); every caller is answered only
//! after the shared `COMMIT` returned. Units of work run without savepoints:
//! a savepoint inside a large transaction re-journals every page it touches,
//! which measured as more than half of the writer's time. Instead, units
//! report rule violations without writing anything (see `Engine::write`),
//! and a unit that truly fails rolls its whole group back. Readers are a
//! few threads, each with a connection of its own; in WAL mode they never
//! wait on the writer. Checkpoints (copying the WAL back into the database
//! file, with its own `fsync`) run on a thread and connection of their own,
//! so that a large database's checkpoint never stalls the commits queued
//! behind it. Only when the WAL has outgrown its bound (the writer outpaced
//! the copying) does the writer itself, between two commits, finish the copy
//! and restart the WAL: a checkpoint from another connection never finds the
//! writer idle.

use std::{
    panic::AssertUnwindSafe,
    path::PathBuf,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use futures_util::FutureExt;
use rusqlite::{OpenFlags, ToSql, types::ToSqlOutput};
use tokio::sync::{mpsc, oneshot};

use super::{
    StoreError,
    sql::{Conn, Deferred, Dialect, Engine, Param, Row, Value, Work},
};

/// Most units of work committed in one transaction.
const MAX_GROUP: usize = 512;

/// The page cache of the read-write connections, in KiB: the writer's
/// keeps the upper pages of every index it writes to in memory (the
/// checkpointer's, which copies WAL frames, barely fills its own).
const WRITER_CACHE_KIB: i64 = 16_000;

/// Each reader connection's page cache, in KiB. Reads at scale land on
/// pages scattered over gigabytes, which a few more megabytes do not hold:
/// at L, 4 MB exported faster than 16 MB and left the inbox, overview and
/// thumbs as they were, while four readers' caches held 48 MB less.
const READER_CACHE_KIB: i64 = 4_000;

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

/// A SQLite connection speaking the shared SQL.
pub struct SqliteConn {
    conn: rusqlite::Connection,
    /// The writer's rollup rows for the group being committed.
    deferred: Option<Deferred>,
}

impl ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(value_ref(Param::from(self))))
    }
}

impl ToSql for Param<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(value_ref(*self)))
    }
}

/// A parameter as SQLite binds it, its text borrowed.
fn value_ref(p: Param<'_>) -> rusqlite::types::ValueRef<'_> {
    use rusqlite::types::ValueRef;
    match p {
        Param::Null => ValueRef::Null,
        Param::Int(i) => ValueRef::Integer(i),
        Param::Real(r) => ValueRef::Real(r),
        Param::Text(s) => ValueRef::Text(s.as_bytes()),
    }
}

/// A text column as a `String`. SQLite hands back whatever bytes were stored;
/// valid UTF-8 (all the store writes) is checked by `from_utf8`'s fast path,
/// and anything else is repaired rather than refused.
fn text_of(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_owned(),
        Err(_) => String::from_utf8_lossy(bytes).into_owned(),
    }
}

/// SQLite numbers its parameters `?1`; the shared SQL writes `$1`.
fn translate(sql: &str) -> String {
    sql.replace('$', "?")
}

fn map_err(e: rusqlite::Error) -> StoreError {
    use rusqlite::ErrorCode;
    match &e {
        rusqlite::Error::SqliteFailure(f, _) => match f.code {
            ErrorCode::ConstraintViolation => StoreError::Conflict(e.to_string()),
            ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked | ErrorCode::CannotOpen | ErrorCode::DiskFull => {
                StoreError::Unavailable(e.to_string())
            }
            _ => StoreError::Other(e.to_string()),
        },
        _ => StoreError::Other(e.to_string()),
    }
}

impl SqliteConn {
    /// Opens a connection. `synced_elsewhere`: its commits are synced by the
    /// [`sync_loop`], not by SQLite (the writer, when commits must be durable).
    fn open(opts: &SqliteOptions, read_only: bool, synced_elsewhere: bool) -> Result<Self, StoreError> {
        let flags = if read_only {
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI
        } else {
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX
                | OpenFlags::SQLITE_OPEN_URI
        };
        let conn = rusqlite::Connection::open_with_flags(&opts.path, flags)
            .map_err(|e| StoreError::Unavailable(format!("cannot open {}: {e}", opts.path.display())))?;
        conn.busy_timeout(opts.busy_timeout).map_err(map_err)?;
        conn.set_prepared_statement_cache_capacity(256);
        // Plans never depend on bound values. Otherwise SQLite looks at the
        // value bound to a `LIMIT $n` (and some others) when planning, and
        // any new binding of it makes the cached statement prepare itself
        // again at its next step: every inbox page, list and export page
        // was parsed and planned anew (see the test below).
        conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true).map_err(map_err)?;
        let sync = if opts.synchronous_full && !synced_elsewhere { "FULL" } else { "NORMAL" };
        if !read_only {
            conn.pragma_update(None, "journal_mode", "WAL").map_err(map_err)?;
        }
        let cache = if read_only { READER_CACHE_KIB } else { WRITER_CACHE_KIB };
        conn.execute_batch(&format!(
            "PRAGMA foreign_keys = ON; PRAGMA synchronous = {sync}; PRAGMA temp_store = MEMORY; PRAGMA cache_size = -{cache};"
        ))
        .map_err(map_err)?;
        Ok(Self { conn, deferred: None })
    }

    fn run_query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, StoreError> {
        let mut stmt = self.conn.prepare_cached(&translate(sql)).map_err(map_err)?;
        let width = stmt.column_count();
        let mut rows = stmt.query(rusqlite::params_from_iter(params.iter())).map_err(map_err)?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(map_err)? {
            let mut values = Vec::with_capacity(width);
            for i in 0..width {
                use rusqlite::types::ValueRef;
                values.push(match row.get_ref(i).map_err(map_err)? {
                    ValueRef::Null => Value::Null,
                    ValueRef::Integer(v) => Value::Int(v),
                    ValueRef::Real(v) => Value::Real(v),
                    ValueRef::Text(t) | ValueRef::Blob(t) => Value::Text(text_of(t)),
                });
            }
            out.push(Row(values));
        }
        Ok(out)
    }

    fn run_execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, StoreError> {
        let mut stmt = self.conn.prepare_cached(&translate(sql)).map_err(map_err)?;
        let n = stmt.execute(rusqlite::params_from_iter(params.iter())).map_err(map_err)?;
        Ok(n as u64)
    }

    /// Prepares `sql` once (its text translated and looked up in the cache
    /// once), then binds and steps it for each run.
    fn run_each<'p, P: AsRef<[Param<'p>]>>(
        &mut self,
        sql: &str,
        runs: impl Iterator<Item = P>,
    ) -> Result<Vec<u64>, StoreError> {
        let mut stmt = self.conn.prepare_cached(&translate(sql)).map_err(map_err)?;
        let mut changed = Vec::with_capacity(runs.size_hint().0);
        for params in runs {
            let n = stmt.execute(rusqlite::params_from_iter(params.as_ref().iter())).map_err(map_err)?;
            changed.push(n as u64);
        }
        Ok(changed)
    }
}

impl Conn for SqliteConn {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn query(&mut self, sql: &str, params: &[Value]) -> impl Future<Output = Result<Vec<Row>, StoreError>> + Send {
        std::future::ready(self.run_query(sql, params))
    }

    fn execute(&mut self, sql: &str, params: &[Value]) -> impl Future<Output = Result<u64, StoreError>> + Send {
        std::future::ready(self.run_execute(sql, params))
    }

    fn execute_each<'p, P: AsRef<[Param<'p>]> + Send>(
        &mut self,
        sql: &str,
        runs: impl Iterator<Item = P> + Send,
    ) -> impl Future<Output = Result<Vec<u64>, StoreError>> + Send {
        std::future::ready(self.run_each(sql, runs))
    }

    fn batch(&mut self, sql: &str) -> impl Future<Output = Result<(), StoreError>> + Send {
        std::future::ready(self.conn.execute_batch(sql).map_err(map_err))
    }

    fn deferred_rollups(&mut self) -> Option<&mut Deferred> {
        self.deferred.as_mut()
    }
}

/// Runs work on a SQLite connection. Its futures never wait (SQLite calls are
/// synchronous), so polling once always finishes them.
fn run_now<T>(conn: &mut SqliteConn, work: impl Work<SqliteConn, T>) -> Result<T, StoreError> {
    match std::panic::catch_unwind(AssertUnwindSafe(|| work(conn).now_or_never())) {
        Ok(Some(result)) => result,
        Ok(None) => Err(StoreError::Other("a SQLite unit of work did not finish at once".into())),
        Err(_) => Err(StoreError::Other("a SQLite unit of work panicked".into())),
    }
}

type Reply = Box<dyn FnOnce(Result<(), StoreError>) + Send>;
/// A queued unit of work. Given a connection it runs and says whether it
/// succeeded; given none (its transaction could not go on) it only prepares
/// its answer.
type Job = Box<dyn FnOnce(Option<&mut SqliteConn>) -> (bool, Reply) + Send>;

/// A queued read: runs on a reader's connection, or answers why there is none.
type ReadJob = Box<dyn FnOnce(Result<&mut SqliteConn, StoreError>) + Send>;

/// The SQLite engine: a writer thread and reader threads.
pub struct SqliteEngine {
    jobs: mpsc::UnboundedSender<Job>,
    /// Reads, taken in turn by the reader threads; they stop when it closes.
    reads: std::sync::mpsc::Sender<ReadJob>,
    /// Tells the checkpoint thread to stop.
    closing: Arc<AtomicBool>,
    /// Whether the process reads from the disk lately: writes are prefetched then.
    disk_reads: DiskReads,
}

impl SqliteEngine {
    /// Opens the file (creating it), switches it to WAL and starts the writer.
    pub fn open(opts: SqliteOptions) -> Result<Self, StoreError> {
        // With `synchronous = FULL` the writer's commits are made durable by
        // the sync thread, off the writer's path (see `sync_loop`).
        let mut writer = SqliteConn::open(&opts, false, opts.synchronous_full)?;
        // The units of a group commit add to the rollups once, together.
        writer.deferred = Some(Deferred::new());
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
                .map_err(|e| StoreError::Other(format!("cannot start the SQLite sync thread: {e}")))?;
            Some(tx)
        } else {
            None
        };
        let (jobs, rx) = mpsc::unbounded_channel();
        let restarting = Arc::new(AtomicBool::new(false));
        let (flag, bound) = (Arc::clone(&restarting), opts.wal_frames_bound);
        std::thread::Builder::new()
            .name("plaudit-sqlite-writer".into())
            .spawn(move || writer_loop(writer, rx, bound, &flag, syncer.as_ref()))
            .map_err(|e| StoreError::Other(format!("cannot start the SQLite writer: {e}")))?;
        let closing = Arc::new(AtomicBool::new(false));
        let stop = Arc::clone(&closing);
        std::thread::Builder::new()
            .name("plaudit-sqlite-checkpoint".into())
            .spawn(move || checkpoint_loop(&checkpointer, &stop, &restarting))
            .map_err(|e| StoreError::Other(format!("cannot start the SQLite checkpointer: {e}")))?;
        let (reads, queue) = std::sync::mpsc::channel::<ReadJob>();
        let queue = Arc::new(Mutex::new(queue));
        for n in 0..opts.readers.max(1) {
            let (queue, opts) = (Arc::clone(&queue), opts.clone());
            std::thread::Builder::new()
                .name(format!("plaudit-sqlite-reader-{n}"))
                .spawn(move || reader_loop(&opts, &queue))
                .map_err(|e| StoreError::Other(format!("cannot start a SQLite reader: {e}")))?;
        }
        Ok(Self { jobs, reads, closing, disk_reads: DiskReads::new(process_read_bytes) })
    }

    /// Hands back the memory that the writer's connection keeps in its caches
    /// (`PRAGMA shrink_memory`). A migration that builds an index over a
    /// large table leaves them full: at scale L, 0016 left the process at
    /// 99 MB, which it would otherwise keep until it stops.
    pub async fn release_memory(&self) -> Result<(), StoreError> {
        self.write(|c| Box::pin(async move { c.batch("PRAGMA shrink_memory").await })).await
    }
}

/// A reader thread: takes reads from the shared queue one at a time and runs
/// them on its own connection, opened at its first read (and again after a
/// failed open). A fixed set of threads, each keeping its connection, means
/// a connection's page cache and the rows it reads are allocated by one
/// thread, not by whichever blocking thread of the runtime was free: after
/// busy traffic the latter spread them over many allocator arenas, and a long
/// export then held about twice the memory.
fn reader_loop(opts: &SqliteOptions, queue: &Mutex<std::sync::mpsc::Receiver<ReadJob>>) {
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

impl Drop for SqliteEngine {
    fn drop(&mut self) {
        self.closing.store(true, Ordering::Relaxed);
    }
}

/// Copies committed pages from the WAL into the database file without
/// blocking anyone (`PASSIVE`): a few times a second when the database is
/// quiet, and every few milliseconds for a while after the writer last added
/// pages, so that little is left to copy when the WAL restarts. Starts no
/// copy while the writer is `restarting` the WAL.
fn checkpoint_loop(conn: &SqliteConn, closing: &AtomicBool, restarting: &AtomicBool) {
    let mut busy_until = std::time::Instant::now() + BUSY_FOR;
    while !closing.load(Ordering::Relaxed) {
        let now = std::time::Instant::now();
        std::thread::sleep(if now < busy_until { BUSY_PAUSE } else { IDLE_PAUSE });
        if restarting.load(Ordering::Relaxed) {
            // The writer's restart takes the checkpoint lock: stay out of its way.
            continue;
        }
        let frames =
            conn.conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get::<_, i64>(1)).unwrap_or_else(|e| {
                tracing::warn!(error = %e, "a WAL checkpoint failed; the next one will retry");
                0
            });
        if frames > 0 {
            busy_until = std::time::Instant::now() + BUSY_FOR;
        }
    }
}

/// The checkpoint thread's pause while the database is quiet, its pause while
/// the writer is busy, and how long it stays busy after the last pages.
const IDLE_PAUSE: Duration = Duration::from_millis(200);
const BUSY_PAUSE: Duration = Duration::from_millis(20);
const BUSY_FOR: Duration = Duration::from_secs(2);

/// Has the next commit write the WAL from its start (`RESTART`: copies what
/// the checkpoint thread has not, then waits, within the busy timeout, for
/// readers still on older pages). The file keeps its blocks, which the next
/// commits overwrite: cheaper than truncating it and growing it again.
/// Runs on the writer between commits.
///
/// A copy the checkpoint thread had already begun holds the checkpoint lock,
/// which a restart does not wait for on its own: it retries for up to
/// [`RESTART_PATIENCE`] (the thread starts no new copy meanwhile).
fn restart_wal(conn: &SqliteConn) {
    let deadline = std::time::Instant::now() + RESTART_PATIENCE;
    loop {
        match conn.conn.query_row("PRAGMA wal_checkpoint(RESTART)", [], |r| r.get::<_, i64>(0)) {
            Ok(0) => return,
            Ok(_) if std::time::Instant::now() < deadline => std::thread::sleep(Duration::from_millis(1)),
            Ok(_) => {
                return tracing::info!("readers kept the WAL from restarting; the next bound check will retry");
            }
            Err(e) => return tracing::warn!(error = %e, "restarting the WAL failed; the next bound check will retry"),
        }
    }
}

/// How long the writer retries a restart that found the WAL busy.
const RESTART_PATIENCE: Duration = Duration::from_secs(1);

thread_local! {
    /// Pages in the WAL after the writer's last commit, as SQLite reports
    /// them to [`note_wal_pages`] on the writer's thread.
    static WAL_PAGES: std::cell::Cell<i64> = const { std::cell::Cell::new(0) };
}

/// The writer's WAL hook, called by SQLite after each commit.
#[allow(clippy::unnecessary_wraps)] // the signature SQLite's hook takes
fn note_wal_pages(_: &rusqlite::hooks::Wal, pages: std::ffi::c_int) -> rusqlite::Result<()> {
    WAL_PAGES.set(i64::from(pages));
    Ok(())
}

/// Commits queued work in groups. Before a group, restarts the WAL if its
/// last commit left it past `bound` pages (the commit's own report, so the
/// WAL outgrows its bound by at most one group however busy the machine),
/// with `restarting` set meanwhile. With a `syncer`, a committed group's
/// answers go to the sync thread, which gives them once the commit is on
/// disk; the writer goes on with the next group meanwhile.
fn writer_loop(
    mut conn: SqliteConn,
    mut rx: mpsc::UnboundedReceiver<Job>,
    bound: i64,
    restarting: &AtomicBool,
    syncer: Option<&std::sync::mpsc::Sender<Vec<Reply>>>,
) {
    while let Some(first) = rx.blocking_recv() {
        if WAL_PAGES.get() > bound {
            restarting.store(true, Ordering::Relaxed);
            restart_wal(&conn);
            WAL_PAGES.set(0);
            restarting.store(false, Ordering::Relaxed);
        }
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        if let Err(e) = conn.conn.execute_batch("BEGIN IMMEDIATE").map_err(map_err) {
            for job in group {
                job(None).1(Err(e.clone()));
            }
            continue;
        }
        // Units run one after the other in the shared transaction. A unit that
        // aborts (a database error, a panic) may have written half of itself,
        // so the whole group is rolled back and its other units are answered
        // as unavailable: they retry, nothing acknowledged is lost.
        let mut aborted = false;
        let mut replies: Vec<Reply> = Vec::with_capacity(group.len());
        for job in group {
            let (ok, reply) = job(if aborted { None } else { Some(&mut conn) });
            aborted |= !ok;
            replies.push(reply);
        }
        // The group's rollup rows, each added once for all its units.
        let flushed = if aborted {
            conn.deferred = Some(Deferred::new());
            Ok(())
        } else {
            run_now(&mut conn, |c| Box::pin(super::queries::flush_rollups(c)))
        };
        let committed = if aborted {
            let _ = conn.conn.execute_batch("ROLLBACK");
            Err(StoreError::Unavailable("another write of the same commit failed; retry".into()))
        } else if let Err(e) = flushed {
            tracing::error!(error = %e, "adding a commit's rollup rows failed; its writes are rolled back");
            conn.deferred = Some(Deferred::new());
            let _ = conn.conn.execute_batch("ROLLBACK");
            Err(StoreError::Unavailable(format!("the commit could not be completed; retry ({e})")))
        } else {
            let c = conn.conn.execute_batch("COMMIT").map_err(map_err);
            if c.is_err() {
                let _ = conn.conn.execute_batch("ROLLBACK");
            }
            c
        };
        let replies = match (&committed, syncer) {
            (Ok(()), Some(syncer)) => match syncer.send(replies) {
                Ok(()) => continue,
                // The sync thread is gone: nothing can make the commit durable.
                Err(unsent) => {
                    let gone = Err(StoreError::Unavailable("the SQLite sync thread has stopped".into()));
                    for reply in unsent.0 {
                        reply(gone.clone());
                    }
                    continue;
                }
            },
            _ => replies,
        };
        for reply in replies {
            reply(committed.clone());
        }
    }
}

/// Makes committed groups durable and then answers them: takes every group
/// committed since its last sync, syncs the WAL once for all of them, and
/// answers each unit with the outcome (a failed sync answers unavailable:
/// the write may not survive a power loss, so it is not acknowledged).
///
/// The writer commits with `synchronous = NORMAL`, which writes the WAL but
/// leaves the sync to this thread, so that the writer runs the next group
/// while the disk syncs the last: a sync took 14% of the writer's time, and
/// the writer waited on it. A sync covers every frame written before it, so
/// a commit is answered only once it and all before it are on disk, as with
/// `FULL`. (`NORMAL` in WAL mode never corrupts the file; it only leaves the
/// last commits to the next sync.) Other connections may read a commit a
/// moment before it is synced; its writer is not answered until it is.
fn sync_loop(groups: &std::sync::mpsc::Receiver<Vec<Reply>>, mut sync: impl FnMut() -> std::io::Result<()>) {
    while let Ok(mut waiting) = groups.recv() {
        while let Ok(more) = groups.try_recv() {
            waiting.extend(more);
        }
        let synced = sync().map_err(|e| {
            tracing::error!(error = %e, "syncing the SQLite WAL failed; its commits are not acknowledged");
            StoreError::Unavailable(format!("the commit could not be made durable ({e}); retry"))
        });
        for reply in waiting {
            reply(synced.clone());
        }
    }
}

/// The WAL file of a database, opened for syncing. Reopened whenever the
/// path names another file than the one open (SQLite deletes the WAL when
/// its last connection closes, and makes a new one at the next write), so a
/// sync never goes to a file no longer in use; the first sync of a file also
/// syncs its directory, so that the file itself survives a power loss.
struct WalFile {
    path: PathBuf,
    open: Option<(std::fs::File, u64)>,
}

impl WalFile {
    fn new(database: &std::path::Path) -> Self {
        let mut path = database.as_os_str().to_owned();
        path.push("-wal");
        Self { path: PathBuf::from(path), open: None }
    }

    fn sync(&mut self) -> std::io::Result<()> {
        use std::os::unix::fs::MetadataExt;
        let inode = match std::fs::metadata(&self.path) {
            Ok(m) => m.ino(),
            // No WAL: no commit is waiting in one.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e),
        };
        if let Some((file, open_inode)) = &self.open
            && *open_inode == inode
        {
            return file.sync_data();
        }
        let file = std::fs::File::open(&self.path)?;
        file.sync_data()?;
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::File::open(dir)?.sync_all()?;
        }
        self.open = Some((file, inode));
        Ok(())
    }
}

impl Engine for SqliteEngine {
    type Conn = SqliteConn;

    async fn read<T: Send + 'static>(&self, work: impl Work<SqliteConn, T>) -> Result<T, StoreError> {
        let (tx, rx) = oneshot::channel::<Result<T, StoreError>>();
        let job: ReadJob = Box::new(move |conn: Result<&mut SqliteConn, StoreError>| {
            let _ = tx.send(conn.and_then(|c| run_now(c, work)));
        });
        self.reads.send(job).map_err(|_| StoreError::Unavailable("the SQLite readers have stopped".into()))?;
        rx.await.map_err(|_| StoreError::Unavailable("a SQLite reader dropped a read".into()))?
    }

    async fn write<T: Send + 'static>(&self, work: impl Work<SqliteConn, T>) -> Result<T, StoreError> {
        let (tx, rx) = oneshot::channel::<Result<T, StoreError>>();
        let job: Job = Box::new(move |conn: Option<&mut SqliteConn>| {
            let result = match conn {
                None => Err(StoreError::Unavailable("the SQLite transaction could not go on; retry".into())),
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
        self.jobs.send(job).map_err(|_| StoreError::Unavailable("the SQLite writer has stopped".into()))?;
        rx.await.map_err(|_| StoreError::Unavailable("the SQLite writer dropped a write".into()))?
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
}

/// Tells whether the process has read from the disk (not the operating
/// system's page cache) within the last [`DiskReads::LATELY`], from the
/// kernel's count of the bytes it fetched from storage, looked at no more
/// often than every [`DiskReads::CHECK_EVERY`]. Where the count cannot be
/// read, the answer is always yes.
struct DiskReads {
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
    fn new(read_bytes: fn() -> Option<u64>) -> Self {
        let now = std::time::Instant::now();
        let seen = DiskReadsSeen { checked: now, bytes: read_bytes(), until: now + Self::LATELY };
        Self { read_bytes, last: Mutex::new(seen), lately: AtomicBool::new(true) }
    }

    fn lately(&self, now: std::time::Instant) -> bool {
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
fn process_read_bytes() -> Option<u64> {
    let io = std::fs::read_to_string("/proc/self/io").ok()?;
    io.lines().find_map(|l| l.strip_prefix("read_bytes:")).and_then(|n| n.trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params;

    /// The tests' engine options: a file in `dir`, commits not synced.
    fn options(dir: &tempfile::TempDir) -> SqliteOptions {
        SqliteOptions {
            path: dir.path().join("t.db"),
            busy_timeout: Duration::from_secs(5),
            synchronous_full: false,
            readers: 2,
            wal_frames_bound: WAL_FRAMES_BOUND,
        }
    }

    fn engine(dir: &tempfile::TempDir) -> SqliteEngine {
        SqliteEngine::open(options(dir)).unwrap()
    }

    async fn count(e: &SqliteEngine, v: i64) -> i64 {
        e.read(move |c| {
            Box::pin(async move { c.query("SELECT COUNT(*) FROM t WHERE v = $1", params![v]).await?[0].get::<i64>(0) })
        })
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

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn committed_pages_reach_the_database_file_through_the_checkpoint_thread() {
        let dir = tempfile::tempdir().unwrap();
        let e = engine(&dir);
        let file = dir.path().join("t.db");
        let size = || std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
        let before = size();
        e.write(|c| {
            Box::pin(async move {
                c.batch("CREATE TABLE t (v INTEGER NOT NULL, pad TEXT NOT NULL)").await?;
                for v in 0..2_000 {
                    c.execute("INSERT INTO t (v, pad) VALUES ($1, $2)", params![v, "x".repeat(200)]).await?;
                }
                Ok(())
            })
        })
        .await
        .unwrap();
        // The writer never checkpoints: only the checkpoint thread can grow the file.
        let mut grown = false;
        for _ in 0..50 {
            if size() > before + 100_000 {
                grown = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(grown, "the database file stayed at {} bytes", size());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_wal_stays_bounded_while_the_writer_never_rests() {
        let dir = tempfile::tempdir().unwrap();
        let e = Arc::new(SqliteEngine::open(SqliteOptions { wal_frames_bound: 250, ..options(&dir) }).unwrap());
        e.write(|c| Box::pin(async move { c.batch("CREATE TABLE t (v INTEGER NOT NULL, pad TEXT NOT NULL)").await }))
            .await
            .unwrap();
        // 64 writers, each committing 4 kB units back to back: about 300 MB
        // in all, with the writer never idle for a checkpoint to slip in. The
        // WAL may outgrow its bound (1 MB) by one group of at most 512 units
        // (about 2 MB), however loaded the machine: the writer restarts it
        // after the commit that passed the bound. Without the bound it
        // reaches 340 MB.
        let wal = dir.path().join("t.db-wal");
        let sampling = Arc::new(AtomicBool::new(true));
        let sampler = {
            let (wal, sampling) = (wal.clone(), Arc::clone(&sampling));
            tokio::spawn(async move {
                let mut largest = 0;
                while sampling.load(Ordering::Relaxed) {
                    largest = largest.max(std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0));
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                largest
            })
        };
        let writers: Vec<_> = (0..64)
            .map(|w| {
                let e = Arc::clone(&e);
                tokio::spawn(async move {
                    for i in 0..1_200 {
                        e.write(move |c| {
                            Box::pin(async move {
                                c.execute(
                                    "INSERT INTO t (v, pad) VALUES ($1, $2)",
                                    params![w * 10_000 + i, "x".repeat(4_000)],
                                )
                                .await
                            })
                        })
                        .await
                        .unwrap();
                    }
                })
            })
            .collect();
        for w in writers {
            w.await.unwrap();
        }
        sampling.store(false, Ordering::Relaxed);
        let largest = sampler.await.unwrap();
        assert_eq!(count_all(&e).await, 64 * 1_200);
        assert!(largest < 8_000_000, "the WAL grew to {largest} bytes for 300 MB written");
    }

    /// Answers a reply gives, in the order given, into `log`.
    fn logging_reply(log: &Arc<Mutex<Vec<String>>>, name: &str) -> Reply {
        let (log, name) = (Arc::clone(log), name.to_owned());
        Box::new(move |outcome| {
            let how = if outcome.is_ok() { "ok" } else { "unavailable" };
            log.lock().unwrap().push(format!("{name} {how}"));
        })
    }

    /// Every committed group is answered only after a sync that came after
    /// its commit, with that sync's outcome; groups that waited meanwhile
    /// share one sync.
    #[test]
    fn committed_groups_are_answered_after_one_shared_sync() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel::<Vec<Reply>>();
        tx.send(vec![logging_reply(&log, "a1"), logging_reply(&log, "a2")]).unwrap();
        tx.send(vec![logging_reply(&log, "b1")]).unwrap();
        drop(tx);
        let mut syncs = 0;
        let synced = Arc::clone(&log);
        sync_loop(&rx, || {
            syncs += 1;
            synced.lock().unwrap().push("sync".into());
            Ok(())
        });
        assert_eq!(syncs, 1);
        assert_eq!(*log.lock().unwrap(), ["sync", "a1 ok", "a2 ok", "b1 ok"]);
    }

    #[test]
    fn a_failed_sync_acknowledges_nothing() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel::<Vec<Reply>>();
        tx.send(vec![logging_reply(&log, "a")]).unwrap();
        drop(tx);
        sync_loop(&rx, || Err(std::io::Error::other("disk gone")));
        assert_eq!(*log.lock().unwrap(), ["a unavailable"]);
    }

    /// With `synchronous = FULL` asked for, the writer commits without a sync
    /// of its own (the sync thread's), every other connection with `FULL`,
    /// and writes are acknowledged and readable.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn durable_commits_are_synced_by_the_sync_thread() {
        let dir = tempfile::tempdir().unwrap();
        let e = Arc::new(SqliteEngine::open(SqliteOptions { synchronous_full: true, ..options(&dir) }).unwrap());
        let level =
            |c: &mut SqliteConn| c.conn.pragma_query_value(None, "synchronous", |r| r.get::<_, i64>(0)).unwrap();
        let writer = e.write(move |c| Box::pin(async move { Ok(level(c)) })).await.unwrap();
        let reader = e.read(move |c| Box::pin(async move { Ok(level(c)) })).await.unwrap();
        assert_eq!((writer, reader), (1, 2), "NORMAL on the writer, FULL elsewhere");
        e.write(|c| Box::pin(async move { c.batch("CREATE TABLE t (v INTEGER NOT NULL)").await })).await.unwrap();
        let writes: Vec<_> = (0..200)
            .map(|v| {
                let e = Arc::clone(&e);
                tokio::spawn(async move {
                    e.write(move |c| {
                        Box::pin(async move { c.execute("INSERT INTO t (v) VALUES ($1)", params![v]).await })
                    })
                    .await
                })
            })
            .collect();
        for w in writes {
            assert_eq!(w.await.unwrap().unwrap(), 1);
        }
        assert_eq!(count_all(&e).await, 200);
    }

    /// The sync goes to the WAL file the path names now: nothing to sync
    /// before there is one, and a new file after the old one was replaced.
    #[test]
    fn the_wal_file_is_reopened_when_replaced() {
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().unwrap();
        let mut wal = WalFile::new(&dir.path().join("t.db"));
        wal.sync().unwrap();
        assert!(wal.open.is_none());
        let path = dir.path().join("t.db-wal");
        std::fs::write(&path, b"first").unwrap();
        wal.sync().unwrap();
        let first = wal.open.as_ref().unwrap().1;
        std::fs::remove_file(&path).unwrap();
        std::fs::write(dir.path().join("other"), b"keeps the inode taken").unwrap();
        std::fs::write(&path, b"second").unwrap();
        wal.sync().unwrap();
        let second = wal.open.as_ref().unwrap().1;
        assert_ne!(first, second);
        assert_eq!(second, std::fs::metadata(&path).unwrap().ino());
    }

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

    /// A cached statement with a bound `LIMIT` is prepared once, not again
    /// at every run with a new binding.
    #[tokio::test]
    async fn a_statement_with_a_bound_limit_is_prepared_once() {
        let dir = tempfile::tempdir().unwrap();
        let e = engine(&dir);
        e.write(|c| {
            Box::pin(
                async move { c.batch("CREATE TABLE t (v INTEGER NOT NULL); INSERT INTO t VALUES (1), (2), (3)").await },
            )
        })
        .await
        .unwrap();
        let sql = "SELECT v FROM t WHERE v > $1 ORDER BY v LIMIT $2";
        let (runs, reprepared) = e
            .read(move |c| {
                Box::pin(async move {
                    let mut runs = Vec::new();
                    for limit in [1, 2, 3, 1] {
                        runs.push(c.query(sql, params![0, limit]).await?.len());
                    }
                    let stmt = c.conn.prepare_cached(&translate(sql)).map_err(map_err)?;
                    Ok((runs, stmt.get_status(rusqlite::StatementStatus::RePrepare)))
                })
            })
            .await
            .unwrap();
        assert_eq!(runs, [1, 2, 3, 1]);
        assert_eq!(reprepared, 0, "prepared again at a new binding of its limit");
    }

    async fn count_all(e: &SqliteEngine) -> i64 {
        e.read(|c| Box::pin(async move { c.query("SELECT COUNT(*) FROM t", &[]).await?[0].get::<i64>(0) }))
            .await
            .unwrap()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_acknowledged_unit_is_committed_and_a_failed_one_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let e = Arc::new(engine(&dir));
        e.write(|c| Box::pin(async move { c.batch("CREATE TABLE t (v INTEGER NOT NULL)").await })).await.unwrap();
        for round in 0..20 {
            let good = round * 2;
            let bad = round * 2 + 1;
            let ok_unit = e.write(move |c| {
                Box::pin(async move { c.execute("INSERT INTO t (v) VALUES ($1)", params![good]).await })
            });
            let failing = e.write(move |c| {
                Box::pin(async move {
                    c.execute("INSERT INTO t (v) VALUES ($1)", params![bad]).await?;
                    Err::<(), _>(StoreError::Other("fails after writing".into()))
                })
            });
            let panicking =
                e.write(|_c| -> futures_util::future::BoxFuture<'_, Result<(), StoreError>> { panic!("a bug") });
            let (ok, failed, panicked) = tokio::join!(ok_unit, failing, panicking);
            // Each failing unit reports its own failure, or, if an earlier unit
            // of its group already aborted, never ran and is told to retry.
            assert!(matches!(failed, Err(StoreError::Other(_) | StoreError::Unavailable(_))), "{failed:?}");
            assert!(matches!(panicked, Err(StoreError::Other(_) | StoreError::Unavailable(_))), "{panicked:?}");
            assert_eq!(count(&e, bad).await, 0, "a failed unit's writes never commit");
            // Either it shared the failed group and was told to retry, or it committed.
            match ok {
                Ok(_) => assert_eq!(count(&e, good).await, 1),
                Err(StoreError::Unavailable(_)) => assert_eq!(count(&e, good).await, 0),
                other => panic!("unexpected {other:?}"),
            }
        }
        // Alone, a failing unit gets its own error.
        let alone = e
            .write(|c| {
                Box::pin(async move {
                    c.execute("INSERT INTO t (v) VALUES (-2)", &[]).await?;
                    Err::<(), _>(StoreError::Other("mine".into()))
                })
            })
            .await;
        assert!(matches!(&alone, Err(StoreError::Other(m)) if m == "mine"), "{alone:?}");
        assert_eq!(count(&e, -2).await, 0);
        // The writer survives all of it.
        e.write(|c| Box::pin(async move { c.execute("INSERT INTO t (v) VALUES (-1)", &[]).await })).await.unwrap();
        assert_eq!(count(&e, -1).await, 1);
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

    /// Every CHECK constraint of a table the write paths insert into is
    /// checked in place: none builds a temporary index of its list (see
    /// migration 0008), and each still refuses what it refused before.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn hot_tables_check_their_lists_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let e = engine(&dir);
        crate::store::migrate::run(&e).await.unwrap();
        // Each insert with its two checked values: allowed ones, then
        // pairs each refused by a constraint.
        type Case = (&'static str, [&'static str; 2], &'static [[&'static str; 2]]);
        let cases: [Case; 4] = [
            (
                "INSERT INTO messages (account_id, id, conversation_id, role, content, status, fingerprint,
                     created_at, updated_at) VALUES ('a', 'm', 'c', $1, '', $2, '', 0, 0)",
                ["activity", "failed"],
                &[["robot", "failed"], ["user", "done"]],
            ),
            (
                "INSERT INTO message_feedback (id, account_id, message_id, conversation_id, bot_id, user_id,
                     feedback_type, status, source, created_at, updated_at, submitted_at)
                 VALUES ('f', 'a', 'm', 'c', 'b', 'u', 'positive', $1, $2, 0, 0, 0)",
                ["dismissed", "api"],
                &[["lost", "api"], ["pending", "robot"]],
            ),
            (
                "INSERT INTO votes (id, account_id, conversation_id, bot_id, user_id, direction, value, source,
                     activity_message_id, created_at) VALUES ('v', 'a', 'c', 'b', 'u', 'up', 1, $1, $2, 0)",
                ["reviewer", "m"],
                &[["robot", "m"]],
            ),
            (
                "INSERT INTO csat_answers (id, account_id, conversation_id, bot_id, question_code, user_id, value,
                     score, source, created_at, answered_at) VALUES ('s', 'a', 'c', 'b', $2, 'u', '5', 5, $1, 0, 0)",
                ["end_user", "q"],
                &[["robot", "q"]],
            ),
        ];
        for (sql, allowed, refused) in cases {
            // Explained on the writer: a read-only connection leaves the
            // checks out of an insert's program.
            let explain = format!("EXPLAIN {sql}");
            let opcodes: Vec<String> = e
                .write(move |c| {
                    Box::pin(async move {
                        let rows = c.query(&explain, params![allowed[0], allowed[1]]).await?;
                        rows.iter().map(|r| r.get::<String>(1)).collect()
                    })
                })
                .await
                .unwrap();
            assert!(!opcodes.iter().any(|o| o == "OpenEphemeral"), "a temporary index in {sql}: {opcodes:?}");
            let attempt = |[first, second]: [&'static str; 2]| {
                e.write(move |c| Box::pin(async move { c.execute(sql, params![first, second]).await }))
            };
            // Allowed values pass the constraints and fail later, on the
            // foreign keys (no parent rows are inserted).
            let error = attempt(allowed).await.unwrap_err().to_string();
            assert!(error.contains("FOREIGN KEY"), "{sql}: {error}");
            for &values in refused {
                let error = attempt(values).await.unwrap_err().to_string();
                assert!(error.contains("CHECK"), "{values:?} in {sql}: {error}");
            }
        }
        let check = e.read(|c| Box::pin(async move { c.query("PRAGMA integrity_check", &[]).await })).await.unwrap();
        assert_eq!(check[0].get::<String>(0).unwrap(), "ok");
    }

    const MESSAGE_ROW: &str = "INSERT INTO messages (account_id, id, conversation_id, role, content, request_id,
            status, fingerprint, created_at, updated_at) VALUES ('default', $1, 'c', 'user', '', $2, 'completed', '', 0, 0)";

    /// The schema as of migration `version`, with a bot, a conversation, and
    /// in it the messages m1 and m3 without a request id and m2 with `r1`.
    async fn messages_as_of(e: &SqliteEngine, version: i64) {
        assert_eq!(crate::store::migrate::run_to(e, version).await.unwrap().len() as i64, version);
        e.write(|c| {
            Box::pin(async move {
                c.batch(
                    "INSERT INTO bots (id, account_id, name, created_at) VALUES ('b', 'default', 'B', 0);
                     INSERT INTO conversations (account_id, id, bot_id, created_at, updated_at)
                     VALUES ('default', 'c', 'b', 0, 0);",
                )
                .await
            })
        })
        .await
        .unwrap();
        for (id, request_id) in [("m1", None), ("m2", Some("r1")), ("m3", None)] {
            assert_eq!(insert_message(e, id, request_id).await.unwrap(), 1);
        }
    }

    async fn insert_message(
        e: &SqliteEngine,
        id: &'static str,
        request_id: Option<&'static str>,
    ) -> Result<u64, StoreError> {
        e.write(move |c| Box::pin(async move { c.execute(MESSAGE_ROW, params![id, request_id]).await })).await
    }

    /// The first column of each row of `sql`, as text.
    async fn texts(e: &SqliteEngine, sql: &'static str) -> Vec<String> {
        e.read(move |c| Box::pin(async move { c.query(sql, &[]).await?.iter().map(|r| r.get::<String>(0)).collect() }))
            .await
            .unwrap()
    }

    /// The steps of the plan of `sql` (with parameters `$1`, `$2`).
    async fn plan(e: &SqliteEngine, sql: &'static str) -> Vec<String> {
        e.read(move |c| {
            Box::pin(async move {
                let rows = c.query(&format!("EXPLAIN QUERY PLAN {sql}"), params!["default", "x"]).await?;
                rows.iter().map(|r| r.get::<String>(3)).collect()
            })
        })
        .await
        .unwrap()
    }

    /// The messages' indexes, by name, with their definitions.
    const MESSAGE_INDEXES: &str = "SELECT name || ': ' || COALESCE(sql, '-') FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'messages' ORDER BY name";

    /// Migration 0013 moves the uniqueness of request ids from the table's
    /// constraint into a partial index, in place: the messages stored
    /// before stay, the file stays sound, lookups by request id use the new
    /// index, and the rule is what it was.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn request_ids_move_into_a_partial_index_with_the_messages_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let e = engine(&dir);
        messages_as_of(&e, 12).await;
        assert_eq!(crate::store::migrate::run_to(&e, 13).await.unwrap(), [13]);

        assert_eq!(texts(&e, "PRAGMA integrity_check").await, ["ok"]);
        assert_eq!(
            texts(&e, MESSAGE_INDEXES).await,
            [
                "messages_by_request_id: CREATE UNIQUE INDEX messages_by_request_id ON messages (account_id, request_id) WHERE request_id IS NOT NULL",
                "messages_in_order: CREATE INDEX messages_in_order ON messages (account_id, conversation_id, created_at, seq)",
                "sqlite_autoindex_messages_1: -",
            ]
        );
        let table = texts(&e, "SELECT sql FROM sqlite_schema WHERE name = 'messages'").await;
        assert!(table[0].contains("UNIQUE (account_id, id)") && !table[0].contains("request_id),"), "{}", table[0]);
        let ids = texts(&e, "SELECT id || '=' || COALESCE(request_id, '-') FROM messages ORDER BY seq").await;
        assert_eq!(ids, ["m1=-", "m2=r1", "m3=-"]);
        let by_request = plan(&e, "SELECT id FROM messages WHERE account_id = $1 AND request_id = $2").await;
        assert!(by_request.iter().any(|step| step.contains("USING INDEX messages_by_request_id")), "{by_request:?}");

        // The rule: a request id belongs to one message; any number have none.
        assert!(matches!(insert_message(&e, "m4", Some("r1")).await, Err(StoreError::Conflict(_))));
        assert_eq!(insert_message(&e, "m4", None).await.unwrap(), 1);
        assert_eq!(insert_message(&e, "m5", Some("r2")).await.unwrap(), 1);
        assert_eq!(texts(&e, "PRAGMA integrity_check").await, ["ok"]);
    }

    /// Migration 0014 puts the column that tells messages apart before the
    /// account in each of the messages' indexes, in place: the rows stay,
    /// the file stays sound, the foreign keys that point at messages still
    /// find them, each lookup uses its index, and the rules are what they were.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn message_keys_lead_with_the_message_with_the_rows_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let e = engine(&dir);
        messages_as_of(&e, 13).await;
        assert_eq!(crate::store::migrate::run_to(&e, 14).await.unwrap(), [14]);

        assert_eq!(texts(&e, "PRAGMA integrity_check").await, ["ok"]);
        assert_eq!(
            texts(&e, MESSAGE_INDEXES).await,
            [
                "messages_by_id: CREATE UNIQUE INDEX messages_by_id ON messages (id, account_id)",
                "messages_by_request_id: CREATE UNIQUE INDEX messages_by_request_id ON messages (request_id, account_id) WHERE request_id IS NOT NULL",
                "messages_in_order: CREATE INDEX messages_in_order ON messages (conversation_id, account_id, created_at, seq)",
            ]
        );
        let ids = texts(&e, "SELECT id || '=' || COALESCE(request_id, '-') FROM messages ORDER BY seq").await;
        assert_eq!(ids, ["m1=-", "m2=r1", "m3=-"]);
        for (sql, index) in [
            ("SELECT content FROM messages WHERE account_id = $1 AND id = $2", "messages_by_id"),
            ("SELECT id FROM messages WHERE account_id = $1 AND request_id = $2", "messages_by_request_id"),
            (
                "SELECT id FROM messages WHERE account_id = $1 AND conversation_id = $2 ORDER BY created_at, seq",
                "messages_in_order",
            ),
        ] {
            let steps = plan(&e, sql).await;
            assert!(steps.iter().any(|s| s.contains(&format!("USING INDEX {index}"))), "{sql}: {steps:?}");
            assert!(!steps.iter().any(|s| s.contains("TEMP B-TREE")), "{sql}: {steps:?}");
        }

        // The rules: an id and a request id belong to one message each.
        assert!(matches!(insert_message(&e, "m1", None).await, Err(StoreError::Conflict(_))));
        assert!(matches!(insert_message(&e, "m4", Some("r1")).await, Err(StoreError::Conflict(_))));
        assert_eq!(insert_message(&e, "m4", None).await.unwrap(), 1);
        // A thumb points at a message through a foreign key, which needs a
        // unique index on (account, id): it still finds one, and still
        // refuses a message that does not exist.
        let thumb = |message: &'static str| {
            e.write(move |c| {
                Box::pin(async move {
                    c.execute(
                        "INSERT INTO message_feedback (id, account_id, message_id, conversation_id, bot_id, user_id,
                             feedback_type, status, source, created_at, updated_at, submitted_at)
                         VALUES ($1, 'default', $1, 'c', 'b', 'u', 'positive', 'pending', 'api', 0, 0, 0)",
                        params![message],
                    )
                    .await
                })
            })
        };
        assert_eq!(thumb("m2").await.unwrap(), 1);
        let missing = thumb("m9").await.unwrap_err().to_string();
        assert!(missing.contains("FOREIGN KEY constraint failed"), "{missing}");
        assert_eq!(texts(&e, "PRAGMA integrity_check").await, ["ok"]);
    }

    /// Migration 0016 adds an index on the conversations with the id first,
    /// and the foreign key check of every message inserted searches it
    /// rather than the table constraint's index, which begins with the
    /// account: the insert's program opens the new index's root page. The
    /// rules stay: a message needs its conversation, and a conversation id
    /// belongs to one conversation of an account.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_message_finds_its_conversation_by_id_first() {
        let dir = tempfile::tempdir().unwrap();
        let e = engine(&dir);
        messages_as_of(&e, 15).await;
        assert_eq!(crate::store::migrate::run_to(&e, 16).await.unwrap(), [16]);

        assert_eq!(texts(&e, "PRAGMA integrity_check").await, ["ok"]);
        assert_eq!(
            texts(&e, "SELECT sql FROM sqlite_schema WHERE name = 'conversations_by_id'").await,
            ["CREATE UNIQUE INDEX conversations_by_id ON conversations (id, account_id)"]
        );
        let root: Vec<String> =
            texts(&e, "SELECT CAST(rootpage AS TEXT) FROM sqlite_schema WHERE name = 'conversations_by_id'").await;
        let opened: Vec<String> = e
            .read(|c| {
                Box::pin(async move {
                    let rows = c.query(&format!("EXPLAIN {MESSAGE_ROW}"), params!["m9", None::<&str>]).await?;
                    rows.iter()
                        .filter(|r| r.get::<String>(1).is_ok_and(|op| op == "OpenRead"))
                        .map(|r| r.get::<i64>(3).map(|page| page.to_string()))
                        .collect()
                })
            })
            .await
            .unwrap();
        assert!(opened.contains(&root[0]), "the check opens pages {opened:?}, not the index's root {root:?}");

        assert_eq!(insert_message(&e, "m4", None).await.unwrap(), 1);
        let orphan = e
            .write(|c| {
                Box::pin(async move {
                    c.execute(&MESSAGE_ROW.replace("'c', 'user'", "'nope', 'user'"), params!["m5", None::<&str>]).await
                })
            })
            .await
            .unwrap_err()
            .to_string();
        assert!(orphan.contains("FOREIGN KEY constraint failed"), "{orphan}");
        let again = e
            .write(|c| {
                Box::pin(async move {
                    c.execute(
                        "INSERT INTO conversations (account_id, id, bot_id, created_at, updated_at)
                         VALUES ('default', 'c', 'b', 1, 1)",
                        &[],
                    )
                    .await
                })
            })
            .await;
        assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
        assert_eq!(texts(&e, "SELECT id FROM messages ORDER BY seq").await, ["m1", "m2", "m3", "m4"]);
        assert_eq!(texts(&e, "PRAGMA integrity_check").await, ["ok"]);
    }

    /// Migration 0013 edits the messages table's definition in place. Where
    /// the definition is worded otherwise than migration 0001 wrote it, the
    /// edit misses: the migration then fails, and its transaction leaves the
    /// schema as it was, rather than a constraint without its index.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_request_id_migration_refuses_a_definition_it_does_not_know() {
        let dir = tempfile::tempdir().unwrap();
        let e = engine(&dir);
        crate::store::migrate::run_to(&e, 12).await.unwrap();
        e.write(|c| {
            Box::pin(async move {
                c.batch(
                    "PRAGMA writable_schema = ON;
                     UPDATE sqlite_schema
                     SET sql = replace(sql, '    UNIQUE (account_id, request_id),', '    UNIQUE  (account_id, request_id),')
                     WHERE type = 'table' AND name = 'messages';
                     PRAGMA writable_schema = RESET;
                     CREATE TABLE plaudit_schema_reload (x INTEGER);
                     DROP TABLE plaudit_schema_reload;",
                )
                .await
            })
        })
        .await
        .unwrap();
        let failed = crate::store::migrate::run(&e).await.unwrap_err().to_string();
        assert!(failed.contains("CHECK constraint failed"), "{failed}");
        assert_eq!(texts(&e, "PRAGMA integrity_check").await, ["ok"]);
        assert_eq!(
            texts(&e, "SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'messages' ORDER BY name")
                .await,
            ["messages_in_order", "sqlite_autoindex_messages_1", "sqlite_autoindex_messages_2"]
        );
        assert_eq!(texts(&e, "SELECT CAST(MAX(version) AS TEXT) FROM plaudit_migrations").await, ["12"]);
    }
}
