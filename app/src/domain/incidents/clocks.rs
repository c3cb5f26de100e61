//! The reporting clocks (CSOC, ICO, NIS) an incident runs.

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

/// A reporting clock on an incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Clock {
    pub body: String,
    pub label: String,
    pub due_at: String,
    pub applies: bool,
    pub overdue: bool,
    /// Minutes left (negative once overdue).
    pub minutes_left: i64,
    /// When the report was made, and the reference the receiving body gave.
    pub reported_at: Option<String>,
    pub report_reference: Option<String>,
    /// For the CSOC: what the report was for ("for information", "a request for support").
    #[serde(default)]
    pub report_purpose: Option<String>,
}

/// What a report to NHS England's CSOC is for: the CSOC asks every report to say whether it
/// is for information or a request for support. (stored value, as people read it)
pub const CSOC_PURPOSES: [(&str, &str); 2] = [
    ("information", "for information"),
    ("support", "a request for support"),
];

/// The stored value and its words for a purpose as submitted, if it is one.
pub fn csoc_purpose(raw: &str) -> Option<(&'static str, &'static str)> {
    CSOC_PURPOSES.into_iter().find(|(v, _)| *v == raw.trim())
}

/// The reporting clocks: CSOC at once, the ICO within 72 hours of awareness when personal
/// data is involved, NIS within 72 hours for significant impact at an operator of essential
/// services (trusts and ICBs).
/// Each is (body, label, due, overdue); a clock that does not apply is never overdue.
pub fn clocks(
    aware_at: OffsetDateTime,
    now: OffsetDateTime,
    personal_data: bool,
    operator_of_essential_services: bool,
) -> Vec<(&'static str, &'static str, OffsetDateTime, bool)> {
    // "Immediately" is held to the first hour.
    [
        (
            "csoc",
            "NHS England CSOC: report immediately",
            aware_at + Duration::hours(1),
            true,
        ),
        (
            "ico",
            "ICO (through the DSPT tool): within 72 hours",
            aware_at + Duration::hours(72),
            personal_data,
        ),
        (
            "nis",
            "NIS (DHSC, through the DSPT tool): within 72 hours",
            aware_at + Duration::hours(72),
            operator_of_essential_services,
        ),
    ]
    .into_iter()
    .map(|(body, label, due, applies)| (body, label, due, applies && now > due))
    .collect()
}
