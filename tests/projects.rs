//! The investment-project registry over a private copy of the sample: the
//! list and its filters, a project's detail (its site's zoning lots, zone,
//! units, parcels, history), and a project moved through three legal
//! stages by an editor, each move written with one history row and shown
//! at once in the feature API and tiles; illegal moves are 409 with the
//! allowed stages, bad ones 400, anonymous ones 401, and none of them
//! writes anything.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use geoplan::config::Config;
use geoplan::http::{app, auth, AppState};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

mod common;

const USER: &str = "le.van.nam";
const PASSWORD: &str = "Đầu tư Đà Nẵng 2026";

fn config() -> Config {
    let mut cfg = Config::default();
    cfg.ogc.editable = vec!["investment_projects".into()];
    cfg.ogc
        .users
        .insert(USER.into(), auth::hash_password(PASSWORD).unwrap());
    cfg
}

fn basic() -> String {
    use base64::Engine as _;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"))
    )
}

async fn call(s: &AppState, req: Request<Body>) -> (StatusCode, Value) {
    let res = app(s.clone()).oneshot(req).await.unwrap();
    let st = res.status();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    (st, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

async fn get(s: &AppState, uri: &str) -> (StatusCode, Value) {
    call(s, Request::get(uri).body(Body::empty()).unwrap()).await
}

/// A GET signed in as the editor (who sees who recorded each step and
/// their own stored checks).
async fn get_signed(s: &AppState, uri: &str) -> (StatusCode, Value) {
    call(
        s,
        Request::get(uri)
            .header("authorization", basic())
            .body(Body::empty())
            .unwrap(),
    )
    .await
}

/// A JSON request, signed in as the editor when `auth`.
async fn send(
    s: &AppState,
    method: &str,
    uri: &str,
    body: Value,
    auth: bool,
) -> (StatusCode, Value) {
    let mut r = Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json");
    if auth {
        r = r.header("authorization", basic());
    }
    call(s, r.body(Body::from(body.to_string())).unwrap()).await
}

async fn transition(s: &AppState, fid: i64, body: Value, auth: bool) -> (StatusCode, Value) {
    send(
        s,
        "POST",
        &format!("/projects/{fid}/transitions"),
        body,
        auth,
    )
    .await
}

#[tokio::test]
async fn the_list_filters_by_stage_unit_function_and_text() {
    let (_dir, s) = common::sample_copy(config()).await;
    let (st, all) = get(&s, "/projects").await;
    assert_eq!(st, StatusCode::OK, "{all}");
    let all = all["projects"].as_array().unwrap().clone();
    assert!(all.len() >= 100, "{}", all.len());
    for p in &all {
        assert!(p["stage"].is_string() && p["stage_vi"].is_string(), "{p}");
        assert!(p["stage_date"].is_string(), "{p}");
    }
    let (_, prop) = get(&s, "/projects?status=proposed").await;
    let prop = prop["projects"].as_array().unwrap();
    assert!(!prop.is_empty());
    assert!(prop
        .iter()
        .all(|p| p["stage"] == "proposed" && p["investor"].is_null()));
    // A Vietnamese name without diacritics names the stage too.
    let (_, op) = get(&s, "/projects?status=di%20vao%20hoat%20dong").await;
    let op = op["projects"].as_array().unwrap();
    assert!(!op.is_empty() && op.iter().all(|p| p["stage"] == "operating"));
    assert_eq!(
        prop.len() + op.len(),
        all.iter()
            .filter(|p| p["stage"] == "proposed" || p["stage"] == "operating")
            .count()
    );
    // By unit: every project listed lies in that district, before 2025.
    let (_, nt) = get(&s, "/projects?unit=N%C3%BAi%20Th%C3%A0nh").await;
    let nt = nt["projects"].as_array().unwrap();
    assert!(!nt.is_empty());
    let (_, units) = get(&s, "/stats/projects?by=unit").await;
    assert!(units["rows"].is_array());
    // By text: the name.
    let name = all[0]["name"].as_str().unwrap();
    let word = name.split_whitespace().last().unwrap();
    let (_, q) = get(&s, &format!("/projects?q={}", url_enc(word))).await;
    assert!(q["projects"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["fid"] == all[0]["fid"]));
    let (st, bad) = get(&s, "/projects?status=flying").await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(bad["detail"].as_str().unwrap().contains("flying"));
}

fn url_enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::test]
async fn a_project_moves_through_three_stages_and_an_illegal_move_is_refused() {
    let (_dir, s) = common::sample_copy(config()).await;
    let (_, list) = get(&s, "/projects?status=proposed").await;
    // A project proposed before the steps below.
    let p = list["projects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["stage_date"].as_str().unwrap() < "2026-06-01")
        .unwrap();
    let fid = p["fid"].as_i64().unwrap();
    let since = p["stage_date"].as_str().unwrap().to_owned();

    // Its detail: what the plan says on its site, and where it may go.
    let (st, d) = get(&s, &format!("/projects/{fid}")).await;
    assert_eq!(st, StatusCode::OK, "{d}");
    assert!(d["planning"]["admin_units"].is_array(), "{d}");
    let allowed: Vec<&str> = d["allowed_next"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["code"].as_str().unwrap())
        .collect();
    assert_eq!(allowed, ["policy_approved", "suspended", "terminated"]);
    let before = d["history"].as_array().unwrap().len();
    assert!(before >= 1, "the sample has its proposal on record: {d}");

    // Straight to operating: 409 with the allowed stages, nothing written.
    let (st, v) = transition(&s, fid, json!({"to": "operating", "date": since}), true).await;
    assert_eq!(st, StatusCode::CONFLICT, "{v}");
    let allowed: Vec<&str> = v["allowed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["code"].as_str().unwrap())
        .collect();
    assert_eq!(allowed, ["policy_approved", "suspended", "terminated"]);
    // Anonymous: 401; a missing decision: 400; a date before the stage: 400.
    let (st, _) = transition(
        &s,
        fid,
        json!({"to": "policy_approved", "date": since, "decision": "1/QĐ-UBND"}),
        false,
    )
    .await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    let (st, v) = transition(
        &s,
        fid,
        json!({"to": "policy_approved", "date": since}),
        true,
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    assert!(v["detail"].as_str().unwrap().contains("decision"), "{v}");
    let (st, v) = transition(
        &s,
        fid,
        json!({"to": "policy_approved", "date": "2001-01-01", "decision": "1/QĐ-UBND"}),
        true,
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    let (_, h) = get(&s, &format!("/projects/{fid}/history")).await;
    assert_eq!(
        h["history"].as_array().unwrap().len(),
        before,
        "refused moves write nothing"
    );

    // Three legal stages, each with its decision.
    let steps = [
        (
            "policy_approved",
            "2026-07-01",
            "123/QĐ-UBND",
            "UBND thành phố Đà Nẵng",
        ),
        (
            "investor_selected",
            "2026-08-15",
            "456/QĐ-UBND",
            "UBND thành phố Đà Nẵng",
        ),
        (
            "land_allocated",
            "2026-09-20",
            "789/QĐ-UBND",
            "UBND thành phố Đà Nẵng",
        ),
    ];
    for (to, date, decision, authority) in steps {
        let (st, v) = transition(
            &s,
            fid,
            json!({"to": to, "date": date, "decision": decision, "authority": authority, "note": "Theo đề nghị của Sở Tài chính"}),
            true,
        )
        .await;
        assert_eq!(st, StatusCode::CREATED, "{to}: {v}");
        assert_eq!(v["project"]["stage"], to);
        assert_eq!(v["project"]["stage_date"], date);
        assert_eq!(v["transition"]["user_name"], USER);
        assert!(
            v["project"]["next_deadline"].as_str().unwrap() > date,
            "{v}"
        );
        // At once in the feature API.
        let (_, f) = get(&s, &format!("/layers/investment_projects/features/{fid}")).await;
        assert_eq!(f["properties"]["stage"], to, "{f}");
        assert_eq!(f["properties"]["approval_decision"], decision);
    }
    let (_, h) = get(&s, &format!("/projects/{fid}/history")).await;
    let h = h["history"].as_array().unwrap();
    assert_eq!(h.len(), before + 3);
    let last3: Vec<&str> = h[before..]
        .iter()
        .map(|t| t["to_stage"].as_str().unwrap())
        .collect();
    assert_eq!(
        last3,
        ["policy_approved", "investor_selected", "land_allocated"]
    );
    assert_eq!(h[before]["from_stage"], "proposed");
    assert_eq!(h[before + 2]["decision"], "789/QĐ-UBND");
    assert_eq!(h[before + 2]["note"], "Theo đề nghị của Sở Tài chính");
    let seqs: Vec<i64> = h.iter().map(|t| t["seq"].as_i64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]));

    // Suspended, it may only resume where it was or end.
    let (st, _) = transition(
        &s,
        fid,
        json!({"to": "suspended", "date": "2026-11-01", "decision": "9/QĐ-UBND"}),
        true,
    )
    .await;
    assert_eq!(st, StatusCode::CREATED);
    let (st, v) = transition(
        &s,
        fid,
        json!({"to": "building_permit", "date": "2026-11-02"}),
        true,
    )
    .await;
    assert_eq!(st, StatusCode::CONFLICT, "{v}");
    let allowed: Vec<&str> = v["allowed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["code"].as_str().unwrap())
        .collect();
    assert_eq!(allowed, ["land_allocated", "terminated"]);
}

async fn patch(s: &AppState, fid: i64, body: Value, auth: bool) -> (StatusCode, Value) {
    send(s, "PATCH", &format!("/projects/{fid}"), body, auth).await
}

#[tokio::test]
async fn editors_update_facts_and_site_and_a_proposal_is_checked_against_the_plan() {
    let (_dir, s) = common::sample_copy(config()).await;
    let (_, list) = get(&s, "/projects?status=under_construction").await;
    let p = list["projects"][0].clone();
    let fid = p["fid"].as_i64().unwrap();
    let capital = p["capital_vnd"].as_i64().unwrap();

    let (st, _) = patch(&s, fid, json!({"capital_disbursed_vnd": 1}), false).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    let (st, v) = patch(&s, fid, json!({"stage": "operating"}), true).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(v["detail"].as_str().unwrap().contains("transitions"), "{v}");
    let (st, v) = patch(&s, fid, json!({"capital_disbursed_vnd": capital + 1}), true).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    let (_, f) = get(&s, &format!("/layers/investment_projects/features/{fid}")).await;
    assert_eq!(
        f["properties"]["capital_disbursed_vnd"], p["capital_disbursed_vnd"],
        "nothing written"
    );

    let (st, v) = patch(&s, fid, json!({"capital_disbursed_vnd": capital / 2, "investor": "Công ty Cổ phần Đầu tư Sông Hàn"}), true).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (_, f) = get(&s, &format!("/layers/investment_projects/features/{fid}")).await;
    assert_eq!(f["properties"]["capital_disbursed_vnd"], capital / 2);
    assert_eq!(
        f["properties"]["investor"],
        "Công ty Cổ phần Đầu tư Sông Hàn"
    );

    // A new site, a square of about 200 m in WGS 84, with housing proposed
    // at 40 floors: checked, the conflict flagged and the check stored.
    let (x, y) = (108.2205, 16.0590);
    let d = 0.0009;
    let site = json!({"type": "Polygon", "coordinates": [[[x, y], [x + d, y], [x + d, y + d], [x, y + d], [x, y]]]});
    let (st, v) = patch(
        &s,
        fid,
        json!({"site": site, "proposal": {"use": "ODT", "floors": 40, "far": 9.5}}),
        true,
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["check"]["pass"], false, "{v}");
    assert_eq!(v["project"]["plan_conflict"], true);
    let id = v["project"]["check_id"].as_str().unwrap();
    let (st, c) = get_signed(&s, &format!("/planning/check/{id}")).await;
    assert_eq!(st, StatusCode::OK, "{c}");
    assert_eq!(c["request"]["project"], fid);
    let ha = v["project"]["area_ha"].as_f64().unwrap();
    assert!((0.8..1.2).contains(&ha), "about 100 m × 100 m … {ha} ha");
    let (_, f) = get(&s, &format!("/layers/investment_projects/features/{fid}")).await;
    let x0 = f["geometry"]["coordinates"][0][0][0].as_f64().unwrap();
    assert!((x0 - x).abs() < 0.001, "the site moved: {x0}");
}

#[tokio::test]
async fn an_editor_registers_a_new_project_with_its_first_step_and_its_check() {
    let (_dir, s) = common::sample_copy(config()).await;
    let (_, before) = get(&s, "/projects").await;
    let n = before["total"].as_u64().unwrap();
    let post = |body: Value, auth: bool| {
        let s = s.clone();
        async move { send(&s, "POST", "/projects", body, auth).await }
    };
    // A site in KCN Hòa Khánh (WGS 84), light industry proposed.
    let (x, y) = (108.1405, 16.0705);
    let d = 0.0015;
    let site = json!({"type": "Polygon", "coordinates": [[[x, y], [x + d, y], [x + d, y + d], [x, y + d], [x, y]]]});
    for (body, needle) in [
        (json!({"name": "X", "function": "Công nghiệp"}), "site"),
        (
            json!({"name": "X", "function": "Công nghiệp", "site": site, "stage": "operating"}),
            "stage",
        ),
        (json!({"function": "Công nghiệp", "site": site}), "name"),
        (
            json!({"name": "X", "function": "Công nghiệp", "site": site, "date": "2999-01-01"}),
            "date",
        ),
    ] {
        let (st, v) = post(body, true).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
        assert!(
            v["detail"].as_str().unwrap().contains(needle),
            "{needle}: {v}"
        );
    }
    let (st, _) = post(
        json!({"name": "X", "function": "Công nghiệp", "site": site}),
        false,
    )
    .await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    let (_, mid) = get(&s, "/projects").await;
    assert_eq!(
        mid["total"].as_u64().unwrap(),
        n,
        "refused creations write nothing"
    );

    let (st, v) = post(
        json!({
            "name": "Nhà máy linh kiện điện tử Hòa Khánh 2",
            "function": "Công nghiệp",
            "investor": "Công ty TNHH Điện tử Sông Hàn",
            "capital_vnd": 850_000_000_000i64,
            "site": site,
            "proposal": {"use": "SKK", "floors": 3, "far": 1.2},
            "date": "2026-11-20",
            "decision": "15/QĐ-UBND",
            "note": "Đề xuất của nhà đầu tư"
        }),
        true,
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let fid = v["project"]["fid"].as_i64().unwrap();
    assert_eq!(v["project"]["stage"], "proposed");
    assert_eq!(v["project"]["stage_date"], "2026-11-20");
    assert!(
        v["project"]["zone_name"]
            .as_str()
            .unwrap()
            .contains("Hòa Khánh"),
        "{v}"
    );
    assert!(v["project"]["plan_conflict"].is_boolean(), "{v}");
    assert_eq!(
        v["project"]["plan_conflict"],
        !v["check"]["pass"].as_bool().unwrap()
    );
    let ha = v["project"]["area_ha"].as_f64().unwrap();
    assert!((2.0..3.5).contains(&ha), "{ha} ha");
    assert_eq!(v["transition"]["project_fid"], fid);
    let (_, h) = get_signed(&s, &format!("/projects/{fid}/history")).await;
    let h = h["history"].as_array().unwrap();
    assert_eq!(h.len(), 1);
    assert_eq!(h[0]["to_stage"], "proposed");
    assert_eq!(h[0]["user_name"], USER);
    assert_eq!(h[0]["decision"], "15/QĐ-UBND");
    let (_, f) = get(&s, &format!("/layers/investment_projects/features/{fid}")).await;
    assert_eq!(
        f["properties"]["name"],
        "Nhà máy linh kiện điện tử Hòa Khánh 2"
    );
    // And it moves on like any other.
    let (st, v) = transition(
        &s,
        fid,
        json!({"to": "policy_approved", "date": "2026-11-25", "decision": "16/QĐ-UBND"}),
        true,
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
}

#[tokio::test]
async fn the_list_as_of_a_day_shows_the_stage_each_project_was_in_then() {
    let (_dir, s) = common::sample_copy(config()).await;
    let (_, now) = get(&s, "/projects?status=operating").await;
    let p = now["projects"][0].clone();
    let fid = p["fid"].as_i64().unwrap();
    let (_, h) = get(&s, &format!("/projects/{fid}/history")).await;
    let h = h["history"].as_array().unwrap().clone();
    assert_eq!(h.len(), 7, "an operating project went through every stage");
    // The day before it started operating, it was under construction.
    let op_day = h[6]["day"].as_str().unwrap();
    let before =
        chrono::NaiveDate::parse_from_str(op_day, "%Y-%m-%d").unwrap() - chrono::Days::new(1);
    let (_, then) = get(&s, &format!("/projects?as_of={before}")).await;
    let then_p = then["projects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["fid"] == fid)
        .unwrap()
        .clone();
    assert_eq!(then_p["stage"], "under_construction", "{then_p}");
    assert_eq!(then_p["stage_date"], h[5]["day"]);
    let (_, uc) = get(
        &s,
        &format!("/projects?as_of={before}&status=under_construction"),
    )
    .await;
    assert!(uc["projects"]
        .as_array()
        .unwrap()
        .iter()
        .any(|x| x["fid"] == fid));
    // Before its proposal it is not in the registry at all.
    let first = chrono::NaiveDate::parse_from_str(h[0]["day"].as_str().unwrap(), "%Y-%m-%d")
        .unwrap()
        - chrono::Days::new(1);
    let (_, early) = get(&s, &format!("/projects?as_of={first}")).await;
    assert!(!early["projects"]
        .as_array()
        .unwrap()
        .iter()
        .any(|x| x["fid"] == fid));
}
