//! Exercises: the kinds (EPRR), their cadence, an organisation's exercises and the report.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

str_enum!(ExerciseKind {
    Communications => "communications",
    Tabletop => "tabletop",
    Live => "live",
    CommandPost => "command_post",
});

impl ExerciseKind {
    pub fn label(self) -> &'static str {
        match self {
            ExerciseKind::Communications => "Communications test",
            ExerciseKind::Tabletop => "Table-top exercise",
            ExerciseKind::Live => "Live exercise",
            ExerciseKind::CommandPost => "Command-post exercise",
        }
    }

    /// How often NHS EPRR expects one, in months.
    pub fn every_months(self) -> u8 {
        match self {
            ExerciseKind::Communications => 6,
            ExerciseKind::Tabletop => 12,
            ExerciseKind::Live | ExerciseKind::CommandPost => 36,
        }
    }
}

/// One exercise kind's standing at an organisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CadenceRow {
    pub kind: ExerciseKind,
    pub every_months: u8,
    /// The last one held (by the organisation or for it), with its reference.
    pub last: Option<(String, String)>,
    /// When the next is due ("now" when never held).
    pub due: String,
    pub overdue: bool,
}

/// An organisation's exercises: cadence, and every exercise held.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Exercises {
    pub org_code: String,
    pub org_name: String,
    pub cadence: Vec<CadenceRow>,
    /// (reference, exercise label, kind title, started, status)
    pub held: Vec<(String, String, String, String, String)>,
    /// The viewer may start one here.
    pub can_start: bool,
}

/// How one task went in an exercise.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ExerciseTask {
    pub title: String,
    pub role: String,
    pub assignee: Option<String>,
    /// Minutes from the start to acknowledgement, if acknowledged.
    pub minutes_to_acknowledge: Option<i64>,
    pub state: String,
    /// Not acknowledged (or not finished) by its due time.
    pub missed: bool,
    /// How many times it escalated.
    pub escalations: i32,
}

/// The report after an exercise.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ExerciseReport {
    pub reference: String,
    pub org_name: String,
    pub exercise: String,
    pub kind: String,
    pub started: String,
    pub tasks: Vec<ExerciseTask>,
    /// (role, acknowledged, tasks, median minutes to acknowledge)
    pub per_role: Vec<(String, usize, usize, Option<i64>)>,
    pub missed: usize,
    pub escalations: i32,
    /// Gaps found: roles nobody held, fallbacks taken, tasks flagged nationally.
    pub gaps: Vec<String>,
}

/// When an exercise of `kind` is next due after one held at `last` (never held: now).
pub fn next_due(
    last: Option<OffsetDateTime>,
    kind: ExerciseKind,
    now: OffsetDateTime,
) -> (OffsetDateTime, bool) {
    match last {
        None => (now, true),
        Some(at) => {
            let due = add_months(at, kind.every_months());
            (due, now > due)
        }
    }
}

fn add_months(at: OffsetDateTime, months: u8) -> OffsetDateTime {
    let total = at.month() as i32 - 1 + months as i32;
    let year = at.year() + total / 12;
    let month = time::Month::try_from((total % 12 + 1) as u8).unwrap_or(time::Month::January);
    let last_day = month.length(year);
    at.replace_day(1)
        .and_then(|t| t.replace_year(year))
        .and_then(|t| t.replace_month(month))
        .and_then(|t| t.replace_day(at.day().min(last_day)))
        .unwrap_or(at)
}
