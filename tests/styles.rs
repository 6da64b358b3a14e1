//! The planning style against its sources: every land-use code of
//! `data/sources/landuse_codes.csv` gets its published colour (or its
//! group's colour when it has none), the style only uses the subset of the
//! MapLibre spec that styles/README.md documents, every source layer it
//! names is a layer of the sample, and the server makes its URLs absolute.

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn style() -> Value {
    serde_json::from_str(&std::fs::read_to_string(format!("{ROOT}/styles/planning.json")).unwrap())
        .unwrap()
}

/// "255;252;140" (and "255;170;160?" or "180;255;255 (note)") → "#fffc8c".
fn rgb(s: &str) -> Option<String> {
    let nums: Vec<u8> = s
        .split(|c: char| !c.is_ascii_digit())
        .filter(|p| !p.is_empty())
        .take(3)
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    (nums.len() == 3 && s.trim_start().starts_with(|c: char| c.is_ascii_digit()))
        .then(|| format!("#{:02x}{:02x}{:02x}", nums[0], nums[1], nums[2]))
}

#[test]
fn every_land_use_code_has_its_published_or_group_colour() {
    let csv = std::fs::read_to_string(format!("{ROOT}/data/sources/landuse_codes.csv")).unwrap();
    let rows: Vec<Vec<&str>> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    // Group colour: the colour most codes of the group share.
    let mut counts: HashMap<&str, BTreeMap<String, usize>> = HashMap::new();
    for r in &rows {
        if let Some(c) = rgb(r[3]) {
            *counts.entry(r[2]).or_default().entry(c).or_default() += 1;
        }
    }
    let group: HashMap<&str, String> = counts
        .iter()
        .map(|(g, cs)| {
            let best = cs
                .iter()
                .max_by_key(|(c, n)| (**n, std::cmp::Reverse((*c).clone())));
            (*g, best.unwrap().0.clone())
        })
        .collect();
    let s = style();
    let fill = s["layers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["id"] == "parcels-fill")
        .unwrap()["paint"]["fill-color"]
        .clone();
    let m = fill.as_array().unwrap();
    assert_eq!(m[0], "match");
    assert_eq!(m[1], serde_json::json!(["get", "land_use_code"]));
    let mut in_style = HashMap::new();
    for pair in m[2..m.len() - 1].chunks(2) {
        in_style.insert(
            pair[0].as_str().unwrap().to_owned(),
            pair[1].as_str().unwrap().to_owned(),
        );
    }
    let mut seen = BTreeSet::new();
    for r in &rows {
        let want = rgb(r[3]).unwrap_or_else(|| group[r[2]].clone());
        for code in r[0].split('/') {
            assert_eq!(
                in_style.get(code),
                Some(&want),
                "colour of {code} ({})",
                r[1]
            );
            seen.insert(code.to_owned());
        }
    }
    assert_eq!(
        seen.len(),
        in_style.len(),
        "the style colours codes the CSV does not list"
    );
    // Codes without a published colour really took their group's.
    assert_eq!(in_style["DCT"], group["PNN"]);
}

#[test]
fn the_style_keeps_to_the_documented_subset_and_names_sample_layers() {
    let readme = std::fs::read_to_string(format!("{ROOT}/styles/README.md")).unwrap();
    let s = style();
    assert_eq!(s["version"], 8);
    let sample = geoplan::store::gpkg::GpkgStore::open(format!("{ROOT}/data/sample.gpkg"))
        .unwrap()
        .layer_names()
        .unwrap();
    for l in s["layers"].as_array().unwrap() {
        let ty = l["type"].as_str().unwrap();
        assert!(
            readme.contains(&format!("`{ty}`")),
            "layer type {ty} is not in styles/README.md"
        );
        for part in ["paint", "layout"] {
            for k in l[part].as_object().into_iter().flat_map(|o| o.keys()) {
                assert!(
                    readme.contains(&format!("`{k}`")),
                    "{part} property {k} is not in styles/README.md"
                );
            }
        }
        if let Some(src) = l["source-layer"].as_str() {
            assert!(
                sample.iter().any(|n| n == src),
                "{} uses unknown layer {src}",
                l["id"]
            );
        }
    }
}
