//! Coordinate reference systems: the EPSG codes geoplan accepts, their names
//! in the three OGC spellings, axis order, exact Web Mercator math, and every
//! other transformation through PROJ's EPSG database.
//!
//! Internally geographic coordinates are always (lon, lat); axis order is a
//! concern of the service that reads or writes a request, via
//! [`Crs::is_lat_lon`]. This module does no other IO than PROJ's database.

use geo_types::Coord;
use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;

/// EPSG:4326, WGS 84 geographic.
pub const WGS84: Crs = Crs::Epsg(4326);
/// EPSG:3857, Web Mercator: the frame the engine keeps geometry in.
pub const WEB_MERCATOR: Crs = Crs::Epsg(3857);
/// EPSG:5899, VN-2000 / TM-3 107°45′: the legal plane of Đà Nẵng and Quảng Nam.
pub const VN2000_TM3_10745: Crs = Crs::Epsg(5899);

/// PROJ `+towgs84` for VN-2000 in the position-vector convention PROJ uses:
/// the published (coordinate-frame, EPSG:6960) rotations with their signs
/// flipped. Use it only where a `.prj`/proj-string must carry the shift;
/// transformations go through EPSG codes.
pub const VN2000_TOWGS84: &str =
    "-191.90441429,-39.30318279,-111.45032835,0.00928836,-0.01975479,0.00427372,0.252906278";

/// Every EPSG code geoplan accepts (CRS:84 besides).
pub const SUPPORTED_EPSG: &[u32] = &[
    4326, 3857, 4756, 5896, 5897, 5898, 5899, 9205, 9206, 9207, 9208, 9209, 9210, 9211, 9212, 9213,
    9214, 9215, 9216, 9217, 9218, 3405, 3406,
];

/// A coordinate reference system geoplan accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Crs {
    /// `CRS:84` / OGC CRS84: WGS 84 with lon/lat axis order.
    Crs84,
    /// An EPSG code from [`SUPPORTED_EPSG`].
    Epsg(u32),
}

/// A CRS was not understood or a transformation failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CrsError {
    /// Not one of the supported CRSs.
    #[error("unsupported CRS '{0}'; supported: CRS:84 and EPSG:{list}", list = supported_list())]
    Unsupported(String),
    /// PROJ refused the transformation or a coordinate.
    #[error("cannot transform from {from} to {to}: {msg}")]
    Transform {
        /// Source.
        from: Crs,
        /// Target.
        to: Crs,
        /// PROJ's message.
        msg: String,
    },
}

fn supported_list() -> String {
    SUPPORTED_EPSG
        .iter()
        .map(|c| c.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

impl Crs {
    /// Parses `EPSG:n`, `urn:ogc:def:crs:EPSG::n`, `urn:x-ogc:def:crs:EPSG:n`,
    /// `http(s)://www.opengis.net/def/crs/EPSG/0/n`, `CRS:84`, the OGC CRS84
    /// URI/URN, or a bare code; only supported codes are accepted.
    pub fn parse(s: &str) -> Result<Crs, CrsError> {
        let t = s.trim();
        let lower = t.to_ascii_lowercase();
        if matches!(
            lower.as_str(),
            "crs:84"
                | "crs84"
                | "ogc:crs84"
                | "urn:ogc:def:crs:ogc:1.3:crs84"
                | "urn:ogc:def:crs:ogc::crs84"
                | "http://www.opengis.net/def/crs/ogc/1.3/crs84"
                | "https://www.opengis.net/def/crs/ogc/1.3/crs84"
        ) {
            return Ok(Crs::Crs84);
        }
        let code = if let Some(rest) = lower.strip_prefix("epsg:") {
            rest
        } else if let Some(rest) = lower
            .strip_prefix("urn:ogc:def:crs:epsg:")
            .or_else(|| lower.strip_prefix("urn:x-ogc:def:crs:epsg:"))
        {
            // "urn:ogc:def:crs:EPSG::4326" or with a version: "EPSG:6.6:4326"
            rest.rsplit(':').next().unwrap_or("")
        } else if let Some(rest) = lower
            .strip_prefix("http://www.opengis.net/def/crs/epsg/")
            .or_else(|| lower.strip_prefix("https://www.opengis.net/def/crs/epsg/"))
        {
            rest.rsplit('/').next().unwrap_or("")
        } else if let Some(rest) = lower.strip_prefix("http://www.opengis.net/gml/srs/epsg.xml#") {
            rest
        } else {
            lower.as_str()
        };
        match code.parse::<u32>() {
            Ok(c) if SUPPORTED_EPSG.contains(&c) => Ok(Crs::Epsg(c)),
            _ => Err(CrsError::Unsupported(t.to_owned())),
        }
    }

    /// The EPSG code (4326 for CRS:84).
    pub fn epsg(self) -> u32 {
        match self {
            Crs::Crs84 => 4326,
            Crs::Epsg(c) => c,
        }
    }

    /// True for geographic CRSs (degrees).
    pub fn is_geographic(self) -> bool {
        matches!(self, Crs::Crs84 | Crs::Epsg(4326) | Crs::Epsg(4756))
    }

    /// Decimals written for coordinates in this CRS, in every output
    /// (GeoJSON, GML, feature info): about 0.1 mm, 9 in degrees, 4 in
    /// metres.
    ///
    /// ```
    /// use geoplan::crs::Crs;
    /// assert_eq!(Crs::Epsg(4326).coord_decimals(), 9);
    /// assert_eq!(Crs::Epsg(5899).coord_decimals(), 4);
    /// ```
    pub fn coord_decimals(self) -> usize {
        if self.is_geographic() {
            9
        } else {
            4
        }
    }

    /// True when the authority's axis order is latitude first (EPSG:4326,
    /// EPSG:4756). Services that follow EPSG axis order swap for these.
    pub fn is_lat_lon(self) -> bool {
        matches!(self, Crs::Epsg(4326) | Crs::Epsg(4756))
    }

    /// The OGC http URI (`http://www.opengis.net/def/crs/EPSG/0/n`).
    pub fn uri(self) -> String {
        match self {
            Crs::Crs84 => "http://www.opengis.net/def/crs/OGC/1.3/CRS84".into(),
            Crs::Epsg(c) => format!("http://www.opengis.net/def/crs/EPSG/0/{c}"),
        }
    }

    /// The OGC URN (`urn:ogc:def:crs:EPSG::n`).
    pub fn urn(self) -> String {
        match self {
            Crs::Crs84 => "urn:ogc:def:crs:OGC:1.3:CRS84".into(),
            Crs::Epsg(c) => format!("urn:ogc:def:crs:EPSG::{c}"),
        }
    }

    fn proj_name(self) -> String {
        match self {
            Crs::Crs84 => "OGC:CRS84".into(),
            Crs::Epsg(c) => format!("EPSG:{c}"),
        }
    }

    /// Same datum and axes as far as internal (lon, lat) coordinates go.
    fn same_frame(self, other: Crs) -> bool {
        self.epsg() == other.epsg()
    }
}

impl fmt::Display for Crs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Crs::Crs84 => f.write_str("CRS:84"),
            Crs::Epsg(c) => write!(f, "EPSG:{c}"),
        }
    }
}

/// Web Mercator radius (WGS 84 semi-major axis), metres.
const R: f64 = 6_378_137.0;
/// Latitude limit of Web Mercator.
const MAX_LAT: f64 = 85.051_128_779_806_59;

/// (lon, lat) degrees → Web Mercator metres (exact spherical formulas).
pub fn lonlat_to_mercator(c: Coord<f64>) -> Coord<f64> {
    let lat = c.y.clamp(-MAX_LAT, MAX_LAT).to_radians();
    Coord {
        x: R * c.x.to_radians(),
        y: R * (std::f64::consts::FRAC_PI_4 + lat / 2.0).tan().ln(),
    }
}

/// Web Mercator metres → (lon, lat) degrees.
pub fn mercator_to_lonlat(c: Coord<f64>) -> Coord<f64> {
    Coord {
        x: (c.x / R).to_degrees(),
        y: (2.0 * (c.y / R).exp().atan() - std::f64::consts::FRAC_PI_2).to_degrees(),
    }
}

thread_local! {
    static PROJ_CACHE: RefCell<HashMap<(Crs, Crs), proj::Proj>> = RefCell::new(HashMap::new());
}

/// Transforms coordinates in place from one CRS to another. Geographic
/// coordinates are (lon, lat). WGS 84 ↔ Web Mercator is computed directly;
/// everything else goes through PROJ (one cached transformation per thread
/// and CRS pair), which picks the official VN-2000 shift (EPSG:6960).
pub fn transform(from: Crs, to: Crs, coords: &mut [Coord<f64>]) -> Result<(), CrsError> {
    if from.same_frame(to) {
        return Ok(());
    }
    match (from.epsg(), to.epsg()) {
        (4326, 3857) => {
            coords.iter_mut().for_each(|c| *c = lonlat_to_mercator(*c));
            return Ok(());
        }
        (3857, 4326) => {
            coords.iter_mut().for_each(|c| *c = mercator_to_lonlat(*c));
            return Ok(());
        }
        _ => {}
    }
    let err = |msg: String| CrsError::Transform { from, to, msg };
    PROJ_CACHE.with(|cache| {
        let mut cache = cache.borrow_mut();
        let p = match cache.entry((from, to)) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => e.insert(
                proj::Proj::new_known_crs(&from.proj_name(), &to.proj_name(), None)
                    .map_err(|e| err(e.to_string()))?,
            ),
        };
        p.convert_array(coords).map_err(|e| err(e.to_string()))?;
        Ok(())
    })?;
    if coords.iter().any(|c| !c.x.is_finite() || !c.y.is_finite()) {
        return Err(err("coordinates outside the CRS's domain".into()));
    }
    Ok(())
}

/// Transforms one coordinate.
pub fn transform_one(from: Crs, to: Crs, c: Coord<f64>) -> Result<Coord<f64>, CrsError> {
    let mut a = [c];
    transform(from, to, &mut a)?;
    Ok(a[0])
}

/// Transforms every coordinate of a geometry in place, one PROJ call per
/// ring or line (not per point).
pub fn transform_geometry(
    from: Crs,
    to: Crs,
    g: &mut geo_types::Geometry<f64>,
) -> Result<(), CrsError> {
    use geo_types::Geometry as G;
    if from.same_frame(to) {
        return Ok(());
    }
    let mut result = Ok(());
    let mut ring = |ls: &mut geo_types::LineString<f64>| {
        if result.is_ok() {
            result = transform(from, to, &mut ls.0);
        }
    };
    match g {
        G::Point(p) => p.0 = transform_one(from, to, p.0)?,
        G::MultiPoint(mp) => {
            let mut cs: Vec<Coord<f64>> = mp.0.iter().map(|p| p.0).collect();
            transform(from, to, &mut cs)?;
            mp.0.iter_mut().zip(cs).for_each(|(p, c)| p.0 = c);
        }
        G::LineString(ls) => ring(ls),
        G::MultiLineString(ml) => ml.0.iter_mut().for_each(&mut ring),
        G::Polygon(p) => {
            p.exterior_mut(&mut ring);
            p.interiors_mut(|rs| rs.iter_mut().for_each(&mut ring));
        }
        G::MultiPolygon(mp) => {
            for p in &mut mp.0 {
                p.exterior_mut(&mut ring);
                p.interiors_mut(|rs| rs.iter_mut().for_each(&mut ring));
            }
        }
        G::Line(l) => {
            let mut cs = [l.start, l.end];
            transform(from, to, &mut cs)?;
            (l.start, l.end) = (cs[0], cs[1]);
        }
        G::Rect(_) | G::Triangle(_) | G::GeometryCollection(_) => {
            return Err(CrsError::Transform {
                from,
                to,
                msg: "rectangles, triangles and collections are not feature geometries".into(),
            })
        }
    }
    result
}

/// Transforms a rectangle (min, max corners) and returns the bounding box of
/// its densified outline in the target CRS, so curved edges are covered.
pub fn transform_bbox(
    from: Crs,
    to: Crs,
    min: Coord<f64>,
    max: Coord<f64>,
) -> Result<(Coord<f64>, Coord<f64>), CrsError> {
    const N: usize = 8;
    let mut pts = Vec::with_capacity(4 * N);
    for i in 0..N {
        let t = i as f64 / N as f64;
        let x = min.x + (max.x - min.x) * t;
        let y = min.y + (max.y - min.y) * t;
        pts.push(Coord { x, y: min.y });
        pts.push(Coord { x, y: max.y });
        pts.push(Coord { x: min.x, y });
        pts.push(Coord { x: max.x, y });
    }
    pts.push(max);
    transform(from, to, &mut pts)?;
    let mut lo = pts[0];
    let mut hi = pts[0];
    for p in &pts {
        lo.x = lo.x.min(p.x);
        lo.y = lo.y.min(p.y);
        hi.x = hi.x.max(p.x);
        hi.y = hi.y.max(p.y);
    }
    Ok((lo, hi))
}

/// An advertised extent: the box widened outward to whole steps of about
/// a centimetre (1e-7° in a geographic CRS, 0.01 in a projected one) and
/// one step more, so that a client which sends the extent back as a bbox
/// — after it went through decimal text and a reprojection — selects
/// every feature, including those on its edges.
///
/// # Examples
///
/// ```
/// use geo_types::Coord;
/// use geoplan::crs::{round_outward, Crs};
/// let (lo, hi) = round_outward(
///     Crs::Crs84,
///     Coord { x: 108.123456789, y: 15.5 },
///     Coord { x: 108.2, y: 15.987654321 },
/// );
/// assert_eq!((lo.x, lo.y), (108.1234566, 15.4999999));
/// assert_eq!((hi.x, hi.y), (108.2000001, 15.9876545));
/// ```
pub fn round_outward(c: Crs, min: Coord<f64>, max: Coord<f64>) -> (Coord<f64>, Coord<f64>) {
    let f = if c.is_geographic() { 1e7 } else { 100.0 };
    let down = |v: f64| ((v * f).floor() - 1.0) / f;
    let up = |v: f64| ((v * f).ceil() + 1.0) / f;
    let (lo, hi) = (
        Coord {
            x: down(min.x),
            y: down(min.y),
        },
        Coord {
            x: up(max.x),
            y: up(max.y),
        },
    );
    if c.is_geographic() {
        (
            Coord {
                x: lo.x.max(-180.0),
                y: lo.y.max(-90.0),
            },
            Coord {
                x: hi.x.min(180.0),
                y: hi.y.min(90.0),
            },
        )
    } else {
        (lo, hi)
    }
}

/// A Web Mercator extent in `to`, rounded outward ([`round_outward`]):
/// the box to advertise for it in that CRS (x, y order; geographic
/// CRSs longitude first).
pub fn advertised_bbox(
    extent_mercator: (Coord<f64>, Coord<f64>),
    to: Crs,
) -> Result<(Coord<f64>, Coord<f64>), CrsError> {
    let (lo, hi) = if to.same_frame(Crs::Crs84) {
        (
            mercator_to_lonlat(extent_mercator.0),
            mercator_to_lonlat(extent_mercator.1),
        )
    } else {
        transform_bbox(WEB_MERCATOR, to, extent_mercator.0, extent_mercator.1)?
    };
    Ok(round_outward(to, lo, hi))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: Coord<f64>, b: Coord<f64>, tol: f64) -> bool {
        (a.x - b.x).abs() <= tol && (a.y - b.y).abs() <= tol
    }

    /// The check point of domain-vn.md: WGS 84 108.3267 E, 15.8770 N ↔
    /// E 561 563.927, N 1 756 054.600 in EPSG:5899.
    const CHECK_LL: Coord<f64> = Coord {
        x: 108.3267,
        y: 15.8770,
    };
    const CHECK_EN: Coord<f64> = Coord {
        x: 561_563.927,
        y: 1_756_054.600,
    };

    #[test]
    fn the_vn2000_check_point_holds_to_a_centimetre_both_ways() {
        let en = transform_one(WGS84, VN2000_TM3_10745, CHECK_LL).unwrap();
        assert!(close(en, CHECK_EN, 0.01), "forward gave {en:?}");
        let ll = transform_one(VN2000_TM3_10745, WGS84, CHECK_EN).unwrap();
        // 1 cm is ~9e-8 degrees here.
        assert!(close(ll, CHECK_LL, 9e-8), "inverse gave {ll:?}");
    }

    fn tm3_with_towgs84(towgs84: &str) -> Coord<f64> {
        let def = format!(
            "+proj=pipeline +step +proj=unitconvert +xy_in=deg +xy_out=rad \
             +step +proj=push +v_3 +step +proj=cart +ellps=WGS84 \
             +step +inv +proj=helmert +x={} +y={} +z={} +rx={} +ry={} +rz={} +s={} +convention=position_vector \
             +step +inv +proj=cart +ellps=WGS84 +step +proj=pop +v_3 \
             +step +proj=tmerc +lat_0=0 +lon_0=107.75 +k=0.9999 +x_0=500000 +y_0=0 +ellps=WGS84",
            towgs84.split(',').next().unwrap(),
            towgs84.split(',').nth(1).unwrap(),
            towgs84.split(',').nth(2).unwrap(),
            towgs84.split(',').nth(3).unwrap(),
            towgs84.split(',').nth(4).unwrap(),
            towgs84.split(',').nth(5).unwrap(),
            towgs84.split(',').nth(6).unwrap(),
        );
        let p = proj::Proj::new(&def).unwrap();
        let (x, y) = p.convert((CHECK_LL.x, CHECK_LL.y)).unwrap();
        Coord { x, y }
    }

    #[test]
    fn the_towgs84_constant_has_the_position_vector_signs() {
        // Our constant reproduces the EPSG transformation...
        let ours = tm3_with_towgs84(VN2000_TOWGS84);
        assert!(close(ours, CHECK_EN, 0.01), "ours gave {ours:?}");
        // ...while the published (coordinate-frame) signs, a common copy
        // error, land tens of centimetres away: the trap this guards.
        let trap = tm3_with_towgs84(
            "-191.90441429,-39.30318279,-111.45032835,-0.00928836,0.01975479,-0.00427372,0.252906278",
        );
        let off = ((trap.x - CHECK_EN.x).powi(2) + (trap.y - CHECK_EN.y).powi(2)).sqrt();
        assert!(off > 0.3, "published signs were only {off} m off");
    }

    #[test]
    fn web_mercator_round_trips_and_matches_proj() {
        let m = transform_one(WGS84, WEB_MERCATOR, CHECK_LL).unwrap();
        let back = transform_one(WEB_MERCATOR, WGS84, m).unwrap();
        assert!(close(back, CHECK_LL, 1e-12));
        let p = proj::Proj::new_known_crs("EPSG:4326", "EPSG:3857", None).unwrap();
        let (x, y) = p.convert((CHECK_LL.x, CHECK_LL.y)).unwrap();
        assert!(close(m, Coord { x, y }, 1e-6));
    }

    #[test]
    fn all_three_ogc_spellings_parse_and_unknown_codes_are_refused() {
        for s in [
            "EPSG:5899",
            "urn:ogc:def:crs:EPSG::5899",
            "http://www.opengis.net/def/crs/EPSG/0/5899",
            "5899",
        ] {
            assert_eq!(Crs::parse(s).unwrap(), Crs::Epsg(5899), "{s}");
        }
        assert_eq!(Crs::parse("CRS:84").unwrap(), Crs::Crs84);
        assert_eq!(
            Crs::parse("http://www.opengis.net/def/crs/OGC/1.3/CRS84").unwrap(),
            Crs::Crs84
        );
        assert!(Crs::parse("EPSG:2154").is_err());
        assert!(Crs::parse("EPSG:").is_err());
    }

    #[test]
    fn every_supported_code_transforms_to_web_mercator() {
        for &c in SUPPORTED_EPSG {
            let crs = Crs::Epsg(c);
            let mut p = [CHECK_LL];
            transform(WGS84, crs, &mut p).unwrap();
            transform(crs, WEB_MERCATOR, &mut p).unwrap();
            let m = lonlat_to_mercator(CHECK_LL);
            assert!(close(p[0], m, 0.05), "EPSG:{c} gave {:?}", p[0]);
        }
    }
}
