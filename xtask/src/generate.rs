//! progenitor, contained: normalised document -> formatted Rust source.
//!
//! progenitor answers some inputs with a panic (`todo!`, `assert!`). A panic
//! here is caught and reported with the way out, so a user updating a spec
//! sees which construct to fix, not a backtrace from inside a dependency.

use std::cell::RefCell;
use std::io::Write as _;
use std::process::{Command, Stdio};
use std::sync::Once;

use anyhow::{Context, Result, anyhow, bail};
use progenitor_impl::{GenerationSettings, Generator, HooksMode, InterfaceStyle, TagStyle};
use quote::quote;
use serde_json::Value;

use crate::normalize::METHODS;
use crate::source::{Api, Interface, Tags};

/// The Rust sources generated for one API.
pub struct Generated {
    /// `src/generated.rs` of the client crate (formatted, without banner).
    pub client: String,
    /// `src/generated.rs` of the httpmock crate (formatted, without banner).
    pub httpmock: String,
    /// What the mock generator had to leave out: (JSON pointer, message).
    pub mock_omissions: Vec<(String, String)>,
    /// What the serde rewrite did or left alone.
    pub notes: Vec<crate::rewrite::Note>,
    /// The document's examples and the types they decode into.
    pub examples: crate::examples::Examples,
}

/// The progenitor version this xtask links, read from the workspace lock file.
pub fn progenitor_version() -> String {
    const LOCK: &str = include_str!("../../Cargo.lock");
    let Ok(lock) = LOCK.parse::<toml::Table>() else {
        return "unknown".into();
    };
    lock.get("package")
        .and_then(|p| p.as_array())
        .into_iter()
        .flatten()
        .find(|p| p.get("name").and_then(|n| n.as_str()) == Some("progenitor-impl"))
        .and_then(|p| p.get("version"))
        .and_then(|v| v.as_str())
        .unwrap_or("unknown")
        .to_owned()
}

/// Generates the client and httpmock sources for `api` from its normalised document.
pub fn generate(api: &Api, doc: &Value) -> Result<Generated> {
    let unformatted = generate_unformatted(api, doc)?;
    Ok(Generated {
        client: format_file(&unformatted.client)?,
        httpmock: format_rust(&unformatted.httpmock.to_string())?,
        mock_omissions: unformatted.mock_omissions,
        notes: unformatted.notes,
        examples: unformatted.examples,
    })
}

/// Everything [`generate`] does but the formatting (which runs rustfmt).
pub struct Unformatted {
    /// The client crate's code, rewritten.
    pub client: syn::File,
    /// The httpmock crate's code.
    pub httpmock: proc_macro2::TokenStream,
    /// See [`Generated::mock_omissions`].
    pub mock_omissions: Vec<(String, String)>,
    /// See [`Generated::notes`].
    pub notes: Vec<crate::rewrite::Note>,
    /// See [`Generated::examples`].
    pub examples: crate::examples::Examples,
}

/// A serde path as a JSON pointer into the document (`/paths/~1pets/get`).
fn pointer_of(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let pointer: String = path
        .iter()
        .filter_map(|segment| match segment {
            Segment::Seq { index } => Some(format!("/{index}")),
            Segment::Map { key } => Some(format!("/{}", crate::document::escape_pointer(key))),
            Segment::Enum { .. } | Segment::Unknown => None,
        })
        .collect();
    if pointer.is_empty() {
        "/".into()
    } else {
        pointer
    }
}

/// progenitor and the rewrites, without formatting.
pub fn generate_unformatted(api: &Api, doc: &Value) -> Result<Unformatted> {
    let spec: openapiv3::OpenAPI = serde_path_to_error::deserialize(doc.clone()).map_err(|e| {
        anyhow!(
            "the normalised document is not valid OpenAPI 3.0 at `{}`: {}\n    way out: fix that place with an \
             overlay action in specs/{}/",
            pointer_of(e.path()),
            e.inner(),
            api.name
        )
    })?;

    let (mock_doc, mock_omissions) = mock_document(doc);
    let mock_spec: openapiv3::OpenAPI = serde_json::from_value(mock_doc)?;

    let settings = settings(api);
    let client_crate_ident = api.client_crate().replace('-', "_");

    let (client_tokens, mock_tokens) = contain(&api.name, || -> Result<_> {
        let mut generator = Generator::new(&settings);
        let client = generator.generate_tokens(&spec)?;
        let mock = generator.httpmock(&mock_spec, &client_crate_ident)?;
        Ok((client, mock))
    })??;

    let glue = glue(doc);
    let mut client_file: syn::File = syn::parse2(quote! { #client_tokens #glue })
        .context("progenitor's output does not parse as Rust")?;
    if api.source.codegen.open_enums {
        open_enums(&mut client_file);
    }
    let boxed = box_object_fields(&mut client_file);
    let kept_empty = empty_collections_kept(&mut client_file);
    let mut notes = crate::rewrite::rewrite(&mut client_file, doc, &api.source.codegen)?;
    notes.extend(kept_empty);
    notes.extend(boxed);
    requests(&mut client_file);
    let examples = crate::examples::collect(doc, &client_file, &api.source.codegen);
    Ok(Unformatted {
        client: client_file,
        httpmock: mock_tokens,
        mock_omissions,
        notes,
        examples,
    })
}

/// progenitor 0.15's mock generator emits code that does not compile for two
/// constructs, so the mocks are generated from a copy of the document without
/// them (the client is generated from the real one):
/// - array-valued query parameters (`.to_string()` on a `Vec`): left out of
///   the matcher, so the mock matches any value (tests can add `httpmock`
///   matchers by hand via `into_inner`);
/// - primitive JSON response bodies (`true`, a number, a string enum, inline
///   or by reference) and nullable ones (`Option<&T>`): passed by value where
///   a reference is needed; the mock takes a `serde_json::Value` instead.
fn mock_document(doc: &Value) -> (Value, Vec<(String, String)>) {
    use crate::document::follow_refs as resolve;

    let mut copy = doc.clone();
    let mut omissions = Vec::new();
    let Some(paths) = copy.get_mut("paths").and_then(Value::as_object_mut) else {
        return (copy, omissions);
    };
    for (path, item) in paths.iter_mut() {
        for method in METHODS {
            let pointer = format!("/paths/{}/{method}", crate::document::escape_pointer(path));
            if let Some(responses) = item
                .get_mut(method)
                .and_then(|op| op.get_mut("responses"))
                .and_then(Value::as_object_mut)
            {
                // progenitor's mock generator names a response by its reason
                // phrase, and codes outside the registry have none.
                let unnamed: Vec<String> = responses
                    .keys()
                    .filter(|code| {
                        code.parse::<u16>().is_ok_and(|n| {
                            reqwest::StatusCode::from_u16(n)
                                .ok()
                                .and_then(|s| s.canonical_reason())
                                .is_none()
                        })
                    })
                    .cloned()
                    .collect();
                for code in unnamed {
                    responses.shift_remove(&code);
                    omissions.push((
                        format!("{pointer}/responses/{code}"),
                        format!(
                            "status {code} has no standard reason phrase, which progenitor's mock generator names \
                             its method after; the typed mock has no method for it (use `then.status({code})`)"
                        ),
                    ));
                }
                for (code, response) in responses.iter_mut() {
                    let Some(schema) = response.pointer_mut("/content/application~1json/schema")
                    else {
                        continue;
                    };
                    let resolved = resolve(doc, schema);
                    let primitive = resolved
                        .get("type")
                        .and_then(Value::as_str)
                        .is_some_and(|t| matches!(t, "boolean" | "integer" | "number" | "string"));
                    let nullable = [schema, resolved]
                        .iter()
                        .any(|s| s.get("nullable") == Some(&Value::Bool(true)));
                    if primitive || nullable {
                        *schema = serde_json::json!({});
                        omissions.push((
                            format!("{pointer}/responses/{code}"),
                            "primitive or nullable response body: the typed mock takes a serde_json::Value \
                             (progenitor's mock generator passes such a value where httpmock wants a reference)"
                                .to_owned(),
                        ));
                    }
                }
            }
            // The same for a request body the mock's matcher compares (one
            // given by `$ref` is inlined in the mock's copy first).
            if let Some(body) = item
                .get_mut(method)
                .and_then(|op| op.get_mut("requestBody"))
                && body.get("$ref").is_some()
            {
                *body = resolve(doc, body).clone();
            }
            if let Some(schema) = item
                .get_mut(method)
                .and_then(|op| op.pointer_mut("/requestBody/content/application~1json/schema"))
            {
                let resolved = resolve(doc, schema);
                let primitive = resolved
                    .get("type")
                    .and_then(Value::as_str)
                    .is_some_and(|t| matches!(t, "boolean" | "integer" | "number" | "string"));
                let nullable = [&*schema, resolved]
                    .iter()
                    .any(|s| s.get("nullable") == Some(&Value::Bool(true)));
                if primitive || nullable {
                    *schema = serde_json::json!({});
                    omissions.push((
                        format!("{pointer}/requestBody"),
                        "primitive or nullable request body: the typed mock's matcher takes a serde_json::Value"
                            .to_owned(),
                    ));
                }
            }
            let Some(parameters) = item
                .get_mut(method)
                .and_then(|op| op.get_mut("parameters"))
                .and_then(Value::as_array_mut)
            else {
                continue;
            };
            parameters.retain(|p| {
                let is_array_query = p.get("in").is_some_and(|l| l == "query")
                    && p.pointer("/schema/type").is_some_and(|t| t == "array");
                if is_array_query {
                    let name = p.get("name").and_then(Value::as_str).unwrap_or_default();
                    omissions.push((
                        pointer.clone(),
                        format!(
                            "array query parameter `{name}` left out of the typed mock matcher (progenitor's mock \
                             generator cannot render it); the mock matches any value"
                        ),
                    ));
                }
                !is_array_query
            });
        }
    }
    (copy, omissions)
}

fn settings(api: &Api) -> GenerationSettings {
    let codegen = &api.source.codegen;
    let mut settings = GenerationSettings::new();
    settings
        .with_interface(match codegen.interface {
            Interface::Builder => InterfaceStyle::Builder,
            Interface::Positional => InterfaceStyle::Positional,
        })
        .with_tag(match codegen.tags {
            Tags::Merged => TagStyle::Merged,
            Tags::Separate => TagStyle::Separate,
        })
        .with_inner_type(quote! { client_core::Runtime })
        .with_hooks(HooksMode::Expected);
    for derive in &codegen.derives {
        settings.with_derive(derive);
    }
    for (schema, rust_type) in &codegen.replace {
        settings.with_replacement(schema, rust_type, std::iter::empty());
    }
    for conversion in &codegen.conversions {
        settings.with_replacement(&conversion.name, &conversion.rust_type, std::iter::empty());
    }
    if let Some(map_type) = &codegen.map_type {
        settings.with_map_type(map_type);
    }
    settings
}

/// The code the generator appends: the operation table and the hook that
/// sends every request through `client_core::Runtime`.
fn glue(doc: &Value) -> proc_macro2::TokenStream {
    let mut operations = Vec::new();
    if let Some(paths) = doc.get("paths").and_then(Value::as_object) {
        for (path, item) in paths {
            for method in METHODS {
                let Some(op) = item.get(method) else { continue };
                // progenitor hands hooks the snake-case form of the operationId.
                let id = crate::normalize::rust_ident(
                    op.get("operationId")
                        .and_then(Value::as_str)
                        .unwrap_or_default(),
                );
                let mut extensions: Vec<(String, String)> = op
                    .as_object()
                    .into_iter()
                    .flatten()
                    .filter(|(k, _)| k.starts_with("x-"))
                    .filter_map(|(k, v)| match v {
                        Value::String(s) => Some((k.clone(), s.clone())),
                        Value::Bool(_) | Value::Number(_) => Some((k.clone(), v.to_string())),
                        _ => None,
                    })
                    .collect();
                extensions.sort();
                operations.push((id, method.to_ascii_uppercase(), path.clone(), extensions));
            }
        }
    }
    operations.sort();
    let entries = operations.iter().map(|(id, method, path, extensions)| {
        let ext = extensions.iter().map(|(k, v)| quote! { (#k, #v) });
        quote! {
            client_core::Operation {
                id: #id,
                method: #method,
                path: #path,
                extensions: &[#(#ext),*],
            }
        }
    });
    quote! {
        /// Every operation of the document, sorted by operation id: what
        /// `client_core::Runtime` knows about a request beyond its URL.
        pub static OPERATIONS: client_core::Operations = client_core::Operations::new(&[#(#entries),*]);

        impl ClientHooks<client_core::Runtime> for Client {
            async fn exec(
                &self,
                request: reqwest::Request,
                info: &OperationInfo,
            ) -> reqwest::Result<reqwest::Response> {
                self.inner
                    .exec(&self.client, request, OPERATIONS.get(info.operation_id))
                    .await
            }
        }
    }
}

thread_local! {
    static CAPTURED: RefCell<Option<Vec<String>>> = const { RefCell::new(None) };
}

/// Runs `f`, turning a panic inside it into an error that says what to do.
fn contain<T>(api: &str, f: impl FnOnce() -> T) -> Result<T> {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let captured = CAPTURED.with(|c| {
                let mut c = c.borrow_mut();
                match c.as_mut() {
                    Some(messages) => {
                        messages.push(info.to_string());
                        true
                    }
                    None => false,
                }
            });
            if !captured {
                previous(info);
            }
        }));
    });
    CAPTURED.with(|c| *c.borrow_mut() = Some(Vec::new()));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    let messages = CAPTURED.with(|c| c.borrow_mut().take()).unwrap_or_default();
    result.map_err(|_| {
        anyhow!(
            "progenitor panicked while generating `{api}`:\n    {}\n    This is a construct normalisation does not \
             handle yet. Look at the normalised document the message points to, fix the construct with an overlay \
             action in specs/{api}/, or teach xtask/src/normalize.rs the rule (with a fixture test).",
            messages.join("\n    ")
        )
    })
}

/// prettyplease, then stable rustfmt, so the bytes are the same on every machine.
pub fn format_rust(source: &str) -> Result<String> {
    let file: syn::File =
        syn::parse_str(source).context("generated code does not parse as Rust")?;
    format_file(&file)
}

fn format_file(file: &syn::File) -> Result<String> {
    let pretty = prettyplease::unparse(file);
    rustfmt(&line_docs(&pretty))
}

/// Gives every string enum typify generated an `Unknown(String)` variant.
///
/// Vendors add enum values without notice (Pinwheel's change management
/// says so in as many words), and a closed enum would make a whole response
/// fail to decode over one new value. The variant is `#[serde(untagged)]`:
/// known values still decode to their variants, anything else is kept as
/// text and written back unchanged. The enum loses `Copy`; `Display` shows
/// the text; `FromStr` stays strict, because it parses what a user typed.
/// typify writes an optional list or map as the collection itself with
/// `skip_serializing_if = "Vec::is_empty"`: an empty list the server sent,
/// or the caller set, is left out when the value is written, so an update
/// that means "none" (`enabled_events: []`) would be sent as "unchanged".
/// Such fields become `Option<Vec<_>>` (`None`: absent, `Some([])`: empty),
/// and their builders' setters keep taking the collection.
fn empty_collections_kept(file: &mut syn::File) -> Vec<crate::rewrite::Note> {
    const EMPTY: [&str; 3] = [
        "\"::std::vec::Vec::is_empty\"",
        "\"::serde_json::Map::is_empty\"",
        "\"::std::collections::HashMap::is_empty\"",
    ];
    let Some(types) = file.items.iter_mut().find_map(|item| match item {
        syn::Item::Mod(module) if module.ident == "types" => module.content.as_mut(),
        _ => None,
    }) else {
        return Vec::new();
    };
    let mut changed: std::collections::BTreeMap<String, Vec<syn::Ident>> = Default::default();
    for item in types.1.iter_mut() {
        let syn::Item::Struct(structure) = item else {
            continue;
        };
        for field in &mut structure.fields {
            let Some(ident) = field.ident.clone() else {
                continue;
            };
            let mut hit = false;
            for attr in &mut field.attrs {
                if !attr.path().is_ident("serde") {
                    continue;
                }
                let text = quote!(#attr).to_string();
                if let Some(found) = EMPTY.iter().find(|e| text.contains(*e))
                    && let Ok(parsed) = syn::parse_str::<syn::DeriveInput>(&format!(
                        "{} struct X;",
                        text.replace(found, "\"::std::option::Option::is_none\"")
                    ))
                    && let Some(new) = parsed.attrs.into_iter().next()
                {
                    *attr = new;
                    hit = true;
                }
            }
            if hit {
                let ty = &field.ty;
                field.ty = syn::parse_quote!(::std::option::Option<#ty>);
                changed
                    .entry(structure.ident.to_string())
                    .or_default()
                    .push(ident);
            }
        }
    }
    // The builders: the slot holds the option, the setter wraps what it is given.
    if let Some(builder) = types.1.iter_mut().find_map(|item| match item {
        syn::Item::Mod(module) if module.ident == "builder" => module.content.as_mut(),
        _ => None,
    }) {
        for item in builder.1.iter_mut() {
            match item {
                syn::Item::Struct(structure) => {
                    let Some(fields) = changed.get(&structure.ident.to_string()) else {
                        continue;
                    };
                    for field in &mut structure.fields {
                        if field.ident.as_ref().is_some_and(|i| fields.contains(i))
                            && let Some(inner) =
                                crate::examples::generic_args(&field.ty).into_iter().next()
                        {
                            field.ty = syn::parse_quote!(
                                ::std::result::Result<::std::option::Option<#inner>, ::std::string::String>
                            );
                        }
                    }
                }
                syn::Item::Impl(implementation) if implementation.trait_.is_none() => {
                    let syn::Type::Path(path) = &*implementation.self_ty else {
                        continue;
                    };
                    let Some(fields) = path
                        .path
                        .segments
                        .last()
                        .and_then(|s| changed.get(&s.ident.to_string()))
                    else {
                        continue;
                    };
                    for impl_item in &mut implementation.items {
                        let syn::ImplItem::Fn(function) = impl_item else {
                            continue;
                        };
                        if !fields.contains(&function.sig.ident) {
                            continue;
                        }
                        let block = &function.block;
                        let text = quote!(#block).to_string().replacen(
                            "value . try_into ()",
                            "value . try_into () . map (:: std :: option :: Option :: Some)",
                            1,
                        );
                        if let Ok(new) = syn::parse_str::<syn::Block>(&text) {
                            function.block = new;
                        }
                    }
                }
                _ => {}
            }
        }
    }
    changed
        .iter()
        .flat_map(|(name, fields)| {
            fields.iter().map(move |field| crate::rewrite::Note {
                rule: "rewrite/empty-collection-kept",
                place: format!("types::{name}::{field}"),
                message: "optional list or map: `Option<_>`, so an empty one is written as sent, not left out"
                    .to_owned(),
            })
        })
        .collect()
}

fn open_enums(file: &mut syn::File) {
    let Some(types) = file.items.iter_mut().find_map(|item| match item {
        syn::Item::Mod(module) if module.ident == "types" => module.content.as_mut(),
        _ => None,
    }) else {
        return;
    };
    let mut opened = std::collections::BTreeSet::new();
    for item in types.1.iter_mut() {
        let syn::Item::Enum(enumeration) = item else {
            continue;
        };
        let derives_deserialize = enumeration
            .attrs
            .iter()
            .any(|a| a.path().is_ident("derive") && quote!(#a).to_string().contains("Deserialize"));
        let all_unit = !enumeration.variants.is_empty()
            && enumeration
                .variants
                .iter()
                .all(|v| matches!(v.fields, syn::Fields::Unit));
        if !derives_deserialize
            || !all_unit
            || enumeration.variants.iter().any(|v| v.ident == "Unknown")
        {
            continue;
        }
        for attr in &mut enumeration.attrs {
            if !attr.path().is_ident("derive") {
                continue;
            }
            if let Ok(list) = attr.parse_args_with(
                syn::punctuated::Punctuated::<syn::Path, syn::Token![,]>::parse_terminated,
            ) {
                let kept = list.into_iter().filter(|p| !p.is_ident("Copy"));
                *attr = syn::parse_quote!(#[derive(#(#kept),*)]);
            }
        }
        enumeration.variants.push(syn::parse_quote! {
            /// A value this version of the client does not know yet, kept as sent.
            #[serde(untagged)]
            Unknown(::std::string::String)
        });
        opened.insert(enumeration.ident.to_string());
    }
    for item in types.1.iter_mut() {
        let syn::Item::Impl(implementation) = item else {
            continue;
        };
        let is_display = implementation
            .trait_
            .as_ref()
            .is_some_and(|(path, _)| path.segments.last().is_some_and(|s| s.ident == "Display"));
        let syn::Type::Path(self_type) = implementation.self_ty.as_ref() else {
            continue;
        };
        let Some(name) = self_type.path.get_ident() else {
            continue;
        };
        if !is_display || !opened.contains(&name.to_string()) {
            continue;
        }
        for impl_item in &mut implementation.items {
            let syn::ImplItem::Fn(function) = impl_item else {
                continue;
            };
            for statement in &mut function.block.stmts {
                if let syn::Stmt::Expr(syn::Expr::Match(matching), _) = statement {
                    matching.arms.push(syn::parse_quote! {
                        Self::Unknown(ref value) => f.write_str(value),
                    });
                }
            }
        }
    }
}

/// Boxes every field whose type is another generated object (a struct with
/// named fields), optional or not: `Option<Lookup>` becomes
/// `Option<Box<Lookup>>`.
///
/// typify writes nested objects inline, so a type's size is the sum of
/// everything it may contain: a PensionPro `Plan` with 22 lookups and its
/// client inline took 11 KiB, a `Task` 18 KiB, however little the server
/// sent. Every move of such a value copies all of it (a list of 1,000 plans
/// was 11 MiB before any heap data), and a decoded row passes through
/// several moves on its way to the caller. Boxed, a field costs a pointer
/// when absent and an allocation when present.
///
/// The builders keep taking the unboxed value (`.status(lookup)`); fields
/// with a `default = "..."` function are left inline, since the function
/// returns the unboxed type.
fn box_object_fields(file: &mut syn::File) -> Vec<crate::rewrite::Note> {
    let Some(types) = file.items.iter_mut().find_map(|item| match item {
        syn::Item::Mod(module) if module.ident == "types" => module.content.as_mut(),
        _ => None,
    }) else {
        return Vec::new();
    };
    let objects: std::collections::BTreeSet<String> = types
        .1
        .iter()
        .filter_map(|item| match item {
            syn::Item::Struct(s) if matches!(s.fields, syn::Fields::Named(_)) => {
                Some(s.ident.to_string())
            }
            _ => None,
        })
        .collect();
    let mut notes = Vec::new();
    // (struct, field) -> whether the boxed field is optional.
    let mut boxed: std::collections::BTreeMap<(String, String), bool> =
        std::collections::BTreeMap::new();
    for item in types.1.iter_mut() {
        let syn::Item::Struct(structure) = item else {
            continue;
        };
        let syn::Fields::Named(fields) = &mut structure.fields else {
            continue;
        };
        let mut names = Vec::new();
        for field in &mut fields.named {
            let has_default_fn = field.attrs.iter().any(|attr| {
                attr.path().is_ident("serde")
                    && quote!(#attr)
                        .to_string()
                        .replace(' ', "")
                        .contains("default=")
            });
            if has_default_fn {
                continue;
            }
            let Some(optional) = box_object(&mut field.ty, &objects, "") else {
                continue;
            };
            let name = field
                .ident
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default();
            boxed.insert((structure.ident.to_string(), name.clone()), optional);
            names.push(name);
        }
        if !names.is_empty() {
            notes.push(crate::rewrite::Note {
                rule: "types/boxed-object-field",
                place: format!("types::{}", structure.ident),
                message: format!(
                    "other objects, boxed so the type does not hold them inline: {}",
                    names.join(", ")
                ),
            });
        }
    }
    // The builders: their fields hold `Result<T, String>`; their setters
    // still take the unboxed value and box it.
    let Some(builder) = types.1.iter_mut().find_map(|item| match item {
        syn::Item::Mod(module) if module.ident == "builder" => module.content.as_mut(),
        _ => None,
    }) else {
        return notes;
    };
    for item in builder.1.iter_mut() {
        match item {
            syn::Item::Struct(structure) => {
                let syn::Fields::Named(fields) = &mut structure.fields else {
                    continue;
                };
                for field in &mut fields.named {
                    let name = field
                        .ident
                        .as_ref()
                        .map(ToString::to_string)
                        .unwrap_or_default();
                    if !boxed.contains_key(&(structure.ident.to_string(), name)) {
                        continue;
                    }
                    if let syn::Type::Path(result) = &mut field.ty
                        && let Some(segment) = result.path.segments.last_mut()
                        && segment.ident == "Result"
                        && let syn::PathArguments::AngleBracketed(args) = &mut segment.arguments
                        && let Some(syn::GenericArgument::Type(ok)) = args.args.first_mut()
                    {
                        box_object(ok, &objects, "super");
                    }
                }
            }
            syn::Item::Impl(implementation) if implementation.trait_.is_none() => {
                let Some(owner) = type_name(&implementation.self_ty) else {
                    continue;
                };
                for impl_item in &mut implementation.items {
                    let syn::ImplItem::Fn(setter) = impl_item else {
                        continue;
                    };
                    let key = (owner.clone(), setter.sig.ident.to_string());
                    let Some(&optional) = boxed.get(&key) else {
                        continue;
                    };
                    let field = &setter.sig.ident;
                    for statement in &mut setter.block.stmts {
                        if let syn::Stmt::Expr(syn::Expr::Assign(assign), _) = statement
                            && let left = &assign.left
                            && quote!(#left).to_string().replace(' ', "") == format!("self.{field}")
                        {
                            let value = &assign.right;
                            assign.right = if optional {
                                syn::parse_quote!(#value.map(|value| value.map(::std::boxed::Box::new)))
                            } else {
                                syn::parse_quote!(#value.map(::std::boxed::Box::new))
                            };
                        }
                    }
                }
            }
            _ => {}
        }
    }
    notes
}

/// Boxes `ty` when it is a generated object (`prefix::Name`) or an
/// `Option` of one; returns whether it was optional, `None` when untouched.
fn box_object(
    ty: &mut syn::Type,
    objects: &std::collections::BTreeSet<String>,
    prefix: &str,
) -> Option<bool> {
    let is_object = |ty: &syn::Type| {
        let syn::Type::Path(path) = ty else {
            return false;
        };
        let segments: Vec<String> = path
            .path
            .segments
            .iter()
            .map(|segment| segment.ident.to_string())
            .collect();
        let Some((last, before)) = segments.split_last() else {
            return false;
        };
        let qualified = if prefix.is_empty() {
            before.is_empty()
        } else {
            before.len() == 1 && before[0] == prefix
        };
        qualified
            && path.qself.is_none()
            && path.path.leading_colon.is_none()
            && path
                .path
                .segments
                .last()
                .is_some_and(|s| s.arguments.is_none())
            && objects.contains(last)
    };
    if is_object(ty) {
        *ty = syn::parse_quote!(::std::boxed::Box<#ty>);
        return Some(false);
    }
    let syn::Type::Path(path) = ty else {
        return None;
    };
    let text = quote!(#path).to_string().replace(' ', "");
    if !text.starts_with("::std::option::Option<") {
        return None;
    }
    let segment = path.path.segments.last_mut()?;
    let syn::PathArguments::AngleBracketed(args) = &mut segment.arguments else {
        return None;
    };
    let syn::GenericArgument::Type(inner) = args.args.first_mut()? else {
        return None;
    };
    if !is_object(inner) {
        return None;
    }
    *inner = syn::parse_quote!(::std::boxed::Box<#inner>);
    Some(true)
}

/// Implements `client_core::Request` for every operation's builder, so a
/// wrapper can give all of them one `send()` returning its own result type.
/// progenitor's own `send` becomes `send_raw`: an inherent method would
/// otherwise shadow the wrapper's.
///
/// An operation whose every success answer is decoded JSON also gets
/// `send_raw_as::<B>()`, the same request with the success body decoded as a
/// type of the caller's choosing, and implements `client_core::JsonRequest`.
/// A wrapper can then read a large body through a lighter view of it (a
/// list page whose rows stay JSON text until they are taken). `send_raw` is
/// `send_raw_as` with the declared type, so the request is written once.
fn requests(file: &mut syn::File) {
    let Some(builders) = file.items.iter_mut().find_map(|item| match item {
        syn::Item::Mod(module) if module.ident == "builder" => module.content.as_mut(),
        _ => None,
    }) else {
        return;
    };
    // Per builder struct: the field holding `&super::Client` (`client`, or
    // `_client` when an operation has a parameter called `client`), and the
    // fields holding an optional parameter (`Result<Option<_>, String>`),
    // which `send` binds to locals of the same name.
    let fields: std::collections::HashMap<String, BuilderFields> = builders
        .1
        .iter()
        .filter_map(|item| match item {
            syn::Item::Struct(s) => Some((s.ident.to_string(), BuilderFields::of(s))),
            _ => None,
        })
        .collect();
    let plain = BuilderFields::default();
    let mut lean = false;
    let mut impls = Vec::new();
    for item in builders.1.iter_mut() {
        let syn::Item::Impl(implementation) = item else {
            continue;
        };
        if implementation.trait_.is_some() {
            continue;
        }
        let self_ty = implementation.self_ty.clone();
        let builder = type_name(&self_ty)
            .and_then(|name| fields.get(&name))
            .unwrap_or(&plain);
        let client_field = builder
            .client
            .clone()
            .unwrap_or_else(|| syn::Ident::new("client", proc_macro2::Span::call_site()));
        let generics = implementation.generics.clone();
        let mut added: Vec<syn::ImplItem> = Vec::new();
        for impl_item in &mut implementation.items {
            let syn::ImplItem::Fn(function) = impl_item else {
                continue;
            };
            if function.sig.ident != "send" || function.sig.asyncness.is_none() {
                continue;
            }
            let syn::ReturnType::Type(_, output) = &function.sig.output else {
                continue;
            };
            let Some((ok, err)) = result_types(output) else {
                continue;
            };
            syn::visit_mut::VisitMut::visit_block_mut(
                &mut MethodsReqwestLacks,
                &mut function.block,
            );
            let mut leaner = LeanRequest {
                optional: &builder.optional,
                rewrote_query: false,
            };
            syn::visit_mut::VisitMut::visit_block_mut(&mut leaner, &mut function.block);
            lean |= leaner.rewrote_query;
            function
                .attrs
                .push(syn::parse_quote!(#[doc = " (progenitor's `send`: no call scope, progenitor's error; wrappers send with their own `send()`.)"]));
            let mut answers = SuccessAnswers::default();
            syn::visit_mut::VisitMut::visit_block_mut(&mut answers, &mut function.block);
            if answers.json_only() {
                // The request, once, generic over the success body's type;
                // `send_raw` is it with the declared type.
                let docs: Vec<syn::Attribute> = function
                    .attrs
                    .iter()
                    .filter(|attr| attr.path().is_ident("doc"))
                    .cloned()
                    .collect();
                function.sig.ident = syn::Ident::new("send_raw_as", function.sig.ident.span());
                function.attrs.retain(|attr| !attr.path().is_ident("doc"));
                function.attrs.push(syn::parse_quote!(#[doc = " `send_raw` with the success body decoded as `__Body` instead of the declared type: a lighter view of the same JSON."]));
                function.sig.generics = syn::parse_quote!(<__Body: ::serde::de::DeserializeOwned>);
                function.sig.output =
                    syn::parse_quote!(-> Result<ResponseValue<__Body>, Error<#err>>);
                added.push(syn::parse_quote! {
                    #(#docs)*
                    pub async fn send_raw(self) -> Result<ResponseValue<#ok>, Error<#err>> {
                        self.send_raw_as::<#ok>().await
                    }
                });
                impls.push(quote! {
                    impl #generics client_core::JsonRequest for #self_ty {
                        fn send_raw_as<B: ::serde::de::DeserializeOwned + Send>(
                            self,
                        ) -> impl ::std::future::Future<
                            Output = Result<ResponseValue<B>, Error<#err>>,
                        > + Send {
                            self.send_raw_as::<B>()
                        }
                    }
                });
            } else {
                function.sig.ident = syn::Ident::new("send_raw", function.sig.ident.span());
            }
            impls.push(quote! {
                impl #generics client_core::Request for #self_ty {
                    type Output = #ok;
                    type Error = #err;
                    fn runtime(&self) -> &client_core::Runtime {
                        &self.#client_field.inner
                    }
                    fn send_raw(
                        self,
                    ) -> impl ::std::future::Future<
                        Output = Result<ResponseValue<#ok>, Error<#err>>,
                    > + Send {
                        self.send_raw()
                    }
                }
            });
        }
        implementation.items.extend(added);
    }
    for code in impls {
        if let Ok(item) = syn::parse2(code) {
            builders.1.push(item);
        }
    }
    if lean {
        builders.1.insert(
            0,
            syn::parse_quote!(
                use client_core::OptionalQuery as _;
            ),
        );
    }
}

/// What `requests` needs to know of a builder struct's fields.
#[derive(Default)]
struct BuilderFields {
    /// The field holding `&super::Client`.
    client: Option<syn::Ident>,
    /// The fields holding an optional parameter.
    optional: std::collections::HashSet<String>,
}

impl BuilderFields {
    fn of(builder: &syn::ItemStruct) -> Self {
        let mut fields = Self::default();
        for field in &builder.fields {
            let ty = &field.ty;
            let ty = quote!(#ty).to_string().replace(' ', "");
            if ty.ends_with("super::Client") {
                fields.client = field.ident.clone();
            } else if ty.starts_with("Result<Option<")
                && let Some(name) = &field.ident
            {
                fields.optional.insert(name.to_string());
            }
        }
        fields
    }
}

/// The name a type path ends with (`builder::ListPlans<'a>` -> `ListPlans`).
fn type_name(ty: &syn::Type) -> Option<String> {
    match ty {
        syn::Type::Path(path) => path.path.segments.last().map(|s| s.ident.to_string()),
        _ => None,
    }
}

/// Takes work off every request that progenitor's `send` does for nothing:
///
/// - an optional query parameter the caller did not set is still handed to
///   `RequestBuilder::query`, which takes the URL's query apart and puts it
///   back each time; `.query_some(name, &value)`
///   ([`client_core::OptionalQuery`]) skips an absent one and adds a
///   present one exactly as before;
/// - the `api-version` header progenitor adds to every request is one the
///   runtime removes again before sending, so it is not added.
struct LeanRequest<'a> {
    /// The builder's optional parameters, by the name of the local in `send`.
    optional: &'a std::collections::HashSet<String>,
    rewrote_query: bool,
}

impl syn::visit_mut::VisitMut for LeanRequest<'_> {
    fn visit_expr_method_call_mut(&mut self, call: &mut syn::ExprMethodCall) {
        syn::visit_mut::visit_expr_method_call_mut(self, call);
        if call.method != "query" || call.args.len() != 1 {
            return;
        }
        // `.query(&progenitor_client::QueryParam::new("name", &local))`
        let Some(syn::Expr::Reference(arg)) = call.args.first() else {
            return;
        };
        let syn::Expr::Call(new) = &*arg.expr else {
            return;
        };
        let func = &new.func;
        if quote!(#func).to_string().replace(' ', "") != "progenitor_client::QueryParam::new" {
            return;
        }
        let (Some(name), Some(syn::Expr::Reference(value)), 2) =
            (new.args.first(), new.args.get(1), new.args.len())
        else {
            return;
        };
        let syn::Expr::Path(local) = &*value.expr else {
            return;
        };
        if !local
            .path
            .get_ident()
            .is_some_and(|ident| self.optional.contains(&ident.to_string()))
        {
            return;
        }
        let (name, local) = (name.clone(), local.clone());
        call.method = syn::Ident::new("query_some", call.method.span());
        call.args = syn::parse_quote!(#name, &#local);
        self.rewrote_query = true;
    }

    fn visit_block_mut(&mut self, block: &mut syn::Block) {
        syn::visit_mut::visit_block_mut(self, block);
        let before = block.stmts.len();
        block.stmts.retain(|stmt| {
            let text = quote!(#stmt).to_string().replace(' ', "");
            !(text.starts_with("header_map.append(")
                && text.contains("HeaderName::from_static(\"api-version\")"))
        });
        if block.stmts.len() == before {
            return;
        }
        // When no other header goes into `header_map`, neither it nor
        // `.headers(header_map)` is needed.
        let is_map = |stmt: &syn::Stmt| {
            let text = quote!(#stmt).to_string().replace(' ', "");
            text.starts_with("letmutheader_map=") && text.contains("HeaderMap::with_capacity")
        };
        let filled = block.stmts.iter().any(|stmt| {
            !is_map(stmt)
                && quote!(#stmt)
                    .to_string()
                    .replace(' ', "")
                    .contains("header_map.")
        });
        if !filled {
            block.stmts.retain(|stmt| !is_map(stmt));
            syn::visit_mut::VisitMut::visit_block_mut(&mut WithoutHeaderMap, block);
            return;
        }
        // One header fewer: `HeaderMap::with_capacity(n)` becomes `n - 1`.
        for stmt in &mut block.stmts {
            let syn::Stmt::Local(local) = stmt else {
                continue;
            };
            let Some(init) = &mut local.init else {
                continue;
            };
            let syn::Expr::Call(call) = &mut *init.expr else {
                continue;
            };
            let func = &call.func;
            if !quote!(#func)
                .to_string()
                .replace(' ', "")
                .ends_with("HeaderMap::with_capacity")
            {
                continue;
            }
            if let Some(syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Int(count),
                ..
            })) = call.args.first_mut()
                && let Ok(n) = count.base10_parse::<usize>()
            {
                let fewer = n.saturating_sub(1);
                *count = syn::LitInt::new(&format!("{fewer}usize"), count.span());
            }
        }
    }
}

/// The answers of progenitor's `match response.status().as_u16() { ... }`:
/// how many are success bodies decoded as JSON, and whether any arm is
/// something else than that or an error.
#[derive(Default)]
struct SuccessAnswers {
    json: usize,
    other: usize,
}

impl SuccessAnswers {
    /// Whether every success answer decodes JSON (and there is one).
    fn json_only(&self) -> bool {
        self.json > 0 && self.other == 0
    }
}

impl syn::visit_mut::VisitMut for SuccessAnswers {
    fn visit_expr_match_mut(&mut self, matching: &mut syn::ExprMatch) {
        let scrutinee = &matching.expr;
        if quote!(#scrutinee).to_string().replace(' ', "") != "response.status().as_u16()" {
            syn::visit_mut::visit_expr_match_mut(self, matching);
            return;
        }
        for arm in &matching.arms {
            let body = &arm.body;
            let text = quote!(#body).to_string().replace(' ', "");
            // rustfmt-style blocks around an arm's expression say the same.
            let text = text
                .strip_prefix('{')
                .and_then(|t| t.strip_suffix('}'))
                .unwrap_or(&text);
            if text == "ResponseValue::from_response(response).await" {
                self.json += 1;
            } else if !text.starts_with("Err(") {
                self.other += 1;
            }
        }
    }
}

/// progenitor builds an OPTIONS or TRACE request with `client.options(url)` /
/// `client.trace(url)`, which `reqwest::Client` does not have; those become
/// `client.request(reqwest::Method::OPTIONS, url)`.
struct MethodsReqwestLacks;

impl syn::visit_mut::VisitMut for MethodsReqwestLacks {
    fn visit_expr_method_call_mut(&mut self, call: &mut syn::ExprMethodCall) {
        syn::visit_mut::visit_expr_method_call_mut(self, call);
        let method = match call.method.to_string().as_str() {
            "options" => quote!(OPTIONS),
            "trace" => quote!(TRACE),
            _ => return,
        };
        let receiver_is_reqwest = matches!(&*call.receiver, syn::Expr::Field(field)
            if matches!(&field.member, syn::Member::Named(name) if name == "client"));
        if !receiver_is_reqwest || call.args.len() != 1 {
            return;
        }
        let url = call.args.first().cloned();
        call.method = syn::Ident::new("request", call.method.span());
        call.args = syn::parse_quote!(::reqwest::Method::#method, #url);
    }
}

/// Removes `.headers(header_map)` from a request being built.
struct WithoutHeaderMap;

impl syn::visit_mut::VisitMut for WithoutHeaderMap {
    fn visit_expr_mut(&mut self, expr: &mut syn::Expr) {
        syn::visit_mut::visit_expr_mut(self, expr);
        if let syn::Expr::MethodCall(call) = expr
            && call.method == "headers"
            && call.args.len() == 1
            && matches!(call.args.first(), Some(syn::Expr::Path(p)) if p.path.is_ident("header_map"))
        {
            *expr = (*call.receiver).clone();
        }
    }
}

/// `Result<ResponseValue<T>, Error<E>>` -> `(T, E)`.
fn result_types(ty: &syn::Type) -> Option<(syn::Type, syn::Type)> {
    let args = crate::examples::generic_args;
    let outer = args(ty);
    let ok = args(outer.first()?).into_iter().next()?;
    let err = args(outer.get(1)?).into_iter().next()?;
    Some((ok, err))
}

/// prettyplease prints a multi-line doc attribute as a `/** ... */` block,
/// whose continuation lines rustfmt then indents. Indented lines in a doc
/// comment are Markdown code blocks, so rustdoc would run spec prose as
/// doctests. Each block becomes `///` lines holding the same text.
fn line_docs(source: &str) -> String {
    let mut out = String::with_capacity(source.len());
    let mut lines = source.lines();
    while let Some(line) = lines.next() {
        let trimmed = line.trim_start();
        let indent = &line[..line.len() - trimmed.len()];
        let Some(first) = trimmed
            .strip_prefix("/**")
            .filter(|_| !trimmed.starts_with("/**/"))
        else {
            out.push_str(line);
            out.push('\n');
            continue;
        };
        let mut body = vec![first.to_owned()];
        while !body.last().is_some_and(|l| l.ends_with("*/")) {
            match lines.next() {
                Some(next) => body.push(next.to_owned()),
                None => break,
            }
        }
        if let Some(last) = body.last_mut()
            && let Some(stripped) = last.strip_suffix("*/")
        {
            *last = stripped.to_owned();
        }
        for text in body {
            out.push_str(indent);
            out.push_str("///");
            out.push_str(&text);
            out.push('\n');
        }
    }
    out
}

/// Formats Rust source with the local stable rustfmt (edition 2021).
pub fn rustfmt(source: &str) -> Result<String> {
    let mut child = Command::new(std::env::var("RUSTFMT").unwrap_or_else(|_| "rustfmt".into()))
        .args(["--edition", "2021", "--emit", "stdout", "--quiet"])
        .current_dir(std::env::temp_dir())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("running rustfmt (install it with `rustup component add rustfmt`)")?;
    let mut stdin = child.stdin.take().context("rustfmt stdin")?;
    let input = source.to_owned();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let output = child.wait_with_output()?;
    writer
        .join()
        .map_err(|_| anyhow!("rustfmt writer thread panicked"))??;
    if !output.status.success() {
        bail!(
            "rustfmt failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    String::from_utf8(output.stdout).context("rustfmt output is not UTF-8")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_an_error_with_the_way_out() {
        let err = contain("demo", || -> u8 {
            panic!("not yet implemented: media type encoding")
        })
        .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("media type encoding"), "{text}");
        assert!(text.contains("specs/demo/"), "{text}");
    }

    #[test]
    fn block_docs_become_line_docs_with_the_same_text() {
        let source = "/**Title\n\nbody `x`\n```ignore\ncode\n```*/\nfn a() {}\n    /**one line*/\n";
        assert_eq!(
            line_docs(source),
            "///Title\n///\n///body `x`\n///```ignore\n///code\n///```\nfn a() {}\n    ///one line\n"
        );
    }

    /// A builder module shaped as progenitor writes one: two operations,
    /// one with only progenitor's `api-version` header, one with a header
    /// parameter too.
    fn builders() -> syn::File {
        syn::parse_quote! {
            pub mod builder {
                pub struct ListPlans<'a> {
                    client: &'a super::Client,
                    filter: Result<Option<::std::string::String>, String>,
                    ids: Result<::std::vec::Vec<i32>, String>,
                }
                impl<'a> ListPlans<'a> {
                    pub async fn send(self) -> Result<ResponseValue<types::Page>, Error<types::Problem>> {
                        let Self { client, filter, ids } = self;
                        let filter = filter.map_err(Error::InvalidRequest)?;
                        let ids = ids.map_err(Error::InvalidRequest)?;
                        let url = format!("{}/v2/plans", client.baseurl,);
                        let mut header_map = ::reqwest::header::HeaderMap::with_capacity(1usize);
                        header_map.append(
                            ::reqwest::header::HeaderName::from_static("api-version"),
                            ::reqwest::header::HeaderValue::from_static(super::Client::api_version()),
                        );
                        let mut request = client
                            .client
                            .get(url)
                            .query(&progenitor_client::QueryParam::new("$filter", &filter))
                            .query(&progenitor_client::QueryParam::new("ids", &ids))
                            .headers(header_map)
                            .build()?;
                        let result = client.exec(request, &info).await;
                        let response = result?;
                        match response.status().as_u16() {
                            200u16 => ResponseValue::from_response(response).await,
                            _ => Err(Error::UnexpectedResponse(response)),
                        }
                    }
                }
                pub struct GetPlan<'a> {
                    client: &'a super::Client,
                    authorization: Result<Option<::std::string::String>, String>,
                }
                impl<'a> GetPlan<'a> {
                    pub async fn send(self) -> Result<ResponseValue<types::Plan>, Error<types::Problem>> {
                        let Self { client, authorization } = self;
                        let authorization = authorization.map_err(Error::InvalidRequest)?;
                        let url = format!("{}/v2/plans/1", client.baseurl,);
                        let mut header_map = ::reqwest::header::HeaderMap::with_capacity(2usize);
                        header_map.append(
                            ::reqwest::header::HeaderName::from_static("api-version"),
                            ::reqwest::header::HeaderValue::from_static(super::Client::api_version()),
                        );
                        if let Some(value) = authorization {
                            header_map.append("authorization", value.to_string().try_into()?);
                        }
                        let mut request = client.client.get(url).headers(header_map).build()?;
                        let result = client.exec(request, &info).await;
                        let response = result?;
                        match response.status().as_u16() {
                            200u16 => ResponseValue::from_response(response).await,
                            _ => Err(Error::UnexpectedResponse(response)),
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn requests_skip_absent_optional_queries_and_the_api_version_header() {
        let mut file = builders();
        requests(&mut file);
        let text = quote!(#file).to_string().replace(' ', "");
        // An optional parameter goes through `query_some`, which the module
        // imports; a required one keeps progenitor's call.
        assert!(text.contains(r#".query_some("$filter",&filter)"#), "{text}");
        assert!(
            text.contains(r#".query(&progenitor_client::QueryParam::new("ids",&ids))"#),
            "{text}"
        );
        assert!(text.contains("useclient_core::OptionalQueryas_;"), "{text}");
        // progenitor's `api-version` is gone everywhere; a map left with no
        // header goes with it, one with a header parameter keeps it, one
        // slot smaller.
        assert!(!text.contains("api-version"), "{text}");
        assert_eq!(text.matches("letmutheader_map").count(), 1, "{text}");
        assert!(text.contains("HeaderMap::with_capacity(1usize)"), "{text}");
        assert_eq!(text.matches(".headers(header_map)").count(), 1, "{text}");
        assert!(
            text.contains(r#"header_map.append("authorization""#),
            "{text}"
        );
    }

    #[test]
    fn formatting_is_stable() {
        let once = format_rust("fn  a ( ) -> u8 { 1 }").unwrap();
        assert_eq!(once, "fn a() -> u8 {\n    1\n}\n");
        assert_eq!(format_rust(&once).unwrap(), once);
    }
}
