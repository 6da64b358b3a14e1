//! `GET /planning` and `POST /planning` over the committed sample, through
//! the router as a client calls it: a Minh An parcel found as a user types
//! it, its answer (governing plan, lot shares summing to 100 %, indicators,
//! both geographies by date), points, drawn sites, and clear 400/404s.
//! Areas are checked against an independent computation on the store's own
//! EPSG:5899 geometry; expectations are read from the data.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use geo::{Area, BooleanOps, InteriorPoint};
use geo_types::{Geometry, MultiPolygon};
use geoplan::config::Config;
use geoplan::crs;
use geoplan::http::{app, AppState};
use geoplan::model::LayerData;
use geoplan::planning::info::level_rank;
use geoplan::store::{gpkg::GpkgStore, Store};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tokio::sync::OnceCell;
use tower::ServiceExt;

mod common;

const SAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/sample.gpkg");
static STATE: OnceCell<AppState> = OnceCell::const_new();

async fn state() -> &'static AppState {
    STATE
        .get_or_init(|| async {
            let store = Store::Gpkg(GpkgStore::open(SAMPLE).unwrap());
            let s = AppState::new(store, Config::default());
            s.load_all().await.unwrap();
            s
        })
        .await
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

async fn call(req: Request<Body>) -> (StatusCode, Value) {
    let res = app(state().await.clone()).oneshot(req).await.unwrap();
    let status = res.status();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

async fn get(uri: &str) -> (StatusCode, Value) {
    call(Request::get(uri).body(Body::empty()).unwrap()).await
}

async fn post(uri: &str, body: &Value) -> (StatusCode, Value) {
    call(
        Request::post(uri)
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .unwrap(),
    )
    .await
}

/// The store's own layer, in EPSG:5899 as stored.
fn stored(name: &str) -> LayerData {
    GpkgStore::open(SAMPLE).unwrap().read_layer(name).unwrap()
}

fn polygons_of(d: &LayerData, fid: i64) -> MultiPolygon<f64> {
    match d.geometry_of(d.row_of(fid).unwrap()).unwrap() {
        Geometry::Polygon(p) => MultiPolygon(vec![p]),
        Geometry::MultiPolygon(mp) => mp,
        g => panic!("{g:?}"),
    }
}

/// A Minh An parcel found by "tờ N thửa M Minh An", as a user finds it.
async fn minh_an_parcel() -> i64 {
    let (st, v) = get("/parcels?commune=20398&sheet=1&limit=1000").await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let list = v["parcels"].as_array().unwrap();
    let p = &list[list.len() / 2];
    let q = format!(
        "tờ {} thửa {} Minh An",
        p["sheet_number"], p["parcel_number"]
    );
    let (st, v) = get(&format!("/parcels?q={}", enc(&q))).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["parcels"][0]["fid"], p["fid"], "{q}: {v}");
    p["fid"].as_i64().unwrap()
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol
}

#[tokio::test]
async fn a_minh_an_parcel_gets_its_governing_plan_and_lot_shares_summing_to_100() {
    let fid = minh_an_parcel().await;
    let (st, v) = get(&format!("/planning?parcel={fid}")).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["subject"]["kind"], "parcel");
    assert_eq!(v["subject"]["parcel"]["fid"], fid);
    assert_eq!(v["cadastre"]["commune"]["name"], "Phường Minh An");
    assert_eq!(v["cadastre"]["district"]["name"], "Hội An");

    // The governing plan: in force, and no plan in force is more detailed.
    let plans = v["plans"].as_array().unwrap();
    assert!(
        plans.len() >= 2,
        "a general and a zoning plan cover Minh An: {v}"
    );
    let gov: Vec<&Value> = plans.iter().filter(|p| p["governs"] == true).collect();
    assert_eq!(gov.len(), 1, "{v}");
    let g = gov[0];
    assert_eq!(v["governing_plan"], g["code"]);
    assert_eq!(g["in_force"], true);
    let rank = |p: &Value| level_rank(p["level"].as_str().unwrap());
    for p in plans.iter().filter(|p| p["in_force"] == true) {
        assert!(
            rank(p) <= rank(g),
            "{} is more detailed than {}",
            p["code"],
            g["code"]
        );
    }
    for p in plans {
        for k in [
            "approval_decision",
            "approval_date",
            "approving_authority",
            "status",
        ] {
            assert!(p[k].is_string(), "{k} of {p}");
        }
        assert_eq!(p["source"]["layer"], "plans");
    }
    // Expired plans are listed, never governing.
    assert!(plans
        .iter()
        .filter(|p| p["status"] == "hết hiệu lực")
        .all(|p| p["in_force"] == false));

    // Lot shares of the governing plan sum to 100 %.
    let lots = v["zoning_lots"].as_array().unwrap();
    let in_gov: Vec<&Value> = lots
        .iter()
        .filter(|l| l["in_governing_plan"] == true)
        .collect();
    assert!(!in_gov.is_empty(), "{v}");
    let sum: f64 = in_gov
        .iter()
        .map(|l| l["share_pct"].as_f64().unwrap())
        .sum();
    assert!(close(sum, 100.0, 0.1), "shares sum to {sum}: {v}");
    assert!(close(
        v["lot_coverage"]["in_lots_pct"].as_f64().unwrap(),
        sum,
        0.05
    ));
    for l in lots {
        let (far, area) = (
            l["far"].as_f64().unwrap(),
            l["lot_area_m2"].as_f64().unwrap(),
        );
        assert!(
            close(l["max_gfa_m2"].as_f64().unwrap(), far * area, 0.2),
            "{l}"
        );
        assert!(
            l["function"].is_string() && l["lot_symbol"].is_string(),
            "{l}"
        );
    }

    // Land use with its name.
    let lu = &v["land_use"][0];
    assert_eq!(lu["code"], v["subject"]["parcel"]["land_use_code"]);
    assert!(lu["name"].as_str().unwrap().starts_with("Đất"), "{lu}");

    // Areas: the store's own EPSG:5899 geometry, measured independently.
    let parcels = stored("parcels");
    let lots_data = stored("zoning_lots");
    let parcel = polygons_of(&parcels, fid);
    let a = parcel.unsigned_area();
    assert!(
        close(v["subject"]["area_m2"].as_f64().unwrap(), a, 0.01),
        "{a}"
    );
    for l in lots {
        let lot = polygons_of(&lots_data, l["source"]["fid"].as_i64().unwrap());
        let o = parcel.intersection(&lot).unsigned_area();
        assert!(
            close(l["overlap_m2"].as_f64().unwrap(), o, 0.01),
            "{o} vs {l}"
        );
        assert!(close(
            l["lot_area_m2"].as_f64().unwrap(),
            lot.unsigned_area(),
            0.01
        ));
    }
    // Not Web Mercator: there the parcel is ~8 % larger.
    let mut merc = parcel.clone();
    for p in &mut merc.0 {
        p.exterior_mut(|r| {
            crs::transform(crs::VN2000_TM3_10745, crs::WEB_MERCATOR, &mut r.0).unwrap()
        });
    }
    assert!(merc.unsigned_area() / a > 1.05);

    // Sources name the layers and when they were loaded.
    let sources = v["sources"].as_array().unwrap();
    for id in ["parcels", "admin_units", "plans", "zoning_lots"] {
        let s = sources.iter().find(|s| s["layer"] == id).unwrap();
        assert!(s["published_at"].as_str().unwrap().ends_with('Z'), "{s}");
        assert_eq!(s["store_srid"], 5899);
    }
}

#[tokio::test]
async fn the_administrative_units_are_those_of_the_day_asked() {
    let fid = minh_an_parcel().await;
    let units = |v: &Value| -> Vec<(String, String)> {
        v["admin_units"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| {
                (
                    u["level"].as_str().unwrap().to_owned(),
                    u["code"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    let (st, before) = get(&format!("/planning?parcel={fid}&as_of=2025-06-30")).await;
    assert_eq!(st, StatusCode::OK, "{before}");
    let b = units(&before);
    assert!(b.contains(&("commune".into(), "20398".into())), "{b:?}");
    assert!(b.contains(&("district".into(), "503".into())), "{b:?}");
    assert!(b.contains(&("province".into(), "49".into())), "{b:?}");
    let (_, after) = get(&format!("/planning?parcel={fid}&as_of=2025-07-01")).await;
    let a = units(&after);
    let successor = after["cadastre"]["unit_2025"]["code"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(a.contains(&("commune".into(), successor)), "{a:?}");
    assert!(a.contains(&("province".into(), "48".into())), "{a:?}");
    assert!(!a.iter().any(|(_, c)| c == "20398" || c == "503"), "{a:?}");
    for u in after["admin_units"].as_array().unwrap() {
        assert!(u["valid_from"].as_str().unwrap() <= "2025-07-01", "{u}");
    }
}

#[tokio::test]
async fn a_plan_approved_after_the_day_is_not_part_of_the_answer() {
    let fid = minh_an_parcel().await;
    let (_, now) = get(&format!("/planning?parcel={fid}")).await;
    let gov = now["governing_plan"].as_str().unwrap().to_owned();
    let approved = now["plans"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["code"] == gov.as_str())
        .unwrap()["approval_date"]
        .as_str()
        .unwrap()
        .to_owned();
    let day_before = chrono::NaiveDate::parse_from_str(&approved, "%Y-%m-%d")
        .unwrap()
        .pred_opt()
        .unwrap()
        .format("%Y-%m-%d")
        .to_string();
    let (st, then) = get(&format!("/planning?parcel={fid}&as_of={day_before}")).await;
    assert_eq!(st, StatusCode::OK, "{then}");
    assert_eq!(then["as_of"], day_before.as_str());
    assert!(then["plans"]
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["code"] != gov.as_str()));
    assert_ne!(then["governing_plan"], gov.as_str());
    assert!(then["zoning_lots"]
        .as_array()
        .unwrap()
        .iter()
        .all(|l| l["plan_code"] != gov.as_str()));
}

#[tokio::test]
async fn a_point_answers_for_the_parcel_there_or_for_itself() {
    let fid = minh_an_parcel().await;
    let inner = polygons_of(&stored("parcels"), fid)
        .interior_point()
        .unwrap();
    let ll = crs::transform_one(crs::VN2000_TM3_10745, crs::WGS84, inner.0).unwrap();
    for q in [
        format!("point={},{}", ll.x, ll.y),
        format!("point={},{}&point-crs=EPSG:5899", inner.x(), inner.y()),
    ] {
        let (st, v) = get(&format!("/planning?{q}")).await;
        assert_eq!(st, StatusCode::OK, "{q}: {v}");
        assert_eq!(v["subject"]["parcel"]["fid"], fid, "{q}");
        assert!(v["governing_plan"].is_string());
    }
    // Out at sea east of Đà Nẵng: no parcel, no plan.
    let (st, v) = get("/planning?point=108.75,16.10").await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["subject"]["kind"], "point");
    assert!(v["plans"].as_array().unwrap().is_empty(), "{v}");
    assert!(v["governing_plan"].is_null());
}

#[tokio::test]
async fn a_drawn_site_gets_the_lots_it_covers_and_not_those_it_only_touches() {
    let lots = stored("zoning_lots");
    let row = lots.len() / 2;
    let fid = lots.fids[row];
    let lot = polygons_of(&lots, fid);
    let area = lot.unsigned_area();
    let ring: Vec<[f64; 2]> = lot.0[0].exterior().0.iter().map(|c| [c.x, c.y]).collect();
    let site = json!({"type": "Polygon", "coordinates": [ring]});
    let (st, v) = post("/planning", &json!({"site": site, "crs": "EPSG:5899"})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["subject"]["kind"], "site");
    assert!(close(v["subject"]["area_m2"].as_f64().unwrap(), area, 0.01));
    let touched = v["zoning_lots"].as_array().unwrap();
    // The lot itself at 100 %; its neighbours share only edges.
    assert_eq!(touched.len(), 1, "{v}");
    assert_eq!(touched[0]["source"]["fid"], fid);
    assert!(close(
        touched[0]["share_pct"].as_f64().unwrap(),
        100.0,
        0.01
    ));

    // The same site in WGS 84 as a GeoJSON Feature, via ?crs default.
    let ll: Vec<[f64; 2]> = lot.0[0]
        .exterior()
        .0
        .iter()
        .map(|c| {
            let p = crs::transform_one(crs::VN2000_TM3_10745, crs::WGS84, *c).unwrap();
            [p.x, p.y]
        })
        .collect();
    let feature = json!({"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": [ll]}});
    let (st, w) = post("/planning?as_of=2026-01-01", &feature).await;
    assert_eq!(st, StatusCode::OK, "{w}");
    assert_eq!(w["as_of"], "2026-01-01");
    assert!(close(w["subject"]["area_m2"].as_f64().unwrap(), area, 0.05));
    assert_eq!(w["zoning_lots"][0]["source"]["fid"], fid);
}

#[tokio::test]
async fn bad_questions_get_a_4xx_naming_the_problem() {
    let fid = minh_an_parcel().await;
    for (uri, status, says) in [
        ("/planning".to_owned(), 400, "parcel={fid} or point"),
        ("/planning?parcel=abc".into(), 400, "not a feature id"),
        (
            "/planning?parcel=999999999".into(),
            404,
            "no parcel with fid",
        ),
        (
            format!("/planning?parcel={fid}&point=108.3,15.9"),
            400,
            "not both",
        ),
        (
            format!("/planning?parcel={fid}&as_of=2025-13-01"),
            400,
            "as_of",
        ),
        (
            format!("/planning?parcel={fid}&as_of=yesterday"),
            400,
            "as_of",
        ),
        (
            format!("/planning?parcel={fid}&colour=red"),
            400,
            "unknown parameter 'colour'",
        ),
        ("/planning?point=108.3".into(), 400, "not 'x,y'"),
        ("/planning?point=561000,1760000".into(), 400, "point-crs"),
        (
            "/planning?point=1,2&point-crs=EPSG:9999".into(),
            400,
            "point-crs",
        ),
    ] {
        let (st, v) = get(&uri).await;
        assert_eq!(st.as_u16(), status, "{uri}: {v}");
        let detail = v.to_string();
        assert!(detail.contains(says), "{uri}: {detail}");
    }
    let square = |x: f64, y: f64| json!({"type": "Polygon", "coordinates": [[[x, y], [x + 0.001, y], [x + 0.001, y + 0.001], [x, y + 0.001], [x, y]]]});
    let bowtie = json!({"type": "Polygon", "coordinates": [[[108.2, 16.05], [108.21, 16.06], [108.21, 16.05], [108.2, 16.06], [108.2, 16.05]]]});
    for (body, says) in [
        (json!("a string"), "GeoJSON Polygon"),
        (
            json!({"type": "LineString", "coordinates": [[108.2, 16.0], [108.3, 16.1]]}),
            "not a LineString",
        ),
        (bowtie, "not valid"),
        (json!({"type": "Polygon", "coordinates": []}), "empty"),
        (
            json!({"type": "FeatureCollection", "features": []}),
            "not a FeatureCollection",
        ),
        (
            json!({"type": "Polygon", "coordinates": [[[1, 2], [3]]]}),
            "GeoJSON",
        ),
        (
            json!({"site": square(108.2, 16.0), "crs": "EPSG:1234"}),
            "crs",
        ),
        (json!({"site": square(561000.0, 1760000.0)}), "out of range"),
        // Hà Nội: outside the province.
        (square(105.85, 21.02), "outside Thành phố Đà Nẵng"),
    ] {
        let (st, v) = post("/planning", &body).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{body}: {v}");
        assert!(v.to_string().contains(says), "{body}: {v}");
    }
    let res = app(state().await.clone())
        .oneshot(
            Request::post("/planning")
                .body(Body::from("{not json"))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_api_document_describes_the_planning_endpoints() {
    let res = app(state().await.clone())
        .oneshot(Request::get("/api").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/vnd.oai.openapi+json"));
    let body = res.into_body().collect().await.unwrap().to_bytes();
    let doc: Value = serde_json::from_slice(&body).unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.0"));
    for (path, method, ok) in [
        ("/parcels", "get", "200"),
        ("/planning", "get", "200"),
        ("/planning", "post", "200"),
        ("/planning/check", "post", "201"),
        ("/planning/check/{id}", "get", "200"),
        ("/planning/sheet", "get", "200"),
        ("/planning/sheet/verify/{code}", "get", "200"),
        ("/stats/landuse", "get", "200"),
        ("/stats/projects", "get", "200"),
    ] {
        assert!(
            doc["paths"][path][method]["responses"][ok].is_object(),
            "{path} {method}"
        );
    }
}

/// Schemathesis generates requests from /api and checks every answer
/// against it: no 5xx, declared statuses, content types and schemas, and
/// schema-violating input refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_nothing_against_the_planning_api() {
    // A copy: every sheet issued is recorded in the GeoPackage, and an
    // editor moves projects (the registry's POST is tried signed in).
    let mut cfg = Config::default();
    cfg.ogc.editable = vec!["investment_projects".into()];
    cfg.ogc.users.insert(
        "fuzz.editor".into(),
        geoplan::http::auth::hash_password("fuzz-password").unwrap(),
    );
    let (addr, _s, _dir) = common::serve_copy(cfg).await;
    // Most generated values are refused (a free-form `point` string, a body
    // that is "an object"): the warning that says so is expected; the
    // others stay on.
    common::schemathesis(
        format!("http://{addr}/api"),
        &[
            "--warnings",
            "missing_auth,missing_test_data",
            "--auth",
            "fuzz.editor:fuzz-password",
        ],
    )
    .await;
}

/// Per-district parcel counts and legal areas read straight from the
/// GeoPackage's own `district_name` column.
fn districts_in_store() -> std::collections::BTreeMap<String, (u64, f64)> {
    let d = stored("parcels");
    let (dn, la) = (
        d.field_index("district_name").unwrap(),
        d.field_index("legal_area").unwrap(),
    );
    let mut m = std::collections::BTreeMap::new();
    for r in 0..d.len() {
        let e = m
            .entry(d.value(r, dn).to_value().to_string())
            .or_insert((0u64, 0.0f64));
        e.0 += 1;
        e.1 += d.value(r, la).as_f64().unwrap_or(0.0);
    }
    m
}

#[tokio::test]
async fn land_statistics_by_old_district_and_by_new_unit_reconcile_with_the_parcel_layer() {
    let store = districts_in_store();
    let (n, area): (u64, f64) = store.values().fold((0, 0.0), |a, v| (a.0 + v.0, a.1 + v.1));

    // 30 June 2025, by district: each district as the store counts it.
    let (st, v) = get("/stats/landuse?level=district&as_of=2025-06-30").await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["geography"], "pre_2025");
    assert_eq!(v["reconciles"], true, "{}", v["notes"]);
    assert_eq!(v["layer_total"]["parcels"], n);
    assert!(close(
        v["layer_total"]["area_m2"].as_f64().unwrap(),
        area,
        0.5
    ));
    let units = v["units"].as_array().unwrap();
    for u in units {
        let (sn, sa) = store[u["unit_name"].as_str().unwrap()];
        assert_eq!(u["parcels"], sn, "{u}");
        assert!(close(u["area_m2"].as_f64().unwrap(), sa, 0.5), "{u}");
    }
    assert_eq!(units.len(), store.len());
    let rows_sum: f64 = v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["area_m2"].as_f64().unwrap())
        .sum();
    assert!(close(rows_sum, area, 1.0), "{rows_sum} vs {area}");

    // 1 July 2025, by the new units through the lineage: the same total.
    let (st, w) = get("/stats/landuse?level=commune&as_of=2025-07-01").await;
    assert_eq!(st, StatusCode::OK, "{w}");
    assert_eq!(w["geography"], "from_2025");
    assert_eq!(w["reconciles"], true);
    assert_eq!(w["total"]["parcels"], n);
    assert!(close(w["total"]["area_m2"].as_f64().unwrap(), area, 0.5));
    let new_units = w["units"].as_array().unwrap();
    assert!(
        new_units.len() > 20 && new_units.len() <= 94,
        "{}",
        new_units.len()
    );
    assert!(new_units.iter().any(|u| u["unit_name"] == "Phường Hội An"));
    // The province level of each geography holds everything too.
    for day in ["2025-06-30", "2025-07-01"] {
        let (_, p) = get(&format!(
            "/stats/landuse?level=province&as_of={day}&group=group"
        ))
        .await;
        assert_eq!(p["total"]["parcels"], n, "{day}");
        for r in p["rows"].as_array().unwrap() {
            assert!(
                ["NNP", "PNN", "CSD"].contains(&r["land_use"].as_str().unwrap()),
                "{r}"
            );
        }
    }
    // One unit, by name without type or diacritics.
    let (st, one) = get("/stats/landuse?level=district&as_of=2025-06-30&unit=hoi%20an").await;
    assert_eq!(st, StatusCode::OK, "{one}");
    assert_eq!(one["units"].as_array().unwrap().len(), 1);
    assert_eq!(one["total"]["parcels"], store["Hội An"].0);
    assert!(one["reconciles"].is_null());
}

#[tokio::test]
async fn land_statistics_export_to_csv_and_xlsx_that_other_readers_open() {
    let res = app(state().await.clone())
        .oneshot(
            Request::get("/stats/landuse?level=district&as_of=2025-06-30&f=csv")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let csv =
        String::from_utf8(res.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
    assert!(
        csv.starts_with("\u{feff}Mã đơn vị (Unit code),Đơn vị hành chính (Unit)"),
        "{}",
        &csv[..80]
    );
    assert!(csv.contains("Hội An"));
    let res = app(state().await.clone())
        .oneshot(
            Request::get("/stats/landuse?level=district&as_of=2025-06-30&f=xlsx")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let xlsx = res.into_body().collect().await.unwrap().to_bytes();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("stats.xlsx");
    std::fs::write(&path, &xlsx).unwrap();
    // GDAL's XLSX driver, an independent reader: one row per data row.
    let out = std::process::Command::new("ogrinfo")
        .args(["-ro", "-al", "-so"])
        .arg(&path)
        .output()
        .unwrap();
    let info = String::from_utf8_lossy(&out.stdout);
    let (_, v) = get("/stats/landuse?level=district&as_of=2025-06-30").await;
    let rows = v["rows"].as_array().unwrap().len() + 1;
    assert!(info.contains(&format!("Feature Count: {rows}")), "{info}");
    assert!(info.contains("Số thửa"), "{info}");
}

#[tokio::test]
async fn land_statistics_read_the_same_to_the_last_digit_every_time() {
    // Sums added up in one order: areas of many codes summed into a group
    // (and of many communes into a district) do not change with the
    // order a hash map happens to hold them in.
    for uri in [
        "/stats/landuse?level=province&as_of=2025-06-30&group=group",
        "/stats/landuse?level=district&as_of=2025-06-30",
    ] {
        let (st, first) = get(uri).await;
        assert_eq!(st, StatusCode::OK, "{first}");
        for _ in 0..5 {
            assert_eq!(get(uri).await.1, first, "{uri}");
        }
    }
}

#[tokio::test]
async fn project_statistics_count_every_project_once() {
    let projects = stored("investment_projects");
    for by in ["status", "unit", "function"] {
        let (st, v) = get(&format!("/stats/projects?by={by}&as_of=2025-07-01")).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        let sum: u64 = v["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["projects"].as_u64().unwrap())
            .sum();
        assert_eq!(sum, projects.len() as u64, "{by}");
        assert_eq!(v["total"]["projects"], projects.len() as u64);
    }
}

#[tokio::test]
async fn bad_statistics_questions_get_a_4xx() {
    for (uri, status, says) in [
        (
            "/stats/landuse?level=district&as_of=2025-07-01",
            400,
            "no districts",
        ),
        ("/stats/landuse?level=ward", 400, "level='ward'"),
        ("/stats/landuse?as_of=2025-02-30", 400, "as_of"),
        ("/stats/landuse?group=colour", 400, "group='colour'"),
        ("/stats/landuse?f=docx", 400, "f='docx'"),
        (
            "/stats/landuse?level=district&as_of=2025-06-30&unit=Atlantis",
            404,
            "no district",
        ),
        ("/stats/landuse?colour=red", 400, "unknown parameter"),
        ("/stats/projects?by=investor", 400, "by='investor'"),
    ] {
        let (st, v) = get(uri).await;
        assert_eq!(st.as_u16(), status, "{uri}: {v}");
        assert!(v.to_string().contains(says), "{uri}: {v}");
    }
}
