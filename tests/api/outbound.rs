//! Deliveries to a webhook receiver that is a real process
//! (`tests/receiver/receiver.mjs`, run with node): what succeeds, what
//! fails, what is refused before a connection, and what is not followed.

use std::time::Duration;

use plaudit::{
    domain::webhook::{WebhookSecret, WebhookUrl, signature_header},
    outbound::Receivers,
};

use crate::receiver::Receiver;

fn url(receiver: &Receiver, host: &str, path: &str) -> WebhookUrl {
    WebhookUrl::parse("url", &receiver.url(host, path), true).unwrap()
}

fn url_at(port: u16, path: &str) -> WebhookUrl {
    WebhookUrl::parse("url", &format!("http://127.0.0.1:{port}{path}"), true).unwrap()
}

#[tokio::test]
async fn deliveries_reach_a_real_receiver_and_nothing_else() {
    let receiver = Receiver::start();
    let local = Receivers::new(true, Duration::from_secs(1)).unwrap();
    let secret = WebhookSecret::generate();
    let body = br#"{"type":"ping","timestamp":"2026-01-01T00:00:00Z","data":{}}"#.to_vec();
    let signature = signature_header(&[&secret], "evt_1", 1_767_225_600, &body);
    let headers = [
        ("webhook-id", "evt_1".to_owned()),
        ("webhook-timestamp", "1767225600".to_owned()),
        ("webhook-signature", signature.clone()),
    ];

    let ok = local.post(&url(&receiver, "127.0.0.1", "/ok"), &headers, body.clone()).await;
    assert!(ok.succeeded(), "{ok:?}");
    assert_eq!(ok.status, Some(200));
    let seen = receiver.next();
    assert_eq!((seen["method"].as_str(), seen["path"].as_str()), (Some("POST"), Some("/ok")));
    assert_eq!(seen["headers"]["webhook-signature"], signature.as_str());
    assert_eq!(seen["headers"]["webhook-id"], "evt_1");
    assert_eq!(seen["headers"]["content-type"], "application/json");
    assert_eq!(seen["body"].as_str().unwrap().as_bytes(), body.as_slice());

    let failed = local.post(&url(&receiver, "127.0.0.1", "/fail"), &headers, body.clone()).await;
    assert_eq!((failed.status, failed.succeeded()), (Some(500), false));
    assert!(failed.error.unwrap().contains("500"));
    receiver.next();

    // A redirect is an answer, not followed: the receiver sees one request.
    let moved = local.post(&url(&receiver, "127.0.0.1", "/redirect"), &headers, body.clone()).await;
    assert_eq!((moved.status, moved.succeeded()), (Some(302), false));
    assert_eq!(receiver.next()["path"], "/redirect");

    let slow = local.post(&url(&receiver, "127.0.0.1", "/slow"), &headers, body.clone()).await;
    assert_eq!(slow.error.as_deref(), Some("no answer in time"));
    assert!(slow.latency < Duration::from_secs(3), "{slow:?}");
    assert_eq!(receiver.next()["path"], "/slow");

    let big = local.post(&url(&receiver, "127.0.0.1", "/big"), &headers, body.clone()).await;
    assert!(big.succeeded(), "a long answer is read in part, and the delivery succeeds");
    assert_eq!(receiver.next()["path"], "/big");

    // Without webhooks_allow_private, nothing reaches a loopback address:
    // written as one, or as a name that resolves to one.
    let public = Receivers::new(false, Duration::from_secs(1)).unwrap();
    let refused = public.post(&url(&receiver, "127.0.0.1", "/ok"), &headers, body.clone()).await;
    assert!(refused.error.as_deref().unwrap().contains("loopback"), "{refused:?}");
    let by_name = public.post(&url(&receiver, "localhost", "/ok"), &headers, body.clone()).await;
    assert!(by_name.error.as_deref().unwrap().contains("resolves only to"), "{by_name:?}");
    // An error never shows the URL: its path may be a secret.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let refused = local.post(&url_at(closed, "/services/T0/SECRET"), &headers, body.clone()).await;
    let error = refused.error.unwrap();
    assert!(!error.contains("SECRET") && !error.contains("127.0.0.1"), "{error}");
    // The next request the receiver sees is this one: the refused ones never came.
    local.post(&url(&receiver, "127.0.0.1", "/ok"), &[], b"{}".to_vec()).await;
    assert_eq!(receiver.next()["body"], "{}");
}
