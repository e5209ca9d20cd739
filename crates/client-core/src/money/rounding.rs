//! Rounding modes and the exact wide arithmetic behind
//! [`super::Money::mul_decimal`] and [`super::Money::div_decimal`].
//!
//! `Decimal` multiplication silently rounds once a product needs more than 28
//! significant digits, and rounding twice (once inside `Decimal`, once to
//! minor units) can give a different answer than rounding once. So the
//! product or quotient is computed exactly as a 192-bit integer fraction and
//! rounded exactly once, with the mode the caller chose.

use std::cmp::Ordering;

use super::MoneyError;

/// How to round a result that falls between two minor units.
///
/// Money arithmetic never rounds on its own: every operation that may produce
/// a fraction of a minor unit takes one of these explicitly. "Up" and "Down"
/// are about magnitude (away from / toward zero); "Ceiling" and "Floor" are
/// about direction on the number line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rounding {
    /// To the nearest unit; halves go to the even neighbour (banker's
    /// rounding): 2.5 → 2, 3.5 → 4, -2.5 → -2.
    HalfEven,
    /// To the nearest unit; halves go away from zero: 2.5 → 3, -2.5 → -3.
    HalfUp,
    /// To the nearest unit; halves go toward zero: 2.5 → 2, -2.5 → -2.
    HalfDown,
    /// Away from zero whenever inexact: 2.1 → 3, -2.1 → -3.
    Up,
    /// Toward zero (truncation): 2.9 → 2, -2.9 → -2.
    Down,
    /// Toward positive infinity: 2.1 → 3, -2.9 → -2.
    Ceiling,
    /// Toward negative infinity: 2.9 → 2, -2.1 → -3.
    Floor,
}

/// An unsigned 192-bit integer as three 64-bit limbs, least significant
/// first: enough for any `u64 × u128` product.
pub(super) type Wide = [u64; 3];

/// Multiplies without overflow: `a × b` is below `2^192`.
pub(super) fn mul_wide(a: u64, b: u128) -> Wide {
    let a = u128::from(a);
    // Splitting `b` in 64-bit halves keeps each partial product below 2^128.
    let b_lo = u128::from(b as u64);
    let b_hi = b >> 64;
    let low = a.wrapping_mul(b_lo);
    let high = a.wrapping_mul(b_hi);
    let middle = (low >> 64).wrapping_add(u128::from(high as u64));
    [
        low as u64,
        middle as u64,
        ((middle >> 64).wrapping_add(high >> 64)) as u64,
    ]
}

/// Divides `numerator` by `denominator`, rounds the quotient once with
/// `mode` and returns it as signed minor units (negative when `negative`).
///
/// `denominator` must be below `2^127`, which every caller guarantees (it is
/// at most `10^28` or a 96-bit decimal mantissa); zero is an error.
pub(super) fn div_round(
    numerator: Wide,
    denominator: u128,
    negative: bool,
    mode: Rounding,
) -> Result<i64, MoneyError> {
    if denominator == 0 {
        return Err(MoneyError::DivisionByZero);
    }
    if denominator >= 1 << 127 {
        return Err(MoneyError::Overflow);
    }
    // Schoolbook binary long division: the remainder stays below the
    // denominator, so shifting it left by one bit cannot overflow a u128.
    let mut quotient: Wide = [0; 3];
    let mut remainder: u128 = 0;
    for (limb, out) in numerator.iter().zip(quotient.iter_mut()).rev() {
        for bit in (0..64).rev() {
            remainder = (remainder << 1) | u128::from((limb >> bit) & 1);
            if remainder >= denominator {
                remainder -= denominator;
                *out |= 1 << bit;
            }
        }
    }
    let [low, mid, high] = quotient;
    if mid != 0 || high != 0 {
        return Err(MoneyError::Overflow);
    }
    let inexact = remainder != 0;
    // Twice the remainder is below 2^128 because the remainder is below 2^127.
    let half = (remainder << 1).cmp(&denominator);
    let away_from_zero = match mode {
        Rounding::Down => false,
        Rounding::Up => inexact,
        Rounding::Ceiling => inexact && !negative,
        Rounding::Floor => inexact && negative,
        Rounding::HalfUp => half != Ordering::Less,
        Rounding::HalfDown => half == Ordering::Greater,
        Rounding::HalfEven => {
            half == Ordering::Greater || (half == Ordering::Equal && low % 2 == 1)
        }
    };
    let magnitude = if away_from_zero {
        low.checked_add(1).ok_or(MoneyError::Overflow)?
    } else {
        low
    };
    signed(negative, magnitude)
}

/// Applies a sign to a magnitude, failing when it does not fit an `i64`
/// (the negative range reaches one further than the positive one).
pub(super) fn signed(negative: bool, magnitude: u64) -> Result<i64, MoneyError> {
    let wide = i128::from(magnitude);
    i64::try_from(if negative { -wide } else { wide }).map_err(|_| MoneyError::Overflow)
}
