//! Result sets written out as files: GeoPackage, zipped Shapefile and KML
//! through GDAL, CSV and XLSX by hand and with rust_xlsxwriter. Features
//! are fed one at a time ([`Exporter::feature`]) with their geometry
//! already in the output CRS, and go straight into a file in a temporary
//! directory, so memory stays flat however many are exported; the caller
//! streams the finished file ([`ExportFile`]) and the directory is gone
//! by then.
//!
//! What each format needs beyond GDAL's defaults, and why:
//! * Shapefile: GDAL writes an ESRI `.prj`, which has no room for the
//!   datum shift, so a VN-2000 file lands ~225 m off in software that
//!   does not know the datum by name; the `.prj` is rewritten as OGC WKT1
//!   with `TOWGS84[...]` ([`prj_wkt`], the position-vector values of
//!   [`crate::crs::VN2000_TOWGS84`]). Field names are cut to the DBF's 10
//!   characters and made unique here ([`dbf_field_names`]), so they are the
//!   same in every export; text is UTF-8 and the `.cpg` says so.
//! * KML is WGS 84 longitude/latitude by definition; the caller transforms.
//! * CSV is UTF-8 with a byte-order mark: Excel (which reads a CSV without
//!   one in the Windows code page, 1258 in Việt Nam, and garbles every
//!   diacritic) then reads UTF-8, and GDAL, LibreOffice and pandas skip it.
//!   Comma-separated as RFC 4180, numbers with a decimal point.
//! * XLSX rows go to disk as they are written (rust_xlsxwriter's constant
//!   memory mode); a sheet holds at most [`XLSX_MAX_ROWS`] rows.

use super::gpkg::last_gdal_error;
use crate::crs::{Crs, VN2000_TOWGS84};
use crate::model::{push_num, FieldDef, FieldType, FileFormat, GeometryType, ValueRef};
use gdal::vector::{Feature, LayerAccess, LayerOptions, OGRFieldType, OGRwkbGeometryType, ToGdal};
use gdal::{Dataset, DriverManager};
use gdal_sys::OGRFieldSubType;
use geo_types::Geometry;
use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// Most data rows of one XLSX worksheet (Excel's 1,048,576 rows, less the
/// header).
pub const XLSX_MAX_ROWS: u64 = 1_048_575;

/// Geometry codes of VN-2000 geographic (EPSG:4756): every CRS on this
/// datum gets `TOWGS84` in its `.prj`.
const VN2000_GEOGCS: &str = "4756";

/// An export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// What was asked cannot be written in this format (the client's
    /// request: a second table in a CSV, too many rows for a sheet).
    #[error("{0}")]
    Unfit(String),
    /// GDAL, the file system or the XLSX writer failed (the server's).
    #[error("export to {format}: {msg}")]
    Write {
        /// The format being written.
        format: &'static str,
        /// What failed.
        msg: String,
    },
}

impl ExportError {
    /// True when the request asked for something the format cannot hold.
    pub fn is_client_error(&self) -> bool {
        matches!(self, ExportError::Unfit(_))
    }
}

/// One layer of an export: the table (or folder) name, its fields and
/// geometry as they will be written.
#[derive(Debug, Clone)]
pub struct ExportLayer<'a> {
    /// Name of the table, layer, sheet or KML folder (the geoplan layer id).
    pub name: &'a str,
    /// Geometry type; `None` writes no geometry.
    pub geometry_type: Option<GeometryType>,
    /// The fields, in the order values are given to [`Exporter::feature`].
    pub fields: &'a [FieldDef],
    /// The CRS the geometries are in (KML: WGS 84).
    pub crs: Crs,
}

/// A finished export: the open file (its directory already removed) and
/// what to call it.
#[derive(Debug)]
pub struct ExportFile {
    /// The file, positioned at its start.
    pub file: File,
    /// Its size in bytes.
    pub len: u64,
    /// File name for `Content-Disposition` (`parcels-2026-12-06.gpkg`).
    pub name: String,
    /// The format.
    pub format: FileFormat,
    /// Features written.
    pub features: u64,
}

/// Writes one export into a temporary directory.
pub struct Exporter {
    format: FileFormat,
    dir: tempfile::TempDir,
    stem: String,
    sink: Sink,
    /// The current layer's shape: fields, geometry, CRS.
    current: Option<Current>,
    /// Every layer started so far (Shapefile: one `.prj` each).
    layers: Vec<(String, Crs)>,
    features: u64,
}

struct Current {
    fields: Vec<FieldDef>,
    geometry: Option<GeometryType>,
    crs: Crs,
    /// Points written as two coordinate columns instead of WKT.
    xy: bool,
    /// CSV/XLSX: rows in the sheet.
    rows: u64,
    /// GDAL: the index of the `fid` column (none in a GeoPackage, where
    /// it is the key), of each field, and of KML's own `Name`.
    fid_column: Option<usize>,
    columns: Vec<usize>,
    kml_name: Option<usize>,
}

enum Sink {
    /// GeoPackage, Shapefile (a directory of them) and KML.
    Gdal {
        ds: Dataset,
        /// Index of the current layer in `ds`.
        layer: usize,
    },
    Csv(CsvWriter<BufWriter<File>>),
    Xlsx(Box<XlsxWriter>),
    /// Between `new` and the first layer of a CSV/XLSX.
    Pending,
}

fn gdal_err(format: FileFormat) -> impl Fn(gdal::errors::GdalError) -> ExportError {
    move |e| ExportError::Write {
        format: format.short_name(),
        msg: format!("{e}: {}", last_gdal_error()),
    }
}

fn io_err(format: FileFormat) -> impl Fn(std::io::Error) -> ExportError {
    move |e| ExportError::Write {
        format: format.short_name(),
        msg: e.to_string(),
    }
}

/// A file-name-safe stem: ASCII letters, digits, `-`, `_` and `.` kept,
/// anything else `-`.
fn safe_stem(s: &str) -> String {
    let t: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect();
    let t = t.trim_matches(['-', '.']).to_owned();
    if t.is_empty() {
        "export".into()
    } else {
        t
    }
}

impl Exporter {
    /// Starts an export in `format` whose file will be called
    /// `{stem}.{ext}` (the stem is made file-name safe). Temporary files go
    /// to the system's temporary directory (`TMPDIR`).
    pub fn new(format: FileFormat, stem: &str) -> Result<Exporter, ExportError> {
        let stem = safe_stem(stem);
        let dir = tempfile::Builder::new()
            .prefix("geoplan-export-")
            .tempdir()
            .map_err(io_err(format))?;
        let gdal = |driver: &str, path: PathBuf, opts: &[&str]| -> Result<Sink, ExportError> {
            let d = DriverManager::get_driver_by_name(driver).map_err(gdal_err(format))?;
            let opts: gdal::cpl::CslStringList = opts.iter().copied().collect();
            let ds = d
                .create_with_band_type_with_options::<u8, _>(&path, 0, 0, 0, &opts)
                .map_err(gdal_err(format))?;
            Ok(Sink::Gdal { ds, layer: 0 })
        };
        let sink = match format {
            FileFormat::Gpkg => gdal("GPKG", dir.path().join(format!("{stem}.gpkg")), &[])?,
            // A directory dataset: one shapefile per layer, zipped at the end.
            FileFormat::ShpZip => gdal("ESRI Shapefile", dir.path().join(&stem), &[])?,
            FileFormat::Kml => gdal(
                "KML",
                dir.path().join(format!("{stem}.kml")),
                &[&format!("DOCUMENT_ID={stem}")],
            )?,
            FileFormat::Csv | FileFormat::Xlsx => Sink::Pending,
        };
        Ok(Exporter {
            format,
            dir,
            stem,
            sink,
            current: None,
            layers: Vec::new(),
            features: 0,
        })
    }

    /// Starts the next layer; the features that follow belong to it. CSV
    /// and XLSX hold one table: a second layer is refused.
    pub fn layer(&mut self, spec: &ExportLayer<'_>) -> Result<(), ExportError> {
        let f = self.format;
        if f == FileFormat::Kml && spec.crs.epsg() != 4326 {
            return Err(ExportError::Unfit(format!(
                "KML is WGS 84 longitude/latitude; give the geometries in it, not {}",
                spec.crs
            )));
        }
        if f.single_table() && !self.layers.is_empty() {
            return Err(ExportError::Unfit(format!(
                "{} holds one table; ask for one layer at a time",
                f.short_name().to_uppercase()
            )));
        }
        let xy = spec.geometry_type == Some(GeometryType::Point);
        let cur = Current {
            fields: spec.fields.to_vec(),
            geometry: spec.geometry_type,
            crs: spec.crs,
            xy,
            rows: 0,
            fid_column: None,
            columns: Vec::new(),
            kml_name: None,
        };
        let mut cur = cur;
        match &mut self.sink {
            Sink::Gdal { ds, layer } => {
                if f == FileFormat::Gpkg && !self.layers.is_empty() {
                    commit(ds, f)?;
                }
                let (idx, names) = create_gdal_layer(ds, f, spec)?;
                if f == FileFormat::Gpkg {
                    // One SQLite transaction per table: without it every
                    // row is a transaction of its own, five times slower.
                    // SAFETY: the dataset handle is valid for the life of `ds`.
                    let rv = unsafe { gdal_sys::GDALDatasetStartTransaction(ds.c_dataset(), 0) };
                    if rv != gdal_sys::OGRErr::OGRERR_NONE {
                        return Err(ExportError::Write {
                            format: f.short_name(),
                            msg: format!("cannot start a transaction: {}", last_gdal_error()),
                        });
                    }
                }
                *layer = idx;
                // Columns by name: KML's layers start with Name and
                // Description of their own.
                let l = ds.layer(idx).map_err(gdal_err(f))?;
                let index = |n: &str| l.defn().field_index(n).ok();
                let (fid_name, field_names) = match f {
                    FileFormat::Gpkg => (None, &names[..]),
                    _ => (Some(names[0].as_str()), &names[1..]),
                };
                cur.fid_column = fid_name.and_then(index);
                cur.columns = field_names
                    .iter()
                    .map(|n| {
                        index(n).ok_or_else(|| ExportError::Write {
                            format: f.short_name(),
                            msg: format!("field {n} was not created"),
                        })
                    })
                    .collect::<Result<_, _>>()?;
                cur.kml_name = (f == FileFormat::Kml).then(|| index("Name")).flatten();
            }
            Sink::Pending => {
                let headers = table_headers(&cur);
                self.sink = if f == FileFormat::Csv {
                    let path = self.dir.path().join(format!("{}.csv", self.stem));
                    let file = File::create(path).map_err(io_err(f))?;
                    let mut w = CsvWriter::new(BufWriter::with_capacity(256 * 1024, file))
                        .map_err(io_err(f))?;
                    for h in &headers {
                        w.text(h);
                    }
                    w.end_row().map_err(io_err(f))?;
                    Sink::Csv(w)
                } else {
                    Sink::Xlsx(Box::new(XlsxWriter::new(spec.name, &headers, true)?))
                };
            }
            Sink::Csv(_) | Sink::Xlsx(_) => unreachable!("one table, checked above"),
        }
        self.layers.push((spec.name.to_owned(), spec.crs));
        self.current = Some(cur);
        Ok(())
    }

    /// Writes one feature of the current layer: its id, geometry (in the
    /// layer's CRS; ignored when the layer has none) and one value per
    /// field.
    pub fn feature(
        &mut self,
        fid: i64,
        geometry: Option<&Geometry<f64>>,
        values: &[ValueRef<'_>],
    ) -> Result<(), ExportError> {
        let f = self.format;
        let Some(cur) = self.current.as_mut() else {
            return Err(ExportError::Write {
                format: f.short_name(),
                msg: "a feature before any layer".into(),
            });
        };
        let geometry = geometry.filter(|_| cur.geometry.is_some());
        match &mut self.sink {
            Sink::Gdal { ds, layer } => {
                let l = ds.layer(*layer).map_err(gdal_err(f))?;
                let mut feat = Feature::new(l.defn()).map_err(gdal_err(f))?;
                // GeoPackage keeps the fid as its key; the others a column.
                match cur.fid_column {
                    Some(k) => feat.set_field_integer64(k, fid).map_err(gdal_err(f))?,
                    // SAFETY: the feature handle is valid for the life of `feat`.
                    None => unsafe {
                        gdal_sys::OGR_F_SetFID(feat.c_feature(), fid);
                    },
                }
                if let Some(k) = cur.kml_name {
                    // The placemark's label in Google Earth: layer and id.
                    let label = format!("{} {fid}", l.name());
                    feat.set_field_string(k, &label).map_err(gdal_err(f))?;
                }
                for (&k, v) in cur.columns.iter().zip(values) {
                    match *v {
                        ValueRef::Null => feat.set_field_null(k),
                        ValueRef::Bool(b) => feat.set_field_integer(k, b as i32),
                        ValueRef::Int(x) => feat.set_field_integer64(k, x),
                        ValueRef::Real(x) if x.is_finite() => feat.set_field_double(k, x),
                        ValueRef::Real(_) => feat.set_field_null(k),
                        ValueRef::Text(s) => feat.set_field_string(k, s),
                    }
                    .map_err(gdal_err(f))?;
                }
                if let Some(g) = geometry {
                    let g = g.to_gdal().map_err(gdal_err(f))?;
                    feat.set_geometry(g).map_err(gdal_err(f))?;
                }
                feat.create(&l).map_err(gdal_err(f))?;
            }
            Sink::Csv(w) => {
                w.cell(ValueRef::Int(fid));
                for v in values {
                    w.cell(*v);
                }
                geometry_cells(cur, geometry, |v| {
                    w.cell(v);
                    Ok(())
                })?;
                w.end_row().map_err(io_err(f))?;
            }
            Sink::Xlsx(w) => {
                if cur.rows >= XLSX_MAX_ROWS {
                    return Err(ExportError::Unfit(format!(
                        "an XLSX sheet holds at most {XLSX_MAX_ROWS} rows; narrow the query or ask for CSV"
                    )));
                }
                w.cell(ValueRef::Int(fid))?;
                for v in values {
                    w.cell(*v)?;
                }
                geometry_cells(cur, geometry, |v| w.cell(v))?;
                w.end_row();
            }
            Sink::Pending => unreachable!("a layer was started"),
        }
        cur.rows += 1;
        self.features += 1;
        Ok(())
    }

    /// Closes the file (zipping a Shapefile with its `.prj` rewritten),
    /// opens it for reading and removes the temporary directory.
    pub fn finish(self) -> Result<ExportFile, ExportError> {
        let f = self.format;
        let name = format!("{}.{}", self.stem, f.extension());
        let path = self.dir.path().join(&name);
        match self.sink {
            Sink::Gdal { ds, .. } => {
                if f == FileFormat::Gpkg && !self.layers.is_empty() {
                    commit(&ds, f)?;
                }
                // Closing flushes; GDAL reports a failed close only in its log.
                drop(ds);
                if f == FileFormat::ShpZip {
                    let folder = self.dir.path().join(&self.stem);
                    for (layer, crs) in &self.layers {
                        let prj = folder.join(format!("{}.prj", safe_stem(layer)));
                        std::fs::write(prj, prj_wkt(*crs)?).map_err(io_err(f))?;
                    }
                    zip_dir(&folder, &path).map_err(|e| ExportError::Write {
                        format: f.short_name(),
                        msg: e,
                    })?;
                }
            }
            Sink::Csv(w) => {
                let mut b = w.finish().map_err(io_err(f))?;
                b.flush().map_err(io_err(f))?;
            }
            Sink::Xlsx(w) => w.save(&path)?,
            Sink::Pending => {
                return Err(ExportError::Write {
                    format: f.short_name(),
                    msg: "no layer was written".into(),
                })
            }
        }
        let file = File::open(&path).map_err(io_err(f))?;
        let len = file.metadata().map_err(io_err(f))?.len();
        // The open handle keeps the data readable after the directory goes.
        drop(self.dir);
        Ok(ExportFile {
            file,
            len,
            name,
            format: f,
            features: self.features,
        })
    }
}

/// The column names of a CSV/XLSX table: `fid`, the fields, then the
/// geometry as `lon`,`lat` (geographic) or `x`,`y` for points, else `WKT`.
fn table_headers(cur: &Current) -> Vec<String> {
    let mut h = vec!["fid".to_owned()];
    h.extend(cur.fields.iter().map(|f| f.name.clone()));
    match (cur.geometry, cur.xy) {
        (None, _) => {}
        (Some(_), true) if cur.crs.is_geographic() => h.extend(["lon".into(), "lat".into()]),
        (Some(_), true) => h.extend(["x".into(), "y".into()]),
        (Some(_), false) => h.push("WKT".into()),
    }
    h
}

/// The geometry cells of a CSV/XLSX row (empty cells for no geometry).
fn geometry_cells(
    cur: &Current,
    g: Option<&Geometry<f64>>,
    mut cell: impl FnMut(ValueRef<'_>) -> Result<(), ExportError>,
) -> Result<(), ExportError> {
    if cur.geometry.is_none() {
        return Ok(());
    }
    let d = cur.crs.coord_decimals();
    if cur.xy {
        let p = match g {
            Some(Geometry::Point(p)) => Some(p.0),
            _ => None,
        };
        let mut s = String::new();
        for v in p.map(|c| [c.x, c.y]).into_iter().flatten() {
            s.clear();
            push_num(&mut s, v, d);
            cell(ValueRef::Real(s.parse().unwrap_or(v)))?;
        }
        if p.is_none() {
            cell(ValueRef::Null)?;
            cell(ValueRef::Null)?;
        }
        return Ok(());
    }
    match g {
        Some(g) => {
            let mut s = String::new();
            push_wkt(&mut s, g, d);
            cell(ValueRef::Text(&s))
        }
        None => cell(ValueRef::Null),
    }
}

/// Commits the GeoPackage's open transaction.
fn commit(ds: &Dataset, f: FileFormat) -> Result<(), ExportError> {
    // SAFETY: the dataset handle is valid for the life of `ds`.
    let rv = unsafe { gdal_sys::GDALDatasetCommitTransaction(ds.c_dataset()) };
    if rv != gdal_sys::OGRErr::OGRERR_NONE {
        return Err(ExportError::Write {
            format: f.short_name(),
            msg: format!("cannot commit: {}", last_gdal_error()),
        });
    }
    Ok(())
}

/// Creates a layer and its columns; answers its index and the column
/// names as created (`fid` first except in a GeoPackage; DBF names cut).
fn create_gdal_layer(
    ds: &mut Dataset,
    f: FileFormat,
    spec: &ExportLayer<'_>,
) -> Result<(usize, Vec<String>), ExportError> {
    let err = gdal_err(f);
    let mut srs = gdal::spatial_ref::SpatialRef::from_epsg(spec.crs.epsg()).map_err(&err)?;
    // Coordinates are fed x,y (longitude first): keep them so.
    srs.set_axis_mapping_strategy(gdal::spatial_ref::AxisMappingStrategy::TraditionalGisOrder);
    let ty = match spec.geometry_type {
        None => OGRwkbGeometryType::wkbNone,
        Some(GeometryType::Point) => OGRwkbGeometryType::wkbPoint,
        Some(GeometryType::MultiPoint) => OGRwkbGeometryType::wkbMultiPoint,
        Some(GeometryType::LineString) => OGRwkbGeometryType::wkbLineString,
        Some(GeometryType::MultiLineString) => OGRwkbGeometryType::wkbMultiLineString,
        Some(GeometryType::Polygon) => OGRwkbGeometryType::wkbPolygon,
        Some(GeometryType::MultiPolygon) => OGRwkbGeometryType::wkbMultiPolygon,
    };
    let options: &[&str] = match f {
        FileFormat::Gpkg => &["GEOMETRY_NAME=geom", "FID=fid"],
        // RESIZE shrinks the 254-character text columns to their longest
        // value when the file is closed.
        FileFormat::ShpZip => &["ENCODING=UTF-8", "RESIZE=YES", "SPATIAL_INDEX=NO"],
        _ => &[],
    };
    let name = if f == FileFormat::ShpZip {
        safe_stem(spec.name)
    } else {
        spec.name.to_owned()
    };
    let layer = ds
        .create_layer(LayerOptions {
            name: &name,
            srs: spec.geometry_type.map(|_| &srs),
            ty,
            options: Some(options),
        })
        .map_err(&err)?;
    let mut names: Vec<String> = spec.fields.iter().map(|x| x.name.clone()).collect();
    let mut types: Vec<FieldType> = spec.fields.iter().map(|x| x.ty).collect();
    if f != FileFormat::Gpkg {
        names.insert(0, "fid".into());
        types.insert(0, FieldType::Integer);
    }
    if f == FileFormat::ShpZip {
        names = dbf_field_names(&names);
    }
    for (name, ty) in names.iter().zip(types) {
        let (t, sub, width) = match ty {
            FieldType::Boolean => (OGRFieldType::OFTInteger, OGRFieldSubType::OFSTBoolean, 0),
            FieldType::Integer => (OGRFieldType::OFTInteger64, OGRFieldSubType::OFSTNone, 0),
            FieldType::Real => (OGRFieldType::OFTReal, OGRFieldSubType::OFSTNone, 0),
            FieldType::Date => (OGRFieldType::OFTDate, OGRFieldSubType::OFSTNone, 0),
            // A DBF has no date-time type; text keeps the ISO 8601 value.
            FieldType::DateTime if f == FileFormat::ShpZip => {
                (OGRFieldType::OFTString, OGRFieldSubType::OFSTNone, 25)
            }
            FieldType::DateTime => (OGRFieldType::OFTDateTime, OGRFieldSubType::OFSTNone, 0),
            // The widest DBF text column; RESIZE narrows it afterwards.
            FieldType::Text if f == FileFormat::ShpZip => {
                (OGRFieldType::OFTString, OGRFieldSubType::OFSTNone, 254)
            }
            FieldType::Text => (OGRFieldType::OFTString, OGRFieldSubType::OFSTNone, 0),
        };
        let c = std::ffi::CString::new(name.as_str()).map_err(|e| ExportError::Write {
            format: f.short_name(),
            msg: e.to_string(),
        })?;
        // SAFETY: the field definition is created, used and destroyed here;
        // OGR_L_CreateField copies it.
        let rv = unsafe {
            let fd = gdal_sys::OGR_Fld_Create(c.as_ptr(), t);
            gdal_sys::OGR_Fld_SetSubType(fd, sub);
            if width > 0 {
                gdal_sys::OGR_Fld_SetWidth(fd, width);
            }
            let rv = gdal_sys::OGR_L_CreateField(layer.c_layer(), fd, 1);
            gdal_sys::OGR_Fld_Destroy(fd);
            rv
        };
        if rv != gdal_sys::OGRErr::OGRERR_NONE {
            return Err(ExportError::Write {
                format: f.short_name(),
                msg: format!("cannot create field {name}: {}", last_gdal_error()),
            });
        }
    }
    Ok((ds.layer_count() - 1, names))
}

/// DBF field names: at most 10 bytes, unique ignoring case (the DBF
/// compares them so): a name cut short that collides gets `_1`, `_2` …
/// in its last characters.
///
/// ```
/// use geoplan::store::export::dbf_field_names;
/// let n = dbf_field_names(&["land_use_code".into(), "land_use_code_2024".into(), "fid".into()]);
/// assert_eq!(n, ["land_use_c", "land_use_1", "fid"]);
/// ```
pub fn dbf_field_names(names: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(names.len());
    let taken = |out: &[String], n: &str| out.iter().any(|o| o.eq_ignore_ascii_case(n));
    for name in names {
        let ascii: String = name
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        let cut: String = ascii.chars().take(10).collect();
        let mut n = cut.clone();
        let mut k = 1;
        while taken(&out, &n) {
            let suffix = format!("_{k}");
            n = format!("{}{suffix}", &cut[..cut.len().min(10 - suffix.len())]);
            k += 1;
        }
        out.push(n);
    }
    out
}

/// The `.prj` of a Shapefile in `crs`: OGC WKT1 as GDAL writes it, with
/// `TOWGS84[...]` in the datum of every VN-2000 CRS (the position-vector
/// values of [`VN2000_TOWGS84`], which PROJ reads back as the official
/// EPSG:6960 shift).
pub fn prj_wkt(crs: Crs) -> Result<String, ExportError> {
    let err = gdal_err(FileFormat::ShpZip);
    let srs = gdal::spatial_ref::SpatialRef::from_epsg(crs.epsg()).map_err(&err)?;
    let geog = CStringPair::new("GEOGCS");
    // SAFETY: the handle is valid for the life of `srs`; the returned
    // string is owned by it and copied at once.
    let on_vn2000 = unsafe {
        let p = gdal_sys::OSRGetAuthorityCode(srs.to_c_hsrs(), geog.0.as_ptr());
        !p.is_null() && std::ffi::CStr::from_ptr(p).to_bytes() == VN2000_GEOGCS.as_bytes()
    } || crs.epsg() == 4756;
    if on_vn2000 {
        let v: Vec<f64> = VN2000_TOWGS84
            .split(',')
            .map(|x| x.parse().expect("the constant is seven numbers"))
            .collect();
        // SAFETY: as above; OSRSetTOWGS84 copies the seven numbers.
        let rv = unsafe {
            gdal_sys::OSRSetTOWGS84(srs.to_c_hsrs(), v[0], v[1], v[2], v[3], v[4], v[5], v[6])
        };
        if rv != gdal_sys::OGRErr::OGRERR_NONE {
            return Err(ExportError::Write {
                format: "shp",
                msg: format!("cannot set TOWGS84: {}", last_gdal_error()),
            });
        }
    }
    srs.to_wkt().map_err(&err)
}

struct CStringPair(std::ffi::CString);

impl CStringPair {
    fn new(s: &str) -> Self {
        CStringPair(std::ffi::CString::new(s).expect("no NUL"))
    }
}

/// Zips every file of `dir` (flat, names as they are) into `to`.
fn zip_dir(dir: &Path, to: &Path) -> Result<(), String> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| e.to_string())?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    entries.sort();
    let out = File::create(to).map_err(|e| e.to_string())?;
    let mut z = zip::ZipWriter::new(BufWriter::new(out));
    let mut opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(false);
    // Without a time the entries say 1980; the local time is what a
    // file manager shows for files made now.
    let now = chrono::Local::now().naive_local();
    use chrono::{Datelike, Timelike};
    if let Ok(t) = zip::DateTime::from_date_and_time(
        now.year() as u16,
        now.month() as u8,
        now.day() as u8,
        now.hour() as u8,
        now.minute() as u8,
        now.second() as u8,
    ) {
        opts = opts.last_modified_time(t);
    }
    for p in entries {
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        z.start_file(name, opts).map_err(|e| e.to_string())?;
        let mut f = File::open(&p).map_err(|e| e.to_string())?;
        std::io::copy(&mut f, &mut z).map_err(|e| e.to_string())?;
    }
    z.finish()
        .map_err(|e| e.to_string())?
        .flush()
        .map_err(|e| e.to_string())
}

/// Appends `g` as WKT with `decimals` decimals (the precision rule of
/// [`Crs::coord_decimals`]).
///
/// ```
/// use geo_types::{point, polygon, Geometry};
/// let mut s = String::new();
/// geoplan::store::export::push_wkt(&mut s, &Geometry::Point(point!(x: 108.3267, y: 15.877)), 9);
/// assert_eq!(s, "POINT (108.3267 15.877)");
/// s.clear();
/// let p = polygon![(x: 0.0, y: 0.0), (x: 1.0, y: 0.0), (x: 1.0, y: 1.0)];
/// geoplan::store::export::push_wkt(&mut s, &Geometry::Polygon(p), 4);
/// assert_eq!(s, "POLYGON ((0 0,1 0,1 1,0 0))");
/// ```
pub fn push_wkt(out: &mut String, g: &Geometry<f64>, decimals: usize) {
    fn coords(out: &mut String, cs: &[geo_types::Coord<f64>], d: usize) {
        out.push('(');
        for (i, c) in cs.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            push_num(out, c.x, d);
            out.push(' ');
            push_num(out, c.y, d);
        }
        out.push(')');
    }
    fn polygon(out: &mut String, p: &geo_types::Polygon<f64>, d: usize) {
        out.push('(');
        coords(out, &p.exterior().0, d);
        for r in p.interiors() {
            out.push(',');
            coords(out, &r.0, d);
        }
        out.push(')');
    }
    fn list<T>(out: &mut String, xs: &[T], mut each: impl FnMut(&mut String, &T)) {
        out.push('(');
        for (i, x) in xs.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            each(out, x);
        }
        out.push(')');
    }
    let d = decimals;
    match g {
        Geometry::Point(p) => {
            out.push_str("POINT ");
            coords(out, &[p.0], d);
        }
        Geometry::MultiPoint(mp) => {
            out.push_str("MULTIPOINT ");
            list(out, &mp.0, |o, p| coords(o, &[p.0], d));
        }
        Geometry::LineString(l) => {
            out.push_str("LINESTRING ");
            coords(out, &l.0, d);
        }
        Geometry::MultiLineString(ml) => {
            out.push_str("MULTILINESTRING ");
            list(out, &ml.0, |o, l| coords(o, &l.0, d));
        }
        Geometry::Polygon(p) => {
            out.push_str("POLYGON ");
            polygon(out, p, d);
        }
        Geometry::MultiPolygon(mp) => {
            out.push_str("MULTIPOLYGON ");
            list(out, &mp.0, |o, p| polygon(o, p, d));
        }
        other => {
            let _ = write!(out, "GEOMETRYCOLLECTION EMPTY");
            debug_assert!(false, "not a feature geometry: {other:?}");
        }
    }
}

/// CSV writing, RFC 4180: cells separated by commas, quoted when they
/// hold a comma, quote or line break, rows ended by CRLF; a UTF-8
/// byte-order mark first (see the module's note on Excel). The one CSV
/// writer: exports and `report::table` both write through it.
pub struct CsvWriter<W: Write> {
    w: W,
    line: String,
    empty: bool,
}

impl<W: Write> CsvWriter<W> {
    /// A writer that has written the byte-order mark.
    pub fn new(mut w: W) -> std::io::Result<Self> {
        w.write_all("\u{feff}".as_bytes())?;
        Ok(CsvWriter {
            w,
            line: String::with_capacity(1024),
            empty: true,
        })
    }

    fn sep(&mut self) {
        if !self.empty {
            self.line.push(',');
        }
        self.empty = false;
    }

    /// Appends a text cell.
    pub fn text(&mut self, s: &str) {
        self.sep();
        if s.contains([',', '"', '\n', '\r']) {
            self.line.push('"');
            self.line.push_str(&s.replace('"', "\"\""));
            self.line.push('"');
        } else {
            self.line.push_str(s);
        }
    }

    /// Appends a value: numbers as Rust writes them (decimal point, no
    /// grouping), booleans `true`/`false`, null empty.
    pub fn cell(&mut self, v: ValueRef<'_>) {
        match v {
            ValueRef::Text(s) => self.text(s),
            ValueRef::Null => self.sep(),
            ValueRef::Bool(b) => {
                self.sep();
                self.line.push_str(if b { "true" } else { "false" });
            }
            ValueRef::Int(i) => {
                self.sep();
                let _ = write!(self.line, "{i}");
            }
            ValueRef::Real(x) if x.is_finite() => {
                self.sep();
                let _ = write!(self.line, "{x}");
            }
            ValueRef::Real(_) => self.sep(),
        }
    }

    /// Ends the row and writes it out.
    pub fn end_row(&mut self) -> std::io::Result<()> {
        self.line.push_str("\r\n");
        self.w.write_all(self.line.as_bytes())?;
        self.line.clear();
        self.empty = true;
        Ok(())
    }

    /// The underlying writer.
    pub fn finish(self) -> std::io::Result<W> {
        Ok(self.w)
    }
}

/// An XLSX workbook of one sheet: a bold, frozen header row and typed
/// cells, rows written in order. The one XLSX writer: exports (rows
/// spilled to disk as they are written) and `report::table` use it.
pub struct XlsxWriter {
    wb: rust_xlsxwriter::Workbook,
    row: u32,
    col: u16,
}

fn xlsx_err(e: rust_xlsxwriter::XlsxError) -> ExportError {
    ExportError::Write {
        format: "xlsx",
        msg: e.to_string(),
    }
}

/// Excel's longest cell text.
const XLSX_MAX_CHARS: usize = 32_767;

impl XlsxWriter {
    /// A workbook with one sheet named `sheet` (cut to Excel's 31
    /// characters) and its header row; `constant_memory` writes each row
    /// to a temporary file as the next one starts.
    pub fn new(
        sheet: &str,
        headers: &[String],
        constant_memory: bool,
    ) -> Result<XlsxWriter, ExportError> {
        use rust_xlsxwriter::{Format, Workbook};
        let mut wb = Workbook::new();
        let ws = if constant_memory {
            wb.add_worksheet_with_constant_memory()
        } else {
            wb.add_worksheet()
        };
        let name: String = sheet
            .chars()
            .filter(|c| !"[]:*?/\\".contains(*c))
            .take(31)
            .collect();
        if !name.is_empty() {
            ws.set_name(&name).map_err(xlsx_err)?;
        }
        let bold = Format::new().set_bold();
        for (c, h) in headers.iter().enumerate() {
            ws.set_column_width(c as u16, 18).map_err(xlsx_err)?;
            ws.write_string_with_format(0, c as u16, h, &bold)
                .map_err(xlsx_err)?;
        }
        ws.set_freeze_panes(1, 0).map_err(xlsx_err)?;
        Ok(XlsxWriter { wb, row: 1, col: 0 })
    }

    /// Writes the next cell of the row (null leaves it empty; text beyond
    /// Excel's 32,767 characters is cut with an ellipsis).
    pub fn cell(&mut self, v: ValueRef<'_>) -> Result<(), ExportError> {
        let (r, c) = (self.row, self.col);
        self.col += 1;
        let ws = self.wb.worksheet_from_index(0).map_err(xlsx_err)?;
        match v {
            ValueRef::Null => Ok(()),
            ValueRef::Text(s) if s.len() > XLSX_MAX_CHARS && s.chars().count() > XLSX_MAX_CHARS => {
                let cut: String = s.chars().take(XLSX_MAX_CHARS - 1).collect();
                ws.write_string(r, c, format!("{cut}…")).map(|_| ())
            }
            ValueRef::Text(s) => ws.write_string(r, c, s).map(|_| ()),
            ValueRef::Bool(b) => ws.write_boolean(r, c, b).map(|_| ()),
            ValueRef::Int(i) => ws.write_number(r, c, i as f64).map(|_| ()),
            ValueRef::Real(x) if x.is_finite() => ws.write_number(r, c, x).map(|_| ()),
            ValueRef::Real(_) => Ok(()),
        }
        .map_err(xlsx_err)
    }

    /// Ends the row.
    pub fn end_row(&mut self) {
        self.row += 1;
        self.col = 0;
    }

    /// Writes the workbook to `path`.
    pub fn save(mut self, path: &Path) -> Result<(), ExportError> {
        self.wb.save(path).map_err(xlsx_err)
    }

    /// The workbook as bytes.
    pub fn to_buffer(mut self) -> Result<Vec<u8>, ExportError> {
        self.wb.save_to_buffer().map_err(xlsx_err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo_types::polygon;

    #[test]
    fn the_prj_of_vn2000_carries_the_position_vector_towgs84() {
        for c in [5899, 4756, 5897, 3405] {
            let wkt = prj_wkt(Crs::Epsg(c)).unwrap();
            assert!(
                wkt.contains(
                    "TOWGS84[-191.90441429,-39.30318279,-111.45032835,0.00928836,-0.01975479,0.00427372,0.252906278]"
                ),
                "EPSG:{c}: {wkt}"
            );
        }
        let wgs = prj_wkt(Crs::Epsg(4326)).unwrap();
        assert!(!wgs.contains("TOWGS84[-191"), "{wgs}");
    }

    #[test]
    fn dbf_names_are_cut_to_ten_and_kept_unique() {
        let n = dbf_field_names(&[
            "commune_code".into(),
            "commune_code_2025".into(),
            "commune_codes".into(),
            "COMMUNE_C".into(),
        ]);
        assert_eq!(n, ["commune_co", "commune__1", "commune__2", "COMMUNE_C"]);
        assert!(n.iter().all(|x| x.len() <= 10));
    }

    #[test]
    fn a_csv_export_keeps_diacritics_and_writes_wkt() {
        let fields = [FieldDef::new("address", FieldType::Text)];
        let mut e = Exporter::new(FileFormat::Csv, "parcels test").unwrap();
        e.layer(&ExportLayer {
            name: "parcels",
            geometry_type: Some(GeometryType::Polygon),
            fields: &fields,
            crs: Crs::Epsg(5899),
        })
        .unwrap();
        let g = Geometry::Polygon(polygon![(x: 1.0, y: 2.0), (x: 3.0, y: 2.0), (x: 3.0, y: 4.0)]);
        e.feature(7, Some(&g), &[ValueRef::Text("Phường Minh An, \"Hội An\"")])
            .unwrap();
        let second = e.layer(&ExportLayer {
            name: "roads",
            geometry_type: None,
            fields: &[],
            crs: Crs::Epsg(5899),
        });
        assert!(second.unwrap_err().is_client_error());
        let mut out = e.finish().unwrap();
        assert_eq!(out.name, "parcels-test.csv");
        let mut s = String::new();
        std::io::Read::read_to_string(&mut out.file, &mut s).unwrap();
        assert_eq!(
            s,
            "\u{feff}fid,address,WKT\r\n7,\"Phường Minh An, \"\"Hội An\"\"\",\"POLYGON ((1 2,3 2,3 4,1 2))\"\r\n"
        );
    }
}
