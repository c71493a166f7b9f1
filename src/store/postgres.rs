//! The PostgreSQL engine: the scale-out path.
//!
//! Any number of stateless `plaudit` processes share one database; every
//! invariant lives in its constraints and atomic statements. Connections come
//! from a deadpool pool; statements are prepared once per connection.

use bytes::BytesMut;
use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod};
use futures_util::future::try_join_all;
use tokio_postgres::{
    NoTls,
    error::SqlState,
    types::{IsNull, ToSql, Type, to_sql_checked},
};

use super::{
    StoreError, because,
    sql::{BeforeCommit, Conn, Dialect, Engine, Row, TxLocal, Value, Work},
};

impl ToSql for Value {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(i) => match *ty {
                Type::INT8 => i.to_sql(ty, out),
                Type::INT4 => i32::try_from(*i)?.to_sql(ty, out),
                Type::INT2 => i16::try_from(*i)?.to_sql(ty, out),
                Type::BOOL => (*i != 0).to_sql(ty, out),
                #[allow(clippy::cast_precision_loss)]
                Type::FLOAT8 => (*i as f64).to_sql(ty, out),
                _ => i.to_string().to_sql(ty, out),
            },
            Value::Real(r) => match *ty {
                #[allow(clippy::cast_possible_truncation)]
                Type::FLOAT4 => (*r as f32).to_sql(ty, out),
                Type::FLOAT8 => r.to_sql(ty, out),
                _ => r.to_string().to_sql(ty, out),
            },
            Value::Text(s) => s.to_sql(ty, out),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

fn read_value(row: &tokio_postgres::Row, i: usize) -> Result<Value, tokio_postgres::Error> {
    let ty = row.columns()[i].type_();
    Ok(match *ty {
        Type::INT8 => row.try_get::<_, Option<i64>>(i)?.map_or(Value::Null, Value::Int),
        Type::INT4 => row.try_get::<_, Option<i32>>(i)?.map_or(Value::Null, |v| Value::Int(v.into())),
        Type::INT2 => row.try_get::<_, Option<i16>>(i)?.map_or(Value::Null, |v| Value::Int(v.into())),
        Type::BOOL => row.try_get::<_, Option<bool>>(i)?.map_or(Value::Null, |v| Value::Int(v.into())),
        Type::FLOAT8 => row.try_get::<_, Option<f64>>(i)?.map_or(Value::Null, Value::Real),
        Type::FLOAT4 => row.try_get::<_, Option<f32>>(i)?.map_or(Value::Null, |v| Value::Real(v.into())),
        _ => row.try_get::<_, Option<String>>(i)?.map_or(Value::Null, Value::Text),
    })
}

fn rows_from(rows: &[tokio_postgres::Row]) -> Result<Vec<Row>, StoreError> {
    rows.iter()
        .map(|r| (0..r.len()).map(|i| read_value(r, i)).collect::<Result<Vec<_>, _>>().map(Row))
        .collect::<Result<Vec<_>, _>>()
        .map_err(map_err)
}

fn map_err(e: tokio_postgres::Error) -> StoreError {
    match e.code() {
        Some(c) if *c == SqlState::UNIQUE_VIOLATION => StoreError::conflict(e),
        Some(c) if *c == SqlState::FOREIGN_KEY_VIOLATION => StoreError::conflict(e),
        Some(c)
            if *c == SqlState::ADMIN_SHUTDOWN
                || *c == SqlState::CANNOT_CONNECT_NOW
                || *c == SqlState::TOO_MANY_CONNECTIONS
                || *c == SqlState::T_R_SERIALIZATION_FAILURE
                || *c == SqlState::T_R_DEADLOCK_DETECTED =>
        {
            StoreError::unavailable(e)
        }
        Some(_) => StoreError::other(e),
        None => StoreError::unavailable(e),
    }
}

fn map_pool_err(e: deadpool_postgres::PoolError) -> StoreError {
    StoreError::unavailable(because("no database connection", e))
}

/// A pooled PostgreSQL connection speaking the shared SQL.
pub struct PgConn {
    client: Option<Object>,
    in_transaction: bool,
    /// Statements held back (see [`Conn::execute_later`]), sent in order
    /// ahead of the next statement, in the same pipeline.
    later: Vec<Later>,
    /// What the units of the open transaction leave for its commit.
    tx_local: TxLocal,
}

/// A statement held back by [`PgConn`].
enum Later {
    /// Statements without parameters, in the simple protocol (`BEGIN`).
    Batch(&'static str),
    Statement(tokio_postgres::Statement, Vec<Value>),
}

fn refs(params: &[Value]) -> Vec<&(dyn ToSql + Sync)> {
    params.iter().map(|p| p as &(dyn ToSql + Sync)).collect()
}

impl PgConn {
    fn client(&self) -> &Object {
        self.client.as_ref().expect("a PgConn holds its client until dropped")
    }

    /// The client, and the statements held back until the next one.
    fn client_and_later(&mut self) -> (&Object, Vec<Later>) {
        let later = std::mem::take(&mut self.later);
        (self.client(), later)
    }

    /// Marks whether a transaction is open, for [`Drop`] to judge the connection.
    fn set_in_transaction(&mut self, open: bool) {
        self.in_transaction = open;
    }
}

/// Runs `current` after the held-back statements `later`, all sent at once:
/// tokio-postgres writes each request when its future is first polled, and
/// `join` polls them in order, so the server runs them in order and the whole
/// batch costs one round trip. The first failure is the answer.
async fn pipelined<T>(
    client: &tokio_postgres::Client,
    later: Vec<Later>,
    current: impl Future<Output = Result<T, tokio_postgres::Error>>,
) -> Result<T, StoreError> {
    if later.is_empty() {
        return current.await.map_err(map_err);
    }
    let earlier = futures_util::future::join_all(later.iter().map(|l| async move {
        match l {
            Later::Batch(sql) => client.batch_execute(sql).await,
            Later::Statement(stmt, params) => client.execute(stmt, &refs(params)).await.map(drop),
        }
    }));
    let (earlier, result) = futures_util::future::join(earlier, current).await;
    earlier.into_iter().collect::<Result<(), _>>().map_err(map_err)?;
    result.map_err(map_err)
}

impl Drop for PgConn {
    fn drop(&mut self) {
        // A connection left inside a transaction (a panic, a cancelled task)
        // must not go back to the pool: detach it so it closes.
        if self.in_transaction
            && let Some(obj) = self.client.take()
        {
            drop(Object::take(obj));
        }
    }
}

impl Conn for PgConn {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    async fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, StoreError> {
        let (client, later) = self.client_and_later();
        let stmt = client.prepare_cached(sql).await.map_err(map_err)?;
        let rows = pipelined(client, later, client.query(&stmt, &refs(params))).await?;
        rows_from(&rows)
    }

    async fn query_many(&mut self, statements: &[(&str, &[Value])]) -> Result<Vec<Vec<Row>>, StoreError> {
        let (client, later) = self.client_and_later();
        let prepared =
            try_join_all(statements.iter().map(|(sql, _)| client.prepare_cached(sql))).await.map_err(map_err)?;
        let args: Vec<_> = statements.iter().map(|(_, params)| refs(params)).collect();
        let queries = prepared.iter().zip(&args).map(|(stmt, args)| client.query(stmt, args));
        let all = pipelined(client, later, try_join_all(queries)).await?;
        all.iter().map(|rows| rows_from(rows)).collect()
    }

    async fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, StoreError> {
        let (client, later) = self.client_and_later();
        let stmt = client.prepare_cached(sql).await.map_err(map_err)?;
        pipelined(client, later, client.execute(&stmt, &refs(params))).await
    }

    async fn batch(&mut self, sql: &str) -> Result<(), StoreError> {
        let (client, later) = self.client_and_later();
        pipelined(client, later, client.batch_execute(sql)).await
    }

    async fn flush(&mut self) -> Result<(), StoreError> {
        let (client, later) = self.client_and_later();
        pipelined(client, later, std::future::ready(Ok(()))).await
    }

    async fn execute_later(&mut self, sql: &str, params: &[Value]) -> Result<(), StoreError> {
        let stmt = self.client().prepare_cached(sql).await.map_err(map_err)?;
        self.later.push(Later::Statement(stmt, params.to_vec()));
        Ok(())
    }

    fn tx_local(&mut self) -> &mut TxLocal {
        &mut self.tx_local
    }
}

/// The PostgreSQL engine: a connection pool.
pub struct PgEngine {
    pool: Pool,
    write_lanes: usize,
    /// What runs in each write transaction before its commit.
    before_commit: std::sync::OnceLock<BeforeCommit<PgConn>>,
}

/// Batches of thumbs and votes in flight at once by default (see
/// [`Engine::write_lanes`]): one runs its statements while the others wait
/// on their commits. Measured on a 2-core machine at L, three runs each:
/// thumbs 4,981-5,208 req/s with four lanes and 5,170-5,285 with eight,
/// votes 3,936-4,242 and 4,168-4,402 (see docs/benchmarks-history.md); four leave
/// more of the pool to reads. A disk slower to flush may want more:
/// `postgres_write_lanes`.
pub const WRITE_LANES: usize = 4;

impl PgEngine {
    /// Builds the pool; connections open lazily, the first one right away
    /// (by the caller's migration run).
    pub fn connect(url: &str, max_connections: usize) -> Result<Self, StoreError> {
        let config: tokio_postgres::Config = url
            .parse()
            .map_err(|e| StoreError::other(because("PLAUDIT_DATABASE_URL is not a valid PostgreSQL URL", e)))?;
        let manager = Manager::from_config(config, NoTls, ManagerConfig { recycling_method: RecyclingMethod::Fast });
        let pool = Pool::builder(manager)
            .max_size(max_connections.max(1))
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .wait_timeout(Some(std::time::Duration::from_secs(10)))
            .create_timeout(Some(std::time::Duration::from_secs(5)))
            .build()
            .map_err(|e| StoreError::other(because("cannot build the connection pool", e)))?;
        Ok(Self {
            pool,
            write_lanes: WRITE_LANES.min(max_connections.max(1)),
            before_commit: std::sync::OnceLock::new(),
        })
    }

    /// Writes single thumbs and votes in `lanes` batches at once (0: each
    /// alone), at most one a connection of the pool.
    #[must_use]
    pub fn with_write_lanes(mut self, lanes: usize) -> Self {
        self.write_lanes = lanes.min(self.pool.status().max_size);
        self
    }

    async fn conn(&self) -> Result<PgConn, StoreError> {
        let client = self.pool.get().await.map_err(map_pool_err)?;
        Ok(PgConn { client: Some(client), in_transaction: false, later: Vec::new(), tx_local: TxLocal::default() })
    }
}

impl Engine for PgEngine {
    type Conn = PgConn;

    fn write_lanes(&self) -> usize {
        self.write_lanes
    }

    async fn read<T: Send + 'static>(&self, work: impl Work<PgConn, T>) -> Result<T, StoreError> {
        let mut conn = self.conn().await?;
        let result = work(&mut conn).await;
        // A read holds nothing back; should one, it is not lost.
        conn.flush().await?;
        result
    }

    fn set_before_commit(&self, hook: BeforeCommit<PgConn>) {
        let _ = self.before_commit.set(hook);
    }

    async fn write<T: Send + 'static>(&self, work: impl Work<PgConn, T>) -> Result<T, StoreError> {
        let mut conn = self.conn().await?;
        let before_commit = self.before_commit.get().cloned();
        // The transaction runs in its own task, so a client that hangs up
        // cannot cut it off half-way.
        tokio::spawn(async move {
            // BEGIN goes out with the work's first statement.
            conn.later.push(Later::Batch("BEGIN"));
            conn.set_in_transaction(true);
            let mut result = work(&mut conn).await;
            if result.is_ok()
                && let Some(hook) = before_commit
                && let Err(e) = hook(&mut conn).await
            {
                result = Err(e);
            }
            let end = if result.is_ok() { "COMMIT" } else { "ROLLBACK" };
            // What the work gathered for its commit goes with a rollback.
            conn.tx_local().clear();
            conn.batch(end).await?;
            conn.set_in_transaction(false);
            result
        })
        .await
        .map_err(|e| StoreError::other(because("a PostgreSQL write failed", e)))?
    }
}
