//! Post-incident reviews: what happened, what went well, lessons, and actions followed until
//! they are closed.

use serde::{Deserialize, Serialize};

/// One action from a review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ActionView {
    pub id: i64,
    pub reference: String,
    pub title: String,
    pub owner: String,
    pub due_on: String,
    /// "Closed 3 Dec 2026 10:00 UTC by …: note", when closed.
    pub closed: Option<String>,
    pub overdue: bool,
    /// The viewer may close it (its owner, or a lead of the incident).
    pub can_close: bool,
}

/// A review as its page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ReviewView {
    pub reference: String,
    pub title: String,
    pub exercise: bool,
    pub what_happened: String,
    pub went_well: String,
    pub lessons: String,
    /// "3 Dec 2026 10:00 UTC by …", once saved.
    pub updated: Option<String>,
    pub actions: Vec<ActionView>,
    /// Who may own an action.
    pub owners: Vec<crate::domain::incidents::Candidate>,
    pub can_edit: bool,
}

/// The longest text kept in each part of a review.
pub const MAX_TEXT: usize = 20_000;

/// Parses an action's due date ("2026-12-24").
pub fn parse_due(raw: &str) -> Result<time::Date, String> {
    time::Date::parse(
        raw.trim(),
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .map_err(|_| "Give the due date as a date, for example 2026-12-24.".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn due_dates_are_plain_dates() {
        assert_eq!(
            parse_due(" 2026-12-24 "),
            Ok(time::macros::date!(2026 - 12 - 24))
        );
        assert!(parse_due("24/12/2026").is_err());
        assert!(parse_due("").is_err());
    }
}
