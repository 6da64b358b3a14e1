//! `geoplan seed` into PMTiles and MBTiles: the archives hold exactly the
//! tiles the server renders live, the server serves a PMTiles archive as a
//! tile source, GDAL reads the MBTiles, and a failed seed leaves nothing.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use geoplan::config::Config;
use geoplan::http::{app, AppState};
use geoplan::seed::{seed, SeedRequest};
use geoplan::store::{gpkg::GpkgStore, Store};
use geoplan::tiles::TileCoord;
use http_body_util::BodyExt;
use tower::ServiceExt;

const SAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/sample.gpkg");
const LAYERS: &str = "parcels,zoning_lots";
/// Around Hội An and Điện Bàn.
const BBOX: [f64; 4] = [108.25, 15.85, 108.40, 15.95];

fn store() -> Store {
    Store::Gpkg(GpkgStore::open(SAMPLE).unwrap())
}

async fn get(state: &AppState, uri: &str) -> (StatusCode, Vec<u8>) {
    let res = app(state.clone())
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let s = res.status();
    (
        s,
        res.into_body().collect().await.unwrap().to_bytes().to_vec(),
    )
}

fn request(out: std::path::PathBuf) -> SeedRequest {
    SeedRequest {
        layers: LAYERS.split(',').map(String::from).collect(),
        minzoom: 12,
        maxzoom: 15,
        bbox: Some(BBOX),
        out,
    }
}

/// Every tile of the request's area and zooms.
fn all_tiles() -> Vec<TileCoord> {
    let (lo, hi) = geoplan::crs::transform_bbox(
        geoplan::crs::Crs::Crs84,
        geoplan::crs::WEB_MERCATOR,
        geo_types::Coord {
            x: BBOX[0],
            y: BBOX[1],
        },
        geo_types::Coord {
            x: BBOX[2],
            y: BBOX[3],
        },
    )
    .unwrap();
    let r = geo_types::Rect::new(lo, hi);
    (12..=15u8)
        .flat_map(|z| {
            let (xs, ys) = TileCoord::range(z, &r);
            xs.flat_map(move |x| ys.clone().map(move |y| TileCoord { z, x, y }))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seeded_pmtiles_archive_serves_the_same_tiles_as_the_live_layers() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hoian.pmtiles");
    let cfg = Config::default();
    let report = seed(&store(), &cfg, &request(path.clone()), &|_, _| {})
        .await
        .unwrap();
    assert!(report.written > 10, "{report:?}");
    assert_eq!(report.visited as usize, all_tiles().len());

    let mut cfg = Config::default();
    cfg.tiles.archives.insert("hoian".into(), path);
    let state = AppState::new(store(), cfg);
    state.load_all().await.unwrap();
    let mut compared = 0;
    for c in all_tiles() {
        let (s1, archived) =
            get(&state, &format!("/tiles/hoian/{}/{}/{}.mvt", c.z, c.x, c.y)).await;
        let (s2, live) = get(
            &state,
            &format!("/tiles/{LAYERS}/{}/{}/{}.mvt", c.z, c.x, c.y),
        )
        .await;
        assert_eq!(s1, s2, "{c:?}");
        assert_eq!(archived, live, "tile {c:?} differs from the live one");
        if s1 == StatusCode::OK {
            compared += 1;
        }
    }
    assert_eq!(compared as u64, report.written);
    let (s, tj) = get(&state, "/tiles/hoian.json").await;
    assert_eq!(s, StatusCode::OK);
    let tj: serde_json::Value = serde_json::from_slice(&tj).unwrap();
    assert_eq!(tj["minzoom"], 12);
    assert_eq!(tj["maxzoom"], 15);
    assert_eq!(tj["vector_layers"][0]["id"], "parcels");
    let b: Vec<f64> = serde_json::from_value(tj["bounds"].clone()).unwrap();
    assert!(
        (b[0] - BBOX[0]).abs() < 1e-6 && (b[3] - BBOX[3]).abs() < 1e-6,
        "{b:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seeded_mbtiles_archive_opens_in_gdal_with_rows_counted_from_the_south() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hoian.mbtiles");
    let report = seed(
        &store(),
        &Config::default(),
        &request(path.clone()),
        &|_, _| {},
    )
    .await
    .unwrap();
    // GDAL's MBTiles driver reads it as vector tiles with our layers.
    use gdal::vector::LayerAccess;
    let ds = gdal::Dataset::open(&path).unwrap();
    assert_eq!(ds.driver().short_name(), "MBTiles");
    let names: Vec<String> = ds.layers().map(|l| l.name()).collect();
    assert!(names.contains(&"parcels".to_owned()), "{names:?}");
    // The tile rows are TMS: the largest tile sits at 2^z - 1 - y.
    let (z, x, y) = (report.largest.1.z, report.largest.1.x, report.largest.1.y);
    let db = rusqlite_open(&path);
    let n: i64 = db
        .query_row(
            "SELECT count(*) FROM tiles WHERE zoom_level = ?1 AND tile_column = ?2 AND tile_row = ?3",
            (z, x, (1i64 << z) - 1 - i64::from(y)),
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(n, 1);
    let total: i64 = db
        .query_row("SELECT count(*) FROM tiles", [], |r| r.get(0))
        .unwrap();
    assert_eq!(total as u64, report.written);
}

fn rusqlite_open(p: &std::path::Path) -> rusqlite::Connection {
    rusqlite::Connection::open(p).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seed_that_cannot_finish_leaves_no_archive_behind() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = Config::default();
    let mut bad = request(dir.path().join("x.pmtiles"));
    bad.layers.push("nope".into());
    let e = seed(&store(), &cfg, &bad, &|_, _| {}).await.unwrap_err();
    assert!(e.to_string().contains("nope"), "{e}");
    let e = seed(
        &store(),
        &cfg,
        &request(dir.path().join("x.zip")),
        &|_, _| {},
    )
    .await
    .unwrap_err();
    assert!(e.to_string().contains(".pmtiles or .mbtiles"), "{e}");
    let mut zooms = request(dir.path().join("y.pmtiles"));
    zooms.minzoom = 16;
    assert!(seed(&store(), &cfg, &zooms, &|_, _| {}).await.is_err());
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}
