//! The document model: what a printed planning document says, without
//! saying how it looks. Composers (the information sheet, the check
//! report) fill it; `pdf` and `html` present it.
//!
//! Text is Vietnamese first, with English: a [`Text`] carries both, and
//! both presentations show the English smaller, under or after it.

/// A label or heading in Vietnamese, with its English when there is one.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Text {
    /// Vietnamese (shown first).
    pub vi: String,
    /// English (shown smaller, after).
    pub en: Option<String>,
}

impl Text {
    /// Vietnamese and English.
    pub fn bi(vi: impl Into<String>, en: impl Into<String>) -> Text {
        Text {
            vi: vi.into(),
            en: Some(en.into()),
        }
    }

    /// Vietnamese only (a name, a number).
    pub fn vi(vi: impl Into<String>) -> Text {
        Text {
            vi: vi.into(),
            en: None,
        }
    }
}

impl From<&str> for Text {
    fn from(s: &str) -> Text {
        Text::vi(s)
    }
}

/// A whole document.
#[derive(Debug, Clone, Default)]
pub struct Document {
    /// Header, left half, centred: the issuing body ("UBND THÀNH PHỐ ĐÀ
    /// NẴNG", "SỞ XÂY DỰNG"); the first line is set bold.
    pub header_left: Vec<String>,
    /// Header, right half, centred: the national motto of administrative
    /// documents; the first line is set bold.
    pub header_right: Vec<String>,
    /// Title.
    pub title: Text,
    /// One line under the title (what the document is about).
    pub subtitle: Option<String>,
    /// The body.
    pub sections: Vec<Section>,
    /// A boxed notice after the body (what the document is not).
    pub disclaimer: Option<Text>,
    /// How to check the document against what was issued.
    pub verification: Option<Verification>,
    /// Left side of every page's footer (system, time of issue); the
    /// right side carries the page number and the verification code.
    pub footer: String,
}

/// A numbered part of the body.
#[derive(Debug, Clone, Default)]
pub struct Section {
    /// Heading ("A. Quy hoạch" / "A. Plan").
    pub heading: Text,
    /// Contents, in order.
    pub blocks: Vec<Block>,
}

/// One piece of a section.
#[derive(Debug, Clone)]
pub enum Block {
    /// Label–value rows.
    Fields(Vec<Field>),
    /// A table with a header row.
    Table(Table),
    /// Running text.
    Paragraph(String),
    /// An image with a caption.
    Figure(Figure),
}

/// A label and its value.
#[derive(Debug, Clone)]
pub struct Field {
    /// What the value is.
    pub label: Text,
    /// The value, as shown.
    pub value: String,
}

impl Field {
    /// A field.
    pub fn new(label: Text, value: impl Into<String>) -> Field {
        Field {
            label,
            value: value.into(),
        }
    }
}

/// How a column's cells are aligned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Align {
    /// Text.
    #[default]
    Left,
    /// Numbers.
    Right,
}

/// A table column.
#[derive(Debug, Clone)]
pub struct Column {
    /// Header.
    pub label: Text,
    /// Share of the table's width (relative to the other columns).
    pub weight: f32,
    /// Alignment of its cells.
    pub align: Align,
}

impl Column {
    /// A column.
    pub fn new(label: Text, weight: f32, align: Align) -> Column {
        Column {
            label,
            weight,
            align,
        }
    }
}

/// A table: a header row, then rows of cells (one per column; missing
/// cells are empty).
#[derive(Debug, Clone)]
pub struct Table {
    /// Columns.
    pub columns: Vec<Column>,
    /// Rows of cell text.
    pub rows: Vec<Vec<String>>,
}

/// An image (PNG) with a caption.
#[derive(Debug, Clone)]
pub struct Figure {
    /// PNG bytes.
    pub png: Vec<u8>,
    /// Pixel size of the PNG.
    pub pixels: (u32, u32),
    /// Printed width, millimetres (kept exact when it fits the page, so a
    /// map printed at its stated scale stays at that scale).
    pub width_mm: f32,
    /// Caption under the image.
    pub caption: Text,
}

/// The line that lets a reader check the paper against what was issued.
#[derive(Debug, Clone)]
pub struct Verification {
    /// The code as printed ("7K3QZ-M9X2D").
    pub code: String,
    /// Where to check it (absolute URL).
    pub url: String,
}
