//! Never a panic: small documents, mutated at random (keys removed, values
//! given another JSON type, references renamed), go through normalisation
//! and progenitor. The pipeline must answer with output or with an error
//! that names a JSON pointer and the way out; a panic (ours, or progenitor's
//! caught by `generate::contain`) is a missing normalisation rule.
//!
//! The seeds are every normalisation fixture and the three smallest corpus
//! documents, so each mutation starts from a construct the pipeline handles.
//!
//! `MUTATION_DUMP=file` writes the smallest failing case; a stack overflow
//! aborts the process instead of failing the case, and
//! `MUTATION_BEFORE=file` writes every case before it runs, so the file
//! holds the one that aborted.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use proptest::prelude::*;
use serde_json::{Map, Value, json};

use crate::report::Report;
use crate::source::{Api, Settings, Source, Upstream};

/// The documents mutations start from: (name, parsed document).
fn seeds() -> &'static [(String, Value)] {
    static SEEDS: OnceLock<Vec<(String, Value)>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let root = crate::workspace_root();
        let mut files: Vec<PathBuf> = Vec::new();
        let fixtures = root.join("xtask/tests/fixtures/normalise");
        let mut dirs: Vec<PathBuf> = std::fs::read_dir(&fixtures)
            .map(|entries| entries.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        dirs.sort();
        files.extend(dirs.iter().map(|d| d.join("input.yaml")));
        for corpus in [
            "nswag-sample/openapi.json",
            "drf-spectacular-polymorphic/test_rest_polymorphic.yml",
            "redocly-museum/openapi.yaml",
        ] {
            files.push(root.join("xtask/corpus").join(corpus));
        }
        files
            .iter()
            .filter_map(|path| {
                let bytes = std::fs::read(path).ok()?;
                let doc = crate::document::parse(&bytes, path).ok()?;
                Some((path.display().to_string(), doc))
            })
            .collect()
    })
}

/// One change to a document.
#[derive(Debug, Clone)]
enum Mutation {
    /// Remove the node (from its object or array).
    Remove(usize),
    /// Replace the node with a value of another kind.
    Retype(usize, u8),
    /// Point a `$ref` somewhere else: another component, a missing one, a
    /// sibling file, or a place that is not a schema.
    Rename(usize, u8),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        any::<usize>().prop_map(Mutation::Remove),
        (any::<usize>(), 0..6u8).prop_map(|(at, kind)| Mutation::Retype(at, kind)),
        (any::<usize>(), 0..4u8).prop_map(|(at, kind)| Mutation::Rename(at, kind)),
    ]
}

/// Every pointer below the root, parents before children.
fn pointers(value: &Value, at: &str, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                let here = format!("{at}/{}", crate::document::escape_pointer(key));
                out.push(here.clone());
                pointers(child, &here, out);
            }
        }
        Value::Array(items) => {
            for (index, child) in items.iter().enumerate() {
                let here = format!("{at}/{index}");
                out.push(here.clone());
                pointers(child, &here, out);
            }
        }
        _ => {}
    }
}

fn split_parent(pointer: &str) -> (&str, String) {
    let (parent, last) = pointer.rsplit_once('/').unwrap_or(("", pointer));
    (parent, last.replace("~1", "/").replace("~0", "~"))
}

fn apply(doc: &mut Value, mutation: &Mutation) {
    let mut all = Vec::new();
    pointers(doc, "", &mut all);
    match *mutation {
        Mutation::Remove(at) => {
            let Some(pointer) = all.get(at % all.len().max(1)) else {
                return;
            };
            let (parent, key) = split_parent(pointer);
            match doc.pointer_mut(parent) {
                Some(Value::Object(map)) => {
                    map.shift_remove(&key);
                }
                Some(Value::Array(items)) => {
                    if let Ok(index) = key.parse::<usize>()
                        && index < items.len()
                    {
                        items.remove(index);
                    }
                }
                _ => {}
            }
        }
        Mutation::Retype(at, kind) => {
            let Some(pointer) = all.get(at % all.len().max(1)) else {
                return;
            };
            if let Some(node) = doc.pointer_mut(pointer) {
                *node = match kind {
                    0 => json!("mutated"),
                    1 => json!(7),
                    2 => json!(true),
                    3 => Value::Null,
                    4 => Value::Object(Map::new()),
                    _ => json!([]),
                };
            }
        }
        Mutation::Rename(at, kind) => {
            let refs: Vec<&String> = all.iter().filter(|p| p.ends_with("/$ref")).collect();
            let components: Vec<String> = all
                .iter()
                .filter(|p| p.starts_with("/components/schemas/") && p.matches('/').count() == 3)
                .cloned()
                .collect();
            let Some(pointer) = refs.get(at % refs.len().max(1)).map(|p| (*p).clone()) else {
                return;
            };
            let target = match kind {
                0 => components.get(at % components.len().max(1)).map_or_else(
                    || "#/components/schemas/Nowhere".to_owned(),
                    |c| format!("#{c}"),
                ),
                1 => "#/components/schemas/Nowhere".to_owned(),
                2 => "other.yaml#/components/schemas/Elsewhere".to_owned(),
                _ => "#/info".to_owned(),
            };
            if let Some(node) = doc.pointer_mut(&pointer) {
                *node = Value::String(target);
            }
        }
    }
}

fn api(dir: &Path) -> Api {
    Api {
        name: "mutant".to_owned(),
        dir: dir.to_owned(),
        source: Source {
            upstream: Upstream {
                url: "http://127.0.0.1/unused".into(),
                document: "input.yaml".into(),
                sha256: String::new(),
                api_version: "1".into(),
                reconstructed: false,
                provenance: String::new(),
            },
            codegen: Settings::default(),
        },
    }
}

/// Normalisation and generation without formatting; `Err` carries the text.
fn pipeline(doc: &mut Value) -> Result<(), String> {
    let api = api(Path::new("."));
    let mut report = Report::default();
    crate::normalize::normalise_with(doc, &api.source.codegen, &mut report)
        .map_err(|e| format!("{e:#}"))?;
    crate::generate::generate_unformatted(&api, doc)
        .map(|_| ())
        .map_err(|e| format!("{e:#}"))
}

/// Whether an error names a place in the document: a JSON pointer in backticks.
fn names_a_pointer(error: &str) -> bool {
    error.split('`').skip(1).step_by(2).any(|quoted| {
        let quoted = quoted.strip_prefix('#').unwrap_or(quoted);
        quoted.starts_with('/')
    })
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("MUTATION_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(512),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn a_mutated_document_gives_output_or_an_error_naming_a_pointer(
        seed in any::<usize>(),
        mutations in proptest::collection::vec(mutation(), 1..4),
    ) {
        let seeds = seeds();
        prop_assume!(!seeds.is_empty());
        let (name, original) = &seeds[seed % seeds.len()];
        let mut doc = original.clone();
        for m in &mutations {
            apply(&mut doc, m);
        }
        let mutated = doc.clone();
        if let Some(path) = std::env::var_os("MUTATION_BEFORE") {
            // Written before the pipeline runs: what a case that aborts the
            // process (a stack overflow is not a panic) was working on.
            let _ = std::fs::write(path, serde_json::to_vec_pretty(&mutated).unwrap_or_default());
        }
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| pipeline(&mut doc)));
        let failed = match &outcome {
            Err(_) => true,
            Ok(Ok(())) => false,
            Ok(Err(e)) => e.contains("progenitor panicked") || !names_a_pointer(e) || !e.contains("way out"),
        };
        if failed && let Some(path) = std::env::var_os("MUTATION_DUMP") {
            // Shrinking ends on the smallest failing case: the last one written.
            let _ = std::fs::write(path, serde_json::to_vec_pretty(&mutated).unwrap_or_default());
        }
        let shown = || serde_json::to_string(&mutated).unwrap_or_default();
        match outcome {
            Err(panic) => {
                let message = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                    .unwrap_or_default();
                prop_assert!(false, "the pipeline panicked on {name} after {mutations:?}: {message}\n{}", shown());
            }
            Ok(Ok(())) => {}
            Ok(Err(error)) => {
                prop_assert!(
                    !error.contains("progenitor panicked"),
                    "progenitor panicked (a missing normalisation rule) on {name} after {mutations:?}:\n{error}\n{}",
                    shown()
                );
                prop_assert!(
                    names_a_pointer(&error) && error.contains("way out"),
                    "the error names no pointer or no way out, on {name} after {mutations:?}:\n{error}\n{}",
                    shown()
                );
            }
        }
    }
}

#[test]
fn the_mutation_test_has_its_seeds() {
    let seeds = seeds();
    assert!(
        seeds.len() >= 20,
        "found only {} seed documents",
        seeds.len()
    );
    for (name, doc) in seeds {
        assert!(doc.is_object(), "{name} did not parse to an object");
    }
}

#[test]
fn the_pointer_check_can_fail() {
    assert!(names_a_pointer("at `/paths/~1a/get`: bad"));
    assert!(names_a_pointer("at `#/components/schemas/A`: bad"));
    assert!(!names_a_pointer("something went wrong"));
    assert!(!names_a_pointer("in `cargo xtask codegen`"));
}

/// Replays one document (`MUTATION_REPLAY=path`, e.g. the last case a failing
/// run wrote with `MUTATION_DUMP=path`) and prints the normalised document.
#[test]
#[ignore = "a debugging aid: run with MUTATION_REPLAY=path"]
#[allow(
    clippy::print_stdout,
    reason = "prints the normalised document for a person"
)]
fn replay_a_mutated_document() {
    let Some(path) = std::env::var_os("MUTATION_REPLAY") else {
        return;
    };
    let bytes = std::fs::read(&path).unwrap_or_default();
    let mut doc: Value = serde_json::from_slice(&bytes).unwrap_or_default();
    let outcome = pipeline(&mut doc);
    println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
    println!("{outcome:?}");
}
