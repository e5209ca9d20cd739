#![doc = include_str!("../README.md")]

pub mod money;
mod operation;
pub mod retry;
mod runtime;

pub use operation::{Operation, Operations};
pub use runtime::Runtime;
