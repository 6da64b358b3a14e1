//! `POST /planning/site-file?name=`: a proposed site read from an uploaded
//! file (see `store::upload`), answered as GeoJSON in the file's CRS (to
//! send on to `/planning/check` exactly as given) and in CRS84 (to draw),
//! with how its CRS was decided and its area in EPSG:5899.

use super::features::query_pairs;
use super::ApiError;
use crate::crs::{self, Crs};
use crate::store::upload::{read_site, UploadError};
use axum::body::Bytes;
use axum::extract::RawQuery;
use axum::response::{IntoResponse, Response};
use axum::Json;
use geo::{Area, MapCoords};
use serde_json::json;

impl From<UploadError> for ApiError {
    fn from(e: UploadError) -> Self {
        ApiError::bad_request(e.to_string())
    }
}

/// `POST /planning/site-file`: the file is the body.
pub async fn post(RawQuery(raw): RawQuery, body: Bytes) -> Result<Response, ApiError> {
    let mut name: Option<String> = None;
    for (k, v) in query_pairs(raw.as_deref()) {
        match k.as_str() {
            "name" if !v.trim().is_empty() => name = Some(v),
            other => {
                return Err(ApiError::bad_request(format!(
                    "unknown or empty parameter '{other}'; /planning/site-file takes name (the file's name, e.g. khu-dat.zip)"
                )))
            }
        }
    }
    let name = name.ok_or_else(|| {
        ApiError::bad_request("name= is required: the file's name (khu-dat.zip, site.gpkg …)")
    })?;
    if body.is_empty() {
        return Err(ApiError::bad_request(format!("{name}: the file is empty")));
    }
    // GDAL reading and reprojection are blocking work: off the runtime.
    crate::blocking::spawn(move || {
        let f = read_site(&body, &name)?;
        let to = |target: Crs| -> Result<geo_types::Geometry<f64>, ApiError> {
            f.site.try_map_coords(|c| {
                crs::transform_one(f.crs, target, c).map_err(|e| ApiError::bad_request(e.to_string()))
            })
        };
        let ll = to(Crs::Crs84)?;
        let area = to(crs::VN2000_TM3_10745)?.unsigned_area();
        let gj = |g: &geo_types::Geometry<f64>| serde_json::to_value(geojson::Geometry::from(g)).map_err(ApiError::internal);
        Ok(Json(json!({
            "name": name,
            "layer": f.layer,
            "features": f.features,
            "crs": if f.crs == Crs::Crs84 { "CRS:84".to_owned() } else { format!("EPSG:{}", f.crs.epsg()) },
            "how": f.how,
            "area_m2": crate::planning::round(area, 2),
            "site": gj(&f.site)?,
            "site_crs84": gj(&ll)?,
        }))
        .into_response())
    })
    .await?
}
