//! The retry policy's settings and the decision rule that applies them to one
//! finished attempt.
//!
//! The rules run in a fixed order so that the reported reason is the most
//! fundamental one: whether the outcome is retryable at all, then whether this
//! request may be replayed, then the attempt limit, the delay and the
//! deadline, and the shared budget last, so tokens are only withdrawn for a
//! retry that will really happen.

use std::time::Duration;

use http::StatusCode;

use super::jitter::Jitter;
use super::retry_after::retry_after;
use super::{Attempt, Context, Decision, GiveUpReason, RetryBudget, RetryKind, RetryReason};

/// Retry policy settings; build one from [`RetryConfig::default`] or
/// [`RetryConfig::disabled`] and adjust it with the `with_*` methods.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryConfig {
    /// Total attempts allowed, including the first; 1 disables retries. Zero
    /// behaves like 1.
    pub max_attempts: u32,
    /// Backoff base for transient failures and timeouts: the ceiling for the
    /// wait after attempt `n` is `transient_base * 2^(n-1)`.
    pub transient_base: Duration,
    /// Backoff base for 429 answers without a usable `Retry-After`; longer
    /// than `transient_base` because a throttling server needs its window to
    /// pass, not a quick second try.
    pub throttle_base: Duration,
    /// Upper bound on a computed exponential backoff before jitter.
    pub max_backoff: Duration,
    /// Upper bound on a delay the server asks for with `Retry-After`.
    ///
    /// A longer `Retry-After` is clamped to this value rather than obeyed or
    /// ignored, so a bad header cannot stall a worker for hours while a
    /// server that asks for a pause still gets a long one. The caller's
    /// overall deadline ([`Context::deadline`]) still applies on top: if the
    /// clamped wait would reach it, the policy gives up instead.
    pub retry_after_cap: Duration,
    /// Whether requests that are not idempotent (POST, PATCH) may be replayed
    /// after they may have reached the server. Off by default: a replay can
    /// apply them twice. They are always retried when the failure shows the
    /// request never left this process.
    pub retry_non_idempotent: bool,
    /// Response statuses worth retrying. 429 is treated as throttling; the
    /// others as transient server failures.
    pub retryable_statuses: Vec<StatusCode>,
}

impl Default for RetryConfig {
    /// Three attempts; 100 ms transient and 1 s throttling bases; backoff
    /// capped at 20 s and `Retry-After` at 60 s; no replay of non-idempotent
    /// requests; statuses 408, 429, 500, 502, 503 and 504 retried.
    fn default() -> Self {
        Self {
            max_attempts: 3,
            transient_base: Duration::from_millis(100),
            throttle_base: Duration::from_secs(1),
            max_backoff: Duration::from_secs(20),
            retry_after_cap: Duration::from_secs(60),
            retry_non_idempotent: false,
            retryable_statuses: vec![
                StatusCode::REQUEST_TIMEOUT,
                StatusCode::TOO_MANY_REQUESTS,
                StatusCode::INTERNAL_SERVER_ERROR,
                StatusCode::BAD_GATEWAY,
                StatusCode::SERVICE_UNAVAILABLE,
                StatusCode::GATEWAY_TIMEOUT,
            ],
        }
    }
}

impl RetryConfig {
    /// The default policy with a single attempt, so nothing is ever retried.
    pub fn disabled() -> Self {
        Self::default().with_max_attempts(1)
    }

    /// Sets [`RetryConfig::max_attempts`].
    #[must_use]
    pub fn with_max_attempts(mut self, max_attempts: u32) -> Self {
        self.max_attempts = max_attempts;
        self
    }

    /// Sets [`RetryConfig::transient_base`].
    #[must_use]
    pub fn with_transient_base(mut self, base: Duration) -> Self {
        self.transient_base = base;
        self
    }

    /// Sets [`RetryConfig::throttle_base`].
    #[must_use]
    pub fn with_throttle_base(mut self, base: Duration) -> Self {
        self.throttle_base = base;
        self
    }

    /// Sets [`RetryConfig::max_backoff`].
    #[must_use]
    pub fn with_max_backoff(mut self, max_backoff: Duration) -> Self {
        self.max_backoff = max_backoff;
        self
    }

    /// Sets [`RetryConfig::retry_after_cap`].
    #[must_use]
    pub fn with_retry_after_cap(mut self, cap: Duration) -> Self {
        self.retry_after_cap = cap;
        self
    }

    /// Sets [`RetryConfig::retry_non_idempotent`].
    #[must_use]
    pub fn with_retry_non_idempotent(mut self, allow: bool) -> Self {
        self.retry_non_idempotent = allow;
        self
    }

    /// Replaces [`RetryConfig::retryable_statuses`].
    #[must_use]
    pub fn with_retryable_statuses(
        mut self,
        statuses: impl IntoIterator<Item = StatusCode>,
    ) -> Self {
        self.retryable_statuses = statuses.into_iter().collect();
        self
    }

    /// The ceiling of the jittered wait after `attempt` attempts of `kind`:
    /// `min(max_backoff, base * 2^(attempt - 1))`, with the throttling base
    /// for [`RetryKind::Throttled`] and the transient base otherwise.
    ///
    /// The product saturates instead of overflowing, so any attempt number is
    /// safe; attempt 0 is treated like attempt 1.
    pub fn backoff_ceiling(&self, kind: RetryKind, attempt: u32) -> Duration {
        let base = match kind {
            RetryKind::Throttled => self.throttle_base,
            RetryKind::Transient | RetryKind::Timeout => self.transient_base,
        };
        let doublings = attempt.saturating_sub(1);
        let grown = match 1u32.checked_shl(doublings) {
            Some(factor) => base.saturating_mul(factor),
            None if base.is_zero() => Duration::ZERO,
            // 2^32 or more times any non-zero duration is beyond any sane
            // cap, so saturating here is exact once the cap is applied.
            None => Duration::MAX,
        };
        grown.min(self.max_backoff)
    }

    /// Decides what to do after the attempt described by `attempt`.
    ///
    /// The rules, in order:
    ///
    /// 1. A response whose status is not in `retryable_statuses` (success or
    ///    not) is [`Decision::Done`].
    /// 2. If the body cannot be replayed: give up with
    ///    [`GiveUpReason::BodyNotReplayable`].
    /// 3. If the request is not idempotent, it may have reached the server
    ///    (any response, or a timeout or transport error with `sent`), and
    ///    `retry_non_idempotent` is off: give up with
    ///    [`GiveUpReason::NotIdempotent`]. Connect errors and failures with
    ///    `sent: false` never reached the server and are retried.
    /// 4. If `max_attempts` attempts have been made: give up with
    ///    [`GiveUpReason::AttemptsExhausted`].
    /// 5. The delay is the response's `Retry-After` (or
    ///    `x-retry-after-seconds`) clamped to `retry_after_cap` when present
    ///    and readable; otherwise full jitter, a fraction drawn from `jitter`
    ///    of [`RetryConfig::backoff_ceiling`].
    /// 6. If a deadline is set and `elapsed + delay` reaches it: give up with
    ///    [`GiveUpReason::DeadlineExceeded`]. Reaching it exactly counts,
    ///    because an attempt that starts with no time left cannot finish.
    /// 7. The cost of the retry is withdrawn from `budget`; if it cannot be,
    ///    give up with [`GiveUpReason::BudgetExhausted`].
    ///
    /// Otherwise the answer is [`Decision::Retry`] carrying the delay, the
    /// reason and the budget permit.
    pub fn decide(
        &self,
        attempt: &Attempt<'_>,
        cx: &Context,
        budget: &RetryBudget,
        jitter: &mut dyn Jitter,
    ) -> Decision {
        let Some(failure) = self.classify(attempt, cx) else {
            return Decision::Done;
        };
        if !cx.replayable {
            return give_up(GiveUpReason::BodyNotReplayable);
        }
        if !cx.idempotent && failure.may_have_reached_server && !self.retry_non_idempotent {
            return give_up(GiveUpReason::NotIdempotent);
        }
        if cx.attempt >= self.max_attempts {
            return give_up(GiveUpReason::AttemptsExhausted);
        }
        let kind = failure.reason.kind();
        let after = match failure.server_delay {
            Some(asked) => asked.min(self.retry_after_cap),
            None => jitter
                .next_fraction()
                .of(self.backoff_ceiling(kind, cx.attempt)),
        };
        if let Some(deadline) = cx.deadline
            && cx.elapsed.saturating_add(after) >= deadline
        {
            return give_up(GiveUpReason::DeadlineExceeded);
        }
        match budget.try_withdraw(kind) {
            Some(permit) => Decision::Retry {
                after,
                reason: failure.reason,
                permit,
            },
            None => give_up(GiveUpReason::BudgetExhausted),
        }
    }

    /// Returns what makes `attempt` retryable, or `None` if it is final.
    fn classify(&self, attempt: &Attempt<'_>, cx: &Context) -> Option<Failure> {
        let failure = match *attempt {
            Attempt::Response { status, headers } => {
                if !self.retryable_statuses.contains(&status) {
                    return None;
                }
                let reason = if status == StatusCode::TOO_MANY_REQUESTS {
                    RetryReason::Throttled
                } else {
                    RetryReason::Status(status)
                };
                Failure {
                    reason,
                    may_have_reached_server: true,
                    server_delay: retry_after(headers, cx.now),
                }
            }
            Attempt::ConnectError => Failure::local(RetryReason::ConnectError, false),
            Attempt::Timeout { sent } => Failure::local(RetryReason::Timeout, sent),
            Attempt::TransportError { sent } => Failure::local(RetryReason::TransportError, sent),
        };
        Some(failure)
    }
}

/// A retryable outcome, reduced to the facts the rules need.
struct Failure {
    reason: RetryReason,
    /// Whether the server may have acted on the request.
    may_have_reached_server: bool,
    /// The delay the server asked for, before clamping.
    server_delay: Option<Duration>,
}

impl Failure {
    /// A failure without a response, which therefore carries no
    /// `Retry-After`.
    fn local(reason: RetryReason, sent: bool) -> Self {
        Self {
            reason,
            may_have_reached_server: sent,
            server_delay: None,
        }
    }
}

fn give_up(reason: GiveUpReason) -> Decision {
    Decision::GiveUp { reason }
}
