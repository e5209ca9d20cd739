#![doc = include_str!("../README.md")]

pub mod admin;
pub mod auth;
pub mod error;
pub mod money;
pub mod pagination;
mod response;
pub mod retry;
pub mod webhook;

pub use auth::{API_VERSION, Client, ClientBuilder, Mode};
pub use client_core::{ExposeSecret, SecretString};
pub use error::{Error, Result};
pub use pinwheel_client::types;
pub use response::Response;
