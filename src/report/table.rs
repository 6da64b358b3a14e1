//! Tables for spreadsheets: one header row (Vietnamese, with English in
//! brackets) and typed cells, written as CSV (UTF-8 with a byte-order mark,
//! so Excel reads the diacritics) or as an XLSX workbook (rust_xlsxwriter).

use super::ReportError;

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

fn csv_field(s: &str, out: &mut String) {
    if s.contains([',', '"', '\n', '\r']) {
        out.push('"');
        out.push_str(&s.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(s);
    }
}

impl DataTable {
    /// CSV, RFC 4180, UTF-8 with a byte-order mark.
    pub fn to_csv(&self) -> String {
        let mut out = String::from('\u{feff}');
        let line = |cells: Vec<String>, out: &mut String| {
            for (i, c) in cells.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                csv_field(c, out);
            }
            out.push_str("\r\n");
        };
        line(self.headers.iter().map(header).collect(), &mut out);
        for r in &self.rows {
            line(
                r.iter()
                    .map(|c| match c {
                        Cell::Text(s) => s.clone(),
                        Cell::Int(i) => i.to_string(),
                        Cell::Num(v) => v.to_string(),
                    })
                    .collect(),
                &mut out,
            );
        }
        out
    }

    /// An XLSX workbook of one sheet, headers bold and frozen.
    pub fn to_xlsx(&self) -> Result<Vec<u8>, ReportError> {
        use rust_xlsxwriter::{Format, Workbook};
        let err = |e: rust_xlsxwriter::XlsxError| ReportError::Table(e.to_string());
        let mut wb = Workbook::new();
        let ws = wb.add_worksheet();
        let name: String = self.name.chars().take(31).collect();
        if !name.is_empty() {
            ws.set_name(&name).map_err(err)?;
        }
        let bold = Format::new().set_bold();
        for (c, h) in self.headers.iter().enumerate() {
            ws.write_string_with_format(0, c as u16, header(h), &bold)
                .map_err(err)?;
            ws.set_column_width(c as u16, 18).map_err(err)?;
        }
        ws.set_freeze_panes(1, 0).map_err(err)?;
        for (r, row) in self.rows.iter().enumerate() {
            let r = r as u32 + 1;
            for (c, cell) in row.iter().enumerate() {
                let c = c as u16;
                match cell {
                    // Excel holds at most 32,767 characters in a cell.
                    Cell::Text(s) if s.chars().count() > 32_767 => {
                        let cut: String = s.chars().take(32_766).collect();
                        ws.write_string(r, c, format!("{cut}…")).map(|_| ())
                    }
                    Cell::Text(s) => ws.write_string(r, c, s).map(|_| ()),
                    Cell::Int(i) => ws.write_number(r, c, *i as f64).map(|_| ()),
                    Cell::Num(v) => ws.write_number(r, c, *v).map(|_| ()),
                }
                .map_err(err)?;
            }
        }
        wb.save_to_buffer().map_err(err)
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
