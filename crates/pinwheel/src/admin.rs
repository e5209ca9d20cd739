//! The Admin API: managing API keys with a Developer Dashboard login instead
//! of an API secret, so that keys can be rotated by a program.
//!
//! [`AdminClient`] exchanges the dashboard username and password for a
//! short-lived admin token (`POST /admin/token`, which needs no API secret),
//! then sends it as `Authorization: Bearer <token>` — marked sensitive — to
//! list, create and revoke keys. It logs in on first use and again when the
//! token is about to expire or was refused. The password, the token and a
//! new key's secret live in [`SecretString`]s and never appear in `Debug`.
//!
//! A rotation: create a key, deploy its secret, then revoke the old key.
//! Several keys may be active at once, and a key's secret is shown only in
//! the answer that creates it.
//!
//! ```no_run
//! use futures::TryStreamExt;
//! use pinwheel::admin::AdminClient;
//!
//! # async fn demo() -> pinwheel::Result<()> {
//! let admin = AdminClient::builder("ops@example.com", "dashboard-password").build()?;
//! let new_key = admin.create_key(None).await?;
//! // Store new_key.secret in your secret manager, deploy, then:
//! let keys: Vec<_> = admin.keys().try_collect().await?;
//! for key in keys.iter().filter(|k| k.key.as_deref() != Some(new_key.key.as_str())) {
//!     if let Some(old) = &key.key {
//!         admin.revoke_key(old).await?;
//!     }
//! }
//! # Ok(())
//! # }
//! ```

use std::fmt;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, TimeDelta, Utc};
use client_core::error::ErrorContext;
use client_core::{ExposeSecret, SecretHeader, SecretString};
use futures::Stream;
use http::header::AUTHORIZATION;

use crate::call::{Call, Response};
use crate::client::{Mode, Transport, transport_setters};
use crate::error::{Error, Result};
use crate::pagination::{self, Page, check_limit};
use crate::types;

/// How long before its expiration a token is replaced, so that a request
/// never starts with a token that expires in flight.
const EXPIRY_MARGIN: TimeDelta = TimeDelta::seconds(60);

/// Configures an [`AdminClient`].
#[derive(Clone)]
pub struct AdminClientBuilder {
    username: String,
    password: SecretString,
    transport: Transport,
}

impl fmt::Debug for AdminClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AdminClientBuilder")
            .field("username", &self.username)
            .field("password", &"[redacted]")
            .field("transport", &self.transport)
            .finish()
    }
}

impl AdminClientBuilder {
    transport_setters!();

    /// Builds the client; nothing is sent until the first call.
    pub fn build(self) -> Result<AdminClient> {
        let login = self.transport.build(Vec::new())?;
        Ok(AdminClient {
            inner: Arc::new(Inner {
                login: pinwheel_client::Client::new_with_client(
                    &login.base_url,
                    login.http,
                    login.runtime,
                ),
                username: self.username,
                password: self.password,
                transport: self.transport,
                session: Mutex::new(None),
            }),
        })
    }
}

/// What Pinwheel said about a new admin token (the token itself stays inside
/// the client).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct AdminToken {
    /// When the token expires, if Pinwheel said.
    pub expires_at: Option<DateTime<Utc>>,
    /// The dashboard workspace the login belongs to.
    pub workspace_name: Option<String>,
    /// The mode the token is valid in.
    pub mode: Option<types::CreateAdminTokenResponseDataMode>,
    /// The dashboard role of the login (which decides what it may do to keys).
    pub user_role: Option<types::CreateAdminTokenResponseDataUserRole>,
}

/// A key just created: its secret is shown only this once.
#[derive(Clone)]
#[non_exhaustive]
pub struct CreatedKey {
    /// The key's public identifier.
    pub key: String,
    /// The key's secret: the value to send as `X-API-SECRET`.
    pub secret: SecretString,
    /// The mode the key works in.
    pub mode: Option<types::CreateApiKeyResponseDataMode>,
    /// When the key was created.
    pub created_at: Option<DateTime<Utc>>,
    /// When the key expires, if it was created with an expiry.
    pub expires_at: Option<DateTime<Utc>>,
    /// Pinwheel's request id of the creating call.
    pub request_id: Option<String>,
}

impl fmt::Debug for CreatedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CreatedKey")
            .field("key", &self.key)
            .field("secret", &"[redacted]")
            .field("mode", &self.mode)
            .field("created_at", &self.created_at)
            .field("expires_at", &self.expires_at)
            .field("request_id", &self.request_id)
            .finish()
    }
}

/// A logged-in session: the generated client that sends the bearer token.
struct Session {
    api: pinwheel_client::Client,
    expires_at: Option<DateTime<Utc>>,
}

impl Session {
    fn is_fresh(&self, now: DateTime<Utc>) -> bool {
        self.expires_at
            .is_none_or(|expires| now + EXPIRY_MARGIN < expires)
    }
}

struct Inner {
    /// Sends `POST /admin/token`, which carries no credential header.
    login: pinwheel_client::Client,
    username: String,
    password: SecretString,
    transport: Transport,
    session: Mutex<Option<Arc<Session>>>,
}

/// A client for Pinwheel's Admin API (API key management). Cheap to clone;
/// clones share the session.
#[derive(Clone)]
pub struct AdminClient {
    inner: Arc<Inner>,
}

impl fmt::Debug for AdminClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let logged_in = self
            .inner
            .session
            .lock()
            .map(|s| s.is_some())
            .unwrap_or_default();
        f.debug_struct("AdminClient")
            .field("username", &self.inner.username)
            .field("password", &"[redacted]")
            .field("mode", &self.inner.transport.mode())
            .field("logged_in", &logged_in)
            .finish_non_exhaustive()
    }
}

impl AdminClient {
    /// Starts configuring a client for the dashboard login `username` / `password`.
    pub fn builder(
        username: impl Into<String>,
        password: impl Into<SecretString>,
    ) -> AdminClientBuilder {
        AdminClientBuilder {
            username: username.into(),
            password: password.into(),
            transport: Transport::default(),
        }
    }

    /// The mode the client was built for.
    pub fn mode(&self) -> Mode {
        self.inner.transport.mode()
    }

    fn cached_session(&self) -> Option<Arc<Session>> {
        let guard = self.inner.session.lock().unwrap_or_else(|p| p.into_inner());
        guard.as_ref().filter(|s| s.is_fresh(Utc::now())).cloned()
    }

    fn forget_session(&self) {
        *self.inner.session.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    /// Logs in now, replacing any current token.
    pub async fn login(&self) -> Result<AdminToken> {
        let (session, token) = self.new_session().await?;
        *self.inner.session.lock().unwrap_or_else(|p| p.into_inner()) = Some(session);
        Ok(token)
    }

    async fn new_session(&self) -> Result<(Arc<Session>, AdminToken)> {
        let inner = &self.inner;
        let body = types::CreateAdminTokenRequest {
            username: inner.username.clone(),
            password: inner.password.expose_secret().to_owned(),
            unknown_fields: Default::default(),
        };
        let response = inner.login.create_admin_token().body(body).send().await?;
        let context = response.context();
        let data = response.into_inner().data;
        let token = data.token.ok_or_else(|| Error::UnexpectedResponse {
            what: "the admin token response has no token",
            context: Box::new(context),
        })?;
        let bearer = SecretString::from(format!("Bearer {token}"));
        let header = SecretHeader::new(AUTHORIZATION, bearer)
            .map_err(|e| Error::config_with("the admin token cannot be sent as a header", e))?;
        let built = inner.transport.build(vec![header])?;
        let session = Arc::new(Session {
            api: pinwheel_client::Client::new_with_client(
                &built.base_url,
                built.http,
                built.runtime,
            ),
            expires_at: data.expiration,
        });
        let info = AdminToken {
            expires_at: data.expiration,
            workspace_name: data.workspace_name,
            mode: data.mode,
            user_role: data.user_role,
        };
        Ok((session, info))
    }

    /// The current session, logging in when there is none or it is about to expire.
    async fn session(&self) -> Result<Arc<Session>> {
        if let Some(session) = self.cached_session() {
            return Ok(session);
        }
        let (session, _) = self.new_session().await?;
        *self.inner.session.lock().unwrap_or_else(|p| p.into_inner()) = Some(Arc::clone(&session));
        Ok(session)
    }

    /// Drops the session after a refused token, so the next call logs in again.
    fn observe<T>(&self, result: Result<T>) -> Result<T> {
        if let Err(Error::Unauthorized { .. }) = result.as_ref().map_err(Error::root) {
            self.forget_session();
        }
        result
    }

    /// Streams the pages of the workspace's API keys (`GET /admin/api_keys`).
    pub fn key_pages(
        &self,
    ) -> impl Stream<Item = Result<Page<types::ListApiKeysResponse>>> + Send + '_ {
        self.key_pages_sized(None)
    }

    /// [`AdminClient::key_pages`] with a page size of 1 to 100.
    pub fn key_pages_with_limit(
        &self,
        limit: u64,
    ) -> Result<impl Stream<Item = Result<Page<types::ListApiKeysResponse>>> + Send + '_> {
        Ok(self.key_pages_sized(Some(check_limit(limit)?)))
    }

    fn key_pages_sized(
        &self,
        limit: Option<std::num::NonZeroU64>,
    ) -> impl Stream<Item = Result<Page<types::ListApiKeysResponse>>> + Send + '_ {
        pagination::pages_of(None, move |cursor| async move {
            let session = self.session().await?;
            let mut request = session.api.list_api_keys();
            if let Some(limit) = limit {
                request = request.limit(limit);
            }
            if let Some(cursor) = cursor {
                request = request.cursor(cursor);
            }
            let result = request.send().await;
            self.observe(result)
        })
    }

    /// Streams the workspace's API keys, active and revoked.
    pub fn keys(&self) -> impl Stream<Item = Result<types::ListApiKeyResponseData>> + Send + '_ {
        use futures::StreamExt;
        self.key_pages().flat_map(|page| {
            let items: Vec<Result<_>> = match page {
                Ok(page) => page.into_items().into_iter().map(Ok).collect(),
                Err(error) => vec![Err(error)],
            };
            futures::stream::iter(items)
        })
    }

    /// Creates a key (`POST /admin/api_keys`), optionally expiring at `expires_at`.
    pub async fn create_key(&self, expires_at: Option<DateTime<Utc>>) -> Result<CreatedKey> {
        let session = self.session().await?;
        let body = types::CreateApiKeyOptions {
            expires_at,
            unknown_fields: Default::default(),
        };
        let result = session.api.create_api_key().body(body).send().await;
        let response = self.observe(result)?;
        created_key(response)
    }

    /// Revokes `key` (`POST /admin/api_keys/{key}/revoke`); requests with its
    /// secret fail from then on.
    pub async fn revoke_key(&self, key: &str) -> Result<Response<types::RevokeApiKeyResponseData>> {
        let session = self.session().await?;
        let result = session.api.revoke_api_key().api_key(key).send().await;
        let response = self.observe(result)?;
        Ok(response.map(|r| *r.data))
    }
}

/// Moves a new key's secret out of the generated type into a [`SecretString`].
fn created_key(response: Response<types::CreateApiKeyResponse>) -> Result<CreatedKey> {
    let context: ErrorContext = response.context();
    let request_id = response.request_id().map(str::to_owned);
    let data = response.into_inner().data;
    let missing = |what| Error::UnexpectedResponse {
        what,
        context: Box::new(context.clone()),
    };
    let key = data
        .key
        .ok_or_else(|| missing("the created key has no `key`"))?;
    let secret = data
        .secret
        .ok_or_else(|| missing("the created key has no `secret`"))?;
    Ok(CreatedKey {
        key,
        secret: SecretString::from(secret),
        mode: data.mode,
        created_at: data.created_at,
        expires_at: data.expires_at,
        request_id,
    })
}
