//! Faults (issue #12): what `geoplan serve` does when PostgreSQL is not
//! there at start, when PostgreSQL restarts under it, when the disk of
//! the tile cache is full, and when a client sends its body a byte at a
//! time. Each runs the real binary over loopback, as a deployment would.
//!
//! The PostgreSQL tests start a throwaway cluster of their own (initdb and
//! pg_ctl of the newest /usr/lib/postgresql/*/bin, as the `postgres` user
//! when run as root), so that they can stop and start it; PostGIS must be
//! installed for it (`make deps-test`). The disk test mounts a 64 KiB tmpfs
//! (root); where mounting is refused it says so and makes the cache
//! unwritable instead.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const SAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/sample.gpkg");
const API_KEY: &str = "k3y-for-the-fault-tests_0123456789abcdefABCDEF";
/// A tile of the sample with parcels in it.
const TILE: &str = "/tiles/parcels/16/52489/29839.mvt";

// ------------------------------------------------------------------ HTTP

/// One answer: status, head (lower-cased), body (de-chunked).
struct Answer {
    status: u16,
    head: String,
    body: Vec<u8>,
}

impl Answer {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Sends one request on a new connection (`Connection: close`) and reads
/// the whole answer; an error when the server does not answer within 60 s.
fn request(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<Answer> {
    let mut conn = TcpStream::connect(("127.0.0.1", port))?;
    conn.set_read_timeout(Some(Duration::from_secs(60)))?;
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    conn.write_all(req.as_bytes())?;
    conn.write_all(body)?;
    let mut raw = Vec::new();
    conn.read_to_end(&mut raw)?;
    Ok(parse_answer(&raw))
}

fn get(port: u16, path: &str) -> Answer {
    request(port, "GET", path, &[], b"").unwrap_or_else(|e| panic!("GET {path}: {e}"))
}

fn parse_answer(raw: &[u8]) -> Answer {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no response head in {:?}", String::from_utf8_lossy(raw)));
    let head = String::from_utf8_lossy(&raw[..split]).to_lowercase();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {head}"));
    let mut body = raw[split + 4..].to_vec();
    if head.contains("transfer-encoding: chunked") {
        let (mut out, mut rest) = (Vec::new(), &body[..]);
        loop {
            let eol = rest.windows(2).position(|w| w == b"\r\n").unwrap();
            let size = usize::from_str_radix(
                String::from_utf8_lossy(&rest[..eol])
                    .split(';')
                    .next()
                    .unwrap()
                    .trim(),
                16,
            )
            .unwrap();
            rest = &rest[eol + 2..];
            if size == 0 {
                break;
            }
            out.extend_from_slice(&rest[..size]);
            rest = &rest[size + 2..];
        }
        body = out;
    }
    Answer { status, head, body }
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

// ------------------------------------------------------------ the server

/// A running `geoplan serve`, killed when dropped; its standard output is
/// kept (a reader thread drains it, so logging never blocks the server).
struct Server {
    child: Child,
    port: u16,
    out: Arc<Mutex<String>>,
}

impl Server {
    /// Starts `geoplan --config <toml> serve --listen …` plus `extra`, and
    /// waits for it to serve.
    fn start(dir: &Path, toml: &str, extra: &[&str]) -> Server {
        let cfg = dir.join("geoplan.toml");
        std::fs::write(&cfg, toml).unwrap();
        let port = free_port();
        let mut child = Command::new(env!("CARGO_BIN_EXE_geoplan"))
            .args(["--config", cfg.to_str().unwrap(), "serve"])
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .args(extra)
            .current_dir(ROOT)
            .env_remove("DATABASE_URL")
            .env_remove("GEOPLAN_CONFIG")
            .env("RUST_LOG", "geoplan=info,geoplan::access=off")
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let out = Arc::new(Mutex::new(String::new()));
        let mut line = String::new();
        while !line.contains("serving at") {
            line.clear();
            if stdout.read_line(&mut line).unwrap() == 0 {
                let _ = child.kill();
                panic!("the server stopped before serving: {:?}", child.wait());
            }
            out.lock().unwrap().push_str(&line);
        }
        let keep = out.clone();
        std::thread::spawn(move || {
            let mut line = String::new();
            while stdout.read_line(&mut line).is_ok_and(|n| n > 0) {
                keep.lock().unwrap().push_str(&line);
                line.clear();
            }
        });
        Server { child, port, out }
    }

    fn log(&self) -> String {
        self.out.lock().unwrap().clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `geoplan` to its end (killed after 60 s: a hang is a failure);
/// its exit status and what it printed.
fn run_to_end(args: &[&str]) -> (std::process::ExitStatus, String, Duration) {
    let t = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_geoplan"))
        .args(args)
        .current_dir(ROOT)
        .env_remove("DATABASE_URL")
        .env_remove("GEOPLAN_CONFIG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if t.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("geoplan {args:?} still runs after 60 s: it hangs");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut text = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    (status, text, t.elapsed())
}

// ---------------------------------------------------- PostgreSQL at start

/// PostgreSQL not there when geoplan starts: refused (nothing listens on
/// the port) it exits at once; a server that accepts but never answers is
/// given up on after `[store] connect_timeout_secs`. Either way non-zero,
/// naming the database URL with its password hidden, never serving.
#[test]
fn postgresql_unreachable_at_start_is_a_prompt_exit_naming_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let closed = free_port();
    let url = format!("postgres://geoplan:s3cret-pw@127.0.0.1:{closed}/geoplan");
    let listen = format!("127.0.0.1:{}", free_port());
    let (status, text, took) = run_to_end(&["serve", "--database-url", &url, "--listen", &listen]);
    println!("refused: {status} after {took:?}:\n{text}");
    assert!(!status.success(), "{text}");
    assert!(!text.contains("serving at"), "{text}");
    assert!(!text.contains("s3cret-pw"), "the password is shown: {text}");
    assert!(
        text.contains(&format!(
            "postgres://geoplan:***@127.0.0.1:{closed}/geoplan"
        )),
        "the database is named: {text}"
    );
    assert!(text.to_lowercase().contains("refused"), "{text}");

    // A "database" that accepts connections and never says a word.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let held = Arc::new(Mutex::new(Vec::new()));
    let h = held.clone();
    std::thread::spawn(move || {
        for c in silent.incoming().flatten() {
            h.lock().unwrap().push(c);
        }
    });
    let cfg = dir.path().join("geoplan.toml");
    std::fs::write(
        &cfg,
        format!(
            "[store]\ndatabase_url = \"postgres://geoplan:s3cret-pw@127.0.0.1:{port}/geoplan\"\n\
             connect_timeout_secs = 2\n"
        ),
    )
    .unwrap();
    let (status, text, took) = run_to_end(&[
        "--config",
        cfg.to_str().unwrap(),
        "serve",
        "--listen",
        &listen,
    ]);
    println!("silent: {status} after {took:?}:\n{text}");
    assert!(!status.success(), "{text}");
    assert!(!held.lock().unwrap().is_empty(), "geoplan never connected");
    assert!(!text.contains("s3cret-pw"), "the password is shown: {text}");
    assert!(
        text.contains(&format!("127.0.0.1:{port}/geoplan")) && text.contains("within 2 s"),
        "{text}"
    );
}

// --------------------------------------------- PostgreSQL restarted

/// A throwaway PostgreSQL cluster of this test's own, stopped (and its
/// files removed) when dropped.
struct Cluster {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
}

impl Cluster {
    fn new() -> Cluster {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .expect("PostgreSQL is installed (make deps-test)")
            .flatten()
            .map(|e| e.path().join("bin"))
            .filter(|b| b.join("initdb").exists())
            .max_by_key(|b| {
                b.parent()
                    .and_then(|v| v.file_name()?.to_str()?.parse::<u32>().ok())
                    .unwrap_or(0)
            })
            .expect("initdb under /usr/lib/postgresql/*/bin");
        let dir = tempfile::tempdir().unwrap();
        if is_root() {
            let ok = Command::new("chown")
                .args(["postgres:postgres", dir.path().to_str().unwrap()])
                .status()
                .unwrap();
            assert!(ok.success(), "chown to postgres");
        }
        let c = Cluster {
            dir,
            bin,
            port: free_port(),
        };
        c.pg(
            "initdb",
            &[
                "-D",
                &c.data(),
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
            ],
        );
        c.start(true);
        c
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    /// Runs a PostgreSQL program (as `postgres` when this is root).
    fn pg(&self, program: &str, args: &[&str]) {
        let exe = self.bin.join(program);
        let mut cmd = if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&exe);
            c
        } else {
            Command::new(&exe)
        };
        let out = cmd.args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{program} {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Starts the server: on TCP (where geoplan connects) or only on its
    /// Unix socket (where geoplan cannot, and this test can).
    fn start(&self, tcp: bool) {
        let listen = if tcp { "127.0.0.1" } else { "''" };
        let opts = format!(
            "-p {} -k {} -c listen_addresses={listen}",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("log").display().to_string();
        self.pg(
            "pg_ctl",
            &["-D", &self.data(), "-o", &opts, "-l", &log, "-w", "start"],
        );
    }

    /// Stops the server as an operator's restart does (`-m fast`: the
    /// sessions are ended, the transactions in flight rolled back).
    fn stop(&self) {
        self.pg("pg_ctl", &["-D", &self.data(), "-m", "fast", "-w", "stop"]);
    }

    /// Over TCP, as geoplan connects.
    fn url(&self, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{db}", self.port)
    }

    /// Over the Unix socket.
    fn socket_url(&self, db: &str) -> String {
        format!(
            "postgres://postgres@localhost/{db}?host={}&port={}",
            self.dir.path().display(),
            self.port
        )
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let exe = self.bin.join("pg_ctl");
        let mut cmd = if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&exe);
            c
        } else {
            Command::new(&exe)
        };
        let _ = cmd
            .args(["-D", &self.data(), "-m", "immediate", "stop"])
            .output();
    }
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

/// A WFS 2.0 Insert of a 3 m square parcel at `(x, y)` (EPSG:5899).
fn insert_doc(x: f64, y: f64, number: u32, address: &str) -> String {
    let ring: Vec<String> = [(0., 0.), (3., 0.), (3., 3.), (0., 3.), (0., 0.)]
        .iter()
        .map(|(dx, dy)| format!("{:.3} {:.3}", x + dx, y + dy))
        .collect();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><wfs:Transaction service=\"WFS\" version=\"2.0.0\" \
         xmlns:wfs=\"http://www.opengis.net/wfs/2.0\" xmlns:fes=\"http://www.opengis.net/fes/2.0\" \
         xmlns:gml=\"http://www.opengis.net/gml/3.2\" xmlns:geoplan=\"http://geoplan.danang.gov.vn\">\
         <wfs:Insert><geoplan:parcels><geoplan:geom><gml:Polygon srsName=\"urn:ogc:def:crs:EPSG::5899\">\
         <gml:exterior><gml:LinearRing><gml:posList>{}</gml:posList></gml:LinearRing></gml:exterior></gml:Polygon></geoplan:geom>\
         <geoplan:commune_code>20194</geoplan:commune_code><geoplan:sheet_number>99</geoplan:sheet_number>\
         <geoplan:parcel_number>{number}</geoplan:parcel_number><geoplan:legal_area>9</geoplan:legal_area>\
         <geoplan:land_use_code>ODT</geoplan:land_use_code><geoplan:address>{address}</geoplan:address>\
         </geoplan:parcels></wfs:Insert></wfs:Transaction>",
        ring.join(" ")
    )
}

/// Posts a transaction with the editor's API key.
fn transact(port: u16, doc: &str) -> Answer {
    let bearer = format!("Bearer {API_KEY}");
    request(
        port,
        "POST",
        "/wfs",
        &[("Content-Type", "text/xml"), ("Authorization", &bearer)],
        doc.as_bytes(),
    )
    .unwrap_or_else(|e| panic!("the transaction got no answer: {e}"))
}

/// The fid of the one feature a transaction inserted.
fn inserted_fid(doc: &str) -> i64 {
    let at = doc
        .find("rid=\"parcels.")
        .unwrap_or_else(|| panic!("no inserted fid in {doc}"));
    doc[at + 13..].split('"').next().unwrap().parse().unwrap()
}

/// Polls `f` every 200 ms until it gives `Some`, for at most `secs`.
fn within<T>(secs: u64, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let t = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            t.elapsed() < Duration::from_secs(secs),
            "{what}: not within {secs} s"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// PostgreSQL stopped and started again under a serving geoplan, with
/// readers requesting features and tiles all along: every read is
/// answered 200 from memory; a WFS-T Insert while the database is away is
/// a 503 with Retry-After and an OGC exception (after the connect timeout,
/// not a hang); once the database is back the same Insert succeeds; no
/// committed edit is lost; and an edit made in SQL while geoplan could not
/// reach the database (it was up on its Unix socket only, so its NOTIFY
/// went to no one) is in the served data once geoplan reconnects.
#[test]
fn postgresql_restarted_under_load_reads_from_memory_refuses_writes_with_503_then_catches_up() {
    let pg = Cluster::new();
    let gpkg = geoplan::store::gpkg::GpkgStore::open(SAMPLE).unwrap();
    let layers: Vec<_> = ["parcels", "admin_units", "pois"]
        .iter()
        .map(|n| gpkg.read_layer(n).unwrap())
        .collect();
    let parcels = &layers[0];
    let some = parcels.len() / 3;
    let (fid_sql, corner) = {
        let row = parcels.row(some);
        let c = match row.geometry.as_ref().unwrap() {
            geo_types::Geometry::Polygon(p) => p.exterior().0[0],
            geo_types::Geometry::MultiPolygon(m) => m.0[0].exterior().0[0],
            other => panic!("not a polygon: {other:?}"),
        };
        (parcels.fids[some], c)
    };
    block_on(async {
        let admin = sqlx::PgPool::connect(&pg.url("postgres")).await.unwrap();
        sqlx::query("CREATE DATABASE geoplan")
            .execute(&admin)
            .await
            .unwrap();
        let store = geoplan::store::postgis::PostgisStore::connect(&pg.url("geoplan"))
            .await
            .unwrap();
        store.migrate().await.unwrap();
        store.load(&layers, &|_| {}).await.unwrap();
    });
    let dir = tempfile::tempdir().unwrap();
    let toml = format!(
        "[store]\ndatabase_url = \"{}\"\nconnect_timeout_secs = 3\n\
         [ogc]\neditable = [\"parcels\"]\n[ogc.api_keys]\n\"fault-tests\" = \"{}\"\n",
        pg.url("geoplan"),
        geoplan::http::auth::hash_api_key(API_KEY)
    );
    let server = Server::start(dir.path(), &toml, &[]);
    let port = server.port;
    let tile = get(port, TILE);
    assert_eq!(tile.status, 200, "{}", tile.text());
    assert!(!tile.body.is_empty());

    // A committed edit before the restart.
    let before = transact(
        port,
        &insert_doc(
            corner.x + 2.0,
            corner.y + 2.0,
            900_001,
            "Trước khi khởi động lại",
        ),
    );
    assert_eq!(before.status, 200, "{}", before.text());
    let fid_before = inserted_fid(&before.text());

    // Readers, all along.
    let stop = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = [
        TILE.to_owned(),
        format!("/layers/parcels/features/{fid_sql}"),
        format!(
            "/layers/parcels/features?bbox={},{},{},{}&bbox-crs=EPSG:5899&limit=50",
            corner.x - 200.0,
            corner.y - 200.0,
            corner.x + 200.0,
            corner.y + 200.0
        ),
    ]
    .into_iter()
    .map(|path| {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let (mut ok, mut bad) = (0usize, Vec::new());
            while !stop.load(Ordering::Relaxed) {
                match request(port, "GET", &path, &[], b"") {
                    Ok(a) if a.status == 200 => ok += 1,
                    Ok(a) => bad.push(format!("{path}: {} {}", a.status, a.text())),
                    Err(e) => bad.push(format!("{path}: {e}")),
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            (ok, bad)
        })
    })
    .collect();

    pg.stop();
    // Reads answer from memory; a tile not rendered before too.
    assert_eq!(get(port, TILE).body, tile.body);
    let other_tile = get(port, "/tiles/parcels/16/52490/29839.mvt");
    assert!(
        matches!(other_tile.status, 200 | 204),
        "{}",
        other_tile.text()
    );
    let served = get(port, &format!("/layers/parcels/features/{fid_before}"));
    assert_eq!(served.status, 200, "{}", served.text());
    // A write: 503, Retry-After, an OGC exception report saying so.
    let doc = insert_doc(
        corner.x + 6.0,
        corner.y + 2.0,
        900_002,
        "Trong khi khởi động lại",
    );
    let refused = transact(port, &doc);
    assert_eq!(refused.status, 503, "{}", refused.text());
    assert!(
        refused.head.contains("\r\nretry-after: 5"),
        "{}",
        refused.head
    );
    let text = refused.text();
    assert!(
        text.contains("ExceptionReport") && text.contains("try again"),
        "{text}"
    );

    // The database back on its Unix socket only: an edit in SQL that
    // geoplan cannot hear of (its listener cannot connect).
    pg.start(false);
    block_on(async {
        let db = sqlx::PgPool::connect(&pg.socket_url("geoplan"))
            .await
            .unwrap();
        sqlx::query(
            "UPDATE geoplan.parcels SET address = 'Sửa khi geoplan vắng mặt' WHERE fid = $1",
        )
        .bind(fid_sql)
        .execute(&db)
        .await
        .unwrap();
        db.close().await;
    });
    pg.stop();
    pg.start(true);

    // The same write succeeds once the pool reconnects.
    let after = within(20, "the write after the restart", || {
        let a = transact(port, &doc);
        match a.status {
            200 => Some(a),
            503 => None,
            s => panic!("{s}: {}", a.text()),
        }
    });
    let fid_after = inserted_fid(&after.text());
    // The edit made while geoplan was away is picked up.
    within(30, "the SQL edit made while the listener was away", || {
        let a = get(port, &format!("/layers/parcels/features/{fid_sql}"));
        a.text().contains("Sửa khi geoplan vắng mặt").then_some(())
    });
    stop.store(true, Ordering::Relaxed);
    let mut reads = 0;
    for r in readers {
        let (ok, bad) = r.join().unwrap();
        assert!(bad.is_empty(), "reads that failed: {bad:?}");
        reads += ok;
    }
    assert!(reads > 0);
    // Nothing committed is lost: both inserts in the database and served.
    let stored: Vec<(i64, String)> = block_on(async {
        let db = sqlx::PgPool::connect(&pg.url("geoplan")).await.unwrap();
        sqlx::query_as("SELECT fid::int8, address FROM geoplan.parcels WHERE sheet_number::text = '99' ORDER BY fid")
            .fetch_all(&db)
            .await
            .unwrap()
    });
    assert_eq!(
        stored,
        [
            (fid_before, "Trước khi khởi động lại".to_owned()),
            (fid_after, "Trong khi khởi động lại".to_owned())
        ]
    );
    for fid in [fid_before, fid_after] {
        let a = get(port, &format!("/layers/parcels/features/{fid}"));
        assert_eq!(a.status, 200, "{fid}: {}", a.text());
    }
    let log = server.log();
    println!("{reads} reads answered 200 meanwhile; the server's log:\n{log}");
    assert!(log.contains("reconnected"), "{log}");
}

// ------------------------------------------------- tile disk cache full

/// A tmpfs mounted for the test, unmounted when dropped.
struct Mount(PathBuf);

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// Tiles over parcels spread across the sample: those at zooms 15 and 16
/// holding the first corner of every 1,000th parcel.
fn tiles_over_parcels(port: u16) -> Vec<String> {
    fn first(c: &serde_json::Value) -> (f64, f64) {
        match c[0].as_f64() {
            Some(lon) => (lon, c[1].as_f64().unwrap()),
            None => first(&c[0]),
        }
    }
    let mut tiles = std::collections::BTreeSet::new();
    for k in 0..20 {
        let a = get(
            port,
            &format!("/layers/parcels/features?limit=1&offset={}", k * 1000),
        );
        let j: serde_json::Value = serde_json::from_slice(&a.body).unwrap();
        for f in j["features"].as_array().unwrap() {
            let (lon, lat) = first(&f["geometry"]["coordinates"]);
            for z in [15u32, 16] {
                let n = f64::from(1u32 << z);
                let x = ((lon + 180.0) / 360.0 * n).floor();
                let r = lat.to_radians();
                let y = ((1.0 - (r.tan() + 1.0 / r.cos()).ln() / std::f64::consts::PI) / 2.0 * n)
                    .floor();
                tiles.insert(format!("/tiles/parcels/{z}/{x}/{y}.mvt"));
            }
        }
    }
    tiles.into_iter().collect()
}

/// The disk under the tile cache full (a 64 KiB tmpfs, no memory cache,
/// so every tile goes through the disk): each tile is still answered, with
/// the same bytes as a server without a disk cache, the first time and
/// again (from the disk where it fitted, rendered where it did not); no
/// part-written file is left to fill the disk further.
#[test]
fn tiles_are_served_whole_when_the_disk_cache_is_full() {
    let dir = tempfile::tempdir().unwrap();
    let mnt = dir.path().join("mnt");
    std::fs::create_dir(&mnt).unwrap();
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=64k", "tmpfs"])
        .arg(&mnt)
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    let _mount = mounted.then(|| Mount(mnt.clone()));
    if !mounted {
        println!(
            "no tmpfs could be mounted here (not root?): the cache is made unwritable instead"
        );
    }
    let cache = mnt.join("cache");
    let gpkg = dir.path().join("sample.gpkg");
    std::fs::copy(SAMPLE, &gpkg).unwrap();
    let toml = format!(
        "[tiles]\ncache_bytes = 0\ndisk_cache = \"{}\"\n",
        cache.display()
    );
    let server = Server::start(dir.path(), &toml, &["--gpkg", gpkg.to_str().unwrap()]);
    if !mounted {
        // Where the layer's folder would go, a file: no tile can be written.
        std::fs::write(cache.join("parcels"), b"").unwrap();
    }
    let plain_dir = tempfile::tempdir().unwrap();
    let plain = Server::start(plain_dir.path(), "", &["--gpkg", gpkg.to_str().unwrap()]);
    let tiles = tiles_over_parcels(plain.port);
    let expected: Vec<Answer> = tiles.iter().map(|t| get(plain.port, t)).collect();
    let with_data = expected.iter().filter(|a| a.status == 200).count();
    assert!(with_data >= 8, "too few tiles with data to fill the disk");
    for round in ["first", "second"] {
        for (t, want) in tiles.iter().zip(&expected) {
            let a = get(server.port, t);
            assert_eq!(a.status, want.status, "{round} {t}: {}", a.text());
            assert!(a.body == want.body, "{round} {t}: other bytes");
        }
    }
    // The cache was used and ran out of room, leaving only whole tiles.
    let (mut whole, mut partial) = (0, Vec::new());
    let mut stack = vec![cache.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.to_string_lossy().ends_with(".mvt.gz") {
                whole += 1;
            } else if p.to_string_lossy().contains(".tmp") {
                partial.push(p);
            }
        }
    }
    println!(
        "{whole} of {with_data} tiles with data fitted on the disk cache; the log:\n{}",
        server.log()
    );
    assert!(partial.is_empty(), "part-written files left: {partial:?}");
    if mounted {
        assert!(whole > 0, "no tile was cached at all");
        assert!(
            whole < with_data,
            "every tile fitted: the disk never filled"
        );
    }
    assert!(
        server.log().contains("could not be written"),
        "the failure is logged"
    );
}

// -------------------------------------------------------- slowloris body

/// A client that announces a 100,000-byte body and sends it a byte at a
/// time is answered 408 once `[limits] body_read_timeout_secs` has passed
/// (however steadily the bytes trickle) and disconnected, and other
/// requests are answered meanwhile.
#[test]
fn a_body_that_trickles_in_is_cut_off_with_408_and_others_are_served() {
    let dir = tempfile::tempdir().unwrap();
    let gpkg = dir.path().join("sample.gpkg");
    std::fs::copy(SAMPLE, &gpkg).unwrap();
    let server = Server::start(
        dir.path(),
        "[limits]\nbody_read_timeout_secs = 3\n",
        &["--gpkg", gpkg.to_str().unwrap()],
    );
    let port = server.port;
    let mut slow = TcpStream::connect(("127.0.0.1", port)).unwrap();
    slow.write_all(
        b"POST /wfs HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/xml\r\nContent-Length: 100000\r\n\r\n<",
    )
    .unwrap();
    let mut dribble = slow.try_clone().unwrap();
    let done = Arc::new(AtomicBool::new(false));
    let d = done.clone();
    let dribbler = std::thread::spawn(move || {
        let mut sent = 1;
        // A byte every 1.3 s for up to a minute, until the server is done.
        while !d.load(Ordering::Relaxed) && sent < 50 {
            std::thread::sleep(Duration::from_millis(1300));
            if d.load(Ordering::Relaxed) || dribble.write_all(b"w").is_err() {
                break;
            }
            sent += 1;
        }
        sent
    });
    // Another request is answered while the body trickles.
    let layers = get(port, "/layers");
    assert_eq!(layers.status, 200, "{}", layers.text());
    // The slow one: answered and closed (a read that times out after a
    // minute means the server still holds it).
    slow.set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let mut raw = Vec::new();
    let end = slow.read_to_end(&mut raw);
    done.store(true, Ordering::Relaxed);
    let sent = dribbler.join().unwrap();
    assert!(
        end.is_ok(),
        "the trickling client is still connected: {end:?}"
    );
    let a = parse_answer(&raw);
    assert_eq!(a.status, 408, "{}", a.text());
    assert!(a.text().contains("body_read_timeout_secs"), "{}", a.text());
    assert!(sent < 50, "the server waited for the whole trickle");
    println!("cut off after {sent} of 100000 bytes: {}", a.text());
    let again = get(port, "/layers");
    assert_eq!(again.status, 200);
}
