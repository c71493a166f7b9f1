//! Webhook deliveries across crashes and instances (SPEC §13), with
//! `plaudit serve` child processes: an acknowledged event is delivered
//! after a `kill -9`; two instances on one PostgreSQL deliver each event
//! once, and one takes over a killed one's webhook within a minute.

use std::{
    collections::{BTreeMap, BTreeSet},
    time::{Duration, Instant},
};

use serde_json::{Value, json};

use crate::{
    both_backends,
    cli::{Server, plaudit, stdout_line},
    helpers::{Backend, TestDatabase},
    receiver::Receiver,
};

both_backends!(acknowledged_events_are_delivered_after_a_kill);

const SETTINGS: [(&str, &str); 4] = [
    ("PLAUDIT_WEBHOOKS_ALLOW_HTTP", "true"),
    ("PLAUDIT_WEBHOOKS_ALLOW_PRIVATE", "true"),
    ("PLAUDIT_WEBHOOKS_POLL_MS", "50"),
    ("PLAUDIT_LOG_LEVEL", "error"),
];

/// A client of one server with an admin key.
struct Client {
    http: reqwest::Client,
    key: String,
}

impl Client {
    async fn call(&self, server: &Server, method: reqwest::Method, path: &str, body: Value) -> Value {
        let r = self
            .http
            .request(method, format!("{}{path}", server.base))
            .bearer_auth(&self.key)
            .json(&body)
            .timeout(Duration::from_secs(30))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{path}: {}", r.status());
        r.json().await.unwrap_or(Value::Null)
    }

    /// A bot with a conversation of `answers` answers; returns the bot.
    async fn setup(&self, server: &Server, answers: usize) -> String {
        let bot = self.call(server, reqwest::Method::POST, "/v1/bots", json!({"name": "Shop"})).await;
        let bot = bot["id"].as_str().unwrap().to_owned();
        let mut events = vec![json!({"type": "conversation", "id": "c", "bot_id": bot})];
        for i in 0..answers {
            events.push(json!({"type": "message", "conversation_id": "c", "id": format!("a{i}"), "role": "assistant",
                "content": format!("Answer {i}")}));
        }
        self.call(server, reqwest::Method::POST, "/v1/ingest", json!({"events": events})).await;
        bot
    }

    /// A webhook of feedback.created to `url`; returns its secret.
    async fn webhook(&self, server: &Server, url: &str) -> String {
        let body = json!({"url": url, "events": ["feedback.created"]});
        let made = self.call(server, reqwest::Method::POST, "/v1/webhooks", body).await;
        made["secret"].as_str().unwrap().to_owned()
    }

    /// A thumbs-down on answer `i`; returns the feedback's id.
    async fn thumb(&self, server: &Server, i: usize) -> String {
        let body = json!({"message_id": format!("a{i}"), "user_id": "u", "feedback_type": "negative"});
        let made = self.call(server, reqwest::Method::POST, "/v1/feedback", body).await;
        made["id"].as_str().unwrap().to_owned()
    }
}

/// The feedback ids the receiver got, each with how many times it came,
/// once every one of `expected` came (at most `wait`).
fn received(receiver: &Receiver, expected: &BTreeSet<String>, wait: Duration) -> BTreeMap<String, usize> {
    let deadline = Instant::now() + wait;
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    while !expected.iter().all(|id| seen.contains_key(id)) {
        let left = deadline.saturating_duration_since(Instant::now());
        let Some(request) = receiver.next_within(left) else {
            let missing: Vec<_> = expected.iter().filter(|id| !seen.contains_key(*id)).collect();
            panic!("{} events never arrived: {missing:?}", missing.len());
        };
        if request["answered"] == 503 {
            continue;
        }
        assert_eq!(request["verified"], true, "{request}");
        let body: Value = serde_json::from_str(request["body"].as_str().unwrap()).unwrap();
        *seen.entry(body["data"]["id"].as_str().unwrap().to_owned()).or_default() += 1;
    }
    seen
}

async fn acknowledged_events_are_delivered_after_a_kill(backend: Backend) {
    // The receiver is down: its port refuses connections.
    let port = Receiver::start().port;
    let db = TestDatabase::new(&backend).await;
    let client = Client {
        http: reqwest::Client::new(),
        key: stdout_line(&plaudit(&db, &["keys", "create", "--role", "admin"])),
    };
    let mut server = Server::start_with(&db, &SETTINGS);
    server.wait_ready(&client.http).await;
    client.setup(&server, 100).await;
    let secret = client.webhook(&server, &format!("http://127.0.0.1:{port}/hook")).await;
    let mut acknowledged = BTreeSet::new();
    for i in 0..100 {
        acknowledged.insert(client.thumb(&server, i).await);
    }
    server.child.kill().unwrap();
    server.child.wait().unwrap();

    // The receiver comes back; so does the server, and every event arrives.
    let receiver = Receiver::on_port(port);
    receiver.verify_with(&secret).await;
    let server = Server::start_with(&db, &SETTINGS);
    server.wait_ready(&client.http).await;
    let seen = received(&receiver, &acknowledged, Duration::from_secs(60));
    assert_eq!(seen.len(), 100);
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_deliver_each_event_once_and_take_over_from_a_dead_one() {
    let Some(backend) = Backend::postgres() else { return };
    let receiver = Receiver::start();
    let db = TestDatabase::new(&backend).await;
    let client = Client {
        http: reqwest::Client::new(),
        key: stdout_line(&plaudit(&db, &["keys", "create", "--role", "admin"])),
    };
    let (mut a, mut b) = (Server::start_with(&db, &SETTINGS), Server::start_with(&db, &SETTINGS));
    a.wait_ready(&client.http).await;
    b.wait_ready(&client.http).await;
    client.setup(&a, 240).await;
    let secret = client.webhook(&a, &receiver.url("127.0.0.1", "/hook")).await;
    receiver.verify_with(&secret).await;

    // Both up: thumbs through each, every event exactly once.
    let mut acknowledged = BTreeSet::new();
    for i in 0..200 {
        acknowledged.insert(client.thumb(if i % 2 == 0 { &a } else { &b }, i).await);
    }
    let seen = received(&receiver, &acknowledged, Duration::from_secs(60));
    assert!(receiver.next_within(Duration::from_secs(2)).is_none(), "no event came twice");
    assert!(seen.values().all(|n| *n == 1), "{seen:?}");

    // `a` alone is sending (slowly) when it dies: `b`, started again, takes
    // the webhook over once `a`'s lease runs out, within a minute.
    b.child.kill().unwrap();
    b.child.wait().unwrap();
    receiver.slow(true).await;
    let mut later = BTreeSet::new();
    for i in 200..240 {
        later.insert(client.thumb(&a, i).await);
    }
    receiver.next_within(Duration::from_secs(10)).expect("a sends");
    let b = Server::start_with(&db, &SETTINGS);
    b.wait_ready(&client.http).await;
    a.child.kill().unwrap();
    a.child.wait().unwrap();
    let killed = Instant::now();
    receiver.slow(false).await;
    let seen = received(&receiver, &later, Duration::from_secs(60));
    assert!(killed.elapsed() < Duration::from_secs(60), "taken over in {:?}", killed.elapsed());
    assert_eq!(seen.len(), 40);
    drop(b);
}
