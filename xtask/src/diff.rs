//! `cargo xtask diff <api> [--against <git-rev>|<file>] [--document <file>]`:
//! what changed in an API between two normalised documents, classified for
//! the people who use the generated client crate.
//!
//! Both sides are *normalised* documents (what progenitor saw), so the
//! overlay's fixes and normalisation's rewrites are not reported as vendor
//! changes. The new side is the pinned vendor document (or `--document`, a
//! vendor document as published) run through the overlay and normalisation
//! in memory, not the checked-in `codegen/normalized.json`: a spec that
//! changed without `cargo xtask codegen` is still compared as it will
//! generate. The old side is `crates/<client>/codegen/normalized.json` at a
//! git revision (default `HEAD`), or a file holding a normalised document
//! (for example a saved `normalized.json`).
//!
//! # Classification
//!
//! *Breaking* means code that compiled and worked against the previous
//! crate may stop compiling or start failing: it is written from the point
//! of view of a Rust user who builds requests with the generated builders
//! (`client.op().param(x).body(..)`, `Type::builder()`) and reads the typed
//! responses. Building generated structs with struct literals is not
//! covered (every new field would break it; the builders exist for that).
//! Each rule has a fixture in `xtask/tests/fixtures/diff/<rule>/`: an
//! overlay stating the rule's edit of the shared `base.yaml`, and the
//! expected changelog (layout in the docs of `diff/tests.rs`).
//!
//! Operations (a builder method per `operationId`, `snake_case`):
//! - `operation-removed`: breaking, the builder method is gone.
//! - `operation-added`: compatible.
//! - `operation-renamed` (same method and path, another `operationId`):
//!   breaking, the builder method is renamed.
//! - `operation-moved` (same `operationId`, other path or method):
//!   compatible for builder users, the method stays and sends elsewhere.
//! - An `operationId` that changes but keeps its Rust method name
//!   (`getWidget` -> `get_widget`) is the same operation. A duplicate
//!   `operationId` is keyed with its method and path, so neither operation
//!   is dropped from the comparison.
//!
//! Parameters (a setter per parameter on the builder):
//! - `parameter-added-required`: breaking; existing calls compile but
//!   `send()` fails with "was not initialized".
//! - `parameter-added-optional`: compatible.
//! - `parameter-removed`: breaking, the setter is gone.
//! - `parameter-now-required`: breaking (as an added required one).
//! - `parameter-now-optional`: compatible; progenitor's setter takes the
//!   same `TryInto<T>` for required and optional parameters.
//! - A changed parameter type is `type-changed` (below).
//! - Required means what progenitor makes of it: path parameters, and
//!   parameters with `required: true` except query parameters whose schema
//!   is nullable (progenitor makes those optional). So a required query
//!   parameter losing `nullable` is `parameter-now-required`.
//!
//! Request bodies: `request-body-removed` breaking (the `body` setters go),
//! `request-body-added-required` breaking, `request-body-added-optional`
//! compatible. progenitor's builder starts its body as "body was not
//! initialized" whatever `required` says, unless the body type has a
//! builder whose fields are all optional (an object schema without
//! `required`): only such a body added with `required: false` is
//! `request-body-added-optional`, any other is `request-body-added-required`.
//!
//! Object schemas (a struct per object; a field per property; a field is
//! `Option<T>` when it is nullable, or optional without a `default`):
//! - `field-removed`: breaking, the struct field is gone.
//! - `field-renamed` (one removed and one added with the same schema):
//!   breaking.
//! - `request-field-added-required`: breaking when the object is sent in a
//!   request (its builder's `build()` fails without it).
//! - `field-added`: compatible otherwise (responses keep undescribed fields
//!   in `unknown_fields` anyway).
//! - `field-became-option` / `field-lost-option`: breaking, the field's Rust
//!   type gains or loses `Option`.
//! - `request-field-now-required`: breaking, required in an object sent in a
//!   request while its Rust type stays (it was already nullable).
//! - `field-requiredness-changed`: compatible, required-ness changed without
//!   changing the Rust type or what a builder insists on.
//!
//! Types (anywhere: parameters, bodies, fields, items):
//! - `type-changed`: breaking; another JSON type or format, another
//!   referenced schema, or a string gaining or losing the constraints that
//!   make typify generate a validating newtype. An integer's `format`,
//!   `minimum`, `maximum`, exclusive bounds and `multipleOf` are part of its
//!   type: typify picks the Rust integer type from them (min 1 ->
//!   `NonZeroU64`, 0..=255 -> `u8`), so any change of them is `type-changed`.
//! - `constraint-narrowed` (a larger minimum, a smaller maximum, a new or
//!   changed pattern or `multipleOf`, on other than integers): breaking,
//!   values that passed now fail. And `constraint-widened`: compatible.
//! - `enum-value-added`: breaking. typify's enums are exhaustive (no
//!   `#[non_exhaustive]`); the `Unknown(String)` variant that `open_enums`
//!   adds keeps decoding from failing, but a new variant still breaks an
//!   exhaustive `match`, and the value stops arriving as `Unknown`.
//! - `enum-value-removed`: breaking, the variant is gone.
//! - `union-variant-added` / `union-variant-removed` (`oneOf`/`anyOf`):
//!   breaking, the generated enum gains or loses a variant. Variants are
//!   matched by kind (a referenced schema by name) counting repeats, so a
//!   third inline object beside two is a variant added.
//! - Also `type-changed`: `items` or an additional-values schema present on
//!   one side only (`{type: array}` -> `{type: array, items: ..}`,
//!   `additionalProperties: true` -> a schema: `serde_json::Value` becomes
//!   a typed value); nullability gained or lost anywhere but on a property
//!   or parameter (array items, map values, union variants, bodies, a
//!   component schema itself: the Rust type gains or loses `Option`); and an
//!   inline schema that makes a named type (object, enum, union, `allOf`,
//!   constrained string) changing its `title`, which typify names it after.
//! - Nullability of object properties is the `field-*` rules' (it decides
//!   `Option` with required-ness), of parameters the `parameter-*` rules';
//!   `description`, examples, `x-` extensions and the `title` of components
//!   are ignored.
//!
//! Component schemas: `schema-added` compatible, `schema-removed` breaking,
//! `schema-renamed` (removed and added with the same structure) breaking.
//!
//! Responses: progenitor generates one success type and one error type per
//! operation (`Error<()>` when no error response has a typed body). The body
//! types of the success (2xx) responses and of the typed error responses are
//! compared as two sets (a schema by component name or by shape, no body,
//! or a byte stream for other media types):
//! - `response-type-changed`: breaking, a response added, removed or given
//!   another kind of body changes either set (a 200 with a body beside a
//!   204, a first typed error body, the only typed error removed), so the
//!   operation's success or error type changes. A schema changed in place
//!   is reported where it changed (`type-changed` and the like).
//! - `response-added`: compatible, a new documented status whose body type
//!   is already in its set.
//! - `success-response-removed` (2xx) and `error-response-removed`:
//!   compatible when the body types stay (another status has the same one).
//!
//! Media types: `media-type-removed` breaking (the typed body goes), and
//! `media-type-added` compatible.
//!
//! # Version bump
//!
//! Cargo's rules for the client crate's version: before 1.0, a breaking
//! change bumps the minor version (0.y.z -> 0.(y+1).0) and compatible
//! changes the patch version (0.y.(z+1)); from 1.0 on, breaking bumps the
//! major version and compatible changes the minor one.

mod compare;
#[cfg(test)]
mod tests;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::document::{load_pinned, parse};
use crate::source::Api;

pub use compare::compare;

/// How a change affects users of the generated crate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Class {
    /// Code that worked may stop compiling or start failing.
    Breaking,
    /// Code that worked keeps working.
    Compatible,
}

/// Every rule with its class (the module docs say why), in the order of the docs.
pub const RULES: &[(&str, Class)] = &[
    ("operation-removed", Class::Breaking),
    ("operation-added", Class::Compatible),
    ("operation-renamed", Class::Breaking),
    ("operation-moved", Class::Compatible),
    ("parameter-added-required", Class::Breaking),
    ("parameter-added-optional", Class::Compatible),
    ("parameter-removed", Class::Breaking),
    ("parameter-now-required", Class::Breaking),
    ("parameter-now-optional", Class::Compatible),
    ("request-body-removed", Class::Breaking),
    ("request-body-added-required", Class::Breaking),
    ("request-body-added-optional", Class::Compatible),
    ("field-removed", Class::Breaking),
    ("field-renamed", Class::Breaking),
    ("request-field-added-required", Class::Breaking),
    ("field-added", Class::Compatible),
    ("field-became-option", Class::Breaking),
    ("field-lost-option", Class::Breaking),
    ("request-field-now-required", Class::Breaking),
    ("field-requiredness-changed", Class::Compatible),
    ("type-changed", Class::Breaking),
    ("constraint-narrowed", Class::Breaking),
    ("constraint-widened", Class::Compatible),
    ("enum-value-added", Class::Breaking),
    ("enum-value-removed", Class::Breaking),
    ("union-variant-added", Class::Breaking),
    ("union-variant-removed", Class::Breaking),
    ("schema-added", Class::Compatible),
    ("schema-removed", Class::Breaking),
    ("schema-renamed", Class::Breaking),
    ("response-type-changed", Class::Breaking),
    ("response-added", Class::Compatible),
    ("success-response-removed", Class::Compatible),
    ("error-response-removed", Class::Compatible),
    ("media-type-removed", Class::Breaking),
    ("media-type-added", Class::Compatible),
];

/// A Rust item of the generated crate that a change touches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// A type in `types::` (its Rust name).
    Type(String),
    /// A builder method on `Client` (its Rust name).
    Method(String),
}

impl Item {
    fn ident(&self) -> &str {
        match self {
            Self::Type(name) | Self::Method(name) => name,
        }
    }
}

/// One change between two documents.
#[derive(Debug, Clone)]
pub struct Change {
    /// Breaking or compatible.
    pub class: Class,
    /// The rule that classified it (a fixture directory name).
    pub rule: &'static str,
    /// JSON pointer in the normalised document (the new one, or the old one
    /// for what was removed).
    pub pointer: String,
    /// What changed, in a sentence.
    pub message: String,
    /// Generated items it touches, for finding the wrapper code that uses them.
    pub items: Vec<Item>,
    /// Wrapper source lines (`path:line`) that name one of `items`.
    pub uses: Vec<String>,
}

/// The changes of one API between two documents, with what they imply.
#[derive(Debug, Clone)]
pub struct Changelog {
    /// The client crate's name.
    pub crate_name: String,
    /// The client crate's current version (build metadata dropped).
    pub crate_version: String,
    /// `info.version` of the old document.
    pub old_api_version: String,
    /// `info.version` of the new document.
    pub new_api_version: String,
    /// Every change, in document order.
    pub changes: Vec<Change>,
}

/// The semver bump a set of changes implies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bump {
    /// Nothing changed.
    None,
    /// 0.y.(z+1), or x.y.(z+1).
    Patch,
    /// 0.(y+1).0, or x.(y+1).0.
    Minor,
    /// (x+1).0.0.
    Major,
}

impl Changelog {
    /// Compares two normalised documents.
    pub fn new(crate_name: &str, crate_version: &str, old: &Value, new: &Value) -> Self {
        let version = |doc: &Value| {
            doc.pointer("/info/version")
                .and_then(Value::as_str)
                .unwrap_or("?")
                .to_owned()
        };
        Self {
            crate_name: crate_name.to_owned(),
            crate_version: crate_version
                .split('+')
                .next()
                .unwrap_or(crate_version)
                .to_owned(),
            old_api_version: version(old),
            new_api_version: version(new),
            changes: compare(old, new),
        }
    }

    /// How many changes of `class`.
    pub fn count(&self, class: Class) -> usize {
        self.changes.iter().filter(|c| c.class == class).count()
    }

    /// The bump the changes imply, with the reason, and the next version.
    pub fn bump(&self) -> Result<(Bump, &'static str, String)> {
        let parts: Vec<u64> = self
            .crate_version
            .split('.')
            .map(str::parse)
            .collect::<Result<_, _>>()
            .with_context(|| format!("crate version `{}` is not x.y.z", self.crate_version))?;
        let [major, minor, patch] = parts[..] else {
            bail!("crate version `{}` is not x.y.z", self.crate_version);
        };
        let breaking = self.count(Class::Breaking) > 0;
        let compatible = self.count(Class::Compatible) > 0;
        Ok(match (major, breaking, compatible) {
            (_, false, false) => (Bump::None, "no API changes", self.crate_version.clone()),
            (0, true, _) => (
                Bump::Minor,
                "breaking change in 0.x",
                format!("0.{}.0", minor + 1),
            ),
            (0, false, true) => (
                Bump::Patch,
                "compatible changes only in 0.x",
                format!("0.{minor}.{}", patch + 1),
            ),
            (_, true, _) => (Bump::Major, "breaking change", format!("{}.0.0", major + 1)),
            (_, false, true) => (
                Bump::Minor,
                "compatible additions",
                format!("{major}.{}.0", minor + 1),
            ),
        })
    }

    /// Finds the lines of the wrapper crate in `dir` (its `.rs` files) that
    /// name an item each change touches.
    pub fn find_uses(&mut self, root: &Path, dir: &Path) -> Result<()> {
        let files: Vec<PathBuf> = crate::codegen::list_files(dir)?
            .into_iter()
            .filter(|path| path.extension().is_some_and(|e| e == "rs"))
            .collect();
        let mut texts = Vec::new();
        for file in files {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            let shown = file
                .strip_prefix(root)
                .unwrap_or(&file)
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            texts.push((shown, text));
        }
        for change in &mut self.changes {
            for (shown, text) in &texts {
                for (n, line) in text.lines().enumerate() {
                    if change
                        .items
                        .iter()
                        .any(|item| names_ident(line, item.ident()))
                    {
                        change.uses.push(format!("{shown}:{}", n + 1));
                    }
                }
            }
        }
        Ok(())
    }

    /// The changelog entry: a heading, the breaking then the compatible
    /// changes, and the implied bump.
    pub fn render(&self) -> Result<String> {
        const MAX_USES: usize = 6;
        let (bump, reason, next) = self.bump()?;
        let mut out = String::new();
        let vendor = format!(
            "(vendor {} -> {})",
            self.old_api_version, self.new_api_version
        );
        if bump == Bump::None {
            writeln!(
                out,
                "## {} {} {vendor}\n\nNo API changes.",
                self.crate_name, self.crate_version
            )?;
            return Ok(out);
        }
        writeln!(
            out,
            "## {} {} -> {next} {vendor}",
            self.crate_name, self.crate_version
        )?;
        for (class, title) in [
            (Class::Breaking, "Breaking"),
            (Class::Compatible, "Compatible"),
        ] {
            let count = self.count(class);
            if count == 0 {
                continue;
            }
            writeln!(out, "\n{title} ({count})")?;
            for change in self.changes.iter().filter(|c| c.class == class) {
                writeln!(
                    out,
                    "- {} [#{}] ({})",
                    change.message, change.pointer, change.rule
                )?;
                if !change.uses.is_empty() {
                    let mut shown = change.uses[..change.uses.len().min(MAX_USES)].join(", ");
                    if change.uses.len() > MAX_USES {
                        write!(shown, " and {} more", change.uses.len() - MAX_USES)?;
                    }
                    writeln!(out, "  wrapper uses: {shown}")?;
                }
            }
        }
        let bump = match bump {
            Bump::Major => "major",
            Bump::Minor => "minor",
            Bump::Patch | Bump::None => "patch",
        };
        writeln!(
            out,
            "\nImplied bump: {bump} ({reason}): {} -> {next}",
            self.crate_version
        )?;
        Ok(out)
    }
}

/// Whether `line` contains `ident` as a whole identifier.
fn names_ident(line: &str, ident: &str) -> bool {
    let is_ident = |c: char| c.is_alphanumeric() || c == '_';
    line.match_indices(ident).any(|(at, _)| {
        let before = line[..at].chars().next_back();
        let after = line[at + ident.len()..].chars().next();
        !before.is_some_and(is_ident) && !after.is_some_and(is_ident)
    })
}

/// Where the old document comes from.
#[derive(Debug, Clone)]
pub enum Against {
    /// `crates/<client>/codegen/normalized.json` at this git revision.
    Revision(String),
    /// A normalised document in this file.
    File(PathBuf),
}

impl Against {
    /// A path that names an existing file is a file; anything else a revision.
    pub fn parse(root: &Path, arg: &str) -> Self {
        let path = Path::new(arg);
        let candidates = [path.to_path_buf(), root.join(path)];
        match candidates.into_iter().find(|p| p.is_file()) {
            Some(file) => Self::File(file),
            None => Self::Revision(arg.to_owned()),
        }
    }
}

/// Path of the checked-in normalised document of `api`, relative to the root.
pub fn normalized_path(api: &Api) -> String {
    format!("crates/{}/codegen/normalized.json", api.client_crate())
}

/// The old side: a normalised document from git or a file.
pub fn load_old(root: &Path, api: &Api, against: &Against) -> Result<Value> {
    match against {
        Against::File(path) => {
            let bytes =
                std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
            parse(&bytes, path)
        }
        Against::Revision(rev) => {
            let spec = format!("{rev}:{}", normalized_path(api));
            let output = Command::new("git")
                .args(["show", &spec])
                .current_dir(root)
                .output()
                .context("running git show (is git installed?)")?;
            if !output.status.success() {
                bail!(
                    "git show {spec} failed: {} (the revision must exist and hold the generated \
                     crate; or pass --against <file> with a normalised document)",
                    String::from_utf8_lossy(&output.stderr).trim()
                );
            }
            parse(&output.stdout, Path::new(&spec))
        }
    }
}

/// The new side: the pinned document (sha256 checked), or `document` (a
/// vendor document as published), through the overlay and normalisation.
pub fn load_new(api: &Api, document: Option<&Path>) -> Result<Value> {
    let raw = match document {
        Some(path) => {
            let bytes =
                std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
            parse(&bytes, path)?
        }
        None => load_pinned(&api.document_path(), &api.source.upstream.sha256)?.0,
    };
    Ok(crate::codegen::normalised(api, raw)?.0)
}

/// The client crate's version from its manifest.
pub fn crate_version(root: &Path, api: &Api) -> Result<String> {
    let path = root
        .join("crates")
        .join(api.client_crate())
        .join("Cargo.toml");
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let manifest: toml::Table =
        toml::from_str(&text).with_context(|| format!("{} is not valid TOML", path.display()))?;
    manifest
        .get("package")
        .and_then(|p| p.get("version"))
        .and_then(|v| v.as_str())
        .map(str::to_owned)
        .with_context(|| format!("{} has no package.version", path.display()))
}

/// The changelog of `api` from `old` to `new`, with the wrapper lines affected.
pub fn changelog(root: &Path, api: &Api, old: &Value, new: &Value) -> Result<Changelog> {
    let mut log = Changelog::new(&api.client_crate(), &crate_version(root, api)?, old, new);
    log.find_uses(root, &root.join("crates").join(&api.name))?;
    Ok(log)
}

/// `cargo xtask diff`: the rendered changelog of the working tree's document
/// against `against`.
pub fn run(root: &Path, name: &str, against: &Against, document: Option<&Path>) -> Result<String> {
    let api = Api::load(root, name)?;
    let old = load_old(root, &api, against)?;
    let new = load_new(&api, document)?;
    changelog(root, &api, &old, &new)?.render()
}

/// `cargo xtask diff` with its arguments.
pub fn command(root: &Path, args: &[String], usage: &str) -> Result<String> {
    let mut name = None;
    let mut against = Against::Revision("HEAD".to_owned());
    let mut document = None;
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        match arg.as_str() {
            "--against" => match iter.next() {
                Some(value) => against = Against::parse(root, value),
                None => bail!("--against needs a git revision or a file\n{usage}"),
            },
            "--document" => match iter.next() {
                Some(path) => document = Some(PathBuf::from(path)),
                None => bail!("--document needs a file\n{usage}"),
            },
            other if other.starts_with("--") => bail!("unknown option {other}\n{usage}"),
            other if name.is_none() => name = Some(other.to_owned()),
            other => bail!("diff takes one API, got `{other}` too\n{usage}"),
        }
    }
    let Some(name) = name else {
        bail!("diff needs an API name\n{usage}")
    };
    run(root, &name, &against, document.as_deref())
}
