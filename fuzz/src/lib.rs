//! Fixtures shared by the fuzz targets: a server configuration, a parcel
//! schema and a small in-memory catalog, each built once per process
//! (never per iteration, never from a file).

use geo_types::{line_string, polygon, Geometry};
use geoplan::config::Config;
use geoplan::engine::{Catalog, Engine, Layer, LayerMeta};
use geoplan::model::{FieldDef, FieldType, GeometryType, LayerDataBuilder, Value};
use std::sync::{Arc, LazyLock};

/// The default configuration, as a server without a config file runs.
pub static CONFIG: LazyLock<Config> = LazyLock::new(Config::default);

/// The schema of the `parcels` layer (as `geoplan sample` makes it).
pub fn parcel_fields() -> Vec<FieldDef> {
    vec![
        FieldDef::new("commune_code", FieldType::Text),
        FieldDef::new("commune_name", FieldType::Text),
        FieldDef::new("sheet_number", FieldType::Integer),
        FieldDef::new("parcel_number", FieldType::Integer),
        FieldDef::new("legal_area", FieldType::Real),
        FieldDef::new("land_use_code", FieldType::Text),
        FieldDef::new("address", FieldType::Text),
        FieldDef::new("certificate_number", FieldType::Text),
        FieldDef::new("synthetic", FieldType::Boolean),
        FieldDef::new("registered_on", FieldType::Date),
        FieldDef::new("updated_at", FieldType::DateTime),
    ]
}

/// The parcel schema, built once.
pub static FIELDS: LazyLock<Vec<FieldDef>> = LazyLock::new(parcel_fields);

fn parcels() -> Layer {
    let mut b = LayerDataBuilder::new("parcels", 5899, GeometryType::Polygon, parcel_fields());
    let codes = ["ODT", "ONT", "TMD", "CLN", "DGT"];
    for i in 0..25i64 {
        // 20 m squares in EPSG:5899 near Hội An, five to a row.
        let (x0, y0) = (
            561_000.0 + (i % 5) as f64 * 20.0,
            1_756_000.0 + (i / 5) as f64 * 20.0,
        );
        let g = Geometry::Polygon(polygon![
            (x: x0, y: y0), (x: x0 + 20.0, y: y0), (x: x0 + 20.0, y: y0 + 20.0),
            (x: x0, y: y0 + 20.0), (x: x0, y: y0),
        ]);
        let values = vec![
            Value::Text("20194".into()),
            Value::Text("Phường Hội An".into()),
            Value::Int(7),
            Value::Int(100 + i),
            Value::Real(400.0 + i as f64),
            Value::Text(codes[i as usize % codes.len()].into()),
            if i % 3 == 0 {
                Value::Null
            } else {
                Value::Text(format!("{i} Trần Phú"))
            },
            Value::Text(format!("CS{i:05}")),
            Value::Bool(i % 2 == 0),
            Value::Text("2024-07-01".into()),
            Value::Text("2024-07-01T08:30:00Z".into()),
        ];
        b.push(i + 1, Some(&g), values).expect("a valid parcel");
    }
    Layer::new(b.finish().expect("parcels"), LayerMeta::default()).expect("parcels layer")
}

fn roads() -> Layer {
    let fields = vec![
        FieldDef::new("name", FieldType::Text),
        FieldDef::new("width", FieldType::Real),
    ];
    let mut b = LayerDataBuilder::new("roads", 5899, GeometryType::LineString, fields);
    for i in 0..5i64 {
        let y = 1_756_000.0 + i as f64 * 20.0;
        let g = Geometry::LineString(line_string![(x: 561_000.0, y: y), (x: 561_100.0, y: y)]);
        b.push(
            i + 1,
            Some(&g),
            vec![Value::Text(format!("Đường {i}")), Value::Real(7.5)],
        )
        .expect("a valid road");
    }
    Layer::new(b.finish().expect("roads"), LayerMeta::default()).expect("roads layer")
}

/// A catalog of two small layers, `parcels` and `roads`, built once.
pub static CATALOG: LazyLock<Arc<Catalog>> = LazyLock::new(|| {
    let e = Engine::new();
    e.publish_all(vec![parcels(), roads()]);
    e.snapshot()
});

/// The fuzz input as text, or `None` when it is not UTF-8 (every parser
/// here is reached through a `&str` the server made from checked UTF-8).
pub fn text(data: &[u8]) -> Option<&str> {
    std::str::from_utf8(data).ok()
}
