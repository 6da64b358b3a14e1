//! Planning answers for planners and investment officers: parcel lookup by
//! cadastral key or free text over the pre- and post-2025 administrative
//! geography, and what the plans say on a parcel, a point or a proposed
//! site. Reads engine snapshots only: no IO, never awaits (http wires it,
//! on the blocking pool).

pub mod admin;
pub mod check;
pub mod info;
pub mod landuse;
pub mod overlay;
pub mod parcels;
pub mod projects;
pub mod search;
pub mod site;
pub mod sites;
pub mod stats;
pub mod text;

use crate::engine::{FeatureRef, Layer};
use crate::model::ValueRef;

/// Why a planning question has no answer.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum PlanningError {
    /// The question could not be read (a 400).
    #[error("{0}")]
    BadRequest(String),
    /// The question was read but names nothing that exists (a 404).
    #[error("{message}")]
    NotFound {
        /// What did not match.
        message: String,
        /// Close names that do exist.
        suggestions: Vec<String>,
    },
    /// A layer the answer needs is not loaded (a 503).
    #[error("layer {0} is not loaded")]
    MissingLayer(&'static str),
}

/// The value of field `name` of feature `f` (null when the layer lacks it).
pub(crate) fn value_of<'a>(l: &'a Layer, f: FeatureRef, name: &str) -> ValueRef<'a> {
    let d = l.data(f.part);
    d.field_index(name)
        .map_or(ValueRef::Null, |c| d.value(f.row as usize, c))
}

/// A text field of a feature.
pub(crate) fn text_of<'a>(l: &'a Layer, f: FeatureRef, name: &str) -> Option<&'a str> {
    match value_of(l, f, name) {
        ValueRef::Text(s) => Some(s),
        _ => None,
    }
}

/// An integer field of a feature.
pub(crate) fn int_of(l: &Layer, f: FeatureRef, name: &str) -> Option<i64> {
    match value_of(l, f, name) {
        ValueRef::Int(i) => Some(i),
        _ => None,
    }
}

/// A numeric field of a feature.
pub(crate) fn num_of(l: &Layer, f: FeatureRef, name: &str) -> Option<f64> {
    value_of(l, f, name).as_f64()
}

/// `v` rounded to `places` decimals.
pub(crate) fn round(v: f64, places: i32) -> f64 {
    let k = 10f64.powi(places);
    (v * k).round() / k
}
