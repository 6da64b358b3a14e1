//! Which tiles an edit touches. A tile shows what lies within its extent
//! widened by its buffer, so a changed feature makes stale every tile whose
//! buffered extent meets the feature's envelope — where it was before the
//! change and where it is after. The memory cache tests each cached tile
//! ([`touches`]); the disk cache walks the ranges of each zoom
//! ([`touched`]). Geometry only: dropping the tiles is the caches' work.

use super::TileCoord;
use crate::engine::generalize::tile_span;
use crate::engine::Catalog;
use geo_types::{Coord, Rect};
use std::ops::RangeInclusive;

/// Web Mercator envelopes of some features of a layer, as the catalog
/// holds them (deleted or unknown fids have none). Taken before and after
/// an edit is applied, they cover every place the edit changed.
pub fn envelopes(cat: &Catalog, layer: &str, fids: &[i64]) -> Vec<Rect<f64>> {
    let Some(l) = cat.layer(layer) else {
        return Vec::new();
    };
    fids.iter()
        .filter_map(|&f| {
            let r = l.get(f)?;
            l.data(r.part).geometry.bbox(r.row as usize)
        })
        .collect()
}

/// True when tile `c`, widened by its buffer (`buffer_ratio` of the tile
/// span on each side), meets the Web Mercator rectangle `r`.
pub fn touches(c: TileCoord, r: &Rect<f64>, buffer_ratio: f64) -> bool {
    let b = c.bounds();
    let pad = tile_span(c.z) * buffer_ratio;
    r.min().x <= b.max().x + pad
        && r.max().x >= b.min().x - pad
        && r.min().y <= b.max().y + pad
        && r.max().y >= b.min().y - pad
}

/// The tiles of zoom `z` whose buffered extent meets `r`, as inclusive
/// column and row ranges.
pub fn touched(
    z: u8,
    r: &Rect<f64>,
    buffer_ratio: f64,
) -> (RangeInclusive<u32>, RangeInclusive<u32>) {
    let p = tile_span(z) * buffer_ratio;
    let pad = Coord { x: p, y: p };
    TileCoord::range(z, &Rect::new(r.min() - pad, r.max() + pad))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ranges_of_a_zoom_hold_exactly_the_tiles_that_touch() {
        let c = TileCoord::new(14, 13_050, 7_600, 22).unwrap();
        let b = c.bounds();
        // A small rectangle inside the tile, near its east edge.
        let w = b.width();
        let r = Rect::new(
            Coord {
                x: b.max().x - w * 0.005,
                y: b.min().y + w * 0.4,
            },
            Coord {
                x: b.max().x - w * 0.001,
                y: b.min().y + w * 0.6,
            },
        );
        let ratio = 64.0 / 4096.0;
        let (xs, ys) = touched(14, &r, ratio);
        for x in 13_045..13_056 {
            for y in 7_595..7_606 {
                let t = TileCoord::new(14, x, y, 22).unwrap();
                assert_eq!(
                    touches(t, &r, ratio),
                    xs.contains(&x) && ys.contains(&y),
                    "tile {x}/{y}"
                );
            }
        }
        // The buffer reaches the eastern neighbour, not the northern one.
        assert_eq!((xs, ys), (13_050..=13_051, 7_600..=7_600));
    }
}
