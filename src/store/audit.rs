//! The audit log: who wrote what and who was shown sensitive fields, when.
//! It owns the entry type and the append-only table of both stores
//! (`audit_log`: a plain SQLite table inside the GeoPackage, made on first
//! use; `geoplan.audit_log` in PostGIS from
//! `migrations/0007_audit_log.sql`). Both tables refuse `UPDATE` and
//! `DELETE` by trigger, and no endpoint changes them: editors (and admins)
//! can only read the log.

use super::StoreError;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use serde_json::Value;

/// The table name, in the GeoPackage and in schema `geoplan`.
pub const AUDIT_TABLE: &str = "audit_log";

/// One audited event.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEntry {
    /// Sequence number given by the store (0 before it is stored).
    pub seq: i64,
    /// When it happened (UTC).
    #[serde(serialize_with = "ser_at")]
    pub at: DateTime<Utc>,
    /// User or API key name; `None` when anonymous.
    pub who: Option<String>,
    /// The caller's role (`public`, `officer`, `editor`, `admin`).
    pub role: String,
    /// `write` or `read_sensitive`.
    pub action: String,
    /// The request's method and path with query (`GET /layers/parcels/features?bbox=…`).
    pub request: String,
    /// What was written or shown: layers, fields, features.
    pub detail: Value,
}

/// Which entries to read, newest first.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    /// Only this user's.
    pub who: Option<String>,
    /// Only this action's.
    pub action: Option<String>,
    /// Only entries at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// At most this many.
    pub limit: usize,
}

fn ser_at<S: serde::Serializer>(at: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&at_text(at))
}

fn at_text(at: &DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn parse_at(s: &str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::parse_from_rfc3339(s)
        .map(|d| d.with_timezone(&Utc))
        .map_err(|e| StoreError::Invalid(format!("audit entry time {s:?}: {e}")))
}

// ---------------------------------------------------------------- GeoPackage

/// Plain SQLite, not in `gpkg_contents`; the triggers keep it append-only.
const GPKG_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS audit_log (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    at          TEXT NOT NULL,
    who         TEXT,
    role        TEXT NOT NULL,
    action      TEXT NOT NULL,
    request     TEXT NOT NULL,
    detail      TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_log_at_idx ON audit_log (at);
CREATE TRIGGER IF NOT EXISTS audit_log_no_update
BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
CREATE TRIGGER IF NOT EXISTS audit_log_no_delete
BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
";

impl super::gpkg::GpkgStore {
    /// Appends entries in one SQLite transaction, creating the table on
    /// first use.
    pub fn put_audit(&self, entries: &[AuditEntry]) -> Result<(), StoreError> {
        let mut c = self.sqlite(true)?;
        let tx = c
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(|e| self.sqlite_err(e))?;
        tx.execute_batch(GPKG_SCHEMA)
            .map_err(|e| self.sqlite_err(e))?;
        for e in entries {
            tx.execute(
                &format!(
                    "INSERT INTO {AUDIT_TABLE} (at, who, role, action, request, detail) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
                ),
                rusqlite::params![
                    at_text(&e.at),
                    e.who,
                    e.role,
                    e.action,
                    e.request,
                    e.detail.to_string()
                ],
            )
            .map_err(|e| self.sqlite_err(e))?;
        }
        tx.commit().map_err(|e| self.sqlite_err(e))
    }

    /// Reads entries, newest first; none when nothing was ever logged.
    pub fn read_audit(&self, q: &AuditQuery) -> Result<Vec<AuditEntry>, StoreError> {
        let c = self.sqlite(false)?;
        if !self.has_table(&c, AUDIT_TABLE)? {
            return Ok(Vec::new());
        }
        let mut st = c
            .prepare(&format!(
                "SELECT seq, at, who, role, action, request, detail FROM {AUDIT_TABLE} \
                 WHERE (?1 IS NULL OR who = ?1) AND (?2 IS NULL OR action = ?2) \
                 AND (?3 IS NULL OR at >= ?3) ORDER BY seq DESC LIMIT ?4"
            ))
            .map_err(|e| self.sqlite_err(e))?;
        let rows = st
            .query_map(
                rusqlite::params![
                    q.who,
                    q.action,
                    q.since.as_ref().map(at_text),
                    q.limit as i64
                ],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, Option<String>>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, String>(4)?,
                        r.get::<_, String>(5)?,
                        r.get::<_, String>(6)?,
                    ))
                },
            )
            .map_err(|e| self.sqlite_err(e))?;
        let mut out = Vec::new();
        for row in rows {
            let (seq, at, who, role, action, request, detail) =
                row.map_err(|e| self.sqlite_err(e))?;
            out.push(AuditEntry {
                seq,
                at: parse_at(&at)?,
                who,
                role,
                action,
                request,
                detail: serde_json::from_str(&detail).unwrap_or(Value::String(detail)),
            });
        }
        Ok(out)
    }
}

// ------------------------------------------------------------------ PostGIS

impl super::postgis::PostgisStore {
    /// Appends entries in one transaction.
    pub async fn put_audit(&self, entries: &[AuditEntry]) -> Result<(), StoreError> {
        let pg = |e: sqlx::Error| StoreError::Postgis(e.to_string());
        let sql = format!(
            "INSERT INTO {schema}.{AUDIT_TABLE} (at, who, role, action, request, detail) \
             VALUES ($1::timestamptz, $2, $3, $4, $5, $6::jsonb)",
            schema = super::postgis::SCHEMA
        );
        let mut tx = self.pool().begin().await.map_err(pg)?;
        for e in entries {
            sqlx::query(&sql)
                .bind(at_text(&e.at))
                .bind(e.who.as_deref())
                .bind(&e.role)
                .bind(&e.action)
                .bind(&e.request)
                .bind(e.detail.to_string())
                .execute(&mut *tx)
                .await
                .map_err(pg)?;
        }
        tx.commit().await.map_err(pg)
    }

    /// Reads entries, newest first.
    pub async fn read_audit(&self, q: &AuditQuery) -> Result<Vec<AuditEntry>, StoreError> {
        use sqlx::Row;
        let pg = |e: sqlx::Error| StoreError::Postgis(e.to_string());
        let sql = format!(
            "SELECT seq, \
             to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), \
             who, role, action, request, detail::text FROM {schema}.{AUDIT_TABLE} \
             WHERE ($1::text IS NULL OR who = $1) AND ($2::text IS NULL OR action = $2) \
             AND ($3::timestamptz IS NULL OR at >= $3::timestamptz) \
             ORDER BY seq DESC LIMIT $4",
            schema = super::postgis::SCHEMA
        );
        let rows = sqlx::query(&sql)
            .bind(q.who.as_deref())
            .bind(q.action.as_deref())
            .bind(q.since.as_ref().map(at_text))
            .bind(q.limit as i64)
            .fetch_all(self.pool())
            .await
            .map_err(pg)?;
        let mut out = Vec::new();
        for r in rows {
            let detail: String = r.try_get(6).map_err(pg)?;
            out.push(AuditEntry {
                seq: r.try_get(0).map_err(pg)?,
                at: parse_at(&r.try_get::<String, _>(1).map_err(pg)?)?,
                who: r.try_get(2).map_err(pg)?,
                role: r.try_get(3).map_err(pg)?,
                action: r.try_get(4).map_err(pg)?,
                request: r.try_get(5).map_err(pg)?,
                detail: serde_json::from_str(&detail).unwrap_or(Value::String(detail)),
            });
        }
        Ok(out)
    }
}
