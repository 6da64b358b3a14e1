//! GML geometry: writers for GML 3.2, 3.1.1 and 2 straight from the flat
//! buffers (coordinates reprojected per feature into the output CRS and
//! axis order), and a reader of the GML geometries filters carry
//! (Envelope, Box, Point, LineString, Polygon and the Multi* types).
//!
//! Axis order follows the convention GeoServer documents and GDAL and QGIS
//! expect: in WFS 1.1 and 2.0 a CRS named as a URN or an
//! `http://www.opengis.net/def/crs/` URI uses the EPSG order (EPSG:4326 is
//! latitude first); the short `EPSG:4326` and the old
//! `http://www.opengis.net/gml/srs/epsg.xml#4326` mean longitude first, as
//! does everything in WFS 1.0.

use super::xml::Element;
use crate::crs::{self, Crs, CrsError, WEB_MERCATOR};
use crate::model::{push_num, GeometryKind, LayerData};
use geo_types::{
    Coord, Geometry, LineString, MultiLineString, MultiPoint, MultiPolygon, Point, Polygon,
};
use std::fmt::Write;

/// The GML dialect written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GmlVersion {
    /// GML 2.1.2 (WFS 1.0).
    V2,
    /// GML 3.1.1 (WFS 1.1).
    V311,
    /// GML 3.2.1 (WFS 2.0).
    V32,
}

impl GmlVersion {
    /// The GML namespace URI.
    pub fn namespace(self) -> &'static str {
        match self {
            GmlVersion::V32 => "http://www.opengis.net/gml/3.2",
            _ => "http://www.opengis.net/gml",
        }
    }

    /// The schema location of the GML namespace.
    pub fn schema_location(self) -> &'static str {
        match self {
            GmlVersion::V2 => "http://schemas.opengis.net/gml/2.1.2/feature.xsd",
            GmlVersion::V311 => "http://schemas.opengis.net/gml/3.1.1/base/gml.xsd",
            GmlVersion::V32 => "http://schemas.opengis.net/gml/3.2.1/gml.xsd",
        }
    }

    /// The XSD type of a geometry property holding `ty`: concrete types,
    /// as QGIS and GDAL want them to pick the layer's geometry type, and
    /// only types the dialect's schema defines (GML 3.2 has no
    /// `LineStringPropertyType`/`PolygonPropertyType` nor the deprecated
    /// `Multi{LineString,Polygon}PropertyType`: its curve and surface
    /// types hold `gml:LineString` and `gml:Polygon`).
    pub fn property_type(self, ty: crate::model::GeometryType) -> &'static str {
        use crate::model::GeometryType as T;
        match (self, ty) {
            (_, T::Point) => "gml:PointPropertyType",
            (GmlVersion::V32, T::LineString) => "gml:CurvePropertyType",
            (_, T::LineString) => "gml:LineStringPropertyType",
            (GmlVersion::V32, T::Polygon) => "gml:SurfacePropertyType",
            (_, T::Polygon) => "gml:PolygonPropertyType",
            (_, T::MultiPoint) => "gml:MultiPointPropertyType",
            (GmlVersion::V32, T::MultiLineString) => "gml:MultiCurvePropertyType",
            (_, T::MultiLineString) => "gml:MultiLineStringPropertyType",
            (GmlVersion::V32, T::MultiPolygon) => "gml:MultiSurfacePropertyType",
            (_, T::MultiPolygon) => "gml:MultiPolygonPropertyType",
        }
    }
}

/// Resolves a CRS name as a WFS request gives it: the CRS and whether its
/// coordinates come latitude first. `epsg_order` is true for WFS 1.1 and
/// 2.0 (the EPSG axis order applies to URN/URI spellings).
pub fn srs_axis(name: &str, epsg_order: bool) -> Result<(Crs, bool), CrsError> {
    let c = Crs::parse(name)?;
    let t = name.trim().to_ascii_lowercase();
    let legacy = t.starts_with("epsg:")
        || t.contains("/gml/srs/epsg.xml#")
        || t.chars().all(|c| c.is_ascii_digit());
    Ok((c, epsg_order && c.is_lat_lon() && !legacy))
}

/// How geometries are written: dialect, CRS, its name and axis order.
#[derive(Debug, Clone)]
pub struct GeomWriter {
    /// Dialect.
    pub version: GmlVersion,
    /// Output CRS.
    pub crs: Crs,
    /// `srsName` written on each geometry (as the client named the CRS).
    pub srs_name: String,
    /// Write latitude first.
    pub lat_lon: bool,
}

impl GeomWriter {
    fn coords(&self, out: &mut String, cs: &[Coord<f64>]) {
        let d = self.crs.coord_decimals();
        for (i, c) in cs.iter().enumerate() {
            let (a, b) = if self.lat_lon { (c.y, c.x) } else { (c.x, c.y) };
            if self.version == GmlVersion::V2 {
                if i > 0 {
                    out.push(' ');
                }
                push_num(out, a, d);
                out.push(',');
                push_num(out, b, d);
            } else {
                if i > 0 {
                    out.push(' ');
                }
                push_num(out, a, d);
                out.push(' ');
                push_num(out, b, d);
            }
        }
    }

    fn open(&self, out: &mut String, name: &str, id: Option<&str>, top: bool) {
        out.push_str("<gml:");
        out.push_str(name);
        if top {
            out.push_str(" srsName=\"");
            super::xml::escape_into(out, &self.srs_name);
            out.push('"');
        }
        if let (GmlVersion::V32, Some(id)) = (self.version, id) {
            out.push_str(" gml:id=\"");
            super::xml::escape_into(out, id);
            out.push('"');
        }
        out.push('>');
    }

    fn close(out: &mut String, name: &str) {
        out.push_str("</gml:");
        out.push_str(name);
        out.push('>');
    }

    fn point(&self, out: &mut String, c: &[Coord<f64>], id: Option<&str>, top: bool) {
        self.open(out, "Point", id, top);
        if self.version == GmlVersion::V2 {
            out.push_str("<gml:coordinates decimal=\".\" cs=\",\" ts=\" \">");
            self.coords(out, c);
            out.push_str("</gml:coordinates>");
        } else {
            out.push_str("<gml:pos>");
            self.coords(out, c);
            out.push_str("</gml:pos>");
        }
        Self::close(out, "Point");
    }

    fn list(&self, out: &mut String, c: &[Coord<f64>]) {
        if self.version == GmlVersion::V2 {
            out.push_str("<gml:coordinates decimal=\".\" cs=\",\" ts=\" \">");
            self.coords(out, c);
            out.push_str("</gml:coordinates>");
        } else {
            out.push_str("<gml:posList srsDimension=\"2\">");
            self.coords(out, c);
            out.push_str("</gml:posList>");
        }
    }

    fn line(&self, out: &mut String, c: &[Coord<f64>], id: Option<&str>, top: bool) {
        self.open(out, "LineString", id, top);
        self.list(out, c);
        Self::close(out, "LineString");
    }

    fn polygon<'a>(
        &self,
        out: &mut String,
        rings: impl Iterator<Item = &'a [Coord<f64>]>,
        id: Option<&str>,
        top: bool,
    ) {
        self.open(out, "Polygon", id, top);
        let (ext, int) = match self.version {
            GmlVersion::V2 => ("outerBoundaryIs", "innerBoundaryIs"),
            _ => ("exterior", "interior"),
        };
        for (i, r) in rings.enumerate() {
            let tag = if i == 0 { ext } else { int };
            let _ = write!(out, "<gml:{tag}><gml:LinearRing>");
            self.list(out, r);
            let _ = write!(out, "</gml:LinearRing></gml:{tag}>");
        }
        Self::close(out, "Polygon");
    }

    /// Writes the geometry of `row` (coordinates in Web Mercator in `data`)
    /// as one GML geometry element; `id` becomes the `gml:id` of GML 3.2
    /// geometries. `scratch` is reused between calls. Writes nothing for a
    /// feature without geometry.
    pub fn write(
        &self,
        out: &mut String,
        data: &LayerData,
        row: usize,
        id: &str,
        scratch: &mut Vec<Coord<f64>>,
    ) -> Result<(), CrsError> {
        let g = &data.geometry;
        let parts = g.part_count(row);
        if parts == 0 {
            return Ok(());
        }
        scratch.clear();
        scratch.extend_from_slice(g.coords_of(row));
        crs::transform(WEB_MERCATOR, self.crs, scratch)?;
        let multi = data.geometry_type.is_multi() || parts > 1;
        // Rings in output coordinates, in the order of the flat buffers.
        let mut k = 0usize;
        let mut take = |n: usize| {
            let s = k;
            k += n;
            s..k
        };
        let v32 = self.version == GmlVersion::V32;
        match (g.kind(), multi) {
            (GeometryKind::Point, false) => {
                let r = take(1);
                self.point(out, &scratch[r], Some(id), true);
            }
            (GeometryKind::Line, false) => {
                let n = g
                    .parts(row)
                    .next()
                    .and_then(|mut r| r.next())
                    .map_or(0, |r| r.len());
                let r = take(n);
                self.line(out, &scratch[r], Some(id), true);
            }
            (GeometryKind::Polygon, false) => {
                let lens: Vec<usize> = g
                    .parts(row)
                    .next()
                    .map_or(Vec::new(), |rs| rs.map(|r| r.len()).collect());
                let rings: Vec<&[Coord<f64>]> = lens.iter().map(|&n| &scratch[take(n)]).collect();
                self.polygon(out, rings.into_iter(), Some(id), true);
            }
            (kind, true) => {
                let (coll, member) = match (kind, v32) {
                    (GeometryKind::Point, _) => ("MultiPoint", "pointMember"),
                    (GeometryKind::Line, true) => ("MultiCurve", "curveMember"),
                    (GeometryKind::Line, false) => ("MultiLineString", "lineStringMember"),
                    (GeometryKind::Polygon, true) => ("MultiSurface", "surfaceMember"),
                    (GeometryKind::Polygon, false) => ("MultiPolygon", "polygonMember"),
                };
                self.open(out, coll, Some(id), true);
                for (pi, rings) in g.parts(row).enumerate() {
                    let lens: Vec<usize> = rings.map(|r| r.len()).collect();
                    let sub = format!("{id}.{pi}");
                    let _ = write!(out, "<gml:{member}>");
                    match kind {
                        GeometryKind::Point => {
                            let r = take(1);
                            self.point(out, &scratch[r], Some(&sub), false)
                        }
                        GeometryKind::Line => {
                            let r = take(lens.first().copied().unwrap_or(0));
                            self.line(out, &scratch[r], Some(&sub), false)
                        }
                        GeometryKind::Polygon => {
                            let rings: Vec<&[Coord<f64>]> =
                                lens.iter().map(|&n| &scratch[take(n)]).collect();
                            self.polygon(out, rings.into_iter(), Some(&sub), false)
                        }
                    }
                    let _ = write!(out, "</gml:{member}>");
                }
                Self::close(out, coll);
            }
        }
        Ok(())
    }
}

/// Why a GML geometry in a request could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GmlError {
    /// Not a geometry we read.
    #[error("unsupported GML geometry <{0}>")]
    Unsupported(String),
    /// Malformed coordinates.
    #[error("GML <{0}>: {1}")]
    Invalid(String, String),
    /// Too many vertices.
    #[error("geometry in the filter has more than {0} vertices (the limit)")]
    TooManyVertices(usize),
    /// Unknown CRS.
    #[error("{0}")]
    Crs(String),
}

/// Reads GML geometries in requests.
#[derive(Debug, Clone, Copy)]
pub struct GmlReader {
    /// CRS of geometries without `srsName`, and whether it is latitude first.
    pub default: (Crs, bool),
    /// WFS 1.1/2.0 axis rules (see [`srs_axis`]).
    pub epsg_order: bool,
    /// Most vertices accepted in one geometry.
    pub max_vertices: usize,
}

impl GmlReader {
    /// Reads a GML geometry element and returns it in Web Mercator.
    pub fn read(&self, e: &Element) -> Result<Geometry<f64>, GmlError> {
        self.read_to(e, WEB_MERCATOR)
    }

    /// Reads a GML geometry element and returns it in `target` (a layer's
    /// storage CRS for WFS-T, so that a geometry sent back in that CRS is
    /// kept as given, with no round trip through Web Mercator). Geographic
    /// input is clamped to the Mercator domain only when `target` is Web
    /// Mercator.
    pub fn read_to(&self, e: &Element, target: Crs) -> Result<Geometry<f64>, GmlError> {
        let frame = match e.attr("srsName") {
            Some(s) if !s.trim().is_empty() => {
                srs_axis(s, self.epsg_order).map_err(|e| GmlError::Crs(e.to_string()))?
            }
            _ => self.default,
        };
        let mut count = 0usize;
        let mut g = self.geometry(e, frame.1, &mut count)?;
        use geo::MapCoords;
        if frame.0 == target {
            return Ok(g);
        }
        let to_target = |c: Coord<f64>| crs::transform_one(frame.0, target, c);
        if frame.0.is_geographic() && target == WEB_MERCATOR {
            // Clamp to the Mercator domain rather than failing at the poles
            // (QGIS probes with the whole world, -90..90).
            g = g.map_coords(|c| Coord {
                x: c.x.clamp(-180.0, 180.0),
                y: c.y.clamp(-85.06, 85.06),
            });
        }
        g.try_map_coords(to_target)
            .map_err(|e| GmlError::Crs(e.to_string()))
    }

    fn geometry(
        &self,
        e: &Element,
        lat_lon: bool,
        n: &mut usize,
    ) -> Result<Geometry<f64>, GmlError> {
        let name = e.local().to_owned();
        let ring_of = |el: &Element, n: &mut usize| -> Result<LineString<f64>, GmlError> {
            let lr = el
                .children
                .iter()
                .find(|c| c.is("LinearRing") || c.is("Ring"))
                .ok_or_else(|| {
                    GmlError::Invalid(name.clone(), "a boundary without a LinearRing".into())
                })?;
            Ok(LineString(self.positions(lr, lat_lon, n)?))
        };
        Ok(match e.local() {
            "Envelope" | "Box" => {
                let cs = if let (Some(lo), Some(hi)) =
                    (e.child("lowerCorner"), e.child("upperCorner"))
                {
                    let dim = dimension(e, lo);
                    let mut a = self.pos_text(lo.text(), lat_lon, &name, dim)?;
                    a.extend(self.pos_text(hi.text(), lat_lon, &name, dimension(e, hi))?);
                    a
                } else {
                    self.positions(e, lat_lon, n)?
                };
                if cs.len() != 2 {
                    return Err(GmlError::Invalid(
                        name,
                        "an envelope needs two corners".into(),
                    ));
                }
                let r = geo_types::Rect::new(cs[0], cs[1]);
                Geometry::Polygon(r.to_polygon())
            }
            "Point" => {
                let cs = self.positions(e, lat_lon, n)?;
                if cs.len() != 1 {
                    return Err(GmlError::Invalid(name, "a point needs one position".into()));
                }
                Geometry::Point(Point(cs[0]))
            }
            "LineString" | "LinearRing" => {
                let cs = self.positions(e, lat_lon, n)?;
                if cs.len() < 2 {
                    return Err(GmlError::Invalid(name, "a line needs two positions".into()));
                }
                Geometry::LineString(LineString(cs))
            }
            "Polygon" => {
                let mut ext = None;
                let mut ints = Vec::new();
                for c in &e.children {
                    match c.local() {
                        "exterior" | "outerBoundaryIs" => ext = Some(ring_of(c, n)?),
                        "interior" | "innerBoundaryIs" => ints.push(ring_of(c, n)?),
                        _ => {}
                    }
                }
                let ext =
                    ext.ok_or_else(|| GmlError::Invalid(name.clone(), "no exterior ring".into()))?;
                if ext.0.len() < 4 {
                    return Err(GmlError::Invalid(
                        name,
                        "a ring needs at least four positions".into(),
                    ));
                }
                Geometry::Polygon(Polygon::new(ext, ints))
            }
            "MultiPoint" | "MultiLineString" | "MultiCurve" | "MultiPolygon" | "MultiSurface" => {
                let mut members = Vec::new();
                for m in &e.children {
                    for g in &m.children {
                        members.push(self.geometry(g, lat_lon, n)?);
                    }
                }
                match e.local() {
                    "MultiPoint" => Geometry::MultiPoint(MultiPoint(
                        members
                            .into_iter()
                            .map(|g| match g {
                                Geometry::Point(p) => Ok(p),
                                _ => Err(GmlError::Invalid(
                                    name.clone(),
                                    "a member is not a point".into(),
                                )),
                            })
                            .collect::<Result<_, _>>()?,
                    )),
                    "MultiLineString" | "MultiCurve" => Geometry::MultiLineString(MultiLineString(
                        members
                            .into_iter()
                            .map(|g| match g {
                                Geometry::LineString(l) => Ok(l),
                                _ => Err(GmlError::Invalid(
                                    name.clone(),
                                    "a member is not a line".into(),
                                )),
                            })
                            .collect::<Result<_, _>>()?,
                    )),
                    _ => Geometry::MultiPolygon(MultiPolygon(
                        members
                            .into_iter()
                            .map(|g| match g {
                                Geometry::Polygon(p) => Ok(p),
                                _ => Err(GmlError::Invalid(
                                    name.clone(),
                                    "a member is not a polygon".into(),
                                )),
                            })
                            .collect::<Result<_, _>>()?,
                    )),
                }
            }
            other => return Err(GmlError::Unsupported(other.to_owned())),
        })
    }

    /// Positions of an element: `posList`, `pos` children, `coordinates`
    /// (GML 2) or `coord` (X/Y children).
    fn positions(
        &self,
        e: &Element,
        lat_lon: bool,
        n: &mut usize,
    ) -> Result<Vec<Coord<f64>>, GmlError> {
        let name = e.local();
        let mut out = Vec::new();
        for c in &e.children {
            let before = out.len();
            match c.local() {
                "posList" | "pos" => {
                    out.extend(self.pos_text(c.text(), lat_lon, name, dimension(e, c))?)
                }
                "coordinates" => {
                    let cs = c.attr("cs").unwrap_or(",");
                    let ts = c.attr("ts").unwrap_or(" ");
                    let dec = c.attr("decimal").unwrap_or(".");
                    for tuple in c
                        .text()
                        .split(|ch: char| ts.contains(ch) || ch.is_whitespace())
                    {
                        if tuple.is_empty() {
                            continue;
                        }
                        let v: Vec<f64> = tuple
                            .split(cs)
                            .map(|x| parse_num(&x.replace(dec, "."), name))
                            .collect::<Result<_, _>>()?;
                        if v.len() < 2 {
                            return Err(GmlError::Invalid(
                                name.into(),
                                format!("'{tuple}' is not a coordinate pair"),
                            ));
                        }
                        out.push(axis(v[0], v[1], lat_lon));
                    }
                }
                "coord" => {
                    let x = parse_num(c.child("X").map_or("", |x| x.text()), name)?;
                    let y = parse_num(c.child("Y").map_or("", |y| y.text()), name)?;
                    out.push(axis(x, y, lat_lon));
                }
                _ => {}
            }
            *n += out.len() - before;
            if *n > self.max_vertices {
                return Err(GmlError::TooManyVertices(self.max_vertices));
            }
        }
        Ok(out)
    }

    /// Positions from a `pos`/`posList` text of `dim` ordinates each (only
    /// the first two are kept: heights play no part in a 2D filter).
    fn pos_text(
        &self,
        t: &str,
        lat_lon: bool,
        name: &str,
        dim: usize,
    ) -> Result<Vec<Coord<f64>>, GmlError> {
        let v: Vec<f64> = t
            .split_whitespace()
            .map(|x| parse_num(x, name))
            .collect::<Result<_, _>>()?;
        if !v.len().is_multiple_of(dim) {
            return Err(GmlError::Invalid(
                name.into(),
                format!("{} ordinates do not make positions of {dim}", v.len()),
            ));
        }
        if v.len() / dim > self.max_vertices {
            return Err(GmlError::TooManyVertices(self.max_vertices));
        }
        Ok(v.chunks(dim).map(|p| axis(p[0], p[1], lat_lon)).collect())
    }
}

/// `srsDimension` of a position element or its geometry (2 by default;
/// only 2 and 3 are read).
fn dimension(geom: &Element, pos: &Element) -> usize {
    match pos
        .attr("srsDimension")
        .or_else(|| geom.attr("srsDimension"))
        .map(str::trim)
    {
        Some("3") => 3,
        _ => 2,
    }
}

fn axis(a: f64, b: f64, lat_lon: bool) -> Coord<f64> {
    if lat_lon {
        Coord { x: b, y: a }
    } else {
        Coord { x: a, y: b }
    }
}

fn parse_num(s: &str, name: &str) -> Result<f64, GmlError> {
    s.trim()
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .ok_or_else(|| GmlError::Invalid(name.into(), format!("'{s}' is not a finite number")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{FieldDef, GeometryType, LayerDataBuilder};
    use crate::ogc::xml::{parse, XmlLimits};

    const L: XmlLimits = XmlLimits {
        max_depth: 32,
        max_elements: 1000,
    };

    #[test]
    fn axis_order_follows_the_spelling_and_the_version() {
        assert!(srs_axis("urn:ogc:def:crs:EPSG::4326", true).unwrap().1);
        assert!(
            srs_axis("http://www.opengis.net/def/crs/EPSG/0/4326", true)
                .unwrap()
                .1
        );
        assert!(!srs_axis("EPSG:4326", true).unwrap().1);
        assert!(
            !srs_axis("http://www.opengis.net/gml/srs/epsg.xml#4326", true)
                .unwrap()
                .1
        );
        assert!(!srs_axis("urn:ogc:def:crs:EPSG::4326", false).unwrap().1);
        assert!(!srs_axis("urn:ogc:def:crs:EPSG::5899", true).unwrap().1);
        assert!(!srs_axis("CRS:84", true).unwrap().1);
    }

    #[test]
    fn a_polygon_is_written_in_each_dialect_with_axis_order() {
        let mut b = LayerDataBuilder::new("t", 3857, GeometryType::Polygon, Vec::<FieldDef>::new());
        use geo_types::polygon;
        let p = polygon![(x: 0., y: 0.), (x: 1000., y: 0.), (x: 1000., y: 2000.), (x: 0., y: 0.)];
        b.push(1, Some(&Geometry::Polygon(p)), vec![]).unwrap();
        let d = b.finish().unwrap();
        let mut s = String::new();
        let w = GeomWriter {
            version: GmlVersion::V32,
            crs: Crs::Epsg(3857),
            srs_name: "urn:ogc:def:crs:EPSG::3857".into(),
            lat_lon: false,
        };
        w.write(&mut s, &d, 0, "t.1.geom", &mut Vec::new()).unwrap();
        assert_eq!(
            s,
            "<gml:Polygon srsName=\"urn:ogc:def:crs:EPSG::3857\" gml:id=\"t.1.geom\"><gml:exterior><gml:LinearRing><gml:posList srsDimension=\"2\">0 0 1000 0 1000 2000 0 0</gml:posList></gml:LinearRing></gml:exterior></gml:Polygon>"
        );
        let mut s = String::new();
        GeomWriter {
            version: GmlVersion::V2,
            crs: Crs::Epsg(4326),
            srs_name: "EPSG:4326".into(),
            lat_lon: false,
        }
        .write(&mut s, &d, 0, "x", &mut Vec::new())
        .unwrap();
        assert!(s.contains("<gml:outerBoundaryIs><gml:LinearRing><gml:coordinates decimal=\".\" cs=\",\" ts=\" \">0,0 0.008983153,0 "), "{s}");
        let mut s = String::new();
        GeomWriter {
            version: GmlVersion::V311,
            crs: Crs::Epsg(4326),
            srs_name: "urn:ogc:def:crs:EPSG::4326".into(),
            lat_lon: true,
        }
        .write(&mut s, &d, 0, "x", &mut Vec::new())
        .unwrap();
        assert!(
            s.contains(
                "<gml:posList srsDimension=\"2\">0 0 0 0.008983153 0.017966305 0.008983153 0 0<"
            ),
            "{s}"
        );
    }

    #[test]
    fn envelopes_and_polygons_are_read_in_their_axis_order() {
        let r = GmlReader {
            default: (Crs::Epsg(3857), false),
            epsg_order: true,
            max_vertices: 100,
        };
        let e = parse(
            r#"<gml:Envelope srsName="urn:ogc:def:crs:EPSG::4326"><gml:lowerCorner>15 108</gml:lowerCorner><gml:upperCorner>16 109</gml:upperCorner></gml:Envelope>"#,
            L,
        )
        .unwrap();
        let g = r.read(&e).unwrap();
        use geo::BoundingRect;
        let b = g.bounding_rect().unwrap();
        let want = crs::lonlat_to_mercator(Coord { x: 108.0, y: 15.0 });
        assert!((b.min().x - want.x).abs() < 1e-6 && (b.min().y - want.y).abs() < 1e-6);
        let e = parse(
            r#"<gml:Polygon><gml:outerBoundaryIs><gml:LinearRing><gml:coordinates>0,0 10,0 10,10 0,0</gml:coordinates></gml:LinearRing></gml:outerBoundaryIs></gml:Polygon>"#,
            L,
        )
        .unwrap();
        assert!(matches!(r.read(&e).unwrap(), Geometry::Polygon(_)));
        let e3 = parse(
            r#"<gml:LineString srsName="urn:ogc:def:crs:EPSG::3857"><gml:posList srsDimension="3">0 0 5 10 20 5</gml:posList></gml:LineString>"#,
            L,
        )
        .unwrap();
        let Geometry::LineString(l) = r.read(&e3).unwrap() else {
            panic!()
        };
        assert_eq!(
            l.0,
            vec![Coord { x: 0.0, y: 0.0 }, Coord { x: 10.0, y: 20.0 }]
        );
        let tiny = GmlReader {
            max_vertices: 3,
            ..r
        };
        assert_eq!(tiny.read(&e).unwrap_err(), GmlError::TooManyVertices(3));
    }
}
