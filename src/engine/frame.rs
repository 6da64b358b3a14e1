//! The single-precision frame of a spatial index: Web Mercator metres
//! (`f64`) relative to a fixed origin, stored as `f32` and rounded
//! *outward*, so that every stored box contains the true one.
//!
//! Why: an R-tree entry of four `f64` and a row (40 bytes) made every node
//! of rstar's tree 56–64 bytes; in `f32` a node takes 40 (see
//! [`super::index`]). Relative to an origin in the middle of the indexed
//! boxes, `f32` keeps about a centimetre at 100 km from it, and about two
//! metres across the whole Web Mercator world: plenty for choosing
//! candidates, which are always checked exactly on their `f64` geometry
//! afterwards.
//!
//! How rounding keeps answers exact, with `down(v)` the largest `f32` at
//! most `v − origin` and `up(v)` the smallest at least it (both computed
//! exactly, see [`Frame::down`]):
//! * both are monotone and `down ≤ up`, so a box `[down(lo), up(hi)]`
//!   meets a query stored the same way whenever the true boxes meet
//!   (touching included): a query finds a superset of what it found in
//!   `f64` ([`Frame::outward`]);
//! * a stored box inside a query box rounded *inward* (`[up(lo),
//!   down(hi)]`) proves the true box inside the true query
//!   ([`Frame::inward`]);
//! * a distance measured to a stored box is never more than the distance
//!   to the true box ([`Frame::nearest_slack`] bounds what the query point's
//!   own rounding adds).
//!
//! Values beyond the `f32` range (never seen in Web Mercator, whose world
//! is ±2·10⁷ m) saturate at ±[`f32::MAX`] and a NaN query becomes the
//! whole range, so the tree never holds an infinity or a NaN. The first
//! property holds everywhere; the other two are only claimed within the
//! range ([`Frame::inward`] gives None beyond it, and a saturated point's
//! slack is infinite).

use geo_types::{Coord, Rect};
use rstar::AABB;

/// The corners of a rectangle rounded inward ([`Frame::inward_corners`]):
/// `lo` rounded up, `hi` down.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Inward {
    /// Lower corner, rounded up.
    pub lo: [f32; 2],
    /// Upper corner, rounded down.
    pub hi: [f32; 2],
}

/// An `f32` frame: coordinates relative to `origin`, rounded outward.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Frame {
    origin: Coord<f64>,
}

impl Default for Frame {
    fn default() -> Self {
        Frame::new(Coord { x: 0.0, y: 0.0 })
    }
}

/// The exact rounding error of `a + b` (Knuth's TwoSum): `a + b` is
/// `fl(a + b) + err` exactly, barring overflow.
fn two_sum_err(a: f64, b: f64, s: f64) -> f64 {
    let bb = s - a;
    (a - (s - bb)) + (b - bb)
}

/// `x − o` as an `f64` (rounded to nearest) and the sign of what that
/// rounding lost: negative when the exact difference is below it.
fn difference(x: f64, o: f64) -> (f64, f64) {
    let d = x - o;
    if !d.is_finite() {
        return (d, 0.0);
    }
    (d, two_sum_err(x, -o, d))
}

impl Frame {
    /// A frame with this origin (Web Mercator metres). A NaN or infinite
    /// origin gives the frame at (0, 0).
    pub fn new(origin: Coord<f64>) -> Frame {
        let ok = |v: f64| if v.is_finite() { v } else { 0.0 };
        Frame {
            origin: Coord {
                x: ok(origin.x),
                y: ok(origin.y),
            },
        }
    }

    /// The frame centred on `r` (rounded to whole metres): the one that
    /// keeps most precision for boxes within `r`.
    pub fn centred_on(r: &Rect<f64>) -> Frame {
        let mid = |a: f64, b: f64| (a / 2.0 + b / 2.0).round();
        Frame::new(Coord {
            x: mid(r.min().x, r.max().x),
            y: mid(r.min().y, r.max().y),
        })
    }

    /// The origin.
    pub fn origin(&self) -> Coord<f64> {
        self.origin
    }

    /// The largest `f32` not above `x − o` (exactly: the rounding of the
    /// `f64` subtraction is accounted for), saturated at −[`f32::MAX`];
    /// NaN gives −[`f32::MAX`].
    pub fn down(x: f64, o: f64) -> f32 {
        let (d, err) = difference(x, o);
        if d.is_nan() {
            return -f32::MAX;
        }
        let mut f = d as f32; // nearest, saturating to ±inf
        if f64::from(f) > d || (f64::from(f) == d && err < 0.0) {
            f = f.next_down();
        }
        f.clamp(-f32::MAX, f32::MAX)
    }

    /// The smallest `f32` not below `x − o` (exactly), saturated at
    /// [`f32::MAX`]; NaN gives [`f32::MAX`].
    pub fn up(x: f64, o: f64) -> f32 {
        let (d, err) = difference(x, o);
        if d.is_nan() {
            return f32::MAX;
        }
        let mut f = d as f32;
        if f64::from(f) < d || (f64::from(f) == d && err > 0.0) {
            f = f.next_up();
        }
        f.clamp(-f32::MAX, f32::MAX)
    }

    /// `r` in the frame, rounded outward: the stored box of a feature, and
    /// the form of a query that must find every box meeting `r`.
    pub fn outward(&self, r: &Rect<f64>) -> AABB<[f32; 2]> {
        let o = self.origin;
        AABB::from_corners(
            [Frame::down(r.min().x, o.x), Frame::down(r.min().y, o.y)],
            [Frame::up(r.max().x, o.x), Frame::up(r.max().y, o.y)],
        )
    }

    /// `r` in the frame, rounded inward: a stored box inside it has its
    /// true box inside `r`. None when `r` is empty once rounded, or reaches
    /// beyond the frame's range (then nothing can be proven inside).
    pub fn inward(&self, r: &Rect<f64>) -> Option<AABB<[f32; 2]>> {
        let Inward { lo, hi } = self.inward_corners(r);
        let in_range = |v: f32| v > -f32::MAX && v < f32::MAX;
        let ok = lo.iter().chain(&hi).all(|v| in_range(*v)) && lo[0] <= hi[0] && lo[1] <= hi[1];
        ok.then(|| AABB::from_corners(lo, hi))
    }

    /// The corners of `r` rounded inward, as they are (the box they make
    /// may be inverted): what [`Frame::certainly_meets`] takes.
    pub fn inward_corners(&self, r: &Rect<f64>) -> Inward {
        let o = self.origin;
        Inward {
            lo: [Frame::up(r.min().x, o.x), Frame::up(r.min().y, o.y)],
            hi: [Frame::down(r.max().x, o.x), Frame::down(r.max().y, o.y)],
        }
    }

    /// True when a stored box `s` (a true box rounded outward in this
    /// frame) proves that the true box meets the rectangle whose inward
    /// corners are `q` (edges included). False means "cannot tell": the
    /// box lies within rounding of the rectangle's edge, or misses it.
    ///
    /// Rounding down is tight (the true lower edge lies below the next
    /// `f32` above `s`'s), so `s.lower < q.hi` gives `true.lower <
    /// r.max`; likewise for the upper edge. Saturated values never pass.
    pub fn certainly_meets(s: &AABB<[f32; 2]>, q: &Inward) -> bool {
        let (lo, hi) = (s.lower(), s.upper());
        (0..2).all(|k| lo[k] < q.hi[k] && q.lo[k] < hi[k])
    }

    /// A point in the frame, rounded to nearest (for distance ordering;
    /// see [`Frame::nearest_slack`]). None for NaN.
    pub fn point(&self, p: Coord<f64>) -> Option<[f32; 2]> {
        if p.x.is_nan() || p.y.is_nan() {
            return None;
        }
        let f = |x: f64, o: f64| ((x - o) as f32).clamp(-f32::MAX, f32::MAX);
        Some([f(p.x, self.origin.x), f(p.y, self.origin.y)])
    }

    /// How far the point [`Frame::point`] gave may lie from the true
    /// point (in metres, an upper bound): the gap to the next `f32` above
    /// each coordinate, summed; infinite when the point saturated.
    pub fn nearest_slack(q: [f32; 2]) -> f64 {
        let gap = |v: f32| {
            let a = v.abs();
            if a >= f32::MAX {
                f64::INFINITY
            } else {
                f64::from(a.next_up()) - f64::from(a)
            }
        };
        gap(q[0]) + gap(q[1])
    }

    /// A lower bound of the true distance (metres) from a point to a
    /// feature's true box, given `d2`, the squared distance rstar computed
    /// in `f32` from the rounded point `q` to the stored box. Monotone in
    /// `d2`, so entries met in order of `d2` are met in order of bound.
    ///
    /// rstar's `f32` arithmetic (a subtraction, a square and a sum per
    /// entry) errs by a few parts in 10⁷ and an underflow's absolute 10⁻⁴⁵;
    /// an overflowed square means at least `f32::MAX`. The stored box
    /// contains the true one, so only the point's rounding
    /// ([`Frame::nearest_slack`]) is subtracted besides.
    pub fn distance_bound(q: [f32; 2], d2: f32) -> f64 {
        if d2.is_nan() {
            return 0.0;
        }
        let d2 = f64::from(d2.min(f32::MAX));
        let d = d2.sqrt() * (1.0 - 1e-6) - 1e-20 - Frame::nearest_slack(q);
        d.max(0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small deterministic generator (xorshift), so failures reproduce.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn unit(&mut self) -> f64 {
            (self.next() >> 11) as f64 / (1u64 << 53) as f64
        }
        /// A value of any magnitude and sign: random bits of an `f64`,
        /// retried past NaN and infinity.
        fn any(&mut self) -> f64 {
            loop {
                let v = f64::from_bits(self.next());
                if v.is_finite() {
                    return v;
                }
            }
        }
    }

    /// Exact comparison of an `f32` with `x − o` as real numbers: the sign
    /// of `f + o − x`, summed as a nonoverlapping expansion (Shewchuk's
    /// Grow-Expansion over TwoSum), whose largest nonzero component has
    /// the sign of the exact sum.
    fn cmp_exact(f: f32, x: f64, o: f64) -> std::cmp::Ordering {
        let mut e: Vec<f64> = Vec::new();
        for b in [f64::from(f), o, -x] {
            let mut q = b;
            let mut h = Vec::with_capacity(e.len() + 1);
            for &ei in &e {
                let s = q + ei;
                h.push(two_sum_err(q, ei, s));
                q = s;
            }
            h.push(q);
            e = h;
        }
        e.iter()
            .rev()
            .find(|v| **v != 0.0)
            .map_or(std::cmp::Ordering::Equal, |v| v.partial_cmp(&0.0).unwrap())
    }

    fn check(x: f64, o: f64) {
        let (d, u) = (Frame::down(x, o), Frame::up(x, o));
        assert!(d <= u, "down {d} > up {u} for {x} − {o}");
        let diff = x - o;
        if diff.is_finite() && diff.abs() < f64::from(f32::MAX) / 2.0 {
            use std::cmp::Ordering::*;
            assert_ne!(cmp_exact(d, x, o), Greater, "down {d} above {x} − {o}");
            assert_ne!(cmp_exact(u, x, o), Less, "up {u} below {x} − {o}");
            // Tight: the next f32 inward is on the wrong side.
            assert_eq!(cmp_exact(d.next_up(), x, o), Greater, "down {d} not tight");
            assert_eq!(cmp_exact(u.next_down(), x, o), Less, "up {u} not tight");
        }
    }

    #[test]
    fn directed_rounding_brackets_the_exact_difference() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for _ in 0..200_000 {
            // Web Mercator-like values around a city origin.
            let o = (rng.unit() - 0.5) * 4.0e7;
            let x = o + (rng.unit() - 0.5) * 2.0e5;
            check(x, o);
            // Anywhere in the world, and a tiny offset from the origin.
            check((rng.unit() - 0.5) * 4.0e7, o);
            check(o + (rng.unit() - 0.5) * 1e-9, o);
            // Any finite doubles at all.
            check(rng.any(), rng.any());
            check(rng.any(), 0.0);
        }
        // Cases where the f64 subtraction itself rounds.
        for (x, o) in [
            (1e-30, 1.0),
            (-1e-30, 1.0),
            (1.0 + f64::EPSILON, 1e-20),
            (12_345_678.901_234_567, -0.000_000_123),
            (-20_037_508.342_789_244, 20_037_508.342_789_244),
            (0.1, 0.0),
            (f64::from(f32::MAX), 0.0),
            (f64::MIN_POSITIVE, 0.0),
            (-f64::MIN_POSITIVE, 0.0),
            (5e-324, 0.0),
            (0.0, 0.0),
            (-0.0, 0.0),
        ] {
            check(x, o);
            check(-x, o);
            check(x, -o);
        }
    }

    #[test]
    fn out_of_range_values_saturate_and_nan_takes_the_whole_range() {
        assert_eq!(Frame::down(1e300, 0.0), f32::MAX);
        assert_eq!(Frame::up(1e300, 0.0), f32::MAX);
        assert_eq!(Frame::down(-1e300, 0.0), -f32::MAX);
        assert_eq!(Frame::up(-1e300, 0.0), -f32::MAX);
        assert_eq!(Frame::down(f64::MAX, -f64::MAX), f32::MAX);
        assert_eq!(Frame::up(-f64::MAX, f64::MAX), -f32::MAX);
        assert_eq!(Frame::down(f64::INFINITY, 0.0), f32::MAX);
        assert_eq!(Frame::up(f64::NEG_INFINITY, 0.0), -f32::MAX);
        assert_eq!(Frame::down(f64::NAN, 0.0), -f32::MAX);
        assert_eq!(Frame::up(f64::NAN, 0.0), f32::MAX);
        let f = Frame::default();
        let huge = Rect::new(Coord { x: -1e300, y: 0.0 }, Coord { x: 1.0, y: 1.0 });
        assert!(f.inward(&huge).is_none());
        assert!(f.outward(&huge).lower()[0] == -f32::MAX);
        assert_eq!(
            Frame::new(Coord {
                x: f64::NAN,
                y: f64::INFINITY
            }),
            f
        );
    }

    #[test]
    fn an_outward_box_contains_the_true_one_and_an_inward_box_lies_within() {
        let mut rng = Rng(7);
        for _ in 0..50_000 {
            let c = Coord {
                x: (rng.unit() - 0.5) * 4.0e7,
                y: (rng.unit() - 0.5) * 4.0e7,
            };
            let f = Frame::new(Coord {
                x: c.x + (rng.unit() - 0.5) * 1e6,
                y: c.y + (rng.unit() - 0.5) * 1e6,
            });
            let w = rng.unit() * 50.0;
            let r = Rect::new(
                c,
                Coord {
                    x: c.x + w,
                    y: c.y + w * rng.unit(),
                },
            );
            let o = f.origin();
            let out = f.outward(&r);
            let lower = out.lower();
            let upper = out.upper();
            use std::cmp::Ordering::*;
            assert_ne!(cmp_exact(lower[0], r.min().x, o.x), Greater);
            assert_ne!(cmp_exact(lower[1], r.min().y, o.y), Greater);
            assert_ne!(cmp_exact(upper[0], r.max().x, o.x), Less);
            assert_ne!(cmp_exact(upper[1], r.max().y, o.y), Less);
            if let Some(inn) = f.inward(&r) {
                assert_ne!(cmp_exact(inn.lower()[0], r.min().x, o.x), Less);
                assert_ne!(cmp_exact(inn.lower()[1], r.min().y, o.y), Less);
                assert_ne!(cmp_exact(inn.upper()[0], r.max().x, o.x), Greater);
                assert_ne!(cmp_exact(inn.upper()[1], r.max().y, o.y), Greater);
            }
        }
    }

    #[test]
    fn certainly_meets_never_claims_a_miss_and_decides_all_but_edge_cases() {
        let mut rng = Rng(3);
        let mut undecided = 0;
        let n = 200_000;
        for i in 0..n {
            let f = Frame::new(Coord {
                x: 12_000_000.0 + rng.unit() * 1e5,
                y: 1_800_000.0 + rng.unit() * 1e5,
            });
            let o = f.origin();
            // Boxes and queries near each other, with edges that often
            // coincide exactly or differ by an f64 ulp.
            let at = |rng: &mut Rng| {
                let v = (rng.unit() * 40.0).round() * 0.25 + rng.unit() * 1e-9;
                Coord {
                    x: o.x + 3e4 + v,
                    y: o.y - 3e4 + v * 0.5,
                }
            };
            let t = Rect::new(at(&mut rng), at(&mut rng));
            let mut r = Rect::new(at(&mut rng), at(&mut rng));
            if i % 3 == 0 {
                // A query whose edge is exactly the box's.
                r = Rect::new(t.max(), r.max());
            }
            let meets = t.min().x <= r.max().x
                && r.min().x <= t.max().x
                && t.min().y <= r.max().y
                && r.min().y <= t.max().y;
            let s = f.outward(&t);
            let certain = Frame::certainly_meets(&s, &f.inward_corners(&r));
            assert!(!certain || meets, "{t:?} claimed to meet {r:?}");
            if meets {
                // The superset property: the outward boxes meet.
                use rstar::Envelope;
                assert!(s.intersects(&f.outward(&r)));
                if !certain {
                    undecided += 1;
                }
            }
        }
        // Only boxes with an edge on (or within a centimetre of) the
        // query's are left undecided.
        assert!(undecided < n / 2, "{undecided}");
    }

    #[test]
    fn the_distance_bound_never_exceeds_the_true_distance() {
        let mut rng = Rng(11);
        for i in 0..100_000 {
            let scale = [1e-3, 1.0, 1e3, 1e5, 2e7][i % 5];
            let f = Frame::new(Coord {
                x: (rng.unit() - 0.5) * 4.0e7,
                y: (rng.unit() - 0.5) * 4.0e7,
            });
            let o = f.origin();
            let at = |rng: &mut Rng| Coord {
                x: o.x + (rng.unit() - 0.5) * scale,
                y: o.y + (rng.unit() - 0.5) * scale,
            };
            let (a, b, p) = (at(&mut rng), at(&mut rng), at(&mut rng));
            let r = Rect::new(a, b);
            // The true distance from p to r, in f64 (its own error is far
            // below the margin tested here).
            let dx = (r.min().x - p.x).max(0.0).max(p.x - r.max().x);
            let dy = (r.min().y - p.y).max(0.0).max(p.y - r.max().y);
            let truth = dx.hypot(dy);
            let q = f.point(p).unwrap();
            let d2 = f.outward(&r).distance_2(&q);
            let bound = Frame::distance_bound(q, d2);
            assert!(
                bound <= truth * (1.0 + 1e-12),
                "bound {bound} > true {truth} (scale {scale})"
            );
        }
        // An overflowed square still bounds (at f32::MAX's root).
        let q = [0.0f32, 0.0];
        assert!(Frame::distance_bound(q, f32::INFINITY) > 1e19);
        assert_eq!(Frame::distance_bound(q, f32::NAN), 0.0);
        assert_eq!(Frame::nearest_slack([f32::MAX, 0.0]), f64::INFINITY);
    }
}
