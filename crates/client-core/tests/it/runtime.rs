//! Each test scripts the server's answers and checks what the runtime sent,
//! how often, and what it reported.

use std::num::NonZeroU32;
use std::time::{Duration, Instant};

use client_core::call::{CallOptions, with_call};
use client_core::rate::RateLimit;
use client_core::retry::{GiveUpReason, RetryBudget, RetryConfig};
use client_core::testing::{Reply, ScriptedServer};
use client_core::{Operation, Runtime, SecretHeader, SecretString};
use http::HeaderName;

static GET_THING: Operation = Operation {
    id: "get_thing",
    method: "GET",
    path: "/thing",
    extensions: &[],
};
static POST_THING: Operation = Operation {
    id: "post_thing",
    method: "POST",
    path: "/thing",
    extensions: &[],
};

/// Fast backoff so retry tests take milliseconds; jitter fixed at the top of the window.
fn fast_retry() -> RetryConfig {
    RetryConfig::default()
        .with_transient_base(Duration::from_millis(10))
        .with_throttle_base(Duration::from_millis(10))
        .with_max_backoff(Duration::from_millis(50))
}

fn runtime() -> client_core::RuntimeBuilder {
    Runtime::builder("test")
        .retry(fast_retry())
        .fixed_jitter(u32::MAX)
}

async fn get(
    runtime: &Runtime,
    server: &ScriptedServer,
) -> (
    reqwest::Result<reqwest::Response>,
    client_core::call::CallReport,
) {
    let http = reqwest::Client::new();
    let request = http.get(format!("{}/thing", server.url())).build().unwrap();
    let (result, report) = with_call(
        CallOptions::default(),
        runtime.exec(&http, request, &GET_THING),
    )
    .await;
    (result.unwrap(), report)
}

#[tokio::test]
async fn a_429_with_retry_after_is_waited_out_then_succeeds() {
    let server = ScriptedServer::start(|n, _| match n {
        0 => Reply::json(429, r#"{"Message": "slow down"}"#).header("retry-after", "1"),
        _ => Reply::json(200, "{}"),
    })
    .await
    .unwrap();
    let runtime = runtime().build();
    let started = Instant::now();
    let (result, report) = get(&runtime, &server).await;
    assert_eq!(result.unwrap().status(), 200);
    assert_eq!(report.attempts, 2);
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "waited {:?}",
        started.elapsed()
    );
    assert_eq!(runtime.metrics().responses_429, 1);
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn a_503_twice_then_200_is_retried_to_success() {
    let server = ScriptedServer::start(|n, _| {
        if n < 2 {
            Reply::json(503, "{}")
        } else {
            Reply::json(200, r#"{"ok": true}"#)
        }
    })
    .await
    .unwrap();
    let runtime = runtime().build();
    let (result, report) = get(&runtime, &server).await;
    assert_eq!(result.unwrap().text().await.unwrap(), r#"{"ok": true}"#);
    assert_eq!(report.attempts, 3);
    assert_eq!(report.gave_up, None);
    let metrics = runtime.metrics();
    assert_eq!(
        (metrics.calls, metrics.attempts, metrics.retries),
        (1, 3, 2)
    );
}

#[tokio::test]
async fn a_post_answered_500_is_not_replayed() {
    let server = ScriptedServer::start(|_, _| Reply::json(500, "{}"))
        .await
        .unwrap();
    let runtime = runtime().build();
    let http = reqwest::Client::new();
    let request = http
        .post(format!("{}/thing", server.url()))
        .body("{}")
        .build()
        .unwrap();
    let (result, report) = with_call(
        CallOptions::default(),
        runtime.exec(&http, request, &POST_THING),
    )
    .await;
    assert_eq!(result.unwrap().unwrap().status(), 500);
    assert_eq!(
        server.requests().len(),
        1,
        "the server saw the POST exactly once"
    );
    assert_eq!(report.gave_up, Some(GiveUpReason::NotIdempotent));

    // A call that knows a repeat is harmless may opt in.
    let request = http
        .post(format!("{}/thing", server.url()))
        .body("{}")
        .build()
        .unwrap();
    let options = CallOptions::default().with_replay_non_idempotent(true);
    let (_, report) = with_call(options, runtime.exec(&http, request, &POST_THING)).await;
    assert_eq!(report.attempts, 3);
    assert_eq!(server.requests().len(), 4);
}

#[tokio::test]
async fn an_exhausted_retry_budget_stops_retries() {
    let server = ScriptedServer::start(|_, _| Reply::json(503, "{}"))
        .await
        .unwrap();
    // 10 tokens pay for two retries at 5 each.
    let runtime = runtime()
        .retry(fast_retry().with_max_attempts(10))
        .retry_budget(RetryBudget::new(10))
        .build();
    let (_, first) = get(&runtime, &server).await;
    assert_eq!(first.attempts, 3);
    assert_eq!(first.gave_up, Some(GiveUpReason::BudgetExhausted));
    let (_, second) = get(&runtime, &server).await;
    assert_eq!(second.attempts, 1, "no budget left: no retry at all");
    assert_eq!(server.requests().len(), 4);
}

#[tokio::test]
async fn a_burst_is_held_to_the_configured_rate() {
    let server = ScriptedServer::start(|_, _| Reply::json(200, "{}"))
        .await
        .unwrap();
    let limit =
        RateLimit::per_second(NonZeroU32::new(20).unwrap()).with_burst(NonZeroU32::new(1).unwrap());
    let runtime = runtime().rate_limit(limit).build();
    let started = Instant::now();
    for _ in 0..6 {
        get(&runtime, &server).await.0.unwrap();
    }
    // One at once, then five more at 50 ms intervals: the server sees the
    // sixth at least 250 ms after the first. (How often the limiter had to
    // wait depends on how fast this machine sends: a loaded one needs fewer
    // waits for the same rate, so the waits are not what is checked.)
    let arrivals = server.arrivals();
    assert_eq!(arrivals.len(), 6);
    let span = arrivals[5].duration_since(arrivals[0]);
    assert!(
        span >= Duration::from_millis(240),
        "six requests in {span:?}"
    );
    assert!(started.elapsed() >= Duration::from_millis(240));
}

#[tokio::test]
async fn remaining_zero_from_the_server_slows_the_limiter() {
    let server = ScriptedServer::start(|n, _| {
        let remaining = if n == 0 { "0" } else { "99" };
        Reply::json(200, "{}")
            .header("x-ratelimit-limit", "100")
            .header("x-ratelimit-remaining", remaining)
    })
    .await
    .unwrap();
    // The server says the window is spent; with no reset header the key waits the penalty.
    let limit = RateLimit::per_minute(NonZeroU32::new(100).unwrap())
        .with_penalty(Duration::from_millis(400));
    let runtime = runtime().rate_limit(limit).build();
    get(&runtime, &server).await.0.unwrap();
    let started = Instant::now();
    let (_, report) = get(&runtime, &server).await;
    assert!(
        started.elapsed() >= Duration::from_millis(380),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(report.throttled_waits, 1);
}

/// A server that answers `{}` after 300 ms.
async fn slow_server() -> ScriptedServer {
    ScriptedServer::start(|_, _| Reply::json(200, "{}").delayed(Duration::from_millis(300)))
        .await
        .unwrap()
}

#[tokio::test]
async fn slow_headers_time_the_attempt_out_and_a_deadline_bounds_the_call() {
    let server = slow_server().await;
    let runtime = runtime().attempt_timeout(Duration::from_millis(50)).build();
    let (result, report) = get(&runtime, &server).await;
    assert!(result.unwrap_err().is_timeout());
    assert_eq!(report.attempts, 3, "timeouts of a GET are retried");

    let http = reqwest::Client::new();
    let request = http.get(format!("{}/thing", server.url())).build().unwrap();
    let runtime = runtime_without_timeout();
    let options = CallOptions::default().with_deadline(Duration::from_millis(100));
    let (result, _) = with_call(options, runtime.exec(&http, request, &GET_THING)).await;
    assert_eq!(result.unwrap_err().deadline, Duration::from_millis(100));
}

/// The attempt timeout is the runtime's, whatever client it is handed: a
/// runtime from `ClientSettings::connect`, used with another client than
/// the connection's, still overrides that client's own shorter timeout.
#[tokio::test]
async fn the_attempt_timeout_holds_on_a_client_with_another_one() {
    let server = slow_server().await;
    let mut settings = client_core::settings::ClientSettings::new("test", fast_retry());
    settings.base_url = Some(server.url());
    settings.attempt_timeout = Some(Duration::from_secs(5));
    let connection = settings
        .connect(
            Runtime::builder("test"),
            "http://127.0.0.1:1",
            RateLimit::per_second(NonZeroU32::new(1000).unwrap()),
        )
        .unwrap();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_millis(50))
        .build()
        .unwrap();
    let request = http.get(format!("{}/thing", server.url())).build().unwrap();
    let (result, report) = with_call(
        CallOptions::default(),
        connection.runtime.exec(&http, request, &GET_THING),
    )
    .await;
    assert_eq!(result.unwrap().unwrap().status(), 200);
    assert_eq!(report.attempts, 1);
}

fn runtime_without_timeout() -> Runtime {
    Runtime::builder("test").retry(fast_retry()).build()
}

#[tokio::test]
async fn a_streamed_body_is_sent_once_and_says_why() {
    let server = ScriptedServer::start(|_, _| Reply::json(503, "{}"))
        .await
        .unwrap();
    let runtime = runtime().build();
    let http = reqwest::Client::new();
    let chunks = futures::stream::iter(vec![Ok::<_, std::io::Error>(bytes::Bytes::from_static(
        b"{}",
    ))]);
    let request = http
        .put(format!("{}/thing", server.url()))
        .body(reqwest::Body::wrap_stream(chunks))
        .build()
        .unwrap();
    let (_, report) = with_call(
        CallOptions::default(),
        runtime.exec(&http, request, &GET_THING),
    )
    .await;
    assert_eq!(report.attempts, 1);
    assert_eq!(report.gave_up, Some(GiveUpReason::BodyNotReplayable));
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn secrets_reach_the_wire_but_never_debug_output() {
    let server =
        ScriptedServer::start(|_, _| Reply::json(200, "{}").header("x-request-id", "req-42"))
            .await
            .unwrap();
    let secret = SecretHeader::new(
        HeaderName::from_static("x-api-secret"),
        SecretString::from("s3cr3t-value"),
    )
    .unwrap();
    let runtime = runtime()
        .secret_header(secret.clone())
        .request_id_header(HeaderName::from_static("x-request-id"))
        .build();
    let (_, report) = get(&runtime, &server).await;
    assert_eq!(
        server.requests()[0].header("x-api-secret"),
        Some("s3cr3t-value")
    );
    assert_eq!(server.requests()[0].header("api-version"), None);
    assert_eq!(report.request_id.as_deref(), Some("req-42"));
    for shown in [
        format!("{runtime:?}"),
        format!("{secret:?}"),
        format!("{:?}", runtime.clone()),
    ] {
        assert!(!shown.contains("s3cr3t-value"), "{shown}");
        assert!(
            shown.contains("redacted") || !shown.contains("x-api-secret:"),
            "{shown}"
        );
    }
    // The limiter key is a fingerprint, never the secret.
    assert!(!runtime.limiter_key().contains("s3cr3t"));
}

#[tokio::test]
async fn an_enormous_json_body_is_cut_off_not_buffered() {
    let huge = format!("[{}0]", "0,".repeat(600_000));
    let server = ScriptedServer::start(move |_, _| Reply::json(200, huge.clone()))
        .await
        .unwrap();
    let runtime = runtime().max_body_bytes(Some(64 * 1024)).build();
    let (result, _) = get(&runtime, &server).await;
    let error = result.unwrap().bytes().await.unwrap_err();
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&error);
    let mut found = false;
    while let Some(current) = source {
        found |= current.is::<http_body_util::LengthLimitError>();
        source = current.source();
    }
    assert!(found, "the error says the body was too large: {error:?}");

    // A JSON request is capped whatever the server labels its body.
    let bytes = vec![7u8; 200 * 1024];
    let octets = bytes.clone();
    let server = ScriptedServer::start(move |_, _| {
        Reply::raw(200, "application/octet-stream", octets.clone())
    })
    .await
    .unwrap();
    let http = reqwest::Client::new();
    let json = http
        .get(format!("{}/thing", server.url()))
        .header("accept", "application/json")
        .build()
        .unwrap();
    let response = runtime.exec(&http, json, &GET_THING).await.unwrap();
    assert!(response.bytes().await.is_err());

    // A download, which asks for octets, streams whole.
    let download = http
        .get(format!("{}/thing", server.url()))
        .header("accept", "application/octet-stream")
        .build()
        .unwrap();
    let response = runtime.exec(&http, download, &GET_THING).await.unwrap();
    assert_eq!(response.bytes().await.unwrap().len(), bytes.len());
}
