//! Durability and checkpoints, off the writer's path.
//!
//! With durable commits (`sqlite_synchronous = full`) the writer commits
//! with SQLite's `synchronous = NORMAL` and hands each group's answers to
//! the sync thread ([`sync_loop`]), which syncs the WAL once for every group
//! committed since its last sync and only then answers them. Checkpoints
//! (copying the WAL back into the database file, with its own `fsync`) run on
//! a thread and connection of their own ([`checkpoint_loop`]), so that a
//! large database's checkpoint never stalls the commits queued behind it.
//! Only when the WAL has outgrown its bound (the writer outpaced the
//! copying) does the writer itself, between two commits, finish the copy and
//! restart the WAL ([`restart_wal`]): a checkpoint from another connection
//! never finds the writer idle.

use std::{
    path::PathBuf,
    sync::atomic::{AtomicBool, Ordering},
    time::Duration,
};

use super::{Reply, conn::SqliteConn};
use crate::store::{StoreError, because};

/// Copies committed pages from the WAL into the database file without
/// blocking anyone (`PASSIVE`): a few times a second when the database is
/// quiet, and every few milliseconds for a while after the writer last added
/// pages, so that little is left to copy when the WAL restarts. Starts no
/// copy while the writer is `restarting` the WAL.
pub(super) fn checkpoint_loop(conn: &SqliteConn, closing: &AtomicBool, restarting: &AtomicBool) {
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
pub(super) fn restart_wal(conn: &SqliteConn) {
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
    pub(super) static WAL_PAGES: std::cell::Cell<i64> = const { std::cell::Cell::new(0) };
}

/// The writer's WAL hook, called by SQLite after each commit.
#[allow(clippy::unnecessary_wraps)] // the signature SQLite's hook takes
pub(super) fn note_wal_pages(_: &rusqlite::hooks::Wal, pages: std::ffi::c_int) -> rusqlite::Result<()> {
    WAL_PAGES.set(i64::from(pages));
    Ok(())
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
pub(super) fn sync_loop(groups: &std::sync::mpsc::Receiver<Vec<Reply>>, mut sync: impl FnMut() -> std::io::Result<()>) {
    while let Ok(mut waiting) = groups.recv() {
        while let Ok(more) = groups.try_recv() {
            waiting.extend(more);
        }
        let synced = sync().map_err(|e| {
            tracing::error!(error = %e, "syncing the SQLite WAL failed; its commits are not acknowledged");
            StoreError::unavailable(because("the commit could not be made durable; retry", e))
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
pub(super) struct WalFile {
    path: PathBuf,
    open: Option<(std::fs::File, u64)>,
}

impl WalFile {
    pub(super) fn new(database: &std::path::Path) -> Self {
        let mut path = database.as_os_str().to_owned();
        path.push("-wal");
        Self { path: PathBuf::from(path), open: None }
    }

    pub(super) fn sync(&mut self) -> std::io::Result<()> {
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

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::{
        super::{
            SqliteEngine, SqliteOptions,
            tests::{count_all, engine, options},
        },
        *,
    };
    use crate::{
        params,
        store::sql::{Conn, Engine},
    };

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
}
