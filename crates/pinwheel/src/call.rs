//! A successful answer together with what support needs about it, and the
//! one place where a generated call is run in a call scope and its error is
//! mapped, so direct calls and listings report errors the same way.

use std::future::Future;
use std::ops::Deref;

use client_core::call::{CallOptions, CallReport, with_call};
use client_core::error::ErrorContext;
use progenitor_client::ResponseValue;

use crate::auth::REQUEST_ID_HEADER;
use crate::error::{self, Result};
use crate::types;

/// A decoded response body with its status and Pinwheel's request id.
///
/// Dereferences to the body, so `response.data` reads the body's `data`.
#[derive(Debug, Clone)]
pub struct Response<T> {
    inner: T,
    status: u16,
    request_id: Option<String>,
    headers: http::HeaderMap,
    report: CallReport,
}

impl<T> Response<T> {
    pub(crate) fn new(value: ResponseValue<T>, report: CallReport) -> Self {
        let status = value.status().as_u16();
        let headers = value.headers().clone();
        let request_id = headers
            .get(REQUEST_ID_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .or_else(|| report.request_id.clone());
        Self {
            inner: value.into_inner(),
            status,
            request_id,
            headers,
            report,
        }
    }

    /// The body.
    pub fn into_inner(self) -> T {
        self.inner
    }

    /// The body, borrowed.
    pub fn get(&self) -> &T {
        &self.inner
    }

    /// The HTTP status.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// Pinwheel's `x-pinwheel-request-id`, to quote in support requests.
    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }

    /// The response headers.
    pub fn headers(&self) -> &http::HeaderMap {
        &self.headers
    }

    /// Attempts the runtime made for this call (more than one after retries).
    pub fn attempts(&self) -> u32 {
        self.report.attempts
    }

    /// The same response with its body transformed.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Response<U> {
        Response {
            inner: f(self.inner),
            status: self.status,
            request_id: self.request_id,
            headers: self.headers,
            report: self.report,
        }
    }

    /// The runtime's account of the call, as an error would have reported it.
    pub(crate) fn context(&self) -> ErrorContext {
        let mut context = ErrorContext::from_report(&self.report);
        context.status = Some(self.status);
        context.request_id.clone_from(&self.request_id);
        context
    }
}

impl<T> Deref for Response<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.inner
    }
}

/// Runs one generated call in a call scope with `options` (and, given the
/// client's runtime, its default deadline and the redaction of its
/// credentials), and maps its outcome to this crate's types.
pub(crate) async fn call<T, F>(
    runtime: Option<&client_core::Runtime>,
    options: CallOptions,
    future: F,
) -> Result<Response<T>>
where
    F: Future<
        Output = std::result::Result<
            ResponseValue<T>,
            progenitor_client::Error<types::ErrorResponse>,
        >,
    >,
{
    let (outcome, report) = match runtime {
        Some(runtime) => runtime.run(options, future).await,
        None => with_call(options, future).await,
    };
    match outcome {
        Ok(Ok(value)) => Ok(Response::new(value, report)),
        Ok(Err(failure)) => Err(error::from_call(failure, &report).await),
        Err(exceeded) => Err(error::deadline(exceeded, &report)),
    }
}
