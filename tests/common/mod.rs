//! Helpers shared by the integration tests.

#![allow(dead_code)]

use geo_types::Geometry;
use geoplan::tiles::TileCoord;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// One decoded feature: id, attributes as text, geometry in EPSG:3857.
#[derive(Debug)]
pub struct Decoded {
    pub id: i64,
    pub attrs: BTreeMap<String, String>,
    pub geom: Geometry<f64>,
    pub valid: bool,
}

/// Decodes a tile with GDAL's MVT driver (it reads the tile address from
/// the z/x/y.pbf path) into features per layer.
pub fn decode(bytes: &[u8], c: TileCoord) -> BTreeMap<String, Vec<Decoded>> {
    let dir = tempfile::tempdir().unwrap();
    let path: PathBuf = dir
        .path()
        .join(c.z.to_string())
        .join(c.x.to_string())
        .join(format!("{}.pbf", c.y));
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, bytes).unwrap();
    let ds = gdal::Dataset::open(&path).expect("GDAL's MVT driver opens the tile");
    let mut out = BTreeMap::new();
    use gdal::vector::LayerAccess;
    for mut layer in ds.layers() {
        let names: Vec<String> = layer.defn().fields().map(|f| f.name()).collect();
        let mut feats = Vec::new();
        for f in layer.features() {
            let mut attrs = BTreeMap::new();
            let mut id = -1;
            for (i, n) in names.iter().enumerate() {
                if n == "mvt_id" {
                    id = f.field_as_integer64(i).unwrap().unwrap();
                } else if let Some(v) = f.field_as_string(i).unwrap() {
                    attrs.insert(n.clone(), v);
                }
            }
            let g = f.geometry().expect("every feature has a geometry");
            feats.push(Decoded {
                id,
                attrs,
                valid: g.is_valid(),
                geom: g.to_geo().unwrap(),
            });
        }
        feats.sort_by_key(|d| d.id);
        out.insert(layer.name(), feats);
    }
    out
}

/// Serves the committed sample (data/sample.gpkg) with `config` on a
/// loopback port; returns its address and state. The server runs until the
/// test's runtime ends (use a multi-thread runtime when a blocking client
/// talks to it).
pub async fn serve_sample(
    config: geoplan::config::Config,
) -> (std::net::SocketAddr, geoplan::http::AppState) {
    use geoplan::store::{gpkg::GpkgStore, Store};
    let root = env!("CARGO_MANIFEST_DIR");
    let s = geoplan::http::AppState::new(
        Store::Gpkg(GpkgStore::open(format!("{root}/data/sample.gpkg")).unwrap()),
        config,
    );
    s.load_all().await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = geoplan::http::app(s.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (addr, s)
}

/// Server state over a copy of the sample in a temporary directory (kept
/// alive by the returned guard), loaded; for tests that write.
pub async fn sample_copy(
    config: geoplan::config::Config,
) -> (tempfile::TempDir, geoplan::http::AppState) {
    use geoplan::store::{gpkg::GpkgStore, Store};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sample.gpkg");
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/data/sample.gpkg"),
        &path,
    )
    .unwrap();
    let s = geoplan::http::AppState::new(Store::Gpkg(GpkgStore::open(&path).unwrap()), config);
    s.load_all().await.unwrap();
    (dir, s)
}

/// As [`serve_sample`], over a copy of the sample in a temporary
/// directory (kept alive by the returned guard): for tests that write
/// (edits, issued sheets), so the committed file stays as it is.
pub async fn serve_copy(
    config: geoplan::config::Config,
) -> (
    std::net::SocketAddr,
    geoplan::http::AppState,
    tempfile::TempDir,
) {
    let (dir, s) = sample_copy(config).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = geoplan::http::app(s.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (addr, s, dir)
}

/// The Python with the pinned test clients (OWSLib): `GEOPLAN_TEST_PYTHON`
/// (set by `make test`), else `.venv/bin/python`. Panics, never skips, when
/// neither exists.
pub fn python() -> PathBuf {
    let p = std::env::var_os("GEOPLAN_TEST_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python"));
    assert!(
        p.exists(),
        "{} is missing: `make test` (scripts/deps.sh test) creates the venv with OWSLib",
        p.display()
    );
    p
}

/// Runs a Python client script from tests/clients with the server's base
/// URL as its first argument (then `args`); returns stdout, panicking with
/// both streams when the script fails.
pub fn run_client(script: &str, base: &str, args: &[&str]) -> String {
    let root = env!("CARGO_MANIFEST_DIR");
    let out = std::process::Command::new(python())
        .arg(format!("{root}/tests/clients/{script}"))
        .arg(base)
        .args(args)
        .output()
        .expect("the test python runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{script} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// Runs Schemathesis (pinned in tests/clients/requirements.txt) against the
/// OpenAPI document at `url`: every check but `positive_data_acceptance`
/// (it expects every schema-valid string to be a meaningful value, which
/// no schema type expresses), 5 examples per operation, fixed seed, plus
/// `extra` arguments, one worker. Panics with its report unless it finds
/// nothing.
pub async fn schemathesis(url: String, extra: &[&str]) {
    let st = python().parent().unwrap().join("st");
    assert!(
        st.exists(),
        "{} is missing: `make test` installs schemathesis from tests/clients/requirements.txt",
        st.display()
    );
    let extra: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
    let out = tokio::task::spawn_blocking(move || {
        // Schemathesis keeps state in its working directory.
        let dir = tempfile::tempdir().unwrap();
        std::process::Command::new(st)
            .current_dir(dir.path())
            .args([
                "run",
                &url,
                "--checks",
                "all",
                "--exclude-checks",
                "positive_data_acceptance",
                "--max-examples",
                "5",
                "--seed",
                "42",
                "--generation-database",
                "none",
                "--no-color",
                // One worker: with two threads, Python 3.11's `ast` (which
                // Hypothesis calls to describe its filters) now and then
                // fails with "AST constructor recursion depth mismatch"
                // (a thread-safety bug of CPython's ast module), an error of
                // the tool, not of the API.
                "-w",
                "1",
            ])
            .args(&extra)
            .output()
            .expect("schemathesis runs")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "schemathesis found problems:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("No issues found"), "{stdout}");
}

/// Server state over the committed sample, loaded once per test binary;
/// for tests that only read.
pub async fn shared_sample() -> &'static geoplan::http::AppState {
    use geoplan::store::{gpkg::GpkgStore, Store};
    static STATE: tokio::sync::OnceCell<geoplan::http::AppState> =
        tokio::sync::OnceCell::const_new();
    STATE
        .get_or_init(|| async {
            let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/sample.gpkg");
            let store = Store::Gpkg(GpkgStore::open(path).unwrap());
            let s = geoplan::http::AppState::new(store, geoplan::config::Config::default());
            s.load_all().await.unwrap();
            s
        })
        .await
}
