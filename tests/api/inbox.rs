//! The inbox listing and conversation exports (SPEC §9).

use serde_json::{Value, json};

use crate::{
    both_backends,
    helpers::{Backend, TestApp, spawn_app},
};

both_backends!(
    the_inbox_filters_by_customer_feedback,
    the_thumbs_filter_selects_thumbs_on_answers_not_satisfaction,
    a_language_selects_its_conversations_and_their_feedback,
    the_inbox_filters_by_bot_dates_and_text,
    inbox_pages_stay_stable_while_conversations_arrive,
    exports_stream_every_matching_conversation,
    a_long_export_reads_every_page_once_in_order,
    long_conversations_are_exported_whole_across_groups,
);

/// c1 upvoted, c2 downvoted with a reason (and mentions a refund), c3 no
/// signal, c4 neutral (three stars). Started a day apart from 2024-06-01.
async fn seed(app: &TestApp) -> (String, String) {
    let (a, b) = (app.bot("A").await, app.bot("B").await);
    for (i, id) in ["c1", "c2", "c3", "c4"].iter().enumerate() {
        let bot = if i < 2 { &a } else { &b };
        app.put(
            &format!("/v1/conversations/{id}"),
            &app.admin,
            json!({"bot_id": bot, "contact_id": format!("visitor-{id}"), "created_at": format!("2024-06-0{}T10:00:00Z", i + 1)}),
        )
        .await
        .assert_status(201);
        let text = if *id == "c2" { "I want a REFUND now" } else { "Hello" };
        app.post(
            &format!("/v1/conversations/{id}/messages"),
            &app.admin,
            json!({"id": format!("{id}-q"), "role": "user", "content": text}),
        )
        .await
        .assert_status(201);
        app.post(
            &format!("/v1/conversations/{id}/messages"),
            &app.admin,
            json!({"id": format!("{id}-a"), "role": "assistant", "content": "Sure"}),
        )
        .await
        .assert_status(201);
    }
    app.post("/v1/conversations/c1/upvote", &app.admin, json!({})).await.assert_status(200);
    app.post("/v1/conversations/c2/downvote", &app.admin, json!({"reason": "No refund"})).await.assert_status(200);
    app.patch(
        &format!("/v1/bots/{b}/rating-config"),
        &app.admin,
        json!({"conv_rating_question_codes": ["SATISFACTION_STARS"]}),
    )
    .await
    .assert_status(200);
    app.post("/v1/conversations/c4/csat", &app.admin, json!({"question_code": "SATISFACTION_STARS", "value": 3}))
        .await
        .assert_status(201);
    app.post("/v1/feedback", &app.admin, json!({"message_id": "c1-a", "feedback_type": "positive", "user_id": "u1"}))
        .await
        .assert_status(201);
    app.post("/v1/feedback", &app.admin, json!({"message_id": "c1-a", "feedback_type": "negative", "user_id": "u2"}))
        .await
        .assert_status(201);
    (a, b)
}

async fn ids(app: &TestApp, query: &str) -> Vec<String> {
    let r = app.get(&format!("/v1/conversations?{query}"), &app.admin).await;
    r.assert_status(200)["items"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap().to_owned()).collect()
}

async fn the_inbox_filters_by_customer_feedback(backend: Backend) {
    let app = spawn_app(backend).await;
    seed(&app).await;
    assert_eq!(ids(&app, "").await, ["c4", "c3", "c2", "c1"], "newest first");
    assert_eq!(ids(&app, "feedback=upvote").await, ["c1"]);
    assert_eq!(ids(&app, "feedback=downvote").await, ["c2"]);
    assert_eq!(ids(&app, "feedback=unknown").await, ["c3"], "neutral matches neither");
    let all = app.get("/v1/conversations", &app.admin).await.body;
    let c1 = all["items"].as_array().unwrap().iter().find(|c| c["id"] == "c1").unwrap().clone();
    assert_eq!(
        (c1["thumbs_up"].clone(), c1["thumbs_down"].clone(), c1["message_count"].clone()),
        (json!(1), json!(1), json!(2))
    );
    assert_eq!(c1["satisfaction"]["value"], "positive");
    let c2 = all["items"].as_array().unwrap().iter().find(|c| c["id"] == "c2").unwrap().clone();
    assert_eq!(c2["satisfaction"], json!({"value": "negative", "negative_reason": "No refund"}));
    app.get("/v1/conversations?feedback=meh", &app.admin).await.assert_invalid("feedback");
}

async fn the_thumbs_filter_selects_thumbs_on_answers_not_satisfaction(backend: Backend) {
    let app = spawn_app(backend).await;
    seed(&app).await;
    // c1 (upvoted) has a thumbs-up and a thumbs-down; give c3 (no vote) a thumbs-down.
    let down = json!({"message_id": "c3-a", "feedback_type": "negative", "user_id": "u3"});
    app.post("/v1/feedback", &app.admin, down).await.assert_status(201);
    assert_eq!(ids(&app, "thumbs=down").await, ["c3", "c1"], "whatever the satisfaction");
    assert_eq!(ids(&app, "thumbs=up").await, ["c1"]);
    assert_eq!(ids(&app, "thumbs=down&feedback=unknown").await, ["c3"]);
    // A thumb taken back, or switched, no longer counts.
    app.delete("/v1/messages/c3-a/feedback?user_id=u3", &app.admin).await.assert_status(200);
    let switch = json!({"message_id": "c1-a", "feedback_type": "positive", "user_id": "u2"});
    app.post("/v1/feedback", &app.admin, switch).await.assert_status(200);
    assert_eq!(ids(&app, "thumbs=down").await, Vec::<String>::new());
    app.get("/v1/conversations?thumbs=sideways", &app.admin).await.assert_invalid("thumbs");
    let export = app.client.get(format!("{}/v1/exports/conversations?thumbs=up", app.address));
    let export = export.bearer_auth(&app.admin).send().await.unwrap().text().await.unwrap();
    assert_eq!(export.lines().count(), 1, "the export takes the same filter: {export}");
}

async fn a_language_selects_its_conversations_and_their_feedback(backend: Backend) {
    let app = spawn_app(backend).await;
    let bot = app.bot("Support").await;
    for (id, locale) in
        [("en-1", Some("en")), ("fr-1", Some("fr")), ("fr-ca", Some("FR-CA")), ("fry", Some("fry")), ("none", None)]
    {
        app.put(&format!("/v1/conversations/{id}"), &app.admin, json!({"bot_id": bot, "locale": locale}))
            .await
            .assert_status(201);
        let answer = json!({"id": format!("{id}-a"), "role": "assistant", "content": "Bonjour"});
        app.post(&format!("/v1/conversations/{id}/messages"), &app.admin, answer).await.assert_status(201);
        let thumb = json!({"message_id": format!("{id}-a"), "feedback_type": "negative", "user_id": "u"});
        app.post("/v1/feedback", &app.admin, thumb).await.assert_status(201);
    }
    let mut french = ids(&app, "locale=fr").await;
    french.sort();
    assert_eq!(french, ["fr-1", "fr-ca"], "fr matches fr and fr-CA, not fry");
    assert_eq!(ids(&app, "locale=fr-ca").await, ["fr-ca"]);
    assert_eq!(ids(&app, "locale=en&thumbs=down").await, ["en-1"]);
    app.get("/v1/conversations?locale=fr_FR", &app.admin).await.assert_invalid("locale");
    let queue = app.get("/v1/feedback?locale=fr", &app.admin).await;
    let mut rated: Vec<String> = queue.assert_status(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["conversation_id"].as_str().unwrap().to_owned())
        .collect();
    rated.sort();
    assert_eq!(rated, ["fr-1", "fr-ca"], "the review queue takes the language too");
    app.get("/v1/feedback?locale=1", &app.admin).await.assert_invalid("locale");
    let export = app.client.get(format!("{}/v1/exports/conversations?locale=en", app.address));
    let export = export.bearer_auth(&app.admin).send().await.unwrap().text().await.unwrap();
    assert_eq!(export.lines().count(), 1, "{export}");
}

async fn the_inbox_filters_by_bot_dates_and_text(backend: Backend) {
    let app = spawn_app(backend).await;
    let (a, _) = seed(&app).await;
    assert_eq!(ids(&app, &format!("bot_id={a}")).await, ["c2", "c1"]);
    assert_eq!(ids(&app, "from=2024-06-02&to=2024-06-04").await, ["c3", "c2"]);
    assert_eq!(ids(&app, "q=refund").await, ["c2"], "case-insensitive text in messages");
    assert_eq!(ids(&app, "q=visitor-c3").await, ["c3"], "the contact id");
    assert_eq!(ids(&app, "q=100%25").await, Vec::<String>::new(), "wildcards are literal");
    let bound = app.key("server", Some(&a)).await;
    let r = app.get("/v1/conversations", &bound).await;
    assert_eq!(r.assert_status(200)["items"].as_array().unwrap().len(), 2);
    app.get("/v1/conversations?from=soon", &app.admin).await.assert_invalid("from");
}

async fn inbox_pages_stay_stable_while_conversations_arrive(backend: Backend) {
    let app = spawn_app(backend).await;
    seed(&app).await;
    let first = app.get("/v1/conversations?limit=2", &app.admin).await.body;
    let cursor = first["next_cursor"].as_str().unwrap().to_owned();
    let (_, b) = (0, app.bot("C").await);
    app.put("/v1/conversations/newest", &app.admin, json!({"bot_id": b})).await.assert_status(201);
    let second = app.get(&format!("/v1/conversations?limit=2&cursor={cursor}"), &app.admin).await.body;
    let page = |v: &Value| -> Vec<String> {
        v["items"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap().to_owned()).collect()
    };
    assert_eq!(page(&first), ["c4", "c3"]);
    assert_eq!(page(&second), ["c2", "c1"], "nothing skipped or repeated");
    assert!(second["next_cursor"].is_null());
}

async fn exports_stream_every_matching_conversation(backend: Backend) {
    let app = spawn_app(backend).await;
    seed(&app).await;
    // c3: a thumb given and retracted, so none counted and none shown.
    app.post("/v1/feedback", &app.admin, json!({"message_id": "c3-a", "feedback_type": "negative", "user_id": "u3"}))
        .await
        .assert_status(201);
    app.delete("/v1/messages/c3-a/feedback?user_id=u3", &app.admin).await.assert_status(200);
    // c2: a thumb down alone.
    app.post("/v1/feedback", &app.admin, json!({"message_id": "c2-a", "feedback_type": "negative", "user_id": "u4"}))
        .await
        .assert_status(201);
    let get = |query: &str| {
        let url = format!("{}/v1/exports/conversations?{query}", app.address);
        app.client.get(url).bearer_auth(&app.admin).send()
    };
    let jsonl = get("format=jsonl").await.unwrap();
    assert_eq!(jsonl.headers()["content-type"], "application/x-ndjson");
    let text = jsonl.text().await.unwrap();
    let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 4);
    let c1 = lines.iter().find(|l| l["id"] == "c1").unwrap();
    assert_eq!(c1["votes"].as_array().unwrap().len(), 1);
    assert_eq!(c1["satisfaction"]["value"], "positive");
    assert!(c1["messages"].as_array().unwrap().iter().any(|m| m["feedback"]["up"] == 1));
    let c4 = lines.iter().find(|l| l["id"] == "c4").unwrap();
    assert_eq!(c4["csat"][0]["score"], 3);
    // An export reads only what the listing says exists (thumbs where some
    // are counted, votes and CSAT where a signal set the satisfaction): each
    // line is still the conversation's whole transcript, as read alone.
    for line in &lines {
        let id = line["id"].as_str().unwrap();
        let alone = app.get(&format!("/v1/conversations/{id}"), &app.admin).await;
        assert_eq!(line, alone.assert_status(200), "{id}");
    }
    let down = get("format=jsonl&feedback=downvote").await.unwrap().text().await.unwrap();
    assert_eq!(down.lines().count(), 1);
    let csv = get("format=csv").await.unwrap();
    assert!(csv.headers()["content-disposition"].to_str().unwrap().contains("conversations.csv"));
    let csv = csv.text().await.unwrap();
    let mut rows = csv.lines();
    assert!(rows.next().unwrap().starts_with("id,bot_id,contact_id,locale,variant,status,created_at"));
    assert_eq!(csv.matches("\nc").count(), 4, "{csv}");
    app.get("/v1/exports/conversations?format=xml", &app.admin).await.assert_invalid("format");
}

/// More conversations than several export pages hold: each comes once, with
/// its message, newest first, across the pages read ahead of the writing.
async fn a_long_export_reads_every_page_once_in_order(backend: Backend) {
    let app = spawn_app(backend).await;
    let bot = app.bot("A").await;
    let total = 530;
    let mut events = Vec::new();
    for i in 0..total {
        let id = format!("long-{i:04}");
        let at = format!("2024-03-{:02}T{:02}:{:02}:00Z", 1 + i / 60, (i / 3) % 24, i % 60);
        events.push(json!({"type": "conversation", "id": id, "bot_id": bot, "created_at": at}));
        events.push(json!({"type": "message", "conversation_id": id, "id": format!("{id}-m"), "role": "user",
                           "content": format!("question {i}"), "created_at": at}));
    }
    for batch in events.chunks(500) {
        app.post("/v1/ingest", &app.admin, json!({ "events": batch })).await.assert_status(200);
    }
    let url = format!("{}/v1/exports/conversations?format=jsonl", app.address);
    let text = app.client.get(url).bearer_auth(&app.admin).send().await.unwrap().text().await.unwrap();
    let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), total);
    let started: Vec<&str> = lines.iter().map(|l| l["created_at"].as_str().unwrap()).collect();
    assert!(started.windows(2).all(|w| w[0] >= w[1]), "newest first across pages");
    let mut ids: Vec<&str> = lines.iter().map(|l| l["id"].as_str().unwrap()).collect();
    for l in &lines {
        let i: usize = l["id"].as_str().unwrap()[5..].parse().unwrap();
        assert_eq!(l["messages"][0]["content"], format!("question {i}"));
    }
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), total, "no conversation twice");
}

/// Conversations whose messages add up to more than an export loads at once
/// are loaded in several groups of a page; each still comes once, whole, in
/// its place.
async fn long_conversations_are_exported_whole_across_groups(backend: Backend) {
    let app = spawn_app(backend).await;
    let bot = app.bot("A").await;
    // 2,600 messages each: two make a group of 5,200 > 5,000, so a page of
    // them is cut into groups of one, between short conversations.
    let (long, per) = (["long-a", "long-b", "long-c"], 2_600);
    for (day, id) in long.iter().enumerate() {
        let at = format!("2024-05-0{}T10:00:00Z", 2 * day + 2);
        app.post(
            "/v1/ingest",
            &app.admin,
            json!({"events": [{"type": "conversation", "id": id, "bot_id": bot, "created_at": at}]}),
        )
        .await
        .assert_status(200);
        let messages: Vec<Value> = (0..per)
            .map(|i| json!({"type": "message", "conversation_id": id, "id": format!("{id}-{i:04}"), "role": "user", "content": format!("{id} {i}"), "created_at": at}))
            .collect();
        for batch in messages.chunks(1000) {
            app.post("/v1/ingest", &app.admin, json!({ "events": batch })).await.assert_status(200);
        }
        let short = format!("short-{day}");
        let at = format!("2024-05-0{}T10:00:00Z", 2 * day + 1);
        app.post(
            "/v1/ingest",
            &app.admin,
            json!({"events": [
                {"type": "conversation", "id": short, "bot_id": bot, "created_at": at},
                {"type": "message", "conversation_id": short, "id": format!("{short}-m"), "role": "user", "content": "hi", "created_at": at},
            ]}),
        )
        .await
        .assert_status(200);
    }
    let url = format!("{}/v1/exports/conversations?format=jsonl", app.address);
    let text = app.client.get(url).bearer_auth(&app.admin).send().await.unwrap().text().await.unwrap();
    let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let ids: Vec<&str> = lines.iter().map(|l| l["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["long-c", "short-2", "long-b", "short-1", "long-a", "short-0"]);
    for line in &lines {
        let id = line["id"].as_str().unwrap();
        let messages = line["messages"].as_array().unwrap();
        if id.starts_with("long") {
            assert_eq!(messages.len(), per, "{id}");
            assert!(messages.iter().all(|m| m["conversation_id"] == id), "{id}");
            assert_eq!(messages[per - 1]["content"], format!("{id} {}", per - 1));
        } else {
            assert_eq!(messages.len(), 1, "{id}");
        }
    }
}
