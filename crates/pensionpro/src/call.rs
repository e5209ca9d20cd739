//! One way to send any request: `client.get_plan().plan_id(id).send().await?`.
//!
//! Every operation's builder of the generated client implements
//! `client_core::Request`; [`Call`] gives all of them `send()` (and
//! `send_with(options)`), which runs the request through the client's
//! runtime (credentials, the firm's rate budget, retries, the default
//! deadline) and returns this crate's [`Result`] of a [`Response`]: the
//! body, its status, the request id when the server sends one, and the
//! runtime's report. Bring it into scope with `use pensionpro::Call;` (or
//! `use pensionpro::prelude::*;`).

use std::future::Future;

pub use client_core::Response;
use client_core::call::CallOptions;
use futures::FutureExt;

use crate::error::{Error, Result, parse_error_body};
use crate::types::ErrorResponse;

/// Sends a request of the generated client; see the module docs.
pub trait Call: client_core::Request<Error = ErrorResponse> {
    /// Sends the request with the client's settings.
    fn send(self) -> impl Future<Output = Result<Response<Self::Output>>> + Send;

    /// Sends the request with per-call `options` (deadline, attempt timeout,
    /// retry policy) over the client's.
    fn send_with(
        self,
        options: CallOptions,
    ) -> impl Future<Output = Result<Response<Self::Output>>> + Send;
}

impl<R> Call for R
where
    R: client_core::Request<Error = ErrorResponse>,
{
    fn send(self) -> impl Future<Output = Result<Response<Self::Output>>> + Send {
        self.send_with(CallOptions::default())
    }

    fn send_with(
        self,
        options: CallOptions,
    ) -> impl Future<Output = Result<Response<Self::Output>>> + Send {
        // A boxed future (see `client_core::request::send`): the request's
        // state is on the heap, whatever awaits it.
        client_core::request::send(self, options, parse_error_body)
            .map(|result| result.map_err(Error::from))
    }
}
