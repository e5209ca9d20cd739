//! What an error keeps and what the budget is: a response that carries
//! credentials (an admin token, a new key) is never quoted by an error, a
//! server echoing the API secret cannot put it into an error or a log, the
//! rate budget is per key and mode, the builder's deadline bounds the whole
//! call, and a rate-store outage is its own error.

use pinwheel::Call;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use client_core::rate::{InProcessStore, RateLimit};
use client_core::testing::{Reply, ScriptedServer};
use pinwheel::admin::AdminClient;
use pinwheel::retry::RetryConfig;
use pinwheel::{Client, Error, Mode};

const SECRET: &str = "sk_live_5f0e3c1d2b4a69788796a5b4c3d2e1f0";
const TOKEN: &str = "tok_9c8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f";
const ACCOUNT: &str = "03bbc20e-bc39-464a-b4dc-4b63ffb7213d";

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

impl Logs {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

fn capture() -> (Logs, tracing::subscriber::DefaultGuard) {
    let logs = Logs::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(logs.clone())
        .finish();
    let guard = tracing::subscriber::set_default(subscriber);
    (logs, guard)
}

fn client(url: &str) -> Client {
    Client::builder(SECRET)
        .base_url(url)
        .retry(RetryConfig::disabled())
        .without_rate_limit()
        .build()
        .unwrap()
}

fn assert_hidden(shown: &[String], secrets: &[&str]) {
    for text in shown {
        for secret in secrets {
            assert!(!text.contains(secret), "{secret} shown in: {text}");
        }
    }
}

#[tokio::test]
async fn an_answer_carrying_credentials_is_never_quoted_by_an_error() {
    let (logs, _guard) = capture();
    // The token answer and the new-key answer, each broken in a way that
    // makes the decoder quote it (before: a 512-byte snippet and the
    // decoder's message held the fresh token).
    let answers = [
        format!(r#"{{"data": {{"token": "{TOKEN}", "expiration": "not a date"}}}}"#),
        format!(r#"{{"data": {{"token": 42, "secret": "{TOKEN}"}}}}"#),
    ];
    for body in answers {
        let server = ScriptedServer::start(move |_, _| Reply::json(200, body.clone()))
            .await
            .unwrap();
        let admin = AdminClient::builder("ops@example.com", "pw-12345678")
            .base_url(server.url())
            .retry(RetryConfig::disabled())
            .without_rate_limit()
            .build()
            .unwrap();
        let error = admin.login().await.unwrap_err();
        assert!(matches!(error, Error::Decode { .. }), "{error:?}");
        assert_eq!(error.context().unwrap().body_snippet, None);
        assert_hidden(&[error.to_string(), format!("{error:?}")], &[TOKEN]);
    }
    assert_hidden(&[logs.text()], &[TOKEN]);
}

#[tokio::test]
async fn a_server_echoing_the_secret_cannot_put_it_into_an_error_or_a_log() {
    let (logs, _guard) = capture();
    let echo = format!("x-api-secret: {SECRET}");
    let answers = [
        Reply::json(
            500,
            format!(r#"{{"error": {{"type": "X", "message": "{echo}"}}}}"#),
        ),
        Reply::json(502, format!("<html>{echo}</html>")),
        Reply::json(200, format!(r#"{{"data": {{"id": "{echo}"}}}}"#)),
        Reply::json(418, echo.clone()),
        Reply::json(302, echo.clone()),
    ];
    for answer in answers {
        let server = ScriptedServer::start(move |_, _| answer.clone())
            .await
            .unwrap();
        let client = client(&server.url());
        let error = client
            .get_account()
            .account_id(ACCOUNT.parse::<uuid::Uuid>().unwrap())
            .send()
            .await
            .unwrap_err();
        // The server's own message is kept (minus the secret): it is what
        // Pinwheel support asks for.
        assert_hidden(
            &[
                error.to_string(),
                format!("{error:?}"),
                format!("{client:?}"),
            ],
            &[SECRET],
        );
    }
    assert!(!logs.text().is_empty(), "the calls were logged");
    assert_hidden(&[logs.text()], &[SECRET]);
}

/// A client on `mode` at `url`, paced at one request a minute through `store`.
fn paced(mode: Mode, store: &Arc<InProcessStore>, url: &str) -> Client {
    Client::builder(SECRET)
        .mode(mode)
        .base_url(url)
        .rate_limit(RateLimit::per_minute(NonZeroU32::new(1).unwrap()))
        .rate_store(Arc::clone(store) as _)
        .retry(RetryConfig::disabled())
        .build()
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn the_budget_is_per_key_and_mode() {
    let server = ScriptedServer::start(|_, _| {
        Reply::json(
            200,
            r#"{"data": [], "meta": {"count": 0, "next_cursor": null}}"#,
        )
    })
    .await
    .unwrap();
    let store = Arc::new(InProcessStore::new());
    let sandbox = paced(Mode::Sandbox, &store, &server.url());
    let production = paced(Mode::Production, &store, &server.url());
    let sandbox_too = paced(Mode::Sandbox, &store, &server.url());
    let started = tokio::time::Instant::now();
    for client in [&sandbox, &production] {
        client.list_platforms().send().await.unwrap();
    }
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "two modes, two budgets"
    );
    sandbox_too.list_platforms().send().await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_secs(59),
        "one key and mode, one budget"
    );
}

#[tokio::test(start_paused = true)]
async fn the_builders_deadline_bounds_the_whole_call() {
    let server = ScriptedServer::start(|_, _| {
        Reply::json(200, r#"{"data": []}"#).delayed(Duration::from_secs(600))
    })
    .await
    .unwrap();
    let client = Client::builder(SECRET)
        .base_url(server.url())
        .attempt_timeout(Duration::from_secs(300))
        .deadline(Duration::from_secs(2))
        .without_rate_limit()
        .build()
        .unwrap();
    let started = tokio::time::Instant::now();
    let error = client.list_platforms().send().await.unwrap_err();
    assert!(matches!(error, Error::Deadline { .. }), "{error:?}");
    assert!(error.is_retryable());
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
async fn a_rate_store_outage_is_its_own_retryable_error() {
    let server = ScriptedServer::start(|_, _| Reply::json(200, r#"{"data": []}"#))
        .await
        .unwrap();
    let client = Client::builder(SECRET)
        .base_url(server.url())
        .rate_store(Arc::new(DownStore))
        .build()
        .unwrap();
    let error = client.list_platforms().send().await.unwrap_err();
    assert!(
        matches!(error, Error::RateStoreUnavailable { .. }),
        "{error:?}"
    );
    assert_eq!(error.status(), None, "no status is made up");
    assert!(error.is_retryable());
    assert!(server.requests().is_empty());
}
