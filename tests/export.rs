//! Issue #10, "every result set out": each feature result — the feature
//! API, OGC API items, WFS GetFeature, site search — downloaded as
//! GeoPackage, zipped Shapefile, KML, CSV and XLSX, written to disk and
//! opened with the real GDAL (`ogrinfo`): the CRS it declares, the number
//! of features (the JSON answer's count), and a Vietnamese value intact in
//! NFC. The Shapefile's `.prj` and `.cpg` are read from the zip.

use axum::body::Body;
use axum::http::{header, HeaderMap, Request, StatusCode};
use geoplan::config::Config;
use http_body_util::BodyExt;
use serde_json::Value;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;
use tower::ServiceExt;
use unicode_normalization::UnicodeNormalization;

mod common;

/// Parcels around Hội An's old town; their commune is Phường Minh An.
const HOI_AN: &str = "bbox=108.31,15.86,108.35,15.89";
/// A value with diacritics every parcel there carries.
const MINH_AN: &str = "Phường Minh An";

async fn get_with(
    state: geoplan::http::AppState,
    uri: &str,
    accept: Option<&str>,
) -> (StatusCode, HeaderMap, Vec<u8>) {
    let mut req = Request::get(uri);
    if let Some(a) = accept {
        req = req.header(header::ACCEPT, a);
    }
    let res = geoplan::http::app(state)
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let (st, h) = (res.status(), res.headers().clone());
    let body = res.into_body().collect().await.unwrap().to_bytes();
    (st, h, body.to_vec())
}

async fn get(uri: &str) -> (StatusCode, HeaderMap, Vec<u8>) {
    get_with(common::shared_sample().await.clone(), uri, None).await
}

async fn json(uri: &str) -> Value {
    let (st, _, body) = get(uri).await;
    assert_eq!(
        st,
        StatusCode::OK,
        "{uri}: {}",
        String::from_utf8_lossy(&body)
    );
    serde_json::from_slice(&body).unwrap()
}

/// Downloads `uri`, checks the headers of a file download and writes it
/// under `dir` by the name the server gave it.
async fn download(dir: &Path, uri: &str) -> PathBuf {
    let (st, h, body) = get(uri).await;
    file_of(dir, uri, st, &h, &body)
}

fn file_of(dir: &Path, uri: &str, st: StatusCode, h: &HeaderMap, body: &[u8]) -> PathBuf {
    assert_eq!(
        st,
        StatusCode::OK,
        "{uri}: {}",
        String::from_utf8_lossy(body)
    );
    let cd = h[header::CONTENT_DISPOSITION].to_str().unwrap();
    let name = cd
        .split("filename=\"")
        .nth(1)
        .and_then(|r| r.strip_suffix('"'))
        .unwrap_or_else(|| panic!("{uri}: Content-Disposition {cd}"));
    assert!(cd.starts_with("attachment;"), "{cd}");
    assert_eq!(
        h[header::CONTENT_LENGTH].to_str().unwrap(),
        body.len().to_string()
    );
    let path = dir.join(name);
    std::fs::write(&path, body).unwrap();
    path
}

/// `ogrinfo` on a downloaded file (a zip through `/vsizip/`).
fn ogrinfo(path: &Path, args: &[&str]) -> String {
    let p = path.display().to_string();
    let target = if p.ends_with(".zip") {
        format!("/vsizip/{p}")
    } else {
        p
    };
    let out = Command::new("ogrinfo")
        .args(["-ro", "-al"])
        .args(args)
        .arg(&target)
        .output()
        .expect("ogrinfo (GDAL) is installed");
    let text = String::from_utf8(out.stdout).expect("ogrinfo writes UTF-8");
    assert!(
        out.status.success(),
        "ogrinfo {target}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

/// The summed `Feature Count:` lines of `ogrinfo -so -al`.
fn feature_count(summary: &str) -> usize {
    summary
        .lines()
        .filter_map(|l| l.strip_prefix("Feature Count: "))
        .map(|n| n.trim().parse::<usize>().unwrap())
        .sum()
}

/// Asserts GDAL reads the file in EPSG:`epsg` (the id of the layer's CRS,
/// of the source CRS when a `.prj` binds it to WGS 84).
fn assert_crs(summary: &str, epsg: u32, what: &str) {
    let id = format!("ID[\"EPSG\",{epsg}]");
    let srs = summary
        .split("Layer SRS WKT:")
        .nth(1)
        .unwrap_or_else(|| panic!("{what}: no SRS in\n{summary}"));
    let ok = if srs.trim_start().starts_with("BOUNDCRS") {
        srs.split("TARGETCRS").next().unwrap().contains(&id)
    } else {
        srs.trim_end()
            .lines()
            .rev()
            .find(|l| l.contains("ID["))
            .is_some_and(|l| l.contains(&id))
    };
    assert!(ok, "{what}: not EPSG:{epsg}:\n{srs}");
}

/// Asserts the text is in `values` exactly, in NFC (not decomposed).
fn assert_nfc_text(values: &str, text: &str, what: &str) {
    let nfc: String = text.nfc().collect();
    let nfd: String = text.nfd().collect();
    assert_ne!(nfc, nfd);
    assert!(values.contains(&nfc), "{what}: '{nfc}' is missing");
    assert!(
        !values.contains(&nfd),
        "{what}: '{text}' came out decomposed"
    );
}

fn zip_entry(path: &Path, name: &str) -> String {
    let mut z = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    let mut s = String::new();
    z.by_name(name)
        .unwrap_or_else(|_| panic!("{name} in {}", path.display()))
        .read_to_string(&mut s)
        .unwrap();
    s
}

/// Every format of one result: the file opens in GDAL, in `epsg` (KML in
/// 4326, CSV and XLSX have none), with `count` features and `text`.
async fn check_every_format(dir: &Path, uri: &str, epsg: u32, count: usize, text: &str) {
    let sep = if uri.contains('?') { '&' } else { '?' };
    for f in ["gpkg", "shp", "kml", "csv", "xlsx"] {
        let path = download(dir, &format!("{uri}{sep}f={f}")).await;
        let what = format!("{uri} f={f}");
        let summary = ogrinfo(&path, &["-so"]);
        assert_eq!(feature_count(&summary), count, "{what}\n{summary}");
        match f {
            "gpkg" | "shp" => assert_crs(&summary, epsg, &what),
            "kml" => assert_crs(&summary, 4326, &what),
            _ => {}
        }
        assert_nfc_text(&ogrinfo(&path, &["-q"]), text, &what);
    }
}

#[tokio::test]
async fn layer_features_open_in_gdal_in_every_format_with_crs_count_and_text() {
    let dir = tempfile::tempdir().unwrap();
    let uri = format!("/layers/parcels/features?{HOI_AN}");
    let n = json(&format!("{uri}&limit=1")).await["numberMatched"]
        .as_u64()
        .unwrap() as usize;
    assert!(n > 100, "the sample has parcels in Hội An");
    // The storage CRS by default...
    check_every_format(dir.path(), &uri, 5899, n, MINH_AN).await;
    // ...and WGS 84 when asked.
    for f in ["gpkg", "shp"] {
        let path = download(dir.path(), &format!("{uri}&crs=EPSG:4326&f={f}")).await;
        let s = ogrinfo(&path, &["-so"]);
        assert_crs(&s, 4326, f);
        assert!(s.contains("Extent: (108.3"), "{f}: longitude first\n{s}");
    }
}

/// Writing a province's layer as a file takes minutes: the routes that
/// answer files live under `[limits] download_timeout_secs`, not
/// `request_timeout_secs`. With the latter at zero (any request that waits
/// for a millisecond would be cut), a GeoPackage download completes.
#[tokio::test]
async fn downloads_have_their_own_timeout() {
    let mut cfg = Config::default();
    cfg.limits.request_timeout_secs = 0;
    let (_keep, state) = common::sample_copy(cfg).await;
    let dir = tempfile::tempdir().unwrap();
    let uri = format!("/layers/parcels/features?{HOI_AN}&f=gpkg");
    let (st, h, body) = get_with(state, &uri, None).await;
    let path = file_of(dir.path(), &uri, st, &h, &body);
    assert!(feature_count(&ogrinfo(&path, &["-so"])) > 100);
}

#[tokio::test]
async fn downloads_are_named_after_the_layer_and_the_box_or_the_day() {
    let (_, h, _) = get(&format!("/layers/parcels/features?{HOI_AN}&f=gpkg")).await;
    assert_eq!(
        h[header::CONTENT_DISPOSITION],
        "attachment; filename=\"parcels-108.31_15.86_108.35_15.89.gpkg\""
    );
    assert_eq!(h[header::CONTENT_TYPE], "application/geopackage+sqlite3");
    assert_eq!(
        h["content-crs"],
        "<http://www.opengis.net/def/crs/EPSG/0/5899>"
    );
    let (_, h, _) = get("/layers/pois/features?f=shp").await;
    let cd = h[header::CONTENT_DISPOSITION].to_str().unwrap();
    let day = cd
        .strip_prefix("attachment; filename=\"pois-")
        .and_then(|r| r.strip_suffix(".zip\""))
        .unwrap_or_else(|| panic!("{cd}"));
    assert!(chrono_like_day(day), "{cd}");
    // A zip is sent as it is, not gzipped again.
    assert_eq!(h[header::CONTENT_ENCODING], "identity");
}

fn chrono_like_day(s: &str) -> bool {
    s.len() == 10
        && s.chars().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                c == '-'
            } else {
                c.is_ascii_digit()
            }
        })
}

#[tokio::test]
async fn the_shapefile_carries_towgs84_with_position_vector_signs_and_says_utf8() {
    let dir = tempfile::tempdir().unwrap();
    let path = download(
        dir.path(),
        &format!("/layers/parcels/features?{HOI_AN}&f=shp"),
    )
    .await;
    let prj = zip_entry(&path, "parcels.prj");
    assert!(
        prj.contains("TOWGS84[-191.90441429,-39.30318279,-111.45032835,0.00928836,-0.01975479,0.00427372,0.252906278]"),
        "{prj}"
    );
    assert!(prj.contains("AUTHORITY[\"EPSG\",\"5899\"]"), "{prj}");
    assert_eq!(zip_entry(&path, "parcels.cpg").trim(), "UTF-8");
    // GDAL reads the shift back as the official transformation.
    let s = ogrinfo(&path, &["-so"]);
    assert!(s.contains("ID[\"EPSG\",6960]"), "{s}");
    // DBF names: at most 10 characters, unique.
    let names: Vec<&str> = s
        .lines()
        .filter_map(|l| l.split_once(": ").map(|(n, _)| n))
        .filter(|n| {
            !n.contains(' ')
                && !n.is_empty()
                && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
        .collect();
    assert!(
        names.contains(&"land_use_c") && names.contains(&"fid"),
        "{names:?}"
    );
    assert!(names.iter().all(|n| n.len() <= 10), "{names:?}");
    let mut unique = names.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), names.len(), "{names:?}");
}

#[tokio::test]
async fn points_in_csv_are_longitude_and_latitude_columns() {
    let dir = tempfile::tempdir().unwrap();
    let uri = "/layers/pois/features?crs=CRS:84&f=csv";
    let path = download(dir.path(), uri).await;
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.starts_with("\u{feff}fid,"),
        "UTF-8 with a BOM, for Excel"
    );
    assert!(text.lines().next().unwrap().ends_with(",lon,lat"), "{text}");
    let s = ogrinfo(
        &path,
        &[
            "-so",
            "-oo",
            "X_POSSIBLE_NAMES=lon",
            "-oo",
            "Y_POSSIBLE_NAMES=lat",
        ],
    );
    let n = json("/layers/pois/features?limit=1").await["numberMatched"]
        .as_u64()
        .unwrap() as usize;
    assert_eq!(feature_count(&s), n);
    assert!(
        s.contains("Geometry: Point") && s.contains("Extent: (107."),
        "{s}"
    );
}

#[tokio::test]
async fn ogc_api_items_download_by_f_or_by_accept() {
    let dir = tempfile::tempdir().unwrap();
    let uri = format!("/ogcapi/collections/parcels/items?{HOI_AN}&land_use_code=ODT");
    let n = json(&format!("{uri}&limit=1")).await["numberMatched"]
        .as_u64()
        .unwrap() as usize;
    assert!(n > 0);
    check_every_format(dir.path(), &uri, 5899, n, MINH_AN).await;
    let (st, h, body) = get_with(
        common::shared_sample().await.clone(),
        &uri,
        Some("application/geopackage+sqlite3"),
    )
    .await;
    let path = file_of(dir.path(), &uri, st, &h, &body);
    assert_eq!(feature_count(&ogrinfo(&path, &["-so"])), n);
}

#[tokio::test]
async fn wfs_getfeature_answers_every_file_format_it_advertises() {
    let dir = tempfile::tempdir().unwrap();
    let base = "/wfs?SERVICE=WFS&REQUEST=GetFeature&TYPENAMES=geoplan:parcels&BBOX=15.86,108.31,15.89,108.35,urn:ogc:def:crs:EPSG::4326";
    let (_, _, hits) = get(&format!("{base}&VERSION=2.0.0&RESULTTYPE=hits")).await;
    let hits = String::from_utf8(hits).unwrap();
    let n: usize = hits
        .split("numberMatched=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap()
        .parse()
        .unwrap();
    assert!(n > 100, "{hits}");
    for (format, ext) in [
        ("SHAPE-ZIP", "zip"),
        ("application/zip", "zip"),
        ("application/geopackage+sqlite3", "gpkg"),
        ("KML", "kml"),
        ("application/vnd.google-earth.kml+xml", "kml"),
        ("csv", "csv"),
        ("text/csv", "csv"),
        ("excel2007", "xlsx"),
    ] {
        let enc: String = url::form_urlencoded::byte_serialize(format.as_bytes()).collect();
        // Without COUNT a file holds every match, in 2.0 as in 1.1.
        for v in ["2.0.0", "1.1.0"] {
            let uri = format!("{base}&VERSION={v}&OUTPUTFORMAT={enc}");
            let path = download(dir.path(), &uri).await;
            assert!(
                path.display().to_string().ends_with(&format!(".{ext}")),
                "{path:?}"
            );
            let s = ogrinfo(&path, &["-so"]);
            assert_eq!(feature_count(&s), n, "{format} {v}");
            match ext {
                "zip" | "gpkg" => assert_crs(&s, 5899, format),
                "kml" => assert_crs(&s, 4326, format),
                _ => {}
            }
            assert_nfc_text(&ogrinfo(&path, &["-q"]), MINH_AN, format);
        }
    }
    // SRSNAME chooses the CRS of the file.
    let path = download(
        dir.path(),
        &format!("{base}&VERSION=2.0.0&OUTPUTFORMAT=SHAPE-ZIP&SRSNAME=EPSG:4326"),
    )
    .await;
    assert_crs(&ogrinfo(&path, &["-so"]), 4326, "SRSNAME=EPSG:4326");
    // Two types: two tables in one GeoPackage, named after their layers.
    let path = download(
        dir.path(),
        "/wfs?SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=geoplan:pois,geoplan:industrial_zones&OUTPUTFORMAT=application/geopackage%2Bsqlite3",
    )
    .await;
    assert!(path.ends_with(format!(
        "pois_industrial_zones-{}",
        path.file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .rsplit_once("zones-")
            .unwrap()
            .1
    )));
    let s = ogrinfo(&path, &["-so"]);
    assert!(
        s.contains("Layer name: pois") && s.contains("Layer name: industrial_zones"),
        "{s}"
    );
}

#[tokio::test]
async fn wfs_capabilities_advertise_the_files_where_the_schema_allows() {
    for v in ["2.0.0", "1.1.0"] {
        let (_, _, caps) = get(&format!(
            "/wfs?SERVICE=WFS&REQUEST=GetCapabilities&VERSION={v}"
        ))
        .await;
        let caps = String::from_utf8(caps).unwrap();
        for f in [
            "SHAPE-ZIP",
            "application/geopackage+sqlite3",
            "application/vnd.google-earth.kml+xml",
            "text/csv",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ] {
            assert!(caps.contains(&format!(">{f}<")), "{v} lacks {f}");
        }
    }
    // WFS 1.0's ResultFormat admits the GML2 element alone.
    let (_, _, caps) = get("/wfs?SERVICE=WFS&REQUEST=GetCapabilities&VERSION=1.0.0").await;
    let caps = String::from_utf8(caps).unwrap();
    assert!(
        caps.contains("<ResultFormat><GML2/></ResultFormat>"),
        "{caps}"
    );
}

#[tokio::test]
async fn site_search_results_download_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let uri = "/sites?candidates=parcels&unit=Minh%20An&limit=50";
    let page = json(uri).await;
    let n = page["results"].as_array().unwrap().len();
    assert!(n > 0, "{page}");
    for f in ["gpkg", "shp", "kml", "csv", "xlsx"] {
        let path = download(dir.path(), &format!("{uri}&f={f}")).await;
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        assert!(name.starts_with("tim-dia-diem-"), "{name}");
        let s = ogrinfo(&path, &["-so"]);
        assert_eq!(feature_count(&s), n, "{f}\n{s}");
        match f {
            "gpkg" | "shp" => {
                assert_crs(&s, 5899, f);
                assert!(s.contains("Layer name: sites_parcels"), "{s}");
            }
            "kml" => assert_crs(&s, 4326, f),
            _ => {}
        }
        assert_nfc_text(&ogrinfo(&path, &["-q"]), MINH_AN, f);
    }
    let path = download(dir.path(), &format!("{uri}&f=gpkg&crs=EPSG:4326")).await;
    assert_crs(&ogrinfo(&path, &["-so"]), 4326, "sites crs=EPSG:4326");
}

#[tokio::test]
async fn unknown_formats_are_refused_naming_the_formats_offered() {
    for uri in [
        "/layers/parcels/features?f=pdf",
        "/ogcapi/collections/parcels/items?f=shapefile2",
        "/sites?f=docx",
    ] {
        let (st, _, body) = get(uri).await;
        let body = String::from_utf8(body).unwrap();
        assert_eq!(st, StatusCode::BAD_REQUEST, "{uri}");
        assert!(body.contains("gpkg, shp, kml, csv, xlsx"), "{uri}: {body}");
    }
    let (st, _, body) =
        get("/wfs?SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=geoplan:pois&OUTPUTFORMAT=docx").await;
    let body = String::from_utf8(body).unwrap();
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(
        body.contains("SHAPE-ZIP") && body.contains("locator=\"OUTPUTFORMAT\""),
        "{body}"
    );
    // KML is WGS 84 or nothing.
    let (st, _, body) = get("/layers/pois/features?f=kml&crs=EPSG:5899").await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(String::from_utf8(body)
        .unwrap()
        .contains("KML is always WGS 84"));
    // CSV holds one table.
    let (st, _, body) = get(
        "/wfs?SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=geoplan:pois,geoplan:plans&OUTPUTFORMAT=csv",
    )
    .await;
    assert_eq!(
        st,
        StatusCode::BAD_REQUEST,
        "{}",
        String::from_utf8_lossy(&body)
    );
}

#[tokio::test]
async fn a_download_past_the_export_limit_is_refused_not_cut() {
    let mut config = Config::default();
    config.limits.max_export_features = 100;
    let (_dir, state) = common::sample_copy(config).await;
    let (st, _, body) = get_with(
        state.clone(),
        &format!("/layers/parcels/features?{HOI_AN}&f=gpkg"),
        None,
    )
    .await;
    let body = String::from_utf8(body).unwrap();
    assert_eq!(st, StatusCode::BAD_REQUEST, "{body}");
    assert!(body.contains("max_export_features"), "{body}");
    // A page of it is fine, and holds what was asked.
    let dir = tempfile::tempdir().unwrap();
    let uri = format!("/layers/parcels/features?{HOI_AN}&f=gpkg&limit=40&offset=10");
    let (st, h, b) = get_with(state.clone(), &uri, None).await;
    let path = file_of(dir.path(), &uri, st, &h, &b);
    assert_eq!(feature_count(&ogrinfo(&path, &["-so"])), 40);
    let (st, _, _) = get_with(state, "/layers/parcels/features?f=csv&limit=101", None).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
}
