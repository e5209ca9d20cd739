//! Conventions prose cannot enforce, checked over every tracked file: the
//! repository stands alone (every file path it cites exists, and nothing
//! points outside it), and the modules of a handwritten crate form layers
//! (no module reaches back to one that depends on it).

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};
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
            // The needles are assembled so that this file does not itself
            // name the directory outside the repository it looks for.
            let parent_shared = ["..", "shared"].join("/");
            let shared_reference = ["shared", "reference"].join("/");
            if text.contains(&parent_shared) || text.contains(&shared_reference) {
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

    /// The top-level module a source file belongs to (`None` for the root).
    fn module_of(src: &Path, file: &Path) -> Option<String> {
        let relative = file.strip_prefix(src).ok()?;
        let first = relative.components().next()?.as_os_str().to_str()?;
        let name = first.strip_suffix(".rs").unwrap_or(first);
        (name != "lib" && name != "main").then(|| name.to_owned())
    }

    /// The code of a Rust file without comments and docs (links in docs are
    /// not dependencies).
    fn code_of(text: &str) -> String {
        text.lines()
            .map(|line| match line.find("//") {
                Some(at) => &line[..at],
                None => line,
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// The names `crate::{a, b::c}` or `crate::a` reaches, first segments only.
    fn crate_paths(code: &str) -> Vec<String> {
        let mut found = Vec::new();
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            let before = rest[..at].chars().next_back();
            let tail = &rest[at + "crate::".len()..];
            rest = tail;
            if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
                continue;
            }
            if let Some(group) = tail.strip_prefix('{') {
                // Top-level items of the group.
                let mut depth = 0;
                let mut item = String::new();
                for c in group.chars() {
                    match c {
                        '{' => depth += 1,
                        '}' if depth == 0 => break,
                        '}' => depth -= 1,
                        ',' if depth == 0 => {
                            found.push(first_segment(&item));
                            item.clear();
                            continue;
                        }
                        _ => {}
                    }
                    item.push(c);
                }
                found.push(first_segment(&item));
            } else {
                found.push(first_segment(tail));
            }
        }
        found.retain(|name| !name.is_empty() && name != "self");
        found
    }

    fn first_segment(text: &str) -> String {
        text.trim()
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    }

    /// Module -> modules it uses, for the crate at `src`; names re-exported
    /// at the root (`crate::Client`) count as the module they come from.
    fn module_graph(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
        let lib = std::fs::read_to_string(src.join("lib.rs")).expect("lib.rs");
        let lib_code = code_of(&lib);
        let modules: BTreeSet<String> = lib_code
            .lines()
            .filter_map(|line| {
                let line = line.trim();
                let line = line.strip_prefix("pub ").unwrap_or(line);
                line.strip_prefix("mod ")?
                    .strip_suffix(';')
                    .map(str::to_owned)
            })
            .collect();
        let mut reexports = BTreeMap::new();
        for statement in lib_code.split(';') {
            let statement = statement.trim();
            let Some(path) = statement.strip_prefix("pub use ") else {
                continue;
            };
            let module = first_segment(path);
            if !modules.contains(&module) {
                continue;
            }
            let names = path[module.len()..].trim_start_matches("::");
            let names = names.trim_start_matches('{').trim_end_matches('}');
            for name in names.split(',') {
                let name = name.trim().rsplit("::").next().unwrap_or("").trim();
                let name = name.rsplit(" as ").next().unwrap_or(name).trim();
                if !name.is_empty() {
                    reexports.insert(name.to_owned(), module.clone());
                }
            }
        }
        let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let mut files = vec![src.to_path_buf()];
        while let Some(path) = files.pop() {
            if path.is_dir() {
                for entry in std::fs::read_dir(&path).expect("read_dir").flatten() {
                    files.push(entry.path());
                }
                continue;
            }
            if path.extension().is_none_or(|ext| ext != "rs") {
                continue;
            }
            let Some(module) = module_of(src, &path) else {
                continue;
            };
            let text = std::fs::read_to_string(&path).expect("source");
            let uses = graph.entry(module.clone()).or_default();
            for name in crate_paths(&code_of(&text)) {
                let target = if modules.contains(&name) {
                    Some(name)
                } else {
                    reexports.get(&name).cloned()
                };
                if let Some(target) = target.filter(|t| *t != module) {
                    uses.insert(target);
                }
            }
        }
        graph
    }

    /// A cycle in `graph`, as the modules along it, if there is one.
    fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
        fn visit(
            node: &str,
            graph: &BTreeMap<String, BTreeSet<String>>,
            path: &mut Vec<String>,
            done: &mut BTreeSet<String>,
        ) -> Option<Vec<String>> {
            if let Some(at) = path.iter().position(|n| n == node) {
                let mut cycle = path[at..].to_vec();
                cycle.push(node.to_owned());
                return Some(cycle);
            }
            if done.contains(node) {
                return None;
            }
            path.push(node.to_owned());
            for next in graph.get(node).into_iter().flatten() {
                if let Some(cycle) = visit(next, graph, path, done) {
                    return Some(cycle);
                }
            }
            path.pop();
            done.insert(node.to_owned());
            None
        }
        let mut done = BTreeSet::new();
        graph
            .keys()
            .find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
    }

    #[test]
    fn the_modules_of_each_handwritten_crate_form_layers() {
        let root = crate::workspace_root();
        for krate in ["client-core", "pinwheel", "pensionpro"] {
            let graph = module_graph(&root.join("crates").join(krate).join("src"));
            assert!(graph.len() > 3, "{krate}: {graph:?}");
            if let Some(cycle) = find_cycle(&graph) {
                panic!("{krate}: modules import each other: {}", cycle.join(" -> "));
            }
        }
    }

    #[test]
    fn the_layer_check_sees_groups_reexports_and_cycles() {
        assert_eq!(
            crate_paths("use crate::{a::B, c, d::{e, f}};\nlet x = crate::g::h();"),
            ["a", "c", "d", "g"]
        );
        // Docs and comments do not count.
        assert!(crate_paths(&code_of("/// [`crate::a`]\n// crate::b")).is_empty());
        let dir = std::env::temp_dir().join(format!("layers-{}", std::process::id()));
        let src = dir.join("src");
        std::fs::create_dir_all(src.join("b")).unwrap();
        std::fs::write(
            src.join("lib.rs"),
            "pub mod a;\npub mod b;\npub use a::Thing;\n",
        )
        .unwrap();
        std::fs::write(
            src.join("a.rs"),
            "use crate::b::Other;\npub struct Thing;\n",
        )
        .unwrap();
        std::fs::write(src.join("b.rs"), "mod inner;\n").unwrap();
        std::fs::write(src.join("b").join("inner.rs"), "use crate::Thing;\n").unwrap();
        let graph = module_graph(&src);
        let cycle = find_cycle(&graph);
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(
            cycle.map(|c| c.join(" -> ")).as_deref(),
            Some("a -> b -> a")
        );
    }
}
