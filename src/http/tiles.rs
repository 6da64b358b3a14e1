//! Tile endpoints: `/tiles/{layers}/{z}/{x}/{y}.mvt` (or `.pbf`) and
//! TileJSON 3.0 at `/tiles/{layers}.json`. Rendering runs on the blocking
//! pool; cached tiles are answered without leaving the async handler.
//!
//! An empty tile (no feature of the requested layers) is `204 No Content`,
//! which MapLibre, OpenLayers, QGIS and GDAL all treat as empty.

use super::metrics::{self, TileSource};
use super::{base_url, find_layer, ApiError, DataState, TileState};
use crate::engine::Layer;
use crate::tiles::cache::{Tile, TileKey};
use crate::tiles::{self, TileCoord, TileOptions};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use std::sync::Arc;

/// MVT media type.
const MVT: &str = "application/vnd.mapbox-vector-tile";

/// Splits and checks a comma list of layer ids (at most 32, none empty).
pub fn layer_ids(list: &str) -> Result<Vec<&str>, ApiError> {
    let ids: Vec<&str> = list.split(',').collect();
    if ids.iter().any(|i| i.is_empty()) {
        return Err(ApiError::bad_request(format!(
            "'{list}' is not a comma list of layer ids"
        )));
    }
    if ids.len() > 32 {
        return Err(ApiError::bad_request(format!(
            "{} layers in one tile request exceed the limit of 32",
            ids.len()
        )));
    }
    Ok(ids)
}

/// Looks up a checked list of layer ids in the current catalog.
fn layers_of(s: &DataState, ids: &[&str]) -> Result<Vec<Arc<Layer>>, ApiError> {
    let cat = s.engine.snapshot();
    ids.iter()
        .map(|id| {
            find_layer(&cat, id)
                .map_err(|_| ApiError::bad_request(format!("unknown layer '{id}'; see /layers")))
        })
        .collect()
}

fn number(what: &str, v: &str) -> Result<u32, ApiError> {
    v.parse()
        .map_err(|_| ApiError::bad_request(format!("tile {what} '{v}' is not a whole number")))
}

/// Parses the segments of `/tiles/{layers}/{z}/{x}/{y}.mvt` (or `.pbf`):
/// the layer ids and a tile address checked against `max_zoom`. Pure: the
/// layers are looked up by the caller.
pub fn parse_tile_path<'a>(
    list: &'a str,
    z: &str,
    x: &str,
    file: &str,
    max_zoom: u8,
) -> Result<(Vec<&'a str>, TileCoord), ApiError> {
    let y = file
        .strip_suffix(".mvt")
        .or_else(|| file.strip_suffix(".pbf"))
        .ok_or_else(|| {
            ApiError::bad_request(format!(
                "'{file}': tiles are addressed as {{y}}.mvt or {{y}}.pbf"
            ))
        })?;
    let coord = TileCoord::new(
        number("zoom", z)?,
        number("column", x)?,
        number("row", y)?,
        max_zoom,
    )
    .map_err(|e| ApiError::bad_request(e.to_string()))?;
    Ok((layer_ids(list)?, coord))
}

fn accepts_gzip(h: &HeaderMap) -> bool {
    h.get_all(header::ACCEPT_ENCODING).iter().any(|v| {
        v.to_str().is_ok_and(|s| {
            s.split(',').any(|e| {
                let mut it = e.trim().split(';');
                let name = it.next().unwrap_or("").trim();
                let q0 = it.any(|p| {
                    p.trim()
                        .strip_prefix("q=")
                        .and_then(|q| q.trim().parse::<f32>().ok())
                        == Some(0.0)
                });
                (name == "gzip" || name == "*") && !q0
            })
        })
    })
}

/// `GET /tiles/{layers}/{z}/{x}/{y}.mvt`
pub async fn tile(
    State(s): State<DataState>,
    State(ts): State<TileState>,
    Path((list, z, x, file)): Path<(String, String, String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let cfg = &s.config.tiles;
    let (ids, coord) = parse_tile_path(&list, &z, &x, &file, cfg.max_zoom)?;
    if let Some(a) = ts.archives.load().get(&list).cloned() {
        let gz = a
            .tile(coord.z, coord.x, coord.y)
            .await
            .map_err(ApiError::internal)?;
        let t = Tile::from_gzip(gz.map(|b| b.to_vec()).unwrap_or_default());
        metrics::tile(TileSource::Archive);
        return Ok(answer(&t, &headers, cfg.max_age));
    }
    let key = TileKey {
        layers: list.as_str().into(),
        coord,
    };
    // Generation first, snapshot second (see tiles::cache).
    let gen = ts.cache.generation();
    let layers = layers_of(&s, &ids)?;
    let t = match ts.cache.get(&key) {
        Some(t) => {
            metrics::tile(TileSource::Memory);
            t
        }
        None => {
            let disk = ts.disk.load_full();
            let on_disk = match &disk {
                Some(d) => {
                    let (d, l) = (d.clone(), list.clone());
                    crate::blocking::spawn(move || d.get(&l, coord.z, coord.x, coord.y))
                        .await?
                        .map(Tile::from_gzip)
                }
                None => None,
            };
            match on_disk {
                Some(t) => {
                    metrics::tile(TileSource::Disk);
                    ts.cache.insert(key, t.clone(), gen);
                    t
                }
                None => {
                    let opts = TileOptions {
                        extent: 4096,
                        buffer: cfg.buffer,
                    };
                    let t = crate::blocking::spawn(move || {
                        let (raw, n) = tiles::render(&layers, coord, &opts);
                        Tile::new(raw, n)
                    })
                    .await?;
                    metrics::tile(TileSource::Rendered {
                        bytes: t.gzip.len(),
                    });
                    ts.cache.insert(key, t.clone(), gen);
                    if let Some(d) = disk {
                        // Written in the background; dropped again if an
                        // edit invalidated tiles meanwhile.
                        let (tiles, gz) = (ts.cache.clone(), t.gzip.clone());
                        crate::blocking::spawn(move || {
                            let (z, x, y) = (coord.z, coord.x, coord.y);
                            if d.put(&list, z, x, y, &gz).is_ok() && tiles.generation() != gen {
                                d.remove(&list, z, x, y);
                            }
                        });
                    }
                    t
                }
            }
        }
    };
    Ok(answer(&t, &headers, cfg.max_age))
}

/// The response for a tile: 204 when empty, 304 when the client's ETag
/// matches, else the body (gzipped when accepted).
fn answer(t: &Tile, headers: &HeaderMap, max_age: u32) -> Response {
    let cache_control = format!("public, max-age={max_age}");
    if t.raw.is_empty() {
        return (
            StatusCode::NO_CONTENT,
            [(header::CACHE_CONTROL, cache_control)],
        )
            .into_response();
    }
    let mut common = HeaderMap::new();
    if let Ok(etag) = HeaderValue::from_str(&t.etag) {
        common.insert(header::ETAG, etag);
    }
    if let Ok(cc) = HeaderValue::from_str(&cache_control) {
        common.insert(header::CACHE_CONTROL, cc);
    }
    common.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    let fresh = headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| {
            v.split(',')
                .any(|e| e.trim() == &*t.etag || e.trim() == "*")
        });
    if fresh {
        return (StatusCode::NOT_MODIFIED, common).into_response();
    }
    common.insert(header::CONTENT_TYPE, HeaderValue::from_static(MVT));
    if accepts_gzip(headers) {
        common.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        (common, t.gzip.clone()).into_response()
    } else {
        (common, t.raw.clone()).into_response()
    }
}

/// `GET /tiles/{layers}.json`: TileJSON 3.0.
pub async fn tilejson(
    State(s): State<DataState>,
    State(ts): State<TileState>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let list = name.strip_suffix(".json").ok_or_else(|| {
        ApiError::not_found(format!(
            "no such endpoint /tiles/{name}; TileJSON is at /tiles/{{layers}}.json"
        ))
    })?;
    let base = base_url(&s, &headers);
    if let Some(a) = ts.archives.load().get(list) {
        let i = &a.info;
        let b = i.bounds;
        let body = json!({
            "tilejson": "3.0.0",
            "name": list,
            "description": i.name,
            "scheme": "xyz",
            "tiles": [format!("{base}/tiles/{list}/{{z}}/{{x}}/{{y}}.mvt")],
            "minzoom": i.minzoom,
            "maxzoom": i.maxzoom,
            "bounds": b,
            "center": [(b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0, i.minzoom],
            "vector_layers": serde_json::from_str::<serde_json::Value>(&i.vector_layers).unwrap_or_default(),
        });
        return Ok((
            [(header::CONTENT_TYPE, "application/json")],
            body.to_string(),
        )
            .into_response());
    }
    let layers = layers_of(&s, &layer_ids(list)?)?;
    let cfg = &s.config.tiles;
    let minzoom = layers.iter().map(|l| l.meta.minzoom).min().unwrap_or(0);
    let maxzoom = layers
        .iter()
        .map(|l| l.meta.maxzoom)
        .max()
        .unwrap_or(cfg.max_zoom)
        .min(cfg.max_zoom);
    let mut bounds: Option<[f64; 4]> = None;
    for l in &layers {
        if let Some(e) = super::extent_crs84(l) {
            bounds = Some(match bounds {
                None => e,
                Some(b) => [
                    b[0].min(e[0]),
                    b[1].min(e[1]),
                    b[2].max(e[2]),
                    b[3].max(e[3]),
                ],
            });
        }
    }
    let b = bounds.unwrap_or([-180.0, -85.051_128_78, 180.0, 85.051_128_78]);
    let vector_layers: Vec<_> = layers
        .iter()
        .map(|l| crate::tiles::vector_layer(l, l.meta.minzoom, l.meta.maxzoom.min(cfg.max_zoom)))
        .collect();
    let body = json!({
        "tilejson": "3.0.0",
        "name": list,
        "description": layers.iter().map(|l| l.meta.title.as_str()).collect::<Vec<_>>().join(", "),
        "scheme": "xyz",
        "tiles": [format!("{base}/tiles/{list}/{{z}}/{{x}}/{{y}}.mvt")],
        "minzoom": minzoom,
        "maxzoom": maxzoom,
        "bounds": b,
        "center": [(b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0, minzoom.max(10)],
        "attribution": "geoplan — dữ liệu tổng hợp (synthetic) / Natural Earth",
        "vector_layers": vector_layers,
    });
    Ok((
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response())
}
