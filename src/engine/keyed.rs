//! Keyed lookups: the fids of a layer's live features by the values of
//! some of their attributes (a cadastral key: commune code, sheet number,
//! parcel number). Built once per snapshot, on first use, in one pass over
//! the columns; answered with one hash probe. No IO, never awaits.
//!
//! # Examples
//!
//! ```
//! use geoplan::engine::{Layer, LayerMeta};
//! use geoplan::model::{FieldDef, FieldType, GeometryType, LayerDataBuilder, Value};
//! use geo_types::{point, Geometry};
//!
//! let mut b = LayerDataBuilder::new(
//!     "parcels",
//!     3857,
//!     GeometryType::Point,
//!     vec![FieldDef::new("commune_code", FieldType::Text), FieldDef::new("sheet_number", FieldType::Integer)],
//! );
//! b.push(1, Some(&Geometry::Point(point!(x: 1.0, y: 2.0))), vec![Value::Text("20398".into()), Value::Int(12)]).unwrap();
//! let layer = Layer::new(b.finish().unwrap(), LayerMeta::default()).unwrap();
//! let index = layer.keyed(&["commune_code", "sheet_number"]).unwrap();
//! assert_eq!(index.get(&["20398", "12"]), &[1]);
//! assert!(index.get(&["20398", "13"]).is_empty());
//! ```

use super::{Layer, Part};
use crate::model::ValueRef;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The fids of a layer by the values of some fields, each value written as
/// text (integers in decimal), nulls as the empty string.
#[derive(Debug, Default)]
pub struct KeyIndex {
    fields: Vec<String>,
    by_key: HashMap<String, Vec<i64>>,
}

/// Separates the parts of a key; it cannot occur in attribute text that
/// was normalised at ingest.
const SEP: char = '\u{1f}';

fn push_value(key: &mut String, v: ValueRef<'_>) {
    use std::fmt::Write;
    match v {
        ValueRef::Null => {}
        ValueRef::Text(s) => key.push_str(s),
        ValueRef::Int(i) => {
            let _ = write!(key, "{i}");
        }
        ValueRef::Real(r) => {
            let _ = write!(key, "{r}");
        }
        ValueRef::Bool(b) => key.push_str(if b { "true" } else { "false" }),
    }
}

impl KeyIndex {
    fn build(layer: &Layer, fields: &[&str]) -> Option<KeyIndex> {
        let cols: Vec<usize> = fields
            .iter()
            .map(|f| layer.fields().iter().position(|d| d.name == *f))
            .collect::<Option<_>>()?;
        let mut by_key: HashMap<String, Vec<i64>> = HashMap::new();
        let mut key = String::new();
        for part in [Part::Base, Part::Delta] {
            let d = layer.data(part);
            for row in 0..d.len() {
                if !layer.is_live(part, row) {
                    continue;
                }
                key.clear();
                for (i, &c) in cols.iter().enumerate() {
                    if i > 0 {
                        key.push(SEP);
                    }
                    push_value(&mut key, d.value(row, c));
                }
                match by_key.get_mut(key.as_str()) {
                    Some(v) => v.push(d.fids[row]),
                    None => {
                        by_key.insert(key.clone(), vec![d.fids[row]]);
                    }
                }
            }
        }
        for v in by_key.values_mut() {
            v.sort_unstable();
        }
        Some(KeyIndex {
            fields: fields.iter().map(|s| s.to_string()).collect(),
            by_key,
        })
    }

    /// The fields of the key, in order.
    pub fn fields(&self) -> &[String] {
        &self.fields
    }

    /// Fids (ascending) of the features whose fields equal `values`, one
    /// value per field, written as text.
    pub fn get(&self, values: &[&str]) -> &[i64] {
        if values.len() != self.fields.len() {
            return &[];
        }
        let key = values.join(&SEP.to_string());
        self.by_key.get(&key).map_or(&[], |v| v.as_slice())
    }

    /// Number of distinct keys.
    pub fn len(&self) -> usize {
        self.by_key.len()
    }

    /// True when the layer had no features.
    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }
}

/// The keyed lookups of one layer snapshot, by field list.
#[derive(Debug, Default)]
pub(crate) struct KeyCache(Mutex<HashMap<Vec<String>, Arc<KeyIndex>>>);

impl Layer {
    /// The keyed lookup of this snapshot over `fields`, built on first use
    /// (one pass over the columns; a million parcels take a fraction of a
    /// second) and shared afterwards. `None` when a field does not exist.
    pub fn keyed(&self, fields: &[&str]) -> Option<Arc<KeyIndex>> {
        let name: Vec<String> = fields.iter().map(|s| s.to_string()).collect();
        let mut cache = self.keys.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(k) = cache.get(&name) {
            return Some(k.clone());
        }
        let k = Arc::new(KeyIndex::build(self, fields)?);
        cache.insert(name, k.clone());
        Some(k)
    }
}
