//! The map page in a real browser: geoplan serves the committed sample on
//! a loopback port, and `web/test/map.mjs` drives Debian's Chromium with
//! Playwright against it (page loads, tiles arrive, land-use colours on the
//! canvas, legend, layer switcher, click → parcel attributes). `make test`
//! installs Chromium and the npm packages; this test fails if they are
//! missing rather than skipping.

use geoplan::config::Config;
use geoplan::http::{app, AppState};
use geoplan::store::{gpkg::GpkgStore, Store};
use std::process::Command;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

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
    let shot = std::env::temp_dir().join(format!("geoplan-map-{}.png", std::process::id()));
    let out = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg(format!("{ROOT}/web/test/map.mjs"))
            .arg(format!("http://{addr}"))
            .arg(&shot)
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
    let shots = format!("{ROOT}/target/browser");
    let out = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg(format!("{ROOT}/web/test/app.mjs"))
            .arg(format!("http://{addr}"))
            .arg(&shots)
            .arg(USER)
            .arg(PASSWORD)
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
        "the page checks failed:\n{stdout}\n{stderr}"
    );
}
