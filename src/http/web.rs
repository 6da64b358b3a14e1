//! The map page, MapLibre styles and label glyphs.
//!
//! Styles are read from `styles/` at start-up; their relative URLs (the
//! TileJSON of the vector source, `glyphs`, `sprite`) are made absolute
//! against the address the client used, as MapLibre needs.

use super::{base_url, ApiError, DataState, WebState};
use crate::render::glyphs::GlyphError;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use std::collections::HashMap;

/// Reads every `*.json` style of a directory, keyed by file stem.
pub fn load_styles(dir: &std::path::Path) -> HashMap<String, Value> {
    let mut out = HashMap::new();
    let Ok(rd) = std::fs::read_dir(dir) else {
        tracing::warn!("no styles directory {}", dir.display());
        return out;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.extension().is_some_and(|x| x == "json") {
            let name = p
                .file_stem()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            match std::fs::read(&p)
                .map_err(|e| e.to_string())
                .and_then(|b| serde_json::from_slice::<Value>(&b).map_err(|e| e.to_string()))
            {
                Ok(v) => {
                    out.insert(name, v);
                }
                Err(e) => tracing::error!("style {}: {e}", p.display()),
            }
        }
    }
    out
}

fn absolute(base: &str, v: &mut Value) {
    if let Value::String(s) = v {
        if s.starts_with('/') {
            *s = format!("{base}{s}");
        }
    }
}

/// `GET /styles/{name}.json`
pub async fn style(
    State(s): State<DataState>,
    State(web): State<WebState>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let name = file.strip_suffix(".json").ok_or_else(|| {
        ApiError::not_found(format!(
            "no style '{file}'; styles are /styles/{{name}}.json"
        ))
    })?;
    let mut style = web.styles.get(name).cloned().ok_or_else(|| {
        let mut known: Vec<&String> = web.styles.keys().collect();
        known.sort();
        ApiError::not_found(format!("no style '{name}'; styles: {known:?}"))
    })?;
    let base = base_url(&s, &headers);
    if let Some(sources) = style.get_mut("sources").and_then(Value::as_object_mut) {
        for src in sources.values_mut() {
            if let Some(u) = src.get_mut("url") {
                absolute(&base, u);
            }
            if let Some(Value::Array(t)) = src.get_mut("tiles") {
                t.iter_mut().for_each(|u| absolute(&base, u));
            }
        }
    }
    for k in ["glyphs", "sprite"] {
        if let Some(u) = style.get_mut(k) {
            absolute(&base, u);
        }
    }
    Ok((
        [(header::CONTENT_TYPE, "application/json")],
        style.to_string(),
    )
        .into_response())
}

/// `GET /fonts/{stack}/{range}.pbf`
pub async fn glyphs(
    State(web): State<WebState>,
    Path((stack, file)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let range = file
        .strip_suffix(".pbf")
        .ok_or_else(|| {
            ApiError::bad_request(format!("'{file}': glyphs are {{start}}-{{end}}.pbf"))
        })?
        .to_owned();
    let g = web.glyphs.clone();
    let pbf = crate::blocking::spawn(move || g.range(&stack, &range))
        .await?
        .map_err(|e| match e {
            GlyphError::UnknownFont(..) => ApiError::not_found(e.to_string()),
            GlyphError::BadRange(_) => ApiError::bad_request(e.to_string()),
        })?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/x-protobuf"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        pbf.as_ref().clone(),
    )
        .into_response())
}
