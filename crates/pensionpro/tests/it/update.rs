//! Get-modify-put sends the whole object back with the fetched `Id` and
//! `DataKey`, whatever the modification did to them.

use httpmock::MockServer;
use pensionpro::types;
use pensionpro_httpmock::MockServerExt;

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
