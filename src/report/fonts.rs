//! The document fonts and the text they set: four DejaVu faces read from
//! the font directory, text shaped with rustybuzz (the HarfBuzz port krilla
//! itself uses), measured, and broken into lines that fit a width.
//!
//! Shaping rather than summing advances: the same glyphs are measured and
//! drawn, so a line that was measured to fit does fit, and a decomposed
//! Vietnamese mark that survives NFC still sits over its letter.

use super::ReportError;
use krilla::text::{Font, GlyphId, KrillaGlyph};
use std::path::Path;
use std::sync::Arc;

/// One of the document's faces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Face {
    /// Body text.
    Regular,
    /// Titles, headings, labels that matter.
    Bold,
    /// The English line under the Vietnamese one.
    Oblique,
    /// Codes and identifiers.
    Mono,
}

/// The font names the faces are looked up by (as the name table gives
/// them, see `render::glyphs::font_name`).
const NAMES: [(Face, &str); 4] = [
    (Face::Regular, "DejaVu Sans"),
    (Face::Bold, "DejaVu Sans Bold"),
    (Face::Oblique, "DejaVu Sans Oblique"),
    (Face::Mono, "DejaVu Sans Mono"),
];

struct Loaded {
    data: Arc<Vec<u8>>,
    pdf: Font,
    ascent: f32,
    descent: f32,
}

/// The faces of every document, loaded once (about 2 MB) and shared.
pub struct DocFonts {
    faces: Vec<Loaded>,
}

impl std::fmt::Debug for DocFonts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DocFonts")
            .field("faces", &self.faces.len())
            .finish()
    }
}

/// Shaped text: glyphs with advances normalised to the em (krilla's
/// convention) and the width at the size it was shaped for.
#[derive(Debug, Clone)]
pub struct Shaped {
    /// The text the glyphs' ranges point into (NFC).
    pub text: String,
    /// The glyphs.
    pub glyphs: Vec<KrillaGlyph>,
    /// Width in points at `size`.
    pub width: f32,
    /// Face.
    pub face: Face,
    /// Size in points.
    pub size: f32,
}

impl DocFonts {
    /// Loads the DejaVu Sans faces (regular, bold, oblique, mono) from a
    /// directory — Debian's `fonts-dejavu-core` puts them in
    /// `/usr/share/fonts/truetype/dejavu`. They cover every Vietnamese
    /// letter. A missing face is an error naming it and the directory.
    pub fn load(dir: &Path) -> Result<DocFonts, ReportError> {
        let mut found: Vec<Option<Arc<Vec<u8>>>> = vec![None; NAMES.len()];
        for (name, data) in crate::render::glyphs::font_files(dir) {
            if let Some(i) = NAMES.iter().position(|(_, n)| *n == name) {
                found[i].get_or_insert_with(|| Arc::new(data));
            }
        }
        let mut faces = Vec::with_capacity(NAMES.len());
        for ((_, name), data) in NAMES.iter().zip(found) {
            let missing = || ReportError::MissingFont {
                name: (*name).to_owned(),
                dir: dir.display().to_string(),
            };
            let data = data.ok_or_else(missing)?;
            let face = ttf_parser::Face::parse(&data, 0).map_err(|_| missing())?;
            let upem = f32::from(face.units_per_em());
            let (ascent, descent) = (
                f32::from(face.ascender()) / upem,
                -f32::from(face.descender()) / upem,
            );
            let pdf = Font::new(krilla::Data::from(data.clone()), 0).ok_or_else(missing)?;
            faces.push(Loaded {
                data,
                pdf,
                ascent,
                descent,
            });
        }
        Ok(DocFonts { faces })
    }

    fn get(&self, face: Face) -> &Loaded {
        &self.faces[NAMES.iter().position(|(f, _)| *f == face).unwrap_or(0)]
    }

    /// The krilla font of a face.
    pub fn pdf_font(&self, face: Face) -> Font {
        self.get(face).pdf.clone()
    }

    /// Ascent above the baseline, points at `size`.
    pub fn ascent(&self, face: Face, size: f32) -> f32 {
        self.get(face).ascent * size
    }

    /// Descent below the baseline (positive), points at `size`.
    pub fn descent(&self, face: Face, size: f32) -> f32 {
        self.get(face).descent * size
    }

    /// Shapes one line of text (NFC-normalised first; control characters
    /// dropped).
    pub fn shape(&self, face: Face, size: f32, text: &str) -> Shaped {
        let text: String = crate::model::nfc(text)
            .chars()
            .filter(|c| !c.is_control())
            .collect();
        let l = self.get(face);
        let glyphs = match rustybuzz::Face::from_slice(&l.data, 0) {
            Some(rb) => shape_with(&rb, &text),
            None => Vec::new(),
        };
        let width = glyphs.iter().map(|g| g.x_advance).sum::<f32>() * size;
        Shaped {
            text,
            glyphs,
            width,
            face,
            size,
        }
    }

    /// Breaks text into lines no wider than `max_width` points: at spaces
    /// where it can, inside a word only when the word alone is too wide.
    /// Explicit line breaks (`\n`) are kept. Every line is shaped for
    /// drawing; an empty text gives no lines.
    pub fn wrap(&self, face: Face, size: f32, text: &str, max_width: f32) -> Vec<Shaped> {
        let mut out = Vec::new();
        for para in crate::model::nfc(text).split('\n') {
            let words: Vec<&str> = para.split_whitespace().collect();
            if words.is_empty() {
                continue;
            }
            let space = self.shape(face, size, " ").width;
            let mut line = String::new();
            let mut width = 0.0f32;
            for w in words {
                let ww = self.shape(face, size, w).width;
                if !line.is_empty() && width + space + ww <= max_width {
                    line.push(' ');
                    line.push_str(w);
                    width += space + ww;
                    continue;
                }
                if !line.is_empty() {
                    out.push(self.shape(face, size, &std::mem::take(&mut line)));
                }
                if ww <= max_width {
                    line = w.to_owned();
                    width = ww;
                } else {
                    // A word wider than the line (a long URL): cut it by
                    // characters.
                    let mut piece = String::new();
                    for ch in w.chars() {
                        piece.push(ch);
                        if self.shape(face, size, &piece).width > max_width && piece.len() > 1 {
                            piece.pop();
                            out.push(self.shape(face, size, &piece));
                            piece = ch.to_string();
                        }
                    }
                    width = self.shape(face, size, &piece).width;
                    line = piece;
                }
            }
            if !line.is_empty() {
                out.push(self.shape(face, size, &line));
            }
        }
        out
    }

    /// As [`DocFonts::wrap`], but with lines of about equal width (for
    /// centred titles): the narrowest width that needs no more lines.
    pub fn wrap_balanced(&self, face: Face, size: f32, text: &str, max_width: f32) -> Vec<Shaped> {
        let lines = self.wrap(face, size, text, max_width);
        if lines.len() < 2 {
            return lines;
        }
        let n = lines.len();
        let (mut lo, mut hi) = (max_width / n as f32, max_width);
        for _ in 0..12 {
            let mid = (lo + hi) / 2.0;
            if self.wrap(face, size, text, mid).len() > n {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        self.wrap(face, size, text, hi)
    }
}

/// Shapes with rustybuzz, left to right, into krilla glyphs whose ranges
/// point at the characters (cluster) each glyph draws, so that copying
/// text out of the PDF gives the text back.
fn shape_with(face: &rustybuzz::Face<'_>, text: &str) -> Vec<KrillaGlyph> {
    let mut buf = rustybuzz::UnicodeBuffer::new();
    buf.push_str(text);
    buf.guess_segment_properties();
    buf.set_direction(rustybuzz::Direction::LeftToRight);
    let out = rustybuzz::shape(face, &[], buf);
    let upem = f32::from(face.units_per_em() as u16);
    let infos = out.glyph_infos();
    let pos = out.glyph_positions();
    let mut glyphs = Vec::with_capacity(infos.len());
    for (i, (info, p)) in infos.iter().zip(pos).enumerate() {
        let start = info.cluster as usize;
        let end = infos[i..]
            .iter()
            .map(|g| g.cluster as usize)
            .find(|&c| c != start)
            .unwrap_or(text.len());
        glyphs.push(KrillaGlyph::new(
            GlyphId::new(info.glyph_id),
            p.x_advance as f32 / upem,
            p.x_offset as f32 / upem,
            p.y_offset as f32 / upem,
            p.y_advance as f32 / upem,
            start..end,
            None,
        ));
    }
    glyphs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fonts() -> DocFonts {
        DocFonts::load(Path::new("/usr/share/fonts/truetype/dejavu")).unwrap()
    }

    #[test]
    fn vietnamese_in_nfd_shapes_to_the_same_width_as_in_nfc() {
        let f = fonts();
        let nfc = f.shape(Face::Regular, 10.0, "Thửa đất số 345");
        let nfd = f.shape(
            Face::Regular,
            10.0,
            "Thu\u{31b}\u{309}a \u{111}a\u{302}\u{301}t so\u{302}\u{301} 345",
        );
        assert_eq!(nfc.text, nfd.text);
        assert!((nfc.width - nfd.width).abs() < 1e-3);
        // Every letter has a glyph: no .notdef (glyph 0).
        assert!(nfc.glyphs.iter().all(|g| g.glyph_id.to_u32() != 0));
    }

    #[test]
    fn wrapped_lines_fit_the_width_and_keep_every_word() {
        let f = fonts();
        let text = "Phiếu thông tin quy hoạch là thông tin, không phải chứng chỉ quy hoạch; \
                    https://gis.danang.gov.vn/geoplan/planning/sheet/verify/7K3QZM9X2D";
        let lines = f.wrap(Face::Regular, 10.0, text, 120.0);
        assert!(lines.len() > 3);
        assert!(lines.iter().all(|l| l.width <= 120.0 + 1e-3), "{lines:?}");
        let joined: String = lines
            .iter()
            .map(|l| l.text.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        assert_eq!(joined.replace(' ', ""), text.replace(' ', ""));
    }

    #[test]
    fn a_missing_font_is_named_with_the_directory() {
        let e = DocFonts::load(Path::new("/nonexistent")).unwrap_err();
        assert!(
            e.to_string().contains("DejaVu Sans") && e.to_string().contains("/nonexistent"),
            "{e}"
        );
    }
}
