//! The embedded store: a GeoPackage file read and written through GDAL.
//!
//! Every call opens the file afresh (GDAL datasets are not `Sync`), so the
//! store is a path and can be cloned into blocking tasks. Whole files are
//! written to a temporary file beside the target that is renamed over it
//! only once every layer is written: a failed write leaves the old file
//! untouched. Edits (WFS-T) go into the file in one SQLite transaction.

use super::{StoreError, WritePlan};
use crate::model::{
    check_values, conform_geometry, FeatureRow, FieldDef, FieldType, GeometryType, LayerData,
    LayerDataBuilder, LayerEdit, LayerWritten, Value, ValueRef, WriteResult,
};
use gdal::vector::{
    Feature, FieldValue, LayerAccess, LayerOptions, OGRFieldType, OGRwkbGeometryType, ToGdal,
};
use gdal::{Dataset, DatasetOptions, DriverManager, GdalOpenFlags};
use gdal_sys::OGRFieldSubType;
use std::path::{Path, PathBuf};

/// A GeoPackage file holding geoplan's layers.
#[derive(Debug, Clone)]
pub struct GpkgStore {
    path: PathBuf,
}

impl GpkgStore {
    /// A store over an existing file (checked by opening it).
    pub fn open(path: impl Into<PathBuf>) -> Result<Self, StoreError> {
        let s = GpkgStore { path: path.into() };
        s.dataset()?;
        Ok(s)
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn err(&self, msg: impl ToString) -> StoreError {
        StoreError::Gpkg {
            path: self.path.display().to_string(),
            msg: msg.to_string(),
        }
    }

    /// A GDAL error with GDAL's own last message, which says why.
    fn gdal_err(&self, e: gdal::errors::GdalError) -> StoreError {
        self.err(format!("{e}: {}", last_gdal_error()))
    }

    fn dataset(&self) -> Result<Dataset, StoreError> {
        Dataset::open_ex(
            &self.path,
            DatasetOptions {
                open_flags: GdalOpenFlags::GDAL_OF_VECTOR | GdalOpenFlags::GDAL_OF_READONLY,
                allowed_drivers: Some(&["GPKG"]),
                ..Default::default()
            },
        )
        .map_err(|e| self.err(e))
    }

    /// True when the file can be opened.
    pub fn ping(&self) -> Result<(), StoreError> {
        self.dataset().map(|_| ())
    }

    /// Names of the vector layers with a geometry column, in file order.
    pub fn layer_names(&self) -> Result<Vec<String>, StoreError> {
        let ds = self.dataset()?;
        Ok(ds
            .layers()
            .filter(|l| l.defn().geom_fields().next().is_some())
            .map(|l| l.name())
            .collect())
    }

    /// Reads a whole layer in its own CRS.
    pub fn read_layer(&self, name: &str) -> Result<LayerData, StoreError> {
        let ds = self.dataset()?;
        let mut layer = ds
            .layer_by_name(name)
            .map_err(|_| StoreError::UnknownLayer(name.to_owned()))?;
        let mut b = self.builder(&layer)?;
        for f in layer.features() {
            let row = self.feature_row(&f, b.fields())?;
            b.push_row(row)?;
        }
        Ok(b.finish()?)
    }

    /// Reads some features by fid; missing fids are absent from the answer.
    pub fn read_features(&self, name: &str, fids: &[i64]) -> Result<Vec<FeatureRow>, StoreError> {
        let ds = self.dataset()?;
        let layer = ds
            .layer_by_name(name)
            .map_err(|_| StoreError::UnknownLayer(name.to_owned()))?;
        let fields = schema(&layer)?;
        let mut out = Vec::new();
        for &fid in fids {
            if fid < 0 {
                continue;
            }
            if let Some(f) = layer.feature(fid as u64) {
                out.push(self.feature_row(&f, &fields)?);
            }
        }
        Ok(out)
    }

    fn builder(&self, layer: &gdal::vector::Layer<'_>) -> Result<LayerDataBuilder, StoreError> {
        let gtype = self.geometry_type(layer)?;
        let srid = layer
            .spatial_ref()
            .and_then(|s| s.auth_code().ok())
            .ok_or_else(|| self.err(format!("layer {} has no EPSG CRS", layer.name())))?;
        Ok(LayerDataBuilder::new(
            layer.name(),
            srid as u32,
            gtype,
            schema(layer)?,
        ))
    }

    /// The declared geometry type of a layer.
    fn geometry_type(&self, layer: &gdal::vector::Layer<'_>) -> Result<GeometryType, StoreError> {
        let defn = layer.defn();
        let gf = defn
            .geom_fields()
            .next()
            .ok_or_else(|| self.err(format!("layer {} has no geometry column", layer.name())))?;
        let gname = gdal::vector::geometry_type_to_name(gdal::vector::geometry_type_flatten(
            gf.field_type(),
        ));
        let gtype = GeometryType::parse(&gname.replace(' ', "")).ok_or_else(|| {
            self.err(format!(
                "layer {} has geometry type {gname}; one of Point, LineString, Polygon or their Multi* is needed",
                layer.name()
            ))
        })?;
        Ok(gtype)
    }

    fn feature_row(&self, f: &Feature<'_>, fields: &[FieldDef]) -> Result<FeatureRow, StoreError> {
        let fid = f.fid().ok_or_else(|| self.err("feature without fid"))? as i64;
        let geometry = match f.geometry() {
            Some(g) if g.has_gdal_ptr() && !g.is_empty() => {
                Some(g.to_geo().map_err(|e| self.err(e))?)
            }
            _ => None,
        };
        let mut values = Vec::with_capacity(fields.len());
        for (i, fd) in fields.iter().enumerate() {
            let v = f.field(i).map_err(|e| self.err(e))?;
            values.push(match (fd.ty, v) {
                (_, None) => Value::Null,
                (FieldType::Boolean, Some(v)) => Value::Bool(v.into_int64().unwrap_or(0) != 0),
                (FieldType::Integer, Some(v)) => v.into_int64().map_or(Value::Null, Value::Int),
                (FieldType::Real, Some(v)) => v.into_real().map_or(Value::Null, Value::Real),
                (FieldType::Date, Some(FieldValue::DateValue(d))) => Value::Text(d.to_string()),
                (FieldType::DateTime, Some(FieldValue::DateTimeValue(d))) => {
                    Value::Text(format!("{}T{}{}", d.date_naive(), d.time(), d.offset()))
                }
                (FieldType::DateTime, Some(FieldValue::DateValue(d))) => Value::Text(d.to_string()),
                (_, Some(v)) => v.into_string().map_or(Value::Null, Value::Text),
            });
        }
        Ok(FeatureRow {
            fid,
            geometry,
            values,
        })
    }

    /// Writes a list of edits in one SQLite transaction (GDAL's dataset
    /// transaction), in list order, and returns the fids written. Every
    /// value and geometry is checked against the layer before the
    /// transaction starts; new fids come from the table. An update or
    /// delete of a missing fid, or any GDAL error, rolls everything back:
    /// SQLite's journal leaves the file as it was.
    pub fn write_edits(&self, edits: &[LayerEdit]) -> Result<WriteResult, StoreError> {
        self.write_in_transaction(edits, &[]).map(|(w, _)| w)
    }

    /// The write of [`GpkgStore::write_edits`], with checked history rows
    /// (see [`super::history`]) appended inside the same GDAL dataset
    /// transaction, after the edits: the rows commit with the edits or
    /// neither does. Returns the seqs of the rows, in order.
    ///
    /// Another program writing the file (QGIS saving an edit session)
    /// holds SQLite's lock; GDAL's transaction, which reads before it
    /// writes, then fails at once with "database is locked" (SQLite does
    /// not wait where waiting could deadlock). The whole transaction,
    /// rolled back, is tried again until the lock is free, for at most
    /// [`LOCK_WAIT`].
    pub(super) fn write_in_transaction(
        &self,
        edits: &[LayerEdit],
        history: &[super::history::Transition],
    ) -> Result<(WriteResult, Vec<i64>), StoreError> {
        let start = std::time::Instant::now();
        loop {
            match self.write_once(edits, history) {
                Err(StoreError::Gpkg { msg, .. })
                    if msg.contains("database is locked") && start.elapsed() < LOCK_WAIT =>
                {
                    std::thread::sleep(std::time::Duration::from_millis(100));
                }
                r => return r,
            }
        }
    }

    fn write_once(
        &self,
        edits: &[LayerEdit],
        history: &[super::history::Transition],
    ) -> Result<(WriteResult, Vec<i64>), StoreError> {
        let mut ds = Dataset::open_ex(
            &self.path,
            DatasetOptions {
                open_flags: GdalOpenFlags::GDAL_OF_VECTOR | GdalOpenFlags::GDAL_OF_UPDATE,
                allowed_drivers: Some(&["GPKG"]),
                ..Default::default()
            },
        )
        .map_err(|e| self.err(e))?;
        let mut plans = Vec::with_capacity(edits.len());
        for e in edits {
            let layer = ds
                .layer_by_name(&e.layer)
                .map_err(|_| StoreError::UnknownLayer(e.layer.clone()))?;
            let ty = self.geometry_type(&layer)?;
            let fields = schema(&layer)?;
            let int32: Vec<bool> = layer
                .defn()
                .fields()
                .map(|f| f.field_type() == OGRFieldType::OFTInteger)
                .collect();
            let check = |what: &str,
                         g: Option<Option<&geo_types::Geometry<f64>>>,
                         values: &[(String, Value)]|
             -> Result<GpkgRow, StoreError> {
                let geometry = match g {
                    None => None,
                    Some(None) => Some(None),
                    Some(Some(g)) => Some(Some(conform_geometry(&e.layer, what, ty, g)?)),
                };
                let values = check_values(&e.layer, what, &fields, values)?;
                for (i, v) in &values {
                    if let (true, FieldType::Integer, Value::Int(n)) = (int32[*i], fields[*i].ty, v)
                    {
                        if i32::try_from(*n).is_err() {
                            return Err(StoreError::Invalid(format!(
                                "layer {}: {what}: field {}: {n} is out of range for a 32-bit integer",
                                e.layer, fields[*i].name
                            )));
                        }
                    }
                }
                Ok(GpkgRow { geometry, values })
            };
            let WritePlan {
                inserts,
                updates,
                deletes,
            } = WritePlan::new(&e.layer, e, check)?;
            plans.push((e.layer.as_str(), inserts, updates, deletes));
        }

        let txn = ds.start_transaction().map_err(|e| self.gdal_err(e))?;
        let mut result = WriteResult::default();
        for (name, inserts, updates, deletes) in &plans {
            let layer = txn
                .layer_by_name(name)
                .map_err(|_| StoreError::UnknownLayer(name.to_string()))?;
            let mut written = LayerWritten {
                layer: name.to_string(),
                ..Default::default()
            };
            let defn = layer.defn();
            for row in inserts {
                let mut feat = Feature::new(defn).map_err(|e| self.err(e))?;
                self.set_row(&mut feat, row)?;
                feat.create(&layer).map_err(|e| self.gdal_err(e))?;
                let fid = feat
                    .fid()
                    .ok_or_else(|| self.err("GDAL gave the new feature no fid"))?;
                written.inserted.push(fid as i64);
            }
            for (fid, row) in updates {
                let missing = || StoreError::NoSuchFeature {
                    layer: name.to_string(),
                    fid: *fid,
                };
                let mut feat = u64::try_from(*fid)
                    .ok()
                    .and_then(|f| layer.feature(f))
                    .ok_or_else(missing)?;
                self.set_row(&mut feat, row)?;
                // SAFETY: both handles are valid for the duration of the call.
                let rv = unsafe { gdal_sys::OGR_L_SetFeature(layer.c_layer(), feat.c_feature()) };
                match rv {
                    gdal_sys::OGRErr::OGRERR_NONE => {}
                    gdal_sys::OGRErr::NON_EXISTING_FEATURE => return Err(missing()),
                    _ => {
                        return Err(self.err(format!(
                            "cannot update feature {fid} of {name}: {}",
                            last_gdal_error()
                        )))
                    }
                }
                written.updated.push(*fid);
            }
            for fid in deletes {
                // SAFETY: the layer handle is valid for the duration of the call.
                let rv = unsafe { gdal_sys::OGR_L_DeleteFeature(layer.c_layer(), *fid) };
                match rv {
                    gdal_sys::OGRErr::OGRERR_NONE => {}
                    gdal_sys::OGRErr::NON_EXISTING_FEATURE => {
                        return Err(StoreError::NoSuchFeature {
                            layer: name.to_string(),
                            fid: *fid,
                        })
                    }
                    _ => {
                        return Err(self.err(format!(
                            "cannot delete feature {fid} of {name}: {}",
                            last_gdal_error()
                        )))
                    }
                }
                written.deleted.push(*fid);
            }
            result.layers.push(written);
        }
        let rows = super::history::resolve_new(history, &result)?;
        let seqs = self.insert_history_in(&txn, &rows)?;
        txn.commit().map_err(|e| self.gdal_err(e))?;
        Ok((result, seqs))
    }

    /// Sets a checked row's geometry (when given) and values on a feature.
    fn set_row(&self, feat: &mut Feature<'_>, row: &GpkgRow) -> Result<(), StoreError> {
        match &row.geometry {
            None => {}
            Some(None) => {
                // SAFETY: a null geometry clears the feature's geometry.
                unsafe { gdal_sys::OGR_F_SetGeometry(feat.c_feature(), std::ptr::null_mut()) };
            }
            Some(Some(g)) => {
                let g = g.to_gdal().map_err(|e| self.err(e))?;
                feat.set_geometry(g).map_err(|e| self.err(e))?;
            }
        }
        for (i, v) in &row.values {
            let r = match v {
                Value::Null => feat.set_field_null(*i),
                Value::Bool(b) => feat.set_field_integer(*i, *b as i32),
                Value::Int(n) => feat.set_field_integer64(*i, *n),
                Value::Real(r) => feat.set_field_double(*i, *r),
                Value::Text(s) => feat.set_field_string(*i, s),
            };
            r.map_err(|e| self.err(e))?;
        }
        Ok(())
    }

    /// Writes layers into a new GeoPackage at `path`, replacing any file
    /// there only when everything was written. `progress(rows)` is called
    /// as features are written.
    pub fn write(
        path: impl AsRef<Path>,
        layers: &[LayerData],
        progress: &dyn Fn(u64),
    ) -> Result<GpkgStore, StoreError> {
        let path = path.as_ref();
        let file = path
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        // GDAL wants the .gpkg extension, so the partial file keeps it.
        let tmp = path.with_file_name(format!(".{file}.part.gpkg"));
        let _ = std::fs::remove_file(&tmp);
        let store = GpkgStore { path: tmp.clone() };
        let result = store.write_all(layers, progress);
        match result {
            Ok(()) => {
                std::fs::rename(&tmp, path).map_err(|e| store.err(e))?;
                Ok(GpkgStore {
                    path: path.to_owned(),
                })
            }
            Err(e) => {
                let _ = std::fs::remove_file(&tmp);
                Err(e)
            }
        }
    }

    fn write_all(&self, layers: &[LayerData], progress: &dyn Fn(u64)) -> Result<(), StoreError> {
        let driver = DriverManager::get_driver_by_name("GPKG").map_err(|e| self.err(e))?;
        let mut ds = driver
            .create_vector_only(&self.path)
            .map_err(|e| self.err(e))?;
        let mut done = 0u64;
        for l in layers {
            let srs = gdal::spatial_ref::SpatialRef::from_epsg(l.srid).map_err(|e| self.err(e))?;
            let ty = match l.geometry_type {
                GeometryType::Point => OGRwkbGeometryType::wkbPoint,
                GeometryType::MultiPoint => OGRwkbGeometryType::wkbMultiPoint,
                GeometryType::LineString => OGRwkbGeometryType::wkbLineString,
                GeometryType::MultiLineString => OGRwkbGeometryType::wkbMultiLineString,
                GeometryType::Polygon => OGRwkbGeometryType::wkbPolygon,
                GeometryType::MultiPolygon => OGRwkbGeometryType::wkbMultiPolygon,
            };
            let mut txn = ds.start_transaction().map_err(|e| self.err(e))?;
            let layer = txn
                .create_layer(LayerOptions {
                    name: &l.name,
                    srs: Some(&srs),
                    ty,
                    options: Some(&["GEOMETRY_NAME=geom", "FID=fid"]),
                })
                .map_err(|e| self.err(e))?;
            for f in &l.fields {
                let (t, sub) = match f.ty {
                    FieldType::Boolean => (OGRFieldType::OFTInteger, OGRFieldSubType::OFSTBoolean),
                    FieldType::Integer => (OGRFieldType::OFTInteger64, OGRFieldSubType::OFSTNone),
                    FieldType::Real => (OGRFieldType::OFTReal, OGRFieldSubType::OFSTNone),
                    FieldType::Text => (OGRFieldType::OFTString, OGRFieldSubType::OFSTNone),
                    FieldType::Date => (OGRFieldType::OFTDate, OGRFieldSubType::OFSTNone),
                    FieldType::DateTime => (OGRFieldType::OFTDateTime, OGRFieldSubType::OFSTNone),
                };
                let name = std::ffi::CString::new(f.name.as_str()).map_err(|e| self.err(e))?;
                // SAFETY: the field definition is created, used and destroyed
                // here; OGR_L_CreateField copies it.
                let rv = unsafe {
                    let fd = gdal_sys::OGR_Fld_Create(name.as_ptr(), t);
                    gdal_sys::OGR_Fld_SetSubType(fd, sub);
                    let rv = gdal_sys::OGR_L_CreateField(layer.c_layer(), fd, 1);
                    gdal_sys::OGR_Fld_Destroy(fd);
                    rv
                };
                if rv != gdal_sys::OGRErr::OGRERR_NONE {
                    return Err(self.err(format!("cannot create field {}", f.name)));
                }
            }
            let defn = layer.defn();
            for row in 0..l.len() {
                let mut feat = Feature::new(defn).map_err(|e| self.err(e))?;
                // SAFETY: the feature handle is valid for the life of `feat`.
                unsafe { gdal_sys::OGR_F_SetFID(feat.c_feature(), l.fids[row]) };
                if let Some(g) = l.geometry_of(row) {
                    let g = g.to_gdal().map_err(|e| self.err(e))?;
                    feat.set_geometry(g).map_err(|e| self.err(e))?;
                }
                for (i, f) in l.fields.iter().enumerate() {
                    let r = match (f.ty, l.value(row, i)) {
                        (_, ValueRef::Null) => feat.set_field_null(i),
                        (_, ValueRef::Bool(b)) => feat.set_field_integer(i, b as i32),
                        (_, ValueRef::Int(v)) => feat.set_field_integer64(i, v),
                        (_, ValueRef::Real(v)) => feat.set_field_double(i, v),
                        (_, ValueRef::Text(s)) => feat.set_field_string(i, s),
                    };
                    r.map_err(|e| self.err(e))?;
                }
                feat.create(&layer).map_err(|e| self.err(e))?;
                done += 1;
                if done.is_multiple_of(10_000) {
                    progress(done);
                }
            }
            txn.commit().map_err(|e| self.err(e))?;
        }
        progress(done);
        Ok(())
    }
}

/// How long a write waits for another program's lock on the file.
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// GDAL's last error message on this thread (the OGR error codes alone say
/// little: "failure"). The store's GDAL writers (here and the exports) read
/// it after a failed call.
pub(crate) fn last_gdal_error() -> String {
    // SAFETY: CPLGetLastErrorMsg returns a thread-local string, valid until
    // the next GDAL call on this thread; it is copied at once.
    unsafe {
        let p = gdal_sys::CPLGetLastErrorMsg();
        if p.is_null() {
            return String::new();
        }
        std::ffi::CStr::from_ptr(p).to_string_lossy().into_owned()
    }
}

/// One checked row of an edit: geometry in the layer's type (outer `None`:
/// unchanged), values by field index.
struct GpkgRow {
    geometry: Option<Option<geo_types::Geometry<f64>>>,
    values: Vec<(usize, Value)>,
}

/// The attribute schema of a GDAL layer.
fn schema(layer: &gdal::vector::Layer<'_>) -> Result<Vec<FieldDef>, StoreError> {
    let defn = layer.defn();
    let mut out = Vec::new();
    for (i, f) in defn.fields().enumerate() {
        // SAFETY: i < field count of this layer definition.
        let sub = unsafe {
            let fd = gdal_sys::OGR_FD_GetFieldDefn(
                gdal_sys::OGR_L_GetLayerDefn(layer.c_layer()),
                i as i32,
            );
            gdal_sys::OGR_Fld_GetSubType(fd)
        };
        let ty = match f.field_type() {
            OGRFieldType::OFTInteger if sub == OGRFieldSubType::OFSTBoolean => FieldType::Boolean,
            OGRFieldType::OFTInteger | OGRFieldType::OFTInteger64 => FieldType::Integer,
            OGRFieldType::OFTReal => FieldType::Real,
            OGRFieldType::OFTDate => FieldType::Date,
            OGRFieldType::OFTDateTime => FieldType::DateTime,
            _ => FieldType::Text,
        };
        out.push(FieldDef::new(f.name(), ty));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo_types::{polygon, Geometry};

    fn sample() -> LayerData {
        let mut b = LayerDataBuilder::new(
            "parcels",
            5899,
            GeometryType::Polygon,
            vec![
                FieldDef::new("commune_name", FieldType::Text),
                FieldDef::new("sheet_number", FieldType::Integer),
                FieldDef::new("legal_area", FieldType::Real),
                FieldDef::new("valid_from", FieldType::Date),
                FieldDef::new("synthetic", FieldType::Boolean),
            ],
        );
        let g = Geometry::Polygon(polygon![
            (x: 561_500.0, y: 1_756_000.0),
            (x: 561_520.0, y: 1_756_000.0),
            (x: 561_520.0, y: 1_756_010.0),
            (x: 561_500.0, y: 1_756_000.0),
        ]);
        b.push(
            10,
            Some(&g),
            vec![
                Value::Text("Phường Minh An".into()),
                Value::Int(4),
                Value::Real(100.0),
                Value::Text("2025-07-01".into()),
                Value::Bool(true),
            ],
        )
        .unwrap();
        b.push(
            3,
            None,
            vec![
                Value::Null,
                Value::Null,
                Value::Null,
                Value::Null,
                Value::Null,
            ],
        )
        .unwrap();
        b.finish().unwrap()
    }

    #[test]
    fn a_layer_written_to_a_geopackage_reads_back_identically() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.gpkg");
        let layer = sample();
        let store = GpkgStore::write(&path, std::slice::from_ref(&layer), &|_| {}).unwrap();
        assert_eq!(store.layer_names().unwrap(), vec!["parcels".to_string()]);
        let back = store.read_layer("parcels").unwrap();
        assert_eq!(back.fields, layer.fields);
        assert_eq!(back.srid, 5899);
        assert_eq!(back.fids, vec![3, 10]);
        assert_eq!(back.row(1), layer.row(1));
        assert_eq!(back.row(0), layer.row(0));
        let some = store.read_features("parcels", &[10, 99]).unwrap();
        assert_eq!(some, vec![layer.row(1)]);
    }

    #[test]
    fn an_unknown_layer_is_named_in_the_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.gpkg");
        let store = GpkgStore::write(&path, &[sample()], &|_| {}).unwrap();
        let e = store.read_layer("parcel").unwrap_err();
        assert!(e.to_string().contains("parcel"), "{e}");
    }
}
