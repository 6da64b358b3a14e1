//! The HTTP API over the committed sample GeoPackage, called through the
//! router as a client would (no mocks): layers, features, paging, CRSs,
//! filters, and clear 4xx answers to bad input.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use geo::{InteriorPoint, Intersects};
use geo_types::{Coord, Rect};
use geoplan::config::Config;
use geoplan::crs::{self, Crs};
use geoplan::http::{app, AppState};
use geoplan::model::ValueRef;
use geoplan::store::{gpkg::GpkgStore, Store};
use http_body_util::BodyExt;
use serde_json::Value;
use tokio::sync::OnceCell;
use tower::ServiceExt;

const SAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/sample.gpkg");

static STATE: OnceCell<AppState> = OnceCell::const_new();

async fn state() -> &'static AppState {
    STATE
        .get_or_init(|| async {
            let store =
                Store::Gpkg(GpkgStore::open(SAMPLE).expect("data/sample.gpkg is committed"));
            let cfg = Config {
                public_url: Some("https://geo.example.vn/api".into()),
                ..Config::default()
            };
            let s = AppState::new(store, cfg);
            s.load_all().await.unwrap();
            s
        })
        .await
}

async fn get(uri: &str) -> (StatusCode, String, Value) {
    let res = app(state().await.clone())
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let ct = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    let json = serde_json::from_slice(&body).unwrap_or(Value::Null);
    (status, ct, json)
}

fn sample_parcels() -> geoplan::model::LayerData {
    GpkgStore::open(SAMPLE)
        .unwrap()
        .read_layer("parcels")
        .unwrap()
}

#[tokio::test]
async fn health_and_ready_answer() {
    let (s, _, j) = get("/health").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(j["status"], "ok");
    let (s, _, j) = get("/ready").await;
    assert_eq!(s, StatusCode::OK, "{j}");
    assert_eq!(j["status"], "ready");
}

#[tokio::test]
async fn layers_list_every_sample_layer_with_counts_extents_and_schema() {
    let (s, _, j) = get("/layers").await;
    assert_eq!(s, StatusCode::OK);
    let layers = j["layers"].as_array().unwrap();
    let ids: Vec<&str> = layers.iter().map(|l| l["id"].as_str().unwrap()).collect();
    for want in [
        "admin_units",
        "admin_lineage",
        "parcels",
        "zoning_lots",
        "plans",
        "roads",
        "water",
        "industrial_zones",
        "pois",
        "investment_projects",
    ] {
        assert!(ids.contains(&want), "{want} missing from {ids:?}");
    }
    let parcels = layers.iter().find(|l| l["id"] == "parcels").unwrap();
    let n = parcels["feature_count"].as_u64().unwrap();
    assert_eq!(n as usize, sample_parcels().len());
    assert!(n >= 20_000);
    assert_eq!(parcels["geometry_type"], "Polygon");
    let bbox: Vec<f64> = serde_json::from_value(parcels["extent"]["bbox"].clone()).unwrap();
    // Inside Đà Nẵng – Quảng Nam (107.1–108.8 E, 14.9–16.3 N).
    assert!(
        bbox[0] > 107.0 && bbox[2] < 108.9 && bbox[1] > 14.9 && bbox[3] < 16.3,
        "{bbox:?}"
    );
    let fields: Vec<&str> = parcels["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    for f in [
        "commune_code",
        "sheet_number",
        "parcel_number",
        "legal_area",
        "land_use_code",
        "synthetic",
    ] {
        assert!(fields.contains(&f), "{f} missing");
    }
}

/// Brute force, independent of the R-tree: which sample parcels intersect
/// a CRS84 box?
fn brute_force_bbox(min: Coord<f64>, max: Coord<f64>) -> Vec<i64> {
    let d = sample_parcels();
    let (lo, hi) = crs::transform_bbox(Crs::Crs84, Crs::Epsg(3857), min, max).unwrap();
    let rect = Rect::new(lo, hi).to_polygon();
    let mut out = Vec::new();
    for row in 0..d.len() {
        let mut g = d.geometry_of(row).unwrap();
        use geo::MapCoordsInPlace;
        g.map_coords_in_place(|c| crs::transform_one(Crs::Epsg(5899), Crs::Epsg(3857), c).unwrap());
        if g.intersects(&rect) {
            out.push(d.fids[row]);
        }
    }
    out
}

fn fids(j: &Value) -> Vec<i64> {
    j["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn a_bbox_query_pages_through_exactly_the_parcels_in_the_box() {
    // Around Hội An's old town.
    let (min, max) = (
        Coord {
            x: 108.31,
            y: 15.86,
        },
        Coord {
            x: 108.35,
            y: 15.89,
        },
    );
    let want = brute_force_bbox(min, max);
    assert!(
        want.len() > 50,
        "the sample should have parcels in Hội An, got {}",
        want.len()
    );
    let mut uri = format!(
        "/layers/parcels/features?bbox={},{},{},{}&limit=37",
        min.x, min.y, max.x, max.y
    );
    let mut got = Vec::new();
    loop {
        let (s, ct, j) = get(&uri).await;
        assert_eq!(s, StatusCode::OK, "{j}");
        assert_eq!(ct, "application/geo+json");
        assert_eq!(j["numberMatched"].as_u64().unwrap() as usize, want.len());
        assert_eq!(
            j["numberReturned"].as_u64().unwrap() as usize,
            fids(&j).len()
        );
        got.extend(fids(&j));
        let next = j["links"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["rel"] == "next");
        match next {
            Some(l) => {
                let href = l["href"].as_str().unwrap();
                let prefix = "https://geo.example.vn/api";
                assert!(
                    href.starts_with(prefix),
                    "next link is not absolute: {href}"
                );
                uri = href[prefix.len()..].to_owned();
            }
            None => break,
        }
    }
    assert_eq!(got, want);
}

#[tokio::test]
async fn output_crs_5899_gives_back_the_stored_coordinates_and_4326_is_lat_lon() {
    let d = sample_parcels();
    let row = d.len() / 2;
    let fid = d.fids[row];
    let stored = d.geometry.coords_of(row)[0];
    let (s, _, j) = get(&format!("/layers/parcels/features/{fid}?crs=EPSG:5899")).await;
    assert_eq!(s, StatusCode::OK, "{j}");
    let c = &j["geometry"]["coordinates"][0][0];
    assert!(
        (c[0].as_f64().unwrap() - stored.x).abs() < 0.001,
        "{c} vs {stored:?}"
    );
    assert!(
        (c[1].as_f64().unwrap() - stored.y).abs() < 0.001,
        "{c} vs {stored:?}"
    );
    let (_, _, crs84) = get(&format!("/layers/parcels/features/{fid}")).await;
    let (_, _, epsg4326) = get(&format!("/layers/parcels/features/{fid}?crs=EPSG:4326")).await;
    let a = &crs84["geometry"]["coordinates"][0][0];
    let b = &epsg4326["geometry"]["coordinates"][0][0];
    assert_eq!((a[0].clone(), a[1].clone()), (b[1].clone(), b[0].clone()));
    let lon = a[0].as_f64().unwrap();
    assert!(
        (107.0..109.0).contains(&lon),
        "CRS84 must be lon first: {a}"
    );
    // Attributes keep their Vietnamese text.
    let addr = crs84["properties"]["address"].as_str().unwrap();
    match d.value(row, d.field_index("address").unwrap()) {
        ValueRef::Text(t) => assert_eq!(addr, t),
        other => panic!("address is {other:?}"),
    }
}

#[tokio::test]
async fn a_point_finds_the_parcel_that_contains_it() {
    let d = sample_parcels();
    let row = d.len() / 3;
    let inside = d.geometry_of(row).unwrap().interior_point().unwrap();
    let ll = crs::transform_one(Crs::Epsg(5899), Crs::Crs84, inside.0).unwrap();
    let (s, _, j) = get(&format!("/layers/parcels/features?point={},{}", ll.x, ll.y)).await;
    assert_eq!(s, StatusCode::OK, "{j}");
    assert_eq!(fids(&j), vec![d.fids[row]]);
    // The same point in VN-2000 coordinates.
    let (_, _, j) = get(&format!(
        "/layers/parcels/features?point={},{}&point-crs=EPSG:5899",
        inside.x(),
        inside.y()
    ))
    .await;
    assert_eq!(fids(&j), vec![d.fids[row]]);
}

#[tokio::test]
async fn filters_count_exactly_what_the_store_holds() {
    let d = sample_parcels();
    let code = d.field_index("land_use_code").unwrap();
    let area = d.field_index("legal_area").unwrap();
    let want = (0..d.len())
        .filter(|&r| {
            d.value(r, code) == ValueRef::Text("ODT")
                && d.value(r, area).as_f64().is_some_and(|a| a >= 100.0)
        })
        .count();
    assert!(want > 0);
    let (s, _, j) = get("/layers/parcels/features?filter=land_use_code%20%3D%20%27ODT%27%20AND%20legal_area%20%3E%3D%20100&limit=1").await;
    assert_eq!(s, StatusCode::OK, "{j}");
    assert_eq!(j["numberMatched"].as_u64().unwrap() as usize, want);
    let (_, _, j2) =
        get("/layers/parcels/features?land_use_code=ODT&filter=legal_area%20%3E%3D%20100&limit=1")
            .await;
    assert_eq!(j2["numberMatched"], j["numberMatched"]);
}

async fn expect_problem(uri: &str, status: StatusCode, mention: &str) {
    let (s, ct, j) = get(uri).await;
    assert_eq!(s, status, "{uri}: {j}");
    assert_eq!(ct, "application/problem+json", "{uri}");
    let detail = j["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains(mention),
        "{uri}: '{detail}' should mention '{mention}'"
    );
    assert_eq!(j["status"].as_u64(), Some(status.as_u16() as u64));
}

#[tokio::test]
async fn bad_input_gets_a_clear_4xx_naming_the_problem() {
    let bad = StatusCode::BAD_REQUEST;
    expect_problem("/layers/parcels/features?bbox=1,2,3", bad, "bbox").await;
    expect_problem("/layers/parcels/features?bbox=a,2,3,4", bad, "bbox").await;
    expect_problem("/layers/parcels/features?bbox=108,16,107,15", bad, "bbox").await;
    expect_problem(
        "/layers/parcels/features?bbox=15,108,16,109&bbox-crs=CRS:84",
        bad,
        "latitude",
    )
    .await;
    expect_problem("/layers/parcels/features?bbox=NaN,1,2,3", bad, "bbox").await;
    expect_problem("/layers/parcels/features?limit=1000000", bad, "limit").await;
    expect_problem("/layers/parcels/features?limit=-1", bad, "limit").await;
    expect_problem("/layers/parcels/features?offset=x", bad, "offset").await;
    expect_problem("/layers/parcels/features?crs=EPSG:2154", bad, "EPSG:2154").await;
    expect_problem(
        "/layers/parcels/features?bbox-crs=EPSG:9999&bbox=1,2,3,4",
        bad,
        "bbox-crs",
    )
    .await;
    expect_problem(
        "/layers/parcels/features?filter=legal_area%20%3E",
        bad,
        "CQL2",
    )
    .await;
    expect_problem(
        "/layers/parcels/features?filter=area%20%3E%201",
        bad,
        "area",
    )
    .await;
    expect_problem(
        "/layers/parcels/features?filter=legal_area%20%3E%20%27big%27",
        bad,
        "legal_area",
    )
    .await;
    expect_problem(
        "/layers/parcels/features?filter-lang=sql&filter=a%3D1",
        bad,
        "filter-lang",
    )
    .await;
    expect_problem("/layers/parcels/features?colour=red", bad, "colour").await;
    let deep = format!(
        "/layers/parcels/features?filter={}legal_area%3D1{}",
        "(".repeat(100),
        ")".repeat(100)
    );
    expect_problem(&deep, bad, "").await;
    let nf = StatusCode::NOT_FOUND;
    expect_problem("/layers/nope/features", nf, "nope").await;
    expect_problem("/layers/parcels/features/999999999", nf, "999999999").await;
    expect_problem("/layers/parcels/features/abc", nf, "abc").await;
    expect_problem("/nowhere", nf, "endpoint").await;
}

#[tokio::test]
async fn without_a_public_url_links_follow_the_host_the_client_used() {
    let store = Store::Gpkg(GpkgStore::open(SAMPLE).unwrap());
    let s = AppState::new(
        store,
        Config {
            listen: "0.0.0.0:8080".into(),
            ..Config::default()
        },
    );
    s.load_all().await.unwrap();
    let res = app(s.clone())
        .oneshot(
            Request::get("/layers/pois/features?limit=1")
                .header("host", "gis.danang.local:9000")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    let j: Value = serde_json::from_slice(&body).unwrap();
    let next = j["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["rel"] == "next")
        .unwrap();
    assert!(
        next["href"]
            .as_str()
            .unwrap()
            .starts_with("http://gis.danang.local:9000/layers/pois/features?"),
        "{next}"
    );
    // A hostile Host header is not echoed; the listen address (made usable) is.
    let res = app(s)
        .oneshot(
            Request::get("/layers/pois/features?limit=1")
                .header("host", "evil\"><script>")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    let j: Value = serde_json::from_slice(&body).unwrap();
    assert!(j["links"][0]["href"]
        .as_str()
        .unwrap()
        .starts_with("http://localhost:8080/"));
}
