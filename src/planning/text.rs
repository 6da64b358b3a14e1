//! Vietnamese text folding for search: NFC text → lowercase ASCII words,
//! diacritics and đ dropped, so "Phường Minh An", "phuong minh an" and
//! "PHƯỜNG  MINH ÁN" compare equal.
//!
//! # Examples
//!
//! ```
//! use geoplan::planning::text::{fold, strip_unit_type};
//! assert_eq!(fold("Thị xã Điện Bàn"), "thi xa dien ban");
//! assert_eq!(strip_unit_type(&fold("Phường Minh An")), "minh an");
//! ```

use unicode_normalization::UnicodeNormalization;

/// Lowercase ASCII words of `s`: decomposed, combining marks dropped,
/// đ → d, anything neither a letter nor a digit → one space.
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut space = true;
    for c in s.nfd() {
        if ('\u{300}'..='\u{36f}').contains(&c) {
            continue;
        }
        let c = match c {
            'đ' | 'Đ' => 'd',
            c => c,
        };
        if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
            space = false;
        } else if !space {
            out.push(' ');
            space = true;
        }
    }
    if out.ends_with(' ') {
        out.pop();
    }
    out
}

/// Unit-type words that may precede a unit's name, folded, longest first.
pub const UNIT_TYPES: &[&str] = &[
    "thanh pho",
    "thi tran",
    "dac khu",
    "thi xa",
    "phuong",
    "huyen",
    "quan",
    "tinh",
    "xa",
    "tp",
    "tt",
    "tx",
    "p",
    "x",
    "q",
    "h",
];

/// A folded name without its leading unit type ("phuong minh an" →
/// "minh an"); a name that is only a type word stays as it is.
pub fn strip_unit_type(folded: &str) -> &str {
    for t in UNIT_TYPES {
        if let Some(rest) = folded.strip_prefix(t) {
            if let Some(rest) = rest.strip_prefix(' ') {
                if !rest.is_empty() {
                    return rest;
                }
            }
        }
    }
    folded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_drops_marks_case_and_punctuation_in_nfc_and_nfd_alike() {
        let nfd: String = "Phường Hòa Khánh Bắc".nfd().collect();
        assert_eq!(fold(&nfd), "phuong hoa khanh bac");
        assert_eq!(fold("  ĐẠI  Lộc, "), "dai loc");
        assert_eq!(fold("tờ 12/thửa 345"), "to 12 thua 345");
    }

    #[test]
    fn unit_types_are_stripped_only_in_front_of_a_name() {
        assert_eq!(strip_unit_type("thi xa dien ban"), "dien ban");
        assert_eq!(strip_unit_type("p minh an"), "minh an");
        assert_eq!(strip_unit_type("phuong"), "phuong");
        assert_eq!(strip_unit_type("xa"), "xa");
    }
}
