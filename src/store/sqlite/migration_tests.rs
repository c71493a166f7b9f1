//! The SQLite schema's migrations that rewrite tables and indexes in place,
//! checked on the engine: rows kept, the file sound, the rules unchanged.

use super::{SqliteEngine, tests::engine};
use crate::{
    error_chain::Chain,
    params,
    store::{
        StoreError,
        sql::{Conn, Engine},
    },
};

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
        let error = attempt(allowed).await.unwrap_err().chain();
        assert!(error.contains("FOREIGN KEY"), "{sql}: {error}");
        for &values in refused {
            let error = attempt(values).await.unwrap_err().chain();
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
    let missing = thumb("m9").await.unwrap_err().chain();
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
        .chain();
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
    let failed = crate::store::migrate::run(&e).await.unwrap_err().chain();
    assert!(failed.contains("CHECK constraint failed"), "{failed}");
    assert_eq!(texts(&e, "PRAGMA integrity_check").await, ["ok"]);
    assert_eq!(
        texts(&e, "SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'messages' ORDER BY name").await,
        ["messages_in_order", "sqlite_autoindex_messages_1", "sqlite_autoindex_messages_2"]
    );
    assert_eq!(texts(&e, "SELECT CAST(MAX(version) AS TEXT) FROM plaudit_migrations").await, ["12"]);
}

/// An error with the driver's words beneath it.
trait Chained {
    fn chain(&self) -> String;
}

impl Chained for StoreError {
    fn chain(&self) -> String {
        Chain(self).to_string()
    }
}

/// Migration 0024 adds the language to the rollups: the coarse rows and the
/// pending ones stay as they were (language `*`), and the finest rows are
/// counted again per language, what the signals no longer hold (purged)
/// kept under none.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollups_gain_the_language_with_the_rows_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let e = engine(&dir);
    messages_as_of(&e, 23).await;
    e.write(|c| {
        Box::pin(async move {
            c.batch(
                "UPDATE conversations SET locale = 'fr-CA', variant = 'A' WHERE id = 'c';
                 INSERT INTO message_feedback (id, account_id, message_id, conversation_id, bot_id, user_id,
                     feedback_type, status, source, created_at, updated_at, submitted_at)
                 VALUES ('f', 'default', 'm1', 'c', 'b', 'u', 'positive', 'pending', 'api', 0, 0, 0);
                 INSERT INTO thumb_rollup (account_id, bot_id, variant, topic, has_reason, span, bucket, up, down)
                 VALUES ('default', '*', '*', '*', -1, 900000, 0, 3, 0),
                        ('default', 'b', '=A', '-', 0, 900000, 0, 2, 0);
                 INSERT INTO thumb_rollup_pending (account_id, bot_id, variant, topic, has_reason, span, bucket, up, down)
                 VALUES ('default', '*', '*', '*', -1, 3600000, 0, 1, 0),
                        ('default', 'b', '=A', '-', 0, 900000, 0, 1, 0);",
            )
            .await
        })
    })
    .await
    .unwrap();
    assert_eq!(crate::store::migrate::run_to(&e, 24).await.unwrap(), [24]);
    let finest = texts(
        &e,
        "SELECT locale || ' ' || up FROM thumb_rollup WHERE variant <> '*'
         UNION ALL SELECT 'pending ' || locale || ' ' || up FROM thumb_rollup_pending ORDER BY 1",
    )
    .await;
    // Three counted before, one thumb in the signals: two purged, kept under no language.
    assert_eq!(finest, ["- 2", "=fr-ca 1", "pending * 1"]);
    let coarse = texts(&e, "SELECT locale || ' ' || up FROM thumb_rollup WHERE variant = '*'").await;
    assert_eq!(coarse, ["* 3"]);
    assert_eq!(texts(&e, "PRAGMA integrity_check").await, ["ok"]);
}
