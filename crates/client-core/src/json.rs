//! JSON shapes the generated clients need and serde's derives cannot give
//! without losing data.
//!
//! serde's derived `Deserialize` for an untagged or internally tagged enum,
//! or for a struct with a `#[serde(flatten)]` field, first buffers the value
//! in a private tree whose numbers are already `f64`. An exact decimal such
//! as [`DecimalAmount`](crate::money::DecimalAmount) cannot be read from
//! that tree, and a field the schema does not name cannot be kept without
//! `flatten`. So the generator (`cargo xtask codegen`) writes those three
//! shapes with the helpers of this module instead:
//!
//! - objects ([`deserialize_object`], [`ObjectFields`]): one pass over the
//!   map, known fields decoded in place, every other field kept in
//!   [`UnknownFields`] as its exact JSON text and written back unchanged;
//! - untagged unions ([`Union`]): the value is captured as [`RawJson`] and
//!   each variant is decoded from that text in turn, so every variant sees
//!   the exact digits;
//! - discriminated unions ([`tag_of`], [`serialize_tagged`]): the tag picks
//!   the variant, and a tag this version does not know keeps the raw JSON.
//!
//! Everything here reads from serde_json's own deserializer (text, or a
//! `serde_json::Value`); that is what the generated clients use.

mod object;
mod raw;
mod union;

pub use object::{ObjectFields, UnknownFields, deserialize_object, field, missing, required};
pub use raw::{JsonKind, RawJson};
pub use union::{Union, serialize_tagged, tag_of};

#[cfg(test)]
mod tests;
