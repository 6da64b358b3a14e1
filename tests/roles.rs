//! Roles and privacy: public, officer, editor and admin against every
//! surface that shows parcel attributes (feature API and its downloads,
//! OGC API, WFS 2.0/1.1 with GML, GeoJSON and GetPropertyValue, WMS
//! GetFeatureInfo in each format, /ows, tiles, search), the writes each
//! role may make (WFS-T, project registry) with per-layer grants, stored
//! checks of others, and the append-only audit log (GeoPackage and
//! PostGIS). The sensitive value is one parcel's certificate number, read
//! from the store, never from the server.

mod common;

use axum::body::Body;
use axum::http::{header, HeaderMap, Request, StatusCode};
use geoplan::config::Config;
use geoplan::crs::{self, Crs};
use geoplan::http::{app, auth, AppState};
use geoplan::model::ValueRef;
use geoplan::tiles::TileCoord;
use http_body_util::BodyExt;
use std::io::Read;
use tower::ServiceExt;

const OFFICER_KEY: &str = "officer-key_0123456789abcdefghijklmnopqrstuvwxyz";
const EDITOR_KEY: &str = "editor-key_0123456789abcdefghijklmnopqrstuvwxyzAB";
const ADMIN_KEY: &str = "admin-key_0123456789abcdefghijklmnopqrstuvwxyzABCD";
const OFFICER_USER: &str = "le.van.tam";
const OFFICER_PASSWORD: &str = "Cán bộ địa chính 2026";

fn config() -> Config {
    let mut cfg = Config::default();
    cfg.ogc.editable = ["parcels", "zoning_lots", "investment_projects"]
        .map(String::from)
        .to_vec();
    for (name, key) in [
        ("officer-app", OFFICER_KEY),
        ("editor-sync", EDITOR_KEY),
        ("admin-ops", ADMIN_KEY),
    ] {
        cfg.ogc
            .api_keys
            .insert(name.into(), auth::hash_api_key(key));
    }
    cfg.ogc.users.insert(
        OFFICER_USER.into(),
        auth::hash_password(OFFICER_PASSWORD).unwrap(),
    );
    cfg.ogc.roles.insert("officer-app".into(), "officer".into());
    cfg.ogc.roles.insert(OFFICER_USER.into(), "officer".into());
    cfg.ogc.roles.insert("admin-ops".into(), "admin".into());
    cfg.ogc
        .grants
        .insert("editor-sync".into(), vec!["parcels".into()]);
    cfg
}

fn bearer(key: &str) -> Option<String> {
    Some(format!("Bearer {key}"))
}

fn basic(user: &str, password: &str) -> Option<String> {
    use base64::Engine as _;
    Some(format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    ))
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Answer {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

async fn send(state: &AppState, req: Request<Body>) -> Answer {
    let res = app(state.clone()).oneshot(req).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let mut body = res.into_body().collect().await.unwrap().to_bytes().to_vec();
    if body.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&body[..])
            .read_to_end(&mut out)
            .unwrap();
        body = out;
    }
    Answer {
        status,
        headers,
        body,
    }
}

async fn get(state: &AppState, uri: &str, authz: Option<String>) -> Answer {
    let mut req = Request::get(uri);
    if let Some(a) = authz {
        req = req.header(header::AUTHORIZATION, a);
    }
    send(state, req.body(Body::empty()).unwrap()).await
}

async fn post(
    state: &AppState,
    uri: &str,
    ct: &str,
    body: String,
    authz: Option<String>,
) -> Answer {
    let mut req = Request::post(uri).header(header::CONTENT_TYPE, ct);
    if let Some(a) = authz {
        req = req.header(header::AUTHORIZATION, a);
    }
    send(state, req.body(Body::from(body)).unwrap()).await
}

/// A parcel with a certificate, from the store: fid, certificate number,
/// a point inside it (CRS84 and Web Mercator).
struct Secret {
    fid: i64,
    cert: String,
    lonlat: (f64, f64),
    merc: (f64, f64),
}

async fn secret(state: &AppState) -> Secret {
    use geo::{Centroid, MapCoords};
    let d = state.data.store.read_layer("parcels").await.unwrap();
    let col = d.field_index("certificate_number").unwrap();
    let row = (0..d.len())
        .find(|&r| matches!(d.value(r, col), ValueRef::Text(t) if t.len() >= 6))
        .expect("a sample parcel with a certificate");
    let ValueRef::Text(cert) = d.value(row, col) else {
        unreachable!()
    };
    let g = d.geometry_of(row).unwrap();
    let c = g.centroid().unwrap();
    let to = |crs| {
        let p = g
            .map_coords(|_| c.0)
            .centroid()
            .map(|p| crs::transform_one(Crs::Epsg(d.srid), crs, p.0).unwrap())
            .unwrap();
        (p.x, p.y)
    };
    Secret {
        fid: d.fids[row],
        cert: cert.to_owned(),
        lonlat: to(Crs::Crs84),
        merc: to(Crs::Epsg(3857)),
    }
}

/// Every surface that can show the parcel's attributes, as GET URIs.
fn surfaces(s: &Secret) -> Vec<String> {
    let (lon, lat) = s.lonlat;
    let (x, y) = s.merc;
    let d = 0.0002;
    let bbox = format!("{},{},{},{}", lon - d, lat - d, lon + d, lat + d);
    let mb = format!("{},{},{},{}", x - 1.0, y - 1.0, x + 1.0, y + 1.0);
    let fid = s.fid;
    let wfs = "/wfs?SERVICE=WFS&TYPENAMES=geoplan:parcels";
    let gfi = format!(
        "SERVICE=WMS&VERSION=1.3.0&REQUEST=GetFeatureInfo&LAYERS=parcels&QUERY_LAYERS=parcels&STYLES=&CRS=EPSG:3857&BBOX={mb}&WIDTH=101&HEIGHT=101&I=50&J=50&FEATURE_COUNT=5"
    );
    let mut v = vec![
        format!("/layers/parcels/features?bbox={bbox}"),
        format!("/layers/parcels/features?bbox={bbox}&f=csv"),
        format!("/layers/parcels/features?bbox={bbox}&f=kml"),
        format!("/layers/parcels/features?bbox={bbox}&f=gpkg"),
        format!("/layers/parcels/features/{fid}"),
        format!("/ogcapi/collections/parcels/items?bbox={bbox}"),
        format!("/ogcapi/collections/parcels/items/{fid}"),
        format!("{wfs}&VERSION=2.0.0&REQUEST=GetFeature&RESOURCEID=parcels.{fid}"),
        format!("{wfs}&VERSION=2.0.0&REQUEST=GetFeature&RESOURCEID=parcels.{fid}&OUTPUTFORMAT=application/json"),
        format!("{wfs}&VERSION=2.0.0&REQUEST=GetFeature&RESOURCEID=parcels.{fid}&OUTPUTFORMAT=csv"),
        format!("/wfs?SERVICE=WFS&VERSION=1.1.0&REQUEST=GetFeature&TYPENAME=geoplan:parcels&FEATUREID=parcels.{fid}"),
        format!("/ows?{gfi}&INFO_FORMAT=text/html"),
    ];
    for f in [
        "application/json",
        "text/html",
        "text/plain",
        "application/vnd.ogc.gml",
    ] {
        v.push(format!("/wms?{gfi}&INFO_FORMAT={f}"));
    }
    v
}

/// Surfaces that show field names but no values.
const SCHEMAS: &[&str] = &[
    "/layers/parcels",
    "/layers",
    "/ogcapi/collections/parcels/queryables",
    "/wfs?SERVICE=WFS&VERSION=2.0.0&REQUEST=DescribeFeatureType&TYPENAMES=geoplan:parcels",
];

#[tokio::test(flavor = "multi_thread")]
async fn the_public_never_sees_a_certificate_number_and_officers_see_it_on_every_surface() {
    let (_dir, state) = common::sample_copy(config()).await;
    let s = secret(&state).await;
    let officers = [
        ("officer (key)", bearer(OFFICER_KEY)),
        ("officer (password)", basic(OFFICER_USER, OFFICER_PASSWORD)),
        ("editor", bearer(EDITOR_KEY)),
        ("admin", bearer(ADMIN_KEY)),
    ];
    for uri in surfaces(&s) {
        let a = get(&state, &uri, None).await;
        assert_eq!(a.status, StatusCode::OK, "public {uri}: {}", a.text());
        let t = a.text();
        assert!(
            !t.contains(&s.cert) && !t.contains("certificate_number"),
            "public {uri} shows the certificate: {t}"
        );
        // A shared cache keeps one copy per credential.
        assert!(
            a.headers
                .get_all(header::VARY)
                .iter()
                .any(|v| v == "authorization"),
            "{uri}"
        );
        for (who, authz) in &officers {
            let a = get(&state, &uri, authz.clone()).await;
            assert_eq!(a.status, StatusCode::OK, "{who} {uri}: {}", a.text());
            assert!(
                a.text().contains(&s.cert),
                "{who} {uri} lacks the certificate"
            );
            assert_eq!(
                a.headers.get(header::CACHE_CONTROL).unwrap(),
                "private",
                "{who} {uri}"
            );
        }
    }
    for uri in SCHEMAS {
        let t = get(&state, uri, None).await.text();
        assert!(!t.contains("certificate_number"), "public {uri}: {t}");
        let t = get(&state, uri, bearer(OFFICER_KEY)).await.text();
        assert!(t.contains("certificate_number"), "officer {uri}: {t}");
    }
    // Tiles are the same for everyone and never carry it.
    let z = 17;
    let (xs, ys) = TileCoord::range(
        z,
        &geo_types::Rect::new(
            geo_types::coord! {x: s.merc.0, y: s.merc.1},
            geo_types::coord! {x: s.merc.0, y: s.merc.1},
        ),
    );
    let c = TileCoord::new(z.into(), *xs.start(), *ys.start(), 22).unwrap();
    for authz in [None, bearer(ADMIN_KEY)] {
        let a = get(
            &state,
            &format!("/tiles/parcels/{}/{}/{}.mvt", c.z, c.x, c.y),
            authz,
        )
        .await;
        assert_eq!(a.status, StatusCode::OK);
        let tile = common::decode(&a.body, c);
        let parcels = &tile["parcels"];
        assert!(
            parcels.iter().any(|f| f.id == s.fid),
            "the parcel is in its tile"
        );
        for f in parcels {
            assert!(!f.attrs.contains_key("certificate_number"));
            assert!(!f.attrs.values().any(|v| *v == s.cert));
        }
    }
    // Search does not find parcels by certificate for the public.
    let a = get(&state, &format!("/search?q={}", urlencode(&s.cert)), None).await;
    let v: serde_json::Value = serde_json::from_slice(&a.body).unwrap();
    let found = v["results"].to_string();
    assert!(!found.contains(&s.cert), "{}", a.text());
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_public_cannot_probe_certificate_numbers_through_filters() {
    let (_dir, state) = common::sample_copy(config()).await;
    let s = secret(&state).await;
    let cql = urlencode(&format!("certificate_number = '{}'", s.cert));
    let fes = urlencode(&format!(
        "<fes:Filter xmlns:fes=\"http://www.opengis.net/fes/2.0\"><fes:PropertyIsEqualTo><fes:ValueReference>certificate_number</fes:ValueReference><fes:Literal>{}</fes:Literal></fes:PropertyIsEqualTo></fes:Filter>",
        s.cert
    ));
    let probes = [
        format!("/layers/parcels/features?filter={cql}"),
        format!("/ogcapi/collections/parcels/items?filter={cql}"),
        format!("/layers/parcels/features?certificate_number={}", urlencode(&s.cert)),
        format!("/wfs?SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=geoplan:parcels&FILTER={fes}"),
        format!("/wfs?SERVICE=WFS&VERSION=2.0.0&REQUEST=GetPropertyValue&TYPENAMES=geoplan:parcels&VALUEREFERENCE=certificate_number&RESOURCEID=parcels.{}", s.fid),
        "/wfs?SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=geoplan:parcels&SORTBY=certificate_number&COUNT=1".to_string(),
    ];
    for uri in &probes {
        let a = get(&state, uri, None).await;
        assert_eq!(
            a.status,
            StatusCode::BAD_REQUEST,
            "public {uri}: {}",
            a.text()
        );
        assert!(
            a.text().contains("certificate_number"),
            "the refusal names it: {}",
            a.text()
        );
        assert!(!a.text().contains(&s.cert));
        let a = get(&state, uri, bearer(OFFICER_KEY)).await;
        assert_eq!(a.status, StatusCode::OK, "officer {uri}: {}", a.text());
    }
    // The officer's filter finds exactly the parcel.
    let a = get(&state, &probes[0], bearer(OFFICER_KEY)).await;
    let v: serde_json::Value = serde_json::from_slice(&a.body).unwrap();
    let ids: Vec<i64> = v["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_i64().unwrap())
        .collect();
    assert!(ids.contains(&s.fid), "{ids:?}");
    // Wrong credentials are refused, not read as public.
    let a = get(
        &state,
        "/layers/parcels/features?limit=1",
        bearer("not-a-key"),
    )
    .await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
}

fn insert_xml(layer: &str) -> String {
    format!(
        r#"<wfs:Transaction service="WFS" version="2.0.0" xmlns:wfs="http://www.opengis.net/wfs/2.0" xmlns:gml="http://www.opengis.net/gml/3.2" xmlns:geoplan="https://geoplan.danang.gov.vn/ns"><wfs:Insert><geoplan:{layer}><geoplan:geom><gml:Polygon srsName="urn:ogc:def:crs:EPSG::5899"><gml:exterior><gml:LinearRing><gml:posList>1774000 556000 1774000 556030 1774030 556030 1774030 556000 1774000 556000</gml:posList></gml:LinearRing></gml:exterior></gml:Polygon></geoplan:geom></geoplan:{layer}></wfs:Insert></wfs:Transaction>"#
    )
}

async fn count(state: &AppState, layer: &str) -> usize {
    state.data.store.read_layer(layer).await.unwrap().len()
}

#[tokio::test(flavor = "multi_thread")]
async fn each_role_writes_what_it_is_granted_and_the_audit_log_says_who() {
    let (dir, state) = common::sample_copy(config()).await;
    let before = count(&state, "parcels").await;
    let xml = insert_xml("parcels");
    for (who, authz, want) in [
        ("public", None, StatusCode::UNAUTHORIZED),
        ("officer", bearer(OFFICER_KEY), StatusCode::FORBIDDEN),
    ] {
        let a = post(&state, "/wfs", "text/xml", xml.clone(), authz).await;
        assert_eq!(a.status, want, "{who}: {}", a.text());
        assert!(a.text().contains("ExceptionReport"), "{who}: OGC exception");
    }
    assert_eq!(
        count(&state, "parcels").await,
        before,
        "refusals wrote nothing"
    );
    let a = post(&state, "/wfs", "text/xml", xml.clone(), bearer(EDITOR_KEY)).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    assert_eq!(count(&state, "parcels").await, before + 1);
    // zoning_lots is editable, but not granted to this editor.
    let lots = count(&state, "zoning_lots").await;
    let a = post(
        &state,
        "/wfs",
        "text/xml",
        insert_xml("zoning_lots"),
        bearer(EDITOR_KEY),
    )
    .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.text());
    assert!(a.text().contains("zoning_lots"));
    let a = post(
        &state,
        "/wfs",
        "text/xml",
        insert_xml("zoning_lots"),
        bearer(ADMIN_KEY),
    )
    .await;
    assert_eq!(
        a.status,
        StatusCode::OK,
        "admin writes every editable layer: {}",
        a.text()
    );
    assert_eq!(count(&state, "zoning_lots").await, lots + 1);
    // The project registry is a layer like the others.
    let project = serde_json::json!({
        "name": "Khu nghỉ dưỡng thử nghiệm", "function": "TMD", "date": "2026-12-01",
        "site": {"type": "Polygon", "coordinates": [[[108.2, 16.0], [108.201, 16.0], [108.201, 16.001], [108.2, 16.001], [108.2, 16.0]]]},
    })
    .to_string();
    let a = post(
        &state,
        "/projects",
        "application/json",
        project.clone(),
        bearer(EDITOR_KEY),
    )
    .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.text());
    let a = post(
        &state,
        "/projects",
        "application/json",
        project,
        bearer(ADMIN_KEY),
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text());
    // An officer reads a certificate: audited too.
    let a = get(
        &state,
        "/layers/parcels/features?limit=3",
        bearer(OFFICER_KEY),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);

    // Only admins read the log.
    for (authz, want) in [
        (None, StatusCode::UNAUTHORIZED),
        (bearer(OFFICER_KEY), StatusCode::FORBIDDEN),
        (bearer(EDITOR_KEY), StatusCode::FORBIDDEN),
    ] {
        assert_eq!(get(&state, "/audit", authz).await.status, want);
    }
    let a = get(&state, "/audit?limit=50", bearer(ADMIN_KEY)).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    let v: serde_json::Value = serde_json::from_slice(&a.body).unwrap();
    let entries = v["entries"].as_array().unwrap();
    let find = |who: &str, action: &str| {
        entries
            .iter()
            .filter(|e| e["who"] == who && e["action"] == action)
            .cloned()
            .collect::<Vec<_>>()
    };
    let w = find("editor-sync", "write");
    assert_eq!(w.len(), 1, "{entries:#?}");
    assert_eq!(w[0]["role"], "editor");
    assert_eq!(w[0]["detail"]["layers"][0]["layer"], "parcels");
    assert_eq!(
        w[0]["detail"]["layers"][0]["inserted"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert!(w[0]["request"].as_str().unwrap().starts_with("POST /wfs"));
    let admin_writes = find("admin-ops", "write");
    let layers: Vec<_> = admin_writes
        .iter()
        .map(|e| {
            e["detail"]["layers"][0]["layer"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert!(
        layers.contains(&"zoning_lots".to_owned())
            && layers.contains(&"investment_projects".to_owned()),
        "{layers:?}"
    );
    let r = find("officer-app", "read_sensitive");
    assert!(!r.is_empty(), "{entries:#?}");
    assert_eq!(r[0]["detail"]["fields"][0]["field"], "certificate_number");
    // Refused writes and public reads leave no entry.
    assert!(find("", "write").is_empty() && entries.iter().all(|e| !e["who"].is_null()));
    let filtered = get(
        &state,
        "/audit?who=editor-sync&action=write",
        bearer(ADMIN_KEY),
    )
    .await;
    let v: serde_json::Value = serde_json::from_slice(&filtered.body).unwrap();
    assert_eq!(v["entries"].as_array().unwrap().len(), 1);
    assert_eq!(
        get(&state, "/audit?action=delete", bearer(ADMIN_KEY))
            .await
            .status,
        StatusCode::BAD_REQUEST
    );

    // Append-only in the file itself: no one changes or removes an entry.
    let c = rusqlite::Connection::open(dir.path().join("sample.gpkg")).unwrap();
    let n: i64 = c
        .query_row("SELECT count(*) FROM audit_log", [], |r| r.get(0))
        .unwrap();
    assert!(n >= 4);
    assert!(c
        .execute("UPDATE audit_log SET who = 'someone else'", [])
        .is_err());
    assert!(c.execute("DELETE FROM audit_log", []).is_err());
    let after: i64 = c
        .query_row("SELECT count(*) FROM audit_log", [], |r| r.get(0))
        .unwrap();
    assert_eq!(after, n);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_signed_in_users_check_is_theirs_and_officers_but_an_anonymous_one_is_anyones() {
    let (_dir, state) = common::sample_copy(config()).await;
    let check = serde_json::json!({
        "site": {"type": "Polygon", "coordinates": [[[108.22, 16.06], [108.2203, 16.06], [108.2203, 16.0603], [108.22, 16.0603], [108.22, 16.06]]]},
        "proposal": {"use": "TMD", "floors": 5},
    })
    .to_string();
    let mine = post(
        &state,
        "/planning/check",
        "application/json",
        check.clone(),
        bearer(EDITOR_KEY),
    )
    .await;
    assert_eq!(mine.status, StatusCode::CREATED, "{}", mine.text());
    let loc = mine.headers[header::LOCATION].to_str().unwrap();
    let path = &loc[loc.find("/planning/check/").unwrap()..];
    assert_eq!(get(&state, path, None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        get(&state, path, bearer(EDITOR_KEY)).await.status,
        StatusCode::OK
    );
    assert_eq!(
        get(&state, path, bearer(OFFICER_KEY)).await.status,
        StatusCode::OK
    );
    let anon = post(&state, "/planning/check", "application/json", check, None).await;
    let loc = anon.headers[header::LOCATION].to_str().unwrap();
    let path2 = &loc[loc.find("/planning/check/").unwrap()..];
    assert_eq!(get(&state, path2, None).await.status, StatusCode::OK);
    // The officer's look at someone else's check is in the log.
    let a = get(&state, "/audit?who=officer-app", bearer(ADMIN_KEY)).await;
    assert!(
        a.text().contains(&path["/planning/check/".len()..]),
        "{}",
        a.text()
    );
}

#[tokio::test]
async fn roles_and_grants_naming_no_user_are_refused_at_start() {
    let mut c = config();
    c.ogc.roles.insert("nobody".into(), "admin".into());
    let e = auth::Auth::from_config(&c.ogc).unwrap_err().to_string();
    assert!(e.contains("ogc.roles.nobody"), "{e}");
    let mut c = config();
    c.ogc.grants.insert("ghost".into(), vec!["parcels".into()]);
    let e = auth::Auth::from_config(&c.ogc).unwrap_err().to_string();
    assert!(e.contains("ogc.grants.ghost"), "{e}");
    let mut c = config();
    for bad in ["public", "boss", "Admin"] {
        c.ogc.roles.insert("officer-app".into(), bad.into());
        let e = auth::Auth::from_config(&c.ogc).unwrap_err().to_string();
        assert!(
            e.contains("ogc.roles.officer-app") && e.contains(bad),
            "{e}"
        );
    }
}

#[tokio::test]
async fn the_postgis_audit_log_is_append_only() {
    use geoplan::store::audit::{AuditEntry, AuditQuery};
    use geoplan::store::postgis::PostgisStore;
    let db = common::PgDb::new("audit").await;
    let store = PostgisStore::connect(&db.url).await.unwrap();
    store.migrate().await.unwrap();
    let entry = |who: &str| AuditEntry {
        seq: 0,
        at: chrono::Utc::now(),
        who: Some(who.into()),
        role: "editor".into(),
        action: "write".into(),
        request: "POST /wfs".into(),
        detail: serde_json::json!({"layers": [{"layer": "parcels", "inserted": [7]}]}),
    };
    store.put_audit(&[entry("a"), entry("b")]).await.unwrap();
    let got = store
        .read_audit(&AuditQuery {
            limit: 10,
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].who.as_deref(), Some("b"), "newest first");
    assert_eq!(got[1].detail["layers"][0]["inserted"][0], 7);
    let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
    for q in [
        "UPDATE geoplan.audit_log SET who = 'x'",
        "DELETE FROM geoplan.audit_log",
    ] {
        let e = sqlx::query(q).execute(&pool).await.unwrap_err().to_string();
        assert!(e.contains("append-only"), "{q}: {e}");
    }
}
