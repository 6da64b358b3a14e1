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

use super::layer::{Entry, Part};
use crate::model::{FlatGeometry, GeometryKind, LayerData};
use geo::{Area, Simplify};
use geo_types::{Coord, LineString, Polygon};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::RTree;
use std::collections::{HashMap, HashSet};

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

/// A layer generalised for one zoom.
#[derive(Debug)]
pub struct Level {
    /// Simplified geometry, one entry per kept feature.
    pub geometry: FlatGeometry,
    /// For each kept feature: where its attributes live in the layer (for
    /// a merged feature, one of its members).
    pub src: Vec<(Part, u32)>,
    /// R-tree over `geometry` (data = index into `src`).
    pub tree: RTree<Entry>,
    /// When features were merged: the fields they were grouped by, the
    /// only attributes a merged feature carries (it has no single id).
    pub merged_by: Option<Vec<usize>>,
}

impl Level {
    /// Heap bytes (geometry and references; the tree is estimated at 64
    /// bytes per entry, rstar's leaf size for this entry type).
    pub fn heap_bytes(&self) -> usize {
        self.geometry.heap_bytes() + self.src.capacity() * 8 + self.tree.size() * 64
    }
}

/// Generalised levels of a layer, indexed by zoom.
#[derive(Debug, Default)]
pub struct Pyramid {
    levels: Vec<Option<Level>>,
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
    /// and lie in the same quarter tile become one multipolygon feature:
    /// a dense cadastral tile then costs a few bytes per parcel instead of
    /// its id and every attribute.
    pub fn build(
        parts: &[(Part, &LayerData)],
        live: impl Fn(Part, usize) -> bool,
        minzoom: u8,
        detail_zoom: u8,
        merge_by: Option<&[usize]>,
    ) -> Pyramid {
        let mut levels: Vec<Option<Level>> = (0..detail_zoom).map(|_| None).collect();
        if minzoom >= detail_zoom {
            return Pyramid { levels };
        }
        let Some(kind) = parts.first().map(|(_, d)| d.geometry.kind()) else {
            return Pyramid { levels };
        };
        // The finest level streams the full data (one feature materialised
        // at a time); coarser ones read the level above them.
        let merge_by = merge_by.filter(|m| kind == GeometryKind::Polygon && !m.is_empty());
        let mut source: Vec<Feature> = Vec::new();
        for z in (minzoom..detail_zoom).rev() {
            let mut kept = if z + 1 == detail_zoom {
                let full = parts.iter().flat_map(|(part, data)| {
                    (0..data.len())
                        .filter(|&row| live(*part, row))
                        .map(move |row| {
                            let g: Vec<Vec<Vec<Coord<f64>>>> = data
                                .geometry
                                .parts(row)
                                .map(|rings| rings.map(|r| r.to_vec()).collect())
                                .collect();
                            (*part, row as u32, g)
                        })
                        .filter(|f| !f.2.is_empty())
                });
                generalize(kind, full, pixel(z))
            } else {
                generalize(kind, std::mem::take(&mut source).into_iter(), pixel(z))
            };
            if let Some(fields) = merge_by {
                kept = merge(kept, parts, fields, tile_span(z) / 4.0);
            }
            let mut level = index(kind, &kept);
            level.merged_by = merge_by.map(<[usize]>::to_vec);
            levels[z as usize] = Some(level);
            source = kept;
        }
        Pyramid { levels }
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

/// Groups polygon features by the values of `fields` and the cell (of
/// side `cell` metres) their first vertex falls in; each group becomes one
/// multipolygon, its attributes those of its first member.
fn merge(
    input: Vec<Feature>,
    parts: &[(Part, &LayerData)],
    fields: &[usize],
    cell: f64,
) -> Vec<Feature> {
    let data = |p: Part| parts.iter().find(|(q, _)| *q == p).map(|(_, d)| *d);
    let mut groups: HashMap<(String, i64, i64), usize> = HashMap::new();
    let mut out: Vec<Feature> = Vec::new();
    for (part, row, g) in input {
        let Some(d) = data(part) else { continue };
        let Some(first) = g.first().and_then(|p| p.first()).and_then(|r| r.first()) else {
            continue;
        };
        let mut key = String::new();
        for &f in fields {
            key.push_str(&format!("{:?}\u{1f}", d.value(row as usize, f)));
        }
        let k = (
            key,
            (first.x / cell).floor() as i64,
            (first.y / cell).floor() as i64,
        );
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

fn index(kind: GeometryKind, features: &[Feature]) -> Level {
    let mut geometry = FlatGeometry::new(kind);
    let mut src = Vec::with_capacity(features.len());
    let mut entries = Vec::with_capacity(features.len());
    for (i, (part, row, g)) in features.iter().enumerate() {
        let (mut lo, mut hi) = ([f64::MAX; 2], [f64::MIN; 2]);
        for rings in g {
            for r in rings {
                geometry.push_ring_coords(r);
                for c in r {
                    lo = [lo[0].min(c.x), lo[1].min(c.y)];
                    hi = [hi[0].max(c.x), hi[1].max(c.y)];
                }
            }
            geometry.close_part();
        }
        geometry.close_feature();
        src.push((*part, *row));
        entries.push(GeomWithData::new(Rectangle::from_corners(lo, hi), i as u32));
    }
    geometry.shrink_to_fit();
    Level {
        geometry,
        src,
        tree: RTree::bulk_load(entries),
        merged_by: None,
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
    fn hidden_rows_are_left_out_of_every_level() {
        let d = squares(3, 1000.0, 100.0);
        let p = Pyramid::build(&[(Part::Base, &d)], |_, row| row != 4, 12, 14, None);
        let l = p.level(12).unwrap();
        assert_eq!(l.src.len(), 8);
        assert!(!l.src.contains(&(Part::Base, 4)));
    }
}
