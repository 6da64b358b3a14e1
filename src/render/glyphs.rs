//! Font glyphs for map labels in the format MapLibre asks for at
//! `glyphs: ".../{fontstack}/{range}.pbf"`: signed distance fields of 256
//! code points at 24 px with a 3 px border, in the glyphs protobuf.
//!
//! Glyphs are made here from TrueType fonts on the machine (Debian's
//! `fonts-dejavu-core` covers Vietnamese, with precomposed letters such as
//! ạ ầ ử in U+1E00–U+1EFF), so the map needs no glyph server or CDN. A range
//! is rendered once and kept.

use ab_glyph::{Font, FontVec, PxScale, ScaleFont};
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

/// Font size of the SDF glyphs (MapLibre's ONE_EM).
const SIZE: f32 = 24.0;
/// Border around each glyph bitmap.
const BORDER: i32 = 3;
/// Distance, in pixels, the field spans.
const RADIUS: f32 = 8.0;
/// Share of the field inside the outline (the edge is at 192 / 255).
const CUTOFF: f32 = 0.25;

/// Errors of glyph requests.
#[derive(Debug, thiserror::Error)]
pub enum GlyphError {
    /// No font of the stack is installed.
    #[error("no font of the stack '{0}' is available; fonts: {1}")]
    UnknownFont(String, String),
    /// The range is not 256 code points starting at a multiple of 256.
    #[error("glyph range '{0}' must be START-END with START a multiple of 256 and END = START + 255, below 65536")]
    BadRange(String),
}

struct Face {
    font: FontVec,
}

/// A rendered range: font name and first code point.
type RangeKey = (String, u32);

/// Fonts by name ("DejaVu Sans", "DejaVu Sans Bold") and rendered ranges.
pub struct Glyphs {
    faces: HashMap<String, Arc<Face>>,
    cache: Mutex<HashMap<RangeKey, Arc<Vec<u8>>>>,
}

/// A font's display name ("DejaVu Sans Bold"): family plus a
/// non-regular style, from the name table.
pub(crate) fn font_name(data: &[u8]) -> Option<String> {
    let face = ttf_parser::Face::parse(data, 0).ok()?;
    let name = |ids: &[u16]| {
        ids.iter().find_map(|id| {
            face.names()
                .into_iter()
                .filter(|n| n.name_id == *id && n.is_unicode())
                .find_map(|n| n.to_string())
        })
    };
    let family = name(&[16, 1])?;
    let style = name(&[17, 2]).unwrap_or_default();
    Some(match style.as_str() {
        "" | "Regular" | "Book" | "Normal" => family,
        s => format!("{family} {s}"),
    })
}

/// The fonts of a directory: every `.ttf`/`.otf` that reads and names
/// itself, in file-name order, the first file of each name only (a
/// missing directory has none). Map labels, glyph PBFs and printed
/// documents all find their fonts through it.
pub(crate) fn font_files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .map(|rd| rd.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    paths.sort();
    let mut out: Vec<(String, Vec<u8>)> = Vec::new();
    for p in paths {
        let ext = p.extension().and_then(|x| x.to_str()).unwrap_or("");
        if !matches!(ext.to_ascii_lowercase().as_str(), "ttf" | "otf") {
            continue;
        }
        let Ok(data) = std::fs::read(&p) else {
            continue;
        };
        let Some(name) = font_name(&data) else {
            continue;
        };
        if !out.iter().any(|(n, _)| *n == name) {
            out.push((name, data));
        }
    }
    out
}

impl Glyphs {
    /// Loads every `.ttf` / `.otf` of a directory (missing directory: no
    /// fonts, and every request says so).
    pub fn load(dir: &Path) -> Glyphs {
        let mut faces = HashMap::new();
        for (name, data) in font_files(dir) {
            if let Ok(font) = FontVec::try_from_vec(data) {
                faces.entry(name).or_insert_with(|| Arc::new(Face { font }));
            }
        }
        Glyphs {
            faces,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// Names of the loaded fonts.
    pub fn names(&self) -> Vec<String> {
        let mut v: Vec<String> = self.faces.keys().cloned().collect();
        v.sort();
        v
    }

    /// The glyphs PBF of a font stack (comma list: first installed font
    /// wins) and a range such as `0-255`.
    pub fn range(&self, stack: &str, range: &str) -> Result<Arc<Vec<u8>>, GlyphError> {
        let start = parse_range(range).ok_or_else(|| GlyphError::BadRange(range.to_owned()))?;
        let (name, face) = stack
            .split(',')
            .map(str::trim)
            .find_map(|n| self.faces.get(n).map(|f| (n.to_owned(), f.clone())))
            .ok_or_else(|| GlyphError::UnknownFont(stack.to_owned(), self.names().join(", ")))?;
        let key = (name.clone(), start);
        if let Some(hit) = self
            .cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
        {
            return Ok(hit.clone());
        }
        let pbf = Arc::new(render_range(&face.font, stack, start));
        self.cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, pbf.clone());
        Ok(pbf)
    }
}

fn parse_range(r: &str) -> Option<u32> {
    let (a, b) = r.split_once('-')?;
    let (a, b): (u32, u32) = (a.parse().ok()?, b.parse().ok()?);
    (a % 256 == 0 && b == a + 255 && b < 65536).then_some(a)
}

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn field_bytes(out: &mut Vec<u8>, field: u32, b: &[u8]) {
    varint(out, u64::from(field << 3 | 2));
    varint(out, b.len() as u64);
    out.extend_from_slice(b);
}

fn field_u(out: &mut Vec<u8>, field: u32, v: u64) {
    varint(out, u64::from(field << 3));
    varint(out, v);
}

fn field_s(out: &mut Vec<u8>, field: u32, v: i64) {
    field_u(out, field, ((v << 1) ^ (v >> 63)) as u64);
}

/// One glyph: metrics and its SDF bitmap ((width + 6) × (height + 6)).
struct Sdf {
    width: u32,
    height: u32,
    left: i32,
    top: i32,
    advance: u32,
    bitmap: Vec<u8>,
}

fn render_glyph(font: &FontVec, ch: char) -> Option<Sdf> {
    let id = font.glyph_id(ch);
    if id.0 == 0 {
        return None;
    }
    let upem = font.units_per_em()?;
    // ab_glyph scales by the font's height; MapLibre's 24 px is the em.
    let scale = PxScale::from(SIZE * font.height_unscaled() / upem);
    let scaled = font.as_scaled(scale);
    let advance = scaled.h_advance(id).round().max(0.0) as u32;
    let ascender = (font.ascent_unscaled() * SIZE / upem).round() as i32;
    let Some(outlined) = font.outline_glyph(id.with_scale(scale)) else {
        // A blank glyph (space): metrics only.
        return Some(Sdf {
            width: 0,
            height: 0,
            left: 0,
            top: -ascender,
            advance,
            bitmap: Vec::new(),
        });
    };
    let b = outlined.px_bounds();
    let (w, h) = (b.width() as i32, b.height() as i32);
    let (bw, bh) = (w + 2 * BORDER, h + 2 * BORDER);
    let mut cover = vec![0f32; (bw * bh) as usize];
    outlined.draw(|x, y, c| {
        let (x, y) = (x as i32 + BORDER, y as i32 + BORDER);
        if x < bw && y < bh {
            cover[(y * bw + x) as usize] = c;
        }
    });
    // Signed distance to the outline, from coverage: the nearest pixel on
    // the other side, less the sub-pixel edge the coverage tells.
    let inside = |x: i32, y: i32| -> bool {
        x >= 0 && y >= 0 && x < bw && y < bh && cover[(y * bw + x) as usize] >= 0.5
    };
    let r = RADIUS.ceil() as i32;
    let mut bitmap = vec![0u8; (bw * bh) as usize];
    for y in 0..bh {
        for x in 0..bw {
            let me = inside(x, y);
            let mut best = RADIUS;
            for dy in -r..=r {
                for dx in -r..=r {
                    if inside(x + dx, y + dy) != me {
                        let d = ((dx * dx + dy * dy) as f32).sqrt();
                        if d < best {
                            best = d;
                        }
                    }
                }
            }
            let c = cover[(y * bw + x) as usize];
            let edge = if me { c - 0.5 } else { 0.5 - c };
            let d = (best - 0.5 + edge.clamp(0.0, 0.5)).min(RADIUS);
            let signed = if me { -d } else { d };
            let n = (signed / RADIUS * 256.0 + CUTOFF * 256.0)
                .round()
                .clamp(0.0, 255.0);
            bitmap[(y * bw + x) as usize] = 255 - n as u8;
        }
    }
    Some(Sdf {
        width: w as u32,
        height: h as u32,
        left: b.min.x.round() as i32,
        top: (-b.min.y).round() as i32 - ascender,
        advance,
        bitmap,
    })
}

fn render_range(font: &FontVec, stack: &str, start: u32) -> Vec<u8> {
    let mut fs = Vec::new();
    field_bytes(&mut fs, 1, stack.as_bytes());
    field_bytes(&mut fs, 2, format!("{}-{}", start, start + 255).as_bytes());
    let mut g = Vec::new();
    for cp in start..=start + 255 {
        let Some(ch) = char::from_u32(cp) else {
            continue;
        };
        let Some(s) = render_glyph(font, ch) else {
            continue;
        };
        g.clear();
        field_u(&mut g, 1, u64::from(cp));
        if !s.bitmap.is_empty() {
            field_bytes(&mut g, 2, &s.bitmap);
        }
        field_u(&mut g, 3, u64::from(s.width));
        field_u(&mut g, 4, u64::from(s.height));
        field_s(&mut g, 5, i64::from(s.left));
        field_s(&mut g, 6, i64::from(s.top));
        field_u(&mut g, 7, u64::from(s.advance));
        field_bytes(&mut fs, 3, &g);
    }
    let mut out = Vec::new();
    field_bytes(&mut out, 1, &fs);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEJAVU: &str = "/usr/share/fonts/truetype/dejavu";

    #[test]
    fn ranges_must_be_aligned_blocks_of_256() {
        assert_eq!(parse_range("0-255"), Some(0));
        assert_eq!(parse_range("7680-7935"), Some(7680));
        assert_eq!(parse_range("1-256"), None);
        assert_eq!(parse_range("0-511"), None);
        assert_eq!(parse_range("65536-65791"), None);
        assert_eq!(parse_range("a-b"), None);
    }

    #[test]
    fn vietnamese_letters_get_glyphs_whose_fields_are_inside_at_the_ink() {
        let g = Glyphs::load(Path::new(DEJAVU));
        assert!(
            g.names().contains(&"DejaVu Sans".to_owned()),
            "{:?}",
            g.names()
        );
        // ạ (U+1EA1) lies in the Latin Extended Additional block.
        let face = g.faces["DejaVu Sans"].clone();
        let s = render_glyph(&face.font, 'ạ').unwrap();
        assert!(s.width > 5 && s.height > 10, "{}x{}", s.width, s.height);
        assert_eq!(s.bitmap.len() as u32, (s.width + 6) * (s.height + 6));
        // The border is outside (low values), the ink inside (past 192).
        assert!(s.bitmap[0] < 100);
        assert!(s.bitmap.iter().any(|&v| v > 200));
        // Its dot below puts the bottom under the baseline: top - height
        // reaches lower than a plain 'a' does.
        let a = render_glyph(&face.font, 'a').unwrap();
        assert!(s.top - s.height as i32 <= a.top - a.height as i32 - 2);
        let pbf = g.range("Nope, DejaVu Sans", "7680-7935").unwrap();
        assert!(pbf.len() > 10_000);
        assert!(matches!(
            g.range("Nope", "0-255"),
            Err(GlyphError::UnknownFont(..))
        ));
    }
}
