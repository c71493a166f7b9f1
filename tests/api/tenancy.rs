//! Nothing crosses accounts: another account's objects answer 404 on every route.

use reqwest::Method;
use serde_json::json;

use crate::{
    both_backends,
    helpers::{Backend, spawn_app},
};

both_backends!(another_accounts_objects_are_404_everywhere, ids_are_unique_per_account_only);

async fn another_accounts_objects_are_404_everywhere(backend: Backend) {
    let app = spawn_app(backend).await;
    let bot = app.bot("Theirs").await;
    app.conversation_with_answer(&app.admin, &bot, "c1").await;
    let key_id =
        app.post("/v1/keys", &app.admin, json!({"role": "server"})).await.body["id"].as_str().unwrap().to_owned();

    let (_, other) = app.other_account(true).await;
    let checks = [
        (Method::GET, format!("/v1/bots/{bot}"), None),
        (Method::GET, "/v1/conversations/c1".to_owned(), None),
        (
            Method::POST,
            "/v1/conversations/c1/messages".to_owned(),
            Some(json!({"id": "x1", "role": "user", "content": "x"})),
        ),
        (Method::POST, "/v1/conversations/c1/end".to_owned(), None),
        (Method::PATCH, "/v1/messages/c1-a1".to_owned(), Some(json!({"metadata": {"topic": "x"}}))),
        (Method::DELETE, format!("/v1/keys/{key_id}"), None),
    ];
    for (method, path, body) in checks {
        let r = app.send(method.clone(), &path, Some(&other), body).await;
        assert_eq!(r.status, 404, "{method} {path}: {}", r.body);
        assert_eq!(r.body["error"], "not_found");
    }
    // To them, `c1` is simply free: a PUT answers exactly as for an id never used.
    let theirs = app.put("/v1/conversations/c1", &other, json!({"locale": "en"})).await;
    let never_used = app.put("/v1/conversations/never-used", &other, json!({"locale": "en"})).await;
    assert_eq!((theirs.status, &theirs.body), (never_used.status, &never_used.body));
    // Creating on their bot is 404.
    app.put("/v1/conversations/mine", &other, json!({"bot_id": bot})).await.assert_error(404, "not_found");
    app.post("/v1/keys", &other, json!({"role": "server", "bot_id": bot})).await.assert_error(404, "not_found");
    // Lists show only the caller's own objects.
    let bots = app.get("/v1/bots", &other).await;
    assert_eq!(bots.assert_status(200)["items"], json!([]));
    let keys = app.get("/v1/keys", &other).await;
    assert!(!keys.body.to_string().contains(&key_id));
    // A batch reaching into their conversation fails per event.
    let r = app
        .post("/v1/ingest", &other, json!({"events": [{"type": "message", "conversation_id": "c1", "id": "x2", "role": "user", "content": "x"}]}))
        .await;
    assert_eq!(r.assert_status(200)["results"][0]["status"], 404);
    // And nothing of theirs changed.
    let t = app.get("/v1/conversations/c1", &app.admin).await;
    let body = t.assert_status(200);
    assert_eq!(body["status"], "open");
    assert_eq!(body["messages"].as_array().unwrap().len(), 2);
    app.get("/v1/bots", &app.admin).await.assert_status(200);
}

async fn ids_are_unique_per_account_only(backend: Backend) {
    let app = spawn_app(backend).await;
    let bot = app.bot("Ours").await;
    app.conversation_with_answer(&app.admin, &bot, "c1").await;
    let (_, other) = app.other_account(true).await;
    let their_bot =
        app.post("/v1/bots", &other, json!({"name": "Theirs"})).await.body["id"].as_str().unwrap().to_owned();
    app.conversation_with_answer(&other, &their_bot, "c1").await;
    let theirs = app.get("/v1/conversations/c1", &other).await;
    assert_eq!(theirs.assert_status(200)["bot_id"], their_bot.as_str());
    let ours = app.get("/v1/conversations/c1", &app.admin).await;
    assert_eq!(ours.assert_status(200)["bot_id"], bot.as_str());
}
