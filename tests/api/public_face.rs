//! The public face, through real servers: the public and metrics listeners
//! and what each serves, browser rate limits (per token, per address, with
//! and without trusted forwarding), slow and oversized clients, NUL
//! characters everywhere, feedback tokens that die with their key or a
//! rotated secret, security headers, and the seed-004 door's reason.

use std::{
    io::{Read, Write},
    net::TcpStream,
    time::{Duration, Instant},
};

use plaudit::{config::Settings, domain::access::Role, http::faces::BROWSER_ROUTES};
use reqwest::Method;
use serde_json::{Value, json};

use crate::{
    both_backends,
    helpers::{Backend, TestApp, create_key, spawn_app, spawn_app_with, test_settings},
};

both_backends!(
    the_public_listener_serves_only_the_browser_routes,
    browsers_are_limited_per_token_and_per_address,
    forwarded_addresses_count_only_through_trusted_proxies,
    slow_and_oversized_clients_are_cut_off,
    nul_characters_are_refused_everywhere,
    tokens_die_with_their_key_and_with_a_rotated_secret,
    pages_and_answers_carry_security_headers,
    the_request_feedback_door_takes_an_optional_reason,
);

/// A bot, a conversation `c1` with an answer `c1-a1`, a public key and a
/// feedback token for `c1`.
async fn rated_setup(app: &TestApp) -> (String, String, String) {
    // A key of its own, so that the setting up leaves the admin key's budget alone.
    let admin = create_key(&app.store, "default", Role::Admin, None).await;
    let bot = app.post("/v1/bots", &admin, json!({"name": "Shop"})).await.assert_status(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let admin = create_key(&app.store, "default", Role::Admin, None).await;
    app.conversation_with_answer(&admin, &bot, "c1").await;
    let public = create_key(&app.store, "default", Role::Public, None).await;
    let token = token_for(app, "c1", "visitor-1").await;
    (bot, public, token)
}

async fn token_for(app: &TestApp, conversation: &str, contact: &str) -> String {
    let path = format!("/v1/conversations/{conversation}/feedback-token");
    let server = create_key(&app.store, "default", Role::Server, None).await;
    let issued = app.post(&path, &server, json!({"contact_id": contact})).await;
    issued.assert_status(201)["token"].as_str().expect("a token").to_owned()
}

/// A request to `base` as a browser would send it with a public key and a token.
/// Who calls: a public key, maybe a feedback token, maybe a forwarded address.
struct Visitor<'a>(&'a str, Option<&'a str>, Option<&'a str>);

async fn browser_call(
    client: &reqwest::Client,
    base: &str,
    method: Method,
    path: &str,
    Visitor(public, token, forwarded_for): Visitor<'_>,
    body: Option<Value>,
) -> reqwest::Response {
    let mut req = client.request(method, format!("{base}{path}")).bearer_auth(public);
    if let Some(t) = token {
        req = req.header("x-feedback-token", t);
    }
    if let Some(f) = forwarded_for {
        req = req.header("x-forwarded-for", f);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    req.send().await.expect("the server answers")
}

fn concrete(template: &str) -> String {
    template.replace("{id}", "c1").replace("{locale}", "fr")
}

async fn the_public_listener_serves_only_the_browser_routes(backend: Backend) {
    let settings = Settings {
        public_listen: Some("127.0.0.1:0".into()),
        metrics_listen: Some("127.0.0.1:0".into()),
        ..test_settings()
    };
    let app = spawn_app_with(backend, settings).await;
    let (bot, public_key, token) = rated_setup(&app).await;
    let public = app.public.clone().expect("a public listener");
    let metrics = app.metrics.clone().expect("a metrics listener");
    let client = reqwest::Client::new();
    // Each browser route answers on the public listener as on the main one.
    for route in BROWSER_ROUTES {
        let method = Method::from_bytes(route.method.as_bytes()).unwrap();
        let path = concrete(route.path).replace("/bots/c1/", &format!("/bots/{bot}/"));
        let on_main = client.request(method.clone(), format!("{}{path}", app.address)).send().await.unwrap();
        let on_public = client.request(method.clone(), format!("{public}{path}")).send().await.unwrap();
        assert_eq!(on_public.status(), on_main.status(), "{} {path}", route.method);
    }
    // A visitor rates through the public listener.
    let thumb = json!({"message_id": "c1-a1", "feedback_type": "positive"});
    let r = browser_call(
        &client,
        &public,
        Method::POST,
        "/v1/feedback",
        Visitor(&public_key, Some(&token), None),
        Some(thumb),
    );
    assert_eq!(r.await.status(), 201);
    let preflight = client
        .request(Method::OPTIONS, format!("{public}/v1/feedback"))
        .header("origin", "https://shop.example")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.headers()["access-control-allow-origin"], "https://shop.example");
    // Nothing else answers there: every documented operation, the dashboard, the docs, metrics.
    let doc: Value = client.get(format!("{}/openapi.json", app.address)).send().await.unwrap().json().await.unwrap();
    let mut others = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            let public_route = BROWSER_ROUTES.iter().any(|r| r.path == path && r.method.eq_ignore_ascii_case(method));
            if !public_route {
                others.push((method.to_uppercase(), concrete(path)));
            }
        }
    }
    for page in ["/", "/login", "/inbox", "/settings", "/users", "/audit", "/assets/app.css", "/docs", "/openapi.json"]
    {
        others.push(("GET".into(), page.into()));
    }
    others.push(("GET".into(), "/metrics".into()));
    others.push(("POST".into(), "/login".into()));
    assert!(others.len() > 40, "{}", others.len());
    for (method, path) in &others {
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let r = client.request(method.clone(), format!("{public}{path}")).bearer_auth(&app.admin).send().await.unwrap();
        assert_eq!(r.status(), 404, "{method} {path} answers on the public listener");
    }
    // `/metrics` moved to its own listener, which serves nothing else.
    assert_eq!(client.get(format!("{}/metrics", app.address)).send().await.unwrap().status(), 404);
    let exposition = client.get(format!("{metrics}/metrics")).send().await.unwrap();
    assert_eq!(exposition.status(), 200);
    let text = exposition.text().await.unwrap();
    assert!(text.contains("plaudit_up 1") && text.contains("/v1/feedback"), "{text}");
    assert_eq!(client.get(format!("{metrics}/v1/bots")).bearer_auth(&app.admin).send().await.unwrap().status(), 404);
}

fn limited(settings: Settings) -> Settings {
    Settings {
        public_rate_limit_per_token: 1,
        public_rate_limit_per_token_burst: 3,
        public_rate_limit_per_address: 1,
        public_rate_limit_per_address_burst: 6,
        rate_limit_per_second: 1,
        rate_limit_burst: 3,
        ..settings
    }
}

async fn vote(app: &TestApp, public: &str, token: &str, forwarded: Option<&str>) -> reqwest::Response {
    let client = &app.client;
    browser_call(
        client,
        &app.address,
        Method::POST,
        "/v1/conversations/c1/upvote",
        Visitor(public, Some(token), forwarded),
        None,
    )
    .await
}

async fn browsers_are_limited_per_token_and_per_address(backend: Backend) {
    let settings = limited(Settings { trusted_proxies: vec!["127.0.0.1".into()], ..test_settings() });
    let app = spawn_app_with(backend, settings).await;
    let (_, public, token) = rated_setup(&app).await;
    // One token: its burst, then 429 with Retry-After.
    for _ in 0..3 {
        assert_eq!(vote(&app, &public, &token, Some("198.51.100.1")).await.status(), 200);
    }
    let refused = vote(&app, &public, &token, Some("198.51.100.1")).await;
    assert_eq!(refused.status(), 429);
    assert!(refused.headers()["retry-after"].to_str().unwrap().parse::<u64>().unwrap() >= 1);
    // Another visitor, same public key, is not held back by the first (the
    // key's own budget of 1 a second does not apply to public keys).
    for i in 2..6 {
        let token = token_for(&app, "c1", &format!("visitor-{i}")).await;
        assert_eq!(vote(&app, &public, &token, Some(&format!("198.51.100.{i}"))).await.status(), 200, "visitor {i}");
    }
    // One address: its burst across tokens, then 429 even with a fresh token.
    let mut statuses = Vec::new();
    for i in 10..18 {
        let token = token_for(&app, "c1", &format!("visitor-{i}")).await;
        statuses.push(vote(&app, &public, &token, Some("203.0.113.50")).await.status().as_u16());
    }
    assert_eq!(statuses[..6], [200; 6], "{statuses:?}");
    assert!(statuses[6..].iter().all(|s| *s == 429), "{statuses:?}");
    // The reads with a public key and no token count per address too.
    let config = browser_call(
        &app.client,
        &app.address,
        Method::GET,
        "/v1/api/conversation_ratings/configuration",
        Visitor(&public, None, Some("203.0.113.50")),
        None,
    );
    assert_eq!(config.await.status(), 429);
    // The public key sent far more than a key's burst of 3; server and admin
    // keys keep their own budget.
    for _ in 0..3 {
        app.get("/v1/bots", &app.admin).await.assert_status(200);
    }
    app.get("/v1/bots", &app.admin).await.assert_error(429, "rate_limited");
}

async fn forwarded_addresses_count_only_through_trusted_proxies(backend: Backend) {
    // No trusted proxy: X-Forwarded-For is anyone's to write, and ignored.
    let app = spawn_app_with(backend, limited(test_settings())).await;
    let (_, public, _) = rated_setup(&app).await;
    let mut statuses = Vec::new();
    for i in 0..8 {
        let token = token_for(&app, "c1", &format!("v{i}")).await;
        statuses.push(vote(&app, &public, &token, Some(&format!("198.51.100.{i}"))).await.status().as_u16());
    }
    assert_eq!(statuses[..6], [200; 6], "{statuses:?}");
    assert_eq!(statuses[6..], [429, 429], "one address however it is dressed: {statuses:?}");
}

/// Reads from `stream` until the server closes it (or `limit` passes); returns what came and how long it took.
fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> (String, Duration) {
    let started = Instant::now();
    stream.set_read_timeout(Some(limit)).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
        if started.elapsed() > limit {
            break;
        }
    }
    (String::from_utf8_lossy(&got).into_owned(), started.elapsed())
}

async fn slow_and_oversized_clients_are_cut_off(backend: Backend) {
    let settings = Settings { header_read_timeout_seconds: 1, body_timeout_seconds: 1, ..test_settings() };
    let app = spawn_app_with(backend, settings).await;
    let address = app.address.trim_start_matches("http://").to_owned();
    let admin = app.admin.clone();
    tokio::task::spawn_blocking(move || {
        let limit = Duration::from_secs(8);
        // Nothing at all.
        let mut silent = TcpStream::connect(&address).unwrap();
        let (_, took) = read_until_closed(&mut silent, limit);
        assert!(took < Duration::from_secs(4), "a silent client kept its socket {took:?}");
        // Half a request line.
        let mut half = TcpStream::connect(&address).unwrap();
        half.write_all(b"GET /healthz HT").unwrap();
        let (_, took) = read_until_closed(&mut half, limit);
        assert!(took < Duration::from_secs(4), "half a request line kept its socket {took:?}");
        // A body shorter than it said.
        let mut short = TcpStream::connect(&address).unwrap();
        let head = format!(
            "POST /v1/bots HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {admin}\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{{}}"
        );
        short.write_all(head.as_bytes()).unwrap();
        let (answer, took) = read_until_closed(&mut short, limit);
        assert!(took < Duration::from_secs(4), "a stalled body kept its socket {took:?}: {answer}");
        assert!(answer.starts_with("HTTP/1.1 4"), "{answer}");
        // Idle after an answer on a kept-alive connection.
        let mut idle = TcpStream::connect(&address).unwrap();
        idle.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n").unwrap();
        let (answer, took) = read_until_closed(&mut idle, limit);
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(took < Duration::from_secs(4), "an idle connection stayed {took:?}");
        // Ten gigabytes announced: refused before a byte of it is read.
        let mut huge = TcpStream::connect(&address).unwrap();
        let head = format!(
            "POST /v1/ingest HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {admin}\r\ncontent-type: application/json\r\ncontent-length: 10000000000\r\n\r\n"
        );
        huge.write_all(head.as_bytes()).unwrap();
        let started = Instant::now();
        let (answer, _) = read_until_closed(&mut huge, limit);
        assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
        assert!(answer.contains("payload_too_large"), "{answer}");
        assert!(started.elapsed() < Duration::from_millis(900), "answered before the body timeout");
    })
    .await
    .unwrap();
    // The server still serves.
    app.get("/v1/bots", &app.admin).await.assert_status(200);
}

async fn nul_characters_are_refused_everywhere(backend: Backend) {
    let app = spawn_app(backend).await;
    let (bot, public, token) = rated_setup(&app).await;
    let nul = "a\u{0}b";
    let cases: Vec<(&str, &str, Value, &str)> = vec![
        ("PUT", "/v1/conversations/c2", json!({"bot_id": bot, "contact_id": nul}), "contact_id"),
        ("PUT", "/v1/conversations/c2", json!({"bot_id": bot, "metadata": {"topic": nul}}), "metadata.topic"),
        ("PUT", "/v1/conversations/c2", json!({"bot_id": bot, "metadata": {nul: 1}}), "metadata.a\\u0000b"),
        ("POST", "/v1/conversations/c1/messages", json!({"id": "m9", "role": "user", "content": nul}), "content"),
        ("POST", "/v1/feedback", json!({"message_id": "c1-a1", "feedback_type": "negative", "reason": nul}), "reason"),
        (
            "POST",
            "/v1/feedback",
            json!({"message_id": "c1-a1", "feedback_type": "negative", "user_id": nul}),
            "user_id",
        ),
        (
            "POST",
            "/v1/conversations/c1/csat",
            json!({"question_code": "HELPFUL_THUMBS", "value": "down", "negative_reason": nul}),
            "negative_reason",
        ),
        ("POST", "/v1/bots", json!({"name": nul}), "name"),
    ];
    for (method, path, body, field) in cases {
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let r = app.send(method.clone(), path, Some(&app.admin), Some(body)).await;
        assert_eq!(r.status, 400, "{method} {path}: {}", r.body);
        assert_eq!(r.body["field"], field, "{method} {path}: {}", r.body);
    }
    let copy = json!({"title": nul, "negative_reason": "x", "negative_placeholder": "x", "negative_button": "x", "after_submission": "x"});
    let r = app.send(Method::PUT, &format!("/v1/bots/{bot}/csat-copy/fr"), Some(&app.admin), Some(copy)).await;
    assert_eq!((r.status, r.body["field"].as_str()), (400, Some("title")), "{}", r.body);
    // A query filter.
    let r = app.get("/v1/conversations?q=a%00b", &app.admin).await;
    assert_eq!((r.status, r.body["field"].as_str()), (400, Some("q")), "{}", r.body);
    // A browser's thumb through its feedback token.
    let thumb = json!({"message_id": "c1-a1", "feedback_type": "negative", "reason": nul});
    let r = browser_call(
        &app.client,
        &app.address,
        Method::POST,
        "/v1/feedback",
        Visitor(&public, Some(&token), None),
        Some(thumb),
    );
    let r = r.await;
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().await.unwrap()["field"], "reason");
    // One event of a batch: that event alone.
    let batch = json!({"events": [
        {"type": "message", "conversation_id": "c1", "id": "ok-1", "role": "user", "content": "fine"},
        {"type": "message", "conversation_id": "c1", "id": "bad-1", "role": "user", "content": nul},
    ]});
    let r = app.post("/v1/ingest", &app.admin, batch).await;
    let results = r.assert_status(200)["results"].clone();
    assert_eq!(results[0]["ok"], true, "{results}");
    assert_eq!((results[1]["ok"].as_bool(), results[1]["status"].as_u64()), (Some(false), Some(400)), "{results}");
    assert!(results[1]["message"].as_str().unwrap().starts_with("events[1].content: must not contain"), "{results}");
    // The seed-004 door's reason.
    let r = app
        .send(
            Method::POST,
            &format!("/api/v1/m2m/sites/{bot}/chat/feedback"),
            Some(&app.admin),
            Some(json!({"session_id": "c1", "request_id": "r-none", "feedback": "bad", "reason": nul})),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    // The dashboard's filters and forms.
    let browser = crate::web::Browser::admin(&app).await;
    assert!(browser.get("/inbox?q=a%00b").await.assert_html(400).contains("NUL"));
    let csrf = browser.csrf().await;
    let form = browser.post("/settings/bots", &[("csrf", csrf.as_str()), ("name", nul)]).await;
    assert!(form.assert_html(400).contains("NUL"), "{}", form.body);
    // Nothing of it was stored, and the server is fine.
    app.get("/v1/conversations/c2", &app.admin).await.assert_status(404);
    let transcript = app.get("/v1/conversations/c1", &app.admin).await;
    assert!(!transcript.assert_status(200).to_string().contains("\\u0000"));
}

async fn tokens_die_with_their_key_and_with_a_rotated_secret(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, public, _) = rated_setup(&app).await;
    // A server key issues a token; revoking that key ends the token.
    let server = app.post("/v1/keys", &app.admin, json!({"role": "server"})).await.assert_status(201).clone();
    let secret = server["secret"].as_str().unwrap();
    let issued = app.post("/v1/conversations/c1/feedback-token", secret, json!({})).await;
    let token = issued.assert_status(201)["token"].as_str().unwrap().to_owned();
    assert_eq!(vote(&app, &public, &token, None).await.status(), 200);
    app.delete(&format!("/v1/keys/{}", server["id"].as_str().unwrap()), &app.admin).await.assert_status(200);
    let r = vote(&app, &public, &token, None).await;
    assert_eq!(r.status(), 401);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"], "invalid_feedback_token");
    assert!(body["message"].as_str().unwrap().contains("revoked"), "{body}");
    // Tokens of other keys still work; rotating the secret ends them all.
    let other = token_for(&app, "c1", "visitor-2").await;
    assert_eq!(vote(&app, &public, &other, None).await.status(), 200);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_plaudit"))
        .args(["secrets", "rotate"])
        .env("PLAUDIT_DATABASE_URL", app.database_url())
        .env("PLAUDIT_LOG_LEVEL", "warn")
        .output()
        .expect("run plaudit");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let status = vote(&app, &public, &other, None).await.status();
        if status == 401 {
            break;
        }
        assert!(Instant::now() < deadline, "a token signed with the old secret still works: {status}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // New tokens, signed with the new secret, work.
    let fresh = token_for(&app, "c1", "visitor-3").await;
    assert_eq!(vote(&app, &public, &fresh, None).await.status(), 200);
}

async fn pages_and_answers_carry_security_headers(backend: Backend) {
    let app = spawn_app(backend).await;
    let client = reqwest::Client::new();
    for page in ["/docs", "/login"] {
        let r = client.get(format!("{}{page}", app.address)).send().await.unwrap();
        let h = r.headers();
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'") && csp.contains("default-src 'self'"), "{page}: {csp}");
        assert!(!csp.contains("script-src") || !csp.contains("'unsafe-inline'"), "{page}: {csp}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{page}");
        assert_eq!(h["referrer-policy"], "same-origin", "{page}");
        assert_eq!(h["x-frame-options"], "DENY", "{page}");
    }
    for json_answer in ["/v1/bots", "/openapi.json", "/v1/nothing-here", "/healthz"] {
        let r = client.get(format!("{}{json_answer}", app.address)).bearer_auth(&app.admin).send().await.unwrap();
        assert_eq!(r.headers()["x-content-type-options"], "nosniff", "{json_answer}");
    }
}

async fn the_request_feedback_door_takes_an_optional_reason(backend: Backend) {
    let app = spawn_app(backend).await;
    let bot = app.post("/v1/bots", &app.admin, json!({"name": "Support"})).await.assert_status(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.patch(&format!("/v1/bots/{bot}/settings"), &app.admin, json!({"require_reason_negative": true}))
        .await
        .assert_status(200);
    app.put("/v1/conversations/s1", &app.admin, json!({"bot_id": bot})).await.assert_status(201);
    for (id, request) in [("a1", "req-1"), ("a2", "req-2")] {
        let body = json!({"id": id, "role": "assistant", "content": "Answer", "request_id": request});
        app.post("/v1/conversations/s1/messages", &app.admin, body).await.assert_status(201);
    }
    let path = format!("/api/v1/m2m/sites/{bot}/chat/feedback");
    // No reason field in the seed's body: `bad` is accepted all the same.
    let bad = app.post(&path, &app.admin, json!({"session_id": "s1", "request_id": "req-1", "feedback": "bad"})).await;
    assert_eq!(bad.assert_status(200)["feedback"], "bad");
    // The native door still requires it.
    let native = json!({"message_id": "a2", "feedback_type": "negative"});
    app.post("/v1/feedback", &app.admin, native).await.assert_error(400, "reason_required");
    // The extension's reason is stored like a native one.
    let with_reason = json!({"session_id": "s1", "request_id": "req-2", "feedback": "bad", "reason": " Wrong price "});
    app.post(&path, &app.admin, with_reason).await.assert_status(200);
    let listed = app.get("/v1/feedback?feedback_type=negative", &app.admin).await;
    let items = listed.assert_status(200)["items"].as_array().unwrap().clone();
    let reasons: Vec<Value> = items.iter().map(|i| i["reason"].clone()).collect();
    assert!(reasons.contains(&json!("Wrong price")), "{reasons:?}");
    assert!(reasons.contains(&Value::Null), "{reasons:?}");
    let odd = json!({"session_id": "s1", "request_id": "req-2", "feedback": "bad", "reason": 5});
    assert_eq!(app.post(&path, &app.admin, odd).await.status, 400);
}
