//! `spawn_app(backend)`: a real Plaudit on `127.0.0.1:0` over a fresh database,
//! and a small typed client to talk to it.

use std::{
    sync::{Arc, Once},
    time::Duration,
};

use plaudit::{
    app::{
        App,
        demo::{self, DemoData, DemoOptions},
    },
    config::Settings,
    domain::{
        Timestamp,
        access::{NewKey, Role, Secret, hash_secret},
        account::DEFAULT_ACCOUNT_ID,
    },
    startup::Application,
    store::{self, Store},
};
use reqwest::Method;
use serde_json::{Value, json};

/// Runs each listed `async fn(Backend)` on SQLite and on PostgreSQL.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::helpers::Backend::Sqlite).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(backend) = $crate::helpers::Backend::postgres() {
                        super::$name(backend).await;
                    }
                }
            )*
        }
    };
}

/// Which engine a test runs on.
#[derive(Debug, Clone)]
pub enum Backend {
    Sqlite,
    /// The server URL of `PLAUDIT_TEST_POSTGRES_URL`.
    Postgres(String),
}

static SKIP_NOTICE: Once = Once::new();

impl Backend {
    /// PostgreSQL, if configured. Unset outside CI: skipped with a notice.
    /// Unset in CI (`CI=true`): a failure, never a silent skip.
    pub fn postgres() -> Option<Self> {
        match std::env::var("PLAUDIT_TEST_POSTGRES_URL") {
            Ok(url) if !url.is_empty() => Some(Self::Postgres(url)),
            _ if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") => {
                panic!("CI=true but PLAUDIT_TEST_POSTGRES_URL is not set: the PostgreSQL tests must run in CI")
            }
            _ => {
                SKIP_NOTICE.call_once(|| {
                    eprintln!("NOTICE: skipping the PostgreSQL tests: set PLAUDIT_TEST_POSTGRES_URL to run them");
                });
                None
            }
        }
    }
}

/// A database made for one test, removed when dropped.
pub struct TestDatabase {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    schema: Option<(String, String)>,
}

impl TestDatabase {
    pub async fn new(backend: &Backend) -> Self {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}", dir.path().join("plaudit.db").display());
                Self { url, _dir: Some(dir), schema: None }
            }
            Backend::Postgres(server) => {
                let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
                let (client, conn) = tokio_postgres::connect(server, tokio_postgres::NoTls)
                    .await
                    .unwrap_or_else(|e| panic!("PLAUDIT_TEST_POSTGRES_URL is unreachable: {e}"));
                tokio::spawn(conn);
                client.batch_execute(&format!("CREATE SCHEMA {schema}")).await.expect("create schema");
                let sep = if server.contains('?') { '&' } else { '?' };
                let url = format!("{server}{sep}options=-csearch_path%3D{schema}");
                Self { url, _dir: None, schema: Some((server.clone(), schema)) }
            }
        }
    }

    pub async fn open_store(&self) -> Arc<dyn Store> {
        open_store(&self.url).await
    }

    /// Another handle on an existing database, which it leaves in place when dropped.
    pub fn shared(url: &str) -> Self {
        Self { url: url.to_owned(), _dir: None, schema: None }
    }
}

/// A store (as a separate server process would have) on the database at `url`.
pub async fn open_store(url: &str) -> Arc<dyn Store> {
    store::connect(url, &Settings::default().connect_options()).await.expect("open the test database")
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some((server, schema)) = self.schema.take() else { return };
        // Dropping runs inside the test's runtime; do the clean-up on a thread of its own.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            rt.block_on(async move {
                if let Ok((client, conn)) = tokio_postgres::connect(&server, tokio_postgres::NoTls).await {
                    tokio::spawn(conn);
                    let _ = client.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE")).await;
                }
            });
        })
        .join();
    }
}

/// The instant of an RFC 3339 field, in milliseconds. Compare instants, never
/// the strings: `…:01Z` sorts after `…:01.02Z` as text.
#[track_caller]
pub fn instant(v: &Value) -> i64 {
    let raw = v.as_str().unwrap_or_else(|| panic!("a time, not {v}"));
    plaudit::domain::Timestamp::parse_rfc3339("time", raw).expect("an RFC 3339 time").millis()
}

/// An answer: its status and JSON body (`Value::Null` when empty or not JSON).
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
    pub headers: reqwest::header::HeaderMap,
}

impl Reply {
    /// Asserts an error answer with this status and code, and returns its message.
    #[track_caller]
    pub fn assert_error(&self, status: u16, code: &str) -> String {
        assert_eq!(self.status, status, "{}", self.body);
        assert_eq!(self.body["error"], code, "{}", self.body);
        let message = self.body["message"].as_str().expect("an error has a message");
        assert!(!message.is_empty());
        message.to_owned()
    }

    /// Asserts a 400 whose error names `field`.
    #[track_caller]
    pub fn assert_invalid(&self, field: &str) {
        let message = self.assert_error(400, "invalid_request");
        assert!(
            message.contains(field) || self.body["field"].as_str().is_some_and(|f| f.contains(field)),
            "the error should name {field}: {}",
            self.body
        );
    }

    #[track_caller]
    pub fn assert_status(&self, status: u16) -> &Value {
        assert_eq!(self.status, status, "{}", self.body);
        &self.body
    }
}

/// A running server and a client for it.
pub struct TestApp {
    pub address: String,
    /// The public listener's address, when `public_listen` was set.
    pub public: Option<String>,
    /// The metrics listener's address, when `metrics_listen` was set.
    pub metrics: Option<String>,
    pub client: reqwest::Client,
    pub store: Arc<dyn Store>,
    /// An admin key of the default account.
    pub admin: String,
    /// Kept for its lifetime: dropping it removes the database.
    _db: TestDatabase,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl TestApp {
    /// The URL of the server's database.
    pub fn database_url(&self) -> &str {
        &self._db.url
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Settings for tests: no rate limit unless a test asks for one.
pub fn test_settings() -> Settings {
    Settings {
        listen: "127.0.0.1:0".into(),
        rate_limit_per_second: 0,
        public_rate_limit_per_token: 0,
        public_rate_limit_per_address: 0,
        shutdown_grace_seconds: 1,
        embeddings_poll_ms: 50,
        ..Settings::default()
    }
}

pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, test_settings()).await
}

pub async fn spawn_app_with(backend: Backend, settings: Settings) -> TestApp {
    let db = TestDatabase::new(&backend).await;
    let store = db.open_store().await;
    serve(db, store, settings).await
}

/// Starts a server on an already opened store (several servers may share one database).
pub async fn serve(db: TestDatabase, store: Arc<dyn Store>, settings: Settings) -> TestApp {
    serve_site(db, store, settings, None).await
}

/// The demo data, generated into `store` (an empty database) as `plaudit demo` does.
pub async fn demo_data(store: &Arc<dyn Store>) -> DemoData {
    let app = App::start(Arc::clone(store)).await.expect("start the app");
    demo::generate(&app, &DemoOptions::default(), Timestamp::now()).await.expect("generate the demo data")
}

/// Starts a server, as `plaudit demo` does when `demo` is given.
pub async fn serve_site(
    db: TestDatabase,
    store: Arc<dyn Store>,
    settings: Settings,
    demo: Option<&DemoData>,
) -> TestApp {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind port 0");
    let app = match demo {
        Some(data) => Application::with_demo(Arc::clone(&store), listener, &settings, data).await,
        None => Application::with_store(Arc::clone(&store), listener, &settings).await,
    }
    .expect("build the app");
    let address = format!("http://{}", app.local_addr().expect("local address"));
    let (public, metrics) =
        (app.public_addr().map(|a| format!("http://{a}")), app.metrics_addr().map(|a| format!("http://{a}")));
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app.run_until(async {
        let _ = rx.await;
    }));
    let admin = create_key(&store, DEFAULT_ACCOUNT_ID, Role::Admin, None).await;
    TestApp {
        address,
        public,
        metrics,
        client: reqwest::Client::builder().timeout(Duration::from_secs(30)).build().expect("client"),
        store,
        admin,
        _db: db,
        shutdown: Some(tx),
    }
}

/// Makes a key straight in the store, as `plaudit keys create` does; returns its secret.
pub async fn create_key(store: &Arc<dyn Store>, account: &str, role: Role, bot: Option<&str>) -> String {
    let now = Timestamp::now();
    let key = NewKey::parse(account.to_owned(), Some("test"), role, bot, None, now).expect("key");
    let secret = Secret::generate();
    store
        .create_key(
            key,
            hash_secret(secret.expose()),
            secret.display_prefix(),
            &plaudit::domain::audit::Actor::cli(),
            now,
        )
        .await
        .expect("create key");
    secret.expose().to_owned()
}

impl TestApp {
    pub async fn send(&self, method: Method, path: &str, key: Option<&str>, body: Option<Value>) -> Reply {
        let mut req = self.client.request(method, format!("{}{path}", self.address));
        if let Some(k) = key {
            req = req.bearer_auth(k);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("the server answers");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.text().await.expect("a body");
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply { status, body, headers }
    }

    pub async fn get(&self, path: &str, key: &str) -> Reply {
        self.send(Method::GET, path, Some(key), None).await
    }

    pub async fn post(&self, path: &str, key: &str, body: Value) -> Reply {
        self.send(Method::POST, path, Some(key), Some(body)).await
    }

    pub async fn put(&self, path: &str, key: &str, body: Value) -> Reply {
        self.send(Method::PUT, path, Some(key), Some(body)).await
    }

    pub async fn patch(&self, path: &str, key: &str, body: Value) -> Reply {
        self.send(Method::PATCH, path, Some(key), Some(body)).await
    }

    pub async fn delete(&self, path: &str, key: &str) -> Reply {
        self.send(Method::DELETE, path, Some(key), None).await
    }

    /// A raw request, for malformed bodies and odd headers. It goes over a
    /// connection of its own: a server refusing a body it did not read closes
    /// the connection, which a pooled client could otherwise reuse.
    pub async fn raw(&self, method: Method, path: &str, key: &str, content_type: Option<&str>, body: Vec<u8>) -> Reply {
        let client = reqwest::Client::builder().pool_max_idle_per_host(0).build().expect("client");
        let mut req = client.request(method, format!("{}{path}", self.address)).bearer_auth(key).body(body);
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        let resp = req.send().await.expect("the server answers");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = serde_json::from_str(&resp.text().await.unwrap_or_default()).unwrap_or(Value::Null);
        Reply { status, body, headers }
    }

    /// Creates a bot with the admin key; returns its id.
    pub async fn bot(&self, name: &str) -> String {
        let r = self.post("/v1/bots", &self.admin, json!({ "name": name })).await;
        r.assert_status(201)["id"].as_str().expect("bot id").to_owned()
    }

    /// Creates a key of `role` over the API; returns its secret.
    pub async fn key(&self, role: &str, bot: Option<&str>) -> String {
        let r = self.post("/v1/keys", &self.admin, json!({ "role": role, "bot_id": bot })).await;
        r.assert_status(201)["secret"].as_str().expect("secret").to_owned()
    }

    /// A second account, with an admin key of its own.
    pub async fn other_account(&self, api_access: bool) -> (String, String) {
        let account = self
            .store
            .create_account("Other".into(), api_access, &plaudit::domain::audit::Actor::cli(), Timestamp::now())
            .await
            .expect("account");
        let key = create_key(&self.store, &account.id, Role::Admin, None).await;
        (account.id, key)
    }

    /// A conversation on `bot` with one completed assistant answer `<id>-a1`.
    pub async fn conversation_with_answer(&self, key: &str, bot: &str, id: &str) {
        self.put(&format!("/v1/conversations/{id}"), key, json!({ "bot_id": bot })).await.assert_status(201);
        let path = format!("/v1/conversations/{id}/messages");
        self.post(&path, key, json!({ "id": format!("{id}-q1"), "role": "user", "content": "Where is my order?" }))
            .await
            .assert_status(201);
        self.post(
            &path,
            key,
            json!({ "id": format!("{id}-a1"), "role": "assistant", "content": "It ships tomorrow.",
                    "request_id": format!("{id}-req1") }),
        )
        .await
        .assert_status(201);
    }
}
