//! The one error type of the money module, so that callers match on a single
//! enum whatever step (parsing, arithmetic, decoding) failed.

use super::Currency;

/// How many characters of a rejected input an error keeps.
///
/// Inputs come from remote APIs and fuzzers; keeping a bounded excerpt makes
/// errors useful in logs without letting a huge payload flood them.
const EXCERPT_CHARS: usize = 64;

/// Everything that can go wrong while building or computing with money.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MoneyError {
    /// The text is not an amount in the accepted syntax.
    #[error("invalid amount {input:?}: {reason}")]
    InvalidAmount {
        /// The rejected text (at most 64 characters of it).
        input: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The amount has more (non-zero) decimal places than the currency's
    /// minor unit, so it cannot be represented without rounding.
    #[error("amount {input:?} has more decimal places than {currency} allows ({exponent})")]
    TooManyDecimals {
        /// The rejected amount as text (at most 64 characters of it).
        input: String,
        /// The currency the amount was meant for.
        currency: Currency,
        /// The currency's number of decimal places.
        exponent: u32,
    },
    /// The amount needs more than 28 decimal places, the most a
    /// [`rust_decimal::Decimal`] holds exactly.
    #[error("amount {input:?} has more than 28 significant decimal places")]
    PrecisionExceeded {
        /// The rejected text (at most 64 characters of it).
        input: String,
    },
    /// Two amounts of different currencies were combined.
    #[error("currency mismatch: {left} and {right}")]
    CurrencyMismatch {
        /// The currency of the left operand.
        left: Currency,
        /// The currency of the right operand.
        right: Currency,
    },
    /// The result does not fit: more than `i64` minor units, or more than the
    /// 96-bit mantissa of a decimal.
    #[error("amount out of range")]
    Overflow,
    /// The currency code is not three ASCII letters.
    #[error("invalid currency code {code:?}: expected three ascii letters")]
    InvalidCurrency {
        /// The rejected code (at most 64 characters of it).
        code: String,
    },
    /// An explicit exponent was given for a known ISO code and disagrees with
    /// the exponent ISO 4217 assigns to it.
    #[error("currency {currency} has exponent {expected}, not {given}")]
    ExponentMismatch {
        /// The known currency.
        currency: Currency,
        /// Its exponent according to ISO 4217.
        expected: u32,
        /// The exponent that was asked for.
        given: u32,
    },
    /// An explicit exponent is larger than [`super::MAX_EXPONENT`].
    #[error("exponent {exponent} is larger than the supported maximum of {max}")]
    UnsupportedExponent {
        /// The exponent that was asked for.
        exponent: u32,
        /// The largest supported exponent.
        max: u32,
    },
    /// A division by a zero divisor.
    #[error("division by zero")]
    DivisionByZero,
    /// Allocation ratios were empty or all zero, so there is no share to
    /// compute.
    #[error("allocation ratios must not be empty or all zero")]
    InvalidRatios,
}

/// Keeps the first [`EXCERPT_CHARS`] characters of `input` for an error.
pub(super) fn excerpt(input: &str) -> String {
    let mut chars = input.chars();
    let mut kept: String = chars.by_ref().take(EXCERPT_CHARS).collect();
    if chars.next().is_some() {
        kept.push('…');
    }
    kept
}
