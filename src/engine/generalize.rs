//! Per-zoom generalised copies of a layer, prepared once when the layer is
//! built (never per request), for the zooms below the layer's detail zoom.
//!
//! At zoom `z` one screen pixel of a 512-pixel tile (MapLibre's tile size)
//! is `span(z) / 512` metres of Web Mercator. Each level:
//! * simplifies lines and rings (Douglas–Peucker, half a pixel);
//! * drops line parts shorter than a pixel and holes smaller than one;
//! * replaces polygons smaller than a pixel by *tiny-polygon reduction*
//!   (after tippecanoe): their areas accumulate per pixel cell and each
//!   time half a pixel's worth has gathered in a cell, a one-pixel square
//!   fills it (the cell then owes the other half). Dense areas stay visibly dense, empty areas stay empty, the tile
//!   never holds more than it can show, and an edit changes only the cells
//!   (so the tiles) it touches;
//! * keeps one point per pixel.
//!
//! Level `z` is built from level `z + 1` (whose squares are a quarter pixel
//! at `z`, so four of them make one square), which keeps the whole pyramid
//! cheaper to build than a second copy of the layer.
//!
//! An edit rebuilds the blocks it touches at every level into a small
//! overlay beside the level's shared base part, which hides its own copy of
//! those blocks: an edit costs a few blocks, not a copy of every level and
//! of its R-tree. A level folds its overlay into a new base once the
//! overlay outgrows an eighth of it.
//!
//! Coordinates are Web Mercator metres; no IO.

use super::index::SpatialIndex;
use super::layer::Part;
use crate::model::{grow_rect, FlatGeometry, GeometryKind, LayerData};
use geo::{Area, Simplify};
use geo_types::{Coord, LineString, Polygon, Rect};
use rayon::prelude::*;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

/// Half the Web Mercator world width, metres.
const HALF_WORLD: f64 = 20_037_508.342_789_244;

/// Width of a tile at zoom `z`, Web Mercator metres.
pub fn tile_span(z: u8) -> f64 {
    2.0 * HALF_WORLD / f64::from(1u32 << z.min(31))
}

/// One screen pixel (512-pixel tiles) at zoom `z`, metres.
pub fn pixel(z: u8) -> f64 {
    tile_span(z) / 512.0
}

/// A block: the quarter tile (at a level's zoom) a feature is assigned to.
/// Every level is built block by block, each block from its own features
/// only, so an edit rebuilds the blocks it touches and nothing else. The
/// blocks of zoom `z - 1` are unions of four blocks of `z`.
pub type Block = (i64, i64);

/// Side of a block at zoom `z`, metres.
fn block_size(z: u8) -> f64 {
    tile_span(z) / 4.0
}

/// The block at zoom `z` holding `c`.
pub fn block_of(c: Coord<f64>, z: u8) -> Block {
    let s = block_size(z);
    (
        ((c.x + HALF_WORLD) / s).floor() as i64,
        ((c.y + HALF_WORLD) / s).floor() as i64,
    )
}

/// The extent of a block at zoom `z`.
fn block_rect(b: Block, z: u8) -> Rect<f64> {
    let s = block_size(z);
    Rect::new(
        Coord {
            x: b.0 as f64 * s - HALF_WORLD,
            y: b.1 as f64 * s - HALF_WORLD,
        },
        Coord {
            x: (b.0 + 1) as f64 * s - HALF_WORLD,
            y: (b.1 + 1) as f64 * s - HALF_WORLD,
        },
    )
}

fn parent(b: Block) -> Block {
    (b.0 >> 1, b.1 >> 1)
}

/// Where a generalised feature's attributes live: a base row, or a delta
/// feature by fid (every edit renumbers the delta's rows; fids stay).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Src {
    /// A row of the layer's base part.
    Base(u32),
    /// A feature of the layer's delta part, by fid.
    Delta(i64),
}

/// Generalised features stored together: geometry, attribute sources and
/// blocks, in block order, with their R-tree.
#[derive(Debug)]
pub struct LevelPart {
    /// Simplified geometry, one entry per kept feature, ordered by block.
    pub geometry: FlatGeometry,
    /// For each kept feature: where its attributes live in the layer (for
    /// a merged feature, one of its members).
    pub src: Vec<Src>,
    /// For each kept feature: the block it was built in (sorted).
    pub blocks: Vec<Block>,
    /// Spatial index over `geometry` (data = index into `src`).
    pub index: SpatialIndex,
}

impl LevelPart {
    fn heap_bytes(&self) -> usize {
        self.geometry.heap_bytes()
            + self.src.capacity() * std::mem::size_of::<Src>()
            + self.blocks.capacity() * 16
            + self.index.heap_bytes()
    }

    /// The features of block `b` (a range of indexes).
    fn block_range(&self, b: Block) -> std::ops::Range<usize> {
        self.blocks.partition_point(|x| *x < b)..self.blocks.partition_point(|x| *x <= b)
    }

    /// Feature `i` as rings of coordinates, its source resolved to a row.
    fn feature(&self, i: usize, resolve: &dyn Fn(Src) -> Option<(Part, u32)>) -> Option<Feature> {
        let (part, row) = resolve(self.src[i])?;
        Some((
            part,
            row,
            self.geometry
                .parts(i)
                .map(|rings| rings.map(<[Coord<f64>]>::to_vec).collect())
                .collect(),
        ))
    }
}

/// A layer generalised for one zoom: a base part shared by the snapshots
/// since it was built, and the blocks rebuilt by edits since then.
#[derive(Debug)]
pub struct Level {
    /// Every block as built (or last folded), less those in `replaced`.
    pub base: Arc<LevelPart>,
    /// The blocks rebuilt since: every block in `replaced`, as it is now.
    pub over: LevelPart,
    /// Blocks of `base` that `over` replaces.
    pub replaced: HashSet<Block>,
    /// When features were merged: the fields they were grouped by, the
    /// only attributes a merged feature carries (it has no single id).
    pub merged_by: Option<Vec<usize>>,
    /// For polygon levels: the tile extent ([`GRID_EXTENT`]) whose grid
    /// at this level's zoom every vertex lies on, each feature valid there
    /// (see [`snap_to_grid`]). A tile of that extent and zoom that shows a
    /// feature unclipped then needs neither cleaning nor a validity check.
    pub grid_extent: Option<u32>,
}

/// One generalised feature: its part of the level and index there.
#[derive(Debug, Clone, Copy)]
pub struct LevelFeature<'a> {
    /// The part holding it.
    pub part: &'a LevelPart,
    /// Its index in that part.
    pub i: usize,
}

impl<'a> LevelFeature<'a> {
    /// Its geometry's store and index there.
    pub fn geometry(&self) -> (&'a FlatGeometry, usize) {
        (&self.part.geometry, self.i)
    }

    /// Where its attributes live.
    pub fn src(&self) -> Src {
        self.part.src[self.i]
    }

    /// The block it was built in.
    pub fn block(&self) -> Block {
        self.part.blocks[self.i]
    }
}

impl Level {
    /// Heap bytes (geometry, references and the trees of both parts).
    pub fn heap_bytes(&self) -> usize {
        self.base.heap_bytes() + self.over.heap_bytes()
    }

    /// Both parts, each with the test of which of its features count.
    fn parts(&self) -> impl Iterator<Item = (&LevelPart, Box<dyn Fn(usize) -> bool + '_>)> {
        let base: Box<dyn Fn(usize) -> bool + '_> = if self.replaced.is_empty() {
            Box::new(|_| true)
        } else {
            Box::new(|i| !self.replaced.contains(&self.base.blocks[i]))
        };
        [
            (&*self.base, base),
            (
                &self.over,
                Box::new(|_: usize| true) as Box<dyn Fn(usize) -> bool>,
            ),
        ]
        .into_iter()
    }

    /// The features whose envelope meets `r`, exactly as with `f64` boxes
    /// (see [`SpatialIndex::intersecting_exactly`]).
    pub fn intersecting_exactly<'a>(&'a self, r: &Rect<f64>) -> Vec<LevelFeature<'a>> {
        self.intersecting_exactly_inside(r, r)
            .into_iter()
            .map(|(f, _)| f)
            .collect()
    }

    /// The features whose envelope meets `r`, each with whether it lies
    /// inside `inner` (see [`SpatialIndex::intersecting_exactly_inside`]).
    pub fn intersecting_exactly_inside<'a>(
        &'a self,
        r: &Rect<f64>,
        inner: &Rect<f64>,
    ) -> Vec<(LevelFeature<'a>, bool)> {
        let mut out = Vec::new();
        for (part, keep) in self.parts() {
            let env = |i: u32| part.geometry.bbox(i as usize);
            out.extend(
                part.index
                    .intersecting_exactly_inside(r, inner, env)
                    .filter(|&(i, _)| keep(i as usize))
                    .map(|(i, inside)| {
                        (
                            LevelFeature {
                                part,
                                i: i as usize,
                            },
                            inside,
                        )
                    }),
            );
        }
        out
    }

    /// Every feature in block order (a block's features come from one part).
    pub fn features(&self) -> Vec<LevelFeature<'_>> {
        let mut out: Vec<LevelFeature> = self
            .parts()
            .flat_map(|(part, keep)| {
                (0..part.src.len())
                    .filter(move |&i| keep(i))
                    .map(move |i| LevelFeature { part, i })
            })
            .collect();
        // Stable: within a block, storage order.
        out.sort_by_key(|f| f.block());
        out
    }

    /// The part holding block `b` now.
    fn part_of(&self, b: Block) -> &LevelPart {
        if self.replaced.contains(&b) {
            &self.over
        } else {
            &self.base
        }
    }

    /// The input of block `b` one zoom coarser: the features of its four
    /// child blocks here, in block order.
    fn children_of(&self, b: Block, resolve: &dyn Fn(Src) -> Option<(Part, u32)>) -> Vec<Feature> {
        let mut out = Vec::new();
        for c in [
            (2 * b.0, 2 * b.1),
            (2 * b.0, 2 * b.1 + 1),
            (2 * b.0 + 1, 2 * b.1),
            (2 * b.0 + 1, 2 * b.1 + 1),
        ] {
            let part = self.part_of(c);
            out.extend(part.block_range(c).filter_map(|i| part.feature(i, resolve)));
        }
        out
    }
}

#[cfg(test)]
thread_local! {
    /// Full builds on this thread (tests check that edits avoid them).
    pub(crate) static FULL_BUILDS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Generalised levels of a layer, indexed by zoom.
#[derive(Debug, Default)]
pub struct Pyramid {
    levels: Vec<Option<Level>>,
}

/// What a pyramid is built from: the live features of a layer's parts.
pub struct Source<'a, L, C>
where
    L: Fn(Part, usize) -> bool + Sync,
    C: Fn(&Rect<f64>) -> Vec<(Part, u32)>,
{
    /// The layer's parts (base, delta).
    pub parts: &'a [(Part, &'a LayerData)],
    /// Whether a row is live (replaced base rows are not).
    pub live: L,
    /// Rows whose envelopes intersect a rectangle (the layer's R-trees).
    pub candidates: C,
    /// Lowest generalised zoom.
    pub minzoom: u8,
    /// First zoom with full geometry.
    pub detail_zoom: u8,
    /// Fields polygons are merged by.
    pub merge_by: Option<&'a [usize]>,
}

fn first_coord(d: &LayerData, row: usize) -> Option<Coord<f64>> {
    d.geometry.coords_of(row).first().copied()
}

impl Pyramid {
    /// The level for zoom `z`, if the layer is generalised there (zooms at
    /// or past the detail zoom use the full geometry).
    pub fn level(&self, z: u8) -> Option<&Level> {
        self.levels.get(z as usize)?.as_ref()
    }

    /// Heap bytes of every level.
    pub fn heap_bytes(&self) -> usize {
        self.levels.iter().flatten().map(Level::heap_bytes).sum()
    }

    /// Builds levels `minzoom..detail_zoom` from the live features of a
    /// layer's parts (`live(part, row)` hides replaced base rows). With
    /// `merge_by` (field indexes), polygons that share those fields' values
    /// and lie in the same block become one multipolygon feature: a dense
    /// cadastral tile then costs a few bytes per parcel instead of its id
    /// and every attribute. Blocks are built in parallel.
    pub fn build(
        parts: &[(Part, &LayerData)],
        live: impl Fn(Part, usize) -> bool + Sync,
        minzoom: u8,
        detail_zoom: u8,
        merge_by: Option<&[usize]>,
    ) -> Pyramid {
        #[cfg(test)]
        FULL_BUILDS.with(|n| n.set(n.get() + 1));
        let src = Source {
            parts,
            live,
            candidates: |_: &Rect<f64>| Vec::new(),
            minzoom,
            detail_zoom,
            merge_by,
        };
        Pyramid::make(&src, None).expect("a full build needs no previous level")
    }

    /// The pyramid after an edit: only the blocks holding `touched` points
    /// (the first vertices of the changed features, before and after) are
    /// rebuilt, at every level, into each level's overlay; the levels'
    /// base parts are shared with `self`. `None` when `self` lacks a level
    /// (the caller then builds afresh).
    pub fn update<L, C>(&self, src: &Source<'_, L, C>, touched: &[Coord<f64>]) -> Option<Pyramid>
    where
        L: Fn(Part, usize) -> bool + Sync,
        C: Fn(&Rect<f64>) -> Vec<(Part, u32)>,
    {
        Pyramid::make(src, Some((self, touched)))
    }

    fn make<L, C>(src: &Source<'_, L, C>, old: Option<(&Pyramid, &[Coord<f64>])>) -> Option<Pyramid>
    where
        L: Fn(Part, usize) -> bool + Sync,
        C: Fn(&Rect<f64>) -> Vec<(Part, u32)>,
    {
        let (minzoom, detail_zoom) = (src.minzoom, src.detail_zoom);
        let mut levels: Vec<Option<Level>> = (0..detail_zoom).map(|_| None).collect();
        if minzoom >= detail_zoom {
            return Some(Pyramid { levels });
        }
        let Some(kind) = src.parts.first().map(|(_, d)| d.geometry.kind()) else {
            return Some(Pyramid { levels });
        };
        let merge_by = src
            .merge_by
            .filter(|m| kind == GeometryKind::Polygon && !m.is_empty());
        let data = |p: Part| {
            src.parts
                .iter()
                .find(|(q, _)| *q == p)
                .map(|(_, d)| *d)
                .expect("a part of the layer")
        };
        // Delta rows are stored by fid: every edit renumbers them.
        let delta = src
            .parts
            .iter()
            .find(|(q, _)| *q == Part::Delta)
            .map(|(_, d)| *d);
        let resolve = |s: Src| match s {
            Src::Base(row) => Some((Part::Base, row)),
            Src::Delta(fid) => Some((Part::Delta, delta?.row_of(fid)? as u32)),
        };
        let to_src = |part: Part, row: u32| match part {
            Part::Base => Src::Base(row),
            Part::Delta => Src::Delta(data(Part::Delta).fids[row as usize]),
        };
        let materialise = |refs: Vec<(Part, u32)>| -> Vec<Feature> {
            refs.into_iter()
                .map(|(part, row)| {
                    let g: Vec<Vec<Vec<Coord<f64>>>> = data(part)
                        .geometry
                        .parts(row as usize)
                        .map(|rings| rings.map(<[Coord<f64>]>::to_vec).collect())
                        .collect();
                    (part, row, g)
                })
                .filter(|f| !f.2.is_empty())
                .collect()
        };
        let run = |z: u8, b: Block, input: Vec<Feature>| -> Vec<Feature> {
            let kept = generalize(kind, input.into_iter(), pixel(z));
            let kept = match merge_by {
                Some(fields) => merge(kept, src.parts, fields),
                None => kept,
            };
            match kind {
                GeometryKind::Polygon => snap_to_grid(kept, z, b),
                _ => kept,
            }
        };
        let finest = detail_zoom - 1;
        // Blocks to (re)build at the finest level, with their input rows.
        let mut todo: Vec<(Block, Vec<(Part, u32)>)> = Vec::new();
        match old {
            None => {
                let mut groups: BTreeMap<Block, Vec<(Part, u32)>> = BTreeMap::new();
                for (part, d) in src.parts {
                    for row in 0..d.len() {
                        if !(src.live)(*part, row) {
                            continue;
                        }
                        if let Some(c) = first_coord(d, row) {
                            groups
                                .entry(block_of(c, finest))
                                .or_default()
                                .push((*part, row as u32));
                        }
                    }
                }
                todo.extend(groups);
            }
            Some((_, touched)) => {
                let blocks: BTreeSet<Block> =
                    touched.iter().map(|c| block_of(*c, finest)).collect();
                for b in blocks {
                    // The rectangle grows by a pixel: `block_of` and
                    // `block_rect` round differently at the edge, and the
                    // `block_of` test below drops the extras.
                    let grown = grow_rect(block_rect(b, finest), pixel(finest));
                    let mut refs: Vec<(Part, u32)> = (src.candidates)(&grown)
                        .into_iter()
                        .filter(|&(part, row)| {
                            (src.live)(part, row as usize)
                                && first_coord(data(part), row as usize)
                                    .is_some_and(|c| block_of(c, finest) == b)
                        })
                        .collect();
                    refs.sort_unstable();
                    todo.push((b, refs));
                }
            }
        }
        let mut built: Vec<(Block, Vec<Feature>)> = todo
            .into_par_iter()
            .map(|(b, refs)| (b, run(finest, b, materialise(refs))))
            .collect();
        for z in (minzoom..=finest).rev() {
            // Every block rebuilt here (some may have come out empty).
            let rebuilt: Vec<Block> = built.iter().map(|(b, _)| *b).collect();
            let prev = match old {
                None => None,
                Some((p, _)) => Some(p.level(z)?),
            };
            let mut level = assemble(kind, prev, built, &to_src);
            level.merged_by = merge_by.map(<[usize]>::to_vec);
            // The next coarser level: the parents of the rebuilt blocks
            // (all of them in a full build).
            built = if z > minzoom {
                let parents: BTreeSet<Block> = rebuilt.into_iter().map(parent).collect();
                let lv = &level;
                parents
                    .into_iter()
                    .collect::<Vec<_>>()
                    .into_par_iter()
                    .map(|b| (b, run(z - 1, b, lv.children_of(b, &resolve))))
                    .collect()
            } else {
                Vec::new()
            };
            levels[z as usize] = Some(level);
        }
        Some(Pyramid { levels })
    }
}
/// A feature being generalised: where its attributes live, and its parts
/// as rings of coordinates.
type Feature = (Part, u32, Vec<Vec<Vec<Coord<f64>>>>);

fn generalize(kind: GeometryKind, input: impl Iterator<Item = Feature>, px: f64) -> Vec<Feature> {
    let mut out = Vec::new();
    match kind {
        GeometryKind::Point => {
            let mut seen = HashSet::new();
            for (part, row, g) in input {
                let parts: Vec<_> = g
                    .iter()
                    .filter(|p| {
                        let c = p[0][0];
                        seen.insert(((c.x / px).floor() as i64, (c.y / px).floor() as i64))
                    })
                    .cloned()
                    .collect();
                if !parts.is_empty() {
                    out.push((part, row, parts));
                }
            }
        }
        GeometryKind::Line => {
            for (part, row, g) in input {
                let parts: Vec<_> = g
                    .iter()
                    .filter_map(|p| {
                        let line = simplify_line(&p[0], px / 2.0);
                        (line.len() >= 2 && extent(&line) >= px).then(|| vec![line])
                    })
                    .collect();
                if !parts.is_empty() {
                    out.push((part, row, parts));
                }
            }
        }
        GeometryKind::Polygon => {
            let pixel_area = px * px;
            // Area gathered per pixel cell: local, so an edit changes only
            // the cells it touches (and so only the tiles over them).
            let mut gathered: HashMap<(i64, i64), f64> = HashMap::new();
            for (part, row, g) in input {
                let mut parts = Vec::new();
                for rings in &g {
                    let outer = ring_area(&rings[0]);
                    if outer < pixel_area || extent(&rings[0]) < px {
                        let c = centre(&rings[0]);
                        let cell = ((c.x / px).floor() as i64, (c.y / px).floor() as i64);
                        let acc = gathered.entry(cell).or_insert(0.0);
                        *acc += outer;
                        // Round, not floor: a cell more than half covered
                        // gets its square (and owes the difference), so
                        // area is kept level after level instead of
                        // leaking away at every coarser zoom.
                        if *acc >= pixel_area / 2.0 {
                            *acc -= pixel_area;
                            let mid = Coord {
                                x: (cell.0 as f64 + 0.5) * px,
                                y: (cell.1 as f64 + 0.5) * px,
                            };
                            parts.push(vec![square(mid, px)]);
                        }
                        continue;
                    }
                    let mut kept = Vec::with_capacity(rings.len());
                    for (k, r) in rings.iter().enumerate() {
                        if k > 0 && ring_area(r) < pixel_area {
                            continue;
                        }
                        let s = simplify_ring(r, px / 2.0);
                        if s.len() >= 4 && ring_area(&s) > 0.0 {
                            kept.push(s);
                        } else if k == 0 {
                            // Simplified away: still a pixel's worth of area.
                            kept.push(square(centre(r), px));
                        }
                    }
                    parts.push(kept);
                }
                if !parts.is_empty() {
                    out.push((part, row, parts));
                }
            }
        }
    }
    out
}

/// The tile extent (units per tile side) whose grid the polygon levels are
/// snapped to: the MVT default, which geoplan's tiles use.
pub const GRID_EXTENT: u32 = 4096;

/// Snaps the polygon features of block `b` of zoom `z` to that zoom's tile
/// grid ([`GRID_EXTENT`] units per tile) and makes each valid there with
/// the tiles' own check and repair ([`crate::model::valid`]), once, when
/// the level is built: a tile of zoom `z` then quantises an unclipped
/// feature back onto exactly these grid points, valid as they are, and
/// skips the check (a merged land-use feature has thousands of edges, and
/// snapping makes most of them touch somewhere). Grid units are counted
/// from the block's corner (y down, as in a tile), which keeps them small
/// and exact in `i32`; a feature that vanishes on the grid is dropped, as
/// its tile would drop it.
fn snap_to_grid(input: Vec<Feature>, z: u8, b: Block) -> Vec<Feature> {
    use crate::model::valid::{clean_ring, signed_area2, Checker};
    let u = tile_span(z) / f64::from(GRID_EXTENT);
    let r = block_rect(b, z);
    let (x0, y0) = (r.min().x, r.max().y);
    let mut checker = Checker::default();
    let (mut pts, mut ends, mut q) = (Vec::new(), Vec::new(), Vec::new());
    let mut out = Vec::with_capacity(input.len());
    for (part, row, polys) in input {
        pts.clear();
        ends.clear();
        for rings in &polys {
            for (k, ring) in rings.iter().enumerate() {
                q.clear();
                for c in ring {
                    let p = [
                        ((c.x - x0) / u).round() as i32,
                        ((y0 - c.y) / u).round() as i32,
                    ];
                    if q.last() != Some(&p) {
                        q.push(p);
                    }
                }
                while q.len() > 1 && q.first() == q.last() {
                    q.pop();
                }
                clean_ring(&mut q);
                if q.is_empty() {
                    if k == 0 {
                        break;
                    }
                    continue;
                }
                if (k == 0) != (signed_area2(&q) > 0) {
                    q.reverse();
                }
                pts.extend_from_slice(&q);
                ends.push(pts.len());
            }
        }
        if !ends.is_empty() && !checker.is_valid(&pts, &ends) {
            checker.repair(&mut pts, &mut ends);
        }
        if ends.is_empty() {
            continue;
        }
        let mut g: Vec<Vec<Vec<Coord<f64>>>> = Vec::new();
        let mut start = 0;
        for &end in &ends {
            let ring = &pts[start..end];
            start = end;
            let mut cs: Vec<Coord<f64>> = ring
                .iter()
                .map(|p| Coord {
                    x: x0 + f64::from(p[0]) * u,
                    y: y0 - f64::from(p[1]) * u,
                })
                .collect();
            cs.push(cs[0]);
            match g.last_mut() {
                Some(poly) if signed_area2(ring) < 0 => poly.push(cs),
                _ => g.push(vec![cs]),
            }
        }
        out.push((part, row, g));
    }
    out
}

/// Groups the polygon features of one block by the values of `fields`;
/// each group becomes one multipolygon, its attributes those of its first
/// member.
fn merge(input: Vec<Feature>, parts: &[(Part, &LayerData)], fields: &[usize]) -> Vec<Feature> {
    let data = |p: Part| parts.iter().find(|(q, _)| *q == p).map(|(_, d)| *d);
    let mut groups: HashMap<String, usize> = HashMap::new();
    let mut out: Vec<Feature> = Vec::new();
    for (part, row, g) in input {
        let Some(d) = data(part) else { continue };
        let mut k = String::new();
        for &f in fields {
            k.push_str(&format!("{:?}\u{1f}", d.value(row as usize, f)));
        }
        match groups.get(&k) {
            Some(&i) => out[i].2.extend(g),
            None => {
                groups.insert(k, out.len());
                out.push((part, row, g));
            }
        }
    }
    // Dissolve each group, so neighbours sharing an edge become one valid
    // polygon (a multipolygon of touching parts would not be valid).
    for f in out.iter_mut().filter(|f| f.2.len() > 1) {
        use geo::orient::{Direction, Orient};
        let polys: Vec<Polygon<f64>> =
            f.2.iter()
                .map(|rings| {
                    Polygon::new(
                        LineString::from(rings[0].clone()),
                        rings[1..]
                            .iter()
                            .map(|r| LineString::from(r.clone()))
                            .collect(),
                    )
                    .orient(Direction::Default)
                })
                .collect();
        let merged = geo::unary_union(&polys);
        f.2 = merged
            .0
            .into_iter()
            .map(|p| {
                let (ext, holes) = p.into_inner();
                std::iter::once(ext.0)
                    .chain(holes.into_iter().map(|h| h.0))
                    .collect()
            })
            .collect();
    }
    out
}

/// A level's overlay may grow to this many features before it is folded
/// into a new base (`base` features in the base).
fn fold_threshold(base: usize) -> usize {
    (base / 8).max(64)
}

/// Builds a level from rebuilt blocks and, in an update, the previous
/// level: its base is shared, the rebuilt blocks join its overlay (which
/// drops its own copy of them) and hide the base's. An overlay grown past
/// [`fold_threshold`] is folded into a new base.
fn assemble(
    kind: GeometryKind,
    prev: Option<&Level>,
    built: Vec<(Block, Vec<Feature>)>,
    to_src: &dyn Fn(Part, u32) -> Src,
) -> Level {
    let fresh: BTreeMap<Block, Vec<Feature>> = built.into_iter().collect();
    let level = |base: Arc<LevelPart>, over: LevelPart, replaced: HashSet<Block>| Level {
        base,
        over,
        replaced,
        merged_by: None,
        grid_extent: (kind == GeometryKind::Polygon).then_some(GRID_EXTENT),
    };
    let Some(prev) = prev else {
        let base = level_part(kind, &[], fresh, to_src);
        return level(
            Arc::new(base),
            level_part(kind, &[], BTreeMap::new(), to_src),
            HashSet::new(),
        );
    };
    let rebuilt: HashSet<Block> = fresh.keys().copied().collect();
    let mut replaced: HashSet<Block> = prev.replaced.clone();
    replaced.extend(rebuilt.iter().copied());
    let not_rebuilt = |b: Block| !rebuilt.contains(&b);
    let over_rest: &dyn Fn(Block) -> bool = &not_rebuilt;
    let over = level_part(kind, &[(&prev.over, over_rest)], fresh, to_src);
    if over.src.len() + replaced.len() <= fold_threshold(prev.base.src.len()) {
        return level(prev.base.clone(), over, replaced);
    }
    let kept = |b: Block| !replaced.contains(&b);
    let base_rest: &dyn Fn(Block) -> bool = &kept;
    let all: &dyn Fn(Block) -> bool = &|_| true;
    let base = level_part(
        kind,
        &[(&prev.base, base_rest), (&over, all)],
        BTreeMap::new(),
        to_src,
    );
    level(
        Arc::new(base),
        level_part(kind, &[], BTreeMap::new(), to_src),
        HashSet::new(),
    )
}

/// A level part from the blocks of `from` that each one's test keeps and
/// the `fresh` blocks, in block order (the blocks of each must be
/// disjoint); with its R-tree.
fn level_part(
    kind: GeometryKind,
    from: &[(&LevelPart, &dyn Fn(Block) -> bool)],
    fresh: BTreeMap<Block, Vec<Feature>>,
    to_src: &dyn Fn(Part, u32) -> Src,
) -> LevelPart {
    enum Run<'a> {
        Copy(&'a LevelPart, std::ops::Range<usize>),
        Fresh(Vec<Feature>),
    }
    let mut runs: Vec<(Block, Run)> = Vec::new();
    for (part, keep) in from {
        let mut i = 0;
        while i < part.blocks.len() {
            let b = part.blocks[i];
            let end = i + part.blocks[i..].partition_point(|x| *x == b);
            if keep(b) {
                runs.push((b, Run::Copy(part, i..end)));
            }
            i = end;
        }
    }
    runs.extend(fresh.into_iter().map(|(b, f)| (b, Run::Fresh(f))));
    runs.sort_by_key(|r| r.0);
    let mut geometry = FlatGeometry::new(kind);
    let mut src = Vec::new();
    let mut blocks = Vec::new();
    for (b, run) in runs {
        match run {
            Run::Copy(part, range) => {
                geometry.extend_from(&part.geometry, range.clone());
                src.extend_from_slice(&part.src[range.clone()]);
                blocks.extend(std::iter::repeat_n(b, range.len()));
            }
            Run::Fresh(feats) => {
                for (part, row, g) in feats {
                    for rings in &g {
                        for r in rings {
                            geometry.push_ring_coords(r);
                        }
                        geometry.close_part();
                    }
                    geometry.close_feature();
                    src.push(to_src(part, row));
                    blocks.push(b);
                }
            }
        }
    }
    geometry.shrink_to_fit();
    LevelPart {
        index: SpatialIndex::of(&geometry),
        geometry,
        src,
        blocks,
    }
}

fn extent(r: &[Coord<f64>]) -> f64 {
    let (mut lo, mut hi) = (r[0], r[0]);
    for c in r {
        lo = Coord {
            x: lo.x.min(c.x),
            y: lo.y.min(c.y),
        };
        hi = Coord {
            x: hi.x.max(c.x),
            y: hi.y.max(c.y),
        };
    }
    (hi.x - lo.x).max(hi.y - lo.y)
}

fn ring_area(r: &[Coord<f64>]) -> f64 {
    Polygon::new(LineString::from(r.to_vec()), vec![]).unsigned_area()
}

fn centre(r: &[Coord<f64>]) -> Coord<f64> {
    let n = r.len().max(1) as f64;
    let s = r.iter().fold(Coord { x: 0.0, y: 0.0 }, |a, c| Coord {
        x: a.x + c.x,
        y: a.y + c.y,
    });
    Coord {
        x: s.x / n,
        y: s.y / n,
    }
}

/// A closed square of side `px` centred on `c` (counter-clockwise in y-up).
fn square(c: Coord<f64>, px: f64) -> Vec<Coord<f64>> {
    let h = px / 2.0;
    vec![
        Coord {
            x: c.x - h,
            y: c.y - h,
        },
        Coord {
            x: c.x + h,
            y: c.y - h,
        },
        Coord {
            x: c.x + h,
            y: c.y + h,
        },
        Coord {
            x: c.x - h,
            y: c.y + h,
        },
        Coord {
            x: c.x - h,
            y: c.y - h,
        },
    ]
}

fn simplify_line(l: &[Coord<f64>], tolerance: f64) -> Vec<Coord<f64>> {
    LineString::from(l.to_vec()).simplify(tolerance).0
}

fn simplify_ring(r: &[Coord<f64>], tolerance: f64) -> Vec<Coord<f64>> {
    Polygon::new(LineString::from(r.to_vec()), vec![])
        .simplify(tolerance)
        .exterior()
        .0
        .clone()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{FieldDef, GeometryType, LayerDataBuilder};
    use geo_types::{polygon, Geometry};

    /// `n` × `n` squares of side `size` metres, `gap` apart, from the origin.
    fn squares(n: i64, size: f64, gap: f64) -> LayerData {
        let mut b = LayerDataBuilder::new("t", 3857, GeometryType::Polygon, Vec::<FieldDef>::new());
        for i in 0..n * n {
            let (x, y) = ((i % n) as f64 * (size + gap), (i / n) as f64 * (size + gap));
            b.push(
                i + 1,
                Some(&Geometry::Polygon(polygon![
                    (x: x, y: y), (x: x + size, y: y), (x: x + size, y: y + size),
                    (x: x, y: y + size), (x: x, y: y),
                ])),
                vec![],
            )
            .unwrap();
        }
        b.finish().unwrap()
    }

    fn level_area(l: &Level) -> f64 {
        (0..l.base.geometry.len())
            .flat_map(|i| {
                l.base
                    .geometry
                    .parts(i)
                    .map(|mut p| ring_area(p.next().unwrap()))
            })
            .sum()
    }

    #[test]
    fn features_smaller_than_a_pixel_become_pixel_squares_that_keep_the_total_area() {
        // 100 × 100 parcels of 10 m: at z10 a pixel is ~76 m, so each is
        // tiny; the level must keep about the same total area in far fewer
        // features, not drop everything and not keep everything.
        let d = squares(100, 10.0, 0.0);
        let p = Pyramid::build(&[(Part::Base, &d)], |_, _| true, 10, 14, None);
        let l = p.level(10).unwrap();
        let total = 100.0 * 100.0 * 100.0;
        let got = level_area(l);
        // Each pixel cell is off by at most half a pixel's worth.
        assert!((got - total).abs() < 0.3 * total, "area {got} vs {total}");
        assert!(
            l.base.geometry.len() < 400 && !l.base.geometry.is_empty(),
            "{}",
            l.base.geometry.len()
        );
        // Finer levels keep the parcels themselves.
        assert!(p.level(13).unwrap().base.geometry.len() > 5_000);
        assert!(p.level(14).is_none() && p.level(9).is_none());
    }

    #[test]
    fn large_polygons_survive_every_level_simplified_but_with_their_area() {
        // A 5 km circle-ish polygon with 720 vertices.
        let ring: Vec<Coord<f64>> = (0..=720)
            .map(|k| {
                let a = k as f64 / 720.0 * std::f64::consts::TAU;
                Coord {
                    x: 5000.0 * a.cos(),
                    y: 5000.0 * a.sin(),
                }
            })
            .collect();
        let mut b = LayerDataBuilder::new("c", 3857, GeometryType::Polygon, vec![]);
        b.push(
            7,
            Some(&Geometry::Polygon(Polygon::new(
                LineString::from(ring),
                vec![],
            ))),
            vec![],
        )
        .unwrap();
        let d = b.finish().unwrap();
        let p = Pyramid::build(&[(Part::Base, &d)], |_, _| true, 0, 14, None);
        let exact = ring_area(d.geometry.parts(0).next().unwrap().next().unwrap());
        let perimeter = std::f64::consts::TAU * 5000.0;
        for z in 6..14u8 {
            let l = p.level(z).unwrap();
            assert_eq!(l.base.src, vec![Src::Base(0)], "z{z}");
            let n = l.base.geometry.coord_count();
            assert!(n < 721, "z{z} kept all {n} vertices");
            // Simplification moves the outline by at most half a pixel.
            let a = level_area(l);
            assert!(
                (a - exact).abs() <= perimeter * pixel(z) / 2.0,
                "z{z}: {a} vs {exact}"
            );
        }
        assert!(
            p.level(8).unwrap().base.geometry.coord_count()
                < p.level(13).unwrap().base.geometry.coord_count()
        );
    }

    #[test]
    fn polygon_levels_lie_on_their_tile_grid_and_are_valid_there() {
        // One feature of 400 squares 40 m wide and 0.5 m apart: on the
        // grid of z12–14 (9.6–2.4 m) the gaps close, so the squares touch
        // each other (invalid as one multipolygon) until repaired.
        let mut polys = Vec::new();
        for i in 0..400 {
            let (x, y) = ((i % 20) as f64 * 40.5, (i / 20) as f64 * 40.5);
            polys.push(polygon![
                (x: x, y: y), (x: x + 40.0, y: y), (x: x + 40.0, y: y + 40.0),
                (x: x, y: y + 40.0), (x: x, y: y),
            ]);
        }
        let mut b = LayerDataBuilder::new("m", 3857, GeometryType::MultiPolygon, vec![]);
        b.push(
            1,
            Some(&Geometry::MultiPolygon(geo_types::MultiPolygon(polys))),
            vec![],
        )
        .unwrap();
        let d = b.finish().unwrap();
        let p = Pyramid::build(&[(Part::Base, &d)], |_, _| true, 12, 15, None);
        let total = 400.0 * 40.0 * 40.0;
        for z in 12..15u8 {
            let l = p.level(z).unwrap();
            assert_eq!(l.grid_extent, Some(GRID_EXTENT));
            let u = tile_span(z) / f64::from(GRID_EXTENT);
            let mut area = 0.0;
            for i in 0..l.base.geometry.len() {
                for c in l.base.geometry.coords_of(i) {
                    for v in [(c.x + HALF_WORLD) / u, (HALF_WORLD - c.y) / u] {
                        assert!((v - v.round()).abs() < 1e-6, "z{z}: {c:?} off the grid");
                    }
                }
                let mp = geo_types::MultiPolygon(
                    l.base
                        .geometry
                        .parts(i)
                        .map(|mut rings| {
                            let ext = LineString::from(rings.next().unwrap().to_vec());
                            Polygon::new(ext, rings.map(|r| LineString::from(r.to_vec())).collect())
                        })
                        .collect(),
                );
                assert!(geo::Validation::is_valid(&mp), "z{z}: {mp:?}");
                area += mp.unsigned_area();
            }
            // The closed gaps add their area, snapping moves edges by half
            // a unit at most.
            assert!(
                (area - total).abs() < 0.05 * total + 4.0 * 810.0 * u,
                "z{z}: {area} vs {total}"
            );
        }
    }

    #[test]
    fn hidden_rows_are_left_out_of_every_level() {
        let d = squares(3, 1000.0, 100.0);
        let p = Pyramid::build(&[(Part::Base, &d)], |_, row| row != 4, 12, 14, None);
        let l = p.level(12).unwrap();
        assert_eq!(l.base.src.len(), 8);
        assert!(!l.base.src.contains(&Src::Base(4)));
    }
}
