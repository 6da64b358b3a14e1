//! The in-memory tile cache: bounded in bytes, keyed by layer list and
//! tile, holding each tile raw and gzipped with its ETag.
//!
//! Invalidation is by extent: when features change, only the cached tiles
//! whose buffered extent touches the changed features' old or new
//! envelopes are dropped. Every instance follows PostGIS `NOTIFY` itself,
//! so every instance's cache stays coherent. A generation counter, checked
//! under the same lock that invalidation takes, keeps a tile rendered from
//! a snapshot older than an invalidation from entering the cache after it.

use super::invalidate::touches;
use super::TileCoord;
use geo_types::Rect;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

/// A cache key: the comma list of layers and the tile.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TileKey {
    /// Layer ids, comma-separated, as requested.
    pub layers: Arc<str>,
    /// The tile.
    pub coord: TileCoord,
}

impl TileKey {
    fn has_layer(&self, id: &str) -> bool {
        self.layers.split(',').any(|l| l == id)
    }
}

/// An encoded tile.
#[derive(Debug, Clone)]
pub struct Tile {
    /// MVT bytes (empty for an empty tile).
    pub raw: bytes::Bytes,
    /// The same, gzipped.
    pub gzip: bytes::Bytes,
    /// Strong ETag derived from the content (CRC-32 and length).
    pub etag: Arc<str>,
    /// Number of features.
    pub features: usize,
}

impl Tile {
    /// Encodes the gzip form and the ETag of an MVT body.
    pub fn new(raw: Vec<u8>, features: usize) -> Tile {
        use std::io::Write;
        let mut crc = flate2::Crc::new();
        crc.update(&raw);
        let etag: Arc<str> = format!("\"{:08x}-{:x}\"", crc.sum(), raw.len()).into();
        let gzip = if raw.is_empty() {
            Vec::new()
        } else {
            let mut e = flate2::write::GzEncoder::new(
                Vec::with_capacity(raw.len() / 3),
                flate2::Compression::fast(),
            );
            // Writing to a Vec cannot fail.
            let _ = e.write_all(&raw);
            e.finish().unwrap_or_default()
        };
        Tile {
            raw: raw.into(),
            gzip: gzip.into(),
            etag,
            features,
        }
    }

    /// A tile from its gzipped form (as a disk cache or archive keeps it).
    pub fn from_gzip(gzip: Vec<u8>) -> Tile {
        use std::io::Read;
        let mut raw = Vec::new();
        if !gzip.is_empty()
            && flate2::read::GzDecoder::new(&gzip[..])
                .read_to_end(&mut raw)
                .is_err()
        {
            raw.clear();
        }
        let mut t = Tile::new(Vec::new(), 0);
        let mut crc = flate2::Crc::new();
        crc.update(&raw);
        t.etag = format!("\"{:08x}-{:x}\"", crc.sum(), raw.len()).into();
        t.raw = raw.into();
        t.gzip = gzip.into();
        t
    }

    fn weight(&self) -> u64 {
        (self.raw.len() + self.gzip.len() + 128) as u64
    }
}

#[derive(Clone)]
struct Weigh;

impl quick_cache::Weighter<TileKey, Tile> for Weigh {
    fn weight(&self, _: &TileKey, t: &Tile) -> u64 {
        t.weight()
    }
}

/// The tile cache; a capacity of 0 turns it off.
pub struct TileCache {
    inner: Option<quick_cache::sync::Cache<TileKey, Tile, Weigh>>,
    generation: AtomicU64,
    lock: RwLock<()>,
    /// Tile extent and buffer, to widen a tile to what it shows.
    buffer_ratio: f64,
}

impl TileCache {
    /// A cache of at most `bytes` bytes of tiles; `buffer_ratio` is the
    /// tile buffer over the tile extent (64 / 4096).
    pub fn new(bytes: u64, buffer_ratio: f64) -> TileCache {
        TileCache {
            inner: (bytes > 0).then(|| quick_cache::sync::Cache::with_weighter(1024, bytes, Weigh)),
            generation: AtomicU64::new(0),
            lock: RwLock::new(()),
            buffer_ratio,
        }
    }

    /// The generation to pass to [`TileCache::insert`] for a tile about to
    /// be rendered. Read it before taking the engine snapshot.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// A cached tile.
    pub fn get(&self, k: &TileKey) -> Option<Tile> {
        self.inner.as_ref()?.get(k)
    }

    /// Caches a tile rendered at generation `gen`, unless an invalidation
    /// happened since.
    pub fn insert(&self, k: TileKey, t: Tile, gen: u64) {
        let Some(c) = &self.inner else { return };
        let _g = self.lock.read().unwrap_or_else(|e| e.into_inner());
        if self.generation.load(Ordering::Acquire) == gen {
            c.insert(k, t);
        }
    }

    /// Drops the cached tiles of `layer` whose buffered extent touches any
    /// of `rects` (Web Mercator). Returns how many were dropped.
    pub fn invalidate(&self, layer: &str, rects: &[Rect<f64>]) -> usize {
        self.drop_where(|k| {
            k.has_layer(layer) && rects.iter().any(|r| touches(k.coord, r, self.buffer_ratio))
        })
    }

    /// Drops every cached tile that shows `layer`.
    pub fn invalidate_layer(&self, layer: &str) -> usize {
        self.drop_where(|k| k.has_layer(layer))
    }

    fn drop_where(&self, gone: impl Fn(&TileKey) -> bool) -> usize {
        let _g = self.lock.write().unwrap_or_else(|e| e.into_inner());
        self.generation.fetch_add(1, Ordering::AcqRel);
        let Some(c) = &self.inner else { return 0 };
        let before = c.len();
        c.retain(|k, _| !gone(k));
        before - c.len()
    }

    /// Bytes held.
    pub fn weight(&self) -> u64 {
        self.inner.as_ref().map_or(0, |c| c.weight())
    }

    /// Tiles held.
    pub fn len(&self) -> usize {
        self.inner.as_ref().map_or(0, |c| c.len())
    }

    /// True when no tile is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo_types::Coord;

    fn key(layers: &str, z: u32, x: u32, y: u32) -> TileKey {
        TileKey {
            layers: layers.into(),
            coord: TileCoord::new(z, x, y, 22).unwrap(),
        }
    }

    #[test]
    fn an_edit_drops_only_the_tiles_it_touches_of_the_layers_it_touches() {
        let c = TileCache::new(1 << 20, 64.0 / 4096.0);
        let g = c.generation();
        for k in [
            key("parcels", 14, 100, 100),
            key("parcels", 14, 101, 100),
            key("parcels,roads", 14, 100, 100),
            key("roads", 14, 100, 100),
        ] {
            c.insert(k, Tile::new(vec![1, 2, 3], 1), g);
        }
        // A small change inside tile 14/100/100, away from its edges.
        let b = key("parcels", 14, 100, 100).coord.bounds();
        let mid = Coord {
            x: (b.min().x + b.max().x) / 2.0,
            y: (b.min().y + b.max().y) / 2.0,
        };
        let r = Rect::new(
            mid,
            Coord {
                x: mid.x + 1.0,
                y: mid.y + 1.0,
            },
        );
        assert_eq!(c.invalidate("parcels", &[r]), 2);
        assert!(c.get(&key("parcels", 14, 100, 100)).is_none());
        assert!(c.get(&key("parcels,roads", 14, 100, 100)).is_none());
        assert!(c.get(&key("parcels", 14, 101, 100)).is_some());
        assert!(c.get(&key("roads", 14, 100, 100)).is_some());
    }

    #[test]
    fn a_tile_rendered_before_an_invalidation_is_not_cached_after_it() {
        let c = TileCache::new(1 << 20, 0.0);
        let g = c.generation();
        c.invalidate_layer("parcels");
        c.insert(key("parcels", 1, 0, 0), Tile::new(vec![1], 1), g);
        assert!(c.is_empty());
    }

    #[test]
    fn the_cache_stays_within_its_byte_budget() {
        let c = TileCache::new(64 * 1024, 0.0);
        let g = c.generation();
        for x in 0..200 {
            c.insert(key("parcels", 10, x, 0), Tile::new(vec![7; 4096], 1), g);
        }
        assert!(c.weight() <= 64 * 1024, "{}", c.weight());
        assert!(!c.is_empty());
    }
}
