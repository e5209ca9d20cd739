//! The webhook receiver: 401 only for a bad key, 200 for everything sent
//! with the right key, no blank key, and de-duplication that never loses a
//! batch.

use pensionpro::webhook::{Action, Delivery, DeliveryLog, EntityType, WebhookReceiver};
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
    let receiver = WebhookReceiver::new(SHARED.into()).unwrap();
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
    let receiver = WebhookReceiver::new(SHARED.into()).unwrap();
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
        .unwrap()
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
            .unwrap()
            .with_header("bad header")
            .is_err()
    );
}

#[test]
fn a_blank_key_is_refused_at_construction() {
    // Before: a blank key accepted any request carrying an empty header.
    for blank in ["", "   ", "\t"] {
        let error = WebhookReceiver::new(blank.into()).unwrap_err();
        assert!(error.to_string().contains("blank"), "{error}");
    }
}

#[test]
fn without_a_header_name_the_key_counts_in_any_header_and_nothing_else_does() {
    let receiver = WebhookReceiver::new(SHARED.into()).unwrap();
    assert_eq!(
        receiver
            .receive(&headers("x-anything", SHARED), b"[]")
            .status(),
        200
    );
    for value in ["", " ", "3f9c2a7e-shared-ke", "3F9C2A7E-SHARED-KEY"] {
        assert_eq!(
            receiver
                .receive(&headers("x-anything", value), b"[]")
                .status(),
            401,
            "{value:?}"
        );
    }
}

#[test]
fn every_batch_comes_out_unless_dedupe_is_on() {
    let receiver = WebhookReceiver::new(SHARED.into()).unwrap();
    let headers = headers("x-shared-key", SHARED);
    // Two deliveries with identical bodies (the same record changed twice):
    // both handed out, none lost.
    for _ in 0..2 {
        assert_eq!(receiver.receive(&headers, BATCH).changes().len(), 6);
    }
}

#[test]
fn dedupe_is_two_phase_so_a_crash_mid_batch_loses_nothing() {
    let receiver = WebhookReceiver::new(SHARED.into())
        .unwrap()
        .with_dedupe(DeliveryLog::default());
    let headers = headers("x-shared-key", SHARED);
    // Received, then the process fails before committing it.
    let Delivery::Accepted(first) = receiver.receive(&headers, BATCH) else {
        panic!("accepted")
    };
    drop(first);
    // The redelivery is handed out again (before: answered Duplicate and lost).
    let Delivery::Accepted(second) = receiver.receive(&headers, BATCH) else {
        panic!("redelivered batches are not lost")
    };
    assert_eq!(second.changes.len(), 6);
    receiver.commit(second);
    // Once processed, a repeat is acknowledged and not processed again.
    let again = receiver.receive(&headers, BATCH);
    assert_eq!(again, Delivery::Duplicate);
    assert_eq!(again.status(), 200);
    assert!(again.changes().is_empty());
    let other = br#"[{"EntityType": "Plan", "EntityId": 1, "Action": "Deleted"}]"#;
    assert_eq!(receiver.receive(&headers, other).changes().len(), 1);
}

#[test]
fn authenticated_but_unreadable_is_still_200_and_its_bytes_are_kept() {
    let receiver = WebhookReceiver::new(SHARED.into()).unwrap();
    let headers = headers("x-shared-key", SHARED);
    let body = b"<xml>not json</xml>";
    let delivery = receiver.receive(&headers, body);
    assert_eq!(delivery.status(), 200);
    match &delivery {
        Delivery::Malformed { body: kept, reason } => {
            assert_eq!(kept, body, "nothing is lost");
            assert!(reason.contains("not JSON"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    // PensionPro's test request when the webhook is created.
    assert!(
        matches!(receiver.receive(&headers, b""), Delivery::Accepted(b) if b.changes.is_empty())
    );
}
