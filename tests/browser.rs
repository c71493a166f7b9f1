//! End-to-end tests in a real headless Chromium.
//!
//! Every `tests/browser/*.test.mjs` runs as `node <file> <base-url> <admin-key>`
//! against a real server of its own, on a free port, over a fresh demo
//! database (the data `plaudit demo` serves, with `/demo` turned on). A file
//! that exits non-zero fails this test, with its output.
//!
//! They need node, Chromium (`/usr/bin/chromium`, or `PLAUDIT_CHROMIUM`) and
//! `npm ci` in `tests/browser`. When one is missing the tests are skipped
//! with a notice, except under `CI=true`, where that is a failure.

use std::{
    path::{Path, PathBuf},
    process::{Command, Stdio},
    sync::Arc,
    time::{Duration, Instant},
};

use plaudit::{
    app::{
        App,
        demo::{self, DemoOptions},
    },
    config::Settings,
    domain::Timestamp,
    startup::Application,
    store,
};

/// Longest a test file may take.
const FILE_TIMEOUT: Duration = Duration::from_secs(300);

fn browser_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join("browser")
}

fn chromium() -> PathBuf {
    std::env::var_os("PLAUDIT_CHROMIUM").map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from)
}

/// What is missing to run the browser tests, if anything.
fn missing() -> Option<String> {
    let node = Command::new("node").arg("--version").output().map(|o| o.status.success()).unwrap_or(false);
    if !node {
        return Some("node is not installed".into());
    }
    if !chromium().is_file() {
        return Some(format!(
            "Chromium is not at {} (apt-get install chromium, or set PLAUDIT_CHROMIUM)",
            chromium().display()
        ));
    }
    if !browser_dir().join("node_modules").join("playwright-core").is_dir() {
        return Some("tests/browser/node_modules is missing (run `npm ci` in tests/browser)".into());
    }
    None
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// A Plaudit serving the demo on a free port, over its own fresh SQLite file.
struct DemoServer {
    base: String,
    admin: String,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    _dir: tempfile::TempDir,
}

impl DemoServer {
    /// The URL of its database.
    fn database_url(&self) -> String {
        format!("sqlite://{}", self._dir.path().join("demo.db").display())
    }
}

impl DemoServer {
    async fn start() -> Self {
        Self::start_with(|_, _| Ok(None::<()>)).await.0
    }

    /// The demo server, with `configure` given the settings and the base URL
    /// before the application is built (the port is bound first). What
    /// `configure` returns is kept alive as long as the caller needs it.
    async fn start_with<T>(
        configure: impl FnOnce(&mut Settings, &str) -> std::io::Result<Option<T>>,
    ) -> (Self, Option<T>) {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("demo.db").display());
        let mut settings = Settings {
            listen: "127.0.0.1:0".into(),
            rate_limit_per_second: 0,
            shutdown_grace_seconds: 1,
            // Webhooks may go to a receiver the test starts on this machine.
            webhooks_allow_http: true,
            webhooks_allow_private: true,
            ..Settings::default()
        };
        let store = store::connect(&url, &settings.connect_options()).await.expect("open the demo database");
        let app = App::start(Arc::clone(&store)).await.expect("start the app");
        let data =
            demo::generate(&app, &DemoOptions::default(), Timestamp::now()).await.expect("generate the demo data");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind port 0");
        let base = format!("http://{}", listener.local_addr().expect("local address"));
        let kept = configure(&mut settings, &base).expect("configure the server");
        let app = Application::with_demo(Arc::clone(&store), listener, &settings, &data).await.expect("build the app");
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(app.run_until(async {
            let _ = rx.await;
        }));
        (Self { base, admin: data.admin_key, shutdown: Some(tx), _dir: dir }, kept)
    }
}

impl Drop for DemoServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// The single sign-on provider's people: Ana is invited as a reviewer, Vic
/// joins through the join domain, Zed has no user, Eve's email is unverified.
const SSO_USERS: &str = r#"[
  {"sub": "ana", "email": "ana@example.com", "email_verified": true, "name": "Ana", "password": "ana password"},
  {"sub": "vic", "email": "vic@partner.example", "email_verified": true, "name": "Vic", "password": "vic password"},
  {"sub": "zed", "email": "zed@elsewhere.org", "email_verified": true, "name": "Zed", "password": "zed password"},
  {"sub": "eve", "email": "eve@partner.example", "email_verified": false, "name": "Eve", "password": "eve password"}
]"#;

/// A running `oidc-provider.mjs`, stopped when dropped.
struct Provider(std::process::Child);

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the OpenID Connect provider for a client whose redirect URI is
/// `redirect`; returns it with its issuer.
fn start_provider(redirect: &str) -> std::io::Result<(Provider, String)> {
    use std::io::BufRead as _;
    let mut child = Command::new("node")
        .arg("oidc-provider.mjs")
        .current_dir(browser_dir())
        .env("OIDC_PORT", "0")
        .env("OIDC_CLIENT_ID", "plaudit-test")
        .env("OIDC_CLIENT_SECRET", "a client secret")
        .env("OIDC_REDIRECT_URI", redirect)
        .env("OIDC_USERS", SSO_USERS)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()?;
    let stdout = child.stdout.take().expect("piped stdout");
    let provider = Provider(child);
    let mut line = String::new();
    std::io::BufReader::new(stdout).read_line(&mut line)?;
    let issuer = line.trim().strip_prefix("OIDC_ISSUER=").map(str::to_owned);
    issuer.map(|i| (provider, i)).ok_or_else(|| std::io::Error::other(format!("the provider said {line:?}")))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn people_sign_in_by_password_and_through_a_real_provider() {
    let provider_missing = !browser_dir().join("node_modules").join("oidc-provider").is_dir();
    if let Some(what) = missing().or(provider_missing.then(|| "oidc-provider is not installed (npm ci)".into())) {
        assert!(!in_ci(), "CI=true but the browser tests cannot run: {what}");
        eprintln!("NOTICE: skipping the single sign-on browser test: {what}");
        return;
    }
    let (server, provider) = DemoServer::start_with(|settings, base| {
        let (provider, issuer) = start_provider(&format!("{base}/auth/oidc/callback"))?;
        settings.public_url = Some(base.to_owned());
        settings.oidc_issuer = Some(issuer);
        settings.oidc_client_id = Some("plaudit-test".into());
        settings.oidc_client_secret = Some("a client secret".into());
        settings.oidc_join_domain = Some("partner.example".into());
        Ok(Some(provider))
    })
    .await;
    let store = store::connect(&server.database_url(), &Settings::default().connect_options()).await.expect("store");
    let ana = plaudit::domain::people::NewUser::parse("default".into(), "ana@example.com", Some("Ana"), "reviewer")
        .expect("a user");
    let cli = plaudit::domain::audit::Actor::cli();
    let expires = Timestamp(Timestamp::now().0 + 3_600_000);
    store.invite_user(ana, "unused".into(), expires, &cli, Timestamp::now()).await.expect("invite Ana");
    let (base, admin) = (server.base.clone(), server.admin.clone());
    let file = browser_dir().join("people.mjs");
    let (ok, output) = tokio::task::spawn_blocking(move || run_node(&file, &base, &admin)).await.expect("node");
    println!("== people.mjs\n{output}");
    drop(provider);
    assert!(ok, "browser test people.mjs failed:\n{output}");
}

/// Runs one test file to the end (or the timeout); returns success and its output.
fn run_node(file: &Path, base: &str, admin: &str) -> (bool, String) {
    let out = tempfile::NamedTempFile::new().expect("output file");
    let mut child = Command::new("node")
        .arg(file)
        .arg(base)
        .arg(admin)
        .current_dir(browser_dir())
        .stdin(Stdio::null())
        .stdout(out.reopen().expect("reopen"))
        .stderr(out.reopen().expect("reopen"))
        .spawn()
        .expect("start node");
    let started = Instant::now();
    let success = loop {
        if let Some(status) = child.try_wait().expect("wait for node") {
            break status.success();
        }
        if started.elapsed() > FILE_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            break false;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let mut output = std::fs::read_to_string(out.path()).unwrap_or_default();
    if started.elapsed() > FILE_TIMEOUT {
        output.push_str(&format!("\n(killed after {} s)", FILE_TIMEOUT.as_secs()));
    }
    (success, output)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_tests_pass_in_chromium() {
    if let Some(what) = missing() {
        assert!(!in_ci(), "CI=true but the browser tests cannot run: {what}");
        eprintln!("NOTICE: skipping the browser tests: {what}");
        return;
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(browser_dir())
        .expect("tests/browser")
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.ends_with(".test.mjs")))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no tests/browser/*.test.mjs found");
    let mut failures = Vec::new();
    for file in files {
        let server = DemoServer::start().await;
        let (base, admin) = (server.base.clone(), server.admin.clone());
        let path = file.clone();
        let (ok, output) =
            tokio::task::spawn_blocking(move || run_node(&path, &base, &admin)).await.expect("the node runner");
        let name = file.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
        println!("== {name}\n{output}");
        if !ok {
            failures.push(format!("{name}:\n{output}"));
        }
        drop(server);
    }
    assert!(failures.is_empty(), "browser tests failed:\n{}", failures.join("\n"));
}
