//! What every request carries on the wire: the secret, the pinned version,
//! the user agent, and not progenitor's `api-version`; and where redirects
//! may take the secret.

use httpmock::MockServer;
use pinwheel::API_VERSION;
use pinwheel::Call;
use pinwheel_httpmock::MockServerExt;

use crate::support::{SECRET, accounts_page, client, ids};

#[tokio::test]
async fn every_request_carries_the_secret_and_the_pinned_version() {
    let server = MockServer::start_async().await;
    let ids = ids(0..1);
    let page = accounts_page(&[&ids[0]], None);
    let user_agent = format!("pinwheel-rs/{}", env!("CARGO_PKG_VERSION"));
    let mock = server.list_accounts(|when, then| {
        when.into_inner()
            .header("x-api-secret", SECRET)
            .header("pinwheel-version", API_VERSION)
            .header("user-agent", user_agent.as_str())
            .header_missing("api-version");
        then.ok(&page);
    });
    let client = client(&server);

    // Through the wrapper's `send`...
    let response = client.list_accounts().send().await.unwrap();
    assert_eq!(response.status(), 200);
    // ...and straight through the generated client's own `send_raw`: the
    // runtime adds the headers to every request either way.
    let direct = client.api().list_accounts().send_raw().await.unwrap();
    assert_eq!(direct.into_inner().data.len(), 1);

    mock.assert_calls_async(2).await;
}

#[tokio::test]
async fn the_version_header_is_exactly_the_pinned_constant() {
    assert_eq!(API_VERSION, "2025-07-08");
    let server = MockServer::start_async().await;
    let page = accounts_page(&[], None);
    // A mock for any other version must not be hit.
    let other = server.list_accounts(|when, then| {
        when.into_inner().header("pinwheel-version", "2023-11-22");
        then.ok(&page);
    });
    let pinned = server.list_accounts(|when, then| {
        when.into_inner().header("pinwheel-version", API_VERSION);
        then.ok(&page);
    });
    let client = client(&server);
    client.list_accounts().send().await.unwrap();
    other.assert_calls_async(0).await;
    pinned.assert_calls_async(1).await;
}

#[tokio::test]
async fn a_same_origin_redirect_is_followed_with_the_secret() {
    let server = MockServer::start_async().await;
    let ids = ids(0..1);
    let page = accounts_page(&[&ids[0]], None);
    let moved = server.mock(|when, then| {
        when.method("GET").path("/moved/accounts");
        then.status(307).header("location", "/accounts");
    });
    let target = server.list_accounts(|when, then| {
        when.into_inner().header("x-api-secret", SECRET);
        then.ok(&page);
    });
    let client = pinwheel::Client::builder(SECRET)
        .base_url(server.url("/moved"))
        .without_rate_limit()
        .build()
        .unwrap();
    let response = client.accounts().items();
    let accounts: Vec<_> = futures::TryStreamExt::try_collect(response).await.unwrap();
    assert_eq!(accounts.len(), 1);
    moved.assert_calls_async(1).await;
    target.assert_calls_async(1).await;
}

#[tokio::test]
async fn a_redirect_to_another_host_is_not_followed() {
    let server = MockServer::start_async().await;
    let elsewhere = MockServer::start_async().await;
    let stolen = elsewhere.mock(|when, then| {
        when.any_request();
        then.status(200).body("{}");
    });
    server.mock(|when, then| {
        when.method("GET").path("/accounts");
        then.status(307)
            .header("location", elsewhere.url("/accounts").as_str());
    });
    let client = crate::support::client(&server);
    let error = client.list_accounts().send().await.unwrap_err();
    assert_eq!(error.status(), Some(307));
    stolen.assert_calls_async(0).await;
}
