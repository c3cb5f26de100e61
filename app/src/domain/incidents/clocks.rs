//! An incident's reporting obligations as the ledger shows them: each obligation's deadline,
//! where it stands and the decisions behind it.

use serde::{Deserialize, Serialize};

/// One obligation in an incident's ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Clock {
    /// `Duty::as_str`.
    pub body: String,
    pub label: String,
    /// When it falls due, "As soon as possible" with no fixed time, or (NIS) empty until
    /// the impact is found significant.
    pub due_at: String,
    pub applies: bool,
    /// Why it applies or does not.
    pub why: String,
    /// How it is reported.
    pub channel_hint: String,
    pub state: super::obligations::State,
    pub overdue: bool,
    /// Decided (reported or not reportable) after its deadline.
    pub late: bool,
    pub reassessed: bool,
    /// Every decision recorded, oldest first: "3 Jun 2024 09:20 UTC: Reported … (Name)".
    pub history: Vec<String>,
    /// The latest DSPT grade's meaning, for the ICO obligation.
    pub grade: Option<String>,
    /// The latest NIS answers, for the NIS obligation.
    pub impact: Option<super::obligations::Impact>,
    /// The latest DSPT grading, to pre-fill the report.
    pub grading: Option<super::obligations::Grading>,
    /// Minutes left (negative once overdue).
    pub minutes_left: i64,
    /// When the report was made, how, and the reference the receiving body gave.
    pub reported_at: Option<String>,
    pub report_channel: Option<String>,
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
