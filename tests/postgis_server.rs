//! The server over a real PostGIS: the sample loaded with `load`, served
//! through the router, and edits made with plain SQL reaching the engine
//! through `LISTEN/NOTIFY` without a restart. Fails (never skips) when
//! PostgreSQL cannot be reached: `make test` provides one.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use geoplan::config::Config;
use geoplan::http::{app, AppState};
use geoplan::store::{gpkg::GpkgStore, postgis::PostgisStore, Store};
use geoplan::tiles::cache::TileKey;
use geoplan::tiles::TileCoord;
use http_body_util::BodyExt;
use serde_json::Value;
use std::time::{Duration, Instant};
use tower::ServiceExt;

const SAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/sample.gpkg");

/// A fresh database, dropped when the guard goes.
use common::PgDb as Db;

async fn get(state: &AppState, uri: &str) -> (StatusCode, Value) {
    let res = app(state.clone())
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

/// Polls until `ok` holds for the answer to `uri`, or panics after 10 s.
async fn eventually(
    state: &AppState,
    uri: &str,
    ok: impl Fn(StatusCode, &Value) -> bool,
) -> Duration {
    let t = Instant::now();
    loop {
        let (s, j) = get(state, uri).await;
        if ok(s, &j) {
            return t.elapsed();
        }
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "{uri} never changed: {s} {j}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sample_served_from_postgis_follows_sql_edits() {
    let db = Db::new("serve").await;
    let pg = PostgisStore::connect(&db.url).await.unwrap();
    pg.migrate().await.unwrap();
    let gpkg = GpkgStore::open(SAMPLE).unwrap();
    let layers: Vec<_> = ["parcels", "admin_units", "pois"]
        .iter()
        .map(|n| gpkg.read_layer(n).unwrap())
        .collect();
    let n_parcels = layers[0].len();
    pg.load(&layers, &|_| {}).await.unwrap();

    // This test reads certificate numbers through the public API: here
    // no parcel field is sensitive (tests/roles.rs covers privacy).
    let mut config = Config::default();
    config.layers.insert(
        "parcels".into(),
        geoplan::config::LayerConfig {
            sensitive: Some(Vec::new()),
            ..Default::default()
        },
    );
    let state = AppState::new(Store::Postgis(pg.clone()), config);
    state.spawn_change_listener().await.unwrap();
    state.load_all().await.unwrap();
    let (s, j) = get(&state, "/ready").await;
    assert_eq!(s, StatusCode::OK, "{j}");
    assert_eq!(j["store"], "PostGIS");

    // Same data as the GeoPackage: count and one feature's attributes.
    let (_, j) = get(&state, "/layers/parcels").await;
    assert_eq!(j["feature_count"].as_u64().unwrap() as usize, n_parcels);
    let fid = layers[0].fids[n_parcels / 2];
    let (s, from_pg) = get(
        &state,
        &format!("/layers/parcels/features/{fid}?crs=EPSG:5899"),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let row = layers[0].row(n_parcels / 2);
    let addr = layers[0].field_index("address").unwrap();
    assert_eq!(
        from_pg["properties"]["address"].as_str(),
        row.values[addr].as_str()
    );

    // Edit with plain SQL, as QGIS or another service would.
    let pool = pg.pool();
    sqlx::query("UPDATE geoplan.parcels SET land_use_code = 'TMD', address = 'Số 1 đường Trần Phú, Phường Hải Châu' WHERE fid = $1")
        .bind(fid)
        .execute(pool)
        .await
        .unwrap();
    let uri = format!("/layers/parcels/features/{fid}");
    let took = eventually(&state, &uri, |_, j| {
        j["properties"]["land_use_code"] == "TMD"
    })
    .await;
    let (_, j) = get(&state, &uri).await;
    assert_eq!(
        j["properties"]["address"],
        "Số 1 đường Trần Phú, Phường Hải Châu"
    );
    println!("edit visible after {took:?}");

    // Move it 1 km east: the point query finds it at the new place only.
    sqlx::query("UPDATE geoplan.parcels SET geom = ST_Translate(geom, 1000, 0) WHERE fid = $1")
        .bind(fid)
        .execute(pool)
        .await
        .unwrap();
    let (x, y): (f64, f64) = sqlx::query_as(
        "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_Transform(ST_PointOnSurface(geom), 4326) p FROM geoplan.parcels WHERE fid = $1) s",
    )
    .bind(fid)
    .fetch_one(pool)
    .await
    .unwrap();
    let here = format!("/layers/parcels/features?point={x},{y}");
    eventually(&state, &here, |_, j| {
        j["features"]
            .as_array()
            .is_some_and(|a| a.iter().any(|f| f["id"] == fid))
    })
    .await;

    // Delete: gone, and the count drops by one.
    sqlx::query("DELETE FROM geoplan.parcels WHERE fid = $1")
        .bind(fid)
        .execute(pool)
        .await
        .unwrap();
    eventually(&state, &uri, |s, _| s == StatusCode::NOT_FOUND).await;
    let (_, j) = get(&state, "/layers/parcels").await;
    assert_eq!(j["feature_count"].as_u64().unwrap() as usize, n_parcels - 1);

    // A bulk change (> 1000 rows) reloads the layer as a whole.
    let changed = sqlx::query("UPDATE geoplan.parcels SET certificate_number = NULL WHERE fid IN (SELECT fid FROM geoplan.parcels ORDER BY fid LIMIT 1500)")
        .execute(pool)
        .await
        .unwrap()
        .rows_affected();
    assert_eq!(changed, 1500);
    // A parcel among those 1500 that had a certificate (the deleted one aside).
    let cert = layers[0].field_index("certificate_number").unwrap();
    let first = (0..1500)
        .find(|&r| {
            layers[0].fids[r] != fid
                && !layers[0].row(r).values[cert]
                    .as_str()
                    .unwrap_or("")
                    .is_empty()
        })
        .map(|r| layers[0].fids[r])
        .expect("some of the first 1500 parcels have a certificate");
    eventually(
        &state,
        &format!("/layers/parcels/features/{first}"),
        |_, j| j["properties"]["certificate_number"].is_null(),
    )
    .await;
    drop(db);
}

mod common;

async fn tile_bytes(state: &AppState, c: TileCoord) -> (StatusCode, Vec<u8>) {
    let res = app(state.clone())
        .oneshot(
            Request::get(format!("/tiles/parcels/{}/{}/{}.mvt", c.z, c.x, c.y))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    let status = res.status();
    (
        status,
        res.into_body().collect().await.unwrap().to_bytes().to_vec(),
    )
}

/// The z16 tile holding a point given in EPSG:5899.
fn tile_at(x: f64, y: f64) -> TileCoord {
    let p = geoplan::crs::transform_one(
        geoplan::crs::Crs::Epsg(5899),
        geoplan::crs::Crs::Epsg(3857),
        geo_types::Coord { x, y },
    )
    .unwrap();
    let (xs, ys) = TileCoord::range(16, &geo_types::Rect::new(p, p));
    TileCoord::new(16, *xs.start(), *ys.start(), 22).unwrap()
}

/// The land-use code of parcel `fid` in a decoded tile, if it is there.
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cached_tiles_in_memory_and_on_disk_follow_sql_edits_and_only_the_touched_ones_are_dropped()
{
    let db = Db::new("tiles").await;
    let pg = PostgisStore::connect(&db.url).await.unwrap();
    pg.migrate().await.unwrap();
    let parcels = GpkgStore::open(SAMPLE)
        .unwrap()
        .read_layer("parcels")
        .unwrap();
    pg.load(std::slice::from_ref(&parcels), &|_| {})
        .await
        .unwrap();
    let disk = tempfile::tempdir().unwrap();
    let mut cfg = Config::default();
    cfg.tiles.disk_cache = Some(disk.path().join("cache"));
    let state = AppState::new(Store::Postgis(pg.clone()), cfg);
    state.spawn_change_listener().await.unwrap();
    state.load_all().await.unwrap();
    let file = |c: TileCoord| {
        disk.path()
            .join(format!("cache/parcels/{}/{}/{}.mvt.gz", c.z, c.x, c.y))
    };

    let (row, far_row) = (parcels.len() / 3, 2 * parcels.len() / 3);
    let fid = parcels.fids[row];
    let first = |r: usize| parcels.geometry.coords_of(r)[0];
    let here = tile_at(first(row).x, first(row).y);
    let far = tile_at(first(far_row).x, first(far_row).y);
    assert_ne!(here, far);
    let (s, before) = tile_bytes(&state, here).await;
    assert_eq!(s, StatusCode::OK);
    let old_code = code_in(&before, here, fid).expect("the parcel is in its tile");
    assert_ne!(old_code, "TMD");
    tile_bytes(&state, far).await;
    let far_key = TileKey {
        layers: "parcels".into(),
        coord: far,
    };
    assert!(
        state.tiles.cache.get(&far_key).is_some(),
        "tiles are cached"
    );
    // The disk copies are written in the background.
    let t = Instant::now();
    while !(file(here).exists() && file(far).exists()) {
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "tiles never reached the disk cache"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // A tile evicted from memory is read back from disk: plant the far
    // tile's bytes in the near tile's file and the server answers with them.
    let (_, far_bytes) = tile_bytes(&state, far).await;
    std::fs::copy(file(far), file(here)).unwrap();
    state.tiles.cache.invalidate_layer("parcels");
    let (_, from_disk) = tile_bytes(&state, here).await;
    assert_eq!(
        from_disk, far_bytes,
        "the tile did not come from the disk cache"
    );
    std::fs::remove_file(file(here)).unwrap();
    state.tiles.cache.invalidate_layer("parcels");
    let (_, again) = tile_bytes(&state, here).await;
    assert_eq!(again, before);
    tile_bytes(&state, far).await;
    assert!(state.tiles.cache.get(&far_key).is_some());

    // An attribute edit in SQL: the cached tile is dropped and rebuilt.
    let pool = pg.pool();
    let t = Instant::now();
    sqlx::query("UPDATE geoplan.parcels SET land_use_code = 'TMD' WHERE fid = $1")
        .bind(fid)
        .execute(pool)
        .await
        .unwrap();
    loop {
        let (_, b) = tile_bytes(&state, here).await;
        if code_in(&b, here, fid).as_deref() == Some("TMD") {
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "the tile never showed the edit"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    println!("edited tile served after {:?}", t.elapsed());
    assert!(
        state.tiles.cache.get(&far_key).is_some(),
        "a tile far from the edit stayed cached"
    );
    assert!(file(far).exists(), "the far tile stayed on disk");
    let on_disk = std::fs::read(file(here)).ok();
    if let Some(gz) = on_disk {
        // Rewritten with the edit, or not yet rewritten: never the old tile.
        let t = geoplan::tiles::cache::Tile::from_gzip(gz);
        assert_eq!(code_in(&t.raw, here, fid).as_deref(), Some("TMD"));
    }

    // Move the parcel 2 km east: gone from its old tile, found in the new.
    sqlx::query("UPDATE geoplan.parcels SET geom = ST_Translate(geom, 2000, 0) WHERE fid = $1")
        .bind(fid)
        .execute(pool)
        .await
        .unwrap();
    let moved = tile_at(first(row).x + 2000.0, first(row).y);
    let t = Instant::now();
    loop {
        let (_, old) = tile_bytes(&state, here).await;
        let (_, new) = tile_bytes(&state, moved).await;
        if code_in(&old, here, fid).is_none() && code_in(&new, moved, fid).as_deref() == Some("TMD")
        {
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "the move never showed in tiles"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The planning answer served from PostGIS is the GeoPackage's answer, and
/// its overlaps are PostGIS's own `ST_Area(ST_Intersection(…))` in
/// EPSG:5899; an edit to a zoning lot in SQL reaches the next answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn planning_answers_from_postgis_match_the_geopackage_and_postgis_areas() {
    let db = Db::new("planning").await;
    let pg = PostgisStore::connect(&db.url).await.unwrap();
    pg.migrate().await.unwrap();
    let gpkg = GpkgStore::open(SAMPLE).unwrap();
    let names = [
        "parcels",
        "admin_units",
        "admin_lineage",
        "plans",
        "zoning_lots",
        "industrial_zones",
        "investment_projects",
    ];
    let layers: Vec<_> = names.iter().map(|n| gpkg.read_layer(n).unwrap()).collect();
    pg.load(&layers, &|_| {}).await.unwrap();
    let served = AppState::new(Store::Postgis(pg.clone()), Config::default());
    served.spawn_change_listener().await.unwrap();
    served.load_all().await.unwrap();
    let local = AppState::new(
        Store::Gpkg(GpkgStore::open(SAMPLE).unwrap()),
        Config::default(),
    );
    local.load_all().await.unwrap();

    let (st, v) = get(&served, "/parcels?commune=20398&sheet=1&limit=1000").await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let list = v["parcels"].as_array().unwrap();
    let fid = list[list.len() / 2]["fid"].as_i64().unwrap();
    let uri = format!("/planning?parcel={fid}&as_of=2026-06-01");
    let (st, mut from_pg) = get(&served, &uri).await;
    assert_eq!(st, StatusCode::OK, "{from_pg}");
    let (_, mut from_gpkg) = get(&local, &uri).await;
    for v in [&mut from_pg, &mut from_gpkg] {
        for s in v["sources"].as_array_mut().unwrap() {
            s.as_object_mut().unwrap().remove("published_at");
        }
    }
    assert_eq!(from_pg, from_gpkg, "the two stores answer alike");

    let pool = pg.pool();
    let lots = from_pg["zoning_lots"].as_array().unwrap();
    assert!(!lots.is_empty(), "{from_pg}");
    for l in lots {
        let lot = l["source"]["fid"].as_i64().unwrap();
        let (overlap, area): (f64, f64) = sqlx::query_as(
            "SELECT ST_Area(ST_Intersection(p.geom, z.geom)), ST_Area(z.geom) \
             FROM geoplan.parcels p, geoplan.zoning_lots z WHERE p.fid = $1 AND z.fid = $2",
        )
        .bind(fid)
        .bind(lot)
        .fetch_one(pool)
        .await
        .unwrap();
        assert!(
            (l["overlap_m2"].as_f64().unwrap() - overlap).abs() < 0.01,
            "{overlap} vs {l}"
        );
        assert!(
            (l["lot_area_m2"].as_f64().unwrap() - area).abs() < 0.01,
            "{area} vs {l}"
        );
    }
    let (parcel_area,): (f64,) =
        sqlx::query_as("SELECT ST_Area(geom) FROM geoplan.parcels WHERE fid = $1")
            .bind(fid)
            .fetch_one(pool)
            .await
            .unwrap();
    assert!((from_pg["subject"]["area_m2"].as_f64().unwrap() - parcel_area).abs() < 0.01);

    // A sheet issued from PostGIS is recorded there and its code resolves.
    let res = app(served.clone())
        .oneshot(
            Request::get(format!("/planning/sheet?parcel={fid}&as_of=2026-06-01"))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "application/pdf");
    let code = res.headers()["x-verification-code"]
        .to_str()
        .unwrap()
        .to_owned();
    let pdf = res.into_body().collect().await.unwrap().to_bytes();
    assert!(pdf.starts_with(b"%PDF-"));
    let (n,): (i64,) =
        sqlx::query_as("SELECT count(*) FROM geoplan.planning_records WHERE kind = 'sheet'")
            .fetch_one(pg.pool())
            .await
            .unwrap();
    assert_eq!(n, 1);
    let (st, v) = get(&served, &format!("/planning/sheet/verify/{code}")).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["intact"], true);
    assert_eq!(v["answer"]["zoning_lots"], from_pg["zoning_lots"]);

    // A check of the parcel drawn as a site, stored in PostGIS and read back.
    let ring: Vec<[f64; 2]> = layers[0]
        .geometry_of(layers[0].row_of(fid).unwrap())
        .and_then(|g| match g {
            geo_types::Geometry::Polygon(p) => Some(p),
            _ => None,
        })
        .unwrap()
        .exterior()
        .0
        .iter()
        .map(|c| [c.x, c.y])
        .collect();
    let body = serde_json::json!({
        "site": {"type": "Polygon", "coordinates": [ring]},
        "crs": "EPSG:5899",
        "as_of": "2026-06-01",
        "proposal": {"use": "TMD", "floors": 3},
    });
    let res = app(served.clone())
        .oneshot(
            Request::post("/planning/check")
                .header("content-type", "application/json")
                .body(Body::from(body.to_string()))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let made: Value =
        serde_json::from_slice(&res.into_body().collect().await.unwrap().to_bytes()).unwrap();
    let lot_rules = made["result"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["rule"] == "lot.use")
        .count();
    assert_eq!(
        lot_rules,
        from_pg["zoning_lots"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|l| l["in_governing_plan"] == true)
            .count(),
        "{made}"
    );
    let (st, back) = get(
        &served,
        &format!("/planning/check/{}", made["id"].as_str().unwrap()),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{back}");
    assert_eq!(back["result"], made["result"]);
    assert_eq!(back["intact"], true);

    // Raise the lot's FAR in SQL: the next answer carries it.
    let lot = lots[0]["source"]["fid"].as_i64().unwrap();
    sqlx::query("UPDATE geoplan.zoning_lots SET far = 9.5 WHERE fid = $1")
        .bind(lot)
        .execute(pool)
        .await
        .unwrap();
    eventually(&served, &uri, |_, v| {
        v["zoning_lots"].as_array().is_some_and(|ls| {
            ls.iter()
                .any(|l| l["source"]["fid"] == lot && l["far"] == 9.5)
        })
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_project_transition_writes_the_project_and_one_history_row_in_postgis() {
    use axum::http::header;
    use base64::Engine as _;
    let db = Db::new("registry").await;
    let pg = PostgisStore::connect(&db.url).await.unwrap();
    pg.migrate().await.unwrap();
    let gpkg = GpkgStore::open(SAMPLE).unwrap();
    let layers: Vec<_> = [
        "investment_projects",
        "admin_units",
        "admin_lineage",
        "plans",
    ]
    .iter()
    .map(|n| gpkg.read_layer(n).unwrap())
    .collect();
    pg.load(&layers, &|_| {}).await.unwrap();
    pg.put_history(&gpkg.all_history().unwrap()).await.unwrap();
    let mut cfg = Config::default();
    cfg.ogc.editable = vec!["investment_projects".into()];
    let (user, password) = ("pham.minh", "Kêu gọi đầu tư 2026");
    cfg.ogc.users.insert(
        user.into(),
        geoplan::http::auth::hash_password(password).unwrap(),
    );
    let state = AppState::new(Store::Postgis(pg.clone()), cfg);
    state.spawn_change_listener().await.unwrap();
    state.load_all().await.unwrap();

    let (_, list) = get(&state, "/projects?status=investor_selected").await;
    let p = list["projects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["stage_date"].as_str().unwrap() < "2026-06-01")
        .expect("a project selected its investor before June 2026")
        .clone();
    let fid = p["fid"].as_i64().unwrap();
    let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
    let rows = |fid: i64| {
        let pool = pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>(
                "SELECT count(*) FROM geoplan.project_history WHERE project_fid = $1",
            )
            .bind(fid)
            .fetch_one(&pool)
            .await
            .unwrap()
        }
    };
    let before = rows(fid).await;
    assert!(before >= 3, "the loaded history: {before}");
    let post = |body: Value| {
        let state = state.clone();
        let auth = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
        );
        async move {
            let res = app(state)
                .oneshot(
                    Request::post(format!("/projects/{fid}/transitions"))
                        .header(header::CONTENT_TYPE, "application/json")
                        .header(header::AUTHORIZATION, auth)
                        .body(Body::from(body.to_string()))
                        .unwrap(),
                )
                .await
                .unwrap();
            let st = res.status();
            let b = res.into_body().collect().await.unwrap().to_bytes();
            (
                st,
                serde_json::from_slice::<Value>(&b).unwrap_or(Value::Null),
            )
        }
    };
    // Illegal: nothing written.
    let (st, v) = post(serde_json::json!({"to": "operating", "date": "2026-07-01"})).await;
    assert_eq!(st, StatusCode::CONFLICT, "{v}");
    assert_eq!(rows(fid).await, before);
    // Legal: the project and one history row, in the table and at once in the engine.
    let (st, v) = post(serde_json::json!({
        "to": "land_allocated", "date": "2026-07-01", "decision": "321/QĐ-UBND",
        "authority": "UBND thành phố Đà Nẵng"
    }))
    .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let (stage, decision): (Option<String>, Option<String>) = sqlx::query_as(
        "SELECT stage, approval_decision FROM geoplan.investment_projects WHERE fid = $1",
    )
    .bind(fid)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(stage.as_deref(), Some("land_allocated"));
    assert_eq!(decision.as_deref(), Some("321/QĐ-UBND"));
    assert_eq!(rows(fid).await, before + 1);
    let (_, f) = get(
        &state,
        &format!("/layers/investment_projects/features/{fid}"),
    )
    .await;
    assert_eq!(f["properties"]["stage"], "land_allocated");
    // Who recorded a step is for signed-in callers.
    let res = app(state.clone())
        .oneshot(
            Request::get(format!("/projects/{fid}/history"))
                .header(
                    header::AUTHORIZATION,
                    format!(
                        "Basic {}",
                        base64::engine::general_purpose::STANDARD
                            .encode(format!("{user}:{password}"))
                    ),
                )
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    let h: Value =
        serde_json::from_slice(&res.into_body().collect().await.unwrap().to_bytes()).unwrap();
    let last = h["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["user_name"], user);
    assert_eq!(last["from_stage"], "investor_selected");
    // The history is append-only in the database itself.
    let upd = sqlx::query("UPDATE geoplan.project_history SET note = 'x' WHERE project_fid = $1")
        .bind(fid)
        .execute(&pool)
        .await;
    assert!(upd.is_err(), "history rows cannot be changed");
    let del = sqlx::query("DELETE FROM geoplan.project_history WHERE project_fid = $1")
        .bind(fid)
        .execute(&pool)
        .await;
    assert!(del.is_err(), "history rows cannot be deleted");

    // A new project and its first step: one transaction in PostgreSQL.
    let (x, y) = (108.1405, 16.0705);
    let site = serde_json::json!({"type": "Polygon", "coordinates": [[[x, y], [x + 0.001, y], [x + 0.001, y + 0.001], [x, y + 0.001], [x, y]]]});
    let auth = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    );
    let res = app(state.clone())
        .oneshot(
            Request::post("/projects")
                .header(header::CONTENT_TYPE, "application/json")
                .header(header::AUTHORIZATION, auth)
                .body(Body::from(
                    serde_json::json!({"name": "Kho lạnh Hòa Khánh", "function": "Kho bãi – logistics", "site": site})
                        .to_string(),
                ))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let b = res.into_body().collect().await.unwrap().to_bytes();
    let v: Value = serde_json::from_slice(&b).unwrap();
    let new = v["project"]["fid"].as_i64().unwrap();
    assert_eq!(rows(new).await, 1, "{v}");
    let stage: Option<String> =
        sqlx::query_scalar("SELECT stage FROM geoplan.investment_projects WHERE fid = $1")
            .bind(new)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(stage.as_deref(), Some("proposed"));
}
