//! The comparison itself: operations by `operationId`, component schemas by
//! name, and schemas structurally (the rules are in the parent module).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use super::{Change, Class, Item, RULES};
use crate::document::{escape_pointer, follow_refs as resolve};
use crate::names::{rust_type_name, shape};
use crate::normalize::{METHODS, rust_ident};

/// Every change from `old` to `new` (both normalised documents).
pub fn compare(old: &Value, new: &Value) -> Vec<Change> {
    let mut diff = Diff {
        old,
        new,
        request: request_schemas(old)
            .union(&request_schemas(new))
            .cloned()
            .collect(),
        renamed: BTreeMap::new(),
        out: Vec::new(),
    };
    diff.renames();
    diff.operations();
    diff.schemas();
    diff.out
}

struct Diff<'a> {
    old: &'a Value,
    new: &'a Value,
    /// Component schemas sent in a request (in either document).
    request: BTreeSet<String>,
    /// Component schemas renamed: old name -> new name.
    renamed: BTreeMap<String, String>,
    out: Vec<Change>,
}

/// Where a schema sits, for messages and for the rules that depend on it.
#[derive(Clone)]
struct Place {
    /// Pointer in the new document (or the old one where only it has the schema).
    pointer: String,
    /// What it is, for messages: "field `x` of `Foo`".
    what: String,
    /// The Rust name typify gives the schema when it becomes a named type.
    type_name: String,
    /// Whether it is sent in a request.
    request: bool,
    /// The items a change here touches.
    items: Vec<Item>,
    /// Whether the schema is inline where typify names its type after its
    /// `title` (not a component, not a part of an `allOf`).
    inline: bool,
    /// Whether nullability is compared here (it is compared elsewhere for
    /// properties, which decide `Option` with required-ness, and for
    /// parameters).
    nullability: bool,
}

impl Place {
    /// An inline schema below this one: typify names it after its `title`
    /// when it has one, else after where it sits (`type_name`).
    fn child(&self, schema: &Value, pointer: String, what: String, type_name: String) -> Self {
        let (inner, _) = unwrap(schema);
        let type_name = [schema, inner]
            .iter()
            .find_map(|s| s.get("title").and_then(Value::as_str))
            .map_or(type_name, rust_type_name);
        Self {
            pointer,
            what,
            type_name,
            request: self.request,
            items: self.items.clone(),
            inline: true,
            nullability: true,
        }
    }
}

fn schemas(doc: &Value) -> Option<&Map<String, Value>> {
    doc.pointer("/components/schemas")
        .and_then(Value::as_object)
}

/// The component a `$ref` names, when it is a local schema reference.
fn ref_name(schema: &Value) -> Option<&str> {
    schema
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix("#/components/schemas/"))
}

/// Every component schema reachable from a request parameter or body.
fn request_schemas(doc: &Value) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut todo = Vec::new();
    for op in operations(doc).values() {
        for parameter in op.parameters(doc) {
            collect_refs(parameter.value, &mut todo);
        }
        if let Some(body) = op.op.get("requestBody") {
            collect_refs(resolve(doc, body), &mut todo);
        }
    }
    while let Some(name) = todo.pop() {
        if seen.insert(name.clone())
            && let Some(schema) = schemas(doc).and_then(|s| s.get(&name))
        {
            collect_refs(schema, &mut todo);
        }
    }
    seen
}

fn collect_refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if let Some(name) = ref_name(value) {
                out.push(name.to_owned());
            }
            map.values().for_each(|v| collect_refs(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

/// One operation of a document.
struct Operation<'a> {
    method: &'a str,
    path: &'a str,
    pointer: String,
    op: &'a Value,
    path_item: &'a Value,
}

/// One effective parameter of an operation.
struct Parameter<'a> {
    key: (String, String),
    pointer: String,
    value: &'a Value,
}

impl<'a> Operation<'a> {
    /// Path-level parameters overridden by operation-level ones, `$ref`s followed.
    fn parameters(&self, doc: &'a Value) -> Vec<Parameter<'a>> {
        let mut out: Vec<Parameter<'a>> = Vec::new();
        let path_pointer = self
            .pointer
            .rsplit_once('/')
            .map_or("", |(p, _)| p)
            .to_owned();
        for (owner, pointer) in [
            (self.path_item, path_pointer),
            (self.op, self.pointer.clone()),
        ] {
            let Some(list) = owner.get("parameters").and_then(Value::as_array) else {
                continue;
            };
            for (i, parameter) in list.iter().enumerate() {
                let value = resolve(doc, parameter);
                let field = |k: &str| value.get(k).and_then(Value::as_str).unwrap_or("");
                let key = (field("in").to_owned(), field("name").to_owned());
                out.retain(|p| p.key != key);
                out.push(Parameter {
                    key,
                    pointer: format!("{pointer}/parameters/{i}"),
                    value,
                });
            }
        }
        out
    }

    fn describe(&self) -> String {
        format!("{} {}", self.method.to_uppercase(), self.path)
    }
}

/// The operations of `doc` by `operationId`.
fn operations(doc: &Value) -> BTreeMap<String, Operation<'_>> {
    let mut out = BTreeMap::new();
    let Some(paths) = doc.get("paths").and_then(Value::as_object) else {
        return out;
    };
    for (path, path_item) in paths {
        for method in METHODS {
            let Some(op) = path_item.get(method) else {
                continue;
            };
            let id = op.get("operationId").and_then(Value::as_str).map_or_else(
                || crate::normalize::derive_operation_id(method, path),
                str::to_owned,
            );
            // A duplicate operationId must not hide an operation: the
            // second one is keyed with its method and path too.
            let id = if out.contains_key(&id) {
                format!("{id} ({} {path})", method.to_uppercase())
            } else {
                id
            };
            out.insert(
                id,
                Operation {
                    method,
                    path,
                    pointer: format!("/paths/{}/{method}", escape_pointer(path)),
                    op,
                    path_item,
                },
            );
        }
    }
    out
}

/// Whether a parameter's setter must be called: progenitor makes a query
/// parameter whose schema is nullable optional whatever its `required`.
fn is_required(parameter: &Value) -> bool {
    let location = parameter.get("in").and_then(Value::as_str);
    let nullable = parameter
        .get("schema")
        .is_some_and(|schema| unwrap(schema).1);
    location == Some("path")
        || (parameter.get("required").and_then(Value::as_bool) == Some(true)
            && !(location == Some("query") && nullable))
}

/// A schema with one-element `allOf` wrappers taken off, and whether any
/// layer said `nullable`.
fn unwrap(schema: &Value) -> (&Value, bool) {
    let mut schema = schema;
    let mut nullable = false;
    for _ in 0..8 {
        nullable |= schema.get("nullable").and_then(Value::as_bool) == Some(true);
        match schema.get("allOf").and_then(Value::as_array) {
            Some(parts) if parts.len() == 1 && schema.get("properties").is_none() => {
                schema = &parts[0];
            }
            _ => break,
        }
    }
    (schema, nullable)
}

/// What Rust type a schema becomes, as far as its kind goes: two schemas of
/// different kinds generate different types.
fn kind(schema: &Value) -> String {
    let (schema, _) = unwrap(schema);
    if let Some(name) = ref_name(schema) {
        return format!("`{name}`");
    }
    let ty = schema.get("type").and_then(Value::as_str).unwrap_or("");
    let format = schema
        .get("format")
        .and_then(Value::as_str)
        .map(|f| format!(" ({f})"))
        .unwrap_or_default();
    if schema.get("enum").is_some() {
        return format!("enum of {}", if ty.is_empty() { "values" } else { ty });
    }
    for (key, name) in [("oneOf", "oneOf union"), ("anyOf", "anyOf union")] {
        if schema.get(key).is_some() {
            return name.to_owned();
        }
    }
    if schema.get("allOf").is_some() {
        return "allOf composition".to_owned();
    }
    if schema.get("properties").is_some() || ty == "object" {
        let map = schema
            .get("additionalProperties")
            .is_some_and(|a| a.is_object() || a == true);
        return if map && schema.get("properties").is_none() {
            "map".to_owned()
        } else {
            "object".to_owned()
        };
    }
    match ty {
        "array" => "array".to_owned(),
        "string"
            if ["pattern", "minLength", "maxLength"]
                .iter()
                .any(|k| schema.get(*k).is_some()) =>
        {
            format!("constrained string{format}")
        }
        "integer" => {
            let min = schema.get("minimum").and_then(Value::as_f64);
            let sign = match min {
                Some(m) if m >= 1.0 => ", at least 1",
                Some(m) if m >= 0.0 => ", at least 0",
                _ => "",
            };
            format!("integer{format}{sign}")
        }
        "" => "any value".to_owned(),
        other => format!("{other}{format}"),
    }
}

/// The schema of an object's additional values, when it has one (not
/// `true`, `{}` or `false`).
fn values(schema: &Value) -> Option<&Value> {
    schema
        .get("additionalProperties")
        .filter(|v| v.as_object().is_some_and(|m| !m.is_empty()))
}

/// Whether typify makes a named type of a schema of this kind (named after
/// its `title` when it is inline).
fn names_a_type(kind: &str) -> bool {
    kind == "object"
        || kind.starts_with("enum of")
        || kind.ends_with("union")
        || kind == "allOf composition"
        || kind.starts_with("constrained string")
}

/// Whether a property's Rust type is `Option<T>`.
fn is_option(property: &Value, required: bool) -> bool {
    let (inner, nullable) = unwrap(property);
    let has_default = property.get("default").is_some() || inner.get("default").is_some();
    nullable || (!required && !has_default)
}

fn required_set(schema: &Value) -> BTreeSet<&str> {
    schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

fn is_success(status: &str) -> bool {
    status.starts_with('2')
}

fn is_json(media: &str) -> bool {
    let media = media.split(';').next().unwrap_or(media).trim();
    media == "application/json" || media.ends_with("+json")
}

fn join(statuses: &[&String]) -> String {
    statuses
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The body type of one response (see [`Diff::body`]).
struct Body {
    /// What identifies the type.
    id: String,
    /// The type, for messages.
    shown: String,
    /// Whether it is a typed (JSON schema) body.
    schema: bool,
}

impl Diff<'_> {
    /// Records a change; its class is the rule's (see [`RULES`]).
    fn push(&mut self, rule: &'static str, pointer: &str, message: String, items: Vec<Item>) {
        let class = RULES
            .iter()
            .find(|(r, _)| *r == rule)
            .map_or(Class::Breaking, |(_, class)| *class);
        self.out.push(Change {
            class,
            rule,
            pointer: pointer.to_owned(),
            message,
            items,
            uses: Vec::new(),
        });
    }

    /// Component schemas removed and added with the same structure.
    fn renames(&mut self) {
        let (Some(old), Some(new)) = (schemas(self.old), schemas(self.new)) else {
            return;
        };
        let added: Vec<(&String, Value)> = new
            .iter()
            .filter(|(name, _)| !old.contains_key(*name))
            .map(|(name, schema)| (name, shape(schema)))
            .collect();
        let mut taken = BTreeSet::new();
        for (name, schema) in old.iter().filter(|(name, _)| !new.contains_key(*name)) {
            let schema = shape(schema);
            if let Some((to, _)) = added
                .iter()
                .find(|(to, s)| *s == schema && !taken.contains(*to))
            {
                taken.insert((*to).clone());
                self.renamed.insert(name.clone(), (*to).clone());
            }
        }
    }

    fn operations(&mut self) {
        let old = operations(self.old);
        let new = operations(self.new);
        let mut added: Vec<&String> = new.keys().filter(|id| !old.contains_key(*id)).collect();
        for (id, before) in &old {
            // The same operationId, or another with the same Rust method
            // name (`getWidget` -> `get_widget`): the same builder method.
            let matched = match new.get_key_value(id) {
                Some(found) => Some(found),
                None => added
                    .iter()
                    .position(|to| rust_ident(to) == rust_ident(id))
                    .map(|at| added.remove(at))
                    .and_then(|to| new.get_key_value(to)),
            };
            if let Some((to, after)) = matched {
                if before.method != after.method || before.path != after.path {
                    let named = if to == id {
                        format!("`{id}`")
                    } else {
                        format!("`{id}` (now `{to}`)")
                    };
                    self.push(
                        "operation-moved",
                        &after.pointer,
                        format!(
                            "operation {named} moved from {} to {}: the builder method `{}()` stays",
                            before.describe(),
                            after.describe(),
                            rust_ident(id)
                        ),
                        vec![Item::Method(rust_ident(id))],
                    );
                }
                self.operation(to, before, after);
                continue;
            }
            let same_place = added.iter().position(|to| {
                new.get(*to)
                    .is_some_and(|a| a.method == before.method && a.path == before.path)
            });
            if let Some(at) = same_place {
                let to = added.remove(at);
                if let Some(after) = new.get(to) {
                    self.push(
                        "operation-renamed",
                        &after.pointer,
                        format!(
                            "operation `{id}` renamed to `{to}` ({}): builder method `{}()` is now `{}()`",
                            after.describe(),
                            rust_ident(id),
                            rust_ident(to)
                        ),
                        vec![Item::Method(rust_ident(id))],
                    );
                    self.operation(to, before, after);
                }
                continue;
            }
            self.push(
                "operation-removed",
                &before.pointer,
                format!(
                    "operation `{id}` removed ({}): builder method `{}()` is gone",
                    before.describe(),
                    rust_ident(id)
                ),
                vec![Item::Method(rust_ident(id))],
            );
        }
        for id in added {
            if let Some(after) = new.get(id) {
                self.push(
                    "operation-added",
                    &after.pointer,
                    format!(
                        "operation `{id}` added ({}): builder method `{}()`",
                        after.describe(),
                        rust_ident(id)
                    ),
                    Vec::new(),
                );
            }
        }
    }

    /// Parameters, body and responses of an operation in both documents.
    fn operation(&mut self, id: &str, before: &Operation<'_>, after: &Operation<'_>) {
        let method = rust_ident(id);
        let pascal = rust_type_name(id);
        let items = vec![Item::Method(method.clone())];
        let old_params = before.parameters(self.old);
        let new_params = after.parameters(self.new);
        for p in &old_params {
            let (location, name) = &p.key;
            match new_params.iter().find(|n| n.key == p.key) {
                None => self.push(
                    "parameter-removed",
                    &p.pointer,
                    format!(
                        "parameter `{name}` ({location}) of `{id}` removed: setter `.{}()` is gone",
                        rust_ident(name)
                    ),
                    items.clone(),
                ),
                Some(n) => {
                    match (is_required(p.value), is_required(n.value)) {
                        (false, true) => self.push(
                            "parameter-now-required",
                            &n.pointer,
                            format!(
                                "parameter `{name}` ({location}) of `{id}` is now required: calls without `.{}()` fail",
                                rust_ident(name)
                            ),
                            items.clone(),
                        ),
                        (true, false) => self.push(
                            "parameter-now-optional",
                            &n.pointer,
                            format!("parameter `{name}` ({location}) of `{id}` is now optional"),
                            items.clone(),
                        ),
                        _ => {}
                    }
                    if let (Some(a), Some(b)) = (p.value.get("schema"), n.value.get("schema")) {
                        let place = Place {
                            pointer: format!("{}/schema", n.pointer),
                            what: format!("parameter `{name}` of `{id}`"),
                            type_name: format!("{pascal}{}", rust_type_name(name)),
                            request: true,
                            items: items.clone(),
                            inline: true,
                            nullability: false,
                        };
                        self.schema(a, b, &place);
                    }
                }
            }
        }
        for n in new_params
            .iter()
            .filter(|n| !old_params.iter().any(|p| p.key == n.key))
        {
            let (location, name) = &n.key;
            let setter = rust_ident(name);
            if is_required(n.value) {
                self.push(
                    "parameter-added-required",
                    &n.pointer,
                    format!(
                        "required parameter `{name}` ({location}) added to `{id}`: calls without `.{setter}()` fail"
                    ),
                    items.clone(),
                );
            } else {
                self.push(
                    "parameter-added-optional",
                    &n.pointer,
                    format!(
                        "optional parameter `{name}` ({location}) added to `{id}`: `.{setter}()`"
                    ),
                    items.clone(),
                );
            }
        }
        self.request_body(id, before, after, &items);
        self.responses(id, before, after, &items);
    }

    fn request_body(
        &mut self,
        id: &str,
        before: &Operation<'_>,
        after: &Operation<'_>,
        items: &[Item],
    ) {
        let old = before.op.get("requestBody").map(|b| resolve(self.old, b));
        let new = after.op.get("requestBody").map(|b| resolve(self.new, b));
        let pointer = format!("{}/requestBody", after.pointer);
        match (old, new) {
            (None, None) => {}
            (Some(_), None) => self.push(
                "request-body-removed",
                &format!("{}/requestBody", before.pointer),
                format!("request body of `{id}` removed: its `body` setters are gone"),
                items.to_vec(),
            ),
            (None, Some(body)) => {
                if body.get("required").and_then(Value::as_bool) == Some(true) {
                    self.push(
                        "request-body-added-required",
                        &pointer,
                        format!(
                            "required request body added to `{id}`: calls without `.body()` fail"
                        ),
                        items.to_vec(),
                    );
                } else if !self.body_defaults(body) {
                    self.push(
                        "request-body-added-required",
                        &pointer,
                        format!(
                            "optional request body added to `{id}`: progenitor still requires it (no builder whose fields are all optional), calls without `.body()` fail"
                        ),
                        items.to_vec(),
                    );
                } else {
                    self.push(
                        "request-body-added-optional",
                        &pointer,
                        format!("optional request body added to `{id}`"),
                        items.to_vec(),
                    );
                }
            }
            (Some(a), Some(b)) => {
                let place = Place {
                    pointer,
                    what: format!("request body of `{id}`"),
                    type_name: format!("{}Body", rust_type_name(id)),
                    request: true,
                    items: items.to_vec(),
                    inline: true,
                    nullability: true,
                };
                self.content(a, b, &place, false);
            }
        }
    }

    /// Whether progenitor lets a request body go unset: its builder starts
    /// as "body was not initialized" unless the body type has a builder
    /// whose fields are all optional (an object schema without `required`).
    fn body_defaults(&self, body: &Value) -> bool {
        let Some(content) = body.get("content").and_then(Value::as_object) else {
            return false;
        };
        let Some(schema) = content
            .iter()
            .find(|(m, _)| is_json(m))
            .and_then(|(_, v)| v.get("schema"))
        else {
            return false;
        };
        let (schema, nullable) = unwrap(schema);
        let (schema, _) = unwrap(resolve(self.new, schema));
        !nullable
            && (schema.get("properties").is_some()
                || schema.get("type").and_then(Value::as_str) == Some("object"))
            && kind(schema) == "object"
            && required_set(schema).is_empty()
    }

    fn responses(
        &mut self,
        id: &str,
        before: &Operation<'_>,
        after: &Operation<'_>,
        items: &[Item],
    ) {
        let empty = Map::new();
        let old = before
            .op
            .get("responses")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let new = after
            .op
            .get("responses")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        // progenitor generates one success type and one error type per
        // operation: compare the body types of each class as sets.
        let resolved = |doc: &Value, r: &Value| resolve(doc, r).clone();
        let old_bodies: BTreeMap<&String, Body> = old
            .iter()
            .map(|(s, r)| (s, self.body(&resolved(self.old, r), true)))
            .collect();
        let new_bodies: BTreeMap<&String, Body> = new
            .iter()
            .map(|(s, r)| (s, self.body(&resolved(self.new, r), false)))
            .collect();
        let mut changed_classes = BTreeSet::new();
        for success in [true, false] {
            let in_class = |s: &&&String| is_success(s) == success;
            // The old set with the schemas of statuses kept on both sides
            // taken from the new side: those are compared schema by schema.
            let mut before_set = BTreeMap::new();
            for (status, body) in old_bodies.iter().filter(|(s, _)| in_class(s)) {
                let body = match new_bodies.get(*status) {
                    Some(n) if body.schema && n.schema => n,
                    _ => body,
                };
                if success || body.schema {
                    before_set.insert(body.id.clone(), body.shown.clone());
                }
            }
            let mut after_set = BTreeMap::new();
            for body in new_bodies
                .iter()
                .filter(|(s, _)| in_class(s))
                .map(|(_, b)| b)
            {
                if success || body.schema {
                    after_set.insert(body.id.clone(), body.shown.clone());
                }
            }
            if before_set == after_set {
                continue;
            }
            changed_classes.insert(success);
            let (class, default) = if success {
                ("success", "none")
            } else {
                ("error", "`()` (no typed error body)")
            };
            let show = |set: &BTreeMap<String, String>| {
                if set.is_empty() {
                    default.to_owned()
                } else {
                    set.values().cloned().collect::<Vec<_>>().join(", ")
                }
            };
            let (removed, added): (Vec<&String>, Vec<&String>) = (
                old.keys()
                    .filter(|s| is_success(s) == success && !new.contains_key(*s))
                    .collect(),
                new.keys()
                    .filter(|s| is_success(s) == success && !old.contains_key(*s))
                    .collect(),
            );
            let mut how = Vec::new();
            if !added.is_empty() {
                how.push(format!("response(s) {} added", join(&added)));
            }
            if !removed.is_empty() {
                how.push(format!("response(s) {} removed", join(&removed)));
            }
            if how.is_empty() {
                how.push("a response's body changed".to_owned());
            }
            self.push(
                "response-type-changed",
                &format!("{}/responses", after.pointer),
                format!(
                    "{class} body type(s) of `{id}` changed ({}): {} -> {}; progenitor generates one {class} type per operation",
                    how.join(", "),
                    show(&before_set),
                    show(&after_set)
                ),
                items.to_vec(),
            );
        }
        for (status, response) in old {
            let old_pointer = format!("{}/responses/{}", before.pointer, escape_pointer(status));
            let Some(other) = new.get(status) else {
                if changed_classes.contains(&is_success(status)) {
                    // Reported with the body types.
                } else if is_success(status) {
                    self.push(
                        "success-response-removed",
                        &old_pointer,
                        format!(
                            "success response {status} of `{id}` removed (the success type stays)"
                        ),
                        Vec::new(),
                    );
                } else {
                    self.push(
                        "error-response-removed",
                        &old_pointer,
                        format!("response {status} of `{id}` removed (the error type stays)"),
                        Vec::new(),
                    );
                }
                continue;
            };
            let place = Place {
                pointer: format!("{}/responses/{}", after.pointer, escape_pointer(status)),
                what: format!("response {status} of `{id}`"),
                type_name: format!("{}Response", rust_type_name(id)),
                request: false,
                items: items.to_vec(),
                inline: true,
                nullability: true,
            };
            self.content(
                resolve(self.old, response),
                resolve(self.new, other),
                &place,
                changed_classes.contains(&is_success(status)),
            );
        }
        for status in new.keys().filter(|s| !old.contains_key(*s)) {
            if changed_classes.contains(&is_success(status)) {
                continue;
            }
            self.push(
                "response-added",
                &format!("{}/responses/{}", after.pointer, escape_pointer(status)),
                format!("response {status} of `{id}` added"),
                Vec::new(),
            );
        }
    }

    /// The body type of a response, as progenitor sees it: the schema of its
    /// JSON media type (by component name, renames followed, or by shape),
    /// else a byte stream when it has content, else no body.
    fn body(&self, response: &Value, old: bool) -> Body {
        let content = response.get("content").and_then(Value::as_object);
        let json = content.and_then(|c| {
            c.iter()
                .find(|(m, _)| is_json(m))
                .and_then(|(_, v)| v.get("schema"))
        });
        match (json, content) {
            (Some(schema), _) => {
                let (inner, nullable) = unwrap(schema);
                let id = match ref_name(inner) {
                    Some(name) => {
                        let name = if old {
                            self.renamed.get(name).map_or(name, String::as_str)
                        } else {
                            name
                        };
                        format!("ref {name} {nullable}")
                    }
                    None => format!("shape {}", shape(schema)),
                };
                Body {
                    id,
                    shown: kind(schema),
                    schema: true,
                }
            }
            (None, Some(c)) if !c.is_empty() => Body {
                id: "bytes".to_owned(),
                shown: "a byte stream".to_owned(),
                schema: false,
            },
            _ => Body {
                id: "none".to_owned(),
                shown: "no body".to_owned(),
                schema: false,
            },
        }
    }

    /// The `content` map of a body or response; `typed_elsewhere`: the
    /// operation's body type change is reported already (as
    /// `response-type-changed`), so media types added or removed are not
    /// reported again.
    fn content(&mut self, old: &Value, new: &Value, place: &Place, typed_elsewhere: bool) {
        let empty = Map::new();
        let old = old
            .get("content")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let new = new
            .get("content")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let what = &place.what;
        for (media, value) in old {
            let pointer = format!("{}/content/{}", place.pointer, escape_pointer(media));
            match new.get(media) {
                None if typed_elsewhere => {}
                None => self.push(
                    "media-type-removed",
                    &pointer,
                    format!("{what}: media type `{media}` removed"),
                    place.items.clone(),
                ),
                Some(other) => {
                    if let (Some(a), Some(b)) = (value.get("schema"), other.get("schema")) {
                        let child = place.child(
                            b,
                            format!("{pointer}/schema"),
                            what.clone(),
                            place.type_name.clone(),
                        );
                        self.schema(a, b, &child);
                    }
                }
            }
        }
        for media in new
            .keys()
            .filter(|m| !typed_elsewhere && !old.contains_key(*m))
        {
            self.push(
                "media-type-added",
                &format!("{}/content/{}", place.pointer, escape_pointer(media)),
                format!("{what}: media type `{media}` added"),
                Vec::new(),
            );
        }
    }

    /// Component schemas by name.
    fn schemas(&mut self) {
        let empty = Map::new();
        let old = schemas(self.old).unwrap_or(&empty);
        let new = schemas(self.new).unwrap_or(&empty);
        for (name, schema) in old {
            let pointer = format!("/components/schemas/{}", escape_pointer(name));
            let rust = rust_type_name(name);
            let Some(other) = new.get(name) else {
                if let Some(to) = self.renamed.get(name).cloned() {
                    self.push(
                        "schema-renamed",
                        &format!("/components/schemas/{}", escape_pointer(&to)),
                        format!(
                            "schema `{name}` renamed to `{to}` (same structure): type `{rust}` is now `{}`",
                            rust_type_name(&to)
                        ),
                        vec![Item::Type(rust)],
                    );
                } else {
                    self.push(
                        "schema-removed",
                        &pointer,
                        format!("schema `{name}` removed: type `{rust}` is gone"),
                        vec![Item::Type(rust)],
                    );
                }
                continue;
            };
            let place = Place {
                pointer,
                what: format!("schema `{name}`"),
                type_name: rust.clone(),
                request: self.request.contains(name),
                items: vec![Item::Type(rust.clone())],
                inline: false,
                nullability: true,
            };
            self.schema(schema, other, &place);
        }
        let renamed: BTreeSet<&String> = self.renamed.values().collect();
        let added: Vec<String> = new
            .keys()
            .filter(|n| !old.contains_key(*n) && !renamed.contains(n))
            .cloned()
            .collect();
        for name in added {
            self.push(
                "schema-added",
                &format!("/components/schemas/{}", escape_pointer(&name)),
                format!("schema `{name}` added: type `{}`", rust_type_name(&name)),
                Vec::new(),
            );
        }
    }

    /// Two schemas at the same place.
    fn schema(&mut self, old: &Value, new: &Value, place: &Place) {
        let (a, old_nullable) = unwrap(old);
        let (b, new_nullable) = unwrap(new);
        let place = place.clone();
        let (old_kind, new_kind) = (kind(a), kind(b));
        if old_kind != new_kind {
            let renamed = matches!(
                (ref_name(a), ref_name(b)),
                (Some(x), Some(y)) if self.renamed.get(x).is_some_and(|to| to == y)
            );
            if !renamed {
                self.push(
                    "type-changed",
                    &place.pointer,
                    format!("type of {} changed: {old_kind} -> {new_kind}", place.what),
                    place.items.clone(),
                );
            }
            return;
        }
        if place.nullability && old_nullable != new_nullable {
            self.push(
                "type-changed",
                &place.pointer,
                format!(
                    "type of {} changed: {}: its Rust type {} `Option`",
                    place.what,
                    if new_nullable {
                        "now nullable"
                    } else {
                        "no longer nullable"
                    },
                    if new_nullable { "gains" } else { "loses" }
                ),
                place.items.clone(),
            );
        }
        if ref_name(b).is_some() {
            // Compared once, where the component is defined.
            return;
        }
        let title = |s: &Value, inner: &Value| {
            [s, inner]
                .iter()
                .find_map(|s| s.get("title").and_then(Value::as_str))
                .map(str::to_owned)
        };
        let (old_title, new_title) = (title(old, a), title(new, b));
        if place.inline && old_title != new_title && names_a_type(&new_kind) {
            let show = |t: &Option<String>| {
                t.as_ref()
                    .map_or_else(|| "none".to_owned(), |t| format!("`{t}`"))
            };
            self.push(
                "type-changed",
                &place.pointer,
                format!(
                    "type of {} renamed: `title` {} -> {} (typify names inline types after their title; now `{}`)",
                    place.what,
                    show(&old_title),
                    show(&new_title),
                    place.type_name
                ),
                place.items.clone(),
            );
        }
        self.enumeration(a, b, &place);
        self.constraints(a, b, &place);
        for key in ["oneOf", "anyOf"] {
            if let (Some(x), Some(y)) = (
                a.get(key).and_then(Value::as_array),
                b.get(key).and_then(Value::as_array),
            ) {
                self.union(key, x, y, &place);
            }
        }
        if let (Some(x), Some(y)) = (
            a.get("allOf").and_then(Value::as_array),
            b.get("allOf").and_then(Value::as_array),
        ) {
            if x.len() == y.len() {
                for (i, (p, q)) in x.iter().zip(y).enumerate() {
                    let mut child = place.child(
                        q,
                        format!("{}/allOf/{i}", place.pointer),
                        place.what.clone(),
                        place.type_name.clone(),
                    );
                    // The parts of an allOf make one type, not types of their own.
                    child.type_name.clone_from(&place.type_name);
                    child.inline = false;
                    child.nullability = false;
                    self.schema(p, q, &child);
                }
            } else {
                self.push(
                    "type-changed",
                    &place.pointer,
                    format!(
                        "type of {} changed: allOf of {} -> {} parts",
                        place.what,
                        x.len(),
                        y.len()
                    ),
                    place.items.clone(),
                );
            }
        }
        match (a.get("items"), b.get("items")) {
            (Some(_), None) | (None, Some(_)) => {
                let show = |s: Option<&Value>| s.map_or_else(|| "any value".to_owned(), kind);
                self.push(
                    "type-changed",
                    &place.pointer,
                    format!(
                        "type of the items of {} changed: {} -> {}",
                        place.what,
                        show(a.get("items")),
                        show(b.get("items"))
                    ),
                    place.items.clone(),
                );
            }
            _ => {}
        }

        if values(a).is_some() != values(b).is_some() {
            let show = |s: &Value| match s.get("additionalProperties") {
                None | Some(Value::Bool(false)) => "none".to_owned(),
                Some(v) => values(s).map_or_else(|| "any value".to_owned(), |_| kind(v)),
            };
            self.push(
                "type-changed",
                &place.pointer,
                format!(
                    "type of the additional values of {} changed: {} -> {}",
                    place.what,
                    show(a),
                    show(b)
                ),
                place.items.clone(),
            );
        }
        if let (Some(x), Some(y)) = (a.get("items"), b.get("items")) {
            let child = place.child(
                y,
                format!("{}/items", place.pointer),
                format!("items of {}", place.what),
                format!("{}Item", place.type_name),
            );
            self.schema(x, y, &child);
        }
        if let (Some(x), Some(y)) = (
            a.get("additionalProperties").filter(|v| v.is_object()),
            b.get("additionalProperties").filter(|v| v.is_object()),
        ) {
            let child = place.child(
                y,
                format!("{}/additionalProperties", place.pointer),
                format!("values of {}", place.what),
                format!("{}Value", place.type_name),
            );
            self.schema(x, y, &child);
        }
        self.properties(a, b, &place);
    }

    fn enumeration(&mut self, a: &Value, b: &Value, place: &Place) {
        let (Some(x), Some(y)) = (
            a.get("enum").and_then(Value::as_array),
            b.get("enum").and_then(Value::as_array),
        ) else {
            return;
        };
        let list = |values: Vec<&Value>| {
            values
                .iter()
                .map(|v| {
                    format!(
                        "`{}`",
                        v.as_str().map_or_else(|| v.to_string(), str::to_owned)
                    )
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut items = place.items.clone();
        items.push(Item::Type(place.type_name.clone()));
        let added: Vec<&Value> = y.iter().filter(|v| !x.contains(v)).collect();
        let removed: Vec<&Value> = x.iter().filter(|v| !y.contains(v)).collect();
        let name = &place.type_name;
        if !added.is_empty() {
            self.push(
                "enum-value-added",
                &place.pointer,
                format!(
                    "{}: enum `{name}` gained {}: a new variant breaks exhaustive matches",
                    place.what,
                    list(added)
                ),
                items.clone(),
            );
        }
        if !removed.is_empty() {
            self.push(
                "enum-value-removed",
                &place.pointer,
                format!(
                    "{}: enum `{name}` lost {}: the variant is gone",
                    place.what,
                    list(removed)
                ),
                items,
            );
        }
    }

    fn constraints(&mut self, a: &Value, b: &Value, place: &Place) {
        let integer = |s: &Value| s.get("type").and_then(Value::as_str) == Some("integer");
        if integer(a) && integer(b) {
            // typify picks the Rust integer type from the format and the
            // exact bounds (min 1 -> NonZeroU64, 0..=255 -> u8, ...): any
            // change of them may change the type.
            for key in [
                "minimum",
                "maximum",
                "exclusiveMinimum",
                "exclusiveMaximum",
                "multipleOf",
            ] {
                let (x, y) = (a.get(key), b.get(key));
                if x != y {
                    let show =
                        |v: Option<&Value>| v.map_or_else(|| "none".to_owned(), Value::to_string);
                    self.push(
                        "type-changed",
                        &place.pointer,
                        format!(
                            "type of {} may change: integer `{key}` {} -> {} (typify picks the Rust integer type from the bounds)",
                            place.what,
                            show(x),
                            show(y)
                        ),
                        place.items.clone(),
                    );
                }
            }
        }
        // (keyword, whether a larger value narrows)
        let integers = integer(a) && integer(b);
        for (key, larger_narrows) in [
            ("minimum", true),
            ("exclusiveMinimum", true),
            ("minLength", true),
            ("minItems", true),
            ("maximum", false),
            ("exclusiveMaximum", false),
            ("maxLength", false),
            ("maxItems", false),
            ("pattern", true),
            ("multipleOf", true),
        ] {
            let (x, y) = (a.get(key), b.get(key));
            let integer_bound = matches!(
                key,
                "minimum" | "maximum" | "exclusiveMinimum" | "exclusiveMaximum" | "multipleOf"
            );
            if x == y || (integers && integer_bound) {
                continue;
            }
            let narrowed = match (x.and_then(Value::as_f64), y.and_then(Value::as_f64)) {
                // Another divisor is no superset of the values: only dropping it widens.
                (Some(_), Some(_)) if key == "multipleOf" => true,
                (Some(p), Some(q)) => (q > p) == larger_narrows,
                _ => match (x, y) {
                    (None, Some(_)) => true,
                    (Some(_), None) => false,
                    // A changed pattern, or a boolean exclusive bound: cannot tell, so breaking.
                    _ => true,
                },
            };
            let show = |v: Option<&Value>| v.map_or_else(|| "none".to_owned(), Value::to_string);
            let (rule, how) = if narrowed {
                ("constraint-narrowed", "narrowed")
            } else {
                ("constraint-widened", "widened")
            };
            self.push(
                rule,
                &place.pointer,
                format!("{}: `{key}` {how}: {} -> {}", place.what, show(x), show(y)),
                if narrowed {
                    place.items.clone()
                } else {
                    Vec::new()
                },
            );
        }
    }

    fn union(&mut self, key: &str, x: &[Value], y: &[Value], place: &Place) {
        // Variants are matched by kind, counting repeats: `[object, object]`
        // to `[object, object, object]` gained a variant.
        let sig = |v: &Value| kind(v);
        let shown = |v: &Value| {
            let (inner, _) = unwrap(v);
            match [v, inner]
                .iter()
                .find_map(|s| s.get("title").and_then(Value::as_str))
            {
                Some(title) => format!("{} `{title}`", kind(v)),
                None => kind(v),
            }
        };
        let unmatched = |these: &[Value], others: &[Value]| {
            let mut others: Vec<String> = others.iter().map(sig).collect();
            let mut out = Vec::new();
            for v in these {
                match others.iter().position(|o| *o == sig(v)) {
                    Some(at) => {
                        others.remove(at);
                    }
                    None => out.push(shown(v)),
                }
            }
            out
        };
        let added = unmatched(y, x);
        let removed = unmatched(x, y);
        let mut items = place.items.clone();
        items.push(Item::Type(place.type_name.clone()));
        for (variants, rule, verb) in [
            (&added, "union-variant-added", "gained"),
            (&removed, "union-variant-removed", "lost"),
        ] {
            if !variants.is_empty() {
                let list: Vec<&str> = variants.iter().map(String::as_str).collect();
                self.push(
                    rule,
                    &format!("{}/{key}", place.pointer),
                    format!(
                        "{}: union `{}` {verb} variant(s) {}",
                        place.what,
                        place.type_name,
                        list.join(", ")
                    ),
                    items.clone(),
                );
            }
        }
        if added.is_empty() && removed.is_empty() && x.len() == y.len() {
            for (i, (p, q)) in x.iter().zip(y).enumerate() {
                let child = place.child(
                    q,
                    format!("{}/{key}/{i}", place.pointer),
                    format!("variant {i} of {}", place.what),
                    format!("{}Variant{i}", place.type_name),
                );
                self.schema(p, q, &child);
            }
        }
    }

    fn properties(&mut self, a: &Value, b: &Value, place: &Place) {
        let empty = Map::new();
        let old = a
            .get("properties")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let new = b
            .get("properties")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let (old_required, new_required) = (required_set(a), required_set(b));
        let owner = &place.type_name;
        let field_pointer =
            |base: &str, name: &str| format!("{base}/properties/{}", escape_pointer(name));
        let mut items = place.items.clone();
        if !items.contains(&Item::Type(owner.clone())) {
            items.push(Item::Type(owner.clone()));
        }
        let added: Vec<&String> = new.keys().filter(|n| !old.contains_key(*n)).collect();
        let mut renamed_to = BTreeSet::new();
        for (name, schema) in old {
            let pointer = field_pointer(&place.pointer, name);
            let Some(other) = new.get(name) else {
                let same = added.iter().find(|to| {
                    !renamed_to.contains(**to)
                        && new.get(**to).is_some_and(|s| shape(s) == shape(schema))
                        && old_required.contains(name.as_str())
                            == new_required.contains(to.as_str())
                });
                if let Some(to) = same {
                    renamed_to.insert((*to).clone());
                    self.push(
                        "field-renamed",
                        &field_pointer(&place.pointer, to),
                        format!("field `{name}` of `{owner}` renamed to `{to}`"),
                        items.clone(),
                    );
                } else {
                    self.push(
                        "field-removed",
                        &pointer,
                        format!("field `{name}` removed from `{owner}`"),
                        items.clone(),
                    );
                }
                continue;
            };
            let (was, is) = (
                old_required.contains(name.as_str()),
                new_required.contains(name.as_str()),
            );
            match (is_option(schema, was), is_option(other, is)) {
                (false, true) => self.push(
                    "field-became-option",
                    &pointer,
                    format!(
                        "field `{name}` of `{owner}` is now {}: its Rust type gains `Option`",
                        if is { "nullable" } else { "optional" }
                    ),
                    items.clone(),
                ),
                (true, false) => self.push(
                    "field-lost-option",
                    &pointer,
                    format!(
                        "field `{name}` of `{owner}` is now required and not nullable: its Rust type loses `Option`"
                    ),
                    items.clone(),
                ),
                _ if was != is => {
                    if is && place.request {
                        self.push(
                            "request-field-now-required",
                            &pointer,
                            format!(
                                "field `{name}` of `{owner}` (sent in requests) is now required: its builder fails without it"
                            ),
                            items.clone(),
                        );
                    } else {
                        self.push(
                            "field-requiredness-changed",
                            &pointer,
                            format!(
                                "field `{name}` of `{owner}` is now {} (its Rust type is unchanged)",
                                if is { "required" } else { "optional" }
                            ),
                            Vec::new(),
                        );
                    }
                }
                _ => {}
            }
            let child = place.child(
                other,
                pointer,
                format!("field `{name}` of `{owner}`"),
                format!("{owner}{}", rust_type_name(name)),
            );
            let mut child = child;
            child.items = items.clone();
            child.nullability = false;
            self.schema(schema, other, &child);
        }
        for name in added.into_iter().filter(|n| !renamed_to.contains(*n)) {
            let pointer = field_pointer(&place.pointer, name);
            let required = new_required.contains(name.as_str());
            if required && place.request {
                self.push(
                    "request-field-added-required",
                    &pointer,
                    format!(
                        "required field `{name}` added to `{owner}` (sent in requests): its builder fails without it"
                    ),
                    items.clone(),
                );
            } else {
                self.push(
                    "field-added",
                    &pointer,
                    format!(
                        "{} field `{name}` added to `{owner}`",
                        if required { "required" } else { "optional" }
                    ),
                    Vec::new(),
                );
            }
        }
    }
}
