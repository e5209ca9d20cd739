//! Creates a Link token, the short-lived credential a front end uses to open
//! Pinwheel Link, and shows how a rejected request reads as a typed error.
//!
//! Offline by default: a local mock server answers with the example from
//! Pinwheel's API document. With `PINWHEEL_API_SECRET` set (and optionally
//! `PINWHEEL_MODE`, default `sandbox`) it creates a real token.
//!
//! ```sh
//! cargo run -p pinwheel --example create_link_token
//! ```

#![allow(
    clippy::print_stdout,
    reason = "an example shows its results on the terminal"
)]

use httpmock::MockServer;
use pinwheel::Call;
use pinwheel::{Client, Error, types};
use pinwheel_httpmock::MockServerExt;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let request: types::LinkTokenCreateV20250708 = serde_json::from_value(serde_json::json!({
        "org_name": "Fintech.io",
        "solution": "Deposit Switch",
        "features": ["direct_deposit_switch"],
        "end_user_id": "my_user_12345"
    }))?;

    let mut mock = None;
    let client = if std::env::var_os(pinwheel::client::ENV_API_SECRET).is_some() {
        Client::from_env()?
    } else {
        let server = mock_server(&request).await?;
        let client = Client::builder("offline-example-secret")
            .base_url(server.base_url())
            .build()?;
        println!("offline: answering from {}", server.base_url());
        mock = Some(server);
        client
    };

    // Link tokens are single-use and expire after an hour: create one per launch.
    let response = client.create_link_token().body(request).send().await?;
    let token = &response.data;
    println!(
        "link token {} (mode {:?}) expires {:?}; request id {:?}",
        token.id.map(|id| id.to_string()).unwrap_or_default(),
        token.mode,
        token.expires,
        response.request_id(),
    );

    // A request Pinwheel rejects becomes a typed error with its request id.
    let unknown_employer: types::LinkTokenCreateV20250708 =
        serde_json::from_value(serde_json::json!({
            "org_name": "Fintech.io",
            "solution": "Deposit Switch",
            "features": ["direct_deposit_switch"],
            "end_user_id": "my_user_12345",
            "employer_id": "00000000-0000-4000-8000-000000000000"
        }))?;
    match client
        .create_link_token()
        .body(unknown_employer)
        .send()
        .await
    {
        Err(Error::InvalidParameters { body, context }) => {
            println!(
                "rejected: {body}; fields {:?}; request id {:?}",
                body.fields, context.request_id
            );
        }
        Err(other) => println!("failed: {other}"),
        Ok(_) => println!("unexpectedly accepted"),
    }
    drop(mock);
    Ok(())
}

/// A mock Pinwheel that creates the token for `request` and rejects others.
async fn mock_server(
    request: &types::LinkTokenCreateV20250708,
) -> Result<MockServer, serde_json::Error> {
    let server = MockServer::start_async().await;
    let created: types::CreateLinkTokenResponse = serde_json::from_value(serde_json::json!({
        "data": {
            "id": "bd2c09e7-1303-46d5-87c0-0ffa572d7ae4",
            "token": "eyJhbGciOiJIUz....pZ-qZZPO-mA06Dzu-nfUdurwaTUA",
            "expires": "2021-01-09T02:52:26+00:00",
            "mode": "sandbox"
        }
    }))?;
    server.create_link_token(|when, then| {
        when.body(request);
        then.ok(&created)
            .into_inner()
            .header("x-pinwheel-request-id", "req-created");
    });
    let rejected: types::ErrorResponse = serde_json::from_value(serde_json::json!({
        "error": {
            "type": "INVALID_REQUEST_PARAMETERS",
            "code": "INVALID_EMPLOYER_ID",
            "message": "employer_id does not name a known employer",
            "status_code": 400,
            "fields": [{"name": "employer_id", "message": "unknown employer"}]
        }
    }))?;
    server.create_link_token(|_, then| {
        then.client_error(400, &rejected)
            .into_inner()
            .header("x-pinwheel-request-id", "req-rejected");
    });
    Ok(server)
}
