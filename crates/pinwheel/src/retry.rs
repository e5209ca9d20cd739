//! What the client retries, how fast it sends, and how to change either for
//! one call, because Pinwheel rate-limits per key and sheds load with 5xx.
//!
//! Every request goes through the shared runtime (`client_core`), which
//! applies these policies to every operation:
//!
//! - **Retries** ([`RetryConfig`], default [`RetryConfig::default`]): three
//!   attempts with full-jitter exponential backoff for 408, 429, 500, 502, 503
//!   and 504 and for connection failures. Pinwheel documents 502 as
//!   "down or upgrading" and 500/503/504 as "try again later". Only
//!   idempotent methods (GET, PUT, DELETE) are replayed after the request may
//!   have reached the server: Pinwheel has no idempotency keys, so a replayed
//!   POST (a link token, a key, a webhook) could happen twice. A POST is still
//!   retried when the connection failed before anything was sent.
//! - **Rate limit** ([`RateLimit`]): Pinwheel allows 50 requests per second
//!   per key in production and 10 in sandbox and development
//!   ([`Mode::rate_limit`](crate::Mode::rate_limit)); the client paces itself to stay under it, and
//!   after a 429 it holds every request on the key back for the server's
//!   `Retry-After` (or one window when none is sent). Processes that share a
//!   key can share the budget through a [`RateStore`].
//! - **Per call** ([`CallOptions`]): a deadline for the whole call (waits and
//!   retries included), a per-attempt timeout, another retry policy, or
//!   permission to replay a POST you know is harmless; pass them to
//!   [`Call::send_with`](crate::Call::send_with) or
//!   [`crate::pagination::Listing::call_options`].
//!
//! ```
//! use std::time::Duration;
//! use pinwheel::retry::{CallOptions, RetryConfig};
//!
//! let patient = RetryConfig::default().with_max_attempts(5);
//! let options = CallOptions::default()
//!     .with_deadline(Duration::from_secs(20))
//!     .with_retry(patient);
//! # let _ = options;
//! ```

pub use client_core::call::CallOptions;
pub use client_core::rate::{InProcessStore, RateLimit, RateStore};
pub use client_core::retry::{RetryBudget, RetryConfig};
