//! GML geometries (filter operands, WFS-T Insert and Update values): the
//! first element of a document read by the GML reader into Web Mercator
//! and into the parcels' storage CRS.
#![no_main]

use geoplan::crs::{Crs, WEB_MERCATOR};
use geoplan::ogc::gml::GmlReader;
use geoplan::ogc::xml::{self, XmlLimits};
use geoplan_fuzz::{text, CONFIG};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
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
    let r = GmlReader {
        default: if mode & 2 == 0 {
            (Crs::Epsg(5899), false)
        } else {
            (Crs::Epsg(4326), true)
        },
        epsg_order: mode & 1 == 1,
        max_vertices: lim.max_filter_vertices,
    };
    let target = if mode & 4 == 0 {
        WEB_MERCATOR
    } else {
        Crs::Epsg(5899)
    };
    let _ = r.read_to(&root, target);
});
