//! `cargo xtask fetch <api>`: download a vendor document and re-pin it.
//!
//! The download replaces the pinned file and updates `sha256` and
//! `api_version` in SOURCE.toml (comments and layout kept). Nothing else runs
//! online: codegen and its drift check work only from pinned files.

use std::path::Path;

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::document::{parse, sha256_hex};
use crate::source::Api;

/// What a fetch changed.
#[derive(Debug)]
pub struct Fetched {
    /// sha256 of the new document.
    pub sha256: String,
    /// `info.version` of the new document.
    pub api_version: String,
    /// Whether the bytes differ from the pinned ones.
    pub changed: bool,
}

/// Downloads `url` (or SOURCE.toml's URL) into the spec folder of `api` below `root`.
pub fn fetch(root: &Path, name: &str, url: Option<&str>) -> Result<Fetched> {
    let api = Api::load(root, name)?;
    let url = url.unwrap_or(&api.source.upstream.url).to_owned();
    let bytes = download(&url)?;
    pin(&api, &bytes, &url)
}

/// The body of a successful GET of `url`.
pub fn download(url: &str) -> Result<Vec<u8>> {
    let mut builder = reqwest::blocking::Client::builder()
        .timeout(std::time::Duration::from_secs(60))
        .user_agent(concat!("payroll-apis-xtask/", env!("CARGO_PKG_VERSION")));
    // Loopback never goes through a proxy, whatever HTTP_PROXY says.
    let loopback = reqwest::Url::parse(url).ok().is_some_and(|u| {
        matches!(
            u.host_str(),
            Some("127.0.0.1" | "localhost" | "[::1]" | "::1")
        )
    });
    if loopback {
        builder = builder.no_proxy();
    }
    let response = builder
        .build()?
        .get(url)
        .send()
        .with_context(|| format!("downloading {url}"))?;
    let status = response.status();
    if !status.is_success() {
        bail!("downloading {url}: the server answered {status}");
    }
    let bytes = response
        .bytes()
        .with_context(|| format!("reading the body of {url}"))?;
    Ok(bytes.to_vec())
}

/// Makes `bytes` (a vendor document read from `origin`) the pinned document
/// of `api`: writes the file and updates `sha256` and `api_version` in
/// SOURCE.toml. Refuses anything that is not an OpenAPI document.
pub fn pin(api: &Api, bytes: &[u8], origin: &str) -> Result<Fetched> {
    let url = origin;
    let doc: Value = parse(bytes, Path::new(url))
        .with_context(|| format!("{url} did not return a JSON or YAML document"))?;
    if doc.get("openapi").is_none() && doc.get("swagger").is_none() {
        bail!("{url} returned JSON/YAML that is not an OpenAPI document (no `openapi` field)");
    }
    let api_version = doc
        .pointer("/info/version")
        .and_then(Value::as_str)
        .unwrap_or(&api.source.upstream.api_version)
        .to_owned();
    let sha256 = sha256_hex(bytes);
    let changed = sha256 != api.source.upstream.sha256;

    std::fs::write(api.document_path(), bytes)
        .with_context(|| format!("writing {}", api.document_path().display()))?;
    let source_path = api.dir.join("SOURCE.toml");
    let mut source: toml_edit::DocumentMut = std::fs::read_to_string(&source_path)?.parse()?;
    source["upstream"]["sha256"] = toml_edit::value(sha256.clone());
    source["upstream"]["api_version"] = toml_edit::value(api_version.clone());
    std::fs::write(&source_path, source.to_string())?;
    Ok(Fetched {
        sha256,
        api_version,
        changed,
    })
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::TcpListener;

    use super::*;

    /// Serves one HTTP response on loopback and returns the URL.
    fn serve_once(status: &'static str, body: &'static str) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/openapi.json", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let mut buffer = [0u8; 4096];
            let _ = stream.read(&mut buffer);
            let response = format!(
                "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            stream.write_all(response.as_bytes()).unwrap();
        });
        url
    }

    fn spec_folder() -> tempfile::TempDir {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("specs/demo");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("doc.json"), "{}").unwrap();
        std::fs::write(
            dir.join("SOURCE.toml"),
            "# kept comment\n[upstream]\nurl = \"https://example.invalid/openapi.json\"\ndocument = \"doc.json\"\nsha256 = \"x\"\napi_version = \"1\"\n",
        )
        .unwrap();
        root
    }

    #[test]
    fn fetch_replaces_the_document_and_repins_it() {
        let root = spec_folder();
        let body =
            r#"{"openapi": "3.0.3", "info": {"title": "Demo", "version": "2.0"}, "paths": {}}"#;
        let fetched = fetch(root.path(), "demo", Some(&serve_once("200 OK", body))).unwrap();
        assert!(fetched.changed);
        assert_eq!(fetched.api_version, "2.0");
        let dir = root.path().join("specs/demo");
        assert_eq!(std::fs::read_to_string(dir.join("doc.json")).unwrap(), body);
        let source = std::fs::read_to_string(dir.join("SOURCE.toml")).unwrap();
        assert!(source.starts_with("# kept comment"), "{source}");
        assert!(
            source.contains(&format!("sha256 = \"{}\"", sha256_hex(body.as_bytes()))),
            "{source}"
        );
        assert!(source.contains("api_version = \"2.0\""), "{source}");
    }

    #[test]
    fn fetch_refuses_errors_and_non_openapi_bodies() {
        let root = spec_folder();
        let err = fetch(
            root.path(),
            "demo",
            Some(&serve_once("503 Service Unavailable", "{}")),
        )
        .unwrap_err();
        assert!(err.to_string().contains("503"), "{err}");
        let err = fetch(
            root.path(),
            "demo",
            Some(&serve_once("200 OK", r#"{"hello": 1}"#)),
        )
        .unwrap_err();
        assert!(err.to_string().contains("not an OpenAPI document"), "{err}");
        // The pinned file was not touched by the failed fetches.
        assert_eq!(
            std::fs::read_to_string(root.path().join("specs/demo/doc.json")).unwrap(),
            "{}"
        );
    }
}
