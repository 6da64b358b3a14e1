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
use crate::store::Store;
use axum::extract::{RawQuery, Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use std::sync::Arc;

/// Entries `GET /audit` answers when it is not told `limit`.
const DEFAULT_LIMIT: usize = 100;
/// At most this many entries per `GET /audit`.
const MAX_LIMIT: usize = 10_000;

/// Entries one store transaction takes at most.
const BATCH: usize = 4096;

/// Entries waiting for the writer, with the requests that wait for them.
struct Pending {
    entries: Vec<AuditEntry>,
    done: tokio::sync::oneshot::Sender<Result<(), String>>,
}

/// The audit log's writer: the entries of requests answered at the same
/// time are appended in one store transaction (group commit), and each
/// request waits until its own are stored. One transaction per entry would
/// hold a signed-in officer's map to the disk's sync rate (about 50
/// answers a second on a GeoPackage).
pub struct AuditLog {
    store: Arc<Store>,
    tx: std::sync::OnceLock<tokio::sync::mpsc::Sender<Pending>>,
}

impl AuditLog {
    /// A writer to `store`; its task starts with the first entry.
    pub fn new(store: Arc<Store>) -> AuditLog {
        AuditLog {
            store,
            tx: std::sync::OnceLock::new(),
        }
    }

    /// Appends `entries` and returns once they are stored (or failed).
    pub async fn append(&self, entries: Vec<AuditEntry>) -> Result<(), String> {
        let tx = self.tx.get_or_init(|| {
            let (tx, rx) = tokio::sync::mpsc::channel(BATCH);
            tokio::spawn(write_batches(self.store.clone(), rx));
            tx
        });
        let (done, wait) = tokio::sync::oneshot::channel();
        tx.send(Pending { entries, done })
            .await
            .map_err(|_| "the audit writer stopped".to_owned())?;
        wait.await
            .map_err(|_| "the audit writer stopped".to_owned())?
    }
}

/// The writer's task: takes what is waiting (up to [`BATCH`] entries),
/// stores it in one transaction, tells every request, and again.
async fn write_batches(store: Arc<Store>, mut rx: tokio::sync::mpsc::Receiver<Pending>) {
    while let Some(first) = rx.recv().await {
        let mut waiting = vec![first];
        let mut n = waiting[0].entries.len();
        while n < BATCH {
            match rx.try_recv() {
                Ok(p) => {
                    n += p.entries.len();
                    waiting.push(p);
                }
                Err(_) => break,
            }
        }
        let entries: Vec<AuditEntry> = waiting
            .iter_mut()
            .flat_map(|p| std::mem::take(&mut p.entries))
            .collect();
        let result = store.put_audit(entries).await.map_err(|e| e.to_string());
        for p in waiting {
            let _ = p.done.send(result.clone());
        }
    }
}

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
    match s.audit.append(entries).await {
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
