//! GeoJSON encoding of engine features, straight from the flat buffers into
//! one output string, with coordinates reprojected per feature.

use crate::crs::{Crs, CrsError};
use crate::engine::{FeatureRef, Layer};
pub use crate::model::push_json_str;
use std::fmt::Write;

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
        out.push_str(",\"properties\":");
        crate::ogc::geojson::push_properties(out, data, row, &self.fields);
        out.push('}');
        Ok(())
    }

    pub(crate) fn geometry(
        &self,
        out: &mut String,
        row: usize,
        r: FeatureRef,
    ) -> Result<(), CrsError> {
        let mut scratch = Vec::new();
        crate::ogc::geojson::push_geometry(
            out,
            self.layer.data(r.part),
            row,
            self.crs,
            self.lat_lon,
            &mut scratch,
        )
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
}
