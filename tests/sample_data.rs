//! The committed sample, `data/sample.gpkg`: it is what `geoplan sample
//! --seed 42 --parcels 20000` writes today, and it holds the scenario of
//! issue 7 (a Minh An parcel under the Hội An zoning plan).

use geo::{Area, BooleanOps};
use geo_types::{Geometry, Polygon};
use geoplan::model::{LayerData, ValueRef};
use geoplan::sample::{generate, SampleOptions};
use geoplan::store::gpkg::GpkgStore;

fn committed(name: &str) -> LayerData {
    let root = env!("CARGO_MANIFEST_DIR");
    GpkgStore::open(format!("{root}/data/sample.gpkg"))
        .unwrap()
        .read_layer(name)
        .unwrap()
}

fn text<'a>(l: &'a LayerData, row: usize, field: &str) -> Option<&'a str> {
    match l.value(row, l.field_index(field).unwrap()) {
        ValueRef::Text(s) => Some(s),
        _ => None,
    }
}

fn polygon(l: &LayerData, row: usize) -> Polygon<f64> {
    match l.geometry_of(row) {
        Some(Geometry::Polygon(p)) => p,
        g => panic!("{} row {row}: {g:?}", l.name),
    }
}

#[test]
fn the_committed_sample_is_what_the_generator_writes_for_seed_42() {
    let fresh = generate(
        &SampleOptions {
            seed: 42,
            parcels: 20_000,
        },
        &|_| {},
    )
    .unwrap();
    for want in &fresh {
        let got = committed(&want.name);
        assert_eq!(got.fields, want.fields, "{}", want.name);
        assert_eq!(
            got.fids, want.fids,
            "{}: regenerate data/sample.gpkg",
            want.name
        );
        for row in 0..want.len() {
            assert_eq!(
                got.row(row),
                want.row(row),
                "{} row {row}: regenerate data/sample.gpkg",
                want.name
            );
        }
    }
}

#[test]
fn minh_an_parcels_lie_wholly_in_lots_of_the_governing_hoi_an_zoning_plan() {
    let p = committed("parcels");
    let z = committed("zoning_lots");
    let plans = committed("plans");
    let plan = (0..plans.len())
        .find(|&r| text(&plans, r, "code") == Some("QHPK-HA-2023"))
        .unwrap();
    assert_eq!(text(&plans, plan, "status"), Some("đang hiệu lực"));
    let lots: Vec<Polygon<f64>> = (0..z.len())
        .filter(|&r| text(&z, r, "plan_code") == Some("QHPK-HA-2023"))
        .map(|r| polygon(&z, r))
        .collect();
    let (mut total, mut covered_fully) = (0, 0);
    for row in 0..p.len() {
        if text(&p, row, "commune_code") != Some("20398") {
            continue;
        }
        assert_eq!(text(&p, row, "commune_name"), Some("Phường Minh An"));
        total += 1;
        let parcel = polygon(&p, row);
        let area = parcel.unsigned_area();
        let shares: f64 = lots
            .iter()
            .map(|l| l.intersection(&parcel).unsigned_area() / area)
            .sum();
        assert!(shares <= 1.0 + 1e-6, "lots overlap under row {row}");
        covered_fully += ((shares - 1.0).abs() < 1e-6) as usize;
    }
    assert!(total >= 100, "{total} parcels in Minh An");
    assert!(
        covered_fully * 2 >= total,
        "{covered_fully} of {total} Minh An parcels wholly under the plan's lots"
    );
}
