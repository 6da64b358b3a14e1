//! Engine query benchmarks on the large generated dataset, with PostGIS
//! answering the same bbox queries side by side when a database is given.
//!
//! ```sh
//! geoplan sample --parcels 1000000 --out target/bench-data/parcels-1m.gpkg
//! GEOPLAN_BENCH_GPKG=target/bench-data/parcels-1m.gpkg \
//! GEOPLAN_BENCH_PG=postgres://postgres@127.0.0.1/geoplan_bench \
//!   cargo bench --bench engine
//! ```
//! (`benches/run.sh` does all of this.)
// criterion_group! writes an undocumented `pub fn`.
#![allow(missing_docs)]

use criterion::{criterion_group, criterion_main, Criterion};
use geo::InteriorPoint;
use geo_types::{Coord, Rect};
use geoplan::crs::{self, Crs, WEB_MERCATOR};
use geoplan::engine::{Layer, LayerMeta, Query, Spatial};
use geoplan::store::gpkg::GpkgStore;
use std::hint::black_box;
use std::time::Instant;

/// Resident set size of this process, MB (Linux).
fn rss_mb() -> i64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<i64>().ok())
        .map_or(-1, |pages| pages * 4096 / 1_000_000)
}

fn dataset() -> String {
    std::env::var("GEOPLAN_BENCH_GPKG")
        .unwrap_or_else(|_| "target/bench-data/parcels-1m.gpkg".into())
}

fn count(layer: &Layer, r: Rect<f64>) -> usize {
    layer
        .query(&Query {
            spatial: Some(Spatial::Bbox(r)),
            limit: 0,
            ..Default::default()
        })
        .matched
}

/// Square boxes (Web Mercator) around parcel corners, each grown until it
/// holds about `target` parcels.
fn calibrated_boxes(layer: &Layer, target: usize, n: usize) -> Vec<Rect<f64>> {
    let d = layer.data(geoplan::engine::Part::Base);
    let step = (d.len() / n).max(1);
    let mut out = Vec::new();
    for i in (0..d.len()).step_by(step).take(n * 4) {
        let c = d.geometry.coords_of(i)[0];
        let (mut lo, mut hi) = (10.0f64, 20_000.0f64);
        for _ in 0..30 {
            let mid = (lo + hi) / 2.0;
            let r = Rect::new(
                Coord {
                    x: c.x - mid,
                    y: c.y - mid,
                },
                Coord {
                    x: c.x + mid,
                    y: c.y + mid,
                },
            );
            if count(layer, r) < target {
                lo = mid
            } else {
                hi = mid
            }
        }
        let r = Rect::new(
            Coord {
                x: c.x - hi,
                y: c.y - hi,
            },
            Coord {
                x: c.x + hi,
                y: c.y + hi,
            },
        );
        let k = count(layer, r);
        if (target * 9 / 10..=target * 11 / 10).contains(&k) {
            out.push(r);
        }
        if out.len() == n {
            break;
        }
    }
    out
}

fn bench(c: &mut Criterion) {
    let path = dataset();
    let store = GpkgStore::open(&path).unwrap_or_else(|e| {
        panic!("{e}: generate it with `geoplan sample --parcels 1000000 --out {path}`")
    });
    let rss0 = rss_mb();
    let t = Instant::now();
    let data = store.read_layer("parcels").unwrap();
    let read = t.elapsed();
    geoplan::model::release_free_memory();
    let rss1 = rss_mb();
    let coords = data.geometry.coord_count();
    let geometry_heap = data.geometry.heap_bytes();
    let t = Instant::now();
    let layer = Layer::new(data, LayerMeta::default()).unwrap();
    let index = t.elapsed();
    geoplan::model::release_free_memory();
    let rss2 = rss_mb();
    println!(
        "memory: RSS {rss0} MB before, {rss1} MB after reading the layer, {rss2} MB after reprojecting and indexing; \
         the parcels layer holds {} MB: geometry buffers {} MB (raw x,y doubles {} MB), attributes and fids {} MB; indexing added {} MB (R-tree)",
        rss2 - rss0,
        geometry_heap / 1_000_000,
        coords * 16 / 1_000_000,
        (layer.heap_bytes() - geometry_heap) / 1_000_000,
        rss2 - rss1,
    );
    println!(
        "parcels: {} features, {} coordinates ({} MB as f64 pairs); GeoPackage read {:.2} s, reproject+index {:.2} s; heap {} MB",
        layer.len(),
        coords,
        coords * 16 / 1_000_000,
        read.as_secs_f64(),
        index.as_secs_f64(),
        layer.heap_bytes() / 1_000_000
    );

    let boxes = calibrated_boxes(&layer, 500, 32);
    assert!(!boxes.is_empty(), "no box with ~500 parcels found");
    let mean: usize = boxes.iter().map(|r| count(&layer, *r)).sum::<usize>() / boxes.len();
    println!("{} bbox queries of ~500 parcels (mean {mean})", boxes.len());
    let mut i = 0;
    c.bench_function(
        "engine: bbox query returning ~500 of 1M parcels (count + first page of 500)",
        |b| {
            b.iter(|| {
                i = (i + 1) % boxes.len();
                black_box(layer.query(&Query {
                    spatial: Some(Spatial::Bbox(boxes[i])),
                    limit: 500,
                    ..Default::default()
                }))
            })
        },
    );

    let d = layer.data(geoplan::engine::Part::Base);
    let points: Vec<Coord<f64>> = (0..d.len())
        .step_by((d.len() / 1000).max(1))
        .filter_map(|r| d.geometry_of(r)?.interior_point().map(|p| p.0))
        .collect();
    let mut j = 0;
    c.bench_function("engine: point-in-parcel over 1M parcels", |b| {
        b.iter(|| {
            j = (j + 1) % points.len();
            black_box(layer.query(&Query {
                spatial: Some(Spatial::Point(points[j])),
                limit: 10,
                ..Default::default()
            }))
        })
    });

    if let Ok(url) = std::env::var("GEOPLAN_BENCH_PG") {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let pool = rt
            .block_on(
                sqlx::postgres::PgPoolOptions::new()
                    .max_connections(1)
                    .connect(&url),
            )
            .expect("GEOPLAN_BENCH_PG");
        // The same boxes, as polygons in the table's CRS (EPSG:5899).
        let envs: Vec<[f64; 4]> = boxes
            .iter()
            .map(|r| {
                let (lo, hi) =
                    crs::transform_bbox(WEB_MERCATOR, Crs::Epsg(5899), r.min(), r.max()).unwrap();
                [lo.x, lo.y, hi.x, hi.y]
            })
            .collect();
        let sql = "SELECT fid FROM geoplan.parcels \
                   WHERE geom && ST_MakeEnvelope($1,$2,$3,$4,5899) \
                   AND ST_Intersects(geom, ST_MakeEnvelope($1,$2,$3,$4,5899)) ORDER BY fid LIMIT 500";
        let mut k = 0;
        c.bench_function("postgis: same bbox query via GiST (fids, first 500)", |b| {
            b.iter(|| {
                k = (k + 1) % envs.len();
                let e = envs[k];
                let rows: Vec<(i64,)> = rt
                    .block_on(
                        sqlx::query_as(sql)
                            .bind(e[0])
                            .bind(e[1])
                            .bind(e[2])
                            .bind(e[3])
                            .fetch_all(&pool),
                    )
                    .unwrap();
                black_box(rows)
            })
        });
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(50).measurement_time(std::time::Duration::from_secs(5));
    targets = bench
}
criterion_main!(benches);
