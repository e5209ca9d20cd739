//! The fault matrix of issue #7 for the Pinwheel client: a loopback server
//! that misbehaves in each way a network or a server can, and for each fault
//! the typed error (or the recovery), the number of requests the server saw,
//! and, for pagination, every row exactly once.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use client_core::testing::{Fault, Reply, ScriptedServer};
use futures::StreamExt;
use pinwheel::retry::RetryConfig;
use pinwheel::{Client, Error};
use serde_json::json;

use crate::support::{SECRET, account, ids};

fn fast_retry() -> RetryConfig {
    RetryConfig::default()
        .with_transient_base(Duration::from_millis(2))
        .with_throttle_base(Duration::from_millis(2))
        .with_max_backoff(Duration::from_millis(10))
        .with_retry_after_cap(Duration::from_millis(20))
}

fn client(server: &ScriptedServer) -> Client {
    Client::builder(SECRET)
        .base_url(server.url())
        .retry(fast_retry())
        .timeout(Duration::from_millis(200))
        .without_rate_limit()
        .build()
        .unwrap()
}

fn page(ids: &[String], next: Option<&str>) -> String {
    let data: Vec<_> = ids.iter().map(|id| account(id)).collect();
    json!({"data": data, "meta": {"count": ids.len(), "next_cursor": next}}).to_string()
}

fn error(status: u16) -> Reply {
    Reply::json(
        status,
        json!({"error": {"type": "UNKNOWN_ERROR", "code": "X", "message": "m", "status_code": status}}).to_string(),
    )
}

/// One GET against a server answering with `script`.
async fn get_accounts(
    script: impl Fn(usize) -> Reply + Send + Sync + 'static,
) -> (pinwheel::Result<usize>, usize) {
    let server = ScriptedServer::start(move |n, _| script(n)).await.unwrap();
    let client = client(&server);
    let result = client
        .send(client.api().list_accounts_v1_accounts_get().send())
        .await
        .map(|response| response.into_inner().data.len());
    (result, server.requests().len())
}

#[tokio::test]
async fn throttling_and_server_errors() {
    let one = ids(0..1);
    let ok = {
        let body = page(&one, None);
        move || Reply::json(200, body.clone())
    };

    // A 429 storm with Retry-After that ends: retried to success.
    let ok1 = ok.clone();
    let (result, sent) = get_accounts(move |n| {
        if n < 2 {
            error(429).header("retry-after", "1")
        } else {
            ok1()
        }
    })
    .await;
    assert_eq!((result.unwrap(), sent), (1, 3));

    // A 429 storm without Retry-After that outlasts the attempts.
    let (result, sent) = get_accounts(|_| error(429)).await;
    let err = result.unwrap_err();
    assert!(matches!(err, Error::RateLimited { .. }), "{err:?}");
    assert_eq!((sent, err.context().unwrap().attempts), (3, 3));

    // A 5xx burst: 500, 502, then success.
    let ok2 = ok.clone();
    let (result, sent) = get_accounts(move |n| match n {
        0 => error(500),
        1 => Reply::raw(502, "text/html", "<html>bad gateway</html>"),
        _ => ok2(),
    })
    .await;
    assert_eq!((result.unwrap(), sent), (1, 3));

    // A 5xx storm: the Server error, with the status, after every attempt.
    let (result, sent) = get_accounts(|_| error(503)).await;
    let err = result.unwrap_err();
    assert!(matches!(err, Error::Server { .. }), "{err:?}");
    assert_eq!((err.status(), sent), (Some(503), 3));
}

#[tokio::test]
async fn broken_bodies_become_typed_errors() {
    let one = ids(0..1);
    let body = page(&one, None);

    // The connection resets in the middle of the body: a transport error.
    // The body is read by the generated code after the runtime returned, so
    // this is not retried (a GET could be, by the caller).
    let full = body.clone();
    let (result, sent) =
        get_accounts(move |_| Reply::json(200, full.clone()).with_fault(Fault::ResetMidBody)).await;
    assert!(matches!(result, Err(Error::Transport { .. })), "{result:?}");
    assert_eq!(sent, 1);

    // Headers slower than the attempt timeout: retried, then a timeout.
    let slow = body.clone();
    let (result, sent) =
        get_accounts(move |_| Reply::json(200, slow.clone()).delayed(Duration::from_millis(400)))
            .await;
    assert!(matches!(result, Err(Error::Transport { .. })), "{result:?}");
    assert_eq!(sent, 3);

    for (name, reply) in [
        ("truncated JSON", Reply::json(200, r#"{"data": ["#)),
        ("malformed JSON", Reply::json(200, r#"{"data": nope}"#)),
        (
            "an HTML page with status 200",
            Reply::raw(200, "text/html", "<html><body>Maintenance</body></html>"),
        ),
    ] {
        let (result, sent) = get_accounts(move |_| reply.clone()).await;
        let err = result.unwrap_err();
        assert!(matches!(err, Error::Decode { .. }), "{name}: {err:?}");
        assert_eq!(sent, 1, "{name}: a decode error is not retried");
        let snippet = err
            .context()
            .and_then(|c| c.body_snippet.clone())
            .unwrap_or_default();
        assert!(
            !snippet.is_empty(),
            "{name}: the error shows the start of the body"
        );
    }

    // Valid JSON under a wrong content type: progenitor reads JSON regardless.
    let plain = body.clone();
    let (result, _) = get_accounts(move |_| Reply::raw(200, "text/plain", plain.clone())).await;
    assert_eq!(result.unwrap(), 1);

    // An enormous body (over the runtime's 32 MiB cap for JSON): a body error, not an allocation of it all.
    let (result, sent) =
        get_accounts(|_| Reply::json(200, format!("[{}0]", "0,".repeat(17 * 1024 * 1024)))).await;
    assert!(matches!(result, Err(Error::Transport { .. })), "{result:?}");
    assert_eq!(sent, 1);
}

#[tokio::test]
async fn a_post_that_may_have_been_received_is_never_replayed() {
    let body: pinwheel::types::LinkTokenCreateV20250708 = serde_json::from_value(json!({
        "org_name": "Fintech.io", "solution": "Deposit Switch",
        "features": ["direct_deposit_switch"], "end_user_id": "u1"
    }))
    .unwrap();
    for reply in [
        error(503),
        error(429),
        Reply::json(200, "{}").delayed(Duration::from_millis(400)),
        Reply::json(
            200,
            r#"{"data": {"id": "bd2c09e7-1303-46d5-87c0-0ffa572d7ae4"}}"#,
        )
        .with_fault(Fault::ResetMidBody),
    ] {
        let server = ScriptedServer::start(move |_, _| reply.clone())
            .await
            .unwrap();
        let client = client(&server);
        let result = client
            .send(
                client
                    .api()
                    .post_v1_link_tokens_post()
                    .body(body.clone())
                    .send(),
            )
            .await;
        assert!(result.is_err());
        assert_eq!(
            server.requests().len(),
            1,
            "the POST reached the server exactly once"
        );
    }
}

/// A server with three pages of two accounts, answering by cursor, whose
/// `faults(page, attempt)` may replace an answer.
async fn paged_server(
    faults: impl Fn(usize, usize) -> Option<Reply> + Send + Sync + 'static,
) -> (ScriptedServer, Vec<String>) {
    let all = ids(0..6);
    let rows = all.clone();
    let attempts: Arc<Mutex<[usize; 3]>> = Arc::default();
    let server = ScriptedServer::start(move |_, request| {
        let index = match request.query("cursor") {
            None => 0,
            Some("c1") => 1,
            Some(_) => 2,
        };
        let attempt = {
            let mut seen = attempts.lock().unwrap();
            seen[index] += 1;
            seen[index]
        };
        if let Some(reply) = faults(index, attempt) {
            return reply;
        }
        let next = [Some("c1"), Some("c2"), None][index];
        Reply::json(200, page(&rows[index * 2..index * 2 + 2], next))
    })
    .await
    .unwrap();
    (server, all)
}

async fn walk(client: &Client, from: Option<String>) -> (Vec<String>, Option<Error>) {
    let mut listing = client.accounts().limit(2).unwrap();
    if let Some(cursor) = from {
        listing = listing.resume_from(cursor);
    }
    let mut items = std::pin::pin!(listing.items());
    let mut seen = Vec::new();
    while let Some(item) = items.next().await {
        match item {
            Ok(account) => seen.push(account.id.unwrap().to_string()),
            Err(err) => return (seen, Some(err)),
        }
    }
    (seen, None)
}

#[tokio::test]
async fn pagination_recovers_from_faults_without_losing_or_repeating_rows() {
    // Page 2's first attempt is a 503, page 3's first attempt a 429.
    let (server, all) = paged_server(|page, attempt| match (page, attempt) {
        (1, 1) => Some(error(503)),
        (2, 1) => Some(error(429)),
        _ => None,
    })
    .await;
    let (seen, err) = walk(&client(&server), None).await;
    assert!(err.is_none(), "{err:?}");
    assert_eq!(seen, all, "every row once, in order");
    assert_eq!(server.requests().len(), 5);
}

#[tokio::test]
async fn a_reset_mid_page_is_an_item_and_the_walk_resumes() {
    let (server, all) = paged_server(|page, attempt| {
        (page == 1 && attempt == 1)
            .then(|| Reply::json(200, page_body_for_reset()).with_fault(Fault::ResetMidBody))
    })
    .await;
    let client = client(&server);
    let (first, err) = walk(&client, None).await;
    let err = err.expect("the broken page surfaces as an error item");
    assert!(matches!(err.root(), Error::Transport { .. }), "{err:?}");
    let cursor = err.resume_cursor().map(str::to_owned);
    assert_eq!(cursor.as_deref(), Some("c1"));
    let (rest, err) = walk(&client, cursor).await;
    assert!(err.is_none(), "{err:?}");
    let mut everything = first;
    everything.extend(rest);
    assert_eq!(everything, all, "no row lost or repeated across the resume");
}

fn page_body_for_reset() -> String {
    page(&ids(2..4), Some("c2"))
}

#[tokio::test]
async fn a_repeated_cursor_ends_the_walk_with_an_error() {
    let all = ids(0..2);
    let rows = all.clone();
    let server = ScriptedServer::start(move |_, _| Reply::json(200, page(&rows, Some("same"))))
        .await
        .unwrap();
    let (seen, err) = walk(&client(&server), None).await;
    assert!(
        matches!(
            err.as_ref().map(Error::root),
            Some(Error::RepeatedCursor { .. })
        ),
        "{err:?}"
    );
    // The first page's rows once, the repeated page's rows not again.
    assert_eq!(&seen[..2], &all[..]);
    assert!(seen.len() <= 4);
    assert_eq!(server.requests().len(), 2);
}
