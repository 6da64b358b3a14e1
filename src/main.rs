//! The `geoplan` command: a thin CLI over the library.

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use geoplan::config::Config;
use geoplan::http::{app, AppState};
use geoplan::store::{gpkg::GpkgStore, postgis::PostgisStore, Store};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::PathBuf;
use std::time::Duration;

/// geoplan: a GIS server for urban planning and investment management in
/// Đà Nẵng – Quảng Nam (VN-2000, cadastral parcels, zoning plans, projects).
#[derive(Parser)]
#[command(version, about, long_about = None)]
struct Cli {
    /// Configuration file (geoplan.toml). Without it, defaults are used.
    #[arg(long, short, global = true, env = "GEOPLAN_CONFIG")]
    config: Option<PathBuf>,
    /// Log lines as text, or as JSON objects (one per line, with the
    /// request id of the request they belong to), for a log collector.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    #[command(subcommand)]
    cmd: Cmd,
}

/// Set once logging is JSON: the server's own lines become events too.
static JSON_LOGS: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// A line of the running server: printed in text mode, an info event (a
/// JSON line on standard output) with `--log-format json`.
macro_rules! say {
    ($($arg:tt)*) => {
        if JSON_LOGS.load(std::sync::atomic::Ordering::Relaxed) {
            tracing::info!(target: "geoplan::serve", "{}", format_args!($($arg)*));
        } else {
            println!($($arg)*);
        }
    };
}

/// How log lines are written.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum LogFormat {
    /// Readable text.
    Text,
    /// One JSON object per line.
    Json,
}

#[derive(Subcommand)]
enum Cmd {
    /// Serve the layers over HTTP, from PostGIS when a database URL is
    /// given (flag, config or DATABASE_URL), else from the GeoPackage.
    Serve {
        /// Listen address, e.g. 0.0.0.0:8080 (overrides the config).
        #[arg(long)]
        listen: Option<String>,
        /// PostGIS URL (overrides the config and DATABASE_URL).
        #[arg(long)]
        database_url: Option<String>,
        /// GeoPackage to serve when no database is used.
        #[arg(long)]
        gpkg: Option<PathBuf>,
        /// Log each response (method, URI, status, milliseconds, request
        /// id; target geoplan::access).
        #[arg(long)]
        access_log: bool,
    },
    /// Write the deterministic synthetic sample of Đà Nẵng – Quảng Nam
    /// (EPSG:5899) to a GeoPackage.
    Sample {
        /// Random seed: the same seed and size give the same file.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Number of cadastral parcels.
        #[arg(long, default_value_t = 20_000)]
        parcels: usize,
        /// Output file.
        #[arg(long, default_value = "data/sample.gpkg")]
        out: PathBuf,
    },
    /// Render the tiles of some layers over a zoom range into a PMTiles or
    /// MBTiles archive, on all cores.
    Seed {
        /// Layer ids, comma-separated (one MVT layer each).
        #[arg(long)]
        layers: String,
        /// First zoom.
        #[arg(long, default_value_t = 0)]
        minzoom: u8,
        /// Last zoom.
        #[arg(long, default_value_t = 14)]
        maxzoom: u8,
        /// Area as west,south,east,north in degrees (default: the layers' extent).
        #[arg(long)]
        bbox: Option<String>,
        /// Output archive: *.pmtiles or *.mbtiles.
        #[arg(long)]
        out: PathBuf,
        /// PostGIS URL (overrides the config and DATABASE_URL).
        #[arg(long)]
        database_url: Option<String>,
        /// GeoPackage to read when no database is used.
        #[arg(long)]
        gpkg: Option<PathBuf>,
    },
    /// Apply the PostGIS schema migrations (migrations/).
    Migrate {
        /// PostGIS URL (else config or DATABASE_URL).
        #[arg(long)]
        database_url: Option<String>,
    },
    /// Print a hash to paste into geoplan.toml: of a password, for
    /// [ogc.users] (Argon2id), or of an API key, for [ogc.api_keys]
    /// (sha256:…). The secret is read from standard input (one line), so it
    /// stays out of the shell history and the process list.
    HashPassword {
        /// Hash an API key instead of a password.
        #[arg(long, conflicts_with = "new_api_key")]
        api_key: bool,
        /// Make a new random API key and print it, then its hash (nothing
        /// is read).
        #[arg(long)]
        new_api_key: bool,
    },
    /// Import the province's files into a layer, in one transaction of the
    /// store that serves (PostGIS when a database URL is given, else the
    /// GeoPackage): Shapefiles (loose or zipped), GeoPackage, KML, GeoJSON,
    /// GML, DGN v7, CSV. The CRS and the text encoding (TCVN3, VNI,
    /// Windows-1258, UTF-8) are detected unless given; fields are matched
    /// by common Vietnamese names or a mapping file. Prints a report.
    Import {
        #[command(flatten)]
        args: ImportArgs,
        /// PostGIS URL (overrides the config and DATABASE_URL).
        #[arg(long)]
        database_url: Option<String>,
        /// GeoPackage to write when no database is used.
        #[arg(long)]
        gpkg: Option<PathBuf>,
    },
    /// Check a configuration before serving it: the listen address, the
    /// public URL, the users' hashes and the editable layers, the store
    /// (reachable, with the layers named), the map page, styles and fonts,
    /// and the tile disk cache (writable). Prints one line per check and
    /// exits 1 when any fails.
    CheckConfig {
        /// PostGIS URL (overrides the config and DATABASE_URL).
        #[arg(long)]
        database_url: Option<String>,
        /// GeoPackage to check when no database is used.
        #[arg(long)]
        gpkg: Option<PathBuf>,
    },
    /// Copy every layer of a GeoPackage into PostGIS, with its project
    /// history, in one transaction. The layers' rows are replaced; the
    /// history is appended to (rows already in PostGIS alike are skipped).
    Load {
        /// Source GeoPackage.
        #[arg(long, default_value = "data/sample.gpkg")]
        from: PathBuf,
        /// PostGIS URL (else config or DATABASE_URL).
        #[arg(long)]
        database_url: Option<String>,
    },
}

fn progress(len: Option<u64>, what: &str) -> ProgressBar {
    let pb = match len {
        Some(n) => ProgressBar::new(n),
        None => ProgressBar::no_length(),
    };
    pb.set_style(
        ProgressStyle::with_template(
            "{msg} [{elapsed_precise}] {wide_bar} {pos}/{len} ({per_sec})",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    pb.set_message(what.to_owned());
    pb
}

fn database_url(cfg: &Config, flag: Option<String>) -> Result<String> {
    flag.or_else(|| cfg.store.database_url.clone())
        .context("no database URL: give --database-url, set DATABASE_URL, or store.database_url in the config")
}

/// Applies the `--database-url` and `--gpkg` flags: a GeoPackage given on
/// the command line without a configuration file serves alone (no
/// PostGIS from the environment).
fn choose_store(
    cfg: &mut Config,
    database_url: Option<String>,
    gpkg: Option<PathBuf>,
    no_config_file: bool,
) {
    if database_url.is_some() {
        cfg.store.database_url = database_url;
    }
    if let Some(g) = gpkg {
        cfg.store.gpkg = g;
        if no_config_file {
            cfg.store.database_url = None;
        }
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    let cli = Cli::parse();
    // RUST_LOG, when set, says it all; else geoplan's own lines at info,
    // the access log only when asked for.
    let access = matches!(
        cli.cmd,
        Cmd::Serve {
            access_log: true,
            ..
        }
    );
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        if access {
            "geoplan=info,tower_http=warn".into()
        } else {
            "geoplan=info,geoplan::access=off,tower_http=warn".into()
        }
    });
    match cli.log_format {
        LogFormat::Text => tracing_subscriber::fmt().with_env_filter(filter).init(),
        LogFormat::Json => {
            JSON_LOGS.store(true, std::sync::atomic::Ordering::Relaxed);
            tracing_subscriber::fmt()
                .json()
                .flatten_event(true)
                .with_current_span(true)
                .with_span_list(false)
                .with_env_filter(filter)
                .init()
        }
    }
    let mut cfg = match &cli.config {
        Some(p) => Config::load(p)?,
        None => {
            let mut c = Config::default();
            c.apply_env();
            c
        }
    };
    match cli.cmd {
        Cmd::Serve {
            listen,
            database_url,
            gpkg,
            access_log: _,
        } => {
            if let Some(l) = listen {
                cfg.listen = l;
            }
            choose_store(&mut cfg, database_url, gpkg, cli.config.is_none());
            serve(cfg).await
        }
        Cmd::CheckConfig { database_url, gpkg } => {
            choose_store(&mut cfg, database_url, gpkg, cli.config.is_none());
            if check_config(&cfg).await {
                println!("configuration ok");
                Ok(())
            } else {
                anyhow::bail!("the configuration has problems (FAIL lines above)")
            }
        }
        Cmd::Sample { seed, parcels, out } => {
            let pb = progress(Some(parcels as u64), "generating parcels");
            let opts = geoplan::sample::SampleOptions { seed, parcels };
            let p2 = pb.clone();
            let (layers, history) = geoplan::blocking::spawn(move || {
                geoplan::sample::generate_with_history(&opts, &move |n| p2.set_position(n as u64))
            })
            .await??;
            pb.finish();
            let total: u64 = layers.iter().map(|l| l.len() as u64).sum();
            let pb = progress(Some(total), "writing GeoPackage");
            let p2 = pb.clone();
            let out2 = out.clone();
            geoplan::blocking::spawn(move || {
                GpkgStore::write(&out2, &layers, &move |n| p2.set_position(n))?;
                // The projects' procedures beside them.
                GpkgStore::open(&out2)?.put_history(&history)
            })
            .await??;
            pb.finish();
            println!("wrote {} ({total} features)", out.display());
            Ok(())
        }
        Cmd::Seed {
            layers,
            minzoom,
            maxzoom,
            bbox,
            out,
            database_url,
            gpkg,
        } => {
            choose_store(&mut cfg, database_url, gpkg, cli.config.is_none());
            let bbox = match bbox {
                None => None,
                Some(b) => {
                    let n: Vec<f64> = b
                        .split(',')
                        .map(|v| v.trim().parse::<f64>())
                        .collect::<Result<_, _>>()
                        .with_context(|| format!("--bbox {b}: four numbers expected"))?;
                    let arr: [f64; 4] = n
                        .try_into()
                        .map_err(|_| anyhow::anyhow!("--bbox {b}: four numbers expected"))?;
                    Some(arr)
                }
            };
            let store = open_store(&cfg).await?;
            let req = geoplan::seed::SeedRequest {
                layers: layers.split(',').map(str::to_owned).collect(),
                minzoom,
                maxzoom,
                bbox,
                out,
            };
            let pb = progress(None, "seeding tiles");
            let p2 = pb.clone();
            let report = geoplan::seed::seed(&store, &cfg, &req, &move |done, total| {
                p2.set_length(total);
                p2.set_position(done);
            })
            .await?;
            pb.finish();
            println!(
                "wrote {}: {} tiles ({} visited); largest {} bytes at {}/{}/{}",
                report.path.display(),
                report.written,
                report.visited,
                report.largest.0,
                report.largest.1.z,
                report.largest.1.x,
                report.largest.1.y
            );
            Ok(())
        }
        Cmd::HashPassword {
            api_key,
            new_api_key,
        } => {
            use geoplan::http::auth;
            if new_api_key {
                let key = auth::new_api_key();
                println!("key:  {key}");
                println!("hash: {}", auth::hash_api_key(&key));
                return Ok(());
            }
            let secret = read_secret(if api_key { "API key" } else { "Password" })?;
            if api_key {
                println!("{}", auth::hash_api_key(&secret));
            } else {
                println!(
                    "{}",
                    auth::hash_password(&secret).map_err(anyhow::Error::msg)?
                );
            }
            Ok(())
        }
        Cmd::Import {
            args,
            database_url,
            gpkg,
        } => {
            choose_store(&mut cfg, database_url, gpkg, cli.config.is_none());
            import(&cfg, args).await
        }
        Cmd::Migrate { database_url: u } => {
            let pg = PostgisStore::connect(&database_url(&cfg, u)?).await?;
            pg.migrate().await?;
            println!("migrations applied");
            Ok(())
        }
        Cmd::Load {
            from,
            database_url: u,
        } => {
            let pg = PostgisStore::connect(&database_url(&cfg, u)?).await?;
            pg.migrate().await?;
            let src = GpkgStore::open(&from)?;
            let mut layers = Vec::new();
            for name in src.layer_names()? {
                let s = src.clone();
                layers.push(geoplan::blocking::spawn(move || s.read_layer(&name)).await??);
            }
            let s = src.clone();
            let history = geoplan::blocking::spawn(move || s.all_history()).await??;
            let total: u64 = layers.iter().map(|l| l.len() as u64).sum();
            let pb = progress(Some(total), "loading into PostGIS");
            let p2 = pb.clone();
            let (n, h) = pg
                .load_with_history(&layers, &history, &move |n| p2.set_position(n))
                .await?;
            pb.finish();
            println!(
                "loaded {n} features and {h} new project history rows (of {}) from {} in one transaction",
                history.len(),
                from.display()
            );
            Ok(())
        }
    }
}

/// The `geoplan import` arguments but the store's.
#[derive(clap::Args)]
struct ImportArgs {
    /// The files.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// The layer to write (parcels, zoning_lots, plans, …).
    #[arg(long)]
    layer: String,
    /// A TOML mapping file ([fields], [values], [units]).
    #[arg(long)]
    mapping: Option<PathBuf>,
    /// The files' CRS (EPSG:5899, …) or `auto`.
    #[arg(long, default_value = "auto")]
    crs: String,
    /// The text encoding: auto, utf8, tcvn3, vni or cp1258.
    #[arg(long, default_value = "auto")]
    encoding: String,
    /// append, replace or upsert.
    #[arg(long, default_value = "append")]
    mode: String,
    /// The key fields (comma-separated) for upsert and duplicate
    /// checks; default: the layer's natural key.
    #[arg(long)]
    key: Option<String>,
    /// The layer of each file to read (default: its first with features).
    #[arg(long)]
    source_layer: Option<String>,
    /// Read, check and report, but write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Also write the report as JSON to this file.
    #[arg(long)]
    report: Option<PathBuf>,
}

async fn import(cfg: &Config, a: ImportArgs) -> Result<()> {
    use geoplan::import::{prepare, ImportOptions};
    use geoplan::store::source::{self, SourceOptions};
    let mapping = a
        .mapping
        .as_ref()
        .map(|p| std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display())))
        .transpose()?;
    let opts = ImportOptions::parse(Some(&a.mode), a.key.as_deref(), mapping.as_deref())?;
    let sopts = SourceOptions::parse(Some(&a.crs), Some(&a.encoding), a.source_layer.clone())
        .map_err(anyhow::Error::msg)?;
    // The schema must be there to write into.
    if let Some(u) = &cfg.store.database_url {
        PostgisStore::connect(u).await?.migrate().await?;
    }
    let store = open_store(cfg).await?;
    let names = store.layer_names().await?;
    anyhow::ensure!(
        names.contains(&a.layer),
        "layer {} is not in {}; its layers: {}",
        a.layer,
        store.describe(),
        names.join(", ")
    );
    let pb = progress(Some(a.files.len() as u64), "reading");
    let mut sources = Vec::new();
    for f in &a.files {
        pb.set_message(format!("reading {}", f.display()));
        let (f2, o2) = (f.clone(), sopts.clone());
        sources.push(geoplan::blocking::spawn(move || source::read_path(&f2, &o2)).await??);
        pb.inc(1);
    }
    pb.finish_and_clear();
    let target = store.read_layer(&a.layer).await?;
    let mut plan = geoplan::blocking::spawn(move || prepare(&sources, &target, &opts)).await??;
    plan.report.dry_run = a.dry_run;
    if !a.dry_run && !plan.edits.is_empty() {
        let pb = progress(None, "writing in one transaction");
        pb.enable_steady_tick(std::time::Duration::from_millis(200));
        let written = store.write(&plan.edits).await;
        pb.finish_and_clear();
        plan.report.record(&written?);
    }
    print!("{}", plan.report.summary());
    if let Some(p) = &a.report {
        std::fs::write(p, serde_json::to_string_pretty(&plan.report)?)
            .with_context(|| format!("cannot write {}", p.display()))?;
    }
    Ok(())
}

/// One line from standard input, without its line ending; a prompt on
/// standard error when a person is typing.
fn read_secret(what: &str) -> Result<String> {
    use std::io::{BufRead, IsTerminal, Write};
    if std::io::stdin().is_terminal() {
        eprint!("{what} (shown as typed): ");
        let _ = std::io::stderr().flush();
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    let secret = line.trim_end_matches(['\n', '\r']).to_owned();
    anyhow::ensure!(
        !secret.is_empty(),
        "{what}: nothing was given on standard input"
    );
    Ok(secret)
}

/// The configured store: PostGIS when a database URL is set, else the
/// GeoPackage.
async fn open_store(cfg: &Config) -> Result<Store> {
    Ok(match &cfg.store.database_url {
        Some(u) => Store::Postgis(
            PostgisStore::connect_timeout(
                u,
                Duration::from_secs(cfg.store.connect_timeout_secs.max(1)),
            )
            .await?,
        ),
        None => Store::Gpkg(GpkgStore::open(&cfg.store.gpkg).with_context(|| {
            format!(
                "cannot open {}: run `make sample` or `geoplan sample` first",
                cfg.store.gpkg.display()
            )
        })?),
    })
}

/// Runs every check of `geoplan check-config`, printing `ok` or `FAIL` and
/// what was found; true when all pass.
async fn check_config(cfg: &Config) -> bool {
    let mut all = true;
    let mut report = |ok: bool, what: String| {
        println!("{} {what}", if ok { "ok  " } else { "FAIL" });
        all &= ok;
    };
    // As serve reads it: an address or a host name, with a port.
    match tokio::net::lookup_host(&cfg.listen).await {
        Ok(_) => report(true, format!("listen address {}", cfg.listen)),
        Err(e) => report(false, format!("listen address '{}': {e}", cfg.listen)),
    }
    if let Some(u) = &cfg.public_url {
        match url::Url::parse(u) {
            Ok(p) if matches!(p.scheme(), "http" | "https") => {
                report(true, format!("public_url {u}"))
            }
            Ok(_) => report(false, format!("public_url {u}: not http or https")),
            Err(e) => report(false, format!("public_url {u}: {e}")),
        }
    }
    match geoplan::http::auth::Auth::from_config(&cfg.ogc) {
        Ok(_) => report(
            true,
            format!(
                "{} users and {} API keys",
                cfg.ogc.users.len(),
                cfg.ogc.api_keys.len()
            ),
        ),
        Err(e) => report(false, format!("[ogc] users / api_keys: {e}")),
    }
    match open_store(cfg).await {
        Err(e) => report(false, format!("store: {e:#}")),
        Ok(store) => match store.layer_names().await {
            Err(e) => report(false, format!("store {}: {e}", store.describe())),
            Ok(names) => {
                report(
                    !names.is_empty(),
                    format!("store {}: {} layers", store.describe(), names.len()),
                );
                for l in &cfg.ogc.editable {
                    report(
                        names.contains(l),
                        format!("editable layer {l} is in the store"),
                    );
                }
            }
        },
    }
    let index = cfg.web.dir.join("index.html");
    report(index.is_file(), format!("map page {}", index.display()));
    for pkg in geoplan::http::VENDOR {
        let d = cfg.web.dir.join("node_modules").join(pkg).join("dist");
        report(
            d.is_dir(),
            format!("{} (run npm ci in {})", d.display(), cfg.web.dir.display()),
        );
    }
    let style = cfg.web.styles_dir.join("planning.json");
    report(style.is_file(), format!("style {}", style.display()));
    let fonts = std::fs::read_dir(&cfg.web.fonts_dir)
        .map(|d| {
            d.filter_map(|e| e.ok())
                .filter(|e| e.path().extension().is_some_and(|x| x == "ttf"))
                .count()
        })
        .unwrap_or(0);
    report(
        fonts > 0,
        format!("{fonts} TrueType fonts in {}", cfg.web.fonts_dir.display()),
    );
    if let Some(dir) = &cfg.tiles.disk_cache {
        let probe = dir.join(".geoplan-check");
        let writable = std::fs::create_dir_all(dir)
            .and_then(|_| std::fs::write(&probe, b"x"))
            .and_then(|_| std::fs::remove_file(&probe));
        match writable {
            Ok(()) => report(
                true,
                format!("tile disk cache {} is writable", dir.display()),
            ),
            Err(e) => report(false, format!("tile disk cache {}: {e}", dir.display())),
        }
    }
    all
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM (what `systemctl stop` and
/// container runtimes send).
async fn shutdown_signal() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term => {}
    }
}

/// Raises this process's open-file limit to its hard limit and returns
/// the limit now: each client connection is an open file, and the usual
/// soft limit (1,024) refuses connections long before the machine is busy.
fn raise_open_files() -> libc::rlim_t {
    let mut r = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit read and write the struct given;
    // nothing else is touched.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut r) != 0 {
            return 0;
        }
        if r.rlim_cur < r.rlim_max {
            let want = libc::rlimit {
                rlim_cur: r.rlim_max,
                rlim_max: r.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &want) == 0 {
                return want.rlim_cur;
            }
        }
    }
    r.rlim_cur
}

/// Connections the kernel completes before geoplan accepts them. The
/// usual 1,024 overflows in a burst of new connections (a page load asks
/// for dozens of tiles; a crowd arrives at once), and a SYN that finds
/// the queue full is retried by the client only after a second.
const ACCEPT_BACKLOG: u32 = 4096;

/// Listens on `addr` (an IP address or a host name, with a port) with
/// [`ACCEPT_BACKLOG`].
async fn listen_on(addr: &str) -> std::io::Result<tokio::net::TcpListener> {
    let mut last = None;
    for a in tokio::net::lookup_host(addr).await? {
        let socket = match a {
            std::net::SocketAddr::V4(_) => tokio::net::TcpSocket::new_v4()?,
            std::net::SocketAddr::V6(_) => tokio::net::TcpSocket::new_v6()?,
        };
        socket.set_reuseaddr(true)?;
        match socket.bind(a).and_then(|_| socket.listen(ACCEPT_BACKLOG)) {
            Ok(l) => return Ok(l),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| {
        std::io::Error::new(std::io::ErrorKind::NotFound, "the address names no host")
    }))
}

/// How long a stopping server waits for the requests in flight (a WFS
/// stream to a client that stopped reading would hold it forever).
const DRAIN: Duration = Duration::from_secs(30);

async fn serve(cfg: Config) -> Result<()> {
    // Freed pages go back to the system while idle too (a load's buffers).
    geoplan::heap::purge_in_background();
    // A hash that can never match is a configuration error, not a 401 later.
    let auth = geoplan::http::auth::Auth::from_config(&cfg.ogc)?;
    if !cfg.ogc.editable.is_empty() && auth.is_empty() {
        tracing::warn!(
            "ogc.editable lists layers but no ogc.users or ogc.api_keys: no one can edit"
        );
    }
    let store = open_store(&cfg).await?;
    let listen = cfg.listen.clone();
    let public = cfg.public_url();
    let header_read_timeout_secs = cfg.limits.header_read_timeout_secs;
    let state = AppState::new(store, cfg);
    let t = std::time::Instant::now();
    // Listen first, then load: no change can fall between the two.
    state.spawn_change_listener().await?;
    state.load_all().await?;

    let cat = state.data.engine.snapshot();
    say!(
        "geoplan: {} layers from {} in {:.1} s",
        cat.len(),
        state.data.store.describe(),
        t.elapsed().as_secs_f64()
    );
    let (mut mem, mut coords) = (geoplan::engine::LayerMemory::default(), 0usize);
    for l in cat.layers() {
        say!("  {:<22} {:>9} features  {}", l.id, l.len(), l.meta.title);
        let m = l.memory();
        mem.geometry += m.geometry;
        mem.index += m.index;
        mem.attributes += m.attributes;
        mem.pyramid += m.pyramid;
        coords += l.coord_count();
    }
    let mb = |b: usize| b / 1_000_000;
    let raw = coords * 16;
    say!(
        "engine: {coords} coordinates ({} MB as raw x,y doubles); geometry {} MB + R-trees {} MB = {:.2} × raw; attributes {} MB; generalised tile levels {} MB",
        mb(raw),
        mb(mem.geometry),
        mb(mem.index),
        (mem.geometry + mem.index) as f64 / raw.max(1) as f64,
        mb(mem.attributes),
        mb(mem.pyramid)
    );
    say!("open files: up to {}", raise_open_files());
    let listener = listen_on(&listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    say!("serving at {public}/  (layers: {public}/layers)");
    // hyper's own connection loop rather than axum::serve, which gives
    // hyper no timer: without one a client that sends its headers a byte
    // at a time (slowloris), or never, holds a connection for ever.
    use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
    let header_timeout = Duration::from_secs(header_read_timeout_secs.max(1));
    let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout);
    let router = app(state);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut signal = std::pin::pin!(shutdown_signal());
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let stream = match accepted {
                    Ok((stream, _)) => stream,
                    Err(e) => {
                        // Out of files or memory for a moment: wait, not spin.
                        tracing::warn!("accept: {e}");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let (builder, router, watcher) = (builder.clone(), router.clone(), graceful.watcher());
                tokio::spawn(async move {
                    // hyper's header timeout runs from the first byte: a
                    // client that sends none is let go here.
                    let mut first = [0u8; 1];
                    match tokio::time::timeout(header_timeout, stream.peek(&mut first)).await {
                        Ok(Ok(n)) if n > 0 => {}
                        _ => return,
                    }
                    let service = hyper_util::service::TowerToHyperService::new(router);
                    let conn = builder
                        .serve_connection_with_upgrades(TokioIo::new(stream), service)
                        .into_owned();
                    if let Err(e) = watcher.watch(conn).await {
                        tracing::debug!("connection: {e}");
                    }
                });
            }
            _ = &mut signal => break,
        }
    }
    // On a signal: stop accepting, let the requests in flight finish (at
    // most DRAIN), then stop; the change listener ends with the process.
    drop(listener);
    say!("stopping: finishing the requests in flight");
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(DRAIN) => say!("stopping: requests still in flight after {} s, cut", DRAIN.as_secs()),
    }
    say!("stopped");
    Ok(())
}
