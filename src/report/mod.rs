//! Documents composed from planning answers and rendered maps: a small
//! document model (`doc`), presented as an A4 PDF with embedded, subset
//! fonts (`pdf`, through krilla) or as one HTML page (`html`), and the map
//! extract a printed document carries (`map`, drawn by the WMS renderer).
//! It reads no files but fonts, does no other IO and never awaits:
//! composing is CPU work for the blocking pool. It sits above `planning`
//! and `render` (which are peers) and below `http`, which wires a planning
//! answer, a map and a stored record into a sheet or a check report.
//!
//! # Examples
//!
//! ```no_run
//! use geoplan::report::{doc::*, fonts::DocFonts, pdf::render_pdf};
//!
//! let fonts = DocFonts::load("/usr/share/fonts/truetype/dejavu".as_ref())?;
//! let doc = Document {
//!     title: Text::bi("Phiếu thông tin quy hoạch", "Planning information sheet"),
//!     sections: vec![Section {
//!         heading: Text::bi("A. Thửa đất", "A. Parcel"),
//!         blocks: vec![Block::Fields(vec![Field::new(Text::bi("Số thửa", "Parcel"), "345")])],
//!     }],
//!     ..Default::default()
//! };
//! let pdf: Vec<u8> = render_pdf(&doc, &fonts)?;
//! # Ok::<(), geoplan::report::ReportError>(())
//! ```

pub mod check;
pub mod doc;
pub mod fonts;
pub mod html;
pub mod map;
pub mod pdf;
pub mod sheet;
pub mod table;

/// Errors of composing a document.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// A font the documents need is not installed.
    #[error("font '{name}' is not in {dir} (install fonts-dejavu-core)")]
    MissingFont {
        /// Font name.
        name: String,
        /// Directory searched.
        dir: String,
    },
    /// A map extract names a layer that is not loaded.
    #[error("no layer named '{0}' is loaded")]
    UnknownLayer(String),
    /// A map extract of a size that cannot be drawn.
    #[error("map extract size: {0}")]
    Size(String),
    /// The renderer failed.
    #[error("map extract: {0}")]
    Render(#[from] crate::render::RenderError),
    /// A figure is not a PNG krilla can read.
    #[error("image: {0}")]
    Image(String),
    /// krilla could not write the PDF.
    #[error("PDF: {0}")]
    Pdf(String),
    /// A spreadsheet could not be written.
    #[error("spreadsheet: {0}")]
    Table(String),
}
