//! Counters a user can read: what the runtime did across all calls of a client.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Live counters, shared by every clone of a runtime.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    calls: AtomicU64,
    attempts: AtomicU64,
    retries: AtomicU64,
    throttled_waits: AtomicU64,
    throttled_nanos: AtomicU64,
    responses_429: AtomicU64,
    gave_up: AtomicU64,
}

/// A snapshot of a runtime's counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Metrics {
    /// Requests handed to the runtime by generated methods.
    pub calls: u64,
    /// Attempts sent (calls plus retries).
    pub attempts: u64,
    /// Attempts that were retries.
    pub retries: u64,
    /// Times the rate limiter made a request wait.
    pub throttled_waits: u64,
    /// Total time requests waited for the rate limiter.
    pub throttled_for: Duration,
    /// 429 responses received.
    pub responses_429: u64,
    /// Retryable outcomes that were returned because the policy said stop.
    pub gave_up: u64,
}

impl Counters {
    pub(crate) fn call(&self) {
        self.calls.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn attempt(&self, retry: bool) {
        self.attempts.fetch_add(1, Ordering::Relaxed);
        if retry {
            self.retries.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub(crate) fn throttled(&self, times: u32, waited: Duration) {
        if times > 0 {
            self.throttled_waits
                .fetch_add(u64::from(times), Ordering::Relaxed);
            let nanos = u64::try_from(waited.as_nanos()).unwrap_or(u64::MAX);
            self.throttled_nanos.fetch_add(nanos, Ordering::Relaxed);
        }
    }

    pub(crate) fn status(&self, status: u16) {
        if status == 429 {
            self.responses_429.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub(crate) fn gave_up(&self) {
        self.gave_up.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> Metrics {
        Metrics {
            calls: self.calls.load(Ordering::Relaxed),
            attempts: self.attempts.load(Ordering::Relaxed),
            retries: self.retries.load(Ordering::Relaxed),
            throttled_waits: self.throttled_waits.load(Ordering::Relaxed),
            throttled_for: Duration::from_nanos(self.throttled_nanos.load(Ordering::Relaxed)),
            responses_429: self.responses_429.load(Ordering::Relaxed),
            gave_up: self.gave_up.load(Ordering::Relaxed),
        }
    }
}
