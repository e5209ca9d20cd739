//! Credentials on the wire: the two headers on every request, configurable
//! names, and a client whose `Debug` never shows them.

use httpmock::MockServer;
use pensionpro::Call;
use pensionpro::types;
use pensionpro_httpmock::MockServerExt;

use crate::support::{KEY, USER, client};

fn empty_page() -> types::PlanListResponse {
    serde_json::from_str(r#"{"Values": [], "TotalCount": 0}"#).unwrap()
}

#[tokio::test]
async fn every_request_carries_the_key_and_the_username() {
    let server = MockServer::start_async().await;
    let mock = server.list_plans(|when, then| {
        when.into_inner()
            .header("apikey", KEY)
            .header("username", USER)
            .header_missing("api-version");
        then.ok(&empty_page());
    });
    let client = client(&server.base_url());
    let page = client.list_plans().send().await.unwrap();
    assert_eq!(page.total_count, Some(0));
    mock.assert_async().await;
}

#[tokio::test]
async fn header_names_can_be_changed() {
    let server = MockServer::start_async().await;
    let mock = server.list_plans(|when, then| {
        when.into_inner()
            .header("ApiKey", KEY)
            .header("X-PensionPro-User", USER)
            // Header names are case-insensitive: `ApiKey` is `apikey`.
            .header_missing("username");
        then.ok(&empty_page());
    });
    let client = pensionpro::Client::builder()
        .api_key(KEY)
        .username(USER)
        .api_key_header("ApiKey")
        .username_header("X-PensionPro-User")
        .base_url(server.base_url())
        .build()
        .unwrap();
    client.list_plans().send().await.unwrap();
    mock.assert_async().await;
}

#[tokio::test]
async fn debug_of_the_client_and_its_errors_never_shows_the_secrets() {
    let server = MockServer::start_async().await;
    server.list_plans(|_, then| {
        then.unauthorized(&types::ErrorResponse {
            message: Some("Authorization has been denied for this request.".into()),
            ..Default::default()
        });
    });
    let client = client(&server.base_url());
    let error = client.list_plans().send().await.unwrap_err();
    let shown = format!("{client:?} {client:#?} {error:?} {error}");
    assert!(!shown.contains(KEY), "{shown}");
    assert!(!shown.contains(USER), "{shown}");
    assert!(shown.contains("[redacted]"), "{shown}");
}

#[tokio::test]
async fn requests_sent_counts_every_attempt() {
    let server = MockServer::start_async().await;
    server.list_plans(|_, then| {
        then.ok(&empty_page());
    });
    let client = client(&server.base_url());
    assert_eq!(client.requests_sent(), 0);
    for _ in 0..3 {
        client.list_plans().send().await.unwrap();
    }
    assert_eq!(client.requests_sent(), 3);
    // Clones share the counter.
    let clone = client.clone();
    clone.list_plans().send().await.unwrap();
    assert_eq!(client.requests_sent(), 4);
}

/// With the `redis` feature the builder takes a shared store in one line. A
/// Redis that cannot be reached falls back to the process's own limiter, so
/// the call still succeeds (the outage policies are tested in client-core).
#[cfg(feature = "redis")]
#[tokio::test]
async fn a_redis_store_is_one_line_and_an_outage_falls_back() {
    use std::num::NonZeroU32;

    use client_core::rate::RateLimit;
    use client_core::retry::RetryConfig;

    let server = MockServer::start_async().await;
    let mock = server.list_plans(|when, then| {
        when.into_inner().header("apikey", KEY);
        then.ok(&empty_page());
    });
    // Port 1 on loopback: nothing listens there.
    let client = pensionpro::Client::builder()
        .api_key(KEY)
        .username(USER)
        .base_url(server.base_url())
        .rate_limit(RateLimit::per_second(NonZeroU32::new(100).unwrap()))
        .retry(RetryConfig::disabled())
        .redis("redis://127.0.0.1:1/0")
        .unwrap()
        .build()
        .unwrap();
    client.list_plans().send().await.unwrap();
    mock.assert_async().await;
    assert!(pensionpro::Client::builder().redis("not a url").is_err());
}
