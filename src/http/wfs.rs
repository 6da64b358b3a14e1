//! WFS over HTTP: `GET /wfs` (KVP) and `POST /wfs` (XML, or KVP in a form
//! body). Parsing and documents come from [`crate::ogc::wfs`]; this module
//! runs GetFeature on the blocking pool and streams its body in chunks
//! through a bounded channel, so memory stays flat however many features
//! a page holds, and a client that stops reading stops the writer.
//!
//! A `Transaction` body is let in only with editor credentials (checked
//! before the body is parsed: 401 with the Basic challenge otherwise); it
//! is compiled against the engine snapshot on the blocking pool and
//! committed through [`AppState::commit`] as one store transaction. A
//! layer not in `ogc.editable` answers 403 (`OperationProcessingFailed`),
//! a bad request 400 naming the problem; either way nothing changes.

use super::auth::{Denied, Editor};
use super::error::RETRY_AFTER_SECS;
use super::export::{self, LayerPart};
use super::{base_url, AppState, CommitError, DataState};
use crate::crs::Crs;
use crate::model::access::Access;
use crate::model::FileFormat;
use crate::ogc::kvp::Kvp;
use crate::ogc::wfs::request::{self, GetFeature, Request, Transaction};
use crate::ogc::wfs::{self, doc, out, query, OutputFormat, Version, WfsError};
use crate::store::export::{ExportError, ExportFile, Exporter};
use axum::body::{Body, Bytes};
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;

/// WFS-T (Transaction) is built: layers that [`DataState::editable`]
/// accepts are advertised with Transaction (and only those), so QGIS turns
/// editing on for them.
const TRANSACTIONS_IMPLEMENTED: bool = true;

/// Bytes gathered before a chunk is handed to the client.
const CHUNK: usize = 64 * 1024;

/// `GET /wfs`.
pub async fn get(
    State(s): State<AppState>,
    recorder: Option<Extension<Access>>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let kvp = Kvp::parse(raw.as_deref().unwrap_or(""));
    handle(s, headers, kvp, None, recorder.map(|e| e.0)).await
}

/// `POST /wfs`.
pub async fn post(
    State(s): State<AppState>,
    recorder: Option<Extension<Access>>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
    body: Bytes,
) -> Response {
    let kvp = Kvp::parse(raw.as_deref().unwrap_or(""));
    handle(s, headers, kvp, Some(body), recorder.map(|e| e.0)).await
}

fn xml_response(status: StatusCode, mime: &'static str, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, mime)], body).into_response()
}

fn exception(e: &WfsError, v: Version) -> Response {
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST);
    let mime = if v == Version::V100 {
        "text/xml"
    } else {
        "application/xml"
    };
    let mut r = xml_response(status, mime, e.report(v));
    if status == StatusCode::SERVICE_UNAVAILABLE {
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECS));
    }
    r
}

/// The version to answer an error in before the request is understood.
fn guess_version(k: &Kvp) -> Version {
    k.get(wfs::param::VERSION)
        .and_then(Version::parse)
        .or_else(|| {
            k.get(wfs::param::ACCEPT_VERSIONS)
                .and_then(|a| a.split(',').find_map(Version::parse))
        })
        .unwrap_or(Version::V200)
}

/// Answers one WFS request given as KVP (`kvp`) or as an XML / form body.
/// The lead's combined `/ows` endpoint dispatches `SERVICE=WFS` here.
/// `recorder` is the audit layer's [`Access`], when the request passed
/// through it.
pub async fn handle(
    state: AppState,
    headers: HeaderMap,
    kvp: Kvp,
    body: Option<Bytes>,
    recorder: Option<Access>,
) -> Response {
    let lim = &state.data.config.limits;
    let mut kvp = kvp;
    let mut xml_body = None;
    if let Some(b) = body.filter(|b| !b.iter().all(u8::is_ascii_whitespace)) {
        if b.len() > lim.max_body_bytes {
            let e = WfsError::invalid(
                "body",
                format!(
                    "request body of {} bytes exceeds the limit of {} bytes",
                    b.len(),
                    lim.max_body_bytes
                ),
            );
            return exception(&e, guess_version(&kvp));
        }
        let Ok(text) = std::str::from_utf8(&b) else {
            return exception(
                &WfsError::parsing("request body is not UTF-8"),
                guess_version(&kvp),
            );
        };
        let text = text.trim_start_matches('\u{feff}').trim_start();
        if text.starts_with('<') {
            xml_body = Some(text.to_owned());
        } else {
            // A form-encoded KVP body adds to the query string.
            let mut pairs = kvp.pairs().to_vec();
            pairs.extend(Kvp::parse(text).pairs().iter().cloned());
            let mut ser = url::form_urlencoded::Serializer::new(String::new());
            for (k, v) in &pairs {
                ser.append_pair(k, v);
            }
            kvp = Kvp::parse(&ser.finish());
        }
    }
    // Editing needs an editor before anything of the request is read.
    if xml_body.as_deref().is_some_and(request::is_transaction) {
        if let Err(e) = state.auth.editor(&headers, recorder.as_ref()).await {
            tracing::debug!("WFS Transaction refused: {e}");
            return denied(&e, guess_version(&kvp));
        }
    }
    // Reading: the caller's role says which fields they see.
    let access = match state.auth.access(&headers, recorder.as_ref()).await {
        Ok(a) => a,
        Err(e) => return denied(&e.into(), guess_version(&kvp)),
    };
    let parsed = match &xml_body {
        Some(x) => request::parse_xml(x, &state.data.config),
        None => request::parse_kvp(&kvp, &state.data.config),
    };
    let req = match parsed {
        Ok(r) => r,
        Err(e) => return exception(&e, guess_version(&kvp)),
    };
    // Whatever the early sniff above made of the body, a request that
    // parsed as a Transaction needs an editor before it is compiled.
    let mut editor = None;
    if matches!(req, Request::Transaction(..)) {
        match state.auth.editor(&headers, recorder.as_ref()).await {
            Ok(e) => editor = Some(e),
            Err(e) => {
                tracing::debug!("WFS Transaction refused: {e}");
                return denied(&e, req.version());
            }
        }
    }
    let v = req.version();
    let endpoint = format!("{}/wfs", base_url(&state.data, &headers));
    let cat = state.data.engine.snapshot();
    let cfg = &state.data.config;
    match req {
        Request::GetCapabilities(v) => {
            let editable = |id: &str| TRANSACTIONS_IMPLEMENTED && state.data.editable(id);
            let doc = doc::capabilities(
                v,
                &cat,
                &doc::Service {
                    config: cfg,
                    endpoint: &endpoint,
                    editable: &editable,
                },
            );
            let mime = if v == Version::V200 {
                "application/xml"
            } else {
                "text/xml"
            };
            xml_response(StatusCode::OK, mime, doc)
        }
        Request::DescribeFeatureType {
            version,
            layers,
            format,
        } => {
            let dialect = match doc::schema_dialect(format.as_deref(), version) {
                Ok(d) => d,
                Err(e) => return exception(&e, v),
            };
            let mut ls = Vec::new();
            for t in &layers {
                let locator = if version == Version::V200 {
                    wfs::param::TYPENAMES
                } else {
                    wfs::param::TYPENAME
                };
                match wfs::layer_of(&cat, t, locator) {
                    Ok(l) => ls.push(l.as_ref()),
                    Err(e) => return exception(&e, v),
                }
            }
            if layers.is_empty() {
                ls = cat.layers().map(|l| l.as_ref()).collect();
            }
            let mime = match dialect {
                crate::ogc::gml::GmlVersion::V32 => "application/gml+xml; version=3.2",
                crate::ogc::gml::GmlVersion::V311 => "text/xml; subtype=gml/3.1.1",
                crate::ogc::gml::GmlVersion::V2 => "text/xml",
            };
            xml_response(
                StatusCode::OK,
                mime,
                doc::describe_feature_type(&ls, dialect, cfg, access.role()),
            )
        }
        Request::ListStoredQueries(_) => xml_response(
            StatusCode::OK,
            "application/xml",
            doc::list_stored_queries(&cat, cfg),
        ),
        Request::DescribeStoredQueries { ids, .. } => {
            match doc::describe_stored_queries(&ids, &cat, cfg) {
                Ok(d) => xml_response(StatusCode::OK, "application/xml", d),
                Err(e) => exception(&e, v),
            }
        }
        Request::GetFeature(g) => get_feature(state.data.clone(), g, endpoint, access).await,
        Request::Transaction(tx) => match editor {
            Some(e) => transaction(state.clone(), tx, e).await,
            None => exception(&WfsError::internal(), v),
        },
    }
}

/// 401 without valid credentials (the Basic challenge, and an exception
/// report saying what is needed), 403 for a role that may not.
fn denied(d: &Denied, v: Version) -> Response {
    let (message, status) = match d {
        Denied::Auth(_) => ("Transaction needs an editor, and reading with credentials needs valid ones: a user name and password (HTTP Basic) or an API key (Authorization: Bearer)".to_owned(), 401),
        Denied::Role(r) => (r.to_string(), 403),
    };
    let e = WfsError {
        code: "OperationProcessingFailed",
        locator: Some("Transaction".into()),
        message,
        status,
    };
    let mut r = exception(&e, v);
    if status == 401 {
        r.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static(super::auth::CHALLENGE),
        );
    }
    r
}

/// Runs a Transaction: compiles it against the engine snapshot on the
/// blocking pool (filters select the fids there), then commits every
/// action in one store transaction. Any failure writes nothing.
async fn transaction(state: AppState, tx: Transaction, editor: Editor) -> Response {
    let v = tx.version;
    let s = state.data.clone();
    let compiled = crate::blocking::spawn(move || {
        let cat = s.engine.snapshot();
        wfs::transaction::compile(&tx, &cat, &s.config, &|id| s.editable(id))
    })
    .await;
    let compiled = match compiled {
        Ok(Ok(c)) => c,
        Ok(Err(e)) => return exception(&e, v),
        Err(e) => {
            tracing::error!("WFS Transaction: the compile task failed: {e}");
            return exception(&WfsError::internal(), v);
        }
    };
    if let Some(le) = compiled.edits.iter().find(|e| !editor.may_write(&e.layer)) {
        let e = WfsError {
            code: "OperationProcessingFailed",
            locator: Some("Transaction".into()),
            message: format!(
                "{} may not write layer '{}' (ogc.grants); nothing changed",
                editor.name, le.layer
            ),
            status: 403,
        };
        return exception(&e, v);
    }
    let result = if compiled.edits.is_empty() {
        Default::default()
    } else {
        match state.commit(&compiled.edits).await {
            Ok(r) => r,
            Err(e) => return exception(&commit_failure(&e), v),
        }
    };
    if !compiled.edits.is_empty() {
        editor.access.wrote(super::audit::written("WFS-T", &result));
    }
    let mime = if v == Version::V200 {
        "application/xml"
    } else {
        "text/xml"
    };
    xml_response(
        StatusCode::OK,
        mime,
        wfs::transaction::response(v, &compiled, &result),
    )
}

/// The exception for a commit that wrote nothing: a request the store
/// refused is a 400 naming the reason; the database out of reach for now
/// (restarting) a 503 with `Retry-After`; another failure of the server
/// (a store task that panicked) a 500. The cause of a 5xx goes to the log
/// only.
fn commit_failure(e: &CommitError) -> WfsError {
    if e.is_unavailable() {
        tracing::warn!("WFS Transaction: the commit failed: {e}");
        WfsError {
            code: "OperationProcessingFailed",
            locator: Some("Transaction".into()),
            message: format!(
                "the transaction was not applied: the database cannot be reached just now; try again in {RETRY_AFTER_SECS} s"
            ),
            status: 503,
        }
    } else if e.is_client_error() {
        WfsError {
            code: "OperationProcessingFailed",
            locator: Some("Transaction".into()),
            message: format!("the transaction was not applied, nothing changed: {e}"),
            status: 400,
        }
    } else {
        tracing::error!("WFS Transaction: the commit failed: {e}");
        WfsError::internal()
    }
}

/// Runs the query on the blocking pool; answers an exception report if it
/// fails to plan, else streams the collection as it is written.
async fn get_feature(
    state: DataState,
    g: GetFeature,
    endpoint: String,
    access: Access,
) -> Response {
    let v = g.version;
    let (ptx, prx) = tokio::sync::oneshot::channel::<Result<Ready, WfsError>>();
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    crate::blocking::spawn(move || {
        let cat = state.engine.snapshot();
        let cfg = &state.config;
        let plan = match query::plan(g, &cat, cfg, &access) {
            Ok(p) => p,
            Err(e) => {
                let _ = ptx.send(Err(e));
                return;
            }
        };
        if let OutputFormat::File(f) = plan.format {
            let _ = ptx.send(export_plan(&plan, f));
            return;
        }
        // GetPropertyValue answers a wfs:ValueCollection, not GML.
        let mime = if plan.value.is_some() {
            "application/xml"
        } else {
            plan.format.mime()
        };
        if ptx.send(Ok(Ready::Stream(mime))).is_err() {
            return;
        }
        // A client that stops reading holds this thread: give up on it
        // after the request timeout without progress.
        let rt = tokio::runtime::Handle::current();
        let stall = std::time::Duration::from_secs(cfg.limits.request_timeout_secs.max(1));
        let send = |item: Result<Bytes, std::io::Error>| -> bool {
            rt.block_on(async {
                matches!(tokio::time::timeout(stall, tx.send(item)).await, Ok(Ok(())))
            })
        };
        let ts = iso_now();
        let mut w = out::Writer::new(
            &plan,
            &cfg.ogc.prefix,
            &cfg.ogc.namespace_uri,
            &endpoint,
            &ts,
        );
        let mut buf = String::with_capacity(CHUNK + 8192);
        w.head(&mut buf);
        for (qi, (_, page)) in plan.pages.iter().enumerate() {
            if plan.hits {
                break;
            }
            for r in page {
                if let Err(e) = w.feature(&mut buf, qi, *r) {
                    // Headers are gone: cut the body so the client sees a
                    // broken response, never a silently short one.
                    tracing::error!("WFS GetFeature: {e}");
                    send(Err(std::io::Error::other(e.to_string())));
                    return;
                }
                if buf.len() >= CHUNK {
                    let chunk = std::mem::replace(&mut buf, String::with_capacity(CHUNK + 8192));
                    if !send(Ok(Bytes::from(chunk))) {
                        tracing::debug!("WFS GetFeature: the client went away or stopped reading");
                        return;
                    }
                }
            }
        }
        w.tail(&mut buf);
        send(Ok(Bytes::from(buf)));
    });
    match prx.await {
        Ok(Ok(Ready::File(file, c))) => export::file_response(file, Some(c)),
        Ok(Ok(Ready::Stream(mime))) => {
            let mut r = Response::new(Body::from_stream(
                tokio_stream::wrappers::ReceiverStream::new(rx),
            ));
            r.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
            r
        }
        Ok(Err(e)) => exception(&e, v),
        Err(_) => {
            tracing::error!("WFS GetFeature: the planning task ended without an answer");
            exception(&WfsError::internal(), v)
        }
    }
}

/// What the GetFeature task hands the response: a document about to be
/// streamed (its type), or a finished download file and its CRS.
enum Ready {
    Stream(&'static str),
    File(ExportFile, Crs),
}

/// Writes the pages of a planned GetFeature into a download file: one
/// table (GeoPackage, Shapefile, KML folder) per query, named after its
/// layer; KML in WGS 84 whatever SRSNAME says, as KML must be.
fn export_plan(plan: &query::Plan, f: FileFormat) -> Result<Ready, WfsError> {
    let mut names: Vec<&str> = Vec::new();
    for (lq, _) in &plan.pages {
        if !names.contains(&lq.layer.id.as_str()) {
            names.push(&lq.layer.id);
        }
    }
    let stem = export::file_stem(&names.join("_"), None, &super::planning_info::today_vn());
    let fail = |e: ExportError| {
        if e.is_client_error() {
            WfsError::invalid(wfs::param::OUTPUTFORMAT, e.to_string())
        } else {
            tracing::error!("WFS GetFeature: {e}");
            WfsError::internal()
        }
    };
    let mut e = Exporter::new(f, &stem).map_err(fail)?;
    let mut out_crs = None;
    for (lq, page) in &plan.pages {
        let c = if f == FileFormat::Kml {
            Crs::Crs84
        } else {
            lq.out.0
        };
        out_crs.get_or_insert(c);
        export::write_layer(
            &mut e,
            &LayerPart {
                layer: &lq.layer,
                fields: &lq.fields,
                geometry: lq.geometry,
                crs: c,
                features: page,
            },
        )
        .map_err(fail)?;
    }
    let file = e.finish().map_err(fail)?;
    Ok(Ready::File(file, out_crs.unwrap_or(Crs::Crs84)))
}

/// The current UTC time as ISO 8601 (`2026-12-01T01:47:00Z`).
pub fn iso_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn timestamps_are_iso_8601_utc() {
        let t = super::iso_now();
        assert_eq!(t.len(), 20, "{t}");
        assert!(
            t.starts_with("20") && t.ends_with('Z') && &t[10..11] == "T",
            "{t}"
        );
    }

    #[tokio::test]
    async fn a_store_task_that_panicked_is_a_server_error_not_a_refused_transaction() {
        use super::{commit_failure, CommitError};
        use crate::store::StoreError;
        let died = tokio::spawn(async { panic!("the store task died") })
            .await
            .unwrap_err();
        let e = CommitError::from(StoreError::from(died));
        assert!(!e.is_client_error());
        let r = commit_failure(&e);
        assert_eq!((r.status, r.code), (500, "NoApplicableCode"));
        assert!(!r.message.contains("nothing changed"), "{}", r.message);
        // What the request got wrong is still a 400 that names it.
        let refused = commit_failure(&CommitError::Store(StoreError::NoSuchFeature {
            layer: "parcels".into(),
            fid: 7,
        }));
        assert_eq!(refused.status, 400);
        assert!(refused.message.contains("layer parcels has no feature 7"));
        // The database away for now: 503, to try again.
        let away = commit_failure(&CommitError::Store(StoreError::Unavailable(
            "Connection refused (os error 111)".into(),
        )));
        assert_eq!(away.status, 503);
        assert!(away.message.contains("try again"), "{}", away.message);
        assert!(!away.message.contains("os error"), "{}", away.message);
    }
}
