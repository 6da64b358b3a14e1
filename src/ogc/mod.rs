//! OGC services: WMS 1.3.0/1.1.1, WFS 2.0/1.1/1.0 and OGC API – Features.
//! This module parses requests (KVP and XML), compiles filters to engine
//! predicates, and writes capabilities, GML, GeoJSON and exception reports.
//! It reads engine snapshots and renders through [`crate::render`]; it does
//! no IO and never awaits: `http` wires it to the router and runs its CPU
//! work on the blocking pool.

pub mod fes;
pub mod geojson;
pub mod gml;
pub mod kvp;
pub mod ogcapi;
pub mod wfs;
pub mod wms;
pub mod xml;
