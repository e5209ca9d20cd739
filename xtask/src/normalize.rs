//! Normalisation: turn what real generators emit into the clean OpenAPI 3.0.x
//! that progenitor accepts.
//!
//! Each rule is small, deterministic and reported (see [`crate::report`]).
//! What cannot be fixed mechanically ends in an [`Unsupported`] error that
//! names the place in the document and the way out, instead of a panic deep
//! inside progenitor.
//!
//! Rules, by family:
//! - `swagger-2.0/*`: Swagger 2.0 documents are converted to OpenAPI 3.0.3
//!   first (see [`crate::swagger2`]).
//! - `openapi-3.1/*`: 3.1 documents (FastAPI and friends) are rewritten to 3.0.3:
//!   `type: [T, "null"]`, `anyOf`/`oneOf` with a `null` branch, `type: "null"`,
//!   `const`, `examples` arrays in schemas, numeric `exclusiveMinimum`/`Maximum`,
//!   and 3.1-only keywords.
//! - `schema/*`: `$ref` with sibling keys, non-numeric bounds.
//! - `media/*`: Swashbuckle's repeated media types (`text/plain`, `text/json`,
//!   `application/*+json`, `application/problem+json`) collapse to one
//!   `application/json`; bodies progenitor cannot send (multipart) are removed.
//! - `operation/*`: missing or colliding operationIds, duplicate tags,
//!   parameters that collide once made Rust identifiers, more than one success
//!   or error body type.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{Result, bail};
use heck::ToSnakeCase;
use serde_json::{Map, Value, json};

use crate::document::escape_pointer;
use crate::report::Report;
use crate::source::{Conversion, ExternalRefs, Settings};

const STAGE: &str = "normalise";

/// Whether typify would give two of `values` one variant name: it tries
/// the Pascal-cased value with non-identifier characters as separators,
/// then with them spelled `X`, and panics when both collide.
fn variant_names_collide(values: &[&str]) -> bool {
    use heck::ToPascalCase;
    let sanitize = |input: &str| {
        let out = input
            .replace('\'', "")
            .replace(|c: char| !unicode_ident::is_xid_continue(c), "-")
            .to_pascal_case();
        match out.chars().next() {
            Some(c) if unicode_ident::is_xid_start(c) => out,
            _ => format!("X{out}"),
        }
    };
    let unique = |names: Vec<String>| names.iter().collect::<BTreeSet<_>>().len() == names.len();
    let simple = values.iter().map(|v| sanitize(v)).collect();
    if unique(simple) {
        return false;
    }
    let spelled = values
        .iter()
        .map(|v| {
            sanitize(&v.replace(
                |c: char| c == '_' || !unicode_ident::is_xid_continue(c),
                "X",
            ))
        })
        .collect();
    !unique(spelled)
}

/// `pattern` rewritten from Python's dialect (named groups `(?P<name>...)`
/// and backreferences `(?P=name)`) to ECMAScript's, when that is all that
/// stops `regress` from compiling it.
fn translate_pattern(pattern: &str) -> Option<String> {
    let mut out = String::with_capacity(pattern.len());
    let mut rest = pattern;
    while let Some(at) = rest.find("(?P") {
        // An escaped parenthesis is a literal, not a group.
        let escaped = rest[..at].chars().rev().take_while(|c| *c == '\\').count() % 2 == 1;
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        if escaped {
            out.push_str("(?P");
            rest = &tail[3..];
        } else if let Some(after) = tail.strip_prefix("(?P<") {
            out.push_str("(?<");
            rest = after;
        } else if let Some(after) = tail.strip_prefix("(?P=") {
            let end = after.find(')')?;
            out.push_str(&format!("\\k<{}>", &after[..end]));
            rest = &after[end + 1..];
        } else {
            return None;
        }
    }
    out.push_str(rest);
    (out != pattern && regress::Regex::new(&out).is_ok()).then_some(out)
}

/// HTTP methods of a path item, in the order progenitor visits them.
pub const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// A part of a document that normalisation cannot fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsupported {
    /// JSON pointer to the offending place.
    pub pointer: String,
    /// What is wrong.
    pub what: String,
    /// How the user gets past it.
    pub way_out: String,
}

impl std::fmt::Display for Unsupported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "at `{}`: {}\n    way out: {}",
            self.pointer, self.what, self.way_out
        )
    }
}

/// Normalises `doc` in place, recording every change in `report`.
#[cfg(test)]
pub fn normalise(doc: &mut Value, report: &mut Report) -> Result<()> {
    normalise_with(doc, &crate::source::Settings::default(), report)
}

/// Normalises `doc` in place and applies the API's schema conversions.
pub fn normalise_with(doc: &mut Value, settings: &Settings, report: &mut Report) -> Result<()> {
    let mut n = Normaliser {
        report,
        errors: Vec::new(),
        conversions: &settings.conversions,
        external: settings.external_refs,
    };
    n.version(doc)?;
    n.external_refs(doc, "");
    n.fail_if_errors()?;
    n.deep_refs(doc);
    n.top_level(doc);
    n.all_schemas(doc);
    n.merge_cycles(doc);
    n.recursive_merges(doc);
    n.operations(doc);
    n.add_conversion_targets(doc);
    crate::unions::unions(doc, n.report);
    crate::names::unique_titles(doc, n.report);
    n.dangling_refs(doc);
    n.fail_if_errors()
}

struct Normaliser<'r> {
    report: &'r mut Report,
    errors: Vec<Unsupported>,
    conversions: &'r [Conversion],
    external: ExternalRefs,
}

/// Keys that give a schema structure of its own; such a schema is never converted.
const STRUCTURAL: [&str; 9] = [
    "properties",
    "items",
    "enum",
    "allOf",
    "anyOf",
    "oneOf",
    "not",
    "additionalProperties",
    "$ref",
];

/// Keys kept next to the reference when a schema is converted.
const KEPT_ON_CONVERSION: [&str; 6] = [
    "description",
    "title",
    "nullable",
    "deprecated",
    "readOnly",
    "writeOnly",
];

impl Normaliser<'_> {
    /// Replaces a schema matched by a conversion with a reference to the
    /// conversion's placeholder component (which progenitor then replaces
    /// with the Rust type).
    fn convert(&mut self, map: &mut Map<String, Value>, pointer: &str) {
        if STRUCTURAL.iter().any(|k| map.contains_key(*k)) {
            return;
        }
        let Some(conversion) = self
            .conversions
            .iter()
            .find(|c| c.matches.iter().all(|(k, v)| map.get(k) == Some(v)))
        else {
            return;
        };
        let reference = json!({ "$ref": format!("#/components/schemas/{}", conversion.name) });
        let kept: Map<String, Value> = KEPT_ON_CONVERSION
            .iter()
            .filter_map(|k| map.get(*k).map(|v| ((*k).to_owned(), v.clone())))
            .collect();
        map.clear();
        if kept.is_empty() {
            map.extend(reference.as_object().cloned().unwrap_or_default());
        } else {
            map.extend(kept);
            map.insert("allOf".into(), json!([reference]));
        }
        self.note(
            "conversion/schema",
            pointer,
            format!(
                "generated as `{}` (conversion `{}`)",
                conversion.rust_type, conversion.name
            ),
        );
    }

    /// The placeholder components that converted schemas refer to. They are
    /// added after the walk, so they are not converted themselves.
    fn add_conversion_targets(&mut self, doc: &mut Value) {
        if self.conversions.is_empty() {
            return;
        }
        let Some(root) = doc.as_object_mut() else {
            return;
        };
        let components = root.entry("components").or_insert_with(|| json!({}));
        let Some(components) = components.as_object_mut() else {
            return;
        };
        let schemas = components.entry("schemas").or_insert_with(|| json!({}));
        let Some(schemas) = schemas.as_object_mut() else {
            return;
        };
        for conversion in self.conversions {
            let mut placeholder = conversion.matches.clone();
            placeholder.insert(
                "description".into(),
                json!(format!(
                    "Generated as `{}` (a codegen conversion).",
                    conversion.rust_type
                )),
            );
            schemas.insert(conversion.name.clone(), Value::Object(placeholder));
        }
    }

    fn note(&mut self, rule: &'static str, pointer: &str, message: impl Into<String>) {
        self.report.push(STAGE, rule, pointer, message);
    }

    fn unsupported(&mut self, pointer: &str, what: impl Into<String>, way_out: impl Into<String>) {
        self.errors.push(Unsupported {
            pointer: pointer.to_owned(),
            what: what.into(),
            way_out: way_out.into(),
        });
    }

    fn fail_if_errors(&mut self) -> Result<()> {
        if self.errors.is_empty() {
            return Ok(());
        }
        let list = self
            .errors
            .iter()
            .map(|e| format!("  - {e}"))
            .collect::<Vec<_>>()
            .join("\n");
        bail!(
            "the document has {} problem(s) that normalisation cannot fix:\n{list}",
            self.errors.len()
        )
    }

    // ---------------------------------------------------------------- version

    fn version(&mut self, doc: &mut Value) -> Result<()> {
        if let Some(swagger) = doc.get("swagger").cloned() {
            if swagger != "2.0" {
                bail!(
                    "{}",
                    Unsupported {
                        pointer: "/swagger".into(),
                        what: format!("Swagger version {swagger} is not supported"),
                        way_out: "only Swagger 2.0 and OpenAPI 3.0 and 3.1 documents can be generated from".into(),
                    }
                );
            }
            crate::swagger2::convert(doc, self.report);
            return Ok(());
        }
        let Some(version) = doc
            .get("openapi")
            .and_then(Value::as_str)
            .map(str::to_owned)
        else {
            bail!(
                "{}",
                Unsupported {
                    pointer: "/openapi".into(),
                    what: "there is no `openapi` version field: this is not an OpenAPI document"
                        .into(),
                    way_out: "check that `document` in SOURCE.toml names the OpenAPI file".into(),
                }
            );
        };
        if version.starts_with("3.0.") {
            return Ok(());
        }
        if version.starts_with("3.1.") {
            doc["openapi"] = json!("3.0.3");
            self.note(
                "openapi-3.1/version",
                "/openapi",
                format!("`{version}` rewritten to `3.0.3`"),
            );
            return Ok(());
        }
        bail!(
            "{}",
            Unsupported {
                pointer: "/openapi".into(),
                what: format!("OpenAPI version `{version}` is not supported"),
                way_out: "only 3.0.x and 3.1.x documents can be generated from".into(),
            }
        )
    }

    fn external_refs(&mut self, node: &mut Value, pointer: &str) {
        match node {
            Value::Object(map) => {
                if let Some(Value::String(target)) = map.get("$ref")
                    && !target.starts_with('#')
                {
                    let target = target.clone();
                    // A path item is not a schema: nothing can stand in for it.
                    let path_item =
                        pointer.starts_with("/paths/") && pointer.matches('/').count() == 2;
                    if self.external == ExternalRefs::FreeForm && !path_item {
                        map.shift_remove("$ref");
                        map.insert(
                            "description".into(),
                            json!(format!("Any JSON value: the document refers to `{target}`, which is not published with it.")),
                        );
                        self.note(
                            "schema/external-ref",
                            pointer,
                            format!("`$ref: {target}` points outside the document; read as any JSON value (`external_refs = \"free-form\"`)"),
                        );
                        return;
                    }
                    self.unsupported(
                        pointer,
                        format!("`$ref: {target}` points outside the document"),
                        if path_item {
                            "bundle the document into one file first (e.g. `npx @redocly/cli bundle`), or inline \
                             the path item with an overlay `update`"
                        } else {
                            "bundle the document into one file first (e.g. `npx @redocly/cli bundle`), inline the \
                             referenced part with an overlay `update`, or, when the vendor never published that \
                             file, set `external_refs = \"free-form\"` under `[codegen]` in SOURCE.toml"
                        },
                    );
                }
                for (key, value) in map.iter_mut() {
                    if is_extension(pointer, key) {
                        continue;
                    }
                    let child = format!("{pointer}/{}", escape_pointer(key));
                    self.external_refs(value, &child);
                }
            }
            Value::Array(items) => {
                for (i, item) in items.iter_mut().enumerate() {
                    self.external_refs(item, &format!("{pointer}/{i}"));
                }
            }
            _ => {}
        }
    }

    // -------------------------------------------------------------- top level

    fn top_level(&mut self, doc: &mut Value) {
        let Some(map) = doc.as_object_mut() else {
            return;
        };
        for key in ["webhooks", "jsonSchemaDialect"] {
            if map.shift_remove(key).is_some() {
                self.note(
                    "openapi-3.1/top-level",
                    &format!("/{key}"),
                    format!("`{key}` does not exist in 3.0; removed"),
                );
            }
        }
        if let Some(Value::Object(info)) = map.get_mut("info") {
            for key in ["summary"] {
                if info.shift_remove(key).is_some() {
                    self.note(
                        "openapi-3.1/top-level",
                        &format!("/info/{key}"),
                        "3.1-only field removed",
                    );
                }
            }
            if let Some(Value::Object(license)) = info.get_mut("license")
                && license.shift_remove("identifier").is_some()
            {
                self.note(
                    "openapi-3.1/top-level",
                    "/info/license/identifier",
                    "3.1-only field removed",
                );
            }
        }
        if let Some(Value::Object(components)) = map.get_mut("components")
            && components.shift_remove("pathItems").is_some()
        {
            self.note(
                "openapi-3.1/top-level",
                "/components/pathItems",
                "3.1-only field removed",
            );
        }
        if !map.contains_key("paths") {
            map.insert("paths".into(), json!({}));
            self.note(
                "openapi-3.1/top-level",
                "/paths",
                "3.1 allows a document without paths; added an empty object",
            );
        }
    }

    // ---------------------------------------------------------------- schemas

    /// Visits every schema position of the document.
    fn all_schemas(&mut self, doc: &mut Value) {
        if let Some(Value::Object(components)) = doc.get_mut("components") {
            if let Some(Value::Object(schemas)) = components.get_mut("schemas") {
                for (name, schema) in schemas.iter_mut() {
                    self.schema(
                        schema,
                        &format!("/components/schemas/{}", escape_pointer(name)),
                    );
                }
            }
            for (section, nested) in [
                ("parameters", &["schema"][..]),
                ("headers", &["schema"][..]),
                ("responses", &[][..]),
                ("requestBodies", &[][..]),
            ] {
                if let Some(Value::Object(items)) = components.get_mut(section) {
                    for (name, item) in items.iter_mut() {
                        let pointer = format!("/components/{section}/{}", escape_pointer(name));
                        if nested.is_empty() {
                            self.content_and_headers(item, &pointer);
                        } else {
                            self.parameter_like(item, &pointer);
                        }
                    }
                }
            }
        }
        let Some(Value::Object(paths)) = doc.get_mut("paths") else {
            return;
        };
        for (path, item) in paths.iter_mut() {
            let path_pointer = format!("/paths/{}", escape_pointer(path));
            let Some(item) = item.as_object_mut() else {
                continue;
            };
            for (key, value) in item.iter_mut() {
                let pointer = format!("{path_pointer}/{key}");
                if key == "parameters" {
                    self.parameter_list(value, &pointer);
                } else if METHODS.contains(&key.as_str()) {
                    let Some(op) = value.as_object_mut() else {
                        continue;
                    };
                    for (part, part_value) in op.iter_mut() {
                        let part_pointer = format!("{pointer}/{part}");
                        match part.as_str() {
                            "parameters" => self.parameter_list(part_value, &part_pointer),
                            "requestBody" => self.content_and_headers(part_value, &part_pointer),
                            "responses" => {
                                if let Some(responses) = part_value.as_object_mut() {
                                    for (code, response) in responses.iter_mut() {
                                        self.content_and_headers(
                                            response,
                                            &format!("{part_pointer}/{code}"),
                                        );
                                    }
                                }
                            }
                            _ => {}
                        }
                    }
                }
            }
        }
    }

    fn parameter_list(&mut self, list: &mut Value, pointer: &str) {
        if let Some(items) = list.as_array_mut() {
            for (i, parameter) in items.iter_mut().enumerate() {
                self.parameter_like(parameter, &format!("{pointer}/{i}"));
            }
        }
    }

    /// A parameter or header: `schema`, or 3.0's rarely used `content` map.
    fn parameter_like(&mut self, item: &mut Value, pointer: &str) {
        let Some(map) = item.as_object_mut() else {
            return;
        };
        if !map.contains_key("schema")
            && let Some(Value::Object(content)) = map.get("content")
            && let Some((media, media_value)) = content.iter().next()
        {
            let schema = media_value
                .get("schema")
                .cloned()
                .unwrap_or_else(|| json!({"type": "string"}));
            let media = media.clone();
            map.shift_remove("content");
            map.insert("schema".into(), schema);
            self.note(
                "schema/parameter-content",
                pointer,
                format!("parameter described by `content` ({media}); progenitor needs `schema`, so the {media} schema is used"),
            );
        }
        if let Some(schema) = map.get_mut("schema") {
            self.schema(schema, &format!("{pointer}/schema"));
        }
    }

    fn content_and_headers(&mut self, item: &mut Value, pointer: &str) {
        let Some(map) = item.as_object_mut() else {
            return;
        };
        if let Some(Value::Object(content)) = map.get_mut("content") {
            for (media, media_value) in content.iter_mut() {
                if let Some(media_map) = media_value.as_object_mut()
                    && media_map
                        .get("schema")
                        .is_some_and(|s| !s.is_object() && !s.is_boolean())
                {
                    media_map.shift_remove("schema");
                    self.note(
                        "media/no-schema",
                        &format!("{pointer}/content/{}/schema", escape_pointer(media)),
                        "`schema` is not a schema object; treated as absent",
                    );
                }
                if let Some(media_map) = media_value.as_object_mut()
                    && !media_map.contains_key("schema")
                {
                    let json_like = essence(media).ends_with("json");
                    let schema = if json_like {
                        json!({})
                    } else {
                        json!({"type": "string", "format": "binary"})
                    };
                    self.note(
                        "media/no-schema",
                        &format!("{pointer}/content/{}", escape_pointer(media)),
                        if json_like {
                            "media type without a schema: any JSON value"
                        } else {
                            "media type without a schema: raw bytes"
                        },
                    );
                    media_map.insert("schema".into(), schema);
                }
                if let Some(schema) = media_value.get_mut("schema") {
                    self.schema(
                        schema,
                        &format!("{pointer}/content/{}/schema", escape_pointer(media)),
                    );
                }
            }
        }
        if let Some(Value::Object(headers)) = map.get_mut("headers") {
            for (name, header) in headers.iter_mut() {
                self.parameter_like(
                    header,
                    &format!("{pointer}/headers/{}", escape_pointer(name)),
                );
            }
        }
    }

    /// Rewrites one schema, then its children.
    fn schema(&mut self, node: &mut Value, pointer: &str) {
        if let Value::Bool(b) = node {
            let replacement = if *b { json!({}) } else { json!({"not": {}}) };
            self.note(
                "openapi-3.1/boolean-schema",
                pointer,
                format!("boolean schema `{b}` written as an object schema"),
            );
            *node = replacement;
        }
        let Some(map) = node.as_object_mut() else {
            return;
        };
        self.rewrite(map, pointer);
        self.invalid_type(map, pointer);
        for key in ["properties", "patternProperties"] {
            if let Some(Value::Object(children)) = map.get_mut(key) {
                for (name, child) in children.iter_mut() {
                    self.schema(child, &format!("{pointer}/{key}/{}", escape_pointer(name)));
                }
            }
        }
        for key in ["allOf", "anyOf", "oneOf"] {
            if let Some(Value::Array(children)) = map.get_mut(key) {
                for (i, child) in children.iter_mut().enumerate() {
                    self.schema(child, &format!("{pointer}/{key}/{i}"));
                }
            }
        }
        for key in ["items", "additionalProperties", "not"] {
            if let Some(child) = map.get_mut(key)
                && child.is_object()
            {
                self.schema(child, &format!("{pointer}/{key}"));
            }
        }
    }

    /// A `type` that names no JSON Schema type (after the 3.1 rewrites,
    /// which may move a branch's `type` up).
    fn invalid_type(&mut self, map: &mut Map<String, Value>, pointer: &str) {
        // A `type` that names no JSON Schema type.
        if let Some(t) = map.get("type")
            && !matches!(
                t.as_str(),
                Some("string" | "number" | "integer" | "boolean" | "array" | "object" | "null")
            )
        {
            self.unsupported(
                &format!("{pointer}/type"),
                format!("`type: {t}` is not a JSON Schema type"),
                "set one of string, number, integer, boolean, array, object with an overlay `update`",
            );
            map.shift_remove("type");
        }
    }

    fn rewrite(&mut self, map: &mut Map<String, Value>, pointer: &str) {
        // `$ref` with siblings: 3.0 ignores the siblings (and openapiv3 drops
        // them silently); `allOf` keeps both the reference and e.g. `nullable`.
        if map.contains_key("$ref") && map.len() > 1 {
            let reference = map.shift_remove("$ref").unwrap_or(Value::Null);
            let siblings: Vec<String> = map.keys().cloned().collect();
            map.insert("allOf".into(), json!([{ "$ref": reference }]));
            self.note(
                "schema/ref-siblings",
                pointer,
                format!(
                    "`$ref` with sibling keys ({}) wrapped in `allOf` so the siblings take effect",
                    siblings.join(", ")
                ),
            );
        }
        if map.contains_key("$ref") {
            return;
        }

        // Properties whose Rust field names collide (`id` and `ID`): typify
        // would declare the field twice. The first keeps its field; the
        // others leave the typed fields and, like every key the schema does
        // not describe, are kept as sent in `unknown_fields`.
        if let Some(Value::Object(properties)) = map.get("properties") {
            let required: BTreeSet<String> = map
                .get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect();
            // Which property keeps each field: a required one, else the first.
            let mut fields: BTreeMap<String, String> = BTreeMap::new();
            for name in properties.keys() {
                let field = rust_ident(name);
                let replace = fields
                    .get(&field)
                    .is_some_and(|kept| !required.contains(kept) && required.contains(name));
                if replace || !fields.contains_key(&field) {
                    fields.insert(field, name.clone());
                }
            }
            let mut moved: Vec<(String, String)> = properties
                .keys()
                .filter_map(|name| {
                    let kept = fields.get(&rust_ident(name))?;
                    (kept != name).then(|| (name.clone(), kept.clone()))
                })
                .collect();
            // A required name that is no property gets a field of its own
            // too (`required: [ID]` beside a property `id`).
            let listed: Vec<String> = map
                .get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .filter(|r| !properties.contains_key(*r))
                .map(str::to_owned)
                .collect();
            for name in listed {
                if let Some(first) = fields.get(&rust_ident(&name)) {
                    moved.push((name, first.clone()));
                }
            }
            if !moved.is_empty() {
                if let Some(Value::Object(properties)) = map.get_mut("properties") {
                    for (name, _) in &moved {
                        properties.shift_remove(name);
                    }
                }
                if let Some(Value::Array(required)) = map.get_mut("required") {
                    required.retain(|r| !moved.iter().any(|(name, _)| r.as_str() == Some(name)));
                }
                // The moved ones must still be accepted.
                let closed = map.get("additionalProperties") == Some(&Value::Bool(false));
                if closed {
                    map.shift_remove("additionalProperties");
                    self.note(
                        "schema/property-name-collision",
                        pointer,
                        "`additionalProperties: false` removed, so the properties that left the typed fields are \
                         still accepted",
                    );
                }
                let shown: Vec<String> = moved
                    .iter()
                    .map(|(name, first)| format!("`{name}` (beside `{first}`)"))
                    .collect();
                self.note(
                    "schema/property-name-collision",
                    pointer,
                    format!(
                        "properties {} would be the same Rust field; they leave the typed fields and are kept as \
                         sent among the unknown fields (with `[codegen] unknown_fields`, the default)",
                        shown.join(", ")
                    ),
                );
            }
        }

        // An empty `allOf`/`anyOf`/`oneOf` constrains nothing typify can use.
        for key in ["allOf", "anyOf", "oneOf"] {
            if map
                .get(key)
                .is_some_and(|v| v.as_array().is_some_and(Vec::is_empty))
            {
                map.shift_remove(key);
                self.note(
                    "schema/empty-composition",
                    pointer,
                    format!("empty `{key}` list removed"),
                );
            }
        }

        // `allOf` members that only document (`allOf: [{$ref}, {description}]`):
        // typify merges such a list into a copy of the referenced schema
        // under that schema's own name, a second type of the same name. The
        // prose moves up to the schema itself and the member goes.
        if let Some(Value::Array(members)) = map.get("allOf").cloned()
            && members.len() > 1
        {
            let prose_only = |m: &Value| {
                m.as_object().is_some_and(|m| {
                    !m.is_empty()
                        && m.keys().all(|k| {
                            matches!(
                                k.as_str(),
                                "description" | "title" | "example" | "examples" | "deprecated"
                            ) || k.starts_with("x-")
                        })
                })
            };
            let (prose, kept): (Vec<Value>, Vec<Value>) = members.into_iter().partition(prose_only);
            if !prose.is_empty() && !kept.is_empty() {
                for member in &prose {
                    for (key, value) in member.as_object().into_iter().flatten() {
                        if key != "title" && !map.contains_key(key) {
                            map.insert(key.clone(), value.clone());
                        }
                    }
                }
                map.insert("allOf".into(), Value::Array(kept));
                self.note(
                    "schema/allof-prose-member",
                    pointer,
                    format!(
                        "{} `allOf` member(s) carrying only documentation merged into the schema itself",
                        prose.len()
                    ),
                );
            }
        }

        // `type: [T, "null"]`.
        if let Some(Value::Array(types)) = map.get("type").cloned() {
            let nullable = types.iter().any(|t| t == "null");
            let rest: Vec<Value> = types.into_iter().filter(|t| t != "null").collect();
            match rest.len() {
                0 => {
                    map.shift_remove("type");
                }
                1 => {
                    map.insert("type".into(), rest[0].clone());
                }
                _ => {
                    map.shift_remove("type");
                    let branches: Vec<Value> = rest.iter().map(|t| json!({ "type": t })).collect();
                    map.insert("anyOf".into(), Value::Array(branches));
                }
            }
            if nullable {
                map.insert("nullable".into(), json!(true));
            }
            self.note(
                "openapi-3.1/type-array",
                pointer,
                "`type` array rewritten as one type (+ `nullable`) or `anyOf`",
            );
        }

        // A union without `type` with keywords of one kind beside it
        // (`anyOf: [...], maximum: 5`): typify merges them into every branch,
        // and one that is not of that kind cannot take them. They only
        // validate, so they go.
        if !map.contains_key("type") && (map.contains_key("anyOf") || map.contains_key("oneOf")) {
            let beside: Vec<String> = map
                .keys()
                .filter(|k| {
                    matches!(
                        k.as_str(),
                        "minimum"
                            | "maximum"
                            | "exclusiveMinimum"
                            | "exclusiveMaximum"
                            | "multipleOf"
                            | "minLength"
                            | "maxLength"
                            | "pattern"
                            | "minItems"
                            | "maxItems"
                            | "uniqueItems"
                    )
                })
                .cloned()
                .collect();
            if !beside.is_empty() {
                for key in &beside {
                    map.shift_remove(key);
                }
                self.note(
                    "schema/implied-type",
                    pointer,
                    format!(
                        "a union with {} beside it; removed (typify would put them on every branch; they only \
                         validate)",
                        beside.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ")
                    ),
                );
            }
        }

        // No `type`, but keywords that apply to one kind of value only
        // (`exclusiveMaximum` alone): typify cannot convert that; the kind
        // those keywords imply becomes the type.
        if !map.contains_key("type")
            && !["enum", "const", "allOf", "anyOf", "oneOf", "not", "$ref"]
                .iter()
                .any(|k| map.contains_key(*k))
        {
            let kind_of = |k: &str| match k {
                "minimum" | "maximum" | "exclusiveMinimum" | "exclusiveMaximum" | "multipleOf" => {
                    Some("number")
                }
                "minLength" | "maxLength" | "pattern" => Some("string"),
                "items" | "minItems" | "maxItems" | "uniqueItems" => Some("array"),
                "minProperties"
                | "maxProperties"
                | "properties"
                | "additionalProperties"
                | "patternProperties"
                | "required" => Some("object"),
                _ => None,
            };
            let kinds: BTreeSet<&str> = map.keys().filter_map(|k| kind_of(k)).collect();
            match kinds.iter().copied().collect::<Vec<_>>().as_slice() {
                // An object is left untyped: typify reads one from its properties.
                [] | ["object"] => {}
                [kind] => {
                    let kind = *kind;
                    map.insert("type".into(), json!(kind));
                    self.note(
                        "schema/implied-type",
                        pointer,
                        format!("no `type`, but keywords only a {kind} can have; `type: {kind}`"),
                    );
                }
                // Keywords of several kinds (`properties` beside `maxLength`):
                // an object when it has properties, and the keywords that
                // cannot apply go (they only validate); otherwise none holds.
                _ => {
                    let keep = kinds.contains("object").then_some("object");
                    let dropped: Vec<String> = map
                        .keys()
                        .filter(|k| kind_of(k).is_some_and(|kind| Some(kind) != keep))
                        .cloned()
                        .collect();
                    for key in &dropped {
                        map.shift_remove(key);
                    }
                    self.note(
                        "schema/implied-type",
                        pointer,
                        format!(
                            "no `type`, and keywords of several kinds; {} removed (they only validate)",
                            dropped.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ")
                        ),
                    );
                }
            }
        }

        // `type: "null"` alone.
        if map.get("type").is_some_and(|t| t == "null") {
            map.shift_remove("type");
            map.insert("nullable".into(), json!(true));
            self.note(
                "openapi-3.1/type-null",
                pointer,
                "`type: null` rewritten as an untyped nullable schema",
            );
        }

        // `anyOf`/`oneOf` with a null branch.
        for key in ["anyOf", "oneOf"] {
            let Some(Value::Array(branches)) = map.get(key).cloned() else {
                continue;
            };
            let is_null = |b: &Value| {
                b.get("type").is_some_and(|t| t == "null")
                    || b.get("enum").is_some_and(|e| e == &json!([null]))
            };
            if !branches.iter().any(is_null) {
                continue;
            }
            let rest: Vec<Value> = branches.into_iter().filter(|b| !is_null(b)).collect();
            map.shift_remove(key);
            map.insert("nullable".into(), json!(true));
            match rest.as_slice() {
                [] => {}
                [single] if single.get("$ref").is_some() => {
                    map.insert("allOf".into(), json!([single]));
                }
                [Value::Object(single)] if single.keys().all(|k| !map.contains_key(k)) => {
                    for (k, v) in single {
                        map.insert(k.clone(), v.clone());
                    }
                }
                [single] => {
                    map.insert("allOf".into(), json!([single]));
                }
                _ => {
                    map.insert(key.into(), Value::Array(rest));
                }
            }
            self.note(
                "openapi-3.1/null-branch",
                pointer,
                format!("`{key}` with a `null` branch rewritten with `nullable: true`"),
            );
        }

        if let Some(value) = map.shift_remove("const") {
            map.insert("enum".into(), json!([value]));
            self.note(
                "openapi-3.1/const",
                pointer,
                "`const` rewritten as a one-value `enum`",
            );
        }

        if let Some(Value::Array(examples)) = map.get("examples").cloned() {
            map.shift_remove("examples");
            if let Some(first) = examples.into_iter().next()
                && !map.contains_key("example")
            {
                map.insert("example".into(), first);
            }
            self.note(
                "openapi-3.1/examples",
                pointer,
                "schema `examples` array rewritten as `example`",
            );
        }

        for (exclusive, bound) in [
            ("exclusiveMinimum", "minimum"),
            ("exclusiveMaximum", "maximum"),
        ] {
            if let Some(value @ Value::Number(_)) = map.get(exclusive).cloned() {
                map.insert(bound.into(), value);
                map.insert(exclusive.into(), json!(true));
                self.note(
                    "openapi-3.1/exclusive-bound",
                    pointer,
                    format!("numeric `{exclusive}` rewritten as `{bound}` + `{exclusive}: true`"),
                );
            }
        }

        for bound in [
            "minimum",
            "maximum",
            "minLength",
            "maxLength",
            "minItems",
            "maxItems",
            "multipleOf",
        ] {
            if let Some(value) = map.get(bound)
                && !value.is_number()
            {
                let value = value.clone();
                map.shift_remove(bound);
                self.note(
                    "schema/invalid-bound",
                    pointer,
                    format!("`{bound}: {value}` is not a number; removed"),
                );
            }
        }
        for exclusive in ["exclusiveMinimum", "exclusiveMaximum"] {
            if let Some(value) = map.get(exclusive)
                && !value.is_boolean()
            {
                let value = value.clone();
                map.shift_remove(exclusive);
                self.note(
                    "schema/invalid-bound",
                    pointer,
                    format!("`{exclusive}: {value}` is invalid; removed"),
                );
            }
        }

        // A `default` that is not a value of the schema (`"false"` for a
        // boolean): typify refuses the whole document.
        if let Some(default) = map.get("default").cloned()
            && !default.is_null()
        {
            let kind = map.get("type").and_then(Value::as_str).unwrap_or_default();
            let fits = |v: &Value| match kind {
                "string" => v.is_string(),
                "boolean" => v.is_boolean(),
                "integer" => v.is_i64() || v.is_u64(),
                "number" => v.is_number(),
                "array" => v.is_array(),
                "object" => v.is_object(),
                _ => true,
            };
            let in_enum = |v: &Value| {
                map.get("enum")
                    .and_then(Value::as_array)
                    .is_none_or(|values| values.contains(v))
            };
            if !(fits(&default) && in_enum(&default)) {
                let coerced = default.as_str().and_then(|text| match kind {
                    "boolean" => text.trim().parse::<bool>().ok().map(Value::Bool),
                    "integer" => text.trim().parse::<i64>().ok().map(|n| json!(n)),
                    "number" => text
                        .trim()
                        .parse::<f64>()
                        .ok()
                        .and_then(serde_json::Number::from_f64)
                        .map(Value::Number),
                    _ => None,
                });
                match coerced.filter(|v| fits(v) && in_enum(v)) {
                    Some(value) => {
                        self.note(
                            "schema/default-value",
                            pointer,
                            format!("`default: {default}` is not a {kind}; written as `{value}`"),
                        );
                        map.insert("default".into(), value);
                    }
                    None => {
                        map.shift_remove("default");
                        self.note(
                            "schema/default-value",
                            pointer,
                            format!("`default: {default}` is not a value of the schema; removed"),
                        );
                    }
                }
            }
        }

        // `format` without `type`: typify has no rule for it. Beside a
        // shape (`properties`, `items`, ...) it can only be noise
        // (`format: object`).
        if !map.contains_key("type")
            && STRUCTURAL
                .iter()
                .any(|k| *k != "$ref" && map.contains_key(*k))
            && let Some(format) = map.shift_remove("format")
        {
            self.note(
                "schema/format-type",
                pointer,
                format!("`format: {format}` beside a shape and without `type` describes nothing; removed"),
            );
        }
        if !map.contains_key("type")
            && !map.contains_key("enum")
            && !STRUCTURAL.iter().any(|k| map.contains_key(*k))
            && let Some(format) = map.get("format").and_then(Value::as_str).map(str::to_owned)
        {
            let kind = match format.as_str() {
                "float" | "double" | "decimal" | "number" => Some("number"),
                "int32" | "int64" | "integer" | "int" => Some("integer"),
                "date" | "date-time" | "uuid" | "byte" | "binary" | "password" | "email"
                | "uri" | "string" | "hostname" | "ipv4" | "ipv6" => Some("string"),
                _ => None,
            };
            match kind {
                Some(kind) => {
                    map.insert("type".into(), json!(kind));
                    if format == kind || format == "int" {
                        map.shift_remove("format");
                    }
                    self.note(
                        "schema/format-type",
                        pointer,
                        format!("`format: {format}` without `type`: `type: {kind}`"),
                    );
                }
                None => {
                    map.shift_remove("format");
                    self.note(
                        "schema/format-type",
                        pointer,
                        format!(
                            "`format: {format}` without `type` says nothing typify can use; removed"
                        ),
                    );
                }
            }
        }

        // `enum` without `type`: typify cannot tell what the values are.
        if !map.contains_key("type")
            && let Some(Value::Array(values)) = map.get("enum")
            && !values.is_empty()
        {
            let kinds: BTreeSet<&str> = values
                .iter()
                .filter(|v| !v.is_null())
                .map(|v| match v {
                    Value::String(_) => "string",
                    Value::Bool(_) => "boolean",
                    Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
                    Value::Number(_) => "number",
                    _ => "object",
                })
                .collect();
            let kind = match kinds.iter().copied().collect::<Vec<_>>().as_slice() {
                [one] if *one != "object" => Some(*one),
                ["integer", "number"] => Some("number"),
                _ => None,
            };
            match kind {
                Some(kind) => {
                    map.insert("type".into(), json!(kind));
                    let dropped_format = map
                        .get("format")
                        .and_then(Value::as_str)
                        .filter(|_| kind == "string")
                        .filter(|f| ["float", "double", "int32", "int64", "decimal"].contains(f))
                        .map(str::to_owned);
                    if dropped_format.is_some() {
                        map.shift_remove("format");
                    }
                    self.note(
                        "schema/enum-type",
                        pointer,
                        format!(
                            "`enum` without `type`: every value is a {kind}, so `type: {kind}`{}",
                            dropped_format
                                .map(|f| format!(" (its numeric `format: {f}` removed)"))
                                .unwrap_or_default()
                        ),
                    );
                }
                None => {
                    map.shift_remove("enum");
                    self.note(
                        "schema/enum-type",
                        pointer,
                        "`enum` without `type` mixing kinds of values; removed, so any value is accepted",
                    );
                }
            }
        }

        // `enum` values that are not of the schema's `type` (`type: string`,
        // `enum: [1, 2]`): typify rejects them. Without the list every value
        // of the type is accepted, so nothing the server sends is refused.
        if let (Some(Value::String(kind)), Some(Value::Array(values))) =
            (map.get("type"), map.get("enum"))
        {
            let fits = |v: &Value| match (kind.as_str(), v) {
                (_, Value::Null) => true,
                ("string", Value::String(_)) | ("boolean", Value::Bool(_)) => true,
                ("integer", Value::Number(n)) => n.is_i64() || n.is_u64(),
                ("number", Value::Number(_)) => true,
                ("object", Value::Object(_)) | ("array", Value::Array(_)) => true,
                _ => false,
            };
            let strays: Vec<String> = values
                .iter()
                .filter(|v| !fits(v))
                .map(Value::to_string)
                .collect();
            if !strays.is_empty() {
                let kind = kind.clone();
                map.shift_remove("enum");
                self.note(
                    "schema/enum-type",
                    pointer,
                    format!(
                        "`enum` values {} are not of `type: {kind}`; the list is removed, so any {kind} is accepted",
                        strays.join(", ")
                    ),
                );
            }
        }

        // String values that typify cannot name apart (`ASC` and `asc`).
        if let Some(Value::Array(values)) = map.get("enum") {
            let names: Vec<&str> = values.iter().filter_map(Value::as_str).collect();
            if names.len() == values.len() - values.iter().filter(|v| v.is_null()).count()
                && variant_names_collide(&names)
            {
                let shown = names.join(", ");
                map.shift_remove("enum");
                self.note(
                    "schema/enum-variant-names",
                    pointer,
                    format!(
                        "enum values [{shown}] cannot all become distinct Rust variants (they differ only in case or \
                         punctuation); generated as a string, so every value is kept"
                    ),
                );
            }
        }

        // `pattern` in another regex dialect: typify checks it with (and the
        // generated code runs it on) `regress`, an ECMAScript engine.
        if let Some(Value::String(pattern)) = map.get("pattern").cloned()
            && regress::Regex::new(&pattern).is_err()
        {
            match translate_pattern(&pattern) {
                Some(translated) => {
                    self.note(
                        "schema/pattern-dialect",
                        pointer,
                        format!("pattern `{pattern}` is not ECMAScript; translated to `{translated}`, same meaning"),
                    );
                    map.insert("pattern".into(), Value::String(translated));
                }
                None => {
                    map.shift_remove("pattern");
                    self.note(
                        "schema/pattern-dialect",
                        pointer,
                        format!(
                            "pattern `{pattern}` is not ECMAScript and has no ECMAScript equivalent (inline flags, \
                             engine-specific syntax); removed, so values are not checked against it"
                        ),
                    );
                }
            }
        }

        for keyword in [
            "$schema",
            "$id",
            "$anchor",
            "$comment",
            "$dynamicRef",
            "$dynamicAnchor",
            "contentMediaType",
            "contentEncoding",
            "contentSchema",
            "unevaluatedProperties",
            "unevaluatedItems",
            "dependentRequired",
            "dependentSchemas",
            "prefixItems",
            "propertyNames",
            "if",
            "then",
            "else",
            "$defs",
            "patternProperties",
        ] {
            if map.shift_remove(keyword).is_some() {
                self.note(
                    "openapi-3.1/unsupported-keyword",
                    pointer,
                    format!(
                        "`{keyword}` has no 3.0 equivalent that progenitor understands; removed"
                    ),
                );
            }
        }
        self.convert(map, pointer);
    }

    // ------------------------------------------------------------- operations

    /// Path parameters whose Rust names collide with another parameter of
    /// the path's operations (`{statementID}` beside `?statementId`, or
    /// `{UserName}` beside `{userName}`): the path parameter is renamed, in
    /// the path template and in every operation, so nothing on the wire
    /// changes and both stay settable.
    fn path_parameter_names(&mut self, doc: &mut Value) {
        let components = doc.get("components").cloned().unwrap_or(Value::Null);
        let Some(Value::Object(paths)) = doc.get_mut("paths") else {
            return;
        };
        let old = std::mem::take(paths);
        for (path, mut item) in old {
            // RFC 6570 operators (`{+path}`): progenitor knows plain `{name}`
            // only, and encodes the value as one segment.
            let plain = path
                .split('{')
                .enumerate()
                .map(|(i, part)| match part.split_once('}') {
                    Some((expression, rest)) if i > 0 => {
                        format!("{{{}}}{rest}", template_name(expression))
                    }
                    _ => part.to_owned(),
                })
                .collect::<Vec<_>>()
                .join("");
            if plain != path {
                self.note(
                    "operation/template-operator",
                    &format!("/paths/{}", escape_pointer(&path)),
                    format!(
                        "`{path}` uses RFC 6570 operators; written `{plain}`: the value is encoded as one path \
                         segment, so a `/` in it is sent as `%2F` (split the value into several parameters, or \
                         send it with a raw request, where the server needs the slashes)"
                    ),
                );
            }
            let path = plain;
            let mut template = path.clone();
            let placeholders: Vec<String> = path
                .split('{')
                .skip(1)
                .filter_map(|rest| rest.split_once('}').map(|(name, _)| name.to_owned()))
                .collect();
            // Rust names taken by parameters that are not these placeholders.
            let mut others: BTreeSet<String> = BTreeSet::new();
            let mut lists: Vec<Value> = Vec::new();
            if let Some(list) = item.get("parameters") {
                lists.push(list.clone());
            }
            for method in METHODS {
                if let Some(list) = item.get(method).and_then(|op| op.get("parameters")) {
                    lists.push(list.clone());
                }
            }
            for list in &lists {
                for parameter in list.as_array().into_iter().flatten() {
                    let resolved = resolve(parameter, &components).unwrap_or(parameter);
                    if resolved.get("in").and_then(Value::as_str) != Some("path")
                        && let Some(name) = resolved.get("name").and_then(Value::as_str)
                    {
                        others.insert(rust_ident(name));
                    }
                }
            }
            let mut taken = others.clone();
            let mut renames: Vec<(String, String)> = Vec::new();
            for name in &placeholders {
                let ident = rust_ident(name);
                if !taken.contains(&ident) {
                    taken.insert(ident);
                    continue;
                }
                let mut new = format!("{name}_path");
                let mut n = 2;
                while taken.contains(&rust_ident(&new)) {
                    new = format!("{name}_path{n}");
                    n += 1;
                }
                taken.insert(rust_ident(&new));
                template = template.replacen(&format!("{{{name}}}"), &format!("{{{new}}}"), 1);
                renames.push((name.clone(), new));
            }
            if !renames.is_empty() {
                let rename_in = |list: &mut Value| {
                    for parameter in list.as_array_mut().into_iter().flatten() {
                        let resolved = resolve(parameter, &components).cloned();
                        let Some(mut resolved) = resolved.or_else(|| Some(parameter.clone()))
                        else {
                            continue;
                        };
                        if resolved.get("in").and_then(Value::as_str) != Some("path") {
                            continue;
                        }
                        let name = resolved
                            .get("name")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_owned();
                        if let Some((_, new)) = renames.iter().find(|(old, _)| *old == name) {
                            resolved["name"] = json!(new);
                            *parameter = resolved;
                        }
                    }
                };
                if let Some(list) = item.get_mut("parameters") {
                    rename_in(list);
                }
                for method in METHODS {
                    if let Some(list) = item.get_mut(method).and_then(|op| op.get_mut("parameters"))
                    {
                        rename_in(list);
                    }
                }
                let shown: Vec<String> = renames
                    .iter()
                    .map(|(a, b)| format!("`{a}` -> `{b}`"))
                    .collect();
                self.note(
                    "operation/path-parameter-rename",
                    &format!("/paths/{}", escape_pointer(&path)),
                    format!(
                        "path parameters renamed ({}) because their Rust names collide with another parameter's; \
                         the template follows, so the URL is unchanged",
                        shown.join(", ")
                    ),
                );
            }
            paths.insert(template, item);
        }
    }

    fn operations(&mut self, doc: &mut Value) {
        self.path_parameter_names(doc);
        // Components' media first, so that what operations resolve through
        // `$ref` is already what progenitor will see.
        self.component_media(doc);
        let components = doc.get("components").cloned().unwrap_or(Value::Null);
        let Some(Value::Object(paths)) = doc.get_mut("paths") else {
            return;
        };

        let mut used_ids: BTreeMap<String, String> = BTreeMap::new();
        let path_names: Vec<String> = paths.keys().cloned().collect();
        for path in path_names {
            let path_pointer = format!("/paths/{}", escape_pointer(&path));
            let Some(Value::Object(item)) = paths.get_mut(&path) else {
                continue;
            };
            if item.contains_key("$ref") {
                self.unsupported(
                    &path_pointer,
                    "a path item given by `$ref` (progenitor cannot follow it)",
                    "inline the path item with an overlay `update` on this path and `remove` the `$ref`",
                );
                continue;
            }
            // Path-level parameters are copied into each operation so that
            // collisions are resolved per operation in one place.
            let shared = item.shift_remove("parameters");
            if let Some(Value::Array(shared)) = &shared
                && !shared.is_empty()
            {
                self.note(
                    "operation/path-parameters",
                    &path_pointer,
                    "path-level parameters copied into each operation",
                );
            }
            for method in METHODS {
                let Some(Value::Object(op)) = item.get_mut(method) else {
                    continue;
                };
                let pointer = format!("{path_pointer}/{method}");
                if let Some(Value::Array(shared)) = &shared {
                    let own = op.entry("parameters").or_insert_with(|| json!([]));
                    if let Value::Array(own_list) = own {
                        let own_keys: BTreeSet<(String, String)> = own_list
                            .iter()
                            .filter_map(|p| parameter_key(p, &components))
                            .collect();
                        let mut merged: Vec<Value> = shared
                            .iter()
                            .filter(|p| {
                                parameter_key(p, &components).is_none_or(|k| !own_keys.contains(&k))
                            })
                            .cloned()
                            .collect();
                        merged.append(own_list);
                        *own_list = merged;
                    }
                }
                // A callback given by `$ref`: the OpenAPI model progenitor
                // reads has no reference there, so the callback is inlined.
                if let Some(Value::Object(callbacks)) = op.get_mut("callbacks") {
                    for (name, callback) in callbacks.iter_mut() {
                        let Some(target) = callback
                            .get("$ref")
                            .and_then(Value::as_str)
                            .and_then(|r| r.strip_prefix("#/components/callbacks/"))
                            .and_then(|n| {
                                components.pointer(&format!("/callbacks/{}", escape_pointer(n)))
                            })
                        else {
                            continue;
                        };
                        *callback = target.clone();
                        self.note(
                            "operation/callback-ref",
                            &format!("{pointer}/callbacks/{}", escape_pointer(name)),
                            "callback given by `$ref` inlined (the model progenitor reads takes no reference here)",
                        );
                    }
                }
                self.template_parameters(op, &path, &pointer, &components);
                self.operation_id(op, method, &path, &pointer, &mut used_ids);
                self.tags(op, &pointer);
                self.request_body(op, &pointer, &components);
                self.parameters(op, &pointer, &components);
                self.responses(op, &pointer, &components);
            }
        }
    }

    /// Every `{name}` of the path template needs a path parameter; one the
    /// document forgot is added as a required string (the text of a path
    /// segment), so the URL can be built.
    fn template_parameters(
        &mut self,
        op: &mut Map<String, Value>,
        path: &str,
        pointer: &str,
        components: &Value,
    ) {
        let declared: BTreeSet<String> = op
            .get("parameters")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|p| parameter_key(p, components))
            .filter(|(_, location)| location == "path")
            .map(|(name, _)| name)
            .collect();
        // A path parameter is always required (OpenAPI says so; progenitor asserts it).
        let mut optional = Vec::new();
        if let Some(Value::Array(list)) = op.get_mut("parameters") {
            for parameter in list.iter_mut() {
                let resolved = resolve(parameter, components).unwrap_or(parameter).clone();
                if resolved.get("in").and_then(Value::as_str) == Some("path")
                    && resolved.get("required") != Some(&Value::Bool(true))
                {
                    let mut fixed = resolved;
                    fixed["required"] = json!(true);
                    optional.push(
                        fixed
                            .get("name")
                            .and_then(Value::as_str)
                            .unwrap_or("?")
                            .to_owned(),
                    );
                    *parameter = fixed;
                }
            }
        }
        if !optional.is_empty() {
            self.note(
                "operation/path-parameter-required",
                pointer,
                format!(
                    "path parameter(s) {} not marked `required: true`; a path parameter always is",
                    optional
                        .iter()
                        .map(|o| format!("`{o}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
        }
        // `{+name}`, `{name*}` (RFC 6570 operators and explode) name `name`.
        let placeholders: BTreeSet<String> = path
            .split('{')
            .skip(1)
            .filter_map(|rest| rest.split_once('}').map(|(name, _)| template_name(name)))
            .collect();
        let unused: Vec<&String> = declared.difference(&placeholders).collect();
        if !unused.is_empty() {
            if let Some(Value::Array(list)) = op.get_mut("parameters") {
                list.retain(|p| {
                    parameter_key(p, components).is_none_or(|(name, location)| {
                        location != "path" || placeholders.contains(&name)
                    })
                });
            }
            self.note(
                "operation/path-parameter-unused",
                pointer,
                format!(
                    "path parameter(s) {} do not occur in the path template, so no URL can carry them; removed",
                    unused.iter().map(|u| format!("`{u}`")).collect::<Vec<_>>().join(", ")
                ),
            );
        }
        let missing: Vec<&String> = placeholders.difference(&declared).collect();
        if missing.is_empty() {
            return;
        }
        let list = op.entry("parameters").or_insert_with(|| json!([]));
        if !list.is_array() {
            *list = json!([]);
        }
        if let Value::Array(list) = list {
            for name in &missing {
                list.push(json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}));
            }
        }
        self.note(
            "operation/path-parameter-missing",
            pointer,
            format!(
                "the path template names {} but the operation declares no such path parameter; added as a \
                 required string",
                missing.iter().map(|m| format!("`{{{m}}}`")).collect::<Vec<_>>().join(", ")
            ),
        );
    }

    fn operation_id(
        &mut self,
        op: &mut Map<String, Value>,
        method: &str,
        path: &str,
        pointer: &str,
        used: &mut BTreeMap<String, String>,
    ) {
        let derived = derive_operation_id(method, path);
        let original = op
            .get("operationId")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let mut id = match &original {
            Some(id) if !id.trim().is_empty() => id.clone(),
            _ => {
                self.note(
                    "operation/missing-id",
                    pointer,
                    format!("no operationId; named `{derived}` after its method and path"),
                );
                derived.clone()
            }
        };
        if let Some(previous) = used.get(&rust_ident(&id)) {
            let mut candidate = derived.clone();
            let mut counter = 2;
            while used.contains_key(&rust_ident(&candidate)) {
                candidate = format!("{derived}_{counter}");
                counter += 1;
            }
            self.note(
                "operation/duplicate-id",
                pointer,
                format!("operationId `{id}` collides with the one at `{previous}`; renamed `{candidate}`"),
            );
            id = candidate;
        }
        if let Some(name) = fastapi_name(&id, method, path) {
            let summary = op.get("summary").and_then(Value::as_str).map(rust_ident);
            let suggestion = summary.filter(|s| !s.is_empty()).unwrap_or(name);
            self.note(
                "operation/generated-id",
                pointer,
                format!(
                    "`{id}` is a generated id (name, path and method, as FastAPI makes them), and methods and types \
                     are named after it; name it with an overlay action: `- target: $.paths['{path}'].{method}` \
                     `update: {{operationId: {suggestion}}}`"
                ),
            );
        }
        used.insert(rust_ident(&id), pointer.to_owned());
        op.insert("operationId".into(), json!(id));
    }

    fn tags(&mut self, op: &mut Map<String, Value>, pointer: &str) {
        let Some(Value::Array(tags)) = op.get_mut("tags") else {
            return;
        };
        let mut seen = BTreeSet::new();
        let before = tags.len();
        tags.retain(|t| seen.insert(t.to_string()));
        if tags.len() != before {
            self.note(
                "operation/duplicate-tag",
                &format!("{pointer}/tags"),
                "a tag listed twice was removed",
            );
        }
    }

    fn request_body(&mut self, op: &mut Map<String, Value>, pointer: &str, components: &Value) {
        let Some(body) = op.get_mut("requestBody") else {
            return;
        };
        let body_pointer = format!("{pointer}/requestBody");
        if body.get("$ref").is_some() {
            // Shared request bodies are resolved into the operation so that the
            // media-type choice is made per operation.
            if let Some(resolved) = resolve(body, components) {
                *body = resolved.clone();
                self.note(
                    "media/request-body-ref",
                    &body_pointer,
                    "shared request body inlined",
                );
            }
        }
        let Some(Value::Object(content)) = body.get_mut("content") else {
            return;
        };
        match choose_media(content, MediaUse::Request) {
            Choice::Keep => {}
            Choice::Narrowed {
                chosen,
                kept_as,
                dropped,
            } => {
                self.note(
                    "media/request-one-type",
                    &body_pointer,
                    format!(
                        "request body sent as {kept_as} (schema of `{chosen}`){}",
                        dropped_note(&dropped)
                    ),
                );
            }
            Choice::Remove { offered } => {
                op.shift_remove("requestBody");
                self.note(
                    "media/request-unsupported",
                    &body_pointer,
                    format!(
                        "progenitor cannot send {}; request body removed from the generated method (send it by hand \
                         through the wrapper)",
                        offered.join(", ")
                    ),
                );
            }
        }
        // A body progenitor sends as raw bytes or text must be described
        // exactly as `type: string` (with `format: binary` for bytes).
        let Some(Value::Object(content)) = op
            .get_mut("requestBody")
            .and_then(|body| body.get_mut("content"))
        else {
            return;
        };
        for (media, media_value) in content.iter_mut() {
            let raw = essence(media) == "application/octet-stream";
            let text = essence(media).starts_with("text/") && !essence(media).ends_with("json");
            if !(raw || text) || !media_value.is_object() {
                continue;
            }
            let expected = if raw {
                json!({"type": "string", "format": "binary"})
            } else {
                json!({"type": "string"})
            };
            let current = media_value
                .get("schema")
                .map(|s| resolve_schema(s, components).clone());
            let bare = current.clone().map(|mut s| {
                if let Some(map) = s.as_object_mut() {
                    map.shift_remove("description");
                }
                s
            });
            if bare.as_ref() != Some(&expected) {
                let description = current.as_ref().and_then(|s| s.get("description")).cloned();
                let mut schema = expected;
                if let Some(description) = description {
                    schema["description"] = description;
                }
                media_value["schema"] = schema;
                self.note(
                    "media/raw-body-schema",
                    &format!("{body_pointer}/content/{}", escape_pointer(media)),
                    format!(
                        "a `{media}` body is sent as {}; its schema is written the one way progenitor accepts",
                        if raw { "raw bytes" } else { "text" }
                    ),
                );
            }
        }
    }

    /// A nullable scalar in a header or path parameter: progenitor writes the
    /// value with `to_string()`, which an `Option` does not have. A header or
    /// a path segment cannot carry JSON `null` anyway (an optional header is
    /// left out instead), so `nullable` goes.
    fn nullable_parameter(&mut self, parameter: Value, pointer: &str, components: &Value) -> Value {
        let mut resolved = resolve(&parameter, components)
            .cloned()
            .unwrap_or_else(|| parameter.clone());
        let location = resolved
            .get("in")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if !matches!(location, "header" | "path") {
            return parameter;
        }
        let Some(schema) = resolved.get("schema") else {
            return parameter;
        };
        let mut schema = resolve_schema(schema, components).clone();
        let scalar = matches!(
            schema.get("type").and_then(Value::as_str),
            Some("string" | "integer" | "number" | "boolean")
        );
        let Some(map) = schema.as_object_mut() else {
            return parameter;
        };
        if !scalar || map.get("nullable") != Some(&Value::Bool(true)) {
            return parameter;
        }
        map.shift_remove("nullable");
        let name = resolved
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let location = location.to_owned();
        resolved["schema"] = schema;
        self.note(
            "operation/nullable-parameter",
            pointer,
            format!(
                "{location} parameter `{name}` is nullable; a {location} cannot carry null (an optional one is left \
                 out instead) and progenitor cannot write an Option there, so `nullable` is removed"
            ),
        );
        resolved
    }

    /// A query parameter whose value is an object: progenitor sends only
    /// scalars and lists. Serialised as `style: form` (exploded: one
    /// `key=value` per property, the default) or `style: deepObject`
    /// (`name[key]=value`), it is the same on the wire as one parameter per
    /// property, which is what it becomes. Properties that are objects
    /// themselves are left out, with a report line.
    fn object_parameter(
        &mut self,
        parameter: Value,
        pointer: &str,
        components: &Value,
    ) -> Vec<Value> {
        let resolved = resolve(&parameter, components)
            .cloned()
            .unwrap_or_else(|| parameter.clone());
        let Some(schema) = resolved.get("schema") else {
            return vec![parameter];
        };
        let schema = resolve_schema(schema, components).clone();
        let is_object = schema.get("type").and_then(Value::as_str) == Some("object")
            || (schema.get("type").is_none() && schema.get("properties").is_some());
        let location = resolved
            .get("in")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let style = resolved
            .get("style")
            .and_then(Value::as_str)
            .unwrap_or("form");
        let explode = resolved
            .get("explode")
            .and_then(Value::as_bool)
            .unwrap_or(style == "form");
        // A union of scalars (`anyOf: [uuid, string]`): typify makes it a
        // struct, which progenitor cannot take as a parameter. On the wire
        // a path, query or header value is text whichever branch it
        // matches, so it is sent as a string.
        if !is_object
            && location != "body"
            && let Some(branches) = ["anyOf", "oneOf"]
                .iter()
                .find_map(|k| schema.get(*k).and_then(Value::as_array))
        {
            // A branch that is a scalar, or any value (`{}`); in a path, a
            // header or a cookie every value is text whatever its branch.
            let scalar = |b: &Value| {
                let b = resolve_schema(b, components);
                let typed = matches!(
                    b.get("type").and_then(Value::as_str),
                    Some("string" | "integer" | "number" | "boolean")
                );
                let any = b.get("type").is_none() && b.get("items").is_none();
                (typed || any) && b.get("properties").is_none()
            };
            if location != "query" || branches.iter().all(scalar) {
                let name = resolved
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned();
                let kinds: Vec<String> = branches
                    .iter()
                    .map(|b| {
                        let b = resolve_schema(b, components);
                        let t = b.get("type").and_then(Value::as_str).unwrap_or("any value");
                        match b.get("format").and_then(Value::as_str) {
                            Some(f) => format!("{t} ({f})"),
                            None => t.to_owned(),
                        }
                    })
                    .collect();
                let mut plain = resolved.clone();
                let mut replacement = json!({"type": "string"});
                if let Some(nullable) = schema.get("nullable") {
                    replacement["nullable"] = nullable.clone();
                }
                plain["schema"] = replacement;
                self.note(
                    "operation/union-parameter",
                    pointer,
                    format!(
                        "{location} parameter `{name}` is one of {}; progenitor takes no union as a parameter, and \
                         on the wire each is text, so it is sent as a string",
                        kinds.join(", ")
                    ),
                );
                return vec![plain];
            }
        }
        if is_object && location != "query" && location != "body" {
            let name = resolved
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            let (location, style) = (location.to_owned(), style.to_owned());
            let mut plain = resolved;
            plain["schema"] = json!({
                "type": "string",
                "description": format!("the object serialised as {location} `{style}` style asks (`key,value,...`)"),
            });
            self.note(
                "operation/object-parameter",
                pointer,
                format!(
                    "{location} parameter `{name}` is an object; progenitor sends only scalars there, so it is \
                     sent as the string the caller serialises"
                ),
            );
            return vec![plain];
        }
        if !is_object || location != "query" {
            if style == "deepObject" {
                let mut plain = resolved;
                if let Some(map) = plain.as_object_mut() {
                    map.shift_remove("style");
                    map.shift_remove("explode");
                }
                self.note(
                    "operation/object-parameter",
                    pointer,
                    "`style: deepObject` on a value that is not an object means nothing; removed",
                );
                return vec![plain];
            }
            return vec![parameter];
        }
        let name = resolved
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        if style == "form" && !explode {
            let mut plain = resolved;
            plain["schema"] = json!({"type": "string", "description": "the object serialised as `key,value,key,value`"});
            self.note(
                "operation/object-parameter",
                pointer,
                format!("query parameter `{name}` is an unexploded object (`key,value,...`); sent as that string"),
            );
            return vec![plain];
        }
        let properties = schema
            .get("properties")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let mut out = Vec::new();
        let mut left_out = Vec::new();
        for (key, property) in &properties {
            let resolved_property = resolve_schema(property, components);
            let nested = resolved_property.get("type").and_then(Value::as_str) == Some("object")
                || resolved_property.get("properties").is_some()
                || resolved_property
                    .get("items")
                    .map(|items| resolve_schema(items, components))
                    .is_some_and(|items| {
                        items.get("type").and_then(Value::as_str) == Some("object")
                            || items.get("properties").is_some()
                    });
            if nested {
                left_out.push(key.clone());
                continue;
            }
            let wire = if style == "deepObject" {
                format!("{name}[{key}]")
            } else {
                key.clone()
            };
            let mut expanded =
                json!({"name": wire, "in": "query", "required": false, "schema": property});
            if let Some(description) = resolved_property.get("description") {
                expanded["description"] = description.clone();
            }
            out.push(expanded);
        }
        let wire = if style == "deepObject" {
            format!("`{name}[key]=value`")
        } else {
            "`key=value`".to_owned()
        };
        self.note(
            "operation/object-parameter",
            pointer,
            format!(
                "query parameter `{name}` is an object sent as {wire}; progenitor sends only scalars, so it \
                 becomes {} parameter(s), one per property, the same on the wire{}",
                out.len(),
                if left_out.is_empty() {
                    String::new()
                } else {
                    format!("; nested properties left out: {}", left_out.join(", "))
                }
            ),
        );
        out
    }

    fn parameters(&mut self, op: &mut Map<String, Value>, pointer: &str, components: &Value) {
        let has_body = op.contains_key("requestBody");
        let Some(Value::Array(parameters)) = op.get_mut("parameters") else {
            return;
        };
        let expanded = std::mem::take(parameters)
            .into_iter()
            .enumerate()
            .flat_map(|(i, parameter)| {
                let at = format!("{pointer}/parameters/{i}");
                // After the object and union rewrites: a nullable union in a
                // header becomes a nullable string, which this then fixes.
                self.object_parameter(parameter, &at, components)
                    .into_iter()
                    .map(|parameter| self.nullable_parameter(parameter, &at, components))
                    .collect::<Vec<_>>()
            })
            .collect();
        *parameters = expanded;
        let mut seen: BTreeMap<String, String> = BTreeMap::new();
        if has_body {
            seen.insert("body".into(), "the request body".into());
        }
        let mut keep = Vec::with_capacity(parameters.len());
        for (i, parameter) in parameters.drain(..).enumerate() {
            let resolved = resolve(&parameter, components)
                .cloned()
                .unwrap_or(parameter.clone());
            let name = resolved
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            let location = resolved
                .get("in")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            let param_pointer = format!("{pointer}/parameters/{i}");
            if location == "cookie" {
                self.unsupported(
                    &param_pointer,
                    format!("cookie parameter `{name}` (progenitor does not support cookie parameters)"),
                    "remove it with an overlay action (`remove: true` on this parameter) and set the cookie on \
                     the reqwest client the wrapper builds",
                );
                continue;
            }
            let ident = rust_ident(&name);
            if let Some(first) = seen.get(&ident) {
                self.note(
                    "operation/parameter-collision",
                    &param_pointer,
                    format!(
                        "{location} parameter `{name}` becomes the Rust name `{ident}`, like {first}; dropped (rename or \
                         remove one of them with an overlay to choose differently)"
                    ),
                );
                continue;
            }
            seen.insert(ident, format!("{location} parameter `{name}`"));
            keep.push(parameter);
        }
        *parameters = keep;
        if parameters.is_empty() {
            op.shift_remove("parameters");
        }
    }

    /// Media types of shared `components.responses` are normalised once.
    fn component_media(&mut self, doc: &mut Value) {
        let Some(Value::Object(responses)) = doc.pointer_mut("/components/responses") else {
            return;
        };
        for (name, response) in responses.iter_mut() {
            let pointer = format!("/components/responses/{}", escape_pointer(name));
            self.response_media(response, &pointer);
        }
    }

    fn response_media(&mut self, response: &mut Value, pointer: &str) {
        let Some(Value::Object(content)) = response.get_mut("content") else {
            return;
        };
        for media in content.values_mut() {
            if let Some(map) = media.as_object_mut()
                && map.shift_remove("encoding").is_some()
            {
                self.note(
                    "media/response-encoding",
                    pointer,
                    "response `encoding` removed (only meaningful for requests)",
                );
            }
        }
        if let Choice::Narrowed {
            chosen,
            kept_as,
            dropped,
        } = choose_media(content, MediaUse::Response)
        {
            self.note(
                "media/response-one-type",
                pointer,
                format!(
                    "response read as {kept_as} (schema of `{chosen}`){}",
                    dropped_note(&dropped)
                ),
            );
        }
    }

    fn responses(&mut self, op: &mut Map<String, Value>, pointer: &str, components: &Value) {
        let Some(Value::Object(responses)) = op.get_mut("responses") else {
            return;
        };
        let codes: Vec<String> = responses.keys().cloned().collect();
        for code in &codes {
            if let Some(response) = responses.get_mut(code)
                && response.get("$ref").is_none()
            {
                self.response_media(response, &format!("{pointer}/responses/{code}"));
            }
        }

        let kind_of = |response: &Value| -> String {
            let response = resolve(response, components).unwrap_or(response);
            match response.get("content").and_then(Value::as_object) {
                None => "none".into(),
                Some(content) if content.is_empty() => "none".into(),
                // What progenitor decodes as JSON (`choose_media` has named
                // every `+json` type so); ndjson and the like are raw bytes.
                Some(content) => match content
                    .iter()
                    .find(|(media, _)| essence(media) == "application/json")
                    .map(|(_, value)| value)
                {
                    Some(media) => format!(
                        "json:{}",
                        serde_json::to_string(media.get("schema").unwrap_or(&Value::Null))
                            .unwrap_or_default()
                    ),
                    None => "raw".into(),
                },
            }
        };
        let mut success = Vec::new();
        let mut errors = Vec::new();
        let mut default = None;
        for code in &codes {
            let Some(response) = responses.get(code) else {
                continue;
            };
            let kind = kind_of(response);
            match code.chars().next() {
                Some('2') => success.push((code.clone(), kind)),
                Some('4' | '5') => errors.push((code.clone(), kind)),
                _ if code == "default" => default = Some(kind),
                _ => {}
            }
        }
        // Numeric codes before ranges, as progenitor orders them.
        success.sort_by_key(|(code, _)| (code.contains('X'), code.clone()));
        errors.sort_by_key(|(code, _)| (code.contains('X'), code.clone()));

        let mut drop = Vec::new();
        let success_kind = success
            .iter()
            .find(|(_, k)| k.starts_with("json:"))
            .or(success.first())
            .map(|(_, k)| k.clone());
        if let Some(primary) = &success_kind {
            for (code, kind) in &success {
                if kind != primary {
                    drop.push((
                        code.clone(),
                        "a second success body type (progenitor supports one per operation)",
                    ));
                }
            }
        }
        let error_kind = {
            let mut counts: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
            for (position, (_, kind)) in errors.iter().enumerate() {
                let entry = counts.entry(kind.as_str()).or_insert((0, position));
                entry.0 += 1;
            }
            // Most common typed body wins; ties go to the one listed first.
            counts
                .iter()
                .max_by(|a, b| {
                    let a_json = a.0.starts_with("json:");
                    let b_json = b.0.starts_with("json:");
                    (a_json, a.1.0, std::cmp::Reverse(a.1.1)).cmp(&(
                        b_json,
                        b.1.0,
                        std::cmp::Reverse(b.1.1),
                    ))
                })
                .map(|(kind, _)| (*kind).to_owned())
        };
        if let Some(primary) = &error_kind {
            for (code, kind) in &errors {
                if kind != primary {
                    drop.push((
                        code.clone(),
                        "a second error body type (progenitor supports one per operation)",
                    ));
                }
            }
        }
        if let Some(kind) = &default {
            let clashes = success_kind.as_ref().is_some_and(|s| s != kind)
                || error_kind.as_ref().is_some_and(|e| e != kind);
            if clashes {
                drop.push((
                    "default".into(),
                    "a `default` response whose body differs from the declared ones",
                ));
            }
        }
        for (code, why) in drop {
            responses.shift_remove(&code);
            self.note(
                "operation/response-type",
                &format!("{pointer}/responses/{code}"),
                format!("removed {why}; such a response surfaces as an unexpected response"),
            );
        }
    }

    /// Internal references that point nowhere.
    /// References into the inside of a component schema
    /// (`#/components/schemas/Event/allOf/0`): typify resolves a reference
    /// to a whole component only. The target becomes a component of its own,
    /// its place refers to it, and every reference points at it; deepest
    /// first, so a target inside another target is already a reference when
    /// the outer one moves.
    fn deep_refs(&mut self, doc: &mut Value) {
        let mut found = Vec::new();
        collect_refs(doc, "", &mut found);
        let mut targets: Vec<String> = found
            .iter()
            .filter_map(|(_, target)| target.strip_prefix("#/components/schemas/"))
            .filter(|rest| rest.contains('/'))
            .map(|rest| format!("/components/schemas/{rest}"))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        targets.sort_by_key(|t| std::cmp::Reverse(t.matches('/').count()));
        let mut moved: BTreeMap<String, String> = BTreeMap::new();
        for target in targets {
            let Some(schema) = doc.pointer(&target).cloned() else {
                continue;
            };
            // A reference to a reference: point at what it points at.
            let new_ref = if let Some(Value::String(inner)) = schema.get("$ref")
                && schema.as_object().is_some_and(|m| m.len() == 1)
            {
                inner.clone()
            } else {
                hoist_schema(doc, &target, schema)
            };
            self.note(
                "schema/deep-ref",
                &target,
                format!("referenced from elsewhere; typify resolves only whole components, so references now point at `{new_ref}`"),
            );
            moved.insert(format!("#{target}"), new_ref);
        }
        if !moved.is_empty() {
            retarget_refs(doc, "", &moved);
        }
    }

    /// A component whose own `allOf` merges itself again, directly
    /// (`A: allOf [{$ref: A}, ...]`) or through other components' `allOf`
    /// (`A: allOf [B]`, `B: allOf [A]`): typify merges without end (a stack
    /// overflow, which no error can report). A member that is only a
    /// reference to the component itself says nothing (A is already A) and
    /// is removed; a longer cycle has no such reading and is an error.
    fn merge_cycles(&mut self, doc: &mut Value) {
        let Some(schemas) = doc
            .pointer_mut("/components/schemas")
            .and_then(Value::as_object_mut)
        else {
            return;
        };
        for (name, schema) in schemas.iter_mut() {
            let Some(members) = schema.get_mut("allOf").and_then(Value::as_array_mut) else {
                continue;
            };
            let before = members.len();
            members.retain(|member| {
                !(member.as_object().is_some_and(|m| m.len() == 1)
                    && member
                        .get("$ref")
                        .and_then(Value::as_str)
                        .and_then(component_name)
                        .as_deref()
                        == Some(name.as_str()))
            });
            if members.len() != before {
                let pointer = format!("/components/schemas/{}/allOf", escape_pointer(name));
                self.note(
                    "schema/self-merge",
                    &pointer,
                    format!(
                        "a member referred to `{name}` itself, which adds nothing to it; removed"
                    ),
                );
            }
        }
        // The components each component's `allOf` merges, through inline
        // members' own `allOf` too.
        fn merged(schema: &Value, into: &mut BTreeSet<String>) {
            for member in schema
                .get("allOf")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                match member.get("$ref").and_then(Value::as_str) {
                    Some(target) => into.extend(component_name(target)),
                    None => merged(member, into),
                }
            }
        }
        let edges: BTreeMap<&String, BTreeSet<String>> = schemas
            .iter()
            .map(|(name, schema)| {
                let mut targets = BTreeSet::new();
                merged(schema, &mut targets);
                (name, targets)
            })
            .collect();
        let mut cycles = Vec::new();
        for (name, targets) in &edges {
            for target in targets {
                let mut seen = BTreeSet::new();
                let mut stack = vec![target.clone()];
                while let Some(next) = stack.pop() {
                    if next == **name {
                        cycles.push(((*name).clone(), target.clone()));
                        break;
                    }
                    if seen.insert(next.clone()) {
                        stack.extend(edges.get(&next).into_iter().flatten().cloned());
                    }
                }
            }
        }
        for (name, target) in cycles {
            self.unsupported(
                &format!("/components/schemas/{}/allOf", escape_pointer(&name)),
                format!("its `allOf` merges `{target}`, whose own `allOf` merges `{name}` again: the merge never ends"),
                "remove one of the members that close the cycle with an overlay `remove` action, or refer to the other schema through a property",
            );
        }
    }

    /// An inline schema whose `allOf` merges a component that leads back to
    /// the component the schema sits in (`Envelope.events.items: allOf
    /// [Envelope, {...}]`): typify merges the component into the inline
    /// schema, meets the same inline schema inside it, merges again, and
    /// never returns (a stack overflow, which no error can report). Such a
    /// schema becomes a component of its own, named after its place, so the
    /// recursion goes through a reference, which typify follows by name.
    fn recursive_merges(&mut self, doc: &mut Value) {
        let Some(schemas) = doc
            .pointer("/components/schemas")
            .and_then(Value::as_object)
        else {
            return;
        };
        // Which components each component refers to, anywhere inside it.
        let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (name, schema) in schemas {
            let mut found = Vec::new();
            collect_refs(schema, "", &mut found);
            let targets = found
                .into_iter()
                .filter_map(|(_, target)| component_name(&target))
                .collect();
            edges.insert(name.clone(), targets);
        }
        let reaches = |from: &str, to: &str| {
            let mut seen = BTreeSet::new();
            let mut stack = vec![from.to_owned()];
            while let Some(next) = stack.pop() {
                if next == to {
                    return true;
                }
                if seen.insert(next.clone()) {
                    stack.extend(edges.get(&next).into_iter().flatten().cloned());
                }
            }
            false
        };
        // (pointer of the inline schema, its component), deepest first so a
        // schema inside another one has moved before the outer one does.
        let mut found: Vec<(String, String)> = Vec::new();
        for (name, schema) in schemas {
            let base = format!("/components/schemas/{}", escape_pointer(name));
            inline_merges(schema, &base, true, &mut |pointer, members| {
                let loops = members
                    .iter()
                    .filter_map(|member| member.get("$ref").and_then(Value::as_str))
                    .filter_map(component_name)
                    .any(|target| reaches(&target, name));
                if loops && members.len() > 1 {
                    found.push((pointer.to_owned(), name.clone()));
                }
            });
        }
        found.sort_by_key(|(pointer, _)| std::cmp::Reverse(pointer.matches('/').count()));
        for (pointer, component) in found {
            let Some(schema) = doc.pointer(&pointer).cloned() else {
                continue;
            };
            let reference = hoist_schema(doc, &pointer, schema);
            let name = reference.trim_start_matches("#/components/schemas/");
            self.note(
                "schema/recursive-merge",
                &pointer,
                format!(
                    "its `allOf` merges a component that leads back to `{component}`; made the component `{name}` so the recursion goes through a reference"
                ),
            );
        }
    }

    fn dangling_refs(&mut self, doc: &Value) {
        let mut found = Vec::new();
        collect_refs(doc, "", &mut found);
        for (pointer, target) in found {
            let Some(local) = target.strip_prefix('#') else {
                continue;
            };
            if doc.pointer(local).is_none() {
                self.unsupported(
                    &pointer,
                    format!("`$ref: {target}` points at nothing in the document"),
                    "add the missing component with an overlay `update` on `$.components`, or fix the reference",
                );
                continue;
            }
            let Some(section) = expected_section(&pointer) else {
                continue;
            };
            let tokens: Vec<&str> = local.split('/').skip(1).collect();
            if !matches!(tokens.as_slice(), ["components", s, _] if *s == section) {
                self.unsupported(
                    &pointer,
                    format!(
                        "`$ref: {target}` points at something that is not one of `#/components/{section}`, which is \
                         what may stand here"
                    ),
                    format!("point the reference at a component in `#/components/{section}` with an overlay `update`"),
                );
            }
        }
    }
}

/// The variable a path-template expression names: `{+name}`, `{#name}`,
/// `{name*}` all name `name`.
fn template_name(expression: &str) -> String {
    expression
        .trim_start_matches(['+', '#', '.', '/', ';', '?', '&'])
        .trim_end_matches('*')
        .to_owned()
}

/// The components section a `$ref` at `pointer` must point into, where the
/// position says so for certain (`None`: only that it points at something).
/// A schema position is one reached through a parameter's, a header's or a
/// media type's `schema`, or a component schema; the others are told by
/// what holds them (`…/{method}/parameters/N`, `…/{method}/requestBody`,
/// `…/{method}/responses/CODE`, and the `components` sections), so the same
/// rules hold inside callbacks.
fn expected_section(pointer: &str) -> Option<&'static str> {
    let tokens: Vec<&str> = pointer.split('/').skip(1).collect();
    let is_method = |t: &str| METHODS.contains(&t);
    let schema_position = tokens.starts_with(&["components", "schemas"])
        || tokens.windows(3).any(|w| {
            w[2] == "schema"
                && (w[0] == "parameters" && w[1].parse::<usize>().is_ok()
                    || w[0] == "headers"
                    || w[0] == "content")
        })
        || tokens.starts_with(&["components", "parameters"]) && tokens.get(3) == Some(&"schema")
        || tokens.starts_with(&["components", "headers"]) && tokens.get(3) == Some(&"schema");
    if schema_position {
        return Some("schemas");
    }
    match tokens.as_slice() {
        ["components", "parameters", _] => Some("parameters"),
        [.., owner, "parameters", index]
            if index.parse::<usize>().is_ok() && *owner != "properties" =>
        {
            Some("parameters")
        }
        ["components", "requestBodies", _] => Some("requestBodies"),
        [.., method, "requestBody"] if is_method(method) => Some("requestBodies"),
        ["components", "responses", _] => Some("responses"),
        [.., method, "responses", _] if is_method(method) => Some("responses"),
        ["components", "headers", _] => Some("headers"),
        ["components", "examples", _] => Some("examples"),
        ["components", "securitySchemes", _] => Some("securitySchemes"),
        ["components", "links", _] => Some("links"),
        ["components", "callbacks", _] => Some("callbacks"),
        _ => None,
    }
}

fn collect_refs(node: &Value, pointer: &str, out: &mut Vec<(String, String)>) {
    match node {
        Value::Object(map) => {
            if let Some(Value::String(target)) = map.get("$ref") {
                out.push((pointer.to_owned(), target.clone()));
            }
            for (key, value) in map {
                if is_extension(pointer, key) {
                    continue;
                }
                collect_refs(value, &format!("{pointer}/{}", escape_pointer(key)), out);
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                collect_refs(item, &format!("{pointer}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// Moves `schema`, found at `pointer` inside `/components/schemas/<base>/...`,
/// into a component of its own named after its place (`<base>` and each later
/// segment in PascalCase, numbered when taken), puts a `$ref` to it in its
/// place, and returns the reference.
fn hoist_schema(doc: &mut Value, pointer: &str, schema: Value) -> String {
    use heck::ToPascalCase;
    let mut segments = pointer
        .trim_start_matches("/components/schemas/")
        .split('/')
        .map(|s| s.replace("~1", "/").replace("~0", "~"));
    let base = segments.next().unwrap_or_default();
    let tail: String = segments.map(|s| s.to_pascal_case()).collect();
    let taken = |doc: &Value, name: &str| {
        doc.pointer("/components/schemas")
            .and_then(Value::as_object)
            .is_some_and(|schemas| schemas.contains_key(name))
    };
    let mut name = format!("{base}{tail}");
    let mut n = 2;
    while taken(doc, &name) {
        name = format!("{base}{tail}{n}");
        n += 1;
    }
    if let Some(Value::Object(schemas)) = doc.pointer_mut("/components/schemas") {
        schemas.insert(name.clone(), schema);
    }
    let reference = format!("#/components/schemas/{}", escape_pointer(&name));
    if let Some(place) = doc.pointer_mut(pointer) {
        *place = json!({ "$ref": reference });
    }
    reference
}

/// The component a `$ref` names (`#/components/schemas/Name`), if it is one.
fn component_name(target: &str) -> Option<String> {
    let rest = target.strip_prefix("#/components/schemas/")?;
    (!rest.contains('/')).then(|| rest.replace("~1", "/").replace("~0", "~"))
}

/// Calls `found` with the pointer and members of every `allOf` schema inside
/// `node` that is not the component itself (`top`), looking through
/// properties, items and the members of unions and merges.
fn inline_merges(
    node: &Value,
    pointer: &str,
    top: bool,
    found: &mut impl FnMut(&str, &Vec<Value>),
) {
    match node {
        Value::Object(map) => {
            if !top && let Some(Value::Array(members)) = map.get("allOf") {
                found(pointer, members);
            }
            for (key, value) in map {
                if is_extension(pointer, key) || key == "example" || key == "examples" {
                    continue;
                }
                inline_merges(
                    value,
                    &format!("{pointer}/{}", escape_pointer(key)),
                    false,
                    found,
                );
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                inline_merges(item, &format!("{pointer}/{i}"), false, found);
            }
        }
        _ => {}
    }
}

/// Points every `$ref` found in `moved` at its new place.
fn retarget_refs(node: &mut Value, pointer: &str, moved: &BTreeMap<String, String>) {
    match node {
        Value::Object(map) => {
            if let Some(Value::String(target)) = map.get_mut("$ref")
                && let Some(new) = moved.get(target.as_str())
            {
                *target = new.clone();
            }
            for (key, value) in map.iter_mut() {
                if is_extension(pointer, key) {
                    continue;
                }
                retarget_refs(value, &format!("{pointer}/{}", escape_pointer(key)), moved);
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                retarget_refs(item, &format!("{pointer}/{i}"), moved);
            }
        }
        _ => {}
    }
}

/// Whether `key` of the object at `pointer` is a vendor extension (`x-...`),
/// whose content is the vendor's own business (documentation blocks,
/// references to Markdown files) and never a schema the generator reads.
/// Keys of maps of names (`properties`, `headers`, ...) are names, not
/// extensions, even when they start with `x-`.
fn is_extension(pointer: &str, key: &str) -> bool {
    const NAMED: [&str; 13] = [
        "properties",
        "headers",
        "schemas",
        "parameters",
        "responses",
        "requestBodies",
        "securitySchemes",
        "examples",
        "links",
        "callbacks",
        "patternProperties",
        "definitions",
        "mapping",
    ];
    let parent = pointer.rsplit('/').next().unwrap_or_default();
    key.starts_with("x-") && !NAMED.contains(&parent)
}

/// A schema with its `$ref`s followed (components only), or itself.
fn resolve_schema<'a>(schema: &'a Value, components: &'a Value) -> &'a Value {
    let mut current = schema;
    for _ in 0..8 {
        match resolve(current, components) {
            Some(next) => current = next,
            None => break,
        }
    }
    current
}

/// Follows a local `$ref` (one level deep is all OpenAPI components need).
fn resolve<'a>(value: &'a Value, components: &'a Value) -> Option<&'a Value> {
    let target = value.get("$ref")?.as_str()?;
    let rest = target.strip_prefix("#/components/")?;
    components.pointer(&format!("/{rest}"))
}

fn parameter_key(parameter: &Value, components: &Value) -> Option<(String, String)> {
    let resolved = resolve(parameter, components).unwrap_or(parameter);
    Some((
        resolved.get("name")?.as_str()?.to_owned(),
        resolved.get("in")?.as_str()?.to_owned(),
    ))
}

/// The identifier progenitor derives from a name (mirrors its `sanitize`).
pub fn rust_ident(name: &str) -> String {
    let cleaned: String = name
        .replace('\'', "")
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let snake = cleaned.to_snake_case();
    match snake.chars().next() {
        None => "x".into(),
        Some(c) if c.is_ascii_digit() => format!("_{snake}"),
        Some(_) => snake,
    }
}

/// The route name in an id generated FastAPI's way (`{name}{path}_{method}`
/// with every non-word character `_`: `get_account_v1_accounts__account_id__get`
/// for `GET /accounts/{account_id}` under a `/v1` prefix), or `None` when
/// the id is not one.
pub fn fastapi_name(id: &str, method: &str, path: &str) -> Option<String> {
    let path_part: String = path
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let rest = id.strip_suffix(&format!("_{method}"))?;
    let at = rest.rfind(&path_part)?;
    // What precedes the path: the route name and perhaps a version prefix.
    let name = rest[..at].trim_end_matches('_');
    let name = name
        .rsplit_once("_v")
        .filter(|(_, version)| !version.is_empty() && version.chars().all(|c| c.is_ascii_digit()))
        .map_or(name, |(name, _)| name);
    (!name.is_empty() && path_part.len() > 1).then(|| name.to_owned())
}

/// `get` + `/v2/plans/{planId}/notes` -> `get_v2_plans_plan_id_notes`.
pub fn derive_operation_id(method: &str, path: &str) -> String {
    let mut parts = vec![method.to_owned()];
    for segment in path.split('/').filter(|s| !s.is_empty()) {
        let segment = segment.trim_start_matches('{').trim_end_matches('}');
        let ident = rust_ident(segment);
        if !ident.is_empty() {
            parts.push(ident);
        }
    }
    parts.join("_")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MediaUse {
    Request,
    Response,
}

enum Choice {
    Keep,
    Narrowed {
        chosen: String,
        kept_as: String,
        dropped: Vec<String>,
    },
    Remove {
        offered: Vec<String>,
    },
}

fn dropped_note(dropped: &[String]) -> String {
    if dropped.is_empty() {
        String::new()
    } else {
        format!("; dropped {}", dropped.join(", "))
    }
}

fn essence(media: &str) -> String {
    media
        .split(';')
        .next()
        .unwrap_or(media)
        .trim()
        .to_ascii_lowercase()
}

/// Picks the one media type progenitor will use, preferring JSON.
fn choose_media(content: &mut Map<String, Value>, usage: MediaUse) -> Choice {
    let offered: Vec<String> = content.keys().cloned().collect();
    if offered.is_empty() {
        return Choice::Keep;
    }
    let rank = |m: &str| -> Option<u8> {
        let e = essence(m);
        match e.as_str() {
            "application/json" => Some(0),
            "application/problem+json" => Some(2),
            "text/json" => Some(3),
            "application/*+json" => Some(4),
            "application/json-patch+json" | "application/merge-patch+json" => Some(5),
            _ if e.ends_with("+json") => Some(1),
            _ => None,
        }
    };
    let best = offered
        .iter()
        .filter_map(|m| rank(m).map(|r| (r, m.clone())))
        .min_by_key(|(r, _)| *r)
        .map(|(_, m)| m);
    if let Some(chosen) = best {
        if offered.len() == 1 && chosen == "application/json" {
            if let Some(media) = content.get_mut("application/json")
                && media.get("schema").is_none()
                && let Some(map) = media.as_object_mut()
            {
                map.insert("schema".into(), json!({}));
            }
            return Choice::Keep;
        }
        let mut media = content.get(&chosen).cloned().unwrap_or_else(|| json!({}));
        if media.get("schema").is_none()
            && let Some(map) = media.as_object_mut()
        {
            map.insert("schema".into(), json!({}));
        }
        let dropped = offered.iter().filter(|m| **m != chosen).cloned().collect();
        content.clear();
        content.insert("application/json".into(), media);
        return Choice::Narrowed {
            chosen,
            kept_as: "application/json".into(),
            dropped,
        };
    }
    if usage == MediaUse::Response {
        // No JSON: progenitor returns the raw bytes, whatever the type.
        return Choice::Keep;
    }
    let sendable = [
        "application/octet-stream",
        "application/x-www-form-urlencoded",
        "text/plain",
    ];
    if let Some(chosen) = offered
        .iter()
        .find(|m| sendable.contains(&essence(m).as_str()))
        .cloned()
    {
        if offered.len() > 1 {
            let media = content.get(&chosen).cloned().unwrap_or_else(|| json!({}));
            content.clear();
            content.insert(chosen.clone(), media);
            let dropped = offered.iter().filter(|m| **m != chosen).cloned().collect();
            return Choice::Narrowed {
                kept_as: chosen.clone(),
                chosen,
                dropped,
            };
        }
        return Choice::Keep;
    }
    Choice::Remove { offered }
}

#[cfg(test)]
mod fastapi_tests {
    use super::fastapi_name;

    #[test]
    fn fastapi_ids_are_recognised() {
        assert_eq!(
            fastapi_name(
                "get_account_v1_accounts__account_id__get",
                "get",
                "/accounts/{account_id}"
            )
            .as_deref(),
            Some("get_account")
        );
        assert_eq!(
            fastapi_name("read_item_items__item_id__get", "get", "/items/{item_id}").as_deref(),
            Some("read_item")
        );
        assert_eq!(
            fastapi_name("get_account", "get", "/accounts/{account_id}"),
            None
        );
        assert_eq!(fastapi_name("listPlans", "get", "/v2/plans"), None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_operation_ids_are_snake_case_method_and_path() {
        assert_eq!(
            derive_operation_id("get", "/v2/plans/{planId}/notes"),
            "get_v2_plans_plan_id_notes"
        );
        assert_eq!(
            derive_operation_id("post", "/api/v1/widgets"),
            "post_api_v1_widgets"
        );
    }

    /// A document whose `A` is `allOf [{type: object, ...}, extra]`.
    fn merging(extra: Value, others: Value) -> Value {
        let mut schemas = json!({
            "A": {"allOf": [
                {"type": "object", "properties": {"a": {"type": "string"}}},
                extra
            ]}
        });
        if let (Some(schemas), Value::Object(others)) = (schemas.as_object_mut(), others) {
            schemas.extend(others);
        }
        json!({
            "openapi": "3.0.3",
            "info": {"title": "t", "version": "1"},
            "paths": {},
            "components": {"schemas": schemas}
        })
    }

    #[test]
    fn a_component_merging_itself_loses_that_member() {
        let mut doc = merging(json!({"$ref": "#/components/schemas/A"}), json!({}));
        let mut report = Report::default();
        normalise(&mut doc, &mut report).unwrap();
        assert_eq!(
            doc.pointer("/components/schemas/A/allOf")
                .and_then(Value::as_array)
                .map(Vec::len),
            Some(1)
        );
        assert!(report.by_rule("schema/self-merge").next().is_some());
    }

    #[test]
    fn components_merging_each_other_are_an_error_with_the_place() {
        // A merges B, B merges A: no member can go without changing a schema.
        let mut doc = merging(
            json!({"$ref": "#/components/schemas/B"}),
            json!({"B": {"allOf": [{"$ref": "#/components/schemas/A"}, {"type": "object"}]}}),
        );
        let error = format!(
            "{:#}",
            normalise(&mut doc, &mut Report::default()).unwrap_err()
        );
        assert!(error.contains("/components/schemas/A/allOf"), "{error}");
        assert!(error.contains("way out"), "{error}");
        // A reference back through a property is a recursion typify follows
        // by name, not a merge: no error.
        let mut doc = merging(
            json!({"$ref": "#/components/schemas/B"}),
            json!({"B": {"type": "object", "properties": {"a": {"$ref": "#/components/schemas/A"}}}}),
        );
        normalise(&mut doc, &mut Report::default()).unwrap();
    }

    #[test]
    fn rust_ident_matches_progenitors_sanitising() {
        assert_eq!(rust_ident("$top"), "top");
        assert_eq!(rust_ident("Pinwheel-Version"), "pinwheel_version");
        assert_eq!(rust_ident("pageSize"), "page_size");
        assert_eq!(rust_ident("page-size"), "page_size");
    }
}
