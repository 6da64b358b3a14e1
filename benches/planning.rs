//! Planning benchmarks on the 1,000,000-parcel set, or the set
//! `GEOPLAN_BENCH_GPKG` names: parcel lookup by cadastral key and by free
//! text (issue target p99 ≤ 5 ms), the planning answer for a parcel
//! (≤ 20 ms), the information sheet (answer, map extract, composition and
//! PDF; ≤ 1 s) and the compliance check of a site (the parcel as a drawn
//! site), statistics by unit over every parcel (≤ 200 ms), and investor
//! site search (20 randomised realistic searches over lots and parcels;
//! median ≤ 50 ms, p99 ≤ 150 ms) beside the PostGIS SQL that answers the
//! same searches when `GEOPLAN_BENCH_PG` names a database loaded with the
//! same set. Prints p50/p99 over a fixed sample of parcels, then
//! criterion's means. `GEOPLAN_BENCH_ONLY=sites` runs the site searches
//! alone.
//!
//! ```sh
//! geoplan sample --seed 7 --parcels 1000000 --out target/bench-data/parcels-1000000.gpkg
//! geoplan load --from target/bench-data/parcels-1000000.gpkg --database-url postgres://postgres@127.0.0.1/geoplan_bench
//! GEOPLAN_BENCH_GPKG=target/bench-data/parcels-1000000.gpkg \
//! GEOPLAN_BENCH_PG=postgres://postgres@127.0.0.1/geoplan_bench cargo bench --bench planning
//! ```
// criterion_group! writes an undocumented `pub fn`.
#![allow(missing_docs)]

use criterion::{criterion_group, criterion_main, Criterion};
use geoplan::config::Config;
use geoplan::engine::{Catalog, Engine, Layer, LayerMeta, Part};
use geoplan::planning::check::{check, CheckLimits, Proposal};
use geoplan::planning::info::{answer, InfoQuery, Subject};
use geoplan::planning::overlay::polygons;
use geoplan::planning::parcels::{find, ParcelQuery};
use geoplan::planning::projects::{detail, list, ProjectQuery, ALL};
use geoplan::planning::sites::{search, SiteQuery};
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

/// A class of place: the English name a search uses, and the table and
/// column the SQL reads it from.
const CLASSES: &[(&str, &str, &str, &str)] = &[
    ("airport", "pois", "kind", "sân bay"),
    ("seaport", "pois", "kind", "cảng biển"),
    ("national_road", "roads", "road_class", "quốc lộ"),
    ("centre", "pois", "kind", "trung tâm hành chính"),
    ("iz", "industrial_zones", "kind", "khu công nghiệp"),
];

/// One randomised search: its query pairs and the PostGIS SQL answering
/// the same question (total and first page) on the store's EPSG:5899.
struct SiteCase {
    pairs: Vec<(String, String)>,
    sql: String,
}

fn site_cases(n: usize) -> Vec<SiteCase> {
    let mut state = 0x5eed_u64;
    let mut rnd = move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) as f64 / (1u64 << 31) as f64
    };
    let day = "2026-06-01";
    (0..n)
        .map(|i| {
            let mut pairs: Vec<(String, String)> = vec![("as_of".into(), day.into())];
            let mut push = |k: &str, v: String| pairs.push((k.into(), v));
            let lots = i % 2 == 0;
            let (table, alias) = if lots { ("zoning_lots", "l") } else { ("parcels", "l") };
            let mut wh: Vec<String> = Vec::new();
            let mut ctes: Vec<String> = Vec::new();
            let mut dists: Vec<(String, f64)> = Vec::new();
            if lots {
                let (f, func, industrial) = [
                    ("công nghiệp", "Đất công nghiệp", true),
                    ("thương mại dịch vụ", "Đất thương mại dịch vụ", false),
                    ("hỗn hợp", "Đất hỗn hợp", false),
                    ("ở mới", "Đất ở mới", false),
                ][(rnd() * 4.0) as usize % 4];
                push("function", f.into());
                wh.push(format!("l.function = '{func}'"));
                let min = 1.0 + (rnd() * 2.0).floor();
                let max = min + 2.0 + (rnd() * 6.0).floor();
                push("min_area", format!("{min}ha"));
                push("max_area", format!("{max}ha"));
                wh.push(format!(
                    "l.area_m2 BETWEEN {} AND {}",
                    min * 10_000.0,
                    max * 10_000.0
                ));
                wh.push(format!(
                    "EXISTS (SELECT 1 FROM geoplan.plans p WHERE p.code = l.plan_code AND p.status = 'đang hiệu lực' AND p.approval_date <= '{day}')"
                ));
                if industrial {
                    push("in", "industrial".into());
                    wh.push("EXISTS (SELECT 1 FROM geoplan.industrial_zones z WHERE z.kind LIKE '%công nghiệp%' AND ST_Contains(z.geom, ST_PointOnSurface(l.geom)))".into());
                }
            } else {
                push("candidates", "parcels".into());
                let code = ["TMD", "SKC", "ODT", "ONT", "CLN", "HNK"][(rnd() * 6.0) as usize % 6];
                push("use", code.into());
                // Legacy codes are searched as their successors.
                let legacy = match code {
                    "HNK" => ",'BHK','NHK'",
                    "SKC" => ",'SKX'",
                    _ => "",
                };
                wh.push(format!("l.land_use_code IN ('{code}'{legacy})"));
                let min = 200.0 + (rnd() * 2800.0).floor();
                push("min_area", format!("{min}"));
                wh.push(format!("l.legal_area >= {min}"));
                if rnd() < 0.3 {
                    let d = ["Điện Bàn", "Thăng Bình", "Hòa Vang", "Tam Kỳ", "Hội An"][(rnd() * 5.0) as usize % 5];
                    push("unit", d.into());
                    wh.push(format!("l.district_name = '{d}'"));
                }
            }
            let clauses = if lots && rnd() < 0.5 { 2 } else { 1 };
            for c in 0..clauses {
                let (class, src, col, val) = CLASSES[(rnd() * 5.0) as usize % 5];
                let km = if lots { 5.0 + (rnd() * 35.0).floor() } else { 2.0 + (rnd() * 13.0).floor() };
                let m = km * 1000.0;
                if dists.iter().any(|(n, _)| n == class) {
                    continue;
                }
                push("near", format!("{class}:{m}"));
                let cte = format!("t{c}");
                ctes.push(format!(
                    "{cte} AS (SELECT geom FROM geoplan.{src} WHERE {col} = '{val}')"
                ));
                wh.push(format!(
                    "EXISTS (SELECT 1 FROM {cte} WHERE ST_DWithin(l.geom, {cte}.geom, {m}))"
                ));
                dists.push((class.into(), m));
            }
            push("exclude", if lots || rnd() < 0.5 { "projects".into() } else { "projects,water".into() });
            wh.push("NOT EXISTS (SELECT 1 FROM geoplan.investment_projects j WHERE j.status NOT LIKE '%thu hồi%' AND ST_Intersects(j.geom, l.geom) AND (SELECT 2 * ST_Area(x) / NULLIF(ST_Perimeter(x), 0) FROM ST_Intersection(j.geom, l.geom) AS x) >= 0.5)".into());
            if pairs.iter().any(|(k, v)| k == "exclude" && v.contains("water")) {
                wh.push("NOT EXISTS (SELECT 1 FROM geoplan.water w WHERE ST_Intersects(w.geom, l.geom))".into());
            }
            let area = if lots { "l.area_m2" } else { "l.legal_area" };
            let score = dists
                .iter()
                .enumerate()
                .map(|(c, (_, m))| format!("(1 - (SELECT min(ST_Distance({alias}.geom, t{c}.geom)) FROM t{c}) / {m})"))
                .collect::<Vec<_>>()
                .join(" + ");
            let sql = format!(
                "WITH {} SELECT l.fid, count(*) OVER () FROM geoplan.{table} l WHERE {} ORDER BY ({score}) / {} DESC, {area} DESC, l.fid LIMIT 20",
                ctes.join(", "),
                wh.join(" AND "),
                dists.len()
            );
            SiteCase { pairs, sql }
        })
        .collect()
}

/// Times the site searches: p50/p99 over 5 rounds, then each search's
/// median beside its total. Returns the parsed searches and the totals.
fn site_searches(cat: &Catalog, cases: &[SiteCase]) -> (Vec<SiteQuery>, Vec<usize>) {
    let queries: Vec<SiteQuery> = cases
        .iter()
        .map(|c| SiteQuery::parse(&c.pairs, "2026-06-01").unwrap())
        .collect();
    // Warm PROJ and the keyed indexes.
    for q in &queries {
        search(cat, q, 0.5).unwrap();
    }
    percentiles(
        "site search, 20 randomised searches × 5",
        (0..5)
            .flat_map(|_| queries.iter())
            .map(|q| time(|| search(cat, q, 0.5).unwrap()))
            .collect(),
    );
    let mut totals = Vec::new();
    for (c, q) in cases.iter().zip(&queries) {
        let total = search(cat, q, 0.5).unwrap().total;
        totals.push(total);
        let mut ts: Vec<Duration> = (0..5)
            .map(|_| time(|| search(cat, q, 0.5).unwrap()))
            .collect();
        ts.sort();
        println!(
            "  {total:>6} sites, median {:>8.3} ms: {:?}",
            ts[2].as_secs_f64() * 1e3,
            c.pairs
        );
    }
    (queries, totals)
}

fn bench(c: &mut Criterion) {
    let cat = catalog();
    // `GEOPLAN_BENCH_ONLY=sites`: the site searches and nothing else.
    if std::env::var("GEOPLAN_BENCH_ONLY").is_ok_and(|v| v == "sites") {
        site_searches(&cat, &site_cases(20));
        return;
    }
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

    // Investor site search: 20 randomised searches, each run 5 times.
    let cases = site_cases(20);
    let (queries, totals) = site_searches(&cat, &cases);
    // The project registry: lists by stage, and a project's detail (the
    // planning answer for its site, parcels under it).
    let by_stage = |i: usize| ProjectQuery {
        stages: vec![ALL[i % ALL.len()]],
        as_of: "2026-06-01".into(),
        ..Default::default()
    };
    percentiles(
        "registry: projects by stage",
        (0..90)
            .map(|i| time(|| list(&cat, &by_stage(i), &Default::default()).unwrap()))
            .collect(),
    );
    let all_projects: Vec<i64> = list(
        &cat,
        &ProjectQuery {
            as_of: "2026-06-01".into(),
            ..Default::default()
        },
        &Default::default(),
    )
    .unwrap()
    .iter()
    .map(|p| p.fid)
    .collect();
    percentiles(
        "registry: a project's detail",
        all_projects
            .iter()
            .map(|f| time(|| detail(&cat, *f, "2026-06-01", 0.5, None).unwrap()))
            .collect(),
    );
    if let Ok(url) = std::env::var("GEOPLAN_BENCH_PG") {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let pool = rt
            .block_on(
                sqlx::postgres::PgPoolOptions::new()
                    .max_connections(1)
                    .connect(&url),
            )
            .expect("GEOPLAN_BENCH_PG");
        let run = |sql: &str| -> usize {
            let rows: Vec<(i64, i64)> = rt
                .block_on(sqlx::query_as(sql).fetch_all(&pool))
                .unwrap_or_else(|e| panic!("{e}: {sql}"));
            rows.first().map_or(0, |r| r.1 as usize)
        };
        let mut same = 0;
        for (c, t) in cases.iter().zip(&totals) {
            let pg = run(&c.sql);
            same += (pg == *t) as usize;
            if pg != *t {
                // Which sites: every fid of both.
                let all_sql = c.sql.replace(" LIMIT 20", "");
                let rows: Vec<(i64, i64)> = rt
                    .block_on(sqlx::query_as(&all_sql).fetch_all(&pool))
                    .unwrap();
                let mut q = SiteQuery::parse(&c.pairs, "2026-06-01").unwrap();
                q.limit = 1000;
                let ours: Vec<i64> = search(&cat, &q, 0.5)
                    .unwrap()
                    .results
                    .iter()
                    .map(|r| r.fid)
                    .collect();
                let only_pg: Vec<i64> = rows
                    .iter()
                    .map(|r| r.0)
                    .filter(|f| !ours.contains(f))
                    .collect();
                let only_us: Vec<i64> = ours
                    .iter()
                    .copied()
                    .filter(|f| !rows.iter().any(|r| r.0 == *f))
                    .collect();
                println!(
                    "  totals differ: engine {t}, PostGIS {pg} (only engine {only_us:?}, only PostGIS {only_pg:?}): {:?}",
                    c.pairs
                );
            }
        }
        println!(
            "  site search totals equal to PostGIS's in {same} of {} searches",
            cases.len()
        );
        // The registry in SQL: by stage with each project's commune, and a
        // project's zoning lots (overlap areas) and parcels.
        let list_sql = "SELECT p.fid, (SELECT a.code FROM geoplan.admin_units a WHERE a.level = 'commune' \
                        AND ST_Contains(a.geom, ST_PointOnSurface(p.geom)) ORDER BY a.fid LIMIT 1) AS commune \
                        FROM geoplan.investment_projects p WHERE p.stage = $1 ORDER BY p.fid";
        percentiles(
            "postgis: projects by stage",
            (0..90)
                .map(|i| {
                    time(|| {
                        let rows: Vec<(i64, Option<String>)> = rt
                            .block_on(
                                sqlx::query_as(list_sql)
                                    .bind(ALL[i % ALL.len()].code())
                                    .fetch_all(&pool),
                            )
                            .unwrap();
                        rows.len()
                    })
                })
                .collect(),
        );
        let detail_sql = "SELECT (SELECT count(*) FROM geoplan.parcels l WHERE ST_Intersects(l.geom, p.geom)), \
                          (SELECT coalesce(sum(ST_Area(ST_Intersection(z.geom, p.geom))), 0) FROM geoplan.zoning_lots z \
                           WHERE ST_Intersects(z.geom, p.geom)), \
                          (SELECT count(*) FROM geoplan.plans pl WHERE ST_Intersects(pl.geom, p.geom)) \
                          FROM geoplan.investment_projects p WHERE p.fid = $1";
        percentiles(
            "postgis: a project's parcels, lots and plans",
            all_projects
                .iter()
                .map(|f| {
                    time(|| {
                        let r: (i64, f64, i64) = rt
                            .block_on(sqlx::query_as(detail_sql).bind(f).fetch_one(&pool))
                            .unwrap();
                        r.0
                    })
                })
                .collect(),
        );
        percentiles(
            "postgis: the same 20 searches in SQL × 5",
            (0..5)
                .flat_map(|_| cases.iter())
                .map(|c| time(|| run(&c.sql)))
                .collect(),
        );
    }

    // The set's size, as the labels give it ("5M parcels").
    let n = cat.layer("parcels").map_or(0, |l| l.data(Part::Base).len());
    let set = format!("{}M parcels", (n as f64 / 1e6 * 10.0).round() / 10.0);
    let mut i = 0;
    c.bench_function(&format!("planning: site search, {set}"), |b| {
        b.iter(|| {
            i = (i + 1) % queries.len();
            search(&cat, &queries[i], 0.5).unwrap()
        })
    });
    c.bench_function(&format!("planning: parcel lookup by key, {set}"), |b| {
        b.iter(|| {
            i = (i + 1) % sample.len();
            find(&cat, &by_key(&sample[i])).unwrap()
        })
    });
    c.bench_function(
        &format!("planning: parcel lookup by free text, {set}"),
        |b| {
            b.iter(|| {
                i = (i + 1) % sample.len();
                find(&cat, &by_text(&sample[i])).unwrap()
            })
        },
    );
    c.bench_function(&format!("planning: answer for a parcel, {set}"), |b| {
        b.iter(|| {
            i = (i + 1) % 500;
            answer(&cat, &info(sample[i].0)).unwrap()
        })
    });
    c.bench_function(
        &format!("planning: compliance check of a site, {set}"),
        |b| {
            b.iter(|| {
                i = (i + 1) % sites.len();
                check(&cat, &sites[i], &proposal, "2026-06-01", limits).unwrap()
            })
        },
    );
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(50).measurement_time(Duration::from_secs(5));
    targets = bench
}
criterion_main!(benches);
