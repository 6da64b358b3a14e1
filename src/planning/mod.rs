//! Planning answers for planners and investment officers: parcel lookup by
//! cadastral key or free text over the pre- and post-2025 administrative
//! geography. Reads engine snapshots only: no IO, never awaits (http wires
//! it, on the blocking pool).

pub mod admin;
pub mod parcels;
pub mod text;

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
