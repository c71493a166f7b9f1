//! Queries over lists of ids (the transcripts of an export page, the
//! conversations of a batch): cut into statements of a few list lengths, so
//! that each connection prepares a few statement texts, and run together
//! (one round trip on PostgreSQL).

use crate::{
    domain::page::MAX_LIMIT,
    store::{
        StoreError,
        sql::{Conn, Row, Value, account_and, list_len, placeholders},
    },
};

/// A statement with its parameters, to be run later.
pub(super) type Read = (String, Vec<Value>);

/// The statements of a query `WHERE account_id = $1 AND … IN (…)` over
/// `ids`, [`MAX_LIMIT`] ids a statement, in order. `sql` is given the list's
/// placeholders (`$2, $3, …`) and the number of the first parameter after
/// them, where `after`'s values go. The list is padded to one of a few
/// lengths ([`list_len`]) by repeating its last id, which selects nothing
/// more.
pub(super) fn reads_by_ids(
    account_id: &str,
    ids: &[String],
    after: &[Value],
    sql: impl Fn(&str, usize) -> String,
) -> Vec<Read> {
    ids.chunks(MAX_LIMIT as usize)
        .map(|chunk| {
            let n = list_len(chunk.len(), MAX_LIMIT as usize);
            let mut params = account_and(account_id, chunk);
            if let Some(last) = params.last().cloned() {
                params.resize(n + 1, last);
            }
            params.extend_from_slice(after);
            (sql(&placeholders(2, n), n + 2), params)
        })
        .collect()
}

/// The rows of the statements of [`reads_by_ids`], in order (run as one
/// set of [`rows_of_sets`]).
pub(super) async fn rows_by_ids(
    c: &mut impl Conn,
    account_id: &str,
    ids: &[String],
    after: &[Value],
    sql: impl Fn(&str, usize) -> String,
) -> Result<Vec<Row>, StoreError> {
    let [rows] = rows_of_sets(c, [&reads_by_ids(account_id, ids, after, sql)]).await?;
    Ok(rows)
}

/// The rows of `N` sets of statements, each set's in order, all run at once
/// ([`Conn::query_many`]: one round trip on PostgreSQL).
pub(super) async fn rows_of_sets<const N: usize>(
    c: &mut impl Conn,
    sets: [&[Read]; N],
) -> Result<[Vec<Row>; N], StoreError> {
    let statements: Vec<(&str, &[Value])> =
        sets.iter().flat_map(|set| set.iter().map(|(sql, params)| (sql.as_str(), params.as_slice()))).collect();
    let mut results = c.query_many(&statements).await?.into_iter();
    Ok(std::array::from_fn(|i| results.by_ref().take(sets[i].len()).flatten().collect()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{
        sql::Engine,
        sqlite::{SqliteEngine, SqliteOptions, WAL_FRAMES_BOUND},
    };

    /// Sets of statements run at once come back each with its own rows, in
    /// order, whatever the number of statements in each (none included).
    #[tokio::test]
    async fn sets_of_reads_come_back_apart_and_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let engine = SqliteEngine::open(SqliteOptions {
            path: dir.path().join("t.db"),
            busy_timeout: std::time::Duration::from_secs(5),
            synchronous_full: false,
            readers: 2,
            wal_frames_bound: WAL_FRAMES_BOUND,
        })
        .unwrap();
        let read = |sql: &str, n: i64| -> Read { (sql.to_owned(), vec![Value::Int(n)]) };
        let first = [read("SELECT $1 UNION ALL SELECT $1 + 1", 1), read("SELECT $1", 3)];
        let third = [read("SELECT $1 WHERE $1 > 0", 4), read("SELECT $1 WHERE $1 < 0", 5), read("SELECT $1", 6)];
        let sets = engine
            .read(move |c| {
                Box::pin(async move {
                    let sets = rows_of_sets(c, [&first[..], &[], &third[..]]).await?;
                    let ints = |rows: &[Row]| rows.iter().map(|r| r.get::<i64>(0)).collect::<Result<Vec<_>, _>>();
                    Ok([ints(&sets[0])?, ints(&sets[1])?, ints(&sets[2])?])
                })
            })
            .await
            .unwrap();
        assert_eq!(sets, [vec![1, 2, 3], vec![], vec![4, 6]]);
    }
}
