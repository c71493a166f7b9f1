//! The `plaudit` binary: scriptable commands, crash durability, graceful shutdown.

use std::{
    process::{Child, Command, Output, Stdio},
    time::{Duration, Instant},
};

use plaudit::domain::{access::hash_secret, account::DEFAULT_ACCOUNT_ID};
use serde_json::{Value, json};

use crate::{
    both_backends,
    helpers::{Backend, TestDatabase},
};

both_backends!(
    accounts_create_prints_the_id_alone,
    keys_create_prints_the_secret_alone,
    keys_can_be_listed_and_revoked,
    users_are_invited_listed_and_changed,
    backup_copies_a_serving_database,
    purge_counts_then_erases_expired_conversations,
    an_older_build_refuses_a_newer_schema,
    bad_arguments_fail_cleanly,
    export_writes_every_conversation_to_a_file_or_stdout,
    acknowledged_writes_survive_a_killed_process,
    sigterm_stops_the_server_cleanly,
);

pub(crate) fn plaudit(db: &TestDatabase, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_plaudit"))
        .args(args)
        .env("PLAUDIT_DATABASE_URL", &db.url)
        .env("PLAUDIT_LOG_LEVEL", "warn")
        .output()
        .expect("run plaudit")
}

pub(crate) fn stdout_line(out: &Output) -> String {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout.clone()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1, "exactly one line on stdout: {text:?}");
    lines[0].to_owned()
}

async fn accounts_create_prints_the_id_alone(backend: Backend) {
    let db = TestDatabase::new(&backend).await;
    let id = stdout_line(&plaudit(&db, &["accounts", "create", "--name", "Acme"]));
    let restricted = stdout_line(&plaudit(&db, &["accounts", "create", "--name", "Cheap", "--no-api-access"]));
    let store = db.open_store().await;
    let acme = store.get_account(&id).await.unwrap();
    assert_eq!(acme.name, "Acme");
    assert!(acme.api_access);
    assert!(!store.get_account(&restricted).await.unwrap().api_access);
    // The default account exists from the first migration on.
    assert!(store.get_account(DEFAULT_ACCOUNT_ID).await.unwrap().api_access);
}

async fn keys_create_prints_the_secret_alone(backend: Backend) {
    let db = TestDatabase::new(&backend).await;
    let secret = stdout_line(&plaudit(&db, &["keys", "create", "--role", "server", "--name", "backend"]));
    assert!(secret.starts_with("plk_"));
    let store = db.open_store().await;
    let record = store.find_key(&hash_secret(&secret)).await.unwrap().expect("the key is stored by its hash");
    assert_eq!(record.key.account_id, DEFAULT_ACCOUNT_ID);
    assert_eq!(record.key.name, "backend");
    assert_eq!(record.key.role.as_str(), "server");

    let account = stdout_line(&plaudit(&db, &["accounts", "create", "--name", "Acme"]));
    let bot = store
        .create_bot(
            &account,
            "Support".into(),
            &plaudit::domain::audit::Actor::cli(),
            plaudit::domain::Timestamp::now(),
        )
        .await
        .unwrap();
    let bound = stdout_line(&plaudit(
        &db,
        &["keys", "create", "--role", "public", "--account", &account, "--bot", bot.id.as_str(), "--expires-in", "60"],
    ));
    let record = store.find_key(&hash_secret(&bound)).await.unwrap().unwrap();
    assert_eq!(record.key.account_id, account);
    assert_eq!(record.key.bot_id.as_ref(), Some(&bot.id));
    assert!(record.key.expires_at.is_some());
}

async fn keys_can_be_listed_and_revoked(backend: Backend) {
    let db = TestDatabase::new(&backend).await;
    let secret = stdout_line(&plaudit(&db, &["keys", "create", "--role", "admin", "--name", "ops"]));
    let listed = plaudit(&db, &["keys", "list"]);
    assert!(listed.status.success());
    let text = String::from_utf8(listed.stdout).unwrap();
    assert!(text.contains("ops") && text.contains("active"), "{text}");
    assert!(!text.contains(&secret), "a listing never shows secrets");
    let id = text.lines().nth(1).unwrap().split_whitespace().next().unwrap().to_owned();
    let revoked = plaudit(&db, &["keys", "revoke", &id]);
    assert!(revoked.status.success(), "{}", String::from_utf8_lossy(&revoked.stderr));
    let text = String::from_utf8(plaudit(&db, &["keys", "list"]).stdout).unwrap();
    assert!(text.contains("revoked"), "{text}");
    let store = db.open_store().await;
    assert!(store.find_key(&hash_secret(&secret)).await.unwrap().unwrap().key.revoked_at.is_some());
}

async fn bad_arguments_fail_cleanly(backend: Backend) {
    let db = TestDatabase::new(&backend).await;
    for args in [
        &["keys", "create", "--role", "root"][..],
        &["keys", "create", "--role", "admin", "--account", "nope"],
        &["keys", "create", "--role", "admin", "--bot", "not-a-uuid"],
        &["keys", "revoke", "not-a-uuid"],
        &["accounts", "create", "--name", ""],
        &["frobnicate"],
    ] {
        let out = plaudit(&db, args);
        assert!(!out.status.success(), "{args:?} should fail");
        assert!(out.stdout.is_empty(), "{args:?} prints nothing on stdout");
        assert!(!out.stderr.is_empty(), "{args:?} explains itself");
    }
    let bad_config = Command::new(env!("CARGO_BIN_EXE_plaudit"))
        .args(["--config", "/does/not/exist.toml", "migrate"])
        .output()
        .unwrap();
    assert!(!bad_config.status.success());
}

async fn export_writes_every_conversation_to_a_file_or_stdout(backend: Backend) {
    let db = TestDatabase::new(&backend).await;
    let store = db.open_store().await;
    let now = plaudit::domain::Timestamp::now();
    let bot = store
        .create_bot(DEFAULT_ACCOUNT_ID, "Support".into(), &plaudit::domain::audit::Actor::cli(), now)
        .await
        .unwrap();
    let scope = plaudit::domain::access::Scope::account(DEFAULT_ACCOUNT_ID);
    let mut commands = Vec::new();
    for i in 0..450 {
        let body = plaudit::domain::conversation::ConversationFields {
            bot_id: Some(bot.id.to_string()),
            ..Default::default()
        };
        let input = plaudit::domain::conversation::ConversationInput::parse(&format!("c{i}"), body, now).unwrap();
        commands.push(plaudit::store::Command::UpsertConversation(input));
    }
    let results = store.apply(&scope, commands, now).await.unwrap();
    assert!(results.iter().all(Result::is_ok));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("out.jsonl");
    let out = plaudit(&db, &["export", "--output", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stdout.is_empty());
    let text = std::fs::read_to_string(&file).unwrap();
    assert_eq!(text.lines().count(), 450, "three pages, every conversation once");
    let ids: std::collections::HashSet<String> =
        text.lines().map(|l| serde_json::from_str::<Value>(l).unwrap()["id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(ids.len(), 450);
    let csv = plaudit(&db, &["export", "--format", "csv", "--q", "c449"]);
    let csv = String::from_utf8(csv.stdout).unwrap();
    assert_eq!(csv.lines().count(), 2, "a header and the one match: {csv}");
    assert!(!plaudit(&db, &["export", "--format", "xml"]).status.success());
    assert!(!plaudit(&db, &["export", "--feedback", "meh"]).status.success());
}

/// A `plaudit serve` child process on a free port.
pub(crate) struct Server {
    pub(crate) child: Child,
    pub(crate) base: String,
}

impl Server {
    pub(crate) fn start(db: &TestDatabase) -> Self {
        Self::start_with(db, &[])
    }

    /// A server with these settings (`PLAUDIT_*` variables) too.
    pub(crate) fn start_with(db: &TestDatabase, settings: &[(&str, &str)]) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new(env!("CARGO_BIN_EXE_plaudit"))
            .arg("serve")
            .envs(settings.iter().copied())
            .env("PLAUDIT_DATABASE_URL", &db.url)
            .env("PLAUDIT_LISTEN", format!("127.0.0.1:{port}"))
            .env("PLAUDIT_RATE_LIMIT_PER_SECOND", "0")
            .env("PLAUDIT_LOG_LEVEL", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start plaudit serve");
        Self { child, base: format!("http://127.0.0.1:{port}") }
    }

    pub(crate) async fn wait_ready(&self, client: &reqwest::Client) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(r) = client.get(format!("{}/readyz", self.base)).send().await
                && r.status() == 200
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("plaudit serve did not become ready");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn acknowledged_writes_survive_a_killed_process(backend: Backend) {
    let db = TestDatabase::new(&backend).await;
    let key = stdout_line(&plaudit(&db, &["keys", "create", "--role", "admin"]));
    let server = Server::start(&db);
    let client = reqwest::Client::new();
    server.wait_ready(&client).await;
    let post =
        |path: &str, body: Value| client.post(format!("{}{path}", server.base)).bearer_auth(&key).json(&body).send();
    let bot: Value = post("/v1/bots", json!({"name": "Support"})).await.unwrap().json().await.unwrap();
    let bot = bot["id"].as_str().unwrap().to_owned();
    // Many writers at once, so that commits are grouped.
    let mut acknowledged = Vec::new();
    let writes = (0..40).map(|i| {
        let events: Vec<Value> = std::iter::once(json!({"type": "conversation", "id": format!("c{i}"), "bot_id": bot}))
            .chain((0..5).map(|m| json!({"type": "message", "conversation_id": format!("c{i}"), "id": format!("c{i}-m{m}"), "role": "user", "content": "x"})))
            .collect();
        post("/v1/ingest", json!({ "events": events }))
    });
    for (i, r) in futures_util::future::join_all(writes).await.into_iter().enumerate() {
        if let Ok(r) = r
            && r.status() == 200
        {
            acknowledged.push(i);
        }
    }
    assert_eq!(acknowledged.len(), 40);
    // The process dies without any chance to flush.
    let mut server = server;
    server.child.kill().unwrap();
    server.child.wait().unwrap();

    let store = db.open_store().await;
    let scope = plaudit::domain::access::Scope::account(DEFAULT_ACCOUNT_ID);
    for i in acknowledged {
        let id = plaudit::domain::ids::ClientId::parse("id", &format!("c{i}")).unwrap();
        let t = store.transcript(&scope, &id).await.expect("an acknowledged conversation survives");
        assert_eq!(t.messages.len(), 5);
    }
}

async fn sigterm_stops_the_server_cleanly(backend: Backend) {
    let db = TestDatabase::new(&backend).await;
    let mut server = Server::start(&db);
    let client = reqwest::Client::new();
    server.wait_ready(&client).await;
    let killed = Command::new("kill").args(["-TERM", &server.child.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            assert!(status.success(), "a SIGTERM ends with exit code 0, got {status}");
            break;
        }
        assert!(Instant::now() < deadline, "the server did not stop after SIGTERM");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn users_are_invited_listed_and_changed(backend: Backend) {
    let db = TestDatabase::new(&backend).await;
    let out = Command::new(env!("CARGO_BIN_EXE_plaudit"))
        .args(["users", "invite", "--email", "Ana@Example.com", "--role", "reviewer", "--name", "Ana"])
        .env("PLAUDIT_DATABASE_URL", &db.url)
        .env("PLAUDIT_PUBLIC_URL", "https://feedback.example.com/")
        .output()
        .expect("run plaudit");
    let link = stdout_line(&out);
    let token = link.strip_prefix("https://feedback.example.com/invite/").expect("the link alone, on the public URL");
    assert!(token.starts_with("pli_"), "{link}");
    let store = db.open_store().await;
    let invitation = store.invitation(&hash_secret(token)).await.unwrap().expect("the invitation is kept by its hash");
    assert_eq!((invitation.user.email.as_str(), invitation.user.name.as_str()), ("ana@example.com", "Ana"));
    // Without public_url, the link is built on the listen address.
    let other = stdout_line(&plaudit(&db, &["users", "invite", "--email", "bo@example.com", "--role", "viewer"]));
    assert!(other.starts_with("http://127.0.0.1:8080/invite/pli_"), "{other}");

    let listed = plaudit(&db, &["users", "list"]);
    let text = String::from_utf8(listed.stdout).unwrap();
    assert!(text.contains("ana@example.com (Ana)") && text.contains("reviewer") && text.contains("invited"), "{text}");
    assert!(plaudit(&db, &["users", "set-role", "ana@example.com", "admin"]).status.success());
    assert!(plaudit(&db, &["users", "disable", "bo@example.com"]).status.success());
    let text = String::from_utf8(plaudit(&db, &["users", "list"]).stdout).unwrap();
    let line = |email: &str| text.lines().find(|l| l.contains(email)).unwrap().to_owned();
    assert!(line("ana@example.com").contains("admin"), "{text}");
    assert!(line("bo@example.com").contains("disabled"), "{text}");
    assert!(plaudit(&db, &["users", "enable", "bo@example.com"]).status.success());
    // Bad input fails with a message, not a panic.
    for args in [
        &["users", "invite", "--email", "nope", "--role", "viewer"][..],
        &["users", "invite", "--email", "c@example.com", "--role", "server"],
        &["users", "invite", "--email", "c@example.com", "--role", "viewer", "--account", "nope"],
        &["users", "disable", "nobody@example.com"],
        &["users", "set-role", "ana@example.com", "owner"],
    ] {
        let out = plaudit(&db, args);
        assert!(!out.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("panicked") && !err.is_empty(), "{args:?}: {err}");
    }
    // Every change is in the audit log, by the command line.
    let log = store
        .audit_log(
            &plaudit::domain::access::Scope::account(DEFAULT_ACCOUNT_ID),
            &Default::default(),
            plaudit::domain::page::PageRequest::first(),
        )
        .await
        .unwrap();
    let seen: Vec<&str> = log.items.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(seen, ["user.enabled", "user.disabled", "user.role_changed", "user.invited", "user.invited"]);
    assert!(log.items.iter().all(|e| e.actor.reference() == "cli"));
}

async fn backup_copies_a_serving_database(backend: Backend) {
    let db = TestDatabase::new(&backend).await;
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("copy.db");
    if !db.url.starts_with("sqlite") {
        let out = plaudit(&db, &["backup", copy.to_str().unwrap()]);
        assert!(!out.status.success(), "PostgreSQL is backed up with pg_dump");
        assert!(String::from_utf8_lossy(&out.stderr).contains("pg_dump"));
        return;
    }
    // A server writing while the copy is made.
    let store = db.open_store().await;
    let app = crate::helpers::serve(TestDatabase::shared(&db.url), store, crate::helpers::test_settings()).await;
    let bot = app.post("/v1/bots", &app.admin, json!({"name": "Shop"})).await.assert_status(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for i in 0..50 {
        app.conversation_with_answer(&app.admin, &bot, &format!("c{i}")).await;
    }
    let writer = {
        let (address, admin, bot) = (app.address.clone(), app.admin.clone(), bot.clone());
        tokio::spawn(async move {
            let client = reqwest::Client::new();
            for i in 0..100 {
                let body = json!({"bot_id": bot});
                let _ =
                    client.put(format!("{address}/v1/conversations/w{i}")).bearer_auth(&admin).json(&body).send().await;
            }
        })
    };
    let out = plaudit(&db, &["backup", copy.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    writer.await.unwrap();
    // The copy opens as a database of its own, whole: every conversation made before it is there.
    let restored = crate::helpers::open_store(&format!("sqlite://{}", copy.display())).await;
    let scope = plaudit::domain::access::Scope::account(DEFAULT_ACCOUNT_ID);
    for i in 0..50 {
        let id = plaudit::domain::ids::ClientId::parse("id", &format!("c{i}")).unwrap();
        let t = restored.transcript(&scope, &id).await.unwrap();
        assert_eq!(t.messages.len(), 2, "c{i}");
    }
    // It does not overwrite a file.
    let again = plaudit(&db, &["backup", copy.to_str().unwrap()]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
}

async fn an_older_build_refuses_a_newer_schema(backend: Backend) {
    let db = TestDatabase::new(&backend).await;
    assert!(plaudit(&db, &["migrate"]).status.success());
    // A newer Plaudit migrated the database further than this build knows.
    let newer = "INSERT INTO plaudit_migrations (version, name, applied_at) VALUES (9999, '9999_from_the_future', 0)";
    match plaudit::store::sqlite::path_from_url(&db.url) {
        Some(path) => {
            rusqlite::Connection::open(path).unwrap().execute(newer, []).unwrap();
        }
        None => {
            let (client, connection) = tokio_postgres::connect(&db.url, tokio_postgres::NoTls).await.unwrap();
            tokio::spawn(connection);
            client.batch_execute(newer).await.unwrap();
        }
    }
    let out = plaudit(&db, &["migrate"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("newer than this build knows"), "{err}");
}

async fn purge_counts_then_erases_expired_conversations(backend: Backend) {
    let db = TestDatabase::new(&backend).await;
    let store = db.open_store().await;
    let app = crate::helpers::serve(TestDatabase::shared(&db.url), store, crate::helpers::test_settings()).await;
    let bot = app.bot("Shop").await;
    let events = json!({"events": [
        {"type": "conversation", "id": "old", "bot_id": bot, "created_at": "2024-01-10T00:00:00Z"},
        {"type": "message", "conversation_id": "old", "id": "old-q", "role": "user", "content": "Hello?",
         "created_at": "2024-01-10T00:00:00Z"},
        {"type": "conversation", "id": "new", "bot_id": bot},
        {"type": "message", "conversation_id": "new", "id": "new-q", "role": "user", "content": "Hi!"},
    ]});
    app.post("/v1/ingest", &app.admin, events).await.assert_status(200);

    let dry = plaudit(&db, &["purge", "--older-than", "30", "--dry-run"]);
    let said = String::from_utf8_lossy(&dry.stderr).into_owned();
    assert!(dry.status.success(), "{said}");
    assert!(said.contains("1 conversations would be erased") && said.contains("1 messages"), "{said}");
    app.get("/v1/conversations/old", &app.admin).await.assert_status(200);

    let real = plaudit(&db, &["purge", "--older-than", "30", "--bot", &bot]);
    let said = String::from_utf8_lossy(&real.stderr).into_owned();
    assert!(real.status.success(), "{said}");
    assert!(said.contains(&format!("bot {bot}: 1 conversations erased")), "{said}");
    app.get("/v1/conversations/old", &app.admin).await.assert_error(404, "not_found");
    app.get("/v1/conversations/new", &app.admin).await.assert_status(200);

    for (args, names) in [
        (vec!["purge", "--older-than", "0"], "older_than"),
        (vec!["purge", "--older-than", "30", "--bot", "nope"], "--bot"),
        (vec!["purge"], "--older-than"),
    ] {
        let out = plaudit(&db, &args);
        assert!(!out.status.success(), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(names),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
