//! A proposed site as a user draws or uploads it: checked (a polygon, not
//! empty, valid, not too large, in range of its CRS) and brought into the
//! engine's plane. Every problem is a 400 naming it.

use super::PlanningError;
use crate::crs::{self, Crs, WEB_MERCATOR};
use geo::Validation;
use geo_types::{Geometry, LineString, MultiPolygon, Polygon};

/// Most parts of a MultiPolygon site (validity compares parts pairwise).
pub const MAX_PARTS: usize = 100;

fn bad(m: impl Into<String>) -> PlanningError {
    PlanningError::BadRequest(m.into())
}

fn kind(g: &Geometry<f64>) -> &'static str {
    match g {
        Geometry::Point(_) => "Point",
        Geometry::Line(_) | Geometry::LineString(_) => "LineString",
        Geometry::MultiPoint(_) => "MultiPoint",
        Geometry::MultiLineString(_) => "MultiLineString",
        Geometry::GeometryCollection(_) => "GeometryCollection",
        Geometry::Polygon(_) | Geometry::Rect(_) | Geometry::Triangle(_) => "Polygon",
        Geometry::MultiPolygon(_) => "MultiPolygon",
    }
}

/// How large a site may be.
#[derive(Debug, Clone, Copy)]
pub struct SiteLimits {
    /// Most vertices.
    pub max_vertices: usize,
    /// Largest area, hectares (EPSG:5899).
    pub max_area_ha: f64,
}

impl From<&crate::config::PlanningConfig> for SiteLimits {
    fn from(c: &crate::config::PlanningConfig) -> SiteLimits {
        SiteLimits {
            max_vertices: c.max_site_vertices,
            max_area_ha: c.max_site_area_ha,
        }
    }
}

/// Largest projected coordinate of a site, metres: Web Mercator's half
/// world (every projected CRS of Vietnam stays far inside it).
const PROJECTED_LIMIT_M: f64 = 20_037_509.0;

/// Checks a site given in `from` and returns it in Web Mercator.
pub fn site_from(
    g: Geometry<f64>,
    from: Crs,
    limits: SiteLimits,
) -> Result<MultiPolygon<f64>, PlanningError> {
    let max_vertices = limits.max_vertices;
    let mp = match g {
        Geometry::Polygon(p) => MultiPolygon(vec![p]),
        Geometry::MultiPolygon(mp) => mp,
        other => {
            return Err(bad(format!(
                "a site is a Polygon or MultiPolygon, not a {}",
                kind(&other)
            )))
        }
    };
    if mp.0.len() > MAX_PARTS {
        return Err(bad(format!(
            "the site has {} parts, more than the limit of {MAX_PARTS}",
            mp.0.len()
        )));
    }
    if mp.0.is_empty() || mp.0.iter().any(|p| p.exterior().0.len() < 4) {
        return Err(bad(
            "the site polygon is empty (a ring needs at least four positions, the last equal to the first)",
        ));
    }
    let n: usize =
        mp.0.iter()
            .map(|p| p.exterior().0.len() + p.interiors().iter().map(|r| r.0.len()).sum::<usize>())
            .sum();
    if n > max_vertices {
        return Err(bad(format!(
            "the site has {n} vertices, more than the limit of {max_vertices}"
        )));
    }
    let coords = || {
        mp.0.iter()
            .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
            .flat_map(|r| r.0.iter())
    };
    if coords().any(|c| !c.x.is_finite() || !c.y.is_finite()) {
        return Err(bad("site coordinates must be finite numbers"));
    }
    if from.is_geographic() && coords().any(|c| c.x.abs() > 180.0 || c.y.abs() > 90.0) {
        return Err(bad(format!(
            "site coordinates are out of range for {}: longitude, latitude in degrees (did you mean a projected CRS such as EPSG:5899?)",
            from.urn()
        )));
    }
    if !from.is_geographic()
        && coords().any(|c| c.x.abs() > PROJECTED_LIMIT_M || c.y.abs() > PROJECTED_LIMIT_M)
    {
        return Err(bad(format!(
            "site coordinates are out of range for {}: metres beyond ±{:.0} km are no place on Earth",
            from.urn(),
            PROJECTED_LIMIT_M / 1000.0
        )));
    }
    // geo's validity check builds a topology graph that gives up with a
    // panic on some rings it cannot analyse (found by fuzzing): such a
    // site is not valid either, and the request gets a 400, not a 500.
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| mp.check_validation())) {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return Err(bad(format!("the site polygon is not valid: {e}"))),
        Err(_) => {
            return Err(bad(
                "the site polygon is not valid: its rings cross or overlap in a way that cannot be analysed",
            ))
        }
    }
    let to_merc = |r: &LineString<f64>| -> Result<LineString<f64>, PlanningError> {
        let mut c = r.0.clone();
        crs::transform(from, WEB_MERCATOR, &mut c)
            .map_err(|e| bad(format!("the site cannot be read in {}: {e}", from.urn())))?;
        Ok(LineString(c))
    };
    let mut out = Vec::with_capacity(mp.0.len());
    for p in &mp.0 {
        let ints = p
            .interiors()
            .iter()
            .map(to_merc)
            .collect::<Result<Vec<_>, _>>()?;
        out.push(Polygon::new(to_merc(p.exterior())?, ints));
    }
    let merc = MultiPolygon(out);
    let plane = super::overlay::to_plane(&merc)?;
    let ha = super::overlay::plane_area(&plane) / 10_000.0;
    if ha > limits.max_area_ha {
        return Err(bad(format!(
            "the site covers {ha:.0} ha, more than the limit of {:.0} ha for one site",
            limits.max_area_ha
        )));
    }
    // Its extent too: a thin ring around the city has a small area but
    // reaches every feature in the province.
    if let Some(r) = geo::BoundingRect::bounding_rect(&plane) {
        let box_ha = r.width() * r.height() / 10_000.0;
        if box_ha > limits.max_area_ha {
            return Err(bad(format!(
                "the site's extent covers {box_ha:.0} ha, more than the limit of {:.0} ha for one site",
                limits.max_area_ha
            )));
        }
    }
    Ok(merc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo_types::{line_string, point, polygon};

    const LIMITS: SiteLimits = SiteLimits {
        max_vertices: 100,
        max_area_ha: 50.0,
    };

    fn err(g: Geometry<f64>, c: Crs) -> String {
        match site_from(g, c, LIMITS) {
            Err(PlanningError::BadRequest(m)) => m,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn bad_sites_are_refused_naming_the_problem() {
        let bowtie = polygon![(x: 108.20, y: 16.05), (x: 108.21, y: 16.06), (x: 108.21, y: 16.05), (x: 108.20, y: 16.06)];
        assert!(err(bowtie.into(), crs::WGS84).contains("not valid"));
        let line = line_string![(x: 108.2, y: 16.0), (x: 108.3, y: 16.1)];
        assert!(err(line.into(), crs::WGS84).contains("not a LineString"));
        assert!(err(point!(x: 1.0, y: 2.0).into(), crs::WGS84).contains("not a Point"));
        let empty = Polygon::new(LineString(vec![]), vec![]);
        assert!(err(empty.into(), crs::WGS84).contains("empty"));
        // VN-2000 metres sent as degrees.
        let metres = polygon![(x: 550000.0, y: 1760000.0), (x: 550100.0, y: 1760000.0), (x: 550100.0, y: 1760100.0)];
        assert!(err(metres.into(), crs::WGS84).contains("out of range"));
        let many: Vec<(f64, f64)> = (0..200)
            .map(|i| {
                let a = i as f64 / 200.0 * std::f64::consts::TAU;
                (108.2 + 0.01 * a.cos(), 16.0 + 0.01 * a.sin())
            })
            .collect();
        assert!(err(Polygon::new(many.into(), vec![]).into(), crs::WGS84).contains("limit of 100"));
        // 1 km × 1 km is 100 ha, above the 50 ha limit here.
        let big = polygon![(x: 550000.0, y: 1760000.0), (x: 551000.0, y: 1760000.0), (x: 551000.0, y: 1761000.0), (x: 550000.0, y: 1761000.0)];
        assert!(
            err(big.into(), crs::VN2000_TM3_10745).contains("100 ha, more than the limit of 50 ha")
        );
        // A thin L, 10 m wide and 3 km each way: 6 ha, but its extent is 900 ha.
        let thin = polygon![(x: 550000.0, y: 1760000.0), (x: 553000.0, y: 1760000.0), (x: 553000.0, y: 1760010.0), (x: 550010.0, y: 1760010.0), (x: 550010.0, y: 1763000.0), (x: 550000.0, y: 1763000.0)];
        assert!(err(thin.into(), crs::VN2000_TM3_10745).contains("extent covers 900 ha"));
    }

    #[test]
    fn a_fuzzed_site_with_coordinates_beyond_the_earth_is_refused_not_a_panic() {
        // The input cargo fuzz found (geojson_site): rings with 1e308 and
        // 1.8e47 m made geo's validity check panic.
        let ring = |c: &[(f64, f64)]| LineString::from(c.to_vec());
        let p = Polygon::new(
            ring(&[
                (561000.0, 56000.0),
                (561000.0, 40.0),
                (561000.0, 1756041756.0),
            ]),
            vec![
                ring(&[(561000.0, 56000.0), (560999.0, 1e308), (561000.0, 1756.0)]),
                ring(&[
                    (561000.0, 56000.0),
                    (523186.0, 1.756022e47),
                    (561000.0, 1756040.0),
                    (561010.0, 1556001170.0),
                ]),
            ],
        );
        assert!(err(p.into(), Crs::Epsg(5899)).contains("out of range"));
        // The same rings brought inside the Earth are refused as invalid.
        let p = Polygon::new(
            ring(&[(561000.0, 56000.0), (561000.0, 40.0), (561000.0, 1756041.0)]),
            vec![
                ring(&[(561000.0, 56000.0), (560999.0, 1e7), (561000.0, 1756.0)]),
                ring(&[
                    (561000.0, 56000.0),
                    (523186.0, 1.75e7),
                    (561000.0, 1756040.0),
                    (561010.0, 1556001.0),
                ]),
            ],
        );
        assert!(err(p.into(), Crs::Epsg(5899)).contains("not valid"));
    }

    #[test]
    fn a_good_site_reaches_the_engine_plane() {
        let p = polygon![(x: 550000.0, y: 1760000.0), (x: 550100.0, y: 1760000.0), (x: 550100.0, y: 1760100.0), (x: 550000.0, y: 1760100.0)];
        let m = site_from(p.into(), crs::VN2000_TM3_10745, LIMITS).unwrap();
        let a = super::super::overlay::area_m2(&m).unwrap();
        assert!((a - 10_000.0).abs() < 0.01, "{a}");
    }
}
