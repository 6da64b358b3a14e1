//! Investor site search: which zoning lots (planned use) or parcels
//! (current use) fit an investor's criteria — function or land-use code,
//! area, FAR and floors, inside an industrial or economic zone, within a
//! distance of any class of place (airport, seaport, national road, IZ,
//! administrative centre, border-gate zone … from the `pois`,
//! `industrial_zones` and `roads` layers, never fixed columns), clear of
//! investment projects, water and defence land, in an administrative unit
//! before or after the 2025 merger — ranked by a score the answer states.
//!
//! Distances are straight lines in EPSG:5899 between the exact geometries
//! (a lot's nearest edge to the port, not its centre). The engine's Web
//! Mercator plane only picks candidates: a Mercator distance shrinks to at
//! most `cos φ` of itself in the legal plane, so a bound taken there never
//! drops a site that qualifies.
//!
//! # Examples
//!
//! ```
//! use geoplan::planning::sites::SiteQuery;
//! let pairs = [
//!     ("function".to_string(), "công nghiệp".to_string()),
//!     ("min_area".to_string(), "2ha".to_string()),
//!     ("near".to_string(), "airport:30km".to_string()),
//! ];
//! let q = SiteQuery::parse(&pairs, "2026-12-04").unwrap();
//! assert_eq!(q.min_area_m2, Some(20_000.0));
//! assert_eq!(q.near[0].max_m, 30_000.0);
//! assert!(SiteQuery::parse(&[("near".into(), "airport:-5".into())], "2026-12-04").is_err());
//! ```

use super::admin::{Gazetteer, Unit};
use super::check::{allowed_uses, DEFENCE_CODES, POIS, ROADS, WATER};
use super::info::{status_in_force, ADMIN_UNITS, PARCELS, PLANS, PROJECTS, ZONES, ZONING_LOTS};
use super::landuse::{current, lookup};
use super::overlay::{overlap_m2, polygons, to_plane};
use super::text::fold;
use super::{round, PlanningError};
use crate::crs::{self, VN2000_TM3_10745, WEB_MERCATOR};
use crate::engine::temporal::{is_day, temporal_of};
use crate::engine::{Catalog, FeatureRef, Layer, Part, Spatial};
use crate::model::{grow_rect, Column, LayerData, ValueRef};
use geo::{BoundingRect, Distance, Euclidean, InteriorPoint, Intersects};
use geo_types::{Coord, Geometry, LineString, MultiPolygon, Point, Rect};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{RTree, AABB};
use std::collections::{BTreeSet, HashSet};

/// Longest distance a `near=` or `exclude=` may ask for, metres (the
/// province is about 200 km across).
pub const MAX_DISTANCE_M: f64 = 300_000.0;
/// Largest page.
pub const MAX_LIMIT: usize = 1000;
/// Default page.
pub const DEFAULT_LIMIT: usize = 20;
/// Largest area a range may name, m² (100 000 ha).
pub const MAX_AREA_M2: f64 = 1e9;
/// Vertices per piece of a long target line (roads are cut so a distance
/// is computed against the nearby piece only).
const CHUNK: usize = 32;

/// The parameters a search understands.
pub const PARAMETERS: &[&str] = &[
    "candidates",
    "function",
    "use",
    "min_area",
    "max_area",
    "min_far",
    "min_floors",
    "in",
    "near",
    "exclude",
    "unit",
    "as_of",
    "sort",
    "limit",
    "offset",
];

fn bad(m: impl Into<String>) -> PlanningError {
    PlanningError::BadRequest(m.into())
}

/// What is searched: zoning lots (planned use) or parcels (current use).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Candidates {
    /// Zoning lots of plans in force.
    Lots,
    /// Cadastral parcels.
    Parcels,
}

/// Where candidates must lie.
#[derive(Debug, Clone, PartialEq)]
pub enum Inside {
    /// An industrial zone or cluster (khu/cụm công nghiệp).
    Industrial,
    /// An economic zone (khu kinh tế, open or border-gate).
    Economic,
    /// Any zone of the `industrial_zones` layer.
    AnyZone,
    /// The zones whose name is this (without diacritics, or part of it).
    Named(String),
}

/// A distance condition: within `max_m` of a class of place, or of one
/// named place.
#[derive(Debug, Clone, PartialEq)]
pub struct NearSpec {
    /// The class or place as asked ("airport", "cảng biển", "Sân bay Chu Lai").
    pub what: String,
    /// Longest distance, metres.
    pub max_m: f64,
}

/// The order of results.
#[derive(Debug, Clone, PartialEq)]
pub enum Sort {
    /// Highest score first.
    Score,
    /// Largest area first.
    Area,
    /// Nearest to the place of this `near=` first.
    Distance(String),
}

/// A search, as read from a query string.
#[derive(Debug, Clone, PartialEq)]
pub struct SiteQuery {
    /// Lots or parcels.
    pub candidates: Candidates,
    /// Planned functions (lots), as asked.
    pub functions: Vec<String>,
    /// Land-use codes, as asked (upper case).
    pub uses: Vec<String>,
    /// Smallest area, m².
    pub min_area_m2: Option<f64>,
    /// Largest area, m².
    pub max_area_m2: Option<f64>,
    /// Smallest FAR the lot must allow.
    pub min_far: Option<f64>,
    /// Floors the lot must allow.
    pub min_floors: Option<i64>,
    /// Inside which zones.
    pub inside: Option<Inside>,
    /// Distance conditions, all of which must hold.
    pub near: Vec<NearSpec>,
    /// Leave out sites overlapping investment projects.
    pub exclude_projects: bool,
    /// Leave out sites within this many metres of water (0: crossing it).
    pub exclude_water_m: Option<f64>,
    /// Leave out sites within this many metres of defence or security land
    /// (0: overlapping it).
    pub exclude_defence_m: Option<f64>,
    /// Administrative unit, pre- or post-2025, code or name.
    pub unit: Option<String>,
    /// The day the plan and data are read as of.
    pub as_of: String,
    /// Order.
    pub sort: Sort,
    /// Page size.
    pub limit: usize,
    /// Results skipped.
    pub offset: usize,
}

/// "20000", "2ha", "2,5 ha", "150000 m2" as m².
fn parse_area(key: &str, v: &str) -> Result<f64, PlanningError> {
    let t = v.trim().to_lowercase().replace(',', ".");
    let (n, k) = if let Some(n) = t.strip_suffix("ha") {
        (n, 10_000.0)
    } else if let Some(n) = t.strip_suffix("m2").or_else(|| t.strip_suffix("m²")) {
        (n, 1.0)
    } else {
        (t.as_str(), 1.0)
    };
    match n.trim().parse::<f64>() {
        Ok(x) if x.is_finite() && x > 0.0 && x * k <= MAX_AREA_M2 => Ok(x * k),
        _ => Err(bad(format!(
            "{key}='{v}' is not an area above 0 and at most 100000 ha (m², or with the suffix ha)"
        ))),
    }
}

/// "30000", "30km", "500 m" as metres, checked against `min`.
fn parse_distance(key: &str, v: &str, allow_zero: bool) -> Result<f64, PlanningError> {
    let t = v.trim().to_lowercase().replace(',', ".");
    let (n, k) = if let Some(n) = t.strip_suffix("km") {
        (n, 1000.0)
    } else if let Some(n) = t.strip_suffix('m') {
        (n, 1.0)
    } else {
        (t.as_str(), 1.0)
    };
    match n.trim().parse::<f64>() {
        Ok(x) if x.is_finite() && (x > 0.0 || (allow_zero && x == 0.0)) && x * k <= MAX_DISTANCE_M => {
            Ok(x * k)
        }
        _ => Err(bad(format!(
            "{key}: '{v}' is not a distance {} 0 and at most 300 km (metres, or with the suffix km)",
            if allow_zero { "of at least" } else { "above" }
        ))),
    }
}

fn list(v: &str) -> impl Iterator<Item = &str> {
    v.split(',').map(str::trim).filter(|s| !s.is_empty())
}

impl SiteQuery {
    /// Reads a search from query-string pairs (`f` and other output
    /// parameters taken out by the caller); `today` is the default `as_of`.
    pub fn parse(pairs: &[(String, String)], today: &str) -> Result<SiteQuery, PlanningError> {
        let mut q = SiteQuery {
            candidates: Candidates::Lots,
            functions: vec![],
            uses: vec![],
            min_area_m2: None,
            max_area_m2: None,
            min_far: None,
            min_floors: None,
            inside: None,
            near: vec![],
            exclude_projects: false,
            exclude_water_m: None,
            exclude_defence_m: None,
            unit: None,
            as_of: today.to_owned(),
            sort: Sort::Score,
            limit: DEFAULT_LIMIT,
            offset: 0,
        };
        let mut seen: HashSet<&str> = HashSet::new();
        for (k, v) in pairs {
            let key = k.as_str();
            if !PARAMETERS.contains(&key) {
                return Err(bad(format!(
                    "unknown parameter '{key}'; a site search takes {} (and f=json|geojson|csv)",
                    PARAMETERS.join(", ")
                )));
            }
            let repeatable = matches!(key, "function" | "use" | "near" | "exclude");
            if !seen.insert(key) && !repeatable {
                return Err(bad(format!("{key} is given more than once")));
            }
            let v = v.trim();
            match key {
                "candidates" => {
                    q.candidates = match v {
                        "lots" | "zoning_lots" => Candidates::Lots,
                        "parcels" => Candidates::Parcels,
                        _ => return Err(bad(format!("candidates='{v}' must be lots or parcels"))),
                    }
                }
                "function" => q.functions.extend(list(v).map(str::to_owned)),
                "use" => q.uses.extend(list(v).map(|c| c.to_ascii_uppercase())),
                "min_area" => q.min_area_m2 = Some(parse_area(key, v)?),
                "max_area" => q.max_area_m2 = Some(parse_area(key, v)?),
                "min_far" => match v.replace(',', ".").parse::<f64>() {
                    Ok(x) if x.is_finite() && x > 0.0 && x <= 100.0 => q.min_far = Some(x),
                    _ => {
                        return Err(bad(format!(
                            "min_far='{v}' must be a number above 0 and at most 100"
                        )))
                    }
                },
                "min_floors" => match v.parse::<i64>() {
                    Ok(x) if (1..=200).contains(&x) => q.min_floors = Some(x),
                    _ => {
                        return Err(bad(format!(
                            "min_floors='{v}' must be a whole number from 1 to 200"
                        )))
                    }
                },
                "in" => {
                    q.inside =
                        Some(match fold(v).as_str() {
                            "" => return Err(bad(
                                "in= is empty; use industrial, economic, any-zone or a zone name",
                            )),
                            "industrial" | "iz" | "khu cong nghiep" => Inside::Industrial,
                            "economic" | "ez" | "khu kinh te" => Inside::Economic,
                            "any zone" | "any" | "zone" => Inside::AnyZone,
                            _ => Inside::Named(v.to_owned()),
                        })
                }
                "near" => {
                    for item in list(v) {
                        let Some((what, d)) = item.rsplit_once(':') else {
                            return Err(bad(format!(
                                "near='{item}' must be <class or place>:<metres>, e.g. near=airport:30000"
                            )));
                        };
                        if what.trim().is_empty() {
                            return Err(bad(format!("near='{item}' names no class or place")));
                        }
                        let max_m = parse_distance("near", d, false)?;
                        q.near.push(NearSpec {
                            what: what.trim().to_owned(),
                            max_m,
                        });
                    }
                }
                "exclude" => {
                    for item in list(v) {
                        let (what, d) = match item.split_once(':') {
                            Some((w, d)) => (w.trim(), Some(parse_distance("exclude", d, true)?)),
                            None => (item, None),
                        };
                        match what {
                            "projects" if d.is_none() => q.exclude_projects = true,
                            "projects" => {
                                return Err(bad("exclude=projects takes no distance: a site overlapping a project is taken"))
                            }
                            "water" => q.exclude_water_m = Some(d.unwrap_or(0.0)),
                            "defence" | "defense" => q.exclude_defence_m = Some(d.unwrap_or(0.0)),
                            _ => {
                                return Err(bad(format!(
                                    "exclude='{what}' is not one of projects, water[:metres], defence[:metres]"
                                )))
                            }
                        }
                    }
                }
                "unit" => {
                    if v.is_empty() {
                        return Err(bad("unit= is empty"));
                    }
                    q.unit = Some(v.to_owned())
                }
                "as_of" => {
                    if !is_day(v) {
                        return Err(bad(format!("as_of='{v}' is not a date (YYYY-MM-DD)")));
                    }
                    q.as_of = v.to_owned()
                }
                "sort" => {
                    q.sort = match v {
                        "score" => Sort::Score,
                        "area" => Sort::Area,
                        _ => match v.strip_prefix("distance:") {
                            Some(w) if !w.trim().is_empty() => Sort::Distance(w.trim().to_owned()),
                            _ => {
                                return Err(bad(format!(
                                    "sort='{v}' must be score, area or distance:<class of a near=>"
                                )))
                            }
                        },
                    }
                }
                "limit" => match v.parse::<usize>() {
                    Ok(n) if (1..=MAX_LIMIT).contains(&n) => q.limit = n,
                    _ => {
                        return Err(bad(format!(
                            "limit='{v}' must be a whole number from 1 to {MAX_LIMIT}"
                        )))
                    }
                },
                "offset" => match v.parse::<usize>() {
                    Ok(n) if n <= 10_000_000 => q.offset = n,
                    _ => return Err(bad(format!("offset='{v}' must be a whole number from 0"))),
                },
                _ => unreachable!("every listed parameter is handled"),
            }
        }
        if let (Some(a), Some(b)) = (q.min_area_m2, q.max_area_m2) {
            if a > b {
                return Err(bad(format!(
                    "min_area ({a} m²) is larger than max_area ({b} m²): the range is inverted"
                )));
            }
        }
        if let Sort::Distance(w) = &q.sort {
            if !q.near.iter().any(|n| fold(&n.what) == fold(w)) {
                return Err(bad(format!(
                    "sort=distance:{w} needs a near={w}:<metres> to measure the distance to"
                )));
            }
        }
        Ok(q)
    }

    /// The query string that reproduces this search: every parameter in a
    /// fixed order, values normalised, the day explicit (so the link gives
    /// the same answer tomorrow).
    pub fn canonical(&self) -> Vec<(&'static str, String)> {
        let mut out: Vec<(&'static str, String)> = Vec::new();
        out.push((
            "candidates",
            match self.candidates {
                Candidates::Lots => "lots",
                Candidates::Parcels => "parcels",
            }
            .into(),
        ));
        if !self.functions.is_empty() {
            out.push(("function", self.functions.join(",")));
        }
        if !self.uses.is_empty() {
            out.push(("use", self.uses.join(",")));
        }
        let num = |v: f64| format!("{}", round(v, 3));
        if let Some(a) = self.min_area_m2 {
            out.push(("min_area", num(a)));
        }
        if let Some(a) = self.max_area_m2 {
            out.push(("max_area", num(a)));
        }
        if let Some(f) = self.min_far {
            out.push(("min_far", num(f)));
        }
        if let Some(f) = self.min_floors {
            out.push(("min_floors", f.to_string()));
        }
        if let Some(i) = &self.inside {
            out.push((
                "in",
                match i {
                    Inside::Industrial => "industrial".into(),
                    Inside::Economic => "economic".into(),
                    Inside::AnyZone => "any-zone".into(),
                    Inside::Named(n) => n.clone(),
                },
            ));
        }
        for n in &self.near {
            out.push(("near", format!("{}:{}", n.what, num(n.max_m))));
        }
        let mut ex = Vec::new();
        if self.exclude_projects {
            ex.push("projects".to_string());
        }
        if let Some(m) = self.exclude_water_m {
            ex.push(format!("water:{}", num(m)));
        }
        if let Some(m) = self.exclude_defence_m {
            ex.push(format!("defence:{}", num(m)));
        }
        if !ex.is_empty() {
            out.push(("exclude", ex.join(",")));
        }
        if let Some(u) = &self.unit {
            out.push(("unit", u.clone()));
        }
        out.push(("as_of", self.as_of.clone()));
        out.push((
            "sort",
            match &self.sort {
                Sort::Score => "score".into(),
                Sort::Area => "area".into(),
                Sort::Distance(w) => format!("distance:{w}"),
            },
        ));
        out.push(("limit", self.limit.to_string()));
        out.push(("offset", self.offset.to_string()));
        out
    }
}

/// English names of classes of place, and the Vietnamese class (the
/// folded `kind` of `pois` or `industrial_zones`, or `road_class` of
/// `roads`) each stands for; a class ending in `*` takes every kind that
/// begins so.
pub const CLASS_ALIASES: &[(&str, &str)] = &[
    ("airport", "san bay"),
    ("seaport", "cang bien"),
    ("port", "cang bien"),
    ("railway_station", "ga duong sat"),
    ("station", "ga duong sat"),
    ("admin_centre", "trung tam hanh chinh"),
    ("city_centre", "trung tam hanh chinh"),
    ("centre", "trung tam hanh chinh"),
    ("market", "cho"),
    ("heritage", "di san"),
    ("scenic", "danh thang"),
    ("tourism", "khu du lich"),
    ("iz", "khu cong nghiep"),
    ("industrial_zone", "khu cong nghiep"),
    ("economic_zone", "khu kinh te*"),
    ("border_gate", "khu kinh te cua khau"),
    ("hi_tech_park", "khu cong nghe cao"),
    ("national_road", "quoc lo"),
    ("expressway", "duong cao toc"),
    ("provincial_road", "tinh lo"),
];

/// English names of planned functions and the function each stands for.
pub const FUNCTION_ALIASES: &[(&str, &str)] = &[
    ("industry", "cong nghiep"),
    ("industrial", "cong nghiep"),
    ("light_industry", "cong nghiep"),
    ("warehouse", "kho bai"),
    ("logistics", "kho bai"),
    ("commercial", "thuong mai dich vu"),
    ("mixed", "hon hop"),
    ("residential", "o"),
    ("public", "cong cong"),
    ("education", "giao duc"),
    ("health", "y te"),
    ("green", "cay xanh"),
    ("utilities", "ha tang ky thuat"),
];

/// A function's folded name without "đất".
fn function_key(f: &str) -> String {
    let f = fold(f);
    match f.strip_prefix("dat ") {
        Some(r) => r.to_owned(),
        None => f,
    }
}

/// True when the asked function `want` (folded, "đất" dropped) names the
/// lot function `have`: the same words, or its first words.
fn function_matches(want: &str, have: &str) -> bool {
    have == want || have.starts_with(&format!("{want} "))
}

/// A place distances are measured to.
#[derive(Debug, Clone)]
struct Place {
    name: String,
    class: String,
}

/// A piece of a place's geometry, in both planes.
struct Chunk {
    place: usize,
    merc: Rect<f64>,
    plane: Geometry<f64>,
}

/// One distance condition, resolved.
struct Clause {
    spec: NearSpec,
    places: Vec<Place>,
    chunks: Vec<Chunk>,
    /// The chunks' Web Mercator boxes (data = index in `chunks`): the
    /// chunks within reach of a site in a few node visits, where a walk of
    /// every chunk of a province's national roads cost each candidate
    /// thousands of box distances.
    index: RTree<GeomWithData<Rectangle<[f64; 2]>, usize>>,
}

/// The geometry of every place of a class or name, cut into chunks.
fn chunks_of(g: &Geometry<f64>, place: usize, out: &mut Vec<Chunk>) -> Result<(), PlanningError> {
    let plane_line = |pts: &[Coord<f64>]| -> Result<LineString<f64>, PlanningError> {
        let mut v = pts.to_vec();
        crs::transform(WEB_MERCATOR, VN2000_TM3_10745, &mut v)
            .map_err(|e| bad(format!("a place lies outside EPSG:5899: {e}")))?;
        Ok(LineString(v))
    };
    let push_line = |l: &LineString<f64>, out: &mut Vec<Chunk>| -> Result<(), PlanningError> {
        let pts = &l.0;
        let mut i = 0;
        while i + 1 < pts.len() {
            let j = (i + CHUNK).min(pts.len() - 1);
            let piece = &pts[i..=j];
            if let Some(r) = LineString(piece.to_vec()).bounding_rect() {
                out.push(Chunk {
                    place,
                    merc: r,
                    plane: Geometry::LineString(plane_line(piece)?),
                });
            }
            i = j;
        }
        Ok(())
    };
    match g {
        Geometry::Point(p) => {
            let c = crs::transform_one(WEB_MERCATOR, VN2000_TM3_10745, p.0)
                .map_err(|e| bad(format!("a place lies outside EPSG:5899: {e}")))?;
            out.push(Chunk {
                place,
                merc: Rect::new(p.0, p.0),
                plane: Geometry::Point(Point(c)),
            });
        }
        Geometry::MultiPoint(mp) => {
            for p in &mp.0 {
                chunks_of(&Geometry::Point(*p), place, out)?;
            }
        }
        Geometry::LineString(l) => push_line(l, out)?,
        Geometry::MultiLineString(ml) => {
            for l in &ml.0 {
                push_line(l, out)?;
            }
        }
        _ => {
            let mp = polygons(g);
            for p in mp.0 {
                let Some(r) = p.bounding_rect() else { continue };
                let one = MultiPolygon(vec![p]);
                let plane = to_plane(&one)?;
                out.push(Chunk {
                    place,
                    merc: r,
                    plane: Geometry::MultiPolygon(plane),
                });
            }
        }
    }
    Ok(())
}

/// The places of a layer, with their class field.
struct Source<'a> {
    layer: &'a Layer,
    class_field: &'static str,
    name_fields: &'static [&'static str],
}

fn text_at(d: &LayerData, row: usize, col: Option<usize>) -> Option<&str> {
    match col.map(|c| d.value(row, c)) {
        Some(ValueRef::Text(s)) => Some(s),
        _ => None,
    }
}

fn num_at(d: &LayerData, row: usize, col: Option<usize>) -> Option<f64> {
    col.and_then(|c| d.value(row, c).as_f64())
}

fn int_at(d: &LayerData, row: usize, col: Option<usize>) -> Option<i64> {
    match col.map(|c| d.value(row, c)) {
        Some(ValueRef::Int(i)) => Some(i),
        Some(v) => v.as_f64().map(|f| f as i64),
        None => None,
    }
}

/// Live features of a layer valid on `day`.
fn live_on<'a>(l: &'a Layer, day: &'a str) -> impl Iterator<Item = FeatureRef> + 'a {
    let t = temporal_of(l);
    let mut v = Vec::new();
    l.for_each_match(None, None, |f| {
        if l.valid_on(t.as_ref(), f, day) {
            v.push(f)
        }
    });
    v.sort_by_key(|f| f.fid);
    v.into_iter()
}

/// Resolves a `near=` to its places: an English alias, a class as the
/// data spells it, or the name of one place.
fn resolve_clause(sources: &[Source], spec: &NearSpec, day: &str) -> Result<Clause, PlanningError> {
    let want = fold(&spec.what);
    let alias = CLASS_ALIASES
        .iter()
        .find(|(a, _)| fold(a) == want || *a == spec.what.to_ascii_lowercase())
        .map(|(_, c)| *c);
    let class_of = |k: &str| -> bool {
        let k = fold(k);
        match alias {
            Some(a) => match a.strip_suffix('*') {
                Some(prefix) => k.starts_with(prefix),
                None => k == a,
            },
            None => k == want,
        }
    };
    let mut by_class: Vec<(Place, Geometry<f64>)> = Vec::new();
    let mut by_name: Vec<(Place, Geometry<f64>)> = Vec::new();
    let mut by_part_of_name: Vec<(Place, Geometry<f64>)> = Vec::new();
    let mut classes: BTreeSet<String> = BTreeSet::new();
    for s in sources {
        for f in live_on(s.layer, day) {
            let d = s.layer.data(f.part);
            let row = f.row as usize;
            let class = text_at(d, row, d.field_index(s.class_field)).unwrap_or_default();
            if !class.is_empty() {
                classes.insert(class.to_owned());
            }
            let name = s
                .name_fields
                .iter()
                .find_map(|n| text_at(d, row, d.field_index(n)))
                .unwrap_or(class)
                .to_owned();
            let Some(g) = d.geometry_of(row) else {
                continue;
            };
            let place = Place {
                name: name.clone(),
                class: class.to_owned(),
            };
            if !class.is_empty() && class_of(class) {
                by_class.push((place, g));
            } else if alias.is_none() && fold(&name) == want {
                by_name.push((place, g));
            } else if alias.is_none() && want.len() >= 3 && fold(&name).contains(&want) {
                by_part_of_name.push((place, g));
            }
        }
    }
    let found = if !by_class.is_empty() {
        by_class
    } else if !by_name.is_empty() {
        by_name
    } else {
        by_part_of_name
    };
    if found.is_empty() {
        let mut known: Vec<String> = classes.into_iter().collect();
        known.extend(CLASS_ALIASES.iter().map(|(a, _)| a.to_string()));
        return Err(bad(format!(
            "near: '{}' is no class of place and no place's name; classes: {}",
            spec.what,
            known.join(", ")
        )));
    }
    let mut places = Vec::with_capacity(found.len());
    let mut chunks = Vec::new();
    for (i, (p, g)) in found.into_iter().enumerate() {
        chunks_of(&g, i, &mut chunks)?;
        places.push(p);
    }
    let index = RTree::bulk_load(
        chunks
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let (a, b) = (c.merc.min(), c.merc.max());
                GeomWithData::new(Rectangle::from_corners([a.x, a.y], [b.x, b.y]), i)
            })
            .collect(),
    );
    Ok(Clause {
        spec: spec.clone(),
        places,
        chunks,
        index,
    })
}

/// Distance between two rectangles (0 when they meet).
fn rect_gap(a: &Rect<f64>, b: &Rect<f64>) -> f64 {
    let dx = (b.min().x - a.max().x).max(a.min().x - b.max().x).max(0.0);
    let dy = (b.min().y - a.max().y).max(a.min().y - b.max().y).max(0.0);
    dx.hypot(dy)
}

/// How much shorter than a Web Mercator distance a legal-plane distance
/// can be, at most, near `r`: `cos φ` at the latitude farthest from the
/// equator (Mercator's scale is `sec φ`), times TM-3's least scale
/// (0.9999), with 1 % to spare.
fn shrink(r: &Rect<f64>) -> f64 {
    let y = r.max().y.abs().max(r.min().y.abs()) + 200_000.0;
    let lat = crs::mercator_to_lonlat(Coord { x: 0.0, y }).y.to_radians();
    lat.cos() * 0.9999 * 0.99
}

/// The chunks of a clause whose lower bound on the legal-plane distance
/// to a site with Web Mercator box `merc` is within the clause's reach,
/// with that bound. Every chunk whose box gap times `k` is within `max`
/// meets the site's box grown by `max / k` (with a hair to spare for
/// rounding), so the index answers a superset the exact test narrows.
fn within_reach<'a>(
    clause: &'a Clause,
    merc: &'a Rect<f64>,
    k: f64,
) -> impl Iterator<Item = (f64, usize)> + 'a {
    let max = clause.spec.max_m;
    let reach = max / k * (1.0 + 1e-9) + 1e-6;
    let (a, b) = (merc.min(), merc.max());
    let around = AABB::from_corners([a.x - reach, a.y - reach], [b.x + reach, b.y + reach]);
    clause
        .index
        .locate_in_envelope_intersecting(&around)
        .map(move |e| (rect_gap(merc, &clause.chunks[e.data].merc) * k, e.data))
        .filter(move |(lb, _)| *lb <= max)
}

/// True when some place of a clause may lie within reach of a site with
/// Web Mercator box `merc`: false proves none does.
fn in_reach(clause: &Clause, merc: &Rect<f64>, k: f64) -> bool {
    within_reach(clause, merc, k).next().is_some()
}

/// A candidate's distance to a clause's nearest place, if within reach.
fn nearest(
    clause: &Clause,
    merc: &Rect<f64>,
    plane: &mut dyn FnMut() -> Result<Geometry<f64>, PlanningError>,
    k: f64,
) -> Result<Option<(usize, f64)>, PlanningError> {
    let max = clause.spec.max_m;
    let mut lbs: Vec<(f64, usize)> = within_reach(clause, merc, k).collect();
    if lbs.is_empty() {
        return Ok(None);
    }
    // Ties go by chunk order, so the place named does not depend on the
    // order the index gives them in.
    lbs.sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let g = plane()?;
    let mut best: Option<(usize, f64)> = None;
    for (lb, i) in lbs {
        if best.is_some_and(|(_, d)| lb > d) {
            break;
        }
        let c = &clause.chunks[i];
        let d = Euclidean.distance(&g, &c.plane);
        if d <= max && best.is_none_or(|(_, b)| d < b) {
            best = Some((c.place, d));
        }
    }
    Ok(best)
}

/// A zone candidates may have to lie in.
struct ZoneShape {
    name: String,
    kind: String,
    bbox: Rect<f64>,
    shape: MultiPolygon<f64>,
}

/// The zone a site is in.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ZoneRef {
    /// Zone name.
    pub name: String,
    /// Its kind.
    pub kind: String,
}

/// A distance that qualified a site.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct DistanceFact {
    /// The `near=` as asked.
    pub near: String,
    /// The nearest place of it.
    pub to: String,
    /// Its class.
    pub class: String,
    /// Straight-line distance in EPSG:5899, m (0 when inside or touching).
    pub m: f64,
    /// The limit asked, m.
    pub max_m: f64,
}

/// Where a site lies, before and after the 2025 merger.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SiteUnits {
    /// The pre-2025 commune.
    pub commune: Option<Unit>,
    /// The pre-2025 district.
    pub district: Option<Unit>,
    /// The 2025 unit.
    pub unit_2025: Option<Unit>,
}

/// One site found.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SiteHit {
    /// `lot` or `parcel`.
    pub kind: &'static str,
    /// The layer it comes from.
    pub layer: &'static str,
    /// Its feature id.
    pub fid: i64,
    /// Lot: plan code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan_code: Option<String>,
    /// Lot: zone symbol.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zone_code: Option<String>,
    /// Lot: lot symbol.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lot_symbol: Option<String>,
    /// Lot: planned function.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub function: Option<String>,
    /// Lot: maximum building density, %.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub density_pct: Option<f64>,
    /// Lot: floors, least.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub floors_min: Option<i64>,
    /// Lot: floors, most.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub floors_max: Option<i64>,
    /// Lot: maximum FAR.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub far: Option<f64>,
    /// Lot: maximum gross floor area, FAR × area, m².
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_gfa_m2: Option<f64>,
    /// Parcel: commune code of the cadastral key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commune_code: Option<String>,
    /// Parcel: map sheet.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sheet_number: Option<i64>,
    /// Parcel: parcel number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parcel_number: Option<i64>,
    /// Parcel: land-use code as recorded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub land_use_code: Option<String>,
    /// Parcel: its name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub land_use_name: Option<String>,
    /// Area, m²: the parcel's legal area, the lot's plan area.
    pub area_m2: f64,
    /// The zone it lies in.
    pub zone: Option<ZoneRef>,
    /// Its administrative units.
    pub units: SiteUnits,
    /// The distances that qualified it, one per `near=`.
    pub distances: Vec<DistanceFact>,
    /// Its score (see the answer's `score`).
    pub score: f64,
    /// An interior point, lon/lat.
    pub point: [f64; 2],
}

/// The score's formula, stated.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ScoreRule {
    /// As a formula.
    pub formula: &'static str,
    /// In Vietnamese.
    pub vi: &'static str,
    /// In English.
    pub en: &'static str,
}

/// The score rule of every search.
pub const SCORE: ScoreRule = ScoreRule {
    formula: "score = mean over near= of (1 - distance_m / max_m); 1 without near=",
    vi: "Điểm = trung bình của (1 − khoảng cách / khoảng cách tối đa) theo từng điều kiện near=; bằng 1 khi không có near=. Kết quả bằng điểm xếp theo diện tích lớn hơn trước.",
    en: "Score = the mean of (1 − distance / limit) over the near= conditions; 1 without near=. Equal scores rank larger sites first.",
};

/// The answer to a search.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SiteResults {
    /// The day read.
    pub as_of: String,
    /// Lots or parcels.
    pub candidates: Candidates,
    /// Sites found in all.
    pub total: usize,
    /// Results skipped.
    pub offset: usize,
    /// Page size.
    pub limit: usize,
    /// How the score is computed.
    pub score: ScoreRule,
    /// The land-use codes searched for, after old codes were mapped.
    pub uses: Vec<String>,
    /// The lot functions searched for, as the plans name them.
    pub functions: Vec<String>,
    /// This page.
    pub results: Vec<SiteHit>,
    /// Remarks: codes mapped, layers missing.
    pub notes: Vec<String>,
}

/// Columns of the candidate layer, per part.
struct Cols {
    function: Option<usize>,
    plan: Option<usize>,
    area: Option<usize>,
    far: Option<usize>,
    floors_max: Option<usize>,
    use_code: Option<usize>,
    commune: Option<usize>,
}

impl Cols {
    fn of(d: &LayerData) -> Cols {
        let c = |n: &str| d.field_index(n);
        Cols {
            function: c("function"),
            plan: c("plan_code"),
            area: c("area_m2").or_else(|| c("legal_area")),
            far: c("far"),
            floors_max: c("floors_max"),
            use_code: c("land_use_code"),
            commune: c("commune_code"),
        }
    }
}

/// A site that passed every filter.
struct Found {
    f: FeatureRef,
    area: f64,
    zone: Option<usize>,
    dists: Vec<(usize, f64)>,
    score: f64,
}

/// Runs a search over one snapshot. `tolerance_m` is the sliver tolerance
/// for overlaps with projects and defence land.
pub fn search(
    cat: &Catalog,
    q: &SiteQuery,
    tolerance_m: f64,
) -> Result<SiteResults, PlanningError> {
    let day = q.as_of.as_str();
    let mut notes = Vec::new();
    let (layer_id, kind) = match q.candidates {
        Candidates::Lots => (ZONING_LOTS, "lot"),
        Candidates::Parcels => (PARCELS, "parcel"),
    };
    let l = cat
        .layer(layer_id)
        .ok_or(PlanningError::MissingLayer(layer_id))?;
    let lots_layer = cat.layer(ZONING_LOTS);

    // Functions the data knows, and what each asked one names.
    let mut known_functions: BTreeSet<String> = BTreeSet::new();
    if let Some(z) = lots_layer {
        for part in [Part::Base, Part::Delta] {
            let d = z.data(part);
            let c = d.field_index("function");
            for row in 0..d.len() {
                if let Some(f) = text_at(d, row, c) {
                    if !known_functions.contains(f) {
                        known_functions.insert(f.to_owned());
                    }
                }
            }
        }
    }
    let mut functions: Vec<String> = Vec::new();
    for asked in &q.functions {
        let key = FUNCTION_ALIASES
            .iter()
            .find(|(a, _)| *a == asked.to_ascii_lowercase())
            .map_or_else(|| function_key(asked), |(_, f)| f.to_string());
        let named: Vec<&String> = known_functions
            .iter()
            .filter(|f| function_matches(&key, &function_key(f)))
            .collect();
        if named.is_empty() {
            return Err(bad(format!(
                "function: '{asked}' names no planned function of the zoning lots; functions: {}; or in English: {}",
                known_functions.iter().cloned().collect::<Vec<_>>().join(", "),
                FUNCTION_ALIASES.iter().map(|a| a.0).collect::<Vec<_>>().join(", ")
            )));
        }
        for f in named {
            if !functions.contains(f) {
                functions.push(f.clone());
            }
        }
    }
    // Land-use codes, old ones mapped to current.
    let mut uses: Vec<String> = Vec::new();
    for c in &q.uses {
        if lookup(c).is_none() {
            return Err(bad(format!(
                "use: '{c}' is not a land-use code (TT 08/2024: ODT, TMD, SKK, SKC, …)"
            )));
        }
        let cur = current(c);
        if cur != *c {
            notes.push(format!(
                "use {c} is a legacy code: searched as {cur} (TT 08/2024)"
            ));
        }
        if !uses.contains(&cur) {
            uses.push(cur);
        }
    }
    // A parcel search by function: the land uses the functions allow.
    let mut parcel_uses = uses.clone();
    if q.candidates == Candidates::Parcels && !functions.is_empty() {
        let mut from_functions: Vec<String> = Vec::new();
        for f in &functions {
            match allowed_uses(f) {
                Some(codes) => from_functions.extend(codes.iter().map(|c| c.to_string())),
                None => {
                    return Err(bad(format!(
                    "function '{f}' allows no listed land use to search parcels by; use use=<code>"
                )))
                }
            }
        }
        notes.push(format!(
            "parcels searched by the land uses the functions allow: {}",
            from_functions.join(", ")
        ));
        parcel_uses = if parcel_uses.is_empty() {
            from_functions
        } else {
            parcel_uses.retain(|c| from_functions.contains(c));
            parcel_uses
        };
        if parcel_uses.is_empty() {
            parcel_uses.push("—".into());
        }
    }
    if q.candidates == Candidates::Parcels && (q.min_far.is_some() || q.min_floors.is_some()) {
        return Err(bad(
            "min_far and min_floors are zoning-lot indicators; parcels carry none (use candidates=lots)",
        ));
    }

    // Plans in force on the day (lots).
    let mut in_force: HashSet<String> = HashSet::new();
    if q.candidates == Candidates::Lots {
        let p = cat.layer(PLANS).ok_or(PlanningError::MissingLayer(PLANS))?;
        for f in live_on(p, day) {
            let d = p.data(f.part);
            let row = f.row as usize;
            let status = text_at(d, row, d.field_index("status")).unwrap_or_default();
            let approved = text_at(d, row, d.field_index("approval_date"));
            if status_in_force(status) && approved.is_some_and(|a| a <= day) {
                if let Some(c) = text_at(d, row, d.field_index("code")) {
                    in_force.insert(c.to_owned());
                }
            }
        }
    }

    // Zones.
    let mut zones: Vec<ZoneShape> = Vec::new();
    if let Some(inside) = &q.inside {
        let z = cat.layer(ZONES).ok_or(PlanningError::MissingLayer(ZONES))?;
        let mut names = Vec::new();
        for f in live_on(z, day) {
            let d = z.data(f.part);
            let row = f.row as usize;
            let name = text_at(d, row, d.field_index("name")).unwrap_or_default();
            let kind = text_at(d, row, d.field_index("kind")).unwrap_or_default();
            names.push(name.to_owned());
            let fk = fold(kind);
            let take = match inside {
                Inside::Industrial => fk.contains("cong nghiep"),
                Inside::Economic => fk.starts_with("khu kinh te"),
                Inside::AnyZone => true,
                Inside::Named(n) => {
                    let fname = fold(name);
                    let fnn = fold(n);
                    fname == fnn || fname.contains(&fnn)
                }
            };
            if !take {
                continue;
            }
            let shape = d
                .geometry_of(row)
                .map_or(MultiPolygon(vec![]), |g| polygons(&g));
            let Some(bbox) = shape.bounding_rect() else {
                continue;
            };
            zones.push(ZoneShape {
                name: name.to_owned(),
                kind: kind.to_owned(),
                bbox,
                shape,
            });
        }
        if let (Inside::Named(n), true) = (inside, zones.is_empty()) {
            return Err(bad(format!(
                "in: no zone is named '{n}'; zones: {}",
                names.join(", ")
            )));
        }
    }

    // Distance conditions.
    let mut sources = Vec::new();
    for (id, class_field, name_fields) in [
        (POIS, "kind", &["name"][..]),
        (ZONES, "kind", &["name"][..]),
        (ROADS, "road_class", &["ref", "name"][..]),
    ] {
        if let Some(layer) = cat.layer(id) {
            sources.push(Source {
                layer,
                class_field,
                name_fields,
            });
        } else if !q.near.is_empty() {
            notes.push(format!(
                "layer {id} is not loaded: its places are not searched"
            ));
        }
    }
    let clauses: Vec<Clause> = q
        .near
        .iter()
        .map(|n| resolve_clause(&sources, n, day))
        .collect::<Result<_, _>>()?;

    // Administrative unit.
    let gaz = Gazetteer::from_catalog(cat).unwrap_or_default();
    let mut unit_communes: Option<HashSet<String>> = None;
    let mut unit_rects: Vec<Rect<f64>> = Vec::new();
    let admin = cat.layer(ADMIN_UNITS);
    if let Some(u) = &q.unit {
        let codes: HashSet<String> = gaz.resolve(u).into_iter().map(|(c, _)| c).collect();
        if codes.is_empty() {
            return Err(bad(format!(
                "unit: no administrative unit, old or new, is named '{u}'{}",
                match gaz.suggest(u) {
                    s if s.is_empty() => String::new(),
                    s => format!("; did you mean {}?", s.join(", ")),
                }
            )));
        }
        if let Some(a) = admin {
            a.for_each_match(None, None, |f| {
                let d = a.data(f.part);
                let row = f.row as usize;
                let is_commune = text_at(d, row, d.field_index("level")) == Some("commune");
                let code = text_at(d, row, d.field_index("code"));
                if is_commune && code.is_some_and(|c| codes.contains(c)) {
                    if let Some(r) = d.geometry_of(row).and_then(|g| g.bounding_rect()) {
                        unit_rects.push(r);
                    }
                }
            });
        }
        unit_communes = Some(codes);
    }
    // The commune a lot lies in (pre-2025 code), by its interior point.
    let commune_at = |p: Coord<f64>| super::projects::commune_code_at(cat, p);

    // Exclusions.
    let projects = if q.exclude_projects {
        Some(
            cat.layer(PROJECTS)
                .ok_or(PlanningError::MissingLayer(PROJECTS))?,
        )
    } else {
        None
    };
    let project_t = projects.and_then(|p| temporal_of(p));
    let water = match q.exclude_water_m {
        Some(_) => Some(cat.layer(WATER).ok_or(PlanningError::MissingLayer(WATER))?),
        None => None,
    };
    let parcels = cat.layer(PARCELS);
    if q.exclude_defence_m.is_some() && parcels.is_none() {
        return Err(PlanningError::MissingLayer(PARCELS));
    }

    // Candidate regions: the smallest of the spatial conditions drives.
    let mut regions: Vec<Vec<Rect<f64>>> = Vec::new();
    if q.inside.is_some() {
        regions.push(zones.iter().map(|z| z.bbox).collect());
    }
    for c in &clauses {
        regions.push(
            c.chunks
                .iter()
                .map(|ch| grow_rect(ch.merc, c.spec.max_m / shrink(&ch.merc)))
                .collect(),
        );
    }
    if q.unit.is_some() {
        regions.push(unit_rects.clone());
    }
    let cols = [Cols::of(l.data(Part::Base)), Cols::of(l.data(Part::Delta))];
    let temporal = temporal_of(l);
    let use_set: &Vec<String> = match q.candidates {
        Candidates::Lots => &uses,
        Candidates::Parcels => &parcel_uses,
    };
    // Per part, which codes of the land-use column's dictionary are asked
    // for: a million parcels are then filtered by one lookup each.
    let use_masks: Vec<Option<(Vec<bool>, &[u32])>> = [Part::Base, Part::Delta]
        .iter()
        .map(|&p| {
            let d = l.data(p);
            match &d.columns[d.field_index("land_use_code")?] {
                Column::Text { dict, codes } => Some((
                    (0..dict.len())
                        .map(|i| {
                            super::landuse::codes_of(dict.get(i))
                                .iter()
                                .any(|lu| use_set.contains(&current(&lu.code)))
                        })
                        .collect(),
                    codes.as_slice(),
                )),
                _ => None,
            }
        })
        .collect();
    let extent_area = |rs: &Vec<Rect<f64>>| rs.iter().map(|r| r.width() * r.height()).sum::<f64>();
    let driver = regions
        .into_iter()
        .min_by(|a, b| extent_area(a).total_cmp(&extent_area(b)));
    // Parcels of the asked land uses and size, in the driver's rectangles,
    // by one pass over those two columns and a raster of the rectangles,
    // when the rectangles hold much of the layer: walking the index for
    // every parcel within reach of a national road, or of the airport in
    // the city centre, cost ten times as much.
    let by_attributes = match (&driver, q.candidates, l.extent()) {
        (Some(rs), Candidates::Parcels, Some(extent)) if !use_set.is_empty() => {
            let share = l.spatial_index(Part::Base).share_meeting_any(rs);
            if share * ATTRIBUTE_SHARE as f64 >= 1.0 {
                // Fewer by their attributes than in the rectangles: each
                // costs about what one from the index walk does (a box
                // read), so the smaller set drives.
                let cap = (share * l.len() as f64) as usize;
                rows_by_attributes(l, &use_masks, &cols, q.min_area_m2, q.max_area_m2, cap)
                    .map(|rows| in_raster(l, rows, &Raster::of(rs, &extent)))
            } else {
                None
            }
        }
        // With no condition on where, the same pass; collected (and so
        // judged on every core) while they are a quarter of the layer at
        // most.
        (None, Candidates::Parcels, _) if !use_set.is_empty() => {
            let cap = l.len() / 4;
            rows_by_attributes(l, &use_masks, &cols, q.min_area_m2, q.max_area_m2, cap)
        }
        _ => None,
    };
    // Without a spatial driver every live feature is a candidate: walked
    // in place, never collected (5M parcels would be an 80 MB list).
    // Candidates collected are judged on every core.
    enum Cands<'a> {
        Rows(Vec<FeatureRef>),
        Walk(Box<dyn Iterator<Item = FeatureRef> + 'a>),
    }
    let cands = match (&driver, by_attributes) {
        (_, Some(rows)) => Cands::Rows(rows),
        (None, None) => Cands::Walk(Box::new([Part::Base, Part::Delta].into_iter().flat_map(
            |part| {
                let d = l.data(part);
                (0..d.len())
                    .filter(move |&row| l.is_live(part, row))
                    .map(move |row| FeatureRef {
                        part,
                        row: row as u32,
                        fid: d.fids[row],
                    })
            },
        ))),
        (Some(rs), None) => Cands::Rows(in_any(l, rs)),
    };

    // Lot functions allowed by the asked uses.
    let function_allows = |f: &str| -> bool {
        allowed_uses(f).is_some_and(|a| a.iter().any(|c| uses.iter().any(|u| u == c)))
    };
    // Every condition, on one candidate: the site found, or None.
    let judge = |f: FeatureRef| -> Result<Option<Found>, PlanningError> {
        let part_ix = (f.part == Part::Delta) as usize;
        let c = &cols[part_ix];
        let d = l.data(f.part);
        let row = f.row as usize;
        // Attributes first: they cost nothing.
        match q.candidates {
            Candidates::Lots => {
                if !text_at(d, row, c.plan).is_some_and(|p| in_force.contains(p)) {
                    return Ok(None);
                }
                let func = text_at(d, row, c.function).unwrap_or_default();
                if !functions.is_empty() && !functions.iter().any(|x| x == func) {
                    return Ok(None);
                }
                if !uses.is_empty() && !function_allows(func) {
                    return Ok(None);
                }
                if let Some(m) = q.min_far {
                    if num_at(d, row, c.far).is_none_or(|v| v + 1e-9 < m) {
                        return Ok(None);
                    }
                }
                if let Some(m) = q.min_floors {
                    if int_at(d, row, c.floors_max).is_none_or(|v| v < m) {
                        return Ok(None);
                    }
                }
            }
            Candidates::Parcels => {
                // The land use first (one lookup in the asked codes of the
                // column's dictionary), then the legal area (one number).
                if !use_set.is_empty() {
                    let ok = match &use_masks[part_ix] {
                        Some((mask, codes)) => codes
                            .get(row)
                            .and_then(|&k| mask.get(k as usize))
                            .copied()
                            .unwrap_or(false),
                        None => {
                            let v = text_at(d, row, c.use_code).unwrap_or_default();
                            super::landuse::codes_of(v)
                                .iter()
                                .any(|lu| use_set.contains(&current(&lu.code)))
                        }
                    };
                    if !ok {
                        return Ok(None);
                    }
                }
                if let Some(a) = num_at(d, row, c.area) {
                    if q.min_area_m2.is_some_and(|m| a < m) || q.max_area_m2.is_some_and(|m| a > m)
                    {
                        return Ok(None);
                    }
                }
                if let (Some(set), Some(cc)) = (&unit_communes, c.commune) {
                    if !text_at(d, row, Some(cc)).is_some_and(|x| set.contains(x)) {
                        return Ok(None);
                    }
                }
            }
        }
        // Then the day: two dates read, on the few left.
        if !l.valid_on(temporal.as_ref(), f, day) {
            return Ok(None);
        }
        // A point inside the site, only when a condition needs one: it costs
        // more than every other step for a parcel (a search matching a
        // million parcels spent 80 % of its time here).
        let needs_inner = q.inside.is_some()
            || (unit_communes.is_some()
                && (q.candidates == Candidates::Lots || c.commune.is_none()));
        // With the area known and nothing asked about where the site lies or
        // what is near it, the geometry itself is not needed.
        let geometry_free = !needs_inner
            && clauses.is_empty()
            && projects.is_none()
            && q.exclude_water_m.is_none()
            && q.exclude_defence_m.is_none();
        if let Some(area) = num_at(d, row, c.area).filter(|_| geometry_free) {
            if d.geometry.coords_of(row).is_empty()
                || q.min_area_m2.is_some_and(|m| area < m)
                || q.max_area_m2.is_some_and(|m| area > m)
            {
                return Ok(None);
            }
            return Ok(Some(Found {
                f,
                area,
                zone: None,
                dists: Vec::new(),
                score: 1.0,
            }));
        }
        // Out of every place's reach, or outside every zone's box, by the
        // box of its coordinates: no geometry built for it. That box holds
        // the site's, so nothing within reach is left out here.
        if !clauses.is_empty() || q.inside.is_some() {
            if let Some(b) = d.geometry.bbox(row) {
                let k = shrink(&b);
                if clauses.iter().any(|cl| !in_reach(cl, &b, k))
                    || (q.inside.is_some() && !zones.iter().any(|z| z.bbox.intersects(&b)))
                {
                    return Ok(None);
                }
            }
        }
        let Some(g) = d.geometry_of(row) else {
            return Ok(None);
        };
        let mp = polygons(&g);
        let Some(bbox) = mp.bounding_rect() else {
            return Ok(None);
        };
        let area = match num_at(d, row, c.area) {
            Some(a) => a,
            None => super::overlay::area_m2(&mp)?,
        };
        if q.min_area_m2.is_some_and(|m| area < m) || q.max_area_m2.is_some_and(|m| area > m) {
            return Ok(None);
        }
        let inner = if needs_inner {
            mp.interior_point().map(|p| p.0)
        } else {
            None
        };
        // Unit of a lot, by where it lies.
        let by_place = q.candidates == Candidates::Lots || c.commune.is_none();
        if let (Some(set), true) = (&unit_communes, by_place) {
            if !inner
                .and_then(&commune_at)
                .is_some_and(|code| set.contains(&code))
            {
                return Ok(None);
            }
        }
        let mut zone = None;
        if q.inside.is_some() {
            let Some(p) = inner else { return Ok(None) };
            zone = zones.iter().position(|z| {
                z.bbox.intersects(&p) && geo::Contains::contains(&z.shape, &Point(p))
            });
            if zone.is_none() {
                return Ok(None);
            }
        }
        // Distances, measured in the legal plane.
        let k = shrink(&bbox);
        let mut plane_cache: Option<Geometry<f64>> = None;
        let mut plane = || -> Result<Geometry<f64>, PlanningError> {
            if let Some(p) = &plane_cache {
                return Ok(p.clone());
            }
            let p = Geometry::MultiPolygon(to_plane(&mp)?);
            plane_cache = Some(p.clone());
            Ok(p)
        };
        let mut dists = Vec::with_capacity(clauses.len());
        let mut far = false;
        for cl in &clauses {
            match nearest(cl, &bbox, &mut plane, k)? {
                Some(x) => dists.push(x),
                None => {
                    far = true;
                    break;
                }
            }
        }
        if far {
            return Ok(None);
        }
        // Exclusions.
        if let Some(p) = projects {
            let mut taken = false;
            let mut hits = Vec::new();
            p.for_each_match(Some(&Spatial::Bbox(bbox)), None, |h| hits.push(h));
            for h in hits {
                if !p.valid_on(project_t.as_ref(), h, day) {
                    continue;
                }
                let pd = p.data(h.part);
                let status =
                    fold(text_at(pd, h.row as usize, pd.field_index("status")).unwrap_or_default());
                if status.contains("thu hoi") || status.contains("cham dut") {
                    continue;
                }
                let other = pd
                    .geometry_of(h.row as usize)
                    .map_or(MultiPolygon(vec![]), |g| polygons(&g));
                if overlap_m2(&mp, &other, tolerance_m)? > 0.0 {
                    taken = true;
                    break;
                }
            }
            if taken {
                return Ok(None);
            }
        }
        if let (Some(w), Some(m)) = (water, q.exclude_water_m) {
            if near_any(w, &mp, &bbox, m, k, &mut plane, |_, _| true)? {
                return Ok(None);
            }
        }
        if let (Some(pl), Some(m)) = (parcels, q.exclude_defence_m) {
            let defence = |d: &LayerData, row: usize| {
                text_at(d, row, d.field_index("land_use_code")).is_some_and(|v| {
                    super::landuse::codes_of(v)
                        .iter()
                        .any(|lu| DEFENCE_CODES.contains(&lu.code.as_str()))
                })
            };
            let own = q.candidates == Candidates::Parcels && defence(d, row);
            if own {
                return Ok(None);
            }
            let hit = if m > 0.0 {
                near_any(pl, &mp, &bbox, m, k, &mut plane, |dd, r| defence(dd, r))?
            } else {
                let mut hits = Vec::new();
                pl.for_each_match(Some(&Spatial::Bbox(bbox)), None, |h| hits.push(h));
                let mut any = false;
                for h in hits {
                    let hd = pl.data(h.part);
                    if h.fid == f.fid && q.candidates == Candidates::Parcels {
                        continue;
                    }
                    if !defence(hd, h.row as usize) {
                        continue;
                    }
                    let other = hd
                        .geometry_of(h.row as usize)
                        .map_or(MultiPolygon(vec![]), |g| polygons(&g));
                    if overlap_m2(&mp, &other, tolerance_m)? > 0.0 {
                        any = true;
                        break;
                    }
                }
                any
            };
            if hit {
                return Ok(None);
            }
        }
        let score = if clauses.is_empty() {
            1.0
        } else {
            clauses
                .iter()
                .zip(&dists)
                .map(|(cl, (_, dm))| 1.0 - dm / cl.spec.max_m)
                .sum::<f64>()
                / clauses.len() as f64
        };
        Ok(Some(Found {
            f,
            area,
            zone,
            dists,
            score: round(score, 4),
        }))
    };
    let mut found: Vec<Found> = match cands {
        Cands::Rows(rows) => {
            use rayon::prelude::*;
            rows.into_par_iter()
                .with_min_len(64)
                .filter_map(|f| judge(f).transpose())
                .collect::<Result<_, _>>()?
        }
        Cands::Walk(walk) => walk
            .filter_map(|f| judge(f).transpose())
            .collect::<Result<_, _>>()?,
    };

    // Order: a total order (ties go by fid), so only the asked page needs
    // sorting once the rest is set apart behind it.
    let distance_ix = match &q.sort {
        Sort::Distance(w) => q
            .near
            .iter()
            .position(|n| fold(&n.what) == fold(w))
            .unwrap_or(0),
        _ => 0,
    };
    let order = |a: &Found, b: &Found| match &q.sort {
        Sort::Score => b
            .score
            .total_cmp(&a.score)
            .then(b.area.total_cmp(&a.area))
            .then(a.f.fid.cmp(&b.f.fid)),
        Sort::Area => b.area.total_cmp(&a.area).then(a.f.fid.cmp(&b.f.fid)),
        Sort::Distance(_) => a.dists[distance_ix]
            .1
            .total_cmp(&b.dists[distance_ix].1)
            .then(a.f.fid.cmp(&b.f.fid)),
    };
    let total = found.len();
    let end = q.offset.saturating_add(q.limit).min(total);
    if end > 0 && end < total {
        found.select_nth_unstable_by(end - 1, order);
        found.truncate(end);
    }
    found.sort_by(order);
    let mut results = Vec::new();
    for x in found.iter().skip(q.offset).take(q.limit) {
        results.push(describe(
            l,
            x,
            kind,
            layer_id,
            &zones,
            &clauses,
            &gaz,
            &commune_at,
        ));
    }
    Ok(SiteResults {
        as_of: q.as_of.clone(),
        candidates: q.candidates,
        total,
        offset: q.offset,
        limit: q.limit,
        score: SCORE,
        uses: match q.candidates {
            Candidates::Lots => uses,
            Candidates::Parcels => parcel_uses,
        },
        functions,
        results,
        notes,
    })
}

/// The attribute columns are read only when the driver's rectangles hold
/// at least this share (1 / n) of the layer: below it, walking the index
/// for the few rows in them costs less than the pass over every row.
const ATTRIBUTE_SHARE: usize = 64;

/// Which cells of a grid over an extent a set of rectangles touches: a
/// box tested against it in a few lookups, where the rectangles' own
/// index costs a tree walk.
struct Raster {
    extent: Rect<f64>,
    /// Cells across and down.
    n: usize,
    cells: Vec<bool>,
}

impl Raster {
    /// Cells across and down: about 300 m over a province, so marking a
    /// national road's rectangles costs a millisecond.
    const N: usize = 512;

    /// The cells every rectangle touches, edges included. Rectangles and
    /// boxes are clamped to the extent alike (clamping keeps boxes that
    /// meet in cells that meet), so one lying outside it is still found.
    fn of(rects: &[Rect<f64>], extent: &Rect<f64>) -> Raster {
        let n = Self::N;
        let mut r = Raster {
            extent: *extent,
            n,
            cells: vec![false; n * n],
        };
        for b in rects {
            let (x0, y0, x1, y1) = r.span(b);
            for y in y0..=y1 {
                r.cells[y * n + x0..=y * n + x1].fill(true);
            }
        }
        r
    }

    /// The cells `b` touches, clamped to the grid. Cells are widened by
    /// one on each side, so rounding in the division never leaves out a
    /// cell a box edge lies on.
    fn span(&self, b: &Rect<f64>) -> (usize, usize, usize, usize) {
        let e = &self.extent;
        let n = self.n as f64;
        let at = |v: f64, lo: f64, len: f64| -> f64 {
            if len > 0.0 {
                (v - lo) / len * n
            } else {
                0.0
            }
        };
        let cell = |v: f64| (v.floor().max(0.0) as usize).min(self.n - 1);
        let (w, h) = (e.width(), e.height());
        let (x0, x1) = (at(b.min().x, e.min().x, w), at(b.max().x, e.min().x, w));
        let (y0, y1) = (at(b.min().y, e.min().y, h), at(b.max().y, e.min().y, h));
        (
            cell(x0 - 1.0),
            cell(y0 - 1.0),
            cell(x1 + 1.0),
            cell(y1 + 1.0),
        )
    }

    /// False proves `b` meets none of the rectangles.
    fn may_meet(&self, b: &Rect<f64>) -> bool {
        let (x0, y0, x1, y1) = self.span(b);
        (y0..=y1).any(|y| self.cells[y * self.n + x0..=y * self.n + x1].contains(&true))
    }
}

/// The live features of `l` whose land use is in `masks` (per part: the
/// asked codes of the column's dictionary, and the rows' codes) and whose
/// legal area, where known, lies within `min..=max`: one pass in row
/// order over two columns. None when more than `cap` match, or a part's
/// land use is no dictionary column.
fn rows_by_attributes(
    l: &Layer,
    masks: &[Option<(Vec<bool>, &[u32])>],
    cols: &[Cols; 2],
    min: Option<f64>,
    max: Option<f64>,
    cap: usize,
) -> Option<Vec<FeatureRef>> {
    let mut out = Vec::new();
    for (i, part) in [Part::Base, Part::Delta].into_iter().enumerate() {
        let d = l.data(part);
        if d.is_empty() {
            continue;
        }
        let (mask, codes) = masks[i].as_ref()?;
        for (row, &k) in codes.iter().enumerate() {
            if !mask.get(k as usize).copied().unwrap_or(false) || !l.is_live(part, row) {
                continue;
            }
            if let Some(a) = num_at(d, row, cols[i].area) {
                if min.is_some_and(|m| a < m) || max.is_some_and(|m| a > m) {
                    continue;
                }
            }
            if out.len() == cap {
                return None;
            }
            out.push(FeatureRef {
                part,
                row: row as u32,
                fid: d.fids[row],
            });
        }
    }
    Some(out)
}

/// The features of `rows` whose box may meet a rectangle of `raster`, in
/// their order. Reading each box is a cache miss, so the rows are shared
/// out over the cores.
fn in_raster(l: &Layer, rows: Vec<FeatureRef>, raster: &Raster) -> Vec<FeatureRef> {
    use rayon::prelude::*;
    rows.into_par_iter()
        .with_min_len(4096)
        .filter(|f| {
            l.data(f.part)
                .geometry
                .bbox(f.row as usize)
                .is_some_and(|b| raster.may_meet(&b))
        })
        .collect()
}

/// The live features of `l` in index nodes meeting any of `rects`, each
/// once, in one walk of the layer's index however much the rectangles
/// overlap (see [`crate::engine::SpatialIndex::in_nodes_meeting_any`]: a few too
/// many; every condition is checked exactly on each candidate afterwards).
fn in_any(l: &Layer, rects: &[Rect<f64>]) -> Vec<FeatureRef> {
    let mut out = Vec::new();
    for part in [Part::Base, Part::Delta] {
        let fids = &l.data(part).fids;
        for row in l.spatial_index(part).in_nodes_meeting_any(rects) {
            if l.is_live(part, row as usize) {
                out.push(FeatureRef {
                    part,
                    row,
                    fid: fids[row as usize],
                });
            }
        }
    }
    out
}

/// True when a feature of `l` passing `pick` lies within `m` metres
/// (EPSG:5899) of the site, or meets it when `m` is 0.
fn near_any(
    l: &Layer,
    site: &MultiPolygon<f64>,
    bbox: &Rect<f64>,
    m: f64,
    k: f64,
    plane: &mut dyn FnMut() -> Result<Geometry<f64>, PlanningError>,
    pick: impl Fn(&LayerData, usize) -> bool,
) -> Result<bool, PlanningError> {
    let mut hits = Vec::new();
    l.for_each_match(Some(&Spatial::Bbox(grow_rect(*bbox, m / k))), None, |h| {
        hits.push(h)
    });
    for h in hits {
        let d = l.data(h.part);
        let row = h.row as usize;
        if !pick(d, row) {
            continue;
        }
        let Some(g) = d.geometry_of(row) else {
            continue;
        };
        if m == 0.0 {
            if g.intersects(site) {
                return Ok(true);
            }
            continue;
        }
        let mut pieces = Vec::new();
        chunks_of(&g, 0, &mut pieces)?;
        let s = plane()?;
        if pieces.iter().any(|c| Euclidean.distance(&s, &c.plane) <= m) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The facts of one result.
#[allow(clippy::too_many_arguments)]
fn describe(
    l: &Layer,
    x: &Found,
    kind: &'static str,
    layer: &'static str,
    zones: &[ZoneShape],
    clauses: &[Clause],
    gaz: &Gazetteer,
    commune_at: &dyn Fn(Coord<f64>) -> Option<String>,
) -> SiteHit {
    let d = l.data(x.f.part);
    let row = x.f.row as usize;
    let t = |n: &str| text_at(d, row, d.field_index(n)).map(str::to_owned);
    let n = |n: &str| num_at(d, row, d.field_index(n));
    let i = |n: &str| int_at(d, row, d.field_index(n));
    let mp = d
        .geometry_of(row)
        .map_or(MultiPolygon(vec![]), |g| polygons(&g));
    let inner = mp.interior_point().map(|p| p.0);
    let commune = match kind {
        "parcel" => t("commune_code"),
        _ => inner.and_then(commune_at),
    };
    let units = SiteUnits {
        commune: commune.as_deref().and_then(|c| gaz.commune(c)).cloned(),
        district: commune.as_deref().and_then(|c| gaz.district_of(c)).cloned(),
        unit_2025: commune
            .as_deref()
            .and_then(|c| gaz.unit_2025_of(c))
            .cloned(),
    };
    let point = inner.map_or([0.0, 0.0], |p| {
        let ll = crs::mercator_to_lonlat(p);
        [round(ll.x, 6), round(ll.y, 6)]
    });
    let distances = clauses
        .iter()
        .zip(&x.dists)
        .map(|(cl, (p, m))| DistanceFact {
            near: cl.spec.what.clone(),
            to: cl.places[*p].name.clone(),
            class: cl.places[*p].class.clone(),
            m: round(*m, 1),
            max_m: cl.spec.max_m,
        })
        .collect();
    let zone = x.zone.map(|z| ZoneRef {
        name: zones[z].name.clone(),
        kind: zones[z].kind.clone(),
    });
    let is_lot = kind == "lot";
    let land_use_code = if is_lot { None } else { t("land_use_code") };
    SiteHit {
        kind,
        layer,
        fid: x.f.fid,
        plan_code: if is_lot { t("plan_code") } else { None },
        zone_code: if is_lot { t("zone_code") } else { None },
        lot_symbol: if is_lot { t("lot_symbol") } else { None },
        function: if is_lot { t("function") } else { None },
        density_pct: if is_lot { n("density_pct") } else { None },
        floors_min: if is_lot { i("floors_min") } else { None },
        floors_max: if is_lot { i("floors_max") } else { None },
        far: if is_lot { n("far") } else { None },
        max_gfa_m2: if is_lot {
            n("far").map(|f| round(f * x.area, 1))
        } else {
            None
        },
        commune_code: if is_lot { None } else { t("commune_code") },
        sheet_number: if is_lot { None } else { i("sheet_number") },
        parcel_number: if is_lot { None } else { i("parcel_number") },
        land_use_name: land_use_code.as_deref().map(|c| {
            super::landuse::codes_of(c)
                .into_iter()
                .map(|lu| lu.name)
                .collect::<Vec<_>>()
                .join(" + ")
        }),
        land_use_code,
        area_m2: round(x.area, 2),
        zone,
        units,
        distances,
        score: x.score,
        point,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rect(x0: f64, y0: f64, x1: f64, y1: f64) -> Rect<f64> {
        Rect::new(Coord { x: x0, y: y0 }, Coord { x: x1, y: y1 })
    }

    #[test]
    fn the_raster_never_turns_away_a_box_meeting_a_rectangle() {
        let extent = rect(12_000_000.0, 1_700_000.0, 12_150_000.0, 1_850_000.0);
        let mut seed = 7u64;
        let mut unit = || {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (seed >> 11) as f64 / (1u64 << 53) as f64
        };
        let mut at = |w: f64| {
            let x = extent.min().x - 5_000.0 + unit() * (extent.width() + 10_000.0);
            let y = extent.min().y - 5_000.0 + unit() * (extent.height() + 10_000.0);
            rect(x, y, x + unit() * w, y + unit() * w)
        };
        let rects: Vec<Rect<f64>> = (0..40).map(|_| at(4_000.0)).collect();
        let raster = Raster::of(&rects, &extent);
        let (mut kept, mut turned_away) = (0, 0);
        for _ in 0..20_000 {
            let b = at(60.0);
            let meets = rects.iter().any(|r| r.intersects(&b));
            if raster.may_meet(&b) {
                kept += 1;
            } else {
                assert!(!meets, "{b:?} meets a rectangle but was turned away");
                turned_away += 1;
            }
        }
        // It turns most boxes away: 40 small rectangles cover little.
        assert!(turned_away > kept, "{kept} kept, {turned_away} turned away");
        // Touching at an edge or a corner counts.
        let r = rects[0];
        for b in [
            rect(r.max().x, r.min().y, r.max().x + 1.0, r.min().y + 1.0),
            rect(r.min().x - 1.0, r.max().y, r.min().x, r.max().y + 1.0),
        ] {
            assert!(raster.may_meet(&b), "{b:?} touches {r:?}");
        }
        // No rectangles meet nothing.
        assert!(!Raster::of(&[], &extent).may_meet(&extent));
    }
}
