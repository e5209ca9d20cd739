//! Per-call options and the report of what happened during one call.
//!
//! progenitor's hook sees only the request and the operation id, so a wrapper
//! passes per-call settings in, and gets the runtime's account of the call
//! out, through a task-local scope around the generated method's future:
//!
//! ```
//! # async fn demo() {
//! use client_core::call::{CallOptions, with_call};
//! let options = CallOptions::default().with_deadline(std::time::Duration::from_secs(30));
//! let (result, report) = with_call(options, async { 42 }).await;
//! assert_eq!(result.unwrap(), 42);
//! assert_eq!(report.attempts, 0); // no request was made in this scope
//! # }
//! ```

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::Operation;
use crate::retry::{GiveUpReason, RetryConfig};

/// Settings for one call that override the client's.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct CallOptions {
    /// Retry policy for this call only.
    pub retry: Option<RetryConfig>,
    /// Timeout of each attempt (headers and body).
    pub attempt_timeout: Option<Duration>,
    /// Overall deadline of the call, retries and waits included.
    pub deadline: Option<Duration>,
    /// Allow replaying this call although its method is not idempotent
    /// (only when the caller knows a repeat is harmless, e.g. with an
    /// idempotency key).
    pub replay_non_idempotent: bool,
}

impl CallOptions {
    /// Sets the retry policy of this call.
    pub fn with_retry(mut self, retry: RetryConfig) -> Self {
        self.retry = Some(retry);
        self
    }

    /// Sets the per-attempt timeout of this call.
    pub fn with_attempt_timeout(mut self, timeout: Duration) -> Self {
        self.attempt_timeout = Some(timeout);
        self
    }

    /// Sets the overall deadline of this call.
    pub fn with_deadline(mut self, deadline: Duration) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// Opts this call in to replays of a non-idempotent method.
    pub fn with_replay_non_idempotent(mut self, replay: bool) -> Self {
        self.replay_non_idempotent = replay;
        self
    }
}

/// What the runtime did for one call (the last request made in the scope).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CallReport {
    /// The operation, when the request came from a generated client.
    pub operation: Option<&'static Operation>,
    /// Attempts sent (0 when no request was made).
    pub attempts: u32,
    /// How often the rate limiter made the call wait, and for how long in total.
    pub throttled_waits: u32,
    /// Total time spent waiting for the rate limiter.
    pub throttled_for: Duration,
    /// The status of the last response, if any.
    pub status: Option<u16>,
    /// The vendor's request id of the last response, if it sent one.
    pub request_id: Option<String>,
    /// The `Retry-After` of the last response, if any.
    pub retry_after: Option<Duration>,
    /// Why a retryable outcome was not retried, if that happened.
    pub gave_up: Option<GiveUpReason>,
    /// Time from the first attempt to the outcome.
    pub elapsed: Duration,
    /// Set when the call was not sent because the shared rate store failed
    /// and its policy is to fail; the response the generated code then sees
    /// is a local 503 that never reached the vendor.
    pub rate_store_error: Option<String>,
    /// Scrubs the client's credentials from text an error keeps (set by
    /// [`Runtime::run`](crate::Runtime::run)).
    pub redactor: Redactor,
}

/// Replaces known secret values in text with `[redacted]`, so a server that
/// echoes a request's credentials back (an error page listing the request's
/// headers) cannot put them into an error, a log or a `Debug` print.
#[derive(Clone, Default)]
pub struct Redactor {
    secrets: Arc<[Vec<u8>]>,
}

impl Redactor {
    /// A redactor for these secret values (empty ones are ignored).
    pub fn new(secrets: impl IntoIterator<Item = Vec<u8>>) -> Self {
        let mut secrets: Vec<Vec<u8>> = secrets.into_iter().filter(|s| !s.is_empty()).collect();
        // Longest first, so a secret that contains another is replaced whole.
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        Self {
            secrets: secrets.into(),
        }
    }

    /// `text` with every secret replaced by `[redacted]`.
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for secret in self.secrets.iter() {
            if let Ok(secret) = std::str::from_utf8(secret)
                && out.contains(secret)
            {
                out = out.replace(secret, "[redacted]");
            }
        }
        out
    }
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Redactor({} secrets)", self.secrets.len())
    }
}

impl PartialEq for Redactor {
    /// Reports compare by what happened, not by what they would redact.
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for Redactor {}

/// What a call's requests share: its options and the report the runtime
/// fills in. One allocation per call; each request borrows it.
#[derive(Debug, Clone, Default)]
pub(crate) struct Scope(Arc<ScopeState>);

#[derive(Debug, Default)]
pub(crate) struct ScopeState {
    pub(crate) options: CallOptions,
    report: Mutex<CallReport>,
}

impl std::ops::Deref for Scope {
    type Target = ScopeState;

    fn deref(&self) -> &ScopeState {
        &self.0
    }
}

tokio::task_local! {
    static SCOPE: Scope;
}

/// The call's deadline was reached before it completed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("call deadline of {deadline:?} exceeded")]
pub struct DeadlineExceeded {
    /// The deadline that was exceeded.
    pub deadline: Duration,
}

/// Runs `future` (typically one generated-client call) with `options`, and
/// returns its output together with the runtime's report of the call. With a
/// deadline, the whole call — waits and retries included — is bounded by it.
pub async fn with_call<F: Future>(
    options: CallOptions,
    future: F,
) -> (Result<F::Output, DeadlineExceeded>, CallReport) {
    let deadline = options.deadline;
    let scope = Scope(Arc::new(ScopeState {
        options,
        report: Mutex::default(),
    }));
    let state = Arc::clone(&scope.0);
    let output = match deadline {
        Some(deadline) => SCOPE
            .scope(scope, tokio::time::timeout(deadline, future))
            .await
            .map_err(|_| DeadlineExceeded { deadline }),
        None => Ok(SCOPE.scope(scope, future).await),
    };
    // The scope has ended: its report is taken, not copied.
    let report = match state.report.lock() {
        Ok(mut report) => std::mem::take(&mut *report),
        Err(poisoned) => std::mem::take(&mut *poisoned.into_inner()),
    };
    (output, report)
}

/// The scope of the current task, if a wrapper set one.
pub(crate) fn current() -> Option<Scope> {
    SCOPE.try_with(Clone::clone).ok()
}

impl Scope {
    pub(crate) fn update(&self, f: impl FnOnce(&mut CallReport)) {
        let mut report = self.report.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut report);
    }
}
