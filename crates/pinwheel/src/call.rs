//! One way to send any request: `client.get_account().account_id(id).send().await?`.
//!
//! Every operation's builder of the generated client implements
//! `client_core::Request`; [`Call`] gives all of them `send()` (and
//! `send_with(options)`), which runs the request through the client's
//! runtime (credentials, limits, retries, the default deadline) and returns
//! this crate's [`Result`](crate::Result) of a [`Response`]: the body, its status, Pinwheel's
//! request id and the runtime's report. Bring it into scope with
//! `use pinwheel::Call;` (or `use pinwheel::prelude::*;`).

pub use client_core::Response;

use crate::error::parse_error_body;
use crate::types;

client_core::call_trait!(error_body: types::ErrorResponse, parse: parse_error_body);
