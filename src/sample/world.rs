//! The fixed geography every layer is generated from: the real province
//! outlines and coast (Natural Earth), district sites (shared CSV), and the
//! synthetic but plausible rest: commune extents (the real communes and
//! 2025 units of the shared tables, placed as Voronoi cells inside their
//! district), the synthesised lineage of the 2025 units, rivers, roads,
//! zones, urban street grids, terrain classes. All in EPSG:5899 metres.

use super::geom::{c, dist, hash, polygon, rect_ring, stream, wiggle, LineIndex, PolyIndex, C};
use super::names::{hamlet_name, CommuneKind, AVENUES, STREETS};
use super::SampleError;
use crate::crs::{transform, VN2000_TM3_10745, WGS84};
use geo::{Area, BooleanOps, BoundingRect};
use geo_types::{LineString, MultiLineString, MultiPolygon, Polygon, Rect};
use rand::seq::SliceRandom;
use rand::Rng;

/// Natural Earth outlines of Quảng Nam and Đà Nẵng and their coast
/// (WGS 84), extracted by `data/sources/extract_provinces.mjs`.
pub(crate) const PROVINCES_GEOJSON: &str = include_str!("../../data/sources/provinces_ne.geojson");
/// District-level units before 2025 with approximate centroids and seats.
pub(crate) const UNITS_CSV: &str = include_str!("../../data/sources/qn_dn_units_pre2025.csv");
/// The 297 commune-level units before 1 July 2025, real GSO codes and names.
pub(crate) const COMMUNES_CSV: &str = include_str!("../../data/sources/communes_pre2025.csv");
/// The 94 commune-level units of Thành phố Đà Nẵng from 1 July 2025, real
/// GSO codes and names, and the predecessor whose code each one reuses.
pub(crate) const UNITS_2025_CSV: &str = include_str!("../../data/sources/units_2025.csv");
/// Economic and industrial zones, airports, ports, heritage sites.
pub(crate) const ZONES_CSV: &str = include_str!("../../data/sources/zones_approx.csv");

/// Index of Quảng Nam in [`World::provinces`].
pub(crate) const QN: usize = 0;
/// Index of Đà Nẵng in [`World::provinces`].
pub(crate) const DN: usize = 1;

/// Size of a rural cadastral map sheet (1:2000), metres.
pub(crate) const CELL: f64 = 1000.0;
/// Size of an urban cadastral map sheet (1:1000), metres.
pub(crate) const FINE: f64 = 500.0;

/// A province outline as Natural Earth draws it.
pub(crate) struct Province {
    /// Code ("49", "48").
    pub code: &'static str,
    /// Name with diacritics.
    pub name: &'static str,
    /// Outline in EPSG:5899.
    pub shape: MultiPolygon<f64>,
    /// Point-in-polygon index of `shape`.
    pub index: PolyIndex,
}

/// A district-level unit before 2025.
pub(crate) struct District {
    /// GSO code.
    pub code: String,
    /// Name ("Hội An").
    pub name: String,
    /// Unit type in Vietnamese ("thành phố", "huyện"...).
    pub unit_type: String,
    /// Province index ([`QN`] or [`DN`]).
    pub province: usize,
    /// Voronoi site: the approximate centroid of the CSV.
    pub site: C,
    /// Seat (administrative centre), the centroid when the CSV has none.
    pub seat: C,
    /// Communes, indexes into [`World::communes`].
    pub communes: Vec<usize>,
}

/// A commune-level unit before 2025: real GSO code and name
/// (`communes_pre2025.csv`), synthetic extent.
pub(crate) struct Commune {
    /// GSO code, 5 digits ("20398").
    pub code: String,
    /// Full name with prefix ("Phường Minh An").
    pub name: String,
    /// Name without its prefix ("Minh An").
    pub short: String,
    /// Ward, town or rural commune.
    pub kind: CommuneKind,
    /// Index into [`World::districts`].
    pub district: usize,
    /// Voronoi seed inside its district.
    pub seed: C,
    /// Hamlet (or block) names used in addresses.
    pub hamlets: Vec<String>,
    /// 500 m sample points of the land the commune covers.
    pub points: Vec<C>,
}

/// How an old commune came into its 2025 unit (synthesised, see
/// `data/README.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Relation {
    /// The 2025 unit reuses this commune's code.
    SameCode,
    /// Merged into the 2025 unit whose code-giving predecessor lies nearest.
    Merged,
}

impl Relation {
    /// The `relation` value of `admin_lineage`.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Relation::SameCode => "same_code",
            Relation::Merged => "merged",
        }
    }
}

/// A commune-level unit of Thành phố Đà Nẵng from 1 July 2025: real GSO
/// code and name (`units_2025.csv`), extent the union of its old communes.
pub(crate) struct Unit2025 {
    /// GSO code, 5 digits ("20410").
    pub code: String,
    /// Full name with prefix ("Phường Hội An").
    pub name: String,
    /// Unit type ("phường", "xã", "đặc khu").
    pub unit_type: String,
    /// The old commune whose code it reuses (none for Đặc khu Hoàng Sa,
    /// whose islands had no commune-level units).
    pub predecessor: Option<usize>,
    /// Its old communes, indexes into [`World::communes`], in index order.
    pub members: Vec<usize>,
}

/// A river, canal or lake shore.
pub(crate) struct Waterway {
    /// Name ("Sông Thu Bồn").
    pub name: &'static str,
    /// Kind ("sông", "kênh", "hồ").
    pub kind: &'static str,
    /// Centre line (closed for lakes).
    pub line: Vec<C>,
    /// Half the width of the water surface, metres.
    pub half_width: f64,
}

/// A road outside the urban street grids.
pub(crate) struct Road {
    /// Name.
    pub name: String,
    /// Class in Vietnamese ("quốc lộ"...).
    pub class: &'static str,
    /// Route number, when it has one.
    pub reference: Option<String>,
    /// Width, metres.
    pub width: f64,
    /// Centre line.
    pub line: Vec<C>,
}

/// An industrial or economic zone.
pub(crate) struct Zone {
    /// Name.
    pub name: String,
    /// Kind in Vietnamese.
    pub kind: &'static str,
    /// Note.
    pub note: String,
    /// Outline.
    pub shape: Polygon<f64>,
    /// Point-in-polygon index of `shape`.
    pub index: PolyIndex,
    /// True for industrial zones and parks (no housing inside); false for
    /// the large economic zones that contain towns and farmland.
    pub closed: bool,
}

/// A point of interest.
pub(crate) struct Poi {
    /// Name.
    pub name: String,
    /// Kind in Vietnamese.
    pub kind: &'static str,
    /// Position.
    pub at: C,
}

/// A street grid of an urban area: blocks of two back-to-back rows of
/// narrow lots, columns along the local u axis, rows along v.
pub(crate) struct UrbanGrid {
    k: i64,
    /// Start of block column i (index i + k), its length and the street
    /// width before it.
    u_start: Vec<f64>,
    u_len: Vec<f64>,
    u_gap: Vec<f64>,
    /// Start of block row j, its lot depth (the block is two depths
    /// tall) and the street width below it.
    v_start: Vec<f64>,
    v_depth: Vec<f64>,
    v_gap: Vec<f64>,
}

/// Every `AVENUE_U`-th street between block columns is an avenue.
pub(crate) const AVENUE_U: i64 = 5;
/// Every `AVENUE_V`-th street between block rows is an avenue.
pub(crate) const AVENUE_V: i64 = 4;

impl UrbanGrid {
    fn new(rng: &mut impl Rng, radius: f64) -> UrbanGrid {
        let ku = (radius * 1.5 / 99.0).ceil() as i64 + 2;
        let kv = (radius * 1.5 / 50.0).ceil() as i64 + 2;
        let k = ku.max(kv);
        let n = (2 * k + 1) as usize;
        let mut g = UrbanGrid {
            k,
            u_start: vec![0.0; n],
            u_len: vec![0.0; n],
            u_gap: vec![0.0; n],
            v_start: vec![0.0; n],
            v_depth: vec![0.0; n],
            v_gap: vec![0.0; n],
        };
        for i in -k..=k {
            let x = (i + k) as usize;
            g.u_len[x] = rng.gen_range(90.0..170.0);
            g.u_gap[x] = if i.rem_euclid(AVENUE_U) == 0 {
                rng.gen_range(22.0..30.0)
            } else {
                rng.gen_range(9.0..13.0)
            };
            g.v_depth[x] = rng.gen_range(20.0..30.0);
            g.v_gap[x] = if i.rem_euclid(AVENUE_V) == 0 {
                rng.gen_range(24.0..32.0)
            } else {
                rng.gen_range(10.0..14.0)
            };
        }
        let (ks, kk) = (k as usize, k as usize);
        g.u_start[ks] = -g.u_len[ks] / 2.0;
        g.v_start[kk] = -g.v_depth[kk];
        for x in ks + 1..n {
            g.u_start[x] = g.u_start[x - 1] + g.u_len[x - 1] + g.u_gap[x];
            g.v_start[x] = g.v_start[x - 1] + 2.0 * g.v_depth[x - 1] + g.v_gap[x];
        }
        for x in (0..ks).rev() {
            g.u_start[x] = g.u_start[x + 1] - g.u_gap[x + 1] - g.u_len[x];
            g.v_start[x] = g.v_start[x + 1] - g.v_gap[x + 1] - 2.0 * g.v_depth[x];
        }
        g
    }

    fn ix(&self, i: i64) -> Option<usize> {
        (-self.k..=self.k)
            .contains(&i)
            .then(|| (i + self.k) as usize)
    }

    /// Block column i: (start, length, street width before it).
    pub(crate) fn col(&self, i: i64) -> Option<(f64, f64, f64)> {
        self.ix(i)
            .map(|x| (self.u_start[x], self.u_len[x], self.u_gap[x]))
    }

    /// Block row j: (start, lot depth, street width below it).
    pub(crate) fn row(&self, j: i64) -> Option<(f64, f64, f64)> {
        self.ix(j)
            .map(|x| (self.v_start[x], self.v_depth[x], self.v_gap[x]))
    }

    /// Block columns overlapping [a, b].
    pub(crate) fn cols_over(&self, a: f64, b: f64) -> std::ops::RangeInclusive<i64> {
        let lo = self.u_start.partition_point(|&s| s < a) as i64 - 1 - self.k;
        let hi = self.u_start.partition_point(|&s| s <= b) as i64 - 1 - self.k;
        lo.max(-self.k)..=hi.min(self.k)
    }

    /// Block rows overlapping [a, b].
    pub(crate) fn rows_over(&self, a: f64, b: f64) -> std::ops::RangeInclusive<i64> {
        let lo = self.v_start.partition_point(|&s| s < a) as i64 - 1 - self.k;
        let hi = self.v_start.partition_point(|&s| s <= b) as i64 - 1 - self.k;
        lo.max(-self.k)..=hi.min(self.k)
    }
}

/// Orientation of an urban street line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Dir {
    /// Along u, below block row j.
    H,
    /// Along v, before block column i.
    V,
}

/// An urban area: a street grid around a seat.
pub(crate) struct UrbanArea {
    /// Short key used in codes ("HA").
    pub key: &'static str,
    /// Name used in plan names.
    pub name: &'static str,
    /// Centre.
    pub center: C,
    /// Grid rotation, radians.
    pub angle: f64,
    /// Share of the urban parcels.
    pub weight: f64,
    /// Radius of the cells it may use, metres.
    pub radius: f64,
    /// Half size of the 1/2000 zoning plan along u and v, metres.
    pub zoning: (f64, f64),
    /// Max floors of housing (the Hội An old town is low-rise).
    pub max_floors: i64,
    /// The street grid.
    pub grid: UrbanGrid,
    avenue_names: Vec<&'static str>,
    street_names: Vec<&'static str>,
}

impl UrbanArea {
    /// Local (u, v) → plane.
    pub(crate) fn to_world(&self, u: f64, v: f64) -> C {
        let (s, co) = self.angle.sin_cos();
        c(
            self.center.x + u * co - v * s,
            self.center.y + u * s + v * co,
        )
    }

    /// Plane → local (u, v).
    pub(crate) fn to_local(&self, p: C) -> (f64, f64) {
        let (s, co) = self.angle.sin_cos();
        let (dx, dy) = (p.x - self.center.x, p.y - self.center.y);
        (dx * co + dy * s, -dx * s + dy * co)
    }

    /// The name of street line `n` (H: below block row n; V: before block
    /// column n): avenues and the central streets get personal names, the
    /// outer ones numbers, as new urban areas do.
    pub(crate) fn street_name(&self, dir: Dir, n: i64) -> String {
        let rank = |m: i64| if m > 0 { 2 * m - 1 } else { -2 * m } as usize;
        let (period, side) = match dir {
            Dir::H => (AVENUE_V, 0),
            Dir::V => (AVENUE_U, 1),
        };
        let name = if n.rem_euclid(period) == 0 {
            self.avenue_names.get(2 * rank(n / period) + side)
        } else {
            self.street_names.get(2 * rank(n) + side)
        };
        match name {
            Some(s) => (*s).to_owned(),
            None => format!("Đường số {}", 2 * rank(n) + side + 1),
        }
    }

    /// Street width of line `n`.
    pub(crate) fn street_width(&self, dir: Dir, n: i64) -> f64 {
        match dir {
            Dir::H => self.grid.row(n).map_or(12.0, |r| r.2),
            Dir::V => self.grid.col(n).map_or(12.0, |r| r.2),
        }
    }
}

/// Terrain class of a 1 km cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Terrain {
    /// Sea or outside the two provinces.
    Outside,
    /// Street grid of urban area n.
    Urban(u8),
    /// Coastal plain and the lower valleys.
    Lowland,
    /// Small valleys around mountain district towns.
    Valley,
    /// Hills and mountains.
    Hill,
}

/// The 1 km cell grid over the land.
pub(crate) struct Cells {
    /// South-west corner.
    pub origin: C,
    /// Columns.
    pub nx: usize,
    /// Rows.
    pub ny: usize,
    /// Terrain per cell, row-major from the south.
    pub terrain: Vec<Terrain>,
    /// Hilliness 0..1 per cell.
    pub hill: Vec<f32>,
}

impl Cells {
    /// Cell indexes of a point (may be out of range).
    pub(crate) fn cell_of(&self, p: C) -> (i64, i64) {
        (
            ((p.x - self.origin.x) / CELL).floor() as i64,
            ((p.y - self.origin.y) / CELL).floor() as i64,
        )
    }

    /// Terrain at cell (x, y); Outside when out of range.
    pub(crate) fn terrain_at(&self, x: i64, y: i64) -> Terrain {
        if x < 0 || y < 0 || x >= self.nx as i64 || y >= self.ny as i64 {
            return Terrain::Outside;
        }
        self.terrain[y as usize * self.nx + x as usize]
    }

    /// Hilliness at cell (x, y).
    pub(crate) fn hill_at(&self, x: i64, y: i64) -> f64 {
        if x < 0 || y < 0 || x >= self.nx as i64 || y >= self.ny as i64 {
            return 1.0;
        }
        self.hill[y as usize * self.nx + x as usize] as f64
    }

    /// South-west corner of cell (x, y).
    pub(crate) fn corner(&self, x: i64, y: i64) -> C {
        c(
            self.origin.x + x as f64 * CELL,
            self.origin.y + y as f64 * CELL,
        )
    }
}

/// Everything the layers are generated from.
pub(crate) struct World {
    /// The generator seed.
    pub seed: u64,
    /// Quảng Nam and Đà Nẵng.
    pub provinces: Vec<Province>,
    /// Their union (Thành phố Đà Nẵng since 2025).
    pub land: MultiPolygon<f64>,
    /// Sea coast lines.
    pub coast: Vec<Vec<C>>,
    /// District-level units (CSV order).
    pub districts: Vec<District>,
    /// Commune-level units before 2025.
    pub communes: Vec<Commune>,
    /// Commune-level units from 1 July 2025 (CSV order).
    pub units_2025: Vec<Unit2025>,
    /// Per old commune: its 2025 unit (index into `units_2025`) and how it
    /// came into it.
    pub lineage: Vec<(usize, Relation)>,
    /// Rivers, canals and lakes.
    pub water: Vec<Waterway>,
    /// Roads outside the urban grids.
    pub roads: Vec<Road>,
    /// Industrial and economic zones.
    pub zones: Vec<Zone>,
    /// Points of interest.
    pub pois: Vec<Poi>,
    /// Urban areas.
    pub urban: Vec<UrbanArea>,
    /// Terrain cells.
    pub cells: Cells,
    /// Road and river surfaces (with their widths): no parcel there.
    pub corridors: LineIndex,
    /// Rivers, canals, lakes and coast, for "within 1 km of water".
    pub near_water: LineIndex,
    /// Coast only, for the sandy coastal strip.
    pub near_coast: LineIndex,
    /// Rural roads, for villages along roads.
    pub near_road: LineIndex,
    /// Areas without cadastral parcels: airports, closed zones, lakes,
    /// forest reserves.
    pub no_parcels: Vec<PolyIndex>,
}

fn src_err(msg: impl Into<String>) -> SampleError {
    SampleError::Source(msg.into())
}

/// Projects WGS 84 lon/lat coordinates to EPSG:5899 in place.
pub(crate) fn project(pts: &mut [C]) -> Result<(), SampleError> {
    transform(WGS84, VN2000_TM3_10745, pts)?;
    Ok(())
}

/// Projects one WGS 84 lon/lat point.
pub(crate) fn ll(lon: f64, lat: f64) -> Result<C, SampleError> {
    let mut p = [c(lon, lat)];
    project(&mut p)?;
    Ok(p[0])
}

/// Projects a WGS 84 polyline.
fn ll_line(pts: &[(f64, f64)]) -> Result<Vec<C>, SampleError> {
    let mut v: Vec<C> = pts.iter().map(|&(x, y)| c(x, y)).collect();
    project(&mut v)?;
    Ok(v)
}

/// Rivers: name, kind, half width (m), wiggle amplitude (m), WGS 84
/// waypoints (approximate, upstream first).
#[allow(clippy::type_complexity)]
const RIVERS: &[(&str, &str, f64, f64, &[(f64, f64)])] = &[
    (
        "Sông Thu Bồn",
        "sông",
        110.0,
        350.0,
        &[
            (107.90, 15.64),
            (107.96, 15.67),
            (108.02, 15.70),
            (108.07, 15.755),
            (108.12, 15.79),
            (108.16, 15.82),
            (108.21, 15.835),
            (108.26, 15.85),
            (108.30, 15.866),
            (108.33, 15.873),
            (108.36, 15.872),
            (108.385, 15.872),
        ],
    ),
    (
        "Sông Vu Gia",
        "sông",
        90.0,
        300.0,
        &[
            (107.84, 15.75),
            (107.90, 15.785),
            (107.96, 15.82),
            (108.03, 15.855),
            (108.09, 15.87),
            (108.13, 15.885),
            (108.17, 15.875),
            (108.21, 15.868),
            (108.26, 15.85),
        ],
    ),
    (
        "Sông Yên",
        "sông",
        45.0,
        150.0,
        &[
            (108.13, 15.885),
            (108.15, 15.93),
            (108.17, 15.965),
            (108.185, 15.99),
        ],
    ),
    (
        "Sông Cẩm Lệ",
        "sông",
        70.0,
        80.0,
        &[(108.185, 15.99), (108.20, 16.004), (108.214, 16.011)],
    ),
    (
        "Sông Hàn",
        "sông",
        160.0,
        60.0,
        &[
            (108.214, 16.011),
            (108.232, 16.022),
            (108.241, 16.035),
            (108.243, 16.055),
            (108.236, 16.075),
            (108.229, 16.092),
        ],
    ),
    (
        "Sông Túy Loan",
        "sông",
        35.0,
        200.0,
        &[
            (108.03, 15.975),
            (108.08, 15.985),
            (108.13, 15.993),
            (108.185, 15.99),
        ],
    ),
    (
        "Sông Cu Đê",
        "sông",
        45.0,
        200.0,
        &[
            (107.98, 16.12),
            (108.05, 16.13),
            (108.10, 16.125),
            (108.142, 16.13),
        ],
    ),
    (
        "Sông Vĩnh Điện",
        "sông",
        50.0,
        150.0,
        &[
            (108.262, 15.852),
            (108.255, 15.88),
            (108.248, 15.91),
            (108.24, 15.945),
            (108.232, 15.975),
            (108.222, 16.0),
            (108.214, 16.011),
        ],
    ),
    (
        "Sông Cổ Cò",
        "sông",
        25.0,
        120.0,
        &[
            (108.348, 15.876),
            (108.338, 15.90),
            (108.318, 15.93),
            (108.296, 15.955),
            (108.276, 15.985),
            (108.26, 16.005),
            (108.245, 16.02),
        ],
    ),
    (
        "Sông Trường Giang",
        "sông",
        60.0,
        150.0,
        &[
            (108.388, 15.872),
            (108.398, 15.83),
            (108.405, 15.80),
            (108.43, 15.75),
            (108.475, 15.69),
            (108.52, 15.63),
            (108.565, 15.57),
            (108.60, 15.52),
            (108.626, 15.49),
        ],
    ),
    (
        "Sông Tam Kỳ",
        "sông",
        60.0,
        200.0,
        &[
            (108.40, 15.535),
            (108.44, 15.56),
            (108.475, 15.566),
            (108.52, 15.56),
            (108.57, 15.53),
            (108.626, 15.49),
        ],
    ),
    (
        "Sông Ly Ly",
        "sông",
        25.0,
        200.0,
        &[
            (108.30, 15.66),
            (108.34, 15.69),
            (108.38, 15.71),
            (108.42, 15.735),
            (108.445, 15.74),
        ],
    ),
    (
        "Sông Tranh",
        "sông",
        60.0,
        400.0,
        &[
            (108.18, 15.22),
            (108.17, 15.32),
            (108.13, 15.42),
            (108.10, 15.50),
            (108.06, 15.58),
            (108.03, 15.64),
            (108.00, 15.685),
        ],
    ),
    (
        "Sông Bung",
        "sông",
        50.0,
        400.0,
        &[
            (107.45, 15.68),
            (107.60, 15.70),
            (107.72, 15.73),
            (107.84, 15.75),
        ],
    ),
    (
        "Sông Cái",
        "sông",
        50.0,
        400.0,
        &[
            (107.75, 15.40),
            (107.80, 15.50),
            (107.82, 15.62),
            (107.84, 15.75),
        ],
    ),
    (
        "Kênh chính Phú Ninh",
        "kênh",
        8.0,
        60.0,
        &[
            (108.39, 15.53),
            (108.37, 15.58),
            (108.34, 15.63),
            (108.30, 15.70),
            (108.27, 15.76),
        ],
    ),
    (
        "Kênh An Trạch",
        "kênh",
        6.0,
        40.0,
        &[(108.15, 15.905), (108.19, 15.915), (108.225, 15.93)],
    ),
];

/// Lakes: name, WGS 84 shore (closed implicitly).
#[allow(clippy::type_complexity)]
const LAKES: &[(&str, &[(f64, f64)])] = &[
    (
        "Hồ Phú Ninh",
        &[
            (108.372, 15.482),
            (108.392, 15.468),
            (108.418, 15.466),
            (108.434, 15.481),
            (108.437, 15.505),
            (108.425, 15.524),
            (108.405, 15.532),
            (108.386, 15.524),
            (108.368, 15.503),
        ],
    ),
    (
        "Hồ Hòa Trung",
        &[
            (108.028, 16.066),
            (108.040, 16.058),
            (108.052, 16.063),
            (108.050, 16.075),
            (108.036, 16.078),
        ],
    ),
    (
        "Hồ Việt An",
        &[
            (108.172, 15.603),
            (108.184, 15.598),
            (108.192, 15.607),
            (108.185, 15.616),
            (108.172, 15.613),
        ],
    ),
];

/// Roads: name, class, ref, width (m), WGS 84 waypoints.
#[allow(clippy::type_complexity)]
const ROADS: &[(&str, &str, Option<&str>, f64, &[(f64, f64)])] = &[
    (
        "Quốc lộ 1A",
        "quốc lộ",
        Some("QL1A"),
        30.0,
        &[
            (108.13, 16.16),
            (108.145, 16.12),
            (108.15, 16.09),
            (108.16, 16.07),
            (108.175, 16.04),
            (108.185, 16.01),
            (108.20, 15.97),
            (108.22, 15.93),
            (108.245, 15.895),
            (108.26, 15.86),
            (108.29, 15.80),
            (108.33, 15.755),
            (108.355, 15.738),
            (108.40, 15.68),
            (108.44, 15.62),
            (108.47, 15.578),
            (108.52, 15.53),
            (108.58, 15.49),
            (108.60, 15.455),
            (108.63, 15.432),
            (108.66, 15.425),
            (108.70, 15.40),
        ],
    ),
    (
        "Cao tốc Đà Nẵng – Quảng Ngãi",
        "đường cao tốc",
        Some("CT.01"),
        26.0,
        &[
            (108.13, 16.00),
            (108.15, 15.95),
            (108.18, 15.89),
            (108.215, 15.83),
            (108.26, 15.77),
            (108.31, 15.71),
            (108.36, 15.65),
            (108.41, 15.59),
            (108.44, 15.545),
            (108.50, 15.49),
            (108.56, 15.45),
            (108.62, 15.41),
            (108.64, 15.395),
        ],
    ),
    (
        "Cao tốc La Sơn – Túy Loan",
        "đường cao tốc",
        Some("CT.01"),
        24.0,
        &[
            (108.13, 16.00),
            (108.10, 16.04),
            (108.08, 16.09),
            (108.07, 16.15),
            (108.05, 16.19),
        ],
    ),
    (
        "Quốc lộ 14B",
        "quốc lộ",
        Some("QL14B"),
        20.0,
        &[
            (108.185, 16.02),
            (108.13, 16.00),
            (108.10, 15.96),
            (108.11, 15.92),
            (108.121, 15.885),
            (108.05, 15.85),
            (107.98, 15.82),
            (107.90, 15.79),
            (107.837, 15.752),
        ],
    ),
    (
        "Quốc lộ 14G",
        "quốc lộ",
        Some("QL14G"),
        9.0,
        &[
            (108.13, 16.00),
            (108.02, 15.97),
            (107.90, 15.95),
            (107.75, 15.93),
            (107.648, 15.924),
        ],
    ),
    (
        "Quốc lộ 14 (đường Hồ Chí Minh)",
        "quốc lộ",
        Some("QL14"),
        12.0,
        &[
            (107.62, 16.02),
            (107.648, 15.924),
            (107.72, 15.85),
            (107.80, 15.79),
            (107.837, 15.752),
            (107.82, 15.65),
            (107.80, 15.55),
            (107.793, 15.445),
            (107.75, 15.35),
            (107.70, 15.25),
        ],
    ),
    (
        "Quốc lộ 14D",
        "quốc lộ",
        Some("QL14D"),
        9.0,
        &[
            (107.837, 15.752),
            (107.70, 15.70),
            (107.55, 15.66),
            (107.40, 15.62),
        ],
    ),
    (
        "Quốc lộ 14E",
        "quốc lộ",
        Some("QL14E"),
        12.0,
        &[
            (108.355, 15.738),
            (108.29, 15.70),
            (108.22, 15.674),
            (108.16, 15.62),
            (108.11, 15.575),
            (108.00, 15.53),
            (107.90, 15.49),
            (107.793, 15.445),
        ],
    ),
    (
        "Quốc lộ 40B",
        "quốc lộ",
        Some("QL40B"),
        9.0,
        &[
            (108.47, 15.575),
            (108.40, 15.545),
            (108.34, 15.51),
            (108.307, 15.488),
            (108.26, 15.42),
            (108.221, 15.34),
            (108.18, 15.25),
            (108.10, 15.15),
            (108.00, 15.05),
        ],
    ),
    (
        "Đường ven biển Võ Chí Công",
        "tỉnh lộ",
        Some("ĐT129"),
        16.0,
        &[
            (108.288, 15.975),
            (108.33, 15.935),
            (108.372, 15.903),
            (108.392, 15.878),
            (108.405, 15.845),
            (108.415, 15.805),
            (108.445, 15.745),
            (108.50, 15.672),
            (108.555, 15.598),
            (108.60, 15.538),
            (108.615, 15.51),
        ],
    ),
    (
        "Đường tỉnh 607",
        "tỉnh lộ",
        Some("ĐT607"),
        12.0,
        &[
            (108.262, 16.0),
            (108.28, 15.96),
            (108.305, 15.925),
            (108.328, 15.893),
        ],
    ),
    (
        "Đường tỉnh 608",
        "tỉnh lộ",
        Some("ĐT608"),
        9.0,
        &[(108.245, 15.895), (108.29, 15.886), (108.325, 15.882)],
    ),
    (
        "Đường tỉnh 609",
        "tỉnh lộ",
        Some("ĐT609"),
        9.0,
        &[
            (108.121, 15.885),
            (108.07, 15.90),
            (108.02, 15.91),
            (107.97, 15.90),
        ],
    ),
    (
        "Đường tỉnh 610",
        "tỉnh lộ",
        Some("ĐT610"),
        9.0,
        &[
            (108.262, 15.85),
            (108.20, 15.815),
            (108.14, 15.795),
            (108.10, 15.77),
        ],
    ),
    (
        "Đường tỉnh 611",
        "tỉnh lộ",
        Some("ĐT611"),
        9.0,
        &[
            (108.22, 15.674),
            (108.16, 15.70),
            (108.08, 15.72),
            (108.03, 15.705),
        ],
    ),
    (
        "Đường tỉnh 616",
        "tỉnh lộ",
        Some("ĐT616"),
        9.0,
        &[(108.476, 15.572), (108.51, 15.575), (108.545, 15.585)],
    ),
];

/// Urban areas: key, name, centre lon/lat, grid angle (degrees), share,
/// radius (km), half zoning size u × v (km), max floors of housing.
#[allow(clippy::type_complexity)]
const URBAN: &[(&str, &str, f64, f64, f64, f64, f64, (f64, f64), i64)] = &[
    (
        "HC",
        "Hải Châu – Thanh Khê",
        108.205,
        16.062,
        0.0,
        0.28,
        5.5,
        (2.6, 2.2),
        25,
    ),
    (
        "ST",
        "Sơn Trà – Ngũ Hành Sơn",
        108.257,
        16.055,
        -18.0,
        0.12,
        5.0,
        (1.0, 2.4),
        20,
    ),
    (
        "LC",
        "Liên Chiểu",
        108.150,
        16.072,
        32.0,
        0.08,
        4.0,
        (1.6, 1.4),
        15,
    ),
    (
        "CL",
        "Cẩm Lệ",
        108.195,
        16.008,
        -8.0,
        0.07,
        4.0,
        (1.4, 1.2),
        12,
    ),
    (
        "NHS",
        "Ngũ Hành Sơn – Điện Ngọc",
        108.266,
        15.985,
        -28.0,
        0.07,
        4.0,
        (1.2, 1.6),
        15,
    ),
    (
        "HA",
        "Hội An",
        108.330,
        15.879,
        18.0,
        0.12,
        4.0,
        (1.6, 1.2),
        4,
    ),
    (
        "DB",
        "Điện Bàn",
        108.245,
        15.893,
        -4.0,
        0.08,
        3.5,
        (1.1, 1.1),
        9,
    ),
    (
        "TK",
        "Tam Kỳ",
        108.476,
        15.572,
        28.0,
        0.18,
        5.0,
        (1.8, 1.6),
        15,
    ),
];

/// West edge of the lowland, (lat, lon) from north to south: the coastal
/// plain and the lower Vu Gia – Thu Bồn valleys lie east of it.
const LOWLAND_EDGE: &[(f64, f64)] = &[
    (16.17, 108.17),
    (16.12, 108.08),
    (16.06, 108.02),
    (16.00, 108.00),
    (15.94, 108.03),
    (15.88, 107.98),
    (15.83, 108.03),
    (15.79, 108.10),
    (15.76, 108.14),
    (15.72, 108.06),
    (15.68, 108.16),
    (15.63, 108.24),
    (15.57, 108.33),
    (15.52, 108.37),
    (15.47, 108.46),
    (15.42, 108.55),
    (15.37, 108.64),
];

/// Mountain valleys with farmland: lon, lat, radius (km).
const VALLEYS: &[(f64, f64, f64)] = &[
    (107.648, 15.924, 3.0),
    (107.837, 15.749, 3.5),
    (107.793, 15.445, 3.0),
    (108.221, 15.340, 3.0),
    (108.307, 15.488, 4.0),
    (108.120, 15.575, 3.5),
    (108.030, 15.705, 3.5),
    (108.100, 15.130, 2.5),
    (107.470, 15.860, 2.5),
];

/// No-parcel areas: name, centre lon/lat, size (km) u × v, angle (deg).
#[allow(clippy::type_complexity)]
const RESERVED: &[(&str, f64, f64, (f64, f64), f64)] = &[
    ("Sân bay quốc tế Đà Nẵng", 108.199, 16.044, (1.3, 3.6), -8.0),
    ("Sân bay Chu Lai", 108.706, 15.406, (1.2, 3.8), -35.0),
    ("Bán đảo Sơn Trà", 108.300, 16.125, (7.0, 3.2), 0.0),
    ("Ngũ Hành Sơn", 108.263, 16.004, (0.8, 1.0), 0.0),
];

/// Approximate areas (ha) of the zones of zones_approx.csv.
fn zone_size_ha(name: &str) -> f64 {
    match name {
        "KCN Bắc Chu Lai" => 361.0,
        "KCN Tam Hiệp" => 417.0,
        "KCN Tam Anh" => 435.0,
        "KCN Tam Thăng" => 197.0,
        "KCN cơ khí ô tô THACO Chu Lai" => 451.0,
        "KCN Điện Nam–Điện Ngọc" => 390.0,
        "KCN Đông Quế Sơn" => 211.0,
        "KCN Thuận Yên" => 140.0,
        "KKT cửa khẩu Nam Giang" => 5000.0,
        "KCN Hòa Khánh" => 394.0,
        "KCN Liên Chiểu" => 374.0,
        "KCN Hòa Cầm" => 136.0,
        "KCN An Đồn" => 50.0,
        "KCN DV Thủy sản Thọ Quang" => 76.0,
        "Khu CNC Đà Nẵng" => 1128.0,
        _ => 200.0,
    }
}

impl World {
    /// Builds the world for a seed.
    pub(crate) fn build(seed: u64) -> Result<World, SampleError> {
        let (provinces, coast) = read_provinces()?;
        let land = provinces[QN].shape.union(&provinces[DN].shape);
        let mut bbox = provinces[QN]
            .shape
            .bounding_rect()
            .ok_or_else(|| src_err("empty outline"))?;
        let dn_bbox = provinces[DN]
            .shape
            .bounding_rect()
            .ok_or_else(|| src_err("empty outline"))?;
        bbox = Rect::new(
            c(
                bbox.min().x.min(dn_bbox.min().x),
                bbox.min().y.min(dn_bbox.min().y),
            ),
            c(
                bbox.max().x.max(dn_bbox.max().x),
                bbox.max().y.max(dn_bbox.max().y),
            ),
        );
        let districts = read_districts()?;

        let mut rng = stream(seed, &[0xA4EA]);
        let urban = URBAN
            .iter()
            .map(
                |&(key, name, lon, lat, angle, weight, radius, zoning, max_floors)| {
                    let mut avenue_names = AVENUES.to_vec();
                    avenue_names.shuffle(&mut rng);
                    let mut street_names = STREETS.to_vec();
                    street_names.shuffle(&mut rng);
                    Ok(UrbanArea {
                        key,
                        name,
                        center: ll(lon, lat)?,
                        angle: angle.to_radians(),
                        weight,
                        radius: radius * 1000.0,
                        zoning: (zoning.0 * 1000.0, zoning.1 * 1000.0),
                        max_floors,
                        grid: UrbanGrid::new(&mut rng, radius * 1000.0),
                        avenue_names,
                        street_names,
                    })
                },
            )
            .collect::<Result<Vec<_>, SampleError>>()?;

        let cells = classify_cells(&provinces, bbox, &urban)?;

        let mut world = World {
            seed,
            provinces,
            land,
            coast,
            districts,
            communes: Vec::new(),
            units_2025: Vec::new(),
            lineage: Vec::new(),
            water: Vec::new(),
            roads: Vec::new(),
            zones: Vec::new(),
            pois: Vec::new(),
            urban,
            cells,
            corridors: LineIndex::new(bbox, 500.0, 60.0),
            near_water: LineIndex::new(bbox, 500.0, 1000.0),
            near_coast: LineIndex::new(bbox, 500.0, 1500.0),
            near_road: LineIndex::new(bbox, 500.0, 300.0),
            no_parcels: Vec::new(),
        };
        world.make_communes()?;
        world.make_units_2025()?;
        world.make_water()?;
        world.make_roads()?;
        world.make_zones_and_pois()?;
        world.make_indexes()?;
        Ok(world)
    }

    /// Province index containing `p`, if any.
    pub(crate) fn province_at(&self, p: C) -> Option<usize> {
        self.provinces.iter().position(|pr| pr.index.contains(p))
    }

    /// District of a point of province `prov`: the nearest site among the
    /// province's mainland districts (the same rule as the Voronoi cells of
    /// `admin_units`).
    pub(crate) fn district_at(&self, prov: usize, p: C) -> usize {
        let mut best = (f64::MAX, 0);
        for (i, d) in self.districts.iter().enumerate() {
            if d.province == prov && is_mainland(d) {
                let e = dist(d.site, p);
                if e < best.0 {
                    best = (e, i);
                }
            }
        }
        best.1
    }

    /// Commune of a point of a district: the nearest seed.
    pub(crate) fn commune_at(&self, district: usize, p: C) -> Option<usize> {
        self.districts[district]
            .communes
            .iter()
            .copied()
            .min_by(|&a, &b| {
                dist(self.communes[a].seed, p).total_cmp(&dist(self.communes[b].seed, p))
            })
    }

    /// The commune of a land point, if the point is on land.
    pub(crate) fn locate(&self, p: C) -> Option<usize> {
        let prov = self.province_at(p)?;
        let d = self.district_at(prov, p);
        self.commune_at(d, p)
    }

    /// True when no parcel may lie at `p` (airport, closed zone, lake...).
    pub(crate) fn reserved(&self, p: C) -> bool {
        self.no_parcels.iter().any(|ix| ix.contains(p))
    }

    fn make_communes(&mut self) -> Result<(), SampleError> {
        // 500 m sample points of the land, by district.
        let bbox = self.cells_bbox();
        let mut cand: Vec<Vec<C>> = vec![Vec::new(); self.districts.len()];
        let nx = (bbox.width() / FINE).ceil() as i64;
        let ny = (bbox.height() / FINE).ceil() as i64;
        for y in 0..ny {
            for x in 0..nx {
                let p = c(
                    bbox.min().x + (x as f64 + 0.5) * FINE,
                    bbox.min().y + (y as f64 + 0.5) * FINE,
                );
                if let Some(prov) = self.province_at(p) {
                    let d = self.district_at(prov, p);
                    cand[d].push(p);
                }
            }
        }
        let rows = read_communes(&self.districts)?;
        for (di, pts) in cand.iter().enumerate() {
            // Wards and towns first (they gather around the seat, the
            // first one on it), each group in code order.
            let mut list: Vec<&CommuneRow> = rows.iter().filter(|r| r.district == di).collect();
            list.sort_by_key(|r| !r.kind.is_urban());
            if list.is_empty() {
                continue;
            }
            if pts.is_empty() {
                return Err(src_err(format!(
                    "communes_pre2025.csv: district {} has communes but no land",
                    self.districts[di].code
                )));
            }
            let seat = self.districts[di].seat;
            let n_urban = list.iter().filter(|r| r.kind.is_urban()).count();
            let mixed = n_urban > 0 && n_urban < list.len();
            let mut seeds: Vec<C> = Vec::with_capacity(list.len());
            // Wards and towns gather around the seat; rural communes share
            // the rest of the district.
            let near: Vec<C> = if mixed {
                let r = (900.0 * (n_urban as f64).sqrt()).max(1500.0);
                let v: Vec<C> = pts.iter().copied().filter(|&p| dist(p, seat) < r).collect();
                if v.len() >= n_urban {
                    v
                } else {
                    pts.clone()
                }
            } else {
                pts.clone()
            };
            let first = if mixed { n_urban } else { list.len() };
            farthest_points(&near, seat, first, &mut seeds);
            if mixed {
                farthest_points(pts, seat, list.len(), &mut seeds);
            }
            // Lloyd relaxation of the movable seeds for compact communes.
            let fixed = if mixed { n_urban } else { 1 };
            for _ in 0..6 {
                let mut sum = vec![(0.0, 0.0, 0usize); seeds.len()];
                for &p in pts {
                    let k = nearest(&seeds, p);
                    sum[k].0 += p.x;
                    sum[k].1 += p.y;
                    sum[k].2 += 1;
                }
                for (k, s) in sum.iter().enumerate().skip(fixed) {
                    if s.2 > 0 {
                        seeds[k] = c(s.0 / s.2 as f64, s.1 / s.2 as f64);
                    }
                }
            }
            let mut members: Vec<Vec<C>> = vec![Vec::new(); seeds.len()];
            for &p in pts {
                members[nearest(&seeds, p)].push(p);
            }
            let dcode: u32 = self.districts[di].code.parse().unwrap_or(0);
            for (k, (row, seed_pt)) in list.iter().zip(&seeds).enumerate() {
                let h = hash(&[self.seed, 0x4A31, dcode as u64, k as u64]);
                let n_hamlets = 4 + (h % 9) as usize;
                let mut hamlets: Vec<String> = Vec::new();
                for m in 0..n_hamlets as u64 {
                    let name = hamlet_name(row.kind, hash(&[h, m]));
                    if !hamlets.contains(&name) {
                        hamlets.push(name);
                    }
                }
                let idx = self.communes.len();
                self.communes.push(Commune {
                    code: row.code.clone(),
                    name: row.name.clone(),
                    short: row.short.clone(),
                    kind: row.kind,
                    district: di,
                    seed: *seed_pt,
                    hamlets,
                    points: std::mem::take(&mut members[k]),
                });
                self.districts[di].communes.push(idx);
            }
        }
        Ok(())
    }

    /// Reads the 2025 units and synthesises the lineage: each old commune
    /// goes to the unit that reuses its code, else to the unit whose
    /// code-giving predecessor has the nearest seed in the same former
    /// province.
    fn make_units_2025(&mut self) -> Result<(), SampleError> {
        let mut codes = std::collections::HashSet::new();
        for row in UNITS_2025_CSV
            .lines()
            .skip(1)
            .filter(|l| !l.trim().is_empty())
        {
            let f = csv_fields(row);
            if f.len() != 4 {
                return Err(src_err(format!("units_2025.csv: bad row {row}")));
            }
            let code = f[0].trim().to_owned();
            let name = collapse_spaces(&f[1]);
            if !is_gso_commune_code(&code) || !codes.insert(code.clone()) {
                return Err(src_err(format!(
                    "units_2025.csv: bad or repeated code {code}"
                )));
            }
            let predecessor = if f[3].trim().is_empty() {
                None
            } else {
                // "Phường Phước Ninh, Quận Hải Châu": the commune whose code
                // the unit reuses, and its district; check that they agree.
                let i = self
                    .communes
                    .iter()
                    .position(|cm| cm.code == code)
                    .ok_or_else(|| {
                        src_err(format!(
                            "units_2025.csv: {code} {name}: no pre-2025 commune has its code"
                        ))
                    })?;
                let cm = &self.communes[i];
                let (pn, dn) = f[3].rsplit_once(',').unwrap_or((&f[3], ""));
                let same = collapse_spaces(pn).to_lowercase() == cm.name.to_lowercase()
                    && dn.trim().ends_with(&self.districts[cm.district].name);
                if !same {
                    return Err(src_err(format!(
                        "units_2025.csv: {code} {name}: predecessor {:?} is not {} of {}",
                        f[3], cm.name, self.districts[cm.district].name
                    )));
                }
                Some(i)
            };
            self.units_2025.push(Unit2025 {
                code,
                name,
                unit_type: f[2].trim().to_owned(),
                predecessor,
                members: Vec::new(),
            });
        }
        let anchors: Vec<(usize, usize)> = self
            .units_2025
            .iter()
            .enumerate()
            .filter_map(|(u, unit)| unit.predecessor.map(|c| (u, c)))
            .collect();
        let province = |ci: usize| self.districts[self.communes[ci].district].province;
        let mut lineage = Vec::with_capacity(self.communes.len());
        for ci in 0..self.communes.len() {
            if let Some(&(u, _)) = anchors.iter().find(|a| a.1 == ci) {
                lineage.push((u, Relation::SameCode));
                continue;
            }
            let seed = self.communes[ci].seed;
            let same_province = anchors.iter().any(|a| province(a.1) == province(ci));
            let nearest = anchors
                .iter()
                .filter(|a| !same_province || province(a.1) == province(ci))
                .min_by(|a, b| {
                    dist(self.communes[a.1].seed, seed)
                        .total_cmp(&dist(self.communes[b.1].seed, seed))
                })
                .ok_or_else(|| src_err("units_2025.csv: no unit reuses a commune code"))?;
            lineage.push((nearest.0, Relation::Merged));
        }
        for (ci, &(u, _)) in lineage.iter().enumerate() {
            self.units_2025[u].members.push(ci);
        }
        self.lineage = lineage;
        Ok(())
    }

    fn cells_bbox(&self) -> Rect<f64> {
        let o = self.cells.origin;
        Rect::new(
            o,
            c(
                o.x + self.cells.nx as f64 * CELL,
                o.y + self.cells.ny as f64 * CELL,
            ),
        )
    }

    fn clip_to_land(&self, line: Vec<C>) -> Vec<Vec<C>> {
        let ml = MultiLineString(vec![LineString(line)]);
        self.land
            .clip(&ml, false)
            .0
            .into_iter()
            .map(|l| l.0)
            .filter(|l| l.len() >= 2 && l.windows(2).map(|s| dist(s[0], s[1])).sum::<f64>() > 300.0)
            .collect()
    }

    fn make_water(&mut self) -> Result<(), SampleError> {
        for (k, &(name, kind, half, amp, pts)) in RIVERS.iter().enumerate() {
            // Not clipped to the land: the coarse outline draws the Hàn
            // estuary as sea, and river mouths should reach the coast.
            let line = wiggle(
                &ll_line(pts)?,
                150.0,
                amp,
                hash(&[self.seed, 0x817E, k as u64]),
            );
            self.water.push(Waterway {
                name,
                kind,
                line,
                half_width: half,
            });
        }
        for &(name, pts) in LAKES {
            let mut line = ll_line(pts)?;
            line.push(line[0]);
            self.water.push(Waterway {
                name,
                kind: "hồ",
                line,
                half_width: 0.0,
            });
        }
        Ok(())
    }

    fn make_roads(&mut self) -> Result<(), SampleError> {
        for (k, &(name, class, reference, width, pts)) in ROADS.iter().enumerate() {
            let amp = if class == "đường cao tốc" {
                60.0
            } else {
                120.0
            };
            let line = wiggle(
                &ll_line(pts)?,
                200.0,
                amp,
                hash(&[self.seed, 0x20AD, k as u64]),
            );
            for part in self.clip_to_land(line) {
                self.roads.push(Road {
                    name: name.to_owned(),
                    class,
                    reference: reference.map(str::to_owned),
                    width,
                    line: part,
                });
            }
        }
        // District roads: a spanning tree over the commune seeds of each
        // district outside the urban street grids.
        for di in 0..self.districts.len() {
            let d = &self.districts[di];
            if d.unit_type == "quận" || d.communes.len() < 2 {
                continue;
            }
            let abbrev: String = d
                .name
                .split_whitespace()
                .filter_map(|w| w.chars().next())
                .collect::<String>()
                .to_uppercase();
            let ids: Vec<usize> = d.communes.clone();
            let pts: Vec<C> = ids.iter().map(|&i| self.communes[i].seed).collect();
            let mut n = 0;
            for (a, b) in spanning_tree(&pts) {
                let in_grid = |p: C| {
                    let (x, y) = self.cells.cell_of(p);
                    matches!(self.cells.terrain_at(x, y), Terrain::Urban(_))
                };
                if in_grid(pts[a]) && in_grid(pts[b]) {
                    continue;
                }
                n += 1;
                let short = |i: usize| self.communes[ids[i]].short.clone();
                let line = wiggle(
                    &[pts[a], pts[b]],
                    200.0,
                    150.0,
                    hash(&[self.seed, 0xD4, di as u64, n]),
                );
                for part in self.clip_to_land(line) {
                    self.roads.push(Road {
                        name: format!("Đường {} – {}", short(a), short(b)),
                        class: "đường huyện",
                        reference: Some(format!("ĐH{n}.{abbrev}")),
                        width: 6.0,
                        line: part,
                    });
                }
            }
        }
        Ok(())
    }

    fn make_zones_and_pois(&mut self) -> Result<(), SampleError> {
        let mut rng = stream(self.seed, &[0x2035]);
        for row in ZONES_CSV.lines().skip(1).filter(|l| !l.trim().is_empty()) {
            let f: Vec<&str> = row.splitn(5, ',').collect();
            if f.len() < 4 {
                return Err(src_err(format!("zones_approx.csv: bad row {row}")));
            }
            let name = f[0].trim();
            let kind_en = f[1].trim();
            let lon: f64 = f[2].trim().parse().map_err(|_| src_err(row.to_owned()))?;
            let lat: f64 = f[3].trim().parse().map_err(|_| src_err(row.to_owned()))?;
            let note = f.get(4).map(|s| s.trim()).unwrap_or("");
            let at = ll(lon, lat)?;
            let (kind, closed) = match kind_en {
                "open economic zone" => ("khu kinh tế mở", false),
                "border EZ" => ("khu kinh tế cửa khẩu", false),
                "hi-tech park" => ("khu công nghệ cao", true),
                k if k.starts_with("IZ") => ("khu công nghiệp", true),
                "airport" => {
                    self.pois.push(poi(name, "sân bay", at));
                    continue;
                }
                "port" => {
                    self.pois.push(poi(name, "cảng biển", at));
                    continue;
                }
                "heritage" => {
                    self.pois.push(poi(name, "di sản", at));
                    continue;
                }
                _ => {
                    self.pois.push(poi(name, "khác", at));
                    continue;
                }
            };
            let (ring, note_vi) = if let Some(bb) = parse_bbox(note) {
                let ring = ll_line(&[(bb.0, bb.2), (bb.1, bb.2), (bb.1, bb.3), (bb.0, bb.3)])?;
                let decision = note.rsplit(';').next().unwrap_or("").trim();
                (
                    ring,
                    format!(
                        "Ranh giới gần đúng: khung bao {:.3}–{:.3}E, {:.3}–{:.3}N cắt theo \
                         đường bờ; diện tích theo quyết định thành lập 27.040 ha ({decision})",
                        bb.0, bb.1, bb.2, bb.3
                    ),
                )
            } else {
                let ha = zone_size_ha(name);
                let aspect: f64 = rng.gen_range(1.2..1.8);
                let wdt = (ha * 10_000.0 * aspect).sqrt();
                let angle = rng.gen_range(-0.5..0.5);
                let mut extra = String::new();
                if let Some((_, rest)) = note.split_once(';') {
                    extra = format!(" ({})", rest.trim());
                }
                (
                    rect_ring(at, wdt, wdt / aspect, angle),
                    format!("Vị trí gần đúng, ranh giới tổng hợp quy mô khoảng {ha:.0} ha{extra}"),
                )
            };
            let rect = polygon(ring);
            let clipped = rect.intersection(&self.land);
            let shape = clipped
                .0
                .into_iter()
                .max_by(|a, b| a.unsigned_area().total_cmp(&b.unsigned_area()))
                .unwrap_or(rect);
            let index = PolyIndex::of_polygons([&shape], 200.0);
            self.zones.push(Zone {
                name: name.to_owned(),
                kind,
                note: note_vi,
                shape,
                index,
                closed,
            });
        }
        // District seats and town centres.
        for d in &self.districts {
            if !is_mainland(d) {
                continue;
            }
            let what = match d.unit_type.as_str() {
                "huyện" => "huyện",
                "quận" => "quận",
                "thị xã" => "thị xã",
                _ => "thành phố",
            };
            self.pois.push(Poi {
                name: format!("Trung tâm hành chính {what} {}", d.name),
                kind: "trung tâm hành chính",
                at: d.seat,
            });
        }
        for &(name, kind, lon, lat) in EXTRA_POIS {
            self.pois.push(poi(name, kind, ll(lon, lat)?));
        }
        Ok(())
    }

    fn make_indexes(&mut self) -> Result<(), SampleError> {
        for wy in &self.water {
            self.corridors.add(&wy.line, wy.half_width + 3.0);
            self.near_water.add(&wy.line, wy.half_width);
        }
        for l in &self.coast {
            self.near_water.add(l, 0.0);
            self.near_coast.add(l, 0.0);
        }
        for r in &self.roads {
            self.corridors.add(&r.line, r.width / 2.0 + 4.0);
            self.near_road.add(&r.line, r.width / 2.0);
        }
        for &(_, pts) in LAKES {
            let ring = ll_line(pts)?;
            self.no_parcels
                .push(PolyIndex::new([ring.as_slice()], 250.0));
        }
        for &(_, lon, lat, (wk, hk), angle) in RESERVED {
            let ring = rect_ring(ll(lon, lat)?, wk * 1000.0, hk * 1000.0, angle.to_radians());
            self.no_parcels
                .push(PolyIndex::new([ring.as_slice()], 250.0));
        }
        for z in self.zones.iter().filter(|z| z.closed) {
            self.no_parcels.push(z.index.clone());
        }
        Ok(())
    }
}

/// A few well-known places beside the zones CSV: name, kind, lon, lat.
const EXTRA_POIS: &[(&str, &str, f64, f64)] = &[
    ("Cảng Tiên Sa", "cảng biển", 108.220, 16.118),
    ("Cảng Liên Chiểu", "cảng biển", 108.128, 16.118),
    ("Ga Đà Nẵng", "ga đường sắt", 108.209, 16.071),
    ("Ga Tam Kỳ", "ga đường sắt", 108.467, 15.571),
    ("Danh thắng Ngũ Hành Sơn", "danh thắng", 108.263, 16.004),
    ("Bán đảo Sơn Trà", "danh thắng", 108.300, 16.125),
    ("Khu du lịch Bà Nà", "khu du lịch", 107.993, 15.996),
    ("Cù Lao Chàm", "danh thắng", 108.510, 15.950),
    ("Biển Tam Thanh", "khu du lịch", 108.545, 15.585),
    ("Chợ Hội An", "chợ", 108.330, 15.877),
    ("Chợ Hàn", "chợ", 108.225, 16.068),
];

fn poi(name: &str, kind: &'static str, at: C) -> Poi {
    Poi {
        name: name.to_owned(),
        kind,
        at,
    }
}

/// True for the districts on the mainland (all but Hoàng Sa, far offshore).
pub(crate) fn is_mainland(d: &District) -> bool {
    d.code != "498"
}

/// "bbox 108.438-108.734E 15.394-15.645N; ..." → (w, e, s, n).
fn parse_bbox(note: &str) -> Option<(f64, f64, f64, f64)> {
    let rest = note.strip_prefix("bbox ")?;
    let mut it = rest.split_whitespace();
    let lon = it.next()?.trim_end_matches('E');
    let lat = it.next()?.trim_end_matches(';').trim_end_matches('N');
    let (w, e) = lon.split_once('-')?;
    let (s, n) = lat.split_once('-')?;
    Some((
        w.parse().ok()?,
        e.parse().ok()?,
        s.parse().ok()?,
        n.parse().ok()?,
    ))
}

/// Index of the nearest point.
fn nearest(seeds: &[C], p: C) -> usize {
    let mut best = (f64::MAX, 0);
    for (i, &s) in seeds.iter().enumerate() {
        let d = (s.x - p.x).powi(2) + (s.y - p.y).powi(2);
        if d < best.0 {
            best = (d, i);
        }
    }
    best.1
}

/// Appends to `seeds` until it holds `count` points: first the candidate
/// nearest `start` (when `seeds` is empty), then each time the candidate
/// farthest from all seeds so far.
fn farthest_points(cand: &[C], start: C, count: usize, seeds: &mut Vec<C>) {
    if cand.is_empty() {
        return;
    }
    if seeds.is_empty() {
        seeds.push(cand[nearest(cand, start)]);
    }
    let mut dmin: Vec<f64> = cand
        .iter()
        .map(|&p| seeds.iter().map(|&s| dist(s, p)).fold(f64::MAX, f64::min))
        .collect();
    while seeds.len() < count {
        let (k, _) = dmin
            .iter()
            .enumerate()
            .fold((0, f64::MIN), |b, (i, &d)| if d > b.1 { (i, d) } else { b });
        let s = cand[k];
        seeds.push(s);
        for (d, &p) in dmin.iter_mut().zip(cand) {
            *d = d.min(dist(s, p));
        }
    }
}

/// Edges of a minimum spanning tree (Prim, O(n²)).
fn spanning_tree(pts: &[C]) -> Vec<(usize, usize)> {
    let n = pts.len();
    let mut inside = vec![false; n];
    let mut best = vec![(f64::MAX, 0usize); n];
    let mut edges = Vec::new();
    if n == 0 {
        return edges;
    }
    inside[0] = true;
    for i in 1..n {
        best[i] = (dist(pts[0], pts[i]), 0);
    }
    for _ in 1..n {
        let Some(k) = (0..n)
            .filter(|&i| !inside[i])
            .min_by(|&a, &b| best[a].0.total_cmp(&best[b].0))
        else {
            break;
        };
        inside[k] = true;
        edges.push((best[k].1, k));
        for i in 0..n {
            if !inside[i] {
                let d = dist(pts[k], pts[i]);
                if d < best[i].0 {
                    best[i] = (d, k);
                }
            }
        }
    }
    edges
}

/// Reads the embedded Natural Earth outlines and coast.
fn read_provinces() -> Result<(Vec<Province>, Vec<Vec<C>>), SampleError> {
    let v: serde_json::Value = serde_json::from_str(PROVINCES_GEOJSON)
        .map_err(|e| src_err(format!("provinces_ne.geojson: {e}")))?;
    let feats = v["features"]
        .as_array()
        .ok_or_else(|| src_err("provinces_ne.geojson: no features"))?;
    let ring_of = |r: &serde_json::Value| -> Result<Vec<C>, SampleError> {
        let mut pts: Vec<C> = r
            .as_array()
            .ok_or_else(|| src_err("provinces_ne.geojson: bad ring"))?
            .iter()
            .map(|p| {
                c(
                    p[0].as_f64().unwrap_or(f64::NAN),
                    p[1].as_f64().unwrap_or(f64::NAN),
                )
            })
            .collect();
        if pts.iter().any(|p| !p.x.is_finite() || !p.y.is_finite()) {
            return Err(src_err("provinces_ne.geojson: bad coordinate"));
        }
        project(&mut pts)?;
        Ok(pts)
    };
    let mut provinces = Vec::new();
    let mut coast = Vec::new();
    for (code, name) in [("49", "Quảng Nam"), ("48", "Đà Nẵng")] {
        let f = feats
            .iter()
            .find(|f| f["properties"]["code"] == code)
            .ok_or_else(|| src_err(format!("provinces_ne.geojson: no province {code}")))?;
        let g = &f["geometry"];
        let polys: Vec<&serde_json::Value> = match g["type"].as_str() {
            Some("Polygon") => vec![&g["coordinates"]],
            Some("MultiPolygon") => g["coordinates"]
                .as_array()
                .map(|a| a.iter().collect())
                .unwrap_or_default(),
            _ => return Err(src_err("provinces_ne.geojson: not a polygon")),
        };
        let mut shape = Vec::new();
        for p in polys {
            let rings = p
                .as_array()
                .ok_or_else(|| src_err("provinces_ne.geojson: bad polygon"))?;
            let mut rs = rings.iter().map(&ring_of);
            let ext = rs
                .next()
                .ok_or_else(|| src_err("provinces_ne.geojson: empty polygon"))??;
            let holes = rs
                .map(|r| r.map(LineString))
                .collect::<Result<Vec<_>, _>>()?;
            let mut poly = Polygon::new(LineString(ext), holes);
            // OGC orientation: exterior counter-clockwise.
            use geo::orient::{Direction, Orient};
            poly = poly.orient(Direction::Default);
            shape.push(poly);
        }
        let shape = MultiPolygon(shape);
        let index = PolyIndex::of_polygons(&shape.0, 250.0);
        provinces.push(Province {
            code,
            name,
            shape,
            index,
        });
    }
    if let Some(f) = feats
        .iter()
        .find(|f| f["properties"]["kind"] == "coastline")
    {
        for l in f["geometry"]["coordinates"]
            .as_array()
            .into_iter()
            .flatten()
        {
            coast.push(ring_of(l)?);
        }
    }
    Ok((provinces, coast))
}

/// Reads the embedded district CSV.
fn read_districts() -> Result<Vec<District>, SampleError> {
    let mut out = Vec::new();
    for row in UNITS_CSV.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        let f: Vec<&str> = row.splitn(9, ',').collect();
        if f.len() < 8 {
            return Err(src_err(format!("qn_dn_units_pre2025.csv: bad row {row}")));
        }
        let num = |s: &str| s.trim().parse::<f64>().ok();
        let (lon, lat) = match (num(f[4]), num(f[5])) {
            (Some(a), Some(b)) => (a, b),
            _ => {
                return Err(src_err(format!(
                    "qn_dn_units_pre2025.csv: no centroid: {row}"
                )))
            }
        };
        let site = ll(lon, lat)?;
        let seat = match (num(f[6]), num(f[7])) {
            (Some(a), Some(b)) => ll(a, b)?,
            _ => site,
        };
        let province = match f[3].trim() {
            "49" => QN,
            "48" => DN,
            p => return Err(src_err(format!("qn_dn_units_pre2025.csv: parent {p}"))),
        };
        out.push(District {
            code: f[0].trim().to_owned(),
            name: f[1].trim().to_owned(),
            unit_type: f[2].trim().to_owned(),
            province,
            site,
            seat,
            communes: Vec::new(),
        });
    }
    Ok(out)
}

/// A row of `communes_pre2025.csv`.
struct CommuneRow {
    code: String,
    name: String,
    short: String,
    kind: CommuneKind,
    district: usize,
}

/// True for a 5-digit GSO commune code.
fn is_gso_commune_code(code: &str) -> bool {
    code.len() == 5 && code.bytes().all(|b| b.is_ascii_digit())
}

/// Trims and collapses runs of white space ("Phường Hải Châu  I" in the
/// source table).
fn collapse_spaces(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The fields of a CSV line; `"..."` may hold commas and `""`.
fn csv_fields(row: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = row.chars().peekable();
    while let Some(ch) = chars.next() {
        match ch {
            '"' if quoted && chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(std::mem::take(&mut cur)),
            _ => cur.push(ch),
        }
    }
    out.push(cur);
    out
}

/// Reads the embedded commune CSV, checking codes, kinds, districts and
/// provinces against the district table.
fn read_communes(districts: &[District]) -> Result<Vec<CommuneRow>, SampleError> {
    let mut out: Vec<CommuneRow> = Vec::new();
    let mut codes = std::collections::HashSet::new();
    for row in COMMUNES_CSV
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
    {
        let bad = |what: &str| src_err(format!("communes_pre2025.csv: {what}: {row}"));
        let f = csv_fields(row);
        if f.len() != 6 {
            return Err(bad("not 6 fields"));
        }
        let code = f[0].trim().to_owned();
        if !is_gso_commune_code(&code) || !codes.insert(code.clone()) {
            return Err(bad("bad or repeated code"));
        }
        let name = collapse_spaces(&f[1]);
        let kind = CommuneKind::from_csv(f[2].trim()).ok_or_else(|| bad("unknown type"))?;
        let district = districts
            .iter()
            .position(|d| d.code == f[3].trim())
            .ok_or_else(|| bad("unknown district"))?;
        let province = match districts[district].province {
            QN => "49",
            _ => "48",
        };
        if f[5].trim() != province {
            return Err(bad("district of another province"));
        }
        // The name starts with the prefix of its kind ("Thị Trấn Ái Nghĩa"
        // is capitalised so in the table).
        let words = kind.prefix().split(' ').count();
        let mut parts = name.splitn(words + 1, ' ');
        let prefix: Vec<&str> = parts.by_ref().take(words).collect();
        let short = parts.next().unwrap_or("").to_owned();
        if prefix.join(" ").to_lowercase() != kind.prefix().to_lowercase() || short.is_empty() {
            return Err(bad("name without the prefix of its type"));
        }
        out.push(CommuneRow {
            code,
            name,
            short,
            kind,
            district,
        });
    }
    Ok(out)
}

/// Classifies the 1 km cells of the land.
fn classify_cells(
    provinces: &[Province],
    bbox: Rect<f64>,
    urban: &[UrbanArea],
) -> Result<Cells, SampleError> {
    let origin = c(
        (bbox.min().x / CELL).floor() * CELL,
        (bbox.min().y / CELL).floor() * CELL,
    );
    let nx = ((bbox.max().x - origin.x) / CELL).ceil() as usize;
    let ny = ((bbox.max().y - origin.y) / CELL).ceil() as usize;
    let edge: Vec<(f64, f64)> = LOWLAND_EDGE
        .iter()
        .map(|&(lat, lon)| ll(lon, lat).map(|p| (p.y, p.x)))
        .collect::<Result<_, _>>()?;
    let valleys: Vec<(C, f64)> = VALLEYS
        .iter()
        .map(|&(lon, lat, r)| ll(lon, lat).map(|p| (p, r * 1000.0)))
        .collect::<Result<_, _>>()?;
    // x of the lowland edge at northing y (None north or south of it).
    let edge_x = |y: f64| -> Option<f64> {
        edge.windows(2).find_map(|s| {
            let ((y0, x0), (y1, x1)) = (s[0], s[1]);
            (y <= y0 && y >= y1).then(|| x0 + (y0 - y) / (y0 - y1) * (x1 - x0))
        })
    };
    let mut terrain = vec![Terrain::Outside; nx * ny];
    let mut hill = vec![1.0f32; nx * ny];
    for y in 0..ny {
        for x in 0..nx {
            let o = c(origin.x + x as f64 * CELL, origin.y + y as f64 * CELL);
            let probes = [
                c(o.x + 500.0, o.y + 500.0),
                c(o.x + 200.0, o.y + 200.0),
                c(o.x + 800.0, o.y + 200.0),
                c(o.x + 200.0, o.y + 800.0),
                c(o.x + 800.0, o.y + 800.0),
            ];
            if !probes
                .iter()
                .any(|&p| provinces.iter().any(|pr| pr.index.contains(p)))
            {
                continue;
            }
            let m = probes[0];
            let i = y * nx + x;
            let near_urban = urban
                .iter()
                .enumerate()
                .filter(|(_, a)| dist(a.center, m) < a.radius)
                .min_by(|a, b| dist(a.1.center, m).total_cmp(&dist(b.1.center, m)));
            if let Some((k, _)) = near_urban {
                terrain[i] = Terrain::Urban(k as u8);
                hill[i] = 0.0;
                continue;
            }
            match edge_x(m.y) {
                Some(ex) if m.x >= ex => {
                    terrain[i] = Terrain::Lowland;
                    hill[i] = ((1.0 - (m.x - ex) / 5000.0).clamp(0.0, 1.0) * 0.6) as f32;
                }
                _ => {
                    if valleys.iter().any(|&(v, r)| dist(v, m) < r) {
                        terrain[i] = Terrain::Valley;
                        hill[i] = 0.5;
                    } else {
                        terrain[i] = Terrain::Hill;
                        hill[i] = 1.0;
                    }
                }
            }
        }
    }
    Ok(Cells {
        origin,
        nx,
        ny,
        terrain,
        hill,
    })
}
