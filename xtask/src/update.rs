//! `cargo xtask update <api> [--document <file> | --url <url>] [--no-test]`:
//! take a new vendor document, regenerate, test, and say what changed.
//!
//! The steps, each a function of its own so they can be tested without the
//! network or a recursive cargo: read the normalised document the crates are
//! generated from now (`codegen/normalized.json` in the working tree), get the
//! new vendor document (downloaded from SOURCE.toml's `url`, or `--url`, or
//! read from `--document`), pin it ([`crate::fetch::pin`]), regenerate
//! ([`crate::codegen::run`] and `write`), compare the two normalised
//! documents ([`crate::diff`]), prepend the entry to
//! `crates/<client>/CHANGELOG.md` (newest first; not when nothing changed),
//! and run `cargo test -p <client> -p <api>` through a [`TestRunner`].

#[cfg(test)]
mod tests;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::diff::{Changelog, Class, normalized_path};
use crate::fetch::{Fetched, download, pin};
use crate::source::Api;

/// Where the new vendor document comes from.
#[derive(Debug, Clone)]
pub enum Origin {
    /// Download SOURCE.toml's `url`.
    Upstream,
    /// Download this URL.
    Url(String),
    /// Read this local file.
    File(PathBuf),
}

/// Runs the tests of the named packages; `Ok(false)` when they fail.
pub trait TestRunner {
    /// Runs `cargo test -p <package>...` (or pretends to, in tests).
    fn run(&mut self, root: &Path, packages: &[String]) -> Result<bool>;
}

/// The real runner: `cargo test -p ... ` in the workspace, output shown.
pub struct Cargo;

impl TestRunner for Cargo {
    fn run(&mut self, root: &Path, packages: &[String]) -> Result<bool> {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut command = std::process::Command::new(cargo);
        command.arg("test").current_dir(root);
        for package in packages {
            command.args(["-p", package]);
        }
        let status = command
            .status()
            .context("running cargo test (is cargo on the PATH?)")?;
        Ok(status.success())
    }
}

/// What happened to the tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tests {
    /// `--no-test`.
    Skipped,
    /// They passed.
    Passed(Vec<String>),
    /// They failed.
    Failed(Vec<String>),
}

/// The outcome of one update.
#[derive(Debug)]
pub struct Updated {
    /// The API's name.
    pub api: String,
    /// What pinning changed.
    pub fetched: Fetched,
    /// Generated files written.
    pub written: Vec<String>,
    /// The changes.
    pub changelog: Changelog,
    /// The rendered changelog entry.
    pub entry: String,
    /// The changelog file written, relative to the root (none when nothing changed).
    pub changelog_file: Option<String>,
    /// The tests.
    pub tests: Tests,
}

/// The whole update of `name` below `root`.
pub fn update(
    root: &Path,
    name: &str,
    origin: &Origin,
    runner: Option<&mut dyn TestRunner>,
) -> Result<Updated> {
    let api = Api::load(root, name)?;
    let old = current_normalised(root, &api)?;
    // Before anything is written: a version the changelog cannot bump stops here.
    crate::diff::Changelog::new(
        &api.client_crate(),
        &crate::diff::crate_version(root, &api)?,
        &old,
        &old,
    )
    .bump()?;
    let bytes = new_document(&api, origin)?;
    let shown = match origin {
        Origin::File(path) => path.display().to_string(),
        Origin::Url(url) => url.clone(),
        Origin::Upstream => api.source.upstream.url.clone(),
    };
    let fetched = pin(&api, &bytes, &shown)?;
    // SOURCE.toml has the new pin now.
    let api = Api::load(root, name)?;
    let output = crate::codegen::run(&api).with_context(|| {
        format!(
            "specs/{name}/ has the new document, but it does not generate; fix the overlay, then run \
             `cargo xtask codegen {name}` (or `git checkout specs/{name}` to go back)"
        )
    })?;
    let written = crate::codegen::write(root, &output)?;
    let normalized = normalized_path(&api);
    let new_text = output
        .files
        .iter()
        .find(|f| f.path == normalized)
        .map(|f| f.content.as_str())
        .with_context(|| format!("codegen produced no {normalized}"))?;
    let new: Value =
        serde_json::from_str(new_text).context("parsing the new normalised document")?;
    let pinned = || {
        format!(
            "specs/{name}/ is pinned to the new document and the crates are regenerated, but the changelog was \
             not written; `cargo xtask diff {name}` shows it"
        )
    };
    let changelog = crate::diff::changelog(root, &api, &old, &new).with_context(pinned)?;
    let entry = changelog.render().with_context(pinned)?;
    // The tests first: a changelog entry is written only for code that passes.
    let tests = match runner {
        None => Tests::Skipped,
        Some(runner) => {
            let packages = test_packages(root, &api);
            if runner.run(root, &packages).with_context(pinned)? {
                Tests::Passed(packages)
            } else {
                Tests::Failed(packages)
            }
        }
    };
    let wanted = fetched.changed || !changelog.changes.is_empty();
    let changelog_file = if wanted && !matches!(tests, Tests::Failed(_)) {
        Some(prepend_entry(root, &api, &entry).with_context(pinned)?)
    } else {
        None
    };
    Ok(Updated {
        api: name.to_owned(),
        fetched,
        written,
        changelog,
        entry,
        changelog_file,
        tests,
    })
}

/// The normalised document of the last commit (so an update run again after
/// one that stopped half-way still has the old side), or of the working tree
/// outside git.
fn current_normalised(root: &Path, api: &Api) -> Result<Value> {
    if let Ok(committed) =
        crate::diff::load_old(root, api, &crate::diff::Against::Revision("HEAD".into()))
    {
        return Ok(committed);
    }
    let path = root.join(normalized_path(api));
    let text = std::fs::read_to_string(&path).with_context(|| {
        format!(
            "reading {} (the crates of `{}` have not been generated: run `cargo xtask codegen {}` first)",
            path.display(),
            api.name,
            api.name
        )
    })?;
    serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))
}

/// The bytes of the new vendor document.
fn new_document(api: &Api, origin: &Origin) -> Result<Vec<u8>> {
    match origin {
        Origin::File(path) => {
            std::fs::read(path).with_context(|| format!("reading {}", path.display()))
        }
        Origin::Url(url) => download(url).with_context(|| {
            format!("could not download the document of `{}`; pass --document <file> to use a local copy", api.name)
        }),
        Origin::Upstream => download(&api.source.upstream.url).with_context(|| {
            format!(
                "could not download the document of `{}` from specs/{}/SOURCE.toml's url; pass \
                 --document <file> to use a local copy",
                api.name, api.name
            )
        }),
    }
}

/// The client crate, and the wrapper crate named after the API when there is one.
fn test_packages(root: &Path, api: &Api) -> Vec<String> {
    let mut packages = vec![api.client_crate()];
    if root
        .join("crates")
        .join(&api.name)
        .join("Cargo.toml")
        .is_file()
    {
        packages.push(api.name.clone());
    }
    packages
}

/// Puts `entry` at the top of `crates/<client>/CHANGELOG.md` (below its title).
fn prepend_entry(root: &Path, api: &Api, entry: &str) -> Result<String> {
    let relative = format!("crates/{}/CHANGELOG.md", api.client_crate());
    let path = root.join(&relative);
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    // An update run again before its result was committed diffs against the
    // same commit: the newest entry is already this one.
    if let Some(at) = current.find("\n## ")
        && current[at + 1..].starts_with(entry)
    {
        return Ok(relative);
    }
    let text = match current.find("\n## ") {
        Some(at) => format!("{}\n{entry}{}", &current[..=at], &current[at + 1..]),
        None if current.trim().is_empty() => format!(
            "# Changelog of {}\n\nAPI changes of each vendor document, newest first, as `cargo xtask update {}` \
             wrote them.\n\n{entry}",
            api.client_crate(),
            api.name
        ),
        None => format!("{}\n\n{entry}", current.trim_end()),
    };
    std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    Ok(relative)
}

impl Updated {
    /// One screen: versions, files, the verdict, the tests, and the first changes.
    pub fn summary(&self) -> Result<String> {
        const MAX_LINES: usize = 15;
        let log = &self.changelog;
        let (_, reason, next) = log.bump()?;
        let mut out = String::new();
        writeln!(
            out,
            "{}: vendor {} -> {} (document {}, sha256 {})",
            self.api,
            log.old_api_version,
            log.new_api_version,
            if self.fetched.changed {
                "changed"
            } else {
                "unchanged"
            },
            self.fetched.sha256
        )?;
        writeln!(out, "  regenerated: {} file(s) written", self.written.len())?;
        writeln!(
            out,
            "  API: {} breaking, {} compatible; {}: {} {} -> {next}",
            log.count(Class::Breaking),
            log.count(Class::Compatible),
            reason,
            log.crate_name,
            log.crate_version
        )?;
        let tests = match &self.tests {
            Tests::Skipped => "skipped (--no-test)".to_owned(),
            Tests::Passed(p) => format!("passed (cargo test -p {})", p.join(" -p ")),
            Tests::Failed(p) => format!("FAILED (cargo test -p {})", p.join(" -p ")),
        };
        writeln!(out, "  tests: {tests}")?;
        match (&self.changelog_file, &self.tests) {
            (Some(file), _) => writeln!(out, "  changelog: {file}")?,
            (None, Tests::Failed(_)) => writeln!(
                out,
                "  changelog: NOT written, the tests failed (fix them and run `cargo xtask update {}` again)",
                self.api
            )?,
            (None, _) => writeln!(out, "  changelog: not written (nothing changed)")?,
        }
        let lines: Vec<&str> = self
            .entry
            .lines()
            .filter(|l| {
                l.starts_with("- ") || l.starts_with("Breaking") || l.starts_with("Compatible")
            })
            .collect();
        if !lines.is_empty() {
            writeln!(out)?;
        }
        for line in lines.iter().take(MAX_LINES) {
            writeln!(out, "{line}")?;
        }
        if lines.len() > MAX_LINES {
            writeln!(out, "... {} more in the changelog", lines.len() - MAX_LINES)?;
        }
        Ok(out)
    }
}

/// `cargo xtask update` with its arguments; the exit status says whether the tests passed.
pub fn command(root: &Path, args: &[String], usage: &str) -> Result<(String, bool)> {
    let mut name = None;
    let mut origin = Origin::Upstream;
    let mut test = true;
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        match arg.as_str() {
            "--document" => match iter.next() {
                Some(path) => origin = Origin::File(PathBuf::from(path)),
                None => bail!("--document needs a file\n{usage}"),
            },
            "--url" => match iter.next() {
                Some(url) => origin = Origin::Url(url.clone()),
                None => bail!("--url needs a URL\n{usage}"),
            },
            "--no-test" => test = false,
            other if other.starts_with("--") => bail!("unknown option {other}\n{usage}"),
            other if name.is_none() => name = Some(other.to_owned()),
            other => bail!("update takes one API, got `{other}` too\n{usage}"),
        }
    }
    let Some(name) = name else {
        bail!("update needs an API name\n{usage}")
    };
    let mut cargo = Cargo;
    let runner: Option<&mut dyn TestRunner> = if test { Some(&mut cargo) } else { None };
    let updated = update(root, &name, &origin, runner)?;
    let ok = !matches!(updated.tests, Tests::Failed(_));
    Ok((updated.summary()?, ok))
}
