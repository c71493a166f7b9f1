//! Knowledge gaps (SPEC §10) over HTTP: thumbed-down questions grouped by
//! meaning once the embedding worker has represented them, answering a
//! group, and the dashboard's page.

use plaudit::domain::Timestamp;
use reqwest::{Method, redirect::Policy};
use serde_json::{Value, json};

use crate::{
    both_backends,
    helpers::{Backend, TestApp, TestDatabase, demo_data, serve_site, spawn_app, test_settings},
};

both_backends!(
    a_group_shows_its_trend_and_reasons,
    paraphrases_group_across_conversations,
    filters_and_scope_narrow_the_groups,
    answering_a_group_makes_a_golden_example,
    the_page_lists_groups_and_takes_answers,
);

/// `plaudit demo` runs on SQLite only: its gaps are checked there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_has_knowledge_gaps_with_paraphrases() {
    let db = TestDatabase::new(&Backend::Sqlite).await;
    let store = db.open_store().await;
    let data = demo_data(&store).await;
    let app = serve_site(db, store, test_settings(), Some(&data)).await;
    represented(&app).await;
    let r = app.get("/v1/recommendations?limit=500", &app.admin).await;
    let groups = items(r.assert_status(200)).clone();
    assert!(groups.iter().filter(|g| g["count"].as_i64().unwrap() >= 2).count() >= 3, "{groups:#?}");
    let phrasings = |g: &Value| {
        let mut seen: Vec<String> =
            g["examples"].as_array().unwrap().iter().map(|e| e["question"].as_str().unwrap().to_owned()).collect();
        seen.sort();
        seen.dedup();
        seen.len()
    };
    assert!(groups.iter().any(|g| phrasings(g) >= 2), "some group holds paraphrases: {groups:#?}");
    let answered: Vec<&Value> = groups.iter().filter(|g| g["answered"] == true).collect();
    // One answer; a group of another language asking it in the same words counts it too.
    assert!(!answered.is_empty(), "the demo answered a gap: {groups:#?}");
    assert!(answered.iter().all(|g| g["question"].as_str().unwrap().to_lowercase().contains("gift card")));
    assert!(answered.iter().all(|g| g["golden_example_id"] == answered[0]["golden_example_id"]));
    let golden = app.get("/v1/golden-examples?limit=500", &app.admin).await;
    assert!(items(golden.assert_status(200)).iter().any(|e| e["origin"] == "knowledge_gap"));
}

/// An instant `minutes` ago, as RFC 3339.
pub fn ago(minutes: i64) -> String {
    Timestamp(Timestamp::now().millis() - minutes * 60_000).to_rfc3339()
}

/// Conversation `id` on `bot` with `question` and an answer `<id>-a`, logged
/// at `at`; returns the answer's id.
pub async fn asked(app: &TestApp, bot: &str, id: &str, question: &str, at: &str) -> String {
    let events = json!({"events": [
        {"type": "conversation", "id": id, "bot_id": bot, "created_at": at},
        {"type": "message", "conversation_id": id, "id": format!("{id}-q"), "role": "user", "content": question,
         "created_at": at},
        {"type": "message", "conversation_id": id, "id": format!("{id}-a"), "role": "assistant",
         "content": "Sorry, I do not know.", "created_at": at},
    ]});
    let r = app.post("/v1/ingest", &app.admin, events).await;
    for result in r.assert_status(200)["results"].as_array().unwrap() {
        assert_eq!(result["ok"], true, "{result}");
    }
    format!("{id}-a")
}

pub async fn thumb(app: &TestApp, message: &str, user: &str, kind: &str, at: &str) {
    let body = json!({"message_id": message, "feedback_type": kind, "user_id": user, "created_at": at});
    let r = app.post("/v1/feedback", &app.admin, body).await;
    assert!(r.status == 200 || r.status == 201, "{}", r.body);
}

/// Waits until the embedding worker has represented every thumbed-down
/// question (no group is pending), and returns that listing of all time.
pub async fn represented(app: &TestApp) -> Value {
    let all_time = "/v1/recommendations?limit=500&from=2020-01-01&to=2029-01-01";
    let mut body = Value::Null;
    for _ in 0..600 {
        let r = app.get(all_time, &app.admin).await;
        body = r.assert_status(200).clone();
        if items(&body).iter().all(|g| g["pending"] == false) {
            return body;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("questions still pending after a minute: {body:#}");
}

pub fn items(v: &Value) -> &Vec<Value> {
    v["items"].as_array().expect("items")
}

/// Three paraphrases of "where is my order" (one of them asked twice), two of
/// "reset my password", one thumbed-up question, one thumbs-down taken back.
async fn seed(app: &TestApp, bot: &str) {
    let questions = [
        ("c1", "Where is my order?", 50),
        ("c2", "where's my order??", 40),
        ("c3", "My order hasn't arrived, where is it", 30),
        ("c4", "How do I reset my password", 25),
        ("c5", "Where is my order?", 20),
        ("c6", "how can I reset my password?", 15),
        ("c7", "Do you ship to Canada?", 10),
        ("c8", "What are your opening hours?", 5),
    ];
    for (id, question, minutes) in questions {
        let answer = asked(app, bot, id, question, &ago(minutes + 1)).await;
        let kind = if id == "c7" { "positive" } else { "negative" };
        thumb(app, &answer, "u1", kind, &ago(minutes)).await;
    }
    // A second user on the same answer: still one thumbed-down answer.
    thumb(app, "c1-a", "u2", "negative", &ago(45)).await;
    app.delete("/v1/messages/c8-a/feedback?user_id=u1", &app.admin).await.assert_status(200);
    represented(app).await;
}

async fn paraphrases_group_across_conversations(backend: Backend) {
    let app = spawn_app(backend).await;
    let bot = app.bot("Support").await;
    seed(&app, &bot).await;
    let server = app.key("server", None).await;

    let r = app.get("/v1/recommendations", &server).await;
    let body = r.assert_status(200).clone();
    let groups = items(&body);
    assert_eq!(groups.len(), 2, "{body:#}");
    assert_eq!(body["next_cursor"], Value::Null);
    let order = &groups[0];
    assert_eq!(order["question"], "Where is my order?", "the most central question");
    assert_eq!(order["pending"], false);
    assert_eq!(order["count"], 4);
    assert_eq!(order["bot_id"], bot.as_str());
    assert_eq!(order["example_message_ids"], json!(["c5-a", "c3-a", "c2-a", "c1-a"]), "newest first");
    assert_eq!(order["examples"][1]["conversation_id"], "c3");
    assert_eq!(order["examples"][1]["question"], "My order hasn't arrived, where is it");
    assert_eq!(order["answered"], false);
    assert_eq!(order["golden_example_id"], Value::Null);
    assert!(crate::helpers::instant(&order["first_seen"]) < crate::helpers::instant(&order["last_seen"]));
    let id = order["id"].as_str().unwrap();
    assert!(id.len() == 16 && id.bytes().all(|b| b.is_ascii_hexdigit()), "{id}");
    let password = &groups[1];
    assert_eq!(password["count"], 2);
    assert!(password["question"].as_str().unwrap().to_lowercase().contains("reset my password"));

    // The same groups, with the same ids, on every call.
    let again = app.get("/v1/recommendations", &app.admin).await;
    let ids = |v: &Value| items(v).iter().map(|g| g["id"].clone()).collect::<Vec<_>>();
    assert_eq!(ids(&body), ids(again.assert_status(200)));

    // Pages of groups, largest first.
    let first = app.get("/v1/recommendations?limit=1", &server).await;
    let first = first.assert_status(200).clone();
    assert_eq!(items(&first).len(), 1);
    assert_eq!(items(&first)[0]["id"], groups[0]["id"]);
    let cursor = first["next_cursor"].as_str().expect("a next page");
    let second = app.get(&format!("/v1/recommendations?limit=1&cursor={cursor}"), &server).await;
    let second = second.assert_status(200);
    assert_eq!(items(second)[0]["id"], groups[1]["id"]);
    assert_eq!(second["next_cursor"], Value::Null);
    app.get("/v1/recommendations?cursor=zz", &server).await.assert_invalid("cursor");
    app.get("/v1/recommendations?limit=0", &server).await.assert_invalid("limit");

    // A paraphrase in another conversation joins its group; the id stays.
    let answer = asked(&app, &bot, "c9", "WHERE IS MY ORDER", &ago(3)).await;
    thumb(&app, &answer, "u1", "negative", &ago(2)).await;
    represented(&app).await;
    let grown = app.get("/v1/recommendations", &server).await;
    let grown = items(grown.assert_status(200));
    assert_eq!(grown[0]["id"], groups[0]["id"]);
    assert_eq!(grown[0]["count"], 5);
    assert_eq!(grown[0]["example_message_ids"][0], "c9-a");

    // Every member, a page at a time, the most recently thumbed down first;
    // a member's own id finds the same group.
    let id = grown[0]["id"].as_str().unwrap();
    let first = app.get(&format!("/v1/recommendations/{id}/members?limit=3"), &server).await;
    let first = first.assert_status(200).clone();
    let listed: Vec<&str> = items(&first).iter().map(|m| m["message_id"].as_str().unwrap()).collect();
    assert_eq!(listed, ["c9-a", "c5-a", "c3-a"], "{first:#}");
    assert_eq!(items(&first)[0]["question"], "WHERE IS MY ORDER");
    assert_eq!(items(&first)[0]["conversation_id"], "c9");
    let cursor = first["next_cursor"].as_str().expect("a next page");
    let rest = app.get(&format!("/v1/recommendations/{id}/members?limit=3&cursor={cursor}"), &server).await;
    let rest = rest.assert_status(200).clone();
    let listed: Vec<&str> = items(&rest).iter().map(|m| m["message_id"].as_str().unwrap()).collect();
    assert_eq!(listed, ["c2-a", "c1-a"]);
    assert_eq!(rest["next_cursor"], Value::Null);
    let own = plaudit::domain::gaps::gap_id(&plaudit::domain::ids::Uuid::from_db(bot.clone()), "c3-a");
    let by_member = app.get(&format!("/v1/recommendations/{own}/members?limit=10"), &server).await;
    assert_eq!(items(by_member.assert_status(200)).len(), 5);
    app.get("/v1/recommendations/0000000000000000/members", &server).await.assert_error(404, "not_found");
    app.get("/v1/recommendations/nope/members", &server).await.assert_error(404, "not_found");
    app.get(&format!("/v1/recommendations/{id}/members?limit=0"), &server).await.assert_invalid("limit");
    let (_, other) = app.other_account(true).await;
    app.get(&format!("/v1/recommendations/{id}/members"), &other).await.assert_error(404, "not_found");
    let public = app.key("public", None).await;
    app.get(&format!("/v1/recommendations/{id}/members"), &public).await.assert_error(403, "forbidden");
}

async fn filters_and_scope_narrow_the_groups(backend: Backend) {
    let app = spawn_app(backend).await;
    let (a, b) = (app.bot("A").await, app.bot("B").await);
    let answer = asked(&app, &a, "a1", "Where is my order?", &ago(10)).await;
    thumb(&app, &answer, "u1", "negative", &ago(9)).await;
    let answer = asked(&app, &b, "b1", "Where is my order?", &ago(10)).await;
    thumb(&app, &answer, "u1", "negative", &ago(9)).await;
    let answer = asked(&app, &b, "b2", "where's my order", &ago(10)).await;
    thumb(&app, &answer, "u1", "negative", &ago(9)).await;
    // Long ago: outside the default 30 days.
    let answer = asked(&app, &a, "old", "Can I pay by invoice?", "2024-03-10T10:00:00Z").await;
    thumb(&app, &answer, "u1", "negative", "2024-03-10T10:05:00Z").await;
    represented(&app).await;

    let all = app.get("/v1/recommendations", &app.admin).await;
    let all = items(all.assert_status(200)).clone();
    assert_eq!(all.len(), 2, "a gap is a gap of one bot: {all:#?}");
    assert_eq!((all[0]["bot_id"].as_str(), all[0]["count"].as_i64()), (Some(b.as_str()), Some(2)));
    assert_ne!(all[0]["id"], all[1]["id"]);

    let of_a = app.get(&format!("/v1/recommendations?bot_id={a}"), &app.admin).await;
    let of_a = items(of_a.assert_status(200)).clone();
    assert_eq!(of_a.len(), 1);
    assert_eq!(of_a[0]["bot_id"], a.as_str());
    assert_eq!(of_a[0]["id"], all[1]["id"], "the filter does not change a group's id");

    let march = app.get("/v1/recommendations?from=2024-03-01&to=2024-04-01", &app.admin).await;
    let march = items(march.assert_status(200)).clone();
    assert_eq!(march.len(), 1);
    assert_eq!(march[0]["question"], "Can I pay by invoice?");
    assert_eq!(march[0]["first_seen"], "2024-03-10T10:05:00Z");
    let none = app.get("/v1/recommendations?from=2024-03-11T00:00:00Z&to=2024-04-01", &app.admin).await;
    assert_eq!(items(none.assert_status(200)).len(), 0);

    // A key bound to bot A sees bot A only; asking for bot B is a 404.
    let bound = app.key("server", Some(&a)).await;
    let seen = app.get("/v1/recommendations", &bound).await;
    let seen = items(seen.assert_status(200)).clone();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0]["bot_id"], a.as_str());
    app.get(&format!("/v1/recommendations?bot_id={b}"), &bound).await.assert_error(404, "not_found");

    // Another account sees nothing of ours.
    let (_, other) = app.other_account(true).await;
    assert_eq!(items(app.get("/v1/recommendations", &other).await.assert_status(200)).len(), 0);
    app.get(&format!("/v1/recommendations?bot_id={a}"), &other).await.assert_error(404, "not_found");

    // Roles and bad input.
    let public = app.key("public", None).await;
    app.get("/v1/recommendations", &public).await.assert_error(403, "forbidden");
    let anonymous = app.send(Method::GET, "/v1/recommendations", None, None).await;
    anonymous.assert_error(401, "invalid_api_key");
    app.get("/v1/recommendations?bot_id=nope", &app.admin).await.assert_invalid("bot_id");
    app.get("/v1/recommendations?from=yesterday", &app.admin).await.assert_invalid("from");
    app.get("/v1/recommendations?from=2024-05-01&to=2024-04-01", &app.admin).await.assert_invalid("from");
    app.get("/v1/recommendations?tz=Mars/Olympus", &app.admin).await.assert_invalid("tz");

    // A language: `fr` takes `fr-CA`; a group is of one language.
    let at = ago(8);
    let events = json!({"events": [
        {"type": "conversation", "id": "fr1", "bot_id": a, "locale": "fr-CA", "created_at": at},
        {"type": "message", "conversation_id": "fr1", "id": "fr1-q", "role": "user", "content": "Où est ma commande ?",
         "created_at": at},
        {"type": "message", "conversation_id": "fr1", "id": "fr1-a", "role": "assistant", "content": "Je ne sais pas.",
         "created_at": at},
    ]});
    app.post("/v1/ingest", &app.admin, events).await.assert_status(200);
    thumb(&app, "fr1-a", "u1", "negative", &ago(7)).await;
    represented(&app).await;
    let fr = app.get("/v1/recommendations?locale=fr", &app.admin).await;
    let fr = items(fr.assert_status(200)).clone();
    assert_eq!(fr.len(), 1, "{fr:#?}");
    assert_eq!((fr[0]["locale"].as_str(), fr[0]["question"].as_str()), (Some("fr-ca"), Some("Où est ma commande ?")));
    let de = app.get("/v1/recommendations?locale=de", &app.admin).await;
    assert_eq!(items(de.assert_status(200)).len(), 0);
    app.get("/v1/recommendations?locale=f%20r", &app.admin).await.assert_invalid("locale");
}

async fn answering_a_group_makes_a_golden_example(backend: Backend) {
    let app = spawn_app(backend).await;
    let bot = app.bot("Support").await;
    seed(&app, &bot).await;
    let list = app.get("/v1/recommendations", &app.admin).await;
    let gap = items(list.assert_status(200))[0].clone();
    let id = gap["id"].as_str().unwrap().to_owned();
    let path = format!("/v1/recommendations/{id}/answer");
    let answer = json!({"answer": "  Track it from the link in your confirmation email.  "});

    let server = app.key("server", None).await;
    app.post(&path, &server, answer.clone()).await.assert_error(403, "forbidden");
    app.post(&path, &app.admin, json!({"answer": "   "})).await.assert_invalid("answer");
    app.post(&path, &app.admin, json!({})).await.assert_invalid("answer");
    app.post(&path, &app.admin, json!({"answer": 5})).await.assert_invalid("answer");
    app.post(&path, &app.admin, json!({"answer": "x", "extra": 1})).await.assert_status(400);
    let unknown = app.post("/v1/recommendations/0000000000000000/answer", &app.admin, answer.clone()).await;
    unknown.assert_error(404, "not_found");
    let malformed = app.post("/v1/recommendations/not-a-gap/answer", &app.admin, answer.clone()).await;
    malformed.assert_error(404, "not_found");
    // Another account, or a key bound to another bot, does not find the group.
    let (_, other) = app.other_account(true).await;
    app.post(&path, &other, answer.clone()).await.assert_error(404, "not_found");
    let elsewhere = app.bot("Elsewhere").await;
    let bound = app.key("admin", Some(&elsewhere)).await;
    app.post(&path, &bound, answer.clone()).await.assert_error(404, "not_found");

    let made = app.post(&path, &app.admin, answer.clone()).await;
    let golden = made.assert_status(201).clone();
    assert_eq!(golden["origin"], "knowledge_gap");
    assert_eq!(golden["recommendation_id"], id.as_str());
    assert_eq!(golden["bot_id"], bot.as_str());
    assert_eq!(golden["feedback_id"], Value::Null);
    assert_eq!(golden["feedback_type"], "negative");
    assert_eq!(golden["messages"], json!([{"role": "user", "content": "Where is my order?"}]));
    assert_eq!(golden["ideal_response"], "Track it from the link in your confirmation email.");
    assert_eq!(golden["message_id"], gap["example_message_ids"][0], "the group's newest answer");

    let examples = app.get("/v1/golden-examples", &app.admin).await;
    let examples = items(examples.assert_status(200)).clone();
    assert_eq!(examples.len(), 1);
    assert_eq!(examples[0]["id"], golden["id"]);
    let export = app.client.get(format!("{}/v1/golden-examples/export?format=openai", app.address));
    let export = export.bearer_auth(&app.admin).send().await.unwrap().text().await.unwrap();
    assert!(export.contains("Track it from the link"), "{export}");

    let listed = app.get("/v1/recommendations", &app.admin).await;
    let listed = items(listed.assert_status(200)).clone();
    assert_eq!(listed[0]["id"], id.as_str());
    assert_eq!(listed[0]["answered"], true);
    assert_eq!(listed[0]["golden_example_id"], golden["id"]);
    assert_eq!(listed[1]["answered"], false, "the other group is still open");

    // One answer a group: a second is a 409 until the first is deleted.
    app.post(&path, &app.admin, json!({"answer": "Another answer."})).await.assert_error(409, "conflict");
    let gid = golden["id"].as_str().unwrap();
    app.delete(&format!("/v1/golden-examples/{gid}"), &app.admin).await.assert_status(204);
    let reopened = app.get("/v1/recommendations", &app.admin).await;
    assert_eq!(items(reopened.assert_status(200))[0]["answered"], false);
    let replaced = app.post(&path, &app.admin, json!({"answer": "Another answer."})).await;
    assert_eq!(replaced.assert_status(201)["ideal_response"], "Another answer.");

    // An id from a listing of another period still finds its group.
    let answer_old = asked(&app, &bot, "old", "Can I pay by invoice?", "2024-03-10T10:00:00Z").await;
    thumb(&app, &answer_old, "u1", "negative", "2024-03-10T10:05:00Z").await;
    represented(&app).await;
    let march = app.get("/v1/recommendations?from=2024-03-01&to=2024-04-01", &app.admin).await;
    let old_id = items(march.assert_status(200))[0]["id"].as_str().unwrap().to_owned();
    let late = app.post(&format!("/v1/recommendations/{old_id}/answer"), &app.admin, json!({"answer": "Yes."})).await;
    assert_eq!(late.assert_status(201)["messages"][0]["content"], "Can I pay by invoice?");
}

/// A browser: no automatic redirects, one session cookie.
struct Browser {
    address: String,
    client: reqwest::Client,
    cookie: Option<String>,
}

/// A page as the browser got it: status, `Location`, body.
struct Page {
    status: u16,
    location: String,
    body: String,
}

impl Page {
    #[track_caller]
    fn html(&self, status: u16) -> &str {
        assert_eq!(self.status, status, "{}", self.body);
        assert!(self.body.starts_with("<!DOCTYPE html>"), "{}", self.body);
        &self.body
    }

    /// The CSRF token of the page's forms.
    fn csrf(&self) -> String {
        let at = self.body.find("name=\"csrf\" value=\"").expect("a CSRF field") + 19;
        self.body[at..].split('"').next().expect("a value").to_owned()
    }
}

impl Browser {
    async fn admin(app: &TestApp) -> Self {
        let client = reqwest::Client::builder().redirect(Policy::none()).build().expect("client");
        let mut b = Self { address: app.address.clone(), client, cookie: None };
        let signed = b.client.post(format!("{}/login", b.address)).form(&[("key", &app.admin)]).send().await.unwrap();
        assert_eq!(signed.status(), 303);
        let set = signed.headers()["set-cookie"].to_str().unwrap();
        b.cookie = set.split(';').next().map(str::to_owned);
        b
    }

    async fn send(&self, method: Method, path: &str, form: Option<&[(&str, &str)]>) -> Page {
        let mut req = self.client.request(method, format!("{}{path}", self.address));
        if let Some(c) = &self.cookie {
            req = req.header("cookie", c);
        }
        if let Some(f) = form {
            req = req.form(f);
        }
        let resp = req.send().await.expect("the server answers");
        let status = resp.status().as_u16();
        let location = resp.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        Page { status, location, body: resp.text().await.expect("a body") }
    }

    async fn get(&self, path: &str) -> Page {
        self.send(Method::GET, path, None).await
    }

    async fn post(&self, path: &str, form: &[(&str, &str)]) -> Page {
        self.send(Method::POST, path, Some(form)).await
    }
}

async fn the_page_lists_groups_and_takes_answers(backend: Backend) {
    let app = spawn_app(backend).await;
    let bot = app.bot("Support").await;
    seed(&app, &bot).await;
    let script = "<script>alert(1)</script> do you sell gift cards";
    let answer = asked(&app, &bot, "x1", script, &ago(1)).await;
    thumb(&app, &answer, "u1", "negative", &ago(1)).await;
    represented(&app).await;

    let anonymous = Browser { cookie: None, ..Browser::admin(&app).await };
    let redirect = anonymous.get("/gaps").await;
    assert_eq!((redirect.status, redirect.location.as_str()), (303, "/login"));

    let browser = Browser::admin(&app).await;
    let page = browser.get("/gaps").await;
    let html = page.html(200);
    assert!(
        html.contains("data-testid=\"nav-gaps\" aria-current=\"page\"")
            || html.contains("aria-current=\"page\" data-testid=\"nav-gaps\"")
    );
    let nav = html.find("data-testid=\"nav-review\"").unwrap();
    assert!(nav < html.find("data-testid=\"nav-gaps\"").unwrap());
    assert!(html.find("data-testid=\"nav-gaps\"").unwrap() < html.find("data-testid=\"nav-golden\"").unwrap());
    assert_eq!(html.matches("data-testid=\"gap-item\"").count(), 3, "{html}");
    let list = app.get("/v1/recommendations", &app.admin).await;
    let groups = items(list.assert_status(200)).clone();
    let id = groups[0]["id"].as_str().unwrap().to_owned();
    assert!(html.contains(&format!("data-gap-id=\"{id}\"")));
    assert!(html.contains("Where is my order?") && html.contains("data-count=\"4\""));
    assert!(html.contains("0 in the previous period"), "each group's trend");
    assert!(html.contains("href=\"/inbox/c5#m-c5-a\""), "links to the conversations");
    assert!(!html.contains("<script>alert(1)"), "user text is escaped");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; do you sell gift cards"));
    assert_eq!(html.matches("data-testid=\"gap-form\"").count(), 3);

    // Filters, as on the other pages.
    let other = app.bot("Other").await;
    let empty = browser.get(&format!("/gaps?bot_id={other}")).await;
    assert!(empty.html(200).contains("data-testid=\"gaps-empty\""));
    let march = browser.get("/gaps?from=2024-03-01&to=2024-03-31").await;
    assert!(march.html(200).contains("data-testid=\"gaps-empty\""));
    assert!(march.body.contains("value=\"2024-03-31\""));
    browser.get("/gaps?from=yesterday").await.html(400);
    browser.get("/gaps?bot_id=nope").await.html(400);

    // The form: a CSRF token is required, an answer too.
    let csrf = page.csrf();
    let action = format!("/gaps/{id}/answer");
    let text = "Track it from the link in your confirmation email.";
    assert!(browser.post(&action, &[("answer", text)]).await.html(403).contains("security token"));
    browser.post(&action, &[("answer", text), ("csrf", "wrong")]).await.html(403);
    assert_eq!(items(app.get("/v1/golden-examples", &app.admin).await.assert_status(200)).len(), 0);
    assert!(browser.post(&action, &[("answer", "  "), ("csrf", &csrf)]).await.html(400).contains("answer"));
    browser.post("/gaps/0000000000000000/answer", &[("answer", text), ("csrf", &csrf)]).await.html(404);
    let opened = browser.get(&action).await;
    assert_eq!((opened.status, opened.location.as_str()), (303, "/gaps"));

    let done = browser.post(&format!("{action}?bot_id={bot}"), &[("answer", text), ("csrf", &csrf)]).await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(done.location, format!("/gaps?bot_id={bot}&notice=answered"));
    let after = browser.get(&done.location).await;
    let html = after.html(200);
    assert!(html.contains("Answered: it is now a golden example."));
    assert_eq!(html.matches("data-testid=\"gap-answered\"").count(), 1);
    assert_eq!(html.matches("data-testid=\"gap-form\"").count(), 2);
    browser.post(&action, &[("answer", text), ("csrf", &csrf)]).await.html(409);

    let golden = browser.get("/golden").await;
    let html = golden.html(200);
    assert!(html.contains(text) && html.contains("data-testid=\"golden-from-gap\""));
    assert!(html.contains("Where is my order?"));
}

async fn a_group_shows_its_trend_and_reasons(backend: Backend) {
    let app = spawn_app(backend).await;
    let bot = app.bot("Support").await;
    let days = |d: i64| ago(d * 24 * 60);
    // (conversation, question, days ago, reason): the default period is the
    // last 30 days, the previous one the 30 before.
    for (id, question, when, reason) in [
        ("p1", "How long does a refund take?", 40, None),
        ("p2", "when will I get my money back", 45, Some("Too vague")),
        ("n1", "How long does a refund take?", 3, Some("Too vague.")),
        ("n2", "It's been a week, when does the refund arrive?", 2, Some("too  vague")),
        ("n3", "when will I get my money back", 1, Some("Wrong")),
    ] {
        let answer = asked(&app, &bot, id, question, &days(when)).await;
        let mut body =
            json!({"message_id": answer, "feedback_type": "negative", "user_id": "u1", "created_at": days(when)});
        if let Some(r) = reason {
            body["reason"] = json!(r);
        }
        let r = app.post("/v1/feedback", &app.admin, body).await;
        assert!(r.status == 200 || r.status == 201, "{}", r.body);
    }
    represented(&app).await;
    let listed = app.get("/v1/recommendations", &app.admin).await;
    let body = listed.assert_status(200).clone();
    let groups = items(&body);
    assert_eq!(groups.len(), 1, "{body:#}");
    assert_eq!((groups[0]["count"].as_i64(), groups[0]["previous_count"].as_i64()), (Some(3), Some(2)));
    let reasons = groups[0]["reasons"].as_array().unwrap();
    assert_eq!(reasons.len(), 2, "{body:#}");
    assert_eq!(reasons[0]["count"], 2, "folded as the analytics fold them");
    assert!(reasons[0]["reason"].as_str().unwrap().to_lowercase().starts_with("too"));
    assert_eq!(reasons[1], json!({"reason": "Wrong", "count": 1}));
    // The previous period listed alone: its own count, and nothing before it.
    let from = &days(60)[..10];
    let to = &days(30)[..10];
    let earlier = app.get(&format!("/v1/recommendations?from={from}&to={to}"), &app.admin).await;
    let earlier = items(earlier.assert_status(200)).clone();
    assert_eq!((earlier[0]["count"].as_i64(), earlier[0]["previous_count"].as_i64()), (Some(2), Some(0)));
    assert_eq!(earlier[0]["id"], groups[0]["id"], "a group lives over all time: the period only counts");
}
