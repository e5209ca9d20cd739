//! The request runtime that generated clients forward every request to.
//!
//! This is the seam: the generated `ClientHooks::exec` of every generated
//! client calls [`Runtime::exec`], so what happens here — credentials,
//! default headers, the rate limiter, the retry loop, timeouts, tracing and
//! counters — applies to every operation of every API at once.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use http::{HeaderMap, HeaderName, HeaderValue};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use tokio::time::Instant;
use tracing::Instrument;

use crate::Operation;
use crate::call::{self, CallReport};
use crate::metrics::{Counters, Metrics};
use crate::rate::{InProcessStore, Limiter, RateLimit, RateStore, ServerBudget};
use crate::retry::{
    self, Attempt, Context, Decision, GiveUpReason, Jitter, RetryBudget, RetryConfig,
    ThreadRngJitter,
};

/// A credential sent as a header on every request; its value is never shown.
#[derive(Clone)]
pub struct SecretHeader {
    name: HeaderName,
    /// Validated once and marked sensitive, so each request only clones it
    /// (`HeaderValue`'s own `Debug` prints `Sensitive` for it).
    value: HeaderValue,
}

impl SecretHeader {
    /// A header `name` carrying `value`. Fails when the value cannot be a header value.
    pub fn new(name: HeaderName, value: SecretString) -> Result<Self, ConfigError> {
        let mut header = HeaderValue::from_str(value.expose_secret()).map_err(|_| {
            ConfigError::InvalidSecret {
                header: name.to_string(),
            }
        })?;
        header.set_sensitive(true);
        Ok(Self {
            name,
            value: header,
        })
    }

    fn header_value(&self) -> HeaderValue {
        self.value.clone()
    }
}

impl fmt::Debug for SecretHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: [redacted]", self.name)
    }
}

/// A runtime configuration that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A secret contains characters a header value cannot hold.
    #[error("the value of the `{header}` credential is not a valid header value")]
    InvalidSecret {
        /// The header the credential was meant for.
        header: String,
    },
}

/// Sets up a [`Runtime`].
#[derive(Debug, Clone)]
pub struct RuntimeBuilder {
    vendor: &'static str,
    secrets: Vec<SecretHeader>,
    headers: HeaderMap,
    strip: Vec<HeaderName>,
    retry: RetryConfig,
    attempt_timeout: Option<Duration>,
    deadline: Option<Duration>,
    rate_limit: Option<RateLimit>,
    store: Option<Arc<dyn RateStore>>,
    request_id_header: Option<HeaderName>,
    budget: RetryBudget,
    jitter_fixed: Option<u32>,
    max_body_bytes: Option<usize>,
    /// The secret headers whose values name the rate budget (`None`: all).
    rate_key_headers: Option<Vec<HeaderName>>,
    /// More text that names the rate budget (an environment, a mode).
    rate_key_extra: Vec<String>,
}

impl RuntimeBuilder {
    /// Names the rate budget by these secret headers only (default: every
    /// secret header). A vendor that limits per API key, not per user, shares
    /// one budget between clients that differ in the other credentials.
    pub fn rate_key_headers(mut self, names: impl IntoIterator<Item = HeaderName>) -> Self {
        self.rate_key_headers = Some(names.into_iter().collect());
        self
    }

    /// Adds `part` to what names the rate budget, e.g. the environment a key
    /// belongs to, when the vendor keeps separate budgets per environment.
    pub fn rate_key_extra(mut self, part: impl Into<String>) -> Self {
        self.rate_key_extra.push(part.into());
        self
    }

    /// Adds a credential header, marked sensitive on the wire and redacted in `Debug`.
    pub fn secret_header(mut self, secret: SecretHeader) -> Self {
        self.secrets.retain(|s| s.name != secret.name);
        self.secrets.push(secret);
        self
    }

    /// Adds a header sent on every request (e.g. an API version), unless the request has it.
    pub fn default_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.insert(name, value);
        self
    }

    /// Removes a header from every request (progenitor's `api-version` is removed by default).
    pub fn strip_header(mut self, name: HeaderName) -> Self {
        self.strip.push(name);
        self
    }

    /// The retry policy (default: [`RetryConfig::default`]).
    pub fn retry(mut self, retry: RetryConfig) -> Self {
        self.retry = retry;
        self
    }

    /// The retry budget shared by every call of this runtime (default: 500 tokens).
    pub fn retry_budget(mut self, budget: RetryBudget) -> Self {
        self.budget = budget;
        self
    }

    /// Timeout of each attempt (default: 30 s).
    pub fn attempt_timeout(mut self, timeout: Duration) -> Self {
        self.attempt_timeout = Some(timeout);
        self
    }

    /// Default overall deadline for retries of one call (default: none).
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// The proactive rate limit (default: none).
    pub fn rate_limit(mut self, limit: RateLimit) -> Self {
        self.rate_limit = Some(limit);
        self
    }

    /// Where GCRA state lives (default: this process's memory).
    pub fn rate_store(mut self, store: Arc<dyn RateStore>) -> Self {
        self.store = Some(store);
        self
    }

    /// The response header that carries the vendor's request id.
    pub fn request_id_header(mut self, name: HeaderName) -> Self {
        self.request_id_header = Some(name);
        self
    }

    /// The largest response body read into memory (default 32 MiB) for
    /// requests that accept JSON, as every generated operation does:
    /// generated code buffers such bodies whole, whatever their content type,
    /// so an enormous one becomes a body error instead of exhausting memory.
    /// Requests that accept something else (file downloads) stream unlimited.
    /// `None` removes the limit.
    pub fn max_body_bytes(mut self, limit: Option<usize>) -> Self {
        self.max_body_bytes = limit;
        self
    }

    /// Replaces random jitter with a fixed fraction (`x / 2^32` of the backoff
    /// window), so tests can assert exact backoff totals.
    pub fn fixed_jitter(mut self, fraction: u32) -> Self {
        self.jitter_fixed = Some(fraction);
        self
    }

    /// Builds the runtime.
    pub fn build(self) -> Runtime {
        // The limiter key names the vendor and a fingerprint of the
        // credentials: requests with the same credentials share a budget, and
        // the key never contains a secret.
        let mut hasher = Sha256::new();
        let named = |secret: &&SecretHeader| {
            self.rate_key_headers
                .as_ref()
                .is_none_or(|names| names.contains(&secret.name))
        };
        for secret in self.secrets.iter().filter(named) {
            hasher.update(secret.name.as_str().as_bytes());
            hasher.update([0]);
            hasher.update(secret.value.as_bytes());
            hasher.update([0]);
        }
        for part in &self.rate_key_extra {
            hasher.update(part.as_bytes());
            hasher.update([1]);
        }
        let fingerprint: String = hasher
            .finalize()
            .iter()
            .take(8)
            .map(|b| format!("{b:02x}"))
            .collect();
        let key = format!("{}:{fingerprint}", self.vendor);
        let store = self
            .store
            .clone()
            .unwrap_or_else(|| Arc::new(InProcessStore::new()));
        let jitter: Box<dyn Jitter> = match self.jitter_fixed {
            Some(fraction) => Box::new(retry::FixedJitter(fraction)),
            None => Box::new(ThreadRngJitter),
        };
        Runtime {
            inner: Arc::new(Inner {
                limiter: Limiter::new(key, self.rate_limit, store, self.retry.retry_after_cap),
                counters: Counters::default(),
                jitter: Mutex::new(jitter),
                redactor: call::Redactor::new(
                    self.secrets
                        .iter()
                        .map(|secret| secret.value.as_bytes().to_vec()),
                ),
                config: self,
            }),
        }
    }
}

/// Shared per-client runtime state; cheap to clone (clones share limits and counters).
#[derive(Clone)]
pub struct Runtime {
    inner: Arc<Inner>,
}

struct Inner {
    config: RuntimeBuilder,
    limiter: Limiter,
    counters: Counters,
    jitter: Mutex<Box<dyn Jitter>>,
    /// Built once: every call's report carries it.
    redactor: call::Redactor,
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime")
            .field("config", &self.inner.config)
            .field("limiter_key", &self.inner.limiter.key())
            .field("metrics", &self.metrics())
            .finish()
    }
}

impl Default for Runtime {
    fn default() -> Self {
        Self::new()
    }
}

impl Runtime {
    /// A runtime with default policies and no credentials (tests, mocks).
    pub fn new() -> Self {
        Self::builder("default").build()
    }

    /// Starts configuring a runtime for `vendor` (used in limiter keys and traces).
    pub fn builder(vendor: &'static str) -> RuntimeBuilder {
        RuntimeBuilder {
            vendor,
            secrets: Vec::new(),
            headers: HeaderMap::new(),
            strip: vec![HeaderName::from_static("api-version")],
            retry: RetryConfig::default(),
            attempt_timeout: Some(Duration::from_secs(30)),
            deadline: None,
            rate_limit: None,
            store: None,
            request_id_header: None,
            budget: RetryBudget::default(),
            jitter_fixed: None,
            max_body_bytes: Some(32 * 1024 * 1024),
            rate_key_headers: None,
            rate_key_extra: Vec::new(),
        }
    }

    /// Runs one call (the future of a generated operation's `send()`) in a
    /// call scope, with the client's default deadline unless `options` sets
    /// one: the deadline bounds the whole call, limiter waits, retries and
    /// reading the body included. Returns the output and the runtime's
    /// report; the report's [`Redactor`](crate::call::Redactor) scrubs this
    /// runtime's credentials from anything an error keeps.
    pub async fn run<F: std::future::Future>(
        &self,
        mut options: call::CallOptions,
        future: F,
    ) -> (Result<F::Output, call::DeadlineExceeded>, CallReport) {
        if options.deadline.is_none() {
            options.deadline = self.inner.config.deadline;
        }
        let (output, mut report) = call::with_call(options, future).await;
        report.redactor = self.redactor();
        (output, report)
    }

    /// What scrubs this runtime's credentials from text.
    pub fn redactor(&self) -> call::Redactor {
        self.inner.redactor.clone()
    }

    /// The default deadline of a call, if the client has one.
    pub fn deadline(&self) -> Option<Duration> {
        self.inner.config.deadline
    }

    /// The counters of every call made through this runtime (and its clones).
    pub fn metrics(&self) -> Metrics {
        self.inner.counters.snapshot()
    }

    /// The key under which this runtime's rate budget is held.
    pub fn limiter_key(&self) -> &str {
        self.inner.limiter.key()
    }

    /// Sends one request of `operation` with `client`: headers, rate limit,
    /// retries. Returns the last response or transport error, exactly as the
    /// generated code expects; what happened is in the call's report.
    pub async fn exec(
        &self,
        client: &reqwest::Client,
        mut request: reqwest::Request,
        operation: &'static Operation,
    ) -> reqwest::Result<reqwest::Response> {
        let config = &self.inner.config;
        // Borrowed, not cloned: this runs for every request.
        let scope = call::current();
        let options = scope.as_ref().map(|s| &s.options);
        let policy = options
            .and_then(|o| o.retry.as_ref())
            .unwrap_or(&config.retry);
        let attempt_timeout = options
            .and_then(|o| o.attempt_timeout)
            .or(config.attempt_timeout);
        let deadline = options.and_then(|o| o.deadline).or(config.deadline);
        let idempotent = retry::is_idempotent(request.method())
            || options.is_some_and(|o| o.replay_non_idempotent);

        for name in &config.strip {
            request.headers_mut().remove(name);
        }
        for (name, value) in &config.headers {
            if !request.headers().contains_key(name) {
                request.headers_mut().insert(name.clone(), value.clone());
            }
        }
        for secret in &config.secrets {
            request
                .headers_mut()
                .insert(secret.name.clone(), secret.header_value());
        }
        // Generated JSON operations ask for JSON and read the whole body,
        // whatever content type the server labels it with; those bodies are
        // capped. A download asks for something else and streams unlimited.
        let body_limit = config.max_body_bytes.filter(|_| {
            request
                .headers()
                .get(http::header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .is_none_or(|accept| accept.contains("json"))
        });

        self.inner.counters.call();
        let started = Instant::now();
        let mut report = CallReport {
            operation: Some(operation),
            ..CallReport::default()
        };
        let mut attempt: u32 = 0;
        // The budget tokens of the retry in flight, refunded if it succeeds.
        let mut permit = None;
        loop {
            attempt += 1;
            let replay = request.try_clone();
            // Set after the copy is taken: the timeout lives in the
            // request's extensions (a map and a boxed value), which the
            // copy then need not clone. A retry sets it again.
            if let Some(timeout) = attempt_timeout {
                *request.timeout_mut() = Some(timeout);
            }
            match self.inner.limiter.acquire().await {
                Ok(waited) => {
                    self.inner.counters.throttled(waited.times, waited.total);
                    report.throttled_waits += waited.times;
                    report.throttled_for += waited.total;
                }
                Err(error) => {
                    // The store's own policy already chose not to fall back:
                    // nothing is sent without the shared budget.
                    tracing::warn!(%error, operation = operation.id, "not sent: rate store unavailable");
                    report.rate_store_error = Some(error.message.clone());
                    report.attempts = attempt - 1;
                    report.elapsed = started.elapsed();
                    self.finish(scope.as_ref(), report);
                    return Ok(local_unavailable(&error));
                }
            }
            self.inner.counters.attempt(attempt > 1);
            let span = tracing::info_span!(
                "request",
                vendor = config.vendor,
                operation = operation.id,
                method = %request.method(),
                path = operation.path,
                attempt,
                status = tracing::field::Empty,
                request_id = tracing::field::Empty,
                duration_ms = tracing::field::Empty,
            );
            let sent_at = Instant::now();
            let result = client.execute(request).instrument(span.clone()).await;
            span.record("duration_ms", sent_at.elapsed().as_millis() as u64);

            let now = SystemTime::now();
            let outcome = match &result {
                Ok(response) => {
                    let status = response.status();
                    span.record("status", status.as_u16());
                    self.inner.counters.status(status.as_u16());
                    let (budget, retry_after) = if ServerBudget::mentioned(response.headers()) {
                        (
                            ServerBudget::from_headers(response.headers()),
                            retry::retry_after(response.headers(), now),
                        )
                    } else {
                        (ServerBudget::default(), None)
                    };
                    self.inner
                        .limiter
                        .observe(status.as_u16(), budget, retry_after);
                    report.status = Some(status.as_u16());
                    report.retry_after = retry_after;
                    report.request_id = config
                        .request_id_header
                        .as_ref()
                        .and_then(|name| response.headers().get(name))
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned);
                    if let Some(id) = &report.request_id {
                        span.record("request_id", id.as_str());
                    }
                    Attempt::Response {
                        status,
                        headers: response.headers(),
                    }
                }
                Err(error) if error.is_connect() => Attempt::ConnectError,
                Err(error) if error.is_timeout() => Attempt::Timeout { sent: true },
                Err(_) => Attempt::TransportError { sent: true },
            };
            let context = Context {
                attempt,
                idempotent,
                replayable: replay.is_some(),
                elapsed: started.elapsed(),
                deadline,
                now,
            };
            let decision = {
                let mut jitter = self.inner.jitter.lock().unwrap_or_else(|p| p.into_inner());
                policy.decide(&outcome, &context, &config.budget, jitter.as_mut())
            };
            report.attempts = attempt;
            report.elapsed = started.elapsed();
            match decision {
                Decision::Retry {
                    after,
                    reason,
                    permit: granted,
                } => {
                    // The policy retries only replayable requests; if that
                    // ever failed to hold, the last outcome is returned.
                    let Some(next) = replay else {
                        self.inner.counters.gave_up();
                        report.gave_up = Some(GiveUpReason::BodyNotReplayable);
                        config.budget.on_success(Some(granted));
                        self.finish(scope.as_ref(), report);
                        return result;
                    };
                    tracing::debug!(parent: &span, ?after, %reason, "retrying");
                    drop(result);
                    permit = Some(granted);
                    tokio::time::sleep(after).await;
                    request = next;
                }
                Decision::GiveUp { reason } => {
                    self.inner.counters.gave_up();
                    tracing::debug!(parent: &span, %reason, "not retrying");
                    report.gave_up = Some(reason);
                    self.finish(scope.as_ref(), report);
                    return result.map(|response| limit_body(response, body_limit));
                }
                Decision::Done => {
                    if matches!(&result, Ok(r) if r.status().is_success()) {
                        config.budget.on_success(permit.take());
                    }
                    self.finish(scope.as_ref(), report);
                    return result.map(|response| limit_body(response, body_limit));
                }
            }
        }
    }

    fn finish(&self, scope: Option<&call::Scope>, report: CallReport) {
        if let Some(scope) = scope {
            scope.update(|slot| *slot = report);
        }
    }
}

/// Header set on responses the runtime makes up itself, which never came from the vendor.
pub const LOCAL_RESPONSE_HEADER: &str = "x-client-core-local";

/// A 503 made up locally, for a call that was not sent because the shared
/// rate store is unavailable. progenitor's generated code needs a response or
/// a transport error, and only reqwest can create the latter.
fn local_unavailable(error: &crate::rate::StoreError) -> reqwest::Response {
    let body = format!(
        "{{\"client_core\": \"rate store unavailable: {}\"}}",
        error.message.replace('"', "'")
    );
    let response = http::Response::builder()
        .status(http::StatusCode::SERVICE_UNAVAILABLE)
        .header(LOCAL_RESPONSE_HEADER, "rate-store-unavailable")
        .body(body)
        .unwrap_or_default();
    reqwest::Response::from(response)
}

/// Caps a body at `limit` bytes: reading past it fails with a
/// body error whose source is `http_body_util::LengthLimitError`.
fn limit_body(response: reqwest::Response, limit: Option<usize>) -> reqwest::Response {
    let Some(limit) = limit else { return response };
    // A declared length within the limit needs no wrapper (hyper enforces the
    // declared length itself); most responses take this path.
    if response
        .content_length()
        .is_some_and(|length| length <= limit as u64)
    {
        return response;
    }
    let response: http::Response<reqwest::Body> = response.into();
    let (parts, body) = response.into_parts();
    let limited = reqwest::Body::wrap(http_body_util::Limited::new(body, limit));
    reqwest::Response::from(http::Response::from_parts(parts, limited))
}
