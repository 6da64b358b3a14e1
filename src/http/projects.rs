//! The investment-project registry over HTTP (see `planning::projects`):
//! `GET /projects` (filters), `GET /projects/{id}` (with the planning
//! answer for its site, parcels under it, history and allowed moves),
//! `GET /projects/{id}/history`, and `POST /projects/{id}/transitions` for
//! editors: the move is checked against the procedure (409 with the
//! allowed stages when illegal), then the project's record and one
//! history row are written in one store transaction and shown in the
//! engine, tiles, WFS and the feature API before the answer.

use super::auth::Editor;
use super::commit::CommitError;
use super::features::query_pairs;
use super::planning_info::today_vn;
use super::{ApiError, AppState, DataState};
use crate::model::access::Access;
use crate::model::{Edit, FeatureUpdate, LayerEdit, Value};
use crate::planning::info::PROJECTS;
use crate::planning::projects::{
    check_transition, detail, list, project, stage_of, ProjectQuery, Stage, StageRef,
    TransitionError, TransitionRequest,
};
use crate::store::history::Transition;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use geo_types::{Geometry, MultiPolygon};
use serde_json::{json, Value as Json_};

/// The investment projects layer of the snapshot (503 while not loaded).
fn projects_layer(cat: &crate::engine::Catalog) -> Result<&crate::engine::Layer, ApiError> {
    cat.layer(PROJECTS)
        .map(|l| l.as_ref())
        .ok_or_else(|| ApiError::unavailable("layer investment_projects is not loaded"))
}

/// The layer and the feature of project `fid` (404 when there is none).
fn project_in(
    cat: &crate::engine::Catalog,
    fid: i64,
) -> Result<(&crate::engine::Layer, crate::engine::FeatureRef), ApiError> {
    let l = projects_layer(cat)?;
    let f = l
        .get(fid)
        .ok_or_else(|| ApiError::not_found(format!("no investment project with id {fid}")))?;
    Ok((l, f))
}

fn fid_of(id: &str) -> Result<i64, ApiError> {
    id.parse::<i64>().ok().filter(|f| *f > 0).ok_or_else(|| {
        ApiError::bad_request(format!("'{id}' is not a project id (a positive integer)"))
    })
}

/// `GET /projects?status=&unit=&function=&investor=&q=&as_of=`.
pub async fn get_list(
    State(s): State<DataState>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let mut q = ProjectQuery {
        as_of: today_vn(),
        ..Default::default()
    };
    for (k, v) in query_pairs(raw.as_deref()) {
        match k.as_str() {
            "status" | "stage" => {
                for t in v.split(',').map(str::trim).filter(|t| !t.is_empty()) {
                    q.stages.push(Stage::parse(t).ok_or_else(|| {
                        ApiError::bad_request(format!(
                            "{k}='{t}' is not a stage; stages: {}",
                            crate::planning::projects::ALL
                                .iter()
                                .map(|s| s.code())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ))
                    })?);
                }
            }
            "unit" => q.unit = Some(v),
            "function" => q.function = Some(v),
            "investor" => q.investor = Some(v),
            "q" => q.q = Some(v),
            "as_of" => q.as_of = v,
            other => {
                return Err(ApiError::bad_request(format!(
                    "unknown parameter '{other}'; /projects takes status, unit, function, investor, q, as_of"
                )))
            }
        }
    }
    // The recorded steps, so each project is listed in the stage of the day.
    let mut steps = crate::planning::projects::Steps::new();
    for t in s
        .store
        .all_history()
        .await
        .map_err(|e| ApiError::store("the project history could not be read", e))?
    {
        steps
            .entry(t.project_fid)
            .or_default()
            .push((t.day, t.to_stage));
    }
    let cat = s.engine.snapshot();
    crate::blocking::spawn(move || {
        let projects = list(&cat, &q, &steps)?;
        Ok(Json(json!({
            "as_of": q.as_of,
            "total": projects.len(),
            "projects": projects,
        }))
        .into_response())
    })
    .await?
}

/// The stage a suspended project was suspended in, from its history.
fn before_suspension(history: &[Transition]) -> Option<Stage> {
    history
        .iter()
        .rev()
        .find(|t| t.to_stage == Stage::Suspended.code())
        .and_then(|t| t.from_stage.as_deref())
        .and_then(Stage::parse)
}

/// `GET /projects/{id}?as_of=`.
pub async fn get_one(
    State(s): State<DataState>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
    access: Access,
) -> Result<Response, ApiError> {
    let fid = fid_of(&id)?;
    let mut as_of = today_vn();
    for (k, v) in query_pairs(raw.as_deref()) {
        match k.as_str() {
            "as_of" => as_of = v,
            other => {
                return Err(ApiError::bad_request(format!(
                    "unknown parameter '{other}'; /projects/{{id}} takes as_of"
                )))
            }
        }
    }
    let history = s
        .store
        .history(fid)
        .await
        .map_err(|e| ApiError::store("the project history could not be read", e))?;
    let cat = s.engine.snapshot();
    let tol = s.config.planning.sliver_tolerance_m;
    let resume = before_suspension(&history);
    let history = history_json(&history, &access)?;
    crate::blocking::spawn(move || {
        let d = detail(&cat, fid, &as_of, tol, resume)?;
        let mut v = serde_json::to_value(&d).map_err(ApiError::internal)?;
        v["history"] = history;
        Ok(Json(v).into_response())
    })
    .await?
}

/// `GET /projects/{id}/history`.
pub async fn get_history(
    State(s): State<DataState>,
    Path(id): Path<String>,
    access: Access,
) -> Result<Response, ApiError> {
    let fid = fid_of(&id)?;
    let cat = s.engine.snapshot();
    project_in(&cat, fid)?;
    let history = s
        .store
        .history(fid)
        .await
        .map_err(|e| ApiError::store("the project history could not be read", e))?;
    let history = history_json(&history, &access)?;
    Ok(Json(json!({"project": fid, "history": history})).into_response())
}

/// A project's history as `access` may see it: who recorded each step
/// (`user_name`) only for officers and above.
fn history_json(history: &[Transition], access: &Access) -> Result<Json_, ApiError> {
    let mut v = serde_json::to_value(history).map_err(ApiError::internal)?;
    if !access.role().sees_sensitive() {
        if let Some(rows) = v.as_array_mut() {
            for r in rows {
                if let Some(o) = r.as_object_mut() {
                    o.remove("user_name");
                }
            }
        }
    }
    Ok(v)
}

/// `POST /projects/{id}/transitions` with `{"to", "date", "decision",
/// "authority", "note", "next_deadline"}`; editors only.
pub async fn post_transition(
    State(s): State<AppState>,
    editor: Editor,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    editor.check_layer(PROJECTS)?;
    let fid = fid_of(&id)?;
    let req: TransitionRequest = serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad_request(format!(
            "the body is not a transition {{\"to\", \"date\", \"decision\", \"authority\", \"note\", \"next_deadline\"}}: {e}"
        ))
    })?;
    // One transition at a time: the check and the write see the same stage.
    let _one = s.registry.lock().await;
    let data = &s.data;
    let cat = data.engine.snapshot();
    let (l, f) = project_in(&cat, fid)?;
    let known = field_names(l);
    let from = stage_of(l, f).ok_or_else(|| {
        ApiError::bad_request(format!(
            "project {fid} has no stage a transition can start from"
        ))
    })?;
    let d = l.data(f.part);
    let since = d
        .field_index("stage_date")
        .and_then(|c| match d.value(f.row as usize, c) {
            crate::model::ValueRef::Text(t) => Some(t.to_owned()),
            _ => None,
        });
    let history = data
        .store
        .history(fid)
        .await
        .map_err(|e| ApiError::store("the project history could not be read", e))?;
    let since = since.or_else(|| history.last().map(|t| t.day.clone()));
    let checked = match check_transition(
        from,
        since.as_deref(),
        before_suspension(&history),
        &req,
        &today_vn(),
    ) {
        Ok(c) => c,
        Err(TransitionError::Bad(m)) => return Err(ApiError::bad_request(m)),
        Err(TransitionError::Illegal { from, to, allowed }) => {
            let allowed: Vec<StageRef> = allowed.into_iter().map(StageRef::from).collect();
            return Err(ApiError::conflict(format!(
                "a project cannot move from '{}' ({}) to '{}' ({}); allowed: {}",
                from.code(),
                from.vi(),
                to.code(),
                to.vi(),
                if allowed.is_empty() {
                    "none (the procedure has ended)".to_owned()
                } else {
                    allowed
                        .iter()
                        .map(|a| a.code)
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            ))
            .with("from", StageRef::from(from))
            .with("allowed", allowed));
        }
    };
    drop(cat);
    let mut values: Vec<(String, Value)> = vec![
        ("status".into(), Value::Text(checked.to.vi().into())),
        ("stage".into(), Value::Text(checked.to.code().into())),
        ("stage_date".into(), Value::Text(checked.day.clone())),
    ];
    match &checked.next_deadline {
        Some((day, what)) => {
            values.push(("next_deadline".into(), Value::Text(day.clone())));
            values.push(("next_deadline_what".into(), Value::Text(what.clone())));
        }
        None => {
            values.push(("next_deadline".into(), Value::Null));
            values.push(("next_deadline_what".into(), Value::Null));
        }
    }
    if let Some(dn) = &checked.decision {
        values.push(("approval_decision".into(), Value::Text(dn.clone())));
    }
    let edit = project_update(fid, None, values, &known);
    let row = Transition {
        seq: 0,
        project_fid: fid,
        from_stage: Some(checked.from.code().into()),
        to_stage: checked.to.code().into(),
        day: checked.day.clone(),
        decision: checked.decision.clone(),
        authority: checked.authority.clone(),
        note: checked.note.clone(),
        user_name: Some(editor.name.clone()),
        recorded_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
    };
    let (written, seqs) = s
        .commit_with_history(&[edit], std::slice::from_ref(&row))
        .await
        .map_err(commit_failure)?;
    editor
        .access
        .wrote(super::audit::written("project transition", &written));
    let recorded = Transition {
        seq: seqs.first().copied().unwrap_or_default(),
        ..row
    };
    let cat = data.engine.snapshot();
    let summary = summary_json(&cat, fid);
    Ok((
        StatusCode::CREATED,
        [(
            axum::http::header::LOCATION,
            format!("/projects/{fid}/history"),
        )],
        Json(json!({"project": summary, "transition": recorded})),
    )
        .into_response())
}

/// Members a `PATCH /projects/{id}` may carry.
const PATCH_KEYS: &[&str] = &[
    "name",
    "investor",
    "function",
    "capital_vnd",
    "capital_disbursed_vnd",
    "next_deadline",
    "site",
    "crs",
    "proposal",
];

/// `PATCH /projects/{id}` (editors): the registry's facts (name, investor,
/// function, capital registered and disbursed, next deadline), the site
/// (GeoJSON in `crs`, default WGS 84) and the proposal on it; a new site
/// or proposal runs the plan-compliance check, stores it and sets
/// `plan_conflict` and `check_id`. The stage moves only by transitions.
pub async fn patch(
    State(s): State<AppState>,
    editor: Editor,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    editor.check_layer(PROJECTS)?;
    let fid = fid_of(&id)?;
    let v: Json_ = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("the body is not JSON: {e}")))?;
    let obj = v
        .as_object()
        .ok_or_else(|| ApiError::bad_request("the body is an object of the members to change"))?;
    if let Some(k) = obj.keys().find(|k| !PATCH_KEYS.contains(&k.as_str())) {
        return Err(ApiError::bad_request(match k.as_str() {
            "stage" | "status" | "stage_date" => format!(
                "'{k}' changes only by POST /projects/{fid}/transitions, which checks the procedure"
            ),
            _ => format!(
                "unknown member '{k}'; a project takes {}",
                PATCH_KEYS.join(", ")
            ),
        }));
    }
    if obj.is_empty() {
        return Err(ApiError::bad_request("the body changes nothing"));
    }
    let mut values: Vec<(String, Value)> = Vec::new();
    for k in ["name", "investor", "function"] {
        match obj.get(k) {
            None => {}
            Some(Json_::String(t)) if !t.trim().is_empty() && t.chars().count() <= 300 => {
                values.push((k.into(), Value::Text(t.trim().to_owned())))
            }
            Some(Json_::Null) if k == "investor" => values.push((k.into(), Value::Null)),
            Some(_) => {
                return Err(ApiError::bad_request(format!(
                    "'{k}' must be a non-empty text of at most 300 characters"
                )))
            }
        }
    }
    let data = &s.data;
    let cat = data.engine.snapshot();
    let (l, f) = project_in(&cat, fid)?;
    let d = l.data(f.part);
    let row = f.row as usize;
    let known = field_names(l);
    let current_int = |n: &str| match d.field_index(n).map(|c| d.value(row, c)) {
        Some(crate::model::ValueRef::Int(i)) => Some(i),
        _ => None,
    };
    let mut capital = current_int("capital_vnd");
    let mut disbursed = current_int("capital_disbursed_vnd");
    for k in ["capital_vnd", "capital_disbursed_vnd"] {
        match obj.get(k) {
            None => {}
            Some(n) => {
                let n = n
                    .as_i64()
                    .filter(|n| (0..=1_000_000_000_000_000).contains(n))
                    .ok_or_else(|| {
                        ApiError::bad_request(format!("'{k}' must be a whole number of VND from 0"))
                    })?;
                if k == "capital_vnd" {
                    capital = Some(n);
                } else {
                    disbursed = Some(n);
                }
                values.push((k.into(), Value::Int(n)));
            }
        }
    }
    if let (Some(c), Some(dis)) = (capital, disbursed) {
        if dis > c {
            return Err(ApiError::bad_request(format!(
                "capital_disbursed_vnd ({dis}) exceeds capital_vnd ({c})"
            )));
        }
    }
    match obj.get("next_deadline") {
        None => {}
        Some(Json_::Null) => values.push(("next_deadline".into(), Value::Null)),
        Some(Json_::String(t)) if crate::engine::temporal::is_day(t) => {
            values.push(("next_deadline".into(), Value::Text(t.clone())))
        }
        Some(_) => {
            return Err(ApiError::bad_request(
                "'next_deadline' must be a date (YYYY-MM-DD) or null",
            ))
        }
    }
    let site = if obj.contains_key("site") {
        Some(read_site_of(data, &body).await?)
    } else {
        None
    };
    let mut geometry = None;
    if let Some(site) = &site {
        let (g, ha) = stored_polygon(l.source_srid, site)?;
        geometry = Some(Some(g));
        values.push(("area_ha".into(), Value::Real(ha)));
    }
    // The proposal: checked on the (new) site, the check stored.
    let mut check_out = Json_::Null;
    if let Some(p) = obj.get("proposal") {
        let mp = match &site {
            Some(s) => s.clone(),
            None => d
                .geometry_of(row)
                .map(|g| crate::planning::overlay::polygons(&g))
                .ok_or_else(|| ApiError::bad_request("the project has no site to check"))?,
        };
        let (conflict, id, out) = run_check(data, &editor, fid, obj, p, mp).await?;
        values.push(("plan_conflict".into(), Value::Bool(conflict)));
        values.push(("check_id".into(), Value::Text(id)));
        check_out = out;
    } else if site.is_some() {
        // A new site without a proposal: the old check no longer applies.
        values.push(("plan_conflict".into(), Value::Null));
        values.push(("check_id".into(), Value::Null));
    }
    drop(cat);
    let edit = project_update(fid, geometry, values, &known);
    let written = s.commit(&[edit]).await.map_err(commit_failure)?;
    editor
        .access
        .wrote(super::audit::written("project update", &written));
    let cat = data.engine.snapshot();
    let summary = summary_json(&cat, fid);
    Ok(Json(json!({"project": summary, "check": check_out})).into_response())
}

/// The `site` (and `crs`) of a body, read and checked as a compliance
/// check reads it (off the runtime), as one polygon in Web Mercator.
async fn read_site_of(data: &DataState, body: &Bytes) -> Result<MultiPolygon<f64>, ApiError> {
    let limits = (&data.config.planning).into();
    let bytes = body.clone();
    let site = crate::blocking::spawn(move || -> Result<_, ApiError> {
        let (g, c, _) = super::planning_info::read_site(&bytes, None)?;
        Ok(crate::planning::site::site_from(g, c, limits)?)
    })
    .await??;
    if site.0.len() != 1 {
        return Err(ApiError::bad_request(format!(
            "a project's site is one polygon, not {}",
            site.0.len()
        )));
    }
    Ok(site)
}

/// A site (Web Mercator) as the store keeps it (`srid`), and its area in
/// hectares measured in EPSG:5899.
fn stored_polygon(srid: u32, site: &MultiPolygon<f64>) -> Result<(Geometry<f64>, f64), ApiError> {
    let plane = crate::planning::overlay::to_plane(site)?;
    let ha = crate::planning::overlay::plane_area(&plane) / 10_000.0;
    let stored = if srid == 5899 {
        plane.0[0].clone()
    } else {
        let target = crate::crs::Crs::Epsg(srid);
        let (mut ext, mut ints) = site.0[0].clone().into_inner();
        crate::crs::transform(crate::crs::WEB_MERCATOR, target, &mut ext.0)?;
        for r in &mut ints {
            crate::crs::transform(crate::crs::WEB_MERCATOR, target, &mut r.0)?;
        }
        geo_types::Polygon::new(ext, ints)
    };
    Ok((Geometry::Polygon(stored), (ha * 100.0).round() / 100.0))
}

/// Runs the compliance check of `proposal` on `site`, stores it as a
/// planning record by `editor`: (conflict, record id, summary).
async fn run_check(
    data: &DataState,
    editor: &Editor,
    fid: i64,
    body: &serde_json::Map<String, Json_>,
    proposal: &Json_,
    site: MultiPolygon<f64>,
) -> Result<(bool, String, Json_), ApiError> {
    use crate::planning::check::{check, CheckLimits, Proposal};
    use crate::store::records::RecordKind;
    let p: Proposal = serde_json::from_value(proposal.clone())
        .map_err(|e| ApiError::bad_request(format!("proposal: {e}")))?;
    let limits = CheckLimits {
        tolerance_m: data.config.planning.sliver_tolerance_m,
        heritage_buffer_m: data.config.planning.heritage_buffer_m,
    };
    let (cat, today) = (data.engine.snapshot(), today_vn());
    let result = crate::blocking::spawn(move || check(&cat, &site, &p, &today, limits)).await??;
    let answer = serde_json::to_value(&result).map_err(ApiError::internal)?;
    let request = json!({
        "project": fid,
        "site": body.get("site").cloned().unwrap_or(Json_::Null),
        "crs": body.get("crs").cloned().unwrap_or(Json_::Null),
        "proposal": proposal,
        "as_of": today_vn(),
    });
    let record = data
        .store
        .issue_record(RecordKind::Check, Some(&editor.name), request, answer)
        .await
        .map_err(|e| ApiError::unavailable(format!("the check could not be stored: {e}")))?;
    let id = record.id.as_str().to_owned();
    let out = json!({
        "id": id,
        "pass": result.pass,
        "failed": result.failed,
        "href": format!("/planning/check/{id}"),
        "failed_rules": result.rules.iter().filter(|r| !r.pass)
            .map(|r| json!({"rule": r.rule, "vi": r.vi, "en": r.en})).collect::<Vec<_>>(),
    });
    Ok((!result.pass, id, out))
}

/// Members a `POST /projects` may carry.
const CREATE_KEYS: &[&str] = &[
    "name",
    "investor",
    "function",
    "capital_vnd",
    "capital_disbursed_vnd",
    "site",
    "crs",
    "proposal",
    "date",
    "decision",
    "authority",
    "note",
];

/// `POST /projects` (editors): a new project, proposed on `date` (default
/// today), with its site, facts and, with a proposal, its compliance
/// check; the project and its first history row in one store
/// transaction. 201 with `Location`.
pub async fn create(
    State(s): State<AppState>,
    editor: Editor,
    body: Bytes,
) -> Result<Response, ApiError> {
    editor.check_layer(PROJECTS)?;
    let v: Json_ = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("the body is not JSON: {e}")))?;
    let obj = v.as_object().ok_or_else(|| {
        ApiError::bad_request("the body is an object: {\"name\", \"function\", \"site\", …}")
    })?;
    if let Some(k) = obj.keys().find(|k| !CREATE_KEYS.contains(&k.as_str())) {
        return Err(ApiError::bad_request(format!(
            "unknown member '{k}'; a new project takes {} (it starts proposed; its stage moves by transitions)",
            CREATE_KEYS.join(", ")
        )));
    }
    let text = |k: &str, required: bool| -> Result<Option<String>, ApiError> {
        match obj.get(k) {
            None | Some(Json_::Null) if !required => Ok(None),
            Some(Json_::String(t)) if !t.trim().is_empty() && t.chars().count() <= 300 => {
                Ok(Some(t.trim().to_owned()))
            }
            _ => Err(ApiError::bad_request(format!(
                "'{k}' must be a non-empty text of at most 300 characters{}",
                if required { " (required)" } else { "" }
            ))),
        }
    };
    let name = text("name", true)?.unwrap_or_default();
    let function = text("function", true)?.unwrap_or_default();
    let investor = text("investor", false)?;
    let money = |k: &str| -> Result<Option<i64>, ApiError> {
        match obj.get(k) {
            None | Some(Json_::Null) => Ok(None),
            Some(n) => n
                .as_i64()
                .filter(|n| (0..=1_000_000_000_000_000).contains(n))
                .map(Some)
                .ok_or_else(|| {
                    ApiError::bad_request(format!("'{k}' must be a whole number of VND from 0"))
                }),
        }
    };
    let (capital, disbursed) = (money("capital_vnd")?, money("capital_disbursed_vnd")?);
    if let (Some(c), Some(d)) = (capital, disbursed) {
        if d > c {
            return Err(ApiError::bad_request(format!(
                "capital_disbursed_vnd ({d}) exceeds capital_vnd ({c})"
            )));
        }
    }
    let today = today_vn();
    let date = match obj.get("date") {
        None | Some(Json_::Null) => today.clone(),
        Some(Json_::String(d))
            if crate::engine::temporal::is_day(d) && d.as_str() <= today.as_str() =>
        {
            d.clone()
        }
        Some(_) => {
            return Err(ApiError::bad_request(
                "'date' must be a date (YYYY-MM-DD), not after today",
            ))
        }
    };
    let decision = text("decision", false)?;
    let authority = text("authority", false)?;
    let note = match obj.get("note") {
        None | Some(Json_::Null) => None,
        Some(Json_::String(t)) if t.chars().count() <= 2000 => Some(t.clone()),
        Some(_) => {
            return Err(ApiError::bad_request(
                "'note' must be a text of at most 2000 characters",
            ))
        }
    };
    if !obj.contains_key("site") {
        return Err(ApiError::bad_request(
            "a new project needs its site (a GeoJSON polygon)",
        ));
    }
    let data = &s.data;
    let site = read_site_of(data, &body).await?;
    let cat = data.engine.snapshot();
    let l = projects_layer(&cat)?;
    let (geometry, ha) = stored_polygon(l.source_srid, &site)?;
    // The most specific zone holding the site.
    let zone = crate::planning::projects::zone_at(&cat, &site);
    let mut values: Vec<(String, Value)> = vec![
        ("name".into(), Value::Text(name)),
        ("function".into(), Value::Text(function)),
        ("status".into(), Value::Text(Stage::Proposed.vi().into())),
        ("stage".into(), Value::Text(Stage::Proposed.code().into())),
        ("stage_date".into(), Value::Text(date.clone())),
        ("area_ha".into(), Value::Real(ha)),
    ];
    let opt = |k: &str, v: Option<String>| (k.to_owned(), v.map_or(Value::Null, Value::Text));
    values.push(opt("investor", investor));
    values.push(opt("zone_name", zone));
    if let Some(c) = capital {
        values.push(("capital_vnd".into(), Value::Int(c)));
    }
    values.push((
        "capital_disbursed_vnd".into(),
        Value::Int(disbursed.unwrap_or(0)),
    ));
    values.push(("synthetic".into(), Value::Bool(false)));
    let known = field_names(l);
    let mut check_out = Json_::Null;
    if let Some(p) = obj.get("proposal") {
        let (conflict, id, out) = run_check(data, &editor, 0, obj, p, site.clone()).await?;
        values.push(("plan_conflict".into(), Value::Bool(conflict)));
        values.push(("check_id".into(), Value::Text(id)));
        check_out = out;
    }
    drop(cat);
    // A file from before the registry lacks some fields: those are left out.
    values.retain(|(k, _)| known.contains(k));
    let edit = LayerEdit {
        layer: PROJECTS.into(),
        edit: Edit {
            inserts: vec![crate::model::NewFeature {
                geometry: Some(geometry),
                values,
            }],
            ..Default::default()
        },
    };
    let row = Transition {
        seq: 0,
        // The fid the insert is given.
        project_fid: 0,
        from_stage: None,
        to_stage: Stage::Proposed.code().into(),
        day: date,
        decision,
        authority,
        note,
        user_name: Some(editor.name.clone()),
        recorded_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
    };
    let (written, seqs) = s
        .commit_with_history(&[edit], std::slice::from_ref(&row))
        .await
        .map_err(commit_failure)?;
    editor
        .access
        .wrote(super::audit::written("project registration", &written));
    let fid = written
        .layers
        .iter()
        .find_map(|l| l.inserted.first().copied())
        .ok_or_else(|| ApiError::internal("the insert gave no fid"))?;
    let recorded = Transition {
        seq: seqs.first().copied().unwrap_or_default(),
        project_fid: fid,
        ..row
    };
    let cat = data.engine.snapshot();
    let summary = summary_json(&cat, fid);
    Ok((
        StatusCode::CREATED,
        [(axum::http::header::LOCATION, format!("/projects/{fid}"))],
        Json(json!({"project": summary, "transition": recorded, "check": check_out})),
    )
        .into_response())
}

/// A refused or failed registry write as the client hears it.
fn commit_failure(e: CommitError) -> ApiError {
    match e {
        CommitError::NotEditable(_) => ApiError::forbidden(format!(
            "{e}: list investment_projects in [ogc] editable to keep the registry"
        )),
        e if e.is_client_error() => ApiError::bad_request(format!("nothing was written: {e}")),
        CommitError::Store(e) => ApiError::store("nothing was written", e),
    }
}

/// The registry's facts of a project as JSON (null when it is gone).
fn summary_json(cat: &crate::engine::Catalog, fid: i64) -> Json_ {
    project(cat, fid).map_or(Json_::Null, |p| {
        serde_json::to_value(p).unwrap_or(Json_::Null)
    })
}

/// The update of project `fid` to `geometry` (`None`: unchanged) and
/// `values`, of which only the `known` fields are written: a file from
/// before the registry lacks some.
fn project_update(
    fid: i64,
    geometry: Option<Option<Geometry<f64>>>,
    mut values: Vec<(String, Value)>,
    known: &[String],
) -> LayerEdit {
    values.retain(|(k, _)| known.contains(k));
    LayerEdit {
        layer: PROJECTS.into(),
        edit: Edit {
            updates: vec![FeatureUpdate {
                fid,
                geometry,
                values,
            }],
            ..Default::default()
        },
    }
}

/// The field names of a layer.
fn field_names(l: &crate::engine::Layer) -> Vec<String> {
    l.fields().iter().map(|f| f.name.clone()).collect()
}
