//! All IO with the systems of record: the embedded GeoPackage (through
//! `gdal`) and PostGIS (through `sqlx`), plus the change events PostGIS
//! sends. Stores hand the engine owned [`LayerData`] in the layer's own CRS,
//! and write edits ([`LayerEdit`]) all-or-nothing in one transaction; they
//! never hold engine state and never serve requests. Planning records
//! (stored checks and issued sheets, [`records`]) live beside the layers
//! in both stores but are never layers, and so does the append-only
//! history of investment projects' legal procedure ([`history`]), which is
//! written in the same transaction as the project's edit.

pub mod archive;
pub mod audit;
pub mod export;
pub mod gpkg;
pub mod history;
pub mod postgis;
pub mod records;
pub mod source;
pub mod tiledisk;
pub mod upload;

use crate::model::{FeatureRow, LayerData, LayerEdit, WriteResult};
use history::Transition;
use records::{Record, RecordId, RecordKind, VerificationCode};

/// Errors of the stores.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// GDAL failed (open, read, write).
    #[error("GeoPackage {path}: {msg}")]
    Gpkg {
        /// File.
        path: String,
        /// What went wrong.
        msg: String,
    },
    /// PostgreSQL / PostGIS failed.
    #[error("PostGIS: {0}")]
    Postgis(String),
    /// PostgreSQL cannot be reached for now: down, restarting, the
    /// connection lost, or no connection to be had in time. Nothing of
    /// the operation was done (unless the connection was lost during a
    /// commit); trying again later may succeed.
    #[error("PostgreSQL unavailable: {0}")]
    Unavailable(String),
    /// The server failed around the store (a task died); not the client's
    /// fault, and the cause is in the log.
    #[error("internal error: {0}")]
    Internal(String),
    /// The store has no such layer.
    #[error("no layer named '{0}' in the store")]
    UnknownLayer(String),
    /// Data that does not fit the model (bad geometry type, wrong value type).
    #[error("invalid data: {0}")]
    Invalid(String),
    /// A planning record's id or verification code is already taken
    /// (nothing was written). Ids and codes are random, so this is the
    /// server's problem, not the client's.
    #[error("{0}")]
    Duplicate(String),
    /// A write names a feature that is not in the layer (nothing was
    /// written).
    #[error("layer {layer} has no feature {fid}")]
    NoSuchFeature {
        /// Layer.
        layer: String,
        /// The missing fid.
        fid: i64,
    },
}

impl StoreError {
    /// True when the client's data caused the error (a 4xx, not a 5xx):
    /// unknown layer or feature, a value or geometry that does not fit, a
    /// constraint of the table refusing it.
    pub fn is_client_error(&self) -> bool {
        matches!(
            self,
            StoreError::UnknownLayer(_) | StoreError::Invalid(_) | StoreError::NoSuchFeature { .. }
        )
    }

    /// True when the database cannot be reached for now (a 503 with
    /// `Retry-After`, not a 500): trying again later may succeed.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, StoreError::Unavailable(_))
    }
}

/// A store task that panicked or was cancelled: the server failed, not the
/// client's data, so it is never a client error (whatever it was doing,
/// the cause is in the log).
impl From<tokio::task::JoinError> for StoreError {
    fn from(e: tokio::task::JoinError) -> Self {
        tracing::error!("a store task failed: {e}");
        StoreError::Internal("a store task failed; see the server log".into())
    }
}

/// One [`LayerEdit`] checked and converted, row by row, into a store's own
/// row type `R` before anything is written: inserts, updates (each must
/// change something) and distinct deletes in the order first given. The
/// GeoPackage and PostGIS stores plan their writes through it alike.
pub(crate) struct WritePlan<R> {
    /// Rows to insert.
    pub inserts: Vec<R>,
    /// Rows to update, by fid.
    pub updates: Vec<(i64, R)>,
    /// Distinct fids to delete, in the order first given.
    pub deletes: Vec<i64>,
}

impl<R> WritePlan<R> {
    /// Checks `e` of layer `layer`: `row(what, geometry, values)` converts one
    /// insert (geometry `Some`) or update (`None`: geometry unchanged) or
    /// refuses it naming `what`.
    pub(crate) fn new(
        layer: &str,
        e: &LayerEdit,
        mut row: impl FnMut(
            &str,
            Option<Option<&geo_types::Geometry<f64>>>,
            &[(String, crate::model::Value)],
        ) -> Result<R, StoreError>,
    ) -> Result<WritePlan<R>, StoreError> {
        let mut inserts = Vec::with_capacity(e.edit.inserts.len());
        for (n, f) in e.edit.inserts.iter().enumerate() {
            let what = format!("insert #{}", n + 1);
            inserts.push(row(&what, Some(f.geometry.as_ref()), &f.values)?);
        }
        let mut updates = Vec::with_capacity(e.edit.updates.len());
        for u in &e.edit.updates {
            let what = format!("feature {}", u.fid);
            if u.geometry.is_none() && u.values.is_empty() {
                return Err(StoreError::Invalid(format!(
                    "layer {layer}: {what}: the update changes nothing"
                )));
            }
            let g = u.geometry.as_ref().map(|g| g.as_ref());
            updates.push((u.fid, row(&what, g, &u.values)?));
        }
        // Unique fids in first-seen order (a linear `contains` here was
        // quadratic for a Delete whose filter matches a whole layer).
        let mut seen = std::collections::HashSet::with_capacity(e.edit.deletes.len());
        let deletes: Vec<i64> = e
            .edit
            .deletes
            .iter()
            .copied()
            .filter(|f| seen.insert(*f))
            .collect();
        Ok(WritePlan {
            inserts,
            updates,
            deletes,
        })
    }
}

impl From<crate::model::EditError> for StoreError {
    fn from(e: crate::model::EditError) -> Self {
        StoreError::Invalid(e.to_string())
    }
}

impl From<crate::model::BuildError> for StoreError {
    fn from(e: crate::model::BuildError) -> Self {
        StoreError::Invalid(e.to_string())
    }
}

/// What changed in a store, as reported by PostGIS `NOTIFY`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeEvent {
    /// These features of a layer were inserted, updated or deleted.
    Features {
        /// Layer (table) name.
        layer: String,
        /// Affected feature ids.
        fids: Vec<i64>,
    },
    /// Too much changed to list: reload the whole layer.
    Layer {
        /// Layer (table) name.
        layer: String,
    },
}

/// The store a server reads from.
pub enum Store {
    /// An embedded GeoPackage file.
    Gpkg(gpkg::GpkgStore),
    /// A PostGIS database.
    Postgis(postgis::PostgisStore),
}

impl Store {
    /// Names of the layers the store holds.
    pub async fn layer_names(&self) -> Result<Vec<String>, StoreError> {
        match self {
            Store::Gpkg(s) => {
                let s = s.clone();
                crate::blocking::spawn(move || s.layer_names()).await?
            }
            Store::Postgis(s) => s.layer_names().await,
        }
    }

    /// Reads a whole layer, in its own CRS.
    pub async fn read_layer(&self, name: &str) -> Result<LayerData, StoreError> {
        match self {
            Store::Gpkg(s) => {
                let (s, name) = (s.clone(), name.to_owned());
                crate::blocking::spawn(move || s.read_layer(&name)).await?
            }
            Store::Postgis(s) => s.read_layer(name).await,
        }
    }

    /// Reads some features of a layer by fid (missing fids are simply
    /// absent from the answer: they were deleted).
    pub async fn read_features(
        &self,
        name: &str,
        fids: &[i64],
    ) -> Result<Vec<FeatureRow>, StoreError> {
        match self {
            Store::Gpkg(s) => {
                let (s, name, fids) = (s.clone(), name.to_owned(), fids.to_vec());
                crate::blocking::spawn(move || s.read_features(&name, &fids)).await?
            }
            Store::Postgis(s) => s.read_features(name, fids).await,
        }
    }

    /// Writes a list of edits as one transaction, in list order: either
    /// everything is written or nothing is. Every value, geometry and fid
    /// is checked (see [`crate::model::check_values`] and
    /// [`crate::model::conform_geometry`]); an update or delete of a fid
    /// that does not exist is [`StoreError::NoSuchFeature`]. Geometries are
    /// in each layer's storage CRS.
    ///
    /// This writes the store only: the engine learns of it through
    /// `http::AppState::commit` (or, for PostGIS, `NOTIFY`).
    pub async fn write(&self, edits: &[LayerEdit]) -> Result<WriteResult, StoreError> {
        match self {
            Store::Gpkg(s) => {
                let (s, edits) = (s.clone(), edits.to_vec());
                crate::blocking::spawn(move || s.write_edits(&edits)).await?
            }
            Store::Postgis(s) => s.write(edits).await,
        }
    }

    /// Writes edits as [`Store::write`] does and appends history rows
    /// (see [`history`]) in the same transaction of the same store: the
    /// GeoPackage's GDAL dataset transaction, PostGIS's SQL transaction.
    /// Either the edits and every row are written, or nothing is: a row
    /// the history table refuses (an empty `to_stage`, say) is
    /// [`StoreError::Invalid`] and leaves the edits unwritten. Returns the
    /// write result and the seqs the store gave the rows, in row order
    /// (their `seq` fields are ignored). With no rows it is
    /// [`Store::write`].
    pub async fn write_with_history(
        &self,
        edits: &[LayerEdit],
        history: &[Transition],
    ) -> Result<(WriteResult, Vec<i64>), StoreError> {
        match self {
            Store::Gpkg(s) => {
                let (s, edits, history) = (s.clone(), edits.to_vec(), history.to_vec());
                crate::blocking::spawn(move || s.write_edits_with_history(&edits, &history)).await?
            }
            Store::Postgis(s) => s.write_with_history(edits, history).await,
        }
    }

    /// One project's history, ordered by seq; an empty list when the
    /// store has no history table yet.
    pub async fn history(&self, project_fid: i64) -> Result<Vec<Transition>, StoreError> {
        match self {
            Store::Gpkg(s) => {
                let s = s.clone();
                crate::blocking::spawn(move || s.history(project_fid)).await?
            }
            Store::Postgis(s) => s.history(project_fid).await,
        }
    }

    /// Every project's history rows, ordered by seq (empty when the store
    /// has no history yet).
    pub async fn all_history(&self) -> Result<Vec<Transition>, StoreError> {
        match self {
            Store::Gpkg(s) => {
                let s = s.clone();
                crate::blocking::spawn(move || s.all_history()).await?
            }
            Store::Postgis(s) => s.all_history().await,
        }
    }

    /// Appends history rows alone, in one transaction (the GeoPackage
    /// makes its table when missing); for loaded or sample history, not
    /// for a transition that goes with an edit (that is
    /// [`Store::write_with_history`]).
    pub async fn put_history(&self, rows: &[Transition]) -> Result<(), StoreError> {
        match self {
            Store::Gpkg(s) => {
                let (s, rows) = (s.clone(), rows.to_vec());
                crate::blocking::spawn(move || s.put_history(&rows)).await?
            }
            Store::Postgis(s) => s.put_history(rows).await,
        }
    }

    /// Stores a planning record (see [`records`]): one transaction,
    /// nothing else changed, never overwriting; a record whose hash does
    /// not match its content is refused.
    pub async fn put_record(&self, record: &Record) -> Result<RecordId, StoreError> {
        match self {
            Store::Gpkg(s) => {
                let (s, r) = (s.clone(), record.clone());
                crate::blocking::spawn(move || s.put_record(&r)).await?
            }
            Store::Postgis(s) => s.put_record(record).await,
        }
    }

    /// Makes and stores a new record of what was asked and answered, now,
    /// and returns it as stored. A random id or code that happens to be
    /// taken is drawn again (a few times) rather than failing.
    pub async fn issue_record(
        &self,
        kind: RecordKind,
        user: Option<&str>,
        request: serde_json::Value,
        answer: serde_json::Value,
    ) -> Result<Record, StoreError> {
        let mut record = Record::new(kind, user, request, answer);
        let mut tries = 0;
        loop {
            match self.put_record(&record).await {
                Ok(_) => return Ok(record),
                Err(StoreError::Duplicate(_)) if tries < 3 => {
                    tries += 1;
                    record = record.with_new_keys();
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Reads a planning record by id; `None` when there is none.
    pub async fn get_record(&self, id: &RecordId) -> Result<Option<Record>, StoreError> {
        match self {
            Store::Gpkg(s) => {
                let (s, id) = (s.clone(), id.clone());
                crate::blocking::spawn(move || s.get_record(&id)).await?
            }
            Store::Postgis(s) => s.get_record(id).await,
        }
    }

    /// Reads a planning record by the verification code printed on it.
    pub async fn get_record_by_code(
        &self,
        code: &VerificationCode,
    ) -> Result<Option<Record>, StoreError> {
        match self {
            Store::Gpkg(s) => {
                let (s, code) = (s.clone(), code.clone());
                crate::blocking::spawn(move || s.get_record_by_code(&code)).await?
            }
            Store::Postgis(s) => s.get_record_by_code(code).await,
        }
    }

    /// Appends entries to the audit log (see [`audit`]), in one
    /// transaction.
    pub async fn put_audit(&self, entries: Vec<audit::AuditEntry>) -> Result<(), StoreError> {
        match self {
            Store::Gpkg(s) => {
                let s = s.clone();
                crate::blocking::spawn(move || s.put_audit(&entries)).await?
            }
            Store::Postgis(s) => s.put_audit(&entries).await,
        }
    }

    /// Reads the audit log, newest first.
    pub async fn read_audit(
        &self,
        q: audit::AuditQuery,
    ) -> Result<Vec<audit::AuditEntry>, StoreError> {
        match self {
            Store::Gpkg(s) => {
                let s = s.clone();
                crate::blocking::spawn(move || s.read_audit(&q)).await?
            }
            Store::Postgis(s) => s.read_audit(&q).await,
        }
    }

    /// True when the store answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        match self {
            Store::Gpkg(s) => s.ping(),
            Store::Postgis(s) => s.ping().await,
        }
    }

    /// A short description for logs and `/ready`.
    pub fn describe(&self) -> String {
        match self {
            Store::Gpkg(s) => format!("GeoPackage {}", s.path().display()),
            Store::Postgis(_) => "PostGIS".into(),
        }
    }
}
