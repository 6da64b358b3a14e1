//! `GET /sites`, investor site search, over the committed sample through
//! the router as a client calls it. The Chu Lai light-industry question of
//! planning.md is answered and checked against an independent computation
//! on the store's own EPSG:5899 geometry (every qualifying lot found, none
//! too many, distances equal); parcels, units before and after the merger,
//! exclusions, sorting, paging, the reproducing URL, GeoJSON and CSV, and
//! clear 400s for bad questions.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use geo::{Area, BooleanOps, Contains, Distance, Euclidean, InteriorPoint};
use geo_types::{Geometry, MultiPolygon, Point};
use geoplan::http::{app, AppState};
use geoplan::model::{LayerData, ValueRef};
use geoplan::store::gpkg::GpkgStore;
use http_body_util::BodyExt;
use serde_json::Value;
use std::collections::BTreeSet;
use tower::ServiceExt;

mod common;

const SAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/sample.gpkg");

async fn state() -> &'static AppState {
    common::shared_sample().await
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

async fn raw(uri: &str) -> (StatusCode, String, Vec<u8>) {
    let req = Request::get(uri).body(Body::empty()).unwrap();
    let res = app(state().await.clone()).oneshot(req).await.unwrap();
    let status = res.status();
    let ct = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = res.into_body().collect().await.unwrap().to_bytes().to_vec();
    (status, ct, body)
}

async fn get(uri: &str) -> (StatusCode, Value) {
    let (st, _, body) = raw(uri).await;
    (st, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

/// The store's own layer, in EPSG:5899 as stored.
fn stored(name: &str) -> LayerData {
    GpkgStore::open(SAMPLE).unwrap().read_layer(name).unwrap()
}

fn text(d: &LayerData, row: usize, f: &str) -> Option<String> {
    match d.value(row, d.field_index(f)?) {
        ValueRef::Text(s) => Some(s.to_owned()),
        _ => None,
    }
}

fn num(d: &LayerData, row: usize, f: &str) -> Option<f64> {
    d.value(row, d.field_index(f)?).as_f64()
}

fn shape(d: &LayerData, row: usize) -> MultiPolygon<f64> {
    match d.geometry_of(row).unwrap() {
        Geometry::Polygon(p) => MultiPolygon(vec![p]),
        Geometry::MultiPolygon(mp) => mp,
        g => panic!("{g:?}"),
    }
}

/// Distance in EPSG:5899 from a lot to the stored POI of that name.
fn to_poi(lot: &MultiPolygon<f64>, pois: &LayerData, name: &str) -> f64 {
    let r = (0..pois.len())
        .find(|&r| text(pois, r, "name").as_deref() == Some(name))
        .unwrap();
    Euclidean.distance(
        &Geometry::MultiPolygon(lot.clone()),
        &pois.geometry_of(r).unwrap(),
    )
}

const AIRPORT: &str = "Sân bay Chu Lai";
const PORT: &str = "Cảng Kỳ Hà / Tam Hiệp";

/// "Which sites of 2–10 ha for light industry lie inside an IZ, ≤ 30 km
/// from Chu Lai airport and ≤ 20 km from Kỳ Hà port, not already taken?"
fn chu_lai() -> String {
    format!(
        "/sites?function={}&min_area=2ha&max_area=10ha&in=industrial&near={}&near={}&exclude=projects&limit=1000&as_of=2026-12-01",
        enc("công nghiệp"),
        enc(&format!("{AIRPORT}:30km")),
        enc(&format!("{PORT}:20000")),
    )
}

#[tokio::test]
async fn the_chu_lai_light_industry_question_finds_exactly_the_qualifying_lots() {
    let (st, v) = get(&chu_lai()).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let results = v["results"].as_array().unwrap();
    assert!(!results.is_empty(), "{v}");
    assert_eq!(v["total"].as_u64().unwrap() as usize, results.len());
    assert!(v["score"]["formula"].as_str().unwrap().contains("max_m"));

    // The truth, computed from the store's own EPSG:5899 layers.
    let lots = stored("zoning_lots");
    let plans = stored("plans");
    let zones = stored("industrial_zones");
    let pois = stored("pois");
    let projects = stored("investment_projects");
    let in_force: BTreeSet<String> = (0..plans.len())
        .filter(|&r| text(&plans, r, "status").as_deref() == Some("đang hiệu lực"))
        .filter(|&r| text(&plans, r, "approval_date").is_some_and(|d| d.as_str() <= "2026-12-01"))
        .filter_map(|r| text(&plans, r, "code"))
        .collect();
    let mut want = BTreeSet::new();
    for r in 0..lots.len() {
        if text(&lots, r, "function").as_deref() != Some("Đất công nghiệp")
            || !text(&lots, r, "plan_code").is_some_and(|p| in_force.contains(&p))
        {
            continue;
        }
        let area = num(&lots, r, "area_m2").unwrap();
        if !(20_000.0..=100_000.0).contains(&area) {
            continue;
        }
        let lot = shape(&lots, r);
        let inner: Point<f64> = lot.interior_point().unwrap();
        let in_iz = (0..zones.len()).any(|z| {
            text(&zones, z, "kind").is_some_and(|k| k.contains("công nghiệp"))
                && shape(&zones, z).contains(&inner)
        });
        if !in_iz || to_poi(&lot, &pois, AIRPORT) > 30_000.0 || to_poi(&lot, &pois, PORT) > 20_000.0
        {
            continue;
        }
        let taken = (0..projects.len()).any(|p| {
            let status = text(&projects, p, "status").unwrap_or_default();
            !status.contains("thu hồi")
                && shape(&projects, p).intersection(&lot).unsigned_area() > 1.0
        });
        if !taken {
            want.insert(lots.fids[r]);
        }
    }
    let got: BTreeSet<i64> = results.iter().map(|r| r["fid"].as_i64().unwrap()).collect();
    assert_eq!(
        got, want,
        "the search and the independent computation differ"
    );

    let mut last = f64::INFINITY;
    for r in results {
        let row = lots.row_of(r["fid"].as_i64().unwrap()).unwrap();
        let lot = shape(&lots, row);
        assert_eq!(r["function"], "Đất công nghiệp");
        assert!(
            r["zone"]["name"].as_str().unwrap().starts_with("KCN"),
            "{r}"
        );
        let d = r["distances"].as_array().unwrap();
        assert_eq!(d.len(), 2, "{r}");
        for (i, (name, kind)) in [(AIRPORT, "sân bay"), (PORT, "cảng biển")]
            .into_iter()
            .enumerate()
        {
            let m = to_poi(&lot, &pois, name);
            assert_eq!(d[i]["to"], name, "{r}");
            assert_eq!(d[i]["class"], kind);
            let got = d[i]["m"].as_f64().unwrap();
            assert!((got - m).abs() < 0.5, "{name}: {got} vs {m} in EPSG:5899");
        }
        assert_eq!(r["zone"]["kind"], "khu công nghiệp", "{r}");
        // The stated score, recomputed.
        let score =
            (2.0 - d[0]["m"].as_f64().unwrap() / 30_000.0 - d[1]["m"].as_f64().unwrap() / 20_000.0)
                / 2.0;
        let s = r["score"].as_f64().unwrap();
        assert!((s - score).abs() < 1e-3, "{s} vs {score}");
        assert!(s <= last + 1e-12, "ranked by score");
        last = s;
        assert!(r["units"]["commune"]["name"].is_string(), "{r}");
        assert!(r["units"]["unit_2025"]["name"].is_string(), "{r}");
        let [lon, lat] = [
            r["point"][0].as_f64().unwrap(),
            r["point"][1].as_f64().unwrap(),
        ];
        assert!(
            (108.4..108.8).contains(&lon) && (15.3..15.7).contains(&lat),
            "{r}"
        );
    }

    // Without the exclusion, the lots already taken by projects come back.
    let (_, all) = get(&chu_lai().replace("&exclude=projects", "")).await;
    assert!(
        all["total"].as_u64() > v["total"].as_u64(),
        "some IZ lots are taken by projects"
    );
}

#[tokio::test]
async fn the_url_reproduces_the_search_and_pages_are_slices_of_it() {
    let (st, v) = get("/sites?use=SKK&in=industrial&near=seaport:40km&limit=10").await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert!(v["total"].as_u64().unwrap() > 10, "{v}");
    let url = v["url"].as_str().unwrap();
    assert!(url.contains("as_of="), "the URL fixes the day: {url}");
    let path = &url[url.find("/sites").unwrap()..];
    let (_, again) = get(path).await;
    assert_eq!(again["results"], v["results"]);
    let (_, page2) = get(&format!(
        "{}&offset=5&limit=5",
        "/sites?use=SKK&in=industrial&near=seaport:40000"
    ))
    .await;
    assert_eq!(
        page2["results"].as_array().unwrap()[..],
        v["results"].as_array().unwrap()[5..10]
    );
    let next = v["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["rel"] == "next")
        .unwrap()["href"]
        .as_str()
        .unwrap();
    assert!(next.contains("offset=10"), "{next}");

    // Sorting by area and by distance.
    let (_, by_area) = get("/sites?use=SKK&sort=area&limit=50").await;
    let areas: Vec<f64> = by_area["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["area_m2"].as_f64().unwrap())
        .collect();
    assert!(areas.windows(2).all(|w| w[0] >= w[1]), "{areas:?}");
    // A page is the same slice of the whole ordered answer, however long.
    let (_, whole) = get("/sites?use=SKK&sort=area&limit=1000").await;
    let n = whole["total"].as_u64().unwrap() as usize;
    assert!(n > 50 && n <= 1000, "{n}");
    assert_eq!(
        whole["results"].as_array().unwrap()[..50],
        by_area["results"].as_array().unwrap()[..]
    );
    let (_, by_port) =
        get("/sites?use=SKK&near=seaport:40000&sort=distance:seaport&limit=50").await;
    let ds: Vec<f64> = by_port["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["distances"][0]["m"].as_f64().unwrap())
        .collect();
    assert!(
        !ds.is_empty() && ds.windows(2).all(|w| w[0] <= w[1]),
        "{ds:?}"
    );
}

#[tokio::test]
async fn parcels_by_current_use_near_a_named_place_in_a_unit_before_and_after_the_merger() {
    // Commercial parcels within 3 km of Đà Nẵng airport.
    let near = enc("Sân bay Đà Nẵng:3000");
    let (st, v) = get(&format!(
        "/sites?candidates=parcels&use=TMD,ODT&near={near}&limit=1000"
    ))
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let res = v["results"].as_array().unwrap();
    assert!(!res.is_empty(), "{v}");
    let parcels = stored("parcels");
    let pois = stored("pois");
    let airport = (0..pois.len())
        .find(|&r| text(&pois, r, "name").as_deref() == Some("Sân bay Đà Nẵng"))
        .unwrap();
    let ap = pois.geometry_of(airport).unwrap();
    for r in res {
        let code = r["land_use_code"].as_str().unwrap();
        assert!(code.contains("TMD") || code.contains("ODT"), "{r}");
        let row = parcels.row_of(r["fid"].as_i64().unwrap()).unwrap();
        let m = Euclidean.distance(&Geometry::MultiPolygon(shape(&parcels, row)), &ap);
        assert!(
            m <= 3000.0 && (r["distances"][0]["m"].as_f64().unwrap() - m).abs() < 0.5,
            "{r} vs {m}"
        );
        assert!(
            r["sheet_number"].is_i64() && r["parcel_number"].is_i64(),
            "{r}"
        );
        // Legal area, as recorded.
        assert_eq!(
            r["area_m2"].as_f64().unwrap(),
            (num(&parcels, row, "legal_area").unwrap() * 100.0).round() / 100.0
        );
    }
    // A unit before the merger (a pre-2025 commune by name) and the 2025
    // unit that absorbed it: every result lies in it.
    let (_, hc) = get(&format!(
        "/sites?candidates=parcels&use=ODT&unit={}&limit=1000",
        enc("Phường Minh An")
    ))
    .await;
    let hc = hc["results"].as_array().unwrap().clone();
    assert!(!hc.is_empty());
    assert!(
        hc.iter()
            .all(|r| r["units"]["commune"]["name"] == "Phường Minh An"),
        "{hc:?}"
    );
    let new_code = hc[0]["units"]["unit_2025"]["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, after) = get(&format!(
        "/sites?candidates=parcels&use=ODT&unit={new_code}&limit=1000"
    ))
    .await;
    let after = after["results"].as_array().unwrap();
    assert!(
        after.len() >= hc.len(),
        "the 2025 unit holds Minh An and more"
    );
    assert!(after
        .iter()
        .all(|r| r["units"]["unit_2025"]["code"] == new_code.as_str()));
    // Lots by unit: placed by where they lie.
    let (st, lots) = get(&format!("/sites?unit={}&limit=1000", enc("Hội An"))).await;
    assert_eq!(st, StatusCode::OK, "{lots}");
    let lots = lots["results"].as_array().unwrap();
    assert!(!lots.is_empty());
    assert!(
        lots.iter()
            .all(|r| r["units"]["district"]["name"] == "Hội An"),
        "{lots:?}"
    );

    // A legacy code is searched as its successor, and says so.
    let (st, v) = get("/sites?candidates=parcels&use=SKT&limit=5").await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["uses"][0], "SKK");
    assert!(v["notes"][0].as_str().unwrap().contains("SKT"), "{v}");
}

#[tokio::test]
async fn geojson_and_csv_carry_the_same_page() {
    let q = "/sites?function=industry&in=industrial&near=airport:60km&limit=7";
    let (_, v) = get(q).await;
    let (st, ct, body) = raw(&format!("{q}&f=geojson")).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(ct, "application/geo+json");
    let g: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(g["type"], "FeatureCollection");
    let feats = g["features"].as_array().unwrap();
    assert_eq!(feats.len(), 7);
    assert_eq!(g["total"], v["total"]);
    for (f, r) in feats.iter().zip(v["results"].as_array().unwrap()) {
        assert_eq!(f["id"], r["fid"]);
        assert_eq!(f["properties"]["score"], r["score"]);
        let ring = f["geometry"]["coordinates"][0].as_array().unwrap();
        let x = ring[0][0].as_f64().unwrap();
        assert!((107.0..109.0).contains(&x), "WGS 84 longitude: {x}");
    }
    let (st, ct, body) = raw(&format!("{q}&f=csv")).await;
    assert_eq!(st, StatusCode::OK);
    assert!(ct.starts_with("text/csv"));
    let text = String::from_utf8(body).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 8, "{text}");
    assert!(
        lines[0].contains("Diện tích (m²)") && lines[0].contains("Khoảng cách đến airport (m)"),
        "{}",
        lines[0]
    );
    assert!(lines[1].contains("Đất công nghiệp"), "{}", lines[1]);
}

#[tokio::test]
async fn bad_questions_get_a_400_naming_the_problem() {
    for (q, needle) in [
        ("near=spaceport:1000", "spaceport"),
        ("near=airport:99999999", "300 km"),
        ("near=airport:-4", "distance"),
        ("near=airport", "<metres>"),
        ("min_area=10ha&max_area=2ha", "inverted"),
        ("min_area=lots", "min_area"),
        ("use=XYZ", "XYZ"),
        ("function=blah", "blah"),
        ("in=Atlantis", "Atlantis"),
        ("unit=Nowhere%20Town", "Nowhere"),
        ("sort=distance:airport", "near=airport"),
        ("sort=random", "sort"),
        ("exclude=schools", "schools"),
        ("candidates=buildings", "candidates"),
        ("candidates=parcels&min_far=2", "min_far"),
        ("limit=0", "limit"),
        ("as_of=2025-02-30", "as_of"),
        ("colour=red", "colour"),
        ("f=xml", "f='xml'"),
        ("limit=5&limit=6", "more than once"),
    ] {
        let (st, v) = get(&format!("/sites?{q}")).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{q}: {v}");
        let detail = v["detail"].as_str().unwrap_or_default();
        assert!(detail.contains(needle), "{q}: {detail}");
    }
}

/// The fids every parcel of `uses` (current codes) of at least `min_m2`
/// within `max_m` of some geometry in `places` has, by a walk of every
/// stored parcel in EPSG:5899: what a search must find, whichever way
/// (index or attribute columns) it reads its candidates. Parcels within
/// 1 cm of the limit are returned apart, as either answer is right.
fn brute_parcels(
    uses: &[&str],
    min_m2: f64,
    places: &[Geometry<f64>],
    max_m: f64,
) -> (BTreeSet<i64>, BTreeSet<i64>) {
    use geoplan::planning::landuse::{codes_of, current};
    let parcels = stored("parcels");
    let (mut sure, mut edge) = (BTreeSet::new(), BTreeSet::new());
    for row in 0..parcels.len() {
        let code = text(&parcels, row, "land_use_code").unwrap_or_default();
        if !codes_of(&code)
            .iter()
            .any(|lu| uses.contains(&current(&lu.code).as_str()))
        {
            continue;
        }
        if num(&parcels, row, "legal_area").is_some_and(|a| a < min_m2) {
            continue;
        }
        let g = Geometry::MultiPolygon(shape(&parcels, row));
        let d = places
            .iter()
            .map(|p| Euclidean.distance(&g, p))
            .fold(f64::INFINITY, f64::min);
        if (d - max_m).abs() < 0.01 {
            edge.insert(parcels.fids[row]);
        } else if d < max_m {
            sure.insert(parcels.fids[row]);
        }
    }
    (sure, edge)
}

#[tokio::test]
async fn parcel_searches_find_every_qualifying_parcel_near_wide_and_narrow_places() {
    let roads = stored("roads");
    let national: Vec<Geometry<f64>> = (0..roads.len())
        .filter(|&r| text(&roads, r, "road_class").as_deref() == Some("quốc lộ"))
        .filter_map(|r| roads.geometry_of(r))
        .collect();
    let pois = stored("pois");
    let poi = |name: &str| -> Vec<Geometry<f64>> {
        (0..pois.len())
            .filter(|&r| text(&pois, r, "name").as_deref() == Some(name))
            .filter_map(|r| pois.geometry_of(r))
            .collect()
    };
    const OLD_TOWN: &str = "Phố cổ Hội An";
    let (airport, old_town) = (poi("Sân bay Đà Nẵng"), poi(OLD_TOWN));
    assert!(!national.is_empty() && airport.len() == 1 && old_town.len() == 1);
    // Within reach of every national road and of the airport (much of
    // the province, or of the city: the candidates come from the land-use
    // and area columns), then within 800 m of Hội An old town (a few
    // parcels: from the index); for a rare use and a common one.
    for (near, places, max_m, uses, min) in [
        ("national_road", &national, 1500.0, &["TMD"][..], 150.0),
        (
            "national_road",
            &national,
            1500.0,
            &["CLN", "ODT"][..],
            400.0,
        ),
        ("Sân bay Đà Nẵng", &airport, 2500.0, &["TMD"][..], 100.0),
        ("Sân bay Đà Nẵng", &airport, 2500.0, &["ODT"][..], 160.0),
        (OLD_TOWN, &old_town, 800.0, &["ODT"][..], 100.0),
    ] {
        let (sure, edge) = brute_parcels(uses, min, places, max_m);
        let uri = format!(
            "/sites?candidates=parcels&use={}&min_area={min}&near={}&limit=1000&sort=area",
            uses.join(","),
            enc(&format!("{near}:{max_m}"))
        );
        let (st, v) = get(&uri).await;
        assert_eq!(st, StatusCode::OK, "{uri}: {v}");
        let found: BTreeSet<i64> = v["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["fid"].as_i64().unwrap())
            .collect();
        assert!(!sure.is_empty(), "{uri}: nothing to find");
        assert!(sure.len() < 1000, "{uri}: more than a page");
        assert_eq!(v["total"].as_u64().unwrap() as usize, found.len(), "{uri}");
        let missed: Vec<_> = sure.difference(&found).collect();
        let extra: Vec<_> = found
            .difference(&sure)
            .filter(|f| !edge.contains(f))
            .collect();
        assert!(
            missed.is_empty() && extra.is_empty(),
            "{uri}: missed {missed:?}, extra {extra:?}"
        );
    }
}
