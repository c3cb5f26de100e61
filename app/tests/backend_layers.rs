//! The backend's modules must not import each other in a circle: each capability can then
//! be read, tested and changed from its own folder down. This reads the sources (tests
//! excluded) and fails naming the modules of any cycle between `backend/` modules.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// The top-level modules of `backend/`: a file `x.rs` or a folder `x/`, with all its files.
fn modules(backend: &Path) -> BTreeMap<String, Vec<PathBuf>> {
    let mut mods = BTreeMap::new();
    for entry in fs::read_dir(backend).expect("backend folder") {
        let path = entry.expect("entry").path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        // `entity` holds the tables only: everything may use it, it uses nothing.
        if name == "mod" || name == "entity" {
            continue;
        }
        if path.is_dir() {
            let mut files = Vec::new();
            collect(&path, &mut files);
            mods.insert(name, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            mods.insert(name, vec![path]);
        }
    }
    mods
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("folder") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The names a file's code reaches through `prefix` (`crate::backend::` anywhere, or
/// `super::` in a file that sits directly in `backend/`), including `prefix{a, b::c}`.
fn reached(code: &str, prefix: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for (i, _) in code.match_indices(prefix) {
        let rest = &code[i + prefix.len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // Items at the group's own depth: `{a::{b, c}, d}` reaches `a` and `d`.
            let mut depth = 0;
            let mut item = String::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        names.insert(first_segment(&item));
                        item.clear();
                        continue;
                    }
                    _ => {}
                }
                if depth == 0 {
                    item.push(c);
                }
            }
            names.insert(first_segment(&item));
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            names.insert(name);
        }
    }
    names
}

fn first_segment(item: &str) -> String {
    item.trim()
        .split("::")
        .next()
        .unwrap_or("")
        .trim()
        .to_owned()
}

/// The code of a file without its unit tests (a test may reach anything).
fn without_tests(code: &str) -> &str {
    code.find("#[cfg(test)]\nmod tests")
        .map_or(code, |i| &code[..i])
}

fn graph(backend: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mods = modules(backend);
    mods.iter()
        .map(|(name, files)| {
            let mut deps = BTreeSet::new();
            for file in files {
                let code = fs::read_to_string(file).expect("source");
                let code = without_tests(&code);
                let top = file.parent() == Some(backend)
                    || (file.file_name().is_some_and(|f| f == "mod.rs")
                        && file.parent().and_then(Path::parent) == Some(backend));
                deps.extend(reached(code, "crate::backend::"));
                if top {
                    deps.extend(reached(code, "super::"));
                }
            }
            deps.retain(|d| d != name && mods.contains_key(d));
            (name.clone(), deps)
        })
        .collect()
}

/// Modules on a cycle: those that can reach themselves.
fn on_cycles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<(String, Vec<String>)> {
    let mut found = Vec::new();
    for start in graph.keys() {
        let mut seen = BTreeSet::new();
        let mut stack: Vec<&String> = graph[start].iter().collect();
        while let Some(m) = stack.pop() {
            if seen.insert(m.clone()) {
                stack.extend(graph.get(m).into_iter().flatten());
            }
        }
        if seen.contains(start) {
            let back: Vec<String> = graph[start]
                .iter()
                .filter(|d| {
                    // Which of its imports lead back to it.
                    let mut seen = BTreeSet::new();
                    let mut stack = vec![*d];
                    while let Some(m) = stack.pop() {
                        if seen.insert(m.clone()) {
                            stack.extend(graph.get(m).into_iter().flatten());
                        }
                    }
                    seen.contains(start)
                })
                .cloned()
                .collect();
            found.push((start.clone(), back));
        }
    }
    found
}

#[test]
fn backend_modules_import_each_other_in_no_circle() {
    let backend = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/backend");
    let graph = graph(&backend);
    assert!(graph.len() > 20, "found the backend's modules");
    let cycles = on_cycles(&graph);
    assert!(
        cycles.is_empty(),
        "backend modules import each other in a circle (module -> its imports that lead back):\n{}",
        cycles
            .iter()
            .map(|(m, back)| format!("  {m} -> {}", back.join(", ")))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn the_check_sees_a_circle_when_there_is_one() {
    let graph = BTreeMap::from([
        ("a".to_owned(), BTreeSet::from(["b".to_owned()])),
        ("b".to_owned(), BTreeSet::from(["c".to_owned()])),
        ("c".to_owned(), BTreeSet::from(["a".to_owned()])),
        ("d".to_owned(), BTreeSet::from(["a".to_owned()])),
    ]);
    let cycles: Vec<String> = on_cycles(&graph).into_iter().map(|(m, _)| m).collect();
    assert_eq!(cycles, ["a", "b", "c"]);
}

#[test]
fn imports_are_read_through_groups_and_paths() {
    let code =
        "use super::{audit::{self, Event}, mfa, orgs};\nlet x = crate::backend::state::current();";
    assert_eq!(
        reached(code, "super::"),
        BTreeSet::from(["audit".into(), "mfa".into(), "orgs".into()])
    );
    assert_eq!(
        reached(code, "crate::backend::"),
        BTreeSet::from(["state".into()])
    );
}
