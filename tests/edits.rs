//! WFS-T groundwork without XML: atomic writes to a GeoPackage and to
//! PostGIS, `AppState::commit` showing edits in the engine and tiles at
//! once, and editor authentication. PostGIS tests make their own database
//! through `GEOPLAN_TEST_PG` and fail, never skip, without one.

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, Request, StatusCode};
use axum::response::IntoResponse;
use geo_types::{point, polygon, Coord, Geometry, MultiPolygon};
use geoplan::config::Config;
use geoplan::http::auth::{self, Auth, AuthFailure, AuthMethod};
use geoplan::http::{app, AppState, CommitError};
use geoplan::model::{Edit, FeatureRow, FeatureUpdate, LayerData, LayerEdit, NewFeature, Value};
use geoplan::store::{gpkg::GpkgStore, postgis::PostgisStore, Store, StoreError};
use geoplan::tiles::TileCoord;
use http_body_util::BodyExt;
use std::hash::{Hash, Hasher};
use std::time::{Duration, Instant};
use tower::ServiceExt;

mod common;

const SAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/sample.gpkg");
/// The layers the tests edit: a Polygon, a Point and a MultiPolygon layer.
const LAYERS: [&str; 3] = ["parcels", "pois", "admin_units"];
/// Vietnamese text in NFC, with the marks that break naive handling.
const ADDRESS: &str = "Số 12 đường Nguyễn Thị Minh Khai, Phường Hải Châu, TP Đà Nẵng";

// ---------------------------------------------------------------- fixtures

/// A fresh database, dropped when the guard goes.
use common::PgDb as Db;

fn sample_layers() -> Vec<LayerData> {
    let g = GpkgStore::open(SAMPLE).unwrap();
    LAYERS.iter().map(|n| g.read_layer(n).unwrap()).collect()
}

/// A GeoPackage store over a private copy of the sample.
fn gpkg_copy() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sample.gpkg");
    std::fs::copy(SAMPLE, &path).unwrap();
    (dir, Store::Gpkg(GpkgStore::open(&path).unwrap()))
}

/// A PostGIS store in a fresh database holding the sample's test layers.
async fn postgis(tag: &str) -> (Db, PostgisStore) {
    let db = Db::new(tag).await;
    let pg = PostgisStore::connect(&db.url).await.unwrap();
    pg.migrate().await.unwrap();
    pg.load(&sample_layers(), &|_| {}).await.unwrap();
    (db, pg)
}

/// Row count and a hash of every row of the test layers, as the store
/// reads them back.
async fn fingerprint(store: &Store) -> Vec<(usize, u64)> {
    let mut out = Vec::new();
    for name in LAYERS {
        let l = store.read_layer(name).await.unwrap();
        let mut h = std::collections::hash_map::DefaultHasher::new();
        for row in 0..l.len() {
            format!("{:?}", l.row(row)).hash(&mut h);
        }
        out.push((l.len(), h.finish()));
    }
    out
}

fn square(x: f64, y: f64, side: f64) -> Geometry<f64> {
    Geometry::Polygon(polygon![
        (x: x, y: y), (x: x + side, y: y), (x: x + side, y: y + side),
        (x: x, y: y + side), (x: x, y: y),
    ])
}

fn text(s: &str) -> Value {
    Value::Text(s.into())
}

fn value<'a>(layer: &LayerData, row: &'a FeatureRow, field: &str) -> &'a Value {
    &row.values[layer.field_index(field).unwrap()]
}

fn one(layer: &str, edit: Edit) -> Vec<LayerEdit> {
    vec![LayerEdit {
        layer: layer.into(),
        edit,
    }]
}

// ------------------------------------------------------------ store writes

/// Inserts two parcels (one with decomposed Vietnamese text) and a POI,
/// moves and renames a parcel, deletes another, all in one write; then
/// reads everything back.
async fn insert_update_delete_round_trip(store: &Store) {
    let parcels = store.read_layer("parcels").await.unwrap();
    let admin = store.read_layer("admin_units").await.unwrap();
    let pois_before = store.read_layer("pois").await.unwrap().len();
    let max_fid = *parcels.fids.last().unwrap();
    let (edited, gone) = (parcels.fids[10], parcels.fids[11]);
    let edited_row = parcels.row(10);
    let nfd: String = unicode_normalization::UnicodeNormalization::nfd(ADDRESS).collect();
    assert_ne!(nfd, ADDRESS);
    let (x, y) = (561_200.0, 1_757_300.0);
    let moved = square(x + 5000.0, y, 25.0);
    let edits =
        vec![
            LayerEdit {
                layer: "parcels".into(),
                edit: Edit {
                    inserts: vec![
                        NewFeature {
                            geometry: Some(square(x, y, 20.0)),
                            values: vec![
                                ("commune_code".into(), text("20194")),
                                ("sheet_number".into(), Value::Int(77)),
                                ("parcel_number".into(), Value::Int(90_001)),
                                ("legal_area".into(), Value::Int(400)),
                                ("land_use_code".into(), text("ODT")),
                                ("address".into(), text(ADDRESS)),
                                ("synthetic".into(), Value::Bool(true)),
                            ],
                        },
                        NewFeature {
                            // A single-part MultiPolygon fits a Polygon layer.
                            geometry: Some(Geometry::MultiPolygon(MultiPolygon(vec![
                                match square(x + 30.0, y, 10.0) {
                                    Geometry::Polygon(p) => p,
                                    _ => unreachable!(),
                                },
                            ]))),
                            values: vec![
                                ("commune_code".into(), text("20194")),
                                ("sheet_number".into(), Value::Int(77)),
                                ("parcel_number".into(), Value::Int(90_002)),
                                ("address".into(), Value::Text(nfd)),
                            ],
                        },
                    ],
                    updates: vec![FeatureUpdate {
                        fid: edited,
                        geometry: Some(Some(moved.clone())),
                        values: vec![
                            ("address".into(), text(ADDRESS)),
                            ("certificate_number".into(), Value::Null),
                        ],
                    }],
                    deletes: vec![gone],
                },
            },
            LayerEdit {
                layer: "pois".into(),
                edit: Edit {
                    inserts: vec![NewFeature {
                        geometry: Some(Geometry::Point(point!(x: x, y: y))),
                        values: vec![("name".into(), text("Chợ Hàn"))],
                    }],
                    ..Edit::default()
                },
            },
            LayerEdit {
                layer: "admin_units".into(),
                edit: Edit {
                    updates: vec![FeatureUpdate {
                        fid: admin.fids[0],
                        // A Polygon into a MultiPolygon layer.
                        geometry: Some(Some(square(x, y, 1000.0))),
                        values: vec![
                            ("valid_from".into(), text("2025-07-01")),
                            ("valid_to".into(), Value::Null),
                            ("name".into(), text("Phường Hội An Tây")),
                        ],
                    }],
                    ..Edit::default()
                },
            },
        ];
    let r = store.write(&edits).await.unwrap();
    assert_eq!(r.layers.len(), 3);
    let unit = &store
        .read_features("admin_units", &[admin.fids[0]])
        .await
        .unwrap()[0];
    assert_eq!(
        unit.geometry,
        Some(Geometry::MultiPolygon(MultiPolygon(vec![
            match square(x, y, 1000.0) {
                Geometry::Polygon(p) => p,
                _ => unreachable!(),
            }
        ])))
    );
    assert_eq!(value(&admin, unit, "valid_from"), &text("2025-07-01"));
    assert_eq!(value(&admin, unit, "valid_to"), &Value::Null);
    assert_eq!(value(&admin, unit, "name"), &text("Phường Hội An Tây"));
    assert_eq!(
        value(&admin, unit, "code"),
        value(&admin, &admin.row(0), "code")
    );
    let new = &r.layers[0].inserted;
    assert_eq!(new.len(), 2);
    assert!(new[0] > max_fid && new[1] > new[0], "new fids: {new:?}");
    assert_eq!(r.layers[0].updated, vec![edited]);
    assert_eq!(r.layers[0].deleted, vec![gone]);
    assert_eq!(r.layers[1].inserted.len(), 1);
    assert_eq!(
        (r.total_inserted(), r.total_updated(), r.total_deleted()),
        (3, 2, 1)
    );

    let back = store
        .read_features("parcels", &[edited, gone, new[0], new[1]])
        .await
        .unwrap();
    assert_eq!(
        back.iter().map(|r| r.fid).collect::<Vec<_>>(),
        vec![edited, new[0], new[1]],
        "the deleted parcel is gone"
    );
    let (upd, a, b) = (&back[0], &back[1], &back[2]);
    // The update changed what it named and nothing else.
    assert_eq!(upd.geometry.as_ref(), Some(&moved));
    assert_eq!(value(&parcels, upd, "address"), &text(ADDRESS));
    assert_eq!(value(&parcels, upd, "certificate_number"), &Value::Null);
    for f in [
        "commune_code",
        "parcel_number",
        "legal_area",
        "land_use_code",
    ] {
        assert_eq!(
            value(&parcels, upd, f),
            value(&parcels, &edited_row, f),
            "{f}"
        );
    }
    assert_eq!(a.geometry, Some(square(x, y, 20.0)));
    assert_eq!(value(&parcels, a, "sheet_number"), &Value::Int(77));
    assert_eq!(value(&parcels, a, "legal_area"), &Value::Real(400.0));
    assert_eq!(value(&parcels, a, "synthetic"), &Value::Bool(true));
    // Vietnamese text: byte-identical, and the decomposed form stored as NFC.
    assert_eq!(
        value(&parcels, a, "address").as_str().unwrap().as_bytes(),
        ADDRESS.as_bytes()
    );
    assert_eq!(
        value(&parcels, b, "address").as_str().unwrap().as_bytes(),
        ADDRESS.as_bytes()
    );
    assert_eq!(b.geometry, Some(square(x + 30.0, y, 10.0)));
    assert_eq!(value(&parcels, b, "land_use_code"), &Value::Null);

    assert_eq!(
        store.read_layer("parcels").await.unwrap().len(),
        parcels.len() + 1
    );
    let pois = store.read_layer("pois").await.unwrap();
    assert_eq!(pois.len(), pois_before + 1);
    let poi = store
        .read_features("pois", &r.layers[1].inserted)
        .await
        .unwrap();
    assert_eq!(value(&pois, &poi[0], "name"), &text("Chợ Hàn"));
    assert_eq!(poi[0].geometry, Some(Geometry::Point(point!(x: x, y: y))));
}

/// Writes that start well and fail at their last operation: each is
/// refused with an error naming the problem, and every table stays
/// exactly as it was.
async fn a_failing_write_changes_nothing(store: &Store) {
    let before = fingerprint(store).await;
    let parcels = store.read_layer("parcels").await.unwrap();
    let admin = store.read_layer("admin_units").await.unwrap();
    let (p, a) = (parcels.fids[5], admin.fids[0]);
    // Good operations in three layers, then `last` in parcels.
    let write = |last: Edit| {
        vec![
            LayerEdit {
                layer: "pois".into(),
                edit: Edit {
                    inserts: vec![NewFeature {
                        geometry: Some(Geometry::Point(point!(x: 561_000.0, y: 1_757_000.0))),
                        values: vec![("name".into(), text("Cầu Rồng"))],
                    }],
                    ..Edit::default()
                },
            },
            LayerEdit {
                layer: "admin_units".into(),
                edit: Edit {
                    deletes: vec![a],
                    ..Edit::default()
                },
            },
            LayerEdit {
                layer: "parcels".into(),
                edit: Edit {
                    updates: vec![FeatureUpdate {
                        fid: p,
                        geometry: None,
                        values: vec![("land_use_code".into(), text("TMD"))],
                    }],
                    ..Edit::default()
                },
            },
            LayerEdit {
                layer: "parcels".into(),
                edit: last,
            },
        ]
    };
    let update = |values: Vec<(String, Value)>, geometry| Edit {
        updates: vec![FeatureUpdate {
            fid: p,
            geometry,
            values,
        }],
        ..Edit::default()
    };
    let cases: Vec<(&str, Edit, &str)> = vec![
        (
            "update of a missing fid",
            Edit {
                updates: vec![FeatureUpdate {
                    fid: 987_654_321,
                    geometry: None,
                    values: vec![("address".into(), text("x"))],
                }],
                ..Edit::default()
            },
            "987654321",
        ),
        (
            "delete of a missing fid",
            Edit {
                deletes: vec![parcels.fids[6], 987_654_321],
                ..Edit::default()
            },
            "987654321",
        ),
        (
            "text where an integer goes",
            update(vec![("sheet_number".into(), text("12"))], None),
            "sheet_number",
        ),
        (
            "an unknown field",
            update(vec![("owner".into(), text("x"))], None),
            "owner",
        ),
        (
            "a field name made to break out of SQL",
            update(
                vec![("address\" = 'x', \"land_use_code".into(), text("x"))],
                None,
            ),
            "address",
        ),
        (
            "a point in a polygon layer",
            Edit {
                inserts: vec![NewFeature {
                    geometry: Some(Geometry::Point(point!(x: 561_000.0, y: 1_757_000.0))),
                    values: vec![],
                }],
                ..Edit::default()
            },
            "Point",
        ),
        (
            "a NaN coordinate",
            update(vec![], Some(Some(square(f64::NAN, 1_757_000.0, 10.0)))),
            "NaN",
        ),
    ];
    for (case, last, named) in cases {
        let e = store.write(&write(last)).await.unwrap_err();
        assert!(e.is_client_error(), "{case}: {e}");
        assert!(e.to_string().contains(named), "{case}: {e}");
    }
    // A layer name is looked up, never put into a statement as given.
    let hostile = "parcels\"; DELETE FROM geoplan.\"pois";
    let mut w = write(Edit::default());
    w[3].layer = hostile.into();
    let e = store.write(&w).await.unwrap_err();
    assert!(
        matches!(&e, StoreError::UnknownLayer(l) if l == hostile),
        "{e}"
    );
    assert_eq!(fingerprint(store).await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn geopackage_edits_round_trip_with_new_fids_and_vietnamese_text_intact() {
    let (_dir, store) = gpkg_copy();
    insert_update_delete_round_trip(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_geopackage_write_failing_at_its_last_operation_changes_no_table() {
    let (_dir, store) = gpkg_copy();
    a_failing_write_changes_nothing(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgis_edits_round_trip_with_new_fids_and_vietnamese_text_intact() {
    let (_db, pg) = postgis("wfst_rt").await;
    let store = Store::Postgis(pg.clone());
    insert_update_delete_round_trip(&store).await;
    // The new fids came from the table's sequence: a plain SQL insert
    // afterwards gets the next one.
    let next: i64 = sqlx::query_scalar(
        "INSERT INTO geoplan.pois (geom, name) VALUES (ST_SetSRID(ST_MakePoint(561000, 1757000), 5899), 'x') RETURNING fid",
    )
    .fetch_one(pg.pool())
    .await
    .unwrap();
    let max: i64 = sqlx::query_scalar("SELECT max(fid) FROM geoplan.pois WHERE fid <> $1")
        .bind(next)
        .fetch_one(pg.pool())
        .await
        .unwrap();
    assert_eq!(next, max + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgis_write_failing_at_its_last_operation_changes_no_table() {
    let (_db, pg) = postgis("wfst_fail").await;
    let store = Store::Postgis(pg.clone());
    a_failing_write_changes_nothing(&store).await;
    // A constraint of the table (the cadastral key is unique) refuses the
    // last insert inside the transaction: the earlier ones roll back too.
    let before = fingerprint(&store).await;
    let parcels = store.read_layer("parcels").await.unwrap();
    let row = parcels.row(0);
    let key: Vec<(String, Value)> = ["commune_code", "sheet_number", "parcel_number"]
        .iter()
        .map(|f| (f.to_string(), value(&parcels, &row, f).clone()))
        .collect();
    let fresh = NewFeature {
        geometry: Some(square(561_000.0, 1_757_000.0, 10.0)),
        values: vec![
            ("commune_code".into(), text("99999")),
            ("sheet_number".into(), Value::Int(1)),
            ("parcel_number".into(), Value::Int(1)),
        ],
    };
    let dup = NewFeature {
        geometry: Some(square(561_000.0, 1_757_000.0, 10.0)),
        values: key,
    };
    let e = store
        .write(&one(
            "parcels",
            Edit {
                inserts: vec![fresh, dup],
                ..Edit::default()
            },
        ))
        .await
        .unwrap_err();
    assert!(
        matches!(&e, StoreError::Invalid(m) if m.contains("parcels_cadastral_key")),
        "{e}"
    );
    // A number out of an int4 column's range is the database's refusal too.
    let e = store
        .write(&one(
            "parcels",
            Edit {
                updates: vec![FeatureUpdate {
                    fid: parcels.fids[1],
                    geometry: None,
                    values: vec![("sheet_number".into(), Value::Int(1 << 40))],
                }],
                ..Edit::default()
            },
        ))
        .await
        .unwrap_err();
    assert!(e.is_client_error(), "{e}");
    assert_eq!(fingerprint(&store).await, before);
}

// ------------------------------------------------------------ AppState

async fn get(state: &AppState, uri: &str) -> (StatusCode, serde_json::Value) {
    let res = app(state.clone())
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null),
    )
}

async fn tile_bytes(state: &AppState, c: TileCoord) -> Vec<u8> {
    let res = app(state.clone())
        .oneshot(
            Request::get(format!("/tiles/parcels/{}/{}/{}.mvt", c.z, c.x, c.y))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    res.into_body().collect().await.unwrap().to_bytes().to_vec()
}

/// The z16 tile holding a point given in EPSG:5899.
fn tile_at(c: Coord<f64>) -> TileCoord {
    let p = geoplan::crs::transform_one(
        geoplan::crs::Crs::Epsg(5899),
        geoplan::crs::Crs::Epsg(3857),
        c,
    )
    .unwrap();
    let (xs, ys) = TileCoord::range(16, &geo_types::Rect::new(p, p));
    TileCoord::new(16, *xs.start(), *ys.start(), 22).unwrap()
}

/// The land-use code of parcel `fid` in a tile, if the parcel is there.
fn code_in(bytes: &[u8], c: TileCoord, fid: i64) -> Option<String> {
    if bytes.is_empty() {
        return None;
    }
    common::decode(bytes, c)
        .get("parcels")?
        .iter()
        .find(|f| f.id == fid)
        .map(|f| f.attrs["land_use_code"].clone())
}

fn editable_config() -> Config {
    let mut cfg = Config::default();
    cfg.ogc.editable = vec!["parcels".into()];
    cfg
}

/// Edits parcel `row` of `parcels` through `commit` and checks, with no
/// waiting, that the feature API and the (cached) tile show each edit.
/// Land-use statistics of the whole layer on 30 June 2025: all parcels, and
/// parcels per land-use code (summed over the provinces).
async fn landuse_counts(state: &AppState) -> (u64, std::collections::HashMap<String, u64>) {
    let (s, v) = get(state, "/stats/landuse?level=province&as_of=2025-06-30").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let mut by_code = std::collections::HashMap::new();
    for r in v["rows"].as_array().unwrap() {
        *by_code
            .entry(r["land_use"].as_str().unwrap().to_owned())
            .or_insert(0) += r["parcels"].as_u64().unwrap();
    }
    (v["layer_total"]["parcels"].as_u64().unwrap(), by_code)
}

async fn commits_show_at_once(state: &AppState, parcels: &LayerData, row: usize) {
    let fid = parcels.fids[row];
    let (total, counts) = landuse_counts(state).await;
    let at = parcels.geometry.coords_of(row)[0];
    let here = tile_at(at);
    let before = tile_bytes(state, here).await;
    let old = code_in(&before, here, fid).expect("the parcel is in its tile");
    assert_ne!(old, "TMD");
    assert!(
        state
            .tiles
            .cache
            .get(&geoplan::tiles::cache::TileKey {
                layers: "parcels".into(),
                coord: here
            })
            .is_some(),
        "the tile is cached before the edit"
    );

    // Update: the attribute shows in the feature API and the tile.
    let r = state
        .commit(&one(
            "parcels",
            Edit {
                updates: vec![FeatureUpdate {
                    fid,
                    geometry: None,
                    values: vec![
                        ("land_use_code".into(), text("TMD")),
                        ("address".into(), text(ADDRESS)),
                    ],
                }],
                ..Edit::default()
            },
        ))
        .await
        .unwrap();
    assert_eq!(r.layers[0].updated, vec![fid]);
    let (s, j) = get(state, &format!("/layers/parcels/features/{fid}")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(j["properties"]["land_use_code"], "TMD");
    assert_eq!(j["properties"]["address"], ADDRESS);
    assert_eq!(
        code_in(&tile_bytes(state, here).await, here, fid).as_deref(),
        Some("TMD")
    );
    // Statistics count the parcel under its new code only (the edited row
    // lives in the delta, its base row is hidden).
    let (after, by_code) = landuse_counts(state).await;
    assert_eq!(after, total);
    let n = |m: &std::collections::HashMap<String, u64>, c: &str| m.get(c).copied().unwrap_or(0);
    assert_eq!(n(&by_code, &old), n(&counts, &old) - 1, "{old}");
    assert_eq!(n(&by_code, "TMD"), n(&counts, "TMD") + 1);

    // Insert: a new parcel beside it is found by a point query and drawn.
    let (x, y) = (at.x + 3.0, at.y + 3.0);
    let r = state
        .commit(&one(
            "parcels",
            Edit {
                inserts: vec![NewFeature {
                    geometry: Some(square(x, y, 4.0)),
                    values: vec![
                        ("commune_code".into(), text("99999")),
                        ("sheet_number".into(), Value::Int(1)),
                        ("parcel_number".into(), Value::Int(1)),
                        ("land_use_code".into(), text("DGT")),
                    ],
                }],
                ..Edit::default()
            },
        ))
        .await
        .unwrap();
    let new = r.layers[0].inserted[0];
    let (s, j) = get(state, &format!("/layers/parcels/features/{new}")).await;
    assert_eq!(s, StatusCode::OK, "{j}");
    assert_eq!(j["properties"]["land_use_code"], "DGT");
    let new_tile = tile_at(Coord { x, y });
    assert_eq!(
        code_in(&tile_bytes(state, new_tile).await, new_tile, new).as_deref(),
        Some("DGT")
    );

    // Delete: gone from the API and from the tile.
    state
        .commit(&one(
            "parcels",
            Edit {
                deletes: vec![fid],
                ..Edit::default()
            },
        ))
        .await
        .unwrap();
    let (s, _) = get(state, &format!("/layers/parcels/features/{fid}")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(code_in(&tile_bytes(state, here).await, here, fid), None);
    let (_, j) = get(state, "/layers/parcels").await;
    assert_eq!(j["feature_count"].as_u64().unwrap() as usize, parcels.len());
    // One parcel added, one removed: the inserted one (of a commune no unit
    // knows) is in the layer total, the deleted one nowhere.
    let (after, by_code) = landuse_counts(state).await;
    assert_eq!(after, total);
    assert_eq!(n(&by_code, "TMD"), n(&counts, "TMD"));
    assert_eq!(n(&by_code, &old), n(&counts, &old) - 1, "{old}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_to_a_geopackage_shows_in_the_engine_and_tiles_at_once() {
    let (_dir, store) = gpkg_copy();
    let parcels = store.read_layer("parcels").await.unwrap();
    let state = AppState::new(store, editable_config());
    state.load_all().await.unwrap();
    commits_show_at_once(&state, &parcels, parcels.len() / 3).await;
    // What the engine shows is what the file holds.
    let row = parcels.len() / 3 + 1;
    let fid = parcels.fids[row];
    state
        .commit(&one(
            "parcels",
            Edit {
                updates: vec![FeatureUpdate {
                    fid,
                    geometry: None,
                    values: vec![("legal_area".into(), Value::Int(123))],
                }],
                ..Edit::default()
            },
        ))
        .await
        .unwrap();
    let stored = state
        .data
        .store
        .read_features("parcels", &[fid])
        .await
        .unwrap();
    assert_eq!(
        value(&parcels, &stored[0], "legal_area"),
        &Value::Real(123.0)
    );
    let (_, j) = get(&state, &format!("/layers/parcels/features/{fid}")).await;
    assert_eq!(j["properties"]["legal_area"], 123.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn layers_not_listed_as_editable_are_refused_and_a_failed_commit_changes_nothing() {
    let (_dir, store) = gpkg_copy();
    let state = AppState::new(store, editable_config());
    state.load_all().await.unwrap();
    let before = fingerprint(&state.data.store).await;
    let version = state.data.engine.snapshot().version;
    let poi = NewFeature {
        geometry: Some(Geometry::Point(point!(x: 561_000.0, y: 1_757_000.0))),
        values: vec![],
    };
    // pois is published but not editable; parcels is editable. Nothing of
    // the write happens, not even its parcels part.
    let p = state
        .data
        .engine
        .snapshot()
        .layer("parcels")
        .unwrap()
        .data(geoplan::engine::Part::Base)
        .fids[0];
    let edits = vec![
        LayerEdit {
            layer: "parcels".into(),
            edit: Edit {
                deletes: vec![p],
                ..Edit::default()
            },
        },
        LayerEdit {
            layer: "pois".into(),
            edit: Edit {
                inserts: vec![poi],
                ..Edit::default()
            },
        },
    ];
    let e = state.commit(&edits).await.unwrap_err();
    assert!(
        matches!(&e, CommitError::NotEditable(l) if l == "pois"),
        "{e}"
    );
    assert!(e.is_client_error());
    // An unpublished layer is not editable even when listed.
    let mut cfg = editable_config();
    cfg.ogc.editable.push("roads".into());
    cfg.layers.entry("roads".into()).or_default().publish = Some(false);
    let hidden = AppState::new(gpkg_copy().1, cfg);
    assert!(!hidden.data.editable("roads") && hidden.data.editable("parcels"));
    // A store error: nothing written, the engine untouched.
    let e = state
        .commit(&one(
            "parcels",
            Edit {
                deletes: vec![p, 987_654_321],
                ..Edit::default()
            },
        ))
        .await
        .unwrap_err();
    assert!(
        matches!(
            &e,
            CommitError::Store(StoreError::NoSuchFeature {
                fid: 987_654_321,
                ..
            })
        ),
        "{e}"
    );
    assert!(e.is_client_error());
    assert_eq!(fingerprint(&state.data.store).await, before);
    assert_eq!(state.data.engine.snapshot().version, version);
    let (s, _) = get(&state, &format!("/layers/parcels/features/{p}")).await;
    assert_eq!(s, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_to_postgis_shows_at_once_and_the_notify_after_it_is_harmless() {
    let (_db, pg) = postgis("wfst_commit").await;
    let state = AppState::new(Store::Postgis(pg.clone()), editable_config());
    state.spawn_change_listener().await.unwrap();
    state.load_all().await.unwrap();
    let parcels = state.data.store.read_layer("parcels").await.unwrap();
    commits_show_at_once(&state, &parcels, parcels.len() / 2).await;

    // The NOTIFYs of those commits are queued before this SQL edit's, so
    // once this one shows, they have all been applied again.
    let (other, kept) = (parcels.fids[7], parcels.fids[parcels.len() / 2 + 1]);
    state
        .commit(&one(
            "parcels",
            Edit {
                updates: vec![FeatureUpdate {
                    fid: kept,
                    geometry: None,
                    values: vec![("address".into(), text(ADDRESS))],
                }],
                ..Edit::default()
            },
        ))
        .await
        .unwrap();
    sqlx::query("UPDATE geoplan.parcels SET land_use_code = 'SKC' WHERE fid = $1")
        .bind(other)
        .execute(pg.pool())
        .await
        .unwrap();
    let t = Instant::now();
    loop {
        let (_, j) = get(&state, &format!("/layers/parcels/features/{other}")).await;
        if j["properties"]["land_use_code"] == "SKC" {
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "the SQL edit never showed"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (_, j) = get(&state, &format!("/layers/parcels/features/{kept}")).await;
    assert_eq!(j["properties"]["address"], ADDRESS);
    let (_, j) = get(&state, "/layers/parcels").await;
    assert_eq!(j["feature_count"].as_u64().unwrap() as usize, parcels.len());
    let engine = state.data.engine.snapshot();
    let l = engine.layer("parcels").unwrap();
    assert_eq!(
        l.len(),
        state.data.store.read_layer("parcels").await.unwrap().len()
    );
}

// ------------------------------------------------------------ auth

/// Runs `geoplan hash-password [args]` with `stdin`; returns stdout.
fn hash_cli(args: &[&str], stdin: &str) -> String {
    use std::io::Write;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_geoplan"))
        .arg("hash-password")
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

fn basic(user: &str, password: &str) -> HeaderMap {
    use base64::Engine as _;
    let v = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    authorization(&format!("Basic {v}"))
}

fn authorization(v: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(header::AUTHORIZATION, HeaderValue::from_str(v).unwrap());
    h
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn editors_authenticate_with_hashes_from_hash_password_and_every_failure_is_the_same_401() {
    let password = "Mật khẩu: đủ dài 2025";
    let hash = hash_cli(&[], &format!("{password}\n"));
    let hash = hash.trim();
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    assert!(!hash.contains(password));
    let key_out = hash_cli(&["--new-api-key"], "");
    let key = key_out
        .lines()
        .find_map(|l| l.strip_prefix("key:"))
        .unwrap()
        .trim()
        .to_owned();
    let key_hash = key_out
        .lines()
        .find_map(|l| l.strip_prefix("hash:"))
        .unwrap()
        .trim()
        .to_owned();
    assert_eq!(
        hash_cli(&["--api-key"], &format!("{key}\n")).trim(),
        key_hash
    );

    let mut cfg = editable_config();
    cfg.ogc.users.insert("nguyen.lan".into(), hash.to_owned());
    cfg.ogc.api_keys.insert("qgis-sync".into(), key_hash);
    let state = AppState::new(gpkg_copy().1, cfg.clone());

    let ok = auth::require_editor(&state.auth, &basic("nguyen.lan", password))
        .await
        .unwrap();
    assert_eq!(
        (ok.name.as_str(), ok.method),
        ("nguyen.lan", AuthMethod::Basic)
    );
    let ok = auth::require_editor(&state.auth, &authorization(&format!("Bearer {key}")))
        .await
        .unwrap();
    assert_eq!(
        (ok.name.as_str(), ok.method),
        ("qgis-sync", AuthMethod::ApiKey)
    );
    let ok = auth::require_editor(&state.auth, &authorization(&format!("bearer {key}"))).await;
    assert!(ok.is_ok(), "scheme names are case-insensitive");

    let cases: Vec<(&str, HeaderMap, AuthFailure)> = vec![
        (
            "wrong password",
            basic("nguyen.lan", "Mat khau: du dai 2025"),
            AuthFailure::Rejected,
        ),
        (
            "unknown user",
            basic("minh", password),
            AuthFailure::Rejected,
        ),
        (
            "password as key",
            authorization(&format!("Bearer {key}x")),
            AuthFailure::Rejected,
        ),
        (
            "key hash as key",
            authorization("Bearer sha256"),
            AuthFailure::Rejected,
        ),
        ("no header", HeaderMap::new(), AuthFailure::Missing),
        (
            "not base64",
            authorization("Basic ***"),
            AuthFailure::Malformed,
        ),
        (
            "no colon",
            authorization("Basic bGFu"),
            AuthFailure::Malformed,
        ),
        (
            "other scheme",
            authorization("Digest username=\"lan\""),
            AuthFailure::Malformed,
        ),
    ];
    let mut bodies = std::collections::BTreeSet::new();
    for (case, headers, failure) in cases {
        let e = auth::require_editor(&state.auth, &headers)
            .await
            .unwrap_err();
        assert_eq!(e.failure, failure, "{case}");
        let res = e.into_response();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{case}");
        assert_eq!(
            res.headers()[header::WWW_AUTHENTICATE],
            "Basic realm=\"geoplan\", charset=\"UTF-8\"",
            "{case}"
        );
        let body = res.into_body().collect().await.unwrap().to_bytes();
        bodies.insert(body.to_vec());
    }
    assert_eq!(bodies.len(), 1, "every failure answers the same body");
    let body = String::from_utf8(bodies.into_iter().next().unwrap()).unwrap();
    assert!(
        !body.contains("nguyen") && !body.contains("minh") && !body.contains(password),
        "{body}"
    );

    // As an extractor: a handler taking an Editor runs only for editors.
    let router = axum::Router::new()
        .route(
            "/edit",
            axum::routing::post(|e: auth::Editor| async move { e.name }),
        )
        .with_state(state.clone());
    let call = |h: Option<String>| {
        let mut r = Request::post("/edit");
        if let Some(h) = h {
            r = r.header(header::AUTHORIZATION, h);
        }
        router.clone().oneshot(r.body(Body::empty()).unwrap())
    };
    let res = call(Some(format!("Bearer {key}"))).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let body = res.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(&body[..], b"qgis-sync");
    for h in [None, Some("Bearer nope".to_owned())] {
        let res = call(h).await.unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        assert!(res.headers().contains_key(header::WWW_AUTHENTICATE));
    }

    // No users and no keys: no one edits.
    let nobody = AppState::new(gpkg_copy().1, editable_config());
    assert!(
        auth::require_editor(&nobody.auth, &basic("nguyen.lan", password))
            .await
            .is_err()
    );

    // Hashes that could never match are refused at start-up, by name.
    let mut bad = cfg.ogc.clone();
    bad.users.insert("tuan".into(), password.into());
    let e = Auth::from_config(&bad).unwrap_err();
    assert!(
        e.to_string().contains("tuan") && !e.to_string().contains(password),
        "{e}"
    );
    let mut bad = cfg.ogc.clone();
    bad.api_keys.insert("old".into(), "md5:abc".into());
    assert!(Auth::from_config(&bad)
        .unwrap_err()
        .to_string()
        .contains("old"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_commits_all_land_in_the_store_and_the_engine() {
    let (_dir, store) = gpkg_copy();
    let parcels = store.read_layer("parcels").await.unwrap();
    // Certificate numbers are read back through the public API below:
    // here no parcel field is sensitive (tests/roles.rs covers privacy).
    let mut config = editable_config();
    config.layers.entry("parcels".into()).or_default().sensitive = Some(Vec::new());
    let state = AppState::new(store, config);
    state.load_all().await.unwrap();
    // Each commit re-reads its fids and swaps in a layer built from the
    // snapshot it saw: unserialised, a later swap would drop an earlier
    // edit from the engine.
    let fids: Vec<i64> = (0..12).map(|i| parcels.fids[100 + 37 * i]).collect();
    let tasks: Vec<_> = fids
        .iter()
        .map(|&fid| {
            let state = state.clone();
            tokio::spawn(async move {
                state
                    .commit(&one(
                        "parcels",
                        Edit {
                            updates: vec![FeatureUpdate {
                                fid,
                                geometry: None,
                                values: vec![(
                                    "certificate_number".into(),
                                    text(&format!("CS-{fid}")),
                                )],
                            }],
                            ..Edit::default()
                        },
                    ))
                    .await
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let stored = state
        .data
        .store
        .read_features("parcels", &fids)
        .await
        .unwrap();
    for (fid, row) in fids.iter().zip(&stored) {
        let want = format!("CS-{fid}");
        assert_eq!(value(&parcels, row, "certificate_number"), &text(&want));
        let (_, j) = get(&state, &format!("/layers/parcels/features/{fid}")).await;
        assert_eq!(
            j["properties"]["certificate_number"],
            want.as_str(),
            "fid {fid}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_whose_request_is_dropped_halfway_still_reaches_the_engine() {
    let (_dir, store) = gpkg_copy();
    let parcels = store.read_layer("parcels").await.unwrap();
    let state = AppState::new(store, editable_config());
    state.load_all().await.unwrap();
    let fid = parcels.fids[42];
    let edit = one(
        "parcels",
        Edit {
            updates: vec![FeatureUpdate {
                fid,
                geometry: None,
                values: vec![("land_use_code".into(), text("TON"))],
            }],
            ..Edit::default()
        },
    );
    // Polled once, then dropped, as when a client hangs up mid-request.
    let dropped = tokio::time::timeout(Duration::from_micros(1), state.commit(&edit)).await;
    assert!(dropped.is_err(), "the commit finished within a microsecond");
    let t = Instant::now();
    loop {
        let (_, j) = get(&state, &format!("/layers/parcels/features/{fid}")).await;
        if j["properties"]["land_use_code"] == "TON" {
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "the committed edit never reached the engine"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let stored = state
        .data
        .store
        .read_features("parcels", &[fid])
        .await
        .unwrap();
    assert_eq!(value(&parcels, &stored[0], "land_use_code"), &text("TON"));
}
