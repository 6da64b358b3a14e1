//! `POST /import` (editors only): the province's files in, through the
//! same engine as `geoplan import` ([`crate::import`]), written as one
//! commit (all or nothing) that reaches the engine and the tiles per
//! changed feature, as a WFS-T edit does.
//!
//! The body is `multipart/form-data`: one or more `file` parts (a zipped
//! Shapefile, a GeoPackage, KML, GeoJSON, GML, DGN, CSV — or a Shapefile's
//! `.shp`, `.dbf`, `.shx`, `.prj`, `.cpg` as parts of their own), and text
//! parts `layer` (required), `mode` (append, replace, upsert), `key`
//! (comma-separated), `crs`, `encoding`, `source_layer`, `dry_run`
//! (true/false) and `mapping` (the mapping file's TOML). The answer is the
//! import's report as JSON, with a readable `summary`.

use super::auth::Editor;
use super::commit::CommitError;
use super::{ApiError, AppState};
use crate::import::{prepare, ImportOptions};
use crate::store::source::{self, SourceOptions};
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use std::path::PathBuf;
use tokio::io::AsyncWriteExt;

/// What the form said; its files are on disk, in `dir` (a district's
/// Shapefile runs to hundreds of MB: it is never held in memory whole).
struct Form {
    dir: tempfile::TempDir,
    files: Vec<(String, PathBuf)>,
    layer: Option<String>,
    mode: Option<String>,
    key: Option<String>,
    crs: Option<String>,
    encoding: Option<String>,
    source_layer: Option<String>,
    dry_run: bool,
    mapping: Option<String>,
}

const PARTS: &str = "file, layer, mode, key, crs, encoding, source_layer, dry_run, mapping";

async fn read_form(mut m: Multipart) -> Result<Form, ApiError> {
    let dir = tempfile::Builder::new()
        .prefix("geoplan-import-")
        .tempdir()
        .map_err(ApiError::internal)?;
    let mut f = Form {
        dir,
        files: Vec::new(),
        layer: None,
        mode: None,
        key: None,
        crs: None,
        encoding: None,
        source_layer: None,
        dry_run: false,
        mapping: None,
    };
    let bad = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::too_large(format!(
                "the upload is larger than [limits] max_upload_bytes: {e}"
            ))
        } else {
            ApiError::bad_request(format!("the body is not a readable multipart form: {e}"))
        }
    };
    while let Some(mut part) = m.next_field().await.map_err(bad)? {
        let name = part.name().unwrap_or_default().to_owned();
        if name == "file" {
            let file_name = part
                .file_name()
                .map(str::to_owned)
                .filter(|n| !n.trim().is_empty())
                .ok_or_else(|| {
                    ApiError::bad_request(
                        "a file part needs a file name (its extension tells its format)",
                    )
                })?;
            let path = f.dir.path().join(source::safe_file_name(&file_name));
            if f.files.iter().any(|(_, p)| *p == path) {
                return Err(ApiError::bad_request(format!(
                    "file '{file_name}' is sent twice"
                )));
            }
            let mut out = tokio::fs::File::create(&path)
                .await
                .map_err(ApiError::internal)?;
            while let Some(chunk) = part.chunk().await.map_err(bad)? {
                out.write_all(&chunk).await.map_err(ApiError::internal)?;
            }
            out.flush().await.map_err(ApiError::internal)?;
            f.files.push((file_name, path));
            continue;
        }
        let text = part.text().await.map_err(bad)?;
        let v = Some(text.trim().to_owned()).filter(|t| !t.is_empty());
        match name.as_str() {
            "layer" => f.layer = v,
            "mode" => f.mode = v,
            "key" => f.key = v,
            "crs" => f.crs = v,
            "encoding" => f.encoding = v,
            "source_layer" => f.source_layer = v,
            "mapping" => f.mapping = v,
            "dry_run" => {
                f.dry_run = match v.as_deref().map(str::to_ascii_lowercase).as_deref() {
                    None | Some("false") | Some("0") | Some("no") => false,
                    Some("true") | Some("1") | Some("yes") => true,
                    Some(o) => {
                        return Err(ApiError::bad_request(format!(
                            "dry_run '{o}': true or false"
                        )))
                    }
                }
            }
            other => {
                return Err(ApiError::bad_request(format!(
                    "unknown form part '{other}'; /import takes {PARTS}"
                )))
            }
        }
    }
    Ok(f)
}

/// `POST /import`.
pub async fn post(
    State(s): State<AppState>,
    editor: Editor,
    multipart: Multipart,
) -> Result<Response, ApiError> {
    let form = read_form(multipart).await?;
    let layer = form.layer.clone().ok_or_else(|| {
        ApiError::bad_request("layer is required (parcels, zoning_lots, plans, …)")
    })?;
    if form.files.is_empty() {
        return Err(ApiError::bad_request(
            "no file part: send the files as 'file'",
        ));
    }
    if !s.data.editable(&layer) {
        return Err(ApiError::forbidden(format!(
            "layer {layer} is not editable: list it in [ogc] editable to import into it"
        )));
    }
    editor.check_layer(&layer)?;
    let opts = ImportOptions::parse(
        form.mode.as_deref(),
        form.key.as_deref(),
        form.mapping.as_deref(),
    )
    .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let sopts = SourceOptions {
        max_features: Some(s.data.config.limits.max_import_features),
        ..SourceOptions::parse(
            form.crs.as_deref(),
            form.encoding.as_deref(),
            form.source_layer.clone(),
        )
        .map_err(ApiError::bad_request)?
    };
    let files = form.files;
    // GDAL reading is blocking work: off the runtime.
    let dir = form.dir;
    let sources = crate::blocking::spawn(move || {
        let read = source::read_files(&files, &sopts);
        drop(dir);
        read
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let target = s
        .data
        .store
        .read_layer(&layer)
        .await
        .map_err(|e| match e.is_client_error() {
            true => ApiError::bad_request(e.to_string()),
            false => ApiError::store("nothing was written", e),
        })?;
    let mut plan = crate::blocking::spawn(move || prepare(&sources, &target, &opts))
        .await
        .map_err(ApiError::internal)?
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    plan.report.dry_run = form.dry_run;
    if !form.dry_run && !plan.edits.is_empty() {
        let written = s.commit(&plan.edits).await.map_err(|e| match e {
            CommitError::NotEditable(_) => ApiError::forbidden(e.to_string()),
            e if e.is_client_error() => ApiError::bad_request(format!("nothing was written: {e}")),
            CommitError::Store(e) => ApiError::store("nothing was written", e),
        })?;
        plan.report.record(&written);
        editor
            .access
            .wrote(super::audit::written("import", &written));
        tracing::info!(
            editor = editor.name,
            layer,
            inserted = plan.report.inserted,
            updated = plan.report.updated,
            deleted = plan.report.deleted,
            "import committed"
        );
    }
    let mut body = serde_json::to_value(&plan.report).map_err(ApiError::internal)?;
    body["summary"] = plan.report.summary().into();
    Ok(Json(body).into_response())
}
