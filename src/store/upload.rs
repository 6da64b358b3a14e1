//! A proposed site read from a file a user uploads (a zipped Shapefile, a
//! GeoPackage, KML, GeoJSON, GML) with GDAL, from memory (`/vsimem/`,
//! removed after), never touching the stores. Its CRS is decided as the
//! province's files need: an EPSG code geoplan supports is taken as is; a
//! `.prj` describing TM-3 107°45′ (k = 0.9999, false easting 500 km) but
//! carrying no datum shift — what survey software writes for VN-2000 — is
//! read as EPSG:5899; geographic WGS 84 as CRS84 (lon/lat); a file with no
//! CRS is placed by its coordinate ranges (degrees of the province, or
//! TM-3 eastings/northings). The answer says how it decided.

use crate::crs::{self, Crs};
use gdal::vector::LayerAccess;
use gdal::{Dataset, DatasetOptions, GdalOpenFlags};
use geo_types::{Coord, Geometry, MultiPolygon, Polygon, Rect};
use std::sync::atomic::{AtomicU64, Ordering};

/// The site found in a file.
#[derive(Debug, Clone)]
pub struct SiteFile {
    /// Its polygons, in `crs` (x = easting or longitude).
    pub site: Geometry<f64>,
    /// The CRS the coordinates are in.
    pub crs: Crs,
    /// How the CRS was decided, in English.
    pub how: String,
    /// The layer it came from.
    pub layer: String,
    /// Polygon features read (all of them make the site).
    pub features: usize,
}

/// Why a file gives no site (each a 400).
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum UploadError {
    /// GDAL cannot read it.
    #[error("{name}: not a file GDAL can read as vector data (zipped Shapefile, GeoPackage, KML, GeoJSON, GML): {why}")]
    Unreadable {
        /// The file's name.
        name: String,
        /// GDAL's reason.
        why: String,
    },
    /// No polygon in it.
    #[error("{0}: holds no polygon; a site is a Polygon or MultiPolygon")]
    NoPolygon(String),
    /// Its CRS cannot be told.
    #[error("{0}")]
    Crs(String),
}

/// Where the province lies, lon/lat, with a margin: a file read outside is
/// read wrongly.
const PROVINCE: [f64; 4] = [107.0, 14.5, 109.0, 16.5];

/// TM-3 eastings and northings that fall in the province.
const TM3_RANGE: [f64; 4] = [300_000.0, 1_600_000.0, 700_000.0, 1_850_000.0];

/// How a TM-3 107°45′ `.prj` without TOWGS84 is read.
const NO_SHIFT: &str = "the .prj describes TM-3 107°45′ (k 0.9999) without the VN-2000 datum shift: read as VN-2000 / TM-3 107°45′ (EPSG:5899), with it";

static SEQ: AtomicU64 = AtomicU64::new(0);

/// Reads the polygons of the first layer that has any. `name` is the
/// file's name as uploaded; its extension tells a zip from the rest.
pub fn read_site(bytes: &[u8], name: &str) -> Result<SiteFile, UploadError> {
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let dir = format!(
        "/vsimem/geoplan-upload-{}-{}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    );
    let mem = format!("{dir}/{safe}");
    let unreadable = |why: String| UploadError::Unreadable {
        name: name.to_owned(),
        why,
    };
    gdal::vsi::create_mem_file(&mem, bytes.to_vec()).map_err(|e| unreadable(e.to_string()))?;
    let open = if safe.to_ascii_lowercase().ends_with(".zip") {
        format!("/vsizip/{mem}")
    } else {
        mem.clone()
    };
    let out = read_open(&open, name);
    let _ = gdal::vsi::unlink_mem_file(&mem);
    out
}

fn read_open(path: &str, name: &str) -> Result<SiteFile, UploadError> {
    let ds = Dataset::open_ex(
        path,
        DatasetOptions {
            open_flags: GdalOpenFlags::GDAL_OF_VECTOR | GdalOpenFlags::GDAL_OF_READONLY,
            ..Default::default()
        },
    )
    .map_err(|e| UploadError::Unreadable {
        name: name.to_owned(),
        why: e.to_string(),
    })?;
    for mut layer in ds.layers() {
        let mut polys: Vec<Polygon<f64>> = Vec::new();
        let mut features = 0;
        for f in layer.features() {
            let Some(g) = f.geometry() else { continue };
            let Ok(g) = g.to_geo() else { continue };
            let before = polys.len();
            collect(g, &mut polys);
            if polys.len() > before {
                features += 1;
            }
        }
        if polys.is_empty() {
            continue;
        }
        let site = if polys.len() == 1 {
            Geometry::Polygon(polys.remove(0))
        } else {
            Geometry::MultiPolygon(MultiPolygon(polys))
        };
        let (crs, how) = decide_crs(layer.spatial_ref(), &site, name)?;
        return Ok(SiteFile {
            site,
            crs,
            how,
            layer: layer.name(),
            features,
        });
    }
    Err(UploadError::NoPolygon(name.to_owned()))
}

/// Polygons of `g`, Z dropped (geo-types holds none).
fn collect(g: Geometry<f64>, out: &mut Vec<Polygon<f64>>) {
    match g {
        Geometry::Polygon(p) => out.push(p),
        Geometry::MultiPolygon(m) => out.extend(m.0),
        Geometry::GeometryCollection(c) => c.0.into_iter().for_each(|g| collect(g, out)),
        _ => {}
    }
}

fn bbox(g: &Geometry<f64>) -> Option<Rect<f64>> {
    use geo::BoundingRect;
    g.bounding_rect()
}

fn inside(r: Rect<f64>, b: [f64; 4]) -> bool {
    r.min().x >= b[0] && r.min().y >= b[1] && r.max().x <= b[2] && r.max().y <= b[3]
}

/// The CRS of the coordinates and how it was decided.
fn decide_crs(
    srs: Option<gdal::spatial_ref::SpatialRef>,
    site: &Geometry<f64>,
    name: &str,
) -> Result<(Crs, String), UploadError> {
    let r = bbox(site).ok_or_else(|| UploadError::NoPolygon(name.to_owned()))?;
    let (crs, how) = match srs {
        // GeoJSON always says WGS 84, whatever its coordinates are.
        Some(s) if s.is_geographic() && inside(r, TM3_RANGE) => (
            crs::VN2000_TM3_10745,
            "the file says WGS 84 but holds eastings/northings of the province: read as VN-2000 / TM-3 107°45′ (EPSG:5899)".to_owned(),
        ),
        Some(s) => from_srs(&s, name)?,
        None if inside(r, PROVINCE) => (
            Crs::Crs84,
            "the file names no CRS; its coordinates are degrees of the province, read as WGS 84 longitude/latitude".to_owned(),
        ),
        None if inside(r, TM3_RANGE) => (
            crs::VN2000_TM3_10745,
            "the file names no CRS; its coordinates are eastings/northings of the province, read as VN-2000 / TM-3 107°45′ (EPSG:5899)".to_owned(),
        ),
        None => {
            return Err(UploadError::Crs(format!(
                "{name}: names no CRS, and its coordinates ({:.3}, {:.3} … {:.3}, {:.3}) are neither degrees nor VN-2000 TM-3 metres of Thành phố Đà Nẵng; save it with a .prj",
                r.min().x, r.min().y, r.max().x, r.max().y
            )))
        }
    };
    // A guess that puts the site outside the province is refused.
    let corners = [r.min(), r.max()];
    let mut ll: Vec<Coord<f64>> = corners.to_vec();
    crs::transform(crs, Crs::Crs84, &mut ll).map_err(|e| UploadError::Crs(e.to_string()))?;
    let lr = Rect::new(ll[0], ll[1]);
    if !inside(lr, PROVINCE) {
        return Err(UploadError::Crs(format!(
            "{name}: read as {}, the site lies at {:.4}, {:.4} (lon, lat), outside Thành phố Đà Nẵng; the file's CRS is wrong or missing",
            crs.urn(),
            (lr.min().x + lr.max().x) / 2.0,
            (lr.min().y + lr.max().y) / 2.0
        )));
    }
    Ok((crs, how))
}

fn from_srs(s: &gdal::spatial_ref::SpatialRef, name: &str) -> Result<(Crs, String), UploadError> {
    let told = s.auth_code().is_ok();
    let shift = s.to_wkt().is_ok_and(|w| w.contains("TOWGS84"));
    let mut s = s.clone();
    let _ = s.auto_identify_epsg();
    if let Ok(code) = s.auth_code() {
        if s.is_geographic() && code == 4326 {
            return Ok((
                Crs::Crs84,
                "WGS 84 (EPSG:4326) as the file says, longitude/latitude".to_owned(),
            ));
        }
        if let Ok(c) = Crs::parse(&format!("EPSG:{code}")) {
            let how = if c == crs::VN2000_TM3_10745 && !shift {
                NO_SHIFT.to_owned()
            } else if told {
                format!("EPSG:{code} as the file says")
            } else {
                format!("the .prj matches EPSG:{code}")
            };
            return Ok((c, how));
        }
    }
    let param = |n: &str| s.get_proj_param(n).ok().flatten();
    let tm = s
        .get_attr_value("PROJECTION", 0)
        .ok()
        .flatten()
        .is_some_and(|p| p.to_ascii_lowercase().contains("transverse_mercator"));
    let near = |v: Option<f64>, want: f64, tol: f64| v.is_some_and(|v| (v - want).abs() <= tol);
    if tm
        && near(param("central_meridian"), 107.75, 1e-6)
        && near(param("scale_factor"), 0.9999, 1e-9)
        && near(param("false_easting"), 500_000.0, 1e-3)
        && near(param("false_northing"), 0.0, 1e-3)
    {
        return Ok((crs::VN2000_TM3_10745, NO_SHIFT.to_owned()));
    }
    if s.is_geographic() {
        return Ok((
            Crs::Crs84,
            "a geographic CRS without an EPSG code, read as WGS 84 longitude/latitude".to_owned(),
        ));
    }
    Err(UploadError::Crs(format!(
        "{name}: its CRS ({}) is not one geoplan reads; use WGS 84, VN-2000 / TM-3 107°45′ (EPSG:5899) or another supported EPSG code",
        s.to_proj4().unwrap_or_else(|_| "unnamed".into()).trim()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_unreadable_and_says_so() {
        let e = read_site(b"not a shapefile", "khu-dat.zip").unwrap_err();
        assert!(matches!(e, UploadError::Unreadable { .. }), "{e}");
        assert!(e.to_string().starts_with("khu-dat.zip"));
    }

    #[test]
    fn a_geojson_without_polygons_has_no_site() {
        let g = br#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[108.2,16.0]}}]}"#;
        assert_eq!(
            read_site(g, "diem.geojson").unwrap_err(),
            UploadError::NoPolygon("diem.geojson".into())
        );
    }

    #[test]
    fn degrees_outside_the_province_are_refused() {
        let g = br#"{"type":"Polygon","coordinates":[[[105.8,21.0],[105.81,21.0],[105.81,21.01],[105.8,21.0]]]}"#;
        let e = read_site(g, "ha-noi.geojson").unwrap_err();
        assert!(e.to_string().contains("outside"), "{e}");
    }
}
