//! Framework rejections answer in the API's JSON error shape, never 500.

use reqwest::Method;
use serde_json::json;

use crate::{
    both_backends,
    helpers::{Backend, spawn_app},
};

both_backends!(
    malformed_json_is_400,
    a_body_without_json_content_type_is_415,
    a_body_over_one_mebibyte_is_413,
    a_wrong_type_for_a_field_is_400_naming_it,
    unknown_routes_and_methods_answer_json,
    a_bad_query_string_is_400,
);

async fn malformed_json_is_400(backend: Backend) {
    let app = spawn_app(backend).await;
    for body in [&b"{"[..], b"{\"events\": [}", b"null", b"", b"\xff\xfe"] {
        let r = app.raw(Method::POST, "/v1/ingest", &app.admin, Some("application/json"), body.to_vec()).await;
        r.assert_error(400, "invalid_request");
    }
    let r = app.raw(Method::POST, "/v1/bots", &app.admin, Some("application/json"), b"[1,2".to_vec()).await;
    assert!(r.assert_error(400, "invalid_request").contains("JSON"));
}

async fn a_body_without_json_content_type_is_415(backend: Backend) {
    let app = spawn_app(backend).await;
    let r = app.raw(Method::POST, "/v1/bots", &app.admin, Some("text/plain"), br#"{"name":"x"}"#.to_vec()).await;
    r.assert_error(415, "unsupported_media_type");
    let r = app.raw(Method::POST, "/v1/bots", &app.admin, None, br#"{"name":"x"}"#.to_vec()).await;
    r.assert_error(415, "unsupported_media_type");
}

async fn a_body_over_one_mebibyte_is_413(backend: Backend) {
    let app = spawn_app(backend).await;
    let big = format!(r#"{{"events": [{{"type": "x", "pad": "{}"}}]}}"#, "a".repeat(2 * 1024 * 1024));
    let r = app.raw(Method::POST, "/v1/ingest", &app.admin, Some("application/json"), big.into_bytes()).await;
    r.assert_error(413, "payload_too_large");
    let bot = app.bot("Support").await;
    app.put("/v1/conversations/c1", &app.admin, json!({"bot_id": bot})).await.assert_status(201);
    let huge = json!({"id": "m1", "role": "user", "content": "b".repeat(1024 * 1024 + 1)}).to_string().into_bytes();
    let r = app.raw(Method::POST, "/v1/conversations/c1/messages", &app.admin, Some("application/json"), huge).await;
    r.assert_error(413, "payload_too_large");
    // The server is still fine afterwards.
    app.get("/v1/bots", &app.admin).await.assert_status(200);
}

async fn a_wrong_type_for_a_field_is_400_naming_it(backend: Backend) {
    let app = spawn_app(backend).await;
    let bot = app.bot("Support").await;
    app.put("/v1/conversations/c1", &app.admin, json!({"bot_id": bot})).await.assert_status(201);
    let path = "/v1/conversations/c1/messages";
    app.post(path, &app.admin, json!({"id": "m1", "role": "user", "content": 5})).await.assert_invalid("content");
    app.post(path, &app.admin, json!({"id": 7, "role": "user", "content": "x"})).await.assert_invalid("id");
    app.post(path, &app.admin, json!({"id": "m1", "role": "user", "content": "x", "status": 1}))
        .await
        .assert_invalid("status");
    app.post(path, &app.admin, json!({"id": "m1", "role": "user", "content": "x", "colour": "red"}))
        .await
        .assert_invalid("colour");
    app.post("/v1/keys", &app.admin, json!({"role": "server", "expires_in": "soon"}))
        .await
        .assert_invalid("expires_in");
    app.post("/v1/keys", &app.admin, json!({"role": "server", "expires_in": 1.5})).await.assert_invalid("expires_in");
    app.post("/v1/bots", &app.admin, json!(["name"])).await.assert_error(400, "invalid_request");
}

async fn unknown_routes_and_methods_answer_json(backend: Backend) {
    let app = spawn_app(backend).await;
    app.get("/v1/nothing-here", &app.admin).await.assert_error(404, "not_found");
    app.send(Method::GET, "/nothing", None, None).await.assert_error(404, "not_found");
    app.delete("/v1/bots", &app.admin).await.assert_error(405, "method_not_allowed");
}

async fn a_bad_query_string_is_400(backend: Backend) {
    let app = spawn_app(backend).await;
    app.get("/v1/bots?limit=lots", &app.admin).await.assert_invalid("limit");
    app.get("/v1/bots?limit=0", &app.admin).await.assert_invalid("limit");
    app.get("/v1/bots?limit=501", &app.admin).await.assert_invalid("limit");
    app.get("/v1/bots?cursor=nonsense", &app.admin).await.assert_invalid("cursor");
}
