//! Vector tiles over the committed sample, fetched through the router as a
//! map client would and decoded by an independent reader: GDAL's MVT
//! driver. Features, attributes and geometry are compared with the sample
//! GeoPackage read and intersected on its own (no engine, no R-tree).

use axum::body::Body;
use axum::http::{Request, StatusCode};
use geo::{Area, BoundingRect, Intersects};
use geo_types::{Coord, Geometry, Rect};
use geoplan::config::Config;
use geoplan::crs::{self, Crs};
use geoplan::http::{app, AppState};
use geoplan::model::{LayerData, ValueRef};
use geoplan::store::{gpkg::GpkgStore, Store};
use geoplan::tiles::TileCoord;
use http_body_util::BodyExt;
use std::collections::{BTreeMap, BTreeSet};
use tokio::sync::OnceCell;
use tower::ServiceExt;

mod common;
use common::{decode, Decoded};

const SAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/sample.gpkg");
const GOLDEN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden");

static STATE: OnceCell<AppState> = OnceCell::const_new();

async fn state() -> &'static AppState {
    STATE
        .get_or_init(|| async {
            let s = AppState::new(
                Store::Gpkg(GpkgStore::open(SAMPLE).unwrap()),
                Config {
                    public_url: Some("https://geo.example.vn/api".into()),
                    ..Config::default()
                },
            );
            s.load_all().await.unwrap();
            s
        })
        .await
}

struct Answer {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: Vec<u8>,
}

async fn fetch(uri: &str, headers: &[(&str, &str)]) -> Answer {
    let mut req = Request::get(uri);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = app(state().await.clone())
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let body = res.into_body().collect().await.unwrap().to_bytes().to_vec();
    Answer {
        status,
        headers,
        body,
    }
}

fn sample_layer(name: &str) -> LayerData {
    GpkgStore::open(SAMPLE).unwrap().read_layer(name).unwrap()
}

fn mercator(d: &LayerData, row: usize) -> Geometry<f64> {
    use geo::MapCoordsInPlace;
    let mut g = d.geometry_of(row).unwrap();
    g.map_coords_in_place(|c| crs::transform_one(Crs::Epsg(5899), Crs::Epsg(3857), c).unwrap());
    g
}

fn grown(r: Rect<f64>, by: f64) -> Rect<f64> {
    Rect::new(
        Coord {
            x: r.min().x - by,
            y: r.min().y - by,
        },
        Coord {
            x: r.max().x + by,
            y: r.max().y + by,
        },
    )
}

/// The tile of zoom `z` holding the first vertex of sample parcel `row`.
fn tile_of(d: &LayerData, row: usize, z: u8) -> TileCoord {
    let p = match mercator(d, row) {
        Geometry::Polygon(p) => p.exterior().0[0],
        g => panic!("parcel is {g:?}"),
    };
    let r = Rect::new(p, p);
    let (xs, ys) = TileCoord::range(z, &r);
    TileCoord::new(z.into(), *xs.start(), *ys.start(), 22).unwrap()
}

fn text(v: ValueRef<'_>) -> Option<String> {
    match v {
        ValueRef::Null => None,
        ValueRef::Text(t) => Some(t.to_owned()),
        ValueRef::Int(i) => Some(i.to_string()),
        ValueRef::Real(r) => Some(r.to_string()),
        ValueRef::Bool(b) => Some(b.to_string()),
    }
}

#[tokio::test]
async fn parcel_tiles_at_z15_and_16_hold_exactly_the_parcels_of_their_extent() {
    let d = sample_layer("parcels");
    let mut checked = 0;
    for (row, z) in [(5_000usize, 15u8), (12_000, 15), (17_000, 16), (800, 16)] {
        let c = tile_of(&d, row, z);
        let a = fetch(&format!("/tiles/parcels/{}/{}/{}.mvt", c.z, c.x, c.y), &[]).await;
        assert_eq!(a.status, StatusCode::OK, "{c:?}");
        let tile = decode(&a.body, c);
        let got = &tile["parcels"];
        let ids: BTreeSet<i64> = got.iter().map(|f| f.id).collect();
        assert_eq!(ids.len(), got.len(), "one feature per parcel");
        // Independent answer: parcels intersecting the tile, and those
        // intersecting the tile grown by its 64/4096 buffer.
        let b = c.bounds();
        let pad = (b.max().x - b.min().x) * 64.0 / 4096.0;
        let (inner, outer) = (b.to_polygon(), grown(b, pad).to_polygon());
        let mut must = BTreeSet::new();
        let mut may = BTreeSet::new();
        for r in 0..d.len() {
            let g = mercator(&d, r);
            if g.intersects(&outer) {
                may.insert(d.fids[r]);
                if g.intersects(&inner) {
                    must.insert(d.fids[r]);
                }
            }
        }
        assert!(!must.is_empty());
        assert!(
            must.is_subset(&ids),
            "parcels of the tile missing: {:?}",
            must.difference(&ids).collect::<Vec<_>>()
        );
        assert!(
            ids.is_subset(&may),
            "parcels from outside the buffer: {:?}",
            ids.difference(&may).collect::<Vec<_>>()
        );
        let unit = (b.max().x - b.min().x) / 4096.0;
        for f in got {
            let r = d.row_of(f.id).unwrap();
            // Attributes: what the map labels need, typed and exact.
            for name in [
                "parcel_number",
                "land_use_code",
                "commune_code",
                "sheet_number",
            ] {
                let col = d.fields.iter().position(|x| x.name == name).unwrap();
                assert_eq!(
                    f.attrs.get(name),
                    text(d.value(r, col)).as_ref(),
                    "{name} of {}",
                    f.id
                );
            }
            let col = d
                .fields
                .iter()
                .position(|x| x.name == "legal_area")
                .unwrap();
            let want = d.value(r, col).as_f64().unwrap();
            let area: f64 = f.attrs["legal_area"].parse().unwrap();
            assert!((area - want).abs() < 1e-9, "legal_area of {}", f.id);
            assert!(
                !f.attrs.contains_key("address"),
                "address is not a tile attribute"
            );
            assert!(f.valid, "parcel {} decodes as an invalid polygon", f.id);
            // Geometry: a parcel wholly inside the tile comes back with its
            // area, up to the rounding to the tile grid.
            let g = mercator(&d, r);
            let bb = g.bounding_rect().unwrap();
            if b.min().x < bb.min().x
                && bb.max().x < b.max().x
                && b.min().y < bb.min().y
                && bb.max().y < b.max().y
            {
                let perimeter: f64 = match &g {
                    Geometry::Polygon(p) => p
                        .exterior()
                        .lines()
                        .map(|l| (l.dx() * l.dx() + l.dy() * l.dy()).sqrt())
                        .sum(),
                    _ => unreachable!(),
                };
                let (a0, a1) = (g.unsigned_area(), f.geom.unsigned_area());
                assert!(
                    (a0 - a1).abs() <= perimeter * unit,
                    "parcel {}: area {a1} in the tile vs {a0}",
                    f.id
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 100, "only {checked} parcels compared by area");
}

/// From commune scale (z11) to z14 the parcels layer is the current
/// land-use map: parcels merged by land-use code, each code keeping its area
/// within the tile up to the generalisation of sub-pixel parcels.
#[tokio::test]
async fn from_z11_to_z14_parcels_merge_by_land_use_and_keep_the_area_of_each_code() {
    use geo::BooleanOps;
    let d = sample_layer("parcels");
    let col = d
        .fields
        .iter()
        .position(|f| f.name == "land_use_code")
        .unwrap();
    let parcels: Vec<(String, geo_types::MultiPolygon<f64>)> = (0..d.len())
        .filter_map(|r| match mercator(&d, r) {
            Geometry::Polygon(p) => Some((
                text(d.value(r, col)).unwrap(),
                geo_types::MultiPolygon(vec![p]),
            )),
            _ => None,
        })
        .collect();
    for z in 11..=14u8 {
        for row in [5_000usize, 12_000] {
            let c = tile_of(&d, row, z);
            let a = fetch(&format!("/tiles/parcels/{}/{}/{}.mvt", c.z, c.x, c.y), &[]).await;
            assert_eq!(a.status, StatusCode::OK, "{c:?}");
            let tile = decode(&a.body, c);
            let got = &tile["parcels"];
            let b = c.bounds();
            let clip = geo_types::MultiPolygon(vec![b.to_polygon()]);
            // Independent: each code's parcel area inside the tile.
            let mut want: BTreeMap<String, f64> = BTreeMap::new();
            let mut parcels_here = 0;
            for (code, p) in &parcels {
                let pb = p.bounding_rect().unwrap();
                if pb.max().x < b.min().x
                    || pb.min().x > b.max().x
                    || pb.max().y < b.min().y
                    || pb.min().y > b.max().y
                {
                    continue;
                }
                let inside = p.intersection(&clip).unsigned_area();
                if inside > 0.0 {
                    parcels_here += 1;
                    *want.entry(code.clone()).or_default() += inside;
                }
            }
            let mut have: BTreeMap<String, f64> = BTreeMap::new();
            for f in got {
                // Merged features carry the land-use code only, and no id.
                assert_eq!(f.attrs.keys().collect::<Vec<_>>(), ["land_use_code"]);
                assert!(f.id <= 0, "a merged feature has no parcel id");
                let inside = match &f.geom {
                    Geometry::Polygon(p) => geo_types::MultiPolygon(vec![p.clone()]),
                    Geometry::MultiPolygon(m) => m.clone(),
                    g => panic!("{g:?}"),
                }
                .intersection(&clip)
                .unsigned_area();
                *have.entry(f.attrs["land_use_code"].clone()).or_default() += inside;
            }
            assert!(
                got.len() * 5 < parcels_here,
                "{c:?}: {} features for {parcels_here} parcels: not merged",
                got.len()
            );
            let invalid = got.iter().filter(|f| !f.valid).count();
            assert_eq!(
                invalid,
                0,
                "{c:?}: {invalid} of {} merged features not OGC-valid after snapping",
                got.len()
            );
            // Below z14 a parcel can be smaller than a pixel: the slack per
            // code grows with the pixel (256 per tile) and a small share of
            // all parcel area here; the total stays within 10 %.
            let total: f64 = want.values().sum();
            let px = (b.max().x - b.min().x) / 256.0;
            let share = if z < 14 { 0.02 } else { 0.0 };
            for (code, w) in &want {
                let h = have.get(code).copied().unwrap_or(0.0);
                assert!(
                    (h - w).abs() <= 0.1 * w + share * total + f64::max(500.0, 4.0 * px * px),
                    "{code} at {c:?}: {h} m² vs {w} m²"
                );
            }
            let have_total: f64 = have.values().sum();
            assert!(
                (have_total - total).abs() <= 0.1 * total,
                "{c:?}: {have_total} m² of land use vs {total} m² of parcels"
            );
        }
    }
}

#[tokio::test]
async fn below_their_minimum_zoom_parcels_are_absent_and_generalised_layers_keep_their_shape() {
    let d = sample_layer("parcels");
    let c = tile_of(&d, 5_000, 10);
    let a = fetch(&format!("/tiles/parcels/{}/{}/{}.mvt", c.z, c.x, c.y), &[]).await;
    assert_eq!(a.status, StatusCode::NO_CONTENT);
    // Zoning lots at z10: simplified copies, every lot of at least a pixel
    // kept, and the whole set still covering about the same area.
    let lots = sample_layer("zoning_lots");
    let c = tile_of(&lots, 0, 10);
    let a = fetch(
        &format!("/tiles/zoning_lots/{}/{}/{}.mvt", c.z, c.x, c.y),
        &[],
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    let tile = decode(&a.body, c);
    let got = &tile["zoning_lots"];
    let b = c.bounds();
    let mut want_area = 0.0;
    for r in 0..lots.len() {
        let g = mercator(&lots, r);
        let bb = g.bounding_rect().unwrap();
        if b.min().x < bb.min().x
            && bb.max().x < b.max().x
            && b.min().y < bb.min().y
            && bb.max().y < b.max().y
        {
            want_area += g.unsigned_area();
        }
    }
    let got_area: f64 = got
        .iter()
        .filter(|f| {
            let bb = f.geom.bounding_rect().unwrap();
            b.min().x < bb.min().x
                && bb.max().x < b.max().x
                && b.min().y < bb.min().y
                && bb.max().y < b.max().y
        })
        .map(|f| f.geom.unsigned_area())
        .sum();
    assert!(want_area > 0.0);
    assert!(
        (got_area - want_area).abs() / want_area < 0.25,
        "z10 zoning area {got_area} vs {want_area}"
    );
    assert!(got.iter().all(|f| f.valid));
}

#[tokio::test]
async fn several_layers_share_one_tile_and_outside_the_data_it_is_empty() {
    let d = sample_layer("parcels");
    let c = tile_of(&d, 12_000, 14);
    let a = fetch(
        &format!(
            "/tiles/parcels,roads,admin_units/{}/{}/{}.pbf",
            c.z, c.x, c.y
        ),
        &[],
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    let tile = decode(&a.body, c);
    assert!(
        tile.contains_key("parcels") && tile.contains_key("admin_units"),
        "{:?}",
        tile.keys()
    );
    // The open sea east of the Paracels, and the far side of the world.
    for uri in [
        "/tiles/parcels,roads/14/13500/7400.mvt",
        "/tiles/admin_units/3/0/0.mvt",
    ] {
        let a = fetch(uri, &[]).await;
        assert_eq!(a.status, StatusCode::NO_CONTENT, "{uri}");
        assert!(a.body.is_empty());
    }
}

#[tokio::test]
async fn tiles_are_gzipped_when_asked_and_revalidate_with_their_etag() {
    let d = sample_layer("parcels");
    let c = tile_of(&d, 5_000, 15);
    let uri = format!("/tiles/parcels/{}/{}/{}.mvt", c.z, c.x, c.y);
    let raw = fetch(&uri, &[]).await;
    assert_eq!(
        raw.headers["content-type"],
        "application/vnd.mapbox-vector-tile"
    );
    assert!(raw.headers.get("content-encoding").is_none());
    let gz = fetch(&uri, &[("accept-encoding", "br, gzip")]).await;
    assert_eq!(gz.headers["content-encoding"], "gzip");
    let mut unzipped = Vec::new();
    use std::io::Read;
    flate2::read::GzDecoder::new(&gz.body[..])
        .read_to_end(&mut unzipped)
        .unwrap();
    assert_eq!(unzipped, raw.body);
    assert!(gz.body.len() < raw.body.len());
    let etag = raw.headers["etag"].to_str().unwrap().to_owned();
    assert_eq!(gz.headers["etag"], etag.as_str());
    let again = fetch(&uri, &[("if-none-match", &etag)]).await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    assert!(again.body.is_empty());
    let other = fetch(&uri, &[("if-none-match", "\"something-else\"")]).await;
    assert_eq!(other.status, StatusCode::OK);
}

#[tokio::test]
async fn bad_tile_requests_get_a_problem_naming_what_is_wrong() {
    for (uri, mention) in [
        ("/tiles/parcels/3/8/0.mvt", "below 8"),
        ("/tiles/parcels/3/0/-1.mvt", "whole number"),
        ("/tiles/parcels/23/0/0.mvt", "0..=22"),
        ("/tiles/parcels/99999999999/0/0.mvt", "whole number"),
        ("/tiles/nope/1/0/0.mvt", "unknown layer 'nope'"),
        ("/tiles/parcels,,roads/1/0/0.mvt", "comma list"),
        ("/tiles/parcels/1/0/0.png", "{y}.mvt"),
        ("/tiles/nope.json", "unknown layer 'nope'"),
    ] {
        let a = fetch(uri, &[]).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{uri}");
        assert_eq!(a.headers["content-type"], "application/problem+json");
        let j: serde_json::Value = serde_json::from_slice(&a.body).unwrap();
        let detail = j["detail"].as_str().unwrap();
        assert!(detail.contains(mention), "{uri}: {detail}");
    }
}

#[tokio::test]
async fn tilejson_describes_the_layers_with_absolute_urls_and_fields() {
    let a = fetch("/tiles/parcels,zoning_lots.json", &[]).await;
    assert_eq!(a.status, StatusCode::OK);
    let j: serde_json::Value = serde_json::from_slice(&a.body).unwrap();
    assert_eq!(j["tilejson"], "3.0.0");
    assert_eq!(
        j["tiles"][0],
        "https://geo.example.vn/api/tiles/parcels,zoning_lots/{z}/{x}/{y}.mvt"
    );
    let b: Vec<f64> = serde_json::from_value(j["bounds"].clone()).unwrap();
    assert!(
        b[0] > 107.0 && b[2] < 109.0 && b[1] > 14.5 && b[3] < 16.5,
        "{b:?}"
    );
    let vl = j["vector_layers"].as_array().unwrap();
    assert_eq!(vl.len(), 2);
    assert_eq!(vl[0]["id"], "parcels");
    assert_eq!(vl[0]["minzoom"], 11);
    assert_eq!(vl[0]["fields"]["legal_area"], "Number");
    assert_eq!(vl[0]["fields"]["land_use_code"], "String");
    assert!(vl[0]["fields"].get("address").is_none());
    assert_eq!(vl[1]["minzoom"], 0);
    assert_eq!(j["minzoom"], 0);
}

/// A readable dump of a tile: per layer, features by id with attributes and
/// geometry (EPSG:3857, centimetres). Reviewed like code in tests/golden/.
fn dump(tile: &BTreeMap<String, Vec<Decoded>>) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    for (layer, feats) in tile {
        let vertices: usize = feats
            .iter()
            .map(|f| {
                use geo::CoordsIter;
                f.geom.coords_count()
            })
            .sum();
        writeln!(
            s,
            "layer {layer}: {} features, {vertices} vertices",
            feats.len()
        )
        .unwrap();
        for f in feats.iter().take(12) {
            let attrs: Vec<String> = f.attrs.iter().map(|(k, v)| format!("{k}={v}")).collect();
            writeln!(s, "  #{} {}", f.id, attrs.join(" ")).unwrap();
            let g = match &f.geom {
                Geometry::Polygon(p) => p.exterior().0.clone(),
                Geometry::MultiPolygon(m) => m.0[0].exterior().0.clone(),
                Geometry::LineString(l) => l.0.clone(),
                Geometry::MultiLineString(m) => m.0[0].0.clone(),
                Geometry::Point(p) => vec![p.0],
                Geometry::MultiPoint(m) => m.0.iter().map(|p| p.0).collect(),
                g => panic!("unexpected {g:?}"),
            };
            let pts: Vec<String> = g
                .iter()
                .take(8)
                .map(|c| format!("{:.2} {:.2}", c.x, c.y))
                .collect();
            writeln!(
                s,
                "    {}{}",
                pts.join(", "),
                if g.len() > 8 { ", …" } else { "" }
            )
            .unwrap();
        }
    }
    s
}

#[tokio::test]
async fn golden_dumps_of_three_tiles_match_the_reviewed_files() {
    let d = sample_layer("parcels");
    let cases = [
        ("parcels_z16", "parcels", tile_of(&d, 17_000, 16)),
        (
            "planning_z14",
            "parcels,zoning_lots,roads",
            tile_of(&d, 5_000, 14),
        ),
        (
            "province_z8",
            "admin_units,water,industrial_zones",
            tile_of(&d, 5_000, 8),
        ),
    ];
    let update = std::env::var("GEOPLAN_UPDATE_GOLDEN").is_ok();
    for (name, layers, c) in cases {
        let a = fetch(&format!("/tiles/{layers}/{}/{}/{}.mvt", c.z, c.x, c.y), &[]).await;
        assert_eq!(a.status, StatusCode::OK, "{name}");
        let text = format!(
            "tile {}/{}/{} of {layers}\n{}",
            c.z,
            c.x,
            c.y,
            dump(&decode(&a.body, c))
        );
        let path = format!("{GOLDEN}/{name}.txt");
        if update {
            std::fs::create_dir_all(GOLDEN).unwrap();
            std::fs::write(&path, &text).unwrap();
        }
        let want = std::fs::read_to_string(&path).unwrap_or_else(|_| {
            panic!("{path} missing: run with GEOPLAN_UPDATE_GOLDEN=1 and review it")
        });
        assert_eq!(
            text, want,
            "{name} changed: review and update with GEOPLAN_UPDATE_GOLDEN=1"
        );
    }
}

#[tokio::test]
async fn the_style_points_at_this_server_and_its_fonts_are_served() {
    let a = fetch("/styles/planning.json", &[]).await;
    assert_eq!(a.status, StatusCode::OK);
    let s: serde_json::Value = serde_json::from_slice(&a.body).unwrap();
    let url = s["sources"]["geoplan"]["url"].as_str().unwrap();
    assert!(
        url.starts_with("https://geo.example.vn/api/tiles/") && url.ends_with(".json"),
        "{url}"
    );
    assert_eq!(
        s["glyphs"],
        "https://geo.example.vn/api/fonts/{fontstack}/{range}.pbf"
    );
    // Its TileJSON names every layer the style draws.
    let tj = fetch(url.trim_start_matches("https://geo.example.vn/api"), &[]).await;
    assert_eq!(tj.status, StatusCode::OK);
    // Vietnamese letters (U+1E00–U+1EFF) come as SDF glyphs.
    let g = fetch("/fonts/DejaVu%20Sans/7680-7935.pbf", &[]).await;
    assert_eq!(g.status, StatusCode::OK);
    assert!(g.body.len() > 10_000);
    assert_eq!(
        fetch("/fonts/DejaVu%20Sans/0-100.pbf", &[]).await.status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        fetch("/fonts/Comic%20Sans/0-255.pbf", &[]).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        fetch("/styles/nope.json", &[]).await.status,
        StatusCode::NOT_FOUND
    );
    // The map page and its MapLibre copy are served from here.
    let page = fetch("/", &[]).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(String::from_utf8_lossy(&page.body).contains("/vendor/maplibre-gl/maplibre-gl.js"));
}
