//! The administrative gazetteer: commune-level units before and after the
//! 1 July 2025 merger, districts, and the lineage old commune → 2025 unit,
//! read from the `admin_units` and `admin_lineage` layers of a snapshot.
//! Resolves what a user types for a commune (a pre-2025 GSO code, a 2025
//! code, a name in any spelling, a former district or town) into the
//! pre-2025 commune codes that cadastral keys carry.

use super::text::{fold, strip_unit_type};
use super::PlanningError;
use crate::engine::{Catalog, Layer, Part};
use crate::model::ValueRef;
use std::collections::BTreeMap;

/// One administrative unit as a search result names it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Unit {
    /// GSO code.
    pub code: String,
    /// Name with its type ("Phường Minh An").
    pub name: String,
}

/// A pre-2025 commune with what lookups need of it.
#[derive(Debug, Clone)]
struct Commune {
    unit: Unit,
    folded: String,
    district: Option<String>,
}

/// Why a commune matched, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchKind {
    /// The pre-2025 code itself.
    OldCode,
    /// The pre-2025 commune's name.
    OldName,
    /// A 2025 unit (code or name) it was merged into.
    NewUnit,
    /// The former district or town it belonged to.
    District,
}

/// The gazetteer of one snapshot.
#[derive(Debug, Default)]
pub struct Gazetteer {
    communes: BTreeMap<String, Commune>,
    districts: BTreeMap<String, (Unit, String)>,
    /// 2025 units: code → (unit, folded name without type).
    units_2025: BTreeMap<String, (Unit, String)>,
    /// Old commune code → its 2025 unit code.
    successor: BTreeMap<String, String>,
    /// Pre-2025 provinces by code.
    provinces: BTreeMap<String, Unit>,
    /// District code → its pre-2025 province code.
    district_province: BTreeMap<String, String>,
    /// The province from 1 July 2025.
    province_2025: Option<Unit>,
}

fn text(l: &Layer, part: Part, row: usize, col: Option<usize>) -> Option<&str> {
    match l.data(part).value(row, col?) {
        ValueRef::Text(s) => Some(s),
        _ => None,
    }
}

fn live_rows(l: &Layer) -> impl Iterator<Item = (Part, usize)> + '_ {
    [Part::Base, Part::Delta]
        .into_iter()
        .flat_map(move |p| (0..l.data(p).len()).map(move |r| (p, r)))
        .filter(move |&(p, r)| l.is_live(p, r))
}

impl Gazetteer {
    /// Reads the units of a snapshot; `admin_units` must be loaded.
    pub fn from_catalog(cat: &Catalog) -> Result<Gazetteer, PlanningError> {
        let units = cat
            .layer("admin_units")
            .ok_or(PlanningError::MissingLayer("admin_units"))?;
        let col = |l: &Layer, n: &str| l.data(Part::Base).field_index(n);
        let (code, name, level, parent, from) = (
            col(units, "code"),
            col(units, "name"),
            col(units, "level"),
            col(units, "parent_code"),
            col(units, "valid_from"),
        );
        let mut g = Gazetteer::default();
        for (p, r) in live_rows(units) {
            let (Some(c), Some(n)) = (text(units, p, r, code), text(units, p, r, name)) else {
                continue;
            };
            let unit = Unit {
                code: c.to_owned(),
                name: n.to_owned(),
            };
            let folded = strip_unit_type(&fold(n)).to_owned();
            let since_2025 = text(units, p, r, from).is_some_and(|d| d >= "2025-07-01");
            match text(units, p, r, level) {
                Some("province") if since_2025 => g.province_2025 = Some(unit),
                Some("province") => {
                    g.provinces.insert(c.to_owned(), unit);
                }
                Some("district") => {
                    if let Some(pc) = text(units, p, r, parent) {
                        g.district_province.insert(c.to_owned(), pc.to_owned());
                    }
                    g.districts.entry(c.to_owned()).or_insert((unit, folded));
                }
                Some("commune") if since_2025 => {
                    g.units_2025.insert(c.to_owned(), (unit, folded));
                }
                Some("commune") => {
                    let district = text(units, p, r, parent).map(str::to_owned);
                    g.communes.insert(
                        c.to_owned(),
                        Commune {
                            unit,
                            folded,
                            district,
                        },
                    );
                }
                _ => {}
            }
        }
        if let Some(lin) = cat.layer("admin_lineage") {
            let (old, new) = (col(lin, "old_code"), col(lin, "new_code"));
            for (p, r) in live_rows(lin) {
                if let (Some(o), Some(n)) = (text(lin, p, r, old), text(lin, p, r, new)) {
                    g.successor.insert(o.to_owned(), n.to_owned());
                }
            }
        }
        Ok(g)
    }

    /// The pre-2025 commune with this code.
    pub fn commune(&self, code: &str) -> Option<&Unit> {
        self.communes.get(code).map(|c| &c.unit)
    }

    /// The district a pre-2025 commune belonged to.
    pub fn district_of(&self, code: &str) -> Option<&Unit> {
        let d = self.communes.get(code)?.district.as_deref()?;
        self.districts.get(d).map(|(u, _)| u)
    }

    /// The 2025 unit a pre-2025 commune became part of.
    pub fn unit_2025_of(&self, old_code: &str) -> Option<&Unit> {
        let n = self.successor.get(old_code)?;
        self.units_2025.get(n).map(|(u, _)| u)
    }

    /// The pre-2025 province a district belonged to.
    pub fn province_of_district(&self, district: &str) -> Option<&Unit> {
        self.provinces.get(self.district_province.get(district)?)
    }

    /// The province from 1 July 2025 (Thành phố Đà Nẵng).
    pub fn province_2025(&self) -> Option<&Unit> {
        self.province_2025.as_ref()
    }

    /// Every pre-2025 commune, by code.
    pub fn communes(&self) -> impl Iterator<Item = &Unit> {
        self.communes.values().map(|c| &c.unit)
    }

    /// Every pre-2025 district, by code.
    pub fn districts(&self) -> impl Iterator<Item = &Unit> {
        self.districts.values().map(|(u, _)| u)
    }

    /// Every pre-2025 province, by code.
    pub fn provinces(&self) -> impl Iterator<Item = &Unit> {
        self.provinces.values()
    }

    /// Every 2025 unit, by code.
    pub fn units_2025(&self) -> impl Iterator<Item = &Unit> {
        self.units_2025.values().map(|(u, _)| u)
    }

    /// True when the snapshot has commune-level units.
    pub fn has_communes(&self) -> bool {
        !self.communes.is_empty()
    }

    /// The pre-2025 commune codes `q` names, best match first: a pre-2025
    /// code, a 2025 code (all communes that formed it), a commune name old
    /// or new with or without diacritics and type, or a former district or
    /// town. An empty list means nothing matched; see
    /// [`Gazetteer::suggest`].
    pub fn resolve(&self, q: &str) -> Vec<(String, MatchKind)> {
        let q = q.trim();
        let mut out: Vec<(String, MatchKind)> = Vec::new();
        let add = |c: &str, k: MatchKind, out: &mut Vec<(String, MatchKind)>| {
            if !out.iter().any(|(x, _)| x == c) {
                out.push((c.to_owned(), k));
            }
        };
        if !q.is_empty() && q.bytes().all(|b| b.is_ascii_digit()) {
            if self.communes.contains_key(q) {
                add(q, MatchKind::OldCode, &mut out);
            }
            for (old, new) in &self.successor {
                if new == q {
                    add(old, MatchKind::NewUnit, &mut out);
                }
            }
            if self.districts.contains_key(q) {
                for (c, cm) in &self.communes {
                    if cm.district.as_deref() == Some(q) {
                        add(c, MatchKind::District, &mut out);
                    }
                }
            }
            return out;
        }
        let f = fold(q);
        let name = strip_unit_type(&f);
        if name.is_empty() {
            return out;
        }
        // A name may itself begin with a type word once its type is gone
        // ("Thị trấn P Rao" is "p rao"): the text as given matches too.
        let named = |n: &str| n == name || n == f;
        for (c, cm) in &self.communes {
            if named(&cm.folded) {
                add(c, MatchKind::OldName, &mut out);
            }
        }
        for (code, (_, n)) in &self.units_2025 {
            if named(n) {
                for (old, new) in &self.successor {
                    if new == code {
                        add(old, MatchKind::NewUnit, &mut out);
                    }
                }
            }
        }
        for (dcode, (_, n)) in &self.districts {
            if named(n) {
                for (c, cm) in &self.communes {
                    if cm.district.as_deref() == Some(dcode.as_str()) {
                        add(c, MatchKind::District, &mut out);
                    }
                }
            }
        }
        out.sort_by_key(|(_, k)| *k);
        out
    }

    /// Up to five unit names closest to `q` (Jaro–Winkler on folded names).
    pub fn suggest(&self, q: &str) -> Vec<String> {
        let f = fold(q);
        let name = strip_unit_type(&f);
        let mut scored: Vec<(f64, &str)> = self
            .communes
            .values()
            .map(|c| (c.folded.as_str(), c.unit.name.as_str()))
            .chain(
                self.units_2025
                    .values()
                    .map(|(u, n)| (n.as_str(), u.name.as_str())),
            )
            .chain(
                self.districts
                    .values()
                    .map(|(u, n)| (n.as_str(), u.name.as_str())),
            )
            .map(|(folded, shown)| (strsim::jaro_winkler(name, folded), shown))
            .filter(|(s, _)| *s > 0.75)
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
        let mut out: Vec<String> = Vec::new();
        for (_, n) in scored {
            if !out.iter().any(|x| x == n) {
                out.push(n.to_owned());
            }
            if out.len() == 5 {
                break;
            }
        }
        out
    }

    /// Every unit name, folded and without type, with the commune codes it
    /// names: what free text is matched against.
    pub(crate) fn folded_names(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .communes
            .values()
            .map(|c| c.folded.clone())
            .chain(self.units_2025.values().map(|(_, n)| n.clone()))
            .chain(self.districts.values().map(|(_, n)| n.clone()))
            .collect();
        v.sort_by_key(|s| std::cmp::Reverse(s.len()));
        v.dedup();
        v
    }
}
