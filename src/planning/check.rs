//! The compliance check of a proposed site: does a proposal (a use, floors,
//! building density, FAR, floor area) on a drawn site fit the plan? It
//! stands on the planning answer for the site (`info`) and adds the
//! constraints around it. Every rule gives an explicit sentence, in
//! Vietnamese and English, whether it passes or fails ("không nằm trong
//! đất quốc phòng" / "not on defence land"), as the UK's PlanX does.
//!
//! Rules, per plan level in force that has zoning lots under the site:
//! for every lot touched, the proposed use against the lot's function and
//! each indicator against the lot's limit. Then: the site lies inside plans
//! in force; it does not cross water; it does not take roads' right of way
//! (the road's width about its centreline); it is not on defence or
//! security land (parcels CQP, CAN); it keeps away from heritage (parcels
//! DDT/DDL/DDD, and heritage places within the configured distance); it
//! does not overlap other investment projects. Overlaps are measured in
//! EPSG:5899 with the sliver rule of `overlay`; distances too.

use super::info::{answer, InfoQuery, LotInfo, PlanningInfo, Subject, PARCELS, PROJECTS};
use super::landuse::{codes_of, lookup, LandUse};
use super::overlay::{area_without_slivers, overlap_m2, polygons, to_plane};
use super::text::fold;
use super::{num_of, text_of, PlanningError};
use crate::crs::{self, VN2000_TM3_10745, WEB_MERCATOR};
use crate::engine::{Catalog, Spatial};
use crate::model::grow_rect;
use geo::{Area, BooleanOps, BoundingRect, Buffer, Distance, Euclidean};
use geo_types::{Geometry, LineString, MultiPolygon, Rect};

/// Water lines (rivers, canals, lakes' shores).
pub const WATER: &str = "water";
/// Road centrelines with `width_m`.
pub const ROADS: &str = "roads";
/// Places, heritage among them.
pub const POIS: &str = "pois";

/// Land-use codes of defence and security land.
pub const DEFENCE_CODES: &[&str] = &["CQP", "CAN"];
/// Land-use codes of heritage land.
pub const HERITAGE_CODES: &[&str] = &["DDT", "DDL", "DDD"];
/// Widest road right of way considered, metres (candidates are taken
/// within half of it).
pub const MAX_ROAD_WIDTH_M: f64 = 200.0;
/// `pois.kind` values that are heritage.
pub const HERITAGE_KINDS: &[&str] = &["di sản", "danh thắng", "di tích"];

/// What is proposed on the site.
#[derive(Debug, Clone, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Proposal {
    /// The land-use code of the project ("TMD").
    #[serde(rename = "use")]
    pub use_code: String,
    /// Floors above ground.
    pub floors: Option<i64>,
    /// Building density, %.
    pub density_pct: Option<f64>,
    /// Floor area ratio.
    pub far: Option<f64>,
    /// Gross floor area, m².
    pub gfa_m2: Option<f64>,
}

/// Limits of a check (from configuration).
#[derive(Debug, Clone, Copy)]
pub struct CheckLimits {
    /// Sliver tolerance, metres.
    pub tolerance_m: f64,
    /// Heritage places closer than this (metres) are a conflict.
    pub heritage_buffer_m: f64,
}

/// One rule's outcome, with its sentence both ways.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Rule {
    /// What kind of rule (`lot.use`, `lot.floors`, `water`, …).
    pub rule: &'static str,
    /// The plan whose lot it concerns, for lot rules.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan_code: Option<String>,
    /// The lot it concerns, for lot rules.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lot: Option<String>,
    /// Passed.
    pub pass: bool,
    /// The sentence in Vietnamese.
    pub vi: String,
    /// The sentence in English.
    pub en: String,
}

/// The lots of one plan level under the site.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LevelCheck {
    /// Plan code.
    pub plan_code: String,
    /// Plan level.
    pub level: String,
    /// The governing plan.
    pub governs: bool,
    /// Its lots touched, with the overlap.
    pub lots: Vec<LotInfo>,
    /// True when every rule of this level passes.
    pub pass: bool,
}

/// The outcome of a check.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CheckResult {
    /// True when every rule passes.
    pub pass: bool,
    /// Rules that failed.
    pub failed: usize,
    /// What was proposed, as read.
    pub proposal: Proposal,
    /// Its land-use code with name.
    pub proposal_use: LandUse,
    /// Per plan level with lots.
    pub levels: Vec<LevelCheck>,
    /// Every rule, in order.
    pub rules: Vec<Rule>,
    /// The planning answer for the site (units, plans, lots, zones, projects).
    pub info: PlanningInfo,
}

fn bad(m: impl Into<String>) -> PlanningError {
    PlanningError::BadRequest(m.into())
}

/// Checks a proposal's values: a listed use code, positive numbers in
/// range.
pub fn validate(p: &Proposal) -> Result<LandUse, PlanningError> {
    let lu = lookup(&p.use_code).cloned().ok_or_else(|| {
        bad(format!(
            "proposal.use '{}' is not a land-use code (TT 08/2024: ODT, TMD, SKC, …)",
            p.use_code
        ))
    })?;
    if let Some(f) = p.floors {
        if !(1..=200).contains(&f) {
            return Err(bad(format!(
                "proposal.floors {f} must be between 1 and 200"
            )));
        }
    }
    let in_range = |name: &str, v: Option<f64>, max: f64| -> Result<(), PlanningError> {
        match v {
            Some(x) if !(x.is_finite() && x > 0.0 && x <= max) => Err(bad(format!(
                "proposal.{name} {x} must be a number above 0 and at most {max}"
            ))),
            _ => Ok(()),
        }
    };
    in_range("density_pct", p.density_pct, 100.0)?;
    in_range("far", p.far, 100.0)?;
    in_range("gfa_m2", p.gfa_m2, 1e9)?;
    Ok(lu)
}

/// The land-use codes a zoning lot's function allows (the functions of
/// QCVN 01:2021/BXD as the sample's plans name them); `None` for a
/// function without a rule.
pub fn allowed_uses(function: &str) -> Option<&'static [&'static str]> {
    let f = fold(function);
    let f = f.strip_prefix("dat ").unwrap_or(&f);
    Some(match f {
        "o moi" | "o hien trang cai tao" | "o" | "o do thi" => &["ODT", "ONT"],
        "thuong mai dich vu" => &["TMD"],
        "hon hop" => &["ODT", "TMD", "DVH", "DXH"],
        "cong cong" => &[
            "TSC", "DVH", "DXH", "DYT", "DGD", "DTT", "DSH", "DKV", "DCH", "DCK",
        ],
        "giao duc" => &["DGD"],
        "y te" => &["DYT"],
        "cay xanh" | "cay xanh cong vien" => &["DKV"],
        "cong nghiep" | "khu cong nghiep" => &["SKK", "SKN", "SKC"],
        "kho bai" | "kho tang" => &["SKC", "SKK", "TMD"],
        "ha tang ky thuat" => &["DGT", "DTL", "DNL", "DBV", "DCT", "DRA", "DKT"],
        _ => return None,
    })
}

/// "2025-07-01" as "01/07/2025".
fn vn_day(d: &str) -> String {
    match (d.get(0..4), d.get(5..7), d.get(8..10)) {
        (Some(y), Some(m), Some(dd)) => format!("{dd}/{m}/{y}"),
        _ => d.to_owned(),
    }
}

/// A number in Vietnamese (comma decimal) and English.
fn num(v: f64, places: usize) -> (String, String) {
    let en = format!("{:.*}", places, v);
    (en.replace('.', ","), en)
}

fn lot_name(l: &LotInfo) -> String {
    l.lot_symbol
        .clone()
        .unwrap_or_else(|| format!("#{}", l.source.fid))
}

/// The rules of one lot.
fn lot_rules(l: &LotInfo, p: &Proposal, use_lu: &LandUse, out: &mut Vec<Rule>) {
    let use_name = use_lu.name.as_str();
    let lot = lot_name(l);
    let function = l.function.clone().unwrap_or_default();
    let rule = |rule, pass, vi: String, en: String| Rule {
        rule,
        plan_code: l.plan_code.clone(),
        lot: Some(lot.clone()),
        pass,
        vi,
        en,
    };
    let code = use_lu.code.clone();
    match allowed_uses(&function) {
        Some(allowed) if allowed.contains(&code.as_str()) => out.push(rule(
            "lot.use",
            true,
            format!("Chức năng lô {lot} ({function}) phù hợp với mục đích {code} ({use_name})."),
            format!("Lot {lot} ({function}) allows the use {code} ({use_name})."),
        )),
        Some(allowed) => out.push(rule(
            "lot.use",
            false,
            format!(
                "Chức năng lô {lot} ({function}) không cho phép mục đích {code} ({use_name}); cho phép: {}.",
                allowed.join(", ")
            ),
            format!(
                "Lot {lot} ({function}) does not allow the use {code}; it allows {}.",
                allowed.join(", ")
            ),
        )),
        None => out.push(rule(
            "lot.use",
            false,
            format!("Chức năng lô {lot} ({function}) chưa có quy tắc đối chiếu; cần cơ quan quy hoạch xem xét."),
            format!("Lot {lot}'s function ({function}) has no rule to check the use against; the planning office must decide."),
        )),
    }
    if let Some(f) = p.floors {
        match (l.floors_min, l.floors_max) {
            (_, Some(max)) if f > max => out.push(rule(
                "lot.floors",
                false,
                format!("Số tầng đề xuất {f} vượt tầng cao tối đa {max} của lô {lot}."),
                format!("{f} floors proposed exceed lot {lot}'s maximum of {max}."),
            )),
            (Some(min), _) if f < min => out.push(rule(
                "lot.floors",
                false,
                format!("Số tầng đề xuất {f} thấp hơn tầng cao tối thiểu {min} của lô {lot}."),
                format!("{f} floors proposed are below lot {lot}'s minimum of {min}."),
            )),
            (Some(min), None) => out.push(rule(
                "lot.floors",
                true,
                format!("Số tầng đề xuất {f} không thấp hơn tầng cao tối thiểu {min} của lô {lot} (lô không quy định tối đa)."),
                format!("{f} floors proposed meet lot {lot}'s minimum of {min} (it sets no maximum)."),
            )),
            (min, Some(max)) => out.push(rule(
                "lot.floors",
                true,
                format!(
                    "Số tầng đề xuất {f} nằm trong giới hạn {}–{max} tầng của lô {lot}.",
                    min.unwrap_or(1)
                ),
                format!(
                    "{f} floors proposed are within lot {lot}'s {}–{max}.",
                    min.unwrap_or(1)
                ),
            )),
            _ => out.push(rule(
                "lot.floors",
                false,
                format!("Lô {lot} không có chỉ tiêu tầng cao để đối chiếu."),
                format!("Lot {lot} has no floor limit to check against."),
            )),
        }
    }
    let limit = |rule_id,
                 name_vi: &str,
                 name_en: &str,
                 v: Option<f64>,
                 max: Option<f64>,
                 places,
                 unit: &str| {
        let v = v?;
        let (vv, ve) = num(v, places);
        Some(match max {
            Some(m) => {
                let (mv, me) = num(m, places);
                if v <= m + 1e-9 {
                    rule(
                        rule_id,
                        true,
                        format!("{name_vi} đề xuất {vv}{unit} không vượt mức tối đa {mv}{unit} của lô {lot}."),
                        format!("The proposed {name_en} of {ve}{unit} is within lot {lot}'s maximum of {me}{unit}."),
                    )
                } else {
                    rule(
                        rule_id,
                        false,
                        format!("{name_vi} đề xuất {vv}{unit} vượt mức tối đa {mv}{unit} của lô {lot}."),
                        format!("The proposed {name_en} of {ve}{unit} exceeds lot {lot}'s maximum of {me}{unit}."),
                    )
                }
            }
            None => rule(
                rule_id,
                false,
                format!("Lô {lot} không có chỉ tiêu {name_vi} để đối chiếu."),
                format!("Lot {lot} has no {name_en} limit to check against."),
            ),
        })
    };
    if let Some(r) = limit(
        "lot.density",
        "Mật độ xây dựng",
        "building density",
        p.density_pct,
        l.density_pct,
        1,
        " %",
    ) {
        out.push(r);
    }
    if let Some(r) = limit("lot.far", "Hệ số sử dụng đất", "FAR", p.far, l.far, 2, "") {
        out.push(r);
    }
}

fn rule(rule: &'static str, pass: bool, vi: String, en: String) -> Rule {
    Rule {
        rule,
        plan_code: None,
        lot: None,
        pass,
        vi,
        en,
    }
}

/// The site's bounding box in the engine's plane, grown by `m` metres
/// (roughly: Web Mercator metres are ~4 % shorter at 16° N; this only
/// picks candidates).
fn grown(site: &MultiPolygon<f64>, m: f64) -> Option<Rect<f64>> {
    Some(grow_rect(site.bounding_rect()?, m * 1.1))
}

fn line_to_plane(g: &Geometry<f64>) -> Vec<LineString<f64>> {
    let lines: Vec<LineString<f64>> = match g {
        Geometry::LineString(l) => vec![l.clone()],
        Geometry::MultiLineString(m) => m.0.clone(),
        _ => vec![],
    };
    lines
        .into_iter()
        .filter_map(|mut l| {
            crs::transform(WEB_MERCATOR, VN2000_TM3_10745, &mut l.0).ok()?;
            Some(l)
        })
        .collect()
}

/// Checks `proposal` on `site` (Web Mercator, checked by `site::site_from`)
/// as of `as_of`.
pub fn check(
    cat: &Catalog,
    site: &MultiPolygon<f64>,
    proposal: &Proposal,
    as_of: &str,
    limits: CheckLimits,
) -> Result<CheckResult, PlanningError> {
    let use_lu = validate(proposal)?;
    let tol = limits.tolerance_m;
    let info = answer(
        cat,
        &InfoQuery {
            subject: Subject::Site(site.clone()),
            as_of: as_of.to_owned(),
            tolerance_m: tol,
        },
    )?;
    let plane = to_plane(site)?;
    let site_area = plane.unsigned_area();
    let mut rules = Vec::new();

    // Where it lies.
    let units: Vec<&str> = info
        .admin_units
        .iter()
        .filter(|u| u.level == "commune")
        .map(|u| u.name.as_str())
        .collect();
    rules.push(rule(
        "admin",
        true,
        format!(
            "Khu đất thuộc {} (ngày {}).",
            units.join(", "),
            vn_day(&info.as_of)
        ),
        format!("The site lies in {} (on {}).", units.join(", "), info.as_of),
    ));

    // Inside plans in force.
    let mut covered = MultiPolygon(vec![]);
    if let Some(l) = cat.layer(super::info::PLANS) {
        for p in info.plans.iter().filter(|p| p.in_force) {
            let f = l.get(p.source.fid);
            if let Some(g) = f.and_then(|f| l.data(f.part).geometry_of(f.row as usize)) {
                covered = covered.union(&site.intersection(&polygons(&g)));
            }
        }
    }
    // What lies outside, less the slivers of digitising along the edges.
    let outside = area_without_slivers(&to_plane(&site.difference(&covered))?, tol);
    let outside_pct = if site_area > 0.0 {
        outside / site_area * 100.0
    } else {
        0.0
    };
    if outside <= 0.0 {
        rules.push(rule(
            "plan.coverage",
            true,
            "Toàn bộ khu đất nằm trong phạm vi quy hoạch đang có hiệu lực.".into(),
            "The whole site lies within plans in force.".into(),
        ));
    } else {
        let (mv, me) = num(outside, 1);
        let (pv, pe) = num(outside_pct, 1);
        rules.push(rule(
            "plan.coverage",
            false,
            format!("{mv} m² ({pv} %) khu đất nằm ngoài mọi quy hoạch đang có hiệu lực."),
            format!("{me} m² ({pe} %) of the site lies outside any plan in force."),
        ));
    }

    // Per plan level with lots.
    let mut levels = Vec::new();
    for p in info.plans.iter().filter(|p| p.in_force) {
        let lots: Vec<LotInfo> = info
            .zoning_lots
            .iter()
            .filter(|l| l.plan_code.as_deref() == Some(p.code.as_str()))
            .cloned()
            .collect();
        if lots.is_empty() {
            continue;
        }
        let start = rules.len();
        for l in &lots {
            lot_rules(l, proposal, &use_lu, &mut rules);
        }
        if let Some(gfa) = proposal.gfa_m2 {
            let max: f64 = lots.iter().filter_map(|l| l.max_gfa_on_share_m2).sum();
            let (gv, ge) = num(gfa, 0);
            let (mv, me) = num(max, 0);
            rules.push(Rule {
                rule: "plan.gfa",
                plan_code: Some(p.code.clone()),
                lot: None,
                pass: gfa <= max + 1e-6,
                vi: if gfa <= max + 1e-6 {
                    format!("Diện tích sàn đề xuất {gv} m² không vượt {mv} m² cho phép trên phần khu đất theo {}.", p.code)
                } else {
                    format!("Diện tích sàn đề xuất {gv} m² vượt {mv} m² cho phép trên phần khu đất theo {}.", p.code)
                },
                en: if gfa <= max + 1e-6 {
                    format!("The proposed floor area of {ge} m² is within the {me} m² that {} allows on the site.", p.code)
                } else {
                    format!("The proposed floor area of {ge} m² exceeds the {me} m² that {} allows on the site.", p.code)
                },
            });
        }
        levels.push(LevelCheck {
            plan_code: p.code.clone(),
            level: p.level.clone(),
            governs: p.governs,
            pass: rules[start..].iter().all(|r| r.pass),
            lots,
        });
    }
    if levels.is_empty() {
        rules.push(rule(
            "plan.lots",
            false,
            "Khu đất không nằm trong lô quy hoạch phân khu hay chi tiết nào đang có hiệu lực: không đối chiếu được chức năng và chỉ tiêu.".into(),
            "The site lies in no zoning lot of a plan in force: its use and indicators cannot be checked.".into(),
        ));
    }

    // Water.
    let mut crossed: Vec<String> = Vec::new();
    if let Some(l) = cat.layer(WATER) {
        l.for_each_match(
            Some(&Spatial::Intersects(Geometry::MultiPolygon(site.clone()))),
            None,
            |f| {
                let name = text_of(l, f, "name").unwrap_or("(không tên)").to_owned();
                let kind = text_of(l, f, "kind").unwrap_or_default();
                let n = if kind.is_empty() || fold(&name).starts_with(&fold(kind)) {
                    name
                } else {
                    format!("{kind} {name}")
                };
                if !crossed.contains(&n) {
                    crossed.push(n);
                }
            },
        );
    }
    rules.push(if crossed.is_empty() {
        rule(
            "water",
            true,
            "Khu đất không cắt qua sông, hồ, kênh.".into(),
            "The site does not cross any river, lake or canal.".into(),
        )
    } else {
        rule(
            "water",
            false,
            format!("Khu đất cắt qua mặt nước: {}.", crossed.join(", ")),
            format!("The site crosses water: {}.", crossed.join(", ")),
        )
    });

    // Roads' right of way: the road's width about its centreline, the
    // pieces of one road joined before they are measured (their round ends
    // overlap at every joint).
    let mut taken: Vec<(String, f64, f64)> = Vec::new();
    if let (Some(l), Some(r)) = (cat.layer(ROADS), grown(site, MAX_ROAD_WIDTH_M / 2.0)) {
        let mut cands = Vec::new();
        l.for_each_match(Some(&Spatial::Bbox(r)), None, |f| cands.push(f));
        cands.sort_by_key(|f| f.fid);
        let mut by_road: Vec<(String, f64, MultiPolygon<f64>)> = Vec::new();
        for f in cands {
            let Some(w) = num_of(l, f, "width_m").filter(|w| *w > 0.0 && *w <= MAX_ROAD_WIDTH_M)
            else {
                continue;
            };
            let Some(g) = l.data(f.part).geometry_of(f.row as usize) else {
                continue;
            };
            let name = text_of(l, f, "name").unwrap_or("(không tên)").to_owned();
            for line in line_to_plane(&g) {
                // Only a centreline within half its width of the site.
                if Euclidean.distance(&line, &plane) > w / 2.0 {
                    continue;
                }
                let row = line.buffer(w / 2.0).intersection(&plane);
                match by_road.iter_mut().find(|(n, _, _)| *n == name) {
                    Some(t) => {
                        t.1 = t.1.max(w);
                        t.2 = t.2.union(&row);
                    }
                    None => by_road.push((name.clone(), w, row)),
                }
            }
        }
        for (name, w, row) in by_road {
            let area = area_without_slivers(&row, tol);
            if area > 0.0 {
                taken.push((name, area, w));
            }
        }
    }
    rules.push(if taken.is_empty() {
        rule(
            "road",
            true,
            "Khu đất không lấn vào lộ giới đường giao thông.".into(),
            "The site does not take any road's right of way.".into(),
        )
    } else {
        let vi: Vec<String> = taken
            .iter()
            .map(|(n, a, w)| {
                format!(
                    "{} m² lộ giới đường {n} (rộng {} m)",
                    num(*a, 1).0,
                    num(*w, 0).0
                )
            })
            .collect();
        let en: Vec<String> = taken
            .iter()
            .map(|(n, a, w)| {
                format!(
                    "{} m² of {n}'s right of way ({} m wide)",
                    num(*a, 1).1,
                    num(*w, 0).1
                )
            })
            .collect();
        rule(
            "road",
            false,
            format!("Khu đất lấn {}.", vi.join("; ")),
            format!("The site takes {}.", en.join("; ")),
        )
    });

    // Defence and security land, heritage land: parcels by land-use code.
    let mut defence: Vec<(String, String, f64)> = Vec::new();
    let mut heritage_land: Vec<(String, f64)> = Vec::new();
    if let (Some(l), Some(r)) = (cat.layer(PARCELS), grown(site, 0.0)) {
        // Candidates by box, then by code (cheap), and only then geometry:
        // a large site over dense parcels tests few of them exactly.
        let mut cands = Vec::new();
        l.for_each_match(Some(&Spatial::Bbox(r)), None, |f| {
            let codes = codes_of(text_of(l, f, "land_use_code").unwrap_or_default());
            if codes.iter().any(|c| {
                DEFENCE_CODES.contains(&c.code.as_str())
                    || HERITAGE_CODES.contains(&c.code.as_str())
            }) {
                cands.push(f);
            }
        });
        cands.sort_by_key(|f| f.fid);
        for f in cands {
            let codes = codes_of(text_of(l, f, "land_use_code").unwrap_or_default());
            let def = codes
                .iter()
                .find(|c| DEFENCE_CODES.contains(&c.code.as_str()));
            let is_def = def.is_some();
            let is_her = codes
                .iter()
                .any(|c| HERITAGE_CODES.contains(&c.code.as_str()));
            let code = def.map_or(String::new(), |c| c.code.clone());
            if !is_def && !is_her {
                continue;
            }
            let g = l
                .data(f.part)
                .geometry_of(f.row as usize)
                .map_or(MultiPolygon(vec![]), |g| polygons(&g));
            let o = overlap_m2(site, &g, tol)?;
            if o <= 0.0 {
                continue;
            }
            let key = format!(
                "{}-{}-{}",
                text_of(l, f, "commune_code").unwrap_or_default(),
                super::int_of(l, f, "sheet_number").unwrap_or_default(),
                super::int_of(l, f, "parcel_number").unwrap_or_default()
            );
            if is_def {
                defence.push((key, code, o));
            } else {
                heritage_land.push((key, o));
            }
        }
    }
    rules.push(if defence.is_empty() {
        rule(
            "defence",
            true,
            "Khu đất không nằm trong đất quốc phòng, an ninh (CQP, CAN).".into(),
            "The site is not on defence or security land (CQP, CAN).".into(),
        )
    } else {
        let total: f64 = defence.iter().map(|d| d.2).sum();
        let keys: Vec<String> = defence
            .iter()
            .map(|(k, c, _)| format!("{k} ({c})"))
            .collect();
        rule(
            "defence",
            false,
            format!(
                "Khu đất chồng lấn {} m² đất quốc phòng, an ninh: thửa {}.",
                num(total, 1).0,
                keys.join(", ")
            ),
            format!(
                "The site overlaps {} m² of defence or security land: parcel {}.",
                num(total, 1).1,
                keys.join(", ")
            ),
        )
    });

    // Heritage: heritage land under the site, heritage places near it.
    let mut near: Vec<(String, f64)> = Vec::new();
    if let (Some(l), Some(r)) = (cat.layer(POIS), grown(site, limits.heritage_buffer_m)) {
        let mut cands = Vec::new();
        l.for_each_match(Some(&Spatial::Bbox(r)), None, |f| cands.push(f));
        cands.sort_by_key(|f| f.fid);
        for f in cands {
            let kind = text_of(l, f, "kind").unwrap_or_default();
            if !HERITAGE_KINDS.contains(&kind) {
                continue;
            }
            let Some(Geometry::Point(p)) = l.data(f.part).geometry_of(f.row as usize) else {
                continue;
            };
            let Ok(pp) = crs::transform_one(WEB_MERCATOR, VN2000_TM3_10745, p.0) else {
                continue;
            };
            let d = Euclidean.distance(&geo_types::Point(pp), &plane);
            if d <= limits.heritage_buffer_m {
                near.push((text_of(l, f, "name").unwrap_or(kind).to_owned(), d));
            }
        }
    }
    let (bv, be) = num(limits.heritage_buffer_m, 0);
    rules.push(if near.is_empty() && heritage_land.is_empty() {
        rule(
            "heritage",
            true,
            format!("Khu đất không chồng lấn đất di tích, danh thắng và cách các di sản, danh thắng trên {bv} m."),
            format!("The site is not on heritage land and lies more than {be} m from heritage sites."),
        )
    } else {
        let mut vi = Vec::new();
        let mut en = Vec::new();
        for (n, d) in &near {
            if *d <= 0.0 {
                vi.push(format!("chứa {n}"));
                en.push(format!("contains {n}"));
            } else {
                vi.push(format!("cách {n} {} m", num(*d, 0).0));
                en.push(format!("lies {} m from {n}", num(*d, 0).1));
            }
        }
        for (k, o) in &heritage_land {
            vi.push(format!("chồng lấn {} m² đất di tích (thửa {k})", num(*o, 1).0));
            en.push(format!("overlaps {} m² of heritage land (parcel {k})", num(*o, 1).1));
        }
        rule(
            "heritage",
            false,
            format!("Khu đất {} (khoảng bảo vệ {bv} m).", vi.join("; ")),
            format!("The site {} (protection distance {be} m).", en.join("; ")),
        )
    });

    // Other investment projects (revoked ones no longer hold the land).
    let others: Vec<String> = if cat.layer(PROJECTS).is_some() {
        info.projects
            .iter()
            .filter(|p| p.kind.as_deref() != Some("đã thu hồi"))
            .map(|p| {
                format!(
                    "{} ({} m²)",
                    p.name,
                    num(p.overlap.overlap_m2.unwrap_or(0.0), 1).0
                )
            })
            .collect()
    } else {
        vec![]
    };
    rules.push(if others.is_empty() {
        rule(
            "projects",
            true,
            "Khu đất không chồng lấn dự án đầu tư khác.".into(),
            "The site does not overlap another investment project.".into(),
        )
    } else {
        rule(
            "projects",
            false,
            format!("Khu đất chồng lấn dự án đầu tư: {}.", others.join("; ")),
            format!(
                "The site overlaps investment projects: {}.",
                others.join("; ")
            ),
        )
    });

    let failed = rules.iter().filter(|r| !r.pass).count();
    Ok(CheckResult {
        pass: failed == 0,
        failed,
        proposal: proposal.clone(),
        proposal_use: use_lu,
        levels,
        rules,
        info,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proposal(use_code: &str) -> Proposal {
        Proposal {
            use_code: use_code.into(),
            floors: Some(5),
            density_pct: Some(60.0),
            far: Some(3.0),
            gfa_m2: None,
        }
    }

    #[test]
    fn proposals_are_validated_naming_the_field() {
        assert!(validate(&proposal("TMD")).is_ok());
        let e = |p: Proposal| validate(&p).unwrap_err().to_string();
        assert!(e(proposal("XYZ")).contains("proposal.use 'XYZ'"));
        assert!(e(Proposal {
            floors: Some(-2),
            ..proposal("TMD")
        })
        .contains("proposal.floors -2"));
        assert!(e(Proposal {
            density_pct: Some(140.0),
            ..proposal("TMD")
        })
        .contains("density_pct"));
        assert!(e(Proposal {
            far: Some(f64::NAN),
            ..proposal("TMD")
        })
        .contains("far"));
    }

    #[test]
    fn lot_functions_allow_their_uses() {
        assert!(allowed_uses("Đất thương mại dịch vụ")
            .unwrap()
            .contains(&"TMD"));
        assert!(allowed_uses("Đất ở mới").unwrap().contains(&"ODT"));
        assert!(!allowed_uses("Đất cây xanh").unwrap().contains(&"TMD"));
        assert!(allowed_uses("Đất nghĩa trang").is_none());
    }
}
