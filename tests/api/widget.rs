//! The widget script, the demo page and its chat backend, and the demo data.

use plaudit::{
    app::demo::{DemoData, content::PERSONAS},
    domain::{Timestamp, account::DEFAULT_ACCOUNT_ID, ids::ClientId},
};
use reqwest::Method;
use serde_json::{Value, json};

use crate::{
    both_backends,
    helpers::{Backend, TestApp, TestDatabase, demo_data, serve_site, spawn_app, test_settings},
};

both_backends!(
    the_widget_is_served_as_cacheable_javascript,
    the_demo_is_not_found_outside_demo_mode,
    the_demo_chat_logs_the_exchange_and_returns_a_working_token,
    the_demo_chat_refuses_bad_input_with_4xx,
    the_demo_data_has_what_it_promises,
    the_demo_data_is_reproducible,
);

// `plaudit demo` always runs on SQLite, whatever the configured database.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plaudit_demo_prints_its_urls_and_keys_and_regenerates_its_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.db");
    let client = reqwest::Client::new();
    for run in 0..2 {
        let mut demo = DemoProcess::start(dir.path(), &["--db", db.to_str().unwrap()]);
        let (base, admin, public) = (demo.value("Demo chat:"), demo.value("Admin key:"), demo.value("Public key:"));
        let base = base.trim_end_matches("/demo").to_owned();
        let page = client.get(format!("{base}/demo")).send().await.unwrap();
        assert_eq!(page.status(), 200);
        assert!(page.text().await.unwrap().contains(&format!("data-key=\"{public}\"")));
        let bots = client.get(format!("{base}/v1/bots")).bearer_auth(&admin).send().await.unwrap();
        let bots: Value = bots.json().await.unwrap();
        assert_eq!(bots["items"].as_array().unwrap().len(), 3, "run {run}: a fresh database, not a second copy");
        demo.stop();
    }
}

#[test]
fn plaudit_demo_never_deletes_the_configured_database() {
    let dir = tempfile::tempdir().unwrap();
    let main = dir.path().join("plaudit.db");
    std::fs::write(&main, b"precious").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_plaudit"))
        .args(["demo", "--db", main.to_str().unwrap(), "--listen", "127.0.0.1:0"])
        .env("PLAUDIT_DATABASE_URL", format!("sqlite://{}", main.display()))
        .env("PLAUDIT_LOG_LEVEL", "warn")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("pick another --db"));
    assert_eq!(std::fs::read(&main).unwrap(), b"precious");
}

/// A `plaudit demo` process and the lines it printed.
struct DemoProcess {
    child: std::process::Child,
    lines: Vec<String>,
}

impl DemoProcess {
    fn start(dir: &std::path::Path, args: &[&str]) -> Self {
        use std::io::BufRead;
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_plaudit"))
            .arg("demo")
            .args(args)
            .args(["--listen", "127.0.0.1:0"])
            .env("PLAUDIT_DATABASE_URL", format!("sqlite://{}", dir.join("main.db").display()))
            .env("PLAUDIT_LOG_LEVEL", "warn")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start plaudit demo");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let mut lines = Vec::new();
        while !lines.iter().any(|l: &String| l.contains("Public key:")) {
            match rx.recv_timeout(std::time::Duration::from_secs(60)) {
                Ok(line) => lines.push(line),
                Err(_) => {
                    let _ = child.kill();
                    panic!("plaudit demo printed no keys: {lines:?}");
                }
            }
        }
        Self { child, lines }
    }

    /// The first word after `label` on its line.
    fn value(&self, label: &str) -> String {
        let line =
            self.lines.iter().find(|l| l.contains(label)).unwrap_or_else(|| panic!("{label} in {:?}", self.lines));
        line.split(label).nth(1).unwrap().split_whitespace().next().unwrap().to_owned()
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for DemoProcess {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A server in demo mode over freshly generated demo data.
async fn spawn_demo(backend: Backend) -> (TestApp, DemoData) {
    let db = TestDatabase::new(&backend).await;
    let store = db.open_store().await;
    let data = demo_data(&store).await;
    (serve_site(db, store, test_settings(), Some(&data)).await, data)
}

async fn post_public(app: &TestApp, path: &str, body: Value) -> (u16, Value) {
    let r = app.client.post(format!("{}{path}", app.address)).json(&body).send().await.expect("answer");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn the_widget_is_served_as_cacheable_javascript(backend: Backend) {
    let app = spawn_app(backend).await;
    let r = app.client.get(format!("{}/widget.js", app.address)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let header = |name: &str| r.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    assert!(header("content-type").starts_with("text/javascript"), "{}", header("content-type"));
    assert!(header("cache-control").contains("max-age="), "{}", header("cache-control"));
    assert_eq!(header("x-content-type-options"), "nosniff");
    let etag = header("etag");
    assert!(!etag.is_empty());
    let body = r.text().await.unwrap();
    assert!(body.contains("window.Plaudit") && body.contains("attachShadow"));
    assert!(!body.contains("innerHTML"), "the widget never parses markup");

    let again =
        app.client.get(format!("{}/widget.js", app.address)).header("If-None-Match", &etag).send().await.unwrap();
    assert_eq!(again.status(), 304);
}

async fn the_demo_is_not_found_outside_demo_mode(backend: Backend) {
    let app = spawn_app(backend).await;
    let page = app.client.get(format!("{}/demo", app.address)).send().await.unwrap();
    assert_eq!(page.status(), 404);
    assert!(page.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    for path in ["/demo/demo.js", "/demo/demo.css"] {
        let r = app.client.get(format!("{}{path}", app.address)).send().await.unwrap();
        assert_eq!(r.status(), 404, "{path}");
    }
    let (status, body) = post_public(&app, "/demo/chat", json!({ "message": "Hello?" })).await;
    assert_eq!(status, 404);
    assert_eq!(body["error"], "not_found");
    // Nothing was logged.
    let inbox = app.get("/v1/conversations", &app.admin).await;
    assert_eq!(inbox.assert_status(200)["items"], json!([]));
}

async fn the_demo_chat_logs_the_exchange_and_returns_a_working_token(backend: Backend) {
    let (app, data) = spawn_demo(backend).await;
    let shop = data.bots[0].bot.id.to_string();

    let page = app.client.get(format!("{}/demo", app.address)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains(&format!(r#"src="/widget.js" data-key="{}""#, data.public_key)), "{html}");

    let (status, reply) =
        post_public(&app, "/demo/chat", json!({ "message": "When will my order arrive?", "locale": "fr-CA" })).await;
    assert_eq!(status, 200, "{reply}");
    let conversation = reply["conversation_id"].as_str().unwrap().to_owned();
    assert_eq!(reply["bot_id"], shop);
    assert_eq!(reply["topic"], "shipping");
    let transcript = app.get(&format!("/v1/conversations/{conversation}"), &app.admin).await;
    let t = transcript.assert_status(200);
    assert_eq!(t["bot_id"], shop);
    assert_eq!(t["locale"], "fr-CA");
    assert_eq!(t["contact_id"], reply["contact_id"]);
    let messages = t["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 2);
    assert_eq!(
        (messages[0]["role"].as_str(), messages[0]["content"].as_str()),
        (Some("user"), Some("When will my order arrive?"))
    );
    assert_eq!(messages[1]["id"], reply["message_id"]);
    assert_eq!(messages[1]["content"], reply["answer"]);
    assert_eq!(messages[1]["metadata"]["topic"], "shipping");

    // The token rates that answer with the demo's public key, as the visitor.
    let token = reply["token"].as_str().unwrap();
    let rated = app
        .client
        .post(format!("{}/v1/feedback", app.address))
        .bearer_auth(&data.public_key)
        .header("X-Feedback-Token", token)
        .json(&json!({ "message_id": reply["message_id"], "feedback_type": "negative", "reason": "Too vague" }))
        .send()
        .await
        .unwrap();
    assert_eq!(rated.status(), 201);
    let feedback: Value = rated.json().await.unwrap();
    assert_eq!(feedback["user_id"], reply["contact_id"]);
    assert_eq!(feedback["source"], "end_user");
    assert_eq!(feedback["status"], "pending");

    // The token continues the same conversation; ending it marks it ended.
    let (status, second) =
        post_public(&app, "/demo/chat", json!({ "message": "Something else entirely", "token": token })).await;
    assert_eq!(status, 200, "{second}");
    assert_eq!(second["conversation_id"], conversation);
    assert!(second["answer"].as_str().unwrap().contains("Something else entirely"));
    assert_eq!(second["topic"], Value::Null);
    let (status, ended) = post_public(&app, "/demo/end", json!({ "token": second["token"] })).await;
    assert_eq!(status, 200, "{ended}");
    let t = app.get(&format!("/v1/conversations/{conversation}"), &app.admin).await;
    let t = t.assert_status(200);
    assert_eq!(t["status"], "ended");
    assert_eq!(t["messages"].as_array().unwrap().len(), 4);
    let queue = app.get("/v1/feedback?status=pending&limit=1", &app.admin).await;
    assert_eq!(queue.assert_status(200)["items"][0]["message_id"], reply["message_id"]);
}

async fn the_demo_chat_refuses_bad_input_with_4xx(backend: Backend) {
    let (app, _) = spawn_demo(backend).await;
    for (body, status, code) in [
        (json!({ "message": "   " }), 400, "invalid_request"),
        (json!({ "message": "x".repeat(plaudit::web::demo::MAX_QUESTION_CHARS + 1) }), 400, "invalid_request"),
        (json!({ "message": 7 }), 400, "invalid_request"),
        (json!({ "message": "Hi", "surprise": true }), 400, "invalid_request"),
        (json!({ "message": "Hi", "locale": "not a locale" }), 400, "invalid_request"),
        (json!({ "message": "Hi", "token": "forged.token" }), 401, "invalid_feedback_token"),
    ] {
        let (got, reply) = post_public(&app, "/demo/chat", body.clone()).await;
        assert_eq!((got, reply["error"].as_str()), (status, Some(code)), "{body} → {reply}");
    }
    let (got, reply) = post_public(&app, "/demo/end", json!({ "token": "nope" })).await;
    assert_eq!((got, reply["error"].as_str()), (401, Some("invalid_feedback_token")));
    let raw = app.raw(Method::POST, "/demo/chat", "", Some("application/json"), b"{not json".to_vec()).await;
    assert_eq!(raw.status, 400);
}

async fn the_demo_data_has_what_it_promises(backend: Backend) {
    let (app, data) = spawn_demo(backend).await;
    let admin = &app.admin;
    assert_eq!(data.bots.len(), 3);
    let bots = app.get("/v1/bots", admin).await;
    assert_eq!(bots.assert_status(200)["items"].as_array().unwrap().len(), 3);
    let from = Timestamp(Timestamp::now().0 - 61 * 86_400_000).to_rfc3339();
    let mut total = 0;
    for (generated, persona) in data.bots.iter().zip(PERSONAS) {
        assert_eq!(generated.bot.name, persona.name);
        assert_eq!(generated.conversations, persona.conversations);
        assert!(generated.feedback > 20 && generated.csat > 10 && generated.votes > 3, "{generated:?}");
        let mut seen = 0;
        let mut cursor: Option<String> = None;
        loop {
            let after = cursor.as_ref().map(|c| format!("&cursor={c}")).unwrap_or_default();
            let page = app.get(&format!("/v1/conversations?bot_id={}&limit=500{after}", generated.bot.id), admin).await;
            let page = page.assert_status(200);
            seen += page["items"].as_array().unwrap().len();
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => break,
            }
        }
        assert_eq!(seen, persona.conversations, "{}", persona.name);
        total += seen;
    }
    assert!((300..=500).contains(&total), "a few hundred conversations: {total}");

    // Two variants of the first bot, B visibly better liked than A.
    let shop = &data.bots[0].bot.id;
    let compare = app.get(&format!("/v1/analytics/compare?group_by=variant&bot_id={shop}&from={from}"), admin).await;
    let groups = compare.assert_status(200)["groups"].as_array().unwrap().clone();
    let rate = |key: &str| groups.iter().find(|g| g["key"] == key).map(|g| g["rate"].as_f64().unwrap());
    let (a, b) = (rate("A").expect("variant A"), rate("B").expect("variant B"));
    assert!(b - a >= 5.0, "B ({b}) should beat A ({a}) visibly");

    // Pending feedback for the review queue, some reviewed, golden examples, auto-approval on the helpdesk.
    let pending = app.get("/v1/feedback?status=pending&limit=500", admin).await;
    assert!(pending.assert_status(200)["items"].as_array().unwrap().len() >= 20);
    let reviewed = app.get("/v1/feedback?status=reviewed&limit=500", admin).await;
    assert_eq!(reviewed.assert_status(200)["items"].as_array().unwrap().len(), data.reviewed - dismissed(&app).await);
    assert!(data.reviewed > 5);
    let auto = app.get(&format!("/v1/feedback?status=auto_approved&bot_id={}", data.bots[1].bot.id), admin).await;
    assert!(!auto.assert_status(200)["items"].as_array().unwrap().is_empty());
    let golden = app.get("/v1/golden-examples", admin).await;
    assert!(!golden.assert_status(200)["items"].as_array().unwrap().is_empty());

    // Signals over the whole period: thumbs with reasons, CSAT with stars, votes, topics.
    let overview = app.get(&format!("/v1/analytics/overview?from={from}"), admin).await;
    let o = overview.assert_status(200);
    assert!(o["message_feedback"]["thumbs_down"]["count"].as_i64().unwrap() > 20);
    assert!(o["votes"]["upvotes"].as_i64().unwrap() + o["votes"]["downvotes"].as_i64().unwrap() > 10);
    let codes: Vec<&str> =
        o["csat"]["by_question"].as_array().unwrap().iter().filter_map(|q| q["question_code"].as_str()).collect();
    assert!(codes.contains(&"SATISFACTION_STARS") && codes.contains(&"HELPFUL_THUMBS"), "{codes:?}");
    let reasons = app.get(&format!("/v1/analytics/reasons?feedback_type=negative&from={from}"), admin).await;
    assert!(reasons.assert_status(200)["items"].as_array().unwrap().len() >= 5);
    let topics = app.get(&format!("/v1/analytics/compare?group_by=topic&from={from}"), admin).await;
    assert!(topics.assert_status(200)["groups"].as_array().unwrap().len() >= 8);
    let config = app.get(&format!("/v1/bots/{shop}/rating-config"), admin).await;
    assert_eq!(
        config.assert_status(200)["conv_rating_question_codes"],
        json!(["HELPFUL_THUMBS", "SATISFACTION_STARS"])
    );
    let copy = app.get(&format!("/v1/bots/{shop}/csat-copy/fr-FR"), admin).await;
    assert_eq!(copy.assert_status(200)["resolved_locale"], "fr");

    // Every conversation and signal lies in the last 60 days.
    let oldest = app.get(&format!("/v1/conversations?to={from}"), admin).await;
    assert_eq!(oldest.assert_status(200)["items"], json!([]));

    // The printed keys work, with their roles.
    assert_eq!(app.get("/v1/keys", &data.admin_key).await.status, 200);
    assert_eq!(app.get("/v1/conversations", &data.server_key).await.status, 200);
    assert_eq!(app.get(&format!("/v1/bots/{shop}/rating-config"), &data.public_key).await.status, 200);
    assert_eq!(app.get("/v1/conversations", &data.public_key).await.status, 403);
}

async fn dismissed(app: &TestApp) -> usize {
    let r = app.get("/v1/feedback?status=dismissed&limit=500", &app.admin).await;
    r.assert_status(200)["items"].as_array().unwrap().len()
}

async fn the_demo_data_is_reproducible(backend: Backend) {
    let mut transcripts = Vec::new();
    for _ in 0..2 {
        let db = TestDatabase::new(&backend).await;
        let store = db.open_store().await;
        demo_data(&store).await;
        let scope = plaudit::domain::access::Scope::account(DEFAULT_ACCOUNT_ID);
        let mut texts = Vec::new();
        for id in ["shop-0000", "shop-0123", "it-0042", "travel-0079"] {
            let t = store.transcript(&scope, &ClientId::parse("id", id).unwrap()).await.expect(id);
            let messages: Vec<(String, String)> =
                t.messages.iter().map(|m| (m.message.id.clone(), m.message.content.clone())).collect();
            let thumbs: Vec<(i64, i64)> =
                t.messages.iter().filter_map(|m| m.feedback.as_ref().map(|f| (f.up, f.down))).collect();
            texts.push((id, t.conversation.contact_id.clone(), messages, thumbs, t.csat.len()));
        }
        transcripts.push(texts);
    }
    assert_eq!(transcripts[0], transcripts[1]);
}
