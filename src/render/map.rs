//! The map renderer: engine features drawn into a tiny-skia pixmap through
//! the compiled style, antialiased, for a bounding box in any supported
//! CRS.
//!
//! Geometry is held in Web Mercator. A map in EPSG:3857 maps it to pixels
//! with one scale and offset; in EPSG:4326/CRS:84 through the exact
//! spherical Mercator inverse; in any other CRS each feature's vertices go
//! through PROJ (one cached transformation per thread, see
//! [`crate::crs::transform`]) in one call per feature. Features come from
//! the R-tree (or, below a layer's detail zoom, from its generalised level,
//! as tiles do), so a request touches only what it shows and copies no
//! dataset. Features far outside the image are clipped to a guard band so
//! the rasteriser never sees huge coordinates.

use super::style::{Ctx, Kind, Rgba, Style, StyleLayer, SymbolStyle};
use super::text::{blend, Fonts, GlyphCache, MaskCache};
use crate::crs::{self, Crs, WEB_MERCATOR};
use crate::engine::{Layer, Part};
use crate::model::{FlatGeometry, GeometryKind, LayerData};
use geo_types::{Coord, Rect};
use tiny_skia::{
    FillRule, LineCap, LineJoin, Paint, PathBuilder, Pixmap, Stroke, StrokeDash, Transform,
};

/// Web Mercator metres per pixel at zoom 0 with 512-pixel tiles (MapLibre
/// zooms, which the style's `minzoom`/`maxzoom` and `interpolate` use).
const RES_Z0: f64 = 2.0 * 20_037_508.342_789_244 / 512.0;

/// Errors of a render.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// The image size is zero or too large to allocate.
    #[error("cannot make an image of {0}×{1} pixels")]
    Size(u32, u32),
    /// The bounding box cannot be transformed to Web Mercator.
    #[error("{0}")]
    Crs(#[from] crs::CrsError),
    /// The bounding box is empty, inverted or not finite.
    #[error("the bounding box must have min < max on both axes and finite numbers")]
    BadBbox,
    /// An encoder failed.
    #[error("image encoding failed: {0}")]
    Encode(String),
}

/// What to draw: one entry per requested WMS layer, bottom first.
pub enum DrawGroup<'a> {
    /// One engine layer with its style layers.
    Layer(&'a Layer),
    /// Several engine layers drawn together in style order (the whole
    /// planning map): a style layer of any of them, in the style's order.
    Group(Vec<&'a Layer>),
}

/// A map request in renderer terms.
pub struct MapSpec {
    /// CRS of the bounding box.
    pub crs: Crs,
    /// `[min_x, min_y, max_x, max_y]`, x = east (longitude for geographic
    /// CRSs): axis order is resolved before this point.
    pub bbox: [f64; 4],
    /// Image width, pixels.
    pub width: u32,
    /// Image height, pixels.
    pub height: u32,
    /// Background; `None` leaves the image transparent.
    pub background: Option<Rgba>,
    /// Device pixels per CSS pixel: the client's DPI / 96 (QGIS sends its
    /// print DPI). Line widths, symbols and text scale with it, and the
    /// zoom the style sees is that of the CSS-pixel resolution. 1 for
    /// screens.
    pub pixel_ratio: f64,
}

/// Where the map is: pixel transform and the Web Mercator region to query.
#[derive(Debug, Clone)]
pub struct View {
    crs: Crs,
    min_x: f64,
    max_y: f64,
    sx: f64,
    sy: f64,
    width: u32,
    height: u32,
    /// The region to query, Web Mercator (the bbox, densified, plus a
    /// margin for strokes and labels).
    pub query: Rect<f64>,
    /// MapLibre zoom of the map's resolution.
    pub zoom: f64,
    /// Web Mercator metres per pixel (horizontal).
    pub merc_per_px: f64,
    /// Device pixels per CSS pixel (see [`MapSpec::pixel_ratio`]).
    pub ratio: f32,
}

impl View {
    /// The view of a spec; checks the box.
    pub fn new(spec: &MapSpec) -> Result<View, RenderError> {
        let [x0, y0, x1, y1] = spec.bbox;
        if !(spec.bbox.iter().all(|v| v.is_finite()) && x0 < x1 && y0 < y1) {
            return Err(RenderError::BadBbox);
        }
        if spec.width == 0 || spec.height == 0 {
            return Err(RenderError::Size(spec.width, spec.height));
        }
        let (lo, hi) = if spec.crs.epsg() == 3857 {
            (Coord { x: x0, y: y0 }, Coord { x: x1, y: y1 })
        } else {
            let clamp = |c: Coord<f64>| {
                if spec.crs.is_geographic() {
                    Coord {
                        x: c.x.clamp(-180.0, 180.0),
                        y: c.y.clamp(-85.06, 85.06),
                    }
                } else {
                    c
                }
            };
            crs::transform_bbox(
                spec.crs,
                WEB_MERCATOR,
                clamp(Coord { x: x0, y: y0 }),
                clamp(Coord { x: x1, y: y1 }),
            )?
        };
        let merc_per_px = ((hi.x - lo.x) / f64::from(spec.width)).max(1e-9);
        let ratio = if spec.pixel_ratio.is_finite() {
            spec.pixel_ratio.clamp(0.25, 8.0)
        } else {
            1.0
        };
        let zoom = (RES_Z0 / (merc_per_px * ratio)).log2().clamp(0.0, 30.0);
        // Margin: wide strokes, circles and labels reaching in from outside.
        let m = merc_per_px * 64.0 * ratio;
        Ok(View {
            crs: spec.crs,
            min_x: x0,
            max_y: y1,
            sx: f64::from(spec.width) / (x1 - x0),
            sy: f64::from(spec.height) / (y1 - y0),
            width: spec.width,
            height: spec.height,
            query: Rect::new(
                Coord {
                    x: lo.x - m,
                    y: lo.y - m,
                },
                Coord {
                    x: hi.x + m,
                    y: hi.y + m,
                },
            ),
            zoom,
            merc_per_px,
            ratio: ratio as f32,
        })
    }

    /// Pixel (column, row from the top; fractional) → Web Mercator.
    pub fn pixel_to_mercator(&self, i: f64, j: f64) -> Result<Coord<f64>, crs::CrsError> {
        let c = Coord {
            x: self.min_x + i / self.sx,
            y: self.max_y - j / self.sy,
        };
        crs::transform_one(self.crs, WEB_MERCATOR, c)
    }

    /// Projects Web Mercator coordinates into pixels, in place in `buf`;
    /// false when the CRS cannot take them.
    fn project(&self, src: &[Coord<f64>], buf: &mut Vec<Coord<f64>>) -> bool {
        buf.clear();
        buf.extend_from_slice(src);
        match self.crs.epsg() {
            3857 => {}
            4326 => buf
                .iter_mut()
                .for_each(|c| *c = crs::mercator_to_lonlat(*c)),
            _ => {
                if crs::transform(WEB_MERCATOR, self.crs, buf).is_err() {
                    return false;
                }
            }
        }
        for c in buf.iter_mut() {
            *c = Coord {
                x: (c.x - self.min_x) * self.sx,
                y: (self.max_y - c.y) * self.sy,
            };
        }
        true
    }
}

/// The map renderer: a compiled style and the label fonts.
#[derive(Debug)]
pub struct Renderer {
    /// The style.
    pub style: Style,
    /// Label fonts.
    pub fonts: Fonts,
    /// Rasterised glyphs, shared by every render.
    masks: MaskCache,
}

/// One feature to draw: its geometry (full or generalised) and where its
/// attributes are.
struct Feat<'a> {
    geom: &'a FlatGeometry,
    gi: usize,
    data: &'a LayerData,
    row: usize,
}

/// Features of a layer in the view, in fid order within each part.
fn features<'a>(layer: &'a Layer, view: &View) -> Vec<Feat<'a>> {
    // Exactly the features whose envelope meets the query, as with f64
    // boxes (`engine::index`): a feature past the margin could still
    // reach in with a label, or take a label's place.
    let q = &view.query;
    let mut out = Vec::new();
    if let Some(level) = layer.generalized(view.zoom.floor() as u8) {
        // In block order, as the level stores them (a block's features
        // come from one part).
        let mut hits = level.intersecting_exactly(q);
        hits.sort_unstable_by_key(|f| (f.block(), f.i));
        for f in hits {
            let Some((part, row)) = layer.resolve(f.src()) else {
                continue;
            };
            let (geom, gi) = f.geometry();
            out.push(Feat {
                geom,
                gi,
                data: layer.data(part),
                row: row as usize,
            });
        }
        return out;
    }
    for part in [Part::Base, Part::Delta] {
        let data = layer.data(part);
        let env = |r: u32| data.geometry.bbox(r as usize);
        let mut rows: Vec<usize> = layer
            .spatial_index(part)
            .intersecting_exactly(q, env)
            .map(|r| r as usize)
            .filter(|&r| layer.is_live(part, r))
            .collect();
        rows.sort_unstable();
        out.extend(rows.into_iter().map(|row| Feat {
            geom: &data.geometry,
            gi: row,
            data,
            row,
        }));
    }
    out
}

/// Style layers for an engine layer the style does not draw: a neutral
/// default by geometry kind, so every published layer shows.
pub fn fallback_style(layer: &Layer) -> Vec<StyleLayer> {
    use super::style::Expr;
    use serde_json::json;
    let c = |v: serde_json::Value| Expr::compile(&v).expect("literal");
    let kind = match layer.geometry_type().kind() {
        GeometryKind::Polygon => Kind::Fill {
            color: c(json!("#9e9ac8")),
            opacity: c(json!(0.35)),
            outline: Some(c(json!("#54278f"))),
        },
        GeometryKind::Line => Kind::Line {
            color: c(json!("#636363")),
            width: c(json!(1.5)),
            opacity: c(json!(1)),
            dash: None,
            cap: "round".into(),
            join: "round".into(),
        },
        GeometryKind::Point => Kind::Circle {
            radius: c(json!(4)),
            color: c(json!("#636363")),
            opacity: c(json!(1)),
            stroke_color: c(json!("#ffffff")),
            stroke_width: c(json!(1)),
        },
    };
    vec![StyleLayer {
        id: format!("{}-default", layer.id),
        source_layer: layer.id.clone(),
        minzoom: 0.0,
        maxzoom: 24.0,
        filter: None,
        kind,
    }]
}

/// State of one render: scratch buffers, glyphs and placed labels.
struct Frame<'r> {
    view: View,
    fonts: &'r Fonts,
    glyphs: GlyphCache,
    scratch: Vec<Coord<f64>>,
    placed: Vec<[f32; 4]>,
}

fn paint(c: Rgba) -> Paint<'static> {
    let mut p = Paint::default();
    p.set_color_rgba8(c.r, c.g, c.b, c.a);
    p.anti_alias = true;
    p
}

/// Guard band: coordinates beyond it are clipped before rasterising.
fn guard(view: &View) -> [f64; 4] {
    let m = 2.0 * f64::from(view.width.max(view.height)) + 256.0;
    [
        -m,
        -m,
        f64::from(view.width) + m,
        f64::from(view.height) + m,
    ]
}

/// Sutherland–Hodgman: a ring clipped to a rectangle.
fn clip_ring(ring: &[Coord<f64>], r: [f64; 4]) -> Vec<Coord<f64>> {
    let mut out: Vec<Coord<f64>> = ring.to_vec();
    for edge in 0..4 {
        let inside = |c: &Coord<f64>| match edge {
            0 => c.x >= r[0],
            1 => c.y >= r[1],
            2 => c.x <= r[2],
            _ => c.y <= r[3],
        };
        let cross = |a: Coord<f64>, b: Coord<f64>| {
            let t = match edge {
                0 => (r[0] - a.x) / (b.x - a.x),
                1 => (r[1] - a.y) / (b.y - a.y),
                2 => (r[2] - a.x) / (b.x - a.x),
                _ => (r[3] - a.y) / (b.y - a.y),
            };
            Coord {
                x: a.x + (b.x - a.x) * t,
                y: a.y + (b.y - a.y) * t,
            }
        };
        let input = std::mem::take(&mut out);
        let n = input.len();
        for i in 0..n {
            let (a, b) = (input[(i + n - 1) % n], input[i]);
            match (inside(&a), inside(&b)) {
                (true, true) => out.push(b),
                (true, false) => out.push(cross(a, b)),
                (false, true) => {
                    out.push(cross(a, b));
                    out.push(b);
                }
                (false, false) => {}
            }
        }
    }
    out
}

/// A polyline clipped to a rectangle: the pieces inside.
fn clip_line(line: &[Coord<f64>], r: [f64; 4]) -> Vec<Vec<Coord<f64>>> {
    let mut pieces = Vec::new();
    let mut cur: Vec<Coord<f64>> = Vec::new();
    for s in line.windows(2) {
        let (a, b) = (s[0], s[1]);
        let (dx, dy) = (b.x - a.x, b.y - a.y);
        let clipped = crate::model::clip_segment(
            a,
            b,
            Coord { x: r[0], y: r[1] },
            Coord { x: r[2], y: r[3] },
        );
        let Some((t0, t1)) = clipped else {
            if cur.len() > 1 {
                pieces.push(std::mem::take(&mut cur));
            }
            cur.clear();
            continue;
        };
        let p0 = Coord {
            x: a.x + dx * t0,
            y: a.y + dy * t0,
        };
        let p1 = Coord {
            x: a.x + dx * t1,
            y: a.y + dy * t1,
        };
        if cur.last() != Some(&p0) {
            if cur.len() > 1 {
                pieces.push(std::mem::take(&mut cur));
            }
            cur.clear();
            cur.push(p0);
        }
        cur.push(p1);
        if t1 < 1.0 {
            pieces.push(std::mem::take(&mut cur));
        }
    }
    if cur.len() > 1 {
        pieces.push(cur);
    }
    pieces
}

fn outside(cs: &[Coord<f64>], g: [f64; 4]) -> bool {
    cs.iter()
        .any(|c| c.x < g[0] || c.y < g[1] || c.x > g[2] || c.y > g[3])
}

impl Frame<'_> {
    /// The rings of a feature's parts in pixels (clipped to the guard band
    /// when needed), as `(part, ring)` lists; `closed` rings for polygons.
    fn pixel_parts(&mut self, f: &Feat<'_>, closed: bool) -> Vec<Vec<Vec<Coord<f64>>>> {
        let g = guard(&self.view);
        let mut parts = Vec::new();
        for rings in f.geom.parts(f.gi) {
            let mut out = Vec::new();
            for ring in rings {
                if !self.view.project(ring, &mut self.scratch) {
                    continue;
                }
                let px = &self.scratch;
                if px.iter().any(|c| !c.x.is_finite() || !c.y.is_finite()) {
                    continue;
                }
                if !outside(px, g) {
                    out.push(px.clone());
                } else if closed {
                    let c = clip_ring(px, g);
                    if c.len() >= 3 {
                        out.push(c);
                    }
                } else {
                    out.extend(clip_line(px, g));
                }
            }
            if !out.is_empty() {
                parts.push(out);
            }
        }
        parts
    }
}

/// Appends a feature's rings to a path. With `orient`, exterior rings are
/// written clockwise on screen and holes counter-clockwise whatever the
/// data's winding, so the nonzero rule fills a batch of features as their
/// union with holes kept.
fn push_rings(pb: &mut PathBuilder, parts: &[Vec<Vec<Coord<f64>>>], close: bool, orient: bool) {
    for rings in parts {
        for (k, ring) in rings.iter().enumerate() {
            if ring.is_empty() {
                continue;
            }
            let reverse = orient && {
                let mut a = 0.0;
                for w in ring.windows(2) {
                    a += w[0].x * w[1].y - w[1].x * w[0].y;
                }
                // Positive shoelace in y-down pixels is clockwise on screen.
                (a > 0.0) != (k == 0)
            };
            let mut it: Box<dyn Iterator<Item = &Coord<f64>>> = if reverse {
                Box::new(ring.iter().rev())
            } else {
                Box::new(ring.iter())
            };
            if let Some(first) = it.next() {
                pb.move_to(first.x as f32, first.y as f32);
            }
            for c in it {
                pb.line_to(c.x as f32, c.y as f32);
            }
            if close {
                pb.close();
            }
        }
    }
}

/// A stroke of `width` pixels; below one pixel, a hairline whose colour
/// fades with the width (as MapLibre and Skia draw thin lines), which is
/// also much cheaper to rasterise.
fn thin_stroke(width: f32, c: Rgba) -> (f32, Rgba) {
    if width < 1.0 {
        (0.0, c.with_opacity(f64::from(width)))
    } else {
        (width, c)
    }
}

/// Features of one style layer drawn with identical paint are drawn as
/// one path: one rasteriser pass instead of one per parcel.
#[derive(PartialEq)]
enum BatchKey {
    Fill(Option<Rgba>, Option<Rgba>),
    Line(Rgba, u32),
}

/// Area-weighted centroid of a ring (pixels), and its absolute area.
fn ring_centroid(r: &[Coord<f64>]) -> Option<(Coord<f64>, f64)> {
    let n = r.len();
    if n < 3 {
        return None;
    }
    let (mut a, mut cx, mut cy) = (0.0, 0.0, 0.0);
    for i in 0..n {
        let (p, q) = (r[i], r[(i + 1) % n]);
        let cross = p.x * q.y - q.x * p.y;
        a += cross;
        cx += (p.x + q.x) * cross;
        cy += (p.y + q.y) * cross;
    }
    if a.abs() < 1e-9 {
        return None;
    }
    Some((
        Coord {
            x: cx / (3.0 * a),
            y: cy / (3.0 * a),
        },
        (a / 2.0).abs(),
    ))
}

/// Dash array, cap and join of a line style layer.
type LineStyle = (Option<Vec<f32>>, String, String);

/// Draws a batch of features sharing their paint.
fn flush(
    pm: &mut Pixmap,
    batch: Option<(BatchKey, PathBuilder)>,
    line: Option<&LineStyle>,
    ratio: f32,
) {
    let Some((key, pb)) = batch else { return };
    let Some(path) = pb.finish() else { return };
    let id = Transform::identity();
    match key {
        BatchKey::Fill(fill, outline) => {
            if let Some(c) = fill {
                pm.fill_path(&path, &paint(c), FillRule::Winding, id, None);
            }
            if let Some(c) = outline {
                let (w, c) = thin_stroke(ratio, c);
                let s = Stroke {
                    width: w,
                    ..Stroke::default()
                };
                pm.stroke_path(&path, &paint(c), &s, id, None);
            }
        }
        BatchKey::Line(c, w) => {
            let w = f32::from_bits(w);
            let (dash, cap, join) = line
                .cloned()
                .unwrap_or((None, String::new(), String::new()));
            // Dashes are in line widths and need a real width.
            let (sw, c) = if dash.is_some() {
                (w, c)
            } else {
                thin_stroke(w, c)
            };
            let stroke = Stroke {
                width: sw,
                line_cap: match cap.as_str() {
                    "round" => LineCap::Round,
                    "square" => LineCap::Square,
                    _ => LineCap::Butt,
                },
                line_join: match join.as_str() {
                    "round" => LineJoin::Round,
                    "bevel" => LineJoin::Bevel,
                    _ => LineJoin::Miter,
                },
                dash: dash.as_ref().and_then(|d| {
                    StrokeDash::new(d.iter().map(|x| (x * w).max(0.1)).collect(), 0.0)
                }),
                ..Stroke::default()
            };
            pm.stroke_path(&path, &paint(c), &stroke, id, None);
        }
    }
}

impl Renderer {
    /// A renderer over a compiled style and fonts.
    pub fn new(style: Style, fonts: Fonts) -> Renderer {
        Renderer {
            style,
            fonts,
            masks: MaskCache::default(),
        }
    }

    /// Renders the groups, bottom first, into a new pixmap.
    pub fn render(&self, groups: &[DrawGroup<'_>], spec: &MapSpec) -> Result<Pixmap, RenderError> {
        let view = View::new(spec)?;
        let mut pm = new_pixmap(spec.width, spec.height)
            .ok_or(RenderError::Size(spec.width, spec.height))?;
        if let Some(bg) = spec.background {
            pm.fill(tiny_skia::Color::from_rgba8(bg.r, bg.g, bg.b, bg.a));
        }
        let mut frame = Frame {
            view,
            fonts: &self.fonts,
            glyphs: GlyphCache::default(),
            scratch: Vec::new(),
            placed: Vec::new(),
        };
        for g in groups {
            match g {
                DrawGroup::Layer(l) => {
                    let mut sls: Vec<&StyleLayer> = self.style.layers_of(&l.id).collect();
                    let fb;
                    if sls.is_empty() {
                        fb = fallback_style(l);
                        sls = fb.iter().collect();
                    }
                    for sl in sls {
                        self.draw_style_layer(&mut pm, &mut frame, l, sl);
                    }
                }
                DrawGroup::Group(ls) => {
                    // Layers the style does not draw go at the bottom.
                    let fbs: Vec<(&Layer, Vec<StyleLayer>)> = ls
                        .iter()
                        .filter(|l| self.style.layers_of(&l.id).next().is_none())
                        .map(|l| (*l, fallback_style(l)))
                        .collect();
                    for (l, sls) in &fbs {
                        for sl in sls {
                            self.draw_style_layer(&mut pm, &mut frame, l, sl);
                        }
                    }
                    for sl in &self.style.layers {
                        if let Some(l) = ls.iter().find(|l| l.id == sl.source_layer) {
                            self.draw_style_layer(&mut pm, &mut frame, l, sl);
                        }
                    }
                }
            }
        }
        Ok(pm)
    }

    fn draw_style_layer(
        &self,
        pm: &mut Pixmap,
        fr: &mut Frame<'_>,
        layer: &Layer,
        sl: &StyleLayer,
    ) {
        let zoom = fr.view.zoom;
        if !sl.visible_at(zoom) {
            return;
        }
        let kind = layer.geometry_type().kind();
        match (&sl.kind, kind) {
            (Kind::Fill { .. }, GeometryKind::Polygon) => {}
            (Kind::Line { .. }, GeometryKind::Polygon | GeometryKind::Line) => {}
            (Kind::Circle { .. }, GeometryKind::Point) => {}
            (Kind::Symbol(_), _) => {}
            _ => return,
        }
        let feats = features(layer, &fr.view);
        // Cap, join and dashes are per style layer; colour and width are
        // per feature and key the batches.
        let line_style = match &sl.kind {
            Kind::Line {
                dash, cap, join, ..
            } => Some((dash.clone(), cap.clone(), join.clone())),
            _ => None,
        };
        let mut batch: Option<(BatchKey, PathBuilder)> = None;
        for f in &feats {
            let cx = Ctx {
                zoom,
                feature: Some((f.data, f.row)),
            };
            if let Some(filter) = &sl.filter {
                if !matches!(filter.eval(&cx), super::style::Val::Bool(true)) {
                    continue;
                }
            }
            match &sl.kind {
                Kind::Fill {
                    color,
                    opacity,
                    outline,
                } => {
                    let op = opacity.num(&cx, 1.0);
                    let key = BatchKey::Fill(
                        color.color(&cx).map(|c| c.with_opacity(op)),
                        outline
                            .as_ref()
                            .and_then(|o| o.color(&cx))
                            .map(|c| c.with_opacity(op)),
                    );
                    if batch.as_ref().is_some_and(|(k, _)| *k != key) {
                        flush(pm, batch.take(), line_style.as_ref(), fr.view.ratio);
                    }
                    let parts = fr.pixel_parts(f, true);
                    let pb = &mut batch.get_or_insert_with(|| (key, PathBuilder::new())).1;
                    push_rings(pb, &parts, true, true);
                }
                Kind::Line {
                    color,
                    width,
                    opacity,
                    ..
                } => {
                    let Some(c) = color.color(&cx) else { continue };
                    let w = width.num(&cx, 1.0).clamp(0.0, 256.0) as f32 * fr.view.ratio;
                    if w <= 0.0 {
                        continue;
                    }
                    let key = BatchKey::Line(c.with_opacity(opacity.num(&cx, 1.0)), w.to_bits());
                    if batch.as_ref().is_some_and(|(k, _)| *k != key) {
                        flush(pm, batch.take(), line_style.as_ref(), fr.view.ratio);
                    }
                    let closed = kind == GeometryKind::Polygon;
                    let parts = fr.pixel_parts(f, closed);
                    let pb = &mut batch.get_or_insert_with(|| (key, PathBuilder::new())).1;
                    push_rings(pb, &parts, closed, false);
                }
                Kind::Circle {
                    radius,
                    color,
                    opacity,
                    stroke_color,
                    stroke_width,
                } => {
                    let r = radius.num(&cx, 5.0).clamp(0.0, 256.0) as f32 * fr.view.ratio;
                    let sw = stroke_width.num(&cx, 0.0).clamp(0.0, 64.0) as f32 * fr.view.ratio;
                    let op = opacity.num(&cx, 1.0);
                    let parts = fr.pixel_parts(f, false);
                    for p in parts.iter().flatten().flatten() {
                        let (x, y) = (p.x as f32, p.y as f32);
                        if sw > 0.0 {
                            if let (Some(sc), Some(path)) = (
                                stroke_color.color(&cx),
                                PathBuilder::from_circle(x, y, r + sw),
                            ) {
                                pm.fill_path(
                                    &path,
                                    &paint(sc.with_opacity(op)),
                                    FillRule::Winding,
                                    Transform::identity(),
                                    None,
                                );
                            }
                        }
                        if let (Some(c), Some(path)) =
                            (color.color(&cx), PathBuilder::from_circle(x, y, r))
                        {
                            pm.fill_path(
                                &path,
                                &paint(c.with_opacity(op)),
                                FillRule::Winding,
                                Transform::identity(),
                                None,
                            );
                        }
                    }
                }
                Kind::Symbol(sym) => self.draw_label(pm, fr, f, kind, sym, &cx),
            }
        }
        flush(pm, batch, line_style.as_ref(), fr.view.ratio);
    }

    fn draw_label(
        &self,
        pm: &mut Pixmap,
        fr: &mut Frame<'_>,
        f: &Feat<'_>,
        kind: GeometryKind,
        sym: &SymbolStyle,
        cx: &Ctx<'_>,
    ) {
        let text = sym.field.eval(cx);
        let text = text.text();
        let text = text.trim();
        if text.is_empty() {
            return;
        }
        let Some(font) = fr.fonts.pick(&sym.font) else {
            return;
        };
        let size = sym.size.num(cx, 16.0).clamp(1.0, 128.0) as f32 * fr.view.ratio;
        let (w, h) = (fr.view.width as f64, fr.view.height as f64);
        // Anchor point and rotation (radians) in pixels.
        let (anchor, angle, max_len) = match kind {
            GeometryKind::Polygon => {
                let parts = fr.pixel_parts(f, true);
                let best = parts
                    .iter()
                    .filter_map(|rings| rings.first().and_then(|r| ring_centroid(r)))
                    .max_by(|a, b| a.1.total_cmp(&b.1));
                let Some((c, _)) = best else { return };
                (c, 0.0f64, f64::INFINITY)
            }
            GeometryKind::Point => {
                let parts = fr.pixel_parts(f, false);
                let Some(p) = parts
                    .first()
                    .and_then(|r| r.first())
                    .and_then(|r| r.first())
                else {
                    return;
                };
                (*p, 0.0, f64::INFINITY)
            }
            GeometryKind::Line => {
                let parts = fr.pixel_parts(f, false);
                // The longest piece, at the middle of its length.
                let Some(line) = parts
                    .iter()
                    .flatten()
                    .max_by(|a, b| line_len(a).total_cmp(&line_len(b)))
                else {
                    return;
                };
                let total = line_len(line);
                let mut acc = 0.0;
                let mut at = None;
                for s in line.windows(2) {
                    let d = ((s[1].x - s[0].x).powi(2) + (s[1].y - s[0].y).powi(2)).sqrt();
                    if acc + d >= total / 2.0 && d > 0.0 {
                        let t = (total / 2.0 - acc) / d;
                        let mut ang = (s[1].y - s[0].y).atan2(s[1].x - s[0].x);
                        if ang > std::f64::consts::FRAC_PI_2 {
                            ang -= std::f64::consts::PI;
                        } else if ang < -std::f64::consts::FRAC_PI_2 {
                            ang += std::f64::consts::PI;
                        }
                        at = Some((
                            Coord {
                                x: s[0].x + (s[1].x - s[0].x) * t,
                                y: s[0].y + (s[1].y - s[0].y) * t,
                            },
                            ang,
                        ));
                        break;
                    }
                    acc += d;
                }
                let Some((p, ang)) = at else { return };
                (p, ang, total)
            }
        };
        if !(anchor.x >= 0.0 && anchor.y >= 0.0 && anchor.x < w && anchor.y < h) {
            return;
        }
        let Some(run) = fr.fonts.run(font, text, size) else {
            return;
        };
        if run.glyphs.is_empty() || f64::from(run.width) > max_len {
            return;
        }
        // Box of the text relative to the anchor, before rotation.
        let (tw, asc, desc) = (run.width, run.ascent, run.descent);
        let th = asc + desc;
        let (mut ox, mut oy) = match sym.anchor.as_str() {
            "top" => (-tw / 2.0, 0.0),
            "bottom" => (-tw / 2.0, -th),
            "left" => (0.0, -th / 2.0),
            "right" => (-tw, -th / 2.0),
            "top-left" => (0.0, 0.0),
            "top-right" => (-tw, 0.0),
            "bottom-left" => (0.0, -th),
            "bottom-right" => (-tw, -th),
            _ => (-tw / 2.0, -th / 2.0),
        };
        ox += sym.offset.0 * size;
        oy += sym.offset.1 * size;
        let halo = sym.halo_width.num(cx, 0.0).clamp(0.0, 16.0) as f32 * fr.view.ratio;
        // Collision box (axis-aligned bound of the rotated box).
        let (ca, sa) = (angle.cos() as f32, angle.sin() as f32);
        let corners = [(ox, oy), (ox + tw, oy), (ox, oy + th), (ox + tw, oy + th)];
        let (mut bx0, mut by0, mut bx1, mut by1) = (f32::MAX, f32::MAX, f32::MIN, f32::MIN);
        for (x, y) in corners {
            let rx = anchor.x as f32 + x * ca - y * sa;
            let ry = anchor.y as f32 + x * sa + y * ca;
            bx0 = bx0.min(rx);
            by0 = by0.min(ry);
            bx1 = bx1.max(rx);
            by1 = by1.max(ry);
        }
        let pad = halo + 1.0;
        let b = [bx0 - pad, by0 - pad, bx1 + pad, by1 + pad];
        // No partial labels (as MapServer's PARTIALS FALSE): a label cut at
        // the image edge reads wrong, and the neighbouring map shows it.
        if b[0] < 0.0 || b[1] < 0.0 || b[2] > w as f32 || b[3] > h as f32 {
            return;
        }
        if fr
            .placed
            .iter()
            .any(|p| p[0] < b[2] && b[0] < p[2] && p[1] < b[3] && b[1] < p[3])
        {
            return;
        }
        fr.placed.push(b);
        let color = sym.color.color(cx);
        let halo_color = sym.halo_color.color(cx).filter(|c| c.a > 0 && halo > 0.0);
        if angle == 0.0 {
            // Upright text: cached glyph masks, blended at whole pixels
            // (quarter-pixel pen positions), halos of all glyphs first.
            let base_y = (anchor.y as f32 + oy + asc).round() as i32;
            let x0 = anchor.x as f32 + ox;
            let h = if halo_color.is_some() { halo } else { 0.0 };
            let masks: Vec<_> = run
                .glyphs
                .iter()
                .filter_map(|&(id, gx)| {
                    let pen = x0 + gx;
                    let whole = pen.floor();
                    self.masks
                        .get(fr.fonts, font, id, size, pen - whole, h)
                        .map(|m| (whole as i32, m))
                })
                .collect();
            if let Some(hc) = halo_color {
                let c = [hc.r, hc.g, hc.b, hc.a];
                for (x, m) in &masks {
                    blend(
                        pm,
                        &m.halo,
                        m.width,
                        m.height,
                        x + m.left,
                        base_y + m.top,
                        c,
                    );
                }
            }
            if let Some(tc) = color {
                let c = [tc.r, tc.g, tc.b, tc.a];
                for (x, m) in &masks {
                    blend(
                        pm,
                        &m.fill,
                        m.width,
                        m.height,
                        x + m.left,
                        base_y + m.top,
                        c,
                    );
                }
            }
            return;
        }
        let Some(tp) = fr.fonts.layout(&mut fr.glyphs, font, text, size) else {
            return;
        };
        // Baseline origin: the box top plus the ascent.
        let ts = Transform::from_row(ca, sa, -sa, ca, anchor.x as f32, anchor.y as f32)
            .pre_translate(ox, oy + asc);
        if let Some(hc) = halo_color {
            let s = Stroke {
                width: 2.0 * halo,
                line_join: LineJoin::Round,
                ..Stroke::default()
            };
            pm.stroke_path(&tp.path, &paint(hc), &s, ts, None);
        }
        if let Some(c) = color {
            pm.fill_path(&tp.path, &paint(c), FillRule::Winding, ts, None);
        }
    }
}

fn line_len(l: &[Coord<f64>]) -> f64 {
    l.windows(2)
        .map(|s| ((s[1].x - s[0].x).powi(2) + (s[1].y - s[0].y).powi(2)).sqrt())
        .sum()
}

/// Draws `text` (wrapped to the width) on a pixmap, in dark red over a
/// white halo: the `INIMAGE` exception of WMS.
pub fn draw_message(pm: &mut Pixmap, fonts: &Fonts, text: &str) {
    let Some(font) = fonts.pick(&["DejaVu Sans".to_owned()]) else {
        return;
    };
    let mut cache = GlyphCache::default();
    let size = 12.0f32;
    let max_w = pm.width() as f32 - 8.0;
    let mut y = 4.0 + size;
    let mut line = String::new();
    let mut lines = Vec::new();
    for word in text.split_whitespace() {
        let trial = if line.is_empty() {
            word.to_owned()
        } else {
            format!("{line} {word}")
        };
        let fits = fonts
            .layout(&mut cache, font, &trial, size)
            .is_none_or(|t| t.width <= max_w);
        if !fits && !line.is_empty() {
            lines.push(std::mem::replace(&mut line, word.to_owned()));
        } else {
            line = trial;
        }
    }
    lines.push(line);
    for l in lines {
        if let Some(tp) = fonts.layout(&mut cache, font, &l, size) {
            let ts = Transform::from_translate(4.0, y);
            let s = Stroke {
                width: 3.0,
                line_join: LineJoin::Round,
                ..Stroke::default()
            };
            pm.stroke_path(
                &tp.path,
                &paint(Rgba::parse("#ffffff").unwrap()),
                &s,
                ts,
                None,
            );
            pm.fill_path(
                &tp.path,
                &paint(Rgba::parse("#a50f15").unwrap()),
                FillRule::Winding,
                ts,
                None,
            );
        }
        y += size * 1.3;
        if y > pm.height() as f32 {
            break;
        }
    }
}

thread_local! {
    /// A pixel buffer kept per (blocking pool) thread: a 1024×768 map
    /// needs 3 MB, and a fresh allocation each time costs page faults.
    static PIXELS: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// A transparent pixmap over this thread's recycled pixel buffer.
pub fn new_pixmap(width: u32, height: u32) -> Option<Pixmap> {
    let len = (width as usize)
        .checked_mul(height as usize)?
        .checked_mul(4)?;
    let mut v = PIXELS.with(|b| std::mem::take(&mut *b.borrow_mut()));
    v.clear();
    v.resize(len, 0);
    Pixmap::from_vec(v, tiny_skia::IntSize::from_wh(width, height)?)
}

/// Gives a pixel buffer back for the next [`new_pixmap`] on this thread.
fn recycle(v: Vec<u8>) {
    // Buffers of huge maps are not kept.
    if v.capacity() <= 64 << 20 {
        PIXELS.with(|b| *b.borrow_mut() = v);
    }
}

/// Encodes a pixmap as PNG: RGBA when `alpha`, else RGB (smaller, and
/// the map is opaque anyway). Fast deflate and the cheap `Up` filter
/// (flat fills repeat row to row): maps are made per request. The pixels
/// are converted in place and the buffer recycled.
pub fn encode_png(pm: Pixmap, alpha: bool) -> Result<Vec<u8>, RenderError> {
    let (w, h) = (pm.width(), pm.height());
    let mut data = pm.take();
    let mut out = Vec::with_capacity(data.len() / 8);
    let res = (|| {
        let mut enc = png::Encoder::new(&mut out, w, h);
        enc.set_color(if alpha {
            png::ColorType::Rgba
        } else {
            png::ColorType::Rgb
        });
        enc.set_depth(png::BitDepth::Eight);
        enc.set_compression(png::Compression::Fast);
        enc.set_filter(png::Filter::Up);
        let mut wr = enc.write_header()?;
        let px = if alpha {
            demultiply_in_place(&mut data);
            &data[..]
        } else {
            let n = rgb_in_place(&mut data);
            &data[..n]
        };
        wr.write_image_data(px)?;
        wr.finish()
    })();
    recycle(data);
    res.map_err(|e| RenderError::Encode(e.to_string()))?;
    Ok(out)
}

/// 255/a in 16.16 fixed point, for demultiplying without a division.
const RECIP: [u32; 256] = {
    let mut t = [0u32; 256];
    let mut a = 1;
    while a < 256 {
        t[a] = ((255u32 << 16) + a as u32 / 2) / a as u32;
        a += 1;
    }
    t
};

/// Premultiplied RGBA → straight RGBA (semi-transparent fills make most
/// map pixels partly transparent, so this runs per pixel: no division).
fn demultiply_in_place(v: &mut [u8]) {
    for p in v.chunks_exact_mut(4) {
        let a = p[3];
        if a != 0 && a != 255 {
            let r = RECIP[a as usize];
            for c in &mut p[..3] {
                *c = ((u32::from(*c) * r + (1 << 15)) >> 16).min(255) as u8;
            }
        }
    }
}

/// Opaque RGBA → RGB packed at the front of the buffer; returns its
/// length. (Premultiplied equals straight when opaque; callers fill a
/// background first.)
fn rgb_in_place(v: &mut [u8]) -> usize {
    let n = v.len() / 4;
    for i in 0..n {
        v.copy_within(i * 4..i * 4 + 3, i * 3);
    }
    n * 3
}

/// Encodes an (opaque) pixmap as JPEG at quality 85.
pub fn encode_jpeg(pm: Pixmap) -> Result<Vec<u8>, RenderError> {
    let (w, h) = (pm.width(), pm.height());
    let (w16, h16) = (
        u16::try_from(w).map_err(|_| RenderError::Size(w, h))?,
        u16::try_from(h).map_err(|_| RenderError::Size(w, h))?,
    );
    let mut data = pm.take();
    let n = rgb_in_place(&mut data);
    let mut out = Vec::new();
    let enc = jpeg_encoder::Encoder::new(&mut out, 85);
    let res = enc.encode(&data[..n], w16, h16, jpeg_encoder::ColorType::Rgb);
    recycle(data);
    res.map_err(|e| RenderError::Encode(e.to_string()))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demultiplying_by_table_matches_division() {
        for a in 1..=255u32 {
            for c in 0..=a {
                let mut px = [c as u8, c as u8, c as u8, a as u8];
                demultiply_in_place(&mut px);
                let exact = ((c * 255 + a / 2) / a).min(255);
                assert!((i32::from(px[0]) - exact as i32).abs() <= 1, "c {c} a {a}");
            }
        }
    }

    #[test]
    fn a_ring_far_outside_is_clipped_to_the_guard_band() {
        let ring = vec![
            Coord { x: -1e9, y: -1e9 },
            Coord { x: 1e9, y: -1e9 },
            Coord { x: 1e9, y: 1e9 },
            Coord { x: -1e9, y: 1e9 },
        ];
        let c = clip_ring(&ring, [0.0, 0.0, 10.0, 10.0]);
        assert_eq!(c.len(), 4);
        assert!(c.iter().all(|p| p.x.abs() <= 10.0 && p.y.abs() <= 10.0));
    }

    #[test]
    fn a_line_crossing_the_band_keeps_only_its_inside_piece() {
        let l = vec![Coord { x: -100.0, y: 5.0 }, Coord { x: 100.0, y: 5.0 }];
        let p = clip_line(&l, [0.0, 0.0, 10.0, 10.0]);
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].len(), 2);
        assert!((p[0][0].x - 0.0).abs() < 1e-9 && (p[0][1].x - 10.0).abs() < 1e-9);
    }

    #[test]
    fn the_zoom_of_a_view_follows_maplibre_tiles() {
        // One 512-pixel z10 tile width across 512 pixels is zoom 10.
        let span = 2.0 * 20_037_508.342_789_244 / 1024.0;
        let v = View::new(&MapSpec {
            crs: WEB_MERCATOR,
            bbox: [0.0, 0.0, span, span],
            width: 512,
            height: 512,
            background: None,
            pixel_ratio: 1.0,
        })
        .unwrap();
        assert!((v.zoom - 10.0).abs() < 1e-9, "{}", v.zoom);
    }
}
