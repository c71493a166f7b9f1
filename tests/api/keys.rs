//! API keys over the API.

use serde_json::json;

use crate::{
    both_backends,
    helpers::{Backend, spawn_app},
};

both_backends!(
    a_key_secret_is_shown_once_and_never_listed,
    keys_can_be_bound_to_a_bot_of_the_account,
    a_key_with_an_expiry_reports_it,
    revoking_twice_keeps_the_first_time,
);

async fn a_key_secret_is_shown_once_and_never_listed(backend: Backend) {
    let app = spawn_app(backend).await;
    let created = app.post("/v1/keys", &app.admin, json!({"role": "server", "name": "chat backend"})).await;
    let body = created.assert_status(201).clone();
    let secret = body["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("plk_"));
    assert_eq!(body["role"], "server");
    assert_eq!(body["name"], "chat backend");
    assert!(secret.starts_with(body["prefix"].as_str().unwrap()));
    let listed = app.get("/v1/keys", &app.admin).await;
    let text = listed.assert_status(200).to_string();
    assert!(!text.contains(&secret), "the secret must not be listed");
    assert!(text.contains(body["id"].as_str().unwrap()));
    // The new key works.
    app.get("/v1/bots", &secret).await.assert_status(200);
}

async fn keys_can_be_bound_to_a_bot_of_the_account(backend: Backend) {
    let app = spawn_app(backend).await;
    let bot = app.bot("Support").await;
    let created = app.post("/v1/keys", &app.admin, json!({"role": "server", "bot_id": bot})).await;
    assert_eq!(created.assert_status(201)["bot_id"], bot.as_str());
    let missing = uuid::Uuid::new_v4().to_string();
    app.post("/v1/keys", &app.admin, json!({"role": "server", "bot_id": missing})).await.assert_error(404, "not_found");
}

async fn a_key_with_an_expiry_reports_it(backend: Backend) {
    let app = spawn_app(backend).await;
    let created = app.post("/v1/keys", &app.admin, json!({"role": "public", "expires_in": 3600})).await;
    let body = created.assert_status(201);
    assert!(body["expires_at"].is_string());
    assert!(crate::helpers::instant(&body["expires_at"]) > crate::helpers::instant(&body["created_at"]));
}

async fn revoking_twice_keeps_the_first_time(backend: Backend) {
    let app = spawn_app(backend).await;
    let created = app.post("/v1/keys", &app.admin, json!({"role": "server"})).await;
    let id = created.assert_status(201)["id"].as_str().unwrap().to_owned();
    let first = app.delete(&format!("/v1/keys/{id}"), &app.admin).await.assert_status(200)["revoked_at"].clone();
    let second = app.delete(&format!("/v1/keys/{id}"), &app.admin).await.assert_status(200)["revoked_at"].clone();
    assert_eq!(first, second);
    app.delete(&format!("/v1/keys/{}", uuid::Uuid::new_v4()), &app.admin).await.assert_error(404, "not_found");
}
