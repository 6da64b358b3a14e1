//! Vector tiles built in-process from the engine: tile coordinates, the
//! clip and encode hot path, and the tile cache with extent-based
//! invalidation (which tiles an edit touches: [`invalidate`]). No IO and
//! no `await`: callers run [`render`] on a blocking pool.
//!
//! A tile of zoom `z` below a layer's detail zoom reads the layer's
//! generalised level for `z` (prepared at load); from the detail zoom on it
//! reads the full geometry. Either way the hot path is: R-tree lookup of
//! the tile plus buffer, transform to tile space, clip, quantise, make
//! polygons valid on the grid ([`crate::model::valid`]: checked exactly, repaired only
//! when the check fails), encode.
//!
//! # Examples
//!
//! One parcel near Hội An (Web Mercator), its z16 tile rendered:
//!
//! ```
//! use std::sync::Arc;
//! use geo_types::{polygon, Geometry};
//! use geoplan::engine::{Layer, LayerMeta};
//! use geoplan::model::{FieldDef, FieldType, GeometryType, LayerDataBuilder, Value};
//! use geoplan::tiles::{render, TileCoord, TileOptions};
//!
//! let (x, y) = (12_059_000.0, 1_773_000.0);
//! let mut b = LayerDataBuilder::new(
//!     "parcels",
//!     3857,
//!     GeometryType::Polygon,
//!     vec![FieldDef::new("land_use_code", FieldType::Text)],
//! );
//! let square = polygon![(x: x, y: y), (x: x + 40.0, y: y), (x: x + 40.0, y: y + 30.0), (x: x, y: y + 30.0), (x: x, y: y)];
//! b.push(1, Some(&Geometry::Polygon(square)), vec![Value::Text("ODT".into())]).unwrap();
//! let layer = Arc::new(Layer::new(b.finish().unwrap(), LayerMeta::default()).unwrap());
//! // The tile holding the parcel's corner at zoom 16.
//! let (cols, rows) = TileCoord::range(16, &geo_types::Rect::new((x, y), (x, y)));
//! let c = TileCoord::new(16, *cols.start(), *rows.start(), 22).unwrap();
//! let (bytes, features) = render(&[layer], c, &TileOptions::default());
//! assert_eq!(features, 1);
//! assert!(!bytes.is_empty());
//! ```

pub mod cache;
pub mod clip;
pub mod invalidate;
pub mod mvt;

use crate::engine::generalize::tile_span;
use crate::engine::{Layer, Part};
use crate::model::{grow_rect, FlatGeometry, GeometryKind};
use clip::ClipBox;
use geo_types::{Coord, Rect};
use mvt::{GeomType, LayerWriter};
use std::sync::Arc;

/// Half the Web Mercator world width, metres.
const HALF_WORLD: f64 = 20_037_508.342_789_244;

/// Errors of tile addressing.
#[derive(Debug, thiserror::Error)]
pub enum TileError {
    /// Zoom past the server's maximum.
    #[error("zoom {z} is outside 0..={max}")]
    Zoom {
        /// Requested zoom.
        z: u32,
        /// Server maximum.
        max: u8,
    },
    /// Column or row outside the zoom's grid.
    #[error("tile {z}/{x}/{y} does not exist: x and y must be below {n} at zoom {z}")]
    OutOfRange {
        /// Zoom.
        z: u8,
        /// Column.
        x: u32,
        /// Row.
        y: u32,
        /// 2^z.
        n: u64,
    },
}

/// An XYZ tile address (Web Mercator, y from the north).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TileCoord {
    /// Zoom.
    pub z: u8,
    /// Column.
    pub x: u32,
    /// Row, from the north.
    pub y: u32,
}

impl TileCoord {
    /// A checked address; `max_zoom` is the server's limit.
    pub fn new(z: u32, x: u32, y: u32, max_zoom: u8) -> Result<TileCoord, TileError> {
        if z > u32::from(max_zoom) {
            return Err(TileError::Zoom { z, max: max_zoom });
        }
        let n = 1u64 << z;
        if u64::from(x) >= n || u64::from(y) >= n {
            return Err(TileError::OutOfRange {
                z: z as u8,
                x,
                y,
                n,
            });
        }
        Ok(TileCoord { z: z as u8, x, y })
    }

    /// The tile's extent in Web Mercator metres.
    pub fn bounds(&self) -> Rect<f64> {
        let s = tile_span(self.z);
        let minx = -HALF_WORLD + f64::from(self.x) * s;
        let maxy = HALF_WORLD - f64::from(self.y) * s;
        Rect::new(
            Coord {
                x: minx,
                y: maxy - s,
            },
            Coord {
                x: minx + s,
                y: maxy,
            },
        )
    }

    /// Every tile of zoom `z` that a Web Mercator rectangle touches, as
    /// inclusive column and row ranges.
    pub fn range(
        z: u8,
        r: &Rect<f64>,
    ) -> (std::ops::RangeInclusive<u32>, std::ops::RangeInclusive<u32>) {
        let s = tile_span(z);
        let last = ((1u64 << z) - 1) as f64;
        let col = |x: f64| ((x + HALF_WORLD) / s).floor().clamp(0.0, last) as u32;
        let row = |y: f64| ((HALF_WORLD - y) / s).floor().clamp(0.0, last) as u32;
        (
            col(r.min().x)..=col(r.max().x),
            row(r.max().y)..=row(r.min().y),
        )
    }
}

/// Tile settings.
#[derive(Debug, Clone, Copy)]
pub struct TileOptions {
    /// Tile extent in units (4096).
    pub extent: u32,
    /// Buffer around the tile in units (64).
    pub buffer: u32,
}

impl Default for TileOptions {
    fn default() -> Self {
        TileOptions {
            extent: 4096,
            buffer: 64,
        }
    }
}

/// True when layer `l` appears in tiles of zoom `z`.
pub fn shows_at(l: &Layer, z: u8) -> bool {
    (l.meta.minzoom..=l.meta.maxzoom).contains(&z)
}

/// Renders one tile of the given layers (one MVT layer each, in order).
/// Returns the encoded tile and its feature count; an empty tile is empty
/// bytes.
pub fn render(layers: &[Arc<Layer>], c: TileCoord, opts: &TileOptions) -> (Vec<u8>, usize) {
    let mut out = Vec::new();
    let mut total = 0;
    let mut scratch = Scratch::default();
    for l in layers {
        if !shows_at(l, c.z) {
            continue;
        }
        let w = render_layer(l, c, opts, &mut scratch);
        total += w.len();
        w.finish_into(&mut out);
    }
    (out, total)
}

#[derive(Default)]
struct Scratch {
    pts: Vec<[f64; 2]>,
    clipped: Vec<[f64; 2]>,
    tmp: Vec<[f64; 2]>,
    lines: Vec<Vec<[f64; 2]>>,
    q: Vec<[i32; 2]>,
    /// Quantised parts of the current feature and their end offsets.
    parts: Vec<[i32; 2]>,
    ends: Vec<usize>,
    /// Polygon validity check and repair.
    valid: crate::model::valid::Checker,
}

fn render_layer(l: &Layer, c: TileCoord, opts: &TileOptions, s: &mut Scratch) -> LayerWriter {
    let mut w = LayerWriter::new(&l.id, opts.extent);
    let b = c.bounds();
    let span = tile_span(c.z);
    let scale = f64::from(opts.extent) / span;
    let pad = f64::from(opts.buffer) / scale;
    let query = grow_rect(b, pad);
    let clip = ClipBox {
        min: -f64::from(opts.buffer),
        max: f64::from(opts.extent + opts.buffer),
    };
    let (ox, oy) = (b.min().x, b.max().y);
    let level = l.generalized(c.z);
    // Merged features carry only the fields they were merged by, no id.
    let merged = level.and_then(|lv| lv.merged_by.clone());
    let fields = merged.clone().unwrap_or_else(|| l.tile_fields());
    let kind = l.geometry_type().kind();
    let ty = match kind {
        GeometryKind::Point => GeomType::Point,
        GeometryKind::Line => GeomType::LineString,
        GeometryKind::Polygon => GeomType::Polygon,
    };
    // A level snapped to this tile's grid: a feature it shows unclipped
    // is valid on the grid as it is (`generalize::snap_to_grid`).
    let on_grid = level.is_some_and(|lv| lv.grid_extent == Some(opts.extent));
    // The clip box in Web Mercator, less a unit: a feature inside it is
    // not clipped.
    let unclipped = grow_rect(query, -1.0 / scale);
    // Sorted by (part, row) so features come out in a stable order; the
    // flag: on the grid and unclipped.
    let mut hits: Vec<(Part, u32, &FlatGeometry, usize, bool)> = Vec::new();
    if let Some(level) = level {
        // The index keeps its boxes in f32 (`engine::index`); these calls
        // answer exactly what f64 envelopes answered, asking the geometry
        // for its exact envelope only about features within rounding (a
        // few millimetres) of the query's or `unclipped`'s edge. So the
        // features and the unclipped flag are what they always were.
        for (f, inside) in level.intersecting_exactly_inside(&query, &unclipped) {
            let Some((part, row)) = l.resolve(f.src()) else {
                continue;
            };
            let (geom, i) = f.geometry();
            hits.push((part, row, geom, i, on_grid && inside));
        }
    } else {
        for part in [Part::Base, Part::Delta] {
            let data = l.data(part);
            let env = |r: u32| data.geometry.bbox(r as usize);
            for r in l.spatial_index(part).intersecting_exactly(&query, env) {
                let row = r as usize;
                if l.is_live(part, row) {
                    hits.push((part, r, &data.geometry, row, false));
                }
            }
        }
    }
    hits.sort_unstable_by_key(|h| (h.0, h.1, h.3));
    for (part, row, geom, gi, exact) in hits {
        s.parts.clear();
        s.ends.clear();
        for rings in geom.parts(gi) {
            let mut exterior_kept = false;
            for (k, ring) in rings.enumerate() {
                s.pts.clear();
                s.pts.extend(
                    ring.iter()
                        .map(|p| [(p.x - ox) * scale, (oy - p.y) * scale]),
                );
                match kind {
                    GeometryKind::Point => {
                        let p = s.pts[0];
                        if p[0] >= clip.min
                            && p[0] <= clip.max
                            && p[1] >= clip.min
                            && p[1] <= clip.max
                        {
                            s.parts.push([p[0].round() as i32, p[1].round() as i32]);
                        }
                    }
                    GeometryKind::Line => {
                        s.lines.clear();
                        clip::clip_line(&s.pts, &clip, &mut s.lines);
                        for piece in &s.lines {
                            clip::quantise(piece, false, &mut s.q);
                            if s.q.len() >= 2 {
                                s.parts.extend_from_slice(&s.q);
                                s.ends.push(s.parts.len());
                            }
                        }
                    }
                    GeometryKind::Polygon => {
                        if k > 0 && !exterior_kept {
                            break;
                        }
                        if exact {
                            clip::quantise(&s.pts, true, &mut s.q);
                        } else {
                            clip::clip_ring(&s.pts, &clip, &mut s.clipped, &mut s.tmp);
                            clip::quantise(&s.clipped, true, &mut s.q);
                            // Repeats, straight runs and spikes go; a ring
                            // left with fewer than 3 points is dropped.
                            crate::model::valid::clean_ring(&mut s.q);
                        }
                        if s.q.is_empty() {
                            continue;
                        }
                        // Exterior positive, holes negative (tile space).
                        // A ring of zero area is kept for the validity
                        // pass below: it may be a figure eight.
                        let a = crate::model::valid::signed_area2(&s.q);
                        if (k == 0) != (a > 0) {
                            s.q.reverse();
                        }
                        if k == 0 {
                            exterior_kept = true;
                        }
                        s.parts.extend_from_slice(&s.q);
                        s.ends.push(s.parts.len());
                    }
                }
            }
        }
        if kind == GeometryKind::Point && !s.parts.is_empty() {
            s.ends.push(s.parts.len());
        }
        // Clipping and snapping can make rings touch or cross (MVT 2.1
        // forbids it): an exact check, and the repair only when it fails.
        if kind == GeometryKind::Polygon
            && !exact
            && !s.ends.is_empty()
            && !s.valid.is_valid(&s.parts, &s.ends)
        {
            s.valid.repair(&mut s.parts, &mut s.ends);
        }
        if s.ends.is_empty() {
            continue;
        }
        let data = l.data(part);
        w.begin();
        for &f in &fields {
            w.tag(&data.fields[f].name, data.value(row as usize, f));
        }
        let (parts, ends) = (&s.parts, &s.ends);
        let slices = ends.iter().scan(0usize, |start, &end| {
            let sl = &parts[*start..end];
            *start = end;
            Some(sl)
        });
        w.geometry(ty, slices);
        let fid = data.fids[row as usize];
        let id = if merged.is_some() {
            None
        } else {
            u64::try_from(fid).ok()
        };
        w.end(id, ty);
    }
    w
}

/// The TileJSON 3.0 `vector_layers` entry of `l` served from `minzoom` to
/// `maxzoom`: id, title, zooms and the attributes its tiles carry with
/// their TileJSON types (`Number`, `Boolean`, `String`). The TileJSON
/// endpoint and seeded archives describe layers through it alike.
pub fn vector_layer(l: &Layer, minzoom: u8, maxzoom: u8) -> serde_json::Value {
    let fields: serde_json::Map<String, serde_json::Value> = l
        .tile_fields()
        .into_iter()
        .map(|i| {
            let f = &l.fields()[i];
            let ty = match f.ty.json_type() {
                "integer" | "number" => "Number",
                "boolean" => "Boolean",
                _ => "String",
            };
            (f.name.clone(), ty.into())
        })
        .collect();
    serde_json::json!({
        "id": l.id,
        "description": l.meta.title,
        "minzoom": minzoom,
        "maxzoom": maxzoom,
        "fields": fields,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_outside_the_grid_are_refused_with_the_reason() {
        assert!(TileCoord::new(3, 7, 7, 22).is_ok());
        let e = TileCoord::new(3, 8, 0, 22).unwrap_err().to_string();
        assert!(e.contains("below 8"), "{e}");
        let e = TileCoord::new(23, 0, 0, 22).unwrap_err().to_string();
        assert!(e.contains("0..=22"), "{e}");
    }

    #[test]
    fn tile_bounds_and_ranges_agree() {
        let c = TileCoord::new(14, 13_121, 7_582, 22).unwrap();
        let b = c.bounds();
        let (xs, ys) = TileCoord::range(
            14,
            &Rect::new(
                Coord {
                    x: b.min().x + 1.0,
                    y: b.min().y + 1.0,
                },
                Coord {
                    x: b.max().x - 1.0,
                    y: b.max().y - 1.0,
                },
            ),
        );
        assert_eq!((xs, ys), (13_121..=13_121, 7_582..=7_582));
        let w = TileCoord::new(0, 0, 0, 22).unwrap().bounds();
        assert!((w.max().x - HALF_WORLD).abs() < 1e-6 && (w.min().y + HALF_WORLD).abs() < 1e-6);
    }
}
