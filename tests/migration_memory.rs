//! A start that migrates a large SQLite file hands back the memory the
//! migration's index build left in the writer's caches. A test binary of its
//! own, so that no other test allocates meanwhile.

mod common;

use common::resident_kb;
use plaudit::store::{
    self, ConnectOptions,
    sql::{Conn, Engine},
    sqlite::{SqliteEngine, SqliteOptions, WAL_FRAMES_BOUND},
};

/// Hands glibc's free pages back, so that resident memory counts only what
/// is held (SQLite allocates through the C library's `malloc`).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
fn trim() {
    // SAFETY: malloc_trim takes no pointers and may be called from any thread
    // at any time; it only releases pages no allocation holds.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_start_that_builds_an_index_keeps_no_cache_full() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plaudit.db");
    // A file at version 15 with 300,000 conversations: migration 0016 then
    // builds an index over them all.
    {
        let e = SqliteEngine::open(SqliteOptions {
            path: path.clone(),
            busy_timeout: std::time::Duration::from_secs(5),
            synchronous_full: false,
            readers: 1,
            wal_frames_bound: WAL_FRAMES_BOUND,
        })
        .unwrap();
        store::migrate::run_to(&e, 15).await.unwrap();
        e.write(|c| {
            Box::pin(async move {
                c.batch(
                    "INSERT INTO bots (id, account_id, name, created_at) VALUES ('b', 'default', 'B', 0);
                     WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300000)
                     INSERT INTO conversations (account_id, id, bot_id, created_at, updated_at)
                     SELECT 'default', printf('conversation-%08d-%s', i, hex(randomblob(12))), 'b', i, i FROM n",
                )
                .await
            })
        })
        .await
        .unwrap();
    }
    trim();
    let before = resident_kb();
    let url = format!("sqlite://{}", path.display());
    let opened =
        store::connect(&url, &ConnectOptions { sqlite_readers: 1, ..ConnectOptions::default() }).await.unwrap();
    trim();
    let after = resident_kb();
    assert!(after < before + 5 * 1024, "resident {before} kB before the migrating start, {after} kB after");
    drop(opened);
}
