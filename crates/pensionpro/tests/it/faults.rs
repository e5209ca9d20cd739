//! The fault matrix of issue #7 for the PensionPro client, on a scripted
//! loopback server whose n-th answer each test chooses: throttling with and
//! without `Retry-After`, 5xx bursts, resets in the middle of a body, headers
//! slower than the attempt timeout, broken and oversized bodies, wrong content
//! types, and a server that ignores `$skip`.
//!
//! Every case checks the typed error (variant, status, attempts), the
//! requests the server saw (a POST that may have arrived is never sent
//! twice), and for walks every row by `Id`, exactly once, in order.
//!
//! The runtime's retry loop returns as soon as the headers arrive and the
//! generated code reads the body afterwards, so a body that breaks is a
//! transport error of that one attempt and is not retried.

use pensionpro::Call;
use std::collections::HashMap;
use std::num::{NonZeroU32, NonZeroUsize};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use client_core::rate::RateLimit;
use client_core::retry::{GiveUpReason, RetryConfig};
use client_core::testing::{Fault, Recorded, Reply, ScriptedServer};
use futures::StreamExt;
use pensionpro::pagination::{PageOptions, ResumePoint};
use pensionpro::{Client, Error, Query, types};
use serde_json::json;

use crate::support::{KEY, USER};

/// The attempt timeout of every call here; slow answers take [`SLOW`], far
/// longer, so the outcome never depends on scheduling.
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

/// A client for `server`. The limit is generous, but its penalty matters:
/// after a 429 without `Retry-After` the runtime holds the key back for the
/// penalty (the plan's whole minute by default), on top of the backoff.
fn client(server: &ScriptedServer) -> Client {
    Client::builder()
        .api_key(KEY)
        .username(USER)
        .base_url(server.url())
        .rate_limit(
            RateLimit::per_second(NonZeroU32::new(10_000).unwrap())
                .with_penalty(Duration::from_millis(5)),
        )
        .retry(fast_retry())
        .attempt_timeout(ATTEMPT_TIMEOUT)
        .build()
        .unwrap()
}

async fn scripted(script: impl Fn(usize) -> Reply + Send + Sync + 'static) -> ScriptedServer {
    ScriptedServer::start(move |n, _| script(n)).await.unwrap()
}

/// PensionPro's error body.
fn error(status: u16) -> Reply {
    Reply::json(status, r#"{"Message": "injected fault"}"#)
}

fn throttled(retry_after: Option<&str>) -> Reply {
    match retry_after {
        Some(value) => error(429).header("retry-after", value),
        None => error(429),
    }
}

fn plan(id: i64) -> serde_json::Value {
    json!({"Id": id, "Name": format!("Plan {id}")})
}

/// The variant's name, so tables can say which one they expect.
fn variant(error: &Error) -> &'static str {
    match error.root() {
        Error::RateLimited { .. } => "RateLimited",
        Error::Server { .. } => "Server",
        Error::Transport { .. } => "Transport",
        Error::Decode { .. } => "Decode",
        Error::Api { .. } => "Api",
        _ => "other",
    }
}

/// `GET /v2/plans/7` once.
async fn get_plan(server: &ScriptedServer) -> pensionpro::Result<types::Plan> {
    let client = client(server);
    client
        .get_plan()
        .plan_id(7)
        .send()
        .await
        .map(pensionpro::Response::into_inner)
}

/// `POST /v2/notes` once.
async fn create_note(server: &ScriptedServer) -> pensionpro::Result<()> {
    let note: types::NoteCreate =
        serde_json::from_value(json!({"NoteText": "hello", "PlanId": 7})).unwrap();
    let client = client(server);
    client.create_note().body(note).send().await.map(drop)
}

fn ok_plan() -> Reply {
    Reply::json(200, plan(7).to_string())
}

#[tokio::test]
async fn a_throttling_storm_that_ends_is_retried_to_success() {
    // `Retry-After: 1` is obeyed by the limiter (the key is held back for the
    // second the server asked for), so that row takes about two seconds.
    for retry_after in [Some("0"), Some("1"), None] {
        let server = scripted(move |n| {
            if n < 2 {
                throttled(retry_after)
            } else {
                ok_plan()
            }
        })
        .await;
        let plan = get_plan(&server)
            .await
            .unwrap_or_else(|e| panic!("Retry-After {retry_after:?}: {e:?}"));
        assert_eq!(plan.id, Some(7));
        assert_eq!(server.requests().len(), 3, "{retry_after:?}");
    }
}

#[tokio::test]
async fn a_throttling_storm_longer_than_the_attempts_is_rate_limited() {
    for (header, expected) in [
        (Some("0"), Some(Duration::ZERO)),
        (Some("1"), Some(Duration::from_secs(1))),
        (None, None),
    ] {
        let server = scripted(move |_| throttled(header)).await;
        let err = get_plan(&server).await.unwrap_err();
        let Error::RateLimited {
            message,
            retry_after,
            context,
        } = &err
        else {
            panic!("{header:?}: {err:?}");
        };
        assert_eq!(message.as_deref(), Some("injected fault"));
        // What the server asked for, not the capped wait.
        assert_eq!(*retry_after, expected, "{header:?}");
        assert_eq!(context.retry_after, expected, "{header:?}");
        assert_eq!(context.status, Some(429));
        assert_eq!(context.attempts, 3, "{header:?}");
        assert_eq!(context.gave_up, Some(GiveUpReason::AttemptsExhausted));
        assert_eq!(context.operation_id, "get_plan");
        assert_eq!(server.requests().len(), 3, "{header:?}");
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
            // A gateway's HTML page, not a PensionPro body, for the 502s.
            Some(502) => Reply::raw(502, "text/html", "<html>bad gateway</html>"),
            Some(&status) => error(status),
            None => ok_plan(),
        })
        .await;
        let plan = get_plan(&server)
            .await
            .unwrap_or_else(|e| panic!("{burst:?}: {e:?}"));
        assert_eq!(plan.id, Some(7));
        assert_eq!(server.requests().len(), 3, "{burst:?}");
    }
}

#[tokio::test]
async fn a_server_error_storm_is_a_server_error_with_the_last_status() {
    for status in [500, 502, 503, 504] {
        let server = scripted(move |_| error(status)).await;
        let err = get_plan(&server).await.unwrap_err();
        let Error::Server {
            status: reported,
            message,
            context,
        } = &err
        else {
            panic!("{status}: {err:?}");
        };
        assert_eq!(*reported, status);
        assert_eq!(err.status(), Some(status));
        assert_eq!(message.as_deref(), Some("injected fault"));
        assert_eq!(context.attempts, 3);
        assert_eq!(server.requests().len(), 3, "{status}");
    }
}

/// A POST that may have reached the server is sent exactly once, whatever
/// went wrong, and the error says what.
#[tokio::test]
async fn a_post_is_sent_once_whatever_the_fault() {
    let created = r#"{"Id": 1, "NoteText": "hello"}"#;
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
            Reply::json(200, r#"{"Id": 1, "No"#),
            "Decode",
            Some(200),
        ),
    ];
    for (name, reply, expected, status) in cases {
        let server = scripted(move |_| reply.clone()).await;
        let err = create_note(&server).await.unwrap_err();
        assert_eq!(variant(&err), expected, "{name}: {err:?}");
        assert_eq!(err.status(), status, "{name}");
        assert_eq!(err.context().unwrap().attempts, 1, "{name}");
        // Every outcome but a 200 would have been retried for a GET.
        let refused = (status != Some(200)).then_some(GiveUpReason::NotIdempotent);
        assert_eq!(err.context().unwrap().gave_up, refused, "{name}");
        let methods: Vec<_> = server.requests().into_iter().map(|r| r.method).collect();
        assert_eq!(methods, ["POST"], "{name}: sent once");
    }
}

#[tokio::test]
async fn a_reset_mid_body_is_a_transport_error_of_one_attempt() {
    let server = scripted(|_| ok_plan().with_fault(Fault::ResetMidBody)).await;
    let err = get_plan(&server).await.unwrap_err();
    let Error::Transport { source, context } = &err else {
        panic!("{err:?}");
    };
    // reqwest reports the broken body as an error decoding it, caused by the body.
    assert!(source.is_decode(), "{source:?}");
    let cause = std::error::Error::source(source).and_then(|e| e.downcast_ref::<reqwest::Error>());
    assert!(cause.is_some_and(reqwest::Error::is_body), "{source:?}");
    // The headers arrived; the body is read after the retry loop returned.
    assert_eq!(context.status, Some(200));
    assert_eq!(context.attempts, 1);
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn headers_slower_than_the_attempt_timeout_are_retried_then_a_timeout() {
    let server = scripted(|_| ok_plan().delayed(SLOW)).await;
    let err = get_plan(&server).await.unwrap_err();
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
        if n == 0 {
            ok_plan().delayed(SLOW)
        } else {
            ok_plan()
        }
    })
    .await;
    assert_eq!(get_plan(&server).await.unwrap().id, Some(7));
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn a_connection_closed_without_an_answer_is_retried_for_a_get() {
    let server = scripted(|n| {
        if n == 0 {
            ok_plan().with_fault(Fault::Close)
        } else {
            ok_plan()
        }
    })
    .await;
    assert_eq!(get_plan(&server).await.unwrap().id, Some(7));
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn broken_success_bodies_are_decode_errors_with_the_body_start() {
    let html = "<html><head><title>Maintenance</title></head><body>Back soon</body></html>";
    let cases = [
        (
            "truncated JSON",
            Reply::json(200, r#"{"Id": 7, "Na"#),
            r#"{"Id": 7, "Na"#,
        ),
        (
            "malformed JSON",
            Reply::json(200, r#"{"Id": seven}"#),
            r#"{"Id": seven}"#,
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
        let err = get_plan(&server).await.unwrap_err();
        let Error::Decode { source, context } = &err else {
            panic!("{name}: {err:?}");
        };
        assert_eq!(context.body_snippet.as_deref(), Some(snippet), "{name}");
        assert_eq!(context.status, Some(200), "{name}");
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
        let server = scripted(move |_| {
            let mut reply = ok_plan();
            reply.headers.clear();
            if let Some(content_type) = content_type {
                reply = reply.header("content-type", content_type);
            }
            reply
        })
        .await;
        let plan = get_plan(&server)
            .await
            .unwrap_or_else(|e| panic!("{content_type:?}: {e:?}"));
        assert_eq!(plan.id, Some(7), "{content_type:?}");
    }
}

/// The generated client on a runtime whose JSON bodies are capped at `cap`
/// bytes. The wrapper has no setting for the cap (32 MiB), so the runtime is
/// built here; errors still go through the wrapper's mapping.
fn capped_api(server: &ScriptedServer, cap: usize) -> pensionpro_client::Client {
    let runtime = client_core::Runtime::builder("pensionpro")
        .retry(fast_retry())
        .max_body_bytes(Some(cap))
        .build();
    pensionpro_client::Client::new_with_client(&server.url(), reqwest::Client::new(), runtime)
}

/// Whether an error or one of its sources says the body hit the cap.
fn hit_the_cap(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(error);
    while let Some(error) = current {
        if error.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        current = error.source();
    }
    false
}

/// A plan whose name makes the body about `bytes` long.
fn big_plan(bytes: usize) -> String {
    json!({"Id": 7, "Name": "x".repeat(bytes)}).to_string()
}

#[tokio::test]
async fn a_body_over_the_cap_is_a_body_error_not_an_allocation() {
    const CAP: usize = 4 * 1024;
    let server = scripted(|n| {
        let body = if n == 0 {
            big_plan(4 * CAP)
        } else {
            big_plan(CAP / 2)
        };
        Reply::json(200, body)
    })
    .await;
    let api = capped_api(&server, CAP);

    let err = api.get_plan().plan_id(7).send().await.unwrap_err();
    let Error::Transport { source, context } = &err else {
        panic!("{err:?}");
    };
    assert!(hit_the_cap(source), "{source:?}");
    assert_eq!(context.status, Some(200));
    assert_eq!(context.attempts, 1);

    // The same client reads a body under the cap.
    let plan = api.get_plan().plan_id(7).send().await.unwrap();
    assert_eq!(plan.name.as_ref().map(String::len), Some(CAP / 2));
    assert_eq!(server.requests().len(), 2);
}

/// The cap is chosen by the response's content type, but the generated code
/// buffers a JSON operation's body whatever the content type says, so a
/// large body labelled as binary is read whole.
#[tokio::test]
async fn a_body_over_the_cap_is_cut_off_whatever_its_content_type() {
    const CAP: usize = 4 * 1024;
    let server = scripted(|_| Reply::raw(200, "application/octet-stream", big_plan(4 * CAP))).await;
    let api = capped_api(&server, CAP);
    let result = api.get_plan().plan_id(7).send().await;
    match &result {
        Err(Error::Transport { source, .. }) => assert!(hit_the_cap(source), "{source:?}"),
        Err(other) => panic!("{other:?}"),
        Ok(plan) => panic!(
            "a body over the {CAP} byte cap was read whole: a name of {} bytes",
            plan.name.as_ref().map_or(0, String::len)
        ),
    }
}

/// A server whose `Retry-After` asks for an hour: the policy caps the wait
/// at `retry_after_cap` (50 ms here), so the call gives up within a moment.
#[tokio::test]
async fn a_long_retry_after_is_capped_by_the_policy() {
    let server = scripted(|_| throttled(Some("3600"))).await;
    let result = tokio::time::timeout(Duration::from_secs(10), get_plan(&server)).await;
    let err = result
        .expect("the call waited for the server's hour, not the 50 ms cap")
        .unwrap_err();
    assert_eq!(variant(&err), "RateLimited");
    assert_eq!(server.requests().len(), 3);
}

/// Budget headers too large for any clock must not bring the client down:
/// an absurd `Retry-After` on a 429, or an absurd reset with nothing left.
#[tokio::test]
async fn absurd_rate_limit_headers_do_not_panic() {
    let absurd = "99999999999999999999";
    let cases = [
        ("Retry-After", throttled(Some(absurd)), Err("RateLimited")),
        (
            "x-ratelimit-reset",
            ok_plan()
                .header("x-ratelimit-limit", "100")
                .header("x-ratelimit-remaining", "0")
                // `u64::MAX` seconds: the largest value the header parser accepts.
                .header("x-ratelimit-reset", u64::MAX.to_string()),
            Ok(Some(7)),
        ),
    ];
    for (name, reply, expected) in cases {
        let server = scripted(move |_| reply.clone()).await;
        let call = tokio::spawn(async move {
            let result = get_plan(&server).await;
            result.map(|plan| plan.id).map_err(|e| variant(&e))
        });
        let joined = tokio::time::timeout(Duration::from_secs(10), call)
            .await
            .unwrap_or_else(|_| panic!("{name}: the call ends"));
        assert!(
            !joined.as_ref().is_err_and(|e| e.is_panic()),
            "{name}: {joined:?}"
        );
        assert_eq!(joined.unwrap(), expected, "{name}");
    }
}

// Walks.

/// Rows on the server; with pages of 3 overlapping by one row, windows start
/// at `$skip` 0, 2, 4, 6 and 8, and the last one (rows 9 and 10) is short,
/// which ends the walk. (With 11 rows the window at 8 would be full and the
/// walk would fetch a window at 10 to see the end.)
const ROWS: i64 = 10;
const PAGE: u32 = 3;

fn query_number(request: &Recorded, name: &str) -> Option<i64> {
    request
        .query(&format!("%24{name}"))
        .or(request.query(&format!("${name}")))
        .and_then(|v| v.parse().ok())
}

fn skip_of(request: &Recorded) -> i64 {
    query_number(request, "skip").unwrap_or(0)
}

/// `{Values, TotalCount}` for the rows `$skip`/`$top` select.
fn window(skip: i64, top: i64) -> Reply {
    let values: Vec<_> = (skip + 1..=ROWS.min(skip + top)).map(plan).collect();
    Reply::json(
        200,
        json!({"Values": values, "TotalCount": ROWS}).to_string(),
    )
}

/// Serves the plans by `$skip`/`$top`; `fault(skip, attempt)` (attempts count
/// from 1 per window) may replace an answer.
async fn paged_server(
    fault: impl Fn(i64, usize) -> Option<Reply> + Send + Sync + 'static,
) -> ScriptedServer {
    let attempts: Mutex<HashMap<i64, usize>> = Mutex::default();
    ScriptedServer::start(move |_, request| {
        let skip = skip_of(request);
        let top = query_number(request, "top").unwrap_or(1000);
        let attempt = {
            let mut attempts = attempts.lock().unwrap();
            let entry = attempts.entry(skip).or_default();
            *entry += 1;
            *entry
        };
        fault(skip, attempt).unwrap_or_else(|| window(skip, top))
    })
    .await
    .unwrap()
}

/// How often each window was requested.
fn requests_per_window(server: &ScriptedServer) -> Vec<(i64, usize)> {
    let mut counts = std::collections::BTreeMap::new();
    for request in server.requests() {
        *counts.entry(skip_of(&request)).or_default() += 1;
    }
    counts.into_iter().collect()
}

/// Walks the plans from `start`; returns the ids and the error that ended
/// the walk. Fails if anything follows an error or the walk hangs.
async fn walk(client: &Client, start: Option<u32>) -> (Vec<i32>, Option<Error>) {
    let options = PageOptions::default()
        .page_size(PAGE)
        .concurrency(NonZeroUsize::new(3).unwrap());
    let mut query = Query::new();
    if let Some(skip) = start {
        query = query.skip(skip);
    }
    collect_walk(client.list_with(client.list_plans(), &query, options)).await
}

/// The ids a walk yields and the error that ended it. Fails if anything
/// follows an error or the walk hangs.
async fn collect_walk(
    rows: pensionpro::pagination::Rows<'_, types::Plan>,
) -> (Vec<i32>, Option<Error>) {
    let items = tokio::time::timeout(Duration::from_secs(20), rows.collect::<Vec<_>>())
        .await
        .unwrap_or_else(|_| panic!("the walk did not end"));
    let mut ids = Vec::new();
    let mut error = None;
    for item in items {
        assert!(error.is_none(), "an item after the error: {item:?}");
        match item {
            Ok(plan) => ids.push(plan.id.unwrap()),
            Err(err) => error = Some(err),
        }
    }
    (ids, error)
}

/// Walks the plans after `point`, as a resumed walk.
async fn walk_from(client: &Client, point: ResumePoint) -> (Vec<i32>, Option<Error>) {
    let options = PageOptions::default()
        .page_size(PAGE)
        .concurrency(NonZeroUsize::new(3).unwrap())
        .resume_after(point);
    collect_walk(client.list_with(client.list_plans(), &Query::new(), options)).await
}

fn all_ids() -> Vec<i32> {
    (1..=10).collect()
}

#[tokio::test]
async fn a_walk_recovers_from_faults_without_losing_or_repeating_rows() {
    // (fault on the second window's first attempt, fault on the third's)
    let cases: [(&str, Reply, Reply); 4] = [
        ("503 then 429", error(503), throttled(None)),
        (
            "500 then 429 with Retry-After",
            error(500),
            throttled(Some("0")),
        ),
        (
            "slow headers then a closed connection",
            ok_plan().delayed(SLOW),
            ok_plan().with_fault(Fault::Close),
        ),
        ("502 then 504", error(502), error(504)),
    ];
    for (name, second, third) in cases {
        let server = paged_server(move |skip, attempt| match (skip, attempt) {
            (2, 1) => Some(second.clone()),
            (4, 1) => Some(third.clone()),
            _ => None,
        })
        .await;
        let (ids, err) = walk(&client(&server), None).await;
        assert!(err.is_none(), "{name}: {err:?}");
        assert_eq!(ids, all_ids(), "{name}: every row once, in order");
        assert_eq!(
            requests_per_window(&server),
            [(0, 1), (2, 2), (4, 2), (6, 1), (8, 1)],
            "{name}"
        );
    }
}

/// A window that fails for good ends the walk with one `Err` item after the
/// rows before it, each once. A walk resumed at `$skip` = rows seen delivers
/// the rest, and a fresh walk every row, each once.
#[tokio::test]
async fn a_window_that_fails_for_good_ends_the_walk_and_a_new_walk_completes_it() {
    let cases: [(&str, Reply, &str, Option<u16>, u32); 5] = [
        (
            "reset mid-body",
            window(4, 3).with_fault(Fault::ResetMidBody),
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
            Reply::json(200, r#"{"Values": ["#),
            "Decode",
            Some(200),
            1,
        ),
        (
            "slow headers",
            window(4, 3).delayed(SLOW),
            "Transport",
            None,
            3,
        ),
    ];
    for (name, fault, expected, status, attempts) in cases {
        // The window at `$skip` 4 fails on every attempt until the server heals.
        let healed = Arc::new(AtomicBool::new(false));
        let broken = Arc::clone(&healed);
        let server = paged_server(move |skip, _| {
            (skip == 4 && !broken.load(Ordering::SeqCst)).then(|| fault.clone())
        })
        .await;
        let client = client(&server);
        let (mut seen, err) = walk(&client, None).await;
        // Windows 0 and 2 hold rows 1 to 5 (3 is the overlap).
        assert_eq!(seen, [1, 2, 3, 4, 5], "{name}: the rows before, once");
        let err = err.unwrap_or_else(|| panic!("{name}: the failure is an item"));
        assert_eq!(variant(&err), expected, "{name}: {err:?}");
        assert_eq!(err.status(), status, "{name}");
        assert_eq!(err.context().unwrap().attempts, attempts, "{name}");
        assert_eq!(err.context().unwrap().operation_id, "list_plans", "{name}");

        healed.store(true, Ordering::SeqCst);
        let point = err.resume_point().unwrap();
        assert_eq!(point.after_id, 5, "{name}");
        let (rest, err) = walk_from(&client, point).await;
        assert!(err.is_none(), "{name}: {err:?}");
        seen.extend(rest);
        assert_eq!(seen, all_ids(), "{name}: resumed, no row lost or repeated");

        let (again, err) = walk(&client, None).await;
        assert!(err.is_none(), "{name}: {err:?}");
        assert_eq!(again, all_ids(), "{name}: a fresh walk, every row once");
    }
}

/// Rows stay JSON text until they are taken (a decoded `Plan` is large, its
/// text small). A row that then does not decode ends the walk after every
/// row before it, with the `Decode` error the call would have returned (its
/// operation, status and attempts, a scrubbed snippet of the row) and a
/// point to resume after the last row yielded. A row that is not an object,
/// or whose `Id` is not an integer, fails its window as a whole when it
/// arrives, before any of its rows. A key the server echoes into a row
/// appears in no error text.
#[tokio::test]
async fn a_row_that_does_not_decode_ends_the_walk_after_the_rows_before_it() {
    // (row 7, the last of the window at `$skip` 4, rows yielded before the
    // error, where the walk resumes)
    let cases: [(&str, serde_json::Value, Vec<i32>, i64); 4] = [
        (
            "a name that is a number",
            json!({"Id": 7, "Name": 5}),
            vec![1, 2, 3, 4, 5, 6],
            6,
        ),
        (
            "a flag that echoes the key",
            json!({"Id": 7, "IsDeactivated": KEY}),
            vec![1, 2, 3, 4, 5, 6],
            6,
        ),
        ("not an object", json!(7), vec![1, 2, 3, 4, 5], 5),
        (
            "an Id that is text",
            json!({"Id": "seven", "Name": KEY}),
            vec![1, 2, 3, 4, 5],
            5,
        ),
    ];
    for (name, bad, before, after) in cases {
        let healed = Arc::new(AtomicBool::new(false));
        let broken = Arc::clone(&healed);
        let server = paged_server(move |skip, _| {
            (skip == 4 && !broken.load(Ordering::SeqCst)).then(|| {
                Reply::json(
                    200,
                    json!({"Values": [plan(5), plan(6), bad.clone()], "TotalCount": ROWS})
                        .to_string(),
                )
            })
        })
        .await;
        let client = client(&server);
        let (mut seen, err) = walk(&client, None).await;
        assert_eq!(seen, before, "{name}: the rows before, once");
        let err = err.unwrap_or_else(|| panic!("{name}: the failure is an item"));
        assert!(
            matches!(err, Error::Interrupted { .. }),
            "{name}: the walk says it was cut short: {err:?}"
        );
        assert_eq!(variant(&err), "Decode", "{name}: {err:?}");
        assert_eq!(err.status(), Some(200), "{name}");
        let context = err.context().unwrap();
        assert_eq!(context.operation_id, "list_plans", "{name}");
        assert_eq!(context.attempts, 1, "{name}");
        let snippet = context.body_snippet.clone().unwrap_or_default();
        assert!(!snippet.is_empty(), "{name}: the row is quoted");
        for text in [format!("{err}"), format!("{err:?}"), snippet] {
            assert!(!text.contains(KEY), "{name}: the key leaked: {text}");
        }

        healed.store(true, Ordering::SeqCst);
        let point = err.resume_point().unwrap();
        assert_eq!(point.after_id, after, "{name}");
        let (rest, err) = walk_from(&client, point).await;
        assert!(err.is_none(), "{name}: {err:?}");
        seen.extend(rest);
        assert_eq!(seen, all_ids(), "{name}: resumed, no row lost or repeated");
    }
}

/// A server that ignores `$skip` serves the first window for every window.
/// The walk notices that windows bring no new rows and stops with the
/// error, after the rows served, once each, and a bounded number of requests.
#[tokio::test]
async fn a_server_that_ignores_the_offset_cannot_loop_duplicate_rows_or_end_quietly() {
    let server = ScriptedServer::start(|_, _| window(0, i64::from(PAGE)))
        .await
        .unwrap();
    let (ids, err) = walk(&client(&server), None).await;
    assert_eq!(ids, [1, 2, 3], "the rows served, once each");
    let err = err.expect("the walk cannot be completed, and says so");
    assert!(
        matches!(err, Error::WalkStopped { yielded: 3, .. }),
        "{err:?}"
    );
    // The first window, the stall budget, and the request that ran it out
    // (windows fetched ahead before the walk went sequential may add up to
    // two).
    let requests = server.requests().len();
    let budget = pensionpro::pagination::DEFAULT_STALL_BUDGET as usize;
    assert!((budget + 2..=budget + 4).contains(&requests), "{requests}");
}
