//! OGC API – Features at /ogcapi over the committed sample, called through
//! the router (no mocks) and by real clients (OWSLib, GDAL's OAPIF driver)
//! over a loopback socket. Counts and coordinates are compared with the
//! engine and with the stored data.

mod common;

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use geo_types::{Coord, Rect};
use geoplan::config::{Config, LayerConfig, Limits};
use geoplan::crs::{self, Crs};
use geoplan::engine::{Query, Spatial};
use geoplan::http::{app, AppState};
use geoplan::model::{LayerData, ValueRef};
use geoplan::store::{gpkg::GpkgStore, Store};
use http_body_util::BodyExt;
use serde_json::Value;
use std::collections::BTreeSet;
use tokio::sync::OnceCell;
use tower::ServiceExt;

const SAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/sample.gpkg");
const PUBLIC: &str = "https://geo.example.vn/gis";
const ROOT: &str = "https://geo.example.vn/gis/ogcapi";
const DEFAULT_LIMIT: usize = 50;
const MAX_LIMIT: usize = 5000;

/// Limits unlike the defaults, so the OpenAPI document must take them from
/// the configuration; `certificate_number` is not published.
fn config() -> Config {
    let mut c = Config {
        public_url: Some(PUBLIC.into()),
        limits: Limits {
            default_limit: DEFAULT_LIMIT,
            max_limit: MAX_LIMIT,
            ..Limits::default()
        },
        ..Config::default()
    };
    c.layers.insert(
        "parcels".into(),
        LayerConfig {
            attributes: Some(
                [
                    "commune_code",
                    "commune_name",
                    "district_name",
                    "sheet_number",
                    "parcel_number",
                    "legal_area",
                    "land_use_code",
                    "address",
                    "synthetic",
                ]
                .map(String::from)
                .to_vec(),
            ),
            ..LayerConfig::default()
        },
    );
    c
}

static STATE: OnceCell<AppState> = OnceCell::const_new();

async fn state() -> &'static AppState {
    STATE
        .get_or_init(|| async {
            let store =
                Store::Gpkg(GpkgStore::open(SAMPLE).expect("data/sample.gpkg is committed"));
            let s = AppState::new(store, config());
            s.load_all().await.unwrap();
            s
        })
        .await
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    json: Value,
}

impl Answer {
    fn ct(&self) -> &str {
        self.headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }
}

/// GETs a path or an absolute link of this API.
async fn get(uri: &str) -> Answer {
    let path = uri.strip_prefix(PUBLIC).unwrap_or(uri);
    let res = app(state().await.clone())
        .oneshot(Request::get(path).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    let json = serde_json::from_slice(&body).unwrap_or(Value::Null);
    Answer {
        status,
        headers,
        json,
    }
}

async fn ok(uri: &str) -> Value {
    let a = get(uri).await;
    assert_eq!(a.status, StatusCode::OK, "{uri}: {}", a.json);
    a.json
}

fn stored(layer: &str) -> LayerData {
    GpkgStore::open(SAMPLE).unwrap().read_layer(layer).unwrap()
}

/// The engine's count for a query over a layer.
async fn engine_count(layer: &str, spatial: Option<Spatial>) -> usize {
    let cat = state().await.data.engine.snapshot();
    cat.layer(layer)
        .unwrap()
        .query(&Query {
            spatial,
            filter: None,
            offset: 0,
            limit: 0,
        })
        .matched
}

fn link<'a>(j: &'a Value, rel: &str) -> Option<&'a Value> {
    j["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["rel"] == rel)
}

fn matched(j: &Value) -> usize {
    j["numberMatched"].as_u64().expect("numberMatched") as usize
}

#[tokio::test]
async fn the_landing_page_links_service_desc_conformance_and_data() {
    for uri in ["/ogcapi", "/ogcapi/", "/ogcapi?f=json"] {
        let a = get(uri).await;
        assert_eq!(a.status, StatusCode::OK, "{uri}");
        assert!(a.ct().starts_with("application/json"), "{}", a.ct());
        let j = a.json;
        assert!(j["title"].as_str().is_some_and(|t| !t.is_empty()));
        let sd = link(&j, "service-desc").expect("service-desc");
        assert_eq!(sd["href"], format!("{ROOT}/api"));
        assert_eq!(sd["type"], "application/vnd.oai.openapi+json;version=3.0");
        assert_eq!(
            link(&j, "conformance").unwrap()["href"],
            format!("{ROOT}/conformance")
        );
        assert_eq!(
            link(&j, "data").unwrap()["href"],
            format!("{ROOT}/collections")
        );
        assert!(link(&j, "self").is_some());
        // Every link leads somewhere that answers.
        for l in j["links"].as_array().unwrap() {
            let a = get(l["href"].as_str().unwrap()).await;
            assert_eq!(a.status, StatusCode::OK, "{l}");
        }
    }
}

#[tokio::test]
async fn conformance_lists_what_is_implemented_and_nothing_else() {
    let j = ok("/ogcapi/conformance").await;
    let c: Vec<&str> = j["conformsTo"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    for want in [
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
        "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
        "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
        "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
        "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
        "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
        "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    ] {
        assert!(c.contains(&want), "{want} missing");
    }
    // No HTML encoding, no CQL2 JSON, no spatial functions are offered.
    for absent in ["conf/html", "cql2-json", "spatial"] {
        assert!(!c.iter().any(|x| x.contains(absent)), "{absent} claimed");
    }
}

#[tokio::test]
async fn the_openapi_document_declares_limit_from_the_config_and_every_collection() {
    let a = get("/ogcapi/api").await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(a.ct().starts_with("application/vnd.oai.openapi+json"));
    let j = a.json;
    assert!(j["openapi"].as_str().unwrap().starts_with("3.0."));
    assert_eq!(j["servers"][0]["url"], ROOT);
    // Where QGIS reads it: components/parameters/limit/schema.
    let limit = &j["components"]["parameters"]["limit"]["schema"];
    assert_eq!(limit["default"], DEFAULT_LIMIT);
    assert_eq!(limit["maximum"], MAX_LIMIT);
    let cat = state().await.data.engine.snapshot();
    let paths = j["paths"].as_object().unwrap();
    for p in ["/", "/conformance", "/api", "/collections"] {
        assert!(paths.contains_key(p), "{p}");
    }
    for l in cat.layers() {
        let items = &paths[&format!("/collections/{}/items", l.id)]["get"];
        let names: Vec<String> = items["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| match p["$ref"].as_str() {
                Some(r) => {
                    let key = r.rsplit('/').next().unwrap();
                    j["components"]["parameters"][key]["name"]
                        .as_str()
                        .unwrap()
                        .to_owned()
                }
                None => p["name"].as_str().unwrap().to_owned(),
            })
            .collect();
        for want in [
            "limit",
            "bbox",
            "bbox-crs",
            "crs",
            "datetime",
            "filter",
            "filter-lang",
        ] {
            assert!(names.iter().any(|n| n == want), "{}: {want}", l.id);
        }
        assert!(
            items["responses"]["200"]["content"]["application/geo+json"].is_object(),
            "{}",
            l.id
        );
        assert!(paths.contains_key(&format!("/collections/{}/items/{{featureId}}", l.id)));
    }
    // Every $ref resolves.
    fn refs<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(r)) = m.get("$ref") {
                    out.push(r);
                }
                m.values().for_each(|x| refs(x, out));
            }
            Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
            _ => {}
        }
    }
    let mut all = Vec::new();
    refs(&j, &mut all);
    assert!(!all.is_empty());
    for r in all {
        let ptr = r.strip_prefix('#').unwrap();
        assert!(j.pointer(ptr).is_some(), "dangling {r}");
    }
}

#[tokio::test]
async fn collections_list_every_layer_with_extents_crs_and_items_links() {
    let j = ok("/ogcapi/collections").await;
    let cat = state().await.data.engine.snapshot();
    let cs = j["collections"].as_array().unwrap();
    assert_eq!(cs.len(), cat.len());
    for l in cat.layers() {
        let c = cs.iter().find(|c| c["id"] == l.id.as_str()).unwrap();
        let bbox: Vec<f64> = serde_json::from_value(c["extent"]["spatial"]["bbox"][0].clone())
            .unwrap_or_else(|e| panic!("{}: {e}", l.id));
        let want = geoplan::http::features::extent_crs84(l).unwrap();
        for k in 0..4 {
            assert!((bbox[k] - want[k]).abs() < 1e-9, "{}: {bbox:?}", l.id);
        }
        assert!(bbox[0] > 107.0 && bbox[2] < 112.5 && bbox[1] > 14.5 && bbox[3] < 17.0);
        let items = link(c, "items").unwrap();
        assert_eq!(items["href"], format!("{ROOT}/collections/{}/items", l.id));
        assert_eq!(items["type"], "application/geo+json");
        let crs: Vec<&str> = c["crs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert_eq!(crs[0], "http://www.opengis.net/def/crs/OGC/1.3/CRS84");
        assert!(crs.contains(&"http://www.opengis.net/def/crs/EPSG/0/5899"));
        assert_eq!(
            c["storageCrs"],
            format!("http://www.opengis.net/def/crs/EPSG/0/{}", l.source_srid)
        );
        assert!(crs.contains(&c["storageCrs"].as_str().unwrap()));
        // The single-collection document says the same.
        let one = ok(&format!("/ogcapi/collections/{}", l.id)).await;
        assert_eq!(&one, c);
    }
    // Temporal extents where layers carry dates, none elsewhere.
    let admin = cs.iter().find(|c| c["id"] == "admin_units").unwrap();
    assert_eq!(
        admin["extent"]["temporal"]["interval"][0],
        serde_json::json!(["1997-01-01T00:00:00Z", null])
    );
    let plans = cs.iter().find(|c| c["id"] == "plans").unwrap();
    let d = stored("plans");
    let col = d.field_index("approval_date").unwrap();
    let dates: Vec<String> = (0..d.len())
        .filter_map(|r| match d.value(r, col) {
            ValueRef::Text(t) => Some(t.to_owned()),
            _ => None,
        })
        .collect();
    let (lo, hi) = (dates.iter().min().unwrap(), dates.iter().max().unwrap());
    assert_eq!(
        plans["extent"]["temporal"]["interval"][0],
        serde_json::json!([format!("{lo}T00:00:00Z"), format!("{hi}T23:59:59Z")])
    );
    let pois = cs.iter().find(|c| c["id"] == "pois").unwrap();
    assert!(pois["extent"]["temporal"].is_null());
}

#[tokio::test]
async fn following_next_links_visits_every_parcel_exactly_once() {
    let total = engine_count("parcels", None).await;
    assert!(total >= 20_000);
    let first = ok("/ogcapi/collections/parcels/items").await;
    assert_eq!(first["numberReturned"], DEFAULT_LIMIT, "default limit");
    assert!(first["timeStamp"].as_str().unwrap().ends_with('Z'));
    let mut uri = format!("/ogcapi/collections/parcels/items?limit={MAX_LIMIT}");
    let mut seen = BTreeSet::new();
    let mut pages = 0;
    loop {
        let a = get(&uri).await;
        assert_eq!(a.status, StatusCode::OK, "{uri}: {}", a.json);
        assert_eq!(a.ct(), "application/geo+json");
        let j = a.json;
        assert_eq!(matched(&j), total);
        let feats = j["features"].as_array().unwrap();
        assert_eq!(j["numberReturned"].as_u64().unwrap() as usize, feats.len());
        for f in feats {
            assert!(seen.insert(f["id"].as_i64().unwrap()), "{} twice", f["id"]);
        }
        let self_href = link(&j, "self").unwrap()["href"].as_str().unwrap();
        assert!(self_href.starts_with(ROOT), "{self_href}");
        pages += 1;
        match link(&j, "next") {
            Some(n) => {
                let href = n["href"].as_str().unwrap();
                assert!(
                    href.starts_with(&format!("{ROOT}/collections/parcels/items?")),
                    "next link not absolute: {href}"
                );
                uri = href.to_owned();
            }
            None => break,
        }
        assert!(link(&j, "prev").is_none() || pages > 1);
    }
    assert_eq!(seen.len(), total);
    assert_eq!(pages, total.div_ceil(MAX_LIMIT));
    let all: BTreeSet<i64> = stored("parcels").fids.iter().copied().collect();
    assert_eq!(seen, all);
}

/// A box around Hội An's old town, in CRS84.
const HOI_AN: [f64; 4] = [108.31, 15.86, 108.35, 15.89];

#[tokio::test]
async fn bbox_in_crs84_4326_and_5899_gives_the_engines_counts() {
    let (min, max) = (
        Coord {
            x: HOI_AN[0],
            y: HOI_AN[1],
        },
        Coord {
            x: HOI_AN[2],
            y: HOI_AN[3],
        },
    );
    let (lo, hi) = crs::transform_bbox(Crs::Crs84, Crs::Epsg(3857), min, max).unwrap();
    let want = engine_count("parcels", Some(Spatial::Bbox(Rect::new(lo, hi)))).await;
    assert!(want > 50, "{want}");
    let b = HOI_AN.map(|v| v.to_string()).join(",");
    let j = ok(&format!(
        "/ogcapi/collections/parcels/items?bbox={b}&limit=1"
    ))
    .await;
    assert_eq!(matched(&j), want);
    let crs84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84";
    let j = ok(&format!(
        "/ogcapi/collections/parcels/items?bbox={b}&bbox-crs={crs84}&limit=1"
    ))
    .await;
    assert_eq!(matched(&j), want);
    // EPSG:4326 is lat,lon: the same box with its axes swapped.
    let ll = format!("{},{},{},{}", HOI_AN[1], HOI_AN[0], HOI_AN[3], HOI_AN[2]);
    for name in [
        "EPSG:4326",
        "http://www.opengis.net/def/crs/EPSG/0/4326",
        "urn:ogc:def:crs:EPSG::4326",
    ] {
        let j = ok(&format!(
            "/ogcapi/collections/parcels/items?bbox={ll}&bbox-crs={name}&limit=1"
        ))
        .await;
        assert_eq!(matched(&j), want, "{name}");
    }
    // The box given in the lon,lat order under EPSG:4326 is refused, not
    // silently misread (latitude 108 does not exist).
    let a = get(&format!(
        "/ogcapi/collections/parcels/items?bbox={b}&bbox-crs=EPSG:4326"
    ))
    .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    // In VN-2000 (x, y): 3 km × 3 km of the legal plane around the old town.
    let centre = crs::transform_one(
        Crs::Crs84,
        Crs::Epsg(5899),
        Coord {
            x: 108.33,
            y: 15.877,
        },
    )
    .unwrap();
    let (a5, b5) = (
        Coord {
            x: (centre.x - 1500.0).round(),
            y: (centre.y - 1500.0).round(),
        },
        Coord {
            x: (centre.x + 1500.0).round(),
            y: (centre.y + 1500.0).round(),
        },
    );
    let (lo, hi) = crs::transform_bbox(Crs::Epsg(5899), Crs::Epsg(3857), a5, b5).unwrap();
    let want5 = engine_count("parcels", Some(Spatial::Bbox(Rect::new(lo, hi)))).await;
    assert!(want5 > 0, "the VN-2000 box should hold parcels");
    let j = ok(&format!(
        "/ogcapi/collections/parcels/items?bbox={},{},{},{}&bbox-crs=http://www.opengis.net/def/crs/EPSG/0/5899&limit=1",
        a5.x, a5.y, b5.x, b5.y
    ))
    .await;
    assert_eq!(matched(&j), want5);
    // Independent of the engine: stored 5899 geometries whose envelope
    // lies inside the box all match.
    let d = stored("parcels");
    let inside: Vec<i64> = (0..d.len())
        .filter(|&r| {
            let cs = d.geometry.coords_of(r);
            cs.iter()
                .all(|c| c.x > a5.x && c.x < b5.x && c.y > a5.y && c.y < b5.y)
        })
        .map(|r| d.fids[r])
        .collect();
    assert!(!inside.is_empty());
    assert!(inside.len() <= want5);
}

#[tokio::test]
async fn crs_5899_returns_the_stored_coordinates_with_content_crs() {
    let d = stored("parcels");
    let a = get("/ogcapi/collections/parcels/items?crs=http://www.opengis.net/def/crs/EPSG/0/5899&limit=200&offset=1000").await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.json);
    assert_eq!(
        a.headers["content-crs"],
        "<http://www.opengis.net/def/crs/EPSG/0/5899>"
    );
    let feats = a.json["features"].as_array().unwrap();
    assert_eq!(feats.len(), 200);
    for f in feats {
        let fid = f["id"].as_i64().unwrap();
        let row = d.row_of(fid).unwrap();
        let want = d.geometry.coords_of(row);
        let got = f["geometry"]["coordinates"][0].as_array().unwrap();
        assert_eq!(got.len(), want.len(), "{fid}");
        for (g, w) in got.iter().zip(want) {
            assert!(
                (g[0].as_f64().unwrap() - w.x).abs() < 0.001,
                "{fid}: {g} {w:?}"
            );
            assert!(
                (g[1].as_f64().unwrap() - w.y).abs() < 0.001,
                "{fid}: {g} {w:?}"
            );
        }
    }
    // Default: CRS84, lon first; EPSG:4326: lat first.
    let fid = feats[0]["id"].as_i64().unwrap();
    let a = get(&format!("/ogcapi/collections/parcels/items/{fid}")).await;
    assert_eq!(
        a.headers["content-crs"],
        "<http://www.opengis.net/def/crs/OGC/1.3/CRS84>"
    );
    let c84 = a.json["geometry"]["coordinates"][0][0].clone();
    assert!((107.0..109.0).contains(&c84[0].as_f64().unwrap()));
    let j = ok(&format!(
        "/ogcapi/collections/parcels/items/{fid}?crs=EPSG:4326"
    ))
    .await;
    let c4326 = &j["geometry"]["coordinates"][0][0];
    assert_eq!((&c84[0], &c84[1]), (&c4326[1], &c4326[0]));
    // One feature links to itself and its collection.
    assert_eq!(
        link(&a.json, "self").unwrap()["href"],
        format!("{ROOT}/collections/parcels/items/{fid}")
    );
    assert_eq!(
        link(&a.json, "collection").unwrap()["href"],
        format!("{ROOT}/collections/parcels")
    );
}

/// Admin units valid on some day of `[from, to]` (inclusive, ISO dates;
/// `None` = open), straight from the stored rows.
fn admin_units_valid(from: Option<&str>, to: Option<&str>) -> BTreeSet<i64> {
    let d = stored("admin_units");
    let (vf, vt) = (
        d.field_index("valid_from").unwrap(),
        d.field_index("valid_to").unwrap(),
    );
    (0..d.len())
        .filter(|&r| {
            let start = match d.value(r, vf) {
                ValueRef::Text(t) => Some(t.to_owned()),
                _ => None,
            };
            let end = match d.value(r, vt) {
                ValueRef::Text(t) => Some(t.to_owned()),
                _ => None,
            };
            let starts_in_time = match (to, &start) {
                (Some(to), Some(s)) => s.as_str() <= to,
                _ => true,
            };
            let still_valid = match (from, &end) {
                (Some(from), Some(e)) => e.as_str() >= from,
                _ => true,
            };
            starts_in_time && still_valid
        })
        .map(|r| d.fids[r])
        .collect()
}

async fn ids(uri: &str) -> BTreeSet<i64> {
    let j = ok(uri).await;
    let got: BTreeSet<i64> = j["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_i64().unwrap())
        .collect();
    assert_eq!(got.len(), matched(&j), "{uri}: one page holds them all");
    got
}

#[tokio::test]
async fn datetime_selects_admin_units_before_and_after_the_2025_reorganisation() {
    let base = "/ogcapi/collections/admin_units/items?limit=1000";
    // Mid-2024: the old provinces and districts, incl. Nông Sơn.
    let before = ids(&format!("{base}&datetime=2024-06-01")).await;
    assert_eq!(
        before,
        admin_units_valid(Some("2024-06-01"), Some("2024-06-01"))
    );
    assert!(before.len() > 20);
    // After 1 July 2025: the merged Đà Nẵng city and its 94 communes.
    let after = ids(&format!("{base}&datetime=2025-08-01T00:00:00Z")).await;
    assert_eq!(
        after,
        admin_units_valid(Some("2025-08-01"), Some("2025-08-01"))
    );
    assert_eq!(after.len(), 1 + 94);
    let d = stored("admin_units");
    let level = |fid: &i64| {
        let row = d.row_of(*fid).unwrap();
        match d.value(row, d.field_index("level").unwrap()) {
            ValueRef::Text(t) => t.to_owned(),
            v => panic!("level {v:?}"),
        }
    };
    let provinces: Vec<&i64> = after.iter().filter(|f| level(f) == "province").collect();
    assert_eq!(provinces.len(), 1);
    let row = d.row_of(*provinces[0]).unwrap();
    assert_eq!(
        d.value(row, d.field_index("code").unwrap()),
        ValueRef::Text("48")
    );
    assert!(after
        .iter()
        .all(|f| level(f) == "province" || level(f) == "commune"));
    assert!(before.is_disjoint(&after));
    // Early 2025: Nông Sơn merged into Quế Sơn, provinces not yet merged.
    let early = ids(&format!("{base}&datetime=2025-03-01")).await;
    assert_eq!(
        early,
        admin_units_valid(Some("2025-03-01"), Some("2025-03-01"))
    );
    assert_ne!(early, before);
    // 23:00 on 31 Dec 2024 at UTC+7 is still 2024 in UTC.
    let tz = ids(&format!("{base}&datetime=2025-01-01T01:00:00%2B07:00")).await;
    assert_eq!(
        tz,
        admin_units_valid(Some("2024-12-31"), Some("2024-12-31"))
    );
    // Intervals, open ends.
    let span = ids(&format!("{base}&datetime=2024-12-31/2025-01-01")).await;
    assert_eq!(
        span,
        admin_units_valid(Some("2024-12-31"), Some("2025-01-01"))
    );
    let open_end = ids(&format!("{base}&datetime=2025-07-01T00:00:00Z/..")).await;
    assert_eq!(open_end, admin_units_valid(Some("2025-07-01"), None));
    let open_start = ids(&format!("{base}&datetime=../1996-12-31")).await;
    assert!(open_start.is_empty());
    let empty_end = ids(&format!("{base}&datetime=2025-07-01/")).await;
    assert_eq!(empty_end, open_end);
    // A layer without a temporal property ignores a well-formed datetime.
    let n = engine_count("pois", None).await;
    let j = ok("/ogcapi/collections/pois/items?datetime=2024-01-01&limit=1").await;
    assert_eq!(matched(&j), n);
    // Plans: approval_date is an instant.
    let d = stored("plans");
    let col = d.field_index("approval_date").unwrap();
    let want = (0..d.len())
        .filter(|&r| matches!(d.value(r, col), ValueRef::Text(t) if ("2020-01-01"..="2024-12-31").contains(&t)))
        .count();
    let j = ok("/ogcapi/collections/plans/items?datetime=2020-01-01T00:00:00Z/2024-12-31T23:59:59Z&limit=1").await;
    assert_eq!(matched(&j), want);
}

#[tokio::test]
async fn cql2_filters_and_property_values_count_what_the_store_holds() {
    let d = stored("parcels");
    let (code, area) = (
        d.field_index("land_use_code").unwrap(),
        d.field_index("legal_area").unwrap(),
    );
    let want = (0..d.len())
        .filter(|&r| {
            matches!(d.value(r, code), ValueRef::Text("ODT" | "ONT"))
                && d.value(r, area)
                    .as_f64()
                    .is_some_and(|a| (100.0..=300.0).contains(&a))
        })
        .count();
    assert!(want > 0);
    let f = "land_use_code%20IN%20(%27ODT%27%2C%27ONT%27)%20AND%20legal_area%20BETWEEN%20100%20AND%20300";
    let j = ok(&format!(
        "/ogcapi/collections/parcels/items?filter={f}&filter-lang=cql2-text&limit=1"
    ))
    .await;
    assert_eq!(matched(&j), want);
    // The filter survives into the next link.
    let next = link(&j, "next").unwrap()["href"].as_str().unwrap();
    assert_eq!(matched(&ok(next).await), want);
    let odt = (0..d.len())
        .filter(|&r| d.value(r, code) == ValueRef::Text("ODT"))
        .count();
    let j = ok("/ogcapi/collections/parcels/items?land_use_code=ODT&limit=1").await;
    assert_eq!(matched(&j), odt);
    // Queryables: the published properties only.
    let a = get("/ogcapi/collections/parcels/queryables").await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.ct(), "application/schema+json");
    let props = a.json["properties"].as_object().unwrap();
    assert_eq!(props["legal_area"]["type"], "number");
    assert_eq!(props["land_use_code"]["type"], "string");
    assert!(!props.contains_key("certificate_number"));
    let j = ok("/ogcapi/collections/plans/queryables").await;
    assert_eq!(j["properties"]["approval_date"]["format"], "date");
}

async fn expect_problem(uri: &str, status: StatusCode, mention: &str) {
    let a = get(uri).await;
    assert_eq!(a.status, status, "{uri}: {}", a.json);
    assert_eq!(a.ct(), "application/problem+json", "{uri}");
    let detail = a.json["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains(mention),
        "{uri}: '{detail}' should mention '{mention}'"
    );
}

#[tokio::test]
async fn hostile_and_invalid_input_gets_400_or_404_never_500() {
    let bad = StatusCode::BAD_REQUEST;
    let items = "/ogcapi/collections/parcels/items";
    expect_problem(&format!("{items}?colour=red"), bad, "colour").await;
    expect_problem(&format!("{items}?point=108.3,15.9"), bad, "point").await;
    expect_problem(&format!("{items}?limit={}", MAX_LIMIT + 1), bad, "limit").await;
    expect_problem(&format!("{items}?limit=-5"), bad, "limit").await;
    expect_problem(&format!("{items}?limit=0"), bad, "limit").await;
    expect_problem(&format!("{items}?sheet_number=0.5"), bad, "sheet_number").await;
    expect_problem(&format!("{items}?legal_area=big"), bad, "legal_area").await;
    expect_problem(
        "/ogcapi/collections/admin_units/items?valid_to=null",
        bad,
        "valid_to",
    )
    .await;
    expect_problem(
        &format!("{items}?filter-lang=cql2-json"),
        bad,
        "filter-lang",
    )
    .await;
    expect_problem(&format!("{items}?limit=ten"), bad, "limit").await;
    expect_problem(&format!("{items}?offset=-1"), bad, "offset").await;
    expect_problem(&format!("{items}?bbox=1,2,3"), bad, "bbox").await;
    expect_problem(&format!("{items}?bbox=108,16,107,15"), bad, "bbox").await;
    expect_problem(&format!("{items}?bbox=a,b,c,d"), bad, "bbox").await;
    expect_problem(&format!("{items}?bbox=1e999,1,2,3"), bad, "bbox").await;
    expect_problem(&format!("{items}?datetime=yesterday"), bad, "datetime").await;
    expect_problem(&format!("{items}?datetime=2025-02-30"), bad, "datetime").await;
    expect_problem(
        &format!("{items}?datetime=2025-02-01/2025-01-01"),
        bad,
        "datetime",
    )
    .await;
    expect_problem(&format!("{items}?datetime=1/2/3"), bad, "datetime").await;
    expect_problem(&format!("{items}?crs=EPSG:2154"), bad, "EPSG:2154").await;
    expect_problem(&format!("{items}?crs=urn:evil"), bad, "crs").await;
    expect_problem(
        &format!("{items}?bbox-crs=EPSG:9999&bbox=1,2,3,4"),
        bad,
        "bbox-crs",
    )
    .await;
    expect_problem(&format!("{items}?filter-crs=EPSG:1"), bad, "filter-crs").await;
    expect_problem(
        &format!("{items}?filter=a%3D1&filter-lang=cql2-json"),
        bad,
        "filter-lang",
    )
    .await;
    expect_problem(&format!("{items}?filter=legal_area%20%3E"), bad, "CQL2").await;
    expect_problem(&format!("{items}?filter=nope%20%3D%201"), bad, "nope").await;
    // Unpublished attributes are neither filterable nor selectable.
    expect_problem(
        &format!("{items}?filter=certificate_number%20IS%20NULL"),
        bad,
        "certificate_number",
    )
    .await;
    expect_problem(
        &format!("{items}?certificate_number=1"),
        bad,
        "certificate_number",
    )
    .await;
    let deep = format!(
        "{items}?filter={}legal_area%3D1{}",
        "(".repeat(200),
        ")".repeat(200)
    );
    expect_problem(&deep, bad, "").await;
    let wide = (0..400)
        .map(|i| format!("legal_area%3D{i}"))
        .collect::<Vec<_>>()
        .join("%20OR%20");
    expect_problem(&format!("{items}?filter={wide}"), bad, "").await;
    let long = "x".repeat(20_000);
    expect_problem(&format!("{items}?filter={long}"), bad, "bytes").await;
    expect_problem(&format!("{items}?f=html"), bad, "f=html").await;
    expect_problem("/ogcapi/collections?f=xml", bad, "f=xml").await;
    expect_problem("/ogcapi/conformance?x=1", bad, "x").await;
    expect_problem(&format!("{items}/1?limit=1"), bad, "limit").await;
    // Extreme but well-formed values: an answer, or a 400, never a 5xx.
    for q in [
        "bbox=-1e300,-1e300,1e300,1e300&bbox-crs=EPSG:5899",
        "bbox=-1e300,-1e300,1e300,1e300&bbox-crs=EPSG:3857",
        "bbox=-180,-90,180,90,0,1",
        "offset=4611686018427387903",
        "datetime=0001-01-01T00:00:00Z/9999-12-31T23:59:59Z",
        "datetime=../..",
        "filter=address%20LIKE%20%27%25%25%25%25%25%25%25%25%25%25%25%25%25%25x%27",
        "crs=EPSG:3405&bbox=107,15,109,17&limit=5",
    ] {
        let a = get(&format!("{items}?{q}")).await;
        assert!(
            a.status == StatusCode::OK || a.status == bad,
            "{q}: {} {}",
            a.status,
            a.json
        );
    }
    let nf = StatusCode::NOT_FOUND;
    expect_problem("/ogcapi/collections/nope", nf, "nope").await;
    expect_problem("/ogcapi/collections/nope/items", nf, "nope").await;
    expect_problem("/ogcapi/collections/nope/queryables", nf, "nope").await;
    expect_problem(&format!("{items}/999999999"), nf, "999999999").await;
    expect_problem(&format!("{items}/abc"), nf, "abc").await;
}

/// Real clients over a socket: OWSLib's `Features` and GDAL's OAPIF driver
/// (`ogrinfo`), compared with the engine.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn owslib_and_ogrinfo_read_the_collections_completely() {
    let (addr, s) = common::serve_sample(Config::default()).await;
    let cat = s.data.engine.snapshot();
    let ids: Vec<String> = cat.layers().map(|l| l.id.clone()).collect();
    let counts: serde_json::Map<String, Value> = cat
        .layers()
        .map(|l| (l.id.clone(), Value::from(l.len())))
        .collect();
    let (lo, hi) = crs::transform_bbox(
        Crs::Crs84,
        Crs::Epsg(3857),
        Coord {
            x: HOI_AN[0],
            y: HOI_AN[1],
        },
        Coord {
            x: HOI_AN[2],
            y: HOI_AN[3],
        },
    )
    .unwrap();
    let parcels = cat.layer("parcels").unwrap().clone();
    let bbox_count = parcels
        .query(&Query {
            spatial: Some(Spatial::Bbox(Rect::new(lo, hi))),
            filter: None,
            offset: 0,
            limit: 0,
        })
        .matched;
    let fid = parcels
        .query(&Query {
            limit: 1,
            offset: 123,
            ..Query::default()
        })
        .features[0]
        .fid;
    let root = format!("http://{addr}/ogcapi");
    let expected = serde_json::json!({
        "collections": ids, "counts": counts, "bbox": HOI_AN,
        "bbox_count": bbox_count, "limit": 100, "fid": fid,
    });
    // OWSLib joins paths with urljoin: the root needs its trailing slash.
    let owslib_root = format!("{root}/");
    let exp = expected.to_string();
    let out = tokio::task::spawn_blocking(move || {
        common::run_client("oapif_owslib.py", &owslib_root, &[&exp])
    })
    .await
    .unwrap();
    let seen: Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
    assert_eq!(seen["counts"], expected["counts"]);
    assert_eq!(seen["bbox_matched"], bbox_count);
    assert_eq!(seen["bbox_returned"], bbox_count.min(100));
    assert_eq!(seen["bbox_paged"], bbox_count);
    assert_eq!(seen["fid"], fid);

    // GDAL: the list of layers, then the whole parcels collection with the
    // driver's default page size, counted feature by feature.
    let ogr = move |args: Vec<String>| {
        let out = std::process::Command::new("ogrinfo")
            .args(&args)
            .output()
            .expect("ogrinfo (gdal-bin) runs");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "ogrinfo {args:?}:\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
    };
    let src = format!("OAPIF:{root}");
    let listing = {
        let src = src.clone();
        tokio::task::spawn_blocking(move || ogr(vec!["-ro".into(), "-q".into(), src]))
            .await
            .unwrap()
    };
    let listed: Vec<&str> = listing
        .lines()
        .filter_map(|l| {
            l.split_once(": ")
                .map(|(_, r)| r.split(' ').next().unwrap())
        })
        .collect();
    let mut want_ids = expected["collections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect::<Vec<_>>();
    let mut listed_sorted = listed.clone();
    listed_sorted.sort();
    want_ids.sort();
    assert_eq!(listed_sorted, want_ids, "{listing}");
    let total = parcels.len();
    let (so, all, spat) = {
        let src2 = src.clone();
        let src3 = src.clone();
        let so = tokio::task::spawn_blocking(move || {
            ogr(vec!["-ro".into(), "-so".into(), src2, "parcels".into()])
        });
        let all = tokio::task::spawn_blocking(move || {
            ogr(vec![
                "-ro".into(),
                "-q".into(),
                "-geom=NO".into(),
                src3,
                "parcels".into(),
            ])
        });
        let mut spat_args: Vec<String> = vec!["-ro".into(), "-q".into(), "-geom=NO".into()];
        spat_args.push("-spat".into());
        spat_args.extend(HOI_AN.iter().map(|v| v.to_string()));
        spat_args.extend([src, "parcels".into()]);
        let spat = tokio::task::spawn_blocking(move || ogr(spat_args));
        (so.await.unwrap(), all.await.unwrap(), spat.await.unwrap())
    };
    assert!(
        so.contains(&format!("Feature Count: {total}")),
        "ogrinfo -so: {so}"
    );
    let count_features = |text: &str| {
        let fids: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("OGRFeature(parcels):"))
            .collect();
        let unique: BTreeSet<&str> = fids.iter().copied().collect();
        (fids.len(), unique.len())
    };
    // An attribute filter: GDAL sends land_use_code=ODT (a queryable it
    // found in the OpenAPI document) and evaluates the rest itself.
    let d = stored("parcels");
    let (code, area) = (
        d.field_index("land_use_code").unwrap(),
        d.field_index("legal_area").unwrap(),
    );
    let want_where = (0..d.len())
        .filter(|&r| {
            d.value(r, code) == ValueRef::Text("ODT")
                && d.value(r, area).as_f64().is_some_and(|a| a > 200.0)
        })
        .count();
    let where_so = tokio::task::spawn_blocking(move || {
        ogr(vec![
            "-ro".into(),
            "-so".into(),
            "-where".into(),
            "land_use_code='ODT' AND legal_area > 200".into(),
            format!("OAPIF:{root}"),
            "parcels".into(),
        ])
    })
    .await
    .unwrap();
    assert!(
        where_so.contains(&format!("Feature Count: {want_where}")),
        "ogrinfo -where: {where_so}"
    );
    // GDAL takes the integer ids as FIDs: every parcel once.
    assert_eq!(count_features(&all), (total, total));
    let (n, unique) = count_features(&spat);
    assert_eq!((n, unique), (bbox_count, bbox_count), "ogrinfo -spat");
}

/// GETs with an `Accept` header, as QGIS and GDAL send it.
async fn get_accept(uri: &str, accept: &str) -> Answer {
    let path = uri.strip_prefix(PUBLIC).unwrap_or(uri);
    let res = app(state().await.clone())
        .oneshot(
            Request::get(path)
                .header("accept", accept)
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    Answer {
        status,
        headers,
        json: serde_json::from_slice(&body).unwrap_or(Value::Null),
    }
}

/// What QGIS 3.22's OAPIF provider does, step by step: the landing page
/// (links found by rel and type, not by path), the API document (limit
/// maximum from components/parameters/limit), the collections from the
/// `data` link, then pages of items over the whole world at the maximum
/// limit, following `next` until the end.
#[tokio::test]
async fn a_qgis_style_session_discovers_everything_from_the_landing_page() {
    let landing = get_accept("/ogcapi", "application/json").await;
    assert_eq!(landing.status, StatusCode::OK);
    let find = |j: &Value, rel: &str, ty: &str| -> String {
        j["links"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["rel"] == rel && l["type"] == ty)
            .unwrap_or_else(|| panic!("no {rel} link of type {ty}"))["href"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let api_url = find(
        &landing.json,
        "service-desc",
        "application/vnd.oai.openapi+json;version=3.0",
    );
    let data_url = find(&landing.json, "data", "application/json");
    let api = get_accept(
        &api_url,
        "application/vnd.oai.openapi+json;version=3.0, application/openapi+json;version=3.0, application/json",
    )
    .await;
    assert_eq!(api.status, StatusCode::OK);
    let max = api.json["components"]["parameters"]["limit"]["schema"]["maximum"]
        .as_u64()
        .unwrap();
    let colls = get_accept(&data_url, "application/json").await.json;
    let parcels = colls["collections"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "parcels")
        .unwrap();
    let items_url = find(parcels, "items", "application/geo+json");
    let mut url = format!("{items_url}?limit={max}&bbox=-180,-90,180,90");
    let (mut n, mut pages) = (0, 0);
    loop {
        pages += 1;
        let a = get_accept(&url, "application/geo+json, application/json").await;
        assert_eq!(a.status, StatusCode::OK, "{url}: {}", a.json);
        n += a.json["features"].as_array().unwrap().len();
        match link(&a.json, "next") {
            Some(l) => url = l["href"].as_str().unwrap().to_owned(),
            None => break,
        }
    }
    assert_eq!(n, engine_count("parcels", None).await);
    assert!(pages > 1);
}

/// Schemathesis (pinned in tests/clients/requirements.txt) generates
/// requests from /ogcapi/api and checks every answer against it: no 5xx,
/// declared status codes, content types and schemas, invalid input
/// refused. `positive_data_acceptance` is left out: it expects every string
/// to be a valid CQL2 filter or datetime, which no schema type expresses.
/// About 20 s on its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_nothing_against_the_openapi_document() {
    let (addr, _s) = common::serve_sample(Config::default()).await;
    common::schemathesis(
        format!("http://{addr}/ogcapi/api"),
        &[
            // The capabilities and three collections that between them
            // hold every field type and both temporal kinds; the other
            // six are the same code and would only add time.
            "--include-path-regex",
            "^/(api|conformance|collections)?$|^/collections/(parcels|admin_units|plans)",
        ],
    )
    .await;
}

// ---- issue #11, finding 5: an advertised extent selects all of its layer ----

async fn text_of(uri: &str) -> String {
    let res = app(state().await.clone())
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{uri}");
    let body = res.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8(body.to_vec()).unwrap()
}

fn xml_doc(text: &str) -> geoplan::ogc::xml::Element {
    geoplan::ogc::xml::parse(
        text,
        geoplan::ogc::xml::XmlLimits {
            max_depth: 64,
            max_elements: 1_000_000,
        },
    )
    .unwrap()
}

fn nums(s: &str, sep: char) -> Vec<f64> {
    s.split(sep)
        .filter(|x| !x.trim().is_empty())
        .map(|x| x.trim().parse().unwrap())
        .collect()
}

fn join(b: &[f64]) -> String {
    b.iter().map(f64::to_string).collect::<Vec<_>>().join(",")
}

#[tokio::test]
async fn every_advertised_extent_selects_every_feature_of_its_layer() {
    let cat = state().await.data.engine.snapshot();
    let world = Rect::new(
        Coord {
            x: -2.1e7,
            y: -2.1e7,
        },
        Coord { x: 2.1e7, y: 2.1e7 },
    );
    let wfs_caps =
        xml_doc(&text_of("/wfs?SERVICE=WFS&REQUEST=GetCapabilities&VERSION=2.0.0").await);
    let wms_caps = text_of("/wms?SERVICE=WMS&REQUEST=GetCapabilities&VERSION=1.3.0").await;
    let wms_caps = xml_doc(&wms_caps);
    let mut checked = 0;
    for l in cat.layers() {
        let id = l.id.as_str();
        let all = engine_count(id, Some(Spatial::Bbox(world))).await;
        if all == 0 {
            continue;
        }
        checked += 1;
        let count = |q: String| async move {
            matched(&ok(&format!("/ogcapi/collections/{id}/items?limit=1&{q}")).await)
        };
        // OGC API – Features collection extent and /layers extent (CRS84).
        let c = ok(&format!("/ogcapi/collections/{id}")).await;
        let b: Vec<f64> =
            serde_json::from_value(c["extent"]["spatial"]["bbox"][0].clone()).unwrap();
        assert_eq!(
            count(format!("bbox={}", join(&b))).await,
            all,
            "{id}: collection extent {b:?}"
        );
        let lj = ok(&format!("/layers/{id}")).await;
        let b: Vec<f64> = serde_json::from_value(lj["extent"]["bbox"].clone()).unwrap();
        assert_eq!(
            count(format!("bbox={}", join(&b))).await,
            all,
            "{id}: /layers extent {b:?}"
        );
        // WFS 2.0 WGS84BoundingBox, sent back as a WFS BBOX.
        let ft = wfs_caps
            .child("FeatureTypeList")
            .unwrap()
            .children_named("FeatureType")
            .find(|f| f.child("Name").unwrap().text() == format!("geoplan:{id}"))
            .unwrap();
        let bb = ft.child("WGS84BoundingBox").unwrap();
        let mut b = nums(bb.child("LowerCorner").unwrap().text(), ' ');
        b.extend(nums(bb.child("UpperCorner").unwrap().text(), ' '));
        let hits = text_of(&format!(
            "/wfs?SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=geoplan:{id}&RESULTTYPE=hits&BBOX={},CRS:84",
            join(&b)
        ))
        .await;
        assert_eq!(
            xml_doc(&hits).attr("numberMatched"),
            Some(all.to_string().as_str()),
            "{id}: WFS WGS84BoundingBox {b:?}"
        );
        // WMS 1.3.0: the geographic box and a BoundingBox per CRS (in
        // 1.3.0 axis order, which bbox-crs shares).
        fn layers<'a>(
            e: &'a geoplan::ogc::xml::Element,
            out: &mut Vec<&'a geoplan::ogc::xml::Element>,
        ) {
            for c in e.children_named("Layer") {
                out.push(c);
                layers(c, out);
            }
        }
        let mut all_layers = Vec::new();
        layers(wms_caps.child("Capability").unwrap(), &mut all_layers);
        let wl = all_layers
            .into_iter()
            .find(|x| x.child("Name").is_some_and(|n| n.text() == id))
            .unwrap();
        let g = wl.child("EX_GeographicBoundingBox").unwrap();
        let v = |n: &str| g.child(n).unwrap().text().trim().parse::<f64>().unwrap();
        let b = [
            v("westBoundLongitude"),
            v("southBoundLatitude"),
            v("eastBoundLongitude"),
            v("northBoundLatitude"),
        ];
        assert_eq!(
            count(format!("bbox={}", join(&b))).await,
            all,
            "{id}: WMS EX_GeographicBoundingBox {b:?}"
        );
        for bb in wl.children_named("BoundingBox") {
            let crs = bb.attr("CRS").unwrap();
            if !["CRS:84", "EPSG:4326", "EPSG:3857", "EPSG:5899"].contains(&crs) {
                continue;
            }
            let b: Vec<f64> = ["minx", "miny", "maxx", "maxy"]
                .iter()
                .map(|k| bb.attr(k).unwrap().parse().unwrap())
                .collect();
            assert_eq!(
                count(format!("bbox={}&bbox-crs={crs}", join(&b))).await,
                all,
                "{id}: WMS BoundingBox {crs} {b:?}"
            );
        }
    }
    assert!(checked >= 10, "{checked} layers");
}

// ---- issue #11, finding 6: what the OGC API – Features ETS asserts ----

fn merc(lo: (f64, f64), hi: (f64, f64)) -> Rect<f64> {
    let (a, b) = crs::transform_bbox(
        Crs::Crs84,
        crs::WEB_MERCATOR,
        Coord { x: lo.0, y: lo.1 },
        Coord { x: hi.0, y: hi.1 },
    )
    .unwrap();
    Rect::new(a, b)
}

#[tokio::test]
async fn a_bbox_across_the_antimeridian_is_answered() {
    // OGC API – Features 1.0 §7.15.3: minx > maxx crosses ±180°.
    let east = engine_count(
        "parcels",
        Some(Spatial::Bbox(merc((108.2, 15.8), (180.0, 16.2)))),
    )
    .await;
    assert!(east > 100, "{east}");
    let j = ok("/ogcapi/collections/parcels/items?bbox=108.2,15.8,-170,16.2&limit=1").await;
    assert_eq!(matched(&j), east);
    // The part west of the antimeridian alone, and a box that misses.
    let j = ok("/ogcapi/collections/parcels/items?bbox=179,-10,-179,10&limit=1").await;
    assert_eq!(matched(&j), 0);
    assert_eq!(j["numberReturned"], 0);
    // In EPSG:4326 (lat,lon) too.
    let j = ok(
        "/ogcapi/collections/parcels/items?bbox=15.8,108.2,16.2,-170&bbox-crs=EPSG:4326&limit=1",
    )
    .await;
    assert_eq!(matched(&j), east);
    // Still 400: latitudes the wrong way round, longitudes out of range.
    for q in [
        "bbox=108.2,16.2,-170,15.8",
        "bbox=181,15,-170,16",
        "bbox=108,15,-181,16",
    ] {
        let a = get(&format!("/ogcapi/collections/parcels/items?{q}")).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{q}");
    }
}

/// `Link` header entries: (rel, href).
fn header_links(h: &HeaderMap) -> Vec<(String, String)> {
    let v = h
        .get("link")
        .expect("a Link header")
        .to_str()
        .unwrap()
        .to_owned();
    v.split(", <")
        .map(|part| {
            let part = part.trim_start_matches('<');
            let (href, rest) = part.split_once('>').unwrap();
            let rel = rest
                .split(';')
                .map(str::trim)
                .find_map(|p| p.strip_prefix("rel=\""))
                .unwrap()
                .trim_end_matches('"')
                .to_owned();
            (rel, href.to_owned())
        })
        .collect()
}

#[tokio::test]
async fn ogc_api_responses_carry_their_links_as_rfc_8288_link_headers() {
    for uri in [
        "/ogcapi",
        "/ogcapi/conformance",
        "/ogcapi/collections",
        "/ogcapi/collections/pois",
        "/ogcapi/collections/parcels/items?limit=5&offset=10",
        "/ogcapi/collections/pois/items/1",
    ] {
        let a = get(uri).await;
        assert_eq!(a.status, StatusCode::OK, "{uri}");
        let from_header = header_links(&a.headers);
        let from_body: Vec<(String, String)> = a.json["links"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| {
                (
                    l["rel"].as_str().unwrap().to_owned(),
                    l["href"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        assert_eq!(from_header, from_body, "{uri}");
        assert!(from_header.iter().any(|(r, _)| r == "self"), "{uri}");
    }
    let a = get("/ogcapi/collections/parcels/items?limit=5&offset=10").await;
    let rels: Vec<String> = header_links(&a.headers).into_iter().map(|x| x.0).collect();
    assert_eq!(rels, ["self", "next", "prev"]);
    // A client that follows the header's next gets the next page.
    let next = header_links(&a.headers)
        .into_iter()
        .find(|x| x.0 == "next")
        .unwrap()
        .1;
    let n = ok(&next).await;
    let want = ok("/ogcapi/collections/parcels/items?limit=1&offset=15").await;
    assert_eq!(n["features"][0]["id"], want["features"][0]["id"]);
    let landing = get("/ogcapi").await;
    let rels: Vec<String> = header_links(&landing.headers)
        .into_iter()
        .map(|x| x.0)
        .collect();
    for r in ["service-desc", "conformance", "data"] {
        assert!(rels.iter().any(|x| x == r), "{r}: {rels:?}");
    }
}
