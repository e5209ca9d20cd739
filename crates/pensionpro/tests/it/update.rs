//! Get-modify-put sends the whole object back with the fetched `Id` and
//! `DataKey`, whatever the modification did to them.

use httpmock::MockServer;
use pensionpro::types;
use pensionpro_httpmock::MockServerExt;
use proptest::prelude::*;

use crate::support::client;

fn sample_plan() -> types::Plan {
    let path = format!(
        "{}/tests/data/aharabedian_plan.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[tokio::test]
async fn update_plan_keeps_id_and_data_key() {
    let server = MockServer::start_async().await;
    let current = sample_plan();
    let mut expected = current.clone();
    expected.search_text = Some("priority".into());
    server.get_plan(|when, then| {
        when.plan_id(309388);
        then.ok(&current);
    });
    let put = server.update_plan(|when, then| {
        when.plan_id(309388).body(&expected);
        then.ok(&expected);
    });
    let client = client(&server.base_url());
    let updated = client
        .update_plan(309388, |plan| {
            plan.search_text = Some("priority".into());
            // A careless modification cannot lose the identity.
            plan.id = None;
            plan.data_key = None;
        })
        .await
        .unwrap();
    put.assert_async().await;
    assert_eq!(updated.search_text.as_deref(), Some("priority"));
    assert_eq!(updated.data_key, current.data_key);
}

#[tokio::test]
async fn a_note_is_put_back_whole() {
    let server = MockServer::start_async().await;
    let note: types::Note = serde_json::from_str(
        r#"{"Id": 55, "DataKey": "68808e8723c3dfc9b341ea84c48bba947dda4397", "PlanId": 309388,
            "NoteText": "old", "IsImportant": false, "HasBeenWarned": false}"#,
    )
    .unwrap();
    let mut expected = note.clone();
    expected.note_text = Some("new".into());
    expected.is_important = Some(true);
    let put = server.update_note(|when, then| {
        when.note_id(55).body(&expected);
        then.ok(&expected);
    });
    let client = client(&server.base_url());
    let updated = client
        .update_note(note, |note| {
            note.note_text = Some("new".into());
            note.is_important = Some(true);
        })
        .await
        .unwrap();
    put.assert_async().await;
    assert_eq!(updated.note_text.as_deref(), Some("new"));
}

#[tokio::test]
async fn a_record_without_identity_is_refused_before_any_request() {
    let client = client("http://127.0.0.1:9");
    let error = client
        .update_note(types::Note::default(), |_| {})
        .await
        .unwrap_err();
    assert!(
        matches!(error, pensionpro::Error::InvalidRequest { .. }),
        "{error:?}"
    );
}

/// A GET answering `current`, and a PUT that matches only if its body is
/// exactly `expected` (compared as JSON, built here by hand rather than
/// from the generated types).
fn get_then_put<'a>(
    server: &'a MockServer,
    path: &str,
    current: serde_json::Value,
    expected: serde_json::Value,
) -> httpmock::Mock<'a> {
    server.mock(|when, then| {
        when.method(httpmock::Method::GET).path(path);
        then.status(200)
            .header("content-type", "application/json")
            .body(current.to_string());
    });
    server.mock(|when, then| {
        when.method(httpmock::Method::PUT)
            .path(path)
            .json_body(expected.clone());
        then.status(200)
            .header("content-type", "application/json")
            .body(expected.to_string());
    })
}

#[tokio::test]
async fn update_plan_writes_back_fields_the_schema_does_not_know() {
    // The reconstructed document is incomplete, and PUT replaces the whole
    // record: a field the client does not know must go back as it came.
    let server = MockServer::start_async().await;
    let current = serde_json::json!({
        "Id": 9, "DataKey": "abc", "Name": "Old", "SomeFieldTheSchemaLacks": 42,
        "Status": {"Id": 3, "DisplayName": "Active", "SortOrder": 1.50},
        "AmountsByYear": {"2024": 1250.50, "2025": null}
    });
    let mut expected = current.clone();
    expected["Name"] = "New".into();
    let put = get_then_put(&server, "/v2/plans/9", current, expected);
    let client = client(&server.base_url());
    let updated = client
        .update_plan(9, |plan| plan.name = Some("New".into()))
        .await
        .unwrap();
    put.assert_async().await;
    assert_eq!(
        updated
            .unknown_fields
            .get("SomeFieldTheSchemaLacks")
            .unwrap()
            .get(),
        "42"
    );
}

#[tokio::test]
async fn update_project_writes_back_fields_the_schema_does_not_know() {
    let server = MockServer::start_async().await;
    let current = serde_json::json!({
        "Id": 77, "DataKey": "def", "Name": "Audit 2024", "PlanId": 9,
        "CustomScore": 0.1, "Tags": ["a", "b"], "Plan": {"Id": 9, "Name": "P", "Extra": true}
    });
    let mut expected = current.clone();
    expected["Description"] = "moved".into();
    let put = get_then_put(&server, "/v2/projects/77", current, expected);
    let client = client(&server.base_url());
    client
        .update_project(77, |project| project.description = Some("moved".into()))
        .await
        .unwrap();
    put.assert_async().await;
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Decoding then encoding a generated record with arbitrary extra keys
    /// keeps every one of them, exactly.
    #[test]
    fn a_plan_keeps_arbitrary_extra_keys(
        extra in proptest::collection::btree_map(
            "X[A-Za-z0-9_]{0,10}",
            prop_oneof![
                any::<i64>().prop_map(|n| n.to_string()),
                "-?(0|[1-9][0-9]{0,14})\\.[0-9]{1,10}",
                "\"[ -~]{0,12}\"".prop_filter("valid JSON", |s| serde_json::from_str::<String>(s).is_ok()),
                Just("null".to_owned()),
                Just("{\"a\":[1,{\"b\":2.50}]}".to_owned()),
            ],
            0..8,
        ),
    ) {
        // Known fields in the order the type writes them, then the others.
        let mut text = String::from(r#"{"DataKey":"k","Id":1,"Name":"P""#);
        for (key, value) in &extra {
            text.push_str(&format!(",\"{key}\":{value}"));
        }
        text.push('}');
        let plan: types::Plan = serde_json::from_str(&text).unwrap();
        prop_assert_eq!(plan.unknown_fields.len(), extra.len());
        prop_assert_eq!(serde_json::to_string(&plan).unwrap(), text);
    }
}
