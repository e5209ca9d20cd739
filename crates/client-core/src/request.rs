//! One way to send a request of any generated client, so every wrapper runs
//! calls, classifies failures and reports what happened the same way.
//!
//! The generator implements [`Request`] for every operation's builder of
//! every generated client (its own `send` becomes `send_raw`). A wrapper adds
//! a `send()` on top, through [`send`] and its own error type, so a call
//! reads `client.get_account().account_id(id).send().await?` and returns the
//! wrapper's `Result<Response<T>>`.

use std::future::Future;
use std::ops::Deref;

use progenitor_client::ResponseValue;
use serde::de::DeserializeOwned;

use crate::Runtime;
use crate::call::{CallOptions, CallReport, Redactor};
use crate::error::{ErrorContext, Failure, classify};

/// A built request of a generated client, ready to send.
pub trait Request: Sized + Send {
    /// The decoded body of a success.
    type Output: Send;
    /// The vendor's error body.
    type Error: Send;

    /// The runtime of the client the request belongs to.
    fn runtime(&self) -> &Runtime;

    /// Sends the request as progenitor does, without a call scope.
    fn send_raw(
        self,
    ) -> impl Future<
        Output = Result<ResponseValue<Self::Output>, progenitor_client::Error<Self::Error>>,
    > + Send;
}

/// A request whose every success answer is a JSON body: it can be decoded
/// into another type than the declared one, a lighter view of the same body
/// (for instance a list page whose rows stay JSON text until taken). The
/// generator implements it for every such operation's builder.
pub trait JsonRequest: Request {
    /// Sends the request as [`Request::send_raw`] does, decoding a success
    /// body as `B`.
    fn send_raw_as<B: DeserializeOwned + Send>(
        self,
    ) -> impl Future<Output = Result<ResponseValue<B>, progenitor_client::Error<Self::Error>>> + Send;
}

/// A decoded body with its status, its headers, the vendor's request id and
/// the runtime's report of the call.
///
/// Dereferences to the body, so `response.data` reads the body's `data`.
pub struct Response<T> {
    /// progenitor's value as it came (boxed: generated bodies can be large,
    /// and a response passes through every future that awaits it). Kept
    /// whole so its headers are not copied a second time.
    value: Box<ResponseValue<T>>,
    report: CallReport,
}

impl<T: Clone> Clone for Response<T> {
    fn clone(&self) -> Self {
        Self {
            value: self.around((**self.value).clone()),
            report: self.report.clone(),
        }
    }
}

impl<T: std::fmt::Debug> std::fmt::Debug for Response<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Response")
            .field("inner", &**self.value)
            .field("status", &self.status())
            .field("headers", self.headers())
            .field("report", &self.report)
            .finish()
    }
}

impl<T> Response<T> {
    /// A response from progenitor's value and the call's report.
    pub fn new(value: ResponseValue<T>, report: CallReport) -> Self {
        Self {
            value: Box::new(value),
            report,
        }
    }

    /// The body.
    pub fn into_inner(self) -> T {
        self.value.into_inner()
    }

    /// The body, and the rest of the response (status, headers, report)
    /// for reporting on the body later ([`Response::decode_error`]).
    pub fn into_parts(self) -> (T, Response<()>) {
        let value = self.around(());
        let rest = Response {
            value,
            report: self.report,
        };
        (self.value.into_inner(), rest)
    }

    /// progenitor's value around another body: the same status, a copy of
    /// the headers (`ResponseValue` gives them up only by reference).
    fn around<U>(&self, body: U) -> Box<ResponseValue<U>> {
        Box::new(ResponseValue::new(
            body,
            self.value.status(),
            self.value.headers().clone(),
        ))
    }

    /// The body, borrowed.
    pub fn get(&self) -> &T {
        &self.value
    }

    /// The HTTP status.
    pub fn status(&self) -> u16 {
        self.value.status().as_u16()
    }

    /// The vendor's request id, to quote in support requests.
    pub fn request_id(&self) -> Option<&str> {
        self.report.request_id.as_deref()
    }

    /// The response headers.
    pub fn headers(&self) -> &http::HeaderMap {
        self.value.headers()
    }

    /// What the runtime did: attempts, waits, the reason it stopped retrying.
    pub fn report(&self) -> &CallReport {
        &self.report
    }

    /// Attempts the runtime made for this call (more than one after retries).
    pub fn attempts(&self) -> u32 {
        self.report.attempts
    }

    /// The same response with its body transformed.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Response<U> {
        let status = self.value.status();
        let headers = self.value.headers().clone();
        Response {
            value: Box::new(ResponseValue::new(
                f(self.value.into_inner()),
                status,
                headers,
            )),
            report: self.report,
        }
    }

    /// The error of a call whose body (or the part of it `body` is, read
    /// after the call returned) does not decode: what the call would have
    /// returned had it decoded the body itself, with credentials scrubbed
    /// from the decoder's message and the body's snippet.
    pub fn decode_error<E>(&self, body: &[u8], source: serde_json::Error) -> CallError<E> {
        let (source, snippet) = crate::error::undecodable(source, body, &self.report);
        let mut context = self.context();
        context.body_snippet = snippet;
        CallError {
            failure: Failure::Decode { source },
            context,
            redactor: self.report.redactor.clone(),
        }
    }

    /// The call as an error would have reported it (for an answer that
    /// turns out to be unusable).
    pub fn context(&self) -> ErrorContext {
        let mut context = ErrorContext::from_report(&self.report);
        context.status = Some(self.status());
        context
    }
}

impl<T> Deref for Response<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.value
    }
}

/// A call that failed: what went wrong, what was called, and what scrubs
/// the client's credentials from the vendor's text. Wrappers turn it into
/// their own error.
#[derive(Debug)]
pub struct CallError<E> {
    /// What went wrong.
    pub failure: Failure<E>,
    /// What was called and what the runtime did.
    pub context: ErrorContext,
    /// Scrubs the client's credentials from text (vendor error bodies).
    pub redactor: Redactor,
}

/// Sends `request` in a call scope with `options` and the client's default
/// deadline, and classifies a failure; `parse_error_body` reads the vendor's
/// error format from bodies the generated code did not parse.
///
/// Generated requests can be large (an entity with every lookup inline, in
/// the builder and again in the body being sent), so the request's state
/// goes to the heap as soon as it is built and the returned future holds a
/// pointer to it: awaiting calls in nested futures does not pile copies of
/// it up on the stack.
///
/// # Errors
///
/// A [`CallError`] for an error answer, a transport failure, a body that
/// does not decode, a passed deadline or an unavailable rate store.
pub fn send<R: Request>(
    request: R,
    options: CallOptions,
    parse_error_body: impl Fn(&[u8]) -> Option<R::Error> + Send,
) -> impl Future<Output = Result<Response<R::Output>, CallError<R::Error>>> + Send {
    let runtime = request.runtime().clone();
    run(runtime, request.send_raw(), options, parse_error_body)
}

/// [`send`], with a success body decoded as `B` (see [`JsonRequest`]).
///
/// # Errors
///
/// As [`send`].
pub fn send_as<R: JsonRequest, B: DeserializeOwned + Send>(
    request: R,
    options: CallOptions,
    parse_error_body: impl Fn(&[u8]) -> Option<R::Error> + Send,
) -> impl Future<Output = Result<Response<B>, CallError<R::Error>>> + Send {
    let runtime = request.runtime().clone();
    run(
        runtime,
        request.send_raw_as::<B>(),
        options,
        parse_error_body,
    )
}

/// Runs a sent request's future in a call scope and classifies a failure.
fn run<T: Send, E: Send>(
    runtime: Runtime,
    sent: impl Future<Output = Result<ResponseValue<T>, progenitor_client::Error<E>>> + Send,
    options: CallOptions,
    parse_error_body: impl Fn(&[u8]) -> Option<E> + Send,
) -> impl Future<Output = Result<Response<T>, CallError<E>>> + Send {
    // Only the generated future goes to the heap; the layers around it
    // (call scope, deadline, classification) stay small, so nothing large
    // is built on the stack and copied again.
    let sent = Box::pin(sent);
    async move {
        let (outcome, report) = runtime.run(options, sent).await;
        // Only the error, not the decoded body, stays alive across the
        // await below: the body can be large.
        let error = match outcome {
            Ok(Ok(value)) => return Ok(Response::new(value, report)),
            Ok(Err(error)) => error,
            Err(exceeded) => {
                return Err(CallError {
                    failure: Failure::Deadline {
                        deadline: exceeded.deadline,
                    },
                    context: ErrorContext::from_report(&report),
                    redactor: report.redactor,
                });
            }
        };
        let (failure, context) = classify(error, &report, parse_error_body).await;
        Err(CallError {
            failure,
            context,
            redactor: report.redactor,
        })
    }
}

/// Defines a wrapper's `Call` trait, implemented for every request of its
/// generated client whose error body is `$body`: `send()` and
/// `send_with(options)` run it through [`send`] and turn a [`CallError`]
/// into the wrapper's error with `From`. Expanded in a module of a crate
/// with a `Result<T>` alias whose error is `From<CallError<$body>>`;
/// `$parse` reads the vendor's error format from a body.
#[macro_export]
#[allow(
    clippy::crate_in_macro_def,
    reason = "the trait returns the Result of the crate that expands the macro"
)]
macro_rules! call_trait {
    (error_body: $body:ty, parse: $parse:path $(,)?) => {
        /// Sends a request of the generated client with this crate's
        /// client: its credentials, limits, retries and default deadline.
        pub trait Call: $crate::Request<Error = $body> {
            /// Sends the request with the client's settings.
            fn send(
                self,
            ) -> impl ::std::future::Future<Output = crate::Result<$crate::Response<Self::Output>>>
            + Send;

            /// Sends the request with per-call `options` (deadline, attempt
            /// timeout, retry policy) over the client's.
            fn send_with(
                self,
                options: $crate::call::CallOptions,
            ) -> impl ::std::future::Future<Output = crate::Result<$crate::Response<Self::Output>>>
            + Send;
        }

        impl<R> Call for R
        where
            R: $crate::Request<Error = $body>,
        {
            fn send(
                self,
            ) -> impl ::std::future::Future<Output = crate::Result<$crate::Response<Self::Output>>>
            + Send {
                $crate::request::send_into(self, $crate::call::CallOptions::default(), $parse)
            }

            fn send_with(
                self,
                options: $crate::call::CallOptions,
            ) -> impl ::std::future::Future<Output = crate::Result<$crate::Response<Self::Output>>>
            + Send {
                $crate::request::send_into(self, options, $parse)
            }
        }
    };
}

/// [`send`], with a [`CallError`] turned into the caller's error type.
///
/// # Errors
///
/// As [`send`], converted with `From`.
pub fn send_into<R: Request, E: From<CallError<R::Error>>>(
    request: R,
    options: CallOptions,
    parse_error_body: impl Fn(&[u8]) -> Option<R::Error> + Send,
) -> impl Future<Output = Result<Response<R::Output>, E>> + Send {
    use futures::FutureExt as _;
    send(request, options, parse_error_body).map(|result| result.map_err(E::from))
}
