//! Mapbox Vector Tile 2.1 encoding, written straight into one byte buffer
//! per layer: no per-feature allocation and no intermediate message
//! structs, since this is the hot path of every tile request. The protobuf
//! subset MVT needs (varints, zigzag, length-delimited fields) is small.
//!
//! Geometry arrives already clipped, quantised to the tile grid, free of
//! repeated points and with rings wound as the spec wants (see `clip`).

use crate::model::ValueRef;
use std::collections::HashMap;

/// MVT geometry types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GeomType {
    /// Points (one or more).
    Point = 1,
    /// Lines (one or more).
    LineString = 2,
    /// Polygons (exterior rings followed by their holes).
    Polygon = 3,
}

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn zigzag(v: i32) -> u32 {
    ((v << 1) ^ (v >> 31)) as u32
}

fn key(out: &mut Vec<u8>, field: u32, wire: u32) {
    varint(out, u64::from((field << 3) | wire));
}

fn bytes_field(out: &mut Vec<u8>, field: u32, b: &[u8]) {
    key(out, field, 2);
    varint(out, b.len() as u64);
    out.extend_from_slice(b);
}

/// A tag value, hashed by bits so equal values share one entry.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum TagValue {
    Text(String),
    Int(i64),
    Real(u64),
    Bool(bool),
}

/// Builds one MVT layer.
#[derive(Debug)]
pub struct LayerWriter {
    name: String,
    extent: u32,
    features: Vec<u8>,
    count: usize,
    keys: Vec<String>,
    key_ix: HashMap<String, u32>,
    values: Vec<TagValue>,
    value_ix: HashMap<TagValue, u32>,
    text_ix: HashMap<String, u32>,
    // Scratch buffers reused across features.
    tags: Vec<u32>,
    geom: Vec<u32>,
    feat: Vec<u8>,
    packed: Vec<u8>,
}

impl LayerWriter {
    /// An empty layer.
    pub fn new(name: &str, extent: u32) -> Self {
        LayerWriter {
            name: name.to_owned(),
            extent,
            features: Vec::new(),
            count: 0,
            keys: Vec::new(),
            key_ix: HashMap::new(),
            values: Vec::new(),
            value_ix: HashMap::new(),
            text_ix: HashMap::new(),
            tags: Vec::new(),
            geom: Vec::new(),
            feat: Vec::new(),
            packed: Vec::new(),
        }
    }

    /// Number of features written.
    pub fn len(&self) -> usize {
        self.count
    }

    /// True when no feature was written.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Starts a feature: clears the tag and geometry scratch.
    pub fn begin(&mut self) {
        self.tags.clear();
        self.geom.clear();
    }

    /// Adds a property (nulls are left out, as MVT has no null).
    pub fn tag(&mut self, name: &str, v: ValueRef<'_>) {
        let scalar = match v {
            ValueRef::Null => return,
            ValueRef::Bool(b) => TagValue::Bool(b),
            ValueRef::Int(i) => TagValue::Int(i),
            ValueRef::Real(r) => TagValue::Real(r.to_bits()),
            ValueRef::Text(_) => TagValue::Bool(false),
        };
        let k = match self.key_ix.get(name) {
            Some(&k) => k,
            None => {
                let k = self.keys.len() as u32;
                self.keys.push(name.to_owned());
                self.key_ix.insert(name.to_owned(), k);
                k
            }
        };
        let next = self.values.len() as u32;
        // Text is looked up by &str so a repeated value allocates nothing.
        let v = if let ValueRef::Text(t) = v {
            match self.text_ix.get(t) {
                Some(&v) => v,
                None => {
                    self.values.push(TagValue::Text(t.to_owned()));
                    self.text_ix.insert(t.to_owned(), next);
                    next
                }
            }
        } else {
            match self.value_ix.get(&scalar) {
                Some(&v) => v,
                None => {
                    self.values.push(scalar.clone());
                    self.value_ix.insert(scalar, next);
                    next
                }
            }
        };
        self.tags.push(k);
        self.tags.push(v);
    }

    /// Geometry commands of the current feature, in tile coordinates.
    /// `parts` are point groups, lines, or rings; rings are given open
    /// (without the closing point) and get a ClosePath.
    pub fn geometry<'a>(&mut self, ty: GeomType, parts: impl Iterator<Item = &'a [[i32; 2]]>) {
        let mut cursor = [0i32; 2];
        let g = &mut self.geom;
        for part in parts {
            if part.is_empty() {
                continue;
            }
            if ty == GeomType::Point {
                // All points of the feature in one MoveTo with a count.
                g.push((part.len() as u32) << 3 | 1);
                for p in part {
                    g.push(zigzag(p[0] - cursor[0]));
                    g.push(zigzag(p[1] - cursor[1]));
                    cursor = *p;
                }
                continue;
            }
            g.push(1 << 3 | 1); // MoveTo, 1
            g.push(zigzag(part[0][0] - cursor[0]));
            g.push(zigzag(part[0][1] - cursor[1]));
            cursor = part[0];
            g.push(((part.len() - 1) as u32) << 3 | 2); // LineTo, n - 1
            for p in &part[1..] {
                g.push(zigzag(p[0] - cursor[0]));
                g.push(zigzag(p[1] - cursor[1]));
                cursor = *p;
            }
            if ty == GeomType::Polygon {
                g.push(1 << 3 | 7); // ClosePath
            }
        }
    }

    /// Finishes the current feature. Features without geometry are dropped.
    pub fn end(&mut self, id: Option<u64>, ty: GeomType) {
        if self.geom.is_empty() {
            return;
        }
        let mut f = std::mem::take(&mut self.feat);
        let mut packed = std::mem::take(&mut self.packed);
        f.clear();
        if let Some(id) = id {
            key(&mut f, 1, 0);
            varint(&mut f, id);
        }
        if !self.tags.is_empty() {
            packed.clear();
            for &t in &self.tags {
                varint(&mut packed, u64::from(t));
            }
            bytes_field(&mut f, 2, &packed);
        }
        key(&mut f, 3, 0);
        varint(&mut f, ty as u64);
        packed.clear();
        for &c in &self.geom {
            varint(&mut packed, u64::from(c));
        }
        bytes_field(&mut f, 4, &packed);
        bytes_field(&mut self.features, 2, &f);
        self.feat = f;
        self.packed = packed;
        self.count += 1;
    }

    /// Appends the finished layer (Tile field 3) to `out`; nothing when it
    /// has no features.
    pub fn finish_into(self, out: &mut Vec<u8>) {
        if self.count == 0 {
            return;
        }
        let mut l = Vec::with_capacity(self.features.len() + 64 * self.values.len() + 64);
        key(&mut l, 15, 0);
        varint(&mut l, 2); // version
        bytes_field(&mut l, 1, self.name.as_bytes());
        l.extend_from_slice(&self.features);
        for k in &self.keys {
            bytes_field(&mut l, 3, k.as_bytes());
        }
        let mut v = Vec::new();
        for value in &self.values {
            v.clear();
            match value {
                TagValue::Text(s) => bytes_field(&mut v, 1, s.as_bytes()),
                TagValue::Real(bits) => {
                    key(&mut v, 3, 1);
                    v.extend_from_slice(&bits.to_le_bytes());
                }
                TagValue::Int(i) => {
                    // sint for negatives (zigzag), uint otherwise.
                    if *i < 0 {
                        key(&mut v, 6, 0);
                        varint(&mut v, ((i << 1) ^ (i >> 63)) as u64);
                    } else {
                        key(&mut v, 5, 0);
                        varint(&mut v, *i as u64);
                    }
                }
                TagValue::Bool(b) => {
                    key(&mut v, 7, 0);
                    varint(&mut v, u64::from(*b));
                }
            }
            bytes_field(&mut l, 4, &v);
        }
        key(&mut l, 5, 0);
        varint(&mut l, u64::from(self.extent));
        bytes_field(out, 3, &l);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_and_zigzag_follow_the_protobuf_rules() {
        let mut b = Vec::new();
        varint(&mut b, 300);
        assert_eq!(b, [0xAC, 0x02]);
        assert_eq!(zigzag(0), 0);
        assert_eq!(zigzag(-1), 1);
        assert_eq!(zigzag(1), 2);
        assert_eq!(zigzag(-2), 3);
    }

    #[test]
    fn the_spec_example_polygon_encodes_as_the_spec_shows() {
        // MVT 2.1 spec, 4.3.5 example: polygon (3,6) (8,12) (20,34).
        let mut w = LayerWriter::new("l", 4096);
        w.begin();
        w.geometry(
            GeomType::Polygon,
            [&[[3, 6], [8, 12], [20, 34]][..]].into_iter(),
        );
        assert_eq!(w.geom, [9, 6, 12, 18, 10, 12, 24, 44, 15]);
        // And a point (25, 17): MoveTo(1) 50 34.
        w.begin();
        w.geometry(GeomType::Point, [&[[25, 17]][..]].into_iter());
        assert_eq!(w.geom, [9, 50, 34]);
    }

    #[test]
    fn an_empty_layer_writes_nothing() {
        let mut out = Vec::new();
        LayerWriter::new("empty", 4096).finish_into(&mut out);
        assert!(out.is_empty());
    }
}
