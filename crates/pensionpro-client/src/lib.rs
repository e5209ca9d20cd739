#![doc = include_str!("../README.md")]
//!
//! Everything below comes from `src/generated.rs`, written by `cargo xtask codegen pensionpro`.

// Generated code is not held to the handwritten crates' lints.
#[allow(missing_docs, unreachable_pub, unused_imports, rust_2018_idioms, clippy::all, clippy::pedantic)]
mod generated;

pub use generated::*;
