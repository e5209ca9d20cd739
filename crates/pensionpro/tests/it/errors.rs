//! Error answers become the variants a caller can act on; above all a 401 on
//! an operation that needs a PII category names the missing category.

use httpmock::MockServer;
use pensionpro::Call;
use pensionpro::{Error, types};
use pensionpro_httpmock::MockServerExt;

use crate::support::client;

fn body(json: &str) -> types::ErrorResponse {
    serde_json::from_str(json).unwrap()
}

#[tokio::test]
async fn a_401_on_a_notes_operation_is_the_pii_error() {
    let server = MockServer::start_async().await;
    let mock = server.list_notes_for_plan(|when, then| {
        when.plan_id(309388);
        then.unauthorized(&body(
            r#"{"Message": "Authorization has been denied for this request."}"#,
        ));
    });
    let client = client(&server.base_url());
    let error = client
        .list_notes_for_plan()
        .plan_id(309388)
        .send()
        .await
        .unwrap_err();
    mock.assert_async().await;
    match &error {
        Error::PiiPermission {
            category,
            message,
            context,
        } => {
            assert_eq!(category, "Notes");
            assert_eq!(
                message.as_deref(),
                Some("Authorization has been denied for this request.")
            );
            assert_eq!(context.operation_id, "list_notes_for_plan");
            assert_eq!(context.status, Some(401));
        }
        other => panic!("expected the PII error, got {other:?}"),
    }
    assert!(
        error
            .to_string()
            .starts_with("this key lacks the Notes permission"),
        "{error}"
    );
}

#[tokio::test]
async fn a_401_elsewhere_is_unauthorized_even_with_an_empty_body() {
    let server = MockServer::start_async().await;
    server.list_plans(|_, then| {
        then.into_inner().status(401);
    });
    let client = client(&server.base_url());
    let error = client.list_plans().send().await.unwrap_err();
    assert!(matches!(error, Error::Unauthorized { .. }), "{error:?}");
    assert_eq!(error.status(), Some(401));
}

#[tokio::test]
async fn validation_failures_carry_rules_and_field_errors() {
    let server = MockServer::start_async().await;
    server.update_plan(|when, then| {
        when.plan_id(7);
        then.bad_request(&body(
            r#"{"Message": "Rule Violation", "Rules": [{"Rule": "Plan name must be unique"}],
                "Errors": {"Name": "Name is required"}}"#,
        ));
    });
    let client = client(&server.base_url());
    let error = client
        .api()
        .update_plan()
        .plan_id(7)
        .body(types::Plan::default())
        .send()
        .await
        .unwrap_err();
    match error {
        Error::BadRequest {
            message,
            rules,
            field_errors,
            ..
        } => {
            assert_eq!(message.as_deref(), Some("Rule Violation"));
            assert_eq!(rules, ["Plan name must be unique"]);
            assert_eq!(field_errors["Name"], "Name is required");
        }
        other => panic!("expected a bad request, got {other:?}"),
    }
}

#[tokio::test]
async fn a_429_body_decodes_into_rate_limited() {
    let server = MockServer::start_async().await;
    server.list_plans(|_, then| {
        then.into_inner()
            .status(429)
            .header("content-type", "application/json")
            .header("x-ratelimit-limit", "100")
            .header("x-ratelimit-remaining", "0")
            .body(r#"{"Message": "API calls quota exceeded! maximum admitted 100 per 1m."}"#);
    });
    let client = client(&server.base_url());
    let error = client.list_plans().send().await.unwrap_err();
    match error {
        Error::RateLimited { message, .. } => {
            assert!(message.unwrap().contains("quota exceeded"));
        }
        other => panic!("expected rate limited, got {other:?}"),
    }
}

#[tokio::test]
async fn other_statuses_keep_their_meaning() {
    let server = MockServer::start_async().await;
    server.get_plan(|when, then| {
        when.plan_id(404);
        then.not_found(&body(r#"{"Message": "No Plan with Id 404"}"#));
    });
    server.get_plan(|when, then| {
        when.plan_id(403);
        then.forbidden(&body(r#"{"Message": "Access denied"}"#));
    });
    server.get_plan(|when, then| {
        when.plan_id(500);
        then.into_inner()
            .status(500)
            .header("content-type", "text/html")
            .body("<html>oops</html>");
    });
    let client = client(&server.base_url());
    let get = |id: i32| client.get_plan().plan_id(id).send();
    assert!(matches!(
        get(404).await.unwrap_err(),
        Error::NotFound { .. }
    ));
    assert!(matches!(
        get(403).await.unwrap_err(),
        Error::Forbidden { .. }
    ));
    match get(500).await.unwrap_err() {
        Error::Server {
            status, context, ..
        } => {
            assert_eq!(status, 500);
            assert_eq!(context.body_snippet.as_deref(), Some("<html>oops</html>"));
        }
        other => panic!("expected a server error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_missing_path_argument_is_an_invalid_request() {
    let client = client("http://127.0.0.1:9");
    let error = client.get_plan().send().await.unwrap_err();
    assert!(matches!(error, Error::InvalidRequest { .. }), "{error:?}");
}

#[tokio::test]
async fn a_call_deadline_becomes_the_deadline_error() {
    let url = crate::support::serve(|_| async {
        tokio::time::sleep(std::time::Duration::from_secs(5)).await;
        crate::support::Response::json(&serde_json::json!({}))
    })
    .await;
    let client = client(&url);
    let options = pensionpro::retry::CallOptions::default()
        .with_deadline(std::time::Duration::from_millis(100));
    let error = client
        .get_plan()
        .plan_id(1)
        .send_with(options)
        .await
        .unwrap_err();
    match error {
        Error::Deadline { deadline, .. } => {
            assert_eq!(deadline, std::time::Duration::from_millis(100));
        }
        other => panic!("expected the deadline error, got {other:?}"),
    }
}
