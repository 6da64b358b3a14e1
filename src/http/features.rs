//! The feature query pipeline shared by `/layers/{id}/features` and OGC API
//! – Features `/ogcapi/collections/{id}/items`: parameter parsing and
//! validation into an engine [`Query`], the GeoJSON FeatureCollection
//! written on the blocking pool with `numberMatched`/`numberReturned` and
//! absolute paging links, and the single-feature answer.

use super::error::ApiError;
use super::export::{self as download, LayerPart};
use super::geojson;
use super::state::DataState;
use crate::crs::{self, Crs, WEB_MERCATOR};
use crate::engine::filter::{CmpOp, Expr, Filter, FilterLimits, Literal};
use crate::engine::{cql2, Catalog, Layer, Query, Spatial};
use crate::model::access::{Access, Role};
use crate::model::FileFormat;
use crate::ogc::ogcapi;
use crate::store::export::{Exporter, XLSX_MAX_ROWS};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use geo_types::{Coord, Geometry, MultiPolygon, Polygon, Rect};
use serde_json::json;
use std::sync::Arc;

pub use crate::ogc::ogcapi::extent_crs84;

/// Query parameter names (OGC API spelling).
pub mod param {
    /// Bounding box.
    pub const BBOX: &str = "bbox";
    /// CRS of the bounding box.
    pub const BBOX_CRS: &str = "bbox-crs";
    /// Output CRS.
    pub const CRS: &str = "crs";
    /// Page size.
    pub const LIMIT: &str = "limit";
    /// Rows to skip.
    pub const OFFSET: &str = "offset";
    /// CQL2 filter.
    pub const FILTER: &str = "filter";
    /// Filter language.
    pub const FILTER_LANG: &str = "filter-lang";
    /// CRS of geometry literals in the filter (OGC API).
    pub const FILTER_CRS: &str = "filter-crs";
    /// Instant or interval (OGC API).
    pub const DATETIME: &str = "datetime";
    /// Point query (`/layers` only).
    pub const POINT: &str = "point";
    /// CRS of the point (`/layers` only).
    pub const POINT_CRS: &str = "point-crs";
    /// Output format.
    pub const FORMAT: &str = "f";
}

/// Which API a features request comes through; they differ only in the
/// parameters they accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    /// `/layers/{id}/features`: also `point`/`point-crs`.
    Layers,
    /// `/ogcapi/collections/{id}/items`: also `datetime`/`filter-crs`.
    OgcApi,
}

/// The base of absolute links: the configured `public_url`, else the
/// address the client used (its `Host` header), else the listen address.
pub fn base_url(s: &DataState, headers: &HeaderMap) -> String {
    if s.config.public_url.is_none() {
        let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
        if let Some(h) = host.filter(|h| {
            !h.is_empty()
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || ".-:[]_".contains(c))
        }) {
            return format!("http://{h}");
        }
    }
    s.config.public_url()
}

/// The layer `id` of a snapshot, or 404 pointing at `/layers`.
pub fn find_layer(cat: &Catalog, id: &str) -> Result<Arc<Layer>, ApiError> {
    find_in(cat, id, "/layers")
}

/// The layer `id` of a snapshot, or 404 pointing at `list`.
pub fn find_in(cat: &Catalog, id: &str, list: &str) -> Result<Arc<Layer>, ApiError> {
    cat.layer(id)
        .cloned()
        .ok_or_else(|| ApiError::not_found(format!("no layer '{id}'; see {list}")))
}

/// Decodes a raw query string into pairs.
pub fn query_pairs(raw: Option<&str>) -> Vec<(String, String)> {
    raw.map(|q| {
        url::form_urlencoded::parse(q.as_bytes())
            .into_owned()
            .collect()
    })
    .unwrap_or_default()
}

fn parse_numbers(name: &str, v: &str) -> Result<Vec<f64>, ApiError> {
    v.split(',')
        .map(|x| {
            x.trim()
                .parse::<f64>()
                .ok()
                .filter(|n| n.is_finite())
                .ok_or_else(|| {
                    ApiError::bad_request(format!("{name}: '{x}' is not a finite number"))
                })
        })
        .collect()
}

/// Parses `minx,miny,maxx,maxy` (or 6 numbers with heights) given in `c`'s
/// axis order and returns the spatial predicate in Web Mercator. In a
/// geographic CRS a west edge east of the east edge crosses the
/// antimeridian (OGC API – Features §7.15.3): the box is the two boxes
/// either side of ±180°.
pub fn parse_bbox(v: &str, c: Crs) -> Result<Spatial, ApiError> {
    let n = parse_numbers(param::BBOX, v)?;
    let (a0, a1, b0, b1) = match n.len() {
        4 => (n[0], n[1], n[2], n[3]),
        6 => (n[0], n[1], n[3], n[4]),
        k => {
            return Err(ApiError::bad_request(format!(
                "bbox needs 4 numbers (or 6 with heights), got {k}"
            )))
        }
    };
    // Internally geographic coordinates are (lon, lat).
    let (min, max) = if c.is_lat_lon() {
        (Coord { x: a1, y: a0 }, Coord { x: b1, y: b0 })
    } else {
        (Coord { x: a0, y: a1 }, Coord { x: b0, y: b1 })
    };
    if min.y > max.y {
        return Err(ApiError::bad_request(
            "bbox: the lower bound of the second axis is above the upper bound",
        ));
    }
    if min.x > max.x && !c.is_geographic() {
        return Err(ApiError::bad_request(
            "bbox: the lower bound of the first axis is above the upper bound",
        ));
    }
    if c.is_geographic() {
        if min.y < -90.0 || max.y > 90.0 {
            return Err(ApiError::bad_request(
                "bbox: latitude must lie within -90..90 (check the axis order of the bbox-crs)",
            ));
        }
        if min.x < -180.0 || max.x > 180.0 || min.x > 180.0 || max.x < -180.0 {
            return Err(ApiError::bad_request(
                "bbox: longitude must lie within -180..180",
            ));
        }
        if min.x > max.x {
            let to_merc = |a: Coord<f64>, b: Coord<f64>| -> Result<Polygon<f64>, ApiError> {
                let (lo, hi) = crs::transform_bbox(c, WEB_MERCATOR, a, b)?;
                Ok(Rect::new(lo, hi).to_polygon())
            };
            let east = to_merc(min, Coord { x: 180.0, y: max.y })?;
            let west = to_merc(
                Coord {
                    x: -180.0,
                    y: min.y,
                },
                max,
            )?;
            return Ok(Spatial::Intersects(Geometry::MultiPolygon(MultiPolygon(
                vec![east, west],
            ))));
        }
    }
    let (lo, hi) = crs::transform_bbox(c, WEB_MERCATOR, min, max)?;
    Ok(Spatial::Bbox(Rect::new(lo, hi)))
}

fn parse_point(v: &str, c: Crs) -> Result<Coord<f64>, ApiError> {
    let n = parse_numbers(param::POINT, v)?;
    if n.len() != 2 {
        return Err(ApiError::bad_request(format!(
            "point needs 2 numbers, got {}",
            n.len()
        )));
    }
    let p = if c.is_lat_lon() {
        Coord { x: n[1], y: n[0] }
    } else {
        Coord { x: n[0], y: n[1] }
    };
    if c.is_geographic() && (p.y.abs() > 90.0 || p.x.abs() > 180.0) {
        return Err(ApiError::bad_request("point: coordinates out of range"));
    }
    Ok(crs::transform_one(c, WEB_MERCATOR, p)?)
}

fn parse_count(name: &str, v: &str, max: usize) -> Result<usize, ApiError> {
    let n: usize = v.trim().parse().map_err(|_| {
        ApiError::bad_request(format!("{name}: '{v}' is not a non-negative integer"))
    })?;
    if n > max {
        return Err(ApiError::bad_request(format!(
            "{name}={n} exceeds the limit of {max}"
        )));
    }
    Ok(n)
}

/// Parses a CRS parameter, naming it in the error.
pub fn parse_crs(name: &str, v: &str) -> Result<Crs, ApiError> {
    Crs::parse(v).map_err(|e| ApiError::bad_request(format!("{name}: {e}")))
}

/// A validated features request.
pub struct FeaturesRequest {
    /// The engine query.
    pub query: Query,
    /// Output CRS.
    pub out_crs: Crs,
    /// The request's parameters as given (for paging links).
    pub raw: Vec<(String, String)>,
    /// A file download (`f=gpkg|shp|kml|csv|xlsx`, or the `Accept` type)
    /// instead of the GeoJSON page.
    pub format: Option<FileFormat>,
    /// True when `limit` was given: a download without it holds every
    /// match (up to `[limits] max_export_features`) or is refused.
    pub limit_given: bool,
    /// Who asks: which fields they are shown.
    pub access: Access,
}

/// Refuses a property a layer does not publish (filters and
/// `property=value` see only the published attributes).
fn check_published(l: &Layer, e: &Expr, role: Role) -> Result<(), ApiError> {
    for p in ogcapi::expr_properties(e) {
        if !ogcapi::is_published(l, p, role) {
            return Err(ApiError::bad_request(format!(
                "filter: unknown property '{p}' (see the queryables of '{}')",
                l.id
            )));
        }
    }
    Ok(())
}

/// Parses and validates the query of a features request against layer `l`.
///
/// A file format (`f=`, else the first type of `Accept`) makes the request
/// a download: `limit` then defaults to every match and may go up to
/// `[limits] max_export_features`, and the output CRS defaults to the
/// layer's storage CRS (KML: always WGS 84).
pub fn features_request(
    s: &DataState,
    l: &Layer,
    raw: Option<&str>,
    api: Api,
    headers: &HeaderMap,
    access: Access,
) -> Result<FeaturesRequest, ApiError> {
    let role = access.role();
    let raw = query_pairs(raw);
    let mut format = download::format_from_accept(headers);
    let lim = &s.config.limits;
    let get = |k: &str| {
        raw.iter()
            .rev()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
    };
    let mut exprs = Vec::new();
    for (k, v) in &raw {
        match k.as_str() {
            param::BBOX | param::BBOX_CRS | param::CRS | param::LIMIT | param::OFFSET
            | param::FILTER | param::FILTER_LANG => {}
            param::POINT | param::POINT_CRS if api == Api::Layers => {}
            param::DATETIME | param::FILTER_CRS if api == Api::OgcApi => {}
            param::FORMAT => {
                format = match v.as_str() {
                    "json" | "geojson" => None,
                    other => Some(FileFormat::parse(other).ok_or_else(|| {
                        ApiError::bad_request(format!(
                            "f={other} is not offered; use one of: {}",
                            download::offered()
                        ))
                    })?),
                };
            }
            name if ogcapi::is_published(l, name, role) => {
                if let Some(f) = l.fields().iter().find(|f| f.name == name) {
                    ogcapi::check_property_value(name, f.ty, v)
                        .map_err(|e| ApiError::bad_request(e.0))?;
                }
                exprs.push(Expr::Cmp(name.to_owned(), CmpOp::Eq, Literal::Text(v.clone())));
            }
            other => {
                return Err(ApiError::bad_request(format!(
                    "unknown parameter '{other}': neither a query parameter nor a property of layer '{}'",
                    l.id
                )))
            }
        }
    }
    if let Some(lang) = get(param::FILTER_LANG) {
        if lang != "cql2-text" {
            return Err(ApiError::bad_request(format!(
                "filter-lang={lang}: only cql2-text is supported"
            )));
        }
    }
    if let Some(f) = get(param::FILTER) {
        if f.len() > lim.max_filter_bytes {
            return Err(ApiError::bad_request(format!(
                "filter of {} bytes exceeds the limit of {} bytes",
                f.len(),
                lim.max_filter_bytes
            )));
        }
        let e = cql2::parse(f)?;
        check_published(l, &e, role)?;
        exprs.push(e);
    }
    if let Some(c) = get(param::FILTER_CRS) {
        // Only checked: CQL2 text here has no geometry literals to transform.
        parse_crs(param::FILTER_CRS, c)?;
    }
    if let Some(dt) = get(param::DATETIME) {
        let r = ogcapi::parse_datetime(dt).map_err(|e| ApiError::bad_request(e.0))?;
        exprs.extend(ogcapi::datetime_expr(l, &r));
    }
    let filter = match exprs.len() {
        0 => None,
        _ => Some(Filter::compile(
            &Expr::And(exprs),
            l.fields(),
            &FilterLimits {
                max_depth: lim.max_filter_depth,
                max_nodes: lim.max_filter_nodes,
                max_in_list: lim.max_in_list,
            },
        )?),
    };
    let bbox_crs = get(param::BBOX_CRS)
        .map(|v| parse_crs(param::BBOX_CRS, v))
        .transpose()?
        .unwrap_or(Crs::Crs84);
    let point_crs = get(param::POINT_CRS)
        .map(|v| parse_crs(param::POINT_CRS, v))
        .transpose()?
        .unwrap_or(Crs::Crs84);
    let spatial = match (get(param::BBOX), get(param::POINT)) {
        (Some(_), Some(_)) => {
            return Err(ApiError::bad_request("give either bbox or point, not both"))
        }
        (Some(b), None) => Some(parse_bbox(b, bbox_crs)?),
        (None, Some(p)) => Some(Spatial::Point(parse_point(p, point_crs)?)),
        (None, None) => None,
    };
    let (max_limit, default_limit) = match format {
        Some(_) => (lim.max_export_features, lim.max_export_features),
        None => (lim.max_limit, lim.default_limit),
    };
    let limit = get(param::LIMIT)
        .map(|v| parse_count(param::LIMIT, v, max_limit))
        .transpose()?
        .unwrap_or(default_limit);
    if limit == 0 && api == Api::OgcApi {
        // OGC API declares `limit` with minimum 1.
        return Err(ApiError::bad_request("limit=0: the limit is at least 1"));
    }
    let offset = get(param::OFFSET)
        .map(|v| parse_count(param::OFFSET, v, usize::MAX / 2))
        .transpose()?
        .unwrap_or(0);
    let asked_crs = get(param::CRS)
        .map(|v| parse_crs(param::CRS, v))
        .transpose()?;
    let out_crs = match (format, asked_crs) {
        (Some(FileFormat::Kml), Some(c)) if c.epsg() != 4326 => {
            return Err(ApiError::bad_request(format!(
                "crs={c}: KML is always WGS 84 longitude/latitude; leave crs out or give CRS:84"
            )))
        }
        (Some(FileFormat::Kml), _) => Crs::Crs84,
        (_, Some(c)) => c,
        (Some(_), None) => Crs::Epsg(l.source_srid),
        (None, None) => Crs::Crs84,
    };
    Ok(FeaturesRequest {
        query: Query {
            spatial,
            filter,
            offset,
            limit,
        },
        out_crs,
        limit_given: get(param::LIMIT).is_some(),
        raw,
        format,
        access,
    })
}

fn page_link(base: &str, raw: &[(String, String)], offset: usize) -> String {
    let mut ser = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in raw.iter().filter(|(k, _)| k != param::OFFSET) {
        ser.append_pair(k, v);
    }
    ser.append_pair(param::OFFSET, &offset.to_string());
    format!("{base}?{}", ser.finish())
}

/// The RFC 8288 `Link` header of a document's `links` array (`href`,
/// `rel`, `type`), for clients that read links from headers only; none
/// when there are none or a link cannot be a header value.
pub fn link_header(links: &serde_json::Value) -> Option<HeaderValue> {
    let parts: Vec<String> = links
        .as_array()?
        .iter()
        .filter_map(|l| {
            let href = l.get("href")?.as_str()?;
            let rel = l.get("rel")?.as_str()?;
            let mut s = format!("<{href}>; rel=\"{rel}\"");
            if let Some(t) = l.get("type").and_then(|t| t.as_str()) {
                s.push_str(&format!("; type=\"{t}\""));
            }
            Some(s)
        })
        .collect();
    if parts.is_empty() {
        return None;
    }
    HeaderValue::from_str(&parts.join(", ")).ok()
}

/// Adds the `Link` header of `links` ([`link_header`]) to a response.
pub fn with_link_header(mut r: Response, links: &serde_json::Value) -> Response {
    if let Some(v) = link_header(links) {
        r.headers_mut().insert(header::LINK, v);
    }
    r
}

/// A GeoJSON body with its `Content-Crs` header.
pub fn geojson_response(body: String, c: Crs) -> Response {
    let mut r = ([(header::CONTENT_TYPE, "application/geo+json")], body).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("<{}>", c.uri())) {
        r.headers_mut().insert("content-crs", v);
    }
    r
}

/// Runs a features request on the blocking pool and answers the GeoJSON
/// FeatureCollection; `base` is the absolute URL of the resource (paging
/// links add the query); `time_stamp` adds OGC API's `timeStamp`.
pub async fn collection_response(
    l: Arc<Layer>,
    req: FeaturesRequest,
    base: String,
    time_stamp: bool,
) -> Result<Response, ApiError> {
    if let Some(f) = req.format {
        return download_response(l, req, f).await;
    }
    let out_crs = req.out_crs;
    let (body, links) = crate::blocking::spawn(move || -> Result<(String, serde_json::Value), ApiError> {
        let res = l.query(&req.query);
        let enc = geojson::Encoder {
            layer: &l,
            crs: req.out_crs,
            lat_lon: req.out_crs.is_lat_lon(),
            fields: l.published_fields(&req.access),
        };
        let mut out = String::with_capacity(256 + res.features.len() * 400);
        out.push_str("{\"type\":\"FeatureCollection\",");
        if time_stamp {
            out.push_str("\"timeStamp\":");
            geojson::push_json_str(&mut out, &ogcapi::time_stamp(std::time::SystemTime::now()));
            out.push(',');
        }
        out.push_str("\"numberMatched\":");
        out.push_str(&res.matched.to_string());
        out.push_str(",\"numberReturned\":");
        out.push_str(&res.features.len().to_string());
        let mut links = vec![json!({"rel": "self", "type": "application/geo+json",
            "href": page_link(&base, &req.raw, req.query.offset)})];
        let next = req.query.offset + res.features.len();
        if next < res.matched && !res.features.is_empty() {
            links.push(json!({"rel": "next", "type": "application/geo+json",
                "href": page_link(&base, &req.raw, next)}));
        }
        if req.query.offset > 0 {
            links.push(json!({"rel": "prev", "type": "application/geo+json",
                "href": page_link(&base, &req.raw, req.query.offset.saturating_sub(req.query.limit))}));
        }
        let links = serde_json::Value::Array(links);
        out.push_str(",\"links\":");
        out.push_str(&links.to_string());
        out.push_str(",\"features\":[");
        for (i, r) in res.features.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            enc.feature(&mut out, *r)?;
        }
        out.push_str("]}");
        Ok((out, links))
    })
    .await??;
    Ok(with_link_header(geojson_response(body, out_crs), &links))
}

/// A features request answered as a file: the matches (in fid order,
/// `offset`/`limit` applied) written on the blocking pool, then streamed.
/// Without `limit`, more matches than `[limits] max_export_features` are
/// refused rather than cut.
async fn download_response(
    l: Arc<Layer>,
    req: FeaturesRequest,
    f: FileFormat,
) -> Result<Response, ApiError> {
    let bbox = req
        .raw
        .iter()
        .rev()
        .find(|(k, _)| k == param::BBOX)
        .map(|(_, v)| v.clone());
    let stem = download::file_stem(&l.id, bbox.as_deref(), &super::planning_info::today_vn());
    let out_crs = req.out_crs;
    let file = crate::blocking::spawn(move || {
        let res = l.query(&req.query);
        let rest = res.matched.saturating_sub(req.query.offset);
        if !req.limit_given && rest > res.features.len() {
            return Err(ApiError::bad_request(format!(
                "{rest} features match, more than the {} one download may hold ([limits] max_export_features); narrow the query, or download pages with limit and offset",
                req.query.limit
            )));
        }
        if f == FileFormat::Xlsx && res.features.len() as u64 > XLSX_MAX_ROWS {
            return Err(ApiError::bad_request(format!(
                "{} features are more than the {XLSX_MAX_ROWS} rows of an XLSX sheet; narrow the query, page with limit and offset, or ask for f=csv",
                res.features.len()
            )));
        }
        let mut e = Exporter::new(f, &stem).map_err(download::export_error)?;
        download::write_layer(
            &mut e,
            &LayerPart {
                layer: &l,
                fields: &l.published_fields(&req.access),
                geometry: true,
                crs: req.out_crs,
                features: &res.features,
            },
        )
        .map_err(download::export_error)?;
        e.finish().map_err(download::export_error)
    })
    .await??;
    Ok(download::file_response(file, Some(out_crs)))
}

/// One feature as GeoJSON: `fid` as given in the path, the query allowing
/// only `crs` and `f`; `links` (OGC API's self/collection) are added to the
/// feature object when given.
pub fn feature_response(
    l: &Layer,
    fid: &str,
    raw: Option<&str>,
    links: Option<serde_json::Value>,
    access: &Access,
) -> Result<Response, ApiError> {
    let not_found = || ApiError::not_found(format!("no feature '{fid}' in layer '{}'", l.id));
    let r = fid
        .parse::<i64>()
        .ok()
        .and_then(|f| l.get(f))
        .ok_or_else(not_found)?;
    let mut out_crs = Crs::Crs84;
    for (k, v) in query_pairs(raw) {
        match k.as_str() {
            param::CRS => out_crs = parse_crs(param::CRS, &v)?,
            param::FORMAT => {
                if !matches!(v.as_str(), "json" | "geojson") {
                    return Err(ApiError::bad_request(format!(
                        "f={v}: only json/geojson is offered here"
                    )));
                }
            }
            other => {
                return Err(ApiError::bad_request(format!(
                    "unknown parameter '{other}'"
                )))
            }
        }
    }
    let enc = geojson::Encoder {
        layer: l,
        crs: out_crs,
        lat_lon: out_crs.is_lat_lon(),
        fields: l.published_fields(access),
    };
    let mut out = String::new();
    enc.feature(&mut out, r).map_err(ApiError::from)?;
    if let Some(links) = &links {
        // The encoder closes the object last; reopen it for the links.
        out.pop();
        out.push_str(",\"links\":");
        out.push_str(&links.to_string());
        out.push('}');
    }
    let r = geojson_response(out, out_crs);
    Ok(match &links {
        Some(l) => with_link_header(r, l),
        None => r,
    })
}
