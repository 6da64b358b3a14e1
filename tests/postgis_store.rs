//! The PostGIS store against a real PostgreSQL + PostGIS.
//!
//! Every test creates its own database `geoplan_test_<pid>_<n>` on the
//! server named by `GEOPLAN_TEST_PG` (default
//! `postgres://postgres@127.0.0.1:5432`), migrates it and drops it at the
//! end. When PostgreSQL is unreachable the tests fail: they never skip.

use geo_types::{coord, Geometry, LineString, MultiPolygon, Point, Polygon};
use geoplan::model::{FieldDef, FieldType, GeometryType, LayerData, LayerDataBuilder, Value};
use geoplan::store::postgis::PostgisStore;
use geoplan::store::{ChangeEvent, StoreError};
use sqlx::{Connection, Executor, PgConnection};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

const LAYERS: [&str; 10] = [
    "admin_lineage",
    "admin_units",
    "industrial_zones",
    "investment_projects",
    "parcels",
    "plans",
    "pois",
    "roads",
    "water",
    "zoning_lots",
];

fn server_url(db: &str) -> String {
    let base = std::env::var("GEOPLAN_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_owned());
    let mut url = url::Url::parse(&base).expect("GEOPLAN_TEST_PG is a URL");
    url.set_path(&format!("/{db}"));
    url.to_string()
}

/// A fresh, migrated database that is dropped with this value.
struct TestDb {
    name: String,
    store: PostgisStore,
}

impl TestDb {
    async fn new() -> TestDb {
        static N: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "geoplan_test_{}_{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        let mut admin = PgConnection::connect(&server_url("postgres"))
            .await
            .expect("PostgreSQL must be reachable at GEOPLAN_TEST_PG");
        admin
            .execute(format!("DROP DATABASE IF EXISTS \"{name}\"").as_str())
            .await
            .unwrap();
        admin
            .execute(format!("CREATE DATABASE \"{name}\"").as_str())
            .await
            .unwrap();
        let store = PostgisStore::connect(&server_url(&name)).await.unwrap();
        store.migrate().await.unwrap();
        TestDb { name, store }
    }

    async fn exec(&self, sql: &str) -> u64 {
        sqlx::query(sql)
            .execute(self.store.pool())
            .await
            .unwrap()
            .rows_affected()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Drop runs outside any async context: use a thread with its own
        // runtime. FORCE ends the store's connections.
        let _ = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
                .block_on(async {
                    if let Ok(mut admin) = PgConnection::connect(&server_url("postgres")).await {
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

fn text(s: &str) -> Value {
    Value::Text(s.to_owned())
}

fn square(x: f64, y: f64, size: f64) -> Polygon<f64> {
    Polygon::new(
        LineString(vec![
            coord! {x: x, y: y},
            coord! {x: x + size, y: y},
            coord! {x: x + size, y: y + size},
            coord! {x: x, y: y + size},
            coord! {x: x, y: y},
        ]),
        vec![],
    )
}

fn parcel_fields() -> Vec<FieldDef> {
    use FieldType::*;
    [
        ("commune_code", Text),
        ("commune_name", Text),
        ("district_name", Text),
        ("sheet_number", Integer),
        ("parcel_number", Integer),
        ("legal_area", Real),
        ("land_use_code", Text),
        ("address", Text),
        ("certificate_number", Text),
        ("synthetic", Boolean),
        ("land_use_code_old", Text),
    ]
    .into_iter()
    .map(|(n, t)| FieldDef::new(n, t))
    .collect()
}

/// Parcels with fids `first..first + n`, all on one sheet of Phường Minh An.
fn parcels(first: i64, n: i64) -> LayerData {
    let mut b = LayerDataBuilder::new("parcels", 5899, GeometryType::Polygon, parcel_fields());
    for fid in first..first + n {
        let g = Geometry::Polygon(square(561_000.0 + fid as f64 * 20.0, 1_756_000.0, 18.5));
        let address = if fid % 2 == 0 {
            text("12 Nguyễn Thái Học, Phường Minh An\tHội An")
        } else {
            Value::Null
        };
        b.push(
            fid,
            Some(&g),
            vec![
                text("20104"),
                text("Phường Minh An"),
                text("Thành phố Hội An"),
                Value::Int(7),
                Value::Int(fid),
                Value::Real(342.25 + fid as f64 / 3.0),
                text("ODT"),
                address,
                Value::Null,
                Value::Bool(true),
                Value::Null,
            ],
        )
        .unwrap();
    }
    b.finish().unwrap()
}

fn admin_units() -> LayerData {
    use FieldType::*;
    let fields = [
        ("code", Text),
        ("name", Text),
        ("level", Text),
        ("unit_type", Text),
        ("parent_code", Text),
        ("valid_from", Date),
        ("valid_to", Date),
        ("synthetic", Boolean),
    ]
    .into_iter()
    .map(|(n, t)| FieldDef::new(n, t))
    .collect();
    let mut b = LayerDataBuilder::new("admin_units", 5899, GeometryType::MultiPolygon, fields);
    let with_hole = Polygon::new(
        square(560_000.0, 1_750_000.0, 5_000.0).exterior().clone(),
        vec![square(561_000.0, 1_751_000.0, 100.0).exterior().clone()],
    );
    let mp = Geometry::MultiPolygon(MultiPolygon(vec![
        with_hole,
        square(570_000.0, 1_750_000.0, 1_000.0),
    ]));
    b.push(
        5,
        Some(&mp),
        vec![
            text("20104"),
            text("Phường Minh An"),
            text("commune"),
            text("phường"),
            text("503"),
            text("2008-01-29"),
            text("2025-06-30"),
            Value::Bool(true),
        ],
    )
    .unwrap();
    b.push(
        9,
        Some(&mp),
        vec![
            text("20105"),
            text("Phường Hội An"),
            text("commune"),
            Value::Null,
            Value::Null,
            text("2025-07-01"),
            Value::Null,
            Value::Null,
        ],
    )
    .unwrap();
    b.finish().unwrap()
}

fn pois(n: i64) -> LayerData {
    let fields = vec![
        FieldDef::new("name", FieldType::Text),
        FieldDef::new("kind", FieldType::Text),
        FieldDef::new("synthetic", FieldType::Boolean),
    ];
    let mut b = LayerDataBuilder::new("pois", 5899, GeometryType::Point, fields);
    for fid in 1..=n {
        let g = Geometry::Point(Point::new(561_563.927 + fid as f64, 1_756_054.6));
        b.push(
            fid,
            Some(&g),
            vec![
                text(&format!("Chùa Cầu {fid}")),
                text("heritage"),
                Value::Bool(false),
            ],
        )
        .unwrap();
    }
    b.finish().unwrap()
}

fn assert_same_layer(got: &LayerData, want: &LayerData) {
    assert_eq!(got.name, want.name);
    assert_eq!(got.srid, want.srid);
    assert_eq!(got.geometry_type, want.geometry_type);
    assert_eq!(got.fields, want.fields);
    assert_eq!(got.fids, want.fids);
    for i in 0..want.len() {
        assert_eq!(got.row(i), want.row(i), "layer {} row {i}", want.name);
    }
}

fn no_progress(_: u64) {}

/// Starts `listen` and waits until its `LISTEN` is in place.
async fn start_listener(db: &TestDb) -> mpsc::Receiver<ChangeEvent> {
    let (tx, rx) = mpsc::channel(64);
    let store = db.store.clone();
    tokio::spawn(async move { store.listen(tx).await });
    wait_for_listen_backend(db).await;
    rx
}

/// The pid of the listener's backend, once it has run `LISTEN`.
async fn wait_for_listen_backend(db: &TestDb) -> i32 {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let pid: Option<i32> = sqlx::query_scalar(
            "SELECT pid FROM pg_stat_activity \
             WHERE datname = current_database() AND query = 'LISTEN \"geoplan_changes\"' \
             AND state = 'idle' LIMIT 1",
        )
        .fetch_optional(db.store.pool())
        .await
        .unwrap();
        if let Some(pid) = pid {
            return pid;
        }
        assert!(Instant::now() < deadline, "the listener never ran LISTEN");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn next_event(rx: &mut mpsc::Receiver<ChangeEvent>, within: Duration) -> ChangeEvent {
    tokio::time::timeout(within, rx.recv())
        .await
        .expect("no change event in time")
        .expect("listener stopped")
}

#[tokio::test]
async fn migrating_twice_changes_nothing() {
    let db = TestDb::new().await;
    db.store.migrate().await.unwrap();
    db.store.migrate().await.unwrap();
    assert_eq!(db.store.layer_names().await.unwrap(), LAYERS);
    let triggers: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = 'geoplan' AND NOT t.tgisinternal \
         AND t.tgname LIKE 'geoplan\\_notify\\_%'",
    )
    .fetch_one(db.store.pool())
    .await
    .unwrap();
    assert_eq!(triggers, 4 * LAYERS.len() as i64);
    db.store.ping().await.unwrap();
}

#[tokio::test]
async fn a_loaded_layer_reads_back_with_the_same_fids_values_and_geometries() {
    let db = TestDb::new().await;
    let layers = vec![parcels(1, 6), admin_units(), pois(3)];
    let seen = AtomicU64::new(0);
    let progress = |n: u64| {
        assert!(n >= seen.load(Ordering::Relaxed), "progress went backwards");
        seen.store(n, Ordering::Relaxed);
    };
    let written = db.store.load(&layers, &progress).await.unwrap();
    assert_eq!(written, 6 + 2 + 3);
    assert_eq!(seen.load(Ordering::Relaxed), written);
    for want in &layers {
        let got = db.store.read_layer(&want.name).await.unwrap();
        assert_same_layer(&got, want);
    }
    // Spot-check the text that matters most to users, byte for byte.
    let parcels = db.store.read_layer("parcels").await.unwrap();
    let row = parcels.row(1);
    assert_eq!(row.values[1], text("Phường Minh An"));
    assert_eq!(
        row.values[7],
        text("12 Nguyễn Thái Học, Phường Minh An\tHội An")
    );
    assert_eq!(row.values[8], Value::Null);
    let units = db.store.read_layer("admin_units").await.unwrap();
    assert_eq!(units.row(0).values[5], text("2008-01-29"));
    assert_eq!(units.row(1).values[6], Value::Null);
}

#[tokio::test]
async fn the_sample_admin_units_and_lineage_load_and_join_on_code_and_date() {
    let db = TestDb::new().await;
    let opts = geoplan::sample::SampleOptions {
        seed: 42,
        parcels: 0,
    };
    let layers: Vec<LayerData> = geoplan::sample::generate(&opts, &|_| {})
        .unwrap()
        .into_iter()
        .filter(|l| l.name.starts_with("admin_"))
        .collect();
    assert_eq!(layers.len(), 2);
    db.store.load(&layers, &no_progress).await.unwrap();
    for want in &layers {
        let got = db.store.read_layer(&want.name).await.unwrap();
        assert_same_layer(&got, want);
    }
    // Every old commune once, each going into a 2025 unit found by
    // (code, valid_from): a code alone is reused.
    let (rows, joined): (i64, i64) = sqlx::query_as(
        "SELECT count(*), count(u.fid) FROM geoplan.admin_lineage l \
         LEFT JOIN geoplan.admin_units u ON u.code = l.new_code AND u.valid_from = l.valid_from \
         AND u.level = 'commune'",
    )
    .fetch_one(db.store.pool())
    .await
    .unwrap();
    assert_eq!((rows, joined), (297, 297));
    let olds: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM geoplan.admin_units u JOIN geoplan.admin_lineage l \
         ON l.old_code = u.code AND u.valid_to = DATE '2025-06-30' AND u.level = 'commune'",
    )
    .fetch_one(db.store.pool())
    .await
    .unwrap();
    assert_eq!(olds, 297);
}

#[tokio::test]
async fn loading_again_replaces_the_rows_and_new_rows_get_fids_past_the_loaded_ones() {
    let db = TestDb::new().await;
    db.store
        .load(&[parcels(1, 50)], &no_progress)
        .await
        .unwrap();
    db.store
        .load(&[parcels(100, 3)], &no_progress)
        .await
        .unwrap();
    let got = db.store.read_layer("parcels").await.unwrap();
    assert_eq!(got.fids, vec![100, 101, 102]);
    let fid: i64 = sqlx::query_scalar(
        "INSERT INTO geoplan.parcels (geom, commune_code, sheet_number, parcel_number) \
         VALUES ('SRID=5899;POLYGON((0 0,1 0,1 1,0 0))', '20104', 8, 1) RETURNING fid",
    )
    .fetch_one(db.store.pool())
    .await
    .unwrap();
    assert_eq!(fid, 103);
}

#[tokio::test]
async fn a_load_that_fails_midway_on_a_duplicate_key_leaves_every_table_as_it_was() {
    let db = TestDb::new().await;
    let before = vec![pois(4), parcels(1, 3)];
    db.store.load(&before, &no_progress).await.unwrap();

    // Two parcels with the same cadastral key (commune, sheet, number).
    let mut b = LayerDataBuilder::new("parcels", 5899, GeometryType::Polygon, parcel_fields());
    for fid in [10, 11] {
        let g = Geometry::Polygon(square(0.0, 0.0, 1.0));
        let mut v = vec![Value::Null; 11];
        v[0] = text("20104");
        v[3] = Value::Int(1);
        v[4] = Value::Int(1);
        b.push(fid, Some(&g), v).unwrap();
    }
    let bad = vec![pois(7), b.finish().unwrap()];
    let err = db.store.load(&bad, &no_progress).await.unwrap_err();
    assert!(matches!(err, StoreError::Postgis(_)), "{err}");
    assert!(err.to_string().contains("parcels_cadastral_key"), "{err}");

    for want in &before {
        assert_same_layer(&db.store.read_layer(&want.name).await.unwrap(), want);
    }
}

#[tokio::test]
async fn a_load_naming_an_unknown_layer_writes_nothing() {
    let db = TestDb::new().await;
    db.store.load(&[parcels(1, 3)], &no_progress).await.unwrap();
    let mut unknown = pois(2);
    unknown.name = "kindergartens".into();
    let err = db
        .store
        .load(&[parcels(20, 5), unknown], &no_progress)
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::UnknownLayer(ref n) if n == "kindergartens"),
        "{err}"
    );
    assert_eq!(
        db.store.read_layer("parcels").await.unwrap().fids,
        vec![1, 2, 3]
    );
}

#[tokio::test]
async fn a_layer_that_does_not_fit_its_table_is_refused_before_writing() {
    let db = TestDb::new().await;
    db.store.load(&[pois(2)], &no_progress).await.unwrap();
    let mut wrong_crs = pois(5);
    wrong_crs.srid = 4326;
    let err = db.store.load(&[wrong_crs], &no_progress).await.unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)), "{err}");
    let mut wrong_type = parcels(1, 2);
    wrong_type.name = "roads".into();
    let err = db
        .store
        .load(&[wrong_type], &no_progress)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)), "{err}");
    assert_eq!(db.store.read_layer("pois").await.unwrap().fids, vec![1, 2]);
}

#[tokio::test]
async fn an_sql_update_reaches_the_listener_as_a_feature_change_within_a_second() {
    let db = TestDb::new().await;
    db.store.load(&[parcels(1, 5)], &no_progress).await.unwrap();
    let mut rx = start_listener(&db).await;
    assert_eq!(
        db.exec("UPDATE geoplan.parcels SET land_use_code = 'TMD' WHERE fid = 3")
            .await,
        1
    );
    assert_eq!(
        next_event(&mut rx, Duration::from_secs(1)).await,
        ChangeEvent::Features {
            layer: "parcels".into(),
            fids: vec![3]
        }
    );
    let got = db.store.read_features("parcels", &[3]).await.unwrap();
    assert_eq!(got[0].values[6], text("TMD"));
}

#[tokio::test]
async fn deleting_more_than_a_thousand_rows_asks_for_a_whole_layer_reload() {
    let db = TestDb::new().await;
    db.store.load(&[pois(1500)], &no_progress).await.unwrap();
    let mut rx = start_listener(&db).await;
    assert_eq!(
        db.exec("DELETE FROM geoplan.pois WHERE fid > 100").await,
        1400
    );
    assert_eq!(
        next_event(&mut rx, Duration::from_secs(1)).await,
        ChangeEvent::Layer {
            layer: "pois".into()
        }
    );
}

#[tokio::test]
async fn a_load_announces_each_loaded_layer_once() {
    let db = TestDb::new().await;
    let mut rx = start_listener(&db).await;
    db.store
        .load(&[pois(1200), parcels(1, 5)], &no_progress)
        .await
        .unwrap();
    let mut got = vec![
        next_event(&mut rx, Duration::from_secs(1)).await,
        next_event(&mut rx, Duration::from_secs(1)).await,
    ];
    got.sort_by_key(|e| format!("{e:?}"));
    assert_eq!(
        got,
        vec![
            ChangeEvent::Layer {
                layer: "parcels".into()
            },
            ChangeEvent::Layer {
                layer: "pois".into()
            },
        ]
    );
    assert!(
        tokio::time::timeout(Duration::from_millis(300), rx.recv())
            .await
            .is_err(),
        "a load must not send more than one event per layer"
    );
}

#[tokio::test]
async fn a_listener_that_lost_its_connection_reconnects_and_asks_for_every_layer() {
    let db = TestDb::new().await;
    let mut rx = start_listener(&db).await;
    let pid = wait_for_listen_backend(&db).await;
    let killed: bool = sqlx::query_scalar("SELECT pg_terminate_backend($1)")
        .bind(pid)
        .fetch_one(db.store.pool())
        .await
        .unwrap();
    assert!(killed);
    let mut layers = Vec::new();
    for _ in 0..LAYERS.len() {
        match next_event(&mut rx, Duration::from_secs(10)).await {
            ChangeEvent::Layer { layer } => layers.push(layer),
            other => panic!("expected a layer reload, got {other:?}"),
        }
    }
    layers.sort();
    assert_eq!(layers, LAYERS);
    // And it listens again.
    db.exec("INSERT INTO geoplan.pois (fid, geom) VALUES (77, 'SRID=5899;POINT(1 2)')")
        .await;
    assert_eq!(
        next_event(&mut rx, Duration::from_secs(1)).await,
        ChangeEvent::Features {
            layer: "pois".into(),
            fids: vec![77]
        }
    );
}

#[tokio::test]
async fn the_listener_returns_when_its_receiver_is_dropped() {
    let db = TestDb::new().await;
    let (tx, rx) = mpsc::channel(4);
    let store = db.store.clone();
    let task = tokio::spawn(async move { store.listen(tx).await });
    wait_for_listen_backend(&db).await;
    drop(rx);
    let res = tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .expect("listen did not return")
        .unwrap();
    assert!(res.is_ok());
}

#[tokio::test]
async fn reading_features_skips_deleted_fids() {
    let db = TestDb::new().await;
    db.store.load(&[parcels(1, 4)], &no_progress).await.unwrap();
    assert_eq!(
        db.exec("DELETE FROM geoplan.parcels WHERE fid = 2").await,
        1
    );
    let got = db.store.read_features("parcels", &[1, 2, 3]).await.unwrap();
    assert_eq!(got.iter().map(|r| r.fid).collect::<Vec<_>>(), vec![1, 3]);
    assert_eq!(got[1], parcels(1, 4).row(2));
    assert!(db
        .store
        .read_features("parcels", &[2])
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn a_hostile_layer_name_is_an_unknown_layer_and_runs_nothing() {
    let db = TestDb::new().await;
    db.exec("CREATE TABLE public.x (id int)").await;
    let hostile = "parcels; drop table x";
    assert!(matches!(
        db.store.read_layer(hostile).await,
        Err(StoreError::UnknownLayer(n)) if n == hostile
    ));
    assert!(matches!(
        db.store.read_features(hostile, &[1]).await,
        Err(StoreError::UnknownLayer(_))
    ));
    let mut layer = pois(1);
    layer.name = hostile.into();
    assert!(matches!(
        db.store.load(&[layer], &no_progress).await,
        Err(StoreError::UnknownLayer(_))
    ));
    assert!(matches!(
        db.store.read_layer("public.x").await,
        Err(StoreError::UnknownLayer(_))
    ));
    db.exec("SELECT * FROM public.x").await;
}

/// Builds and loads 1,000,000 parcels and prints the times. Run with
/// `cargo test --release --test postgis_store -- --ignored --nocapture`.
#[tokio::test]
#[ignore = "takes minutes; a measurement, not a check"]
async fn a_million_parcels_load_and_read_back() {
    const N: i64 = 1_000_000;
    let db = TestDb::new().await;
    let t = Instant::now();
    let mut b = LayerDataBuilder::new("parcels", 5899, GeometryType::Polygon, parcel_fields());
    let uses = ["ODT", "ONT", "LUC", "CLN", "HNK", "TMD", "SKC", "DGT"];
    for fid in 1..=N {
        let (col, row) = (fid % 1000, fid / 1000);
        let g = Geometry::Polygon(square(
            540_000.0 + col as f64 * 25.0,
            1_740_000.0 + row as f64 * 25.0,
            22.5,
        ));
        let commune = fid / 10_000;
        b.push(
            fid,
            Some(&g),
            vec![
                text(&format!("2{commune:04}")),
                text(&format!("Phường {commune}")),
                text("Thành phố Hội An"),
                Value::Int((fid / 100) % 100 + 1),
                Value::Int(fid % 100 + 1),
                Value::Real(500.0 + (fid % 97) as f64 * 3.25),
                text(uses[fid as usize % uses.len()]),
                text(&format!("{} Nguyễn Thái Học", fid % 300)),
                Value::Null,
                Value::Bool(true),
            ],
        )
        .unwrap();
    }
    let layers = vec![b.finish().unwrap()];
    println!("built {N} parcels in {:.1?}", t.elapsed());

    let t = Instant::now();
    let last = AtomicU64::new(0);
    let progress = |n: u64| last.store(n, Ordering::Relaxed);
    let written = db.store.load(&layers, &progress).await.unwrap();
    assert_eq!(written, N as u64);
    assert_eq!(last.load(Ordering::Relaxed), N as u64);
    println!("first load of {N} parcels: {:.1?}", t.elapsed());

    let t = Instant::now();
    db.store.load(&layers, &no_progress).await.unwrap();
    println!("reload over {N} existing parcels: {:.1?}", t.elapsed());

    let t = Instant::now();
    let got = db.store.read_layer("parcels").await.unwrap();
    println!("read_layer of {N} parcels: {:.1?}", t.elapsed());
    assert_same_layer(&got, &layers[0]);
}

fn sample_record() -> geoplan::store::records::Record {
    use geoplan::store::records::{Record, RecordKind};
    Record::new(
        RecordKind::Check,
        Some("nguyễn.lan"),
        serde_json::json!({
            "site": {"type": "Polygon", "coordinates": [[[561000.0, 1756000.0], [561050.5, 1756000.0], [561000.0, 1756040.25], [561000.0, 1756000.0]]]},
            "crs": "EPSG:5899",
            "proposal": {"use": "TMD", "floors": 12, "density_pct": 60, "far": 5.0},
        }),
        serde_json::json!({
            "rules": [{"pass": false, "vi": "Khu đất nằm trên mặt nước sông Thu Bồn", "en": "The site lies on the Thu Bồn river"}],
            // Numbers jsonb would rewrite: a float with an integer value
            // beyond 2^53 and a tiny one.
            "big": 1e18,
            "tiny": 1e-9,
            "none": null,
        }),
    )
}

#[tokio::test]
async fn a_record_put_into_postgis_reads_back_exactly_and_its_hash_recomputes() {
    use geoplan::store::records::{RecordId, VerificationCode};
    let db = TestDb::new().await;
    let r = sample_record();
    assert_eq!(db.store.put_record(&r).await.unwrap(), r.id);
    let back = db
        .store
        .get_record(&r.id)
        .await
        .unwrap()
        .expect("found by id");
    assert_eq!(back, r);
    assert!(back.is_intact());
    assert_eq!(back.content_hash(), r.sha256);
    assert_eq!(
        db.store.get_record_by_code(&r.code).await.unwrap().unwrap(),
        r
    );
    assert_eq!(
        db.store.get_record(&RecordId::random()).await.unwrap(),
        None
    );
    assert_eq!(
        db.store
            .get_record_by_code(&VerificationCode::random())
            .await
            .unwrap(),
        None
    );
}

#[tokio::test]
async fn the_record_table_is_not_a_layer_and_leaves_the_layers_as_they_were() {
    let db = TestDb::new().await;
    let layer = parcels(1, 5);
    db.store
        .load(std::slice::from_ref(&layer), &no_progress)
        .await
        .unwrap();
    for _ in 0..3 {
        db.store.put_record(&sample_record()).await.unwrap();
    }
    assert_eq!(db.store.layer_names().await.unwrap(), LAYERS);
    assert_same_layer(&db.store.read_layer("parcels").await.unwrap(), &layer);
    let err = db.store.read_layer("planning_records").await.unwrap_err();
    assert!(matches!(err, StoreError::UnknownLayer(_)), "{err}");
}

#[tokio::test]
async fn a_taken_record_id_is_refused_and_the_first_record_is_kept() {
    use geoplan::store::records::{Record, RecordKind};
    let db = TestDb::new().await;
    let first = sample_record();
    db.store.put_record(&first).await.unwrap();
    let mut again = Record::new(
        RecordKind::Sheet,
        None,
        serde_json::json!(1),
        serde_json::json!(2),
    );
    again.id = first.id.clone();
    let e = db.store.put_record(&again).await.unwrap_err();
    assert!(matches!(e, StoreError::Duplicate(_)), "{e}");
    let mut same_code = Record::new(
        RecordKind::Sheet,
        None,
        serde_json::json!(1),
        serde_json::json!(2),
    );
    same_code.code = first.code.clone();
    let e = db.store.put_record(&same_code).await.unwrap_err();
    assert!(matches!(e, StoreError::Duplicate(_)), "{e}");
    assert_eq!(db.store.get_record(&same_code.id).await.unwrap(), None);
    assert_eq!(
        db.store.get_record(&first.id).await.unwrap().unwrap(),
        first
    );
    assert_eq!(db.exec("SELECT 1 FROM geoplan.planning_records").await, 1);
}

#[tokio::test]
async fn a_record_whose_hash_does_not_match_is_refused_and_nothing_is_written() {
    let db = TestDb::new().await;
    let mut r = sample_record();
    r.request = serde_json::json!({"edited": true});
    let e = db.store.put_record(&r).await.unwrap_err();
    assert!(matches!(e, StoreError::Invalid(_)), "{e}");
    assert_eq!(db.exec("SELECT 1 FROM geoplan.planning_records").await, 0);
}

#[tokio::test]
async fn a_stored_record_cannot_be_updated_in_postgis() {
    let db = TestDb::new().await;
    let r = sample_record();
    db.store.put_record(&r).await.unwrap();
    let e = sqlx::query("UPDATE geoplan.planning_records SET user_name = 'x'")
        .execute(db.store.pool())
        .await
        .unwrap_err();
    assert!(e.to_string().contains("immutable"), "{e}");
    assert_eq!(db.store.get_record(&r.id).await.unwrap().unwrap(), r);
}
