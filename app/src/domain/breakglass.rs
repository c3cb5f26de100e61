//! The break-glass pack: what an organisation needs to run an incident when the intranet,
//! email and single sign-on are down. Printed, and kept in the browser for offline reading.

use serde::{Deserialize, Serialize};

/// Someone to call: a role, who holds it and their deputy, and how to reach them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PackContact {
    pub role: String,
    pub org_name: String,
    pub holder: String,
    pub deputy: Option<String>,
    pub work_phone: Option<String>,
    pub out_of_hours_phone: Option<String>,
    pub email: String,
}

/// One step of a runbook as printed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PackStep {
    pub phase: String,
    pub title: String,
    pub owner: String,
    pub due: String,
    pub instructions: String,
}

/// One runbook as printed: its first-response steps, then every step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PackRunbook {
    pub kind: String,
    pub title: String,
    pub version: i32,
    pub owner: String,
    pub first_steps: Vec<String>,
    pub steps: Vec<PackStep>,
}

/// An organisation's pack, with the version of the data it was made from and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct BreakGlassPack {
    pub org_code: String,
    pub org_name: String,
    /// The change generation of the data it was read from: a pack with a higher number
    /// is newer.
    pub version: i64,
    pub generated_at: String,
    /// The organisation's own roles first, then each ancestor's.
    pub contacts: Vec<PackContact>,
    /// The escalation path in words, and each level.
    pub escalation_path: String,
    pub escalation_levels: Vec<String>,
    pub runbooks: Vec<PackRunbook>,
    /// The next 14 days of each on-call schedule: who is on call when (London time).
    #[serde(default)]
    pub on_call: Vec<super::rota::RotaDays>,
}

/// "within 15 minutes", "within 2 hours", "within 1 day 4 hours".
pub fn due_in(minutes: i32) -> String {
    let (d, h, m) = (minutes / 1440, minutes % 1440 / 60, minutes % 60);
    let mut parts = Vec::new();
    for (n, unit) in [(d, "day"), (h, "hour"), (m, "minute")] {
        if n > 0 {
            parts.push(format!("{n} {unit}{}", if n == 1 { "" } else { "s" }));
        }
    }
    if parts.is_empty() {
        "at once".into()
    } else {
        format!("within {}", parts.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn due_times_read_as_words() {
        assert_eq!(due_in(0), "at once");
        assert_eq!(due_in(15), "within 15 minutes");
        assert_eq!(due_in(60), "within 1 hour");
        assert_eq!(due_in(1440 + 4 * 60 + 1), "within 1 day 4 hours 1 minute");
    }
}
