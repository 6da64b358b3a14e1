//! # geoplan
//!
//! A GIS server for urban planning and investment management in Đà Nẵng –
//! Quảng Nam. Data flows one way, and the `mod` lines below follow it:
//!
//! ```text
//! model, config, crs → store → engine → {tiles, render, ogc} → report → http
//!                         ↑
//!                       sample (writes the synthetic dataset through store)
//! ```
//!
//! [`blocking`] sits beside `model`: any module that runs blocking work
//! hands it to the blocking pool through it. [`heap`] (the allocator) is a
//! leaf too.
//!
//! * [`model`]: attribute values, schemas, flat geometry, column-oriented layers.
//! * [`config`]: `geoplan.toml`, `${ENV}` substitution.
//! * [`crs`]: EPSG codes, axis order, PROJ.
//! * [`blocking`]: jobs for tokio's blocking pool, counted and timed (its
//!   saturation, for `/metrics`).
//! * [`heap`]: the global allocator (jemalloc) and its statistics.
//! * [`store`]: all IO: GeoPackage (gdal) and PostGIS (sqlx), change events.
//! * [`engine`]: in-memory layers, R-tree, queries, snapshots. No IO, no await.
//! * [`tiles`]: vector tiles (clip, MVT encoding, cache). No IO, no await.
//! * [`render`]: label glyphs, and the WMS map renderer (MapLibre style subset,
//!   tiny-skia, legends). Reads only font files; never awaits.
//! * [`ogc`]: WMS, WFS and OGC API – Features: request parsing, capabilities,
//!   GML/XML writing, filters. No IO, no await (http wires them).
//! * [`report`]: documents composed from planning answers and rendered maps:
//!   a document model as an A4 PDF (krilla, fonts embedded) or HTML, and map
//!   extracts with grid ticks, scale bar and north arrow. Reads only font
//!   files; never awaits.
//! * [`planning`]: parcel lookup by cadastral key or free text over the
//!   pre- and post-2025 administrative geography. No IO, no await.
//! * [`import`]: the province's files mapped onto a layer (fields, codes,
//!   units, geometry repair, keys) as one all-or-nothing write, with a report.
//! * [`seed`]: `geoplan seed`, tiles rendered into PMTiles / MBTiles archives.
//! * [`http`]: the axum router, errors as RFC 9457 problem details.
//! * [`sample`]: the deterministic synthetic dataset generator.
// The OpenAPI document of `http::api` is one `serde_json::json!` literal,
// deeper than the default macro recursion limit.
#![recursion_limit = "256"]

pub mod model;

pub mod blocking;
pub mod config;
pub mod crs;
pub mod heap;

pub mod store;

pub mod engine;

pub mod tiles;

pub mod render;

pub mod ogc;

pub mod planning;

pub mod import;

pub mod report;

pub mod seed;

pub mod http;

pub mod sample;
