#![doc = include_str!("../README.md")]

pub mod admin;
pub mod call;
pub mod client;
pub mod error;
pub mod money;
pub mod pagination;
pub mod retry;
pub mod webhook;

pub use call::{Call, Response};
pub use client::{API_VERSION, Client, ClientBuilder, Mode};
pub use client_core::{ExposeSecret, SecretString};
pub use error::{Error, Result};
pub use pinwheel_client::types;

/// What a program using this crate usually needs in scope: `use pinwheel::prelude::*;`.
pub mod prelude {
    pub use crate::call::Call;
    pub use crate::{Client, Error, Mode, Response, Result};
}
