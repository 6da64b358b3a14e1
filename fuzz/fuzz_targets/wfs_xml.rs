//! WFS XML requests (`POST /wfs` bodies: GetFeature, DescribeFeatureType,
//! GetCapabilities, stored queries, Transaction), parsed into a request,
//! and a GetFeature planned and run on a small catalog.
#![no_main]

use geoplan::model::access::Access;
use geoplan::ogc::wfs::query;
use geoplan::ogc::wfs::request::{parse_xml, root_name, Request};
use geoplan_fuzz::{text, CATALOG, CONFIG};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(body) = text(data) else { return };
    let _ = root_name(body);
    if let Ok(Request::GetFeature(g)) = parse_xml(body, &CONFIG) {
        let _ = query::plan(g, &CATALOG, &CONFIG, &Access::public());
    }
});
