//! `GET /planning` (a parcel by fid, or a point) and `POST /planning` (a
//! proposed site as GeoJSON): what the plans say there, as of a day (see
//! `planning::info`). Parameters and bodies are read here; the answer is
//! computed on the blocking pool from one snapshot.

use super::features::query_pairs;
use super::{base_url, ApiError, DataState};
use crate::crs::{self, Crs, WEB_MERCATOR};
use crate::planning::info::{answer, InfoQuery, Subject};
use crate::planning::site::site_from;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use geo_types::Coord;
use serde_json::Value;

/// Today in Việt Nam (UTC+7): the default `as_of`.
pub fn today_vn() -> String {
    (chrono::Utc::now() + chrono::Duration::hours(7))
        .format("%Y-%m-%d")
        .to_string()
}

/// Reads `lon,lat` (or `x,y` in `c`) into Web Mercator.
fn point(v: &str, c: Crs) -> Result<Coord<f64>, ApiError> {
    let bad = || {
        ApiError::bad_request(format!(
            "point='{v}' is not 'x,y' (longitude,latitude in degrees, or easting,northing in point-crs)"
        ))
    };
    let (x, y) = v.split_once(',').ok_or_else(bad)?;
    let (x, y): (f64, f64) = (
        x.trim().parse().map_err(|_| bad())?,
        y.trim().parse().map_err(|_| bad())?,
    );
    if !x.is_finite() || !y.is_finite() {
        return Err(bad());
    }
    if c.is_geographic() && (x.abs() > 180.0 || y.abs() > 90.0) {
        return Err(ApiError::bad_request(format!(
            "point='{v}' is out of range for longitude,latitude; give point-crs for projected coordinates (e.g. point-crs=EPSG:5899)"
        )));
    }
    Ok(crs::transform_one(c, WEB_MERCATOR, Coord { x, y })?)
}

fn parse_crs(name: &str, v: &str) -> Result<Crs, ApiError> {
    Crs::parse(v).map_err(|e| ApiError::bad_request(format!("{name}: {e}")))
}

/// What a request asks.
pub(crate) struct Asked {
    /// The parcel or point (GET); none for a POST, whose body has the site.
    pub subject: Option<Subject>,
    /// `as_of=`.
    pub as_of: Option<String>,
    /// `crs=` of a POSTed site.
    pub crs: Option<Crs>,
    /// `f=` (`json`, or for the sheet `pdf`/`html`).
    pub format: Option<String>,
}

/// Reads the parameters of `/planning` (`allow_subject`: a GET naming a
/// parcel or point) or of a POST; `formats` are the `f=` values accepted.
pub(crate) fn read_query(
    raw: Option<&str>,
    allow_subject: bool,
    formats: &[&str],
) -> Result<Asked, ApiError> {
    let mut parcel = None;
    let mut pt: Option<String> = None;
    let mut pt_crs = crs::WGS84;
    let mut as_of = None;
    let mut site_crs = None;
    let mut format = None;
    for (k, v) in query_pairs(raw) {
        match k.as_str() {
            "parcel" if allow_subject => {
                parcel = Some(v.trim().parse::<i64>().map_err(|_| {
                    ApiError::bad_request(format!("parcel='{v}' is not a feature id (an integer)"))
                })?)
            }
            "point" if allow_subject => pt = Some(v),
            "point-crs" if allow_subject => pt_crs = parse_crs("point-crs", &v)?,
            "as_of" => as_of = Some(v),
            "crs" if !allow_subject => site_crs = Some(parse_crs("crs", &v)?),
            "f" if formats.contains(&v.as_str()) => format = Some(v),
            "f" => {
                return Err(ApiError::bad_request(format!(
                    "f='{v}' is not one of {}",
                    formats.join(", ")
                )))
            }
            other => {
                return Err(ApiError::bad_request(if allow_subject {
                    format!("unknown parameter '{other}'; /planning takes parcel or point (with point-crs), and as_of")
                } else {
                    format!("unknown parameter '{other}'; POST /planning takes crs and as_of, the site in the body")
                }))
            }
        }
    }
    let subject = match (parcel, pt) {
        (Some(_), Some(_)) => return Err(ApiError::bad_request("give parcel or point, not both")),
        (Some(fid), None) => Some(Subject::Parcel(fid)),
        (None, Some(p)) => Some(Subject::Point(point(&p, pt_crs)?)),
        (None, None) if allow_subject => {
            return Err(ApiError::bad_request(
                "say what to answer for: parcel={fid} or point=lon,lat (or POST a GeoJSON polygon)",
            ))
        }
        (None, None) => None,
    };
    Ok(Asked {
        subject,
        as_of,
        crs: site_crs,
        format,
    })
}

/// The question of a request, with the configured tolerance.
pub(crate) fn info_query(s: &DataState, subject: Subject, as_of: Option<String>) -> InfoQuery {
    InfoQuery {
        subject,
        as_of: as_of.unwrap_or_else(today_vn),
        tolerance_m: s.config.planning.sliver_tolerance_m,
    }
}

async fn respond(
    s: DataState,
    subject: Subject,
    as_of: Option<String>,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let q = info_query(&s, subject, as_of);
    let cat = s.engine.snapshot();
    let base = base_url(&s, headers);
    let a = crate::blocking::spawn(move || answer(&cat, &q)).await??;
    let mut v = serde_json::to_value(&a).map_err(ApiError::internal)?;
    if let Some(fid) = a.subject.parcel.as_ref().map(|p| p.fid) {
        v["links"] = serde_json::json!([
            {"rel": "self", "href": format!("{base}/planning?parcel={fid}&as_of={}", a.as_of)},
            {"rel": "item", "href": format!("{base}/layers/parcels/features/{fid}")},
        ]);
    }
    Ok(Json(v).into_response())
}

/// `GET /planning?parcel={fid}` or `?point=lon,lat[&point-crs=]`, with
/// `as_of=YYYY-MM-DD` (default: today in Việt Nam).
pub async fn get(
    State(s): State<DataState>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let asked = read_query(raw.as_deref(), true, &["json"])?;
    let subject = asked
        .subject
        .ok_or_else(|| ApiError::bad_request("no subject"))?;
    respond(s, subject, asked.as_of, &headers).await
}

/// The site of a `POST /planning` body: a GeoJSON geometry, a Feature, or
/// `{"site": <geometry or Feature>, "crs": "EPSG:5899", "as_of": "…"}`;
/// coordinates are x,y (longitude,latitude) in `crs`, WGS 84 by default.
pub fn read_site(
    body: &[u8],
    query_crs: Option<Crs>,
) -> Result<(geo_types::Geometry<f64>, Crs, Option<String>), ApiError> {
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("the body is not JSON: {e}")))?;
    let Value::Object(obj) = &v else {
        return Err(ApiError::bad_request(
            "the body is a GeoJSON Polygon, MultiPolygon or Feature, or {\"site\": …, \"crs\": …}",
        ));
    };
    let text = |k: &str| -> Result<Option<String>, ApiError> {
        match obj.get(k) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(ApiError::bad_request(format!("'{k}' must be a string"))),
        }
    };
    let (geom, c, as_of) = if obj.contains_key("site") {
        let c = match text("crs")? {
            Some(c) => Some(parse_crs("crs", &c)?),
            None => None,
        };
        (obj["site"].clone(), c, text("as_of")?)
    } else {
        (v.clone(), None, None)
    };
    let c = c.or(query_crs).unwrap_or(crs::WGS84);
    let gj = geojson::GeoJson::from_json_value(geom)
        .map_err(|e| ApiError::bad_request(format!("the site is not GeoJSON: {e}")))?;
    let g = match gj {
        geojson::GeoJson::Geometry(g) => g,
        geojson::GeoJson::Feature(f) => f
            .geometry
            .ok_or_else(|| ApiError::bad_request("the site Feature has no geometry"))?,
        geojson::GeoJson::FeatureCollection(_) => {
            return Err(ApiError::bad_request(
                "the site is one Polygon, MultiPolygon or Feature, not a FeatureCollection",
            ))
        }
    };
    let g: geo_types::Geometry<f64> = g
        .try_into()
        .map_err(|e| ApiError::bad_request(format!("the site geometry cannot be read: {e}")))?;
    Ok((g, c, as_of))
}

/// `POST /planning` with a proposed site.
pub async fn post(
    State(s): State<DataState>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let asked = read_query(raw.as_deref(), false, &["json"])?;
    // Validity of a large polygon is CPU work: off the runtime.
    let (limits, crs) = ((&s.config.planning).into(), asked.crs);
    let (site, as_of) = crate::blocking::spawn(move || -> Result<_, ApiError> {
        let (g, c, as_of) = read_site(&body, crs)?;
        Ok((site_from(g, c, limits)?, as_of))
    })
    .await??;
    respond(s, Subject::Site(site), as_of.or(asked.as_of), &headers).await
}
