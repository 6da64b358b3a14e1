//! WFS-T: Transaction (Insert, Update, Delete) posted as XML in WFS 2.0.0,
//! 1.1.0 and 1.0.0 against a private copy of the sample GeoPackage where
//! `parcels` is editable; results checked in the store, the engine and the
//! tiles; authentication, refusals, atomicity and hostile XML; then a real
//! client (GDAL's WFS driver) writing through a loopback server.

mod common;

use axum::body::Body;
use axum::http::{header, HeaderMap, Request, StatusCode};
use geo_types::{Coord, Geometry};
use geoplan::config::Config;
use geoplan::crs::{self, Crs};
use geoplan::http::{app, auth, AppState};
use geoplan::model::{FeatureRow, Value};
use geoplan::ogc::xml::{self, Element, XmlLimits};
use geoplan::store::{gpkg::GpkgStore, Store};
use geoplan::tiles::TileCoord;
use http_body_util::BodyExt;
use std::hash::{Hash, Hasher};
use tower::ServiceExt;

const SAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/sample.gpkg");
const USER: &str = "tran.thi.ha";
const PASSWORD: &str = "Quy hoạch Đà Nẵng 2030!";
const API_KEY: &str = "k3y-for-the-qgis-sync-job_0123456789abcdefABCDEF";
/// Vietnamese text in NFC, with the marks that break naive handling.
const ADDRESS: &str = "Số 12 đường Nguyễn Thị Minh Khai, Phường Hải Châu, TP Đà Nẵng";

const WFS2: &str = "xmlns:wfs=\"http://www.opengis.net/wfs/2.0\" xmlns:fes=\"http://www.opengis.net/fes/2.0\" xmlns:gml=\"http://www.opengis.net/gml/3.2\" xmlns:geoplan=\"http://geoplan.danang.gov.vn\"";
const WFS11: &str = "xmlns:wfs=\"http://www.opengis.net/wfs\" xmlns:ogc=\"http://www.opengis.net/ogc\" xmlns:gml=\"http://www.opengis.net/gml\" xmlns:geoplan=\"http://geoplan.danang.gov.vn\"";

// ---------------------------------------------------------------- fixtures

fn config(editable: &[&str]) -> Config {
    let mut cfg = Config::default();
    cfg.ogc.editable = editable.iter().map(|s| s.to_string()).collect();
    cfg.ogc
        .users
        .insert(USER.into(), auth::hash_password(PASSWORD).unwrap());
    cfg.ogc
        .api_keys
        .insert("qgis-sync".into(), auth::hash_api_key(API_KEY));
    cfg
}

/// State over a private copy of the sample with `parcels` editable.
async fn editable_state() -> (tempfile::TempDir, AppState) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sample.gpkg");
    std::fs::copy(SAMPLE, &path).unwrap();
    let state = AppState::new(
        Store::Gpkg(GpkgStore::open(&path).unwrap()),
        config(&["parcels"]),
    );
    state.load_all().await.unwrap();
    (dir, state)
}

fn basic(user: &str, password: &str) -> String {
    use base64::Engine as _;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

fn editor() -> Option<String> {
    Some(basic(USER, PASSWORD))
}

async fn post(
    state: &AppState,
    body: &str,
    authz: Option<String>,
) -> (StatusCode, HeaderMap, String) {
    let mut req = Request::post("/wfs").header(header::CONTENT_TYPE, "text/xml");
    if let Some(a) = authz {
        req = req.header(header::AUTHORIZATION, a);
    }
    let res = app(state.clone())
        .oneshot(req.body(Body::from(body.to_owned())).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    (status, headers, String::from_utf8(body.to_vec()).unwrap())
}

async fn get_text(state: &AppState, uri: &str) -> (StatusCode, String) {
    let res = app(state.clone())
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

async fn feature_json(state: &AppState, fid: i64) -> (StatusCode, serde_json::Value) {
    let (s, t) = get_text(state, &format!("/layers/parcels/features/{fid}")).await;
    (
        s,
        serde_json::from_str(&t).unwrap_or(serde_json::Value::Null),
    )
}

fn parse(doc: &str) -> Element {
    xml::parse(
        doc,
        XmlLimits {
            max_depth: 64,
            max_elements: 100_000,
        },
    )
    .unwrap_or_else(|e| panic!("{e}: {doc}"))
}

fn find<'a>(e: &'a Element, name: &str) -> Option<&'a Element> {
    if e.local() == name {
        return Some(e);
    }
    e.children.iter().find_map(|c| find(c, name))
}

fn total(doc: &str, what: &str) -> usize {
    find(&parse(doc), what)
        .unwrap_or_else(|| panic!("no {what} in {doc}"))
        .text()
        .parse()
        .unwrap()
}

/// The fids of `InsertResults` (2.0 `rid`, 1.x `fid`).
fn inserted_fids(doc: &str) -> Vec<i64> {
    fn walk(e: &Element, out: &mut Vec<i64>) {
        if e.local() == "ResourceId" || e.local() == "FeatureId" {
            let id = e.attr("rid").or_else(|| e.attr("fid")).unwrap();
            let (l, f) = id.rsplit_once('.').unwrap();
            assert_eq!(l, "parcels", "{id}");
            out.push(f.parse().unwrap());
        }
        e.children.iter().for_each(|c| walk(c, out));
    }
    let mut out = Vec::new();
    walk(&parse(doc), &mut out);
    out
}

async fn stored(state: &AppState, fid: i64) -> Option<FeatureRow> {
    state
        .data
        .store
        .read_features("parcels", &[fid])
        .await
        .unwrap()
        .into_iter()
        .next()
}

/// Row count and a hash of every row of `parcels` in the store, and the
/// engine's feature count.
async fn fingerprint(state: &AppState) -> (usize, u64, usize) {
    let l = state.data.store.read_layer("parcels").await.unwrap();
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for row in 0..l.len() {
        format!("{:?}", l.row(row)).hash(&mut h);
    }
    let (_, j) = get_text(state, "/layers/parcels").await;
    let j: serde_json::Value = serde_json::from_str(&j).unwrap();
    (
        l.len(),
        h.finish(),
        j["feature_count"].as_u64().unwrap() as usize,
    )
}

fn field(state_fields: &[geoplan::model::FieldDef], row: &FeatureRow, name: &str) -> Value {
    let i = state_fields.iter().position(|f| f.name == name).unwrap();
    row.values[i].clone()
}

async fn fields(state: &AppState) -> Vec<geoplan::model::FieldDef> {
    state
        .data
        .engine
        .snapshot()
        .layer("parcels")
        .unwrap()
        .fields()
        .to_vec()
}

fn exterior(g: &Geometry<f64>) -> Vec<Coord<f64>> {
    match g {
        Geometry::Polygon(p) => p.exterior().0.clone(),
        Geometry::MultiPolygon(m) => m.0[0].exterior().0.clone(),
        other => panic!("not a polygon: {other:?}"),
    }
}

/// A GML polygon of one ring; `lat_lon` writes y before x.
fn gml_polygon(ring: &[Coord<f64>], srs: &str, lat_lon: bool) -> String {
    let pos: Vec<String> = ring
        .iter()
        .map(|c| {
            if lat_lon {
                format!("{:.12} {:.12}", c.y, c.x)
            } else {
                format!("{:.12} {:.12}", c.x, c.y)
            }
        })
        .collect();
    format!(
        "<gml:Polygon srsName=\"{srs}\"><gml:exterior><gml:LinearRing><gml:posList>{}</gml:posList></gml:LinearRing></gml:exterior></gml:Polygon>",
        pos.join(" ")
    )
}

fn square(x: f64, y: f64, side: f64) -> Vec<Coord<f64>> {
    vec![
        Coord { x, y },
        Coord { x: x + side, y },
        Coord {
            x: x + side,
            y: y + side,
        },
        Coord { x, y: y + side },
        Coord { x, y },
    ]
}

/// The z16 tile holding a point given in EPSG:5899.
fn tile_at(c: Coord<f64>) -> TileCoord {
    let p = crs::transform_one(Crs::Epsg(5899), Crs::Epsg(3857), c).unwrap();
    let (xs, ys) = TileCoord::range(16, &geo_types::Rect::new(p, p));
    TileCoord::new(16, *xs.start(), *ys.start(), 22).unwrap()
}

/// The land-use code of parcel `fid` in the tile at `c`, if it is there.
async fn code_in_tile(state: &AppState, c: TileCoord, fid: i64) -> Option<String> {
    let res = app(state.clone())
        .oneshot(
            Request::get(format!("/tiles/parcels/{}/{}/{}.mvt", c.z, c.x, c.y))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    if bytes.is_empty() {
        return None;
    }
    common::decode(&bytes, c)
        .get("parcels")?
        .iter()
        .find(|f| f.id == fid)
        .map(|f| f.attrs["land_use_code"].clone())
}

/// A parcel of the sample: fid and stored row.
async fn some_parcel(state: &AppState, nth: usize) -> FeatureRow {
    let l = state.data.store.read_layer("parcels").await.unwrap();
    let row = l.len() / 5 + nth;
    stored(state, l.fids[row]).await.unwrap()
}

fn insert_doc(v: &str, ring: &[Coord<f64>], code: &str, address: &str) -> String {
    let (ns, srs) = if v == "2.0.0" {
        (WFS2, "urn:ogc:def:crs:EPSG::5899")
    } else {
        (WFS11, "EPSG:5899")
    };
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><wfs:Transaction service=\"WFS\" version=\"{v}\" {ns}><wfs:Insert handle=\"new parcel\"><geoplan:parcels><geoplan:geom>{}</geoplan:geom><geoplan:commune_code>20194</geoplan:commune_code><geoplan:sheet_number>7</geoplan:sheet_number><geoplan:parcel_number>4242</geoplan:parcel_number><geoplan:legal_area>16.5</geoplan:legal_area><geoplan:land_use_code>{code}</geoplan:land_use_code><geoplan:address>{address}</geoplan:address></geoplan:parcels></wfs:Insert></wfs:Transaction>",
        gml_polygon(ring, srs, false)
    )
}

fn id_filter(v: &str, fid: i64) -> String {
    if v == "2.0.0" {
        format!("<fes:Filter><fes:ResourceId rid=\"parcels.{fid}\"/></fes:Filter>")
    } else {
        format!("<ogc:Filter><ogc:FeatureId fid=\"parcels.{fid}\"/></ogc:Filter>")
    }
}

fn update_doc(v: &str, fid: i64, props: &[(&str, Option<&str>)], srs: Option<&str>) -> String {
    let ns = if v == "2.0.0" { WFS2 } else { WFS11 };
    let name = if v == "2.0.0" {
        "ValueReference"
    } else {
        "Name"
    };
    let mut p = String::new();
    for (k, val) in props {
        p.push_str(&format!("<wfs:Property><wfs:{name}>{k}</wfs:{name}>"));
        if let Some(val) = val {
            p.push_str(&format!("<wfs:Value>{val}</wfs:Value>"));
        }
        p.push_str("</wfs:Property>");
    }
    let srs = srs.map(|s| format!(" srsName=\"{s}\"")).unwrap_or_default();
    format!(
        "<wfs:Transaction service=\"WFS\" version=\"{v}\" {ns}><wfs:Update typeName=\"geoplan:parcels\"{srs}>{p}{}</wfs:Update></wfs:Transaction>",
        id_filter(v, fid)
    )
}

fn delete_doc(v: &str, fid: i64) -> String {
    let ns = if v == "2.0.0" { WFS2 } else { WFS11 };
    format!(
        "<wfs:Transaction service=\"WFS\" version=\"{v}\" {ns}><wfs:Delete typeName=\"geoplan:parcels\">{}</wfs:Delete></wfs:Transaction>",
        id_filter(v, fid)
    )
}

// ------------------------------------------------------------------ tests

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn insert_update_delete_round_trip_in_wfs_2_0_and_1_1_shows_in_engine_and_tiles_at_once() {
    let (_dir, state) = editable_state().await;
    round_trip(state).await;
}

async fn round_trip(state: AppState) {
    let flds = fields(&state).await;
    let (count0, _, engine0) = fingerprint(&state).await;
    for (k, v) in ["2.0.0", "1.1.0"].into_iter().enumerate() {
        let near = exterior(some_parcel(&state, k).await.geometry.as_ref().unwrap())[0];
        let (x, y) = (near.x + 2.0, near.y + 2.0);
        let here = tile_at(Coord { x, y });
        // Warm the tile cache so that a stale tile would show.
        let _ = code_in_tile(&state, here, -1).await;

        // Insert.
        let (s, _, doc) = post(
            &state,
            &insert_doc(v, &square(x, y, 5.0), "ODT", ADDRESS),
            editor(),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{v}: {doc}");
        assert_eq!(total(&doc, "totalInserted"), 1, "{doc}");
        let fids = inserted_fids(&doc);
        assert_eq!(fids.len(), 1, "{doc}");
        let fid = fids[0];
        if v == "2.0.0" {
            assert!(doc.contains("handle=\"new parcel\""), "{doc}");
        }
        let (s, j) = feature_json(&state, fid).await;
        assert_eq!(s, StatusCode::OK, "{j}");
        assert_eq!(j["properties"]["address"], ADDRESS);
        assert_eq!(j["properties"]["land_use_code"], "ODT");
        assert_eq!(j["properties"]["parcel_number"], 4242);
        assert_eq!(j["properties"]["legal_area"], 16.5);
        let row = stored(&state, fid).await.expect("in the GeoPackage");
        assert_eq!(
            field(&flds, &row, "address"),
            Value::Text(ADDRESS.into()),
            "byte-identical Vietnamese text in the store"
        );
        let ring = exterior(row.geometry.as_ref().unwrap());
        assert!(
            (ring[0].x - x).abs() < 1e-6 && (ring[0].y - y).abs() < 1e-6,
            "{ring:?}"
        );
        assert_eq!(
            code_in_tile(&state, here, fid).await.as_deref(),
            Some("ODT")
        );

        // Update by id: attributes (one set to null by an absent Value).
        let (s, _, doc) = post(
            &state,
            &update_doc(
                v,
                fid,
                &[
                    ("geoplan:land_use_code", Some("TMD")),
                    ("legal_area", Some("20.25")),
                    ("certificate_number", None),
                ],
                None,
            ),
            editor(),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{v}: {doc}");
        assert_eq!(total(&doc, "totalUpdated"), 1, "{doc}");
        let (_, j) = feature_json(&state, fid).await;
        assert_eq!(j["properties"]["land_use_code"], "TMD");
        assert_eq!(j["properties"]["legal_area"], 20.25);
        assert_eq!(j["properties"]["address"], ADDRESS);
        assert_eq!(
            code_in_tile(&state, here, fid).await.as_deref(),
            Some("TMD")
        );
        let row = stored(&state, fid).await.unwrap();
        assert_eq!(field(&flds, &row, "certificate_number"), Value::Null);

        // Delete.
        let (s, _, doc) = post(&state, &delete_doc(v, fid), editor()).await;
        assert_eq!(s, StatusCode::OK, "{v}: {doc}");
        assert_eq!(total(&doc, "totalDeleted"), 1, "{doc}");
        let (s, _) = feature_json(&state, fid).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        assert!(stored(&state, fid).await.is_none());
        assert_eq!(code_in_tile(&state, here, fid).await, None);
    }
    let (count1, _, engine1) = fingerprint(&state).await;
    assert_eq!((count1, engine1), (count0, engine0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wfs_1_0_inserts_and_deletes_and_an_api_key_authenticates() {
    let (_dir, state) = editable_state().await;
    let near = exterior(some_parcel(&state, 3).await.geometry.as_ref().unwrap())[0];
    let body = insert_doc(
        "1.0.0",
        &square(near.x + 1.0, near.y + 1.0, 3.0),
        "DGT",
        ADDRESS,
    );
    let (s, _, doc) = post(&state, &body, Some(format!("Bearer {API_KEY}"))).await;
    assert_eq!(s, StatusCode::OK, "{doc}");
    assert!(doc.contains("WFS_TransactionResponse") && doc.contains("<wfs:SUCCESS/>"));
    let fid = inserted_fids(&doc)[0];
    let (_, j) = feature_json(&state, fid).await;
    assert_eq!(j["properties"]["address"], ADDRESS);
    let (s, _, doc) = post(
        &state,
        &delete_doc("1.1.0", fid).replace("1.1.0", "1.0.0"),
        Some(format!("Bearer {API_KEY}")),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{doc}");
    assert_eq!(feature_json(&state, fid).await.0, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_parcel_sent_back_in_4326_lat_lon_or_5899_stays_within_a_millimetre() {
    let (_dir, state) = editable_state().await;
    send_back(state).await;
}

async fn send_back(state: AppState) {
    let row = some_parcel(&state, 7).await;
    let fid = row.fid;
    let orig = exterior(row.geometry.as_ref().unwrap());
    let to4326: Vec<Coord<f64>> = orig
        .iter()
        .map(|c| crs::transform_one(Crs::Epsg(5899), Crs::Epsg(4326), *c).unwrap())
        .collect();
    // (version, srsName, coordinates, latitude first)
    let cases: Vec<(&str, &str, &[Coord<f64>], bool)> = vec![
        ("2.0.0", "urn:ogc:def:crs:EPSG::4326", &to4326, true),
        (
            "2.0.0",
            "http://www.opengis.net/def/crs/EPSG/0/4326",
            &to4326,
            true,
        ),
        ("1.1.0", "urn:x-ogc:def:crs:EPSG:4326", &to4326, true),
        ("1.1.0", "EPSG:4326", &to4326, false),
        ("2.0.0", "urn:ogc:def:crs:EPSG::5899", &orig, false),
        ("1.1.0", "EPSG:5899", &orig, false),
    ];
    for (v, srs, ring, lat_lon) in cases {
        let geom = gml_polygon(ring, srs, lat_lon);
        let (s, _, doc) = post(
            &state,
            &update_doc(v, fid, &[("geom", Some(&geom))], None),
            editor(),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{v} {srs}: {doc}");
        assert_eq!(total(&doc, "totalUpdated"), 1);
        let now = exterior(
            stored(&state, fid)
                .await
                .unwrap()
                .geometry
                .as_ref()
                .unwrap(),
        );
        assert_eq!(now.len(), orig.len());
        for (a, b) in now.iter().zip(&orig) {
            let d = ((a.x - b.x).powi(2) + (a.y - b.y).powi(2)).sqrt();
            assert!(
                d < 0.001,
                "{v} {srs}: moved by {d} m ({a:?} vs {b:?}): axis swap or drift"
            );
        }
    }
    // The other attributes are untouched.
    let after = stored(&state, fid).await.unwrap();
    assert_eq!(after.values, row.values);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_valid_credentials_a_transaction_gets_401_and_changes_nothing() {
    let (_dir, state) = editable_state().await;
    let before = fingerprint(&state).await;
    let fid = some_parcel(&state, 0).await.fid;
    let body = delete_doc("2.0.0", fid);
    for authz in [
        None,
        Some(basic(USER, "Quy hoach Da Nang 2030!")),
        Some(basic("nobody", PASSWORD)),
        Some("Bearer not-the-key".to_owned()),
        Some("Digest username=\"x\"".to_owned()),
    ] {
        let (s, h, doc) = post(&state, &body, authz.clone()).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{authz:?}: {doc}");
        assert_eq!(h[header::WWW_AUTHENTICATE], auth::CHALLENGE);
        assert!(doc.contains("ows:ExceptionReport"), "{doc}");
    }
    // Even a hostile body is not read before the credentials are checked.
    let (s, _, _) = post(
        &state,
        "<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><wfs:Transaction/>",
        None,
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "a DOCTYPE hides the root");
    // Whatever stands before the root, a Transaction never runs without an
    // editor: it is either refused as XML or asked for credentials.
    for prefix in [
        "<![CDATA[]]>",
        "<?xml version=\"1.0\"?>&#32;",
        "&#32;",
        "<!-- a comment -->",
        "<?xml version=\"1.0\"?>\n<?pi x?>\n",
        "\u{feff}  ",
    ] {
        let (s, _, doc) = post(&state, &format!("{prefix}{body}"), None).await;
        assert!(
            s == StatusCode::UNAUTHORIZED || s == StatusCode::BAD_REQUEST,
            "{prefix:?}: {s} {doc}"
        );
        assert_eq!(
            fingerprint(&state).await,
            before,
            "{prefix:?} changed the store"
        );
    }
    assert_eq!(fingerprint(&state).await, before);
    assert_eq!(feature_json(&state, fid).await.0, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn layers_not_listed_as_editable_are_refused_and_capabilities_say_which_are() {
    let (_dir, state) = editable_state().await;
    let roads_before = get_text(&state, "/layers/roads").await.1;
    let body = format!(
        "<wfs:Transaction service=\"WFS\" version=\"2.0.0\" {WFS2}><wfs:Delete typeName=\"geoplan:roads\"><fes:Filter><fes:ResourceId rid=\"roads.1\"/></fes:Filter></wfs:Delete></wfs:Transaction>"
    );
    let (s, _, doc) = post(&state, &body, editor()).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{doc}");
    assert!(
        doc.contains("OperationProcessingFailed") && doc.contains("geoplan:roads"),
        "{doc}"
    );
    assert_eq!(get_text(&state, "/layers/roads").await.1, roads_before);

    // Capabilities: Transaction for parcels only, in 2.0 and 1.1.
    let (_, caps) = get_text(
        &state,
        "/wfs?SERVICE=WFS&REQUEST=GetCapabilities&VERSION=2.0.0",
    )
    .await;
    assert!(
        caps.contains("<ows:Operation name=\"Transaction\">"),
        "{caps}"
    );
    let (_, caps11) = get_text(
        &state,
        "/wfs?SERVICE=WFS&REQUEST=GetCapabilities&VERSION=1.1.0",
    )
    .await;
    assert!(caps11.contains("Transaction"));
    // A server with nothing editable advertises no Transaction.
    let ro = AppState::new(Store::Gpkg(GpkgStore::open(SAMPLE).unwrap()), config(&[]));
    ro.load_all().await.unwrap();
    let (_, caps) = get_text(
        &ro,
        "/wfs?SERVICE=WFS&REQUEST=GetCapabilities&VERSION=2.0.0",
    )
    .await;
    assert!(!caps.contains("\"Transaction\""), "{caps}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transaction_failing_at_its_last_action_changes_nothing() {
    let (_dir, state) = editable_state().await;
    failing_last_action(state).await;
}

async fn failing_last_action(state: AppState) {
    let before = fingerprint(&state).await;
    let victim = some_parcel(&state, 11).await;
    let near = exterior(victim.geometry.as_ref().unwrap())[0];
    let insert = format!(
        "<wfs:Insert><geoplan:parcels><geoplan:geom>{}</geoplan:geom><geoplan:land_use_code>ONT</geoplan:land_use_code><geoplan:address>{ADDRESS}</geoplan:address></geoplan:parcels></wfs:Insert>",
        gml_polygon(&square(near.x + 1.0, near.y + 1.0, 2.0), "urn:ogc:def:crs:EPSG::5899", false)
    );
    let update = format!(
        "<wfs:Update typeName=\"geoplan:parcels\"><wfs:Property><wfs:ValueReference>land_use_code</wfs:ValueReference><wfs:Value>SKC</wfs:Value></wfs:Property><fes:Filter><fes:ResourceId rid=\"parcels.{}\"/></fes:Filter></wfs:Update>",
        victim.fid
    );
    let delete = format!(
        "<wfs:Delete typeName=\"geoplan:parcels\"><fes:Filter><fes:ResourceId rid=\"parcels.{}\"/></fes:Filter></wfs:Delete>",
        some_parcel(&state, 12).await.fid
    );
    let good = format!("{insert}{update}{delete}");
    let last_actions = [
        // A value of the wrong type.
        (
            "<wfs:Update typeName=\"geoplan:parcels\"><wfs:Property><wfs:ValueReference>legal_area</wfs:ValueReference><wfs:Value>mười hai</wfs:Value></wfs:Property><fes:Filter><fes:ResourceId rid=\"parcels.1\"/></fes:Filter></wfs:Update>".to_owned(),
            "legal_area",
        ),
        // A property the layer does not have.
        (
            "<wfs:Update typeName=\"geoplan:parcels\"><wfs:Property><wfs:ValueReference>owner_name</wfs:ValueReference><wfs:Value>x</wfs:Value></wfs:Property><fes:Filter><fes:ResourceId rid=\"parcels.1\"/></fes:Filter></wfs:Update>".to_owned(),
            "owner_name",
        ),
        // A point into a polygon layer: refused by the store, after the
        // first three actions were written inside its transaction.
        (
            format!(
                "<wfs:Insert><geoplan:parcels><geoplan:geom><gml:Point srsName=\"urn:ogc:def:crs:EPSG::5899\"><gml:pos>{} {}</gml:pos></gml:Point></geoplan:geom></geoplan:parcels></wfs:Insert>",
                near.x, near.y
            ),
            "Point",
        ),
        // An Update without a filter would change every parcel.
        (
            "<wfs:Update typeName=\"geoplan:parcels\"><wfs:Property><wfs:ValueReference>land_use_code</wfs:ValueReference><wfs:Value>ONT</wfs:Value></wfs:Property></wfs:Update>".to_owned(),
            "Filter",
        ),
        // A Replace, which geoplan does not offer.
        (
            "<wfs:Replace><geoplan:parcels/><fes:Filter><fes:ResourceId rid=\"parcels.1\"/></fes:Filter></wfs:Replace>".to_owned(),
            "Replace",
        ),
    ];
    for (last, named) in last_actions {
        let body = format!(
            "<wfs:Transaction service=\"WFS\" version=\"2.0.0\" {WFS2}>{good}{last}</wfs:Transaction>"
        );
        let (s, _, doc) = post(&state, &body, editor()).await;
        assert!(s.is_client_error(), "{named}: {s} {doc}");
        assert!(doc.contains("ows:ExceptionReport"), "{doc}");
        assert!(
            doc.to_lowercase().contains(&named.to_lowercase()),
            "the report names {named}: {doc}"
        );
        assert_eq!(fingerprint(&state).await, before, "{named}");
        assert_eq!(stored(&state, victim.fid).await.unwrap(), victim);
    }

    // A filter that matches nothing is no error: nothing is updated.
    let body = format!(
        "<wfs:Transaction service=\"WFS\" version=\"2.0.0\" {WFS2}><wfs:Update typeName=\"geoplan:parcels\"><wfs:Property><wfs:ValueReference>land_use_code</wfs:ValueReference><wfs:Value>ONT</wfs:Value></wfs:Property><fes:Filter><fes:PropertyIsEqualTo><fes:ValueReference>commune_code</fes:ValueReference><fes:Literal>no-such-commune</fes:Literal></fes:PropertyIsEqualTo></fes:Filter></wfs:Update></wfs:Transaction>"
    );
    let (s, _, doc) = post(&state, &body, editor()).await;
    assert_eq!(s, StatusCode::OK, "{doc}");
    assert_eq!(total(&doc, "totalUpdated"), 0);
    assert_eq!(fingerprint(&state).await, before);

    // The good part alone goes through, all of it.
    let body = format!(
        "<wfs:Transaction service=\"WFS\" version=\"2.0.0\" {WFS2}>{good}</wfs:Transaction>"
    );
    let (s, _, doc) = post(&state, &body, editor()).await;
    assert_eq!(s, StatusCode::OK, "{doc}");
    assert_eq!(
        (
            total(&doc, "totalInserted"),
            total(&doc, "totalUpdated"),
            total(&doc, "totalDeleted")
        ),
        (1, 1, 1)
    );
    let (_, j) = feature_json(&state, victim.fid).await;
    assert_eq!(j["properties"]["land_use_code"], "SKC");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_or_malformed_transactions_get_a_4xx_naming_the_problem() {
    let (_dir, state) = editable_state().await;
    let before = fingerprint(&state).await;
    let cases = [
        (
            format!("<?xml version=\"1.0\"?><!DOCTYPE wfs:Transaction [<!ENTITY x \"boom\">]><wfs:Transaction service=\"WFS\" version=\"2.0.0\" {WFS2}><wfs:Delete typeName=\"geoplan:parcels\"><fes:Filter><fes:ResourceId rid=\"parcels.1\"/></fes:Filter></wfs:Delete></wfs:Transaction>"),
            "DOCTYPE",
        ),
        (
            format!("<wfs:Transaction service=\"WFS\" version=\"2.0.0\" {WFS2}><wfs:Update typeName=\"geoplan:parcels\"><wfs:Property><wfs:ValueReference>address</wfs:ValueReference><wfs:Value>&xxe;</wfs:Value></wfs:Property><fes:Filter><fes:ResourceId rid=\"parcels.1\"/></fes:Filter></wfs:Update></wfs:Transaction>"),
            "entity",
        ),
        (
            format!("<wfs:Transaction service=\"WFS\" version=\"2.0.0\" {WFS2}><wfs:Update typeName=\"geoplan:parcels\"><wfs:Property><wfs:ValueReference>address</wfs:ValueReference>"),
            "malformed",
        ),
        (
            format!("<wfs:Transaction service=\"WFS\" version=\"2.0.0\" {WFS2}><wfs:Delete typeName=\"geoplan:nowhere\"><fes:Filter><fes:ResourceId rid=\"nowhere.1\"/></fes:Filter></wfs:Delete></wfs:Transaction>"),
            "nowhere",
        ),
        (
            format!("<wfs:Transaction service=\"WFS\" version=\"2.0.0\" {WFS2}><wfs:Update typeName=\"geoplan:parcels\"><wfs:Property><wfs:ValueReference>../../etc/passwd</wfs:ValueReference><wfs:Value>x</wfs:Value></wfs:Property><fes:Filter><fes:ResourceId rid=\"parcels.1\"/></fes:Filter></wfs:Update></wfs:Transaction>"),
            "unknown property",
        ),
        (
            format!("<wfs:Transaction service=\"WFS\" version=\"2.0.0\" {WFS2}><wfs:Insert><geoplan:parcels><geoplan:geom><gml:Polygon><gml:exterior><gml:LinearRing><gml:posList>1 2 3</gml:posList></gml:LinearRing></gml:exterior></gml:Polygon></geoplan:geom></geoplan:parcels></wfs:Insert></wfs:Transaction>"),
            "ordinates",
        ),
        (
            format!("<wfs:Transaction service=\"WFS\" version=\"2.0.0\" {WFS2}><wfs:Lock/></wfs:Transaction>"),
            "Lock",
        ),
    ];
    for (body, named) in cases {
        let (s, _, doc) = post(&state, &body, editor()).await;
        assert!(s.is_client_error(), "{named}: {s} {doc}");
        assert!(
            doc.to_lowercase().contains(&named.to_lowercase()),
            "the report names {named}: {doc}"
        );
    }
    assert_eq!(fingerprint(&state).await, before);
}

// ------------------------------------------------------------ real client

/// Serves `state` on a loopback port until the test's runtime ends.
async fn serve(state: &AppState) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = app(state.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

/// Runs a GDAL command line tool with the editor's credentials; returns
/// stdout and stderr, panicking when it fails.
fn gdal_cli(tool: &str, args: &[&str]) -> String {
    let out = std::process::Command::new(tool)
        .args([
            "--config",
            "GDAL_HTTP_USERPWD",
            &format!("{USER}:{PASSWORD}"),
        ])
        .args(["--config", "GDAL_HTTP_AUTH", "BASIC"])
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{tool} (gdal-bin) runs: {e}"));
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && !text.contains("ERROR"),
        "{tool} {args:?} failed:\n{text}"
    );
    text
}

/// GDAL's WFS driver (GDAL 3.6, WFS 1.1.0: its 2.0 transactions do not
/// read `fes:ResourceId` insert results) as an editor: `ogr2ogr -append`
/// inserts, the OGR API updates a feature it read (attribute changed,
/// geometry sent back as read), `ogrinfo -sql DELETE` deletes. Each step
/// is compared with the store and the engine.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gdal_inserts_updates_and_deletes_through_wfs_t_and_the_engine_agrees() {
    let (dir, state) = editable_state().await;
    let flds = fields(&state).await;
    let addr = serve(&state).await;
    let url = format!("WFS:http://{addr}/wfs?VERSION=1.1.0");
    let (count0, _, _) = fingerprint(&state).await;

    // Insert with ogr2ogr from a GeoJSON file in EPSG:5899.
    let near = exterior(some_parcel(&state, 21).await.geometry.as_ref().unwrap())[0];
    let (x, y) = (near.x.round() + 2.0, near.y.round() + 2.0);
    let ring: Vec<[f64; 2]> = square(x, y, 6.0).iter().map(|c| [c.x, c.y]).collect();
    let src = dir.path().join("new.geojson");
    let gj = serde_json::json!({
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::5899"}},
        "features": [{
            "type": "Feature",
            "properties": {"commune_code": "20194", "sheet_number": 3, "parcel_number": 97531,
                           "legal_area": 36.0, "land_use_code": "ODT", "address": ADDRESS},
            "geometry": {"type": "Polygon", "coordinates": [ring]}
        }]
    });
    std::fs::write(&src, gj.to_string()).unwrap();
    let src_s = src.to_str().unwrap().to_owned();
    let u = url.clone();
    tokio::task::spawn_blocking(move || {
        gdal_cli(
            "ogr2ogr",
            &["-update", "-append", &u, &src_s, "-nln", "geoplan:parcels"],
        )
    })
    .await
    .unwrap();
    let l = state
        .data
        .engine
        .snapshot()
        .layer("parcels")
        .unwrap()
        .clone();
    assert_eq!(l.len(), count0 + 1, "the engine has the new parcel at once");
    let (_, j) = get_text(
        &state,
        "/wfs?SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=geoplan:parcels&OUTPUTFORMAT=application/json&FILTER=%3CFilter%3E%3CPropertyIsEqualTo%3E%3CValueReference%3Eparcel_number%3C/ValueReference%3E%3CLiteral%3E97531%3C/Literal%3E%3C/PropertyIsEqualTo%3E%3C/Filter%3E",
    )
    .await;
    let j: serde_json::Value = serde_json::from_str(&j).unwrap();
    let feats = j["features"].as_array().unwrap();
    assert_eq!(feats.len(), 1, "{j}");
    assert_eq!(feats[0]["properties"]["address"], ADDRESS);
    let gid = feats[0]["id"].as_str().unwrap().to_owned();
    let fid: i64 = gid.rsplit_once('.').unwrap().1.parse().unwrap();
    let row = stored(&state, fid).await.unwrap();
    assert_eq!(field(&flds, &row, "address"), Value::Text(ADDRESS.into()));
    assert_eq!(
        exterior(row.geometry.as_ref().unwrap())[0],
        Coord { x, y },
        "inserted where GDAL put it"
    );

    // Update through the OGR API: read the feature, change one attribute,
    // write it back (GDAL sends every property and the geometry as read).
    let u = url.clone();
    tokio::task::spawn_blocking(move || {
        use gdal::vector::LayerAccess;
        gdal::config::set_config_option("GDAL_HTTP_USERPWD", &format!("{USER}:{PASSWORD}"))
            .unwrap();
        gdal::config::set_config_option("GDAL_HTTP_AUTH", "BASIC").unwrap();
        let ds = gdal::Dataset::open_ex(
            &u,
            gdal::DatasetOptions {
                open_flags: gdal::GdalOpenFlags::GDAL_OF_UPDATE
                    | gdal::GdalOpenFlags::GDAL_OF_VECTOR,
                ..Default::default()
            },
        )
        .unwrap();
        let mut layer = ds.layer_by_name("geoplan:parcels").unwrap();
        layer.set_attribute_filter("parcel_number = 97531").unwrap();
        // The OGR C API: the crate's iterator borrows the layer, and its
        // set_feature drops the error code.
        let h = unsafe { layer.c_layer() };
        let cs = |s: &str| std::ffi::CString::new(s).unwrap();
        unsafe {
            gdal_sys::OGR_L_ResetReading(h);
            let f = gdal_sys::OGR_L_GetNextFeature(h);
            assert!(!f.is_null(), "GDAL finds the new parcel");
            let addr = gdal_sys::OGR_F_GetFieldIndex(f, cs("address").as_ptr());
            let got = std::ffi::CStr::from_ptr(gdal_sys::OGR_F_GetFieldAsString(f, addr));
            assert_eq!(got.to_str().unwrap(), ADDRESS);
            let code = gdal_sys::OGR_F_GetFieldIndex(f, cs("land_use_code").as_ptr());
            gdal_sys::OGR_F_SetFieldString(f, code, cs("TMD").as_ptr());
            let err = gdal_sys::OGR_L_SetFeature(h, f);
            gdal_sys::OGR_F_Destroy(f);
            assert_eq!(err, gdal_sys::OGRErr::OGRERR_NONE, "GDAL's Update failed");
        }
    })
    .await
    .unwrap();
    let after = stored(&state, fid).await.unwrap();
    assert_eq!(
        field(&flds, &after, "land_use_code"),
        Value::Text("TMD".into())
    );
    assert_eq!(field(&flds, &after, "address"), Value::Text(ADDRESS.into()));
    for (a, b) in exterior(after.geometry.as_ref().unwrap())
        .iter()
        .zip(exterior(row.geometry.as_ref().unwrap()).iter())
    {
        assert!(
            (a.x - b.x).abs() < 0.001 && (a.y - b.y).abs() < 0.001,
            "GDAL's round trip moved the parcel: {a:?} vs {b:?}"
        );
    }
    let (_, jf) = feature_json(&state, fid).await;
    assert_eq!(jf["properties"]["land_use_code"], "TMD");

    // Delete with ogrinfo's SQL.
    let u = url.clone();
    tokio::task::spawn_blocking(move || {
        gdal_cli(
            "ogrinfo",
            &[
                &u,
                "-sql",
                "DELETE FROM geoplan:parcels WHERE parcel_number = 97531",
            ],
        )
    })
    .await
    .unwrap();
    assert_eq!(feature_json(&state, fid).await.0, StatusCode::NOT_FOUND);
    assert!(stored(&state, fid).await.is_none());
    assert_eq!(fingerprint(&state).await.0, count0);
}

// ---------------------------------------------------------------- PostGIS

fn pg_base_url() -> String {
    std::env::var("GEOPLAN_TEST_PG").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

/// A fresh database holding the sample's parcels, dropped with the guard.
struct Db {
    name: String,
}

impl Db {
    async fn new(tag: &str) -> (Db, geoplan::store::postgis::PostgisStore) {
        let name = format!("geoplan_test_{tag}_{}", std::process::id());
        let pool = sqlx::PgPool::connect(&format!("{}/postgres", pg_base_url()))
            .await
            .expect("PostgreSQL must be reachable (GEOPLAN_TEST_PG); make test starts one");
        for q in [
            format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            format!("CREATE DATABASE {name}"),
        ] {
            sqlx::query(&q).execute(&pool).await.unwrap();
        }
        let pg =
            geoplan::store::postgis::PostgisStore::connect(&format!("{}/{name}", pg_base_url()))
                .await
                .unwrap();
        pg.migrate().await.unwrap();
        let g = GpkgStore::open(SAMPLE).unwrap();
        let layers: Vec<_> = ["parcels", "roads"]
            .iter()
            .map(|n| g.read_layer(n).unwrap())
            .collect();
        pg.load(&layers, &|_| {}).await.unwrap();
        (Db { name }, pg)
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        let name = self.name.clone();
        let admin = format!("{}/postgres", pg_base_url());
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                if let Ok(pool) = sqlx::PgPool::connect(&admin).await {
                    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .execute(&pool)
                        .await;
                }
            })
        })
        .join();
    }
}

/// The same transactions against PostGIS: round trips, geometry sent
/// back in 4326 and 5899, and a failing last action that changes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgis_transactions_round_trip_keep_geometry_and_roll_back_whole() {
    let (_db, pg) = Db::new("wfst_xml").await;
    let state = AppState::new(Store::Postgis(pg), config(&["parcels"]));
    state.spawn_change_listener().await.unwrap();
    state.load_all().await.unwrap();
    round_trip(state.clone()).await;
    send_back(state.clone()).await;
    failing_last_action(state).await;
}

/// A transaction written the way QGIS's WFS provider writes one (default
/// namespaces instead of prefixes, `wfs:Name`, `ogc:FeatureId` with
/// several ids in one filter, the geometry in the layer's CRS as
/// DescribeFeatureType and GetCapabilities give it, no null values). This
/// is the document's shape, not QGIS itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_qgis_shaped_edit_session_saves_without_moving_or_mangling_anything() {
    let (_dir, state) = editable_state().await;
    let flds = fields(&state).await;
    let edited = some_parcel(&state, 31).await;
    let (gone1, gone2) = (
        some_parcel(&state, 32).await.fid,
        some_parcel(&state, 33).await.fid,
    );
    let ring = exterior(edited.geometry.as_ref().unwrap());
    let pos: Vec<String> = ring.iter().map(|c| format!("{} {}", c.x, c.y)).collect();
    let new_ring: Vec<String> = square(ring[0].x + 1.0, ring[0].y + 1.0, 2.5)
        .iter()
        .map(|c| format!("{} {}", c.x, c.y))
        .collect();
    let body = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<Transaction xmlns="http://www.opengis.net/wfs" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" service="WFS" version="1.1.0" xsi:schemaLocation="https://geoplan.danang.gov.vn/ns http://127.0.0.1/wfs?SERVICE=WFS&amp;REQUEST=DescribeFeatureType&amp;VERSION=1.1.0&amp;TYPENAME=geoplan:parcels">
 <Update xmlns:geoplan="https://geoplan.danang.gov.vn/ns" typeName="geoplan:parcels">
  <Property>
   <Name>geom</Name>
   <Value><gml:Polygon xmlns:gml="http://www.opengis.net/gml" srsName="urn:ogc:def:crs:EPSG::5899"><gml:exterior><gml:LinearRing><gml:posList srsDimension="2">{}</gml:posList></gml:LinearRing></gml:exterior></gml:Polygon></Value>
  </Property>
  <Property>
   <Name>address</Name>
   <Value>{ADDRESS}</Value>
  </Property>
  <Filter xmlns="http://www.opengis.net/ogc"><FeatureId fid="parcels.{}"/></Filter>
 </Update>
 <Delete xmlns:geoplan="https://geoplan.danang.gov.vn/ns" typeName="geoplan:parcels">
  <Filter xmlns="http://www.opengis.net/ogc"><FeatureId fid="parcels.{gone1}"/><FeatureId fid="parcels.{gone2}"/></Filter>
 </Delete>
 <Insert>
  <parcels xmlns="https://geoplan.danang.gov.vn/ns">
   <commune_code>20194</commune_code>
   <land_use_code>CLN</land_use_code>
   <address>{ADDRESS}</address>
   <geom><gml:Polygon xmlns:gml="http://www.opengis.net/gml" srsName="urn:ogc:def:crs:EPSG::5899"><gml:exterior><gml:LinearRing><gml:posList srsDimension="2">{}</gml:posList></gml:LinearRing></gml:exterior></gml:Polygon></geom>
  </parcels>
 </Insert>
</Transaction>"#,
        pos.join(" "),
        edited.fid,
        new_ring.join(" ")
    );
    let (s, _, doc) = post(&state, &body, editor()).await;
    assert_eq!(s, StatusCode::OK, "{doc}");
    assert_eq!(
        (
            total(&doc, "totalInserted"),
            total(&doc, "totalUpdated"),
            total(&doc, "totalDeleted")
        ),
        (1, 1, 2),
        "{doc}"
    );
    // The edited parcel: same place to the millimetre, new address, the
    // rest untouched.
    let after = stored(&state, edited.fid).await.unwrap();
    for (a, b) in exterior(after.geometry.as_ref().unwrap()).iter().zip(&ring) {
        assert!((a.x - b.x).abs() < 0.001 && (a.y - b.y).abs() < 0.001);
    }
    assert_eq!(field(&flds, &after, "address"), Value::Text(ADDRESS.into()));
    for f in [
        "commune_code",
        "parcel_number",
        "legal_area",
        "land_use_code",
    ] {
        assert_eq!(field(&flds, &after, f), field(&flds, &edited, f), "{f}");
    }
    for fid in [gone1, gone2] {
        assert!(stored(&state, fid).await.is_none());
        assert_eq!(feature_json(&state, fid).await.0, StatusCode::NOT_FOUND);
    }
    let new = inserted_fids(&doc)[0];
    let (_, j) = feature_json(&state, new).await;
    assert_eq!(j["properties"]["address"], ADDRESS);
    assert_eq!(j["properties"]["land_use_code"], "CLN");
    assert_eq!(j["properties"]["legal_area"], serde_json::Value::Null);
}

/// The combined `/ows` endpoint takes the same Transaction, credentials
/// and all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_combined_ows_endpoint_takes_transactions_from_editors_only() {
    let (_dir, state) = editable_state().await;
    let fid = some_parcel(&state, 41).await.fid;
    let send = |authz: Option<String>| {
        let state = state.clone();
        async move {
            let mut req = Request::post("/ows").header(header::CONTENT_TYPE, "text/xml");
            if let Some(a) = authz {
                req = req.header(header::AUTHORIZATION, a);
            }
            let res = app(state)
                .oneshot(req.body(Body::from(delete_doc("2.0.0", fid))).unwrap())
                .await
                .unwrap();
            let status = res.status();
            let body = res.into_body().collect().await.unwrap().to_bytes();
            (status, String::from_utf8_lossy(&body).into_owned())
        }
    };
    let (s, doc) = send(None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "{doc}");
    assert_eq!(feature_json(&state, fid).await.0, StatusCode::OK);
    let (s, doc) = send(editor()).await;
    assert_eq!(s, StatusCode::OK, "{doc}");
    assert_eq!(total(&doc, "totalDeleted"), 1);
    assert_eq!(feature_json(&state, fid).await.0, StatusCode::NOT_FOUND);
}
