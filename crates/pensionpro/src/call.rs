//! One way to send any request: `client.get_plan().plan_id(id).send().await?`.
//!
//! Every operation's builder of the generated client implements
//! `client_core::Request`; [`Call`] gives all of them `send()` (and
//! `send_with(options)`), which runs the request through the client's
//! runtime (credentials, the firm's rate budget, retries, the default
//! deadline) and returns this crate's [`Result`](crate::Result) of a [`Response`]: the
//! body, its status, the request id when the server sends one, and the
//! runtime's report. Bring it into scope with `use pensionpro::Call;` (or
//! `use pensionpro::prelude::*;`).

pub use client_core::Response;

use crate::error::parse_error_body;
use crate::types::ErrorResponse;

client_core::call_trait!(error_body: ErrorResponse, parse: parse_error_body);
