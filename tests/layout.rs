//! The source layout (issue 16): the top-level modules of `src/` form layers, and no `crate::`
//! reference may close a cycle between them; few files stand directly in `src/`; every folder
//! says in its `mod.rs` what lives there; a file over 700 lines says at its top why.
//!
//! The graph is read from the sources themselves, so a new `use crate::…` that points upwards
//! fails here, naming the cycle, before anyone has to find it in a review.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const MAX_ROOT_FILES: usize = 8;
/// The layers, lowest first: a module may use only those before it. `error`, `cli` (the clap
/// types) and `creds` (Secret, Keys, Session) are the vocabulary every layer shares.
const LAYERS: [&str; 13] = [
    "error", "cli", "creds", "sys", "config", "keys", "mfa", "aws", "session", "output", "run",
    "cmd", "lib",
];
const LONG_FILE: usize = 700;
/// The words a long file's top must hold, followed by its reason.
const LONG_REASON: &str = "Longer than 700 lines:";

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file belongs to: `src/aws/net/mod.rs` → `aws`, `src/cli.rs` → `cli`.
fn top_module(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap();
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy();
    first.trim_end_matches(".rs").to_owned()
}

/// The top-level modules a source text names through `crate::`: `crate::aws::sts` gives `aws`,
/// and `crate::{config::limits, mfa}` gives `config` and `mfa`. Comment lines are skipped.
fn referenced(text: &str) -> BTreeSet<String> {
    let code: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let mut found = BTreeSet::new();
    let mut rest = code.as_str();
    while let Some(at) = rest.find("crate::") {
        let before = rest[..at].chars().next_back();
        rest = &rest[at + "crate::".len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue; // `$crate::` or a longer name ending in `crate`
        }
        if let Some(group) = rest.strip_prefix('{') {
            // The first name of each item at the group's own depth.
            let (mut depth, mut start_of_item) = (0usize, true);
            let mut name = String::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => start_of_item = true,
                    c if start_of_item && (c.is_alphanumeric() || c == '_') => name.push(c),
                    _ if start_of_item && !name.is_empty() => {
                        found.insert(std::mem::take(&mut name));
                        start_of_item = false;
                    }
                    _ => {}
                }
            }
            if !name.is_empty() {
                found.insert(name);
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            found.insert(name);
        }
    }
    found
}

/// Module → the other top-level modules it uses.
type Graph = BTreeMap<String, BTreeSet<String>>;

fn graph(files: &[(String, String)], modules: &BTreeSet<String>) -> Graph {
    let mut graph: Graph = modules
        .iter()
        .map(|m| (m.clone(), BTreeSet::new()))
        .collect();
    for (module, text) in files {
        for used in referenced(text) {
            if &used != module && modules.contains(&used) {
                graph.get_mut(module).unwrap().insert(used);
            }
        }
    }
    graph
}

/// A cycle as the list of modules along it (first = last), if there is one.
fn find_cycle(graph: &Graph) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &Graph,
        done: &mut BTreeSet<String>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|p| p == node) {
            let mut cycle = path[at..].to_vec();
            cycle.push(node.to_owned());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, done, path) {
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
        .find_map(|node| visit(node, graph, &mut done, &mut Vec::new()))
}

/// The modules `lib.rs` declares, and each source file with its top-level module. The two
/// programs' roots, main.rs and core.rs, are not modules of the library: they call it as
/// `mfaexec::`.
fn crate_sources() -> (BTreeSet<String>, Vec<(String, String)>) {
    let src = src();
    let lib = std::fs::read_to_string(src.join("lib.rs")).unwrap();
    let modules: BTreeSet<String> = lib
        .lines()
        .filter_map(|l| l.trim().strip_prefix("mod "))
        .map(|rest| rest.trim_end_matches(';').trim().to_owned())
        .collect();
    let mut paths = Vec::new();
    rust_files(&src, &mut paths);
    let files = paths
        .iter()
        .map(|p| (top_module(&src, p), std::fs::read_to_string(p).unwrap()))
        .filter(|(module, _)| module != "main" && module != "core")
        .collect();
    (modules, files)
}

fn order(graph: &Graph) -> Vec<String> {
    // Lowest layer first: a module comes after everything it uses.
    let mut placed: Vec<String> = Vec::new();
    while placed.len() < graph.len() {
        let next = graph
            .iter()
            .find(|(m, uses)| !placed.contains(m) && uses.iter().all(|u| placed.contains(u)))
            .map(|(m, _)| m.clone())
            .expect("a cycle: see modules_form_no_cycle");
        placed.push(next);
    }
    placed
}

#[test]
fn modules_form_no_cycle() {
    let (modules, files) = crate_sources();
    assert!(modules.len() >= 8, "lib.rs declares {modules:?}");
    let graph = graph(&files, &modules);
    if let Some(cycle) = find_cycle(&graph) {
        panic!(
            "src/ has an import cycle between top-level modules: {}\nmove the shared piece into the lower layer",
            cycle.join(" -> ")
        );
    }
    eprintln!("layers, lowest first: {}", order(&graph).join(" < "));
}

#[test]
fn modules_use_only_lower_layers() {
    let (mut modules, files) = crate_sources();
    modules.insert("lib".to_owned());
    let graph = graph(&files, &modules);
    let rank = |m: &str| {
        LAYERS.iter().position(|l| *l == m).unwrap_or_else(|| {
            panic!("src/{m}: a new top-level module; give it its place in LAYERS")
        })
    };
    for (module, uses) in &graph {
        for used in uses {
            assert!(
                rank(used) < rank(module),
                "{module} uses {used}, a higher layer (lowest first: {}); move the shared piece down",
                LAYERS.join(" < ")
            );
        }
    }
}

/// The test above can fail: the same reading finds a cycle that two sources make.
#[test]
fn the_cycle_check_finds_a_cycle() {
    let modules: BTreeSet<String> = ["a", "b", "c"].map(String::from).into();
    let files = vec![
        ("a".to_owned(), "use crate::{b::X, c};".to_owned()),
        ("b".to_owned(), "fn f() { crate::c::g() }".to_owned()),
        (
            "c".to_owned(),
            "// crate::b in a comment is no use\nuse crate::{\n    a::{self, Y},\n};".to_owned(),
        ),
    ];
    let graph = graph(&files, &modules);
    assert_eq!(graph["a"], ["b", "c"].map(String::from).into());
    assert_eq!(graph["c"], ["a"].map(String::from).into());
    assert_eq!(
        find_cycle(&graph).unwrap(),
        ["a", "b", "c", "a"].map(String::from)
    );
    let files = vec![("a".to_owned(), "use crate::b;".to_owned())];
    assert_eq!(find_cycle(&self::graph(&files, &modules)), None);
}

#[test]
fn few_files_stand_directly_in_src() {
    let root: Vec<String> = std::fs::read_dir(src())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "rs"))
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert!(
        root.len() <= MAX_ROOT_FILES,
        "{} .rs files directly in src/ (at most {MAX_ROOT_FILES}): {root:?}; put new code in the layer folder it belongs to",
        root.len()
    );
}

#[test]
fn every_folder_says_what_lives_there() {
    let src = src();
    let mut paths = Vec::new();
    rust_files(&src, &mut paths);
    for path in paths.iter().filter(|p| p.ends_with("mod.rs")) {
        let text = std::fs::read_to_string(path).unwrap();
        assert!(
            text.starts_with("//! "),
            "{}: a folder's mod.rs starts with a `//!` line saying what lives there and what it may use",
            path.display()
        );
    }
}

#[test]
fn long_files_say_why() {
    let mut paths = Vec::new();
    rust_files(&src(), &mut paths);
    for path in paths {
        let text = std::fs::read_to_string(&path).unwrap();
        let lines = text.lines().count();
        let head: String = text
            .lines()
            .take_while(|l| l.starts_with("//!"))
            .collect::<Vec<_>>()
            .join("\n");
        assert!(
            lines <= LONG_FILE || head.contains(LONG_REASON),
            "{}: {lines} lines; split it along its seams, or give the reason at its top (`//! {LONG_REASON} ...`)",
            path.display()
        );
    }
}
