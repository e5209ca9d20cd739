//! The one error type of this crate, because callers need to tell apart the
//! few failures they can act on — a key without a PII category, a validation
//! failure, the rate limit — from everything else, with enough context for a
//! support ticket in every case.
//!
//! PensionPro answers 401 both for bad credentials and for a key that lacks
//! one of the PII categories (Notes, Files, To-Dos, ...) an operation needs.
//! The generated operation table records each operation's category
//! (`x-pii-category`), so a 401 from such an operation becomes
//! [`Error::PiiPermission`] naming the category, and every other 401 stays
//! [`Error::Unauthorized`].

use std::collections::BTreeMap;
use std::time::Duration;

use client_core::Operation;
use client_core::error::{ErrorContext, Failure};
use pensionpro_client::types::ErrorResponse;

/// What a call of this crate returns.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The extension of the operation table that names an operation's PII category.
pub(crate) const PII_EXTENSION: &str = "x-pii-category";

/// Everything that can go wrong when talking to PensionPro.
///
/// Every variant carries an [`ErrorContext`]: the operation, HTTP method and
/// path template, the status, the attempts made and the start of the body.
/// It is boxed so that a `Result` stays small on the happy path.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// 400: the request was refused, usually by a validation or business rule.
    #[error("bad request{}: {context}", message_suffix(message))]
    BadRequest {
        /// The server's `Message`.
        message: Option<String>,
        /// The violated rules (`Rules[].Rule`), in the order sent.
        rules: Vec<String>,
        /// Field errors (`Errors`: field name to message).
        field_errors: BTreeMap<String, String>,
        /// What was called.
        context: Box<ErrorContext>,
    },
    /// 401 on an operation without a PII category: the API key or the
    /// username is wrong, or the user is inactive.
    #[error("unauthorized: check the API key and username: {context}")]
    Unauthorized {
        /// The server's `Message`, if it sent one.
        message: Option<String>,
        /// What was called.
        context: Box<ErrorContext>,
    },
    /// 401 on an operation that needs a PII category: the key was not
    /// granted that category (Maintenance > Firms/Locations > API Access).
    #[error("this key lacks the {category} permission: {context}")]
    PiiPermission {
        /// The category the operation needs, e.g. `Notes`.
        category: String,
        /// The server's `Message`, if it sent one.
        message: Option<String>,
        /// What was called.
        context: Box<ErrorContext>,
    },
    /// 403: the user may not do this.
    #[error("forbidden{}: {context}", message_suffix(message))]
    Forbidden {
        /// The server's `Message`, if it sent one.
        message: Option<String>,
        /// What was called.
        context: Box<ErrorContext>,
    },
    /// 404: no such record or route.
    #[error("not found{}: {context}", message_suffix(message))]
    NotFound {
        /// The server's `Message`, if it sent one.
        message: Option<String>,
        /// What was called.
        context: Box<ErrorContext>,
    },
    /// 429 after the retries the policy allows: the per-minute or monthly
    /// budget of the firm is used up.
    #[error("rate limited{}: {context}", message_suffix(message))]
    RateLimited {
        /// The server's `Message`, if it sent one.
        message: Option<String>,
        /// How long the server asked to wait, if it said.
        retry_after: Option<Duration>,
        /// What was called.
        context: Box<ErrorContext>,
    },
    /// A 5xx answer.
    #[error("server error {status}{}: {context}", message_suffix(message))]
    Server {
        /// The status code.
        status: u16,
        /// The server's `Message`, if it sent one.
        message: Option<String>,
        /// What was called.
        context: Box<ErrorContext>,
    },
    /// Any other error status.
    #[error("unexpected status {status}{}: {context}", message_suffix(message))]
    Api {
        /// The status code.
        status: u16,
        /// The server's `Message`, if it sent one.
        message: Option<String>,
        /// What was called.
        context: Box<ErrorContext>,
    },
    /// No complete response arrived: connect failure, reset, timeout.
    #[error("request failed before a complete response arrived: {context}")]
    Transport {
        /// The transport error.
        #[source]
        source: reqwest::Error,
        /// What was called.
        context: Box<ErrorContext>,
    },
    /// A success response whose body is not what the document declares.
    #[error("could not decode the response: {context}")]
    Decode {
        /// The decoding error.
        #[source]
        source: serde_json::Error,
        /// What was called.
        context: Box<ErrorContext>,
    },
    /// Reading a file to upload or writing a download failed.
    #[error("file i/o failed: {context}")]
    Io {
        /// The I/O error.
        #[source]
        source: std::io::Error,
        /// What was called.
        context: Box<ErrorContext>,
    },
    /// The call was not sent: the shared rate store (Redis) is unreachable
    /// and its policy is to fail rather than send without the shared budget.
    #[error("not sent: the shared rate store is unavailable ({message}): {context}")]
    RateStoreUnavailable {
        /// What the store said.
        message: String,
        /// What was called.
        context: Box<ErrorContext>,
    },
    /// The call's overall deadline passed.
    #[error("deadline of {deadline:?} exceeded: {context}")]
    Deadline {
        /// The deadline.
        deadline: Duration,
        /// What was called.
        context: Box<ErrorContext>,
    },
    /// The request could not be built (a required argument is missing).
    #[error("invalid request ({message}): {context}")]
    InvalidRequest {
        /// What was wrong.
        message: String,
        /// What was called.
        context: Box<ErrorContext>,
    },
    /// An OData query option is invalid ($top out of range, a field path with
    /// characters a path cannot have).
    #[error("invalid query: {message}")]
    InvalidQuery {
        /// What was wrong.
        message: String,
        /// Empty: no request was made.
        context: Box<ErrorContext>,
    },
    /// An amount does not fit the currency (more decimal places than it has,
    /// or beyond the range of `Money`).
    #[error("invalid amount ({message})")]
    InvalidAmount {
        /// What was wrong.
        message: String,
        /// Empty: the amount came from a decoded payload.
        context: Box<ErrorContext>,
    },
    /// The client configuration cannot work (missing credentials, a bad
    /// header name or base URL).
    #[error("invalid configuration: {message}")]
    Config {
        /// What was wrong.
        message: String,
        /// Empty: no request was made.
        context: Box<ErrorContext>,
    },
    /// A list walk stopped before its end because it could not keep its
    /// promise (every row that existed for the whole walk, exactly once):
    /// it made no progress within its request budget. Every row yielded
    /// before was right; resume with
    /// [`PageOptions::resume_after`](crate::pagination::PageOptions::resume_after)
    /// and [`Error::resume_point`], or restart the walk.
    #[error(
        "list walk stopped after {yielded} rows in {requests} requests: {reason}; resume after the last row with \
         PageOptions::resume_after(error.resume_point()), or restart the walk"
    )]
    WalkStopped {
        /// Rows the walk yielded before it stopped.
        yielded: u64,
        /// Requests it made.
        requests: u64,
        /// Why it stopped.
        reason: WalkStop,
        /// Where it can be taken up again (`None` before any row).
        resume: Option<ResumePoint>,
        /// Empty: the walk's requests succeeded.
        context: Box<ErrorContext>,
    },
    /// A page of a list walk failed (after the runtime's retries); the rows
    /// before it were yielded, each once. `source` is the page's error,
    /// whose context and status this error reports.
    #[error("list walk interrupted after {yielded} rows: {source}")]
    Interrupted {
        /// Rows the walk yielded before the failure.
        yielded: u64,
        /// Where it can be taken up again (`None` before any row).
        resume: Option<ResumePoint>,
        /// The page's error.
        #[source]
        source: Box<Error>,
    },
}

/// `": message"` when the server sent one, so `Display` reads well either way.
fn message_suffix(message: &Option<String>) -> String {
    match message {
        Some(message) if !message.trim().is_empty() => format!(" ({})", message.trim()),
        _ => String::new(),
    }
}

impl Error {
    /// What was called and what happened, for errors that come from a call
    /// (`None` for a configuration error, or a query or amount refused
    /// before anything was sent).
    pub fn context(&self) -> Option<&ErrorContext> {
        let context = self.context_or_empty();
        let from_a_call = !context.operation_id.is_empty() || context.attempts > 0;
        from_a_call.then_some(context)
    }

    fn context_or_empty(&self) -> &ErrorContext {
        match self {
            Error::BadRequest { context, .. }
            | Error::Unauthorized { context, .. }
            | Error::PiiPermission { context, .. }
            | Error::Forbidden { context, .. }
            | Error::NotFound { context, .. }
            | Error::RateLimited { context, .. }
            | Error::Server { context, .. }
            | Error::Api { context, .. }
            | Error::Transport { context, .. }
            | Error::Decode { context, .. }
            | Error::Io { context, .. }
            | Error::Deadline { context, .. }
            | Error::InvalidRequest { context, .. }
            | Error::InvalidQuery { context, .. }
            | Error::InvalidAmount { context, .. }
            | Error::Config { context, .. }
            | Error::RateStoreUnavailable { context, .. }
            | Error::WalkStopped { context, .. } => context,
            Error::Interrupted { source, .. } => source.context_or_empty(),
        }
    }

    /// Whether the same call may succeed if tried again later: throttling,
    /// 5xx answers, transport failures, a passed deadline, an unavailable
    /// rate store, and a walk that stopped or was interrupted by one of
    /// those. Client errors (4xx other than 429), decoding errors and
    /// configuration errors will fail the same way again.
    pub fn is_retryable(&self) -> bool {
        match self.root() {
            Error::RateLimited { .. }
            | Error::Server { .. }
            | Error::Transport { .. }
            | Error::Deadline { .. }
            | Error::RateStoreUnavailable { .. }
            | Error::WalkStopped { .. } => true,
            Error::BadRequest { .. }
            | Error::Unauthorized { .. }
            | Error::PiiPermission { .. }
            | Error::Forbidden { .. }
            | Error::NotFound { .. }
            | Error::Api { .. }
            | Error::Decode { .. }
            | Error::Io { .. }
            | Error::InvalidRequest { .. }
            | Error::InvalidQuery { .. }
            | Error::InvalidAmount { .. }
            | Error::Config { .. }
            | Error::Interrupted { .. } => false,
        }
    }

    /// Where an interrupted or stopped list walk can be taken up again.
    pub fn resume_point(&self) -> Option<ResumePoint> {
        match self {
            Error::WalkStopped { resume, .. } | Error::Interrupted { resume, .. } => *resume,
            _ => None,
        }
    }

    /// The error of the failed request itself: the page's error for an
    /// interrupted walk, this error otherwise.
    pub fn root(&self) -> &Error {
        match self {
            Error::Interrupted { source, .. } => source.root(),
            other => other,
        }
    }

    /// The HTTP status of the last response, if one arrived.
    pub fn status(&self) -> Option<u16> {
        self.context()?.status
    }

    /// The request id of the last response, if the server sent one (to
    /// quote in a support request).
    pub fn request_id(&self) -> Option<&str> {
        self.context()?.request_id.as_deref()
    }

    pub(crate) fn config(message: impl Into<String>) -> Self {
        Error::Config {
            message: message.into(),
            context: Box::default(),
        }
    }

    pub(crate) fn invalid_query(message: impl Into<String>) -> Self {
        Error::InvalidQuery {
            message: message.into(),
            context: Box::default(),
        }
    }

    pub(crate) fn invalid_request(message: impl Into<String>) -> Self {
        Error::InvalidRequest {
            message: message.into(),
            context: Box::default(),
        }
    }

    /// Maps an error status and the vendor's body (when it sent one in its
    /// format) to the variant a caller can act on.
    pub(crate) fn from_status(
        status: u16,
        body: Option<ErrorResponse>,
        context: ErrorContext,
    ) -> Self {
        let body = body.unwrap_or_default();
        let message = body.message;
        let category = pii_category(&context);
        let context = Box::new(context);
        match status {
            400 => Error::BadRequest {
                message,
                rules: body
                    .rules
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|rule| rule.rule)
                    .collect(),
                field_errors: body.errors.unwrap_or_default().into_iter().collect(),
                context,
            },
            401 => match category {
                Some(category) => Error::PiiPermission {
                    category: category.to_owned(),
                    message,
                    context,
                },
                None => Error::Unauthorized { message, context },
            },
            403 => Error::Forbidden { message, context },
            404 => Error::NotFound { message, context },
            429 => Error::RateLimited {
                message,
                retry_after: context.retry_after,
                context,
            },
            500..=599 => Error::Server {
                status,
                message,
                context,
            },
            _ => Error::Api {
                status,
                message,
                context,
            },
        }
    }

    /// Maps the runtime's vendor-independent failure to this crate's error;
    /// `redactor` scrubs the client's credentials from the vendor's text.
    pub(crate) fn from_failure(
        failure: Failure<ErrorResponse>,
        context: ErrorContext,
        redactor: &client_core::call::Redactor,
    ) -> Self {
        match failure {
            Failure::Api { status, body } => {
                Error::from_status(status, Some(redact_body(body, redactor)), context)
            }
            Failure::UnexpectedStatus { status } => Error::from_status(status, None, context),
            // An error status whose declared JSON body was empty or not JSON
            // (a proxy's page, an empty 401) is still that status: the caller
            // must see "unauthorized", not "could not decode".
            Failure::Decode { .. } if context.status.is_some_and(|s| s >= 400) => {
                let status = context.status.unwrap_or_default();
                let body = context
                    .body_snippet
                    .as_deref()
                    .and_then(|text| parse_error_body(text.as_bytes()));
                Error::from_status(status, body, context)
            }
            Failure::Decode { source } => Error::Decode {
                source,
                context: Box::new(context),
            },
            Failure::Transport { source } => Error::Transport {
                source,
                context: Box::new(context),
            },
            Failure::InvalidRequest { message } => Error::InvalidRequest {
                message,
                context: Box::new(context),
            },
            Failure::Deadline { deadline } => Error::Deadline {
                deadline,
                context: Box::new(context),
            },
            Failure::RateStore { message } => Error::RateStoreUnavailable {
                message,
                context: Box::new(context),
            },
        }
    }
}

impl From<client_core::settings::SettingsError> for Error {
    fn from(error: client_core::settings::SettingsError) -> Self {
        Error::config(error.to_string())
    }
}

impl From<client_core::CallError<ErrorResponse>> for Error {
    fn from(error: client_core::CallError<ErrorResponse>) -> Self {
        Error::from_failure(error.failure, error.context, &error.redactor)
    }
}

/// PensionPro's error body with the client's credentials scrubbed from its
/// text, so a server echoing the request cannot put them into an error.
fn redact_body(mut body: ErrorResponse, redactor: &client_core::call::Redactor) -> ErrorResponse {
    if let Some(message) = body.message.as_mut() {
        *message = redactor.redact(message);
    }
    for rule in body.rules.iter_mut().flatten() {
        if let Some(text) = rule.rule.as_mut() {
            *text = redactor.redact(text);
        }
    }
    for value in body
        .errors
        .iter_mut()
        .flat_map(|errors| errors.values_mut())
    {
        *value = redactor.redact(value);
    }
    body
}

/// The table entry of hand-built downloads, so their errors name what was
/// called and a 401 is reported as the missing Files permission.
pub(crate) const DOWNLOAD: Operation = Operation {
    id: "download_file",
    method: "GET",
    path: "(file location)",
    extensions: &[(PII_EXTENSION, "Files")],
};

/// Operations `files` sends that the generated table does not list.
static HAND_BUILT_OPERATIONS: &[Operation] = &[DOWNLOAD];

/// The PII category of the operation in `context`, if it has one.
fn pii_category(context: &ErrorContext) -> Option<&'static str> {
    if context.operation_id.is_empty() {
        return None;
    }
    pensionpro_client::OPERATIONS
        .get(context.operation_id)
        .extension(PII_EXTENSION)
        .or_else(|| {
            // Hand-built requests (uploads, downloads) carry their own table
            // entry, which the generated table does not know by id.
            HAND_BUILT_OPERATIONS
                .iter()
                .find(|op| op.id == context.operation_id)
                .and_then(|op| op.extension(PII_EXTENSION))
        })
}

/// Parses PensionPro's error body (`{Message, Rules?, Errors?}`). A JSON
/// object with none of those keys is not treated as one, so an unrelated
/// JSON error page is not mistaken for the vendor's format.
pub(crate) fn parse_error_body(bytes: &[u8]) -> Option<ErrorResponse> {
    let body: ErrorResponse = serde_json::from_slice(bytes).ok()?;
    (body.message.is_some() || body.rules.is_some() || body.errors.is_some()).then_some(body)
}

/// Where a walk can be taken up again: after the row with `Id`
/// `after_id`, which was at `$skip` `skip` when last seen, when the server
/// counted `total` rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResumePoint {
    /// Where the row was when last seen.
    pub skip: u32,
    /// The row after which the walk goes on.
    pub after_id: i64,
    /// The `TotalCount` then: rows inserted or deleted ahead of the row
    /// since move it by the difference, so the walk looks there first.
    pub total: Option<u64>,
}

/// Why a walk stopped before its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum WalkStop {
    /// `wasted` requests brought no new row, more than the budget allows:
    /// the server ignores `$skip`, or rows are inserted ahead of the walk
    /// faster than it pages, or deleted behind it faster than it finds its
    /// place again.
    NoProgress {
        /// Requests that brought no new row.
        wasted: u32,
    },
}

impl std::fmt::Display for WalkStop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WalkStop::NoProgress { wasted } => write!(
                f,
                "{wasted} requests brought no new row (the server may ignore $skip, or rows are inserted ahead of \
                 the walk faster than it pages)"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context(operation_id: &'static str, status: u16) -> ErrorContext {
        let mut context = ErrorContext::default();
        context.status = Some(status);
        let op = pensionpro_client::OPERATIONS.get(operation_id);
        context.operation_id = op.id;
        context.method = op.method;
        context.path = op.path;
        context
    }

    #[test]
    fn a_401_on_a_notes_operation_names_the_category() {
        let error = Error::from_status(401, None, context("list_notes_for_plan", 401));
        match &error {
            Error::PiiPermission { category, .. } => assert_eq!(category, "Notes"),
            other => panic!("expected a PII error, got {other:?}"),
        }
        assert!(
            error
                .to_string()
                .starts_with("this key lacks the Notes permission: list_notes_for_plan"),
            "{error}"
        );
    }

    #[test]
    fn a_401_elsewhere_stays_unauthorized() {
        let error = Error::from_status(401, None, context("list_plans", 401));
        assert!(matches!(error, Error::Unauthorized { .. }), "{error:?}");
    }

    #[test]
    fn validation_failures_keep_rules_and_field_errors() {
        let body = parse_error_body(
            br#"{"Message":"Rule Violation","Rules":[{"Rule":"Name is required"}],"Errors":{"Name":"required"}}"#,
        );
        let error = Error::from_status(400, body, context("update_plan", 400));
        match &error {
            Error::BadRequest {
                message,
                rules,
                field_errors,
                ..
            } => {
                assert_eq!(message.as_deref(), Some("Rule Violation"));
                assert_eq!(rules, &["Name is required"]);
                assert_eq!(
                    field_errors.get("Name").map(String::as_str),
                    Some("required")
                );
            }
            other => panic!("expected a bad request, got {other:?}"),
        }
        assert_eq!(
            error.to_string(),
            "bad request (Rule Violation): update_plan (PUT /v2/plans/{planId}), status 400"
        );
    }

    #[test]
    fn unrelated_json_is_not_an_error_body() {
        assert!(parse_error_body(br#"{"error":"nope"}"#).is_none());
        assert!(parse_error_body(b"<html>").is_none());
        assert!(parse_error_body(br#"{"Message":"x"}"#).is_some());
    }

    #[test]
    fn statuses_map_to_their_variants() {
        type Check = fn(&Error) -> bool;
        let cases: [(u16, Check); 5] = [
            (403, |e| matches!(e, Error::Forbidden { .. })),
            (404, |e| matches!(e, Error::NotFound { .. })),
            (429, |e| matches!(e, Error::RateLimited { .. })),
            (503, |e| matches!(e, Error::Server { status: 503, .. })),
            (418, |e| matches!(e, Error::Api { status: 418, .. })),
        ];
        for (status, check) in cases {
            let error = Error::from_status(status, None, context("list_plans", status));
            assert!(check(&error), "{status}: {error:?}");
            assert_eq!(error.status(), Some(status));
        }
    }
}
