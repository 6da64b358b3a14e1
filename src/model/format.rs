//! The download formats every feature result can be had in, as one
//! vocabulary: the `f=` short names of the REST surfaces, the WFS
//! OUTPUTFORMAT spellings clients send (GeoServer's `SHAPE-ZIP`, MIME
//! types), the MIME type and file extension of each. `store::export`
//! writes them; `ogc` advertises and parses them for WFS; `http` names
//! the files.

/// A file format a result set is exported in (GeoJSON is not here: each
/// surface already streams it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileFormat {
    /// OGC GeoPackage, one table per layer, named after it.
    Gpkg,
    /// ESRI Shapefile zipped (`.shp`, `.shx`, `.dbf`, `.prj` with TOWGS84,
    /// `.cpg` saying UTF-8).
    ShpZip,
    /// KML 2.2, always WGS 84 longitude/latitude.
    Kml,
    /// CSV, UTF-8 with a byte-order mark: attributes, then the geometry as
    /// WKT or, for points, two coordinate columns.
    Csv,
    /// XLSX: the CSV's columns as one worksheet.
    Xlsx,
}

impl FileFormat {
    /// Every format, in the order they are listed to clients.
    pub const ALL: [FileFormat; 5] = [
        FileFormat::Gpkg,
        FileFormat::ShpZip,
        FileFormat::Kml,
        FileFormat::Csv,
        FileFormat::Xlsx,
    ];

    /// The `f=` name (`gpkg`, `shp`, `kml`, `csv`, `xlsx`).
    pub fn short_name(self) -> &'static str {
        match self {
            FileFormat::Gpkg => "gpkg",
            FileFormat::ShpZip => "shp",
            FileFormat::Kml => "kml",
            FileFormat::Csv => "csv",
            FileFormat::Xlsx => "xlsx",
        }
    }

    /// The extension of the downloaded file (without the dot).
    pub fn extension(self) -> &'static str {
        match self {
            FileFormat::Gpkg => "gpkg",
            FileFormat::ShpZip => "zip",
            FileFormat::Kml => "kml",
            FileFormat::Csv => "csv",
            FileFormat::Xlsx => "xlsx",
        }
    }

    /// The Content-Type of the download.
    pub fn mime(self) -> &'static str {
        match self {
            FileFormat::Gpkg => "application/geopackage+sqlite3",
            FileFormat::ShpZip => "application/zip",
            FileFormat::Kml => "application/vnd.google-earth.kml+xml",
            FileFormat::Csv => "text/csv; charset=utf-8",
            FileFormat::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    }

    /// True for formats that hold only one table (CSV, XLSX).
    pub fn single_table(self) -> bool {
        matches!(self, FileFormat::Csv | FileFormat::Xlsx)
    }

    /// True when the file is already compressed (a zip inside), so HTTP
    /// compression would only cost time.
    pub fn is_compressed(self) -> bool {
        matches!(self, FileFormat::ShpZip | FileFormat::Xlsx)
    }

    /// Parses an `f=` value or a WFS OUTPUTFORMAT / Accept type: the short
    /// names, the MIME types, and the spellings GeoServer and its clients
    /// use (`SHAPE-ZIP`, `shapefile`, `geopackage`, `KML`, `excel2007`).
    /// Case and blanks are ignored; parameters after `;` other than a
    /// `subtype` are too.
    ///
    /// ```
    /// use geoplan::model::FileFormat;
    /// assert_eq!(FileFormat::parse("SHAPE-ZIP"), Some(FileFormat::ShpZip));
    /// assert_eq!(FileFormat::parse("application/geopackage+sqlite3"), Some(FileFormat::Gpkg));
    /// assert_eq!(FileFormat::parse("text/csv; charset=utf-8"), Some(FileFormat::Csv));
    /// assert_eq!(FileFormat::parse("application/json"), None);
    /// ```
    pub fn parse(s: &str) -> Option<FileFormat> {
        let t: String = s
            .to_ascii_lowercase()
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        let t = t.split(";charset=").next().unwrap_or("");
        Some(match t {
            "gpkg" | "geopackage" | "application/geopackage+sqlite3" | "application/x-gpkg" => {
                FileFormat::Gpkg
            }
            "shp"
            | "shape-zip"
            | "shapezip"
            | "shapefile"
            | "shp.zip"
            | "zip"
            | "application/zip"
            | "application/x-zipped-shp"
            | "application/x-shapefile" => FileFormat::ShpZip,
            "kml" | "application/vnd.google-earth.kml+xml" | "application/vnd.google-earth.kml" => {
                FileFormat::Kml
            }
            "csv" | "text/csv" => FileFormat::Csv,
            "xlsx"
            | "excel2007"
            | "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => {
                FileFormat::Xlsx
            }
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_format_parses_back_from_its_short_name_and_mime_type() {
        for f in FileFormat::ALL {
            assert_eq!(FileFormat::parse(f.short_name()), Some(f));
            assert_eq!(FileFormat::parse(f.mime()), Some(f));
        }
        assert_eq!(FileFormat::parse("KML"), Some(FileFormat::Kml));
        assert_eq!(FileFormat::parse("geojson"), None);
    }
}
