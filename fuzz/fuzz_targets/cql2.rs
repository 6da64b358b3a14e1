//! CQL2-text (`filter=` of the feature API and OGC API Features): parsed,
//! compiled against the parcel schema within the default limits, and run
//! on a small parcels layer, as `GET /layers/{id}/features` does.
#![no_main]

use geoplan::engine::cql2;
use geoplan::engine::filter::{Filter, FilterLimits};
use geoplan_fuzz::{text, CATALOG, CONFIG};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(s) = text(data) else { return };
    let lim = &CONFIG.limits;
    if s.len() > lim.max_filter_bytes {
        return; // refused before parsing
    }
    let Ok(expr) = cql2::parse(s) else { return };
    let layer = CATALOG.layer("parcels").expect("parcels");
    let limits = FilterLimits {
        max_depth: lim.max_filter_depth,
        max_nodes: lim.max_filter_nodes,
        max_in_list: lim.max_in_list,
    };
    if let Ok(f) = Filter::compile(&expr, layer.fields(), &limits) {
        let mut n = 0usize;
        layer.for_each_match(None, Some(&f), |_| n += 1);
        assert!(n <= 25);
    }
});
