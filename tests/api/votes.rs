//! Conversation votes (SPEC §5).

use std::sync::Arc;

use serde_json::{Value, json};

use crate::{
    both_backends,
    helpers::{Backend, TestApp, TestDatabase, serve, spawn_app, test_settings},
};
use plaudit::store::{self, ConnectOptions};

both_backends!(
    an_upvote_records_a_vote_and_an_activity_message,
    an_empty_body_is_a_full_strength_vote,
    values_outside_the_range_are_400,
    a_second_vote_inside_the_window_records_nothing,
    a_vote_after_the_window_is_recorded,
    fifty_concurrent_duplicate_votes_record_exactly_one,
    concurrent_votes_by_different_voters_all_record,
    votes_are_per_voter_and_permanent,
    a_vote_on_an_unknown_conversation_is_404,
    racing_votes_agree_whatever_the_write_lanes,
);

async fn setup(app: &TestApp) -> String {
    let bot = app.bot("Support").await;
    app.put("/v1/conversations/c1", &app.admin, json!({"bot_id": bot, "contact_id": "visitor-7"}))
        .await
        .assert_status(201);
    bot
}

fn activity(transcript: &Value) -> Vec<Value> {
    transcript["messages"].as_array().unwrap().iter().filter(|m| m["role"] == "activity").cloned().collect()
}

async fn an_upvote_records_a_vote_and_an_activity_message(backend: Backend) {
    let app = spawn_app(backend).await;
    let bot = setup(&app).await;
    let r = app
        .post(
            "/v1/conversations/c1/upvote",
            &app.admin,
            json!({"value": 80, "reason": "Quick and clear", "user_id": "u1"}),
        )
        .await;
    assert_eq!(r.assert_status(200), &json!({"conversation_id": "c1", "vote": "upvote"}));
    let t = app.get("/v1/conversations/c1", &app.admin).await.body;
    let votes = t["votes"].as_array().unwrap();
    assert_eq!(votes.len(), 1);
    let vote = &votes[0];
    assert_eq!(vote["value"], 80);
    assert_eq!(vote["direction"], "up");
    assert_eq!(vote["reason"], "Quick and clear");
    assert_eq!(vote["user_id"], "u1");
    assert_eq!(vote["bot_id"], bot.as_str());
    assert_eq!(vote["contact_id"], "visitor-7");
    assert_eq!(vote["source"], "reviewer", "an admin key votes as a reviewer");
    let acts = activity(&t);
    assert_eq!(acts.len(), 1);
    assert_eq!(acts[0]["id"], vote["activity_message_id"]);
    assert_eq!(acts[0]["metadata"]["kind"], "upvote");
    assert_eq!(acts[0]["metadata"]["value"], 80);
    assert_eq!(acts[0]["metadata"]["user_id"], "u1");
    assert_eq!(acts[0]["metadata"]["reason"], "Quick and clear");
    assert_eq!(acts[0]["metadata"]["vote_id"], vote["id"]);
    assert!(acts[0]["content"].as_str().unwrap().contains("upvoted"));
    assert_eq!(t["satisfaction"]["value"], "positive");
    let listed = app.get("/v1/conversations/c1/votes", &app.admin).await;
    assert_eq!(listed.assert_status(200)["items"].as_array().unwrap().len(), 1);
}

async fn an_empty_body_is_a_full_strength_vote(backend: Backend) {
    let app = spawn_app(backend).await;
    setup(&app).await;
    let server = app.key("server", None).await;
    let r = app.send(reqwest::Method::POST, "/v1/conversations/c1/downvote", Some(&server), None).await;
    assert_eq!(r.assert_status(200)["vote"], "downvote");
    let t = app.get("/v1/conversations/c1", &app.admin).await.body;
    assert_eq!(t["votes"][0]["value"], -100);
    assert_eq!(t["votes"][0]["source"], "api");
    assert!(t["votes"][0]["user_id"].as_str().unwrap().starts_with("key:"));
    assert_eq!(t["satisfaction"]["value"], "negative");
    app.post("/v1/conversations/c1/upvote", &app.admin, json!({})).await.assert_status(200);
    let t = app.get("/v1/conversations/c1", &app.admin).await.body;
    assert_eq!(t["votes"][1]["value"], 100);
}

async fn values_outside_the_range_are_400(backend: Backend) {
    let app = spawn_app(backend).await;
    setup(&app).await;
    for (path, value) in [
        ("upvote", json!(0)),
        ("upvote", json!(101)),
        ("upvote", json!(-5)),
        ("upvote", json!(50.5)),
        ("upvote", json!("high")),
        ("downvote", json!(0)),
        ("downvote", json!(-101)),
        ("downvote", json!(5)),
    ] {
        let r = app.post(&format!("/v1/conversations/c1/{path}"), &app.admin, json!({ "value": value })).await;
        assert_eq!(r.status, 400, "{path} {value}: {}", r.body);
        assert!(r.body["message"].as_str().unwrap().contains("value"), "{}", r.body);
    }
    let t = app.get("/v1/conversations/c1", &app.admin).await.body;
    assert!(t["votes"].as_array().unwrap().is_empty());
    assert!(activity(&t).is_empty());
}

async fn a_second_vote_inside_the_window_records_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    setup(&app).await;
    app.post("/v1/conversations/c1/upvote", &app.admin, json!({"user_id": "u1"})).await.assert_status(200);
    let again = app
        .post("/v1/conversations/c1/downvote", &app.admin, json!({"user_id": "u1", "reason": "changed my mind"}))
        .await;
    assert_eq!(again.assert_status(200), &json!({"conversation_id": "c1", "vote": "downvote"}));
    let t = app.get("/v1/conversations/c1", &app.admin).await.body;
    assert_eq!(t["votes"].as_array().unwrap().len(), 1);
    assert_eq!(activity(&t).len(), 1);
    assert_eq!(t["votes"][0]["direction"], "up", "votes are never turned around");
    assert_eq!(t["satisfaction"]["value"], "positive");
}

async fn a_vote_after_the_window_is_recorded(backend: Backend) {
    let app = spawn_app(backend).await;
    let bot = setup(&app).await;
    let s = app.patch(&format!("/v1/bots/{bot}/settings"), &app.admin, json!({"vote_window_seconds": 60})).await;
    assert_eq!(s.assert_status(200)["vote_window_seconds"], 60);
    // Two votes two minutes apart (backfilled times), and one in between.
    app.post("/v1/conversations/c1/upvote", &app.admin, json!({"user_id": "u1", "created_at": "2024-01-01T10:00:00Z"}))
        .await
        .assert_status(200);
    app.post("/v1/conversations/c1/upvote", &app.admin, json!({"user_id": "u1", "created_at": "2024-01-01T10:00:30Z"}))
        .await
        .assert_status(200);
    app.post(
        "/v1/conversations/c1/downvote",
        &app.admin,
        json!({"user_id": "u1", "created_at": "2024-01-01T10:02:00Z"}),
    )
    .await
    .assert_status(200);
    let t = app.get("/v1/conversations/c1", &app.admin).await.body;
    let values: Vec<i64> = t["votes"].as_array().unwrap().iter().map(|v| v["value"].as_i64().unwrap()).collect();
    assert_eq!(values, [100, -100]);
    assert_eq!(activity(&t).len(), 2);
}

async fn fifty_concurrent_duplicate_votes_record_exactly_one(backend: Backend) {
    let app = spawn_app(backend).await;
    setup(&app).await;
    let sends = (0..50).map(|i| {
        let path = if i % 2 == 0 { "/v1/conversations/c1/upvote" } else { "/v1/conversations/c1/downvote" };
        app.post(path, &app.admin, json!({"user_id": "racer"}))
    });
    for r in futures_util::future::join_all(sends).await {
        r.assert_status(200);
    }
    let t = app.get("/v1/conversations/c1", &app.admin).await.body;
    assert_eq!(t["votes"].as_array().unwrap().len(), 1, "exactly one vote");
    assert_eq!(activity(&t).len(), 1, "exactly one activity message");
}

async fn concurrent_votes_by_different_voters_all_record(backend: Backend) {
    let app = spawn_app(backend).await;
    setup(&app).await;
    let sends = (0..30).map(|i| {
        let path = if i % 3 == 0 { "/v1/conversations/c1/downvote" } else { "/v1/conversations/c1/upvote" };
        app.post(path, &app.admin, json!({"user_id": format!("voter-{i}"), "reason": "racing"}))
    });
    for r in futures_util::future::join_all(sends).await {
        r.assert_status(200);
    }
    let t = app.get("/v1/conversations/c1", &app.admin).await.body;
    assert_eq!(t["votes"].as_array().unwrap().len(), 30, "every voter's vote, no deadlock");
    assert_eq!(activity(&t).len(), 30);
}

async fn votes_are_per_voter_and_permanent(backend: Backend) {
    let app = spawn_app(backend).await;
    setup(&app).await;
    for user in ["a", "b", "c"] {
        app.post("/v1/conversations/c1/upvote", &app.admin, json!({"user_id": user})).await.assert_status(200);
    }
    let t = app.get("/v1/conversations/c1", &app.admin).await.body;
    assert_eq!(t["votes"].as_array().unwrap().len(), 3);
    // Re-sending the votes in a batch changes nothing.
    let events: Vec<Value> = ["a", "b", "c"]
        .iter()
        .map(|u| json!({"type": "vote", "conversation_id": "c1", "direction": "down", "user_id": u}))
        .collect();
    let r = app.post("/v1/ingest", &app.admin, json!({ "events": events })).await;
    for result in r.assert_status(200)["results"].as_array().unwrap() {
        assert_eq!(result["status"], 200);
    }
    let t = app.get("/v1/conversations/c1", &app.admin).await.body;
    assert_eq!(t["votes"].as_array().unwrap().len(), 3);
    assert!(t["votes"].as_array().unwrap().iter().all(|v| v["direction"] == "up"));
}

async fn a_vote_on_an_unknown_conversation_is_404(backend: Backend) {
    let app = spawn_app(backend).await;
    app.post("/v1/conversations/nope/upvote", &app.admin, json!({})).await.assert_error(404, "not_found");
    let (_, other) = app.other_account(true).await;
    setup(&app).await;
    app.post("/v1/conversations/c1/upvote", &other, json!({})).await.assert_error(404, "not_found");
    app.get("/v1/conversations/c1/votes", &other).await.assert_error(404, "not_found");
}

/// Two server processes' worth of state (two stores, two servers) on one
/// PostgreSQL database, racing the same votes.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_servers_on_one_postgres_record_one_vote() {
    let Some(backend) = Backend::postgres() else { return };
    let db = TestDatabase::new(&backend).await;
    let url = db.url.clone();
    let first = serve(db, crate::helpers::open_store(&url).await, test_settings()).await;
    let second_db = TestDatabase::shared(&url);
    let second = serve(second_db, crate::helpers::open_store(&url).await, test_settings()).await;
    assert!(!Arc::ptr_eq(&first.store, &second.store));
    let bot = first.bot("Support").await;
    first.put("/v1/conversations/c1", &first.admin, json!({"bot_id": bot})).await.assert_status(201);
    for round in 0..3 {
        let voter = format!("racer-{round}");
        let sends = (0..40).map(|i| {
            let app = if i % 2 == 0 { &first } else { &second };
            let key = if i % 2 == 0 { &first.admin } else { &second.admin };
            app.post("/v1/conversations/c1/upvote", key, json!({"user_id": voter}))
        });
        for r in futures_util::future::join_all(sends).await {
            r.assert_status(200);
        }
    }
    let t = first.get("/v1/conversations/c1", &first.admin).await.body;
    assert_eq!(t["votes"].as_array().unwrap().len(), 3, "one vote per racer across both servers");
    assert_eq!(activity(&t).len(), 3);
}

/// PostgreSQL writes single votes in batches, `postgres_write_lanes` at
/// once: with one lane, racing votes meet in the same batches (a voter's
/// repeats among them); with none, each is written alone. Either way one
/// racer's vote counts, every distinct voter's does, and the conversation's
/// satisfaction is its latest vote's.
async fn racing_votes_agree_whatever_the_write_lanes(backend: Backend) {
    if matches!(backend, Backend::Sqlite) {
        return; // SQLite's one writer commits whatever is queued; it has no lanes.
    }
    for lanes in [1, 0] {
        let db = TestDatabase::new(&backend).await;
        let options = ConnectOptions { postgres_write_lanes: lanes, ..test_settings().connect_options() };
        let store = store::connect(&db.url, &options).await.expect("open the test database");
        let app = serve(db, store, test_settings()).await;
        setup(&app).await;
        let racers = (0..40).map(|i| {
            let path = if i % 2 == 0 { "/v1/conversations/c1/upvote" } else { "/v1/conversations/c1/downvote" };
            app.post(path, &app.admin, json!({"user_id": "racer"}))
        });
        let voters = (0..40)
            .map(|i| app.post("/v1/conversations/c1/upvote", &app.admin, json!({"user_id": format!("voter-{i}")})));
        for r in futures_util::future::join_all(racers.chain(voters)).await {
            r.assert_status(200);
        }
        let t = app.get("/v1/conversations/c1", &app.admin).await.body;
        let votes = t["votes"].as_array().unwrap();
        assert_eq!(votes.iter().filter(|v| v["user_id"] == "racer").count(), 1, "lanes {lanes}: one racer's vote");
        assert_eq!(votes.len(), 41, "lanes {lanes}: and every voter's");
        assert_eq!(activity(&t).len(), 41, "lanes {lanes}");
        // Votes come oldest first (by time, then as written): the last one
        // decides, as a vote as recent as the current satisfaction replaces it.
        let last = votes.last().unwrap()["value"].as_i64().unwrap();
        let expected = if last > 0 { "positive" } else { "negative" };
        assert_eq!(t["satisfaction"]["value"], expected, "lanes {lanes}");
    }
}
