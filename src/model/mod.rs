//! The feature data model every other module speaks: attribute values and
//! schemas, compact (flat) geometry buffers and column-oriented layer data.
//!
//! It owns no IO and knows nothing about CRSs beyond carrying an EPSG code.
//! Stores produce [`LayerData`]; the engine indexes it; services read it.

pub mod access;
mod edit;
mod format;
mod geometry;
mod layer;
pub mod stage;
pub mod valid;

pub use edit::{
    check_values, conform_geometry, Edit, EditError, FeatureUpdate, LayerEdit, LayerWritten,
    NewFeature, WriteResult,
};
pub use format::FileFormat;
pub use geometry::{clip_segment, FlatGeometry, GeometryKind, GeometryMismatch, GeometryType};
pub use layer::{
    push_json_str, push_num, BuildError, Column, LayerData, LayerDataBuilder, TextDict, ValueRef,
};

use serde::Serialize;
use std::fmt;

/// The type of an attribute field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldType {
    /// true / false.
    Boolean,
    /// 64-bit signed integer.
    Integer,
    /// 64-bit float.
    Real,
    /// UTF-8 text, NFC-normalised at ingest.
    Text,
    /// Calendar date, carried as ISO 8601 text `YYYY-MM-DD`.
    Date,
    /// Date and time, carried as ISO 8601 text.
    DateTime,
}

impl FieldType {
    /// The JSON-schema-ish type name used in `/layers`.
    pub fn json_type(self) -> &'static str {
        match self {
            FieldType::Boolean => "boolean",
            FieldType::Integer => "integer",
            FieldType::Real => "number",
            FieldType::Text | FieldType::Date | FieldType::DateTime => "string",
        }
    }
}

/// One attribute field of a layer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldDef {
    /// Field name (English snake_case in our data).
    pub name: String,
    /// Field type.
    #[serde(rename = "type")]
    pub ty: FieldType,
}

impl FieldDef {
    /// A field with a name and type.
    pub fn new(name: impl Into<String>, ty: FieldType) -> Self {
        FieldDef {
            name: name.into(),
            ty,
        }
    }
}

/// One attribute value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Missing value.
    Null,
    /// Boolean.
    Bool(bool),
    /// Integer.
    Int(i64),
    /// Float.
    Real(f64),
    /// Text (also dates and datetimes, as ISO 8601).
    Text(String),
}

impl Value {
    /// The value as f64 when it is numeric.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::Real(r) => Some(*r),
            _ => None,
        }
    }

    /// The value as text when it is text.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Text(s) => Some(s),
            _ => None,
        }
    }

    /// Converts to a JSON value.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => (*b).into(),
            Value::Int(i) => (*i).into(),
            Value::Real(r) => serde_json::Number::from_f64(*r)
                .map(serde_json::Value::Number)
                .unwrap_or(serde_json::Value::Null),
            Value::Text(s) => s.as_str().into(),
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => Ok(()),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Real(r) => write!(f, "{r}"),
            Value::Text(s) => f.write_str(s),
        }
    }
}

/// The smallest rectangle holding both `a` and `b`.
///
/// ```
/// use geo_types::{coord, Rect};
/// let r = geoplan::model::union_rect(
///     Rect::new(coord! { x: 0.0, y: 0.0 }, coord! { x: 1.0, y: 1.0 }),
///     Rect::new(coord! { x: 2.0, y: -1.0 }, coord! { x: 3.0, y: 0.5 }),
/// );
/// assert_eq!(r, Rect::new(coord! { x: 0.0, y: -1.0 }, coord! { x: 3.0, y: 1.0 }));
/// ```
pub fn union_rect(a: geo_types::Rect<f64>, b: geo_types::Rect<f64>) -> geo_types::Rect<f64> {
    geo_types::Rect::new(
        geo_types::Coord {
            x: a.min().x.min(b.min().x),
            y: a.min().y.min(b.min().y),
        },
        geo_types::Coord {
            x: a.max().x.max(b.max().x),
            y: a.max().y.max(b.max().y),
        },
    )
}

/// `r` grown by `m` on every side (shrunk for a negative `m`).
///
/// ```
/// use geo_types::{coord, Rect};
/// let r = geoplan::model::grow_rect(
///     Rect::new(coord! { x: 0.0, y: 0.0 }, coord! { x: 1.0, y: 2.0 }),
///     0.5,
/// );
/// assert_eq!(r, Rect::new(coord! { x: -0.5, y: -0.5 }, coord! { x: 1.5, y: 2.5 }));
/// ```
pub fn grow_rect(r: geo_types::Rect<f64>, m: f64) -> geo_types::Rect<f64> {
    geo_types::Rect::new(
        geo_types::Coord {
            x: r.min().x - m,
            y: r.min().y - m,
        },
        geo_types::Coord {
            x: r.max().x + m,
            y: r.max().y + m,
        },
    )
}

/// True when `outer` contains `inner`, edges included.
///
/// ```
/// use geo_types::{coord, Rect};
/// use geoplan::model::rect_covers;
/// let outer = Rect::new(coord! { x: 0.0, y: 0.0 }, coord! { x: 2.0, y: 2.0 });
/// assert!(rect_covers(&outer, &Rect::new(coord! { x: 0.0, y: 1.0 }, coord! { x: 2.0, y: 2.0 })));
/// assert!(!rect_covers(&outer, &Rect::new(coord! { x: 1.0, y: 1.0 }, coord! { x: 3.0, y: 2.0 })));
/// ```
pub fn rect_covers(outer: &geo_types::Rect<f64>, inner: &geo_types::Rect<f64>) -> bool {
    outer.min().x <= inner.min().x
        && outer.min().y <= inner.min().y
        && outer.max().x >= inner.max().x
        && outer.max().y >= inner.max().y
}

/// Normalises text to Unicode NFC, so that Vietnamese diacritics compare,
/// sort and render the same whatever form the source used.
pub fn nfc(s: &str) -> String {
    use unicode_normalization::{is_nfc_quick, IsNormalized, UnicodeNormalization};
    match is_nfc_quick(s.chars()) {
        IsNormalized::Yes => s.to_owned(),
        _ => s.nfc().collect(),
    }
}

/// A feature read back from a layer, row-shaped.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureRow {
    /// Stable feature id (GeoPackage fid / PostGIS primary key).
    pub fid: i64,
    /// Geometry, in the layer's CRS.
    pub geometry: Option<geo_types::Geometry<f64>>,
    /// One value per field of the layer schema, in schema order.
    pub values: Vec<Value>,
}

/// Hands memory that the C library's allocator keeps after a large load
/// (GDAL's and SQLite's buffers) back to the operating system, so the
/// resident size reflects the data held. Rust's own allocations go through
/// jemalloc, which returns freed pages by itself (see `heap.rs`). A no-op
/// where glibc's `malloc_trim` is absent.
pub fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free pages of glibc's heap to the OS;
    // it touches no memory that is in use.
    unsafe {
        libc::malloc_trim(0);
    }
}
