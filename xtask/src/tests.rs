//! Tests of the whole pipeline: fixture snapshots, determinism, drift
//! detection, the checked-in code being current, and a new API added as data.
//!
//! Snapshots live next to their inputs in `xtask/tests/fixtures/`. After an
//! intended change, rerun with `UPDATE_SNAPSHOTS=1` and review the diff.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::codegen::{self, Drift};
use crate::document::{parse, sha256_hex, to_pretty_json};
use crate::report::Report;
use crate::source::{Api, Settings, Source, Upstream};

fn root() -> PathBuf {
    crate::workspace_root()
}

fn fixtures() -> PathBuf {
    root().join("xtask/tests/fixtures")
}

/// Compares `actual` with the snapshot at `path`, or rewrites it when asked.
fn assert_snapshot(path: &Path, actual: &str) {
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(path).unwrap_or_else(|_| {
        panic!(
            "missing snapshot {}; run with UPDATE_SNAPSHOTS=1 to create it",
            path.display()
        )
    });
    if expected != actual {
        panic!(
            "snapshot {} differs (rerun with UPDATE_SNAPSHOTS=1 if intended):\n{}",
            path.display(),
            codegen::unified_diff(&path.display().to_string(), &expected, actual)
        );
    }
}

/// An API value for a document that is not in a spec folder.
fn api_for(name: &str, dir: &Path, document: &str, sha256: String) -> Api {
    Api {
        name: name.to_owned(),
        dir: dir.to_owned(),
        source: Source {
            upstream: Upstream {
                url: "http://127.0.0.1/unused".into(),
                document: document.into(),
                sha256,
                api_version: "1".into(),
                reconstructed: false,
                provenance: String::new(),
            },
            codegen: Settings::default(),
        },
    }
}

#[test]
fn every_normalisation_fixture_matches_its_snapshot_and_generates() {
    let mut cases = 0;
    for entry in std::fs::read_dir(fixtures().join("normalise")).unwrap() {
        let dir = entry.unwrap().path();
        let input = dir.join("input.yaml");
        let mut doc = parse(&std::fs::read(&input).unwrap(), &input).unwrap();
        let mut report = Report::default();
        // A fixture may carry `[codegen]` settings of its own.
        let settings: crate::source::Settings = std::fs::read_to_string(dir.join("codegen.toml"))
            .map(|text| toml::from_str(&text).unwrap())
            .unwrap_or_default();
        match crate::normalize::normalise_with(&mut doc, &settings, &mut report) {
            Ok(()) => {
                assert!(
                    !dir.join("error.txt").exists(),
                    "{} normalised, but its snapshot expects an error",
                    dir.display()
                );
                assert_snapshot(&dir.join("output.json"), &to_pretty_json(&doc).unwrap());
                assert_snapshot(&dir.join("report.md"), &report.to_markdown("fixture"));
                // What normalisation accepts, progenitor must generate from.
                let api = api_for("fixture", &dir, "input.yaml", String::new());
                crate::generate::generate(&api, &doc)
                    .unwrap_or_else(|e| panic!("{} does not generate: {e:#}", dir.display()));
            }
            Err(err) => {
                assert!(
                    !dir.join("output.json").exists(),
                    "{} failed but its snapshot expects success: {err:#}",
                    dir.display()
                );
                assert_snapshot(&dir.join("error.txt"), &format!("{err:#}\n"));
            }
        }
        cases += 1;
    }
    assert!(cases >= 10, "only {cases} fixtures found");
}

#[test]
fn fixture_reports_name_each_rule_they_exist_for() {
    // Guards against a snapshot that was regenerated after a rule silently stopped firing.
    let expect = [
        ("openapi-3.1", "openapi-3.1/null-branch"),
        ("openapi-3.1", "openapi-3.1/type-array"),
        ("openapi-3.1", "openapi-3.1/const"),
        ("openapi-3.1", "openapi-3.1/examples"),
        ("openapi-3.1", "openapi-3.1/exclusive-bound"),
        ("openapi-3.1", "schema/ref-siblings"),
        ("swashbuckle-media", "media/response-one-type"),
        ("swashbuckle-media", "media/request-one-type"),
        ("operation-ids", "operation/missing-id"),
        ("operation-ids", "operation/duplicate-id"),
        ("operation-ids", "operation/duplicate-tag"),
        ("response-types", "operation/response-type"),
        ("parameter-collisions", "operation/parameter-collision"),
        ("multipart-body", "media/request-unsupported"),
        ("unions", "union/discriminator"),
        ("unions", "union/hoist"),
        ("unions", "union/order"),
        ("unions", "union/overlap"),
        ("unions", "schema/title-collision"),
        ("fastapi-ids", "operation/generated-id"),
        ("patterns", "schema/pattern-dialect"),
        ("parameter-case", "operation/path-parameter-rename"),
        ("schemaless-media", "media/no-schema"),
        ("schemaless-media", "media/raw-body-schema"),
        ("schema-repairs", "schema/deep-ref"),
        ("schema-repairs", "schema/recursive-merge"),
        ("schema-repairs", "schema/enum-type"),
        ("schema-repairs", "schema/enum-variant-names"),
        ("schema-repairs", "schema/default-value"),
        ("parameter-shapes", "operation/union-parameter"),
        ("parameter-shapes", "operation/object-parameter"),
        ("swagger-2.0", "swagger-2.0/version"),
        ("swagger-2.0", "swagger-2.0/servers"),
        ("swagger-2.0", "swagger-2.0/definitions"),
        ("swagger-2.0", "swagger-2.0/body-parameter"),
        ("swagger-2.0", "swagger-2.0/form-data"),
        ("swagger-2.0", "swagger-2.0/collection-format"),
        ("swagger-2.0", "swagger-2.0/x-nullable"),
        ("swagger-2.0", "swagger-2.0/discriminator"),
        ("swagger-2.0", "swagger-2.0/security"),
        ("schema-repairs", "schema/format-type"),
        ("compile-repairs", "operation/nullable-parameter"),
        ("compile-repairs", "schema/allof-prose-member"),
        ("compile-repairs", "schema/title-collision"),
        ("compile-repairs", "schema/property-name-collision"),
        ("compile-repairs", "schema/title-reuse"),
        ("compile-repairs", "operation/template-operator"),
        ("legal-refs", "operation/callback-ref"),
        ("malformed-repairs", "schema/enum-type"),
        ("malformed-repairs", "schema/implied-type"),
        ("malformed-repairs", "schema/empty-composition"),
        ("malformed-repairs", "media/no-schema"),
        ("malformed-repairs", "operation/path-parameter-required"),
        ("malformed-repairs", "operation/path-parameter-unused"),
        ("malformed-repairs", "operation/path-parameter-missing"),
        ("malformed-repairs", "operation/object-parameter"),
        ("malformed-repairs", "operation/union-parameter"),
        ("malformed-repairs", "operation/response-type"),
    ];
    for (case, rule) in expect {
        let input = fixtures().join("normalise").join(case).join("input.yaml");
        let mut doc = parse(&std::fs::read(&input).unwrap(), &input).unwrap();
        let mut report = Report::default();
        crate::normalize::normalise(&mut doc, &mut report).unwrap();
        assert!(
            report.by_rule(rule).next().is_some(),
            "{case}: rule {rule} did not fire"
        );
    }
}

#[test]
fn unfixable_documents_fail_with_the_place_and_the_way_out() {
    for (case, place) in [
        ("swagger-1.2", "/swagger"),
        (
            "external-ref",
            "/paths/~1a/get/responses/200/content/application~1json/schema",
        ),
        ("cookie-parameter", "/paths/~1a/get/parameters/0"),
        ("not-a-component", "/components/schemas/Thing/type"),
        (
            "not-a-component",
            "/paths/~1things/get/responses/200/content/application~1json/schema",
        ),
    ] {
        let input = fixtures().join("normalise").join(case).join("input.yaml");
        let mut doc = parse(&std::fs::read(&input).unwrap(), &input).unwrap();
        let err = format!(
            "{:#}",
            crate::normalize::normalise(&mut doc, &mut Report::default()).unwrap_err()
        );
        assert!(err.contains(place), "{case}: {err}");
        assert!(err.contains("way out"), "{case}: {err}");
    }
}

#[test]
fn checked_in_generated_code_is_current() {
    // The same check as `cargo xtask codegen --check`, so `cargo test` fails on stale output.
    let root = root();
    let apis = Api::discover(&root).unwrap();
    assert!(!apis.is_empty());
    let drift = crate::codegen_all(&root, &apis, true, true).unwrap();
    let report: Vec<String> = drift.iter().map(ToString::to_string).collect();
    assert!(
        drift.is_empty(),
        "generated code is stale; run `cargo xtask codegen`:\n{}",
        report.join("\n")
    );
}

#[test]
fn generation_is_deterministic() {
    let api = Api::load(&root(), "pinwheel").unwrap();
    let first = codegen::run(&api).unwrap();
    let second = codegen::run(&api).unwrap();
    assert_eq!(first.files.len(), second.files.len());
    for (a, b) in first.files.iter().zip(&second.files) {
        assert_eq!(a.path, b.path);
        assert!(
            a.content == b.content,
            "{} differs between two runs",
            a.path
        );
    }
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[test]
fn check_reports_edited_missing_stray_files_and_a_changed_spec() {
    let temp = tempfile::tempdir().unwrap();
    let root = temp.path();
    for dir in [
        "specs/pinwheel",
        "crates/pinwheel-client",
        "crates/pinwheel-httpmock",
    ] {
        copy_tree(&crate::workspace_root().join(dir), &root.join(dir));
    }
    let check = |root: &Path| {
        let apis = Api::discover(root)?;
        crate::codegen_all(root, &apis, true, true)
    };
    assert!(
        check(root).unwrap().is_empty(),
        "a faithful copy must be current"
    );

    // One generated byte edited by hand.
    let generated = root.join("crates/pinwheel-client/src/generated.rs");
    let text = std::fs::read_to_string(&generated).unwrap();
    std::fs::write(
        &generated,
        text.replacen("pub struct Client", "pub struct Klient", 1),
    )
    .unwrap();
    // A file nobody generates, and a generated file deleted.
    std::fs::write(
        root.join("crates/pinwheel-client/src/extra.rs"),
        "// hand-written\n",
    )
    .unwrap();
    std::fs::remove_file(root.join("crates/pinwheel-httpmock/Cargo.toml")).unwrap();

    let drift = check(root).unwrap();
    let changed = drift.iter().find_map(|d| match d {
        Drift::Changed { path, diff } => Some((path.clone(), diff.clone())),
        _ => None,
    });
    let (path, diff) = changed.expect("the edit is reported");
    assert_eq!(path, "crates/pinwheel-client/src/generated.rs");
    assert!(
        diff.contains("-pub struct Klient") && diff.contains("+pub struct Client"),
        "{diff}"
    );
    assert!(drift.iter().any(
        |d| matches!(d, Drift::Stray { path } if path == "crates/pinwheel-client/src/extra.rs")
    ));
    assert!(drift.iter().any(
        |d| matches!(d, Drift::Missing { path } if path == "crates/pinwheel-httpmock/Cargo.toml")
    ));

    // One byte of the pinned vendor document changed: refused before generating.
    let spec = root.join("specs/pinwheel/pinwheel-openapi-v2025-07-08.yml");
    let mut bytes = std::fs::read(&spec).unwrap();
    bytes.push(b'\n');
    std::fs::write(&spec, bytes).unwrap();
    let err = format!("{:#}", check(root).unwrap_err());
    assert!(err.contains("sha256"), "{err}");
}

#[test]
fn the_drift_check_ignores_another_rustfmts_layout_but_not_a_changed_token() {
    let temp = tempfile::tempdir().unwrap();
    let root = temp.path();
    for dir in [
        "specs/pinwheel",
        "crates/pinwheel-client",
        "crates/pinwheel-httpmock",
    ] {
        copy_tree(&crate::workspace_root().join(dir), &root.join(dir));
    }
    let check = |root: &Path| {
        let apis = Api::discover(root).unwrap();
        crate::codegen_all(root, &apis, true, true).unwrap()
    };
    let generated = root.join("crates/pinwheel-client/src/generated.rs");
    let original = std::fs::read_to_string(&generated).unwrap();

    // What another rustfmt might have written: other indentation, a
    // signature on one line, other line breaks. Same tokens.
    let relaid = original
        .replacen("\npub struct Client {", "\npub   struct Client\n{", 1)
        .replacen(
            "        pub fn builder() -> builder::",
            "        pub fn builder()\n            -> builder::",
            1,
        );
    assert_eq!(
        relaid.lines().count(),
        original.lines().count() + 2,
        "both edits applied"
    );
    std::fs::write(&generated, &relaid).unwrap();
    let drift = check(root);
    assert!(
        drift.is_empty(),
        "layout alone is not drift: {:?}",
        drift.iter().map(ToString::to_string).collect::<Vec<_>>()
    );

    // One token changed.
    let changed = relaid.replacen("pub   struct Client", "pub   struct Klient", 1);
    assert_ne!(changed, relaid);
    std::fs::write(&generated, changed).unwrap();
    let drift = check(root);
    assert!(
        drift
            .iter()
            .any(|d| matches!(d, Drift::Changed { path, .. } if path.ends_with("generated.rs"))),
        "a changed token is drift"
    );
}

/// Writes `specs/<name>/` with `document` and a matching SOURCE.toml.
fn add_spec(root: &Path, name: &str, document_name: &str, document: &[u8]) {
    add_spec_with(root, name, document_name, document, "");
}

/// [`add_spec`] with more SOURCE.toml text (a `[codegen]` table).
fn add_spec_with(root: &Path, name: &str, document_name: &str, document: &[u8], codegen: &str) {
    let dir = root.join("specs").join(name);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(document_name), document).unwrap();
    std::fs::write(
        dir.join("SOURCE.toml"),
        format!(
            "[upstream]\nurl = \"http://127.0.0.1/{name}.json\"\ndocument = \"{document_name}\"\nsha256 = \"{}\"\napi_version = \"1\"\n{codegen}",
            sha256_hex(document)
        ),
    )
    .unwrap();
}

#[test]
fn a_new_api_added_as_data_generates_and_compiles() {
    let temp = tempfile::tempdir().unwrap();
    let root = temp.path();
    crate::corpus::scratch_workspace(&crate::workspace_root(), root).unwrap();
    // A Swashbuckle-shaped document (what PensionPro's real one will look like)
    // and a FastAPI-style 3.1 document, each dropped in as data only.
    let swashbuckle = std::fs::read(fixtures().join("swashbuckle/openapi.json")).unwrap();
    add_spec(root, "widgets", "openapi.json", &swashbuckle);
    let fastapi = std::fs::read(fixtures().join("normalise/openapi-3.1/input.yaml")).unwrap();
    add_spec(root, "fastitems", "openapi.yaml", &fastapi);
    // Unions of every kind, with numbers as exact decimals.
    let unions = std::fs::read(fixtures().join("normalise/unions/input.yaml")).unwrap();
    add_spec_with(
        root,
        "fixture-unions",
        "openapi.yaml",
        &unions,
        "[[codegen.conversions]]\nmatch = { type = \"number\" }\nname = \"DecimalAmount\"\nrust_type = \"client_core::money::DecimalAmount\"\n",
    );
    // What generated from real documents but did not compile.
    let repairs = std::fs::read(fixtures().join("normalise/compile-repairs/input.yaml")).unwrap();
    add_spec(root, "repairs", "openapi.yaml", &repairs);

    let apis = Api::discover(root).unwrap();
    assert_eq!(
        apis.iter().map(|a| a.name.as_str()).collect::<Vec<_>>(),
        ["fastitems", "fixture-unions", "repairs", "widgets"]
    );
    assert!(
        crate::codegen_all(root, &apis, false, true)
            .unwrap()
            .is_empty()
    );
    for dir in [
        "widgets-client",
        "widgets-httpmock",
        "fastitems-client",
        "fastitems-httpmock",
        "fixture-unions-client",
        "repairs-client",
        "repairs-httpmock",
    ] {
        assert!(
            root.join("crates")
                .join(dir)
                .join("src/generated.rs")
                .is_file(),
            "{dir}"
        );
    }
    // Once written, the new crates are current.
    assert!(
        crate::codegen_all(root, &apis, true, true)
            .unwrap()
            .is_empty()
    );

    // The generated crates compile. A separate target directory: the outer
    // `cargo test` holds the lock on the main one while tests run.
    let target = crate::workspace_root().join("target/xtask-fixtures");
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["check", "--workspace", "--offline", "--quiet"])
        .current_dir(root)
        .env("CARGO_TARGET_DIR", &target)
        .status()
        .unwrap();
    assert!(
        status.success(),
        "the generated fixture crates do not compile"
    );

    // A new API's tests run with no work: the example oracle of every
    // generated crate, and for the unions a check of the variants chosen.
    std::fs::copy(
        fixtures().join("unions-behaviour/unions.rs"),
        root.join("crates/fixture-unions-client/tests/unions.rs"),
    )
    .unwrap();
    let output = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args([
            "test",
            "--workspace",
            "--offline",
            "--quiet",
            "--",
            "--nocapture",
        ])
        .current_dir(root)
        .env("CARGO_TARGET_DIR", &target)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the generated fixture crates' tests fail:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("example oracle for fixture-unions: 2 found, 2 decoded, 2 round-tripped"),
        "{stdout}"
    );
}

#[test]
fn pinwheel_document_reports_its_overlay_fixes() {
    let api = Api::load(&root(), "pinwheel").unwrap();
    let output = codegen::run(&api).unwrap();
    let report = &output.report;
    // Each known defect of the vendor document is fixed by the overlay.
    assert!(
        report
            .by_rule("overlay/remove")
            .any(|e| e.pointer.ends_with("/maximum"))
    );
    assert!(
        report
            .by_rule("overlay/update")
            .any(|e| e.pointer == "/components")
    );
    let client = output
        .files
        .iter()
        .find(|f| f.path.ends_with("pinwheel-client/src/generated.rs"))
        .unwrap();
    let operations = client.content.matches("client_core::Operation {").count();
    assert_eq!(operations, 46, "every Pinwheel operation is generated");
    let normalised: Value = serde_json::from_str(
        &output
            .files
            .iter()
            .find(|f| f.path.ends_with("normalized.json"))
            .unwrap()
            .content,
    )
    .unwrap();
    assert!(
        normalised
            .pointer("/components/schemas/ErrorResponse")
            .is_some()
    );
}

#[test]
fn conversions_and_open_enums_shape_the_generated_types() {
    let doc = serde_json::json!({
        "openapi": "3.0.3",
        "info": {"title": "Conv", "version": "1"},
        "paths": {"/fee": {"get": {"operationId": "get_fee", "responses": {"200": {
            "description": "ok",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Fee"}}}
        }}}}},
        "components": {"schemas": {"Fee": {"type": "object", "required": ["amount"], "properties": {
            "amount": {"type": "number", "format": "decimal", "description": "The fee."},
            "ratio": {"type": "number", "format": "double"},
            "status": {"type": "string", "enum": ["open", "closed"]}
        }}}}
    });
    let mut api = api_for("conv", Path::new("."), "doc.json", String::new());
    let conversion: crate::source::Conversion = toml::from_str(
        "match = { type = \"number\", format = \"decimal\" }\nname = \"Exact\"\nrust_type = \"client_core::money::DecimalAmount\"\n",
    )
    .unwrap();
    api.source.codegen.conversions = vec![conversion];
    let mut normalised = doc.clone();
    let mut report = Report::default();
    crate::normalize::normalise_with(&mut normalised, &api.source.codegen, &mut report).unwrap();
    assert_eq!(
        report.by_rule("conversion/schema").count(),
        1,
        "only the decimal matches"
    );
    let generated = crate::generate::generate(&api, &normalised).unwrap().client;
    assert!(
        generated.contains("pub amount: client_core::money::DecimalAmount"),
        "{generated}"
    );
    assert!(
        generated.contains("pub ratio: ::std::option::Option<f64>"),
        "a double is not converted"
    );
    assert!(
        generated.contains("Unknown(::std::string::String)"),
        "enums are open"
    );
    assert!(
        !generated.contains("pub struct Exact"),
        "the placeholder is replaced, not generated"
    );

    api.source.codegen.open_enums = false;
    let closed = crate::generate::generate(&api, &normalised).unwrap().client;
    assert!(!closed.contains("Unknown(::std::string::String)"));
}

/// Two checkouts that share a target directory share one xtask binary: the
/// workspace is found when it runs, from cargo's `CARGO_MANIFEST_DIR` or
/// the current directory, never from where the binary was compiled.
#[test]
fn the_workspace_is_found_where_xtask_runs() {
    let scratch = std::env::temp_dir().join(format!("xtask-root-{}", std::process::id()));
    let make = |name: &str| {
        let root = scratch.join(name);
        std::fs::create_dir_all(root.join("specs")).unwrap();
        std::fs::create_dir_all(root.join("xtask/src")).unwrap();
        std::fs::write(root.join("xtask/Cargo.toml"), "[package]\n").unwrap();
        root
    };
    let (one, other) = (make("one"), make("other"));
    let deep = other.join("xtask/src");
    // cargo run names the checkout it was started in.
    let found = crate::find_workspace(Some(one.join("xtask").into_os_string()), &deep).unwrap();
    assert_eq!(found, one);
    // Without cargo, the directory it runs in decides.
    assert_eq!(crate::find_workspace(None, &deep).unwrap(), other);
    // A stale variable that names no workspace is not trusted.
    let found = crate::find_workspace(Some(scratch.join("gone/xtask").into_os_string()), &deep);
    assert_eq!(found.unwrap(), other);
    let error = crate::find_workspace(None, &scratch)
        .unwrap_err()
        .to_string();
    assert!(error.contains("no workspace here"), "{error}");
    std::fs::remove_dir_all(&scratch).unwrap();
}

/// The typed mocks name a response's method after its reason phrase; codes
/// outside the registry have none and are left out with a report line
/// instead of a panic in progenitor's mock generator.
#[test]
fn statuses_without_a_reason_phrase_are_left_out_of_the_typed_mocks() {
    let dir = fixtures().join("normalise/response-status");
    let input = dir.join("input.yaml");
    let mut doc = parse(&std::fs::read(&input).unwrap(), &input).unwrap();
    crate::normalize::normalise(&mut doc, &mut Report::default()).unwrap();
    let api = api_for("fixture", &dir, "input.yaml", String::new());
    let generated = crate::generate::generate(&api, &doc).unwrap();
    let left_out: Vec<&str> = generated
        .mock_omissions
        .iter()
        .filter(|(_, message)| message.contains("reason phrase"))
        .map(|(pointer, _)| pointer.rsplit('/').next().unwrap_or_default())
        .collect();
    assert_eq!(left_out, ["299", "420"], "{:?}", generated.mock_omissions);
}

/// `$ref`s inside `x-` extensions are not followed, checked or refused (an
/// external one used to stop normalisation); a property named `x-...` is a
/// property and its reference is still checked.
#[test]
fn references_inside_extensions_are_left_alone() {
    let input = fixtures().join("normalise/extension-refs/input.yaml");
    let original = parse(&std::fs::read(&input).unwrap(), &input).unwrap();
    let mut doc = original.clone();
    crate::normalize::normalise(&mut doc, &mut Report::default()).unwrap();
    assert_eq!(
        doc.pointer("/info/x-docs"),
        original.pointer("/info/x-docs")
    );
    let mut broken = original.clone();
    broken["components"]["schemas"]
        .as_object_mut()
        .unwrap()
        .shift_remove("Trace");
    let error = format!(
        "{:#}",
        crate::normalize::normalise(&mut broken, &mut Report::default()).unwrap_err()
    );
    assert!(error.contains("x-trace"), "{error}");
}

/// The corpus in `cargo test`: every document through the pipeline, and the
/// smaller ones, one of each generator family, compiled with their examples
/// checked. `cargo make corpus` compiles all of them.
#[test]
fn the_corpus_generates_and_a_representative_subset_compiles() {
    let root = root();
    let all = crate::corpus::documents(&root, &[]).unwrap();
    assert!(all.len() >= 15, "only {} corpus documents", all.len());
    // unit-banking publishes its paths as files it does not publish: it must
    // fail, naming the place and the way out.
    let outcomes = crate::corpus::run(&root, &all, None).unwrap();
    for outcome in &outcomes {
        match (&outcome.generated, outcome.name.as_str()) {
            (Ok(_), "unit-banking") => {
                panic!("unit-banking generated, but its paths are unpublished files")
            }
            (Ok(_), _) => {}
            (Err(error), "unit-banking") => {
                assert!(
                    error.contains("at `/paths/") && error.contains("way out"),
                    "{error}"
                );
            }
            (Err(error), name) => panic!("{name} no longer generates: {error}"),
        }
    }

    let subset = [
        "adyen-raise-disputes", // vendor pipeline, 3.1, a pattern with an inline flag
        "drf-spectacular-polymorphic", // drf-spectacular, discriminators
        "nswag-sample",         // NSwag
        "odata-trippin",        // OData converter, case-only parameter names
        "redocly-museum",       // hand-written 3.1 with examples
        "springdoc-data-rest",  // springdoc
        "xero-webhooks",        // 3.1 webhooks only
    ];
    let names: Vec<String> = subset.iter().map(|s| (*s).to_owned()).collect();
    let apis = crate::corpus::documents(&root, &names).unwrap();
    assert_eq!(apis.len(), subset.len());
    let temp = tempfile::tempdir().unwrap();
    let scratch = crate::corpus::Scratch {
        dir: temp.path().to_owned(),
        // Shared with a_new_api_added_as_data_generates_and_compiles.
        target: root.join("target/xtask-fixtures"),
    };
    let outcomes = crate::corpus::run(&root, &apis, Some(&scratch)).unwrap();
    let table = crate::corpus::table(&outcomes);
    for outcome in &outcomes {
        assert!(
            matches!(outcome.compiles, Some(Ok(()))),
            "{} does not compile:\n{table}",
            outcome.name
        );
        let examples = outcome.examples.as_deref().unwrap_or_default();
        assert!(
            examples.contains("found") && !examples.contains(';'),
            "{}: example oracle: {examples}\n{table}",
            outcome.name
        );
    }
}
