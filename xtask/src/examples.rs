//! The vendor's own examples as a test oracle.
//!
//! Every `example` and `examples` of the normalised document (media types of
//! request and response bodies, parameters, component schemas and their
//! properties) is paired with the generated Rust type it must decode into,
//! found in the generated code itself: an operation's `send_raw()` return type
//! for its success and error bodies, its builder's fields for the request
//! body and parameters, a component's type and its struct fields for schema
//! examples. The pairs go to `codegen/examples.json`, and a generated test
//! (`tests/examples.rs`) decodes each one, encodes it again and compares the
//! JSON through `client_core::testing::examples`.
//!
//! Nothing here is written per API: a new API gets its oracle from its
//! document. An example the generator cannot place is listed with the
//! reason, and so is one skipped on purpose (`[[codegen.example_skips]]`),
//! and the test prints both lists.

use std::collections::{BTreeMap, BTreeSet};

use quote::{ToTokens, quote};
use serde_json::{Value, json};
use syn::visit_mut::VisitMut;

use crate::document::escape_pointer;
use crate::names::rust_type_name;
use crate::normalize::{METHODS, rust_ident};
use crate::source::Settings;

/// One example and the type it decodes into.
pub struct Example {
    /// JSON pointer of the example in the normalised document.
    pub pointer: String,
    /// The Rust type, as a path from the client crate's root (`types::Plan`).
    pub rust_type: syn::Type,
    /// The example.
    pub value: Value,
    /// Properties the example leaves out that have a schema `default`: the
    /// generated type writes them, and writing the default is no change.
    pub defaults: BTreeMap<String, Value>,
}

/// Every example of a document, placed or not.
#[derive(Default)]
pub struct Examples {
    /// Examples with a type.
    pub placed: Vec<Example>,
    /// Examples without one: pointer and why.
    pub skipped: Vec<(String, String)>,
}

/// What the generated client says about one operation.
#[derive(Default)]
struct Operation {
    success: Option<syn::Type>,
    error: Option<syn::Type>,
    fields: BTreeMap<String, syn::Type>,
}

/// Collects the examples of `doc` and their types in `client`.
pub fn collect(doc: &Value, client: &syn::File, settings: &Settings) -> Examples {
    let index = Index::new(client);
    let mut out = Examples::default();
    let skips: BTreeMap<&str, &str> = settings
        .example_skips
        .iter()
        .map(|s| (s.pointer.as_str(), s.reason.as_str()))
        .collect();
    let push = |out: &mut Examples,
                pointer: String,
                ty: Result<syn::Type, String>,
                value: &Value,
                schema: Option<&Value>| {
        if let Some(reason) = skips.get(pointer.as_str()) {
            out.skipped
                .push((pointer, format!("skipped on purpose: {reason}")));
            return;
        }
        match ty {
            Ok(rust_type) => {
                let mut defaults = BTreeMap::new();
                if let Some(schema) = schema {
                    defaults_of(doc, schema, value, "", &mut defaults, 0);
                }
                out.placed.push(Example {
                    pointer,
                    rust_type,
                    value: value.clone(),
                    defaults,
                });
            }
            Err(reason) => out.skipped.push((pointer, reason)),
        }
    };

    if let Some(paths) = doc.get("paths").and_then(Value::as_object) {
        for (path, item) in paths {
            for method in METHODS {
                let Some(op) = item.get(method) else { continue };
                let pointer = format!("/paths/{}/{method}", escape_pointer(path));
                let id = op
                    .get("operationId")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let operation = index.operation(&rust_ident(id));
                if let Some(responses) = op.get("responses").and_then(Value::as_object) {
                    for (code, response) in responses {
                        let ty = match operation {
                            None => Err(format!("no generated operation `{}`", rust_ident(id))),
                            Some(o) if code.starts_with('2') => o
                                .success
                                .clone()
                                .ok_or_else(|| "the operation has no success body type".into()),
                            Some(o) => o
                                .error
                                .clone()
                                .ok_or_else(|| "the operation has no error body type".into()),
                        };
                        let at = format!("{pointer}/responses/{}", escape_pointer(code));
                        for (p, value, schema) in media_examples(doc, response, &at) {
                            push(&mut out, p, ty.clone(), value, schema);
                        }
                    }
                }
                if let Some(body) = op.get("requestBody") {
                    let ty = operation
                        .and_then(|o| o.fields.get("body").cloned())
                        .ok_or_else(|| "the operation's builder has no body".to_owned());
                    for (p, value, schema) in
                        media_examples(doc, body, &format!("{pointer}/requestBody"))
                    {
                        push(&mut out, p, ty.clone(), value, schema);
                    }
                }
                for (key, parameters) in [
                    ("parameters", op.get("parameters")),
                    ("path", item.get("parameters")),
                ] {
                    for (i, parameter) in parameters
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .enumerate()
                    {
                        let name = parameter
                            .get("name")
                            .and_then(Value::as_str)
                            .unwrap_or_default();
                        let ty = operation
                            .and_then(|o| o.fields.get(&rust_ident(name)).cloned())
                            .map(strip_option)
                            .ok_or_else(|| format!("no builder field for the parameter `{name}`"));
                        let at = if key == "path" {
                            format!("/paths/{}/parameters/{i}", escape_pointer(path))
                        } else {
                            format!("{pointer}/parameters/{i}")
                        };
                        let schema = parameter.get("schema");
                        for (p, value) in own_examples(doc, parameter, &at) {
                            push(&mut out, p, ty.clone(), value, schema);
                        }
                        if let Some(schema) = schema {
                            for (p, value) in own_examples(doc, schema, &format!("{at}/schema")) {
                                push(&mut out, p, ty.clone(), value, Some(schema));
                            }
                        }
                    }
                }
            }
        }
    }

    if let Some(schemas) = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
    {
        for (name, schema) in schemas {
            let at = format!("/components/schemas/{}", escape_pointer(name));
            let rust = rust_type_name(name);
            let ty = index.types.get(&rust).cloned().ok_or_else(|| {
                format!("no generated type `{rust}` (a replaced or converted schema)")
            });
            for (p, value) in own_examples(doc, schema, &at) {
                push(&mut out, p, ty.clone(), value, Some(schema));
            }
            if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
                for (property, child) in properties {
                    let field = index
                        .fields
                        .get(&rust)
                        .and_then(|f| f.get(property))
                        .cloned()
                        .ok_or_else(|| format!("no field `{property}` in the generated `{rust}`"));
                    let child_at = format!("{at}/properties/{}", escape_pointer(property));
                    for (p, value) in own_examples(doc, child, &child_at) {
                        push(&mut out, p, field.clone(), value, Some(child));
                    }
                }
            }
        }
    }
    out
}

/// `example` and `examples/*` of a parameter or schema (`examples` of a
/// schema is a 3.1 array, already turned into `example` by normalisation).
fn own_examples<'d>(doc: &'d Value, item: &'d Value, pointer: &str) -> Vec<(String, &'d Value)> {
    let mut out = Vec::new();
    if let Some(example) = item.get("example") {
        out.push((format!("{pointer}/example"), example));
    }
    if let Some(examples) = item.get("examples").and_then(Value::as_object) {
        for (name, example) in examples {
            let example = resolve_example(doc, example);
            if let Some(value) = example.get("value") {
                out.push((
                    format!("{pointer}/examples/{}/value", escape_pointer(name)),
                    value,
                ));
            }
        }
    }
    out
}

/// The examples of every media type of a body or response, and those of
/// the schema at its root, each with the schema it follows.
#[allow(clippy::type_complexity, reason = "a private list of triples")]
fn media_examples<'d>(
    doc: &'d Value,
    item: &'d Value,
    pointer: &str,
) -> Vec<(String, &'d Value, Option<&'d Value>)> {
    let mut out = Vec::new();
    let item = resolve_component(doc, item);
    if let Some(content) = item.get("content").and_then(Value::as_object) {
        for (media, value) in content {
            if !media.contains("json") {
                continue;
            }
            let at = format!("{pointer}/content/{}", escape_pointer(media));
            let schema = value.get("schema");
            out.extend(
                own_examples(doc, value, &at)
                    .into_iter()
                    .map(|(p, v)| (p, v, schema)),
            );
            if let Some(schema) = schema
                && schema.get("$ref").is_none()
            {
                out.extend(
                    own_examples(doc, schema, &format!("{at}/schema"))
                        .into_iter()
                        .map(|(p, v)| (p, v, Some(schema))),
                );
            }
        }
    }
    out
}

/// The `default`s of properties `example` leaves out, by JSON pointer into
/// the example (objects and arrays followed; a union's branch is unknown, so
/// unions are not).
fn defaults_of(
    doc: &Value,
    schema: &Value,
    example: &Value,
    path: &str,
    out: &mut BTreeMap<String, Value>,
    depth: usize,
) {
    if depth > 32 {
        return;
    }
    let resolved = resolve_component(doc, schema);
    match example {
        Value::Object(map) => {
            for (name, property) in properties(doc, resolved, 0) {
                let here = format!("{path}/{}", escape_pointer(&name));
                match map.get(&name) {
                    Some(child) => defaults_of(doc, &property, child, &here, out, depth + 1),
                    None => {
                        let default = property
                            .get("default")
                            .or_else(|| resolve_component(doc, &property).get("default"));
                        if let Some(default) = default {
                            out.insert(here, default.clone());
                        }
                    }
                }
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = resolved.get("items") {
                for (i, item) in items.iter().enumerate() {
                    defaults_of(
                        doc,
                        item_schema,
                        item,
                        &format!("{path}/{i}"),
                        out,
                        depth + 1,
                    );
                }
            }
        }
        _ => {}
    }
}

/// The properties of an object schema, its `allOf` members' included.
fn properties(doc: &Value, schema: &Value, depth: usize) -> Vec<(String, Value)> {
    let schema = resolve_component(doc, schema);
    let mut out = Vec::new();
    if depth > 8 {
        return out;
    }
    for member in schema
        .get("allOf")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        out.extend(properties(doc, member, depth + 1));
    }
    if let Some(props) = schema.get("properties").and_then(Value::as_object) {
        out.extend(props.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    out
}

fn resolve_example<'d>(doc: &'d Value, example: &'d Value) -> &'d Value {
    resolve_component(doc, example)
}

/// Follows a `$ref` to `#/components/...`.
fn resolve_component<'d>(doc: &'d Value, item: &'d Value) -> &'d Value {
    match item
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix('#'))
    {
        Some(pointer) => doc.pointer(pointer).unwrap_or(item),
        None => item,
    }
}

/// `Option<T>` -> `T`: a parameter's example is a value, not an absence.
fn strip_option(ty: syn::Type) -> syn::Type {
    if let syn::Type::Path(path) = &ty
        && let Some(last) = path.path.segments.last()
        && last.ident == "Option"
        && let syn::PathArguments::AngleBracketed(args) = &last.arguments
        && let Some(syn::GenericArgument::Type(inner)) = args.args.first()
    {
        return inner.clone();
    }
    ty
}

/// The generated client, indexed: operations by method name, types and
/// struct fields by name.
struct Index {
    operations: BTreeMap<String, Operation>,
    types: BTreeMap<String, syn::Type>,
    /// Struct name -> JSON property name -> field type.
    fields: BTreeMap<String, BTreeMap<String, syn::Type>>,
}

impl Index {
    fn new(file: &syn::File) -> Self {
        let mut index = Index {
            operations: BTreeMap::new(),
            types: BTreeMap::new(),
            fields: BTreeMap::new(),
        };
        let mut builder_of = BTreeMap::new();
        let mut builders: BTreeMap<String, Operation> = BTreeMap::new();
        let mut type_names = BTreeSet::new();
        for item in &file.items {
            match item {
                syn::Item::Impl(imp) if is_path(&imp.self_ty, "Client") && imp.trait_.is_none() => {
                    for f in imp.items.iter().filter_map(|i| match i {
                        syn::ImplItem::Fn(f) => Some(f),
                        _ => None,
                    }) {
                        if let syn::ReturnType::Type(_, ty) = &f.sig.output
                            && let Some(name) = last_ident(ty)
                        {
                            builder_of.insert(f.sig.ident.to_string(), name);
                        }
                    }
                }
                syn::Item::Mod(module) if module.ident == "types" => {
                    for item in module.content.iter().flat_map(|c| &c.1) {
                        let (name, fields) = match item {
                            syn::Item::Struct(s) => (s.ident.to_string(), Some(&s.fields)),
                            syn::Item::Enum(e) => (e.ident.to_string(), None),
                            _ => continue,
                        };
                        type_names.insert(name.clone());
                        let ident = syn::Ident::new(&name, proc_macro2::Span::call_site());
                        index
                            .types
                            .insert(name.clone(), syn::parse_quote!(types::#ident));
                        if let Some(syn::Fields::Named(named)) = fields {
                            let mut by_key = BTreeMap::new();
                            for field in &named.named {
                                let Some(ident) = &field.ident else { continue };
                                let key = rename_of(&field.attrs).unwrap_or_else(|| {
                                    let raw = ident.to_string();
                                    raw.strip_prefix("r#").unwrap_or(&raw).to_owned()
                                });
                                by_key.insert(key, field.ty.clone());
                            }
                            index.fields.insert(name, by_key);
                        }
                    }
                }
                syn::Item::Mod(module) if module.ident == "builder" => {
                    for item in module.content.iter().flat_map(|c| &c.1) {
                        match item {
                            syn::Item::Struct(s) => {
                                let entry = builders.entry(s.ident.to_string()).or_default();
                                if let syn::Fields::Named(named) = &s.fields {
                                    for field in &named.named {
                                        if let (Some(ident), Some(ty)) =
                                            (&field.ident, result_ok(&field.ty))
                                        {
                                            entry
                                                .fields
                                                .insert(ident.to_string(), from_builder(ty));
                                        }
                                    }
                                }
                            }
                            // The inherent `send_raw` (the `Request` impl's
                            // returns an opaque future).
                            syn::Item::Impl(imp) if imp.trait_.is_none() => {
                                let Some(name) = last_ident(&imp.self_ty) else {
                                    continue;
                                };
                                for f in imp.items.iter().filter_map(|i| match i {
                                    syn::ImplItem::Fn(f) => Some(f),
                                    _ => None,
                                }) {
                                    if f.sig.ident != "send" && f.sig.ident != "send_raw" {
                                        continue;
                                    }
                                    if let syn::ReturnType::Type(_, ty) = &f.sig.output
                                        && let Some((ok, err)) = send_types(ty)
                                    {
                                        let entry = builders.entry(name.clone()).or_default();
                                        entry.success = ok;
                                        entry.error = err;
                                    }
                                }
                            }
                            _ => {}
                        }
                    }
                }
                _ => {}
            }
        }
        for (method, builder) in builder_of {
            if let Some(operation) = builders.remove(&builder) {
                index.operations.insert(method, operation);
            }
        }
        // Field types inside `types` name their neighbours without a path.
        let mut qualify = Qualify { names: &type_names };
        for fields in index.fields.values_mut() {
            for ty in fields.values_mut() {
                qualify.visit_type_mut(ty);
            }
        }
        index
    }

    fn operation(&self, method: &str) -> Option<&Operation> {
        self.operations.get(method)
    }
}

fn is_path(ty: &syn::Type, name: &str) -> bool {
    matches!(ty, syn::Type::Path(p) if p.path.is_ident(name))
}

fn last_ident(ty: &syn::Type) -> Option<String> {
    match ty {
        syn::Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
        _ => None,
    }
}

/// The type arguments of a path type's last segment (`A<B, C>` -> `[B, C]`).
pub(crate) fn generic_args(ty: &syn::Type) -> Vec<syn::Type> {
    let syn::Type::Path(p) = ty else {
        return Vec::new();
    };
    let Some(last) = p.path.segments.last() else {
        return Vec::new();
    };
    match &last.arguments {
        syn::PathArguments::AngleBracketed(args) => args
            .args
            .iter()
            .filter_map(|a| match a {
                syn::GenericArgument::Type(t) => Some(t.clone()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// `Result<T, String>` -> `T`.
fn result_ok(ty: &syn::Type) -> Option<syn::Type> {
    (last_ident(ty).as_deref() == Some("Result")).then(|| generic_args(ty).into_iter().next())?
}

/// `Result<ResponseValue<T>, Error<E>>` -> (T, E), leaving out bodies that
/// are not JSON (`()`, byte streams).
fn send_types(ty: &syn::Type) -> Option<(Option<syn::Type>, Option<syn::Type>)> {
    let args = generic_args(ty);
    let json = |outer: Option<&syn::Type>| {
        let inner = generic_args(outer?).into_iter().next()?;
        let text = inner.to_token_stream().to_string();
        (!text.contains("ByteStream") && text != "()").then_some(inner)
    };
    Some((json(args.first()), json(args.get(1))))
}

/// A builder keeps a struct body as `types::builder::X`; the example is an `X`.
fn from_builder(ty: syn::Type) -> syn::Type {
    let text = ty.to_token_stream().to_string().replace(' ', "");
    match text.strip_prefix("types::builder::") {
        Some(rest) => syn::parse_str(&format!("types::{rest}")).unwrap_or(ty),
        None => ty,
    }
}

fn rename_of(attrs: &[syn::Attribute]) -> Option<String> {
    let mut rename = None;
    for attr in attrs.iter().filter(|a| a.path().is_ident("serde")) {
        let _ = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("rename") {
                let value: syn::LitStr = meta.value()?.parse()?;
                rename = Some(value.value());
            } else if meta.input.peek(syn::Token![=]) {
                let _: syn::LitStr = meta.value()?.parse()?;
            }
            Ok(())
        });
    }
    rename
}

/// Prefixes `types::` to names of the types module used without a path.
struct Qualify<'n> {
    names: &'n BTreeSet<String>,
}

impl VisitMut for Qualify<'_> {
    fn visit_type_path_mut(&mut self, ty: &mut syn::TypePath) {
        syn::visit_mut::visit_type_path_mut(self, ty);
        if ty.qself.is_none()
            && ty.path.leading_colon.is_none()
            && ty.path.segments.len() == 1
            && self.names.contains(&ty.path.segments[0].ident.to_string())
        {
            let segment = ty.path.segments[0].clone();
            ty.path = syn::parse_quote!(types::#segment);
        }
    }
}

/// Makes `types::X` paths absolute in crate `krate`.
struct Absolute<'k> {
    krate: &'k syn::Ident,
}

impl VisitMut for Absolute<'_> {
    fn visit_type_path_mut(&mut self, ty: &mut syn::TypePath) {
        syn::visit_mut::visit_type_path_mut(self, ty);
        if ty.path.leading_colon.is_none()
            && ty.path.segments.first().is_some_and(|s| s.ident == "types")
        {
            let krate = self.krate;
            let rest = &ty.path.segments;
            ty.path = syn::parse_quote!(#krate::#rest);
        }
    }
}

impl Examples {
    /// `codegen/examples.json`: every placed example with its type, then
    /// the skipped ones with their reasons.
    pub fn to_json(&self) -> Value {
        json!({
            "examples": self.placed.iter().map(|e| json!({
                "pointer": e.pointer,
                "type": e.rust_type.to_token_stream().to_string().replace(' ', ""),
                "value": e.value,
                "defaults": e.defaults,
            })).collect::<Vec<_>>(),
            "skipped": self.skipped.iter().map(|(pointer, reason)| json!({
                "pointer": pointer,
                "reason": reason,
            })).collect::<Vec<_>>(),
        })
    }

    /// `tests/examples.rs` of the client crate `krate` (a Rust identifier).
    pub fn test_source(&self, krate: &str, api: &str) -> String {
        let krate = syn::Ident::new(krate, proc_macro2::Span::call_site());
        let checks = self.placed.iter().enumerate().map(|(i, e)| {
            let mut ty = e.rust_type.clone();
            Absolute { krate: &krate }.visit_type_mut(&mut ty);
            quote! { oracle.check::<#ty>(#i); }
        });
        quote! {
            #![allow(clippy::unwrap_used, reason = "a test fails by panicking")]
            //! The document's own examples, decoded into the generated types
            //! and encoded again: the test oracle nobody here wrote.

            #[test]
            fn every_example_decodes_and_round_trips() {
                let mut oracle = client_core::testing::examples::Oracle::new(
                    #api,
                    include_str!("../codegen/examples.json"),
                );
                #(#checks)*
                oracle.finish();
            }
        }
        .to_string()
    }
}
