//! Planning benchmarks on the 1,000,000-parcel set: parcel lookup by
//! cadastral key and by free text (issue target p99 ≤ 5 ms), the planning
//! answer for a parcel (≤ 20 ms), the information sheet (answer, map
//! extract, composition and PDF; ≤ 1 s) and the compliance check of a
//! site (the parcel as a drawn site), and statistics by unit over every
//! parcel (≤ 200 ms). Prints p50/p99 over a fixed sample
//! of parcels, then criterion's means.
//!
//! ```sh
//! geoplan sample --seed 7 --parcels 1000000 --out target/bench-data/parcels-1000000.gpkg
//! GEOPLAN_BENCH_GPKG=target/bench-data/parcels-1000000.gpkg cargo bench --bench planning
//! ```

use criterion::{criterion_group, criterion_main, Criterion};
use geoplan::config::Config;
use geoplan::engine::{Catalog, Engine, Layer, LayerMeta, Part};
use geoplan::planning::check::{check, CheckLimits, Proposal};
use geoplan::planning::info::{answer, InfoQuery, Subject};
use geoplan::planning::overlay::polygons;
use geoplan::planning::parcels::{find, ParcelQuery};
use geoplan::planning::stats::{landuse, projects, Grouping, LanduseQuery, Level, ProjectsBy};
use geoplan::report::pdf::render_pdf;
use geoplan::report::sheet::{information_sheet, sheet_map, subject_plane, Issue, PrintKit};
use geoplan::store::gpkg::GpkgStore;
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

const LAYERS: &[&str] = &[
    "parcels",
    "admin_units",
    "admin_lineage",
    "plans",
    "zoning_lots",
    "industrial_zones",
    "investment_projects",
    "water",
    "roads",
    "pois",
];

fn catalog() -> Arc<Catalog> {
    let path = std::env::var("GEOPLAN_BENCH_GPKG")
        .unwrap_or_else(|_| "target/bench-data/parcels-1000000.gpkg".into());
    let store = GpkgStore::open(&path).unwrap_or_else(|e| {
        panic!("{e}: generate it with `geoplan sample --seed 7 --parcels 1000000 --out {path}`")
    });
    let config = Config::default();
    let t = Instant::now();
    let layers: Vec<Layer> = LAYERS
        .iter()
        .map(|n| {
            Layer::new(
                store.read_layer(n).unwrap(),
                LayerMeta::from_config(n, &config),
            )
            .unwrap()
        })
        .collect();
    println!(
        "loaded {} layers in {:.1} s",
        layers.len(),
        t.elapsed().as_secs_f64()
    );
    let engine = Engine::new();
    engine.publish_all(layers);
    engine.snapshot()
}

/// Every `step`-th parcel's key: (fid, commune code, sheet, parcel).
fn keys(cat: &Catalog, n: usize) -> Vec<(i64, String, i64, i64)> {
    let l = cat.layer("parcels").unwrap();
    let d = l.data(Part::Base);
    let col = |f: &str| d.field_index(f).unwrap();
    let (c, s, p) = (
        col("commune_code"),
        col("sheet_number"),
        col("parcel_number"),
    );
    let step = (d.len() / n).max(1);
    (0..d.len())
        .step_by(step)
        .filter_map(|r| {
            use geoplan::model::ValueRef::{Int, Text};
            match (d.value(r, c), d.value(r, s), d.value(r, p)) {
                (Text(c), Int(s), Int(p)) => Some((d.fids[r], c.to_owned(), s, p)),
                _ => None,
            }
        })
        .take(n)
        .collect()
}

fn percentiles(label: &str, mut t: Vec<Duration>) {
    t.sort();
    let at = |q: f64| t[((t.len() as f64 * q) as usize).min(t.len() - 1)];
    println!(
        "{label}: n={} p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
        t.len(),
        at(0.50).as_secs_f64() * 1e3,
        at(0.99).as_secs_f64() * 1e3,
        t[t.len() - 1].as_secs_f64() * 1e3
    );
}

fn time<T>(f: impl FnOnce() -> T) -> Duration {
    let t = Instant::now();
    black_box(f());
    t.elapsed()
}

fn bench(c: &mut Criterion) {
    let cat = catalog();
    let sample = keys(&cat, 2000);
    let by_key = |(_, code, sheet, parcel): &(i64, String, i64, i64)| ParcelQuery {
        commune: Some(code.clone()),
        sheet: Some(*sheet),
        parcel: Some(*parcel),
        limit: 20,
        ..Default::default()
    };
    let gaz = geoplan::planning::admin::Gazetteer::from_catalog(&cat).unwrap();
    let by_text = |(_, code, sheet, parcel): &(i64, String, i64, i64)| ParcelQuery {
        q: Some(format!(
            "tờ {sheet} thửa {parcel} {}",
            gaz.commune(code).map_or(code.as_str(), |u| u.name.as_str())
        )),
        limit: 20,
        ..Default::default()
    };
    let info = |fid: i64| InfoQuery {
        subject: Subject::Parcel(fid),
        as_of: "2026-06-01".into(),
        tolerance_m: 0.5,
    };
    // Warm the keyed index and PROJ before timing.
    find(&cat, &by_key(&sample[0])).unwrap();
    answer(&cat, &info(sample[0].0)).unwrap();

    percentiles(
        "lookup by key (commune code, sheet, parcel)",
        sample
            .iter()
            .map(|k| time(|| find(&cat, &by_key(k)).unwrap()))
            .collect(),
    );
    percentiles(
        "lookup by free text (\"tờ N thửa M <commune>\")",
        sample
            .iter()
            .map(|k| {
                let q = by_text(k);
                let t = time(|| find(&cat, &q).unwrap());
                if t > Duration::from_millis(20) {
                    println!("slow: {:.1} ms for {:?}", t.as_secs_f64() * 1e3, q.q);
                }
                t
            })
            .collect(),
    );
    percentiles(
        "planning answer for a parcel",
        sample[..500]
            .iter()
            .map(|k| time(|| answer(&cat, &info(k.0)).unwrap()))
            .collect(),
    );

    // The sheet: answer, map extract, composition, PDF.
    let root = env!("CARGO_MANIFEST_DIR");
    let style: serde_json::Value =
        serde_json::from_slice(&std::fs::read(format!("{root}/styles/planning.json")).unwrap())
            .unwrap();
    let kit = PrintKit::new(Some(&style), "/usr/share/fonts/truetype/dejavu".as_ref()).unwrap();
    let issue = Issue {
        code: "7K3QZ-M9X2D".into(),
        verify_url: "http://localhost:8080/planning/sheet/verify/7K3QZM9X2D".into(),
        issued_at: "2026-12-03 08:00 UTC".into(),
    };
    let sheet = |fid: i64| {
        let info = answer(&cat, &info(fid)).unwrap();
        let plane = subject_plane(&cat, &info, None);
        let map = sheet_map(&kit, &cat, plane.as_ref(), None).unwrap();
        render_pdf(&information_sheet(&info, Some(&map), &issue), &kit.fonts).unwrap()
    };
    percentiles(
        "information sheet (answer + map + PDF)",
        sample[..60].iter().map(|k| time(|| sheet(k.0))).collect(),
    );
    // The check: each parcel drawn as a site, a commercial proposal.
    let parcels = cat.layer("parcels").unwrap();
    let site_of = |fid: i64| {
        let f = parcels.get(fid).unwrap();
        polygons(&parcels.data(f.part).geometry_of(f.row as usize).unwrap())
    };
    let proposal = Proposal {
        use_code: "TMD".into(),
        floors: Some(12),
        density_pct: Some(60.0),
        far: Some(5.0),
        gfa_m2: None,
    };
    let limits = CheckLimits {
        tolerance_m: 0.5,
        heritage_buffer_m: 100.0,
    };
    let sites: Vec<_> = sample[..500].iter().map(|k| site_of(k.0)).collect();
    percentiles(
        "compliance check of a parcel-sized site",
        sites
            .iter()
            .map(|s| time(|| check(&cat, s, &proposal, "2026-06-01", limits).unwrap()))
            .collect(),
    );

    // Statistics over the whole parcel layer.
    for (label, level, day) in [
        (
            "statistics by new unit, 2025-07-01",
            Level::Commune,
            "2025-07-01",
        ),
        (
            "statistics by old district, 2025-06-30",
            Level::District,
            "2025-06-30",
        ),
    ] {
        let q = LanduseQuery {
            level,
            as_of: day.into(),
            unit: None,
            group: Grouping::Code,
        };
        let s = landuse(&cat, &q).unwrap();
        assert_eq!(s.reconciles, Some(true));
        percentiles(
            label,
            (0..20)
                .map(|_| time(|| landuse(&cat, &q).unwrap()))
                .collect(),
        );
    }
    percentiles(
        "project statistics by unit",
        (0..20)
            .map(|_| time(|| projects(&cat, ProjectsBy::Unit, "2025-07-01").unwrap()))
            .collect(),
    );

    let mut i = 0;
    c.bench_function("planning: parcel lookup by key, 1M parcels", |b| {
        b.iter(|| {
            i = (i + 1) % sample.len();
            find(&cat, &by_key(&sample[i])).unwrap()
        })
    });
    c.bench_function("planning: parcel lookup by free text, 1M parcels", |b| {
        b.iter(|| {
            i = (i + 1) % sample.len();
            find(&cat, &by_text(&sample[i])).unwrap()
        })
    });
    c.bench_function("planning: answer for a parcel, 1M parcels", |b| {
        b.iter(|| {
            i = (i + 1) % 500;
            answer(&cat, &info(sample[i].0)).unwrap()
        })
    });
    c.bench_function("planning: compliance check of a site, 1M parcels", |b| {
        b.iter(|| {
            i = (i + 1) % sites.len();
            check(&cat, &sites[i], &proposal, "2026-06-01", limits).unwrap()
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(50).measurement_time(Duration::from_secs(5));
    targets = bench
}
criterion_main!(benches);
