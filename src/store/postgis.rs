//! The PostGIS store: geoplan's system of record when a database is
//! configured.
//!
//! It owns connecting, applying `migrations/`, bulk loading layers (one
//! transaction, `COPY` with hex EWKB), reading layers and features back into
//! the model, and turning `NOTIFY geoplan_changes` into [`ChangeEvent`]s. It
//! holds no engine state and serves no requests.
//!
//! Every layer is a table in schema `geoplan` with a `fid` bigint primary
//! key and one geometry column registered in `geometry_columns`. A layer
//! name from a caller is never put into SQL as given: it is first looked up
//! in the catalog (as a bound parameter) and only the catalog's answer is
//! quoted into statements. Values travel as bound parameters or `COPY` data.

use super::{ChangeEvent, StoreError, WritePlan};
use crate::model::{
    check_values, conform_geometry, nfc, FeatureRow, FieldDef, FieldType, FlatGeometry,
    GeometryType, LayerData, LayerDataBuilder, LayerEdit, LayerWritten, Value, ValueRef,
    WriteResult,
};
use sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions, PgRow};
use sqlx::{PgPool, Row};
use std::collections::HashSet;
use std::io::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The schema holding geoplan's layer tables.
pub const SCHEMA: &str = "geoplan";

/// The `NOTIFY` channel the change triggers of `migrations/` send on.
pub const CHANGE_CHANNEL: &str = "geoplan_changes";

/// Setting that silences the change triggers inside a bulk load (which
/// announces each loaded layer once itself).
const BULK_LOAD_SETTING: &str = "geoplan.bulk_load";

/// Announces, on commit of `tx`, that `layer` changed too much to list:
/// listeners reload it whole.
async fn notify_reload(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    layer: &str,
) -> Result<(), StoreError> {
    let payload = serde_json::json!({ "layer": layer, "all": true }).to_string();
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(CHANGE_CHANNEL)
        .bind(payload)
        .execute(&mut **tx)
        .await
        .map_err(pg)?;
    Ok(())
}

/// A write of more rows than this (inserted and updated, all layers) is
/// announced as one "reload" notification per layer, as the triggers do
/// for a statement of more than 1000 rows.
const BULK_WRITE_ROWS: usize = 1000;

/// `COPY` data is sent in chunks of about this size; progress is reported
/// after each chunk.
const COPY_CHUNK_BYTES: usize = 4 << 20;

/// First and longest wait before reconnecting a lost listener. Each
/// attempt itself waits up to the connect timeout for a server that
/// refuses connections (restarting), so the longest wait stays short: the
/// listener is back soon after PostgreSQL is.
const BACKOFF_MIN: Duration = Duration::from_millis(250);
const BACKOFF_MAX: Duration = Duration::from_secs(5);

/// How long [`PostgisStore::connect`] waits for PostgreSQL: for the first
/// connection, and later for a connection of the pool (a write while the
/// database is away fails after it).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A PostGIS database holding geoplan's layers.
#[derive(Clone)]
pub struct PostgisStore {
    pool: PgPool,
    schema: String,
    listener: Arc<ListenerHealth>,
}

/// How the change listener is doing, for `/metrics`.
#[derive(Debug, Default)]
pub struct ListenerHealth {
    connected: std::sync::atomic::AtomicBool,
    /// Unix milliseconds of the last notification; 0 before any.
    last_event_ms: std::sync::atomic::AtomicI64,
}

impl ListenerHealth {
    /// True while the listener holds a connection that `LISTEN`s.
    pub fn connected(&self) -> bool {
        self.connected.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// When the last change notification arrived, Unix seconds; `None`
    /// before the first.
    pub fn last_event_secs(&self) -> Option<f64> {
        let ms = self
            .last_event_ms
            .load(std::sync::atomic::Ordering::Relaxed);
        (ms > 0).then(|| ms as f64 / 1000.0)
    }

    fn set_connected(&self, on: bool) {
        self.connected
            .store(on, std::sync::atomic::Ordering::Relaxed);
    }

    fn event(&self) {
        self.last_event_ms.store(
            chrono::Utc::now().timestamp_millis(),
            std::sync::atomic::Ordering::Relaxed,
        );
    }
}

impl std::fmt::Debug for PostgisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The connect options may carry a password: never print them.
        f.debug_struct("PostgisStore")
            .field("schema", &self.schema)
            .finish_non_exhaustive()
    }
}

impl PostgisStore {
    /// Connects a small pool to `url` (`postgres://user@host:port/db`) and
    /// checks that the database answers, waiting at most
    /// [`CONNECT_TIMEOUT`].
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Self::connect_timeout(url, CONNECT_TIMEOUT).await
    }

    /// [`PostgisStore::connect`] waiting at most `timeout` for PostgreSQL:
    /// a refused connection fails at once, a server that does not answer
    /// fails after `timeout` (never a hang); the pool later waits as long
    /// for a connection. Errors name the URL with its password hidden
    /// ([`redact_url`]).
    pub async fn connect_timeout(url: &str, timeout: Duration) -> Result<Self, StoreError> {
        use sqlx::ConnectOptions as _;
        let shown = redact_url(url);
        let opts: PgConnectOptions = url
            .parse()
            .map_err(|e| StoreError::Postgis(format!("database URL {shown}: {e}")))?;
        let opts = opts.application_name("geoplan");
        // One connection first, to tell "refused" or "no answer" from the
        // pool's own "timed out", which hides why.
        let failed = |e: sqlx::Error| match pg(e) {
            StoreError::Unavailable(m) => {
                StoreError::Unavailable(format!("cannot connect to {shown}: {m}"))
            }
            other => StoreError::Postgis(format!("{shown}: {other}")),
        };
        match tokio::time::timeout(timeout, opts.connect()).await {
            Err(_) => {
                return Err(StoreError::Unavailable(format!(
                    "no answer from {shown} within {} s",
                    timeout.as_secs_f64()
                )))
            }
            Ok(Err(e)) => return Err(failed(e)),
            Ok(Ok(c)) => {
                let _ = sqlx::Connection::close(c).await;
            }
        }
        let pool = PgPoolOptions::new()
            .max_connections(4)
            .acquire_timeout(timeout)
            .connect_with(opts)
            .await
            .map_err(failed)?;
        Ok(PostgisStore {
            pool,
            schema: SCHEMA.to_owned(),
            listener: Arc::default(),
        })
    }

    /// How the change listener is doing.
    pub fn listener_health(&self) -> &ListenerHealth {
        &self.listener
    }

    /// The connection pool, for callers that write through their own SQL
    /// (edits, transactions).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Applies the migrations in `migrations/` that the database has not
    /// seen yet (PostGIS extension, schema `geoplan`, layer tables, change
    /// triggers). Running it again is a no-op.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        sqlx::migrate!("./migrations")
            .run(&self.pool)
            .await
            .map_err(|e| StoreError::Postgis(format!("migration failed: {e}")))
    }

    /// True when the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map(|_| ())
            .map_err(pg)
    }

    /// Names of the tables in schema `geoplan` that have a geometry column,
    /// sorted.
    pub async fn layer_names(&self) -> Result<Vec<String>, StoreError> {
        let mut names: Vec<String> = sqlx::query_scalar(
            "SELECT DISTINCT f_table_name::text FROM geometry_columns WHERE f_table_schema = $1",
        )
        .bind(&self.schema)
        .fetch_all(&self.pool)
        .await
        .map_err(pg)?;
        names.sort();
        Ok(names)
    }

    /// Replaces the features of every given layer, in one transaction: for
    /// each layer the table's rows are deleted and the layer's rows copied
    /// in with their fids, then the fid sequence is moved past the largest
    /// fid. `progress` is called with the number of rows written so far,
    /// counted over all layers. Returns the number of rows written.
    ///
    /// Everything is checked before anything is written: an unknown layer
    /// is [`StoreError::UnknownLayer`]; a geometry type, CRS or field the
    /// table cannot hold is [`StoreError::Invalid`]. Any error, including
    /// one from the database midway (a duplicate key, say), rolls the whole
    /// load back.
    ///
    /// Rows are deleted rather than truncated so that readers keep seeing
    /// the old rows, without waiting on a lock, until the load commits. The
    /// change triggers stay silent during the load; each loaded layer is
    /// announced once, as [`ChangeEvent::Layer`], when it commits.
    ///
    /// Measured here (release build, 2 busy cores, PostgreSQL 15 on the
    /// same machine): 1,000,000 parcels load in 12–20 s into an empty
    /// table, 17–23 s over a million existing rows; the GiST index takes
    /// about half of that.
    pub async fn load(
        &self,
        layers: &[LayerData],
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<u64, StoreError> {
        self.load_in_transaction(layers, &[], progress)
            .await
            .map(|(n, _)| n)
    }

    /// The load of [`PostgisStore::load`], with checked history rows (see
    /// [`super::history`]) appended in the same transaction after the
    /// layers, skipping rows already stored alike. Returns the features
    /// written and the history rows appended.
    pub(super) async fn load_in_transaction(
        &self,
        layers: &[LayerData],
        history: &[super::history::Transition],
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<(u64, u64), StoreError> {
        let mut plans = Vec::with_capacity(layers.len());
        let mut seen = HashSet::new();
        for layer in layers {
            if !seen.insert(layer.name.as_str()) {
                return Err(StoreError::Invalid(format!(
                    "layer {} is given twice in one load",
                    layer.name
                )));
            }
            let table = self.table(&layer.name).await?;
            plans.push(LoadPlan::new(layer, table)?);
        }

        let mut tx = self.pool.begin().await.map_err(pg)?;
        sqlx::query("SELECT set_config($1, 'on', true)")
            .bind(BULK_LOAD_SETTING)
            .execute(&mut *tx)
            .await
            .map_err(pg)?;
        let mut done = 0u64;
        let mut buf = Vec::with_capacity(COPY_CHUNK_BYTES + (64 << 10));
        let mut scratch = Vec::new();
        for plan in &plans {
            let t = &plan.table;
            let started = Instant::now();
            sqlx::query(&format!("DELETE FROM {}", t.ident))
                .execute(&mut *tx)
                .await
                .map_err(pg)?;
            let deleted = started.elapsed();
            let mut copy = tx.copy_in_raw(&plan.copy_sql()).await.map_err(pg)?;
            let mut sent = 0u64;
            for row in 0..plan.layer.len() {
                plan.encode_row(row, &mut buf, &mut scratch);
                if buf.len() >= COPY_CHUNK_BYTES {
                    if let Err(e) = copy.send(buf.as_slice()).await {
                        buf.clear();
                        return Err(pg(e));
                    }
                    buf.clear();
                    sent = row as u64 + 1;
                    progress(done + sent);
                }
            }
            if !buf.is_empty() {
                let res = copy.send(buf.as_slice()).await;
                buf.clear();
                res.map_err(pg)?;
            }
            let written = copy.finish().await.map_err(pg)?;
            tracing::debug!(
                "load: {}: old rows deleted in {deleted:.1?}, {written} rows copied in {:.1?}",
                t.name,
                started.elapsed() - deleted
            );
            done += written;
            if written != sent {
                progress(done);
            }
        }
        let started = Instant::now();
        for plan in &plans {
            let t = &plan.table;
            sqlx::query(&format!("ANALYZE {}", t.ident))
                .execute(&mut *tx)
                .await
                .map_err(pg)?;
            notify_reload(&mut tx, &t.name).await?;
        }
        tracing::debug!("load: analyzed in {:.1?}", started.elapsed());
        let appended = super::history::insert_pg(&mut tx, history, true).await?;
        // Sequences are not transactional: move them last, right before the
        // commit, so that a failure earlier leaves them where they were.
        for plan in &plans {
            let t = &plan.table;
            sqlx::query(&format!(
                "SELECT setval(pg_get_serial_sequence($1, 'fid'), \
                 COALESCE(max(fid), 0) + 1, false) FROM {}",
                t.ident
            ))
            .bind(&t.ident)
            .execute(&mut *tx)
            .await
            .map_err(pg)?;
        }
        tx.commit().await.map_err(pg)?;
        Ok((done, appended.len() as u64))
    }

    /// Writes a list of edits in one SQL transaction, in list order, and
    /// returns the fids written. Every layer is looked up in the catalog
    /// and every value and geometry checked before the transaction starts;
    /// statements quote only the catalog's names and carry values as bound
    /// parameters, geometry as EWKB with the column's SRID. New fids come
    /// from the table's sequence. An update or delete of a missing fid, a
    /// constraint of the table (NOT NULL, UNIQUE, a number out of the
    /// column's range) or any other error rolls everything back.
    ///
    /// The change triggers announce the written fids on commit, as for
    /// any other SQL edit; a write of more than 1,000 rows (an import) is
    /// announced as one "reload the layer" per layer instead.
    pub async fn write(&self, edits: &[LayerEdit]) -> Result<WriteResult, StoreError> {
        self.write_in_transaction(edits, &[]).await.map(|(w, _)| w)
    }

    /// The write of [`PostgisStore::write`], with checked history rows
    /// (see [`super::history`]) appended in the same transaction after the
    /// edits. Returns the seqs of the rows, in order.
    pub(super) async fn write_in_transaction(
        &self,
        edits: &[LayerEdit],
        history: &[super::history::Transition],
    ) -> Result<(WriteResult, Vec<i64>), StoreError> {
        let mut tables: Vec<TableInfo> = Vec::new();
        let mut plans = Vec::with_capacity(edits.len());
        for e in edits {
            let t = match tables.iter().position(|t| t.name == e.layer) {
                Some(i) => i,
                None => {
                    tables.push(self.table(&e.layer).await?);
                    tables.len() - 1
                }
            };
            plans.push((
                t,
                WritePlan::new(&tables[t].name, e, |what, g, values| {
                    RowWrite::new(&tables[t], what, g, values)
                })?,
            ));
        }
        let mut tx = self.pool.begin().await.map_err(pg)?;
        // A large write (an import) would make the statement-level triggers
        // send one notification per row statement: announce each layer once
        // instead, as the bulk loader does.
        let rows: usize = plans
            .iter()
            .map(|(_, p)| p.inserts.len() + p.updates.len())
            .sum();
        let bulk = rows > BULK_WRITE_ROWS;
        if bulk {
            sqlx::query("SELECT set_config($1, 'on', true)")
                .bind(BULK_LOAD_SETTING)
                .execute(&mut *tx)
                .await
                .map_err(pg)?;
        }
        let mut result = WriteResult::default();
        for (t, plan) in &plans {
            let t = &tables[*t];
            let mut written = LayerWritten {
                layer: t.name.clone(),
                ..Default::default()
            };
            for row in &plan.inserts {
                let sql = t.insert_sql(row);
                let fid: i64 = row
                    .bind_all(sqlx::query_scalar(&sql), t)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(|e| write_error(&t.name, e))?;
                written.inserted.push(fid);
            }
            for (fid, row) in &plan.updates {
                let sql = t.update_sql(row);
                let done = row
                    .bind_all(sqlx::query(&sql), t)
                    .bind(fid)
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| write_error(&t.name, e))?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NoSuchFeature {
                        layer: t.name.clone(),
                        fid: *fid,
                    });
                }
                written.updated.push(*fid);
            }
            if !plan.deletes.is_empty() {
                let gone: Vec<i64> = sqlx::query_scalar(&format!(
                    "DELETE FROM {} WHERE fid = ANY($1) RETURNING fid::int8",
                    t.ident
                ))
                .bind(&plan.deletes)
                .fetch_all(&mut *tx)
                .await
                .map_err(|e| write_error(&t.name, e))?;
                let gone: std::collections::HashSet<i64> = gone.into_iter().collect();
                if let Some(&fid) = plan.deletes.iter().find(|f| !gone.contains(f)) {
                    return Err(StoreError::NoSuchFeature {
                        layer: t.name.clone(),
                        fid,
                    });
                }
                written.deleted = plan.deletes.clone();
            }
            result.layers.push(written);
        }
        if bulk {
            let mut layers: Vec<&str> = result.layers.iter().map(|l| l.layer.as_str()).collect();
            layers.sort_unstable();
            layers.dedup();
            for layer in layers {
                notify_reload(&mut tx, layer).await?;
            }
        }
        let rows = super::history::resolve_new(history, &result)?;
        let seqs = super::history::insert_pg(&mut tx, &rows, false).await?;
        tx.commit().await.map_err(pg)?;
        Ok((result, seqs))
    }

    /// Reads a whole layer, ordered by fid, in the table's CRS.
    ///
    /// Rows are handed over in batches, as they arrive from the server, to
    /// a blocking task that decodes them straight into the layer: the
    /// result set is never held, only the few batches in flight (the
    /// server waits while the decoder catches up), and the decoding (a
    /// million parcels take seconds) stays off the async runtime.
    pub async fn read_layer(&self, name: &str) -> Result<LayerData, StoreError> {
        use tokio_stream::StreamExt as _;
        const BATCH: usize = 4096;
        /// Batches received but not yet decoded.
        const IN_FLIGHT: usize = 4;
        let t = self.table(name).await?;
        let srid = u32::try_from(t.srid).unwrap_or(0);
        let fields = t.fields.clone();
        let mut b = LayerDataBuilder::new(&t.name, srid, t.geometry_type, fields.clone());
        let (batches, mut received) = tokio::sync::mpsc::channel::<Vec<PgRow>>(IN_FLIGHT);
        let decoder = crate::blocking::spawn(move || -> Result<LayerData, StoreError> {
            while let Some(batch) = received.blocking_recv() {
                for row in batch {
                    b.push_row(decode_row(&row, &fields).map_err(from_sqlx)?)?;
                }
            }
            Ok(b.finish()?)
        });
        let sql = t.select_sql("");
        let fetched: Result<(), sqlx::Error> = async {
            let mut rows = sqlx::query(&sql).fetch(&self.pool);
            let mut batch = Vec::with_capacity(BATCH);
            while let Some(row) = rows.next().await {
                batch.push(row?);
                if batch.len() == BATCH {
                    let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                    if batches.send(full).await.is_err() {
                        // The decoder stopped on an error of its own.
                        return Ok(());
                    }
                }
            }
            if !batch.is_empty() {
                let _ = batches.send(batch).await;
            }
            Ok(())
        }
        .await;
        drop(batches);
        let decoded = decoder
            .await
            .map_err(|e| StoreError::Invalid(format!("decoding layer {name}: {e}")))?;
        match (fetched, decoded) {
            // The decoder's own error explains a refused batch best.
            (_, Err(e)) => Err(e),
            (Err(e), Ok(_)) => Err(pg(e)),
            (Ok(_), Ok(layer)) => Ok(layer),
        }
    }

    /// Reads some features of a layer by fid, ordered by fid. Fids that
    /// are not in the table (deleted ones) are simply absent.
    pub async fn read_features(
        &self,
        name: &str,
        fids: &[i64],
    ) -> Result<Vec<FeatureRow>, StoreError> {
        let t = self.table(name).await?;
        if fids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = t.select_sql("WHERE fid = ANY($1)");
        sqlx::query(&sql)
            .bind(fids)
            .try_map(|row: PgRow| decode_row(&row, &t.fields))
            .fetch_all(&self.pool)
            .await
            .map_err(from_sqlx)
    }

    /// Listens on channel `geoplan_changes` and sends a [`ChangeEvent`] for
    /// every notification. When the connection is lost it reconnects with
    /// exponential backoff and then sends [`ChangeEvent::Layer`] for every
    /// layer, since notifications may have been missed meanwhile. Returns
    /// only when `tx` is closed.
    ///
    /// Notifications sent before the first `LISTEN` are not seen: start
    /// listening before the initial read of the layers.
    pub async fn listen(
        &self,
        tx: tokio::sync::mpsc::Sender<ChangeEvent>,
    ) -> Result<(), StoreError> {
        self.listen_ready(tx, None).await
    }

    /// As [`PostgisStore::listen`], and says on `ready` once the first
    /// `LISTEN` is in place: a change committed after that is never missed.
    pub async fn listen_ready(
        &self,
        tx: tokio::sync::mpsc::Sender<ChangeEvent>,
        ready: Option<tokio::sync::oneshot::Sender<()>>,
    ) -> Result<(), StoreError> {
        // A pool of its own, so the listener never takes a connection from
        // the readers.
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .max_lifetime(None)
            .idle_timeout(None)
            .acquire_timeout(self.pool.options().get_acquire_timeout())
            .connect_lazy_with((*self.pool.connect_options()).clone());
        let result = self.listen_on(&pool, &tx, ready).await;
        pool.close().await;
        result
    }

    async fn listen_on(
        &self,
        pool: &PgPool,
        tx: &tokio::sync::mpsc::Sender<ChangeEvent>,
        mut ready: Option<tokio::sync::oneshot::Sender<()>>,
    ) -> Result<(), StoreError> {
        let mut listener: Option<PgListener> = None;
        let mut missed = false;
        let mut backoff = BACKOFF_MIN;
        loop {
            let l = match listener.as_mut() {
                Some(l) => l,
                None => match self.subscribe(pool, missed, tx).await {
                    Ok(Some(l)) => {
                        self.listener.set_connected(true);
                        if missed {
                            tracing::info!("PostGIS change listener reconnected");
                        }
                        missed = false;
                        backoff = BACKOFF_MIN;
                        if let Some(r) = ready.take() {
                            let _ = r.send(());
                        }
                        listener.insert(l)
                    }
                    Ok(None) => return Ok(()),
                    Err(e) => {
                        tracing::warn!("PostGIS change listener: {e}; retrying in {:?}", backoff);
                        missed = true;
                        tokio::select! {
                            _ = tx.closed() => return Ok(()),
                            _ = tokio::time::sleep(backoff) => {}
                        }
                        backoff = (backoff * 2).min(BACKOFF_MAX);
                        continue;
                    }
                },
            };
            let received = tokio::select! {
                _ = tx.closed() => return Ok(()),
                r = l.try_recv() => r,
            };
            match received {
                Ok(Some(n)) => match parse_payload(n.payload()) {
                    Some(ev) => {
                        self.listener.event();
                        if tx.send(ev).await.is_err() {
                            return Ok(());
                        }
                    }
                    None => {
                        tracing::warn!("ignoring a malformed change notification: {}", n.payload())
                    }
                },
                Ok(None) | Err(_) => {
                    if let Err(e) = received {
                        tracing::warn!("PostGIS change listener lost its connection: {e}");
                    } else {
                        tracing::warn!("PostGIS change listener lost its connection");
                    }
                    listener = None;
                    missed = true;
                    self.listener.set_connected(false);
                }
            }
        }
    }

    /// Opens a listener; after a loss, tells the receiver to reload every
    /// layer. `Ok(None)` when the receiver is gone.
    async fn subscribe(
        &self,
        pool: &PgPool,
        missed: bool,
        tx: &tokio::sync::mpsc::Sender<ChangeEvent>,
    ) -> Result<Option<PgListener>, StoreError> {
        let mut l = PgListener::connect_with(pool).await.map_err(pg)?;
        l.eager_reconnect(false);
        l.listen(CHANGE_CHANNEL).await.map_err(pg)?;
        if missed {
            for layer in self.layer_names().await? {
                if tx.send(ChangeEvent::Layer { layer }).await.is_err() {
                    return Ok(None);
                }
            }
        }
        Ok(Some(l))
    }

    /// Looks a layer up in the catalog: its geometry column, CRS, type and
    /// attribute fields. The name is only ever a bound parameter here.
    async fn table(&self, name: &str) -> Result<TableInfo, StoreError> {
        let geom: Option<(String, i32, String)> = sqlx::query_as(
            "SELECT f_geometry_column::text, srid, type::text FROM geometry_columns \
             WHERE f_table_schema = $1 AND f_table_name = $2 \
             ORDER BY f_geometry_column <> 'geom', f_geometry_column LIMIT 1",
        )
        .bind(&self.schema)
        .bind(name)
        .fetch_optional(&self.pool)
        .await
        .map_err(pg)?;
        let Some((geom, srid, gtype)) = geom else {
            return Err(StoreError::UnknownLayer(name.to_owned()));
        };
        let geometry_type = GeometryType::parse(&gtype).ok_or_else(|| {
            StoreError::Invalid(format!(
                "layer {name}: geometry column {geom} has type {gtype}; \
                 one of Point, LineString, Polygon or their Multi* is needed"
            ))
        })?;
        let columns: Vec<(String, String)> = sqlx::query_as(
            "SELECT a.attname::text, t.typname::text \
             FROM pg_attribute a \
             JOIN pg_class c ON c.oid = a.attrelid \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             JOIN pg_type t ON t.oid = a.atttypid \
             WHERE n.nspname = $1 AND c.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped \
             ORDER BY a.attnum",
        )
        .bind(&self.schema)
        .bind(name)
        .fetch_all(&self.pool)
        .await
        .map_err(pg)?;
        let mut has_fid = false;
        let mut fields = Vec::new();
        let mut pg_types = Vec::new();
        for (col, typ) in columns {
            if col == "fid" {
                has_fid = matches!(typ.as_str(), "int2" | "int4" | "int8");
            } else if col != geom {
                fields.push(FieldDef::new(col, field_type(&typ)));
                pg_types.push(typ);
            }
        }
        if !has_fid {
            return Err(StoreError::Invalid(format!(
                "layer {name}: the table has no integer fid column"
            )));
        }
        Ok(TableInfo {
            ident: format!("{}.{}", quote_ident(&self.schema), quote_ident(name)),
            name: name.to_owned(),
            geom,
            srid,
            geometry_type,
            fields,
            pg_types,
        })
    }
}

/// What the catalog says about one layer table.
struct TableInfo {
    /// Table name (the layer name).
    name: String,
    /// Quoted, schema-qualified table name.
    ident: String,
    /// Geometry column.
    geom: String,
    /// CRS of the geometry column (0 when unconstrained).
    srid: i32,
    /// Declared geometry type.
    geometry_type: GeometryType,
    /// Attribute fields (every column but `fid` and the geometry).
    fields: Vec<FieldDef>,
    /// PostgreSQL type name (`int4`, `timestamptz`, ...) of each field.
    pg_types: Vec<String>,
}

impl TableInfo {
    /// `SELECT fid, wkb, fields... FROM table <filter> ORDER BY fid`, with
    /// every field cast so that it decodes as its [`FieldType`].
    fn select_sql(&self, filter: &str) -> String {
        let mut sql = format!("SELECT fid::int8, ST_AsBinary({})", quote_ident(&self.geom));
        for (f, typ) in self.fields.iter().zip(&self.pg_types) {
            let c = quote_ident(&f.name);
            sql.push_str(", ");
            sql.push_str(&match (f.ty, typ.as_str()) {
                (FieldType::Boolean, _) => c,
                (FieldType::Integer, _) => format!("{c}::int8"),
                (FieldType::Real, _) => format!("{c}::float8"),
                (FieldType::Date, _) => format!("to_char({c}, 'YYYY-MM-DD')"),
                (FieldType::DateTime, "timestamptz") => format!(
                    "regexp_replace(to_char({c} AT TIME ZONE 'UTC', \
                     'YYYY-MM-DD\"T\"HH24:MI:SS.US'), '\\.?0+$', '') || 'Z'"
                ),
                (FieldType::DateTime, _) => format!(
                    "regexp_replace(to_char({c}, 'YYYY-MM-DD\"T\"HH24:MI:SS.US'), '\\.?0+$', '')"
                ),
                (FieldType::Text, _) => format!("{c}::text"),
            });
        }
        sql.push_str(&format!(" FROM {} {filter} ORDER BY fid", self.ident));
        sql
    }

    /// `$n` cast so that it is stored in field `i`'s column: numbers and
    /// booleans convert by assignment; dates, times and other types held as
    /// text are cast to the column's type, named from the catalog.
    fn placeholder(&self, i: usize, n: usize) -> String {
        match (self.fields[i].ty, self.pg_types[i].as_str()) {
            (FieldType::Boolean | FieldType::Integer | FieldType::Real, _)
            | (FieldType::Text, "text" | "varchar" | "bpchar" | "name") => format!("${n}"),
            (_, typ) => format!("CAST(${n} AS {})", quote_ident(typ)),
        }
    }

    /// `INSERT INTO table (geom, fields...) VALUES (...) RETURNING fid`.
    fn insert_sql(&self, row: &RowWrite) -> String {
        let mut cols = Vec::new();
        let mut vals = Vec::new();
        if row.geometry.is_some() {
            cols.push(quote_ident(&self.geom));
            vals.push("ST_GeomFromEWKB($1)".to_owned());
        }
        for (i, _) in &row.values {
            cols.push(quote_ident(&self.fields[*i].name));
            vals.push(self.placeholder(*i, vals.len() + 1));
        }
        if cols.is_empty() {
            return format!(
                "INSERT INTO {} DEFAULT VALUES RETURNING fid::int8",
                self.ident
            );
        }
        format!(
            "INSERT INTO {} ({}) VALUES ({}) RETURNING fid::int8",
            self.ident,
            cols.join(", "),
            vals.join(", ")
        )
    }

    /// `UPDATE table SET geom = ..., field = ... WHERE fid = $last`.
    fn update_sql(&self, row: &RowWrite) -> String {
        let mut sets = Vec::new();
        if row.geometry.is_some() {
            sets.push(format!("{} = ST_GeomFromEWKB($1)", quote_ident(&self.geom)));
        }
        for (i, _) in &row.values {
            let p = self.placeholder(*i, sets.len() + 1);
            sets.push(format!("{} = {p}", quote_ident(&self.fields[*i].name)));
        }
        format!(
            "UPDATE {} SET {} WHERE fid = ${}",
            self.ident,
            sets.join(", "),
            sets.len() + 1
        )
    }
}

/// One checked row of a write: geometry as EWKB (outer `None`: not
/// written), values by field index.
struct RowWrite {
    geometry: Option<Option<Vec<u8>>>,
    values: Vec<(usize, Value)>,
}

impl RowWrite {
    fn new(
        t: &TableInfo,
        what: &str,
        geometry: Option<Option<&geo_types::Geometry<f64>>>,
        values: &[(String, Value)],
    ) -> Result<RowWrite, StoreError> {
        let geometry = match geometry {
            None => None,
            Some(None) => Some(None),
            Some(Some(g)) => {
                let g = conform_geometry(&t.name, what, t.geometry_type, g)?;
                let mut flat = FlatGeometry::new(t.geometry_type.kind());
                flat.push(Some(&g))
                    .map_err(|e| StoreError::Invalid(format!("layer {}: {what}: {e}", t.name)))?;
                let mut buf = Vec::new();
                ewkb::write(
                    &flat,
                    0,
                    t.geometry_type,
                    u32::try_from(t.srid).unwrap_or(0),
                    &mut buf,
                );
                Some(Some(buf))
            }
        };
        Ok(RowWrite {
            geometry,
            values: check_values(&t.name, what, &t.fields, values)?,
        })
    }

    /// Binds the geometry (when written) and then the values, in the order
    /// [`TableInfo::insert_sql`] and [`TableInfo::update_sql`] number them.
    fn bind_all<'q, Q: BindValues<'q>>(&'q self, mut q: Q, t: &TableInfo) -> Q {
        if let Some(g) = &self.geometry {
            q = q.bind_bytes(g.as_deref());
        }
        for (i, v) in &self.values {
            q = match (t.fields[*i].ty, v) {
                (FieldType::Boolean, Value::Bool(b)) => q.bind_bool(Some(*b)),
                (FieldType::Boolean, _) => q.bind_bool(None),
                (FieldType::Integer, Value::Int(n)) => q.bind_i64(Some(*n)),
                (FieldType::Integer, _) => q.bind_i64(None),
                (FieldType::Real, Value::Real(r)) => q.bind_f64(Some(*r)),
                (FieldType::Real, _) => q.bind_f64(None),
                (_, Value::Text(s)) => q.bind_str(Some(s)),
                (_, _) => q.bind_str(None),
            };
        }
        q
    }
}

/// The binds [`RowWrite::bind_all`] needs, over both query kinds.
trait BindValues<'q>: Sized {
    fn bind_bytes(self, v: Option<&'q [u8]>) -> Self;
    fn bind_bool(self, v: Option<bool>) -> Self;
    fn bind_i64(self, v: Option<i64>) -> Self;
    fn bind_f64(self, v: Option<f64>) -> Self;
    fn bind_str(self, v: Option<&'q str>) -> Self;
}

macro_rules! bind_values {
    ($t:ty) => {
        impl<'q> BindValues<'q> for $t {
            fn bind_bytes(self, v: Option<&'q [u8]>) -> Self {
                self.bind(v)
            }
            fn bind_bool(self, v: Option<bool>) -> Self {
                self.bind(v)
            }
            fn bind_i64(self, v: Option<i64>) -> Self {
                self.bind(v)
            }
            fn bind_f64(self, v: Option<f64>) -> Self {
                self.bind(v)
            }
            fn bind_str(self, v: Option<&'q str>) -> Self {
                self.bind(v)
            }
        }
    };
}
bind_values!(sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>);
bind_values!(sqlx::query::QueryScalar<'q, sqlx::Postgres, i64, sqlx::postgres::PgArguments>);

/// A database error of a write: the client's data when PostgreSQL says so
/// (class 22, data exception; class 23, integrity constraint violation),
/// else the database's.
fn write_error(layer: &str, e: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(d) = &e {
        if d.code()
            .is_some_and(|c| c.starts_with("22") || c.starts_with("23"))
        {
            return StoreError::Invalid(format!("layer {layer}: {}", d.message()));
        }
    }
    pg(e)
}

/// The model type a PostgreSQL column type reads as.
fn field_type(pg_type: &str) -> FieldType {
    match pg_type {
        "int2" | "int4" | "int8" => FieldType::Integer,
        "float4" | "float8" | "numeric" => FieldType::Real,
        "bool" => FieldType::Boolean,
        "date" => FieldType::Date,
        "timestamp" | "timestamptz" => FieldType::DateTime,
        _ => FieldType::Text,
    }
}

/// Can values of type `from` be stored in a column read as `to`?
fn fits(from: FieldType, to: FieldType) -> bool {
    from == to
        || matches!(
            (from, to),
            (FieldType::Integer, FieldType::Real)
                | (FieldType::Date | FieldType::DateTime, FieldType::Text)
        )
}

/// One layer checked against its table, ready to be copied in.
struct LoadPlan<'a> {
    layer: &'a LayerData,
    table: TableInfo,
    srid: u32,
}

impl<'a> LoadPlan<'a> {
    /// Checks that the table can hold the layer: geometry dimension, CRS,
    /// single/multi parts and every field.
    fn new(layer: &'a LayerData, table: TableInfo) -> Result<Self, StoreError> {
        let name = &layer.name;
        let invalid = |msg: String| Err(StoreError::Invalid(format!("layer {name}: {msg}")));
        if layer.geometry_type.kind() != table.geometry_type.kind() {
            return invalid(format!(
                "{} geometries do not fit the table's {} column",
                layer.geometry_type.name(),
                table.geometry_type.name()
            ));
        }
        if i64::from(layer.srid) != i64::from(table.srid) {
            return invalid(format!(
                "coordinates are in EPSG:{}, the table holds EPSG:{}; reproject first",
                layer.srid, table.srid
            ));
        }
        if !table.geometry_type.is_multi() {
            for row in 0..layer.len() {
                let parts = layer.geometry.part_count(row);
                if parts > 1 {
                    return invalid(format!(
                        "feature {} has {parts} parts; the table holds single {}s",
                        layer.fids[row],
                        table.geometry_type.name()
                    ));
                }
            }
        }
        for f in &layer.fields {
            match table.fields.iter().find(|c| c.name == f.name) {
                None => return invalid(format!("the table has no column {}", f.name)),
                Some(c) if !fits(f.ty, c.ty) => {
                    return invalid(format!(
                        "field {} is {:?} but the table column is {:?}",
                        f.name, f.ty, c.ty
                    ))
                }
                Some(_) => {}
            }
        }
        let srid = layer.srid;
        Ok(LoadPlan { layer, table, srid })
    }

    /// `COPY table (fid, geom, fields...) FROM STDIN` (text format).
    fn copy_sql(&self) -> String {
        let mut cols = vec![quote_ident("fid"), quote_ident(&self.table.geom)];
        cols.extend(self.layer.fields.iter().map(|f| quote_ident(&f.name)));
        format!("COPY {} ({}) FROM STDIN", self.table.ident, cols.join(", "))
    }

    /// Appends row `row` in `COPY` text format; `scratch` is reused for the
    /// EWKB.
    fn encode_row(&self, row: usize, out: &mut Vec<u8>, scratch: &mut Vec<u8>) {
        let l = self.layer;
        let _ = write!(out, "{}\t", l.fids[row]);
        if l.geometry.part_count(row) == 0 {
            out.extend_from_slice(b"\\N");
        } else {
            scratch.clear();
            ewkb::write(
                &l.geometry,
                row,
                self.table.geometry_type,
                self.srid,
                scratch,
            );
            hex(scratch, out);
        }
        for col in 0..l.fields.len() {
            out.push(b'\t');
            match l.value(row, col) {
                ValueRef::Null => out.extend_from_slice(b"\\N"),
                ValueRef::Bool(b) => out.push(if b { b't' } else { b'f' }),
                ValueRef::Int(i) => {
                    let _ = write!(out, "{i}");
                }
                ValueRef::Real(r) if r.is_finite() => {
                    // Debug prints the shortest text that reads back to the
                    // same f64, with an exponent for very large or small.
                    let _ = write!(out, "{r:?}");
                }
                ValueRef::Real(r) => {
                    out.extend_from_slice(if r > 0.0 { b"Infinity" } else { b"-Infinity" })
                }
                ValueRef::Text(s) => copy_escape(s, out),
            }
        }
        out.push(b'\n');
    }
}

/// Escapes text for `COPY ... FROM STDIN` text format.
fn copy_escape(s: &str, out: &mut Vec<u8>) {
    for &b in s.as_bytes() {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            _ => out.push(b),
        }
    }
}

/// Appends `bytes` as lowercase hex.
fn hex(bytes: &[u8], out: &mut Vec<u8>) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    out.reserve(bytes.len() * 2);
    for &b in bytes {
        out.push(DIGITS[(b >> 4) as usize]);
        out.push(DIGITS[(b & 15) as usize]);
    }
}

/// Quotes an SQL identifier.
fn quote_ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// Decodes one `select_sql` row.
fn decode_row(row: &PgRow, fields: &[FieldDef]) -> Result<FeatureRow, sqlx::Error> {
    let fid: i64 = row.try_get(0)?;
    let wkb: Option<&[u8]> = row.try_get(1)?;
    let geometry = match wkb {
        Some(b) => wkb::read(b).map_err(|e| {
            decode_error(StoreError::Invalid(format!("feature {fid}: bad WKB: {e}")))
        })?,
        None => None,
    };
    let mut values = Vec::with_capacity(fields.len());
    for (i, f) in fields.iter().enumerate() {
        let i = i + 2;
        let v = match f.ty {
            FieldType::Boolean => row.try_get::<Option<bool>, _>(i)?.map(Value::Bool),
            FieldType::Integer => row.try_get::<Option<i64>, _>(i)?.map(Value::Int),
            FieldType::Real => row.try_get::<Option<f64>, _>(i)?.map(Value::Real),
            FieldType::Text | FieldType::Date | FieldType::DateTime => row
                .try_get::<Option<&str>, _>(i)?
                .map(|s| Value::Text(nfc(s))),
        };
        values.push(v.unwrap_or(Value::Null));
    }
    Ok(FeatureRow {
        fid,
        geometry,
        values,
    })
}

/// Carries a store error through sqlx's row mapping.
fn decode_error(e: StoreError) -> sqlx::Error {
    sqlx::Error::Decode(Box::new(e))
}

/// Unwraps a store error carried by [`decode_error`]; other errors are
/// database errors.
fn from_sqlx(e: sqlx::Error) -> StoreError {
    match e {
        sqlx::Error::Decode(inner) => match inner.downcast::<StoreError>() {
            Ok(e) => *e,
            Err(other) => StoreError::Postgis(other.to_string()),
        },
        other => pg(other),
    }
}

/// A database error as the store reports it: [`StoreError::Unavailable`]
/// when PostgreSQL cannot be reached for now, else [`StoreError::Postgis`].
pub(crate) fn pg(e: sqlx::Error) -> StoreError {
    if unreachable(&e) {
        StoreError::Unavailable(e.to_string())
    } else {
        StoreError::Postgis(e.to_string())
    }
}

/// True when `e` says PostgreSQL cannot be reached for now (down,
/// restarting, the connection lost, no connection free in time) rather
/// than that it refused what was asked.
fn unreachable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        // Class 08: connection exception; 57P01–57P03: the server is
        // shutting down, crashed or starting; 53300: too many connections.
        sqlx::Error::Database(d) => d.code().is_some_and(|c| {
            c.starts_with("08") || matches!(&*c, "57P01" | "57P02" | "57P03" | "53300")
        }),
        _ => false,
    }
}

/// `url` with its password (in the authority, or a `password` parameter)
/// replaced by `***`, for messages and logs.
pub fn redact_url(url: &str) -> String {
    let Ok(mut u) = url::Url::parse(url) else {
        // By hand: the user info's password, and a query naming one.
        let (head, query) = url.split_once('?').unwrap_or((url, ""));
        let start = head.find("://").map_or(0, |i| i + 3);
        let end = head[start..].find('/').map_or(head.len(), |i| start + i);
        let mut out = head.to_owned();
        if let Some(at) = head[start..end].rfind('@') {
            if let Some(colon) = head[start..start + at].find(':') {
                out.replace_range(start + colon + 1..start + at, "***");
            }
        }
        if !query.is_empty() {
            let params: Vec<&str> = query
                .split('&')
                .map(|p| match p.split_once('=') {
                    Some(("password", _)) => "password=***",
                    _ => p,
                })
                .collect();
            out.push('?');
            out.push_str(&params.join("&"));
        }
        return out;
    };
    if u.password().is_some() {
        let _ = u.set_password(Some("***"));
    }
    if u.query_pairs().any(|(k, _)| k == "password") {
        let pairs: Vec<(String, String)> = u
            .query_pairs()
            .map(|(k, v)| {
                let v = if k == "password" { "***".into() } else { v };
                (k.into_owned(), v.into_owned())
            })
            .collect();
        u.query_pairs_mut().clear().extend_pairs(pairs);
    }
    u.to_string()
}

/// Parses a `geoplan_changes` payload.
fn parse_payload(payload: &str) -> Option<ChangeEvent> {
    #[derive(serde::Deserialize)]
    struct Payload {
        layer: String,
        #[serde(default)]
        fids: Option<Vec<i64>>,
        #[serde(default)]
        all: bool,
    }
    let p: Payload = serde_json::from_str(payload).ok()?;
    match (p.all, p.fids) {
        (false, Some(fids)) => Some(ChangeEvent::Features {
            layer: p.layer,
            fids,
        }),
        (true, _) => Some(ChangeEvent::Layer { layer: p.layer }),
        (false, None) => None,
    }
}

/// Writing EWKB (little-endian, with SRID) straight from flat geometry.
mod ewkb {
    use super::{FlatGeometry, GeometryType};

    const SRID_FLAG: u32 = 0x2000_0000;

    fn code(ty: GeometryType) -> u32 {
        match ty {
            GeometryType::Point => 1,
            GeometryType::LineString => 2,
            GeometryType::Polygon => 3,
            GeometryType::MultiPoint => 4,
            GeometryType::MultiLineString => 5,
            GeometryType::MultiPolygon => 6,
        }
    }

    fn u32le(out: &mut Vec<u8>, v: u32) {
        out.extend_from_slice(&v.to_le_bytes());
    }

    fn coords(out: &mut Vec<u8>, cs: &[geo_types::Coord<f64>]) {
        for c in cs {
            out.extend_from_slice(&c.x.to_le_bytes());
            out.extend_from_slice(&c.y.to_le_bytes());
        }
    }

    fn header(out: &mut Vec<u8>, code: u32) {
        out.push(1);
        u32le(out, code);
    }

    /// Writes `rings` as a polygon body (ring count, then rings).
    fn polygon<'a>(out: &mut Vec<u8>, rings: impl Iterator<Item = &'a [geo_types::Coord<f64>]>) {
        let at = out.len();
        u32le(out, 0);
        let mut n = 0u32;
        for r in rings {
            u32le(out, r.len() as u32);
            coords(out, r);
            n += 1;
        }
        out[at..at + 4].copy_from_slice(&n.to_le_bytes());
    }

    /// Writes feature `i` (which has at least one part, and exactly one if
    /// `ty` is not a Multi* type) as `ty`.
    pub(super) fn write(
        g: &FlatGeometry,
        i: usize,
        ty: GeometryType,
        srid: u32,
        out: &mut Vec<u8>,
    ) {
        header(out, code(ty) | SRID_FLAG);
        u32le(out, srid);
        if ty.is_multi() {
            u32le(out, g.part_count(i) as u32);
        }
        for mut part in g.parts(i) {
            match ty {
                GeometryType::Point | GeometryType::MultiPoint => {
                    if ty.is_multi() {
                        header(out, 1);
                    }
                    let ring = part.next().unwrap_or(&[]);
                    coords(out, &ring[..1.min(ring.len())]);
                }
                GeometryType::LineString | GeometryType::MultiLineString => {
                    if ty.is_multi() {
                        header(out, 2);
                    }
                    let ring = part.next().unwrap_or(&[]);
                    u32le(out, ring.len() as u32);
                    coords(out, ring);
                }
                GeometryType::Polygon | GeometryType::MultiPolygon => {
                    if ty.is_multi() {
                        header(out, 3);
                    }
                    polygon(out, part);
                }
            }
        }
    }
}

/// Reading WKB (ISO or EWKB, either byte order; Z and M are dropped).
mod wkb {
    use geo::CoordsIter;
    use geo_types::{
        Coord, Geometry, LineString, MultiLineString, MultiPoint, MultiPolygon, Point, Polygon,
    };

    /// Parses one geometry; empty geometries read as `None`.
    pub(super) fn read(buf: &[u8]) -> Result<Option<Geometry<f64>>, String> {
        let mut r = Reader { buf, pos: 0 };
        let g = r.geometry()?;
        if r.pos != buf.len() {
            return Err(format!("{} trailing bytes", buf.len() - r.pos));
        }
        Ok(g.filter(|g| g.coords_count() > 0))
    }

    struct Reader<'a> {
        buf: &'a [u8],
        pos: usize,
    }

    struct Header {
        le: bool,
        ty: u32,
        extra: usize,
    }

    impl Reader<'_> {
        fn take<const N: usize>(&mut self) -> Result<[u8; N], String> {
            let b = self
                .buf
                .get(self.pos..self.pos + N)
                .ok_or("unexpected end of data")?;
            self.pos += N;
            Ok(b.try_into().expect("slice of length N"))
        }

        fn u32(&mut self, le: bool) -> Result<u32, String> {
            let b = self.take::<4>()?;
            Ok(if le {
                u32::from_le_bytes(b)
            } else {
                u32::from_be_bytes(b)
            })
        }

        fn f64(&mut self, le: bool) -> Result<f64, String> {
            let b = self.take::<8>()?;
            Ok(if le {
                f64::from_le_bytes(b)
            } else {
                f64::from_be_bytes(b)
            })
        }

        /// A count, bounded by what the remaining bytes could hold.
        fn count(&mut self, le: bool, min_item_bytes: usize) -> Result<usize, String> {
            let n = self.u32(le)? as usize;
            if n.saturating_mul(min_item_bytes) > self.buf.len() - self.pos {
                return Err(format!("count {n} exceeds the data"));
            }
            Ok(n)
        }

        fn header(&mut self) -> Result<Header, String> {
            let le = match self.take::<1>()?[0] {
                0 => false,
                1 => true,
                b => return Err(format!("bad byte order {b}")),
            };
            let raw = self.u32(le)?;
            let (ty, z, m) = if raw & 0xE000_0000 != 0 {
                // EWKB: flags in the high bits, optional SRID.
                if raw & 0x2000_0000 != 0 {
                    self.u32(le)?;
                }
                (
                    raw & 0x0FFF_FFFF,
                    raw & 0x8000_0000 != 0,
                    raw & 0x4000_0000 != 0,
                )
            } else {
                // ISO: 1000 Z, 2000 M, 3000 ZM.
                let dims = raw / 1000;
                (raw % 1000, dims == 1 || dims == 3, dims == 2 || dims == 3)
            };
            Ok(Header {
                le,
                ty,
                extra: usize::from(z) + usize::from(m),
            })
        }

        fn coord(&mut self, h: &Header) -> Result<Coord<f64>, String> {
            let x = self.f64(h.le)?;
            let y = self.f64(h.le)?;
            for _ in 0..h.extra {
                self.f64(h.le)?;
            }
            Ok(Coord { x, y })
        }

        fn line(&mut self, h: &Header) -> Result<LineString<f64>, String> {
            let n = self.count(h.le, 16)?;
            (0..n)
                .map(|_| self.coord(h))
                .collect::<Result<_, _>>()
                .map(LineString)
        }

        fn polygon(&mut self, h: &Header) -> Result<Polygon<f64>, String> {
            let n = self.count(h.le, 4)?;
            let mut rings = (0..n)
                .map(|_| self.line(h))
                .collect::<Result<Vec<_>, _>>()?;
            if rings.is_empty() {
                return Ok(Polygon::new(LineString(vec![]), vec![]));
            }
            let exterior = rings.remove(0);
            Ok(Polygon::new(exterior, rings))
        }

        /// A point; `None` for POINT EMPTY (NaN coordinates).
        fn point(&mut self, h: &Header) -> Result<Option<Point<f64>>, String> {
            let c = self.coord(h)?;
            Ok((!c.x.is_nan() && !c.y.is_nan()).then_some(Point(c)))
        }

        /// The parts of a Multi* geometry, each with its own header of
        /// type `want`.
        fn parts<T>(
            &mut self,
            h: &Header,
            want: u32,
            mut part: impl FnMut(&mut Self, &Header) -> Result<T, String>,
        ) -> Result<Vec<T>, String> {
            let n = self.count(h.le, 9)?;
            let mut out = Vec::with_capacity(n);
            for _ in 0..n {
                let ph = self.header()?;
                if ph.ty != want {
                    return Err(format!("part of type {} in a multi of type {want}", ph.ty));
                }
                out.push(part(self, &ph)?);
            }
            Ok(out)
        }

        fn geometry(&mut self) -> Result<Option<Geometry<f64>>, String> {
            let h = self.header()?;
            Ok(Some(match h.ty {
                1 => return Ok(self.point(&h)?.map(Geometry::Point)),
                2 => Geometry::LineString(self.line(&h)?),
                3 => Geometry::Polygon(self.polygon(&h)?),
                4 => Geometry::MultiPoint(MultiPoint(
                    self.parts(&h, 1, |r, ph| r.point(ph))?
                        .into_iter()
                        .flatten()
                        .collect(),
                )),
                5 => Geometry::MultiLineString(MultiLineString(
                    self.parts(&h, 2, |r, ph| r.line(ph))?,
                )),
                6 => {
                    Geometry::MultiPolygon(MultiPolygon(self.parts(&h, 3, |r, ph| r.polygon(ph))?))
                }
                other => return Err(format!("unsupported geometry type {other}")),
            }))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::GeometryKind;
    use geo_types::{coord, polygon, Geometry, LineString, MultiPolygon};

    #[test]
    fn database_urls_are_shown_without_their_password() {
        assert_eq!(
            redact_url("postgres://geoplan:s3cr%40t@db.danang.gov.vn:5433/geoplan"),
            "postgres://geoplan:***@db.danang.gov.vn:5433/geoplan"
        );
        assert_eq!(
            redact_url("postgres://geoplan@/geoplan?host=/run/postgresql&password=s3cret"),
            "postgres://geoplan@/geoplan?host=/run/postgresql&password=***"
        );
        let plain = "postgres://postgres@127.0.0.1:5432/geoplan";
        assert_eq!(redact_url(plain), plain);
        assert!(!redact_url("postgres://a:s3cret@[::1").contains("s3cret"));
    }

    #[test]
    fn a_lost_or_refused_connection_is_unavailable_and_a_bad_statement_is_not() {
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert!(pg(sqlx::Error::Io(refused)).is_unavailable());
        assert!(pg(sqlx::Error::PoolTimedOut).is_unavailable());
        assert!(!pg(sqlx::Error::RowNotFound).is_unavailable());
        assert!(!pg(sqlx::Error::ColumnNotFound("x".into())).is_unavailable());
    }

    fn flat(g: &Geometry<f64>, kind: GeometryKind) -> FlatGeometry {
        let mut f = FlatGeometry::new(kind);
        f.push(Some(g)).unwrap();
        f
    }

    #[test]
    fn ewkb_written_from_flat_geometry_reads_back_the_same() {
        let square = polygon!(
            exterior: [(x: 0., y: 0.), (x: 10., y: 0.), (x: 10., y: 10.), (x: 0., y: 0.)],
            interiors: [[(x: 4., y: 4.), (x: 6., y: 4.), (x: 6., y: 6.), (x: 4., y: 4.)]],
        );
        let cases = [
            (
                Geometry::Point(geo_types::point!(x: 561563.927, y: 1756054.6)),
                GeometryType::Point,
            ),
            (
                Geometry::LineString(LineString(vec![
                    coord! {x: 1., y: 2.},
                    coord! {x: 3., y: 4.},
                ])),
                GeometryType::LineString,
            ),
            (Geometry::Polygon(square.clone()), GeometryType::Polygon),
            (
                Geometry::MultiPolygon(MultiPolygon(vec![square.clone(), square])),
                GeometryType::MultiPolygon,
            ),
        ];
        for (g, ty) in cases {
            let f = flat(&g, ty.kind());
            let mut buf = Vec::new();
            ewkb::write(&f, 0, ty, 5899, &mut buf);
            assert_eq!(wkb::read(&buf).unwrap(), Some(g), "{ty:?}");
        }
    }

    #[test]
    fn big_endian_iso_wkb_with_z_reads_as_2d() {
        // POINT Z (1 2 3), big-endian ISO code 1001.
        let mut b = vec![0u8];
        b.extend_from_slice(&1001u32.to_be_bytes());
        for v in [1.0f64, 2.0, 3.0] {
            b.extend_from_slice(&v.to_be_bytes());
        }
        assert_eq!(
            wkb::read(&b).unwrap(),
            Some(Geometry::Point(geo_types::point!(x: 1.0, y: 2.0)))
        );
    }

    #[test]
    fn truncated_or_lying_wkb_is_an_error_not_a_panic() {
        let mut b = vec![1u8];
        b.extend_from_slice(&2u32.to_le_bytes());
        b.extend_from_slice(&u32::MAX.to_le_bytes());
        assert!(wkb::read(&b).is_err());
        assert!(wkb::read(&[1, 1, 0]).is_err());
    }

    #[test]
    fn copy_text_escapes_the_separators() {
        let mut out = Vec::new();
        copy_escape("a\tb\\c\nd\re Phường", &mut out);
        assert_eq!(out, b"a\\tb\\\\c\\nd\\re Ph\xc6\xb0\xe1\xbb\x9dng".to_vec());
    }

    #[test]
    fn identifiers_are_quoted_with_inner_quotes_doubled() {
        assert_eq!(quote_ident("a\"b; drop"), "\"a\"\"b; drop\"");
    }

    #[test]
    fn notification_payloads_become_change_events() {
        assert_eq!(
            parse_payload(r#"{"layer" : "parcels", "fids" : [3,1]}"#),
            Some(ChangeEvent::Features {
                layer: "parcels".into(),
                fids: vec![3, 1]
            })
        );
        assert_eq!(
            parse_payload(r#"{"layer" : "parcels", "all" : true}"#),
            Some(ChangeEvent::Layer {
                layer: "parcels".into()
            })
        );
        assert_eq!(parse_payload(r#"{"layer": "parcels"}"#), None);
        assert_eq!(parse_payload("not json"), None);
    }
}
