#![doc = include_str!("../README.md")]

mod operation;
mod runtime;

pub use operation::{Operation, Operations};
pub use runtime::Runtime;
