//! `GET /parcels` over the committed sample, through the router as a
//! client calls it: a parcel found by its cadastral key in every spelling
//! users write (old and new commune codes and names, with and without
//! diacritics, free text), and clear 400/404 answers naming what did not
//! parse or match. Expectations are read from the data, not hard-coded.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use geoplan::config::Config;
use geoplan::http::{app, AppState};
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

async fn get(uri: &str) -> (StatusCode, Value) {
    let res = app(state().await.clone())
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

/// A Minh An parcel (pre-2025 code 20398) as the key lookup returns it.
async fn minh_an_parcel() -> Value {
    let (st, v) = get("/parcels?commune=20398&sheet=1&limit=1000").await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let list = v["parcels"].as_array().unwrap();
    assert!(list.len() > 10, "Minh An has parcels on sheet 1: {v}");
    list[list.len() / 2].clone()
}

#[tokio::test]
async fn a_minh_an_parcel_is_found_by_its_key_in_every_spelling() {
    let p = minh_an_parcel().await;
    let (fid, sheet, parcel) = (
        p["fid"].as_i64().unwrap(),
        p["sheet_number"].as_i64().unwrap(),
        p["parcel_number"].as_i64().unwrap(),
    );
    assert_eq!(p["commune"]["name"], "Phường Minh An");
    assert_eq!(p["cadastral_key"], format!("20398-{sheet}-{parcel}"));
    let spellings = [
        format!("q={}", enc(&format!("tờ {sheet} thửa {parcel} Minh An"))),
        format!("q={}", enc(&format!("thua {parcel} to {sheet} minh an"))),
        format!("q={}", enc(&format!("{sheet}/{parcel} Phường Minh An"))),
        format!(
            "q={}",
            enc(&format!("TỜ {sheet}, THỬA {parcel}, P. MINH AN"))
        ),
        format!(
            "commune={}&sheet={sheet}&parcel={parcel}",
            enc("phuong minh an")
        ),
        format!("commune={}&sheet={sheet}&parcel={parcel}", enc("Minh An")),
        format!("commune=20398&sheet={sheet}&parcel={parcel}"),
    ];
    for s in spellings {
        let (st, v) = get(&format!("/parcels?{s}")).await;
        assert_eq!(st, StatusCode::OK, "{s}: {v}");
        assert_eq!(v["matched"], 1, "{s}: {v}");
        assert_eq!(v["parcels"][0]["fid"], fid, "{s}: {v}");
        let links = v["parcels"][0]["links"].as_array().unwrap();
        assert!(links.iter().any(|l| l["href"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/planning?parcel={fid}"))));
    }
}

#[tokio::test]
async fn the_2025_unit_code_searches_every_old_commune_that_formed_it() {
    let p = minh_an_parcel().await;
    let unit = p["unit_2025"].clone();
    assert!(
        unit["code"].is_string(),
        "Minh An belongs to a 2025 unit: {p}"
    );
    let (st, v) = get(&format!(
        "/parcels?commune={}&sheet={}&parcel={}",
        unit["code"].as_str().unwrap(),
        p["sheet_number"],
        p["parcel_number"]
    ))
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let hits = v["parcels"].as_array().unwrap();
    assert!(hits.iter().any(|h| h["fid"] == p["fid"]), "{v}");
    // Every hit lies in an old commune of that unit.
    assert!(
        hits.iter().all(|h| h["unit_2025"]["code"] == unit["code"]),
        "{v}"
    );
    // The new name works as well, without diacritics.
    let name = geoplan::planning::text::fold(unit["name"].as_str().unwrap());
    let (st, v) = get(&format!(
        "/parcels?commune={}&sheet={}&parcel={}",
        enc(&name),
        p["sheet_number"],
        p["parcel_number"]
    ))
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert!(v["parcels"]
        .as_array()
        .unwrap()
        .iter()
        .any(|h| h["fid"] == p["fid"]));
}

#[tokio::test]
async fn a_former_town_by_name_searches_its_communes() {
    let (st, v) = get(&format!(
        "/parcels?commune={}&limit=50",
        enc("thị xã Điện Bàn")
    ))
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let hits = v["parcels"].as_array().unwrap();
    assert!(!hits.is_empty());
    for h in hits {
        assert_eq!(h["district"]["code"], "507", "{h}");
    }
}

#[tokio::test]
async fn an_address_fragment_finds_parcels_on_that_street() {
    let p = minh_an_parcel().await;
    let addr = p["address"].as_str().unwrap();
    let street = addr.split(", ").find(|s| s.starts_with("đường")).unwrap();
    let (st, v) = get(&format!(
        "/parcels?q={}&limit=1000",
        enc(&format!("{street} Minh An"))
    ))
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let hits = v["parcels"].as_array().unwrap();
    assert!(hits.iter().any(|h| h["fid"] == p["fid"]), "{v}");
    assert!(hits.iter().all(
        |h| h["address"].as_str().unwrap().contains(street) && h["commune"]["code"] == "20398"
    ));
}

#[tokio::test]
async fn bad_questions_get_a_400_naming_the_problem() {
    for (uri, needle) in [
        ("/parcels", "commune="),
        ("/parcels?commune=20398&sheet=abc", "sheet='abc'"),
        ("/parcels?commune=20398&sheet=0", "sheet='0'"),
        ("/parcels?commune=20398&parcel=5", "sheet"),
        (
            "/parcels?commune=20398&colour=red",
            "unknown parameter 'colour'",
        ),
        ("/parcels?limit=100000&commune=20398", "limit=100000"),
        ("/parcels?q=%20%20", "commune="),
    ] {
        let (st, v) = get(uri).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{uri}: {v}");
        let d = v["detail"].as_str().unwrap();
        assert!(d.contains(needle), "{uri}: {d}");
    }
}

#[tokio::test]
async fn what_does_not_exist_gets_a_404_with_suggestions() {
    let (st, v) = get(&format!(
        "/parcels?commune={}&sheet=1&parcel=1",
        enc("Minh Ann")
    ))
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{v}");
    let d = v["detail"].as_str().unwrap();
    assert!(
        d.contains("Minh Ann") && d.contains("Phường Minh An"),
        "{d}"
    );
    let (st, v) = get("/parcels?commune=20398&sheet=1&parcel=999999").await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{v}");
    let d = v["detail"].as_str().unwrap();
    assert!(
        d.contains("thửa 999999") && d.contains("Phường Minh An"),
        "{d}"
    );
}

/// A commune whose name begins with a type word once its type is gone
/// (Thị trấn P Rao, 20467) is found by its name in free text and as a
/// commune parameter (the benchmark over 1M parcels found this).
#[tokio::test]
async fn a_name_that_looks_like_a_type_word_still_matches() {
    for q in [
        format!("commune={}", enc("Thị trấn P Rao")),
        format!("commune={}", enc("P Rao")),
        format!("q={}", enc("tờ 1 thửa 1 Thị trấn P Rao")),
    ] {
        let (st, v) = get(&format!("/parcels?{q}")).await;
        assert!(
            !v.to_string()
                .contains("no commune, ward, town or district matches"),
            "{q}: {st} {v}"
        );
        if st == StatusCode::OK {
            for p in v["parcels"].as_array().unwrap() {
                assert_eq!(p["commune"]["code"], "20467", "{q}: {p}");
            }
        }
    }
}

/// A commune whose name ends in a number (Xã Quế Xuân 1, 20644) is read
/// whole from free text: its number is not taken for a sheet (the 1M
/// benchmark found this: the lookup fell back to a slow address scan).
/// The committed sample has no parcels there, so the answer is a 404 that
/// names the key as read.
#[tokio::test]
async fn a_name_with_a_number_in_it_is_not_read_as_a_sheet() {
    for q in ["tờ 7 thửa 508 Xã Quế Xuân 1", "thua 508 to 7 que xuan 1"] {
        let (st, v) = get(&format!("/parcels?q={}", enc(q))).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{q}: {v}");
        let d = v["detail"].as_str().unwrap();
        assert!(d.contains("Xã Quế Xuân 1 (20644)"), "{q}: {d}");
        assert!(d.contains('7') && d.contains("508"), "{q}: {d}");
    }
}
