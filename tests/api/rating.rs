//! Rating configuration, prompt copy, CSAT and satisfaction (SPEC §8), and bot settings.

use serde_json::{Value, json};

use crate::{
    both_backends,
    helpers::{Backend, TestApp, spawn_app},
};

both_backends!(
    bot_settings_have_defaults_and_validate,
    the_rating_configuration_keeps_popup_and_active_together,
    question_codes_are_known_unique_and_present,
    csat_answers_are_scored_and_replaced,
    csat_refuses_unasked_questions_and_bad_values,
    csat_is_refused_while_rating_is_off,
    prompt_copy_falls_back_along_the_locale_chain,
    satisfaction_follows_the_latest_signal,
);

async fn setup(app: &TestApp) -> String {
    let bot = app.bot("Support").await;
    app.put("/v1/conversations/c1", &app.admin, json!({"bot_id": bot, "contact_id": "visitor-7"}))
        .await
        .assert_status(201);
    bot
}

async fn bot_settings_have_defaults_and_validate(backend: Backend) {
    let app = spawn_app(backend).await;
    let bot = setup(&app).await;
    let path = format!("/v1/bots/{bot}/settings");
    let defaults = app.get(&path, &app.admin).await;
    assert_eq!(
        defaults.assert_status(200),
        &json!({"auto_approve_positive": false, "auto_approve_negative": false, "require_reason_positive": false,
                "require_reason_negative": false, "vote_window_seconds": 86400, "retention_days": null})
    );
    for bad in
        [json!({"vote_window_seconds": 0}), json!({"vote_window_seconds": -1}), json!({"vote_window_seconds": 1.5})]
    {
        app.patch(&path, &app.admin, bad).await.assert_invalid("vote_window_seconds");
    }
    for bad in [json!({"retention_days": 0}), json!({"retention_days": 36_501}), json!({"retention_days": "30"})] {
        app.patch(&path, &app.admin, bad).await.assert_invalid("retention_days");
    }
    let kept = app.patch(&path, &app.admin, json!({"retention_days": 30})).await;
    assert_eq!(kept.assert_status(200)["retention_days"], 30);
    let unchanged = app.patch(&path, &app.admin, json!({"vote_window_seconds": 60})).await;
    assert_eq!(unchanged.assert_status(200)["retention_days"], 30, "a patch without it leaves it");
    let forever = app.patch(&path, &app.admin, json!({"retention_days": null, "vote_window_seconds": 86400})).await;
    assert_eq!(forever.assert_status(200)["retention_days"], Value::Null);
    app.patch(&path, &app.admin, json!({"auto_approve_positive": "yes"})).await.assert_invalid("auto_approve_positive");
    app.patch(&path, &app.admin, json!({"colour": 1})).await.assert_invalid("colour");
    let server = app.key("server", None).await;
    app.patch(&path, &server, json!({"auto_approve_positive": true})).await.assert_error(403, "forbidden");
    let r = app.patch(&path, &app.admin, json!({"require_reason_positive": true})).await;
    assert_eq!(r.assert_status(200)["require_reason_positive"], true);
    assert_eq!(app.get(&path, &server).await.body["require_reason_positive"], true);
    app.get(&format!("/v1/bots/{}/settings", uuid::Uuid::new_v4()), &app.admin).await.assert_error(404, "not_found");
}

async fn the_rating_configuration_keeps_popup_and_active_together(backend: Backend) {
    let app = spawn_app(backend).await;
    let bot = setup(&app).await;
    let path = format!("/v1/bots/{bot}/rating-config");
    let defaults = json!({"conv_rating_active": true, "conv_rating_popup_active": true,
                          "conv_rating_question_codes": ["HELPFUL_THUMBS", "EXPERIENCE_THUMBS"]});
    assert_eq!(app.get(&path, &app.admin).await.assert_status(200), &defaults);
    app.patch(&path, &app.admin, json!({"conv_rating_active": false})).await.assert_invalid("conv_rating_popup_active");
    app.patch(&path, &app.admin, json!({"conv_rating_popup_active": false}))
        .await
        .assert_invalid("conv_rating_popup_active");
    let off =
        app.patch(&path, &app.admin, json!({"conv_rating_active": false, "conv_rating_popup_active": false})).await;
    assert_eq!(off.assert_status(200)["conv_rating_active"], false);
    // A public key may read it (the widget needs it), not change it.
    let public = app.key("public", None).await;
    assert_eq!(app.get(&path, &public).await.assert_status(200)["conv_rating_popup_active"], false);
    app.patch(&path, &public, json!({"conv_rating_active": true, "conv_rating_popup_active": true}))
        .await
        .assert_error(403, "forbidden");
}

async fn question_codes_are_known_unique_and_present(backend: Backend) {
    let app = spawn_app(backend).await;
    let bot = setup(&app).await;
    let path = format!("/v1/bots/{bot}/rating-config");
    app.patch(&path, &app.admin, json!({"conv_rating_question_codes": []}))
        .await
        .assert_invalid("conv_rating_question_codes");
    app.patch(&path, &app.admin, json!({"conv_rating_question_codes": ["HELPFUL_THUMBS", "HELPFUL_THUMBS"]}))
        .await
        .assert_invalid("conv_rating_question_codes");
    app.patch(&path, &app.admin, json!({"conv_rating_question_codes": ["NPS"]}))
        .await
        .assert_error(400, "unknown_question_code");
    let r = app
        .patch(&path, &app.admin, json!({"conv_rating_question_codes": ["SATISFACTION_STARS", "HELPFUL_THUMBS"]}))
        .await;
    assert_eq!(r.assert_status(200)["conv_rating_question_codes"], json!(["SATISFACTION_STARS", "HELPFUL_THUMBS"]));
}

async fn csat_answers_are_scored_and_replaced(backend: Backend) {
    let app = spawn_app(backend).await;
    let bot = setup(&app).await;
    app.patch(
        &format!("/v1/bots/{bot}/rating-config"),
        &app.admin,
        json!({"conv_rating_question_codes": ["HELPFUL_THUMBS", "SATISFACTION_STARS"]}),
    )
    .await
    .assert_status(200);
    let path = "/v1/conversations/c1/csat";
    let first =
        app.post(path, &app.admin, json!({"question_code": "HELPFUL_THUMBS", "value": "up", "user_id": "v"})).await;
    let body = first.assert_status(201).clone();
    assert_eq!(body["score"], 5);
    assert_eq!(body["value"], "up");
    let same =
        app.post(path, &app.admin, json!({"question_code": "HELPFUL_THUMBS", "value": "up", "user_id": "v"})).await;
    assert_eq!(same.assert_status(200), &body);
    let changed = app
        .post(
            path,
            &app.admin,
            json!({"question_code": "HELPFUL_THUMBS", "value": "down", "negative_reason": "Too slow", "user_id": "v"}),
        )
        .await;
    let changed = changed.assert_status(200);
    assert_eq!(changed["id"], body["id"], "one current answer per question and respondent");
    assert_eq!(changed["score"], 1);
    let stars =
        app.post(path, &app.admin, json!({"question_code": "SATISFACTION_STARS", "value": 4, "user_id": "v"})).await;
    assert_eq!(stars.assert_status(201)["score"], 4);
    let t = app.get("/v1/conversations/c1", &app.admin).await.body;
    assert_eq!(t["csat"].as_array().unwrap().len(), 2);
    assert_eq!(t["satisfaction"]["value"], "positive", "the latest signal: 4 stars");
}

async fn csat_refuses_unasked_questions_and_bad_values(backend: Backend) {
    let app = spawn_app(backend).await;
    setup(&app).await;
    let path = "/v1/conversations/c1/csat";
    app.post(path, &app.admin, json!({"question_code": "SATISFACTION_STARS", "value": 3}))
        .await
        .assert_error(400, "unknown_question_code");
    app.post(path, &app.admin, json!({"question_code": "NPS", "value": 3}))
        .await
        .assert_error(400, "unknown_question_code");
    app.post(path, &app.admin, json!({"question_code": "HELPFUL_THUMBS", "value": "sideways"}))
        .await
        .assert_error(400, "invalid_value");
    app.post(path, &app.admin, json!({"question_code": "HELPFUL_THUMBS", "value": 5}))
        .await
        .assert_error(400, "invalid_value");
    app.post(path, &app.admin, json!({"value": "up"})).await.assert_invalid("question_code");
    app.post("/v1/conversations/nope/csat", &app.admin, json!({"question_code": "HELPFUL_THUMBS", "value": "up"}))
        .await
        .assert_error(404, "not_found");
}

async fn csat_is_refused_while_rating_is_off(backend: Backend) {
    let app = spawn_app(backend).await;
    let bot = setup(&app).await;
    app.patch(
        &format!("/v1/bots/{bot}/rating-config"),
        &app.admin,
        json!({"conv_rating_active": false, "conv_rating_popup_active": false}),
    )
    .await
    .assert_status(200);
    app.post("/v1/conversations/c1/csat", &app.admin, json!({"question_code": "HELPFUL_THUMBS", "value": "up"}))
        .await
        .assert_error(409, "conversation_rating_disabled");
}

async fn prompt_copy_falls_back_along_the_locale_chain(backend: Backend) {
    let app = spawn_app(backend).await;
    let bot = setup(&app).await;
    let builtin = app.get(&format!("/v1/bots/{bot}/csat-copy/fr-CA"), &app.admin).await;
    let body = builtin.assert_status(200);
    assert_eq!(body["resolved_locale"], "default");
    assert_eq!(body["locale"], "fr-CA");
    assert_eq!(body["title"], "How was this conversation?");
    let fr = json!({"title": "Comment s'est passée cette conversation ?", "negative_reason": "Qu'est-ce qui n'a pas marché ?",
                    "negative_placeholder": "Dites-nous", "negative_button": "Envoyer", "after_submission": "Merci !"});
    app.put(&format!("/v1/bots/{bot}/csat-copy/fr"), &app.admin, fr.clone()).await.assert_status(200);
    let resolved = app.get(&format!("/v1/bots/{bot}/csat-copy/fr-CA"), &app.admin).await.body;
    assert_eq!(resolved["resolved_locale"], "fr");
    assert_eq!(resolved["title"], fr["title"]);
    let mut ca = fr.clone();
    ca["after_submission"] = json!("Merci bien !");
    app.put(&format!("/v1/bots/{bot}/csat-copy/fr-CA"), &app.admin, ca).await.assert_status(200);
    let resolved = app.get(&format!("/v1/bots/{bot}/csat-copy/fr-ca"), &app.admin).await.body;
    assert_eq!(resolved["resolved_locale"], "fr-ca");
    assert_eq!(resolved["after_submission"], "Merci bien !");
    let de = app.get(&format!("/v1/bots/{bot}/csat-copy/de"), &app.key("public", None).await).await;
    assert_eq!(de.assert_status(200)["resolved_locale"], "default");
    let mut blank = fr.clone();
    blank["title"] = json!(" ");
    app.put(&format!("/v1/bots/{bot}/csat-copy/fr"), &app.admin, blank).await.assert_invalid("title");
    app.put(&format!("/v1/bots/{bot}/csat-copy/fr"), &app.admin, json!({"title": "x"}))
        .await
        .assert_invalid("negative_reason");
    app.get(&format!("/v1/bots/{bot}/csat-copy/not_a_locale"), &app.admin).await.assert_invalid("locale");
}

async fn satisfaction_follows_the_latest_signal(backend: Backend) {
    let app = spawn_app(backend).await;
    let bot = setup(&app).await;
    let t = app.get("/v1/conversations/c1", &app.admin).await.body;
    assert_eq!(t["satisfaction"], json!({"value": "unknown", "negative_reason": null}));
    app.post(
        "/v1/conversations/c1/csat",
        &app.admin,
        json!({"question_code": "EXPERIENCE_THUMBS", "value": "down", "negative_reason": "Never got an answer"}),
    )
    .await
    .assert_status(201);
    let t = app.get("/v1/conversations/c1", &app.admin).await.body;
    assert_eq!(t["satisfaction"], json!({"value": "negative", "negative_reason": "Never got an answer"}));
    app.post("/v1/conversations/c1/upvote", &app.admin, json!({"user_id": "other", "value": 50}))
        .await
        .assert_status(200);
    let t = app.get("/v1/conversations/c1", &app.admin).await.body;
    assert_eq!(t["satisfaction"], json!({"value": "positive", "negative_reason": null}));
    // Three stars is neutral.
    app.patch(
        &format!("/v1/bots/{bot}/rating-config"),
        &app.admin,
        json!({"conv_rating_question_codes": ["SATISFACTION_STARS"]}),
    )
    .await
    .assert_status(200);
    app.post("/v1/conversations/c1/csat", &app.admin, json!({"question_code": "SATISFACTION_STARS", "value": 3}))
        .await
        .assert_status(201);
    assert_eq!(app.get("/v1/conversations/c1", &app.admin).await.body["satisfaction"]["value"], "neutral");
    // A downvote's reason is the negative reason.
    app.post("/v1/conversations/c1/downvote", &app.admin, json!({"user_id": "third", "reason": "Rude"}))
        .await
        .assert_status(200);
    assert_eq!(
        app.get("/v1/conversations/c1", &app.admin).await.body["satisfaction"],
        json!({"value": "negative", "negative_reason": "Rude"})
    );
}
