//! Credentials, the rate plan and the [`Client`] they configure.
//!
//! PensionPro needs a firm API key *and* the username of an active user on
//! every call; writes are audited under that user. Both go out as headers,
//! marked sensitive so they never appear in logs or `Debug` output. The
//! header names default to `apikey` and `username`: every v1 client and the
//! newest v2 client send them that way, but the v2 form is not proven (the
//! Swagger UI takes one `key|username` value under a header name nobody has
//! published), so both names can be changed without a new release.

use std::fmt;
use std::num::{NonZeroU32, NonZeroUsize};
use std::sync::Arc;
use std::time::Duration;

use client_core::rate::RateLimit;
use client_core::settings::{ClientSettings, Connection};
use client_core::{ExposeSecret, Runtime, SecretHeader, SecretString};
use reqwest::header::HeaderName;
use tokio::sync::Semaphore;

use crate::error::{Error, Result};

/// Pages a walk fetches at once unless configured otherwise.
pub const DEFAULT_CONCURRENCY: NonZeroUsize = match NonZeroUsize::new(4) {
    Some(pages) => pages,
    None => NonZeroUsize::MIN,
};

/// What the pages of a walk (the page being read and those fetched ahead)
/// may take in memory unless configured otherwise: 24 MiB. A walk holds a
/// page's rows as their JSON text until they are taken, so a page takes
/// about its body's size: about 2 MiB for 1000 plans like the vendor's
/// sample (2 KB each), so [`DEFAULT_CONCURRENCY`] pages at a time; the
/// budget binds for rows with large expansions.
pub const DEFAULT_PAGE_MEMORY: usize = 24 * 1024 * 1024;

/// The production host; v2 paths start with `/v2/`.
pub const DEFAULT_BASE_URL: &str = "https://api.pensionpro.com";

/// The environment variable [`ClientBuilder::credentials_from_env`] reads the API key from.
pub const API_KEY_ENV: &str = "PENSIONPRO_API_KEY";

/// The environment variable [`ClientBuilder::credentials_from_env`] reads the username from.
pub const USERNAME_ENV: &str = "PENSIONPRO_USERNAME";

/// The header that carries the API key unless configured otherwise.
pub const DEFAULT_API_KEY_HEADER: &str = "apikey";

/// The header that carries the username unless configured otherwise.
pub const DEFAULT_USERNAME_HEADER: &str = "username";

/// The user agent sent unless another is configured.
pub const DEFAULT_USER_AGENT: &str = concat!("pensionpro-rs/", env!("CARGO_PKG_VERSION"));

/// How many uploads, and separately downloads, PensionPro allows at once.
pub(crate) const FILE_TRANSFER_LIMIT: usize = 2;

/// How long one upload or download may take unless configured otherwise.
const DEFAULT_FILE_TIMEOUT: Duration = Duration::from_secs(60 * 60);

/// The firm's API subscription, which decides the request budget.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RatePlan {
    /// 100 requests a minute, 2,000,000 a month.
    #[default]
    Standard,
    /// The High Volume add-on: 300 requests a minute, 5,000,000 a month.
    HighVolume,
}

impl RatePlan {
    /// Requests allowed per minute.
    pub fn per_minute(self) -> NonZeroU32 {
        match self {
            RatePlan::Standard => NonZeroU32::new(100),
            RatePlan::HighVolume => NonZeroU32::new(300),
        }
        .unwrap_or(NonZeroU32::MIN)
    }

    /// Requests allowed per calendar month.
    pub fn per_month(self) -> u64 {
        match self {
            RatePlan::Standard => 2_000_000,
            RatePlan::HighVolume => 5_000_000,
        }
    }

    /// The runtime limit for this plan. After a 429 (which carries no reset
    /// time) the key waits out the whole minute, because PensionPro refuses
    /// every call until its window has passed.
    pub fn rate_limit(self) -> RateLimit {
        RateLimit::per_minute(self.per_minute())
    }
}

/// Configures a [`Client`]; start with [`Client::builder`].
#[derive(Clone)]
pub struct ClientBuilder {
    api_key: Option<SecretString>,
    username: Option<SecretString>,
    api_key_header: String,
    username_header: String,
    rate_plan: RatePlan,
    settings: ClientSettings,
    file_timeout: Duration,
    page_concurrency: NonZeroUsize,
    page_memory: usize,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("api_key", &self.api_key.as_ref().map(|_| "[redacted]"))
            .field("username", &self.username.as_ref().map(|_| "[redacted]"))
            .field("settings", &self.settings)
            .field("api_key_header", &self.api_key_header)
            .field("username_header", &self.username_header)
            .field("rate_plan", &self.rate_plan)
            .field("page_concurrency", &self.page_concurrency)
            .field("page_memory", &self.page_memory)
            .finish_non_exhaustive()
    }
}

impl Default for ClientBuilder {
    fn default() -> Self {
        Self {
            api_key: None,
            username: None,
            api_key_header: DEFAULT_API_KEY_HEADER.to_owned(),
            username_header: DEFAULT_USERNAME_HEADER.to_owned(),
            rate_plan: RatePlan::Standard,
            settings: ClientSettings::new(DEFAULT_USER_AGENT, crate::retry::default_policy()),
            file_timeout: DEFAULT_FILE_TIMEOUT,
            page_concurrency: DEFAULT_CONCURRENCY,
            page_memory: DEFAULT_PAGE_MEMORY,
        }
    }
}

impl ClientBuilder {
    /// The firm API key (24 characters, created under API Access).
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(SecretString::from(key.into()));
        self
    }

    /// The username of an active PensionPro user; writes are audited under it.
    pub fn username(mut self, username: impl Into<String>) -> Self {
        self.username = Some(SecretString::from(username.into()));
        self
    }

    /// Reads the key and the username from `PENSIONPRO_API_KEY` and
    /// `PENSIONPRO_USERNAME`; a variable that is unset or empty leaves what
    /// was configured before.
    pub fn credentials_from_env(mut self) -> Self {
        let read = |name: &str| {
            std::env::var(name)
                .ok()
                .filter(|value| !value.trim().is_empty())
        };
        if let Some(key) = read(API_KEY_ENV) {
            self.api_key = Some(SecretString::from(key));
        }
        if let Some(user) = read(USERNAME_ENV) {
            self.username = Some(SecretString::from(user));
        }
        self
    }

    /// The header that carries the API key (default `apikey`).
    pub fn api_key_header(mut self, name: impl Into<String>) -> Self {
        self.api_key_header = name.into();
        self
    }

    /// The header that carries the username (default `username`).
    pub fn username_header(mut self, name: impl Into<String>) -> Self {
        self.username_header = name.into();
        self
    }

    /// The firm's subscription (default [`RatePlan::Standard`]): the
    /// documented limit the client paces itself to, unless `rate_limit`
    /// sets another.
    pub fn rate_plan(mut self, plan: RatePlan) -> Self {
        self.rate_plan = plan;
        self
    }

    client_core::client_settings!(settings);

    /// The time one upload or download may take, body included (default one
    /// hour), because a large file must not be cut off by the 30 s attempt
    /// timeout of ordinary calls; it bounds them instead of the attempt
    /// timeout and the deadline.
    pub fn file_timeout(mut self, timeout: Duration) -> Self {
        self.file_timeout = timeout;
        self
    }

    /// How many pages a [`crate::pagination`] walk fetches at once (default 4).
    pub fn page_concurrency(mut self, pages: NonZeroUsize) -> Self {
        self.page_concurrency = pages;
        self
    }

    /// What the pages of a walk may take in memory, in bytes: the
    /// page being read and those fetched ahead (default
    /// [`DEFAULT_PAGE_MEMORY`]); fewer pages are fetched at once when that
    /// many would take more (never fewer than one).
    pub fn page_memory(mut self, bytes: usize) -> Self {
        self.page_memory = bytes;
        self
    }

    /// Builds the client.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] when the key or the username is missing or cannot be
    /// a header value, a header name is invalid, or the base URL is not an
    /// absolute http(s) URL.
    pub fn build(self) -> Result<Client> {
        let api_key = self.api_key.ok_or_else(|| {
            Error::config(format!(
                "no API key: call ClientBuilder::api_key or set {API_KEY_ENV}"
            ))
        })?;
        let username = self.username.ok_or_else(|| {
            Error::config(format!(
                "no username: call ClientBuilder::username or set {USERNAME_ENV}"
            ))
        })?;
        if api_key.expose_secret().trim().is_empty() || username.expose_secret().trim().is_empty() {
            return Err(Error::config(
                "the API key and the username must not be blank",
            ));
        }
        let header = |name: &str| {
            HeaderName::from_bytes(name.trim().to_ascii_lowercase().as_bytes())
                .map_err(|_| Error::config(format!("`{name}` is not a valid header name")))
        };
        let key_header = header(&self.api_key_header)?;
        let user_header = header(&self.username_header)?;
        if key_header == user_header {
            return Err(Error::config(
                "the API key and the username need two different headers",
            ));
        }
        let secret = |name: HeaderName, value: SecretString| {
            SecretHeader::new(name, value).map_err(|error| Error::config(error.to_string()))
        };
        // PensionPro limits each firm's API key, whoever the user is: the
        // budget is named by the key alone, so jobs that share a key and
        // differ in username share it too.
        let runtime = Runtime::builder("pensionpro")
            .rate_key_headers([key_header.clone()])
            .secret_header(secret(key_header, api_key)?)
            .secret_header(secret(user_header, username)?);
        let Connection {
            base_url,
            http,
            runtime,
        } = self
            .settings
            .connect(runtime, DEFAULT_BASE_URL, self.rate_plan.rate_limit())?;
        let api =
            pensionpro_client::Client::new_with_client(&base_url, http.clone(), runtime.clone());
        Ok(Client {
            inner: Arc::new(Inner {
                api,
                runtime,
                http,
                base_url,
                rate_plan: self.rate_plan,
                file_timeout: self.file_timeout,
                page_concurrency: self.page_concurrency,
                page_memory: self.page_memory,
                uploads: Arc::new(Semaphore::new(FILE_TRANSFER_LIMIT)),
                downloads: Arc::new(Semaphore::new(FILE_TRANSFER_LIMIT)),
            }),
        })
    }
}

/// A PensionPro v2 client; cheap to clone (clones share the rate budget,
/// the counters and the file-transfer limits).
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) api: pensionpro_client::Client,
    pub(crate) runtime: Runtime,
    pub(crate) http: reqwest::Client,
    pub(crate) base_url: String,
    pub(crate) rate_plan: RatePlan,
    pub(crate) file_timeout: Duration,
    pub(crate) page_concurrency: NonZeroUsize,
    pub(crate) page_memory: usize,
    pub(crate) uploads: Arc<Semaphore>,
    pub(crate) downloads: Arc<Semaphore>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The runtime's Debug shows header names with redacted values.
        f.debug_struct("Client")
            .field("base_url", &self.inner.base_url)
            .field("rate_plan", &self.inner.rate_plan)
            .field("page_concurrency", &self.inner.page_concurrency)
            .field("page_memory", &self.inner.page_memory)
            .field("runtime", &self.inner.runtime)
            .finish()
    }
}

impl Client {
    /// Starts configuring a client.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// A client for production with credentials from `PENSIONPRO_API_KEY` and
    /// `PENSIONPRO_USERNAME` and the standard rate plan.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] when a variable is missing.
    pub fn from_env() -> Result<Client> {
        Client::builder().credentials_from_env().build()
    }

    /// The generated client (also reached through `Deref`): every operation
    /// of the document, as builders that carry this client's credentials,
    /// rate budget and retries, including those a method of [`Client`]
    /// shadows, such as the plain `update_plan` PUT.
    pub fn api(&self) -> &pensionpro_client::Client {
        &self.inner.api
    }

    /// The base URL requests go to, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    /// The rate plan this client was configured for.
    pub fn rate_plan(&self) -> RatePlan {
        self.inner.rate_plan
    }

    /// The runtime's counters: calls, attempts, retries, waits, 429s.
    pub fn metrics(&self) -> client_core::Metrics {
        self.inner.runtime.metrics()
    }

    /// Requests this client (and its clones) sent to PensionPro, retries
    /// included, since it was built.
    ///
    /// Every attempt counts against the firm's monthly quota
    /// ([`RatePlan::per_month`]), so this is the number to watch within one
    /// process. It is not the firm's usage: other programs and other keys
    /// count too, and the authoritative monthly number is the one in
    /// PensionPro's API Access grid (Maintenance > Firms/Locations).
    pub fn requests_sent(&self) -> u64 {
        self.inner.runtime.metrics().attempts
    }
}

impl std::ops::Deref for Client {
    type Target = pensionpro_client::Client;

    /// Every operation of the generated client, as a builder:
    /// `client.get_plan().plan_id(id).send().await?` (with
    /// [`Call`](crate::Call) in scope) runs it with this client's
    /// credentials, rate budget and retries. The few operations a method of
    /// [`Client`] shadows (`update_plan`, ...: get-modify-put) are reached
    /// through [`Client::api`].
    fn deref(&self) -> &pensionpro_client::Client {
        &self.inner.api
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_plans_match_the_published_limits() {
        assert_eq!(RatePlan::Standard.per_minute().get(), 100);
        assert_eq!(RatePlan::HighVolume.per_minute().get(), 300);
        assert_eq!(
            RatePlan::Standard.rate_limit().per(),
            Duration::from_secs(60)
        );
        assert_eq!(RatePlan::HighVolume.rate_limit().limit().get(), 300);
        // A 429 without a reset time blocks for the whole window.
        assert_eq!(
            RatePlan::Standard.rate_limit().penalty(),
            Duration::from_secs(60)
        );
        assert_eq!(RatePlan::HighVolume.per_month(), 5_000_000);
    }

    #[test]
    fn missing_credentials_are_a_config_error() {
        let error = Client::builder().username("u").build().unwrap_err();
        assert!(matches!(error, Error::Config { .. }), "{error:?}");
        let error = Client::builder().api_key("k").build().unwrap_err();
        assert!(error.to_string().contains("no username"), "{error}");
    }

    #[test]
    fn bad_configuration_is_refused() {
        let base = || Client::builder().api_key("k").username("u");
        assert!(base().api_key_header("bad header").build().is_err());
        assert!(base().username_header("apikey").build().is_err());
        assert!(base().base_url("ftp://example.com").build().is_err());
        assert!(base().base_url("not a url").build().is_err());
        assert!(base().api_key("line\nbreak").build().is_err());
        let client = base().base_url("http://127.0.0.1:9/").build().unwrap();
        assert_eq!(client.base_url(), "http://127.0.0.1:9");
    }

    #[test]
    fn clients_can_be_shared_across_tasks() {
        fn shareable<T: Send + Sync + 'static>() {}
        shareable::<Client>();
        shareable::<Error>();
    }

    #[test]
    fn debug_never_shows_the_credentials() {
        let builder = Client::builder()
            .api_key("abcdefghijklmnopqrstuvwx")
            .username("jane.doe");
        let shown = format!("{builder:?}");
        assert!(!shown.contains("abcdefghijklmnopqrstuvwx") && !shown.contains("jane.doe"));
        let client = builder.build().unwrap();
        let shown = format!("{client:?} {client:#?}");
        assert!(!shown.contains("abcdefghijklmnopqrstuvwx"), "{shown}");
        assert!(!shown.contains("jane.doe"), "{shown}");
        assert!(shown.contains("apikey"), "{shown}");
    }
}
