//! Objects decoded in one pass, keeping the fields the schema does not name.
//!
//! The generator writes, for each generated struct, a small [`ObjectFields`]
//! implementation: a slot per known field and a `match` on the key. Known
//! fields are decoded straight from serde_json's deserializer (so exact
//! decimals see their text), unknown ones go to [`UnknownFields`] as raw
//! JSON, and missing ones follow serde's derive rules ([`missing`]).

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, Serializer};

use super::RawJson;

/// Fields of an object that its schema does not name, in the order they
/// came, each kept as its exact JSON text.
///
/// Generated structs carry one (`unknown_fields`, flattened when
/// serialised), so a get-modify-put writes back what the client did not
/// know about instead of erasing it on the server.
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UnknownFields(Vec<(String, RawJson)>);

impl UnknownFields {
    /// No fields.
    #[must_use]
    pub const fn new() -> Self {
        UnknownFields(Vec::new())
    }

    /// Whether there are none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many there are.
    #[must_use]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The value of `name` (the last one, if the object repeated the key).
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&RawJson> {
        self.0.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    /// Sets `name` to `value`, replacing what was there.
    pub fn insert(&mut self, name: impl Into<String>, value: RawJson) {
        let name = name.into();
        self.0.retain(|(k, _)| *k != name);
        self.0.push((name, value));
    }

    /// Removes `name` and returns its (last) value.
    pub fn remove(&mut self, name: &str) -> Option<RawJson> {
        let last = self.get(name).cloned();
        self.0.retain(|(k, _)| k != name);
        last
    }

    /// The fields in the order they came.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &RawJson)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// Reads the next value of `map` as the unknown field `key`; generated
    /// [`ObjectFields::field`] implementations call this for every key they
    /// do not know.
    ///
    /// # Errors
    ///
    /// When the value is not valid JSON.
    pub fn read_value<'de, A: MapAccess<'de>>(
        &mut self,
        key: &str,
        map: &mut A,
    ) -> Result<(), A::Error> {
        let value = map.next_value::<RawJson>()?;
        self.0.push((key.to_owned(), value));
        Ok(())
    }
}

impl fmt::Debug for UnknownFields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl Serialize for UnknownFields {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (key, value) in &self.0 {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for UnknownFields {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Fields;
        impl<'de> Visitor<'de> for Fields {
            type Value = UnknownFields;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<UnknownFields, A::Error> {
                let mut fields = UnknownFields::new();
                while let Some(key) = map.next_key::<Key<'de>>()? {
                    fields.read_value(&key.0, &mut map)?;
                }
                Ok(fields)
            }
        }
        deserializer.deserialize_map(Fields)
    }
}

impl schemars::JsonSchema for UnknownFields {
    fn schema_name() -> String {
        "UnknownFields".to_owned()
    }

    fn json_schema(_: &mut schemars::r#gen::SchemaGenerator) -> schemars::schema::Schema {
        use schemars::schema::{InstanceType, ObjectValidation, Schema, SchemaObject};
        Schema::Object(SchemaObject {
            instance_type: Some(InstanceType::Object.into()),
            object: Some(Box::new(ObjectValidation {
                additional_properties: Some(Box::new(Schema::Bool(true))),
                ..ObjectValidation::default()
            })),
            ..SchemaObject::default()
        })
    }
}

/// The known fields of one generated struct while its object is read: a slot
/// per field, filled by [`field`](Self::field), then turned into the struct by
/// [`finish`](Self::finish). The generator writes one per struct; see
/// [`deserialize_object`].
pub trait ObjectFields<'de>: Default {
    /// The struct being read.
    type Object;
    /// Its name, for error messages.
    const NAME: &'static str;

    /// Reads the value of `key` from `map`: into its slot when the field is
    /// known (see [`field`]), otherwise as an unknown field.
    ///
    /// # Errors
    ///
    /// When the value does not decode, or a known key comes twice.
    fn field<A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<(), A::Error>;

    /// Builds the struct once the object has been read; missing fields
    /// follow [`missing`] or [`required`].
    ///
    /// # Errors
    ///
    /// When a required field is missing.
    fn finish<E: de::Error>(self) -> Result<Self::Object, E>;
}

/// Reads a JSON object through `F`, in one pass and without buffering.
///
/// # Errors
///
/// When the value is not an object, or `F` refuses a field.
pub fn deserialize_object<'de, D, F>(deserializer: D) -> Result<F::Object, D::Error>
where
    D: Deserializer<'de>,
    F: ObjectFields<'de>,
{
    deserializer.deserialize_map(ObjectVisitor::<F>(PhantomData))
}

struct ObjectVisitor<F>(PhantomData<F>);

impl<'de, F: ObjectFields<'de>> Visitor<'de> for ObjectVisitor<F> {
    type Value = F::Object;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a JSON object ({})", F::NAME)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<F::Object, A::Error> {
        let mut fields = F::default();
        while let Some(key) = map.next_key::<Key<'de>>()? {
            fields.field(&key.0, &mut map)?;
        }
        fields.finish()
    }
}

/// An object key, borrowed from the input when serde_json can lend it.
struct Key<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object key")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

/// Reads the value of a known field into its slot.
///
/// # Errors
///
/// When the value does not decode as `T`, or the key came before
/// (serde's "duplicate field", as a derived implementation says).
pub fn field<'de, T, A>(
    slot: &mut Option<T>,
    name: &'static str,
    map: &mut A,
) -> Result<(), A::Error>
where
    T: Deserialize<'de>,
    A: MapAccess<'de>,
{
    if slot.is_some() {
        return Err(de::Error::duplicate_field(name));
    }
    *slot = Some(map.next_value()?);
    Ok(())
}

/// A field that may be missing: what serde's derive does for a field without
/// `default`. An `Option` becomes `None`; any other type is an error
/// ("missing field").
///
/// # Errors
///
/// When the field is missing and `T` is not an `Option`.
pub fn missing<'de, T, E>(slot: Option<T>, name: &'static str) -> Result<T, E>
where
    T: Deserialize<'de>,
    E: de::Error,
{
    match slot {
        Some(value) => Ok(value),
        None => T::deserialize(MissingField::<E>(name, PhantomData)),
    }
}

/// A field that must be present, even when its type is an `Option` (a
/// required but nullable property: `null` is allowed, absence is not).
///
/// # Errors
///
/// "missing field" when it is absent.
pub fn required<T, E: de::Error>(slot: Option<T>, name: &'static str) -> Result<T, E> {
    slot.ok_or_else(|| E::missing_field(name))
}

/// Answers `None` to an `Option` and "missing field" to anything else.
struct MissingField<E>(&'static str, PhantomData<E>);

impl<'de, E: de::Error> Deserializer<'de> for MissingField<E> {
    type Error = E;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, E> {
        Err(E::missing_field(self.0))
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, E> {
        visitor.visit_none()
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}
