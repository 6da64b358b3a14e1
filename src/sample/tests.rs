//! Tests of the sample generator. They run in debug mode, so they use a
//! small dataset, generated once and shared.

use super::geom;
use super::world::World;
use super::*;
use crate::model::{FieldType, LayerData, ValueRef};
use geo::{Area, BooleanOps, Centroid, Contains, Validation};
use geo_types::{Geometry, MultiPolygon, Point, Polygon};
use std::collections::{BTreeSet, HashSet};
use std::sync::OnceLock;

const SEED: u64 = 7;
const N: usize = 2_000;

/// The shared small dataset.
fn data() -> &'static [LayerData] {
    static DATA: OnceLock<Vec<LayerData>> = OnceLock::new();
    DATA.get_or_init(|| {
        generate(
            &SampleOptions {
                seed: SEED,
                parcels: N,
            },
            &|_| {},
        )
        .expect("the sample generates")
    })
}

fn layer(name: &str) -> &'static LayerData {
    data()
        .iter()
        .find(|l| l.name == name)
        .unwrap_or_else(|| panic!("no layer {name}"))
}

fn col(l: &LayerData, name: &str) -> usize {
    l.field_index(name)
        .unwrap_or_else(|| panic!("{}: no field {name}", l.name))
}

fn text<'a>(l: &'a LayerData, row: usize, name: &str) -> Option<&'a str> {
    match l.value(row, col(l, name)) {
        ValueRef::Text(s) => Some(s),
        _ => None,
    }
}

fn real(l: &LayerData, row: usize, name: &str) -> f64 {
    l.value(row, col(l, name))
        .as_f64()
        .unwrap_or_else(|| panic!("{}: {name} is not numeric", l.name))
}

fn int(l: &LayerData, row: usize, name: &str) -> i64 {
    match l.value(row, col(l, name)) {
        ValueRef::Int(i) => i,
        v => panic!("{}: {name} is {v:?}", l.name),
    }
}

fn polygon(l: &LayerData, row: usize) -> Polygon<f64> {
    match l.geometry_of(row) {
        Some(Geometry::Polygon(p)) => p,
        g => panic!("{} row {row}: not a polygon: {g:?}", l.name),
    }
}

fn multipolygon(l: &LayerData, row: usize) -> MultiPolygon<f64> {
    match l.geometry_of(row) {
        Some(Geometry::MultiPolygon(p)) => p,
        Some(Geometry::Polygon(p)) => MultiPolygon(vec![p]),
        g => panic!("{} row {row}: not a polygon: {g:?}", l.name),
    }
}

fn schema(l: &LayerData) -> Vec<(&str, FieldType)> {
    l.fields.iter().map(|f| (f.name.as_str(), f.ty)).collect()
}

#[test]
fn the_same_seed_gives_identical_layers() {
    let again = generate(
        &SampleOptions {
            seed: SEED,
            parcels: N,
        },
        &|_| {},
    )
    .unwrap();
    assert_eq!(again.len(), data().len());
    for (a, b) in data().iter().zip(&again) {
        assert_eq!(a.name, b.name);
        assert_eq!(a.len(), b.len(), "{}", a.name);
        for row in 0..a.len() {
            assert_eq!(a.row(row), b.row(row), "{} row {row}", a.name);
        }
    }
}

#[test]
fn another_seed_gives_other_parcels() {
    let other = generate(
        &SampleOptions {
            seed: SEED + 1,
            parcels: 300,
        },
        &|_| {},
    )
    .unwrap();
    let p = other.iter().find(|l| l.name == "parcels").unwrap();
    assert_eq!(p.len(), 300);
    let mine = layer("parcels");
    assert_ne!(p.geometry_of(0), mine.geometry_of(0));
}

#[test]
fn the_parcel_count_is_exact_for_any_size() {
    assert_eq!(layer("parcels").len(), N);
    for n in [0, 1, 777] {
        let layers = generate(
            &SampleOptions {
                seed: 3,
                parcels: n,
            },
            &|_| {},
        )
        .unwrap();
        let p = layers.iter().find(|l| l.name == "parcels").unwrap();
        assert_eq!(p.len(), n);
        assert_eq!(p.fids, (1..=n as i64).collect::<Vec<_>>());
    }
}

#[test]
fn progress_grows_to_the_requested_count() {
    let calls = std::sync::Mutex::new(Vec::new());
    generate(
        &SampleOptions {
            seed: 1,
            parcels: 1500,
        },
        &|n| calls.lock().unwrap().push(n),
    )
    .unwrap();
    let calls = calls.into_inner().unwrap();
    assert!(!calls.is_empty());
    assert!(calls.windows(2).all(|w| w[0] <= w[1]), "{calls:?}");
    assert_eq!(*calls.last().unwrap(), 1500);
}

#[test]
fn layers_come_in_order_with_the_documented_schemas() {
    use FieldType::*;
    let names: Vec<&str> = data().iter().map(|l| l.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "admin_units",
            "admin_lineage",
            "parcels",
            "zoning_lots",
            "plans",
            "roads",
            "water",
            "industrial_zones",
            "pois",
            "investment_projects"
        ]
    );
    let expect: &[(&str, &[(&str, FieldType)])] = &[
        (
            "admin_units",
            &[
                ("code", Text),
                ("name", Text),
                ("level", Text),
                ("unit_type", Text),
                ("parent_code", Text),
                ("valid_from", Date),
                ("valid_to", Date),
                ("synthetic", Boolean),
            ],
        ),
        (
            "admin_lineage",
            &[
                ("old_code", Text),
                ("old_name", Text),
                ("new_code", Text),
                ("new_name", Text),
                ("valid_from", Date),
                ("relation", Text),
                ("synthetic", Boolean),
            ],
        ),
        (
            "parcels",
            &[
                ("commune_code", Text),
                ("commune_name", Text),
                ("district_name", Text),
                ("sheet_number", Integer),
                ("parcel_number", Integer),
                ("legal_area", Real),
                ("land_use_code", Text),
                ("address", Text),
                ("certificate_number", Text),
                ("synthetic", Boolean),
                ("land_use_code_old", Text),
            ],
        ),
        (
            "zoning_lots",
            &[
                ("zone_code", Text),
                ("lot_symbol", Text),
                ("function", Text),
                ("density_pct", Real),
                ("floors_min", Integer),
                ("floors_max", Integer),
                ("far", Real),
                ("area_m2", Real),
                ("plan_code", Text),
                ("synthetic", Boolean),
            ],
        ),
        (
            "plans",
            &[
                ("code", Text),
                ("name", Text),
                ("level", Text),
                ("approval_decision", Text),
                ("approval_date", Date),
                ("approving_authority", Text),
                ("status", Text),
                ("synthetic", Boolean),
            ],
        ),
        (
            "roads",
            &[
                ("name", Text),
                ("road_class", Text),
                ("ref", Text),
                ("width_m", Real),
                ("synthetic", Boolean),
            ],
        ),
        (
            "water",
            &[("name", Text), ("kind", Text), ("synthetic", Boolean)],
        ),
        (
            "industrial_zones",
            &[
                ("name", Text),
                ("kind", Text),
                ("area_ha", Real),
                ("note", Text),
                ("synthetic", Boolean),
            ],
        ),
        (
            "pois",
            &[("name", Text), ("kind", Text), ("synthetic", Boolean)],
        ),
        (
            "investment_projects",
            &[
                ("name", Text),
                ("status", Text),
                ("stage", Text),
                ("stage_date", Date),
                ("capital_vnd", Integer),
                ("capital_disbursed_vnd", Integer),
                ("capital_usd", Real),
                ("area_ha", Real),
                ("function", Text),
                ("zone_name", Text),
                ("investor", Text),
                ("approval_decision", Text),
                ("next_deadline", Date),
                ("next_deadline_what", Text),
                ("plan_conflict", Boolean),
                ("check_id", Text),
                ("synthetic", Boolean),
            ],
        ),
    ];
    for (name, fields) in expect {
        let l = layer(name);
        assert_eq!(schema(l), fields.to_vec(), "{name}");
        assert_eq!(l.srid, 5899, "{name}");
        assert!(!l.is_empty(), "{name}");
    }
}

#[test]
fn every_feature_is_synthetic_except_the_real_province_outlines() {
    for l in data() {
        let c = col(l, "synthetic");
        for row in 0..l.len() {
            let real_outline = l.name == "admin_units" && text(l, row, "level") == Some("province");
            assert_eq!(
                l.value(row, c),
                ValueRef::Bool(!real_outline),
                "{} row {row}",
                l.name
            );
        }
    }
}

#[test]
fn all_text_is_nfc_and_quang_nam_is_spelled_right() {
    use unicode_normalization::is_nfc;
    for l in data() {
        for row in 0..l.len() {
            for c in 0..l.fields.len() {
                if let ValueRef::Text(s) = l.value(row, c) {
                    assert!(is_nfc(s), "{} row {row}: {s:?}", l.name);
                    assert!(!s.contains("Quàng"), "{} row {row}: {s:?}", l.name);
                }
            }
        }
    }
    let a = layer("admin_units");
    assert_eq!(text(a, 0, "name"), Some("Quảng Nam"));
    assert_eq!(text(a, 0, "code"), Some("49"));
}

#[test]
fn parcel_keys_are_unique_and_numbered_from_one() {
    let p = layer("parcels");
    let mut keys = HashSet::new();
    let mut sheets: std::collections::BTreeMap<String, BTreeSet<i64>> = Default::default();
    let mut parcels: std::collections::BTreeMap<(String, i64), BTreeSet<i64>> = Default::default();
    for row in 0..p.len() {
        let commune = text(p, row, "commune_code").unwrap().to_owned();
        assert_eq!(commune.len(), 5, "{commune}");
        assert!(commune.chars().all(|c| c.is_ascii_digit()));
        let sheet = int(p, row, "sheet_number");
        let parcel = int(p, row, "parcel_number");
        assert!(
            keys.insert((commune.clone(), sheet, parcel)),
            "duplicate key"
        );
        sheets.entry(commune.clone()).or_default().insert(sheet);
        parcels.entry((commune, sheet)).or_default().insert(parcel);
    }
    // Contiguous from 1 inside each commune and each sheet.
    for s in sheets.values() {
        assert_eq!(*s, (1..=s.len() as i64).collect());
    }
    for s in parcels.values() {
        assert_eq!(*s, (1..=s.len() as i64).collect());
    }
}

#[test]
fn legal_area_is_the_5899_polygon_area_rounded_to_a_tenth() {
    let p = layer("parcels");
    for row in 0..p.len() {
        let poly = polygon(p, row);
        assert_eq!(poly.exterior().0.len(), 5, "lots are quadrilaterals");
        let a = poly.unsigned_area();
        let legal = real(p, row, "legal_area");
        assert!(
            (a - legal).abs() <= 0.05 + 1e-6,
            "row {row}: {a} vs {legal}"
        );
        // Exterior rings run counter-clockwise.
        assert!(poly.signed_area() > 0.0);
    }
}

#[test]
fn urban_lots_are_80_to_200_m2_and_rural_lots_300_to_3000_m2() {
    let p = layer("parcels");
    let mut urban = 0;
    for row in 0..p.len() {
        let a = real(p, row, "legal_area");
        let addr = text(p, row, "address").unwrap();
        if addr.contains(", đường ") {
            urban += 1;
            assert!((80.0..=200.0).contains(&a), "urban lot {a} m²: {addr}");
        } else {
            assert!((300.0..=3000.0).contains(&a), "rural lot {a} m²: {addr}");
            assert!(
                addr.contains(", Thôn ") || addr.contains(", Khối phố "),
                "{addr}"
            );
        }
    }
    let share = urban as f64 / p.len() as f64;
    assert!((0.35..=0.45).contains(&share), "urban share {share}");
}

#[test]
fn urban_lots_are_narrow_rectangles() {
    let p = layer("parcels");
    for row in 0..p.len() {
        if !text(p, row, "address").unwrap().contains(", đường ") {
            continue;
        }
        let poly = polygon(p, row);
        let r = &poly.exterior().0;
        let side =
            |i: usize| ((r[i + 1].x - r[i].x).powi(2) + (r[i + 1].y - r[i].y).powi(2)).sqrt();
        let (a, b) = (side(0), side(1));
        let (front, depth) = (a.min(b), a.max(b));
        assert!((3.99..=6.51).contains(&front), "frontage {front}");
        assert!((19.99..=30.01).contains(&depth), "depth {depth}");
    }
}

#[test]
fn every_parcel_centroid_lies_inside_the_province_outlines() {
    let a = layer("admin_units");
    let qn = multipolygon(a, 0);
    let dn = multipolygon(a, 1);
    let p = layer("parcels");
    for row in 0..p.len() {
        let c = polygon(p, row).centroid().unwrap();
        assert!(qn.contains(&c) || dn.contains(&c), "row {row} at {c:?}");
    }
}

#[test]
fn parcels_are_valid_and_do_not_overlap() {
    let p = layer("parcels");
    let polys: Vec<Polygon<f64>> = (0..p.len()).map(|r| polygon(p, r)).collect();
    for (i, poly) in polys.iter().enumerate() {
        assert!(poly.is_valid(), "row {i}: {:?}", poly.validation_errors());
    }
    // Sweep along x over bounding boxes.
    let mut order: Vec<usize> = (0..polys.len()).collect();
    let bb: Vec<_> = (0..p.len()).map(|r| p.geometry.bbox(r).unwrap()).collect();
    order.sort_by(|&a, &b| bb[a].min().x.total_cmp(&bb[b].min().x));
    for (k, &i) in order.iter().enumerate() {
        for &j in &order[k + 1..] {
            if bb[j].min().x >= bb[i].max().x {
                break;
            }
            if bb[j].min().y >= bb[i].max().y || bb[i].min().y >= bb[j].max().y {
                continue;
            }
            let shared = polys[i].intersection(&polys[j]).unsigned_area();
            assert!(shared < 0.01, "rows {i} and {j} overlap by {shared} m²");
        }
    }
}

#[test]
fn land_use_codes_come_from_the_reference_table_with_some_legacy_codes() {
    const CSV: &str = include_str!("../../data/sources/landuse_codes.csv");
    let known: HashSet<&str> = CSV
        .lines()
        .skip(1)
        .filter_map(|l| l.split(',').next())
        .collect();
    let legacy: HashSet<&str> = CSV
        .lines()
        .filter(|l| l.contains(",legacy"))
        .filter_map(|l| l.split(',').next())
        .collect();
    let p = layer("parcels");
    let mut n_legacy = 0;
    let mut seen = HashSet::new();
    for row in 0..p.len() {
        let code = text(p, row, "land_use_code").unwrap();
        assert!(known.contains(code), "unknown code {code}");
        n_legacy += legacy.contains(code) as usize;
        seen.insert(code);
    }
    let share = n_legacy as f64 / p.len() as f64;
    assert!((0.008..=0.04).contains(&share), "legacy share {share}");
    for code in ["ODT", "ONT", "LUC", "HNK", "CLN", "TMD"] {
        assert!(seen.contains(code), "no {code} parcel");
    }
}

#[test]
fn aquaculture_lies_within_a_kilometre_of_water() {
    let world = World::build(SEED).unwrap();
    let p = layer("parcels");
    for row in 0..p.len() {
        if text(p, row, "land_use_code") == Some("NTS") {
            let c = polygon(p, row).centroid().unwrap();
            assert!(world.near_water.within(c.0, 1000.0), "row {row}");
        }
    }
}

#[test]
fn about_seventy_percent_of_parcels_have_a_certificate() {
    let p = layer("parcels");
    let mut filled = 0;
    for row in 0..p.len() {
        if let Some(c) = text(p, row, "certificate_number") {
            filled += 1;
            let (series, num) = c.split_once(' ').unwrap();
            assert!(series == "CH" || series == "CS", "{c}");
            assert!(
                num.len() >= 5 && num.chars().all(|c| c.is_ascii_digit()),
                "{c}"
            );
        }
    }
    let share = filled as f64 / p.len() as f64;
    assert!((0.6..=0.8).contains(&share), "certificate share {share}");
}

#[test]
fn the_merged_city_is_the_union_of_the_two_provinces() {
    let a = layer("admin_units");
    let qn = multipolygon(a, 0);
    let dn = multipolygon(a, 1);
    let merged = multipolygon(a, 2);
    assert_eq!(text(a, 2, "name"), Some("Thành phố Đà Nẵng"));
    assert_eq!(text(a, 2, "code"), Some("48"));
    assert_eq!(text(a, 2, "valid_from"), Some("2025-07-01"));
    assert_eq!(text(a, 2, "valid_to"), None);
    for m in [&qn, &dn, &merged] {
        assert!(m.is_valid(), "{:?}", m.validation_errors());
    }
    // The shared border comes from the same TopoJSON arc: no slivers.
    assert_eq!(merged.0.len(), 1);
    let sum = qn.unsigned_area() + dn.unsigned_area();
    assert!((merged.unsigned_area() - sum).abs() / sum < 1e-6);
    // Quảng Nam is about 10 600 km² and mainland Đà Nẵng about 980 km²;
    // Natural Earth's generalised outlines give about 11 000 and 720 km².
    assert!((9.0e9..12.0e9).contains(&qn.unsigned_area()));
    assert!((0.6e9..1.4e9).contains(&dn.unsigned_area()));
}

#[test]
fn districts_tile_their_province_and_que_son_absorbs_nong_son() {
    let a = layer("admin_units");
    let prov_area = [
        multipolygon(a, 0).unsigned_area(),
        multipolygon(a, 1).unsigned_area(),
    ];
    let mut sum = [0.0, 0.0];
    let mut que_son = Vec::new();
    let mut nong_son = None;
    let districts: Vec<usize> = (0..a.len())
        .filter(|&r| text(a, r, "level") == Some("district"))
        .collect();
    assert_eq!(districts, (3..3 + districts.len()).collect::<Vec<_>>());
    // 26 districts of the CSV, and Quế Sơn once more from 2025-01-01.
    assert_eq!(districts.len(), 27);
    for row in districts {
        let code = text(a, row, "code").unwrap();
        let m = multipolygon(a, row);
        assert!(m.is_valid(), "{code}: {:?}", m.validation_errors());
        let until = text(a, row, "valid_to");
        match code {
            "509" => que_son.push((text(a, row, "valid_from"), until, m.unsigned_area())),
            "519" => nong_son = Some((until, m.unsigned_area())),
            _ => {}
        }
        if code == "498" || until != Some("2025-06-30") {
            continue;
        }
        let parent = text(a, row, "parent_code").unwrap();
        sum[if parent == "49" { 0 } else { 1 }] += m.unsigned_area();
    }
    let (ns_until, ns_area) = nong_son.unwrap();
    assert_eq!(ns_until, Some("2024-12-31"));
    assert_eq!(que_son.len(), 2);
    assert_eq!(que_son[0].1, Some("2024-12-31"));
    assert_eq!(que_son[1].0, Some("2025-01-01"));
    assert_eq!(que_son[1].1, Some("2025-06-30"));
    assert!((que_son[1].2 - que_son[0].2 - ns_area).abs() / que_son[1].2 < 1e-3);
    // Current districts + Quế Sơn (2025) tile each province.
    for k in 0..2 {
        assert!(
            (sum[k] - prov_area[k]).abs() / prov_area[k] < 1e-3,
            "province {k}: {} vs {}",
            sum[k],
            prov_area[k]
        );
    }
}

#[test]
fn hoang_sa_is_a_few_small_islands_far_offshore() {
    let a = layer("admin_units");
    let row = (0..a.len())
        .find(|&r| text(a, r, "code") == Some("498"))
        .unwrap();
    let m = multipolygon(a, row);
    assert!(m.unsigned_area() < 1.0e7);
    let c = m.centroid().unwrap();
    // Around 112 E: more than 400 km east of the central meridian.
    assert!(c.x() > 900_000.0, "{c:?}");
}

#[test]
fn zoning_lots_are_blocks_and_factory_plots_under_existing_plans() {
    let z = layer("zoning_lots");
    let plans = layer("plans");
    let codes: HashSet<&str> = (0..plans.len())
        .map(|r| text(plans, r, "code").unwrap())
        .collect();
    assert_eq!(codes.len(), plans.len(), "plan codes are unique");
    assert!((10..=50).contains(&plans.len()));
    assert!((300..=5000).contains(&z.len()), "{} zoning lots", z.len());
    let mut symbols = HashSet::new();
    for row in 0..z.len() {
        assert!(codes.contains(text(z, row, "plan_code").unwrap()));
        let area = real(z, row, "area_m2");
        // Urban blocks of 1–5 ha; factory plots of 2–10 ha in the
        // industrial zones' plans.
        let range = if text(z, row, "plan_code").unwrap().starts_with("QHPK-KCN-") {
            20_000.0..=100_000.0
        } else {
            10_000.0..=50_000.0
        };
        assert!(range.contains(&area), "area {area}");
        assert!((polygon(z, row).unsigned_area() - area).abs() < 0.1);
        let d = real(z, row, "density_pct");
        assert!((40.0..=90.0).contains(&d), "density {d}");
        let far = real(z, row, "far");
        assert!((0.5..=10.0).contains(&far), "far {far}");
        let (fmin, fmax) = (int(z, row, "floors_min"), int(z, row, "floors_max"));
        assert!(1 <= fmin && fmin <= fmax, "{fmin}..{fmax}");
        let key = (
            text(z, row, "zone_code").unwrap(),
            text(z, row, "lot_symbol").unwrap(),
        );
        assert!(symbols.insert(key), "duplicate lot symbol {key:?}");
    }
}

#[test]
fn roads_include_the_national_roads_and_urban_streets() {
    let r = layer("roads");
    let refs: HashSet<&str> = (0..r.len()).filter_map(|i| text(r, i, "ref")).collect();
    for want in ["QL1A", "CT.01", "QL14B", "QL14E", "ĐT129"] {
        assert!(refs.contains(want), "no {want}");
    }
    let classes: HashSet<&str> = (0..r.len())
        .map(|i| text(r, i, "road_class").unwrap())
        .collect();
    for want in [
        "quốc lộ",
        "đường cao tốc",
        "tỉnh lộ",
        "đường đô thị",
        "đường huyện",
    ] {
        assert!(classes.contains(want), "no {want}");
    }
    // QL1A runs from Đà Nẵng to Núi Thành: over 80 km of it.
    let len: f64 = (0..r.len())
        .filter(|&i| text(r, i, "ref") == Some("QL1A"))
        .map(|i| {
            let c = r.geometry.coords_of(i);
            c.windows(2)
                .map(|w| ((w[1].x - w[0].x).powi(2) + (w[1].y - w[0].y).powi(2)).sqrt())
                .sum::<f64>()
        })
        .sum();
    assert!(len > 80_000.0, "QL1A is {len} m");
}

#[test]
fn water_includes_the_main_rivers() {
    let w = layer("water");
    let names: HashSet<&str> = (0..w.len()).map(|i| text(w, i, "name").unwrap()).collect();
    for want in [
        "Sông Thu Bồn",
        "Sông Vu Gia",
        "Sông Hàn",
        "Sông Cổ Cò",
        "Sông Trường Giang",
        "Sông Tam Kỳ",
    ] {
        assert!(names.contains(want), "no {want}");
    }
}

#[test]
fn zones_and_pois_follow_the_reference_table() {
    let z = layer("industrial_zones");
    assert_eq!(z.len(), 16);
    for row in 0..z.len() {
        let ha = real(z, row, "area_ha");
        let geo_ha = polygon(z, row).unsigned_area() / 10_000.0;
        assert!((ha - geo_ha).abs() < 0.01, "{ha} vs {geo_ha}");
    }
    let p = layer("pois");
    let kinds: HashSet<&str> = (0..p.len()).map(|i| text(p, i, "kind").unwrap()).collect();
    for want in ["sân bay", "cảng biển", "di sản", "trung tâm hành chính"] {
        assert!(kinds.contains(want), "no {want}");
    }
}

#[test]
fn investment_projects_are_consistent_with_their_geometry() {
    let l = layer("investment_projects");
    assert!((100..=140).contains(&l.len()), "{}", l.len());
    let zones = layer("industrial_zones");
    let zone = |name: &str| {
        (0..zones.len())
            .find(|&r| text(zones, r, "name") == Some(name))
            .map(|r| polygon(zones, r))
            .unwrap()
    };
    let statuses: Vec<&str> = crate::model::stage::ALL.iter().map(|s| s.vi()).collect();
    let mut in_zone = 0;
    for row in 0..l.len() {
        let status = text(l, row, "status").unwrap();
        assert!(statuses.contains(&status), "{status}");
        let vnd = int(l, row, "capital_vnd") as f64;
        assert!((50e9..=20_000e9).contains(&vnd), "{vnd}");
        let usd = real(l, row, "capital_usd");
        assert!((usd - vnd / 25_400.0).abs() < 1000.0);
        let poly = polygon(l, row);
        let ha = real(l, row, "area_ha");
        assert!((poly.unsigned_area() / 10_000.0 - ha).abs() < 0.01);
        if let Some(z) = text(l, row, "zone_name") {
            in_zone += 1;
            assert!(zone(z).contains(&poly.centroid().unwrap()), "{z}");
        }
        assert_eq!(
            text(l, row, "investor").is_none(),
            status == crate::model::stage::Stage::Proposed.vi(),
            "row {row}"
        );
        let stage = text(l, row, "stage").unwrap();
        assert!(
            crate::model::stage::ALL
                .iter()
                .any(|s| s.code() == stage && s.vi() == status),
            "{stage} / {status}"
        );
        let disbursed = int(l, row, "capital_disbursed_vnd") as f64;
        assert!((0.0..=vnd).contains(&disbursed), "{disbursed} of {vnd}");
    }
    assert!(in_zone >= l.len() / 3, "only {in_zone} projects in zones");
}

#[test]
fn every_polygon_layer_is_valid() {
    for name in [
        "zoning_lots",
        "plans",
        "industrial_zones",
        "investment_projects",
    ] {
        let l = layer(name);
        for row in 0..l.len() {
            let p = polygon(l, row);
            assert!(
                p.is_valid(),
                "{name} row {row}: {:?}",
                p.validation_errors()
            );
        }
    }
    let p = layer("pois");
    assert!(matches!(p.geometry_of(0), Some(Geometry::Point(Point(_)))));
}

/// Rows of `communes_pre2025.csv`: code, name (white space collapsed),
/// type, district code, province code.
fn communes_csv() -> Vec<[String; 5]> {
    include_str!("../../data/sources/communes_pre2025.csv")
        .lines()
        .skip(1)
        .filter(|l| !l.is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            assert_eq!(f.len(), 6, "{l}");
            let name = f[1].split_whitespace().collect::<Vec<_>>().join(" ");
            [f[0], &name, f[2], f[3], f[5]].map(str::to_owned)
        })
        .collect()
}

/// Rows of `units_2025.csv`: code, name, type, predecessor text.
fn units_csv() -> Vec<[String; 4]> {
    include_str!("../../data/sources/units_2025.csv")
        .lines()
        .skip(1)
        .filter(|l| !l.is_empty())
        .map(|l| {
            let f: Vec<&str> = l.splitn(4, ',').collect();
            [f[0], f[1], f[2], f[3].trim_matches('"')].map(str::to_owned)
        })
        .collect()
}

/// Rows of `admin_units` of a level whose `valid_from` is `from`, by code.
fn units_of(level: &str, from: &str) -> std::collections::BTreeMap<&'static str, usize> {
    let a = layer("admin_units");
    let mut out = std::collections::BTreeMap::new();
    for r in 0..a.len() {
        if text(a, r, "level") == Some(level) && text(a, r, "valid_from") == Some(from) {
            let code = text(a, r, "code").unwrap();
            assert!(out.insert(code, r).is_none(), "{code} from {from} twice");
        }
    }
    out
}

#[test]
fn the_297_communes_before_2025_carry_the_gso_codes_and_names() {
    let a = layer("admin_units");
    let csv = communes_csv();
    assert_eq!(csv.len(), 297);
    let got = units_of("commune", "1997-01-01");
    assert_eq!(got.len(), 297);
    for [code, name, ty, district, _] in &csv {
        let r = *got
            .get(code.as_str())
            .unwrap_or_else(|| panic!("no {code}"));
        assert_eq!(text(a, r, "name"), Some(name.as_str()), "{code}");
        let unit_type = match ty.as_str() {
            "phuong" => "phường",
            "thi-tran" => "thị trấn",
            _ => "xã",
        };
        assert_eq!(text(a, r, "unit_type"), Some(unit_type), "{code}");
        assert_eq!(text(a, r, "parent_code"), Some(district.as_str()), "{code}");
        assert_eq!(text(a, r, "valid_to"), Some("2025-06-30"), "{code}");
        let m = multipolygon(a, r);
        assert!(m.is_valid(), "{code}: {:?}", m.validation_errors());
        assert!(
            m.unsigned_area() > 1.0e5,
            "{code} {name}: {} m²",
            m.unsigned_area()
        );
    }
    let minh_an = got["20398"];
    assert_eq!(text(a, minh_an, "name"), Some("Phường Minh An"));
    assert_eq!(text(a, minh_an, "parent_code"), Some("503"));
}

#[test]
fn the_94_units_of_2025_carry_the_gso_codes_and_names() {
    let a = layer("admin_units");
    let csv = units_csv();
    assert_eq!(csv.len(), 94);
    let got = units_of("commune", "2025-07-01");
    assert_eq!(got.len(), 94);
    for [code, name, ty, _] in &csv {
        let r = *got
            .get(code.as_str())
            .unwrap_or_else(|| panic!("no {code}"));
        assert_eq!(text(a, r, "name"), Some(name.as_str()), "{code}");
        assert_eq!(text(a, r, "unit_type"), Some(ty.as_str()), "{code}");
        assert_eq!(text(a, r, "parent_code"), Some("48"), "{code}");
        assert_eq!(text(a, r, "valid_to"), None, "{code}");
        let m = multipolygon(a, r);
        assert!(m.is_valid(), "{code}: {:?}", m.validation_errors());
        assert!(m.unsigned_area() > 0.0, "{code}");
    }
    // A code alone is not unique, (code, valid_from) is.
    let mut keys = HashSet::new();
    for r in 0..a.len() {
        assert!(keys.insert((text(a, r, "code"), text(a, r, "valid_from"))));
    }
    assert!(units_of("commune", "1997-01-01").contains_key("20410"));
}

/// The lineage rows by old code: (row, new code, relation).
fn lineage() -> std::collections::BTreeMap<&'static str, (usize, &'static str, &'static str)> {
    let l = layer("admin_lineage");
    let mut out = std::collections::BTreeMap::new();
    for r in 0..l.len() {
        let old = text(l, r, "old_code").unwrap();
        let row = (
            r,
            text(l, r, "new_code").unwrap(),
            text(l, r, "relation").unwrap(),
        );
        assert!(out.insert(old, row).is_none(), "{old} twice in the lineage");
    }
    out
}

#[test]
fn every_old_commune_is_in_exactly_one_lineage_row() {
    let l = layer("admin_lineage");
    let lin = lineage();
    assert_eq!(l.len(), 297);
    let olds = units_of("commune", "1997-01-01");
    let news = units_of("commune", "2025-07-01");
    let a = layer("admin_units");
    assert_eq!(
        lin.keys().collect::<Vec<_>>(),
        olds.keys().collect::<Vec<_>>()
    );
    for (old, &(r, new, relation)) in &lin {
        let unit = news[new];
        assert_eq!(text(l, r, "old_name"), text(a, olds[old], "name"));
        assert_eq!(text(l, r, "new_name"), text(a, unit, "name"));
        assert_eq!(text(l, r, "valid_from"), Some("2025-07-01"));
        assert!(["same_code", "merged"].contains(&relation), "{relation}");
        assert_eq!(relation == "same_code", *old == new, "{old} → {new}");
        // The row's geometry is the old commune's.
        assert_eq!(l.geometry_of(r), a.geometry_of(olds[old]), "{old}");
    }
}

#[test]
fn every_2025_unit_but_hoang_sa_keeps_the_code_of_the_predecessor_the_table_names() {
    let lin = lineage();
    let names: std::collections::BTreeMap<String, String> = communes_csv()
        .into_iter()
        .map(|[code, name, ..]| (code, name))
        .collect();
    let mut heirs: std::collections::BTreeMap<&str, usize> = Default::default();
    for &(_, new, _) in lin.values() {
        *heirs.entry(new).or_default() += 1;
    }
    for [code, name, _, pred] in units_csv() {
        if code == "20333" {
            assert_eq!(name, "Đặc khu Hoàng Sa");
            assert!(pred.is_empty());
            assert!(
                !heirs.contains_key(code.as_str()),
                "Hoàng Sa had no communes"
            );
            continue;
        }
        // "Phường Phước Ninh, Quận Hải Châu"
        let (pred_name, _) = pred.rsplit_once(',').unwrap();
        assert_eq!(
            names[&code].to_lowercase(),
            pred_name.to_lowercase(),
            "{code}"
        );
        assert_eq!(lin[code.as_str()].1, code, "{code} {name}");
        assert_eq!(lin[code.as_str()].2, "same_code");
        assert!(heirs[code.as_str()] >= 1);
    }
    assert_eq!(heirs.len(), 93);
}

#[test]
fn merged_communes_join_the_nearest_unit_of_their_former_province() {
    let world = World::build(SEED).unwrap();
    let province: std::collections::BTreeMap<String, String> = communes_csv()
        .into_iter()
        .map(|[code, _, _, _, prov]| (code, prov))
        .collect();
    let seed_of = |code: &str| {
        world
            .communes
            .iter()
            .find(|c| c.code == code)
            .map(|c| c.seed)
            .unwrap()
    };
    let lin = lineage();
    let anchors: Vec<&str> = lin
        .iter()
        .filter(|(_, r)| r.2 == "same_code")
        .map(|(old, _)| *old)
        .collect();
    let mut merged = 0;
    for (old, &(_, new, relation)) in &lin {
        if relation != "merged" {
            continue;
        }
        merged += 1;
        assert_eq!(province[*old], province[new], "{old} → {new}");
        let d = geom::dist(seed_of(old), seed_of(new));
        for other in anchors.iter().filter(|a| province[**a] == province[*old]) {
            assert!(
                geom::dist(seed_of(old), seed_of(other)) >= d,
                "{old} → {new}, but {other} is nearer"
            );
        }
    }
    assert_eq!(merged, 297 - 93);
}

#[test]
fn communes_tile_their_district_and_2025_units_are_unions_of_their_old_communes() {
    let a = layer("admin_units");
    let districts = units_of("district", "1997-01-01");
    let mut sums: std::collections::BTreeMap<&str, f64> = Default::default();
    for &r in units_of("commune", "1997-01-01").values() {
        *sums.entry(text(a, r, "parent_code").unwrap()).or_default() +=
            multipolygon(a, r).unsigned_area();
    }
    assert_eq!(sums.len(), 25, "every district but Hoàng Sa has communes");
    for (code, sum) in &sums {
        let area = multipolygon(a, districts[code]).unsigned_area();
        assert!((sum - area).abs() / area < 1e-4, "{code}: {sum} vs {area}");
    }
    let olds = units_of("commune", "1997-01-01");
    let mut members: std::collections::BTreeMap<&str, f64> = Default::default();
    for (old, &(_, new, _)) in &lineage() {
        *members.entry(new).or_default() += multipolygon(a, olds[old]).unsigned_area();
    }
    let mut total = 0.0;
    for (code, &r) in &units_of("commune", "2025-07-01") {
        let area = multipolygon(a, r).unsigned_area();
        if *code == "20333" {
            assert!(area < 1.0e7, "Hoàng Sa is a few islets");
            continue;
        }
        total += area;
        let sum = members[code];
        assert!((sum - area).abs() / area < 1e-4, "{code}: {sum} vs {area}");
    }
    // Together they cover the merged city.
    let city = multipolygon(a, 2).unsigned_area();
    assert!((total - city).abs() / city < 1e-4, "{total} vs {city}");
}

#[test]
fn every_parcel_lies_in_the_pre_2025_commune_its_key_names() {
    use geo::Distance;
    let a = layer("admin_units");
    let olds = units_of("commune", "1997-01-01");
    let shapes: std::collections::BTreeMap<&str, MultiPolygon<f64>> = olds
        .iter()
        .map(|(code, &r)| (*code, multipolygon(a, r)))
        .collect();
    let p = layer("parcels");
    let mut communes = HashSet::new();
    for row in (0..p.len()).step_by(5) {
        let code = text(p, row, "commune_code").unwrap();
        let r = *olds
            .get(code)
            .unwrap_or_else(|| panic!("{code} is no old commune"));
        assert_eq!(text(p, row, "commune_name"), text(a, r, "name"));
        let c = polygon(p, row).centroid().unwrap();
        let shape = &shapes[code];
        // Rounding to the millimetre may put a centroid on a border a hair
        // outside.
        let near = shape
            .0
            .iter()
            .map(|poly| geo::Euclidean.distance(&c, poly))
            .fold(f64::MAX, f64::min);
        assert!(
            shape.contains(&c) || near < 0.01,
            "row {row} {code}: {near} m out"
        );
        communes.insert(code);
    }
    assert!(
        communes.len() >= 5,
        "parcels in {} communes",
        communes.len()
    );
}

#[test]
fn minh_an_holds_parcels_wholly_under_a_hoi_an_zoning_lot() {
    let p = layer("parcels");
    let z = layer("zoning_lots");
    let lots: Vec<Polygon<f64>> = (0..z.len())
        .filter(|&r| text(z, r, "plan_code") == Some("QHPK-HA-2023"))
        .map(|r| polygon(z, r))
        .collect();
    let mut inside = 0;
    let mut total = 0;
    for row in 0..p.len() {
        if text(p, row, "commune_code") != Some("20398") {
            continue;
        }
        assert_eq!(text(p, row, "commune_name"), Some("Phường Minh An"));
        assert_eq!(text(p, row, "district_name"), Some("Hội An"));
        total += 1;
        let parcel = polygon(p, row);
        let a = parcel.unsigned_area();
        let covered: f64 = lots
            .iter()
            .map(|l| l.intersection(&parcel).unsigned_area())
            .sum();
        inside += ((covered - a).abs() < 1e-3 * a) as usize;
    }
    assert!(total >= 10, "{total} parcels in Minh An");
    assert!(
        inside >= 5,
        "{inside} of {total} Minh An parcels under one lot"
    );
}

/// Timing of the large dataset (release mode):
/// `cargo test --release --lib sample::tests::a_million_parcels -- --ignored --nocapture`
#[test]
#[ignore]
fn a_million_parcels_generate_in_seconds() {
    for n in [20_000, 1_000_000] {
        let t = std::time::Instant::now();
        let layers = generate(
            &SampleOptions {
                seed: 42,
                parcels: n,
            },
            &|_| {},
        )
        .unwrap();
        eprintln!("{n} parcels: {:?}", t.elapsed());
        for l in &layers {
            eprintln!(
                "  {:20} {:>8} features {:>9} vertices",
                l.name,
                l.len(),
                l.geometry.coord_count()
            );
        }
        assert_eq!(layers[1].len(), n);
    }
}

#[test]
fn industrial_zones_have_zoning_plans_with_factory_plots_inside() {
    let z = layer("zoning_lots");
    let zones = layer("industrial_zones");
    let plans = layer("plans");
    let iz_plans: Vec<usize> = (0..plans.len())
        .filter(|&r| text(plans, r, "code").unwrap().starts_with("QHPK-KCN-"))
        .collect();
    let izs = (0..zones.len())
        .filter(|&r| text(zones, r, "kind") == Some("khu công nghiệp"))
        .count();
    assert_eq!(iz_plans.len(), izs, "one zoning plan per industrial zone");
    let mut factories = 0;
    for row in 0..z.len() {
        if !text(z, row, "plan_code").unwrap().starts_with("QHPK-KCN-") {
            continue;
        }
        let lot = polygon(z, row);
        // Inside one industrial zone.
        let c = geo::InteriorPoint::interior_point(&lot).unwrap();
        assert!(
            (0..zones.len()).any(|r| geo::Contains::contains(&polygon(zones, r), &c)),
            "lot {row} is outside every zone"
        );
        factories += (text(z, row, "function") == Some("Đất công nghiệp")) as usize;
    }
    assert!(factories >= 100, "{factories} factory plots");
}

#[test]
fn each_project_has_a_procedure_from_its_proposal_to_the_stage_it_is_in() {
    use crate::model::stage::Stage;
    let (layers, history) = generate_with_history(
        &SampleOptions {
            seed: SEED,
            parcels: N,
        },
        &|_| {},
    )
    .unwrap();
    let l = layers
        .iter()
        .find(|l| l.name == "investment_projects")
        .unwrap();
    assert!(history.len() > l.len(), "more than one step per project");
    for row in 0..l.len() {
        let fid = l.fids[row];
        let steps: Vec<_> = history.iter().filter(|t| t.project_fid == fid).collect();
        assert_eq!(
            steps[0].to_stage, "proposed",
            "project {fid} starts proposed"
        );
        assert!(steps[0].from_stage.is_none());
        for w in steps.windows(2) {
            assert_eq!(w[1].from_stage.as_deref(), Some(w[0].to_stage.as_str()));
            assert!(w[0].day < w[1].day, "project {fid}: days go forward");
        }
        let last = steps.last().unwrap();
        assert_eq!(Some(last.to_stage.as_str()), text(l, row, "stage"));
        assert_eq!(Some(last.day.as_str()), text(l, row, "stage_date"));
        for s in &steps {
            let st = crate::model::stage::ALL
                .iter()
                .find(|x| x.code() == s.to_stage)
                .unwrap();
            assert_eq!(st.needs_decision(), s.decision.is_some(), "{fid} {st:?}");
            assert!(s.day.as_str() <= "2026-11-28");
        }
        if last.to_stage == Stage::Operating.code() {
            assert_eq!(
                steps.len(),
                7,
                "an operating project went through every stage"
            );
        }
    }
}
