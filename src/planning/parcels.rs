//! Parcel lookup: by cadastral key (commune, sheet, parcel) with the
//! commune in any form the gazetteer reads, or by free text ("tờ 12 thửa
//! 345 Minh An", "thua 345 to 12 minh an", "12/345 Minh An", an address
//! fragment). Keys are answered from the engine's keyed index; addresses
//! by scanning the folded addresses of the communes named, or of all.

use super::admin::{Gazetteer, MatchKind, Unit};
use super::text::fold;
use super::{int_of, num_of, text_of, PlanningError};
use crate::engine::{Catalog, Layer};

/// The parcels layer and the fields of its key.
pub const LAYER: &str = "parcels";
const KEY: [&str; 3] = ["commune_code", "sheet_number", "parcel_number"];

/// A lookup as asked.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ParcelQuery {
    /// `commune=`: a pre-2025 or 2025 code, or a name.
    pub commune: Option<String>,
    /// `sheet=`: map sheet number (số tờ).
    pub sheet: Option<i64>,
    /// `parcel=`: parcel number (số thửa).
    pub parcel: Option<i64>,
    /// `q=`: free text.
    pub q: Option<String>,
    /// Most results returned.
    pub limit: usize,
}

/// How free text was read.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Interpretation {
    /// The commune words found.
    pub commune: Option<String>,
    /// Sheet number found.
    pub sheet: Option<i64>,
    /// Parcel number found.
    pub parcel: Option<i64>,
    /// Words left over, matched against addresses.
    pub address: Option<String>,
}

/// One parcel found.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ParcelHit {
    /// Feature id in the `parcels` layer.
    pub fid: i64,
    /// "commune-sheet-parcel", e.g. "20398-12-345".
    pub cadastral_key: String,
    /// Sheet number.
    pub sheet_number: Option<i64>,
    /// Parcel number.
    pub parcel_number: Option<i64>,
    /// The pre-2025 commune of the key.
    pub commune: Unit,
    /// Its pre-2025 district.
    pub district: Option<Unit>,
    /// The 2025 unit it lies in now.
    pub unit_2025: Option<Unit>,
    /// Legal area, m².
    pub legal_area: Option<f64>,
    /// Land-use code.
    pub land_use_code: Option<String>,
    /// Address.
    pub address: Option<String>,
    /// Why it matched (in lookups).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub matched_by: Option<MatchKind>,
}

/// The answer.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ParcelAnswer {
    /// How `q` was read (absent for a key lookup).
    pub interpreted_as: Option<Interpretation>,
    /// Parcels that matched in all.
    pub matched: usize,
    /// The best `limit` of them: exact commune matches first, then in key
    /// order.
    pub parcels: Vec<ParcelHit>,
}

/// The first of `names` (folded) written as words of `text` (folded),
/// with the unit type written in front of it ("p. minh an") if any, and
/// the text without it.
fn take_name(text: &str, names: impl IntoIterator<Item = String>) -> Option<(String, String)> {
    let padded = format!(" {text} ");
    names.into_iter().find_map(|name| {
        let spelled = super::text::UNIT_TYPES
            .iter()
            .map(|t| format!(" {t} {name} "))
            .chain([format!(" {name} ")])
            .find(|p| padded.contains(p.as_str()))?;
        let left = padded.replacen(&spelled, " ", 1).trim().to_owned();
        Some((name, left))
    })
}

/// Reads free text into key parts and leftover words.
pub fn interpret(q: &str, gaz: &Gazetteer) -> Interpretation {
    // "12/345" is tờ/thửa: the slash reads as a separator.
    let mut f = fold(q);
    let mut it = Interpretation::default();
    // A name with a number in it ("Quế Xuân 1") is taken out whole first,
    // or its number would be read as a sheet and the name not found.
    let numbered = gaz
        .folded_names()
        .into_iter()
        .filter(|n| n.bytes().any(|b| b.is_ascii_digit()));
    if let Some((name, left)) = take_name(&f, numbered) {
        it.commune = Some(name);
        f = left;
    }
    let words: Vec<&str> = f.split(' ').filter(|w| !w.is_empty()).collect();
    let mut rest: Vec<&str> = Vec::new();
    let mut bare: Vec<i64> = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let w = words[i];
        let next_num = words.get(i + 1).and_then(|n| n.parse::<i64>().ok());
        match (w, next_num) {
            ("to" | "sheet" | "tbd", Some(n)) => {
                it.sheet = Some(n);
                i += 2;
                continue;
            }
            ("thua" | "parcel" | "lot", Some(n)) => {
                it.parcel = Some(n);
                i += 2;
                continue;
            }
            ("so", _) => {}
            _ => {
                if let Ok(n) = w.parse::<i64>() {
                    if w.len() == 5 && !gaz.resolve(w).is_empty() && it.commune.is_none() {
                        it.commune = Some(w.to_owned());
                    } else {
                        bare.push(n);
                    }
                } else {
                    rest.push(w);
                }
            }
        }
        i += 1;
    }
    // Bare numbers fill what labels did not, in the written order tờ, thửa.
    for n in bare {
        if it.sheet.is_none() {
            it.sheet = Some(n);
        } else if it.parcel.is_none() {
            it.parcel = Some(n);
        }
    }
    let text = rest.join(" ").trim().to_owned();
    if it.commune.is_none() && !text.is_empty() {
        if let Some((name, left)) = take_name(&text, gaz.folded_names()) {
            it.commune = Some(name);
            it.address = (!left.is_empty()).then_some(left);
            return it;
        }
    }
    it.address = (!text.is_empty()).then_some(text);
    it
}

fn int(l: &Layer, fid: i64, field: &str) -> Option<i64> {
    int_of(l, l.get(fid)?, field)
}

fn txt<'a>(l: &'a Layer, fid: i64, field: &str) -> Option<&'a str> {
    text_of(l, l.get(fid)?, field)
}

fn real(l: &Layer, fid: i64, field: &str) -> Option<f64> {
    num_of(l, l.get(fid)?, field)
}

/// A parcel as answers name it; `matched_by` says why a lookup found it.
pub(crate) fn hit(
    l: &Layer,
    gaz: &Gazetteer,
    fid: i64,
    matched_by: Option<MatchKind>,
) -> ParcelHit {
    let code = txt(l, fid, "commune_code").unwrap_or_default().to_owned();
    let (sheet, parcel) = (int(l, fid, "sheet_number"), int(l, fid, "parcel_number"));
    let commune = gaz.commune(&code).cloned().unwrap_or_else(|| Unit {
        code: code.clone(),
        name: txt(l, fid, "commune_name").unwrap_or_default().to_owned(),
    });
    ParcelHit {
        fid,
        cadastral_key: format!(
            "{code}-{}-{}",
            sheet.map_or(String::new(), |s| s.to_string()),
            parcel.map_or(String::new(), |p| p.to_string())
        ),
        sheet_number: sheet,
        parcel_number: parcel,
        district: gaz.district_of(&code).cloned(),
        unit_2025: gaz.unit_2025_of(&code).cloned(),
        commune,
        legal_area: real(l, fid, "legal_area"),
        land_use_code: txt(l, fid, "land_use_code").map(str::to_owned),
        address: txt(l, fid, "address").map(str::to_owned),
        matched_by,
    }
}

/// Builds what key lookups on `layer` (the parcels) need, so the first
/// lookup does not wait for it; later snapshots keep it (see
/// [`crate::engine::keyed`]).
pub fn prepare(layer: &Layer) {
    layer.keyed(&KEY);
}

/// Answers a lookup over one snapshot.
pub fn find(cat: &Catalog, q: &ParcelQuery) -> Result<ParcelAnswer, PlanningError> {
    let layer = cat
        .layer(LAYER)
        .ok_or(PlanningError::MissingLayer("parcels"))?;
    let gaz = Gazetteer::from_catalog(cat)?;
    let (interp, commune, sheet, parcel, address) = match (&q.commune, &q.q) {
        (Some(c), None) => (None, Some(c.clone()), q.sheet, q.parcel, None),
        (None, Some(text)) if !text.trim().is_empty() => {
            let it = interpret(text, &gaz);
            if it.commune.is_none() && it.address.is_none() {
                return Err(PlanningError::BadRequest(format!(
                    "q='{text}' names no commune and no address; write e.g. 'tờ 12 thửa 345 Minh An'"
                )));
            }
            let i = it.clone();
            (
                Some(it),
                i.commune,
                q.sheet.or(i.sheet),
                q.parcel.or(i.parcel),
                i.address,
            )
        }
        (Some(_), Some(_)) => {
            return Err(PlanningError::BadRequest(
                "give either commune= (with sheet= and parcel=) or q=, not both".into(),
            ))
        }
        _ => {
            return Err(PlanningError::BadRequest(
                "give commune= (with sheet= and parcel=) or q= (free text, e.g. 'tờ 12 thửa 345 Minh An')"
                    .into(),
            ))
        }
    };
    if parcel.is_some() && sheet.is_none() {
        return Err(PlanningError::BadRequest(
            "a parcel number needs its sheet number (sheet= or 'tờ N')".into(),
        ));
    }
    for (name, v) in [("sheet", sheet), ("parcel", parcel)] {
        if v.is_some_and(|v| v < 1) {
            return Err(PlanningError::BadRequest(format!(
                "{name} must be a positive integer"
            )));
        }
    }
    let communes: Vec<(String, MatchKind)> = match &commune {
        Some(c) => {
            let found = gaz.resolve(c);
            if found.is_empty() {
                // Without commune-level units, a code is still a key part.
                if !gaz.has_communes() && c.bytes().all(|b| b.is_ascii_digit()) {
                    vec![(c.clone(), MatchKind::OldCode)]
                } else {
                    return Err(PlanningError::NotFound {
                        message: format!("no commune, ward, town or district matches '{c}'"),
                        suggestions: gaz.suggest(c),
                    });
                }
            } else {
                found
            }
        }
        None => Vec::new(),
    };
    let mut fids: Vec<(i64, MatchKind)> = Vec::new();
    if communes.is_empty() {
        let words: Vec<String> = address
            .as_deref()
            .map(|a| a.split(' ').map(str::to_owned).collect())
            .unwrap_or_default();
        let col = layer.data(crate::engine::Part::Base).field_index("address");
        if let Some(col) = col {
            for part in [crate::engine::Part::Base, crate::engine::Part::Delta] {
                let d = layer.data(part);
                if let crate::model::Column::Text { dict, codes } = &d.columns[col] {
                    let ok: Vec<bool> = (0..dict.len())
                        .map(|i| {
                            let f = fold(dict.get(i));
                            words.iter().all(|w| f.split(' ').any(|x| x == w))
                        })
                        .collect();
                    for (row, &c) in codes.iter().enumerate() {
                        if ok.get(c as usize).copied().unwrap_or(false) && layer.is_live(part, row)
                        {
                            fids.push((d.fids[row], MatchKind::OldName));
                        }
                    }
                }
            }
        }
        fids.sort_unstable();
    } else {
        let index = layer
            .keyed(&KEY)
            .ok_or(PlanningError::MissingLayer("parcels"))?;
        for (code, kind) in &communes {
            let (s, p) = (sheet.map(|s| s.to_string()), parcel.map(|p| p.to_string()));
            let key: Vec<&str> = [Some(code.as_str()), s.as_deref(), p.as_deref()]
                .into_iter()
                .map_while(|v| v)
                .collect();
            let found = index.get(&key);
            fids.extend(found.into_iter().map(|f| (f, *kind)));
        }
        if let Some(a) = &address {
            let words: Vec<&str> = a.split(' ').collect();
            fids.retain(|(f, _)| {
                let addr = fold(txt(layer, *f, "address").unwrap_or_default());
                words.iter().all(|w| addr.split(' ').any(|x| x == *w))
            });
        }
    }
    if fids.is_empty() {
        let mut what = Vec::new();
        if let Some(s) = sheet {
            what.push(format!("tờ {s}"));
        }
        if let Some(p) = parcel {
            what.push(format!("thửa {p}"));
        }
        if let Some(a) = &address {
            what.push(format!("address '{a}'"));
        }
        let place = communes
            .first()
            .and_then(|(c, _)| gaz.commune(c))
            .map(|u| format!(" in {} ({})", u.name, u.code))
            .unwrap_or_default();
        let extra = if communes.len() > 1 {
            format!(" or {} other communes", communes.len() - 1)
        } else {
            String::new()
        };
        return Err(PlanningError::NotFound {
            message: format!("no parcel {}{place}{extra}", what.join(" ")),
            suggestions: Vec::new(),
        });
    }
    let matched = fids.len();
    let parcels = fids
        .into_iter()
        .take(q.limit.max(1))
        .map(|(f, k)| hit(layer, &gaz, f, Some(k)))
        .collect();
    Ok(ParcelAnswer {
        interpreted_as: interp,
        matched,
        parcels,
    })
}
