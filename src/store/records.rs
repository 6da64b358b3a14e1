//! Stored planning records: every compliance check and every issued
//! information sheet, kept with its request, answer, time, user and a
//! SHA-256 hash, and fetched again by id or by its short verification code.
//! It owns the record type, its identifiers and hash, and the record table
//! of both stores (`planning_records`: a plain SQLite table inside the
//! GeoPackage, `geoplan.planning_records` in PostGIS from
//! `migrations/0004_planning_records.sql`). It does not build answers and
//! is not a layer: the table has no geometry, is not registered in
//! `gpkg_contents`, and never reaches the engine, tiles or WFS.
//!
//! Records are immutable once written: a put never overwrites (an id or
//! code already taken is [`StoreError::Duplicate`]) and both tables refuse
//! `UPDATE` by trigger.
//!
//! # Examples
//!
//! ```
//! use geoplan::store::records::{Record, RecordKind, RecordId};
//! use serde_json::json;
//!
//! let r = Record::new(RecordKind::Check, Some("nguyen.lan"), json!({"use": "TMD"}), json!({"pass": true}));
//! assert!(r.is_intact());
//! assert_eq!(RecordId::parse(&r.id.as_str().to_lowercase()).unwrap(), r.id);
//! ```

use super::StoreError;
use chrono::{DateTime, SecondsFormat, Utc};
use rand::RngCore;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// The table name, in the GeoPackage and in schema `geoplan`.
pub const RECORDS_TABLE: &str = "planning_records";

/// Crockford's base32 alphabet: digits and letters without I, L, O, U,
/// so that a code read aloud or copied by hand has no look-alikes.
const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// Characters of a [`RecordId`]: 128 bits in 5-bit digits.
pub const ID_LEN: usize = 26;

/// Characters of a [`VerificationCode`]: 50 bits, enough that a mistyped
/// code practically never names another record, short enough to type.
pub const CODE_LEN: usize = 10;

/// What a record is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecordKind {
    /// A compliance check of a proposed site (`POST /planning/check`).
    Check,
    /// An issued planning information sheet (`GET /planning/sheet`).
    Sheet,
}

impl RecordKind {
    /// The stored spelling: `check` or `sheet`.
    pub fn as_str(self) -> &'static str {
        match self {
            RecordKind::Check => "check",
            RecordKind::Sheet => "sheet",
        }
    }

    /// Parses the stored spelling.
    pub fn parse(s: &str) -> Option<RecordKind> {
        match s {
            "check" => Some(RecordKind::Check),
            "sheet" => Some(RecordKind::Sheet),
            _ => None,
        }
    }
}

impl std::fmt::Display for RecordKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Text that is not a record id or verification code; the message says
/// what one looks like.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{given}' is not a {what}: {expected}")]
pub struct KeyError {
    /// "record id" or "verification code".
    pub what: &'static str,
    /// The text given (cut to 40 characters).
    pub given: String,
    /// What was expected instead.
    pub expected: String,
}

/// Decodes Crockford base32 the way the scheme asks: case-insensitive,
/// `I`/`L` read as 1 and `O` as 0, hyphens and spaces ignored. Returns the
/// canonical (upper-case) digits.
fn crockford_digits(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len());
    for c in s.chars() {
        let d = match c.to_ascii_uppercase() {
            '-' | ' ' => continue,
            'I' | 'L' => b'1',
            'O' => b'0',
            c if c.is_ascii() && CROCKFORD.contains(&(c as u8)) => c as u8,
            _ => return None,
        };
        out.push(d);
    }
    Some(out)
}

fn digit_value(d: u8) -> u128 {
    CROCKFORD.iter().position(|&c| c == d).unwrap_or(0) as u128
}

/// `n` in `len` Crockford digits, most significant first.
fn encode(mut n: u128, len: usize) -> String {
    let mut out = vec![b'0'; len];
    for slot in out.iter_mut().rev() {
        *slot = CROCKFORD[(n & 31) as usize];
        n >>= 5;
    }
    String::from_utf8(out).expect("the alphabet is ASCII")
}

fn key_error(what: &'static str, given: &str, expected: &str) -> KeyError {
    KeyError {
        what,
        given: given.chars().take(40).collect(),
        expected: expected.to_owned(),
    }
}

/// A record's id: 128 random bits as 26 Crockford base32 digits, URL-safe
/// (`/planning/check/{id}`), and unguessable, so a stored check is seen
/// only by whoever was given its id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RecordId(String);

impl RecordId {
    /// A new random id (from the operating system's generator).
    pub fn random() -> RecordId {
        let mut b = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut b);
        RecordId(encode(u128::from_be_bytes(b), ID_LEN))
    }

    /// Parses an id (any case; `I`, `L`, `O` read as 1, 1, 0).
    pub fn parse(s: &str) -> Result<RecordId, KeyError> {
        let expected = "26 characters of Crockford base32 (0–9 and A–Z without I, L, O, U)";
        let d = crockford_digits(s).ok_or_else(|| key_error("record id", s, expected))?;
        // 26 digits hold 130 bits: the first holds only the top 3 of 128.
        if d.len() != ID_LEN || digit_value(d[0]) > 7 {
            return Err(key_error("record id", s, expected));
        }
        Ok(RecordId(String::from_utf8(d).expect("ASCII")))
    }

    /// The canonical spelling (upper case).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for RecordId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A short code printed on an issued document, by which anyone holding
/// the paper can ask the server what was issued: 10 Crockford base32
/// digits (50 random bits), shown as `ABCDE-FGHJK`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VerificationCode(String);

impl VerificationCode {
    /// A new random code.
    pub fn random() -> VerificationCode {
        let n = rand::rngs::OsRng.next_u64() & ((1 << 50) - 1);
        VerificationCode(encode(u128::from(n), CODE_LEN))
    }

    /// Parses a code as a person may type it: any case, with or without
    /// the hyphen or spaces, `I`/`L` for 1 and `O` for 0.
    pub fn parse(s: &str) -> Result<VerificationCode, KeyError> {
        let expected = "10 characters of Crockford base32, e.g. 7K3QZ-M9X2D";
        let d = crockford_digits(s).ok_or_else(|| key_error("verification code", s, expected))?;
        if d.len() != CODE_LEN {
            return Err(key_error("verification code", s, expected));
        }
        Ok(VerificationCode(String::from_utf8(d).expect("ASCII")))
    }

    /// The canonical spelling, 10 upper-case digits without the hyphen
    /// (the stored and URL form).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The printed form, `ABCDE-FGHJK`.
    pub fn grouped(&self) -> String {
        format!("{}-{}", &self.0[..5], &self.0[5..])
    }
}

impl std::fmt::Display for VerificationCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.grouped())
    }
}

/// One stored planning record.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// Its id.
    pub id: RecordId,
    /// Its verification code (unique among records).
    pub code: VerificationCode,
    /// Check or sheet.
    pub kind: RecordKind,
    /// When it was made, UTC, to the microsecond (what PostgreSQL keeps).
    pub created_at: DateTime<Utc>,
    /// Who asked, when known (an editor's user name or API key name).
    pub user: Option<String>,
    /// The request as the answer understood it (JSON).
    pub request: Value,
    /// The answer given (JSON).
    pub answer: Value,
    /// SHA-256 (lower-case hex) of [`Record::canonical_content`].
    pub sha256: String,
}

impl Record {
    /// A new record made now, with a fresh id and code; every string in
    /// it is NFC-normalised and the hash computed.
    pub fn new(kind: RecordKind, user: Option<&str>, request: Value, answer: Value) -> Record {
        Record::new_at(kind, user, request, answer, Utc::now())
    }

    /// As [`Record::new`], made at a given time (cut to microseconds).
    pub fn new_at(
        kind: RecordKind,
        user: Option<&str>,
        request: Value,
        answer: Value,
        created_at: DateTime<Utc>,
    ) -> Record {
        let created_at = to_micros(created_at);
        let mut r = Record {
            id: RecordId::random(),
            code: VerificationCode::random(),
            kind,
            created_at,
            user: user.map(crate::model::nfc),
            request: nfc_json(request),
            answer: nfc_json(answer),
            sha256: String::new(),
        };
        r.sha256 = r.content_hash();
        r
    }

    /// The same content under a fresh id and code (after a collision).
    pub fn with_new_keys(mut self) -> Record {
        self.id = RecordId::random();
        self.code = VerificationCode::random();
        self
    }

    /// `created_at` as stored: RFC 3339, microseconds, `Z`.
    pub fn created_at_text(&self) -> String {
        self.created_at.to_rfc3339_opts(SecondsFormat::Micros, true)
    }

    /// What the hash covers, as canonical JSON (object keys sorted at
    /// every depth, no whitespace): `answer`, `created_at`, `kind`,
    /// `request`, `user`. The id and code are names given to the record,
    /// not its content, and are left out.
    pub fn canonical_content(&self) -> String {
        let content = serde_json::json!({
            "answer": self.answer,
            "created_at": self.created_at_text(),
            "kind": self.kind.as_str(),
            "request": self.request,
            "user": self.user,
        });
        canonical_json(&content)
    }

    /// SHA-256 of the canonical content, recomputed now.
    pub fn content_hash(&self) -> String {
        hex(&Sha256::digest(self.canonical_content().as_bytes()))
    }

    /// True when the stored hash matches the content: nothing was changed
    /// since the record was made.
    pub fn is_intact(&self) -> bool {
        self.sha256 == self.content_hash()
    }

    /// The record back from its stored columns; a column that does not
    /// parse is [`StoreError::Invalid`] naming it. The hash is taken as
    /// stored, so that [`Record::is_intact`] shows any tampering.
    #[allow(clippy::too_many_arguments)]
    fn from_columns(
        id: &str,
        code: &str,
        kind: &str,
        created_at: &str,
        user: Option<String>,
        request: &str,
        answer: &str,
        sha256: String,
    ) -> Result<Record, StoreError> {
        let bad = |col: &str, e: &dyn std::fmt::Display| {
            StoreError::Invalid(format!("{RECORDS_TABLE} record {id}: column {col}: {e}"))
        };
        Ok(Record {
            id: RecordId::parse(id).map_err(|e| bad("id", &e))?,
            code: VerificationCode::parse(code).map_err(|e| bad("code", &e))?,
            kind: RecordKind::parse(kind).ok_or_else(|| bad("kind", &kind))?,
            created_at: DateTime::parse_from_rfc3339(created_at)
                .map_err(|e| bad("created_at", &e))?
                .with_timezone(&Utc),
            user,
            request: serde_json::from_str(request).map_err(|e| bad("request", &e))?,
            answer: serde_json::from_str(answer).map_err(|e| bad("answer", &e))?,
            sha256,
        })
    }
}

fn to_micros(t: DateTime<Utc>) -> DateTime<Utc> {
    let micros = t.timestamp_micros();
    DateTime::from_timestamp_micros(micros).unwrap_or(t)
}

fn hex(b: &[u8]) -> String {
    use std::fmt::Write;
    b.iter()
        .fold(String::with_capacity(b.len() * 2), |mut s, x| {
            let _ = write!(s, "{x:02x}");
            s
        })
}

/// Every string (keys too) in NFC.
fn nfc_json(v: Value) -> Value {
    match v {
        Value::String(s) => Value::String(crate::model::nfc(&s)),
        Value::Array(a) => Value::Array(a.into_iter().map(nfc_json).collect()),
        Value::Object(m) => Value::Object(
            m.into_iter()
                .map(|(k, v)| (crate::model::nfc(&k), nfc_json(v)))
                .collect(),
        ),
        v => v,
    }
}

/// Canonical JSON: object keys sorted by their UTF-8 bytes at every depth,
/// no insignificant whitespace, numbers as serde_json writes them (the
/// shortest text that reads back to the same number). Parsing the output
/// and writing it again gives the same bytes, which is what lets a stored
/// record's hash be recomputed.
pub fn canonical_json(v: &Value) -> String {
    fn sorted(v: &Value) -> Value {
        match v {
            Value::Array(a) => Value::Array(a.iter().map(sorted).collect()),
            Value::Object(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                // Insert in sorted order: the map keeps it whether it is
                // ordered (BTreeMap) or insertion-ordered (preserve_order).
                Value::Object(
                    keys.into_iter()
                        .map(|k| (k.clone(), sorted(&m[k])))
                        .collect(),
                )
            }
            v => v.clone(),
        }
    }
    serde_json::to_string(&sorted(v)).expect("a JSON value always serialises")
}

/// Refuses a record whose hash does not match its content before it is
/// written (a bug in the caller, never stored).
fn check_before_put(r: &Record) -> Result<(), StoreError> {
    if r.is_intact() {
        Ok(())
    } else {
        Err(StoreError::Invalid(format!(
            "record {}: the hash does not match the content; make records with Record::new",
            r.id
        )))
    }
}

// ---------------------------------------------------------------- GeoPackage

/// The table inside a GeoPackage: plain SQLite, not registered in
/// `gpkg_contents`, so GIS clients and geoplan's layer list leave it
/// alone. The trigger keeps records immutable.
const GPKG_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS planning_records (
    id          TEXT PRIMARY KEY NOT NULL CHECK (length(id) = 26),
    code        TEXT NOT NULL UNIQUE CHECK (length(code) = 10),
    kind        TEXT NOT NULL CHECK (kind IN ('check', 'sheet')),
    created_at  TEXT NOT NULL,
    user_name   TEXT,
    request     TEXT NOT NULL,
    answer      TEXT NOT NULL,
    sha256      TEXT NOT NULL CHECK (length(sha256) = 64)
);
CREATE INDEX IF NOT EXISTS planning_records_created_at_idx ON planning_records (created_at);
CREATE TRIGGER IF NOT EXISTS planning_records_immutable
BEFORE UPDATE ON planning_records
BEGIN
    SELECT RAISE(ABORT, 'planning records are immutable');
END;
";

const COLUMNS: &str = "id, code, kind, created_at, user_name, request, answer, sha256";

/// How long a write waits for another writer of the same file.
const GPKG_BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

impl super::gpkg::GpkgStore {
    pub(super) fn sqlite_err(&self, e: impl std::fmt::Display) -> StoreError {
        StoreError::Gpkg {
            path: self.path().display().to_string(),
            msg: e.to_string(),
        }
    }

    pub(super) fn sqlite(&self, write: bool) -> Result<rusqlite::Connection, StoreError> {
        use rusqlite::OpenFlags;
        // Never create a file: the GeoPackage must exist.
        let flags = if write {
            OpenFlags::SQLITE_OPEN_READ_WRITE
        } else {
            OpenFlags::SQLITE_OPEN_READ_ONLY
        } | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let c = rusqlite::Connection::open_with_flags(self.path(), flags)
            .map_err(|e| self.sqlite_err(e))?;
        c.busy_timeout(GPKG_BUSY_TIMEOUT)
            .map_err(|e| self.sqlite_err(e))?;
        Ok(c)
    }

    /// True when the file holds table `name` (geoplan's own tables are
    /// made on first write).
    pub(super) fn has_table(
        &self,
        c: &rusqlite::Connection,
        name: &str,
    ) -> Result<bool, StoreError> {
        c.query_row(
            "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = ?1",
            [name],
            |row| row.get(0),
        )
        .map_err(|e| self.sqlite_err(e))
    }

    /// Writes a record in one SQLite transaction, creating the table on
    /// first use. Nothing else in the file is touched; a failure leaves
    /// the file as it was.
    pub fn put_record(&self, r: &Record) -> Result<RecordId, StoreError> {
        check_before_put(r)?;
        let mut c = self.sqlite(true)?;
        let tx = c
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(|e| self.sqlite_err(e))?;
        tx.execute_batch(GPKG_SCHEMA)
            .map_err(|e| self.sqlite_err(e))?;
        let res = tx.execute(
            &format!(
                "INSERT INTO {RECORDS_TABLE} ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
            ),
            rusqlite::params![
                r.id.as_str(),
                r.code.as_str(),
                r.kind.as_str(),
                r.created_at_text(),
                r.user,
                canonical_json(&r.request),
                canonical_json(&r.answer),
                r.sha256,
            ],
        );
        match res {
            Ok(_) => {}
            Err(rusqlite::Error::SqliteFailure(e, _))
                if matches!(
                    e.extended_code,
                    rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
                        | rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                ) =>
            {
                return Err(StoreError::Duplicate(format!(
                    "a planning record with id {} or code {} is already stored",
                    r.id, r.code
                )))
            }
            Err(e) => return Err(self.sqlite_err(e)),
        }
        tx.commit().map_err(|e| self.sqlite_err(e))?;
        Ok(r.id.clone())
    }

    /// Reads a record by id; `None` when there is none (or no record was
    /// ever written to this file).
    pub fn get_record(&self, id: &RecordId) -> Result<Option<Record>, StoreError> {
        self.get_record_where("id", id.as_str())
    }

    /// Reads a record by verification code.
    pub fn get_record_by_code(
        &self,
        code: &VerificationCode,
    ) -> Result<Option<Record>, StoreError> {
        self.get_record_where("code", code.as_str())
    }

    fn get_record_where(&self, col: &str, key: &str) -> Result<Option<Record>, StoreError> {
        use rusqlite::OptionalExtension;
        let c = self.sqlite(false)?;
        if !self.has_table(&c, RECORDS_TABLE)? {
            return Ok(None);
        }
        let row = c
            .query_row(
                &format!("SELECT {COLUMNS} FROM {RECORDS_TABLE} WHERE {col} = ?1"),
                [key],
                |row| {
                    Ok((
                        row.get::<_, String>(0)?,
                        row.get::<_, String>(1)?,
                        row.get::<_, String>(2)?,
                        row.get::<_, String>(3)?,
                        row.get::<_, Option<String>>(4)?,
                        row.get::<_, String>(5)?,
                        row.get::<_, String>(6)?,
                        row.get::<_, String>(7)?,
                    ))
                },
            )
            .optional()
            .map_err(|e| self.sqlite_err(e))?;
        row.map(|(id, code, kind, at, user, req, ans, sha)| {
            Record::from_columns(&id, &code, &kind, &at, user, &req, &ans, sha)
        })
        .transpose()
    }
}

// ------------------------------------------------------------------ PostGIS

impl super::postgis::PostgisStore {
    /// Writes a record (one `INSERT`, its own transaction). The table is
    /// made by `migrations/0004_planning_records.sql`.
    pub async fn put_record(&self, r: &Record) -> Result<RecordId, StoreError> {
        check_before_put(r)?;
        let sql = format!(
            "INSERT INTO {schema}.{RECORDS_TABLE} ({COLUMNS}) \
             VALUES ($1, $2, $3, $4::timestamptz, $5, $6::json, $7::json, $8)",
            schema = super::postgis::SCHEMA
        );
        let res = sqlx::query(&sql)
            .bind(r.id.as_str())
            .bind(r.code.as_str())
            .bind(r.kind.as_str())
            .bind(r.created_at_text())
            .bind(r.user.as_deref())
            .bind(canonical_json(&r.request))
            .bind(canonical_json(&r.answer))
            .bind(&r.sha256)
            .execute(self.pool())
            .await;
        match res {
            Ok(_) => Ok(r.id.clone()),
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                Err(StoreError::Duplicate(format!(
                    "a planning record with id {} or code {} is already stored",
                    r.id, r.code
                )))
            }
            Err(e) => Err(StoreError::Postgis(e.to_string())),
        }
    }

    /// Reads a record by id; `None` when there is none.
    pub async fn get_record(&self, id: &RecordId) -> Result<Option<Record>, StoreError> {
        self.get_record_where("id", id.as_str()).await
    }

    /// Reads a record by verification code.
    pub async fn get_record_by_code(
        &self,
        code: &VerificationCode,
    ) -> Result<Option<Record>, StoreError> {
        self.get_record_where("code", code.as_str()).await
    }

    async fn get_record_where(&self, col: &str, key: &str) -> Result<Option<Record>, StoreError> {
        use sqlx::Row;
        // `json` (not `jsonb`) keeps the text exactly as written, so the
        // hash recomputes over the same bytes.
        let sql = format!(
            "SELECT id, code, kind, \
             to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), \
             user_name, request::text, answer::text, sha256 \
             FROM {schema}.{RECORDS_TABLE} WHERE {col} = $1",
            schema = super::postgis::SCHEMA
        );
        let row = sqlx::query(&sql)
            .bind(key)
            .fetch_optional(self.pool())
            .await
            .map_err(|e| StoreError::Postgis(e.to_string()))?;
        let Some(row) = row else {
            return Ok(None);
        };
        let get = |i: usize| -> Result<String, StoreError> {
            row.try_get::<String, _>(i)
                .map_err(|e| StoreError::Postgis(e.to_string()))
        };
        let user: Option<String> = row
            .try_get(4)
            .map_err(|e| StoreError::Postgis(e.to_string()))?;
        Record::from_columns(
            &get(0)?,
            &get(1)?,
            &get(2)?,
            &get(3)?,
            user,
            &get(5)?,
            &get(6)?,
            get(7)?,
        )
        .map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_id_is_26_crockford_digits_and_parses_back_in_any_case() {
        let id = RecordId::random();
        assert_eq!(id.as_str().len(), ID_LEN);
        assert!(id.as_str().bytes().all(|b| CROCKFORD.contains(&b)));
        assert_eq!(RecordId::parse(&id.as_str().to_lowercase()).unwrap(), id);
        assert_ne!(RecordId::random(), id);
    }

    #[test]
    fn a_malformed_id_is_refused_with_what_an_id_looks_like() {
        for bad in [
            "",
            "abc",
            "U0000000000000000000000000",
            "Z0000000000000000000000000",
        ] {
            let e = RecordId::parse(bad).unwrap_err();
            assert!(e.to_string().contains("Crockford"), "{e}");
        }
    }

    #[test]
    fn a_code_typed_by_hand_reads_as_issued() {
        let c = VerificationCode::parse("7K3QZ-M9X2D").unwrap();
        assert_eq!(c.as_str(), "7K3QZM9X2D");
        assert_eq!(c.grouped(), "7K3QZ-M9X2D");
        // Lower case, no hyphen, O for 0 and l for 1.
        let c0 = VerificationCode::parse("0123456789").unwrap();
        assert_eq!(VerificationCode::parse("o l23456789").unwrap(), c0);
        assert!(VerificationCode::parse("7K3QZ-M9X2").is_err());
        assert!(VerificationCode::parse("7K3QZ-M9X2U").is_err());
    }

    #[test]
    fn canonical_json_sorts_keys_at_every_depth_and_reads_back_to_itself() {
        let v = json!({"b": [1, {"z": 1.5, "a": "Thửa"}], "a": -3, "c": 1e-7, "d": 5.0});
        let s = canonical_json(&v);
        assert_eq!(
            s,
            r#"{"a":-3,"b":[1,{"a":"Thửa","z":1.5}],"c":1e-7,"d":5.0}"#
        );
        let back: Value = serde_json::from_str(&s).unwrap();
        assert_eq!(canonical_json(&back), s);
    }

    #[test]
    fn a_record_hash_changes_with_its_content_and_time() {
        let at = DateTime::parse_from_rfc3339("2025-07-01T08:00:00.123456789Z")
            .unwrap()
            .with_timezone(&Utc);
        let r = Record::new_at(
            RecordKind::Sheet,
            None,
            json!({"parcel": 9078}),
            json!({"x": 1}),
            at,
        );
        assert!(r.is_intact());
        assert_eq!(r.created_at_text(), "2025-07-01T08:00:00.123456Z");
        let mut t = r.clone();
        t.answer = json!({"x": 2});
        assert!(!t.is_intact());
        let mut t = r.clone();
        t.created_at += chrono::Duration::microseconds(1);
        assert!(!t.is_intact());
        let mut t = r.clone();
        t.user = Some("x".into());
        assert!(!t.is_intact());
        // New keys do not change what the hash covers.
        assert!(r.with_new_keys().is_intact());
    }

    #[test]
    fn record_text_is_stored_in_nfc() {
        // "Thửa" with the horn and hook above as combining marks.
        let nfd = "Thu\u{31b}\u{309}a";
        let r = Record::new(
            RecordKind::Check,
            Some(nfd),
            json!({ nfd: nfd }),
            json!([nfd]),
        );
        assert_eq!(r.user.as_deref(), Some("Thửa"));
        assert_eq!(r.request, json!({"Thửa": "Thửa"}));
        assert_eq!(r.answer, json!(["Thửa"]));
    }

    /// A temp copy of the committed sample GeoPackage.
    fn sample_copy() -> (tempfile::TempDir, super::super::gpkg::GpkgStore) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sample.gpkg");
        std::fs::copy(
            concat!(env!("CARGO_MANIFEST_DIR"), "/data/sample.gpkg"),
            &path,
        )
        .unwrap();
        let store = super::super::gpkg::GpkgStore::open(&path).unwrap();
        (dir, store)
    }

    fn sample_record() -> Record {
        Record::new(
            RecordKind::Sheet,
            Some("nguyễn.lan"),
            json!({"parcel": 9078, "as_of": "2025-07-01"}),
            json!({
                "title": "Phiếu thông tin quy hoạch — Thửa đất số 345, tờ bản đồ số 12, Phường Minh An",
                "lots": [{"lot": "ODT-03", "share_pct": 62.5, "area_m2": 100.0}],
                "big": 1e18,
                "tiny": 1e-9,
                "none": null,
            }),
        )
    }

    fn sha_of_file(p: &std::path::Path) -> String {
        hex(&Sha256::digest(std::fs::read(p).unwrap()))
    }

    #[test]
    fn a_record_put_into_a_geopackage_reads_back_exactly_and_its_hash_recomputes() {
        let (_dir, store) = sample_copy();
        let r = sample_record();
        assert_eq!(store.put_record(&r).unwrap(), r.id);
        let back = store
            .get_record(&r.id)
            .unwrap()
            .expect("the record is found by id");
        assert_eq!(back, r);
        assert!(back.is_intact());
        assert_eq!(back.content_hash(), r.sha256);
        let by_code = store.get_record_by_code(&r.code).unwrap().unwrap();
        assert_eq!(by_code, r);
        assert_eq!(store.get_record(&RecordId::random()).unwrap(), None);
        assert_eq!(
            store
                .get_record_by_code(&VerificationCode::random())
                .unwrap(),
            None
        );
    }

    #[test]
    fn the_record_table_is_no_layer_and_leaves_every_layer_as_it_was() {
        let (_dir, store) = sample_copy();
        let names = store.layer_names().unwrap();
        let parcels = store.read_layer("parcels").unwrap();
        let lots = store.read_layer("zoning_lots").unwrap();
        for _ in 0..3 {
            store.put_record(&sample_record()).unwrap();
        }
        assert_eq!(store.layer_names().unwrap(), names);
        assert!(!names.iter().any(|n| n == RECORDS_TABLE));
        let c = store.sqlite(false).unwrap();
        let registered: i64 = c
            .query_row(
                "SELECT count(*) FROM gpkg_contents WHERE table_name = ?1",
                [RECORDS_TABLE],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(
            registered, 0,
            "planning_records must not be in gpkg_contents"
        );
        let stored: i64 = c
            .query_row("SELECT count(*) FROM planning_records", [], |r| r.get(0))
            .unwrap();
        assert_eq!(stored, 3);
        let p2 = store.read_layer("parcels").unwrap();
        assert_eq!(p2.fids, parcels.fids);
        assert_eq!(p2.row(0), parcels.row(0));
        assert_eq!(p2.row(p2.len() - 1), parcels.row(parcels.len() - 1));
        let l2 = store.read_layer("zoning_lots").unwrap();
        assert_eq!(l2.fids, lots.fids);
    }

    #[test]
    fn a_refused_record_leaves_the_geopackage_byte_for_byte_as_it_was() {
        let (dir, store) = sample_copy();
        let before = sha_of_file(&dir.path().join("sample.gpkg"));
        let mut tampered = sample_record();
        tampered.answer = json!({"changed": true});
        let e = store.put_record(&tampered).unwrap_err();
        assert!(matches!(e, StoreError::Invalid(_)), "{e}");
        assert_eq!(sha_of_file(&dir.path().join("sample.gpkg")), before);
        assert_eq!(store.get_record(&tampered.id).unwrap(), None);
    }

    #[test]
    fn a_taken_id_or_code_is_refused_and_the_first_record_is_kept() {
        let (_dir, store) = sample_copy();
        let first = sample_record();
        store.put_record(&first).unwrap();
        let mut same_id = Record::new(RecordKind::Check, None, json!(1), json!(2));
        same_id.id = first.id.clone();
        let e = store.put_record(&same_id).unwrap_err();
        assert!(matches!(e, StoreError::Duplicate(_)), "{e}");
        assert!(!e.is_client_error());
        let mut same_code = Record::new(RecordKind::Check, None, json!(1), json!(2));
        same_code.code = first.code.clone();
        assert!(matches!(
            store.put_record(&same_code).unwrap_err(),
            StoreError::Duplicate(_)
        ));
        assert_eq!(store.get_record(&same_code.id).unwrap(), None);
        assert_eq!(store.get_record(&first.id).unwrap().unwrap(), first);
    }

    #[test]
    fn a_stored_record_cannot_be_updated() {
        let (_dir, store) = sample_copy();
        let r = sample_record();
        store.put_record(&r).unwrap();
        let c = store.sqlite(true).unwrap();
        let e = c
            .execute("UPDATE planning_records SET answer = '{}'", [])
            .unwrap_err();
        assert!(e.to_string().contains("immutable"), "{e}");
        assert_eq!(store.get_record(&r.id).unwrap().unwrap(), r);
    }

    #[test]
    fn reading_records_from_a_file_without_any_creates_nothing() {
        let (dir, store) = sample_copy();
        let before = sha_of_file(&dir.path().join("sample.gpkg"));
        assert_eq!(store.get_record(&RecordId::random()).unwrap(), None);
        assert_eq!(sha_of_file(&dir.path().join("sample.gpkg")), before);
    }

    #[tokio::test]
    async fn a_record_issued_through_the_store_is_fetched_again_by_id_and_code() {
        let (_dir, gpkg) = sample_copy();
        let store = super::super::Store::Gpkg(gpkg);
        let r = store
            .issue_record(
                RecordKind::Check,
                None,
                json!({"site": []}),
                json!({"pass": false}),
            )
            .await
            .unwrap();
        assert_eq!(store.get_record(&r.id).await.unwrap().unwrap(), r);
        assert_eq!(store.get_record_by_code(&r.code).await.unwrap().unwrap(), r);
    }
}
