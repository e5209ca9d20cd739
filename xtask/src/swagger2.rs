//! Swagger 2.0 to OpenAPI 3.0.3, inside the pipeline, so a vendor that
//! still publishes 2.0 (many HR and payroll vendors do) is data only too.
//!
//! What changes, each reported under `swagger-2.0/*`:
//! - `host`, `basePath` and `schemes` become `servers`;
//! - `definitions`, `parameters`, `responses` and `securityDefinitions`
//!   move under `components`, and every `$ref` follows them;
//! - a `body` parameter becomes the `requestBody`, under each media type of
//!   the operation's `consumes`; `formData` parameters become one object
//!   schema under `multipart/form-data` or
//!   `application/x-www-form-urlencoded` (a `type: file` field is binary);
//! - other parameters keep their type, format, enum, bounds and `items`
//!   under `schema`, and `collectionFormat` becomes `style`/`explode`;
//! - a response's `schema` goes under each media type of `produces`, its
//!   `examples` beside it, its headers' types under `schema`;
//! - in schemas, `x-nullable` becomes `nullable`, a string `discriminator`
//!   becomes `{propertyName}`, and `type: file` is binary.
//!
//! No crate on crates.io does this and is kept up, so it is written here,
//! with a fixture (`xtask/tests/fixtures/normalise/swagger-2.0`).

use serde_json::{Map, Value, json};

use crate::document::escape_pointer;
use crate::report::Report;

const STAGE: &str = "normalise";

/// Keys of a Swagger 2.0 non-body parameter that describe its value and
/// belong under `schema` in 3.0.
const VALUE_KEYS: [&str; 16] = [
    "type",
    "format",
    "items",
    "enum",
    "default",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
    "pattern",
    "minItems",
    "maxItems",
    "uniqueItems",
    "multipleOf",
];

/// Converts `doc`, a Swagger 2.0 document, to OpenAPI 3.0.3 in place.
pub fn convert(doc: &mut Value, report: &mut Report) {
    let Some(old) = doc.as_object_mut().map(std::mem::take) else {
        return;
    };
    let mut out = Map::new();
    out.insert("openapi".into(), json!("3.0.3"));
    report.push(
        STAGE,
        "swagger-2.0/version",
        "/swagger",
        "Swagger 2.0 document converted to OpenAPI 3.0.3",
    );
    let consumes = media_list(old.get("consumes"));
    let produces = media_list(old.get("produces"));
    let global_parameters = old
        .get("parameters")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();

    for (key, value) in &old {
        match key.as_str() {
            "swagger"
            | "host"
            | "basePath"
            | "schemes"
            | "consumes"
            | "produces"
            | "definitions"
            | "parameters"
            | "responses"
            | "securityDefinitions"
            | "paths" => {}
            _ => {
                out.insert(key.clone(), value.clone());
            }
        }
    }
    out.insert("servers".into(), servers(&old, report));

    let mut components = Map::new();
    if let Some(Value::Object(definitions)) = old.get("definitions") {
        let mut schemas = Map::new();
        for (name, schema) in definitions {
            let pointer = format!("/definitions/{}", escape_pointer(name));
            schemas.insert(name.clone(), convert_schema(schema, &pointer, report));
        }
        report.push(
            STAGE,
            "swagger-2.0/definitions",
            "/definitions",
            format!(
                "{} definitions moved to `components.schemas`",
                schemas.len()
            ),
        );
        components.insert("schemas".into(), Value::Object(schemas));
    }
    // Shared non-body parameters stay shared; body and formData ones are
    // inlined where they are used, since they become request bodies.
    let mut shared = Map::new();
    for (name, parameter) in &global_parameters {
        let location = parameter.get("in").and_then(Value::as_str);
        if location != Some("body") && location != Some("formData") {
            let pointer = format!("/parameters/{}", escape_pointer(name));
            shared.insert(name.clone(), convert_parameter(parameter, &pointer, report));
        }
    }
    if !shared.is_empty() {
        components.insert("parameters".into(), Value::Object(shared));
    }
    if let Some(Value::Object(responses)) = old.get("responses") {
        let mut converted = Map::new();
        for (name, response) in responses {
            let pointer = format!("/responses/{}", escape_pointer(name));
            converted.insert(
                name.clone(),
                convert_response(response, &produces, &pointer, report),
            );
        }
        components.insert("responses".into(), Value::Object(converted));
    }
    if let Some(Value::Object(definitions)) = old.get("securityDefinitions") {
        let mut schemes = Map::new();
        for (name, scheme) in definitions {
            let pointer = format!("/securityDefinitions/{}", escape_pointer(name));
            schemes.insert(name.clone(), convert_security(scheme, &pointer, report));
        }
        components.insert("securitySchemes".into(), Value::Object(schemes));
    }
    out.insert("components".into(), Value::Object(components));

    let mut paths = Map::new();
    if let Some(Value::Object(old_paths)) = old.get("paths") {
        for (path, item) in old_paths {
            let pointer = format!("/paths/{}", escape_pointer(path));
            paths.insert(
                path.clone(),
                convert_path_item(
                    item,
                    &Context {
                        consumes: &consumes,
                        produces: &produces,
                        global_parameters: &global_parameters,
                    },
                    &pointer,
                    report,
                ),
            );
        }
    }
    out.insert("paths".into(), Value::Object(paths));
    *doc = Value::Object(out);
}

/// What an operation inherits from the document.
struct Context<'a> {
    consumes: &'a [String],
    produces: &'a [String],
    global_parameters: &'a Map<String, Value>,
}

fn media_list(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

fn servers(old: &Map<String, Value>, report: &mut Report) -> Value {
    let base = old.get("basePath").and_then(Value::as_str).unwrap_or("");
    let Some(host) = old.get("host").and_then(Value::as_str) else {
        let url = if base.is_empty() { "/" } else { base };
        report.push(
            STAGE,
            "swagger-2.0/servers",
            "/basePath",
            format!("no `host`: the server is `{url}`, relative to where the document is served"),
        );
        return json!([{ "url": url }]);
    };
    let mut schemes = media_list(old.get("schemes"));
    if schemes.is_empty() {
        schemes.push("https".into());
    }
    let servers: Vec<Value> = schemes
        .iter()
        .map(|scheme| json!({ "url": format!("{scheme}://{host}{base}") }))
        .collect();
    report.push(
        STAGE,
        "swagger-2.0/servers",
        "/host",
        format!(
            "`host`, `basePath` and `schemes` written as {} server(s)",
            servers.len()
        ),
    );
    Value::Array(servers)
}

/// A `$ref` of 2.0 rewritten to where 3.0 keeps the target.
fn convert_ref(target: &str) -> String {
    for (old, new) in [
        ("#/definitions/", "#/components/schemas/"),
        ("#/parameters/", "#/components/parameters/"),
        ("#/responses/", "#/components/responses/"),
    ] {
        if let Some(rest) = target.strip_prefix(old) {
            return format!("{new}{rest}");
        }
    }
    target.to_owned()
}

/// A schema with its 2.0-only forms rewritten, recursively.
fn convert_schema(schema: &Value, pointer: &str, report: &mut Report) -> Value {
    match schema {
        Value::Object(map) => {
            let mut out = Map::new();
            for (key, value) in map {
                let child = format!("{pointer}/{}", escape_pointer(key));
                match key.as_str() {
                    "$ref" => {
                        out.insert(
                            key.clone(),
                            json!(convert_ref(value.as_str().unwrap_or_default())),
                        );
                    }
                    "x-nullable" => {
                        out.insert("nullable".into(), value.clone());
                        report.push(
                            STAGE,
                            "swagger-2.0/x-nullable",
                            pointer,
                            "`x-nullable` written as `nullable`",
                        );
                    }
                    "discriminator" if value.is_string() => {
                        out.insert(key.clone(), json!({ "propertyName": value }));
                        report.push(
                            STAGE,
                            "swagger-2.0/discriminator",
                            pointer,
                            "a 2.0 `discriminator` (a property name) written as `{propertyName}`",
                        );
                    }
                    "type" if value == "file" => {
                        out.insert("type".into(), json!("string"));
                        out.insert("format".into(), json!("binary"));
                    }
                    "properties" | "definitions" => {
                        let converted: Map<String, Value> = value
                            .as_object()
                            .into_iter()
                            .flatten()
                            .map(|(name, s)| {
                                (
                                    name.clone(),
                                    convert_schema(
                                        s,
                                        &format!("{child}/{}", escape_pointer(name)),
                                        report,
                                    ),
                                )
                            })
                            .collect();
                        out.insert(key.clone(), Value::Object(converted));
                    }
                    "items" | "additionalProperties" | "not" | "allOf" | "anyOf" | "oneOf" => {
                        out.insert(key.clone(), convert_schema(value, &child, report));
                    }
                    _ => {
                        out.insert(key.clone(), value.clone());
                    }
                }
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, item)| convert_schema(item, &format!("{pointer}/{i}"), report))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// The schema of a non-body parameter's value (or a header's, or an
/// `items` of either).
fn value_schema(parameter: &Map<String, Value>) -> Value {
    let mut schema = Map::new();
    for key in VALUE_KEYS {
        if let Some(value) = parameter.get(key) {
            let value = if key == "items" {
                match value.as_object() {
                    Some(items) => value_schema(items),
                    None => value.clone(),
                }
            } else {
                value.clone()
            };
            schema.insert(key.into(), value);
        }
    }
    if schema.get("type").is_some_and(|t| t == "file") {
        schema.insert("type".into(), json!("string"));
        schema.insert("format".into(), json!("binary"));
    }
    if parameter.get("x-nullable").is_some_and(|v| v == true) {
        schema.insert("nullable".into(), json!(true));
    }
    Value::Object(schema)
}

/// A non-body parameter: its value under `schema`, its collection format
/// as `style`/`explode`.
fn convert_parameter(parameter: &Value, pointer: &str, report: &mut Report) -> Value {
    let Some(map) = parameter.as_object() else {
        return parameter.clone();
    };
    if let Some(target) = map.get("$ref").and_then(Value::as_str) {
        return json!({ "$ref": convert_ref(target) });
    }
    let mut out = Map::new();
    for key in [
        "name",
        "in",
        "description",
        "required",
        "deprecated",
        "allowEmptyValue",
    ] {
        if let Some(value) = map.get(key) {
            out.insert(key.into(), value.clone());
        }
    }
    for (key, value) in map {
        if key.starts_with("x-") && key != "x-nullable" {
            out.insert(key.clone(), value.clone());
        }
    }
    out.insert("schema".into(), value_schema(map));
    let is_array = map.get("type").is_some_and(|t| t == "array");
    if is_array {
        let location = map.get("in").and_then(Value::as_str).unwrap_or_default();
        let format = map
            .get("collectionFormat")
            .and_then(Value::as_str)
            .unwrap_or("csv");
        let (style, explode) = match (format, location) {
            ("multi", _) => ("form", true),
            ("ssv", "query") => ("spaceDelimited", false),
            ("pipes", "query") => ("pipeDelimited", false),
            (_, "query") => ("form", false),
            _ => ("simple", false),
        };
        out.insert("style".into(), json!(style));
        out.insert("explode".into(), json!(explode));
        report.push(
            STAGE,
            "swagger-2.0/collection-format",
            pointer,
            format!(
                "`collectionFormat: {format}` written as `style: {style}`, `explode: {explode}`"
            ),
        );
    }
    Value::Object(out)
}

fn convert_response(
    response: &Value,
    produces: &[String],
    pointer: &str,
    report: &mut Report,
) -> Value {
    let Some(map) = response.as_object() else {
        return response.clone();
    };
    if let Some(target) = map.get("$ref").and_then(Value::as_str) {
        return json!({ "$ref": convert_ref(target) });
    }
    let mut out = Map::new();
    out.insert(
        "description".into(),
        map.get("description").cloned().unwrap_or_else(|| json!("")),
    );
    let examples = map.get("examples").and_then(Value::as_object);
    if let Some(schema) = map.get("schema") {
        let schema = convert_schema(schema, &format!("{pointer}/schema"), report);
        let media: Vec<String> = if produces.is_empty() {
            vec!["application/json".into()]
        } else {
            produces.to_vec()
        };
        let mut content = Map::new();
        for media_type in media {
            let mut entry = json!({ "schema": schema.clone() });
            if let Some(example) = examples.and_then(|e| e.get(&media_type)) {
                entry["example"] = example.clone();
            }
            content.insert(media_type, entry);
        }
        out.insert("content".into(), Value::Object(content));
    }
    if let Some(Value::Object(headers)) = map.get("headers") {
        let converted: Map<String, Value> = headers
            .iter()
            .map(|(name, header)| {
                let mut out = Map::new();
                if let Some(description) = header.get("description") {
                    out.insert("description".into(), description.clone());
                }
                if let Some(header) = header.as_object() {
                    out.insert("schema".into(), value_schema(header));
                }
                (name.clone(), Value::Object(out))
            })
            .collect();
        out.insert("headers".into(), Value::Object(converted));
    }
    Value::Object(out)
}

fn convert_security(scheme: &Value, pointer: &str, report: &mut Report) -> Value {
    let Some(map) = scheme.as_object() else {
        return scheme.clone();
    };
    let kind = map.get("type").and_then(Value::as_str).unwrap_or_default();
    let mut out = Map::new();
    if let Some(description) = map.get("description") {
        out.insert("description".into(), description.clone());
    }
    match kind {
        "basic" => {
            out.insert("type".into(), json!("http"));
            out.insert("scheme".into(), json!("basic"));
        }
        "apiKey" => {
            out.insert("type".into(), json!("apiKey"));
            for key in ["name", "in"] {
                if let Some(value) = map.get(key) {
                    out.insert(key.into(), value.clone());
                }
            }
        }
        "oauth2" => {
            out.insert("type".into(), json!("oauth2"));
            let flow = match map.get("flow").and_then(Value::as_str).unwrap_or_default() {
                "accessCode" => "authorizationCode",
                "application" => "clientCredentials",
                other => other,
            };
            let mut details = Map::new();
            for key in ["authorizationUrl", "tokenUrl"] {
                if let Some(value) = map.get(key) {
                    details.insert(key.into(), value.clone());
                }
            }
            details.insert(
                "scopes".into(),
                map.get("scopes").cloned().unwrap_or_else(|| json!({})),
            );
            out.insert("flows".into(), json!({ flow: details }));
        }
        _ => return scheme.clone(),
    }
    report.push(
        STAGE,
        "swagger-2.0/security",
        pointer,
        format!("security definition `{kind}` written as a 3.0 security scheme"),
    );
    Value::Object(out)
}

fn convert_path_item(
    item: &Value,
    context: &Context<'_>,
    pointer: &str,
    report: &mut Report,
) -> Value {
    let Some(map) = item.as_object() else {
        return item.clone();
    };
    let shared: Vec<Value> = map
        .get("parameters")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut out = Map::new();
    for (key, value) in map {
        if crate::normalize::METHODS.contains(&key.as_str()) {
            let op_pointer = format!("{pointer}/{key}");
            out.insert(
                key.clone(),
                convert_operation(value, &shared, context, &op_pointer, report),
            );
        } else if key != "parameters" {
            out.insert(key.clone(), value.clone());
        }
    }
    Value::Object(out)
}

fn convert_operation(
    op: &Value,
    shared: &[Value],
    context: &Context<'_>,
    pointer: &str,
    report: &mut Report,
) -> Value {
    let Some(map) = op.as_object() else {
        return op.clone();
    };
    let consumes = match media_list(map.get("consumes")) {
        list if !list.is_empty() => list,
        _ if !context.consumes.is_empty() => context.consumes.to_vec(),
        _ => vec!["application/json".into()],
    };
    let produces = match media_list(map.get("produces")) {
        list if !list.is_empty() => list,
        _ => context.produces.to_vec(),
    };
    // Path-level parameters, unless the operation names the same one.
    let own: Vec<Value> = map
        .get("parameters")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let key = |p: &Value| {
        let p = resolve_global(p, context);
        (
            p.get("name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            p.get("in")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
        )
    };
    let own_keys: Vec<(String, String)> = own.iter().map(key).collect();
    let mut parameters: Vec<Value> = shared
        .iter()
        .filter(|p| !own_keys.contains(&key(p)))
        .cloned()
        .collect();
    parameters.extend(own);

    let mut out = Map::new();
    for (key, value) in map {
        match key.as_str() {
            "consumes" | "produces" | "parameters" | "responses" | "schemes" => {}
            _ => {
                out.insert(key.clone(), value.clone());
            }
        }
    }
    let mut converted = Vec::new();
    let mut form = Map::new();
    let mut form_required = Vec::new();
    let mut has_file = false;
    for (i, parameter) in parameters.iter().enumerate() {
        let param_pointer = format!("{pointer}/parameters/{i}");
        let resolved = resolve_global(parameter, context);
        match resolved.get("in").and_then(Value::as_str) {
            Some("body") => {
                let schema = convert_schema(
                    resolved.get("schema").unwrap_or(&json!({})),
                    &format!("{param_pointer}/schema"),
                    report,
                );
                let content: Map<String, Value> = consumes
                    .iter()
                    .map(|media| (media.clone(), json!({ "schema": schema.clone() })))
                    .collect();
                let mut body = json!({
                    "content": content,
                    "required": resolved.get("required").cloned().unwrap_or(json!(false)),
                });
                if let Some(description) = resolved.get("description") {
                    body["description"] = description.clone();
                }
                out.insert("requestBody".into(), body);
                report.push(
                    STAGE,
                    "swagger-2.0/body-parameter",
                    &param_pointer,
                    format!(
                        "`in: body` parameter written as the request body ({})",
                        consumes.join(", ")
                    ),
                );
            }
            Some("formData") => {
                let name = resolved
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned();
                let field = value_schema(resolved.as_object().unwrap_or(&Map::new()));
                has_file |= field.get("format").is_some_and(|f| f == "binary");
                if resolved.get("required").is_some_and(|r| r == true) {
                    form_required.push(json!(name));
                }
                let mut field = field;
                if let Some(description) = resolved.get("description") {
                    field["description"] = description.clone();
                }
                form.insert(name, field);
            }
            _ => converted.push(convert_parameter(parameter, &param_pointer, report)),
        }
    }
    if !form.is_empty() {
        let media = if has_file || consumes.iter().any(|m| m == "multipart/form-data") {
            "multipart/form-data"
        } else {
            "application/x-www-form-urlencoded"
        };
        let mut schema = json!({ "type": "object", "properties": form });
        if !form_required.is_empty() {
            schema["required"] = Value::Array(form_required);
        }
        out.insert(
            "requestBody".into(),
            json!({ "content": { media: { "schema": schema } }, "required": true }),
        );
        report.push(
            STAGE,
            "swagger-2.0/form-data",
            pointer,
            format!("`formData` parameters written as one `{media}` request body"),
        );
    }
    if !converted.is_empty() {
        out.insert("parameters".into(), Value::Array(converted));
    }
    let responses: Map<String, Value> = map
        .get("responses")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(code, response)| {
            let response_pointer = format!("{pointer}/responses/{code}");
            (
                code.clone(),
                convert_response(response, &produces, &response_pointer, report),
            )
        })
        .collect();
    out.insert("responses".into(), Value::Object(responses));
    Value::Object(out)
}

/// A parameter, with a reference to a shared one followed.
fn resolve_global<'a>(parameter: &'a Value, context: &'a Context<'_>) -> &'a Value {
    parameter
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|target| target.strip_prefix("#/parameters/"))
        .and_then(|name| {
            context
                .global_parameters
                .get(&name.replace("~1", "/").replace("~0", "~"))
        })
        .unwrap_or(parameter)
}
