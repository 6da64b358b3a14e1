//! Tables for spreadsheets: one header row (Vietnamese, with English in
//! brackets) and typed cells, written as CSV (UTF-8 with a byte-order mark,
//! so Excel reads the diacritics) or as an XLSX workbook (rust_xlsxwriter).

use super::ReportError;
use crate::model::ValueRef;
use crate::store::export::{CsvWriter, ExportError, XlsxWriter};

/// One cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Text.
    Text(String),
    /// A whole number.
    Int(i64),
    /// A number.
    Num(f64),
}

/// A table.
#[derive(Debug, Clone, Default)]
pub struct DataTable {
    /// Sheet name (XLSX; at most 31 characters).
    pub name: String,
    /// Column headers: Vietnamese, English.
    pub headers: Vec<(String, String)>,
    /// Rows of cells.
    pub rows: Vec<Vec<Cell>>,
}

fn header(h: &(String, String)) -> String {
    format!("{} ({})", h.0, h.1)
}

fn cell(c: &Cell) -> ValueRef<'_> {
    match c {
        Cell::Text(s) => ValueRef::Text(s),
        Cell::Int(i) => ValueRef::Int(*i),
        Cell::Num(v) => ValueRef::Real(*v),
    }
}

impl DataTable {
    /// CSV, RFC 4180, UTF-8 with a byte-order mark (the export writer's).
    pub fn to_csv(&self) -> String {
        let mut w = CsvWriter::new(Vec::new()).expect("writing to memory");
        for h in &self.headers {
            w.text(&header(h));
        }
        let mut rows = || -> std::io::Result<()> {
            w.end_row()?;
            for r in &self.rows {
                r.iter().for_each(|c| w.cell(cell(c)));
                w.end_row()?;
            }
            Ok(())
        };
        rows().expect("writing to memory");
        let bytes = w.finish().expect("writing to memory");
        String::from_utf8(bytes).expect("the writer writes UTF-8")
    }

    /// An XLSX workbook of one sheet, headers bold and frozen (the export
    /// writer's).
    pub fn to_xlsx(&self) -> Result<Vec<u8>, ReportError> {
        let err = |e: ExportError| ReportError::Table(e.to_string());
        let headers: Vec<String> = self.headers.iter().map(header).collect();
        let mut w = XlsxWriter::new(&self.name, &headers, false).map_err(err)?;
        for row in &self.rows {
            for c in row {
                w.cell(cell(c)).map_err(err)?;
            }
            w.end_row();
        }
        w.to_buffer().map_err(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_what_needs_quoting_and_keeps_diacritics() {
        let t = DataTable {
            name: "x".into(),
            headers: vec![
                ("Đơn vị".into(), "Unit".into()),
                ("Số thửa".into(), "Parcels".into()),
            ],
            rows: vec![vec![
                Cell::Text("Phường \"Minh\" An, Hội An".into()),
                Cell::Int(3),
            ]],
        };
        let csv = t.to_csv();
        assert!(csv.starts_with('\u{feff}'));
        assert!(csv.contains("Đơn vị (Unit),Số thửa (Parcels)\r\n"));
        assert!(csv.contains("\"Phường \"\"Minh\"\" An, Hội An\",3\r\n"));
        let x = t.to_xlsx().unwrap();
        assert!(x.starts_with(b"PK"), "an XLSX is a zip");
    }
}
