//! The webhook receiver of the tests (`tests/receiver/receiver.mjs`): a
//! real HTTP server in a node process, which verifies each delivery with
//! the Standard Webhooks npm package and prints it.

use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
    sync::mpsc,
    time::Duration,
};

use serde_json::Value;

/// The receiver process, its port and the requests it printed.
pub struct Receiver {
    child: Child,
    pub port: u16,
    seen: mpsc::Receiver<Value>,
}

impl Receiver {
    /// A receiver on any free port.
    pub fn start() -> Self {
        Self::on_port(0)
    }

    /// A receiver on `port` (0: any free one).
    pub fn on_port(port: u16) -> Self {
        let mut child = Command::new("node")
            .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/receiver/receiver.mjs"))
            .arg(port.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("node runs the receiver (npm ci in tests/receiver)");
        let mut lines = BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        lines.read_line(&mut first).unwrap();
        let port = first.trim().parse().unwrap_or_else(|_| panic!("the receiver prints its port, not {first:?}"));
        let (tx, seen) = mpsc::channel();
        std::thread::spawn(move || {
            for line in lines.lines() {
                let Ok(line) = line else { return };
                let value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line:?}"));
                if tx.send(value).is_err() {
                    return;
                }
            }
        });
        Self { child, port, seen }
    }

    /// The URL of `path` on the receiver.
    pub fn url(&self, host: &str, path: &str) -> String {
        format!("http://{host}:{}{path}", self.port)
    }

    /// The next request the receiver got, waiting at most `wait`.
    pub fn next_within(&self, wait: Duration) -> Option<Value> {
        self.seen.recv_timeout(wait).ok()
    }

    /// The next request the receiver got (within 20 s).
    #[track_caller]
    pub fn next(&self) -> Value {
        self.next_within(Duration::from_secs(20)).expect("a request reached the receiver")
    }

    async fn control(&self, what: &str, body: &str) {
        let r = reqwest::Client::new()
            .post(self.url("127.0.0.1", &format!("/_control/{what}")))
            .body(body.to_owned())
            .send()
            .await
            .expect("the receiver answers");
        assert_eq!(r.status(), 204);
    }

    /// Verifies deliveries with this secret from now on.
    pub async fn verify_with(&self, secret: &str) {
        self.control("secret", secret).await;
    }

    /// `/hook` answers after 2 s (`true`) or at once.
    pub async fn slow(&self, slow: bool) {
        self.control(if slow { "slow" } else { "quick" }, "").await;
    }

    /// `/hook` answers 503 (`true`) or 200.
    pub async fn fail(&self, failing: bool) {
        self.control(if failing { "fail" } else { "ok" }, "").await;
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
