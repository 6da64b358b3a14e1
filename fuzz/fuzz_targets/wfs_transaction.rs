//! WFS-T Transaction bodies: parsed, then compiled into edits against a
//! small in-memory catalog (Insert features with their GML geometries,
//! Update properties, Delete and Update filters run on the layer).
#![no_main]

use geoplan::ogc::wfs::request::{parse_xml, Request};
use geoplan::ogc::wfs::transaction;
use geoplan_fuzz::{text, CATALOG, CONFIG};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(body) = text(data) else { return };
    if let Ok(Request::Transaction(tx)) = parse_xml(body, &CONFIG) {
        let editable = |id: &str| id == "parcels" || id == "roads";
        let _ = transaction::compile(&tx, &CATALOG, &CONFIG, &editable);
    }
});
