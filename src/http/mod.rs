//! The HTTP face: the axum router, parameter parsing and validation, and
//! the mapping of errors to problem details. Handlers read an engine
//! snapshot and do their CPU work on the blocking pool; they never touch
//! the store except for `/ready`.

pub mod error;
pub mod geojson;
pub mod state;
pub mod tiles;
pub mod web;
pub mod wms;

use crate::crs::{self, Crs, WEB_MERCATOR};
use crate::engine::filter::{CmpOp, Expr, Filter, FilterLimits, Literal};
use crate::engine::{cql2, Catalog, Layer, Query, Spatial};
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
pub use error::ApiError;
use geo_types::{Coord, Rect};
use serde_json::json;
pub use state::AppState;
use std::sync::Arc;
use std::time::Duration;

/// Query parameter names of `/layers/{id}/features` (OGC API spelling).
mod param {
    pub const BBOX: &str = "bbox";
    pub const BBOX_CRS: &str = "bbox-crs";
    pub const CRS: &str = "crs";
    pub const LIMIT: &str = "limit";
    pub const OFFSET: &str = "offset";
    pub const FILTER: &str = "filter";
    pub const FILTER_LANG: &str = "filter-lang";
    pub const POINT: &str = "point";
    pub const POINT_CRS: &str = "point-crs";
    pub const FORMAT: &str = "f";
}

/// The application router.
pub fn app(state: AppState) -> Router {
    let limits = &state.config.limits;
    Router::new()
        .route("/health", get(health))
        .route("/ready", get(ready))
        .route("/layers", get(layers))
        .route("/layers/{id}", get(layer_info))
        .route("/layers/{id}/features", get(features))
        .route("/layers/{id}/features/{fid}", get(feature))
        .route("/tiles/{name}", get(tiles::tilejson))
        .route("/tiles/{layers}/{z}/{x}/{y}", get(tiles::tile))
        .route("/styles/{file}", get(web::style))
        .route("/fonts/{stack}/{file}", get(web::glyphs))
        .route("/wms", get(wms::get))
        .route_service(
            "/",
            tower_http::services::ServeFile::new(state.config.web.dir.join("index.html")),
        )
        .nest_service(
            "/static",
            tower_http::services::ServeDir::new(state.config.web.dir.join("static")),
        )
        .nest_service(
            "/vendor/maplibre-gl",
            tower_http::services::ServeDir::new(
                state.config.web.dir.join("node_modules/maplibre-gl/dist"),
            ),
        )
        .fallback(|| async { ApiError::not_found("no such endpoint; see /layers") })
        .layer(tower_http::limit::RequestBodyLimitLayer::new(
            limits.max_body_bytes,
        ))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(limits.request_timeout_secs),
        ))
        .layer(tower_http::compression::CompressionLayer::new())
        .layer(tower_http::cors::CorsLayer::permissive())
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

async fn health() -> Json<serde_json::Value> {
    Json(json!({"status": "ok"}))
}

async fn ready(State(s): State<AppState>) -> Result<Json<serde_json::Value>, ApiError> {
    if !s.is_loaded() {
        return Err(ApiError::unavailable("layers are still loading"));
    }
    s.store
        .ping()
        .await
        .map_err(|e| ApiError::unavailable(format!("store unreachable: {e}")))?;
    let cat = s.engine.snapshot();
    Ok(Json(json!({
        "status": "ready",
        "store": s.store.describe(),
        "layers": cat.len(),
        "version": cat.version,
    })))
}

fn extent_crs84(l: &Layer) -> Option<[f64; 4]> {
    let e = l.extent()?;
    let a = crs::mercator_to_lonlat(e.min());
    let b = crs::mercator_to_lonlat(e.max());
    Some([a.x, a.y, b.x, b.y])
}

/// Field indexes a layer publishes (config `attributes`, else all).
fn published_fields(l: &Layer) -> Vec<usize> {
    match &l.meta.attributes {
        None => (0..l.fields().len()).collect(),
        Some(names) => names
            .iter()
            .filter_map(|n| l.fields().iter().position(|f| &f.name == n))
            .collect(),
    }
}

/// The base of absolute links: the configured `public_url`, else the
/// address the client used (its `Host` header), else the listen address.
fn base_url(s: &AppState, headers: &HeaderMap) -> String {
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

fn layer_json(base: &str, l: &Layer) -> serde_json::Value {
    let fields: Vec<_> = published_fields(l)
        .into_iter()
        .map(|i| {
            let f = &l.fields()[i];
            json!({"name": f.name, "type": f.ty.json_type(), "format": f.ty})
        })
        .collect();
    json!({
        "id": l.id,
        "title": l.meta.title,
        "description": l.meta.description,
        "geometry_type": l.geometry_type().name(),
        "feature_count": l.len(),
        "extent": {"crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84", "bbox": extent_crs84(l)},
        "storage_crs": Crs::Epsg(l.source_srid).uri(),
        "fields": fields,
        "links": [
            {"rel": "items", "type": "application/geo+json", "href": format!("{base}/layers/{}/features", l.id)},
        ],
    })
}

async fn layers(State(s): State<AppState>, headers: HeaderMap) -> Json<serde_json::Value> {
    let cat = s.engine.snapshot();
    let base = base_url(&s, &headers);
    let ls: Vec<_> = cat.layers().map(|l| layer_json(&base, l)).collect();
    Json(json!({ "layers": ls }))
}

fn find_layer(cat: &Catalog, id: &str) -> Result<Arc<Layer>, ApiError> {
    cat.layer(id)
        .cloned()
        .ok_or_else(|| ApiError::not_found(format!("no layer '{id}'; see /layers")))
}

async fn layer_info(
    State(s): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, ApiError> {
    let cat = s.engine.snapshot();
    let l = find_layer(&cat, &id)?;
    Ok(Json(layer_json(&base_url(&s, &headers), &l)))
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
/// axis order and returns it in Web Mercator.
fn parse_bbox(v: &str, c: Crs) -> Result<Rect<f64>, ApiError> {
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
        if min.x > max.x {
            return Err(ApiError::bad_request(
                "bbox crossing the antimeridian is not supported",
            ));
        }
        if min.x < -180.0 || max.x > 180.0 {
            return Err(ApiError::bad_request(
                "bbox: longitude must lie within -180..180",
            ));
        }
    }
    let (lo, hi) = crs::transform_bbox(c, WEB_MERCATOR, min, max)?;
    Ok(Rect::new(lo, hi))
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

fn parse_crs(name: &str, v: &str) -> Result<Crs, ApiError> {
    Crs::parse(v).map_err(|e| ApiError::bad_request(format!("{name}: {e}")))
}

/// A validated features request.
struct FeaturesRequest {
    query: Query,
    out_crs: Crs,
    raw: Vec<(String, String)>,
}

fn features_request(
    s: &AppState,
    l: &Layer,
    raw: Option<String>,
) -> Result<FeaturesRequest, ApiError> {
    let raw: Vec<(String, String)> = match raw {
        Some(q) => url::form_urlencoded::parse(q.as_bytes())
            .into_owned()
            .collect(),
        None => Vec::new(),
    };
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
            | param::FILTER | param::FILTER_LANG | param::POINT | param::POINT_CRS => {}
            param::FORMAT => {
                if !matches!(v.as_str(), "json" | "geojson") {
                    return Err(ApiError::bad_request(format!(
                        "f={v}: only json/geojson is offered here"
                    )));
                }
            }
            name if l.fields().iter().any(|f| f.name == name) => {
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
    if let Some(f) = get(param::FILTER) {
        if let Some(lang) = get(param::FILTER_LANG) {
            if lang != "cql2-text" {
                return Err(ApiError::bad_request(format!(
                    "filter-lang={lang}: only cql2-text is supported"
                )));
            }
        }
        if f.len() > lim.max_filter_bytes {
            return Err(ApiError::bad_request(format!(
                "filter of {} bytes exceeds the limit of {} bytes",
                f.len(),
                lim.max_filter_bytes
            )));
        }
        exprs.push(cql2::parse(f)?);
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
        (Some(b), None) => Some(Spatial::Bbox(parse_bbox(b, bbox_crs)?)),
        (None, Some(p)) => Some(Spatial::Point(parse_point(p, point_crs)?)),
        (None, None) => None,
    };
    let limit = get(param::LIMIT)
        .map(|v| parse_count(param::LIMIT, v, lim.max_limit))
        .transpose()?
        .unwrap_or(lim.default_limit);
    let offset = get(param::OFFSET)
        .map(|v| parse_count(param::OFFSET, v, usize::MAX / 2))
        .transpose()?
        .unwrap_or(0);
    let out_crs = get(param::CRS)
        .map(|v| parse_crs(param::CRS, v))
        .transpose()?
        .unwrap_or(Crs::Crs84);
    Ok(FeaturesRequest {
        query: Query {
            spatial,
            filter,
            offset,
            limit,
        },
        out_crs,
        raw,
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

fn geojson_response(body: String, c: Crs) -> Response {
    let mut r = ([(header::CONTENT_TYPE, "application/geo+json")], body).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("<{}>", c.uri())) {
        r.headers_mut().insert("content-crs", v);
    }
    r
}

async fn features(
    State(s): State<AppState>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let cat = s.engine.snapshot();
    let l = find_layer(&cat, &id)?;
    let req = features_request(&s, &l, raw)?;
    let base = format!("{}/layers/{}/features", base_url(&s, &headers), l.id);
    let out_crs = req.out_crs;
    let body = tokio::task::spawn_blocking(move || -> Result<String, ApiError> {
        let res = l.query(&req.query);
        let enc = geojson::Encoder {
            layer: &l,
            crs: req.out_crs,
            lat_lon: req.out_crs.is_lat_lon(),
            fields: published_fields(&l),
        };
        let mut out = String::with_capacity(256 + res.features.len() * 400);
        out.push_str("{\"type\":\"FeatureCollection\",\"numberMatched\":");
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
        out.push_str(",\"links\":");
        out.push_str(&serde_json::Value::Array(links).to_string());
        out.push_str(",\"features\":[");
        for (i, r) in res.features.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            enc.feature(&mut out, *r)?;
        }
        out.push_str("]}");
        Ok(out)
    })
    .await??;
    Ok(geojson_response(body, out_crs))
}

async fn feature(
    State(s): State<AppState>,
    Path((id, fid)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let cat = s.engine.snapshot();
    let l = find_layer(&cat, &id)?;
    let fid: i64 = fid
        .parse()
        .map_err(|_| ApiError::not_found(format!("no feature '{fid}' in layer '{id}'")))?;
    let r = l
        .get(fid)
        .ok_or_else(|| ApiError::not_found(format!("no feature {fid} in layer '{id}'")))?;
    let raw: Vec<(String, String)> = raw
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default();
    let mut out_crs = Crs::Crs84;
    for (k, v) in &raw {
        match k.as_str() {
            param::CRS => out_crs = parse_crs(param::CRS, v)?,
            param::FORMAT => {}
            other => {
                return Err(ApiError::bad_request(format!(
                    "unknown parameter '{other}'"
                )))
            }
        }
    }
    let enc = geojson::Encoder {
        layer: &l,
        crs: out_crs,
        lat_lon: out_crs.is_lat_lon(),
        fields: published_fields(&l),
    };
    let mut out = String::new();
    enc.feature(&mut out, r).map_err(ApiError::from)?;
    Ok(geojson_response(out, out_crs))
}
