//! `POST /planning/site-file`: a proposed site uploaded as the province's
//! files come — a zipped Shapefile whose `.prj` describes TM-3 107°45′
//! without the VN-2000 datum shift, one with no `.prj`, one in WGS 84 —
//! read with GDAL, its CRS decided and said, and checked against the plan.
//! The files are made here with ogr2ogr from a sample parcel, whose area
//! and place are the truth.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use std::path::Path;
use std::process::Command;
use tower::ServiceExt;

mod common;

/// TM-3 107°45′ as survey software writes it: no TOWGS84.
const PRJ_NO_SHIFT: &str = r#"PROJCS["VN_2000_TM3_107_45",GEOGCS["GCS_VN_2000",DATUM["D_Vietnam_2000",SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",107.75],PARAMETER["Scale_Factor",0.9999],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]"#;

async fn call(req: Request<Body>) -> (StatusCode, Value) {
    let s = common::shared_sample().await;
    let res = geoplan::http::app(s.clone()).oneshot(req).await.unwrap();
    let st = res.status();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    (st, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

async fn upload(name: &str, bytes: Vec<u8>) -> (StatusCode, Value) {
    call(
        Request::post(format!("/planning/site-file?name={name}"))
            .body(Body::from(bytes))
            .unwrap(),
    )
    .await
}

/// A shapefile of `geojson` in `srs` (None: no .prj at all, or `prj`
/// written over GDAL's), zipped.
fn zipped_shapefile(dir: &Path, geojson: &Value, srs: &str, prj: Option<Option<&str>>) -> Vec<u8> {
    let src = dir.join("parcel.geojson");
    std::fs::write(&src, geojson.to_string()).unwrap();
    let shp = dir.join("khu_dat.shp");
    let st = Command::new("ogr2ogr")
        .args([
            "-f",
            "ESRI Shapefile",
            "-t_srs",
            srs,
            "-lco",
            "ENCODING=UTF-8",
        ])
        .arg(&shp)
        .arg(&src)
        .status()
        .expect("ogr2ogr (GDAL) must be installed");
    assert!(st.success());
    match prj {
        Some(Some(text)) => std::fs::write(dir.join("khu_dat.prj"), text).unwrap(),
        Some(None) => std::fs::remove_file(dir.join("khu_dat.prj")).unwrap(),
        None => {}
    }
    let zip = dir.join("khu_dat.zip");
    let st = Command::new("python3")
        .arg("-c")
        .arg("import sys,zipfile,glob,os\nz=zipfile.ZipFile(sys.argv[1],'w')\nfor f in glob.glob(os.path.join(sys.argv[2],'khu_dat.*')):\n  z.write(f,os.path.basename(f)) if not f.endswith('.zip') else None\nz.close()")
        .arg(&zip)
        .arg(dir)
        .status()
        .unwrap();
    assert!(st.success());
    std::fs::read(zip).unwrap()
}

fn first_corner(g: &Value) -> (f64, f64) {
    let c = if g["type"] == "Polygon" {
        &g["coordinates"][0][0]
    } else {
        &g["coordinates"][0][0][0]
    };
    (c[0].as_f64().unwrap(), c[1].as_f64().unwrap())
}

#[tokio::test]
async fn a_zipped_shapefile_in_vn2000_without_its_datum_shift_is_read_where_it_belongs() {
    let (_, f) = call(
        Request::get("/layers/parcels/features/4321")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    let (_, truth) = call(
        Request::post("/planning")
            .header("content-type", "application/json")
            .body(Body::from(f["geometry"].to_string()))
            .unwrap(),
    )
    .await;
    let area = truth["subject"]["area_m2"].as_f64().unwrap();
    let corner = first_corner(&f["geometry"]);
    let m_per_deg = 111_320.0;
    for (label, srs, prj, crs, how) in [
        // GDAL may itself identify the .prj as EPSG:5899; either way the
        // site must land where the datum shift puts it (checked below).
        (
            "no datum shift",
            "EPSG:5899",
            Some(Some(PRJ_NO_SHIFT)),
            "EPSG:5899",
            "EPSG:5899",
        ),
        (
            "no .prj",
            "EPSG:5899",
            Some(None),
            "EPSG:5899",
            "names no CRS",
        ),
        ("WGS 84", "EPSG:4326", None, "CRS:84", "WGS 84"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let zip = zipped_shapefile(dir.path(), &f, srs, prj);
        let (st, v) = upload("khu-dat.zip", zip).await;
        assert_eq!(st, StatusCode::OK, "{label}: {v}");
        assert_eq!(v["crs"], crs, "{label}: {v}");
        assert!(
            v["how"].as_str().unwrap().contains(how),
            "{label}: {}",
            v["how"]
        );
        assert_eq!(v["features"], 1);
        let a = v["area_m2"].as_f64().unwrap();
        assert!((a - area).abs() < 0.05, "{label}: area {a} vs {area}");
        // Read in its right CRS, the site lands on the parcel (cm, not the
        // ~100 m a missing datum shift would cost).
        let (x, y) = first_corner(&v["site_crs84"]);
        let off = ((x - corner.0).powi(2) + (y - corner.1).powi(2)).sqrt() * m_per_deg;
        assert!(off < 0.05, "{label}: {off} m from the parcel's corner");
        // And it is checked against the plan as it came.
        let mut body = json!({"site": v["site"], "proposal": {"use": "TMD"}});
        if v["crs"] != "CRS:84" {
            body["crs"] = v["crs"].clone();
        }
        let (st, c) = call(
            Request::post("/planning/check")
                .header("content-type", "application/json")
                .body(Body::from(body.to_string()))
                .unwrap(),
        )
        .await;
        assert_eq!(st, StatusCode::CREATED, "{label}: {c}");
        let info_area = c["result"]["info"]["subject"]["area_m2"].as_f64().unwrap();
        assert!(
            (info_area - area).abs() < 0.05,
            "{label}: checked area {info_area}"
        );
    }
}

#[tokio::test]
async fn files_that_give_no_site_are_refused_with_the_reason() {
    let (st, v) = upload("rac.zip", b"PK not really".to_vec()).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(v["detail"].as_str().unwrap().contains("rac.zip"), "{v}");
    let point = json!({"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": [108.2, 16.0]}});
    let (st, v) = upload("diem.geojson", point.to_string().into_bytes()).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(v["detail"].as_str().unwrap().contains("no polygon"), "{v}");
    // UTM zone 49 metres without a .prj are placed by their ranges, as
    // VN-2000 / UTM 49N, and the answer says so.
    let dir = tempfile::tempdir().unwrap();
    let sq = json!({"type": "Feature", "properties": {}, "geometry": {"type": "Polygon",
        "coordinates": [[[108.2, 16.0], [108.201, 16.0], [108.201, 16.001], [108.2, 16.0]]]}});
    let zip = zipped_shapefile(dir.path(), &sq, "EPSG:32649", Some(None));
    let (st, v) = upload("utm.zip", zip).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["crs"], "EPSG:3406", "{v}");
    assert!(v["how"].as_str().unwrap().contains("UTM zone 49N"), "{v}");
    // Metres of Hà Nội (UTM 48N northings far north of the province)
    // without a .prj: no range fits, so no guess.
    let dir = tempfile::tempdir().unwrap();
    let sq = json!({"type": "Feature", "properties": {}, "geometry": {"type": "Polygon",
        "coordinates": [[[105.8, 21.0], [105.801, 21.0], [105.801, 21.001], [105.8, 21.0]]]}});
    let zip = zipped_shapefile(dir.path(), &sq, "EPSG:32648", Some(None));
    let (st, v) = upload("ha-noi.zip", zip).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    assert!(
        v["detail"].as_str().unwrap().contains("names no CRS"),
        "{v}"
    );
    let (st, _) = upload("", b"x".to_vec()).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    let (st, v) = upload("trong.zip", vec![]).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(v["detail"].as_str().unwrap().contains("empty"));
}
