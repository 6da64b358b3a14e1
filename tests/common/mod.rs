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

/// Server state over a copy of the sample, loaded once per test binary:
/// what a test stores (checks, sheets) never reaches the committed file.
pub async fn shared_sample() -> &'static geoplan::http::AppState {
    // Over a copy: a request that stores something (a check, a sheet) must
    // never write into the committed sample.
    static STATE: tokio::sync::OnceCell<(tempfile::TempDir, geoplan::http::AppState)> =
        tokio::sync::OnceCell::const_new();
    let (_, s) = STATE
        .get_or_init(|| sample_copy(geoplan::config::Config::default()))
        .await;
    s
}

/// The official OGC/W3C schemas (`../shared/data/ogc-schemas` beside the
/// repository, or `GEOPLAN_OGC_SCHEMAS`). Panics, never skips, when absent.
pub fn ogc_schemas() -> PathBuf {
    let p = std::env::var_os("GEOPLAN_OGC_SCHEMAS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data/ogc-schemas")
        });
    assert!(
        p.join("gml/3.2.1/gml.xsd").exists(),
        "the OGC schemas are missing at {} (set GEOPLAN_OGC_SCHEMAS)",
        p.display()
    );
    p.canonicalize().unwrap()
}

/// A copy of [`ogc_schemas`] whose `http://schemas.opengis.net/…` and W3C
/// schema locations point into the copy itself (`file://`), made once per
/// test binary. Not an XML catalogue: libxml2 then sees a schema reached
/// through a rewritten URL and again through a relative include under two
/// names and loads it twice (filter 1.1.0 includes itself via
/// filterAll.xsd); with one spelling every schema loads once.
fn offline_schemas() -> &'static str {
    static COPY: std::sync::OnceLock<(tempfile::TempDir, String)> = std::sync::OnceLock::new();
    &COPY
        .get_or_init(|| {
            let src = ogc_schemas();
            let dir = tempfile::tempdir().unwrap();
            let base = format!("file://{}/", dir.path().display());
            fn copy(from: &std::path::Path, to: &std::path::Path, base: &str) {
                std::fs::create_dir_all(to).unwrap();
                for e in std::fs::read_dir(from).unwrap() {
                    let p = e.unwrap().path();
                    let t = to.join(p.file_name().unwrap());
                    if p.is_dir() {
                        copy(&p, &t, base);
                    } else if p.extension().is_some_and(|x| x == "xsd") {
                        let text = std::fs::read_to_string(&p).unwrap();
                        std::fs::write(&t, rewrite_locations(&text, base)).unwrap();
                    }
                }
            }
            copy(&src, dir.path(), &base);
            (dir, base)
        })
        .1
}

fn rewrite_locations(text: &str, base: &str) -> String {
    text.replace("http://schemas.opengis.net/", base)
        .replace(
            "http://www.w3.org/1999/xlink.xsd",
            &format!("{base}w3c/xlink.xsd"),
        )
        .replace(
            "http://www.w3.org/2001/xml.xsd",
            &format!("{base}w3c/xml.xsd"),
        )
}

/// Validates `doc` with xmllint (libxml2-utils, `scripts/deps.sh test`)
/// against the schemas of `imports` (namespace → schema location: an
/// `http://schemas.opengis.net/…` URL, read offline from a copy of
/// [`ogc_schemas`], or the text of a schema, such as a DescribeFeatureType
/// answer). Never touches the network (`--nonet`); returns xmllint's
/// complaints, empty when the document is valid.
pub fn xml_schema_errors(doc: &str, imports: &[(&str, &str)]) -> String {
    let base = offline_schemas();
    let dir = tempfile::tempdir().unwrap();
    let mut wrapper = String::from(
        r#"<?xml version="1.0"?>
<xsd:schema xmlns:xsd="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:geoplan:test:validation">
"#,
    );
    for (i, (ns, loc)) in imports.iter().enumerate() {
        let loc = if loc.trim_start().starts_with('<') {
            let p = dir.path().join(format!("schema{i}.xsd"));
            std::fs::write(&p, rewrite_locations(loc, base)).unwrap();
            format!("file://{}", p.display())
        } else {
            rewrite_locations(loc, base)
        };
        wrapper.push_str(&format!(
            "  <xsd:import namespace=\"{ns}\" schemaLocation=\"{loc}\"/>\n"
        ));
    }
    wrapper.push_str("</xsd:schema>\n");
    let xsd = dir.path().join("wrapper.xsd");
    std::fs::write(&xsd, wrapper).unwrap();
    let file = dir.path().join("doc.xml");
    std::fs::write(&file, doc).unwrap();
    let out = std::process::Command::new("xmllint")
        .args(["--nonet", "--noout", "--schema"])
        .arg(&xsd)
        .arg(&file)
        .output()
        .expect("xmllint (libxml2-utils: `scripts/deps.sh test`) runs");
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    if out.status.success() {
        String::new()
    } else if err.trim().is_empty() {
        format!("xmllint failed with {}", out.status)
    } else {
        err
    }
}

/// Panics with xmllint's complaints unless `doc` is valid (see
/// [`xml_schema_errors`]); `what` names the document in the message.
pub fn assert_schema_valid(what: &str, doc: &str, imports: &[(&str, &str)]) {
    let e = xml_schema_errors(doc, imports);
    assert!(
        e.is_empty(),
        "{what} is not schema-valid:\n{}\n--- document (start) ---\n{}",
        e.lines().take(30).collect::<Vec<_>>().join("\n"),
        &doc[..doc.len().min(3000)]
    );
}

/// Validates `doc` with xmllint against a DTD of [`ogc_schemas`] (`rel`,
/// e.g. `wms/1.1.1/WMS_MS_Capabilities.dtd`), offline; panics with
/// xmllint's complaints unless it is valid.
pub fn assert_dtd_valid(what: &str, doc: &str, rel: &str) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("doc.xml");
    std::fs::write(&file, doc).unwrap();
    let out = std::process::Command::new("xmllint")
        .args(["--nonet", "--noout", "--dtdvalid"])
        .arg(ogc_schemas().join(rel))
        .arg(&file)
        .output()
        .expect("xmllint (libxml2-utils: `scripts/deps.sh test`) runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{what} is not valid against {rel}:\n{}",
        err.lines().take(30).collect::<Vec<_>>().join("\n")
    );
}

/// A fresh PostgreSQL database on `GEOPLAN_TEST_PG` (which `make test`
/// provides; never skipped), dropped when the guard goes.
pub struct PgDb {
    /// Its name.
    pub name: String,
    /// Its URL.
    pub url: String,
}

impl PgDb {
    /// Creates `geoplan_test_{tag}_{pid}` afresh.
    pub async fn new(tag: &str) -> PgDb {
        let base = std::env::var("GEOPLAN_TEST_PG")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
        let name = format!("geoplan_test_{tag}_{}", std::process::id());
        let pool = sqlx::PgPool::connect(&format!("{base}/postgres"))
            .await
            .expect("PostgreSQL must be reachable (GEOPLAN_TEST_PG); make test starts one");
        for q in [
            format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            format!("CREATE DATABASE {name}"),
        ] {
            sqlx::query(&q).execute(&pool).await.unwrap();
        }
        PgDb {
            url: format!("{base}/{name}"),
            name,
        }
    }
}

impl Drop for PgDb {
    fn drop(&mut self) {
        let (name, url) = (self.name.clone(), self.url.clone());
        let admin = format!("{}/postgres", url.rsplit_once('/').map_or("", |p| p.0));
        // Best effort, on a thread of its own: Drop cannot await.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                if let Ok(pool) = sqlx::PgPool::connect(&admin).await {
                    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .execute(&pool)
                        .await;
                }
            })
        })
        .join();
    }
}
