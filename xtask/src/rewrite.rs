//! Serde impls written by the generator where typify's derives lose data.
//!
//! typify derives `Deserialize` everywhere. Three of its shapes drop data
//! without an error, so this pass replaces their `Deserialize` (and for
//! discriminated unions `Serialize`) with code on the helpers of
//! `client_core::json`:
//!
//! - **Objects** keep the fields the schema does not name in an
//!   `unknown_fields` member and write them back, so a get-modify-put never
//!   blanks a field on the server (`[codegen] unknown_fields`, default on).
//!   Required but nullable fields that are absent are read as `null` or
//!   refused (`[codegen] absent_nullable`).
//! - **Untagged unions** try each variant on the exact JSON text, skipping
//!   variants that cannot hold that kind of value; serde's derive buffered the
//!   value through `f64`, so an exact decimal inside a union always failed.
//! - **Discriminated unions** (marked by `crate::unions`) pick their variant
//!   by the tag and keep the raw JSON of a tag added later.
//!
//! What the pass cannot rewrite is left as typify wrote it and reported.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Result;
use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use serde_json::Value;
use syn::visit_mut::VisitMut;

use crate::names::rust_type_name;
use crate::source::{AbsentNullable, Settings};

/// One thing the pass did or left alone, for the codegen report.
pub struct Note {
    /// Rule name, e.g. `rewrite/unknown-fields`.
    pub rule: &'static str,
    /// Where: `types::Name`.
    pub place: String,
    /// What.
    pub message: String,
}

const UNKNOWN_FIELDS: &str = "unknown_fields";
const REQUIRED_NULLABLE: &str = ":: std :: option :: Option :: deserialize";

/// Rewrites the `types` module of a generated client in place.
pub fn rewrite(file: &mut syn::File, doc: &Value, settings: &Settings) -> Result<Vec<Note>> {
    let Some(types) = file.items.iter_mut().find_map(|item| match item {
        syn::Item::Mod(module) if module.ident == "types" => module.content.as_mut(),
        _ => None,
    }) else {
        return Ok(Vec::new());
    };
    let items = &mut types.1;
    let mut pass = Pass {
        settings,
        notes: Vec::new(),
        shapes: shapes(items),
        conversions: settings
            .conversions
            .iter()
            .filter_map(|c| {
                let ty = c.matches.get("type")?.as_str()?;
                Some((c.rust_type.replace(' ', ""), json_kind(ty)?))
            })
            .collect(),
    };
    let unions = discriminated(doc);
    let mut added = Vec::new();
    let mut objects = BTreeSet::new();
    for item in items.iter_mut() {
        match item {
            syn::Item::Enum(enumeration) => {
                let name = enumeration.ident.to_string();
                if let Some(union) = unions.get(&name) {
                    added.extend(pass.discriminated(enumeration, union)?);
                } else if let Some(code) = pass.untagged(enumeration) {
                    added.push(code);
                }
            }
            syn::Item::Struct(structure) => {
                if let Some(code) = pass.object(structure) {
                    objects.insert(structure.ident.to_string());
                    added.push(code);
                }
            }
            _ => {}
        }
    }
    for name in unions.keys() {
        if !pass.shapes.contains_key(name) {
            pass.note(
                "rewrite/union-left-alone",
                name,
                "the discriminated union (x-codegen-union) was not generated as an enum of that name; typify \
                 named or shaped it otherwise, and it is left as typify wrote it",
            );
        }
    }
    if settings.unknown_fields {
        carry_unknown_fields(items, &objects);
    }
    for code in added {
        items.push(syn::parse2(code)?);
    }
    Ok(pass.notes)
}

/// A discriminated union as `crate::unions` recorded it.
struct Discriminated {
    property: String,
    /// Per variant: its Rust type name and the tags that select it.
    variants: Vec<(String, Vec<String>)>,
}

/// Every `x-codegen-union` of the document, by the Rust name of its component.
fn discriminated(doc: &Value) -> BTreeMap<String, Discriminated> {
    let mut out = BTreeMap::new();
    let Some(schemas) = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
    else {
        return out;
    };
    for (name, schema) in schemas {
        let Some(union) = schema.get(crate::unions::EXTENSION) else {
            continue;
        };
        let property = union["property"].as_str().unwrap_or_default().to_owned();
        let variants = union["variants"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|v| {
                (
                    rust_type_name(v["schema"].as_str().unwrap_or_default()),
                    v["tags"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect(),
                )
            })
            .collect();
        out.insert(rust_type_name(name), Discriminated { property, variants });
    }
    out
}

/// What JSON a named generated type accepts, for trying union variants.
#[derive(Clone)]
enum Shape {
    Object,
    Text,
    Newtype(Box<syn::Type>),
    Union(Vec<syn::Type>),
    Any,
}

fn shapes(items: &[syn::Item]) -> BTreeMap<String, Shape> {
    let mut out = BTreeMap::new();
    for item in items {
        match item {
            syn::Item::Struct(s) => {
                let shape = match &s.fields {
                    syn::Fields::Named(_) => Shape::Object,
                    syn::Fields::Unnamed(f) if f.unnamed.len() == 1 => {
                        Shape::Newtype(Box::new(f.unnamed[0].ty.clone()))
                    }
                    _ => Shape::Any,
                };
                out.insert(s.ident.to_string(), shape);
            }
            syn::Item::Enum(e) => {
                let unit_or_text = e.variants.iter().all(|v| match &v.fields {
                    syn::Fields::Unit => true,
                    syn::Fields::Unnamed(f) => v.ident == "Unknown" && f.unnamed.len() == 1,
                    syn::Fields::Named(_) => false,
                });
                let shape = if unit_or_text && !has_serde(&e.attrs, "untagged") {
                    Shape::Text
                } else if has_serde(&e.attrs, "untagged") {
                    Shape::Union(
                        e.variants
                            .iter()
                            .filter_map(|v| match &v.fields {
                                syn::Fields::Unnamed(f) if f.unnamed.len() == 1 => {
                                    Some(f.unnamed[0].ty.clone())
                                }
                                _ => None,
                            })
                            .collect(),
                    )
                } else {
                    Shape::Any
                };
                out.insert(e.ident.to_string(), shape);
            }
            _ => {}
        }
    }
    out
}

fn json_kind(schema_type: &str) -> Option<&'static str> {
    Some(match schema_type {
        "number" | "integer" => "Number",
        "string" => "String",
        "boolean" => "Bool",
        "array" => "Array",
        "object" => "Object",
        _ => return None,
    })
}

struct Pass<'s> {
    settings: &'s Settings,
    notes: Vec<Note>,
    shapes: BTreeMap<String, Shape>,
    /// Conversion target types and the JSON kind their schemas match.
    conversions: Vec<(String, &'static str)>,
}

/// The serde keys of one `#[serde(...)]` attribute, with their values.
fn serde_keys(attr: &syn::Attribute) -> Vec<(String, Option<String>)> {
    let mut keys = Vec::new();
    if !attr.path().is_ident("serde") {
        return keys;
    }
    let _ = attr.parse_nested_meta(|meta| {
        let key = meta
            .path
            .get_ident()
            .map(ToString::to_string)
            .unwrap_or_else(|| "?".into());
        if meta.input.peek(syn::Token![=]) {
            let value: syn::LitStr = meta.value()?.parse()?;
            keys.push((key, Some(value.value())));
        } else {
            keys.push((key, None));
        }
        Ok(())
    });
    keys
}

fn has_serde(attrs: &[syn::Attribute], key: &str) -> bool {
    attrs.iter().flat_map(serde_keys).any(|(k, _)| k == key)
}

/// Removes `names` from the `#[derive(...)]` lists; true when one was there.
fn drop_derives(attrs: &mut [syn::Attribute], names: &[&str]) -> bool {
    let mut dropped = false;
    for attr in attrs.iter_mut() {
        if !attr.path().is_ident("derive") {
            continue;
        }
        let Ok(list) = attr.parse_args_with(
            syn::punctuated::Punctuated::<syn::Path, syn::Token![,]>::parse_terminated,
        ) else {
            continue;
        };
        let before = list.len();
        let kept: Vec<syn::Path> = list
            .into_iter()
            .filter(|p| {
                !p.segments
                    .last()
                    .is_some_and(|s| names.iter().any(|n| s.ident == n))
            })
            .collect();
        dropped |= kept.len() != before;
        *attr = syn::parse_quote!(#[derive(#(#kept),*)]);
    }
    dropped
}

fn derives(attrs: &[syn::Attribute], name: &str) -> bool {
    attrs
        .iter()
        .filter(|a| a.path().is_ident("derive"))
        .any(|a| {
            a.parse_args_with(
                syn::punctuated::Punctuated::<syn::Path, syn::Token![,]>::parse_terminated,
            )
            .is_ok_and(|list| {
                list.iter()
                    .any(|p| p.segments.last().is_some_and(|s| s.ident == name))
            })
        })
}

fn type_string(ty: &syn::Type) -> String {
    quote!(#ty).to_string().replace(' ', "")
}

impl Pass<'_> {
    fn note(&mut self, rule: &'static str, name: &str, message: impl Into<String>) {
        self.notes.push(Note {
            rule,
            place: format!("types::{name}"),
            message: message.into(),
        });
    }

    /// The JSON kinds a value of `ty` can be (empty: any), so a union does
    /// not try, say, a string variant on a number.
    fn kinds(&self, ty: &syn::Type, depth: usize) -> Vec<&'static str> {
        if depth > 8 {
            return Vec::new();
        }
        let text = type_string(ty);
        if let Some((_, kind)) = self.conversions.iter().find(|(t, _)| *t == text) {
            return vec![kind];
        }
        let syn::Type::Path(path) = ty else {
            return if text == "()" {
                vec!["Null"]
            } else {
                Vec::new()
            };
        };
        let Some(last) = path.path.segments.last() else {
            return Vec::new();
        };
        let inner = || match &last.arguments {
            syn::PathArguments::AngleBracketed(args) => args.args.iter().find_map(|a| match a {
                syn::GenericArgument::Type(t) => Some(t.clone()),
                _ => None,
            }),
            _ => None,
        };
        let ident = last.ident.to_string();
        match ident.as_str() {
            "String" | "NaiveDate" | "NaiveTime" | "NaiveDateTime" | "DateTime" | "Uuid"
            | "char" => {
                vec!["String"]
            }
            "bool" => vec!["Bool"],
            "i8" | "i16" | "i32" | "i64" | "i128" | "u8" | "u16" | "u32" | "u64" | "u128"
            | "f32" | "f64" | "NonZeroU64" | "NonZeroU32" | "NonZeroI64" | "NonZeroI32" => {
                vec!["Number"]
            }
            "Vec" => vec!["Array"],
            "Map" | "HashMap" | "BTreeMap" => vec!["Object"],
            "Value" => Vec::new(),
            "Option" => match inner() {
                Some(t) => {
                    let mut kinds = self.kinds(&t, depth + 1);
                    if !kinds.is_empty() {
                        kinds.insert(0, "Null");
                    }
                    kinds
                }
                None => Vec::new(),
            },
            "Box" => inner()
                .map(|t| self.kinds(&t, depth + 1))
                .unwrap_or_default(),
            _ => match self.shapes.get(&ident) {
                Some(Shape::Object) => vec!["Object"],
                Some(Shape::Text) => vec!["String"],
                Some(Shape::Newtype(t)) => {
                    let t = t.clone();
                    self.kinds(&t, depth + 1)
                }
                Some(Shape::Union(variants)) => {
                    let variants = variants.clone();
                    let mut all = Vec::new();
                    for v in &variants {
                        let kinds = self.kinds(v, depth + 1);
                        if kinds.is_empty() {
                            return Vec::new();
                        }
                        all.extend(kinds);
                    }
                    all.sort_unstable();
                    all.dedup();
                    all
                }
                Some(Shape::Any) | None => Vec::new(),
            },
        }
    }

    /// An untagged union: each variant tried on the exact text.
    fn untagged(&mut self, enumeration: &mut syn::ItemEnum) -> Option<TokenStream> {
        if !has_serde(&enumeration.attrs, "untagged") || !derives(&enumeration.attrs, "Deserialize")
        {
            if has_serde(&enumeration.attrs, "tag") {
                let name = enumeration.ident.to_string();
                self.note(
                    "rewrite/kept-derive",
                    &name,
                    "internally tagged enum left to serde's derive, which buffers values: an exact decimal inside \
                     it fails to decode",
                );
            }
            return None;
        }
        let name = enumeration.ident.clone();
        let name_str = name.to_string();
        let mut attempts = Vec::new();
        for variant in &enumeration.variants {
            let ident = &variant.ident;
            let label = ident.to_string();
            match &variant.fields {
                syn::Fields::Unnamed(fields) if fields.unnamed.len() == 1 => {
                    let ty = &fields.unnamed[0].ty;
                    let kinds = self.kinds(ty, 0).into_iter().map(|k| format_ident!("{k}"));
                    attempts.push(quote! {
                        if let ::std::option::Option::Some(value) =
                            union.attempt::<#ty>(#label, &[#(client_core::json::JsonKind::#kinds),*])
                        {
                            return ::std::result::Result::Ok(Self::#ident(value));
                        }
                    });
                }
                syn::Fields::Unit => attempts.push(quote! {
                    if union.kind() == client_core::json::JsonKind::Null {
                        return ::std::result::Result::Ok(Self::#ident);
                    }
                }),
                _ => {
                    self.note(
                        "rewrite/kept-derive",
                        &name_str,
                        format!("untagged enum with a variant `{label}` of several fields left to serde's derive"),
                    );
                    return None;
                }
            }
        }
        drop_derives(&mut enumeration.attrs, &["Deserialize"]);
        Some(quote! {
            impl<'de> ::serde::Deserialize<'de> for #name {
                fn deserialize<D: ::serde::Deserializer<'de>>(
                    deserializer: D,
                ) -> ::std::result::Result<Self, D::Error> {
                    let raw = <client_core::json::RawJson as ::serde::Deserialize>::deserialize(deserializer)?;
                    let mut union = client_core::json::Union::new(#name_str, &raw);
                    #(#attempts)*
                    ::std::result::Result::Err(union.into_error())
                }
            }
        })
    }

    /// A discriminated union: the tag picks the variant.
    fn discriminated(
        &mut self,
        enumeration: &mut syn::ItemEnum,
        union: &Discriminated,
    ) -> Result<Vec<TokenStream>> {
        let name = enumeration.ident.clone();
        let name_str = name.to_string();
        let found: Vec<(syn::Ident, syn::Type)> = enumeration
            .variants
            .iter()
            .filter_map(|v| match &v.fields {
                syn::Fields::Unnamed(f) if f.unnamed.len() == 1 => {
                    Some((v.ident.clone(), f.unnamed[0].ty.clone()))
                }
                _ => None,
            })
            .collect();
        let expected: Vec<&str> = union.variants.iter().map(|(t, _)| t.as_str()).collect();
        // A variant that contains the union itself is boxed (`Box<Node>`).
        let actual: Vec<String> = found
            .iter()
            .map(|(_, ty)| {
                let text = type_string(ty);
                text.strip_prefix("::std::boxed::Box<")
                    .and_then(|t| t.strip_suffix('>'))
                    .map_or(text.clone(), str::to_owned)
            })
            .collect();
        // typify recognised the tag itself and wrote an internally tagged
        // enum with the variants' fields inline: it decodes by the tag, but
        // a tag added later is an error, not kept.
        let inline_tagged = found.is_empty()
            && enumeration
                .variants
                .iter()
                .all(|v| matches!(v.fields, syn::Fields::Named(_)))
            && enumeration.attrs.iter().any(|a| {
                a.path().is_ident("serde")
                    && quote::ToTokens::to_token_stream(a)
                        .to_string()
                        .contains("tag")
            });
        if inline_tagged {
            self.note(
                "rewrite/typify-tagged-enum",
                &name_str,
                format!(
                    "typify generated an internally tagged enum on `{}` itself (variants inline); it chooses by \
                     the tag, but a tag this version does not know fails to decode instead of being kept",
                    union.property
                ),
            );
            return Ok(Vec::new());
        }
        if found.len() != enumeration.variants.len() || actual != expected {
            self.note(
                "rewrite/union-left-alone",
                &name_str,
                format!(
                    "typify generated variants {actual:?}, not newtypes of {expected:?} in that order; the enum is \
                     left as typify wrote it (it decodes by trying each variant, and a tag this version does not \
                     know fails instead of being kept)"
                ),
            );
            return Ok(Vec::new());
        }
        let property = &union.property;
        let unknown = if found.iter().any(|(v, _)| v == "Unknown") {
            format_ident!("UnknownTag")
        } else {
            format_ident!("Unknown")
        };
        drop_derives(&mut enumeration.attrs, &["Deserialize", "Serialize"]);
        if !derives(&enumeration.attrs, "JsonSchema") {
            enumeration.attrs.retain(|a| !a.path().is_ident("serde"));
        }
        let doc = format!(
            " A value whose `{property}` this version of the client does not know (or that has none), kept as sent."
        );
        enumeration.variants.push(syn::parse_quote! {
            #[doc = #doc]
            #unknown(client_core::json::RawJson)
        });
        let mut arms = Vec::new();
        let mut writes = Vec::new();
        for ((ident, ty), (_, tags)) in found.iter().zip(&union.variants) {
            let label = format!("{name_str}::{ident} ({property} {})", tags.join(" | "));
            arms.push(quote! {
                ::std::option::Option::Some(#(#tags)|*) => raw
                    .decode::<#ty>()
                    .map(Self::#ident)
                    .map_err(|error| D::Error::custom(format_args!("{}: {}", #label, error))),
            });
            let first = &tags[0];
            writes.push(quote! {
                Self::#ident(value) => client_core::json::serialize_tagged(serializer, value, #property, #first),
            });
        }
        let listed = union
            .variants
            .iter()
            .map(|(t, tags)| format!("{} -> {t}", tags.join("|")))
            .collect::<Vec<_>>()
            .join(", ");
        self.note(
            "rewrite/discriminated-union",
            &name_str,
            format!("decoded by `{property}`: {listed}; other tags kept in `{unknown}`"),
        );
        Ok(vec![
            quote! {
                impl<'de> ::serde::Deserialize<'de> for #name {
                    fn deserialize<D: ::serde::Deserializer<'de>>(
                        deserializer: D,
                    ) -> ::std::result::Result<Self, D::Error> {
                        use ::serde::de::Error as _;
                        let raw = <client_core::json::RawJson as ::serde::Deserialize>::deserialize(deserializer)?;
                        match client_core::json::tag_of(&raw, #property).map_err(D::Error::custom)?.as_deref() {
                            #(#arms)*
                            _ => ::std::result::Result::Ok(Self::#unknown(raw)),
                        }
                    }
                }
            },
            quote! {
                impl ::serde::Serialize for #name {
                    fn serialize<S: ::serde::Serializer>(
                        &self,
                        serializer: S,
                    ) -> ::std::result::Result<S::Ok, S::Error> {
                        match self {
                            #(#writes)*
                            Self::#unknown(raw) => ::serde::Serialize::serialize(raw, serializer),
                        }
                    }
                }
            },
        ])
    }

    /// An object: one pass, unknown fields kept, absent fields per the settings.
    fn object(&mut self, structure: &mut syn::ItemStruct) -> Option<TokenStream> {
        let name = structure.ident.clone();
        let name_str = name.to_string();
        let syn::Fields::Named(fields) = &mut structure.fields else {
            return None;
        };
        if !derives(&structure.attrs, "Deserialize") {
            return None;
        }
        if let Some((key, _)) = structure.attrs.iter().flat_map(serde_keys).next() {
            if key == "transparent" {
                return None;
            }
            let why = if key == "deny_unknown_fields" {
                "the schema forbids other fields (`additionalProperties: false`); unknown fields are refused, as it says"
                    .to_owned()
            } else {
                format!("struct attribute `serde({key})` left to serde's derive")
            };
            self.note("rewrite/kept-derive", &name_str, why);
            return None;
        }
        struct Field {
            ident: syn::Ident,
            ty: syn::Type,
            key: String,
            default: Option<Option<String>>,
            with: Option<String>,
        }
        let mut parsed = Vec::new();
        for field in &fields.named {
            let ident = field.ident.clone()?;
            let raw = ident.to_string();
            let mut entry = Field {
                ident,
                ty: field.ty.clone(),
                key: raw.strip_prefix("r#").unwrap_or(&raw).to_owned(),
                default: None,
                with: None,
            };
            for (key, value) in field.attrs.iter().flat_map(serde_keys) {
                match (key.as_str(), value) {
                    ("rename", Some(v)) => entry.key = v,
                    ("default", v) => entry.default = Some(v),
                    ("skip_serializing_if", _) => {}
                    ("deserialize_with", Some(v)) => entry.with = Some(v),
                    (other, _) => {
                        self.note(
                            "rewrite/kept-derive",
                            &name_str,
                            format!("field attribute `serde({other})` left to serde's derive"),
                        );
                        return None;
                    }
                }
            }
            parsed.push(entry);
        }
        let keep_unknown = self.settings.unknown_fields;
        let unknown = format_ident!("{UNKNOWN_FIELDS}");
        if keep_unknown && parsed.iter().any(|f| f.ident == unknown) {
            self.note(
                "rewrite/kept-derive",
                &name_str,
                format!("the schema has a property named `{UNKNOWN_FIELDS}`; unknown fields are not kept here"),
            );
            return None;
        }

        let mut slots = Vec::new();
        let mut wrappers = Vec::new();
        let mut arms = Vec::new();
        let mut finish = Vec::new();
        let mut relaxed = Vec::new();
        for (i, f) in parsed.iter().enumerate() {
            let (ident, ty, key) = (&f.ident, &f.ty, &f.key);
            let required_nullable = f
                .with
                .as_deref()
                .is_some_and(|w| w.replace(' ', "") == REQUIRED_NULLABLE.replace(' ', ""));
            let custom = f.with.as_ref().filter(|_| !required_nullable);
            let slot_ty = match custom {
                Some(path) => {
                    let wrapper = format_ident!("With{i}");
                    let path: syn::ExprPath = syn::parse_str(path).ok()?;
                    wrappers.push(quote! {
                        struct #wrapper(#ty);
                        impl<'de> ::serde::Deserialize<'de> for #wrapper {
                            fn deserialize<D: ::serde::Deserializer<'de>>(
                                deserializer: D,
                            ) -> ::std::result::Result<Self, D::Error> {
                                #path(deserializer).map(#wrapper)
                            }
                        }
                    });
                    quote!(#wrapper)
                }
                None => quote!(#ty),
            };
            slots.push(quote!(#ident: ::std::option::Option<#slot_ty>));
            arms.push(quote!(#key => client_core::json::field(&mut self.#ident, #key, map),));
            let slot = if custom.is_some() {
                quote!(self.#ident.map(|w| w.0))
            } else {
                quote!(self.#ident)
            };
            let value = match (&f.default, required_nullable) {
                (Some(Some(path)), _) => {
                    let path: syn::ExprPath = syn::parse_str(path).ok()?;
                    quote!(#slot.unwrap_or_else(#path))
                }
                (Some(None), _) => quote!(#slot.unwrap_or_default()),
                (None, true) if self.settings.absent_nullable == AbsentNullable::Null => {
                    relaxed.push(key.clone());
                    quote!(#slot.unwrap_or_default())
                }
                (None, true) => quote!(client_core::json::required(#slot, #key)?),
                (None, false) if custom.is_some() => {
                    quote!(client_core::json::required(#slot, #key)?)
                }
                // An absent `Option` is `None`, as serde's derive has it;
                // spelt out, because `missing` costs a generic instance per type.
                (None, false) if type_string(ty).starts_with("::std::option::Option<") => {
                    quote!(#slot.unwrap_or_default())
                }
                (None, false) => quote!(client_core::json::missing(#slot, #key)?),
            };
            finish.push(quote!(#ident: #value,));
        }
        let (unknown_slot, unknown_arm, unknown_finish) = if keep_unknown {
            (
                quote!(#unknown: client_core::json::UnknownFields,),
                quote!(_ => self.#unknown.read_value(key, map),),
                quote!(#unknown: self.#unknown,),
            )
        } else {
            (
                quote!(),
                quote!(_ => map.next_value::<::serde::de::IgnoredAny>().map(|_| ()),),
                quote!(),
            )
        };
        if !relaxed.is_empty() {
            self.note(
                "rewrite/absent-nullable",
                &name_str,
                format!(
                    "required and nullable, read as null when absent: {}",
                    relaxed.join(", ")
                ),
            );
        }

        drop_derives(&mut structure.attrs, &["Deserialize"]);
        if keep_unknown {
            fields.named.push(syn::parse_quote! {
                /// Fields the document does not describe, kept as sent and written back unchanged.
                #[serde(flatten)]
                pub #unknown: client_core::json::UnknownFields
            });
        }
        Some(quote! {
            impl<'de> ::serde::Deserialize<'de> for #name {
                fn deserialize<D: ::serde::Deserializer<'de>>(
                    deserializer: D,
                ) -> ::std::result::Result<Self, D::Error> {
                    #[derive(Default)]
                    struct Fields {
                        #(#slots,)*
                        #unknown_slot
                    }
                    #(#wrappers)*
                    impl<'de> client_core::json::ObjectFields<'de> for Fields {
                        type Object = #name;
                        const NAME: &'static str = #name_str;
                        fn field<A: ::serde::de::MapAccess<'de>>(
                            &mut self,
                            key: &str,
                            map: &mut A,
                        ) -> ::std::result::Result<(), A::Error> {
                            match key {
                                #(#arms)*
                                #unknown_arm
                            }
                        }
                        fn finish<E: ::serde::de::Error>(self) -> ::std::result::Result<#name, E> {
                            ::std::result::Result::Ok(#name {
                                #(#finish)*
                                #unknown_finish
                            })
                        }
                    }
                    client_core::json::deserialize_object::<D, Fields>(deserializer)
                }
            }
        })
    }
}

/// Every struct literal of a rewritten struct gains its `unknown_fields`:
/// copied where a builder converts to or from the struct, empty elsewhere.
/// The builders (`types::builder`) carry the field too, so a value taken
/// apart and put back together through its builder keeps it.
fn carry_unknown_fields(items: &mut [syn::Item], objects: &BTreeSet<String>) {
    struct Literals<'o> {
        objects: &'o BTreeSet<String>,
        /// The struct the enclosing impl is for, and whether `value` holds one.
        current: Option<(String, bool)>,
    }
    impl VisitMut for Literals<'_> {
        fn visit_item_impl_mut(&mut self, item: &mut syn::ItemImpl) {
            let self_name = match item.self_ty.as_ref() {
                syn::Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
                _ => None,
            };
            let converts = item.trait_.as_ref().is_some_and(|(path, _)| {
                path.segments
                    .last()
                    .is_some_and(|s| s.ident == "From" || s.ident == "TryFrom")
            });
            let previous = self.current.take();
            self.current = self_name.filter(|n| self.objects.contains(n)).map(|n| {
                // `From<super::X> for builder::X` and `TryFrom<builder::X>
                // for super::X` both take a `value` that has the field;
                // `From<&X> for X` clones and builds no literal.
                (n, converts)
            });
            syn::visit_mut::visit_item_impl_mut(self, item);
            self.current = previous;
        }
        fn visit_expr_struct_mut(&mut self, expr: &mut syn::ExprStruct) {
            syn::visit_mut::visit_expr_struct_mut(self, expr);
            let Some((name, converts)) = &self.current else {
                return;
            };
            let is_self = expr.path.is_ident("Self")
                || expr
                    .path
                    .segments
                    .last()
                    .is_some_and(|s| s.ident == name.as_str());
            let has = expr
                .fields
                .iter()
                .any(|f| matches!(&f.member, syn::Member::Named(i) if i == UNKNOWN_FIELDS));
            if !is_self || has || expr.rest.is_some() {
                return;
            }
            let unknown = format_ident!("{UNKNOWN_FIELDS}");
            let value: syn::FieldValue = if *converts {
                syn::parse_quote!(#unknown: value.#unknown)
            } else {
                syn::parse_quote!(#unknown: ::std::default::Default::default())
            };
            expr.fields.push(value);
        }
    }
    for item in items.iter_mut() {
        if let syn::Item::Mod(module) = item
            && module.ident == "builder"
            && let Some((_, builder_items)) = module.content.as_mut()
        {
            for builder_item in builder_items.iter_mut() {
                if let syn::Item::Struct(s) = builder_item
                    && objects.contains(&s.ident.to_string())
                    && let syn::Fields::Named(fields) = &mut s.fields
                {
                    let unknown = format_ident!("{UNKNOWN_FIELDS}");
                    fields
                        .named
                        .push(syn::parse_quote!(#unknown: client_core::json::UnknownFields));
                }
            }
        }
    }
    let mut visitor = Literals {
        objects,
        current: None,
    };
    for item in items.iter_mut() {
        visitor.visit_item_mut(item);
    }
}
