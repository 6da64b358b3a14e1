//! `geoplan seed`: renders every tile of some layers over a zoom range and
//! a bounding box into a PMTiles or MBTiles archive, in parallel on all
//! cores (rayon), with the same renderer the server uses.
//!
//! Tiles are rendered in chunks in archive order (PMTiles tile ids, a
//! Hilbert curve per zoom), so the writer streams them to disk in order.

use crate::config::Config;
use crate::crs::{self, Crs, WEB_MERCATOR};
use crate::engine::{Layer, LayerMeta};
use crate::store::archive::{ArchiveInfo, ArchiveWriter};
use crate::store::{Store, StoreError};
use crate::tiles::cache::Tile;
use crate::tiles::{self, TileCoord, TileOptions};
use geo_types::{Coord, Rect};
use rayon::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What to seed.
#[derive(Debug, Clone)]
pub struct SeedRequest {
    /// Layer ids, in the order of the MVT layers.
    pub layers: Vec<String>,
    /// First zoom.
    pub minzoom: u8,
    /// Last zoom.
    pub maxzoom: u8,
    /// West, south, east, north (degrees); the layers' extent when absent.
    pub bbox: Option<[f64; 4]>,
    /// `.pmtiles` or `.mbtiles`.
    pub out: PathBuf,
}

/// What a seed wrote.
#[derive(Debug, Clone)]
pub struct SeedReport {
    /// Tiles visited.
    pub visited: u64,
    /// Non-empty tiles written.
    pub written: u64,
    /// The largest tile (uncompressed MVT bytes) and where it is.
    pub largest: (usize, TileCoord),
    /// The archive.
    pub path: PathBuf,
}

fn invalid(msg: impl Into<String>) -> StoreError {
    StoreError::Invalid(msg.into())
}

/// Tiles of zoom `z` over a Web Mercator rectangle, in archive order.
fn tiles_of(z: u8, r: &Rect<f64>) -> Vec<TileCoord> {
    let (xs, ys) = TileCoord::range(z, r);
    let mut v: Vec<TileCoord> = xs
        .flat_map(|x| ys.clone().map(move |y| TileCoord { z, x, y }))
        .collect();
    v.sort_by_key(|c| crate::store::archive::tile_order(c.z, c.x, c.y));
    v
}

/// Loads the layers, renders and writes the archive. `progress(done,
/// total)` is called as tiles complete.
pub async fn seed(
    store: &Store,
    config: &Config,
    req: &SeedRequest,
    progress: &(dyn Fn(u64, u64) + Sync),
) -> Result<SeedReport, StoreError> {
    if req.minzoom > req.maxzoom || req.maxzoom > config.tiles.max_zoom {
        return Err(invalid(format!(
            "zooms {}..{} must be ascending and at most {}",
            req.minzoom, req.maxzoom, config.tiles.max_zoom
        )));
    }
    if req.layers.is_empty() {
        return Err(invalid("no layers to seed"));
    }
    let known = store.layer_names().await?;
    let mut layers = Vec::new();
    for id in &req.layers {
        if !known.contains(id) {
            return Err(StoreError::UnknownLayer(id.clone()));
        }
        let data = store.read_layer(id).await?;
        let meta = LayerMeta::from_config(id, config);
        let l = crate::blocking::spawn(move || Layer::new(data, meta))
            .await
            .map_err(|e| invalid(e.to_string()))?
            .map_err(|e| invalid(e.to_string()))?;
        layers.push(Arc::new(l));
    }
    // The area: the given box, else the layers' extent (Web Mercator).
    let area = match req.bbox {
        Some([w, s, e, n]) => {
            if !(w < e && s < n && w >= -180.0 && e <= 180.0 && s >= -85.06 && n <= 85.06) {
                return Err(invalid(format!(
                    "bbox {w},{s},{e},{n} must be west,south,east,north in degrees"
                )));
            }
            let (lo, hi) = crs::transform_bbox(
                Crs::Crs84,
                WEB_MERCATOR,
                Coord { x: w, y: s },
                Coord { x: e, y: n },
            )
            .map_err(|e| invalid(e.to_string()))?;
            Rect::new(lo, hi)
        }
        None => layers
            .iter()
            .filter_map(|l| l.extent())
            .reduce(crate::model::union_rect)
            .ok_or_else(|| invalid("the layers are empty"))?,
    };
    let lo = crs::mercator_to_lonlat(area.min());
    let hi = crs::mercator_to_lonlat(area.max());
    let vector_layers: Vec<serde_json::Value> = layers
        .iter()
        .map(|l| {
            crate::tiles::vector_layer(
                l,
                l.meta.minzoom.max(req.minzoom),
                l.meta.maxzoom.min(req.maxzoom),
            )
        })
        .collect();
    let info = ArchiveInfo {
        minzoom: req.minzoom,
        maxzoom: req.maxzoom,
        bounds: [lo.x, lo.y, hi.x, hi.y],
        vector_layers: serde_json::Value::Array(vector_layers).to_string(),
        name: req.layers.join(","),
    };
    let total: u64 = (req.minzoom..=req.maxzoom)
        .map(|z| {
            let (xs, ys) = TileCoord::range(z, &area);
            (xs.count() * ys.count()) as u64
        })
        .sum();
    let opts = TileOptions {
        extent: 4096,
        buffer: config.tiles.buffer,
    };
    let out = req.out.clone();
    let (minz, maxz) = (req.minzoom, req.maxzoom);
    tokio::task::block_in_place(|| {
        let mut w = ArchiveWriter::create(&out, &info)?;
        let mut done = 0u64;
        let mut largest = (0usize, TileCoord { z: 0, x: 0, y: 0 });
        for z in minz..=maxz {
            for chunk in tiles_of(z, &area).chunks(512) {
                let rendered: Vec<(TileCoord, usize, Tile)> = chunk
                    .par_iter()
                    .map(|c| {
                        let (raw, n) = tiles::render(&layers, *c, &opts);
                        let len = raw.len();
                        (*c, len, Tile::new(raw, n))
                    })
                    .collect();
                for (c, len, t) in rendered {
                    if len > largest.0 {
                        largest = (len, c);
                    }
                    w.add(c.z, c.x, c.y, &t.gzip)?;
                }
                done += chunk.len() as u64;
                progress(done, total);
            }
        }
        let written = w.tiles();
        let path = w.finish()?;
        Ok(SeedReport {
            visited: done,
            written,
            largest,
            path,
        })
    })
}

/// True when `p` names an archive this server can write.
pub fn is_archive(p: &Path) -> bool {
    matches!(
        p.extension().and_then(|e| e.to_str()),
        Some("pmtiles" | "mbtiles")
    )
}
