//! `specs/<api>/SOURCE.toml`: where a document came from, and how to generate from it.
//!
//! Everything that differs between APIs is data in this file, never a branch in
//! the generator: adding an API means adding a folder with a document and this
//! file. The `[codegen]` table is optional; its defaults suit most documents.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::Deserialize;

/// The parsed `SOURCE.toml` of one API.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// Where the vendor document comes from.
    pub upstream: Upstream,
    /// How to generate the crates.
    #[serde(default)]
    pub codegen: Settings,
}

/// The `[upstream]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Upstream {
    /// URL that `cargo xtask fetch` downloads the document from.
    pub url: String,
    /// File name of the pinned document inside the spec folder.
    pub document: String,
    /// Lower-case hex sha256 of the document's bytes.
    pub sha256: String,
    /// The API version the document describes (`info.version`).
    pub api_version: String,
    /// Whether the document was written by us from evidence rather than published by the vendor.
    #[serde(default)]
    pub reconstructed: bool,
    /// Free text: how this copy was obtained.
    #[serde(default)]
    pub provenance: String,
}

/// The `[codegen]` table: generation settings of one API.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Name of the generated client crate (default `<api>-client`).
    pub client_crate: Option<String>,
    /// Name of the generated typed-mock crate (default `<api>-httpmock`).
    pub httpmock_crate: Option<String>,
    /// progenitor's interface style.
    pub interface: Interface,
    /// progenitor's tag style.
    pub tags: Tags,
    /// Extra derives on every generated type, e.g. `schemars::JsonSchema`.
    pub derives: Vec<String>,
    /// Named schemas replaced by existing Rust types: schema name -> type path.
    pub replace: std::collections::BTreeMap<String, String>,
    /// Map type used for `additionalProperties` objects.
    pub map_type: Option<String>,
    /// One-line description used in the generated crates' manifests.
    pub description: Option<String>,
    /// Schemas generated as an existing Rust type instead (e.g. every JSON
    /// number as an exact decimal).
    pub conversions: Vec<Conversion>,
    /// Give every generated string enum an `Unknown(String)` variant, so a
    /// value the vendor adds later never fails decoding (default true).
    pub open_enums: bool,
    /// Give every generated object type an `unknown_fields` member that keeps
    /// the fields the document does not describe and writes them back
    /// unchanged (default true), so a get-modify-put never blanks them.
    pub unknown_fields: bool,
    /// What a required but nullable property that the server leaves out
    /// means (default `null`: the same as `null`; `error`: decoding fails).
    pub absent_nullable: AbsentNullable,
    /// Examples of the document the example oracle leaves out, each with
    /// its reason (`[[codegen.example_skips]] pointer = "..." reason = "..."`).
    /// Prefer an overlay action that fixes the example or the schema.
    pub example_skips: Vec<ExampleSkip>,
    /// What a `$ref` to another file means when that file is not published
    /// with the document (default `refuse`: an error naming each one;
    /// `free-form`: any JSON value there, each listed in the report).
    pub external_refs: ExternalRefs,
}

/// What to do with `$ref`s that point outside the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExternalRefs {
    /// An error that names each one and the way out (bundle the document).
    #[default]
    Refuse,
    /// Replaced by a free-form schema (any JSON value) with a report line:
    /// for vendors that never published the files they point at.
    FreeForm,
}

/// One example the oracle leaves out on purpose.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExampleSkip {
    /// JSON pointer of the example in the normalised document.
    pub pointer: String,
    /// Why it cannot be checked; printed by the test.
    pub reason: String,
}

/// What an absent required-but-nullable property means when decoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AbsentNullable {
    /// Read as `null`: one omitted field does not make a whole page unreadable.
    /// Each relaxed field is listed in the codegen report.
    #[default]
    Null,
    /// A decoding error ("missing field"), as the document's contract says.
    Error,
}

/// One `[[codegen.conversions]]` entry: every schema whose keys include all of
/// `match` (and that has no structure of its own) becomes `rust_type`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Conversion {
    /// Keys and values a schema must have, e.g. `{ type = "number", format = "decimal" }`.
    #[serde(rename = "match")]
    pub matches: serde_json::Map<String, serde_json::Value>,
    /// Name of the placeholder component schema progenitor sees.
    pub name: String,
    /// The Rust type path that replaces it, e.g. `client_core::money::DecimalAmount`.
    pub rust_type: String,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            client_crate: None,
            httpmock_crate: None,
            interface: Interface::Builder,
            tags: Tags::Merged,
            derives: Vec::new(),
            replace: Default::default(),
            map_type: None,
            description: None,
            conversions: Vec::new(),
            open_enums: true,
            unknown_fields: true,
            absent_nullable: AbsentNullable::Null,
            example_skips: Vec::new(),
            external_refs: ExternalRefs::Refuse,
        }
    }
}

/// progenitor's interface style.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Interface {
    /// `client.op().param(x).send()`.
    Builder,
    /// `client.op(x, y)`.
    Positional,
}

/// progenitor's tag style.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Tags {
    /// All operations on `Client`.
    Merged,
    /// One extension trait per tag.
    Separate,
}

/// One API's spec folder, loaded.
#[derive(Debug, Clone)]
pub struct Api {
    /// The folder name, e.g. `pinwheel`.
    pub name: String,
    /// `specs/<name>`.
    pub dir: PathBuf,
    /// The parsed `SOURCE.toml`.
    pub source: Source,
}

impl Api {
    /// Reads `specs/<name>/SOURCE.toml` below `root`.
    pub fn load(root: &Path, name: &str) -> Result<Self> {
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            bail!(
                "API name `{name}` must be lower-case ASCII letters, digits and `-` (it names crates)"
            );
        }
        Self::load_from(&root.join("specs").join(name), name)
    }

    /// Reads `SOURCE.toml` in `dir`, a spec folder anywhere (the corpus).
    pub fn load_from(dir: &Path, name: &str) -> Result<Self> {
        let dir = dir.to_path_buf();
        let path = dir.join("SOURCE.toml");
        let text = std::fs::read_to_string(&path).with_context(|| {
            format!(
                "no spec folder for `{name}`: cannot read {}",
                path.display()
            )
        })?;
        let source: Source =
            toml::from_str(&text).with_context(|| format!("{} is not valid", path.display()))?;
        Ok(Self {
            name: name.to_owned(),
            dir,
            source,
        })
    }

    /// Every API under `root/specs`, sorted by name.
    pub fn discover(root: &Path) -> Result<Vec<Self>> {
        let specs = root.join("specs");
        let mut names = Vec::new();
        for entry in
            std::fs::read_dir(&specs).with_context(|| format!("reading {}", specs.display()))?
        {
            let entry = entry?;
            if entry.path().join("SOURCE.toml").is_file() {
                names.push(entry.file_name().to_string_lossy().into_owned());
            }
        }
        names.sort();
        names.iter().map(|name| Self::load(root, name)).collect()
    }

    /// Name of the generated client crate.
    pub fn client_crate(&self) -> String {
        self.source
            .codegen
            .client_crate
            .clone()
            .unwrap_or_else(|| format!("{}-client", self.name))
    }

    /// Name of the generated typed-mock crate.
    pub fn httpmock_crate(&self) -> String {
        self.source
            .codegen
            .httpmock_crate
            .clone()
            .unwrap_or_else(|| format!("{}-httpmock", self.name))
    }

    /// Path of the pinned document.
    pub fn document_path(&self) -> PathBuf {
        self.dir.join(&self.source.upstream.document)
    }

    /// Path of the overlay, when the folder has one.
    pub fn overlay_path(&self) -> Option<PathBuf> {
        ["overlay.yaml", "overlay.yml", "overlay.json"]
            .iter()
            .map(|name| self.dir.join(name))
            .find(|path| path.is_file())
    }
}
