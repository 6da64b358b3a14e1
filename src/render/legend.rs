//! Legends (WMS GetLegendGraphic) drawn from the same style as the maps:
//! one row per class of a `match` on a property (land-use codes named from
//! the style's `geoplan:legend` metadata, zoning functions, project
//! statuses, road classes), else one row per style layer.

use super::map::{fallback_style, RenderError};
use super::style::{Ctx, Expr, Kind, Rgba, StyleLayer};
use super::text::GlyphCache;
use super::Renderer;
use crate::engine::Layer;
use tiny_skia::{
    FillRule, LineCap, Paint, PathBuilder, Pixmap, Rect, Stroke, StrokeDash, Transform,
};

/// How one legend row's symbol looks.
#[derive(Debug, Clone)]
pub enum Swatch {
    /// A filled square with an optional outline.
    Fill(Rgba, Option<Rgba>),
    /// A horizontal line.
    Line(Rgba, f32, Option<Vec<f32>>),
    /// A circle with a stroke.
    Circle(Rgba, Rgba, f32),
}

/// One row: a swatch and its text.
#[derive(Debug, Clone)]
pub struct Row {
    /// The symbol.
    pub swatch: Swatch,
    /// The label (may be Vietnamese).
    pub label: String,
}

fn colour(e: &Expr, zoom: f64) -> Option<Rgba> {
    e.color(&Ctx {
        zoom,
        feature: None,
    })
}

fn num(e: &Expr, zoom: f64, d: f64) -> f64 {
    e.num(
        &Ctx {
            zoom,
            feature: None,
        },
        d,
    )
}

impl Renderer {
    /// The legend rows of a layer.
    pub fn legend_rows(&self, layer: &Layer) -> Vec<Row> {
        let mut sls: Vec<StyleLayer> = self.style.layers_of(&layer.id).cloned().collect();
        if sls.is_empty() {
            sls = fallback_style(layer);
        }
        let names = self
            .style
            .metadata
            .get("geoplan:legend")
            .and_then(|l| l.get("landuse"));
        let mut rows = Vec::new();
        for sl in &sls {
            // Evaluate zoom expressions where the layer shows well.
            let z = sl.minzoom.max(16.0).min(sl.maxzoom - 0.5);
            let (main, make): (&Expr, Box<dyn Fn(Rgba) -> Swatch>) = match &sl.kind {
                Kind::Fill {
                    color,
                    opacity,
                    outline,
                } => {
                    let op = num(opacity, z, 1.0);
                    let ol = outline.as_ref().and_then(|o| colour(o, z));
                    (
                        color,
                        Box::new(move |c: Rgba| Swatch::Fill(c.with_opacity(op), ol)),
                    )
                }
                Kind::Line {
                    color, width, dash, ..
                } => {
                    let w = num(width, z, 1.0).clamp(0.5, 8.0) as f32;
                    let d = dash.clone();
                    (
                        color,
                        Box::new(move |c: Rgba| Swatch::Line(c, w, d.clone())),
                    )
                }
                Kind::Circle {
                    color,
                    stroke_color,
                    stroke_width,
                    ..
                } => {
                    let sc = colour(stroke_color, z).unwrap_or(Rgba::parse("#000").unwrap());
                    let sw = num(stroke_width, z, 0.0) as f32;
                    (color, Box::new(move |c: Rgba| Swatch::Circle(c, sc, sw)))
                }
                Kind::Symbol(_) => continue,
            };
            match main.match_arms() {
                Some((prop, arms)) => {
                    for (labels, out) in arms {
                        let Some(c) = colour(out, z) else { continue };
                        let text: Vec<String> =
                            labels.iter().map(|l| l.text().into_owned()).collect();
                        let mut label = text.join(", ");
                        if prop == "land_use_code" {
                            if let Some(n) = names
                                .and_then(|m| m.get(&label))
                                .and_then(|e| e.get("name"))
                                .and_then(|n| n.as_str())
                            {
                                label = format!("{label} – {n}");
                            }
                        }
                        rows.push(Row {
                            swatch: make(c),
                            label,
                        });
                    }
                }
                None => {
                    if let Some(c) = colour(main, z) {
                        let label = if rows.is_empty() && !layer.meta.title.is_empty() {
                            layer.meta.title.clone()
                        } else {
                            sl.id.clone()
                        };
                        rows.push(Row {
                            swatch: make(c),
                            label,
                        });
                    }
                }
            }
        }
        rows
    }

    /// The legend of a layer as a pixmap: a title, then one row per class
    /// with a `sw`×`sh` swatch.
    pub fn legend(&self, layer: &Layer, sw: u32, sh: u32) -> Result<Pixmap, RenderError> {
        let rows = self.legend_rows(layer);
        let (sw, sh) = (sw.clamp(8, 64) as f32, sh.clamp(8, 64) as f32);
        let size = 12.0f32;
        let row_h = sh.max(size * 1.4) + 4.0;
        let mut cache = GlyphCache::default();
        let regular = self.fonts.pick(&["DejaVu Sans".to_owned()]);
        let bold = self.fonts.pick(&["DejaVu Sans Bold".to_owned()]);
        let title = if layer.meta.title.is_empty() {
            layer.id.clone()
        } else {
            layer.meta.title.clone()
        };
        let width_of = |cache: &mut GlyphCache, font: Option<usize>, t: &str, s: f32| {
            font.and_then(|f| self.fonts.layout(cache, f, t, s))
                .map(|p| p.width)
                .unwrap_or(t.chars().count() as f32 * s * 0.6)
        };
        let mut w = width_of(&mut cache, bold, &title, size + 1.0) + 8.0;
        for r in &rows {
            w = w.max(sw + 12.0 + width_of(&mut cache, regular, &r.label, size) + 6.0);
        }
        let h = 8.0 + row_h + rows.len() as f32 * row_h;
        let (pw, ph) = (w.ceil().min(2048.0) as u32, h.ceil().min(8192.0) as u32);
        let mut pm = Pixmap::new(pw, ph).ok_or(RenderError::Size(pw, ph))?;
        let text = |pm: &mut Pixmap,
                    cache: &mut GlyphCache,
                    font: Option<usize>,
                    t: &str,
                    s: f32,
                    x: f32,
                    y: f32| {
            if let Some(tp) = font.and_then(|f| self.fonts.layout(cache, f, t, s)) {
                let mut p = Paint::default();
                p.set_color_rgba8(0x22, 0x22, 0x22, 255);
                p.anti_alias = true;
                pm.fill_path(
                    &tp.path,
                    &p,
                    FillRule::Winding,
                    Transform::from_translate(x, y),
                    None,
                );
            }
        };
        text(
            &mut pm,
            &mut cache,
            bold,
            &title,
            size + 1.0,
            4.0,
            4.0 + size + 2.0,
        );
        for (i, r) in rows.iter().enumerate() {
            let top = 8.0 + row_h * (i as f32 + 1.0);
            let (x0, y0) = (4.0f32, top + (row_h - 4.0 - sh) / 2.0);
            draw_swatch(&mut pm, &r.swatch, x0, y0, sw, sh);
            text(
                &mut pm,
                &mut cache,
                regular,
                &r.label,
                size,
                x0 + sw + 8.0,
                top + (row_h - 4.0) / 2.0 + size * 0.35,
            );
        }
        Ok(pm)
    }
}

fn paint(c: Rgba) -> Paint<'static> {
    let mut p = Paint::default();
    p.set_color_rgba8(c.r, c.g, c.b, c.a);
    p.anti_alias = true;
    p
}

fn draw_swatch(pm: &mut Pixmap, s: &Swatch, x: f32, y: f32, w: f32, h: f32) {
    let id = Transform::identity();
    match s {
        Swatch::Fill(c, outline) => {
            if let Some(r) = Rect::from_xywh(x, y, w, h) {
                let path = PathBuilder::from_rect(r);
                pm.fill_path(&path, &paint(*c), FillRule::Winding, id, None);
                let oc = outline.unwrap_or(Rgba {
                    r: 0x88,
                    g: 0x88,
                    b: 0x88,
                    a: 255,
                });
                pm.stroke_path(&path, &paint(oc), &Stroke::default(), id, None);
            }
        }
        Swatch::Line(c, width, dash) => {
            let mut pb = PathBuilder::new();
            pb.move_to(x, y + h / 2.0);
            pb.line_to(x + w, y + h / 2.0);
            if let Some(path) = pb.finish() {
                let st = Stroke {
                    width: *width,
                    line_cap: LineCap::Butt,
                    dash: dash.as_ref().and_then(|d| {
                        StrokeDash::new(d.iter().map(|v| (v * width).max(0.5)).collect(), 0.0)
                    }),
                    ..Stroke::default()
                };
                pm.stroke_path(&path, &paint(*c), &st, id, None);
            }
        }
        Swatch::Circle(c, sc, sw) => {
            let r = (w.min(h) / 2.0 - 1.0 - sw).max(2.0);
            let (cx, cy) = (x + w / 2.0, y + h / 2.0);
            if *sw > 0.0 {
                if let Some(p) = PathBuilder::from_circle(cx, cy, r + sw) {
                    pm.fill_path(&p, &paint(*sc), FillRule::Winding, id, None);
                }
            }
            if let Some(p) = PathBuilder::from_circle(cx, cy, r) {
                pm.fill_path(&p, &paint(*c), FillRule::Winding, id, None);
            }
        }
    }
}
