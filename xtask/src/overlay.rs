//! OpenAPI Overlay 1.0 (<https://spec.openapis.org/overlay/v1.0.0.html>).
//!
//! An overlay holds every fix a vendor document needs, so the vendor's bytes
//! stay pinned and untouched. Targets are RFC 9535 JSONPath expressions. An
//! action whose target matches nothing is an error: after a vendor update it
//! means a fix silently stopped applying, which a reviewer must see.
//!
//! Merge rules for `update` (the 1.0 text leaves nested values open): objects
//! merge recursively, arrays are concatenated, anything else is replaced. On an
//! array target, `update` is appended as one element.

use anyhow::{Context, Result, bail};
use serde::Deserialize;
use serde_json::Value;
use serde_json_path::JsonPath;

use crate::report::Report;

/// An overlay document.
#[derive(Debug, Clone, Deserialize)]
pub struct Overlay {
    /// The Overlay version; 1.0.x is supported.
    pub overlay: String,
    /// Title and version of the overlay itself.
    pub info: Info,
    /// The actions, applied in order.
    pub actions: Vec<Action>,
}

/// `info` of an overlay.
#[derive(Debug, Clone, Deserialize)]
pub struct Info {
    /// Title.
    pub title: String,
    /// Version of the overlay document.
    pub version: String,
}

/// One action.
#[derive(Debug, Clone, Deserialize)]
pub struct Action {
    /// RFC 9535 JSONPath selecting the nodes to change.
    pub target: String,
    /// Why the action exists.
    #[serde(default)]
    pub description: Option<String>,
    /// Value merged into each target.
    #[serde(default)]
    pub update: Option<Value>,
    /// Remove the targets.
    #[serde(default)]
    pub remove: bool,
}

impl Overlay {
    /// Parses an overlay from an already-parsed JSON/YAML value.
    pub fn from_value(value: Value) -> Result<Self> {
        let overlay: Self =
            serde_path_to_error::deserialize(value).context("not an Overlay 1.0 document")?;
        if !overlay.overlay.starts_with("1.0") {
            bail!(
                "overlay version {} is not supported (expected 1.0.x)",
                overlay.overlay
            );
        }
        Ok(overlay)
    }

    /// Applies every action to `doc` in order, recording each change in `report`.
    pub fn apply(&self, doc: &mut Value, report: &mut Report) -> Result<()> {
        report.push(
            "overlay",
            "overlay/applied",
            "",
            format!(
                "overlay \"{}\" version {} with {} action(s)",
                self.info.title,
                self.info.version,
                self.actions.len()
            ),
        );
        for (index, action) in self.actions.iter().enumerate() {
            action
                .apply(doc, report)
                .with_context(|| format!("overlay action #{index} (target `{}`)", action.target))?;
        }
        Ok(())
    }
}

impl Action {
    fn apply(&self, doc: &mut Value, report: &mut Report) -> Result<()> {
        let path =
            JsonPath::parse(&self.target).context("target is not a valid RFC 9535 JSONPath")?;
        let pointers: Vec<String> = path
            .query_located(doc)
            .locations()
            .map(|location| location.to_json_pointer())
            .collect();
        if pointers.is_empty() {
            bail!(
                "the target matches nothing in the document. After a vendor update this means the fix \
                 no longer applies: check whether the vendor fixed it (then delete the action) or moved it \
                 (then change the target)."
            );
        }
        let why = self.description.as_deref().unwrap_or("no description");
        match (&self.update, self.remove) {
            (Some(_), true) => bail!("an action has either `update` or `remove: true`, not both"),
            (None, false) => bail!("an action needs `update` or `remove: true`"),
            (None, true) => {
                // Remove deepest and last first so earlier pointers stay valid.
                let mut sorted = pointers;
                sorted.sort_by(|a, b| compare_pointers(b, a));
                for pointer in sorted {
                    remove_at(doc, &pointer)?;
                    report.push(
                        "overlay",
                        "overlay/remove",
                        pointer,
                        format!("removed ({why})"),
                    );
                }
            }
            (Some(update), false) => {
                for pointer in pointers {
                    let target = doc
                        .pointer_mut(&pointer)
                        .with_context(|| format!("{pointer} vanished while applying"))?;
                    match target {
                        Value::Array(items) => items.push(update.clone()),
                        Value::Object(_) => {
                            if !update.is_object() {
                                bail!("{pointer} is an object, so `update` must be an object");
                            }
                            merge(target, update.clone());
                        }
                        _ => {
                            bail!("{pointer} is neither an object nor an array; target its parent")
                        }
                    }
                    report.push(
                        "overlay",
                        "overlay/update",
                        pointer,
                        format!("updated ({why})"),
                    );
                }
            }
        }
        Ok(())
    }
}

/// Orders JSON pointers so that array indices compare numerically.
fn compare_pointers(a: &str, b: &str) -> std::cmp::Ordering {
    let tokens = |p: &str| -> Vec<String> { p.split('/').map(str::to_owned).collect() };
    let (a, b) = (tokens(a), tokens(b));
    for (x, y) in a.iter().zip(&b) {
        let order = match (x.parse::<usize>(), y.parse::<usize>()) {
            (Ok(x), Ok(y)) => x.cmp(&y),
            _ => x.cmp(y),
        };
        if order.is_ne() {
            return order;
        }
    }
    a.len().cmp(&b.len())
}

fn remove_at(doc: &mut Value, pointer: &str) -> Result<()> {
    let (parent, last) = pointer
        .rsplit_once('/')
        .context("the document root cannot be removed")?;
    let key = last.replace("~1", "/").replace("~0", "~");
    match doc.pointer_mut(parent) {
        Some(Value::Object(map)) => {
            map.shift_remove(&key);
        }
        Some(Value::Array(items)) => {
            let index: usize = key
                .parse()
                .with_context(|| format!("bad array index in {pointer}"))?;
            if index < items.len() {
                items.remove(index);
            }
        }
        _ => bail!("parent of {pointer} is not a container"),
    }
    Ok(())
}

/// Deep merge: objects recursively, arrays concatenated, scalars replaced.
pub fn merge(target: &mut Value, update: Value) {
    match (target, update) {
        (Value::Object(target), Value::Object(update)) => {
            for (key, value) in update {
                match target.get_mut(&key) {
                    Some(existing) => merge(existing, value),
                    None => {
                        target.insert(key, value);
                    }
                }
            }
        }
        (Value::Array(target), Value::Array(update)) => target.extend(update),
        (target, update) => *target = update,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn overlay(actions: Value) -> Overlay {
        Overlay::from_value(
            json!({"overlay": "1.0.0", "info": {"title": "t", "version": "1"}, "actions": actions}),
        )
        .unwrap()
    }

    #[test]
    fn update_merges_deeply_and_concatenates_arrays() {
        let mut doc = json!({"paths": {"/a": {"get": {"tags": ["x"], "responses": {"200": {"description": "ok"}}}}}});
        let mut report = Report::default();
        overlay(json!([{"target": "$.paths.*.get", "update": {"tags": ["y"], "responses": {"4XX": {"description": "err"}}}}]))
            .apply(&mut doc, &mut report)
            .unwrap();
        assert_eq!(
            doc,
            json!({"paths": {"/a": {"get": {"tags": ["x", "y"], "responses": {"200": {"description": "ok"}, "4XX": {"description": "err"}}}}}})
        );
        assert_eq!(report.entries.len(), 2);
        assert_eq!(report.entries[1].pointer, "/paths/~1a/get");
    }

    #[test]
    fn remove_deletes_every_match_including_array_elements() {
        let mut doc = json!({"tags": ["a", "b", "a", "c"], "x": {"maximum": true, "keep": 1}});
        let mut report = Report::default();
        overlay(json!([
            {"target": "$.tags[?@ == 'a']", "remove": true},
            {"target": "$.x.maximum", "remove": true}
        ]))
        .apply(&mut doc, &mut report)
        .unwrap();
        assert_eq!(doc, json!({"tags": ["b", "c"], "x": {"keep": 1}}));
    }

    #[test]
    fn an_action_that_matches_nothing_is_an_error() {
        let mut doc = json!({"a": 1});
        let err = overlay(json!([{"target": "$.b", "remove": true}]))
            .apply(&mut doc, &mut Report::default())
            .unwrap_err();
        assert!(format!("{err:#}").contains("matches nothing"), "{err:#}");
    }

    #[test]
    fn update_on_an_array_appends_one_element() {
        let mut doc = json!({"servers": [{"url": "a"}]});
        overlay(json!([{"target": "$.servers", "update": {"url": "b"}}]))
            .apply(&mut doc, &mut Report::default())
            .unwrap();
        assert_eq!(doc, json!({"servers": [{"url": "a"}, {"url": "b"}]}));
    }
}
