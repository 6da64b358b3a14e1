//! FES 2.0 / Filter 1.x XML (the `FILTER=` of WFS and WMS, and the
//! filters inside GetFeature and Transaction bodies): read with the
//! hardened XML reader, compiled to an expression over the parcel schema,
//! then compiled and run as the engine runs it.
#![no_main]

use geoplan::crs::Crs;
use geoplan::engine::filter::{Filter, FilterLimits};
use geoplan::ogc::fes::{self, FesContext};
use geoplan::ogc::gml::GmlReader;
use geoplan::ogc::xml::{self, XmlLimits};
use geoplan_fuzz::{text, CATALOG, CONFIG, FIELDS};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The first byte picks the axis rules (WFS 1.0 vs 1.1/2.0).
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let Some(s) = text(rest) else { return };
    let lim = &CONFIG.limits;
    let limits = XmlLimits {
        max_depth: lim.max_filter_depth + 16,
        max_elements: lim.max_filter_nodes * 16 + lim.max_filter_vertices,
    };
    let Ok(root) = xml::parse(s, limits) else {
        return;
    };
    let ctx = FesContext {
        layer: "parcels",
        type_name: "geoplan:parcels",
        fields: &FIELDS,
        geometry_name: "geom",
        gml: GmlReader {
            default: (Crs::Epsg(5899), false),
            epsg_order: mode & 1 == 1,
            max_vertices: lim.max_filter_vertices,
        },
        max_ids: 1000,
    };
    let Ok(expr) = fes::compile(&root, &ctx) else {
        return;
    };
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
