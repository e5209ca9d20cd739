//! Real v1 payloads (tests/data, copied from the evidence dossier) decode
//! into the generated types and come back out unchanged, and the envelope
//! and error bodies decode.

use pensionpro::types;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

fn sample(name: &str) -> String {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(path).unwrap()
}

/// Decodes `text` as `T`, re-encodes it, and compares every key of the
/// original: a null may be left out (the generated types skip `None`), any
/// other value must come back identical.
fn round_trips<T: DeserializeOwned + Serialize>(text: &str) -> T {
    let typed: T = serde_json::from_str(text).unwrap();
    let original: Value = serde_json::from_str(text).unwrap();
    let again: Value = serde_json::from_str(&serde_json::to_string(&typed).unwrap()).unwrap();
    let (Value::Object(original), Value::Object(again)) = (original, again) else {
        panic!("not objects");
    };
    for (key, value) in &original {
        match (value, again.get(key)) {
            (Value::Null, None | Some(Value::Null)) => {}
            (value, Some(back)) => assert_eq!(value, back, "field {key}"),
            (value, None) => panic!("field {key} = {value} was dropped"),
        }
    }
    typed
}

#[test]
fn the_plan_sample_round_trips() {
    let plan: types::Plan = round_trips(&sample("aharabedian_plan.json"));
    assert_eq!(plan.id, Some(309388));
    assert_eq!(
        plan.name.as_deref(),
        Some("Very Important Client 401(k) Plan")
    );
    assert_eq!(
        plan.data_key.as_deref(),
        Some("1d450f452c4c29d70806d0ef003a943b1565e50a")
    );
    let added = pensionpro::dates::field(&plan.added_on).unwrap();
    assert_eq!(added.date().to_string(), "2012-09-14");
    use pensionpro::dates::Dated;
    assert_eq!(
        plan.created_at().unwrap().to_utc().unwrap().to_rfc3339(),
        "2012-09-14T19:19:11+00:00"
    );
}

#[test]
fn the_contact_sample_round_trips() {
    let contact: types::Contact = round_trips(&sample("aharabedian_contact.json"));
    assert_eq!(contact.id, Some(1030562));
    assert_eq!(contact.last_name.as_deref(), Some("Shook"));
    let legacy = pensionpro::dates::field(&contact.legacy_created_on).unwrap();
    assert_eq!(legacy.naive().to_string(), "2020-07-13 19:30:10");
}

#[test]
fn the_plan_contact_role_sample_round_trips() {
    let role: types::PlanContactRole = round_trips(&sample("aharabedian_plan_contact_role.json"));
    assert_eq!(
        (role.plan_id, role.contact_id),
        (Some(309563), Some(1030297))
    );
}

#[test]
fn a_list_envelope_and_an_empty_list_decode() {
    let list = format!(
        r#"{{"Values": [{}], "TotalCount": 1234}}"#,
        sample("aharabedian_plan.json")
    );
    let page: types::PlanListResponse = serde_json::from_str(&list).unwrap();
    use pensionpro::pagination::ListPage;
    let (rows, total) = page.into_parts();
    assert_eq!((rows.len(), total), (1, Some(1234)));
    assert_eq!(rows[0].id, Some(309388));

    let empty: types::NoteListResponse =
        serde_json::from_str(r#"{"Values": [], "TotalCount": 0}"#).unwrap();
    let (rows, total) = empty.into_parts();
    assert!(rows.is_empty());
    assert_eq!(total, Some(0));
    // v1 extras and unknown fields are tolerated.
    let v1: types::ContactListResponse = serde_json::from_str(
        r#"{"Values": [], "TotalCount": 0, "TotalPages": 0, "HasNextPage": false}"#,
    )
    .unwrap();
    assert_eq!(v1.total_count, Some(0));
}

#[test]
fn error_bodies_decode() {
    let unauthorized: types::ErrorResponse =
        serde_json::from_str(r#"{"Message": "Authorization has been denied for this request."}"#)
            .unwrap();
    assert!(unauthorized.message.unwrap().starts_with("Authorization"));
    let limited: types::ErrorResponse = serde_json::from_str(
        r#"{"Message": "API calls quota exceeded! maximum admitted 100 per 1m."}"#,
    )
    .unwrap();
    assert!(limited.message.unwrap().contains("100 per 1m"));
    let invalid: types::ErrorResponse = serde_json::from_str(
        r#"{"Message": "Rule Violation", "Rules": [{"Rule": "A"}, {"Rule": "B"}], "Errors": {"Name": "required"}}"#,
    )
    .unwrap();
    assert_eq!(invalid.rules.unwrap().len(), 2);
    assert_eq!(invalid.errors.unwrap()["Name"], "required");
}
