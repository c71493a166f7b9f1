//! The dashboard, through a real server: sign-in, sessions and CSRF, every
//! page, the changes its forms make, and escaping of user text.

use reqwest::{Method, redirect::Policy};
use serde_json::{Value, json};

use crate::{
    both_backends,
    helpers::{Backend, TestApp, spawn_app, spawn_app_with, test_settings},
};

const SCRIPT: &str = "<script>alert(1)</script>";
const IMG: &str = "\"><img src=x onerror=alert(1)>";

/// A browser: no automatic redirects, one session cookie.
pub(crate) struct Browser {
    pub(crate) address: String,
    pub(crate) client: reqwest::Client,
    pub(crate) cookie: Option<String>,
}

/// A page as the browser got it.
#[derive(Debug)]
pub(crate) struct Page {
    pub(crate) status: u16,
    pub(crate) headers: reqwest::header::HeaderMap,
    pub(crate) body: String,
}

impl Page {
    pub(crate) fn location(&self) -> &str {
        self.headers.get("location").and_then(|v| v.to_str().ok()).unwrap_or_default()
    }

    #[track_caller]
    pub(crate) fn assert_html(&self, status: u16) -> &str {
        assert_eq!(self.status, status, "{}", self.body);
        let ct = self.headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default();
        assert!(ct.starts_with("text/html"), "HTML expected, got {ct}");
        assert!(self.body.starts_with("<!DOCTYPE html>"), "{}", self.body);
        &self.body
    }

    #[track_caller]
    pub(crate) fn assert_sign_in_redirect(&self) {
        assert_eq!(self.status, 303, "{}", self.body);
        assert_eq!(self.location(), "/login");
    }

    /// The CSRF token of the first form of the page.
    #[track_caller]
    pub(crate) fn csrf(&self) -> String {
        let at = self.body.find("name=\"csrf\" value=\"").expect("a CSRF field") + 19;
        self.body[at..].split('"').next().expect("a value").to_owned()
    }
}

impl Browser {
    pub(crate) fn new(app: &TestApp) -> Self {
        let client = reqwest::Client::builder().redirect(Policy::none()).build().expect("client");
        Self { address: app.address.clone(), client, cookie: None }
    }

    pub(crate) async fn send(&self, method: Method, path: &str, form: Option<&[(&str, &str)]>) -> Page {
        let mut req = self.client.request(method, format!("{}{path}", self.address));
        if let Some(c) = &self.cookie {
            req = req.header("cookie", c);
        }
        if let Some(f) = form {
            req = req.form(f);
        }
        let resp = req.send().await.expect("the server answers");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        Page { status, headers, body: resp.text().await.expect("a body") }
    }

    pub(crate) async fn get(&self, path: &str) -> Page {
        self.send(Method::GET, path, None).await
    }

    pub(crate) async fn post(&self, path: &str, form: &[(&str, &str)]) -> Page {
        self.send(Method::POST, path, Some(form)).await
    }

    /// Signs in with `key`; returns the answer (the cookie is kept on success).
    pub(crate) async fn sign_in(&mut self, key: &str) -> Page {
        let page = self.post("/login", &[("key", key)]).await;
        if let Some(set) = page.headers.get("set-cookie").and_then(|v| v.to_str().ok()) {
            self.cookie = set.split(';').next().map(str::to_owned);
        }
        page
    }

    /// A browser signed in with the app's admin key.
    pub(crate) async fn admin(app: &TestApp) -> Self {
        let mut b = Self::new(app);
        let page = b.sign_in(&app.admin).await;
        assert_eq!(page.status, 303, "{}", page.body);
        b
    }

    /// The CSRF token, read from a page as a browser would.
    pub(crate) async fn csrf(&self) -> String {
        self.get("/").await.csrf()
    }
}

/// A conversation with a question, an answer, and an activity message; returns the answer's id.
async fn conversation(app: &TestApp, bot: &str, id: &str, contact: &str, question: &str, answer: &str) -> String {
    app.put(&format!("/v1/conversations/{id}"), &app.admin, json!({ "bot_id": bot, "contact_id": contact }))
        .await
        .assert_status(201);
    let path = format!("/v1/conversations/{id}/messages");
    app.post(&path, &app.admin, json!({ "id": format!("{id}-q"), "role": "user", "content": question }))
        .await
        .assert_status(201);
    app.post(&path, &app.admin, json!({ "id": format!("{id}-a"), "role": "assistant", "content": answer }))
        .await
        .assert_status(201);
    format!("{id}-a")
}

async fn feedback(app: &TestApp, message: &str, kind: &str, reason: Option<&str>) -> String {
    let body = json!({ "message_id": message, "feedback_type": kind, "reason": reason, "user_id": "u1" });
    let r = app.post("/v1/feedback", &app.admin, body).await;
    r.assert_status(201)["id"].as_str().expect("feedback id").to_owned()
}

async fn sign_in_needs_an_admin_key(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut browser = Browser::new(&app);
    let login = browser.get("/login").await;
    assert!(login.assert_html(200).contains("id=\"login-form\""));

    let wrong = browser.sign_in("plk_not-a-key").await;
    assert!(wrong.assert_html(401).contains("data-testid=\"login-error\""));
    assert!(wrong.headers.get("set-cookie").is_none());
    let server = app.key("server", None).await;
    let refused = browser.sign_in(&server).await;
    assert!(refused.assert_html(403).contains("needs an admin key"));
    assert!(refused.headers.get("set-cookie").is_none());
    assert!(browser.cookie.is_none());
    browser.sign_in("").await.assert_html(400);

    let ok = browser.sign_in(&app.admin).await;
    assert_eq!(ok.status, 303);
    assert_eq!(ok.location(), "/");
    let cookie = ok.headers.get("set-cookie").unwrap().to_str().unwrap().to_owned();
    assert!(cookie.starts_with("plaudit_session="), "{cookie}");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/"), "{cookie}");
    assert!(!cookie.contains("Secure"), "not served over https: {cookie}");
    assert!(!cookie.contains(&app.admin), "the key itself never goes into the cookie");
    let overview = browser.get("/").await;
    assert!(overview.assert_html(200).contains("id=\"main-nav\""));
    assert!(overview.body.contains("data-testid=\"reasons-card\""), "the overview lists the reasons");
    assert_eq!(overview.headers["cache-control"], "no-store", "account data is not cached");
    assert_eq!(overview.headers["x-frame-options"], "DENY");
    assert!(overview.headers["content-security-policy"].to_str().unwrap().contains("frame-ancestors 'none'"));

    // Another site cannot sign a visitor in (to an account of its choosing).
    let cross = Browser::new(&app)
        .client
        .post(format!("{}/login", app.address))
        .header("origin", "https://elsewhere.example")
        .form(&[("key", app.admin.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(cross.status(), 403);
    assert!(cross.headers().get("set-cookie").is_none());
    let host = app.address.trim_start_matches("http://");
    let same = Browser::new(&app)
        .client
        .post(format!("{}/login", app.address))
        .header("origin", format!("http://{host}"))
        .form(&[("key", app.admin.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(same.status(), 303, "the site's own form signs in");

    // Signing out takes the form; the page only offers it.
    let offer = browser.get("/logout").await;
    assert!(offer.assert_html(200).contains("action=\"/logout\""));
    browser.get("/").await.assert_html(200);

    // Over https, the cookie is Secure.
    let settings = plaudit::config::Settings { secure_cookies: true, ..test_settings() };
    let https = spawn_app_with(Backend::Sqlite, settings).await;
    let page = Browser::new(&https).sign_in(&https.admin).await;
    assert!(page.headers.get("set-cookie").unwrap().to_str().unwrap().contains("; Secure"));
}

async fn pages_need_a_session(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut browser = Browser::new(&app);
    for path in ["/", "/inbox", "/inbox/c1", "/review", "/golden", "/golden/export", "/settings"] {
        browser.get(path).await.assert_sign_in_redirect();
    }
    browser.post("/settings/bots", &[("name", "x")]).await.assert_sign_in_redirect();
    browser.get("/logout").await.assert_sign_in_redirect();
    // The addresses forms post to lead back to their page when opened.
    for (path, to) in [("/review/x", "/review"), ("/golden/x/delete", "/golden"), ("/settings/rating", "/settings")] {
        let page = browser.get(path).await;
        assert_eq!((page.status, page.location()), (303, to), "{path}");
    }
    // A forged or tampered cookie is no session.
    browser.cookie = Some("plaudit_session=eyJrIjoieCIsImUiOjk5OTk5OTk5OTk5OTl9.AAAA".into());
    browser.get("/").await.assert_sign_in_redirect();
    // Neither is a feedback token, signed with the same secret.
    let bot = app.bot("Support").await;
    conversation(&app, &bot, "c1", "visitor", "Hi", "Hello").await;
    let token = app.post("/v1/conversations/c1/feedback-token", &app.admin, json!({})).await;
    let token = token.assert_status(201)["token"].as_str().unwrap().to_owned();
    browser.cookie = Some(format!("plaudit_session={token}"));
    browser.get("/").await.assert_sign_in_redirect();
    // An address nothing serves: a page for browsers, JSON for the API.
    let html = browser.client.get(format!("{}/no-such-page", app.address)).header("accept", "text/html").send().await;
    let html = html.unwrap();
    assert_eq!(html.status(), 404);
    assert!(html.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let api =
        browser.client.get(format!("{}/v1/no-such-route", app.address)).header("accept", "text/html").send().await;
    let api = api.unwrap();
    assert_eq!(api.status(), 404);
    assert!(api.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
    // The stylesheet is public and cached.
    let css = browser.get("/assets/app.css").await;
    assert_eq!(css.status, 200);
    assert!(css.headers["content-type"].to_str().unwrap().starts_with("text/css"));
    assert!(css.headers["cache-control"].to_str().unwrap().contains("max-age"));
}

async fn a_revoked_key_ends_its_session(backend: Backend) {
    let app = spawn_app(backend).await;
    let created = app.post("/v1/keys", &app.admin, json!({ "role": "admin", "name": "second" })).await;
    let created = created.assert_status(201);
    let (id, secret) = (created["id"].as_str().unwrap(), created["secret"].as_str().unwrap());
    let mut browser = Browser::new(&app);
    assert_eq!(browser.sign_in(secret).await.status, 303);
    browser.get("/inbox").await.assert_html(200);
    app.delete(&format!("/v1/keys/{id}"), &app.admin).await.assert_status(200);
    browser.get("/inbox").await.assert_sign_in_redirect();
    browser.get("/").await.assert_sign_in_redirect();
}

async fn forms_need_the_sessions_csrf_token(backend: Backend) {
    let app = spawn_app(backend).await;
    let browser = Browser::admin(&app).await;
    let other = Browser::admin(&app).await;
    let foreign = other.csrf().await;
    for form in [vec![("name", "Bot")], vec![("name", "Bot"), ("csrf", "wrong")], vec![("name", "Bot"), ("csrf", "")]] {
        let page = browser.post("/settings/bots", &form).await;
        assert!(page.assert_html(403).contains("security token"), "{form:?}");
    }
    browser.post("/settings/bots", &[("name", "Bot"), ("csrf", &foreign)]).await.assert_html(403);
    let bots = app.get("/v1/bots", &app.admin).await;
    assert_eq!(bots.assert_status(200)["items"].as_array().unwrap().len(), 0, "nothing was created");
    browser.post("/logout", &[]).await.assert_html(403);

    let csrf = browser.csrf().await;
    let created = browser.post("/settings/bots", &[("name", "Bot"), ("csrf", &csrf)]).await;
    assert_eq!(created.status, 303, "{}", created.body);
    assert!(created.location().starts_with("/settings?bot_id="));
    let bots = app.get("/v1/bots", &app.admin).await;
    assert_eq!(bots.assert_status(200)["items"][0]["name"], "Bot");

    let out = browser.post("/logout", &[("csrf", &csrf)]).await;
    assert_eq!((out.status, out.location()), (303, "/login"));
    assert!(out.headers["set-cookie"].to_str().unwrap().contains("Max-Age=0"));
}

async fn the_overview_draws_the_figures(backend: Backend) {
    let app = spawn_app(backend).await;
    let bot = app.bot("Support").await;
    let a1 = conversation(&app, &bot, "c1", "v1", "Where is my order?", "It ships tomorrow.").await;
    let a2 = conversation(&app, &bot, "c2", "v2", "Refund?", "No.").await;
    feedback(&app, &a1, "positive", None).await;
    feedback(&app, &a2, "negative", Some("Rude")).await;
    app.post("/v1/conversations/c1/upvote", &app.admin, json!({})).await.assert_status(200);
    let api = app.get(&format!("/v1/analytics/overview?bot_id={bot}"), &app.admin).await;
    let api = api.assert_status(200);

    let browser = Browser::admin(&app).await;
    let page = browser.get(&format!("/?bot_id={bot}")).await;
    let html = page.assert_html(200);
    assert!(html.contains("id=\"overview-filters\""));
    assert!(html.contains("<svg") && html.contains("id=\"chart-csat\"") && html.contains("id=\"chart-satisfaction\""));
    assert!(html.contains("<title>"), "points carry tooltips");
    let today = jiff::Timestamp::now().strftime("%Y-%m-%d").to_string();
    assert!(html.contains(&format!("{today}: 50.0% satisfied (1 of 2 thumbs up)")), "the same figures as the API");
    assert_eq!(api["satisfaction"]["daily"].as_array().unwrap().last().unwrap()["rate"], json!(50.0));
    let at = html.find("id=\"card-thumbs-down\"").expect("the thumbs-down card");
    let down_card = &html[html[..at].rfind("<a").unwrap()..at + html[at..].find('>').unwrap()];
    assert!(down_card.contains("thumbs=down") && !down_card.contains("feedback="), "{down_card}");
    assert!(down_card.contains(&format!("bot_id={bot}")), "{down_card}");
    assert!(html.contains(&format!("/inbox?bot_id={bot}&amp;from={today}&amp;to={today}")), "a day opens the inbox");

    // The language picker narrows every figure, and the cards keep it.
    app.put("/v1/conversations/c2", &app.admin, json!({"locale": "fr-CA"})).await.assert_status(200);
    let french = browser.get(&format!("/?bot_id={bot}&locale=fr")).await;
    let html = french.assert_html(200);
    assert!(html.contains("data-testid=\"locale-filter\"") && html.contains("value=\"fr\""), "the picker shows it");
    assert!(html.contains(&format!("{today}: 0.0% satisfied (0 of 1 thumbs up)")), "only the French thumb");
    assert!(html.contains(&format!("/inbox?thumbs=down&amp;bot_id={bot}&amp;locale=fr&amp;")), "the cards keep it");
    // Satisfaction by language: each language a row that opens it.
    let all = browser.get(&format!("/?bot_id={bot}")).await;
    let html = all.assert_html(200);
    let at = html.find("id=\"languages-table\"").expect("the languages table");
    let table = &html[at..at + html[at..].find("</table>").unwrap()];
    assert_eq!(table.matches("data-testid=\"language-row\"").count(), 2, "{table}");
    assert!(table.contains(&format!("/?bot_id={bot}&amp;locale=fr-ca&amp;")) && table.contains("not given"), "{table}");

    for bad in [
        "/?from=yesterday",
        "/?bot_id=not-a-uuid",
        "/?from=2024-02-01&to=2024-01-01",
        "/?from=2000-01-01",
        "/?locale=fr_CA",
    ] {
        let page = browser.get(bad).await;
        assert!(page.assert_html(400).contains("data-testid=\"error-page\""), "{bad}");
    }
}

async fn the_inbox_filters_and_shows_transcripts(backend: Backend) {
    let app = spawn_app(backend).await;
    let bot = app.bot("Support").await;
    let a1 = conversation(&app, &bot, "c1", "v1", "Where is my order?", "It ships tomorrow.").await;
    conversation(&app, &bot, "c2", "v2", "Can I get a refund?", "No.").await;
    conversation(&app, &bot, "c3", "v3", "Hello", "Hi there").await;
    app.post("/v1/conversations/c1/upvote", &app.admin, json!({})).await.assert_status(200);
    app.post("/v1/conversations/c2/downvote", &app.admin, json!({"reason": "Not helpful at all"}))
        .await
        .assert_status(200);
    feedback(&app, &a1, "positive", None).await;
    feedback(&app, "c2-a", "negative", Some("Too short")).await;

    let browser = Browser::admin(&app).await;
    let rows = |html: &str| -> Vec<String> {
        html.split("data-testid=\"inbox-row\" data-conversation-id=\"")
            .skip(1)
            .map(|s| s.split('"').next().unwrap().to_owned())
            .collect()
    };
    let all = browser.get("/inbox").await;
    assert!(all.assert_html(200).contains("id=\"inbox-filters\""));
    assert_eq!(rows(&all.body), ["c3", "c2", "c1"], "newest first");
    for (filter, expected) in [("upvote", "c1"), ("downvote", "c2"), ("unknown", "c3")] {
        let page = browser.get(&format!("/inbox?feedback={filter}&bot_id={bot}")).await;
        assert_eq!(rows(page.assert_html(200)), [expected], "{filter}");
    }
    assert_eq!(rows(&browser.get("/inbox?q=refund").await.body), ["c2"]);
    let today = jiff::Timestamp::now().strftime("%Y-%m-%d").to_string();
    assert_eq!(rows(&browser.get(&format!("/inbox?from={today}&to={today}")).await.body).len(), 3);
    assert!(rows(&browser.get("/inbox?from=2001-01-01&to=2001-01-02").await.body).is_empty());
    for bad in ["/inbox?feedback=maybe", "/inbox?from=soon", "/inbox?bot_id=x", "/inbox?cursor=%%%"] {
        browser.get(bad).await.assert_html(400);
    }
    let first = browser.get("/inbox?feedback=").await;
    assert_eq!(rows(&first.body).len(), 3, "an empty filter is no filter");

    let t = browser.get("/inbox/c2").await;
    let html = t.assert_html(200);
    assert!(html.contains("data-testid=\"transcript\""));
    assert!(html.contains("data-testid=\"badge-down\""), "a badge under the rated answer");
    assert!(html.contains("data-role=\"activity\""), "the vote's activity message is shown as such");
    assert!(html.contains("data-satisfaction=\"negative\""));
    assert!(html.contains("tabindex=\"0\" data-testid=\"negative-reason\""), "the reason is reachable by keyboard");
    assert!(html.contains("Not helpful at all"));
    let c1 = browser.get("/inbox/c1").await;
    assert!(c1.assert_html(200).contains("data-testid=\"badge-up\""));
    assert!(c1.body.contains("data-satisfaction=\"positive\""));
    let c3 = browser.get("/inbox/c3").await;
    assert!(c3.assert_html(200).contains("data-satisfaction=\"unknown\""));
    assert!(!c3.body.contains("data-testid=\"feedback-badges\""));

    browser.get("/inbox/nope").await.assert_html(404);
    let (_, other_admin) = app.other_account(true).await;
    let mut stranger = Browser::new(&app);
    stranger.sign_in(&other_admin).await;
    stranger.get("/inbox/c1").await.assert_html(404);
    assert!(rows(&stranger.get("/inbox").await.body).is_empty(), "another account sees none of it");
}

async fn the_inbox_pages_with_a_cursor(backend: Backend) {
    let app = spawn_app(backend).await;
    let bot = app.bot("Support").await;
    for i in 0..51 {
        app.put(&format!("/v1/conversations/p{i:02}"), &app.admin, json!({ "bot_id": bot })).await.assert_status(201);
    }
    let browser = Browser::admin(&app).await;
    let first = browser.get(&format!("/inbox?bot_id={bot}")).await;
    let html = first.assert_html(200);
    let next = html.split("data-testid=\"inbox-next\"").next().unwrap().rsplit("href=\"").next().unwrap();
    let next = next.split('"').next().unwrap().replace("&amp;", "&");
    assert!(next.contains("cursor=") && next.contains("bot_id="), "{next}");
    let second = browser.get(&next).await;
    assert_eq!(second.assert_html(200).matches("data-testid=\"inbox-row\"").count(), 1);
    assert!(!second.body.contains("inbox-next"));
}

async fn reviews_change_the_record(backend: Backend) {
    let app = spawn_app(backend).await;
    let bot = app.bot("Support").await;
    let a1 = conversation(&app, &bot, "c1", "v1", "Where is my order?", "It ships tomorrow.").await;
    let a2 = conversation(&app, &bot, "c2", "v2", "Refund?", "No.").await;
    let a3 = conversation(&app, &bot, "c3", "v3", "Hours?", "9 to 5.").await;
    let up = feedback(&app, &a1, "positive", None).await;
    let down = feedback(&app, &a2, "negative", Some("Unhelpful")).await;
    let dismissed = feedback(&app, &a3, "negative", None).await;
    let hook = owed_to_a_webhook(&app, &["feedback.reviewed", "golden_example.created"]).await;

    let browser = Browser::admin(&app).await;
    let queue = browser.get("/review").await;
    let html = queue.assert_html(200);
    assert_eq!(html.matches("data-testid=\"review-item\"").count(), 3);
    assert!(html.contains("Refund?") && html.contains("Unhelpful") && html.contains("data-testid=\"review-approve\""));
    let csrf = queue.csrf();
    // The language filter: these conversations have none, so no language matches them.
    let none = browser.get("/review?locale=fr").await;
    assert!(none.assert_html(200).contains("data-testid=\"review-empty\"") && none.body.contains("value=\"fr\""));

    let approved = browser.post(&format!("/review/{up}"), &[("csrf", &csrf), ("action", "approve")]).await;
    assert_eq!((approved.status, approved.location()), (303, "/review?notice=approved"));
    assert_eq!(app.get(&format!("/v1/feedback/{up}"), &app.admin).await.body["status"], "reviewed");

    // The API's rule: negative feedback needs a corrected answer to be approved.
    let refused = browser.post(&format!("/review/{down}"), &[("csrf", &csrf), ("action", "approve")]).await;
    assert!(refused.assert_html(400).contains("corrected_response"));
    assert_eq!(app.get(&format!("/v1/feedback/{down}"), &app.admin).await.body["status"], "pending");
    let form = [("csrf", csrf.as_str()), ("action", "approve"), ("corrected_response", "A refund takes 5 days.")];
    assert_eq!(browser.post(&format!("/review/{down}?feedback_type=negative"), &form).await.status, 303);
    let record = app.get(&format!("/v1/feedback/{down}"), &app.admin).await;
    assert_eq!(record.body["status"], "reviewed");
    assert_eq!(record.body["corrected_response"], "A refund takes 5 days.");

    let form = [("csrf", csrf.as_str()), ("action", "dismiss")];
    assert_eq!(browser.post(&format!("/review/{dismissed}"), &form).await.status, 303);
    assert_eq!(app.get(&format!("/v1/feedback/{dismissed}"), &app.admin).await.body["status"], "dismissed");

    let empty = browser.get("/review?notice=dismissed").await;
    assert!(empty.assert_html(200).contains("data-testid=\"review-empty\""));
    assert!(empty.body.contains("Dismissed: it left the queue."));
    browser.post(&format!("/review/{up}"), &[("csrf", &csrf), ("action", "escalate")]).await.assert_html(400);
    browser.post("/review/not-a-uuid", &[("csrf", &csrf), ("action", "dismiss")]).await.assert_html(404);
    let unknown = format!("/review/{}", uuid::Uuid::new_v4());
    browser.post(&unknown, &[("csrf", &csrf), ("action", "dismiss")]).await.assert_html(404);
    browser.get("/review?feedback_type=meh").await.assert_html(400);
    browser.get("/review?locale=fr_FR").await.assert_html(400);
    let inbox = browser.get("/inbox?locale=fr").await;
    assert!(inbox.assert_html(200).contains("data-testid=\"inbox-empty\""));
    assert_eq!(browser.get("/inbox").await.body.matches("data-testid=\"inbox-row\"").count(), 3);
    // Each decision is an event, and so is each golden example it made.
    let owed = events_owed(&app, &hook).await;
    assert_eq!(
        owed,
        [
            "feedback.reviewed",
            "feedback.reviewed",
            "feedback.reviewed",
            "golden_example.created",
            "golden_example.created"
        ]
    );
}

/// A webhook of these events, to an address no delivery reaches; its id.
async fn owed_to_a_webhook(app: &TestApp, events: &[&str]) -> String {
    let body = json!({"url": "https://93.184.215.14/hook", "events": events});
    app.post("/v1/webhooks", &app.admin, body).await.assert_status(201)["id"].as_str().unwrap().to_owned()
}

/// The types of the events owed to webhook `id`, sorted.
async fn events_owed(app: &TestApp, id: &str) -> Vec<String> {
    let log = app.get(&format!("/v1/webhooks/{id}/deliveries?limit=100"), &app.admin).await;
    let mut types: Vec<String> = log.assert_status(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["event_type"].as_str().unwrap().to_owned())
        .collect();
    types.sort();
    types
}

async fn golden_examples_list_export_and_delete(backend: Backend) {
    let app = spawn_app(backend).await;
    let bot = app.bot("Support").await;
    let a1 = conversation(&app, &bot, "c1", "v1", "Where is my order?", "It ships tomorrow.").await;
    let up = feedback(&app, &a1, "positive", None).await;
    app.post(&format!("/v1/feedback/{up}/review"), &app.admin, json!({"action": "approve"})).await.assert_status(200);

    let browser = Browser::admin(&app).await;
    let page = browser.get("/golden").await;
    let html = page.assert_html(200);
    assert_eq!(html.matches("data-testid=\"golden-row\"").count(), 1);
    assert!(html.contains("It ships tomorrow.") && html.contains("Where is my order?"));
    for format in ["openai", "jsonl", "csv"] {
        assert!(html.contains(&format!("data-testid=\"golden-export-{format}\"")));
        let ours = browser.get(&format!("/golden/export?format={format}")).await;
        assert_eq!(ours.status, 200);
        let theirs = app.client.get(format!("{}/v1/golden-examples/export?format={format}", app.address));
        let theirs = theirs.bearer_auth(&app.admin).send().await.unwrap();
        assert_eq!(ours.headers["content-type"], theirs.headers()["content-type"]);
        assert_eq!(ours.body, theirs.text().await.unwrap(), "{format}: the same output as the API");
    }
    browser.get("/golden/export?format=xml").await.assert_html(400);

    let id = app.get("/v1/golden-examples", &app.admin).await.body["items"][0]["id"].as_str().unwrap().to_owned();
    let hook = owed_to_a_webhook(&app, &["golden_example.deleted"]).await;
    browser.post(&format!("/golden/{id}/delete"), &[]).await.assert_html(403);
    let deleted = browser.post(&format!("/golden/{id}/delete"), &[("csrf", &page.csrf())]).await;
    assert_eq!((deleted.status, deleted.location()), (303, "/golden?notice=deleted"));
    let left = app.get("/v1/golden-examples", &app.admin).await;
    assert_eq!(left.body["items"].as_array().unwrap().len(), 0);
    let again = browser.post(&format!("/golden/{id}/delete"), &[("csrf", &page.csrf())]).await;
    again.assert_html(404);
    assert!(browser.get("/golden?notice=deleted").await.body.contains("data-testid=\"golden-empty\""));
    assert_eq!(events_owed(&app, &hook).await, ["golden_example.deleted"]);
}

async fn settings_follow_the_rules(backend: Backend) {
    let app = spawn_app(backend).await;
    let bot = app.bot("Support").await;
    let browser = Browser::admin(&app).await;
    let page = browser.get(&format!("/settings?bot_id={bot}")).await;
    let html = page.assert_html(200);
    for id in ["rating-form", "feedback-settings-form", "copy-form", "create-key-form", "keys-table"] {
        assert!(html.contains(&format!("id=\"{id}\"")), "{id}");
    }
    let csrf = page.csrf();
    let config = format!("/v1/bots/{bot}/rating-config");
    let before = app.get(&config, &app.admin).await.body;

    // Rating on, prompt off: refused with the rule's message, nothing changed.
    let active_only = [
        ("csrf", csrf.as_str()),
        ("bot_id", bot.as_str()),
        ("conv_rating_active", "on"),
        ("code_helpful_thumbs", "on"),
    ];
    let refused = browser.post("/settings/rating", &active_only).await;
    let html = refused.assert_html(400);
    assert!(html.contains("data-testid=\"form-error\"") && html.contains("must equal conv_rating_active"), "{html}");
    assert_eq!(app.get(&config, &app.admin).await.body, before);
    let both = [
        ("csrf", csrf.as_str()),
        ("bot_id", bot.as_str()),
        ("conv_rating_active", "on"),
        ("conv_rating_popup_active", "on"),
        ("code_satisfaction_stars", "on"),
        ("code_helpful_thumbs", "on"),
    ];
    let saved = browser.post("/settings/rating", &both).await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let after = app.get(&config, &app.admin).await.body;
    assert_eq!(after["conv_rating_active"], true);
    assert_eq!(after["conv_rating_popup_active"], true);
    assert_eq!(after["conv_rating_question_codes"], json!(["HELPFUL_THUMBS", "SATISFACTION_STARS"]));
    let none = [("csrf", csrf.as_str()), ("bot_id", bot.as_str())];
    assert!(browser.post("/settings/rating", &none).await.assert_html(400).contains("at least one question"));

    // Review and vote settings.
    let form = [
        ("csrf", csrf.as_str()),
        ("bot_id", bot.as_str()),
        ("auto_approve_positive", "on"),
        ("require_reason_negative", "on"),
        ("vote_window_seconds", "3600"),
    ];
    assert_eq!(browser.post("/settings/feedback", &form).await.status, 303);
    let s = app.get(&format!("/v1/bots/{bot}/settings"), &app.admin).await.body;
    assert_eq!(
        s,
        json!({"auto_approve_positive": true, "auto_approve_negative": false, "require_reason_positive": false,
               "require_reason_negative": true, "vote_window_seconds": 3600, "retention_days": null})
    );
    let mut keep = form.to_vec();
    keep.push(("retention_days", "90"));
    assert_eq!(browser.post("/settings/feedback", &keep).await.status, 303);
    let s = app.get(&format!("/v1/bots/{bot}/settings"), &app.admin).await.body;
    assert_eq!(s["retention_days"], 90);
    assert!(browser.get(&format!("/settings?bot_id={bot}")).await.body.contains("name=\"retention_days\""));
    for bad in ["abc", "0"] {
        let mut refused = form.to_vec();
        refused.push(("retention_days", bad));
        let page = browser.post("/settings/feedback", &refused).await;
        assert!(page.assert_html(400).contains("retention_days"), "{bad}");
    }
    assert_eq!(browser.post("/settings/feedback", &form).await.status, 303, "an empty field keeps them forever");
    let s = app.get(&format!("/v1/bots/{bot}/settings"), &app.admin).await.body;
    assert_eq!(s["retention_days"], Value::Null);
    for window in ["0", "soon"] {
        let form = [("csrf", csrf.as_str()), ("bot_id", bot.as_str()), ("vote_window_seconds", window)];
        browser.post("/settings/feedback", &form).await.assert_html(400);
    }

    // Prompt copy for a new locale.
    let copy = [
        ("csrf", csrf.as_str()),
        ("bot_id", bot.as_str()),
        ("locale", "fr"),
        ("title", "Comment était cette conversation ?"),
        ("negative_reason", "Qu'est-ce qui n'a pas marché ?"),
        ("negative_placeholder", "Dites-nous"),
        ("negative_button", "Envoyer"),
        ("after_submission", "Merci !"),
    ];
    let saved = browser.post("/settings/copy", &copy).await;
    assert_eq!(
        (saved.status, saved.location()),
        (303, format!("/settings?bot_id={bot}&locale=fr&notice=copy_saved").as_str())
    );
    let fr = app.get(&format!("/v1/bots/{bot}/csat-copy/fr-CA"), &app.admin).await.body;
    assert_eq!(
        (fr["resolved_locale"].as_str(), fr["title"].as_str()),
        (Some("fr"), Some("Comment était cette conversation ?"))
    );
    let shown = browser.get(&format!("/settings?bot_id={bot}&locale=fr")).await;
    assert!(shown.assert_html(200).contains("value=\"Comment était cette conversation ?\""));
    assert!(shown.body.contains(&format!("href=\"/settings?bot_id={bot}&amp;locale=fr\"")), "fr is listed as saved");
    let mut blank = copy;
    blank[3] = ("title", " ");
    assert!(browser.post("/settings/copy", &blank).await.assert_html(400).contains("title"));
    browser.get(&format!("/settings?bot_id={bot}&locale=not a locale")).await.assert_html(400);
    browser.get(&format!("/settings?bot_id={}", uuid::Uuid::new_v4())).await.assert_html(404);

    // A key: created (its secret shown once), used, revoked.
    let form = [("csrf", csrf.as_str()), ("name", "chat backend"), ("role", "server"), ("bot_id", bot.as_str())];
    let created = browser.post(&format!("/settings/keys?bot_id={bot}"), &form).await;
    let html = created.assert_html(201);
    let marker = "data-testid=\"new-key-secret\">";
    let at = html.find(marker).expect("the secret is shown") + marker.len();
    let secret = html[at..].split('<').next().unwrap().to_owned();
    assert!(secret.starts_with("plk_"), "{secret}");
    app.get("/v1/bots", &secret).await.assert_status(200);
    assert!(!browser.get("/settings").await.body.contains(&secret), "shown once only");
    let keys = app.get("/v1/keys", &app.admin).await.body;
    let key = keys["items"].as_array().unwrap().iter().find(|k| k["name"] == "chat backend").unwrap().clone();
    assert_eq!(key["role"], "server");
    assert_eq!(key["bot_id"], Value::Null, "not bound unless asked");
    let id = key["id"].as_str().unwrap();
    let revoked = browser.post(&format!("/settings/keys/{id}/revoke?bot_id={bot}"), &[("csrf", &csrf)]).await;
    assert_eq!(revoked.status, 303);
    app.get("/v1/bots", &secret).await.assert_error(401, "invalid_api_key");
    assert!(browser.get("/settings").await.body.contains("data-testid=\"key-revoked\""));
    let bad = [("csrf", csrf.as_str()), ("role", "root")];
    assert!(browser.post("/settings/keys", &bad).await.assert_html(400).contains("role"));
    let bound = [("csrf", csrf.as_str()), ("role", "public"), ("bind_bot", "on"), ("bot_id", bot.as_str())];
    browser.post("/settings/keys", &bound).await.assert_html(201);
    let keys = app.get("/v1/keys", &app.admin).await.body;
    assert!(keys["items"].as_array().unwrap().iter().any(|k| k["role"] == "public" && k["bot_id"] == bot.as_str()));
}

async fn user_text_is_escaped_everywhere(backend: Backend) {
    let app = spawn_app(backend).await;
    let evil = format!("{SCRIPT}{IMG}");
    let bot = app.bot(&evil).await;
    let answer = conversation(&app, &bot, "x1", &evil, &evil, &evil).await;
    let f = feedback(&app, &answer, "negative", Some(&evil)).await;
    app.post("/v1/conversations/x1/downvote", &app.admin, json!({"reason": evil})).await.assert_status(200);
    app.post(
        "/v1/conversations/x1/csat",
        &app.admin,
        json!({"question_code": "HELPFUL_THUMBS", "value": "down", "negative_reason": evil, "user_id": "v"}),
    )
    .await;
    // A second conversation whose answer becomes a golden example with the evil text.
    let a2 = conversation(&app, &bot, "x2", &evil, &evil, &evil).await;
    let up = feedback(&app, &a2, "positive", Some(&evil)).await;
    app.post(&format!("/v1/feedback/{up}/review"), &app.admin, json!({"action": "approve"})).await.assert_status(200);

    let browser = Browser::admin(&app).await;
    let escaped_script = "&lt;script&gt;alert(1)&lt;/script&gt;";
    let escaped_img = "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;";
    for path in [
        "/".to_owned(),
        "/inbox".to_owned(),
        "/inbox/x1".to_owned(),
        "/review".to_owned(),
        "/golden".to_owned(),
        format!("/settings?bot_id={bot}"),
    ] {
        let page = browser.get(&path).await;
        let html = page.assert_html(200);
        assert!(!html.contains(SCRIPT), "{path} shows a raw script");
        assert!(!html.contains("<img"), "{path} shows a raw img");
        assert!(html.contains(escaped_script), "{path} should show the text, escaped");
        if path != "/" {
            assert!(html.contains(escaped_img), "{path} should show the img text, escaped");
        }
    }
    let review = browser.get("/review").await.body;
    assert!(review.contains(&f), "the evil feedback is in the queue");
    // The filters echo what they were given, escaped.
    let q = format!("/inbox?q={}", url_encode(&evil));
    let page = browser.get(&q).await;
    assert!(!page.assert_html(200).contains(SCRIPT));
    assert!(page.body.contains(escaped_script));
    // An unknown conversation id is not echoed raw.
    assert!(!browser.get("/inbox/%3Cscript%3E").await.assert_html(404).contains("<script>"));
    // The error pages do not echo raw input either.
    let bad = browser.get(&format!("/?from={}", url_encode(&evil))).await;
    assert!(!bad.assert_html(400).contains(SCRIPT));
}

/// The time zone picked in the footer is remembered, and days and times read in it.
async fn the_dashboard_reads_in_the_picked_time_zone(backend: Backend) {
    let app = spawn_app(backend).await;
    let bot = app.bot("Support").await;
    let at = "2024-06-13T23:30:00Z";
    let events = json!({"events": [{"type": "conversation", "id": "tz1", "bot_id": bot, "created_at": at}]});
    app.post("/v1/ingest", &app.admin, events).await.assert_status(200);
    let mut browser = Browser::admin(&app).await;
    let html = browser.get("/").await.assert_html(200).to_owned();
    assert!(html.contains("data-testid=\"zone-form\"") && html.contains("(UTC)"), "UTC until picked");
    assert!(html.contains("<option value=\"UTC\" selected>"));
    let inbox = browser.get("/inbox?from=2024-06-01&to=2024-06-30").await.assert_html(200).to_owned();
    assert!(inbox.contains("2024-06-13 23:30 UTC"), "{inbox}");

    browser.get("/time-zone?tz=Mars/Olympus").await.assert_html(400);
    let picked = browser
        .client
        .get(format!("{}/time-zone?tz=Asia/Tokyo", browser.address))
        .header("cookie", browser.cookie.clone().unwrap())
        .header("referer", format!("{}/inbox?from=2024-06-01", browser.address))
        .send()
        .await
        .unwrap();
    assert_eq!(picked.status(), 303);
    assert_eq!(picked.headers()["location"], "/inbox?from=2024-06-01", "back to the page it was picked on");
    let set = picked.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(set.starts_with("plaudit_tz=Asia/Tokyo;") && set.contains("Max-Age=31536000"), "{set}");
    let anonymous = Browser::new(&app).get("/time-zone?tz=Asia/Tokyo").await;
    anonymous.assert_sign_in_redirect();

    let session = browser.cookie.clone().unwrap();
    browser.cookie = Some(format!("{session}; plaudit_tz=Asia/Tokyo"));
    let html = browser.get("/").await.assert_html(200).to_owned();
    assert!(html.contains("(Asia/Tokyo)") && html.contains("<option value=\"Asia/Tokyo\" selected>"));
    let inbox = browser.get("/inbox?from=2024-06-01&to=2024-06-30").await.assert_html(200).to_owned();
    assert!(inbox.contains("2024-06-14 08:30 Asia/Tokyo"), "{inbox}");
    // A zone nobody offers, set by hand, is offered too; a broken one reads as UTC.
    browser.cookie = Some(format!("{session}; plaudit_tz=Asia/Kathmandu"));
    assert!(browser.get("/").await.assert_html(200).contains("<option value=\"Asia/Kathmandu\" selected>"));
    browser.cookie = Some(format!("{session}; plaudit_tz=Nowhere"));
    assert!(browser.get("/").await.assert_html(200).contains("<option value=\"UTC\" selected>"));
}

both_backends!(
    the_dashboard_reads_in_the_picked_time_zone,
    sign_in_needs_an_admin_key,
    pages_need_a_session,
    a_revoked_key_ends_its_session,
    forms_need_the_sessions_csrf_token,
    the_overview_draws_the_figures,
    the_inbox_filters_and_shows_transcripts,
    the_inbox_pages_with_a_cursor,
    reviews_change_the_record,
    golden_examples_list_export_and_delete,
    settings_follow_the_rules,
    user_text_is_escaped_everywhere,
);

fn url_encode(raw: &str) -> String {
    raw.bytes()
        .map(|b| if b.is_ascii_alphanumeric() { char::from(b).to_string() } else { format!("%{b:02X}") })
        .collect()
}
