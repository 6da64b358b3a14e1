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
//! Coordinates are Web Mercator metres; no IO.

use super::index::SpatialIndex;
use super::layer::Part;
use crate::model::{grow_rect, FlatGeometry, GeometryKind, LayerData};
use geo::{Area, Simplify};
use geo_types::{Coord, LineString, Polygon, Rect};
use rayon::prelude::*;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

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

/// A layer generalised for one zoom.
#[derive(Debug)]
pub struct Level {
    /// Simplified geometry, one entry per kept feature, ordered by block.
    pub geometry: FlatGeometry,
    /// For each kept feature: where its attributes live in the layer (for
    /// a merged feature, one of its members).
    pub src: Vec<(Part, u32)>,
    /// For each kept feature: the block it was built in (sorted).
    pub blocks: Vec<Block>,
    /// Spatial index over `geometry` (data = index into `src`).
    pub index: SpatialIndex,
    /// When features were merged: the fields they were grouped by, the
    /// only attributes a merged feature carries (it has no single id).
    pub merged_by: Option<Vec<usize>>,
    /// For polygon levels: the tile extent ([`GRID_EXTENT`]) whose grid
    /// at this level's zoom every vertex lies on, each feature valid there
    /// (see [`snap_to_grid`]). A tile of that extent and zoom that shows a
    /// feature unclipped then needs neither cleaning nor a validity check.
    pub grid_extent: Option<u32>,
}

impl Level {
    /// Heap bytes (geometry, references and the tree).
    pub fn heap_bytes(&self) -> usize {
        self.geometry.heap_bytes()
            + self.src.capacity() * 8
            + self.blocks.capacity() * 16
            + self.index.heap_bytes()
    }

    /// The features of block `b` (a range of indexes).
    fn block_range(&self, b: Block) -> std::ops::Range<usize> {
        self.blocks.partition_point(|x| *x < b)..self.blocks.partition_point(|x| *x <= b)
    }

    /// Feature `i` as rings of coordinates.
    fn feature(&self, i: usize) -> Feature {
        let (part, row) = self.src[i];
        (
            part,
            row,
            self.geometry
                .parts(i)
                .map(|rings| rings.map(<[Coord<f64>]>::to_vec).collect())
                .collect(),
        )
    }

    /// The input of block `b` one zoom coarser: the features of its four
    /// child blocks here, in block order.
    fn children_of(&self, b: Block) -> Vec<Feature> {
        let mut out = Vec::new();
        for c in [
            (2 * b.0, 2 * b.1),
            (2 * b.0, 2 * b.1 + 1),
            (2 * b.0 + 1, 2 * b.1),
            (2 * b.0 + 1, 2 * b.1 + 1),
        ] {
            out.extend(self.block_range(c).map(|i| self.feature(i)));
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
        Pyramid::make(&src, None).expect("a full build needs no remapping")
    }

    /// The pyramid after an edit: only the blocks holding `touched` points
    /// (the first vertices of the changed features, before and after) are
    /// rebuilt, at every level; the rest is copied, with attribute rows
    /// moved by `remap` (the delta is renumbered by an edit). `None` when a
    /// row cannot be remapped (the caller then builds afresh).
    pub fn update<L, C>(
        &self,
        src: &Source<'_, L, C>,
        touched: &[Coord<f64>],
        remap: impl Fn(Part, u32) -> Option<(Part, u32)>,
    ) -> Option<Pyramid>
    where
        L: Fn(Part, usize) -> bool + Sync,
        C: Fn(&Rect<f64>) -> Vec<(Part, u32)>,
    {
        Pyramid::make(src, Some((self, touched, &remap)))
    }

    #[allow(clippy::type_complexity)]
    fn make<L, C>(
        src: &Source<'_, L, C>,
        old: Option<(
            &Pyramid,
            &[Coord<f64>],
            &dyn Fn(Part, u32) -> Option<(Part, u32)>,
        )>,
    ) -> Option<Pyramid>
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
            Some((_, touched, _)) => {
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
            let mut level = match old {
                None => assemble(kind, None, built)?,
                Some((p, _, remap)) => assemble(kind, Some((p.level(z)?, remap)), built)?,
            };
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
                    .map(|b| (b, run(z - 1, b, lv.children_of(b))))
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

/// Builds a level from rebuilt blocks and, in an update, the blocks of the
/// previous level that were not rebuilt (their rows moved by `remap`).
/// Features are stored in block order, so a block's features are
/// contiguous and the result does not depend on which blocks were rebuilt.
#[allow(clippy::type_complexity)]
fn assemble(
    kind: GeometryKind,
    prev: Option<(&Level, &dyn Fn(Part, u32) -> Option<(Part, u32)>)>,
    built: Vec<(Block, Vec<Feature>)>,
) -> Option<Level> {
    let mut fresh: BTreeMap<Block, Vec<Feature>> = built.into_iter().collect();
    let mut geometry = FlatGeometry::new(kind);
    let mut src = Vec::new();
    let mut blocks = Vec::new();
    let push_feature = |geometry: &mut FlatGeometry, g: &[Vec<Vec<Coord<f64>>>]| {
        for rings in g {
            for r in rings {
                geometry.push_ring_coords(r);
            }
            geometry.close_part();
        }
        geometry.close_feature();
    };
    match prev {
        None => {
            for (b, feats) in fresh {
                for (part, row, g) in feats {
                    push_feature(&mut geometry, &g);
                    src.push((part, row));
                    blocks.push(b);
                }
            }
        }
        Some((prev, remap)) => {
            // Walk the previous level's runs of blocks and the rebuilt
            // blocks together, in block order.
            let mut i = 0;
            let n = prev.blocks.len();
            let emit_fresh_before = |limit: Option<Block>,
                                     fresh: &mut BTreeMap<Block, Vec<Feature>>,
                                     geometry: &mut FlatGeometry,
                                     src: &mut Vec<(Part, u32)>,
                                     blocks: &mut Vec<Block>| {
                while let Some(entry) = fresh.first_entry() {
                    if limit.is_some_and(|l| *entry.key() > l) {
                        break;
                    }
                    let (b, feats) = entry.remove_entry();
                    for (part, row, g) in feats {
                        push_feature(geometry, &g);
                        src.push((part, row));
                        blocks.push(b);
                    }
                }
            };
            let rebuilt: BTreeSet<Block> = fresh.keys().copied().collect();
            while i < n {
                let b = prev.blocks[i];
                let end = i + prev.blocks[i..].partition_point(|x| *x == b);
                emit_fresh_before(Some(b), &mut fresh, &mut geometry, &mut src, &mut blocks);
                if !rebuilt.contains(&b) {
                    geometry.extend_from(&prev.geometry, i..end);
                    for k in i..end {
                        let (part, row) = prev.src[k];
                        src.push(remap(part, row)?);
                        blocks.push(b);
                    }
                }
                i = end;
            }
            emit_fresh_before(None, &mut fresh, &mut geometry, &mut src, &mut blocks);
        }
    }
    geometry.shrink_to_fit();
    Some(Level {
        index: SpatialIndex::of(&geometry),
        geometry,
        src,
        blocks,
        merged_by: None,
        grid_extent: (kind == GeometryKind::Polygon).then_some(GRID_EXTENT),
    })
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
        (0..l.geometry.len())
            .flat_map(|i| {
                l.geometry
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
            l.geometry.len() < 400 && !l.geometry.is_empty(),
            "{}",
            l.geometry.len()
        );
        // Finer levels keep the parcels themselves.
        assert!(p.level(13).unwrap().geometry.len() > 5_000);
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
            assert_eq!(l.src, vec![(Part::Base, 0)], "z{z}");
            let n = l.geometry.coord_count();
            assert!(n < 721, "z{z} kept all {n} vertices");
            // Simplification moves the outline by at most half a pixel.
            let a = level_area(l);
            assert!(
                (a - exact).abs() <= perimeter * pixel(z) / 2.0,
                "z{z}: {a} vs {exact}"
            );
        }
        assert!(
            p.level(8).unwrap().geometry.coord_count()
                < p.level(13).unwrap().geometry.coord_count()
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
            for i in 0..l.geometry.len() {
                for c in l.geometry.coords_of(i) {
                    for v in [(c.x + HALF_WORLD) / u, (HALF_WORLD - c.y) / u] {
                        assert!((v - v.round()).abs() < 1e-6, "z{z}: {c:?} off the grid");
                    }
                }
                let mp = geo_types::MultiPolygon(
                    l.geometry
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
        assert_eq!(l.src.len(), 8);
        assert!(!l.src.contains(&(Part::Base, 4)));
    }
}
