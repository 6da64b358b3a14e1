//! Every polygon of every sampled tile is valid (MVT 2.1 §4.3.4.4: rings
//! do not self-intersect, exterior rings wind one way and holes the other,
//! no zero-area rings), checked by an independent validator: the tile is
//! decoded by GDAL's MVT driver and each polygon judged by GEOS
//! (`OGR_G_IsValid`), as `ST_IsValid` would.
//!
//! Tiles are sampled where the polygons' boundaries are, so most of them
//! cut features at the buffer edge and snap them to the 4096 grid — where
//! clipping and rounding create spikes, zero-width slivers and crossings.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use geo::CoordsIter;
use geo_types::{Geometry, Rect};
use geoplan::crs::{self, Crs};
use geoplan::http::app;
use geoplan::store::gpkg::GpkgStore;
use geoplan::tiles::TileCoord;
use http_body_util::BodyExt;
use std::collections::BTreeSet;
use tower::ServiceExt;

mod common;

const SAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/sample.gpkg");

/// At most this many tiles per layer and zoom, spread evenly over the
/// tiles that hold a vertex of the layer.
const TILES_PER_ZOOM: usize = 150;

/// Tiles of zoom `z` holding a vertex of the layer (in EPSG:3857), every
/// `n`-th of them in address order so the sample spreads over the layer.
fn boundary_tiles(vertices: &[geo_types::Coord<f64>], z: u8) -> Vec<TileCoord> {
    let mut all = BTreeSet::new();
    for &p in vertices {
        let (xs, ys) = TileCoord::range(z, &Rect::new(p, p));
        all.insert((*xs.start(), *ys.start()));
    }
    let step = all.len().div_ceil(TILES_PER_ZOOM).max(1);
    all.into_iter()
        .step_by(step)
        .map(|(x, y)| TileCoord::new(z.into(), x, y, 22).unwrap())
        .collect()
}

fn vertices_3857(layer: &str) -> Vec<geo_types::Coord<f64>> {
    let d = GpkgStore::open(SAMPLE).unwrap().read_layer(layer).unwrap();
    let mut out = Vec::new();
    for row in 0..d.len() {
        let g = d.geometry_of(row).unwrap();
        // Every vertex of small layers, a spread of them for the parcels.
        let every = (g.coords_count() / 64).max(1);
        for c in g.coords_iter().step_by(every) {
            out.push(crs::transform_one(Crs::Epsg(5899), Crs::Epsg(3857), c).unwrap());
        }
    }
    out
}

async fn tile(layer: &str, c: TileCoord) -> Option<Vec<u8>> {
    let s = common::shared_sample().await;
    let uri = format!("/tiles/{layer}/{}/{}/{}.mvt", c.z, c.x, c.y);
    let res = app(s.clone())
        .oneshot(Request::get(&uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let body = res.into_body().collect().await.unwrap().to_bytes().to_vec();
    match status {
        StatusCode::NO_CONTENT => None,
        StatusCode::OK => Some(body),
        s => panic!("{uri}: {s}"),
    }
}

#[tokio::test]
async fn every_polygon_of_every_sampled_tile_is_valid() {
    let cases: [(&str, &[u8]); 4] = [
        ("parcels", &[11, 12, 13, 14, 15, 16]),
        ("admin_units", &[6, 8, 10, 12, 14, 16]),
        ("plans", &[8, 9, 10, 11, 12, 13, 14, 15, 16]),
        ("zoning_lots", &[10, 12, 14, 16]),
    ];
    let mut report = vec!["| layer | zoom | tiles | polygons | invalid |".to_owned()];
    report.push("|---|---|---|---|---|".to_owned());
    let mut invalid_total = 0;
    let mut examples = Vec::new();
    for (layer, zooms) in cases {
        let vertices = vertices_3857(layer);
        let mut polygons_of_layer = 0;
        for &z in zooms {
            let (mut tiles, mut polygons, mut invalid) = (0, 0, 0);
            for c in boundary_tiles(&vertices, z) {
                let Some(bytes) = tile(layer, c).await else {
                    continue;
                };
                tiles += 1;
                let decoded = common::decode(&bytes, c);
                for f in decoded.get(layer).into_iter().flatten() {
                    assert!(
                        matches!(f.geom, Geometry::Polygon(_) | Geometry::MultiPolygon(_)),
                        "{layer} {c:?}: {:?}",
                        f.geom
                    );
                    polygons += 1;
                    if !f.valid {
                        invalid += 1;
                        if examples.len() < 5 {
                            examples.push(format!("{layer} {}/{}/{} #{}", c.z, c.x, c.y, f.id));
                        }
                    }
                }
            }
            report.push(format!(
                "| {layer} | {z} | {tiles} | {polygons} | {invalid} |"
            ));
            polygons_of_layer += polygons;
            invalid_total += invalid;
        }
        assert!(
            polygons_of_layer > 50,
            "{layer}: only {polygons_of_layer} polygons sampled"
        );
    }
    println!("{}", report.join("\n"));
    assert_eq!(
        invalid_total,
        0,
        "invalid polygons in tiles:\n{}\nfor example {examples:?}",
        report.join("\n")
    );
}
