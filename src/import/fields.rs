//! Which source field feeds which layer field: a mapping file
//! (`--mapping map.toml`) or the field names Vietnamese cadastral and
//! planning files commonly carry (SoTo, SHBANDO, SoThua, DienTich,
//! MucDich, LoaiDat, KyHieuLo, MatDoXD, TangCao, HeSoSDD …), compared
//! without case, diacritics, spaces or underscores.
//!
//! A mapping file:
//!
//! ```toml
//! [fields]            # layer field = source field
//! sheet_number = "SHBANDO"
//! parcel_number = "SoThua"
//! [values]            # a value for every feature
//! commune_code = "20335"
//! [units]             # the unit of an area field in the source
//! legal_area = "ha"   # m2 (default) or ha
//! ```

use crate::model::{FieldDef, Value};
use std::collections::BTreeMap;

/// A mapping file, as read from TOML.
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MappingFile {
    /// Layer field → source field.
    #[serde(default)]
    pub fields: BTreeMap<String, String>,
    /// Layer field → a value given to every feature.
    #[serde(default)]
    pub values: BTreeMap<String, toml::Value>,
    /// Area field → the unit its source values are in (`m2` or `ha`).
    #[serde(default)]
    pub units: BTreeMap<String, String>,
}

impl MappingFile {
    /// Parses a mapping file's text.
    pub fn parse(text: &str) -> Result<MappingFile, String> {
        toml::from_str(text).map_err(|e| format!("the mapping file: {e}"))
    }
}

/// How one layer field gets its values.
#[derive(Debug, Clone, PartialEq)]
pub enum Feed {
    /// From a source field (its index).
    Field(usize),
    /// The same value for every feature.
    Constant(Value),
}

/// The field names, folded (see [`fold`]), that commonly carry each layer
/// field in Vietnamese cadastral and planning files, the layer field's own
/// name aside.
const ALIASES: &[(&str, &[&str])] = &[
    (
        "sheet_number",
        &[
            "soto",
            "sotobando",
            "shbando",
            "sobando",
            "tobando",
            "to",
            "soto_bd",
            "sheet",
            "sheetno",
            "mapsheet",
            "sh_to",
        ],
    ),
    (
        "parcel_number",
        &[
            "sothua",
            "thua",
            "shthua",
            "sohieuthua",
            "sothuadat",
            "parcel",
            "parcelno",
            "parcelnumber",
        ],
    ),
    (
        "legal_area",
        &[
            "dientich",
            "dientichpl",
            "dientichphaply",
            "dtpl",
            "dt",
            "dtich",
            "area",
            "legalarea",
            "dientichm2",
        ],
    ),
    (
        "land_use_code",
        &[
            "mucdich",
            "loaidat",
            "mdsd",
            "mucdichsd",
            "mucdichsudung",
            "kyhieumdsd",
            "maloaidat",
            "loaidatsd",
            "landuse",
            "landusecode",
            "kh_mdsd",
        ],
    ),
    (
        "land_use_code_old",
        &[
            "mucdichcu",
            "loaidatcu",
            "mdsdcu",
            "maloaidatcu",
            "landusecodeold",
        ],
    ),
    (
        "address",
        &["diachi", "diachithua", "tenduong", "address", "vitri"],
    ),
    (
        "commune_code",
        &[
            "maxa",
            "madvhc",
            "maphuongxa",
            "maxaphuong",
            "madonvi",
            "communecode",
            "ma_xa",
        ],
    ),
    (
        "commune_name",
        &[
            "tenxa",
            "xa",
            "phuongxa",
            "tenphuongxa",
            "tendonvi",
            "commune",
        ],
    ),
    (
        "district_name",
        &["tenhuyen", "huyen", "quanhuyen", "tenquanhuyen", "district"],
    ),
    (
        "certificate_number",
        &[
            "sogcn",
            "sogiaychungnhan",
            "sophathanh",
            "sogcnqsdd",
            "sogiay",
            "sogcnqsd",
            "certificate",
        ],
    ),
    (
        "zone_code",
        &["makhu", "khu", "phankhu", "kyhieukhu", "zone"],
    ),
    (
        "lot_symbol",
        &[
            "kyhieulo",
            "kyhieu",
            "lo",
            "kyhieuodat",
            "malo",
            "lot",
            "lotsymbol",
        ],
    ),
    (
        "function",
        &[
            "chucnang",
            "chucnangsdd",
            "tenchucnang",
            "chucnangsudungdat",
        ],
    ),
    (
        "density_pct",
        &["matdoxd", "matdo", "mdxd", "matdoxaydung", "density"],
    ),
    ("floors_min", &["tangcaomin", "tangtoithieu", "tangcao"]),
    ("floors_max", &["tangcaomax", "tangtoida", "tangcao"]),
    ("far", &["hesosdd", "hsd", "hesosudungdat", "hsdd"]),
    ("area_m2", &["dientich", "dt", "area", "dientichm2"]),
    ("plan_code", &["maqh", "maquyhoach", "sohieuqh"]),
    (
        "name",
        &["ten", "tenduan", "tendoan", "tenquyhoach", "tendiadanh"],
    ),
    ("code", &["ma", "maqh", "sohieu"]),
    (
        "approval_decision",
        &["soqd", "quyetdinh", "soquyetdinh", "qdpheduyet"],
    ),
    ("approval_date", &["ngayqd", "ngaypheduyet", "ngayduyet"]),
    ("approving_authority", &["coquanpheduyet", "capduyet"]),
    ("investor", &["chudautu", "nhadautu", "cdt"]),
    ("status", &["trangthai", "tinhtrang"]),
    ("level", &["cap", "loaiqh", "capqh"]),
    ("kind", &["loai", "phanloai", "loaihinh"]),
];

/// A field name folded for comparison: lowercase ASCII letters and
/// digits only, Vietnamese diacritics and đ taken off.
///
/// ```
/// use geoplan::import::fields::fold;
/// assert_eq!(fold("Số_Tờ"), "soto");
/// assert_eq!(fold("KyHieuLo"), "kyhieulo");
/// assert_eq!(fold("Diện tích (m2)"), "dientichm2");
/// ```
pub fn fold(name: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    name.nfd()
        .filter_map(|c| match c {
            'đ' | 'Đ' => Some('d'),
            c if c.is_ascii_alphanumeric() => Some(c.to_ascii_lowercase()),
            _ => None,
        })
        .collect()
}

/// Decides how each layer field is fed: the mapping file first, then a
/// source field of the layer field's own name, then a common Vietnamese
/// name. Returns the feeds by layer field index, or why the mapping file
/// does not fit (a field named that does not exist).
pub fn plan(
    layer: &str,
    target: &[FieldDef],
    source: &[String],
    mapping: &MappingFile,
) -> Result<Vec<Option<Feed>>, String> {
    let folded: Vec<String> = source.iter().map(|s| fold(s)).collect();
    let known = |f: &str| target.iter().any(|t| t.name == f);
    for f in mapping
        .fields
        .keys()
        .chain(mapping.values.keys())
        .chain(mapping.units.keys())
    {
        if !known(f) {
            return Err(format!(
                "the mapping names field '{f}', which layer {layer} does not have; its fields: {}",
                target
                    .iter()
                    .map(|t| t.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }
    for (unit_field, unit) in &mapping.units {
        if !matches!(unit.as_str(), "m2" | "ha") {
            return Err(format!(
                "the mapping gives unit '{unit}' for {unit_field}; use m2 or ha"
            ));
        }
    }
    let mut out = Vec::with_capacity(target.len());
    for t in target {
        if let Some(v) = mapping.values.get(&t.name) {
            out.push(Some(Feed::Constant(toml_value(v))));
            continue;
        }
        if let Some(s) = mapping.fields.get(&t.name) {
            let i = source
                .iter()
                .position(|n| n == s)
                .or_else(|| folded.iter().position(|n| *n == fold(s)))
                .ok_or_else(|| {
                    format!(
                        "the mapping reads {} from '{s}', which the file does not have; its fields: {}",
                        t.name,
                        source.join(", ")
                    )
                })?;
            out.push(Some(Feed::Field(i)));
            continue;
        }
        let own = fold(&t.name);
        let aliases = ALIASES
            .iter()
            .find(|(n, _)| *n == t.name)
            .map(|(_, a)| *a)
            .unwrap_or(&[]);
        let found = folded.iter().position(|n| *n == own).or_else(|| {
            aliases
                .iter()
                .find_map(|a| folded.iter().position(|n| n == a))
        });
        out.push(found.map(Feed::Field));
    }
    Ok(out)
}

fn toml_value(v: &toml::Value) -> Value {
    match v {
        toml::Value::String(s) => Value::Text(crate::model::nfc(s)),
        toml::Value::Integer(i) => Value::Int(*i),
        toml::Value::Float(f) => Value::Real(*f),
        toml::Value::Boolean(b) => Value::Bool(*b),
        toml::Value::Datetime(d) => Value::Text(d.to_string()),
        other => Value::Text(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::FieldType;

    fn parcels() -> Vec<FieldDef> {
        [
            ("commune_code", FieldType::Text),
            ("sheet_number", FieldType::Integer),
            ("parcel_number", FieldType::Integer),
            ("legal_area", FieldType::Real),
            ("land_use_code", FieldType::Text),
            ("address", FieldType::Text),
        ]
        .into_iter()
        .map(|(n, t)| FieldDef::new(n, t))
        .collect()
    }

    #[test]
    fn common_vietnamese_names_are_recognised() {
        let src: Vec<String> = [
            "SHBANDO",
            "SoThua",
            "DienTich",
            "LoaiDat",
            "Địa_chỉ",
            "GhiChu",
        ]
        .map(String::from)
        .to_vec();
        let p = plan("parcels", &parcels(), &src, &MappingFile::default()).unwrap();
        assert_eq!(
            p,
            vec![
                None,
                Some(Feed::Field(0)),
                Some(Feed::Field(1)),
                Some(Feed::Field(2)),
                Some(Feed::Field(3)),
                Some(Feed::Field(4)),
            ]
        );
    }

    #[test]
    fn the_mapping_file_wins_and_is_checked() {
        let m = MappingFile::parse(
            "[fields]\nsheet_number = \"TO_BD\"\n[values]\ncommune_code = \"20335\"\n[units]\nlegal_area = \"ha\"\n",
        )
        .unwrap();
        let src: Vec<String> = ["TO_BD", "SoTo", "SoThua"].map(String::from).to_vec();
        let p = plan("parcels", &parcels(), &src, &m).unwrap();
        assert_eq!(p[0], Some(Feed::Constant(Value::Text("20335".into()))));
        assert_eq!(p[1], Some(Feed::Field(0)));
        let bad = MappingFile::parse("[fields]\nsheet = \"TO_BD\"\n").unwrap();
        let e = plan("parcels", &parcels(), &src, &bad).unwrap_err();
        assert!(e.contains("'sheet'") && e.contains("sheet_number"), "{e}");
        let missing = MappingFile::parse("[fields]\nsheet_number = \"SoToBD\"\n").unwrap();
        assert!(plan("parcels", &parcels(), &src, &missing)
            .unwrap_err()
            .contains("SoToBD"));
        assert!(MappingFile::parse("[field]\n").is_err());
    }
}
