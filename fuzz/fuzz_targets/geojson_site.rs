//! The proposed site of `POST /planning` and `POST /planning/check`:
//! the JSON body read into a geometry and checked as a site (a polygon,
//! valid, within the vertex and area limits, in range of its CRS).
#![no_main]

use geoplan::http::planning_info::read_site;
use geoplan::planning::site::{site_from, SiteLimits};
use geoplan_fuzz::CONFIG;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok((g, crs, _as_of)) = read_site(data, None) {
        let _ = site_from(g, crs, SiteLimits::from(&CONFIG.planning));
    }
});
