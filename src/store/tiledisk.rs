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

/// A directory of cached tiles.
#[derive(Debug)]
pub struct DiskTiles {
    dir: PathBuf,
}

fn safe(layers: &str) -> bool {
    !layers.is_empty()
        && layers
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == ',' || c == '-')
}

impl DiskTiles {
    /// Opens the cache directory, emptying it.
    pub fn open(dir: &Path) -> Result<DiskTiles, StoreError> {
        let e =
            |e: std::io::Error| StoreError::Invalid(format!("tile cache {}: {e}", dir.display()));
        if dir.exists() {
            std::fs::remove_dir_all(dir).map_err(e)?;
        }
        std::fs::create_dir_all(dir).map_err(e)?;
        Ok(DiskTiles {
            dir: dir.to_owned(),
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

    /// Stores a gzipped tile.
    pub fn put(&self, layers: &str, z: u8, x: u32, y: u32, gzip: &[u8]) -> std::io::Result<()> {
        let Some(p) = self.path(layers, z, x, y) else {
            return Ok(());
        };
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let tmp = p.with_extension(format!("tmp{}", std::process::id()));
        std::fs::write(&tmp, gzip)?;
        std::fs::rename(&tmp, &p)
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
        // Reopening empties it.
        let d = DiskTiles::open(&dir.path().join("cache")).unwrap();
        assert!(d.get("parcels", 14, 11, 20).is_none());
    }
}
