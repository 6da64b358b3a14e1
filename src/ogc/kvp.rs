//! Key-value-pair requests: parameter names are case-insensitive, values
//! are kept as given; unknown parameters are ignored by the services (QGIS
//! sends `DPI`, `MAP_RESOLUTION`, `FORMAT_OPTIONS`; browsers `_`).

/// A parsed KVP query string with case-insensitive lookups.
#[derive(Debug, Clone, Default)]
pub struct Kvp {
    pairs: Vec<(String, String)>,
}

impl Kvp {
    /// Parses a raw (percent-encoded) query string.
    pub fn parse(raw: &str) -> Kvp {
        Kvp {
            pairs: url::form_urlencoded::parse(raw.as_bytes())
                .map(|(k, v)| (k.to_ascii_uppercase(), v.into_owned()))
                .collect(),
        }
    }

    /// The value of `name` (any case); the last one wins when repeated.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .rev()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The value of `name`, or of the first of `names` that is present.
    pub fn get_any(&self, names: &[&str]) -> Option<&str> {
        names.iter().find_map(|n| self.get(n))
    }

    /// Whether `name` is present (even with an empty value).
    pub fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// All pairs, names upper-cased.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }

    /// The same request with `name=value` put first where `name` is
    /// absent: a default a dispatcher knows (`SERVICE` at `/ows`), which
    /// any later pair of the same name overrides.
    pub fn with_default(mut self, name: &str, value: &str) -> Kvp {
        if !self.has(name) {
            self.pairs
                .insert(0, (name.to_ascii_uppercase(), value.to_owned()));
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_case_insensitive_and_values_decoded() {
        let k = Kvp::parse("service=WMS&Request=GetMap&layers=parcels%2Croads&bbox=1,2,3,4&_=9");
        assert_eq!(k.get("SERVICE"), Some("WMS"));
        assert_eq!(k.get("request"), Some("GetMap"));
        assert_eq!(k.get("LAYERS"), Some("parcels,roads"));
        assert_eq!(k.get_any(&["TYPENAMES", "LAYERS"]), Some("parcels,roads"));
        assert!(!k.has("STYLES"));
    }
}
