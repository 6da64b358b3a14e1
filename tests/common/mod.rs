//! Helpers shared by the integration tests.

#![allow(dead_code)]

use geo_types::Geometry;
use geoplan::tiles::TileCoord;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// One decoded feature: id, attributes as text, geometry in EPSG:3857.
#[derive(Debug)]
pub struct Decoded {
    pub id: i64,
    pub attrs: BTreeMap<String, String>,
    pub geom: Geometry<f64>,
    pub valid: bool,
}

/// Decodes a tile with GDAL's MVT driver (it reads the tile address from
/// the z/x/y.pbf path) into features per layer.
pub fn decode(bytes: &[u8], c: TileCoord) -> BTreeMap<String, Vec<Decoded>> {
    let dir = tempfile::tempdir().unwrap();
    let path: PathBuf = dir
        .path()
        .join(c.z.to_string())
        .join(c.x.to_string())
        .join(format!("{}.pbf", c.y));
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, bytes).unwrap();
    let ds = gdal::Dataset::open(&path).expect("GDAL's MVT driver opens the tile");
    let mut out = BTreeMap::new();
    use gdal::vector::LayerAccess;
    for mut layer in ds.layers() {
        let names: Vec<String> = layer.defn().fields().map(|f| f.name()).collect();
        let mut feats = Vec::new();
        for f in layer.features() {
            let mut attrs = BTreeMap::new();
            let mut id = -1;
            for (i, n) in names.iter().enumerate() {
                if n == "mvt_id" {
                    id = f.field_as_integer64(i).unwrap().unwrap();
                } else if let Some(v) = f.field_as_string(i).unwrap() {
                    attrs.insert(n.clone(), v);
                }
            }
            let g = f.geometry().expect("every feature has a geometry");
            feats.push(Decoded {
                id,
                attrs,
                valid: g.is_valid(),
                geom: g.to_geo().unwrap(),
            });
        }
        feats.sort_by_key(|d| d.id);
        out.insert(layer.name(), feats);
    }
    out
}
