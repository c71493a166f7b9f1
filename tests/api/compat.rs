//! The compatible doors: every documented request shape of seeds 000, 001, 003
//! and 004 replayed, with its documented answer.

use serde_json::{Value, json};

use crate::{
    both_backends,
    helpers::{Backend, TestApp, spawn_app},
};

both_backends!(
    seed_000_vote_requests_get_their_answers,
    seed_001_configuration_round_trips,
    seed_003_feedback_requests_get_their_answers,
    seed_004_feedback_is_recorded_once_with_its_time,
    seed_004_errors_have_their_documented_bodies,
);

async fn m2m(app: &TestApp, key: Option<&str>, site: &str, body: Value) -> (u16, Value) {
    let mut req = app.client.post(format!("{}/api/v1/m2m/sites/{site}/chat/feedback", app.address)).json(&body);
    if let Some(k) = key {
        req = req.header("X-API-Key", k);
    }
    let resp = req.send().await.unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap_or(Value::Null))
}

async fn seed_000_vote_requests_get_their_answers(backend: Backend) {
    let app = spawn_app(backend).await;
    let bot = app.bot("Support").await;
    app.put("/v1/conversations/conv-1", &app.admin, json!({"bot_id": bot})).await.assert_status(201);
    let up = app
        .post("/v1/conversations/conv-1/upvote", &app.admin, json!({"value": 75, "reason": "Met expectations well"}))
        .await;
    assert_eq!(up.assert_status(200), &json!({"conversation_id": "conv-1", "vote": "upvote"}));
    let down = app
        .post(
            "/v1/conversations/conv-1/downvote",
            &app.admin,
            json!({"user_id": "u2", "value": -60, "reason": "Too generic"}),
        )
        .await;
    assert_eq!(down.assert_status(200), &json!({"conversation_id": "conv-1", "vote": "downvote"}));
}

async fn seed_001_configuration_round_trips(backend: Backend) {
    let app = spawn_app(backend).await;
    let bot = app.bot("Support").await;
    let bound = app.key("admin", Some(&bot)).await;
    let url = "/v1/api/conversation_ratings/configuration";
    let got = app.get(url, &bound).await;
    assert_eq!(
        got.assert_status(200),
        &json!({"conv_rating_active": true, "conv_rating_popup_active": true,
                "conv_rating_question_codes": ["HELPFUL_THUMBS", "EXPERIENCE_THUMBS"]})
    );
    let patched = app.patch(url, &bound, json!({"conv_rating_active": true, "conv_rating_popup_active": true})).await;
    assert_eq!(patched.assert_status(200), got.assert_status(200));
    let off = app.patch(url, &bound, json!({"conv_rating_active": false, "conv_rating_popup_active": false})).await;
    assert_eq!(off.assert_status(200)["conv_rating_active"], false);
    // The native route sees the same configuration: one store, two doors.
    assert_eq!(app.get(&format!("/v1/bots/{bot}/rating-config"), &app.admin).await.body["conv_rating_active"], false);
    app.patch(url, &bound, json!({"conv_rating_active": true})).await.assert_invalid("conv_rating_popup_active");
    // An unbound key acts on the account's only bot, and must name one once there are several.
    assert_eq!(app.get(url, &app.admin).await.assert_status(200)["conv_rating_active"], false);
    app.bot("Second").await;
    app.get(url, &app.admin).await.assert_invalid("bot_id");
    assert_eq!(
        app.get(&format!("{url}?bot_id={bot}"), &app.admin).await.assert_status(200)["conv_rating_active"],
        false
    );
}

async fn seed_003_feedback_requests_get_their_answers(backend: Backend) {
    let app = spawn_app(backend).await;
    let bot = app.bot("Support").await;
    app.conversation_with_answer(&app.admin, &bot, "c1").await;
    let r = app
        .post(
            "/v1/feedback",
            &app.admin,
            json!({"message_id": "c1-a1", "feedback_type": "positive", "reason": "Very helpful", "user_id": "u1"}),
        )
        .await;
    let f = r.assert_status(201).clone();
    assert_eq!(f["status"], "pending");
    let got = app.get("/v1/messages/c1-a1/feedback?user_id=u1", &app.admin).await;
    assert_eq!(got.assert_status(200), &f);
    let none = app.get("/v1/messages/c1-a1/feedback?user_id=u9", &app.admin).await;
    assert_eq!(none.assert_status(200), &Value::Null);
}

async fn seed_004_feedback_is_recorded_once_with_its_time(backend: Backend) {
    let app = spawn_app(backend).await;
    let bot = app.bot("Support").await;
    app.put("/v1/conversations/user-123-web", &app.admin, json!({"bot_id": bot, "contact_id": "user-123"}))
        .await
        .assert_status(201);
    let request_id = "req_550e8400e29b41d4a716446655440000";
    app.post(
        "/v1/conversations/user-123-web/messages",
        &app.admin,
        json!({"id": "ans-1", "role": "assistant", "content": "Here you go", "request_id": request_id}),
    )
    .await
    .assert_status(201);
    let server = app.key("server", None).await;
    let body = json!({"session_id": "user-123-web", "request_id": request_id, "feedback": "good"});
    let (status, first) = m2m(&app, Some(&server), &bot, body.clone()).await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["status"], "ok");
    assert_eq!(first["request_id"], request_id);
    assert_eq!(first["feedback"], "good");
    let at = first["feedback_submitted_at"].as_str().unwrap().to_owned();
    assert_eq!(first.as_object().unwrap().len(), 4);
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let (_, again) = m2m(&app, Some(&server), &bot, body).await;
    assert_eq!(again["feedback_submitted_at"], at.as_str(), "the same feedback keeps its original time");
    let (_, bad) = m2m(
        &app,
        Some(&server),
        &bot,
        json!({"session_id": "user-123-web", "request_id": request_id, "feedback": "bad"}),
    )
    .await;
    assert_eq!(bad["feedback"], "bad");
    assert!(
        crate::helpers::instant(&bad["feedback_submitted_at"]) > crate::helpers::instant(&json!(at)),
        "a changed value updates the time"
    );
    // The native door sees the same record.
    let native = app.get("/v1/messages/ans-1/feedback?user_id=user-123", &app.admin).await;
    let native = native.assert_status(200);
    assert_eq!(native["feedback_type"], "negative");
    assert_eq!(native["source"], "api");
}

async fn seed_004_errors_have_their_documented_bodies(backend: Backend) {
    let app = spawn_app(backend).await;
    let bot = app.bot("Support").await;
    app.put("/v1/conversations/s1", &app.admin, json!({"bot_id": bot})).await.assert_status(201);
    app.post(
        "/v1/conversations/s1/messages",
        &app.admin,
        json!({"id": "p1", "role": "assistant", "content": "...", "request_id": "r-pending", "status": "pending"}),
    )
    .await
    .assert_status(201);
    app.post(
        "/v1/conversations/s1/messages",
        &app.admin,
        json!({"id": "d1", "role": "assistant", "content": "Done", "request_id": "r-done"}),
    )
    .await
    .assert_status(201);
    let server = app.key("server", None).await;
    let err = |e: &str| json!({ "error": e });
    let ok_body = json!({"session_id": "s1", "request_id": "r-done", "feedback": "good"});

    assert_eq!(
        m2m(&app, Some(&server), &bot, json!({"session_id": "s1", "request_id": "r-done", "feedback": "meh"})).await,
        (400, err("feedback must be 'good' or 'bad'"))
    );
    assert_eq!(
        m2m(&app, Some(&server), &bot, json!({"session_id": "s1", "request_id": "r-done"})).await,
        (400, err("feedback must be 'good' or 'bad'"))
    );
    assert_eq!(
        m2m(&app, Some(&server), &bot, json!({"request_id": "r-done", "feedback": "good"})).await,
        (400, err("session_id is required"))
    );
    assert_eq!(
        m2m(&app, Some(&server), &bot, json!({"session_id": "s1", "feedback": "good"})).await,
        (400, err("request_id is required"))
    );
    assert_eq!(
        m2m(&app, Some(&server), "not-a-uuid", ok_body.clone()).await,
        (400, err("site_id must be a valid UUID"))
    );
    assert_eq!(m2m(&app, None, &bot, ok_body.clone()).await, (401, err("invalid_api_key")));
    assert_eq!(m2m(&app, Some("plk_wrong"), &bot, ok_body.clone()).await, (401, err("invalid_api_key")));
    let (_, restricted) = app.other_account(false).await;
    assert_eq!(
        m2m(&app, Some(&restricted), &bot, ok_body.clone()).await,
        (403, err("api_access_not_available_on_plan"))
    );
    assert_eq!(
        m2m(&app, Some(&server), &bot, json!({"session_id": "s1", "request_id": "nope", "feedback": "good"})).await,
        (404, err("request not found"))
    );
    assert_eq!(
        m2m(
            &app,
            Some(&server),
            &bot,
            json!({"session_id": "other-session", "request_id": "r-done", "feedback": "good"})
        )
        .await,
        (404, err("request not found"))
    );
    let other_bot = app.bot("Other").await;
    assert_eq!(m2m(&app, Some(&server), &other_bot, ok_body.clone()).await, (404, err("request not found")));
    let (_, other_account) = app.other_account(true).await;
    assert_eq!(m2m(&app, Some(&other_account), &bot, ok_body.clone()).await, (404, err("request not found")));
    assert_eq!(
        m2m(&app, Some(&server), &bot, json!({"session_id": "s1", "request_id": "r-pending", "feedback": "good"}))
            .await,
        (409, err("feedback can only be submitted for completed responses"))
    );
    let malformed = app
        .client
        .post(format!("{}/api/v1/m2m/sites/{bot}/chat/feedback", app.address))
        .header("X-API-Key", &server)
        .body("{")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), 400);
    assert!(malformed.json::<Value>().await.unwrap()["error"].is_string());
    let (status, _) = m2m(&app, Some(&server), &bot, ok_body).await;
    assert_eq!(status, 200);
}
