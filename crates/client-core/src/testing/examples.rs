//! The example oracle: a vendor's own examples, decoded into the generated
//! types and encoded again.
//!
//! `cargo xtask codegen` writes `codegen/examples.json` (every example of
//! the document with the Rust type it belongs to) and a test that calls
//! [`Oracle::check`] once per example. An example passes when it decodes
//! and its encoding says the same as the example: key order, and a `null`
//! against an absent key, aside; numbers compared by value (`1.50` is
//! `1.5`); date-times compared as instants.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use rust_decimal::Decimal;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde::ser::Serialize;
use serde_json::value::RawValue;

#[derive(Deserialize)]
struct File {
    examples: Vec<Entry>,
    skipped: Vec<Skipped>,
}

#[derive(Deserialize)]
struct Entry {
    pointer: String,
    #[serde(rename = "type")]
    rust_type: String,
    value: Box<RawValue>,
    /// Properties the example leaves out that have a schema default.
    #[serde(default)]
    defaults: BTreeMap<String, Box<RawValue>>,
}

#[derive(Deserialize)]
struct Skipped {
    pointer: String,
    reason: String,
}

/// Checks the examples of one API and reports on them.
pub struct Oracle {
    api: String,
    file: File,
    checked: Vec<bool>,
    decoded: usize,
    round_tripped: usize,
    failures: Vec<String>,
}

impl Oracle {
    /// Reads `examples_json` (the generated `codegen/examples.json`).
    ///
    /// # Panics
    ///
    /// When the file is not what the generator writes.
    #[allow(clippy::expect_used, reason = "a test helper fails by panicking")]
    #[must_use]
    pub fn new(api: &str, examples_json: &str) -> Self {
        let file: File = serde_json::from_str(examples_json)
            .expect("codegen/examples.json is what `cargo xtask codegen` writes");
        Oracle {
            api: api.to_owned(),
            checked: vec![false; file.examples.len()],
            file,
            decoded: 0,
            round_tripped: 0,
            failures: Vec::new(),
        }
    }

    /// Decodes example `index` as `T`, encodes it again and compares.
    pub fn check<T: DeserializeOwned + Serialize>(&mut self, index: usize) {
        let Some(entry) = self.file.examples.get(index) else {
            self.failures.push(format!(
                "example #{index} is not in examples.json: regenerate"
            ));
            return;
        };
        self.checked[index] = true;
        let text = entry.value.get();
        let value = match serde_json::from_str::<T>(text) {
            Ok(value) => value,
            Err(error) => {
                self.failures.push(format!(
                    "{} does not decode as {}: {error}",
                    entry.pointer, entry.rust_type
                ));
                return;
            }
        };
        self.decoded += 1;
        let again = match serde_json::to_string(&value) {
            Ok(again) => again,
            Err(error) => {
                self.failures.push(format!(
                    "{} decodes as {} but does not encode: {error}",
                    entry.pointer, entry.rust_type
                ));
                return;
            }
        };
        let defaults: Result<BTreeMap<&str, Canon>, _> = entry
            .defaults
            .iter()
            .map(|(path, value)| canonical(value.get()).map(|v| (path.as_str(), v)))
            .collect();
        match (canonical(text), canonical(&again), defaults) {
            (Ok(expected), Ok(actual), Ok(defaults)) => {
                match difference(&expected, &actual, "", &defaults) {
                    None => self.round_tripped += 1,
                    Some(diff) => self.failures.push(format!(
                        "{} decodes as {} but comes back different: {diff}",
                        entry.pointer, entry.rust_type
                    )),
                }
            }
            (Err(error), _, _) | (_, Err(error), _) | (_, _, Err(error)) => self
                .failures
                .push(format!("{}: unreadable JSON: {error}", entry.pointer)),
        }
    }

    /// Prints the counts, the skipped examples with their reasons, and the
    /// failures.
    ///
    /// # Panics
    ///
    /// When an example failed or was never checked.
    #[allow(
        clippy::print_stdout,
        clippy::panic,
        reason = "a test helper reports and fails"
    )]
    pub fn finish(mut self) {
        for (index, checked) in self.checked.iter().enumerate() {
            if !checked {
                self.failures.push(format!(
                    "{} was never checked: regenerate",
                    self.file.examples[index].pointer
                ));
            }
        }
        let mut out = format!(
            "example oracle for {}: {} found, {} decoded, {} round-tripped, {} skipped\n",
            self.api,
            self.file.examples.len() + self.file.skipped.len(),
            self.decoded,
            self.round_tripped,
            self.file.skipped.len()
        );
        for skipped in &self.file.skipped {
            let _ = writeln!(out, "  skipped {}: {}", skipped.pointer, skipped.reason);
        }
        for failure in &self.failures {
            let _ = writeln!(out, "  FAILED {failure}");
        }
        println!("{out}");
        if !self.failures.is_empty() {
            panic!("{} example(s) failed:\n{out}", self.failures.len());
        }
    }
}

/// JSON in a form where what does not matter is gone.
#[derive(Debug, PartialEq)]
enum Canon {
    Null,
    Bool(bool),
    Number(String),
    String(String),
    Array(Vec<Canon>),
    Object(BTreeMap<String, Canon>),
}

fn canonical(text: &str) -> Result<Canon, serde_json::Error> {
    let text = text.trim();
    Ok(match text.as_bytes().first() {
        Some(b'{') => {
            let map: BTreeMap<String, Box<RawValue>> = serde_json::from_str(text)?;
            let mut out = BTreeMap::new();
            for (key, value) in map {
                let value = canonical(value.get())?;
                if value != Canon::Null {
                    out.insert(key, value);
                }
            }
            Canon::Object(out)
        }
        Some(b'[') => {
            let items: Vec<Box<RawValue>> = serde_json::from_str(text)?;
            Canon::Array(
                items
                    .iter()
                    .map(|i| canonical(i.get()))
                    .collect::<Result<_, _>>()?,
            )
        }
        Some(b'"') => Canon::String(serde_json::from_str(text)?),
        Some(b't') => Canon::Bool(true),
        Some(b'f') => Canon::Bool(false),
        Some(b'n') | None => Canon::Null,
        Some(_) => Canon::Number(
            Decimal::from_scientific(text)
                .or_else(|_| text.parse::<Decimal>())
                .map_or_else(|_| text.to_owned(), |d| d.normalize().to_string()),
        ),
    })
}

/// Two strings that name the same instant in RFC 3339 (`Z` or `+00:00`,
/// with or without fractions of a second).
fn same_instant(a: &str, b: &str) -> bool {
    match (
        chrono::DateTime::parse_from_rfc3339(a),
        chrono::DateTime::parse_from_rfc3339(b),
    ) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// Where `expected` and `actual` first differ. A key only `actual` has is
/// no difference when it holds the schema's default for that place.
fn difference(
    expected: &Canon,
    actual: &Canon,
    path: &str,
    defaults: &BTreeMap<&str, Canon>,
) -> Option<String> {
    match (expected, actual) {
        (Canon::Object(a), Canon::Object(b)) => {
            for (key, value) in a {
                let here = format!("{path}/{key}");
                match b.get(key) {
                    Some(other) => {
                        if let Some(diff) = difference(value, other, &here, defaults) {
                            return Some(diff);
                        }
                    }
                    None => return Some(format!("{here} was dropped")),
                }
            }
            b.iter()
                .find(|(k, v)| {
                    let here = format!("{path}/{k}");
                    !a.contains_key(*k) && defaults.get(here.as_str()) != Some(*v)
                })
                .map(|(k, _)| format!("{path}/{k} was added"))
        }
        (Canon::Array(a), Canon::Array(b)) => {
            if a.len() != b.len() {
                return Some(format!("{path}: {} items became {}", a.len(), b.len()));
            }
            a.iter()
                .zip(b)
                .enumerate()
                .find_map(|(i, (x, y))| difference(x, y, &format!("{path}/{i}"), defaults))
        }
        (Canon::String(a), Canon::String(b)) if same_instant(a, b) => None,
        (a, b) if a == b => None,
        (a, b) => Some(format!("{path}: {a:?} became {b:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_json_ignores_order_nulls_and_number_spelling() {
        let a = canonical(r#"{"b": [1.50, 2e1], "a": null, "c": "x"}"#).unwrap();
        let b = canonical(r#"{"c": "x", "b": [1.5, 20]}"#).unwrap();
        let none = BTreeMap::new();
        assert_eq!(difference(&a, &b, "", &none), None);
        let c = canonical(r#"{"c": "y", "b": [1.5, 20]}"#).unwrap();
        assert_eq!(
            difference(&a, &c, "", &none).unwrap(),
            r#"/c: String("x") became String("y")"#
        );
        let d = canonical(r#"{"b": [1.5]}"#).unwrap();
        assert!(
            difference(&a, &d, "", &none)
                .unwrap()
                .contains("/b: 2 items became 1")
        );
        let with_default = canonical(r#"{"c": "x", "b": [1.5, 20], "lang": "en"}"#).unwrap();
        assert_eq!(
            difference(&a, &with_default, "", &none).unwrap(),
            "/lang was added"
        );
        let defaults = BTreeMap::from([("/lang", Canon::String("en".into()))]);
        assert_eq!(difference(&a, &with_default, "", &defaults), None);
        assert!(same_instant(
            "2021-01-01T00:00:00.000000+00:00",
            "2021-01-01T00:00:00Z"
        ));
        assert!(!same_instant(
            "2021-01-01T00:00:00Z",
            "2021-01-01T00:00:01Z"
        ));
    }

    #[derive(serde::Deserialize, serde::Serialize)]
    struct Lossy {
        a: u8,
    }

    #[test]
    fn a_dropped_field_and_an_undecodable_example_fail() {
        let file = r#"{"examples": [
            {"pointer": "/ok", "type": "Lossy", "value": {"a": 1}},
            {"pointer": "/dropped", "type": "Lossy", "value": {"a": 1, "b": 2}},
            {"pointer": "/bad", "type": "Lossy", "value": {"a": "x"}}
        ], "skipped": []}"#;
        let mut oracle = Oracle::new("t", file);
        oracle.check::<Lossy>(0);
        oracle.check::<Lossy>(1);
        oracle.check::<Lossy>(2);
        assert_eq!((oracle.decoded, oracle.round_tripped), (2, 1));
        assert!(
            oracle.failures[0].contains("/b was dropped"),
            "{:?}",
            oracle.failures
        );
        assert!(
            oracle.failures[1].contains("does not decode"),
            "{:?}",
            oracle.failures
        );
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| oracle.finish()));
        assert!(result.is_err(), "failures fail the test");
    }
}
