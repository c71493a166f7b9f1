//! Webhooks (SPEC §13) through a real server and a real receiver process
//! that verifies every delivery with the Standard Webhooks npm package:
//! management and its rules, every event and the filters, signatures
//! across a rotation, retries, giving up, deactivation, retry by hand,
//! pruning, the Slack format and `/metrics`.

use std::time::Duration;

use plaudit::config::Settings;
use serde_json::{Value, json};

use crate::{
    both_backends,
    helpers::{Backend, TestApp, spawn_app, spawn_app_with, test_settings},
    receiver::Receiver,
};

both_backends!(
    webhooks_are_for_admins_and_never_show_their_secret_again,
    receivers_must_be_public_https_unless_allowed,
    every_event_reaches_the_receiver_signed_in_order,
    filters_choose_what_each_webhook_receives,
    events_of_batches_and_the_compatible_door_are_delivered,
    a_rotated_secret_signs_alongside_the_new_one_for_a_day,
    a_failing_receiver_is_retried_given_up_and_deactivated,
    a_dead_receiver_is_held_not_hammered_and_a_retry_by_hand_goes_at_once,
    slack_webhooks_get_a_readable_line,
    succeeded_deliveries_are_pruned_and_counted_in_metrics,
);

/// Settings for a receiver on this machine, delivered quickly.
pub fn local_webhooks() -> Settings {
    Settings { webhooks_allow_http: true, webhooks_allow_private: true, webhooks_poll_ms: 50, ..test_settings() }
}

/// Creates a webhook; returns its id and secret.
pub async fn webhook(app: &TestApp, key: &str, body: Value) -> (String, String) {
    let r = app.post("/v1/webhooks", key, body).await;
    let made = r.assert_status(201);
    (made["id"].as_str().unwrap().to_owned(), made["secret"].as_str().unwrap().to_owned())
}

fn all_events() -> Value {
    json!([
        "feedback.created",
        "feedback.updated",
        "feedback.retracted",
        "feedback.reviewed",
        "vote.created",
        "csat.answered",
        "golden_example.created",
        "golden_example.deleted",
        "conversation.ended",
        "ping"
    ])
}

/// The body of a delivery the receiver got, parsed.
fn body(seen: &Value) -> Value {
    serde_json::from_str(seen["body"].as_str().unwrap()).unwrap()
}

/// Waits until `check` holds of the webhook's deliveries (at most 30 s).
pub(crate) async fn deliveries_until(
    app: &TestApp,
    id: &str,
    query: &str,
    check: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let r = app.get(&format!("/v1/webhooks/{id}/deliveries?limit=500{query}"), &app.admin).await;
        let items = r.assert_status(200)["items"].as_array().unwrap().clone();
        if check(&items) {
            return items;
        }
        assert!(std::time::Instant::now() < deadline, "deliveries never got there: {items:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn types(deliveries: &[Value]) -> Vec<String> {
    let mut t: Vec<String> = deliveries.iter().map(|d| d["event_type"].as_str().unwrap().to_owned()).collect();
    t.sort();
    t
}

async fn webhooks_are_for_admins_and_never_show_their_secret_again(backend: Backend) {
    let app = spawn_app_with(backend, local_webhooks()).await;
    let (shop, other_bot) = (app.bot("Shop").await, app.bot("Other").await);
    let url = "https://hooks.example.com/services/T000/B000/XXXXSECRETPATH";
    let r = app
        .post(
            "/v1/webhooks",
            &app.admin,
            json!({"url": url, "events": ["vote.created", "feedback.created"],
        "description": "Support channel"}),
        )
        .await;
    let made = r.assert_status(201).clone();
    let id = made["id"].as_str().unwrap();
    assert!(made["secret"].as_str().unwrap().starts_with("whsec_"));
    assert_eq!(made["url"], "https://hooks.example.com/****", "a URL's path is a secret too");
    assert_eq!(made["events"], json!(["feedback.created", "vote.created"]));
    assert_eq!((made["format"].as_str(), made["active"].as_bool()), (Some("standard"), Some(true)));
    assert_eq!(made["health"]["pending"], 0);

    let listed = app.get("/v1/webhooks", &app.admin).await;
    let text = listed.assert_status(200).to_string();
    assert!(!text.contains("whsec_") && !text.contains("XXXXSECRETPATH"), "{text}");
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 1);
    let one = app.get(&format!("/v1/webhooks/{id}"), &app.admin).await;
    assert!(one.assert_status(200).get("secret").is_none());

    let patched = app
        .patch(
            &format!("/v1/webhooks/{id}"),
            &app.admin,
            json!({"events": ["csat.answered"], "description": null,
            "only_negative": true, "active": false}),
        )
        .await;
    let patched = patched.assert_status(200);
    assert_eq!(patched["events"], json!(["csat.answered"]));
    assert_eq!((patched["description"].clone(), patched["only_negative"].clone()), (Value::Null, json!(true)));
    assert_eq!(patched["active"], false);
    app.patch(&format!("/v1/webhooks/{id}"), &app.admin, json!({"events": []})).await.assert_invalid("events");
    app.patch(&format!("/v1/webhooks/{id}"), &app.admin, json!({"format": "slack"})).await.assert_status(400);
    app.post("/v1/webhooks", &app.admin, json!({"url": url, "events": ["feedback.liked"]}))
        .await
        .assert_invalid("events");
    app.post("/v1/webhooks", &app.admin, json!({"url": url, "events": ["ping"], "format": "xml"}))
        .await
        .assert_invalid("format");

    // Admins only, keys and people alike; other accounts see nothing.
    let server = app.key("server", None).await;
    app.get("/v1/webhooks", &server).await.assert_error(403, "forbidden");
    app.post("/v1/webhooks", &server, json!({"url": url, "events": ["ping"]})).await.assert_error(403, "forbidden");
    let (_, stranger) = app.other_account(true).await;
    app.get(&format!("/v1/webhooks/{id}"), &stranger).await.assert_error(404, "not_found");
    app.delete(&format!("/v1/webhooks/{id}"), &stranger).await.assert_error(404, "not_found");
    assert!(app.get("/v1/webhooks", &stranger).await.assert_status(200)["items"].as_array().unwrap().is_empty());

    // A key bound to a bot manages only its bot's webhooks.
    let bound = app.key("admin", Some(&shop)).await;
    let (own, _) = webhook(&app, &bound, json!({"url": url, "events": ["ping"]})).await;
    let own_hook = app.get(&format!("/v1/webhooks/{own}"), &bound).await;
    assert_eq!(own_hook.assert_status(200)["bot_id"], shop.as_str());
    app.post("/v1/webhooks", &bound, json!({"url": url, "events": ["ping"], "bot_id": other_bot}))
        .await
        .assert_error(404, "not_found");
    app.get(&format!("/v1/webhooks/{id}"), &bound).await.assert_error(404, "not_found");
    assert_eq!(app.get("/v1/webhooks", &bound).await.assert_status(200)["items"].as_array().unwrap().len(), 1);

    // A rotation shows the new secret once.
    let rotated = app.post(&format!("/v1/webhooks/{id}/rotate-secret"), &app.admin, json!({})).await;
    let new_secret = rotated.assert_status(200)["secret"].as_str().unwrap().to_owned();
    assert_ne!(new_secret, made["secret"].as_str().unwrap());

    let gone = app.delete(&format!("/v1/webhooks/{id}"), &app.admin).await;
    gone.assert_status(200);
    app.get(&format!("/v1/webhooks/{id}"), &app.admin).await.assert_error(404, "not_found");
    app.get("/v1/webhooks/not-an-id", &app.admin).await.assert_error(404, "not_found");

    // The audit log has each change, with neither the secret nor the path.
    let log = app.get("/v1/audit-log?limit=100", &app.admin).await;
    let log = log.assert_status(200).to_string();
    for action in ["webhook.created", "webhook.updated", "webhook.secret_rotated", "webhook.deleted"] {
        assert!(log.contains(action), "{action} is in the log");
    }
    assert!(!log.contains("whsec_") && !log.contains("XXXXSECRETPATH"), "{log}");
}

async fn receivers_must_be_public_https_unless_allowed(backend: Backend) {
    let app = spawn_app(backend).await;
    let events = json!(["ping"]);
    let refused = |url: &str| app.post("/v1/webhooks", &app.admin, json!({"url": url, "events": events}));
    refused("http://hooks.example.com/x").await.assert_invalid("url");
    refused("ftp://hooks.example.com/x").await.assert_invalid("url");
    refused("https://user:pw@hooks.example.com/x").await.assert_invalid("url");
    refused("not a url").await.assert_invalid("url");
    for private in [
        "https://127.0.0.1/x",
        "https://10.1.2.3/x",
        "https://169.254.169.254/latest",
        "https://[::1]/x",
        "https://localhost/x",
        "https://192.168.0.10:8443/x",
    ] {
        let r = refused(private).await;
        let message = r.assert_error(400, "invalid_request");
        assert!(message.contains("private") || message.contains("loopback"), "{private}: {message}");
    }
    let (id, _) = webhook(&app, &app.admin, json!({"url": "https://93.184.215.14/hook", "events": events})).await;
    app.patch(&format!("/v1/webhooks/{id}"), &app.admin, json!({"url": "https://127.0.0.1/x"}))
        .await
        .assert_invalid("url");
}

async fn every_event_reaches_the_receiver_signed_in_order(backend: Backend) {
    let receiver = Receiver::start();
    let app = spawn_app_with(backend, local_webhooks()).await;
    let bot = app.bot("Shop").await;
    let (id, secret) =
        webhook(&app, &app.admin, json!({"url": receiver.url("127.0.0.1", "/hook"), "events": all_events()})).await;
    receiver.verify_with(&secret).await;

    app.conversation_with_answer(&app.admin, &bot, "c1").await;
    let thumb = |t: &str, reason: Option<&str>| {
        json!({"message_id": "c1-a1", "user_id": "visitor-1",
        "feedback_type": t, "reason": reason})
    };
    app.post("/v1/feedback", &app.admin, thumb("negative", Some("wrong date"))).await.assert_status(201);
    app.post("/v1/feedback", &app.admin, thumb("negative", Some("wrong date, twice"))).await.assert_status(200);
    app.post("/v1/feedback", &app.admin, thumb("positive", None)).await.assert_status(200);
    app.delete("/v1/messages/c1-a1/feedback?user_id=visitor-1", &app.admin).await.assert_status(200);
    let again = app.post("/v1/feedback", &app.admin, thumb("negative", Some("still wrong"))).await;
    let feedback_id = again.assert_status(200)["id"].as_str().unwrap().to_owned();
    let review = json!({"action": "approve", "corrected_response": "It ships on Monday."});
    app.post(&format!("/v1/feedback/{feedback_id}/review"), &app.admin, review).await.assert_status(200);
    let golden = app.get("/v1/golden-examples", &app.admin).await;
    let golden_id = golden.assert_status(200)["items"][0]["id"].as_str().unwrap().to_owned();
    app.delete(&format!("/v1/golden-examples/{golden_id}"), &app.admin).await.assert_status(204);
    app.post("/v1/conversations/c1/downvote", &app.admin, json!({"user_id": "visitor-1", "reason": "slow"}))
        .await
        .assert_status(200);
    app.post(
        "/v1/conversations/c1/csat",
        &app.admin,
        json!({"question_code": "HELPFUL_THUMBS", "value": "down",
        "user_id": "visitor-1"}),
    )
    .await
    .assert_status(201);
    app.post("/v1/conversations/c1/end", &app.admin, json!({})).await.assert_status(200);
    let ping = app.post(&format!("/v1/webhooks/{id}/test"), &app.admin, json!({})).await;
    assert_eq!(ping.assert_status(202)["event_type"], "ping");
    assert_eq!(ping.body["status"], "pending");

    let expected = [
        "feedback.created",
        "feedback.updated",
        "feedback.updated",
        "feedback.retracted",
        "feedback.created",
        "golden_example.created",
        "feedback.reviewed",
        "golden_example.deleted",
        "vote.created",
        "csat.answered",
        "conversation.ended",
        "ping",
    ];
    let seen: Vec<Value> = expected.iter().map(|_| receiver.next()).collect();
    let got: Vec<&str> = seen.iter().map(|s| s["headers"]["webhook-id"].as_str().unwrap()).collect();
    let bodies: Vec<Value> = seen.iter().map(body).collect();
    let kinds: Vec<&str> = bodies.iter().map(|b| b["type"].as_str().unwrap()).collect();
    let mut sorted_kinds = kinds.clone();
    sorted_kinds.sort_unstable();
    let mut sorted_expected = expected.to_vec();
    sorted_expected.sort_unstable();
    assert_eq!(sorted_kinds, sorted_expected, "every event once: {kinds:?}");
    // In the order the changes committed (within one transaction, the
    // golden example may come before the review that made it).
    let position = |k: &str| kinds.iter().position(|x| *x == k).unwrap();
    assert!(position("feedback.retracted") < position("vote.created"));
    assert!(position("vote.created") < position("csat.answered"));
    assert!(position("csat.answered") < position("conversation.ended"));
    for (s, b) in seen.iter().zip(&bodies) {
        assert_eq!(s["verified"], true, "the Standard Webhooks library accepts it: {s}");
        assert_eq!(s["headers"]["content-type"], "application/json");
        assert!(s["headers"]["webhook-id"].as_str().unwrap().starts_with("evt_"));
        assert!(b["timestamp"].as_str().is_some());
        if b["type"] != "ping" {
            assert_eq!(b["data"]["conversation_id"], "c1", "{b}");
            assert_eq!(b["data"]["bot_id"], bot.as_str(), "{b}");
        }
    }
    let first = &bodies[0]["data"];
    assert_eq!((first["feedback_type"].as_str(), first["reason"].as_str()), (Some("negative"), Some("wrong date")));
    assert_eq!(first["message_id"], "c1-a1");
    let vote = bodies.iter().find(|b| b["type"] == "vote.created").unwrap();
    assert_eq!((vote["data"]["direction"].as_str(), vote["data"]["reason"].as_str()), (Some("down"), Some("slow")));
    let csat = bodies.iter().find(|b| b["type"] == "csat.answered").unwrap();
    assert_eq!(csat["data"]["score"], 1);
    assert_eq!(got.iter().collect::<std::collections::BTreeSet<_>>().len(), expected.len(), "ids are unique");

    // The log shows each as succeeded, with its answer.
    let log = deliveries_until(&app, &id, "&status=succeeded", |d| d.len() == expected.len()).await;
    assert!(log.iter().all(|d| d["attempts"] == 1 && d["last_status_code"] == 200 && d["next_attempt_at"].is_null()));
    assert!(receiver.next_within(Duration::from_millis(500)).is_none(), "nothing more was sent");
    let health = app.get(&format!("/v1/webhooks/{id}"), &app.admin).await;
    let health = &health.assert_status(200)["health"];
    assert!(health["last_success_at"].is_string() && health["failing_since"].is_null(), "{health}");
}

async fn filters_choose_what_each_webhook_receives(backend: Backend) {
    // No worker: what each webhook is owed is in its log, pending.
    let app = spawn_app_with(backend, Settings { webhooks_poll_ms: 0, ..local_webhooks() }).await;
    let (shop, other) = (app.bot("Shop").await, app.bot("Other").await);
    let url = "https://hooks.example.com/x";
    let (all, _) = webhook(&app, &app.admin, json!({"url": url, "events": all_events()})).await;
    let (votes, _) = webhook(&app, &app.admin, json!({"url": url, "events": ["vote.created"]})).await;
    let (shop_only, _) = webhook(&app, &app.admin, json!({"url": url, "events": all_events(), "bot_id": shop})).await;
    let (negative, _) =
        webhook(&app, &app.admin, json!({"url": url, "events": all_events(), "only_negative": true})).await;
    let (off, _) = webhook(&app, &app.admin, json!({"url": url, "events": all_events()})).await;
    app.patch(&format!("/v1/webhooks/{off}"), &app.admin, json!({"active": false})).await.assert_status(200);

    for (bot, c) in [(&shop, "s1"), (&other, "o1")] {
        app.conversation_with_answer(&app.admin, bot, c).await;
    }
    let thumb = |m: &str, u: &str, t: &str| json!({"message_id": m, "user_id": u, "feedback_type": t});
    app.post("/v1/feedback", &app.admin, thumb("s1-a1", "u1", "positive")).await.assert_status(201);
    app.post("/v1/feedback", &app.admin, thumb("s1-a1", "u1", "negative")).await.assert_status(200);
    app.post("/v1/feedback", &app.admin, thumb("o1-a1", "u2", "negative")).await.assert_status(201);
    app.post("/v1/feedback", &app.admin, thumb("o1-a1", "u2", "positive")).await.assert_status(200);
    app.post("/v1/conversations/s1/upvote", &app.admin, json!({"user_id": "u1"})).await.assert_status(200);
    app.post("/v1/conversations/o1/downvote", &app.admin, json!({"user_id": "u2"})).await.assert_status(200);
    let csat = |v: &str, u: &str| json!({"question_code": "HELPFUL_THUMBS", "value": v, "user_id": u});
    app.post("/v1/conversations/s1/csat", &app.admin, csat("up", "u1")).await.assert_status(201);
    app.post("/v1/conversations/o1/csat", &app.admin, csat("down", "u2")).await.assert_status(201);
    app.post("/v1/conversations/o1/end", &app.admin, json!({})).await.assert_status(200);

    let owed = |id: String| {
        let app = &app;
        async move { types(&deliveries_until(app, &id, "", |_| true).await) }
    };
    let everything = owed(all).await;
    assert_eq!(everything.len(), 9, "{everything:?}");
    assert_eq!(owed(votes.clone()).await, ["vote.created", "vote.created"]);
    assert_eq!(
        owed(shop_only).await,
        ["csat.answered", "feedback.created", "feedback.updated", "vote.created"],
        "only the Shop's events"
    );
    // A switch to negative, a thumbs-down, a downvote, a CSAT below 3; not
    // the switch to positive, the upvote, the good CSAT, the end.
    assert_eq!(
        owed(negative).await,
        ["csat.answered", "feedback.created", "feedback.updated", "vote.created"],
        "only the negative ones"
    );
    assert!(owed(off).await.is_empty(), "an inactive webhook is owed nothing");
    let pending = app.get(&format!("/v1/webhooks/{votes}/deliveries?status=pending"), &app.admin).await;
    assert_eq!(pending.assert_status(200)["items"].as_array().unwrap().len(), 2);
    app.get(&format!("/v1/webhooks/{votes}/deliveries?status=lost"), &app.admin).await.assert_invalid("status");
    let page = app.get(&format!("/v1/webhooks/{votes}/deliveries?limit=1"), &app.admin).await;
    let cursor = page.assert_status(200)["next_cursor"].as_str().unwrap().to_owned();
    let rest = app.get(&format!("/v1/webhooks/{votes}/deliveries?limit=1&cursor={cursor}"), &app.admin).await;
    assert_ne!(rest.assert_status(200)["items"][0]["id"], page.body["items"][0]["id"]);
}

async fn events_of_batches_and_the_compatible_door_are_delivered(backend: Backend) {
    let app = spawn_app_with(backend, Settings { webhooks_poll_ms: 0, ..local_webhooks() }).await;
    let bot = app.bot("Shop").await;
    let (all, _) =
        webhook(&app, &app.admin, json!({"url": "https://hooks.example.com/x", "events": all_events()})).await;
    let r = app
        .post("/v1/ingest", &app.admin, json!({"events": [
            {"type": "conversation", "id": "b1", "bot_id": bot, "contact_id": "p1"},
            {"type": "message", "conversation_id": "b1", "id": "b1-a", "role": "assistant", "content": "Hello",
             "request_id": "req-b1"},
            {"type": "feedback", "message_id": "b1-a", "user_id": "p1", "feedback_type": "negative"},
            {"type": "feedback", "message_id": "nope", "user_id": "p1", "feedback_type": "negative"},
            {"type": "vote", "conversation_id": "b1", "direction": "up", "user_id": "p1"},
            {"type": "csat", "conversation_id": "b1", "user_id": "p1", "question_code": "HELPFUL_THUMBS", "value": "up"},
            {"type": "conversation_end", "id": "b1"},
        ]}))
        .await;
    r.assert_status(200);
    let owed = types(&deliveries_until(&app, &all, "", |_| true).await);
    assert_eq!(owed, ["conversation.ended", "csat.answered", "feedback.created", "vote.created"], "{}", r.body);
    // The seed-004 door.
    let server = app.key("server", None).await;
    let resp = app
        .client
        .post(format!("{}/api/v1/m2m/sites/{bot}/chat/feedback", app.address))
        .header("X-API-Key", &server)
        .json(&json!({"session_id": "b1", "request_id": "req-b1", "feedback": "good"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let owed = types(&deliveries_until(&app, &all, "", |d| d.len() == 5).await);
    // The same person's thumb, switched to positive.
    assert!(owed.contains(&"feedback.updated".to_owned()), "{owed:?}");
}

async fn a_rotated_secret_signs_alongside_the_new_one_for_a_day(backend: Backend) {
    let receiver = Receiver::start();
    let app = spawn_app_with(backend, local_webhooks()).await;
    let (id, old) =
        webhook(&app, &app.admin, json!({"url": receiver.url("127.0.0.1", "/hook"), "events": ["ping"]})).await;
    let rotated = app.post(&format!("/v1/webhooks/{id}/rotate-secret"), &app.admin, json!({})).await;
    let new = rotated.assert_status(200)["secret"].as_str().unwrap().to_owned();
    for secret in [&old, &new] {
        receiver.verify_with(secret).await;
        app.post(&format!("/v1/webhooks/{id}/test"), &app.admin, json!({})).await.assert_status(202);
        let seen = receiver.next();
        assert_eq!(seen["verified"], true, "{seen}");
        assert_eq!(seen["headers"]["webhook-signature"].as_str().unwrap().split(' ').count(), 2);
    }
    receiver.verify_with("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").await;
    app.post(&format!("/v1/webhooks/{id}/test"), &app.admin, json!({})).await.assert_status(202);
    assert_eq!(receiver.next()["verified"], false, "another secret does not verify");
}

async fn a_failing_receiver_is_retried_given_up_and_deactivated(backend: Backend) {
    let receiver = Receiver::start();
    receiver.fail(true).await;
    // Retried for 6 s (the first retry 4-5 s after the first attempt, the
    // next 8-10 s later: past the window), deactivated by a failure 3 s
    // after the first.
    let settings =
        Settings { webhooks_retry_hours: 6.0 / 3600.0, webhooks_deactivate_hours: 3.0 / 3600.0, ..local_webhooks() };
    let app = spawn_app_with(backend, settings).await;
    let url = receiver.url("127.0.0.1", "/hook");
    let (id, secret) = webhook(&app, &app.admin, json!({"url": url, "events": ["ping"]})).await;
    receiver.verify_with(&secret).await;
    let ping = app.post(&format!("/v1/webhooks/{id}/test"), &app.admin, json!({})).await;
    let event = ping.assert_status(202)["id"].as_str().unwrap().to_owned();
    let first = receiver.next();
    let second = receiver.next();
    assert_eq!(first["headers"]["webhook-id"], second["headers"]["webhook-id"], "the same event, retried");
    let (t1, t2) = (&first["headers"]["webhook-timestamp"], &second["headers"]["webhook-timestamp"]);
    let gap = t2.as_str().unwrap().parse::<i64>().unwrap() - t1.as_str().unwrap().parse::<i64>().unwrap();
    assert!((3..=6).contains(&gap), "the first retry within 5 s, signed afresh: {gap} s");
    assert_eq!(second["verified"], true);
    let failed = deliveries_until(&app, &id, "&status=failed", |d| d.len() == 1).await;
    assert_eq!((failed[0]["attempts"].as_i64(), failed[0]["last_status_code"].as_i64()), (Some(2), Some(503)));
    assert!(failed[0]["last_error"].as_str().unwrap().contains("503"));
    let hook = app.get(&format!("/v1/webhooks/{id}"), &app.admin).await;
    let hook = hook.assert_status(200).clone();
    assert_eq!(hook["active"], false, "deactivated after failing for 3 s: {hook}");
    assert!(hook["health"]["deactivated_at"].is_string() && hook["health"]["failed"] == 1, "{hook}");
    let log = app.get("/v1/audit-log?limit=100", &app.admin).await;
    assert!(log.assert_status(200).to_string().contains("webhook.deactivated"));

    // Turned on again, with the receiver back, a retry by hand gets through.
    receiver.fail(false).await;
    app.patch(&format!("/v1/webhooks/{id}"), &app.admin, json!({"active": true})).await.assert_status(200);
    let retried = app.post(&format!("/v1/webhooks/{id}/deliveries/{event}/retry"), &app.admin, json!({})).await;
    assert_eq!(retried.assert_status(200)["status"], "pending");
    let third = receiver.next();
    assert_eq!((third["headers"]["webhook-id"].as_str(), third["answered"].is_null()), (Some(event.as_str()), true));
    let done = deliveries_until(&app, &id, "&status=succeeded", |d| d.len() == 1).await;
    assert_eq!(done[0]["attempts"], 3);
    let healthy = app.get(&format!("/v1/webhooks/{id}"), &app.admin).await;
    let healthy = &healthy.assert_status(200)["health"];
    assert!(healthy["failing_since"].is_null() && healthy["last_success_at"].is_string(), "{healthy}");
    app.post(&format!("/v1/webhooks/{id}/deliveries/evt_nope/retry"), &app.admin, json!({}))
        .await
        .assert_error(404, "not_found");
}

async fn a_dead_receiver_is_held_not_hammered_and_a_retry_by_hand_goes_at_once(backend: Backend) {
    let receiver = Receiver::start();
    receiver.fail(true).await;
    let app = spawn_app_with(backend, Settings { webhooks_poll_ms: 0, ..local_webhooks() }).await;
    let url = receiver.url("127.0.0.1", "/hook");
    let (id, _) = webhook(&app, &app.admin, json!({"url": url, "events": ["ping"]})).await;
    let mut pings = Vec::new();
    for _ in 0..6 {
        let ping = app.post(&format!("/v1/webhooks/{id}/test"), &app.admin, json!({})).await;
        pings.push(ping.assert_status(202)["id"].as_str().unwrap().to_owned());
    }
    // The worker starts once all six wait: three failures in a row, then
    // the webhook is held until its first retry (4 s or more away).
    let worker = plaudit::app::App::start(app.store.clone())
        .await
        .unwrap()
        .with_webhooks(plaudit::app::WebhookOptions { allow_http: true, allow_private: true, ..Default::default() });
    worker.keep_delivering(Duration::from_millis(50)).unwrap();
    let tried: Vec<String> =
        (0..3).map(|_| receiver.next()["headers"]["webhook-id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(tried, pings[..3], "in order");
    assert!(receiver.next_within(Duration::from_secs(2)).is_none(), "held, not hammered");
    // Back up, a retry by hand of one not tried yet goes at once, and the rest follow.
    receiver.fail(false).await;
    let last = &pings[5];
    app.post(&format!("/v1/webhooks/{id}/deliveries/{last}/retry"), &app.admin, json!({})).await.assert_status(200);
    let next = receiver.next_within(Duration::from_secs(2)).expect("the retry went at once");
    assert_eq!(next["answered"], Value::Null);
    deliveries_until(&app, &id, "&status=succeeded", |d| d.len() == 6).await;
}

async fn slack_webhooks_get_a_readable_line(backend: Backend) {
    let receiver = Receiver::start();
    let settings = Settings { public_url: Some("https://feedback.example.com/".into()), ..local_webhooks() };
    let app = spawn_app_with(backend, settings).await;
    let bot = app.bot("Support Bot").await;
    let url = receiver.url("127.0.0.1", "/hook");
    webhook(&app, &app.admin, json!({"url": url, "events": ["feedback.created"], "format": "slack"})).await;
    app.conversation_with_answer(&app.admin, &bot, "conv7").await;
    let thumb = json!({"message_id": "conv7-a1", "user_id": "v", "feedback_type": "negative",
        "reason": "the date is wrong"});
    app.post("/v1/feedback", &app.admin, thumb).await.assert_status(201);
    let text = body(&receiver.next())["text"].as_str().unwrap().to_owned();
    assert!(text.contains("👎") && text.contains("Support Bot"), "{text}");
    assert!(text.contains("It ships tomorrow.") && text.contains("the date is wrong"), "{text}");
    assert!(text.contains("<https://feedback.example.com/inbox/conv7|Open the transcript>"), "{text}");
}

async fn succeeded_deliveries_are_pruned_and_counted_in_metrics(backend: Backend) {
    let receiver = Receiver::start();
    let settings = Settings { webhooks_keep_days: 2.0 / 86_400.0, ..local_webhooks() };
    let app = spawn_app_with(backend, settings).await;
    let url = receiver.url("127.0.0.1", "/hook");
    let (id, _) = webhook(&app, &app.admin, json!({"url": url, "events": ["ping"]})).await;
    app.post(&format!("/v1/webhooks/{id}/test"), &app.admin, json!({})).await.assert_status(202);
    receiver.next();
    deliveries_until(&app, &id, "&status=succeeded", |d| d.len() == 1).await;
    let metrics = app.client.get(format!("{}/metrics", app.address)).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("plaudit_webhook_deliveries_total{outcome=\"succeeded\"} 1"), "{metrics}");
    assert!(metrics.contains("plaudit_webhook_deliveries_pending 0"), "{metrics}");
    assert!(metrics.contains("plaudit_webhook_oldest_pending_seconds 0"), "{metrics}");
    deliveries_until(&app, &id, "", <[Value]>::is_empty).await;
}
