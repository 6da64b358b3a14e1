//! Feature results as downloaded files (GeoPackage, zipped Shapefile, KML,
//! CSV, XLSX; see [`crate::store::export`]): engine features fed to the
//! writer one at a time with their geometry reprojected, on the blocking
//! pool, and the finished file streamed from disk with a meaningful name
//! (`parcels-2026-12-06.gpkg`, `parcels-108.31_15.86_108.35_15.89.zip`).
//! `/layers/{id}/features`, OGC API items, WFS GetFeature and `/sites`
//! answer files through here.

use super::error::ApiError;
use crate::crs::{self, Crs, WEB_MERCATOR};
use crate::engine::{FeatureRef, Layer};
use crate::model::{FieldDef, FileFormat, ValueRef};
use crate::store::export::{ExportError, ExportFile, ExportLayer, Exporter};
use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::Response;

/// The `f=` values a features request takes, for error messages.
pub fn offered() -> String {
    let mut v = vec!["json", "geojson"];
    v.extend(FileFormat::ALL.iter().map(|f| f.short_name()));
    v.join(", ")
}

/// The file format a request's `Accept` header asks for first, if any (a
/// client that sends `Accept: application/geopackage+sqlite3`); browsers'
/// `text/html,…` and JSON types give none.
pub fn format_from_accept(headers: &HeaderMap) -> Option<FileFormat> {
    let accept = headers.get(header::ACCEPT)?.to_str().ok()?;
    let first = accept.split(',').next()?.split(';').next()?.trim();
    FileFormat::parse(first).filter(|_| first.contains('/'))
}

/// Maps an export failure: what the format cannot hold is the client's
/// (400), anything else the server's.
pub fn export_error(e: ExportError) -> ApiError {
    if e.is_client_error() {
        ApiError::bad_request(e.to_string())
    } else {
        ApiError::internal(e)
    }
}

/// What one layer contributes to an export.
pub struct LayerPart<'a> {
    /// The layer.
    pub layer: &'a Layer,
    /// Indexes of the fields written, in order.
    pub fields: &'a [usize],
    /// Write the geometry.
    pub geometry: bool,
    /// Output CRS (KML: WGS 84).
    pub crs: Crs,
    /// The features, in the order written.
    pub features: &'a [FeatureRef],
}

/// Writes one layer's features into `e`: values straight from the
/// columns, the geometry rebuilt and reprojected per feature (nothing is
/// collected). CPU and disk work: call it on the blocking pool.
/// A geometry that cannot be had in the asked CRS is the request's fault
/// ([`ExportError::Unfit`]).
pub fn write_layer(e: &mut Exporter, p: &LayerPart<'_>) -> Result<(), ExportError> {
    let l = p.layer;
    let defs: Vec<FieldDef> = p.fields.iter().map(|&i| l.fields()[i].clone()).collect();
    e.layer(&ExportLayer {
        name: &l.id,
        geometry_type: p.geometry.then(|| l.geometry_type()),
        fields: &defs,
        crs: p.crs,
    })?;
    let mut values: Vec<ValueRef<'_>> = Vec::with_capacity(defs.len());
    for r in p.features {
        let data = l.data(r.part);
        let row = r.row as usize;
        values.clear();
        values.extend(p.fields.iter().map(|&c| data.value(row, c)));
        let geometry = match p.geometry {
            true => match data.geometry.to_geo(row, data.geometry_type) {
                Some(mut g) => {
                    crs::transform_geometry(WEB_MERCATOR, p.crs, &mut g)
                        .map_err(|e| ExportError::Unfit(format!("feature {}: {e}", r.fid)))?;
                    Some(g)
                }
                None => None,
            },
            false => None,
        };
        e.feature(r.fid, geometry.as_ref(), &values)?;
    }
    Ok(())
}

/// A file stem that says what is in the file: the layer(s) and the bbox
/// asked for, or else the day (Việt Nam time) it was made.
pub fn file_stem(layers: &str, bbox: Option<&str>, today: &str) -> String {
    match bbox {
        Some(b) => {
            let b: String = b.split(',').map(str::trim).collect::<Vec<_>>().join("_");
            format!("{layers}-{b}")
        }
        None => format!("{layers}-{today}"),
    }
}

/// The download: the file streamed from disk with its type, length,
/// `Content-Disposition` name and, when it has one, `Content-Crs`.
/// Formats that are zips already are sent as they are, not gzipped again.
pub fn file_response(f: ExportFile, c: Option<Crs>) -> Response {
    let file = tokio::fs::File::from_std(f.file);
    let stream = tokio_util::io::ReaderStream::with_capacity(file, 64 * 1024);
    let mut r = Response::new(Body::from_stream(stream));
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(f.format.mime()),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(f.len));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{}\"", f.name)) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    if f.format.is_compressed() {
        h.insert(
            header::CONTENT_ENCODING,
            HeaderValue::from_static("identity"),
        );
    }
    if let Some(c) = c {
        if let Ok(v) = HeaderValue::from_str(&format!("<{}>", c.uri())) {
            h.insert("content-crs", v);
        }
    }
    h.insert("x-feature-count", HeaderValue::from(f.features));
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_stems_name_the_layer_and_the_box_or_the_day() {
        assert_eq!(
            file_stem("parcels", Some("108.31, 15.86,108.35,15.89"), "2026-12-06"),
            "parcels-108.31_15.86_108.35_15.89"
        );
        assert_eq!(
            file_stem("parcels", None, "2026-12-06"),
            "parcels-2026-12-06"
        );
    }

    #[test]
    fn an_accept_header_with_a_file_type_first_asks_for_that_file() {
        let mut h = HeaderMap::new();
        h.insert(
            header::ACCEPT,
            "application/geopackage+sqlite3".parse().unwrap(),
        );
        assert_eq!(format_from_accept(&h), Some(FileFormat::Gpkg));
        h.insert(
            header::ACCEPT,
            "text/html,application/xhtml+xml,*/*".parse().unwrap(),
        );
        assert_eq!(format_from_accept(&h), None);
        h.insert(header::ACCEPT, "csv".parse().unwrap());
        assert_eq!(format_from_accept(&h), None);
    }
}
