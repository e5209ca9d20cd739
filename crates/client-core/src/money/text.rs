//! Hand-written parsers for amount text, because the general-purpose parsers
//! either round (`f64`, `Decimal::from_str` beyond 28 digits) or accept more
//! syntax than an amount should have (`_` separators, `+` signs).
//!
//! Two grammars share one scanner:
//!
//! - plain: `-?[0-9]+(\.[0-9]+)?` for [`super::Money::from_major_str`];
//! - number: the plain grammar plus an optional `[eE][+-]?[0-9]+` exponent,
//!   which is what a JSON number literal may contain, for
//!   [`super::DecimalAmount`].

use rust_decimal::Decimal;

use super::MoneyError;
use super::error::excerpt;

/// Exponents beyond this magnitude are clamped while parsing; any non-zero
/// amount with such an exponent is out of range anyway, so the exact value
/// does not matter and clamping keeps the arithmetic small.
const EXPONENT_CLAMP: i64 = 100_000;

/// The largest mantissa a `Decimal` can hold: `2^96 - 1`.
const MAX_DECIMAL_MANTISSA: u128 = (1 << 96) - 1;

/// The pieces of a syntactically valid amount.
#[derive(Debug, Clone, Copy)]
pub(super) struct Parts<'a> {
    /// Whether the text started with `-`.
    pub(super) negative: bool,
    /// The ASCII digits before the decimal point (never empty).
    pub(super) int: &'a [u8],
    /// The ASCII digits after the decimal point (empty when there is none).
    pub(super) frac: &'a [u8],
    /// The power of ten from an `e` suffix, clamped to
    /// `±EXPONENT_CLAMP`; zero when there is none.
    pub(super) exp: i64,
}

/// Whether the `e` exponent suffix is part of the grammar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Syntax {
    /// `-?[0-9]+(\.[0-9]+)?`.
    Plain,
    /// The plain grammar plus `([eE][+-]?[0-9]+)?`.
    Number,
}

/// Splits `input` into sign, integer digits, fraction digits and exponent,
/// returning the reason when it does not follow `syntax`.
pub(super) fn split(input: &str, syntax: Syntax) -> Result<Parts<'_>, &'static str> {
    let bytes = input.as_bytes();
    let (negative, rest) = match bytes.split_first() {
        None => return Err("empty"),
        Some((b'-', rest)) => (true, rest),
        Some((b'+', _)) => return Err("a leading '+' is not accepted"),
        Some(_) => (false, bytes),
    };
    let (int, rest) = take_digits(rest);
    if int.is_empty() {
        return Err("expected a digit");
    }
    let (frac, rest) = match rest.split_first() {
        Some((b'.', after_point)) => {
            let (frac, rest) = take_digits(after_point);
            if frac.is_empty() {
                return Err("expected a digit after the decimal point");
            }
            (frac, rest)
        }
        _ => (&[][..], rest),
    };
    let (exp, rest) = match rest.split_first() {
        Some((b'e' | b'E', after_e)) => {
            if syntax == Syntax::Plain {
                return Err("exponent notation is not accepted");
            }
            let (exp_negative, after_sign) = match after_e.split_first() {
                Some((b'-', after)) => (true, after),
                Some((b'+', after)) => (false, after),
                _ => (false, after_e),
            };
            let (digits, rest) = take_digits(after_sign);
            if digits.is_empty() {
                return Err("expected a digit in the exponent");
            }
            let magnitude = digits.iter().fold(0_i64, |acc, &d| {
                acc.saturating_mul(10)
                    .saturating_add(i64::from(digit(d)))
                    .min(EXPONENT_CLAMP)
            });
            (if exp_negative { -magnitude } else { magnitude }, rest)
        }
        _ => (0, rest),
    };
    if !rest.is_empty() {
        return Err("unexpected character");
    }
    Ok(Parts {
        negative,
        int,
        frac,
        exp,
    })
}

/// Splits off the leading ASCII digits of `bytes`.
fn take_digits(bytes: &[u8]) -> (&[u8], &[u8]) {
    let len = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
    bytes.split_at_checked(len).unwrap_or((bytes, &[]))
}

/// The value of an ASCII digit; the callers only pass digits.
pub(super) fn digit(byte: u8) -> u8 {
    byte.saturating_sub(b'0')
}

/// Strips trailing `'0'` bytes.
pub(super) fn trim_trailing_zeros(digits: &[u8]) -> &[u8] {
    let len = digits.len() - digits.iter().rev().take_while(|&&b| b == b'0').count();
    digits.get(..len).unwrap_or(digits)
}

/// Strips leading `'0'` bytes.
fn trim_leading_zeros(digits: &[u8]) -> &[u8] {
    let zeros = digits.iter().take_while(|&&b| b == b'0').count();
    digits.get(zeros..).unwrap_or(digits)
}

/// Parses `input` in the number grammar into an exact `Decimal`.
///
/// Trailing zeros after the decimal point are kept (`"0.10"` has scale 2) as
/// long as the scale stays within 28; beyond that they are dropped because
/// they do not change the value. Non-zero digits beyond 28 places are an
/// error rather than rounded.
pub(super) fn parse_decimal(input: &str) -> Result<Decimal, MoneyError> {
    let parts = split(input, Syntax::Number).map_err(|reason| MoneyError::InvalidAmount {
        input: excerpt(input),
        reason,
    })?;
    let frac_len = i64::try_from(parts.frac.len()).map_err(|_| MoneyError::Overflow)?;
    // The value is digits × 10^-scale, where digits joins both parts.
    let mut scale = frac_len.saturating_sub(parts.exp);
    let joined: Vec<u8> = parts.int.iter().chain(parts.frac).copied().collect();
    let mut digits = trim_leading_zeros(&joined);
    if digits.is_empty() {
        // Zero is exact at any scale; keep the written one ("0.10") when it
        // fits so that the value serialises back as it came in.
        let zero_scale = u32::try_from(scale.clamp(0, i64::from(Decimal::MAX_SCALE))).unwrap_or(0);
        return Decimal::try_from_i128_with_scale(0, zero_scale).map_err(|_| MoneyError::Overflow);
    }
    let max_scale = i64::from(Decimal::MAX_SCALE);
    while scale > max_scale {
        match digits.split_last() {
            Some((b'0', rest)) => {
                digits = rest;
                scale -= 1;
            }
            _ => break,
        }
    }
    if scale > max_scale {
        return Err(MoneyError::PrecisionExceeded {
            input: excerpt(input),
        });
    }
    let mut mantissa: u128 = 0;
    for &d in digits {
        mantissa = mantissa
            .checked_mul(10)
            .and_then(|m| m.checked_add(u128::from(digit(d))))
            .filter(|m| *m <= MAX_DECIMAL_MANTISSA)
            .ok_or(MoneyError::Overflow)?;
    }
    while scale < 0 {
        mantissa = mantissa
            .checked_mul(10)
            .filter(|m| *m <= MAX_DECIMAL_MANTISSA)
            .ok_or(MoneyError::Overflow)?;
        scale += 1;
    }
    let signed = i128::try_from(mantissa).map_err(|_| MoneyError::Overflow)?;
    let signed = if parts.negative { -signed } else { signed };
    let scale = u32::try_from(scale).map_err(|_| MoneyError::Overflow)?;
    Decimal::try_from_i128_with_scale(signed, scale).map_err(|_| MoneyError::Overflow)
}
