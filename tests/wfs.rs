//! WFS 2.0.0, 1.1.0 and 1.0.0 over the committed sample, through the router
//! as a client calls it: capabilities, schemas, GetFeature counts and
//! coordinates compared with the engine and the GeoPackage, paging,
//! filters, sorting, stored queries, hostile input; then real clients
//! (OWSLib, GDAL's ogrinfo) against a server on a loopback port.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use geo::{Intersects, Relate};
use geo_types::{Coord, Geometry, Rect};
use geoplan::config::Config;
use geoplan::crs::{self, Crs, WEB_MERCATOR};
use geoplan::engine::filter::{Filter, FilterLimits};
use geoplan::engine::{cql2, Layer, Query, Spatial};
use geoplan::http::{app, AppState};
use geoplan::ogc::xml::{self, Element, XmlLimits};
use geoplan::store::{gpkg::GpkgStore, Store};
use http_body_util::BodyExt;
use std::sync::Arc;
use tokio::sync::OnceCell;
use tower::ServiceExt;

const SAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/sample.gpkg");
const BASE: &str = "https://geo.example.vn/api";

static STATE: OnceCell<AppState> = OnceCell::const_new();

async fn state() -> &'static AppState {
    STATE
        .get_or_init(|| async {
            let store =
                Store::Gpkg(GpkgStore::open(SAMPLE).expect("data/sample.gpkg is committed"));
            let cfg = Config {
                public_url: Some(BASE.into()),
                ..Config::default()
            };
            let s = AppState::new(store, cfg);
            s.load_all().await.unwrap();
            s
        })
        .await
}

fn layer(id: &str) -> Arc<Layer> {
    STATE
        .get()
        .unwrap()
        .data
        .engine
        .snapshot()
        .layer(id)
        .unwrap()
        .clone()
}

async fn call(req: Request<Body>) -> (StatusCode, String, String) {
    let res = app(state().await.clone()).oneshot(req).await.unwrap();
    let status = res.status();
    let ct = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        ct,
        String::from_utf8(body.to_vec()).expect("UTF-8 body"),
    )
}

/// GET /wfs?{query} (the query is given unencoded except for `&`/`=`
/// separators; values are percent-encoded here).
async fn wfs(query: &str) -> (StatusCode, String, String) {
    // Split at `&` only where a parameter name follows, so that entity
    // references inside XML values stay in their value.
    let mut pairs: Vec<String> = Vec::new();
    for piece in query.split('&') {
        let is_param = piece.split_once('=').is_some_and(|(k, _)| {
            !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        });
        match pairs.last_mut() {
            Some(last) if !is_param => {
                last.push('&');
                last.push_str(piece);
            }
            _ => pairs.push(piece.to_owned()),
        }
    }
    let mut ser = url::form_urlencoded::Serializer::new(String::new());
    for pair in &pairs {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        ser.append_pair(k, v);
    }
    call(
        Request::get(format!("/wfs?{}", ser.finish()))
            .body(Body::empty())
            .unwrap(),
    )
    .await
}

async fn wfs_post(body: &str) -> (StatusCode, String, String) {
    call(
        Request::post("/wfs")
            .header("content-type", "application/xml")
            .body(Body::from(body.to_owned()))
            .unwrap(),
    )
    .await
}

fn parse(doc: &str) -> Element {
    xml::parse(
        doc,
        XmlLimits {
            max_depth: 64,
            max_elements: 50_000_000,
        },
    )
    .unwrap_or_else(|e| panic!("{e}: {}", &doc[..doc.len().min(2000)]))
}

/// Every element (depth first).
fn walk<'a>(e: &'a Element, out: &mut Vec<&'a Element>) {
    out.push(e);
    for c in &e.children {
        walk(c, out);
    }
}

/// The features of a GML collection: (layer, fid) from gml:id / fid.
fn gml_ids(doc: &str) -> Vec<(String, i64)> {
    let root = parse(doc);
    let members = root
        .children
        .iter()
        .filter(|c| c.is("member") || c.is("featureMember"))
        .flat_map(|m| m.children.iter());
    members
        .map(|f| {
            let id = f.attr("id").or_else(|| f.attr("fid")).expect("feature id");
            let (l, n) = id.rsplit_once('.').unwrap();
            assert_eq!(l, f.local(), "gml:id {id} names the feature type");
            (l.to_owned(), n.parse().unwrap())
        })
        .collect()
}

fn fids(doc: &str) -> Vec<i64> {
    gml_ids(doc).into_iter().map(|x| x.1).collect()
}

fn attr_of<'a>(doc: &'a Element, name: &str) -> Option<&'a str> {
    doc.attr(name)
}

/// Engine answer: every matching fid in fid order.
fn engine_fids(l: &Layer, spatial: Option<Spatial>, filter: Option<Filter>) -> Vec<i64> {
    l.query(&Query {
        spatial,
        filter,
        offset: 0,
        limit: usize::MAX,
    })
    .features
    .iter()
    .map(|r| r.fid)
    .collect()
}

fn merc_rect(c: Crs, min: Coord<f64>, max: Coord<f64>) -> Rect<f64> {
    let (a, b) = crs::transform_bbox(c, WEB_MERCATOR, min, max).unwrap();
    Rect::new(a, b)
}

fn cql(l: &Layer, text: &str) -> Filter {
    Filter::compile(
        &cql2::parse(text).unwrap(),
        l.fields(),
        &FilterLimits::default(),
    )
    .unwrap()
}

/// Hội An's old town, lon/lat.
const HOI_AN: (Coord<f64>, Coord<f64>) = (
    Coord {
        x: 108.31,
        y: 15.86,
    },
    Coord {
        x: 108.35,
        y: 15.89,
    },
);

#[tokio::test]
async fn capabilities_in_every_version_list_every_layer_under_the_same_prefixed_name() {
    state().await;
    let cat = STATE.get().unwrap().data.engine.snapshot();
    let want: Vec<String> = cat.layers().map(|l| format!("geoplan:{}", l.id)).collect();
    assert!(want.len() >= 8);
    for (v, name_tag) in [("2.0.0", "Name"), ("1.1.0", "Name"), ("1.0.0", "Name")] {
        let (s, ct, body) = wfs(&format!("SERVICE=WFS&REQUEST=GetCapabilities&VERSION={v}")).await;
        assert_eq!(s, StatusCode::OK, "{body}");
        assert!(ct.contains("xml"), "{ct}");
        let root = parse(&body);
        assert_eq!(root.attr("version"), Some(v));
        let ftl = root.child("FeatureTypeList").expect("FeatureTypeList");
        let names: Vec<String> = ftl
            .children_named("FeatureType")
            .map(|f| f.child(name_tag).unwrap().text().to_owned())
            .collect();
        assert_eq!(names, want, "version {v}");
        // No Transaction while no layer is editable.
        assert!(
            !body.contains("Operation name=\"Transaction\"")
                && !body.contains("<Transaction>")
                && !body.contains("<wfs:Operation>Insert"),
            "{v} advertises Transaction"
        );
    }
    // 2.0 details QGIS and GDAL rely on.
    let (_, _, body) =
        wfs("SERVICE=WFS&REQUEST=GetCapabilities&ACCEPTVERSIONS=2.0.0,1.1.0,1.0.0").await;
    let root = parse(&body);
    assert_eq!(root.attr("version"), Some("2.0.0"));
    let mut all = Vec::new();
    walk(&root, &mut all);
    let constraint = |n: &str| {
        all.iter()
            .find(|e| e.is("Constraint") && e.attr("name") == Some(n))
            .and_then(|e| e.child("DefaultValue"))
            .map(|d| d.text().to_owned())
    };
    assert_eq!(constraint("ImplementsBasicWFS").as_deref(), Some("TRUE"));
    assert_eq!(
        constraint("ImplementsResultPaging").as_deref(),
        Some("TRUE")
    );
    assert_eq!(constraint("KVPEncoding").as_deref(), Some("TRUE"));
    assert_eq!(constraint("CountDefault").as_deref(), Some("1000"));
    let parcels = root
        .child("FeatureTypeList")
        .unwrap()
        .children_named("FeatureType")
        .find(|f| f.child("Name").unwrap().text() == "geoplan:parcels")
        .unwrap();
    assert_eq!(
        parcels.child("DefaultCRS").unwrap().text(),
        "urn:ogc:def:crs:EPSG::5899"
    );
    let other: Vec<&str> = parcels
        .children_named("OtherCRS")
        .map(|c| c.text())
        .collect();
    for c in [
        "urn:ogc:def:crs:EPSG::4326",
        "urn:ogc:def:crs:EPSG::3857",
        "urn:ogc:def:crs:OGC:1.3:CRS84",
        "urn:ogc:def:crs:EPSG::9210",
    ] {
        assert!(other.contains(&c), "{c} missing from {other:?}");
    }
    let formats: Vec<&str> = parcels
        .child("OutputFormats")
        .unwrap()
        .children
        .iter()
        .map(|f| f.text())
        .collect();
    assert!(
        formats.contains(&"application/gml+xml; version=3.2")
            && formats.contains(&"application/json")
    );
    let bb = parcels.child("WGS84BoundingBox").unwrap();
    let lo: Vec<f64> = bb
        .child("LowerCorner")
        .unwrap()
        .text()
        .split(' ')
        .map(|x| x.parse().unwrap())
        .collect();
    assert!(
        lo[0] > 107.0 && lo[0] < 109.0 && lo[1] > 14.9 && lo[1] < 16.5,
        "{lo:?}"
    );
    assert!(all
        .iter()
        .any(|e| e.is("SpatialOperator") && e.attr("name") == Some("DWithin")));
    assert!(all
        .iter()
        .any(|e| e.is("Get") && e.attr("href") == Some(&format!("{BASE}/wfs?"))));
    // No version in common.
    let (s, _, body) = wfs("SERVICE=WFS&REQUEST=GetCapabilities&ACCEPTVERSIONS=3.0.0").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(body.contains("VersionNegotiationFailed"), "{body}");
}

#[tokio::test]
async fn describe_feature_type_is_an_xsd_with_the_namespace_and_concrete_geometry_types() {
    // QGIS sends TYPENAME and TYPENAMES together.
    let (s, _, body) = wfs("SERVICE=WFS&VERSION=2.0.0&REQUEST=DescribeFeatureType&TYPENAME=geoplan:parcels&TYPENAMES=geoplan:parcels").await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let root = parse(&body);
    assert!(root.is("schema"));
    assert_eq!(
        root.attr("targetNamespace"),
        Some("https://geoplan.danang.gov.vn/ns")
    );
    let mut all = Vec::new();
    walk(&root, &mut all);
    let el = |n: &str| {
        all.iter()
            .find(|e| e.is("element") && e.attr("name") == Some(n))
            .map(|e| e.attr("type").unwrap().to_owned())
    };
    // GML 3.2 names a polygon property a surface property.
    assert_eq!(el("geom").as_deref(), Some("gml:SurfacePropertyType"));
    assert_eq!(el("legal_area").as_deref(), Some("xsd:double"));
    assert_eq!(el("parcel_number").as_deref(), Some("xsd:long"));
    assert_eq!(el("land_use_code").as_deref(), Some("xsd:string"));
    assert_eq!(el("synthetic").as_deref(), Some("xsd:boolean"));
    assert_eq!(el("parcels").as_deref(), Some("geoplan:parcelsType"));
    // Every field published to the public is declared, and the sensitive
    // certificate number is not (officers see it, see tests/roles.rs).
    let l = layer("parcels");
    for (i, f) in l.fields().iter().enumerate() {
        assert_eq!(el(&f.name).is_some(), !l.is_sensitive(i), "{}", f.name);
    }
    assert!(el("certificate_number").is_none());
    // Multi types are concrete in every dialect.
    let (_, _, body) =
        wfs("SERVICE=WFS&VERSION=1.1.0&REQUEST=DescribeFeatureType&TYPENAME=admin_units").await;
    assert!(
        body.contains("type=\"gml:MultiPolygonPropertyType\""),
        "{body}"
    );
    let (_, _, body) = wfs("SERVICE=WFS&VERSION=2.0.0&REQUEST=DescribeFeatureType&TYPENAMES=geoplan:admin_units,geoplan:roads").await;
    assert!(
        body.contains("type=\"gml:MultiSurfacePropertyType\"")
            && body.contains("type=\"gml:CurvePropertyType\""),
        "{body}"
    );
    let (_, _, body) = wfs("SERVICE=WFS&VERSION=1.0.0&REQUEST=DescribeFeatureType").await;
    assert!(body.contains("name=\"pois\"") && body.contains("gml:PointPropertyType"));
    let (s, _, body) =
        wfs("SERVICE=WFS&VERSION=2.0.0&REQUEST=DescribeFeatureType&TYPENAMES=geoplan:nope").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(
        body.contains("InvalidParameterValue") && body.contains("nope"),
        "{body}"
    );
}

#[tokio::test]
async fn bbox_counts_match_the_engine_in_4326_either_axis_order_3857_and_5899() {
    state().await;
    let l = layer("parcels");
    let (lo, hi) = HOI_AN;
    let want = engine_fids(&l, Some(Spatial::Bbox(merc_rect(Crs::Crs84, lo, hi))), None);
    assert!(want.len() > 50, "{}", want.len());
    let cases = [
        // WFS 2.0 and 1.1, URN: latitude first.
        format!("VERSION=2.0.0&TYPENAMES=geoplan:parcels&BBOX={},{},{},{},urn:ogc:def:crs:EPSG::4326", lo.y, lo.x, hi.y, hi.x),
        format!("VERSION=1.1.0&TYPENAME=geoplan:parcels&BBOX={},{},{},{},http://www.opengis.net/def/crs/EPSG/0/4326", lo.y, lo.x, hi.y, hi.x),
        // The short EPSG:4326 and CRS:84: longitude first.
        format!("VERSION=1.1.0&TYPENAME=geoplan:parcels&BBOX={},{},{},{},EPSG:4326", lo.x, lo.y, hi.x, hi.y),
        format!("VERSION=2.0.0&TYPENAMES=parcels&BBOX={},{},{},{},CRS:84", lo.x, lo.y, hi.x, hi.y),
        // WFS 1.0: longitude first even for the URN.
        format!("VERSION=1.0.0&TYPENAME=geoplan:parcels&BBOX={},{},{},{},urn:ogc:def:crs:EPSG::4326", lo.x, lo.y, hi.x, hi.y),
        // SRSNAME gives the CRS of a BBOX without one.
        format!("VERSION=2.0.0&TYPENAMES=geoplan:parcels&SRSNAME=urn:ogc:def:crs:EPSG::4326&BBOX={},{},{},{}", lo.y, lo.x, hi.y, hi.x),
    ];
    for q in &cases {
        let (s, _, body) = wfs(&format!("SERVICE=WFS&REQUEST=GetFeature&COUNT=100000&{q}")).await;
        assert_eq!(s, StatusCode::OK, "{q}: {body}");
        assert_eq!(fids(&body), want, "{q}");
    }
    // The URN with longitude first puts 108 on the latitude axis: refused.
    let (s, _, body) = wfs(&format!(
        "SERVICE=WFS&REQUEST=GetFeature&VERSION=2.0.0&TYPENAMES=geoplan:parcels&BBOX={},{},{},{},urn:ogc:def:crs:EPSG::4326",
        lo.x, lo.y, hi.x, hi.y
    ))
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(
        body.contains("BBOX") && body.contains("axis order"),
        "{body}"
    );
    // Projected CRSs: 3857 and the layer's own 5899 (the default).
    for c in [Crs::Epsg(3857), Crs::Epsg(5899)] {
        let (a, b) = crs::transform_bbox(Crs::Crs84, c, lo, hi).unwrap();
        let want = engine_fids(&l, Some(Spatial::Bbox(merc_rect(c, a, b))), None);
        assert!(want.len() > 50);
        let crs_part = if c == Crs::Epsg(5899) {
            String::new()
        } else {
            ",urn:ogc:def:crs:EPSG::3857".into()
        };
        let (s, _, body) = wfs(&format!(
            "SERVICE=WFS&REQUEST=GetFeature&VERSION=2.0.0&TYPENAMES=geoplan:parcels&COUNT=100000&BBOX={},{},{},{}{crs_part}",
            a.x, a.y, b.x, b.y
        ))
        .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        assert_eq!(fids(&body), want, "{c}");
    }
}

#[tokio::test]
async fn startindex_pages_are_disjoint_and_cover_the_whole_layer_with_exact_counts() {
    state().await;
    let l = layer("zoning_lots");
    let n = l.len();
    assert!(n > 1000);
    let mut seen = Vec::new();
    let mut start = 0;
    let mut first_ids = std::collections::HashSet::new();
    loop {
        let (s, _, body) = wfs(&format!(
            "SERVICE=WFS&REQUEST=GetFeature&VERSION=2.0.0&TYPENAMES=geoplan:zoning_lots&STARTINDEX={start}&COUNT=400"
        ))
        .await;
        assert_eq!(s, StatusCode::OK);
        let root = parse(&body);
        assert_eq!(
            attr_of(&root, "numberMatched"),
            Some(n.to_string().as_str())
        );
        let page = fids(&body);
        assert_eq!(
            attr_of(&root, "numberReturned"),
            Some(page.len().to_string().as_str())
        );
        // QGIS turns paging off when page 2 starts with page 1's first id.
        if let Some(f) = page.first() {
            assert!(first_ids.insert(*f));
        }
        let more = start + page.len() < n;
        assert_eq!(root.attr("next").is_some(), more, "next at {start}");
        assert_eq!(root.attr("previous").is_some(), start > 0);
        if let Some(next) = root.attr("next") {
            assert!(
                next.starts_with(&format!("{BASE}/wfs?"))
                    && next.contains(&format!("STARTINDEX={}", start + 400)),
                "{next}"
            );
        }
        seen.extend(page);
        if !more {
            break;
        }
        start += 400;
    }
    assert_eq!(seen, engine_fids(&l, None, None));
    // Hits: exact, never capped by COUNT or CountDefault.
    let (_, _, body) = wfs("SERVICE=WFS&REQUEST=GetFeature&VERSION=2.0.0&TYPENAMES=geoplan:parcels&RESULTTYPE=hits&COUNT=5").await;
    let root = parse(&body);
    assert_eq!(
        root.attr("numberMatched"),
        Some(layer("parcels").len().to_string().as_str())
    );
    assert_eq!(root.attr("numberReturned"), Some("0"));
    assert!(root.children.is_empty());
    let (_, _, body) = wfs(
        "SERVICE=WFS&REQUEST=GetFeature&VERSION=1.1.0&TYPENAME=geoplan:parcels&RESULTTYPE=hits",
    )
    .await;
    assert_eq!(
        parse(&body).attr("numberOfFeatures"),
        Some(layer("parcels").len().to_string().as_str())
    );
    // Without COUNT a request gets CountDefault features.
    let (_, _, body) =
        wfs("SERVICE=WFS&REQUEST=GetFeature&VERSION=2.0.0&TYPENAMES=geoplan:parcels").await;
    assert_eq!(fids(&body).len(), 1000);
    // MAXFEATURES in 1.x.
    let (_, _, body) =
        wfs("SERVICE=WFS&REQUEST=GetFeature&VERSION=1.0.0&TYPENAME=geoplan:parcels&MAXFEATURES=7")
            .await;
    assert_eq!(fids(&body), (1..=7).collect::<Vec<_>>());
}

fn filter_xml(inner: &str) -> String {
    format!(
        "<fes:Filter xmlns:fes=\"http://www.opengis.net/fes/2.0\" xmlns:gml=\"http://www.opengis.net/gml/3.2\">{inner}</fes:Filter>"
    )
}

async fn filtered(layer_id: &str, filter: &str) -> Vec<i64> {
    let (s, _, body) = wfs(&format!(
        "SERVICE=WFS&REQUEST=GetFeature&VERSION=2.0.0&TYPENAMES=geoplan:{layer_id}&COUNT=1000000&FILTER={filter}"
    ))
    .await;
    assert_eq!(s, StatusCode::OK, "{filter}: {body}");
    fids(&body)
}

fn vr(name: &str) -> String {
    format!("<fes:ValueReference>{name}</fes:ValueReference>")
}

fn lit(v: &str) -> String {
    format!("<fes:Literal>{v}</fes:Literal>")
}

#[tokio::test]
async fn every_comparison_and_logical_operator_matches_the_engine() {
    state().await;
    let l = layer("parcels");
    let cases: Vec<(String, &str)> = vec![
        (format!("<fes:PropertyIsEqualTo>{}{}</fes:PropertyIsEqualTo>", vr("land_use_code"), lit("ODT")), "land_use_code = 'ODT'"),
        (format!("<fes:PropertyIsNotEqualTo>{}{}</fes:PropertyIsNotEqualTo>", vr("geoplan:land_use_code"), lit("ODT")), "land_use_code <> 'ODT'"),
        (format!("<fes:PropertyIsLessThan>{}{}</fes:PropertyIsLessThan>", vr("legal_area"), lit("100")), "legal_area < 100"),
        (format!("<fes:PropertyIsLessThanOrEqualTo>{}{}</fes:PropertyIsLessThanOrEqualTo>", vr("legal_area"), lit("100.5")), "legal_area <= 100.5"),
        (format!("<fes:PropertyIsGreaterThan>{}{}</fes:PropertyIsGreaterThan>", vr("legal_area"), lit("300")), "legal_area > 300"),
        (format!("<fes:PropertyIsGreaterThanOrEqualTo>{}{}</fes:PropertyIsGreaterThanOrEqualTo>", vr("sheet_number"), lit("2")), "sheet_number >= 2"),
        (format!("<fes:PropertyIsBetween>{}<fes:LowerBoundary>{}</fes:LowerBoundary><fes:UpperBoundary>{}</fes:UpperBoundary></fes:PropertyIsBetween>", vr("legal_area"), lit("120"), lit("150")), "legal_area BETWEEN 120 AND 150"),
        (format!("<fes:PropertyIsLike wildCard=\"*\" singleChar=\".\" escapeChar=\"\\\">{}{}</fes:PropertyIsLike>", vr("commune_name"), lit("Phường *An")), "commune_name LIKE 'Phường %An'"),
        (format!("<fes:PropertyIsLike wildCard=\"%\" singleChar=\"_\" escapeChar=\"\\\">{}{}</fes:PropertyIsLike>", vr("land_use_code"), lit("O_T")), "land_use_code LIKE 'O_T'"),
        (
            format!(
                "<fes:And><fes:PropertyIsEqualTo>{}{}</fes:PropertyIsEqualTo><fes:Or><fes:PropertyIsGreaterThan>{}{}</fes:PropertyIsGreaterThan><fes:Not><fes:PropertyIsNull>{}</fes:PropertyIsNull></fes:Not></fes:Or></fes:And>",
                vr("land_use_code"), lit("ODT"), vr("legal_area"), lit("200"), vr("land_use_code_old")
            ),
            "land_use_code = 'ODT' AND (legal_area > 200 OR NOT land_use_code_old IS NULL)",
        ),
    ];
    for (f, c) in cases {
        let want = engine_fids(&l, None, Some(cql(&l, c)));
        assert!(
            !want.is_empty() && want.len() < l.len(),
            "{c} should select some parcels: {}",
            want.len()
        );
        assert_eq!(filtered("parcels", &filter_xml(&f)).await, want, "{c}");
    }
    // Null tests on a field with some nulls the public sees (a parcel's
    // certificate number is for officers: tests/roles.rs).
    let p = layer("investment_projects");
    for (f, c) in [
        (
            format!(
                "<fes:PropertyIsNull>{}</fes:PropertyIsNull>",
                vr("investor")
            ),
            "investor IS NULL",
        ),
        (
            format!("<fes:PropertyIsNil>{}</fes:PropertyIsNil>", vr("investor")),
            "investor IS NULL",
        ),
        (
            format!(
                "<fes:Not><fes:PropertyIsNull>{}</fes:PropertyIsNull></fes:Not>",
                vr("investor")
            ),
            "NOT investor IS NULL",
        ),
    ] {
        let want = engine_fids(&p, None, Some(cql(&p, c)));
        assert!(
            !want.is_empty() && want.len() < p.len(),
            "{c}: {}",
            want.len()
        );
        assert_eq!(
            filtered("investment_projects", &filter_xml(&f)).await,
            want,
            "{c}"
        );
    }
    // Filter 1.1 spelling (ogc: namespace, PropertyName) in WFS 1.1.
    let f = "<ogc:Filter xmlns:ogc=\"http://www.opengis.net/ogc\"><ogc:PropertyIsEqualTo matchCase=\"false\"><ogc:PropertyName>land_use_code</ogc:PropertyName><ogc:Literal>odt</ogc:Literal></ogc:PropertyIsEqualTo></ogc:Filter>";
    let (s, _, body) = wfs(&format!("SERVICE=WFS&REQUEST=GetFeature&VERSION=1.1.0&TYPENAME=geoplan:parcels&MAXFEATURES=100000&FILTER={f}")).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(
        fids(&body),
        engine_fids(&l, None, Some(cql(&l, "land_use_code = 'ODT'")))
    );
}

/// Parcels whose geometry (from the GeoPackage, in 5899) relates to `g`
/// (given in 5899) by `pred`: brute force with `geo`, independent of the
/// engine's filter code.
fn brute(g: &Geometry<f64>, pred: impl Fn(&Geometry<f64>, &Geometry<f64>) -> bool) -> Vec<i64> {
    let d = GpkgStore::open(SAMPLE)
        .unwrap()
        .read_layer("parcels")
        .unwrap();
    (0..d.len())
        .filter(|&r| d.geometry_of(r).is_some_and(|fg| pred(&fg, g)))
        .map(|r| d.fids[r])
        .collect()
}

#[tokio::test]
async fn spatial_operators_match_a_brute_force_answer() {
    state().await;
    // A 600 m square in Hội An, in 5899.
    let (x0, y0) = (561_200.0, 1_755_700.0);
    let sq = format!(
        "<gml:Polygon srsName=\"urn:ogc:def:crs:EPSG::5899\"><gml:exterior><gml:LinearRing><gml:posList>{x0} {y0} {} {y0} {} {} {x0} {} {x0} {y0}</gml:posList></gml:LinearRing></gml:exterior></gml:Polygon>",
        x0 + 600.0, x0 + 600.0, y0 + 600.0, y0 + 600.0
    );
    let poly = Geometry::Polygon(
        Rect::new(
            Coord { x: x0, y: y0 },
            Coord {
                x: x0 + 600.0,
                y: y0 + 600.0,
            },
        )
        .to_polygon(),
    );
    let inter = brute(&poly, |a, b| a.intersects(b));
    assert!(inter.len() > 20, "{}", inter.len());
    let got = filtered(
        "parcels",
        &filter_xml(&format!(
            "<fes:Intersects>{}{sq}</fes:Intersects>",
            vr("geom")
        )),
    )
    .await;
    assert_eq!(got, inter);
    let within = brute(&poly, |a, b| a.relate(b).is_within());
    assert!(!within.is_empty() && within.len() < inter.len());
    let got = filtered(
        "parcels",
        &filter_xml(&format!("<fes:Within>{}{sq}</fes:Within>", vr("geom"))),
    )
    .await;
    assert_eq!(got, within);
    // BBOX with an Envelope in lat/lon (URN order) equals the KVP BBOX.
    let (lo, hi) = HOI_AN;
    let env = format!(
        "<gml:Envelope srsName=\"urn:ogc:def:crs:EPSG::4326\"><gml:lowerCorner>{} {}</gml:lowerCorner><gml:upperCorner>{} {}</gml:upperCorner></gml:Envelope>",
        lo.y, lo.x, hi.y, hi.x
    );
    let got = filtered(
        "parcels",
        &filter_xml(&format!("<fes:BBOX>{}{env}</fes:BBOX>", vr("geom"))),
    )
    .await;
    assert_eq!(
        got,
        engine_fids(
            &layer("parcels"),
            Some(Spatial::Bbox(merc_rect(Crs::Crs84, lo, hi))),
            None
        )
    );
    // DWithin 150 m of a point, in metres on the ground (5899 is a
    // metric plane with scale ~1 here).
    let p = Geometry::Point(geo_types::Point::new(x0 + 300.0, y0 + 300.0));
    let near = brute(&p, |a, b| {
        use geo::{Distance, Euclidean};
        Euclidean.distance(a, b) <= 150.0
    });
    let got = filtered(
        "parcels",
        &filter_xml(&format!(
            "<fes:DWithin>{}<gml:Point srsName=\"urn:ogc:def:crs:EPSG::5899\"><gml:pos>{} {}</gml:pos></gml:Point><fes:Distance uom=\"m\">150</fes:Distance></fes:DWithin>",
            vr("geom"), x0 + 300.0, y0 + 300.0
        )),
    )
    .await;
    // Ground distance from Web Mercator and the TM-3 plane differ by the
    // grid scale (< 0.1 %): only parcels right at 150 m may differ.
    let diff: Vec<_> = near
        .iter()
        .filter(|f| !got.contains(f))
        .chain(got.iter().filter(|f| !near.contains(f)))
        .collect();
    assert!(
        near.len() > 10 && diff.len() <= 2,
        "near {} got {} diff {diff:?}",
        near.len(),
        got.len()
    );
    // Spatial AND attribute.
    let both = filtered(
        "parcels",
        &filter_xml(&format!(
            "<fes:And><fes:Intersects>{}{sq}</fes:Intersects><fes:PropertyIsEqualTo>{}{}</fes:PropertyIsEqualTo></fes:And>",
            vr("geom"), vr("land_use_code"), lit("ODT")
        )),
    )
    .await;
    let l = layer("parcels");
    let odt: Vec<i64> = engine_fids(&l, None, Some(cql(&l, "land_use_code = 'ODT'")));
    assert_eq!(
        both,
        inter
            .iter()
            .copied()
            .filter(|f| odt.contains(f))
            .collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn sortby_orders_pages_stably_and_propertyname_limits_properties() {
    state().await;
    let l = layer("parcels");
    let d = l.data(geoplan::engine::Part::Base);
    let area = d.field_index("legal_area").unwrap();
    let mut want: Vec<(f64, i64)> = (0..d.len())
        .map(|r| (d.value(r, area).as_f64().unwrap(), d.fids[r]))
        .collect();
    want.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let want: Vec<i64> = want.iter().map(|x| x.1).collect();
    for (sort, start) in [("legal_area DESC", 0), ("legal_area D", 50)] {
        let (s, _, body) = wfs(&format!(
            "SERVICE=WFS&REQUEST=GetFeature&VERSION=2.0.0&TYPENAMES=geoplan:parcels&COUNT=50&STARTINDEX={start}&SORTBY={sort}"
        ))
        .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        assert_eq!(fids(&body), want[start..start + 50].to_vec(), "{sort}");
    }
    let (s, _, body) = wfs("SERVICE=WFS&REQUEST=GetFeature&VERSION=2.0.0&TYPENAMES=geoplan:parcels&COUNT=3&SORTBY=nope ASC").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(body.contains("SORTBY") && body.contains("nope"), "{body}");
    // PROPERTYNAME: only the named properties (no geometry unless named).
    let (_, _, body) = wfs("SERVICE=WFS&REQUEST=GetFeature&VERSION=2.0.0&TYPENAMES=geoplan:parcels&COUNT=2&PROPERTYNAME=land_use_code,geoplan:legal_area").await;
    let root = parse(&body);
    let f = &root.children[0].children[0];
    let names: Vec<&str> = f.children.iter().map(|c| c.local()).collect();
    assert_eq!(names, vec!["legal_area", "land_use_code"]);
    let (_, _, body) = wfs("SERVICE=WFS&REQUEST=GetFeature&VERSION=2.0.0&TYPENAMES=geoplan:parcels&COUNT=2&PROPERTYNAME=geom").await;
    let root = parse(&body);
    let names: Vec<&str> = root.children[0].children[0]
        .children
        .iter()
        .map(|c| c.local())
        .collect();
    assert_eq!(names, vec!["geom"]);
    let (s, _, body) = wfs("SERVICE=WFS&REQUEST=GetFeature&VERSION=2.0.0&TYPENAMES=geoplan:parcels&PROPERTYNAME=secret").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(body.contains("PROPERTYNAME") && body.contains("secret"));
}

#[tokio::test]
async fn resource_ids_and_stored_queries_find_features_by_gml_id() {
    state().await;
    let (s, _, body) =
        wfs("SERVICE=WFS&REQUEST=GetFeature&VERSION=2.0.0&RESOURCEID=parcels.17,roads.3,parcels.5")
            .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(
        gml_ids(&body),
        vec![
            ("parcels".into(), 5),
            ("parcels".into(), 17),
            ("roads".into(), 3)
        ]
    );
    let (_, _, body) = wfs(
        "SERVICE=WFS&REQUEST=GetFeature&VERSION=1.1.0&TYPENAME=geoplan:parcels&FEATUREID=parcels.9",
    )
    .await;
    assert_eq!(fids(&body), vec![9]);
    // Stored queries.
    let (s, _, body) = wfs("SERVICE=WFS&REQUEST=ListStoredQueries&VERSION=2.0.0").await;
    assert_eq!(s, StatusCode::OK);
    let root = parse(&body);
    let q = root.child("StoredQuery").unwrap();
    assert_eq!(
        q.attr("id"),
        Some("urn:ogc:def:query:OGC-WFS::GetFeatureById")
    );
    assert!(q
        .children_named("ReturnFeatureType")
        .any(|t| t.text() == "geoplan:parcels"));
    let (s, _, body) = wfs("SERVICE=WFS&REQUEST=DescribeStoredQueries&VERSION=2.0.0&STOREDQUERY_ID=urn:ogc:def:query:OGC-WFS::GetFeatureById").await;
    assert_eq!(s, StatusCode::OK);
    let root = parse(&body);
    let p = root
        .child("StoredQueryDescription")
        .unwrap()
        .child("Parameter")
        .unwrap();
    assert_eq!(
        (p.attr("name"), p.attr("type")),
        (Some("ID"), Some("xs:string"))
    );
    let (s, _, body) =
        wfs("SERVICE=WFS&REQUEST=DescribeStoredQueries&VERSION=2.0.0&STOREDQUERY_ID=urn:x:nope")
            .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{body}");
    // GetFeatureById: the bare feature, with its namespaces.
    let (s, ct, body) = wfs("SERVICE=WFS&REQUEST=GetFeature&VERSION=2.0.0&STOREDQUERY_ID=urn:ogc:def:query:OGC-WFS::GetFeatureById&ID=parcels.42").await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert!(ct.starts_with("application/gml+xml"), "{ct}");
    let root = parse(&body);
    assert_eq!(root.name, "geoplan:parcels");
    assert_eq!(root.attr("id"), Some("parcels.42"));
    assert!(root
        .attrs
        .iter()
        .any(|(k, v)| k == "xmlns:gml" && v == "http://www.opengis.net/gml/3.2"));
    let (s, _, body) = wfs("SERVICE=WFS&REQUEST=GetFeature&VERSION=2.0.0&STOREDQUERY_ID=urn:ogc:def:query:OGC-WFS::GetFeatureById&ID=parcels.99999999").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(body.contains("parcels.99999999"), "{body}");
    // POST: GetFeature with a StoredQuery and with a Query.
    let (s, _, body) = wfs_post(
        r#"<wfs:GetFeature service="WFS" version="2.0.0" xmlns:wfs="http://www.opengis.net/wfs/2.0"><wfs:StoredQuery id="urn:ogc:def:query:OGC-WFS::GetFeatureById"><wfs:Parameter name="ID">roads.2</wfs:Parameter></wfs:StoredQuery></wfs:GetFeature>"#,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(parse(&body).attr("id"), Some("roads.2"));
}

#[tokio::test]
async fn a_posted_getfeature_answers_like_its_kvp_form() {
    state().await;
    let l = layer("parcels");
    let want = engine_fids(
        &l,
        None,
        Some(cql(&l, "land_use_code = 'ONT' AND legal_area > 200")),
    );
    let body = r#"<?xml version="1.0" encoding="UTF-8"?>
<wfs:GetFeature service="WFS" version="2.0.0" count="100000" xmlns:wfs="http://www.opengis.net/wfs/2.0" xmlns:fes="http://www.opengis.net/fes/2.0" xmlns:geoplan="https://geoplan.danang.gov.vn/ns">
  <wfs:Query typeNames="geoplan:parcels" srsName="urn:ogc:def:crs:EPSG::5899">
    <fes:Filter><fes:And>
      <fes:PropertyIsEqualTo><fes:ValueReference>geoplan:land_use_code</fes:ValueReference><fes:Literal>ONT</fes:Literal></fes:PropertyIsEqualTo>
      <fes:PropertyIsGreaterThan><fes:ValueReference>geoplan:legal_area</fes:ValueReference><fes:Literal>200</fes:Literal></fes:PropertyIsGreaterThan>
    </fes:And></fes:Filter>
  </wfs:Query>
</wfs:GetFeature>"#;
    let (s, _, out) = wfs_post(body).await;
    assert_eq!(s, StatusCode::OK, "{out}");
    assert!(!want.is_empty());
    assert_eq!(fids(&out), want);
    // 1.1 with hits.
    let (s, _, out) = wfs_post(
        r#"<wfs:GetFeature service="WFS" version="1.1.0" resultType="hits" xmlns:wfs="http://www.opengis.net/wfs"><wfs:Query typeName="geoplan:roads"/></wfs:GetFeature>"#,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{out}");
    assert_eq!(
        parse(&out).attr("numberOfFeatures"),
        Some(layer("roads").len().to_string().as_str())
    );
}

/// Parses a posList / coordinates text into pairs.
fn pairs(t: &str, gml2: bool) -> Vec<(f64, f64)> {
    if gml2 {
        t.split_whitespace()
            .map(|p| {
                let (a, b) = p.split_once(',').unwrap();
                (a.parse().unwrap(), b.parse().unwrap())
            })
            .collect()
    } else {
        let v: Vec<f64> = t.split_whitespace().map(|x| x.parse().unwrap()).collect();
        v.chunks(2).map(|c| (c[0], c[1])).collect()
    }
}

/// The exterior ring of the first feature's polygon.
fn first_ring(doc: &str) -> Vec<(f64, f64)> {
    let root = parse(doc);
    let mut all = Vec::new();
    walk(&root, &mut all);
    let e = all
        .iter()
        .find(|e| e.is("posList") || e.is("coordinates"))
        .expect("coordinates");
    pairs(e.text(), e.is("coordinates"))
}

#[tokio::test]
async fn coordinates_match_the_geopackage_within_a_centimetre_in_every_dialect_and_axis_order() {
    state().await;
    let d = GpkgStore::open(SAMPLE)
        .unwrap()
        .read_layer("parcels")
        .unwrap();
    let row = d.row_of(123).unwrap();
    let src: Vec<Coord<f64>> = d.geometry.coords_of(row).to_vec(); // 5899
    let ll: Vec<Coord<f64>> = src
        .iter()
        .map(|c| crs::transform_one(Crs::Epsg(5899), Crs::Epsg(4326), *c).unwrap())
        .collect();
    let q = "SERVICE=WFS&REQUEST=GetFeature&RESOURCEID=parcels.123";
    // 5899 (default CRS) in GML 3.2, 3.1.1 and 2: easting, northing, 1 cm.
    for v in ["VERSION=2.0.0", "VERSION=1.1.0", "VERSION=1.0.0"] {
        let (s, _, body) = wfs(&format!("{q}&{v}")).await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let got = first_ring(&body);
        assert_eq!(got.len(), src.len());
        for (g, w) in got.iter().zip(&src) {
            assert!(
                (g.0 - w.x).abs() < 0.01 && (g.1 - w.y).abs() < 0.01,
                "{v}: {g:?} vs {w:?}"
            );
        }
    }
    // 4326: latitude first for the URN in 2.0/1.1; longitude first for
    // EPSG:4326, and always in 1.0. 1 cm is ~9e-8 degrees.
    for (v, srs, lat_first) in [
        ("2.0.0", "urn:ogc:def:crs:EPSG::4326", true),
        ("1.1.0", "urn:ogc:def:crs:EPSG::4326", true),
        ("2.0.0", "http://www.opengis.net/def/crs/EPSG/0/4326", true),
        ("1.1.0", "EPSG:4326", false),
        ("1.0.0", "EPSG:4326", false),
        ("1.0.0", "urn:ogc:def:crs:EPSG::4326", false),
        ("2.0.0", "CRS:84", false),
    ] {
        let (s, _, body) = wfs(&format!("{q}&VERSION={v}&SRSNAME={srs}")).await;
        assert_eq!(s, StatusCode::OK, "{body}");
        assert!(body.contains(&format!("srsName=\"{srs}\"")), "{v} {srs}");
        for (g, w) in first_ring(&body).iter().zip(&ll) {
            let (lon, lat) = if lat_first { (g.1, g.0) } else { (g.0, g.1) };
            assert!(
                (lon - w.x).abs() < 9e-8 && (lat - w.y).abs() < 9e-8,
                "{v} {srs}: {g:?} vs {w:?}"
            );
        }
    }
    // GeoJSON: longitude first whatever the CRS name.
    let (s, ct, body) = wfs(&format!(
        "{q}&VERSION=2.0.0&SRSNAME=urn:ogc:def:crs:EPSG::4326&OUTPUTFORMAT=application/json"
    ))
    .await;
    assert_eq!(s, StatusCode::OK);
    assert!(ct.starts_with("application/json"));
    let j: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(j["numberMatched"], 1);
    assert_eq!(j["features"][0]["id"], "parcels.123");
    let c0 = &j["features"][0]["geometry"]["coordinates"][0][0];
    assert!(
        (c0[0].as_f64().unwrap() - ll[0].x).abs() < 9e-8
            && (c0[1].as_f64().unwrap() - ll[0].y).abs() < 9e-8
    );
    // Vietnamese text survives escaping in GML.
    let (_, _, body) = wfs(&format!("{q}&VERSION=2.0.0")).await;
    let addr = d.field_index("address").unwrap();
    let geoplan::model::ValueRef::Text(a) = d.value(row, addr) else {
        panic!()
    };
    let root = parse(&body);
    let mut all = Vec::new();
    walk(&root, &mut all);
    assert_eq!(all.iter().find(|e| e.is("address")).unwrap().text(), a);
}

async fn assert_4xx(query_or_body: &str, post: bool, must_name: &[&str]) {
    let (s, ct, body) = if post {
        wfs_post(query_or_body).await
    } else {
        wfs(query_or_body).await
    };
    let short = body.chars().take(600).collect::<String>();
    let what = query_or_body.chars().take(200).collect::<String>();
    assert!(s.is_client_error(), "{s} for {what}: {short}");
    assert!(ct.contains("xml"), "{ct}");
    assert!(
        body.contains("ExceptionReport") || body.contains("ServiceExceptionReport"),
        "{short}"
    );
    for m in must_name {
        assert!(body.contains(m), "'{m}' missing from {short}");
    }
}

#[tokio::test]
async fn hostile_and_malformed_input_gets_a_4xx_exception_naming_the_problem() {
    state().await;
    let gf = "SERVICE=WFS&REQUEST=GetFeature&VERSION=2.0.0&TYPENAMES=geoplan:parcels";
    // XXE through a filter and through a POST body.
    let xxe = r#"<?xml version="1.0"?><!DOCTYPE f [<!ENTITY x SYSTEM "file:///etc/passwd">]><fes:Filter xmlns:fes="http://www.opengis.net/fes/2.0"><fes:PropertyIsEqualTo><fes:ValueReference>land_use_code</fes:ValueReference><fes:Literal>&x;</fes:Literal></fes:PropertyIsEqualTo></fes:Filter>"#;
    assert_4xx(&format!("{gf}&FILTER={xxe}"), false, &["DOCTYPE", "FILTER"]).await;
    let body = r#"<?xml version="1.0"?><!DOCTYPE g [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]><wfs:GetFeature service="WFS" version="2.0.0" xmlns:wfs="http://www.opengis.net/wfs/2.0"><wfs:Query typeNames="geoplan:parcels"/></wfs:GetFeature>"#;
    assert_4xx(body, true, &["DOCTYPE"]).await;
    // An undeclared entity.
    let f = filter_xml(&format!(
        "<fes:PropertyIsEqualTo>{}<fes:Literal>&xxe;</fes:Literal></fes:PropertyIsEqualTo>",
        vr("land_use_code")
    ));
    assert_4xx(&format!("{gf}&FILTER={f}"), false, &["entity"]).await;
    // 200-deep nesting.
    let deep = format!(
        "{}<fes:PropertyIsNull>{}</fes:PropertyIsNull>{}",
        "<fes:Not>".repeat(200),
        vr("land_use_code"),
        "</fes:Not>".repeat(200)
    );
    assert_4xx(
        &format!("{gf}&FILTER={}", filter_xml(&deep)),
        false,
        &["nesting", "limit"],
    )
    .await;
    // A huge OR list (the FES form of an IN list) and many resource ids.
    let or = format!(
        "<fes:Or>{}</fes:Or>",
        (0..2000)
            .map(|i| format!(
                "<fes:PropertyIsEqualTo>{}{}</fes:PropertyIsEqualTo>",
                vr("parcel_number"),
                lit(&i.to_string())
            ))
            .collect::<String>()
    );
    let (s, _, body) = wfs_post(&format!(
        "<wfs:GetFeature service=\"WFS\" version=\"2.0.0\" xmlns:wfs=\"http://www.opengis.net/wfs/2.0\"><wfs:Query typeNames=\"geoplan:parcels\">{}</wfs:Query></wfs:GetFeature>",
        filter_xml(&or)
    ))
    .await;
    assert!(s.is_client_error() && body.contains("limit"), "{s} {body}");
    let ids: Vec<String> = (1..=1500).map(|i| format!("parcels.{i}")).collect();
    assert_4xx(
        &format!(
            "SERVICE=WFS&REQUEST=GetFeature&VERSION=2.0.0&RESOURCEID={}",
            ids.join(",")
        ),
        false,
        &["RESOURCEID", "limit of 1000"],
    )
    .await;
    // Property names are looked up, never evaluated (CVE-2024-36401).
    let f = filter_xml(&format!(
        "<fes:PropertyIsEqualTo>{}{}</fes:PropertyIsEqualTo>",
        vr("exec(java.lang.Runtime.getRuntime(),'touch /tmp/x')"),
        lit("1")
    ));
    assert_4xx(
        &format!("{gf}&FILTER={f}"),
        false,
        &["InvalidParameterValue", "unknown property", "FILTER"],
    )
    .await;
    let f = filter_xml(&format!(
        "<fes:PropertyIsEqualTo>{}{}</fes:PropertyIsEqualTo>",
        vr("no_such_field"),
        lit("1")
    ));
    assert_4xx(&format!("{gf}&FILTER={f}"), false, &["no_such_field"]).await;
    // A type mismatch, a geometry with too many vertices, functions.
    let f = filter_xml(&format!(
        "<fes:PropertyIsEqualTo>{}{}</fes:PropertyIsEqualTo>",
        vr("legal_area"),
        lit("big")
    ));
    assert_4xx(&format!("{gf}&FILTER={f}"), false, &["legal_area"]).await;
    let many = (0..20_005)
        .map(|i| format!("{} {}", 561_000 + i % 100, 1_756_000 + i / 100))
        .collect::<Vec<_>>()
        .join(" ");
    let (s, _, body) = wfs_post(&format!(
        "<wfs:GetFeature service=\"WFS\" version=\"2.0.0\" xmlns:wfs=\"http://www.opengis.net/wfs/2.0\"><wfs:Query typeNames=\"geoplan:parcels\">{}</wfs:Query></wfs:GetFeature>",
        filter_xml(&format!("<fes:Intersects>{}<gml:LineString><gml:posList>{many}</gml:posList></gml:LineString></fes:Intersects>", vr("geom")))
    ))
    .await;
    assert!(
        s.is_client_error() && body.contains("vertices"),
        "{s} {body}"
    );
    // COUNT above the cap, absurd and malformed boxes, bad CRSs.
    assert_4xx(
        &format!("{gf}&COUNT=1000001"),
        false,
        &["COUNT", "limit of 1000000"],
    )
    .await;
    assert_4xx(&format!("{gf}&COUNT=-3"), false, &["COUNT"]).await;
    assert_4xx(&format!("{gf}&STARTINDEX=x"), false, &["STARTINDEX"]).await;
    assert_4xx(
        &format!("{gf}&BBOX=1e300,1e300,1e301,1e301"),
        false,
        &["BBOX"],
    )
    .await;
    assert_4xx(
        &format!("{gf}&BBOX=-1e30,-1e30,1e30,1e30,EPSG:3857"),
        false,
        &["BBOX"],
    )
    .await;
    assert_4xx(&format!("{gf}&BBOX=10,10,0,0"), false, &["BBOX"]).await;
    assert_4xx(&format!("{gf}&BBOX=1,2,3"), false, &["BBOX"]).await;
    assert_4xx(&format!("{gf}&BBOX=NaN,0,1,1"), false, &["BBOX"]).await;
    assert_4xx(
        &format!("{gf}&BBOX=0,0,1,1,EPSG:2154"),
        false,
        &["BBOX", "2154"],
    )
    .await;
    assert_4xx(&format!("{gf}&SRSNAME=EPSG:99999"), false, &["SRSNAME"]).await;
    assert_4xx(
        &format!("{gf}&OUTPUTFORMAT=application/pdf"),
        false,
        &["OUTPUTFORMAT"],
    )
    .await;
    assert_4xx(&format!("{gf}&RESULTTYPE=all"), false, &["RESULTTYPE"]).await;
    assert_4xx(&format!("{gf}&FILTER=<fes:Filter"), false, &["FILTER"]).await;
    assert_4xx(
        &format!(
            "{gf}&FILTER={}&BBOX=0,0,1,1",
            filter_xml(&format!(
                "<fes:PropertyIsNull>{}</fes:PropertyIsNull>",
                vr("address")
            ))
        ),
        false,
        &["mutually exclusive"],
    )
    .await;
    // Protocol errors.
    assert_4xx(
        "SERVICE=WFS&VERSION=2.0.0",
        false,
        &["MissingParameterValue", "REQUEST"],
    )
    .await;
    assert_4xx(
        "SERVICE=WFS&VERSION=2.0.0&REQUEST=Transaction",
        false,
        &["OperationNotSupported"],
    )
    .await;
    assert_4xx(
        "SERVICE=WFS&VERSION=2.0.0&REQUEST=Frobnicate",
        false,
        &["OperationNotSupported", "Frobnicate"],
    )
    .await;
    assert_4xx(
        "SERVICE=WFS&VERSION=7.0.0&REQUEST=GetFeature&TYPENAMES=parcels",
        false,
        &["VERSION"],
    )
    .await;
    assert_4xx(
        "SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature",
        false,
        &["MissingParameterValue", "TYPENAMES"],
    )
    .await;
    assert_4xx(
        "SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=geoplan:secret_layer",
        false,
        &["secret_layer"],
    )
    .await;
    assert_4xx(
        "SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&STOREDQUERY_ID=urn:x:evil&ID=1",
        false,
        &["STOREDQUERY_ID"],
    )
    .await;
    assert_4xx("<not-closed", true, &["OperationParsingFailed"]).await;
    // WFS 1.0 answers in its own report format.
    let (s, _, body) = wfs("SERVICE=WFS&VERSION=1.0.0&REQUEST=GetFeature&TYPENAME=nope").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(
        body.contains("<ServiceExceptionReport") && body.contains("code=\"InvalidParameterValue\""),
        "{body}"
    );
    // And after all that, the service still answers.
    let (s, _, _) = wfs("SERVICE=WFS&REQUEST=GetCapabilities").await;
    assert_eq!(s, StatusCode::OK);
}

#[tokio::test]
async fn every_output_format_parses_and_carries_the_same_features() {
    state().await;
    let q = "SERVICE=WFS&REQUEST=GetFeature&TYPENAMES=geoplan:admin_units&COUNT=5";
    let want: Vec<i64> = engine_fids(&layer("admin_units"), None, None)
        .into_iter()
        .take(5)
        .collect();
    for (fmt, marker) in [
        ("application/gml+xml; version=3.2", "gml:MultiSurface"),
        ("text/xml; subtype=gml/3.1.1", "gml:MultiPolygon"),
        ("text/xml; subtype=gml/2.1.2", "gml:outerBoundaryIs"),
    ] {
        let (s, ct, body) = wfs(&format!("{q}&VERSION=2.0.0&OUTPUTFORMAT={fmt}")).await;
        assert_eq!(s, StatusCode::OK, "{body}");
        assert_eq!(ct, fmt);
        assert!(body.contains(marker), "{fmt}");
        assert_eq!(fids(&body), want, "{fmt}");
    }
    let (_, _, body) = wfs(&format!("{q}&VERSION=2.0.0&OUTPUTFORMAT=application/json")).await;
    let j: serde_json::Value = serde_json::from_str(&body).unwrap();
    let ids: Vec<String> = j["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        ids,
        want.iter()
            .map(|f| format!("admin_units.{f}"))
            .collect::<Vec<_>>()
    );
    assert_eq!(j["features"][0]["geometry"]["type"], "MultiPolygon");
    assert_eq!(j["crs"]["properties"]["name"], "urn:ogc:def:crs:EPSG::5899");
}

// ---- real clients against a server on a loopback port ----

fn ogrinfo(args: &[&str]) -> String {
    let out = std::process::Command::new("ogrinfo")
        .args([
            "--config",
            "OGR_WFS_PAGING_ALLOWED",
            "ON",
            "--config",
            "OGR_WFS_PAGE_SIZE",
            "1000",
            "--config",
            "GDAL_HTTP_TIMEOUT",
            "120",
        ])
        .args(args)
        .output()
        .expect("ogrinfo (gdal-bin) runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "ogrinfo {args:?} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn count_features(ogr_out: &str) -> usize {
    ogr_out
        .lines()
        .filter(|l| l.starts_with("OGRFeature("))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gdal_lists_every_layer_and_reads_whole_layers_and_bboxes_with_paging() {
    let (addr, st) = common::serve_sample(Config::default()).await;
    let url = format!("WFS:http://{addr}/wfs");
    let cat = st.data.engine.snapshot();
    let listed = tokio::task::spawn_blocking({
        let url = url.clone();
        move || ogrinfo(&["-ro", &url])
    })
    .await
    .unwrap();
    for l in cat.layers() {
        assert!(
            listed.contains(&format!(": geoplan:{} ", l.id)),
            "{} missing:\n{listed}",
            l.id
        );
    }
    // The whole parcels layer, 1000 per page.
    let parcels = cat.layer("parcels").unwrap().clone();
    let all = tokio::task::spawn_blocking({
        let url = url.clone();
        move || ogrinfo(&["-ro", "-al", "-q", "-geom=NO", &url, "geoplan:parcels"])
    })
    .await
    .unwrap();
    assert_eq!(count_features(&all), parcels.len());
    assert_eq!(parcels.len(), 20_000);
    // -spat in the layer's CRS (5899), against the engine.
    let (lo, hi) = crs::transform_bbox(Crs::Crs84, Crs::Epsg(5899), HOI_AN.0, HOI_AN.1).unwrap();
    let want = engine_fids(
        &parcels,
        Some(Spatial::Bbox(merc_rect(Crs::Epsg(5899), lo, hi))),
        None,
    );
    let spat = tokio::task::spawn_blocking({
        let url = url.clone();
        let s = [lo.x, lo.y, hi.x, hi.y].map(|v| v.to_string());
        move || {
            ogrinfo(&[
                "-ro",
                "-al",
                "-q",
                "-geom=NO",
                "-spat",
                &s[0],
                &s[1],
                &s[2],
                &s[3],
                &url,
                "geoplan:parcels",
            ])
        }
    })
    .await
    .unwrap();
    assert!(want.len() > 50);
    assert_eq!(count_features(&spat), want.len());
    // A smaller layer read whole with its geometry, in WFS 1.1.
    let url11 = format!("WFS:http://{addr}/wfs?VERSION=1.1.0");
    let roads = tokio::task::spawn_blocking(move || {
        ogrinfo(&["-ro", "-al", "-q", &url11, "geoplan:roads"])
    })
    .await
    .unwrap();
    assert_eq!(count_features(&roads), cat.layer("roads").unwrap().len());
    assert!(roads.contains("LINESTRING ("));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn owslib_reads_wfs_2_0_and_1_1_with_bbox_and_paging() {
    let (addr, st) = common::serve_sample(Config::default()).await;
    let base = format!("http://{addr}/wfs");
    let cat = st.data.engine.snapshot();
    let l = cat.layer("parcels").unwrap().clone();
    let (lo, hi) = HOI_AN;
    let want = engine_fids(&l, Some(Spatial::Bbox(merc_rect(Crs::Crs84, lo, hi))), None);
    let bbox = format!("{},{},{},{}", lo.x, lo.y, hi.x, hi.y);
    let out =
        tokio::task::spawn_blocking(move || common::run_client("wfs_owslib.py", &base, &[&bbox]))
            .await
            .unwrap();
    let j: serde_json::Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
    let layers: Vec<String> = cat.layers().map(|l| format!("geoplan:{}", l.id)).collect();
    for v in ["2.0.0", "1.1.0"] {
        let r = &j[v];
        let names: Vec<String> = serde_json::from_value(r["layers"].clone()).unwrap();
        assert_eq!(names, layers, "{v}");
        let got: Vec<i64> = serde_json::from_value(r["bbox_fids"].clone()).unwrap();
        assert_eq!(got, want, "{v} bbox");
        let paged: Vec<i64> = serde_json::from_value(r["paged_fids"].clone()).unwrap();
        assert_eq!(paged, want, "{v} paged");
    }
}

#[tokio::test]
async fn a_large_getfeature_streams_in_bounded_chunks() {
    state().await;
    let res = app(state().await.clone())
        .oneshot(
            Request::get("/wfs?SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=geoplan:parcels&COUNT=20000")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    // A streamed body has no length known up front.
    assert!(res.headers().get("content-length").is_none());
    let mut body = res.into_body();
    let (mut frames, mut largest, mut total) = (0usize, 0usize, Vec::new());
    while let Some(f) = body.frame().await {
        let data = f.unwrap().into_data().unwrap();
        frames += 1;
        largest = largest.max(data.len());
        total.extend_from_slice(&data);
    }
    // ~18 MB of GML arrives in chunks of about 64 KiB, never as one piece.
    assert!(total.len() > 5_000_000, "{}", total.len());
    assert!(frames > 50, "{frames} frames");
    assert!(largest < 96 * 1024, "largest chunk {largest} bytes");
    assert_eq!(fids(std::str::from_utf8(&total).unwrap()).len(), 20_000);
}

#[tokio::test]
async fn a_form_encoded_post_is_read_as_kvp() {
    let (s, _, body) = call(
        Request::post("/wfs")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(
                "SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=geoplan%3Aroads&COUNT=3",
            ))
            .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(fids(&body), vec![1, 2, 3]);
}

#[tokio::test]
async fn the_qgis_request_sequence_pages_through_every_parcel_once() {
    state().await;
    let (s, _, _) =
        wfs("SERVICE=WFS&REQUEST=GetCapabilities&ACCEPTVERSIONS=2.0.0,1.1.0,1.0.0").await;
    assert_eq!(s, StatusCode::OK);
    let (s, _, _) = wfs("SERVICE=WFS&VERSION=2.0.0&REQUEST=DescribeFeatureType&TYPENAME=geoplan:parcels&TYPENAMES=geoplan:parcels&NAMESPACES=xmlns(geoplan,https://geoplan.danang.gov.vn/ns)").await;
    assert_eq!(s, StatusCode::OK);
    let world =
        "SRSNAME=urn:ogc:def:crs:EPSG::4326&BBOX=-90,-180,90,180,urn:ogc:def:crs:EPSG::4326";
    let gf = "SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=geoplan:parcels";
    let (s, _, body) = wfs(&format!("{gf}&STARTINDEX=0&COUNT=1&{world}")).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let n = layer("parcels").len();
    assert_eq!(
        parse(&body).attr("numberMatched"),
        Some(n.to_string().as_str())
    );
    let mut all = Vec::new();
    let mut firsts = Vec::new();
    for start in (0..n).step_by(1000) {
        let (s, _, body) = wfs(&format!("{gf}&STARTINDEX={start}&COUNT=1000&{world}")).await;
        assert_eq!(s, StatusCode::OK);
        let page = fids(&body);
        assert_eq!(page.len(), 1000.min(n - start));
        firsts.push(page[0]);
        all.extend(page);
    }
    firsts.dedup();
    assert_eq!(
        firsts.len(),
        n.div_ceil(1000),
        "a page starts where another did"
    );
    assert_eq!(all, engine_fids(&layer("parcels"), None, None));
}

#[tokio::test]
async fn the_handler_answers_when_called_directly_as_a_combined_ows_endpoint_would() {
    let s = state().await.clone();
    let kvp = geoplan::ogc::kvp::Kvp::parse(
        "service=wfs&request=GetFeature&typeNames=geoplan:pois&count=2",
    );
    let res =
        geoplan::http::wfs::handle(s.clone(), axum::http::HeaderMap::new(), kvp, None, None).await;
    assert_eq!(res.status(), StatusCode::OK);
    let body = res.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(fids(std::str::from_utf8(&body).unwrap()), vec![1, 2]);
    // An XML body wins over the (empty) query string.
    let res = geoplan::http::wfs::handle(
        s,
        axum::http::HeaderMap::new(),
        geoplan::ogc::kvp::Kvp::default(),
        Some(axum::body::Bytes::from_static(
            br#"<GetCapabilities service="WFS" xmlns="http://www.opengis.net/wfs/2.0"><AcceptVersions xmlns="http://www.opengis.net/ows/1.1"><Version>1.1.0</Version></AcceptVersions></GetCapabilities>"#,
        )),
        None,
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body = res.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(
        parse(std::str::from_utf8(&body).unwrap()).attr("version"),
        Some("1.1.0")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_reading_is_let_go_after_the_request_timeout() {
    let store = Store::Gpkg(GpkgStore::open(SAMPLE).unwrap());
    let mut cfg = Config::default();
    cfg.limits.request_timeout_secs = 1;
    let s = AppState::new(store, cfg);
    s.load_all().await.unwrap();
    let res = app(s)
        .oneshot(
            Request::get("/wfs?SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=geoplan:parcels&COUNT=20000")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    // Read nothing for three timeouts: the writer gives up and the body
    // ends short (what was queued, then the end), instead of holding a
    // blocking thread for ever.
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    let body = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        res.into_body().collect(),
    )
    .await
    .expect("the body ends")
    .map(|b| b.to_bytes().len())
    .unwrap_or(0);
    assert!(body < 1_000_000, "{body} bytes: the writer kept going");
}

#[tokio::test]
async fn a_flood_of_type_names_or_queries_is_refused_and_repeats_collapse() {
    let (_addr, s) = common::serve_sample(geoplan::config::Config::default()).await;
    let router = geoplan::http::app(s);
    let get = |uri: String| {
        let r = router.clone();
        async move {
            use tower::ServiceExt;
            let res = r
                .oneshot(
                    axum::http::Request::get(uri)
                        .body(axum::body::Body::empty())
                        .unwrap(),
                )
                .await
                .unwrap();
            let st = res.status();
            let b = http_body_util::BodyExt::collect(res.into_body())
                .await
                .unwrap()
                .to_bytes();
            (st, String::from_utf8_lossy(&b).into_owned())
        }
    };
    let many = vec!["geoplan:parcels"; 2000].join(",");
    // Repeats of one name are one type.
    let (st, doc) = get(format!(
        "/wfs?SERVICE=WFS&VERSION=2.0.0&REQUEST=DescribeFeatureType&TYPENAMES={many}"
    ))
    .await;
    assert_eq!(st, 200, "{doc}");
    assert_eq!(doc.matches("complexType name=").count(), 1, "{doc}");
    let distinct: Vec<String> = (0..100).map(|i| format!("geoplan:t{i}")).collect();
    let (st, doc) = get(format!(
        "/wfs?SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES={}",
        distinct.join(",")
    ))
    .await;
    assert_eq!(st, 400, "{doc}");
    assert!(doc.contains("limit of 64"), "{doc}");
}

/// A layer stored in a geographic CRS (EPSG:4326) is served, without
/// SRSNAME, under the URN of that CRS; in WFS 2.0 and 1.1 the URN means
/// lat,lon, so that is the order written (and read back from a BBOX).
#[tokio::test]
async fn a_layer_stored_in_4326_is_written_lat_lon_under_its_urn() {
    use geoplan::model::{GeometryType, LayerDataBuilder};
    let state = AppState::new(
        Store::Gpkg(GpkgStore::open(SAMPLE).unwrap()),
        Config::default(),
    );
    let mut b = LayerDataBuilder::new("wells", 4326, GeometryType::Point, vec![]);
    b.push(
        1,
        Some(&Geometry::Point(geo_types::Point::new(108.2, 16.05))),
        vec![],
    )
    .unwrap();
    let layer = Layer::new(b.finish().unwrap(), Default::default()).unwrap();
    state.data.engine.publish_all(vec![layer]);
    let router = app(state);
    for (v, want_first) in [("2.0.0", 16.05), ("1.1.0", 16.05), ("1.0.0", 108.2)] {
        let res = router
            .clone()
            .oneshot(
                Request::get(format!(
                    "/wfs?SERVICE=WFS&VERSION={v}&REQUEST=GetFeature&TYPENAME=geoplan:wells"
                ))
                .body(Body::empty())
                .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let doc = String::from_utf8(res.into_body().collect().await.unwrap().to_bytes().to_vec())
            .unwrap();
        let pos = doc
            .split("<gml:pos")
            .nth(1)
            .or_else(|| doc.split("<gml:coordinates").nth(1))
            .unwrap_or_else(|| panic!("{v}: no position in {doc}"));
        let text = &pos[pos.find('>').unwrap() + 1..];
        let first: f64 = text.split([' ', ',', '<']).next().unwrap().parse().unwrap();
        assert!((first - want_first).abs() < 1e-6, "{v}: {text:.40}");
    }
}

// ---- issue #11, finding 1: WFS 1.x never cuts a layer silently ----

#[tokio::test]
async fn wfs_1_x_without_maxfeatures_returns_every_feature_and_2_0_says_more_exist() {
    state().await;
    let all = engine_fids(&layer("parcels"), None, None);
    assert_eq!(all.len(), 20_000);
    for v in ["1.1.0", "1.0.0"] {
        let (s, _, body) = wfs(&format!(
            "SERVICE=WFS&VERSION={v}&REQUEST=GetFeature&TYPENAME=geoplan:parcels"
        ))
        .await;
        assert_eq!(s, StatusCode::OK, "{v}: {}", &body[..body.len().min(500)]);
        assert_eq!(fids(&body), all, "WFS {v} without MAXFEATURES");
        if v == "1.1.0" {
            assert_eq!(parse(&body).attr("numberOfFeatures"), Some("20000"));
        }
    }
    // MAXFEATURES still pages.
    let (_, _, body) =
        wfs("SERVICE=WFS&VERSION=1.1.0&REQUEST=GetFeature&TYPENAME=geoplan:parcels&MAXFEATURES=7")
            .await;
    assert_eq!(fids(&body), all[..7]);
    // WFS 2.0 pages at CountDefault and says so.
    let (s, _, body) =
        wfs("SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=geoplan:parcels").await;
    assert_eq!(s, StatusCode::OK);
    let root = parse(&body);
    assert_eq!(root.attr("numberMatched"), Some("20000"));
    assert_eq!(root.attr("numberReturned"), Some("1000"));
    assert!(
        root.attr("next")
            .is_some_and(|n| n.contains("STARTINDEX=1000")),
        "{:?}",
        root.attr("next")
    );
}

#[tokio::test]
async fn wfs_1_x_refuses_rather_than_cuts_when_a_layer_exceeds_the_response_limit() {
    let store = Store::Gpkg(GpkgStore::open(SAMPLE).unwrap());
    let mut cfg = Config::default();
    cfg.limits.max_wfs_count = 500;
    let s = AppState::new(store, cfg);
    s.load_all().await.unwrap();
    for (q, status) in [
        (
            "VERSION=1.1.0&REQUEST=GetFeature&TYPENAME=geoplan:parcels",
            400,
        ),
        (
            "VERSION=1.0.0&REQUEST=GetFeature&TYPENAME=geoplan:parcels",
            400,
        ),
        // The last page of a layer fits, and so does a small layer.
        (
            "VERSION=1.1.0&REQUEST=GetFeature&TYPENAME=geoplan:parcels&STARTINDEX=19600",
            200,
        ),
        (
            "VERSION=1.1.0&REQUEST=GetFeature&TYPENAME=geoplan:pois",
            200,
        ),
        (
            "VERSION=1.1.0&REQUEST=GetFeature&TYPENAME=geoplan:parcels&RESULTTYPE=hits",
            200,
        ),
    ] {
        let res = app(s.clone())
            .oneshot(
                Request::get(format!("/wfs?SERVICE=WFS&{q}"))
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), status, "{q}");
        let body = res.into_body().collect().await.unwrap().to_bytes();
        let body = String::from_utf8(body.to_vec()).unwrap();
        if status == 400 {
            assert!(
                body.contains("MAXFEATURES") && body.contains("20000 features match"),
                "{body}"
            );
        } else if q.contains("STARTINDEX") {
            assert_eq!(fids(&body).len(), 400);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gdal_reads_all_20000_parcels_over_wfs_1_1_0() {
    let (addr, st) = common::serve_sample(Config::default()).await;
    let n = st.data.engine.snapshot().layer("parcels").unwrap().len();
    assert_eq!(n, 20_000);
    // As QGIS or ArcGIS read WFS 1.1: no paging, one GetFeature.
    let url = format!("WFS:http://{addr}/wfs?VERSION=1.1.0");
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new("ogrinfo")
            .args(["--config", "OGR_WFS_PAGING_ALLOWED", "OFF"])
            .args(["--config", "GDAL_HTTP_TIMEOUT", "120"])
            .args(["-ro", "-al", "-q", "-geom=NO", &url, "geoplan:parcels"])
            .output()
            .expect("ogrinfo (gdal-bin) runs")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(count_features(&stdout), n);
}

// ---- issue #11, finding 2: schemas that validate, and features that validate against them ----

/// The WFS namespace and official schema of a version's responses.
fn wfs_schema(v: &str) -> (&'static str, &'static str) {
    match v {
        "2.0.0" => (
            "http://www.opengis.net/wfs/2.0",
            "http://schemas.opengis.net/wfs/2.0/wfs.xsd",
        ),
        "1.1.0" => (
            "http://www.opengis.net/wfs",
            "http://schemas.opengis.net/wfs/1.1.0/wfs.xsd",
        ),
        _ => (
            "http://www.opengis.net/wfs",
            "http://schemas.opengis.net/wfs/1.0.0/WFS-basic.xsd",
        ),
    }
}

#[tokio::test]
async fn describe_feature_type_validates_and_every_getfeature_validates_against_it() {
    state().await;
    let ns = state().await.data.config.ogc.namespace_uri.clone();
    let cat = state().await.data.engine.snapshot();
    let ids: Vec<String> = cat.layers().map(|l| l.id.clone()).collect();
    assert!(ids.len() >= 10, "{ids:?}");
    for v in ["2.0.0", "1.1.0", "1.0.0"] {
        let (wfs_ns, wfs_xsd) = wfs_schema(v);
        let tn = if v == "2.0.0" {
            "TYPENAMES"
        } else {
            "TYPENAME"
        };
        let cnt = if v == "2.0.0" { "COUNT" } else { "MAXFEATURES" };
        // One schema for every layer, as QGIS asks for it.
        let (s, _, all_xsd) = wfs(&format!(
            "SERVICE=WFS&VERSION={v}&REQUEST=DescribeFeatureType"
        ))
        .await;
        assert_eq!(s, StatusCode::OK, "{all_xsd}");
        for id in &ids {
            let (s, _, xsd) = wfs(&format!(
                "SERVICE=WFS&VERSION={v}&REQUEST=DescribeFeatureType&{tn}=geoplan:{id}"
            ))
            .await;
            assert_eq!(s, StatusCode::OK, "{xsd}");
            // Whole layers, but at most 2000 parcels (the same writer).
            let (s, _, doc) = wfs(&format!(
                "SERVICE=WFS&VERSION={v}&REQUEST=GetFeature&{tn}=geoplan:{id}&{cnt}=2000"
            ))
            .await;
            assert_eq!(s, StatusCode::OK, "{doc}");
            assert!(!fids(&doc).is_empty(), "{v} {id}: no features");
            for (what, schema) in [("its own schema", &xsd), ("the schema of all", &all_xsd)] {
                common::assert_schema_valid(
                    &format!("WFS {v} GetFeature of {id} against {what}"),
                    &doc,
                    &[(wfs_ns, wfs_xsd), (&ns, schema)],
                );
            }
        }
    }
    // WFS 2.0 also offers the older dialects (in namespaces of their own,
    // inside wfs:member): each validates against its own schema.
    let (wfs_ns, wfs_xsd) = wfs_schema("2.0.0");
    for f in ["text/xml; subtype=gml/3.1.1", "text/xml; subtype=gml/2.1.2"] {
        for id in ["parcels", "roads", "pois", "admin_units"] {
            let (s, _, xsd) = wfs(&format!(
                "SERVICE=WFS&VERSION=2.0.0&REQUEST=DescribeFeatureType&TYPENAMES=geoplan:{id}&OUTPUTFORMAT={f}"
            ))
            .await;
            assert_eq!(s, StatusCode::OK, "{xsd}");
            let (s, _, doc) = wfs(&format!(
                "SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=geoplan:{id}&COUNT=500&OUTPUTFORMAT={f}"
            ))
            .await;
            assert_eq!(s, StatusCode::OK, "{doc}");
            assert!(!fids(&doc).is_empty());
            common::assert_schema_valid(
                &format!("WFS 2.0.0 GetFeature of {id} in {f}"),
                &doc,
                &[(wfs_ns, wfs_xsd), (&ns, &xsd)],
            );
        }
    }
    // GetFeatureById answers the bare feature, valid against its schema.
    let (_, _, xsd) =
        wfs("SERVICE=WFS&VERSION=2.0.0&REQUEST=DescribeFeatureType&TYPENAMES=geoplan:admin_units")
            .await;
    let (s, _, doc) = wfs(&format!(
        "SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&STOREDQUERY_ID={}&ID=admin_units.1",
        geoplan::ogc::wfs::GET_FEATURE_BY_ID
    ))
    .await;
    assert_eq!(s, StatusCode::OK, "{doc}");
    common::assert_schema_valid("GetFeatureById", &doc, &[(&ns, &xsd)]);
}

#[test]
fn the_schema_check_catches_a_type_gml_3_2_does_not_define() {
    // The validator itself: GML 3.2 has no gml:PolygonPropertyType.
    let xsd = r#"<xsd:schema xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:gml="http://www.opengis.net/gml/3.2" targetNamespace="urn:t" elementFormDefault="qualified"><xsd:import namespace="http://www.opengis.net/gml/3.2" schemaLocation="http://schemas.opengis.net/gml/3.2.1/gml.xsd"/><xsd:element name="g" type="gml:PolygonPropertyType"/></xsd:schema>"#;
    let e = common::xml_schema_errors(r#"<g xmlns="urn:t"/>"#, &[("urn:t", xsd)]);
    assert!(e.contains("PolygonPropertyType"), "{e}");
}

// ---- issue #11, finding 6: what the WFS 2.0 ETS asserts ----

#[tokio::test]
async fn a_kvp_request_without_service_is_a_missing_parameter_exception() {
    // ets-wfs20 SimpleCapabilitiesTests.getCapabilities_missingServiceParam.
    for q in [
        "REQUEST=GetCapabilities",
        "REQUEST=GetFeature&VERSION=2.0.0&TYPENAMES=geoplan:pois",
        "REQUEST=DescribeFeatureType&VERSION=2.0.0",
        "SERVICE=&REQUEST=GetCapabilities",
    ] {
        let (s, _, body) = wfs(q).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{q}: {body}");
        let root = parse(&body);
        assert!(root.is("ExceptionReport"), "{body}");
        assert_eq!(root.attr("version"), Some("2.0.0"));
        let e = root.child("Exception").unwrap();
        assert_eq!(e.attr("exceptionCode"), Some("MissingParameterValue"));
        assert_eq!(e.attr("locator"), Some("SERVICE"));
        assert!(!e.child("ExceptionText").unwrap().text().is_empty());
        common::assert_schema_valid(
            "WFS 2.0 exception report",
            &body,
            &[(
                "http://www.opengis.net/ows/1.1",
                "http://schemas.opengis.net/ows/1.1.0/owsExceptionReport.xsd",
            )],
        );
    }
    // /ows still finds the service from REQUEST (README).
    let (s, _, body) = call(
        Request::get("/ows?REQUEST=GetFeature&VERSION=2.0.0&TYPENAMES=geoplan:pois&COUNT=2")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(fids(&body), vec![1, 2]);
}

#[tokio::test]
async fn hits_count_everything_and_link_to_the_first_page_of_results() {
    // ets-wfs20 PagingTests.getFeatureWithHitsOnly and
    // traverseResultSetInBothDirections.
    state().await;
    let n = layer("roads").len();
    let (s, _, body) = wfs(
        "SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=geoplan:roads&COUNT=1&RESULTTYPE=hits",
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let root = parse(&body);
    assert!(root.is("FeatureCollection"));
    assert_eq!(root.attr("numberMatched"), Some(n.to_string().as_str()));
    assert_eq!(root.attr("numberReturned"), Some("0"));
    assert!(root.children.is_empty());
    assert_eq!(root.attr("previous"), None);
    let next = root
        .attr("next")
        .expect("a hits answer links to its results");
    let first = next.strip_prefix(BASE).unwrap();
    assert!(
        !first.to_ascii_uppercase().contains("RESULTTYPE"),
        "{first}"
    );
    let (s, _, page1) = call(Request::get(first).body(Body::empty()).unwrap()).await;
    assert_eq!(s, StatusCode::OK);
    let p1 = parse(&page1);
    assert_eq!(p1.attr("numberReturned"), Some("1"));
    assert_eq!(fids(&page1), vec![1]);
    assert_eq!(p1.attr("previous"), None);
    // Forward and back again.
    let next = p1
        .attr("next")
        .unwrap()
        .strip_prefix(BASE)
        .unwrap()
        .to_owned();
    let (_, _, page2) = call(Request::get(&next).body(Body::empty()).unwrap()).await;
    let p2 = parse(&page2);
    assert_eq!(fids(&page2), vec![2]);
    let prev = p2
        .attr("previous")
        .unwrap()
        .strip_prefix(BASE)
        .unwrap()
        .to_owned();
    let (_, _, back) = call(Request::get(&prev).body(Body::empty()).unwrap()).await;
    assert_eq!(fids(&back), vec![1]);
    // The last page has no next.
    let (_, _, last) = wfs(&format!(
        "SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=geoplan:roads&COUNT=5&STARTINDEX={}",
        n - 2
    ))
    .await;
    let l = parse(&last);
    assert_eq!(l.attr("numberReturned"), Some("2"));
    assert_eq!(l.attr("next"), None);
    assert!(l.attr("previous").is_some());
    // Hits past the end: nothing to link to.
    let (_, _, body) = wfs(&format!(
        "SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=geoplan:roads&RESULTTYPE=hits&STARTINDEX={n}"
    ))
    .await;
    assert_eq!(parse(&body).attr("next"), None);
}

#[tokio::test]
async fn get_property_value_answers_simple_properties_geometry_and_gml_ids() {
    // Capabilities claim only what is implemented: GetPropertyValue is an
    // operation of Basic WFS, and it answers.
    state().await;
    let (_, _, caps) = wfs("SERVICE=WFS&REQUEST=GetCapabilities&VERSION=2.0.0").await;
    assert!(caps.contains("<ows:Operation name=\"GetPropertyValue\">"));
    assert!(caps.contains("ImplementsBasicWFS\"><ows:NoValues/><ows:DefaultValue>TRUE"));
    let l = layer("pois");
    let n = l.len();
    let gpv = "SERVICE=WFS&VERSION=2.0.0&REQUEST=GetPropertyValue&TYPENAMES=geoplan:pois";
    // ets-wfs20 GetPropertyValueTests.getProperty_gmlId.
    let (s, ct, body) = wfs(&format!("{gpv}&VALUEREFERENCE=@gml:id")).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert!(ct.contains("xml"), "{ct}");
    let root = parse(&body);
    assert!(root.is("ValueCollection"), "{body}");
    assert_eq!(root.attr("numberMatched"), Some(n.to_string().as_str()));
    let ids: Vec<String> = root
        .children_named("member")
        .map(|m| m.text().to_owned())
        .collect();
    let want: Vec<String> = engine_fids(&l, None, None)
        .iter()
        .map(|f| format!("pois.{f}"))
        .collect();
    assert_eq!(ids, want);
    assert_eq!(root.attr("numberReturned"), Some(n.to_string().as_str()));
    // A simple property, prefixed or not, with paging.
    let field = l.fields()[l.fields_for(geoplan::model::access::Role::Public)[0]]
        .name
        .clone();
    let col = l.fields_for(geoplan::model::access::Role::Public)[0];
    let want: Vec<String> = (0..3)
        .map(|i| {
            let r = l.get(engine_fids(&l, None, None)[i]).unwrap();
            match l.data(r.part).value(r.row as usize, col) {
                geoplan::model::ValueRef::Text(t) => t.to_owned(),
                geoplan::model::ValueRef::Int(i) => i.to_string(),
                geoplan::model::ValueRef::Real(v) => v.to_string(),
                geoplan::model::ValueRef::Bool(b) => b.to_string(),
                geoplan::model::ValueRef::Null => String::new(),
            }
        })
        .collect();
    for vr in [field.clone(), format!("geoplan:{field}")] {
        let (s, _, body) = wfs(&format!("{gpv}&VALUEREFERENCE={vr}&COUNT=3")).await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let root = parse(&body);
        let got: Vec<String> = root
            .children_named("member")
            .map(|m| m.text().to_owned())
            .collect();
        assert_eq!(got, want, "{vr}");
        assert!(root.attr("next").is_some());
    }
    // The geometry, as GML 3.2.
    let (_, _, body) = wfs(&format!("{gpv}&VALUEREFERENCE=geom&COUNT=2")).await;
    let root = parse(&body);
    let members: Vec<&Element> = root.children_named("member").collect();
    assert_eq!(members.len(), 2);
    assert!(members.iter().all(|m| m.child("Point").is_some()), "{body}");
    // As XML (POST), valid against the WFS 2.0 schema.
    let post = r#"<wfs:GetPropertyValue service="WFS" version="2.0.0" count="4" valueReference="@gml:id" xmlns:wfs="http://www.opengis.net/wfs/2.0" xmlns:geoplan="https://geoplan.danang.gov.vn/ns"><wfs:Query typeNames="geoplan:pois"/></wfs:GetPropertyValue>"#.to_string();
    let (s, _, body) = wfs_post(&post).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(parse(&body).children_named("member").count(), 4);
    common::assert_schema_valid(
        "GetPropertyValue",
        &body,
        &[(
            "http://www.opengis.net/wfs/2.0",
            "http://schemas.opengis.net/wfs/2.0/wfs.xsd",
        )],
    );
    // ets-wfs20 getProperty_emptyValueRef, and other bad references.
    for (q, code) in [
        ("VALUEREFERENCE=", "InvalidParameterValue"),
        ("VALUEREFERENCE=no_such_property", "InvalidParameterValue"),
        (
            "VALUEREFERENCE=@gml:id&OUTPUTFORMAT=application/json",
            "InvalidParameterValue",
        ),
        ("COUNT=1", "MissingParameterValue"),
    ] {
        let (s, _, body) = wfs(&format!("{gpv}&{q}")).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{q}: {body}");
        assert!(body.contains(code), "{q}: {body}");
    }
    let post_empty = post.replace("valueReference=\"@gml:id\"", "valueReference=\"\"");
    let (s, _, body) = wfs_post(&post_empty).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(body.contains("InvalidParameterValue"), "{body}");
    // Not a WFS 1.x operation.
    let (s, _, body) = wfs(
        "SERVICE=WFS&VERSION=1.1.0&REQUEST=GetPropertyValue&TYPENAME=geoplan:pois&VALUEREFERENCE=@gml:id",
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(body.contains("OperationNotSupported"), "{body}");
}

/// The official WFS 1.0.0 capabilities schema, completed with the
/// `wfs:EmptyType` it uses (its own definition is commented out).
const WFS10_CAPABILITIES: &str = r#"<?xml version="1.0"?>
<xsd:schema xmlns:xsd="http://www.w3.org/2001/XMLSchema" targetNamespace="http://www.opengis.net/wfs">
  <xsd:include schemaLocation="http://schemas.opengis.net/wfs/1.0.0/WFS-capabilities.xsd"/>
  <xsd:complexType name="EmptyType"/>
</xsd:schema>"#;

#[tokio::test]
async fn wfs_capabilities_validate_against_the_official_schemas() {
    for (v, ns, xsd) in [
        (
            "2.0.0",
            "http://www.opengis.net/wfs/2.0",
            "http://schemas.opengis.net/wfs/2.0/wfs.xsd",
        ),
        (
            "1.1.0",
            "http://www.opengis.net/wfs",
            "http://schemas.opengis.net/wfs/1.1.0/wfs.xsd",
        ),
        // The official WFS-capabilities.xsd of 1.0.0 uses wfs:EmptyType
        // but has its definition commented out (WFS-transaction.xsd holds
        // it, and cannot be imported beside it: both claim the ogc
        // namespace with different files). Completed with that one empty
        // type, exactly as the transaction schema defines it.
        ("1.0.0", "http://www.opengis.net/wfs", WFS10_CAPABILITIES),
    ] {
        let (s, _, caps) = wfs(&format!("SERVICE=WFS&REQUEST=GetCapabilities&VERSION={v}")).await;
        assert_eq!(s, StatusCode::OK);
        common::assert_schema_valid(&format!("WFS {v} capabilities"), &caps, &[(ns, xsd)]);
    }
}
