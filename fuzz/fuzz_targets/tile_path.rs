//! Tile addresses `/tiles/{layers}/{z}/{x}/{y}.mvt`: the path after
//! `/tiles/` split into its segments as the router splits it, then the
//! layer list, the numbers and the tile coordinate checked.
#![no_main]

use geoplan::http::tiles::parse_tile_path;
use geoplan_fuzz::{text, CONFIG};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(path) = text(data) else { return };
    let seg: Vec<&str> = path.split('/').collect();
    let [list, z, x, file] = seg[..] else { return };
    if let Ok((layers, c)) = parse_tile_path(list, z, x, file, CONFIG.tiles.max_zoom) {
        assert!(!layers.is_empty() && layers.len() <= 32);
        assert!(u32::from(c.z) <= u32::from(CONFIG.tiles.max_zoom));
        let n = 1u64 << c.z;
        assert!(u64::from(c.x) < n && u64::from(c.y) < n);
        let b = c.bounds();
        assert!(b.min().x.is_finite() && b.max().y.is_finite());
    }
});
