//! A SQLite connection speaking the shared SQL: how statements are
//! prepared (cached, with plans that never depend on bound values), how
//! values are bound and read, and how driver errors become [`StoreError`]s.

use std::panic::AssertUnwindSafe;

use futures_util::FutureExt;
use rusqlite::{OpenFlags, ToSql, types::ToSqlOutput};

use super::SqliteOptions;
use crate::store::{
    StoreError, because,
    sql::{Conn, Dialect, Param, Row, TxLocal, Value, Work},
};

/// The page cache of the read-write connections, in KiB: the writer's
/// keeps the upper pages of every index it writes to in memory (the
/// checkpointer's, which copies WAL frames, barely fills its own).
pub(super) const WRITER_CACHE_KIB: i64 = 16_000;

/// Each reader connection's page cache, in KiB. Reads at scale land on
/// pages scattered over gigabytes, which a few more megabytes do not hold:
/// at L, 4 MB exported faster than 16 MB and left the inbox, overview and
/// thumbs as they were, while four readers' caches held 48 MB less.
pub(super) const READER_CACHE_KIB: i64 = 4_000;

/// A SQLite connection speaking the shared SQL.
pub struct SqliteConn {
    pub(super) conn: rusqlite::Connection,
    /// What the units of the open transaction leave for its commit.
    tx_local: TxLocal,
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
pub(super) fn translate(sql: &str) -> String {
    sql.replace('$', "?")
}

pub(super) fn map_err(e: rusqlite::Error) -> StoreError {
    use rusqlite::ErrorCode;
    match &e {
        rusqlite::Error::SqliteFailure(f, _) => match f.code {
            ErrorCode::ConstraintViolation => StoreError::conflict(e),
            ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked | ErrorCode::CannotOpen | ErrorCode::DiskFull => {
                StoreError::unavailable(e)
            }
            _ => StoreError::other(e),
        },
        _ => StoreError::other(e),
    }
}

impl SqliteConn {
    /// Opens a connection. `synced_elsewhere`: its commits are synced by the
    /// sync thread (`durability.rs`), not by SQLite (the writer, when commits must be durable).
    pub(super) fn open(opts: &SqliteOptions, read_only: bool, synced_elsewhere: bool) -> Result<Self, StoreError> {
        let flags = if read_only {
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI
        } else {
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX
                | OpenFlags::SQLITE_OPEN_URI
        };
        let conn = rusqlite::Connection::open_with_flags(&opts.path, flags)
            .map_err(|e| StoreError::unavailable(because(format!("cannot open {}", opts.path.display()), e)))?;
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
        // `secure_delete`: what a delete frees is overwritten with zeros, so
        // that an erased person's words do not linger in the file (SPEC §16).
        conn.execute_batch(&format!(
            "PRAGMA foreign_keys = ON; PRAGMA synchronous = {sync}; PRAGMA temp_store = MEMORY; PRAGMA cache_size = -{cache};
             PRAGMA secure_delete = ON;"
        ))
        .map_err(map_err)?;
        Ok(Self { conn, tx_local: TxLocal::default() })
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

    fn tx_local(&mut self) -> &mut TxLocal {
        &mut self.tx_local
    }
}

/// Runs work on a SQLite connection. Its futures never wait (SQLite calls are
/// synchronous), so polling once always finishes them.
pub(super) fn run_now<T>(conn: &mut SqliteConn, work: impl Work<SqliteConn, T>) -> Result<T, StoreError> {
    match std::panic::catch_unwind(AssertUnwindSafe(|| work(conn).now_or_never())) {
        Ok(Some(result)) => result,
        Ok(None) => Err(StoreError::other("a SQLite unit of work did not finish at once")),
        Err(_) => Err(StoreError::other("a SQLite unit of work panicked")),
    }
}

#[cfg(test)]
mod tests {
    use super::{super::tests::engine, *};
    use crate::{params, store::sql::Engine};

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
}
