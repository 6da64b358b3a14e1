//! Small planar helpers for the generator: hashing and seeded RNG streams,
//! rings and rectangles, a strip-bucketed point-in-polygon index and a grid
//! index of line segments for distance tests. Everything works in the
//! EPSG:5899 plane (metres).

use geo_types::{Coord, LineString, Polygon, Rect};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// A planar coordinate (EPSG:5899 metres unless said otherwise).
pub(crate) type C = Coord<f64>;

/// Shorthand constructor.
pub(crate) fn c(x: f64, y: f64) -> C {
    Coord { x, y }
}

/// SplitMix64 finaliser: a cheap, well-mixed 64-bit hash.
pub(crate) fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Hashes a sequence of words into one (order matters).
pub(crate) fn hash(words: &[u64]) -> u64 {
    words
        .iter()
        .fold(0x5EED_0F6E_u64, |h, &w| splitmix(h ^ splitmix(w)))
}

/// A uniform float in [0, 1) from a hash.
pub(crate) fn unit(h: u64) -> f64 {
    (h >> 11) as f64 / (1u64 << 53) as f64
}

/// Maps a signed grid index to a hashable word.
pub(crate) fn w(i: i64) -> u64 {
    i as u64
}

/// An independent random stream: one per unit of work (cell, block,
/// patch...), so that units can be generated in any order or in parallel
/// and still give the same result.
pub(crate) fn stream(seed: u64, words: &[u64]) -> ChaCha8Rng {
    let mut all = Vec::with_capacity(words.len() + 1);
    all.push(seed);
    all.extend_from_slice(words);
    ChaCha8Rng::seed_from_u64(hash(&all))
}

/// The index a uniform `r` in [0, 1) picks from `weights`, each index in
/// proportion to its weight (the last when rounding leaves `r` past the
/// sum).
pub(crate) fn pick_index<I>(r: f64, weights: I) -> usize
where
    I: IntoIterator<Item = f64>,
    I::IntoIter: Clone,
{
    let weights = weights.into_iter();
    let total: f64 = weights.clone().sum();
    let mut acc = 0.0;
    let mut last = 0;
    for (i, wt) in weights.enumerate() {
        acc += wt / total;
        if r < acc {
            return i;
        }
        last = i;
    }
    last
}

/// Picks from weighted choices, as [`pick_index`].
pub(crate) fn pick<T: Copy>(r: f64, items: &[(T, f64)]) -> T {
    items[pick_index(r, items.iter().map(|x| x.1))].0
}

/// Rounds to the millimetre, the precision cadastral coordinates carry.
pub(crate) fn mm(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

/// Rounds a coordinate to the millimetre.
pub(crate) fn mm_c(p: C) -> C {
    c(mm(p.x), mm(p.y))
}

/// Twice the signed area of an open ring (positive when counter-clockwise).
/// Computed relative to the first vertex: with eastings of 500 km and
/// northings of 1 700 km, absolute cross products lose about 1e-4 m².
pub(crate) fn ring_area2(r: &[C]) -> f64 {
    let n = r.len();
    let Some(&o) = r.first() else {
        return 0.0;
    };
    let mut s = 0.0;
    for i in 0..n {
        let a = r[i] - o;
        let b = r[(i + 1) % n] - o;
        s += a.x * b.y - b.x * a.y;
    }
    s
}

/// Area centroid of an open ring (falls back to the vertex mean when
/// degenerate).
pub(crate) fn ring_centroid(r: &[C]) -> C {
    let n = r.len();
    let a2 = ring_area2(r);
    if a2.abs() < 1e-9 {
        let k = n as f64;
        return c(
            r.iter().map(|p| p.x).sum::<f64>() / k,
            r.iter().map(|p| p.y).sum::<f64>() / k,
        );
    }
    // Relative to the first vertex, for precision with large eastings.
    let o = r[0];
    let (mut cx, mut cy) = (0.0, 0.0);
    for i in 0..n {
        let a = r[i] - o;
        let b = r[(i + 1) % n] - o;
        let cr = a.x * b.y - b.x * a.y;
        cx += (a.x + b.x) * cr;
        cy += (a.y + b.y) * cr;
    }
    c(o.x + cx / (3.0 * a2), o.y + cy / (3.0 * a2))
}

/// Closes an open ring into a polygon.
pub(crate) fn polygon(mut ring: Vec<C>) -> Polygon<f64> {
    if let Some(&f) = ring.first() {
        ring.push(f);
    }
    Polygon::new(LineString(ring), vec![])
}

/// A rectangle of size `w` × `h` centred on `o`, rotated by `angle`
/// radians, as an open counter-clockwise ring.
pub(crate) fn rect_ring(o: C, w: f64, h: f64, angle: f64) -> Vec<C> {
    let (s, co) = angle.sin_cos();
    [(-0.5, -0.5), (0.5, -0.5), (0.5, 0.5), (-0.5, 0.5)]
        .iter()
        .map(|&(a, b)| {
            let (u, v) = (a * w, b * h);
            c(o.x + u * co - v * s, o.y + u * s + v * co)
        })
        .collect()
}

/// Distance from `p` to segment `a`–`b`.
pub(crate) fn seg_dist(p: C, a: C, b: C) -> f64 {
    let d = b - a;
    let len2 = d.x * d.x + d.y * d.y;
    let t = if len2 > 0.0 {
        (((p.x - a.x) * d.x + (p.y - a.y) * d.y) / len2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let q = c(a.x + t * d.x - p.x, a.y + t * d.y - p.y);
    (q.x * q.x + q.y * q.y).sqrt()
}

/// Euclidean distance.
pub(crate) fn dist(a: C, b: C) -> f64 {
    ((a.x - b.x).powi(2) + (a.y - b.y).powi(2)).sqrt()
}

/// Clips a convex open ring by the half-plane of points closer to `a`
/// than to `b` (Sutherland–Hodgman against the perpendicular bisector).
pub(crate) fn clip_closer(ring: &[C], a: C, b: C) -> Vec<C> {
    let m = c((a.x + b.x) / 2.0, (a.y + b.y) / 2.0);
    let n = b - a;
    let side = |p: C| (p.x - m.x) * n.x + (p.y - m.y) * n.y;
    let mut out = Vec::with_capacity(ring.len() + 1);
    for i in 0..ring.len() {
        let p = ring[i];
        let q = ring[(i + 1) % ring.len()];
        let (sp, sq) = (side(p), side(q));
        if sp <= 0.0 {
            out.push(p);
        }
        if (sp < 0.0 && sq > 0.0) || (sp > 0.0 && sq < 0.0) {
            let t = sp / (sp - sq);
            out.push(c(p.x + t * (q.x - p.x), p.y + t * (q.y - p.y)));
        }
    }
    out
}

/// Densifies a polyline every `step` metres and bends it sideways by a
/// smooth offset of at most `amp` metres (two sines with seeded phases),
/// tapered to zero at both ends so that junctions with other lines stay put.
pub(crate) fn wiggle(points: &[C], step: f64, amp: f64, seed: u64) -> Vec<C> {
    if points.len() < 2 {
        return points.to_vec();
    }
    let total: f64 = points.windows(2).map(|s| dist(s[0], s[1])).sum();
    let p1 = unit(hash(&[seed, 1])) * std::f64::consts::TAU;
    let p2 = unit(hash(&[seed, 2])) * std::f64::consts::TAU;
    let l1 = 3000.0 + 3000.0 * unit(hash(&[seed, 3]));
    let l2 = 1500.0 + 1000.0 * unit(hash(&[seed, 4]));
    let taper_len = (total / 4.0).min(1500.0);
    let mut out = Vec::new();
    let mut s0 = 0.0;
    for seg in points.windows(2) {
        let (a, b) = (seg[0], seg[1]);
        let len = dist(a, b);
        if len == 0.0 {
            continue;
        }
        let nrm = c(-(b.y - a.y) / len, (b.x - a.x) / len);
        let k = (len / step).ceil().max(1.0) as usize;
        for i in 0..k {
            let t = i as f64 / k as f64;
            let s = s0 + t * len;
            let taper = (s / taper_len).min((total - s) / taper_len).clamp(0.0, 1.0);
            let off = amp
                * taper
                * (0.75 * (std::f64::consts::TAU * s / l1 + p1).sin()
                    + 0.25 * (std::f64::consts::TAU * s / l2 + p2).sin());
            out.push(c(
                a.x + t * (b.x - a.x) + nrm.x * off,
                a.y + t * (b.y - a.y) + nrm.y * off,
            ));
        }
        s0 += len;
    }
    out.push(*points.last().expect("two points or more"));
    out
}

/// Point-in-polygon index: the edges of one or more rings bucketed into
/// horizontal strips, so a query scans only the few edges of its strip
/// (a province outline has a few hundred edges; parcels query it a million
/// times). Even-odd rule over all rings.
#[derive(Debug, Clone)]
pub(crate) struct PolyIndex {
    y0: f64,
    dy: f64,
    bbox: Rect<f64>,
    strips: Vec<Vec<[f64; 4]>>,
}

impl PolyIndex {
    /// Indexes closed or open rings.
    pub(crate) fn new<'a>(rings: impl IntoIterator<Item = &'a [C]>, strip: f64) -> PolyIndex {
        let rings: Vec<&[C]> = rings.into_iter().filter(|r| r.len() >= 3).collect();
        let mut lo = c(f64::MAX, f64::MAX);
        let mut hi = c(f64::MIN, f64::MIN);
        for p in rings.iter().flat_map(|r| r.iter()) {
            lo = c(lo.x.min(p.x), lo.y.min(p.y));
            hi = c(hi.x.max(p.x), hi.y.max(p.y));
        }
        if rings.is_empty() {
            lo = c(0.0, 0.0);
            hi = c(0.0, 0.0);
        }
        let n = (((hi.y - lo.y) / strip).ceil() as usize).max(1);
        let mut strips = vec![Vec::new(); n];
        for r in &rings {
            for i in 0..r.len() {
                let a = r[i];
                let b = r[(i + 1) % r.len()];
                if a == b {
                    continue;
                }
                let s0 = (((a.y.min(b.y) - lo.y) / strip).floor() as usize).min(n - 1);
                let s1 = (((a.y.max(b.y) - lo.y) / strip).floor() as usize).min(n - 1);
                for s in &mut strips[s0..=s1] {
                    s.push([a.x, a.y, b.x, b.y]);
                }
            }
        }
        PolyIndex {
            y0: lo.y,
            dy: strip,
            bbox: Rect::new(lo, hi),
            strips,
        }
    }

    /// Indexes the rings of a polygon (exterior and holes).
    pub(crate) fn of_polygons<'a>(
        polys: impl IntoIterator<Item = &'a Polygon<f64>>,
        strip: f64,
    ) -> PolyIndex {
        let rings: Vec<&[C]> = polys
            .into_iter()
            .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
            .map(|r| r.0.as_slice())
            .collect();
        PolyIndex::new(rings, strip)
    }

    /// True when `p` lies inside (even-odd rule).
    pub(crate) fn contains(&self, p: C) -> bool {
        let (lo, hi) = (self.bbox.min(), self.bbox.max());
        if p.x < lo.x || p.x > hi.x || p.y < lo.y || p.y > hi.y {
            return false;
        }
        let s = (((p.y - self.y0) / self.dy) as usize).min(self.strips.len() - 1);
        let mut inside = false;
        for &[ax, ay, bx, by] in &self.strips[s] {
            if (ay > p.y) != (by > p.y) {
                let x = ax + (p.y - ay) / (by - ay) * (bx - ax);
                if x > p.x {
                    inside = !inside;
                }
            }
        }
        inside
    }
}

/// A line segment with a half width (a river bank or a road verge).
#[derive(Debug, Clone, Copy)]
struct Seg {
    a: C,
    b: C,
    half: f64,
}

/// Grid index of line segments for "is this point within d of a line"
/// queries with d at most `reach` beyond each segment's half width.
#[derive(Debug, Clone)]
pub(crate) struct LineIndex {
    origin: C,
    cell: f64,
    nx: usize,
    ny: usize,
    reach: f64,
    segs: Vec<Seg>,
    cells: Vec<Vec<u32>>,
}

impl LineIndex {
    /// An empty index over `bbox` with square cells of `cell` metres,
    /// answering queries up to `reach` metres beyond the lines' half widths.
    pub(crate) fn new(bbox: Rect<f64>, cell: f64, reach: f64) -> LineIndex {
        let nx = ((bbox.width() / cell).ceil() as usize).max(1);
        let ny = ((bbox.height() / cell).ceil() as usize).max(1);
        LineIndex {
            origin: bbox.min(),
            cell,
            nx,
            ny,
            reach,
            segs: Vec::new(),
            cells: vec![Vec::new(); nx * ny],
        }
    }

    /// Adds a polyline with a half width.
    pub(crate) fn add(&mut self, line: &[C], half: f64) {
        for s in line.windows(2) {
            let id = self.segs.len() as u32;
            self.segs.push(Seg {
                a: s[0],
                b: s[1],
                half,
            });
            let r = half + self.reach;
            let (x0, y0) = self.cell_of(c(s[0].x.min(s[1].x) - r, s[0].y.min(s[1].y) - r));
            let (x1, y1) = self.cell_of(c(s[0].x.max(s[1].x) + r, s[0].y.max(s[1].y) + r));
            for y in y0..=y1 {
                for x in x0..=x1 {
                    self.cells[y * self.nx + x].push(id);
                }
            }
        }
    }

    fn cell_of(&self, p: C) -> (usize, usize) {
        let x = ((p.x - self.origin.x) / self.cell).floor();
        let y = ((p.y - self.origin.y) / self.cell).floor();
        (
            (x.max(0.0) as usize).min(self.nx - 1),
            (y.max(0.0) as usize).min(self.ny - 1),
        )
    }

    /// True when `p` lies within `extra` metres (≤ reach) of some line's
    /// verge, i.e. closer than half width + `extra` to its centre line.
    pub(crate) fn within(&self, p: C, extra: f64) -> bool {
        let (x, y) = self.cell_of(p);
        self.cells[y * self.nx + x].iter().any(|&i| {
            let s = &self.segs[i as usize];
            seg_dist(p, s.a, s.b) < s.half + extra
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_strip_index_agrees_with_a_plain_crossing_test() {
        let ring = vec![
            c(0.0, 0.0),
            c(10.0, 0.0),
            c(10.0, 10.0),
            c(5.0, 4.0),
            c(0.0, 10.0),
        ];
        let ix = PolyIndex::new([ring.as_slice()], 1.5);
        assert!(ix.contains(c(1.0, 1.0)));
        assert!(ix.contains(c(9.0, 8.0)));
        assert!(!ix.contains(c(5.0, 6.0)));
        assert!(!ix.contains(c(-1.0, 5.0)));
    }

    #[test]
    fn a_bisector_clip_keeps_the_half_nearer_the_first_site() {
        let sq = vec![c(0.0, 0.0), c(4.0, 0.0), c(4.0, 4.0), c(0.0, 4.0)];
        let half = clip_closer(&sq, c(1.0, 2.0), c(3.0, 2.0));
        assert!((ring_area2(&half) / 2.0 - 8.0).abs() < 1e-9);
        assert!(half.iter().all(|p| p.x <= 2.0 + 1e-9));
    }

    #[test]
    fn the_ring_centroid_of_a_rectangle_is_its_centre() {
        let r = rect_ring(c(500_000.0, 1_750_000.0), 6.0, 20.0, 0.3);
        let m = ring_centroid(&r);
        assert!(dist(m, c(500_000.0, 1_750_000.0)) < 1e-6);
        assert!((ring_area2(&r) / 2.0 - 120.0).abs() < 1e-6);
    }
}
