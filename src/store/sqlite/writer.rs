//! The writer: one thread owns the only writing connection and commits
//! whatever is queued in one transaction (group commit). Every caller is
//! answered only after the shared `COMMIT` returned (and, with durable
//! commits, after the sync thread synced it). Units of work run without
//! savepoints: a savepoint inside a large transaction re-journals every page
//! it touches, which measured as more than half of the writer's time.
//! Instead, units report rule violations without writing anything (see
//! `Engine::write`), and a unit that truly fails rolls its whole group back.

use std::sync::{
    Arc, OnceLock,
    atomic::{AtomicBool, Ordering},
};

use tokio::sync::mpsc;

use super::{
    Job, Reply,
    conn::{SqliteConn, map_err, run_now},
    durability::{WAL_PAGES, restart_wal},
};
use crate::store::{
    StoreError, because,
    sql::{BeforeCommit, Conn},
};

/// Most units of work committed in one transaction.
const MAX_GROUP: usize = 512;

/// Commits queued work in groups. Before a group, restarts the WAL if its
/// last commit left it past `bound` pages (the commit's own report, so the
/// WAL outgrows its bound by at most one group however busy the machine),
/// with `restarting` set meanwhile. With a `syncer`, a committed group's
/// answers go to the sync thread, which gives them once the commit is on
/// disk; the writer goes on with the next group meanwhile. The work set
/// `before_commit` runs once a group, before its `COMMIT`.
pub(super) fn writer_loop(
    mut conn: SqliteConn,
    mut rx: mpsc::UnboundedReceiver<Job>,
    bound: i64,
    restarting: &AtomicBool,
    syncer: Option<&std::sync::mpsc::Sender<Vec<Reply>>>,
    before_commit: &OnceLock<BeforeCommit<SqliteConn>>,
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
        // What the group's units left for its end, written once for all of them.
        let flushed = match before_commit.get() {
            Some(hook) if !aborted => {
                let hook = Arc::clone(hook);
                run_now(&mut conn, move |c: &mut SqliteConn| hook(c))
            }
            _ => Ok(()),
        };
        conn.tx_local().clear();
        let committed = if aborted {
            let _ = conn.conn.execute_batch("ROLLBACK");
            Err(StoreError::unavailable("another write of the same commit failed; retry"))
        } else if let Err(e) = flushed {
            tracing::error!(error = %e, "the work before a commit failed; its writes are rolled back");
            let _ = conn.conn.execute_batch("ROLLBACK");
            Err(StoreError::unavailable(because("the commit could not be completed; retry", e)))
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
                    let gone = Err(StoreError::unavailable("the SQLite sync thread has stopped"));
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

#[cfg(test)]
mod tests {
    use std::{
        sync::{
            Arc,
            atomic::{AtomicBool, Ordering},
        },
        time::Duration,
    };

    use super::super::{
        SqliteEngine, SqliteOptions,
        tests::{count, count_all, engine, options},
    };
    use crate::{
        params,
        store::{
            StoreError,
            sql::{Conn, Engine},
        },
    };

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
                    Err::<(), _>(StoreError::other("fails after writing"))
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
                    Err::<(), _>(StoreError::other("mine"))
                })
            })
            .await;
        assert!(matches!(&alone, Err(StoreError::Other(m)) if m.to_string() == "mine"), "{alone:?}");
        assert_eq!(count(&e, -2).await, 0);
        // The writer survives all of it.
        e.write(|c| Box::pin(async move { c.execute("INSERT INTO t (v) VALUES (-1)", &[]).await })).await.unwrap();
        assert_eq!(count(&e, -1).await, 1);
    }
}
