#![doc = include_str!("../README.md")]

pub mod call;
pub mod client;
pub mod dates;
pub mod error;
pub mod files;
pub mod money;
pub mod odata;
pub mod pagination;
pub mod retry;
pub mod update;
pub mod webhook;

pub use call::{Call, Response};
pub use client::{Client, ClientBuilder, RatePlan};
pub use client_core::SecretString;
pub use client_core::error::ErrorContext;
pub use error::{Error, Result};
pub use odata::{Filter, Query, field};
/// The generated request and response types (`Plan`, `Contact`, `Note`, ...).
pub use pensionpro_client::types;

/// What a program using this crate usually needs in scope: `use pensionpro::prelude::*;`.
pub mod prelude {
    pub use crate::call::Call;
    pub use crate::{Client, Error, Query, RatePlan, Response, Result, field};
}
