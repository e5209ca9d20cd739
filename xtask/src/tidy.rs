//! Conventions prose cannot enforce, checked over every tracked file: the
//! repository stands alone (every file path it cites exists, and nothing
//! points outside it).

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::process::Command;

    /// Every tracked text file, relative to the workspace root, except this
    /// one (which names what it looks for).
    fn tracked(root: &Path) -> Vec<String> {
        let output = Command::new("git")
            .args(["ls-files", "-z"])
            .current_dir(root)
            .output()
            .expect("git ls-files");
        String::from_utf8_lossy(&output.stdout)
            .split('\0')
            .filter(|path| !path.is_empty() && *path != "xtask/src/tidy.rs")
            .filter(|path| {
                [".rs", ".md", ".toml", ".yaml", ".yml", ".json", ".txt"]
                    .iter()
                    .any(|ext| path.ends_with(ext))
            })
            .map(str::to_owned)
            .collect()
    }

    /// Paths like `specs/pensionpro/evidence/FACTS.md` in `text`.
    fn cited_paths(text: &str) -> Vec<String> {
        let mut found = Vec::new();
        for start in ["specs/", "crates/", "xtask/"] {
            let mut rest = text;
            while let Some(at) = rest.find(start) {
                let before = rest[..at].chars().next_back();
                let tail = &rest[at..];
                let end = tail
                    .find(|c: char| !(c.is_ascii_alphanumeric() || "_./-".contains(c)))
                    .unwrap_or(tail.len());
                let path = tail[..end].trim_end_matches(['.', '/']);
                // A path only when it starts a word and names a file.
                let starts_word =
                    before.is_none_or(|c| !(c.is_ascii_alphanumeric() || "_/.-".contains(c)));
                let is_file = path
                    .rsplit('/')
                    .next()
                    .is_some_and(|name| name.contains('.'));
                if starts_word && is_file && !path.contains("..") {
                    found.push(path.to_owned());
                }
                rest = &tail[end.max(1)..];
            }
        }
        found
    }

    #[test]
    fn every_cited_file_exists_and_nothing_points_outside_the_repository() {
        let root = crate::workspace_root();
        let mut missing = Vec::new();
        let mut outside = Vec::new();
        for file in tracked(&root) {
            let Ok(text) = std::fs::read_to_string(root.join(&file)) else {
                continue;
            };
            if text.contains("../shared") || text.contains("shared/reference") {
                outside.push(file.clone());
            }
            // In Rust files only comments and docs cite files; string
            // literals in tests name scratch files of their own.
            let prose: String = if file.ends_with(".rs") {
                text.lines()
                    .filter(|line| line.trim_start().starts_with("//"))
                    .collect::<Vec<_>>()
                    .join("\n")
            } else {
                text.clone()
            };
            for path in cited_paths(&prose) {
                // Placeholders in templates and examples, not real files.
                if path.contains('<') || path.contains('*') || path.contains("example.") {
                    continue;
                }
                if !root.join(&path).exists() {
                    missing.push(format!("{file}: {path}"));
                }
            }
        }
        assert!(
            outside.is_empty(),
            "files pointing outside the repository: {outside:?}"
        );
        assert!(
            missing.is_empty(),
            "cited files that do not exist:\n{}",
            missing.join("\n")
        );
    }

    #[test]
    fn the_dossier_is_cited_by_its_place_in_the_repository() {
        // A bare `FACTS.md` left the reader guessing where the file is.
        let root = crate::workspace_root();
        let mut bare = Vec::new();
        for file in tracked(&root) {
            if file.starts_with("specs/pensionpro/evidence/") {
                continue;
            }
            let Ok(text) = std::fs::read_to_string(root.join(&file)) else {
                continue;
            };
            for name in ["FACTS.md", "ENDPOINTS.md", "ENTITIES.md"] {
                let mut rest = text.as_str();
                while let Some(at) = rest.find(name) {
                    if !rest[..at].ends_with("evidence/") {
                        bare.push(format!("{file}: {name}"));
                    }
                    rest = &rest[at + name.len()..];
                }
            }
        }
        bare.dedup();
        assert!(bare.is_empty(), "{}", bare.join("\n"));
    }

    #[test]
    fn cited_paths_are_found() {
        assert_eq!(
            cited_paths(
                "see specs/pensionpro/evidence/FACTS.md section 8, and `crates/a/src/b.rs`."
            ),
            ["specs/pensionpro/evidence/FACTS.md", "crates/a/src/b.rs"]
        );
        assert!(cited_paths("the crates/ directory, xcrates/x.rs").is_empty());
    }
}
