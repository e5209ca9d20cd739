//! Rust type names, as typify will choose them, and the rule that keeps two
//! different schemas from ending up as one type.
//!
//! typify names an inline schema after its `title` when it has one, and when
//! a second, different schema asks for a name already taken it silently
//! reuses the first type (typify-impl 0.8 `TypeSpace::assign_type`). FastAPI
//! and pydantic put a `title` on every property, so in Pinwheel's document
//! five different `document_type` enums became one type whose only value
//! was `W-2`. [`unique_titles`] gives every such schema a title of its own,
//! taken from where it sits in the document.

use std::collections::{BTreeMap, BTreeSet};

use heck::ToUpperCamelCase;
use serde_json::{Value, json};

use crate::document::escape_pointer;
use crate::normalize::METHODS;
use crate::report::Report;

/// typify's name for a schema called `input` (typify-impl `util::sanitize`
/// with Pascal case): the same rules, so a component's Rust name can be
/// predicted and then checked in the generated code.
pub fn rust_type_name(input: &str) -> String {
    let cleaned: String = input
        .replace('\'', "")
        .chars()
        .map(|c| {
            if unicode_ident::is_xid_continue(c) {
                c
            } else {
                '-'
            }
        })
        .collect();
    let out = match input {
        "+1" => "plus1".to_owned(),
        "-1" => "minus1".to_owned(),
        _ => cleaned.to_upper_camel_case(),
    };
    let out = match out.chars().next() {
        None => "X".to_owned(),
        Some(c) if unicode_ident::is_xid_start(c) => out,
        Some(_) => format!("X{out}"),
    };
    if is_keyword(&out) {
        format!("{out}_")
    } else {
        out
    }
}

fn is_keyword(ident: &str) -> bool {
    matches!(
        ident,
        "_" | "abstract"
            | "as"
            | "async"
            | "await"
            | "become"
            | "box"
            | "break"
            | "const"
            | "continue"
            | "crate"
            | "do"
            | "dyn"
            | "else"
            | "enum"
            | "extern"
            | "false"
            | "final"
            | "fn"
            | "for"
            | "gen"
            | "if"
            | "impl"
            | "in"
            | "let"
            | "loop"
            | "macro"
            | "match"
            | "mod"
            | "move"
            | "mut"
            | "override"
            | "priv"
            | "pub"
            | "ref"
            | "return"
            | "Self"
            | "self"
            | "static"
            | "struct"
            | "super"
            | "trait"
            | "true"
            | "try"
            | "type"
            | "typeof"
            | "unsafe"
            | "unsized"
            | "use"
            | "virtual"
            | "where"
            | "while"
            | "yield"
    )
}

/// One schema position in a document.
#[derive(Debug, Clone)]
pub struct SchemaNode {
    /// JSON pointer to the schema.
    pub pointer: String,
    /// A Rust-style name for it from where it sits (`Plan` + `Status` for
    /// the `Status` property of the `Plan` component).
    pub context: String,
    /// Whether it is a component schema itself (named by its key).
    pub component: bool,
}

/// Every schema position of `doc`, parents before children, in document order.
pub fn schema_nodes(doc: &Value) -> Vec<SchemaNode> {
    let mut nodes = Vec::new();
    if let Some(schemas) = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
    {
        for (name, schema) in schemas {
            let pointer = format!("/components/schemas/{}", escape_pointer(name));
            walk(schema, pointer, rust_type_name(name), true, &mut nodes);
        }
    }
    for section in ["parameters", "requestBodies", "responses"] {
        if let Some(items) = doc
            .pointer(&format!("/components/{section}"))
            .and_then(Value::as_object)
        {
            for (name, item) in items {
                let pointer = format!("/components/{section}/{}", escape_pointer(name));
                media_schemas(item, &pointer, &rust_type_name(name), &mut nodes);
            }
        }
    }
    let Some(paths) = doc.get("paths").and_then(Value::as_object) else {
        return nodes;
    };
    for (path, item) in paths {
        let path_pointer = format!("/paths/{}", escape_pointer(path));
        if let Some(parameters) = item.get("parameters").and_then(Value::as_array) {
            for (i, parameter) in parameters.iter().enumerate() {
                let name = parameter.get("name").and_then(Value::as_str).unwrap_or("");
                media_schemas(
                    parameter,
                    &format!("{path_pointer}/parameters/{i}"),
                    &rust_type_name(&format!("{path}-{name}")),
                    &mut nodes,
                );
            }
        }
        for method in METHODS {
            let Some(op) = item.get(method) else { continue };
            let pointer = format!("{path_pointer}/{method}");
            let id = op.get("operationId").and_then(Value::as_str).map_or_else(
                || rust_type_name(&format!("{method}-{path}")),
                rust_type_name,
            );
            if let Some(parameters) = op.get("parameters").and_then(Value::as_array) {
                for (i, parameter) in parameters.iter().enumerate() {
                    let name = parameter.get("name").and_then(Value::as_str).unwrap_or("");
                    media_schemas(
                        parameter,
                        &format!("{pointer}/parameters/{i}"),
                        &format!("{id}{}", rust_type_name(name)),
                        &mut nodes,
                    );
                }
            }
            if let Some(body) = op.get("requestBody") {
                media_schemas(
                    body,
                    &format!("{pointer}/requestBody"),
                    &format!("{id}Body"),
                    &mut nodes,
                );
            }
            if let Some(responses) = op.get("responses").and_then(Value::as_object) {
                for (code, response) in responses {
                    media_schemas(
                        response,
                        &format!("{pointer}/responses/{}", escape_pointer(code)),
                        &format!("{id}Response"),
                        &mut nodes,
                    );
                }
            }
        }
    }
    nodes
}

/// The schemas of a parameter (`schema`), or of a body or response (`content/*/schema`).
fn media_schemas(item: &Value, pointer: &str, context: &str, nodes: &mut Vec<SchemaNode>) {
    if let Some(schema) = item.get("schema") {
        walk(
            schema,
            format!("{pointer}/schema"),
            context.to_owned(),
            false,
            nodes,
        );
    }
    if let Some(content) = item.get("content").and_then(Value::as_object) {
        for (media, value) in content {
            if let Some(schema) = value.get("schema") {
                walk(
                    schema,
                    format!("{pointer}/content/{}/schema", escape_pointer(media)),
                    context.to_owned(),
                    false,
                    nodes,
                );
            }
        }
    }
}

fn walk(
    schema: &Value,
    pointer: String,
    context: String,
    component: bool,
    nodes: &mut Vec<SchemaNode>,
) {
    let Some(map) = schema.as_object() else {
        return;
    };
    nodes.push(SchemaNode {
        pointer: pointer.clone(),
        context: context.clone(),
        component,
    });
    if let Some(properties) = map.get("properties").and_then(Value::as_object) {
        for (name, child) in properties {
            walk(
                child,
                format!("{pointer}/properties/{}", escape_pointer(name)),
                format!("{context}{}", rust_type_name(name)),
                false,
                nodes,
            );
        }
    }
    for (key, suffix) in [
        ("items", "Item"),
        ("additionalProperties", "Value"),
        ("not", "Not"),
    ] {
        if let Some(child) = map.get(key)
            && child.is_object()
        {
            walk(
                child,
                format!("{pointer}/{key}"),
                format!("{context}{suffix}"),
                false,
                nodes,
            );
        }
    }
    for key in ["allOf", "anyOf", "oneOf"] {
        if let Some(children) = map.get(key).and_then(Value::as_array) {
            for (i, child) in children.iter().enumerate() {
                // typify merges `allOf` members into the schema itself, so
                // what sits in them is named from the schema.
                let name = if key == "allOf" {
                    context.clone()
                } else {
                    format!("{context}Variant{i}")
                };
                walk(child, format!("{pointer}/{key}/{i}"), name, false, nodes);
            }
        }
    }
}

/// Whether typify makes a named Rust type of this schema (so its name matters).
fn becomes_named_type(schema: &Value) -> bool {
    [
        "enum",
        "properties",
        "oneOf",
        "anyOf",
        "allOf",
        "pattern",
        "minLength",
        "maxLength",
    ]
    .iter()
    .any(|k| schema.get(*k).is_some())
        || schema.get("type").is_some_and(|t| t == "object")
}

/// Whether the schema at `pointer` is a member of an `allOf` list (typify
/// merges it into the list's owner; it is no type of its own).
fn is_all_of_member(pointer: &str) -> bool {
    pointer
        .rsplit_once('/')
        .is_some_and(|(parent, last)| parent.ends_with("/allOf") && last.parse::<usize>().is_ok())
}

/// Whether a schema is nullable itself or through an `allOf` member (which
/// typify merges into it).
fn nullable_through_all_of(doc: &Value, schema: &Value, depth: usize) -> bool {
    if depth > 16 {
        return false;
    }
    let schema = match schema
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix('#'))
        .and_then(|p| doc.pointer(p))
    {
        Some(target) => target,
        None => schema,
    };
    schema.get("nullable") == Some(&Value::Bool(true))
        || schema
            .get("allOf")
            .and_then(Value::as_array)
            .is_some_and(|members| {
                members
                    .iter()
                    .any(|m| nullable_through_all_of(doc, m, depth + 1))
            })
}

/// A reference, or a reference wrapped to add `nullable` or prose
/// (`allOf: [{$ref}]`): typify uses the referenced type, naming nothing new.
fn wraps_one_ref(schema: &Value) -> bool {
    schema.get("$ref").is_some()
        || (["allOf", "anyOf", "oneOf"].iter().any(|k| {
            schema
                .get(*k)
                .and_then(Value::as_array)
                .is_some_and(|list| list.len() == 1 && list[0].get("$ref").is_some())
        }) && !["properties", "enum", "items", "additionalProperties"]
            .iter()
            .any(|k| schema.get(*k).is_some()))
}

/// The schema without what only feeds documentation, so that two schemas that
/// differ only in prose count as one type (typify's reuse is right for them).
pub fn shape(schema: &Value) -> Value {
    match schema {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(k, _)| {
                    !matches!(
                        k.as_str(),
                        "description" | "title" | "example" | "examples" | "deprecated"
                    ) && !k.starts_with("x-")
                })
                .map(|(k, v)| {
                    // The keys of these maps are names (a property called
                    // `description` is a property), not documentation.
                    let named = matches!(
                        k.as_str(),
                        "properties" | "patternProperties" | "definitions"
                    );
                    let v = match v {
                        Value::Object(children) if named => Value::Object(
                            children
                                .iter()
                                .map(|(name, child)| (name.clone(), shape(child)))
                                .collect(),
                        ),
                        _ => shape(v),
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(shape).collect()),
        other => other.clone(),
    }
}

/// Rule `schema/title-collision`: inline schemas whose titles give the same
/// Rust name as a different schema (inline or a component) get a title of
/// their own, from where they sit. Schemas that differ only in prose keep
/// theirs: one type serves them all.
pub fn unique_titles(doc: &mut Value, report: &mut Report) {
    let nodes = schema_nodes(doc);
    // Every name a component or a title asks for, with the shapes asking.
    let mut wanted: BTreeMap<String, Vec<(usize, Value)>> = BTreeMap::new();
    // Untitled inline schemas typify names from where they sit.
    let mut placed: Vec<(usize, String)> = Vec::new();
    for (i, node) in nodes.iter().enumerate() {
        let Some(schema) = doc.pointer(&node.pointer) else {
            continue;
        };
        let name = if node.component {
            node.context.clone()
        } else {
            match schema.get("title").and_then(Value::as_str) {
                Some(title) if becomes_named_type(schema) => rust_type_name(title),
                None if becomes_named_type(schema)
                    && !wraps_one_ref(schema)
                    && !is_all_of_member(&node.pointer) =>
                {
                    placed.push((i, node.context.clone()));
                    continue;
                }
                _ => continue,
            }
        };
        wanted.entry(name).or_default().push((i, shape(schema)));
    }
    let mut taken: BTreeSet<String> = wanted.keys().cloned().collect();
    let mut renames = Vec::new();
    // An untitled inline schema whose name from its place (`Classification`
    // + `$template`) is a component's or a title's: typify would define the
    // name twice.
    for (i, name) in &placed {
        let Some(askers) = wanted.get(name) else {
            continue;
        };
        let Some(schema) = doc.pointer(&nodes[*i].pointer) else {
            continue;
        };
        let own = shape(schema);
        if askers.iter().any(|(_, s)| *s != own) {
            renames.push((
                nodes[*i].pointer.clone(),
                format!("{name}Inline"),
                name.clone(),
                "this untitled schema would be named `{old}` from where it sits, a name a different schema has; \
                 typify would define it twice, or silently use one type for both",
            ));
        }
    }
    // A nullable component titled with its own name: typify wraps it in a
    // newtype of that name around an inner type named by the title.
    for node in nodes.iter().filter(|n| n.component) {
        let Some(schema) = doc.pointer(&node.pointer) else {
            continue;
        };
        let titled_alike = schema
            .get("title")
            .and_then(Value::as_str)
            .is_some_and(|t| rust_type_name(t) == node.context);
        if titled_alike && nullable_through_all_of(doc, schema, 0) && becomes_named_type(schema) {
            renames.push((
                node.pointer.clone(),
                format!("{}Value", node.context),
                node.context.clone(),
                "this nullable component is titled with its own name `{old}`; typify would name both the \
                 `Option` newtype and the type inside it `{old}`",
            ));
        }
    }
    // An inline schema titled like a component and the same as it but for
    // prose: typify does not always reuse the component's type for it (a
    // parameter's schema gets a second type of the same name), so it
    // becomes a reference to the component.
    let mut reuses: Vec<(String, String)> = Vec::new();
    for askers in wanted.values() {
        let Some((component, component_shape)) = askers.iter().find(|(i, _)| nodes[*i].component)
        else {
            continue;
        };
        for (i, schema_shape) in askers {
            if nodes[*i].component || schema_shape != component_shape {
                continue;
            }
            let same = doc.pointer(&nodes[*i].pointer) == doc.pointer(&nodes[*component].pointer);
            if !same {
                reuses.push((nodes[*i].pointer.clone(), nodes[*component].pointer.clone()));
            }
        }
    }
    for (pointer, component) in reuses {
        let Some(node) = doc.pointer_mut(&pointer) else {
            // Inside a schema an earlier reuse replaced.
            continue;
        };
        *node = json!({ "$ref": format!("#{component}") });
        report.push(
            "normalise",
            "schema/title-reuse",
            pointer,
            format!(
                "titled like `#{component}` and the same but for its prose; now a reference to it, so one type \
                 serves both"
            ),
        );
    }
    for (name, askers) in &wanted {
        let distinct: BTreeSet<String> = askers.iter().map(|(_, s)| s.to_string()).collect();
        if distinct.len() < 2 {
            continue;
        }
        // A component keeps its name; every inline schema that is not
        // identical to it (or, without a component, every inline one) moves.
        let component_shape = askers
            .iter()
            .find(|(i, _)| nodes[*i].component)
            .map(|(_, s)| s.to_string());
        for (i, schema_shape) in askers {
            let node = &nodes[*i];
            if node.component || component_shape.as_deref() == Some(&schema_shape.to_string()) {
                continue;
            }
            renames.push((
                node.pointer.clone(),
                node.context.clone(),
                name.clone(),
                "title names the type `{old}`, which a different schema also asks for (typify would silently reuse \
                 one type for both)",
            ));
        }
    }
    for (pointer, context, old, why) in renames {
        let mut new = context.clone();
        let mut n = 2;
        while taken.contains(&new) {
            new = format!("{context}{n}");
            n += 1;
        }
        taken.insert(new.clone());
        let Some(map) = doc.pointer_mut(&pointer).and_then(Value::as_object_mut) else {
            continue;
        };
        map.insert("title".into(), json!(new));
        report.push(
            "normalise",
            "schema/title-collision",
            pointer,
            format!("{}; retitled `{new}`", why.replace("{old}", &old)),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_typify() {
        for (input, expected) in [
            ("UploadedSSIAwardLetter", "UploadedSsiAwardLetter"),
            ("parsed_data", "ParsedData"),
            ("Plan.Status", "PlanStatus"),
            ("2fa", "X2fa"),
            ("self", "Self_"),
            ("don't", "Dont"),
            ("", "X"),
        ] {
            assert_eq!(rust_type_name(input), expected, "{input}");
        }
    }
}
