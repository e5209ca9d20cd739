//! The runtime's retries and rate limiting, seen through the wrapper: a
//! transient 503 is retried, a POST is not replayed, and a burst is paced.

use pinwheel::Call;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use httpmock::MockServer;
use pinwheel::retry::{RateLimit, RetryConfig};
use pinwheel::{Client, Error, types};
use pinwheel_httpmock::MockServerExt;

use crate::support::{SECRET, accounts_page, error_body, ids};

/// Retries after 1 ms instead of the default 100 ms base, to keep the test fast.
fn quick_retries() -> RetryConfig {
    RetryConfig::default()
        .with_transient_base(Duration::from_millis(1))
        .with_max_backoff(Duration::from_millis(5))
}

#[tokio::test]
async fn a_503_is_retried_and_the_second_answer_returned() {
    let server = MockServer::start_async().await;
    // The first request gets a 503; the counter makes the mock match once.
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&seen);
    let unavailable = server.list_accounts(|when, then| {
        when.into_inner()
            .is_true(move |_| counter.fetch_add(1, Ordering::SeqCst) == 0);
        then.server_error(503, &error_body("UNKNOWN_ERROR", "OVERLOADED", "busy", 503));
    });
    let ids = ids(0..1);
    let page = accounts_page(&[&ids[0]], None);
    let ok = server.list_accounts(|_, then| {
        then.ok(&page)
            .into_inner()
            .header("x-pinwheel-request-id", "req-ok");
    });
    let client = Client::builder(SECRET)
        .base_url(server.base_url())
        .retry(quick_retries())
        .without_rate_limit()
        .build()
        .unwrap();

    let response = client.list_accounts().send().await.unwrap();
    assert_eq!(response.attempts(), 2);
    assert_eq!(response.request_id(), Some("req-ok"));
    assert_eq!(response.data.len(), 1);
    assert_eq!(unavailable.calls_async().await, 1);
    assert_eq!(ok.calls_async().await, 1);
    let metrics = client.metrics();
    assert_eq!(
        (metrics.calls, metrics.attempts, metrics.retries),
        (1, 2, 1)
    );
}

#[tokio::test]
async fn a_post_that_reached_the_server_is_not_replayed() {
    let server = MockServer::start_async().await;
    let create = server.create_link_token(|_, then| {
        then.server_error(503, &error_body("UNKNOWN_ERROR", "OVERLOADED", "busy", 503));
    });
    let client = Client::builder(SECRET)
        .base_url(server.base_url())
        .retry(quick_retries())
        .without_rate_limit()
        .build()
        .unwrap();
    let body: types::LinkTokenCreateV20250708 = serde_json::from_value(serde_json::json!({
        "org_name": "Fintech.io",
        "solution": "Deposit Switch",
        "features": ["direct_deposit_switch"],
        "end_user_id": "my_user_12345"
    }))
    .unwrap();
    let error = client
        .create_link_token()
        .body(body)
        .send()
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Server { .. }), "{error:?}");
    assert_eq!(error.context().unwrap().attempts, 1);
    create.assert_calls_async(1).await;
}

#[tokio::test]
async fn a_burst_over_the_rate_limit_is_paced_not_dropped() {
    let server = MockServer::start_async().await;
    let page = accounts_page(&[], None);
    let mock = server.list_accounts(|_, then| {
        then.ok(&page);
    });
    let client = Client::builder(SECRET)
        .base_url(server.base_url())
        .rate_limit(RateLimit::per_second(NonZeroU32::new(5).unwrap()))
        .build()
        .unwrap();
    let calls = (0..10).map(|_| client.list_accounts().send());
    let results = futures::future::join_all(calls).await;
    assert!(results.iter().all(Result::is_ok));
    mock.assert_calls_async(10).await;
    let metrics = client.metrics();
    // Five go at once (the burst); the other five had to wait for the budget.
    assert!(metrics.throttled_waits >= 5, "{metrics:?}");
    assert!(
        metrics.throttled_for >= Duration::from_millis(500),
        "{metrics:?}"
    );
    assert_eq!(metrics.responses_429, 0);
}

#[tokio::test]
async fn each_mode_paces_to_its_documented_limit_by_default() {
    let server = MockServer::start_async().await;
    let page = accounts_page(&[], None);
    server.list_accounts(|_, then| {
        then.ok(&page);
    });
    // Sandbox allows 10 per second: 12 quick calls make at least two wait.
    let client = Client::builder(SECRET)
        .base_url(server.base_url())
        .build()
        .unwrap();
    let calls = (0..12).map(|_| client.list_accounts().send());
    let results = futures::future::join_all(calls).await;
    assert!(results.iter().all(Result::is_ok));
    assert!(
        client.metrics().throttled_waits >= 2,
        "{:?}",
        client.metrics()
    );
}
