//! Who the client talks to and with which credential: the three modes, the
//! API secret, the pinned API version, and the HTTP settings every request
//! shares. Everything here ends up in one `client_core::Runtime`, which every
//! generated operation passes through.
//!
//! - The API secret is sent as `X-API-SECRET`, marked sensitive (never
//!   logged by the HTTP stack) and kept in a [`SecretString`]; `Debug` of
//!   [`Client`] and [`ClientBuilder`] never shows it.
//! - `Pinwheel-Version` is pinned to [`API_VERSION`], the version the
//!   generated types were made from, on every request: Pinwheel changes
//!   response shapes only in new dated versions, so the pin keeps the types
//!   and the wire in step.
//! - The transport is client-core's ([`client_core::transport`]): redirects
//!   are followed only to the same scheme, host and port, because the secret
//!   travels in a custom header that HTTP clients do not strip on a
//!   cross-host redirect; a custom base URL must be `https`, or `http` on a
//!   loopback address (for local mocks), so the secret never crosses a
//!   network in clear text.
//! - The rate budget is per API key and mode, as Pinwheel keeps it.

use std::fmt;
use std::num::NonZeroU32;
use std::str::FromStr;

use client_core::settings::{ClientSettings, Connection};
use client_core::{Metrics, Runtime, SecretHeader, SecretString};
use http::{HeaderName, HeaderValue};

use crate::error::{Error, Result};
use crate::retry::{RateLimit, RetryConfig};

/// The `Pinwheel-Version` this crate sends and its types were generated from.
pub const API_VERSION: &str = "2025-07-08";

/// The header carrying the API secret.
pub const API_SECRET_HEADER: &str = "x-api-secret";
/// The header carrying the API version.
pub const VERSION_HEADER: &str = "pinwheel-version";
/// The response header carrying Pinwheel's request id.
pub const REQUEST_ID_HEADER: &str = "x-pinwheel-request-id";

/// The environment variable [`ClientBuilder::from_env`] reads the secret from.
pub const ENV_API_SECRET: &str = "PINWHEEL_API_SECRET";
/// The environment variable [`ClientBuilder::from_env`] reads the mode from.
pub const ENV_MODE: &str = "PINWHEEL_MODE";

/// The user agent sent unless another is configured.
pub const DEFAULT_USER_AGENT: &str = concat!("pinwheel-rs/", env!("CARGO_PKG_VERSION"));

/// Which Pinwheel environment to use. An API key works only in the mode it
/// was created in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Mode {
    /// Test credentials and mock data.
    #[default]
    Sandbox,
    /// Real credentials and real data, not billed.
    Development,
    /// Real and billable.
    Production,
}

impl Mode {
    /// The base URL of the mode, `/v1` included.
    pub const fn base_url(self) -> &'static str {
        match self {
            Mode::Sandbox => "https://sandbox.getpinwheel.com/v1",
            Mode::Development => "https://development.getpinwheel.com/v1",
            Mode::Production => "https://api.getpinwheel.com/v1",
        }
    }

    /// Pinwheel's documented rate limit in the mode: 50 requests per second
    /// in production, 10 in sandbox and development.
    pub fn rate_limit(self) -> RateLimit {
        let per_second = match self {
            Mode::Production => NonZeroU32::new(50),
            Mode::Sandbox | Mode::Development => NonZeroU32::new(10),
        };
        RateLimit::per_second(per_second.unwrap_or(NonZeroU32::MIN))
    }

    /// The name used in `PINWHEEL_MODE` and in Pinwheel's `mode` fields.
    pub const fn as_str(self) -> &'static str {
        match self {
            Mode::Sandbox => "sandbox",
            Mode::Development => "development",
            Mode::Production => "production",
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Mode {
    type Err = Error;

    /// Parses `sandbox`, `development` or `production`, in any letter case.
    fn from_str(name: &str) -> Result<Mode> {
        match name.trim().to_ascii_lowercase().as_str() {
            "sandbox" => Ok(Mode::Sandbox),
            "development" => Ok(Mode::Development),
            "production" => Ok(Mode::Production),
            _ => Err(Error::config(format!(
                "unknown mode {name:?}; expected sandbox, development or production"
            ))),
        }
    }
}

/// The settings shared by [`Client`] and [`crate::admin::AdminClient`]: the
/// mode and everything `client_core::settings` configures.
#[derive(Debug, Clone)]
pub(crate) struct Transport {
    pub(crate) mode: Mode,
    pub(crate) settings: ClientSettings,
}

impl Default for Transport {
    fn default() -> Self {
        Self {
            mode: Mode::default(),
            settings: ClientSettings::new(DEFAULT_USER_AGENT, RetryConfig::default()),
        }
    }
}

impl Transport {
    pub(crate) fn mode(&self) -> Mode {
        self.mode
    }

    /// The HTTP client and the runtime, with `secrets` sent on every request.
    pub(crate) fn build(&self, secrets: Vec<SecretHeader>) -> Result<Connection> {
        // Pinwheel keeps one budget per API key in each mode: the budget is
        // named by the secret and the mode.
        let mut runtime = Runtime::builder("pinwheel")
            .rate_key_extra(self.mode.as_str())
            .default_header(
                HeaderName::from_static(VERSION_HEADER),
                HeaderValue::from_static(API_VERSION),
            )
            .request_id_header(HeaderName::from_static(REQUEST_ID_HEADER));
        for secret in secrets {
            runtime = runtime.secret_header(secret);
        }
        Ok(self
            .settings
            .connect(runtime, self.mode.base_url(), self.mode.rate_limit())?)
    }
}

/// The settings methods shared by both builders: the mode, and
/// `client_core`'s.
macro_rules! transport_setters {
    () => {
        /// The Pinwheel environment (default [`Mode::Sandbox`]); it also picks
        /// the host and the documented rate limit.
        #[must_use]
        pub fn mode(mut self, mode: crate::client::Mode) -> Self {
            self.transport.mode = mode;
            self
        }

        client_core::client_settings!(transport.settings);
    };
}
pub(crate) use transport_setters;

/// Configures a [`Client`].
///
/// ```
/// use std::time::Duration;
/// use pinwheel::{Client, Mode};
///
/// let client = Client::builder("sandbox-secret")
///     .mode(Mode::Sandbox)
///     .attempt_timeout(Duration::from_secs(10))
///     .build()?;
/// assert_eq!(client.base_url(), "https://sandbox.getpinwheel.com/v1");
/// assert!(!format!("{client:?}").contains("sandbox-secret"));
/// # Ok::<(), pinwheel::Error>(())
/// ```
#[derive(Clone)]
pub struct ClientBuilder {
    secret: SecretString,
    transport: Transport,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("secret", &"[redacted]")
            .field("transport", &self.transport)
            .finish()
    }
}

impl ClientBuilder {
    /// A builder for a client authenticating with `secret`.
    pub fn new(secret: impl Into<SecretString>) -> Self {
        Self {
            secret: secret.into(),
            transport: Transport::default(),
        }
    }

    /// A builder from the environment: the secret from `PINWHEEL_API_SECRET`
    /// (required), the mode from `PINWHEEL_MODE` (`sandbox`, `development` or
    /// `production`; default `sandbox`).
    pub fn from_env() -> Result<Self> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// [`ClientBuilder::from_env`] over any source of variables, so it can be
    /// tested without touching the process environment.
    pub(crate) fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let secret = lookup(ENV_API_SECRET)
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| Error::config(format!("{ENV_API_SECRET} is not set")))?;
        let mode = match lookup(ENV_MODE).filter(|m| !m.trim().is_empty()) {
            Some(name) => name.parse()?,
            None => Mode::default(),
        };
        Ok(Self::new(secret).mode(mode))
    }

    transport_setters!();

    /// Builds the client.
    pub fn build(self) -> Result<Client> {
        use client_core::ExposeSecret;
        if self.secret.expose_secret().trim().is_empty() {
            return Err(Error::config("the API secret is empty"));
        }
        let secret = SecretHeader::new(HeaderName::from_static(API_SECRET_HEADER), self.secret)
            .map_err(|e| Error::config_with("the API secret cannot be sent as a header", e))?;
        let built = self.transport.build(vec![secret])?;
        Ok(Client {
            api: pinwheel_client::Client::new_with_client(
                &built.base_url,
                built.http,
                built.runtime.clone(),
            ),
            runtime: built.runtime,
            mode: self.transport.mode(),
            base_url: built.base_url,
        })
    }
}

/// A Pinwheel client: every generated operation, with authentication,
/// retries, rate limiting, typed errors and pagination. Cheap to clone;
/// clones share the rate budget and the counters.
#[derive(Clone)]
pub struct Client {
    api: pinwheel_client::Client,
    runtime: Runtime,
    mode: Mode,
    base_url: String,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("mode", &self.mode)
            .field("base_url", &self.base_url)
            .field("api_version", &API_VERSION)
            .field("metrics", &self.runtime.metrics())
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Starts configuring a client that authenticates with `secret`.
    pub fn builder(secret: impl Into<SecretString>) -> ClientBuilder {
        ClientBuilder::new(secret)
    }

    /// A client from `PINWHEEL_API_SECRET` and `PINWHEEL_MODE`, with defaults otherwise.
    pub fn from_env() -> Result<Client> {
        ClientBuilder::from_env()?.build()
    }

    /// The generated client (also reached through `Deref`): every operation
    /// of the API, as builders that carry this client's credentials, limits
    /// and retries.
    pub fn api(&self) -> &pinwheel_client::Client {
        &self.api
    }

    /// The mode the client was built for.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// The base URL requests go to.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Counters of what the runtime did: calls, attempts, retries, waits.
    pub fn metrics(&self) -> Metrics {
        self.runtime.metrics()
    }
}

impl std::ops::Deref for Client {
    type Target = pinwheel_client::Client;

    /// Every operation of the generated client, as a builder:
    /// `client.get_account().account_id(id).send().await?` (with
    /// [`Call`](crate::Call) in scope) runs it with this client's
    /// credentials, limits and retries.
    fn deref(&self) -> &pinwheel_client::Client {
        &self.api
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn env(vars: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            vars.iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| (*value).to_owned())
        }
    }

    #[test]
    fn documented_limits_per_mode() {
        assert_eq!(Mode::Production.rate_limit().limit().get(), 50);
        assert_eq!(Mode::Sandbox.rate_limit().limit().get(), 10);
        assert_eq!(Mode::Development.rate_limit().limit().get(), 10);
        assert_eq!(Mode::Production.rate_limit().per(), Duration::from_secs(1));
    }

    #[test]
    fn modes_have_their_hosts() {
        assert_eq!(
            Mode::Sandbox.base_url(),
            "https://sandbox.getpinwheel.com/v1"
        );
        assert_eq!(
            Mode::Development.base_url(),
            "https://development.getpinwheel.com/v1"
        );
        assert_eq!(
            Mode::Production.base_url(),
            "https://api.getpinwheel.com/v1"
        );
        assert_eq!("Production".parse::<Mode>().ok(), Some(Mode::Production));
        assert!("prod".parse::<Mode>().is_err());
    }

    #[test]
    fn from_env_reads_secret_and_mode_and_defaults_to_sandbox() {
        let builder = ClientBuilder::from_lookup(env(&[(ENV_API_SECRET, "s3cret")])).unwrap();
        assert_eq!(builder.transport.mode(), Mode::Sandbox);
        let builder = ClientBuilder::from_lookup(env(&[
            (ENV_API_SECRET, "s3cret"),
            (ENV_MODE, "development"),
        ]))
        .unwrap();
        assert_eq!(builder.transport.mode(), Mode::Development);
        let client = builder.build().unwrap();
        assert_eq!(client.base_url(), "https://development.getpinwheel.com/v1");
    }

    #[test]
    fn from_env_fails_without_a_secret_or_with_a_bad_mode() {
        assert!(matches!(
            ClientBuilder::from_lookup(env(&[])),
            Err(Error::Config { .. })
        ));
        assert!(matches!(
            ClientBuilder::from_lookup(env(&[(ENV_API_SECRET, "  ")])),
            Err(Error::Config { .. })
        ));
        assert!(matches!(
            ClientBuilder::from_lookup(env(&[(ENV_API_SECRET, "x"), (ENV_MODE, "live")])),
            Err(Error::Config { .. })
        ));
    }

    #[test]
    fn base_urls_must_not_send_the_secret_in_clear_text() {
        let build = |url: &str| {
            Client::builder("s")
                .base_url(url)
                .build()
                .map(|c| c.base_url().to_owned())
        };
        assert_eq!(
            build("http://127.0.0.1:8080/").unwrap(),
            "http://127.0.0.1:8080"
        );
        assert_eq!(build("http://localhost:1").unwrap(), "http://localhost:1");
        assert_eq!(build("http://[::1]:1/v1").unwrap(), "http://[::1]:1/v1");
        assert_eq!(
            build("https://proxy.example/v1").unwrap(),
            "https://proxy.example/v1"
        );
        assert!(build("http://sandbox.getpinwheel.com/v1").is_err());
        assert!(build("ftp://127.0.0.1").is_err());
        assert!(build("not a url").is_err());
    }

    #[test]
    fn secrets_that_cannot_be_headers_or_are_empty_are_config_errors() {
        assert!(matches!(
            Client::builder("line\nbreak").build(),
            Err(Error::Config { .. })
        ));
        assert!(matches!(
            Client::builder("").build(),
            Err(Error::Config { .. })
        ));
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let builder = Client::builder("super-secret-value");
        assert!(!format!("{builder:?}").contains("super-secret-value"));
        let client = builder.build().unwrap();
        assert!(!format!("{client:?}").contains("super-secret-value"));
        assert!(!format!("{:?}", client.api()).contains("super-secret-value"));
    }
}
