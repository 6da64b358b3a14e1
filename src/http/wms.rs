//! `GET /wms`: WMS 1.3.0 and 1.1.1. Parameters are parsed into a
//! case-insensitive [`Kvp`]; the whole request (capabilities, rendering,
//! feature info) runs on the blocking pool over one engine snapshot.
//!
//! The renderer (compiled `planning` style and label fonts) is built once
//! per server state, on first use, kept in its [`WebState`] and shared by
//! every request.

use super::{base_url, DataState, WebState};
use crate::config::Config;
use crate::model::access::Access;
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
use std::path::Path;
use std::sync::Arc;

/// Name of the style (in `web.styles_dir`) maps are drawn with.
pub const STYLE_NAME: &str = "planning";

fn build(styles: &HashMap<String, serde_json::Value>, fonts_dir: &Path) -> Wms {
    let style = match styles.get(STYLE_NAME).map(Style::compile) {
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
    let fonts = Fonts::load(fonts_dir);
    if fonts.is_empty() {
        tracing::warn!(
            "WMS: no fonts in {}; maps carry no labels",
            fonts_dir.display()
        );
    }
    Wms::new(Renderer::new(style, fonts))
}

/// The WMS of a server state (built on first use, off the runtime).
pub async fn service(web: &WebState, config: &Config) -> Arc<Wms> {
    web.wms
        .get_or_init(|| async {
            let (styles, dir) = (web.styles.clone(), config.web.fonts_dir.clone());
            match crate::blocking::spawn(move || build(&styles, &dir)).await {
                Ok(w) => Arc::new(w),
                Err(_) => Arc::new(Wms::new(Renderer::new(
                    Style::default(),
                    Fonts::load(Path::new("")),
                ))),
            }
        })
        .await
        .clone()
}

/// Answers a WMS request given as KVP (the combined `/ows` endpoint calls
/// this for `SERVICE=WMS`).
/// `access` says which fields GetFeatureInfo shows.
pub async fn handle(
    data: DataState,
    web: WebState,
    headers: HeaderMap,
    kvp: Kvp,
    access: Access,
) -> Response {
    let wms = service(&web, &data.config).await;
    let service_url = format!("{}/wms", base_url(&data, &headers));
    let catalog = data.engine.snapshot();
    let config = data.config.clone();
    let reply = crate::blocking::spawn(move || {
        wms.handle(
            &kvp,
            &Env {
                catalog: &catalog,
                config: &config,
                service_url: &service_url,
                access: &access,
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
pub async fn get(
    State(data): State<DataState>,
    State(web): State<WebState>,
    access: Access,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    let kvp = Kvp::parse(q.as_deref().unwrap_or(""));
    handle(data, web, headers, kvp, access).await
}
