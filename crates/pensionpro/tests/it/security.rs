//! Where the credentials go and what an error keeps: redirects to another
//! origin are not followed, blank credentials are refused, the rate budget
//! is the firm's (the key's, whoever the user), the builder's deadline bounds
//! the whole call, and no error, `Debug` print or log line shows a secret.

use pensionpro::Call;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use client_core::rate::{InProcessStore, RateLimit};
use client_core::retry::RetryConfig;
use client_core::testing::{Reply, ScriptedServer};
use httpmock::MockServer;
use pensionpro::{Client, Error};

use crate::support::{KEY, USER, client};

#[tokio::test]
async fn a_redirect_to_another_origin_is_not_followed_and_the_credentials_stay_home() {
    let evil = MockServer::start_async().await;
    let stolen = evil.mock(|when, then| {
        when.any_request();
        then.status(200).body("{}");
    });
    let api = MockServer::start_async().await;
    let target = evil.url("/v2/plans/7");
    api.mock(|when, then| {
        when.path("/v2/plans/7");
        then.status(302).header("location", target.as_str());
    });
    let client = client(&api.base_url());
    let error = client.get_plan().plan_id(7).send().await.unwrap_err();
    assert_eq!(
        stolen.calls_async().await,
        0,
        "nothing reached the other host"
    );
    assert_eq!(error.status(), Some(302), "{error:?}");
}

#[tokio::test]
async fn a_redirect_within_the_origin_is_followed_with_the_credentials() {
    let api = MockServer::start_async().await;
    api.mock(|when, then| {
        when.path("/v2/plans/7");
        then.status(301).header("location", "/v2/plans/8");
    });
    let moved = api.mock(|when, then| {
        when.path("/v2/plans/8")
            .header("apikey", KEY)
            .header("username", USER);
        then.status(200)
            .header("content-type", "application/json")
            .body(r#"{"Id": 8}"#);
    });
    let client = client(&api.base_url());
    let plan = client.get_plan().plan_id(7).send().await.unwrap();
    assert_eq!(plan.id, Some(8));
    moved.assert_async().await;
}

#[test]
fn blank_credentials_and_clear_text_hosts_are_refused() {
    let build = |key: &str, user: &str, url: &str| {
        Client::builder()
            .api_key(key)
            .username(user)
            .base_url(url)
            .build()
    };
    for (key, user) in [("", USER), ("   ", USER), (KEY, ""), (KEY, " \t")] {
        let error = build(key, user, "https://api.pensionpro.com").unwrap_err();
        assert!(matches!(error, Error::Config { .. }), "{error:?}");
    }
    let error = build(KEY, USER, "http://api.pensionpro.com").unwrap_err();
    assert!(error.to_string().contains("https"), "{error}");
    assert!(
        build(KEY, USER, "http://127.0.0.1:9").is_ok(),
        "loopback may be http"
    );
}

/// Two clients with the same key and different usernames, sharing one store
/// (as two processes share Redis).
fn job(user: &str, store: &Arc<InProcessStore>, url: &str) -> Client {
    Client::builder()
        .api_key(KEY)
        .username(user)
        .base_url(url)
        .rate_limit(RateLimit::per_minute(NonZeroU32::new(1).unwrap()))
        .rate_store(Arc::clone(store) as _)
        .retry(RetryConfig::disabled())
        .build()
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn jobs_with_one_key_and_different_usernames_share_the_firms_budget() {
    let server = ScriptedServer::start(|_, _| Reply::json(200, r#"{"Id": 1}"#))
        .await
        .unwrap();
    let store = Arc::new(InProcessStore::new());
    let first = job("alice", &store, &server.url());
    let second = job("bob", &store, &server.url());
    first.get_plan().plan_id(1).send().await.unwrap();
    let started = tokio::time::Instant::now();
    second.get_plan().plan_id(1).send().await.unwrap();
    // One request a minute for the key: bob waits out alice's minute.
    assert!(
        started.elapsed() >= Duration::from_secs(59),
        "bob waited {:?}",
        started.elapsed()
    );
    assert_eq!(second.metrics().throttled_waits, 1);
}

#[tokio::test(start_paused = true)]
async fn the_builders_deadline_bounds_slow_attempts_and_limiter_waits() {
    let server = ScriptedServer::start(|_, _| {
        Reply::json(200, r#"{"Id": 1}"#).delayed(Duration::from_secs(600))
    })
    .await
    .unwrap();
    let client = Client::builder()
        .api_key(KEY)
        .username(USER)
        .base_url(server.url())
        .attempt_timeout(Duration::from_secs(300))
        .deadline(Duration::from_secs(2))
        .build()
        .unwrap();
    let started = tokio::time::Instant::now();
    let error = client.get_plan().plan_id(1).send().await.unwrap_err();
    assert!(matches!(error, Error::Deadline { .. }), "{error:?}");
    assert!(error.is_retryable());
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );

    // A limiter wait counts too: one request a minute, the second call would
    // wait 60 s.
    let quick = ScriptedServer::start(|_, _| Reply::json(200, r#"{"Id": 1}"#))
        .await
        .unwrap();
    let client = Client::builder()
        .api_key(KEY)
        .username(USER)
        .base_url(quick.url())
        .rate_limit(RateLimit::per_minute(NonZeroU32::new(1).unwrap()))
        .deadline(Duration::from_secs(2))
        .build()
        .unwrap();
    client.get_plan().plan_id(1).send().await.unwrap();
    let started = tokio::time::Instant::now();
    let error = client.get_plan().plan_id(1).send().await.unwrap_err();
    assert!(matches!(error, Error::Deadline { .. }), "{error:?}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

/// A store that is down, with the policy to fail.
#[derive(Debug)]
struct DownStore;

impl client_core::rate::RateStore for DownStore {
    fn acquire<'a>(
        &'a self,
        _: &'a str,
        _: &'a RateLimit,
    ) -> client_core::rate::StoreFuture<
        'a,
        Result<client_core::rate::Admission, client_core::rate::StoreError>,
    > {
        Box::pin(async {
            Err(client_core::rate::StoreError {
                message: "connection refused".into(),
            })
        })
    }
}

#[tokio::test]
async fn a_rate_store_outage_is_its_own_retryable_error_and_nothing_is_sent() {
    let server = ScriptedServer::start(|_, _| Reply::json(200, r#"{"Id": 1}"#))
        .await
        .unwrap();
    let client = Client::builder()
        .api_key(KEY)
        .username(USER)
        .base_url(server.url())
        .rate_store(Arc::new(DownStore))
        .build()
        .unwrap();
    let error = client.get_plan().plan_id(1).send().await.unwrap_err();
    assert!(
        matches!(error, Error::RateStoreUnavailable { .. }),
        "{error:?}"
    );
    assert_eq!(error.status(), None, "no status is made up");
    assert!(error.is_retryable());
    assert!(
        server.requests().is_empty(),
        "not sent without the shared budget"
    );
}

/// A `tracing` subscriber writing into a buffer, for one test's thread.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Logs {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Logs {
    type Writer = Logs;
    fn make_writer(&'a self) -> Logs {
        self.clone()
    }
}

#[tokio::test]
async fn no_error_debug_print_or_log_line_shows_the_credentials_a_server_echoes() {
    let logs = Logs::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(logs.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    // Every kind of answer, each echoing the request's credentials back.
    let echo = format!("apikey: {KEY}, username: {USER}");
    let answers = [
        Reply::json(500, format!(r#"{{"Message": "boom", "Debug": "{echo}"}}"#)),
        Reply::json(
            400,
            format!(r#"{{"Message": "bad", "Rules": [{{"Rule": "x"}}], "Echo": "{echo}"}}"#),
        ),
        Reply::json(404, format!("<html>{echo}</html>")),
        Reply::json(200, format!(r#"{{"Id": "not a number {echo}"}}"#)),
        Reply::json(418, format!("teapot {echo}")),
        Reply::json(302, format!("moved {echo}")),
    ];
    for answer in answers {
        let server = ScriptedServer::start(move |_, _| answer.clone())
            .await
            .unwrap();
        let client = client(&server.url());
        let error = client.get_plan().plan_id(1).send().await.unwrap_err();
        for shown in [
            error.to_string(),
            format!("{error:?}"),
            format!("{client:?}"),
        ] {
            assert!(!shown.contains(KEY), "the key in {shown}");
            assert!(!shown.contains(USER), "the username in {shown}");
        }
    }
    let logged = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(!logged.is_empty(), "the runtime logged the calls");
    assert!(!logged.contains(KEY) && !logged.contains(USER), "{logged}");
}
