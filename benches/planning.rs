//! Planning benchmarks on the 1,000,000-parcel set: parcel lookup by
//! cadastral key and by free text (issue target p99 ≤ 5 ms), and the
//! planning answer for a parcel (target ≤ 20 ms). Prints p50/p99 over a
//! fixed sample of parcels, then criterion's means.
//!
//! ```sh
//! geoplan sample --seed 7 --parcels 1000000 --out target/bench-data/parcels-1000000.gpkg
//! GEOPLAN_BENCH_GPKG=target/bench-data/parcels-1000000.gpkg cargo bench --bench planning
//! ```

use criterion::{criterion_group, criterion_main, Criterion};
use geoplan::config::Config;
use geoplan::engine::{Catalog, Engine, Layer, LayerMeta, Part};
use geoplan::planning::info::{answer, InfoQuery, Subject};
use geoplan::planning::parcels::{find, ParcelQuery};
use geoplan::store::gpkg::GpkgStore;
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

const LAYERS: &[&str] = &[
    "parcels",
    "admin_units",
    "admin_lineage",
    "plans",
    "zoning_lots",
    "industrial_zones",
    "investment_projects",
];

fn catalog() -> Arc<Catalog> {
    let path = std::env::var("GEOPLAN_BENCH_GPKG")
        .unwrap_or_else(|_| "target/bench-data/parcels-1000000.gpkg".into());
    let store = GpkgStore::open(&path).unwrap_or_else(|e| {
        panic!("{e}: generate it with `geoplan sample --seed 7 --parcels 1000000 --out {path}`")
    });
    let config = Config::default();
    let t = Instant::now();
    let layers: Vec<Layer> = LAYERS
        .iter()
        .map(|n| {
            Layer::new(
                store.read_layer(n).unwrap(),
                LayerMeta::from_config(n, &config),
            )
            .unwrap()
        })
        .collect();
    println!(
        "loaded {} layers in {:.1} s",
        layers.len(),
        t.elapsed().as_secs_f64()
    );
    let engine = Engine::new();
    engine.publish_all(layers);
    engine.snapshot()
}

/// Every `step`-th parcel's key: (fid, commune code, sheet, parcel).
fn keys(cat: &Catalog, n: usize) -> Vec<(i64, String, i64, i64)> {
    let l = cat.layer("parcels").unwrap();
    let d = l.data(Part::Base);
    let col = |f: &str| d.field_index(f).unwrap();
    let (c, s, p) = (
        col("commune_code"),
        col("sheet_number"),
        col("parcel_number"),
    );
    let step = (d.len() / n).max(1);
    (0..d.len())
        .step_by(step)
        .filter_map(|r| {
            use geoplan::model::ValueRef::{Int, Text};
            match (d.value(r, c), d.value(r, s), d.value(r, p)) {
                (Text(c), Int(s), Int(p)) => Some((d.fids[r], c.to_owned(), s, p)),
                _ => None,
            }
        })
        .take(n)
        .collect()
}

fn percentiles(label: &str, mut t: Vec<Duration>) {
    t.sort();
    let at = |q: f64| t[((t.len() as f64 * q) as usize).min(t.len() - 1)];
    println!(
        "{label}: n={} p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
        t.len(),
        at(0.50).as_secs_f64() * 1e3,
        at(0.99).as_secs_f64() * 1e3,
        t[t.len() - 1].as_secs_f64() * 1e3
    );
}

fn time<T>(f: impl FnOnce() -> T) -> Duration {
    let t = Instant::now();
    black_box(f());
    t.elapsed()
}

fn bench(c: &mut Criterion) {
    let cat = catalog();
    let sample = keys(&cat, 2000);
    let by_key = |(_, code, sheet, parcel): &(i64, String, i64, i64)| ParcelQuery {
        commune: Some(code.clone()),
        sheet: Some(*sheet),
        parcel: Some(*parcel),
        limit: 20,
        ..Default::default()
    };
    let gaz = geoplan::planning::admin::Gazetteer::from_catalog(&cat).unwrap();
    let by_text = |(_, code, sheet, parcel): &(i64, String, i64, i64)| ParcelQuery {
        q: Some(format!(
            "tờ {sheet} thửa {parcel} {}",
            gaz.commune(code).map_or(code.as_str(), |u| u.name.as_str())
        )),
        limit: 20,
        ..Default::default()
    };
    let info = |fid: i64| InfoQuery {
        subject: Subject::Parcel(fid),
        as_of: "2026-06-01".into(),
        tolerance_m: 0.5,
    };
    // Warm the keyed index and PROJ before timing.
    find(&cat, &by_key(&sample[0])).unwrap();
    answer(&cat, &info(sample[0].0)).unwrap();

    percentiles(
        "lookup by key (commune code, sheet, parcel)",
        sample
            .iter()
            .map(|k| time(|| find(&cat, &by_key(k)).unwrap()))
            .collect(),
    );
    percentiles(
        "lookup by free text (\"tờ N thửa M <commune>\")",
        sample
            .iter()
            .map(|k| time(|| find(&cat, &by_text(k)).unwrap()))
            .collect(),
    );
    percentiles(
        "planning answer for a parcel",
        sample[..500]
            .iter()
            .map(|k| time(|| answer(&cat, &info(k.0)).unwrap()))
            .collect(),
    );

    let mut i = 0;
    c.bench_function("planning: parcel lookup by key, 1M parcels", |b| {
        b.iter(|| {
            i = (i + 1) % sample.len();
            find(&cat, &by_key(&sample[i])).unwrap()
        })
    });
    c.bench_function("planning: parcel lookup by free text, 1M parcels", |b| {
        b.iter(|| {
            i = (i + 1) % sample.len();
            find(&cat, &by_text(&sample[i])).unwrap()
        })
    });
    c.bench_function("planning: answer for a parcel, 1M parcels", |b| {
        b.iter(|| {
            i = (i + 1) % 500;
            answer(&cat, &info(sample[i].0)).unwrap()
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(50).measurement_time(Duration::from_secs(5));
    targets = bench
}
criterion_main!(benches);
