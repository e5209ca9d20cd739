//! Tests of `cargo xtask diff`: one fixture per classification rule, both
//! real documents against themselves, and three edits of Pinwheel's
//! document.
//!
//! # Rule fixtures
//!
//! `xtask/tests/fixtures/diff/` holds `base.yaml`, a small document shared
//! by every rule, and a folder per rule (named as the rule) with:
//! - `after.overlay.yaml`: the edit the rule is about, as an OpenAPI Overlay
//!   1.0 document (see [`crate::overlay`]) whose every action says the edit
//!   in its `description`;
//! - `before.overlay.yaml`, only where the rule needs another starting point
//!   (a parameter that becomes optional must exist first);
//! - `expected.txt`: the rendered changelog (rerun with `UPDATE_EXPECT=1`
//!   after an intended change and review the diff).
//!
//! The "before" document is `base.yaml` with `before.overlay.yaml` applied
//! (or `base.yaml` itself); the "after" document is always the *before*
//! document with `after.overlay.yaml` applied, so an after overlay states
//! only its rule's edit (and the vendor version going from 1 to 2). Both are
//! compared as parsed, without normalisation, as they always were.
//!
//! A rule may have further cases in folders named `<rule>--<case>`: the
//! same layout, and the same demand that only `<rule>` fires.
//!
//! An overlay cannot rename a key in place: a renamed field, schema or path
//! is removed by one action and added by the next, so it moves to the end
//! of its object; member order does not matter to the comparison.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::*;
use crate::document::parse;
use crate::overlay::Overlay;
use crate::report::Report;

fn root() -> PathBuf {
    crate::workspace_root()
}

fn read(path: &Path) -> Value {
    parse(&std::fs::read(path).unwrap(), path).unwrap()
}

/// The rule fixtures' folder.
fn fixtures() -> PathBuf {
    root().join("xtask/tests/fixtures/diff")
}

/// `doc` with the overlay in `path` applied. Every action must say what it
/// changes: the description is the fixture's only prose.
fn overlaid(mut doc: Value, path: &Path) -> Value {
    let overlay = Overlay::from_value(read(path)).unwrap();
    for action in &overlay.actions {
        assert!(
            action.description.as_deref().is_some_and(|d| !d.is_empty()),
            "{}: the action on `{}` has no description",
            path.display(),
            action.target
        );
    }
    overlay
        .apply(&mut doc, &mut Report::default())
        .unwrap_or_else(|e| panic!("applying {}: {e:#}", path.display()));
    doc
}

/// The before and after documents of the fixture of `rule` (see the module
/// docs).
fn fixture(rule: &str) -> (Value, Value) {
    let case = fixtures().join(rule);
    let mut before = read(&fixtures().join("base.yaml"));
    let before_overlay = case.join("before.overlay.yaml");
    if before_overlay.exists() {
        before = overlaid(before, &before_overlay);
    }
    let after = overlaid(before.clone(), &case.join("after.overlay.yaml"));
    (before, after)
}

fn normalised(api: &str) -> Value {
    read(&root().join(format!("crates/{api}-client/codegen/normalized.json")))
}

fn class_of(rule: &str) -> Class {
    RULES
        .iter()
        .find(|(r, _)| *r == rule)
        .map(|(_, c)| *c)
        .unwrap_or_else(|| panic!("rule {rule} is not in RULES"))
}

#[test]
fn every_rule_has_a_fixture_that_fires_it_and_nothing_else() {
    let mut seen = Vec::new();
    for entry in std::fs::read_dir(fixtures()).unwrap() {
        let case = entry.unwrap().path();
        if !case.is_dir() {
            continue; // base.yaml
        }
        let folder = case.file_name().unwrap().to_string_lossy().into_owned();
        // `<rule>--<case>`: a further case of the rule.
        let rule = folder.split("--").next().unwrap_or(&folder).to_owned();
        // Refuse stray files: a full `after.yaml` left over would be ignored silently.
        for file in std::fs::read_dir(&case).unwrap() {
            let name = file.unwrap().file_name();
            assert!(
                ["before.overlay.yaml", "after.overlay.yaml", "expected.txt"]
                    .contains(&name.to_string_lossy().as_ref()),
                "{folder}: unexpected file {name:?}"
            );
        }
        let (before, after) = fixture(&folder);
        assert_ne!(before, after, "{folder}: the after overlay changes nothing");
        let log = Changelog::new("fixture", "0.1.0", &before, &after);
        assert!(!log.changes.is_empty(), "{folder}: no change found");
        for change in &log.changes {
            assert_eq!(change.rule, rule, "{folder}: {change:?}");
            assert_eq!(change.class, class_of(change.rule), "{folder}: {change:?}");
        }
        let rendered = log.render().unwrap();
        let expected_path = case.join("expected.txt");
        if std::env::var_os("UPDATE_EXPECT").is_some() {
            std::fs::write(&expected_path, &rendered).unwrap();
        } else {
            let expected = std::fs::read_to_string(&expected_path).unwrap_or_else(|_| {
                panic!(
                    "missing {}; run with UPDATE_EXPECT=1",
                    expected_path.display()
                )
            });
            assert_eq!(
                expected,
                rendered,
                "{} differs (rerun with UPDATE_EXPECT=1 if intended)",
                expected_path.display()
            );
        }
        // And back: nothing is lost in either direction.
        assert!(
            !compare(&after, &before).is_empty(),
            "{folder}: the reverse finds nothing"
        );
        seen.push(rule);
    }
    seen.sort();
    seen.dedup();
    let mut rules: Vec<String> = RULES.iter().map(|(r, _)| (*r).to_owned()).collect();
    rules.sort();
    assert_eq!(seen, rules, "fixture directories and RULES differ");
}

#[test]
fn both_real_documents_diffed_with_themselves_report_nothing() {
    for api in ["pinwheel", "pensionpro"] {
        let doc = normalised(api);
        let log = Changelog::new(&format!("{api}-client"), "0.1.0+x", &doc, &doc);
        assert!(log.changes.is_empty(), "{api}: {:?}", log.changes);
        let rendered = log.render().unwrap();
        assert!(rendered.ends_with("\n\nNo API changes.\n"), "{rendered}");
    }
}

#[test]
fn the_pipeline_output_equals_the_checked_in_document_and_head() {
    // The new side (the pinned document through overlay and normalisation)
    // is what codegen checked in, and HEAD's copy is the same: so a plain
    // `cargo xtask diff <api>` in a clean tree says "No API changes.".
    for name in ["pinwheel", "pensionpro"] {
        let api = crate::source::Api::load(&root(), name).unwrap();
        let new = load_new(&api, None).unwrap();
        assert!(compare(&normalised(name), &new).is_empty(), "{name}");
        let rendered = run(&root(), name, &Against::Revision("HEAD".into()), None).unwrap();
        assert!(rendered.contains("No API changes."), "{name}: {rendered}");
    }
}

/// Pinwheel's document with three edits: an operation removed, a required
/// query parameter added, and an enum value added.
fn edited_pinwheel() -> Value {
    let mut doc = normalised("pinwheel");
    let paths = doc["paths"].as_object_mut().unwrap();
    paths["/accounts/{account_id}/paystubs"]
        .as_object_mut()
        .unwrap()
        .remove("get")
        .unwrap();
    paths["/jobs"]["get"]["parameters"]
        .as_array_mut()
        .unwrap()
        .push(json!({
            "name": "region", "in": "query", "required": true, "schema": {"type": "string"}
        }));
    let status = &mut doc["components"]["schemas"]["EmploymentObjResponse"]["properties"]["status"];
    status["allOf"][0]["enum"]
        .as_array_mut()
        .unwrap()
        .push(json!("on_leave"));
    doc["info"]["version"] = json!("v2025-09-01");
    doc
}

#[test]
fn three_edits_of_pinwheel_are_classified_with_the_wrapper_code_they_touch() {
    let root = root();
    let api = crate::source::Api::load(&root, "pinwheel").unwrap();
    let old = normalised("pinwheel");
    let log = changelog(&root, &api, &old, &edited_pinwheel()).unwrap();
    let summary: Vec<(&str, Class, &str)> = log
        .changes
        .iter()
        .map(|c| (c.rule, c.class, c.pointer.as_str()))
        .collect();
    assert_eq!(
        summary,
        [
            (
                "parameter-added-required",
                Class::Breaking,
                "/paths/~1jobs/get/parameters/8"
            ),
            (
                "operation-removed",
                Class::Breaking,
                "/paths/~1accounts~1{account_id}~1paystubs/get"
            ),
            (
                "enum-value-added",
                Class::Breaking,
                "/components/schemas/EmploymentObjResponse/properties/status"
            ),
        ]
    );
    // The wrapper's paystub listing calls the removed operation.
    let removed = &log.changes[1];
    assert!(
        removed
            .uses
            .iter()
            .any(|u| u.starts_with("crates/pinwheel/src/pagination.rs:")),
        "{:?}",
        removed.uses
    );
    let (bump, _, next) = log.bump().unwrap();
    assert_eq!((bump, next.as_str()), (Bump::Minor, "0.2.0"));
    let rendered = log.render().unwrap();
    println!("{rendered}");
    assert!(rendered.starts_with(
        "## pinwheel-client 0.1.0 -> 0.2.0 (vendor v2025-07-08 -> v2025-09-01)\n\nBreaking (3)\n"
    ));
    assert!(rendered.contains(
        "- operation `list_paystubs` removed (GET /accounts/{account_id}/paystubs): builder method `list_paystubs()` is gone [#/paths/~1accounts~1{account_id}~1paystubs/get] (operation-removed)\n  wrapper uses: crates/pinwheel/src/pagination.rs:"
    ));
    assert!(rendered.ends_with("\nImplied bump: minor (breaking change in 0.x): 0.1.0 -> 0.2.0\n"));
}

#[test]
fn an_operation_id_with_the_same_rust_method_is_no_change() {
    let before = read(&fixtures().join("base.yaml"));
    let mut after = before.clone();
    after["paths"]["/widgets/{widget_id}"]["get"]["operationId"] = json!("getWidget");
    assert!(compare(&before, &after).is_empty());
    assert!(compare(&after, &before).is_empty());
}

#[test]
fn a_duplicate_operation_id_does_not_hide_an_operation() {
    let before = read(&fixtures().join("base.yaml"));
    let mut after = before.clone();
    // `paint_widget` takes the id of `get_widget`: two operations, one id.
    after["paths"]["/widgets/{widget_id}/paint"]["post"]["operationId"] = json!("get_widget");
    let rules: Vec<&str> = compare(&before, &after).iter().map(|c| c.rule).collect();
    assert_eq!(
        rules,
        ["operation-renamed"],
        "{:?}",
        compare(&before, &after)
    );
    let mut removed = after.clone();
    removed["paths"]
        .as_object_mut()
        .unwrap()
        .remove("/widgets/{widget_id}/paint");
    let rules: Vec<&str> = compare(&after, &removed).iter().map(|c| c.rule).collect();
    assert_eq!(rules, ["operation-removed"]);
}

#[test]
fn the_bump_follows_cargos_rules_for_0x_and_1x() {
    let (before, added) = fixture("field-added");
    let (_, removed) = fixture("field-removed");
    let bump = |version: &str, after: &Value| {
        let (bump, _, next) = Changelog::new("c", version, &before, after).bump().unwrap();
        (bump, next)
    };
    assert_eq!(bump("0.1.0", &added), (Bump::Patch, "0.1.1".into()));
    assert_eq!(bump("0.3.4+v2", &removed), (Bump::Minor, "0.4.0".into()));
    assert_eq!(bump("1.2.3", &added), (Bump::Minor, "1.3.0".into()));
    assert_eq!(bump("1.2.3", &removed), (Bump::Major, "2.0.0".into()));
    assert_eq!(bump("1.2.3", &before), (Bump::None, "1.2.3".into()));
    assert!(
        Changelog::new("c", "one", &before, &added)
            .bump()
            .unwrap_err()
            .to_string()
            .contains("not x.y.z")
    );
}

#[test]
fn wrapper_lines_are_found_by_whole_identifiers() {
    assert!(names_ident(
        "self.api().list_paystubs().x()",
        "list_paystubs"
    ));
    assert!(names_ident("impl Foo for types::Widget {", "Widget"));
    assert!(!names_ident("types::WidgetCreate", "Widget"));
    assert!(!names_ident("my_list_paystubs()", "list_paystubs"));
}

#[test]
fn against_is_a_file_when_one_exists_and_a_revision_otherwise() {
    let root = root();
    assert!(matches!(
        Against::parse(&root, "crates/pinwheel-client/codegen/normalized.json"),
        Against::File(_)
    ));
    assert!(matches!(Against::parse(&root, "HEAD~1"), Against::Revision(r) if r == "HEAD~1"));
    let api = crate::source::Api::load(&root, "pinwheel").unwrap();
    let err = load_old(&root, &api, &Against::Revision("no-such-revision".into()))
        .unwrap_err()
        .to_string();
    assert!(err.contains("--against <file>"), "{err}");
}

#[test]
fn the_command_line_reads_an_edited_file_and_refuses_bad_arguments() {
    let temp = tempfile::tempdir().unwrap();
    let file = temp.path().join("old.json");
    // The edited document as the *old* side: the working tree then
    // lacks what the edits added and has what they removed.
    std::fs::write(&file, serde_json::to_string(&edited_pinwheel()).unwrap()).unwrap();
    let args = |a: &[&str]| a.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    let out = command(
        &root(),
        &args(&["pinwheel", "--against", file.to_str().unwrap()]),
        "usage",
    )
    .unwrap();
    assert!(out.contains("Breaking (2)"), "{out}");
    assert!(out.contains("(parameter-removed)"), "{out}");
    assert!(out.contains("(enum-value-removed)"), "{out}");
    assert!(
        out.contains("Compatible (1)\n- operation `list_paystubs` added"),
        "{out}"
    );
    for bad in [
        &["pinwheel", "--bogus"][..],
        &[],
        &["pinwheel", "--against"],
    ] {
        assert!(command(&root(), &args(bad), "usage").is_err(), "{bad:?}");
    }
}
