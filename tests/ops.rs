//! Running geoplan as a service (issue #12, operations): `geoplan
//! check-config` says what is wrong with a configuration before it is
//! served, a server told to stop (SIGTERM, as `systemctl stop` sends)
//! finishes the requests in flight before it exits, and `/metrics` counts
//! what it answered in the Prometheus format.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Runs `geoplan check-config` with `toml` as the configuration, from the
/// repository root (where the default web, styles and fonts paths point).
fn check_config(dir: &Path, toml: &str) -> (bool, String) {
    let path = dir.join("geoplan.toml");
    std::fs::write(&path, toml).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_geoplan"))
        .args(["--config", path.to_str().unwrap(), "check-config"])
        .current_dir(ROOT)
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn check_config_passes_a_good_configuration_and_names_each_problem_of_a_bad_one() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("tile-cache");
    let good = format!(
        "listen = \"127.0.0.1:8080\"\npublic_url = \"https://gis.danang.gov.vn/geoplan\"\n\
         [store]\ngpkg = \"{ROOT}/data/sample.gpkg\"\n\
         [tiles]\ndisk_cache = \"{}\"\n\
         [ogc]\neditable = [\"parcels\"]\n",
        cache.display()
    );
    let (ok, out) = check_config(dir.path(), &good);
    assert!(ok, "{out}");
    assert!(!out.contains("FAIL"), "{out}");
    for line in [
        "ok   listen address 127.0.0.1:8080",
        "ok   editable layer parcels is in the store",
        "layers",
        "planning.json",
        "maplibre-gl",
        "is writable",
        "configuration ok",
    ] {
        assert!(out.contains(line), "'{line}' in\n{out}");
    }

    let bad = format!(
        "listen = \"everywhere\"\npublic_url = \"ftp://gis\"\n\
         [store]\ngpkg = \"{}/missing.gpkg\"\n\
         [web]\ndir = \"{}/no-web\"\n\
         [ogc]\neditable = [\"parcels\"]\n[ogc.users]\n\"nguyen.van.an\" = \"not-a-hash\"\n",
        dir.path().display(),
        dir.path().display()
    );
    let (ok, out) = check_config(dir.path(), &bad);
    assert!(!ok, "{out}");
    for what in [
        "FAIL listen address 'everywhere'",
        "FAIL public_url ftp://gis",
        "FAIL [ogc] users / api_keys",
        "FAIL store",
        "missing.gpkg",
        "FAIL map page",
        "problems",
    ] {
        assert!(out.contains(what), "'{what}' in\n{out}");
    }
}

/// A WFS GetFeature of every parcel of the sample as GML, tens of MB: a
/// client that reads only its head keeps it in flight.
const EVERY_PARCEL: &str =
    "/wfs?SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=geoplan:parcels&COUNT=20000";

/// Sends `GET path` over a new connection and reads the response head
/// only (lower-cased); the body is left to read from the stream.
fn request_head(port: u16, path: &str) -> (TcpStream, String) {
    let mut conn = TcpStream::connect(("127.0.0.1", port)).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    write!(
        conn,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        conn.read_exact(&mut byte).unwrap();
        head.push(byte[0]);
    }
    (conn, String::from_utf8_lossy(&head).to_lowercase())
}

/// The rest of a response after its head.
fn rest(mut conn: TcpStream) -> String {
    let mut body = Vec::new();
    conn.read_to_end(&mut body).unwrap();
    String::from_utf8_lossy(&body).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_heavy_request_past_its_cap_waits_in_line_then_is_503_with_retry_after() {
    let mut cfg = geoplan::config::Config::default();
    cfg.limits.max_concurrent_wfs = 1;
    cfg.limits.heavy_wait_ms = 1500;
    let (_keep, state) = common::sample_copy(cfg).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let router = geoplan::http::app(state);
    tokio::spawn(async move { axum::serve(listener, router).await });
    tokio::task::spawn_blocking(move || {
        let caps = "/wfs?SERVICE=WFS&REQUEST=GetCapabilities";
        let (first, head) = request_head(port, EVERY_PARCEL);
        assert!(head.starts_with("http/1.1 200"), "{head}");
        // The one WFS permit is taken while the stream runs: the next
        // waits its 1.5 s in line, then is refused.
        let asked = std::time::Instant::now();
        let (conn, head) = request_head(port, caps);
        let waited = asked.elapsed();
        let body = rest(conn);
        assert!(head.starts_with("http/1.1 503"), "{head}");
        assert!(waited >= Duration::from_millis(1400), "{waited:?}");
        assert!(head.contains("retry-after: 5"), "{head}");
        assert!(body.contains("max_concurrent_wfs"), "{body}");
        // In the form WFS clients read: an OWS exception report.
        assert!(head.contains("content-type: application/xml"), "{head}");
        assert!(
            body.contains("<ows:ExceptionReport") && body.contains("OperationProcessingFailed"),
            "{body}"
        );
        // Another kind of request is not held up.
        let (conn, head) = request_head(port, "/wms?SERVICE=WMS&REQUEST=GetCapabilities");
        rest(conn);
        assert!(head.starts_with("http/1.1 200"), "{head}");
        // One asked while the stream runs, which ends within the wait, is
        // answered when it does.
        let queued = std::thread::spawn(move || {
            let (conn, head) = request_head(port, caps);
            rest(conn);
            head
        });
        std::thread::sleep(Duration::from_millis(300));
        assert!(!queued.is_finished(), "answered while the permit was taken");
        // The stream ends whole; then the one in line is answered.
        assert!(rest(first).contains("</wfs:FeatureCollection>"));
        let head = queued.join().unwrap();
        assert!(head.starts_with("http/1.1 200"), "{head}");
    })
    .await
    .unwrap();
}

/// `geoplan` serving a copy of the sample on a free port, started with
/// `global` arguments before `serve` and `extra` after it.
struct Served {
    child: std::process::Child,
    /// Its standard output after the "serving at" line.
    stdout: BufReader<std::process::ChildStdout>,
    /// The lines up to and with "serving at".
    startup: Vec<String>,
    port: u16,
    _dir: tempfile::TempDir,
}

fn serve(global: &[&str], extra: &[&str]) -> Served {
    let dir = tempfile::tempdir().unwrap();
    let gpkg = dir.path().join("sample.gpkg");
    std::fs::copy(format!("{ROOT}/data/sample.gpkg"), &gpkg).unwrap();
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut child = Command::new(env!("CARGO_BIN_EXE_geoplan"))
        .args(global)
        .args(["serve", "--gpkg", gpkg.to_str().unwrap()])
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .args(extra)
        .current_dir(ROOT)
        .env_remove("DATABASE_URL")
        .env_remove("GEOPLAN_CONFIG")
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    let mut startup = Vec::new();
    while !line.contains("serving at") {
        line.clear();
        assert!(
            stdout.read_line(&mut line).unwrap() > 0,
            "the server stopped before serving"
        );
        startup.push(line.clone());
    }
    Served {
        child,
        stdout,
        startup,
        port,
        _dir: dir,
    }
}

/// Sends SIGTERM, as `systemctl stop` does.
fn terminate(s: &Served) {
    let status = Command::new("kill")
        .args(["-TERM", &s.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn json_logs_name_each_request_by_its_id_and_the_id_comes_back() {
    let mut s = serve(&["--log-format", "json"], &["--access-log"]);
    let mut conn = TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    write!(
        conn,
        "GET /layers HTTP/1.1\r\nHost: localhost\r\nX-Request-Id: qgis-7\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mine = rest(conn).to_lowercase();
    assert!(mine.contains("x-request-id: qgis-7"), "{mine}");
    let (conn, head) = request_head(s.port, "/layers/nope");
    rest(conn);
    let given = head
        .lines()
        .find_map(|l| l.strip_prefix("x-request-id: "))
        .expect("an id is given to a request without one")
        .trim()
        .to_owned();
    terminate(&s);
    assert!(s.child.wait().unwrap().success());
    let mut out = String::new();
    s.stdout.read_to_string(&mut out).unwrap();
    // Every line is a JSON event, the start-up and stop lines too.
    for l in s.startup.iter().map(String::as_str).chain(out.lines()) {
        let e: serde_json::Value =
            serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}"));
        assert!(
            e["message"].is_string() || e["target"] == "geoplan::access",
            "{l}"
        );
    }
    assert!(
        s.startup.iter().any(|l| l.contains("\"serving at")),
        "{:?}",
        s.startup
    );
    assert!(out.contains("\"stopped\""), "{out}");
    let events: Vec<serde_json::Value> = out
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .filter(|e: &serde_json::Value| e["target"] == "geoplan::access")
        .collect();
    let of = |id: &str| {
        events
            .iter()
            .find(|e| e["span"]["request_id"] == id)
            .unwrap_or_else(|| panic!("an access line for {id} in\n{out}"))
            .clone()
    };
    let a = of("qgis-7");
    assert_eq!(a["status"], 200, "{a}");
    assert_eq!(a["span"]["uri"], "/layers", "{a}");
    let b = of(&given);
    assert_eq!(b["status"], 404, "{b}");
    assert!(b["ms"].as_f64().unwrap() >= 0.0, "{b}");
}

/// 10,000 clients that connect and send nothing (a crowd of idle
/// browsers, or a slow attack) hold 10,000 connections; a real request
/// still gets its answer, and the server stops cleanly after.
#[test]
fn ten_thousand_idle_connections_leave_room_for_a_real_request() {
    let mut s = serve(&[], &[]);
    let idle: Vec<TcpStream> = (0..10_000)
        .map(|i| {
            TcpStream::connect(("127.0.0.1", s.port))
                .unwrap_or_else(|e| panic!("idle connection {i}: {e}"))
        })
        .collect();
    let (conn, head) = request_head(s.port, "/layers");
    let body = rest(conn);
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(body.contains("parcels"), "{body}");
    drop(idle);
    terminate(&s);
    assert!(s.child.wait().unwrap().success());
}

/// A client that sends half a request line and stops (slowloris), or
/// nothing at all, is disconnected once `[limits] header_read_timeout_secs`
/// passes, instead of holding its connection for ever.
#[test]
fn clients_too_slow_with_their_headers_are_disconnected() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("geoplan.toml");
    std::fs::write(&cfg, "[limits]\nheader_read_timeout_secs = 1\n").unwrap();
    let mut s = serve(&["--config", cfg.to_str().unwrap()], &[]);
    let mut slow = TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    slow.write_all(b"GET /layers HTTP/1.1\r\nHost: loc")
        .unwrap();
    let silent = TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    for (what, mut conn) in [("half a request", slow), ("nothing", silent)] {
        // A read that times out (the server holding on) is an error; the
        // server closing the connection is the end of the stream.
        conn.set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        let mut buf = Vec::new();
        let end = conn.read_to_end(&mut buf);
        assert!(
            end.is_ok(),
            "a client that sent {what} is still connected: {end:?}"
        );
    }
    let (conn, head) = request_head(s.port, "/layers");
    rest(conn);
    assert!(head.starts_with("http/1.1 200"), "{head}");
    terminate(&s);
    assert!(s.child.wait().unwrap().success());
}

#[test]
fn sigterm_lets_the_request_in_flight_finish_then_the_server_exits() {
    let mut s = serve(&[], &[]);
    let port = s.port;
    // Every parcel as GML (tens of MB): read the head only, so that the
    // body is still being written when the server is told to stop.
    let (conn, head) = request_head(port, EVERY_PARCEL);
    assert!(head.starts_with("http/1.1 200"), "{head}");
    terminate(&s);
    std::thread::sleep(Duration::from_millis(500));
    let body = rest(conn);
    let tail = &body[body.len().saturating_sub(200)..];
    assert!(
        tail.contains("</wfs:FeatureCollection>"),
        "the whole collection arrives ({} bytes), ends with: {tail}",
        body.len()
    );
    let exit = s.child.wait().unwrap();
    assert!(exit.success(), "{exit:?}");
    let mut out = String::new();
    s.stdout.read_to_string(&mut out).unwrap();
    assert!(out.contains("stopping") && out.contains("stopped"), "{out}");
}

/// The value of the first sample line of `text` starting with `series`.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(series))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

#[tokio::test]
async fn metrics_count_requests_by_route_tiles_by_source_and_the_engine() {
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let (_keep, state) = common::sample_copy(geoplan::config::Config::default()).await;
    let get = |uri: &str| {
        let (state, uri) = (state.clone(), uri.to_owned());
        async move {
            let res = geoplan::http::app(state)
                .oneshot(Request::get(&uri).body(Body::empty()).unwrap())
                .await
                .unwrap();
            let status = res.status();
            let body = res.into_body().collect().await.unwrap().to_bytes();
            (status, String::from_utf8_lossy(&body).into_owned())
        }
    };
    // The same tile twice: rendered, then from memory; a 404 and a 400.
    for _ in 0..2 {
        assert_eq!(
            get("/tiles/parcels/16/52489/29839.mvt").await.0,
            StatusCode::OK
        );
    }
    assert_eq!(get("/layers/nope/features").await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        get("/layers/parcels/features?limit=x").await.0,
        StatusCode::BAD_REQUEST
    );
    let (status, text) = get("/metrics").await;
    assert_eq!(status, StatusCode::OK);
    let tile_route = "geoplan_http_requests_total{method=\"GET\",route=\"/tiles/{layers}/{z}/{x}/{y}\",status=\"200\"}";
    assert_eq!(sample(&text, tile_route), Some(2.0), "{text}");
    let features_404 = "geoplan_http_requests_total{method=\"GET\",route=\"/layers/{id}/features\",status=\"404\"}";
    assert_eq!(sample(&text, features_404), Some(1.0), "{text}");
    let features_400 = "geoplan_http_requests_total{method=\"GET\",route=\"/layers/{id}/features\",status=\"400\"}";
    assert_eq!(sample(&text, features_400), Some(1.0), "{text}");
    assert_eq!(
        sample(&text, "geoplan_tiles_total{source=\"rendered\"}"),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        sample(&text, "geoplan_tiles_total{source=\"memory\"}"),
        Some(1.0),
        "{text}"
    );
    assert!(sample(&text, "geoplan_tiles_rendered_bytes_total").unwrap() > 0.0);
    assert!(sample(&text, "geoplan_tile_cache_bytes").unwrap() > 0.0);
    let parcels = state.data.engine.snapshot().layer("parcels").unwrap().len();
    assert_eq!(
        sample(&text, "geoplan_engine_features{layer=\"parcels\"}"),
        Some(parcels as f64),
        "{text}"
    );
    let hist = "geoplan_http_request_duration_seconds_count{route=\"/tiles/{layers}/{z}/{x}/{y}\"}";
    assert_eq!(sample(&text, hist), Some(2.0), "{text}");
    // The runtime: the tasks alive (none of this test's yet: it drives
    // the router itself), then one more.
    let before = sample(&text, "geoplan_runtime_alive_tasks").unwrap();
    let parked = tokio::spawn(std::future::pending::<()>());
    let (_, after) = get("/metrics").await;
    let after = sample(&after, "geoplan_runtime_alive_tasks").unwrap();
    assert_eq!(after, before + 1.0, "{before} then {after}");
    parked.abort();
    assert!(sample(&text, "geoplan_runtime_worker_busy_seconds_total").unwrap() > 0.0);
    assert!(sample(&text, "geoplan_runtime_global_queue_depth").is_some());
    // The blocking pool: loading the layers and rendering the tile were
    // jobs, each wait timed; nothing waits or runs at the scrape.
    assert!(
        sample(&text, "geoplan_blocking_wait_seconds_count").unwrap() >= 2.0,
        "{text}"
    );
    for state in ["waiting", "running"] {
        let jobs = format!("geoplan_blocking_jobs{{state=\"{state}\"}}");
        assert_eq!(sample(&text, &jobs), Some(0.0), "{text}");
    }
    // The heap holds at least the engine's layers, and holds from the
    // system at least what is live.
    let allocated = sample(&text, "geoplan_heap_bytes{kind=\"allocated\"}").unwrap();
    let resident = sample(&text, "geoplan_heap_bytes{kind=\"resident\"}").unwrap();
    let parcels = sample(&text, "geoplan_engine_layer_bytes{layer=\"parcels\"}").unwrap();
    assert!(
        parcels > 0.0 && allocated >= parcels,
        "{allocated} {parcels}"
    );
    assert!(resident >= allocated, "{resident} {allocated}");
    // A GeoPackage has no change listener.
    assert_eq!(
        sample(&text, "geoplan_change_listener_connected"),
        Some(0.0)
    );
}

/// QGIS editing the GeoPackage holds SQLite's write lock until it saves: a
/// write of the server meanwhile waits for the lock instead of failing with
/// "database is locked", and lands once QGIS lets go.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_waits_for_a_geopackage_another_program_is_writing() {
    use geoplan::model::{Edit, FeatureUpdate, LayerEdit, Value};
    use geoplan::store::{gpkg::GpkgStore, Store};
    let dir = tempfile::tempdir().unwrap();
    let gpkg = dir.path().join("sample.gpkg");
    std::fs::copy(format!("{ROOT}/data/sample.gpkg"), &gpkg).unwrap();
    let store = Store::Gpkg(GpkgStore::open(&gpkg).unwrap());
    let fid = store.read_layer("pois").await.unwrap().fids[0];
    // Another program's write transaction, held for 1.5 s.
    let other = rusqlite::Connection::open(&gpkg).unwrap();
    other.execute_batch("BEGIN IMMEDIATE").unwrap();
    let holder = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(1500));
        other.execute_batch("COMMIT").unwrap();
    });
    let t = std::time::Instant::now();
    let edit = LayerEdit {
        layer: "pois".into(),
        edit: Edit {
            updates: vec![FeatureUpdate {
                fid,
                geometry: None,
                values: vec![("name".into(), Value::Text("Chợ Hội An".into()))],
            }],
            ..Default::default()
        },
    };
    let written = store.write(&[edit]).await;
    let waited = t.elapsed();
    holder.join().unwrap();
    assert!(written.is_ok(), "{written:?}");
    assert!(
        waited >= Duration::from_millis(1000),
        "it waited {waited:?}"
    );
    let pois = store.read_features("pois", &[fid]).await.unwrap();
    // The first field of pois is its name.
    assert_eq!(pois[0].values[0], Value::Text("Chợ Hội An".into()));
}
