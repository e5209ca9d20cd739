//! Currency codes bound to their minor-unit exponent, because the exponent
//! decides what an integer amount such as `29223` means (292.23 USD, but
//! 29,223 JPY).

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, Visitor};
use serde::{Serialize, Serializer};

use super::MoneyError;
use super::error::excerpt;

/// The largest minor-unit exponent a currency may have.
///
/// `10^18` is the largest power of ten an `i64` holds; with a larger exponent
/// not even one major unit could be represented in minor units.
pub const MAX_EXPONENT: u32 = 18;

/// The exponent assumed for codes that iso_currency does not know, because
/// two decimal places is by far the most common case.
const DEFAULT_UNKNOWN_EXPONENT: u8 = 2;

/// A currency together with its minor-unit exponent.
///
/// Known ISO 4217 codes use the exponent from `iso_currency` (JPY 0, USD 2,
/// KWD 3, CLF 4). Codes that ISO 4217 lists without minor units, such as the
/// precious metals (XAU, XAG), the IMF's XDR or XXX, have no exponent in
/// `iso_currency`; they are treated as exponent 0 so that every amount is a
/// whole number of units.
///
/// Codes `iso_currency` does not know are kept as [`Currency::Unknown`] rather
/// than rejected, so that a vendor introducing a new code does not break
/// decoding; they get exponent 2 unless built with
/// [`Currency::with_exponent`].
///
/// Serialises as its code string (`"USD"`) and deserialises from a code in
/// any letter case. The string cannot carry an unknown code's explicit
/// exponent (it reads back with exponent 2); [`super::Money`]'s serde shape
/// carries it alongside.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Currency {
    /// A code listed in ISO 4217 as known to the `iso_currency` crate.
    Iso(iso_currency::Currency),
    /// A well-formed code that `iso_currency` does not know.
    Unknown(UnknownCurrency),
}

/// A three-letter currency code unknown to `iso_currency`, with the exponent
/// it was given.
///
/// It can only be built through [`Currency::from_code`] or
/// [`Currency::with_exponent`], which guarantee that the code is three
/// uppercase ASCII letters, that it is not a known ISO code (so a code has only
/// one representation and equality is meaningful) and that the exponent is at
/// most [`MAX_EXPONENT`].
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct UnknownCurrency {
    code: [u8; 3],
    exponent: u8,
}

impl UnknownCurrency {
    /// The three uppercase letters of the code.
    #[must_use]
    pub fn code(&self) -> &str {
        // The constructor only stores ASCII letters, so this never falls back;
        // the fallback exists to avoid a panic path in library code.
        std::str::from_utf8(&self.code).unwrap_or("???")
    }

    /// The number of decimal places of the minor unit.
    #[must_use]
    pub fn exponent(&self) -> u32 {
        u32::from(self.exponent)
    }
}

impl fmt::Debug for UnknownCurrency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnknownCurrency")
            .field("code", &self.code())
            .field("exponent", &self.exponent)
            .finish()
    }
}

impl Currency {
    /// United States dollar, exponent 2.
    pub const USD: Currency = Currency::Iso(iso_currency::Currency::USD);
    /// Euro, exponent 2.
    pub const EUR: Currency = Currency::Iso(iso_currency::Currency::EUR);
    /// Pound sterling, exponent 2.
    pub const GBP: Currency = Currency::Iso(iso_currency::Currency::GBP);
    /// Japanese yen, exponent 0.
    pub const JPY: Currency = Currency::Iso(iso_currency::Currency::JPY);

    /// Parses a three-letter code in any letter case.
    ///
    /// Known ISO 4217 codes become [`Currency::Iso`]; other well-formed codes
    /// become [`Currency::Unknown`] with exponent 2. Anything that is not
    /// exactly three ASCII letters (including surrounding whitespace) is
    /// [`MoneyError::InvalidCurrency`].
    pub fn from_code(code: &str) -> Result<Currency, MoneyError> {
        let upper = normalize_code(code)?;
        Ok(match iso_from_upper(&upper) {
            Some(iso) => Currency::Iso(iso),
            None => Currency::Unknown(UnknownCurrency {
                code: upper,
                exponent: DEFAULT_UNKNOWN_EXPONENT,
            }),
        })
    }

    /// Builds a currency with an explicit exponent, for codes that
    /// `iso_currency` does not know and whose minor unit is not 1/100.
    ///
    /// For a code `iso_currency` does know, the exponent must agree with the
    /// one [`Currency::from_code`] would use and the ISO currency is returned;
    /// otherwise the same code could mean two different scales.
    ///
    /// # Errors
    ///
    /// [`MoneyError::InvalidCurrency`] for a malformed code,
    /// [`MoneyError::UnsupportedExponent`] above [`MAX_EXPONENT`] and
    /// [`MoneyError::ExponentMismatch`] for a known code with another exponent.
    pub fn with_exponent(code: &str, exponent: u32) -> Result<Currency, MoneyError> {
        let upper = normalize_code(code)?;
        if let Some(iso) = iso_from_upper(&upper) {
            let currency = Currency::Iso(iso);
            let expected = currency.exponent();
            return if expected == exponent {
                Ok(currency)
            } else {
                Err(MoneyError::ExponentMismatch {
                    currency,
                    expected,
                    given: exponent,
                })
            };
        }
        match u8::try_from(exponent) {
            Ok(small) if exponent <= MAX_EXPONENT => Ok(Currency::Unknown(UnknownCurrency {
                code: upper,
                exponent: small,
            })),
            _ => Err(MoneyError::UnsupportedExponent {
                exponent,
                max: MAX_EXPONENT,
            }),
        }
    }

    /// The uppercase three-letter code.
    #[must_use]
    pub fn code(&self) -> &str {
        match self {
            Currency::Iso(iso) => iso.code(),
            Currency::Unknown(unknown) => unknown.code(),
        }
    }

    /// The number of decimal places of the minor unit: 2 for USD (cents),
    /// 0 for JPY, 3 for KWD, 0 for ISO codes without a minor unit (XAU).
    #[must_use]
    pub fn exponent(&self) -> u32 {
        match self {
            Currency::Iso(iso) => iso.exponent().map_or(0, u32::from),
            Currency::Unknown(unknown) => unknown.exponent(),
        }
    }

    /// The `iso_currency` value, when the code is a known ISO 4217 code.
    #[must_use]
    pub fn iso(&self) -> Option<iso_currency::Currency> {
        match self {
            Currency::Iso(iso) => Some(*iso),
            Currency::Unknown(_) => None,
        }
    }
}

/// Checks that `code` is three ASCII letters and returns them uppercased.
fn normalize_code(code: &str) -> Result<[u8; 3], MoneyError> {
    match code.as_bytes() {
        &[a, b, c] if [a, b, c].iter().all(u8::is_ascii_alphabetic) => Ok([
            a.to_ascii_uppercase(),
            b.to_ascii_uppercase(),
            c.to_ascii_uppercase(),
        ]),
        _ => Err(MoneyError::InvalidCurrency {
            code: excerpt(code),
        }),
    }
}

/// Looks up an already uppercased code in `iso_currency`.
fn iso_from_upper(upper: &[u8; 3]) -> Option<iso_currency::Currency> {
    std::str::from_utf8(upper)
        .ok()
        .and_then(iso_currency::Currency::from_code)
}

impl std::str::FromStr for Currency {
    type Err = MoneyError;

    fn from_str(code: &str) -> Result<Self, Self::Err> {
        Currency::from_code(code)
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl From<iso_currency::Currency> for Currency {
    fn from(iso: iso_currency::Currency) -> Self {
        Currency::Iso(iso)
    }
}

impl Serialize for Currency {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(CurrencyVisitor)
    }
}

/// Reads a currency from a string without requiring an owned copy.
struct CurrencyVisitor;

impl Visitor<'_> for CurrencyVisitor {
    type Value = Currency;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a three-letter currency code")
    }

    fn visit_str<E: de::Error>(self, code: &str) -> Result<Currency, E> {
        Currency::from_code(code).map_err(E::custom)
    }
}
