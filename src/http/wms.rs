//! `GET /wms`: WMS 1.3.0 and 1.1.1. Parameters are parsed into a
//! case-insensitive [`Kvp`]; the whole request (capabilities, rendering,
//! feature info) runs on the blocking pool over one engine snapshot.
//!
//! The renderer (compiled `planning` style and label fonts) is built once
//! per server state, on first use, and shared by every request.

use super::{base_url, AppState};
use crate::ogc::kvp::Kvp;
use crate::ogc::wms::service::Wms;
use crate::ogc::wms::Env;
use crate::render::style::Style;
use crate::render::text::Fonts;
use crate::render::Renderer;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

/// Name of the style (in `web.styles_dir`) maps are drawn with.
pub const STYLE_NAME: &str = "planning";

type StylesMap = HashMap<String, serde_json::Value>;

/// One WMS per server state, keyed by the state's styles (a `Weak`
/// keeps its allocation, so the key is never reused while cached). This
/// keeps the WMS out of `AppState`, which other services extend too.
static SERVICES: Mutex<Vec<(Weak<StylesMap>, Arc<Wms>)>> = Mutex::new(Vec::new());

fn build(s: &AppState) -> Wms {
    let style = match s.styles.get(STYLE_NAME).map(Style::compile) {
        Some(Ok(st)) => st,
        Some(Err(e)) => {
            tracing::error!(
                "WMS: style '{STYLE_NAME}' cannot be rendered ({e}); using default symbols"
            );
            Style::default()
        }
        None => {
            tracing::warn!("WMS: no style '{STYLE_NAME}'; using default symbols");
            Style::default()
        }
    };
    let fonts = Fonts::load(&s.config.web.fonts_dir);
    if fonts.is_empty() {
        tracing::warn!(
            "WMS: no fonts in {}; maps carry no labels",
            s.config.web.fonts_dir.display()
        );
    }
    Wms::new(Renderer::new(style, fonts))
}

/// The WMS of a server state (built on first use, off the runtime).
pub async fn service(s: &AppState) -> Arc<Wms> {
    let key = Arc::downgrade(&s.styles);
    {
        let mut all = SERVICES.lock().unwrap_or_else(|e| e.into_inner());
        all.retain(|(k, _)| k.strong_count() > 0);
        if let Some((_, w)) = all.iter().find(|(k, _)| k.ptr_eq(&key)) {
            return w.clone();
        }
    }
    let st = s.clone();
    let built = match tokio::task::spawn_blocking(move || build(&st)).await {
        Ok(w) => Arc::new(w),
        Err(_) => Arc::new(Wms::new(Renderer::new(
            Style::default(),
            Fonts::load(std::path::Path::new("")),
        ))),
    };
    let mut all = SERVICES.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, w)) = all.iter().find(|(k, _)| k.ptr_eq(&key)) {
        return w.clone();
    }
    all.push((key, built.clone()));
    built
}

/// Answers a WMS request given as KVP (the combined `/ows` endpoint calls
/// this for `SERVICE=WMS`).
pub async fn handle(state: AppState, headers: HeaderMap, kvp: Kvp) -> Response {
    let wms = service(&state).await;
    let service_url = format!("{}/wms", base_url(&state, &headers));
    let catalog = state.engine.snapshot();
    let config = state.config.clone();
    let reply = tokio::task::spawn_blocking(move || {
        wms.handle(
            &kvp,
            &Env {
                catalog: &catalog,
                config: &config,
                service_url: &service_url,
            },
        )
    })
    .await;
    match reply {
        Ok(r) => {
            let mut resp = (
                StatusCode::from_u16(r.status).unwrap_or(StatusCode::BAD_REQUEST),
                r.body,
            )
                .into_response();
            if let Ok(v) = HeaderValue::from_str(&r.content_type) {
                resp.headers_mut().insert(header::CONTENT_TYPE, v);
            }
            resp
        }
        Err(e) => super::ApiError::internal(e).into_response(),
    }
}

/// `GET /wms`
pub async fn get(State(s): State<AppState>, headers: HeaderMap, RawQuery(q): RawQuery) -> Response {
    let kvp = Kvp::parse(q.as_deref().unwrap_or(""));
    handle(s, headers, kvp).await
}
