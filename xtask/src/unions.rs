//! Unions (`oneOf`, `anyOf`), put in the shape the generator decodes without
//! losing data.
//!
//! - **Discriminated** unions (a `discriminator`, with or without `mapping`,
//!   or variants that each fix one common property to a different value)
//!   are recorded in an `x-codegen-union` extension on a component of their
//!   own, with every variant a component too. The generator then writes an
//!   enum that picks the variant by its tag and keeps the raw JSON of a tag
//!   added later (`xtask/src/rewrite.rs`). serde's untagged decoding, which
//!   took the first variant that accepted the object, lost the tag: Pinwheel's
//!   W-2 came back as an empty paystub.
//! - **Untagged** unions keep their shape; their variants are ordered so the
//!   most specific is tried first, and variants that accept some of the same
//!   values are reported.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};

use crate::document::escape_pointer;
use crate::names::{rust_type_name, schema_nodes};
use crate::report::Report;

/// The extension that marks a discriminated union for the generator:
/// `{ "property": "...", "variants": [{ "schema": "<component>", "tags": ["..."] }] }`.
pub const EXTENSION: &str = "x-codegen-union";

const STAGE: &str = "normalise";
const COMPONENTS: &str = "/components/schemas";

/// Runs both rules over every union of `doc`.
pub fn unions(doc: &mut Value, report: &mut Report) {
    let mut pointers: Vec<(String, String, bool)> = schema_nodes(doc)
        .into_iter()
        .filter(|node| {
            doc.pointer(&node.pointer).is_some_and(|schema| {
                ["oneOf", "anyOf"].iter().any(|k| {
                    schema
                        .get(*k)
                        .and_then(Value::as_array)
                        .is_some_and(|a| a.len() >= 2)
                })
            })
        })
        .map(|node| (node.pointer, node.context, node.component))
        .collect();
    // Deepest first: hoisting a union moves what is below it, so what is
    // below must already be done.
    pointers.sort_by_key(|(pointer, _, _)| std::cmp::Reverse(pointer.matches('/').count()));
    for (pointer, context, component) in pointers {
        let Some(schema) = doc.pointer(&pointer).cloned() else {
            continue;
        };
        match discriminate(doc, &schema, &pointer, report) {
            Some(variants) => {
                tag(
                    doc, &pointer, &context, component, &schema, variants, report,
                );
            }
            None => order(doc, &pointer, report),
        }
    }
}

/// How a discriminated union tells its variants apart.
struct Discriminated {
    property: String,
    /// Per branch, in order: the tags that select it.
    tags: Vec<Vec<String>>,
}

/// The union's branches and their key (`oneOf` or `anyOf`).
fn branches(schema: &Value) -> Option<(&'static str, &Vec<Value>)> {
    ["oneOf", "anyOf"]
        .into_iter()
        .find_map(|k| schema.get(k).and_then(Value::as_array).map(|b| (k, b)))
}

/// The component a `$ref` (or an `allOf` holding only one) names.
fn component_of(schema: &Value) -> Option<String> {
    if let Some(target) = schema.get("$ref").and_then(Value::as_str) {
        return target
            .strip_prefix("#/components/schemas/")
            .map(|name| name.replace("~1", "/").replace("~0", "~"));
    }
    match schema.get("allOf").and_then(Value::as_array) {
        Some(all) if all.len() == 1 => component_of(&all[0]),
        _ => None,
    }
}

/// The schema a branch stands for, references followed.
fn resolve<'d>(doc: &'d Value, schema: &'d Value) -> &'d Value {
    let mut current = schema;
    for _ in 0..8 {
        match component_of(current)
            .and_then(|name| doc.pointer(&format!("{COMPONENTS}/{}", escape_pointer(&name))))
        {
            Some(next) => current = next,
            None => break,
        }
    }
    current
}

/// An object schema's properties, those of its `allOf` members included.
fn properties(doc: &Value, schema: &Value, depth: usize) -> BTreeMap<String, Value> {
    let schema = resolve(doc, schema);
    let mut out = BTreeMap::new();
    if depth > 4 {
        return out;
    }
    if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
        for member in all {
            out.extend(properties(doc, member, depth + 1));
        }
    }
    if let Some(props) = schema.get("properties").and_then(Value::as_object) {
        out.extend(props.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    out
}

/// The one string a property schema allows, if it allows exactly one.
fn single_value(doc: &Value, schema: &Value) -> Option<String> {
    let schema = resolve(doc, schema);
    match schema.get("enum").and_then(Value::as_array) {
        Some(values) => {
            let strings: Vec<&str> = values.iter().filter_map(Value::as_str).collect();
            (strings.len() == 1 && values.iter().all(|v| v.is_string() || v.is_null()))
                .then(|| strings[0].to_owned())
        }
        None => None,
    }
}

/// Decides whether `schema` is a discriminated union, and by what.
fn discriminate(
    doc: &Value,
    schema: &Value,
    pointer: &str,
    report: &mut Report,
) -> Option<Discriminated> {
    let (_, branches) = branches(schema)?;
    let explicit = schema
        .pointer("/discriminator/propertyName")
        .and_then(Value::as_str);
    let found = match explicit {
        Some(property) => {
            let mapping = schema
                .pointer("/discriminator/mapping")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default();
            let mut tags = Vec::new();
            for branch in branches {
                let component = component_of(branch);
                let mut these: Vec<String> = mapping
                    .iter()
                    .filter(|(_, target)| {
                        let target = target.as_str().unwrap_or_default();
                        component.as_deref().is_some_and(|c| {
                            target == c || target.strip_prefix("#/components/schemas/") == Some(c)
                        })
                    })
                    .map(|(tag, _)| tag.clone())
                    .collect();
                if these.is_empty() {
                    let fixed = properties(doc, branch, 0)
                        .get(property)
                        .and_then(|p| single_value(doc, p));
                    match (fixed, component) {
                        (Some(value), _) => these.push(value),
                        // OpenAPI's rule: without a mapping, the tag is the component's name.
                        (None, Some(name)) => these.push(name),
                        (None, None) => {
                            report.push(
                                STAGE,
                                "union/discriminator-unusable",
                                pointer,
                                format!(
                                    "discriminator `{property}`: an inline variant has no mapping entry and no fixed \
                                     value, so the union is decoded untagged (add a `mapping` with an overlay)"
                                ),
                            );
                            return None;
                        }
                    }
                }
                tags.push(these);
            }
            Discriminated {
                property: property.to_owned(),
                tags,
            }
        }
        None => {
            // Variants that each fix one common property to its own value.
            let fixed: Vec<BTreeMap<String, String>> = branches
                .iter()
                .map(|branch| {
                    properties(doc, branch, 0)
                        .iter()
                        .filter_map(|(name, p)| single_value(doc, p).map(|v| (name.clone(), v)))
                        .collect()
                })
                .collect();
            let common: BTreeSet<&String> = fixed
                .iter()
                .map(|f| f.keys().collect::<BTreeSet<_>>())
                .reduce(|a, b| a.intersection(&b).copied().collect())
                .unwrap_or_default();
            let property = common.into_iter().find(|p| {
                let values: BTreeSet<&String> = fixed.iter().filter_map(|f| f.get(*p)).collect();
                values.len() == fixed.len()
            })?;
            Discriminated {
                property: property.clone(),
                tags: fixed.iter().map(|f| vec![f[property].clone()]).collect(),
            }
        }
    };
    let mut seen = BTreeSet::new();
    if let Some(repeated) = found.tags.iter().flatten().find(|t| !seen.insert(*t)) {
        report.push(
            STAGE,
            "union/discriminator-unusable",
            pointer,
            format!(
                "tag `{repeated}` of `{}` selects more than one variant, so the union is decoded untagged",
                found.property
            ),
        );
        return None;
    }
    Some(found)
}

/// Every Rust name the components already take.
fn taken_names(doc: &Value) -> BTreeSet<String> {
    doc.pointer(COMPONENTS)
        .and_then(Value::as_object)
        .map(|m| m.keys().map(|k| rust_type_name(k)).collect())
        .unwrap_or_default()
}

/// A component name whose Rust name no component has yet.
fn fresh_name(doc: &Value, wanted: &str) -> String {
    let taken = taken_names(doc);
    let base = rust_type_name(wanted);
    let mut name = base.clone();
    let mut n = 2;
    while taken.contains(&rust_type_name(&name)) {
        name = format!("{base}{n}");
        n += 1;
    }
    name
}

fn insert_component(doc: &mut Value, name: &str, schema: Value) {
    if let Some(root) = doc.as_object_mut() {
        let components = root.entry("components").or_insert_with(|| json!({}));
        if let Some(components) = components.as_object_mut() {
            let schemas = components.entry("schemas").or_insert_with(|| json!({}));
            if let Some(schemas) = schemas.as_object_mut() {
                schemas.insert(name.to_owned(), schema);
            }
        }
    }
}

fn reference(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{}", escape_pointer(name)) })
}

/// Rule `union/discriminator`: gives the union and each inline variant a
/// component of its own and records the tags for the generator.
fn tag(
    doc: &mut Value,
    pointer: &str,
    context: &str,
    component: bool,
    schema: &Value,
    found: Discriminated,
    report: &mut Report,
) {
    let Some((key, branches)) = branches(schema) else {
        return;
    };
    // Properties or `allOf` beside the branches make typify merge them into
    // one struct: not a tagged enum, so leave it to typify.
    if schema.get("properties").is_some() || schema.get("allOf").is_some() {
        return;
    }
    let mut union = schema.clone();
    // `type: object` beside the branches (Box) would make typify build a
    // struct; every branch is an object already.
    if let Some(map) = union.as_object_mut() {
        map.shift_remove("type");
    }
    let union_name = if component {
        pointer
            .rsplit('/')
            .next()
            .map(|k| k.replace("~1", "/").replace("~0", "~"))
            .unwrap_or_default()
    } else {
        let title = schema
            .get("title")
            .and_then(Value::as_str)
            .map(rust_type_name);
        let wanted = title
            .filter(|t| !taken_names(doc).contains(t))
            .unwrap_or_else(|| context.to_owned());
        fresh_name(doc, &wanted)
    };
    let mut variants = Vec::new();
    let mut hoisted = Vec::new();
    let mut new_branches = Vec::new();
    for (branch, tags) in branches.iter().zip(&found.tags) {
        let name = match component_of(branch) {
            Some(name) => name,
            None => {
                let name = fresh_name(
                    doc,
                    &format!(
                        "{}{}",
                        rust_type_name(&union_name),
                        rust_type_name(&tags[0])
                    ),
                );
                insert_component(doc, &name, branch.clone());
                hoisted.push(name.clone());
                name
            }
        };
        new_branches.push(reference(&name));
        variants.push(json!({ "schema": name, "tags": tags }));
    }
    if let Some(map) = union.as_object_mut() {
        map.shift_remove(key);
        map.insert("oneOf".into(), Value::Array(new_branches));
        map.insert(
            EXTENSION.into(),
            json!({ "property": found.property, "variants": variants }),
        );
    }
    let summary = found
        .tags
        .iter()
        .zip(&variants)
        .map(|(tags, v)| {
            format!(
                "{} -> {}",
                tags.join("|"),
                v["schema"].as_str().unwrap_or_default()
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    let how = if schema.get("discriminator").is_some() {
        "its discriminator"
    } else {
        "the one value each variant fixes for it"
    };
    report.push(
        STAGE,
        "union/discriminator",
        pointer,
        format!(
            "variants chosen by `{}` ({how}): {summary}; a tag this version does not know is kept as raw JSON{}{}",
            found.property,
            if key == "anyOf" { "; `anyOf` read as `oneOf`, as a tag selects one variant" } else { "" },
            if hoisted.is_empty() {
                String::new()
            } else {
                format!("; inline variants made components: {}", hoisted.join(", "))
            }
        ),
    );
    if component {
        if let Some(slot) = doc.pointer_mut(pointer) {
            *slot = union;
        }
        return;
    }
    // The union moves to a component; what pointed at it keeps its own
    // nullability and prose.
    let mut here = Map::new();
    if let Some(map) = union.as_object_mut() {
        for k in [
            "nullable",
            "description",
            "readOnly",
            "writeOnly",
            "deprecated",
            "default",
        ] {
            if let Some(v) = map.get(k) {
                here.insert(k.into(), v.clone());
            }
        }
        map.shift_remove("nullable");
    }
    let replacement = if here.is_empty() {
        reference(&union_name)
    } else {
        here.insert("allOf".into(), json!([reference(&union_name)]));
        Value::Object(here)
    };
    insert_component(doc, &union_name, union);
    if let Some(slot) = doc.pointer_mut(pointer) {
        *slot = replacement;
    }
    report.push(
        STAGE,
        "union/hoist",
        pointer,
        format!("discriminated union made the component `{union_name}`"),
    );
}

/// What a branch of an untagged union accepts, for ordering and overlaps.
#[derive(Debug, Clone)]
struct Profile {
    label: String,
    /// JSON kinds: `null`, `boolean`, `integer`, `number`, `string`, `array`, `object`, or `any`.
    kind: &'static str,
    /// A string with an `enum`, `format` or `pattern`.
    narrowed: bool,
    required: BTreeSet<String>,
    properties: BTreeSet<String>,
    closed: bool,
}

impl Profile {
    fn of(doc: &Value, branch: &Value, index: usize) -> Self {
        let schema = resolve(doc, branch);
        let ty = schema.get("type").and_then(Value::as_str);
        let label = component_of(branch)
            .unwrap_or_else(|| format!("variant {index} ({})", ty.unwrap_or("untyped")));
        let props = properties(doc, branch, 0);
        let kind = match ty {
            Some("null") => "null",
            Some("boolean") => "boolean",
            Some("integer") => "integer",
            Some("number") => "number",
            Some("string") => "string",
            Some("array") => "array",
            Some("object") => "object",
            _ if !props.is_empty() => "object",
            _ if schema.get("enum").is_some() => "string",
            _ => "any",
        };
        let mut required = BTreeSet::new();
        collect_required(doc, branch, &mut required, 0);
        Profile {
            label,
            kind,
            narrowed: ["enum", "format", "pattern"]
                .iter()
                .any(|k| schema.get(*k).is_some()),
            required,
            properties: props.keys().cloned().collect(),
            closed: schema.get("additionalProperties") == Some(&Value::Bool(false)),
        }
    }

    /// Lower is tried first: narrow before wide, integers before numbers,
    /// objects needing more fields before those needing fewer, anything last.
    fn rank(&self) -> (u8, usize) {
        let kind = match self.kind {
            "null" => 0,
            "boolean" => 1,
            "integer" => 2,
            "number" => 3,
            "string" if self.narrowed => 4,
            "string" => 5,
            "array" => 6,
            "object" if self.closed => 7,
            "object" => 8,
            _ => 9,
        };
        (kind, usize::MAX - self.required.len())
    }

    /// Whether some value is accepted by both.
    fn overlaps(&self, other: &Profile) -> Option<String> {
        match (self.kind, other.kind) {
            ("any", _) | (_, "any") => Some("any value the other accepts".into()),
            ("integer", "number") | ("number", "integer") => Some("integers".into()),
            // An open enum keeps any string, so two string variants always meet.
            ("string", "string") => Some("strings".into()),
            ("object", "object") => {
                let fits = |a: &Profile, b: &Profile| {
                    !a.closed || b.required.iter().all(|r| a.properties.contains(r))
                };
                (fits(self, other) && fits(other, self)).then(|| {
                    let keys: BTreeSet<&String> = self.required.union(&other.required).collect();
                    format!(
                        "objects with {}",
                        if keys.is_empty() {
                            "any keys".to_owned()
                        } else {
                            format!(
                                "the keys {}",
                                keys.into_iter().cloned().collect::<Vec<_>>().join(", ")
                            )
                        }
                    )
                })
            }
            (a, b) if a == b && a != "string" => Some(format!("values of type {a}")),
            _ => None,
        }
    }
}

fn collect_required(doc: &Value, schema: &Value, into: &mut BTreeSet<String>, depth: usize) {
    let schema = resolve(doc, schema);
    if depth > 4 {
        return;
    }
    if let Some(required) = schema.get("required").and_then(Value::as_array) {
        into.extend(required.iter().filter_map(Value::as_str).map(str::to_owned));
    }
    if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
        for member in all {
            collect_required(doc, member, into, depth + 1);
        }
    }
}

/// Rules `union/order` and `union/overlap` for an untagged union.
fn order(doc: &mut Value, pointer: &str, report: &mut Report) {
    let Some(schema) = doc.pointer(pointer) else {
        return;
    };
    let Some((key, branches)) = branches(schema) else {
        return;
    };
    let mut profiled: Vec<(Profile, Value)> = branches
        .iter()
        .enumerate()
        .map(|(i, b)| (Profile::of(doc, b, i), b.clone()))
        .collect();
    let before: Vec<String> = profiled.iter().map(|(p, _)| p.label.clone()).collect();
    profiled.sort_by_key(|(p, _)| p.rank());
    let after: Vec<String> = profiled.iter().map(|(p, _)| p.label.clone()).collect();
    let mut notes = Vec::new();
    for (i, (first, _)) in profiled.iter().enumerate() {
        for (second, _) in &profiled[i + 1..] {
            if let Some(what) = first.overlaps(second) {
                notes.push(format!(
                    "`{}` and `{}` both accept {what}; `{}` is tried first",
                    first.label, second.label, first.label
                ));
            }
        }
    }
    // Only variants that meet can shadow each other; leave the rest as the
    // vendor wrote them.
    if before != after && !notes.is_empty() {
        let reordered: Vec<Value> = profiled.into_iter().map(|(_, b)| b).collect();
        if let Some(slot) = doc.pointer_mut(&format!("{pointer}/{key}")) {
            *slot = Value::Array(reordered);
        }
        report.push(
            STAGE,
            "union/order",
            pointer,
            format!(
                "untagged `{key}` variants ordered most specific first: {} (was {})",
                after.join(", "),
                before.join(", ")
            ),
        );
    }
    for note in notes {
        report.push(STAGE, "union/overlap", pointer, note);
    }
}
