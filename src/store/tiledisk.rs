//! The optional disk tile cache: gzipped tiles under
//! `{dir}/{layers}/{z}/{x}/{y}.mvt.gz`, so a large warm set outlives memory
//! eviction. It is emptied when the server starts (the data may have
//! changed while it was down) and kept coherent the way the memory cache
//! is: the server removes the files of the tiles a change touches.
//!
//! Writes go to a temporary file renamed into place, so a reader never
//! sees half a tile.

use super::StoreError;
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// A directory of cached tiles.
#[derive(Debug)]
pub struct DiskTiles {
    dir: PathBuf,
    /// When a failed write was last logged (seconds since 1970).
    last_warning: AtomicU64,
}

fn safe(layers: &str) -> bool {
    !layers.is_empty()
        && layers
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == ',' || c == '-')
}

impl DiskTiles {
    /// Opens the cache directory, emptying it. The directory itself stays
    /// (it may be a file system of its own, mounted there).
    pub fn open(dir: &Path) -> Result<DiskTiles, StoreError> {
        let e =
            |e: std::io::Error| StoreError::Invalid(format!("tile cache {}: {e}", dir.display()));
        std::fs::create_dir_all(dir).map_err(e)?;
        for entry in std::fs::read_dir(dir).map_err(e)? {
            let p = entry.map_err(e)?.path();
            if p.is_dir() && !p.is_symlink() {
                std::fs::remove_dir_all(&p).map_err(e)?;
            } else {
                std::fs::remove_file(&p).map_err(e)?;
            }
        }
        Ok(DiskTiles {
            dir: dir.to_owned(),
            last_warning: AtomicU64::new(0),
        })
    }

    fn path(&self, layers: &str, z: u8, x: u32, y: u32) -> Option<PathBuf> {
        safe(layers).then(|| {
            self.dir
                .join(layers)
                .join(z.to_string())
                .join(x.to_string())
                .join(format!("{y}.mvt.gz"))
        })
    }

    /// The cached gzipped tile (empty for a cached empty tile).
    pub fn get(&self, layers: &str, z: u8, x: u32, y: u32) -> Option<Vec<u8>> {
        std::fs::read(self.path(layers, z, x, y)?).ok()
    }

    /// Stores a gzipped tile. On failure (the disk full, the directory
    /// gone) nothing is left behind, not even the part written: the tile
    /// is simply not cached, and a warning is logged at most once a
    /// minute.
    pub fn put(&self, layers: &str, z: u8, x: u32, y: u32, gzip: &[u8]) -> std::io::Result<()> {
        let Some(p) = self.path(layers, z, x, y) else {
            return Ok(());
        };
        let tmp = p.with_extension(format!("tmp{}", std::process::id()));
        let written = p
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|_| std::fs::write(&tmp, gzip))
            .and_then(|_| std::fs::rename(&tmp, &p));
        if let Err(e) = &written {
            let _ = std::fs::remove_file(&tmp);
            self.warn(e);
        }
        written
    }

    /// Logs a failed write, at most once a minute (a full disk fails every
    /// write).
    fn warn(&self, e: &std::io::Error) {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let last = self.last_warning.load(Ordering::Relaxed);
        if now >= last + 60
            && self
                .last_warning
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            tracing::warn!(
                "tile disk cache {}: a tile could not be written ({e}); tiles are still served, only not kept on disk",
                self.dir.display()
            );
        }
    }

    /// Removes one tile.
    pub fn remove(&self, layers: &str, z: u8, x: u32, y: u32) {
        if let Some(p) = self.path(layers, z, x, y) {
            let _ = std::fs::remove_file(p);
        }
    }

    /// Removes the tiles showing `layer` for which `touched(z)` gives
    /// column and row ranges, walking only the files that exist.
    pub fn remove_where(
        &self,
        layer: &str,
        touched: impl Fn(u8) -> Option<(RangeInclusive<u32>, RangeInclusive<u32>)>,
    ) -> usize {
        let mut n = 0;
        for group in self.groups_with(layer) {
            let Ok(zs) = std::fs::read_dir(&group) else {
                continue;
            };
            for zd in zs.flatten() {
                let Some(z) = zd.file_name().to_str().and_then(|s| s.parse::<u8>().ok()) else {
                    continue;
                };
                let Some((xs, ys)) = touched(z) else { continue };
                let Ok(xd) = std::fs::read_dir(zd.path()) else {
                    continue;
                };
                for xe in xd.flatten() {
                    let Some(x) = xe.file_name().to_str().and_then(|s| s.parse::<u32>().ok())
                    else {
                        continue;
                    };
                    if !xs.contains(&x) {
                        continue;
                    }
                    let Ok(yd) = std::fs::read_dir(xe.path()) else {
                        continue;
                    };
                    for ye in yd.flatten() {
                        let name = ye.file_name();
                        let y = name
                            .to_str()
                            .and_then(|s| s.strip_suffix(".mvt.gz"))
                            .and_then(|s| s.parse::<u32>().ok());
                        if y.is_some_and(|y| ys.contains(&y))
                            && std::fs::remove_file(ye.path()).is_ok()
                        {
                            n += 1;
                        }
                    }
                }
            }
        }
        n
    }

    /// Removes every tile showing `layer`.
    pub fn remove_layer(&self, layer: &str) {
        for g in self.groups_with(layer) {
            let _ = std::fs::remove_dir_all(g);
        }
    }

    fn groups_with(&self, layer: &str) -> Vec<PathBuf> {
        let Ok(rd) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        rd.flatten()
            .filter(|e| {
                e.file_name()
                    .to_str()
                    .is_some_and(|n| n.split(',').any(|l| l == layer))
            })
            .map(|e| e.path())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiles_round_trip_and_only_the_touched_ones_of_a_layer_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let d = DiskTiles::open(&dir.path().join("cache")).unwrap();
        d.put("parcels", 14, 10, 20, b"a").unwrap();
        d.put("parcels", 14, 11, 20, b"b").unwrap();
        d.put("parcels,roads", 14, 10, 20, b"c").unwrap();
        d.put("roads", 14, 10, 20, b"d").unwrap();
        assert_eq!(d.get("parcels", 14, 10, 20).unwrap(), b"a");
        let n = d.remove_where("parcels", |z| (z == 14).then_some((10..=10, 19..=21)));
        assert_eq!(n, 2);
        assert!(d.get("parcels", 14, 10, 20).is_none());
        assert!(d.get("parcels,roads", 14, 10, 20).is_none());
        assert_eq!(d.get("parcels", 14, 11, 20).unwrap(), b"b");
        assert_eq!(d.get("roads", 14, 10, 20).unwrap(), b"d");
        // Path tricks are not stored.
        d.put("../x", 1, 0, 0, b"e").unwrap();
        assert!(!dir.path().join("x").exists());
        // Reopening empties it, and keeps the directory (which may be a
        // mount point).
        let d = DiskTiles::open(&dir.path().join("cache")).unwrap();
        assert!(d.get("parcels", 14, 11, 20).is_none());
        assert_eq!(
            std::fs::read_dir(dir.path().join("cache")).unwrap().count(),
            0
        );
    }

    #[test]
    fn a_tile_that_cannot_be_written_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let d = DiskTiles::open(&dir.path().join("cache")).unwrap();
        // Where the tile's folder should be, a file: every write fails.
        std::fs::write(dir.path().join("cache/parcels"), b"").unwrap();
        assert!(d.put("parcels", 14, 10, 20, b"a").is_err());
        assert!(d.get("parcels", 14, 10, 20).is_none());
        let left: Vec<_> = std::fs::read_dir(dir.path().join("cache"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, ["parcels"]);
    }
}
