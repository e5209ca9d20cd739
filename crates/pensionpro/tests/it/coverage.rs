//! Every operation of the evidence list is in the generated client, and no
//! other: an operation cannot silently disappear when the document or the
//! generator changes.

use std::collections::BTreeSet;

#[test]
fn generated_operations_match_the_expected_list() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../specs/pensionpro/operations.expected.txt"
    );
    let text = std::fs::read_to_string(path).unwrap();
    let expected: BTreeSet<String> = text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(str::to_owned)
        .collect();
    let generated: BTreeSet<String> = pensionpro_client::OPERATIONS
        .all()
        .iter()
        .map(|op| format!("{} {}", op.method, op.path))
        .collect();
    let missing: Vec<_> = expected.difference(&generated).collect();
    let extra: Vec<_> = generated.difference(&expected).collect();
    assert!(
        missing.is_empty(),
        "operations missing from the client: {missing:#?}"
    );
    assert!(
        extra.is_empty(),
        "operations not in the expected list: {extra:#?}"
    );
    assert_eq!(expected.len(), 105);
    assert_eq!(pensionpro_client::OPERATIONS.all().len(), 105);
}

#[test]
fn pii_categories_are_where_the_evidence_puts_them() {
    let category = |id: &str| {
        pensionpro_client::OPERATIONS
            .get(id)
            .extension("x-pii-category")
    };
    assert_eq!(category("list_notes_for_plan"), Some("Notes"));
    assert_eq!(category("create_project_file"), Some("Files"));
    assert_eq!(category("list_to_dos"), Some("To-Dos"));
    assert_eq!(category("list_employees"), Some("Employees"));
    assert_eq!(category("list_plans"), None);
}
