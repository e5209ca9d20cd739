//! [`RawJson`]: a JSON value kept as its exact text.

use std::fmt;
use std::hash::{Hash, Hasher};

use serde::de::{self, Deserialize, DeserializeOwned, Deserializer};
use serde::ser::{Serialize, Serializer};
use serde_json::value::RawValue;

/// A JSON value kept exactly as the server sent it (its text, whitespace
/// inside it included), so it can be decoded later or written back
/// unchanged. Numbers keep every digit.
///
/// Equality and hashing compare the text: `1.0` and `1` are different
/// values here, as they were different bytes on the wire.
///
/// Like [`DecimalAmount`](crate::money::DecimalAmount), it is read by
/// serde_json's own deserializer (from text or from a `serde_json::Value`)
/// and written by serde_json's serializer.
#[derive(Clone)]
pub struct RawJson(Box<RawValue>);

/// What kind of JSON value a [`RawJson`] holds, from its first byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JsonKind {
    /// `null`
    Null,
    /// `true` or `false`
    Bool,
    /// a number
    Number,
    /// a string
    String,
    /// an array
    Array,
    /// an object
    Object,
}

impl JsonKind {
    /// The kind's name, as serde's error messages say it.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            JsonKind::Null => "null",
            JsonKind::Bool => "a boolean",
            JsonKind::Number => "a number",
            JsonKind::String => "a string",
            JsonKind::Array => "an array",
            JsonKind::Object => "an object",
        }
    }
}

impl RawJson {
    /// Wraps JSON text after checking that it is one valid JSON value.
    ///
    /// # Errors
    ///
    /// When `json` is not valid JSON.
    pub fn from_string(json: String) -> Result<Self, serde_json::Error> {
        RawValue::from_string(json).map(RawJson)
    }

    /// The JSON text of `value`.
    ///
    /// # Errors
    ///
    /// When `value` cannot be serialised to JSON (a map with non-string keys).
    pub fn from_serialize<T: Serialize + ?Sized>(value: &T) -> Result<Self, serde_json::Error> {
        serde_json::value::to_raw_value(value).map(RawJson)
    }

    /// `null`.
    #[must_use]
    pub fn null() -> Self {
        // `null` is valid JSON, so this cannot fail; the fallback keeps
        // library code free of panics all the same.
        Self::from_string("null".to_owned()).unwrap_or_else(|_| RawJson(Box::default()))
    }

    /// The exact JSON text.
    #[must_use]
    pub fn get(&self) -> &str {
        self.0.get()
    }

    /// The kind of value, from its first byte.
    #[must_use]
    pub fn kind(&self) -> JsonKind {
        match self.get().trim_start().as_bytes().first() {
            Some(b'{') => JsonKind::Object,
            Some(b'[') => JsonKind::Array,
            Some(b'"') => JsonKind::String,
            Some(b't' | b'f') => JsonKind::Bool,
            Some(b'n') | None => JsonKind::Null,
            Some(_) => JsonKind::Number,
        }
    }

    /// Whether the value is `null`.
    #[must_use]
    pub fn is_null(&self) -> bool {
        self.kind() == JsonKind::Null
    }

    /// Decodes the value as `T`, from its text.
    ///
    /// # Errors
    ///
    /// When the text does not decode as `T`.
    pub fn decode<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_str(self.get())
    }

    /// The value as a `serde_json::Value`. Numbers pass through `f64` there
    /// (serde_json's own limitation), so do not use this for money.
    ///
    /// # Errors
    ///
    /// Never for text this type holds; the `Result` is serde_json's.
    pub fn to_value(&self) -> Result<serde_json::Value, serde_json::Error> {
        serde_json::from_str(self.get())
    }

    /// The boxed raw value.
    #[must_use]
    pub fn into_inner(self) -> Box<RawValue> {
        self.0
    }
}

impl From<Box<RawValue>> for RawJson {
    fn from(raw: Box<RawValue>) -> Self {
        RawJson(raw)
    }
}

impl Default for RawJson {
    /// `null`.
    fn default() -> Self {
        Self::null()
    }
}

impl fmt::Debug for RawJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.get())
    }
}

impl fmt::Display for RawJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.get())
    }
}

impl PartialEq for RawJson {
    fn eq(&self, other: &Self) -> bool {
        self.get() == other.get()
    }
}

impl Eq for RawJson {}

impl PartialOrd for RawJson {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for RawJson {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.get().cmp(other.get())
    }
}

impl Hash for RawJson {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.get().hash(state);
    }
}

impl Serialize for RawJson {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

/// Said when the raw text is not available, because the usual cause is
/// serde's buffering, which the plain message does not mention.
pub(super) const RAW_HINT: &str = "the value must be read by serde_json directly (not inside a serde-derived untagged \
     or internally tagged enum, or a flattened struct)";

impl<'de> Deserialize<'de> for RawJson {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // A syntax error is reported as it is; "invalid type" here means the
        // text was not there to capture, and the hint says why.
        Box::<RawValue>::deserialize(deserializer)
            .map(RawJson)
            .map_err(|error: D::Error| {
                let text = error.to_string();
                if text.contains("invalid type") {
                    de::Error::custom(format_args!("{text}: {RAW_HINT}"))
                } else {
                    error
                }
            })
    }
}

impl schemars::JsonSchema for RawJson {
    fn schema_name() -> String {
        "RawJson".to_owned()
    }

    fn json_schema(_: &mut schemars::r#gen::SchemaGenerator) -> schemars::schema::Schema {
        schemars::schema::Schema::Bool(true)
    }
}
