//! The dashboard's webhooks (SPEC §13): an admin adds one and sees its
//! secret once, sends a test, reads its deliveries and health, retries a
//! failed delivery, turns it off and on, and deletes it; viewers and
//! reviewers are refused.

use plaudit::{config::Settings, domain::ids::Uuid};
use serde_json::Value;

use crate::{
    both_backends,
    helpers::{Backend, TestApp, spawn_app_with},
    people::person,
    web::{Browser, Page},
    webhooks::{deliveries_until, local_webhooks},
};

both_backends!(
    an_admin_adds_a_webhook_and_sees_its_secret_once,
    viewers_and_reviewers_cannot_reach_webhooks,
    a_failed_delivery_is_shown_and_retried,
);

const SCRIPT: &str = "<script>alert(1)</script>";

/// Receivers on this machine, with no delivery worker: deliveries stay pending.
fn held() -> Settings {
    Settings { webhooks_poll_ms: 0, ..local_webhooks() }
}

/// Posts the new-webhook form with `fields` (and the CSRF token).
async fn add(browser: &Browser, csrf: &str, fields: &[(&str, &str)]) -> Page {
    let mut form = vec![("csrf", csrf)];
    form.extend_from_slice(fields);
    browser.post("/settings/webhooks", &form).await
}

/// The account's webhooks, through the API.
async fn webhooks(app: &TestApp) -> Vec<Value> {
    app.get("/v1/webhooks", &app.admin).await.assert_status(200)["items"].as_array().unwrap().clone()
}

/// The `data-testid` cell's text in a page (its first occurrence).
fn cell<'a>(html: &'a str, testid: &str) -> &'a str {
    let at = html.find(&format!("data-testid=\"{testid}\"")).unwrap_or_else(|| panic!("no {testid} in {html}"));
    let start = at + html[at..].find('>').unwrap() + 1;
    let end = start + html[start..].find('<').unwrap();
    &html[start..end]
}

async fn an_admin_adds_a_webhook_and_sees_its_secret_once(backend: Backend) {
    let app = spawn_app_with(backend, held()).await;
    let browser = Browser::admin(&app).await;
    let list = browser.get("/settings/webhooks").await;
    let html = list.assert_html(200);
    assert!(html.contains("data-testid=\"create-webhook-form\"") && html.contains("No webhooks yet"), "{html}");
    assert!(browser.get("/settings").await.assert_html(200).contains("data-testid=\"webhooks-panel\""));
    let csrf = list.csrf();

    // Refused: no CSRF token, no event, a URL that is not one; the form keeps what was typed.
    browser.post("/settings/webhooks", &[("url", "http://127.0.0.1:9/x"), ("events", "ping")]).await.assert_html(403);
    let no_events = add(&browser, &csrf, &[("url", "http://127.0.0.1:9/typed")]).await;
    let html = no_events.assert_html(400);
    assert!(html.contains("data-testid=\"form-error\"") && html.contains("events: must name at least one event"));
    assert!(html.contains("value=\"http://127.0.0.1:9/typed\""), "{html}");
    let not_a_url = add(&browser, &csrf, &[("url", "ftp://example.com/x"), ("events", "vote.created")]).await;
    assert!(not_a_url.assert_html(400).contains("url: must be an https URL"));
    let format = [("url", "http://127.0.0.1:9/x"), ("events", "vote.created"), ("format", "xml")];
    assert!(add(&browser, &csrf, &format).await.assert_html(400).contains("format: must be standard or slack"));
    assert!(webhooks(&app).await.is_empty());

    // Added: the secret is on this answer only; the URL's path is masked everywhere.
    let fields = [
        ("url", "http://127.0.0.1:9/hook/path-secret"),
        ("events", "feedback.created"),
        ("events", "vote.created"),
        ("only_negative", "on"),
        ("bot_id", ""),
        ("format", "standard"),
        ("description", SCRIPT),
    ];
    let created = add(&browser, &csrf, &fields).await;
    let html = created.assert_html(201);
    assert!(html.contains("data-testid=\"webhook-secret\""), "{html}");
    let secret = cell(html, "webhook-secret-value").to_owned();
    assert!(secret.starts_with("whsec_") && secret.len() > 30, "{secret}");
    assert!(html.contains("http://127.0.0.1:9/****") && !html.contains("path-secret"), "{html}");
    assert!(!html.contains(SCRIPT) && html.contains("&lt;script&gt;"), "the description is escaped");
    let made = webhooks(&app).await;
    assert_eq!(made.len(), 1);
    let hook = &made[0];
    assert_eq!(hook["events"], serde_json::json!(["feedback.created", "vote.created"]));
    assert_eq!((hook["only_negative"].as_bool(), hook["format"].as_str()), (Some(true), Some("standard")));
    assert_eq!(hook["description"], SCRIPT);
    let id = hook["id"].as_str().unwrap().to_owned();
    for path in ["/settings/webhooks", "/settings", &format!("/settings/webhooks/{id}")] {
        let again = browser.get(path).await;
        let html = again.assert_html(200);
        assert!(html.contains(&format!("data-webhook-id=\"{id}\"")) || path.ends_with(&id), "{path}: {html}");
        assert!(!html.contains("whsec_") && !html.contains(&secret), "{path} shows the secret again");
        assert!(!html.contains("path-secret"), "{path} shows the URL's path");
    }
    let list = browser.get("/settings/webhooks").await;
    assert_eq!(cell(list.assert_html(200), "webhook-state"), "active");
    assert!(list.body.contains("data-testid=\"webhook-last-success\"><span class=\"muted\">never</span>"));

    // A test is queued (no worker here: it stays pending) and listed.
    let test = browser.post(&format!("/settings/webhooks/{id}/test"), &[("csrf", &csrf)]).await;
    assert_eq!((test.status, test.location()), (303, format!("/settings/webhooks/{id}?notice=test_sent").as_str()));
    let page = browser.get(test.location()).await;
    let html = page.assert_html(200);
    assert!(html.contains("A test (a ping) is queued"), "{html}");
    assert!(html.contains("data-event-type=\"ping\" data-status=\"pending\""), "{html}");
    assert!(html.contains("not sent yet"));
    assert_eq!(cell(html, "webhook-pending"), "1");
    let queued = deliveries_until(&app, &id, "", |d| d.len() == 1).await;
    assert_eq!((queued[0]["event_type"].as_str(), queued[0]["status"].as_str()), (Some("ping"), Some("pending")));
    let list = browser.get("/settings/webhooks").await;
    assert_eq!(cell(list.assert_html(200), "webhook-pending"), "1");
    let succeeded = browser.get(&format!("/settings/webhooks/{id}?status=succeeded")).await;
    assert!(succeeded.assert_html(200).contains("data-testid=\"no-deliveries\""));
    browser.get(&format!("/settings/webhooks/{id}?status=sent")).await.assert_html(400);

    // Off, and on again.
    let off = browser.post(&format!("/settings/webhooks/{id}/active"), &[("csrf", &csrf), ("active", "false")]).await;
    assert_eq!(off.location(), format!("/settings/webhooks/{id}?notice=turned_off"));
    assert_eq!(webhooks(&app).await[0]["active"], false);
    assert_eq!(cell(browser.get(off.location()).await.assert_html(200), "webhook-state"), "off");
    let on = browser.post(&format!("/settings/webhooks/{id}/active"), &[("csrf", &csrf), ("active", "true")]).await;
    assert_eq!(on.location(), format!("/settings/webhooks/{id}?notice=turned_on"));
    assert_eq!(webhooks(&app).await[0]["active"], true);
    let odd = browser.post(&format!("/settings/webhooks/{id}/active"), &[("csrf", &csrf), ("active", "maybe")]).await;
    odd.assert_html(400);

    // A new secret, shown once too.
    let rotated = browser.post(&format!("/settings/webhooks/{id}/rotate"), &[("csrf", &csrf)]).await;
    let new_secret = cell(rotated.assert_html(200), "webhook-secret-value").to_owned();
    assert!(new_secret.starts_with("whsec_") && new_secret != secret);
    assert!(!browser.get(&format!("/settings/webhooks/{id}")).await.assert_html(200).contains("whsec_"));

    // What does not exist is a 404 page; a form's address opened as a page leads back.
    browser.get("/settings/webhooks/not-an-id").await.assert_html(404);
    browser.get(&format!("/settings/webhooks/{}", Uuid::new())).await.assert_html(404);
    let retry = format!("/settings/webhooks/{id}/deliveries/evt_nope/retry");
    browser.post(&retry, &[("csrf", &csrf)]).await.assert_html(404);
    let opened = browser.get(&format!("/settings/webhooks/{id}/test")).await;
    assert_eq!((opened.status, opened.location()), (303, "/settings/webhooks"));

    // Deleted, once confirmed.
    browser.post(&format!("/settings/webhooks/{id}/delete"), &[("csrf", &csrf)]).await.assert_html(400);
    let deleted =
        browser.post(&format!("/settings/webhooks/{id}/delete"), &[("csrf", &csrf), ("confirm", "yes")]).await;
    assert_eq!((deleted.status, deleted.location()), (303, "/settings/webhooks?notice=deleted"));
    assert!(webhooks(&app).await.is_empty());
    assert!(browser.get(deleted.location()).await.assert_html(200).contains("The webhook was deleted"));
    browser.get(&format!("/settings/webhooks/{id}")).await.assert_html(404);
}

async fn viewers_and_reviewers_cannot_reach_webhooks(backend: Backend) {
    let app = spawn_app_with(backend, held()).await;
    let admin = Browser::admin(&app).await;
    let csrf = admin.csrf().await;
    let made = add(&admin, &csrf, &[("url", "http://127.0.0.1:9/hook"), ("events", "vote.created")]).await;
    made.assert_html(201);
    let id = webhooks(&app).await[0]["id"].as_str().unwrap().to_owned();
    for (email, role) in [("vera@example.com", "viewer"), ("rex@example.com", "reviewer")] {
        let browser = person(&app, email, role).await;
        let csrf = browser.csrf().await;
        for path in ["/settings/webhooks".to_owned(), format!("/settings/webhooks/{id}"), "/settings".to_owned()] {
            let page = browser.get(&path).await;
            assert!(page.assert_html(403).contains("needs the admin role"), "{role} {path}");
        }
        let tried = add(&browser, &csrf, &[("url", "http://127.0.0.1:9/theirs"), ("events", "vote.created")]).await;
        tried.assert_html(403);
        browser.post(&format!("/settings/webhooks/{id}/test"), &[("csrf", &csrf)]).await.assert_html(403);
        let off = [("csrf", csrf.as_str()), ("active", "false")];
        browser.post(&format!("/settings/webhooks/{id}/active"), &off).await.assert_html(403);
        let delete = [("csrf", csrf.as_str()), ("confirm", "yes")];
        browser.post(&format!("/settings/webhooks/{id}/delete"), &delete).await.assert_html(403);
        let overview = browser.get("/").await;
        assert!(!overview.assert_html(200).contains("href=\"/settings\""), "{role} is not offered Settings");
    }
    let hooks = webhooks(&app).await;
    assert_eq!((hooks.len(), hooks[0]["active"].as_bool()), (1, Some(true)));
    assert!(deliveries_until(&app, &id, "", |_| true).await.is_empty(), "no test was sent");
}

async fn a_failed_delivery_is_shown_and_retried(backend: Backend) {
    // A receiver that refuses connections; the first failure gives up at
    // once and deactivates the webhook.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let settings =
        Settings { webhooks_poll_ms: 50, webhooks_retry_hours: 0.0, webhooks_deactivate_hours: 0.0, ..held() };
    let app = spawn_app_with(backend, settings).await;
    let browser = Browser::admin(&app).await;
    let csrf = browser.csrf().await;
    let url = format!("http://127.0.0.1:{port}/hook");
    add(&browser, &csrf, &[("url", &url), ("events", "feedback.created")]).await.assert_html(201);
    let id = webhooks(&app).await[0]["id"].as_str().unwrap().to_owned();
    let test = browser.post(&format!("/settings/webhooks/{id}/test"), &[("csrf", &csrf)]).await;
    assert_eq!(test.status, 303);
    let failed = deliveries_until(&app, &id, "", |d| d.len() == 1 && d[0]["status"] == "failed").await;
    let event = failed[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(failed[0]["attempts"], 1);

    // The page shows the failure, the webhook deactivated and when, and a retry.
    let page = browser.get(&format!("/settings/webhooks/{id}")).await;
    let html = page.assert_html(200);
    assert!(html.contains(&format!("data-delivery-id=\"{event}\" data-event-type=\"ping\" data-status=\"failed\"")));
    assert!(!cell(html, "delivery-error").is_empty(), "the error is shown");
    assert!(html.contains("data-testid=\"delivery-retry\""));
    assert_eq!(cell(html, "webhook-state"), "deactivated");
    assert!(html.contains("data-testid=\"deactivated-note\"") && html.contains("data-testid=\"webhook-turn-on\""));
    assert_eq!(cell(html, "webhook-failed"), "1");
    assert!(html.contains("data-testid=\"webhook-last-failure\"><time datetime="), "{html}");
    let list = browser.get("/settings").await;
    let html = list.assert_html(200);
    assert_eq!(cell(html, "webhook-state"), "deactivated");
    assert!(html.contains("data-state=\"deactivated\"") && html.contains("<time datetime="), "{html}");

    // Retried while off, it waits; turned on, it is sent again.
    let retry = format!("/settings/webhooks/{id}/deliveries/{event}/retry");
    let retried = browser.post(&retry, &[("csrf", &csrf)]).await;
    assert_eq!((retried.status, retried.location()), (303, format!("/settings/webhooks/{id}?notice=retried").as_str()));
    let page = browser.get(retried.location()).await;
    assert!(page.assert_html(200).contains("data-status=\"pending\""), "{}", page.body);
    assert!(page.body.contains("The delivery is queued again"));
    let on = browser.post(&format!("/settings/webhooks/{id}/active"), &[("csrf", &csrf), ("active", "true")]).await;
    assert_eq!(on.status, 303);
    let again = deliveries_until(&app, &id, "", |d| d[0]["attempts"] == 2 && d[0]["status"] == "failed").await;
    assert!(again[0]["last_error"].is_string(), "{again:?}");
}
