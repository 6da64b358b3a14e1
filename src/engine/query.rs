//! Queries over one layer: bounding box, point in polygon, intersects a
//! polygon, k nearest, attribute filters, and paging in a stable (fid)
//! order. All coordinates here are Web Mercator; callers transform first.

use super::filter::Filter;
use super::layer::{FeatureRef, Layer, Part};
use crate::model::rect_covers as covers;
use geo::{BoundingRect, Intersects};
use geo_types::{Coord, Geometry, Rect};

/// The spatial part of a query.
#[derive(Debug, Clone)]
pub enum Spatial {
    /// Features intersecting a rectangle.
    Bbox(Rect<f64>),
    /// Polygon features containing a point (which parcel is here?).
    Point(Coord<f64>),
    /// Features intersecting a geometry.
    Intersects(Geometry<f64>),
}

/// A query over one layer.
#[derive(Debug, Clone, Default)]
pub struct Query {
    /// Spatial predicate.
    pub spatial: Option<Spatial>,
    /// Attribute predicate (compiled for this layer).
    pub filter: Option<Filter>,
    /// Rows to skip (after ordering by fid).
    pub offset: usize,
    /// Rows to return.
    pub limit: usize,
}

/// The answer: how many matched and the page asked for.
#[derive(Debug, Clone)]
pub struct QueryResult {
    /// Total number of matching features.
    pub matched: usize,
    /// The requested page, in ascending fid order.
    pub features: Vec<FeatureRef>,
}

impl Layer {
    fn attr_ok(&self, filter: Option<&Filter>, part: Part, row: usize) -> bool {
        filter.is_none_or(|f| f.matches(self.data(part), row))
    }

    /// Every live feature matching the spatial predicate and filter, calling
    /// `f` for each (unordered). A filter naming fids (WFS `ResourceId`)
    /// looks them up; a spatial predicate takes its candidates from the
    /// R-tree; otherwise every row is tested.
    pub fn for_each_match(
        &self,
        spatial: Option<&Spatial>,
        filter: Option<&Filter>,
        mut f: impl FnMut(FeatureRef),
    ) {
        let spatial_ok = |part: Part, row: usize| {
            let data = self.data(part);
            match spatial {
                None => true,
                Some(Spatial::Bbox(r)) => data.geometry.intersects_rect(row, r),
                Some(Spatial::Point(p)) => data.geometry.contains_point(row, *p),
                Some(Spatial::Intersects(g)) => data
                    .geometry
                    .to_geo(row, data.geometry_type)
                    .is_some_and(|fg| fg.intersects(g)),
            }
        };
        if let Some(fids) = filter.and_then(Filter::fid_hint) {
            for r in fids.iter().filter_map(|&fid| self.get(fid)) {
                let row = r.row as usize;
                if spatial_ok(r.part, row) && self.attr_ok(filter, r.part, row) {
                    f(r);
                }
            }
            return;
        }
        let parts = [(Part::Base, &self.base), (Part::Delta, &self.delta)];
        for (part, ix) in parts {
            let data = &ix.data;
            let live = |row: usize| part == Part::Delta || self.base_live(row);
            let mut emit = |row: usize| {
                if live(row) && self.attr_ok(filter, part, row) {
                    f(FeatureRef {
                        part,
                        row: row as u32,
                        fid: data.fids[row],
                    })
                }
            };
            // Candidates: exactly the rows whose envelope meets the
            // query's, as an f64 R-tree gave them (see `super::index`);
            // each is then checked exactly on its geometry.
            let env = |row: u32| data.geometry.bbox(row as usize);
            let rect = match spatial {
                None => None,
                Some(Spatial::Bbox(r)) => Some(*r),
                Some(Spatial::Point(p)) => Some(Rect::new(*p, *p)),
                Some(Spatial::Intersects(g)) => match g.bounding_rect() {
                    Some(r) => Some(r),
                    None => continue,
                },
            };
            match rect {
                None => (0..data.len()).for_each(&mut emit),
                Some(r) => {
                    for row in ix.index.intersecting_exactly(&r, env) {
                        let row = row as usize;
                        if spatial_ok(part, row) {
                            emit(row);
                        }
                    }
                }
            }
        }
    }

    /// Runs a query: exact count plus one page in ascending fid order.
    pub fn query(&self, q: &Query) -> QueryResult {
        // Named fids are looked up (`for_each_match`), never scanned for.
        let by_fid = q.filter.as_ref().and_then(Filter::fid_hint).is_some();
        match &q.spatial {
            _ if by_fid => {}
            None => return self.scan_in_order(q.filter.as_ref(), q.offset, q.limit, false),
            // A box around the whole layer (QGIS sends the world with every
            // page) selects every feature that has a geometry: scan in fid
            // order instead of collecting and ordering a million hits.
            Some(Spatial::Bbox(r)) if self.extent().is_some_and(|e| covers(r, &e)) => {
                return self.scan_in_order(q.filter.as_ref(), q.offset, q.limit, true)
            }
            Some(_) => {}
        }
        let mut hits = Vec::new();
        self.for_each_match(q.spatial.as_ref(), q.filter.as_ref(), |r| hits.push(r));
        let matched = hits.len();
        let end = q.offset.saturating_add(q.limit).min(matched);
        if q.offset >= matched {
            return QueryResult {
                matched,
                features: Vec::new(),
            };
        }
        // Only the page needs full order: partition, then sort the page.
        if end < matched {
            hits.select_nth_unstable_by_key(end, |r| r.fid);
            hits.truncate(end);
        }
        if q.offset > 0 {
            hits.select_nth_unstable_by_key(q.offset, |r| r.fid);
            hits.drain(..q.offset);
        }
        hits.sort_unstable_by_key(|r| r.fid);
        QueryResult {
            matched,
            features: hits,
        }
    }

    /// Without a spatial predicate, base and delta are both in fid order:
    /// merge them, counting everything and keeping only the page.
    fn scan_in_order(
        &self,
        filter: Option<&Filter>,
        offset: usize,
        limit: usize,
        with_geometry: bool,
    ) -> QueryResult {
        let (b, d) = (&self.base.data, &self.delta.data);
        let (mut i, mut j, mut matched) = (0usize, 0usize, 0usize);
        let mut page = Vec::new();
        loop {
            let next = match (i < b.len(), j < d.len()) {
                (false, false) => break,
                (true, false) => Part::Base,
                (false, true) => Part::Delta,
                (true, true) => {
                    if b.fids[i] < d.fids[j] {
                        Part::Base
                    } else {
                        Part::Delta
                    }
                }
            };
            let (row, ok) = match next {
                Part::Base => {
                    i += 1;
                    (i - 1, self.base_live(i - 1))
                }
                Part::Delta => {
                    j += 1;
                    (j - 1, true)
                }
            };
            let ok = ok && (!with_geometry || self.data(next).geometry.part_count(row) > 0);
            if ok && self.attr_ok(filter, next, row) {
                if matched >= offset && page.len() < limit {
                    page.push(FeatureRef {
                        part: next,
                        row: row as u32,
                        fid: self.data(next).fids[row],
                    });
                }
                matched += 1;
            }
        }
        QueryResult {
            matched,
            features: page,
        }
    }

    /// The `k` features nearest to `p` (Web Mercator), with their distance
    /// in Web Mercator units, nearest first; ties broken by fid.
    pub fn nearest(
        &self,
        p: Coord<f64>,
        k: usize,
        filter: Option<&Filter>,
    ) -> Vec<(FeatureRef, f64)> {
        let mut best: Vec<(FeatureRef, f64)> = Vec::with_capacity(k + 1);
        if k == 0 {
            return best;
        }
        for (part, ix) in [(Part::Base, &self.base), (Part::Delta, &self.delta)] {
            let data = &ix.data;
            for (row, bound) in ix.index.nearest(p) {
                // A lower bound of the true distance, never decreasing
                // along the walk: past the k-th best, nothing nearer.
                if best.len() == k && bound > best[k - 1].1 {
                    break;
                }
                let row = row as usize;
                if part == Part::Base && !self.base_live(row) {
                    continue;
                }
                if !self.attr_ok(filter, part, row) {
                    continue;
                }
                let Some(d) = data.geometry.distance_to_point(row, p) else {
                    continue;
                };
                let r = FeatureRef {
                    part,
                    row: row as u32,
                    fid: data.fids[row],
                };
                let pos = best.partition_point(|(b, bd)| (*bd, b.fid) < (d, r.fid));
                if pos < k {
                    best.insert(pos, (r, d));
                    best.truncate(k);
                }
            }
        }
        best
    }
}
