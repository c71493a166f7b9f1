//! The statement seam both engines implement: statements held back with
//! `execute_later`, queries sent together and one statement run for many
//! sets of parameters must behave exactly
//! as if every statement ran on its own, one after the other (PostgreSQL
//! sends them in one pipeline; SQLite runs them at once).

use plaudit::store::{
    StoreError,
    postgres::PgEngine,
    sql::{Conn, Engine, Param, Row, Value},
    sqlite::{SqliteEngine, SqliteOptions, WAL_FRAMES_BOUND},
};

use crate::{
    both_backends,
    helpers::{Backend, TestDatabase},
};

both_backends!(
    held_back_statements_run_in_order_before_the_next_one,
    a_failing_held_back_statement_undoes_its_transaction,
    queries_sent_together_answer_each_in_turn,
    a_statement_run_for_each_set_of_parameters_counts_each_run,
);

/// Runs `check` on an engine of `backend` over a fresh database with a table `t (k, v)`.
macro_rules! on_engine {
    ($backend:expr, $check:ident) => {{
        let db = TestDatabase::new(&$backend).await;
        match &$backend {
            Backend::Sqlite => {
                let path = db.url.trim_start_matches("sqlite://").into();
                let e = SqliteEngine::open(SqliteOptions {
                    path,
                    busy_timeout: std::time::Duration::from_secs(5),
                    synchronous_full: false,
                    readers: 2,
                    wal_frames_bound: WAL_FRAMES_BOUND,
                })
                .expect("open SQLite");
                $check(&e).await;
            }
            Backend::Postgres(_) => {
                let e = PgEngine::connect(&db.url, 4).expect("connect to PostgreSQL");
                $check(&e).await;
            }
        }
    }};
}

async fn create_table<E: Engine>(e: &E) {
    e.write(|c| Box::pin(async move { c.batch("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT NOT NULL)").await }))
        .await
        .expect("create the table");
}

async fn insert_later(c: &mut impl Conn, k: i64, v: &str) -> Result<(), StoreError> {
    c.execute_later("INSERT INTO t (k, v) VALUES ($1, $2)", &[Value::Int(k), Value::from(v)]).await
}

/// The table's rows as `k=v` pairs, in key order, read outside any write.
async fn rows<E: Engine>(e: &E) -> Vec<String> {
    e.read(|c| {
        Box::pin(async move {
            let rows = c.query("SELECT k, v FROM t ORDER BY k", &[]).await?;
            rows.iter().map(|r| Ok(format!("{}={}", r.get::<i64>(0)?, r.get::<String>(1)?))).collect()
        })
    })
    .await
    .expect("read the table")
}

async fn held_back_statements_run_in_order_before_the_next_one(backend: Backend) {
    async fn check<E: Engine>(e: &E) {
        create_table(e).await;
        let seen = e
            .write(|c| {
                Box::pin(async move {
                    insert_later(c, 1, "a").await?;
                    insert_later(c, 2, "b").await?;
                    c.execute_later("UPDATE t SET v = v || '!' WHERE k = $1", &[Value::Int(1)]).await?;
                    // A query sees every statement held back before it, in order.
                    let n = c.query("SELECT COUNT(*), MIN(v) FROM t", &[]).await?;
                    let seen = (n[0].get::<i64>(0)?, n[0].get::<String>(1)?);
                    // Held back last: goes out with the commit.
                    insert_later(c, 3, "c").await?;
                    Ok(seen)
                })
            })
            .await
            .expect("the write commits");
        assert_eq!(seen, (2, "a!".to_owned()));
        assert_eq!(rows(e).await, ["1=a!", "2=b", "3=c"]);
    }
    on_engine!(backend, check);
}

async fn a_failing_held_back_statement_undoes_its_transaction(backend: Backend) {
    async fn check<E: Engine>(e: &E) {
        create_table(e).await;
        e.write(|c| Box::pin(async move { insert_later(c, 1, "kept").await })).await.expect("first write");

        // Fails before a later statement of the work: that statement reports it.
        let failed = e
            .write(|c| {
                Box::pin(async move {
                    c.execute("INSERT INTO t (k, v) VALUES (2, 'undone')", &[]).await?;
                    insert_later(c, 1, "duplicate").await?;
                    c.query("SELECT COUNT(*) FROM t", &[]).await?;
                    Ok(())
                })
            })
            .await;
        assert!(matches!(failed, Err(StoreError::Conflict(_))), "{failed:?}");

        // Fails when nothing follows but the commit: the commit reports it.
        let failed = e
            .write(|c| {
                Box::pin(async move {
                    c.execute("INSERT INTO t (k, v) VALUES (3, 'undone')", &[]).await?;
                    insert_later(c, 1, "duplicate").await
                })
            })
            .await;
        assert!(matches!(failed, Err(StoreError::Conflict(_))), "{failed:?}");
        assert_eq!(rows(e).await, ["1=kept"], "nothing of a failed write is kept");

        // The engine goes on serving writes.
        e.write(|c| Box::pin(async move { insert_later(c, 4, "after").await })).await.expect("a later write");
        assert_eq!(rows(e).await, ["1=kept", "4=after"]);
    }
    on_engine!(backend, check);
}

async fn queries_sent_together_answer_each_in_turn(backend: Backend) {
    async fn check<E: Engine>(e: &E) {
        create_table(e).await;
        let (first, second) = e
            .write(|c| {
                Box::pin(async move {
                    insert_later(c, 1, "a").await?;
                    insert_later(c, 2, "b").await?;
                    let (first, second) = c
                        .query_pair(
                            ("SELECT v FROM t WHERE k = $1", &[Value::Int(2)]),
                            ("SELECT k FROM t WHERE v = $1 OR k = $2 ORDER BY k", &[Value::from("a"), Value::Int(2)]),
                        )
                        .await?;
                    let first: Vec<String> = first.iter().map(|r| r.get(0)).collect::<Result<_, _>>()?;
                    let second: Vec<i64> = second.iter().map(|r| r.get(0)).collect::<Result<_, _>>()?;
                    Ok((first, second))
                })
            })
            .await
            .expect("the write commits");
        assert_eq!(first, ["b"]);
        assert_eq!(second, [1, 2]);
        // A failing query of the pair fails the pair.
        let failed = e
            .write(|c| {
                Box::pin(async move {
                    c.query_pair(("SELECT v FROM t", &[]), ("SELECT no_such_column FROM t", &[])).await.map(drop)
                })
            })
            .await;
        assert!(failed.is_err(), "{failed:?}");
        assert_eq!(rows(e).await, ["1=a", "2=b"]);
        // Any number of statements, in a read: each answer in its place,
        // the empty one included.
        let answers = e
            .read(|c| {
                Box::pin(async move {
                    let all = c
                        .query_many(&[
                            ("SELECT k FROM t WHERE v = $1", &[Value::from("b")]),
                            ("SELECT k FROM t WHERE k > $1", &[Value::Int(9)]),
                            ("SELECT COUNT(*) FROM t", &[]),
                            ("SELECT v FROM t ORDER BY k DESC", &[]),
                        ])
                        .await?;
                    let ints = |rows: &Vec<Row>| rows.iter().map(|r| r.get::<i64>(0)).collect::<Result<Vec<_>, _>>();
                    let texts: Vec<String> = all[3].iter().map(|r| r.get(0)).collect::<Result<_, _>>()?;
                    Ok(((ints(&all[0])?, ints(&all[1])?, ints(&all[2])?, texts), all.len()))
                })
            })
            .await
            .expect("the read");
        assert_eq!(answers, ((vec![2], vec![], vec![2], vec!["b".to_owned(), "a".to_owned()]), 4));
        let none = e.read(|c| Box::pin(async move { c.query_many(&[]).await })).await.expect("no statements");
        assert!(none.is_empty());
    }
    on_engine!(backend, check);
}

/// Every text column that a PostgreSQL index or foreign key compares uses the
/// "C" collation, so that keys compare bytewise, as on SQLite, rather than
/// through the database's locale: one column left on the default would make
/// a join or a comparison with it fall back to the locale and miss the
/// other side's index.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_keys_compare_bytewise() {
    let Some(backend) = Backend::postgres() else { return };
    let db = TestDatabase::new(&backend).await;
    let e = PgEngine::connect(&db.url, 2).expect("connect to PostgreSQL");
    plaudit::store::migrate::run(&e).await.expect("migrate");
    let columns = |collation: &'static str| {
        e.read(move |c| {
            Box::pin(async move {
                let rows = c
                    .query(
                        &format!(
                            "SELECT DISTINCT t.relname || '.' || a.attname
                             FROM pg_class t
                             JOIN pg_attribute a ON a.attrelid = t.oid
                             WHERE t.relnamespace = current_schema()::regnamespace
                               AND t.relname <> 'plaudit_migrations'
                               AND a.atttypid = 'text'::regtype
                               AND a.attcollation {collation} 'pg_catalog.\"C\"'::regcollation
                               AND (EXISTS (SELECT 1 FROM pg_index i
                                            WHERE i.indrelid = t.oid AND a.attnum = ANY (i.indkey))
                                    OR EXISTS (SELECT 1 FROM pg_constraint k
                                               WHERE k.contype = 'f' AND k.conrelid = t.oid
                                                 AND a.attnum = ANY (k.conkey)))
                             ORDER BY 1"
                        ),
                        &[],
                    )
                    .await?;
                rows.iter().map(|r| r.get::<String>(0)).collect::<Result<Vec<_>, _>>()
            })
        })
    };
    let bytewise = columns("=").await.expect("read the catalog");
    let by_locale = columns("<>").await.expect("read the catalog");
    assert!(by_locale.is_empty(), "keys compared through the locale: {by_locale:?}");
    for key in ["messages.id", "messages.conversation_id", "message_feedback.message_id", "conversations.satisfaction"]
    {
        assert!(bytewise.iter().any(|c| c == key), "{key} is not among the bytewise keys {bytewise:?}");
    }
}

async fn a_statement_run_for_each_set_of_parameters_counts_each_run(backend: Backend) {
    async fn check<E: Engine>(e: &E) {
        create_table(e).await;
        const INSERT: &str = "INSERT INTO t (k, v) VALUES ($1, $2) ON CONFLICT DO NOTHING";
        let runs = [(1, "a"), (2, "b"), (1, "again"), (3, "c")];
        let changed = e
            .write(move |c| {
                Box::pin(async move {
                    insert_later(c, 3, "held back").await?;
                    let params = runs.iter().map(|(k, v)| [Param::Int(*k), Param::Text(v)]);
                    c.execute_each(INSERT, params).await
                })
            })
            .await
            .expect("the write commits");
        // Each run in its turn, after the statement held back before them:
        // the taken keys change nothing.
        assert_eq!(changed, [1, 1, 0, 0]);
        assert_eq!(rows(e).await, ["1=a", "2=b", "3=held back"]);
        // No runs, no rows.
        let none = e
            .write(|c| Box::pin(async move { c.execute_each(INSERT, std::iter::empty::<[Param; 2]>()).await }))
            .await
            .expect("no runs");
        assert!(none.is_empty());
        // A failing run fails the unit, and its transaction leaves nothing.
        let failed = e
            .write(|c| {
                Box::pin(async move {
                    let params = [[Param::Int(4), Param::Text("d")], [Param::Int(5), Param::Null]];
                    c.execute_each(INSERT, params.into_iter()).await
                })
            })
            .await;
        assert!(failed.is_err(), "{failed:?}");
        assert_eq!(rows(e).await, ["1=a", "2=b", "3=held back"]);
    }
    on_engine!(backend, check);
}

/// On PostgreSQL a message's conversation is checked once a statement, by
/// triggers (migration 0015) that keep the foreign key's rule: every row of
/// an insert names a conversation of its account, or the whole statement
/// fails; a message cannot move to a conversation that does not exist; a
/// conversation with messages can be neither deleted nor renamed, also while
/// another transaction is adding messages to it. The messages stored before
/// the migration stay, and the table keeps no index on `seq`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_messages_name_conversations_that_exist() {
    use tokio_postgres::error::SqlState;

    let Some(backend) = Backend::postgres() else { return };
    let db = TestDatabase::new(&backend).await;
    let e = PgEngine::connect(&db.url, 2).expect("connect to PostgreSQL");
    assert_eq!(plaudit::store::migrate::run_to(&e, 14).await.expect("migrate to 14").len(), 14);
    let connect = || async {
        let (client, conn) = tokio_postgres::connect(&db.url, tokio_postgres::NoTls).await.expect("connect");
        tokio::spawn(conn);
        client
    };
    let (a, b) = (connect().await, connect().await);
    a.batch_execute(
        "INSERT INTO bots (id, account_id, name, created_at) VALUES ('b', 'default', 'B', 0);
         INSERT INTO conversations (account_id, id, bot_id, created_at, updated_at)
         VALUES ('default', 'c1', 'b', 0, 0), ('default', 'c2', 'b', 0, 0), ('default', 'c3', 'b', 0, 0);
         INSERT INTO messages (account_id, id, conversation_id, role, content, status, fingerprint, created_at, updated_at)
         VALUES ('default', 'm0', 'c1', 'user', '', 'completed', '', 0, 0);",
    )
    .await
    .expect("rows before the migration");
    assert_eq!(plaudit::store::migrate::run_to(&e, 15).await.expect("migrate to 15"), [15]);

    let insert = |rows: &[(&str, &str)]| {
        let values: Vec<String> = rows
            .iter()
            .map(|(id, conv)| format!("('default', '{id}', '{conv}', 'user', '', 'completed', '', 0, 0)"))
            .collect();
        format!(
            "INSERT INTO messages (account_id, id, conversation_id, role, content, status, fingerprint, created_at, updated_at)
             VALUES {}",
            values.join(", ")
        )
    };
    let refused = |r: Result<(), tokio_postgres::Error>| {
        let e = r.expect_err("the rule refuses this");
        assert_eq!(e.code(), Some(&SqlState::FOREIGN_KEY_VIOLATION), "{e:?}");
    };
    let messages = || async {
        let rows = a.query("SELECT id FROM messages ORDER BY id", &[]).await.expect("read the messages");
        rows.iter().map(|r| r.get::<_, String>(0)).collect::<Vec<_>>()
    };

    // Several rows naming existing conversations, in one statement.
    a.batch_execute(&insert(&[("m1", "c1"), ("m2", "c2"), ("m3", "c1")])).await.expect("insert");
    // One unknown conversation (or another account's) fails the whole statement.
    refused(a.batch_execute(&insert(&[("m4", "c1"), ("m5", "nope")])).await);
    refused(
        a.batch_execute(
            "INSERT INTO messages (account_id, id, conversation_id, role, content, status, fingerprint, created_at, updated_at)
             VALUES ('other', 'm6', 'c1', 'user', '', 'completed', '', 0, 0)",
        )
        .await,
    );
    assert_eq!(messages().await, ["m0", "m1", "m2", "m3"]);
    // Through the engine, the refusal is a conflict, as the foreign key's was.
    let sql = insert(&[("m7", "nope")]);
    let through_engine = e.write(move |c| Box::pin(async move { c.execute(&sql, &[]).await })).await;
    assert!(matches!(through_engine, Err(StoreError::Conflict(_))), "{through_engine:?}");

    // Moving a message: only to a conversation that exists.
    refused(a.batch_execute("UPDATE messages SET conversation_id = 'nope' WHERE id = 'm3'").await);
    a.batch_execute("UPDATE messages SET conversation_id = 'c3', content = 'moved' WHERE id = 'm3'").await.unwrap();
    // Other updates of a message are not checked.
    a.batch_execute("UPDATE messages SET status = 'failed' WHERE id = 'm1'").await.unwrap();

    // A conversation with messages stays, under its id; one without may go.
    refused(a.batch_execute("DELETE FROM conversations WHERE id = 'c2'").await);
    refused(a.batch_execute("UPDATE conversations SET id = 'c9' WHERE id = 'c1'").await);
    a.batch_execute("UPDATE conversations SET updated_at = 5 WHERE id = 'c1'").await.unwrap();
    a.batch_execute("DELETE FROM messages WHERE id = 'm2'; DELETE FROM conversations WHERE id = 'c2'").await.unwrap();

    // A conversation that gets messages in a transaction not yet committed:
    // its deletion waits for that transaction, then is refused.
    a.batch_execute(&format!("BEGIN; {}", insert(&[("m8", "c3")]))).await.unwrap();
    a.batch_execute("UPDATE messages SET conversation_id = 'c1' WHERE id = 'm3'").await.unwrap();
    let deleting = tokio::spawn(async move { b.batch_execute("DELETE FROM conversations WHERE id = 'c3'").await });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(!deleting.is_finished(), "the deletion waits for the transaction adding messages");
    a.batch_execute("COMMIT").await.unwrap();
    refused(deleting.await.unwrap());
    assert_eq!(messages().await, ["m0", "m1", "m3", "m8"]);

    // No index on seq, and no primary key: (account_id, id) identifies a row.
    let rows = a
        .query(
            "SELECT i.relname, x.indisprimary, x.indisreplident FROM pg_index x
             JOIN pg_class i ON i.oid = x.indexrelid
             WHERE x.indrelid = 'messages'::regclass ORDER BY i.relname",
            &[],
        )
        .await
        .unwrap();
    let indexes: Vec<(String, bool, bool)> = rows.iter().map(|r| (r.get(0), r.get(1), r.get(2))).collect();
    assert_eq!(
        indexes,
        [
            ("messages_account_id_id_key".to_owned(), false, true),
            ("messages_account_id_request_id_key".to_owned(), false, false),
            ("messages_in_order".to_owned(), false, false),
        ]
    );
}
