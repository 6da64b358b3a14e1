//! Text for map labels and legends: TrueType outlines (ab_glyph) turned
//! into tiny-skia paths, laid out left to right with kerning, filled in the
//! text colour over a stroked halo.
//!
//! Why ab_glyph and not a shaping engine: labels are Vietnamese, and text
//! is NFC-normalised at ingest (and again here), so every letter with its
//! diacritics — ạ ầ ử ỹ … — is one precomposed code point that DejaVu has
//! a glyph for (U+1EA0–U+1EF9, Latin-1, Latin Extended-A/B). No reordering,
//! ligatures or mark positioning is needed for that, and ab_glyph is
//! already a dependency (the SDF glyphs use it). A decomposed mark that
//! survives normalisation is placed over the letter before it.

use ab_glyph::{Font, FontVec, GlyphId, OutlineCurve};
use std::collections::HashMap;
use std::path::Path;
use tiny_skia::{Path as SkPath, PathBuilder, Transform};

/// The fonts labels may use, by name ("DejaVu Sans", "DejaVu Sans Bold").
pub struct Fonts {
    faces: Vec<(String, FontVec)>,
}

impl std::fmt::Debug for Fonts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.faces.iter().map(|(n, _)| n))
            .finish()
    }
}

impl Fonts {
    /// Loads every `.ttf`/`.otf` of a directory (none: labels are skipped).
    pub fn load(dir: &Path) -> Fonts {
        let mut faces: Vec<(String, FontVec)> = Vec::new();
        for (name, data) in super::glyphs::font_files(dir) {
            if let Ok(f) = FontVec::try_from_vec(data) {
                faces.push((name, f));
            }
        }
        // "DejaVu Sans" first: the fallback when a stack names nothing
        // installed.
        faces.sort_by_key(|(n, _)| (n != "DejaVu Sans", n.clone()));
        Fonts { faces }
    }

    /// True when no font is installed.
    pub fn is_empty(&self) -> bool {
        self.faces.is_empty()
    }

    /// Index of the first font of `stack` that is installed, else the
    /// default font; `None` without fonts.
    pub fn pick(&self, stack: &[String]) -> Option<usize> {
        stack
            .iter()
            .find_map(|n| self.faces.iter().position(|(f, _)| f == n))
            .or((!self.faces.is_empty()).then_some(0))
    }
}

/// Glyph outlines of one render, cached by font and glyph.
#[derive(Default)]
pub struct GlyphCache {
    paths: HashMap<(usize, GlyphId), Option<SkPath>>,
}

/// A laid-out line of text: one path in pixels with its origin at the
/// left end of the baseline, and its advance width and em metrics.
pub struct TextPath {
    /// The outline, y down.
    pub path: SkPath,
    /// Advance width, pixels.
    pub width: f32,
    /// Ascent above the baseline, pixels.
    pub ascent: f32,
    /// Descent below the baseline, pixels (positive).
    pub descent: f32,
}

fn outline_path(font: &FontVec, id: GlyphId) -> Option<SkPath> {
    let o = font.outline(id)?;
    let mut pb = PathBuilder::new();
    let mut last: Option<ab_glyph::Point> = None;
    // Font units, y up; flipped to y down here.
    for c in &o.curves {
        let (start, end) = match c {
            OutlineCurve::Line(a, b) => (*a, *b),
            OutlineCurve::Quad(a, _, b) => (*a, *b),
            OutlineCurve::Cubic(a, _, _, b) => (*a, *b),
        };
        if last != Some(start) {
            if last.is_some() {
                pb.close();
            }
            pb.move_to(start.x, -start.y);
        }
        match c {
            OutlineCurve::Line(_, b) => pb.line_to(b.x, -b.y),
            OutlineCurve::Quad(_, c1, b) => pb.quad_to(c1.x, -c1.y, b.x, -b.y),
            OutlineCurve::Cubic(_, c1, c2, b) => pb.cubic_to(c1.x, -c1.y, c2.x, -c2.y, b.x, -b.y),
        }
        last = Some(end);
    }
    if last.is_some() {
        pb.close();
    }
    pb.finish()
}

fn is_mark(c: char) -> bool {
    matches!(c as u32, 0x0300..=0x036F | 0x1DC0..=0x1DFF | 0x20D0..=0x20FF)
}

/// Glyphs of a laid-out line: font, glyph and pen position (pixels from
/// the line's origin), with the line's metrics.
pub struct GlyphRun {
    /// Font index.
    pub font: usize,
    /// Glyphs and their x offsets, pixels.
    pub glyphs: Vec<(GlyphId, f32)>,
    /// Font size, pixels.
    pub size: f32,
    /// Advance width, pixels.
    pub width: f32,
    /// Ascent above the baseline, pixels.
    pub ascent: f32,
    /// Descent below the baseline, pixels (positive).
    pub descent: f32,
}

impl Fonts {
    /// Places the glyphs of `text` (NFC-normalised) in font `font` at
    /// `size` pixels, with kerning; `None` for an unknown font.
    pub fn run(&self, font: usize, text: &str, size: f32) -> Option<GlyphRun> {
        use unicode_normalization::UnicodeNormalization;
        let (_, f) = self.faces.get(font)?;
        let upem = f.units_per_em().unwrap_or(2048.0);
        let scale = size / upem;
        let mut glyphs = Vec::new();
        let mut x = 0.0f32;
        let mut prev: Option<GlyphId> = None;
        let mut prev_x = 0.0f32;
        let mut prev_adv = 0.0f32;
        for ch in text.nfc() {
            if ch.is_control() {
                continue;
            }
            let id = f.glyph_id(ch);
            let adv = f.h_advance_unscaled(id);
            // A combining mark is centred over the letter before it.
            let at = if is_mark(ch) && prev.is_some() {
                prev_x + (prev_adv - adv) / 2.0
            } else {
                if let Some(p) = prev {
                    x += f.kern_unscaled(p, id);
                }
                x
            };
            glyphs.push((id, at * scale));
            if !is_mark(ch) || prev.is_none() {
                prev_x = x;
                prev_adv = adv;
                x += adv;
                prev = Some(id);
            }
        }
        Some(GlyphRun {
            font,
            glyphs,
            size,
            width: x * scale,
            ascent: f.ascent_unscaled() * scale,
            descent: -f.descent_unscaled() * scale,
        })
    }

    /// Lays out `text` in font `font` at `size` pixels as one path; `None`
    /// for empty text or text without any drawable glyph.
    pub fn layout(
        &self,
        cache: &mut GlyphCache,
        font: usize,
        text: &str,
        size: f32,
    ) -> Option<TextPath> {
        let run = self.run(font, text, size)?;
        let (_, f) = self.faces.get(font)?;
        let scale = size / f.units_per_em().unwrap_or(2048.0);
        let mut pb = PathBuilder::new();
        for &(id, at) in &run.glyphs {
            let glyph = cache
                .paths
                .entry((font, id))
                .or_insert_with(|| outline_path(f, id));
            if let Some(t) = glyph
                .clone()
                .and_then(|g| g.transform(Transform::from_row(scale, 0.0, 0.0, scale, at, 0.0)))
            {
                pb.push_path(&t);
            }
        }
        Some(TextPath {
            path: pb.finish()?,
            width: run.width,
            ascent: run.ascent,
            descent: run.descent,
        })
    }
}

/// Coverage of one glyph at one size, sub-pixel offset and halo width:
/// the glyph itself and its halo, over the same pixel box.
#[derive(Debug)]
pub struct GlyphMask {
    /// Box left edge relative to the pen position (whole pixels).
    pub left: i32,
    /// Box top edge relative to the baseline (whole pixels).
    pub top: i32,
    /// Box width.
    pub width: u32,
    /// Box height.
    pub height: u32,
    /// Glyph coverage, row-major, 0–255.
    pub fill: Vec<u8>,
    /// Halo coverage (empty without a halo).
    pub halo: Vec<u8>,
}

/// (font, glyph, size ×4, halo width ×4, sub-pixel x ×4).
type MaskKey = (usize, u16, u16, u16, u8);

/// Glyph coverage masks shared by every render: labels repeat the same
/// few dozen glyphs (digits, `/`, land-use codes), so each is rasterised
/// once and then only blended.
#[derive(Debug, Default)]
pub struct MaskCache {
    masks: std::sync::RwLock<HashMap<MaskKey, Arc<GlyphMask>>>,
}

/// Bound on cached masks (a few MB at label sizes).
const MAX_MASKS: usize = 20_000;

use std::sync::Arc;

impl MaskCache {
    /// The mask of a glyph at `size` with its pen at sub-pixel offset
    /// `frac` (0..1) and a halo of `halo` pixels.
    pub fn get(
        &self,
        fonts: &Fonts,
        font: usize,
        id: GlyphId,
        size: f32,
        frac: f32,
        halo: f32,
    ) -> Option<Arc<GlyphMask>> {
        let key: MaskKey = (
            font,
            id.0,
            (size * 4.0).round() as u16,
            (halo * 4.0).round() as u16,
            ((frac * 4.0).floor() as u8).min(3),
        );
        if let Some(m) = self
            .masks
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
        {
            return Some(m.clone());
        }
        let (_, f) = fonts.faces.get(font)?;
        let scale = (f32::from(key.2) / 4.0) / f.units_per_em().unwrap_or(2048.0);
        let halo = f32::from(key.3) / 4.0;
        let dx = f32::from(key.4) / 4.0;
        let path =
            outline_path(f, id)?.transform(Transform::from_row(scale, 0.0, 0.0, scale, dx, 0.0))?;
        let b = path.bounds();
        let pad = halo.ceil() + 1.0;
        let (left, top) = ((b.left() - pad).floor(), (b.top() - pad).floor());
        let (w, h) = (
            ((b.right() + pad).ceil() - left).max(1.0) as u32,
            ((b.bottom() + pad).ceil() - top).max(1.0) as u32,
        );
        let ts = Transform::from_translate(-left, -top);
        let mut fill = tiny_skia::Mask::new(w, h)?;
        fill.fill_path(&path, tiny_skia::FillRule::Winding, true, ts);
        let halo_cov = if halo > 0.0 {
            let stroke = tiny_skia::Stroke {
                width: 2.0 * halo,
                line_join: tiny_skia::LineJoin::Round,
                ..tiny_skia::Stroke::default()
            };
            let mut m = tiny_skia::Mask::new(w, h)?;
            if let Some(sp) = path.stroke(&stroke, 1.0) {
                m.fill_path(&sp, tiny_skia::FillRule::Winding, true, ts);
            }
            m.data().to_vec()
        } else {
            Vec::new()
        };
        let mask = Arc::new(GlyphMask {
            left: left as i32,
            top: top as i32,
            width: w,
            height: h,
            fill: fill.data().to_vec(),
            halo: halo_cov,
        });
        let mut all = self.masks.write().unwrap_or_else(|e| e.into_inner());
        if all.len() >= MAX_MASKS {
            all.clear();
        }
        all.insert(key, mask.clone());
        Some(mask)
    }
}

/// Blends a coverage mask in one colour into a pixmap at (`x`, `y`)
/// (source-over, premultiplied).
pub fn blend(pm: &mut tiny_skia::Pixmap, cov: &[u8], w: u32, h: u32, x: i32, y: i32, c: [u8; 4]) {
    let (pw, ph) = (pm.width() as i32, pm.height() as i32);
    let data = pm.data_mut();
    let ca = u32::from(c[3]);
    for row in 0..h as i32 {
        let py = y + row;
        if py < 0 || py >= ph {
            continue;
        }
        for col in 0..w as i32 {
            let px = x + col;
            if px < 0 || px >= pw {
                continue;
            }
            let k = u32::from(cov[(row as u32 * w + col as u32) as usize]);
            if k == 0 {
                continue;
            }
            // Source alpha and premultiplied colour, 0..255.
            let sa = (k * ca + 127) / 255;
            let i = ((py * pw + px) * 4) as usize;
            let inv = 255 - sa;
            for ch in 0..3 {
                let s = (u32::from(c[ch]) * sa + 127) / 255;
                let d = u32::from(data[i + ch]);
                data[i + ch] = (s + (d * inv + 127) / 255).min(255) as u8;
            }
            let d = u32::from(data[i + 3]);
            data[i + 3] = (sa + (d * inv + 127) / 255).min(255) as u8;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fonts() -> Fonts {
        let f = Fonts::load(Path::new("/usr/share/fonts/truetype/dejavu"));
        assert!(
            !f.is_empty(),
            "fonts-dejavu-core is needed (scripts/deps.sh installs it)"
        );
        f
    }

    #[test]
    fn every_vietnamese_letter_has_a_glyph_in_the_label_font() {
        let f = fonts();
        let i = f.pick(&["DejaVu Sans".to_owned()]).unwrap();
        let font = &f.faces[i].1;
        let letters = "aàáảãạăằắẳẵặâầấẩẫậeèéẻẽẹêềếểễệiìíỉĩịoòóỏõọôồốổỗộơờớởỡợuùúủũụưừứửữựyỳýỷỹỵđ";
        for c in letters.chars().chain(letters.to_uppercase().chars()) {
            assert_ne!(font.glyph_id(c).0, 0, "no glyph for {c}");
        }
    }

    #[test]
    fn diacritics_are_drawn_above_and_below_the_letter() {
        let f = fonts();
        let i = f.pick(&["DejaVu Sans".to_owned()]).unwrap();
        let mut c = GlyphCache::default();
        let b = |t: &str, c: &mut GlyphCache| f.layout(c, i, t, 20.0).unwrap().path.bounds();
        let (plain, hat, dot) = (b("A", &mut c), b("Ẫ", &mut c), b("Ạ", &mut c));
        // y grows downwards: the tilde-circumflex reaches higher, the dot
        // below lower, and the letter keeps its advance.
        assert!(hat.top() < plain.top() - 3.0, "{hat:?} vs {plain:?}");
        assert!(dot.bottom() > plain.bottom() + 2.0, "{dot:?} vs {plain:?}");
        // Decomposed input (NFD) is drawn like the precomposed letters.
        let nfc = f.layout(&mut c, i, "Đà Nẵng", 20.0).unwrap();
        let nfd = f
            .layout(&mut c, i, "Đa\u{300} Na\u{306}\u{303}ng", 20.0)
            .unwrap();
        assert_eq!(nfc.width, nfd.width);
        assert_eq!(nfc.path.bounds(), nfd.path.bounds());
    }
}
