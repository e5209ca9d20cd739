//! The one error type of the crate, so that callers match on a single enum
//! whatever went wrong: a Pinwheel error body, the network, a listing, a money
//! field or a webhook.
//!
//! Pinwheel's error body is `{"error": {"type", "code", "message",
//! "status_code", "fields"}}`. Its documentation says to branch on `type` and
//! `code` only (the message and the field list are for humans and may change),
//! so the documented `type` values pick the variant, the status code decides
//! when the type is missing or unknown, and every variant keeps the whole body
//! in an [`ErrorBody`], unknown strings included.
//!
//! | condition (first match wins) | variant |
//! |---|---|
//! | status 429 | [`Error::RateLimited`] |
//! | `type` `INVALID_REQUEST_PARAMETERS` | [`Error::InvalidParameters`] |
//! | `type` `RECORD_NOT_FOUND`, or status 404 | [`Error::NotFound`] |
//! | `type` `UNAUTHORIZED_REQUEST`, or status 401 or 403 | [`Error::Unauthorized`] |
//! | status 500–599 | [`Error::Server`] |
//! | anything else | [`Error::Api`] |
//!
//! Every variant produced by a call carries the runtime's
//! [`ErrorContext`]: operation, method, path, status, attempts and the
//! `x-pinwheel-request-id` of the last response, which Pinwheel support asks
//! for.

use std::fmt;
use std::time::Duration;

use client_core::CallError;
use client_core::error::{ErrorContext, Failure};
use client_core::money::MoneyError;

use crate::types;

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The documented `type` of a request with invalid or missing parameters.
pub const INVALID_REQUEST_PARAMETERS: &str = "INVALID_REQUEST_PARAMETERS";
/// The documented `type` of a request for an object that does not exist.
pub const RECORD_NOT_FOUND: &str = "RECORD_NOT_FOUND";
/// The documented `type` of a request with a missing or wrong credential.
pub const UNAUTHORIZED_REQUEST: &str = "UNAUTHORIZED_REQUEST";
/// The documented `type` of an error Pinwheel does not classify further.
pub const UNKNOWN_ERROR: &str = "UNKNOWN_ERROR";

/// The `error` object of a Pinwheel error response, as sent.
///
/// All fields are optional because Pinwheel's document declares no error
/// responses at all, and a proxy in front of it may answer with anything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ErrorBody {
    /// The broad class, e.g. `INVALID_REQUEST_PARAMETERS`; kept even when unknown.
    pub error_type: Option<String>,
    /// The specific reason, e.g. `INVALID_ROUTING_NUMBER`; kept even when unknown.
    pub code: Option<String>,
    /// Human-readable text; may change at any time, so never branch on it.
    pub message: Option<String>,
    /// The status code Pinwheel wrote into the body.
    pub status_code: Option<i64>,
    /// Per-field problems of an invalid request, for humans.
    pub fields: Vec<FieldError>,
}

/// One field named in an error body.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct FieldError {
    /// The request field, e.g. `routing_number`.
    pub name: Option<String>,
    /// What is wrong with it.
    pub message: Option<String>,
}

impl From<types::ErrorResponse> for ErrorBody {
    fn from(response: types::ErrorResponse) -> Self {
        let Some(detail) = response.error else {
            return ErrorBody::default();
        };
        ErrorBody {
            error_type: detail.type_,
            code: detail.code,
            message: detail.message,
            status_code: detail.status_code,
            fields: detail
                .fields
                .unwrap_or_default()
                .into_iter()
                .map(|field| FieldError {
                    name: field.name,
                    message: field.message,
                })
                .collect(),
        }
    }
}

impl ErrorBody {
    /// The body with the client's credentials scrubbed from its text, so a
    /// server echoing the request cannot put them into an error.
    fn redacted(mut self, redactor: &client_core::call::Redactor) -> Self {
        let scrub = |text: &mut Option<String>| {
            if let Some(value) = text.as_mut() {
                *value = redactor.redact(value);
            }
        };
        scrub(&mut self.error_type);
        scrub(&mut self.code);
        scrub(&mut self.message);
        for field in &mut self.fields {
            scrub(&mut field.name);
            scrub(&mut field.message);
        }
        self
    }
}

impl fmt::Display for ErrorBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let label = self.code.as_deref().or(self.error_type.as_deref());
        match (label, self.message.as_deref()) {
            (Some(label), Some(message)) => write!(f, "{label}: {message}"),
            (Some(label), None) => f.write_str(label),
            (None, Some(message)) => f.write_str(message),
            (None, None) => f.write_str("no error details"),
        }
    }
}

/// Everything that can go wrong in this crate.
///
/// Variants from a call carry a boxed [`ErrorContext`] (use
/// [`Error::context`], [`Error::request_id`] and [`Error::status`] rather than
/// matching on it); the boxes keep `Result<T, Error>` small.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Pinwheel rejected the parameters (`INVALID_REQUEST_PARAMETERS`);
    /// `body.fields` names the fields.
    #[error("invalid request parameters ({body}); {context}")]
    InvalidParameters {
        /// The error body.
        body: Box<ErrorBody>,
        /// What was called and what happened.
        context: Box<ErrorContext>,
    },
    /// The object does not exist (`RECORD_NOT_FOUND` or status 404).
    #[error("record not found ({body}); {context}")]
    NotFound {
        /// The error body.
        body: Box<ErrorBody>,
        /// What was called and what happened.
        context: Box<ErrorContext>,
    },
    /// The credential is missing, wrong, revoked or of another mode
    /// (`UNAUTHORIZED_REQUEST`, status 401 or 403).
    #[error("unauthorized ({body}); {context}")]
    Unauthorized {
        /// The error body.
        body: Box<ErrorBody>,
        /// What was called and what happened.
        context: Box<ErrorContext>,
    },
    /// Status 429: over Pinwheel's rate limit, after the retries the policy allowed.
    #[error("rate limited ({body}); {context}")]
    RateLimited {
        /// The error body.
        body: Box<ErrorBody>,
        /// What was called and what happened; `retry_after` is set when the server sent one.
        context: Box<ErrorContext>,
    },
    /// Status 5xx, after the retries the policy allowed.
    #[error("server error ({body}); {context}")]
    Server {
        /// The error body (empty when the server sent no Pinwheel error body).
        body: Box<ErrorBody>,
        /// What was called and what happened.
        context: Box<ErrorContext>,
    },
    /// Any other error answer; the body keeps unknown `type` and `code` strings.
    #[error("api error ({body}); {context}")]
    Api {
        /// The error body.
        body: Box<ErrorBody>,
        /// What was called and what happened.
        context: Box<ErrorContext>,
    },
    /// No complete response arrived: connect failure, reset, timeout.
    #[error("transport failure; {context}")]
    Transport {
        /// The transport error.
        source: reqwest::Error,
        /// What was called and what happened.
        context: Box<ErrorContext>,
    },
    /// A success response whose body does not have the documented shape.
    #[error("response body did not decode; {context}")]
    Decode {
        /// The decoding error.
        source: serde_json::Error,
        /// What was called; `body_snippet` holds the start of the body.
        context: Box<ErrorContext>,
    },
    /// The generated client could not build the request from the arguments
    /// (a missing required argument, a value of the wrong shape).
    #[error("the request could not be built: {message}")]
    InvalidRequest {
        /// What the generated client said.
        message: String,
        /// What was called.
        context: Box<ErrorContext>,
    },
    /// The call was not sent: the shared rate store (Redis) is unreachable
    /// and its policy is to fail rather than send without the shared budget.
    #[error("not sent: the shared rate store is unavailable ({message}); {context}")]
    RateStoreUnavailable {
        /// What the store said.
        message: String,
        /// What was called.
        context: Box<ErrorContext>,
    },
    /// The call's overall deadline passed, waits and retries included.
    #[error("call deadline of {deadline:?} exceeded; {context}")]
    Deadline {
        /// The deadline.
        deadline: Duration,
        /// What was called and what had happened by then.
        context: Box<ErrorContext>,
    },
    /// A success response lacked something this crate needs (e.g. the admin token).
    #[error("unexpected response: {what}; {context}")]
    UnexpectedResponse {
        /// What was missing or wrong.
        what: &'static str,
        /// What was called.
        context: Box<ErrorContext>,
    },
    /// The client cannot be built as configured.
    #[error("invalid configuration: {message}")]
    Config {
        /// What is wrong.
        message: String,
        /// The lower-level cause, if any.
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// A page size outside Pinwheel's `1..=100`.
    #[error("page limit {limit} is outside 1..=100")]
    InvalidLimit {
        /// The rejected limit.
        limit: u64,
    },
    /// The server sent a `next_cursor` that this listing had already
    /// requested; following it would loop forever, so the listing stopped.
    #[error("the server repeated a page cursor, listing stopped; {context}")]
    RepeatedCursor {
        /// The repeated cursor.
        cursor: String,
        /// The call whose response repeated it.
        context: Box<ErrorContext>,
    },
    /// A listing stopped because pages at new cursors kept bringing nothing
    /// new: following the server further could loop forever. Every row
    /// yielded before was new; `resume_cursor` is the next cursor the server
    /// sent.
    #[error("listing stopped after {pages} page(s): {reason}")]
    WalkStopped {
        /// Pages fetched.
        pages: u64,
        /// Why it stopped.
        reason: WalkStop,
        /// The next cursor the server sent.
        resume_cursor: Option<String>,
    },
    /// A page of a listing failed; the listing ended there. Every item before
    /// it was delivered, none after it: resume from
    /// [`Error::resume_cursor`] to continue without gaps or duplicates.
    #[error("listing interrupted after {pages} page(s)")]
    Interrupted {
        /// The cursor of the page that failed (`None`: the first page).
        resume_cursor: Option<String>,
        /// Pages delivered before the failure.
        pages: u64,
        /// Why the page failed.
        source: Box<Error>,
    },
    /// An object has an amount but no currency to read it in.
    #[error("`{field}` has an amount but the object has no currency")]
    MissingCurrency {
        /// The amount field.
        field: &'static str,
    },
    /// A money field cannot be read (an invalid currency code, an overflow).
    #[error("`{field}` is not a valid amount")]
    Money {
        /// The field.
        field: &'static str,
        /// The money error.
        source: MoneyError,
    },
    /// A webhook delivery failed verification.
    #[error("webhook rejected: {reason}")]
    Webhook {
        /// Why.
        reason: WebhookRejection,
    },
    /// A verified webhook body is not a Pinwheel event envelope, or its
    /// payload does not have the shape asked for.
    #[error("webhook body does not have the expected shape")]
    WebhookPayload {
        /// The decoding error.
        source: serde_json::Error,
    },
}

impl Error {
    /// What was called and what happened, for errors that come from a call.
    pub fn context(&self) -> Option<&ErrorContext> {
        match self {
            Error::InvalidParameters { context, .. }
            | Error::NotFound { context, .. }
            | Error::Unauthorized { context, .. }
            | Error::RateLimited { context, .. }
            | Error::Server { context, .. }
            | Error::Api { context, .. }
            | Error::Transport { context, .. }
            | Error::Decode { context, .. }
            | Error::InvalidRequest { context, .. }
            | Error::Deadline { context, .. }
            | Error::RateStoreUnavailable { context, .. }
            | Error::UnexpectedResponse { context, .. }
            | Error::RepeatedCursor { context, .. } => Some(context),
            Error::Interrupted { source, .. } => source.context(),
            Error::Config { .. }
            | Error::WalkStopped { .. }
            | Error::InvalidLimit { .. }
            | Error::MissingCurrency { .. }
            | Error::Money { .. }
            | Error::Webhook { .. }
            | Error::WebhookPayload { .. } => None,
        }
    }

    /// Pinwheel's `x-pinwheel-request-id` of the last response, if one arrived.
    pub fn request_id(&self) -> Option<&str> {
        self.context()?.request_id.as_deref()
    }

    /// The HTTP status of the last response, if one arrived.
    pub fn status(&self) -> Option<u16> {
        self.context()?.status
    }

    /// Pinwheel's error body, for errors that are answers from Pinwheel.
    pub fn body(&self) -> Option<&ErrorBody> {
        match self.root() {
            Error::InvalidParameters { body, .. }
            | Error::NotFound { body, .. }
            | Error::Unauthorized { body, .. }
            | Error::RateLimited { body, .. }
            | Error::Server { body, .. }
            | Error::Api { body, .. } => Some(body),
            _ => None,
        }
    }

    /// Pinwheel's specific error `code`, e.g. `INVALID_ROUTING_NUMBER`.
    pub fn code(&self) -> Option<&str> {
        self.body()?.code.as_deref()
    }

    /// For [`Error::Interrupted`]: the cursor to pass to
    /// [`crate::pagination::Listing::resume_from`] to continue the listing.
    pub fn resume_cursor(&self) -> Option<&str> {
        match self {
            Error::Interrupted { resume_cursor, .. } | Error::WalkStopped { resume_cursor, .. } => {
                resume_cursor.as_deref()
            }
            _ => None,
        }
    }

    /// The error itself, or for [`Error::Interrupted`] the error that
    /// interrupted the listing, so callers can match on what went wrong.
    pub fn root(&self) -> &Error {
        match self {
            Error::Interrupted { source, .. } => source.root(),
            other => other,
        }
    }

    /// Whether trying the same call later may succeed: throttling, server
    /// errors, transport failures, deadlines, an unavailable rate store, and
    /// a listing that stopped or was interrupted by one of those. Other
    /// client errors, decoding, configuration, money and webhook errors will
    /// fail the same way again.
    pub fn is_retryable(&self) -> bool {
        match self.root() {
            Error::RateLimited { .. }
            | Error::Server { .. }
            | Error::Transport { .. }
            | Error::Deadline { .. }
            | Error::RateStoreUnavailable { .. }
            | Error::WalkStopped { .. } => true,
            Error::InvalidParameters { .. }
            | Error::NotFound { .. }
            | Error::Unauthorized { .. }
            | Error::Api { .. }
            | Error::Decode { .. }
            | Error::InvalidRequest { .. }
            | Error::UnexpectedResponse { .. }
            | Error::Config { .. }
            | Error::InvalidLimit { .. }
            | Error::RepeatedCursor { .. }
            | Error::Interrupted { .. }
            | Error::MissingCurrency { .. }
            | Error::Money { .. }
            | Error::Webhook { .. }
            | Error::WebhookPayload { .. } => false,
        }
    }

    pub(crate) fn config(message: impl Into<String>) -> Error {
        Error::Config {
            message: message.into(),
            source: None,
        }
    }

    pub(crate) fn config_with(
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Error {
        Error::Config {
            message: message.into(),
            source: Some(Box::new(source)),
        }
    }
}

/// Picks the variant for an error answer, as the table in the module docs says.
pub(crate) fn from_status(status: u16, body: ErrorBody, context: Box<ErrorContext>) -> Error {
    let body = Box::new(body);
    if status == 429 {
        return Error::RateLimited { body, context };
    }
    match body.error_type.as_deref() {
        Some(INVALID_REQUEST_PARAMETERS) => return Error::InvalidParameters { body, context },
        Some(RECORD_NOT_FOUND) => return Error::NotFound { body, context },
        Some(UNAUTHORIZED_REQUEST) => return Error::Unauthorized { body, context },
        _ => {}
    }
    match status {
        404 => Error::NotFound { body, context },
        401 | 403 => Error::Unauthorized { body, context },
        500..=599 => Error::Server { body, context },
        _ => Error::Api { body, context },
    }
}

/// Reads Pinwheel's error format from a body the generated code did not parse.
pub(crate) fn parse_error_body(bytes: &[u8]) -> Option<types::ErrorResponse> {
    serde_json::from_slice::<types::ErrorResponse>(bytes)
        .ok()
        .filter(|body| body.error.is_some())
}

/// A failed call of the generated client, as this crate's error.
impl From<client_core::settings::SettingsError> for Error {
    fn from(error: client_core::settings::SettingsError) -> Self {
        Error::config_with("the client cannot be configured", error)
    }
}

impl From<CallError<types::ErrorResponse>> for Error {
    fn from(error: CallError<types::ErrorResponse>) -> Self {
        let CallError {
            failure,
            context,
            redactor,
        } = error;
        let context = Box::new(context);
        match failure {
            Failure::Api { status, body } => {
                from_status(status, ErrorBody::from(body).redacted(&redactor), context)
            }
            Failure::UnexpectedStatus { status } => {
                from_status(status, ErrorBody::default(), context)
            }
            // The generated code decodes error bodies too; an error status
            // whose body is not JSON (an HTML page from a proxy, an empty
            // 401) is an error answer, not a decoding problem.
            Failure::Decode { source } => match context.status {
                Some(status) if status >= 400 => from_status(status, ErrorBody::default(), context),
                _ => Error::Decode { source, context },
            },
            Failure::Transport { source } => Error::Transport { source, context },
            Failure::InvalidRequest { message } => Error::InvalidRequest { message, context },
            Failure::Deadline { deadline } => Error::Deadline { deadline, context },
            Failure::RateStore { message } => Error::RateStoreUnavailable { message, context },
        }
    }
}

/// Why a delivery was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum WebhookRejection {
    /// There is no `x-pinwheel-signature` header.
    MissingSignature,
    /// The signature header has no `v2=` entry of 64 hex digits.
    MalformedSignature,
    /// No signature matches the body under any configured secret.
    SignatureMismatch,
    /// There is no `x-timestamp` header.
    MissingTimestamp,
    /// The timestamp is not a number of Unix seconds.
    MalformedTimestamp,
    /// The delivery was signed longer ago than the tolerance.
    Expired {
        /// Seconds between signing and now.
        age_secs: u64,
    },
    /// The delivery was signed further in the future than the tolerance.
    FromTheFuture {
        /// Seconds the timestamp is ahead of now.
        ahead_secs: u64,
    },
}

impl fmt::Display for WebhookRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WebhookRejection::MissingSignature => f.write_str("no `x-pinwheel-signature` header"),
            WebhookRejection::MalformedSignature => {
                f.write_str("`x-pinwheel-signature` has no `v2=` signature of 64 hex digits")
            }
            WebhookRejection::SignatureMismatch => f.write_str("signature does not match the body"),
            WebhookRejection::MissingTimestamp => f.write_str("no `x-timestamp` header"),
            WebhookRejection::MalformedTimestamp => {
                f.write_str("`x-timestamp` is not a number of unix seconds")
            }
            WebhookRejection::Expired { age_secs } => {
                write!(f, "signed {age_secs} s ago, beyond the tolerance")
            }
            WebhookRejection::FromTheFuture { ahead_secs } => {
                write!(
                    f,
                    "signed {ahead_secs} s in the future, beyond the tolerance"
                )
            }
        }
    }
}

/// Why a listing stopped before its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum WalkStop {
    /// `pages` pages in a row, each at a new cursor, brought no new row:
    /// rows already seen, or the page before again.
    NoProgress {
        /// Pages in a row without a new row.
        pages: u32,
    },
}

impl std::fmt::Display for WalkStop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WalkStop::NoProgress { pages } => write!(
                f,
                "{pages} pages in a row brought no new row (the server may be ignoring the cursor)"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(error_type: Option<&str>) -> ErrorBody {
        ErrorBody {
            error_type: error_type.map(str::to_owned),
            code: Some("SOME_CODE".into()),
            ..ErrorBody::default()
        }
    }

    fn kind(error: &Error) -> &'static str {
        match error {
            Error::InvalidParameters { .. } => "invalid",
            Error::NotFound { .. } => "not found",
            Error::Unauthorized { .. } => "unauthorized",
            Error::RateLimited { .. } => "rate limited",
            Error::Server { .. } => "server",
            Error::Api { .. } => "api",
            _ => "other",
        }
    }

    #[test]
    fn the_documented_type_decides_then_the_status() {
        let cases = [
            (400, Some(INVALID_REQUEST_PARAMETERS), "invalid"),
            (422, Some(INVALID_REQUEST_PARAMETERS), "invalid"),
            (404, Some(RECORD_NOT_FOUND), "not found"),
            (400, Some(RECORD_NOT_FOUND), "not found"),
            (401, Some(UNAUTHORIZED_REQUEST), "unauthorized"),
            (429, Some(UNKNOWN_ERROR), "rate limited"),
            (429, Some(INVALID_REQUEST_PARAMETERS), "rate limited"),
            (500, Some(UNKNOWN_ERROR), "server"),
            (503, None, "server"),
            (404, None, "not found"),
            (403, Some("SOMETHING_NEW"), "unauthorized"),
            (409, Some("SOMETHING_NEW"), "api"),
            (400, None, "api"),
        ];
        for (status, error_type, expected) in cases {
            let error = from_status(status, body(error_type), Box::default());
            assert_eq!(kind(&error), expected, "{status} {error_type:?}");
            assert_eq!(error.code(), Some("SOME_CODE"));
        }
    }

    #[test]
    fn display_is_lowercase_and_names_code_message_and_request_id() {
        let mut context = ErrorContext::default();
        context.operation_id = "create_link_token";
        context.method = "POST";
        context.path = "/link_tokens";
        context.status = Some(400);
        context.request_id = Some("req-1".into());
        context.attempts = 1;
        let body = ErrorBody {
            error_type: Some(INVALID_REQUEST_PARAMETERS.into()),
            code: Some("INVALID_ROUTING_NUMBER".into()),
            message: Some("bad routing number".into()),
            ..ErrorBody::default()
        };
        let error = from_status(400, body, Box::new(context));
        assert_eq!(
            error.to_string(),
            "invalid request parameters (INVALID_ROUTING_NUMBER: bad routing number); \
             create_link_token (POST /link_tokens), status 400, request id req-1"
        );
        assert_eq!(error.request_id(), Some("req-1"));
        assert_eq!(error.status(), Some(400));
    }

    #[test]
    fn an_interrupted_listing_exposes_the_inner_error_and_the_cursor() {
        let mut context = ErrorContext::default();
        context.request_id = Some("req-2".into());
        context.status = Some(503);
        let inner = from_status(503, ErrorBody::default(), Box::new(context));
        let error = Error::Interrupted {
            resume_cursor: Some("abc".into()),
            pages: 2,
            source: Box::new(inner),
        };
        assert_eq!(error.resume_cursor(), Some("abc"));
        assert_eq!(error.request_id(), Some("req-2"));
        assert!(matches!(error.root(), Error::Server { .. }));
        assert!(error.is_retryable());
        assert_eq!(error.to_string(), "listing interrupted after 2 page(s)");
        let source = std::error::Error::source(&error).map(ToString::to_string);
        assert!(source.is_some_and(|s| s.starts_with("server error")));
    }

    #[test]
    fn error_stays_small_and_crosses_threads() {
        // Results of this type are returned everywhere; a large error makes
        // every `Result` large.
        assert!(
            std::mem::size_of::<Error>() <= 64,
            "{}",
            std::mem::size_of::<Error>()
        );
        fn send_sync_static<T: Send + Sync + 'static>() {}
        send_sync_static::<Error>();
    }
}
