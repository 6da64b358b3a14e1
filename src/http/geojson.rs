//! GeoJSON encoding of engine features, straight from the flat buffers into
//! one output string, with coordinates reprojected per feature.

use crate::crs::{self, Crs, CrsError, WEB_MERCATOR};
use crate::engine::{FeatureRef, Layer};
pub use crate::model::push_json_str;
use crate::model::GeometryKind;
use geo_types::Coord;
use std::fmt::Write;

/// Writes numbers with a fixed precision (0.1 mm), trimming zeros.
fn num(out: &mut String, v: f64, decimals: usize) {
    let start = out.len();
    let _ = write!(out, "{v:.decimals$}");
    if out[start..].contains('.') {
        while out.ends_with('0') {
            out.pop();
        }
        if out.ends_with('.') {
            out.pop();
        }
    }
    if &out[start..] == "-0" {
        out.truncate(start);
        out.push('0');
    }
}

/// Output settings for a feature collection.
pub struct Encoder<'a> {
    /// The layer.
    pub layer: &'a Layer,
    /// Target CRS.
    pub crs: Crs,
    /// Swap to (lat, lon) for CRSs whose authority order is latitude first.
    pub lat_lon: bool,
    /// Indexes of the fields to write.
    pub fields: Vec<usize>,
}

impl Encoder<'_> {
    /// Appends one feature as a GeoJSON object.
    pub fn feature(&self, out: &mut String, r: FeatureRef) -> Result<(), CrsError> {
        let data = self.layer.data(r.part);
        let row = r.row as usize;
        let _ = write!(out, "{{\"type\":\"Feature\",\"id\":{},\"geometry\":", r.fid);
        self.geometry(out, row, r)?;
        out.push_str(",\"properties\":{");
        for (n, &c) in self.fields.iter().enumerate() {
            if n > 0 {
                out.push(',');
            }
            push_json_str(out, &data.fields[c].name);
            out.push(':');
            data.value(row, c).push_json(out);
        }
        out.push_str("}}");
        Ok(())
    }

    pub(crate) fn geometry(
        &self,
        out: &mut String,
        row: usize,
        r: FeatureRef,
    ) -> Result<(), CrsError> {
        let data = self.layer.data(r.part);
        let g = &data.geometry;
        if g.part_count(row) == 0 {
            out.push_str("null");
            return Ok(());
        }
        let mut cs: Vec<Coord<f64>> = g.coords_of(row).to_vec();
        crs::transform(WEB_MERCATOR, self.crs, &mut cs)?;
        let decimals = if self.crs.is_geographic() { 9 } else { 4 };
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
        let mut coord = |out: &mut String| {
            let c = cs[k];
            k += 1;
            let (a, b) = if self.lat_lon { (c.y, c.x) } else { (c.x, c.y) };
            out.push('[');
            num(out, a, decimals);
            out.push(',');
            num(out, b, decimals);
            out.push(']');
        };
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
                    coord(out);
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_strings_escape_controls_and_keep_diacritics() {
        let mut s = String::new();
        push_json_str(&mut s, "Đường \"Trần Phú\"\n\u{1}");
        assert_eq!(s, "\"Đường \\\"Trần Phú\\\"\\n\\u0001\"");
        let v: serde_json::Value = serde_json::from_str(&s).unwrap();
        assert_eq!(v, "Đường \"Trần Phú\"\n\u{1}");
    }

    #[test]
    fn numbers_are_trimmed() {
        let mut s = String::new();
        num(&mut s, 108.32670000000002, 9);
        s.push(' ');
        num(&mut s, 561563.927, 4);
        s.push(' ');
        num(&mut s, -0.00000000001, 9);
        assert_eq!(s, "108.3267 561563.927 0");
    }
}
