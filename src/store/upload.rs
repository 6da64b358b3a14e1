//! A proposed site read from a file a user uploads (a zipped Shapefile, a
//! GeoPackage, KML, GeoJSON, GML) with GDAL, from memory, never touching
//! the stores: the polygons of the file's first layer that has features,
//! in the CRS [`super::source`] decides for it (and says how).

use super::source::{self, SourceError, SourceOptions};
use crate::crs::Crs;
use geo_types::{Geometry, MultiPolygon, Polygon};

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
    /// GDAL cannot read it, or its CRS cannot be told.
    #[error(transparent)]
    Source(#[from] SourceError),
    /// No polygon in it.
    #[error("{0}: holds no polygon; a site is a Polygon or MultiPolygon")]
    NoPolygon(String),
}

/// Reads the polygons of the first layer that has features. `name` is the
/// file's name as uploaded; its extension tells a zip from the rest.
pub fn read_site(bytes: &[u8], name: &str) -> Result<SiteFile, UploadError> {
    let src = source::read_bytes(bytes, name, &SourceOptions::default())?;
    let mut polys: Vec<Polygon<f64>> = Vec::new();
    let mut features = 0;
    for f in src.features {
        let before = polys.len();
        if let Some(g) = f.geometry {
            collect(g, &mut polys);
        }
        if polys.len() > before {
            features += 1;
        }
    }
    if polys.is_empty() {
        return Err(UploadError::NoPolygon(name.to_owned()));
    }
    let site = if polys.len() == 1 {
        Geometry::Polygon(polys.remove(0))
    } else {
        Geometry::MultiPolygon(MultiPolygon(polys))
    };
    Ok(SiteFile {
        site,
        crs: src.crs,
        how: src.crs_how,
        layer: src.layer,
        features,
    })
}

/// Polygons of `g`.
fn collect(g: Geometry<f64>, out: &mut Vec<Polygon<f64>>) {
    match g {
        Geometry::Polygon(p) => out.push(p),
        Geometry::MultiPolygon(m) => out.extend(m.0),
        Geometry::GeometryCollection(c) => c.0.into_iter().for_each(|g| collect(g, out)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_unreadable_and_says_so() {
        let e = read_site(b"not a shapefile", "khu-dat.zip").unwrap_err();
        assert!(
            matches!(e, UploadError::Source(SourceError::Unreadable { .. })),
            "{e}"
        );
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
