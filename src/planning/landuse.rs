//! The national land-use codes (Thông tư 08/2024/TT-BTNMT, with the legacy
//! codes parcels still carry), compiled in from `data/sources/
//! landuse_codes.csv`: the code list is law, not data a deployment edits.

use std::collections::BTreeMap;
use std::sync::OnceLock;

const CSV: &str = include_str!("../../data/sources/landuse_codes.csv");

/// One land-use code.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LandUse {
    /// The code ("ODT").
    pub code: String,
    /// Its Vietnamese name ("Đất ở tại đô thị").
    pub name: String,
    /// Its group: NNP agricultural, PNN non-agricultural, CSD unused.
    pub group: String,
    /// Whether the code is current or legacy, and since which circular.
    pub status: String,
}

fn table() -> &'static BTreeMap<String, LandUse> {
    static T: OnceLock<BTreeMap<String, LandUse>> = OnceLock::new();
    T.get_or_init(|| {
        CSV.lines()
            .skip(1)
            .filter_map(|l| {
                let mut f = l.split(',');
                let (code, name, group, _rgb, status) =
                    (f.next()?, f.next()?, f.next()?, f.next()?, f.next()?);
                Some((
                    code.to_owned(),
                    LandUse {
                        code: code.to_owned(),
                        name: name.to_owned(),
                        group: group.to_owned(),
                        status: status.to_owned(),
                    },
                ))
            })
            .collect()
    })
}

/// The land-use code `code` (case-insensitive), if it is one.
pub fn lookup(code: &str) -> Option<&'static LandUse> {
    table().get(&code.trim().to_ascii_uppercase())
}

/// The current (TT 08/2024) code a legacy code became: BHK and NHK were
/// folded into HNK, LUN into LUK, SKT into SKK, SKX into SKC, DDT and DDL
/// into DDD, DSH into DKV. A current or unknown code is itself.
///
/// # Examples
///
/// ```
/// use geoplan::planning::landuse::current;
/// assert_eq!(current("BHK"), "HNK");
/// assert_eq!(current("odt"), "ODT");
/// ```
pub fn current(code: &str) -> String {
    let c = code.trim().to_ascii_uppercase();
    match c.as_str() {
        "BHK" | "NHK" => "HNK".into(),
        "LUN" => "LUK".into(),
        "SKT" => "SKK".into(),
        "SKX" => "SKC".into(),
        "DDT" | "DDL" => "DDD".into(),
        "DSH" => "DKV".into(),
        _ => c,
    }
}

/// The codes of a parcel's land-use value, which may name several
/// ("ODT+CLN", "ONT, CLN"): each known code, then each unknown one with an
/// empty name, in the order written.
pub fn codes_of(value: &str) -> Vec<LandUse> {
    value
        .split(|c: char| c == '+' || c == ',' || c == ';' || c == '/' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(|c| {
            lookup(c).cloned().unwrap_or_else(|| LandUse {
                code: c.to_owned(),
                name: String::new(),
                group: String::new(),
                status: "không có trong danh mục / not a listed code".into(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_resolve_to_their_names_and_unknown_ones_say_so() {
        assert_eq!(lookup("odt").unwrap().name, "Đất ở tại đô thị");
        assert_eq!(lookup("CQP").unwrap().group, "PNN");
        let v = codes_of("ODT+CLN");
        assert_eq!(v.len(), 2);
        assert_eq!(v[1].name, "Đất trồng cây lâu năm");
        let u = codes_of("XYZ");
        assert!(u[0].name.is_empty() && u[0].status.contains("not a listed code"));
        assert!(table().len() > 50, "the whole code list is read");
    }
}
