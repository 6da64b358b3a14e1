//! The spatial index of a layer part or a generalised level: an R-tree
//! (rstar, bulk loaded) over feature envelopes held in `f32`, in a
//! [`Frame`] centred on the indexed boxes and rounded outward.
//!
//! Queries take `f64` Web Mercator rectangles and points and convert them
//! into the frame themselves (outward or inward, as each answer needs);
//! callers never see an `f32`. Two kinds of answer:
//! * *candidates* ([`SpatialIndex::intersecting`], [`SpatialIndex::nearest`],
//!   [`SpatialIndex::in_nodes_meeting_any`]): a superset of the rows whose
//!   true envelope meets the query (touching included), never missing
//!   one, with at most a few whose envelope is within rounding (millimetres)
//!   of it; for callers that check each candidate exactly afterwards;
//! * *exact* ([`SpatialIndex::intersecting_exactly`],
//!   [`SpatialIndex::intersecting_exactly_inside`]): the rows an `f64` R-tree
//!   answered, no more, no fewer. The stored box decides nearly every row;
//!   one within rounding of the query's edge is tested on its exact
//!   envelope, which the caller computes from the geometry.
//!
//! Nothing read from the tree is shown to users or used as a number:
//! extents come from [`SpatialIndex::bounds`], the exact `f64` union.
//!
//! The memory this saves (issue #12): a leaf was 40 bytes (`f64` box and
//! row) and, as rstar's node enum is as large as a parent node (children
//! vector and `f64` box), every node took 56 (64 as older compilers laid
//! the enum out); now a leaf is 20 bytes and a node 40 (see the test on
//! the node size).

use super::frame::Frame;
use crate::model::{rect_covers as covers, union_rect};
use geo_types::{Coord, Rect};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{Envelope, RTree, RTreeNode, RTreeObject, SelectionFunction, AABB};

/// R-tree entry: a feature's envelope in the index's frame (rounded
/// outward) and its row.
pub type Entry = GeomWithData<Rectangle<[f32; 2]>, u32>;

/// An R-tree over `f64` boxes, stored in `f32` (see the module docs).
/// Row numbers are `u32`: a part holds fewer than 2³² features.
#[derive(Debug, Default)]
pub struct SpatialIndex {
    frame: Frame,
    /// The exact union of the indexed boxes.
    bounds: Option<Rect<f64>>,
    tree: RTree<Entry>,
}

/// Selects the nodes meeting any of a set of boxes (and all their
/// leaves), for [`SpatialIndex::in_nodes_meeting_any`].
struct AnyOf(RTree<Rectangle<[f32; 2]>>);

impl SelectionFunction<Entry> for AnyOf {
    fn should_unpack_parent(&self, envelope: &AABB<[f32; 2]>) -> bool {
        self.0
            .locate_in_envelope_intersecting(envelope)
            .next()
            .is_some()
    }
}

/// True when two rectangles meet (edges included).
fn meets(a: &Rect<f64>, b: &Rect<f64>) -> bool {
    a.min().x <= b.max().x
        && b.min().x <= a.max().x
        && a.min().y <= b.max().y
        && b.min().y <= a.max().y
}

impl SpatialIndex {
    /// Bulk loads the boxes `(row, envelope)` (Web Mercator), in a frame
    /// centred on their union. The iterator is walked twice (the union
    /// first), so no `f64` copy of the boxes is ever held. A box with a NaN
    /// coordinate is left out: no comparison could ever find it.
    pub fn new<I>(boxes: I) -> SpatialIndex
    where
        I: Iterator<Item = (u32, Rect<f64>)> + Clone,
    {
        let boxes = boxes.filter(|(_, r)| {
            let (a, b) = (r.min(), r.max());
            !(a.x.is_nan() || a.y.is_nan() || b.x.is_nan() || b.y.is_nan())
        });
        let bounds = boxes.clone().map(|(_, r)| r).reduce(union_rect);
        let frame = bounds.as_ref().map(Frame::centred_on).unwrap_or_default();
        let entries: Vec<Entry> = boxes
            .map(|(row, r)| {
                let b = frame.outward(&r);
                GeomWithData::new(Rectangle::from_corners(b.lower(), b.upper()), row)
            })
            .collect();
        SpatialIndex {
            frame,
            bounds,
            tree: RTree::bulk_load(entries),
        }
    }

    /// The boxes of every feature of `geometry` that has one (row = the
    /// feature's index).
    pub fn of(geometry: &crate::model::FlatGeometry) -> SpatialIndex {
        SpatialIndex::new(
            (0..geometry.len()).filter_map(|i| geometry.bbox(i).map(|r| (i as u32, r))),
        )
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.tree.size()
    }

    /// True when nothing is indexed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The exact union of the indexed boxes (`f64`, as given), None when
    /// empty: what extents shown to users are made of.
    pub fn bounds(&self) -> Option<Rect<f64>> {
        self.bounds
    }

    /// Candidates meeting `r` (edges included): every row whose true
    /// envelope does, and perhaps a few within rounding of it.
    pub fn intersecting(&self, r: &Rect<f64>) -> impl Iterator<Item = u32> + '_ {
        self.tree
            .locate_in_envelope_intersecting(&self.frame.outward(r))
            .map(|e| e.data)
    }

    /// Rows whose true envelope meets `r` (edges included): exactly what
    /// an `f64` R-tree answered. A candidate the stored box cannot decide
    /// (one within rounding of `r`'s edge: a few millimetres) is tested on
    /// `envelope(row)`, its exact envelope; the others never call it.
    pub fn intersecting_exactly<'a, F>(
        &'a self,
        r: &Rect<f64>,
        envelope: F,
    ) -> impl Iterator<Item = u32> + 'a
    where
        F: Fn(u32) -> Option<Rect<f64>> + 'a,
    {
        let r = *r;
        let q = self.frame.inward_corners(&r);
        self.tree
            .locate_in_envelope_intersecting(&self.frame.outward(&r))
            .filter(move |e| {
                Frame::certainly_meets(&e.envelope(), &q)
                    || envelope(e.data).is_some_and(|t| meets(&t, &r))
            })
            .map(|e| e.data)
    }

    /// As [`SpatialIndex::intersecting_exactly`], each row with whether its true
    /// envelope lies inside `inner` (edges included), exactly. `envelope`
    /// is called at most once per row, only for one within rounding of an
    /// edge of `r` or `inner`.
    pub fn intersecting_exactly_inside<'a, F>(
        &'a self,
        r: &Rect<f64>,
        inner: &Rect<f64>,
        envelope: F,
    ) -> impl Iterator<Item = (u32, bool)> + 'a
    where
        F: Fn(u32) -> Option<Rect<f64>> + 'a,
    {
        let (r, inner) = (*r, *inner);
        let q = self.frame.inward_corners(&r);
        // Inside the inward box: certainly inside. Outside the outward
        // box: certainly not (a true box inside `inner` has its stored
        // box inside `inner` rounded outward, the rounding being
        // monotone). Between the two: ask the geometry.
        let sure = self.frame.inward(&inner);
        let possible = self.frame.outward(&inner);
        self.tree
            .locate_in_envelope_intersecting(&self.frame.outward(&r))
            .filter_map(move |e| {
                let b = e.envelope();
                let mut exact: Option<Option<Rect<f64>>> = None;
                let mut env = || *exact.get_or_insert_with(|| envelope(e.data));
                let hit = Frame::certainly_meets(&b, &q) || env().is_some_and(|t| meets(&t, &r));
                if !hit {
                    return None;
                }
                let inside = if sure.is_some_and(|s| s.contains_envelope(&b)) {
                    true
                } else if possible.contains_envelope(&b) {
                    env().is_some_and(|t| covers(&inner, &t))
                } else {
                    false
                };
                Some((e.data, inside))
            })
    }

    /// Rows in order of distance from `p`, each with a lower bound of the
    /// distance (metres) from `p` to its true envelope; the bounds never
    /// decrease along the iteration, so once one exceeds a distance found,
    /// no later row can be nearer.
    pub fn nearest(&self, p: Coord<f64>) -> Box<dyn Iterator<Item = (u32, f64)> + '_> {
        match self.frame.point(p) {
            Some(q) => Box::new(
                self.tree
                    .nearest_neighbor_iter_with_distance_2(&q)
                    .map(move |(e, d2)| (e.data, Frame::distance_bound(q, d2))),
            ),
            // A NaN point: every row, bound 0 (the caller's exact test
            // decides).
            None => Box::new(self.tree.iter().map(|e| (e.data, 0.0))),
        }
    }

    /// The rows under every index node meeting any of `rects`, each once,
    /// in one walk however much the rectangles overlap: all the leaves of
    /// a node that does are taken (a few too many; callers check every
    /// condition exactly on each candidate, and testing each leaf would
    /// cost more than it saves). Every row whose true envelope meets one
    /// of `rects` is among them.
    pub fn in_nodes_meeting_any(&self, rects: &[Rect<f64>]) -> impl Iterator<Item = u32> + '_ {
        let boxes: Vec<Rectangle<[f32; 2]>> = rects
            .iter()
            .map(|r| {
                let b = self.frame.outward(r);
                Rectangle::from_corners(b.lower(), b.upper())
            })
            .collect();
        self.tree
            .locate_with_selection_function(AnyOf(RTree::bulk_load(boxes)))
            .map(|e| e.data)
    }

    /// An estimate of the share of the indexed rows whose box meets one of
    /// `rects`, from the first level of the tree with at least 256 nodes:
    /// the share of those nodes meeting one. A bulk-loaded tree's nodes of
    /// one level hold about as many rows each, so the estimate follows
    /// where the rows are dense, as a share of area would not; it reads a
    /// few hundred nodes however many rows there are.
    pub fn share_meeting_any(&self, rects: &[Rect<f64>]) -> f64 {
        let boxes: RTree<Rectangle<[f32; 2]>> = RTree::bulk_load(
            rects
                .iter()
                .map(|r| {
                    let b = self.frame.outward(r);
                    Rectangle::from_corners(b.lower(), b.upper())
                })
                .collect(),
        );
        let mut level: Vec<&RTreeNode<Entry>> = self.tree.root().children().iter().collect();
        while level.len() < 256 && level.iter().any(|n| matches!(n, RTreeNode::Parent(_))) {
            level = level
                .into_iter()
                .flat_map(|n| match n {
                    RTreeNode::Parent(p) => p.children().iter().collect::<Vec<_>>(),
                    leaf => vec![leaf],
                })
                .collect();
        }
        if level.is_empty() {
            return 0.0;
        }
        let meeting = level
            .iter()
            .filter(|n| {
                boxes
                    .locate_in_envelope_intersecting(&n.envelope())
                    .next()
                    .is_some()
            })
            .count();
        meeting as f64 / level.len() as f64
    }

    /// Heap bytes held by the tree's nodes: every node's children array,
    /// walked (rstar keeps children in exactly sized vectors after a bulk
    /// load).
    pub fn heap_bytes(&self) -> usize {
        let mut bytes = 0;
        let mut stack = vec![self.tree.root()];
        while let Some(parent) = stack.pop() {
            bytes += std::mem::size_of_val(parent.children());
            for child in parent.children() {
                if let RTreeNode::Parent(p) = child {
                    stack.push(p);
                }
            }
        }
        bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rect(x0: f64, y0: f64, x1: f64, y1: f64) -> Rect<f64> {
        Rect::new(Coord { x: x0, y: y0 }, Coord { x: x1, y: y1 })
    }

    #[test]
    fn a_node_is_40_bytes() {
        // A leaf: four f32 and a row. A parent: its children's Vec and an
        // f32 box; the enum fits the leaf beside the Vec's niche.
        assert_eq!(std::mem::size_of::<Entry>(), 20);
        let node = std::mem::size_of::<RTreeNode<Entry>>();
        assert!(node <= 40, "{node} bytes");
        // With f64 boxes a leaf was 40 bytes and a node 56 or 64 (as the
        // compiler lays the enum out).
        let f64_node = std::mem::size_of::<RTreeNode<GeomWithData<Rectangle<[f64; 2]>, u32>>>();
        assert!(f64_node >= 56, "{f64_node} bytes");
    }

    /// Parcel-like boxes far from the origin: a 300 × 300 grid of 20 m
    /// cells at Đà Nẵng's Web Mercator position, whose edges (shared by
    /// neighbours) are not representable in f32 there.
    fn grid() -> (Vec<Rect<f64>>, SpatialIndex) {
        let (x0, y0) = (12_028_000.123_456_7, 1_800_000.987_654_3);
        let mut boxes = Vec::new();
        for i in 0..300 {
            for j in 0..300 {
                let (x, y) = (x0 + f64::from(i) * 20.0, y0 + f64::from(j) * 20.0);
                boxes.push(rect(x, y, x + 20.0, y + 20.0));
            }
        }
        let ix = SpatialIndex::new(boxes.iter().enumerate().map(|(i, r)| (i as u32, *r)));
        (boxes, ix)
    }

    #[test]
    fn the_share_meeting_rectangles_follows_the_rows() {
        let (boxes, ix) = grid();
        let b = ix.bounds().unwrap();
        assert_eq!(ix.share_meeting_any(&[b]), 1.0);
        assert_eq!(ix.share_meeting_any(&[]), 0.0);
        let far = rect(0.0, 0.0, 1.0, 1.0);
        assert_eq!(ix.share_meeting_any(&[far]), 0.0);
        // The left half of the grid: about half its nodes.
        let half = rect(b.min().x, b.min().y, b.min().x + b.width() / 2.0, b.max().y);
        let s = ix.share_meeting_any(&[half, far]);
        assert!((0.4..=0.65).contains(&s), "{s}");
        // Rows dense on one side: the share follows the rows, not the area.
        let mut dense: Vec<Rect<f64>> = boxes[..1000].to_vec();
        let (x, y) = (b.max().x + 1e5, b.max().y + 1e5);
        dense.extend((0..100).map(|i| rect(x + f64::from(i), y, x + f64::from(i) + 1.0, y + 1.0)));
        let ix = SpatialIndex::new(dense.iter().enumerate().map(|(i, r)| (i as u32, *r)));
        let corner = rect(x - 1.0, y - 1.0, x + 200.0, y + 2.0);
        let s = ix.share_meeting_any(&[corner]);
        assert!((0.05..0.2).contains(&s), "{s}");
    }

    #[test]
    fn a_query_touching_a_box_at_an_edge_or_corner_finds_it() {
        let (boxes, ix) = grid();
        assert_eq!(ix.len(), boxes.len());
        for (i, b) in boxes.iter().enumerate().step_by(997) {
            let (lo, hi) = (b.min(), b.max());
            // A degenerate query on each edge, one at each corner, and a
            // box touching from outside on each side.
            let queries = [
                rect(lo.x, lo.y - 5.0, lo.x, hi.y + 5.0),
                rect(hi.x, lo.y, hi.x, hi.y),
                rect(lo.x, lo.y, hi.x, lo.y),
                rect(lo.x, hi.y, hi.x, hi.y),
                rect(lo.x, lo.y, lo.x, lo.y),
                rect(hi.x, hi.y, hi.x, hi.y),
                rect(hi.x, lo.y, hi.x + 7.0, hi.y),
                rect(lo.x - 3.0, lo.y, lo.x, hi.y),
                rect(lo.x, hi.y, hi.x, hi.y + 1e-9),
            ];
            for q in queries {
                assert!(
                    ix.intersecting(&q).any(|r| r as usize == i),
                    "box {i} {b:?} missed by {q:?}"
                );
            }
            let env = |row: u32| Some(boxes[row as usize]);
            for p in [lo, hi] {
                let q = Rect::new(p, p);
                assert!(ix.intersecting_exactly(&q, env).any(|r| r as usize == i));
            }
        }
    }

    #[test]
    fn candidates_are_a_superset_and_only_just_so() {
        let (boxes, ix) = grid();
        let mut seed = 1u64;
        let mut unit = || {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            (seed >> 11) as f64 / (1u64 << 53) as f64
        };
        let b = ix.bounds().unwrap();
        for _ in 0..300 {
            let x = b.min().x + unit() * b.width();
            let y = b.min().y + unit() * b.height();
            let q = rect(x, y, x + unit() * 300.0, y + unit() * 300.0);
            let got: std::collections::HashSet<u32> = ix.intersecting(&q).collect();
            for (i, r) in boxes.iter().enumerate() {
                if meets(r, &q) {
                    assert!(got.contains(&(i as u32)), "{r:?} missed by {q:?}");
                } else if got.contains(&(i as u32)) {
                    // An extra candidate is within rounding (a few cm) of q.
                    let grown = crate::model::grow_rect(q, 0.05);
                    assert!(meets(r, &grown), "{r:?} far from {q:?}");
                }
            }
            // The exact forms answer what f64 boxes answer.
            let env = |row: u32| Some(boxes[row as usize]);
            let mut exact: Vec<u32> = ix.intersecting_exactly(&q, env).collect();
            exact.sort_unstable();
            let want: Vec<u32> = (0..boxes.len() as u32)
                .filter(|&i| meets(&boxes[i as usize], &q))
                .collect();
            assert_eq!(exact, want, "{q:?}");
            for inner in [crate::model::grow_rect(q, -10.0), grid_aligned(&boxes, &q)] {
                let mut got: Vec<(u32, bool)> =
                    ix.intersecting_exactly_inside(&q, &inner, env).collect();
                got.sort_unstable();
                let want: Vec<(u32, bool)> = want
                    .iter()
                    .map(|&i| (i, covers(&inner, &boxes[i as usize])))
                    .collect();
                assert_eq!(got, want, "{q:?} {inner:?}");
            }
        }
    }

    /// A rectangle whose edges are edges of the grid's boxes, inside `q`
    /// where it can be: boxes lie exactly on its border.
    fn grid_aligned(boxes: &[Rect<f64>], q: &Rect<f64>) -> Rect<f64> {
        let (x0, y0) = (boxes[0].min().x, boxes[0].min().y);
        let snap = |v: f64, o: f64| o + ((v - o) / 20.0).round() * 20.0;
        Rect::new(
            Coord {
                x: snap(q.min().x, x0),
                y: snap(q.min().y, y0),
            },
            Coord {
                x: snap(q.max().x, x0),
                y: snap(q.max().y, y0),
            },
        )
    }

    #[test]
    fn a_box_exactly_on_the_inner_edge_is_inside() {
        let (boxes, ix) = grid();
        let b = boxes[1234];
        let query = crate::model::grow_rect(b, 100.0);
        let calls = std::cell::Cell::new(0);
        let env = |row: u32| {
            calls.set(calls.get() + 1);
            Some(boxes[row as usize])
        };
        let got: Vec<(u32, bool)> = ix.intersecting_exactly_inside(&query, &b, env).collect();
        assert!(got.contains(&(1234, true)));
        // Its neighbours touch it: they meet the query, and are not inside.
        assert!(got.contains(&(1235, false)));
        // The geometry is asked only about boxes near an edge.
        assert!(calls.get() < got.len(), "{} of {}", calls.get(), got.len());
    }

    #[test]
    fn nearest_bounds_are_lower_bounds_in_order() {
        let (boxes, ix) = grid();
        let b = ix.bounds().unwrap();
        for p in [
            b.center(),
            b.min(),
            Coord {
                x: b.max().x + 1234.5,
                y: b.min().y - 0.001,
            },
            Coord {
                x: boxes[77].min().x,
                y: boxes[77].max().y,
            },
        ] {
            let mut last = 0.0;
            for (row, bound) in ix.nearest(p).take(2000) {
                let r = &boxes[row as usize];
                let dx = (r.min().x - p.x).max(0.0).max(p.x - r.max().x);
                let dy = (r.min().y - p.y).max(0.0).max(p.y - r.max().y);
                assert!(bound <= dx.hypot(dy), "{bound} > {}", dx.hypot(dy));
                assert!(bound >= last);
                last = bound;
            }
        }
        let nan = Coord {
            x: f64::NAN,
            y: 0.0,
        };
        assert_eq!(ix.nearest(nan).count(), boxes.len());
    }

    #[test]
    fn bounds_are_the_exact_f64_union_and_empty_is_empty() {
        let (boxes, ix) = grid();
        let b = ix.bounds().unwrap();
        assert_eq!(b.min(), boxes[0].min());
        assert_eq!(b.max(), boxes.last().unwrap().max());
        let empty = SpatialIndex::default();
        assert!(empty.is_empty() && empty.bounds().is_none());
        assert_eq!(empty.intersecting(&b).count(), 0);
        assert_eq!(empty.nearest(b.center()).count(), 0);
    }

    #[test]
    fn nan_boxes_are_left_out_and_infinite_or_huge_ones_still_found() {
        let nan = f64::NAN;
        let boxes = [
            rect(0.0, 0.0, 1.0, 1.0),
            rect(nan, 0.0, 1.0, 1.0),
            rect(-1e300, 5.0, 1e300, 6.0),
            rect(2.0, 2.0, 3.0, f64::INFINITY),
            rect(-1e39, -1e39, -1e38, -1e38),
        ];
        let ix = SpatialIndex::new(boxes.iter().enumerate().map(|(i, r)| (i as u32, *r)));
        assert_eq!(ix.len(), 4);
        let env = |row: u32| Some(boxes[row as usize]);
        let find = |q: Rect<f64>| {
            let mut v: Vec<u32> = ix.intersecting_exactly(&q, env).collect();
            v.sort_unstable();
            v
        };
        assert_eq!(find(rect(0.5, 0.5, 0.5, 0.5)), vec![0]);
        assert_eq!(find(rect(1e299, 5.5, 1e299, 5.5)), vec![2]);
        assert_eq!(find(rect(2.5, 1e30, 2.5, 1e30)), vec![3]);
        assert_eq!(find(rect(-5e38, -5e38, -5e38, -5e38)), vec![4]);
        assert_eq!(find(rect(-1e37, -1e37, -1e37, -1e37)), Vec::<u32>::new());
        assert_eq!(find(rect(nan, nan, nan, nan)), Vec::<u32>::new());
        // Huge boxes: a candidate superset still, and exact inside flags.
        let mut got: Vec<(u32, bool)> = ix
            .intersecting_exactly_inside(
                &rect(-1e301, -1.0, 1e301, 10.0),
                &rect(-1e300, 0.0, 1e300, 6.0),
                env,
            )
            .collect();
        got.sort_unstable();
        assert_eq!(got, vec![(0, true), (2, true), (3, false)]);
        let b = ix.bounds().unwrap();
        assert_eq!((b.min().x, b.max().y), (-1e300, f64::INFINITY));
    }

    #[test]
    fn nodes_meeting_any_rectangle_hold_every_row_meeting_one() {
        let (boxes, ix) = grid();
        let b = boxes[4321];
        let rects = [rect(
            b.max().x,
            b.max().y,
            b.max().x + 50.0,
            b.max().y + 1.0,
        )];
        let got: Vec<u32> = ix.in_nodes_meeting_any(&rects).collect();
        for (i, r) in boxes.iter().enumerate() {
            if meets(r, &rects[0]) {
                assert!(got.contains(&(i as u32)));
            }
        }
    }

    #[test]
    fn heap_bytes_count_every_leaf() {
        let (boxes, ix) = grid();
        let leaf = std::mem::size_of::<RTreeNode<Entry>>();
        let bytes = ix.heap_bytes();
        assert!(bytes >= boxes.len() * leaf && bytes < boxes.len() * leaf * 3 / 2);
    }
}
