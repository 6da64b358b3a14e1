//! WFS KVP requests (the query string of `GET /wfs` and `/ows`): parsed
//! into a request, and a GetFeature planned and run on a small catalog as
//! the public sees it.
#![no_main]

use geoplan::model::access::Access;
use geoplan::ogc::kvp::Kvp;
use geoplan::ogc::wfs::query;
use geoplan::ogc::wfs::request::{parse_kvp, Request};
use geoplan_fuzz::{text, CATALOG, CONFIG};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(raw) = text(data) else { return };
    let k = Kvp::parse(raw);
    if let Ok(Request::GetFeature(g)) = parse_kvp(&k, &CONFIG) {
        let _ = query::plan(g, &CATALOG, &CONFIG, &Access::public());
    }
});
