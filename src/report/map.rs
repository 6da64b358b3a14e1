//! The map extract of a printed document: a VN-2000 (EPSG:5899) window
//! drawn by the WMS renderer at print resolution, with the subject
//! outlined, and the furniture an officer expects on a cadastral extract —
//! a frame with easting/northing ticks and labels, grid crosses, a scale
//! bar in metres with the map's scale, and a north arrow turned by the
//! meridian convergence.
//!
//! The extract is drawn in the legal plane itself, so one pixel is the
//! same number of metres across and down, the scale bar is exact, and the
//! grid ticks are straight. Everything is drawn into the PNG (tiny-skia),
//! so the HTML page shows the same map as the PDF.

use super::doc::{Block, Figure, Section, Text};
use super::ReportError;
use crate::crs::{self, VN2000_TM3_10745, WEB_MERCATOR, WGS84};
use crate::engine::{Catalog, Layer, Part};
use crate::model::GeometryKind;
use crate::render::map::{encode_png, new_pixmap};
use crate::render::style::Rgba;
use crate::render::text::{Fonts, GlyphCache};
use crate::render::{DrawGroup, MapSpec, Renderer};
use geo_types::{Coord, Geometry, LineString, Rect};
use tiny_skia::{
    FillRule, LineCap, LineJoin, Paint, PathBuilder, Pixmap, PixmapPaint, Stroke, Transform,
};

/// Largest extract, pixels per side (an A4 page at 300 dpi is 3508).
pub const MAX_PIXELS: u32 = 4000;

/// Map scales an extract is drawn at (denominators), as planning and
/// cadastral maps use them.
const SCALES: [u32; 12] = [
    200, 500, 1000, 2000, 2500, 5000, 10_000, 20_000, 25_000, 50_000, 100_000, 250_000,
];

/// Share of the map kept free around the subject on each side.
const SUBJECT_MARGIN: f64 = 0.15;

/// What to draw.
#[derive(Debug, Clone)]
pub struct MapRequest<'a> {
    /// The window, EPSG:5899 metres `[min_e, min_n, max_e, max_n]`. It is
    /// widened about its centre to the shape of `size_mm`.
    pub bbox: [f64; 4],
    /// Layer ids, drawn together in the style's order.
    pub layers: &'a [&'a str],
    /// Layer ids drawn over those as thin outlines only, without fills
    /// or labels: neighbouring parcels over the zoning lots, say.
    pub outlines: &'a [&'a str],
    /// The subject (parcel, site) outlined in red, EPSG:5899.
    pub highlight: Option<&'a Geometry<f64>>,
    /// Printed size of the map area (inside the frame), millimetres.
    pub size_mm: (f32, f32),
    /// Print resolution, dots per inch.
    pub dpi: f32,
}

/// A drawn extract.
#[derive(Debug, Clone)]
pub struct MapExtract {
    /// The PNG (opaque RGB).
    pub png: Vec<u8>,
    /// Its size in pixels, frame included.
    pub pixels: (u32, u32),
    /// Printed width of the whole image, millimetres: printed at this
    /// width the map is at `scale`.
    pub width_mm: f32,
    /// The scale denominator at that width (2000 for 1:2 000).
    pub scale: f64,
    /// Spacing of the grid ticks, metres.
    pub grid_m: f64,
    /// The window drawn, EPSG:5899 (after widening to the print shape).
    pub bbox: [f64; 4],
}

impl MapExtract {
    /// The extract as a figure of a document, with its caption.
    pub fn figure(&self, caption: Text) -> Figure {
        Figure {
            png: self.png.clone(),
            pixels: self.pixels,
            width_mm: self.width_mm,
            caption,
        }
    }

    /// The extract as a document section under `heading`, captioned with
    /// what the red outline shows (`subject`: Vietnamese, English) over
    /// the plan, the scale and the VN-2000 grid.
    pub fn section(&self, heading: Text, subject: (&str, &str)) -> Section {
        let caption = Text::bi(
            format!(
                "{} (viền đỏ) trên nền lô quy hoạch · {} · lưới VN-2000 (EPSG:5899) {} m",
                subject.0,
                self.scale_text(),
                self.grid_m
            ),
            format!("{} (red outline) over the plan · VN-2000 grid", subject.1),
        );
        Section {
            heading,
            blocks: vec![Block::Figure(self.figure(caption))],
        }
    }

    /// "1:2.000": the scale as Vietnamese maps print it (dot between
    /// thousands).
    pub fn scale_text(&self) -> String {
        format!("1:{}", thousands(self.scale.round() as u64))
    }
}

/// Lifts the zoom limits of the style layers drawing `layers`, for a
/// renderer of printed extracts: the web map hands over from zoning lots
/// to parcels as it zooms in (`maxzoom` 16), but a printed extract shows
/// the plan at cadastral scales (1:500–1:2 000, zoom 17–19), with the
/// parcels as outlines over it ([`MapRequest::outlines`]).
pub fn lift_zoom_limits(style: &mut crate::render::style::Style, layers: &[&str]) {
    for sl in &mut style.layers {
        if layers.contains(&sl.source_layer.as_str()) {
            sl.minzoom = 0.0;
            sl.maxzoom = 30.0;
        }
    }
}

/// The smallest of the usual map scales, at least 1:`min_scale`, at
/// which `subject` (EPSG:5899) fits a map of `size_mm` with a margin
/// around it, and the window of that scale centred on the subject.
pub fn frame_around(subject: Rect<f64>, size_mm: (f32, f32), min_scale: u32) -> ([f64; 4], u32) {
    let (w_m, h_m) = (f64::from(size_mm.0) / 1000.0, f64::from(size_mm.1) / 1000.0);
    let need_w = subject.width() * (1.0 + 2.0 * SUBJECT_MARGIN);
    let need_h = subject.height() * (1.0 + 2.0 * SUBJECT_MARGIN);
    let scale = SCALES
        .iter()
        .copied()
        .find(|&s| s >= min_scale && w_m * f64::from(s) >= need_w && h_m * f64::from(s) >= need_h)
        .unwrap_or(SCALES[SCALES.len() - 1]);
    let c = subject.center();
    let (hw, hh) = (w_m * f64::from(scale) / 2.0, h_m * f64::from(scale) / 2.0);
    ([c.x - hw, c.y - hh, c.x + hw, c.y + hh], scale)
}

/// "12.500" for 12500.
fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(ch);
    }
    out
}

/// The smallest of 1, 2, 2.5, 5 × 10ⁿ metres that gives at most `max`
/// intervals across `span`.
fn nice_step(span: f64, max: f64) -> f64 {
    let raw = span / max;
    let mut p = 10f64.powf(raw.log10().floor());
    loop {
        for m in [1.0, 2.0, 2.5, 5.0] {
            if m * p >= raw {
                return m * p;
            }
        }
        p *= 10.0;
    }
}

/// The largest of 1, 2, 5 × 10ⁿ metres not above `target`.
fn nice_length(target: f64) -> f64 {
    let p = 10f64.powf(target.log10().floor());
    [5.0, 2.0, 1.0]
        .into_iter()
        .map(|m| m * p)
        .find(|&v| v <= target)
        .unwrap_or(p)
}

fn paint(c: (u8, u8, u8, u8)) -> Paint<'static> {
    let mut p = Paint::default();
    p.set_color_rgba8(c.0, c.1, c.2, c.3);
    p.anti_alias = true;
    p
}

const BLACK: (u8, u8, u8, u8) = (0x1a, 0x1a, 0x1a, 255);
const WHITE: (u8, u8, u8, u8) = (255, 255, 255, 255);
const HIGHLIGHT: (u8, u8, u8, u8) = (0xd7, 0x19, 0x1c, 255);

/// Pixels of a 5899 window.
struct Frame {
    bbox: [f64; 4],
    /// Pixels per metre.
    k: f64,
    /// Map area in pixels.
    w: u32,
    h: u32,
    /// Device pixels per CSS pixel: line widths and text scale with it.
    r: f32,
}

impl Frame {
    fn px(&self, c: Coord<f64>) -> (f32, f32) {
        (
            ((c.x - self.bbox[0]) * self.k) as f32,
            ((self.bbox[3] - c.y) * self.k) as f32,
        )
    }
}

/// Draws the extract. An unknown layer id is [`ReportError::UnknownLayer`];
/// a size beyond [`MAX_PIXELS`] is [`ReportError::Size`].
pub fn render_extract(
    renderer: &Renderer,
    catalog: &Catalog,
    req: &MapRequest<'_>,
) -> Result<MapExtract, ReportError> {
    let resolve = |ids: &[&str]| -> Result<Vec<&Layer>, ReportError> {
        ids.iter()
            .map(|id| {
                catalog
                    .layer(id)
                    .map(|l| l.as_ref())
                    .ok_or_else(|| ReportError::UnknownLayer((*id).to_owned()))
            })
            .collect()
    };
    let layers = resolve(req.layers)?;
    let outlines = resolve(req.outlines)?;
    let dpi = if req.dpi.is_finite() {
        req.dpi.clamp(72.0, 600.0)
    } else {
        150.0
    };
    let px = |mm: f32| (mm / 25.4 * dpi).round() as u32;
    let (w, h) = (px(req.size_mm.0), px(req.size_mm.1));
    let r = dpi / 96.0;
    let margin = (26.0 * r).round() as u32;
    if w < 16 || h < 16 || w + 2 * margin > MAX_PIXELS || h + 2 * margin > MAX_PIXELS {
        return Err(ReportError::Size(format!(
            "a map of {:.0}×{:.0} mm at {dpi:.0} dpi is {w}×{h} pixels; \
             between 16 and {MAX_PIXELS} per side (frame included) are drawn",
            req.size_mm.0, req.size_mm.1
        )));
    }
    let [x0, y0, x1, y1] = req.bbox;
    if !(req.bbox.iter().all(|v| v.is_finite()) && x0 < x1 && y0 < y1) {
        return Err(crate::render::RenderError::BadBbox.into());
    }
    // Widen to the print shape: square pixels, one scale both ways.
    let mut k = (f64::from(w) / (x1 - x0)).min(f64::from(h) / (y1 - y0));
    // Whole pixels make a window framed at 1:20 000 come out at 1:19 994:
    // a scale within 1 % of a usual one is taken to be it, exactly.
    let per_m = f64::from(dpi) / 0.0254;
    if let Some(s) = SCALES
        .iter()
        .map(|&s| f64::from(s))
        .find(|s| (per_m / k / s - 1.0).abs() < 0.01)
    {
        k = per_m / s;
    }
    let (cx, cy) = ((x0 + x1) / 2.0, (y0 + y1) / 2.0);
    let (hw, hh) = (f64::from(w) / k / 2.0, f64::from(h) / k / 2.0);
    let bbox = [cx - hw, cy - hh, cx + hw, cy + hh];
    let frame = Frame { bbox, k, w, h, r };

    let mut map = renderer.render(
        &[DrawGroup::Group(layers)],
        &MapSpec {
            crs: VN2000_TM3_10745,
            bbox,
            width: w,
            height: h,
            background: Some(Rgba {
                r: 255,
                g: 255,
                b: 255,
                a: 255,
            }),
            pixel_ratio: f64::from(r),
        },
    )?;
    for l in outlines {
        draw_outlines(&mut map, &frame, l);
    }
    if let Some(g) = req.highlight {
        draw_highlight(&mut map, &frame, g);
    }
    let grid_m = nice_step((bbox[2] - bbox[0]).max(bbox[3] - bbox[1]), 5.0);
    draw_grid_crosses(&mut map, &frame, grid_m);
    let fonts = &renderer.fonts;
    let mut glyphs = GlyphCache::default();
    // 1 px at `dpi` is 25.4/dpi mm on paper and 1/k m on the ground.
    let scale = per_m / k;
    draw_scale_bar(&mut map, &frame, fonts, &mut glyphs, scale);
    draw_north_arrow(&mut map, &frame, fonts, &mut glyphs);

    let (tw, th) = (w + 2 * margin, h + 2 * margin);
    let mut out = new_pixmap(tw, th).ok_or_else(|| ReportError::Size(format!("{tw}×{th}")))?;
    out.fill(tiny_skia::Color::WHITE);
    out.draw_pixmap(
        margin as i32,
        margin as i32,
        map.as_ref(),
        &PixmapPaint::default(),
        Transform::identity(),
        None,
    );
    draw_frame(&mut out, &frame, margin as f32, fonts, &mut glyphs, grid_m);
    let png = encode_png(out, false)?;
    Ok(MapExtract {
        png,
        pixels: (tw, th),
        width_mm: tw as f32 / dpi * 25.4,
        scale,
        grid_m,
        bbox,
    })
}

fn ring_path(b: &mut PathBuilder, f: &Frame, ring: &LineString<f64>) {
    for (i, c) in ring.0.iter().enumerate() {
        let (x, y) = f.px(*c);
        if i == 0 {
            b.move_to(x, y);
        } else {
            b.line_to(x, y);
        }
    }
    b.close();
}

/// A layer's features in the window as thin grey outlines, straight from
/// the engine's R-tree (full geometry, in Web Mercator, reprojected to
/// the plane per ring).
fn draw_outlines(pm: &mut Pixmap, f: &Frame, layer: &Layer) {
    let Ok((lo, hi)) = crs::transform_bbox(
        VN2000_TM3_10745,
        WEB_MERCATOR,
        Coord {
            x: f.bbox[0],
            y: f.bbox[1],
        },
        Coord {
            x: f.bbox[2],
            y: f.bbox[3],
        },
    ) else {
        return;
    };
    let window = Rect::new(lo, hi);
    let closed = layer.geometry_type().kind() == GeometryKind::Polygon;
    let mut b = PathBuilder::new();
    let mut buf: Vec<Coord<f64>> = Vec::new();
    for part in [Part::Base, Part::Delta] {
        let data = layer.data(part);
        // Exactly the features whose envelope meets the window.
        let env = |r: u32| data.geometry.bbox(r as usize);
        for row in layer.spatial_index(part).intersecting_exactly(&window, env) {
            let row = row as usize;
            if !layer.is_live(part, row) {
                continue;
            }
            for rings in data.geometry.parts(row) {
                for ring in rings {
                    buf.clear();
                    buf.extend_from_slice(ring);
                    if crs::transform(WEB_MERCATOR, VN2000_TM3_10745, &mut buf).is_err() {
                        continue;
                    }
                    for (i, c) in buf.iter().enumerate() {
                        let (x, y) = f.px(*c);
                        if i == 0 {
                            b.move_to(x, y);
                        } else {
                            b.line_to(x, y);
                        }
                    }
                    if closed {
                        b.close();
                    }
                }
            }
        }
    }
    if let Some(path) = b.finish() {
        let s = Stroke {
            width: 0.7 * f.r,
            line_join: LineJoin::Round,
            ..Stroke::default()
        };
        pm.stroke_path(
            &path,
            &paint((0x4a, 0x4a, 0x4a, 200)),
            &s,
            Transform::identity(),
            None,
        );
    }
}

fn draw_highlight(pm: &mut Pixmap, f: &Frame, g: &Geometry<f64>) {
    let mut b = PathBuilder::new();
    let polys: Vec<&geo_types::Polygon<f64>> = match g {
        Geometry::Polygon(p) => vec![p],
        Geometry::MultiPolygon(mp) => mp.0.iter().collect(),
        _ => Vec::new(),
    };
    for p in polys {
        ring_path(&mut b, f, p.exterior());
        for i in p.interiors() {
            ring_path(&mut b, f, i);
        }
    }
    let Some(path) = b.finish() else {
        return;
    };
    // A light wash, then the outline over a white halo, so it reads on
    // any fill colour.
    pm.fill_path(
        &path,
        &paint((0xd7, 0x19, 0x1c, 40)),
        FillRule::EvenOdd,
        Transform::identity(),
        None,
    );
    for (c, w) in [(WHITE, 5.0 * f.r), (HIGHLIGHT, 2.4 * f.r)] {
        let s = Stroke {
            width: w,
            line_join: LineJoin::Round,
            ..Stroke::default()
        };
        pm.stroke_path(&path, &paint(c), &s, Transform::identity(), None);
    }
}

/// Grid values of one axis inside `lo..hi`.
fn grid_values(lo: f64, hi: f64, step: f64) -> Vec<f64> {
    let mut v = (lo / step).ceil() * step;
    let mut out = Vec::new();
    while v <= hi {
        out.push(v);
        v += step;
    }
    out
}

fn draw_grid_crosses(pm: &mut Pixmap, f: &Frame, step: f64) {
    let arm = 5.0 * f.r;
    let mut b = PathBuilder::new();
    for e in grid_values(f.bbox[0], f.bbox[2], step) {
        for n in grid_values(f.bbox[1], f.bbox[3], step) {
            let (x, y) = f.px(Coord { x: e, y: n });
            // On the frame the ticks say it already.
            let inside = |v: f32, size: u32| v > arm * 1.5 && v < size as f32 - arm * 1.5;
            if !inside(x, f.w) || !inside(y, f.h) {
                continue;
            }
            b.move_to(x - arm, y);
            b.line_to(x + arm, y);
            b.move_to(x, y - arm);
            b.line_to(x, y + arm);
        }
    }
    if let Some(path) = b.finish() {
        let halo = Stroke {
            width: 2.6 * f.r,
            ..Stroke::default()
        };
        pm.stroke_path(
            &path,
            &paint((255, 255, 255, 200)),
            &halo,
            Transform::identity(),
            None,
        );
        let s = Stroke {
            width: 0.9 * f.r,
            ..Stroke::default()
        };
        pm.stroke_path(&path, &paint(BLACK), &s, Transform::identity(), None);
    }
}

/// How a label is set: size, weight, turn (degrees about its start) and a
/// white halo.
#[derive(Clone, Copy)]
struct Label {
    size: f32,
    bold: bool,
    angle: f32,
    halo: bool,
}

impl Label {
    /// Upright, regular, without a halo.
    fn plain(size: f32) -> Label {
        Label {
            size,
            bold: false,
            angle: 0.0,
            halo: false,
        }
    }

    /// Bold.
    fn bold(size: f32) -> Label {
        Label {
            bold: true,
            ..Label::plain(size)
        }
    }
}

/// Text with its left end at `(x, y)` (baseline), set as `label` says;
/// its width.
fn draw_text(
    pm: &mut Pixmap,
    fonts: &Fonts,
    glyphs: &mut GlyphCache,
    text: &str,
    at: (f32, f32),
    label: Label,
) -> f32 {
    let Label {
        size,
        bold,
        angle,
        halo,
    } = label;
    let names = if bold {
        ["DejaVu Sans Bold".to_owned()]
    } else {
        ["DejaVu Sans".to_owned()]
    };
    let Some(font) = fonts.pick(&names) else {
        return 0.0;
    };
    let Some(tp) = fonts.layout(glyphs, font, text, size) else {
        return 0.0;
    };
    let ts = Transform::from_rotate(angle).post_translate(at.0, at.1);
    if halo {
        let s = Stroke {
            width: size * 0.28,
            line_join: LineJoin::Round,
            ..Stroke::default()
        };
        pm.stroke_path(&tp.path, &paint(WHITE), &s, ts, None);
    }
    pm.fill_path(&tp.path, &paint(BLACK), FillRule::Winding, ts, None);
    tp.width
}

fn text_width(fonts: &Fonts, glyphs: &mut GlyphCache, text: &str, size: f32) -> f32 {
    fonts
        .pick(&["DejaVu Sans".to_owned()])
        .and_then(|f| fonts.layout(glyphs, f, text, size))
        .map_or(0.0, |t| t.width)
}

fn draw_scale_bar(pm: &mut Pixmap, f: &Frame, fonts: &Fonts, g: &mut GlyphCache, scale: f64) {
    let r = f.r;
    let ground_w = f64::from(f.w) / f.k;
    let len_m = nice_length(ground_w * 0.25);
    let segs = if (len_m / 10f64.powf(len_m.log10().floor()) - 2.0).abs() < 1e-9 {
        4
    } else {
        5
    };
    let len_px = (len_m * f.k) as f32;
    let bar_h = 5.0 * r;
    let size = 10.0 * r;
    let pad = 6.0 * r;
    let unit = |v: f64| {
        if len_m >= 1000.0 {
            format!("{} km", v / 1000.0)
        } else {
            format!("{v} m")
        }
    };
    let end_label = unit(len_m);
    let end_w = text_width(fonts, g, &end_label, size);
    let scale_label = format!("Tỷ lệ 1:{}", thousands(scale.round() as u64));
    let scale_w = text_width(fonts, g, &scale_label, size);
    let box_w = (len_px + end_w / 2.0 + 4.0 * r).max(scale_w) + 2.0 * pad;
    let box_h = size * 2.6 + bar_h + 2.0 * pad;
    let (bx, by) = (10.0 * r, f.h as f32 - 10.0 * r - box_h);
    if let Some(rect) = tiny_skia::Rect::from_xywh(bx, by, box_w, box_h) {
        panel(pm, &PathBuilder::from_rect(rect), r);
    }
    let x0 = bx + pad;
    draw_text(
        pm,
        fonts,
        g,
        &scale_label,
        (x0, by + pad + size),
        Label::bold(size),
    );
    let bar_y = by + pad + size * 1.5;
    let seg = len_px / segs as f32;
    for i in 0..segs {
        let Some(rect) = tiny_skia::Rect::from_xywh(x0 + i as f32 * seg, bar_y, seg, bar_h) else {
            continue;
        };
        let c = if i % 2 == 0 { BLACK } else { WHITE };
        pm.fill_rect(rect, &paint(c), Transform::identity(), None);
    }
    if let Some(rect) = tiny_skia::Rect::from_xywh(x0, bar_y, len_px, bar_h) {
        let mut b = PathBuilder::new();
        b.push_rect(rect);
        if let Some(p) = b.finish() {
            let s = Stroke {
                width: 0.8 * r,
                ..Stroke::default()
            };
            pm.stroke_path(&p, &paint(BLACK), &s, Transform::identity(), None);
        }
    }
    let label_y = bar_y + bar_h + size * 1.15;
    let zero_w = text_width(fonts, g, "0", size);
    draw_text(
        pm,
        fonts,
        g,
        "0",
        (x0 - zero_w / 2.0, label_y),
        Label::plain(size),
    );
    let half = unit(len_m / 2.0);
    if segs == 4 {
        let hw = text_width(fonts, g, &half, size);
        let hx = x0 + len_px / 2.0 - hw / 2.0;
        draw_text(pm, fonts, g, &half, (hx, label_y), Label::plain(size));
    }
    let ex = x0 + len_px - end_w / 2.0;
    draw_text(pm, fonts, g, &end_label, (ex, label_y), Label::plain(size));
}

/// The angle (degrees, clockwise from grid north) of true north at the
/// map's centre: the meridian convergence of the TM projection.
fn convergence(f: &Frame) -> f32 {
    let c = Coord {
        x: (f.bbox[0] + f.bbox[2]) / 2.0,
        y: (f.bbox[1] + f.bbox[3]) / 2.0,
    };
    let angle = || -> Result<f64, crs::CrsError> {
        let ll = crs::transform_one(VN2000_TM3_10745, WGS84, c)?;
        let up = crs::transform_one(
            WGS84,
            VN2000_TM3_10745,
            Coord {
                x: ll.x,
                y: ll.y + 0.01,
            },
        )?;
        Ok((up.x - c.x).atan2(up.y - c.y).to_degrees())
    };
    angle().unwrap_or(0.0) as f32
}

/// The white, grey-outlined panel under the scale bar and the north arrow.
fn panel(pm: &mut Pixmap, p: &tiny_skia::Path, r: f32) {
    pm.fill_path(
        p,
        &paint((255, 255, 255, 225)),
        FillRule::Winding,
        Transform::identity(),
        None,
    );
    let s = Stroke {
        width: 0.8 * r,
        ..Stroke::default()
    };
    pm.stroke_path(
        p,
        &paint((0x5a, 0x63, 0x6e, 255)),
        &s,
        Transform::identity(),
        None,
    );
}

fn draw_north_arrow(pm: &mut Pixmap, f: &Frame, fonts: &Fonts, g: &mut GlyphCache) {
    let r = f.r;
    let rad = 19.0 * r;
    let (cx, cy) = (f.w as f32 - 12.0 * r - rad, 12.0 * r + rad);
    if let Some(circle) = PathBuilder::from_circle(cx, cy, rad) {
        panel(pm, &circle, r);
    }
    let turn = Transform::from_rotate_at(convergence(f), cx, cy);
    let (tip, base, half) = (cy - rad * 0.62, cy + rad * 0.55, rad * 0.32);
    let mid = cy + rad * 0.28;
    let mut left = PathBuilder::new();
    left.move_to(cx, tip);
    left.line_to(cx - half, base);
    left.line_to(cx, mid);
    left.close();
    let mut right = PathBuilder::new();
    right.move_to(cx, tip);
    right.line_to(cx + half, base);
    right.line_to(cx, mid);
    right.close();
    let s = Stroke {
        width: 0.9 * r,
        line_join: LineJoin::Round,
        line_cap: LineCap::Round,
        ..Stroke::default()
    };
    if let (Some(l), Some(rt)) = (left.finish(), right.finish()) {
        pm.fill_path(&l, &paint(BLACK), FillRule::Winding, turn, None);
        pm.fill_path(&rt, &paint(WHITE), FillRule::Winding, turn, None);
        pm.stroke_path(&l, &paint(BLACK), &s, turn, None);
        pm.stroke_path(&rt, &paint(BLACK), &s, turn, None);
    }
    // "B" for Bắc (north); "N" would read as Nam (south).
    let size = 10.0 * r;
    let w = text_width(fonts, g, "B", size);
    draw_text(
        pm,
        fonts,
        g,
        "B",
        (cx - w / 2.0, tip - 1.5 * r),
        Label {
            halo: true,
            ..Label::bold(size)
        },
    );
}

/// The frame around the map with outward ticks at every grid line and the
/// coordinates beside them: eastings (Y of Vietnamese survey practice)
/// above and below, northings (X) left and right, read bottom to top.
fn draw_frame(pm: &mut Pixmap, f: &Frame, m: f32, fonts: &Fonts, g: &mut GlyphCache, step: f64) {
    let r = f.r;
    let (w, h) = (f.w as f32, f.h as f32);
    let tick = 5.0 * r;
    let size = 9.0 * r;
    let mut b = PathBuilder::new();
    if let Some(rect) = tiny_skia::Rect::from_xywh(m, m, w, h) {
        b.push_rect(rect);
    }
    let easts = grid_values(f.bbox[0], f.bbox[2], step);
    let norths = grid_values(f.bbox[1], f.bbox[3], step);
    for &e in &easts {
        let (x, _) = f.px(Coord { x: e, y: f.bbox[3] });
        b.move_to(m + x, m);
        b.line_to(m + x, m - tick);
        b.move_to(m + x, m + h);
        b.line_to(m + x, m + h + tick);
    }
    for &n in &norths {
        let (_, y) = f.px(Coord { x: f.bbox[0], y: n });
        b.move_to(m, m + y);
        b.line_to(m - tick, m + y);
        b.move_to(m + w, m + y);
        b.line_to(m + w + tick, m + y);
    }
    if let Some(p) = b.finish() {
        let s = Stroke {
            width: 1.2 * r,
            ..Stroke::default()
        };
        pm.stroke_path(&p, &paint(BLACK), &s, Transform::identity(), None);
    }
    let label = |v: f64| format!("{}", v.round() as i64);
    for &e in &easts {
        let (x, _) = f.px(Coord { x: e, y: f.bbox[3] });
        let t = label(e);
        let tw = text_width(fonts, g, &t, size);
        let lx = m + x - tw / 2.0;
        // Labels that would run off the frame's corners are left out.
        if lx < m * 0.6 || lx + tw > m + w + m * 0.4 {
            continue;
        }
        for ly in [m - tick - 2.0 * r, m + h + tick + size] {
            draw_text(pm, fonts, g, &t, (lx, ly), Label::plain(size));
        }
    }
    for &n in &norths {
        let (_, y) = f.px(Coord { x: f.bbox[0], y: n });
        let t = label(n);
        let tw = text_width(fonts, g, &t, size);
        let ly = m + y + tw / 2.0;
        if ly - tw < m * 0.6 || ly > m + h + m * 0.4 {
            continue;
        }
        // Turned a quarter anticlockwise, reading upwards.
        let upwards = Label {
            angle: -90.0,
            ..Label::plain(size)
        };
        for lx in [m - tick - 2.0 * r, m + w + tick + size] {
            draw_text(pm, fonts, g, &t, (lx, ly), upwards);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_parcel_gets_the_smallest_usual_scale_it_fits_at() {
        // A 30 × 20 m parcel on a 170 × 110 mm map: 1:200 gives 34 × 22 m,
        // too tight with the margin; 1:500 fits.
        let p = Rect::new(
            Coord {
                x: 561_000.0,
                y: 1_756_000.0,
            },
            Coord {
                x: 561_030.0,
                y: 1_756_020.0,
            },
        );
        let (bbox, scale) = frame_around(p, (170.0, 110.0), 200);
        assert_eq!(scale, 500);
        assert_eq!(frame_around(p, (170.0, 110.0), 1000).1, 1000);
        assert!((bbox[2] - bbox[0] - 85.0).abs() < 1e-6);
        assert!(((bbox[0] + bbox[2]) / 2.0 - 561_015.0).abs() < 1e-6);
    }

    #[test]
    fn grid_steps_and_scale_bar_lengths_are_round_numbers() {
        assert_eq!(nice_step(170.0, 5.0), 50.0);
        assert_eq!(nice_step(85.0, 5.0), 20.0);
        assert_eq!(nice_step(4200.0, 5.0), 1000.0);
        assert_eq!(nice_length(42.5), 20.0);
        assert_eq!(nice_length(60.0), 50.0);
        assert_eq!(thousands(12_500), "12.500");
        assert_eq!(thousands(500), "500");
    }

    #[test]
    fn grid_values_fall_inside_the_window_on_the_step() {
        assert_eq!(
            grid_values(561_012.0, 561_130.0, 50.0),
            vec![561_050.0, 561_100.0]
        );
    }
}
