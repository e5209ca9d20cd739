//! The wire tests of the `pensionpro` crate, as one binary: every request
//! goes to a loopback server (httpmock with the generated typed mocks, or a
//! small hyper server where the answer depends on state or timing).

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "a test fails by panicking"
)]

mod auth;
mod coverage;
mod errors;
mod faults;
mod files;
mod odata;
mod pagination;
mod samples;
mod security;
mod support;
mod update;
mod webhook;
