//! Polygons kept valid on an integer grid (the tile grid), as MVT 2.1 (§4.3.4.4) asks and as
//! PostGIS's `ST_AsMVTGeom` guarantees: rings do not cross or touch
//! themselves or each other, exterior rings have positive area in tile
//! space (y down) and holes negative, and no ring has zero area.
//!
//! Clipping at the buffer edge and rounding to the 4096 grid break that
//! in a few ways: a vertex rounded onto a nearby edge (a touch or a
//! crossing), two vertices rounded onto one (repeats, spikes `A B A`),
//! Sutherland–Hodgman's zero-width bridges along the clip box where a
//! concave ring left and came back, and holes rounded onto their exterior.
//! The pipeline is the one PostGIS runs (snap, then `ST_MakeValid` only
//! when needed):
//!
//! 1. [`clean_ring`] drops repeated and collinear points, which removes
//!    spikes and leaves every ring with a turn at each vertex;
//! 2. [`Checker::is_valid`] decides exactly, in integers, whether the
//!    feature's rings meet anywhere but at a ring's own consecutive edges
//!    (brute force for small features, horizontal strips swept over x for
//!    large ones) — the common case, a parcel inside the tile, stops here;
//! 3. only then [`Checker::repair`] rebuilds the area (non-zero winding)
//!    on the same integer grid with `i_overlay`, extracting OGC-valid
//!    polygons, so no second rounding can undo the repair.
//!
//! The tiles run it on every clipped feature; the generalised levels of
//! the engine run it once, when they are built, on their zoom's tile grid
//! (`engine::generalize`), so that their features need no check at all
//! when a tile shows them unclipped. Coordinates are grid units within a
//! few tiles of the origin (tile space after clipping is within `±(extent
//! + 2 × buffer)`), so every product fits an `i64` exactly.

use i_overlay::core::fill_rule::FillRule;
use i_overlay::core::overlay::{IntOverlayOptions, Overlay, ShapeType};
use i_overlay::core::overlay_rule::OverlayRule;
use i_overlay::i_float::int::point::IntPoint;

type P = [i32; 2];

/// Twice the signed area of an open ring by the surveyor's formula, y
/// down (tile space): positive for an MVT exterior ring (clockwise on
/// screen).
pub fn signed_area2(r: &[P]) -> i64 {
    let n = r.len();
    (0..n)
        .map(|i| {
            let (a, b) = (r[i], r[(i + 1) % n]);
            i64::from(a[0]) * i64::from(b[1]) - i64::from(b[0]) * i64::from(a[1])
        })
        .sum()
}

fn cross(o: P, a: P, b: P) -> i64 {
    let (ax, ay) = (i64::from(a[0] - o[0]), i64::from(a[1] - o[1]));
    let (bx, by) = (i64::from(b[0] - o[0]), i64::from(b[1] - o[1]));
    ax * by - ay * bx
}

/// Removes, in place, repeated points, points on the line through their
/// neighbours (straight runs) and spikes (`A B A`), wrapping round the
/// ring's start. The ring is open (no closing point). What is left has at
/// least 3 points or is empty.
pub fn clean_ring(r: &mut Vec<P>) {
    let mut n = 0;
    for i in 0..r.len() {
        let p = r[i];
        while n >= 2 && cross(r[n - 2], r[n - 1], p) == 0 {
            n -= 1;
        }
        if n == 1 && r[0] == p {
            continue;
        }
        r[n] = p;
        n += 1;
    }
    r.truncate(n);
    // The seam: the last points against the first ones.
    let mut start = 0;
    loop {
        let len = r.len() - start;
        if len < 3 {
            r.clear();
            return;
        }
        let (first, second) = (r[start], r[start + 1]);
        let (last, before) = (r[r.len() - 1], r[r.len() - 2]);
        if cross(before, last, first) == 0 {
            r.pop();
        } else if cross(last, first, second) == 0 {
            start += 1;
        } else {
            break;
        }
    }
    r.drain(..start);
}

fn on_box(a: P, b: P, p: P) -> bool {
    a[0].min(b[0]) <= p[0]
        && p[0] <= a[0].max(b[0])
        && a[1].min(b[1]) <= p[1]
        && p[1] <= a[1].max(b[1])
}

/// True when the closed segments `ab` and `cd` share a point.
fn meet(a: P, b: P, c: P, d: P) -> bool {
    let (d1, d2) = (cross(c, d, a).signum(), cross(c, d, b).signum());
    let (d3, d4) = (cross(a, b, c).signum(), cross(a, b, d).signum());
    if d1 * d2 < 0 && d3 * d4 < 0 {
        return true;
    }
    (d1 == 0 && on_box(c, d, a))
        || (d2 == 0 && on_box(c, d, b))
        || (d3 == 0 && on_box(a, b, c))
        || (d4 == 0 && on_box(a, b, d))
}

#[derive(Clone, Copy)]
struct Seg {
    a: P,
    b: P,
    /// Ring number within the feature, index of the edge in it, and the
    /// ring's length (to tell a ring's consecutive edges).
    ring: u32,
    i: u32,
    n: u32,
    /// Polygon (exterior and its holes) the ring belongs to.
    part: u32,
    min_x: i32,
    max_x: i32,
    min_y: i32,
    max_y: i32,
}

impl Seg {
    fn consecutive(&self, o: &Seg) -> bool {
        self.ring == o.ring && {
            let (i, j) = (self.i.min(o.i), self.i.max(o.i));
            j == i + 1 || (i == 0 && j == self.n - 1)
        }
    }

    /// True when the two edges break validity: any shared point, except
    /// the shared vertex of a ring's consecutive edges (after
    /// [`clean_ring`] those turn, so they cannot overlap).
    fn conflicts(&self, o: &Seg) -> bool {
        if self.consecutive(o) {
            return false;
        }
        self.max_y >= o.min_y && o.max_y >= self.min_y && meet(self.a, self.b, o.a, o.b)
    }
}

/// Features with at most this many edges are checked pair by pair.
const BRUTE_FORCE_EDGES: usize = 24;

/// Edges per horizontal strip of the sweep, on average.
const EDGES_PER_STRIP: usize = 48;

/// The validity check and repair, with buffers reused from feature to
/// feature.
#[derive(Default)]
pub struct Checker {
    segs: Vec<Seg>,
    /// The sweep's strips: edge numbers, strip by strip, and where each
    /// strip starts in them.
    strip_edges: Vec<u32>,
    strip_starts: Vec<usize>,
    overlay: Option<Overlay>,
    /// Polygons of the feature in repair, and the kept rings.
    bad: Vec<bool>,
    kept: Vec<P>,
    kept_ends: Vec<usize>,
}

impl std::fmt::Debug for Checker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Checker").finish_non_exhaustive()
    }
}

/// The rings of one feature: `points[ends[k-1]..ends[k]]` is ring `k`
/// (open, at least 3 points, from [`clean_ring`]), in MVT order: each
/// exterior ring (positive [`signed_area2`]) followed by its holes
/// (negative).
fn rings<'a>(points: &'a [P], ends: &'a [usize]) -> impl Iterator<Item = &'a [P]> + 'a {
    ends.iter().scan(0usize, move |start, &end| {
        let r = &points[*start..end];
        *start = end;
        Some(r)
    })
}

impl Checker {
    /// True when the feature's rings are valid as they are: each has 3
    /// points or more and a non-zero area, and no two edges meet except
    /// consecutive edges of one ring at their shared vertex. Exact (integer
    /// arithmetic). A touch between different rings, which OGC would
    /// allow at a single point, counts as invalid here; the repair then
    /// handles it.
    pub fn is_valid(&mut self, points: &[P], ends: &[usize]) -> bool {
        self.scan(points, ends, None)
    }

    /// Collects the edges and looks for conflicts. With `bad`, it marks
    /// every polygon (exterior and holes) involved in one and goes on;
    /// without, it stops at the first.
    fn scan(&mut self, points: &[P], ends: &[usize], mut bad: Option<&mut Vec<bool>>) -> bool {
        self.segs.clear();
        let mut valid = true;
        let mut part = 0u32;
        for (k, r) in rings(points, ends).enumerate() {
            let a = signed_area2(r);
            if a > 0 && k > 0 {
                part += 1;
            }
            if let Some(bad) = bad.as_deref_mut() {
                bad.resize(part as usize + 1, false);
            }
            if r.len() < 3 || a == 0 {
                match bad.as_deref_mut() {
                    Some(bad) => {
                        bad[part as usize] = true;
                        valid = false;
                        continue;
                    }
                    None => return false,
                }
            }
            let n = r.len();
            for i in 0..n {
                let (a, b) = (r[i], r[(i + 1) % n]);
                self.segs.push(Seg {
                    a,
                    b,
                    ring: k as u32,
                    i: i as u32,
                    n: n as u32,
                    part,
                    min_x: a[0].min(b[0]),
                    max_x: a[0].max(b[0]),
                    min_y: a[1].min(b[1]),
                    max_y: a[1].max(b[1]),
                });
            }
        }
        let s = &mut self.segs;
        let mut hit = |g: &Seg, o: &Seg| -> bool {
            valid = false;
            match bad.as_deref_mut() {
                Some(bad) => {
                    bad[g.part as usize] = true;
                    bad[o.part as usize] = true;
                    false
                }
                None => true,
            }
        };
        if s.len() <= BRUTE_FORCE_EDGES {
            for i in 0..s.len() {
                for j in i + 1..s.len() {
                    if s[i].conflicts(&s[j]) && hit(&s[i], &s[j]) {
                        return false;
                    }
                }
            }
        } else {
            // Horizontal strips, each swept over x: an edge is listed in
            // every strip its y range crosses, and a pair is tested only
            // in the strip holding the lowest y the two ranges share
            // (there is exactly one), so each pair is tested once and
            // only against edges near it in y and x. A merged land-use
            // feature has thousands of edges stacked over the whole tile;
            // one sweep over x alone would test each against a column.
            s.sort_unstable_by_key(|g| g.min_x);
            let y0 = s.iter().map(|g| g.min_y).min().unwrap_or(0);
            let y1 = s.iter().map(|g| g.max_y).max().unwrap_or(0);
            let strips = (s.len() / EDGES_PER_STRIP).max(1);
            let h = ((i64::from(y1) - i64::from(y0)) / strips as i64 + 1) as i32;
            let strip = |y: i32| ((y - y0) / h) as usize;
            let n = strip(y1) + 1;
            let starts = &mut self.strip_starts;
            starts.clear();
            starts.resize(n + 1, 0);
            for g in s.iter() {
                for k in strip(g.min_y)..=strip(g.max_y) {
                    starts[k + 1] += 1;
                }
            }
            for k in 0..n {
                starts[k + 1] += starts[k];
            }
            let edges = &mut self.strip_edges;
            edges.clear();
            edges.resize(starts[n], 0);
            let mut fill = starts[..n].to_vec();
            // In min_x order within each strip, as `s` is sorted.
            for (i, g) in s.iter().enumerate() {
                for k in strip(g.min_y)..=strip(g.max_y) {
                    edges[fill[k]] = i as u32;
                    fill[k] += 1;
                }
            }
            for k in 0..n {
                let run = &edges[starts[k]..starts[k + 1]];
                for (a, &i) in run.iter().enumerate() {
                    let g = &s[i as usize];
                    for &j in &run[a + 1..] {
                        let o = &s[j as usize];
                        if o.min_x > g.max_x {
                            break;
                        }
                        if strip(g.min_y.max(o.min_y)) == k && g.conflicts(o) && hit(g, o) {
                            return false;
                        }
                    }
                }
            }
        }
        valid
    }

    /// Rebuilds the feature as valid polygons on the same grid: the area
    /// its rings enclose by the non-zero winding rule (so overlapping
    /// parts merge, a hole poked outside its exterior is ignored outside,
    /// zero-width bridges and spikes vanish), as OGC-valid polygons, each
    /// exterior ring (positive area) followed by its holes. `points` and
    /// `ends` are replaced; nothing is left when the area is empty. Only
    /// the polygons involved in a conflict are rebuilt; the others, which
    /// touch nothing, are kept as they are (after them in the output).
    pub fn repair(&mut self, points: &mut Vec<P>, ends: &mut Vec<usize>) {
        self.rebuild(points, ends, false);
    }

    /// [`Checker::repair`]; with `all`, every polygon is rebuilt.
    fn rebuild(&mut self, points: &mut Vec<P>, ends: &mut Vec<usize>, all: bool) {
        let mut bad = std::mem::take(&mut self.bad);
        bad.clear();
        if all {
            bad.resize(ends.len(), true);
        } else {
            self.scan(points, ends, Some(&mut bad));
        }
        let overlay = self.overlay.get_or_insert_with(|| {
            // Points where the output's rings meet are kept in both rings
            // (`preserve_output_collinear`): a ring passing straight
            // through a point another ring touches would be valid on the
            // grid but not once a client scales the tile to map
            // coordinates in floating point, where the touch becomes a
            // tiny crossing. Shared vertices scale to the same point.
            let options = IntOverlayOptions {
                preserve_output_collinear: true,
                ..IntOverlayOptions::ogc()
            };
            Overlay::new_custom(64, options, Default::default())
        });
        overlay.clear();
        self.kept.clear();
        self.kept_ends.clear();
        let mut part = 0usize;
        for (k, r) in rings(points, ends).enumerate() {
            if k > 0 && signed_area2(r) > 0 {
                part += 1;
            }
            if !bad.get(part).copied().unwrap_or(true) {
                self.kept.extend_from_slice(r);
                self.kept_ends.push(self.kept.len());
            } else if r.len() >= 3 {
                overlay.add_path_iter(
                    r.iter().map(|p| IntPoint::new(p[0], p[1])),
                    ShapeType::Subject,
                );
            }
        }
        self.bad = bad;
        let shapes = overlay.overlay(OverlayRule::Subject, FillRule::NonZero);
        std::mem::swap(points, &mut self.kept);
        std::mem::swap(ends, &mut self.kept_ends);
        for shape in shapes {
            for (k, contour) in shape.iter().enumerate() {
                let start = points.len();
                points.extend(contour.iter().map(|p| [p.x, p.y]));
                let ring = &mut points[start..];
                let a = signed_area2(ring);
                if a == 0 || ring.len() < 3 {
                    points.truncate(start);
                    if k == 0 {
                        break;
                    }
                    continue;
                }
                if (k == 0) != (a > 0) {
                    ring.reverse();
                }
                ends.push(points.len());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two squares bridged by a zero-width spine, as snapping makes them.
    const BRIDGED: &[P] = &[
        [0, 0],
        [4, 0],
        [4, 4],
        [10, 4],
        [10, 0],
        [14, 0],
        [14, 10],
        [10, 10],
        [10, 4],
        [4, 4],
        [4, 10],
        [0, 10],
    ];

    /// The rings as geo polygons (each exterior followed by its holes),
    /// for geo's own validity check: an independent judge.
    fn to_geo(pts: &[P], ends: &[usize]) -> geo_types::MultiPolygon<f64> {
        let mut polys: Vec<(Vec<P>, Vec<Vec<P>>)> = Vec::new();
        for r in rings(pts, ends) {
            if signed_area2(r) > 0 {
                polys.push((r.to_vec(), Vec::new()));
            } else {
                polys
                    .last_mut()
                    .expect("a hole after its exterior")
                    .1
                    .push(r.to_vec());
            }
        }
        let line = |r: &[P]| {
            geo_types::LineString::from(
                r.iter()
                    .map(|p| (f64::from(p[0]), f64::from(p[1])))
                    .collect::<Vec<_>>(),
            )
        };
        geo_types::MultiPolygon(
            polys
                .iter()
                .map(|(e, h)| geo_types::Polygon::new(line(e), h.iter().map(|r| line(r)).collect()))
                .collect(),
        )
    }

    /// Cleans, checks and (when needed) repairs; the result must satisfy
    /// geo's validation.
    fn check(rings_in: &[&[P]]) -> (bool, Vec<P>, Vec<usize>) {
        let mut pts = Vec::new();
        let mut ends = Vec::new();
        for r in rings_in {
            let mut r = r.to_vec();
            clean_ring(&mut r);
            if !r.is_empty() {
                pts.extend_from_slice(&r);
                ends.push(pts.len());
            }
        }
        let mut c = Checker::default();
        let valid = c.is_valid(&pts, &ends);
        if !valid {
            c.repair(&mut pts, &mut ends);
        }
        let g = to_geo(&pts, &ends);
        assert!(geo::Validation::is_valid(&g), "{g:?}");
        (valid, pts, ends)
    }

    fn area(pts: &[P], ends: &[usize]) -> i64 {
        rings(pts, ends).map(signed_area2).sum()
    }

    #[test]
    fn cleaning_drops_repeats_straight_runs_and_spikes_across_the_seam() {
        let mut r = vec![
            [0, 0],
            [5, 0],
            [10, 0],
            [10, 0],
            [10, 10],
            [10, 20],
            [10, 10],
            [0, 10],
            [0, 5],
        ];
        clean_ring(&mut r);
        assert_eq!(r, [[0, 0], [10, 0], [10, 10], [0, 10]]);
        // A spike whose tip is the first point.
        let mut r = vec![
            [20, 5],
            [10, 5],
            [10, 10],
            [0, 10],
            [0, 0],
            [10, 0],
            [10, 5],
        ];
        clean_ring(&mut r);
        assert_eq!(signed_area2(&r).abs(), 200);
        assert_eq!(r.len(), 4);
        for degenerate in [
            vec![],
            vec![[1, 1]],
            vec![[0, 0], [5, 5], [9, 9], [2, 2]],
            vec![[3, 3]; 5],
        ] {
            let mut r = degenerate;
            clean_ring(&mut r);
            assert!(r.is_empty(), "{r:?}");
        }
    }

    #[test]
    fn a_plain_polygon_with_a_hole_is_valid_and_left_alone() {
        let ext: &[P] = &[[0, 0], [100, 0], [100, 100], [0, 100]];
        let hole: &[P] = &[[10, 10], [10, 20], [20, 20], [20, 10]];
        let (valid, pts, ends) = check(&[ext, hole]);
        assert!(valid);
        assert_eq!(ends, [4, 8]);
        assert_eq!(area(&pts, &ends), 2 * (10_000 - 100));
    }

    #[test]
    fn a_bowtie_becomes_two_triangles_wound_as_exteriors() {
        let (valid, pts, ends) = check(&[&[[0, 0], [10, 10], [10, 0], [0, 10]]]);
        assert!(!valid);
        assert_eq!(ends.len(), 2);
        for r in rings(&pts, &ends) {
            assert_eq!(signed_area2(r), 50);
        }
    }

    #[test]
    fn a_zero_width_bridge_along_the_clip_edge_splits_the_ring() {
        // What Sutherland–Hodgman leaves of a U clipped at x = 10: two
        // boxes joined by an edge run out and back along x = 10.
        let u: &[P] = &[
            [0, 0],
            [10, 0],
            [10, 4],
            [4, 4],
            [4, 6],
            [10, 6],
            [10, 10],
            [0, 10],
        ];
        let (valid, _, _) = check(&[u]);
        assert!(valid, "a C shape is fine");
        let bridged: &[P] = BRIDGED;
        let (valid, pts, ends) = check(&[bridged]);
        assert!(!valid);
        assert_eq!(ends.len(), 2, "{pts:?}");
        assert_eq!(area(&pts, &ends), 2 * (40 + 40));
    }

    #[test]
    fn a_hole_snapped_onto_its_exterior_is_merged_into_it() {
        let ext: &[P] = &[[0, 0], [10, 0], [10, 10], [0, 10]];
        let hole: &[P] = &[[0, 2], [0, 4], [3, 4], [3, 2]];
        let (valid, pts, ends) = check(&[ext, hole]);
        assert!(!valid);
        assert_eq!(area(&pts, &ends), 2 * (100 - 6));
        assert!(
            rings(&pts, &ends).all(|r| signed_area2(r) > 0),
            "the notch is part of the exterior"
        );
    }

    #[test]
    fn only_the_polygons_in_a_conflict_are_rebuilt() {
        let far: &[P] = &[[100, 100], [110, 100], [110, 110], [100, 110]];
        let bridged: &[P] = BRIDGED;
        let (valid, pts, ends) = check(&[far, bridged]);
        assert!(!valid);
        assert_eq!(
            &pts[..4],
            far,
            "the untouched square comes first, as it was"
        );
        assert_eq!(ends.len(), 3, "{pts:?}");
    }

    #[test]
    fn random_rings_never_panic_and_come_out_valid() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let mut c = Checker::default();
        for round in 0..2_000 {
            let (mut pts, mut ends) = (Vec::new(), Vec::new());
            let span = if round % 2 == 0 { 12 } else { 4_200 };
            for _ in 0..rng.gen_range(1..4) {
                let mut r: Vec<P> = (0..rng.gen_range(0..12))
                    .map(|_| [rng.gen_range(-64..span), rng.gen_range(-64..span)])
                    .collect();
                clean_ring(&mut r);
                pts.extend_from_slice(&r);
                if !r.is_empty() {
                    ends.push(pts.len());
                }
            }
            // A single ring wound as an exterior that the check passes is
            // valid for geo too (the check may refuse more, never less).
            if ends.len() == 1 {
                if signed_area2(&pts) < 0 {
                    pts.reverse();
                }
                if c.is_valid(&pts, &ends) {
                    let g = to_geo(&pts, &ends);
                    assert!(geo::Validation::is_valid(&g), "round {round}: {g:?}");
                }
            }
            // The check never panics; the rebuild (of every polygon, run on
            // every case here) always gives valid polygons, whatever the
            // rings were.
            let _ = c.is_valid(&pts, &ends);
            c.rebuild(&mut pts, &mut ends, true);
            for r in rings(&pts, &ends) {
                assert!(r.len() >= 3 && signed_area2(r) != 0, "round {round}: {r:?}");
            }
            let g = to_geo(&pts, &ends);
            assert!(geo::Validation::is_valid(&g), "round {round}: {g:?}");
        }
    }
}
