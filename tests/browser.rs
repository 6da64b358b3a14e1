//! The planning page in a real browser: geoplan serves the sample on a
//! loopback port, and the scripts in `web/test/` drive Debian's Chromium
//! with Playwright against it — `map.mjs` the map (tiles, land-use colours,
//! legend, layer switcher, click → card), `app.mjs` every feature of the web
//! app. Screenshots go to `target/browser/`. `make test` installs Chromium
//! and the npm packages; these tests fail if they are missing rather than
//! skipping.

use geoplan::config::Config;
use geoplan::http::{app, AppState};
use geoplan::store::{gpkg::GpkgStore, Store};
use std::process::Command;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Runs `web/test/{script}` with Node against the server at `addr` and
/// `args`, and asserts that every browser check passed.
async fn page_checks(script: &str, addr: std::net::SocketAddr, args: Vec<String>) {
    let script = format!("{ROOT}/web/test/{script}");
    let out = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg(&script)
            .arg(format!("http://{addr}"))
            .args(&args)
            .current_dir(ROOT)
            .output()
    })
    .await
    .unwrap()
    .expect("node must be installed (make test checks it)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    assert!(
        out.status.success() && stdout.contains(" passed, 0 failed"),
        "the browser checks failed:\n{stdout}\n{stderr}\n(needs `npm ci --prefix web` and Debian's chromium: make test installs both)"
    );
}

/// Where the runs leave their screenshots for a person to look at.
fn shots() -> String {
    let dir = format!("{ROOT}/target/browser");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_planner_sees_the_planning_map_and_clicks_a_parcel() {
    let s = AppState::new(
        Store::Gpkg(GpkgStore::open(format!("{ROOT}/data/sample.gpkg")).unwrap()),
        Config::default(),
    );
    s.load_all().await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app(s)).await });
    page_checks("map.mjs", addr, vec![format!("{}/00-map.png", shots())]).await;
}

mod common;

/// The whole planning page as an investment officer uses it, every numbered
/// feature of the web app (web/test/app.mjs): search, card, sheet, measure,
/// site search, compliance check, projects (an editor moves a stage, on a
/// copy of the sample), statistics, as-of day, English, a phone. Each
/// view's screenshot is left in target/browser/ for a person to look at.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_investment_officer_answers_the_planning_questions_from_the_page() {
    const USER: &str = "tran.thi.mai";
    const PASSWORD: &str = "Quy hoạch Đà Nẵng 2026";
    let mut cfg = Config::default();
    cfg.ogc.editable = vec!["investment_projects".into()];
    cfg.ogc.users.insert(
        USER.into(),
        geoplan::http::auth::hash_password(PASSWORD).unwrap(),
    );
    let (addr, _s, _dir) = common::serve_copy(cfg).await;
    page_checks("app.mjs", addr, vec![shots(), USER.into(), PASSWORD.into()]).await;
}
