//! `POST /planning/check` and `GET /planning/check/{id}` over a copy of
//! the sample, as an investment officer uses them: a site drawn from a
//! defence parcel across a river fails those rules with clear sentences; a
//! site inside a commercial lot with a fitting proposal passes every rule
//! with a sentence each, and the same site with too many floors fails that
//! rule naming the lot's limit; checks are stored and read back (JSON and a
//! PDF read with pdftotext); bad input is a 400 naming the problem.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use geo::{Buffer, ClosestPoint, InteriorPoint};
use geo_types::{Geometry, LineString, MultiPolygon, Point};
use geoplan::config::Config;
use geoplan::crs;
use geoplan::http::{app, AppState};
use geoplan::model::LayerData;
use geoplan::store::gpkg::GpkgStore;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tokio::sync::OnceCell;
use tower::ServiceExt;

mod common;

const SAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/sample.gpkg");
static STATE: OnceCell<(AppState, tempfile::TempDir)> = OnceCell::const_new();

/// The server over a copy of the sample: checks are stored in it.
async fn state() -> &'static AppState {
    &STATE
        .get_or_init(|| async {
            let (dir, s) = common::sample_copy(Config::default()).await;
            (s, dir)
        })
        .await
        .0
}

async fn call(req: Request<Body>) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let res = app(state().await.clone()).oneshot(req).await.unwrap();
    let (st, h) = (res.status(), res.headers().clone());
    (
        st,
        h,
        res.into_body().collect().await.unwrap().to_bytes().to_vec(),
    )
}

async fn post(body: &Value) -> (StatusCode, Value) {
    let (st, _, b) = call(
        Request::post("/planning/check")
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .unwrap(),
    )
    .await;
    (st, serde_json::from_slice(&b).unwrap_or(Value::Null))
}

fn stored(name: &str) -> LayerData {
    GpkgStore::open(SAMPLE).unwrap().read_layer(name).unwrap()
}

fn ring(mp: &MultiPolygon<f64>) -> Value {
    let r: Vec<[f64; 2]> = mp.0[0].exterior().0.iter().map(|c| [c.x, c.y]).collect();
    json!({"type": "Polygon", "coordinates": [r]})
}

fn rules<'a>(v: &'a Value, kind: &str) -> Vec<&'a Value> {
    v["result"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["rule"] == kind)
        .collect()
}

fn every_rule_has_both_sentences(v: &Value) {
    for r in v["result"]["rules"].as_array().unwrap() {
        assert!(r["vi"].as_str().unwrap().len() > 20, "{r}");
        assert!(r["en"].as_str().unwrap().len() > 20, "{r}");
        assert!(r["pass"].is_boolean(), "{r}");
    }
}

/// A corridor 30 m wide from inside a defence parcel (CQP) to 40 m past
/// the nearest point of the nearest river, in EPSG:5899.
fn defence_to_river_site() -> (MultiPolygon<f64>, String) {
    let parcels = stored("parcels");
    let lu = parcels.field_index("land_use_code").unwrap();
    let cqp: Vec<usize> = (0..parcels.len())
        .filter(|&r| parcels.value(r, lu).to_value().to_string() == "CQP")
        .collect();
    assert!(!cqp.is_empty(), "the sample has defence parcels");
    let water = stored("water");
    let kind = water.field_index("kind").unwrap();
    let mut best: Option<(f64, Point<f64>, Point<f64>, String)> = None;
    for &r in &cqp {
        let inside = parcels.geometry_of(r).unwrap().interior_point().unwrap();
        for w in 0..water.len() {
            if water.value(w, kind).to_value().to_string() != "sông" {
                continue;
            }
            let Some(Geometry::LineString(l)) = water.geometry_of(w) else {
                continue;
            };
            if let geo::Closest::SinglePoint(p) | geo::Closest::Intersection(p) =
                l.closest_point(&inside)
            {
                let d = ((p.x() - inside.x()).powi(2) + (p.y() - inside.y()).powi(2)).sqrt();
                if best.as_ref().is_none_or(|b| d < b.0) {
                    let name = water
                        .value(w, water.field_index("name").unwrap())
                        .to_value()
                        .to_string();
                    best = Some((d, inside, p, name));
                }
            }
        }
    }
    let (d, a, b, name) = best.unwrap();
    let (ux, uy) = ((b.x() - a.x()) / d, (b.y() - a.y()) / d);
    let end = Point::new(b.x() + ux * 40.0, b.y() + uy * 40.0);
    let axis = LineString::from(vec![(a.x(), a.y()), (end.x(), end.y())]);
    (axis.buffer(15.0), name)
}

#[tokio::test]
async fn a_site_from_a_defence_parcel_across_a_river_fails_those_rules_with_clear_sentences() {
    let (site, river) = defence_to_river_site();
    let body = json!({
        "site": ring(&site),
        "crs": "EPSG:5899",
        "proposal": {"use": "TMD", "floors": 12, "density_pct": 60, "far": 5.0},
    });
    let (st, v) = post(&body).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    every_rule_has_both_sentences(&v);
    assert_eq!(v["result"]["pass"], false);
    let water = rules(&v, "water");
    assert_eq!(water[0]["pass"], false, "{v}");
    assert!(
        water[0]["vi"].as_str().unwrap().contains(&river),
        "{}",
        water[0]
    );
    assert!(water[0]["en"]
        .as_str()
        .unwrap()
        .starts_with("The site crosses water"));
    let defence = rules(&v, "defence");
    assert_eq!(defence[0]["pass"], false, "{v}");
    assert!(
        defence[0]["vi"]
            .as_str()
            .unwrap()
            .contains("đất quốc phòng"),
        "{}",
        defence[0]
    );
    assert!(
        defence[0]["en"].as_str().unwrap().contains("(CQP)"),
        "{}",
        defence[0]
    );
    // The rules it meets say so too.
    let admin = rules(&v, "admin");
    assert_eq!(admin[0]["pass"], true);
    assert!(admin[0]["vi"]
        .as_str()
        .unwrap()
        .starts_with("Khu đất thuộc"));
}

/// A parcel inside a commercial (TMDV) lot of a governing zoning plan, and
/// that lot's limits.
async fn commercial_parcels() -> Vec<(MultiPolygon<f64>, Value)> {
    let s = state().await;
    let parcels = stored("parcels");
    let mut out = Vec::new();
    for row in (0..parcels.len()).step_by(7) {
        let fid = parcels.fids[row];
        let (_, _, b) = call(
            Request::get(format!("/planning?parcel={fid}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        let v: Value = serde_json::from_slice(&b).unwrap();
        let lots = v["zoning_lots"].as_array().unwrap();
        if lots.len() == 1
            && lots[0]["in_governing_plan"] == true
            && lots[0]["function"] == "Đất thương mại dịch vụ"
            && lots[0]["share_pct"].as_f64() == Some(100.0)
        {
            let Some(Geometry::Polygon(p)) = parcels.geometry_of(row) else {
                continue;
            };
            out.push((MultiPolygon(vec![p]), lots[0].clone()));
            if out.len() == 40 {
                break;
            }
        }
    }
    let _ = s;
    assert!(!out.is_empty(), "the sample has parcels in commercial lots");
    out
}

#[tokio::test]
async fn a_fitting_proposal_passes_every_rule_and_too_many_floors_fail_naming_the_limit() {
    let mut passed = None;
    for (site, lot) in commercial_parcels().await {
        // As typed: lower case, a trailing space.
        let proposal = json!({
            "use": "tmd ",
            "floors": lot["floors_max"],
            "density_pct": lot["density_pct"],
            "far": lot["far"],
        });
        let (st, v) =
            post(&json!({"site": ring(&site), "crs": "EPSG:5899", "proposal": proposal})).await;
        assert_eq!(st, StatusCode::CREATED, "{v}");
        every_rule_has_both_sentences(&v);
        // Whatever else it meets, the lot's own rules pass.
        for kind in [
            "lot.use",
            "lot.floors",
            "lot.density",
            "lot.far",
            "plan.coverage",
        ] {
            let r = rules(&v, kind);
            assert_eq!(r.len(), 1, "{kind}: {v}");
            assert_eq!(r[0]["pass"], true, "{}", r[0]);
        }
        if v["result"]["pass"] == true {
            passed = Some((site, lot, v));
            break;
        }
    }
    let (site, lot, v) = passed.expect("one commercial parcel meets every rule");
    for kind in ["water", "road", "defence", "heritage", "projects"] {
        let r = rules(&v, kind);
        assert_eq!(r[0]["pass"], true, "{}", r[0]);
    }
    assert_eq!(
        rules(&v, "defence")[0]["en"],
        "The site is not on defence or security land (CQP, CAN)."
    );
    assert_eq!(v["result"]["failed"], 0);

    // The same site with five floors too many and an unknown-to-the-lot use.
    let max = lot["floors_max"].as_i64().unwrap();
    let symbol = lot["lot_symbol"].as_str().unwrap();
    let (st, w) = post(&json!({
        "site": ring(&site), "crs": "EPSG:5899",
        "proposal": {"use": "SKC", "floors": max + 5},
    }))
    .await;
    assert_eq!(st, StatusCode::CREATED);
    let floors = &rules(&w, "lot.floors")[0];
    assert_eq!(floors["pass"], false);
    assert!(
        floors["vi"]
            .as_str()
            .unwrap()
            .contains(&format!("vượt tầng cao tối đa {max} của lô {symbol}")),
        "{floors}"
    );
    let use_rule = &rules(&w, "lot.use")[0];
    assert_eq!(use_rule["pass"], false);
    assert!(
        use_rule["en"]
            .as_str()
            .unwrap()
            .contains("does not allow the use SKC"),
        "{use_rule}"
    );
    assert_eq!(w["result"]["failed"], 2, "{w}");

    // Stored: read back as JSON and as a PDF.
    let id = v["id"].as_str().unwrap();
    let (st, _, b) = call(
        Request::get(format!("/planning/check/{id}"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    let back: Value = serde_json::from_slice(&b).unwrap();
    assert_eq!(back["intact"], true);
    assert_eq!(back["result"], v["result"]);
    // The request is kept as it was sent.
    assert_eq!(back["request"]["proposal"]["use"], "tmd ");
    let (st, h, pdf) = call(
        Request::get(format!("/planning/check/{}", w["id"].as_str().unwrap()))
            .header("accept", "application/pdf")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(h["content-type"], "application/pdf");
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("check");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("check.pdf");
    std::fs::write(&path, &pdf).unwrap();
    let out = std::process::Command::new("pdftotext")
        .args(["-enc", "UTF-8"])
        .arg(&path)
        .arg("-")
        .output()
        .unwrap();
    let text: String = String::from_utf8(out.stdout)
        .unwrap()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    for want in [
        "Kết quả kiểm tra sự phù hợp quy hoạch",
        "KHÔNG ĐẠT",
        &format!("vượt tầng cao tối đa {max} của lô {symbol}"),
        "không nằm trong đất quốc phòng",
    ] {
        assert!(text.contains(want), "'{want}' not in the report:\n{text}");
    }
    let _ = std::process::Command::new("pdftoppm")
        .args(["-r", "70", "-png"])
        .arg(&path)
        .arg(dir.join("check-page"))
        .status();
}

/// Checks stored in the served copy (0 before the first).
async fn stored_checks() -> i64 {
    state().await;
    let path = STATE.get().unwrap().1.path().join("sample.gpkg");
    let db = rusqlite::Connection::open(path).unwrap();
    db.query_row(
        "SELECT count(*) FROM planning_records WHERE kind = 'check'",
        [],
        |r| r.get(0),
    )
    .unwrap_or(0)
}

#[tokio::test]
async fn bad_checks_get_a_400_naming_the_problem_and_store_nothing() {
    let square = |x: f64, y: f64| json!({"type": "Polygon", "coordinates": [[[x, y], [x + 0.001, y], [x + 0.001, y + 0.001], [x, y + 0.001], [x, y]]]});
    let ok_site = square(108.3277, 15.8801);
    let bowtie = json!({"type": "Polygon", "coordinates": [[[108.2, 16.05], [108.21, 16.06], [108.21, 16.05], [108.2, 16.06], [108.2, 16.05]]]});
    let many: Vec<[f64; 2]> = (0..=10_001)
        .map(|i| {
            let a = f64::from(i) / 10_001.0 * std::f64::consts::TAU;
            [108.3277 + 0.001 * a.cos(), 15.8801 + 0.001 * a.sin()]
        })
        .collect();
    // A good one first, so the table exists and is counted.
    let (st, _) = post(&json!({"site": ok_site, "proposal": {"use": "TMD"}})).await;
    assert_eq!(st, StatusCode::CREATED);
    let before = stored_checks().await;
    assert!(before >= 1);
    for (body, says) in [
        (
            json!({"site": bowtie, "proposal": {"use": "TMD"}}),
            "not valid",
        ),
        (
            json!({"site": {"type": "Polygon", "coordinates": []}, "proposal": {"use": "TMD"}}),
            "empty",
        ),
        (
            json!({"site": square(105.85, 21.02), "proposal": {"use": "TMD"}}),
            "outside Thành phố Đà Nẵng",
        ),
        (
            json!({"site": ok_site, "proposal": {"use": "XYZ"}}),
            "proposal.use 'XYZ'",
        ),
        (
            json!({"site": ok_site, "proposal": {"use": "TMD", "floors": -3}}),
            "proposal.floors -3",
        ),
        (
            json!({"site": ok_site, "proposal": {"use": "TMD", "colour": "red"}}),
            "unknown field `colour`",
        ),
        (
            json!({"site": {"type": "Polygon", "coordinates": [many]}, "proposal": {"use": "TMD"}}),
            "limit of 10000",
        ),
        (
            json!({"site": ok_site, "crs": "EPSG:1234", "proposal": {"use": "TMD"}}),
            "crs",
        ),
        (
            json!({"site": ok_site, "crs": "EPSG:5899", "proposal": {"use": "TMD"}}),
            "no administrative unit",
        ),
        (json!({"site": ok_site}), "no proposal"),
        (json!({"proposal": {"use": "TMD"}}), "no site"),
        (
            json!({"site": ok_site, "proposal": {"use": "TMD"}, "extra": 1}),
            "unknown member 'extra'",
        ),
    ] {
        let (st, v) = post(&body).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{body}: {v}");
        assert!(v.to_string().contains(says), "{says}: {v}");
    }
    // nextest runs each test in a process of its own: nothing else writes
    // to this copy.
    assert_eq!(stored_checks().await, before, "bad checks were stored");
    for (uri, status) in [
        ("/planning/check/not-an-id", 400),
        ("/planning/check/00000000000000000000000000", 404),
    ] {
        let (st, _, _) = call(Request::get(uri).body(Body::empty()).unwrap()).await;
        assert_eq!(st.as_u16(), status, "{uri}");
    }
}

#[test]
fn the_wgs84_sample_point_lies_in_the_sample() {
    // The square used above is inside Minh An (so only its CRS is wrong
    // when it is given as EPSG:5899).
    let p = crs::transform_one(
        crs::WGS84,
        crs::VN2000_TM3_10745,
        geo_types::Coord {
            x: 108.3277,
            y: 15.8801,
        },
    )
    .unwrap();
    assert!(p.x > 500_000.0 && p.y > 1_700_000.0, "{p:?}");
}

/// `crs=` may come with the query instead of the body: the check reads
/// the site in it, and the stored request says so, so its report draws
/// the site where it is.
#[tokio::test]
async fn a_crs_given_in_the_query_is_used_and_kept_with_the_check() {
    let (site, _) = commercial_parcels().await.remove(0);
    let (st, _, b) = call(
        Request::post("/planning/check?crs=EPSG:5899")
            .header("content-type", "application/json")
            .body(Body::from(
                json!({"site": ring(&site), "proposal": {"use": "TMD"}}).to_string(),
            ))
            .unwrap(),
    )
    .await;
    let v: Value = serde_json::from_slice(&b).unwrap();
    assert_eq!(st, StatusCode::CREATED, "{v}");
    assert_eq!(v["request"]["crs"], "urn:ogc:def:crs:EPSG::5899");
    let (st, h, pdf) = call(
        Request::get(format!(
            "/planning/check/{}?f=pdf",
            v["id"].as_str().unwrap()
        ))
        .body(Body::empty())
        .unwrap(),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(h["content-type"], "application/pdf");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.pdf");
    std::fs::write(&path, &pdf).unwrap();
    let out = std::process::Command::new("pdfimages")
        .arg("-list")
        .arg(&path)
        .output()
        .unwrap();
    let list = String::from_utf8_lossy(&out.stdout);
    assert!(
        list.lines().count() > 2,
        "the report carries the site map:\n{list}"
    );
}
