//! CAF readiness: the NHS CAF contributing outcomes Wardline's own records evidence (as the
//! DSPT names them since September 2024), each judged Not achieved / Partially achieved /
//! Achieved with the reason and the evidence, only with the levels that outcome allows
//! (D2.a cannot be partially achieved), and rolled up over a subtree.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
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

/// The outcomes judged, with their NHS CAF identifiers and titles, in CAF order.
pub const OUTCOMES: [(&str, &str); 9] = [
    ("A1.a", "Board direction"),
    ("A1.b", "Roles and responsibilities"),
    ("A3.a", "Asset management"),
    ("A4.a", "Supply chain"),
    ("D1.a", "Response plan"),
    ("D1.b", "Response and recovery capability"),
    ("D1.c", "Testing and exercising"),
    ("D2.a", "Incident root cause analysis"),
    ("D2.b", "Using incidents to drive improvements"),
];

/// The levels an outcome may be judged at: the NHS CAF allows no partial achievement of
/// D2.a (incident root cause analysis); every other outcome here has all three.
pub fn levels(id: &str) -> &'static [Status] {
    if id == "D2.a" {
        &[Status::Not, Status::Achieved]
    } else {
        &[Status::Not, Status::Partially, Status::Achieved]
    }
}

/// One outcome at one organisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct OrgReadiness {
    pub code: String,
    pub name: String,
    pub depth: usize,
    pub outcomes: Vec<Outcome>,
    pub rollup: Vec<(String, usize, usize, usize)>,
}

/// Readiness over a subtree, the root first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Readiness {
    pub root_code: String,
    pub root_name: String,
    pub generated_at: String,
    pub orgs: Vec<OrgReadiness>,
    /// Which page of the organisations below the root `orgs` holds (1 when whole).
    #[serde(default = "first_page")]
    pub page: u64,
    #[serde(default = "first_page")]
    pub pages: u64,
    /// How many organisations are below the root, on every page together.
    #[serde(default)]
    pub below_total: usize,
}

fn first_page() -> u64 {
    1
}

/// Organisations below the root on one page of readiness: all of England is thousands.
pub const CAF_PAGE: usize = 100;

impl Readiness {
    /// The root (always, with its rolled-up outcomes) and one page of the organisations
    /// below it. Exports take the whole.
    pub fn paged(mut self, page: u64) -> Readiness {
        let rest = self.orgs.len().saturating_sub(1);
        self.below_total = rest;
        self.pages = rest.div_ceil(CAF_PAGE).max(1) as u64;
        self.page = page.clamp(1, self.pages);
        let skip = (self.page as usize - 1) * CAF_PAGE;
        let mut all = self.orgs.drain(..);
        let root = all.next();
        let below: Vec<OrgReadiness> = all.skip(skip).take(CAF_PAGE).collect();
        self.orgs = root.into_iter().chain(below).collect();
        self
    }
}

/// The facts one organisation's outcomes are judged on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    /// Board-level roles that apply here (for a practice, which has no board, its
    /// Caldicott Guardian: a GP partner), and those vacant or unconfirmed.
    pub board_roles: usize,
    pub board_vacant: Vec<String>,
    pub board_unconfirmed: Vec<String>,
    pub mandatory_roles: usize,
    pub vacant: Vec<String>,
    pub no_deputy: Vec<String>,
    pub unconfirmed: Vec<String>,
    pub assets: usize,
    pub unowned: Vec<String>,
    pub unsupported: Vec<String>,
    /// Suppliers this organisation depends on (by contract or by a catalogued asset),
    /// and those with no named security incident contact.
    pub suppliers: Vec<String>,
    pub suppliers_without_contact: Vec<String>,
    pub kinds: usize,
    pub kinds_without_runbook: Vec<String>,
    /// Runbook steps whose owner role reaches nobody: "Kind: role".
    pub unrouted: Vec<String>,
    /// Command roles (Gold, Silver) and those that reach nobody now.
    pub command_roles: Vec<String>,
    pub command_unreached: Vec<String>,
    /// Exercise kinds held within cadence, and those overdue.
    pub exercises_in_cadence: Vec<String>,
    pub exercises_overdue: Vec<String>,
    pub finished: usize,
    pub reviewed: usize,
    /// Reviews that record what happened (the root cause analysis) and lessons learned.
    pub analysed: usize,
    pub lessons: usize,
    pub actions_open: usize,
    pub actions_overdue: Vec<String>,
    pub actions_closed: usize,
}

fn outcome(i: usize, status: Status, reason: String, evidence: Vec<String>) -> Outcome {
    let (id, title) = OUTCOMES[i];
    // Never a level the outcome does not allow (a partial D2.a would be a bug here).
    debug_assert!(levels(id).contains(&status), "{id} judged {status:?}");
    let status = if levels(id).contains(&status) {
        status
    } else {
        Status::Not
    };
    Outcome {
        id: id.into(),
        title: title.into(),
        status,
        reason,
        evidence,
    }
}

fn listed(what: &str, items: &[String]) -> Option<String> {
    (!items.is_empty()).then(|| format!("{what}: {}", items.join("; ")))
}

/// Judges the outcomes, in the order of [`OUTCOMES`].
pub fn judge(f: &Facts) -> Vec<Outcome> {
    vec![
        a1a(f),
        a1b(f),
        a3a(f),
        a4a(f),
        d1a(f),
        d1b(f),
        d1c(f),
        d2a(f),
        d2b(f),
    ]
}

/// A1.a: the board-level roles held by named people who have confirmed them.
fn a1a(f: &Facts) -> Outcome {
    let evidence = [
        Some(format!(
            "{} of {} accountable roles held (board level where there is a board)",
            f.board_roles - f.board_vacant.len(),
            f.board_roles
        )),
        listed("Vacant", &f.board_vacant),
        listed("Not confirmed in time", &f.board_unconfirmed),
    ]
    .into_iter()
    .flatten()
    .collect();
    if f.board_roles == 0 || !f.board_vacant.is_empty() {
        outcome(
            0,
            Status::Not,
            "No named person holds board-level accountability for cyber security.".into(),
            evidence,
        )
    } else if !f.board_unconfirmed.is_empty() {
        outcome(
            0,
            Status::Partially,
            format!(
                "Board-level roles are held, but {} holders have not confirmed them.",
                f.board_unconfirmed.len()
            ),
            evidence,
        )
    } else {
        outcome(
            0,
            Status::Achieved,
            "Board-level roles are held by named people who have confirmed them.".into(),
            evidence,
        )
    }
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
            1,
            Status::Not,
            format!("{} mandatory roles are vacant.", f.vacant.len()),
            evidence,
        )
    } else if !f.no_deputy.is_empty() || !f.unconfirmed.is_empty() {
        outcome(
            1,
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
            1,
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
        outcome(2, Status::Not, "No assets are catalogued.".into(), evidence)
    } else if !f.unowned.is_empty() || !f.unsupported.is_empty() {
        outcome(
            2,
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
            2,
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
            4,
            Status::Not,
            "Some incident kinds have no runbook.".into(),
            evidence,
        )
    } else if !f.unrouted.is_empty() {
        outcome(
            4,
            Status::Partially,
            format!(
                "Runbooks cover every kind, but {} steps reach nobody.",
                f.unrouted.len()
            ),
            evidence,
        )
    } else {
        outcome(
            4,
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
            6,
            Status::Not,
            "No exercise has been held within its cadence.".into(),
            evidence,
        )
    } else if !f.exercises_overdue.is_empty() {
        outcome(
            6,
            Status::Partially,
            format!(
                "{} kinds of exercise are overdue.",
                f.exercises_overdue.len()
            ),
            evidence,
        )
    } else {
        outcome(
            6,
            Status::Achieved,
            "Communications tests, table-tops, live and command-post exercises are all within cadence."
                .into(),
            evidence,
        )
    }
}

/// D2.a: every finished incident and exercise reviewed, each review saying what happened
/// and why. The NHS CAF allows no partial achievement here: done for all, or not.
fn d2a(f: &Facts) -> Outcome {
    let evidence = vec![format!(
        "{} of {} finished incidents and exercises reviewed; {} reviews record what happened",
        f.reviewed, f.finished, f.analysed
    )];
    if f.finished == 0 {
        outcome(
            7,
            Status::Not,
            "No incident or exercise has finished, so none has been analysed.".into(),
            evidence,
        )
    } else if f.reviewed < f.finished || f.analysed < f.reviewed {
        outcome(
            7,
            Status::Not,
            format!(
                "{} finished incidents or exercises have no review saying what happened.",
                f.finished - f.analysed.min(f.finished)
            ),
            evidence,
        )
    } else {
        outcome(
            7,
            Status::Achieved,
            "Every finished incident and exercise has a review saying what happened.".into(),
            evidence,
        )
    }
}

/// D2.b: lessons recorded and turned into actions that are closed in time.
fn d2b(f: &Facts) -> Outcome {
    let evidence = [
        Some(format!("{} reviews record lessons", f.lessons)),
        Some(format!(
            "{} actions closed, {} open",
            f.actions_closed, f.actions_open
        )),
        listed("Overdue actions", &f.actions_overdue),
    ]
    .into_iter()
    .flatten()
    .collect();
    if f.lessons == 0 && f.actions_closed + f.actions_open == 0 {
        outcome(
            8,
            Status::Not,
            "No review records lessons or actions.".into(),
            evidence,
        )
    } else if !f.actions_overdue.is_empty() || f.lessons < f.reviewed {
        outcome(
            8,
            Status::Partially,
            format!(
                "{} actions are overdue and {} reviews record no lessons.",
                f.actions_overdue.len(),
                f.reviewed.saturating_sub(f.lessons)
            ),
            evidence,
        )
    } else {
        outcome(
            8,
            Status::Achieved,
            "Reviews record lessons, and no action from them is overdue.".into(),
            evidence,
        )
    }
}

/// A4.a: every supplier depended on has a named contact for security incidents.
fn a4a(f: &Facts) -> Outcome {
    let evidence = [
        Some(format!("{} suppliers depended on", f.suppliers.len())),
        listed("No security incident contact", &f.suppliers_without_contact),
    ]
    .into_iter()
    .flatten()
    .collect();
    if f.suppliers.is_empty() {
        outcome(
            3,
            Status::Not,
            "No supplier is recorded, by contract or against a catalogued asset.".into(),
            evidence,
        )
    } else if f.suppliers_without_contact.len() == f.suppliers.len() {
        outcome(
            3,
            Status::Not,
            "No supplier depended on has a named security incident contact.".into(),
            evidence,
        )
    } else if !f.suppliers_without_contact.is_empty() {
        outcome(
            3,
            Status::Partially,
            format!(
                "{} of {} suppliers have no named security incident contact.",
                f.suppliers_without_contact.len(),
                f.suppliers.len()
            ),
            evidence,
        )
    } else {
        outcome(
            3,
            Status::Achieved,
            "Every supplier depended on has a named security incident contact.".into(),
            evidence,
        )
    }
}

/// D1.b: Gold and Silver command reach a named person now (a holder or the rota).
fn d1b(f: &Facts) -> Outcome {
    let evidence = [
        Some(format!(
            "{} of {} command roles reach someone now",
            f.command_roles.len() - f.command_unreached.len(),
            f.command_roles.len()
        )),
        listed("Reaching nobody", &f.command_unreached),
    ]
    .into_iter()
    .flatten()
    .collect();
    let gold_unreached = f
        .command_unreached
        .first()
        .is_some_and(|r| f.command_roles.first() == Some(r));
    if f.command_roles.is_empty() || gold_unreached {
        outcome(
            5,
            Status::Not,
            "Nobody is reached for strategic (Gold) command.".into(),
            evidence,
        )
    } else if !f.command_unreached.is_empty() {
        outcome(
            5,
            Status::Partially,
            format!(
                "Gold command reaches someone, but {} other command roles reach nobody.",
                f.command_unreached.len()
            ),
            evidence,
        )
    } else {
        outcome(
            5,
            Status::Achieved,
            "Gold and Silver command each reach a named person now.".into(),
            evidence,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn good() -> Facts {
        Facts {
            board_roles: 3,
            mandatory_roles: 4,
            assets: 3,
            suppliers: vec!["Synnovis".into()],
            kinds: 8,
            command_roles: vec!["Gold".into(), "Silver".into()],
            exercises_in_cadence: vec![
                "Communications test".into(),
                "Table-top exercise".into(),
                "Live exercise".into(),
                "Command-post exercise".into(),
            ],
            finished: 2,
            reviewed: 2,
            analysed: 2,
            lessons: 2,
            actions_closed: 3,
            ..Facts::default()
        }
    }

    fn statuses(f: &Facts) -> Vec<(&'static str, Status)> {
        judge(f)
            .iter()
            .zip(OUTCOMES)
            .map(|(o, (id, _))| {
                assert_eq!(o.id, id, "judged in CAF order");
                (id, o.status)
            })
            .collect()
    }

    #[test]
    fn the_nhs_caf_outcomes_are_judged_by_their_own_names() {
        let ids: Vec<String> = judge(&good()).into_iter().map(|o| o.id).collect();
        assert_eq!(
            ids,
            [
                "A1.a", "A1.b", "A3.a", "A4.a", "D1.a", "D1.b", "D1.c", "D2.a", "D2.b"
            ]
        );
    }

    #[test]
    fn a_well_kept_organisation_achieves_every_outcome() {
        assert!(
            statuses(&good())
                .iter()
                .all(|(_, s)| *s == Status::Achieved),
            "{:?}",
            statuses(&good())
        );
    }

    #[test]
    fn each_outcome_falls_for_its_own_reasons() {
        let mut f = good();
        f.board_unconfirmed = vec!["SIRO".into()];
        f.vacant = vec!["DPO".into()];
        f.unowned = vec!["Reception PC".into()];
        f.suppliers.push("EMIS".into());
        f.suppliers_without_contact = vec!["EMIS".into()];
        f.unrouted = vec!["Ransomware: DPO".into()];
        f.command_unreached = vec!["Silver".into()];
        f.exercises_in_cadence.pop();
        f.exercises_overdue = vec!["Command-post exercise".into()];
        f.reviewed = 1;
        f.analysed = 1;
        f.lessons = 1;
        let o = judge(&f);
        assert_eq!(
            statuses(&f),
            [
                ("A1.a", Status::Partially),
                ("A1.b", Status::Not),
                ("A3.a", Status::Partially),
                ("A4.a", Status::Partially),
                ("D1.a", Status::Partially),
                ("D1.b", Status::Partially),
                ("D1.c", Status::Partially),
                ("D2.a", Status::Not),
                ("D2.b", Status::Achieved),
            ]
        );
        assert!(o[1].evidence.iter().any(|e| e.contains("Vacant: DPO")));
        assert!(
            o[3].evidence
                .iter()
                .any(|e| e.contains("No security incident contact: EMIS"))
        );
        let mut f = good();
        f.board_vacant = vec!["SIRO".into()];
        f.assets = 0;
        f.suppliers.clear();
        f.command_unreached = vec!["Gold".into()];
        f.exercises_in_cadence.clear();
        f.reviewed = 0;
        f.analysed = 0;
        f.lessons = 0;
        f.actions_closed = 0;
        let s = statuses(&f);
        for id in ["A1.a", "A3.a", "A4.a", "D1.b", "D1.c", "D2.a", "D2.b"] {
            assert!(s.contains(&(id, Status::Not)), "{id}: {s:?}");
        }
    }

    #[test]
    fn root_cause_analysis_is_never_partially_achieved() {
        assert_eq!(levels("D2.a"), [Status::Not, Status::Achieved]);
        assert_eq!(levels("D2.b").len(), 3);
        // Whatever is missing, and however much, D2.a is achieved or not: never partially.
        for (finished, reviewed, analysed) in
            [(3, 2, 2), (3, 3, 1), (3, 3, 3), (1, 0, 0), (0, 0, 0)]
        {
            let f = Facts {
                finished,
                reviewed,
                analysed,
                ..good()
            };
            let d2a = &judge(&f)[7];
            assert_ne!(
                d2a.status,
                Status::Partially,
                "{finished}/{reviewed}/{analysed}"
            );
            assert_eq!(
                d2a.status == Status::Achieved,
                finished > 0 && analysed == finished && reviewed == finished
            );
        }
        // Lessons missing from one review make D2.b partial, not D2.a.
        let f = Facts {
            lessons: 1,
            ..good()
        };
        assert_eq!(statuses(&f)[7], ("D2.a", Status::Achieved));
        assert_eq!(statuses(&f)[8], ("D2.b", Status::Partially));
    }
}
