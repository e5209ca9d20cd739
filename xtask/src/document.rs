//! Loading documents: bytes -> sha256 check -> `serde_json::Value`.
//!
//! Every later stage works on a `serde_json::Value` (with key order preserved),
//! because real vendor documents are often not valid input for a typed OpenAPI
//! model until they have been overlaid and normalised.

use std::path::Path;

use anyhow::{Context, Result, bail};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Lower-case hex sha256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Reads `path`, checks its sha256 against `expected` (when given) and parses it.
pub fn load_pinned(path: &Path, expected: &str) -> Result<(Value, String)> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let actual = sha256_hex(&bytes);
    if !actual.eq_ignore_ascii_case(expected) {
        bail!(
            "{} has sha256 {actual}, but SOURCE.toml pins {expected}.\n\
             The vendor document is never edited by hand: put fixes in the overlay. If the vendor \
             published a new version, run `cargo xtask fetch <api>` (or update `sha256` in SOURCE.toml \
             after replacing the file), then `cargo xtask codegen <api>`.",
            path.display()
        );
    }
    let value = parse(&bytes, path)?;
    Ok((value, actual))
}

/// Parses JSON or YAML (YAML is a superset, but JSON is tried first for its error messages).
pub fn parse(bytes: &[u8], origin: &Path) -> Result<Value> {
    let looks_like_json = bytes
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| *b == b'{');
    if looks_like_json {
        return serde_json::from_slice(bytes)
            .with_context(|| format!("{} is not valid JSON", origin.display()));
    }
    let yaml: serde_yaml_ng::Value = serde_yaml_ng::from_slice(bytes)
        .with_context(|| format!("{} is not valid YAML", origin.display()))?;
    yaml_to_json(yaml, "").with_context(|| format!("converting {} to JSON", origin.display()))
}

/// YAML allows non-string keys (`200:`) and values JSON cannot hold; OpenAPI
/// means strings, so scalar keys are written as their text.
fn yaml_to_json(yaml: serde_yaml_ng::Value, pointer: &str) -> Result<Value> {
    use serde_yaml_ng::Value as Y;
    Ok(match yaml {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::from(i)
            } else if let Some(u) = n.as_u64() {
                Value::from(u)
            } else {
                // YAML floats come as text; keep them as the JSON number they spell.
                let text = n.to_string();
                serde_json::from_str(&text)
                    .with_context(|| format!("{pointer}: number `{text}` has no JSON form"))?
            }
        }
        Y::String(s) => Value::String(s),
        Y::Sequence(items) => Value::Array(
            items
                .into_iter()
                .enumerate()
                .map(|(i, item)| yaml_to_json(item, &format!("{pointer}/{i}")))
                .collect::<Result<_>>()?,
        ),
        Y::Mapping(map) => {
            let mut out = serde_json::Map::new();
            for (key, value) in map {
                let key = match key {
                    Y::String(s) => s,
                    Y::Number(n) => n.to_string(),
                    Y::Bool(b) => b.to_string(),
                    Y::Null => "null".to_owned(),
                    other => bail!("{pointer}: unsupported mapping key {other:?}"),
                };
                let child = format!("{pointer}/{}", escape_pointer(&key));
                out.insert(key, yaml_to_json(value, &child)?);
            }
            Value::Object(out)
        }
        Y::Tagged(tagged) => yaml_to_json(tagged.value, pointer)?,
    })
}

/// Escapes one JSON-pointer reference token (RFC 6901).
pub fn escape_pointer(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// Serialises a document the way it is written to disk: pretty, two spaces, trailing newline.
pub fn to_pretty_json(value: &Value) -> Result<String> {
    let mut text = serde_json::to_string_pretty(value)?;
    text.push('\n');
    Ok(text)
}

/// The value a chain of local `$ref`s ends at (`value` itself when it has
/// none; a chain that loops or leaves the document stops where it is).
pub fn follow_refs<'a>(doc: &'a Value, value: &'a Value) -> &'a Value {
    let mut value = value;
    for _ in 0..32 {
        match value
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix('#'))
            .and_then(|p| doc.pointer(p))
        {
            Some(target) => value = target,
            None => break,
        }
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_integer_keys_become_strings_and_order_is_kept() {
        let doc = parse(
            b"responses:\n  200: {description: ok}\n  '404': {description: nope}\n",
            Path::new("t.yaml"),
        )
        .unwrap();
        let keys: Vec<_> = doc["responses"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        assert_eq!(keys, ["200", "404"]);
    }

    #[test]
    fn sha_mismatch_is_an_error_naming_the_way_out() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("doc.json");
        std::fs::write(&path, b"{}").unwrap();
        let err = load_pinned(&path, "00").unwrap_err().to_string();
        assert!(err.contains("cargo xtask fetch"), "{err}");
        let ok = load_pinned(&path, &sha256_hex(b"{}")).unwrap();
        assert_eq!(ok.0, serde_json::json!({}));
    }
}
