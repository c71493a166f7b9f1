//! Feedback tokens: a public key rates exactly one conversation as its contact (SPEC §2), and CORS.

use plaudit::domain::{
    Timestamp,
    token::{TokenClaims, sign},
};
use reqwest::Method;
use serde_json::{Value, json};

use crate::{
    both_backends,
    helpers::{Backend, Reply, TestApp, spawn_app},
};

both_backends!(
    a_public_key_with_a_token_rates_its_conversation_as_the_contact,
    a_public_key_without_a_valid_token_is_401,
    a_token_rates_nothing_else,
    tokens_are_issued_by_secret_keys_for_known_conversations,
    cors_opens_the_public_routes_only,
);

async fn setup(app: &TestApp) -> (String, String) {
    let bot = app.bot("Support").await;
    app.put("/v1/conversations/c1", &app.admin, json!({"bot_id": bot, "contact_id": "visitor-7"}))
        .await
        .assert_status(201);
    app.conversation_with_answer(&app.admin, &bot, "c2").await;
    app.post("/v1/conversations/c1/messages", &app.admin, json!({"id": "a1", "role": "assistant", "content": "Hello"}))
        .await
        .assert_status(201);
    let token = app.post("/v1/conversations/c1/feedback-token", &app.admin, json!({})).await;
    (bot, token.assert_status(201)["token"].as_str().unwrap().to_owned())
}

async fn with_token(app: &TestApp, method: Method, path: &str, key: &str, token: &str, body: Option<Value>) -> Reply {
    let mut req =
        app.client.request(method, format!("{}{path}", app.address)).bearer_auth(key).header("X-Feedback-Token", token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp.json().await.unwrap_or(Value::Null);
    Reply { status, body, headers }
}

async fn a_public_key_with_a_token_rates_its_conversation_as_the_contact(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, token) = setup(&app).await;
    let public = app.key("public", None).await;
    let vote = with_token(&app, Method::POST, "/v1/conversations/c1/upvote", &public, &token, Some(json!({}))).await;
    assert_eq!(vote.assert_status(200)["vote"], "upvote");
    let thumb = with_token(
        &app,
        Method::POST,
        "/v1/feedback",
        &public,
        &token,
        Some(json!({"message_id": "a1", "feedback_type": "negative"})),
    )
    .await;
    let f = thumb.assert_status(201).clone();
    assert_eq!(f["user_id"], "visitor-7");
    assert_eq!(f["source"], "end_user");
    let mine = with_token(&app, Method::GET, "/v1/messages/a1/feedback", &public, &token, None).await;
    assert_eq!(mine.assert_status(200)["id"], f["id"]);
    let csat = with_token(
        &app,
        Method::POST,
        "/v1/conversations/c1/csat",
        &public,
        &token,
        Some(json!({"question_code": "HELPFUL_THUMBS", "value": "up"})),
    )
    .await;
    assert_eq!(csat.assert_status(201)["user_id"], "visitor-7");
    let gone = with_token(&app, Method::DELETE, "/v1/messages/a1/feedback", &public, &token, None).await;
    assert!(gone.assert_status(200)["retracted_at"].is_string());
    let t = app.get("/v1/conversations/c1", &app.admin).await.body;
    assert_eq!(t["votes"][0]["user_id"], "visitor-7");
    assert_eq!(t["votes"][0]["source"], "end_user");
}

async fn a_public_key_without_a_valid_token_is_401(backend: Backend) {
    let app = spawn_app(backend).await;
    let (bot, token) = setup(&app).await;
    let public = app.key("public", None).await;
    app.post("/v1/conversations/c1/upvote", &public, json!({})).await.assert_error(401, "invalid_feedback_token");
    let tampered = format!("{}x", token);
    with_token(&app, Method::POST, "/v1/conversations/c1/upvote", &public, &tampered, None)
        .await
        .assert_error(401, "invalid_feedback_token");
    // An expired token, signed with the real secret.
    let secret = app.store.signing_secret().await.unwrap();
    let expired = sign(
        &TokenClaims {
            account_id: "default".into(),
            bot_id: bot.clone(),
            conversation_id: "c1".into(),
            contact_id: "visitor-7".into(),
            expires_at: Timestamp::now().0 - 1,
            key_id: None,
        },
        secret.as_bytes(),
    );
    with_token(&app, Method::POST, "/v1/conversations/c1/upvote", &public, &expired, None)
        .await
        .assert_error(401, "invalid_feedback_token");
    // Another conversation's token.
    with_token(&app, Method::POST, "/v1/conversations/c2/upvote", &public, &token, None)
        .await
        .assert_error(401, "invalid_feedback_token");
    with_token(
        &app,
        Method::POST,
        "/v1/feedback",
        &public,
        &token,
        Some(json!({"message_id": "c2-a1", "feedback_type": "positive"})),
    )
    .await
    .assert_error(401, "invalid_feedback_token");
    // Another account's public key with this token.
    let (other_account, _) = app.other_account(true).await;
    let foreign =
        crate::helpers::create_key(&app.store, &other_account, plaudit::domain::access::Role::Public, None).await;
    with_token(&app, Method::POST, "/v1/conversations/c1/upvote", &foreign, &token, None)
        .await
        .assert_error(401, "invalid_feedback_token");
    let t = app.get("/v1/conversations/c1", &app.admin).await.body;
    assert!(t["votes"].as_array().unwrap().is_empty(), "nothing was recorded");
}

async fn a_token_rates_nothing_else(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, token) = setup(&app).await;
    let public = app.key("public", None).await;
    let r = with_token(
        &app,
        Method::POST,
        "/v1/conversations/c1/upvote",
        &public,
        &token,
        Some(json!({"user_id": "someone-else"})),
    )
    .await;
    r.assert_error(403, "forbidden");
    let r = with_token(
        &app,
        Method::POST,
        "/v1/conversations/c1/upvote",
        &public,
        &token,
        Some(json!({"created_at": "2024-01-01T00:00:00Z"})),
    )
    .await;
    r.assert_error(403, "forbidden");
    for (method, path) in [
        (Method::GET, "/v1/conversations/c1"),
        (Method::GET, "/v1/conversations/c1/votes"),
        (Method::GET, "/v1/feedback"),
        (Method::POST, "/v1/conversations/c1/feedback-token"),
        (Method::GET, "/v1/golden-examples"),
    ] {
        let r = with_token(&app, method.clone(), path, &public, &token, None).await;
        assert_eq!(r.status, 403, "{method} {path}: {}", r.body);
    }
}

async fn tokens_are_issued_by_secret_keys_for_known_conversations(backend: Backend) {
    let app = spawn_app(backend).await;
    setup(&app).await;
    let issued = app.post("/v1/conversations/c1/feedback-token", &app.admin, json!({"ttl_seconds": 60})).await;
    let body = issued.assert_status(201);
    assert_eq!(body["contact_id"], "visitor-7");
    assert_eq!(body["conversation_id"], "c1");
    assert!(body["expires_at"].is_string());
    app.post("/v1/conversations/c1/feedback-token", &app.admin, json!({"contact_id": "someone-else"}))
        .await
        .assert_invalid("contact_id");
    app.post("/v1/conversations/c1/feedback-token", &app.admin, json!({"ttl_seconds": 0}))
        .await
        .assert_invalid("ttl_seconds");
    app.post("/v1/conversations/nope/feedback-token", &app.admin, json!({})).await.assert_error(404, "not_found");
    let anonymous = app.post("/v1/conversations/c2/feedback-token", &app.admin, json!({})).await;
    assert_eq!(anonymous.assert_status(201)["contact_id"], "visitor:c2");
    let public = app.key("public", None).await;
    app.post("/v1/conversations/c1/feedback-token", &public, json!({})).await.assert_error(403, "forbidden");
}

async fn cors_opens_the_public_routes_only(backend: Backend) {
    let app = spawn_app(backend).await;
    setup(&app).await;
    let preflight = |path: &'static str| {
        app.client
            .request(Method::OPTIONS, format!("{}{path}", app.address))
            .header("Origin", "https://shop.example")
            .header("Access-Control-Request-Method", "POST")
            .header("Access-Control-Request-Headers", "authorization,content-type,x-feedback-token")
            .send()
    };
    for path in ["/v1/feedback", "/v1/conversations/c1/upvote", "/v1/conversations/c1/csat"] {
        let r = preflight(path).await.unwrap();
        assert!(r.status().is_success(), "{path}: {}", r.status());
        assert_eq!(r.headers()["access-control-allow-origin"], "https://shop.example", "{path}: any origin is allowed");
    }
    for path in ["/v1/keys", "/v1/ingest", "/v1/conversations/c1/feedback-token"] {
        let r = preflight(path).await.unwrap();
        assert!(r.headers().get("access-control-allow-origin").is_none(), "{path} is not open to browsers");
    }
}
