//! Tile archives: PMTiles v3 (through the `pmtiles` crate) and MBTiles
//! (SQLite through `rusqlite`), written by `geoplan seed` and read back as
//! a tile source by the server.
//!
//! Tiles go in already encoded and gzipped; this module only stores and
//! fetches bytes. Writes go to a temporary file beside the target that is
//! renamed over it once the archive is complete, so a failed or interrupted
//! seed leaves no half-written archive behind.

use super::StoreError;
use std::path::{Path, PathBuf};

fn err(path: &Path, e: impl std::fmt::Display) -> StoreError {
    StoreError::Invalid(format!("{}: {e}", path.display()))
}

/// What an archive says about itself (TileJSON-like).
#[derive(Debug, Clone)]
pub struct ArchiveInfo {
    /// Lowest zoom.
    pub minzoom: u8,
    /// Highest zoom.
    pub maxzoom: u8,
    /// West, south, east, north in degrees.
    pub bounds: [f64; 4],
    /// The TileJSON `vector_layers` array, as JSON text.
    pub vector_layers: String,
    /// A name for people.
    pub name: String,
}

enum Sink {
    Pm(Box<pmtiles::PmTilesStreamWriter<std::io::BufWriter<std::fs::File>>>),
    Mb(rusqlite::Connection),
}

/// Writes an archive; the kind follows the extension (`.pmtiles`,
/// `.mbtiles`).
pub struct ArchiveWriter {
    sink: Option<Sink>,
    tmp: PathBuf,
    out: PathBuf,
    tiles: u64,
}

impl ArchiveWriter {
    /// Starts an archive at `out` (written to `out.tmp` until finished).
    pub fn create(out: &Path, info: &ArchiveInfo) -> Result<ArchiveWriter, StoreError> {
        let tmp = out.with_extension(format!(
            "{}.tmp",
            out.extension().and_then(|e| e.to_str()).unwrap_or("")
        ));
        let _ = std::fs::remove_file(&tmp);
        if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| err(out, e))?;
        }
        let sink = match out.extension().and_then(|e| e.to_str()) {
            Some("pmtiles") => {
                let f = std::fs::File::create(&tmp).map_err(|e| err(&tmp, e))?;
                let [w, s, e, n] = info.bounds;
                let meta = serde_json::json!({
                    "name": info.name,
                    "format": "pbf",
                    "vector_layers": serde_json::from_str::<serde_json::Value>(&info.vector_layers)
                        .unwrap_or_default(),
                });
                let w = pmtiles::PmTilesWriter::new(pmtiles::TileType::Mvt)
                    .precompressed(pmtiles::Compression::Gzip)
                    .internal_compression(pmtiles::Compression::Gzip)
                    .min_zoom(info.minzoom)
                    .max_zoom(info.maxzoom)
                    .bounds(w, s, e, n)
                    .center((w + e) / 2.0, (s + n) / 2.0)
                    .center_zoom(info.minzoom)
                    .metadata(meta.to_string())
                    .create(std::io::BufWriter::new(f))
                    .map_err(|e| err(&tmp, e))?;
                Sink::Pm(Box::new(w))
            }
            Some("mbtiles") => {
                let c = rusqlite::Connection::open(&tmp).map_err(|e| err(&tmp, e))?;
                c.execute_batch(
                    "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;
                     CREATE TABLE metadata (name TEXT, value TEXT);
                     CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, tile_data BLOB);
                     BEGIN;",
                )
                .map_err(|e| err(&tmp, e))?;
                let [w, s, e, n] = info.bounds;
                let json = format!("{{\"vector_layers\":{}}}", info.vector_layers);
                let rows = [
                    ("name", info.name.clone()),
                    ("format", "pbf".into()),
                    ("bounds", format!("{w},{s},{e},{n}")),
                    (
                        "center",
                        format!("{},{},{}", (w + e) / 2.0, (s + n) / 2.0, info.minzoom),
                    ),
                    ("minzoom", info.minzoom.to_string()),
                    ("maxzoom", info.maxzoom.to_string()),
                    ("json", json),
                ];
                for (k, v) in rows {
                    c.execute("INSERT INTO metadata VALUES (?1, ?2)", (k, v))
                        .map_err(|e| err(&tmp, e))?;
                }
                Sink::Mb(c)
            }
            _ => {
                return Err(StoreError::Invalid(format!(
                    "{}: the archive must end in .pmtiles or .mbtiles",
                    out.display()
                )))
            }
        };
        Ok(ArchiveWriter {
            sink: Some(sink),
            tmp,
            out: out.to_owned(),
            tiles: 0,
        })
    }

    /// Adds one gzipped MVT tile (XYZ addressing). Empty tiles are left
    /// out. For PMTiles, add tiles in increasing tile id (Hilbert) order.
    pub fn add(&mut self, z: u8, x: u32, y: u32, gzip: &[u8]) -> Result<(), StoreError> {
        if gzip.is_empty() {
            return Ok(());
        }
        match self.sink.as_mut() {
            Some(Sink::Pm(w)) => {
                let c = pmtiles::TileCoord::new(z, x, y).map_err(|e| err(&self.tmp, e))?;
                w.add_tile(c, gzip).map_err(|e| err(&self.tmp, e))?;
            }
            Some(Sink::Mb(c)) => {
                // MBTiles rows count from the south (TMS).
                let row = (1u64 << z) - 1 - u64::from(y);
                c.execute(
                    "INSERT INTO tiles VALUES (?1, ?2, ?3, ?4)",
                    (z, x, row as i64, gzip),
                )
                .map_err(|e| err(&self.tmp, e))?;
            }
            None => return Err(err(&self.tmp, "archive already finished")),
        }
        self.tiles += 1;
        Ok(())
    }

    /// Tiles written so far.
    pub fn tiles(&self) -> u64 {
        self.tiles
    }

    /// Completes the archive and moves it into place.
    pub fn finish(mut self) -> Result<PathBuf, StoreError> {
        match self.sink.take() {
            Some(Sink::Pm(w)) => w.finalize().map_err(|e| err(&self.tmp, e))?,
            Some(Sink::Mb(c)) => {
                c.execute_batch(
                    "CREATE UNIQUE INDEX tile_index ON tiles (zoom_level, tile_column, tile_row);
                     COMMIT;",
                )
                .map_err(|e| err(&self.tmp, e))?;
                c.close().map_err(|(_, e)| err(&self.tmp, e))?;
            }
            None => {}
        }
        std::fs::rename(&self.tmp, &self.out).map_err(|e| err(&self.out, e))?;
        Ok(self.out.clone())
    }
}

impl Drop for ArchiveWriter {
    fn drop(&mut self) {
        // Not finished: leave nothing behind.
        if self.sink.is_some() {
            self.sink = None;
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// A PMTiles archive served as a tile source.
pub struct PmTilesSource {
    reader: pmtiles::AsyncPmTilesReader<pmtiles::MmapBackend>,
    /// What the archive says about itself.
    pub info: ArchiveInfo,
}

impl PmTilesSource {
    /// Opens (memory-maps) an archive of gzipped MVT tiles.
    pub async fn open(path: &Path) -> Result<PmTilesSource, StoreError> {
        let reader = pmtiles::AsyncPmTilesReader::new_with_path(path)
            .await
            .map_err(|e| err(path, e))?;
        let h = reader.get_header();
        if h.tile_type != pmtiles::TileType::Mvt {
            return Err(err(path, "not an archive of vector tiles"));
        }
        if h.tile_compression != pmtiles::Compression::Gzip {
            return Err(err(path, "only gzip-compressed tiles are served"));
        }
        let meta: serde_json::Value = reader
            .get_metadata()
            .await
            .ok()
            .and_then(|m| serde_json::from_str(&m).ok())
            .unwrap_or_default();
        let info = ArchiveInfo {
            minzoom: h.min_zoom,
            maxzoom: h.max_zoom,
            bounds: [
                h.min_longitude,
                h.min_latitude,
                h.max_longitude,
                h.max_latitude,
            ],
            vector_layers: meta
                .get("vector_layers")
                .cloned()
                .unwrap_or_else(|| serde_json::json!([]))
                .to_string(),
            name: meta
                .get("name")
                .and_then(|n| n.as_str())
                .unwrap_or("")
                .to_owned(),
        };
        Ok(PmTilesSource { reader, info })
    }

    /// The gzipped tile at z/x/y, if the archive has it.
    pub async fn tile(&self, z: u8, x: u32, y: u32) -> Result<Option<bytes::Bytes>, StoreError> {
        let c = pmtiles::TileCoord::new(z, x, y).map_err(|e| StoreError::Invalid(e.to_string()))?;
        self.reader
            .get_tile(c)
            .await
            .map_err(|e| StoreError::Invalid(e.to_string()))
    }
}

/// The PMTiles tile id of z/x/y (a Hilbert curve per zoom): the order in
/// which an archive is best written.
pub fn tile_order(z: u8, x: u32, y: u32) -> u64 {
    pmtiles::TileCoord::new(z, x, y)
        .map(|c| u64::from(pmtiles::TileId::from(c)))
        .unwrap_or(u64::MAX)
}
