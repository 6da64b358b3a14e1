//! WMS 1.3.0 and 1.1.1 over the committed sample, through the router as a
//! client calls it: capabilities that list every layer with bounding boxes
//! in each version's axis order; maps whose pixels carry the land-use
//! colour of the parcel under them in every CRS spelling and axis order;
//! JPEG, INIMAGE, BLANK; every exception code; feature info in four
//! formats with Vietnamese intact; legends; hostile input; and the real
//! clients OWSLib and GDAL.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use geo::{Area, InteriorPoint};
use geo_types::{Coord, Geometry};
use geoplan::config::Config;
use geoplan::crs::{self, Crs, WEB_MERCATOR};
use geoplan::http::{app, AppState};
use geoplan::model::ValueRef;
use geoplan::store::{gpkg::GpkgStore, Store};
use http_body_util::BodyExt;
use serde_json::Value;
use std::collections::BTreeMap;
use tokio::sync::OnceCell;
use tower::ServiceExt;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const PUBLIC: &str = "https://geo.example.vn/gis";

static STATE: OnceCell<AppState> = OnceCell::const_new();

async fn state() -> &'static AppState {
    STATE
        .get_or_init(|| async {
            let store = Store::Gpkg(GpkgStore::open(format!("{ROOT}/data/sample.gpkg")).unwrap());
            let cfg = Config {
                public_url: Some(PUBLIC.into()),
                ..Config::default()
            };
            let s = AppState::new(store, cfg);
            s.load_all().await.unwrap();
            s
        })
        .await
}

struct Resp {
    status: StatusCode,
    ct: String,
    body: Vec<u8>,
}

impl Resp {
    fn text(&self) -> String {
        String::from_utf8(self.body.clone()).expect("UTF-8 body")
    }
}

async fn wms(query: &str) -> Resp {
    let res = app(state().await.clone())
        .oneshot(
            Request::get(format!("/wms?{query}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    let status = res.status();
    let ct = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = res.into_body().collect().await.unwrap().to_bytes().to_vec();
    Resp { status, ct, body }
}

/// Decoded RGBA pixels (not premultiplied).
struct Image {
    w: u32,
    h: u32,
    px: Vec<[u8; 4]>,
}

impl Image {
    fn at(&self, x: u32, y: u32) -> [u8; 4] {
        self.px[(y * self.w + x) as usize]
    }
}

fn decode_png(b: &[u8]) -> Image {
    let pm = tiny_skia::Pixmap::decode_png(b).expect("a PNG");
    Image {
        w: pm.width(),
        h: pm.height(),
        px: pm
            .pixels()
            .iter()
            .map(|p| {
                let c = p.demultiply();
                [c.red(), c.green(), c.blue(), c.alpha()]
            })
            .collect(),
    }
}

/// Decodes any raster GDAL reads (JPEG here) into RGB pixels.
fn decode_gdal(b: &[u8], ext: &str) -> Image {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join(format!("img.{ext}"));
    std::fs::write(&p, b).unwrap();
    let ds = gdal::Dataset::open(&p).expect("GDAL opens the image");
    let (w, h) = ds.raster_size();
    let bands: Vec<Vec<u8>> = (1..=3)
        .map(|i| {
            ds.rasterband(i)
                .unwrap()
                .read_as::<u8>((0, 0), (w, h), (w, h), None)
                .unwrap()
                .data()
                .to_vec()
        })
        .collect();
    Image {
        w: w as u32,
        h: h as u32,
        px: (0..w * h)
            .map(|i| [bands[0][i], bands[1][i], bands[2][i], 255])
            .collect(),
    }
}

/// The land-use colours of the planning style (`parcels-fill`).
fn landuse_colours() -> BTreeMap<String, [u8; 3]> {
    let style: Value = serde_json::from_str(
        &std::fs::read_to_string(format!("{ROOT}/styles/planning.json")).unwrap(),
    )
    .unwrap();
    let fill = style["layers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["id"] == "parcels-fill")
        .unwrap()["paint"]["fill-color"]
        .as_array()
        .unwrap()
        .clone();
    let hex = |s: &str| {
        let v = |i| u8::from_str_radix(&s[i..i + 2], 16).unwrap();
        [v(1), v(3), v(5)]
    };
    fill[2..fill.len() - 1]
        .chunks(2)
        .map(|c| {
            (
                c[0].as_str().unwrap().to_owned(),
                hex(c[1].as_str().unwrap()),
            )
        })
        .collect()
}

/// A sample parcel for pixel checks: Web Mercator interior point, its
/// land-use code, fid, address; big enough that a 64-pixel map at about
/// 1 m per pixel shows its fill around the centre.
struct Parcel {
    fid: i64,
    at: Coord<f64>,
    code: String,
    address: String,
}

async fn a_parcel() -> Parcel {
    let cat = state().await.data.engine.snapshot();
    let l = cat.layer("parcels").unwrap();
    let data = l.data(geoplan::engine::Part::Base);
    let code_col = data.field_index("land_use_code").unwrap();
    let addr_col = data.field_index("address").unwrap();
    for row in (0..data.len()).step_by(97) {
        let Some(Geometry::Polygon(p)) = data.geometry_of(row) else {
            continue;
        };
        // Web Mercator m² are ~8% larger than ground here; 600 is plenty.
        if p.unsigned_area() < 600.0 {
            continue;
        }
        let address = match data.value(row, addr_col) {
            ValueRef::Text(t) if !t.is_ascii() => t.to_owned(),
            _ => continue,
        };
        let ValueRef::Text(code) = data.value(row, code_col) else {
            continue;
        };
        let at = p.interior_point().unwrap().0;
        // The interior point must be well inside: 4 m from every edge.
        let probe = |dx: f64, dy: f64| {
            data.geometry.contains_point(
                row,
                Coord {
                    x: at.x + dx,
                    y: at.y + dy,
                },
            )
        };
        if !(probe(4.0, 0.0) && probe(-4.0, 0.0) && probe(0.0, 4.0) && probe(0.0, -4.0)) {
            continue;
        }
        return Parcel {
            fid: data.fids[row],
            at,
            code: code.to_owned(),
            address,
        };
    }
    panic!("no suitable parcel in the sample");
}

fn close(a: [u8; 4], b: [u8; 3], tol: i32) -> bool {
    (0..3).all(|i| (i32::from(a[i]) - i32::from(b[i])).abs() <= tol)
}

/// A GetMap bbox (as the version/CRS want it written) of `half` CRS
/// units around a Web Mercator point.
fn bbox_around(at: Coord<f64>, c: Crs, half: f64, lat_first: bool) -> String {
    let p = crs::transform_one(WEB_MERCATOR, c, at).unwrap();
    let (a, b) = if lat_first { (p.y, p.x) } else { (p.x, p.y) };
    format!("{},{},{},{}", a - half, b - half, a + half, b + half)
}

#[tokio::test]
async fn capabilities_list_every_layer_in_both_versions_with_axis_order_per_version() {
    let cat = state().await.data.engine.snapshot();
    for (version, lat_first_4326) in [("1.3.0", true), ("1.1.1", false)] {
        let r = wms(&format!(
            "SERVICE=WMS&REQUEST=GetCapabilities&VERSION={version}"
        ))
        .await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.ct.contains("xml"), "{}", r.ct);
        let xml = r.text();
        let names = element_texts(&xml, "Name");
        for l in cat.layers() {
            assert!(names.contains(&l.id), "{version}: layer {} missing", l.id);
        }
        // The root group and the service name besides the layers.
        assert!(names.contains(&"geoplan".to_owned()));
        // Every advertised URL is absolute on the public URL.
        for href in attr_values(&xml, "xlink:href") {
            assert!(href.starts_with(PUBLIC), "{href}");
        }
        // parcels' EPSG:4326 box: lat first in 1.3.0, lon first in 1.1.1.
        let boxes = bounding_boxes(&xml, "parcels");
        let b = boxes.get("EPSG:4326").expect("a 4326 box");
        let first_is_lat = (14.0..17.0).contains(&b[0]) && (107.0..113.0).contains(&b[1]);
        let first_is_lon = (107.0..113.0).contains(&b[0]) && (14.0..17.0).contains(&b[1]);
        assert!(
            if lat_first_4326 {
                first_is_lat
            } else {
                first_is_lon
            },
            "{version} {b:?}"
        );
        let c84 = boxes.get("CRS:84").expect("a CRS:84 box");
        assert!((107.0..113.0).contains(&c84[0]), "{c84:?}");
        // VN-2000 TM-3 is easting, northing in both.
        let b5899 = boxes.get("EPSG:5899").expect("a 5899 box");
        assert!(b5899[0] > 100_000.0 && b5899[1] > 1_500_000.0, "{b5899:?}");
        for c in [
            "EPSG:3857",
            "EPSG:4756",
            "EPSG:5896",
            "EPSG:9210",
            "EPSG:3405",
            "EPSG:3406",
        ] {
            assert!(boxes.contains_key(c), "{version}: no {c} box");
        }
        assert!(xml.contains("queryable=\"1\""));
        assert!(xml.contains("GetLegendGraphic"));
        if version == "1.3.0" {
            assert!(xml.contains("<MaxWidth>4096</MaxWidth>"));
            assert!(xml.contains("<EX_GeographicBoundingBox>"));
            assert!(xml.contains("<CRS>EPSG:5899</CRS>"));
            assert!(xml.contains("<MaxScaleDenominator>"));
        } else {
            assert!(xml.contains("<LatLonBoundingBox"));
            assert!(xml.contains("<SRS>EPSG:5899</SRS>"));
            assert!(
                !xml.contains("MaxWidth"),
                "MaxWidth is not in the 1.1.1 DTD"
            );
        }
    }
    // Negotiation: no version → 1.3.0, an unknown higher one → 1.3.0, a
    // lower one → 1.1.1.
    for (v, root) in [
        ("", "WMS_Capabilities"),
        ("9.9.9", "WMS_Capabilities"),
        ("1.0.0", "WMT_MS_Capabilities"),
    ] {
        let r = wms(&format!("service=wms&request=GetCapabilities&version={v}")).await;
        assert!(r.text().contains(&format!("<{root} ")), "version {v}");
    }
}

/// Texts of every `<tag>` element.
fn element_texts(xml: &str, tag: &str) -> Vec<String> {
    use quick_xml::events::Event;
    let mut r = quick_xml::Reader::from_str(xml);
    let mut out = Vec::new();
    let mut inside = false;
    loop {
        match r.read_event().expect("well-formed XML") {
            Event::Start(e) if e.name().as_ref() == tag => inside = true,
            Event::End(e) if e.name().as_ref() == tag => inside = false,
            Event::Text(t) if inside => out.push(t.xml10_content().into_owned()),
            Event::Eof => break,
            _ => {}
        }
    }
    out
}

fn attr_values(xml: &str, attr: &str) -> Vec<String> {
    use quick_xml::events::Event;
    let mut r = quick_xml::Reader::from_str(xml);
    let mut out = Vec::new();
    loop {
        match r.read_event().unwrap() {
            Event::Start(e) | Event::Empty(e) => {
                for a in e.attributes().flatten() {
                    if a.key.as_ref() == attr {
                        out.push(
                            a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                                .unwrap()
                                .into_owned(),
                        );
                    }
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    out
}

/// The `BoundingBox`es of one named layer: CRS → [minx, miny, maxx, maxy].
fn bounding_boxes(xml: &str, layer: &str) -> BTreeMap<String, [f64; 4]> {
    use quick_xml::events::Event;
    let mut r = quick_xml::Reader::from_str(xml);
    let mut out = BTreeMap::new();
    let (mut in_name, mut current) = (false, String::new());
    loop {
        match r.read_event().unwrap() {
            Event::Start(e) if e.name().as_ref() == "Name" => in_name = true,
            Event::End(e) if e.name().as_ref() == "Name" => in_name = false,
            Event::Text(t) if in_name => current = t.xml10_content().into_owned(),
            Event::Empty(e) if e.name().as_ref() == "BoundingBox" && current == layer => {
                let mut crs = String::new();
                let mut v = [0.0; 4];
                for a in e.attributes().flatten() {
                    let val = a
                        .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                        .unwrap()
                        .into_owned();
                    let key: &str = a.key.as_ref();
                    match key {
                        "CRS" | "SRS" => crs = val,
                        "minx" => v[0] = val.parse().unwrap(),
                        "miny" => v[1] = val.parse().unwrap(),
                        "maxx" => v[2] = val.parse().unwrap(),
                        "maxy" => v[3] = val.parse().unwrap(),
                        _ => {}
                    }
                }
                out.insert(crs, v);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    out
}

#[tokio::test]
async fn maps_put_the_parcels_land_use_colour_under_it_in_every_crs_and_axis_order() {
    let p = a_parcel().await;
    let want = landuse_colours()[&p.code];
    // About 1 m per pixel (zoom ~16): fill and thin outlines, no labels.
    let cases = [
        ("1.3.0", "CRS", "EPSG:3857", Crs::Epsg(3857), 32.0, false),
        ("1.3.0", "CRS", "EPSG:4326", Crs::Epsg(4326), 0.0003, true),
        ("1.3.0", "CRS", "CRS:84", Crs::Crs84, 0.0003, false),
        ("1.1.1", "SRS", "EPSG:4326", Crs::Epsg(4326), 0.0003, false),
        ("1.3.0", "CRS", "EPSG:5899", Crs::Epsg(5899), 32.0, false),
        ("1.1.1", "SRS", "EPSG:5899", Crs::Epsg(5899), 32.0, false),
        (
            "1.3.0",
            "CRS",
            "urn:ogc:def:crs:EPSG::5899",
            Crs::Epsg(5899),
            32.0,
            false,
        ),
    ];
    for (v, crs_p, name, c, half, lat_first) in cases {
        let bbox = bbox_around(p.at, c, half, lat_first);
        let r = wms(&format!(
            "SERVICE=WMS&VERSION={v}&REQUEST=GetMap&LAYERS=parcels&STYLES=&{crs_p}={name}&BBOX={bbox}&WIDTH=64&HEIGHT=64&FORMAT=image/png&TRANSPARENT=TRUE"
        ))
        .await;
        assert_eq!(
            r.status,
            StatusCode::OK,
            "{v} {name}: {}",
            String::from_utf8_lossy(&r.body)
        );
        assert_eq!(r.ct, "image/png");
        let img = decode_png(&r.body);
        assert_eq!((img.w, img.h), (64, 64));
        let px = img.at(32, 32);
        assert!(
            close(px, want, 3) && (225..=235).contains(&px[3]),
            "{v} {name}: centre pixel {px:?}, parcel {} is {} = {want:?}",
            p.fid,
            p.code
        );
    }
    // The same map with the axes swapped (lon,lat sent as 1.3.0 EPSG:4326)
    // lands elsewhere: here, in latitudes beyond the data → refused or
    // empty, never the parcel.
    let wrong = bbox_around(p.at, Crs::Epsg(4326), 0.0003, false);
    let r = wms(&format!(
        "SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=parcels&STYLES=&CRS=EPSG:4326&BBOX={wrong}&WIDTH=64&HEIGHT=64&FORMAT=image/png&TRANSPARENT=TRUE"
    ))
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "latitude 108 is refused");
}

#[tokio::test]
async fn the_sea_is_transparent_and_bgcolor_fills_an_opaque_map() {
    // Open sea east of Đà Nẵng, all layers.
    let sea = "15.9,108.9,16.0,109.0";
    let q = |extra: &str| {
        format!("SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=geoplan&STYLES=&CRS=EPSG:4326&BBOX={sea}&WIDTH=50&HEIGHT=40&FORMAT=image/png{extra}")
    };
    let img = decode_png(&wms(&q("&TRANSPARENT=TRUE")).await.body);
    assert!(img.px.iter().all(|p| p[3] == 0), "the sea is transparent");
    let img = decode_png(&wms(&q("&TRANSPARENT=FALSE&BGCOLOR=0x2040A0")).await.body);
    assert!(img.px.iter().all(|p| *p == [0x20, 0x40, 0xA0, 255]));
    // Default: opaque white.
    let img = decode_png(&wms(&q("")).await.body);
    assert!(img.px.iter().all(|p| *p == [255, 255, 255, 255]));
}

#[tokio::test]
async fn jpeg_maps_are_opaque_and_carry_the_same_colours() {
    let p = a_parcel().await;
    let want = landuse_colours()[&p.code];
    let bbox = bbox_around(p.at, Crs::Epsg(3857), 32.0, false);
    let r = wms(&format!(
        "SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=parcels&STYLES=&CRS=EPSG:3857&BBOX={bbox}&WIDTH=64&HEIGHT=64&FORMAT=image/jpeg"
    ))
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.ct, "image/jpeg");
    assert_eq!(&r.body[..2], &[0xFF, 0xD8]);
    let img = decode_gdal(&r.body, "jpg");
    // 90% fill over the white background, within JPEG's error.
    let over_white = want.map(|c| ((f64::from(c) * 0.9) + 25.5).round() as u8);
    assert!(
        close(img.at(32, 32), over_white, 8),
        "{:?} vs {over_white:?}",
        img.at(32, 32)
    );
}

#[tokio::test]
async fn draw_order_follows_layers_order() {
    // Zoning lots (translucent) over parcels differ from parcels (90%
    // opaque) over zoning lots at a pixel they share (2 m per pixel,
    // zoom ~15, where the style shows both).
    let cat = state().await.data.engine.snapshot();
    let proj = cat.layer("zoning_lots").unwrap();
    let data = proj.data(geoplan::engine::Part::Base);
    let at = (0..data.len())
        .filter_map(|r| match data.geometry_of(r) {
            Some(Geometry::Polygon(p)) if p.unsigned_area() > 40_000.0 => {
                Some(p.interior_point().unwrap().0)
            }
            Some(Geometry::MultiPolygon(p)) if p.unsigned_area() > 40_000.0 => {
                Some(p.interior_point().unwrap().0)
            }
            _ => None,
        })
        .find(|at| {
            let parcels = cat.layer("parcels").unwrap();
            !parcels
                .query(&geoplan::engine::Query {
                    spatial: Some(geoplan::engine::Spatial::Point(*at)),
                    limit: 1,
                    ..Default::default()
                })
                .features
                .is_empty()
        })
        .expect("a zoning lot over a parcel");
    let bbox = bbox_around(at, Crs::Epsg(3857), 64.0, false);
    let px = |layers: &'static str| {
        let bbox = bbox.clone();
        async move {
            decode_png(&wms(&format!(
                "SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS={layers}&STYLES=,&CRS=EPSG:3857&BBOX={bbox}&WIDTH=64&HEIGHT=64&FORMAT=image/png&TRANSPARENT=FALSE"
            ))
            .await
            .body)
            .at(32, 32)
        }
    };
    let a = px("parcels,zoning_lots").await;
    let b = px("zoning_lots,parcels").await;
    assert_ne!(a, b, "the order of LAYERS is the drawing order");
}

#[tokio::test]
async fn exceptions_as_images_keep_the_requested_size() {
    let base = "SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=no_such_layer&STYLES=&CRS=EPSG:3857&BBOX=0,0,10,10&WIDTH=300&HEIGHT=100&FORMAT=image/png";
    let r = wms(&format!("{base}&EXCEPTIONS=INIMAGE")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.ct, "image/png");
    let img = decode_png(&r.body);
    assert_eq!((img.w, img.h), (300, 100));
    // The message is drawn: some dark red pixels on white.
    assert!(img
        .px
        .iter()
        .any(|p| p[0] > 120 && p[1] < 60 && p[3] == 255));
    // 1.1.1 spelling, BLANK: the background only.
    let r = wms(&format!(
        "{}&EXCEPTIONS=application/vnd.ogc.se_blank&TRANSPARENT=TRUE",
        base.replace("1.3.0", "1.1.1").replace("CRS=", "SRS=")
    ))
    .await;
    assert_eq!(r.status, StatusCode::OK);
    let img = decode_png(&r.body);
    assert_eq!((img.w, img.h), (300, 100));
    assert!(img.px.iter().all(|p| p[3] == 0));
    // XML in both spellings is a report.
    for e in ["XML", "application/vnd.ogc.se_xml"] {
        let r = wms(&format!("{base}&EXCEPTIONS={e}")).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(r.text().contains("LayerNotDefined"));
    }
}

async fn expect_exception(query: &str, code: &str, mention: &str) {
    let r = wms(query).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{query}");
    assert!(r.ct.contains("xml"), "{query}: {}", r.ct);
    let x = r.text();
    assert!(x.contains("<ServiceExceptionReport"), "{query}: {x}");
    assert!(
        x.contains(&format!("code=\"{code}\"")),
        "{query}: want {code} in {x}"
    );
    assert!(x.contains(mention), "{query}: '{mention}' not in {x}");
}

const MAP: &str = "SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&STYLES=&FORMAT=image/png";
const INFO: &str = "SERVICE=WMS&VERSION=1.3.0&REQUEST=GetFeatureInfo&STYLES=&LAYERS=parcels&CRS=EPSG:3857&BBOX=12039000,1813300,12039500,1813700&WIDTH=100&HEIGHT=80";

#[tokio::test]
async fn every_exception_code_is_reported_with_its_locator() {
    let ok =
        "LAYERS=parcels&CRS=EPSG:3857&BBOX=12039000,1813300,12039500,1813700&WIDTH=100&HEIGHT=80";
    expect_exception(
        &format!("{MAP}&{}", ok.replace("EPSG:3857", "EPSG:2154")),
        "InvalidCRS",
        "EPSG:2154",
    )
    .await;
    expect_exception(
        "SERVICE=WMS&VERSION=1.1.1&REQUEST=GetMap&LAYERS=parcels&SRS=EPSG:9999&BBOX=0,0,1,1&WIDTH=10&HEIGHT=10&FORMAT=image/png",
        "InvalidSRS",
        "EPSG:9999",
    )
    .await;
    expect_exception(
        &format!("{MAP}&{}", ok.replace("parcels", "parcels,nope")),
        "LayerNotDefined",
        "nope",
    )
    .await;
    expect_exception(
        &format!("{MAP}&{ok}").replace("STYLES=", "STYLES=fancy"),
        "StyleNotDefined",
        "fancy",
    )
    .await;
    expect_exception(
        &format!("{MAP}&{ok}").replace("image/png", "image/tiff"),
        "InvalidFormat",
        "image/tiff",
    )
    .await;
    expect_exception(
        &format!("{INFO}&QUERY_LAYERS=geoplan&I=5&J=5"),
        "LayerNotQueryable",
        "geoplan",
    )
    .await;
    expect_exception(
        &format!("{INFO}&QUERY_LAYERS=parcels&I=100&J=5"),
        "InvalidPoint",
        "I=100",
    )
    .await;
    expect_exception(
        &format!("{INFO}&QUERY_LAYERS=parcels&I=-1&J=5"),
        "InvalidPoint",
        "I=-1",
    )
    .await;
    expect_exception(
        &format!("{INFO}&QUERY_LAYERS=parcels&I=5&J=5&INFO_FORMAT=image/png"),
        "InvalidFormat",
        "INFO_FORMAT",
    )
    .await;
    expect_exception(
        &format!("{MAP}&{}", ok.replace("&WIDTH=100", "")),
        "MissingParameterValue",
        "WIDTH",
    )
    .await;
    expect_exception(
        &format!("{MAP}&{}", ok.replace("LAYERS=parcels&", "")),
        "MissingParameterValue",
        "LAYERS",
    )
    .await;
    expect_exception(
        &format!("{MAP}&{}", ok.replace("CRS=EPSG:3857&", "")),
        "MissingParameterValue",
        "CRS",
    )
    .await;
    expect_exception(
        &format!(
            "{MAP}&{}",
            ok.replace("BBOX=12039000,1813300,12039500,1813700&", "")
        ),
        "MissingParameterValue",
        "BBOX",
    )
    .await;
    expect_exception(
        "SERVICE=WMS&VERSION=1.3.0",
        "MissingParameterValue",
        "REQUEST",
    )
    .await;
    expect_exception(
        &format!("{INFO}&I=5&J=5"),
        "MissingParameterValue",
        "QUERY_LAYERS",
    )
    .await;
    expect_exception(
        &format!("{MAP}&{}", ok.replace("WIDTH=100", "WIDTH=100000")),
        "InvalidParameterValue",
        "4096",
    )
    .await;
    expect_exception(
        &format!("{MAP}&{}", ok.replace("HEIGHT=80", "HEIGHT=5000")),
        "InvalidParameterValue",
        "4096",
    )
    .await;
    expect_exception(
        "SERVICE=WMS&REQUEST=DoSomething",
        "OperationNotSupported",
        "DoSomething",
    )
    .await;
}

#[tokio::test]
async fn hostile_or_odd_input_gets_a_4xx_never_a_5xx() {
    let ok =
        "LAYERS=parcels&CRS=EPSG:3857&BBOX=12039000,1813300,12039500,1813700&WIDTH=100&HEIGHT=80";
    let bads = [
        ok.replace("WIDTH=100", "WIDTH=-5"),
        ok.replace("WIDTH=100", "WIDTH=0"),
        ok.replace("WIDTH=100", "WIDTH=1e3"),
        ok.replace("WIDTH=100", "WIDTH=99999999999999999999999"),
        ok.replace(
            "12039000,1813300,12039500,1813700",
            "NaN,1813300,12039500,1813700",
        ),
        ok.replace(
            "12039000,1813300,12039500,1813700",
            "inf,1813300,12039500,1813700",
        ),
        ok.replace(
            "12039000,1813300,12039500,1813700",
            "12039500,1813300,12039000,1813700",
        ),
        ok.replace(
            "12039000,1813300,12039500,1813700",
            "12039000,1813300,12039000,1813700",
        ),
        ok.replace("12039000,1813300,12039500,1813700", "1,2,3"),
        ok.replace("12039000,1813300,12039500,1813700", "1,2,3,4,5"),
        ok.replace("EPSG:3857", "EPSG:"),
        ok.replace("EPSG:3857", "urn:ogc:def:crs:EPSG::99999999999999"),
        ok.replace("parcels", ""),
        ok.replace("parcels", &"a,".repeat(100)),
        format!("{ok}&TRANSPARENT=maybe"),
        format!("{ok}&BGCOLOR=red"),
        format!("{ok}&EXCEPTIONS=PDF"),
        format!("{ok}&SERVICE=WFS"),
    ];
    for q in &bads {
        let r = wms(&format!("{MAP}&{q}").replace("SERVICE=WMS&", "")).await;
        assert_eq!(
            r.status,
            StatusCode::BAD_REQUEST,
            "{q}: {}",
            String::from_utf8_lossy(&r.body)
        );
        assert!(r.text().contains("ServiceException"), "{q}");
    }
    // Geographic boxes out of range, in 1.3.0 lat/lon.
    let r = wms(&format!(
        "{MAP}&LAYERS=parcels&CRS=EPSG:4326&BBOX=-100,0,100,10&WIDTH=10&HEIGHT=10"
    ))
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    // A whole-world map in a VN-2000 zone is odd but answered.
    let r = wms(&format!(
        "{MAP}&LAYERS=admin_units&CRS=EPSG:5899&BBOX=-1e7,-1e7,1e7,1e7&WIDTH=64&HEIGHT=64"
    ))
    .await;
    assert!(
        r.status == StatusCode::OK || r.status == StatusCode::BAD_REQUEST,
        "{}",
        r.status
    );
    // Degenerate and astronomical boxes are answered, never a panic.
    for bbox in [
        "12039000,1813300,12039000.000001,1813300.000001",
        "-1e300,-1e300,1e300,1e300",
        "-1.7e308,-1.7e308,1.7e308,1.7e308",
    ] {
        let r = wms(&format!(
            "{MAP}&LAYERS=geoplan&CRS=EPSG:3857&BBOX={bbox}&WIDTH=64&HEIGHT=64"
        ))
        .await;
        assert!(
            r.status == StatusCode::OK || r.status == StatusCode::BAD_REQUEST,
            "{bbox}: {}",
            r.status
        );
    }
    // A world map in CRS:84 with every layer renders.
    let r = wms(&format!(
        "{MAP}&LAYERS=geoplan&CRS=CRS:84&BBOX=-180,-90,180,90&WIDTH=256&HEIGHT=128"
    ))
    .await;
    assert_eq!(r.status, StatusCode::OK);
    // A 40 KB query (what fits an http::Uri): refused by the service
    // itself, naming its limit; 10 MB over a socket is the next test.
    let huge = format!("{MAP}&{ok}&junk={}", "x".repeat(40 * 1024));
    let r = wms(&huge).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.text().contains("exceeds the limit"));
}

#[tokio::test]
async fn a_10_mb_query_over_a_socket_gets_a_4xx() {
    use std::io::{Read, Write};
    let (addr, _s) = common::serve_sample(Config::default()).await;
    let resp = tokio::task::spawn_blocking(move || {
        // Read while writing: the server answers (and closes) long before
        // the 10 MB are sent, and a reset must not swallow its answer.
        let mut c = std::net::TcpStream::connect(addr).unwrap();
        c.set_read_timeout(Some(std::time::Duration::from_secs(30)))
            .unwrap();
        let mut w = c.try_clone().unwrap();
        let writer = std::thread::spawn(move || {
            let q = format!(
                "GET /wms?SERVICE=WMS&REQUEST=GetMap&junk={} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                "x".repeat(10 * 1024 * 1024)
            );
            for chunk in q.as_bytes().chunks(64 * 1024) {
                if w.write_all(chunk).is_err() {
                    break;
                }
            }
        });
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        while let Ok(n) = c.read(&mut chunk) {
            if n == 0 {
                break;
            }
            buf.extend_from_slice(&chunk[..n]);
        }
        let _ = writer.join();
        String::from_utf8_lossy(&buf).into_owned()
    })
    .await
    .unwrap();
    let status: u16 = resp
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    assert!(
        (400..500).contains(&status),
        "got: {}",
        resp.lines().next().unwrap_or("(closed)")
    );
}

#[tokio::test]
async fn feature_info_finds_the_parcel_at_a_pixel_in_four_formats_with_vietnamese_intact() {
    let p = a_parcel().await;
    let bbox = bbox_around(p.at, Crs::Epsg(3857), 50.0, false);
    let q = |fmt: &str| {
        format!("SERVICE=WMS&VERSION=1.3.0&REQUEST=GetFeatureInfo&LAYERS=parcels&QUERY_LAYERS=parcels&STYLES=&CRS=EPSG:3857&BBOX={bbox}&WIDTH=101&HEIGHT=101&I=50&J=50&INFO_FORMAT={fmt}&FEATURE_COUNT=5")
    };
    let r = wms(&q("text/plain")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.ct.starts_with("text/plain"));
    let t = r.text();
    assert!(t.contains(&format!("Feature {}:", p.fid)), "{t}");
    assert!(t.contains(&format!("address = '{}'", p.address)), "{t}");
    assert_eq!(
        t.matches("Feature ").count(),
        1,
        "exactly the parcel under the pixel: {t}"
    );

    let r = wms(&q("text/html")).await;
    assert!(r.ct.starts_with("text/html"));
    let h = r.text();
    assert!(h.contains("charset=\"utf-8\""));
    assert!(h.contains(&format!("<td>{}</td>", p.fid)));
    assert!(
        h.contains(&p.address.replace('&', "&amp;").replace('<', "&lt;")),
        "{h}"
    );

    let r = wms(&q("application/json")).await;
    assert!(r.ct.starts_with("application/json"));
    let j: Value = serde_json::from_slice(&r.body).unwrap();
    let f = &j["features"][0];
    assert_eq!(f["id"], format!("parcels.{}", p.fid));
    assert_eq!(f["properties"]["address"], p.address.as_str());
    assert_eq!(f["properties"]["land_use_code"], p.code.as_str());
    assert_eq!(f["geometry"]["type"], "Polygon");

    let r = wms(&q("application/vnd.ogc.gml")).await;
    let g = r.text();
    assert!(g.contains(&format!("fid=\"parcels.{}\"", p.fid)));
    assert!(g.contains(&format!("<geoplan:address>{}</geoplan:address>", p.address)));
    assert!(g.contains("srsName=\"EPSG:3857\""));
    // Well-formed.
    element_texts(&g, "geoplan:address");

    // 1.1.1 with X/Y and lon/lat EPSG:4326.
    let bbox = bbox_around(p.at, Crs::Epsg(4326), 0.0004, false);
    let r = wms(&format!("SERVICE=WMS&VERSION=1.1.1&REQUEST=GetFeatureInfo&LAYERS=parcels&QUERY_LAYERS=parcels&STYLES=&SRS=EPSG:4326&BBOX={bbox}&WIDTH=101&HEIGHT=101&X=50&Y=50&INFO_FORMAT=text/plain")).await;
    assert!(
        r.text().contains(&format!("Feature {}:", p.fid)),
        "{}",
        r.text()
    );

    // The sea: nothing.
    let r = wms("SERVICE=WMS&VERSION=1.3.0&REQUEST=GetFeatureInfo&LAYERS=parcels&QUERY_LAYERS=parcels,roads&STYLES=&CRS=CRS:84&BBOX=108.9,15.9,109.0,16.0&WIDTH=10&HEIGHT=10&I=5&J=5&INFO_FORMAT=application/json").await;
    let j: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(j["features"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn feature_info_finds_lines_and_points_within_a_few_pixels() {
    let cat = state().await.data.engine.snapshot();
    let pois = cat.layer("pois").unwrap();
    let data = pois.data(geoplan::engine::Part::Base);
    let at = data.geometry.coords_of(0)[0];
    // 3 pixels off at 2 m per pixel.
    let off = Coord {
        x: at.x + 6.0,
        y: at.y,
    };
    let bbox = bbox_around(off, Crs::Epsg(3857), 101.0, false);
    let r = wms(&format!("SERVICE=WMS&VERSION=1.3.0&REQUEST=GetFeatureInfo&LAYERS=pois&QUERY_LAYERS=pois&STYLES=&CRS=EPSG:3857&BBOX={bbox}&WIDTH=101&HEIGHT=101&I=50&J=50&INFO_FORMAT=application/json")).await;
    let j: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(
        j["features"][0]["id"],
        format!("pois.{}", data.fids[0]),
        "{j}"
    );
    // 20 pixels off: nothing.
    let off = Coord {
        x: at.x + 40.0,
        y: at.y,
    };
    let bbox = bbox_around(off, Crs::Epsg(3857), 101.0, false);
    let r = wms(&format!("SERVICE=WMS&VERSION=1.3.0&REQUEST=GetFeatureInfo&LAYERS=pois&QUERY_LAYERS=pois&STYLES=&CRS=EPSG:3857&BBOX={bbox}&WIDTH=101&HEIGHT=101&I=50&J=50&INFO_FORMAT=application/json")).await;
    let j: Value = serde_json::from_slice(&r.body).unwrap();
    assert!(j["features"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["id"] != format!("pois.{}", data.fids[0])));
}

#[tokio::test]
async fn legends_are_pngs_with_the_land_use_colours() {
    let r = wms("SERVICE=WMS&VERSION=1.3.0&REQUEST=GetLegendGraphic&LAYER=parcels&STYLE=default&FORMAT=image/png&SLD_VERSION=1.1.0").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.ct, "image/png");
    let img = decode_png(&r.body);
    // One row per land-use code of the style.
    let colours = landuse_colours();
    assert!(img.h as usize > colours.len() * 20, "{}", img.h);
    for code in ["ODT", "LUC", "RSX", "DGT"] {
        let c = colours[code];
        assert!(
            img.px.iter().any(|p| close(*p, c, 2) && p[3] > 200),
            "{code} {c:?} is not in the legend"
        );
    }
    // Every layer has one, including the one the style does not draw.
    for l in state().await.data.engine.snapshot().layers() {
        let r = wms(&format!(
            "SERVICE=WMS&REQUEST=GetLegendGraphic&LAYER={}&FORMAT=image/png",
            l.id
        ))
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", l.id);
        decode_png(&r.body);
    }
    expect_exception(
        "SERVICE=WMS&VERSION=1.3.0&REQUEST=GetLegendGraphic&LAYER=nope&FORMAT=image/png",
        "LayerNotDefined",
        "nope",
    )
    .await;
    expect_exception(
        "SERVICE=WMS&VERSION=1.3.0&REQUEST=GetLegendGraphic&LAYER=parcels&STYLE=x&FORMAT=image/png",
        "StyleNotDefined",
        "x",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn owslib_reads_both_versions_maps_land_where_the_data_is_and_feature_info_works() {
    let p = a_parcel().await;
    let want = landuse_colours()[&p.code];
    let (addr, _s) = common::serve_sample(Config::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let ll = crs::mercator_to_lonlat(p.at);
    let base = format!("http://{addr}");
    let out = tokio::task::spawn_blocking({
        let d = dir.path().display().to_string();
        move || {
            common::run_client(
                "wms_owslib.py",
                &base,
                &[
                    &d,
                    &format!("{}", ll.x),
                    &format!("{}", ll.y),
                    &format!("{}", p.at.x),
                    &format!("{}", p.at.y),
                ],
            )
        }
    })
    .await
    .unwrap();
    let report: Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
    let cat = state().await.data.engine.snapshot();
    for v in ["1.3.0", "1.1.1"] {
        let names: Vec<&str> = report[v]["layers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n.as_str().unwrap())
            .collect();
        for l in cat.layers() {
            assert!(names.contains(&l.id.as_str()), "OWSLib {v} lacks {}", l.id);
        }
    }
    for img in ["130_4326.png", "111_4326.png", "130_3857.png"] {
        let im = decode_png(&std::fs::read(dir.path().join(img)).unwrap());
        let px = im.at(im.w / 2, im.h / 2);
        assert!(
            close(px, want, 3),
            "{img}: centre {px:?}, want {want:?} ({})",
            p.code
        );
    }
    let info = report["info"].as_str().unwrap();
    assert!(info.contains(&p.address), "{info}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gdal_lists_the_wms_layers_as_subdatasets() {
    let (addr, _s) = common::serve_sample(Config::default()).await;
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new("gdalinfo")
            .arg(format!(
                "WMS:http://{addr}/wms?SERVICE=WMS&REQUEST=GetCapabilities"
            ))
            .env("GDAL_HTTP_TIMEOUT", "30")
            .output()
            .expect("gdalinfo runs (gdal-bin)")
    })
    .await
    .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cat = state().await.data.engine.snapshot();
    for l in cat.layers() {
        assert!(
            text.contains(&format!("LAYERS={}&", l.id)),
            "gdalinfo lacks {}:\n{text}",
            l.id
        );
    }
    // And it reads a map of one of them.
    let sub = text
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("SUBDATASET_")
                .and_then(|r| r.split_once("_NAME="))
                .map(|(_, n)| n.to_owned())
        })
        .filter(|n| n.contains("LAYERS=parcels&"))
        .or_else(|| {
            text.lines()
                .filter_map(|l| l.split_once("_NAME=").map(|(_, n)| n.to_owned()))
                .find(|n| n.contains("LAYERS=parcels&"))
        })
        .expect("a parcels subdataset");
    let tmp = tempfile::tempdir().unwrap();
    let png = tmp.path().join("p.png");
    let png2 = png.clone();
    let st = tokio::task::spawn_blocking(move || {
        std::process::Command::new("gdal_translate")
            .args(["-q", "-of", "PNG", "-outsize", "128", "64", &sub])
            .arg(&png2)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    assert!(std::fs::metadata(&png).unwrap().len() > 0);
}

#[tokio::test]
async fn parcel_labels_appear_from_zoom_17_in_the_text_colour() {
    let p = a_parcel().await;
    let text = [0x3b, 0x2a, 0x1a];
    let at = p.at;
    let dark_at = move |half: f64, size: u32, extra: &'static str| {
        let bbox = bbox_around(at, Crs::Epsg(3857), half, false);
        async move {
            let r = wms(&format!(
                "SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=parcels&STYLES=&CRS=EPSG:3857&BBOX={bbox}&WIDTH={size}&HEIGHT={size}&FORMAT=image/png&TRANSPARENT=TRUE{extra}"
            ))
            .await;
            decode_png(&r.body)
                .px
                .iter()
                .filter(|px| close(**px, text, 20) && px[3] > 200)
                .count()
        }
    };
    let dark = |half: f64| dark_at(half, 256, "");
    // 0.25 m per pixel (zoom ~18.3): "number/area/code" labels.
    assert!(dark(32.0).await > 30, "no label pixels at zoom 18.3");
    // 0.5 m per pixel (zoom ~17.3): still labelled.
    assert!(dark(64.0).await > 30, "no label pixels at zoom 17.3");
    // 1 m per pixel (zoom ~16.3): no labels.
    assert_eq!(dark(128.0).await, 0, "labels below zoom 17");
    // A print at 192 DPI (as QGIS asks: twice the pixels, DPI=192) of the
    // 1 m/px map is the same zoom: still no labels, where the same image
    // without DPI (0.5 m/px) has them.
    assert_eq!(dark_at(128.0, 512, "&DPI=192&MAP_RESOLUTION=192").await, 0);
    assert!(dark_at(128.0, 512, "").await > 30);
    assert_eq!(dark_at(128.0, 512, "&FORMAT_OPTIONS=dpi:192").await, 0);
}

// ---- issue #11, finding 6: what the WMS 1.3.0 ETS asserts ----

fn xml_doc(text: &str) -> geoplan::ogc::xml::Element {
    geoplan::ogc::xml::parse(
        text,
        geoplan::ogc::xml::XmlLimits {
            max_depth: 64,
            max_elements: 1_000_000,
        },
    )
    .unwrap_or_else(|e| panic!("{e}: {text}"))
}

/// (code, locator) of a ServiceExceptionReport.
fn service_exception(text: &str) -> (String, String) {
    let root = xml_doc(text);
    assert!(root.is("ServiceExceptionReport"), "{text}");
    let e = root.child("ServiceException").unwrap();
    (
        e.attr("code").unwrap_or_default().to_owned(),
        e.attr("locator").unwrap_or_default().to_owned(),
    )
}

#[tokio::test]
async fn updatesequence_answers_current_invalid_or_the_document() {
    // ets-wms13 getcapabilities:updatesequence-{current,lower,higher}.
    let caps = wms("SERVICE=WMS&REQUEST=GetCapabilities&VERSION=1.3.0").await;
    let seq: i64 = xml_doc(&caps.text())
        .attr("updateSequence")
        .expect("updateSequence is advertised")
        .parse()
        .unwrap();
    for v in ["1.3.0", "1.1.1"] {
        let q = |u: String| {
            format!("SERVICE=WMS&REQUEST=GetCapabilities&VERSION={v}&UPDATESEQUENCE={u}")
        };
        let r = wms(&q(seq.to_string())).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{v}");
        assert_eq!(service_exception(&r.text()).0, "CurrentUpdateSequence");
        for higher in [(seq + 1).to_string(), "not-a-number".into()] {
            let r = wms(&q(higher)).await;
            assert_eq!(r.status, StatusCode::BAD_REQUEST);
            assert_eq!(service_exception(&r.text()).0, "InvalidUpdateSequence");
        }
        let r = wms(&q((seq - 1).to_string())).await;
        assert_eq!(r.status, StatusCode::OK, "{v}: {}", r.text());
        assert!(r.text().contains("updateSequence=\""));
    }
}

#[tokio::test]
async fn getmap_without_version_is_an_exception_report_not_a_map() {
    // ets-wms13 getmap:no-version: the response is an exception report.
    let r = wms("SERVICE=WMS&REQUEST=GetMap&LAYERS=parcels&STYLES=&CRS=EPSG:3857&BBOX=12039000,1813300,12039500,1813700&WIDTH=64&HEIGHT=64&FORMAT=image/png").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.ct.starts_with("text/xml"), "{}", r.ct);
    assert_eq!(
        service_exception(&r.text()),
        ("MissingParameterValue".to_owned(), "VERSION".to_owned())
    );
    let r = wms("SERVICE=WMS&REQUEST=GetFeatureInfo&LAYERS=parcels&QUERY_LAYERS=parcels&STYLES=&CRS=EPSG:3857&BBOX=12039000,1813300,12039500,1813700&WIDTH=64&HEIGHT=64&I=1&J=1&INFO_FORMAT=text/plain").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    // A WMS 1.1 (WMS-C) client that leaves VERSION out is known by SRS.
    let r = wms("SERVICE=WMS&REQUEST=GetMap&LAYERS=parcels&STYLES=&SRS=EPSG:3857&BBOX=12039000,1813300,12039500,1813700&WIDTH=64&HEIGHT=64&FORMAT=image/png").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.ct, "image/png");
}

#[tokio::test]
async fn no_style_is_defined_twice_down_the_layer_tree() {
    // WMS 1.3.0 §7.2.4.6.5: a child does not redefine a style it inherits.
    fn walk(e: &geoplan::ogc::xml::Element, inherited: &[String], named: &mut usize) {
        let own: Vec<String> = e
            .children_named("Style")
            .map(|s| s.child("Name").unwrap().text().to_owned())
            .collect();
        for s in &own {
            assert!(
                !inherited.contains(s),
                "style '{s}' of layer {:?} is inherited already",
                e.child("Name").map(|n| n.text())
            );
        }
        let mut all = inherited.to_vec();
        all.extend(own);
        if e.child("Name").is_some() {
            *named += 1;
        }
        for c in e.children_named("Layer") {
            walk(c, &all, named);
        }
    }
    for v in ["1.3.0", "1.1.1"] {
        let caps = wms(&format!("SERVICE=WMS&REQUEST=GetCapabilities&VERSION={v}")).await;
        // The XML reader refuses any DOCTYPE, which 1.1.1 carries.
        let text: String = caps
            .text()
            .lines()
            .filter(|l| !l.starts_with("<!DOCTYPE"))
            .collect::<Vec<_>>()
            .join("\n");
        let root = xml_doc(&text);
        let mut named = 0;
        for l in root.child("Capability").unwrap().children_named("Layer") {
            walk(l, &[], &mut named);
        }
        assert!(named > 10, "{v}: {named}");
    }
    // The root layer still draws in its default style.
    let r = wms("SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=geoplan&STYLES=default&CRS=EPSG:3857&BBOX=12039000,1813300,12039500,1813700&WIDTH=32&HEIGHT=32&FORMAT=image/png").await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
}

#[tokio::test]
async fn wms_capabilities_validate_against_the_official_schema_and_dtd() {
    let caps = wms("SERVICE=WMS&REQUEST=GetCapabilities&VERSION=1.3.0").await;
    common::assert_schema_valid(
        "WMS 1.3.0 capabilities",
        &caps.text(),
        &[
            (
                "http://www.opengis.net/wms",
                "http://schemas.opengis.net/wms/1.3.0/capabilities_1_3_0.xsd",
            ),
            (
                "http://www.opengis.net/sld",
                "http://schemas.opengis.net/sld/1.1.0/sld_capabilities.xsd",
            ),
        ],
    );
    let caps = wms("SERVICE=WMS&REQUEST=GetCapabilities&VERSION=1.1.1").await;
    common::assert_dtd_valid(
        "WMS 1.1.1 capabilities",
        &caps.text(),
        "wms/1.1.1/WMS_MS_Capabilities.dtd",
    );
    let r = wms("SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=nope&STYLES=&CRS=EPSG:3857&BBOX=0,0,1,1&WIDTH=8&HEIGHT=8&FORMAT=image/png").await;
    common::assert_schema_valid(
        "WMS 1.3.0 exception report",
        &r.text(),
        &[(
            "http://www.opengis.net/ogc",
            "http://schemas.opengis.net/wms/1.3.0/exceptions_1_3_0.xsd",
        )],
    );
}

/// Issue #11, finding 4: at commune scale (a 6 km view on 300 pixels,
/// 20 m per pixel, tile zoom ~13) the parcels layer is the current
/// land-use map, painted where parcels are and in the legend's colours;
/// zoomed out beyond commune scale (24 km) it is not drawn.
#[tokio::test]
async fn the_land_use_map_shows_at_commune_scale_in_the_legend_colours() {
    use geo::{BooleanOps, BoundingRect};
    let cat = state().await.data.engine.snapshot();
    // Xã Tam Thanh (GSO 20359), a coastal commune of Tam Kỳ.
    let units = cat.layer("admin_units").unwrap();
    let u = units.data(geoplan::engine::Part::Base);
    let code = u.field_index("code").unwrap();
    let row = (0..u.len())
        .find(|&r| matches!(u.value(r, code), ValueRef::Text("20359")))
        .expect("xã Tam Thanh in the sample");
    let at = u.geometry_of(row).unwrap().interior_point().unwrap().0;
    let map = |half: f64| {
        let bbox = bbox_around(at, Crs::Epsg(3857), half, false);
        async move {
            let r = wms(&format!(
                "SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=parcels&STYLES=&CRS=EPSG:3857&BBOX={bbox}&WIDTH=300&HEIGHT=300&FORMAT=image/png&TRANSPARENT=TRUE"
            ))
            .await;
            assert_eq!(
                r.status,
                StatusCode::OK,
                "{}",
                String::from_utf8_lossy(&r.body)
            );
            decode_png(&r.body)
        }
    };
    let half = 3_000.0;
    let img = map(half).await;
    // Independent: the share of the view covered by parcels.
    let view = geo_types::Rect::new(
        Coord {
            x: at.x - half,
            y: at.y - half,
        },
        Coord {
            x: at.x + half,
            y: at.y + half,
        },
    );
    let clip = geo_types::MultiPolygon(vec![view.to_polygon()]);
    let parcels = cat.layer("parcels").unwrap();
    let p = parcels.data(geoplan::engine::Part::Base);
    let mut covered = 0.0;
    for r in 0..p.len() {
        let Some(Geometry::Polygon(g)) = p.geometry_of(r) else {
            continue;
        };
        let b = g.bounding_rect().unwrap();
        if b.max().x < view.min().x
            || b.min().x > view.max().x
            || b.max().y < view.min().y
            || b.min().y > view.max().y
        {
            continue;
        }
        covered += geo_types::MultiPolygon(vec![g])
            .intersection(&clip)
            .unsigned_area();
    }
    let coverage = covered / (4.0 * half * half);
    assert!(coverage > 0.01, "the view holds parcels: {coverage}");
    let painted: Vec<[u8; 4]> = img.px.iter().copied().filter(|px| px[3] > 0).collect();
    let share = painted.len() as f64 / img.px.len() as f64;
    assert!(
        (0.6 * coverage..=1.6 * coverage).contains(&share),
        "painted {share} of the map where parcels cover {coverage}"
    );
    // Painted in the land-use colours of the legend, several codes.
    let colours = landuse_colours();
    let mut seen = std::collections::BTreeSet::new();
    let in_legend = painted
        .iter()
        .filter(|px| {
            let hit = colours.iter().find(|(_, c)| close(**px, **c, 6));
            if let Some((code, _)) = hit {
                seen.insert(code.clone());
            }
            hit.is_some()
        })
        .count();
    assert!(
        in_legend * 10 >= painted.len() * 7,
        "{in_legend} of {} painted pixels in legend colours",
        painted.len()
    );
    assert!(seen.len() >= 3, "land-use codes drawn: {seen:?}");
    // Beyond commune scale (80 m per pixel): not drawn.
    let far = map(4.0 * half).await;
    assert!(
        far.px.iter().all(|px| px[3] == 0),
        "parcels drawn at 80 m/px"
    );
}
