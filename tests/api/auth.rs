//! Authentication, roles, plans and the rate limit.

use std::time::Duration;

use plaudit::{
    config::Settings,
    domain::{
        Timestamp,
        access::{NewKey, Role, Scope, Secret, hash_secret},
        account::DEFAULT_ACCOUNT_ID,
        ids::Uuid,
    },
    store::{self, ConnectOptions},
};
use reqwest::Method;
use serde_json::json;

use crate::{
    both_backends,
    helpers::{Backend, TestDatabase, open_store, serve, spawn_app, spawn_app_with, test_settings},
};

both_backends!(
    a_request_without_a_key_is_401,
    an_unknown_key_is_401,
    bearer_and_x_api_key_both_work,
    a_revoked_key_is_401_at_once,
    a_key_revoked_elsewhere_is_401_within_the_key_cache_time,
    an_expired_key_is_401,
    a_kept_key_is_401_once_it_expires,
    a_public_key_may_not_use_server_routes,
    a_server_key_may_not_use_admin_routes,
    a_plan_without_api_access_is_403,
    a_key_over_its_rate_is_429_with_retry_after,
    a_key_bound_to_a_bot_acts_only_on_that_bot,
);

async fn a_request_without_a_key_is_401(backend: Backend) {
    let app = spawn_app(backend).await;
    let r = app.send(Method::GET, "/v1/bots", None, None).await;
    r.assert_error(401, "invalid_api_key");
    let r = app.send(Method::POST, "/v1/ingest", None, Some(json!({"events": []}))).await;
    r.assert_error(401, "invalid_api_key");
}

async fn an_unknown_key_is_401(backend: Backend) {
    let app = spawn_app(backend).await;
    app.get("/v1/bots", "plk_notarealkeynotarealkeynotarealkey0000").await.assert_error(401, "invalid_api_key");
    app.get("/v1/bots", "").await.assert_error(401, "invalid_api_key");
}

async fn bearer_and_x_api_key_both_work(backend: Backend) {
    let app = spawn_app(backend).await;
    let url = format!("{}/v1/bots", app.address);
    let bearer = app.client.get(&url).header("Authorization", format!("Bearer {}", app.admin)).send().await.unwrap();
    assert_eq!(bearer.status(), 200);
    let header = app.client.get(&url).header("X-API-Key", &app.admin).send().await.unwrap();
    assert_eq!(header.status(), 200);
    let wrong_scheme =
        app.client.get(&url).header("Authorization", format!("Basic {}", app.admin)).send().await.unwrap();
    assert_eq!(wrong_scheme.status(), 401);
}

async fn a_revoked_key_is_401_at_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let created = app.post("/v1/keys", &app.admin, json!({"role": "server"})).await;
    let body = created.assert_status(201);
    let (id, secret) = (body["id"].as_str().unwrap().to_owned(), body["secret"].as_str().unwrap().to_owned());
    app.get("/v1/bots", &secret).await.assert_status(200);
    let revoked = app.delete(&format!("/v1/keys/{id}"), &app.admin).await;
    assert!(revoked.assert_status(200)["revoked_at"].is_string());
    app.get("/v1/bots", &secret).await.assert_error(401, "invalid_api_key");
}

/// Another instance on the same database (or the command line) revokes a key
/// this instance has just admitted: it is refused once the key cache time is
/// over. With no cache, at once.
async fn a_key_revoked_elsewhere_is_401_within_the_key_cache_time(backend: Backend) {
    for cache_ms in [300, 0] {
        let db = TestDatabase::new(&backend).await;
        let url = db.url.clone();
        let opts = ConnectOptions { key_cache_ms: cache_ms, ..Settings::default().connect_options() };
        let app = serve(db, store::connect(&url, &opts).await.unwrap(), test_settings()).await;
        let created = app.post("/v1/keys", &app.admin, json!({"role": "server"})).await;
        let body = created.assert_status(201);
        let secret = body["secret"].as_str().unwrap();
        app.get("/v1/bots", secret).await.assert_status(200);
        let elsewhere = open_store(&url).await;
        let id = Uuid::parse("id", body["id"].as_str().unwrap()).unwrap();
        elsewhere
            .revoke_key(
                &Scope::account(DEFAULT_ACCOUNT_ID),
                &id,
                &plaudit::domain::audit::Actor::cli(),
                Timestamp::now(),
            )
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(cache_ms + 100)).await;
        app.get("/v1/bots", secret).await.assert_error(401, "invalid_api_key");
    }
}

/// A key kept in the cache still expires on time: expiry is decided on every
/// request.
async fn a_kept_key_is_401_once_it_expires(backend: Backend) {
    let app = spawn_app(backend).await;
    let now = Timestamp::now();
    let mut key = NewKey::parse(DEFAULT_ACCOUNT_ID.into(), None, Role::Server, None, None, now).unwrap();
    key.expires_at = Some(Timestamp(now.0 + 1_000));
    let secret = Secret::generate();
    app.store
        .create_key(
            key,
            hash_secret(secret.expose()),
            secret.display_prefix(),
            &plaudit::domain::audit::Actor::cli(),
            now,
        )
        .await
        .unwrap();
    app.get("/v1/bots", secret.expose()).await.assert_status(200);
    let left = 1_000 - (Timestamp::now().0 - now.0);
    tokio::time::sleep(Duration::from_millis(u64::try_from(left).unwrap_or(0) + 50)).await;
    app.get("/v1/bots", secret.expose()).await.assert_error(401, "invalid_api_key");
}

async fn an_expired_key_is_401(backend: Backend) {
    let app = spawn_app(backend).await;
    let now = Timestamp::now();
    let mut key = NewKey::parse(DEFAULT_ACCOUNT_ID.into(), None, Role::Server, None, None, now).unwrap();
    key.expires_at = Some(Timestamp(now.0 - 1));
    let secret = Secret::generate();
    app.store
        .create_key(
            key,
            hash_secret(secret.expose()),
            secret.display_prefix(),
            &plaudit::domain::audit::Actor::cli(),
            now,
        )
        .await
        .unwrap();
    app.get("/v1/bots", secret.expose()).await.assert_error(401, "invalid_api_key");
}

async fn a_public_key_may_not_use_server_routes(backend: Backend) {
    let app = spawn_app(backend).await;
    let bot = app.bot("Support").await;
    let public = app.key("public", None).await;
    app.get("/v1/bots", &public).await.assert_error(403, "forbidden");
    app.put("/v1/conversations/c1", &public, json!({"bot_id": bot})).await.assert_error(403, "forbidden");
    app.post("/v1/ingest", &public, json!({"events": []})).await.assert_error(403, "forbidden");
    app.get("/v1/conversations/c1", &public).await.assert_error(403, "forbidden");
}

async fn a_server_key_may_not_use_admin_routes(backend: Backend) {
    let app = spawn_app(backend).await;
    let server = app.key("server", None).await;
    app.post("/v1/bots", &server, json!({"name": "x"})).await.assert_error(403, "forbidden");
    app.post("/v1/keys", &server, json!({"role": "admin"})).await.assert_error(403, "forbidden");
    app.get("/v1/keys", &server).await.assert_error(403, "forbidden");
    app.get("/v1/bots", &server).await.assert_status(200);
}

async fn a_plan_without_api_access_is_403(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, key) = app.other_account(false).await;
    app.get("/v1/bots", &key).await.assert_error(403, "api_access_not_available_on_plan");
    app.post("/v1/bots", &key, json!({"name": "x"})).await.assert_error(403, "api_access_not_available_on_plan");
}

async fn a_key_over_its_rate_is_429_with_retry_after(backend: Backend) {
    let settings = plaudit::config::Settings { rate_limit_per_second: 1, rate_limit_burst: 2, ..test_settings() };
    let app = spawn_app_with(backend, settings).await;
    let mut statuses = Vec::new();
    let mut limited = None;
    for _ in 0..5 {
        let r = app.get("/v1/bots", &app.admin).await;
        statuses.push(r.status);
        if r.status == 429 {
            limited = Some(r);
        }
    }
    assert_eq!(&statuses[..2], &[200, 200], "the burst is allowed: {statuses:?}");
    let limited = limited.expect("a request over the rate is refused");
    limited.assert_error(429, "rate_limited");
    let retry: u64 = limited.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=2).contains(&retry), "{retry}");
    // Another key has its own budget.
    let other = crate::helpers::create_key(&app.store, DEFAULT_ACCOUNT_ID, Role::Server, None).await;
    app.get("/v1/bots", &other).await.assert_status(200);
}

async fn a_key_bound_to_a_bot_acts_only_on_that_bot(backend: Backend) {
    let app = spawn_app(backend).await;
    let (mine, theirs) = (app.bot("Mine").await, app.bot("Theirs").await);
    let bound = app.key("server", Some(&mine)).await;
    // Lists and reads see only its bot.
    let listed = app.get("/v1/bots", &bound).await;
    let items = listed.assert_status(200)["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], mine.as_str());
    app.get(&format!("/v1/bots/{theirs}"), &bound).await.assert_error(404, "not_found");
    // It creates conversations on its bot without naming it, and may not name another.
    let created = app.put("/v1/conversations/c1", &bound, json!({})).await;
    assert_eq!(created.assert_status(201)["bot_id"], mine.as_str());
    app.put("/v1/conversations/c2", &bound, json!({"bot_id": theirs})).await.assert_error(403, "forbidden");
    // Another bot's conversation does not exist for it.
    app.conversation_with_answer(&app.admin, &theirs, "other").await;
    app.get("/v1/conversations/other", &bound).await.assert_error(404, "not_found");
    app.post("/v1/conversations/other/messages", &bound, json!({"id": "z", "role": "user", "content": "x"}))
        .await
        .assert_error(404, "not_found");
    app.patch("/v1/messages/other-a1", &bound, json!({"metadata": {}})).await.assert_error(404, "not_found");
    app.put("/v1/conversations/other", &bound, json!({})).await.assert_error(404, "not_found");
}
