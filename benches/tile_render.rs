//! Tile hot-path micro-benchmarks on the large generated dataset: clip +
//! encode speed per core (features per second) and the cost of an empty
//! tile, which must not grow with the dataset.
//!
//! ```sh
//! GEOPLAN_BENCH_GPKG=target/bench-data/parcels-1000000.gpkg cargo bench --bench tile_render
//! ```
// criterion_group! writes an undocumented `pub fn`.
#![allow(missing_docs)]

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use geoplan::engine::{Layer, LayerMeta};
use geoplan::store::gpkg::GpkgStore;
use geoplan::tiles::{render, TileCoord, TileOptions};
use std::hint::black_box;
use std::sync::Arc;

fn bench(c: &mut Criterion) {
    let path = std::env::var("GEOPLAN_BENCH_GPKG")
        .unwrap_or_else(|_| "target/bench-data/parcels-1000000.gpkg".into());
    let store = GpkgStore::open(&path).unwrap_or_else(|e| {
        panic!("{e}: generate it with `geoplan sample --parcels 1000000 --out {path}`")
    });
    let meta = LayerMeta {
        minzoom: 14,
        tile_attributes: Some(
            [
                "commune_code",
                "sheet_number",
                "parcel_number",
                "legal_area",
                "land_use_code",
            ]
            .map(String::from)
            .to_vec(),
        ),
        ..LayerMeta::default()
    };
    let layer = Arc::new(Layer::new(store.read_layer("parcels").unwrap(), meta).unwrap());
    let layers = [layer.clone()];
    let opts = TileOptions::default();

    // The densest z15 tiles: count parcels per tile over every parcel.
    let d = layer.data(geoplan::engine::Part::Base);
    let mut counts = std::collections::HashMap::new();
    for row in (0..d.len()).step_by(7) {
        let p = d.geometry.coords_of(row)[0];
        let (xs, ys) = TileCoord::range(15, &geo_types::Rect::new(p, p));
        *counts.entry((*xs.start(), *ys.start())).or_insert(0usize) += 1;
    }
    let mut dense: Vec<_> = counts.into_iter().collect();
    dense.sort_by_key(|(k, n)| (std::cmp::Reverse(*n), *k));
    let tiles: Vec<TileCoord> = dense
        .iter()
        .take(16)
        .map(|((x, y), _)| TileCoord::new(15, *x, *y, 22).unwrap())
        .collect();
    let per_tile: Vec<usize> = tiles.iter().map(|t| render(&layers, *t, &opts).1).collect();
    let features: usize = per_tile.iter().sum();
    println!(
        "{} dense z15 tiles, {} features in all ({} per tile on average)",
        tiles.len(),
        features,
        features / tiles.len()
    );
    let mut g = c.benchmark_group("tiles");
    g.throughput(Throughput::Elements(features as u64));
    g.bench_function(
        "clip+encode the 16 densest z15 parcel tiles of 1M parcels",
        |b| {
            b.iter(|| {
                for t in &tiles {
                    black_box(render(&layers, *t, &opts));
                }
            })
        },
    );
    g.finish();

    // The current land-use map: parcels merged by land-use code from the
    // served minimum zoom (11) to z14, over the densest z15 tile.
    let served = Arc::new(
        Layer::new(
            store.read_layer("parcels").unwrap(),
            LayerMeta::from_config("parcels", &geoplan::config::Config::default()),
        )
        .unwrap(),
    );
    let served = [served];
    let mut g = c.benchmark_group("land-use map");
    for z in (served[0].meta.minzoom..15).rev() {
        let t = tiles[0];
        let shift = 15 - u32::from(z);
        let tz = TileCoord::new(u32::from(z), t.x >> shift, t.y >> shift, 22).unwrap();
        let (bytes, n) = render(&served, tz, &opts);
        println!(
            "z{z} merged tile over the densest z15: {n} features, {} bytes",
            bytes.len()
        );
        g.bench_function(format!("z{z} merged parcels tile"), |b| {
            b.iter(|| black_box(render(&served, tz, &opts)))
        });
    }
    g.finish();

    // Empty: open sea east of the coast, at z14 (parcels' minimum zoom).
    let sea = TileCoord::new(14, 13_400, 7_460, 22).unwrap();
    assert_eq!(render(&layers, sea, &opts).1, 0);
    c.bench_function("an empty z14 tile over 1M parcels", |b| {
        b.iter(|| black_box(render(&layers, sea, &opts)))
    });
    // Below the layer's minimum zoom: nothing to look up at all.
    let low = TileCoord::new(10, 838, 470, 22).unwrap();
    c.bench_function("a z10 tile below the parcels' minimum zoom", |b| {
        b.iter(|| black_box(render(&layers, low, &opts)))
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(std::time::Duration::from_secs(5));
    targets = bench
}
criterion_main!(benches);
