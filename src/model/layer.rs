//! Column-oriented layer data: fids, flat geometry and one typed column per
//! attribute field. Text columns are dictionary-encoded, which keeps
//! repetitive cadastral attributes (commune, land-use code, street) small.

use super::{nfc, FeatureRow, FieldDef, FieldType, FlatGeometry, GeometryType, Value};
use geo_types::Geometry;
use std::hash::BuildHasher;

/// A value borrowed from a column (no allocation on the query path).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ValueRef<'a> {
    /// Missing.
    Null,
    /// Boolean.
    Bool(bool),
    /// Integer.
    Int(i64),
    /// Float.
    Real(f64),
    /// Text (dates too).
    Text(&'a str),
}

/// Appends `s` as a JSON string literal (controls escaped, UTF-8 kept).
pub fn push_json_str(out: &mut String, s: &str) {
    use std::fmt::Write;
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Appends a coordinate with `decimals` fixed decimals, trailing zeros
/// trimmed and `-0` written `0` (GeoJSON and GML coordinates alike).
///
/// ```
/// let mut s = String::new();
/// geoplan::model::push_num(&mut s, 108.32670000000002, 9);
/// s.push(' ');
/// geoplan::model::push_num(&mut s, -0.00000000001, 9);
/// assert_eq!(s, "108.3267 0");
/// ```
pub fn push_num(out: &mut String, v: f64, decimals: usize) {
    use std::fmt::Write;
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

impl ValueRef<'_> {
    /// Appends the value as JSON (a non-finite number is `null`).
    pub fn push_json(self, out: &mut String) {
        use std::fmt::Write;
        match self {
            ValueRef::Null => out.push_str("null"),
            ValueRef::Bool(b) => out.push_str(if b { "true" } else { "false" }),
            ValueRef::Int(i) => {
                let _ = write!(out, "{i}");
            }
            ValueRef::Real(v) if v.is_finite() => {
                let _ = write!(out, "{v}");
            }
            ValueRef::Real(_) => out.push_str("null"),
            ValueRef::Text(s) => push_json_str(out, s),
        }
    }

    /// An owned copy.
    pub fn to_value(self) -> Value {
        match self {
            ValueRef::Null => Value::Null,
            ValueRef::Bool(b) => Value::Bool(b),
            ValueRef::Int(i) => Value::Int(i),
            ValueRef::Real(r) => Value::Real(r),
            ValueRef::Text(s) => Value::Text(s.to_owned()),
        }
    }

    /// Numeric view.
    pub fn as_f64(self) -> Option<f64> {
        match self {
            ValueRef::Int(i) => Some(i as f64),
            ValueRef::Real(r) => Some(r),
            _ => None,
        }
    }
}

const NULL_CODE: u32 = u32::MAX;

/// The distinct values of a text column, packed end to end in one buffer:
/// no allocation per value, and no heap fragments left behind by a load of
/// a million unique addresses.
#[derive(Debug, Clone, Default)]
pub struct TextDict {
    bytes: String,
    /// End offset of each value in `bytes`; value `i` starts where `i - 1` ends.
    ends: Vec<u32>,
}

impl TextDict {
    /// Value `i`.
    pub fn get(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        &self.bytes[start..self.ends[i] as usize]
    }

    /// Number of distinct values.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// True when the column holds no text at all.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Appends a value and returns its code, or `None` when the column's
    /// text would pass 4 GiB.
    fn push(&mut self, v: &str) -> Option<u32> {
        let end = u32::try_from(self.bytes.len() + v.len()).ok()?;
        let code = u32::try_from(self.ends.len())
            .ok()
            .filter(|&c| c != NULL_CODE)?;
        self.bytes.push_str(v);
        self.ends.push(end);
        Some(code)
    }

    fn heap_bytes(&self) -> usize {
        self.bytes.capacity() + self.ends.capacity() * 4
    }

    fn shrink_to_fit(&mut self) {
        self.bytes.shrink_to_fit();
        self.ends.shrink_to_fit();
    }
}

/// One attribute column.
#[derive(Debug, Clone)]
pub enum Column {
    /// Booleans: 0 false, 1 true, 2 null.
    Bool(Vec<u8>),
    /// Integers with a validity mask (absent when nothing is null).
    Int(Vec<i64>, Option<Vec<bool>>),
    /// Floats; NaN marks null.
    Real(Vec<f64>),
    /// Dictionary-encoded text; `u32::MAX` marks null.
    Text {
        /// Distinct values.
        dict: TextDict,
        /// One code per row.
        codes: Vec<u32>,
    },
}

impl Column {
    fn new(ty: FieldType) -> Column {
        match ty {
            FieldType::Boolean => Column::Bool(Vec::new()),
            FieldType::Integer => Column::Int(Vec::new(), None),
            FieldType::Real => Column::Real(Vec::new()),
            FieldType::Text | FieldType::Date | FieldType::DateTime => Column::Text {
                dict: TextDict::default(),
                codes: Vec::new(),
            },
        }
    }

    /// The value at `row`.
    pub fn get(&self, row: usize) -> ValueRef<'_> {
        match self {
            Column::Bool(v) => match v[row] {
                0 => ValueRef::Bool(false),
                1 => ValueRef::Bool(true),
                _ => ValueRef::Null,
            },
            Column::Int(v, valid) => match valid {
                Some(m) if !m[row] => ValueRef::Null,
                _ => ValueRef::Int(v[row]),
            },
            Column::Real(v) => {
                if v[row].is_nan() {
                    ValueRef::Null
                } else {
                    ValueRef::Real(v[row])
                }
            }
            Column::Text { dict, codes } => match codes[row] {
                NULL_CODE => ValueRef::Null,
                c => ValueRef::Text(dict.get(c as usize)),
            },
        }
    }

    fn heap_bytes(&self) -> usize {
        match self {
            Column::Bool(v) => v.capacity(),
            Column::Int(v, m) => v.capacity() * 8 + m.as_ref().map_or(0, |m| m.capacity()),
            Column::Real(v) => v.capacity() * 8,
            Column::Text { dict, codes } => codes.capacity() * 4 + dict.heap_bytes(),
        }
    }

    fn shrink_to_fit(&mut self) {
        match self {
            Column::Bool(v) => v.shrink_to_fit(),
            Column::Int(v, m) => {
                v.shrink_to_fit();
                if let Some(m) = m {
                    m.shrink_to_fit()
                }
            }
            Column::Real(v) => v.shrink_to_fit(),
            Column::Text { dict, codes } => {
                dict.shrink_to_fit();
                codes.shrink_to_fit()
            }
        }
    }
}

/// All features of one layer, column-oriented, in ascending fid order.
#[derive(Debug, Clone)]
pub struct LayerData {
    /// Layer name (table name).
    pub name: String,
    /// EPSG code of the coordinates in `geometry`.
    pub srid: u32,
    /// Declared geometry type.
    pub geometry_type: GeometryType,
    /// Attribute schema.
    pub fields: Vec<FieldDef>,
    /// Feature ids, ascending.
    pub fids: Vec<i64>,
    /// Geometries, one per fid.
    pub geometry: FlatGeometry,
    /// One column per field.
    pub columns: Vec<Column>,
}

impl LayerData {
    /// Number of features.
    pub fn len(&self) -> usize {
        self.fids.len()
    }

    /// True when the layer holds no feature.
    pub fn is_empty(&self) -> bool {
        self.fids.is_empty()
    }

    /// Index of a field by name.
    pub fn field_index(&self, name: &str) -> Option<usize> {
        self.fields.iter().position(|f| f.name == name)
    }

    /// Row index of a fid (binary search: fids are ascending).
    pub fn row_of(&self, fid: i64) -> Option<usize> {
        self.fids.binary_search(&fid).ok()
    }

    /// Value of field `col` at `row`.
    pub fn value(&self, row: usize, col: usize) -> ValueRef<'_> {
        self.columns[col].get(row)
    }

    /// Geometry of row `row` as a `geo` geometry.
    pub fn geometry_of(&self, row: usize) -> Option<Geometry<f64>> {
        self.geometry.to_geo(row, self.geometry_type)
    }

    /// Row `row` as an owned feature.
    pub fn row(&self, row: usize) -> FeatureRow {
        FeatureRow {
            fid: self.fids[row],
            geometry: self.geometry_of(row),
            values: self.columns.iter().map(|c| c.get(row).to_value()).collect(),
        }
    }

    /// Heap bytes held by geometry and attributes.
    pub fn heap_bytes(&self) -> usize {
        self.geometry.heap_bytes()
            + self.fids.capacity() * 8
            + self.columns.iter().map(Column::heap_bytes).sum::<usize>()
    }
}

/// A value did not fit its field, or the builder was fed out of order.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// Wrong number of values.
    #[error("layer {layer}: feature {fid} has {got} values, the schema has {want} fields")]
    Arity {
        /// Layer.
        layer: String,
        /// Feature.
        fid: i64,
        /// Values given.
        got: usize,
        /// Fields in schema.
        want: usize,
    },
    /// A value of the wrong type.
    #[error("layer {layer}: feature {fid}: field {field} is {ty:?}, got {value:?}")]
    Type {
        /// Layer.
        layer: String,
        /// Feature.
        fid: i64,
        /// Field name.
        field: String,
        /// Field type.
        ty: FieldType,
        /// Offending value.
        value: Value,
    },
    /// A geometry of the wrong dimension.
    #[error("layer {layer}: feature {fid}: {source}")]
    Geometry {
        /// Layer.
        layer: String,
        /// Feature.
        fid: i64,
        /// Cause.
        source: super::geometry::GeometryMismatch,
    },
    /// A text column past 4 GiB of distinct values.
    #[error("layer {layer}: field {field} holds more than 4 GiB of distinct text")]
    TextOverflow {
        /// Layer.
        layer: String,
        /// Field name.
        field: String,
    },
    /// The same fid twice.
    #[error("layer {layer}: duplicate feature id {fid}")]
    DuplicateFid {
        /// Layer.
        layer: String,
        /// Feature.
        fid: i64,
    },
}

/// Builds a [`LayerData`] feature by feature (any fid order; sorted at the
/// end).
pub struct LayerDataBuilder {
    data: LayerData,
    /// Per text column: codes, looked up by the hash of their text in the
    /// column's [`TextDict`] (no second copy of the strings).
    dicts: Vec<hashbrown::HashTable<u32>>,
    hasher: std::collections::hash_map::RandomState,
    sorted: bool,
}

impl LayerDataBuilder {
    /// A builder for a layer with this name, CRS, geometry type and schema.
    pub fn new(
        name: impl Into<String>,
        srid: u32,
        geometry_type: GeometryType,
        fields: Vec<FieldDef>,
    ) -> Self {
        let columns = fields.iter().map(|f| Column::new(f.ty)).collect();
        let dicts = fields.iter().map(|_| hashbrown::HashTable::new()).collect();
        LayerDataBuilder {
            data: LayerData {
                name: name.into(),
                srid,
                geometry_type,
                fields,
                fids: Vec::new(),
                geometry: FlatGeometry::new(geometry_type.kind()),
                columns,
            },
            dicts,
            hasher: Default::default(),
            sorted: true,
        }
    }

    /// The schema being built.
    pub fn fields(&self) -> &[FieldDef] {
        &self.data.fields
    }

    /// Number of features pushed so far.
    pub fn len(&self) -> usize {
        self.data.fids.len()
    }

    /// True when nothing was pushed yet.
    pub fn is_empty(&self) -> bool {
        self.data.fids.is_empty()
    }

    /// Appends one feature. Values must follow the schema order; integers are
    /// accepted for real fields, and text is normalised to NFC. On error
    /// nothing of the feature is kept.
    pub fn push(
        &mut self,
        fid: i64,
        geometry: Option<&Geometry<f64>>,
        values: Vec<Value>,
    ) -> Result<(), BuildError> {
        let d = &mut self.data;
        if values.len() != d.fields.len() {
            return Err(BuildError::Arity {
                layer: d.name.clone(),
                fid,
                got: values.len(),
                want: d.fields.len(),
            });
        }
        // Check every value before writing anything.
        for ((f, v), col) in d.fields.iter().zip(&values).zip(&d.columns) {
            if let (Value::Text(t), Column::Text { dict, .. }) = (v, col) {
                if dict.bytes.len() + t.len() > u32::MAX as usize {
                    return Err(BuildError::TextOverflow {
                        layer: d.name.clone(),
                        field: f.name.clone(),
                    });
                }
            }
            let ok = matches!(
                (f.ty, v),
                (_, Value::Null)
                    | (FieldType::Boolean, Value::Bool(_))
                    | (FieldType::Integer, Value::Int(_))
                    | (FieldType::Real, Value::Real(_) | Value::Int(_))
                    | (
                        FieldType::Text | FieldType::Date | FieldType::DateTime,
                        Value::Text(_)
                    )
            );
            if !ok {
                return Err(BuildError::Type {
                    layer: d.name.clone(),
                    fid,
                    field: f.name.clone(),
                    ty: f.ty,
                    value: v.clone(),
                });
            }
        }
        d.geometry
            .push(geometry)
            .map_err(|source| BuildError::Geometry {
                layer: d.name.clone(),
                fid,
                source,
            })?;
        if let Some(&last) = d.fids.last() {
            if fid <= last {
                self.sorted = false;
            }
        }
        d.fids.push(fid);
        let hasher = &self.hasher;
        for (((col, dict), v), field) in d
            .columns
            .iter_mut()
            .zip(&mut self.dicts)
            .zip(values)
            .zip(&d.fields)
        {
            match col {
                Column::Bool(c) => c.push(match v {
                    Value::Bool(b) => b as u8,
                    _ => 2,
                }),
                Column::Int(c, valid) => {
                    let x = match v {
                        Value::Int(i) => Some(i),
                        _ => None,
                    };
                    if x.is_none() && valid.is_none() {
                        *valid = Some(vec![true; c.len()]);
                    }
                    if let Some(m) = valid {
                        m.push(x.is_some());
                    }
                    c.push(x.unwrap_or(0));
                }
                Column::Real(c) => c.push(v.as_f64().unwrap_or(f64::NAN)),
                Column::Text {
                    dict: values,
                    codes,
                } => match v {
                    Value::Text(s) => {
                        let s = nfc(&s);
                        let h = hasher.hash_one(s.as_str());
                        let values: &mut TextDict = values;
                        let code = match dict.find(h, |&c| values.get(c as usize) == s) {
                            Some(&c) => c,
                            None => {
                                let c =
                                    values.push(&s).ok_or_else(|| BuildError::TextOverflow {
                                        layer: d.name.clone(),
                                        field: field.name.clone(),
                                    })?;
                                dict.insert_unique(h, c, |&c| {
                                    hasher.hash_one(values.get(c as usize))
                                });
                                c
                            }
                        };
                        codes.push(code);
                    }
                    _ => codes.push(NULL_CODE),
                },
            }
        }
        Ok(())
    }

    /// Appends an owned row.
    pub fn push_row(&mut self, row: FeatureRow) -> Result<(), BuildError> {
        self.push(row.fid, row.geometry.as_ref(), row.values)
    }

    /// Mutable access to the coordinates pushed so far (for reprojection
    /// before the layer is finished).
    pub fn coords_mut(&mut self) -> &mut [geo_types::Coord<f64>] {
        self.data.geometry.coords_mut()
    }

    /// Sets the CRS the coordinates are now in (after a reprojection).
    pub fn set_srid(&mut self, srid: u32) {
        self.data.srid = srid;
    }

    /// Finishes: sorts by fid if needed, rejects duplicate fids.
    pub fn finish(self) -> Result<LayerData, BuildError> {
        let mut d = self.data;
        if !self.sorted {
            let mut order: Vec<usize> = (0..d.fids.len()).collect();
            order.sort_by_key(|&i| d.fids[i]);
            d = reorder(d, &order);
        }
        if let Some(w) = d.fids.windows(2).find(|w| w[0] == w[1]) {
            return Err(BuildError::DuplicateFid {
                layer: d.name,
                fid: w[0],
            });
        }
        d.geometry.shrink_to_fit();
        d.fids.shrink_to_fit();
        d.columns.iter_mut().for_each(Column::shrink_to_fit);
        Ok(d)
    }
}

fn reorder(d: LayerData, order: &[usize]) -> LayerData {
    let mut g = FlatGeometry::new(d.geometry.kind());
    g.extend_from(&d.geometry, order.iter().copied());
    let columns = d
        .columns
        .iter()
        .map(|c| match c {
            Column::Bool(v) => Column::Bool(order.iter().map(|&i| v[i]).collect()),
            Column::Int(v, m) => Column::Int(
                order.iter().map(|&i| v[i]).collect(),
                m.as_ref().map(|m| order.iter().map(|&i| m[i]).collect()),
            ),
            Column::Real(v) => Column::Real(order.iter().map(|&i| v[i]).collect()),
            Column::Text { dict, codes } => Column::Text {
                dict: dict.clone(),
                codes: order.iter().map(|&i| codes[i]).collect(),
            },
        })
        .collect();
    LayerData {
        fids: order.iter().map(|&i| d.fids[i]).collect(),
        geometry: g,
        columns,
        ..d
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo_types::point;

    fn builder() -> LayerDataBuilder {
        LayerDataBuilder::new(
            "pois",
            5899,
            GeometryType::Point,
            vec![
                FieldDef::new("name", FieldType::Text),
                FieldDef::new("floors", FieldType::Integer),
            ],
        )
    }

    #[test]
    fn rows_come_back_sorted_by_fid_with_nfc_text() {
        let mut b = builder();
        let p = Geometry::Point(point!(x: 1.0, y: 2.0));
        // "Hội An" in decomposed form (NFD).
        let nfd = "Ho\u{0323}\u{0302}i An".to_string();
        b.push(7, Some(&p), vec![Value::Text(nfd), Value::Int(3)])
            .unwrap();
        b.push(2, None, vec![Value::Null, Value::Null]).unwrap();
        let d = b.finish().unwrap();
        assert_eq!(d.fids, vec![2, 7]);
        assert_eq!(d.value(1, 0), ValueRef::Text("Hội An"));
        assert_eq!(d.value(0, 1), ValueRef::Null);
        assert_eq!(d.value(1, 1), ValueRef::Int(3));
        assert_eq!(d.row(1).geometry, Some(p));
    }

    #[test]
    fn a_value_of_the_wrong_type_is_refused_and_nothing_is_kept() {
        let mut b = builder();
        let err = b.push(1, None, vec![Value::Int(1), Value::Int(3)]);
        assert!(matches!(err, Err(BuildError::Type { .. })));
        assert_eq!(b.len(), 0);
    }

    #[test]
    fn duplicate_fids_are_refused() {
        let mut b = builder();
        b.push(1, None, vec![Value::Null, Value::Null]).unwrap();
        b.push(1, None, vec![Value::Null, Value::Null]).unwrap();
        assert!(matches!(b.finish(), Err(BuildError::DuplicateFid { .. })));
    }
}
