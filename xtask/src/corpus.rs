//! `cargo xtask corpus`: real vendor documents from other APIs, each run
//! through the whole pipeline into a scratch workspace as if it had been
//! dropped into `specs/`, compiled, and checked against its own examples.
//!
//! The documents live in `xtask/corpus/<name>/` in the layout of a spec
//! folder (`SOURCE.toml`, the document byte for byte, the vendor's licence;
//! an overlay only where one is needed, with its reason). The table it
//! prints is the evidence for the promise that adding an API is data only.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result};

use crate::source::Api;

/// The corpus folder below the workspace root.
pub const CORPUS_DIR: &str = "xtask/corpus";

/// What happened to one document.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The corpus folder name.
    pub name: String,
    /// Operations in the vendor document.
    pub operations: usize,
    /// `Ok` with the report's change count, or the error (one line).
    pub generated: std::result::Result<usize, String>,
    /// Whether the generated crates compile (`None`: not tried).
    pub compiles: Option<std::result::Result<(), String>>,
    /// `found/decoded/round-tripped` of the example oracle (`None`: not run).
    pub examples: Option<String>,
    /// Seconds spent on this document.
    pub seconds: f64,
}

/// The corpus documents below `root`, by name (all when `names` is empty).
pub fn documents(root: &Path, names: &[String]) -> Result<Vec<Api>> {
    let dir = root.join(CORPUS_DIR);
    let mut found = Vec::new();
    for entry in std::fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.path().join("SOURCE.toml").is_file() && (names.is_empty() || names.contains(&name))
        {
            found.push(Api::load_from(&entry.path(), &name)?);
        }
    }
    found.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(found)
}

/// Operations (path and method pairs) in the vendor's document as published.
fn operations(api: &Api) -> usize {
    let Ok(bytes) = std::fs::read(api.document_path()) else {
        return 0;
    };
    let Ok(doc) = crate::document::parse(&bytes, &api.document_path()) else {
        return 0;
    };
    let methods = [
        "get", "put", "post", "delete", "options", "head", "patch", "trace",
    ];
    doc.get("paths")
        .and_then(|p| p.as_object())
        .map(|paths| {
            paths
                .values()
                .filter_map(|item| item.as_object())
                .map(|item| {
                    item.keys()
                        .filter(|k| methods.contains(&k.as_str()))
                        .count()
                })
                .sum()
        })
        .unwrap_or(0)
}

/// The first line of an error chain, for the table.
fn one_line(error: &anyhow::Error) -> String {
    let text = format!("{error:#}");
    if std::env::var_os("CORPUS_VERBOSE").is_some() {
        eprintln!("{text}");
    }
    let line = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .take(3)
        .collect::<Vec<_>>()
        .join(" ");
    line.chars().take(300).collect()
}

/// A scratch workspace for corpus crates, and the target directory it builds in.
#[derive(Debug, Clone)]
pub struct Scratch {
    /// The workspace root.
    pub dir: PathBuf,
    /// Its `CARGO_TARGET_DIR` (one shared with other scratch workspaces saves
    /// building the dependencies twice).
    pub target: PathBuf,
}

/// Runs every document through the pipeline; with `compile`, also into a
/// scratch workspace to `cargo check` and test.
pub fn run(root: &Path, apis: &[Api], compile: Option<&Scratch>) -> Result<Vec<Outcome>> {
    if let Some(scratch) = compile {
        scratch_workspace(root, &scratch.dir)?;
    }
    let mut outcomes = Vec::new();
    for api in apis {
        let started = Instant::now();
        let operations = operations(api);
        let result = std::panic::catch_unwind(|| crate::codegen::run(api));
        let output = match result {
            Ok(Ok(output)) => Ok(output),
            Ok(Err(error)) => Err(one_line(&error)),
            Err(panic) => Err(format!(
                "PANIC: {}",
                panic
                    .downcast_ref::<String>()
                    .map(String::as_str)
                    .or_else(|| panic.downcast_ref::<&str>().copied())
                    .unwrap_or("(no message)")
            )),
        };
        let mut outcome = Outcome {
            name: api.name.clone(),
            operations,
            generated: output
                .as_ref()
                .map(|o| o.report.entries.len())
                .map_err(Clone::clone),
            compiles: None,
            examples: None,
            seconds: 0.0,
        };
        if let (Some(scratch), Ok(output)) = (compile, &output) {
            crate::codegen::write(&scratch.dir, output)?;
            outcome.compiles = Some(
                cargo(
                    scratch,
                    &[
                        "check",
                        "-p",
                        &api.client_crate(),
                        "-p",
                        &api.httpmock_crate(),
                    ],
                )
                .map(|_| ()),
            );
            if matches!(outcome.compiles, Some(Ok(()))) {
                outcome.examples = Some(example_oracle(scratch, &api.client_crate()));
            }
        }
        outcome.seconds = started.elapsed().as_secs_f64();
        outcomes.push(outcome);
    }
    Ok(outcomes)
}

/// The example oracle's counts for one generated crate: `found, decoded,
/// round-tripped, skipped`, and how many failed (examples that contradict
/// the vendor's own schema fail; the full list with CORPUS_VERBOSE=1).
fn example_oracle(scratch: &Scratch, client_crate: &str) -> String {
    let output = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args([
            "test",
            "--quiet",
            "-p",
            client_crate,
            "--test",
            "examples",
            "--",
            "--nocapture",
        ])
        .current_dir(&scratch.dir)
        .env("CARGO_TARGET_DIR", &scratch.target)
        .output();
    let Ok(output) = output else {
        return "cargo did not run".to_owned();
    };
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    if std::env::var_os("CORPUS_VERBOSE").is_some() {
        eprintln!("{text}");
    }
    let counts = text
        .lines()
        .find_map(|l| {
            l.split_once("example oracle for ")
                .map(|(_, rest)| rest.to_owned())
        })
        .map(|rest| {
            rest.split_once(": ")
                .map_or(rest.clone(), |(_, counts)| counts.to_owned())
        });
    let failed = text
        .lines()
        .find_map(|l| l.trim().strip_suffix("example(s) failed:"))
        .map(str::trim)
        .map(str::to_owned);
    match (counts, failed, output.status.success()) {
        (Some(counts), None, true) => counts,
        (Some(counts), Some(failed), _) => format!("{counts}; {failed} contradict their schema"),
        (Some(counts), None, false) => format!("{counts}; the test failed"),
        (None, _, _) => "the example test did not run".to_owned(),
    }
}

/// Runs cargo in the scratch workspace; `Err` with the first error line.
fn cargo(scratch: &Scratch, args: &[&str]) -> std::result::Result<String, String> {
    let output = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(args)
        .arg("--quiet")
        .current_dir(&scratch.dir)
        .env("CARGO_TARGET_DIR", &scratch.target)
        .output()
        .map_err(|e| format!("cargo did not run: {e}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    if output.status.success() {
        return Ok(stdout);
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let first = stderr
        .lines()
        .chain(stdout.lines())
        .find(|l| l.starts_with("error") || l.contains("panicked"))
        .unwrap_or("failed")
        .chars()
        .take(300)
        .collect();
    Err(first)
}

/// A workspace like ours with only client-core, for corpus crates to join.
pub fn scratch_workspace(root: &Path, scratch: &Path) -> Result<()> {
    let manifest = std::fs::read_to_string(root.join("Cargo.toml"))?;
    let mut table: toml::Table = manifest.parse()?;
    let workspace = table
        .get_mut("workspace")
        .and_then(|w| w.as_table_mut())
        .context("no [workspace] in Cargo.toml")?;
    workspace.insert(
        "members".into(),
        toml::Value::Array(vec!["crates/*".into()]),
    );
    let deps = workspace
        .get_mut("dependencies")
        .and_then(|d| d.as_table_mut())
        .context("no [workspace.dependencies]")?;
    let mut core = toml::Table::new();
    core.insert(
        "path".into(),
        root.join("crates/client-core").display().to_string().into(),
    );
    deps.insert("client-core".into(), toml::Value::Table(core));
    std::fs::create_dir_all(scratch.join("crates"))?;
    std::fs::write(scratch.join("Cargo.toml"), toml::to_string(&table)?)?;
    std::fs::copy(root.join("Cargo.lock"), scratch.join("Cargo.lock"))?;
    Ok(())
}

/// The table, and the share of documents that generated and compiled.
pub fn table(outcomes: &[Outcome]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "| document | operations | generated | compiles | examples (found/decoded/round-tripped) | seconds |"
    );
    let _ = writeln!(out, "|---|---:|---|---|---|---:|");
    for o in outcomes {
        let generated = match &o.generated {
            Ok(changes) => format!("yes ({changes} changes reported)"),
            Err(error) => format!("no: {error}"),
        };
        let compiles = match &o.compiles {
            None => "not tried".to_owned(),
            Some(Ok(())) => "yes".to_owned(),
            Some(Err(error)) => format!("no: {error}"),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {:.1} |",
            o.name,
            o.operations,
            generated.replace('|', "\\|"),
            compiles.replace('|', "\\|"),
            o.examples.as_deref().unwrap_or("-"),
            o.seconds
        );
    }
    let green = outcomes
        .iter()
        .filter(|o| o.generated.is_ok() && !matches!(o.compiles, Some(Err(_))))
        .count();
    let _ = writeln!(
        out,
        "\n{green} of {} generated{} ({:.0} %)",
        outcomes.len(),
        if outcomes.iter().any(|o| o.compiles.is_some()) {
            " and compiled"
        } else {
            ""
        },
        100.0 * green as f64 / outcomes.len().max(1) as f64
    );
    out
}

/// Where a scratch workspace goes unless told otherwise.
pub fn default_scratch(root: &Path) -> Scratch {
    Scratch {
        dir: root.join("target/corpus"),
        target: root.join("target/corpus/target"),
    }
}
