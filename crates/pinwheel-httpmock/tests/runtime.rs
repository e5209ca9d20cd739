//! Proof that the generated Pinwheel client sends every request through
//! client-core's runtime: a 503 is retried and a burst is throttled without
//! any code outside the generated crate taking part.

#![allow(clippy::unwrap_used, reason = "a test fails by panicking")]

use std::num::NonZeroU32;
use std::time::Duration;

use client_core::rate::RateLimit;
use client_core::retry::RetryConfig;
use client_core::testing::{Reply, ScriptedServer};

const ACCOUNTS: &str = r#"{"meta": {"count": 0, "next_cursor": null}, "data": []}"#;

fn client(server: &ScriptedServer, runtime: client_core::Runtime) -> pinwheel_client::Client {
    pinwheel_client::Client::new_with_client(&server.url(), reqwest::Client::new(), runtime)
}

fn fast_retry() -> RetryConfig {
    RetryConfig::default()
        .with_transient_base(Duration::from_millis(5))
        .with_max_backoff(Duration::from_millis(20))
}

#[tokio::test]
async fn a_503_is_retried_by_the_runtime() {
    let server = ScriptedServer::start(|n, _| {
        if n == 0 {
            Reply::json(503, "{}")
        } else {
            Reply::json(200, ACCOUNTS)
        }
    })
    .await
    .unwrap();
    let runtime = client_core::Runtime::builder("pinwheel")
        .retry(fast_retry())
        .build();
    let page = client(&server, runtime.clone())
        .list_accounts()
        .send_raw()
        .await
        .unwrap();
    assert!(page.into_inner().data.is_empty());
    assert_eq!(server.requests().len(), 2);
    assert_eq!(runtime.metrics().retries, 1);
    assert!(server
        .requests()
        .iter()
        .all(|r| r.target.starts_with("/accounts")));
}

#[tokio::test]
async fn a_burst_is_throttled_by_the_runtime() {
    let server = ScriptedServer::start(|_, _| Reply::json(200, ACCOUNTS))
        .await
        .unwrap();
    let limit =
        RateLimit::per_second(NonZeroU32::new(10).unwrap()).with_burst(NonZeroU32::new(2).unwrap());
    let runtime = client_core::Runtime::builder("pinwheel")
        .rate_limit(limit)
        .build();
    let client = client(&server, runtime.clone());
    let started = std::time::Instant::now();
    for _ in 0..5 {
        client.list_accounts().send_raw().await.unwrap();
    }
    // Two at once, three more 100 ms apart.
    assert!(
        started.elapsed() >= Duration::from_millis(290),
        "took {:?}",
        started.elapsed()
    );
    // How many waits that took depends on how fast this machine sends; the
    // time it took does not.
    assert!(runtime.metrics().throttled_waits <= 3);
}
