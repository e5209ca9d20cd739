//! The HTTP transport every client uses, so the rules about where credentials
//! may go are written once:
//!
//! - **Base URLs** must be `https`; `http` is accepted only for a loopback
//!   host (`localhost`, `127.0.0.0/8`, `::1`), for local mock servers. So a
//!   credential never crosses a network in clear text.
//! - **Redirects** are followed only within the origin (same scheme, host and
//!   port), at most five in a row. A redirect to another origin is not
//!   followed: the 3xx comes back as the call's answer. Credentials travel in
//!   custom headers (`x-api-secret`, `apikey`, `username`) that HTTP clients
//!   strip on a cross-host redirect only for the standard names
//!   (`Authorization`, `Cookie`), so following would send them to the other
//!   host.
//! - **TLS** is rustls with the platform's roots as reqwest bundles them.
//! - **Proxies** come from the environment as reqwest reads it:
//!   `HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY` and `NO_PROXY` (upper or lower
//!   case). A proxy sees the destination host; with `https` it sees nothing
//!   else.
//! - **Timeouts**: connecting is bounded (default 10 s); each attempt and the
//!   whole call are bounded by the [`Runtime`](crate::Runtime).
//! - **User agent**: each client names itself (`pinwheel-rs/0.1.0`).

use std::time::Duration;

use reqwest::Url;

/// A transport setting that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    /// The base URL is not an absolute URL.
    #[error("base URL {url:?} is not a URL: {reason}")]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// Why it does not parse.
        reason: String,
    },
    /// The base URL would send credentials in clear text.
    #[error("base URL {url:?} must use https (http is allowed for loopback hosts only)")]
    Insecure {
        /// The URL as given.
        url: String,
    },
    /// reqwest could not build its client (no TLS backend, a bad proxy
    /// variable).
    #[error("the HTTP client cannot be built: {reason}")]
    Client {
        /// What reqwest said.
        reason: String,
    },
}

/// How a client connects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpSettings {
    /// The `User-Agent` header.
    pub user_agent: String,
    /// How long connecting (TCP and TLS) may take.
    pub connect_timeout: Duration,
}

impl HttpSettings {
    /// Settings with `user_agent` and a 10 s connect timeout.
    #[must_use]
    pub fn new(user_agent: impl Into<String>) -> Self {
        Self {
            user_agent: user_agent.into(),
            connect_timeout: Duration::from_secs(10),
        }
    }

    /// The HTTP client: same-origin redirects only, rustls, proxies from
    /// the environment.
    ///
    /// # Errors
    ///
    /// [`TransportError::Client`] when reqwest cannot build it.
    pub fn client(&self) -> Result<reqwest::Client, TransportError> {
        reqwest::Client::builder()
            .user_agent(self.user_agent.as_str())
            .connect_timeout(self.connect_timeout)
            .redirect(same_origin_redirects())
            .build()
            .map_err(|error| TransportError::Client {
                reason: error.to_string(),
            })
    }
}

/// Checks a base URL (see the module docs) and returns it without a trailing
/// slash.
///
/// # Errors
///
/// [`TransportError::InvalidUrl`] or [`TransportError::Insecure`].
pub fn check_base_url(url: &str) -> Result<String, TransportError> {
    let trimmed = url.trim();
    let parsed = Url::parse(trimmed).map_err(|error| TransportError::InvalidUrl {
        url: url.to_owned(),
        reason: error.to_string(),
    })?;
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(TransportError::InvalidUrl {
            url: url.to_owned(),
            reason: "it has no host".into(),
        });
    }
    match parsed.scheme() {
        "https" => {}
        "http" if is_loopback(&parsed) => {}
        _ => {
            return Err(TransportError::Insecure {
                url: url.to_owned(),
            });
        }
    }
    Ok(trimmed.trim_end_matches('/').to_owned())
}

/// Whether the URL's host is this machine.
fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// Whether two URLs share scheme, host and port.
#[must_use]
pub fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
}

/// Follows a redirect only within one origin, at most five in a row.
fn same_origin_redirects() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let same = attempt
            .previous()
            .last()
            .is_some_and(|previous| same_origin(previous, attempt.url()));
        if attempt.previous().len() > 5 || !same {
            attempt.stop()
        } else {
            attempt.follow()
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_must_be_https_or_loopback_http() {
        for good in [
            "https://api.pensionpro.com",
            "https://sandbox.getpinwheel.com/v1/",
            "http://127.0.0.1:8080",
            "http://localhost:3000/v1",
            "http://[::1]:9000",
            "http://127.1.2.3",
        ] {
            assert!(check_base_url(good).is_ok(), "{good}");
        }
        assert_eq!(
            check_base_url("https://x.example/v1/").unwrap(),
            "https://x.example/v1"
        );
        for bad in [
            "http://api.pensionpro.com",
            "http://10.0.0.1",
            "http://localhost.evil.example",
            "ftp://127.0.0.1",
        ] {
            assert!(
                matches!(check_base_url(bad), Err(TransportError::Insecure { .. })),
                "{bad}"
            );
        }
        for broken in ["not a url", "", "https://", "file:///etc/passwd"] {
            assert!(
                matches!(
                    check_base_url(broken),
                    Err(TransportError::InvalidUrl { .. })
                ),
                "{broken}"
            );
        }
    }

    #[test]
    fn origins_compare_scheme_host_and_port() {
        let u = |s: &str| Url::parse(s).unwrap();
        assert!(same_origin(
            &u("https://a.example/x"),
            &u("https://a.example:443/y")
        ));
        assert!(!same_origin(
            &u("https://a.example"),
            &u("http://a.example")
        ));
        assert!(!same_origin(
            &u("https://a.example"),
            &u("https://b.example")
        ));
        assert!(!same_origin(
            &u("http://127.0.0.1:1"),
            &u("http://127.0.0.1:2")
        ));
    }
}
