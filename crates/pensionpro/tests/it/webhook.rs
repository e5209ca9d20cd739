//! The webhook receiver: 401 only for a bad key, 200 for everything sent
//! with the right key, and a repeated batch handed out once.

use pensionpro::webhook::{Action, Delivery, EntityType, WebhookReceiver};
use reqwest::header::{HeaderMap, HeaderValue};

const SHARED: &str = "3f9c2a7e-shared-key";

fn headers(name: &'static str, value: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert("content-type", HeaderValue::from_static("application/json"));
    headers.insert(name, HeaderValue::from_str(value).unwrap());
    headers
}

const BATCH: &[u8] = br#"[
    {"EntityType": "Plan", "EntityId": 309388, "Action": "Updated"},
    {"EntityType": "Contact", "EntityId": 1030562, "Action": "Added"},
    {"EntityType": "Task", "EntityId": 17, "Action": "Deleted"},
    {"EntityType": "Client", "EntityId": 337834, "Action": "Updated"},
    {"EntityType": "Project", "EntityId": 9, "Action": "Added"},
    {"EntityType": "Prospect", "EntityId": 3, "Action": "Merged"}
]"#;

#[test]
fn a_good_key_gets_the_changes() {
    let receiver = WebhookReceiver::new(SHARED.into());
    let delivery = receiver.receive(&headers("x-pensionpro-shared-key", SHARED), BATCH);
    assert_eq!(delivery.status(), 200);
    let changes = delivery.changes();
    assert_eq!(changes.len(), 6);
    assert_eq!(
        (&changes[0].entity, changes[0].id, &changes[0].action),
        (&EntityType::Plan, Some(309388), &Action::Updated)
    );
    assert_eq!(changes[1].entity, EntityType::Contact);
    assert_eq!(changes[2].action, Action::Deleted);
    assert_eq!(changes[3].entity, EntityType::Client);
    assert_eq!(changes[4].entity, EntityType::Project);
    assert_eq!(changes[5].entity, EntityType::Unknown("Prospect".into()));
    assert_eq!(changes[5].action, Action::Unknown("Merged".into()));
}

#[test]
fn a_bad_or_missing_key_is_401() {
    let receiver = WebhookReceiver::new(SHARED.into());
    for headers in [
        headers("x-shared-key", "3f9c2a7e-shared-kez"),
        headers("x-shared-key", "3f9c2a7e"),
        headers("x-shared-key", ""),
        HeaderMap::new(),
    ] {
        let delivery = receiver.receive(&headers, BATCH);
        assert_eq!(delivery, Delivery::Unauthorized);
        assert_eq!(delivery.status(), 401);
        assert!(delivery.changes().is_empty());
    }
}

#[test]
fn a_named_header_is_the_only_place_the_key_counts() {
    let receiver = WebhookReceiver::new(SHARED.into())
        .with_header("X-Shared-Key")
        .unwrap();
    assert_eq!(
        receiver
            .receive(&headers("x-shared-key", SHARED), b"[]")
            .status(),
        200
    );
    assert_eq!(
        receiver
            .receive(&headers("x-other", SHARED), b"[]")
            .status(),
        401
    );
    assert!(
        WebhookReceiver::new(SHARED.into())
            .with_header("bad header")
            .is_err()
    );
}

#[test]
fn a_repeated_batch_is_acknowledged_once() {
    let receiver = WebhookReceiver::new(SHARED.into());
    let headers = headers("x-shared-key", SHARED);
    assert!(matches!(receiver.receive(&headers, BATCH), Delivery::Accepted(c) if c.len() == 6));
    let again = receiver.receive(&headers, BATCH);
    assert_eq!(again, Delivery::Duplicate);
    assert_eq!(again.status(), 200);
    assert!(again.changes().is_empty());
    // A different batch is new.
    let other = br#"[{"EntityType": "Plan", "EntityId": 1, "Action": "Deleted"}]"#;
    assert_eq!(receiver.receive(&headers, other).changes().len(), 1);
}

#[test]
fn authenticated_but_unreadable_is_still_200() {
    let receiver = WebhookReceiver::new(SHARED.into());
    let headers = headers("x-shared-key", SHARED);
    let delivery = receiver.receive(&headers, b"<xml>not json</xml>");
    assert!(
        matches!(delivery, Delivery::Malformed { .. }),
        "{delivery:?}"
    );
    assert_eq!(delivery.status(), 200);
    // PensionPro's test request when the webhook is created.
    assert_eq!(
        receiver.receive(&headers, b""),
        Delivery::Accepted(Vec::new())
    );
}
