//! CAF readiness: five outcomes of the NCSC Cyber Assessment Framework (as the DSPT uses
//! it) judged from Wardline's own records, each Not achieved / Partially achieved /
//! Achieved with the reason and the evidence, and rolled up over a subtree.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Not,
    Partially,
    Achieved,
}

impl Status {
    pub fn label(self) -> &'static str {
        match self {
            Status::Not => "Not achieved",
            Status::Partially => "Partially achieved",
            Status::Achieved => "Achieved",
        }
    }
}

/// The outcomes judged, with their CAF identifiers and titles.
pub const OUTCOMES: [(&str, &str); 5] = [
    ("A1.b", "Roles and responsibilities"),
    ("A3.a", "Asset management"),
    ("D1.a", "Response plan"),
    ("D1.c", "Testing and exercising"),
    ("D2", "Lessons learned"),
];

/// One outcome at one organisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    pub id: String,
    pub title: String,
    pub status: Status,
    pub reason: String,
    pub evidence: Vec<String>,
}

/// One organisation's outcomes, and for those with organisations below, how many of the
/// subtree (itself included) stand at each status per outcome: (id, not, partially, achieved).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgReadiness {
    pub code: String,
    pub name: String,
    pub depth: usize,
    pub outcomes: Vec<Outcome>,
    pub rollup: Vec<(String, usize, usize, usize)>,
}

/// Readiness over a subtree, the root first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Readiness {
    pub root_code: String,
    pub root_name: String,
    pub generated_at: String,
    pub orgs: Vec<OrgReadiness>,
}

/// The facts one organisation's outcomes are judged on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    pub mandatory_roles: usize,
    pub vacant: Vec<String>,
    pub no_deputy: Vec<String>,
    pub unconfirmed: Vec<String>,
    pub assets: usize,
    pub unowned: Vec<String>,
    pub unsupported: Vec<String>,
    pub kinds: usize,
    pub kinds_without_runbook: Vec<String>,
    /// Runbook steps whose owner role reaches nobody: "Kind: role".
    pub unrouted: Vec<String>,
    /// Exercise kinds held within cadence, and those overdue.
    pub exercises_in_cadence: Vec<String>,
    pub exercises_overdue: Vec<String>,
    pub finished: usize,
    pub reviewed: usize,
    pub actions_open: usize,
    pub actions_overdue: Vec<String>,
    pub actions_closed: usize,
}

fn outcome(i: usize, status: Status, reason: String, evidence: Vec<String>) -> Outcome {
    Outcome {
        id: OUTCOMES[i].0.into(),
        title: OUTCOMES[i].1.into(),
        status,
        reason,
        evidence,
    }
}

fn listed(what: &str, items: &[String]) -> Option<String> {
    (!items.is_empty()).then(|| format!("{what}: {}", items.join("; ")))
}

/// Judges the five outcomes.
pub fn judge(f: &Facts) -> Vec<Outcome> {
    vec![a1b(f), a3a(f), d1a(f), d1c(f), d2(f)]
}

/// A1.b: every mandatory role held, with a deputy, contacts confirmed.
fn a1b(f: &Facts) -> Outcome {
    let evidence = [
        Some(format!(
            "{} of {} mandatory roles held",
            f.mandatory_roles - f.vacant.len(),
            f.mandatory_roles
        )),
        listed("Vacant", &f.vacant),
        listed("No deputy named", &f.no_deputy),
        listed("Contact details not confirmed in time", &f.unconfirmed),
    ]
    .into_iter()
    .flatten()
    .collect();
    if !f.vacant.is_empty() {
        outcome(
            0,
            Status::Not,
            format!("{} mandatory roles are vacant.", f.vacant.len()),
            evidence,
        )
    } else if !f.no_deputy.is_empty() || !f.unconfirmed.is_empty() {
        outcome(
            0,
            Status::Partially,
            format!(
                "Every mandatory role is held, but {} have no deputy and {} holders have not confirmed their details.",
                f.no_deputy.len(),
                f.unconfirmed.len()
            ),
            evidence,
        )
    } else {
        outcome(
            0,
            Status::Achieved,
            "Every mandatory role is held, with a deputy, and contacts are confirmed.".into(),
            evidence,
        )
    }
}

/// A3.a: every catalogued asset owned and supported.
fn a3a(f: &Facts) -> Outcome {
    let evidence = [
        Some(format!("{} assets catalogued", f.assets)),
        listed("Without an Information Asset Owner", &f.unowned),
        listed("Out of support", &f.unsupported),
    ]
    .into_iter()
    .flatten()
    .collect();
    if f.assets == 0 {
        outcome(1, Status::Not, "No assets are catalogued.".into(), evidence)
    } else if !f.unowned.is_empty() || !f.unsupported.is_empty() {
        outcome(
            1,
            Status::Partially,
            format!(
                "{} assets have no owner and {} are out of support.",
                f.unowned.len(),
                f.unsupported.len()
            ),
            evidence,
        )
    } else {
        outcome(
            1,
            Status::Achieved,
            "Every catalogued asset has an owner and is supported.".into(),
            evidence,
        )
    }
}

/// D1.a: a runbook for every kind, every step reaching someone.
fn d1a(f: &Facts) -> Outcome {
    let evidence = [
        Some(format!(
            "{} of {} incident kinds have a runbook in force",
            f.kinds - f.kinds_without_runbook.len(),
            f.kinds
        )),
        listed("No runbook", &f.kinds_without_runbook),
        listed("Steps whose owner reaches nobody", &f.unrouted),
    ]
    .into_iter()
    .flatten()
    .collect();
    if !f.kinds_without_runbook.is_empty() {
        outcome(
            2,
            Status::Not,
            "Some incident kinds have no runbook.".into(),
            evidence,
        )
    } else if !f.unrouted.is_empty() {
        outcome(
            2,
            Status::Partially,
            format!(
                "Runbooks cover every kind, but {} steps reach nobody.",
                f.unrouted.len()
            ),
            evidence,
        )
    } else {
        outcome(
            2,
            Status::Achieved,
            "Runbooks cover every kind and every step reaches a named person.".into(),
            evidence,
        )
    }
}

/// D1.c: exercises within their cadence.
fn d1c(f: &Facts) -> Outcome {
    let evidence = [
        listed("Within cadence", &f.exercises_in_cadence),
        listed("Overdue", &f.exercises_overdue),
    ]
    .into_iter()
    .flatten()
    .collect();
    if f.exercises_in_cadence.is_empty() {
        outcome(
            3,
            Status::Not,
            "No exercise has been held within its cadence.".into(),
            evidence,
        )
    } else if !f.exercises_overdue.is_empty() {
        outcome(
            3,
            Status::Partially,
            format!(
                "{} kinds of exercise are overdue.",
                f.exercises_overdue.len()
            ),
            evidence,
        )
    } else {
        outcome(
            3,
            Status::Achieved,
            "Communications tests, table-tops and live exercises are all within cadence.".into(),
            evidence,
        )
    }
}

/// D2: finished incidents and exercises reviewed, no action overdue.
fn d2(f: &Facts) -> Outcome {
    let evidence = [
        Some(format!(
            "{} of {} finished incidents and exercises reviewed",
            f.reviewed, f.finished
        )),
        Some(format!(
            "{} actions closed, {} open",
            f.actions_closed, f.actions_open
        )),
        listed("Overdue actions", &f.actions_overdue),
    ]
    .into_iter()
    .flatten()
    .collect();
    if f.reviewed == 0 {
        outcome(
            4,
            Status::Not,
            "No incident or exercise has been reviewed.".into(),
            evidence,
        )
    } else if f.reviewed < f.finished || !f.actions_overdue.is_empty() {
        outcome(
            4,
            Status::Partially,
            format!(
                "{} finished incidents or exercises have no review and {} actions are overdue.",
                f.finished.saturating_sub(f.reviewed),
                f.actions_overdue.len()
            ),
            evidence,
        )
    } else {
        outcome(
            4,
            Status::Achieved,
            "Every finished incident and exercise is reviewed and no action is overdue.".into(),
            evidence,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn good() -> Facts {
        Facts {
            mandatory_roles: 4,
            assets: 3,
            kinds: 8,
            exercises_in_cadence: vec![
                "Communications test".into(),
                "Table-top exercise".into(),
                "Live exercise".into(),
            ],
            finished: 2,
            reviewed: 2,
            actions_closed: 3,
            ..Facts::default()
        }
    }

    #[test]
    fn a_well_kept_organisation_achieves_every_outcome() {
        assert!(judge(&good()).iter().all(|o| o.status == Status::Achieved));
    }

    #[test]
    fn each_outcome_falls_for_its_own_reasons() {
        let mut f = good();
        f.vacant = vec!["SIRO".into()];
        f.unowned = vec!["Reception PC".into()];
        f.unrouted = vec!["Ransomware: DPO".into()];
        f.exercises_in_cadence.pop();
        f.exercises_overdue = vec!["Live exercise".into()];
        f.reviewed = 1;
        let o = judge(&f);
        let status: Vec<Status> = o.iter().map(|o| o.status).collect();
        assert_eq!(
            status,
            [
                Status::Not,
                Status::Partially,
                Status::Partially,
                Status::Partially,
                Status::Partially
            ]
        );
        assert!(o[0].evidence.iter().any(|e| e.contains("Vacant: SIRO")));
        let mut f = good();
        f.assets = 0;
        f.exercises_in_cadence.clear();
        f.reviewed = 0;
        let o = judge(&f);
        assert_eq!(o[1].status, Status::Not);
        assert_eq!(o[3].status, Status::Not);
        assert_eq!(o[4].status, Status::Not);
    }
}
