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
        ("store", &["model", "crs", "config"][..]),
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
            "seed",
            &["model", "crs", "config", "store", "engine", "tiles"][..],
        ),
        (
            "http",
            &[
                "model", "crs", "config", "store", "engine", "tiles", "render", "ogc", "planning",
                "report",
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
