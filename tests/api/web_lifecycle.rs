//! The dashboard's erasure: a contact's conversations in the inbox, "erase
//! this person", and deleting one conversation from its transcript.

use serde_json::json;

use crate::{
    both_backends,
    helpers::{Backend, TestApp, spawn_app},
    web::Browser,
};

both_backends!(an_admin_erases_a_person_from_the_inbox);

async fn conversation(app: &TestApp, bot: &str, id: &str, contact: &str) {
    app.put(&format!("/v1/conversations/{id}"), &app.admin, json!({"bot_id": bot, "contact_id": contact}))
        .await
        .assert_status(201);
    let body = json!({"id": format!("{id}-q"), "role": "user", "content": format!("Question of {contact}")});
    app.post(&format!("/v1/conversations/{id}/messages"), &app.admin, body).await.assert_status(201);
}

async fn an_admin_erases_a_person_from_the_inbox(backend: Backend) {
    let app = spawn_app(backend).await;
    let bot = app.bot("Shop").await;
    conversation(&app, &bot, "c5a", "visitor-5").await;
    conversation(&app, &bot, "c5b", "visitor-5").await;
    conversation(&app, &bot, "c50", "visitor-50").await;
    let browser = Browser::admin(&app).await;

    // Every row links to its contact's conversations, matched exactly.
    let inbox = browser.get("/inbox").await;
    assert!(inbox.assert_html(200).contains("href=\"/inbox?contact_id=visitor-5\""));
    let page = browser.get("/inbox?contact_id=visitor-5").await;
    let html = page.assert_html(200);
    assert_eq!(html.matches("data-testid=\"inbox-row\"").count(), 2, "visitor-50 is someone else");
    assert!(html.contains("data-testid=\"contact-panel\"") && html.contains("data-testid=\"erase-person\""));

    let csrf = page.csrf();
    let unconfirmed = browser.post("/inbox/erase", &[("csrf", &csrf), ("contact_id", "visitor-5")]).await;
    unconfirmed.assert_html(400);
    app.get("/v1/conversations/c5a", &app.admin).await.assert_status(200);
    let form = [("csrf", csrf.as_str()), ("contact_id", "visitor-5"), ("confirm", "yes")];
    browser.post("/inbox/erase", &form[1..]).await.assert_html(403);
    let erased = browser.post("/inbox/erase", &form).await;
    assert_eq!((erased.status, erased.location()), (303, "/inbox?notice=erased"));
    for id in ["c5a", "c5b"] {
        app.get(&format!("/v1/conversations/{id}"), &app.admin).await.assert_error(404, "not_found");
    }
    assert!(browser.get("/inbox?notice=erased").await.assert_html(200).contains("The person was erased"));

    // One conversation, from its transcript.
    let transcript = browser.get("/inbox/c50").await;
    assert!(transcript.assert_html(200).contains("data-testid=\"delete-conversation\""));
    let deleted = browser.post("/inbox/c50/delete", &[("csrf", &transcript.csrf()), ("confirm", "yes")]).await;
    assert_eq!((deleted.status, deleted.location()), (303, "/inbox?notice=deleted"));
    app.get("/v1/conversations/c50", &app.admin).await.assert_error(404, "not_found");
    let again = browser.post("/inbox/c50/delete", &[("csrf", &transcript.csrf()), ("confirm", "yes")]).await;
    again.assert_html(404);
    let audit = app.get("/v1/audit-log", &app.admin).await;
    let actions: Vec<&str> =
        audit.assert_status(200)["items"].as_array().unwrap().iter().filter_map(|e| e["action"].as_str()).collect();
    assert!(actions.contains(&"contact.erased") && actions.contains(&"conversation.deleted"), "{actions:?}");
}
