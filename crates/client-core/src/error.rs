//! The vendor-independent part of every wrapper's error: what was called,
//! what the server and the runtime did, and what went wrong.
//!
//! Each wrapper has one public `Error` that carries an [`ErrorContext`] and
//! maps [`Failure::Api`] bodies to its vendor's typed variants. Lower-level
//! errors (reqwest, serde_json) are kept only as `source()`.

use std::fmt;
use std::time::Duration;

use futures::StreamExt;

use crate::call::CallReport;
use crate::retry::GiveUpReason;

/// How much of an error body is kept for diagnostics.
pub const SNIPPET_BYTES: usize = 512;

/// How much of an undeclared error body is read to look for the vendor's
/// error format; a larger body is not read further (an enormous body must
/// not exhaust memory).
pub const ERROR_BODY_LIMIT: usize = 64 * 1024;

/// Everything known about a failed call, for logs and support tickets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ErrorContext {
    /// progenitor's operation id (snake case), or empty when unknown.
    pub operation_id: &'static str,
    /// HTTP method.
    pub method: &'static str,
    /// Path template from the document.
    pub path: &'static str,
    /// Status of the last response, if one arrived.
    pub status: Option<u16>,
    /// The vendor's request id, if the last response carried one.
    pub request_id: Option<String>,
    /// Attempts sent.
    pub attempts: u32,
    /// The server's `Retry-After`, if it sent one.
    pub retry_after: Option<Duration>,
    /// Time from the first attempt to the failure.
    pub elapsed: Duration,
    /// The start of the response body (at most [`SNIPPET_BYTES`], lossy UTF-8).
    pub body_snippet: Option<String>,
    /// Why a retryable failure was not retried further, if that is the case.
    pub gave_up: Option<GiveUpReason>,
}

impl ErrorContext {
    /// The context recorded by the runtime for one call.
    pub fn from_report(report: &CallReport) -> Self {
        let operation = report
            .operation
            .copied()
            .unwrap_or(crate::Operation::UNKNOWN);
        Self {
            operation_id: operation.id,
            method: operation.method,
            path: operation.path,
            status: report.status,
            request_id: report.request_id.clone(),
            attempts: report.attempts,
            retry_after: report.retry_after,
            elapsed: report.elapsed,
            body_snippet: None,
            gave_up: report.gave_up,
        }
    }
}

impl fmt::Display for ErrorContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.operation_id.is_empty() {
            write!(f, "request")?;
        } else {
            write!(f, "{} ({} {})", self.operation_id, self.method, self.path)?;
        }
        if let Some(status) = self.status {
            write!(f, ", status {status}")?;
        }
        if self.attempts > 1 {
            write!(f, ", {} attempts", self.attempts)?;
        }
        if let Some(reason) = &self.gave_up {
            write!(f, ", not retried: {reason}")?;
        }
        if let Some(id) = &self.request_id {
            write!(f, ", request id {id}")?;
        }
        Ok(())
    }
}

/// What went wrong, independent of the vendor; `E` is the vendor's error body.
///
/// Not `#[non_exhaustive]` on purpose: every wrapper maps every kind to a
/// typed error of its own, and a new kind must fail their build rather than
/// fall into a catch-all that guesses.
#[derive(Debug)]
pub enum Failure<E> {
    /// An error status with a body in the vendor's error format.
    Api {
        /// Status code.
        status: u16,
        /// The parsed body.
        body: E,
    },
    /// An error status whose body is not in the vendor's format (an HTML page,
    /// a proxy's text), or a status the document does not declare.
    UnexpectedStatus {
        /// Status code.
        status: u16,
    },
    /// A success status whose body did not decode into the declared type.
    Decode {
        /// The decoding error.
        source: serde_json::Error,
    },
    /// The request never got a complete response: connect, reset, timeout.
    Transport {
        /// The transport error.
        source: reqwest::Error,
    },
    /// The request could not be built from the arguments given.
    InvalidRequest {
        /// What was wrong.
        message: String,
    },
    /// The call was not sent: the shared rate store is unavailable and its
    /// policy is to fail.
    RateStore {
        /// What the store said.
        message: String,
    },
    /// The call's overall deadline passed.
    Deadline {
        /// The deadline.
        deadline: Duration,
    },
}

/// Turns a generated client's error into a [`Failure`] and its context.
///
/// `parse_error_body` tries the vendor's error format on bodies progenitor
/// did not parse (undeclared statuses); only the first [`ERROR_BODY_LIMIT`]
/// bytes of such a body are read.
pub async fn classify<E>(
    error: progenitor_client::Error<E>,
    report: &CallReport,
    parse_error_body: impl Fn(&[u8]) -> Option<E>,
) -> (Failure<E>, ErrorContext) {
    let mut context = ErrorContext::from_report(report);
    if let Some(message) = &report.rate_store_error {
        return (
            Failure::RateStore {
                message: message.clone(),
            },
            context,
        );
    }
    // An operation that returns credentials keeps nothing of its body: not
    // a snippet, not the decoder's message (which quotes the value it could
    // not read).
    let sensitive = report.operation.is_some_and(|op| op.sensitive_response());
    let keep = |body: &[u8]| (!sensitive).then(|| report.redactor.redact(&snippet(body)));
    let failure = match error {
        progenitor_client::Error::ErrorResponse(response) => {
            context.status = Some(response.status().as_u16());
            Failure::Api {
                status: response.status().as_u16(),
                body: response.into_inner(),
            }
        }
        progenitor_client::Error::UnexpectedResponse(response) => {
            let status = response.status().as_u16();
            context.status = Some(status);
            let body = read_limited(response, ERROR_BODY_LIMIT).await;
            context.body_snippet = keep(&body);
            match parse_error_body(&body) {
                Some(parsed) if status >= 400 => Failure::Api {
                    status,
                    body: parsed,
                },
                _ => Failure::UnexpectedStatus { status },
            }
        }
        progenitor_client::Error::InvalidResponsePayload(bytes, source) => {
            let (source, snippet) = undecodable(source, &bytes, report);
            context.body_snippet = snippet;
            Failure::Decode { source }
        }
        progenitor_client::Error::CommunicationError(source)
        | progenitor_client::Error::ResponseBodyError(source)
        | progenitor_client::Error::InvalidUpgrade(source) => Failure::Transport { source },
        progenitor_client::Error::InvalidRequest(message)
        | progenitor_client::Error::Custom(message) => Failure::InvalidRequest {
            message: report.redactor.redact(&message),
        },
    };
    (failure, context)
}

/// A success body (or a part of it read later) that did not decode: the
/// decoder's error with the client's credentials scrubbed, and a snippet of
/// the body; an operation whose answers carry credentials keeps neither the
/// snippet nor the decoder's message (which quotes the value it could not
/// read).
pub(crate) fn undecodable(
    source: serde_json::Error,
    body: &[u8],
    report: &CallReport,
) -> (serde_json::Error, Option<String>) {
    if report.operation.is_some_and(|op| op.sensitive_response()) {
        let source = <serde_json::Error as serde::de::Error>::custom(format_args!(
            "the body does not decode as the declared type ({:?} error at line {}, column {}; \
             the body of this operation carries credentials and is not kept)",
            source.classify(),
            source.line(),
            source.column()
        ));
        return (source, None);
    }
    // The decoder quotes the value it could not read: a server echoing a
    // credential would put it into the message.
    let text = source.to_string();
    let redacted = report.redactor.redact(&text);
    let source = if redacted == text {
        source
    } else {
        <serde_json::Error as serde::de::Error>::custom(redacted)
    };
    (source, Some(report.redactor.redact(&snippet(body))))
}

/// Reads at most `limit` bytes of a body; a transport error ends the read.
async fn read_limited(response: reqwest::Response, limit: usize) -> Vec<u8> {
    let mut body = Vec::new();
    let mut stream = response.bytes_stream();
    while let Some(Ok(chunk)) = stream.next().await {
        let room = limit.saturating_sub(body.len());
        body.extend_from_slice(chunk.get(..room.min(chunk.len())).unwrap_or_default());
        if body.len() >= limit {
            break;
        }
    }
    body
}

/// The start of a body as text, cut on a character boundary.
pub fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(
        body.get(..SNIPPET_BYTES.min(body.len()))
            .unwrap_or_default(),
    );
    let mut text = text.into_owned();
    if body.len() > SNIPPET_BYTES {
        text.push('…');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippets_are_bounded_and_survive_broken_utf8() {
        assert_eq!(snippet(b"short"), "short");
        let long = vec![b'a'; SNIPPET_BYTES * 3];
        let cut = snippet(&long);
        assert_eq!(cut.chars().count(), SNIPPET_BYTES + 1);
        assert!(cut.ends_with('…'));
        // A multi-byte character cut in half becomes a replacement character, not a panic.
        let mut tricky = vec![b'a'; SNIPPET_BYTES - 1];
        tricky.extend_from_slice("é".as_bytes());
        assert!(snippet(&tricky).ends_with("\u{fffd}…"));
    }

    #[test]
    fn context_display_is_one_line_with_what_support_needs() {
        let context = ErrorContext {
            operation_id: "list_accounts",
            method: "GET",
            path: "/accounts",
            status: Some(503),
            request_id: Some("req-1".into()),
            attempts: 3,
            ..ErrorContext::default()
        };
        assert_eq!(
            context.to_string(),
            "list_accounts (GET /accounts), status 503, 3 attempts, request id req-1"
        );
    }
}
