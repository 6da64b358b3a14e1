//! Statistics by administrative unit as of a day: parcel counts and legal
//! areas by land-use code (or group NNP/PNN/CSD) for the units of that day
//! — before 1 July 2025 the communes, districts and the two provinces,
//! from then the 94 units of Thành phố Đà Nẵng, reached from each parcel's
//! pre-2025 commune (its cadastral key) through the lineage — and
//! investment projects by status, unit or function.
//!
//! Parcels are counted as the cadastre holds them now, grouped by the
//! units of the day asked. Totals reconcile: every parcel is counted once,
//! in its unit or, when its commune code names no unit, in an
//! "unassigned" row, so the rows always sum to the layer's total.

use super::admin::{Gazetteer, Unit};
use super::info::{ADMIN_UNITS, PARCELS, PROJECTS};
use super::landuse::lookup;
use super::text::fold;
use super::{num_of, round, text_of, PlanningError};
use crate::engine::temporal::{is_day, temporal_of};
use crate::engine::{Catalog, Spatial};
use crate::model::{Column, LayerData, TextDict};
use geo::InteriorPoint;
use std::collections::{BTreeMap, HashMap};

/// The first day of the merged geography.
pub const MERGER_DAY: &str = "2025-07-01";

/// Administrative level of the rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// Communes, wards, towns (pre-2025) or the 94 units (from 2025-07-01).
    Commune,
    /// Districts (before 2025-07-01 only).
    District,
    /// Provinces.
    Province,
}

impl Level {
    /// Reads `commune`, `district` or `province`.
    pub fn parse(s: &str) -> Result<Level, PlanningError> {
        match s {
            "commune" => Ok(Level::Commune),
            "district" => Ok(Level::District),
            "province" => Ok(Level::Province),
            other => Err(PlanningError::BadRequest(format!(
                "level='{other}' is not commune, district or province"
            ))),
        }
    }
}

/// What land-use rows are keyed by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Grouping {
    /// The land-use code (ODT, LUC, …).
    Code,
    /// The code's group (NNP, PNN, CSD).
    Group,
}

/// A land-use statistics question.
#[derive(Debug, Clone)]
pub struct LanduseQuery {
    /// Level of the units.
    pub level: Level,
    /// The day whose units are used.
    pub as_of: String,
    /// Only this unit (a code or a name), if given.
    pub unit: Option<String>,
    /// Rows by code or by group.
    pub group: Grouping,
}

/// One row: a unit and a land-use code or group.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LanduseRow {
    /// Unit code ("" for unassigned parcels).
    pub unit_code: String,
    /// Unit name.
    pub unit_name: String,
    /// Land-use code or group.
    pub land_use: String,
    /// Its name.
    pub land_use_name: String,
    /// Parcels.
    pub parcels: u64,
    /// Sum of legal areas, m².
    pub area_m2: f64,
    /// The same in hectares.
    pub area_ha: f64,
}

/// Totals of a unit, all land uses.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct UnitTotal {
    /// Unit code.
    pub unit_code: String,
    /// Unit name.
    pub unit_name: String,
    /// Parcels.
    pub parcels: u64,
    /// Sum of legal areas, m².
    pub area_m2: f64,
}

/// The answer.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LanduseStats {
    /// The day whose units were used.
    pub as_of: String,
    /// `pre_2025` or `from_2025`.
    pub geography: &'static str,
    /// Level of the units.
    pub level: Level,
    /// Rows by code or group.
    pub group: Grouping,
    /// Per unit and land use, units in code order, then land use.
    pub rows: Vec<LanduseRow>,
    /// Per unit, all land uses.
    pub units: Vec<UnitTotal>,
    /// Over the rows shown.
    pub total: UnitTotal,
    /// Over the whole parcel layer (with no `unit` filter it equals
    /// `total`: the reconciliation).
    pub layer_total: UnitTotal,
    /// True when the units' rows sum to the layer's total (checked, not
    /// assumed); none with a `unit` filter (a part is not the whole).
    pub reconciles: Option<bool>,
    /// Remarks (the synthetic lineage, unassigned parcels).
    pub notes: Vec<String>,
}

/// Cells of the (commune, land use) count grid of [`landuse`] above which
/// the pass hashes values instead (dictionaries of junk values).
const PAIR_GRID_MAX: usize = 1 << 22;

/// Value `k` of a dictionary, or "" for its null slot (`k == len`).
fn dict_text(dict: &TextDict, k: usize) -> &str {
    if k < dict.len() {
        dict.get(k)
    } else {
        ""
    }
}

/// A text column's dictionary and per-row codes.
fn dict_column(d: &LayerData, col: Option<usize>) -> Option<(&TextDict, &[u32])> {
    match &d.columns[col?] {
        Column::Text { dict, codes } => Some((dict, codes.as_slice())),
        _ => None,
    }
}

/// The unit a pre-2025 commune falls in, at `level`, on a day.
fn unit_of<'g>(g: &'g Gazetteer, commune: &str, level: Level, after: bool) -> Option<&'g Unit> {
    match (level, after) {
        (Level::Commune, false) => g.commune(commune),
        (Level::Commune, true) => g.unit_2025_of(commune),
        (Level::District, _) => g.district_of(commune),
        (Level::Province, false) => g
            .district_of(commune)
            .and_then(|d| g.province_of_district(&d.code)),
        (Level::Province, true) => g.unit_2025_of(commune).and(g.province_2025()),
    }
}

/// True when `u` is named by `q` (its code, or its name with or without
/// type and diacritics).
fn names(u: &Unit, q: &str) -> bool {
    let fq = fold(q);
    u.code == q.trim()
        || fold(&u.name) == fq
        || super::text::strip_unit_type(&fold(&u.name)) == super::text::strip_unit_type(&fq)
}

/// Counts parcels and sums legal areas by unit and land use.
pub fn landuse(cat: &Catalog, q: &LanduseQuery) -> Result<LanduseStats, PlanningError> {
    if !is_day(&q.as_of) {
        return Err(PlanningError::BadRequest(format!(
            "as_of='{}' is not a date (YYYY-MM-DD)",
            q.as_of
        )));
    }
    let after = q.as_of.as_str() >= MERGER_DAY;
    if after && q.level == Level::District {
        return Err(PlanningError::BadRequest(format!(
            "there are no districts from {MERGER_DAY} (the merged city has two tiers: the city and 94 communes and wards); use level=commune or an earlier as_of"
        )));
    }
    let parcels = cat
        .layer(PARCELS)
        .ok_or(PlanningError::MissingLayer(PARCELS))?;
    cat.layer(ADMIN_UNITS)
        .ok_or(PlanningError::MissingLayer(ADMIN_UNITS))?;
    let g = Gazetteer::from_catalog(cat)?;
    // Which units are asked about.
    let all: Vec<&Unit> = match (q.level, after) {
        (Level::Commune, false) => g.communes().collect(),
        (Level::Commune, true) => g.units_2025().collect(),
        (Level::District, _) => g.districts().collect(),
        (Level::Province, false) => g.provinces().collect(),
        (Level::Province, true) => g.province_2025().into_iter().collect(),
    };
    let wanted: Option<Vec<&str>> = match &q.unit {
        None => None,
        Some(name) => {
            let m: Vec<&str> = all
                .iter()
                .filter(|u| names(u, name))
                .map(|u| u.code.as_str())
                .collect();
            if m.is_empty() {
                return Err(PlanningError::NotFound {
                    message: format!(
                        "no {} of {} is named '{name}'",
                        match q.level {
                            Level::Commune => "commune",
                            Level::District => "district",
                            Level::Province => "province",
                        },
                        q.as_of
                    ),
                    suggestions: g.suggest(name),
                });
            }
            Some(m)
        }
    };

    // One pass over the parcels: commune code → unit index, counted by
    // (unit, land use). Codes repeat: a small cache avoids the gazetteer.
    if parcels
        .data(crate::engine::Part::Base)
        .field_index("commune_code")
        .is_none()
    {
        return Err(PlanningError::BadRequest(
            "the parcels layer has no commune_code".into(),
        ));
    }
    // The pass over the parcels counts rows per (commune value, land-use
    // value) pair; each distinct pair is then resolved to its unit and its
    // land-use row once. Text columns are dictionary-encoded, so a pair is
    // two small integers and the pass over millions of parcels is array
    // indexing, not hashing strings. The pairs are kept in order, so the
    // sums are added up in the same order every time (a repeated export
    // reads the same to the last digit).
    let mut pairs: BTreeMap<(&str, &str), (u64, f64)> = BTreeMap::new();
    for part in [crate::engine::Part::Base, crate::engine::Part::Delta] {
        let d = parcels.data(part);
        let col = |n: &str| d.field_index(n);
        let (cc, lc, ac) = (col("commune_code"), col("land_use_code"), col("legal_area"));
        let area_at = |row: usize| ac.and_then(|c| d.value(row, c).as_f64()).unwrap_or(0.0);
        match (dict_column(d, cc), dict_column(d, lc)) {
            (Some((cd, ccodes)), Some((ld, lcodes)))
                if (cd.len() + 1).saturating_mul(ld.len() + 1) <= PAIR_GRID_MAX =>
            {
                // Slot `len` of a dictionary holds its nulls.
                let slot = |code: u32, len: usize| (code as usize).min(len);
                let w = ld.len() + 1;
                let mut grid = vec![(0u64, 0.0f64); (cd.len() + 1) * w];
                for row in 0..d.len() {
                    if !parcels.is_live(part, row) {
                        continue;
                    }
                    let cell =
                        &mut grid[slot(ccodes[row], cd.len()) * w + slot(lcodes[row], ld.len())];
                    cell.0 += 1;
                    cell.1 += area_at(row);
                }
                for (i, (n, a)) in grid.into_iter().enumerate() {
                    if n > 0 {
                        let e = pairs
                            .entry((dict_text(cd, i / w), dict_text(ld, i % w)))
                            .or_insert((0, 0.0));
                        e.0 += n;
                        e.1 += a;
                    }
                }
            }
            _ => {
                for row in 0..d.len() {
                    if !parcels.is_live(part, row) {
                        continue;
                    }
                    let text = |c: Option<usize>| match c.map(|c| d.value(row, c)) {
                        Some(crate::model::ValueRef::Text(s)) => s,
                        _ => "",
                    };
                    let e = pairs.entry((text(cc), text(lc))).or_insert((0, 0.0));
                    e.0 += 1;
                    e.1 += area_at(row);
                }
            }
        }
    }
    let mut unit_ix: HashMap<&str, usize> = HashMap::new();
    let mut unit_list: Vec<Option<(String, String)>> = Vec::new();
    let mut lu_ix: HashMap<&str, usize> = HashMap::new();
    let mut lu_list: Vec<String> = Vec::new();
    let mut counts: BTreeMap<(usize, usize), (u64, f64)> = BTreeMap::new();
    let mut layer_total = (0u64, 0.0f64);
    let mut unassigned = 0u64;
    for ((commune, value), (n, area)) in pairs {
        layer_total.0 += n;
        layer_total.1 += area;
        let u = *unit_ix.entry(commune).or_insert_with(|| {
            unit_list.push(
                unit_of(&g, commune, q.level, after).map(|u| (u.code.clone(), u.name.clone())),
            );
            unit_list.len() - 1
        });
        if unit_list[u].is_none() {
            unassigned += n;
        }
        let code = unit_list[u].as_ref().map_or("", |(c, _)| c.as_str());
        if wanted.as_ref().is_some_and(|w| !w.contains(&code)) {
            continue;
        }
        let k = *lu_ix.entry(value).or_insert_with(|| {
            let lu = value.to_ascii_uppercase();
            lu_list.push(match q.group {
                Grouping::Code => lu,
                Grouping::Group => lookup(&lu).map_or("?".to_owned(), |l| l.group.clone()),
            });
            lu_list.len() - 1
        });
        let e = counts.entry((u, k)).or_insert((0, 0.0));
        e.0 += n;
        e.1 += area;
    }
    // Rows by unit code, then land use; several values may share a key
    // (case, or codes of one group).
    let mut acc: BTreeMap<(String, String), (String, u64, f64)> = BTreeMap::new();
    for ((u, k), (n, a)) in counts {
        let (code, name) = unit_list[u].clone().unwrap_or_else(|| {
            (
                String::new(),
                "(chưa xác định đơn vị / unassigned)".to_owned(),
            )
        });
        let e = acc
            .entry((code, lu_list[k].clone()))
            .or_insert((name, 0, 0.0));
        e.1 += n;
        e.2 += a;
    }

    let group_name = |k: &str| -> String {
        match q.group {
            Grouping::Code => lookup(k).map_or(String::new(), |l| l.name.clone()),
            Grouping::Group => match k {
                "NNP" => "Nhóm đất nông nghiệp".into(),
                "PNN" => "Nhóm đất phi nông nghiệp".into(),
                "CSD" => "Nhóm đất chưa sử dụng".into(),
                _ => String::new(),
            },
        }
    };
    let mut rows = Vec::with_capacity(acc.len());
    let mut units: Vec<UnitTotal> = Vec::new();
    for ((code, lu), (name, n, a)) in &acc {
        rows.push(LanduseRow {
            unit_code: code.clone(),
            unit_name: name.clone(),
            land_use: lu.clone(),
            land_use_name: group_name(lu),
            parcels: *n,
            area_m2: round(*a, 1),
            area_ha: round(*a / 10_000.0, 4),
        });
        match units.last_mut() {
            Some(u) if u.unit_code == *code => {
                u.parcels += n;
                u.area_m2 += a;
            }
            _ => units.push(UnitTotal {
                unit_code: code.clone(),
                unit_name: name.clone(),
                parcels: *n,
                area_m2: *a,
            }),
        }
    }
    let total_n: u64 = units.iter().map(|u| u.parcels).sum();
    let total_a: f64 = units.iter().map(|u| u.area_m2).sum();
    for u in &mut units {
        u.area_m2 = round(u.area_m2, 1);
    }
    let mut notes = Vec::new();
    if after {
        notes.push(
            "Đơn vị từ 01/07/2025 suy từ mã xã trước sáp nhập của thửa đất qua bảng kế thừa admin_lineage (tổng hợp) · units from 2025-07-01 come from each parcel's pre-merger commune through admin_lineage (synthesised in the sample)".into(),
        );
    }
    if unassigned > 0 {
        notes.push(format!(
            "{unassigned} thửa có mã xã không thuộc đơn vị nào · {unassigned} parcels have a commune code of no unit (row with empty unit_code)"
        ));
    }
    let reconciles = wanted.is_none().then(|| {
        total_n == layer_total.0 && (total_a - layer_total.1).abs() <= 1e-6 * layer_total.1.max(1.0)
    });
    let label = |n: &str| UnitTotal {
        unit_code: String::new(),
        unit_name: n.into(),
        parcels: 0,
        area_m2: 0.0,
    };
    Ok(LanduseStats {
        as_of: q.as_of.clone(),
        geography: if after { "from_2025" } else { "pre_2025" },
        level: q.level,
        group: q.group,
        rows,
        units,
        total: UnitTotal {
            parcels: total_n,
            area_m2: round(total_a, 1),
            ..label("tổng / total")
        },
        layer_total: UnitTotal {
            parcels: layer_total.0,
            area_m2: round(layer_total.1, 1),
            ..label("toàn lớp thửa đất / whole parcel layer")
        },
        reconciles,
        notes,
    })
}

/// What project rows are keyed by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProjectsBy {
    /// Status.
    Status,
    /// The commune-level unit of the day its site lies in.
    Unit,
    /// Function.
    Function,
}

impl ProjectsBy {
    /// Reads `status`, `unit` or `function`.
    pub fn parse(s: &str) -> Result<ProjectsBy, PlanningError> {
        match s {
            "status" => Ok(ProjectsBy::Status),
            "unit" => Ok(ProjectsBy::Unit),
            "function" => Ok(ProjectsBy::Function),
            other => Err(PlanningError::BadRequest(format!(
                "by='{other}' is not status, unit or function"
            ))),
        }
    }
}

/// One row of project statistics.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ProjectRow {
    /// The status, unit (code and name) or function.
    pub key: String,
    /// Unit name when by unit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Projects.
    pub projects: u64,
    /// Registered capital, VND.
    pub capital_vnd: i64,
    /// Area, ha.
    pub area_ha: f64,
}

/// Project statistics.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ProjectStats {
    /// The day whose units are used (by unit).
    pub as_of: String,
    /// What the rows are keyed by.
    pub by: ProjectsBy,
    /// Rows, by key.
    pub rows: Vec<ProjectRow>,
    /// Over all projects.
    pub total: ProjectRow,
}

/// Counts projects and sums capital and area by status, unit or function.
pub fn projects(cat: &Catalog, by: ProjectsBy, as_of: &str) -> Result<ProjectStats, PlanningError> {
    if !is_day(as_of) {
        return Err(PlanningError::BadRequest(format!(
            "as_of='{as_of}' is not a date (YYYY-MM-DD)"
        )));
    }
    let l = cat
        .layer(PROJECTS)
        .ok_or(PlanningError::MissingLayer(PROJECTS))?;
    let units = cat.layer(ADMIN_UNITS);
    let mut acc: BTreeMap<String, ProjectRow> = BTreeMap::new();
    let mut total = ProjectRow {
        key: "tổng / total".into(),
        name: None,
        projects: 0,
        capital_vnd: 0,
        area_ha: 0.0,
    };
    l.for_each_match(None, None, |f| {
        let capital = super::int_of(l, f, "capital_vnd").unwrap_or(0);
        let area = num_of(l, f, "area_ha").unwrap_or(0.0);
        let (key, name) = match by {
            ProjectsBy::Status => (text_of(l, f, "status").unwrap_or("—").to_owned(), None),
            ProjectsBy::Function => (text_of(l, f, "function").unwrap_or("—").to_owned(), None),
            ProjectsBy::Unit => {
                let at = l
                    .data(f.part)
                    .geometry_of(f.row as usize)
                    .and_then(|g| g.interior_point());
                let unit = at.zip(units).and_then(|(p, u)| {
                    let t = temporal_of(u);
                    let mut found = None;
                    u.for_each_match(Some(&Spatial::Point(p.0)), None, |r| {
                        if text_of(u, r, "level") == Some("commune")
                            && u.valid_on(t.as_ref(), r, as_of)
                        {
                            found = Some(r);
                        }
                    });
                    found.map(|r| {
                        (
                            text_of(u, r, "code").unwrap_or_default().to_owned(),
                            text_of(u, r, "name").unwrap_or_default().to_owned(),
                        )
                    })
                });
                match unit {
                    Some((c, n)) => (c, Some(n)),
                    None => (
                        String::new(),
                        Some("(ngoài các đơn vị / outside the units)".into()),
                    ),
                }
            }
        };
        let e = acc.entry(key.clone()).or_insert(ProjectRow {
            key,
            name,
            projects: 0,
            capital_vnd: 0,
            area_ha: 0.0,
        });
        e.projects += 1;
        e.capital_vnd = e.capital_vnd.saturating_add(capital);
        e.area_ha += area;
        total.projects += 1;
        total.capital_vnd = total.capital_vnd.saturating_add(capital);
        total.area_ha += area;
    });
    let mut rows: Vec<ProjectRow> = acc.into_values().collect();
    for r in &mut rows {
        r.area_ha = round(r.area_ha, 2);
    }
    total.area_ha = round(total.area_ha, 2);
    Ok(ProjectStats {
        as_of: as_of.to_owned(),
        by,
        rows,
        total,
    })
}
