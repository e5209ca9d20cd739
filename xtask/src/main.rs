//! Repository automation. `cargo xtask codegen [--check] [<api>...]` and
#![allow(
    unreachable_pub,
    reason = "a binary: `pub` marks each module's interface to the others"
)]
//! `cargo xtask fetch <api> [--url URL]`; see ARCHITECTURE.md for the flow.

mod codegen;
mod corpus;
mod diff;
mod document;
mod examples;
mod fetch;
mod generate;
mod names;
mod normalize;
mod overlay;
mod report;
mod rewrite;
mod source;
mod swagger2;
mod tidy;
mod unions;
mod update;

#[cfg(test)]
mod mutation_tests;
#[cfg(test)]
mod tests;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Result, bail};

use crate::codegen::Drift;
use crate::source::Api;

const USAGE: &str = "usage:
  cargo xtask codegen [--check] [<api>...]   regenerate crates from specs/<api>/ (all APIs by default)
  cargo xtask fetch <api> [--url URL]        download the vendor document and re-pin it in SOURCE.toml
  cargo xtask corpus [--compile] [<name>...] run xtask/corpus/ documents through the pipeline (and cargo check them)
  cargo xtask diff <api> [--against <git-rev>|<file>] [--document <file>]
      API changelog of the pinned document (or --document, a vendor document as published; both
      through overlay + normalisation) against a normalised document: normalized.json at a git
      revision (default HEAD) or in a file; breaking changes first, then the implied semver bump
  cargo xtask update <api> [--document <file>|--url <url>] [--no-test]
      pin the new vendor document (downloaded from SOURCE.toml's url unless given), regenerate,
      cargo test -p <api>-client -p <api>, prepend the changelog to crates/<api>-client/CHANGELOG.md";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = std::env::current_dir()
        .map_err(anyhow::Error::from)
        .and_then(|cwd| find_workspace(std::env::var_os("CARGO_MANIFEST_DIR"), &cwd));
    match root.and_then(|root| run(&root, &args)) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace this run works on, found when it runs (not when xtask was
/// compiled: checkouts that share a target directory share one binary).
/// `cargo run` and `cargo test` name xtask's directory in
/// `CARGO_MANIFEST_DIR`; otherwise the nearest directory at or above `cwd`
/// that holds `specs/` and `xtask/Cargo.toml`.
fn find_workspace(manifest_dir: Option<std::ffi::OsString>, cwd: &Path) -> Result<PathBuf> {
    let is_root = |dir: &Path| dir.join("specs").is_dir() && dir.join("xtask/Cargo.toml").is_file();
    if let Some(dir) = manifest_dir
        && let Some(parent) = Path::new(&dir).parent()
        && is_root(parent)
    {
        return Ok(parent.to_path_buf());
    }
    match cwd.ancestors().find(|dir| is_root(dir)) {
        Some(root) => Ok(root.to_path_buf()),
        None => bail!(
            "no workspace here: {} and the directories above it have no specs/ and xtask/; \
             run cargo xtask from inside the repository",
            cwd.display()
        ),
    }
}

/// The workspace the tests run in.
#[cfg(test)]
fn workspace_root() -> PathBuf {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    find_workspace(std::env::var_os("CARGO_MANIFEST_DIR"), &cwd).unwrap_or(cwd)
}

#[allow(clippy::print_stdout, reason = "a command-line tool reports on stdout")]
fn run(root: &Path, args: &[String]) -> Result<ExitCode> {
    match args.split_first() {
        Some((command, rest)) if command == "codegen" => {
            let check = rest.iter().any(|a| a == "--check");
            let names: Vec<&String> = rest.iter().filter(|a| !a.starts_with("--")).collect();
            if let Some(unknown) = rest.iter().find(|a| a.starts_with("--") && *a != "--check") {
                bail!("unknown option {unknown}\n{USAGE}");
            }
            let apis = if names.is_empty() {
                Api::discover(root)?
            } else {
                names
                    .iter()
                    .map(|n| Api::load(root, n))
                    .collect::<Result<_>>()?
            };
            let drift = codegen_all(root, &apis, check, names.is_empty())?;
            if drift.is_empty() {
                return Ok(ExitCode::SUCCESS);
            }
            for d in &drift {
                println!("{d}");
            }
            let list: Vec<&str> = apis.iter().map(|a| a.name.as_str()).collect();
            println!(
                "\n{} generated file(s) out of date. Fix: cargo xtask codegen {}",
                drift.len(),
                if names.is_empty() {
                    String::new()
                } else {
                    list.join(" ")
                }
            );
            Ok(ExitCode::FAILURE)
        }
        Some((command, rest)) if command == "corpus" => {
            let compile = rest.iter().any(|a| a == "--compile");
            if let Some(unknown) = rest
                .iter()
                .find(|a| a.starts_with("--") && *a != "--compile")
            {
                bail!("unknown option {unknown}\n{USAGE}");
            }
            let names: Vec<String> = rest
                .iter()
                .filter(|a| !a.starts_with("--"))
                .cloned()
                .collect();
            let apis = corpus::documents(root, &names)?;
            let scratch = corpus::default_scratch(root);
            let outcomes = corpus::run(root, &apis, compile.then_some(&scratch))?;
            println!("{}", corpus::table(&outcomes));
            Ok(ExitCode::SUCCESS)
        }
        Some((command, rest)) if command == "diff" => {
            println!("{}", diff::command(root, rest, USAGE)?.trim_end());
            Ok(ExitCode::SUCCESS)
        }
        Some((command, rest)) if command == "update" => {
            let (summary, tests_passed) = update::command(root, rest, USAGE)?;
            println!("{}", summary.trim_end());
            Ok(if tests_passed {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Some((command, rest)) if command == "fetch" => {
            let mut name = None;
            let mut url = None;
            let mut iter = rest.iter();
            while let Some(arg) = iter.next() {
                match arg.as_str() {
                    "--url" => url = iter.next().cloned(),
                    other if other.starts_with("--") => bail!("unknown option {other}\n{USAGE}"),
                    other => name = Some(other.to_owned()),
                }
            }
            let Some(name) = name else {
                bail!("fetch needs an API name\n{USAGE}")
            };
            let fetched = fetch::fetch(root, &name, url.as_deref())?;
            println!(
                "specs/{name}: api_version {}, sha256 {} ({}). Next: cargo xtask codegen {name}",
                fetched.api_version,
                fetched.sha256,
                if fetched.changed {
                    "changed"
                } else {
                    "unchanged"
                }
            );
            Ok(ExitCode::SUCCESS)
        }
        _ => {
            println!("{USAGE}");
            Ok(ExitCode::FAILURE)
        }
    }
}

/// Generates (or, with `check`, compares) every API in `apis`. With `all`,
/// generated crates that no spec folder owns any more count as drift.
#[allow(clippy::print_stdout, reason = "a command-line tool reports on stdout")]
pub fn codegen_all(root: &Path, apis: &[Api], check: bool, all: bool) -> Result<Vec<Drift>> {
    let mut drift = Vec::new();
    let mut owned = BTreeSet::new();
    // The APIs are generated side by side (rustfmt, a process of its own,
    // takes a third of each run), then written or checked in order.
    let outputs: Vec<Result<codegen::Output>> = std::thread::scope(|scope| {
        let running: Vec<_> = apis
            .iter()
            .map(|api| {
                std::thread::Builder::new()
                    .name(format!("codegen {}", api.name))
                    // syn and prettyplease recurse deeply over large files.
                    .stack_size(64 * 1024 * 1024)
                    .spawn_scoped(scope, move || codegen::run(api))
            })
            .collect();
        running
            .into_iter()
            .map(|thread| match thread {
                Ok(thread) => thread
                    .join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("the generator panicked"))),
                Err(error) => Err(error.into()),
            })
            .collect()
    });
    for (api, output) in apis.iter().zip(outputs) {
        let output = output?;
        owned.extend(output.crate_dirs.iter().cloned());
        if check {
            drift.extend(codegen::check(root, &output)?);
        } else {
            let written = codegen::write(root, &output)?;
            println!(
                "{}: {} change(s) to the vendor document, {} file(s) written",
                api.name,
                output.report.entries.len(),
                written.len()
            );
            if !output.report.entries.is_empty() {
                println!("{}", output.report.summary());
            }
            for path in written {
                println!("  wrote {path}");
            }
        }
    }
    if all {
        for dir in codegen::stray_crates(root, &owned)? {
            drift.push(Drift::Stray {
                path: format!("{dir}/ (no specs/ folder generates it)"),
            });
        }
    }
    Ok(drift)
}
