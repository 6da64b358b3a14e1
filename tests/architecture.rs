//! The one-way data flow of design.md, as a test: a module may use only the
//! modules below it. `model, config, crs → store → engine → {tiles, render, ogc} → report → http`, with
//! `sample` beside the store (it writes through it).

use std::collections::BTreeMap;
use std::path::Path;

fn allowed() -> BTreeMap<&'static str, &'static [&'static str]> {
    BTreeMap::from([
        ("model", &[][..]),
        ("config", &[][..]),
        ("crs", &[][..]),
        // The blocking pool's counted spawn: a leaf any module may use.
        ("blocking", &[][..]),
        // The allocator and its statistics (for /metrics).
        ("heap", &[][..]),
        ("store", &["model", "crs", "config", "blocking"][..]),
        ("sample", &["model", "crs", "store"][..]),
        ("engine", &["model", "crs", "config"][..]),
        ("tiles", &["model", "crs", "config", "engine"][..]),
        ("render", &["model", "crs", "config", "engine"][..]),
        ("ogc", &["model", "crs", "config", "engine", "render"][..]),
        ("planning", &["model", "crs", "config", "engine"][..]),
        // Documents compose planning answers and rendered maps, so they
        // sit above both peers (and above store, whose records they print).
        (
            "report",
            &[
                "model", "crs", "config", "store", "engine", "render", "planning",
            ][..],
        ),
        (
            "import",
            &["model", "crs", "config", "store", "engine", "planning"][..],
        ),
        (
            "seed",
            &[
                "model", "crs", "config", "store", "engine", "tiles", "blocking",
            ][..],
        ),
        (
            "http",
            &[
                "model", "crs", "config", "store", "engine", "tiles", "render", "ogc", "planning",
                "report", "import", "blocking", "heap",
            ][..],
        ),
    ])
}

fn sources(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// Top-level modules a line names through `crate::`, including grouped
/// imports such as `use crate::{engine::Layer, http};`.
fn crate_modules_named(line: &str) -> Vec<String> {
    let ident = |s: &str| -> String {
        s.trim_start()
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    let mut out = Vec::new();
    let mut rest = line;
    while let Some(i) = rest.find("crate::") {
        let after = &rest[i + 7..];
        if let Some(group) = after.strip_prefix('{') {
            // Split the group at commas of depth 0 and take each head.
            let mut depth = 0;
            let mut start = 0;
            for (k, ch) in group.char_indices() {
                match ch {
                    '{' => depth += 1,
                    '}' if depth == 0 => {
                        out.push(ident(&group[start..k]));
                        break;
                    }
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        out.push(ident(&group[start..k]));
                        start = k + 1;
                    }
                    _ => {}
                }
            }
        } else {
            out.push(ident(after));
        }
        rest = after;
    }
    out.retain(|n| !n.is_empty());
    out
}

#[test]
fn the_import_scanner_sees_plain_and_grouped_paths() {
    assert_eq!(crate_modules_named("use crate::engine::Layer;"), ["engine"]);
    assert_eq!(
        crate_modules_named("use crate::{engine::{Layer, Query}, http, model::Value};"),
        ["engine", "http", "model"]
    );
    assert_eq!(
        crate_modules_named("let x = crate::crs::parse(a); crate::store::X"),
        ["crs", "store"]
    );
    assert!(crate_modules_named("use super::layer;").is_empty());
}

#[test]
fn modules_only_import_along_the_data_flow() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let allowed = allowed();
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut violations = Vec::new();
    for f in files {
        let rel = f.strip_prefix(&src).unwrap();
        let top = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_string();
        let Some(ok) = allowed.get(top.as_str()) else {
            continue; // lib.rs, main.rs
        };
        let text = std::fs::read_to_string(&f).unwrap();
        for (n, line) in text.lines().enumerate() {
            for name in crate_modules_named(line) {
                if allowed.contains_key(name.as_str())
                    && name != top
                    && !ok.contains(&name.as_str())
                {
                    violations.push(format!("{}:{}: {top} uses {name}", rel.display(), n + 1));
                }
            }
        }
    }
    assert!(
        violations.is_empty(),
        "imports against the flow:\n{}",
        violations.join("\n")
    );
}

#[test]
fn every_top_level_module_is_in_the_flow_map() {
    let lib =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs")).unwrap();
    let allowed = allowed();
    for line in lib.lines() {
        if let Some(m) = line.strip_prefix("pub mod ") {
            let m = m.trim_end_matches(';');
            assert!(
                allowed.contains_key(m),
                "module {m} is not placed in the flow map"
            );
        }
    }
}

/// Sibling files a source line of `folder` (e.g. `ogc/wfs`) names: through
/// `super::name` or `crate::ogc::wfs::name`. Comments do not count.
fn siblings_named(line: &str, folder: &str, files: &[String]) -> Vec<String> {
    let code = line.split("//").next().unwrap_or("");
    let full = format!("crate::{}::", folder.replace('/', "::"));
    let mut out = Vec::new();
    for prefix in ["super::", full.as_str()] {
        let mut rest = code;
        while let Some(i) = rest.find(prefix) {
            let after = &rest[i + prefix.len()..];
            // `super::{a, b::X}` names each head of the group.
            let heads: Vec<&str> = match after.strip_prefix('{') {
                Some(g) => g
                    .split([',', '}'])
                    .map(|h| h.trim().split("::").next().unwrap_or(""))
                    .collect(),
                None => vec![after],
            };
            for h in heads {
                let name: String = h
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if files.contains(&name) && !out.contains(&name) {
                    out.push(name);
                }
            }
            rest = after;
        }
    }
    out
}

/// A cycle in a dependency map, if there is one (as the path around it).
fn cycle(deps: &BTreeMap<String, Vec<String>>) -> Option<Vec<String>> {
    fn visit(
        n: &str,
        deps: &BTreeMap<String, Vec<String>>,
        path: &mut Vec<String>,
        done: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = path.iter().position(|p| p == n) {
            let mut c = path[i..].to_vec();
            c.push(n.to_owned());
            return Some(c);
        }
        if done.iter().any(|d| d == n) {
            return None;
        }
        path.push(n.to_owned());
        for d in deps.get(n).into_iter().flatten() {
            if let Some(c) = visit(d, deps, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.push(n.to_owned());
        None
    }
    let mut done = Vec::new();
    deps.keys()
        .find_map(|k| visit(k, deps, &mut Vec::new(), &mut done))
}

#[test]
fn the_sibling_scanner_and_the_cycle_finder_see_what_they_should() {
    let files = ["request".to_owned(), "query".to_owned(), "out".to_owned()];
    assert_eq!(
        siblings_named(
            "use super::request::{GetFeature, QuerySpec};",
            "ogc/wfs",
            &files
        ),
        ["request"]
    );
    assert_eq!(
        siblings_named("use super::{query::Plan, param, out};", "ogc/wfs", &files),
        ["query", "out"]
    );
    assert_eq!(
        siblings_named(
            "let p = crate::ogc::wfs::query::plan(g);",
            "ogc/wfs",
            &files
        ),
        ["query"]
    );
    assert!(siblings_named("//! written by [`super::out`]", "ogc/wfs", &files).is_empty());
    let map = |pairs: &[(&str, &[&str])]| -> BTreeMap<String, Vec<String>> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.iter().map(|s| s.to_string()).collect()))
            .collect()
    };
    assert!(cycle(&map(&[("out", &["query"]), ("query", &["request"])])).is_none());
    assert_eq!(
        cycle(&map(&[("out", &["query"]), ("query", &["out"])])).unwrap(),
        ["out", "query", "out"]
    );
}

/// The files of a service folder depend on each other one way: `mod.rs`
/// holds the vocabulary and names no sibling, and no two files import
/// each other, directly or around a loop.
#[test]
fn the_files_of_a_service_folder_import_each_other_one_way() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    for folder in ["ogc/wfs", "ogc/wms"] {
        let dir = src.join(folder);
        let files: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(|e| {
                let p = e.unwrap().path();
                let stem = p.file_stem()?.to_str()?.to_owned();
                (p.extension()? == "rs" && stem != "mod").then_some(stem)
            })
            .collect();
        let mut deps = BTreeMap::new();
        for f in files.iter().map(String::as_str).chain(["mod"]) {
            let text = std::fs::read_to_string(dir.join(format!("{f}.rs"))).unwrap();
            let mut named = Vec::new();
            for line in text
                .lines()
                .filter(|l| !l.trim_start().starts_with("pub mod "))
            {
                for n in siblings_named(line, folder, &files) {
                    if n != f && !named.contains(&n) {
                        named.push(n);
                    }
                }
            }
            if f == "mod" {
                assert!(
                    named.is_empty(),
                    "{folder}/mod.rs holds the vocabulary and imports no sibling, but names {named:?}"
                );
            }
            deps.insert(f.to_owned(), named);
        }
        if let Some(c) = cycle(&deps) {
            panic!(
                "{folder}: files import each other in a circle: {}",
                c.join(" → ")
            );
        }
    }
}
