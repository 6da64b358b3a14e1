//! The audit layer and `GET /audit`. The layer gives every request an
//! [`Access`] whose notes the handlers fill (sensitive fields shown,
//! writes made, through the `Access` and `Editor` extractors); once the
//! answer is ready it appends what was noted to the store's audit log
//! (`store::audit`). An answer that showed sensitive fields is not sent
//! unless its entry is stored (503 instead); a write already committed is
//! answered even if its entry fails, and the failure is logged and counted.
//! `GET /audit` lets admins read the log; nothing changes it.

use super::auth::Admin;
use super::{ApiError, DataState};
use crate::model::access::Access;
use crate::store::audit::{AuditEntry, AuditQuery};
use axum::extract::{RawQuery, Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

/// Entries `GET /audit` answers when it is not told `limit`.
const DEFAULT_LIMIT: usize = 100;
/// At most this many entries per `GET /audit`.
const MAX_LIMIT: usize = 10_000;

/// The middleware: notes in, entries out (see the module docs).
pub async fn record(State(s): State<DataState>, mut req: Request, next: Next) -> Response {
    let notes = Access::public();
    req.extensions_mut().insert(notes.clone());
    let (method, uri) = (req.method().clone(), req.uri().clone());
    let signed_in = req.headers().contains_key(header::AUTHORIZATION);
    let mut res = next.run(req).await;
    // What an answer shows depends on who asks: shared caches keep one
    // copy per credential, and never one made for a signed-in caller.
    res.headers_mut()
        .append(header::VARY, HeaderValue::from_static("authorization"));
    if signed_in {
        res.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("private"));
    }
    let n = notes.notes();
    if n.disclosed.is_empty() && n.written.is_empty() {
        return res;
    }
    let at = chrono::Utc::now();
    let request = format!(
        "{method} {}",
        uri.path_and_query().map(|p| p.as_str()).unwrap_or("/")
    );
    let entry = |action: &str, detail| AuditEntry {
        seq: 0,
        at,
        who: n.who.clone(),
        role: n.role.as_str().to_owned(),
        action: action.to_owned(),
        request: request.clone(),
        detail,
    };
    let mut entries: Vec<AuditEntry> = n
        .written
        .iter()
        .map(|w| entry("write", w.clone()))
        .collect();
    let shown = res.status().is_success() && !n.disclosed.is_empty();
    if shown {
        let fields: Vec<_> = n
            .disclosed
            .iter()
            .map(|(l, f)| json!({"layer": l, "field": f}))
            .collect();
        entries.push(entry("read_sensitive", json!({ "fields": fields })));
    }
    if entries.is_empty() {
        return res;
    }
    match s.store.put_audit(entries).await {
        Ok(()) => res,
        Err(e) => {
            tracing::error!(error = %e, %request, "the audit log could not be written");
            super::metrics::audit_failed();
            if shown {
                ApiError::unavailable(format!(
                    "this answer shows sensitive fields and the audit log could not record it: {e}"
                ))
                .into_response()
            } else {
                res
            }
        }
    }
}

/// The audit description of a commit: through what, and per layer the
/// fids inserted, updated and deleted.
pub fn written(via: &str, result: &crate::model::WriteResult) -> serde_json::Value {
    let layers: Vec<_> = result
        .layers
        .iter()
        .map(|l| {
            json!({"layer": l.layer, "inserted": l.inserted, "updated": l.updated, "deleted": l.deleted})
        })
        .collect();
    json!({"via": via, "layers": layers})
}

/// `GET /audit?who=&action=&since=&limit=` (admins): the log, newest
/// first.
pub async fn get(
    _admin: Admin,
    State(s): State<DataState>,
    RawQuery(raw): RawQuery,
) -> Result<Json<serde_json::Value>, ApiError> {
    let mut q = AuditQuery {
        limit: DEFAULT_LIMIT,
        ..AuditQuery::default()
    };
    for (k, v) in super::features::query_pairs(raw.as_deref()) {
        match k.as_str() {
            "who" => q.who = Some(v),
            "action" if v == "write" || v == "read_sensitive" => q.action = Some(v),
            "action" => {
                return Err(ApiError::bad_request(format!(
                    "action '{v}': write or read_sensitive"
                )))
            }
            "since" => {
                q.since = Some(
                    chrono::DateTime::parse_from_rfc3339(&v)
                        .map_err(|e| {
                            ApiError::bad_request(format!(
                                "since '{v}': an RFC 3339 time (2026-12-06T08:00:00Z): {e}"
                            ))
                        })?
                        .with_timezone(&chrono::Utc),
                )
            }
            "limit" => {
                q.limit = v
                    .parse::<usize>()
                    .ok()
                    .filter(|n| (1..=MAX_LIMIT).contains(n))
                    .ok_or_else(|| {
                        ApiError::bad_request(format!("limit '{v}': 1 to {MAX_LIMIT}"))
                    })?
            }
            other => {
                return Err(ApiError::bad_request(format!(
                    "unknown parameter '{other}'; /audit takes who, action, since and limit"
                )))
            }
        }
    }
    let entries = s
        .store
        .read_audit(q)
        .await
        .map_err(|e| ApiError::unavailable(format!("the audit log could not be read: {e}")))?;
    Ok(Json(json!({ "entries": entries })))
}
