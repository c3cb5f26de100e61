//! The obligations ledger's rules: which reporting obligations an incident may carry, when
//! each falls due, and where each stands after the decisions leads have recorded. The
//! sources are in docs/OBLIGATIONS.md.

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

str_enum!(Duty {
    Csoc => "csoc",
    Ico => "ico",
    Nis => "nis",
    Mhra => "mhra",
    Police => "police",
    Commissioner => "commissioner",
    Controller => "controller",
});

impl Duty {
    /// Who is told, as people read it.
    pub fn name(self) -> &'static str {
        match self {
            Duty::Csoc => "NHS England CSOC",
            Duty::Ico => "DSPT incident report (ICO and DHSC)",
            Duty::Nis => "NIS competent authority (DHSC)",
            Duty::Mhra => "MHRA (medical devices)",
            Duty::Police => "Police / Action Fraud",
            Duty::Commissioner => "The commissioning ICB",
            Duty::Controller => "The data controllers (customers)",
        }
    }

    /// Who is told, after "reported to".
    pub fn recipient(self) -> &'static str {
        match self {
            Duty::Csoc => "NHS England CSOC",
            Duty::Ico => "the ICO and DHSC (DSPT incident report)",
            Duty::Nis => "DHSC (NIS)",
            Duty::Mhra => "the MHRA",
            Duty::Police => "the police / Action Fraud",
            Duty::Commissioner => "the commissioning ICB",
            Duty::Controller => "the data controllers",
        }
    }

    /// How it is told.
    pub fn channel(self) -> &'static str {
        match self {
            Duty::Csoc => {
                "NHS England's cyber incident reporting route; phone 0300 303 5222 if urgent (24 hours)"
            }
            Duty::Ico | Duty::Nis => "The DSPT incident reporting tool",
            Duty::Mhra => "The MHRA Yellow Card scheme for medical devices",
            Duty::Police => "Action Fraud on 0300 123 2040 (999 if anyone is in danger)",
            Duty::Commissioner => "The ICB's incident route, as its contract says",
            Duty::Controller => "Each customer's data protection officer",
        }
    }

    /// How long after counting starts the obligation falls due; `None` when the rule sets
    /// no fixed time ("without undue delay").
    pub fn window(self) -> Option<Duration> {
        match self {
            // "Immediately" is held to the first hour.
            Duty::Csoc => Some(Duration::hours(1)),
            Duty::Ico | Duty::Nis => Some(Duration::hours(72)),
            _ => None,
        }
    }
}

/// The facts of an incident that decide which obligations may apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Facts {
    pub personal_data: bool,
    /// The organisation (or the trust a site belongs to) is an operator of essential services.
    pub essential_service: bool,
    pub practice: bool,
    pub supplier: bool,
    /// A medical device is involved (the kind of incident, or an affected asset).
    pub medical_device: bool,
    /// The kind of incident is usually a crime (ransomware, fraud, denial of service, theft).
    pub crime: bool,
}

/// Whether each obligation applies to an incident with these facts, and why, in the order
/// the ledger shows them.
pub fn duties(f: &Facts) -> Vec<(Duty, bool, &'static str)> {
    vec![
        (
            Duty::Csoc,
            true,
            "Every cyber incident is raised with the CSOC at once, for information or support.",
        ),
        if f.personal_data {
            (
                Duty::Ico,
                true,
                "Personal data is involved: grade the breach; the ICO must be told within 72 hours of awareness unless it is unlikely to risk people.",
            )
        } else {
            (
                Duty::Ico,
                false,
                "No personal data was said to be involved. If that changes, grade it here.",
            )
        },
        if f.essential_service {
            (
                Duty::Nis,
                true,
                "An operator of essential services: NIS applies if the incident has a significant impact on the continuity of the service. Answer the questions before the 72 hours start.",
            )
        } else {
            (
                Duty::Nis,
                false,
                "Not an operator of essential services: NIS does not apply.",
            )
        },
        (
            Duty::Mhra,
            f.medical_device,
            if f.medical_device {
                "A medical device is involved: tell the MHRA."
            } else {
                "No medical device is involved."
            },
        ),
        (
            Duty::Police,
            f.crime,
            if f.crime {
                "This kind of incident is usually a crime: report it and keep the crime reference."
            } else {
                "Not usually a crime; report it if it turns out to be one."
            },
        ),
        (
            Duty::Commissioner,
            f.practice,
            if f.practice {
                "A GP practice tells its commissioner (the ICB)."
            } else {
                "Only GP practices report to a commissioner."
            },
        ),
        (
            Duty::Controller,
            f.supplier,
            if f.supplier {
                "A supplier (processor) tells each customer (controller) without undue delay; each starts its own clock from then."
            } else {
                "Only a supplier tells its customers as their processor."
            },
        ),
    ]
}

/// What a lead recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// The report was made at this time.
    Reported { at: OffsetDateTime },
    /// Assessed as not reportable (the reason is kept with it).
    NotReportable,
    /// NIS: the significant-impact questions answered.
    Assessed { significant: bool },
    /// DSPT: likelihood and severity graded.
    Graded { notify: bool },
}

impl Step {
    pub fn kind(self) -> &'static str {
        match self {
            Step::Reported { .. } => "reported",
            Step::NotReportable => "not_reportable",
            Step::Assessed { .. } => "assessed",
            Step::Graded { .. } => "graded",
        }
    }
}

/// Where an obligation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum State {
    ToAssess,
    /// Decided reportable, not reported yet.
    ToReport,
    Reported,
    NotReportable,
}

impl State {
    pub fn label(self) -> &'static str {
        match self {
            State::ToAssess => "To assess",
            State::ToReport => "Reportable: not reported yet",
            State::Reported => "Reported",
            State::NotReportable => "Not reportable",
        }
    }
}

/// An obligation after its decisions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    pub state: State,
    /// When it falls due; `None` with no fixed time, or (NIS) until the impact is found
    /// significant.
    pub due: Option<OffsetDateTime>,
    pub overdue: bool,
    /// The deciding report or "not reportable" came after the deadline.
    pub late: bool,
    /// A later decision replaced an earlier, different one.
    pub reassessed: bool,
}

/// Where an obligation stands, from its decisions in the order they were recorded (each
/// with when it was recorded).
pub fn standing(
    duty: Duty,
    applies: bool,
    aware_at: OffsetDateTime,
    decisions: &[(Step, OffsetDateTime)],
    now: OffsetDateTime,
) -> Standing {
    // NIS counts from when the impact was found significant, and only then.
    let start = match duty {
        Duty::Nis => decisions.iter().rev().find_map(|(s, at)| match s {
            Step::Assessed { significant: true } => Some(*at),
            Step::Assessed { significant: false } => Some(OffsetDateTime::UNIX_EPOCH),
            _ => None,
        }),
        _ => Some(aware_at),
    }
    .filter(|s| *s != OffsetDateTime::UNIX_EPOCH);
    let due = start.zip(duty.window()).map(|(s, w)| s + w);
    let last = decisions.last().map(|(s, _)| *s);
    let state = match last {
        None => State::ToAssess,
        Some(Step::Reported { .. }) => State::Reported,
        Some(Step::NotReportable) | Some(Step::Assessed { significant: false }) => {
            State::NotReportable
        }
        Some(Step::Assessed { significant: true }) | Some(Step::Graded { notify: true }) => {
            State::ToReport
        }
        // A grade below the ICO's threshold still needs the reason recorded.
        Some(Step::Graded { notify: false }) => State::ToAssess,
    };
    let overdue = applies
        && matches!(state, State::ToAssess | State::ToReport)
        && due.is_some_and(|d| now > d);
    let late = match (decisions.last(), due) {
        (Some((Step::Reported { at }, _)), Some(d)) => *at > d,
        (Some((Step::NotReportable, decided)), Some(d)) => *decided > d,
        _ => false,
    };
    let finals: Vec<State> = decisions
        .iter()
        .filter_map(|(s, _)| match s {
            Step::Reported { .. } => Some(State::Reported),
            Step::NotReportable | Step::Assessed { significant: false } => {
                Some(State::NotReportable)
            }
            Step::Assessed { significant: true } => Some(State::ToReport),
            Step::Graded { .. } => None,
        })
        .collect();
    let reassessed = finals.windows(2).any(|w| w[0] != w[1]);
    Standing {
        state,
        due,
        overdue,
        late,
        reassessed,
    }
}

/// The NIS significant-impact questions (NIS Regulations 2018, regulation 11: the number of
/// users affected, the duration, the geographical area), with the lead's judgement.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Impact {
    /// The incident disrupted the continuity of an essential (patient care) service.
    pub service_disrupted: bool,
    /// About how many patients or users are affected.
    pub people_affected: u32,
    /// How many hours the disruption has lasted or is expected to last.
    pub hours: u32,
    /// `site`, `organisation` or `beyond` (other organisations or a region).
    pub area: String,
    pub significant: bool,
}

pub const AREAS: [(&str, &str); 3] = [
    ("site", "One site or department"),
    ("organisation", "The whole organisation"),
    (
        "beyond",
        "Beyond the organisation (other organisations, a region)",
    ),
];

impl Impact {
    /// The answers checked: a service that was not disrupted cannot be significant under NIS.
    pub fn check(&self) -> Result<(), String> {
        if !AREAS.iter().any(|(v, _)| *v == self.area) {
            return Err("Say how wide the disruption is.".into());
        }
        if self.significant && !self.service_disrupted {
            return Err(
                "NIS covers disruption to the essential service: if the service was not disrupted, the impact is not significant under NIS."
                    .into(),
            );
        }
        Ok(())
    }

    pub fn summary(&self) -> String {
        format!(
            "service disrupted: {}; about {} people affected; {} hours; area: {}; significant: {}",
            if self.service_disrupted { "yes" } else { "no" },
            self.people_affected,
            self.hours,
            AREAS
                .iter()
                .find(|(v, _)| *v == self.area)
                .map(|(_, w)| w.to_lowercase())
                .unwrap_or_default(),
            if self.significant { "yes" } else { "no" },
        )
    }
}

/// The DSPT incident reporting tool's likelihood scale (that harm to people has occurred).
pub const LIKELIHOOD: [(u8, &str); 5] = [
    (1, "Not occurred"),
    (
        2,
        "Not likely, or any incident involving vulnerable groups even if no adverse effect occurred",
    ),
    (3, "Likely"),
    (4, "Highly likely"),
    (5, "Occurred"),
];

/// The DSPT incident reporting tool's severity scale (how bad the harm would be).
pub const SEVERITY: [(u8, &str); 5] = [
    (1, "No adverse effect"),
    (
        2,
        "Potentially some minor adverse effect, or any incident involving vulnerable groups even if no adverse effect occurred",
    ),
    (3, "Potentially some adverse effect"),
    (4, "Potentially pain and suffering, or financial loss"),
    (5, "Death or a catastrophic event"),
];

/// A personal-data breach graded as the DSPT tool grades it, with what UK GDPR Article
/// 33(3) asks a report to hold.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Grading {
    pub likelihood: u8,
    pub severity: u8,
    /// The nature of the breach.
    pub nature: String,
    /// Categories of people concerned (patients, staff, children…).
    pub categories: String,
    pub people: u32,
    pub records: u32,
    pub consequences: String,
    pub measures: String,
}

impl Grading {
    pub fn check(&self) -> Result<(), String> {
        if !(1..=5).contains(&self.likelihood) {
            return Err("Choose how likely it is that people have been harmed.".into());
        }
        if !(1..=5).contains(&self.severity) {
            return Err("Choose how severe the harm would be.".into());
        }
        if self.nature.trim().is_empty() {
            return Err("Describe the nature of the breach.".into());
        }
        Ok(())
    }

    /// The tool notifies the ICO when harm is at least "likely" and its effect at least
    /// "minor".
    pub fn notify_ico(&self) -> bool {
        self.likelihood >= 3 && self.severity >= 2
    }

    /// What the grade means, as the ledger says it.
    pub fn meaning(&self) -> String {
        let l = LIKELIHOOD
            .iter()
            .find(|(n, _)| *n == self.likelihood)
            .map(|(_, w)| *w)
            .unwrap_or_default();
        let s = SEVERITY
            .iter()
            .find(|(n, _)| *n == self.severity)
            .map(|(_, w)| *w)
            .unwrap_or_default();
        if self.notify_ico() {
            format!(
                "Graded likelihood {} ({l}), severity {} ({s}): notify the ICO through the DSPT tool within 72 hours of awareness.",
                self.likelihood, self.severity
            )
        } else {
            format!(
                "Graded likelihood {} ({l}), severity {} ({s}): below the ICO's threshold. Record why it is not reportable: the ICO expects the reasons kept.",
                self.likelihood, self.severity
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const AWARE: OffsetDateTime = datetime!(2024-06-03 09:00 UTC);

    fn facts() -> Facts {
        Facts {
            personal_data: false,
            essential_service: false,
            practice: false,
            supplier: false,
            medical_device: false,
            crime: false,
        }
    }

    fn applies(f: &Facts, d: Duty) -> bool {
        duties(f).into_iter().find(|x| x.0 == d).unwrap().1
    }

    #[test]
    fn each_obligation_applies_only_where_its_rule_says() {
        let none = facts();
        assert!(applies(&none, Duty::Csoc));
        for d in [
            Duty::Ico,
            Duty::Nis,
            Duty::Mhra,
            Duty::Police,
            Duty::Commissioner,
            Duty::Controller,
        ] {
            assert!(
                !applies(&none, d),
                "{d:?} applies to an incident with no facts"
            );
        }
        let practice = Facts {
            practice: true,
            personal_data: true,
            ..none
        };
        assert!(applies(&practice, Duty::Commissioner) && applies(&practice, Duty::Ico));
        assert!(
            !applies(&practice, Duty::Nis),
            "a GP practice is not an OES"
        );
        let trust = Facts {
            essential_service: true,
            medical_device: true,
            crime: true,
            ..none
        };
        for d in [Duty::Nis, Duty::Mhra, Duty::Police] {
            assert!(applies(&trust, d), "{d:?}");
        }
        assert!(applies(
            &Facts {
                supplier: true,
                ..none
            },
            Duty::Controller
        ));
        assert_eq!(duties(&none).len(), Duty::ALL.len());
    }

    #[test]
    fn the_ico_counts_72_hours_from_awareness_and_a_report_ends_it() {
        let s = standing(Duty::Ico, true, AWARE, &[], AWARE + Duration::hours(71));
        assert_eq!(s.due, Some(datetime!(2024-06-06 09:00 UTC)));
        assert_eq!(s.state, State::ToAssess);
        assert!(!s.overdue);
        let s = standing(Duty::Ico, true, AWARE, &[], AWARE + Duration::hours(73));
        assert!(s.overdue);
        let reported = [(
            Step::Reported {
                at: AWARE + Duration::hours(70),
            },
            AWARE + Duration::hours(74),
        )];
        let s = standing(
            Duty::Ico,
            true,
            AWARE,
            &reported,
            AWARE + Duration::hours(80),
        );
        assert_eq!(s.state, State::Reported);
        assert!(!s.overdue && !s.late, "made in time, recorded later");
        let late = [(
            Step::Reported {
                at: AWARE + Duration::hours(75),
            },
            AWARE + Duration::hours(75),
        )];
        assert!(standing(Duty::Ico, true, AWARE, &late, AWARE + Duration::hours(80)).late);
        // A clock that does not apply is never overdue.
        assert!(!standing(Duty::Ico, false, AWARE, &[], AWARE + Duration::hours(80)).overdue);
    }

    #[test]
    fn nis_counts_only_once_the_impact_is_found_significant() {
        let later = AWARE + Duration::hours(100);
        let s = standing(Duty::Nis, true, AWARE, &[], later);
        assert_eq!(
            (s.due, s.overdue),
            (None, false),
            "no clock before the questions"
        );
        let found = AWARE + Duration::hours(10);
        let sig = [(Step::Assessed { significant: true }, found)];
        let s = standing(Duty::Nis, true, AWARE, &sig, found + Duration::hours(1));
        assert_eq!(s.due, Some(found + Duration::hours(72)));
        assert_eq!(s.state, State::ToReport);
        assert!(standing(Duty::Nis, true, AWARE, &sig, found + Duration::hours(73)).overdue);
        let not = [(Step::Assessed { significant: false }, found)];
        let s = standing(Duty::Nis, true, AWARE, &not, later);
        assert_eq!(
            (s.state, s.due, s.overdue),
            (State::NotReportable, None, false)
        );
    }

    #[test]
    fn a_reassessment_keeps_its_history_and_says_so() {
        let d = [
            (Step::NotReportable, AWARE + Duration::hours(2)),
            (
                Step::Reported {
                    at: AWARE + Duration::hours(30),
                },
                AWARE + Duration::hours(30),
            ),
        ];
        let s = standing(Duty::Police, true, AWARE, &d, AWARE + Duration::hours(40));
        assert_eq!(s.state, State::Reported);
        assert!(s.reassessed);
        assert!(!s.late, "no fixed deadline: never late");
        let once = standing(
            Duty::Police,
            true,
            AWARE,
            &d[..1],
            AWARE + Duration::hours(3),
        );
        assert!(!once.reassessed);
        assert_eq!(once.state, State::NotReportable);
    }

    #[test]
    fn a_not_reportable_decision_after_the_deadline_is_late() {
        let d = [(Step::NotReportable, AWARE + Duration::hours(2))];
        let s = standing(Duty::Csoc, true, AWARE, &d, AWARE + Duration::hours(3));
        assert!(s.late, "the CSOC is due within the hour");
        assert!(!s.overdue, "decided, so not overdue");
    }

    #[test]
    fn the_dspt_grade_notifies_the_ico_from_likely_and_minor() {
        let g = |likelihood, severity| Grading {
            likelihood,
            severity,
            nature: "Letters sent to the wrong address".into(),
            ..Default::default()
        };
        for l in 1..=5u8 {
            for s in 1..=5u8 {
                assert_eq!(g(l, s).notify_ico(), l >= 3 && s >= 2, "({l}, {s})");
            }
        }
        assert!(g(3, 2).meaning().contains("notify the ICO"));
        assert!(
            g(2, 5)
                .meaning()
                .contains("Record why it is not reportable")
        );
        assert!(g(0, 2).check().is_err() && g(3, 6).check().is_err());
        assert!(
            Grading {
                nature: " ".into(),
                ..g(3, 3)
            }
            .check()
            .is_err()
        );
        // A grade below the threshold still leaves the decision to record.
        let graded = [(Step::Graded { notify: false }, AWARE)];
        let s = standing(Duty::Ico, true, AWARE, &graded, AWARE + Duration::hours(73));
        assert_eq!(s.state, State::ToAssess);
        assert!(s.overdue);
    }

    #[test]
    fn significance_needs_a_disrupted_service_and_an_area() {
        let ok = Impact {
            service_disrupted: true,
            people_affected: 5000,
            hours: 48,
            area: "organisation".into(),
            significant: true,
        };
        assert!(ok.check().is_ok());
        assert!(
            Impact {
                service_disrupted: false,
                ..ok.clone()
            }
            .check()
            .is_err()
        );
        assert!(
            Impact {
                area: "moon".into(),
                ..ok.clone()
            }
            .check()
            .is_err()
        );
        assert!(
            ok.summary()
                .contains("about 5000 people affected; 48 hours")
        );
    }
}
