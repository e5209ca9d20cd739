//! The fault matrix of issue #7 for the Pinwheel client, on a scripted
//! loopback server whose n-th answer each test chooses: throttling with and
//! without `Retry-After`, 5xx bursts, resets in the middle of a body, headers
//! slower than the attempt timeout, broken and oversized bodies, wrong content
//! types and repeating cursors.
//!
//! Every case checks the typed error (variant, status, request id, attempts),
//! the requests the server saw (a POST that may have arrived is never sent
//! twice), and for listings every row by id, exactly once, in order.
//!
//! What a reset *during the body* does is decided by where the body is
//! read: the runtime's retry loop returns as soon as the headers
//! arrive, and the generated code reads the body afterwards, so a body that
//! breaks is a transport error of that one attempt and is not retried.

use pinwheel::Call;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use client_core::retry::GiveUpReason;
use client_core::testing::{Fault, Recorded, Reply, ScriptedServer};
use futures::StreamExt;
use pinwheel::client::REQUEST_ID_HEADER;
use pinwheel::retry::{CallOptions, RateLimit, RetryConfig};
use pinwheel::{Client, Error, types};
use serde_json::json;

use crate::support::{SECRET, account, ids};

/// The attempt timeout of the slow-headers cases; slow answers take
/// [`SLOW`], far longer, so the outcome never depends on scheduling.
const ATTEMPT_TIMEOUT: Duration = Duration::from_millis(250);
const SLOW: Duration = Duration::from_secs(2);

/// Retries in milliseconds, so a storm of three attempts takes no time.
fn fast_retry() -> RetryConfig {
    RetryConfig::default()
        .with_transient_base(Duration::from_millis(5))
        .with_throttle_base(Duration::from_millis(5))
        .with_max_backoff(Duration::from_millis(20))
        .with_retry_after_cap(Duration::from_millis(50))
}

/// A client for `server`. The rate limit is generous, but its penalty
/// matters: after a 429 without `Retry-After` the runtime holds the key back
/// for the penalty (1 s without a configured limit), on top of the backoff.
fn client(server: &ScriptedServer) -> Client {
    Client::builder(SECRET)
        .base_url(server.url())
        .retry(fast_retry())
        .rate_limit(
            RateLimit::per_second(NonZeroU32::new(10_000).unwrap())
                .with_penalty(Duration::from_millis(5)),
        )
        .build()
        .unwrap()
}

/// A server answering the n-th request with `script(n)`, stamped with the
/// request id `req-<n>` so tests can tell which answer an error reports.
async fn scripted(script: impl Fn(usize) -> Reply + Send + Sync + 'static) -> ScriptedServer {
    ScriptedServer::start(move |n, _| script(n).header(REQUEST_ID_HEADER, format!("req-{n}")))
        .await
        .unwrap()
}

/// A page of accounts with these ids.
fn page(ids: &[String], next: Option<&str>) -> String {
    let data: Vec<_> = ids.iter().map(|id| account(id)).collect();
    json!({"data": data, "meta": {"count": ids.len(), "next_cursor": next}}).to_string()
}

/// A Pinwheel error body with `status`.
fn error(status: u16) -> Reply {
    let body = json!({"error": {
        "type": "UNKNOWN_ERROR", "code": "FAULT", "message": "injected", "status_code": status
    }});
    Reply::json(status, body.to_string())
}

fn throttled(retry_after: Option<&str>) -> Reply {
    match retry_after {
        Some(value) => error(429).header("retry-after", value),
        None => error(429),
    }
}

/// The variant's name, so tables can say which one they expect.
fn variant(error: &Error) -> &'static str {
    match error {
        Error::RateLimited { .. } => "RateLimited",
        Error::Server { .. } => "Server",
        Error::Transport { .. } => "Transport",
        Error::Decode { .. } => "Decode",
        Error::RepeatedCursor { .. } => "RepeatedCursor",
        Error::Interrupted { .. } => "Interrupted",
        Error::Api { .. } => "Api",
        _ => "other",
    }
}

fn account_ids(accounts: &[types::PayrollAccountObjResponse]) -> Vec<String> {
    accounts.iter().map(|a| a.id.unwrap().to_string()).collect()
}

type Accounts = pinwheel::Response<types::ListAccountsResponse>;

/// `GET /accounts` once, with `options`.
async fn list_accounts(
    server: &ScriptedServer,
    options: CallOptions,
) -> pinwheel::Result<Accounts> {
    let client = client(server);
    client.list_accounts().send_with(options).await
}

/// `POST /link_tokens` once.
async fn create_link_token(server: &ScriptedServer, options: CallOptions) -> pinwheel::Result<()> {
    let body: types::LinkTokenCreateV20250708 = serde_json::from_value(json!({
        "org_name": "Fintech.io", "solution": "Deposit Switch",
        "features": ["direct_deposit_switch"], "end_user_id": "u1"
    }))
    .unwrap();
    let client = client(server);
    client
        .create_link_token()
        .body(body)
        .send_with(options)
        .await
        .map(drop)
}

fn methods(requests: &[Recorded]) -> Vec<&str> {
    requests.iter().map(|r| r.method.as_str()).collect()
}

#[tokio::test]
async fn a_throttling_storm_that_ends_is_retried_to_success() {
    // `Retry-After: 1` is obeyed by the limiter (the key is held back for the
    // second the server asked for), so that row takes about two seconds.
    for retry_after in [Some("0"), Some("1"), None] {
        let server = scripted(move |n| match n {
            0 | 1 => throttled(retry_after),
            _ => Reply::json(200, page(&ids(0..2), None)),
        })
        .await;
        let response = list_accounts(&server, CallOptions::default())
            .await
            .unwrap_or_else(|e| panic!("Retry-After {retry_after:?}: {e:?}"));
        assert_eq!(account_ids(&response.data), ids(0..2), "{retry_after:?}");
        assert_eq!(response.attempts(), 3, "{retry_after:?}");
        assert_eq!(response.request_id(), Some("req-2"), "{retry_after:?}");
        assert_eq!(server.requests().len(), 3, "{retry_after:?}");
    }
}

#[tokio::test]
async fn a_throttling_storm_longer_than_the_attempts_is_rate_limited() {
    for (retry_after, expected) in [
        (Some("0"), Some(Duration::ZERO)),
        (Some("1"), Some(Duration::from_secs(1))),
        (None, None),
    ] {
        let server = scripted(move |_| throttled(retry_after)).await;
        let err = list_accounts(&server, CallOptions::default())
            .await
            .unwrap_err();
        assert_eq!(variant(&err), "RateLimited", "{retry_after:?}: {err:?}");
        assert_eq!(err.status(), Some(429));
        assert_eq!(err.request_id(), Some("req-2"), "the last answer's id");
        assert_eq!(err.code(), Some("FAULT"), "the body is kept");
        assert!(err.is_retryable());
        let context = err.context().unwrap();
        assert_eq!(context.attempts, 3, "{retry_after:?}");
        // The context keeps what the server asked for, not the capped wait.
        assert_eq!(context.retry_after, expected, "{retry_after:?}");
        assert_eq!(context.gave_up, Some(GiveUpReason::AttemptsExhausted));
        assert_eq!(server.requests().len(), 3, "{retry_after:?}");
    }
}

#[tokio::test]
async fn a_server_error_burst_is_retried_to_success() {
    for burst in [
        [500, 500],
        [502, 502],
        [503, 503],
        [504, 504],
        [500, 502],
        [503, 504],
    ] {
        let server = scripted(move |n| match burst.get(n) {
            // A gateway's HTML page, not a Pinwheel body, for the 502s.
            Some(502) => Reply::raw(502, "text/html", "<html>bad gateway</html>"),
            Some(&status) => error(status),
            None => Reply::json(200, page(&ids(0..1), None)),
        })
        .await;
        let response = list_accounts(&server, CallOptions::default())
            .await
            .unwrap_or_else(|e| panic!("{burst:?}: {e:?}"));
        assert_eq!(account_ids(&response.data), ids(0..1), "{burst:?}");
        assert_eq!(response.attempts(), 3, "{burst:?}");
        assert_eq!(server.requests().len(), 3, "{burst:?}");
    }
}

#[tokio::test]
async fn a_server_error_storm_is_a_server_error_with_the_last_status() {
    for status in [500, 502, 503, 504] {
        let server = scripted(move |_| error(status)).await;
        let err = list_accounts(&server, CallOptions::default())
            .await
            .unwrap_err();
        assert_eq!(variant(&err), "Server", "{status}: {err:?}");
        assert_eq!(err.status(), Some(status));
        assert_eq!(err.request_id(), Some("req-2"));
        assert_eq!(err.code(), Some("FAULT"));
        assert_eq!(err.context().unwrap().attempts, 3);
        assert_eq!(server.requests().len(), 3, "{status}");
    }
}

/// A POST that may have reached the server is sent exactly once, whatever
/// went wrong, and the error says what.
#[tokio::test]
async fn a_post_is_sent_once_whatever_the_fault() {
    let created = r#"{"data": {"id": "bd2c09e7-1303-46d5-87c0-0ffa572d7ae4"}}"#;
    let cases: [(&str, Reply, &str, Option<u16>); 7] = [
        ("503", error(503), "Server", Some(503)),
        ("500", error(500), "Server", Some(500)),
        ("429", throttled(Some("0")), "RateLimited", Some(429)),
        (
            "slow headers",
            Reply::json(200, created).delayed(SLOW),
            "Transport",
            None,
        ),
        (
            "reset mid-body",
            Reply::json(200, created).with_fault(Fault::ResetMidBody),
            "Transport",
            Some(200),
        ),
        (
            "closed without an answer",
            Reply::json(200, created).with_fault(Fault::Close),
            "Transport",
            None,
        ),
        (
            "truncated JSON",
            Reply::json(200, r#"{"data": {"id": "#),
            "Decode",
            Some(200),
        ),
    ];
    for (name, reply, expected, status) in cases {
        let server = scripted(move |_| reply.clone()).await;
        let options = CallOptions::default().with_attempt_timeout(ATTEMPT_TIMEOUT);
        let err = create_link_token(&server, options).await.unwrap_err();
        assert_eq!(variant(&err), expected, "{name}: {err:?}");
        assert_eq!(err.status(), status, "{name}");
        assert_eq!(err.context().unwrap().attempts, 1, "{name}");
        // Every outcome but a 200 would have been retried for a GET.
        let refused = (status != Some(200)).then_some(GiveUpReason::NotIdempotent);
        assert_eq!(err.context().unwrap().gave_up, refused, "{name}");
        assert_eq!(methods(&server.requests()), ["POST"], "{name}: sent once");
    }
}

#[tokio::test]
async fn a_reset_mid_body_is_a_transport_error_of_one_attempt() {
    let server =
        scripted(|_| Reply::json(200, page(&ids(0..4), None)).with_fault(Fault::ResetMidBody))
            .await;
    let err = list_accounts(&server, CallOptions::default())
        .await
        .unwrap_err();
    let Error::Transport { source, context } = &err else {
        panic!("{err:?}");
    };
    // reqwest reports the broken body as an error decoding it, caused by the body.
    assert!(source.is_decode(), "{source:?}");
    let cause = std::error::Error::source(source).and_then(|e| e.downcast_ref::<reqwest::Error>());
    assert!(cause.is_some_and(reqwest::Error::is_body), "{source:?}");
    // The headers arrived: the context has their status and request id.
    assert_eq!(context.status, Some(200));
    assert_eq!(err.request_id(), Some("req-0"));
    // The body is read after the runtime's retry loop returned: not retried.
    assert_eq!(context.attempts, 1);
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn headers_slower_than_the_attempt_timeout_are_retried_then_a_timeout() {
    let options = || CallOptions::default().with_attempt_timeout(ATTEMPT_TIMEOUT);

    // Slow every time: three attempts, then a transport error that says timeout.
    let server = scripted(|_| Reply::json(200, page(&ids(0..1), None)).delayed(SLOW)).await;
    let err = list_accounts(&server, options()).await.unwrap_err();
    let Error::Transport { source, context } = &err else {
        panic!("{err:?}");
    };
    assert!(source.is_timeout(), "{source:?}");
    assert_eq!(context.status, None, "no answer arrived");
    assert_eq!(context.attempts, 3);
    assert_eq!(context.gave_up, Some(GiveUpReason::AttemptsExhausted));
    assert_eq!(server.requests().len(), 3);

    // Slow once: the second attempt answers.
    let server = scripted(|n| {
        let reply = Reply::json(200, page(&ids(0..1), None));
        if n == 0 { reply.delayed(SLOW) } else { reply }
    })
    .await;
    let response = list_accounts(&server, options()).await.unwrap();
    assert_eq!(account_ids(&response.data), ids(0..1));
    assert_eq!(response.attempts(), 2);
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn a_connection_closed_without_an_answer_is_retried_for_a_get() {
    let server = scripted(|n| {
        if n == 0 {
            Reply::json(200, "{}").with_fault(Fault::Close)
        } else {
            Reply::json(200, page(&ids(0..1), None))
        }
    })
    .await;
    let response = list_accounts(&server, CallOptions::default())
        .await
        .unwrap();
    assert_eq!(account_ids(&response.data), ids(0..1));
    assert_eq!(response.attempts(), 2);
}

#[tokio::test]
async fn broken_success_bodies_are_decode_errors_with_the_body_start() {
    let html = "<html><head><title>Maintenance</title></head><body>Back soon</body></html>";
    let cases = [
        (
            "truncated JSON",
            Reply::json(200, r#"{"data": ["#),
            r#"{"data": ["#,
        ),
        (
            "malformed JSON",
            Reply::json(200, r#"{"data": nope}"#),
            r#"{"data": nope}"#,
        ),
        (
            "an HTML page with 200",
            Reply::raw(200, "text/html", html),
            html,
        ),
        ("an empty body", Reply::json(200, ""), ""),
    ];
    for (name, reply, snippet) in cases {
        let server = scripted(move |_| reply.clone()).await;
        let err = list_accounts(&server, CallOptions::default())
            .await
            .unwrap_err();
        let Error::Decode { source, context } = &err else {
            panic!("{name}: {err:?}");
        };
        assert_eq!(context.body_snippet.as_deref(), Some(snippet), "{name}");
        assert_eq!(context.status, Some(200), "{name}");
        assert_eq!(err.request_id(), Some("req-0"), "{name}");
        assert!(source.is_eof() || source.is_syntax(), "{name}: {source}");
        assert_eq!(server.requests().len(), 1, "{name}: not retried");
    }
}

/// progenitor decodes the declared JSON whatever the content type says, so
/// a valid body under a wrong (or no) content type is read normally.
#[tokio::test]
async fn a_wrong_content_type_over_valid_json_is_decoded() {
    for content_type in [
        Some("text/plain"),
        Some("text/html"),
        Some("application/octet-stream"),
        None,
    ] {
        let body = page(&ids(0..3), None);
        let server = scripted(move |_| {
            let mut reply = Reply::json(200, body.clone());
            reply.headers.clear();
            if let Some(content_type) = content_type {
                reply = reply.header("content-type", content_type);
            }
            reply
        })
        .await;
        let response = list_accounts(&server, CallOptions::default())
            .await
            .unwrap_or_else(|e| panic!("{content_type:?}: {e:?}"));
        assert_eq!(account_ids(&response.data), ids(0..3), "{content_type:?}");
    }
}

/// The generated client on a runtime whose JSON bodies are capped at `cap`
/// bytes. The wrapper has no setting for the cap (32 MiB), so the runtime is
/// built here; errors still go through the wrapper's mapping.
fn capped_api(server: &ScriptedServer, cap: usize) -> pinwheel_client::Client {
    let runtime = client_core::Runtime::builder("pinwheel")
        .retry(fast_retry())
        .request_id_header(http::HeaderName::from_static(REQUEST_ID_HEADER))
        .max_body_bytes(Some(cap))
        .build();
    pinwheel_client::Client::new_with_client(&server.url(), reqwest::Client::new(), runtime)
}

/// Whether an error or one of its sources says the body hit the cap.
fn hit_the_cap(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(error);
    while let Some(error) = current {
        if error.to_string().contains("length limit exceeded") {
            return true;
        }
        current = error.source();
    }
    false
}

#[tokio::test]
async fn a_body_over_the_cap_is_a_body_error_not_an_allocation() {
    const CAP: usize = 4 * 1024;
    let big = page(&ids(0..40), None);
    assert!(big.len() > 2 * CAP, "{}", big.len());
    let small = page(&ids(0..2), None);
    assert!(small.len() < CAP);
    let server =
        scripted(move |n| Reply::json(200, if n == 0 { &big } else { &small }.clone())).await;
    let api = capped_api(&server, CAP);

    let err = api.list_accounts().send().await.unwrap_err();
    let Error::Transport { source, context } = &err else {
        panic!("{err:?}");
    };
    assert!(hit_the_cap(source), "{source:?}");
    assert_eq!(context.status, Some(200));
    assert_eq!(context.attempts, 1);

    // The same client reads a body under the cap.
    let response = api.list_accounts().send().await.unwrap();
    assert_eq!(account_ids(&response.data), ids(0..2));
    assert_eq!(server.requests().len(), 2);
}

/// The cap is chosen by the response's content type, but the generated code
/// buffers a JSON operation's body whatever the content type says, so a
/// large body labelled as binary is read whole.
#[tokio::test]
async fn a_body_over_the_cap_is_cut_off_whatever_its_content_type() {
    const CAP: usize = 4 * 1024;
    let big = page(&ids(0..40), None);
    let server = scripted(move |_| Reply::raw(200, "application/octet-stream", big.clone())).await;
    let api = capped_api(&server, CAP);
    let result = api.list_accounts().send().await;
    match &result {
        Err(Error::Transport { source, .. }) => assert!(hit_the_cap(source), "{source:?}"),
        Err(other) => panic!("{other:?}"),
        Ok(response) => panic!(
            "a body over the {CAP} byte cap was read whole: {} accounts",
            response.data.len()
        ),
    }
}

/// A server whose `Retry-After` asks for an hour: the policy caps the wait
/// at `retry_after_cap` (50 ms here), so the call gives up within a moment.
#[tokio::test]
async fn a_long_retry_after_is_capped_by_the_policy() {
    let server = scripted(|_| throttled(Some("3600"))).await;
    let call = list_accounts(&server, CallOptions::default());
    let result = tokio::time::timeout(Duration::from_secs(10), call).await;
    let err = result
        .expect("the call waited for the server's hour, not the 50 ms cap")
        .unwrap_err();
    assert_eq!(variant(&err), "RateLimited");
    assert_eq!(server.requests().len(), 3);
}

/// A `Retry-After` too large for any clock must not bring the client down.
#[tokio::test]
async fn an_absurd_retry_after_does_not_panic() {
    let url = scripted(|_| throttled(Some("99999999999999999999"))).await;
    let call = tokio::spawn(async move {
        let result = list_accounts(&url, CallOptions::default()).await;
        result.map(drop).map_err(|e| variant(&e))
    });
    let outcome = tokio::time::timeout(Duration::from_secs(10), call).await;
    let joined = outcome.expect("the call ends");
    assert!(!joined.as_ref().is_err_and(|e| e.is_panic()), "{joined:?}");
    assert_eq!(joined.unwrap(), Err("RateLimited"));
}

// Listings.

/// Three pages of two accounts each, at cursors `None`, `c1`, `c2`.
fn all_rows() -> Vec<String> {
    ids(0..6)
}

fn page_index(request: &Recorded) -> usize {
    match request.query("cursor") {
        None => 0,
        Some("c1") => 1,
        Some("c2") => 2,
        Some(other) => panic!("unexpected cursor {other}"),
    }
}

/// A server of the three pages whose `fault(page, attempt)` (attempts count
/// from 1 per page) may replace an answer.
async fn paged_server(
    fault: impl Fn(usize, usize) -> Option<Reply> + Send + Sync + 'static,
) -> ScriptedServer {
    let attempts = std::sync::Mutex::new([0usize; 3]);
    ScriptedServer::start(move |n, request| {
        let index = page_index(request);
        let attempt = {
            let mut attempts = attempts.lock().unwrap();
            attempts[index] += 1;
            attempts[index]
        };
        let reply = fault(index, attempt).unwrap_or_else(|| {
            let next = [Some("c1"), Some("c2"), None][index];
            Reply::json(200, page(&all_rows()[index * 2..index * 2 + 2], next))
        });
        reply.header(REQUEST_ID_HEADER, format!("req-{n}"))
    })
    .await
    .unwrap()
}

/// The pages each request asked for, in order.
fn pages_requested(server: &ScriptedServer) -> Vec<usize> {
    server.requests().iter().map(page_index).collect()
}

/// Walks the accounts listing from `start`; returns the ids and the error
/// that ended it. Fails if anything follows an error or the walk hangs.
async fn walk(client: &Client, start: Option<&str>) -> (Vec<String>, Option<Error>) {
    let mut listing = client
        .accounts()
        .limit(2)
        .unwrap()
        .call_options(CallOptions::default().with_attempt_timeout(ATTEMPT_TIMEOUT));
    if let Some(cursor) = start {
        listing = listing.resume_from(cursor);
    }
    let items = tokio::time::timeout(Duration::from_secs(20), listing.items().collect::<Vec<_>>())
        .await
        .unwrap_or_else(|_| panic!("the listing did not end"));
    let mut rows = Vec::new();
    let mut error = None;
    for item in items {
        assert!(error.is_none(), "an item after the error: {item:?}");
        match item {
            Ok(account) => rows.push(account.id.unwrap().to_string()),
            Err(err) => error = Some(err),
        }
    }
    (rows, error)
}

#[tokio::test]
async fn a_listing_recovers_from_faults_without_losing_or_repeating_rows() {
    // (fault on page 2's first attempt, fault on page 3's first attempt)
    let cases: [(&str, Reply, Reply); 4] = [
        ("503 then 429", error(503), throttled(None)),
        (
            "500 then 429 with Retry-After",
            error(500),
            throttled(Some("0")),
        ),
        (
            "slow headers then a closed connection",
            Reply::json(200, "{}").delayed(SLOW),
            Reply::json(200, "{}").with_fault(Fault::Close),
        ),
        ("502 then 504", error(502), error(504)),
    ];
    for (name, second, third) in cases {
        let server = paged_server(move |index, attempt| match (index, attempt) {
            (1, 1) => Some(second.clone()),
            (2, 1) => Some(third.clone()),
            _ => None,
        })
        .await;
        let (rows, err) = walk(&client(&server), None).await;
        assert!(err.is_none(), "{name}: {err:?}");
        assert_eq!(rows, all_rows(), "{name}: every row once, in order");
        assert_eq!(pages_requested(&server), [0, 1, 1, 2, 2], "{name}");
    }
}

/// A page that fails for good ends the listing with one `Interrupted` item
/// after the rows before it; resuming from its cursor delivers the rest, so
/// each row arrives once across both walks.
#[tokio::test]
async fn a_page_that_fails_for_good_interrupts_the_listing_and_resume_completes_it() {
    let rows = all_rows();
    let cases: [(&str, Reply, &str, Option<u16>, u32); 5] = [
        (
            "reset mid-body",
            Reply::json(200, page(&rows[2..4], Some("c2"))).with_fault(Fault::ResetMidBody),
            "Transport",
            Some(200),
            1,
        ),
        ("503 storm", error(503), "Server", Some(503), 3),
        (
            "429 storm",
            throttled(Some("0")),
            "RateLimited",
            Some(429),
            3,
        ),
        (
            "truncated JSON",
            Reply::json(200, r#"{"data": ["#),
            "Decode",
            Some(200),
            1,
        ),
        (
            "slow headers",
            Reply::json(200, "{}").delayed(SLOW),
            "Transport",
            None,
            3,
        ),
    ];
    for (name, fault, expected, status, attempts) in cases {
        // Page 2 fails on every attempt until the server heals.
        let healed = Arc::new(AtomicBool::new(false));
        let broken = Arc::clone(&healed);
        let server = paged_server(move |index, _| {
            (index == 1 && !broken.load(Ordering::SeqCst)).then(|| fault.clone())
        })
        .await;
        let client = client(&server);
        let (mut seen, err) = walk(&client, None).await;
        assert_eq!(seen, rows[..2], "{name}: the first page, once");
        let err = err.unwrap_or_else(|| panic!("{name}: the failure is an item"));
        assert!(
            matches!(err, Error::Interrupted { pages: 1, .. }),
            "{name}: {err:?}"
        );
        assert_eq!(variant(err.root()), expected, "{name}: {err:?}");
        assert_eq!(err.status(), status, "{name}");
        assert_eq!(err.context().unwrap().attempts, attempts, "{name}");
        assert_eq!(err.resume_cursor(), Some("c1"), "{name}");
        let first_walk = server.requests().len();

        healed.store(true, Ordering::SeqCst);
        let (rest, err) = walk(&client, err.resume_cursor()).await;
        assert!(err.is_none(), "{name}: {err:?}");
        seen.extend(rest);
        assert_eq!(seen, rows, "{name}: no row lost or repeated");
        let resumed = &pages_requested(&server)[first_walk..];
        assert_eq!(resumed.first(), Some(&1), "{name}: resumed at page 2");
        assert!(!resumed.contains(&0), "{name}: page 1 not fetched again");
    }
}

/// Page 2 names itself as the next page: the listing delivers pages 1 and 2
/// once each and stops with `RepeatedCursor` instead of looping.
#[tokio::test]
async fn a_repeated_cursor_ends_the_listing_after_each_row_once() {
    let server = paged_server(|index, _| {
        (index == 1).then(|| Reply::json(200, page(&all_rows()[2..4], Some("c1"))))
    })
    .await;
    let (rows, err) = walk(&client(&server), None).await;
    assert_eq!(rows, all_rows()[..4]);
    let err = err.expect("the repeat is reported");
    assert!(
        matches!(&err, Error::RepeatedCursor { cursor, .. } if cursor == "c1"),
        "{err:?}"
    );
    assert_eq!(err.status(), Some(200));
    assert_eq!(err.request_id(), Some("req-1"), "the page that repeated it");
    assert_eq!(pages_requested(&server), [0, 1]);
}

/// A server that ignores the cursor serves page 1 again for `c1`, naming
/// `c1` again: the rows of page 1 must not be delivered twice.
#[tokio::test]
async fn a_server_that_ignores_the_cursor_does_not_duplicate_rows() {
    let rows = all_rows();
    let first = rows[..2].to_vec();
    let server = scripted(move |_| Reply::json(200, page(&first, Some("c1")))).await;
    let (seen, err) = walk(&client(&server), None).await;
    assert!(matches!(err, Some(Error::RepeatedCursor { .. })), "{err:?}");
    assert_eq!(seen, rows[..2], "the rows of page 1, once");
    assert_eq!(server.requests().len(), 2);
}
