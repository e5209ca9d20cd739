#![doc = include_str!("../README.md")]

pub mod call;
pub mod error;
pub mod json;
mod metrics;
pub mod money;
mod operation;
pub mod query;
pub mod rate;
#[cfg(feature = "redis")]
pub mod redis_store;
pub mod request;
pub mod retry;
mod runtime;
pub mod settings;
pub mod stream;
#[cfg(feature = "test-util")]
pub mod testing;
pub mod transport;
pub mod webhook;

pub use metrics::Metrics;
pub use operation::{Operation, Operations, SENSITIVE_RESPONSE};
pub use query::OptionalQuery;
pub use request::{CallError, JsonRequest, Request, Response};
pub use runtime::{ConfigError, LOCAL_RESPONSE_HEADER, Runtime, RuntimeBuilder, SecretHeader};
pub use secrecy::{ExposeSecret, SecretString};
