//! `GET /search`, the map page's one search box: a cadastral key in any
//! spelling, units old and new, plans by code and decision, projects,
//! zones, places and lots, each hit with its layer, id and bounding box;
//! bad parameters refused with the reason. Expectations are read from the
//! sample through other endpoints, never written in.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

mod common;

async fn get(uri: &str) -> (StatusCode, Value) {
    let s = common::shared_sample().await;
    let res = geoplan::http::app(s.clone())
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let st = res.status();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    (st, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

fn q(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

async fn hits(text: &str) -> Vec<Value> {
    let (st, v) = get(&format!("/search?q={}", q(text))).await;
    assert_eq!(st, StatusCode::OK, "{text}: {v}");
    v["results"].as_array().unwrap().clone()
}

#[tokio::test]
async fn a_cadastral_key_in_any_spelling_finds_the_parcel_first() {
    let (_, some) = get("/parcels?commune=Minh%20An&limit=50").await;
    let p = &some["parcels"][37];
    let (sheet, parcel, fid) = (
        p["sheet_number"].as_i64().unwrap(),
        p["parcel_number"].as_i64().unwrap(),
        p["fid"].as_i64().unwrap(),
    );
    for text in [
        format!("tờ {sheet} thửa {parcel} Minh An"),
        format!("thua {parcel} to {sheet} phuong minh an"),
        format!("{sheet}/{parcel} P. Minh An"),
    ] {
        let h = hits(&text).await;
        assert_eq!(h[0]["kind"], "parcel", "{text}: {h:?}");
        assert_eq!(h[0]["fid"], fid, "{text}");
        assert_eq!(h[0]["layer"], "parcels");
        assert!(h[0]["detail"]
            .as_str()
            .unwrap()
            .contains(p["cadastral_key"].as_str().unwrap()));
        let b = h[0]["bbox"].as_array().unwrap();
        assert!(b[0].as_f64().unwrap() > 107.0 && b[1].as_f64().unwrap() > 14.0);
    }
    // A key without its unit names a parcel in every commune: no guess.
    let h = hits(&format!("tờ {sheet} thửa {parcel}")).await;
    assert!(h.iter().all(|x| x["kind"] != "parcel"), "{h:?}");
}

#[tokio::test]
async fn units_plans_projects_zones_and_places_are_found_by_name_or_code() {
    let (_, plans) = get("/layers/plans/features?limit=1").await;
    let plan = &plans["features"][0];
    let code = plan["properties"]["code"].as_str().unwrap();
    let decision = plan["properties"]["approval_decision"].as_str().unwrap();
    for text in [code, decision] {
        let h = hits(text).await;
        assert!(
            h.iter()
                .any(|x| x["kind"] == "plan" && x["fid"] == plan["id"]),
            "{text}: {h:?}"
        );
    }
    let (_, projects) = get("/layers/investment_projects/features?limit=1&offset=5").await;
    let pr = &projects["features"][0];
    let h = hits(pr["properties"]["name"].as_str().unwrap()).await;
    assert!(h
        .iter()
        .any(|x| x["kind"] == "project" && x["fid"] == pr["id"]));
    // Without diacritics or type, old and new units alike; the new one
    // says since when.
    let h = hits("phuong minh an").await;
    assert_eq!(h[0]["kind"], "unit");
    assert_eq!(h[0]["label"], "Phường Minh An");
    assert!(h[0]["detail"].as_str().unwrap().contains("30/6/2025"));
    let h = hits("hai chau").await;
    assert!(h
        .iter()
        .any(|x| x["kind"] == "unit" && x["detail"].as_str().unwrap().contains("từ 1/7/2025")));
    // The day decides which of an old and a new unit of one name leads.
    let lead = |v: &Value| v["results"][0]["detail"].as_str().unwrap().to_owned();
    let (_, before) = get("/search?q=hai%20chau&as_of=2025-06-30").await;
    let (_, after) = get("/search?q=hai%20chau&as_of=2025-07-01").await;
    assert!(lead(&before).contains("đến 30/6/2025"), "{}", lead(&before));
    assert!(lead(&after).contains("từ 1/7/2025"), "{}", lead(&after));
    let h = hits("san bay chu lai").await;
    assert_eq!(h[0]["kind"], "place");
    assert_eq!(h[0]["label"], "Sân bay Chu Lai");
    let (_, zones) = get("/layers/industrial_zones/features?limit=1").await;
    let z = &zones["features"][0];
    let h = hits(z["properties"]["name"].as_str().unwrap()).await;
    assert!(h.iter().any(|x| x["kind"] == "zone" && x["fid"] == z["id"]));
}

#[tokio::test]
async fn exact_names_rank_above_prefixes_and_lots_leave_room_for_the_rest() {
    let h = hits("Hải Châu").await;
    let scores: Vec<f64> = h.iter().map(|x| x["score"].as_f64().unwrap()).collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");
    let (_, lots) = get("/layers/zoning_lots/features?limit=1").await;
    let sym = lots["features"][0]["properties"]["lot_symbol"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, v) = get(&format!("/search?q={}&limit=6", q(&sym))).await;
    let r = v["results"].as_array().unwrap();
    assert!(r.iter().any(|x| x["kind"] == "lot"));
    assert!(
        r.iter().filter(|x| x["kind"] == "lot").count() <= 3,
        "{r:?}"
    );
}

#[tokio::test]
async fn bad_parameters_are_refused_with_the_reason() {
    for (uri, says) in [
        ("/search", "q= is required"),
        ("/search?q=%20", "empty"),
        ("/search?q=a&q=b", "twice"),
        ("/search?q=a&limit=0", "limit"),
        ("/search?q=a&limit=500", "limit"),
        ("/search?q=a&lang=vi", "unknown parameter 'lang'"),
        ("/search?q=a&as_of=2025-13-01", "not a date"),
    ] {
        let (st, v) = get(uri).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{uri}");
        assert!(v["detail"].as_str().unwrap().contains(says), "{uri}: {v}");
    }
    let long = "x".repeat(201);
    let (st, _) = get(&format!("/search?q={long}")).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    // Nothing matching is an empty list, not an error.
    let (st, v) = get("/search?q=zzqqxx").await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(v["results"].as_array().unwrap().len(), 0);
}
