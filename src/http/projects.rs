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
use serde_json::{json, Value as Json_};

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
    let cat = s.engine.snapshot();
    tokio::task::spawn_blocking(move || {
        let projects = list(&cat, &q)?;
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
    let history = s.store.history(fid).await.map_err(ApiError::internal)?;
    let cat = s.engine.snapshot();
    let tol = s.config.planning.sliver_tolerance_m;
    let resume = before_suspension(&history);
    tokio::task::spawn_blocking(move || {
        let d = detail(&cat, fid, &as_of, tol, resume)?;
        let mut v = serde_json::to_value(&d).map_err(ApiError::internal)?;
        v["history"] = serde_json::to_value(&history).map_err(ApiError::internal)?;
        Ok(Json(v).into_response())
    })
    .await?
}

/// `GET /projects/{id}/history`.
pub async fn get_history(
    State(s): State<DataState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let fid = fid_of(&id)?;
    let cat = s.engine.snapshot();
    let l = cat
        .layer(PROJECTS)
        .ok_or_else(|| ApiError::unavailable("layer investment_projects is not loaded"))?;
    if l.get(fid).is_none() {
        return Err(ApiError::not_found(format!(
            "no investment project with id {fid}"
        )));
    }
    let history = s.store.history(fid).await.map_err(ApiError::internal)?;
    Ok(Json(json!({"project": fid, "history": history})).into_response())
}

/// `POST /projects/{id}/transitions` with `{"to", "date", "decision",
/// "authority", "note", "next_deadline"}`; editors only.
pub async fn post_transition(
    State(s): State<AppState>,
    editor: Editor,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
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
    let l = cat
        .layer(PROJECTS)
        .ok_or_else(|| ApiError::unavailable("layer investment_projects is not loaded"))?;
    let f = l
        .get(fid)
        .ok_or_else(|| ApiError::not_found(format!("no investment project with id {fid}")))?;
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
    let history = data.store.history(fid).await.map_err(ApiError::internal)?;
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
            return Ok((
                StatusCode::CONFLICT,
                [(axum::http::header::CONTENT_TYPE, "application/problem+json")],
                Json(json!({
                    "type": "about:blank",
                    "title": "Conflict",
                    "status": 409,
                    "detail": format!(
                        "a project cannot move from '{}' ({}) to '{}' ({}); allowed: {}",
                        from.code(), from.vi(), to.code(), to.vi(),
                        if allowed.is_empty() { "none (the procedure has ended)".to_owned() }
                        else { allowed.iter().map(|a| a.code).collect::<Vec<_>>().join(", ") }
                    ),
                    "from": StageRef::from(from),
                    "allowed": allowed,
                })),
            )
                .into_response());
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
    let edit = LayerEdit {
        layer: PROJECTS.into(),
        edit: Edit {
            updates: vec![FeatureUpdate {
                fid,
                geometry: None,
                values,
            }],
            ..Default::default()
        },
    };
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
    let (_, seqs) = match s
        .commit_with_history(&[edit], std::slice::from_ref(&row))
        .await
    {
        Ok(r) => r,
        Err(e @ CommitError::NotEditable(_)) => {
            return Err(ApiError::forbidden(format!(
                "{e}: list investment_projects in [ogc] editable to keep the registry"
            )))
        }
        Err(e) if e.is_client_error() => {
            return Err(ApiError::bad_request(format!("nothing was written: {e}")))
        }
        Err(e) => return Err(ApiError::internal(e)),
    };
    let recorded = Transition {
        seq: seqs.first().copied().unwrap_or_default(),
        ..row
    };
    let cat = data.engine.snapshot();
    let summary: Json_ = project(&cat, fid).map_or(Json_::Null, |p| {
        serde_json::to_value(p).unwrap_or(Json_::Null)
    });
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
