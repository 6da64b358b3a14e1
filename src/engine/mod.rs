//! The spatial engine: every published layer in memory, geometry in Web
//! Mercator indexed by an R-tree, attribute filters, paging, and immutable
//! snapshots swapped atomically when data changes.
//!
//! The engine does no IO and never awaits: stores hand it owned data, and
//! callers run its CPU work on a blocking pool. Readers never take a lock:
//! they load the current [`Catalog`] snapshot and keep it for the request.
//!
//! # Examples
//!
//! Two parcels published, then "which parcel is here?" on a snapshot:
//!
//! ```
//! use geo_types::{coord, polygon, Geometry};
//! use geoplan::engine::{Engine, Layer, LayerMeta, Query, Spatial};
//! use geoplan::model::{FieldDef, FieldType, GeometryType, LayerDataBuilder, Value};
//!
//! let mut b = LayerDataBuilder::new(
//!     "parcels",
//!     3857,
//!     GeometryType::Polygon,
//!     vec![FieldDef::new("land_use_code", FieldType::Text)],
//! );
//! for (fid, x0, code) in [(1, 0.0, "ODT"), (2, 10.0, "LUK")] {
//!     let p = polygon![(x: x0, y: 0.0), (x: x0 + 10.0, y: 0.0), (x: x0 + 10.0, y: 10.0), (x: x0, y: 10.0), (x: x0, y: 0.0)];
//!     b.push(fid, Some(&Geometry::Polygon(p)), vec![Value::Text(code.into())]).unwrap();
//! }
//! let engine = Engine::new();
//! engine.publish_all(vec![Layer::new(b.finish().unwrap(), LayerMeta::default()).unwrap()]);
//! let cat = engine.snapshot();
//! let parcels = cat.layer("parcels").unwrap();
//! let q = Query { spatial: Some(Spatial::Point(coord! {x: 14.0, y: 5.0})), limit: 10, ..Query::default() };
//! let hit = parcels.query(&q);
//! assert_eq!(hit.matched, 1);
//! assert_eq!(hit.features[0].fid, 2);
//! ```

pub mod cql2;
pub mod filter;
pub mod frame;
pub mod generalize;
pub mod index;
pub mod keyed;
mod layer;
mod query;
pub mod temporal;

pub use index::{Entry, SpatialIndex};
pub use layer::{FeatureRef, Layer, LayerMemory, LayerMeta, Part};
pub use query::{Query, QueryResult, Spatial};

use crate::model::FeatureRow;
use arc_swap::ArcSwap;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Errors of the engine.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// Reprojection of a layer failed.
    #[error("layer {0}: {1}")]
    Crs(String, String),
    /// Data that does not fit the layer.
    #[error("{0}")]
    Data(String),
    /// No such layer.
    #[error("no layer '{0}'")]
    UnknownLayer(String),
}

/// One consistent view of every layer.
#[derive(Debug, Default)]
pub struct Catalog {
    layers: BTreeMap<String, Arc<Layer>>,
    order: Vec<String>,
    /// Incremented on every change, for ETags and caches.
    pub version: u64,
}

impl Catalog {
    /// A layer by id.
    pub fn layer(&self, id: &str) -> Option<&Arc<Layer>> {
        self.layers.get(id)
    }

    /// Layers in publication order.
    pub fn layers(&self) -> impl Iterator<Item = &Arc<Layer>> {
        self.order.iter().filter_map(|id| self.layers.get(id))
    }

    /// Number of layers.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// True when no layer is loaded.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }
}

/// The engine: the current catalog snapshot.
#[derive(Debug, Default)]
pub struct Engine {
    current: ArcSwap<Catalog>,
}

impl Engine {
    /// An engine with no layers.
    pub fn new() -> Engine {
        Engine::default()
    }

    /// The current snapshot.
    pub fn snapshot(&self) -> Arc<Catalog> {
        self.current.load_full()
    }

    /// Publishes a set of layers at once, replacing everything.
    pub fn publish_all(&self, layers: Vec<Layer>) {
        let version = self.current.load().version + 1;
        let order = layers.iter().map(|l| l.id.clone()).collect();
        let layers = layers
            .into_iter()
            .map(|l| (l.id.clone(), Arc::new(l)))
            .collect();
        self.current.store(Arc::new(Catalog {
            layers,
            order,
            version,
        }));
    }

    /// Replaces (or adds) one layer.
    pub fn replace_layer(&self, layer: Layer) {
        self.current.rcu(|cat| {
            let mut layers = cat.layers.clone();
            let mut order = cat.order.clone();
            if !layers.contains_key(&layer.id) {
                order.push(layer.id.clone());
            }
            layers.insert(layer.id.clone(), Arc::new(layer_clone(&layer)));
            Catalog {
                layers,
                order,
                version: cat.version + 1,
            }
        });
    }

    /// Applies feature changes to one layer (upserts in the store's CRS,
    /// deleted fids) and swaps in the new snapshot.
    pub fn apply_changes(
        &self,
        id: &str,
        upserts: Vec<FeatureRow>,
        deleted: &[i64],
    ) -> Result<(), EngineError> {
        let cat = self.snapshot();
        let old = cat
            .layer(id)
            .ok_or_else(|| EngineError::UnknownLayer(id.to_owned()))?;
        let new = old.with_changes(upserts, deleted)?;
        self.replace_layer(new);
        Ok(())
    }
}

/// `rcu` may retry its closure, so it works on a cheap clone of the layer
/// (Arcs inside, no data copied).
fn layer_clone(l: &Layer) -> Layer {
    l.shallow_clone()
}

#[cfg(test)]
mod tests {
    use super::filter::{Filter, FilterLimits};
    use super::*;
    use crate::crs::{self, Crs, WEB_MERCATOR};
    use crate::model::{FieldDef, FieldType, GeometryType, LayerDataBuilder, Value, ValueRef};
    use geo_types::{polygon, Coord, Geometry, Rect};

    /// Parcel `i` (fid `i + 1`) of a grid `cols` wide of 20 m squares in
    /// EPSG:5899 near Hội An, moved `dx` east, of land use `code`.
    fn square_row(i: i64, cols: i64, dx: f64, code: &str) -> FeatureRow {
        let (x0, y0) = (
            561_000.0 + (i % cols) as f64 * 20.0 + dx,
            1_756_000.0 + (i / cols) as f64 * 20.0,
        );
        FeatureRow {
            fid: i + 1,
            geometry: Some(Geometry::Polygon(polygon![
                (x: x0, y: y0), (x: x0 + 20.0, y: y0), (x: x0 + 20.0, y: y0 + 20.0),
                (x: x0, y: y0 + 20.0), (x: x0, y: y0),
            ])),
            values: vec![Value::Text(code.into()), Value::Real(400.0)],
        }
    }

    /// A parcels layer (land use code, legal area) being built.
    fn parcels_builder() -> LayerDataBuilder {
        LayerDataBuilder::new(
            "parcels",
            5899,
            GeometryType::Polygon,
            vec![
                FieldDef::new("land_use_code", FieldType::Text),
                FieldDef::new("legal_area", FieldType::Real),
            ],
        )
    }

    /// A 40×40 grid of 20 m square parcels.
    fn grid_row(i: i64) -> FeatureRow {
        square_row(i, 40, 0.0, if i % 3 == 0 { "ODT" } else { "LUC" })
    }

    fn grid() -> Layer {
        let mut b = parcels_builder();
        for i in 0..1600 {
            b.push_row(grid_row(i)).unwrap();
        }
        Layer::new(b.finish().unwrap(), LayerMeta::default()).unwrap()
    }

    fn merc(x: f64, y: f64) -> Coord<f64> {
        crs::transform_one(Crs::Epsg(5899), WEB_MERCATOR, Coord { x, y }).unwrap()
    }

    fn all(l: &Layer, q: Query) -> Vec<i64> {
        l.query(&Query {
            limit: usize::MAX,
            ..q
        })
        .features
        .iter()
        .map(|r| r.fid)
        .collect()
    }

    #[test]
    fn the_memory_split_counts_each_byte_once_and_the_tree_holds_every_entry() {
        let l = grid();
        let m = l.memory();
        // 1,600 closed squares of 5 coordinates, 16 bytes each.
        assert_eq!(l.coord_count(), 1600 * 5);
        assert!(m.geometry >= 1600 * 5 * 16, "{m:?}");
        assert_eq!(m.geometry + m.attributes, l.heap_bytes(), "{m:?}");
        // Every entry is a leaf once, under parents that add a fraction.
        let leaf = std::mem::size_of::<rstar::RTreeNode<Entry>>();
        assert!(
            m.index > 1600 * leaf && m.index < 1600 * leaf * 3 / 2,
            "{} bytes for 1,600 leaves of {leaf}",
            m.index
        );
        assert_eq!(m.pyramid, l.pyramid_bytes());
    }

    #[test]
    fn a_bbox_query_returns_exactly_the_intersecting_parcels_in_fid_order() {
        let l = grid();
        // 5899 box covering columns 2..=4 and rows 1..=2 (edges inside cells).
        let (a, b) = (merc(561_045.0, 1_756_025.0), merc(561_095.0, 1_756_055.0));
        let got = all(
            &l,
            Query {
                spatial: Some(Spatial::Bbox(Rect::new(a, b))),
                ..Default::default()
            },
        );
        let want: Vec<i64> = (1..=2)
            .flat_map(|r| (2..=4).map(move |c| r * 40 + c + 1))
            .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn point_in_parcel_finds_the_one_parcel_under_the_point() {
        let l = grid();
        let p = merc(561_030.0, 1_756_010.0); // column 1, row 0
        let got = all(
            &l,
            Query {
                spatial: Some(Spatial::Point(p)),
                ..Default::default()
            },
        );
        assert_eq!(got, vec![2]);
    }

    #[test]
    fn paging_is_stable_and_counts_every_match() {
        let l = grid();
        let f = Filter::compile(
            &cql2::parse("land_use_code = 'ODT'").unwrap(),
            l.fields(),
            &FilterLimits::default(),
        )
        .unwrap();
        let mut seen = Vec::new();
        for page in 0..6 {
            let r = l.query(&Query {
                filter: Some(f.clone()),
                offset: page * 100,
                limit: 100,
                ..Default::default()
            });
            assert_eq!(r.matched, 534);
            seen.extend(r.features.iter().map(|r| r.fid));
        }
        let want: Vec<i64> = (0..1600).filter(|i| i % 3 == 0).map(|i| i + 1).collect();
        assert_eq!(seen, want);
    }

    #[test]
    fn features_named_by_fid_are_looked_up_and_match_what_a_scan_finds() {
        let engine = Engine::new();
        engine.publish_all(vec![grid()]);
        // A delta: a code change, a move, a delete.
        let moved = square_row(6, 40, 5_000.0, "LUC");
        let changed = square_row(4, 40, 0.0, "ODT");
        engine
            .apply_changes("parcels", vec![moved, changed], &[9])
            .unwrap();
        let cat = engine.snapshot();
        let l = cat.layer("parcels").unwrap();
        let ids = filter::Expr::Fids(vec![9, 2, 5, 7, 4, 1_234, 99_999, 2]);
        let odt = cql2::parse("land_use_code = 'ODT'").unwrap();
        let e = l.extent().unwrap();
        let west = Rect::new(
            e.min(),
            Coord {
                x: e.center().x,
                y: e.max().y,
            },
        );
        let first = l.data(Part::Base).geometry.bbox(1).unwrap().center();
        for expr in [ids.clone(), filter::Expr::And(vec![odt, ids])] {
            let f = Filter::compile(&expr, l.fields(), &FilterLimits::default()).unwrap();
            assert!(f.fid_hint().is_some());
            for spatial in [None, Some(Spatial::Bbox(west)), Some(Spatial::Point(first))] {
                // The scan: every feature the spatial part selects, then
                // the filter row by row.
                let mut want = Vec::new();
                l.for_each_match(spatial.as_ref(), None, |r| {
                    if f.matches(l.data(r.part), r.row as usize) {
                        want.push(r.fid)
                    }
                });
                want.sort_unstable();
                let q = Query {
                    spatial: spatial.clone(),
                    filter: Some(f.clone()),
                    limit: 100,
                    ..Default::default()
                };
                let got: Vec<i64> = l.query(&q).features.iter().map(|r| r.fid).collect();
                assert_eq!(got, want, "{expr:?} {spatial:?}");
                assert!(!got.contains(&9), "a deleted feature");
            }
        }
        // The fid list alone, anywhere: the live ones, the moved one too.
        let f = Filter::compile(
            &filter::Expr::Fids(vec![9, 2, 7, 5]),
            l.fields(),
            &FilterLimits::default(),
        )
        .unwrap();
        let q = Query {
            filter: Some(f),
            limit: 10,
            ..Default::default()
        };
        let r = l.query(&q);
        assert_eq!(r.matched, 3);
        assert_eq!(
            r.features.iter().map(|r| r.fid).collect::<Vec<_>>(),
            vec![2, 5, 7]
        );
    }

    #[test]
    fn a_layer_holds_rows_it_shows_exactly_and_nothing_else() {
        let l = grid();
        // Rows come from the store in its CRS (5899), as the grid's did.
        let (five, seven) = (grid_row(4), grid_row(6));
        assert!(l.holds(&[five.clone(), seven.clone()], &[99_999]).unwrap());
        let mut renamed = five.clone();
        renamed.values[0] = Value::Text("TMD".into());
        assert!(
            !l.holds(&[renamed.clone()], &[]).unwrap(),
            "a changed value"
        );
        let moved = square_row(4, 40, 0.5, "LUC");
        assert!(!l.holds(&[moved], &[]).unwrap(), "a moved geometry");
        assert!(
            !l.holds(&[], &[5]).unwrap(),
            "a deleted feature still shown"
        );
        let mut new = seven.clone();
        new.fid = 50_000;
        assert!(!l.holds(&[new], &[]).unwrap(), "a feature not shown");
        // After the edit, the same rows are held: applying them again
        // would change nothing.
        let l2 = l.with_changes(vec![renamed.clone()], &[7]).unwrap();
        assert!(l2.holds(&[renamed], &[7]).unwrap());
        assert!(!l2.holds(&[five], &[]).unwrap());
    }

    #[test]
    fn nearest_matches_a_brute_force_ranking() {
        let l = grid();
        let p = merc(560_900.0, 1_755_950.0); // outside the grid's SW corner
        let got: Vec<i64> = l.nearest(p, 5, None).iter().map(|(r, _)| r.fid).collect();
        let data = l.data(Part::Base);
        let mut brute: Vec<(f64, i64)> = (0..data.len())
            .map(|i| (data.geometry.distance_to_point(i, p).unwrap(), data.fids[i]))
            .collect();
        brute.sort_by(|a, b| a.partial_cmp(b).unwrap());
        assert_eq!(got, brute.iter().take(5).map(|x| x.1).collect::<Vec<_>>());
    }

    #[test]
    fn changes_replace_move_and_delete_features_without_touching_the_base() {
        let engine = Engine::new();
        engine.publish_all(vec![grid()]);
        let before = engine.snapshot();
        let mut moved = grid_row(0);
        // Move parcel 1 far to the east and change its land use.
        if let Some(Geometry::Polygon(p)) = moved.geometry.as_mut() {
            use geo::Translate;
            p.translate_mut(5_000.0, 0.0);
        }
        moved.values[0] = Value::Text("TMD".into());
        engine.apply_changes("parcels", vec![moved], &[2]).unwrap();
        let cat = engine.snapshot();
        let l = cat.layer("parcels").unwrap();
        assert_eq!(l.len(), 1599);
        assert!(l.get(2).is_none());
        let r = l.get(1).unwrap();
        assert_eq!(r.part, Part::Delta);
        assert_eq!(
            l.data(r.part).value(r.row as usize, 0),
            ValueRef::Text("TMD")
        );
        // The old place of parcel 1 is empty now; the new place finds it.
        let old_place = all(
            l,
            Query {
                spatial: Some(Spatial::Point(merc(561_010.0, 1_756_010.0))),
                ..Default::default()
            },
        );
        assert!(old_place.is_empty());
        let new_place = all(
            l,
            Query {
                spatial: Some(Spatial::Point(merc(566_010.0, 1_756_010.0))),
                ..Default::default()
            },
        );
        assert_eq!(new_place, vec![1]);
        // Readers of the old snapshot still see the old data.
        assert_eq!(before.layer("parcels").unwrap().len(), 1600);
        assert!(Arc::ptr_eq(&before.layer("parcels").unwrap().base, &l.base));
        // The unfiltered scan merges base and delta in fid order.
        let first: Vec<i64> = l
            .query(&Query {
                limit: 3,
                ..Default::default()
            })
            .features
            .iter()
            .map(|r| r.fid)
            .collect();
        assert_eq!(first, vec![1, 3, 4]);
    }

    type DumpedFeature = (generalize::Block, i64, Vec<Coord<f64>>);

    /// Every level of `l`'s pyramid as (block, fid of the attribute row,
    /// coordinates) in storage order.
    fn pyramid_dump(l: &Layer) -> Vec<(u8, Vec<DumpedFeature>)> {
        (0..l.meta.detail_zoom)
            .filter_map(|z| {
                let lv = l.pyramid.level(z)?;
                let feats = lv
                    .features()
                    .into_iter()
                    .map(|f| {
                        let (part, row) = l.resolve(f.src()).expect("a source of this snapshot");
                        let (g, i) = f.geometry();
                        (
                            f.block(),
                            l.data(part).fids[row as usize],
                            g.coords_of(i).to_vec(),
                        )
                    })
                    .collect();
                Some((z, feats))
            })
            .collect()
    }

    /// Parcels merged by land use from z10 to z14: many blocks per level.
    fn merged_meta() -> LayerMeta {
        LayerMeta {
            minzoom: 10,
            detail_zoom: 15,
            merge_by: Some(vec!["land_use_code".into()]),
            ..LayerMeta::default()
        }
    }

    /// [`pyramid_dump`] of a pyramid built afresh from `l`'s live features.
    fn fresh_pyramid_dump(l: &Layer) -> Vec<(u8, Vec<DumpedFeature>)> {
        let merge: Vec<usize> = vec![0];
        let p = generalize::Pyramid::build(
            &[
                (layer::Part::Base, &l.base.data),
                (layer::Part::Delta, &l.delta.data),
            ],
            |part, r| part == layer::Part::Delta || l.base_live(r),
            l.meta.minzoom,
            l.meta.detail_zoom,
            Some(&merge),
        );
        let mut copy = l.shallow_clone();
        copy.pyramid = Arc::new(p);
        pyramid_dump(&copy)
    }

    #[test]
    fn an_edit_updates_only_its_blocks_and_the_pyramid_equals_a_fresh_build() {
        // 120 × 120 parcels of 20 m (2.4 km square) merged by land use from
        // z10 to z14: many blocks per level.
        let meta = merged_meta();
        let row = |i: i64, code: &str, dx: f64| square_row(i, 120, dx, code);
        let code = |i: i64| if (i / 7) % 3 == 0 { "ODT" } else { "LUC" };
        let mut b = parcels_builder();
        for i in 0..14_400 {
            b.push_row(row(i, code(i), 0.0)).unwrap();
        }
        let mut l = Layer::new(b.finish().unwrap(), meta).unwrap();
        assert_eq!(pyramid_dump(&l), fresh_pyramid_dump(&l));
        // Three rounds of edits: a code change, a move across a block
        // edge, a delete, an insert; earlier delta rows get renumbered.
        let rounds: [(Vec<FeatureRow>, Vec<i64>); 3] = [
            (
                vec![row(5_000, "TMD", 0.0), row(77, "ODT", 3_000.0)],
                vec![9_000],
            ),
            (
                vec![row(20_000, "SKC", 0.0), row(5_000, "ODT", 0.0)],
                vec![3],
            ),
            (vec![row(1, "TMD", 0.0), row(14_399, "TMD", 0.0)], vec![77]),
        ];
        for (k, (upserts, deleted)) in rounds.into_iter().enumerate() {
            let before = pyramid_dump(&l);
            let builds = generalize::FULL_BUILDS.with(|n| n.get());
            l = l.with_changes(upserts, &deleted).unwrap();
            assert_eq!(
                generalize::FULL_BUILDS.with(|n| n.get()),
                builds,
                "round {k}: the edit rebuilt the whole pyramid"
            );
            let after = pyramid_dump(&l);
            let want = fresh_pyramid_dump(&l);
            for ((z, a), (_, w)) in after.iter().zip(&want) {
                if a != w {
                    let i = a
                        .iter()
                        .zip(w)
                        .position(|(x, y)| x != y)
                        .unwrap_or(a.len().min(w.len()));
                    let show = |v: &Vec<DumpedFeature>| v.get(i).map(|(b, f, c)| (*b, *f, c.len()));
                    panic!(
                        "round {k}: z{z} differs from a fresh build at feature {i} of {}/{}: {:?} vs {:?}",
                        a.len(),
                        w.len(),
                        show(a),
                        show(w)
                    );
                }
            }
            assert_eq!(
                after, want,
                "round {k}: the update differs from a fresh build"
            );
            assert_ne!(after, before, "round {k}: the edit changed no level");
        }
    }

    #[test]
    fn edits_share_each_level_base_until_its_overlay_folds_and_equal_a_fresh_build() {
        let meta = merged_meta();
        let row = |i: i64, code: &str| square_row(i, 120, 0.0, code);
        let mut b = parcels_builder();
        for i in 0..14_400 {
            b.push_row(row(i, if i % 5 == 0 { "ODT" } else { "LUC" }))
                .unwrap();
        }
        let mut l = Layer::new(b.finish().unwrap(), meta).unwrap();
        let (mut shared, mut folded) = (0, 0);
        for k in 0..40i64 {
            // Parcels spread over the layer, a few of them edited again.
            let i = (k * 1_237) % 14_400;
            let upserts = vec![row(i, ["TMD", "SKC", "ODT"][(k % 3) as usize])];
            let deleted = if k % 4 == 3 {
                vec![(k * 331) % 14_400 + 1]
            } else {
                vec![]
            };
            let next = l.with_changes(upserts, &deleted).unwrap();
            for z in 10..15u8 {
                let (a, b) = (l.generalized(z).unwrap(), next.generalized(z).unwrap());
                if Arc::ptr_eq(&a.base, &b.base) {
                    shared += 1;
                    assert!(!b.replaced.is_empty(), "z{z}: an edit rebuilt no block");
                } else {
                    folded += 1;
                    assert!(b.replaced.is_empty() && b.over.src.is_empty());
                }
            }
            l = next;
            assert_eq!(pyramid_dump(&l), fresh_pyramid_dump(&l), "round {k}");
        }
        // Most edits copy nothing of the levels; some fold.
        assert!(
            shared > 100 && folded > 0,
            "shared {shared}, folded {folded}"
        );
    }

    #[test]
    fn a_box_around_the_whole_layer_pages_like_the_r_tree_path() {
        let engine = Engine::new();
        engine.publish_all(vec![grid()]);
        // A delta (a moved and a deleted parcel) and a parcel without geometry.
        let mut moved = grid_row(5);
        moved.geometry = None;
        engine.apply_changes("parcels", vec![moved], &[9]).unwrap();
        let cat = engine.snapshot();
        let l = cat.layer("parcels").unwrap();
        let e = l.extent().unwrap();
        let world = crate::model::grow_rect(e, 1.0);
        let mut want = Vec::new();
        l.for_each_match(Some(&Spatial::Bbox(world)), None, |r| want.push(r.fid));
        want.sort_unstable();
        assert_eq!(want.len(), 1598);
        assert!(!want.contains(&6) && !want.contains(&9));
        let page = l.query(&Query {
            spatial: Some(Spatial::Bbox(world)),
            offset: 3,
            limit: 5,
            ..Default::default()
        });
        assert_eq!(page.matched, 1598);
        let got: Vec<i64> = page.features.iter().map(|r| r.fid).collect();
        assert_eq!(got, want[3..8].to_vec());
    }
}
