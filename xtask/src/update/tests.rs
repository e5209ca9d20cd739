//! Tests of `cargo xtask update` in scratch copies of the workspace, with a
//! local document instead of a download and a recording test runner instead
//! of a recursive `cargo test`. (The real runner, `cargo test -p ...`, and a
//! real download were only run by hand.)

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::*;
use crate::document::parse;

struct Recorder {
    calls: Vec<Vec<String>>,
    pass: bool,
}

impl TestRunner for Recorder {
    fn run(&mut self, _root: &Path, packages: &[String]) -> Result<bool> {
        self.calls.push(packages.to_vec());
        Ok(self.pass)
    }
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_tree(&path, &target);
        } else {
            std::fs::copy(&path, &target).unwrap();
        }
    }
}

/// A scratch root with the spec folder, the generated crates and the
/// wrapper crate of `api`.
fn scratch(api: &str) -> tempfile::TempDir {
    let real = crate::workspace_root();
    let temp = tempfile::tempdir().unwrap();
    for dir in [
        format!("specs/{api}"),
        format!("crates/{api}-client"),
        format!("crates/{api}-httpmock"),
        format!("crates/{api}"),
    ] {
        copy_tree(&real.join(&dir), &temp.path().join(&dir));
    }
    temp
}

/// Pinwheel's vendor document with three edits: a required query parameter
/// on `list_jobs`, an employment status, and a response field removed.
fn edited_pinwheel_document(root: &Path) -> PathBuf {
    let path = root.join("specs/pinwheel/pinwheel-openapi-v2025-07-08.yml");
    let mut doc: Value = parse(&std::fs::read(&path).unwrap(), &path).unwrap();
    doc["paths"]["/jobs"]["get"]["parameters"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": "region", "in": "query", "required": true, "schema": {"type": "string"}}));
    let employment = &mut doc["components"]["schemas"]["EmploymentObjResponse"]["properties"];
    let status = &mut employment["status"]["allOf"][0]["enum"];
    status.as_array_mut().unwrap().push(json!("on_leave"));
    employment.as_object_mut().unwrap().remove("title").unwrap();
    doc["info"]["version"] = json!("v2025-09-01");
    let edited = root.join("new-vendor-document.json");
    std::fs::write(&edited, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
    edited
}

#[test]
fn update_pins_regenerates_tests_and_writes_the_changelog_newest_first() {
    let temp = scratch("pinwheel");
    let root = temp.path();
    let edited = edited_pinwheel_document(root);
    let mut runner = Recorder {
        calls: Vec::new(),
        pass: true,
    };
    let updated = update(
        root,
        "pinwheel",
        &Origin::File(edited.clone()),
        Some(&mut runner),
    )
    .unwrap();

    let rules: Vec<(&str, Class)> = updated
        .changelog
        .changes
        .iter()
        .map(|c| (c.rule, c.class))
        .collect();
    assert_eq!(
        rules,
        [
            ("parameter-added-required", Class::Breaking),
            ("enum-value-added", Class::Breaking),
            ("field-removed", Class::Breaking),
        ]
    );
    assert_eq!(runner.calls, [["pinwheel-client", "pinwheel"]]);
    assert_eq!(updated.tests, Tests::Passed(runner.calls[0].clone()));
    // Pinned and regenerated.
    let source = std::fs::read_to_string(root.join("specs/pinwheel/SOURCE.toml")).unwrap();
    assert!(source.contains("api_version = \"v2025-09-01\""), "{source}");
    assert!(updated.fetched.changed);
    assert!(
        updated
            .written
            .contains(&"crates/pinwheel-client/codegen/normalized.json".to_owned()),
        "{:?}",
        updated.written
    );
    let generated =
        std::fs::read_to_string(root.join("crates/pinwheel-client/src/generated.rs")).unwrap();
    assert!(generated.contains("OnLeave"));
    // The changelog, with the summary pointing at it.
    let changelog_path = root.join("crates/pinwheel-client/CHANGELOG.md");
    let changelog = std::fs::read_to_string(&changelog_path).unwrap();
    assert!(
        changelog.starts_with("# Changelog of pinwheel-client\n"),
        "{changelog}"
    );
    assert!(changelog.contains(
        "## pinwheel-client 0.1.0 -> 0.2.0 (vendor v2025-07-08 -> v2025-09-01)\n\nBreaking (3)\n"
    ));
    // The changelog is not a stray file of the generated crate.
    let api = crate::source::Api::load(root, "pinwheel").unwrap();
    let drift = crate::codegen::check(root, &crate::codegen::run(&api).unwrap()).unwrap();
    assert!(drift.is_empty(), "{drift:?}");
    let summary = updated.summary().unwrap();
    println!("{summary}");
    assert!(summary.starts_with("pinwheel: vendor v2025-07-08 -> v2025-09-01 (document changed"));
    assert!(summary.contains(
        "API: 3 breaking, 0 compatible; breaking change in 0.x: pinwheel-client 0.1.0 -> 0.2.0"
    ));
    assert!(summary.contains("tests: passed (cargo test -p pinwheel-client -p pinwheel)"));
    assert!(summary.contains("changelog: crates/pinwheel-client/CHANGELOG.md"));

    // The same document again: nothing changed, nothing written, and a
    // failing test run is reported as such.
    let mut failing = Recorder {
        calls: Vec::new(),
        pass: false,
    };
    let again = update(root, "pinwheel", &Origin::File(edited), Some(&mut failing)).unwrap();
    assert!(again.changelog.changes.is_empty());
    assert!(!again.fetched.changed);
    assert_eq!(again.changelog_file, None);
    assert_eq!(std::fs::read_to_string(&changelog_path).unwrap(), changelog);
    assert!(again.summary().unwrap().contains("tests: FAILED"));

    // A later entry goes above the earlier one.
    let newest = prepend_entry(
        root,
        &crate::source::Api::load(root, "pinwheel").unwrap(),
        "## newest\n",
    )
    .unwrap();
    let text = std::fs::read_to_string(root.join(newest)).unwrap();
    let (newer, older) = (
        text.find("## newest").unwrap(),
        text.find("## pinwheel-client 0.1.0").unwrap(),
    );
    assert!(newer < older, "{text}");
    assert!(text.starts_with("# Changelog of pinwheel-client\n"));
}

#[test]
fn update_of_pensionpro_with_its_own_document_reports_no_change() {
    let temp = scratch("pensionpro");
    let root = temp.path();
    let document = root.join("specs/pensionpro/pensionpro-v2.json");
    let copy = root.join("same.json");
    std::fs::copy(&document, &copy).unwrap();
    let updated = update(root, "pensionpro", &Origin::File(copy), None).unwrap();
    assert!(updated.changelog.changes.is_empty());
    assert!(updated.written.is_empty(), "{:?}", updated.written);
    assert_eq!(updated.tests, Tests::Skipped);
    assert!(!root.join("crates/pensionpro-client/CHANGELOG.md").exists());
    let summary = updated.summary().unwrap();
    assert!(
        summary.contains("API: 0 breaking, 0 compatible; no API changes"),
        "{summary}"
    );
    assert!(summary.contains("tests: skipped (--no-test)"), "{summary}");
}

#[test]
fn a_failed_download_says_so_and_leaves_the_pin_alone() {
    let temp = scratch("pinwheel");
    let root = temp.path();
    let source = std::fs::read_to_string(root.join("specs/pinwheel/SOURCE.toml")).unwrap();
    // A loopback port nobody listens on: refused at once, no network.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/openapi.json");
    let err = update(root, "pinwheel", &Origin::Url(url), None).unwrap_err();
    let text = format!("{err:#}");
    assert!(
        text.contains("could not download the document of `pinwheel`"),
        "{text}"
    );
    assert!(text.contains("--document <file>"), "{text}");
    assert_eq!(
        std::fs::read_to_string(root.join("specs/pinwheel/SOURCE.toml")).unwrap(),
        source
    );
}

#[test]
fn the_command_line_refuses_bad_arguments_before_doing_anything() {
    let root = crate::workspace_root();
    let args = |a: &[&str]| a.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    for bad in [
        &[][..],
        &["pinwheel", "--bogus"],
        &["pinwheel", "pensionpro"],
        &["pinwheel", "--document"],
    ] {
        let err = command(&root, &args(bad), "usage").unwrap_err();
        assert!(err.to_string().contains("usage"), "{bad:?}: {err}");
    }
}

#[test]
fn failing_tests_leave_the_changelog_unwritten_and_say_so() {
    let temp = scratch("pinwheel");
    let root = temp.path();
    let edited = edited_pinwheel_document(root);
    let mut failing = Recorder {
        calls: Vec::new(),
        pass: false,
    };
    let updated = update(root, "pinwheel", &Origin::File(edited), Some(&mut failing)).unwrap();
    assert!(
        !updated.changelog.changes.is_empty(),
        "the edited document changes the API"
    );
    assert_eq!(updated.changelog_file, None);
    assert!(!root.join("crates/pinwheel-client/CHANGELOG.md").exists());
    let summary = updated.summary().unwrap();
    assert!(summary.contains("tests: FAILED"), "{summary}");
    assert!(
        summary.contains("changelog: NOT written, the tests failed"),
        "{summary}"
    );
}

#[test]
fn the_same_entry_is_not_written_twice() {
    let temp = scratch("pinwheel");
    let root = temp.path();
    let api = crate::source::Api::load(root, "pinwheel").unwrap();
    prepend_entry(root, &api, "## one\n").unwrap();
    prepend_entry(root, &api, "## two\n").unwrap();
    prepend_entry(root, &api, "## two\n").unwrap();
    let text = std::fs::read_to_string(root.join("crates/pinwheel-client/CHANGELOG.md")).unwrap();
    assert_eq!(text.matches("## two").count(), 1, "{text}");
    assert!(text.find("## two") < text.find("## one"), "{text}");
}
