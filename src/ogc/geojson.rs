//! The one GeoJSON geometry writer: a feature's geometry straight from the
//! flat buffers into the output string, reprojected from Web Mercator, with
//! the precision rule of [`Crs::coord_decimals`]. The feature API, WFS
//! GeoJSON output, OGC API items, site search and WMS feature info all
//! write geometries through it.

use crate::crs::{self, Crs, CrsError, WEB_MERCATOR};
use crate::model::{push_json_str, push_num, GeometryKind, LayerData};
use geo_types::Coord;
use std::fmt::Write;

/// Appends the properties object of `row` (`{"name":value,…}`) with the
/// fields at the indexes `fields`, in that order.
pub fn push_properties(out: &mut String, data: &LayerData, row: usize, fields: &[usize]) {
    out.push('{');
    for (n, &c) in fields.iter().enumerate() {
        if n > 0 {
            out.push(',');
        }
        push_json_str(out, &data.fields[c].name);
        out.push(':');
        data.value(row, c).push_json(out);
    }
    out.push('}');
}

/// Appends the geometry of `row` as a GeoJSON geometry object in `crs`
/// (`null` for a feature without geometry). `lat_lon` swaps to latitude
/// first, for the OGC API's EPSG:4326 output; GeoJSON proper is longitude
/// first. `scratch` is reused between calls.
pub fn push_geometry(
    out: &mut String,
    data: &LayerData,
    row: usize,
    crs: Crs,
    lat_lon: bool,
    scratch: &mut Vec<Coord<f64>>,
) -> Result<(), CrsError> {
    let g = &data.geometry;
    if g.part_count(row) == 0 {
        out.push_str("null");
        return Ok(());
    }
    scratch.clear();
    scratch.extend_from_slice(g.coords_of(row));
    crs::transform(WEB_MERCATOR, crs, scratch)?;
    let decimals = crs.coord_decimals();
    let multi = data.geometry_type.is_multi() || g.part_count(row) > 1;
    let name = match (g.kind(), multi) {
        (GeometryKind::Point, false) => "Point",
        (GeometryKind::Point, true) => "MultiPoint",
        (GeometryKind::Line, false) => "LineString",
        (GeometryKind::Line, true) => "MultiLineString",
        (GeometryKind::Polygon, false) => "Polygon",
        (GeometryKind::Polygon, true) => "MultiPolygon",
    };
    // Bracket levels: around everything, around each part, around each ring.
    let outer = !matches!(name, "Point" | "LineString");
    let per_part = name == "MultiPolygon";
    let per_ring = g.kind() != GeometryKind::Point;
    let _ = write!(out, "{{\"type\":\"{name}\",\"coordinates\":");
    let mut k = 0usize;
    if outer {
        out.push('[');
    }
    for (pi, rings) in g.parts(row).enumerate() {
        if pi > 0 {
            out.push(',');
        }
        if per_part {
            out.push('[');
        }
        for (ri, ring) in rings.enumerate() {
            if ri > 0 {
                out.push(',');
            }
            if per_ring {
                out.push('[');
            }
            for ci in 0..ring.len() {
                if ci > 0 {
                    out.push(',');
                }
                let c = scratch[k];
                k += 1;
                let (a, b) = if lat_lon { (c.y, c.x) } else { (c.x, c.y) };
                out.push('[');
                push_num(out, a, decimals);
                out.push(',');
                push_num(out, b, decimals);
                out.push(']');
            }
            if per_ring {
                out.push(']');
            }
        }
        if per_part {
            out.push(']');
        }
    }
    if outer {
        out.push(']');
    }
    out.push('}');
    Ok(())
}
