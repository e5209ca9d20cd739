//! Unions: untagged ones tried variant by variant on the exact text, and
//! discriminated ones dispatched by their tag.

use std::borrow::Cow;
use std::fmt::{self, Write as _};

use serde::de::{self, DeserializeOwned, DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::value::RawValue;

use super::{JsonKind, RawJson};

/// One attempt to decode an untagged union: each variant is tried in turn on
/// the captured text, skipping variants that cannot hold this kind of JSON
/// value, and the first that decodes wins. The generator orders variants so
/// that the most specific comes first.
///
/// ```
/// use client_core::json::{JsonKind, RawJson, Union};
/// use client_core::money::DecimalAmount;
///
/// let raw: RawJson = serde_json::from_str("123456789.10")?;
/// let mut union = Union::new("AccountNumber", &raw);
/// assert!(union.attempt::<String>("String", &[JsonKind::String]).is_none());
/// let amount = union.attempt::<DecimalAmount>("DecimalAmount", &[JsonKind::Number, JsonKind::String]);
/// assert_eq!(amount.unwrap().to_string(), "123456789.10");
/// # Ok::<(), serde_json::Error>(())
/// ```
pub struct Union<'a> {
    name: &'static str,
    raw: &'a RawJson,
    kind: JsonKind,
    failures: Vec<(&'static str, String)>,
}

impl<'a> Union<'a> {
    /// Starts decoding `raw` as the union `name`.
    #[must_use]
    pub fn new(name: &'static str, raw: &'a RawJson) -> Self {
        Union {
            name,
            raw,
            kind: raw.kind(),
            failures: Vec::new(),
        }
    }

    /// The kind of value being decoded.
    #[must_use]
    pub fn kind(&self) -> JsonKind {
        self.kind
    }

    /// Tries the variant `variant` of type `T`, which can hold the JSON
    /// kinds `kinds` (empty: any kind). `None` when it does not apply or
    /// does not decode; the reason is kept for the final error.
    pub fn attempt<T: DeserializeOwned>(
        &mut self,
        variant: &'static str,
        kinds: &[JsonKind],
    ) -> Option<T> {
        if !kinds.is_empty() && !kinds.contains(&self.kind) {
            return None;
        }
        match self.raw.decode::<T>() {
            Ok(value) => Some(value),
            Err(error) => {
                self.failures.push((variant, error.to_string()));
                None
            }
        }
    }

    /// The error when no variant decoded: which variants were tried and why
    /// each refused. The value itself is not repeated.
    #[must_use]
    pub fn into_error<E: de::Error>(self) -> E {
        let mut message = format!(
            "{} did not match any variant of `{}`",
            self.kind.name(),
            self.name
        );
        if self.failures.is_empty() {
            message.push_str(" (no variant holds that kind of value)");
        }
        for (i, (variant, reason)) in self.failures.iter().enumerate() {
            let _ = write!(
                message,
                "{} {variant}: {reason}",
                if i == 0 { ";" } else { "," }
            );
        }
        E::custom(message)
    }
}

/// The value of the string property `property` of the JSON object `raw`:
/// `None` when the property is absent, `null` or not a string.
///
/// # Errors
///
/// When `raw` is not an object.
pub fn tag_of(raw: &RawJson, property: &str) -> Result<Option<String>, serde_json::Error> {
    let mut deserializer = serde_json::Deserializer::from_str(raw.get());
    TagSeed(property).deserialize(&mut deserializer)
}

struct TagSeed<'p>(&'p str);

impl<'de> DeserializeSeed<'de> for TagSeed<'_> {
    type Value = Option<String>;

    fn deserialize<D: de::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for TagSeed<'_> {
    type Value = Option<String>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a JSON object with a `{}` tag", self.0)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut tag = None;
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            if key == self.0 {
                let value = map.next_value::<RawJson>()?;
                tag = if value.kind() == JsonKind::String {
                    value.decode::<String>().ok()
                } else {
                    None
                };
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(tag)
    }
}

/// Serialises `value` (a variant of a discriminated union) with its tag:
/// when the object lacks `property` or has it `null`, `property: tag` is
/// written first; otherwise the object is written as it is.
///
/// # Errors
///
/// When `value` cannot be serialised, or the serializer is not
/// serde_json's (the object's entries are written as raw JSON).
pub fn serialize_tagged<S, T>(
    serializer: S,
    value: &T,
    property: &str,
    tag: &str,
) -> Result<S::Ok, S::Error>
where
    S: Serializer,
    T: Serialize + ?Sized,
{
    use serde::ser::Error as _;
    let raw = serde_json::value::to_raw_value(value).map_err(S::Error::custom)?;
    if RawJson::from(raw.clone()).kind() != JsonKind::Object {
        return raw.serialize(serializer);
    }
    let entries: Entries<'_> = serde_json::from_str(raw.get()).map_err(S::Error::custom)?;
    let tagged = entries
        .0
        .iter()
        .any(|(k, v)| k == property && v.get().trim() != "null");
    if tagged {
        return raw.serialize(serializer);
    }
    let mut map = serializer.serialize_map(Some(entries.0.len() + 1))?;
    map.serialize_entry(property, tag)?;
    for (key, value) in entries.0.iter().filter(|(k, _)| k != property) {
        map.serialize_entry(key, value)?;
    }
    map.end()
}

/// The entries of a JSON object, borrowed from its text.
struct Entries<'a>(Vec<(Cow<'a, str>, &'a RawValue)>);

impl<'de> serde::Deserialize<'de> for Entries<'de> {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EntriesVisitor;
        impl<'de> Visitor<'de> for EntriesVisitor {
            type Value = Entries<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Entries<'de>, A::Error> {
                let mut entries = Vec::new();
                while let Some(key) = map.next_key::<Cow<'de, str>>()? {
                    entries.push((key, map.next_value::<&'de RawValue>()?));
                }
                Ok(Entries(entries))
            }
        }
        deserializer.deserialize_map(EntriesVisitor)
    }
}
