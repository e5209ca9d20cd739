//! The `pinwheel` crate on the wire: one test binary, one module per concern,
//! every HTTP exchange against `httpmock` servers on loopback, driven through
//! the generated typed mocks where they fit.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "a test fails by panicking"
)]

mod admin;
mod config;
mod errors;
mod faults;
mod fidelity;
mod headers;
mod money;
mod pagination;
mod resilience;
mod security;
mod support;
mod webhook;
