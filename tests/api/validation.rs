//! Each field's bad values answer 400 naming the field.

use serde_json::{Value, json};

use crate::{
    both_backends,
    helpers::{Backend, TestApp, spawn_app},
};

both_backends!(conversation_fields_are_validated, message_fields_are_validated, bot_and_key_fields_are_validated);

async fn expect_invalid(app: &TestApp, path: &str, body: Value, field: &str, put: bool) {
    let r = if put { app.put(path, &app.admin, body).await } else { app.post(path, &app.admin, body).await };
    r.assert_invalid(field);
}

async fn conversation_fields_are_validated(backend: Backend) {
    let app = spawn_app(backend).await;
    let bot = app.bot("Support").await;
    let cases = [
        ("/v1/conversations/has%20space", json!({"bot_id": bot}), "id"),
        (&format!("/v1/conversations/{}", "x".repeat(129)), json!({"bot_id": bot}), "id"),
        ("/v1/conversations/c1", json!({"bot_id": "not-a-uuid"}), "bot_id"),
        ("/v1/conversations/c1", json!({"bot_id": bot, "contact_id": "  "}), "contact_id"),
        ("/v1/conversations/c1", json!({"bot_id": bot, "locale": "english please"}), "locale"),
        ("/v1/conversations/c1", json!({"bot_id": bot, "metadata": [1, 2]}), "metadata"),
        ("/v1/conversations/c1", json!({"bot_id": bot, "metadata": {"variant": 3}}), "metadata.variant"),
        ("/v1/conversations/c1", json!({"bot_id": bot, "metadata": {"tags": "a"}}), "metadata.tags"),
        ("/v1/conversations/c1", json!({"bot_id": bot, "created_at": "last tuesday"}), "created_at"),
        ("/v1/conversations/c1", json!({"bot_id": bot, "created_at": "2999-01-01T00:00:00Z"}), "created_at"),
        ("/v1/conversations/c1", json!({"bot_id": bot, "status": "ended"}), "status"),
    ];
    for (path, body, field) in cases {
        expect_invalid(&app, path, body, field, true).await;
    }
    // Nothing was created by the refused requests.
    app.get("/v1/conversations/c1", &app.admin).await.assert_error(404, "not_found");
}

async fn message_fields_are_validated(backend: Backend) {
    let app = spawn_app(backend).await;
    let bot = app.bot("Support").await;
    app.put("/v1/conversations/c1", &app.admin, json!({"bot_id": bot})).await.assert_status(201);
    let path = "/v1/conversations/c1/messages";
    let cases = [
        (json!({"role": "user", "content": "x"}), "id"),
        (json!({"id": "a/b", "role": "user", "content": "x"}), "id"),
        (json!({"id": "m1", "content": "x"}), "role"),
        (json!({"id": "m1", "role": "robot", "content": "x"}), "role"),
        (json!({"id": "m1", "role": "activity", "content": "x"}), "role"),
        (json!({"id": "m1", "role": "user"}), "content"),
        (json!({"id": "m1", "role": "user", "content": "x", "request_id": "r1"}), "request_id"),
        (json!({"id": "m1", "role": "assistant", "content": "x", "status": "done"}), "status"),
        (
            json!({"id": "m1", "role": "assistant", "content": "x", "metadata": {"confidence": 1.2}}),
            "metadata.confidence",
        ),
        (
            json!({"id": "m1", "role": "assistant", "content": "x", "metadata": {"confidence": "high"}}),
            "metadata.confidence",
        ),
        (json!({"id": "m1", "role": "assistant", "content": "x", "metadata": {"topic": ""}}), "metadata.topic"),
        (json!({"id": "m1", "role": "assistant", "content": "x", "created_at": "2024-13-01T00:00:00Z"}), "created_at"),
    ];
    for (body, field) in cases {
        expect_invalid(&app, path, body, field, false).await;
    }
    app.post(path, &app.admin, json!({"id": "m1", "role": "assistant", "content": "x", "status": "pending"}))
        .await
        .assert_status(201);
    app.patch("/v1/messages/m1", &app.admin, json!({})).await.assert_invalid("body");
    app.patch("/v1/messages/m1", &app.admin, json!({"status": "finished"})).await.assert_invalid("status");
    app.patch("/v1/messages/m1", &app.admin, json!({"metadata": "x"})).await.assert_invalid("metadata");
    let t = app.get("/v1/conversations/c1", &app.admin).await;
    assert_eq!(t.assert_status(200)["messages"].as_array().unwrap().len(), 1);
}

async fn bot_and_key_fields_are_validated(backend: Backend) {
    let app = spawn_app(backend).await;
    expect_invalid(&app, "/v1/bots", json!({"name": ""}), "name", false).await;
    expect_invalid(&app, "/v1/bots", json!({"name": "x".repeat(257)}), "name", false).await;
    expect_invalid(&app, "/v1/bots", json!({}), "name", false).await;
    expect_invalid(&app, "/v1/keys", json!({"role": "root"}), "role", false).await;
    expect_invalid(&app, "/v1/keys", json!({}), "role", false).await;
    expect_invalid(&app, "/v1/keys", json!({"role": "server", "expires_in": 0}), "expires_in", false).await;
    expect_invalid(&app, "/v1/keys", json!({"role": "server", "expires_in": -5}), "expires_in", false).await;
    expect_invalid(&app, "/v1/keys", json!({"role": "server", "bot_id": "nope"}), "bot_id", false).await;
    expect_invalid(&app, "/v1/keys", json!({"role": "server", "name": ""}), "name", false).await;
}
