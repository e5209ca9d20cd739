//! The retry policy PensionPro calls get by default, and why.
//!
//! PensionPro refuses every call of a firm after a 429 until its one-minute
//! window has passed, and says nothing about when that is (no `Retry-After`,
//! no reset header). The runtime's limiter already blocks the key for the
//! whole window after a 429, so a retry waits there rather than in the
//! backoff; the policy only has to allow one such wait. Writes (POST) are
//! never replayed unless a call opts in, because PensionPro has no
//! idempotency keys and a replayed create makes a second record.

use std::time::Duration;

pub use client_core::call::CallOptions;
pub use client_core::retry::RetryConfig;

/// Three attempts; transient failures back off from 200 ms; a 429 waits for
/// the window (the limiter's block) before its one retry; `Retry-After`, if
/// PensionPro ever sends it, is obeyed up to 65 s.
pub fn default_policy() -> RetryConfig {
    RetryConfig::default()
        .with_max_attempts(3)
        .with_transient_base(Duration::from_millis(200))
        .with_throttle_base(Duration::from_secs(1))
        .with_retry_after_cap(Duration::from_secs(65))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_are_not_replayed_and_429_is_retried() {
        let policy = default_policy();
        assert!(!policy.retry_non_idempotent);
        assert!(
            policy
                .retryable_statuses
                .contains(&reqwest::StatusCode::TOO_MANY_REQUESTS)
        );
        assert_eq!(policy.max_attempts, 3);
    }
}
