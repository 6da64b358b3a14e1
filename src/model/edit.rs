//! Change sets for the stores: features to insert, update and delete in
//! one layer, and the checks every store runs on them before writing
//! anything (value types against the layer schema, geometry type, finite
//! coordinates, NFC text).
//!
//! A WFS transaction becomes a list of [`LayerEdit`]s, written in order and
//! all in one store transaction. Geometries are in the layer's storage CRS
//! (the CRS the store reports for the layer): reprojecting a client's
//! `srsName` is the caller's job.

use super::{nfc, FieldDef, FieldType, GeometryType, Value};
use geo_types::{Coord, Geometry, LineString, MultiLineString, MultiPoint, MultiPolygon, Polygon};

/// A feature to insert. Its fid is given by the store.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NewFeature {
    /// Geometry in the layer's storage CRS.
    pub geometry: Option<Geometry<f64>>,
    /// Attribute values by field name. Fields not named take the column's
    /// default (NULL unless the table declares one).
    pub values: Vec<(String, Value)>,
}

/// A change to one existing feature.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FeatureUpdate {
    /// The feature; it must exist, else the whole write fails.
    pub fid: i64,
    /// `None`: geometry unchanged; `Some(None)`: set to null (refused by
    /// tables whose geometry is NOT NULL); `Some(Some(g))`: replaced.
    pub geometry: Option<Option<Geometry<f64>>>,
    /// New attribute values by field name; others are unchanged.
    pub values: Vec<(String, Value)>,
}

/// Inserts, updates and deletes in one layer, applied in that order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Edit {
    /// New features.
    pub inserts: Vec<NewFeature>,
    /// Changed features.
    pub updates: Vec<FeatureUpdate>,
    /// Deleted fids; each must exist, else the whole write fails.
    pub deletes: Vec<i64>,
}

impl Edit {
    /// True when the edit changes nothing.
    pub fn is_empty(&self) -> bool {
        self.inserts.is_empty() && self.updates.is_empty() && self.deletes.is_empty()
    }
}

/// One [`Edit`] of one layer. A write takes a list of them, applied in
/// list order; a layer may appear more than once (one entry per WFS
/// action keeps the client's order).
#[derive(Debug, Clone, PartialEq)]
pub struct LayerEdit {
    /// Layer id (the store's table name).
    pub layer: String,
    /// What changes.
    pub edit: Edit,
}

/// What one [`LayerEdit`] wrote.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LayerWritten {
    /// Layer id.
    pub layer: String,
    /// The fids given to the inserted features, in insert order.
    pub inserted: Vec<i64>,
    /// The fids updated, in update order.
    pub updated: Vec<i64>,
    /// The fids deleted.
    pub deleted: Vec<i64>,
}

impl LayerWritten {
    /// Every fid this entry touched (inserted, updated or deleted).
    pub fn fids(&self) -> impl Iterator<Item = i64> + '_ {
        self.inserted
            .iter()
            .chain(&self.updated)
            .chain(&self.deleted)
            .copied()
    }
}

/// The outcome of a committed write: one entry per [`LayerEdit`], in order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WriteResult {
    /// Per edit, in the order given.
    pub layers: Vec<LayerWritten>,
}

impl WriteResult {
    /// Total features inserted (WFS `totalInserted`).
    pub fn total_inserted(&self) -> usize {
        self.layers.iter().map(|l| l.inserted.len()).sum()
    }

    /// Total features updated (WFS `totalUpdated`).
    pub fn total_updated(&self) -> usize {
        self.layers.iter().map(|l| l.updated.len()).sum()
    }

    /// Total features deleted (WFS `totalDeleted`).
    pub fn total_deleted(&self) -> usize {
        self.layers.iter().map(|l| l.deleted.len()).sum()
    }
}

/// An edit that does not fit the layer. The message names the layer, the
/// feature (fid, or position of an insert) and the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("layer {layer}: {what}: {msg}")]
pub struct EditError {
    /// Layer id.
    pub layer: String,
    /// Which feature: `insert #2` or `feature 17`.
    pub what: String,
    /// What is wrong.
    pub msg: String,
}

impl EditError {
    /// An error about `what` in `layer`.
    pub fn new(layer: &str, what: &str, msg: impl Into<String>) -> Self {
        EditError {
            layer: layer.to_owned(),
            what: what.to_owned(),
            msg: msg.into(),
        }
    }
}

/// Checks named values against a schema and returns them as (field index,
/// value) with text in NFC and integers for real fields turned into reals.
/// Unknown fields, a field named twice, a value of the wrong type, a
/// malformed date, a non-finite number and text with a NUL character are
/// refused.
pub fn check_values(
    layer: &str,
    what: &str,
    fields: &[FieldDef],
    values: &[(String, Value)],
) -> Result<Vec<(usize, Value)>, EditError> {
    let err = |msg: String| EditError::new(layer, what, msg);
    let mut out: Vec<(usize, Value)> = Vec::with_capacity(values.len());
    for (name, v) in values {
        let i = fields
            .iter()
            .position(|f| &f.name == name)
            .ok_or_else(|| err(format!("the layer has no field {name:?}")))?;
        if out.iter().any(|(j, _)| *j == i) {
            return Err(err(format!("field {name} is given twice")));
        }
        out.push((i, check_value(&fields[i], v).map_err(err)?));
    }
    Ok(out)
}

fn check_value(f: &FieldDef, v: &Value) -> Result<Value, String> {
    let wrong = |got: &str| {
        Err(format!(
            "field {} takes {}, got {got}",
            f.name,
            type_name(f.ty)
        ))
    };
    let got = match v {
        Value::Null => return Ok(Value::Null),
        Value::Bool(_) => "a boolean",
        Value::Int(_) => "an integer",
        Value::Real(_) => "a real number",
        Value::Text(_) => "text",
    };
    match (f.ty, v) {
        (FieldType::Boolean, Value::Bool(_)) | (FieldType::Integer, Value::Int(_)) => Ok(v.clone()),
        (FieldType::Real, Value::Int(i)) => Ok(Value::Real(*i as f64)),
        (FieldType::Real, Value::Real(r)) if r.is_finite() => Ok(v.clone()),
        (FieldType::Real, Value::Real(r)) => Err(format!("field {}: {r} is not finite", f.name)),
        (FieldType::Text | FieldType::Date | FieldType::DateTime, Value::Text(s)) => {
            if s.contains('\0') {
                return Err(format!("field {} contains a NUL character", f.name));
            }
            let s = nfc(s);
            let ok = match f.ty {
                FieldType::Date => is_date(&s),
                FieldType::DateTime => is_datetime(&s),
                _ => true,
            };
            if ok {
                Ok(Value::Text(s))
            } else {
                Err(format!(
                    "field {}: {s:?} is not {}",
                    f.name,
                    type_name(f.ty)
                ))
            }
        }
        _ => wrong(got),
    }
}

fn type_name(t: FieldType) -> &'static str {
    match t {
        FieldType::Boolean => "a boolean",
        FieldType::Integer => "an integer",
        FieldType::Real => "a number",
        FieldType::Text => "text",
        FieldType::Date => "a date (YYYY-MM-DD)",
        FieldType::DateTime => "a date and time (ISO 8601, e.g. 2025-07-01T08:30:00Z)",
    }
}

fn is_date(s: &str) -> bool {
    s.len() == 10 && chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok()
}

fn is_datetime(s: &str) -> bool {
    chrono::DateTime::parse_from_rfc3339(s).is_ok()
        || chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f").is_ok()
        || chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f").is_ok()
}

/// Checks a geometry for a layer of type `ty` and returns it in exactly
/// that type: a single geometry is promoted into a Multi* layer, and a
/// Multi* of one part is accepted by a single-type layer. A geometry of
/// another dimension, a Multi* of several parts for a single-type layer,
/// an empty geometry, a non-finite coordinate, a line of fewer than two
/// points and a polygon ring that is not closed or has fewer than four
/// points are refused.
pub fn conform_geometry(
    layer: &str,
    what: &str,
    ty: GeometryType,
    g: &Geometry<f64>,
) -> Result<Geometry<f64>, EditError> {
    let err = |msg: String| EditError::new(layer, what, msg);
    let name = match g {
        Geometry::Point(_) => "Point",
        Geometry::MultiPoint(_) => "MultiPoint",
        Geometry::LineString(_) => "LineString",
        Geometry::MultiLineString(_) => "MultiLineString",
        Geometry::Polygon(_) => "Polygon",
        Geometry::MultiPolygon(_) => "MultiPolygon",
        Geometry::Line(_) => "Line",
        Geometry::Rect(_) => "Rect",
        Geometry::Triangle(_) => "Triangle",
        Geometry::GeometryCollection(_) => "GeometryCollection",
    };
    let mismatch = || {
        err(format!(
            "a {name} does not fit a layer of {} geometries",
            ty.name()
        ))
    };
    let out = match (ty, g.clone()) {
        (GeometryType::Point, Geometry::Point(p)) => Geometry::Point(p),
        (GeometryType::Point, Geometry::MultiPoint(mut m)) if m.0.len() == 1 => {
            Geometry::Point(m.0.remove(0))
        }
        (GeometryType::MultiPoint, Geometry::Point(p)) => Geometry::MultiPoint(MultiPoint(vec![p])),
        (GeometryType::MultiPoint, Geometry::MultiPoint(m)) => Geometry::MultiPoint(m),
        (GeometryType::LineString, Geometry::LineString(l)) => Geometry::LineString(l),
        (GeometryType::LineString, Geometry::MultiLineString(mut m)) if m.0.len() == 1 => {
            Geometry::LineString(m.0.remove(0))
        }
        (GeometryType::MultiLineString, Geometry::LineString(l)) => {
            Geometry::MultiLineString(MultiLineString(vec![l]))
        }
        (GeometryType::MultiLineString, Geometry::MultiLineString(m)) => {
            Geometry::MultiLineString(m)
        }
        (GeometryType::Polygon, Geometry::Polygon(p)) => Geometry::Polygon(p),
        (GeometryType::Polygon, Geometry::MultiPolygon(mut m)) if m.0.len() == 1 => {
            Geometry::Polygon(m.0.remove(0))
        }
        (GeometryType::MultiPolygon, Geometry::Polygon(p)) => {
            Geometry::MultiPolygon(MultiPolygon(vec![p]))
        }
        (GeometryType::MultiPolygon, Geometry::MultiPolygon(m)) => Geometry::MultiPolygon(m),
        (_, Geometry::MultiPoint(_) | Geometry::MultiLineString(_) | Geometry::MultiPolygon(_))
            if Some(ty.kind()) == kind_of(g) =>
        {
            let n = match g {
                Geometry::MultiPoint(m) => m.0.len(),
                Geometry::MultiLineString(m) => m.0.len(),
                Geometry::MultiPolygon(m) => m.0.len(),
                _ => 1,
            };
            return Err(err(format!(
                "a {name} of {n} parts does not fit a layer of single {}s",
                ty.name()
            )));
        }
        _ => return Err(mismatch()),
    };
    check_shape(&out).map_err(err)?;
    Ok(out)
}

fn kind_of(g: &Geometry<f64>) -> Option<super::GeometryKind> {
    use super::GeometryKind as K;
    Some(match g {
        Geometry::Point(_) | Geometry::MultiPoint(_) => K::Point,
        Geometry::LineString(_) | Geometry::MultiLineString(_) => K::Line,
        Geometry::Polygon(_) | Geometry::MultiPolygon(_) => K::Polygon,
        _ => return None,
    })
}

fn check_coords<'a>(cs: impl IntoIterator<Item = &'a Coord<f64>>) -> Result<(), String> {
    for c in cs {
        if !(c.x.is_finite() && c.y.is_finite()) {
            return Err(format!(
                "coordinate ({}, {}) is not a finite number",
                c.x, c.y
            ));
        }
    }
    Ok(())
}

fn check_line(l: &LineString<f64>) -> Result<(), String> {
    check_coords(&l.0)?;
    if l.0.len() < 2 {
        return Err(format!(
            "a line needs two points or more, got {}",
            l.0.len()
        ));
    }
    Ok(())
}

fn check_polygon(p: &Polygon<f64>) -> Result<(), String> {
    for r in std::iter::once(p.exterior()).chain(p.interiors()) {
        check_coords(&r.0)?;
        if r.0.len() < 4 {
            return Err(format!(
                "a polygon ring needs four points or more, got {}",
                r.0.len()
            ));
        }
        if r.0.first() != r.0.last() {
            return Err("a polygon ring is not closed".into());
        }
    }
    Ok(())
}

fn check_shape(g: &Geometry<f64>) -> Result<(), String> {
    match g {
        Geometry::Point(p) => check_coords([&p.0]),
        Geometry::MultiPoint(m) if m.0.is_empty() => Err("the geometry is empty".into()),
        Geometry::MultiPoint(m) => check_coords(m.0.iter().map(|p| &p.0)),
        Geometry::LineString(l) => check_line(l),
        Geometry::MultiLineString(m) if m.0.is_empty() => Err("the geometry is empty".into()),
        Geometry::MultiLineString(m) => m.0.iter().try_for_each(check_line),
        Geometry::Polygon(p) => check_polygon(p),
        Geometry::MultiPolygon(m) if m.0.is_empty() => Err("the geometry is empty".into()),
        Geometry::MultiPolygon(m) => m.0.iter().try_for_each(check_polygon),
        _ => Err("unsupported geometry type".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo_types::{point, polygon};

    fn fields() -> Vec<FieldDef> {
        vec![
            FieldDef::new("address", FieldType::Text),
            FieldDef::new("sheet_number", FieldType::Integer),
            FieldDef::new("legal_area", FieldType::Real),
            FieldDef::new("valid_from", FieldType::Date),
            FieldDef::new("synthetic", FieldType::Boolean),
        ]
    }

    #[test]
    fn values_are_placed_by_name_normalised_and_widened() {
        let v = check_values(
            "parcels",
            "insert #1",
            &fields(),
            &[
                ("legal_area".into(), Value::Int(120)),
                // "Hội An" decomposed (NFD).
                (
                    "address".into(),
                    Value::Text("Ho\u{0323}\u{0302}i An".into()),
                ),
                ("valid_from".into(), Value::Text("2025-07-01".into())),
                ("sheet_number".into(), Value::Null),
            ],
        )
        .unwrap();
        assert_eq!(
            v,
            vec![
                (2, Value::Real(120.0)),
                (0, Value::Text("Hội An".into())),
                (3, Value::Text("2025-07-01".into())),
                (1, Value::Null),
            ]
        );
    }

    #[test]
    fn a_wrong_type_an_unknown_field_or_a_bad_date_is_refused_by_name() {
        let f = fields();
        let e = check_values(
            "parcels",
            "feature 7",
            &f,
            &[("sheet_number".into(), Value::Text("12".into()))],
        )
        .unwrap_err();
        assert!(e.to_string().contains("sheet_number"), "{e}");
        assert!(e.to_string().contains("feature 7"), "{e}");
        let e = check_values("parcels", "x", &f, &[("sheet".into(), Value::Int(1))]).unwrap_err();
        assert!(e.to_string().contains("sheet"), "{e}");
        for bad in ["2025-13-01", "01/07/2025", "2025-07-01x"] {
            let e = check_values(
                "parcels",
                "x",
                &f,
                &[("valid_from".into(), Value::Text(bad.into()))],
            )
            .unwrap_err();
            assert!(e.to_string().contains("valid_from"), "{e}");
        }
        let e = check_values(
            "parcels",
            "x",
            &f,
            &[("legal_area".into(), Value::Real(f64::NAN))],
        )
        .unwrap_err();
        assert!(e.to_string().contains("legal_area"), "{e}");
        let e = check_values(
            "parcels",
            "x",
            &f,
            &[
                ("synthetic".into(), Value::Bool(true)),
                ("synthetic".into(), Value::Bool(false)),
            ],
        )
        .unwrap_err();
        assert!(e.to_string().contains("twice"), "{e}");
    }

    #[test]
    fn geometries_conform_to_the_layer_type_or_are_refused() {
        let square = polygon![(x: 0., y: 0.), (x: 1., y: 0.), (x: 1., y: 1.), (x: 0., y: 0.)];
        let g = Geometry::Polygon(square.clone());
        assert_eq!(
            conform_geometry("l", "x", GeometryType::MultiPolygon, &g).unwrap(),
            Geometry::MultiPolygon(MultiPolygon(vec![square.clone()]))
        );
        let one = Geometry::MultiPolygon(MultiPolygon(vec![square.clone()]));
        assert_eq!(
            conform_geometry("l", "x", GeometryType::Polygon, &one).unwrap(),
            g
        );
        let two = Geometry::MultiPolygon(MultiPolygon(vec![square.clone(), square]));
        let e = conform_geometry("l", "x", GeometryType::Polygon, &two).unwrap_err();
        assert!(e.msg.contains("2 parts"), "{e}");
        let p = Geometry::Point(point!(x: 1.0, y: 2.0));
        let e = conform_geometry("l", "x", GeometryType::Polygon, &p).unwrap_err();
        assert!(e.msg.contains("Point"), "{e}");
        let nan = Geometry::Point(point!(x: f64::NAN, y: 2.0));
        assert!(conform_geometry("l", "x", GeometryType::Point, &nan).is_err());
        // Polygon::new closes rings itself: two points become a ring of three.
        let thin = Geometry::Polygon(Polygon::new(
            LineString(vec![Coord { x: 0., y: 0. }, Coord { x: 1., y: 0. }]),
            vec![],
        ));
        let e = conform_geometry("l", "x", GeometryType::Polygon, &thin).unwrap_err();
        assert!(e.msg.contains("four points"), "{e}");
    }
}
