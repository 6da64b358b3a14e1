//! `GET /planning/sheet` (the planning information sheet of a parcel or a
//! point, as PDF or HTML) and `GET /planning/sheet/verify/{code}` (what a
//! printed code was issued for). A sheet is the planning answer composed
//! by `report::sheet` with its map extract; each one issued is stored as a
//! planning record (request, answer, time, hash) under the code it prints.

use super::planning_info::{info_query, read_query};
use super::{base_url, ApiError, DataState, WebState};
use crate::config::Config;
use crate::planning::info::{answer, Subject};
use crate::report::html::render_html;
use crate::report::pdf::render_pdf;
use crate::report::sheet::{information_sheet, sheet_map, subject_plane, Issue, PrintKit};
use crate::store::records::{Record, RecordKind, VerificationCode};
use crate::store::StoreError;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use std::sync::Arc;

/// The print kit of a server state, built on first use off the runtime.
pub(crate) async fn kit(web: &WebState, config: &Config) -> Result<Arc<PrintKit>, ApiError> {
    web.print_kit
        .get_or_try_init(|| async {
            let (style, dir) = (
                web.styles.get(super::wms::STYLE_NAME).cloned(),
                config.web.fonts_dir.clone(),
            );
            crate::blocking::spawn(move || PrintKit::new(style.as_ref(), &dir))
                .await?
                .map(Arc::new)
                .map_err(|e| ApiError::unavailable(format!("documents cannot be printed: {e}")))
        })
        .await
        .cloned()
}

/// True when the client asks for HTML (`f=html`, or `text/html` accepted
/// before `application/pdf`).
fn wants_html(format: Option<&str>, headers: &HeaderMap) -> bool {
    match format {
        Some(f) => f == "html",
        None => {
            let accept = headers
                .get(header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            match (accept.find("text/html"), accept.find("application/pdf")) {
                (Some(h), Some(p)) => h < p,
                (Some(_), None) => true,
                _ => false,
            }
        }
    }
}

/// `GET /planning/sheet?parcel={fid}` or `?point=lon,lat`, `as_of=`,
/// `f=pdf|html` (else by `Accept`; PDF by default).
pub async fn get(
    State(s): State<DataState>,
    State(web): State<WebState>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let asked = read_query(raw.as_deref(), true, &["pdf", "html"])?;
    let html = wants_html(asked.format.as_deref(), &headers);
    let subject = asked
        .subject
        .ok_or_else(|| ApiError::bad_request("no subject"))?;
    let request = match &subject {
        Subject::Parcel(fid) => serde_json::json!({ "parcel": fid }),
        Subject::Point(p) => {
            let ll = crate::crs::mercator_to_lonlat(*p);
            serde_json::json!({ "point": [ll.x, ll.y] })
        }
        Subject::Site(_) => serde_json::json!({ "site": true }),
    };
    let q = info_query(&s, subject, asked.as_of);
    let kit = kit(&web, &s.config).await?;
    let cat = s.engine.snapshot();
    let base = base_url(&s, &headers);
    let (info, map) = {
        let cat = cat.clone();
        let kit = kit.clone();
        crate::blocking::spawn(move || -> Result<_, ApiError> {
            let info = answer(&cat, &q)?;
            let subject = subject_plane(&cat, &info, None);
            let point = info.subject.point.and_then(|[x, y]| {
                crate::crs::transform_one(
                    crate::crs::WGS84,
                    crate::crs::VN2000_TM3_10745,
                    geo_types::Coord { x, y },
                )
                .ok()
            });
            let map = sheet_map(&kit, &cat, subject.as_ref(), point).ok();
            Ok((info, map))
        })
        .await??
    };
    let mut request = request;
    request["as_of"] = info.as_of.clone().into();
    request["format"] = if html { "html" } else { "pdf" }.into();
    let answer_json = serde_json::to_value(&info).map_err(ApiError::internal)?;
    let mut record = Record::new(RecordKind::Sheet, None, request, answer_json);
    let info = Arc::new(info);
    let map = Arc::new(map);
    for _ in 0..4 {
        let issue = Issue {
            code: record.code.grouped(),
            verify_url: format!("{base}/planning/sheet/verify/{}", record.code.as_str()),
            issued_at: record.created_at.format("%Y-%m-%d %H:%M UTC").to_string(),
        };
        let (shown, map, kit) = (info.clone(), map.clone(), kit.clone());
        let body = crate::blocking::spawn(move || -> Result<Vec<u8>, ApiError> {
            let doc = information_sheet(&shown, map.as_ref().as_ref(), &issue);
            if html {
                Ok(render_html(&doc).into_bytes())
            } else {
                render_pdf(&doc, &kit.fonts).map_err(ApiError::internal)
            }
        })
        .await??;
        match s.store.put_record(&record).await {
            Ok(_) => {
                let ct = if html {
                    "text/html; charset=utf-8"
                } else {
                    "application/pdf"
                };
                let mut res = ([(header::CONTENT_TYPE, ct)], body).into_response();
                if let Ok(v) = HeaderValue::from_str(record.code.as_str()) {
                    res.headers_mut().insert("x-verification-code", v);
                }
                if !html {
                    let name = info
                        .subject
                        .parcel
                        .as_ref()
                        .map_or("vi-tri".to_owned(), |p| p.cadastral_key.clone());
                    if let Ok(v) = HeaderValue::from_str(&format!(
                        "inline; filename=\"phieu-thong-tin-quy-hoach-{name}.pdf\""
                    )) {
                        res.headers_mut().insert(header::CONTENT_DISPOSITION, v);
                    }
                }
                return Ok(res);
            }
            Err(StoreError::Duplicate(_)) => record = record.with_new_keys(),
            Err(e) => {
                return Err(ApiError::unavailable(format!(
                    "the sheet could not be recorded: {e}"
                )))
            }
        }
    }
    Err(ApiError::internal(
        "no free verification code after four tries",
    ))
}

/// `GET /planning/sheet/verify/{code}`: the sheet issued under `code`
/// (case and hyphens as printed or typed), with its request and answer as
/// issued and whether the stored record is intact.
pub async fn verify(
    State(s): State<DataState>,
    Path(code): Path<String>,
) -> Result<Response, ApiError> {
    let code = VerificationCode::parse(&code).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let r = s
        .store
        .get_record_by_code(&code)
        .await
        .map_err(|e| ApiError::unavailable(format!("records cannot be read: {e}")))?
        .filter(|r| r.kind == RecordKind::Sheet)
        .ok_or_else(|| {
            ApiError::not_found(format!("no sheet was issued with code {}", code.grouped()))
        })?;
    Ok(Json(serde_json::json!({
        "code": r.code.grouped(),
        "id": r.id.as_str(),
        "kind": r.kind.as_str(),
        "issued_at": r.created_at_text(),
        "intact": r.is_intact(),
        "sha256": r.sha256,
        "request": r.request,
        "answer": r.answer,
    }))
    .into_response())
}
