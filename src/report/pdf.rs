//! A document as an A4 PDF: the model is laid out into pages of drawing
//! operations first (so every footer can say "page 2 of 3"), then the
//! operations are written with krilla, which embeds a subset of each font
//! with a ToUnicode map (text copies and searches with its diacritics)
//! and the figures as images.
//!
//! Units are PostScript points (1/72 in), y grows downwards from the top
//! of the page, as in krilla.

use super::doc::{Align, Block, Document, Field, Figure, Section, Table, Text};
use super::fonts::{DocFonts, Face, Shaped};
use super::ReportError;
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect, Size, Transform};
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};

/// A4, portrait.
pub const PAGE_WIDTH: f32 = 595.276;
/// A4, portrait.
pub const PAGE_HEIGHT: f32 = 841.89;
const MARGIN_X: f32 = 51.0; // 18 mm
const TOP: f32 = 45.0;
/// The body ends here; the footer sits below.
const BOTTOM: f32 = PAGE_HEIGHT - 62.0;
const WIDTH: f32 = PAGE_WIDTH - 2.0 * MARGIN_X;
const MM: f32 = 72.0 / 25.4;

/// Colours, sRGB.
type Rgb = (u8, u8, u8);
const INK: Rgb = (0x1a, 0x1a, 0x1a);
const GREY: Rgb = (0x5a, 0x63, 0x6e);
const RULE: Rgb = (0xc4, 0xcb, 0xd3);
const ACCENT: Rgb = (0x0b, 0x3d, 0x6e);
const HEAD_FILL: Rgb = (0xe6, 0xed, 0xf4);
const ZEBRA: Rgb = (0xf5, 0xf7, 0xfa);
const NOTE_FILL: Rgb = (0xff, 0xf6, 0xdc);
const NOTE_LINE: Rgb = (0xc9, 0x8b, 0x00);

/// One drawing operation on a page.
#[derive(Debug, Clone)]
enum Op {
    /// Shaped text with its baseline at `y`.
    Text {
        x: f32,
        y: f32,
        line: Shaped,
        color: Rgb,
    },
    /// A rectangle, filled and/or outlined.
    Rect {
        rect: [f32; 4],
        fill: Option<Rgb>,
        stroke: Option<(Rgb, f32)>,
    },
    /// A straight line.
    Line {
        from: [f32; 2],
        to: [f32; 2],
        color: Rgb,
        width: f32,
    },
    /// Figure `index` of the document, in a box.
    Image { rect: [f32; 4], index: usize },
}

/// Pages of operations, and where the body continues.
struct Layout<'a> {
    fonts: &'a DocFonts,
    pages: Vec<Vec<Op>>,
    y: f32,
    figures: Vec<&'a Figure>,
}

/// Leading: line height as a multiple of the size.
const LEADING: f32 = 1.32;

impl<'a> Layout<'a> {
    fn new(fonts: &'a DocFonts) -> Layout<'a> {
        Layout {
            fonts,
            pages: vec![Vec::new()],
            y: TOP,
            figures: Vec::new(),
        }
    }

    fn ops(&mut self) -> &mut Vec<Op> {
        self.pages.last_mut().expect("there is always a page")
    }

    fn new_page(&mut self) {
        self.pages.push(Vec::new());
        self.y = TOP;
    }

    /// Starts a new page unless `h` points still fit on this one.
    fn ensure(&mut self, h: f32) {
        if self.y + h > BOTTOM && self.y > TOP {
            self.new_page();
        }
    }

    fn wrap(&self, face: Face, size: f32, text: &str, width: f32) -> Vec<Shaped> {
        self.fonts.wrap(face, size, text, width)
    }

    /// Height of `n` lines at `size`.
    fn lines_height(n: usize, size: f32) -> f32 {
        n as f32 * size * LEADING
    }

    /// Draws lines from the top `top`, left-aligned at `x`, right-aligned
    /// in a box `x..x+w`, or centred in it.
    fn put_lines(&mut self, lines: &[Shaped], x: f32, w: f32, top: f32, how: Place, color: Rgb) {
        for (i, l) in lines.iter().enumerate() {
            let size = l.size;
            let baseline =
                top + i as f32 * size * LEADING + self.fonts.ascent(l.face, size) + size * 0.05;
            let lx = match how {
                Place::Left => x,
                Place::Right => x + w - l.width,
                Place::Centre => x + (w - l.width) / 2.0,
            };
            self.ops().push(Op::Text {
                x: lx,
                y: baseline,
                line: l.clone(),
                color,
            });
        }
    }

    fn rule(&mut self, y: f32, color: Rgb, width: f32) {
        self.ops().push(Op::Line {
            from: [MARGIN_X, y],
            to: [MARGIN_X + WIDTH, y],
            color,
            width,
        });
    }

    /// Vietnamese in `face`, English under it in oblique grey, wrapped to
    /// `w`: the lines of both, and their height.
    fn bilingual(
        &self,
        t: &Text,
        face: Face,
        size: f32,
        en_size: f32,
        w: f32,
    ) -> (Vec<Shaped>, Vec<Shaped>, f32) {
        let vi = self.wrap(face, size, &t.vi, w);
        let en =
            t.en.as_deref()
                .map(|e| self.wrap(Face::Oblique, en_size, e, w))
                .unwrap_or_default();
        let h = Self::lines_height(vi.len(), size) + Self::lines_height(en.len(), en_size);
        (vi, en, h)
    }

    fn put_bilingual(
        &mut self,
        (vi, en): (&[Shaped], &[Shaped]),
        x: f32,
        w: f32,
        top: f32,
        how: Place,
        color: Rgb,
    ) {
        self.put_lines(vi, x, w, top, how, color);
        let size = vi.first().map_or(0.0, |l| l.size);
        let en_top = top + Self::lines_height(vi.len(), size);
        self.put_lines(en, x, w, en_top, how, GREY);
    }

    // ------------------------------------------------------------ parts

    fn header(&mut self, doc: &Document) {
        let half = WIDTH / 2.0;
        let mut bottom = self.y;
        for (col, lines, bold_all) in [
            (0.0, &doc.header_left, false),
            (half, &doc.header_right, true),
        ] {
            let mut y = self.y;
            for (i, text) in lines.iter().enumerate() {
                let last = i + 1 == lines.len();
                let face = if bold_all || last {
                    Face::Bold
                } else {
                    Face::Regular
                };
                let shaped = self.wrap(face, 8.5, text, half - 8.0);
                self.put_lines(&shaped, MARGIN_X + col, half, y, Place::Centre, INK);
                y += Self::lines_height(shaped.len(), 8.5);
                if last {
                    // The short rule under the issuing body and the motto.
                    let w = shaped.iter().map(|l| l.width).fold(0.0, f32::max) * 0.45;
                    let cx = MARGIN_X + col + half / 2.0;
                    self.ops().push(Op::Line {
                        from: [cx - w / 2.0, y + 1.5],
                        to: [cx + w / 2.0, y + 1.5],
                        color: INK,
                        width: 0.6,
                    });
                    y += 4.0;
                }
            }
            bottom = bottom.max(y);
        }
        self.y = bottom + if bottom > TOP { 18.0 } else { 0.0 };
    }

    fn title(&mut self, doc: &Document) {
        let vi = self
            .fonts
            .wrap_balanced(Face::Bold, 15.0, &doc.title.vi, WIDTH);
        let en = doc
            .title
            .en
            .as_deref()
            .map(|e| self.wrap(Face::Oblique, 10.0, e, WIDTH))
            .unwrap_or_default();
        let h = Self::lines_height(vi.len(), 15.0) + Self::lines_height(en.len(), 10.0);
        self.put_bilingual((&vi, &en), MARGIN_X, WIDTH, self.y, Place::Centre, ACCENT);
        self.y += h + 4.0;
        if let Some(s) = &doc.subtitle {
            let lines = self.wrap(Face::Regular, 10.5, s, WIDTH);
            self.put_lines(&lines, MARGIN_X, WIDTH, self.y, Place::Centre, INK);
            self.y += Self::lines_height(lines.len(), 10.5);
        }
        self.y += 6.0;
        self.rule(self.y, ACCENT, 1.0);
        self.y += 10.0;
    }

    fn section(&mut self, s: &'a Section) {
        let (vi, _, _) = self.bilingual(&s.heading, Face::Bold, 11.0, 8.5, WIDTH);
        // Heading and English on one line when they fit.
        let en = s.heading.en.as_deref().unwrap_or("");
        let en_line = (!en.is_empty()).then(|| self.fonts.shape(Face::Oblique, 8.5, en));
        let one_line = vi.len() == 1
            && en_line
                .as_ref()
                .is_none_or(|e| vi[0].width + 10.0 + e.width <= WIDTH);
        let h = if one_line {
            11.0 * LEADING
        } else {
            Self::lines_height(vi.len(), 11.0) + 8.5 * LEADING
        };
        // Keep a heading with the first lines of what it heads, or with
        // the whole figure it heads.
        let first = match s.blocks.first() {
            Some(Block::Figure(f)) => self.figure_size(f).1,
            _ => 48.0,
        };
        self.ensure(h + 12.0 + first);
        self.y += 6.0;
        let top = self.y;
        self.put_lines(&vi, MARGIN_X, WIDTH, top, Place::Left, ACCENT);
        if let Some(e) = en_line {
            if one_line {
                let x = MARGIN_X + vi[0].width + 10.0;
                // Same baseline as the heading.
                let base = top + self.fonts.ascent(Face::Bold, 11.0) + 11.0 * 0.05;
                self.ops().push(Op::Text {
                    x,
                    y: base,
                    line: e,
                    color: GREY,
                });
            } else {
                let lines = self.wrap(Face::Oblique, 8.5, en, WIDTH);
                let t = top + Self::lines_height(vi.len(), 11.0);
                self.put_lines(&lines, MARGIN_X, WIDTH, t, Place::Left, GREY);
            }
        }
        self.y += h + 1.0;
        self.rule(self.y, ACCENT, 0.6);
        self.y += 5.0;
        for b in &s.blocks {
            match b {
                Block::Fields(f) => self.fields(f),
                Block::Table(t) => self.table(t),
                Block::Paragraph(p) => self.paragraph(p),
                Block::Figure(f) => self.figure(f),
            }
        }
        self.y += 4.0;
    }

    fn fields(&mut self, fields: &[Field]) {
        const PAD: f32 = 3.5;
        let label_w = WIDTH * 0.36;
        let value_x = MARGIN_X + label_w + 8.0;
        let value_w = WIDTH - label_w - 8.0;
        for f in fields {
            let (vi, en, lh) = self.bilingual(&f.label, Face::Regular, 8.5, 7.0, label_w);
            let value = self.wrap(Face::Regular, 9.5, &f.value, value_w);
            let vh = Self::lines_height(value.len().max(1), 9.5);
            let h = lh.max(vh) + 2.0 * PAD;
            self.ensure(h);
            let top = self.y + PAD;
            self.put_bilingual((&vi, &en), MARGIN_X, label_w, top, Place::Left, GREY);
            self.put_lines(&value, value_x, value_w, top, Place::Left, INK);
            self.y += h;
            self.rule(self.y, RULE, 0.4);
        }
        self.y += 4.0;
    }

    fn table(&mut self, t: &Table) {
        const PAD: f32 = 3.0;
        let total: f32 = t.columns.iter().map(|c| c.weight.max(0.01)).sum();
        let widths: Vec<f32> = t
            .columns
            .iter()
            .map(|c| WIDTH * c.weight.max(0.01) / total)
            .collect();
        let xs: Vec<f32> = widths
            .iter()
            .scan(MARGIN_X, |x, w| {
                let at = *x;
                *x += w;
                Some(at)
            })
            .collect();
        let header: Vec<(Vec<Shaped>, Vec<Shaped>, f32)> = t
            .columns
            .iter()
            .zip(&widths)
            .map(|(c, w)| self.bilingual(&c.label, Face::Bold, 8.0, 6.8, w - 2.0 * PAD))
            .collect();
        let header_h = header.iter().map(|h| h.2).fold(0.0, f32::max) + 2.0 * PAD;
        let rows: Vec<(Vec<Vec<Shaped>>, f32)> = t
            .rows
            .iter()
            .map(|r| {
                let cells: Vec<Vec<Shaped>> = widths
                    .iter()
                    .enumerate()
                    .map(|(i, w)| {
                        let s = r.get(i).map(String::as_str).unwrap_or("");
                        self.wrap(Face::Regular, 8.5, s, w - 2.0 * PAD)
                    })
                    .collect();
                let h = cells
                    .iter()
                    .map(|c| Self::lines_height(c.len().max(1), 8.5))
                    .fold(0.0, f32::max)
                    + 2.0 * PAD;
                (cells, h)
            })
            .collect();
        let first_h = rows.first().map_or(0.0, |r| r.1);
        self.ensure(header_h + first_h);
        let draw_header = |l: &mut Layout<'_>| {
            let top = l.y;
            l.ops().push(Op::Rect {
                rect: [MARGIN_X, top, WIDTH, header_h],
                fill: Some(HEAD_FILL),
                stroke: None,
            });
            for (i, (vi, en, _)) in header.iter().enumerate() {
                let how = match t.columns[i].align {
                    Align::Left => Place::Left,
                    Align::Right => Place::Right,
                };
                l.put_bilingual(
                    (vi, en),
                    xs[i] + PAD,
                    widths[i] - 2.0 * PAD,
                    top + PAD,
                    how,
                    INK,
                );
            }
            l.y += header_h;
            l.rule(l.y, GREY, 0.6);
        };
        draw_header(self);
        for (n, (cells, h)) in rows.iter().enumerate() {
            if self.y + h > BOTTOM {
                self.new_page();
                draw_header(self);
            }
            let top = self.y;
            if n % 2 == 1 {
                self.ops().push(Op::Rect {
                    rect: [MARGIN_X, top, WIDTH, *h],
                    fill: Some(ZEBRA),
                    stroke: None,
                });
            }
            for (i, c) in cells.iter().enumerate() {
                let how = match t.columns[i].align {
                    Align::Left => Place::Left,
                    Align::Right => Place::Right,
                };
                self.put_lines(c, xs[i] + PAD, widths[i] - 2.0 * PAD, top + PAD, how, INK);
            }
            self.y += h;
            self.rule(self.y, RULE, 0.4);
        }
        self.y += 6.0;
    }

    fn paragraph(&mut self, p: &str) {
        let lines = self.wrap(Face::Regular, 9.5, p, WIDTH);
        for l in lines.chunks(1) {
            let h = Self::lines_height(1, 9.5);
            self.ensure(h);
            self.put_lines(l, MARGIN_X, WIDTH, self.y, Place::Left, INK);
            self.y += h;
        }
        self.y += 4.0;
    }

    /// Printed image width and height, and the whole figure's height
    /// (image, caption, space).
    fn figure_size(&self, f: &Figure) -> ((f32, f32), f32) {
        let (pw, ph) = (f.pixels.0.max(1) as f32, f.pixels.1.max(1) as f32);
        let mut w = (f.width_mm * MM).min(WIDTH);
        let (_, _, cap_h) = self.bilingual(&f.caption, Face::Regular, 8.0, 7.0, WIDTH);
        let mut h = w * ph / pw;
        // An image taller than a whole page is scaled to fit one.
        let room = BOTTOM - TOP - cap_h - 10.0;
        if h > room {
            w *= room / h;
            h = room;
        }
        ((w, h), h + cap_h + 10.0)
    }

    fn figure(&mut self, f: &'a Figure) {
        let ((w, h), total) = self.figure_size(f);
        let (vi, en, cap_h) = self.bilingual(&f.caption, Face::Regular, 8.0, 7.0, WIDTH);
        self.ensure(total);
        let x = MARGIN_X + (WIDTH - w) / 2.0;
        let index = self.figures.len();
        self.figures.push(f);
        let y = self.y;
        self.ops().push(Op::Image {
            rect: [x, y, w, h],
            index,
        });
        self.y += h + 4.0;
        self.put_bilingual((&vi, &en), MARGIN_X, WIDTH, self.y, Place::Centre, INK);
        self.y += cap_h + 6.0;
    }

    fn disclaimer(&mut self, t: &Text) {
        const PAD: f32 = 8.0;
        let (vi, en, h) = self.bilingual(t, Face::Regular, 8.8, 7.8, WIDTH - 2.0 * PAD - 4.0);
        let box_h = h + 2.0 * PAD + 2.0;
        self.ensure(box_h + 4.0);
        self.y += 4.0;
        let y = self.y;
        self.ops().push(Op::Rect {
            rect: [MARGIN_X, y, WIDTH, box_h],
            fill: Some(NOTE_FILL),
            stroke: Some((NOTE_LINE, 0.8)),
        });
        // A bar down the left edge marks it as a notice.
        self.ops().push(Op::Rect {
            rect: [MARGIN_X, y, 3.0, box_h],
            fill: Some(NOTE_LINE),
            stroke: None,
        });
        let top = self.y + PAD;
        self.put_bilingual(
            (&vi, &en),
            MARGIN_X + PAD + 4.0,
            WIDTH,
            top,
            Place::Left,
            INK,
        );
        self.y += box_h + 6.0;
    }

    fn verification(&mut self, v: &super::doc::Verification) {
        let label = self
            .fonts
            .shape(Face::Regular, 9.0, "Mã xác minh / Verification code:");
        let code = self.fonts.shape(Face::Mono, 12.0, &v.code);
        let at = self
            .fonts
            .shape(Face::Regular, 8.5, "Đối chiếu tại / Check at:");
        let url_x = MARGIN_X + at.width + 6.0;
        let url_lines = self.wrap(Face::Mono, 8.5, &v.url, MARGIN_X + WIDTH - url_x);
        let h = 12.0 * LEADING + Self::lines_height(url_lines.len(), 8.5) + 4.0;
        self.ensure(h);
        let base = self.y + self.fonts.ascent(Face::Mono, 12.0);
        let lw = label.width;
        self.ops().push(Op::Text {
            x: MARGIN_X,
            y: base,
            line: label,
            color: GREY,
        });
        self.ops().push(Op::Text {
            x: MARGIN_X + lw + 6.0,
            y: base,
            line: code,
            color: INK,
        });
        self.y += 12.0 * LEADING;
        self.put_lines(
            std::slice::from_ref(&at),
            MARGIN_X,
            WIDTH,
            self.y,
            Place::Left,
            GREY,
        );
        self.put_lines(&url_lines, url_x, WIDTH, self.y, Place::Left, INK);
        self.y += Self::lines_height(url_lines.len(), 8.5) + 4.0;
    }

    /// Footer of page `i` of `n`, drawn once the page count is known.
    fn footer(&self, doc: &Document, i: usize, n: usize) -> Vec<Op> {
        let mut ops = vec![Op::Line {
            from: [MARGIN_X, BOTTOM + 18.0],
            to: [MARGIN_X + WIDTH, BOTTOM + 18.0],
            color: RULE,
            width: 0.5,
        }];
        let top = BOTTOM + 22.0;
        let text_at = |lines: Vec<Shaped>, right: bool, top: f32, ops: &mut Vec<Op>| {
            for (k, l) in lines.into_iter().enumerate() {
                let x = if right {
                    MARGIN_X + WIDTH - l.width
                } else {
                    MARGIN_X
                };
                let y = top + k as f32 * 7.0 * LEADING + self.fonts.ascent(l.face, l.size);
                ops.push(Op::Text {
                    x,
                    y,
                    line: l,
                    color: GREY,
                });
            }
        };
        let left = self.wrap(Face::Regular, 7.0, &doc.footer, WIDTH * 0.62);
        text_at(left, false, top, &mut ops);
        let mut right = vec![self.fonts.shape(
            Face::Regular,
            7.0,
            &format!("Trang {i}/{n} · Page {i} of {n}"),
        )];
        if let Some(v) = &doc.verification {
            right.push(self.fonts.shape(
                Face::Regular,
                7.0,
                &format!("Mã xác minh / Code: {}", v.code),
            ));
        }
        text_at(right, true, top, &mut ops);
        ops
    }
}

#[derive(Debug, Clone, Copy)]
enum Place {
    Left,
    Right,
    Centre,
}

/// Lays a document out into pages (one list of operations each, footer
/// included).
fn lay_out<'a>(doc: &'a Document, fonts: &'a DocFonts) -> Layout<'a> {
    let mut l = Layout::new(fonts);
    l.header(doc);
    l.title(doc);
    for s in &doc.sections {
        l.section(s);
    }
    if let Some(d) = &doc.disclaimer {
        l.disclaimer(d);
    }
    if let Some(v) = &doc.verification {
        l.verification(v);
    }
    let n = l.pages.len();
    for i in 0..n {
        let f = l.footer(doc, i + 1, n);
        l.pages[i].extend(f);
    }
    l
}

/// Number of A4 pages the document takes.
pub fn page_count(doc: &Document, fonts: &DocFonts) -> usize {
    lay_out(doc, fonts).pages.len()
}

/// Where a figure is printed: its page (from 0) and box, points from
/// the page's top left.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Placed {
    /// Page index, from 0.
    pub page: usize,
    /// `[x, y, width, height]`, points.
    pub rect: [f32; 4],
}

/// Where each figure of the document lands, in document order (for
/// checking a printed page, and for links over a map).
pub fn figure_boxes(doc: &Document, fonts: &DocFonts) -> Vec<Placed> {
    let l = lay_out(doc, fonts);
    let mut out = Vec::new();
    for (page, ops) in l.pages.iter().enumerate() {
        for op in ops {
            if let Op::Image { rect, .. } = op {
                out.push(Placed { page, rect: *rect });
            }
        }
    }
    out
}

fn color(c: Rgb) -> krilla::paint::Paint {
    rgb::Color::new(c.0, c.1, c.2).into()
}

fn fill(c: Rgb) -> Fill {
    Fill {
        paint: color(c),
        opacity: NormalizedF32::ONE,
        rule: Default::default(),
    }
}

fn stroke(c: Rgb, width: f32) -> Stroke {
    Stroke {
        paint: color(c),
        width,
        ..Default::default()
    }
}

/// Renders the document as an A4 PDF, Vietnamese in embedded, subset
/// DejaVu fonts, document language `vi`.
pub fn render_pdf(doc: &Document, fonts: &DocFonts) -> Result<Vec<u8>, ReportError> {
    let layout = lay_out(doc, fonts);
    let mut images = Vec::with_capacity(layout.figures.len());
    for (i, f) in layout.figures.iter().enumerate() {
        let img = krilla::image::Image::from_png(krilla::Data::from(f.png.clone()), true)
            .map_err(|e| ReportError::Image(format!("figure {}: {e}", i + 1)))?;
        images.push(img);
    }
    let mut pdf = krilla::Document::new();
    let mut meta = krilla::metadata::Metadata::new()
        .title(crate::model::nfc(&doc.title.vi))
        .language("vi".to_owned())
        .creator("geoplan".to_owned());
    if let Some(s) = &doc.subtitle {
        meta = meta.description(crate::model::nfc(s));
    }
    pdf.set_metadata(meta);
    let size = Size::from_wh(PAGE_WIDTH, PAGE_HEIGHT).expect("A4 is not empty");
    for ops in &layout.pages {
        let mut page = pdf.start_page_with(PageSettings::new(size));
        let mut s = page.surface();
        for op in ops {
            match op {
                Op::Text { x, y, line, color } => {
                    s.set_stroke(None);
                    s.set_fill(Some(fill(*color)));
                    s.draw_glyphs(
                        Point::from_xy(*x, *y),
                        &line.glyphs,
                        fonts.pdf_font(line.face),
                        &line.text,
                        line.size,
                        false,
                    );
                }
                Op::Rect {
                    rect: [x, y, w, h],
                    fill: f,
                    stroke: st,
                } => {
                    let Some(r) = Rect::from_xywh(*x, *y, *w, *h) else {
                        continue;
                    };
                    let mut pb = PathBuilder::new();
                    pb.push_rect(r);
                    if let Some(path) = pb.finish() {
                        s.set_fill(f.map(fill));
                        s.set_stroke(st.map(|(c, w)| stroke(c, w)));
                        s.draw_path(&path);
                    }
                }
                Op::Line {
                    from,
                    to,
                    color,
                    width,
                } => {
                    let mut pb = PathBuilder::new();
                    pb.move_to(from[0], from[1]);
                    pb.line_to(to[0], to[1]);
                    if let Some(path) = pb.finish() {
                        s.set_fill(None);
                        s.set_stroke(Some(stroke(*color, *width)));
                        s.draw_path(&path);
                    }
                }
                Op::Image {
                    rect: [x, y, w, h],
                    index,
                } => {
                    let Some(sz) = Size::from_wh(*w, *h) else {
                        continue;
                    };
                    s.push_transform(&Transform::from_translate(*x, *y));
                    s.draw_image(images[*index].clone(), sz);
                    s.pop();
                    // A hairline frame around the figure.
                    if let Some(r) = Rect::from_xywh(*x, *y, *w, *h) {
                        let mut pb = PathBuilder::new();
                        pb.push_rect(r);
                        if let Some(path) = pb.finish() {
                            s.set_fill(None);
                            s.set_stroke(Some(stroke(GREY, 0.5)));
                            s.draw_path(&path);
                        }
                    }
                }
            }
        }
        s.finish();
        page.finish();
    }
    pdf.finish().map_err(|e| ReportError::Pdf(format!("{e:?}")))
}

#[cfg(test)]
mod tests {
    use super::super::doc::*;
    use super::*;

    fn fonts() -> DocFonts {
        DocFonts::load(std::path::Path::new("/usr/share/fonts/truetype/dejavu")).unwrap()
    }

    fn long_table(rows: usize) -> Document {
        Document {
            title: Text::bi("Bảng", "Table"),
            sections: vec![Section {
                heading: Text::bi("A. Lô đất", "A. Lots"),
                blocks: vec![Block::Table(Table {
                    columns: vec![
                        Column::new(Text::bi("Ký hiệu", "Symbol"), 1.0, Align::Left),
                        Column::new(Text::bi("Diện tích (m²)", "Area (m²)"), 1.0, Align::Right),
                    ],
                    rows: (0..rows)
                        .map(|i| vec![format!("ODT-{i}"), format!("{i}.0")])
                        .collect(),
                })],
            }],
            ..Default::default()
        }
    }

    #[test]
    fn a_long_table_continues_on_further_pages_with_its_header_repeated() {
        let f = fonts();
        assert_eq!(page_count(&long_table(5), &f), 1);
        let doc = long_table(120);
        let l = lay_out(&doc, &f);
        assert!(l.pages.len() >= 3, "{} pages", l.pages.len());
        for page in &l.pages {
            let headers = page
                .iter()
                .filter(|o| matches!(o, Op::Text { line, .. } if line.text == "Ký hiệu"))
                .count();
            assert_eq!(headers, 1);
            // Nothing of the body runs into the footer.
            for o in page {
                if let Op::Text { y, line, .. } = o {
                    if !line.text.starts_with("Trang") {
                        assert!(*y <= BOTTOM, "{} at {y}", line.text);
                    }
                }
            }
        }
    }

    #[test]
    fn every_page_says_which_page_of_how_many_it_is() {
        let f = fonts();
        let doc = long_table(120);
        let l = lay_out(&doc, &f);
        let n = l.pages.len();
        for (i, page) in l.pages.iter().enumerate() {
            let want = format!("Trang {}/{n} · Page {} of {n}", i + 1, i + 1);
            assert!(page
                .iter()
                .any(|o| matches!(o, Op::Text { line, .. } if line.text == want)));
        }
    }
}
