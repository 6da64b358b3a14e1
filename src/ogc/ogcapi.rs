//! OGC API – Features (Part 1 core/GeoJSON/OpenAPI 3.0, Part 2 CRS, Part 3
//! filtering with CQL2 text and queryables): the JSON documents (landing
//! page, conformance, OpenAPI, collections, queryables), and the `datetime`
//! parameter with the temporal property of each layer.
//!
//! Everything here is built from an engine snapshot and configuration; no
//! IO, no `await`. `http::ogcapi` wires it to the router and runs the
//! feature queries.
//!
//! **Temporal properties.** A layer with a `valid_from` date (and optionally
//! `valid_to`) has an interval: a feature is valid from the first day to
//! the last day inclusive, a null end meaning "still valid" (the sample's
//! `admin_units`). A layer with an `approval_date` has an instant (`plans`).
//! `datetime` selects the features whose interval or instant intersects
//! the requested instant or interval, compared by calendar day in UTC.
//! Layers without such a property ignore a (well-formed) `datetime`: their
//! features carry no time, so time does not restrict them.

use crate::config::Config;
use crate::crs::{self, Crs, SUPPORTED_EPSG};
use crate::engine::filter::{CmpOp, Expr, Literal};
use crate::engine::temporal::{temporal_extent, temporal_of, Temporal};
use crate::engine::{Catalog, Layer};
use crate::model::access::Role;
use crate::model::{FieldType, FileFormat};
use serde_json::{json, Value};

/// Where the API is mounted, relative to the public base URL.
pub const ROOT: &str = "/ogcapi";

/// Media type of the OpenAPI document.
pub const OPENAPI_JSON: &str = "application/vnd.oai.openapi+json;version=3.0";
/// Media type of feature collections and features.
pub const GEOJSON: &str = "application/geo+json";
/// Media type of queryables.
pub const SCHEMA_JSON: &str = "application/schema+json";
/// Media type of the other documents.
pub const JSON: &str = "application/json";

/// The conformance classes implemented, and only those.
pub const CONFORMANCE: &[&str] = &[
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
];

/// Query parameters of `/collections/{id}/items` besides property names.
pub const ITEMS_PARAMS: &[&str] = &[
    "limit",
    "offset",
    "bbox",
    "bbox-crs",
    "crs",
    "datetime",
    "filter",
    "filter-lang",
    "filter-crs",
    "f",
];

/// An invalid request parameter.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct OgcApiError(pub String);

/// True when `name` is a field of `l` published to `role`.
pub fn is_published(l: &Layer, name: &str, role: Role) -> bool {
    l.fields_for(role)
        .into_iter()
        .any(|i| l.fields()[i].name == name)
}

/// Checks a `property=value` query value against the property's type
/// (the OpenAPI document declares the same types).
pub fn check_property_value(name: &str, ty: FieldType, v: &str) -> Result<(), OgcApiError> {
    let ok = match ty {
        FieldType::Text => true,
        FieldType::Integer => v.trim().parse::<i64>().is_ok(),
        FieldType::Real => v.trim().parse::<f64>().is_ok_and(f64::is_finite),
        FieldType::Boolean => matches!(v, "true" | "false"),
        FieldType::Date => {
            v.len() == 10 && chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d").is_ok()
        }
        FieldType::DateTime => chrono::DateTime::parse_from_rfc3339(v).is_ok(),
    };
    if ok {
        Ok(())
    } else {
        Err(OgcApiError(format!(
            "{name}={v}: not a valid {} value",
            match ty {
                FieldType::Date => "date (YYYY-MM-DD)",
                FieldType::DateTime => "date-time (RFC 3339)",
                other => other.json_type(),
            }
        )))
    }
}

/// Every property name an expression refers to.
pub fn expr_properties(e: &Expr) -> Vec<&str> {
    let mut out = Vec::new();
    fn walk<'a>(e: &'a Expr, out: &mut Vec<&'a str>) {
        match e {
            Expr::And(v) | Expr::Or(v) => v.iter().for_each(|x| walk(x, out)),
            Expr::Not(x) => walk(x, out),
            Expr::Cmp(n, _, _) | Expr::In(n, _) | Expr::Between(n, _, _) | Expr::IsNull(n) => {
                out.push(n)
            }
            Expr::Like { field, .. } => out.push(field),
            // Feature ids and geometry predicates name no property.
            Expr::Fids(_) | Expr::Spatial(..) => {}
        }
    }
    walk(e, &mut out);
    out
}

/// A layer's extent in CRS84 (lon/lat), `[minx, miny, maxx, maxy]`,
/// rounded outward ([`crs::round_outward`]): sent back as a bbox it
/// selects every feature of the layer. Every service advertises this one.
pub fn extent_crs84(l: &Layer) -> Option<[f64; 4]> {
    let e = l.extent()?;
    let (a, b) = crs::advertised_bbox((e.min(), e.max()), Crs::Crs84).ok()?;
    Some([a.x, a.y, b.x, b.y])
}

/// Every CRS an items request may ask for, CRS84 first.
pub fn crs_list() -> Vec<String> {
    std::iter::once(Crs::Crs84.uri())
        .chain(SUPPORTED_EPSG.iter().map(|&c| Crs::Epsg(c).uri()))
        .collect()
}

fn link(href: String, rel: &str, ty: &str, title: &str) -> Value {
    json!({"href": href, "rel": rel, "type": ty, "title": title})
}

/// The landing page. `root` is the absolute URL of the API root.
pub fn landing(root: &str, config: &Config) -> Value {
    json!({
        "title": config.ogc.title,
        "description": config.ogc.abstract_text,
        "links": [
            link(format!("{root}/"), "self", JSON, "this document"),
            link(format!("{root}/api"), "service-desc", OPENAPI_JSON, "the API definition (OpenAPI 3.0)"),
            link(format!("{root}/conformance"), "conformance", JSON, "the conformance classes implemented"),
            link(format!("{root}/collections"), "data", JSON, "the feature collections"),
        ],
    })
}

/// The conformance declaration.
pub fn conformance(root: &str) -> Value {
    json!({
        "conformsTo": CONFORMANCE,
        "links": [link(format!("{root}/conformance"), "self", JSON, "this document")],
    })
}

/// One end of a `datetime` value, normalised to UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Moment(chrono::NaiveDateTime);

impl Moment {
    fn date(self) -> String {
        self.0.date().format("%Y-%m-%d").to_string()
    }
    fn timestamp(self) -> String {
        self.0.format("%Y-%m-%dT%H:%M:%SZ").to_string()
    }
}

/// A parsed `datetime`: an instant (both ends equal) or an interval with
/// optionally open ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateTimeRange {
    /// Start; `None` when open (`..` or empty).
    pub start: Option<Moment>,
    /// End; `None` when open.
    pub end: Option<Moment>,
}

fn parse_moment(s: &str, end_of_day: bool) -> Result<Moment, OgcApiError> {
    use chrono::{DateTime, NaiveDate, NaiveTime};
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return Ok(Moment(d.naive_utc()));
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        if s.len() == 10 {
            let t = if end_of_day {
                NaiveTime::from_hms_opt(23, 59, 59)
            } else {
                NaiveTime::from_hms_opt(0, 0, 0)
            };
            return Ok(Moment(d.and_time(t.unwrap_or_default())));
        }
    }
    Err(OgcApiError(format!(
        "datetime: '{s}' is neither an RFC 3339 date-time (2025-07-01T00:00:00Z) nor a date (2025-07-01)"
    )))
}

/// Parses `datetime`: `instant`, `start/end`, `../end`, `start/..` (an
/// empty end is open too). A date stands for the whole day.
pub fn parse_datetime(v: &str) -> Result<DateTimeRange, OgcApiError> {
    let v = v.trim();
    if v.len() > 100 {
        return Err(OgcApiError("datetime: value too long".into()));
    }
    let open = |s: &str| s.is_empty() || s == "..";
    match v.split_once('/') {
        None => {
            if open(v) {
                return Err(OgcApiError(
                    "datetime: an instant must be a date or date-time, not '..'".into(),
                ));
            }
            Ok(DateTimeRange {
                start: Some(parse_moment(v, false)?),
                end: Some(parse_moment(v, true)?),
            })
        }
        Some((a, b)) => {
            if b.contains('/') {
                return Err(OgcApiError(format!(
                    "datetime: '{v}' has more than one '/'"
                )));
            }
            let start = (!open(a)).then(|| parse_moment(a, false)).transpose()?;
            let end = (!open(b)).then(|| parse_moment(b, true)).transpose()?;
            if let (Some(s), Some(e)) = (start, end) {
                if s > e {
                    return Err(OgcApiError(format!(
                        "datetime: the interval '{v}' ends before it starts"
                    )));
                }
            }
            Ok(DateTimeRange { start, end })
        }
    }
}

/// The filter expression selecting features of `l` whose temporal property
/// intersects `r`; `None` when nothing is to be filtered (no temporal
/// property, or an interval open at both ends).
pub fn datetime_expr(l: &Layer, r: &DateTimeRange) -> Option<Expr> {
    let t = temporal_of(l)?;
    let lit = |field: usize, m: Moment| {
        Literal::Text(match l.fields()[field].ty {
            FieldType::DateTime => m.timestamp(),
            _ => m.date(),
        })
    };
    let name = |i: usize| l.fields()[i].name.clone();
    let mut all = Vec::new();
    match t {
        Temporal::Interval { start, end } => {
            if let Some(e) = r.end {
                all.push(Expr::Or(vec![
                    Expr::IsNull(name(start)),
                    Expr::Cmp(name(start), CmpOp::Le, lit(start, e)),
                ]));
            }
            if let (Some(s), Some(end)) = (r.start, end) {
                all.push(Expr::Or(vec![
                    Expr::IsNull(name(end)),
                    Expr::Cmp(name(end), CmpOp::Ge, lit(end, s)),
                ]));
            }
        }
        Temporal::Instant(i) => {
            if let Some(s) = r.start {
                all.push(Expr::Cmp(name(i), CmpOp::Ge, lit(i, s)));
            }
            if let Some(e) = r.end {
                all.push(Expr::Cmp(name(i), CmpOp::Le, lit(i, e)));
            }
        }
    }
    (!all.is_empty()).then_some(Expr::And(all))
}

/// One collection's description. `root` is the API root URL.
pub fn collection(root: &str, l: &Layer) -> Value {
    let base = format!("{root}/collections/{}", l.id);
    let mut extent = json!({
        "spatial": {
            "bbox": [extent_crs84(l).map(|b| b.to_vec()).unwrap_or_else(|| vec![-180.0, -90.0, 180.0, 90.0])],
            "crs": Crs::Crs84.uri(),
        },
    });
    if let Some(t) = temporal_of(l) {
        extent["temporal"] = json!({
            "interval": [temporal_extent(l, &t)],
            "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian",
        });
    }
    let title = if l.meta.title.is_empty() {
        l.id.clone()
    } else {
        l.meta.title.clone()
    };
    json!({
        "id": l.id,
        "title": title,
        "description": l.meta.description,
        "itemType": "feature",
        "extent": extent,
        "crs": crs_list(),
        "storageCrs": Crs::Epsg(l.source_srid).uri(),
        "links": [
            link(base.clone(), "self", JSON, "this collection"),
            link(format!("{base}/items"), "items", GEOJSON, "the features (GeoJSON)"),
            link(format!("{base}/queryables"), "http://www.opengis.net/def/rel/ogc/1.0/queryables", SCHEMA_JSON, "the queryable properties"),
        ],
    })
}

/// The list of collections.
pub fn collections(root: &str, cat: &Catalog) -> Value {
    json!({
        "links": [link(format!("{root}/collections"), "self", JSON, "this document")],
        "crs": crs_list(),
        "collections": cat.layers().map(|l| collection(root, l)).collect::<Vec<_>>(),
    })
}

fn field_schema(ty: FieldType) -> Value {
    match ty {
        FieldType::Boolean => json!({"type": "boolean"}),
        FieldType::Integer => json!({"type": "integer"}),
        FieldType::Real => json!({"type": "number"}),
        FieldType::Text => json!({"type": "string"}),
        FieldType::Date => json!({"type": "string", "format": "date"}),
        FieldType::DateTime => json!({"type": "string", "format": "date-time"}),
    }
}

/// The queryables of a collection: its published properties, as a JSON
/// Schema (filters and `property=value` may name these, nothing else).
pub fn queryables(root: &str, l: &Layer, role: Role) -> Value {
    let mut props = serde_json::Map::new();
    for i in l.fields_for(role) {
        let f = &l.fields()[i];
        let mut s = field_schema(f.ty);
        s["title"] = json!(f.name);
        props.insert(f.name.clone(), s);
    }
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": format!("{root}/collections/{}/queryables", l.id),
        "type": "object",
        "title": l.meta.title,
        "properties": props,
        "additionalProperties": false,
    })
}

fn param_ref(name: &str) -> Value {
    json!({"$ref": format!("#/components/parameters/{name}")})
}

fn responses(ok_type: &str, ok_schema: Value, not_found: bool) -> Value {
    let mut r = json!({
        "200": {"description": "success", "content": {ok_type: {"schema": ok_schema}}},
        "400": {"$ref": "#/components/responses/BadRequest"},
    });
    if not_found {
        r["404"] = json!({"$ref": "#/components/responses/NotFound"});
    }
    r
}

/// The `f=` values of items: GeoJSON, then the download formats.
fn items_formats() -> Vec<&'static str> {
    let mut v = vec!["json", "geojson"];
    v.extend(FileFormat::ALL.iter().map(|f| f.short_name()));
    v
}

/// The responses of items: the GeoJSON page, or a download file.
fn items_responses(page: Value) -> Value {
    let mut r = responses(GEOJSON, page, true);
    for f in FileFormat::ALL {
        let media = f.mime().split(';').next().unwrap_or_default();
        r["200"]["content"][media] = json!({"schema": {"type": "string", "format": "binary"}});
    }
    r
}

/// The OpenAPI 3.0 document of the API over the current catalog: one set
/// of paths per collection, every parameter, `limit` with the configured
/// default and maximum.
pub fn openapi(root: &str, cat: &Catalog, config: &Config) -> Value {
    let lim = &config.limits;
    let schema = |n: &str| json!({"$ref": format!("#/components/schemas/{n}")});
    let mut paths = serde_json::Map::new();
    let f_json = json!({"name": "f", "in": "query", "required": false,
        "description": "Output format (JSON only).",
        "schema": {"type": "string", "enum": ["json"]}});
    paths.insert(
        "/".into(),
        json!({"get": {
        "summary": "Landing page", "operationId": "getLandingPage", "tags": ["Capabilities"],
        "parameters": [f_json],
        "responses": responses(JSON, schema("landingPage"), false)}}),
    );
    paths.insert(
        "/conformance".into(),
        json!({"get": {
        "summary": "Conformance classes implemented", "operationId": "getConformanceDeclaration",
        "tags": ["Capabilities"], "parameters": [f_json],
        "responses": responses(JSON, schema("confClasses"), false)}}),
    );
    paths.insert(
        "/api".into(),
        json!({"get": {
        "summary": "This API definition", "operationId": "getApi", "tags": ["Capabilities"],
        "parameters": [f_json],
        "responses": responses(OPENAPI_JSON, json!({"type": "object"}), false)}}),
    );
    paths.insert(
        "/collections".into(),
        json!({"get": {
        "summary": "The feature collections", "operationId": "getCollections",
        "tags": ["Capabilities"], "parameters": [f_json],
        "responses": responses(JSON, schema("collections"), false)}}),
    );
    for l in cat.layers() {
        let id = &l.id;
        // Every items parameter, `f` with the download formats.
        let mut items_params: Vec<Value> = ITEMS_PARAMS
            .iter()
            .map(|&p| param_ref(if p == "f" { "f-items" } else { p }))
            .collect();
        for i in l.fields_for(Role::Public) {
            let f = &l.fields()[i];
            items_params.push(json!({
                "name": f.name, "in": "query", "required": false, "style": "form", "explode": false,
                "description": format!("Only features whose '{}' equals this value.", f.name),
                "schema": field_schema(f.ty),
            }));
        }
        paths.insert(
            format!("/collections/{id}"),
            json!({"get": {
            "summary": format!("Describe the '{id}' collection"),
            "operationId": format!("describeCollection_{id}"), "tags": ["Data"],
            "parameters": [f_json],
            "responses": responses(JSON, schema("collection"), true)}}),
        );
        paths.insert(
            format!("/collections/{id}/queryables"),
            json!({"get": {
            "summary": format!("Queryable properties of '{id}'"),
            "operationId": format!("getQueryables_{id}"), "tags": ["Data"],
            "parameters": [f_json],
            "responses": responses(SCHEMA_JSON, json!({"type": "object"}), true)}}),
        );
        paths.insert(format!("/collections/{id}/items"), json!({"get": {
            "summary": format!("Features of '{id}'"),
            "description": format!("{} (geometry type {}).", l.meta.title, l.geometry_type().name()),
            "operationId": format!("getFeatures_{id}"), "tags": ["Data"],
            "parameters": items_params,
            "responses": items_responses(schema("featureCollectionGeoJSON"))}}));
        paths.insert(
            format!("/collections/{id}/items/{{featureId}}"),
            json!({"get": {
            "summary": format!("One feature of '{id}'"),
            "operationId": format!("getFeature_{id}"), "tags": ["Data"],
            "parameters": [param_ref("featureId"), param_ref("crs"), param_ref("f-geojson")],
            "responses": responses(GEOJSON, schema("featureGeoJSON"), true)}}),
        );
    }
    let crs_enum = crs_list();
    let link_schema = json!({"type": "object", "required": ["href"], "properties": {
        "href": {"type": "string"}, "rel": {"type": "string"}, "type": {"type": "string"},
        "title": {"type": "string"}}});
    let links = json!({"type": "array", "items": schema("link")});
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": config.ogc.title,
            "description": config.ogc.abstract_text,
            "version": env!("CARGO_PKG_VERSION"),
            "license": {"name": "MIT OR Apache-2.0"},
        },
        "servers": [{"url": root}],
        "tags": [{"name": "Capabilities"}, {"name": "Data"}],
        "paths": paths,
        "components": {
            "parameters": {
                "limit": {"name": "limit", "in": "query", "required": false, "style": "form", "explode": false,
                    "description": format!("Page size: at most {} features (default {}).", lim.max_limit, lim.default_limit),
                    "schema": {"type": "integer", "minimum": 1, "maximum": lim.max_limit, "default": lim.default_limit}},
                // No style/explode on offset and f: QGIS takes such parameters for
                // queryable properties.
                "offset": {"name": "offset", "in": "query", "required": false,
                    "description": "Features to skip, in ascending id order (the `next` links carry it).",
                    "schema": {"type": "integer", "minimum": 0, "default": 0}},
                "bbox": {"name": "bbox", "in": "query", "required": false, "style": "form", "explode": false,
                    "description": "Only features intersecting the box: minx,miny,maxx,maxy in the axis order of bbox-crs (default CRS84, lon/lat).",
                    "schema": {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}}},
                "bbox-crs": {"name": "bbox-crs", "in": "query", "required": false, "style": "form", "explode": false,
                    "description": "CRS of bbox (EPSG:4326 is lat,lon).",
                    "schema": {"type": "string", "format": "uri", "enum": crs_enum, "default": Crs::Crs84.uri()}},
                "crs": {"name": "crs", "in": "query", "required": false, "style": "form", "explode": false,
                    "description": "CRS of the returned coordinates (answered in the Content-Crs header).",
                    "schema": {"type": "string", "format": "uri", "enum": crs_enum, "default": Crs::Crs84.uri()}},
                "datetime": {"name": "datetime", "in": "query", "required": false, "style": "form", "explode": false,
                    "description": "An instant or interval (RFC 3339, '..' for an open end). Applies to layers with valid_from/valid_to or approval_date; others ignore it.",
                    "schema": {"type": "string", "minLength": 1}},
                "filter": {"name": "filter", "in": "query", "required": false, "style": "form", "explode": false,
                    "description": format!("CQL2 text over the queryables (at most {} bytes, {} levels, {} nodes).", lim.max_filter_bytes, lim.max_filter_depth, lim.max_filter_nodes),
                    "schema": {"type": "string", "minLength": 1}},
                "filter-lang": {"name": "filter-lang", "in": "query", "required": false, "style": "form", "explode": false,
                    "schema": {"type": "string", "enum": ["cql2-text"], "default": "cql2-text"}},
                "filter-crs": {"name": "filter-crs", "in": "query", "required": false, "style": "form", "explode": false,
                    "description": "CRS of geometry literals in the filter.",
                    "schema": {"type": "string", "format": "uri", "enum": crs_enum, "default": Crs::Crs84.uri()}},
                "f-items": {"name": "f", "in": "query", "required": false,
                    "description": format!("Output format: the GeoJSON page (json, geojson), or every match as a file (gpkg, shp — a zipped Shapefile, kml, csv, xlsx) in the storage CRS unless `crs` says otherwise (KML: WGS 84); a file without `limit` holds every match, at most {}.", lim.max_export_features),
                    "schema": {"type": "string", "enum": items_formats()}},
                "f-geojson": {"name": "f", "in": "query", "required": false,
                    "description": "Output format (GeoJSON only).",
                    "schema": {"type": "string", "enum": ["json", "geojson"]}},
                "featureId": {"name": "featureId", "in": "path", "required": true,
                    "description": "The feature id.", "schema": {"type": "integer"}},
            },
            "responses": {
                "BadRequest": {"description": "invalid parameter (RFC 9457 problem details)",
                    "content": {"application/problem+json": {"schema": schema("exception")}}},
                "NotFound": {"description": "no such collection or feature",
                    "content": {"application/problem+json": {"schema": schema("exception")}}},
            },
            "schemas": {
                "link": link_schema,
                "exception": {"type": "object", "required": ["title", "status"], "properties": {
                    "type": {"type": "string"}, "title": {"type": "string"},
                    "status": {"type": "integer"}, "detail": {"type": "string"}}},
                "landingPage": {"type": "object", "required": ["links"], "properties": {
                    "title": {"type": "string"}, "description": {"type": "string"}, "links": links}},
                "confClasses": {"type": "object", "required": ["conformsTo"], "properties": {
                    "conformsTo": {"type": "array", "items": {"type": "string"}}}},
                "collection": {"type": "object", "required": ["id", "links"], "properties": {
                    "id": {"type": "string"}, "title": {"type": "string"},
                    "description": {"type": "string"}, "links": links,
                    "extent": {"type": "object"}, "itemType": {"type": "string"},
                    "crs": {"type": "array", "items": {"type": "string"}},
                    "storageCrs": {"type": "string"}}},
                "collections": {"type": "object", "required": ["links", "collections"], "properties": {
                    "links": links, "crs": {"type": "array", "items": {"type": "string"}},
                    "collections": {"type": "array", "items": schema("collection")}}},
                "featureGeoJSON": {"type": "object", "required": ["type", "geometry", "properties"], "properties": {
                    "type": {"type": "string", "enum": ["Feature"]},
                    "id": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
                    "geometry": {"nullable": true, "type": "object"},
                    "properties": {"nullable": true, "type": "object"},
                    "links": links}},
                "featureCollectionGeoJSON": {"type": "object", "required": ["type", "features"], "properties": {
                    "type": {"type": "string", "enum": ["FeatureCollection"]},
                    "features": {"type": "array", "items": schema("featureGeoJSON")},
                    "links": links,
                    "timeStamp": {"type": "string", "format": "date-time"},
                    "numberMatched": {"type": "integer", "minimum": 0},
                    "numberReturned": {"type": "integer", "minimum": 0}}},
            },
        },
    })
}

/// The current time as RFC 3339 (the `timeStamp` of a response).
pub fn time_stamp(now: std::time::SystemTime) -> String {
    chrono::DateTime::<chrono::Utc>::from(now)
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datetime_instants_intervals_and_open_ends_parse() {
        let r = parse_datetime("2025-07-01").unwrap();
        assert_eq!(r.start.unwrap().date(), "2025-07-01");
        assert_eq!(r.end.unwrap().date(), "2025-07-01");
        // An offset is normalised to UTC: 01:00 at +07:00 is the day before.
        let r = parse_datetime("2025-01-01T01:00:00+07:00").unwrap();
        assert_eq!(r.start.unwrap().date(), "2024-12-31");
        let r = parse_datetime("../2024-06-01T00:00:00Z").unwrap();
        assert!(r.start.is_none());
        assert_eq!(r.end.unwrap().date(), "2024-06-01");
        let r = parse_datetime("2025-01-01/").unwrap();
        assert!(r.end.is_none());
        assert!(parse_datetime("../..").unwrap().start.is_none());
        for bad in [
            "",
            "..",
            "yesterday",
            "2025-13-01",
            "2025-02-01/2025-01-01",
            "a/b/c",
            "2025-1-1",
        ] {
            assert!(parse_datetime(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn every_conformance_class_is_a_uri() {
        for c in CONFORMANCE {
            assert!(c.starts_with("http://www.opengis.net/spec/"), "{c}");
        }
    }
}
