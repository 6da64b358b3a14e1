//! Real QGIS 3.22 (Debian's `python3-qgis`, headless) against geoplan:
//! WFS, OGC API – Features and WMS layers added with the dialogs' default
//! settings read every parcel and put it where the feature API says; then a
//! QGIS edit session over WFS-T (an editor's Basic credentials) changes a
//! parcel's Vietnamese address and moves it 1 m east, and the store and the
//! engine hold exactly that. `make test` installs QGIS; this test fails,
//! never skips, without it.

mod common;

use geo_types::Geometry;
use geoplan::config::Config;
use geoplan::crs::{self, Crs, WEB_MERCATOR};
use geoplan::http::{app, auth, AppState};
use geoplan::model::ValueRef;
use geoplan::store::{gpkg::GpkgStore, Store};

const USER: &str = "le.van.nam";
/// ASCII: QGIS 3.22 encodes Basic credentials as Latin-1, so a password
/// with Vietnamese letters never reaches a server intact from QGIS.
const PASSWORD: &str = "ban-do-quy-hoach-2025";

fn exterior_5899(
    state: &AppState,
    key: (&str, i64, i64),
) -> (i64, Vec<geo_types::Coord<f64>>, String) {
    let cat = state.data.engine.snapshot();
    let l = cat.layer("parcels").unwrap();
    let idx = |n: &str| l.fields().iter().position(|f| f.name == n).unwrap();
    let (cc, sh, pn, ad) = (
        idx("commune_code"),
        idx("sheet_number"),
        idx("parcel_number"),
        idx("address"),
    );
    let mut found = None;
    l.for_each_match(None, None, |r| {
        let data = l.data(r.part);
        let row = r.row as usize;
        let text = |c| match data.value(row, c) {
            ValueRef::Text(t) => t.to_string(),
            ValueRef::Int(i) => i.to_string(),
            other => format!("{other:?}"),
        };
        if text(cc) == key.0 && text(sh) == key.1.to_string() && text(pn) == key.2.to_string() {
            let g = data.geometry_of(row).unwrap();
            found = Some((r.fid, g, text(ad)));
        }
    });
    let (fid, g, address) = found.expect("the edited parcel is in the engine");
    let ring: Vec<_> = match g {
        Geometry::Polygon(p) => p.exterior().0.clone(),
        Geometry::MultiPolygon(mp) => mp.0[0].exterior().0.clone(),
        other => panic!("{other:?}"),
    };
    let mut ring = ring;
    crs::transform(WEB_MERCATOR, Crs::Epsg(5899), &mut ring).unwrap();
    (fid, ring, address)
}

/// One QGIS session against a fresh copy of the sample behind a fresh
/// server: the state it served and what the script printed.
struct Session {
    state: AppState,
    out: std::process::Output,
    // Kept alive until the checks are done.
    _dirs: (tempfile::TempDir, tempfile::TempDir),
}

async fn qgis_session() -> Session {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sample.gpkg");
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/data/sample.gpkg"),
        &path,
    )
    .unwrap();
    let mut cfg = Config::default();
    cfg.ogc.editable = vec!["parcels".into()];
    cfg.ogc
        .users
        .insert(USER.into(), auth::hash_password(PASSWORD).unwrap());
    let state = AppState::new(Store::Gpkg(GpkgStore::open(&path).unwrap()), cfg);
    state.load_all().await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = app(state.clone());
    tokio::spawn(async move { axum::serve(listener, router).await });

    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/clients/qgis_check.py");
    let base = format!("http://{addr}");
    let runtime = tempfile::tempdir().unwrap();
    let runtime_dir = runtime.path().to_owned();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new("/usr/bin/python3")
            .args([script, &base, USER, PASSWORD])
            .env("QT_QPA_PLATFORM", "offscreen")
            .env("XDG_RUNTIME_DIR", &runtime_dir)
            .env(
                "GEOPLAN_QGIS_OUT",
                concat!(env!("CARGO_MANIFEST_DIR"), "/target/qgis"),
            )
            .output()
            .expect("Debian's python3 runs (make test installs python3-qgis)")
    })
    .await
    .unwrap();
    Session {
        state,
        out,
        _dirs: (dir, runtime),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn qgis_reads_every_layer_in_place_and_saves_an_edit_without_moving_it_wrongly() {
    use std::os::unix::process::ExitStatusExt;
    let mut session = qgis_session().await;
    // QGIS 3.22 itself sometimes dies by a signal in its threaded WFS
    // downloader (once in CI, never in dozens of local runs). Such a death
    // is QGIS's, not an answer of geoplan's: it is reported and the whole
    // session is run once more, on a fresh copy, with every check again.
    // A failed check (a FAIL line or a non-zero exit) is never retried.
    if let Some(signal) = session.out.status.signal() {
        eprintln!(
            "QGIS died by signal {signal}; its output:\n{}\n{}\nrunning the session once more",
            String::from_utf8_lossy(&session.out.stdout),
            String::from_utf8_lossy(&session.out.stderr)
        );
        session = qgis_session().await;
    }
    let Session { state, out, .. } = session;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    println!("{stdout}");
    assert!(
        out.status.success() && !stdout.contains("FAIL"),
        "QGIS checks failed ({}; make test installs python3-qgis):\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    // What QGIS saved is in the engine (and so in the store, which the
    // engine re-read after the commit).
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("EDITED "))
        .expect("the script reports its edit");
    let mut parts = line.splitn(4, ' ');
    let commune = parts.next().unwrap().to_owned();
    let sheet: i64 = parts.next().unwrap().parse().unwrap();
    let parcel: i64 = parts.next().unwrap().parse().unwrap();
    let address = parts.next().unwrap().to_owned();
    let (fid, after, stored_address) = exterior_5899(&state, (&commune, sheet, parcel));
    assert_eq!(stored_address, address, "the Vietnamese address is intact");
    // The original outline, from the untouched sample.
    let orig = GpkgStore::open(concat!(env!("CARGO_MANIFEST_DIR"), "/data/sample.gpkg"))
        .unwrap()
        .read_features("parcels", &[fid])
        .unwrap();
    let before: Vec<_> = match orig[0].geometry.as_ref().unwrap() {
        Geometry::Polygon(p) => p.exterior().0.clone(),
        Geometry::MultiPolygon(mp) => mp.0[0].exterior().0.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(before.len(), after.len());
    for (a, b) in before.iter().zip(&after) {
        assert!(
            (b.x - a.x - 1.0).abs() < 0.001 && (b.y - a.y).abs() < 0.001,
            "parcel {fid} should be 1 m east of {a:?}, is at {b:?}"
        );
    }
}
