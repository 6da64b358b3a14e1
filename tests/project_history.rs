//! The append-only project history in both stores: rows round-trip in
//! order, UPDATE and DELETE are refused, a history row that fails leaves
//! the layer edit it came with unwritten, a store without the table
//! answers an empty history, and `geoplan load` copies the GeoPackage's
//! history into PostGIS. PostGIS tests make their own database through
//! `GEOPLAN_TEST_PG` and fail, never skip, without one.

use geoplan::config::Config;
use geoplan::model::{Edit, FeatureUpdate, LayerEdit, Value};
use geoplan::store::history::{Transition, HISTORY_TABLE};
use geoplan::store::{gpkg::GpkgStore, postgis::PostgisStore, Store, StoreError};
use sqlx::{Connection, Executor, PgConnection};
use std::sync::atomic::{AtomicU32, Ordering};

mod common;

const SAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/sample.gpkg");
const PROJECTS: &str = "investment_projects";

// ---------------------------------------------------------------- fixtures

fn pg_url(db: &str) -> String {
    let base = std::env::var("GEOPLAN_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_owned());
    let mut url = url::Url::parse(&base).expect("GEOPLAN_TEST_PG is a URL");
    url.set_path(&format!("/{db}"));
    url.to_string()
}

/// A fresh database (migrated or not), dropped with this value.
struct TestDb {
    name: String,
    url: String,
    store: PostgisStore,
}

impl TestDb {
    async fn new(migrated: bool) -> TestDb {
        static N: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "geoplan_test_hist_{}_{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        let mut admin = PgConnection::connect(&pg_url("postgres"))
            .await
            .expect("PostgreSQL must be reachable at GEOPLAN_TEST_PG; make test starts one");
        admin
            .execute(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)").as_str())
            .await
            .unwrap();
        admin
            .execute(format!("CREATE DATABASE \"{name}\"").as_str())
            .await
            .unwrap();
        let url = pg_url(&name);
        let store = PostgisStore::connect(&url).await.unwrap();
        if migrated {
            store.migrate().await.unwrap();
        }
        TestDb { name, url, store }
    }

    /// The sample's projects loaded (the layer the registry edits).
    async fn with_projects() -> TestDb {
        let db = TestDb::new(true).await;
        let layer = GpkgStore::open(SAMPLE)
            .unwrap()
            .read_layer(PROJECTS)
            .unwrap();
        db.store.load(&[layer], &|_| {}).await.unwrap();
        db
    }

    async fn exec(&self, sql: &str) -> Result<u64, sqlx::Error> {
        sqlx::query(sql)
            .execute(self.store.pool())
            .await
            .map(|r| r.rows_affected())
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        let _ = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
                .block_on(async {
                    if let Ok(mut admin) = PgConnection::connect(&pg_url("postgres")).await {
                        let _ = admin
                            .execute(
                                format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)").as_str(),
                            )
                            .await;
                    }
                })
        })
        .join();
    }
}

/// A temp copy of the committed sample without its projects' history (a
/// file as it was before the registry), so each test starts from none.
fn sample_copy() -> (tempfile::TempDir, GpkgStore) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sample.gpkg");
    std::fs::copy(SAMPLE, &path).unwrap();
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch("DROP TABLE IF EXISTS project_history")
        .unwrap();
    let store = GpkgStore::open(&path).unwrap();
    (dir, store)
}

fn sha_of_file(p: &std::path::Path) -> String {
    use sha2::{Digest, Sha256};
    format!("{:x}", Sha256::digest(std::fs::read(p).unwrap()))
}

/// A step of a project, recorded at second `n` of a day.
fn step(project: i64, from: Option<&str>, to: &str, n: u32) -> Transition {
    Transition {
        seq: 0,
        project_fid: project,
        from_stage: from.map(str::to_owned),
        to_stage: to.to_owned(),
        day: format!("2025-0{}-1{}", 1 + n % 9, n % 10),
        decision: Some(format!("{}/QĐ-UBND", 100 + n)),
        authority: Some("UBND thành phố Đà Nẵng".into()),
        note: n.is_multiple_of(2).then(|| format!("Ghi chú 'số' {n}")),
        user_name: (!n.is_multiple_of(3)).then(|| "nguyễn.lan".to_owned()),
        recorded_at: format!("2026-03-01T08:00:{:02}.{:06}Z", n, n * 1001),
    }
}

/// The procedure of two projects, interleaved as they were recorded.
fn procedure(a: i64, b: i64) -> Vec<Transition> {
    vec![
        step(a, None, "proposed", 1),
        step(b, None, "proposed", 2),
        step(a, Some("proposed"), "policy_approved", 3),
        step(b, Some("proposed"), "policy_approved", 4),
        step(a, Some("policy_approved"), "investor_selected", 5),
    ]
}

/// An edit of a project's name (the layer edit a transition goes with).
fn rename(fid: i64, name: &str) -> Vec<LayerEdit> {
    vec![LayerEdit {
        layer: PROJECTS.into(),
        edit: Edit {
            updates: vec![FeatureUpdate {
                fid,
                geometry: None,
                values: vec![("name".into(), Value::Text(name.into()))],
            }],
            ..Default::default()
        },
    }]
}

async fn project_name(store: &Store, fid: i64) -> Value {
    let rows = store.read_features(PROJECTS, &[fid]).await.unwrap();
    let fields = match store {
        Store::Gpkg(s) => s.read_layer(PROJECTS).unwrap().fields,
        Store::Postgis(s) => s.read_layer(PROJECTS).await.unwrap().fields,
    };
    let i = fields.iter().position(|f| f.name == "name").unwrap();
    rows[0].values[i].clone()
}

/// A project's name as the engine holds it.
fn engine_name(state: &geoplan::http::AppState, fid: i64) -> Value {
    let snap = state.data.engine.snapshot();
    let l = snap.layer(PROJECTS).unwrap();
    let f = l.get(fid).unwrap();
    let d = l.data(f.part);
    let i = d.fields.iter().position(|x| x.name == "name").unwrap();
    d.row(f.row as usize).values[i].clone()
}

/// Two project fids of the sample.
fn two_projects() -> (i64, i64) {
    let l = GpkgStore::open(SAMPLE)
        .unwrap()
        .read_layer(PROJECTS)
        .unwrap();
    assert!(l.len() >= 2);
    (l.fids[0], l.fids[1])
}

/// What both stores must do alike: put, write with history, read back in
/// order; a refused row leaves the edit unwritten; no rows is a plain
/// write.
async fn round_trip_and_atomicity(store: &Store) {
    let (a, b) = two_projects();
    assert_eq!(store.history(a).await.unwrap(), vec![]);
    let rows = procedure(a, b);
    store.put_history(&rows[..4]).await.unwrap();

    // The fifth step goes with an edit of the project, in one transaction.
    let (written, seqs) = store
        .write_with_history(&rename(a, "Khu du lịch sinh thái Hòa Bắc"), &rows[4..])
        .await
        .unwrap();
    assert_eq!(written.layers[0].updated, vec![a]);
    assert_eq!(seqs.len(), 1);
    assert_eq!(
        project_name(store, a).await,
        Value::Text("Khu du lịch sinh thái Hòa Bắc".into())
    );

    let got_a = store.history(a).await.unwrap();
    let got_b = store.history(b).await.unwrap();
    assert_eq!(got_a.len(), 3);
    assert_eq!(got_b.len(), 2);
    assert!(got_a.windows(2).all(|w| w[0].seq < w[1].seq), "{got_a:?}");
    assert_eq!(got_a[2].seq, seqs[0]);
    let strip = |v: &[Transition]| -> Vec<Transition> {
        v.iter()
            .map(|t| Transition {
                seq: 0,
                ..t.clone()
            })
            .collect()
    };
    assert_eq!(
        strip(&got_a),
        vec![rows[0].clone(), rows[2].clone(), rows[4].clone()]
    );
    assert_eq!(strip(&got_b), vec![rows[1].clone(), rows[3].clone()]);
    assert!(got_b[0].seq > got_a[0].seq && got_b[0].seq < got_a[1].seq);
    assert_eq!(store.history(-5).await.unwrap(), vec![]);

    // A row the table refuses (an empty stage) after a good one: neither
    // row nor the edit is written.
    let bad = vec![
        step(b, Some("policy_approved"), "investor_selected", 6),
        step(b, Some("investor_selected"), "", 7),
    ];
    let before = project_name(store, b).await;
    let e = store
        .write_with_history(&rename(b, "Tên không được ghi"), &bad)
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Invalid(_)), "{e}");
    assert!(e.is_client_error());
    assert!(e.to_string().contains("to_stage"), "{e}");
    assert_eq!(project_name(store, b).await, before);
    assert_eq!(store.history(b).await.unwrap(), got_b);

    // An empty from_stage is refused the same way.
    let mut empty_from = step(b, Some(""), "land_allocated", 8);
    empty_from.from_stage = Some(String::new());
    assert!(matches!(
        store
            .write_with_history(&rename(b, "Tên không được ghi"), &[empty_from])
            .await
            .unwrap_err(),
        StoreError::Invalid(_)
    ));
    assert_eq!(project_name(store, b).await, before);

    // A failing edit takes its history row with it.
    let e = store
        .write_with_history(&rename(-1, "x"), &[step(b, None, "suspended", 9)])
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::NoSuchFeature { .. }), "{e}");
    assert_eq!(store.history(b).await.unwrap(), got_b);

    // A bad time or day is refused before anything is written.
    let mut t = step(b, None, "suspended", 9);
    t.recorded_at = "hôm qua".into();
    assert!(matches!(
        store.put_history(&[t]).await.unwrap_err(),
        StoreError::Invalid(_)
    ));

    // No rows: exactly a write.
    let (w, seqs) = store
        .write_with_history(&rename(b, "Cụm công nghiệp Điện Nam"), &[])
        .await
        .unwrap();
    assert!(seqs.is_empty());
    assert_eq!(w.layers[0].updated, vec![b]);
    assert_eq!(store.history(b).await.unwrap(), got_b);

    // A time given with an offset is kept in UTC with microseconds.
    let mut t = step(b, Some("policy_approved"), "investor_selected", 10);
    t.recorded_at = "2026-03-02T09:30:00+07:00".into();
    let (_, seqs) = store.write_with_history(&[], &[t.clone()]).await.unwrap();
    let last = store.history(b).await.unwrap().pop().unwrap();
    assert_eq!(last.seq, seqs[0]);
    assert_eq!(last.recorded_at, "2026-03-02T02:30:00.000000Z");
}

// ---------------------------------------------------------------- GeoPackage

#[tokio::test]
async fn geopackage_history_round_trips_in_order_and_a_refused_row_takes_the_edit_with_it() {
    let (_dir, gpkg) = sample_copy();
    let store = Store::Gpkg(gpkg.clone());
    round_trip_and_atomicity(&store).await;
    // Not a layer, not registered.
    assert!(!gpkg
        .layer_names()
        .unwrap()
        .iter()
        .any(|n| n == HISTORY_TABLE));
    let c = rusqlite::Connection::open(gpkg.path()).unwrap();
    let registered: i64 = c
        .query_row(
            "SELECT count(*) FROM gpkg_contents WHERE table_name = ?1",
            [HISTORY_TABLE],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(registered, 0);
}

#[tokio::test]
async fn the_first_history_row_of_a_file_can_come_with_an_edit_and_a_refused_one_creates_nothing() {
    let (dir, gpkg) = sample_copy();
    let path = dir.path().join("sample.gpkg");
    let (a, _) = two_projects();
    let before = sha_of_file(&path);
    let e = gpkg
        .write_edits_with_history(&rename(a, "x"), &[step(a, None, "", 1)])
        .unwrap_err();
    assert!(matches!(e, StoreError::Invalid(_)), "{e}");
    assert_eq!(
        sha_of_file(&path),
        before,
        "the file is byte for byte as it was"
    );
    // The table is made inside the write's own transaction.
    let (_, seqs) = gpkg
        .write_edits_with_history(&rename(a, "y"), &[step(a, None, "proposed", 1)])
        .unwrap();
    assert_eq!(gpkg.history(a).unwrap()[0].seq, seqs[0]);
}

#[test]
fn geopackage_history_refuses_update_and_delete() {
    let (_dir, gpkg) = sample_copy();
    let (a, b) = two_projects();
    gpkg.put_history(&procedure(a, b)).unwrap();
    let kept = gpkg.all_history().unwrap();
    assert_eq!(kept.len(), 5);
    let c = rusqlite::Connection::open(gpkg.path()).unwrap();
    for sql in [
        "UPDATE project_history SET to_stage = 'operating'",
        "DELETE FROM project_history",
        "DELETE FROM project_history WHERE seq = 1",
    ] {
        let e = c.execute(sql, []).unwrap_err();
        assert!(e.to_string().contains("append-only"), "{sql}: {e}");
    }
    assert_eq!(gpkg.all_history().unwrap(), kept);
}

#[test]
fn reading_the_history_of_a_file_without_one_is_empty_and_creates_nothing() {
    let (dir, gpkg) = sample_copy();
    let path = dir.path().join("sample.gpkg");
    let before = sha_of_file(&path);
    assert_eq!(gpkg.history(1).unwrap(), vec![]);
    assert_eq!(gpkg.all_history().unwrap(), vec![]);
    // A plain write does not make the table either.
    let (a, _) = two_projects();
    gpkg.write_edits_with_history(&rename(a, "z"), &[]).unwrap();
    let c = rusqlite::Connection::open(&path).unwrap();
    let n: i64 = c
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE name = ?1",
            [HISTORY_TABLE],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(n, 0);
    assert_ne!(sha_of_file(&path), before);
}

#[tokio::test]
async fn a_commit_with_history_shows_the_edit_in_the_engine_and_records_the_step() {
    let mut cfg = Config::default();
    cfg.ogc.editable = vec![PROJECTS.into()];
    let (_dir, state) = common::sample_copy(cfg).await;
    let (a, _) = two_projects();
    let before = state.data.store.history(a).await.unwrap();
    let (written, seqs) = state
        .commit_with_history(
            &rename(a, "Dự án đã đổi tên"),
            &[step(a, None, "proposed", 1)],
        )
        .await
        .unwrap();
    assert_eq!(written.layers[0].updated, vec![a]);
    assert_eq!(
        engine_name(&state, a),
        Value::Text("Dự án đã đổi tên".into())
    );
    let h = state.data.store.history(a).await.unwrap();
    assert_eq!(
        h.len(),
        before.len() + 1,
        "one row appended to the sample's"
    );
    assert_eq!(h.last().unwrap().seq, seqs[0]);

    // A refused row: nothing written, the engine unchanged.
    let e = state
        .commit_with_history(&rename(a, "Không"), &[step(a, None, "", 2)])
        .await
        .unwrap_err();
    assert!(e.is_client_error(), "{e}");
    assert_eq!(state.data.store.history(a).await.unwrap(), h);
    assert_eq!(
        engine_name(&state, a),
        Value::Text("Dự án đã đổi tên".into())
    );

    // A layer that is not editable: nothing written.
    let e = state
        .commit_with_history(
            &[LayerEdit {
                layer: "parcels".into(),
                edit: Edit::default(),
            }],
            &[step(a, None, "proposed", 3)],
        )
        .await
        .unwrap_err();
    assert!(
        matches!(e, geoplan::http::CommitError::NotEditable(_)),
        "{e}"
    );
    assert_eq!(state.data.store.history(a).await.unwrap(), h);
}

// ---------------------------------------------------------------- PostGIS

#[tokio::test]
async fn postgis_history_round_trips_in_order_and_a_refused_row_takes_the_edit_with_it() {
    let db = TestDb::with_projects().await;
    round_trip_and_atomicity(&Store::Postgis(db.store.clone())).await;
    let e = db.store.read_layer(HISTORY_TABLE).await.unwrap_err();
    assert!(matches!(e, StoreError::UnknownLayer(_)), "{e}");
}

#[tokio::test]
async fn postgis_history_refuses_update_delete_and_truncate() {
    let db = TestDb::with_projects().await;
    let (a, b) = two_projects();
    db.store.put_history(&procedure(a, b)).await.unwrap();
    let kept = db.store.history(a).await.unwrap();
    assert_eq!(kept.len(), 3);
    for sql in [
        "UPDATE geoplan.project_history SET to_stage = 'operating'",
        "DELETE FROM geoplan.project_history",
        "TRUNCATE geoplan.project_history",
    ] {
        let e = db.exec(sql).await.unwrap_err();
        assert!(e.to_string().contains("append-only"), "{sql}: {e}");
    }
    assert_eq!(db.store.history(a).await.unwrap(), kept);
    // The registry's columns are on the projects' table.
    for col in [
        "stage",
        "stage_date",
        "capital_disbursed_vnd",
        "next_deadline",
        "next_deadline_what",
        "plan_conflict",
        "check_id",
    ] {
        db.exec(&format!(
            "SELECT {col} FROM geoplan.investment_projects LIMIT 1"
        ))
        .await
        .unwrap_or_else(|e| panic!("{col}: {e}"));
    }
}

#[tokio::test]
async fn a_database_without_the_history_table_answers_an_empty_history() {
    let db = TestDb::new(false).await;
    assert_eq!(db.store.history(1).await.unwrap(), vec![]);
    let store = Store::Postgis(db.store.clone());
    assert_eq!(store.history(1).await.unwrap(), vec![]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn geoplan_load_copies_the_history_once_with_the_layers() {
    let db = TestDb::new(true).await;
    let (dir, gpkg) = sample_copy();
    let (a, b) = two_projects();
    let rows = procedure(a, b);
    gpkg.put_history(&rows).unwrap();
    let load = || {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_geoplan"))
            .arg("load")
            .arg("--from")
            .arg(dir.path().join("sample.gpkg"))
            .arg("--database-url")
            .arg(&db.url)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let first = load();
    assert!(
        first.contains("5 new project history rows (of 5)"),
        "{first}"
    );
    let want_a: Vec<Transition> = gpkg.history(a).unwrap();
    let strip = |v: Vec<Transition>| -> Vec<Transition> {
        v.into_iter().map(|t| Transition { seq: 0, ..t }).collect()
    };
    assert_eq!(
        strip(db.store.history(a).await.unwrap()),
        strip(want_a.clone())
    );
    assert_eq!(db.store.history(b).await.unwrap().len(), 2);
    // Loading the same file again replaces the layers and adds no history.
    let again = load();
    assert!(
        again.contains("0 new project history rows (of 5)"),
        "{again}"
    );
    assert_eq!(strip(db.store.history(a).await.unwrap()), strip(want_a));

    // Store-level, in the load's own transaction: a refused row loads
    // nothing, layers included.
    let layer = gpkg.read_layer("pois").unwrap();
    db.exec("DELETE FROM geoplan.pois").await.unwrap();
    let e = db
        .store
        .load_with_history(&[layer], &[step(a, None, "", 1)], &|_| {})
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Invalid(_)), "{e}");
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM geoplan.pois")
        .fetch_one(db.store.pool())
        .await
        .unwrap();
    assert_eq!(n, 0);
}

#[tokio::test]
async fn postgis_put_history_is_one_transaction() {
    let db = TestDb::with_projects().await;
    let (a, b) = two_projects();
    let mut rows = procedure(a, b);
    rows[3].to_stage = String::new();
    let e = db.store.put_history(&rows).await.unwrap_err();
    assert!(matches!(e, StoreError::Invalid(_)), "{e}");
    assert_eq!(db.store.history(a).await.unwrap(), vec![]);
}
