//! Pinwheel's error answers become typed errors, each with the request id
//! of the response; failures without an answer keep what is known.

use pinwheel::Call;
use std::time::Duration;

use httpmock::MockServer;
use pinwheel::retry::CallOptions;
use pinwheel::{Client, Error};
use pinwheel_httpmock::MockServerExt;
use serde_json::json;

use crate::support::{SECRET, client, error_body};

/// Sends `GET /accounts` to a server that answers `status` with `body` and
/// the request id `req-<status>`.
async fn answer(status: u16, body: &str) -> Error {
    let server = MockServer::start_async().await;
    server.list_accounts(|_, then| {
        then.into_inner()
            .status(status)
            .header("content-type", "application/json")
            .header("x-pinwheel-request-id", format!("req-{status}"))
            .body(body);
    });
    let client = client(&server);
    let error = client.list_accounts().send().await.unwrap_err();
    assert_eq!(error.request_id(), Some(format!("req-{status}").as_str()));
    assert_eq!(error.status(), Some(status));
    let context = error.context().unwrap();
    assert_eq!(context.operation_id, "list_accounts");
    assert_eq!(context.method, "GET");
    assert_eq!(context.attempts, 1);
    error
}

fn vendor(error_type: &str, code: &str, message: &str, status: u16) -> String {
    serde_json::to_string(&error_body(error_type, code, message, status)).unwrap()
}

#[tokio::test]
async fn invalid_parameters_keep_the_field_errors() {
    let body = json!({"error": {
        "type": "INVALID_REQUEST_PARAMETERS",
        "code": "INVALID_ROUTING_NUMBER",
        "message": "bad routing number",
        "status_code": 400,
        "fields": [{"name": "routing_number", "message": "must be 9 digits"}]
    }});
    let error = answer(400, &body.to_string()).await;
    let Error::InvalidParameters { body, .. } = &error else {
        panic!("{error:?}");
    };
    assert_eq!(body.code.as_deref(), Some("INVALID_ROUTING_NUMBER"));
    assert_eq!(body.message.as_deref(), Some("bad routing number"));
    assert_eq!(body.status_code, Some(400));
    assert_eq!(body.fields.len(), 1);
    assert_eq!(body.fields[0].name.as_deref(), Some("routing_number"));
    assert_eq!(body.fields[0].message.as_deref(), Some("must be 9 digits"));
    assert_eq!(error.code(), Some("INVALID_ROUTING_NUMBER"));
    assert!(!error.is_retryable());
    assert!(error.to_string().contains("request id req-400"), "{error}");
}

#[tokio::test]
async fn not_found() {
    let error = answer(
        404,
        &vendor(
            "RECORD_NOT_FOUND",
            "ACCOUNT_NOT_FOUND",
            "no such account",
            404,
        ),
    )
    .await;
    assert!(matches!(error, Error::NotFound { .. }), "{error:?}");
    assert_eq!(error.code(), Some("ACCOUNT_NOT_FOUND"));
}

#[tokio::test]
async fn unauthorized() {
    let error = answer(
        401,
        &vendor(
            "UNAUTHORIZED_REQUEST",
            "INVALID_API_SECRET",
            "bad secret",
            401,
        ),
    )
    .await;
    assert!(matches!(error, Error::Unauthorized { .. }), "{error:?}");
    // The message Pinwheel sends is shown; the secret the client sent is not.
    assert!(error.to_string().contains("bad secret"));
    assert!(!format!("{error} {error:?}").contains(SECRET));
}

#[tokio::test]
async fn rate_limited() {
    let error = answer(
        429,
        &vendor("UNKNOWN_ERROR", "RATE_LIMITED", "slow down", 429),
    )
    .await;
    assert!(matches!(error, Error::RateLimited { .. }), "{error:?}");
    assert!(error.is_retryable());
}

#[tokio::test]
async fn server_error() {
    let error = answer(500, &vendor("UNKNOWN_ERROR", "INTERNAL", "oops", 500)).await;
    assert!(matches!(error, Error::Server { .. }), "{error:?}");
    assert_eq!(
        error.body().unwrap().error_type.as_deref(),
        Some("UNKNOWN_ERROR")
    );
}

#[tokio::test]
async fn an_unknown_type_and_code_are_kept_in_the_api_fallback() {
    let error = answer(409, &vendor("BRAND_NEW_TYPE", "BRAND_NEW_CODE", "new", 409)).await;
    let Error::Api { body, .. } = &error else {
        panic!("{error:?}");
    };
    assert_eq!(body.error_type.as_deref(), Some("BRAND_NEW_TYPE"));
    assert_eq!(body.code.as_deref(), Some("BRAND_NEW_CODE"));
}

#[tokio::test]
async fn a_proxy_page_instead_of_a_pinwheel_body_is_still_a_server_error() {
    let error = answer(502, "<html><body>Bad gateway</body></html>").await;
    let Error::Server { body, context } = &error else {
        panic!("{error:?}");
    };
    assert_eq!(body.code, None);
    assert!(
        context
            .body_snippet
            .as_deref()
            .unwrap_or_default()
            .contains("Bad gateway")
    );
}

#[tokio::test]
async fn a_success_body_of_the_wrong_shape_is_a_decode_error() {
    let error = answer_ok(r#"{"data": "not a list"}"#).await;
    let Error::Decode { context, .. } = &error else {
        panic!("{error:?}");
    };
    assert_eq!(context.status, Some(200));
    assert_eq!(
        context.body_snippet.as_deref(),
        Some(r#"{"data": "not a list"}"#)
    );
    assert_eq!(error.request_id(), Some("req-200"));
}

async fn answer_ok(body: &str) -> Error {
    let server = MockServer::start_async().await;
    server.list_accounts(|_, then| {
        then.into_inner()
            .status(200)
            .header("content-type", "application/json")
            .header("x-pinwheel-request-id", "req-200")
            .body(body);
    });
    let client = client(&server);
    client.list_accounts().send().await.unwrap_err()
}

#[tokio::test]
async fn a_refused_connection_is_a_transport_error() {
    // Bind a port, then free it, so nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let client = Client::builder(SECRET)
        .base_url(format!("http://127.0.0.1:{port}"))
        .retry(pinwheel::retry::RetryConfig::disabled())
        .build()
        .unwrap();
    let error = client.list_accounts().send().await.unwrap_err();
    assert!(matches!(error, Error::Transport { .. }), "{error:?}");
    assert_eq!(error.status(), None);
    assert_eq!(error.context().unwrap().operation_id, "list_accounts");
    assert!(error.is_retryable());
}

#[tokio::test]
async fn a_slow_answer_past_the_call_deadline_is_a_deadline_error() {
    let server = MockServer::start_async().await;
    let page = crate::support::accounts_page(&[], None);
    server.list_accounts(|_, then| {
        then.ok(&page).into_inner().delay(Duration::from_secs(3));
    });
    let client = client(&server);
    let options = CallOptions::default().with_deadline(Duration::from_millis(200));
    let error = client.list_accounts().send_with(options).await.unwrap_err();
    assert!(
        matches!(error, Error::Deadline { deadline, .. } if deadline == Duration::from_millis(200)),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_missing_required_argument_is_an_invalid_request_not_a_panic() {
    let server = MockServer::start_async().await;
    let client = client(&server);
    // No account id given.
    let error = client.get_account().send().await.unwrap_err();
    let Error::InvalidRequest { message, .. } = &error else {
        panic!("{error:?}");
    };
    assert!(message.contains("account_id"), "{message}");
}

#[tokio::test]
async fn the_typed_mock_error_helpers_produce_the_same_errors() {
    let server = MockServer::start_async().await;
    let id: uuid::Uuid = "eb240ec6-a227-47ca-b7c7-fbbdfe7170a0".parse().unwrap();
    server.get_account(|when, then| {
        when.account_id(&id);
        then.client_error(
            404,
            &error_body("RECORD_NOT_FOUND", "NOT_FOUND", "gone", 404),
        )
        .into_inner()
        .header("x-pinwheel-request-id", "req-typed");
    });
    let client = client(&server);
    let error = client
        .get_account()
        .account_id(id)
        .send()
        .await
        .unwrap_err();
    assert!(matches!(error, Error::NotFound { .. }), "{error:?}");
    assert_eq!(error.request_id(), Some("req-typed"));
}
