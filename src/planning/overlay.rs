//! Measuring in the legal plane: areas and overlaps of polygons in EPSG:5899
//! (VN-2000 / TM-3 107°45′), never in Web Mercator, where areas at 16° N
//! come out 8 % too large.
//!
//! The engine keeps geometry in Web Mercator, transformed once from the
//! store's EPSG:5899 with PROJ, vertex by vertex; taking a vertex back is
//! exact to well under a millimetre. An overlap is found in the engine's
//! plane (where both polygons already are, so a large commune or plan is
//! never transformed whole), and only the overlap's vertices are taken back
//! to EPSG:5899, where it is measured. The two planes draw a straight edge
//! between the same two vertices a little differently: under 1 cm for a
//! 1 km edge at 16° N, far below the sliver tolerance.
//!
//! A sliver is an overlap piece thinner than the tolerance (default
//! 0.5 m): a piece of area A and perimeter P has mean width 2A/P, which for
//! a long strip is its width. Slivers are not overlaps (two lots digitised
//! a few decimetres apart do not overlap).

use super::PlanningError;
use crate::crs::{self, VN2000_TM3_10745, WEB_MERCATOR};
use geo::{Area, BooleanOps, Euclidean, Length};
use geo_types::{Geometry, LineString, MultiPolygon, Polygon};

/// The polygons of a geometry (empty for points and lines).
pub fn polygons(g: &Geometry<f64>) -> MultiPolygon<f64> {
    match g {
        Geometry::Polygon(p) => MultiPolygon(vec![p.clone()]),
        Geometry::MultiPolygon(mp) => mp.clone(),
        Geometry::Rect(r) => MultiPolygon(vec![r.to_polygon()]),
        Geometry::GeometryCollection(gc) => {
            MultiPolygon(gc.iter().flat_map(|g| polygons(g).0).collect())
        }
        _ => MultiPolygon(vec![]),
    }
}

fn ring_to_plane(ls: &mut LineString<f64>) -> Result<(), PlanningError> {
    crs::transform(WEB_MERCATOR, VN2000_TM3_10745, &mut ls.0)
        .map_err(|e| PlanningError::BadRequest(format!("geometry outside EPSG:5899: {e}")))
}

/// `mp` (Web Mercator) in EPSG:5899.
pub fn to_plane(mp: &MultiPolygon<f64>) -> Result<MultiPolygon<f64>, PlanningError> {
    let mut out = Vec::with_capacity(mp.0.len());
    for p in &mp.0 {
        let (mut ext, mut ints) = p.clone().into_inner();
        ring_to_plane(&mut ext)?;
        for r in &mut ints {
            ring_to_plane(r)?;
        }
        out.push(Polygon::new(ext, ints));
    }
    Ok(MultiPolygon(out))
}

/// Area in m² of a polygon already in EPSG:5899.
pub fn plane_area(mp: &MultiPolygon<f64>) -> f64 {
    mp.unsigned_area()
}

/// Area in m² (EPSG:5899) of `mp` given in Web Mercator.
pub fn area_m2(mp: &MultiPolygon<f64>) -> Result<f64, PlanningError> {
    Ok(plane_area(&to_plane(mp)?))
}

/// Mean width 2A/P of a polygon in EPSG:5899, metres.
fn mean_width(p: &Polygon<f64>) -> f64 {
    let perimeter: f64 = std::iter::once(p.exterior())
        .chain(p.interiors())
        .map(|r| Euclidean.length(r))
        .sum();
    if perimeter > 0.0 {
        2.0 * p.unsigned_area() / perimeter
    } else {
        0.0
    }
}

/// The overlap of `a` and `b` (both Web Mercator), measured in EPSG:5899:
/// its area in m², pieces thinner than `tolerance_m` left out. Zero when
/// they only touch or overlap by slivers.
pub fn overlap_m2(
    a: &MultiPolygon<f64>,
    b: &MultiPolygon<f64>,
    tolerance_m: f64,
) -> Result<f64, PlanningError> {
    if a.0.is_empty() || b.0.is_empty() {
        return Ok(0.0);
    }
    Ok(area_without_slivers(
        &to_plane(&a.intersection(b))?,
        tolerance_m,
    ))
}

/// Area in m² of the pieces of `mp` (EPSG:5899) at least `tolerance_m`
/// wide (mean width 2A/P): what remains of an overlay once slivers go.
pub fn area_without_slivers(mp: &MultiPolygon<f64>, tolerance_m: f64) -> f64 {
    mp.0.iter()
        .filter(|p| mean_width(p) >= tolerance_m)
        .map(|p| p.unsigned_area())
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo_types::{polygon, Coord};

    /// A rectangle given in EPSG:5899, returned in Web Mercator.
    fn rect_5899(x: f64, y: f64, w: f64, h: f64) -> MultiPolygon<f64> {
        let mut ring: Vec<Coord<f64>> = vec![
            Coord { x, y },
            Coord { x: x + w, y },
            Coord { x: x + w, y: y + h },
            Coord { x, y: y + h },
            Coord { x, y },
        ];
        crs::transform(VN2000_TM3_10745, WEB_MERCATOR, &mut ring).unwrap();
        MultiPolygon(vec![Polygon::new(LineString(ring), vec![])])
    }

    #[test]
    fn areas_are_legal_plane_areas_not_web_mercator_ones() {
        let lot = rect_5899(550_000.0, 1_760_000.0, 100.0, 50.0);
        let a = area_m2(&lot).unwrap();
        assert!((a - 5000.0).abs() < 0.01, "{a}");
        // The same polygon measured in Web Mercator is ~8 % larger.
        let merc = lot.unsigned_area();
        assert!(merc / a > 1.07 && merc / a < 1.10, "{merc} vs {a}");
    }

    #[test]
    fn overlaps_are_measured_and_slivers_dropped() {
        let lot = rect_5899(550_000.0, 1_760_000.0, 100.0, 50.0);
        let half = rect_5899(550_050.0, 1_760_000.0, 100.0, 50.0);
        let o = overlap_m2(&lot, &half, 0.5).unwrap();
        assert!((o - 2500.0).abs() < 0.01, "{o}");
        // Digitised 0.3 m into the lot: a sliver, not an overlap...
        let sliver = rect_5899(550_099.7, 1_760_000.0, 100.0, 50.0);
        assert_eq!(overlap_m2(&lot, &sliver, 0.5).unwrap(), 0.0);
        // ...unless the tolerance is smaller than its width.
        let o = overlap_m2(&lot, &sliver, 0.1).unwrap();
        assert!((o - 15.0).abs() < 0.01, "{o}");
        // Touching only: no overlap.
        let next = rect_5899(550_100.0, 1_760_000.0, 10.0, 10.0);
        assert_eq!(overlap_m2(&lot, &next, 0.5).unwrap(), 0.0);
    }

    #[test]
    fn non_polygons_have_no_polygons() {
        assert!(
            polygons(&Geometry::Point(geo_types::point!(x: 1.0, y: 2.0)))
                .0
                .is_empty()
        );
        let p = polygon![(x: 0.0, y: 0.0), (x: 1.0, y: 0.0), (x: 1.0, y: 1.0)];
        assert_eq!(polygons(&Geometry::Polygon(p)).0.len(), 1);
    }
}
