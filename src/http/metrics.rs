//! Prometheus metrics at `GET /metrics` (text exposition format, through
//! the `prometheus` crate): requests by route template, method and status
//! with the time to the response head; tiles by where they came from
//! (memory cache, disk cache, rendered) and the bytes rendered; the tile
//! cache's size; the engine's layers, features and memory; edits applied.
//! Counters live in one process-wide registry, as Prometheus clients do;
//! the sizes are read from the state at each scrape.

use super::state::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry, TextEncoder,
};
use std::sync::LazyLock;
use std::time::Instant;

struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    duration: HistogramVec,
    in_flight: IntGauge,
    tiles: IntCounterVec,
    tile_bytes: IntCounter,
    tile_cache_bytes: IntGauge,
    tile_cache_entries: IntGauge,
    layer_features: IntGaugeVec,
    layer_bytes: IntGaugeVec,
    edits: IntCounterVec,
    audit_failures: IntCounter,
    store_seconds: HistogramVec,
    listener_connected: IntGauge,
    listener_last_event: prometheus::Gauge,
    runtime_tasks: IntGauge,
    runtime_queue: IntGauge,
    runtime_busy: prometheus::Gauge,
    blocking_jobs: IntGaugeVec,
    heap_bytes: IntGaugeVec,
}

/// Registers a collector and hands it back.
fn reg<C: prometheus::core::Collector + Clone + 'static>(r: &Registry, c: C) -> C {
    r.register(Box::new(c.clone()))
        .expect("each metric is registered once, with a valid name");
    c
}

static METRICS: LazyLock<Metrics> = LazyLock::new(|| {
    let r = Registry::new_custom(Some("geoplan".into()), None).expect("a valid metric name prefix");
    let opts = Opts::new;
    Metrics {
        requests: reg(
            &r,
            IntCounterVec::new(
                opts("http_requests_total", "HTTP requests answered"),
                &["route", "method", "status"],
            )
            .expect("valid"),
        ),
        duration: reg(
            &r,
            HistogramVec::new(
                HistogramOpts::new(
                    "http_request_duration_seconds",
                    "time from the request to its response head",
                )
                .buckets(vec![
                    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
                    30.0, 120.0,
                ]),
                &["route"],
            )
            .expect("valid"),
        ),
        in_flight: reg(
            &r,
            IntGauge::with_opts(opts("http_requests_in_flight", "requests being answered"))
                .expect("valid"),
        ),
        tiles: reg(
            &r,
            IntCounterVec::new(
                opts(
                    "tiles_total",
                    "vector tiles answered, by source: memory, disk or rendered",
                ),
                &["source"],
            )
            .expect("valid"),
        ),
        tile_bytes: reg(
            &r,
            IntCounter::with_opts(opts(
                "tiles_rendered_bytes_total",
                "bytes of the tiles rendered (gzipped)",
            ))
            .expect("valid"),
        ),
        store_seconds: reg(
            &r,
            HistogramVec::new(
                HistogramOpts::new(
                    "store_seconds",
                    "time of store calls on the edit path: write (the commit) and read (re-reading changed features)",
                )
                .buckets(vec![0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0]),
                &["op"],
            )
            .expect("valid"),
        ),
        listener_connected: reg(
            &r,
            IntGauge::with_opts(opts(
                "change_listener_connected",
                "1 while the PostGIS change listener is connected (always 0 on a GeoPackage)",
            ))
            .expect("valid"),
        ),
        listener_last_event: reg(
            &r,
            prometheus::Gauge::with_opts(opts(
                "change_listener_last_event_timestamp_seconds",
                "Unix time of the last PostGIS change notification (0 before any)",
            ))
            .expect("valid"),
        ),
        runtime_tasks: reg(
            &r,
            IntGauge::with_opts(opts("runtime_alive_tasks", "async tasks alive"))
                .expect("valid"),
        ),
        runtime_queue: reg(
            &r,
            IntGauge::with_opts(opts(
                "runtime_global_queue_depth",
                "async tasks waiting in the runtime's global queue (saturation when it stays above 0)",
            ))
            .expect("valid"),
        ),
        runtime_busy: reg(
            &r,
            prometheus::Gauge::with_opts(opts(
                "runtime_worker_busy_seconds_total",
                "time the async worker threads spent busy, summed over workers",
            ))
            .expect("valid"),
        ),
        blocking_jobs: {
            // The wait histogram lives with the spawn that times it.
            reg(&r, crate::blocking::wait_seconds().clone());
            reg(
                &r,
                IntGaugeVec::new(
                    opts(
                        "blocking_jobs",
                        "blocking-pool jobs waiting for a thread or running (saturation when waiting stays above 0; tokio's pool has up to 512 threads)",
                    ),
                    &["state"],
                )
                .expect("valid"),
            )
        },
        heap_bytes: reg(
            &r,
            IntGaugeVec::new(
                opts(
                    "heap_bytes",
                    "the allocator's bytes: allocated (live) and resident (held from the system; RSS beyond it is C libraries' and stacks')",
                ),
                &["kind"],
            )
            .expect("valid"),
        ),
        audit_failures: reg(
            &r,
            IntCounter::with_opts(opts(
                "audit_failures_total",
                "audit log entries that could not be written",
            ))
            .expect("valid"),
        ),
        tile_cache_bytes: reg(
            &r,
            IntGauge::with_opts(opts("tile_cache_bytes", "bytes in the memory tile cache"))
                .expect("valid"),
        ),
        tile_cache_entries: reg(
            &r,
            IntGauge::with_opts(opts("tile_cache_entries", "tiles in the memory cache"))
                .expect("valid"),
        ),
        layer_features: reg(
            &r,
            IntGaugeVec::new(
                opts("engine_features", "features of each layer in the engine"),
                &["layer"],
            )
            .expect("valid"),
        ),
        layer_bytes: reg(
            &r,
            IntGaugeVec::new(
                opts("engine_layer_bytes", "memory of each layer in the engine"),
                &["layer"],
            )
            .expect("valid"),
        ),
        edits: reg(
            &r,
            IntCounterVec::new(
                opts(
                    "edits_total",
                    "features written through the server, by kind",
                ),
                &["kind"],
            )
            .expect("valid"),
        ),
        registry: r,
    }
});

/// Where an answered tile came from.
#[derive(Debug, Clone, Copy)]
pub enum TileSource {
    /// The memory cache.
    Memory,
    /// The disk cache.
    Disk,
    /// A tile archive (PMTiles, MBTiles).
    Archive,
    /// Rendered for this request (`bytes` gzipped).
    Rendered {
        /// Its gzipped size.
        bytes: usize,
    },
}

/// Counts a tile answered.
pub fn tile(source: TileSource) {
    let m = &*METRICS;
    let label = match source {
        TileSource::Memory => "memory",
        TileSource::Disk => "disk",
        TileSource::Archive => "archive",
        TileSource::Rendered { bytes } => {
            m.tile_bytes.inc_by(bytes as u64);
            "rendered"
        }
    };
    m.tiles.with_label_values(&[label]).inc();
}

/// Counts the features a commit inserted, updated and deleted.
pub fn edits(inserted: usize, updated: usize, deleted: usize) {
    let m = &*METRICS;
    for (kind, n) in [
        ("insert", inserted),
        ("update", updated),
        ("delete", deleted),
    ] {
        m.edits.with_label_values(&[kind]).inc_by(n as u64);
    }
}

/// Times a store call of the edit path (`op`: write or read).
pub fn store_time(op: &'static str, since: Instant) {
    METRICS
        .store_seconds
        .with_label_values(&[op])
        .observe(since.elapsed().as_secs_f64());
}

/// Counts an audit entry that could not be written.
pub fn audit_failed() {
    METRICS.audit_failures.inc();
}

/// Middleware: counts each request by its route template (never the raw
/// path: the label set stays bounded) and times it to the response head.
pub async fn track(req: Request, next: Next) -> Response {
    let m = &*METRICS;
    let route = req.extensions().get::<MatchedPath>().cloned();
    let route = route.as_ref().map_or("other", MatchedPath::as_str);
    let method = req.method().clone();
    m.in_flight.inc();
    let t = Instant::now();
    let res = next.run(req).await;
    m.in_flight.dec();
    m.duration
        .with_label_values(&[route])
        .observe(t.elapsed().as_secs_f64());
    m.requests
        .with_label_values(&[route, method.as_str(), res.status().as_str()])
        .inc();
    res
}

/// `GET /metrics`: the Prometheus text format.
pub async fn get(State(s): State<AppState>) -> Response {
    let m = &*METRICS;
    m.tile_cache_bytes
        .set(i64::try_from(s.tiles.cache.weight()).unwrap_or(i64::MAX));
    m.tile_cache_entries
        .set(i64::try_from(s.tiles.cache.len()).unwrap_or(i64::MAX));
    let cat = s.data.engine.snapshot();
    // Only the layers loaded now (one may have been dropped).
    m.layer_features.reset();
    m.layer_bytes.reset();
    for l in cat.layers() {
        let id = l.id.as_str();
        m.layer_features
            .with_label_values(&[id])
            .set(i64::try_from(l.len()).unwrap_or(i64::MAX));
        m.layer_bytes
            .with_label_values(&[id])
            .set(i64::try_from(l.heap_bytes()).unwrap_or(i64::MAX));
    }
    if let crate::store::Store::Postgis(pg) = &*s.data.store {
        let h = pg.listener_health();
        m.listener_connected.set(i64::from(h.connected()));
        m.listener_last_event
            .set(h.last_event_secs().unwrap_or(0.0));
    }
    let rt = tokio::runtime::Handle::current().metrics();
    m.runtime_tasks
        .set(i64::try_from(rt.num_alive_tasks()).unwrap_or(i64::MAX));
    m.runtime_queue
        .set(i64::try_from(rt.global_queue_depth()).unwrap_or(i64::MAX));
    m.runtime_busy.set(
        (0..rt.num_workers())
            .map(|w| rt.worker_total_busy_duration(w).as_secs_f64())
            .sum(),
    );
    m.blocking_jobs
        .with_label_values(&["waiting"])
        .set(crate::blocking::waiting());
    m.blocking_jobs
        .with_label_values(&["running"])
        .set(crate::blocking::running());
    if let Some(h) = crate::heap::stats() {
        let gauge = |kind, v: u64| {
            m.heap_bytes
                .with_label_values(&[kind])
                .set(i64::try_from(v).unwrap_or(i64::MAX));
        };
        gauge("allocated", h.allocated);
        gauge("resident", h.resident);
    }
    let mut out = Vec::new();
    match TextEncoder::new().encode(&m.registry.gather(), &mut out) {
        Ok(()) => ([(header::CONTENT_TYPE, prometheus::TEXT_FORMAT)], out).into_response(),
        Err(e) => super::ApiError::internal(e).into_response(),
    }
}
