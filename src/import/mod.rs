//! Importing the province's files into a layer: the features read by
//! [`crate::store::source`] (CRS and text encoding decided there) mapped
//! onto the layer's schema ([`fields`]), reprojected into its storage CRS,
//! their geometry repaired or refused, legacy land-use codes brought to
//! TT 08/2024, areas in hectares turned into m², duplicates of the key
//! found — and turned into one list of [`LayerEdit`]s that a store writes
//! in one transaction (all or nothing), with a [`Report`] of what was
//! read, written, repaired and refused, and why.
//!
//! No IO here: `geoplan import` writes the edits through the store, and
//! `POST /import` through the server's commit path (engine and tiles
//! updated per changed feature, as WFS-T edits are).

pub mod fields;

use crate::crs::{self, Crs};
use crate::model::{
    conform_geometry, Edit, FeatureUpdate, FieldType, GeometryType, LayerData, LayerEdit,
    NewFeature, Value, ValueRef, WriteResult,
};
use crate::store::source::Source;
use fields::{Feed, MappingFile};
use geo::{Area, MapCoords};
use geo_types::{Geometry, MultiLineString, MultiPoint, MultiPolygon};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// How the imported features meet those already in the layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Added beside them (a key already in the layer is refused).
    Append,
    /// Every feature of the layer is deleted, the file's take their place.
    Replace,
    /// A feature whose key is in the layer updates it; the rest are added.
    Upsert,
}

impl Mode {
    /// Parses `append`, `replace` or `upsert`.
    pub fn parse(s: &str) -> Result<Mode, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "append" => Ok(Mode::Append),
            "replace" => Ok(Mode::Replace),
            "upsert" => Ok(Mode::Upsert),
            other => Err(format!("mode '{other}': use append, replace or upsert")),
        }
    }
}

/// What to import, and how.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// How the features meet the layer's.
    pub mode: Mode,
    /// The fields that identify a feature (upsert, duplicate checks);
    /// empty: the layer's natural key ([`natural_key`]).
    pub key: Vec<String>,
    /// The mapping file, if one was given.
    pub mapping: MappingFile,
}

impl ImportOptions {
    /// The options as a user gives them (command-line flags, form parts):
    /// `mode` (append when absent), `key` (comma-separated fields) and the
    /// mapping file's TOML text.
    pub fn parse(
        mode: Option<&str>,
        key: Option<&str>,
        mapping: Option<&str>,
    ) -> Result<ImportOptions, ImportError> {
        Ok(ImportOptions {
            mode: mode
                .map_or(Ok(Mode::Append), Mode::parse)
                .map_err(ImportError)?,
            key: key
                .map(|k| {
                    k.split(',')
                        .map(|s| s.trim().to_owned())
                        .filter(|s| !s.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
            mapping: mapping
                .map(MappingFile::parse)
                .transpose()
                .map_err(ImportError)?
                .unwrap_or_default(),
        })
    }
}

/// The fields that identify a feature of a layer, as the stores' unique
/// constraints do: the cadastral key of a parcel (commune, sheet, parcel
/// number — sheets are numbered inside each pre-2025 commune), a plan's
/// code. Other layers have none.
pub fn natural_key(layer: &str) -> &'static [&'static str] {
    match layer {
        "parcels" => &["commune_code", "sheet_number", "parcel_number"],
        "plans" => &["code"],
        _ => &[],
    }
}

/// An import that cannot start (a 400): the options do not fit the layer
/// or the files.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct ImportError(pub String);

/// One feature left out, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rejection {
    /// The file.
    pub file: String,
    /// The feature's position in it, from 1.
    pub feature: usize,
    /// Its key, when it has one (`20335/12/345`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// The reason's kind (counted in [`Report::rejected_by_reason`]).
    pub reason: String,
    /// The reason in full.
    pub detail: String,
}

/// What one file gave.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FileReport {
    /// Its name.
    pub name: String,
    /// The layer of the file read.
    pub layer: String,
    /// Features read.
    pub features: usize,
    /// The CRS read, as a URN-less code (`EPSG:5899`, `CRS:84`).
    pub crs: String,
    /// How the CRS was decided.
    pub crs_how: String,
    /// The text encoding read.
    pub encoding: String,
    /// How it was decided.
    pub encoding_how: String,
    /// Layer field → the file's field it was read from.
    pub mapping: BTreeMap<String, String>,
    /// The file's fields nothing was read from.
    pub unused_fields: Vec<String>,
    /// What else there is to say about the file.
    pub notes: Vec<String>,
}

/// What an import did (or, dry, would do).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// The layer written.
    pub layer: String,
    /// The mode.
    pub mode: Mode,
    /// The key used for upserts and duplicates.
    pub key: Vec<String>,
    /// True when nothing was to be written.
    pub dry_run: bool,
    /// True once the store committed the edits.
    pub committed: bool,
    /// Per file.
    pub files: Vec<FileReport>,
    /// Layer fields no file gave a value for.
    pub unfed_fields: Vec<String>,
    /// Features read, over all files.
    pub read: usize,
    /// Features to insert, then inserted.
    pub inserted: usize,
    /// Features to update, then updated.
    pub updated: usize,
    /// Features of the layer deleted (replace).
    pub deleted: usize,
    /// Geometries repaired (invalid rings made valid).
    pub repaired: usize,
    /// Multi-part geometries split into single features.
    pub split: usize,
    /// Geometries whose Z was dropped.
    pub z_dropped: usize,
    /// Features left out.
    pub rejected: usize,
    /// Features left out, by reason.
    pub rejected_by_reason: BTreeMap<String, usize>,
    /// The features left out (the first 1,000).
    pub rejections: Vec<Rejection>,
    /// Legacy land-use codes brought to TT 08/2024 (`BHK → HNK`: count).
    pub land_use_mapped: BTreeMap<String, usize>,
    /// Land-use codes not in the national list (code: count), kept as
    /// written.
    pub land_use_unknown: BTreeMap<String, usize>,
    /// Features whose legacy code was kept in [`OLD_LAND_USE`] beside the
    /// current one; `None` when the layer has no such field (the codes
    /// are then only counted in `land_use_mapped`).
    pub land_use_old_kept: Option<usize>,
    /// Area values read in hectares and written in m².
    pub area_in_ha: usize,
}

/// The field that keeps a feature's legacy (25/2014, 27/2018) land-use
/// code when the import brought it to TT 08/2024.
pub const OLD_LAND_USE: &str = "land_use_code_old";

/// The most rejections a report lists one by one.
const MAX_LISTED: usize = 1000;

impl Report {
    /// Counts what the store wrote (after a commit).
    pub fn record(&mut self, written: &WriteResult) {
        self.committed = true;
        self.inserted = written.total_inserted();
        self.updated = written.total_updated();
        self.deleted = written.total_deleted();
    }

    /// A readable summary, a line per fact (English, Vietnamese names
    /// kept as written).
    pub fn summary(&self) -> String {
        use std::fmt::Write;
        let mut s = String::new();
        let verb = if self.committed {
            "imported into"
        } else if self.dry_run {
            "dry run, nothing written, for"
        } else {
            "nothing written to"
        };
        let _ = writeln!(s, "{verb} layer {} ({:?} mode)", self.layer, self.mode);
        for f in &self.files {
            let _ = writeln!(
                s,
                "  {} (layer {}): {} features",
                f.name, f.layer, f.features
            );
            let _ = writeln!(s, "    CRS {}: {}", f.crs, f.crs_how);
            let _ = writeln!(s, "    text {}: {}", f.encoding, f.encoding_how);
            let m: Vec<String> = f
                .mapping
                .iter()
                .map(|(t, s)| format!("{t} ← {s}"))
                .collect();
            let _ = writeln!(s, "    fields: {}", m.join(", "));
            if !f.unused_fields.is_empty() {
                let _ = writeln!(s, "    not read: {}", f.unused_fields.join(", "));
            }
            for n in &f.notes {
                let _ = writeln!(s, "    {n}");
            }
        }
        if !self.unfed_fields.is_empty() {
            let _ = writeln!(s, "  left empty: {}", self.unfed_fields.join(", "));
        }
        let _ = writeln!(
            s,
            "  read {}, inserted {}, updated {}, deleted {}, rejected {}",
            self.read, self.inserted, self.updated, self.deleted, self.rejected
        );
        let _ = writeln!(
            s,
            "  repaired {}, multi-parts split {}, Z dropped {}, areas in ha converted {}",
            self.repaired, self.split, self.z_dropped, self.area_in_ha
        );
        for (k, n) in &self.land_use_mapped {
            let _ = writeln!(s, "  land-use code {k}: {n}");
        }
        match self.land_use_old_kept {
            Some(n) if n > 0 => {
                let _ = writeln!(s, "  legacy land-use codes kept in {OLD_LAND_USE}: {n}");
            }
            None if !self.land_use_mapped.is_empty() => {
                let _ = writeln!(
                    s,
                    "  the layer has no {OLD_LAND_USE} field: legacy codes are not kept"
                );
            }
            _ => {}
        }
        for (k, n) in &self.land_use_unknown {
            let _ = writeln!(s, "  land-use code {k} is not in TT 08/2024: {n} (kept)");
        }
        for (k, n) in &self.rejected_by_reason {
            let _ = writeln!(s, "  rejected, {k}: {n}");
        }
        for r in self.rejections.iter().take(20) {
            let _ = writeln!(
                s,
                "    {} #{}{}: {}",
                r.file,
                r.feature,
                r.key
                    .as_deref()
                    .map(|k| format!(" ({k})"))
                    .unwrap_or_default(),
                r.detail
            );
        }
        if self.rejected > 20 {
            let _ = writeln!(s, "    … {} more in the JSON report", self.rejected - 20);
        }
        s
    }

    fn reject(&mut self, r: Rejection) {
        self.rejected += 1;
        *self.rejected_by_reason.entry(r.reason.clone()).or_default() += 1;
        if self.rejections.len() < MAX_LISTED {
            self.rejections.push(r);
        }
    }
}

/// The edits an import makes, and its report (counts as planned; see
/// [`Report::record`] once written).
#[derive(Debug, Clone)]
pub struct Plan {
    /// In order: the deletes of a replace, then inserts and updates.
    pub edits: Vec<LayerEdit>,
    /// What was read and decided.
    pub report: Report,
}

/// A feature's key values, written `a/b/c`.
type Key = Vec<String>;

fn key_text(k: &Key) -> String {
    k.join("/")
}

fn value_key(v: ValueRef<'_>) -> Option<String> {
    match v {
        ValueRef::Null => None,
        ValueRef::Text(s) if s.trim().is_empty() => None,
        ValueRef::Text(s) => Some(s.trim().to_owned()),
        ValueRef::Int(i) => Some(i.to_string()),
        ValueRef::Real(r) if r.fract() == 0.0 => Some(format!("{r:.0}")),
        ValueRef::Real(r) => Some(r.to_string()),
        ValueRef::Bool(b) => Some(b.to_string()),
    }
}

fn owned_ref(v: &Value) -> ValueRef<'_> {
    match v {
        Value::Null => ValueRef::Null,
        Value::Bool(b) => ValueRef::Bool(*b),
        Value::Int(i) => ValueRef::Int(*i),
        Value::Real(r) => ValueRef::Real(*r),
        Value::Text(s) => ValueRef::Text(s),
    }
}

/// Plans the import of `sources` into the layer whose current content is
/// `target` (its schema, storage CRS and features; only keys are read
/// from the features).
pub fn prepare(
    sources: &[Source],
    target: &LayerData,
    opts: &ImportOptions,
) -> Result<Plan, ImportError> {
    let layer = target.name.as_str();
    let key: Vec<String> = if opts.key.is_empty() {
        natural_key(layer).iter().map(|s| s.to_string()).collect()
    } else {
        opts.key.clone()
    };
    let key_cols: Vec<usize> = key
        .iter()
        .map(|k| {
            target.field_index(k).ok_or_else(|| {
                ImportError(format!(
                    "key field '{k}' is not a field of layer {layer}; its fields: {}",
                    field_list(target)
                ))
            })
        })
        .collect::<Result<_, _>>()?;
    if opts.mode == Mode::Upsert && key_cols.is_empty() {
        return Err(ImportError(format!(
            "upsert needs a key: layer {layer} has no natural one, give --key (fields of the layer: {})",
            field_list(target)
        )));
    }
    let storage = if target.srid == 4326 {
        Crs::Crs84
    } else {
        Crs::parse(&format!("EPSG:{}", target.srid)).map_err(|e| ImportError(e.to_string()))?
    };
    // The layer's keys now.
    let mut existing: HashMap<Key, i64> = HashMap::new();
    if !key_cols.is_empty() && opts.mode != Mode::Replace {
        for row in 0..target.len() {
            let k: Option<Key> = key_cols
                .iter()
                .map(|&c| value_key(target.value(row, c)))
                .collect();
            if let Some(k) = k {
                existing.insert(k, target.fids[row]);
            }
        }
    }
    let mut report = Report {
        layer: layer.to_owned(),
        mode: opts.mode,
        key: key.clone(),
        dry_run: false,
        committed: false,
        files: Vec::new(),
        unfed_fields: Vec::new(),
        read: 0,
        inserted: 0,
        updated: 0,
        deleted: 0,
        repaired: 0,
        split: 0,
        z_dropped: 0,
        rejected: 0,
        rejected_by_reason: BTreeMap::new(),
        rejections: Vec::new(),
        land_use_mapped: BTreeMap::new(),
        land_use_unknown: BTreeMap::new(),
        land_use_old_kept: target
            .fields
            .iter()
            .any(|f| f.name == OLD_LAND_USE)
            .then_some(0),
        area_in_ha: 0,
    };
    let mut unfed: Option<Vec<bool>> = None;
    let mut edit = Edit::default();
    // Key → (file, feature) of its first feature in this import.
    let mut seen: HashMap<Key, (String, usize)> = HashMap::new();
    for src in sources {
        let names: Vec<String> = src.fields.iter().map(|f| f.name.clone()).collect();
        let feeds =
            fields::plan(layer, &target.fields, &names, &opts.mapping).map_err(ImportError)?;
        let mut mapping = BTreeMap::new();
        let mut used = vec![false; names.len()];
        for (t, feed) in target.fields.iter().zip(&feeds) {
            match feed {
                Some(Feed::Field(i)) => {
                    used[*i] = true;
                    mapping.insert(t.name.clone(), names[*i].clone());
                }
                Some(Feed::Constant(v)) => {
                    mapping.insert(t.name.clone(), format!("= {v}"));
                }
                None => {}
            }
        }
        // The legacy code goes beside the current one unless the file
        // feeds that field itself.
        let keep_old = target
            .fields
            .iter()
            .zip(&feeds)
            .any(|(t, feed)| t.name == OLD_LAND_USE && feed.is_none());
        let u = unfed.get_or_insert_with(|| vec![true; feeds.len()]);
        for (i, f) in feeds.iter().enumerate() {
            if f.is_some() {
                u[i] = false;
            }
        }
        report.files.push(FileReport {
            name: src.name.clone(),
            layer: src.layer.clone(),
            features: src.features.len(),
            crs: if src.crs == Crs::Crs84 {
                "CRS:84".into()
            } else {
                format!("EPSG:{}", src.crs.epsg())
            },
            crs_how: src.crs_how.clone(),
            encoding: src.encoding.name().to_owned(),
            encoding_how: src.encoding_how.clone(),
            mapping,
            unused_fields: names
                .iter()
                .zip(&used)
                .filter(|(_, u)| !**u)
                .map(|(n, _)| n.clone())
                .collect(),
            notes: src.notes.clone(),
        });
        report.read += src.features.len();
        report.z_dropped += src.z_dropped;
        for f in &src.features {
            let reject = |report: &mut Report, key: Option<&Key>, reason: &str, detail: String| {
                report.reject(Rejection {
                    file: src.name.clone(),
                    feature: f.n,
                    key: key.map(key_text),
                    reason: reason.to_owned(),
                    detail,
                })
            };
            // Geometry into the layer's CRS and type.
            let Some(g) = &f.geometry else {
                let why = f
                    .why_no_geometry
                    .clone()
                    .unwrap_or_else(|| "the feature has no geometry".into());
                reject(&mut report, None, "no geometry", why);
                continue;
            };
            let g = match g.try_map_coords(|c| crs::transform_one(src.crs, storage, c)) {
                Ok(g) => g,
                Err(e) => {
                    reject(&mut report, None, "coordinates", e.to_string());
                    continue;
                }
            };
            let parts = match split_for(target.geometry_type, g) {
                Ok(p) => p,
                Err(e) => {
                    reject(&mut report, None, "geometry type", e);
                    continue;
                }
            };
            // Values.
            let area_5899 = || -> Option<f64> {
                let total: f64 = parts
                    .iter()
                    .map(|p| {
                        if storage == crs::VN2000_TM3_10745 {
                            Some(p.unsigned_area())
                        } else {
                            p.try_map_coords(|c| {
                                crs::transform_one(storage, crs::VN2000_TM3_10745, c)
                            })
                            .ok()
                            .map(|g| g.unsigned_area())
                        }
                    })
                    .sum::<Option<f64>>()?;
                (total > 0.0).then_some(total)
            };
            let mut values: Vec<(String, Value)> = Vec::new();
            let mut bad = None;
            let mut old_code = None;
            for (t, feed) in target.fields.iter().zip(&feeds) {
                let raw = match feed {
                    Some(Feed::Field(i)) => f.values[*i].clone(),
                    Some(Feed::Constant(v)) => v.clone(),
                    None if t.name == "synthetic" && t.ty == FieldType::Boolean => {
                        values.push((t.name.clone(), Value::Bool(false)));
                        continue;
                    }
                    None => continue,
                };
                let v = match convert(&t.name, t.ty, raw) {
                    Ok(v) => v,
                    Err(e) => {
                        bad = Some(format!("{}: {e}", t.name));
                        break;
                    }
                };
                let v = match (t.name.as_str(), v) {
                    ("land_use_code", Value::Text(code)) => {
                        let now = land_use(&code, &mut report);
                        let before = code.trim().to_uppercase();
                        if now != before {
                            old_code = Some(before);
                        }
                        Value::Text(now)
                    }
                    ("legal_area" | "area_m2", Value::Real(a)) => {
                        let unit = opts.mapping.units.get(&t.name).map(String::as_str);
                        let ha = match unit {
                            Some("ha") => true,
                            Some(_) => false,
                            None => area_5899().is_some_and(|m2| looks_like_ha(a, m2)),
                        };
                        if ha {
                            report.area_in_ha += 1;
                            Value::Real(a * 10_000.0)
                        } else {
                            Value::Real(a)
                        }
                    }
                    (_, v) => v,
                };
                values.push((t.name.clone(), v));
            }
            if let (Some(old), true) = (old_code, keep_old) {
                values.push((OLD_LAND_USE.to_owned(), Value::Text(old)));
            }
            let key_of = |values: &[(String, Value)]| -> Option<Key> {
                key.iter()
                    .map(|k| {
                        values
                            .iter()
                            .find(|(n, _)| n == k)
                            .and_then(|(_, v)| value_key(owned_ref(v)))
                    })
                    .collect()
            };
            let k = if key.is_empty() {
                None
            } else {
                key_of(&values)
            };
            if let Some(e) = bad {
                reject(&mut report, k.as_ref(), "value", e);
                continue;
            }
            if !key.is_empty() && k.is_none() {
                reject(
                    &mut report,
                    None,
                    "no key",
                    format!(
                        "{} must all be given (map them, or give a value for all in a mapping file's [values])",
                        key.join(", ")
                    ),
                );
                continue;
            }
            if parts.len() > 1 && k.is_some() {
                reject(
                    &mut report,
                    k.as_ref(),
                    "several parts",
                    format!(
                        "a geometry of {} parts; a feature of layer {layer} is one {} with its own key: split it in the source and number each part",
                        parts.len(),
                        target.geometry_type.name()
                    ),
                );
                continue;
            }
            if let Some(k) = &k {
                if let Some((file, n)) = seen.get(k) {
                    let detail = format!(
                        "{} {} is also feature {n} of {file}",
                        key.join("/"),
                        key_text(k)
                    );
                    reject(&mut report, Some(k), "duplicate key", detail);
                    continue;
                }
                seen.insert(k.clone(), (src.name.clone(), f.n));
            }
            if f.repaired {
                report.repaired += 1;
            }
            if parts.len() > 1 {
                report.split += parts.len() - 1;
            }
            let mut conformed = Vec::with_capacity(parts.len());
            for p in parts {
                match conform_geometry(layer, &format!("feature {}", f.n), target.geometry_type, &p)
                {
                    Ok(g) => conformed.push(g),
                    Err(e) => {
                        bad = Some(e.to_string());
                        break;
                    }
                }
            }
            if let Some(e) = bad {
                reject(&mut report, k.as_ref(), "geometry", e);
                continue;
            }
            match k.as_ref().and_then(|k| existing.get(k)) {
                Some(&fid) if opts.mode == Mode::Upsert => {
                    edit.updates.push(FeatureUpdate {
                        fid,
                        geometry: Some(conformed.pop()),
                        values,
                    });
                }
                Some(&fid) => {
                    let detail = format!(
                        "{} {} is already feature {fid} of layer {layer}; import with mode upsert to update it",
                        key.join("/"),
                        key_text(k.as_ref().expect("matched a key"))
                    );
                    reject(&mut report, k.as_ref(), "key already in the layer", detail);
                }
                None => {
                    for g in conformed {
                        edit.inserts.push(NewFeature {
                            geometry: Some(g),
                            values: values.clone(),
                        });
                    }
                }
            }
        }
    }
    if let Some(u) = unfed {
        report.unfed_fields = target
            .fields
            .iter()
            .zip(u)
            .filter(|(f, u)| *u && f.name != "synthetic")
            .map(|(f, _)| f.name.clone())
            .collect();
    }
    report.inserted = edit.inserts.len();
    report.updated = edit.updates.len();
    if let Some(kept) = &mut report.land_use_old_kept {
        let has_old = |v: &[(String, Value)]| v.iter().any(|(n, _)| n == OLD_LAND_USE);
        *kept = edit.inserts.iter().filter(|f| has_old(&f.values)).count()
            + edit.updates.iter().filter(|f| has_old(&f.values)).count();
        if *kept > 0 {
            report.unfed_fields.retain(|f| f != OLD_LAND_USE);
        }
    }
    let mut edits = Vec::new();
    if opts.mode == Mode::Replace && !target.fids.is_empty() {
        report.deleted = target.fids.len();
        edits.push(LayerEdit {
            layer: layer.to_owned(),
            edit: Edit {
                deletes: target.fids.clone(),
                ..Default::default()
            },
        });
    }
    if !edit.is_empty() {
        edits.push(LayerEdit {
            layer: layer.to_owned(),
            edit,
        });
    }
    Ok(Plan { edits, report })
}

fn field_list(target: &LayerData) -> String {
    target
        .fields
        .iter()
        .map(|f| f.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A geometry as the features a layer of type `ty` takes: a multi-part
/// geometry (or a collection, as a repair may give) is split into its
/// parts for a single-type layer, and the parts of another dimension left
/// out of a collection.
fn split_for(ty: GeometryType, g: Geometry<f64>) -> Result<Vec<Geometry<f64>>, String> {
    use geo_types::Geometry as G;
    let mut polys = Vec::new();
    let mut lines = Vec::new();
    let mut points = Vec::new();
    fn walk(
        g: Geometry<f64>,
        polys: &mut Vec<geo_types::Polygon<f64>>,
        lines: &mut Vec<geo_types::LineString<f64>>,
        points: &mut Vec<geo_types::Point<f64>>,
    ) {
        match g {
            G::Polygon(p) => polys.push(p),
            G::MultiPolygon(m) => polys.extend(m.0),
            G::Rect(r) => polys.push(r.to_polygon()),
            G::Triangle(t) => polys.push(t.to_polygon()),
            G::LineString(l) => lines.push(l),
            G::MultiLineString(m) => lines.extend(m.0),
            G::Line(l) => lines.push(l.into()),
            G::Point(p) => points.push(p),
            G::MultiPoint(m) => points.extend(m.0),
            G::GeometryCollection(c) => {
                for g in c.0 {
                    walk(g, polys, lines, points)
                }
            }
        }
    }
    let found = |n: usize, what: &str| format!("{n} {what}");
    walk(g, &mut polys, &mut lines, &mut points);
    let have = [
        found(polys.len(), "polygons"),
        found(lines.len(), "lines"),
        found(points.len(), "points"),
    ]
    .join(", ");
    let none = || {
        format!(
            "a layer of {} geometries; the feature holds {have}",
            ty.name()
        )
    };
    Ok(match ty {
        GeometryType::Polygon if !polys.is_empty() => polys.into_iter().map(G::Polygon).collect(),
        GeometryType::MultiPolygon if !polys.is_empty() => {
            vec![G::MultiPolygon(MultiPolygon(polys))]
        }
        GeometryType::LineString if !lines.is_empty() => {
            lines.into_iter().map(G::LineString).collect()
        }
        GeometryType::MultiLineString if !lines.is_empty() => {
            vec![G::MultiLineString(MultiLineString(lines))]
        }
        GeometryType::Point if !points.is_empty() => points.into_iter().map(G::Point).collect(),
        GeometryType::MultiPoint if !points.is_empty() => {
            vec![G::MultiPoint(MultiPoint(points))]
        }
        _ => return Err(none()),
    })
}

/// True when an area value `a` of a feature whose geometry measures `m2`
/// square metres is in hectares: within 20 % of the geometry's area in
/// hectares and far from it in m².
fn looks_like_ha(a: f64, m2: f64) -> bool {
    let ha = m2 / 10_000.0;
    a > 0.0 && (a - ha).abs() <= 0.2 * ha && (a - m2).abs() > 0.5 * m2
}

/// A land-use value with its legacy codes brought to TT 08/2024 (each
/// code of a mixed value such as `ODT+BHK`), counted in the report.
fn land_use(value: &str, report: &mut Report) -> String {
    use crate::planning::landuse;
    let mut out = String::with_capacity(value.len());
    let mut code = String::new();
    let flush = |code: &mut String, out: &mut String, report: &mut Report| {
        if code.is_empty() {
            return;
        }
        let now = landuse::current(code);
        if now != code.to_ascii_uppercase() {
            *report
                .land_use_mapped
                .entry(format!("{} → {now}", code.to_ascii_uppercase()))
                .or_default() += 1;
        } else if landuse::lookup(&now).is_none() {
            *report.land_use_unknown.entry(now.clone()).or_default() += 1;
        }
        out.push_str(&now);
        code.clear();
    };
    for c in value.trim().chars() {
        if c.is_alphanumeric() {
            code.push(c);
        } else {
            flush(&mut code, &mut out, report);
            out.push(c);
        }
    }
    flush(&mut code, &mut out, report);
    out
}

/// A source value as a value of a field of type `ty`: numbers from text
/// with a decimal comma or point, dates `dd/mm/yyyy` or ISO, floor ranges
/// `3-5` split into their min and max.
fn convert(name: &str, ty: FieldType, v: Value) -> Result<Value, String> {
    let text = match &v {
        Value::Null => return Ok(Value::Null),
        Value::Text(s) => Some(s.trim().to_owned()),
        _ => None,
    };
    match ty {
        FieldType::Text => Ok(match v {
            Value::Text(s) => Value::Text(s),
            Value::Real(r) if r.fract() == 0.0 && r.abs() < 1e15 => Value::Text(format!("{r:.0}")),
            other => Value::Text(other.to_string()),
        }),
        FieldType::Integer => match (v, text) {
            (Value::Int(i), _) => Ok(Value::Int(i)),
            (Value::Real(r), _) if r.fract() == 0.0 && r.abs() < 9e15 => Ok(Value::Int(r as i64)),
            (Value::Bool(b), _) => Ok(Value::Int(i64::from(b))),
            (_, Some(t)) => {
                let t = floors_part(name, &t);
                t.parse::<i64>()
                    .ok()
                    .or_else(|| {
                        number(&t)
                            .filter(|r| r.fract() == 0.0 && r.abs() < 9e15)
                            .map(|r| r as i64)
                    })
                    .map(Value::Int)
                    .ok_or_else(|| format!("'{t}' is not a whole number"))
            }
            (other, _) => Err(format!("'{other}' is not a whole number")),
        },
        FieldType::Real => match (v, text) {
            (Value::Int(i), _) => Ok(Value::Real(i as f64)),
            (Value::Real(r), _) if r.is_finite() => Ok(Value::Real(r)),
            (_, Some(t)) => number(&t)
                .map(Value::Real)
                .ok_or_else(|| format!("'{t}' is not a number")),
            (other, _) => Err(format!("'{other}' is not a number")),
        },
        FieldType::Boolean => match (v, text) {
            (Value::Bool(b), _) => Ok(Value::Bool(b)),
            (Value::Int(i), _) => Ok(Value::Bool(i != 0)),
            (_, Some(t)) => match crate::import::fields::fold(&t).as_str() {
                "true" | "t" | "yes" | "y" | "1" | "co" | "dung" => Ok(Value::Bool(true)),
                "false" | "f" | "no" | "n" | "0" | "khong" | "sai" => Ok(Value::Bool(false)),
                _ => Err(format!("'{t}' is not true or false")),
            },
            (other, _) => Err(format!("'{other}' is not true or false")),
        },
        FieldType::Date | FieldType::DateTime => {
            let t = text.unwrap_or_else(|| v.to_string());
            let iso = chrono::NaiveDate::parse_from_str(&t, "%Y-%m-%d")
                .or_else(|_| chrono::NaiveDate::parse_from_str(&t, "%d/%m/%Y"))
                .or_else(|_| chrono::NaiveDate::parse_from_str(&t, "%d-%m-%Y"))
                .or_else(|_| chrono::NaiveDate::parse_from_str(&t, "%Y/%m/%d"));
            match iso {
                Ok(d) => Ok(Value::Text(d.format("%Y-%m-%d").to_string())),
                Err(_) if ty == FieldType::DateTime => Ok(Value::Text(t)),
                Err(_) => Err(format!("'{t}' is not a date (dd/mm/yyyy or yyyy-mm-dd)")),
            }
        }
    }
}

/// A number written with a decimal comma or point, thousands separated
/// or not ("1.234,5", "1,234.5", "120,5", "120.5").
fn number(t: &str) -> Option<f64> {
    let t: String = t.chars().filter(|c| !c.is_whitespace()).collect();
    if let Ok(v) = t.parse::<f64>() {
        return v.is_finite().then_some(v);
    }
    let (dots, commas) = (t.matches('.').count(), t.matches(',').count());
    let s = match (dots, commas) {
        (0, 1) => t.replace(',', "."),
        (_, 1) if t.rfind(',') > t.rfind('.') => t.replace('.', "").replace(',', "."),
        (1, _) if t.rfind('.') > t.rfind(',') => t.replace(',', ""),
        (0, _) => t.replace(',', ""),
        _ => return None,
    };
    s.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// For `floors_min` / `floors_max` read from one "3-5" (tầng cao) value:
/// the side the field wants; any other text as it is.
fn floors_part(name: &str, t: &str) -> String {
    let sides: Vec<&str> = t.split(['-', '–', '÷']).map(str::trim).collect();
    match (name, sides.as_slice()) {
        ("floors_min", [lo, _hi]) => (*lo).to_owned(),
        ("floors_max", [_lo, hi]) => (*hi).to_owned(),
        _ => t.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_take_either_decimal_mark() {
        assert_eq!(number("120,5"), Some(120.5));
        assert_eq!(number("1.234,5"), Some(1234.5));
        assert_eq!(number("1,234.5"), Some(1234.5));
        assert_eq!(number("abc"), None);
        assert_eq!(number("NaN"), None);
    }

    #[test]
    fn floor_ranges_split() {
        assert_eq!(
            convert("floors_min", FieldType::Integer, Value::Text("3-5".into())),
            Ok(Value::Int(3))
        );
        assert_eq!(
            convert(
                "floors_max",
                FieldType::Integer,
                Value::Text("3 – 5".into())
            ),
            Ok(Value::Int(5))
        );
        assert!(convert("floors_max", FieldType::Integer, Value::Text("cao".into())).is_err());
    }

    #[test]
    fn dates_and_flags() {
        assert_eq!(
            convert("d", FieldType::Date, Value::Text("01/07/2025".into())),
            Ok(Value::Text("2025-07-01".into()))
        );
        assert!(convert("d", FieldType::Date, Value::Text("32/13/2025".into())).is_err());
        assert_eq!(
            convert("b", FieldType::Boolean, Value::Text("Có".into())),
            Ok(Value::Bool(true))
        );
    }

    #[test]
    fn hectares_are_told_from_square_metres() {
        assert!(looks_like_ha(0.0152, 150.0));
        assert!(!looks_like_ha(150.0, 152.0));
        assert!(!looks_like_ha(3.0, 152.0));
    }

    #[test]
    fn legacy_land_use_codes_are_brought_up_to_date() {
        let mut r = Report {
            layer: "parcels".into(),
            mode: Mode::Append,
            key: vec![],
            dry_run: false,
            committed: false,
            files: vec![],
            unfed_fields: vec![],
            read: 0,
            inserted: 0,
            updated: 0,
            deleted: 0,
            repaired: 0,
            split: 0,
            z_dropped: 0,
            rejected: 0,
            rejected_by_reason: BTreeMap::new(),
            rejections: vec![],
            land_use_mapped: BTreeMap::new(),
            land_use_unknown: BTreeMap::new(),
            land_use_old_kept: None,
            area_in_ha: 0,
        };
        assert_eq!(land_use("ODT+BHK", &mut r), "ODT+HNK");
        assert_eq!(land_use("ddt", &mut r), "DDD");
        assert_eq!(land_use("XYZ", &mut r), "XYZ");
        assert_eq!(r.land_use_mapped.get("BHK → HNK"), Some(&1));
        assert_eq!(r.land_use_mapped.get("DDT → DDD"), Some(&1));
        assert_eq!(r.land_use_unknown.get("XYZ"), Some(&1));
    }
}
