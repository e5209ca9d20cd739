//! Smoke test of the generated Pinwheel client on the wire, driven through the
//! generated typed mocks on loopback: a list, a get and a create.
//!
//! Authentication and the version header are sent here through reqwest's
//! default headers, the way any caller of the bare generated client would;
//! the `pinwheel` wrapper crate does this for its users.

#![allow(clippy::unwrap_used, reason = "a test fails by panicking")]

use httpmock::MockServer;
use pinwheel_client::types;
use pinwheel_httpmock::MockServerExt;
use serde_json::json;

const SECRET: &str = "test-secret-123";
const VERSION: &str = "2025-07-08";

fn client(server: &MockServer) -> pinwheel_client::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    let mut secret = reqwest::header::HeaderValue::from_static(SECRET);
    secret.set_sensitive(true);
    headers.insert("x-api-secret", secret);
    headers.insert(
        "pinwheel-version",
        reqwest::header::HeaderValue::from_static(VERSION),
    );
    let http = reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .unwrap();
    pinwheel_client::Client::new_with_client(&server.base_url(), http, client_core::Runtime::new())
}

fn account(id: &str) -> serde_json::Value {
    json!({
        "id": id,
        "created_at": "2021-01-06T15:59:13.530178+00:00",
        "end_user_id": "my_user_12345",
        "platform_id": "fce3eee0-285b-496f-9b36-30e976194736",
        "connected": true,
        "monitoring_status": "active",
        "data_refreshed_at": null,
        "data_updated_at": null
    })
}

#[tokio::test]
async fn list_get_and_create_round_trip_through_the_typed_mocks() {
    let server = MockServer::start_async().await;
    let first = "03bbc20e-bc39-464a-b4dc-4b63ffb7213d";
    let second = "5c8c9e4d-6bb0-4ad1-b9a7-cf9b0b61c1c8";

    let list: types::ListAccountsResponse = serde_json::from_value(json!({
        "meta": {"count": 2, "next_cursor": "eyJuYW1lIjogImFtYXpvbiJ9"},
        "data": [account(first), account(second)]
    }))
    .unwrap();
    let list_mock = server.list_accounts(|when, then| {
        when.limit(std::num::NonZeroU64::new(2))
            .into_inner()
            .header("x-api-secret", SECRET)
            .header("pinwheel-version", VERSION)
            .header_missing("api-version");
        then.ok(&list);
    });

    let one: types::GetAccountResponse =
        serde_json::from_value(json!({"data": account(first)})).unwrap();
    let get_mock = server.get_account(|when, then| {
        when.account_id(&first.parse().unwrap())
            .into_inner()
            .header("x-api-secret", SECRET)
            .header("pinwheel-version", VERSION);
        then.ok(&one);
    });

    let body: types::LinkTokenCreateV20250708 = serde_json::from_value(json!({
        "org_name": "Fintech.io",
        "solution": "Deposit Switch",
        "features": ["direct_deposit_switch"],
        "end_user_id": "my_user_12345"
    }))
    .unwrap();
    let created: types::CreateLinkTokenResponse = serde_json::from_value(json!({
        "data": {
            "id": "bd2c09e7-1303-46d5-87c0-0ffa572d7ae4",
            "token": "eyJhbGciOiJIUz....",
            "expires": "2021-01-09T02:52:26+00:00",
            "mode": "sandbox"
        }
    }))
    .unwrap();
    let create_mock = server.create_link_token(|when, then| {
        when.body(&body)
            .into_inner()
            .header("x-api-secret", SECRET)
            .header("content-type", "application/json");
        then.ok(&created);
    });

    let client = client(&server);
    let page = client
        .list_accounts()
        .limit(2)
        .send_raw()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(page.data.len(), 2);
    assert_eq!(page.data[1].id.unwrap().to_string(), second);
    assert_eq!(
        page.meta.next_cursor.as_deref(),
        Some("eyJuYW1lIjogImFtYXpvbiJ9")
    );

    let got = client
        .get_account()
        .account_id(first.parse::<uuid::Uuid>().unwrap())
        .send_raw()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(got.data.id.unwrap().to_string(), first);

    let token = client
        .create_link_token()
        .body(body.clone())
        .send_raw()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        token.data.id.unwrap().to_string(),
        "bd2c09e7-1303-46d5-87c0-0ffa572d7ae4"
    );

    list_mock.assert_async().await;
    get_mock.assert_async().await;
    create_mock.assert_async().await;
}

#[tokio::test]
async fn an_undeclared_error_body_is_parsed_as_the_overlay_declares_it() {
    let server = MockServer::start_async().await;
    let error: types::ErrorResponse = serde_json::from_value(json!({
        "error": {
            "type": "INVALID_REQUEST_PARAMETERS",
            "code": "INVALID_ROUTING_NUMBER",
            "message": "bad routing number",
            "status_code": 400,
            "fields": [{"name": "routing_number", "message": "must be 9 digits"}]
        }
    }))
    .unwrap();
    server.list_accounts(|_, then| {
        then.client_error(400, &error);
    });
    let err = client(&server)
        .list_accounts()
        .send_raw()
        .await
        .unwrap_err();
    match err {
        pinwheel_client::Error::ErrorResponse(response) => {
            assert_eq!(response.status(), 400);
            let detail = response.into_inner().error.unwrap();
            assert_eq!(detail.code.as_deref(), Some("INVALID_ROUTING_NUMBER"));
        }
        other => panic!("expected a typed error response, got {other:?}"),
    }
}

#[test]
fn values_and_fields_the_document_does_not_know_still_decode() {
    let mut value = account("03bbc20e-bc39-464a-b4dc-4b63ffb7213d");
    value["monitoring_status"] = json!("a_status_added_next_year");
    value["a_field_added_next_year"] = json!({"nested": [1, 2]});
    let decoded: types::PayrollAccountObjResponse = serde_json::from_value(value).unwrap();
    let status = decoded.monitoring_status.clone().unwrap();
    assert_eq!(
        status,
        types::PayrollAccountObjResponseMonitoringStatus::Unknown(
            "a_status_added_next_year".into()
        )
    );
    assert_eq!(status.to_string(), "a_status_added_next_year");
    // Known values keep their variants, and unknown ones are written back as sent.
    assert_eq!(
        serde_json::to_value(types::PayrollAccountObjResponseMonitoringStatus::Active).unwrap(),
        json!("active")
    );
    assert_eq!(
        serde_json::to_value(&status).unwrap(),
        json!("a_status_added_next_year")
    );
}

#[test]
fn dollar_amounts_are_exact_decimals() {
    let employer: types::EmployerObjResponse = serde_json::from_str(
        r#"{"id": "e3c3ec9e-eea5-42fc-b533-de3cea9c352f", "name": "Acme", "last_updated": null,
            "supported_jobs": [], "fractional_amount_supported": true, "amount_supported": true,
            "min_percentage": null, "max_percentage": null, "percentage_supported": false,
            "min_amount": 0.1, "max_amount": 9999.99}"#,
    )
    .unwrap();
    assert_eq!(employer.min_amount.unwrap().to_string(), "0.1");
    assert_eq!(employer.max_amount.unwrap().to_string(), "9999.99");
}
