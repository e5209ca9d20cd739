#![doc = include_str!("../README.md")]

pub mod auth;
pub mod dates;
pub mod error;
pub mod files;
pub mod money;
pub mod odata;
pub mod pagination;
pub mod retry;
pub mod update;
pub mod webhook;

pub use auth::{Client, ClientBuilder, RatePlan};
pub use client_core::SecretString;
pub use client_core::error::ErrorContext;
pub use error::{Error, Result};
pub use odata::{Filter, Query, field};
/// The generated request and response types (`Plan`, `Contact`, `Note`, ...).
pub use pensionpro_client::types;
