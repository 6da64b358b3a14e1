//! `POST /planning/check` (the compliance check of a proposed site, see
//! `planning::check`) and `GET /planning/check/{id}` (a stored check, as
//! JSON or as a printable PDF report). Every check is stored as a planning
//! record with its request, answer, time, user and hash.

use super::auth::Auth;
use super::planning_info::{read_query, read_site, today_vn};
use super::{base_url, ApiError, DataState, WebState};
use crate::model::access::Access;
use crate::planning::check::{check, CheckLimits, Proposal};
use crate::planning::site::site_from;
use crate::report::check::check_report;
use crate::report::pdf::render_pdf;
use crate::report::sheet::{sheet_map, Issue};
use crate::store::records::{RecordId, RecordKind};
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::Value;
use std::sync::Arc;

/// Keys a check body may have.
const BODY_KEYS: &[&str] = &["site", "crs", "as_of", "proposal"];

/// The site (Web Mercator) and proposal of a check body.
fn read_check(
    limits: crate::planning::site::SiteLimits,
    body: &[u8],
    query_crs: Option<crate::crs::Crs>,
) -> Result<(geo_types::MultiPolygon<f64>, Proposal, Option<String>), ApiError> {
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("the body is not JSON: {e}")))?;
    let obj = v.as_object().ok_or_else(|| {
        ApiError::bad_request(
            "the body is {\"site\": <GeoJSON polygon>, \"crs\": …, \"proposal\": {\"use\": …}}",
        )
    })?;
    if let Some(k) = obj.keys().find(|k| !BODY_KEYS.contains(&k.as_str())) {
        return Err(ApiError::bad_request(format!(
            "unknown member '{k}'; a check has site, crs, as_of and proposal"
        )));
    }
    if !obj.contains_key("site") {
        return Err(ApiError::bad_request("the check has no site"));
    }
    let proposal: Proposal =
        serde_json::from_value(obj.get("proposal").cloned().ok_or_else(|| {
            ApiError::bad_request("the check has no proposal (at least {\"use\": \"TMD\"})")
        })?)
        .map_err(|e| ApiError::bad_request(format!("proposal: {e}")))?;
    let (g, c, as_of) = read_site(body, query_crs)?;
    let site = site_from(g, c, limits)?;
    Ok((site, proposal, as_of))
}

/// `POST /planning/check`: checks, stores and answers 201 with the check
/// (its `id`, and `Location: /planning/check/{id}`).
pub async fn post(
    State(s): State<DataState>,
    State(auth): State<Arc<Auth>>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let asked = read_query(raw.as_deref(), false, &["json"])?;
    // Validity of a large polygon is CPU work: off the runtime.
    let (limits, crs, bytes) = ((&s.config.planning).into(), asked.crs, body.clone());
    let (site, proposal, as_of) =
        crate::blocking::spawn(move || read_check(limits, &bytes, crs)).await??;
    let as_of = as_of.or(asked.as_of).unwrap_or_else(today_vn);
    let limits = CheckLimits {
        tolerance_m: s.config.planning.sliver_tolerance_m,
        heritage_buffer_m: s.config.planning.heritage_buffer_m,
    };
    let cat = s.engine.snapshot();
    let when = as_of.clone();
    let result =
        crate::blocking::spawn(move || check(&cat, &site, &proposal, &when, limits)).await??;
    let answer = serde_json::to_value(&result).map_err(ApiError::internal)?;
    let mut request: Value = serde_json::from_slice(&body).map_err(ApiError::internal)?;
    request["as_of"] = as_of.into();
    // The CRS the site was read in, so the stored request reads back alike.
    if let (None, Some(c)) = (request.get("crs"), asked.crs) {
        request["crs"] = c.urn().into();
    }
    let user = match headers.get(header::AUTHORIZATION) {
        Some(_) => auth.verify(&headers).await.ok().map(|e| e.name),
        None => None,
    };
    let record = s
        .store
        .issue_record(RecordKind::Check, user.as_deref(), request, answer)
        .await
        .map_err(|e| ApiError::unavailable(format!("the check could not be stored: {e}")))?;
    let base = base_url(&s, &headers);
    let url = format!("{base}/planning/check/{}", record.id.as_str());
    let mut v = record_json(&record);
    v["links"] = serde_json::json!([
        {"rel": "self", "href": url, "type": "application/json"},
        {"rel": "alternate", "href": format!("{url}?f=pdf"), "type": "application/pdf"},
    ]);
    let mut res = (StatusCode::CREATED, Json(v)).into_response();
    if let Ok(h) = HeaderValue::from_str(&url) {
        res.headers_mut().insert(header::LOCATION, h);
    }
    Ok(res)
}

/// Who may read a stored check: anyone holding the id of an anonymous
/// one; a signed-in user's own; officers and above every one (noted in
/// the audit log).
fn may_read(access: &Access, owner: Option<&str>) -> bool {
    owner.is_none() || access.role().sees_sensitive() || access.who() == owner
}

fn record_json(r: &crate::store::records::Record) -> Value {
    serde_json::json!({
        "id": r.id.as_str(),
        "code": r.code.grouped(),
        "created_at": r.created_at_text(),
        "user": r.user,
        "sha256": r.sha256,
        "intact": r.is_intact(),
        "request": r.request,
        "result": r.answer,
    })
}

/// `GET /planning/check/{id}`: the stored check; `f=pdf` or `Accept:
/// application/pdf` gives the printable report.
pub async fn get(
    State(s): State<DataState>,
    State(web): State<WebState>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
    access: Access,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let asked = read_query(raw.as_deref(), false, &["json", "pdf"])?;
    let id = RecordId::parse(&id).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let r = s
        .store
        .get_record(&id)
        .await
        .map_err(|e| ApiError::unavailable(format!("records cannot be read: {e}")))?
        .filter(|r| r.kind == RecordKind::Check)
        .filter(|r| may_read(&access, r.user.as_deref()))
        .ok_or_else(|| ApiError::not_found(format!("no check has id {}", id.as_str())))?;
    if r.user.is_some() && r.user.as_deref() != access.who() {
        access.disclose("planning_records", &format!("check {}", r.id.as_str()));
    }
    let pdf = match asked.format.as_deref() {
        Some(f) => f == "pdf",
        None => headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("application/pdf")),
    };
    if !pdf {
        return Ok(Json(record_json(&r)).into_response());
    }
    let kit = super::sheet::kit(&web, &s.config).await?;
    let cat = s.engine.snapshot();
    let base = base_url(&s, &headers);
    let issue = Issue {
        code: r.code.grouped(),
        verify_url: format!("{base}/planning/check/{}", r.id.as_str()),
        issued_at: r.created_at.format("%Y-%m-%d %H:%M UTC").to_string(),
    };
    let site_bytes = serde_json::to_vec(&r.request).map_err(ApiError::internal)?;
    let limits: crate::planning::site::SiteLimits = (&s.config.planning).into();
    let body = crate::blocking::spawn(move || -> Result<Vec<u8>, ApiError> {
        let plane = read_site(&site_bytes, None)
            .ok()
            .and_then(|(g, c, _)| site_from(g, c, limits).ok())
            .and_then(|m| crate::planning::overlay::to_plane(&m).ok());
        let map = plane
            .as_ref()
            .and_then(|p| sheet_map(&kit, &cat, Some(p), None).ok());
        let doc = check_report(&r.answer, map.as_ref(), &issue);
        render_pdf(&doc, &kit.fonts).map_err(ApiError::internal)
    })
    .await??;
    Ok(([(header::CONTENT_TYPE, "application/pdf")], body).into_response())
}
