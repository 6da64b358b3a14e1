//! Foreign vector files read with GDAL: the province's Shapefiles (loose
//! or zipped), GeoPackages, KML, GeoJSON, GML, DGN v7 and CSV point lists,
//! from a path or from memory (`/vsimem/`, removed after). What comes out
//! is the file's own view — its fields, values and geometries in its own
//! CRS — with two decisions made the way the province's files need:
//!
//! * **the CRS** ([`decide_crs`]): an EPSG code geoplan supports is taken
//!   as is; a `.prj` describing a VN-2000 TM-3 zone (k = 0.9999, false
//!   easting 500 km, a known central meridian) or UTM 48/49 without the
//!   datum shift — what survey software writes — is read as the matching
//!   VN-2000 code; a file with no CRS is placed by its coordinate ranges
//!   (degrees of the province, TM-3 107°45′ or UTM 48/49 metres); a
//!   reading that puts the data outside the province is refused. The
//!   answer says how it decided.
//! * **the text encoding** of a Shapefile's DBF or a CSV ([`encoding`]):
//!   TCVN3, VNI, Windows-1258 or UTF-8, detected over every text value (or
//!   as told), turned into NFC Unicode. GeoPackage, KML, GeoJSON and GML
//!   are UTF-8 by definition and only normalised.
//!
//! Mapping the fields onto a layer's schema is `import`'s work, not this
//! module's.

pub mod encoding;

use crate::crs::{self, Crs};
use crate::model::{nfc, Value};
use encoding::TextEncoding;
use gdal::vector::{FieldValue, LayerAccess};
use gdal::{Dataset, DatasetOptions, GdalOpenFlags};
use geo_types::{Geometry, Rect};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

/// How to read a file.
#[derive(Debug, Clone, Default)]
pub struct SourceOptions {
    /// The CRS of the coordinates; `None` decides it ([`decide_crs`]).
    pub crs: Option<Crs>,
    /// The encoding of the text; `None` detects it ([`encoding::detect`]).
    pub encoding: Option<TextEncoding>,
    /// The file's layer to read; `None` takes the first with features.
    pub layer: Option<String>,
    /// The most features to read from a file; more is an error.
    pub max_features: Option<usize>,
}

impl SourceOptions {
    /// The options as a user gives them: `crs` (an EPSG code or `auto`),
    /// `encoding` (utf8, tcvn3, vni, cp1258 or `auto`) and the layer.
    pub fn parse(
        crs: Option<&str>,
        encoding: Option<&str>,
        layer: Option<String>,
    ) -> Result<SourceOptions, String> {
        fn auto(v: Option<&str>) -> Option<&str> {
            v.map(str::trim).filter(|v| !v.is_empty() && *v != "auto")
        }
        Ok(SourceOptions {
            crs: auto(crs)
                .map(Crs::parse)
                .transpose()
                .map_err(|e| e.to_string())?,
            encoding: auto(encoding)
                .map(|e| {
                    TextEncoding::parse(e).ok_or_else(|| {
                        format!("encoding '{e}': use auto, utf8, tcvn3, vni or cp1258")
                    })
                })
                .transpose()?,
            layer,
            max_features: None,
        })
    }
}

/// One field of a source file.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceField {
    /// Its name, as the file spells it.
    pub name: String,
    /// GDAL's name of its type (`String`, `Integer`, `Real`, `Date` …).
    pub kind: String,
}

/// One feature of a source file.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceFeature {
    /// Its position in the file, from 1 (what a report names).
    pub n: usize,
    /// Its geometry in the source CRS, Z dropped; `None` when it has none
    /// or GDAL cannot turn it into a simple geometry (`why_no_geometry`).
    pub geometry: Option<Geometry<f64>>,
    /// Why a feature has no geometry, when it had one GDAL could not read.
    pub why_no_geometry: Option<String>,
    /// True when the source geometry was repaired (`make_valid`).
    pub repaired: bool,
    /// One value per [`Source::fields`] entry, text decoded into NFC.
    pub values: Vec<Value>,
}

/// What a source file holds.
#[derive(Debug, Clone)]
pub struct Source {
    /// The file's name.
    pub name: String,
    /// The layer read.
    pub layer: String,
    /// Its fields.
    pub fields: Vec<SourceField>,
    /// Its features, in file order.
    pub features: Vec<SourceFeature>,
    /// The CRS of the geometries.
    pub crs: Crs,
    /// How the CRS was decided, in English.
    pub crs_how: String,
    /// The text encoding read.
    pub encoding: TextEncoding,
    /// How the encoding was decided, in English.
    pub encoding_how: String,
    /// Features whose geometry had Z (dropped).
    pub z_dropped: usize,
    /// What else the report should say about the file (a DGN's elements
    /// left out, labels that fell in no shape).
    pub notes: Vec<String>,
}

/// Why a file cannot be read (each a 400 on the web).
#[derive(Debug, Clone, thiserror::Error, PartialEq)]
pub enum SourceError {
    /// GDAL cannot read it.
    #[error("{name}: not a file GDAL can read as vector data (zipped Shapefile, GeoPackage, KML, GeoJSON, GML, DGN v7, CSV): {why}")]
    Unreadable {
        /// The file's name.
        name: String,
        /// GDAL's reason.
        why: String,
    },
    /// No layer with features (or not the one asked for).
    #[error("{0}")]
    NoLayer(String),
    /// Its CRS cannot be told, or puts it outside the province.
    #[error("{0}")]
    Crs(String),
    /// More features than [`SourceOptions::max_features`].
    #[error("{name}: holds more than {max} features, the most one upload may carry; import it with `geoplan import` on the server, or raise [limits] max_import_features")]
    TooMany {
        /// The file's name.
        name: String,
        /// The limit.
        max: usize,
    },
}

/// Where the province lies, lon/lat, with a margin: a file read outside is
/// read wrongly.
pub const PROVINCE: [f64; 4] = [107.0, 14.5, 109.0, 16.5];

/// VN-2000 / TM-3 107°45′ eastings and northings of the province.
const TM3_RANGE: [f64; 4] = [380_000.0, 1_600_000.0, 660_000.0, 1_820_000.0];

/// UTM zone 49N eastings and northings of the province (west of the
/// central meridian 111°, so eastings are small).
const UTM49_RANGE: [f64; 4] = [40_000.0, 1_600_000.0, 330_000.0, 1_820_000.0];

/// UTM zone 48N eastings and northings of the province (east of 105°).
const UTM48_RANGE: [f64; 4] = [680_000.0, 1_600_000.0, 960_000.0, 1_820_000.0];

/// The VN-2000 TM-3 zones by central meridian (degrees), EPSG 5896–5899
/// and 9205–9218, as PROJ's database defines them.
const TM3_ZONES: &[(f64, u32)] = &[
    (102.0, 5896),
    (105.0, 5897),
    (108.0, 5898),
    (107.75, 5899),
    (103.0, 9205),
    (104.0, 9206),
    (104.5, 9207),
    (104.75, 9208),
    (105.5, 9209),
    (105.75, 9210),
    (106.0, 9211),
    (106.25, 9212),
    (106.5, 9213),
    (107.0, 9214),
    (107.25, 9215),
    (107.5, 9216),
    (108.25, 9217),
    (108.5, 9218),
];

static SEQ: AtomicU64 = AtomicU64::new(0);

/// Files in memory under one `/vsimem/` folder, removed when dropped.
struct MemDir {
    dir: String,
    files: Vec<String>,
}

impl MemDir {
    fn new() -> MemDir {
        MemDir {
            dir: format!(
                "/vsimem/geoplan-source-{}-{}",
                std::process::id(),
                SEQ.fetch_add(1, Ordering::Relaxed)
            ),
            files: Vec::new(),
        }
    }

    /// Puts a file in the folder; returns its path.
    fn put(&mut self, name: &str, bytes: &[u8]) -> Result<String, SourceError> {
        let path = format!("{}/{}", self.dir, safe_file_name(name));
        mem_file(&path, bytes).map_err(|why| SourceError::Unreadable {
            name: name.to_owned(),
            why,
        })?;
        self.files.push(path.clone());
        Ok(path)
    }
}

/// A `/vsimem/` file holding a copy of `bytes` in a buffer of GDAL's own
/// allocator, which GDAL frees when the file is unlinked. (The gdal
/// crate's `create_mem_file` hands GDAL a Rust `Vec` to free with the C
/// library's `free`; geoplan's Rust heap is jemalloc's, see `heap.rs`.)
fn mem_file(path: &str, bytes: &[u8]) -> Result<(), String> {
    let c_path = std::ffi::CString::new(path).map_err(|e| e.to_string())?;
    // SAFETY: `buf` is a fresh GDAL allocation of at least `bytes.len()`
    // bytes, filled before GDAL sees it; with bTakeOwnership GDAL owns it
    // from then on, and on failure it is freed here by GDAL's allocator.
    unsafe {
        let buf = gdal_sys::VSIMalloc(bytes.len().max(1)).cast::<u8>();
        if buf.is_null() {
            return Err(format!("no memory for {} bytes", bytes.len()));
        }
        std::ptr::copy_nonoverlapping(bytes.as_ptr(), buf, bytes.len());
        let handle = gdal_sys::VSIFileFromMemBuffer(c_path.as_ptr(), buf, bytes.len() as u64, 1);
        if handle.is_null() {
            gdal_sys::VSIFree(buf.cast());
            return Err("GDAL could not make the file in memory".to_owned());
        }
        gdal_sys::VSIFCloseL(handle);
    }
    Ok(())
}

impl Drop for MemDir {
    fn drop(&mut self) {
        for f in &self.files {
            let _ = gdal::vsi::unlink_mem_file(f);
        }
    }
}

/// A sent file's name as a file name in a folder of our own: ASCII
/// letters, digits, `.` and `-` kept, anything else (a path separator, a
/// leading `..`) `_`; the extension, which tells the format, survives.
pub fn safe_file_name(name: &str) -> String {
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    match safe.strip_prefix('.') {
        Some(rest) => format!("_{rest}"),
        None => safe,
    }
}

fn lower_ext(name: &str) -> String {
    Path::new(name)
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default()
}

/// The parts of a Shapefile besides its `.shp`: read with it, never alone.
const SIDECARS: &[&str] = &[
    "dbf", "shx", "prj", "cpg", "qix", "sbn", "sbx", "qpj", "xml",
];

/// Reads a file given as bytes; `name` (the file's name) tells a zip or a
/// CSV from the rest.
pub fn read_bytes(bytes: &[u8], name: &str, opts: &SourceOptions) -> Result<Source, SourceError> {
    let mut all = read_set(&[(name.to_owned(), bytes.to_vec())], opts)?;
    Ok(all.remove(0))
}

/// Reads a set of uploaded files (name, bytes): each readable file of it
/// — a Shapefile's `.shp` with the `.dbf`, `.shx`, `.prj` … sent beside
/// it, a zip, a GeoPackage, KML, GeoJSON, CSV … — in the order given.
pub fn read_set(
    files: &[(String, Vec<u8>)],
    opts: &SourceOptions,
) -> Result<Vec<Source>, SourceError> {
    let mut mem = MemDir::new();
    let mut placed = Vec::with_capacity(files.len());
    for (name, bytes) in files {
        if bytes.is_empty() {
            return Err(empty(name));
        }
        placed.push(match lower_ext(name).as_str() {
            "csv" | "txt" => (name.clone(), Placed::Csv(bytes.clone())),
            _ => (name.clone(), Placed::Gdal(mem.put(name, bytes)?)),
        });
    }
    read_placed(placed, opts)
}

/// Reads a set of files an upload wrote into one folder (`(name, path)`,
/// the paths named by [`safe_file_name`]), as [`read_set`] reads them from
/// memory: what a large upload streams to disk instead of holding.
pub fn read_files(
    files: &[(String, std::path::PathBuf)],
    opts: &SourceOptions,
) -> Result<Vec<Source>, SourceError> {
    let mut placed = Vec::with_capacity(files.len());
    for (name, path) in files {
        let unreadable = |e: std::io::Error| SourceError::Unreadable {
            name: name.clone(),
            why: e.to_string(),
        };
        if std::fs::metadata(path).map_err(unreadable)?.len() == 0 {
            return Err(empty(name));
        }
        placed.push(match lower_ext(name).as_str() {
            "csv" | "txt" => (
                name.clone(),
                Placed::Csv(std::fs::read(path).map_err(unreadable)?),
            ),
            _ => (name.clone(), Placed::Gdal(path.display().to_string())),
        });
    }
    read_placed(placed, opts)
}

/// A file of a set, where GDAL finds it (or a CSV's bytes, decoded first).
enum Placed {
    Csv(Vec<u8>),
    Gdal(String),
}

fn empty(name: &str) -> SourceError {
    SourceError::Unreadable {
        name: name.to_owned(),
        why: "the file is empty".into(),
    }
}

/// Reads the primaries of a placed set (every file but a Shapefile's side
/// files; a zip is read inside).
fn read_placed(
    placed: Vec<(String, Placed)>,
    opts: &SourceOptions,
) -> Result<Vec<Source>, SourceError> {
    let names: Vec<String> = placed.iter().map(|(n, _)| n.clone()).collect();
    let primaries: Vec<(String, Placed)> = placed
        .into_iter()
        .filter(|(name, _)| !SIDECARS.contains(&lower_ext(name).as_str()))
        .collect();
    if primaries.is_empty() {
        return Err(SourceError::NoLayer(format!(
            "{}: only a Shapefile's side files; send the .shp with them, or one zip of all",
            names.join(", ")
        )));
    }
    primaries
        .into_iter()
        .map(|(name, p)| match p {
            Placed::Csv(bytes) => read_csv(bytes, &name, opts),
            Placed::Gdal(path) if lower_ext(&name) == "zip" => {
                read_open(&format!("/vsizip/{path}"), &name, opts, false)
            }
            Placed::Gdal(path) => read_open(&path, &name, opts, false),
        })
        .collect()
}

/// Reads a file on disk (a `.zip` is read inside; a `.shp` with its
/// `.dbf`, `.prj` …).
pub fn read_path(path: &Path, opts: &SourceOptions) -> Result<Source, SourceError> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string());
    let ext = lower_ext(&name);
    if ext == "csv" || ext == "txt" {
        let bytes = std::fs::read(path).map_err(|e| SourceError::Unreadable {
            name: name.clone(),
            why: e.to_string(),
        })?;
        return read_csv(bytes, &name, opts);
    }
    let open = if ext == "zip" {
        format!("/vsizip/{}", path.display())
    } else {
        path.display().to_string()
    };
    read_open(&open, &name, opts, false)
}

/// A CSV: its bytes decoded first (GDAL reads CSV text as UTF-8), then
/// read from memory as UTF-8 with points from its coordinate columns or a
/// WKT column.
fn read_csv(bytes: Vec<u8>, name: &str, opts: &SourceOptions) -> Result<Source, SourceError> {
    let (enc, how) = match opts.encoding {
        Some(e) => (e, format!("{} as given", e.name())),
        None => {
            let d = encoding::detect(bytes.split(|&b| b == b'\n'));
            (d.encoding, d.how)
        }
    };
    let text = encoding::decode(&bytes, enc);
    let mut mem = MemDir::new();
    let path = mem.put(name, text.as_bytes())?;
    let mut src = read_open(&path, name, opts, true)?;
    src.encoding = enc;
    src.encoding_how = how;
    Ok(src)
}

/// The CSV driver's options: points from the usual coordinate column
/// names (English and Vietnamese), or a WKT column; types guessed.
const CSV_OPTIONS: &[&str] = &[
    "X_POSSIBLE_NAMES=x,lon,long,lng,longitude,kinh_do,kinhdo,easting,toa_do_x,toadox",
    "Y_POSSIBLE_NAMES=y,lat,latitude,vi_do,vido,northing,toa_do_y,toadoy",
    "GEOM_POSSIBLE_NAMES=wkt,geometry,geom,the_geom",
    "KEEP_GEOM_COLUMNS=NO",
    "AUTODETECT_TYPE=YES",
];

fn read_open(
    path: &str,
    name: &str,
    opts: &SourceOptions,
    csv: bool,
) -> Result<Source, SourceError> {
    // A DBF's bytes come through as Latin-1 (one char per byte, nothing
    // lost), for detection below; the other formats are UTF-8.
    let shp_options: &[&str] = &["ENCODING=ISO-8859-1"];
    let ds = Dataset::open_ex(
        path,
        DatasetOptions {
            open_flags: GdalOpenFlags::GDAL_OF_VECTOR | GdalOpenFlags::GDAL_OF_READONLY,
            open_options: Some(if csv { CSV_OPTIONS } else { shp_options }),
            ..Default::default()
        },
    )
    .map_err(|e| SourceError::Unreadable {
        name: name.to_owned(),
        why: e.to_string(),
    })?;
    let driver = ds.driver().short_name();
    let latin1 = driver == "ESRI Shapefile";
    // DGN v7 text is bytes in whatever the font drew (TCVN3 for Famis).
    let raw_text = driver == "DGN";
    let mut names = Vec::new();
    let mut chosen = None;
    for (i, layer) in ds.layers().enumerate() {
        let lname = layer.name();
        let fits = match &opts.layer {
            Some(want) => &lname == want,
            None => layer.feature_count() > 0,
        };
        if fits && chosen.is_none() {
            chosen = Some(i);
        }
        names.push(lname);
    }
    let Some(index) = chosen else {
        return Err(SourceError::NoLayer(match &opts.layer {
            Some(want) => format!(
                "{name}: has no layer '{want}'; its layers: {}",
                names.join(", ")
            ),
            None => format!("{name}: holds no feature"),
        }));
    };
    let mut layer = ds.layer(index).map_err(|e| SourceError::Unreadable {
        name: name.to_owned(),
        why: e.to_string(),
    })?;
    let fields: Vec<SourceField> = layer
        .defn()
        .fields()
        .map(|f| SourceField {
            name: nfc(&f.name()),
            kind: gdal::vector::field_type_to_name(f.field_type()),
        })
        .collect();
    let srs = layer.spatial_ref();
    let lname = layer.name();
    // First pass: values as read (text still raw), geometries.
    let mut raw: Vec<RawFeature> = Vec::new();
    let mut z_dropped = 0;
    let no_opts = gdal::cpl::CslStringList::new();
    for (k, f) in layer.features().enumerate() {
        if let Some(max) = opts.max_features.filter(|m| k >= *m) {
            return Err(SourceError::TooMany {
                name: name.to_owned(),
                max,
            });
        }
        let mut values = Vec::with_capacity(fields.len());
        for (i, field) in fields.iter().enumerate() {
            values.push(match f.field(i) {
                Ok(Some(FieldValue::StringValue(_))) if raw_text && field.kind == "String" => {
                    field_bytes(&f, i).map_or(Raw::Null, Raw::Bytes)
                }
                Ok(Some(v)) => Raw::from_gdal(v, latin1),
                _ => Raw::Null,
            });
        }
        let (mut geometry, mut why, mut repaired) = (None, None, false);
        if let Some(g) = f.geometry() {
            if !g.is_empty() {
                let mut g = g.clone();
                if gdal::vector::geometry_type_has_z(g.geometry_type()) {
                    z_dropped += 1;
                    g.flatten_to_2d();
                }
                let g = if is_polygonal(g.geometry_type()) && !g.is_valid() {
                    match g.make_valid(&no_opts) {
                        Ok(v) => {
                            repaired = true;
                            v
                        }
                        Err(_) => g,
                    }
                } else {
                    g
                };
                match g.to_geo() {
                    Ok(x) => geometry = Some(x),
                    Err(e) => why = Some(e.to_string()),
                }
            }
        }
        raw.push(RawFeature {
            n: k + 1,
            geometry,
            why,
            repaired,
            values,
        });
    }
    // The text encoding, over every text value of the file.
    let (enc, enc_how) = match opts.encoding {
        Some(e) => (e, format!("{} as given", e.name())),
        None if latin1 || raw_text => {
            let bytes: Vec<Vec<u8>> = raw
                .iter()
                .flat_map(|r| r.values.iter())
                .filter_map(|v| match v {
                    Raw::Bytes(b) => Some(b.clone()),
                    _ => None,
                })
                .collect();
            let d = encoding::detect(bytes.iter().map(Vec::as_slice));
            (d.encoding, d.how)
        }
        None => (
            TextEncoding::Utf8,
            format!("{driver} text is UTF-8 by definition"),
        ),
    };
    let features: Vec<SourceFeature> = raw
        .into_iter()
        .map(|r| SourceFeature {
            n: r.n,
            geometry: r.geometry,
            why_no_geometry: r.why,
            repaired: r.repaired,
            values: r.values.into_iter().map(|v| v.decode(enc)).collect(),
        })
        .collect();
    let mut notes = Vec::new();
    let (fields, features) = if driver == "DGN" {
        dgn_shapes_with_labels(fields, features, &mut notes)
    } else {
        (fields, features)
    };
    let (crs, crs_how) = match opts.crs {
        Some(c) => (c, format!("{} as given", c.urn())),
        None => {
            let bbox = features
                .iter()
                .filter_map(|f| f.geometry.as_ref())
                .filter_map(geo::BoundingRect::bounding_rect)
                .reduce(crate::model::union_rect);
            match bbox {
                Some(r) => decide_crs(srs, r, name)?,
                None => (
                    crs::VN2000_TM3_10745,
                    "the file holds no geometry".to_owned(),
                ),
            }
        }
    };
    Ok(Source {
        name: name.to_owned(),
        layer: lname,
        fields,
        features,
        crs,
        crs_how,
        encoding: enc,
        encoding_how: enc_how,
        z_dropped,
        notes,
    })
}

fn is_polygonal(t: gdal::vector::OGRwkbGeometryType::Type) -> bool {
    use gdal::vector::OGRwkbGeometryType as T;
    matches!(
        gdal::vector::geometry_type_flatten(t),
        T::wkbPolygon | T::wkbMultiPolygon
    )
}

/// The bytes of a text field as the file holds them (GDAL's own reading
/// of them may not be UTF-8, which the gdal crate would replace).
fn field_bytes(f: &gdal::vector::Feature<'_>, i: usize) -> Option<Vec<u8>> {
    let i = std::os::raw::c_int::try_from(i).ok()?;
    // SAFETY: the handle is the live feature's; the string GDAL returns is
    // owned by the feature and copied before the feature can change.
    unsafe {
        let h = f.c_feature();
        if gdal_sys::OGR_F_IsFieldSetAndNotNull(h, i) == 0 {
            return None;
        }
        let p = gdal_sys::OGR_F_GetFieldAsString(h, i);
        (!p.is_null()).then(|| std::ffi::CStr::from_ptr(p).to_bytes().to_vec())
    }
}

/// A DGN v7 drawing as cadastral software (Famis, gCadas) leaves it:
/// parcels as shapes, their labels as text elements inside them ("345",
/// "120.5", "ODT", or one "345/120.5/ODT"). Each shape becomes a feature
/// whose fields are read from the labels inside it: `SoThua` (the first
/// whole number), `DienTich` (the next number), `LoaiDat` (land-use
/// codes), `KyHieu` (a symbol such as "OM-01"), `NhanThua` (every label)
/// and the element's `Level`. Other elements are left out, and said so.
fn dgn_shapes_with_labels(
    fields: Vec<SourceField>,
    features: Vec<SourceFeature>,
    notes: &mut Vec<String>,
) -> (Vec<SourceField>, Vec<SourceFeature>) {
    use geo::Contains;
    let text_col = fields.iter().position(|f| f.name == "Text");
    let level_col = fields.iter().position(|f| f.name == "Level");
    let mut shapes = Vec::new();
    let mut labels: Vec<(geo_types::Point<f64>, String)> = Vec::new();
    let mut other = 0;
    for f in features {
        match (&f.geometry, text_col.map(|c| &f.values[c])) {
            (Some(Geometry::Polygon(_) | Geometry::MultiPolygon(_)), _) => shapes.push(f),
            (Some(Geometry::Point(p)), Some(Value::Text(t))) => labels.push((*p, t.clone())),
            _ => other += 1,
        }
    }
    let mut used = vec![false; labels.len()];
    let out_fields = [
        "SoThua", "DienTich", "LoaiDat", "KyHieu", "NhanThua", "Level",
    ]
    .map(|n| SourceField {
        name: n.to_owned(),
        kind: if n == "SoThua" || n == "Level" {
            "Integer".to_owned()
        } else if n == "DienTich" {
            "Real".to_owned()
        } else {
            "String".to_owned()
        },
    })
    .to_vec();
    let out: Vec<SourceFeature> = shapes
        .into_iter()
        .map(|f| {
            let g = f.geometry.as_ref().expect("a shape has a geometry");
            let mut texts = Vec::new();
            for (k, (p, t)) in labels.iter().enumerate() {
                if g.contains(p) {
                    used[k] = true;
                    texts.push(t.clone());
                }
            }
            let (mut number, mut area, mut codes, mut symbol) = (None, None, Vec::new(), None);
            for tok in texts.iter().flat_map(|t| t.split(['/', ' ', '\n', ';'])) {
                let tok = tok.trim();
                if tok.is_empty() {
                    continue;
                }
                let numeric = tok.replace(',', ".");
                if number.is_none() && tok.chars().all(|c| c.is_ascii_digit()) {
                    number = tok.parse::<i64>().ok();
                } else if area.is_none() && numeric.parse::<f64>().is_ok() {
                    area = numeric.parse::<f64>().ok();
                } else if tok.len() <= 11
                    && tok.split('+').all(|c| {
                        (2..=3).contains(&c.len()) && c.chars().all(|ch| ch.is_ascii_uppercase())
                    })
                {
                    codes.push(tok.to_owned());
                } else if symbol.is_none() {
                    symbol = Some(tok.to_owned());
                }
            }
            let level = level_col.map_or(Value::Null, |c| f.values[c].clone());
            let text = |o: Option<String>| o.map_or(Value::Null, Value::Text);
            SourceFeature {
                values: vec![
                    number.map_or(Value::Null, Value::Int),
                    area.map_or(Value::Null, Value::Real),
                    text((!codes.is_empty()).then(|| codes.join("+"))),
                    text(symbol),
                    text((!texts.is_empty()).then(|| texts.join(" / "))),
                    level,
                ],
                ..f
            }
        })
        .collect();
    let stray = used.iter().filter(|u| !**u).count();
    notes.push(format!(
        "DGN: {} shapes read as features with the {} labels inside them",
        out.len(),
        labels.len() - stray
    ));
    if stray > 0 {
        notes.push(format!(
            "DGN: {stray} text elements lie in no shape (left out)"
        ));
    }
    if other > 0 {
        notes.push(format!(
            "DGN: {other} other elements (lines, cells, arcs …) left out: parcels are read from shapes"
        ));
    }
    (out_fields, out)
}

/// A feature as GDAL gave it, its text not yet decoded.
struct RawFeature {
    n: usize,
    geometry: Option<Geometry<f64>>,
    why: Option<String>,
    repaired: bool,
    values: Vec<Raw>,
}

/// A value as GDAL gave it; text still in the file's bytes.
enum Raw {
    Null,
    Value(Value),
    /// Text from a DBF: one byte per char (read as Latin-1).
    Bytes(Vec<u8>),
    /// Text that is UTF-8 already.
    Text(String),
}

impl Raw {
    fn from_gdal(v: FieldValue, latin1: bool) -> Raw {
        match v {
            FieldValue::IntegerValue(i) => Raw::Value(Value::Int(i64::from(i))),
            FieldValue::Integer64Value(i) => Raw::Value(Value::Int(i)),
            FieldValue::RealValue(r) => Raw::Value(Value::Real(r)),
            FieldValue::DateValue(d) => Raw::Value(Value::Text(d.format("%Y-%m-%d").to_string())),
            FieldValue::DateTimeValue(d) => Raw::Value(Value::Text(d.to_rfc3339())),
            FieldValue::StringValue(s) if latin1 => {
                // Chars above U+00FF cannot come from a Latin-1 reading;
                // keep such text as it is.
                if s.chars().all(|c| (c as u32) < 256) {
                    Raw::Bytes(s.chars().map(|c| c as u8).collect())
                } else {
                    Raw::Text(s)
                }
            }
            FieldValue::StringValue(s) => Raw::Text(s),
            FieldValue::IntegerListValue(v) => Raw::Text(join(v)),
            FieldValue::Integer64ListValue(v) => Raw::Text(join(v)),
            FieldValue::RealListValue(v) => Raw::Text(join(v)),
            FieldValue::StringListValue(v) => Raw::Text(v.join(", ")),
        }
    }

    fn decode(self, enc: TextEncoding) -> Value {
        match self {
            Raw::Null => Value::Null,
            Raw::Value(v) => v,
            Raw::Bytes(b) => text_value(encoding::decode(&b, enc)),
            Raw::Text(s) => text_value(nfc(&s)),
        }
    }
}

fn text_value(s: String) -> Value {
    let t = s.trim();
    if t.is_empty() {
        Value::Null
    } else if t.len() == s.len() {
        Value::Text(s)
    } else {
        Value::Text(t.to_owned())
    }
}

fn join<T: ToString>(v: Vec<T>) -> String {
    v.iter().map(T::to_string).collect::<Vec<_>>().join(", ")
}

fn inside(r: Rect<f64>, b: [f64; 4]) -> bool {
    r.min().x >= b[0] && r.min().y >= b[1] && r.max().x <= b[2] && r.max().y <= b[3]
}

/// The CRS of coordinates whose bounding box is `bbox`, from the file's
/// spatial reference `srs` if it has one, and how it was decided. A CRS
/// that puts the data outside the province is refused (`Err`, naming the
/// file `name`).
pub fn decide_crs(
    srs: Option<gdal::spatial_ref::SpatialRef>,
    bbox: Rect<f64>,
    name: &str,
) -> Result<(Crs, String), SourceError> {
    let r = bbox;
    let (crs, how) = match srs {
        // GeoJSON always says WGS 84, whatever its coordinates are.
        Some(s) if s.is_geographic() && inside(r, TM3_RANGE) => (
            crs::VN2000_TM3_10745,
            "the file says WGS 84 but holds eastings/northings of the province: read as VN-2000 / TM-3 107°45′ (EPSG:5899)".to_owned(),
        ),
        Some(s) => from_srs(&s, name)?,
        None => by_ranges(r).ok_or_else(|| {
            SourceError::Crs(format!(
                "{name}: names no CRS, and its coordinates ({:.3}, {:.3} … {:.3}, {:.3}) are neither degrees nor VN-2000 TM-3 or UTM metres of Thành phố Đà Nẵng; save it with a .prj or give the CRS",
                r.min().x, r.min().y, r.max().x, r.max().y
            ))
        })?,
    };
    // A reading that puts the data outside the province is refused.
    let (lo, hi) = crs::transform_bbox(crs, Crs::Crs84, r.min(), r.max())
        .map_err(|e| SourceError::Crs(e.to_string()))?;
    if !inside(Rect::new(lo, hi), PROVINCE) {
        return Err(SourceError::Crs(format!(
            "{name}: read as {} ({how}), the data lies at {:.4}, {:.4} (lon, lat), outside Thành phố Đà Nẵng; the file's CRS is wrong or missing",
            crs.urn(),
            (lo.x + hi.x) / 2.0,
            (lo.y + hi.y) / 2.0
        )));
    }
    Ok((crs, how))
}

/// An untagged file placed by its coordinate ranges.
fn by_ranges(r: Rect<f64>) -> Option<(Crs, String)> {
    let say = |what: &str, read: &str| {
        format!("the file names no CRS; its coordinates are {what} of the province, read as {read}")
    };
    if inside(r, PROVINCE) {
        Some((Crs::Crs84, say("degrees", "WGS 84 longitude/latitude")))
    } else if inside(r, TM3_RANGE) {
        Some((
            crs::VN2000_TM3_10745,
            say(
                "eastings/northings of the TM-3 107°45′ grid",
                "VN-2000 / TM-3 107°45′ (EPSG:5899)",
            ),
        ))
    } else if inside(r, UTM49_RANGE) {
        Some((
            Crs::Epsg(3406),
            say(
                "UTM zone 49N eastings/northings",
                "VN-2000 / UTM zone 49N (EPSG:3406)",
            ),
        ))
    } else if inside(r, UTM48_RANGE) {
        Some((
            Crs::Epsg(3405),
            say(
                "UTM zone 48N eastings/northings",
                "VN-2000 / UTM zone 48N (EPSG:3405)",
            ),
        ))
    } else {
        None
    }
}

fn from_srs(s: &gdal::spatial_ref::SpatialRef, name: &str) -> Result<(Crs, String), SourceError> {
    let told = s.auth_code().is_ok();
    let shift = s.to_wkt().is_ok_and(|w| w.contains("TOWGS84"));
    let mut s = s.clone();
    let _ = s.auto_identify_epsg();
    if let Ok(code) = s.auth_code() {
        if s.is_geographic() && code == 4326 {
            return Ok((
                Crs::Crs84,
                "WGS 84 (EPSG:4326) as the file says, longitude/latitude".to_owned(),
            ));
        }
        if let Ok(c) = Crs::parse(&format!("EPSG:{code}")) {
            let mut how = if told {
                format!("EPSG:{code}, the file's CRS")
            } else {
                format!("the .prj matches EPSG:{code}")
            };
            let vn2000 = TM3_ZONES.iter().any(|z| i64::from(z.1) == i64::from(code))
                || matches!(code, 3405 | 3406);
            if vn2000 && !shift {
                how.push_str(
                    "; it carries no datum shift, so VN-2000's official one (EPSG:6960) is used",
                );
            }
            return Ok((c, how));
        }
    }
    let param = |n: &str| s.get_proj_param(n).ok().flatten();
    let tm = s
        .get_attr_value("PROJECTION", 0)
        .ok()
        .flatten()
        .is_some_and(|p| p.to_ascii_lowercase().contains("transverse_mercator"));
    let near = |v: Option<f64>, want: f64, tol: f64| v.is_some_and(|v| (v - want).abs() <= tol);
    let datum_wgs84 = s
        .get_attr_value("DATUM", 0)
        .ok()
        .flatten()
        .is_some_and(|d| d.to_ascii_uppercase().contains("WGS") && d.contains("84"));
    if tm
        && near(param("false_easting"), 500_000.0, 1e-3)
        && near(param("false_northing"), 0.0, 1e-3)
        && !datum_wgs84
    {
        let cm = param("central_meridian");
        if near(param("scale_factor"), 0.9999, 1e-9) {
            if let Some(&(deg, code)) = TM3_ZONES.iter().find(|(d, _)| near(cm, *d, 1e-6)) {
                let (d, m) = (deg.trunc(), ((deg - deg.trunc()) * 60.0).round());
                return Ok((
                    Crs::Epsg(code),
                    format!("the .prj describes a TM-3 grid (k 0.9999, central meridian {d}°{m:02}′) without the VN-2000 datum shift: read as VN-2000 / TM-3 (EPSG:{code}), with it"),
                ));
            }
        }
        if near(param("scale_factor"), 0.9996, 1e-9) {
            for (deg, code) in [(105.0, 3405), (111.0, 3406)] {
                if near(cm, deg, 1e-6) {
                    return Ok((
                        Crs::Epsg(code),
                        format!("the .prj describes UTM (central meridian {deg}°) on a datum other than WGS 84: read as VN-2000 / UTM (EPSG:{code})"),
                    ));
                }
            }
        }
    }
    if s.is_geographic() {
        return Ok((
            Crs::Crs84,
            "a geographic CRS without an EPSG code, read as WGS 84 longitude/latitude".to_owned(),
        ));
    }
    Err(SourceError::Crs(format!(
        "{name}: its CRS ({}) is not one geoplan reads; use WGS 84, VN-2000 / TM-3 (EPSG:5899, 5896–5898, 9205–9218), VN-2000 / UTM (3405, 3406) or give the CRS",
        s.to_proj4().unwrap_or_else(|_| "unnamed".into()).trim()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    const POINTS: &str = r#"{"type":"FeatureCollection","features":[
        {"type":"Feature","properties":{"ten":"Chợ Hàn"},"geometry":{"type":"Point","coordinates":[108.2244,16.068]}},
        {"type":"Feature","properties":{"ten":"Cầu Rồng"},"geometry":{"type":"Point","coordinates":[108.2278,16.0613]}},
        {"type":"Feature","properties":{"ten":"Hội An"},"geometry":{"type":"Point","coordinates":[108.335,15.88]}}]}"#;

    #[test]
    fn a_file_past_the_feature_limit_is_refused_and_says_why() {
        let opts = SourceOptions {
            max_features: Some(2),
            ..Default::default()
        };
        let e = read_bytes(POINTS.as_bytes(), "diem.geojson", &opts).unwrap_err();
        assert_eq!(
            e,
            SourceError::TooMany {
                name: "diem.geojson".into(),
                max: 2
            }
        );
        assert!(e.to_string().contains("max_import_features"), "{e}");
        let all = read_bytes(POINTS.as_bytes(), "diem.geojson", &SourceOptions::default()).unwrap();
        assert_eq!(all.features.len(), 3);
        assert_eq!(all.crs, Crs::Crs84);
        assert_eq!(all.features[2].values[0], Value::Text("Hội An".into()));
    }

    #[test]
    fn options_read_auto_codes_and_names_and_refuse_the_rest() {
        let o = SourceOptions::parse(Some("auto"), Some("TCVN3"), None).unwrap();
        assert_eq!((o.crs, o.encoding), (None, Some(TextEncoding::Tcvn3)));
        let o = SourceOptions::parse(Some("EPSG:5899"), None, None).unwrap();
        assert_eq!(o.crs, Some(crs::VN2000_TM3_10745));
        assert!(SourceOptions::parse(Some("EPSG:2154"), None, None).is_err());
        assert!(SourceOptions::parse(None, Some("latin9"), None)
            .unwrap_err()
            .contains("tcvn3"));
    }
}
