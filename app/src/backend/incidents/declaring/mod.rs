//! Declaring an incident: what staff tell Wardline, the plan read for it, the rows prepared
//! from it, and the writer that commits them.

pub(super) mod plan;
pub(super) mod postgres;
pub(super) mod prepare;
pub(super) mod write;
pub(super) mod writer;

pub use writer::Declarations;

use crate::domain::incidents::{ExerciseKind, IncidentKind, PatientsAffected};
use crate::error::AppError;

/// What staff tell Wardline when declaring.
#[derive(Debug, Clone)]
pub struct DeclareInput {
    pub org_code: Option<String>,
    pub kind: IncidentKind,
    pub summary: String,
    pub location: String,
    pub patients_affected: PatientsAffected,
    pub systems: String,
    pub personal_data: Option<bool>,
    /// Catalogued assets of the declaring organisation that are affected.
    pub assets: Vec<i64>,
    /// Set when this is an exercise, not a real incident.
    pub exercise: Option<ExerciseKind>,
}

/// A declaration written: its reference and the people it gave a task or a command role
/// (whose open pages a live event refreshes), known from what was written, not read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Declared {
    pub reference: String,
    pub people: Vec<i64>,
}

/// Trimmed text, refused when required and empty or when longer than `max` characters.
pub(crate) fn bounded(
    raw: &str,
    what: &str,
    max: usize,
    required: bool,
) -> Result<String, AppError> {
    let v = raw.trim();
    if required && v.is_empty() {
        return Err(AppError::Invalid(format!("Tell us {what}.")));
    }
    if v.chars().count() > max {
        return Err(AppError::Invalid(format!(
            "Keep {what} to {max} characters."
        )));
    }
    Ok(v.to_owned())
}
