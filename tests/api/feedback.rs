//! Message feedback and its lifecycle (SPEC §6), over HTTP.

use serde_json::{Value, json};

use crate::{
    both_backends,
    helpers::{Backend, TestApp, spawn_app},
};

both_backends!(
    positive_feedback_is_recorded_once,
    a_reason_can_follow_a_thumbs_down,
    switching_type_starts_the_review_over,
    only_completed_assistant_answers_can_be_rated,
    a_required_reason_is_enforced,
    auto_approved_positive_feedback_becomes_a_golden_example,
    auto_approved_negative_feedback_waits_for_a_correction,
    a_user_reads_and_retracts_their_feedback,
    the_transcript_shows_badges_per_answer,
    feedback_records_its_source,
    feedback_can_be_sent_in_a_batch,
    concurrent_thumbs_keep_one_record_per_user,
);

/// A bot and conversation `c1` with question `c1-q1` and answer `c1-a1`.
async fn setup(app: &TestApp) -> String {
    let bot = app.bot("Support").await;
    app.conversation_with_answer(&app.admin, &bot, "c1").await;
    bot
}

async fn thumb(app: &TestApp, user: &str, kind: &str, reason: Option<&str>) -> (u16, Value) {
    let mut body = json!({"message_id": "c1-a1", "feedback_type": kind, "user_id": user});
    if let Some(r) = reason {
        body["reason"] = json!(r);
    }
    let r = app.post("/v1/feedback", &app.admin, body).await;
    (r.status, r.body)
}

async fn history(app: &TestApp, id: &str) -> Vec<String> {
    let d = app.get(&format!("/v1/feedback/{id}"), &app.admin).await;
    d.assert_status(200)["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap().to_owned())
        .collect()
}

async fn positive_feedback_is_recorded_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let bot = setup(&app).await;
    let (status, first) = thumb(&app, "u1", "positive", Some("Spot on")).await;
    assert_eq!(status, 201, "{first}");
    for field in [
        "id",
        "message_id",
        "conversation_id",
        "bot_id",
        "user_id",
        "feedback_type",
        "reason",
        "status",
        "reviewed_by",
        "reviewed_at",
        "created_at",
        "updated_at",
    ] {
        assert!(first.get(field).is_some(), "FeedbackResponse has {field}");
    }
    assert_eq!(first["message_id"], "c1-a1");
    assert_eq!(first["conversation_id"], "c1");
    assert_eq!(first["bot_id"], bot.as_str());
    assert_eq!(first["status"], "pending");
    assert!(first["reviewed_by"].is_null() && first["reviewed_at"].is_null());
    let (status, again) = thumb(&app, "u1", "positive", None).await;
    assert_eq!(status, 200);
    assert_eq!(again, first, "the same thumb again changes nothing");
    assert_eq!(history(&app, first["id"].as_str().unwrap()).await, ["submitted"]);
}

async fn a_reason_can_follow_a_thumbs_down(backend: Backend) {
    let app = spawn_app(backend).await;
    setup(&app).await;
    let (_, first) = thumb(&app, "u1", "negative", None).await;
    assert!(first["reason"].is_null());
    let (status, updated) = thumb(&app, "u1", "negative", Some("It ships on Monday, not tomorrow")).await;
    assert_eq!(status, 200);
    assert_eq!(updated["id"], first["id"]);
    assert_eq!(updated["reason"], "It ships on Monday, not tomorrow");
    assert_eq!(updated["status"], "pending");
    assert_eq!(updated["submitted_at"], first["submitted_at"], "the value itself was not resubmitted");
    assert_eq!(history(&app, first["id"].as_str().unwrap()).await, ["submitted", "reason_updated"]);
}

async fn switching_type_starts_the_review_over(backend: Backend) {
    let app = spawn_app(backend).await;
    setup(&app).await;
    let (_, first) = thumb(&app, "u1", "positive", None).await;
    let id = first["id"].as_str().unwrap().to_owned();
    let approved = app.post(&format!("/v1/feedback/{id}/review"), &app.admin, json!({"action": "approve"})).await;
    assert_eq!(approved.assert_status(200)["status"], "reviewed");
    let golden = app.get("/v1/golden-examples", &app.admin).await;
    assert_eq!(golden.body["items"].as_array().unwrap().len(), 1);

    let (status, switched) = thumb(&app, "u1", "negative", Some("Actually wrong")).await;
    assert_eq!(status, 200);
    assert_eq!(switched["id"], id.as_str(), "one record per user and message");
    assert_eq!(switched["feedback_type"], "negative");
    assert_eq!(switched["status"], "pending");
    assert!(switched["reviewed_by"].is_null() && switched["reviewed_at"].is_null());
    assert!(crate::helpers::instant(&switched["submitted_at"]) >= crate::helpers::instant(&first["submitted_at"]));
    let golden = app.get("/v1/golden-examples", &app.admin).await;
    assert!(golden.body["items"].as_array().unwrap().is_empty(), "the old golden example is withdrawn");
    assert_eq!(history(&app, &id).await, ["submitted", "approved", "switched"]);
}

async fn only_completed_assistant_answers_can_be_rated(backend: Backend) {
    let app = spawn_app(backend).await;
    setup(&app).await;
    let r = app.post("/v1/feedback", &app.admin, json!({"message_id": "c1-q1", "feedback_type": "positive"})).await;
    r.assert_invalid("message_id");
    app.post("/v1/feedback", &app.admin, json!({"message_id": "nope", "feedback_type": "positive"}))
        .await
        .assert_error(404, "not_found");
    for (id, status) in [("p1", "pending"), ("f1", "failed")] {
        app.post(
            "/v1/conversations/c1/messages",
            &app.admin,
            json!({"id": id, "role": "assistant", "content": "...", "status": status}),
        )
        .await
        .assert_status(201);
        app.post("/v1/feedback", &app.admin, json!({"message_id": id, "feedback_type": "negative"}))
            .await
            .assert_error(409, "message_not_completed");
    }
    app.post("/v1/feedback", &app.admin, json!({"message_id": "c1-a1", "feedback_type": "meh"}))
        .await
        .assert_invalid("feedback_type");
    app.post("/v1/feedback", &app.admin, json!({"feedback_type": "positive"})).await.assert_invalid("message_id");
    let long = "x".repeat(2001);
    app.post("/v1/feedback", &app.admin, json!({"message_id": "c1-a1", "feedback_type": "positive", "reason": long}))
        .await
        .assert_invalid("reason");
}

async fn a_required_reason_is_enforced(backend: Backend) {
    let app = spawn_app(backend).await;
    let bot = setup(&app).await;
    app.patch(&format!("/v1/bots/{bot}/settings"), &app.admin, json!({"require_reason_negative": true}))
        .await
        .assert_status(200);
    let r = app
        .post("/v1/feedback", &app.admin, json!({"message_id": "c1-a1", "feedback_type": "negative", "reason": "  "}))
        .await;
    r.assert_error(400, "reason_required");
    let (status, _) = thumb(&app, "u1", "negative", Some("Wrong date")).await;
    assert_eq!(status, 201);
    let (status, _) = thumb(&app, "u2", "positive", None).await;
    assert_eq!(status, 201, "positive feedback needs no reason here");
}

async fn auto_approved_positive_feedback_becomes_a_golden_example(backend: Backend) {
    let app = spawn_app(backend).await;
    let bot = setup(&app).await;
    app.patch(&format!("/v1/bots/{bot}/settings"), &app.admin, json!({"auto_approve_positive": true}))
        .await
        .assert_status(200);
    // A later turn must not leak into the example's context.
    app.post("/v1/conversations/c1/messages", &app.admin, json!({"id": "later", "role": "user", "content": "Thanks!"}))
        .await
        .assert_status(201);
    let (status, f) = thumb(&app, "u1", "positive", None).await;
    assert_eq!(status, 201);
    assert_eq!(f["status"], "auto_approved");
    let golden = app.get("/v1/golden-examples", &app.admin).await;
    let items = golden.assert_status(200)["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["feedback_id"], f["id"]);
    assert_eq!(items[0]["origin"], "auto_approved");
    assert_eq!(items[0]["messages"], json!([{"role": "user", "content": "Where is my order?"}]));
    assert_eq!(items[0]["ideal_response"], "It ships tomorrow.");
    // A repeat makes no second example.
    thumb(&app, "u1", "positive", None).await;
    assert_eq!(app.get("/v1/golden-examples", &app.admin).await.body["items"].as_array().unwrap().len(), 1);
}

async fn auto_approved_negative_feedback_waits_for_a_correction(backend: Backend) {
    let app = spawn_app(backend).await;
    let bot = setup(&app).await;
    app.patch(&format!("/v1/bots/{bot}/settings"), &app.admin, json!({"auto_approve_negative": true}))
        .await
        .assert_status(200);
    let (_, f) = thumb(&app, "u1", "negative", Some("Wrong")).await;
    assert_eq!(f["status"], "auto_approved");
    assert!(app.get("/v1/golden-examples", &app.admin).await.body["items"].as_array().unwrap().is_empty());
    let id = f["id"].as_str().unwrap();
    let r = app
        .post(
            &format!("/v1/feedback/{id}/review"),
            &app.admin,
            json!({"action": "approve", "corrected_response": "It ships Monday."}),
        )
        .await;
    assert_eq!(r.assert_status(200)["status"], "reviewed");
    let items = app.get("/v1/golden-examples", &app.admin).await.body["items"].clone();
    assert_eq!(items[0]["ideal_response"], "It ships Monday.");
}

async fn a_user_reads_and_retracts_their_feedback(backend: Backend) {
    let app = spawn_app(backend).await;
    setup(&app).await;
    let (_, f) = thumb(&app, "u1", "negative", Some("Off")).await;
    let mine = app.get("/v1/messages/c1-a1/feedback?user_id=u1", &app.admin).await;
    assert_eq!(mine.assert_status(200), &f);
    let none = app.get("/v1/messages/c1-a1/feedback?user_id=u2", &app.admin).await;
    assert_eq!(none.assert_status(200), &Value::Null);
    app.get("/v1/messages/nope/feedback?user_id=u1", &app.admin).await.assert_error(404, "not_found");

    let retracted = app.delete("/v1/messages/c1-a1/feedback?user_id=u1", &app.admin).await;
    assert!(retracted.assert_status(200)["retracted_at"].is_string());
    assert_eq!(app.get("/v1/messages/c1-a1/feedback?user_id=u1", &app.admin).await.body, Value::Null);
    let t = app.get("/v1/conversations/c1", &app.admin).await.body;
    assert_eq!(t["messages"][1]["feedback"]["down"], 0, "a retracted thumb leaves the counts");
    app.delete("/v1/messages/c1-a1/feedback?user_id=u2", &app.admin).await.assert_error(404, "not_found");
    // It comes back as a new submission, and the history keeps everything.
    let (status, back) = thumb(&app, "u1", "negative", None).await;
    assert_eq!(status, 200);
    assert!(back["retracted_at"].is_null());
    assert_eq!(history(&app, f["id"].as_str().unwrap()).await, ["submitted", "retracted", "resubmitted"]);
}

async fn the_transcript_shows_badges_per_answer(backend: Backend) {
    let app = spawn_app(backend).await;
    setup(&app).await;
    thumb(&app, "u1", "positive", None).await;
    thumb(&app, "u2", "positive", None).await;
    thumb(&app, "u3", "negative", Some("meh")).await;
    let t = app.get("/v1/conversations/c1", &app.admin).await.body;
    let question = &t["messages"][0];
    let answer = &t["messages"][1];
    assert!(question.get("feedback").is_none(), "only assistant messages carry badges");
    assert_eq!(answer["feedback"]["up"], 2);
    assert_eq!(answer["feedback"]["down"], 1);
    assert_eq!(answer["feedback"]["records"].as_array().unwrap().len(), 3);
}

async fn feedback_records_its_source(backend: Backend) {
    let app = spawn_app(backend).await;
    setup(&app).await;
    let server = app.key("server", None).await;
    let r = app
        .post("/v1/feedback", &server, json!({"message_id": "c1-a1", "feedback_type": "positive", "user_id": "u1"}))
        .await;
    assert_eq!(r.assert_status(201)["source"], "api");
    let r = app.post("/v1/feedback", &app.admin, json!({"message_id": "c1-a1", "feedback_type": "positive"})).await;
    let body = r.assert_status(201);
    assert_eq!(body["source"], "reviewer");
    assert!(body["user_id"].as_str().unwrap().starts_with("key:"), "the key itself when no user is named");
}

async fn feedback_can_be_sent_in_a_batch(backend: Backend) {
    let app = spawn_app(backend).await;
    setup(&app).await;
    let batch = json!({"events": [
        {"type": "feedback", "message_id": "c1-a1", "feedback_type": "positive", "user_id": "u1"},
        {"type": "feedback", "message_id": "c1-q1", "feedback_type": "positive", "user_id": "u1"},
        {"type": "feedback", "message_id": "c1-a1", "feedback_type": "positive", "user_id": "u1"},
        {"type": "feedback", "message_id": "c1-a1", "feedback_type": "sideways", "user_id": "u2"},
    ]});
    let r = app.post("/v1/ingest", &app.admin, batch).await;
    let statuses: Vec<u64> =
        r.assert_status(200)["results"].as_array().unwrap().iter().map(|x| x["status"].as_u64().unwrap()).collect();
    assert_eq!(statuses, [201, 400, 200, 400]);
}

async fn concurrent_thumbs_keep_one_record_per_user(backend: Backend) {
    let app = spawn_app(backend).await;
    setup(&app).await;
    let many = (0..20).map(|i| {
        app.post(
            "/v1/feedback",
            &app.admin,
            json!({"message_id": "c1-a1", "feedback_type": "positive", "user_id": format!("u{i}")}),
        )
    });
    let same = (0..20).map(|_| {
        app.post(
            "/v1/feedback",
            &app.admin,
            json!({"message_id": "c1-a1", "feedback_type": "negative", "user_id": "clicker"}),
        )
    });
    let (many, same) =
        futures_util::future::join(futures_util::future::join_all(many), futures_util::future::join_all(same)).await;
    assert!(many.iter().all(|r| r.status == 201), "{:?}", many.iter().map(|r| r.status).collect::<Vec<_>>());
    let created = same.iter().filter(|r| r.status == 201).count();
    assert_eq!(
        created,
        1,
        "one record for the double-clicking user: {:?}",
        same.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    assert!(same.iter().all(|r| r.status == 201 || r.status == 200));
    let t = app.get("/v1/conversations/c1", &app.admin).await.body;
    assert_eq!(
        (t["messages"][1]["feedback"]["up"].clone(), t["messages"][1]["feedback"]["down"].clone()),
        (json!(20), json!(1))
    );
    let id = same.iter().find(|r| r.status == 201).unwrap().body["id"].as_str().unwrap().to_owned();
    assert_eq!(history(&app, &id).await, ["submitted"], "duplicates leave no history");
}
