//! Webhook deliveries: the documented signature scheme checked against a
//! known vector, every way a delivery can be wrong, the envelope and its
//! typed payloads, and de-duplication.

use std::time::{Duration, SystemTime};

use http::HeaderMap;
use pinwheel::webhook::{
    self, Begin, DeliveryLog, Envelope, Event, JobOutcome, Verifier, WebhookRejection,
};
use pinwheel::{Error, SecretString};

const SECRET: &str = "test-secret";
const TIMESTAMP: &str = "1609205925";
const BODY: &[u8] = br#"{"event": "account.added", "event_id": "5a141122-4235-4fa1-bd76-0628573880b0", "payload": {}}"#;
const SIGNATURE: &str = "v2=3c524d0150a2d29fe0599017ac0d22ca9661d428c13ff2993b05bf3f3f23f228";

fn at(secs: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
}

/// A moment shortly after the vector was signed.
fn now() -> SystemTime {
    at(1609205925 + 30)
}

fn rejection(result: pinwheel::Result<()>) -> WebhookRejection {
    match result {
        Err(Error::Webhook { reason }) => reason,
        other => panic!("expected a webhook rejection, got {other:?}"),
    }
}

#[test]
fn the_check_vector_signs_and_verifies() {
    let secret = SecretString::from(SECRET);
    assert_eq!(webhook::sign(&secret, TIMESTAMP, BODY), SIGNATURE);
    Verifier::new(SECRET)
        .unwrap()
        .verify_at(Some(SIGNATURE), Some(TIMESTAMP), BODY, now())
        .unwrap();
}

#[test]
fn a_wrong_secret_does_not_verify() {
    let result = Verifier::new("another-secret").unwrap().verify_at(
        Some(SIGNATURE),
        Some(TIMESTAMP),
        BODY,
        now(),
    );
    assert_eq!(rejection(result), WebhookRejection::SignatureMismatch);
}

#[test]
fn a_tampered_body_does_not_verify() {
    let tampered = br#"{"event": "account.added", "event_id": "5a141122-4235-4fa1-bd76-0628573880b1", "payload": {}}"#;
    let result =
        Verifier::new(SECRET)
            .unwrap()
            .verify_at(Some(SIGNATURE), Some(TIMESTAMP), tampered, now());
    assert_eq!(rejection(result), WebhookRejection::SignatureMismatch);
    // Re-serialised JSON is a different body too: whitespace is signed.
    let compact = br#"{"event":"account.added","event_id":"5a141122-4235-4fa1-bd76-0628573880b0","payload":{}}"#;
    let result =
        Verifier::new(SECRET)
            .unwrap()
            .verify_at(Some(SIGNATURE), Some(TIMESTAMP), compact, now());
    assert_eq!(rejection(result), WebhookRejection::SignatureMismatch);
}

#[test]
fn a_changed_timestamp_does_not_verify() {
    // The timestamp is part of the signed message, so it cannot be refreshed.
    let result =
        Verifier::new(SECRET)
            .unwrap()
            .verify_at(Some(SIGNATURE), Some("1609205955"), BODY, now());
    assert_eq!(rejection(result), WebhookRejection::SignatureMismatch);
}

#[test]
fn expired_and_future_deliveries_are_rejected_by_the_tolerance() {
    let verifier = Verifier::new(SECRET).unwrap();
    let signed = 1609205925;
    assert!(
        verifier
            .verify_at(Some(SIGNATURE), Some(TIMESTAMP), BODY, at(signed + 300))
            .is_ok()
    );
    assert_eq!(
        rejection(verifier.verify_at(Some(SIGNATURE), Some(TIMESTAMP), BODY, at(signed + 301))),
        WebhookRejection::Expired { age_secs: 301 }
    );
    assert!(
        verifier
            .verify_at(Some(SIGNATURE), Some(TIMESTAMP), BODY, at(signed - 300))
            .is_ok()
    );
    assert_eq!(
        rejection(verifier.verify_at(Some(SIGNATURE), Some(TIMESTAMP), BODY, at(signed - 301))),
        WebhookRejection::FromTheFuture { ahead_secs: 301 }
    );
    // A custom tolerance.
    let strict = Verifier::new(SECRET)
        .unwrap()
        .tolerance(Duration::from_secs(10));
    assert_eq!(
        rejection(strict.verify_at(Some(SIGNATURE), Some(TIMESTAMP), BODY, now())),
        WebhookRejection::Expired { age_secs: 30 }
    );
    // Against the real clock, a 2020 delivery is long expired.
    assert!(matches!(
        rejection(verifier.verify(Some(SIGNATURE), Some(TIMESTAMP), BODY)),
        WebhookRejection::Expired { .. }
    ));
}

#[test]
fn missing_headers_are_rejected() {
    let verifier = Verifier::new(SECRET).unwrap();
    assert_eq!(
        rejection(verifier.verify_at(None, Some(TIMESTAMP), BODY, now())),
        WebhookRejection::MissingSignature
    );
    assert_eq!(
        rejection(verifier.verify_at(Some(SIGNATURE), None, BODY, now())),
        WebhookRejection::MissingTimestamp
    );
    assert_eq!(
        rejection(verifier.verify_headers_at(&HeaderMap::new(), BODY, now())),
        WebhookRejection::MissingSignature
    );
}

#[test]
fn malformed_headers_are_rejected() {
    let verifier = Verifier::new(SECRET).unwrap();
    let digest = SIGNATURE.trim_start_matches("v2=");
    for malformed in [
        digest.to_owned(),
        format!("v1={digest}"),
        format!("v2={}", &digest[..62]),
        format!("v2={}zz", &digest[..62]),
        String::new(),
        "v2=".to_owned(),
    ] {
        assert_eq!(
            rejection(verifier.verify_at(Some(&malformed), Some(TIMESTAMP), BODY, now())),
            WebhookRejection::MalformedSignature,
            "{malformed:?}"
        );
    }
    // A timestamp that is signed but is not a number is still rejected.
    let secret = SecretString::from(SECRET);
    let signature = webhook::sign(&secret, "yesterday", BODY);
    assert_eq!(
        rejection(verifier.verify_at(Some(&signature), Some("yesterday"), BODY, now())),
        WebhookRejection::MalformedTimestamp
    );
}

#[test]
fn headers_are_read_from_a_request_and_rotation_accepts_either_secret() {
    let secret = SecretString::from("new-secret");
    let headers = webhook::signed_headers(&secret, 1609205925, BODY);
    assert_eq!(headers["x-timestamp"], TIMESTAMP);
    let rotating = Verifier::new(SECRET)
        .unwrap()
        .also_accept("new-secret")
        .unwrap();
    rotating.verify_headers_at(&headers, BODY, now()).unwrap();
    assert_eq!(
        rejection(
            Verifier::new(SECRET)
                .unwrap()
                .verify_headers_at(&headers, BODY, now())
        ),
        WebhookRejection::SignatureMismatch
    );
    // The debug form never shows a secret.
    let debug = format!("{rotating:?}");
    assert!(
        !debug.contains(SECRET) && !debug.contains("new-secret"),
        "{debug}"
    );
}

#[test]
fn a_verified_delivery_parses_into_its_envelope() {
    let secret = SecretString::from(SECRET);
    let headers = webhook::signed_headers(&secret, 1609205925, BODY);
    let envelope = Verifier::new(SECRET)
        .unwrap()
        .parse_at(&headers, BODY, now())
        .unwrap();
    assert_eq!(envelope.event, Event::AccountAdded);
    assert_eq!(envelope.event_id, "5a141122-4235-4fa1-bd76-0628573880b0");
    // An unverified delivery is never parsed.
    assert!(
        Verifier::new("other")
            .unwrap()
            .parse_at(&headers, BODY, now())
            .is_err()
    );
}

#[test]
fn account_added_has_a_typed_payload() {
    let body = br#"{
        "event": "account.added",
        "event_id": "5a141122-4235-4fa1-bd76-0628573880b0",
        "payload": {
            "account_id": "03bbc20e-bc39-464a-b4dc-4b63ffb7213d",
            "end_user_id": "my_user_12345",
            "link_token_id": "bd2c09e7-1303-46d5-87c0-0ffa572d7ae4",
            "platform_id": "fce3eee0-285b-496f-9b36-30e976194736",
            "platform_name": "Workday",
            "created_at": "2021-01-06 15:59:13.530178+00:00",
            "connected": true,
            "monitoring_status": "active",
            "something_new": 1
        },
        "delivery_attempt": 2
    }"#;
    let envelope = Envelope::from_slice(body).unwrap();
    let added = envelope.account_added().unwrap().unwrap();
    assert_eq!(added.end_user_id.as_deref(), Some("my_user_12345"));
    assert_eq!(added.platform_name.as_deref(), Some("Workday"));
    assert_eq!(added.connected, Some(true));
    assert_eq!(
        added.created_at.map(|t| t.to_rfc3339()),
        Some("2021-01-06T15:59:13.530178+00:00".to_owned())
    );
    assert!(envelope.job().unwrap().is_none());
}

#[test]
fn job_events_have_a_typed_payload() {
    let body = br#"{
        "event": "employment.added",
        "event_id": "9f4f1b8e-6b9e-4a53-8a2a-6cf1a3d1f7c2",
        "payload": {
            "account_id": "03bbc20e-bc39-464a-b4dc-4b63ffb7213d",
            "end_user_id": "my_user_12345",
            "outcome": "error",
            "error_code": "USER_ACTION_REQUIRED",
            "error_type": "PLATFORM_ERROR",
            "timestamp": "2021-01-12T02:36:01.287148+00:00",
            "name": "employment",
            "link_token_id": "bd2c09e7-1303-46d5-87c0-0ffa572d7ae4",
            "id": "497f6eca-6276-4993-bfeb-53cbbbba6f08"
        }
    }"#;
    let envelope = Envelope::from_slice(body).unwrap();
    assert!(envelope.event.is_job_event());
    let job = envelope.job().unwrap().unwrap();
    assert_eq!(job.outcome, Some(JobOutcome::Error));
    assert_eq!(job.error_code.as_deref(), Some("USER_ACTION_REQUIRED"));
    assert_eq!(job.name.as_deref(), Some("employment"));
    assert!(envelope.account_added().unwrap().is_none());

    let pending =
        br#"{"event": "paystubs.added", "event_id": "e", "payload": {"outcome": "queued"}}"#;
    let job = Envelope::from_slice(pending)
        .unwrap()
        .job()
        .unwrap()
        .unwrap();
    assert_eq!(job.outcome, Some(JobOutcome::Unknown("queued".into())));
}

#[test]
fn unknown_events_keep_their_name_and_payload() {
    let body = br#"{"event": "payroll.teleported", "event_id": "x-1", "payload": {"a": [1, 2]}}"#;
    let envelope = Envelope::from_slice(body).unwrap();
    assert_eq!(envelope.event, Event::Unknown("payroll.teleported".into()));
    assert_eq!(envelope.event.as_str(), "payroll.teleported");
    assert_eq!(envelope.payload["a"][1], 2);
    assert!(envelope.job().unwrap().is_none());
    // Serialising writes the name back as received.
    let json = serde_json::to_value(&envelope).unwrap();
    assert_eq!(json["event"], "payroll.teleported");
}

#[test]
fn a_body_that_is_not_an_envelope_is_a_payload_error() {
    assert!(matches!(
        Envelope::from_slice(b"[1, 2, 3]"),
        Err(Error::WebhookPayload { .. })
    ));
    assert!(matches!(
        Envelope::from_slice(br#"{"event_id": "x"}"#),
        Err(Error::WebhookPayload { .. })
    ));
}

#[test]
fn redeliveries_are_skipped_by_event_id_once_processed() {
    let log = DeliveryLog::default();
    let envelope = Envelope::from_slice(BODY).unwrap();
    let Begin::New(receipt) = log.begin(envelope.event_id.clone()) else {
        panic!("a first delivery is new")
    };
    // Redelivered before the first was processed (the process died while
    // applying it): handed out again, not lost.
    let again = Envelope::from_slice(BODY).unwrap();
    assert!(matches!(log.begin(again.event_id.clone()), Begin::New(_)));
    log.commit(receipt);
    // Once processed, a redelivery is skipped.
    assert_eq!(log.begin(again.event_id), Begin::Done);
    assert_eq!(log.len(), 1);
}

#[test]
fn a_blank_secret_is_refused_at_construction() {
    // Before: Verifier::new("") verified deliveries signed with the empty
    // secret, which anyone can compute.
    for blank in ["", " ", "\n"] {
        assert!(
            matches!(Verifier::new(blank), Err(Error::Config { .. })),
            "{blank:?}"
        );
        assert!(Verifier::new(SECRET).unwrap().also_accept(blank).is_err());
    }
}
