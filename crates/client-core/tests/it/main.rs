//! The runtime on the wire: retries, limits, deadlines and secrets against a
//! scripted server on loopback.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test fails by panicking"
)]

mod redis;
mod runtime;
