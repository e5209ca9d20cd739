//! The fault matrix of issue #7 for the PensionPro client: a loopback server
//! that misbehaves in each way a network or a server can, and for each fault
//! the typed error (or the recovery), the number of requests the server saw,
//! and, for pagination, every row exactly once.

use std::num::{NonZeroU32, NonZeroUsize};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use client_core::rate::RateLimit;
use client_core::retry::RetryConfig;
use client_core::testing::{Fault, Reply, ScriptedServer};
use futures::StreamExt;
use pensionpro::pagination::PageOptions;
use pensionpro::{Client, Error, Query};
use serde_json::json;

use crate::support::{KEY, USER};

fn client(server: &ScriptedServer) -> Client {
    Client::builder()
        .api_key(KEY)
        .username(USER)
        .base_url(server.url())
        .rate_limit(RateLimit::per_second(NonZeroU32::new(10_000).unwrap()))
        .retry(
            RetryConfig::default()
                .with_transient_base(Duration::from_millis(2))
                .with_throttle_base(Duration::from_millis(2))
                .with_max_backoff(Duration::from_millis(10))
                .with_retry_after_cap(Duration::from_millis(20)),
        )
        .attempt_timeout(Duration::from_millis(200))
        .build()
        .unwrap()
}

fn plans(ids: impl Iterator<Item = u64>, total: u64) -> String {
    let values: Vec<_> = ids
        .map(|id| json!({"Id": id, "Name": format!("Plan {id}")}))
        .collect();
    json!({"Values": values, "TotalCount": total}).to_string()
}

fn message(status: u16) -> Reply {
    Reply::json(status, r#"{"Message": "something went wrong"}"#)
}

async fn get_plan(
    script: impl Fn(usize) -> Reply + Send + Sync + 'static,
) -> (pensionpro::Result<Option<i32>>, usize) {
    let server = ScriptedServer::start(move |n, _| script(n)).await.unwrap();
    let client = client(&server);
    let result = client
        .call(client.api().get_plan().plan_id(7).send())
        .await
        .map(|plan| plan.id);
    (result, server.requests().len())
}

#[tokio::test]
async fn throttling_and_server_errors() {
    let ok = || Reply::json(200, r#"{"Id": 7, "Name": "Plan 7"}"#);
    let (result, sent) = get_plan(move |n| {
        if n < 2 {
            message(429).header("retry-after", "1")
        } else {
            ok()
        }
    })
    .await;
    assert_eq!((result.unwrap(), sent), (Some(7), 3));

    // PensionPro sends no reset header: a storm without Retry-After outlasts the attempts.
    let (result, sent) = get_plan(|_| message(429)).await;
    let err = result.unwrap_err();
    assert!(matches!(err, Error::RateLimited { .. }), "{err:?}");
    assert_eq!((sent, err.context().attempts), (3, 3));

    let (result, sent) = get_plan(move |n| if n < 2 { message([500, 504][n]) } else { ok() }).await;
    assert_eq!((result.unwrap(), sent), (Some(7), 3));

    let (result, sent) = get_plan(|_| message(502)).await;
    let err = result.unwrap_err();
    assert!(matches!(err, Error::Server { .. }), "{err:?}");
    assert_eq!((err.status(), sent), (Some(502), 3));
}

#[tokio::test]
async fn broken_bodies_become_typed_errors() {
    let body = r#"{"Id": 7, "Name": "Plan 7"}"#;
    let (result, sent) =
        get_plan(move |_| Reply::json(200, body).with_fault(Fault::ResetMidBody)).await;
    assert!(matches!(result, Err(Error::Transport { .. })), "{result:?}");
    assert_eq!(sent, 1);

    let (result, sent) =
        get_plan(move |_| Reply::json(200, body).delayed(Duration::from_millis(400))).await;
    assert!(matches!(result, Err(Error::Transport { .. })), "{result:?}");
    assert_eq!(sent, 3, "a GET whose headers time out is retried");

    for (name, reply) in [
        ("truncated JSON", Reply::json(200, r#"{"Id": 7, "Na"#)),
        ("malformed JSON", Reply::json(200, r#"{"Id": seven}"#)),
        (
            "an HTML page with status 200",
            Reply::raw(200, "text/html", "<html><body>Maintenance</body></html>"),
        ),
    ] {
        let (result, sent) = get_plan(move |_| reply.clone()).await;
        let err = result.unwrap_err();
        assert!(matches!(err, Error::Decode { .. }), "{name}: {err:?}");
        assert_eq!(sent, 1, "{name}");
        assert!(
            err.context()
                .body_snippet
                .as_deref()
                .is_some_and(|s| !s.is_empty()),
            "{name}"
        );
    }

    let (result, _) = get_plan(move |_| Reply::raw(200, "text/plain", body)).await;
    assert_eq!(
        result.unwrap(),
        Some(7),
        "a wrong content type over valid JSON still decodes"
    );

    let (result, sent) =
        get_plan(|_| Reply::json(200, format!("[{}0]", "0,".repeat(17 * 1024 * 1024)))).await;
    assert!(matches!(result, Err(Error::Transport { .. })), "{result:?}");
    assert_eq!(sent, 1);
}

#[tokio::test]
async fn a_post_that_may_have_been_received_is_never_replayed() {
    let note: pensionpro::types::NoteCreate =
        serde_json::from_value(json!({"NoteText": "hello", "PlanId": 7})).unwrap();
    for reply in [
        message(503),
        message(429),
        Reply::json(200, "{}").delayed(Duration::from_millis(400)),
        Reply::json(200, r#"{"Id": 1, "NoteText": "hello"}"#).with_fault(Fault::ResetMidBody),
    ] {
        let server = ScriptedServer::start(move |_, _| reply.clone())
            .await
            .unwrap();
        let client = client(&server);
        let result = client
            .call(client.api().create_note().body(note.clone()).send())
            .await;
        assert!(result.is_err());
        assert_eq!(
            server.requests().len(),
            1,
            "the POST reached the server exactly once"
        );
    }
}

/// Serves `ROWS` plans by `$skip`/`$top`, with `fault(window, attempt)` replacing answers.
async fn paged_server(
    faults: impl Fn(u64, usize) -> Option<Reply> + Send + Sync + 'static,
) -> ScriptedServer {
    const ROWS: u64 = 11;
    let attempts: Arc<Mutex<std::collections::HashMap<u64, usize>>> = Arc::default();
    ScriptedServer::start(move |_, request| {
        let skip: u64 = request
            .query("%24skip")
            .or(request.query("$skip"))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let top: u64 = request
            .query("%24top")
            .or(request.query("$top"))
            .and_then(|v| v.parse().ok())
            .unwrap_or(1000);
        let attempt = {
            let mut seen = attempts.lock().unwrap();
            let entry = seen.entry(skip).or_default();
            *entry += 1;
            *entry
        };
        if let Some(reply) = faults(skip, attempt) {
            return reply;
        }
        let end = ROWS.min(skip + top);
        Reply::json(200, plans(skip + 1..=end, ROWS))
    })
    .await
    .unwrap()
}

async fn walk(client: &Client) -> (Vec<i32>, Option<Error>) {
    let options = PageOptions::default()
        .page_size(3)
        .concurrency(NonZeroUsize::new(3).unwrap());
    let mut rows = client.list_with(client.api().list_plans(), &Query::new(), options);
    let mut seen = Vec::new();
    while let Some(row) = rows.next().await {
        match row {
            Ok(plan) => seen.push(plan.id.unwrap()),
            Err(err) => return (seen, Some(err)),
        }
    }
    (seen, None)
}

#[tokio::test]
async fn pagination_recovers_from_faults_without_losing_or_repeating_rows() {
    // Windows start at 0, 2, 4, ... (pages of 3 overlapping by one row).
    let server = paged_server(|skip, attempt| match (skip, attempt) {
        (2, 1) => Some(message(503)),
        (4, 1) => Some(message(429)),
        (6, 1) => Some(Reply::json(200, "{}").delayed(Duration::from_millis(400))),
        _ => None,
    })
    .await;
    let (seen, err) = walk(&client(&server)).await;
    assert!(err.is_none(), "{err:?}");
    assert_eq!(
        seen,
        (1..=11).collect::<Vec<_>>(),
        "every row once, in order"
    );
}

#[tokio::test]
async fn a_reset_mid_page_surfaces_as_an_item_without_duplicates() {
    let server = paged_server(|skip, _| {
        (skip == 4).then(|| Reply::json(200, plans(5..=7, 11)).with_fault(Fault::ResetMidBody))
    })
    .await;
    let (seen, err) = walk(&client(&server)).await;
    let err = err.expect("the broken page surfaces as an error item");
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    // Windows of 3 start at 0, 2, 4: the first two give rows 1 to 5 (3 is the overlap).
    assert_eq!(
        seen,
        [1, 2, 3, 4, 5],
        "the rows before the broken page, once each"
    );
}

#[tokio::test]
async fn a_server_that_ignores_the_offset_cannot_loop_the_walk() {
    // Every window gets the first page again: no new rows after the first.
    let server = ScriptedServer::start(|_, _| Reply::json(200, plans(1..=3, 11)))
        .await
        .unwrap();
    let walked = tokio::time::timeout(Duration::from_secs(10), walk(&client(&server))).await;
    let (seen, _) = walked.expect("the walk terminates");
    assert_eq!(seen, [1, 2, 3], "repeated rows are not yielded twice");
    assert!(
        server.requests().len() < 50,
        "{} requests",
        server.requests().len()
    );
}
