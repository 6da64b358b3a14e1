//! geoplan instances are stateless over PostGIS (issue #12, "More than
//! one machine"): two real `geoplan serve` processes over one PostGIS
//! database, behind HAProxy (Debian's, started here on loopback). Edits go
//! through the balancer and through each instance directly — WFS-T,
//! the project registry, `POST /import` — and each must show on both
//! instances within 1 s in the feature API, in vector tiles (a new ETag)
//! and in WMS (a different map). Concurrent WFS-T inserts through both
//! instances lose nothing and duplicate nothing. Fails (never skips) when
//! PostgreSQL (`GEOPLAN_TEST_PG`) or HAProxy (`scripts/deps.sh test`) is
//! missing.

mod common;

use geo_types::{Coord, Rect};
use geoplan::crs::{self, Crs};
use geoplan::planning::projects::Stage;
use geoplan::tiles::TileCoord;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const HAPROXY: &str = "/usr/sbin/haproxy";
/// The editor's API key (the config holds only its hash).
const KEY: &str = "multi-instance-test-key-0123456789abcdef";
/// How long an edit may take to show on every instance (issue #12).
const BOUND: Duration = Duration::from_secs(1);
/// How often a condition is polled.
const POLL: Duration = Duration::from_millis(25);

// ------------------------------------------------------------ HTTP client

/// One answer: status, headers (names lower-cased), body.
struct Resp {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Resp {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Sends one HTTP/1.0 request (a connection of its own, so the balancer
/// picks a server for each; the body ends with the connection, never
/// chunked) to `127.0.0.1:port`.
fn http(port: u16, method: &str, path: &str, headers: &[(&str, String)], body: &[u8]) -> Resp {
    let mut conn = TcpStream::connect(("127.0.0.1", port))
        .unwrap_or_else(|e| panic!("connect to port {port}: {e}"));
    conn.set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    conn.write_all(head.as_bytes()).unwrap();
    conn.write_all(body).unwrap();
    let mut raw = Vec::new();
    conn.read_to_end(&mut raw).unwrap();
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no response head from port {port} for {method} {path}"));
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad status line: {head}"));
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_lowercase(), v.trim().to_owned()))
        .collect();
    Resp {
        status,
        headers,
        body: raw[split + 4..].to_vec(),
    }
}

fn get(port: u16, path: &str) -> Resp {
    http(port, "GET", path, &[], b"")
}

fn bearer() -> (&'static str, String) {
    ("Authorization", format!("Bearer {KEY}"))
}

/// Percent-encodes a query parameter value.
fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

// -------------------------------------------------------------- processes

/// A child process killed when the test ends, pass or fail.
struct Proc {
    child: Child,
    /// What it wrote to stdout (drained by a thread, so that a full pipe
    /// never blocks it), for failure messages.
    out: Arc<Mutex<String>>,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `geoplan serve` with `config` over `url` on `port`; returns once it
/// says it is serving.
fn serve(config: &std::path::Path, url: &str, port: u16) -> Proc {
    let mut child = Command::new(env!("CARGO_BIN_EXE_geoplan"))
        .args(["--config", config.to_str().unwrap(), "serve"])
        .args(["--database-url", url])
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .current_dir(ROOT)
        .env_remove("DATABASE_URL")
        .env_remove("GEOPLAN_CONFIG")
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let out = Arc::new(Mutex::new(String::new()));
    let (tx, rx) = std::sync::mpsc::channel();
    let sink = out.clone();
    std::thread::spawn(move || {
        let mut tx = Some(tx);
        let mut line = String::new();
        while stdout.read_line(&mut line).unwrap_or(0) > 0 {
            if line.contains("serving at") {
                if let Some(tx) = tx.take() {
                    let _ = tx.send(());
                }
            }
            sink.lock().unwrap().push_str(&line);
            line.clear();
        }
    });
    let p = Proc { child, out };
    assert!(
        rx.recv_timeout(Duration::from_secs(120)).is_ok(),
        "geoplan on port {port} did not start serving:\n{}",
        p.out.lock().unwrap()
    );
    p
}

/// HAProxy in the foreground on `port`, round robin over `servers`
/// (name, port), a new server connection for every request, and the name
/// of the server that answered in `X-Served-By`.
fn haproxy(dir: &std::path::Path, port: u16, servers: &[(&str, u16)]) -> Proc {
    assert!(
        std::path::Path::new(HAPROXY).exists(),
        "{HAPROXY} is missing: `make test` (scripts/deps.sh test) installs Debian's haproxy"
    );
    let mut cfg = format!(
        "global\n  maxconn 512\n\
         defaults\n  mode http\n  timeout connect 5s\n  timeout client 120s\n  timeout server 120s\n  http-reuse never\n\
         frontend geoplan_in\n  bind 127.0.0.1:{port}\n  default_backend geoplan\n\
         backend geoplan\n  balance roundrobin\n  option http-server-close\n  http-response set-header X-Served-By %s\n"
    );
    for (name, p) in servers {
        cfg.push_str(&format!("  server {name} 127.0.0.1:{p}\n"));
    }
    let path = dir.join("haproxy.cfg");
    std::fs::write(&path, cfg).unwrap();
    let check = Command::new(HAPROXY)
        .args(["-c", "-f", path.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "haproxy -c: {}{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );
    let child = Command::new(HAPROXY)
        .args(["-db", "-f", path.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let t = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "haproxy never listened"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    Proc {
        child,
        out: Default::default(),
    }
}

// -------------------------------------------------------------- geometry

/// A point of EPSG:5899 in Web Mercator.
fn to_3857(c: Coord<f64>, from: Crs) -> Coord<f64> {
    crs::transform_one(from, Crs::Epsg(3857), c).unwrap()
}

/// The tile of zoom `z` holding a Web Mercator point.
fn tile_at(z: u8, p: Coord<f64>) -> TileCoord {
    let (xs, ys) = TileCoord::range(z, &Rect::new(p, p));
    TileCoord::new(u32::from(z), *xs.start(), *ys.start(), 22).unwrap()
}

fn square(x: f64, y: f64, side: f64) -> Vec<Coord<f64>> {
    vec![
        Coord { x, y },
        Coord { x: x + side, y },
        Coord {
            x: x + side,
            y: y + side,
        },
        Coord { x, y: y + side },
        Coord { x, y },
    ]
}

fn gml_polygon(ring: &[Coord<f64>]) -> String {
    let pos: Vec<String> = ring
        .iter()
        .map(|c| format!("{:.3} {:.3}", c.x, c.y))
        .collect();
    format!(
        "<gml:Polygon srsName=\"urn:ogc:def:crs:EPSG::5899\"><gml:exterior><gml:LinearRing><gml:posList>{}</gml:posList></gml:LinearRing></gml:exterior></gml:Polygon>",
        pos.join(" ")
    )
}

const WFS2: &str = "xmlns:wfs=\"http://www.opengis.net/wfs/2.0\" xmlns:fes=\"http://www.opengis.net/fes/2.0\" xmlns:gml=\"http://www.opengis.net/gml/3.2\" xmlns:geoplan=\"http://geoplan.danang.gov.vn\"";

/// A new parcel of sheet 907 (which the sample does not have): the
/// cadastral key (commune, sheet, number) is unique.
fn insert_doc(ring: &[Coord<f64>], number: usize, code: &str, address: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><wfs:Transaction service=\"WFS\" version=\"2.0.0\" {WFS2}><wfs:Insert><geoplan:parcels><geoplan:geom>{}</geoplan:geom><geoplan:commune_code>20194</geoplan:commune_code><geoplan:sheet_number>907</geoplan:sheet_number><geoplan:parcel_number>{number}</geoplan:parcel_number><geoplan:legal_area>144</geoplan:legal_area><geoplan:land_use_code>{code}</geoplan:land_use_code><geoplan:address>{address}</geoplan:address></geoplan:parcels></wfs:Insert></wfs:Transaction>",
        gml_polygon(ring)
    )
}

fn update_doc(fid: i64, ring: &[Coord<f64>], code: &str) -> String {
    format!(
        "<wfs:Transaction service=\"WFS\" version=\"2.0.0\" {WFS2}><wfs:Update typeName=\"geoplan:parcels\"><wfs:Property><wfs:ValueReference>geom</wfs:ValueReference><wfs:Value>{}</wfs:Value></wfs:Property><wfs:Property><wfs:ValueReference>land_use_code</wfs:ValueReference><wfs:Value>{code}</wfs:Value></wfs:Property><fes:Filter><fes:ResourceId rid=\"parcels.{fid}\"/></fes:Filter></wfs:Update></wfs:Transaction>",
        gml_polygon(ring)
    )
}

/// Posts a WFS-T document; returns the fids it inserted.
fn wfs_t(port: u16, doc: &str) -> Vec<i64> {
    let r = http(
        port,
        "POST",
        "/wfs",
        &[bearer(), ("Content-Type", "application/xml".into())],
        doc.as_bytes(),
    );
    let text = r.text();
    assert_eq!(r.status, 200, "{text}");
    assert!(!text.contains("ExceptionReport"), "{text}");
    text.split("rid=\"parcels.")
        .skip(1)
        .filter_map(|s| s.split('"').next()?.parse().ok())
        .collect()
}

// ------------------------------------------------------------ what shows

/// What a JSON answer must satisfy.
type Check = Box<dyn Fn(&Value) -> bool + Send + Sync>;

/// One place an edit must show, asked of each instance.
enum Surface {
    /// A feature API (or other JSON) path and what its answer must satisfy.
    Json(String, Check),
    /// A tile path whose ETag must differ from the one before the edit.
    Tile(String),
    /// A WMS GetMap path whose PNG must differ from the one before.
    Map(String),
}

impl Surface {
    fn path(&self) -> &str {
        match self {
            Surface::Json(p, _) | Surface::Tile(p) | Surface::Map(p) => p,
        }
    }
}

/// What a tile or map answers now: the ETag of a tile (none for an empty
/// tile), the bytes of a map.
fn fingerprint(port: u16, s: &Surface) -> Option<Vec<u8>> {
    match s {
        Surface::Json(..) => None,
        Surface::Tile(p) => {
            let r = get(port, p);
            assert!(matches!(r.status, 200 | 204), "{p}: {}", r.status);
            r.header("etag").map(|e| e.as_bytes().to_vec())
        }
        Surface::Map(p) => {
            let r = get(port, p);
            assert_eq!(r.status, 200, "{p}: {}", r.text());
            assert_eq!(r.header("content-type"), Some("image/png"), "{p}");
            Some(r.body)
        }
    }
}

/// Which surfaces of which instance an edit is checked on, with what they
/// answered before it.
struct Before {
    surfaces: Arc<Vec<Surface>>,
    seen: BTreeMap<(u16, usize), Option<Vec<u8>>>,
}

fn before(ports: &[u16], surfaces: Vec<Surface>) -> Before {
    let mut seen = BTreeMap::new();
    for &p in ports {
        for (i, s) in surfaces.iter().enumerate() {
            seen.insert((p, i), fingerprint(p, s));
        }
    }
    Before {
        surfaces: Arc::new(surfaces),
        seen,
    }
}

/// Polls every surface of every instance (one thread each, every
/// [`POLL`]) from the moment the edit was answered (`t0`) until it shows;
/// panics naming what did not show within [`BOUND`]. A poll counts when
/// its request was sent within the bound (the answer may arrive after:
/// a debug-build WMS render takes a while). Returns the largest lag, to
/// the answer that showed the edit.
fn shows_everywhere(what: &str, t0: Instant, b: Before) -> Duration {
    let threads: Vec<_> = b
        .seen
        .into_iter()
        .map(|((port, i), old)| {
            let surfaces = b.surfaces.clone();
            std::thread::spawn(move || -> Result<Duration, String> {
                let s = &surfaces[i];
                loop {
                    let sent = t0.elapsed();
                    let (ok, now) = match s {
                        Surface::Json(p, f) => {
                            let r = get(port, p);
                            let j = r.json();
                            (r.status == 200 && f(&j), format!("{} {j}", r.status))
                        }
                        Surface::Tile(_) | Surface::Map(_) => {
                            let now = fingerprint(port, s);
                            let desc = match s {
                                Surface::Tile(_) => format!(
                                    "ETag {:?}",
                                    now.as_deref().map(String::from_utf8_lossy)
                                ),
                                _ => "the same PNG".into(),
                            };
                            (now != old, desc)
                        }
                    };
                    if ok {
                        return Ok(t0.elapsed());
                    }
                    if sent > BOUND {
                        return Err(format!(
                            "port {port}: {} unchanged after {sent:?}: {}",
                            s.path(),
                            &now[..now.len().min(600)]
                        ));
                    }
                    std::thread::sleep(POLL);
                }
            })
        })
        .collect();
    let mut worst = Duration::ZERO;
    let mut failed = Vec::new();
    for t in threads {
        match t.join().unwrap() {
            Ok(d) => worst = worst.max(d),
            Err(e) => failed.push(e),
        }
    }
    assert!(
        failed.is_empty(),
        "{what}: not on every instance within {BOUND:?}:\n{}",
        failed.join("\n")
    );
    println!("{what}: on both instances after {worst:?}");
    worst
}

/// A WMS GetMap of `layers` over a square of `half` metres around a Web
/// Mercator point.
fn getmap(layers: &str, c: Coord<f64>, half: f64) -> String {
    format!(
        "/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS={layers}&STYLES=&CRS=EPSG:3857&BBOX={},{},{},{}&WIDTH=128&HEIGHT=128&FORMAT=image/png&TRANSPARENT=TRUE",
        c.x - half,
        c.y - half,
        c.x + half,
        c.y + half
    )
}

fn tile_path(layer: &str, t: TileCoord) -> String {
    format!("/tiles/{layer}/{}/{}/{}.mvt", t.z, t.x, t.y)
}

/// The surfaces of a parcel edit: the feature (checked by `ok`), the z16
/// tile and a map around `at` (EPSG:5899).
fn parcel_surfaces(
    feature: String,
    ok: impl Fn(&Value) -> bool + Send + Sync + 'static,
    at: Coord<f64>,
) -> Vec<Surface> {
    let m = to_3857(at, Crs::Epsg(5899));
    vec![
        Surface::Json(feature, Box::new(ok)),
        Surface::Tile(tile_path("parcels", tile_at(16, m))),
        Surface::Map(getmap("parcels", m, 60.0)),
    ]
}

/// The fids of parcels whose address starts with `prefix`, as the feature
/// API of `port` lists them.
fn fids_with_prefix(port: u16, prefix: &str) -> BTreeSet<i64> {
    let filter = enc(&format!("address LIKE '{prefix}%'"));
    let r = get(
        port,
        &format!("/layers/parcels/features?limit=1000&filter={filter}"),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_i64().unwrap())
        .collect()
}

/// A `multipart/form-data` body of text fields and one file.
fn multipart(boundary: &str, fields: &[(&str, &str)], file: (&str, &[u8])) -> Vec<u8> {
    let mut body = Vec::new();
    for (k, v) in fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{}\"\r\nContent-Type: application/geo+json\r\n\r\n",
            file.0
        )
        .as_bytes(),
    );
    body.extend_from_slice(file.1);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    body
}

// ------------------------------------------------------------------ test

#[test]
fn two_instances_behind_haproxy_show_every_edit_within_a_second_and_lose_none() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let db = rt.block_on(common::PgDb::new("multi"));
    let load = Command::new(env!("CARGO_BIN_EXE_geoplan"))
        .args(["load", "--from", &format!("{ROOT}/data/sample.gpkg")])
        .args(["--database-url", &db.url])
        .current_dir(ROOT)
        .env_remove("GEOPLAN_CONFIG")
        .output()
        .unwrap();
    assert!(
        load.status.success(),
        "geoplan load: {}{}",
        String::from_utf8_lossy(&load.stdout),
        String::from_utf8_lossy(&load.stderr)
    );

    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("geoplan.toml");
    std::fs::write(
        &config,
        format!(
            "[ogc]\neditable = [\"parcels\", \"investment_projects\"]\n\
             [ogc.api_keys]\nmulti-editor = \"{}\"\n",
            geoplan::http::auth::hash_api_key(KEY)
        ),
    )
    .unwrap();
    let (pa, pb, lb) = (free_port(), free_port(), free_port());
    let a = serve(&config, &db.url, pa);
    let b = serve(&config, &db.url, pb);
    let _lb = haproxy(dir.path(), lb, &[("a", pa), ("b", pb)]);
    let both = [pa, pb];
    let logs = || {
        format!(
            "--- a ---\n{}\n--- b ---\n{}",
            a.out.lock().unwrap(),
            b.out.lock().unwrap()
        )
    };
    // The balancer alternates: two requests, one to each.
    let served: BTreeSet<String> = (0..2)
        .map(|_| {
            let r = get(lb, "/ready");
            assert_eq!(r.status, 200, "{}", r.text());
            r.header("x-served-by").unwrap().to_owned()
        })
        .collect();
    assert_eq!(served.len(), 2, "round robin over both: {served:?}");

    let mut lags: Vec<(String, Duration)> = Vec::new();

    // A parcel of the sample to work beside (EPSG:5899).
    let r = get(
        pa,
        "/layers/parcels/features?limit=1&offset=4000&crs=EPSG:5899",
    );
    let c = &r.json()["features"][0]["geometry"]["coordinates"];
    let first = if c[0][0][0].is_array() {
        &c[0][0][0]
    } else {
        &c[0][0]
    };
    let origin = Coord {
        x: first[0].as_f64().unwrap(),
        y: first[1].as_f64().unwrap(),
    };

    // 1. WFS-T Insert through the balancer.
    let ring = square(origin.x + 15.0, origin.y + 15.0, 12.0);
    let centre = Coord {
        x: origin.x + 21.0,
        y: origin.y + 21.0,
    };
    let probe = |fid: i64| format!("/layers/parcels/features/{fid}");
    // The fid is not known before: the feature check lists by address.
    let listed = format!(
        "/layers/parcels/features?limit=10&filter={}",
        enc("address = 'multi-e1'")
    );
    let b1 = before(
        &both,
        parcel_surfaces(
            listed,
            |j| j["features"].as_array().is_some_and(|f| f.len() == 1),
            centre,
        ),
    );
    let fids = wfs_t(lb, &insert_doc(&ring, 1, "ODT", "multi-e1"));
    let t0 = Instant::now();
    assert_eq!(fids.len(), 1, "{fids:?}");
    let fid = fids[0];
    lags.push((
        "WFS-T Insert via the balancer".into(),
        shows_everywhere("WFS-T Insert via the balancer", t0, b1),
    ));

    // 2. WFS-T Update on instance a: moved 40 m east, another land use.
    let moved = square(origin.x + 55.0, origin.y + 15.0, 12.0);
    let at = Coord {
        x: origin.x + 61.0,
        y: origin.y + 21.0,
    };
    let b2 = before(
        &both,
        parcel_surfaces(
            probe(fid),
            |j| j["properties"]["land_use_code"] == "TMD",
            at,
        ),
    );
    assert!(wfs_t(pa, &update_doc(fid, &moved, "TMD")).is_empty());
    let t0 = Instant::now();
    lags.push((
        "WFS-T Update via a".into(),
        shows_everywhere("WFS-T Update via a", t0, b2),
    ));

    // 3. WFS-T Update on instance b: back west.
    let back = square(origin.x + 15.0, origin.y + 55.0, 12.0);
    let at = Coord {
        x: origin.x + 21.0,
        y: origin.y + 61.0,
    };
    let b3 = before(
        &both,
        parcel_surfaces(
            probe(fid),
            |j| j["properties"]["land_use_code"] == "SKC",
            at,
        ),
    );
    assert!(wfs_t(pb, &update_doc(fid, &back, "SKC")).is_empty());
    let t0 = Instant::now();
    lags.push((
        "WFS-T Update via b".into(),
        shows_everywhere("WFS-T Update via b", t0, b3),
    ));

    // 4. A new project through the balancer (a site in KCN Hòa Khánh).
    let (x, y, d) = (108.1405, 16.0705, 0.0015);
    let site = json!({"type": "Polygon", "coordinates": [[[x, y], [x + d, y], [x + d, y + d], [x, y + d], [x, y]]]});
    let m = to_3857(
        Coord {
            x: x + d / 2.0,
            y: y + d / 2.0,
        },
        Crs::Crs84,
    );
    let project_tile = tile_path("investment_projects", tile_at(15, m));
    let project_map = getmap("investment_projects", m, 250.0);
    let name = "Nhà máy linh kiện Hòa Khánh (hai máy chủ)";
    let listed = format!(
        "/layers/investment_projects/features?limit=10&filter={}",
        enc(&format!("name = '{name}'"))
    );
    let b4 = before(
        &both,
        vec![
            Surface::Json(
                listed,
                Box::new(|j| j["features"].as_array().is_some_and(|f| f.len() == 1)),
            ),
            Surface::Tile(project_tile.clone()),
            Surface::Map(project_map.clone()),
        ],
    );
    let body = json!({
        "name": name,
        "function": "Công nghiệp",
        "investor": "Công ty TNHH Điện tử Sông Hàn",
        "capital_vnd": 850_000_000_000i64,
        "site": site,
        "date": "2026-01-20",
    });
    let r = http(
        lb,
        "POST",
        "/projects",
        &[bearer(), ("Content-Type", "application/json".into())],
        body.to_string().as_bytes(),
    );
    let t0 = Instant::now();
    assert_eq!(r.status, 201, "{}", r.text());
    let project = r.json()["project"]["fid"].as_i64().unwrap();
    lags.push((
        "POST /projects via the balancer".into(),
        shows_everywhere("POST /projects via the balancer", t0, b4),
    ));

    // 5. Its next stage, recorded on instance b.
    let stage_is = |want: &'static str| -> Check { Box::new(move |j: &Value| j["stage"] == want) };
    // The map style colours projects by older status words, none of which
    // the two stages' names are: WMS shows the move in GetFeatureInfo.
    let info = format!(
        "/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetFeatureInfo&LAYERS=investment_projects&QUERY_LAYERS=investment_projects&STYLES=&CRS=EPSG:3857&BBOX={},{},{},{}&WIDTH=101&HEIGHT=101&I=50&J=50&INFO_FORMAT=application/json&FEATURE_COUNT=50",
        m.x - 50.0,
        m.y - 50.0,
        m.x + 50.0,
        m.y + 50.0
    );
    let approved = Stage::PolicyApproved.vi();
    let rid = format!("investment_projects.{project}");
    let b5 = before(
        &both,
        vec![
            Surface::Json(format!("/projects/{project}"), stage_is("policy_approved")),
            Surface::Json(
                format!("/layers/investment_projects/features/{project}"),
                Box::new(move |j| j["properties"]["status"] == approved),
            ),
            Surface::Tile(project_tile),
            Surface::Json(
                info,
                Box::new(move |j| {
                    j["features"].as_array().is_some_and(|fs| {
                        fs.iter().any(|f| {
                            f["id"] == rid.as_str() && f["properties"]["status"] == approved
                        })
                    })
                }),
            ),
        ],
    );
    let _ = project_map;
    let r = http(
        pb,
        "POST",
        &format!("/projects/{project}/transitions"),
        &[bearer(), ("Content-Type", "application/json".into())],
        json!({"to": "policy_approved", "date": "2026-02-10", "decision": "21/QĐ-UBND", "authority": "UBND thành phố Đà Nẵng"})
            .to_string()
            .as_bytes(),
    );
    let t0 = Instant::now();
    assert_eq!(r.status, 201, "{}", r.text());
    lags.push((
        "POST /projects/{id}/transitions via b".into(),
        shows_everywhere("POST /projects/{id}/transitions via b", t0, b5),
    ));

    // 6. A GeoJSON file imported (append) on instance a.
    let spot = Coord {
        x: origin.x - 40.0,
        y: origin.y - 40.0,
    };
    let ring84: Vec<Vec<f64>> = square(spot.x, spot.y, 14.0)
        .into_iter()
        .map(|c| {
            let w = crs::transform_one(Crs::Epsg(5899), Crs::Crs84, c).unwrap();
            vec![w.x, w.y]
        })
        .collect();
    let file = json!({"type": "FeatureCollection", "features": [{"type": "Feature",
        "properties": {"commune_code": "20194", "sheet_number": 907, "parcel_number": 2,
            "legal_area": 196.0, "land_use_code": "ONT", "address": "multi-import-1"},
        "geometry": {"type": "Polygon", "coordinates": [ring84]}}]})
    .to_string();
    let listed = format!(
        "/layers/parcels/features?limit=10&filter={}",
        enc("address = 'multi-import-1'")
    );
    let b6 = before(
        &both,
        parcel_surfaces(
            listed,
            |j| j["features"].as_array().is_some_and(|f| f.len() == 1),
            Coord {
                x: spot.x + 7.0,
                y: spot.y + 7.0,
            },
        ),
    );
    let boundary = "geoplan-multi-instance";
    let r = http(
        pa,
        "POST",
        "/import",
        &[
            bearer(),
            (
                "Content-Type",
                format!("multipart/form-data; boundary={boundary}"),
            ),
        ],
        &multipart(
            boundary,
            &[("layer", "parcels"), ("mode", "append")],
            ("parcel.geojson", file.as_bytes()),
        ),
    );
    let t0 = Instant::now();
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["inserted"], 1, "{}", r.text());
    lags.push((
        "POST /import via a".into(),
        shows_everywhere("POST /import via a", t0, b6),
    ));

    // 7. 2 × 25 WFS-T inserts at once, half through each instance.
    let n = 50;
    let t0 = Instant::now();
    let workers: Vec<_> = (0..n)
        .map(|i| {
            let port = both[i % 2];
            let ring = square(
                origin.x - 200.0 - 8.0 * (i as f64 % 10.0),
                origin.y - 200.0 - 8.0 * (i as f64 / 10.0).floor(),
                6.0,
            );
            std::thread::spawn(move || {
                wfs_t(
                    port,
                    &insert_doc(&ring, 100 + i, "ODT", &format!("multi-c-{i:02}")),
                )
            })
        })
        .collect();
    let mut inserted = BTreeSet::new();
    for w in workers {
        let fids = w.join().unwrap();
        assert_eq!(fids.len(), 1, "{fids:?}");
        assert!(inserted.insert(fids[0]), "fid {} given twice", fids[0]);
    }
    println!("{n} concurrent inserts answered in {:?}", t0.elapsed());
    // The database holds each marker exactly once, with the fids given.
    let rows: Vec<(String, i64)> = rt.block_on(async {
        let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
        sqlx::query_as(
            "SELECT address, fid FROM geoplan.parcels WHERE address LIKE 'multi-c-%' ORDER BY address",
        )
        .fetch_all(&pool)
        .await
        .unwrap()
    });
    let markers: Vec<String> = rows.iter().map(|r| r.0.clone()).collect();
    let want: Vec<String> = (0..n).map(|i| format!("multi-c-{i:02}")).collect();
    assert_eq!(markers, want, "each insert stored once, none lost");
    let stored: BTreeSet<i64> = rows.iter().map(|r| r.1).collect();
    assert_eq!(stored, inserted);
    // Both instances list exactly those, within the bound.
    let t1 = Instant::now();
    let mut pending: Vec<u16> = both.to_vec();
    loop {
        let sent = t1.elapsed();
        pending.retain(|&p| fids_with_prefix(p, "multi-c-") != stored);
        if pending.is_empty() {
            break;
        }
        assert!(
            sent <= BOUND,
            "after {sent:?} ports {pending:?} list {:?}, the database {stored:?}\n{}",
            pending
                .iter()
                .map(|&p| fids_with_prefix(p, "multi-c-").len())
                .collect::<Vec<_>>(),
            logs()
        );
        std::thread::sleep(POLL);
    }
    let lag = t1.elapsed();
    println!("{n} concurrent inserts listed alike on both instances after {lag:?}");
    lags.push(("concurrent inserts, after the last answer".into(), lag));
    // And the layer counts agree with the database.
    let total: i64 = rt.block_on(async {
        let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
        sqlx::query_scalar("SELECT count(*) FROM geoplan.parcels")
            .fetch_one(&pool)
            .await
            .unwrap()
    });
    for p in both {
        let j = get(p, "/layers/parcels").json();
        assert_eq!(j["feature_count"].as_i64(), Some(total), "port {p}: {j}");
    }

    // Each instance reports its listener connected, the notification it
    // last saw, and the store time of the writes it made.
    for p in both {
        let m = get(p, "/metrics").text();
        let value = |series: &str| {
            m.lines()
                .find(|l| l.starts_with(series))
                .and_then(|l| l.rsplit(' ').next())
                .and_then(|v| v.parse::<f64>().ok())
                .unwrap_or_else(|| panic!("port {p}: no {series} in\n{m}"))
        };
        assert_eq!(value("geoplan_change_listener_connected"), 1.0);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs_f64();
        let last = value("geoplan_change_listener_last_event_timestamp_seconds");
        assert!(
            now - last < 120.0,
            "port {p}: last event at {last}, now {now}"
        );
        assert!(value("geoplan_store_seconds_count{op=\"write\"}") >= 1.0);
        assert!(value("geoplan_store_seconds_count{op=\"read\"}") >= 1.0);
    }

    let worst = lags.iter().map(|l| l.1).max().unwrap();
    println!("largest lag: {worst:?}");
    for (what, d) in &lags {
        println!("  {what}: {d:?}");
    }
}
