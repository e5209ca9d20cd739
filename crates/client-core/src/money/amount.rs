//! [`Money`]: an amount in integer minor units of one currency, with checked
//! arithmetic, because payroll totals must add up to the cent and must never
//! mix currencies or overflow silently.

use std::cmp::Ordering;
use std::fmt;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::error::excerpt;
use super::rounding::{self, Rounding};
use super::text::{self, Syntax};
use super::{Currency, MinorUnits, MoneyError};

/// An exact amount: a signed number of minor units (cents for USD, yen for
/// JPY, fils for KWD) of one [`Currency`].
///
/// Equality and hashing compare both the amount and the currency, so
/// `1.00 USD != 1.00 EUR`. Ordering is partial: amounts of one currency
/// compare by value, amounts of different currencies are unordered
/// (`partial_cmp` returns `None`), which is why there is no `Ord`.
///
/// Serialises as `{"amount": <minor units>, "currency": "USD"}`. A currency
/// that `iso_currency` does not know also writes its exponent
/// (`{"amount": 5, "currency": "ZZZ", "exponent": 3}`), because the code
/// alone would be read back with exponent 2 and silently rescale the amount.
/// That is this crate's own shape; the vendors' shapes (Pinwheel's cents with
/// the code on a parent object, PensionPro's decimal major units) are decoded
/// with [`MinorUnits`] and [`super::DecimalAmount`] and combined into `Money`
/// by the API wrappers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "MoneyRepr", into = "MoneyRepr")]
pub struct Money {
    minor: i64,
    currency: Currency,
}

/// The serde shape of [`Money`], kept separate so that the amount is read
/// through [`MinorUnits`] (integers only, never floats) and the exponent of an
/// unknown currency travels with it.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct MoneyRepr {
    amount: MinorUnits,
    currency: Currency,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    exponent: Option<u32>,
}

impl TryFrom<MoneyRepr> for Money {
    type Error = MoneyError;

    fn try_from(repr: MoneyRepr) -> Result<Self, Self::Error> {
        let currency = match repr.exponent {
            None => repr.currency,
            Some(exponent) => Currency::with_exponent(repr.currency.code(), exponent)?,
        };
        Ok(repr.amount.with_currency(currency))
    }
}

impl From<Money> for MoneyRepr {
    fn from(money: Money) -> Self {
        MoneyRepr {
            amount: MinorUnits(money.minor),
            currency: money.currency,
            exponent: match money.currency {
                Currency::Iso(_) => None,
                Currency::Unknown(unknown) => Some(unknown.exponent()),
            },
        }
    }
}

impl Money {
    /// An amount of `minor` minor units (cents for USD).
    #[must_use]
    pub const fn from_minor(minor: i64, currency: Currency) -> Money {
        Money { minor, currency }
    }

    /// Zero in `currency`.
    #[must_use]
    pub const fn zero(currency: Currency) -> Money {
        Money { minor: 0, currency }
    }

    /// Parses a decimal amount in major units, exactly.
    ///
    /// The syntax is `-?[0-9]+(\.[0-9]+)?`: an optional minus sign, at least
    /// one digit, and optionally a point followed by at least one digit.
    /// A leading `+`, whitespace, digit separators, exponent notation
    /// (`1e2`), `NaN`/`inf` and a bare `.5` or `5.` are rejected, because
    /// amounts arrive from machines and anything unusual is more likely a bug
    /// than a format to support. Leading zeros are accepted.
    ///
    /// Decimal places beyond the currency's exponent are accepted only when
    /// they are zeros (`"12.300"` is 1230 cents); `"12.345"` in USD is
    /// [`MoneyError::TooManyDecimals`], never rounded.
    ///
    /// # Errors
    ///
    /// [`MoneyError::InvalidAmount`] for bad syntax,
    /// [`MoneyError::TooManyDecimals`] as above and [`MoneyError::Overflow`]
    /// when the amount does not fit in `i64` minor units.
    pub fn from_major_str(input: &str, currency: Currency) -> Result<Money, MoneyError> {
        let parts =
            text::split(input, Syntax::Plain).map_err(|reason| MoneyError::InvalidAmount {
                input: excerpt(input),
                reason,
            })?;
        let exponent = currency.exponent();
        let frac = text::trim_trailing_zeros(parts.frac);
        let frac_len = u32::try_from(frac.len()).unwrap_or(u32::MAX);
        if frac_len > exponent {
            return Err(MoneyError::TooManyDecimals {
                input: excerpt(input),
                currency,
                exponent,
            });
        }
        // The magnitude is capped at 2^63 (the magnitude of i64::MIN) while
        // accumulating, so a long run of digits cannot overflow the u64.
        let limit = i64::MIN.unsigned_abs();
        let mut magnitude: u64 = 0;
        let padding = std::iter::repeat_n(&b'0', (exponent - frac_len) as usize);
        for &d in parts.int.iter().chain(frac).chain(padding) {
            magnitude = magnitude
                .checked_mul(10)
                .and_then(|m| m.checked_add(u64::from(text::digit(d))))
                .filter(|m| *m <= limit)
                .ok_or(MoneyError::Overflow)?;
        }
        Ok(Money {
            minor: rounding::signed(parts.negative, magnitude)?,
            currency,
        })
    }

    /// Converts a decimal amount in major units, exactly.
    ///
    /// As with [`Money::from_major_str`], trailing zeros beyond the
    /// currency's exponent are fine and any other extra decimal place is
    /// [`MoneyError::TooManyDecimals`]; to round on purpose, round the
    /// decimal first or use [`Money::mul_decimal`].
    ///
    /// # Errors
    ///
    /// [`MoneyError::TooManyDecimals`] and [`MoneyError::Overflow`].
    pub fn from_decimal(value: Decimal, currency: Currency) -> Result<Money, MoneyError> {
        let exponent = currency.exponent();
        let mut mantissa = value.mantissa();
        let mut scale = value.scale();
        while scale > exponent && mantissa % 10 == 0 {
            mantissa /= 10;
            scale -= 1;
        }
        if scale > exponent {
            return Err(MoneyError::TooManyDecimals {
                input: excerpt(&value.to_string()),
                currency,
                exponent,
            });
        }
        let minor = 10_i128
            .checked_pow(exponent - scale)
            .and_then(|factor| mantissa.checked_mul(factor))
            .and_then(|minor| i64::try_from(minor).ok())
            .ok_or(MoneyError::Overflow)?;
        Ok(Money { minor, currency })
    }

    /// The amount in minor units.
    #[must_use]
    pub const fn minor(&self) -> i64 {
        self.minor
    }

    /// The currency.
    #[must_use]
    pub const fn currency(&self) -> Currency {
        self.currency
    }

    /// The amount in major units, exactly, with the currency's exponent as
    /// its scale: 1234 cents is `12.34`, and its `Display` is `"12.34"`,
    /// which [`Money::from_major_str`] parses back to the same amount.
    #[must_use]
    pub fn to_decimal(&self) -> Decimal {
        // Cannot fail: every exponent is at most MAX_EXPONENT (18), below
        // Decimal::MAX_SCALE (28), and every i64 fits the 96-bit mantissa.
        Decimal::try_new(self.minor, self.currency.exponent()).unwrap_or_default()
    }

    /// Whether the amount is zero.
    #[must_use]
    pub const fn is_zero(&self) -> bool {
        self.minor == 0
    }

    /// Whether the amount is below zero.
    #[must_use]
    pub const fn is_negative(&self) -> bool {
        self.minor < 0
    }

    /// `self + other`.
    ///
    /// # Errors
    ///
    /// [`MoneyError::CurrencyMismatch`] when the currencies differ,
    /// [`MoneyError::Overflow`] when the sum does not fit.
    pub fn checked_add(&self, other: Money) -> Result<Money, MoneyError> {
        let currency = self.same_currency(&other)?;
        let minor = self
            .minor
            .checked_add(other.minor)
            .ok_or(MoneyError::Overflow)?;
        Ok(Money { minor, currency })
    }

    /// `self - other`.
    ///
    /// # Errors
    ///
    /// [`MoneyError::CurrencyMismatch`] when the currencies differ,
    /// [`MoneyError::Overflow`] when the difference does not fit.
    pub fn checked_sub(&self, other: Money) -> Result<Money, MoneyError> {
        let currency = self.same_currency(&other)?;
        let minor = self
            .minor
            .checked_sub(other.minor)
            .ok_or(MoneyError::Overflow)?;
        Ok(Money { minor, currency })
    }

    /// `-self`.
    ///
    /// # Errors
    ///
    /// [`MoneyError::Overflow`] for the one amount without a positive
    /// counterpart, `i64::MIN` minor units.
    pub fn checked_neg(&self) -> Result<Money, MoneyError> {
        let minor = self.minor.checked_neg().ok_or(MoneyError::Overflow)?;
        Ok(Money {
            minor,
            currency: self.currency,
        })
    }

    /// `self × factor`, rounded once to whole minor units with `mode`.
    ///
    /// The product is computed exactly (no intermediate rounding, even when
    /// it needs more than 28 digits), so e.g. a rate of `0.0765` applied to
    /// 1000.01 USD rounds the exact 76.500765 USD once.
    ///
    /// # Errors
    ///
    /// [`MoneyError::Overflow`] when the rounded result does not fit.
    pub fn mul_decimal(&self, factor: Decimal, mode: Rounding) -> Result<Money, MoneyError> {
        let negative = (self.minor < 0) != factor.is_sign_negative();
        let numerator =
            rounding::mul_wide(self.minor.unsigned_abs(), factor.mantissa().unsigned_abs());
        let denominator = 10_u128
            .checked_pow(factor.scale())
            .ok_or(MoneyError::Overflow)?;
        let minor = rounding::div_round(numerator, denominator, negative, mode)?;
        Ok(Money {
            minor,
            currency: self.currency,
        })
    }

    /// `self ÷ divisor`, rounded once to whole minor units with `mode`.
    ///
    /// # Errors
    ///
    /// [`MoneyError::DivisionByZero`] for a zero divisor,
    /// [`MoneyError::Overflow`] when the rounded result does not fit.
    pub fn div_decimal(&self, divisor: Decimal, mode: Rounding) -> Result<Money, MoneyError> {
        if divisor.is_zero() {
            return Err(MoneyError::DivisionByZero);
        }
        // a ÷ (m × 10^-s) = (a × 10^s) ÷ m.
        let negative = (self.minor < 0) != divisor.is_sign_negative();
        let scale = 10_u128
            .checked_pow(divisor.scale())
            .ok_or(MoneyError::Overflow)?;
        let numerator = rounding::mul_wide(self.minor.unsigned_abs(), scale);
        let denominator = divisor.mantissa().unsigned_abs();
        let minor = rounding::div_round(numerator, denominator, negative, mode)?;
        Ok(Money {
            minor,
            currency: self.currency,
        })
    }

    /// Splits the amount in proportion to `ratios` without creating or losing
    /// a minor unit.
    ///
    /// Each part first gets the floor of its exact share; the minor units left
    /// over go one each to the parts with the largest remainders, earlier
    /// parts first on ties (the largest-remainder method). So the parts always
    /// sum to the whole, each differs from its exact share by less than one
    /// minor unit, parts with ratio 0 get zero, and the result only depends
    /// on the inputs. A negative amount is split like its magnitude, with
    /// every part negated: 100 cents over `[1, 1, 1]` is 34, 33, 33 and
    /// -100 cents is -34, -33, -33.
    ///
    /// # Errors
    ///
    /// [`MoneyError::InvalidRatios`] when `ratios` is empty or all zero.
    pub fn allocate(&self, ratios: &[u64]) -> Result<Vec<Money>, MoneyError> {
        let total = ratios
            .iter()
            .try_fold(0_u128, |sum, &ratio| sum.checked_add(u128::from(ratio)))
            .ok_or(MoneyError::Overflow)?;
        if total == 0 {
            return Err(MoneyError::InvalidRatios);
        }
        let whole = u128::from(self.minor.unsigned_abs());
        let mut parts = Vec::with_capacity(ratios.len());
        let mut remainders = Vec::with_capacity(ratios.len());
        for (index, &ratio) in ratios.iter().enumerate() {
            // Both factors are below 2^64, so the product fits a u128.
            let share = whole
                .checked_mul(u128::from(ratio))
                .ok_or(MoneyError::Overflow)?;
            parts.push(share / total);
            remainders.push((share % total, index));
        }
        let assigned = parts
            .iter()
            .try_fold(0_u128, |sum, &part| sum.checked_add(part))
            .ok_or(MoneyError::Overflow)?;
        // The leftover is the sum of the fractional shares, so it is below
        // the number of parts with a non-zero remainder.
        let leftover = whole.checked_sub(assigned).ok_or(MoneyError::Overflow)?;
        let leftover = usize::try_from(leftover).map_err(|_| MoneyError::Overflow)?;
        remainders.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        for &(_, index) in remainders.iter().take(leftover) {
            if let Some(part) = parts.get_mut(index) {
                *part += 1;
            }
        }
        let negative = self.minor < 0;
        parts
            .into_iter()
            .map(|part| {
                let magnitude = u64::try_from(part).map_err(|_| MoneyError::Overflow)?;
                Ok(Money {
                    minor: rounding::signed(negative, magnitude)?,
                    currency: self.currency,
                })
            })
            .collect()
    }

    /// Returns the common currency or the mismatch error.
    fn same_currency(&self, other: &Money) -> Result<Currency, MoneyError> {
        if self.currency == other.currency {
            Ok(self.currency)
        } else {
            Err(MoneyError::CurrencyMismatch {
                left: self.currency,
                right: other.currency,
            })
        }
    }
}

impl PartialOrd for Money {
    /// Compares amounts of the same currency; amounts of different currencies
    /// are unordered.
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        (self.currency == other.currency).then(|| self.minor.cmp(&other.minor))
    }
}

impl fmt::Display for Money {
    /// Writes major units with exactly the currency's number of decimals and
    /// the code: `12.34 USD`, `1234 JPY`, `1.234 KWD`, `-0.05 USD`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.to_decimal(), self.currency)
    }
}
