//! Clipping to the tile plus its buffer, quantising to the integer tile
//! grid (no repeated points, no zero-length lines), and the signed area
//! that winds rings as MVT 2.1 asks: exterior rings with positive area in
//! tile space (y down) and holes negative. Polygon validity on the grid
//! (spikes, degenerate rings, touching or crossing rings) is
//! [`super::valid`]'s.
//!
//! Input coordinates are tile-space floats (0..extent across the tile, y
//! pointing down); the clip box is `[-buffer, extent + buffer]²`.

use crate::model::clip_segment;
use geo_types::Coord;

/// The clip box in tile units.
#[derive(Debug, Clone, Copy)]
pub struct ClipBox {
    /// Lower bound of both axes.
    pub min: f64,
    /// Upper bound of both axes.
    pub max: f64,
}

impl ClipBox {
    fn inside(&self, edge: usize, p: [f64; 2]) -> bool {
        match edge {
            0 => p[0] >= self.min,
            1 => p[0] <= self.max,
            2 => p[1] >= self.min,
            _ => p[1] <= self.max,
        }
    }

    fn cross(&self, edge: usize, a: [f64; 2], b: [f64; 2]) -> [f64; 2] {
        let (axis, bound) = match edge {
            0 => (0, self.min),
            1 => (0, self.max),
            2 => (1, self.min),
            _ => (1, self.max),
        };
        let t = (bound - a[axis]) / (b[axis] - a[axis]);
        let mut p = [a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])];
        p[axis] = bound;
        p
    }

    /// True when every point lies inside (the common case of a feature
    /// well within the tile: no clipping work).
    pub fn contains_all(&self, pts: &[[f64; 2]]) -> bool {
        pts.iter()
            .all(|p| p[0] >= self.min && p[0] <= self.max && p[1] >= self.min && p[1] <= self.max)
    }
}

/// Clips a closed ring (first point repeated at the end or not) with
/// Sutherland–Hodgman. The result is open (no closing point); it may hold
/// zero-width bridges along the box where a concave ring left and
/// re-entered, which [`crate::model::valid`] removes after quantising.
pub fn clip_ring(ring: &[[f64; 2]], b: &ClipBox, out: &mut Vec<[f64; 2]>, tmp: &mut Vec<[f64; 2]>) {
    out.clear();
    let n = if ring.len() > 1 && ring[0] == ring[ring.len() - 1] {
        ring.len() - 1
    } else {
        ring.len()
    };
    out.extend_from_slice(&ring[..n]);
    if b.contains_all(out) {
        return;
    }
    for edge in 0..4 {
        std::mem::swap(out, tmp);
        out.clear();
        let Some(&last) = tmp.last() else { return };
        let mut prev = last;
        for &cur in tmp.iter() {
            let (pin, cin) = (b.inside(edge, prev), b.inside(edge, cur));
            if cin {
                if !pin {
                    out.push(b.cross(edge, prev, cur));
                }
                out.push(cur);
            } else if pin {
                out.push(b.cross(edge, prev, cur));
            }
            prev = cur;
        }
    }
}

/// Clips a line to the box (Liang–Barsky per segment); each piece inside
/// becomes one output line.
pub fn clip_line(line: &[[f64; 2]], b: &ClipBox, out: &mut Vec<Vec<[f64; 2]>>) {
    if b.contains_all(line) {
        out.push(line.to_vec());
        return;
    }
    let mut cur: Vec<[f64; 2]> = Vec::new();
    for w in line.windows(2) {
        let (a, c) = (w[0], w[1]);
        let (dx, dy) = (c[0] - a[0], c[1] - a[1]);
        let at = |p: [f64; 2]| Coord { x: p[0], y: p[1] };
        let corner = |v: f64| Coord { x: v, y: v };
        let clipped = clip_segment(at(a), at(c), corner(b.min), corner(b.max));
        let Some((t0, t1)) = clipped else {
            if cur.len() >= 2 {
                out.push(std::mem::take(&mut cur));
            }
            cur.clear();
            continue;
        };
        let p0 = [a[0] + t0 * dx, a[1] + t0 * dy];
        let p1 = [a[0] + t1 * dx, a[1] + t1 * dy];
        if cur.is_empty() {
            cur.push(p0);
        }
        cur.push(p1);
        if t1 < 1.0 {
            // The segment leaves the box: this piece ends here.
            out.push(std::mem::take(&mut cur));
        }
    }
    if cur.len() >= 2 {
        out.push(cur);
    }
}

/// Rounds to the grid and drops consecutive repeats (and, for rings, a
/// last point equal to the first).
pub fn quantise(pts: &[[f64; 2]], ring: bool, out: &mut Vec<[i32; 2]>) {
    out.clear();
    for p in pts {
        let q = [p[0].round() as i32, p[1].round() as i32];
        if out.last() != Some(&q) {
            out.push(q);
        }
    }
    if ring {
        while out.len() > 1 && out.first() == out.last() {
            out.pop();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::valid::signed_area2;

    const B: ClipBox = ClipBox {
        min: 0.0,
        max: 10.0,
    };

    #[test]
    fn a_square_overlapping_a_corner_is_cut_to_the_overlap() {
        let sq = [
            [5.0, 5.0],
            [15.0, 5.0],
            [15.0, 15.0],
            [5.0, 15.0],
            [5.0, 5.0],
        ];
        let (mut out, mut tmp) = (Vec::new(), Vec::new());
        clip_ring(&sq, &B, &mut out, &mut tmp);
        let mut q = Vec::new();
        quantise(&out, true, &mut q);
        assert_eq!(signed_area2(&q), 2 * 25);
        assert!(q
            .iter()
            .all(|p| (5..=10).contains(&p[0]) && (5..=10).contains(&p[1])));
    }

    #[test]
    fn a_ring_outside_the_box_vanishes() {
        let sq = [[20.0, 20.0], [30.0, 20.0], [30.0, 30.0], [20.0, 20.0]];
        let (mut out, mut tmp) = (Vec::new(), Vec::new());
        clip_ring(&sq, &B, &mut out, &mut tmp);
        assert!(out.len() < 3);
    }

    #[test]
    fn a_line_crossing_the_box_twice_becomes_two_pieces() {
        // In at x=0, out at x=10, back in at x=10, out at x=0.
        let l = [[-5.0, 2.0], [15.0, 2.0], [15.0, 8.0], [-5.0, 8.0]];
        let mut out = Vec::new();
        clip_line(&l, &B, &mut out);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0], vec![[0.0, 2.0], [10.0, 2.0]]);
        assert_eq!(out[1], vec![[10.0, 8.0], [0.0, 8.0]]);
    }

    #[test]
    fn quantising_drops_repeats_and_the_closing_point() {
        let mut q = Vec::new();
        quantise(
            &[[0.1, 0.2], [0.4, 0.1], [3.0, 0.0], [3.0, 3.0], [0.0, 0.0]],
            true,
            &mut q,
        );
        assert_eq!(q, vec![[0, 0], [3, 0], [3, 3]]);
    }
}
