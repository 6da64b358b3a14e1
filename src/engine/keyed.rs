//! Keyed lookups: the fids of a layer's live features by the values of
//! some of their attributes (a cadastral key: commune code, sheet number,
//! parcel number), or by a leading part of them (a commune; a commune and
//! a sheet). No IO, never awaits.
//!
//! Each part of a layer keeps its rows sorted by the key's fields (4 bytes
//! a row), built once per part on first use and shared by every snapshot
//! holding that part. An edit builds a new delta part only, so the base
//! order of millions of parcels survives edits; lookups drop base rows the
//! delta hides. A compaction, which builds a new base, builds the orders
//! its predecessor had. A lookup is two binary searches per part.
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
//! assert_eq!(index.get(&["20398", "12"]), vec![1]);
//! assert_eq!(index.get(&["20398"]), vec![1]);
//! assert!(index.get(&["20398", "13"]).is_empty());
//! ```

use super::{Layer, Part};
use crate::model::{Column, LayerData, ValueRef};
use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The rows of one part sorted by some of its columns, by column list;
/// built on first use and kept as long as the part.
#[derive(Debug, Default)]
pub(crate) struct KeyOrders(Mutex<HashMap<Vec<usize>, Arc<[u32]>>>);

impl KeyOrders {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Vec<usize>, Arc<[u32]>>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The rows of `data` sorted by `cols`, built under the lock on first
    /// use (so concurrent first lookups wait for one build).
    pub(crate) fn order(&self, data: &LayerData, cols: &[usize]) -> Arc<[u32]> {
        let mut orders = self.lock();
        if let Some(o) = orders.get(cols) {
            return o.clone();
        }
        let o: Arc<[u32]> = sort_rows(data, cols).into();
        orders.insert(cols.to_vec(), o.clone());
        o
    }

    /// The column lists ordered so far.
    pub(crate) fn built(&self) -> Vec<Vec<usize>> {
        self.lock().keys().cloned().collect()
    }

    /// Heap bytes of the orders.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.lock().values().map(|o| o.len() * 4).sum()
    }
}

/// A value's place in its column's order as one integer: null first, then
/// the values (text by its rank among the dictionary's strings; the empty
/// string with null).
enum SortCol<'a> {
    Bool(&'a [u8]),
    Int(&'a [i64], Option<&'a [bool]>),
    Real(&'a [f64]),
    Text { ranks: Vec<u32>, codes: &'a [u32] },
}

impl SortCol<'_> {
    fn of(c: &Column) -> SortCol<'_> {
        match c {
            Column::Bool(v) => SortCol::Bool(v),
            Column::Int(v, m) => SortCol::Int(v, m.as_deref()),
            Column::Real(v) => SortCol::Real(v),
            Column::Text { dict, codes } => {
                let mut by_text: Vec<u32> = (0..dict.len() as u32).collect();
                by_text.sort_unstable_by(|&a, &b| dict.get(a as usize).cmp(dict.get(b as usize)));
                // Equal strings (a dictionary may repeat one) share a rank.
                let mut ranks = vec![0u32; dict.len()];
                let mut rank = 0u32;
                for (i, &code) in by_text.iter().enumerate() {
                    if i > 0 && dict.get(by_text[i - 1] as usize) != dict.get(code as usize) {
                        rank += 1;
                    }
                    // Null and the empty string sort alike, first: a
                    // lookup cannot tell them apart.
                    ranks[code as usize] = if dict.get(code as usize).is_empty() {
                        0
                    } else {
                        rank + 1
                    };
                }
                SortCol::Text { ranks, codes }
            }
        }
    }

    #[inline]
    fn ord(&self, row: usize) -> u128 {
        match self {
            SortCol::Bool(v) => match v[row] {
                0 => 1,
                1 => 2,
                _ => 0,
            },
            SortCol::Int(v, m) => match m {
                Some(m) if !m[row] => 0,
                _ => 1 + ((v[row] as u64) ^ (1 << 63)) as u128,
            },
            SortCol::Real(v) => {
                if v[row].is_nan() {
                    0
                } else {
                    // IEEE total order as an unsigned integer.
                    let b = v[row].to_bits();
                    let b = if b >> 63 == 1 { !b } else { b | (1 << 63) };
                    1 + b as u128
                }
            }
            SortCol::Text { ranks, codes } => match codes[row] {
                u32::MAX => 0,
                c => ranks[c as usize] as u128,
            },
        }
    }
}

fn sort_rows(data: &LayerData, cols: &[usize]) -> Vec<u32> {
    use rayon::prelude::*;
    let keys: Vec<SortCol> = cols
        .iter()
        .map(|&c| SortCol::of(&data.columns[c]))
        .collect();
    let mut rows: Vec<u32> = (0..data.len() as u32).collect();
    rows.par_sort_unstable_by(|&a, &b| {
        keys.iter()
            .map(|k| k.ord(a as usize).cmp(&k.ord(b as usize)))
            .find(|o| o.is_ne())
            .unwrap_or(Ordering::Equal)
    });
    rows
}

/// One asked value, read as its column's type.
enum Wanted<'a> {
    /// The empty string: null (or empty text).
    Null,
    Bool(bool),
    Int(i64),
    Real(f64),
    Text(&'a str),
}

impl<'a> Wanted<'a> {
    /// `None` when `s` cannot be a value of the column (so nothing matches).
    fn parse(c: &Column, s: &'a str) -> Option<Wanted<'a>> {
        if s.is_empty() {
            return Some(Wanted::Null);
        }
        Some(match c {
            Column::Bool(_) => Wanted::Bool(s.parse().ok()?),
            Column::Int(..) => Wanted::Int(s.parse().ok()?),
            Column::Real(_) => Wanted::Real(s.parse().ok().filter(|r: &f64| !r.is_nan())?),
            Column::Text { .. } => Wanted::Text(s),
        })
    }

    /// Where a stored value stands against this one, in the order
    /// [`SortCol::ord`] sorts by.
    fn cmp_stored(&self, v: ValueRef<'_>) -> Ordering {
        match (v, self) {
            (ValueRef::Null, Wanted::Null) => Ordering::Equal,
            (ValueRef::Text(""), Wanted::Null) => Ordering::Equal,
            (_, Wanted::Null) => Ordering::Greater,
            (ValueRef::Null, _) => Ordering::Less,
            (ValueRef::Bool(a), Wanted::Bool(b)) => a.cmp(b),
            (ValueRef::Int(a), Wanted::Int(b)) => a.cmp(b),
            (ValueRef::Real(a), Wanted::Real(b)) => a.total_cmp(b),
            (ValueRef::Text(a), Wanted::Text(b)) => a.cmp(b),
            // A column holds one type; a mismatch cannot arise.
            _ => Ordering::Less,
        }
    }
}

/// The keyed lookup of one layer snapshot over some fields (see
/// [`Layer::keyed`]).
#[derive(Debug)]
pub struct KeyIndex<'a> {
    layer: &'a Layer,
    fields: Vec<String>,
    cols: Vec<usize>,
    base: Arc<[u32]>,
    delta: Arc<[u32]>,
}

impl KeyIndex<'_> {
    /// The fields of the key, in order.
    pub fn fields(&self) -> &[String] {
        &self.fields
    }

    /// Fids (ascending) of the live features whose first `values.len()`
    /// key fields equal `values`, each written as text (integers in
    /// decimal; the empty string for null). Empty when more values than
    /// fields are given or a value cannot be one of its field's.
    pub fn get(&self, values: &[&str]) -> Vec<i64> {
        if values.len() > self.cols.len() {
            return Vec::new();
        }
        let mut out = Vec::new();
        for (part, order) in [(Part::Base, &self.base), (Part::Delta, &self.delta)] {
            let d = self.layer.data(part);
            let wanted: Option<Vec<Wanted>> = values
                .iter()
                .zip(&self.cols)
                .map(|(v, &c)| Wanted::parse(&d.columns[c], v))
                .collect();
            let Some(wanted) = wanted else {
                return Vec::new();
            };
            let cmp = |row: u32| {
                wanted
                    .iter()
                    .zip(&self.cols)
                    .map(|(w, &c)| w.cmp_stored(d.columns[c].get(row as usize)))
                    .find(|o| o.is_ne())
                    .unwrap_or(Ordering::Equal)
            };
            let from = order.partition_point(|&r| cmp(r) == Ordering::Less);
            let to = from + order[from..].partition_point(|&r| cmp(r) == Ordering::Equal);
            out.extend(
                order[from..to]
                    .iter()
                    .filter(|&&r| self.layer.is_live(part, r as usize))
                    .map(|&r| d.fids[r as usize]),
            );
        }
        out.sort_unstable();
        out
    }
}

impl Layer {
    /// The keyed lookup of this snapshot over `fields`; `None` when a
    /// field does not exist. The first call for a field list sorts each
    /// part's rows (on the pool's cores; a second or so for five million
    /// parcels); later snapshots sharing the base reuse its order.
    pub fn keyed(&self, fields: &[&str]) -> Option<KeyIndex<'_>> {
        let cols: Vec<usize> = fields
            .iter()
            .map(|f| self.fields().iter().position(|d| d.name == *f))
            .collect::<Option<_>>()?;
        Some(KeyIndex {
            layer: self,
            fields: fields.iter().map(|s| s.to_string()).collect(),
            base: self.base.keys.order(&self.base.data, &cols),
            delta: self.delta.keys.order(&self.delta.data, &cols),
            cols,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::LayerMeta;
    use crate::model::{FeatureRow, FieldDef, FieldType, GeometryType, LayerDataBuilder, Value};
    use geo_types::{point, Geometry};

    fn row(fid: i64, commune: Option<&str>, sheet: Option<i64>, parcel: i64) -> FeatureRow {
        FeatureRow {
            fid,
            geometry: Some(Geometry::Point(point!(x: fid as f64, y: 0.0))),
            values: vec![
                commune.map_or(Value::Null, |c| Value::Text(c.into())),
                sheet.map_or(Value::Null, Value::Int),
                Value::Int(parcel),
            ],
        }
    }

    fn layer(rows: Vec<FeatureRow>) -> Layer {
        let mut b = LayerDataBuilder::new(
            "parcels",
            3857,
            GeometryType::Point,
            vec![
                FieldDef::new("commune_code", FieldType::Text),
                FieldDef::new("sheet_number", FieldType::Integer),
                FieldDef::new("parcel_number", FieldType::Integer),
            ],
        );
        for r in rows {
            b.push_row(r).unwrap();
        }
        Layer::new(b.finish().unwrap(), LayerMeta::default()).unwrap()
    }

    /// The fids a walk over every live feature finds for `values`.
    fn walk(l: &Layer, values: &[&str]) -> Vec<i64> {
        let mut out = Vec::new();
        for part in [Part::Base, Part::Delta] {
            let d = l.data(part);
            for r in 0..d.len() {
                let text = |c: usize| match d.value(r, c) {
                    ValueRef::Null => String::new(),
                    ValueRef::Text(s) => s.to_string(),
                    ValueRef::Int(i) => i.to_string(),
                    v => panic!("{v:?}"),
                };
                if l.is_live(part, r) && values.iter().enumerate().all(|(c, v)| text(c) == *v) {
                    out.push(d.fids[r]);
                }
            }
        }
        out.sort_unstable();
        out
    }

    const KEY: [&str; 3] = ["commune_code", "sheet_number", "parcel_number"];

    /// Every key and key prefix of the layer, plus some that match nothing.
    fn check_all(l: &Layer) {
        let k = l.keyed(&KEY).unwrap();
        let communes = ["", "20398", "20401", "2040", "20410", "x"];
        for c in communes {
            assert_eq!(k.get(&[c]), walk(l, &[c]), "commune {c:?}");
            for s in ["", "-1", "1", "2", "3", "12", "-4"] {
                assert_eq!(k.get(&[c, s]), walk(l, &[c, s]), "{c:?} {s:?}");
                for p in ["1", "2", "5", "7", "99"] {
                    assert_eq!(k.get(&[c, s, p]), walk(l, &[c, s, p]), "{c:?} {s:?} {p:?}");
                }
            }
        }
        assert!(k.get(&["20398", "one"]).is_empty());
        assert!(k.get(&["20398", "1", "1", "1"]).is_empty());
    }

    fn sample() -> Vec<FeatureRow> {
        let communes = [Some("20398"), Some("20401"), Some("20410"), None, Some("")];
        (0..400)
            .map(|i: i64| {
                let c = communes[(i * 7 % 5) as usize];
                let s = if i % 11 == 0 {
                    None
                } else {
                    Some(i * 13 % 4 - 1)
                };
                row(1000 - i, c, s, i % 9)
            })
            .collect()
    }

    #[test]
    fn lookups_by_key_and_prefix_equal_a_walk_over_the_features() {
        check_all(&layer(sample()));
    }

    #[test]
    fn an_edit_keeps_the_base_order_and_lookups_see_the_edit() {
        let l = layer(sample());
        check_all(&l);
        let before = l.base.keys.order(&l.base.data, &[0, 1, 2]);
        // Move one parcel to another key, delete one, add one.
        let l2 = l
            .with_changes(
                vec![
                    row(1000, Some("20401"), Some(2), 7),
                    row(5000, Some("20398"), Some(1), 5),
                ],
                &[999],
            )
            .unwrap();
        assert!(
            Arc::ptr_eq(&l.base, &l2.base),
            "an edit this small keeps the base"
        );
        let after = l2.base.keys.order(&l2.base.data, &[0, 1, 2]);
        assert!(
            Arc::ptr_eq(&before, &after),
            "the base order was built again"
        );
        check_all(&l2);
        let k = l2.keyed(&KEY).unwrap();
        assert!(k.get(&["20398", "1", "5"]).contains(&5000));
        assert!(k.get(&["20401", "2", "7"]).contains(&1000));
        assert!(!k.get(&[]).contains(&999));
        // The next edit keeps it too.
        let l3 = l2.with_changes(vec![], &[1000]).unwrap();
        let again = l3.base.keys.order(&l3.base.data, &[0, 1, 2]);
        assert!(Arc::ptr_eq(&before, &again));
        check_all(&l3);
    }

    #[test]
    fn a_compaction_builds_the_orders_its_base_had() {
        let l = layer(sample());
        l.keyed(&KEY).unwrap();
        // More changes than the compaction threshold (4,096 at least).
        let adds: Vec<FeatureRow> = (0..5000)
            .map(|i| row(10_000 + i, Some("20410"), Some(i % 3), i % 9))
            .collect();
        let l2 = l.with_changes(adds, &[]).unwrap();
        assert!(!Arc::ptr_eq(&l.base, &l2.base), "expected a compaction");
        assert_eq!(l2.base.keys.built(), vec![vec![0, 1, 2]]);
        check_all(&l2);
    }
}
