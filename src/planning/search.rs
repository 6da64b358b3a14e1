//! One search box over everything a planner or investment officer names:
//! a cadastral key in any spelling or an address (through
//! [`super::parcels`]), an administrative unit before or after the 2025
//! merger, a plan by code, name or decision number, a zoning lot by
//! symbol, an industrial or economic zone, an investment project by name,
//! investor or decision, a named place. Text is compared folded
//! ([`super::text::fold`]): "phuong minh an" finds "Phường Minh An".
//!
//! Suggestions are ranked: exact names first, then names that begin with
//! the query, then names with a word that begins with it, then names that
//! hold every word of the query as a word prefix. Each hit carries its
//! layer, feature id and bounding box (CRS84) so a map can zoom to it.

use super::admin::Gazetteer;
use super::parcels::{self, ParcelQuery};
use super::text::{fold, strip_unit_type};
use super::{round, text_of};
use crate::engine::temporal::temporal_of;
use crate::engine::{Catalog, FeatureRef, Layer};

/// What a search found, in the order a list shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A parcel by cadastral key or address.
    Parcel,
    /// An administrative unit (commune, district, province), old or new.
    Unit,
    /// A plan.
    Plan,
    /// An investment project.
    Project,
    /// An industrial or economic zone.
    Zone,
    /// A zoning lot.
    Lot,
    /// A named place.
    Place,
}

/// One suggestion.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Hit {
    /// What it is.
    pub kind: Kind,
    /// What a list shows first (Vietnamese, as the data spells it).
    pub label: String,
    /// A second line: type, code, period, parent unit.
    pub detail: String,
    /// The layer it comes from.
    pub layer: &'static str,
    /// Its feature id there.
    pub fid: i64,
    /// Its bounding box, CRS84 `[minlon, minlat, maxlon, maxlat]`.
    pub bbox: Option<[f64; 4]>,
    /// How well it matched, 0–1.
    pub score: f64,
}

/// The answer: the query folded as it was compared, and the hits.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Answer {
    /// The query as given.
    pub query: String,
    /// Hits, best first.
    pub results: Vec<Hit>,
}

/// How well folded `hay` matches folded `q` (`None`: not at all).
fn score(hay: &str, q: &str) -> Option<f64> {
    if q.is_empty() || hay.is_empty() {
        return None;
    }
    if hay == q {
        return Some(1.0);
    }
    if let Some(rest) = hay.strip_prefix(q) {
        return Some(if rest.starts_with(' ') { 0.85 } else { 0.75 });
    }
    if hay.contains(&format!(" {q}")) {
        return Some(0.65);
    }
    let words: Vec<&str> = hay.split(' ').collect();
    q.split(' ')
        .all(|w| words.iter().any(|h| h.starts_with(w)))
        .then_some(0.5)
}

/// The best score of any of `fields` of `f`, each folded.
fn best(l: &Layer, f: FeatureRef, fields: &[&str], q: &str) -> Option<f64> {
    fields
        .iter()
        .filter_map(|n| text_of(l, f, n))
        .filter_map(|v| score(&fold(v), q))
        .reduce(f64::max)
}

/// The feature's box in CRS84, rounded outward as every extent is.
fn bbox(l: &Layer, f: FeatureRef) -> Option<[f64; 4]> {
    let r = l.data(f.part).geometry.bbox(f.row as usize)?;
    let (a, b) = crate::crs::advertised_bbox((r.min(), r.max()), crate::crs::Crs::Crs84).ok()?;
    Some([a.x, a.y, b.x, b.y])
}

/// The non-empty parts, joined as a detail line shows them.
fn joined(parts: impl IntoIterator<Item = String>) -> String {
    parts
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" · ")
}

/// "1997-01-01" → "1/1/1997".
fn day(d: &str) -> String {
    let p: Vec<&str> = d.split('-').collect();
    match p.as_slice() {
        [y, m, dd] => format!(
            "{}/{}/{y}",
            dd.trim_start_matches('0'),
            m.trim_start_matches('0')
        ),
        _ => d.to_owned(),
    }
}

/// How much less a unit counts that did not exist on the day asked.
const OTHER_DAY: f64 = 0.9;

/// Searches one snapshot; at most `limit` hits. Units that existed on
/// `as_of` (YYYY-MM-DD) rank above those that did not.
pub fn search(cat: &Catalog, q: &str, limit: usize, as_of: &str) -> Answer {
    let fq = fold(q);
    let mut hits: Vec<Hit> = Vec::new();
    if fq.is_empty() {
        return Answer {
            query: q.to_owned(),
            results: hits,
        };
    }
    let gaz = Gazetteer::from_catalog(cat).unwrap_or_default();
    parcel_hits(cat, &gaz, q, limit, &mut hits);
    unit_hits(cat, &gaz, &fq, as_of, &mut hits);
    let mut each = |layer: &'static str,
                    kind: Kind,
                    fields: &[&str],
                    label: &dyn Fn(&Layer, FeatureRef) -> (String, String)| {
        let Some(l) = cat.layer(layer) else { return };
        l.for_each_match(None, None, |f| {
            if let Some(s) = best(l, f, fields, &fq) {
                let (label, detail) = label(l, f);
                hits.push(Hit {
                    kind,
                    label,
                    detail,
                    layer,
                    fid: f.fid,
                    bbox: bbox(l, f),
                    score: s,
                });
            }
        });
    };
    let t = |l: &Layer, f: FeatureRef, n: &str| text_of(l, f, n).unwrap_or_default().to_owned();
    each(
        "plans",
        Kind::Plan,
        &["code", "name", "approval_decision"],
        &|l, f| {
            (
                t(l, f, "name"),
                joined([
                    t(l, f, "code"),
                    t(l, f, "approval_decision"),
                    t(l, f, "status"),
                ]),
            )
        },
    );
    each(
        "investment_projects",
        Kind::Project,
        &["name", "investor", "approval_decision"],
        &|l, f| {
            (
                t(l, f, "name"),
                joined([t(l, f, "investor"), t(l, f, "stage")]),
            )
        },
    );
    each("industrial_zones", Kind::Zone, &["name"], &|l, f| {
        (t(l, f, "name"), t(l, f, "kind"))
    });
    each("pois", Kind::Place, &["name"], &|l, f| {
        (t(l, f, "name"), t(l, f, "kind"))
    });
    // Lot symbols repeat from plan to plan: "CC-01 QHPK-HC" narrows them.
    each(
        "zoning_lots",
        Kind::Lot,
        &["lot_symbol", "zone_code"],
        &|l, f| {
            (
                format!("Lô {}", t(l, f, "lot_symbol")),
                format!(
                    "{} · {} · {}",
                    t(l, f, "function"),
                    t(l, f, "zone_code"),
                    t(l, f, "plan_code")
                ),
            )
        },
    );
    hits.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then(a.kind.cmp(&b.kind))
            .then(a.label.cmp(&b.label))
            .then(a.fid.cmp(&b.fid))
    });
    // Lots are many and alike: keep room for the other kinds.
    let mut lots = 0;
    hits.retain(|h| {
        if h.kind == Kind::Lot {
            lots += 1;
            lots <= limit.div_ceil(2)
        } else {
            true
        }
    });
    hits.truncate(limit);
    Answer {
        query: q.to_owned(),
        results: hits,
    }
}

/// Parcels by cadastral key, or by address when the query is long enough
/// to be one.
fn parcel_hits(cat: &Catalog, gaz: &Gazetteer, q: &str, limit: usize, hits: &mut Vec<Hit>) {
    let Some(l) = cat.layer(parcels::LAYER) else {
        return;
    };
    // Only a key or an address within a named unit: without the unit a
    // key means a parcel in every commune, and an address would scan the
    // whole province at each keystroke.
    let it = parcels::interpret(q, gaz);
    let by_key = it.sheet.is_some() || it.parcel.is_some();
    if it.commune.is_none() || (!by_key && it.address.is_none()) {
        return;
    }
    let Ok(answer) = parcels::find(
        cat,
        &ParcelQuery {
            q: Some(q.to_owned()),
            limit,
            ..Default::default()
        },
    ) else {
        return;
    };
    for p in answer.parcels {
        let Some(f) = l.get(p.fid) else { continue };
        let area = p
            .legal_area
            .map(|a| format!(" · {} m²", round(a, 1)))
            .unwrap_or_default();
        hits.push(Hit {
            kind: Kind::Parcel,
            label: format!(
                "Thửa {} tờ {} · {}",
                p.parcel_number.unwrap_or_default(),
                p.sheet_number.unwrap_or_default(),
                p.commune.name
            ),
            detail: format!(
                "{}{}{area}{}",
                p.cadastral_key,
                p.land_use_code
                    .map(|c| format!(" · {c}"))
                    .unwrap_or_default(),
                p.address.map(|a| format!(" · {a}")).unwrap_or_default()
            ),
            layer: parcels::LAYER,
            fid: p.fid,
            bbox: bbox(l, f),
            score: if by_key { 0.95 } else { 0.55 },
        });
    }
}

/// Administrative units, old and new, by name with or without type.
fn unit_hits(cat: &Catalog, gaz: &Gazetteer, fq: &str, as_of: &str, hits: &mut Vec<Hit>) {
    let Some(l) = cat.layer("admin_units") else {
        return;
    };
    let t = temporal_of(l);
    let bare = strip_unit_type(fq);
    l.for_each_match(None, None, |f| {
        let Some(name) = text_of(l, f, "name") else {
            return;
        };
        let ty = text_of(l, f, "unit_type").unwrap_or_default();
        let folded = fold(name);
        let typed = fold(&format!("{ty} {name}"));
        let s = [
            score(&folded, fq),
            score(&typed, fq),
            score(strip_unit_type(&folded), bare).map(|s| s * 0.95),
        ]
        .into_iter()
        .flatten()
        .reduce(f64::max);
        let Some(mut s) = s else { return };
        if !l.valid_on(t.as_ref(), f, as_of) {
            s *= OTHER_DAY;
        }
        let ten = |s: &'static str| text_of(l, f, s).map(|d| d.get(..10).unwrap_or(d));
        let from = ten("valid_from").unwrap_or_default();
        let to = ten("valid_to");
        let period = match to {
            Some(to) => format!("đến {}", day(to)),
            None if from >= "2025-07-01" => format!("từ {}", day(from)),
            None => String::new(),
        };
        let code = text_of(l, f, "code").unwrap_or_default();
        let parent = to
            .and_then(|_| gaz.district_of(code))
            .map(|d| d.name.clone())
            .unwrap_or_default();
        let label = if folded.starts_with(&fold(ty)) || ty.is_empty() {
            name.to_owned()
        } else {
            let mut t = ty.chars();
            let cap: String = t
                .next()
                .map(|c| c.to_uppercase().chain(t).collect())
                .unwrap_or_default();
            format!("{cap} {name}")
        };
        hits.push(Hit {
            kind: Kind::Unit,
            label,
            detail: joined([code.to_owned(), period, parent]),
            layer: "admin_units",
            fid: f.fid,
            bbox: bbox(l, f),
            score: s,
        });
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_rank_exact_then_prefix_then_word_then_words() {
        assert_eq!(score("minh an", "minh an"), Some(1.0));
        assert_eq!(score("minh an hoi an", "minh an"), Some(0.85));
        assert_eq!(score("minh anh", "minh an"), Some(0.75));
        assert_eq!(score("phuong minh an", "minh an"), Some(0.65));
        assert_eq!(score("khu cong nghiep tam hiep", "kcn tam"), None);
        assert_eq!(score("khu cong nghiep tam hiep", "khu tam"), Some(0.5));
        assert_eq!(score("hai chau", "chau hai x"), None);
        assert_eq!(score("", "a"), None);
    }

    #[test]
    fn days_read_as_vietnamese_write_them() {
        assert_eq!(day("2025-07-01"), "1/7/2025");
        assert_eq!(day("x"), "x");
    }
}
