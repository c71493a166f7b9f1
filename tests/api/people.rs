//! People, through a real server: invitations, sign-in by password and its
//! throttle, roles on every page and action, sessions that end when the user
//! changes (on another instance too), who decided, and the audit log.

use std::{sync::Arc, time::Duration};

use plaudit::{
    domain::{
        Timestamp,
        access::{Role, hash_secret},
        audit::Actor,
        people::NewUser,
    },
    store::Store,
};
use serde_json::{Value, json};

use crate::{
    both_backends,
    helpers::{Backend, TestApp, TestDatabase, open_store, serve, spawn_app, test_settings},
    web::{Browser, Page},
};

both_backends!(
    an_invitation_sets_a_password_once,
    expired_and_unknown_invitations_do_not_work,
    the_dashboard_invites_and_changes_users,
    every_page_and_action_checks_the_role,
    sign_ins_are_throttled_by_email_and_by_address,
    sessions_end_at_once_on_every_instance,
    reviews_and_golden_examples_name_the_person,
    the_audit_log_keeps_every_change,
);

const PASSWORD: &str = "correct horse battery";

/// Invites `email` as `role` straight in the store (as `plaudit users
/// invite` does) and returns the invitation's token.
async fn invite(store: &Arc<dyn Store>, email: &str, role: &str) -> String {
    let token = format!("pli_test{}", plaudit::domain::ids::Uuid::new().as_str().replace('-', ""));
    let user = NewUser::parse("default".into(), email, None, role).expect("a valid invitation");
    let now = Timestamp::now();
    let expires = Timestamp(now.0 + 3_600_000);
    store.invite_user(user, hash_secret(&token), expires, &Actor::cli(), now).await.expect("invite");
    token
}

/// A browser from `local` (a loopback address), with no session.
fn browser_from(app: &TestApp, local: &str) -> Browser {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .local_address(local.parse::<std::net::IpAddr>().expect("an address"))
        .build()
        .expect("client");
    Browser { address: app.address.clone(), client, cookie: None }
}

fn keep_cookie(browser: &mut Browser, page: &Page) {
    if let Some(set) = page.headers.get("set-cookie").and_then(|v| v.to_str().ok()) {
        browser.cookie = set.split(';').next().map(str::to_owned);
    }
}

async fn sign_in(browser: &mut Browser, email: &str, password: &str) -> Page {
    let page = browser.post("/login", &[("email", email), ("password", password)]).await;
    keep_cookie(browser, &page);
    page
}

/// A person of `role` who accepted their invitation and is signed in.
pub(crate) async fn person(app: &TestApp, email: &str, role: &str) -> Browser {
    let token = invite(&app.store, email, role).await;
    let mut browser = Browser::new(app);
    let path = format!("/invite/{token}");
    let page = browser.post(&path, &[("password", PASSWORD), ("confirm", PASSWORD)]).await;
    assert_eq!((page.status, page.location()), (303, "/"), "{}", page.body);
    keep_cookie(&mut browser, &page);
    browser
}

async fn an_invitation_sets_a_password_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = invite(&app.store, "Ana@Example.com", "reviewer").await;
    let mut browser = Browser::new(&app);
    let path = format!("/invite/{token}");
    assert!(browser.get(&path).await.assert_html(200).contains("ana@example.com"));
    let short = browser.post(&path, &[("password", "too short"), ("confirm", "too short")]).await;
    assert!(short.assert_html(400).contains("at least 12 characters"));
    let differ = browser.post(&path, &[("password", PASSWORD), ("confirm", "another long password")]).await;
    assert!(differ.assert_html(400).contains("differ"));
    let accepted = browser.post(&path, &[("password", PASSWORD), ("confirm", PASSWORD)]).await;
    assert_eq!((accepted.status, accepted.location()), (303, "/"));
    keep_cookie(&mut browser, &accepted);
    let overview = browser.get("/").await;
    assert!(overview.assert_html(200).contains("ana (reviewer)"), "the header names the person");
    // The link works once.
    assert!(browser.get(&path).await.assert_html(410).contains("already used"));
    let again = Browser::new(&app).post(&path, &[("password", PASSWORD), ("confirm", PASSWORD)]).await;
    again.assert_html(410);
    // The password signs in (the email in any case); a wrong one does not.
    let mut other = Browser::new(&app);
    let wrong = sign_in(&mut other, "ana@example.com", "not the password").await;
    assert!(wrong.assert_html(401).contains("Wrong email or password"));
    let right = sign_in(&mut other, "ANA@example.com", PASSWORD).await;
    assert_eq!((right.status, right.location()), (303, "/"));
    other.get("/review").await.assert_html(200);
    // The stored password is an Argon2id hash, never the password.
    let (user, hash) = app.store.user_by_email("ana@example.com").await.unwrap().expect("the user");
    assert!(hash.as_deref().is_some_and(|h| h.starts_with("$argon2id$") && !h.contains(PASSWORD)));
    assert_eq!(user.role, Role::Reviewer);
}

async fn expired_and_unknown_invitations_do_not_work(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = "pli_expired_token_for_the_test";
    let user = NewUser::parse("default".into(), "late@example.com", None, "viewer").unwrap();
    let long_ago = Timestamp(Timestamp::now().0 - 8 * 86_400_000);
    let expired_at = Timestamp(long_ago.0 + 7 * 86_400_000);
    app.store.invite_user(user, hash_secret(token), expired_at, &Actor::cli(), long_ago).await.unwrap();
    let browser = Browser::new(&app);
    assert!(browser.get(&format!("/invite/{token}")).await.assert_html(410).contains("expired"));
    let tried = browser.post(&format!("/invite/{token}"), &[("password", PASSWORD), ("confirm", PASSWORD)]).await;
    assert!(tried.assert_html(410).contains("expired"));
    assert!(browser.get("/invite/pli_nobody").await.assert_html(410).contains("not valid"));
    // Inviting the person again gives a new link that works; the old one stays dead.
    let fresh = invite(&app.store, "late@example.com", "viewer").await;
    let ok = browser.post(&format!("/invite/{fresh}"), &[("password", PASSWORD), ("confirm", PASSWORD)]).await;
    assert_eq!(ok.status, 303, "{}", ok.body);
    // Someone who already joined cannot be invited over.
    let user = NewUser::parse("default".into(), "late@example.com", None, "admin").unwrap();
    let cli = Actor::cli();
    let taken = app.store.invite_user(user, hash_secret("pli_x"), Timestamp(i64::MAX), &cli, Timestamp::now()).await;
    assert!(taken.is_err());
}

async fn the_dashboard_invites_and_changes_users(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = Browser::admin(&app).await;
    let csrf = admin.csrf().await;
    let bad = admin.post("/users", &[("csrf", &csrf), ("email", "not-an-email"), ("role", "viewer")]).await;
    assert!(bad.assert_html(400).contains("email address"));
    let no_csrf = admin.post("/users", &[("email", "vi@example.com"), ("role", "viewer")]).await;
    no_csrf.assert_html(403);
    let made = admin.post("/users", &[("csrf", &csrf), ("email", "vi@example.com"), ("role", "viewer")]).await;
    let body = made.assert_html(201);
    let at = body.find("/invite/pli_").expect("the link is shown once");
    let link = body[at..].split('"').next().unwrap();
    assert!(body[..at].contains(&app.address), "the link is built on the public address");
    let mut vi = Browser::new(&app);
    let joined = vi.post(link, &[("password", PASSWORD), ("confirm", PASSWORD)]).await;
    keep_cookie(&mut vi, &joined);
    vi.get("/inbox").await.assert_html(200);
    let dup = admin.post("/users", &[("csrf", &csrf), ("email", "VI@example.com"), ("role", "admin")]).await;
    assert!(dup.assert_html(400).contains("already exists"));

    let (user, _) = app.store.user_by_email("vi@example.com").await.unwrap().unwrap();
    let path = format!("/users/{}", user.id);
    let up = admin.post(&path, &[("csrf", &csrf), ("action", "role"), ("role", "reviewer")]).await;
    assert_eq!(up.status, 303, "{}", up.body);
    vi.get("/").await.assert_sign_in_redirect();
    let mut vi = Browser::new(&app);
    sign_in(&mut vi, "vi@example.com", PASSWORD).await;
    vi.get("/review").await.assert_html(200);
    admin.post(&path, &[("csrf", &csrf), ("action", "disable")]).await;
    vi.get("/review").await.assert_sign_in_redirect();
    assert_eq!(sign_in(&mut Browser::new(&app), "vi@example.com", PASSWORD).await.status, 401);
    admin.post(&path, &[("csrf", &csrf), ("action", "enable")]).await;
    let mut vi = Browser::new(&app);
    assert_eq!(sign_in(&mut vi, "vi@example.com", PASSWORD).await.status, 303);
    let odd = admin.post(&path, &[("csrf", &csrf), ("action", "role"), ("role", "server")]).await;
    odd.assert_html(400);
    let listed = admin.get("/users").await;
    assert!(listed.assert_html(200).contains("vi@example.com"));
    // Every form of the new pages needs the session's CSRF token.
    admin.post(&path, &[("action", "disable")]).await.assert_html(403);
    vi.post("/logout/everywhere", &[]).await.assert_html(403);
    // What people type is text on every page, never markup.
    let xss = "<script>alert(1)</script>";
    let named = [("csrf", csrf.as_str()), ("email", "x@example.com"), ("name", xss), ("role", "viewer")];
    admin.post("/users", &named).await.assert_html(201);
    for page in ["/users", "/audit"] {
        let body = admin.get(page).await;
        let body = body.assert_html(200);
        assert!(!body.contains(xss) && body.contains("&lt;script&gt;"), "{page} escapes names");
    }
    let headers = admin.get("/users").await.headers;
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["referrer-policy"], "same-origin");
    // A person cannot demote or disable themselves.
    let mut boss = person(&app, "boss@example.com", "admin").await;
    let (me, _) = app.store.user_by_email("boss@example.com").await.unwrap().unwrap();
    let csrf = boss.csrf().await;
    let own = boss.post(&format!("/users/{}", me.id), &[("csrf", &csrf), ("action", "disable")]).await;
    own.assert_html(403);
    sign_in(&mut boss, "boss@example.com", PASSWORD).await;
}

/// Each dashboard page and action with the least role it needs.
const PAGES: &[(&str, Role)] = &[
    ("/", Role::Viewer),
    ("/inbox", Role::Viewer),
    ("/gaps", Role::Viewer),
    ("/review", Role::Reviewer),
    ("/golden", Role::Reviewer),
    ("/golden/export?format=jsonl", Role::Reviewer),
    ("/settings", Role::Admin),
    ("/users", Role::Admin),
    ("/audit", Role::Admin),
];

const ACTIONS: &[(&str, Role)] = &[
    ("/review/00000000-0000-0000-0000-000000000000", Role::Reviewer),
    ("/gaps/g-nothing/answer", Role::Reviewer),
    ("/golden/00000000-0000-0000-0000-000000000000/delete", Role::Reviewer),
    ("/settings/bots", Role::Admin),
    ("/settings/rating", Role::Admin),
    ("/settings/feedback", Role::Admin),
    ("/settings/copy", Role::Admin),
    ("/settings/keys", Role::Admin),
    ("/settings/keys/00000000-0000-0000-0000-000000000000/revoke", Role::Admin),
    ("/users", Role::Admin),
    ("/users/00000000-0000-0000-0000-000000000000", Role::Admin),
];

async fn every_page_and_action_checks_the_role(backend: Backend) {
    let app = spawn_app(backend).await;
    let people = [
        (Role::Viewer, person(&app, "viewer@example.com", "viewer").await),
        (Role::Reviewer, person(&app, "reviewer@example.com", "reviewer").await),
        (Role::Admin, person(&app, "admin@example.com", "admin").await),
    ];
    for (role, browser) in &people {
        for (path, needed) in PAGES {
            let page = browser.get(path).await;
            if role.grants(*needed) {
                assert_eq!(page.status, 200, "{} GET {path}: {}", role.as_str(), page.body);
            } else {
                assert!(page.assert_html(403).contains("role"), "{} GET {path}", role.as_str());
            }
        }
        let csrf = browser.csrf().await;
        for (path, needed) in ACTIONS {
            let page = browser.post(path, &[("csrf", &csrf)]).await;
            if role.grants(*needed) {
                assert_ne!(page.status, 403, "{} POST {path}: {}", role.as_str(), page.body);
            } else {
                page.assert_html(403);
            }
        }
        // The navigation shows only what the role may open.
        let overview = browser.get("/").await;
        let body = overview.assert_html(200);
        assert_eq!(body.contains("data-testid=\"nav-review\""), role.grants(Role::Reviewer), "{}", role.as_str());
        assert_eq!(body.contains("data-testid=\"nav-settings\""), role.grants(Role::Admin), "{}", role.as_str());
        assert_eq!(body.contains("data-testid=\"nav-audit\""), role.grants(Role::Admin), "{}", role.as_str());
    }
    // The JSON API stays key-only: a session cookie is no key.
    let (_, viewer) = &people[0];
    let cookie = viewer.cookie.clone().unwrap();
    let api = app.client.get(format!("{}/v1/bots", app.address)).header("cookie", cookie).send().await.unwrap();
    assert_eq!(api.status(), 401);
}

async fn sign_ins_are_throttled_by_email_and_by_address(backend: Backend) {
    let app = spawn_app(backend).await;
    person(&app, "ana@example.com", "viewer").await;
    person(&app, "bo@example.com", "viewer").await;
    // Five failures for one email, from one address...
    let mut a = browser_from(&app, "127.0.0.1");
    for _ in 0..5 {
        assert_eq!(sign_in(&mut a, "ana@example.com", "wrong password!").await.status, 401);
    }
    // ... lock that email from anywhere, even with the right password.
    let mut b = browser_from(&app, "127.0.0.2");
    let locked = sign_in(&mut b, "ana@example.com", PASSWORD).await;
    assert!(locked.assert_html(429).contains("Too many failed sign-ins"));
    let retry: i64 = locked.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((800..=900).contains(&retry), "about 15 minutes: {retry}");
    // The address of those failures is locked too, for every email.
    assert_eq!(sign_in(&mut a, "bo@example.com", PASSWORD).await.status, 429);
    // Another person from another address is not.
    assert_eq!(sign_in(&mut b, "bo@example.com", PASSWORD).await.status, 303);
    // Failures on many emails from one address lock the address.
    let mut c = browser_from(&app, "127.0.0.3");
    for i in 0..5 {
        assert_eq!(sign_in(&mut c, &format!("nobody{i}@example.com"), "whatever it is").await.status, 401);
    }
    assert_eq!(sign_in(&mut c, "bo@example.com", PASSWORD).await.status, 429);
    assert_eq!(sign_in(&mut browser_from(&app, "127.0.0.4"), "bo@example.com", PASSWORD).await.status, 303);
}

async fn sessions_end_at_once_on_every_instance(backend: Backend) {
    let first = spawn_app(backend).await;
    // A second instance on the same database.
    let store = open_store(first.database_url()).await;
    let second = serve(TestDatabase::shared(first.database_url()), store, test_settings()).await;
    person(&first, "rev@example.com", "reviewer").await;
    let mut elsewhere = Browser::new(&second);
    assert_eq!(sign_in(&mut elsewhere, "rev@example.com", PASSWORD).await.status, 303);
    let mut laptop = Browser::new(&first);
    assert_eq!(sign_in(&mut laptop, "rev@example.com", PASSWORD).await.status, 303);
    elsewhere.get("/review").await.assert_html(200);

    // An admin on the first instance changes the role: both sessions end.
    let admin = Browser::admin(&first).await;
    let csrf = admin.csrf().await;
    let (user, _) = first.store.user_by_email("rev@example.com").await.unwrap().unwrap();
    admin.post(&format!("/users/{}", user.id), &[("csrf", &csrf), ("action", "role"), ("role", "viewer")]).await;
    laptop.get("/").await.assert_sign_in_redirect();
    let deadline = std::time::Instant::now() + Duration::from_secs(2);
    loop {
        let page = elsewhere.get("/").await;
        if page.status == 303 {
            page.assert_sign_in_redirect();
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the other instance still admits the session");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Signing out everywhere from one device ends the other's session.
    assert_eq!(sign_in(&mut laptop, "rev@example.com", PASSWORD).await.status, 303);
    assert_eq!(sign_in(&mut elsewhere, "rev@example.com", PASSWORD).await.status, 303);
    let csrf = laptop.csrf().await;
    let out = laptop.post("/logout/everywhere", &[("csrf", &csrf)]).await;
    assert_eq!((out.status, out.location()), (303, "/login"));
    elsewhere.get("/").await.assert_sign_in_redirect();
    laptop.get("/").await.assert_sign_in_redirect();

    // Signing out ends only that session; an admin key still signs in.
    assert_eq!(sign_in(&mut laptop, "rev@example.com", PASSWORD).await.status, 303);
    assert_eq!(sign_in(&mut elsewhere, "rev@example.com", PASSWORD).await.status, 303);
    let csrf = laptop.csrf().await;
    laptop.post("/logout", &[("csrf", &csrf)]).await;
    laptop.get("/").await.assert_sign_in_redirect();
    elsewhere.get("/").await.assert_html(200);
    Browser::admin(&second).await.get("/settings").await.assert_html(200);
}

async fn rated_answer(app: &TestApp) -> (String, String) {
    let bot = app.post("/v1/bots", &app.admin, json!({"name": "Support"})).await.assert_status(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.put("/v1/conversations/c1", &app.admin, json!({"bot_id": bot})).await.assert_status(201);
    let path = "/v1/conversations/c1/messages";
    app.post(path, &app.admin, json!({"id": "q1", "role": "user", "content": "Where is my order?"})).await;
    app.post(path, &app.admin, json!({"id": "a1", "role": "assistant", "content": "It ships today."})).await;
    let thumb = json!({"message_id": "a1", "feedback_type": "positive", "user_id": "visitor"});
    let id = app.post("/v1/feedback", &app.admin, thumb).await.assert_status(201)["id"].as_str().unwrap().to_owned();
    (bot, id)
}

async fn reviews_and_golden_examples_name_the_person(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, feedback) = rated_answer(&app).await;
    let reviewer = person(&app, "rita@example.com", "reviewer").await;
    let (rita, _) = app.store.user_by_email("rita@example.com").await.unwrap().unwrap();
    let csrf = reviewer.csrf().await;
    let decided = reviewer.post(&format!("/review/{feedback}"), &[("csrf", &csrf), ("action", "approve")]).await;
    assert_eq!(decided.status, 303, "{}", decided.body);
    let record = app.get(&format!("/v1/feedback/{feedback}"), &app.admin).await;
    let record = record.assert_status(200);
    let record = if record["feedback"].is_object() { &record["feedback"] } else { record };
    assert_eq!(record["reviewed_by"], "rita");
    assert_eq!(record["reviewed_by_id"], format!("user:{}", rita.id));
    let golden = app.get("/v1/golden-examples", &app.admin).await;
    let example = &golden.assert_status(200)["items"][0];
    assert_eq!((example["created_by"].as_str(), example["origin"].as_str()), (Some("rita"), Some("reviewed")));
    assert_eq!(example["created_by_id"], format!("user:{}", rita.id));
    // Through the API, the key decides and is named.
    let body = json!({"action": "dismiss"});
    let by_key = app.post(&format!("/v1/feedback/{feedback}/review"), &app.admin, body).await;
    let by_key = by_key.assert_status(200);
    assert_eq!(by_key["reviewed_by"], "test");
    assert!(by_key["reviewed_by_id"].as_str().unwrap().starts_with("key:"));
}

fn actions(page: &Value) -> Vec<String> {
    page["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap().to_owned()).collect()
}

async fn the_audit_log_keeps_every_change(backend: Backend) {
    let app = spawn_app(backend).await;
    let (bot, feedback) = rated_answer(&app).await;
    // Through the API, with a key.
    let key = app.post("/v1/keys", &app.admin, json!({"role": "server", "name": "backend"})).await;
    let key = key.assert_status(201);
    let secret = key["secret"].as_str().unwrap().to_owned();
    app.delete(&format!("/v1/keys/{}", key["id"].as_str().unwrap()), &app.admin).await.assert_status(200);
    app.patch(&format!("/v1/bots/{bot}/settings"), &app.admin, json!({"auto_approve_negative": true}))
        .await
        .assert_status(200);
    // A change to nothing is no change.
    app.patch(&format!("/v1/bots/{bot}/settings"), &app.admin, json!({"auto_approve_negative": true})).await;
    let review = json!({"action": "approve", "note": "secret note of the reviewer"});
    app.post(&format!("/v1/feedback/{feedback}/review"), &app.admin, review).await.assert_status(200);
    let golden = app.get("/v1/golden-examples", &app.admin).await.assert_status(200)["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.delete(&format!("/v1/golden-examples/{golden}"), &app.admin).await;
    app.patch(
        &format!("/v1/bots/{bot}/rating-config"),
        &app.admin,
        json!({"conv_rating_active": false, "conv_rating_popup_active": false}),
    )
    .await
    .assert_status(200);
    // A thumbs-down makes a knowledge gap; its answer is a golden example.
    let down = json!({"message_id": "a1", "feedback_type": "negative", "user_id": "someone"});
    app.post("/v1/feedback", &app.admin, down).await.assert_status(201);
    let gaps = app.get(&format!("/v1/recommendations?bot_id={bot}"), &app.admin).await;
    let gap = gaps.assert_status(200)["items"][0]["id"].as_str().unwrap().to_owned();
    let answer = json!({"answer": "Orders ship within a day."});
    app.post(&format!("/v1/recommendations/{gap}/answer"), &app.admin, answer).await.assert_status(201);
    // The data lifecycle: an erasure, a deletion, a purge.
    app.delete("/v1/contacts/someone", &app.admin).await.assert_status(200);
    let old = json!({"bot_id": bot, "created_at": "2024-01-01T00:00:00Z"});
    app.put("/v1/conversations/old-1", &app.admin, old.clone()).await.assert_status(201);
    app.put("/v1/conversations/old-2", &app.admin, old).await.assert_status(201);
    app.delete("/v1/conversations/old-1", &app.admin).await.assert_status(200);
    let scope = plaudit::domain::access::Scope::account(plaudit::domain::account::DEFAULT_ACCOUNT_ID);
    let bot_id = plaudit::domain::ids::Uuid::parse("bot_id", &bot).unwrap();
    let (cut, now) = (
        plaudit::domain::Timestamp::parse_rfc3339("t", "2024-06-01T00:00:00Z").unwrap(),
        plaudit::domain::Timestamp::now(),
    );
    let purged = app.store.purge(&scope, &bot_id, cut, false, &Actor::cli(), now, &|_| {}).await.unwrap();
    assert_eq!(purged.conversations, 1);
    // Webhooks (their deactivation, by the delivery job, is in the webhooks' tests).
    let hook = json!({"url": "https://93.184.215.14/hooks/secret-path", "events": ["ping"]});
    let hook = app.post("/v1/webhooks", &app.admin, hook).await;
    let hook = hook.assert_status(201)["id"].as_str().unwrap().to_owned();
    app.patch(&format!("/v1/webhooks/{hook}"), &app.admin, json!({"only_negative": true})).await.assert_status(200);
    app.post(&format!("/v1/webhooks/{hook}/rotate-secret"), &app.admin, json!({})).await.assert_status(200);
    app.delete(&format!("/v1/webhooks/{hook}"), &app.admin).await.assert_status(200);
    // Through the dashboard, as a person.
    let boss = person(&app, "boss@example.com", "admin").await;
    let csrf = boss.csrf().await;
    boss.post("/users", &[("csrf", &csrf), ("email", "new@example.com"), ("role", "viewer")]).await.assert_html(201);
    let (new, _) = app.store.user_by_email("new@example.com").await.unwrap().unwrap();
    boss.post(&format!("/users/{}", new.id), &[("csrf", &csrf), ("action", "role"), ("role", "reviewer")]).await;
    boss.post(&format!("/users/{}", new.id), &[("csrf", &csrf), ("action", "disable")]).await;
    boss.post(&format!("/users/{}", new.id), &[("csrf", &csrf), ("action", "enable")]).await;
    boss.post(&format!("/users/{}", new.id), &[("csrf", &csrf), ("action", "sign_out")]).await;
    let copy = [("csrf", csrf.as_str()), ("bot_id", bot.as_str()), ("locale", "fr")];
    let mut copy = copy.to_vec();
    for field in ["title", "negative_reason", "negative_placeholder", "negative_button", "after_submission"] {
        copy.push((field, "Bonjour"));
    }
    let saved = boss.post("/settings/copy", &copy).await;
    assert_eq!(saved.status, 303, "{}", saved.body);

    let log = app.get("/v1/audit-log?limit=100", &app.admin).await;
    let log = log.assert_status(200).clone();
    let seen = actions(&log);
    // Every kind of change is there (an account's creation is in its own log, below).
    for action in plaudit::domain::audit::Action::ALL.map(|a| a.as_str()) {
        let here = seen.iter().any(|a| a == action);
        assert!(here || ["account.created", "webhook.deactivated"].contains(&action), "{action} missing from {seen:?}");
    }
    assert_eq!(seen.iter().filter(|a| *a == "settings.updated").count(), 1, "{seen:?}");
    // Newest first, with who and what; never a secret, never an end user's words.
    let text = log.to_string();
    for secret_word in [
        secret.as_str(),
        "secret note",
        "Where is my order",
        "It ships today",
        "visitor",
        PASSWORD,
        "secret-path",
        "whsec_",
    ] {
        assert!(!text.contains(secret_word), "{secret_word} leaked into the log");
    }
    let first = &log["items"][0];
    assert_eq!(first["action"], "prompt_copy.updated");
    let golden_made = log["items"].as_array().unwrap().iter().find(|e| e["action"] == "golden_example.created");
    assert_eq!(golden_made.unwrap()["after"], json!({"origin": "knowledge_gap", "bot_id": bot}));
    assert_eq!(first["actor"]["type"], "user");
    assert_eq!(first["actor"]["name"], "boss");
    assert_eq!(first["target"], json!({"type": "bot", "id": bot}));
    let role = log["items"].as_array().unwrap().iter().find(|e| e["action"] == "user.role_changed").unwrap();
    assert_eq!(
        (role["before"].clone(), role["after"].clone()),
        (json!({"role": "viewer"}), json!({"role": "reviewer"}))
    );
    let settings = log["items"].as_array().unwrap().iter().find(|e| e["action"] == "settings.updated").unwrap();
    assert_eq!(settings["before"]["auto_approve_negative"], false);
    assert_eq!(settings["after"]["auto_approve_negative"], true);
    assert_eq!(settings["actor"]["type"], "key");

    // Filters: by action, by actor, by time; pages by cursor.
    let only = app.get("/v1/audit-log?action=user.invited", &app.admin).await;
    let only = only.assert_status(200).clone();
    assert_eq!(actions(&only), ["user.invited", "user.invited"], "boss, then the new person");
    assert_eq!(only["items"][0]["after"], json!({"email": "new@example.com", "name": "new", "role": "viewer"}));
    assert_eq!(only["items"][1]["actor"], json!({"type": "cli", "id": "cli", "name": "command line"}));
    let by_boss = format!("/v1/audit-log?actor=user:{}", first["actor"]["id"].as_str().unwrap());
    assert!(actions(app.get(&by_boss, &app.admin).await.assert_status(200)).len() >= 4);
    let future = app.get("/v1/audit-log?from=2999-01-01T00:00:00Z", &app.admin).await;
    assert!(actions(future.assert_status(200)).is_empty());
    let page1 = app.get("/v1/audit-log?limit=2", &app.admin).await.assert_status(200).clone();
    let cursor = page1["next_cursor"].as_str().unwrap();
    let page2 = app.get(&format!("/v1/audit-log?limit=2&cursor={cursor}"), &app.admin).await;
    assert_eq!(page2.assert_status(200)["items"][0]["id"], log["items"][2]["id"]);
    app.get("/v1/audit-log?action=nope", &app.admin).await.assert_error(400, "invalid_request");
    app.get("/v1/audit-log?actor=bob", &app.admin).await.assert_error(400, "invalid_request");
    app.get("/v1/audit-log?sort=x", &app.admin).await.assert_error(400, "invalid_request");
    // Admin keys only; another account sees its own log only.
    let server = crate::helpers::create_key(&app.store, "default", Role::Server, None).await;
    app.get("/v1/audit-log", &server).await.assert_error(403, "forbidden");
    let (other_account, other) = app.other_account(true).await;
    let theirs = app.get("/v1/audit-log", &other).await.assert_status(200).clone();
    assert_eq!(actions(&theirs), ["key.created", "account.created"], "another account's log is its own");
    assert_eq!(theirs["items"][1]["target"], json!({"type": "account", "id": other_account}));
    // No route edits or deletes it.
    let gone = app.delete("/v1/audit-log", &app.admin).await;
    assert_eq!(gone.status, 405);
    // The dashboard page shows it to admins.
    assert!(boss.get("/audit").await.assert_html(200).contains("user.role_changed"));
}
