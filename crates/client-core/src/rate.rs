//! Rate limiting: proactive GCRA per credential, corrected by what the server
//! says about its own budget.
//!
//! Both vendors count requests per credential, and other programs may share
//! the credential, so the limiter has two inputs:
//! - a GCRA quota (via `governor`) held in a [`RateStore`] under a key made
//!   of the vendor name and a fingerprint of the credential (never the
//!   secret); the in-process store is the default, a shared store (Redis) can
//!   be plugged in so several processes draw on one budget;
//! - feedback from responses: `x-ratelimit-limit`/`x-ratelimit-remaining`,
//!   the IETF `RateLimit`/`RateLimit-*` fields and `Retry-After`. When the
//!   server reports less budget than our own quota would allow, requests are
//!   paced to what is left; at zero, or after a 429, everything on this key
//!   waits for the reset (or a configured penalty when none is given).
//!
//! All waiting uses `tokio::time`, so tests on a paused clock are exact.

use std::fmt;
use std::future::Future;
use std::num::NonZeroU32;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use governor::clock::Clock;
use http::{HeaderMap, HeaderName};
use tokio::time::Instant;

/// A request budget: `limit` requests per `per`, with bursts up to `burst`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    limit: NonZeroU32,
    per: Duration,
    burst: NonZeroU32,
    penalty: Duration,
}

impl RateLimit {
    /// `limit` requests per `per`; bursts up to `limit`; a 429 without a reset
    /// time blocks the key for `per`.
    pub fn new(limit: NonZeroU32, per: Duration) -> Self {
        Self {
            limit,
            per,
            burst: limit,
            penalty: per,
        }
    }

    /// `limit` requests per second.
    pub fn per_second(limit: NonZeroU32) -> Self {
        Self::new(limit, Duration::from_secs(1))
    }

    /// `limit` requests per minute.
    pub fn per_minute(limit: NonZeroU32) -> Self {
        Self::new(limit, Duration::from_secs(60))
    }

    /// The largest burst allowed after a quiet period (default: `limit`).
    pub fn with_burst(mut self, burst: NonZeroU32) -> Self {
        self.burst = burst;
        self
    }

    /// How long a 429 (or `remaining: 0`) blocks the key when the server gives
    /// no reset time (default: `per`, i.e. wait out the whole window).
    pub fn with_penalty(mut self, penalty: Duration) -> Self {
        self.penalty = penalty;
        self
    }

    /// Requests per window.
    pub fn limit(&self) -> NonZeroU32 {
        self.limit
    }

    /// The window.
    pub fn per(&self) -> Duration {
        self.per
    }

    /// The burst size.
    pub fn burst(&self) -> NonZeroU32 {
        self.burst
    }

    /// The wait after a 429 without reset information.
    pub fn penalty(&self) -> Duration {
        self.penalty
    }

    /// Time between two requests at the sustained rate.
    pub fn interval(&self) -> Duration {
        self.per / self.limit.get()
    }

    fn quota(&self) -> governor::Quota {
        let quota = governor::Quota::with_period(self.interval())
            .unwrap_or_else(|| governor::Quota::per_second(self.limit));
        quota.allow_burst(self.burst)
    }
}

/// What a store answers to a request for one unit of budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Go ahead: the unit was taken.
    Allowed,
    /// Not yet: ask again after this long.
    RetryIn(Duration),
}

/// A failure of a shared store (e.g. Redis unreachable).
#[derive(Debug, thiserror::Error)]
#[error("rate-limit store unavailable: {message}")]
pub struct StoreError {
    /// What went wrong.
    pub message: String,
}

/// A boxed future returned by [`RateStore`] methods.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Where GCRA state lives. The in-process default keeps it in memory; a
/// shared implementation lets several processes draw on one budget.
pub trait RateStore: Send + Sync + fmt::Debug {
    /// Takes one unit of `limit` under `key`, or says how long to wait.
    fn acquire<'a>(
        &'a self,
        key: &'a str,
        limit: &'a RateLimit,
    ) -> StoreFuture<'a, Result<Admission, StoreError>>;
}

/// governor's clock on top of `tokio::time`, so a paused test clock drives it.
#[derive(Debug, Clone, Copy)]
struct TokioClock {
    base: Instant,
}

impl Clock for TokioClock {
    type Instant = Duration;

    fn now(&self) -> Duration {
        self.base.elapsed()
    }
}

type Direct = governor::RateLimiter<
    governor::state::NotKeyed,
    governor::state::InMemoryState,
    TokioClock,
    governor::middleware::NoOpMiddleware<Duration>,
>;

/// The default store: GCRA state in this process's memory.
#[derive(Debug, Default)]
pub struct InProcessStore {
    limiters: Mutex<Vec<(String, RateLimit, Arc<Direct>)>>,
}

impl InProcessStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn limiter(&self, key: &str, limit: &RateLimit) -> Arc<Direct> {
        let mut limiters = self
            .limiters
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some((_, _, limiter)) = limiters.iter().find(|(k, l, _)| k == key && l == limit) {
            return Arc::clone(limiter);
        }
        let clock = TokioClock {
            base: Instant::now(),
        };
        let limiter = Arc::new(governor::RateLimiter::direct_with_clock(
            limit.quota(),
            clock,
        ));
        limiters.push((key.to_owned(), *limit, Arc::clone(&limiter)));
        limiter
    }
}

impl RateStore for InProcessStore {
    fn acquire<'a>(
        &'a self,
        key: &'a str,
        limit: &'a RateLimit,
    ) -> StoreFuture<'a, Result<Admission, StoreError>> {
        let limiter = self.limiter(key, limit);
        Box::pin(async move {
            Ok(match limiter.check() {
                Ok(()) => Admission::Allowed,
                // `wait_time_from` needs a reading of the limiter's own clock.
                Err(not_until) => {
                    Admission::RetryIn(not_until.wait_time_from(limiter.clock().now()))
                }
            })
        })
    }
}

/// What the server last said about the budget of this key.
#[derive(Debug, Default)]
struct Feedback {
    /// Nothing is sent on this key before this instant.
    blocked_until: Option<Instant>,
    /// Requests are spaced at least this far apart while the server reports
    /// less budget than the quota would allow.
    pace: Option<Duration>,
    /// The earliest instant the next paced request may go.
    next_slot: Option<Instant>,
}

/// Numbers read from one response's headers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ServerBudget {
    /// The server's limit for the window, if stated.
    pub limit: Option<u64>,
    /// Requests left in the window, if stated.
    pub remaining: Option<u64>,
    /// Time until the window resets, if stated.
    pub reset: Option<Duration>,
}

impl ServerBudget {
    /// Whether any header could state a budget or a wait: `Retry-After`,
    /// `X-Retry-After-Seconds`, or a name starting with `RateLimit` or
    /// `X-RateLimit`. Most responses carry none of them, and one pass over
    /// their few names is cheaper than looking each of these up.
    pub fn mentioned(headers: &HeaderMap) -> bool {
        headers.keys().any(|name| {
            *name == http::header::RETRY_AFTER
                || *name == crate::retry::RETRY_AFTER_FALLBACK
                || name.as_str().starts_with("ratelimit")
                || name.as_str().starts_with("x-ratelimit")
        })
    }

    /// Reads `x-ratelimit-limit`/`-remaining`/`-reset`, IETF `RateLimit-Limit`/
    /// `-Remaining`/`-Reset`, and the structured `RateLimit: limit=..,
    /// remaining=.., reset=..` field. Unparsable values are ignored.
    pub fn from_headers(headers: &HeaderMap) -> Self {
        // Names as constants: looking a header up by `&str` parses the name
        // first, and this runs on every response.
        const X_LIMIT: HeaderName = HeaderName::from_static("x-ratelimit-limit");
        const LIMIT: HeaderName = HeaderName::from_static("ratelimit-limit");
        const X_REMAINING: HeaderName = HeaderName::from_static("x-ratelimit-remaining");
        const REMAINING: HeaderName = HeaderName::from_static("ratelimit-remaining");
        const X_RESET: HeaderName = HeaderName::from_static("x-ratelimit-reset");
        const RESET: HeaderName = HeaderName::from_static("ratelimit-reset");
        const STRUCTURED: HeaderName = HeaderName::from_static("ratelimit");
        let number = |name: HeaderName| -> Option<u64> {
            headers
                .get(name)?
                .to_str()
                .ok()?
                .split(',')
                .next()?
                .trim()
                .parse()
                .ok()
        };
        let mut budget = ServerBudget {
            limit: number(X_LIMIT).or_else(|| number(LIMIT)),
            remaining: number(X_REMAINING).or_else(|| number(REMAINING)),
            reset: number(X_RESET)
                .or_else(|| number(RESET))
                .map(Duration::from_secs),
        };
        if let Some(structured) = headers.get(STRUCTURED).and_then(|v| v.to_str().ok()) {
            for part in structured.split([',', ';']) {
                let Some((key, value)) = part.trim().split_once('=') else {
                    continue;
                };
                let value = value.trim().trim_matches('"');
                let Ok(value) = value.parse::<u64>() else {
                    continue;
                };
                match key.trim() {
                    "limit" | "l" => budget.limit = budget.limit.or(Some(value)),
                    "remaining" | "r" => budget.remaining = budget.remaining.or(Some(value)),
                    "reset" | "t" => {
                        budget.reset = budget.reset.or(Some(Duration::from_secs(value)))
                    }
                    _ => {}
                }
            }
        }
        budget
    }
}

/// The limiter of one runtime: a key, a quota, a store, and server feedback.
#[derive(Debug, Clone)]
pub(crate) struct Limiter {
    inner: Arc<LimiterInner>,
}

#[derive(Debug)]
struct LimiterInner {
    key: String,
    limit: Option<RateLimit>,
    store: Arc<dyn RateStore>,
    max_block: Duration,
    feedback: Mutex<Feedback>,
}

/// How long a request waited before it was allowed to go.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Waited {
    pub(crate) total: Duration,
    pub(crate) times: u32,
}

impl Limiter {
    /// `max_block` bounds how long server feedback may stop the key: a bad
    /// `Retry-After` or reset header must not stall every caller for hours.
    pub(crate) fn new(
        key: String,
        limit: Option<RateLimit>,
        store: Arc<dyn RateStore>,
        max_block: Duration,
    ) -> Self {
        Self {
            inner: Arc::new(LimiterInner {
                key,
                limit,
                store,
                max_block,
                feedback: Mutex::new(Feedback::default()),
            }),
        }
    }

    pub(crate) fn key(&self) -> &str {
        &self.inner.key
    }

    fn feedback(&self) -> std::sync::MutexGuard<'_, Feedback> {
        self.inner
            .feedback
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Waits until one request may be sent. A store failure is returned so
    /// the caller's policy can decide (fall back or fail).
    pub(crate) async fn acquire(&self) -> Result<Waited, StoreError> {
        let mut waited = Waited::default();
        // Server feedback first: a block or a pace applies to everyone on the key.
        loop {
            let wait = {
                let mut feedback = self.feedback();
                let now = Instant::now();
                let blocked = feedback.blocked_until.filter(|until| *until > now);
                match blocked {
                    Some(until) => Some(until - now),
                    None => {
                        feedback.blocked_until = None;
                        match (feedback.pace, feedback.next_slot) {
                            (Some(pace), Some(slot)) if slot > now => {
                                Some(slot - now).inspect(|_| {
                                    feedback.next_slot = Some(slot + pace);
                                })
                            }
                            (Some(pace), _) => {
                                feedback.next_slot = Some(now + pace);
                                None
                            }
                            _ => None,
                        }
                    }
                }
            };
            match wait {
                Some(duration) => {
                    waited.total += duration;
                    waited.times += 1;
                    tokio::time::sleep(duration).await;
                    // A paced slot was reserved above; a block is re-checked.
                    if self.feedback().blocked_until.is_none() {
                        break;
                    }
                }
                None => break,
            }
        }
        let Some(limit) = self.inner.limit else {
            return Ok(waited);
        };
        loop {
            match self.inner.store.acquire(&self.inner.key, &limit).await? {
                Admission::Allowed => return Ok(waited),
                Admission::RetryIn(duration) => {
                    waited.total += duration;
                    waited.times += 1;
                    tokio::time::sleep(duration).await;
                }
            }
        }
    }

    /// Feeds one response back: the server's own count of what is left.
    pub(crate) fn observe(&self, status: u16, budget: ServerBudget, retry_after: Option<Duration>) {
        let now = Instant::now();
        let mut feedback = self.feedback();
        let penalty = self.inner.limit.map(|l| l.penalty());
        let block_for = if status == 429 {
            retry_after
                .or(budget.reset)
                .or(penalty)
                .or(Some(Duration::from_secs(1)))
        } else if budget.remaining == Some(0) {
            budget.reset.or(retry_after).or(penalty)
        } else {
            None
        };
        let max_block = self.inner.max_block;
        if let Some(duration) = block_for {
            let duration = duration.min(max_block);
            let until = now.checked_add(duration).unwrap_or(now);
            if feedback.blocked_until.is_none_or(|current| current < until) {
                feedback.blocked_until = Some(until);
            }
            return;
        }
        // Pace when the server reports less than our own quota would allow:
        // spread what is left over the window (or its reset, when stated).
        let Some(remaining) = budget.remaining else {
            return;
        };
        let Some(limit) = self.inner.limit else {
            return;
        };
        let window = budget
            .reset
            .unwrap_or(limit.per())
            .min(max_block.max(limit.per()));
        let server_limit = budget.limit.unwrap_or(u64::from(limit.limit().get()));
        // Below 10 % of the window's budget, other users of the key are
        // consuming it: slow down so we do not run into a 429.
        if remaining.saturating_mul(10) < server_limit {
            let pace = window / u32::try_from(remaining.max(1)).unwrap_or(u32::MAX);
            feedback.pace = Some(pace.max(limit.interval()));
        } else {
            feedback.pace = None;
            feedback.next_slot = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAX: Duration = Duration::from_secs(60);

    /// A limiter for `limit` with an in-process store and a 60 s cap on blocks.
    fn limiter(limit: RateLimit) -> Limiter {
        Limiter::new(
            "k".into(),
            Some(limit),
            Arc::new(InProcessStore::new()),
            MAX,
        )
    }

    fn nz(n: u32) -> NonZeroU32 {
        NonZeroU32::new(n).unwrap()
    }

    #[test]
    fn server_budget_reads_every_header_form() {
        let mut headers = HeaderMap::new();
        headers.insert("x-ratelimit-limit", "100".parse().unwrap());
        headers.insert("x-ratelimit-remaining", "7".parse().unwrap());
        assert_eq!(
            ServerBudget::from_headers(&headers),
            ServerBudget {
                limit: Some(100),
                remaining: Some(7),
                reset: None
            }
        );
        let mut headers = HeaderMap::new();
        headers.insert(
            "ratelimit",
            "limit=10, remaining=0, reset=30".parse().unwrap(),
        );
        assert_eq!(
            ServerBudget::from_headers(&headers),
            ServerBudget {
                limit: Some(10),
                remaining: Some(0),
                reset: Some(Duration::from_secs(30))
            }
        );
        let mut headers = HeaderMap::new();
        headers.insert("x-ratelimit-remaining", "lots".parse().unwrap());
        assert_eq!(
            ServerBudget::from_headers(&headers),
            ServerBudget::default()
        );
    }

    /// The runtime skips both parsers when `mentioned` says no header could
    /// feed them: for every name either reads, it must say yes.
    #[test]
    fn every_header_the_parsers_read_is_mentioned() {
        let now = std::time::SystemTime::now();
        let names = [
            "X-RateLimit-Limit",
            "X-RateLimit-Remaining",
            "X-RateLimit-Reset",
            "RateLimit-Limit",
            "RateLimit-Remaining",
            "RateLimit-Reset",
            "RateLimit",
            "Retry-After",
            "X-Retry-After-Seconds",
            // Read by neither:
            "X-Request-Id",
            "Content-Type",
            "Retry-After-Ms",
        ];
        let mut read = 0;
        for name in names {
            for value in ["5", "limit=10, remaining=0, reset=30"] {
                let mut headers = HeaderMap::new();
                headers.insert(
                    http::header::DATE,
                    "Thu, 03 Dec 2026 19:00:00 GMT".parse().unwrap(),
                );
                headers.insert(
                    http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                    value.parse().unwrap(),
                );
                let used = ServerBudget::from_headers(&headers) != ServerBudget::default()
                    || crate::retry::retry_after(&headers, now).is_some();
                read += usize::from(used);
                assert!(
                    !used || ServerBudget::mentioned(&headers),
                    "{name}: {value}"
                );
            }
        }
        // Each of the nine names the parsers know was read at least once.
        assert!(read >= 9, "{read}");
        let mut plain = HeaderMap::new();
        plain.insert(
            http::header::CONTENT_TYPE,
            "application/json".parse().unwrap(),
        );
        assert!(!ServerBudget::mentioned(&plain));
    }

    #[tokio::test(start_paused = true)]
    async fn a_burst_is_held_to_the_quota() {
        let limiter = limiter(RateLimit::per_second(nz(10)));
        let start = Instant::now();
        for _ in 0..30 {
            limiter.acquire().await.unwrap();
        }
        // 10 go at once (the burst), the next 20 at 100 ms intervals.
        assert_eq!(start.elapsed(), Duration::from_millis(2000));
    }

    #[tokio::test(start_paused = true)]
    async fn remaining_zero_blocks_the_key_for_the_penalty() {
        let limit = RateLimit::per_minute(nz(100));
        let limiter = limiter(limit);
        limiter.acquire().await.unwrap();
        let mut headers = HeaderMap::new();
        headers.insert("x-ratelimit-limit", "100".parse().unwrap());
        headers.insert("x-ratelimit-remaining", "0".parse().unwrap());
        limiter.observe(200, ServerBudget::from_headers(&headers), None);
        let start = Instant::now();
        let waited = limiter.acquire().await.unwrap();
        assert_eq!(start.elapsed(), Duration::from_secs(60));
        assert_eq!(waited.times, 1);
    }

    #[tokio::test(start_paused = true)]
    async fn a_429_with_retry_after_blocks_for_that_long() {
        let limiter = limiter(RateLimit::per_second(nz(50)));
        limiter.observe(429, ServerBudget::default(), Some(Duration::from_secs(3)));
        let start = Instant::now();
        limiter.acquire().await.unwrap();
        assert_eq!(start.elapsed(), Duration::from_secs(3));
    }

    #[tokio::test(start_paused = true)]
    async fn low_remaining_budget_paces_requests_over_the_window() {
        let limit = RateLimit::per_minute(nz(100));
        let limiter = limiter(limit);
        let mut headers = HeaderMap::new();
        headers.insert("x-ratelimit-limit", "100".parse().unwrap());
        headers.insert("x-ratelimit-remaining", "5".parse().unwrap());
        limiter.observe(200, ServerBudget::from_headers(&headers), None);
        let start = Instant::now();
        for _ in 0..3 {
            limiter.acquire().await.unwrap();
        }
        // 5 left in a 60 s window: one every 12 s; the first goes at once.
        assert_eq!(start.elapsed(), Duration::from_secs(24));
    }

    #[tokio::test(start_paused = true)]
    async fn absurd_reset_headers_are_bounded_and_never_overflow() {
        let limiter = limiter(RateLimit::per_second(nz(50)));
        let mut headers = HeaderMap::new();
        headers.insert("x-ratelimit-remaining", "0".parse().unwrap());
        headers.insert("x-ratelimit-reset", u64::MAX.to_string().parse().unwrap());
        limiter.observe(200, ServerBudget::from_headers(&headers), None);
        limiter.observe(
            429,
            ServerBudget::default(),
            Some(Duration::from_secs(u64::MAX)),
        );
        let start = Instant::now();
        limiter.acquire().await.unwrap();
        assert_eq!(start.elapsed(), MAX, "blocked for the cap, not for ever");
    }
}
