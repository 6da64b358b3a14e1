//! Time in layers: which features are valid on a day. A layer with a
//! `valid_from` date (and optionally `valid_to`) has an interval: a feature
//! is valid from the first day to the last day inclusive, a null end
//! meaning "still valid" (the sample's `admin_units`). A layer with an
//! `approval_date` has an instant (`plans`): a feature exists from that day
//! on. Days compare as calendar dates (`YYYY-MM-DD`, the first ten
//! characters of a date-time). OGC API `datetime` and the planning answers'
//! `as_of` both stand on this.

use super::layer::{FeatureRef, Layer};
use crate::model::{FieldType, ValueRef};

/// The temporal property of a layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Temporal {
    /// Valid from `start` to `end` (inclusive days; null end = still valid).
    Interval {
        /// Field index of the start.
        start: usize,
        /// Field index of the end, when the layer has one.
        end: Option<usize>,
    },
    /// One instant (a date).
    Instant(usize),
}

fn date_field(l: &Layer, name: &str) -> Option<usize> {
    l.fields()
        .iter()
        .position(|f| f.name == name && matches!(f.ty, FieldType::Date | FieldType::DateTime))
}

/// The temporal property of `l`, if it has one.
pub fn temporal_of(l: &Layer) -> Option<Temporal> {
    if let Some(start) = date_field(l, "valid_from") {
        return Some(Temporal::Interval {
            start,
            end: date_field(l, "valid_to"),
        });
    }
    date_field(l, "approval_date").map(Temporal::Instant)
}

/// The calendar day of a date or date-time value, if it has one.
fn day_of(v: ValueRef<'_>) -> Option<&str> {
    match v {
        ValueRef::Text(s) if s.len() >= 10 && s.is_char_boundary(10) => Some(&s[..10]),
        _ => None,
    }
}

/// True when `day` (`YYYY-MM-DD`) is a well-formed calendar date.
pub fn is_day(day: &str) -> bool {
    // chrono alone also takes " 2024-1-05" and "+2024-1-05"; days compare
    // as text, so only the canonical spelling will do.
    let b = day.as_bytes();
    b.len() == 10
        && b.iter().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                *c == b'-'
            } else {
                c.is_ascii_digit()
            }
        })
        && chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d").is_ok()
}

impl Layer {
    /// True when feature `f` exists on `day` (`YYYY-MM-DD`): inside its
    /// interval, or on or after its instant. A feature with a null start or
    /// instant (a plan not yet approved) has no beginning and counts as
    /// existing; a layer without a temporal property is valid every day.
    pub fn valid_on(&self, t: Option<&Temporal>, f: FeatureRef, day: &str) -> bool {
        let data = self.data(f.part);
        let row = f.row as usize;
        match t {
            None => true,
            Some(Temporal::Instant(i)) => day_of(data.value(row, *i)).is_none_or(|d| d <= day),
            Some(Temporal::Interval { start, end }) => {
                day_of(data.value(row, *start)).is_none_or(|d| d <= day)
                    && end.is_none_or(|e| day_of(data.value(row, e)).is_none_or(|d| d >= day))
            }
        }
    }
}

/// The time span of a layer's features: `[first, last]`, `None` for an
/// open end (a feature still valid, or a null start).
pub fn temporal_extent(l: &Layer, t: &Temporal) -> [Option<String>; 2] {
    let (s, e) = match *t {
        Temporal::Interval { start, end } => (start, end),
        Temporal::Instant(i) => (i, Some(i)),
    };
    let mut lo: Option<String> = None;
    let mut hi: Option<String> = None;
    let (mut open_lo, mut open_hi) = (false, e.is_none());
    let mut any = false;
    l.for_each_match(None, None, |r| {
        any = true;
        let data = l.data(r.part);
        match data.value(r.row as usize, s) {
            ValueRef::Text(v) => {
                if lo.as_deref().is_none_or(|x| v < x) {
                    lo = Some(v.to_owned());
                }
            }
            _ => open_lo |= matches!(t, Temporal::Interval { .. }),
        }
        if let Some(e) = e {
            match data.value(r.row as usize, e) {
                ValueRef::Text(v) => {
                    if hi.as_deref().is_none_or(|x| v > x) {
                        hi = Some(v.to_owned());
                    }
                }
                _ => open_hi |= matches!(t, Temporal::Interval { .. }),
            }
        }
    });
    if !any {
        return [None, None];
    }
    let to_rfc3339 = |d: String| {
        if d.len() == 10 {
            format!("{d}T00:00:00Z")
        } else {
            d
        }
    };
    [
        lo.filter(|_| !open_lo).map(to_rfc3339),
        hi.filter(|_| !open_hi).map(|d| {
            if d.len() == 10 {
                format!("{d}T23:59:59Z")
            } else {
                d
            }
        }),
    ]
}

#[cfg(test)]
mod tests {
    use super::is_day;

    #[test]
    fn only_canonical_days_are_days() {
        assert!(is_day("2025-07-01"));
        for bad in [
            "+2024-1-05",
            " 2024-1-05",
            "2024-01- 5",
            "2025-02-30",
            "2025-7-01x",
            "yesterday",
        ] {
            assert!(!is_day(bad), "{bad}");
        }
    }
}
