//! Field types for the vendors' JSON, because their money fields come in two
//! shapes and neither may be decoded through a float: integer minor units
//! whose currency is elsewhere ([`MinorUnits`]) and decimal major units
//! ([`DecimalAmount`]).

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::de::{self, Deserialize, Deserializer, Unexpected, Visitor};
use serde::ser::{self, Serialize, Serializer};
use serde_json::value::RawValue;

use super::{Currency, Money, MoneyError, text};

/// An integer amount in minor units whose currency is given elsewhere, such
/// as Pinwheel's `"net_pay_amount": 29223` next to a `"currency": "USD"` on
/// the parent object. Combine the two with [`MinorUnits::with_currency`].
///
/// Deserialises from a JSON integer, or from a string holding one
/// (`"29223"`, optional leading `-`, no `+` or whitespace), because some
/// payloads quote large integers. A number with a fraction or exponent
/// (`12.5`, `1e2`) or outside the `i64` range is an error: such a number has
/// already been turned into a float by the JSON parser and cannot be trusted
/// as money. In formats that are not self-describing (not
/// human-readable), only integers are accepted.
///
/// Serialises as a JSON integer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MinorUnits(pub i64);

impl MinorUnits {
    /// Binds the amount to its currency.
    #[must_use]
    pub const fn with_currency(self, currency: Currency) -> Money {
        Money::from_minor(self.0, currency)
    }

    /// The number of minor units.
    #[must_use]
    pub const fn value(self) -> i64 {
        self.0
    }
}

impl From<i64> for MinorUnits {
    fn from(minor: i64) -> Self {
        MinorUnits(minor)
    }
}

impl From<MinorUnits> for i64 {
    fn from(minor: MinorUnits) -> Self {
        minor.0
    }
}

impl fmt::Display for MinorUnits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl Serialize for MinorUnits {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_i64(self.0)
    }
}

impl<'de> Deserialize<'de> for MinorUnits {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Self-describing formats tell us what they hold, which is what lets
        // a quoted integer through; binary formats need to be told.
        if deserializer.is_human_readable() {
            deserializer.deserialize_any(MinorUnitsVisitor)
        } else {
            deserializer.deserialize_i64(MinorUnitsVisitor)
        }
    }
}

/// Accepts integers and integer strings, and refuses floats.
struct MinorUnitsVisitor;

impl MinorUnitsVisitor {
    /// The error for a value that is an integer but out of the `i64` range.
    fn out_of_range<E: de::Error>(&self, unexpected: Unexpected<'_>) -> E {
        E::invalid_value(unexpected, self)
    }
}

impl Visitor<'_> for MinorUnitsVisitor {
    type Value = MinorUnits;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an integer number of minor units (a JSON integer or an integer string)")
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<MinorUnits, E> {
        Ok(MinorUnits(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<MinorUnits, E> {
        i64::try_from(v)
            .map(MinorUnits)
            .map_err(|_| self.out_of_range(Unexpected::Unsigned(v)))
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<MinorUnits, E> {
        i64::try_from(v)
            .map(MinorUnits)
            .map_err(|_| self.out_of_range(Unexpected::Other("an integer outside the i64 range")))
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<MinorUnits, E> {
        i64::try_from(v)
            .map(MinorUnits)
            .map_err(|_| self.out_of_range(Unexpected::Other("an integer outside the i64 range")))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<MinorUnits, E> {
        // The value is deliberately not looked at: serde_json hands over a
        // float for anything with a fraction, an exponent or beyond u64, and
        // none of those is an exact integer we could trust.
        Err(E::invalid_type(
            Unexpected::Other("a number with a fraction, an exponent or out of range"),
            &self,
        ))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<MinorUnits, E> {
        let digits = v.strip_prefix('-').unwrap_or(v);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(E::invalid_value(Unexpected::Str(v), &self));
        }
        v.parse::<i64>()
            .map(MinorUnits)
            .map_err(|_| self.out_of_range(Unexpected::Str(v)))
    }
}

/// An exact decimal amount in major units, such as PensionPro's
/// `"FeeAmount": 1250.50` or Pinwheel's allocation `"value": 123.45`.
///
/// Deserialises from the JSON text itself, never through a float: the value
/// is captured as a [`RawValue`] and parsed exactly, so `0.1` stays `0.1` and
/// a 28-digit number keeps every digit. A JSON number may use exponent
/// notation (`1.5e2` is 150); a JSON string holding such a number (`"0.10"`)
/// is accepted as well. A number that needs more than 28 decimal places or a
/// mantissa beyond 96 bits is an error, never rounded.
///
/// # Limitation: serde_json only, read from text
///
/// Capturing the raw text only works when the deserializer is serde_json's
/// own reading text (`serde_json::from_str`, `from_slice`, `from_reader`):
///
/// - Inside an untagged or internally tagged enum, or a struct using
///   `#[serde(flatten)]`, serde buffers the value first and the raw text is
///   gone; deserialisation fails with an error saying so (an untagged enum
///   replaces it with its generic "did not match any variant" message). It
///   never panics and never falls back to a float.
/// - From a `serde_json::Value` (`serde_json::from_value`) it does *not*
///   fail: the `Value` has already stored the number as an `f64`, and
///   serde_json hands over that float's shortest text. That is exact for
///   numbers with up to 15 significant digits and wrong beyond, so do not
///   route money through `Value`.
///
/// Give such types an explicit shape instead, or decode the field from text.
///
/// Serialises as a JSON number with the exact digits (`"1250.50"` written as
/// `1250.50`), which likewise requires serde_json's serializer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DecimalAmount(pub Decimal);

impl DecimalAmount {
    /// The decimal value in major units.
    #[must_use]
    pub const fn value(self) -> Decimal {
        self.0
    }

    /// Converts to money in `currency`, exactly.
    ///
    /// # Errors
    ///
    /// See [`Money::from_decimal`]: too many decimal places for the currency
    /// or an amount beyond `i64` minor units.
    pub fn to_money(self, currency: Currency) -> Result<Money, MoneyError> {
        Money::from_decimal(self.0, currency)
    }
}

impl From<Decimal> for DecimalAmount {
    fn from(value: Decimal) -> Self {
        DecimalAmount(value)
    }
}

impl From<DecimalAmount> for Decimal {
    fn from(amount: DecimalAmount) -> Self {
        amount.0
    }
}

impl fmt::Display for DecimalAmount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl FromStr for DecimalAmount {
    type Err = MoneyError;

    /// Parses `-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?` exactly; no `+` sign,
    /// whitespace or separators.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        text::parse_decimal(s).map(DecimalAmount)
    }
}

/// Appended to errors from capturing the raw value, because the usual cause
/// is serde's buffering, which the plain message does not mention.
const RAW_VALUE_HINT: &str = "DecimalAmount must be deserialized directly by serde_json from text \
     (not inside an untagged or internally tagged enum or a flattened struct)";

impl Serialize for DecimalAmount {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let raw = RawValue::from_string(self.0.to_string()).map_err(ser::Error::custom)?;
        raw.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for DecimalAmount {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = Box::<RawValue>::deserialize(deserializer).map_err(|error| {
            // serde_json reports real syntax errors itself before calling us;
            // an error here means the raw text was not available.
            de::Error::custom(format_args!("{error}: {RAW_VALUE_HINT}"))
        })?;
        parse_raw(raw.get()).map(DecimalAmount)
    }
}

/// Parses the captured JSON text of a number or a string holding a number.
fn parse_raw<E: de::Error>(raw: &str) -> Result<Decimal, E> {
    let expected = &"a decimal number or a string holding one";
    let raw = raw.trim_matches(|c| matches!(c, ' ' | '\t' | '\n' | '\r'));
    match raw.as_bytes().first() {
        Some(b'"') => {
            let unquoted: String = serde_json::from_str(raw).map_err(E::custom)?;
            text::parse_decimal(&unquoted).map_err(E::custom)
        }
        Some(b'-' | b'0'..=b'9') => text::parse_decimal(raw).map_err(E::custom),
        Some(b'n') => Err(E::invalid_type(Unexpected::Unit, expected)),
        Some(b't') => Err(E::invalid_type(Unexpected::Bool(true), expected)),
        Some(b'f') => Err(E::invalid_type(Unexpected::Bool(false), expected)),
        Some(b'[') => Err(E::invalid_type(Unexpected::Seq, expected)),
        Some(b'{') => Err(E::invalid_type(Unexpected::Map, expected)),
        _ => Err(E::invalid_value(
            Unexpected::Other("malformed JSON"),
            expected,
        )),
    }
}

/// Generated types derive `schemars::JsonSchema` (0.8); these say what the
/// wire form is, so documents produced from them stay truthful.
mod json_schema {
    use schemars::JsonSchema;
    use schemars::r#gen::SchemaGenerator;
    use schemars::schema::{InstanceType, Metadata, Schema, SchemaObject};

    use super::{DecimalAmount, MinorUnits};

    fn schema(instance: InstanceType, format: Option<&str>, description: &str) -> Schema {
        Schema::Object(SchemaObject {
            instance_type: Some(instance.into()),
            format: format.map(str::to_owned),
            metadata: Some(Box::new(Metadata {
                description: Some(description.to_owned()),
                ..Metadata::default()
            })),
            ..SchemaObject::default()
        })
    }

    impl JsonSchema for DecimalAmount {
        fn schema_name() -> String {
            "DecimalAmount".to_owned()
        }

        fn json_schema(_: &mut SchemaGenerator) -> Schema {
            schema(
                InstanceType::Number,
                Some("decimal"),
                "An exact decimal number, read without floating point.",
            )
        }
    }

    impl JsonSchema for MinorUnits {
        fn schema_name() -> String {
            "MinorUnits".to_owned()
        }

        fn json_schema(_: &mut SchemaGenerator) -> Schema {
            schema(
                InstanceType::Integer,
                Some("int64"),
                "An amount in the currency's minor unit (cents for USD).",
            )
        }
    }
}
