//! Decides, after every attempt of a request, whether the runtime should
//! retry it, how long to wait first, or why it must stop.
//!
//! The module is deliberately pure: it never sleeps, never reads the clock and
//! never draws randomness on its own. The runtime passes in the elapsed time,
//! the wall-clock "now" (only used to read HTTP-date `Retry-After` values), a
//! shared [`RetryBudget`] and a [`Jitter`] source, so every decision can be
//! reproduced exactly in tests.
//!
//! A typical loop in the runtime looks like this:
//!
//! ```
//! use std::time::{Duration, SystemTime};
//! use client_core::retry::{
//!     Attempt, Context, Decision, RetryBudget, RetryConfig, ThreadRngJitter, is_idempotent,
//! };
//!
//! let config = RetryConfig::default();
//! let budget = RetryBudget::default();
//! let mut jitter = ThreadRngJitter;
//! let headers = http::HeaderMap::new();
//! let outcome = Attempt::Response { status: http::StatusCode::SERVICE_UNAVAILABLE, headers: &headers };
//! let cx = Context {
//!     attempt: 1,
//!     idempotent: is_idempotent(&http::Method::GET),
//!     replayable: true,
//!     elapsed: Duration::from_millis(30),
//!     deadline: Some(Duration::from_secs(30)),
//!     now: SystemTime::now(),
//! };
//! match config.decide(&outcome, &cx, &budget, &mut jitter) {
//!     // Sleep for `after`, keep `permit` and send the request again; when a
//!     // later attempt finishes with `Done`, hand the permit to
//!     // `budget.on_success(Some(permit))`.
//!     Decision::Retry { after, reason, permit } => {
//!         assert!(after <= Duration::from_millis(100));
//!         let _ = (reason, permit);
//!     }
//!     // Return the outcome as it is.
//!     Decision::Done => unreachable!(),
//!     // Return the outcome and report why it was not retried.
//!     Decision::GiveUp { reason } => unreachable!("{reason}"),
//! }
//! ```

use std::fmt;
use std::time::{Duration, SystemTime};

mod budget;
mod config;
mod jitter;
mod retry_after;
#[cfg(test)]
mod tests;

pub use budget::{RetryBudget, RetryPermit};
pub use config::RetryConfig;
pub use jitter::{FixedJitter, Fraction, Jitter, MaxJitter, ThreadRngJitter};
pub(crate) use retry_after::RETRY_AFTER_FALLBACK;
pub use retry_after::{parse_retry_after, retry_after};

/// Returns whether `method` is idempotent in the sense of RFC 9110 §9.2.2,
/// so that sending it twice has the same effect on the server as sending it
/// once.
///
/// POST and PATCH (and any extension method) are not: replaying them after
/// the server may have acted on them can create a duplicate payment or
/// enrolment. A caller that knows better for one operation (for example a POST
/// that carries an idempotency key the server honours) may set
/// [`Context::idempotent`] itself instead of using this function.
pub fn is_idempotent(method: &http::Method) -> bool {
    [
        http::Method::GET,
        http::Method::HEAD,
        http::Method::PUT,
        http::Method::DELETE,
        http::Method::OPTIONS,
        http::Method::TRACE,
    ]
    .contains(method)
}

/// What happened on the attempt that just finished.
///
/// A body that cannot be replayed is not an attempt outcome; it is reported
/// through [`Context::replayable`] because it forbids any retry whatever the
/// outcome was.
#[derive(Debug, Clone, Copy)]
pub enum Attempt<'a> {
    /// The server answered with a status line and headers.
    Response {
        /// The response status.
        status: http::StatusCode,
        /// The response headers; `Retry-After` is read from here.
        headers: &'a http::HeaderMap,
    },
    /// No connection could be established, so the server never saw the
    /// request and replaying it is safe even for POST.
    ConnectError,
    /// The per-attempt timeout fired before a response arrived.
    Timeout {
        /// Whether request bytes may already have left this process, so the
        /// server may have acted on the request.
        sent: bool,
    },
    /// The connection failed in another way: a reset, a broken body stream, a
    /// protocol error.
    TransportError {
        /// Whether request bytes may already have left this process, so the
        /// server may have acted on the request.
        sent: bool,
    },
}

/// Facts about the request and its history that the decision depends on.
///
/// Every field is supplied by the runtime so the decision stays pure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Context {
    /// Attempts made so far, including the one that just finished; the first
    /// attempt is 1. A value of 0 is treated like 1.
    pub attempt: u32,
    /// Whether sending the request twice is harmless; usually
    /// [`is_idempotent`] of its method.
    pub idempotent: bool,
    /// Whether the request body can be cloned for another attempt. A streamed
    /// body that has been consumed cannot.
    pub replayable: bool,
    /// Time since the first attempt started.
    pub elapsed: Duration,
    /// The caller's overall budget for the request, measured from the start
    /// of the first attempt; `None` means no overall deadline.
    pub deadline: Option<Duration>,
    /// The current wall-clock time, used only to turn an HTTP-date
    /// `Retry-After` into a delay.
    pub now: SystemTime,
}

/// The decision for the attempt that just finished.
#[derive(Debug, PartialEq, Eq)]
pub enum Decision {
    /// Return this outcome to the caller as it is: it is a success or an
    /// error that another attempt would not fix.
    ///
    /// When the runtime holds a [`RetryPermit`] from an earlier retry of this
    /// request (or none, on a first attempt), it should pass it to
    /// [`RetryBudget::on_success`] now, since the server evidently answered.
    Done,
    /// Wait `after`, then send the request again.
    Retry {
        /// How long to wait before the next attempt.
        after: Duration,
        /// Why the attempt is worth repeating.
        reason: RetryReason,
        /// The tokens this retry took from the budget. Keep it until the
        /// request finishes: if a later attempt ends in [`Decision::Done`],
        /// give it to [`RetryBudget::on_success`] so the cost is refunded;
        /// otherwise drop it (a permit replaced by a newer one is simply
        /// spent).
        permit: RetryPermit,
    },
    /// The attempt failed in a way a retry might fix, but policy forbids one.
    /// Return the last outcome to the caller and report `reason`.
    GiveUp {
        /// Which rule forbade the retry.
        reason: GiveUpReason,
    },
}

/// Why an attempt is worth repeating.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RetryReason {
    /// The server answered 429 Too Many Requests.
    Throttled,
    /// The server answered another status in
    /// [`RetryConfig::retryable_statuses`].
    Status(http::StatusCode),
    /// No connection could be established.
    ConnectError,
    /// The per-attempt timeout fired.
    Timeout,
    /// The connection failed after it was established.
    TransportError,
}

impl RetryReason {
    /// The budget class of a retry for this reason, which sets its cost and
    /// its backoff base.
    pub fn kind(self) -> RetryKind {
        match self {
            Self::Throttled => RetryKind::Throttled,
            Self::Timeout => RetryKind::Timeout,
            Self::Status(_) | Self::ConnectError | Self::TransportError => RetryKind::Transient,
        }
    }
}

impl fmt::Display for RetryReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Throttled => f.write_str("throttled (status 429)"),
            Self::Status(status) => write!(f, "retryable status {}", status.as_u16()),
            Self::ConnectError => f.write_str("connect error"),
            Self::Timeout => f.write_str("attempt timed out"),
            Self::TransportError => f.write_str("transport error"),
        }
    }
}

/// Why a retryable failure was not retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum GiveUpReason {
    /// [`RetryConfig::max_attempts`] attempts have been made.
    AttemptsExhausted,
    /// The shared [`RetryBudget`] has no tokens left, which means many
    /// requests are failing at once and retries would only add load.
    BudgetExhausted,
    /// The request is not idempotent and may have reached the server, so a
    /// replay could apply it twice.
    NotIdempotent,
    /// The request body was streamed and cannot be sent again.
    BodyNotReplayable,
    /// Waiting for the next attempt would reach the caller's overall deadline.
    DeadlineExceeded,
}

impl fmt::Display for GiveUpReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::AttemptsExhausted => "retry attempts exhausted",
            Self::BudgetExhausted => "retry budget exhausted",
            Self::NotIdempotent => "request is not idempotent and may have reached the server",
            Self::BodyNotReplayable => "request body cannot be replayed",
            Self::DeadlineExceeded => "retry would exceed the deadline",
        })
    }
}

/// The class of a retry, which decides what it costs from the
/// [`RetryBudget`] and which backoff base it uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RetryKind {
    /// A server error or connection failure; costs
    /// [`RetryBudget::RETRY_COST`] and backs off from
    /// [`RetryConfig::transient_base`].
    Transient,
    /// A per-attempt timeout; costs [`RetryBudget::TIMEOUT_RETRY_COST`]
    /// because a timed-out attempt held a worker for the whole timeout, and
    /// backs off from [`RetryConfig::transient_base`].
    Timeout,
    /// A 429 answer; costs [`RetryBudget::RETRY_COST`] and backs off from
    /// [`RetryConfig::throttle_base`].
    Throttled,
}

impl fmt::Display for RetryKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Transient => "transient",
            Self::Timeout => "timeout",
            Self::Throttled => "throttled",
        })
    }
}
