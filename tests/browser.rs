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
    async fn start() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("demo.db").display());
        let settings = Settings {
            listen: "127.0.0.1:0".into(),
            rate_limit_per_second: 0,
            shutdown_grace_seconds: 1,
            ..Settings::default()
        };
        let store = store::connect(&url, &settings.connect_options()).await.expect("open the demo database");
        let app = App::start(Arc::clone(&store)).await.expect("start the app");
        let data =
            demo::generate(&app, &DemoOptions::default(), Timestamp::now()).await.expect("generate the demo data");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind port 0");
        let app = Application::with_demo(Arc::clone(&store), listener, &settings, &data).await.expect("build the app");
        let base = format!("http://{}", app.local_addr().expect("local address"));
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(app.run_until(async {
            let _ = rx.await;
        }));
        Self { base, admin: data.admin_key, shutdown: Some(tx), _dir: dir }
    }
}

impl Drop for DemoServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
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
