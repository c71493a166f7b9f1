//! Logging conversations and messages; the transcript.

use serde_json::json;

use crate::{
    both_backends,
    helpers::{Backend, spawn_app},
};

both_backends!(
    put_creates_then_updates_a_conversation,
    a_conversation_keeps_its_bot,
    creating_a_conversation_needs_a_known_bot,
    a_message_is_appended_once_and_repeats_are_idempotent,
    a_different_message_under_a_taken_id_is_409,
    a_request_id_belongs_to_one_message,
    a_message_needs_its_conversation,
    the_transcript_lists_messages_in_time_order,
    a_pending_answer_completes_once,
    ending_a_conversation_is_idempotent,
    backfilled_times_are_kept,
    a_long_transcript_shows_every_answers_feedback,
);

async fn put_creates_then_updates_a_conversation(backend: Backend) {
    let app = spawn_app(backend).await;
    let bot = app.bot("Support").await;
    let created = app
        .put(
            "/v1/conversations/web:42",
            &app.admin,
            json!({"bot_id": bot, "contact_id": "visitor-7", "locale": "fr-CA", "metadata": {"variant": "B", "channel": "web"}}),
        )
        .await;
    let body = created.assert_status(201).clone();
    assert_eq!(body["id"], "web:42");
    assert_eq!(body["status"], "open");
    assert_eq!(body["locale"], "fr-CA");
    assert_eq!(body["metadata"]["variant"], "B");
    assert!(body["ended_at"].is_null());

    let updated = app.put("/v1/conversations/web:42", &app.admin, json!({"locale": "fr"})).await;
    let after = updated.assert_status(200);
    assert_eq!(after["locale"], "fr");
    assert_eq!(after["contact_id"], "visitor-7", "fields left out stay as they were");
    assert_eq!(after["metadata"]["variant"], "B");
    assert_eq!(after["created_at"], body["created_at"]);
}

async fn a_conversation_keeps_its_bot(backend: Backend) {
    let app = spawn_app(backend).await;
    let (a, b) = (app.bot("A").await, app.bot("B").await);
    app.put("/v1/conversations/c1", &app.admin, json!({"bot_id": a})).await.assert_status(201);
    app.put("/v1/conversations/c1", &app.admin, json!({"bot_id": b})).await.assert_error(409, "conflict");
    app.put("/v1/conversations/c1", &app.admin, json!({"bot_id": a})).await.assert_status(200);
}

async fn creating_a_conversation_needs_a_known_bot(backend: Backend) {
    let app = spawn_app(backend).await;
    app.put("/v1/conversations/c1", &app.admin, json!({})).await.assert_invalid("bot_id");
    let unknown = uuid::Uuid::new_v4().to_string();
    app.put("/v1/conversations/c1", &app.admin, json!({"bot_id": unknown})).await.assert_error(404, "not_found");
}

async fn a_message_is_appended_once_and_repeats_are_idempotent(backend: Backend) {
    let app = spawn_app(backend).await;
    let bot = app.bot("Support").await;
    app.put("/v1/conversations/c1", &app.admin, json!({"bot_id": bot})).await.assert_status(201);
    let message = json!({"id": "m1", "role": "assistant", "content": "Hello!", "request_id": "req-1",
                         "metadata": {"topic": "greeting", "confidence": 0.9}});
    let first = app.post("/v1/conversations/c1/messages", &app.admin, message.clone()).await;
    let stored = first.assert_status(201).clone();
    assert_eq!(stored["status"], "completed", "messages default to completed");
    assert_eq!(stored["metadata"]["topic"], "greeting");
    let again = app.post("/v1/conversations/c1/messages", &app.admin, message).await;
    assert_eq!(again.assert_status(200), &stored);
    let transcript = app.get("/v1/conversations/c1", &app.admin).await;
    assert_eq!(transcript.assert_status(200)["messages"].as_array().unwrap().len(), 1);
}

async fn a_different_message_under_a_taken_id_is_409(backend: Backend) {
    let app = spawn_app(backend).await;
    let bot = app.bot("Support").await;
    app.conversation_with_answer(&app.admin, &bot, "c1").await;
    let r = app
        .post(
            "/v1/conversations/c1/messages",
            &app.admin,
            json!({"id": "c1-a1", "role": "assistant", "content": "Other"}),
        )
        .await;
    let message = r.assert_error(409, "conflict");
    assert!(message.contains("c1-a1"), "{message}");
    // Message ids are unique in the account, across conversations.
    app.put("/v1/conversations/c2", &app.admin, json!({"bot_id": bot})).await.assert_status(201);
    app.post("/v1/conversations/c2/messages", &app.admin, json!({"id": "c1-a1", "role": "user", "content": "x"}))
        .await
        .assert_error(409, "conflict");
}

async fn a_request_id_belongs_to_one_message(backend: Backend) {
    let app = spawn_app(backend).await;
    let bot = app.bot("Support").await;
    app.conversation_with_answer(&app.admin, &bot, "c1").await;
    let r = app
        .post(
            "/v1/conversations/c1/messages",
            &app.admin,
            json!({"id": "m9", "role": "assistant", "content": "x", "request_id": "c1-req1"}),
        )
        .await;
    assert!(r.assert_error(409, "conflict").contains("request_id"));
}

async fn a_message_needs_its_conversation(backend: Backend) {
    let app = spawn_app(backend).await;
    app.post("/v1/conversations/nope/messages", &app.admin, json!({"id": "m1", "role": "user", "content": "x"}))
        .await
        .assert_error(404, "not_found");
    app.get("/v1/conversations/nope", &app.admin).await.assert_error(404, "not_found");
    app.patch("/v1/messages/nope", &app.admin, json!({"status": "completed"})).await.assert_error(404, "not_found");
    app.post("/v1/conversations/nope/end", &app.admin, json!({})).await.assert_error(404, "not_found");
}

async fn the_transcript_lists_messages_in_time_order(backend: Backend) {
    let app = spawn_app(backend).await;
    let bot = app.bot("Support").await;
    app.put("/v1/conversations/c1", &app.admin, json!({"bot_id": bot})).await.assert_status(201);
    let path = "/v1/conversations/c1/messages";
    // Sent out of order, with their original times.
    app.post(
        path,
        &app.admin,
        json!({"id": "m2", "role": "assistant", "content": "answer", "created_at": "2024-01-01T10:00:05Z"}),
    )
    .await
    .assert_status(201);
    app.post(
        path,
        &app.admin,
        json!({"id": "m1", "role": "user", "content": "question", "created_at": "2024-01-01T10:00:00Z"}),
    )
    .await
    .assert_status(201);
    app.post(
        path,
        &app.admin,
        json!({"id": "m3", "role": "system", "content": "note", "created_at": "2024-01-01T10:00:05Z"}),
    )
    .await
    .assert_status(201);
    let transcript = app.get("/v1/conversations/c1", &app.admin).await;
    let body = transcript.assert_status(200);
    let ids: Vec<&str> = body["messages"].as_array().unwrap().iter().map(|m| m["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["m1", "m2", "m3"], "by time, then by arrival");
    assert_eq!(body["id"], "c1");
    assert_eq!(body["bot_id"], bot.as_str());
}

async fn a_pending_answer_completes_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let bot = app.bot("Support").await;
    app.put("/v1/conversations/c1", &app.admin, json!({"bot_id": bot})).await.assert_status(201);
    app.post(
        "/v1/conversations/c1/messages",
        &app.admin,
        json!({"id": "a1", "role": "assistant", "content": "Thin", "status": "pending"}),
    )
    .await
    .assert_status(201);
    let grown = app.patch("/v1/messages/a1", &app.admin, json!({"content": "Thinking..."})).await;
    assert_eq!(grown.assert_status(200)["status"], "pending");
    let done = app
        .patch(
            "/v1/messages/a1",
            &app.admin,
            json!({"status": "completed", "content": "Done.", "metadata": {"topic": "x"}}),
        )
        .await;
    let body = done.assert_status(200);
    assert_eq!(body["status"], "completed");
    assert_eq!(body["content"], "Done.");
    assert_eq!(body["metadata"]["topic"], "x");
    app.patch("/v1/messages/a1", &app.admin, json!({"status": "failed"}))
        .await
        .assert_error(409, "invalid_status_transition");
    app.patch("/v1/messages/a1", &app.admin, json!({"content": "Edited"})).await.assert_error(409, "message_final");
    app.patch("/v1/messages/a1", &app.admin, json!({"status": "completed"})).await.assert_status(200);
    app.patch("/v1/messages/a1", &app.admin, json!({"metadata": {"topic": "later"}})).await.assert_status(200);
}

async fn ending_a_conversation_is_idempotent(backend: Backend) {
    let app = spawn_app(backend).await;
    let bot = app.bot("Support").await;
    app.put("/v1/conversations/c1", &app.admin, json!({"bot_id": bot})).await.assert_status(201);
    let ended = app.post("/v1/conversations/c1/end", &app.admin, json!({})).await;
    let first = ended.assert_status(200).clone();
    assert_eq!(first["status"], "ended");
    assert!(first["ended_at"].is_string());
    let again = app.send(reqwest::Method::POST, "/v1/conversations/c1/end", Some(&app.admin), None).await;
    assert_eq!(again.assert_status(200)["ended_at"], first["ended_at"]);
}

async fn backfilled_times_are_kept(backend: Backend) {
    let app = spawn_app(backend).await;
    let bot = app.bot("Support").await;
    let created = app
        .put("/v1/conversations/old", &app.admin, json!({"bot_id": bot, "created_at": "2023-05-01T08:30:00+02:00"}))
        .await;
    assert_eq!(created.assert_status(201)["created_at"], "2023-05-01T06:30:00Z");
    let m = app
        .post(
            "/v1/conversations/old/messages",
            &app.admin,
            json!({"id": "o1", "role": "user", "content": "x", "created_at": "2023-05-01T06:31:00.250Z"}),
        )
        .await;
    assert_eq!(m.assert_status(201)["created_at"], "2023-05-01T06:31:00.25Z");
}

/// A transcript reads its answers' feedback a chunk of 500 answers at a time:
/// badges on answers on both sides of the cuts, and none for a retracted
/// thumb or on questions.
async fn a_long_transcript_shows_every_answers_feedback(backend: Backend) {
    let app = spawn_app(backend).await;
    let bot = app.bot("Support").await;
    let mut events = vec![json!({"type": "conversation", "id": "long", "bot_id": bot})];
    for i in 0..1_100 {
        events.push(json!({"type": "message", "conversation_id": "long", "id": format!("q{i}"), "role": "user", "content": "Why?"}));
        events.push(json!({"type": "message", "conversation_id": "long", "id": format!("a{i}"), "role": "assistant", "content": "Because."}));
    }
    for chunk in events.chunks(1_000) {
        let reply = app.post("/v1/ingest", &app.admin, json!({"events": chunk})).await;
        let results = reply.assert_status(200)["results"].as_array().unwrap().clone();
        assert_eq!(results.len(), chunk.len());
        assert!(results.iter().all(|r| r["ok"] == true), "{results:?}");
    }
    let thumbs = [
        ("a0", "u1", "positive"),
        ("a499", "u1", "negative"),
        ("a500", "u1", "positive"),
        ("a500", "u2", "positive"),
        ("a1000", "u1", "negative"),
        ("a1099", "u1", "positive"),
        ("a7", "u1", "positive"),
    ];
    for (message, user, kind) in thumbs {
        app.post("/v1/feedback", &app.admin, json!({"message_id": message, "feedback_type": kind, "user_id": user}))
            .await
            .assert_status(201);
    }
    app.delete("/v1/messages/a7/feedback?user_id=u1", &app.admin).await.assert_status(200);
    let transcript = app.get("/v1/conversations/long", &app.admin).await;
    let messages = transcript.assert_status(200)["messages"].as_array().unwrap().clone();
    assert_eq!(messages.len(), 2_200);
    let badges: Vec<(String, i64, i64, usize)> = messages
        .iter()
        .filter(|m| m["feedback"]["up"].as_i64().unwrap_or(0) + m["feedback"]["down"].as_i64().unwrap_or(0) > 0)
        .map(|m| {
            let f = &m["feedback"];
            (
                m["id"].as_str().unwrap().to_owned(),
                f["up"].as_i64().unwrap(),
                f["down"].as_i64().unwrap(),
                f["records"].as_array().unwrap().len(),
            )
        })
        .collect();
    let expected = [("a0", 1, 0, 1), ("a499", 0, 1, 1), ("a500", 2, 0, 2), ("a1000", 0, 1, 1), ("a1099", 1, 0, 1)];
    assert_eq!(badges, expected.map(|(id, up, down, n)| (id.to_owned(), up, down, n)));
    assert!(messages.iter().filter(|m| m["role"] == "user").all(|m| m.get("feedback").is_none_or(|f| f.is_null())));
    assert!(messages.iter().filter(|m| m["role"] == "assistant").all(|m| m["feedback"].is_object()));
}
