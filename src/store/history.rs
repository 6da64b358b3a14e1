//! The append-only history of investment projects' legal procedure: one
//! [`Transition`] per step a project took (proposed → policy approved →
//! investor selected …), with its decision, day, authority, note, user and
//! the time it was recorded. It owns the transition type and the history
//! table of both stores (`project_history`: a plain SQLite table inside
//! the GeoPackage, `geoplan.project_history` in PostGIS from
//! `migrations/0005_project_registry.sql`). It knows nothing of which
//! moves are legal (that is `planning`'s), and the table is not a layer:
//! no geometry, not registered in `gpkg_contents`, never in the engine,
//! tiles or WFS.
//!
//! The history is append-only: rows are only ever inserted, and both
//! tables refuse `UPDATE` and `DELETE` by trigger. A transition is written
//! together with the project's own edit, in one transaction, by
//! [`super::Store::write_with_history`]; [`super::Store::put_history`]
//! appends rows alone (loaded or sample history). The store gives each row
//! its `seq`, increasing in the order of recording (PostgreSQL may leave
//! gaps after a rolled-back write; the order holds).
//!
//! Before anything is written, `recorded_at` is brought to one spelling
//! (RFC 3339, UTC, microseconds: `2026-03-01T02:00:00.000000Z`) and `day`
//! must be a calendar day spelled `YYYY-MM-DD`, so that both stores hold
//! and return the same text. Everything else (a non-empty `to_stage`, a
//! `from_stage` that is not empty when given) is the tables' own `CHECK`s:
//! a row they refuse is [`StoreError::Invalid`] and nothing of the write
//! is kept.
//!
//! # Examples
//!
//! ```
//! use geoplan::store::history::{Transition, HISTORY_TABLE};
//!
//! let t = Transition {
//!     seq: 0,
//!     project_fid: 12,
//!     from_stage: Some("proposed".into()),
//!     to_stage: "policy_approved".into(),
//!     day: "2026-03-01".into(),
//!     decision: Some("123/QĐ-UBND".into()),
//!     authority: Some("UBND thành phố Đà Nẵng".into()),
//!     note: None,
//!     user_name: Some("nguyen.lan".into()),
//!     recorded_at: "2026-03-01T09:15:00+07:00".into(),
//! };
//! assert_eq!(HISTORY_TABLE, "project_history");
//! // The spelling both stores keep.
//! assert_eq!(t.checked().unwrap().recorded_at, "2026-03-01T02:15:00.000000Z");
//! let mut bad = t.clone();
//! bad.day = "1/3/2026".into();
//! assert!(bad.checked().is_err());
//! ```

use super::StoreError;
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};

/// The table name, in the GeoPackage and in schema `geoplan`.
pub const HISTORY_TABLE: &str = "project_history";

/// One step of an investment project's legal procedure, as recorded.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Transition {
    /// Order of recording, assigned by the store (ignored on write; 0 for a new one).
    pub seq: i64,
    /// The project (fid in `investment_projects`); 0 in a write that
    /// inserts the project: the fid it is given.
    pub project_fid: i64,
    /// The stage left (a stage code such as "proposed"); None for the first entry.
    pub from_stage: Option<String>,
    /// The stage entered (a stage code).
    pub to_stage: String,
    /// The decision's day, YYYY-MM-DD.
    pub day: String,
    /// Decision number ("123/QĐ-UBND").
    pub decision: Option<String>,
    /// Issuing authority ("UBND thành phố Đà Nẵng").
    pub authority: Option<String>,
    /// Free note.
    pub note: Option<String>,
    /// Who recorded it (editor user name), None for loaded history.
    pub user_name: Option<String>,
    /// When it was recorded, RFC 3339 UTC with microseconds (set by the caller).
    pub recorded_at: String,
}

/// The rows with `project_fid` 0 given the fid of the first feature the
/// write inserted: a project created and its first step recorded in one
/// transaction. [`StoreError::Invalid`] when a row asks for it and the
/// write inserted nothing.
pub(super) fn resolve_new(
    rows: &[Transition],
    written: &crate::model::WriteResult,
) -> Result<Vec<Transition>, StoreError> {
    let first = written
        .layers
        .iter()
        .find_map(|l| l.inserted.first().copied());
    rows.iter()
        .map(|t| match (t.project_fid, first) {
            (0, Some(fid)) => Ok(Transition {
                project_fid: fid,
                ..t.clone()
            }),
            (0, None) => Err(StoreError::Invalid(
                "a history row names the new project (project_fid 0), but the write inserts none"
                    .into(),
            )),
            _ => Ok(t.clone()),
        })
        .collect()
}

impl Transition {
    /// The row as the stores write it: `recorded_at` in RFC 3339 UTC with
    /// exactly six decimals (any RFC 3339 offset is accepted and turned to
    /// UTC; finer digits are cut), `seq` 0. [`StoreError::Invalid`] names
    /// the problem when `recorded_at` is no RFC 3339 time, `day` no
    /// `YYYY-MM-DD` calendar day, or a text holds a NUL character.
    pub fn checked(&self) -> Result<Transition, StoreError> {
        let what = format!("project {} history", self.project_fid);
        let at = DateTime::parse_from_rfc3339(&self.recorded_at).map_err(|e| {
            StoreError::Invalid(format!(
                "{what}: recorded_at '{}' is not an RFC 3339 time: {e}",
                self.recorded_at
            ))
        })?;
        let day_ok = self.day.len() == 10
            && self.day.as_bytes()[4] == b'-'
            && self.day.as_bytes()[7] == b'-'
            && NaiveDate::parse_from_str(&self.day, "%Y-%m-%d").is_ok();
        if !day_ok {
            return Err(StoreError::Invalid(format!(
                "{what}: day '{}' is not a calendar day as YYYY-MM-DD",
                self.day
            )));
        }
        let texts = [
            ("from_stage", self.from_stage.as_deref()),
            ("to_stage", Some(self.to_stage.as_str())),
            ("decision", self.decision.as_deref()),
            ("authority", self.authority.as_deref()),
            ("note", self.note.as_deref()),
            ("user_name", self.user_name.as_deref()),
        ];
        if let Some((name, _)) = texts
            .iter()
            .find(|(_, t)| t.is_some_and(|t| t.contains('\0')))
        {
            return Err(StoreError::Invalid(format!(
                "{what}: {name} holds a NUL character"
            )));
        }
        let mut t = self.clone();
        t.seq = 0;
        t.recorded_at = at
            .with_timezone(&Utc)
            .to_rfc3339_opts(SecondsFormat::Micros, true);
        Ok(t)
    }
}

/// Every row checked (see [`Transition::checked`]), before a write starts.
fn checked_all(rows: &[Transition]) -> Result<Vec<Transition>, StoreError> {
    rows.iter().map(Transition::checked).collect()
}

/// The columns written, in bind order (`seq` comes from the table).
const COLUMNS: &str = "project_fid, from_stage, to_stage, day, decision, authority, note, \
                       user_name, recorded_at";

/// The GeoPackage table, its index and the triggers that keep it
/// append-only; each statement on its own (GDAL's `ExecuteSQL` runs one at
/// a time), each safe to run again.
const GPKG_SCHEMA: [&str; 4] = [
    "CREATE TABLE IF NOT EXISTS project_history (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    project_fid  INTEGER NOT NULL,
    from_stage   TEXT CHECK (from_stage IS NULL OR from_stage <> ''),
    to_stage     TEXT NOT NULL CHECK (to_stage <> ''),
    day          TEXT NOT NULL CHECK (day GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]' AND date(day) IS day),
    decision     TEXT,
    authority    TEXT,
    note         TEXT,
    user_name    TEXT,
    recorded_at  TEXT NOT NULL CHECK (recorded_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z')
)",
    "CREATE INDEX IF NOT EXISTS project_history_project_idx ON project_history (project_fid, seq)",
    "CREATE TRIGGER IF NOT EXISTS project_history_no_update BEFORE UPDATE ON project_history
BEGIN
    SELECT RAISE(ABORT, 'project history is append-only');
END",
    "CREATE TRIGGER IF NOT EXISTS project_history_no_delete BEFORE DELETE ON project_history
BEGIN
    SELECT RAISE(ABORT, 'project history is append-only');
END",
];

/// A text as an SQLite literal (quotes doubled; no NUL, see
/// [`Transition::checked`]), or `NULL`.
fn sql_text(s: Option<&str>) -> String {
    match s {
        None => "NULL".into(),
        Some(s) => format!("'{}'", s.replace('\'', "''")),
    }
}

/// The `INSERT` of one checked row with its values as SQLite literals
/// (GDAL's `ExecuteSQL` binds no parameters).
fn gpkg_insert_literal(t: &Transition) -> String {
    format!(
        "INSERT INTO {HISTORY_TABLE} ({COLUMNS}) VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {})",
        t.project_fid,
        sql_text(t.from_stage.as_deref()),
        sql_text(Some(&t.to_stage)),
        sql_text(Some(&t.day)),
        sql_text(t.decision.as_deref()),
        sql_text(t.authority.as_deref()),
        sql_text(t.note.as_deref()),
        sql_text(t.user_name.as_deref()),
        sql_text(Some(&t.recorded_at)),
    )
}

/// A constraint of the history table refusing a row: the client's data.
fn refused(msg: &str) -> StoreError {
    StoreError::Invalid(format!("project history: {msg}"))
}

// -------------------------------------------------------------- GeoPackage

impl super::gpkg::GpkgStore {
    /// Appends history rows in one SQLite transaction, creating the table
    /// (with its index and triggers) when the file has none yet; returns
    /// nothing, as the sample writer and `geoplan load` need no seqs. Only
    /// the history table is touched; a refused row leaves the file as it
    /// was.
    pub fn put_history(&self, rows: &[Transition]) -> Result<(), StoreError> {
        let rows = checked_all(rows)?;
        let mut c = self.sqlite(true)?;
        let tx = c
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(|e| self.sqlite_err(e))?;
        for s in GPKG_SCHEMA {
            tx.execute_batch(s).map_err(|e| self.sqlite_err(e))?;
        }
        {
            let mut st = tx
                .prepare(&format!(
                    "INSERT INTO {HISTORY_TABLE} ({COLUMNS}) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
                ))
                .map_err(|e| self.sqlite_err(e))?;
            for t in &rows {
                st.execute(rusqlite::params![
                    t.project_fid,
                    t.from_stage,
                    t.to_stage,
                    t.day,
                    t.decision,
                    t.authority,
                    t.note,
                    t.user_name,
                    t.recorded_at,
                ])
                .map_err(|e| match e {
                    rusqlite::Error::SqliteFailure(f, msg)
                        if f.code == rusqlite::ErrorCode::ConstraintViolation =>
                    {
                        refused(msg.as_deref().unwrap_or("a constraint refused a row"))
                    }
                    e => self.sqlite_err(e),
                })?;
            }
        }
        tx.commit().map_err(|e| self.sqlite_err(e))
    }

    /// One project's history, ordered by seq; empty when the file has no
    /// history table (nothing is created by reading).
    pub fn history(&self, project_fid: i64) -> Result<Vec<Transition>, StoreError> {
        self.history_where(Some(project_fid))
    }

    /// Every project's history, ordered by seq (what `geoplan load`
    /// copies); empty when the file has no history table.
    pub fn all_history(&self) -> Result<Vec<Transition>, StoreError> {
        self.history_where(None)
    }

    fn history_where(&self, project_fid: Option<i64>) -> Result<Vec<Transition>, StoreError> {
        let c = self.sqlite(false)?;
        if !self.has_table(&c, HISTORY_TABLE)? {
            return Ok(Vec::new());
        }
        let mut st = c
            .prepare(&format!(
                "SELECT seq, {COLUMNS} FROM {HISTORY_TABLE} \
                 WHERE ?1 IS NULL OR project_fid = ?1 ORDER BY seq"
            ))
            .map_err(|e| self.sqlite_err(e))?;
        let rows = st
            .query_map([project_fid], |r| {
                Ok(Transition {
                    seq: r.get(0)?,
                    project_fid: r.get(1)?,
                    from_stage: r.get(2)?,
                    to_stage: r.get(3)?,
                    day: r.get(4)?,
                    decision: r.get(5)?,
                    authority: r.get(6)?,
                    note: r.get(7)?,
                    user_name: r.get(8)?,
                    recorded_at: r.get(9)?,
                })
            })
            .map_err(|e| self.sqlite_err(e))?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.sqlite_err(e))
    }

    /// Appends history rows inside the GDAL dataset transaction of a layer
    /// write (`ds` is that transaction's dataset), creating the table
    /// first when the file has none: the rows commit or roll back with the
    /// layer edits. Returns the seqs given, in row order. Does nothing for
    /// no rows. `rows` must be [`Transition::checked`].
    pub(super) fn insert_history_in(
        &self,
        ds: &gdal::Dataset,
        rows: &[Transition],
    ) -> Result<Vec<i64>, StoreError> {
        use gdal::vector::sql::Dialect;
        use gdal::vector::LayerAccess;
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let gdal_err = |e: gdal::errors::GdalError| {
            let msg = e.to_string();
            // GDAL quotes the statement, then SQLite's reason on the last line.
            let reason = msg.lines().last().unwrap_or(&msg).trim();
            if reason.contains("constraint failed") {
                refused(reason)
            } else {
                self.sqlite_err(format!("project history: {msg}"))
            }
        };
        // A refused row comes back as a StoreError naming the constraint;
        // GDAL need not also print the statement, data and all, to stderr.
        let _quiet = QuietGdal::push();
        for s in GPKG_SCHEMA {
            ds.execute_sql(s, None, Dialect::DEFAULT)
                .map_err(gdal_err)?;
        }
        let mut seqs = Vec::with_capacity(rows.len());
        for t in rows {
            ds.execute_sql(gpkg_insert_literal(t), None, Dialect::DEFAULT)
                .map_err(gdal_err)?;
            let mut rs = ds
                .execute_sql("SELECT last_insert_rowid()", None, Dialect::DEFAULT)
                .map_err(gdal_err)?
                .ok_or_else(|| self.sqlite_err("project history: no seq for the new row"))?;
            let seq = rs
                .features()
                .next()
                .and_then(|f| f.field(0).ok().flatten())
                .and_then(|v| v.into_int64())
                .ok_or_else(|| self.sqlite_err("project history: no seq for the new row"))?;
            seqs.push(seq);
        }
        Ok(seqs)
    }

    /// [`super::gpkg::GpkgStore::write_edits`] with history rows appended
    /// in the same transaction (see [`super::Store::write_with_history`]).
    pub fn write_edits_with_history(
        &self,
        edits: &[crate::model::LayerEdit],
        history: &[Transition],
    ) -> Result<(crate::model::WriteResult, Vec<i64>), StoreError> {
        let rows = checked_all(history)?;
        self.write_in_transaction(edits, &rows)
    }
}

/// GDAL's quiet error handler on this thread while it lives: errors are
/// still recorded (and read back through `CPLGetLastErrorMsg`), not
/// printed.
struct QuietGdal;

impl QuietGdal {
    fn push() -> QuietGdal {
        // SAFETY: pushes a handler GDAL itself provides onto this thread's
        // handler stack; `Drop` pops it on the same thread.
        unsafe { gdal_sys::CPLPushErrorHandler(Some(gdal_sys::CPLQuietErrorHandler)) };
        QuietGdal
    }
}

impl Drop for QuietGdal {
    fn drop(&mut self) {
        // SAFETY: pops the handler `push` pushed on this thread.
        unsafe { gdal_sys::CPLPopErrorHandler() };
    }
}

// ------------------------------------------------------------------ PostGIS

/// A database error of a history insert: the client's data when
/// PostgreSQL says so (class 22, data exception; class 23, integrity
/// constraint violation), else the database's.
fn pg_error(e: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(d) = &e {
        if d.code()
            .is_some_and(|c| c.starts_with("22") || c.starts_with("23"))
        {
            return refused(d.message());
        }
    }
    match super::postgis::pg(e) {
        StoreError::Postgis(m) => StoreError::Postgis(format!("project history: {m}")),
        other => other,
    }
}

/// How a row is read back: the day and the time in the spelling written.
fn pg_select() -> String {
    format!(
        "SELECT seq, project_fid, from_stage, to_stage, to_char(day, 'YYYY-MM-DD'), \
         decision, authority, note, user_name, \
         to_char(recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') \
         FROM {schema}.{HISTORY_TABLE}",
        schema = super::postgis::SCHEMA
    )
}

fn pg_row(r: &sqlx::postgres::PgRow) -> Result<Transition, StoreError> {
    use sqlx::Row;
    let e = |e: sqlx::Error| StoreError::Postgis(format!("project history: {e}"));
    Ok(Transition {
        seq: r.try_get(0).map_err(e)?,
        project_fid: r.try_get(1).map_err(e)?,
        from_stage: r.try_get(2).map_err(e)?,
        to_stage: r.try_get(3).map_err(e)?,
        day: r.try_get(4).map_err(e)?,
        decision: r.try_get(5).map_err(e)?,
        authority: r.try_get(6).map_err(e)?,
        note: r.try_get(7).map_err(e)?,
        user_name: r.try_get(8).map_err(e)?,
        recorded_at: r.try_get(9).map_err(e)?,
    })
}

/// Appends checked rows on a connection inside the caller's transaction
/// and returns their seqs in row order. With `skip_present`, a row already
/// stored with the same content (every column but seq) is not appended
/// again and has no seq in the answer: a repeated `geoplan load` of the
/// same file does not double the history.
pub(super) async fn insert_pg(
    conn: &mut sqlx::PgConnection,
    rows: &[Transition],
    skip_present: bool,
) -> Result<Vec<i64>, StoreError> {
    let table = format!("{}.{HISTORY_TABLE}", super::postgis::SCHEMA);
    let values = "$1::int8, $2::text, $3::text, $4::date, $5::text, $6::text, $7::text, \
                  $8::text, $9::timestamptz";
    let sql = if skip_present {
        format!(
            "INSERT INTO {table} ({COLUMNS}) SELECT {values} WHERE NOT EXISTS (\
             SELECT 1 FROM {table} WHERE project_fid = $1 \
             AND from_stage IS NOT DISTINCT FROM $2 AND to_stage = $3 AND day = $4::date \
             AND decision IS NOT DISTINCT FROM $5 AND authority IS NOT DISTINCT FROM $6 \
             AND note IS NOT DISTINCT FROM $7 AND user_name IS NOT DISTINCT FROM $8 \
             AND recorded_at = $9::timestamptz) RETURNING seq"
        )
    } else {
        format!("INSERT INTO {table} ({COLUMNS}) VALUES ({values}) RETURNING seq")
    };
    let mut seqs = Vec::with_capacity(rows.len());
    for t in rows {
        let seq: Option<i64> = sqlx::query_scalar(&sql)
            .bind(t.project_fid)
            .bind(t.from_stage.as_deref())
            .bind(&t.to_stage)
            .bind(&t.day)
            .bind(t.decision.as_deref())
            .bind(t.authority.as_deref())
            .bind(t.note.as_deref())
            .bind(t.user_name.as_deref())
            .bind(&t.recorded_at)
            .fetch_optional(&mut *conn)
            .await
            .map_err(pg_error)?;
        seqs.extend(seq);
    }
    Ok(seqs)
}

impl super::postgis::PostgisStore {
    /// Appends history rows in one transaction (the table is made by
    /// `migrations/0005_project_registry.sql`). A refused row writes none.
    pub async fn put_history(&self, rows: &[Transition]) -> Result<(), StoreError> {
        let rows = checked_all(rows)?;
        let mut tx = self
            .pool()
            .begin()
            .await
            .map_err(|e| StoreError::Postgis(e.to_string()))?;
        insert_pg(&mut tx, &rows, false).await?;
        tx.commit()
            .await
            .map_err(|e| StoreError::Postgis(e.to_string()))
    }

    /// One project's history, ordered by seq; empty when the database has
    /// no history table yet (not migrated to 0005).
    pub async fn history(&self, project_fid: i64) -> Result<Vec<Transition>, StoreError> {
        self.history_where(Some(project_fid)).await
    }

    /// Every project's rows, ordered by seq (empty without the table).
    pub async fn all_history(&self) -> Result<Vec<Transition>, StoreError> {
        self.history_where(None).await
    }

    async fn history_where(&self, project_fid: Option<i64>) -> Result<Vec<Transition>, StoreError> {
        let exists: bool = sqlx::query_scalar("SELECT to_regclass($1) IS NOT NULL")
            .bind(format!("{}.{HISTORY_TABLE}", super::postgis::SCHEMA))
            .fetch_one(self.pool())
            .await
            .map_err(|e| StoreError::Postgis(e.to_string()))?;
        if !exists {
            return Ok(Vec::new());
        }
        let rows = sqlx::query(&format!(
            "{} WHERE $1::int8 IS NULL OR project_fid = $1 ORDER BY seq",
            pg_select()
        ))
        .bind(project_fid)
        .fetch_all(self.pool())
        .await
        .map_err(|e| StoreError::Postgis(e.to_string()))?;
        rows.iter().map(pg_row).collect()
    }

    /// [`super::postgis::PostgisStore::write`] with history rows appended
    /// in the same transaction (see [`super::Store::write_with_history`]).
    pub async fn write_with_history(
        &self,
        edits: &[crate::model::LayerEdit],
        history: &[Transition],
    ) -> Result<(crate::model::WriteResult, Vec<i64>), StoreError> {
        let rows = checked_all(history)?;
        self.write_in_transaction(edits, &rows).await
    }

    /// [`super::postgis::PostgisStore::load`] that also copies history
    /// rows, in the same transaction: rows already stored with the same
    /// content are skipped (the history cannot be replaced, only appended
    /// to). Returns the features written and the history rows appended.
    pub async fn load_with_history(
        &self,
        layers: &[crate::model::LayerData],
        history: &[Transition],
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<(u64, u64), StoreError> {
        let rows = checked_all(history)?;
        self.load_in_transaction(layers, &rows, progress).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t() -> Transition {
        Transition {
            seq: 7,
            project_fid: 3,
            from_stage: None,
            to_stage: "proposed".into(),
            day: "2025-02-28".into(),
            decision: Some("12/QĐ-UBND".into()),
            authority: Some("UBND tỉnh Quảng Nam".into()),
            note: Some("kêu gọi đầu tư 'đợt 1'".into()),
            user_name: None,
            recorded_at: "2025-03-01T00:00:00.1234567Z".into(),
        }
    }

    #[test]
    fn a_checked_row_has_one_time_spelling_and_no_seq() {
        let c = t().checked().unwrap();
        assert_eq!(c.seq, 0);
        assert_eq!(c.recorded_at, "2025-03-01T00:00:00.123456Z");
        assert_eq!(c.checked().unwrap(), c);
    }

    #[test]
    fn a_day_or_time_that_is_not_one_is_refused_naming_it() {
        for day in ["2025-02-30", "2025-2-28", "28/02/2025", "", "20250-1-01"] {
            let mut r = t();
            r.day = day.into();
            let e = r.checked().unwrap_err();
            assert!(
                matches!(e, StoreError::Invalid(_)) && e.to_string().contains("day"),
                "{e}"
            );
        }
        let mut r = t();
        r.recorded_at = "yesterday".into();
        assert!(r.checked().unwrap_err().to_string().contains("recorded_at"));
        let mut r = t();
        r.note = Some("a\0b".into());
        assert!(r.checked().unwrap_err().to_string().contains("note"));
    }

    #[test]
    fn literals_double_quotes_and_spell_null() {
        let sql = gpkg_insert_literal(&t().checked().unwrap());
        assert!(sql.contains("'kêu gọi đầu tư ''đợt 1'''"), "{sql}");
        assert!(sql.contains("(3, NULL, 'proposed'"), "{sql}");
    }
}
