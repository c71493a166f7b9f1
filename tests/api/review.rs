//! The review queue, reviews, and golden examples with their exports (SPEC §6).

use serde_json::{Value, json};

use crate::{
    both_backends,
    helpers::{Backend, TestApp, spawn_app},
};

both_backends!(
    the_queue_filters_and_pages,
    approving_positive_feedback_makes_one_golden_example,
    approving_negative_feedback_needs_a_correction,
    dismissing_withdraws_the_golden_example,
    only_admins_review,
    golden_examples_export_in_three_formats,
    golden_examples_can_be_deleted,
);

/// Two bots; answers `c<i>-a1` on conversations c0..c<n>, half on each bot.
async fn setup(app: &TestApp, n: usize) -> (String, String) {
    let (a, b) = (app.bot("A").await, app.bot("B").await);
    for i in 0..n {
        let bot = if i % 2 == 0 { &a } else { &b };
        app.conversation_with_answer(&app.admin, bot, &format!("c{i}")).await;
    }
    (a, b)
}

async fn thumb(app: &TestApp, message: &str, kind: &str) -> Value {
    let r = app
        .post("/v1/feedback", &app.admin, json!({"message_id": message, "feedback_type": kind, "user_id": "u1"}))
        .await;
    r.assert_status(201).clone()
}

fn ids(body: &Value) -> Vec<String> {
    body["items"].as_array().unwrap().iter().map(|i| i["message_id"].as_str().unwrap().to_owned()).collect()
}

async fn the_queue_filters_and_pages(backend: Backend) {
    let app = spawn_app(backend).await;
    let (a, _) = setup(&app, 6).await;
    for i in 0..6 {
        thumb(&app, &format!("c{i}-a1"), if i < 4 { "negative" } else { "positive" }).await;
    }
    let all = app.get("/v1/feedback", &app.admin).await;
    let body = all.assert_status(200);
    assert_eq!(ids(body), ["c5-a1", "c4-a1", "c3-a1", "c2-a1", "c1-a1", "c0-a1"], "newest first");
    assert_eq!(body["items"][0]["answer"], "It ships tomorrow.");
    assert_eq!(body["items"][0]["question"], "Where is my order?");
    let negative = app.get("/v1/feedback?status=pending&feedback_type=negative", &app.admin).await;
    assert_eq!(ids(&negative.body), ["c3-a1", "c2-a1", "c1-a1", "c0-a1"]);
    let on_a = app.get(&format!("/v1/feedback?bot_id={a}"), &app.admin).await;
    assert_eq!(ids(&on_a.body), ["c4-a1", "c2-a1", "c0-a1"]);
    let future = app.get("/v1/feedback?from=2999-01-01", &app.admin).await;
    assert!(future.body["items"].as_array().unwrap().is_empty());
    let past = app.get("/v1/feedback?to=2000-01-01T00:00:00Z", &app.admin).await;
    assert!(past.body["items"].as_array().unwrap().is_empty());
    // Pages of two walk the same order.
    let mut seen = Vec::new();
    let mut path = "/v1/feedback?limit=2".to_owned();
    loop {
        let page = app.get(&path, &app.admin).await.body;
        seen.extend(ids(&page));
        match page["next_cursor"].as_str() {
            Some(c) => path = format!("/v1/feedback?limit=2&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen, ids(body));
    app.get("/v1/feedback?status=closed", &app.admin).await.assert_invalid("status");
    app.get("/v1/feedback?feedback_type=maybe", &app.admin).await.assert_invalid("feedback_type");
    app.get("/v1/feedback?from=yesterday", &app.admin).await.assert_invalid("from");
    app.get("/v1/feedback?bot_id=nope", &app.admin).await.assert_invalid("bot_id");
}

async fn approving_positive_feedback_makes_one_golden_example(backend: Backend) {
    let app = spawn_app(backend).await;
    setup(&app, 1).await;
    let f = thumb(&app, "c0-a1", "positive").await;
    let id = f["id"].as_str().unwrap();
    let r =
        app.post(&format!("/v1/feedback/{id}/review"), &app.admin, json!({"action": "approve", "note": "good"})).await;
    let reviewed = r.assert_status(200).clone();
    assert_eq!(reviewed["status"], "reviewed");
    assert_eq!(reviewed["reviewed_by"], "test", "the admin key's name");
    assert!(reviewed["reviewed_at"].is_string());
    // Approving again is a no-op, never a second example.
    let again = app.post(&format!("/v1/feedback/{id}/review"), &app.admin, json!({"action": "approve"})).await;
    assert_eq!(again.assert_status(200)["reviewed_at"], reviewed["reviewed_at"]);
    let golden = app.get("/v1/golden-examples", &app.admin).await.body;
    let items = golden["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["origin"], "reviewed");
    assert_eq!(items[0]["ideal_response"], "It ships tomorrow.");
    app.post(&format!("/v1/feedback/{}/review", uuid::Uuid::new_v4()), &app.admin, json!({"action": "approve"}))
        .await
        .assert_error(404, "not_found");
    app.post(&format!("/v1/feedback/{id}/review"), &app.admin, json!({"action": "escalate"}))
        .await
        .assert_invalid("action");
}

async fn approving_negative_feedback_needs_a_correction(backend: Backend) {
    let app = spawn_app(backend).await;
    setup(&app, 1).await;
    let f = thumb(&app, "c0-a1", "negative").await;
    let path = format!("/v1/feedback/{}/review", f["id"].as_str().unwrap());
    app.post(&path, &app.admin, json!({"action": "approve"})).await.assert_invalid("corrected_response");
    let r =
        app.post(&path, &app.admin, json!({"action": "approve", "corrected_response": "It ships on Monday."})).await;
    let body = r.assert_status(200);
    assert_eq!(body["status"], "reviewed");
    assert_eq!(body["corrected_response"], "It ships on Monday.");
    let golden = app.get("/v1/golden-examples", &app.admin).await.body;
    assert_eq!(golden["items"][0]["ideal_response"], "It ships on Monday.");
    assert_eq!(golden["items"][0]["feedback_type"], "negative");
}

async fn dismissing_withdraws_the_golden_example(backend: Backend) {
    let app = spawn_app(backend).await;
    setup(&app, 1).await;
    let f = thumb(&app, "c0-a1", "positive").await;
    let path = format!("/v1/feedback/{}/review", f["id"].as_str().unwrap());
    app.post(&path, &app.admin, json!({"action": "approve"})).await.assert_status(200);
    let r = app.post(&path, &app.admin, json!({"action": "dismiss", "note": "not representative"})).await;
    let body = r.assert_status(200);
    assert_eq!(body["status"], "dismissed");
    assert_eq!(body["review_note"], "not representative");
    assert!(app.get("/v1/golden-examples", &app.admin).await.body["items"].as_array().unwrap().is_empty());
    // And back: approving a dismissed record makes the example again.
    app.post(&path, &app.admin, json!({"action": "approve"})).await.assert_status(200);
    assert_eq!(app.get("/v1/golden-examples", &app.admin).await.body["items"].as_array().unwrap().len(), 1);
}

async fn only_admins_review(backend: Backend) {
    let app = spawn_app(backend).await;
    setup(&app, 1).await;
    let f = thumb(&app, "c0-a1", "positive").await;
    let server = app.key("server", None).await;
    let path = format!("/v1/feedback/{}/review", f["id"].as_str().unwrap());
    app.post(&path, &server, json!({"action": "approve"})).await.assert_error(403, "forbidden");
    app.get("/v1/feedback", &server).await.assert_status(200);
    let (_, other) = app.other_account(true).await;
    app.post(&path, &other, json!({"action": "approve"})).await.assert_error(404, "not_found");
    app.get(&format!("/v1/feedback/{}", f["id"].as_str().unwrap()), &other).await.assert_error(404, "not_found");
}

async fn golden_examples_export_in_three_formats(backend: Backend) {
    let app = spawn_app(backend).await;
    let (a, _) = setup(&app, 2).await;
    app.patch(&format!("/v1/bots/{a}/settings"), &app.admin, json!({"auto_approve_positive": true}))
        .await
        .assert_status(200);
    thumb(&app, "c0-a1", "positive").await;
    let f = thumb(&app, "c1-a1", "negative").await;
    app.post(
        &format!("/v1/feedback/{}/review", f["id"].as_str().unwrap()),
        &app.admin,
        json!({"action": "approve", "corrected_response": "Monday, \"early\"."}),
    )
    .await
    .assert_status(200);
    let export = |format: &str| {
        let url = format!("{}/v1/golden-examples/export?format={format}", app.address);
        app.client.get(url).bearer_auth(&app.admin).send()
    };
    let openai = export("openai").await.unwrap();
    assert_eq!(openai.headers()["content-type"], "application/x-ndjson");
    let text = openai.text().await.unwrap();
    let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 2);
    for line in &lines {
        let messages = line["messages"].as_array().unwrap();
        assert_eq!(messages.first().unwrap()["role"], "user");
        assert_eq!(messages.last().unwrap()["role"], "assistant");
        assert_eq!(line.as_object().unwrap().len(), 1);
    }
    let contents: Vec<&str> = lines.iter().map(|l| l["messages"][1]["content"].as_str().unwrap()).collect();
    assert!(contents.contains(&"Monday, \"early\".") && contents.contains(&"It ships tomorrow."));

    let jsonl = export("jsonl").await.unwrap().text().await.unwrap();
    let first: Value = serde_json::from_str(jsonl.lines().next().unwrap()).unwrap();
    assert!(first["id"].is_string() && first["ideal_response"].is_string());

    let csv = export("csv").await.unwrap();
    assert!(csv.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    assert!(csv.headers()["content-disposition"].to_str().unwrap().contains("golden-examples.csv"));
    let csv = csv.text().await.unwrap();
    assert!(
        csv.starts_with("id,bot_id,conversation_id,message_id,feedback_type,origin,prompt,ideal_response,created_at\n")
    );
    assert!(csv.contains("\"Monday, \"\"early\"\".\""), "{csv}");

    let only_a = app.get(&format!("/v1/golden-examples/export?format=openai&bot_id={a}"), &app.admin).await;
    assert_eq!(only_a.status, 200);
    let r = app.get("/v1/golden-examples/export?format=xml", &app.admin).await;
    r.assert_invalid("format");
}

async fn golden_examples_can_be_deleted(backend: Backend) {
    let app = spawn_app(backend).await;
    setup(&app, 1).await;
    let f = thumb(&app, "c0-a1", "positive").await;
    app.post(&format!("/v1/feedback/{}/review", f["id"].as_str().unwrap()), &app.admin, json!({"action": "approve"}))
        .await
        .assert_status(200);
    let id = app.get("/v1/golden-examples", &app.admin).await.body["items"][0]["id"].as_str().unwrap().to_owned();
    let server = app.key("server", None).await;
    app.delete(&format!("/v1/golden-examples/{id}"), &server).await.assert_error(403, "forbidden");
    let r = app.delete(&format!("/v1/golden-examples/{id}"), &app.admin).await;
    assert_eq!(r.status, 204);
    app.delete(&format!("/v1/golden-examples/{id}"), &app.admin).await.assert_error(404, "not_found");
    assert!(app.get("/v1/golden-examples", &app.admin).await.body["items"].as_array().unwrap().is_empty());
}
