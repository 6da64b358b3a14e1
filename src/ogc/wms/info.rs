//! GetFeatureInfo: the features at a pixel of a map (polygons containing
//! it, points and lines within a few pixels), and the answers:
//! text/plain, text/html (every value escaped), application/json (GeoJSON,
//! geometry in the request CRS, x/y order) and application/vnd.ogc.gml (a
//! GML 2 feature collection, as GeoServer and MapServer answer and QGIS
//! reads). Attribute text is written as stored (NFC UTF-8), so Vietnamese
//! arrives intact.

use super::request::{frame, map_params, pixel_ratio, resolve, Requested};
use super::{
    code, param, Env, Reply, Version, WmsException, INFO_FORMATS, INFO_TOLERANCE_PX,
    MAX_FEATURE_COUNT,
};
use crate::crs::Crs;
use crate::engine::{FeatureRef, Layer, Query, Spatial};
use crate::model::{GeometryKind, ValueRef};
use crate::ogc::gml::{GeomWriter, GmlVersion};
use crate::ogc::kvp::Kvp;
use crate::ogc::xml::escape;
use crate::render::{MapSpec, View};
use std::fmt::Write;
use std::sync::Arc;

/// Features found per queried layer.
pub type Hits = [(Arc<Layer>, Vec<FeatureRef>)];

/// Answers GetFeatureInfo. Never fails: errors are exception reports.
pub(super) fn get_feature_info(v: Version, kvp: &Kvp, env: &Env<'_>) -> Reply {
    match feature_info(v, kvp, env) {
        Ok(r) => r,
        Err(e) => Reply::exception(v, &e),
    }
}

fn feature_info(v: Version, kvp: &Kvp, env: &Env<'_>) -> Result<Reply, WmsException> {
    let frame = frame(kvp, env, false)?;
    let p = map_params(v, kvp, env, &frame)?;
    let ql = kvp
        .get(param::QUERY_LAYERS)
        .ok_or_else(|| WmsException::missing(param::QUERY_LAYERS))?;
    let mut query_layers = Vec::new();
    for r in resolve(ql, param::QUERY_LAYERS, env)? {
        match r {
            Requested::One(l) => query_layers.push(l),
            Requested::All(_) => {
                return Err(WmsException::new(
                    code::LAYER_NOT_QUERYABLE,
                    param::QUERY_LAYERS,
                    format!(
                    "layer '{}' is the group of all layers and is not queryable; query its layers",
                    env.config.ogc.prefix
                ),
                ))
            }
        }
    }
    let info_format = match kvp.get(param::INFO_FORMAT).map(str::trim) {
        None | Some("") => "text/plain".to_owned(),
        Some(f) => {
            let base = f
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            let known = match base.as_str() {
                "text/plain" => "text/plain",
                "text/html" => "text/html",
                "application/json" | "application/geo+json" | "application/geojson" => {
                    "application/json"
                }
                "application/vnd.ogc.gml" | "text/xml" | "application/xml" | "gml" => {
                    "application/vnd.ogc.gml"
                }
                _ => {
                    return Err(WmsException::new(
                        code::INVALID_FORMAT,
                        param::INFO_FORMAT,
                        format!("INFO_FORMAT={f}: offered are {}", INFO_FORMATS.join(", ")),
                    ))
                }
            };
            known.to_owned()
        }
    };
    let count = match kvp.get(param::FEATURE_COUNT).map(str::trim) {
        None | Some("") => 1,
        Some(c) => {
            let n: usize = c.parse().map_err(|_| {
                WmsException::invalid(
                    param::FEATURE_COUNT,
                    format!("FEATURE_COUNT={c} is not a positive whole number"),
                )
            })?;
            if n == 0 {
                return Err(WmsException::invalid(
                    param::FEATURE_COUNT,
                    "FEATURE_COUNT must be at least 1",
                ));
            }
            if n > MAX_FEATURE_COUNT {
                return Err(WmsException::invalid(
                    param::FEATURE_COUNT,
                    format!("FEATURE_COUNT={n} exceeds the limit of {MAX_FEATURE_COUNT}"),
                ));
            }
            n
        }
    };
    let (pi, pj) = match v {
        Version::V130 => ((param::I, param::X), (param::J, param::Y)),
        Version::V111 => ((param::X, param::I), (param::Y, param::J)),
    };
    let coord = |(own, other): (&str, &str), max: u32| -> Result<f64, WmsException> {
        let (name, raw) = match (kvp.get(own), kvp.get(other)) {
            (Some(x), _) => (own, x),
            (None, Some(x)) => (other, x),
            (None, None) => return Err(WmsException::missing(own)),
        };
        let n: f64 = raw
            .trim()
            .parse()
            .ok()
            .filter(|n: &f64| n.is_finite())
            .ok_or_else(|| {
                WmsException::new(
                    code::INVALID_POINT,
                    name,
                    format!("{name}={raw} is not a pixel number"),
                )
            })?;
        if n < 0.0 || n >= f64::from(max) {
            return Err(WmsException::new(
                code::INVALID_POINT,
                name,
                format!("{name}={raw} lies outside the map (0..{})", max - 1),
            ));
        }
        Ok(n.floor() + 0.5)
    };
    let i = coord(pi, p.width)?;
    let j = coord(pj, p.height)?;
    let view = View::new(&MapSpec {
        crs: p.crs,
        bbox: p.bbox,
        width: p.width,
        height: p.height,
        background: None,
        pixel_ratio: pixel_ratio(kvp),
    })
    .map_err(|e| WmsException::invalid(param::BBOX, e.to_string()))?;
    let at = view
        .pixel_to_mercator(i, j)
        .map_err(|e| WmsException::new(code::INVALID_POINT, pi.0, e.to_string()))?;
    let tol = INFO_TOLERANCE_PX * view.merc_per_px;
    let mut hits = Vec::new();
    for l in &query_layers {
        let found: Vec<_> = match l.geometry_type().kind() {
            GeometryKind::Polygon => {
                l.query(&Query {
                    spatial: Some(Spatial::Point(at)),
                    filter: None,
                    offset: 0,
                    limit: count,
                })
                .features
            }
            _ => l
                .nearest(at, count, None)
                .into_iter()
                .filter(|(_, d)| *d <= tol)
                .map(|(r, _)| r)
                .collect(),
        };
        hits.push((l.clone(), found));
    }
    let body = write(&info_format, &hits, p.crs, env);
    let ct = match info_format.as_str() {
        "text/plain" => "text/plain; charset=UTF-8",
        "text/html" => "text/html; charset=UTF-8",
        "application/json" => "application/json",
        _ => "application/vnd.ogc.gml; charset=UTF-8",
    };
    Ok(Reply::ok(ct, body.into_bytes()))
}

fn value_text(v: ValueRef<'_>) -> String {
    match v {
        ValueRef::Null => String::new(),
        ValueRef::Bool(b) => b.to_string(),
        ValueRef::Int(i) => i.to_string(),
        ValueRef::Real(r) => r.to_string(),
        ValueRef::Text(t) => t.to_owned(),
    }
}

fn value_json(v: ValueRef<'_>) -> serde_json::Value {
    match v {
        ValueRef::Null => serde_json::Value::Null,
        ValueRef::Bool(b) => b.into(),
        ValueRef::Int(i) => i.into(),
        ValueRef::Real(r) => serde_json::Number::from_f64(r)
            .map(serde_json::Value::Number)
            .unwrap_or(serde_json::Value::Null),
        ValueRef::Text(t) => t.into(),
    }
}

/// Rings of a feature's parts in `crs` (x = east / longitude).
/// The feature's geometry as a GeoJSON value in `c`, through the one
/// GeoJSON writer.
fn geojson_geometry(l: &Layer, r: FeatureRef, c: Crs) -> serde_json::Value {
    let mut s = String::new();
    match crate::ogc::geojson::push_geometry(
        &mut s,
        l.data(r.part),
        r.row as usize,
        c,
        false,
        &mut Vec::new(),
    ) {
        Ok(()) => serde_json::from_str(&s).unwrap_or(serde_json::Value::Null),
        Err(_) => serde_json::Value::Null,
    }
}

/// The feature's geometry as GML 2, through the one GML writer.
fn gml2_geometry(out: &mut String, l: &Layer, r: FeatureRef, c: Crs) {
    let w = GeomWriter {
        version: GmlVersion::V2,
        crs: c,
        srs_name: format!("EPSG:{}", c.epsg()),
        lat_lon: false,
    };
    let mut s = String::new();
    let id = format!("{}.{}", l.id, r.fid);
    if w.write(&mut s, l.data(r.part), r.row as usize, &id, &mut Vec::new())
        .is_ok()
    {
        out.push_str(&s);
    }
}

/// The answer body in `format` (one of the offered info formats).
pub fn write(format: &str, hits: &Hits, c: Crs, env: &Env<'_>) -> String {
    let mut o = String::new();
    match format {
        "text/html" => {
            o.push_str("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>GetFeatureInfo</title></head><body>\n");
            for (l, feats) in hits {
                let title = if l.meta.title.is_empty() {
                    &l.id
                } else {
                    &l.meta.title
                };
                let fields = l.published_fields(env.access);
                let _ = writeln!(
                    o,
                    "<table class=\"featureInfo\" data-layer=\"{}\"><caption>{}</caption>",
                    escape(&l.id),
                    escape(title)
                );
                o.push_str("<tr><th>fid</th>");
                for &i in &fields {
                    let _ = write!(o, "<th>{}</th>", escape(&l.fields()[i].name));
                }
                o.push_str("</tr>\n");
                for r in feats {
                    let data = l.data(r.part);
                    let _ = write!(o, "<tr><td>{}</td>", r.fid);
                    for &i in &fields {
                        let _ = write!(
                            o,
                            "<td>{}</td>",
                            escape(&value_text(data.value(r.row as usize, i)))
                        );
                    }
                    o.push_str("</tr>\n");
                }
                o.push_str("</table>\n");
            }
            o.push_str("</body></html>\n");
        }
        "application/json" => {
            let mut features = Vec::new();
            for (l, feats) in hits {
                let fields = l.published_fields(env.access);
                for r in feats {
                    let data = l.data(r.part);
                    let mut props = serde_json::Map::new();
                    for &i in &fields {
                        props.insert(
                            l.fields()[i].name.clone(),
                            value_json(data.value(r.row as usize, i)),
                        );
                    }
                    features.push(serde_json::json!({
                        "type": "Feature",
                        "id": format!("{}.{}", l.id, r.fid),
                        "layer": l.id,
                        "properties": props,
                        "geometry": geojson_geometry(l, *r, c),
                    }));
                }
            }
            let doc = serde_json::json!({
                "type": "FeatureCollection",
                "crs": {"type": "name", "properties": {"name": format!("EPSG:{}", c.epsg())}},
                "features": features,
            });
            o = doc.to_string();
        }
        "application/vnd.ogc.gml" => {
            let ns = &env.config.ogc.namespace_uri;
            let prefix = &env.config.ogc.prefix;
            let _ = writeln!(o, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
            let _ = writeln!(
                o,
                "<wfs:FeatureCollection xmlns:wfs=\"http://www.opengis.net/wfs\" xmlns:gml=\"http://www.opengis.net/gml\" xmlns:{prefix}=\"{}\">",
                escape(ns)
            );
            for (l, feats) in hits {
                let fields = l.published_fields(env.access);
                for r in feats {
                    let data = l.data(r.part);
                    let _ = write!(
                        o,
                        "  <gml:featureMember><{prefix}:{id} fid=\"{id}.{fid}\">",
                        id = l.id,
                        fid = r.fid
                    );
                    let _ = write!(o, "<{prefix}:geometry>");
                    gml2_geometry(&mut o, l, *r, c);
                    let _ = write!(o, "</{prefix}:geometry>");
                    for &i in &fields {
                        let name = &l.fields()[i].name;
                        let _ = write!(
                            o,
                            "<{prefix}:{name}>{}</{prefix}:{name}>",
                            escape(&value_text(data.value(r.row as usize, i)))
                        );
                    }
                    let _ = writeln!(o, "</{prefix}:{}></gml:featureMember>", l.id);
                }
            }
            o.push_str("</wfs:FeatureCollection>\n");
        }
        _ => {
            for (l, feats) in hits {
                let fields = l.published_fields(env.access);
                let _ = writeln!(o, "Layer '{}'", l.id);
                if feats.is_empty() {
                    o.push_str("  no feature found\n");
                }
                for r in feats {
                    let data = l.data(r.part);
                    let _ = writeln!(o, "  Feature {}:", r.fid);
                    for &i in &fields {
                        let _ = writeln!(
                            o,
                            "    {} = '{}'",
                            l.fields()[i].name,
                            value_text(data.value(r.row as usize, i))
                        );
                    }
                }
            }
        }
    }
    o
}
