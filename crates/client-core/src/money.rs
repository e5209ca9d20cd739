//! Exact money amounts for the payroll APIs, because pay data must never be
//! rounded by accident.
//!
//! Pinwheel sends integer minor units (cents) and often puts the ISO 4217 code
//! on the parent object; PensionPro and some Pinwheel fields send decimal major
//! units as JSON numbers. Both shapes end up here as exact integers or exact
//! decimals:
//!
//! - [`Currency`] binds a code to its minor-unit exponent (USD 2, JPY 0, KWD 3),
//!   because the exponent decides what an integer amount means.
//! - [`Money`] is an amount in integer minor units of one currency. Arithmetic
//!   is checked, mixing currencies is an error, and rounding only happens when
//!   the caller names a [`Rounding`] mode.
//! - [`MinorUnits`] decodes an integer minor-unit field whose currency lives
//!   elsewhere in the document; [`DecimalAmount`] decodes a decimal major-unit
//!   field exactly from the JSON text.
//!
//! No value on any of these paths passes through `f32` or `f64`, including
//! serde: a JSON number like `0.1` is read from its text, so it stays exactly
//! `0.1`. The rules are summarised in `crates/client-core/MONEY.md`.
//!
//! ```
//! use client_core::money::{Currency, Money, Rounding};
//! use rust_decimal::Decimal;
//!
//! let net = Money::from_major_str("292.23", Currency::USD)?;
//! assert_eq!(net.minor(), 29223);
//! let tax = Money::from_minor(1200, Currency::USD);
//! assert_eq!(net.checked_sub(tax)?.to_string(), "280.23 USD");
//! let half = net.mul_decimal(Decimal::new(5, 1), Rounding::HalfEven)?;
//! assert_eq!(half.minor(), 14612);
//! let parts = net.allocate(&[1, 1, 1])?;
//! assert_eq!(parts.iter().map(Money::minor).collect::<Vec<_>>(), [9741, 9741, 9741]);
//! # Ok::<(), client_core::money::MoneyError>(())
//! ```

mod amount;
mod currency;
mod error;
mod rounding;
mod text;
mod wire;

#[cfg(test)]
mod tests;

pub use amount::Money;
pub use currency::{Currency, MAX_EXPONENT, UnknownCurrency};
pub use error::MoneyError;
pub use rounding::Rounding;
pub use wire::{DecimalAmount, MinorUnits};

/// Re-exported so callers can build factors and read decimal amounts without
/// naming the same `rust_decimal` version themselves.
pub use rust_decimal::Decimal;
