//! The planning answer: what the plans say on a parcel, a point or a
//! proposed site as of a day. One answer holds the administrative units of
//! that day (and, for a parcel, its pre-2025 commune and district and the
//! 2025 unit they became), the parcel's land-use codes, every plan covering
//! it with the one that governs, every zoning lot it touches with the
//! overlap in m² and % (EPSG:5899, see `overlay`) and the lot's indicators,
//! the industrial and economic zones and investment projects it overlaps,
//! and the source of each fact.
//!
//! **Which plan governs.** The most detailed plan that is in force on the
//! day (approved, or adjusted, and approved on or before it) among those
//! covering the subject; ties go to the later approval. When it covers only
//! part of the subject, a note names the next plan for the rest. A plan's
//! status is the status the data records now: a plan recorded as expired
//! is not taken to have governed earlier.

use super::admin::{Gazetteer, Unit};
use super::landuse::{codes_of, LandUse};
use super::overlay::{area_m2, overlap_m2, polygons};
use super::parcels::{hit, ParcelHit};
use super::text::fold;
use super::{num_of, round, text_of, value_of, PlanningError};
use crate::engine::temporal::{is_day, temporal_of};
use crate::engine::{Catalog, FeatureRef, Layer, Spatial};
use crate::model::ValueRef;
use geo_types::{Coord, Geometry, MultiPolygon};

/// Layers the answer reads.
pub const PARCELS: &str = "parcels";
/// Administrative units, all levels and both geographies.
pub const ADMIN_UNITS: &str = "admin_units";
/// Plans of every level.
pub const PLANS: &str = "plans";
/// Zoning lots with their indicators.
pub const ZONING_LOTS: &str = "zoning_lots";
/// Industrial parks and economic zones.
pub const ZONES: &str = "industrial_zones";
/// Investment projects.
pub const PROJECTS: &str = "investment_projects";

/// What the question is about.
#[derive(Debug, Clone)]
pub enum Subject {
    /// A parcel, by fid in the `parcels` layer.
    Parcel(i64),
    /// A point (Web Mercator): the parcel there, or the point itself.
    Point(Coord<f64>),
    /// A proposed site (Web Mercator, checked by `site::site_from`).
    Site(MultiPolygon<f64>),
}

/// A planning question.
#[derive(Debug, Clone)]
pub struct InfoQuery {
    /// What it is about.
    pub subject: Subject,
    /// The day (`YYYY-MM-DD`) the answer holds for.
    pub as_of: String,
    /// Sliver tolerance, metres (see `overlay`).
    pub tolerance_m: f64,
}

/// Where a fact comes from.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FactSource {
    /// Layer.
    pub layer: String,
    /// Feature id in it.
    pub fid: i64,
    /// The legal act it rests on (a plan's approval decision), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decision: Option<String>,
    /// True when the feature is marked synthetic (sample data).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub synthetic: bool,
}

/// A layer an answer read, and when that version of it was published.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LayerSource {
    /// Layer id.
    pub layer: String,
    /// Its title.
    pub title: String,
    /// When this version was loaded or last changed (RFC 3339, UTC).
    pub published_at: String,
    /// EPSG code the store keeps it in.
    pub store_srid: u32,
}

/// What the question was about, as answered.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SubjectInfo {
    /// "parcel", "point" or "site".
    pub kind: &'static str,
    /// The parcel, when the subject is one (or a point found it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parcel: Option<ParcelHit>,
    /// The point asked about, lon/lat (WGS 84).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub point: Option<[f64; 2]>,
    /// Area measured in EPSG:5899, m² (none for a point).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub area_m2: Option<f64>,
}

/// An administrative unit of the day.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AdminUnit {
    /// GSO code.
    pub code: String,
    /// Name with type.
    pub name: String,
    /// province, district or commune.
    pub level: String,
    /// First day of validity.
    pub valid_from: Option<String>,
    /// Last day of validity (none: still valid).
    pub valid_to: Option<String>,
    /// Share of the subject in it, % (commune level; none for a point).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub share_pct: Option<f64>,
    /// Where it comes from.
    pub source: FactSource,
}

/// A parcel's place in both geographies, from its cadastral key.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Cadastre {
    /// The pre-2025 commune of the key.
    pub commune: Unit,
    /// Its pre-2025 district.
    pub district: Option<Unit>,
    /// The 2025 unit it became part of.
    pub unit_2025: Option<Unit>,
}

/// A plan covering the subject.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PlanInfo {
    /// Plan code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Level (chung, phân khu 1/2000, chi tiết 1/500, nông thôn, vùng).
    pub level: String,
    /// Status as recorded.
    pub status: String,
    /// In force on the day.
    pub in_force: bool,
    /// The plan that governs.
    pub governs: bool,
    /// Approval decision number.
    pub approval_decision: Option<String>,
    /// Approval date.
    pub approval_date: Option<String>,
    /// Approving authority.
    pub approving_authority: Option<String>,
    /// Who commissioned the plan (chủ đầu tư), when the data says.
    pub client: Option<String>,
    /// How much of the subject it covers.
    #[serde(flatten)]
    pub overlap: Overlap,
    /// Where it comes from.
    pub source: FactSource,
}

/// How much of the subject a plan, lot, zone or project covers, measured
/// in EPSG:5899 (none for a point).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Overlap {
    /// Overlap with the subject, m².
    #[serde(skip_serializing_if = "Option::is_none")]
    pub overlap_m2: Option<f64>,
    /// Share of the subject, %.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub share_pct: Option<f64>,
}

impl Overlap {
    /// An overlap of `o` m² with a subject of `area` m², rounded as
    /// answered (cm², hundredths of a percent).
    fn of(o: Option<f64>, area: Option<f64>) -> Overlap {
        Overlap {
            overlap_m2: o.map(|o| round(o, 2)),
            share_pct: share(o, area),
        }
    }
}

/// A zoning lot the subject touches.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LotInfo {
    /// The plan it belongs to.
    pub plan_code: Option<String>,
    /// True when that plan governs.
    pub in_governing_plan: bool,
    /// Zone (sub-area) symbol.
    pub zone_code: Option<String>,
    /// Lot symbol.
    pub lot_symbol: Option<String>,
    /// Function (land type of the plan).
    pub function: Option<String>,
    /// Maximum building density, %.
    pub density_pct: Option<f64>,
    /// Floors, minimum.
    pub floors_min: Option<i64>,
    /// Floors, maximum.
    pub floors_max: Option<i64>,
    /// Maximum floor area ratio.
    pub far: Option<f64>,
    /// Front setback (khoảng lùi trước), m, when the data says.
    pub setback_front_m: Option<f64>,
    /// Side setback (khoảng lùi bên), m, when the data says.
    pub setback_side_m: Option<f64>,
    /// Plan phase (giai đoạn), when the data says.
    pub phase: Option<String>,
    /// Lot area measured in EPSG:5899, m².
    pub lot_area_m2: f64,
    /// Maximum gross floor area of the lot: FAR × lot area, m².
    pub max_gfa_m2: Option<f64>,
    /// How much of the subject lies in this lot.
    #[serde(flatten)]
    pub overlap: Overlap,
    /// FAR × the overlap: the floor area the subject's share carries, m².
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_gfa_on_share_m2: Option<f64>,
    /// Where it comes from.
    pub source: FactSource,
}

/// How much of the subject the governing plan's lots cover.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LotCoverage {
    /// The governing plan.
    pub plan_code: String,
    /// Sum of the shares in its lots, %.
    pub in_lots_pct: f64,
    /// The rest (roads, gaps between lots, outside the plan), %.
    pub outside_lots_pct: f64,
}

/// An industrial park, economic zone or investment project overlapping.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AreaFact {
    /// Name.
    pub name: String,
    /// Kind (KKT, KCN, CCN…) or project status.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// More about it: a project's investor and function, a zone's note.
    #[serde(skip_serializing_if = "serde_json::Map::is_empty")]
    pub details: serde_json::Map<String, serde_json::Value>,
    /// How much of the subject it covers.
    #[serde(flatten)]
    pub overlap: Overlap,
    /// Where it comes from.
    pub source: FactSource,
}

/// The planning answer.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PlanningInfo {
    /// The day it holds for.
    pub as_of: String,
    /// What it is about.
    pub subject: SubjectInfo,
    /// Administrative units of the day, province first.
    pub admin_units: Vec<AdminUnit>,
    /// A parcel's pre- and post-2025 geography, from its key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cadastre: Option<Cadastre>,
    /// A parcel's land-use codes with names.
    pub land_use: Vec<LandUse>,
    /// Every plan covering the subject, most detailed first.
    pub plans: Vec<PlanInfo>,
    /// Code of the plan that governs.
    pub governing_plan: Option<String>,
    /// Every zoning lot touched, governing plan first, largest share first.
    pub zoning_lots: Vec<LotInfo>,
    /// How much of the subject the governing plan's lots cover.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lot_coverage: Option<LotCoverage>,
    /// Industrial parks and economic zones.
    pub zones: Vec<AreaFact>,
    /// Investment projects.
    pub projects: Vec<AreaFact>,
    /// Layers read.
    pub sources: Vec<LayerSource>,
    /// Sliver tolerance used, m.
    pub sliver_tolerance_m: f64,
    /// Honest remarks: layers not loaded, partial coverage.
    pub notes: Vec<String>,
}

/// Rank of a plan level: more detailed is higher.
pub fn level_rank(level: &str) -> u8 {
    let f = fold(level);
    if f.starts_with("chi tiet") {
        5
    } else if f.starts_with("phan khu") {
        4
    } else if f.starts_with("nong thon") {
        3
    } else if f.starts_with("chung") {
        2
    } else if f.starts_with("vung") {
        1
    } else {
        0
    }
}

/// True for a status under which a plan is in force (approved, adjusted).
pub fn status_in_force(status: &str) -> bool {
    let f = fold(status);
    [
        "dang hieu luc",
        "con hieu luc",
        "phe duyet",
        "da phe duyet",
        "dieu chinh",
        "da dieu chinh",
    ]
    .iter()
    .any(|s| f == *s)
}

/// The subject's shape, as the engine holds it.
enum Shape {
    Polygon(MultiPolygon<f64>, f64),
    Point(Coord<f64>),
}

impl Shape {
    fn spatial(&self) -> Spatial {
        match self {
            Shape::Polygon(mp, _) => Spatial::Intersects(Geometry::MultiPolygon(mp.clone())),
            Shape::Point(p) => Spatial::Point(*p),
        }
    }
}

/// A feature of a layer that meets the subject, with the overlap.
struct Hit {
    f: FeatureRef,
    overlap: Option<f64>,
}

/// The live features of `l` meeting the subject on the day, with their
/// overlaps (those overlapping only by slivers or touching are dropped).
fn meeting(
    l: &Layer,
    shape: &Shape,
    spatial: &Spatial,
    day: &str,
    tol: f64,
    measure: bool,
) -> Result<Vec<Hit>, PlanningError> {
    let t = temporal_of(l);
    let mut found = Vec::new();
    l.for_each_match(Some(spatial), None, |f| {
        if l.valid_on(t.as_ref(), f, day) {
            found.push(f);
        }
    });
    found.sort_by_key(|f| f.fid);
    let mut out = Vec::with_capacity(found.len());
    for f in found {
        let overlap = match shape {
            Shape::Polygon(mp, _) if measure => {
                let g = shape_of(l, f);
                let o = overlap_m2(mp, &g, tol)?;
                if o <= 0.0 {
                    continue;
                }
                Some(o)
            }
            _ => None,
        };
        out.push(Hit { f, overlap });
    }
    Ok(out)
}

/// A feature's polygons (Web Mercator); none for other geometry.
fn shape_of(l: &Layer, f: FeatureRef) -> MultiPolygon<f64> {
    l.data(f.part)
        .geometry_of(f.row as usize)
        .map_or(MultiPolygon(vec![]), |g| polygons(&g))
}

fn source(l: &Layer, f: FeatureRef, decision: Option<&str>) -> FactSource {
    FactSource {
        layer: l.id.clone(),
        fid: f.fid,
        decision: decision.map(str::to_owned),
        synthetic: matches!(value_of(l, f, "synthetic"), ValueRef::Bool(true)),
    }
}

fn owned(s: Option<&str>) -> Option<String> {
    s.map(str::to_owned)
}

/// Answers a planning question over one snapshot.
pub fn answer(cat: &Catalog, q: &InfoQuery) -> Result<PlanningInfo, PlanningError> {
    if !is_day(&q.as_of) {
        return Err(PlanningError::BadRequest(format!(
            "as_of='{}' is not a date (YYYY-MM-DD)",
            q.as_of
        )));
    }
    if !(q.tolerance_m.is_finite() && q.tolerance_m >= 0.0) {
        return Err(PlanningError::BadRequest(
            "the sliver tolerance must be a non-negative number of metres".into(),
        ));
    }
    let day = q.as_of.as_str();
    let tol = q.tolerance_m;
    let gaz = Gazetteer::from_catalog(cat).unwrap_or_default();
    let mut notes = Vec::new();
    let mut used: Vec<&Layer> = Vec::new();

    // The subject.
    let parcels = cat.layer(PARCELS);
    let parcel_shape = |fid: i64| -> Result<MultiPolygon<f64>, PlanningError> {
        let l = parcels.ok_or(PlanningError::MissingLayer(PARCELS))?;
        let f = l.get(fid).ok_or_else(|| PlanningError::NotFound {
            message: format!("no parcel with fid {fid}"),
            suggestions: vec![],
        })?;
        Ok(shape_of(l, f))
    };
    let (mut subject, shape, parcel_fid) = match &q.subject {
        Subject::Parcel(fid) => {
            let mp = parcel_shape(*fid)?;
            let a = area_m2(&mp)?;
            (
                SubjectInfo {
                    kind: "parcel",
                    parcel: None,
                    point: None,
                    area_m2: Some(round(a, 2)),
                },
                Shape::Polygon(mp, a),
                Some(*fid),
            )
        }
        Subject::Point(p) => {
            let ll = crate::crs::mercator_to_lonlat(*p);
            let at = parcels.and_then(|l| {
                let mut v = Vec::new();
                l.for_each_match(Some(&Spatial::Point(*p)), None, |f| v.push(f.fid));
                v.into_iter().min()
            });
            let point = Some([round(ll.x, 7), round(ll.y, 7)]);
            match at {
                Some(fid) => {
                    let mp = parcel_shape(fid)?;
                    let a = area_m2(&mp)?;
                    (
                        SubjectInfo {
                            kind: "parcel",
                            parcel: None,
                            point,
                            area_m2: Some(round(a, 2)),
                        },
                        Shape::Polygon(mp, a),
                        Some(fid),
                    )
                }
                None => (
                    SubjectInfo {
                        kind: "point",
                        parcel: None,
                        point,
                        area_m2: None,
                    },
                    Shape::Point(*p),
                    None,
                ),
            }
        }
        Subject::Site(mp) => {
            let a = area_m2(mp)?;
            if a <= 0.0 {
                return Err(PlanningError::BadRequest("the site has no area".into()));
            }
            (
                SubjectInfo {
                    kind: "site",
                    parcel: None,
                    point: None,
                    area_m2: Some(round(a, 2)),
                },
                Shape::Polygon(mp.clone(), a),
                None,
            )
        }
    };
    let spatial = shape.spatial();
    let subject_area = match &shape {
        Shape::Polygon(_, a) => Some(*a),
        Shape::Point(_) => None,
    };

    // The parcel: key, both geographies, land use.
    let mut cadastre = None;
    let mut land_use = Vec::new();
    if let (Some(fid), Some(l)) = (parcel_fid, parcels) {
        let h = hit(l, &gaz, fid, None);
        cadastre = Some(Cadastre {
            commune: h.commune.clone(),
            district: h.district.clone(),
            unit_2025: h.unit_2025.clone(),
        });
        if let Some(code) = &h.land_use_code {
            land_use = codes_of(code);
        }
        subject.parcel = Some(h);
        used.push(l);
    }

    // Administrative units of the day.
    let mut admin_units = Vec::new();
    match cat.layer(ADMIN_UNITS) {
        None => notes.push(format!(
            "layer {ADMIN_UNITS} is not loaded: no administrative units"
        )),
        Some(l) => {
            used.push(l);
            // Every level measured: a unit the subject only touches (a
            // parcel on a district boundary) is not one it lies in.
            let mut hits = meeting(l, &shape, &spatial, day, tol, true)?;
            let order = |lv: Option<&str>| match lv {
                Some("province") => 0,
                Some("district") => 1,
                Some("commune") => 2,
                _ => 3,
            };
            hits.retain(|h| h.overlap.is_none_or(|o| o > 0.0));
            hits.sort_by(|a, b| {
                order(text_of(l, a.f, "level"))
                    .cmp(&order(text_of(l, b.f, "level")))
                    .then(
                        b.overlap
                            .unwrap_or(0.0)
                            .total_cmp(&a.overlap.unwrap_or(0.0)),
                    )
            });
            for h in hits {
                admin_units.push(AdminUnit {
                    code: text_of(l, h.f, "code").unwrap_or_default().to_owned(),
                    name: text_of(l, h.f, "name").unwrap_or_default().to_owned(),
                    level: text_of(l, h.f, "level").unwrap_or_default().to_owned(),
                    valid_from: owned(text_of(l, h.f, "valid_from")),
                    valid_to: owned(text_of(l, h.f, "valid_to")),
                    share_pct: share(h.overlap, subject_area),
                    source: source(l, h.f, None),
                });
            }
        }
    }
    if let Subject::Site(_) = q.subject {
        if cat.layer(ADMIN_UNITS).is_some() && admin_units.is_empty() {
            return Err(PlanningError::BadRequest(
                "the site lies outside Thành phố Đà Nẵng (no administrative unit covers it on that day)"
                    .into(),
            ));
        }
    }

    // Plans, and which one governs.
    let mut plans = Vec::new();
    let mut plan_exists = std::collections::BTreeSet::new();
    let mut all_plan_codes = std::collections::BTreeSet::new();
    match cat.layer(PLANS) {
        None => notes.push(format!("layer {PLANS} is not loaded: no plans")),
        Some(l) => {
            used.push(l);
            let t = temporal_of(l);
            l.for_each_match(None, None, |f| {
                if let Some(c) = text_of(l, f, "code") {
                    all_plan_codes.insert(c.to_owned());
                    if l.valid_on(t.as_ref(), f, day) {
                        plan_exists.insert(c.to_owned());
                    }
                }
            });
            for h in meeting(l, &shape, &spatial, day, tol, true)? {
                let status = text_of(l, h.f, "status").unwrap_or_default();
                let decision = text_of(l, h.f, "approval_decision");
                plans.push(PlanInfo {
                    code: text_of(l, h.f, "code").unwrap_or_default().to_owned(),
                    name: text_of(l, h.f, "name").unwrap_or_default().to_owned(),
                    level: text_of(l, h.f, "level").unwrap_or_default().to_owned(),
                    status: status.to_owned(),
                    in_force: status_in_force(status) && text_of(l, h.f, "approval_date").is_some(),
                    governs: false,
                    approval_decision: owned(decision),
                    approval_date: owned(text_of(l, h.f, "approval_date")),
                    approving_authority: owned(text_of(l, h.f, "approving_authority")),
                    client: owned(text_of(l, h.f, "client")),
                    overlap: Overlap::of(h.overlap, subject_area),
                    source: source(l, h.f, decision),
                });
            }
        }
    }
    plans.sort_by(|a, b| {
        level_rank(&b.level)
            .cmp(&level_rank(&a.level))
            .then(b.in_force.cmp(&a.in_force))
            .then(b.approval_date.cmp(&a.approval_date))
            .then(a.code.cmp(&b.code))
    });
    let governing = plans.iter().position(|p| p.in_force);
    if let Some(i) = governing {
        plans[i].governs = true;
        if let Some(share) = plans[i].overlap.share_pct.filter(|s| *s < 99.5) {
            // Another plan in force of the same level first (two adjacent
            // detailed plans), else the next less detailed one.
            let rest = plans
                .iter()
                .enumerate()
                .find(|(j, p)| *j != i && p.in_force && p.level == plans[i].level)
                .or_else(|| {
                    plans[i + 1..].iter().enumerate().find(|(_, p)| {
                        p.in_force && level_rank(&p.level) < level_rank(&plans[i].level)
                    })
                })
                .map(|(_, p)| p);
            notes.push(match rest {
                Some(r) => format!(
                    "{} covers {share} % of the subject; the rest is governed by {} ({})",
                    plans[i].code, r.code, r.level
                ),
                None => format!(
                    "{} covers {share} % of the subject; no other plan in force covers the rest",
                    plans[i].code
                ),
            });
        }
    } else if !plans.is_empty() {
        notes.push("no plan covering the subject is in force on that day".into());
    }
    let governing_plan = governing.map(|i| plans[i].code.clone());

    // Zoning lots of plans that exist on the day.
    let mut zoning_lots = Vec::new();
    if let Some(l) = cat.layer(ZONING_LOTS) {
        used.push(l);
        let decision_of = |code: &str| {
            plans
                .iter()
                .find(|p| p.code == code)
                .and_then(|p| p.approval_decision.clone())
        };
        for h in meeting(l, &shape, &spatial, day, tol, true)? {
            let plan_code = owned(text_of(l, h.f, "plan_code"));
            // A lot of a plan approved after the day did not exist yet.
            if let Some(c) = &plan_code {
                if all_plan_codes.contains(c) && !plan_exists.contains(c) {
                    continue;
                }
            }
            let lot = shape_of(l, h.f);
            let lot_area = area_m2(&lot)?;
            let far = num_of(l, h.f, "far");
            let decision = plan_code.as_deref().and_then(decision_of);
            zoning_lots.push(LotInfo {
                in_governing_plan: plan_code.is_some() && plan_code == governing_plan,
                plan_code,
                zone_code: owned(text_of(l, h.f, "zone_code")),
                lot_symbol: owned(text_of(l, h.f, "lot_symbol")),
                function: owned(text_of(l, h.f, "function")),
                density_pct: num_of(l, h.f, "density_pct"),
                floors_min: super::int_of(l, h.f, "floors_min"),
                floors_max: super::int_of(l, h.f, "floors_max"),
                far,
                setback_front_m: num_of(l, h.f, "setback_front_m"),
                setback_side_m: num_of(l, h.f, "setback_side_m"),
                phase: owned(text_of(l, h.f, "phase")),
                lot_area_m2: round(lot_area, 2),
                max_gfa_m2: far.map(|f| round(f * lot_area, 1)),
                overlap: Overlap::of(h.overlap, subject_area),
                max_gfa_on_share_m2: far.zip(h.overlap).map(|(f, o)| round(f * o, 1)),
                source: source(l, h.f, decision.as_deref()),
            });
        }
        zoning_lots.sort_by(|a, b| {
            b.in_governing_plan
                .cmp(&a.in_governing_plan)
                .then(
                    b.overlap
                        .overlap_m2
                        .unwrap_or(0.0)
                        .total_cmp(&a.overlap.overlap_m2.unwrap_or(0.0)),
                )
                .then(a.source.fid.cmp(&b.source.fid))
        });
    } else {
        notes.push(format!("layer {ZONING_LOTS} is not loaded: no zoning lots"));
    }
    let lot_coverage = match (&governing_plan, subject_area) {
        (Some(code), Some(a)) if a > 0.0 && zoning_lots.iter().any(|z| z.in_governing_plan) => {
            let in_lots: f64 = zoning_lots
                .iter()
                .filter(|z| z.in_governing_plan)
                .filter_map(|z| z.overlap.overlap_m2)
                .sum();
            let p = round((in_lots / a * 100.0).min(100.0), 2);
            Some(LotCoverage {
                plan_code: code.clone(),
                in_lots_pct: p,
                outside_lots_pct: round(100.0 - p, 2),
            })
        }
        _ => None,
    };

    // Zones and projects.
    let ctx = Ctx {
        shape: &shape,
        spatial: &spatial,
        day,
        tol,
        subject_area,
    };
    let zones = area_facts(
        cat,
        ZONES,
        "kind",
        &["area_ha", "note"],
        &ctx,
        &mut used,
        &mut notes,
    )?;
    let projects = area_facts(
        cat,
        PROJECTS,
        "status",
        &[
            "investor",
            "function",
            "area_ha",
            "capital_vnd",
            "zone_name",
        ],
        &ctx,
        &mut used,
        &mut notes,
    )?;

    let sources = used
        .iter()
        .map(|l| LayerSource {
            layer: l.id.clone(),
            title: l.meta.title.clone(),
            published_at: l.published_at.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            store_srid: l.source_srid,
        })
        .collect();
    Ok(PlanningInfo {
        as_of: q.as_of.clone(),
        subject,
        admin_units,
        cadastre,
        land_use,
        plans,
        governing_plan,
        zoning_lots,
        lot_coverage,
        zones,
        projects,
        sources,
        sliver_tolerance_m: tol,
        notes,
    })
}

/// Share of `o` m² in a subject of `area` m², %.
fn share(o: Option<f64>, area: Option<f64>) -> Option<f64> {
    match (o, area) {
        (Some(o), Some(a)) if a > 0.0 => Some(round((o / a * 100.0).min(100.0), 2)),
        _ => None,
    }
}

/// What every layer's part of the answer needs of the subject.
struct Ctx<'a> {
    shape: &'a Shape,
    spatial: &'a Spatial,
    day: &'a str,
    tol: f64,
    subject_area: Option<f64>,
}

/// The features of layer `id` overlapping the subject, named with their
/// `kind_field` and `details`.
fn area_facts<'a>(
    cat: &'a Catalog,
    id: &'static str,
    kind_field: &str,
    details: &[&str],
    c: &Ctx<'_>,
    used: &mut Vec<&'a Layer>,
    notes: &mut Vec<String>,
) -> Result<Vec<AreaFact>, PlanningError> {
    let Some(l) = cat.layer(id) else {
        notes.push(format!("layer {id} is not loaded"));
        return Ok(vec![]);
    };
    used.push(l);
    let mut out = Vec::new();
    for h in meeting(l, c.shape, c.spatial, c.day, c.tol, true)? {
        let mut d = serde_json::Map::new();
        for k in details {
            let v = value_of(l, h.f, k);
            if v != ValueRef::Null {
                d.insert((*k).to_owned(), value_json(v));
            }
        }
        out.push(AreaFact {
            name: text_of(l, h.f, "name").unwrap_or_default().to_owned(),
            kind: owned(text_of(l, h.f, kind_field)),
            details: d,
            overlap: Overlap::of(h.overlap, c.subject_area),
            source: source(l, h.f, text_of(l, h.f, "approval_decision")),
        });
    }
    Ok(out)
}

fn value_json(v: ValueRef<'_>) -> serde_json::Value {
    match v {
        ValueRef::Null => serde_json::Value::Null,
        ValueRef::Bool(b) => b.into(),
        ValueRef::Int(i) => i.into(),
        ValueRef::Real(r) => {
            serde_json::Number::from_f64(r).map_or(serde_json::Value::Null, Into::into)
        }
        ValueRef::Text(s) => s.into(),
    }
}
