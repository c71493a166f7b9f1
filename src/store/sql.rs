//! The small seam between the shared SQL and the two engines.
//!
//! All queries of the product are written once, in the store's area modules,
//! against the [`Conn`] trait: portable SQL with `$1`-style placeholders,
//! integers for times (UTC milliseconds) and flags, text for ids and JSON.
//! Each engine implements `Conn` (how to run a statement) and [`Engine`] (how
//! to get a connection for a read, and how to run a write transaction, with
//! a generic hook that runs just before it commits). Nothing here knows a
//! product concept.

use std::{any::Any, future::Future, sync::Arc};

use futures_util::future::BoxFuture;

use super::StoreError;

/// A value bound to a statement or read from a row.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Self::Int(v)
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Self::Int(i64::from(v))
    }
}
impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Self::Real(v)
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Self::Text(v)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Self::Text(v.to_owned())
    }
}
impl From<&String> for Value {
    fn from(v: &String) -> Self {
        Self::Text(v.clone())
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Self::Null, Into::into)
    }
}
impl From<crate::domain::Timestamp> for Value {
    fn from(v: crate::domain::Timestamp) -> Self {
        Self::Int(v.0)
    }
}
impl From<&crate::domain::ids::Uuid> for Value {
    fn from(v: &crate::domain::ids::Uuid) -> Self {
        Self::Text(v.as_str().to_owned())
    }
}
impl From<&crate::domain::ids::ClientId> for Value {
    fn from(v: &crate::domain::ids::ClientId) -> Self {
        Self::Text(v.as_str().to_owned())
    }
}

/// A value bound to a statement, borrowing its text: for a statement run
/// many times over (see [`Conn::execute_each`]), whose parameters then cost
/// no copy of each row's text.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Param<'a> {
    Null,
    Int(i64),
    Real(f64),
    Text(&'a str),
}

impl<'a> From<&'a str> for Param<'a> {
    fn from(v: &'a str) -> Self {
        Self::Text(v)
    }
}
impl From<i64> for Param<'_> {
    fn from(v: i64) -> Self {
        Self::Int(v)
    }
}
impl From<f64> for Param<'_> {
    fn from(v: f64) -> Self {
        Self::Real(v)
    }
}
impl From<crate::domain::Timestamp> for Param<'_> {
    fn from(v: crate::domain::Timestamp) -> Self {
        Self::Int(v.0)
    }
}
impl<'a, T: Into<Param<'a>>> From<Option<T>> for Param<'a> {
    fn from(v: Option<T>) -> Self {
        v.map_or(Self::Null, Into::into)
    }
}
impl<'a> From<&'a Value> for Param<'a> {
    fn from(v: &'a Value) -> Self {
        match v {
            Value::Null => Self::Null,
            Value::Int(i) => Self::Int(*i),
            Value::Real(r) => Self::Real(*r),
            Value::Text(s) => Self::Text(s),
        }
    }
}
impl From<Param<'_>> for Value {
    fn from(v: Param<'_>) -> Self {
        match v {
            Param::Null => Self::Null,
            Param::Int(i) => Self::Int(i),
            Param::Real(r) => Self::Real(r),
            Param::Text(s) => Self::Text(s.to_owned()),
        }
    }
}

/// Builds a parameter list: `params![a, b, c]`.
#[macro_export]
macro_rules! params {
    ($($v:expr),* $(,)?) => { &[$($crate::store::sql::Value::from($v)),*][..] };
}

/// One result row, read by column index.
#[derive(Debug, Clone)]
pub struct Row(pub Vec<Value>);

/// Reads a typed value out of a [`Value`].
pub trait FromValue: Sized {
    fn from_value(v: &Value) -> Option<Self>;

    /// The value moved out of `v`, or `v` back where it is not a `Self`.
    /// Text moves rather than being copied.
    fn from_owned(v: Value) -> Result<Self, Value> {
        Self::from_value(&v).ok_or(v)
    }
}

impl FromValue for i64 {
    fn from_value(v: &Value) -> Option<Self> {
        match v {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }
}
impl FromValue for f64 {
    fn from_value(v: &Value) -> Option<Self> {
        match v {
            Value::Real(r) => Some(*r),
            #[allow(clippy::cast_precision_loss)]
            Value::Int(i) => Some(*i as f64),
            _ => None,
        }
    }
}
impl FromValue for bool {
    fn from_value(v: &Value) -> Option<Self> {
        i64::from_value(v).map(|i| i != 0)
    }
}
impl FromValue for String {
    fn from_value(v: &Value) -> Option<Self> {
        match v {
            Value::Text(s) => Some(s.clone()),
            _ => None,
        }
    }

    fn from_owned(v: Value) -> Result<Self, Value> {
        match v {
            Value::Text(s) => Ok(s),
            other => Err(other),
        }
    }
}
impl FromValue for crate::domain::Timestamp {
    fn from_value(v: &Value) -> Option<Self> {
        i64::from_value(v).map(crate::domain::Timestamp)
    }
}
impl FromValue for crate::domain::ids::Uuid {
    fn from_value(v: &Value) -> Option<Self> {
        String::from_value(v).map(crate::domain::ids::Uuid::from_db)
    }

    fn from_owned(v: Value) -> Result<Self, Value> {
        String::from_owned(v).map(crate::domain::ids::Uuid::from_db)
    }
}
impl<T: FromValue> FromValue for Option<T> {
    fn from_value(v: &Value) -> Option<Self> {
        match v {
            Value::Null => Some(None),
            other => T::from_value(other).map(Some),
        }
    }

    fn from_owned(v: Value) -> Result<Self, Value> {
        match v {
            Value::Null => Ok(None),
            other => T::from_owned(other).map(Some),
        }
    }
}

impl Row {
    /// The value of column `i` as `T`; a type mismatch is a bug, reported as such.
    pub fn get<T: FromValue>(&self, i: usize) -> Result<T, StoreError> {
        self.0.get(i).and_then(T::from_value).ok_or_else(|| self.mismatch(i))
    }

    /// The value of column `i` as `T`, moved out of the row (which then holds
    /// NULL there): for text a row is turned into, which then costs no copy.
    /// A mismatch leaves the row as it was.
    pub fn take<T: FromValue>(&mut self, i: usize) -> Result<T, StoreError> {
        let Some(slot) = self.0.get_mut(i) else { return Err(self.mismatch(i)) };
        match T::from_owned(std::mem::replace(slot, Value::Null)) {
            Ok(v) => Ok(v),
            Err(v) => {
                *slot = v;
                Err(self.mismatch(i))
            }
        }
    }

    /// The text of column `i`, borrowed: for a value only parsed (an enum's
    /// name, a JSON document), which then costs no copy.
    pub fn text(&self, i: usize) -> Result<&str, StoreError> {
        match self.0.get(i) {
            Some(Value::Text(s)) => Ok(s),
            _ => Err(self.mismatch(i)),
        }
    }

    /// The text of column `i`, borrowed, or `None` where it is NULL.
    pub fn text_opt(&self, i: usize) -> Result<Option<&str>, StoreError> {
        match self.0.get(i) {
            Some(Value::Null) => Ok(None),
            _ => self.text(i).map(Some),
        }
    }

    fn mismatch(&self, i: usize) -> StoreError {
        StoreError::other(format!("column {i} has an unexpected type: {:?}", self.0.get(i)))
    }
}

/// The condition that the language `column` (lower case) is a language
/// filter's tag or one of its more specific tags, given as the filter's
/// [`exact`](crate::domain::ids::LocaleFilter::exact) tag and
/// [`narrower`](crate::domain::ids::LocaleFilter::narrower) pattern (both
/// placeholders or literals).
pub fn locale_matches(column: &str, exact: &str, narrower: &str) -> String {
    format!("({column} = {exact} OR {column} LIKE {narrower})")
}

/// `$first, $first+1, …` for `n` values: the placeholders of an `IN (…)` list.
pub fn placeholders(first: usize, n: usize) -> String {
    use std::fmt::Write;
    // Into one string: a list of hundreds is built for every page an export reads.
    let mut list = String::with_capacity(n * 6);
    for i in first..first + n {
        let sep = if i == first { "" } else { ", " };
        let _ = write!(list, "{sep}${i}");
    }
    list
}

/// The length an `IN` list of `n` values is padded to: the next power of
/// two, at most `max`. Each connection prepares a statement once and keeps
/// it; lists of every length made a statement each, which crowded the cache
/// (and at L held an export's SQLite readers 11 MB more), where lists of a
/// few lengths make a few.
pub fn list_len(n: usize, max: usize) -> usize {
    n.next_power_of_two().min(max).max(n)
}

/// `(…), (…)`: `n` rows of `width` placeholders each, from `$first` on, for
/// a multi-row `VALUES`.
pub fn value_rows(first: usize, width: usize, n: usize) -> String {
    let rows: Vec<String> = (0..n).map(|r| format!("({})", placeholders(first + r * width, width))).collect();
    rows.join(", ")
}

/// Like [`value_rows`], with each row's columns cast to `types` (`""`:
/// left as they are). PostgreSQL types the columns of a `VALUES` list that
/// an `UPDATE … FROM` reads as text unless told.
pub fn typed_value_rows(first: usize, types: &[&str], n: usize) -> String {
    let width = types.len();
    let rows: Vec<String> = (0..n)
        .map(|r| {
            let cells: Vec<String> = types
                .iter()
                .enumerate()
                .map(|(k, ty)| {
                    let p = first + r * width + k;
                    if ty.is_empty() { format!("${p}") } else { format!("CAST(${p} AS {ty})") }
                })
                .collect();
            format!("({})", cells.join(", "))
        })
        .collect();
    rows.join(", ")
}

/// The most rows one multi-row statement of a batch of writes takes.
pub const ROWS_A_STATEMENT: usize = 64;

/// A multi-row insert of `n` rows of `width` columns: `head`, the rows, `tail`.
pub fn insert_sql(head: &str, width: usize, n: usize, tail: &str) -> String {
    format!("{head} VALUES {}{tail}", value_rows(1, width, n))
}

/// Cuts `items` into runs whose lengths are powers of two, at most `max`,
/// longest first: multi-row statements over them then come in a few texts
/// (each prepared once a connection), however many rows there are.
pub fn runs_of<T>(mut items: &[T], max: usize) -> impl Iterator<Item = &[T]> {
    std::iter::from_fn(move || {
        if items.is_empty() {
            return None;
        }
        let n = (items.len().min(max.max(1)) + 1).next_power_of_two() / 2;
        let (run, rest) = items.split_at(n);
        items = rest;
        Some(run)
    })
}

/// The account id, then the listed values: the parameters of a query
/// `WHERE account_id = $1 AND x IN (placeholders(2, ids.len()))`.
pub fn account_and(account_id: &str, ids: &[String]) -> Vec<Value> {
    std::iter::once(Value::from(account_id)).chain(ids.iter().map(Value::from)).collect()
}

/// Which engine a connection speaks to, for the rare statement that differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    /// The clause that locks the rows a `SELECT` reads until the transaction
    /// ends. PostgreSQL needs it against concurrent writers; SQLite has one
    /// writer, which already holds the whole database. `NO KEY UPDATE`, not
    /// `UPDATE`: the rows locked are parents of rows the same transactions
    /// insert (a conversation of its votes and messages), and inserting a child
    /// takes a `KEY SHARE` lock on the parent, which `FOR UPDATE` would wait
    /// on, deadlocking two writers. Key columns are never updated.
    pub fn lock_rows(self) -> &'static str {
        match self {
            Self::Postgres => " FOR NO KEY UPDATE",
            Self::Sqlite => "",
        }
    }

    /// Locks the rows a query reads of the table under `alias` (and not
    /// those of the tables it joins), where the engine locks rows.
    pub fn lock_rows_of(self, alias: &str) -> String {
        match self {
            Self::Postgres => format!("{} OF {alias}", self.lock_rows()),
            Self::Sqlite => String::new(),
        }
    }

    /// Names the index a query on `table` must read, where the engine's
    /// planner has no statistics to choose it (SQLite); PostgreSQL chooses
    /// from its own.
    pub fn use_index(self, index: &str) -> String {
        match self {
            Self::Sqlite => format!(" INDEXED BY {index}"),
            Self::Postgres => String::new(),
        }
    }
}

/// A connection that runs portable SQL.
pub trait Conn: Send {
    fn dialect(&self) -> Dialect;

    /// Runs a statement and returns all its rows.
    fn query(&mut self, sql: &str, params: &[Value]) -> impl Future<Output = Result<Vec<Row>, StoreError>> + Send;

    /// Runs a statement and returns the number of rows it changed.
    fn execute(&mut self, sql: &str, params: &[Value]) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Runs one statement once for each set of parameters, in their order,
    /// and returns the number of rows each run changed. The parameters borrow
    /// their text. An engine may prepare the statement once for all the runs
    /// and bind the borrowed text as it is; the default copies each run's
    /// parameters and runs [`Conn::execute`].
    fn execute_each<'p, P: AsRef<[Param<'p>]> + Send>(
        &mut self,
        sql: &str,
        runs: impl Iterator<Item = P> + Send,
    ) -> impl Future<Output = Result<Vec<u64>, StoreError>> + Send {
        async move {
            let mut changed = Vec::with_capacity(runs.size_hint().0);
            for params in runs {
                let owned: Vec<Value> = params.as_ref().iter().copied().map(Value::from).collect();
                changed.push(self.execute(sql, &owned).await?);
            }
            Ok(changed)
        }
    }

    /// Runs one or more statements without parameters (DDL, savepoints).
    fn batch(&mut self, sql: &str) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Runs a statement whose outcome the work does not read (a history row,
    /// a counter, an append). An engine whose every statement is a round trip
    /// may hold it and send it together with the next statement or the
    /// commit, in one pipeline; a failure then fails that statement (and so
    /// the transaction) instead. The default runs it at once.
    fn execute_later(&mut self, sql: &str, params: &[Value]) -> impl Future<Output = Result<(), StoreError>> + Send {
        async move { self.execute(sql, params).await.map(drop) }
    }

    /// Runs statements that do not depend on each other and returns the rows
    /// of each, in their order. An engine whose every statement is a round
    /// trip may send them together; the default runs one after the other.
    fn query_many(
        &mut self,
        statements: &[(&str, &[Value])],
    ) -> impl Future<Output = Result<Vec<Vec<Row>>, StoreError>> + Send {
        async move {
            let mut all = Vec::with_capacity(statements.len());
            for (sql, params) in statements {
                all.push(self.query(sql, params).await?);
            }
            Ok(all)
        }
    }

    /// [`Conn::query_many`] of two statements.
    fn query_pair(
        &mut self,
        first: (&str, &[Value]),
        second: (&str, &[Value]),
    ) -> impl Future<Output = Result<(Vec<Row>, Vec<Row>), StoreError>> + Send {
        async move {
            let mut both = self.query_many(&[first, second]).await?.into_iter();
            match (both.next(), both.next()) {
                (Some(a), Some(b)) => Ok((a, b)),
                _ => Err(StoreError::other("two statements answered fewer results")),
            }
        }
    }

    /// Runs the statements held back by [`Conn::execute_later`] now, so that
    /// their failure is known here.
    fn flush(&mut self) -> impl Future<Output = Result<(), StoreError>> + Send {
        std::future::ready(Ok(()))
    }

    /// What the units of this connection's transaction leave for the work
    /// that runs just before it commits (see [`Engine::set_before_commit`]).
    fn tx_local(&mut self) -> &mut TxLocal;

    /// The first row, if any.
    fn query_opt(
        &mut self,
        sql: &str,
        params: &[Value],
    ) -> impl Future<Output = Result<Option<Row>, StoreError>> + Send {
        async move { Ok(self.query(sql, params).await?.into_iter().next()) }
    }
}

/// Values the units of one transaction leave for its end, one of each type:
/// each unit adds to them, and the work set with
/// [`Engine::set_before_commit`] takes them just before the commit. Where
/// one transaction holds many units (SQLite's commit groups), what they
/// gather is written once for all of them.
#[derive(Default)]
pub struct TxLocal(Vec<Box<dyn Any + Send>>);

impl TxLocal {
    /// The value of type `T`, made empty if there is none yet.
    pub fn get_or_default<T: Default + Send + 'static>(&mut self) -> &mut T {
        let at = match self.0.iter().position(|v| v.is::<T>()) {
            Some(at) => at,
            None => {
                self.0.push(Box::new(T::default()));
                self.0.len() - 1
            }
        };
        self.0[at].downcast_mut().expect("the value found is a T")
    }

    /// The value of type `T`, taken out (empty if there was none).
    pub fn take<T: Default + Send + 'static>(&mut self) -> T {
        match self.0.iter().position(|v| v.is::<T>()) {
            Some(at) => *self.0.swap_remove(at).downcast().expect("the value found is a T"),
            None => T::default(),
        }
    }

    /// Forgets everything: the transaction rolled back.
    pub fn clear(&mut self) {
        self.0.clear();
    }
}

/// Work that runs in a write transaction just before it commits.
pub type BeforeCommit<C> =
    Arc<dyn for<'c> Fn(&'c mut C) -> BoxFuture<'c, Result<(), StoreError>> + Send + Sync + 'static>;

/// A unit of work on a connection: a closure returning a boxed future that
/// borrows the connection.
pub trait Work<C, T>: for<'c> FnOnce(&'c mut C) -> BoxFuture<'c, Result<T, StoreError>> + Send + 'static {}
impl<C, T, F> Work<C, T> for F where
    F: for<'c> FnOnce(&'c mut C) -> BoxFuture<'c, Result<T, StoreError>> + Send + 'static
{
}

/// A database engine: where connections come from and how writes commit.
pub trait Engine: Send + Sync + 'static {
    type Conn: Conn;

    /// Runs `work` on a connection for reading.
    fn read<T: Send + 'static>(
        &self,
        work: impl Work<Self::Conn, T>,
    ) -> impl Future<Output = Result<T, StoreError>> + Send;

    /// Runs `work` in a transaction; an `Ok` is committed (durably) before
    /// this returns. An `Err` aborts: everything the work wrote is undone (on
    /// SQLite together with the other units of its commit group, which are
    /// answered `Unavailable` and may retry). Outcomes that are answers, not
    /// failures (not found, a rule refused), belong inside the `Ok`, and must
    /// be decided before the work writes anything.
    fn write<T: Send + 'static>(
        &self,
        work: impl Work<Self::Conn, T>,
    ) -> impl Future<Output = Result<T, StoreError>> + Send;

    /// Whether a hot single write should first read, on a reader
    /// connection, the rows and index pages it will need. Where writes go
    /// through one writer that reads the file synchronously (SQLite), a page
    /// that is in neither its cache nor the operating system's stalls every
    /// write queued behind it; readers fetch such pages side by side, ahead
    /// of the write. PostgreSQL does not: its batches take turns at their
    /// statements too, so a batch's read that misses the caches holds up
    /// the batches behind it, but the server cannot see the database
    /// server's disk, and a prefetch on every write would cost each one a
    /// statement more while the data is cached (see docs/benchmarks-history.md).
    fn prefetches(&self) -> bool {
        false
    }

    /// Sets the work that runs in every write transaction just before it
    /// commits, once for all its units (on SQLite, once for a commit group):
    /// it writes what the units gathered in their [`Conn::tx_local`]. Set
    /// once, before the first write; a second setting is ignored.
    fn set_before_commit(&self, hook: BeforeCommit<Self::Conn>);

    /// How many batches of single thumbs and votes from concurrent requests
    /// are written at once, each many writes in one transaction and a few
    /// multi-row statements; 0: each is written alone. Where each write has
    /// a connection of its own (PostgreSQL), a statement and a commit cost
    /// the server far more than a row, and a thumb or a vote alone is
    /// several statements. Where one writer already commits whatever is
    /// queued (SQLite), its statements are cheap calls and a write's cost is
    /// in its pages.
    fn write_lanes(&self) -> usize {
        0
    }

    /// Makes what deleted rows left behind in the engine's own files go
    /// away, once the deletes have committed: erased words must not linger.
    /// Nothing to do where the engine keeps no such copies itself.
    fn scrub(&self) -> impl Future<Output = Result<(), StoreError>> + Send {
        async { Ok(()) }
    }
}

#[cfg(test)]
mod tests {
    use super::{Row, Value, list_len};

    #[test]
    fn runs_are_powers_of_two_longest_first() {
        let lengths = |n: usize, max: usize| {
            let items: Vec<usize> = (0..n).collect();
            let runs: Vec<&[usize]> = super::runs_of(&items, max).collect();
            assert_eq!(runs.concat(), items, "every item once, in order");
            runs.iter().map(|r| r.len()).collect::<Vec<_>>()
        };
        assert_eq!(lengths(0, 64), Vec::<usize>::new());
        assert_eq!(lengths(1, 64), [1]);
        assert_eq!(lengths(6, 64), [4, 2]);
        assert_eq!(lengths(64, 64), [64]);
        assert_eq!(lengths(100, 64), [64, 32, 4]);
        assert_eq!(lengths(1000, 400), [256, 256, 256, 128, 64, 32, 8]);
        assert_eq!(super::value_rows(2, 2, 2), "($2, $3), ($4, $5)");
        assert_eq!(
            super::typed_value_rows(2, &["", "BIGINT"], 2),
            "($2, CAST($3 AS BIGINT)), ($4, CAST($5 AS BIGINT))"
        );
    }

    #[test]
    fn optional_text_is_borrowed_and_null_is_none() {
        let row = Row(vec![Value::Null, Value::Text("negative".into()), Value::Int(1)]);
        assert_eq!(row.text_opt(0).unwrap(), None);
        assert_eq!(row.text_opt(1).unwrap(), Some("negative"));
        assert!(row.text_opt(2).is_err(), "a number is not text");
        assert!(row.text_opt(3).is_err(), "no such column");
    }

    #[test]
    fn a_taken_value_leaves_null_and_a_mismatch_leaves_the_row() {
        let mut row = Row(vec![Value::Text("m1".into()), Value::Null, Value::Int(7)]);
        assert_eq!(row.take::<String>(0).unwrap(), "m1");
        assert!(matches!(row.0[0], Value::Null));
        assert_eq!(row.take::<Option<String>>(1).unwrap(), None);
        assert!(row.take::<String>(2).is_err(), "a number is not text");
        assert!(matches!(row.0[2], Value::Int(7)), "left as it was");
        assert_eq!(row.take::<i64>(2).unwrap(), 7);
        assert!(row.take::<String>(3).is_err(), "no such column");
    }

    #[test]
    fn placeholders_number_from_the_first() {
        assert_eq!(super::placeholders(3, 3), "$3, $4, $5");
        assert_eq!(super::placeholders(1, 1), "$1");
        assert_eq!(super::placeholders(1, 0), "");
    }

    #[test]
    fn a_locale_matches_its_tag_and_narrower_tags() {
        assert_eq!(
            super::locale_matches("LOWER(v.locale)", "$1", "$2"),
            "(LOWER(v.locale) = $1 OR LOWER(v.locale) LIKE $2)"
        );
    }

    #[test]
    fn lists_take_a_few_lengths_and_never_shrink() {
        let lens: std::collections::BTreeSet<usize> = (1..=500).map(|n| list_len(n, 500)).collect();
        assert_eq!(lens.into_iter().collect::<Vec<_>>(), [1, 2, 4, 8, 16, 32, 64, 128, 256, 500]);
        for n in 1..=500 {
            assert!(list_len(n, 500) >= n, "{n}");
        }
        assert_eq!(list_len(3, 500), 4);
        assert_eq!(list_len(257, 500), 500);
    }
}
