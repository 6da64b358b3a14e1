//! Cadastral parcels: narrow urban lots in back-to-back rows along street
//! grids, and slightly irregular rural lots in field patches, generated map
//! sheet by map sheet (500 m urban, 1 km rural), in parallel, each sheet
//! from its own random stream.
//!
//! The requested count is met exactly: urban areas take about 40 % in
//! proportion to their weights, filling their sheets outward from the
//! centre; rural sheets are taken in a seeded random order weighted towards
//! the lowland, so any size spreads over the whole plain; the last sheet is
//! cut short.

use super::geom::{c, hash, mm_c, pick, ring_area2, ring_centroid, stream, unit, w, C};
use super::world::{Dir, Terrain, World, CELL, FINE};
use super::SampleError;
use crate::model::{FieldDef, FieldType, GeometryType, LayerData, LayerDataBuilder, Value};
use geo_types::{Geometry, LineString, Polygon};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

/// Share of the parcels in the urban street grids.
const URBAN_SHARE: f64 = 0.4;
/// Share of parcels carrying a legacy (pre-2024) land-use code.
const LEGACY_SHARE: f64 = 0.02;
/// Placeholder for residential land: ODT in wards and towns, ONT in
/// rural communes, decided once the commune is known.
const RES: &str = "RES";

/// Urban lot area bounds, m².
pub(crate) const URBAN_AREA: (f64, f64) = (80.0, 200.0);
/// Rural lot area bounds, m².
pub(crate) const RURAL_AREA: (f64, f64) = (300.0, 3000.0);

/// A cadastral map sheet: a square of the 500 m or 1 km grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct Sheet {
    size: u16,
    ix: i32,
    iy: i32,
}

impl Sheet {
    fn top(self) -> f64 {
        (self.iy as f64 + 1.0) * self.size as f64
    }
    fn left(self) -> f64 {
        self.ix as f64 * self.size as f64
    }
}

/// Where a lot is, for its address.
#[derive(Debug, Clone, Copy)]
enum Place {
    /// Fronting street line `line` (below block row `line`) of urban area
    /// `area`; the lot is in block (i, j).
    Street { area: u8, line: i32, i: i32, j: i32 },
    /// In a rural sheet: the address names a hamlet.
    Hamlet,
}

/// One generated lot.
#[derive(Debug, Clone)]
pub(crate) struct Lot {
    ring: [C; 4],
    centroid: C,
    area: f64,
    code: &'static str,
    commune: u32,
    sheet: Sheet,
    place: Place,
    h: u64,
}

impl Lot {
    fn urban(&self) -> bool {
        matches!(self.place, Place::Street { .. })
    }
}

/// An urban street line for the roads layer.
pub(crate) struct StreetLine {
    /// Name.
    pub name: String,
    /// Width, metres.
    pub width: f64,
    /// Centre line.
    pub line: Vec<C>,
}

/// The parcels layer and the streets their lots front on.
pub(crate) struct Parcels {
    /// The `parcels` layer.
    pub layer: LayerData,
    /// Street lines along the blocks that hold parcels.
    pub streets: Vec<StreetLine>,
}

/// Schema of the `parcels` layer.
pub(crate) fn fields() -> Vec<FieldDef> {
    vec![
        FieldDef::new("commune_code", FieldType::Text),
        FieldDef::new("commune_name", FieldType::Text),
        FieldDef::new("district_name", FieldType::Text),
        FieldDef::new("sheet_number", FieldType::Integer),
        FieldDef::new("parcel_number", FieldType::Integer),
        FieldDef::new("legal_area", FieldType::Real),
        FieldDef::new("land_use_code", FieldType::Text),
        FieldDef::new("address", FieldType::Text),
        FieldDef::new("certificate_number", FieldType::Text),
        FieldDef::new("synthetic", FieldType::Boolean),
        // The 25/2014 or 27/2018 code an import brought to TT 08/2024; the
        // sample's legacy codes stay in land_use_code, as older records
        // loaded without an import carry them. Last, where migration 0006
        // adds the column to PostGIS.
        FieldDef::new("land_use_code_old", FieldType::Text),
    ]
}

/// Generates exactly `n` parcels.
pub(crate) fn generate(
    world: &World,
    n: usize,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<Parcels, SampleError> {
    let mut lots: Vec<Lot> = Vec::with_capacity(n);
    let urban_total = (n as f64 * URBAN_SHARE).round() as usize;
    let wsum: f64 = world.urban.iter().map(|a| a.weight).sum();
    let mut cum = 0.0;
    let mut carry = 0usize;
    for (a, area) in world.urban.iter().enumerate() {
        let before = (cum / wsum * urban_total as f64).round() as usize;
        cum += area.weight;
        let after = (cum / wsum * urban_total as f64).round() as usize;
        let target = after - before + carry;
        let units = urban_sheets(world, a);
        let got = fill(
            &units,
            target,
            &|&(sx, sy): &(i64, i64)| urban_sheet(world, a, sx, sy),
            &mut lots,
            progress,
            1200.0,
        );
        carry = target - got;
    }
    let target = n - lots.len();
    let units = rural_cells(world);
    fill(
        &units,
        target,
        &|&(x, y): &(i64, i64)| rural_cell(world, x, y),
        &mut lots,
        progress,
        900.0,
    );
    if lots.len() < n {
        return Err(SampleError::TooManyParcels {
            requested: n,
            capacity: lots.len(),
        });
    }
    let streets = street_lines(world, &lots);
    let layer = assemble(world, lots, progress)?;
    Ok(Parcels { layer, streets })
}

/// Generates units in order, in parallel batches, until `target` lots are
/// taken; the last unit is cut short. Returns the number taken.
fn fill<U: Sync>(
    units: &[U],
    target: usize,
    gen: &(dyn Fn(&U) -> Vec<Lot> + Sync),
    out: &mut Vec<Lot>,
    progress: &(dyn Fn(usize) + Sync),
    first_estimate: f64,
) -> usize {
    let mut got = 0;
    let mut next = 0;
    let (mut made, mut tried) = (0usize, 0usize);
    while got < target && next < units.len() {
        // Size the batch to what is still needed, so that small datasets
        // do not generate far more sheets than they keep.
        let est = if made > 0 {
            (made as f64 / tried as f64).max(50.0)
        } else {
            first_estimate
        };
        let need = ((target - got) as f64 / est * 1.15).ceil() as usize + 1;
        let k = need.clamp(2, 48).min(units.len() - next);
        let batch: Vec<Vec<Lot>> = units[next..next + k].par_iter().map(gen).collect();
        next += k;
        for v in batch {
            tried += 1;
            made += v.len();
            let take = v.len().min(target - got);
            out.extend(v.into_iter().take(take));
            got += take;
            if got == target {
                break;
            }
        }
        progress(out.len());
    }
    got
}

/// The 500 m sheets of an urban area, nearest the centre first.
fn urban_sheets(world: &World, a: usize) -> Vec<(i64, i64)> {
    let cells = &world.cells;
    let center = world.urban[a].center;
    let mut v: Vec<(f64, i64, i64)> = Vec::new();
    for y in 0..cells.ny as i64 {
        for x in 0..cells.nx as i64 {
            if cells.terrain_at(x, y) != Terrain::Urban(a as u8) {
                continue;
            }
            for (qx, qy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                let (sx, sy) = (2 * x + qx, 2 * y + qy);
                let m = c(
                    cells.origin.x + (sx as f64 + 0.5) * FINE,
                    cells.origin.y + (sy as f64 + 0.5) * FINE,
                );
                v.push((super::geom::dist(m, center), sx, sy));
            }
        }
    }
    v.sort_by(|a, b| a.0.total_cmp(&b.0).then((a.1, a.2).cmp(&(b.1, b.2))));
    v.into_iter().map(|(_, x, y)| (x, y)).collect()
}

/// Rural 1 km cells in fill order: lowland and valleys in a seeded random
/// order (valleys less likely early), then the hills.
fn rural_cells(world: &World) -> Vec<(i64, i64)> {
    let cells = &world.cells;
    let mut v: Vec<(u8, f64, i64, i64)> = Vec::new();
    for y in 0..cells.ny as i64 {
        for x in 0..cells.nx as i64 {
            let u = unit(hash(&[world.seed, 0x0DE2, w(x), w(y)]));
            // Exponential race: sorting by -ln(u)/weight draws without
            // replacement with probability proportional to weight.
            let key = -(1.0 - u).ln();
            match cells.terrain_at(x, y) {
                Terrain::Lowland => v.push((0, key, x, y)),
                Terrain::Valley => v.push((0, key / 0.25, x, y)),
                Terrain::Hill => v.push((1, key, x, y)),
                _ => {}
            }
        }
    }
    v.sort_by(|a, b| {
        a.0.cmp(&b.0)
            .then(a.1.total_cmp(&b.1))
            .then((a.2, a.3).cmp(&(b.2, b.3)))
    });
    v.into_iter().map(|(_, _, x, y)| (x, y)).collect()
}

/// Lots of one urban 500 m sheet.
fn urban_sheet(world: &World, a: usize, sx: i64, sy: i64) -> Vec<Lot> {
    let area = &world.urban[a];
    let o = c(
        world.cells.origin.x + sx as f64 * FINE,
        world.cells.origin.y + sy as f64 * FINE,
    );
    let corners = [
        o,
        c(o.x + FINE, o.y),
        c(o.x + FINE, o.y + FINE),
        c(o.x, o.y + FINE),
    ];
    let (mut umin, mut umax, mut vmin, mut vmax) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for p in corners {
        let (u, v) = area.to_local(p);
        umin = umin.min(u);
        umax = umax.max(u);
        vmin = vmin.min(v);
        vmax = vmax.max(v);
    }
    let sheet = Sheet {
        size: FINE as u16,
        ix: sx as i32,
        iy: sy as i32,
    };
    let old_town = world
        .pois
        .iter()
        .find(|p| p.kind == "di sản" && area.key == "HA")
        .map(|p| p.at);
    let mut out = Vec::new();
    let mut raw: Vec<([C; 4], &'static str, i64)> = Vec::new();
    for j in area.grid.rows_over(vmin, vmax).rev() {
        for i in area.grid.cols_over(umin, umax) {
            raw.clear();
            block_lots(world, a, i, j, &mut raw);
            for (ring, code, line) in raw.drain(..) {
                let m = ring_centroid(&ring);
                if m.x < o.x || m.x >= o.x + FINE || m.y < o.y || m.y >= o.y + FINE {
                    continue;
                }
                // Lots stay within their own area's cells, so grids of
                // neighbouring areas and rural patches never overlap them.
                if !ring.iter().all(|&p| {
                    let (x, y) = world.cells.cell_of(p);
                    world.cells.terrain_at(x, y) == Terrain::Urban(a as u8)
                }) {
                    continue;
                }
                let Some(lot) = finish_lot(world, ring, m, code, sheet, URBAN_AREA) else {
                    continue;
                };
                let mut lot = Lot {
                    place: Place::Street {
                        area: a as u8,
                        line: line as i32,
                        i: i as i32,
                        j: j as i32,
                    },
                    ..lot
                };
                if let Some(t) = old_town {
                    // Heritage houses of the Hội An old town.
                    if super::geom::dist(t, m) < 500.0 && unit(hash(&[lot.h, 7])) < 0.08 {
                        lot.code = "DDD";
                    }
                }
                out.push(lot);
            }
        }
    }
    out
}

/// The lots of urban block (i, j): two back-to-back rows of narrow lots,
/// 4–6.5 m frontage × 20–30 m depth (80–195 m²). Pushes (ring, land use,
/// street line the lot fronts on). Deterministic per block, so sheets that
/// share a block agree on it.
fn block_lots(world: &World, a: usize, i: i64, j: i64, out: &mut Vec<([C; 4], &'static str, i64)>) {
    let area = &world.urban[a];
    let (Some((u0, len, _)), Some((v0, depth, _))) = (area.grid.col(i), area.grid.row(j)) else {
        return;
    };
    let h = hash(&[world.seed, 0xB10C, a as u64, w(i), w(j)]);
    // Some blocks are schools, markets or parks without private lots.
    if unit(h) < 0.07 {
        return;
    }
    let mut rng = stream(h, &[]);
    let avenue = |line: i64| line.rem_euclid(super::world::AVENUE_V) == 0;
    for row in 0..2 {
        let (va, vb) = (v0 + row as f64 * depth, v0 + (row + 1) as f64 * depth);
        // South row fronts the street below the block, north row the one
        // above it.
        let line = j + row;
        let n_min = (len / 6.5).ceil();
        let n_max = (len / 4.0).floor();
        let n = (len / 5.2).round().clamp(n_min, n_max) as usize;
        let avg = len / n as f64;
        let dmax = (0.15f64)
            .min((6.5 - avg) / avg)
            .min((avg - 4.0) / avg)
            .max(0.0);
        let mut d: Vec<f64> = (0..n)
            .map(|_| {
                if dmax > 0.0 {
                    rng.gen_range(-dmax / 2.0..dmax / 2.0)
                } else {
                    0.0
                }
            })
            .collect();
        let mean = d.iter().sum::<f64>() / n as f64;
        d.iter_mut().for_each(|x| *x -= mean);
        let mut ua = u0;
        for (k, dk) in d.iter().enumerate() {
            let ub = if k + 1 == n {
                u0 + len
            } else {
                ua + avg * (1.0 + dk)
            };
            let ring = [
                mm_c(area.to_world(ua, va)),
                mm_c(area.to_world(ub, va)),
                mm_c(area.to_world(ub, vb)),
                mm_c(area.to_world(ua, vb)),
            ];
            let r: f64 = rng.gen();
            let tmd = if avenue(line) { 0.18 } else { 0.05 };
            let code = if r < tmd {
                "TMD"
            } else {
                let r = (r - tmd) / (1.0 - tmd);
                match r {
                    r if r < 0.012 => "DGD",
                    r if r < 0.020 => "DYT",
                    r if r < 0.030 => "DVH",
                    r if r < 0.038 => "TSC",
                    r if r < 0.042 => "DTT",
                    r if r < 0.046 => "TON",
                    r if r < 0.050 => "TIN",
                    r if r < 0.053 => "DKV",
                    r if r < 0.056 => "DCH",
                    r if r < 0.060 => "SKC",
                    _ => RES,
                }
            };
            out.push((ring, code, line));
            ua = ub;
        }
    }
}

/// Checks a lot against the land, reserved areas and road and river
/// surfaces, finds its commune and settles its land-use code.
fn finish_lot(
    world: &World,
    ring: [C; 4],
    m: C,
    code: &'static str,
    sheet: Sheet,
    bounds: (f64, f64),
) -> Option<Lot> {
    let area = ring_area2(&ring) / 2.0;
    // Bounds hold for the rounded legal area too.
    let legal = (area * 10.0).round() / 10.0;
    if legal < bounds.0 || legal > bounds.1 {
        return None;
    }
    if world.reserved(m) {
        return None;
    }
    let radius = ring
        .iter()
        .map(|&p| super::geom::dist(p, m))
        .fold(0.0, f64::max);
    if world.corridors.within(m, radius + 1.0) {
        return None;
    }
    let commune = world.locate(m)?;
    let h = hash(&[world.seed, 0x107, m.x.to_bits(), m.y.to_bits()]);
    let kind = world.communes[commune].kind;
    let mut code = match code {
        RES if kind.is_urban() => "ODT",
        RES => "ONT",
        c => c,
    };
    if unit(hash(&[h, 1])) < LEGACY_SHARE {
        code = legacy_code(sheet.size == FINE as u16, unit(hash(&[h, 2])));
    }
    Some(Lot {
        ring,
        centroid: m,
        area,
        code,
        commune: commune as u32,
        sheet,
        place: Place::Hamlet,
        h,
    })
}

/// A legacy code (25/2014, 27/2018) as older records still carry them.
fn legacy_code(urban: bool, r: f64) -> &'static str {
    if urban {
        match r {
            r if r < 0.40 => "DDT",
            r if r < 0.70 => "DSH",
            r if r < 0.80 => "DDL",
            r if r < 0.90 => "SKT",
            _ => "SKX",
        }
    } else {
        match r {
            r if r < 0.55 => "BHK",
            r if r < 0.75 => "NHK",
            r if r < 0.85 => "LUN",
            r if r < 0.90 => "DSH",
            r if r < 0.95 => "DDT",
            _ => "SKX",
        }
    }
}

/// Land cover of a rural field patch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Patch {
    Village,
    Rice,
    Annual,
    Perennial,
    Forest,
    Aqua,
    Cemetery,
    Barren,
}

impl Patch {
    /// Lot width and depth ranges, metres.
    fn dims(self) -> ((f64, f64), (f64, f64)) {
        match self {
            Patch::Village => ((15.0, 24.0), (28.0, 40.0)),
            Patch::Rice => ((18.0, 38.0), (32.0, 60.0)),
            Patch::Annual => ((16.0, 34.0), (26.0, 52.0)),
            Patch::Perennial => ((20.0, 40.0), (28.0, 55.0)),
            Patch::Forest => ((32.0, 46.0), (38.0, 52.0)),
            Patch::Aqua => ((26.0, 44.0), (28.0, 50.0)),
            Patch::Cemetery => ((18.0, 30.0), (26.0, 40.0)),
            Patch::Barren => ((24.0, 44.0), (26.0, 50.0)),
        }
    }
}

/// Lots of one rural 1 km sheet: rows of field patches separated by small
/// paths and canals, each patch a jittered grid of lots.
fn rural_cell(world: &World, cx: i64, cy: i64) -> Vec<Lot> {
    let o = world.cells.corner(cx, cy);
    let terrain = world.cells.terrain_at(cx, cy);
    let hill = world.cells.hill_at(cx, cy);
    let mut rng = stream(world.seed, &[0x2C11, w(cx), w(cy)]);
    let sheet = Sheet {
        size: CELL as u16,
        ix: cx as i32,
        iy: cy as i32,
    };
    let mut out = Vec::new();
    let mut top = o.y + CELL - rng.gen_range(2.0..4.0);
    let mut patch_no = 0u64;
    while top - o.y > 60.0 {
        let h = rng.gen_range(110.0..260.0f64).min(top - o.y - 3.0);
        if h < 50.0 {
            break;
        }
        let bottom = top - h;
        let mut left = o.x + rng.gen_range(2.0..4.0);
        while o.x + CELL - left > 60.0 {
            let wd = rng.gen_range(120.0..320.0f64).min(o.x + CELL - 3.0 - left);
            if wd < 50.0 {
                break;
            }
            patch_no += 1;
            patch(
                world,
                &mut rng,
                [left, bottom, left + wd, top],
                terrain,
                hill,
                sheet,
                hash(&[world.seed, 0x9A7C, w(cx), w(cy), patch_no]),
                &mut out,
            );
            left += wd + rng.gen_range(4.0..8.0);
        }
        top = bottom - rng.gen_range(4.0..8.0);
    }
    out
}

/// Lots of one field patch (axis-aligned rectangle x0, y0, x1, y1).
#[allow(clippy::too_many_arguments)]
fn patch(
    world: &World,
    rng: &mut ChaCha8Rng,
    [x0, y0, x1, y1]: [f64; 4],
    terrain: Terrain,
    hill: f64,
    sheet: Sheet,
    ph: u64,
    out: &mut Vec<Lot>,
) {
    let ctr = c((x0 + x1) / 2.0, (y0 + y1) / 2.0);
    let near_water = world.near_water.within(ctr, 900.0);
    let near_coast = world.near_coast.within(ctr, 1500.0);
    let near_road = world.near_road.within(ctr, 250.0);
    let kind = if terrain == Terrain::Hill {
        pick(
            rng.gen(),
            &[
                (Patch::Forest, 55.0),
                (Patch::Perennial, 20.0),
                (Patch::Annual, 10.0),
                (Patch::Village, if near_road { 12.0 } else { 4.0 }),
                (Patch::Barren, 4.0),
                (Patch::Cemetery, 2.0),
            ],
        )
    } else {
        let coast_f = if near_coast { 0.3 } else { 1.0 };
        pick(
            rng.gen(),
            &[
                (Patch::Village, 0.11 + if near_road { 0.30 } else { 0.0 }),
                (
                    Patch::Aqua,
                    if near_water {
                        if near_coast {
                            0.30
                        } else {
                            0.18
                        }
                    } else {
                        0.0
                    },
                ),
                (Patch::Rice, (0.58 - 0.45 * hill) * coast_f),
                (Patch::Annual, 0.10 + if near_coast { 0.15 } else { 0.0 }),
                (Patch::Perennial, 0.05 + 0.30 * hill),
                (Patch::Forest, 0.40 * hill * hill),
                (Patch::Cemetery, 0.02 + if near_coast { 0.05 } else { 0.0 }),
                (Patch::Barren, if near_coast { 0.04 } else { 0.005 }),
            ],
        )
    };
    let ((wa, wb), (ha, hb)) = kind.dims();
    // A grid fitted to the patch: random widths and depths scaled to fill
    // it exactly, interior lines tilted a little and every interior node
    // jittered, so lots are irregular quadrilaterals that share corners
    // with their neighbours and never overlap.
    let lines = |rng: &mut ChaCha8Rng, a: f64, b: f64, lo: f64, hi: f64| {
        let n = (((b - a) / ((lo + hi) / 2.0)).round() as usize).max(1);
        let w: Vec<f64> = (0..n).map(|_| rng.gen_range(lo..hi)).collect();
        let k = (b - a) / w.iter().sum::<f64>();
        let mut out = vec![a];
        for x in &w[..n - 1] {
            out.push(out.last().expect("non-empty") + x * k);
        }
        out.push(b);
        out
    };
    let us = lines(rng, x0, x1, wa, wb);
    let vs = lines(rng, y0, y1, ha, hb);
    let (nu, nv) = (us.len(), vs.len());
    let amp = (0.1 * wa.min(ha)).min(2.5);
    let tilt_u = 0.25 * wa / ((y1 - y0) / 2.0);
    let tilt_v = 0.25 * ha / ((x1 - x0) / 2.0);
    let tu: Vec<f64> = (0..nu)
        .map(|q| {
            if q == 0 || q + 1 == nu {
                0.0
            } else {
                rng.gen_range(-tilt_u..=tilt_u)
            }
        })
        .collect();
    let tv: Vec<f64> = (0..nv)
        .map(|r| {
            if r == 0 || r + 1 == nv {
                0.0
            } else {
                rng.gen_range(-tilt_v..=tilt_v)
            }
        })
        .collect();
    let nodes: Vec<C> = (0..nv)
        .flat_map(|r| (0..nu).map(move |q| (q, r)))
        .map(|(q, r)| {
            let mut x = us[q] + (vs[r] - ctr.y) * tu[q];
            let mut y = vs[r] + (us[q] - ctr.x) * tv[r];
            let hq = hash(&[ph, q as u64, r as u64]);
            if q > 0 && q + 1 < nu {
                x += (unit(hq) * 2.0 - 1.0) * amp;
            }
            if r > 0 && r + 1 < nv {
                y += (unit(hq >> 1 ^ 0x55) * 2.0 - 1.0) * amp;
            }
            mm_c(c(x, y))
        })
        .collect();
    for r in (0..nv - 1).rev() {
        for q in 0..nu - 1 {
            let ring = [
                nodes[r * nu + q],
                nodes[r * nu + q + 1],
                nodes[(r + 1) * nu + q + 1],
                nodes[(r + 1) * nu + q],
            ];
            let m = ring_centroid(&ring);
            let lh = hash(&[ph, 0x10, q as u64, r as u64]);
            let code = rural_code(kind, unit(lh), hill, terrain);
            let Some(mut lot) = finish_lot(world, ring, m, code, sheet, RURAL_AREA) else {
                continue;
            };
            // Aquaculture only within about 1 km of water.
            if lot.code == "NTS" && !world.near_water.within(m, 1000.0) {
                lot.code = if hill > 0.3 { "HNK" } else { "LUK" };
            }
            out.push(lot);
        }
    }
}

/// Land-use code of a lot of a rural patch.
fn rural_code(kind: Patch, r: f64, hill: f64, terrain: Terrain) -> &'static str {
    match kind {
        Patch::Village => match r {
            r if r < 0.78 => RES,
            r if r < 0.90 => "CLN",
            r if r < 0.95 => "HNK",
            r if r < 0.965 => "TIN",
            r if r < 0.975 => "DVH",
            r if r < 0.985 => "DGD",
            r if r < 0.990 => "DTT",
            r if r < 0.995 => "TSC",
            _ => "CQP",
        },
        Patch::Rice => {
            let luk = if hill > 0.3 { 0.6 } else { 0.25 };
            match r {
                r if r < 0.04 => "HNK",
                r if r < 0.04 + luk => "LUK",
                _ => "LUC",
            }
        }
        Patch::Annual => {
            if r < 0.9 {
                "HNK"
            } else {
                "LUK"
            }
        }
        Patch::Perennial => {
            if r < 0.9 {
                "CLN"
            } else {
                "HNK"
            }
        }
        Patch::Forest => match r {
            r if r < 0.06 && hill > 0.8 => "RPH",
            r if r < 0.88 => "RSX",
            _ => "CLN",
        },
        Patch::Aqua => {
            if r < 0.9 {
                "NTS"
            } else {
                "LUK"
            }
        }
        Patch::Cemetery => {
            if r < 0.9 {
                "NTD"
            } else {
                "BCS"
            }
        }
        Patch::Barren => match (terrain, r) {
            (Terrain::Hill, _) => "DCS",
            (_, r) if r < 0.7 => "BCS",
            _ => "HNK",
        },
    }
}

/// True for codes of household land (certificate series CH); other codes
/// belong to organisations (series CS).
fn household(code: &str) -> bool {
    matches!(
        code,
        "ODT" | "ONT" | "LUC" | "LUK" | "LUN" | "HNK" | "BHK" | "NHK" | "CLN" | "RSX" | "NTS"
    )
}

/// Numbers sheets and parcels, writes addresses and certificates, and
/// builds the layer in key order.
fn assemble(
    world: &World,
    lots: Vec<Lot>,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<LayerData, SampleError> {
    // Called once all lots exist, so progress only reports completion.
    // Communes by code.
    let mut rank = vec![0u32; world.communes.len()];
    let mut by_code: Vec<usize> = (0..world.communes.len()).collect();
    by_code.sort_by(|&a, &b| world.communes[a].code.cmp(&world.communes[b].code));
    for (r, &i) in by_code.iter().enumerate() {
        rank[i] = r as u32;
    }
    // Sheets north to south, west to east; parcels in bands from the top
    // left, as cadastral sheets number them.
    let key = |l: &Lot| {
        let band = if l.urban() { 30.0 } else { 60.0 };
        let s = l.sheet;
        (
            rank[l.commune as usize],
            -(s.top() as i64),
            s.left() as i64,
            s.size,
            ((s.top() - l.centroid.y) / band).floor() as i64,
            (l.centroid.x * 1000.0).round() as i64,
            (l.centroid.y * 1000.0).round() as i64,
        )
    };
    let mut order: Vec<(_, u32)> = lots
        .par_iter()
        .enumerate()
        .map(|(i, l)| (key(l), i as u32))
        .collect();
    order.par_sort_unstable();

    let mut b = LayerDataBuilder::new("parcels", 5899, GeometryType::Polygon, fields());
    let mut street_cache: BTreeMap<(u8, i32), String> = BTreeMap::new();
    let (mut last_commune, mut last_sheet) = (u32::MAX, None);
    let (mut sheet_no, mut parcel_no) = (0i64, 0i64);
    let mut series: BTreeMap<(u32, &str), u32> = BTreeMap::new();
    for (fid, (_, i)) in order.iter().enumerate() {
        let l = &lots[*i as usize];
        if l.commune != last_commune {
            last_commune = l.commune;
            last_sheet = None;
            sheet_no = 0;
        }
        if last_sheet != Some(l.sheet) {
            last_sheet = Some(l.sheet);
            sheet_no += 1;
            parcel_no = 0;
        }
        parcel_no += 1;
        let cm = &world.communes[l.commune as usize];
        let district = &world.districts[cm.district];
        let place = match l.place {
            Place::Street { area, line, .. } => street_cache
                .entry((area, line))
                .or_insert_with(|| {
                    let name = world.urban[area as usize].street_name(Dir::H, line as i64);
                    match name.strip_prefix("Đường") {
                        Some(rest) => format!("đường{rest}"),
                        None => format!("đường {name}"),
                    }
                })
                .clone(),
            Place::Hamlet => {
                let k = hash(&[
                    world.seed,
                    l.commune as u64,
                    w(l.sheet.ix as i64),
                    w(l.sheet.iy as i64),
                ]);
                cm.hamlets[(k % cm.hamlets.len() as u64) as usize].clone()
            }
        };
        let address = format!(
            "Thửa {parcel_no}, tờ {sheet_no}, {place}, {}, {}",
            cm.name, district.name
        );
        let p_cert = match l.code {
            "ODT" | "ONT" => 0.80,
            c if household(c) => 0.64,
            _ => 0.35,
        };
        let cert = if unit(hash(&[l.h, 3])) < p_cert {
            let s = if household(l.code) { "CH" } else { "CS" };
            let n = series.entry((l.commune, s)).or_insert(0);
            *n += 1;
            Value::Text(format!("{s} {:05}", *n))
        } else {
            Value::Null
        };
        let mut ring = l.ring.to_vec();
        ring.push(ring[0]);
        let g = Geometry::Polygon(Polygon::new(LineString(ring), vec![]));
        b.push(
            fid as i64 + 1,
            Some(&g),
            vec![
                Value::Text(cm.code.clone()),
                Value::Text(cm.name.clone()),
                Value::Text(district.name.clone()),
                Value::Int(sheet_no),
                Value::Int(parcel_no),
                Value::Real((l.area * 10.0).round() / 10.0),
                Value::Text(l.code.to_owned()),
                Value::Text(address),
                cert,
                Value::Bool(true),
                Value::Null,
            ],
        )?;
    }
    progress(order.len());
    Ok(b.finish()?)
}

/// Street lines along the blocks that hold parcels: one line per run of
/// consecutive used blocks.
fn street_lines(world: &World, lots: &[Lot]) -> Vec<StreetLine> {
    let mut h: BTreeMap<(u8, i32), BTreeSet<i32>> = BTreeMap::new();
    let mut v: BTreeMap<(u8, i32), BTreeSet<i32>> = BTreeMap::new();
    for l in lots {
        if let Place::Street { area, i, j, .. } = l.place {
            for line in [j, j + 1] {
                h.entry((area, line)).or_default().insert(i);
            }
            for line in [i, i + 1] {
                v.entry((area, line)).or_default().insert(j);
            }
        }
    }
    let runs = |set: &BTreeSet<i32>| {
        let mut out: Vec<(i32, i32)> = Vec::new();
        for &k in set {
            match out.last_mut() {
                Some(r) if r.1 + 1 == k => r.1 = k,
                _ => out.push((k, k)),
            }
        }
        out
    };
    let mut out = Vec::new();
    for (&(a, line), set) in &h {
        let area = &world.urban[a as usize];
        let g = &area.grid;
        let Some((vs, _, gap)) = g.row(line as i64) else {
            continue;
        };
        let vline = vs - gap / 2.0;
        for (ia, ib) in runs(set) {
            let (Some(ca), Some(cb)) = (g.col(ia as i64), g.col(ib as i64)) else {
                continue;
            };
            let next_gap = g.col(ib as i64 + 1).map_or(10.0, |c| c.2);
            let (u0, u1) = (ca.0 - ca.2 / 2.0, cb.0 + cb.1 + next_gap / 2.0);
            out.push(StreetLine {
                name: area.street_name(Dir::H, line as i64),
                width: area.street_width(Dir::H, line as i64),
                line: vec![
                    mm_c(area.to_world(u0, vline)),
                    mm_c(area.to_world(u1, vline)),
                ],
            });
        }
    }
    for (&(a, line), set) in &v {
        let area = &world.urban[a as usize];
        let g = &area.grid;
        let Some((us, _, gap)) = g.col(line as i64) else {
            continue;
        };
        let uline = us - gap / 2.0;
        for (ja, jb) in runs(set) {
            let (Some(ra), Some(rb)) = (g.row(ja as i64), g.row(jb as i64)) else {
                continue;
            };
            let next_gap = g.row(jb as i64 + 1).map_or(12.0, |r| r.2);
            let (v0, v1) = (ra.0 - ra.2 / 2.0, rb.0 + 2.0 * rb.1 + next_gap / 2.0);
            out.push(StreetLine {
                name: area.street_name(Dir::V, line as i64),
                width: area.street_width(Dir::V, line as i64),
                line: vec![
                    mm_c(area.to_world(uline, v0)),
                    mm_c(area.to_world(uline, v1)),
                ],
            });
        }
    }
    out
}
