//! `geoplan import` and `POST /import`: the province's files as they come
//! — Shapefiles whose `.prj` lacks the VN-2000 datum shift or is missing,
//! DBF text in TCVN3 and VNI, KML in WGS 84, a CSV of points, a bowtie, a
//! duplicate key — built here with ogr2ogr from sample features (the
//! truth), imported with one command into a copy of the sample (and into
//! PostGIS), and compared with the truth: where they landed, their
//! Vietnamese text, their codes and areas, and what the report says.

mod common;

use geo::{Area, Centroid};
use geo_types::{Geometry, Polygon};
use geoplan::model::{LayerData, ValueRef};
use geoplan::store::gpkg::GpkgStore;
use geoplan::store::source::encoding::{encode, TextEncoding};
use serde_json::{json, Value as Json};
use std::path::{Path, PathBuf};
use std::process::Command;

const SAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/sample.gpkg");

/// TM-3 107°45′ as survey software writes it: no TOWGS84.
const PRJ_NO_SHIFT: &str = r#"PROJCS["VN_2000_TM3_107_45",GEOGCS["GCS_VN_2000",DATUM["D_Vietnam_2000",SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",107.75],PARAMETER["Scale_Factor",0.9999],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]"#;

/// A private copy of the sample GeoPackage.
fn sample_copy() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sample.gpkg");
    std::fs::copy(SAMPLE, &path).unwrap();
    (dir, path)
}

fn layer(path: &Path, name: &str) -> LayerData {
    GpkgStore::open(path).unwrap().read_layer(name).unwrap()
}

fn text(d: &LayerData, row: usize, field: &str) -> Option<String> {
    match d.value(row, d.field_index(field).unwrap()) {
        ValueRef::Text(t) => Some(t.to_owned()),
        ValueRef::Int(i) => Some(i.to_string()),
        _ => None,
    }
}

fn real(d: &LayerData, row: usize, field: &str) -> f64 {
    d.value(row, d.field_index(field).unwrap())
        .as_f64()
        .unwrap()
}

/// A parcel of the truth, as a contractor's file carries it.
struct Truth {
    commune: String,
    sheet: i64,
    parcel: i64,
    area: f64,
    code: String,
    address: String,
    geometry: Polygon<f64>,
}

/// `n` parcels of one commune of the sample whose address `enc` can
/// write, renumbered onto sheets 500+ (keys the sample does not hold).
fn truth(n: usize, enc: TextEncoding) -> Vec<Truth> {
    let d = layer(Path::new(SAMPLE), "parcels");
    let commune = text(&d, 0, "commune_code").unwrap();
    let mut out = Vec::new();
    for row in 0..d.len() {
        if out.len() == n {
            break;
        }
        if text(&d, row, "commune_code").as_deref() != Some(&commune) {
            continue;
        }
        let address = text(&d, row, "address").unwrap_or_default();
        if address.is_empty() || encode(&address, enc).is_none() {
            continue;
        }
        let Some(Geometry::Polygon(geometry)) = d.geometry_of(row) else {
            continue;
        };
        out.push(Truth {
            commune: commune.clone(),
            sheet: 500
                + text(&d, row, "sheet_number")
                    .unwrap()
                    .parse::<i64>()
                    .unwrap(),
            parcel: text(&d, row, "parcel_number").unwrap().parse().unwrap(),
            area: real(&d, row, "legal_area"),
            code: text(&d, row, "land_use_code").unwrap(),
            address,
            geometry,
        });
    }
    assert_eq!(out.len(), n, "the sample has {n} parcels to test with");
    out
}

/// Text as a legacy DBF holds it: each byte of the encoding as one
/// Latin-1 char (ogr2ogr writes it back as those bytes).
fn latin1(s: &str, enc: TextEncoding) -> String {
    encode(s, enc)
        .unwrap_or_else(|| panic!("{s} has no {enc:?} form"))
        .into_iter()
        .map(char::from)
        .collect()
}

/// Runs ogr2ogr from a GeoJSON file of `features` (coordinates in
/// `s_srs`) into `out` with `extra` arguments.
fn ogr2ogr(dir: &Path, features: Vec<Json>, s_srs: &str, out: &Path, extra: &[&str]) {
    let src = dir.join(format!(
        "{}.src.geojson",
        out.file_stem().unwrap().to_string_lossy()
    ));
    std::fs::write(
        &src,
        json!({"type": "FeatureCollection", "features": features}).to_string(),
    )
    .unwrap();
    let st = Command::new("ogr2ogr")
        .args(extra)
        .args([
            if extra.contains(&"-t_srs") {
                "-s_srs"
            } else {
                "-a_srs"
            },
            s_srs,
        ])
        .arg(out)
        .arg(&src)
        .status()
        .expect("ogr2ogr (GDAL) must be installed");
    assert!(st.success(), "ogr2ogr into {}", out.display());
}

fn ring(p: &Polygon<f64>) -> Json {
    json!([p
        .exterior()
        .0
        .iter()
        .map(|c| json!([c.x, c.y]))
        .collect::<Vec<_>>()])
}

/// A Shapefile of the truth with the field names survey software uses
/// (SHBANDO, SoThua, DienTich, LoaiDat, DiaChi, MaXa), its text in `enc`.
/// `legacy` parcels carry the 2014 code BHK, `in_ha` their area in ha.
fn cadastral_shapefile(dir: &Path, t: &[Truth], enc: TextEncoding, prj: Option<&str>) -> PathBuf {
    let features = t
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let code = if i % 5 == 0 {
                "BHK".to_owned()
            } else {
                p.code.clone()
            };
            let area = if i % 7 == 0 {
                p.area / 10_000.0
            } else {
                p.area
            };
            json!({"type": "Feature", "properties": {
                "SHBANDO": p.sheet, "SoThua": p.parcel, "DienTich": area,
                "LoaiDat": code, "DiaChi": latin1(&p.address, enc), "MaXa": p.commune,
            }, "geometry": {"type": "Polygon", "coordinates": ring(&p.geometry)}})
        })
        .collect();
    let shp = dir.join("thua_dat.shp");
    ogr2ogr(
        dir,
        features,
        "EPSG:5899",
        &shp,
        &["-f", "ESRI Shapefile", "-lco", "ENCODING=ISO-8859-1"],
    );
    let prj_path = dir.join("thua_dat.prj");
    match prj {
        Some(text) => std::fs::write(prj_path, text).unwrap(),
        None => std::fs::remove_file(prj_path).unwrap(),
    }
    let _ = std::fs::remove_file(dir.join("thua_dat.cpg"));
    shp
}

/// Runs `geoplan import` with `args`; returns its success, its output and
/// the JSON report.
fn geoplan_import(args: &[&str]) -> (bool, String, Json) {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.json");
    let out = Command::new(env!("CARGO_BIN_EXE_geoplan"))
        .arg("import")
        .args(args)
        .arg("--report")
        .arg(&report)
        .env_remove("DATABASE_URL")
        .env_remove("GEOPLAN_CONFIG")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let json = std::fs::read(&report)
        .map(|b| serde_json::from_slice(&b).unwrap())
        .unwrap_or(Json::Null);
    (out.status.success(), text, json)
}

/// Row of a parcel by its key.
fn parcel_row(d: &LayerData, commune: &str, sheet: i64, parcel: i64) -> Option<usize> {
    (0..d.len()).find(|&r| {
        text(d, r, "commune_code").as_deref() == Some(commune)
            && text(d, r, "sheet_number") == Some(sheet.to_string())
            && text(d, r, "parcel_number") == Some(parcel.to_string())
    })
}

/// Every imported parcel is where the truth is (vertices within 1 mm),
/// with its text, its code brought up to date (the legacy one kept) and
/// its area in m².
fn assert_parcels_match(d: &LayerData, t: &[Truth]) {
    for (i, p) in t.iter().enumerate() {
        let row = parcel_row(d, &p.commune, p.sheet, p.parcel)
            .unwrap_or_else(|| panic!("parcel {}/{}/{} imported", p.commune, p.sheet, p.parcel));
        assert_eq!(
            text(d, row, "address").unwrap(),
            p.address,
            "parcel {i}: text"
        );
        let code = text(d, row, "land_use_code").unwrap();
        assert_eq!(
            code,
            if i % 5 == 0 { "HNK" } else { p.code.as_str() },
            "parcel {i}"
        );
        assert_eq!(
            text(d, row, "land_use_code_old").as_deref(),
            (i % 5 == 0).then_some("BHK"),
            "parcel {i}: the legacy code kept beside the current one"
        );
        assert!(
            (real(d, row, "legal_area") - p.area).abs() < 0.01,
            "parcel {i}: area"
        );
        let Some(Geometry::Polygon(g)) = d.geometry_of(row) else {
            panic!("parcel {i} is a polygon")
        };
        assert!((g.unsigned_area() - p.geometry.unsigned_area()).abs() < 1e-3);
        let (a, b) = (g.centroid().unwrap(), p.geometry.centroid().unwrap());
        assert!(
            (a.x() - b.x()).hypot(a.y() - b.y()) < 0.001,
            "parcel {i} moved"
        );
    }
}

#[test]
fn a_tcvn3_shapefile_without_its_datum_shift_lands_on_its_parcels() {
    let (_keep, gpkg) = sample_copy();
    let dir = tempfile::tempdir().unwrap();
    let t = truth(40, TextEncoding::Tcvn3);
    let shp = cadastral_shapefile(dir.path(), &t, TextEncoding::Tcvn3, Some(PRJ_NO_SHIFT));
    let before = layer(&gpkg, "parcels").len();
    let (ok, out, r) = geoplan_import(&[
        shp.to_str().unwrap(),
        "--layer",
        "parcels",
        "--gpkg",
        gpkg.to_str().unwrap(),
    ]);
    assert!(ok, "{out}");
    assert!(out.contains("tcvn3"), "{out}");
    assert_eq!(r["committed"], true, "{r}");
    assert_eq!(r["inserted"], 40, "{r}");
    assert_eq!(r["rejected"], 0, "{r}");
    let f = &r["files"][0];
    assert_eq!(f["encoding"], "tcvn3", "{f}");
    assert_eq!(f["crs"], "EPSG:5899", "{f}");
    assert!(
        f["crs_how"].as_str().unwrap().contains("datum shift"),
        "{f}"
    );
    assert_eq!(f["mapping"]["sheet_number"], "SHBANDO", "{f}");
    assert_eq!(f["mapping"]["address"], "DiaChi", "{f}");
    assert_eq!(r["land_use_mapped"]["BHK → HNK"], 8, "{r}");
    assert_eq!(r["land_use_old_kept"], 8, "{r}");
    assert!(out.contains("kept in land_use_code_old: 8"), "{out}");
    assert_eq!(r["area_in_ha"], 6, "{r}");
    let d = layer(&gpkg, "parcels");
    assert_eq!(d.len(), before + 40);
    assert_parcels_match(&d, &t);
}

#[test]
fn a_vni_shapefile_with_no_prj_is_placed_by_its_coordinates() {
    let (_keep, gpkg) = sample_copy();
    let dir = tempfile::tempdir().unwrap();
    let t = truth(25, TextEncoding::Vni);
    let shp = cadastral_shapefile(dir.path(), &t, TextEncoding::Vni, None);
    let (ok, out, r) = geoplan_import(&[
        shp.to_str().unwrap(),
        "--layer",
        "parcels",
        "--gpkg",
        gpkg.to_str().unwrap(),
    ]);
    assert!(ok, "{out}");
    let f = &r["files"][0];
    assert_eq!(f["encoding"], "vni", "{f}");
    assert_eq!(f["crs"], "EPSG:5899", "{f}");
    assert!(
        f["crs_how"].as_str().unwrap().contains("names no CRS"),
        "{f}"
    );
    assert_parcels_match(&layer(&gpkg, "parcels"), &t);
}

#[test]
fn upsert_updates_dry_run_and_broken_files_change_nothing() {
    let (_keep, gpkg) = sample_copy();
    let dir = tempfile::tempdir().unwrap();
    let t = truth(12, TextEncoding::Utf8);
    let shp = cadastral_shapefile(dir.path(), &t, TextEncoding::Utf8, Some(PRJ_NO_SHIFT));
    let g = gpkg.to_str().unwrap();
    let s = shp.to_str().unwrap();
    let before = layer(&gpkg, "parcels").len();
    // A dry run reads and reports, and writes nothing.
    let (ok, out, r) = geoplan_import(&[s, "--layer", "parcels", "--gpkg", g, "--dry-run"]);
    assert!(ok, "{out}");
    assert_eq!(
        (r["inserted"].clone(), r["committed"].clone()),
        (json!(12), json!(false))
    );
    assert_eq!(layer(&gpkg, "parcels").len(), before);
    // A broken file beside a good one: nothing is written.
    let broken = dir.path().join("hong.gpkg");
    std::fs::write(&broken, b"SQLite format 3\0 but not really").unwrap();
    let (ok, out, _) = geoplan_import(&[
        s,
        broken.to_str().unwrap(),
        "--layer",
        "parcels",
        "--gpkg",
        g,
    ]);
    assert!(!ok && out.contains("hong.gpkg"), "{out}");
    assert_eq!(layer(&gpkg, "parcels").len(), before);
    // Appended, then appended again: the keys are there already.
    let (ok, out, r) = geoplan_import(&[s, "--layer", "parcels", "--gpkg", g]);
    assert!(ok && r["inserted"] == 12, "{out}");
    let (ok, out, r) = geoplan_import(&[s, "--layer", "parcels", "--gpkg", g]);
    assert!(ok, "{out}");
    assert_eq!(r["inserted"], 0, "{r}");
    assert_eq!(
        r["rejected_by_reason"]["key already in the layer"], 12,
        "{r}"
    );
    // Upsert: the same features update theirs, none is added.
    let (ok, out, r) = geoplan_import(&[s, "--layer", "parcels", "--gpkg", g, "--mode", "upsert"]);
    assert!(ok, "{out}");
    assert_eq!(
        (r["updated"].clone(), r["inserted"].clone()),
        (json!(12), json!(0)),
        "{r}"
    );
    let d = layer(&gpkg, "parcels");
    assert_eq!(d.len(), before + 12);
    assert_parcels_match(&d, &t);
    // An unknown layer, mode or mapping field is a clear error.
    let (ok, out, _) = geoplan_import(&[s, "--layer", "thua", "--gpkg", g]);
    assert!(!ok && out.contains("parcels"), "{out}");
    let (ok, out, _) = geoplan_import(&[s, "--layer", "parcels", "--gpkg", g, "--mode", "merge"]);
    assert!(!ok && out.contains("upsert"), "{out}");
    let map = dir.path().join("map.toml");
    std::fs::write(&map, "[fields]\nsheet = \"SHBANDO\"\n").unwrap();
    let (ok, out, _) = geoplan_import(&[
        s,
        "--layer",
        "parcels",
        "--gpkg",
        g,
        "--mapping",
        map.to_str().unwrap(),
    ]);
    assert!(!ok && out.contains("'sheet'"), "{out}");
    assert_eq!(layer(&gpkg, "parcels").len(), before + 12);
}

/// A square of `side` metres at a TM-3 point, as a GeoJSON ring.
fn square(x: f64, y: f64, side: f64) -> Json {
    json!([[
        [x, y],
        [x + side, y],
        [x + side, y + side],
        [x, y + side],
        [x, y]
    ]])
}

/// A bowtie: a ring that crosses itself.
fn bowtie(x: f64, y: f64, side: f64) -> Json {
    json!([[
        [x, y],
        [x + side, y + side],
        [x + side, y],
        [x, y + side],
        [x, y]
    ]])
}

#[test]
fn bowties_duplicate_keys_and_missing_keys_are_repaired_or_reported() {
    let (_keep, gpkg) = sample_copy();
    let dir = tempfile::tempdir().unwrap();
    let (x, y) = (561_000.0, 1_756_000.0);
    let parcel = |sheet: i64, parcel: i64, geom: Json| {
        json!({"type": "Feature", "properties": {"MaXa": "20335", "SoTo": sheet, "SoThua": parcel,
            "DienTich": 400.0, "MucDich": "ODT", "DiaChi": "Thôn Phú Thạnh"},
            "geometry": {"type": "Polygon", "coordinates": geom}})
    };
    let parcels = vec![
        parcel(901, 1, square(x, y, 20.0)),
        parcel(901, 2, bowtie(x + 30.0, y, 20.0)),
        parcel(901, 1, square(x + 60.0, y, 20.0)),
        json!({"type": "Feature", "properties": {"SoThua": 4, "DienTich": 400.0},
            "geometry": {"type": "Polygon", "coordinates": square(x + 90.0, y, 20.0)}}),
    ];
    let file = dir.path().join("thua.geojson");
    ogr2ogr(dir.path(), parcels, "EPSG:5899", &file, &["-f", "GeoJSON"]);
    let before = layer(&gpkg, "parcels").len();
    let (ok, out, r) = geoplan_import(&[
        file.to_str().unwrap(),
        "--layer",
        "parcels",
        "--gpkg",
        gpkg.to_str().unwrap(),
    ]);
    assert!(ok, "{out}");
    assert_eq!(r["inserted"], 1, "{r}");
    assert_eq!(r["rejected"], 3, "{r}");
    let why = &r["rejected_by_reason"];
    assert_eq!(why["several parts"], 1, "{r}");
    assert_eq!(why["duplicate key"], 1, "{r}");
    assert_eq!(why["no key"], 1, "{r}");
    let dup = r["rejections"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["reason"] == "duplicate key")
        .unwrap();
    assert_eq!(dup["feature"], 3, "{dup}");
    assert!(
        dup["detail"].as_str().unwrap().contains("feature 1"),
        "{dup}"
    );
    assert!(out.contains("duplicate key"), "{out}");
    assert_eq!(layer(&gpkg, "parcels").len(), before + 1);

    // A zoning lot has no key of its own: its bowtie is repaired into
    // two valid lots of the same area.
    let lots = vec![
        json!({"type": "Feature", "properties": {"KyHieuLo": "OM-09",
        "ChucNang": "Đất ở mới", "MatDoXD": "60", "TangCao": "3-5", "HeSoSDD": "3,0"},
        "geometry": {"type": "Polygon", "coordinates": bowtie(x, y + 100.0, 40.0)}}),
    ];
    let file = dir.path().join("lo.geojson");
    ogr2ogr(dir.path(), lots, "EPSG:5899", &file, &["-f", "GeoJSON"]);
    let before = layer(&gpkg, "zoning_lots").len();
    let (ok, out, r) = geoplan_import(&[
        file.to_str().unwrap(),
        "--layer",
        "zoning_lots",
        "--gpkg",
        gpkg.to_str().unwrap(),
    ]);
    assert!(ok, "{out}");
    assert_eq!(
        (
            r["repaired"].clone(),
            r["split"].clone(),
            r["inserted"].clone()
        ),
        (json!(1), json!(1), json!(2)),
        "{r}"
    );
    let d = layer(&gpkg, "zoning_lots");
    assert_eq!(d.len(), before + 2);
    let mut area = 0.0;
    for row in before..d.len() {
        let g = d.geometry_of(row).unwrap();
        assert!(geo::Validation::is_valid(&g), "{g:?}");
        area += g.unsigned_area();
        assert_eq!(text(&d, row, "lot_symbol").as_deref(), Some("OM-09"));
        assert_eq!(text(&d, row, "function").as_deref(), Some("Đất ở mới"));
        assert_eq!(text(&d, row, "floors_min").as_deref(), Some("3"));
        assert_eq!(text(&d, row, "floors_max").as_deref(), Some("5"));
        assert_eq!(real(&d, row, "far"), 3.0);
        assert_eq!(real(&d, row, "density_pct"), 60.0);
    }
    // Two triangles of a quarter of the square each.
    assert!((area - 800.0).abs() < 1e-6, "{area}");
}

#[test]
fn kml_in_wgs84_and_a_csv_of_points_are_placed_and_read() {
    let (_keep, gpkg) = sample_copy();
    let dir = tempfile::tempdir().unwrap();
    // Zoning lots of the sample, as an investor's KML in WGS 84.
    let lots = layer(Path::new(SAMPLE), "zoning_lots");
    let mut features = Vec::new();
    for row in 0..5 {
        let Some(Geometry::Polygon(p)) = lots.geometry_of(row) else {
            panic!("lots are polygons")
        };
        features.push(json!({"type": "Feature", "properties": {
            "KyHieuLo": format!("KML-{row}"), "ChucNang": "Đất thương mại dịch vụ"},
            "geometry": {"type": "Polygon", "coordinates": ring(&p)}}));
    }
    let kml = dir.path().join("du_an.kml");
    ogr2ogr(
        dir.path(),
        features,
        "EPSG:5899",
        &kml,
        &["-f", "KML", "-t_srs", "EPSG:4326"],
    );
    let before = layer(&gpkg, "zoning_lots").len();
    let (ok, out, r) = geoplan_import(&[
        kml.to_str().unwrap(),
        "--layer",
        "zoning_lots",
        "--gpkg",
        gpkg.to_str().unwrap(),
    ]);
    assert!(ok, "{out}");
    assert_eq!(r["files"][0]["crs"], "CRS:84", "{r}");
    assert_eq!(r["inserted"], 5, "{r}");
    let d = layer(&gpkg, "zoning_lots");
    for row in 0..5 {
        let new = before + row;
        assert_eq!(text(&d, new, "lot_symbol"), Some(format!("KML-{row}")));
        assert_eq!(
            text(&d, new, "function").as_deref(),
            Some("Đất thương mại dịch vụ")
        );
        let (a, b) = (d.geometry_of(new).unwrap(), lots.geometry_of(row).unwrap());
        // Through WGS 84 and back (KML keeps 15 digits): millimetres.
        assert!((a.unsigned_area() - b.unsigned_area()).abs() < 0.01 * b.unsigned_area().sqrt());
        let (ca, cb) = (a.centroid().unwrap(), b.centroid().unwrap());
        assert!((ca.x() - cb.x()).hypot(ca.y() - cb.y()) < 0.01);
    }

    // A CSV of points with Vietnamese column names, in Windows-1258.
    let rows = [
        ("Chợ Hàn", "chợ", 108.2244, 16.0680),
        ("Cầu Rồng", "cầu", 108.2278, 16.0613),
        ("Bến xe Đà Nẵng", "bến xe", 108.1716, 16.0555),
    ];
    let mut csv = String::from("Ten,Loai,Kinh_do,Vi_do\n");
    for (n, k, x, y) in rows {
        csv.push_str(&format!("{n},{k},{x},{y}\n"));
    }
    let file = dir.path().join("diem.csv");
    std::fs::write(&file, encode(&csv, TextEncoding::Cp1258).unwrap()).unwrap();
    let before = layer(&gpkg, "pois").len();
    let (ok, out, r) = geoplan_import(&[
        file.to_str().unwrap(),
        "--layer",
        "pois",
        "--gpkg",
        gpkg.to_str().unwrap(),
    ]);
    assert!(ok, "{out}");
    assert_eq!(r["files"][0]["encoding"], "cp1258", "{r}");
    assert_eq!(r["files"][0]["crs"], "CRS:84", "{r}");
    assert_eq!(r["inserted"], 3, "{r}");
    let d = layer(&gpkg, "pois");
    for (i, (n, k, x, y)) in rows.iter().enumerate() {
        let row = before + i;
        assert_eq!(text(&d, row, "name").as_deref(), Some(*n));
        assert_eq!(text(&d, row, "kind").as_deref(), Some(*k));
        let Some(Geometry::Point(p)) = d.geometry_of(row) else {
            panic!("a point")
        };
        let ll = geoplan::crs::transform_one(
            geoplan::crs::VN2000_TM3_10745,
            geoplan::crs::Crs::Crs84,
            p.0,
        )
        .unwrap();
        assert!((ll.x - x).abs() < 1e-7 && (ll.y - y).abs() < 1e-7, "{ll:?}");
    }
    // A file read as somewhere else is refused, and nothing is written.
    let far = dir.path().join("ha_noi.csv");
    std::fs::write(
        &far,
        "Ten,Loai,Kinh_do,Vi_do\nHồ Gươm,hồ,105.8524,21.0287\n",
    )
    .unwrap();
    let (ok, out, _) = geoplan_import(&[
        far.to_str().unwrap(),
        "--layer",
        "pois",
        "--gpkg",
        gpkg.to_str().unwrap(),
    ]);
    assert!(!ok && out.contains("Thành phố Đà Nẵng"), "{out}");
    assert_eq!(layer(&gpkg, "pois").len(), before + 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgis_imports_in_one_transaction() {
    use geoplan::store::{postgis::PostgisStore, Store};
    let db = common::PgDb::new("import").await;
    let st = Command::new(env!("CARGO_BIN_EXE_geoplan"))
        .args(["load", "--from", SAMPLE, "--database-url", &db.url])
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    let pg = Store::Postgis(PostgisStore::connect(&db.url).await.unwrap());
    let mut listener = sqlx::postgres::PgListener::connect(&db.url).await.unwrap();
    listener.listen("geoplan_changes").await.unwrap();
    let before = pg.read_layer("parcels").await.unwrap().len();
    let dir = tempfile::tempdir().unwrap();
    // A large import (1,200 parcels of a new sheet) is one notification:
    // reload the layer, not 1,200 of one fid each.
    let (x0, y0) = (561_000.0, 1_756_000.0);
    let grid: Vec<Json> = (0..1200)
        .map(|i| {
            let (x, y) = (x0 + f64::from(i % 40) * 12.0, y0 + f64::from(i / 40) * 12.0);
            json!({"type": "Feature", "properties": {"MaXa": "20335", "SoTo": 990, "SoThua": i + 1,
                "DienTich": 100.0, "MucDich": "LUC"},
                "geometry": {"type": "Polygon", "coordinates": square(x, y, 10.0)}})
        })
        .collect();
    let file = dir.path().join("to990.geojson");
    ogr2ogr(dir.path(), grid, "EPSG:5899", &file, &["-f", "GeoJSON"]);
    let (f, url) = (file.to_str().unwrap().to_owned(), db.url.clone());
    let (ok, out, r) = tokio::task::spawn_blocking(move || {
        geoplan_import(&[&f, "--layer", "parcels", "--database-url", &url])
    })
    .await
    .unwrap();
    assert!(ok && r["inserted"] == 1200, "{out}");
    let mut said = Vec::new();
    while let Ok(Ok(n)) =
        tokio::time::timeout(std::time::Duration::from_secs(2), listener.recv()).await
    {
        said.push(serde_json::from_str::<Json>(n.payload()).unwrap());
    }
    assert_eq!(said, [json!({"layer": "parcels", "all": true})], "{said:?}");
    let before = before + 1200;
    let t = truth(30, TextEncoding::Tcvn3);
    let shp = cadastral_shapefile(dir.path(), &t, TextEncoding::Tcvn3, Some(PRJ_NO_SHIFT));
    let s = shp.to_str().unwrap().to_owned();
    let url = db.url.clone();
    let (ok, out, r) = tokio::task::spawn_blocking(move || {
        geoplan_import(&[&s, "--layer", "parcels", "--database-url", &url])
    })
    .await
    .unwrap();
    assert!(ok, "{out}");
    assert_eq!(r["inserted"], 30, "{r}");
    let d = pg.read_layer("parcels").await.unwrap();
    assert_eq!(d.len(), before + 30);
    assert_parcels_match(&d, &t);

    // Plans keyed by name here: two plans named alike pass the import's
    // check, but the second's code is one PostGIS holds already (UNIQUE):
    // the store refuses, and neither is written.
    let plans = pg.read_layer("plans").await.unwrap();
    let taken = match plans.value(0, plans.field_index("code").unwrap()) {
        ValueRef::Text(t) => t.to_owned(),
        v => panic!("{v:?}"),
    };
    let (x, y) = (561_000.0, 1_756_000.0);
    let feats = vec![
        json!({"type": "Feature", "properties": {"MaQH": "QH-NEW-1", "Ten": "Quy hoạch thử 1"},
            "geometry": {"type": "Polygon", "coordinates": square(x, y, 500.0)}}),
        json!({"type": "Feature", "properties": {"MaQH": taken, "Ten": "Quy hoạch thử 2"},
            "geometry": {"type": "Polygon", "coordinates": square(x + 600.0, y, 500.0)}}),
    ];
    let file = dir.path().join("quy_hoach.geojson");
    ogr2ogr(dir.path(), feats, "EPSG:5899", &file, &["-f", "GeoJSON"]);
    let f = file.to_str().unwrap().to_owned();
    let url = db.url.clone();
    let (ok, out, _) = tokio::task::spawn_blocking(move || {
        geoplan_import(&[
            &f,
            "--layer",
            "plans",
            "--key",
            "name",
            "--database-url",
            &url,
        ])
    })
    .await
    .unwrap();
    assert!(!ok, "{out}");
    assert_eq!(
        pg.read_layer("plans").await.unwrap().len(),
        plans.len(),
        "{out}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn post_import_takes_a_shapefile_from_an_editor_and_the_map_shows_it() {
    use axum::body::Body;
    use axum::http::{header, Request, StatusCode};
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    const USER: &str = "nguyen.van.an";
    const PASSWORD: &str = "Đất đai Quảng Nam 2025";
    const MB: usize = 1024 * 1024;
    let mut cfg = geoplan::config::Config::default();
    cfg.ogc.editable = vec!["parcels".into()];
    cfg.ogc.users.insert(
        USER.into(),
        geoplan::http::auth::hash_password(PASSWORD).unwrap(),
    );
    // Uploads have their own limit, far above other bodies' (and axum's
    // 2 MB default).
    cfg.limits.max_body_bytes = MB;
    cfg.limits.max_upload_bytes = 4 * MB;
    let (_keep, state) = common::sample_copy(cfg).await;
    let dir = tempfile::tempdir().unwrap();
    let t = truth(10, TextEncoding::Vni);
    cadastral_shapefile(dir.path(), &t, TextEncoding::Vni, Some(PRJ_NO_SHIFT));
    // The loose parts of the Shapefile, as a browser sends them.
    let boundary = "geoplan-import-boundary";
    let mut body: Vec<u8> = Vec::new();
    let mut part = |name: &str, file: Option<&str>, bytes: &[u8]| {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        match file {
            Some(f) => body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes(),
            ),
            None => body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
            ),
        }
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    };
    part("layer", None, b"parcels");
    for ext in ["shp", "shx", "dbf", "prj"] {
        let f = format!("thua_dat.{ext}");
        part(
            "file",
            Some(&f),
            &std::fs::read(dir.path().join(&f)).unwrap(),
        );
    }
    // ArcGIS's metadata beside it, 3 MB: read with the upload, never alone.
    let metadata = format!("<metadata>{}</metadata>", "x".repeat(3 * MB));
    part("file", Some("thua_dat.shp.xml"), metadata.as_bytes());
    let mut too_large = body.clone();
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    too_large.extend_from_slice(&vec![b' '; 2 * MB]);
    too_large.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    let send = |authz: Option<String>, body: Vec<u8>| {
        let mut req = Request::post("/import").header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={boundary}"),
        );
        if let Some(a) = authz {
            req = req.header(header::AUTHORIZATION, a);
        }
        req.body(Body::from(body)).unwrap()
    };
    let before = state.data.engine.snapshot().layer("parcels").unwrap().len();
    // Anonymous: 401, nothing written.
    let res = geoplan::http::app(state.clone())
        .oneshot(send(None, body.clone()))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    use base64::Engine as _;
    let authz = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"))
    );
    // Over max_upload_bytes: 413 naming the limit, nothing written.
    let res = geoplan::http::app(state.clone())
        .oneshot(send(Some(authz.clone()), too_large))
        .await
        .unwrap();
    let status = res.status();
    let text = res.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        String::from_utf8_lossy(&text).contains("max_upload_bytes"),
        "{}",
        String::from_utf8_lossy(&text)
    );
    assert_eq!(
        state.data.engine.snapshot().layer("parcels").unwrap().len(),
        before
    );
    let res = geoplan::http::app(state.clone())
        .oneshot(send(Some(authz.clone()), body))
        .await
        .unwrap();
    let status = res.status();
    let r: Json =
        serde_json::from_slice(&res.into_body().collect().await.unwrap().to_bytes()).unwrap();
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!(r["inserted"], 10, "{r}");
    assert_eq!(r["files"][0]["encoding"], "vni", "{r}");
    assert!(
        r["summary"]
            .as_str()
            .unwrap()
            .contains("imported into layer parcels"),
        "{r}"
    );
    // The engine (features, tiles) has them, without a reload.
    let cat = state.data.engine.snapshot();
    assert_eq!(cat.layer("parcels").unwrap().len(), before + 10);
    let p = &t[3];
    let uri = format!(
        "/parcels?commune={}&sheet={}&parcel={}",
        p.commune, p.sheet, p.parcel
    );
    let res = geoplan::http::app(state.clone())
        .oneshot(Request::get(&uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let st = res.status();
    let found: Json =
        serde_json::from_slice(&res.into_body().collect().await.unwrap().to_bytes()).unwrap();
    assert_eq!(st, StatusCode::OK, "{uri}: {found}");
    assert!(found.to_string().contains(&p.address), "{found}");
    // A body that is no form is a 400 naming the problem.
    let res = geoplan::http::app(state.clone())
        .oneshot(send(Some(authz), b"not a form".to_vec()))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        state.data.engine.snapshot().layer("parcels").unwrap().len(),
        before + 10
    );
}

#[test]
fn a_dgn_v7_of_shapes_and_labels_becomes_parcels() {
    use geo::InteriorPoint;
    let (_keep, gpkg) = sample_copy();
    let dir = tempfile::tempdir().unwrap();
    let t = truth(15, TextEncoding::Utf8);
    // Famis draws a sheet: each parcel a shape, its label "số thửa /
    // diện tích / loại đất" a text element inside it (decimal comma
    // for some); a stray label and a road line besides.
    let mut features = Vec::new();
    for (i, p) in t.iter().enumerate() {
        features.push(json!({"type": "Feature", "properties": {"label": null},
            "geometry": {"type": "Polygon", "coordinates": ring(&p.geometry)}}));
        let at = p.geometry.interior_point().unwrap();
        let area = if i % 2 == 0 {
            format!("{:.1}", p.area)
        } else {
            format!("{:.1}", p.area).replace('.', ",")
        };
        features.push(json!({"type": "Feature",
            "properties": {"label": format!("{}/{area}/{}", i + 1, p.code)},
            "geometry": {"type": "Point", "coordinates": [at.x(), at.y()]}}));
    }
    let far = t[0].geometry.exterior().0[0];
    features.push(json!({"type": "Feature", "properties": {"label": "QL1A"},
        "geometry": {"type": "Point", "coordinates": [far.x + 5000.0, far.y + 5000.0]}}));
    features.push(json!({"type": "Feature", "properties": {"label": null},
        "geometry": {"type": "LineString", "coordinates": [[far.x, far.y], [far.x + 900.0, far.y]]}}));
    let src = dir.path().join("to777.geojson");
    std::fs::write(
        &src,
        json!({"type": "FeatureCollection", "features": features}).to_string(),
    )
    .unwrap();
    let dgn = dir.path().join("to777.dgn");
    let st = Command::new("ogr2ogr")
        .args(["-f", "DGN", "-dsco", "ORIGIN=0,0,0", "-dsco", "SUB_UNITS_PER_MASTER_UNIT=1000"])
        .args(["-dsco", "UOR_PER_SUB_UNIT=1", "-dialect", "sqlite", "-sql"])
        .arg("SELECT geometry, CASE WHEN label IS NOT NULL THEN 'LABEL(t:\"' || label || '\")' END AS OGR_STYLE FROM to777")
        .arg(&dgn)
        .arg(&src)
        .output()
        .unwrap();
    assert!(dgn.exists(), "{}", String::from_utf8_lossy(&st.stderr));
    let map = dir.path().join("to777.toml");
    std::fs::write(
        &map,
        format!(
            "[values]\ncommune_code = \"{}\"\nsheet_number = 777\n",
            t[0].commune
        ),
    )
    .unwrap();
    let (ok, out, r) = geoplan_import(&[
        dgn.to_str().unwrap(),
        "--layer",
        "parcels",
        "--mapping",
        map.to_str().unwrap(),
        "--gpkg",
        gpkg.to_str().unwrap(),
    ]);
    assert!(ok, "{out}");
    assert_eq!(r["inserted"], 15, "{r}");
    let f = &r["files"][0];
    assert_eq!(f["crs"], "EPSG:5899", "{f}");
    let notes = f["notes"].to_string();
    assert!(
        notes.contains("15 shapes") && notes.contains("1 text elements lie in no shape"),
        "{f}"
    );
    assert!(notes.contains("1 other elements"), "{f}");
    let d = layer(&gpkg, "parcels");
    for (i, p) in t.iter().enumerate() {
        let row = parcel_row(&d, &p.commune, 777, i as i64 + 1).expect("imported");
        assert_eq!(text(&d, row, "land_use_code").unwrap(), p.code);
        assert!((real(&d, row, "legal_area") - p.area).abs() < 0.051, "{i}");
        let g = d.geometry_of(row).unwrap();
        // DGN v7 keeps whole units of resolution (here millimetres).
        assert!(
            (g.unsigned_area() - p.geometry.unsigned_area()).abs()
                < 0.02 * p.geometry.exterior().0.len() as f64 + 0.5
        );
        let (a, b) = (g.centroid().unwrap(), p.geometry.centroid().unwrap());
        assert!(
            (a.x() - b.x()).hypot(a.y() - b.y()) < 0.01,
            "parcel {i} moved: {g:?} vs {:?}",
            p.geometry
        );
    }
}

/// What a GIS officer sees after an import: real QGIS (its WFS provider,
/// as the dialog sets it up) reads the imported parcels of a TCVN3
/// Shapefile with their Vietnamese text intact, the legacy land-use code
/// beside the current one, and each where the file put it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn qgis_reads_imported_parcels_in_place_with_their_text() {
    use geoplan::http::{app, AppState};
    use geoplan::store::Store;
    let (_keep, gpkg) = sample_copy();
    let dir = tempfile::tempdir().unwrap();
    let t = truth(20, TextEncoding::Tcvn3);
    let shp = cadastral_shapefile(dir.path(), &t, TextEncoding::Tcvn3, Some(PRJ_NO_SHIFT));
    let (ok, out, _) = geoplan_import(&[
        shp.to_str().unwrap(),
        "--layer",
        "parcels",
        "--gpkg",
        gpkg.to_str().unwrap(),
    ]);
    assert!(ok, "{out}");
    let state = AppState::new(
        Store::Gpkg(GpkgStore::open(&gpkg).unwrap()),
        geoplan::config::Config::default(),
    );
    state.load_all().await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = app(state);
    tokio::spawn(async move { axum::serve(listener, router).await });
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/clients/qgis_import_check.py"
    );
    let runtime = tempfile::tempdir().unwrap();
    let runtime_dir = runtime.path().to_owned();
    let (commune, sheet_min) = (
        t[0].commune.clone(),
        t.iter().map(|p| p.sheet).min().unwrap(),
    );
    let out = tokio::task::spawn_blocking(move || {
        Command::new("/usr/bin/python3")
            .args([script, &base, &commune, &sheet_min.to_string()])
            .env("QT_QPA_PLATFORM", "offscreen")
            .env("XDG_RUNTIME_DIR", &runtime_dir)
            .output()
            .expect("Debian's python3 runs (make test installs python3-qgis)")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "QGIS failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seen: Vec<Json> = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("PARCEL "))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        seen.len(),
        t.len(),
        "QGIS reads every imported parcel\n{stdout}"
    );
    for (i, p) in t.iter().enumerate() {
        let q = seen
            .iter()
            .find(|q| q["sheet_number"] == p.sheet && q["parcel_number"] == p.parcel)
            .unwrap_or_else(|| panic!("parcel {i} in QGIS\n{stdout}"));
        assert_eq!(q["address"], p.address.as_str(), "parcel {i}: text");
        let (code, old) = match i % 5 {
            0 => ("HNK", json!("BHK")),
            _ => (p.code.as_str(), Json::Null),
        };
        assert_eq!(q["land_use_code"], code, "parcel {i}");
        assert_eq!(q["land_use_code_old"], old, "parcel {i}");
        let c = p.geometry.centroid().unwrap();
        let (x, y) = (q["x"].as_f64().unwrap(), q["y"].as_f64().unwrap());
        assert!(
            (x - c.x()).hypot(y - c.y()) < 0.01,
            "parcel {i} is at ({x}, {y}) in QGIS ({}), the file has ({}, {})",
            q["crs"],
            c.x(),
            c.y()
        );
    }
}
