//! The settings every client builder shares, and the builder methods that
//! set them, written once: where requests go, how long they may take, how
//! they are retried and paced, and where the rate budget is kept.
//!
//! A wrapper's builder holds a [`ClientSettings`] in a field and expands
//! [`client_settings!`](crate::client_settings) inside its `impl` to get the
//! methods; its `build` hands a [`RuntimeBuilder`] with its credentials to
//! [`ClientSettings::connect`], which checks the base URL, builds the HTTP
//! client and finishes the runtime.

use std::sync::Arc;
use std::time::Duration;

use crate::rate::{RateLimit, RateStore};
use crate::retry::RetryConfig;
use crate::transport::{HttpSettings, TransportError, check_base_url};
use crate::{Runtime, RuntimeBuilder};

/// Whether and how a client paces itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateChoice {
    /// The vendor's documented limit for the client's plan or mode.
    Documented,
    /// Another limit, e.g. to leave part of a shared budget to others.
    Custom(RateLimit),
    /// No proactive pacing (a 429 still holds requests back).
    Off,
}

/// What a client builder configures besides its credentials.
#[derive(Clone)]
pub struct ClientSettings {
    /// Where requests go instead of the vendor's host (checked by
    /// [`ClientSettings::connect`]).
    pub base_url: Option<String>,
    /// User agent and connect timeout.
    pub http: HttpSettings,
    /// The timeout of each attempt (default: the runtime's, 30 s).
    pub attempt_timeout: Option<Duration>,
    /// A default overall deadline of each call (default none).
    pub deadline: Option<Duration>,
    /// The retry policy.
    pub retry: RetryConfig,
    /// The pacing.
    pub rate: RateChoice,
    /// Where the rate budget is kept (default: in this process).
    pub rate_store: Option<Arc<dyn RateStore>>,
    /// A fixed jitter fraction instead of random jitter (tests).
    pub fixed_jitter: Option<u32>,
}

impl std::fmt::Debug for ClientSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientSettings")
            .field("base_url", &self.base_url)
            .field("http", &self.http)
            .field("attempt_timeout", &self.attempt_timeout)
            .field("deadline", &self.deadline)
            .field("retry", &self.retry)
            .field("rate", &self.rate)
            .field("rate_store", &self.rate_store.as_ref().map(|_| "custom"))
            .finish_non_exhaustive()
    }
}

/// What [`ClientSettings::connect`] produces: everything a generated client
/// needs.
#[derive(Debug, Clone)]
pub struct Connection {
    /// The checked base URL, without a trailing slash.
    pub base_url: String,
    /// The HTTP client (same-origin redirects only).
    pub http: reqwest::Client,
    /// The runtime every request passes through.
    pub runtime: Runtime,
}

/// A setting that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SettingsError {
    /// The base URL or the HTTP client.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// The Redis URL of a shared rate budget.
    #[error("invalid Redis URL: {0}")]
    Redis(String),
}

impl ClientSettings {
    /// Settings for requests to the vendor's host, naming the client
    /// `user_agent`, retried by `retry`, paced at the documented limit.
    pub fn new(user_agent: impl Into<String>, retry: RetryConfig) -> Self {
        Self {
            base_url: None,
            http: HttpSettings::new(user_agent),
            attempt_timeout: None,
            deadline: None,
            retry,
            rate: RateChoice::Documented,
            rate_store: None,
            fixed_jitter: None,
        }
    }

    /// Checks the base URL (`vendor_url` unless another was set), builds the
    /// HTTP client, and finishes `runtime` (which carries the credentials)
    /// with these settings; `documented` is the vendor's limit for
    /// [`RateChoice::Documented`].
    ///
    /// # Errors
    ///
    /// [`SettingsError::Transport`] for a base URL that is not a URL or would
    /// send credentials in clear text, or an HTTP client reqwest cannot build.
    pub fn connect(
        &self,
        runtime: RuntimeBuilder,
        vendor_url: &str,
        documented: RateLimit,
    ) -> Result<Connection, SettingsError> {
        let base_url = check_base_url(self.base_url.as_deref().unwrap_or(vendor_url))?;
        let http = self.http.client()?;
        let mut runtime = runtime.retry(self.retry.clone());
        match self.rate {
            RateChoice::Documented => runtime = runtime.rate_limit(documented),
            RateChoice::Custom(limit) => runtime = runtime.rate_limit(limit),
            RateChoice::Off => {}
        }
        if let Some(store) = &self.rate_store {
            runtime = runtime.rate_store(Arc::clone(store));
        }
        if let Some(timeout) = self.attempt_timeout {
            runtime = runtime.attempt_timeout(timeout);
        }
        if let Some(deadline) = self.deadline {
            runtime = runtime.deadline(deadline);
        }
        if let Some(fraction) = self.fixed_jitter {
            runtime = runtime.fixed_jitter(fraction);
        }
        Ok(Connection {
            base_url,
            http,
            runtime: runtime.build(),
        })
    }

    /// A rate store shared through the Redis at `url` (the `redis` feature),
    /// falling back to this process's own limiter, with a warning, while
    /// Redis is unreachable.
    ///
    /// # Errors
    ///
    /// [`SettingsError::Redis`] when `url` is not a Redis URL.
    #[cfg(feature = "redis")]
    pub fn redis_store(url: &str) -> Result<Arc<dyn RateStore>, SettingsError> {
        let store = crate::redis_store::RedisStore::new(url)
            .map_err(|error| SettingsError::Redis(error.to_string()))?;
        Ok(Arc::new(store))
    }
}

/// The builder methods of [`ClientSettings`], for a builder whose field
/// `$field` (a path such as `settings` or `transport.settings`) holds
/// them, in a crate with a `Result` whose error is `From<SettingsError>` and
/// a `redis` feature that enables `client-core/redis`.
#[macro_export]
#[allow(
    clippy::crate_in_macro_def,
    reason = "`redis` returns the Result of the crate that expands the macro"
)]
macro_rules! client_settings {
    ($($field:ident).+) => {
        /// Sends requests to `base_url` instead of the vendor's host, e.g. a
        /// mock server. It must be `https`, or `http` on a loopback address,
        /// so credentials never cross a network in clear text.
        #[must_use]
        pub fn base_url(mut self, base_url: impl Into<String>) -> Self {
            self.$($field).+.base_url = Some(base_url.into());
            self
        }

        /// How long connecting (TCP and TLS) may take (default 10 s).
        #[must_use]
        pub fn connect_timeout(mut self, timeout: ::std::time::Duration) -> Self {
            self.$($field).+.http.connect_timeout = timeout;
            self
        }

        /// The timeout of each attempt, headers and body (default 30 s).
        #[must_use]
        pub fn attempt_timeout(mut self, timeout: ::std::time::Duration) -> Self {
            self.$($field).+.attempt_timeout = Some(timeout);
            self
        }

        /// A default overall deadline of each call (default none): limiter
        /// waits, every attempt, the waits between them and reading the
        /// body all count against it. A per-call deadline replaces it.
        #[must_use]
        pub fn deadline(mut self, deadline: ::std::time::Duration) -> Self {
            self.$($field).+.deadline = Some(deadline);
            self
        }

        /// The `User-Agent` header (default `<crate>-rs/<version>`).
        #[must_use]
        pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
            self.$($field).+.http.user_agent = user_agent.into();
            self
        }

        /// The retry policy (see the crate's `retry` module).
        #[must_use]
        pub fn retry(mut self, retry: $crate::retry::RetryConfig) -> Self {
            self.$($field).+.retry = retry;
            self
        }

        /// Paces requests to `limit` instead of the vendor's documented
        /// limit, e.g. to leave part of a shared budget to other programs.
        #[must_use]
        pub fn rate_limit(mut self, limit: $crate::rate::RateLimit) -> Self {
            self.$($field).+.rate = $crate::settings::RateChoice::Custom(limit);
            self
        }

        /// Sends without proactive pacing (a 429 still holds requests back).
        #[must_use]
        pub fn without_rate_limit(mut self) -> Self {
            self.$($field).+.rate = $crate::settings::RateChoice::Off;
            self
        }

        /// Keeps the rate budget in `store`; share one store between the
        /// processes that use the same credentials.
        #[must_use]
        pub fn rate_store(mut self, store: ::std::sync::Arc<dyn $crate::rate::RateStore>) -> Self {
            self.$($field).+.rate_store = Some(store);
            self
        }

        /// Shares the rate budget with every process using the same
        /// credentials through the Redis at `url`, falling back to this
        /// process's own limiter (with a warning) while Redis is unreachable.
        /// Needs the `redis` feature; for another outage policy pass a
        /// configured store to `rate_store`.
        ///
        /// # Errors
        ///
        /// A configuration error when `url` is not a Redis URL.
        #[cfg(feature = "redis")]
        pub fn redis(self, url: &str) -> crate::Result<Self> {
            let store = $crate::settings::ClientSettings::redis_store(url)?;
            Ok(self.rate_store(store))
        }

        /// Replaces random retry jitter with a fixed fraction (`x / 2^32` of
        /// the backoff window), for tests that assert exact waits.
        #[must_use]
        pub fn fixed_jitter(mut self, fraction: u32) -> Self {
            self.$($field).+.fixed_jitter = Some(fraction);
            self
        }
    };
}
