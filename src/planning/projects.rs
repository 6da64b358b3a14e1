//! The investment-project registry: the stages of a project's legal
//! procedure and the moves allowed between them (Investment Law, in the
//! order the province practises it), a requested transition checked
//! before anything is written, the deadline a stage sets, and the
//! registry's list and detail answers over one snapshot. The history of
//! transitions is the store's (append-only); this module only reads what
//! it is given.
//!
//! # Examples
//!
//! ```
//! use geoplan::planning::projects::{allowed_next, Stage};
//! let from = Stage::parse("đề xuất / kêu gọi đầu tư").unwrap();
//! assert_eq!(from, Stage::Proposed);
//! let next = allowed_next(from, None);
//! assert!(next.contains(&Stage::PolicyApproved));
//! assert!(!next.contains(&Stage::Operating));
//! ```

use super::admin::{Gazetteer, Unit};
use super::info::{answer, InfoQuery, PlanningInfo, Subject, ADMIN_UNITS, PARCELS, PROJECTS};
use super::overlay::polygons;
use super::text::fold;
use super::{round, PlanningError};
use crate::engine::temporal::{is_day, temporal_of};
use crate::engine::{Catalog, FeatureRef, Layer, Spatial};
use crate::model::{LayerData, ValueRef};
use geo::InteriorPoint;
use geo_types::Coord;
use std::collections::HashSet;

pub use crate::model::stage::{Stage, ALL, ASIDE, MAIN};

impl Stage {
    /// A stage from its code, its Vietnamese name (diacritics optional),
    /// or the status words older records use ("đang kêu gọi", "đã phê
    /// duyệt", "đã đăng ký", "đang hoạt động", "đã thu hồi").
    pub fn parse(s: &str) -> Option<Stage> {
        let t = s.trim();
        if let Some(x) = ALL.iter().find(|x| x.code() == t) {
            return Some(*x);
        }
        let f = fold(t);
        if let Some(x) = ALL.iter().find(|x| fold(x.vi()) == f) {
            return Some(*x);
        }
        Some(match f.as_str() {
            "dang keu goi" | "keu goi dau tu" | "de xuat" => Stage::Proposed,
            "da phe duyet" | "chap thuan chu truong" => Stage::PolicyApproved,
            "da dang ky" | "da chon nha dau tu" => Stage::InvestorSelected,
            "giao dat" | "cho thue dat" => Stage::LandAllocated,
            "dang hoat dong" | "hoat dong" => Stage::Operating,
            "da thu hoi" | "thu hoi" | "cham dut" => Stage::Terminated,
            _ => return None,
        })
    }
}

/// The stages a project may move to from `from`; `before_suspension` is
/// the stage a suspended project was suspended in (it resumes there).
pub fn allowed_next(from: Stage, before_suspension: Option<Stage>) -> Vec<Stage> {
    match from {
        Stage::Terminated => vec![],
        Stage::Suspended => before_suspension
            .into_iter()
            .filter(|s| !ASIDE.contains(s))
            .chain([Stage::Terminated])
            .collect(),
        Stage::Operating => ASIDE.to_vec(),
        s => {
            let i = MAIN.iter().position(|m| *m == s).unwrap_or(0);
            [MAIN[i + 1]].into_iter().chain(ASIDE).collect()
        }
    }
}

/// A transition as asked (`POST /projects/{id}/transitions`).
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransitionRequest {
    /// The stage to enter (code or Vietnamese name).
    pub to: String,
    /// The decision's day, YYYY-MM-DD.
    pub date: String,
    /// Decision number.
    pub decision: Option<String>,
    /// Issuing authority.
    pub authority: Option<String>,
    /// Note.
    pub note: Option<String>,
    /// The next deadline, if not the stage's default.
    pub next_deadline: Option<String>,
}

/// Why a transition is refused.
#[derive(Debug, Clone, PartialEq)]
pub enum TransitionError {
    /// The request cannot be read (400).
    Bad(String),
    /// The move is not allowed from the current stage (409).
    Illegal {
        /// The current stage.
        from: Stage,
        /// The stage asked.
        to: Stage,
        /// The stages allowed.
        allowed: Vec<Stage>,
    },
}

/// A checked transition: what to write.
#[derive(Debug, Clone, PartialEq)]
pub struct Checked {
    /// The stage left.
    pub from: Stage,
    /// The stage entered.
    pub to: Stage,
    /// Its day.
    pub day: String,
    /// Decision number.
    pub decision: Option<String>,
    /// Authority.
    pub authority: Option<String>,
    /// Note.
    pub note: Option<String>,
    /// The next deadline and what is due then (none when nothing is).
    pub next_deadline: Option<(String, String)>,
}

/// `day` plus `months` (day of month kept, clamped to 28).
pub fn add_months(day: &str, months: u32) -> String {
    let y: i32 = day[0..4].parse().unwrap_or(2000);
    let m: u32 = day[5..7].parse().unwrap_or(1);
    let d: u32 = day[8..10].parse().unwrap_or(1);
    let total = (y * 12 + m as i32 - 1) + months as i32;
    format!("{:04}-{:02}-{:02}", total / 12, total % 12 + 1, d.min(28))
}

fn text_field(
    name: &str,
    v: &Option<String>,
    max: usize,
) -> Result<Option<String>, TransitionError> {
    match v.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) if s.chars().count() > max => Err(TransitionError::Bad(format!(
            "{name} is longer than {max} characters"
        ))),
        Some(s) if s.chars().any(|c| c.is_control() && c != '\n') => Err(TransitionError::Bad(
            format!("{name} holds control characters"),
        )),
        Some(s) => Ok(Some(s.to_owned())),
    }
}

/// Checks a transition of a project now in `from` (entered on
/// `since`, if known; suspended from `before_suspension`), asked on
/// `today`.
pub fn check_transition(
    from: Stage,
    since: Option<&str>,
    before_suspension: Option<Stage>,
    req: &TransitionRequest,
    today: &str,
) -> Result<Checked, TransitionError> {
    let to = Stage::parse(&req.to).ok_or_else(|| {
        TransitionError::Bad(format!(
            "to='{}' is not a stage; stages: {}",
            req.to,
            ALL.iter().map(|s| s.code()).collect::<Vec<_>>().join(", ")
        ))
    })?;
    if !is_day(&req.date) {
        return Err(TransitionError::Bad(format!(
            "date='{}' is not a date (YYYY-MM-DD)",
            req.date
        )));
    }
    if req.date.as_str() > today {
        return Err(TransitionError::Bad(format!(
            "date {} is after today ({today}): a transition records a decision already taken",
            req.date
        )));
    }
    if let Some(s) = since {
        if req.date.as_str() < s {
            return Err(TransitionError::Bad(format!(
                "date {} is before the project entered its current stage ({s})",
                req.date
            )));
        }
    }
    let allowed = allowed_next(from, before_suspension);
    if !allowed.contains(&to) {
        return Err(TransitionError::Illegal { from, to, allowed });
    }
    let decision = text_field("decision", &req.decision, 100)?;
    let authority = text_field("authority", &req.authority, 200)?;
    let note = text_field("note", &req.note, 2000)?;
    if to.needs_decision() && decision.is_none() {
        return Err(TransitionError::Bad(format!(
            "entering '{}' ({}) needs the decision number (decision)",
            to.code(),
            to.vi()
        )));
    }
    let next_deadline = match &req.next_deadline {
        Some(d) if !is_day(d) => {
            return Err(TransitionError::Bad(format!(
                "next_deadline='{d}' is not a date (YYYY-MM-DD)"
            )))
        }
        Some(d) if d.as_str() < req.date.as_str() => {
            return Err(TransitionError::Bad(format!(
                "next_deadline {d} is before the transition's date {}",
                req.date
            )))
        }
        Some(d) => Some((d.clone(), to.due_text())),
        None => to
            .deadline()
            .map(|(months, _)| (add_months(&req.date, months), to.due_text())),
    };
    Ok(Checked {
        from,
        to,
        day: req.date.clone(),
        decision,
        authority,
        note,
        next_deadline,
    })
}

/// A project as the registry lists it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ProjectSummary {
    /// Feature id.
    pub fid: i64,
    /// Name.
    pub name: Option<String>,
    /// Stage code.
    pub stage: Option<&'static str>,
    /// Stage, in Vietnamese.
    pub stage_vi: Option<&'static str>,
    /// Stage, in English.
    pub stage_en: Option<&'static str>,
    /// The `status` field as stored.
    pub status: Option<String>,
    /// Since when.
    pub stage_date: Option<String>,
    /// Investor.
    pub investor: Option<String>,
    /// Function.
    pub function: Option<String>,
    /// Zone.
    pub zone_name: Option<String>,
    /// Registered capital, VND.
    pub capital_vnd: Option<i64>,
    /// Disbursed capital, VND.
    pub capital_disbursed_vnd: Option<i64>,
    /// Area, ha.
    pub area_ha: Option<f64>,
    /// The next deadline.
    pub next_deadline: Option<String>,
    /// What is due then.
    pub next_deadline_what: Option<String>,
    /// True when the site fails the plan-compliance check.
    pub plan_conflict: Option<bool>,
    /// The stored compliance check.
    pub check_id: Option<String>,
    /// Decision of the last formal step.
    pub approval_decision: Option<String>,
    /// The pre-2025 commune its site lies in.
    pub commune: Option<Unit>,
    /// The 2025 unit.
    pub unit_2025: Option<Unit>,
}

/// Filters of `GET /projects`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProjectQuery {
    /// Stages (any of).
    pub stages: Vec<Stage>,
    /// Unit before or after the merger, code or name.
    pub unit: Option<String>,
    /// Function (part of it, without diacritics).
    pub function: Option<String>,
    /// Investor (part of the name).
    pub investor: Option<String>,
    /// Free text over name, investor, decision, zone.
    pub q: Option<String>,
    /// The day read.
    pub as_of: String,
}

fn text_at<'a>(d: &'a LayerData, row: usize, name: &str) -> Option<&'a str> {
    match d.field_index(name).map(|c| d.value(row, c)) {
        Some(ValueRef::Text(s)) => Some(s),
        _ => None,
    }
}

fn int_at(d: &LayerData, row: usize, name: &str) -> Option<i64> {
    match d.field_index(name).map(|c| d.value(row, c)) {
        Some(ValueRef::Int(i)) => Some(i),
        _ => None,
    }
}

fn num_at(d: &LayerData, row: usize, name: &str) -> Option<f64> {
    d.field_index(name).and_then(|c| d.value(row, c).as_f64())
}

/// The pre-2025 commune code at a point (Web Mercator), from
/// `admin_units` (the lowest fid when several cover it).
pub fn commune_code_at(cat: &Catalog, p: Coord<f64>) -> Option<String> {
    let a = cat.layer(ADMIN_UNITS)?;
    let mut best: Option<(i64, String)> = None;
    a.for_each_match(Some(&Spatial::Point(p)), None, |f| {
        let d = a.data(f.part);
        let row = f.row as usize;
        if text_at(d, row, "level") == Some("commune") {
            if let Some(c) = text_at(d, row, "code") {
                if best.as_ref().is_none_or(|(fid, _)| f.fid < *fid) {
                    best = Some((f.fid, c.to_owned()));
                }
            }
        }
    });
    best.map(|b| b.1)
}

/// The name of the most specific zone (`industrial_zones`) holding a
/// site's interior point.
pub fn zone_at(cat: &Catalog, site: &geo_types::MultiPolygon<f64>) -> Option<String> {
    let z = cat.layer(super::info::ZONES)?;
    let p = site.interior_point()?;
    let mut best: Option<(f64, String)> = None;
    z.for_each_match(Some(&Spatial::Point(p.0)), None, |f| {
        let d = z.data(f.part);
        let row = f.row as usize;
        let area = d
            .geometry_of(row)
            .map_or(f64::INFINITY, |g| geo::Area::unsigned_area(&polygons(&g)));
        if let Some(n) = text_at(d, row, "name") {
            if best.as_ref().is_none_or(|(a, _)| area < *a) {
                best = Some((area, n.to_owned()));
            }
        }
    });
    best.map(|b| b.1)
}

/// The stage a project's record says it is in.
pub fn stage_of(l: &Layer, f: FeatureRef) -> Option<Stage> {
    let d = l.data(f.part);
    let row = f.row as usize;
    text_at(d, row, "stage")
        .and_then(Stage::parse)
        .or_else(|| text_at(d, row, "status").and_then(Stage::parse))
}

fn summary(cat: &Catalog, gaz: &Gazetteer, l: &Layer, f: FeatureRef) -> ProjectSummary {
    let d = l.data(f.part);
    let row = f.row as usize;
    let t = |n: &str| text_at(d, row, n).map(str::to_owned);
    let stage = stage_of(l, f);
    let commune = d
        .geometry_of(row)
        .and_then(|g| polygons(&g).interior_point())
        .and_then(|p| commune_code_at(cat, p.0));
    ProjectSummary {
        fid: f.fid,
        name: t("name"),
        stage: stage.map(Stage::code),
        stage_vi: stage.map(Stage::vi),
        stage_en: stage.map(Stage::en),
        status: t("status"),
        stage_date: t("stage_date"),
        investor: t("investor"),
        function: t("function"),
        zone_name: t("zone_name"),
        capital_vnd: int_at(d, row, "capital_vnd"),
        capital_disbursed_vnd: int_at(d, row, "capital_disbursed_vnd"),
        area_ha: num_at(d, row, "area_ha").map(|a| round(a, 2)),
        next_deadline: t("next_deadline"),
        next_deadline_what: t("next_deadline_what"),
        plan_conflict: match d.field_index("plan_conflict").map(|c| d.value(row, c)) {
            Some(ValueRef::Bool(b)) => Some(b),
            _ => None,
        },
        check_id: t("check_id"),
        approval_decision: t("approval_decision"),
        commune: commune.as_deref().and_then(|c| gaz.commune(c)).cloned(),
        unit_2025: commune
            .as_deref()
            .and_then(|c| gaz.unit_2025_of(c))
            .cloned(),
    }
}

/// The registry's facts of project `fid`, if it exists.
pub fn project(cat: &Catalog, fid: i64) -> Option<ProjectSummary> {
    let l = cat.layer(PROJECTS)?;
    let f = l.get(fid)?;
    let gaz = Gazetteer::from_catalog(cat).unwrap_or_default();
    Some(summary(cat, &gaz, l, f))
}

/// Each project's recorded steps, oldest first: (day, stage code entered).
pub type Steps = std::collections::HashMap<i64, Vec<(String, String)>>;

/// The projects matching `q`, by fid, each in the stage it was in on
/// `q.as_of` by its recorded `steps` (a project proposed after that day
/// is left out; one without steps is in its current stage).
pub fn list(
    cat: &Catalog,
    q: &ProjectQuery,
    steps: &Steps,
) -> Result<Vec<ProjectSummary>, PlanningError> {
    if !is_day(&q.as_of) {
        return Err(PlanningError::BadRequest(format!(
            "as_of='{}' is not a date (YYYY-MM-DD)",
            q.as_of
        )));
    }
    let l = cat
        .layer(PROJECTS)
        .ok_or(PlanningError::MissingLayer(PROJECTS))?;
    let gaz = Gazetteer::from_catalog(cat).unwrap_or_default();
    let communes: Option<HashSet<String>> = match &q.unit {
        None => None,
        Some(u) => {
            let c: HashSet<String> = gaz.resolve(u).into_iter().map(|(c, _)| c).collect();
            if c.is_empty() {
                return Err(PlanningError::BadRequest(format!(
                    "unit: no administrative unit, old or new, is named '{u}'"
                )));
            }
            Some(c)
        }
    };
    let has = |v: Option<&str>, want: &Option<String>| match want {
        None => true,
        Some(w) => v.is_some_and(|v| fold(v).contains(&fold(w))),
    };
    let t = temporal_of(l);
    let mut found = Vec::new();
    l.for_each_match(None, None, |f| found.push(f));
    found.sort_by_key(|f| f.fid);
    let mut out = Vec::new();
    for f in found {
        if !l.valid_on(t.as_ref(), f, &q.as_of) {
            continue;
        }
        let d = l.data(f.part);
        let row = f.row as usize;
        if !has(text_at(d, row, "function"), &q.function)
            || !has(text_at(d, row, "investor"), &q.investor)
        {
            continue;
        }
        if let Some(w) = &q.q {
            let fw = fold(w);
            let any = [
                "name",
                "investor",
                "approval_decision",
                "zone_name",
                "function",
            ]
            .iter()
            .any(|n| text_at(d, row, n).is_some_and(|v| fold(v).contains(&fw)));
            if !any {
                continue;
            }
        }
        let mut s = summary(cat, &gaz, l, f);
        if let Some(recorded) = steps.get(&f.fid) {
            match recorded
                .iter()
                .rev()
                .find(|(day, _)| day.as_str() <= q.as_of.as_str())
            {
                None => continue,
                Some((day, code)) => {
                    let st = Stage::parse(code);
                    s.stage = st.map(Stage::code);
                    s.stage_vi = st.map(Stage::vi);
                    s.stage_en = st.map(Stage::en);
                    s.stage_date = Some(day.clone());
                }
            }
        }
        if !q.stages.is_empty()
            && !s
                .stage
                .and_then(Stage::parse)
                .is_some_and(|st| q.stages.contains(&st))
        {
            continue;
        }
        if let Some(c) = &communes {
            if !s.commune.as_ref().is_some_and(|u| c.contains(&u.code)) {
                continue;
            }
        }
        out.push(s);
    }
    Ok(out)
}

/// One project with what its site touches.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ProjectDetail {
    /// The registry's facts.
    #[serde(flatten)]
    pub project: ProjectSummary,
    /// The stages it may move to now.
    pub allowed_next: Vec<StageRef>,
    /// What the plans say on its site: plans, zoning lots with shares,
    /// zones, units of the day.
    pub planning: PlanningInfo,
    /// Parcels under its site (fid and cadastral key), at most 200.
    pub parcels: Vec<ParcelRef>,
    /// Parcels under its site in all.
    pub parcel_count: usize,
}

/// A stage, named.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct StageRef {
    /// Code.
    pub code: &'static str,
    /// Vietnamese.
    pub vi: &'static str,
    /// English.
    pub en: &'static str,
}

impl From<Stage> for StageRef {
    fn from(s: Stage) -> StageRef {
        StageRef {
            code: s.code(),
            vi: s.vi(),
            en: s.en(),
        }
    }
}

/// A parcel under a project.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ParcelRef {
    /// Feature id.
    pub fid: i64,
    /// Commune code.
    pub commune_code: Option<String>,
    /// Sheet.
    pub sheet_number: Option<i64>,
    /// Parcel.
    pub parcel_number: Option<i64>,
    /// Land use.
    pub land_use_code: Option<String>,
}

/// The project `fid` with its site's planning answer; `before_suspension`
/// as for [`allowed_next`].
pub fn detail(
    cat: &Catalog,
    fid: i64,
    as_of: &str,
    tolerance_m: f64,
    before_suspension: Option<Stage>,
) -> Result<ProjectDetail, PlanningError> {
    let l = cat
        .layer(PROJECTS)
        .ok_or(PlanningError::MissingLayer(PROJECTS))?;
    let f = l.get(fid).ok_or_else(|| PlanningError::NotFound {
        message: format!("no investment project with id {fid}"),
        suggestions: vec![],
    })?;
    let gaz = Gazetteer::from_catalog(cat).unwrap_or_default();
    let project = summary(cat, &gaz, l, f);
    let site = l
        .data(f.part)
        .geometry_of(f.row as usize)
        .map(|g| polygons(&g))
        .filter(|mp| !mp.0.is_empty())
        .ok_or_else(|| PlanningError::BadRequest(format!("project {fid} has no site polygon")))?;
    let planning = answer(
        cat,
        &InfoQuery {
            subject: Subject::Site(site.clone()),
            as_of: as_of.to_owned(),
            tolerance_m,
        },
    )?;
    let mut parcels = Vec::new();
    let mut parcel_count = 0;
    if let Some(p) = cat.layer(PARCELS) {
        let mut hits = Vec::new();
        p.for_each_match(
            Some(&Spatial::Intersects(geo_types::Geometry::MultiPolygon(
                site,
            ))),
            None,
            |h| hits.push(h),
        );
        hits.sort_by_key(|h| h.fid);
        parcel_count = hits.len();
        for h in hits.into_iter().take(200) {
            let d = p.data(h.part);
            let row = h.row as usize;
            parcels.push(ParcelRef {
                fid: h.fid,
                commune_code: text_at(d, row, "commune_code").map(str::to_owned),
                sheet_number: int_at(d, row, "sheet_number"),
                parcel_number: int_at(d, row, "parcel_number"),
                land_use_code: text_at(d, row, "land_use_code").map(str::to_owned),
            });
        }
    }
    let allowed = stage_of(l, f)
        .map(|s| allowed_next(s, before_suspension))
        .unwrap_or_default()
        .into_iter()
        .map(StageRef::from)
        .collect();
    Ok(ProjectDetail {
        project,
        allowed_next: allowed,
        planning,
        parcels,
        parcel_count,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(to: &str, date: &str, decision: Option<&str>) -> TransitionRequest {
        TransitionRequest {
            to: to.into(),
            date: date.into(),
            decision: decision.map(str::to_owned),
            authority: None,
            note: None,
            next_deadline: None,
        }
    }

    #[test]
    fn every_stage_reads_back_from_its_code_and_its_name() {
        for s in ALL {
            assert_eq!(Stage::parse(s.code()), Some(s));
            assert_eq!(Stage::parse(s.vi()), Some(s));
            assert_eq!(Stage::parse(&fold(s.vi())), Some(s));
        }
        assert_eq!(Stage::parse("đang kêu gọi"), Some(Stage::Proposed));
        assert_eq!(Stage::parse("đã thu hồi"), Some(Stage::Terminated));
        assert_eq!(Stage::parse("flying"), None);
    }

    #[test]
    fn the_procedure_goes_one_stage_at_a_time_and_suspension_resumes_where_it_was() {
        let d = "2026-01-10";
        let ok = check_transition(
            Stage::Proposed,
            Some("2025-01-01"),
            None,
            &req("policy_approved", d, Some("12/QĐ-UBND")),
            "2026-12-01",
        )
        .unwrap();
        assert_eq!(ok.to, Stage::PolicyApproved);
        assert_eq!(ok.next_deadline.as_ref().unwrap().0, "2027-01-10");
        match check_transition(
            Stage::Proposed,
            None,
            None,
            &req("operating", d, None),
            "2026-12-01",
        ) {
            Err(TransitionError::Illegal { allowed, .. }) => {
                assert_eq!(
                    allowed,
                    vec![Stage::PolicyApproved, Stage::Suspended, Stage::Terminated]
                )
            }
            other => panic!("{other:?}"),
        }
        // Suspended: back to where it was, or terminated; nothing else.
        assert_eq!(
            allowed_next(Stage::Suspended, Some(Stage::LandAllocated)),
            vec![Stage::LandAllocated, Stage::Terminated]
        );
        assert!(allowed_next(Stage::Terminated, None).is_empty());
        assert_eq!(
            allowed_next(Stage::Operating, None),
            vec![Stage::Suspended, Stage::Terminated]
        );
    }

    #[test]
    fn bad_transitions_say_what_is_wrong() {
        let t = "2026-12-01";
        for (r, since, needle) in [
            (req("flying", "2026-01-01", None), None, "not a stage"),
            (
                req("policy_approved", "2026-13-01", Some("1/QĐ")),
                None,
                "not a date",
            ),
            (
                req("policy_approved", "2027-01-01", Some("1/QĐ")),
                None,
                "after today",
            ),
            (
                req("policy_approved", "2024-01-01", Some("1/QĐ")),
                Some("2025-01-01"),
                "before the project entered",
            ),
            (
                req("policy_approved", "2026-01-01", None),
                None,
                "decision number",
            ),
        ] {
            match check_transition(Stage::Proposed, since, None, &r, t) {
                Err(TransitionError::Bad(m)) => assert!(m.contains(needle), "{m}"),
                other => panic!("{r:?}: {other:?}"),
            }
        }
        assert_eq!(add_months("2025-11-30", 3), "2026-02-28");
    }
}
