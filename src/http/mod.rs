//! The HTTP face: the axum router, parameter parsing and validation, and
//! the mapping of errors to problem details. Handlers read an engine
//! snapshot and do their CPU work on the blocking pool; they never touch
//! the store except for `/ready`.

pub mod access;
pub mod api;
pub mod audit;
pub mod auth;
pub mod body;
pub mod check;
pub mod commit;
pub mod error;
pub mod export;
pub mod features;
pub mod gate;
pub mod geojson;
pub mod import;
pub mod metrics;
pub mod ogcapi;
pub mod ows;
pub mod parcels;
pub mod planning_info;
pub mod projects;
pub mod search;
pub mod sheet;
pub mod site_file;
pub mod sites;
pub mod state;
pub mod stats;
pub mod tiles;
pub mod web;
pub mod wfs;
pub mod wms;

use crate::crs::Crs;
use crate::engine::Layer;
use crate::model::access::{Access, Role};
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
pub use commit::CommitError;
pub use error::ApiError;
// Moved to `features` (shared with OGC API – Features); reachable here as before.
pub(crate) use features::{base_url, extent_crs84, features_request, find_layer};
use serde_json::json;
pub use state::{AppState, DataState, TileState, WebState};
use std::time::Duration;

/// The npm packages the map page loads, served at `/vendor/{name}/` from
/// `web/node_modules/{name}/dist/`.
pub const VENDOR: &[&str] = &[
    "maplibre-gl",
    "terra-draw",
    "terra-draw-maplibre-gl-adapter",
    "proj4",
];

/// The application router.
pub fn app(state: AppState) -> Router {
    let limits = &state.data.config.limits;
    // Heavy requests, each kind capped (a short wait, then 503 past the
    // cap, see gate.rs).
    let wait = Duration::from_millis(limits.heavy_wait_ms);
    let cap = |what, key, max, speaks| {
        axum::middleware::from_fn_with_state(
            gate::Gate::new(what, key, max, wait, speaks),
            gate::admit,
        )
    };
    let wfs = cap(
        "WFS and OWS requests",
        "max_concurrent_wfs",
        limits.max_concurrent_wfs,
        gate::Speaks::Wfs,
    );
    let wms = cap(
        "WMS requests",
        "max_concurrent_wms",
        limits.max_concurrent_wms,
        gate::Speaks::Wms,
    );
    let pdf = cap(
        "sheets and check reports",
        "max_concurrent_pdf",
        limits.max_concurrent_pdf,
        gate::Speaks::Json,
    );
    let import = cap(
        "imports",
        "max_concurrent_imports",
        limits.max_concurrent_imports,
        gate::Speaks::Json,
    );
    // Bodies (not the import's upload) must arrive in time (see body.rs);
    // inside each route's body limit.
    let body_timeout = axum::middleware::from_fn_with_state(
        Duration::from_secs(limits.body_read_timeout_secs.max(1)),
        body::read_within,
    );
    // What never shows attributes and must stay lean: tiles, the map page
    // and its files, probes. It skips the audit layer.
    let mut lean = Router::new();
    // The page's npm packages, each from its `dist/` (no CDN).
    for pkg in VENDOR {
        lean = lean.nest_service(
            &format!("/vendor/{pkg}"),
            tower_http::services::ServeDir::new(
                state
                    .data
                    .config
                    .web
                    .dir
                    .join(format!("node_modules/{pkg}/dist")),
            ),
        );
    }
    let lean = lean
        .route("/health", get(health))
        .route("/ready", get(ready))
        .route("/metrics", get(metrics::get))
        .route("/tiles/{name}", get(tiles::tilejson))
        .route("/tiles/{layers}/{z}/{x}/{y}", get(tiles::tile))
        .route("/styles/{file}", get(web::style))
        .route("/fonts/{stack}/{file}", get(web::glyphs))
        .route_service(
            "/",
            tower_http::services::ServeFile::new(state.data.config.web.dir.join("index.html")),
        )
        .nest_service(
            "/static",
            tower_http::services::ServeDir::new(state.data.config.web.dir.join("static")),
        )
        .layer(timeout(limits.request_timeout_secs))
        .layer(body_limit(limits.max_body_bytes));
    let router = Router::new()
        .route("/layers", get(layers))
        .route("/audit", get(audit::get))
        .route("/api", get(api::get))
        .route("/parcels", get(parcels::get))
        .route(
            "/planning",
            get(planning_info::get).post(planning_info::post),
        )
        .route("/planning/check", post(check::post))
        .route("/planning/check/{id}", get(check::get).layer(pdf.clone()))
        .route("/planning/site-file", post(site_file::post))
        .route("/stats/landuse", get(stats::landuse_stats))
        .route("/stats/projects", get(stats::project_stats))
        .route("/search", get(search::get))
        .route("/projects", get(projects::get_list).post(projects::create))
        .route(
            "/projects/{id}",
            get(projects::get_one).patch(projects::patch),
        )
        .route("/projects/{id}/history", get(projects::get_history))
        .route(
            "/projects/{id}/transitions",
            post(projects::post_transition),
        )
        .route("/planning/sheet", get(sheet::get).layer(pdf))
        .route("/planning/sheet/verify/{code}", get(sheet::verify))
        .route("/layers/{id}", get(layer_info))
        .route("/layers/{id}/features/{fid}", get(feature))
        .route("/ogcapi", get(ogcapi::landing))
        .route("/ogcapi/", get(ogcapi::landing))
        .route("/ogcapi/api", get(ogcapi::api))
        .route("/ogcapi/conformance", get(ogcapi::conformance))
        .route("/ogcapi/collections", get(ogcapi::collections))
        .route("/ogcapi/collections/{id}", get(ogcapi::collection))
        .route(
            "/ogcapi/collections/{id}/queryables",
            get(ogcapi::queryables),
        )
        .route("/ogcapi/collections/{id}/items/{fid}", get(ogcapi::item))
        .route("/wms", get(wms::get).layer(wms))
        .fallback(|| async { ApiError::not_found("no such endpoint; see /layers") })
        .layer(body_timeout.clone())
        .layer(timeout(limits.request_timeout_secs))
        .layer(body_limit(limits.max_body_bytes));
    // Routes that may answer a file (or a long stream) get the download
    // timeout; only the import takes a large body, streamed to disk.
    let downloads = Router::new()
        .route("/layers/{id}/features", get(features))
        .route("/ogcapi/collections/{id}/items", get(ogcapi::items))
        .route("/sites", get(sites::get))
        .route("/wfs", get(wfs::get).post(wfs::post).layer(wfs.clone()))
        .route("/ows", get(ows::get).post(ows::post).layer(wfs))
        .layer(body_timeout)
        .layer(timeout(limits.download_timeout_secs))
        .layer(body_limit(limits.max_body_bytes));
    // The import reads its form as it arrives (to disk): the form reader
    // answers an upload past the limit with a problem naming it.
    let upload = Router::new()
        .route("/import", post(import::post).layer(import))
        .layer(timeout(limits.download_timeout_secs))
        .layer(axum::extract::DefaultBodyLimit::max(
            limits.max_upload_bytes,
        ));
    router
        .merge(downloads)
        .merge(upload)
        .layer(axum::middleware::from_fn_with_state(
            state.data.clone(),
            audit::record,
        ))
        .merge(lean)
        .layer(tower_http::compression::CompressionLayer::new())
        .layer(tower_http::cors::CorsLayer::permissive())
        .layer(access::trace_layer())
        .layer(axum::middleware::from_fn(metrics::track))
        // Outermost: the id is set before the span is made, and answered.
        .layer(tower_http::request_id::PropagateRequestIdLayer::x_request_id())
        .layer(tower_http::request_id::SetRequestIdLayer::x_request_id(
            access::Ids,
        ))
        .with_state(state)
}

/// A request's time limit: 408 once it passes.
fn timeout(secs: u64) -> tower_http::timeout::TimeoutLayer {
    tower_http::timeout::TimeoutLayer::with_status_code(
        axum::http::StatusCode::REQUEST_TIMEOUT,
        Duration::from_secs(secs),
    )
}

/// A body limit, both for the bytes that arrive (413 past `max`) and for
/// axum's extractors, whose own default (2 MB) would otherwise govern.
fn body_limit(
    max: usize,
) -> tower::layer::util::Stack<
    tower_http::limit::RequestBodyLimitLayer,
    axum::extract::DefaultBodyLimit,
> {
    tower::layer::util::Stack::new(
        tower_http::limit::RequestBodyLimitLayer::new(max),
        axum::extract::DefaultBodyLimit::max(max),
    )
}

async fn health() -> Json<serde_json::Value> {
    Json(json!({"status": "ok"}))
}

async fn ready(State(s): State<DataState>) -> Result<Json<serde_json::Value>, ApiError> {
    if !s.is_loaded() {
        return Err(ApiError::unavailable("layers are still loading"));
    }
    s.store
        .ping()
        .await
        .map_err(|e| ApiError::unavailable(format!("store unreachable: {e}")))?;
    let cat = s.engine.snapshot();
    Ok(Json(json!({
        "status": "ready",
        "store": s.store.describe(),
        "layers": cat.len(),
        "version": cat.version,
    })))
}

fn layer_json(base: &str, l: &Layer, role: Role) -> serde_json::Value {
    let fields: Vec<_> = l
        .fields_for(role)
        .into_iter()
        .map(|i| {
            let f = &l.fields()[i];
            json!({"name": f.name, "type": f.ty.json_type(), "format": f.ty})
        })
        .collect();
    json!({
        "id": l.id,
        "title": l.meta.title,
        "description": l.meta.description,
        "geometry_type": l.geometry_type().name(),
        "feature_count": l.len(),
        "extent": {"crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84", "bbox": extent_crs84(l)},
        "storage_crs": Crs::Epsg(l.source_srid).uri(),
        "fields": fields,
        "links": [
            {"rel": "items", "type": "application/geo+json", "href": format!("{base}/layers/{}/features", l.id)},
        ],
    })
}

async fn layers(
    State(s): State<DataState>,
    access: Access,
    headers: HeaderMap,
) -> Json<serde_json::Value> {
    let cat = s.engine.snapshot();
    let base = base_url(&s, &headers);
    let ls: Vec<_> = cat
        .layers()
        .map(|l| layer_json(&base, l, access.role()))
        .collect();
    Json(json!({ "layers": ls }))
}

async fn layer_info(
    State(s): State<DataState>,
    Path(id): Path<String>,
    access: Access,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, ApiError> {
    let cat = s.engine.snapshot();
    let l = find_layer(&cat, &id)?;
    Ok(Json(layer_json(&base_url(&s, &headers), &l, access.role())))
}

async fn features(
    State(s): State<DataState>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
    access: Access,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let cat = s.engine.snapshot();
    let l = find_layer(&cat, &id)?;
    let req = features_request(
        &s,
        &l,
        raw.as_deref(),
        features::Api::Layers,
        &headers,
        access,
    )?;
    let base = format!("{}/layers/{}/features", base_url(&s, &headers), l.id);
    features::collection_response(l, req, base, false).await
}

async fn feature(
    State(s): State<DataState>,
    Path((id, fid)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    access: Access,
) -> Result<Response, ApiError> {
    let cat = s.engine.snapshot();
    let l = find_layer(&cat, &id)?;
    features::feature_response(&l, &fid, raw.as_deref(), None, &access)
}
