//! Flat geometry storage: all coordinates of a layer in one buffer, with
//! offset arrays for rings, parts and features (the GeoArrow layout).
//!
//! One allocation per layer instead of several per feature keeps a million
//! parcels compact and cache-friendly; exact predicates (point in polygon,
//! rectangle intersection, distance) run directly on the slices.

use geo_types::{
    Coord, Geometry, LineString, MultiLineString, MultiPoint, MultiPolygon, Point, Polygon, Rect,
};
use serde::Serialize;

/// The dimension of the geometries a layer holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum GeometryKind {
    /// Points: every part is one ring of one coordinate.
    Point,
    /// Lines: every part is one ring (the line).
    Line,
    /// Polygons: every part is a polygon, its first ring the exterior.
    Polygon,
}

/// The declared geometry type of a layer, as OGC names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum GeometryType {
    /// Point.
    Point,
    /// MultiPoint.
    MultiPoint,
    /// LineString.
    LineString,
    /// MultiLineString.
    MultiLineString,
    /// Polygon.
    Polygon,
    /// MultiPolygon.
    MultiPolygon,
}

impl GeometryType {
    /// The dimension of this type.
    pub fn kind(self) -> GeometryKind {
        match self {
            GeometryType::Point | GeometryType::MultiPoint => GeometryKind::Point,
            GeometryType::LineString | GeometryType::MultiLineString => GeometryKind::Line,
            GeometryType::Polygon | GeometryType::MultiPolygon => GeometryKind::Polygon,
        }
    }

    /// True for the Multi* types.
    pub fn is_multi(self) -> bool {
        matches!(
            self,
            GeometryType::MultiPoint | GeometryType::MultiLineString | GeometryType::MultiPolygon
        )
    }

    /// OGC name (`MultiPolygon`, ...).
    pub fn name(self) -> &'static str {
        match self {
            GeometryType::Point => "Point",
            GeometryType::MultiPoint => "MultiPoint",
            GeometryType::LineString => "LineString",
            GeometryType::MultiLineString => "MultiLineString",
            GeometryType::Polygon => "Polygon",
            GeometryType::MultiPolygon => "MultiPolygon",
        }
    }

    /// Parses an OGC / GeoPackage / PostGIS geometry type name
    /// (case-insensitive; `GEOMETRY` is not accepted: layers have one type).
    pub fn parse(s: &str) -> Option<GeometryType> {
        Some(match s.to_ascii_uppercase().as_str() {
            "POINT" => GeometryType::Point,
            "MULTIPOINT" => GeometryType::MultiPoint,
            "LINESTRING" => GeometryType::LineString,
            "MULTILINESTRING" => GeometryType::MultiLineString,
            "POLYGON" => GeometryType::Polygon,
            "MULTIPOLYGON" => GeometryType::MultiPolygon,
            _ => return None,
        })
    }
}

/// A geometry did not fit the layer's declared dimension.
#[derive(Debug, thiserror::Error)]
#[error("geometry of type {found} does not fit a layer of {expected:?} geometries")]
pub struct GeometryMismatch {
    /// What the layer holds.
    pub expected: GeometryKind,
    /// What was offered.
    pub found: &'static str,
}

/// All geometries of one layer in flat buffers.
#[derive(Debug, Clone)]
pub struct FlatGeometry {
    kind: GeometryKind,
    coords: Vec<Coord<f64>>,
    ring_off: Vec<u32>,
    part_off: Vec<u32>,
    feat_off: Vec<u32>,
}

impl FlatGeometry {
    /// An empty buffer for geometries of one dimension.
    pub fn new(kind: GeometryKind) -> Self {
        FlatGeometry {
            kind,
            coords: Vec::new(),
            ring_off: vec![0],
            part_off: vec![0],
            feat_off: vec![0],
        }
    }

    /// The dimension held.
    pub fn kind(&self) -> GeometryKind {
        self.kind
    }

    /// Number of features (including those without geometry).
    pub fn len(&self) -> usize {
        self.feat_off.len() - 1
    }

    /// True when no feature is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Total number of coordinates.
    pub fn coord_count(&self) -> usize {
        self.coords.len()
    }

    /// Heap bytes used by the buffers.
    pub fn heap_bytes(&self) -> usize {
        self.coords.capacity() * std::mem::size_of::<Coord<f64>>()
            + (self.ring_off.capacity() + self.part_off.capacity() + self.feat_off.capacity()) * 4
    }

    /// Shrinks the buffers to their length.
    pub fn shrink_to_fit(&mut self) {
        self.coords.shrink_to_fit();
        self.ring_off.shrink_to_fit();
        self.part_off.shrink_to_fit();
        self.feat_off.shrink_to_fit();
    }

    /// Appends one ring (or line, or point) to the part being built. With
    /// [`FlatGeometry::close_part`] and [`FlatGeometry::close_feature`] this
    /// writes derived geometry (e.g. generalised copies) without geo types.
    pub fn push_ring_coords(&mut self, ring: &[Coord<f64>]) {
        self.push_ring(ring.iter().copied());
    }

    /// Closes the part whose rings were pushed since the last part.
    pub fn close_part(&mut self) {
        self.end_part();
    }

    /// Closes the feature whose parts were pushed since the last feature
    /// (a feature with no parts has no geometry).
    pub fn close_feature(&mut self) {
        self.feat_off.push(self.part_off.len() as u32 - 1);
    }

    fn push_ring(&mut self, ring: impl IntoIterator<Item = Coord<f64>>) {
        self.coords.extend(ring);
        self.ring_off.push(self.coords.len() as u32);
    }

    fn end_part(&mut self) {
        self.part_off.push(self.ring_off.len() as u32 - 1);
    }

    fn push_polygon(&mut self, p: &Polygon<f64>) {
        if p.exterior().0.is_empty() {
            return;
        }
        self.push_ring(p.exterior().0.iter().copied());
        for r in p.interiors() {
            if !r.0.is_empty() {
                self.push_ring(r.0.iter().copied());
            }
        }
        self.end_part();
    }

    /// Appends one feature's geometry (or none).
    pub fn push(&mut self, g: Option<&Geometry<f64>>) -> Result<(), GeometryMismatch> {
        let mismatch = |found| GeometryMismatch {
            expected: self.kind,
            found,
        };
        if let Some(g) = g {
            match (self.kind, g) {
                (GeometryKind::Point, Geometry::Point(p)) => {
                    self.push_ring([p.0]);
                    self.end_part();
                }
                (GeometryKind::Point, Geometry::MultiPoint(mp)) => {
                    for p in mp {
                        self.push_ring([p.0]);
                        self.end_part();
                    }
                }
                (GeometryKind::Line, Geometry::LineString(l)) => {
                    self.push_ring(l.0.iter().copied());
                    self.end_part();
                }
                (GeometryKind::Line, Geometry::MultiLineString(ml)) => {
                    for l in ml {
                        self.push_ring(l.0.iter().copied());
                        self.end_part();
                    }
                }
                (GeometryKind::Polygon, Geometry::Polygon(p)) => self.push_polygon(p),
                (GeometryKind::Polygon, Geometry::MultiPolygon(mp)) => {
                    for p in mp {
                        self.push_polygon(p);
                    }
                }
                (_, other) => return Err(mismatch(geometry_name(other))),
            }
        }
        self.feat_off.push(self.part_off.len() as u32 - 1);
        Ok(())
    }

    /// Appends every geometry of `other` (same kind) after ours.
    pub fn extend_from(&mut self, other: &FlatGeometry, features: impl Iterator<Item = usize>) {
        for i in features {
            for part in other.parts(i) {
                for ring in part {
                    self.push_ring(ring.iter().copied());
                }
                self.end_part();
            }
            self.feat_off.push(self.part_off.len() as u32 - 1);
        }
    }

    /// The parts of feature `i`, each a list of rings (coordinate slices).
    pub fn parts(&self, i: usize) -> impl Iterator<Item = Rings<'_>> + '_ {
        let (a, b) = (self.feat_off[i] as usize, self.feat_off[i + 1] as usize);
        (a..b).map(move |p| Rings {
            g: self,
            next: self.part_off[p] as usize,
            end: self.part_off[p + 1] as usize,
        })
    }

    /// Number of parts of feature `i` (0 for a feature without geometry).
    pub fn part_count(&self, i: usize) -> usize {
        (self.feat_off[i + 1] - self.feat_off[i]) as usize
    }

    /// All coordinates of feature `i`, in order.
    pub fn coords_of(&self, i: usize) -> &[Coord<f64>] {
        let (a, b) = (self.feat_off[i] as usize, self.feat_off[i + 1] as usize);
        if a == b {
            return &[];
        }
        let r0 = self.part_off[a] as usize;
        let r1 = self.part_off[b] as usize;
        &self.coords[self.ring_off[r0] as usize..self.ring_off[r1] as usize]
    }

    /// Mutable access to every coordinate, for bulk reprojection.
    pub fn coords_mut(&mut self) -> &mut [Coord<f64>] {
        &mut self.coords
    }

    /// The bounding box of feature `i`, if it has a geometry.
    pub fn bbox(&self, i: usize) -> Option<Rect<f64>> {
        let cs = self.coords_of(i);
        let first = cs.first()?;
        let (mut min, mut max) = (*first, *first);
        for c in &cs[1..] {
            min.x = min.x.min(c.x);
            min.y = min.y.min(c.y);
            max.x = max.x.max(c.x);
            max.y = max.y.max(c.y);
        }
        Some(Rect::new(min, max))
    }

    /// Feature `i` as a `geo` geometry of the declared type.
    pub fn to_geo(&self, i: usize, ty: GeometryType) -> Option<Geometry<f64>> {
        if self.part_count(i) == 0 {
            return None;
        }
        let line = |r: &[Coord<f64>]| LineString(r.to_vec());
        Some(match ty.kind() {
            GeometryKind::Point => {
                let pts: Vec<Point<f64>> = self
                    .parts(i)
                    .flat_map(|mut rs| rs.next().map(|r| Point(r[0])))
                    .collect();
                if ty.is_multi() || pts.len() > 1 {
                    Geometry::MultiPoint(MultiPoint(pts))
                } else {
                    Geometry::Point(pts[0])
                }
            }
            GeometryKind::Line => {
                let ls: Vec<LineString<f64>> = self
                    .parts(i)
                    .flat_map(|mut rs| rs.next().map(line))
                    .collect();
                if ty.is_multi() || ls.len() > 1 {
                    Geometry::MultiLineString(MultiLineString(ls))
                } else {
                    Geometry::LineString(ls.into_iter().next()?)
                }
            }
            GeometryKind::Polygon => {
                let ps: Vec<Polygon<f64>> = self
                    .parts(i)
                    .map(|mut rs| {
                        let ext = rs.next().map(line).unwrap_or_else(|| LineString(vec![]));
                        Polygon::new(ext, rs.map(line).collect())
                    })
                    .collect();
                if ty.is_multi() || ps.len() > 1 {
                    Geometry::MultiPolygon(MultiPolygon(ps))
                } else {
                    Geometry::Polygon(ps.into_iter().next()?)
                }
            }
        })
    }

    /// True when feature `i` contains point `p` (polygons: inside or on the
    /// boundary by the even-odd rule per part; points and lines: never).
    pub fn contains_point(&self, i: usize, p: Coord<f64>) -> bool {
        if self.kind != GeometryKind::Polygon {
            return false;
        }
        self.parts(i).any(|rings| {
            let mut inside = false;
            for ring in rings {
                if ring_crossings(ring, p) {
                    inside = !inside;
                }
            }
            inside
        })
    }

    /// True when feature `i` intersects (touches or overlaps) the rectangle.
    pub fn intersects_rect(&self, i: usize, r: &Rect<f64>) -> bool {
        let (min, max) = (r.min(), r.max());
        let inside = |c: &Coord<f64>| c.x >= min.x && c.x <= max.x && c.y >= min.y && c.y <= max.y;
        if self.coords_of(i).iter().any(inside) {
            return true;
        }
        if self.kind == GeometryKind::Point {
            return false;
        }
        for rings in self.parts(i) {
            for ring in rings {
                if ring
                    .windows(2)
                    .any(|s| segment_intersects_rect(s[0], s[1], min, max))
                {
                    return true;
                }
            }
        }
        // The rectangle may lie wholly inside a polygon.
        self.contains_point(i, r.center())
    }

    /// Euclidean distance from feature `i` to point `p` (0 inside a polygon),
    /// in the units of the coordinates; `None` without geometry.
    pub fn distance_to_point(&self, i: usize, p: Coord<f64>) -> Option<f64> {
        if self.part_count(i) == 0 {
            return None;
        }
        if self.contains_point(i, p) {
            return Some(0.0);
        }
        let mut best = f64::INFINITY;
        for rings in self.parts(i) {
            for ring in rings {
                if ring.len() == 1 {
                    best = best.min(dist2(ring[0], p));
                }
                for s in ring.windows(2) {
                    best = best.min(segment_dist2(s[0], s[1], p));
                }
            }
        }
        Some(best.sqrt())
    }
}

/// The rings of one part, as coordinate slices.
pub struct Rings<'a> {
    g: &'a FlatGeometry,
    next: usize,
    end: usize,
}

impl<'a> Iterator for Rings<'a> {
    type Item = &'a [Coord<f64>];
    fn next(&mut self) -> Option<Self::Item> {
        if self.next >= self.end {
            return None;
        }
        let (a, b) = (
            self.g.ring_off[self.next] as usize,
            self.g.ring_off[self.next + 1] as usize,
        );
        self.next += 1;
        Some(&self.g.coords[a..b])
    }
}

fn geometry_name(g: &Geometry<f64>) -> &'static str {
    match g {
        Geometry::Point(_) => "Point",
        Geometry::Line(_) => "Line",
        Geometry::LineString(_) => "LineString",
        Geometry::Polygon(_) => "Polygon",
        Geometry::MultiPoint(_) => "MultiPoint",
        Geometry::MultiLineString(_) => "MultiLineString",
        Geometry::MultiPolygon(_) => "MultiPolygon",
        Geometry::GeometryCollection(_) => "GeometryCollection",
        Geometry::Rect(_) => "Rect",
        Geometry::Triangle(_) => "Triangle",
    }
}

/// Even-odd ray cast: does a ray from `p` to +x cross this ring an odd
/// number of times?
fn ring_crossings(ring: &[Coord<f64>], p: Coord<f64>) -> bool {
    let mut inside = false;
    let n = ring.len();
    if n < 3 {
        return false;
    }
    let mut j = n - 1;
    for i in 0..n {
        let (a, b) = (ring[i], ring[j]);
        if (a.y > p.y) != (b.y > p.y) && p.x < (b.x - a.x) * (p.y - a.y) / (b.y - a.y) + a.x {
            inside = !inside;
        }
        j = i;
    }
    inside
}

fn dist2(a: Coord<f64>, b: Coord<f64>) -> f64 {
    (a.x - b.x).powi(2) + (a.y - b.y).powi(2)
}

fn segment_dist2(a: Coord<f64>, b: Coord<f64>, p: Coord<f64>) -> f64 {
    let (dx, dy) = (b.x - a.x, b.y - a.y);
    let len2 = dx * dx + dy * dy;
    if len2 == 0.0 {
        return dist2(a, p);
    }
    let t = (((p.x - a.x) * dx + (p.y - a.y) * dy) / len2).clamp(0.0, 1.0);
    dist2(
        Coord {
            x: a.x + t * dx,
            y: a.y + t * dy,
        },
        p,
    )
}

/// Liang–Barsky: the part of segment a–b inside the rectangle
/// `min`–`max` (edges included), as the parameter range `(t0, t1)` along
/// a→b (0 at a, 1 at b), or `None` when the segment misses it. The one
/// segment clipper: predicates, tile clipping and the WMS renderer use it.
///
/// ```
/// use geo_types::coord;
/// use geoplan::model::clip_segment;
/// let (min, max) = (coord! {x: 0., y: 0.}, coord! {x: 10., y: 10.});
/// assert_eq!(clip_segment(coord! {x: -5., y: 5.}, coord! {x: 5., y: 5.}, min, max), Some((0.5, 1.0)));
/// assert_eq!(clip_segment(coord! {x: -5., y: 11.}, coord! {x: 5., y: 11.}, min, max), None);
/// ```
pub fn clip_segment(
    a: Coord<f64>,
    b: Coord<f64>,
    min: Coord<f64>,
    max: Coord<f64>,
) -> Option<(f64, f64)> {
    let (dx, dy) = (b.x - a.x, b.y - a.y);
    let mut t0 = 0.0f64;
    let mut t1 = 1.0f64;
    for (p, q) in [
        (-dx, a.x - min.x),
        (dx, max.x - a.x),
        (-dy, a.y - min.y),
        (dy, max.y - a.y),
    ] {
        if p == 0.0 {
            if q < 0.0 {
                return None;
            }
        } else {
            let r = q / p;
            if p < 0.0 {
                t0 = t0.max(r);
            } else {
                t1 = t1.min(r);
            }
            if t0 > t1 {
                return None;
            }
        }
    }
    Some((t0, t1))
}

/// Does segment a–b meet the rectangle?
fn segment_intersects_rect(a: Coord<f64>, b: Coord<f64>, min: Coord<f64>, max: Coord<f64>) -> bool {
    clip_segment(a, b, min, max).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo_types::{coord, polygon};

    fn square_with_hole() -> Geometry<f64> {
        Geometry::Polygon(polygon!(
            exterior: [(x: 0., y: 0.), (x: 10., y: 0.), (x: 10., y: 10.), (x: 0., y: 10.), (x: 0., y: 0.)],
            interiors: [[(x: 4., y: 4.), (x: 6., y: 4.), (x: 6., y: 6.), (x: 4., y: 6.), (x: 4., y: 4.)]],
        ))
    }

    #[test]
    fn a_polygon_round_trips_through_the_flat_buffers() {
        let mut g = FlatGeometry::new(GeometryKind::Polygon);
        g.push(Some(&square_with_hole())).unwrap();
        g.push(None).unwrap();
        assert_eq!(g.len(), 2);
        assert_eq!(g.to_geo(0, GeometryType::Polygon), Some(square_with_hole()));
        assert_eq!(g.to_geo(1, GeometryType::Polygon), None);
    }

    #[test]
    fn point_in_polygon_respects_holes() {
        let mut g = FlatGeometry::new(GeometryKind::Polygon);
        g.push(Some(&square_with_hole())).unwrap();
        assert!(g.contains_point(0, coord! {x: 1., y: 1.}));
        assert!(!g.contains_point(0, coord! {x: 5., y: 5.}));
        assert!(!g.contains_point(0, coord! {x: 11., y: 5.}));
    }

    #[test]
    fn rectangle_intersection_sees_edges_and_containment() {
        let mut g = FlatGeometry::new(GeometryKind::Polygon);
        g.push(Some(&square_with_hole())).unwrap();
        // crosses an edge without containing a vertex
        assert!(g.intersects_rect(0, &Rect::new(coord! {x: -1., y: 2.}, coord! {x: 1., y: 3.})));
        // wholly inside
        assert!(g.intersects_rect(0, &Rect::new(coord! {x: 1., y: 1.}, coord! {x: 2., y: 2.})));
        // wholly inside the hole
        assert!(!g.intersects_rect(
            0,
            &Rect::new(coord! {x: 4.5, y: 4.5}, coord! {x: 5.5, y: 5.5})
        ));
        // outside
        assert!(!g.intersects_rect(
            0,
            &Rect::new(coord! {x: 11., y: 11.}, coord! {x: 12., y: 12.})
        ));
    }

    #[test]
    fn a_line_in_a_polygon_layer_is_refused() {
        let mut g = FlatGeometry::new(GeometryKind::Polygon);
        let l = Geometry::LineString(LineString(vec![
            coord! {x: 0., y: 0.},
            coord! {x: 1., y: 1.},
        ]));
        assert!(g.push(Some(&l)).is_err());
    }

    #[test]
    fn distance_is_zero_inside_and_euclidean_outside() {
        let mut g = FlatGeometry::new(GeometryKind::Polygon);
        g.push(Some(&square_with_hole())).unwrap();
        assert_eq!(g.distance_to_point(0, coord! {x: 1., y: 1.}), Some(0.0));
        assert_eq!(g.distance_to_point(0, coord! {x: 13., y: 14.}), Some(5.0));
    }
}
