//! Incidents in plain language: what kinds there are, what to do first, how serious they
//! are, where they stand, the default runbook library, and the reporting clocks.

use serde::{Deserialize, Serialize};

mod clocks;
mod exercises;
pub mod obligations;
mod runbooks;
mod tasks;
mod views;

pub use clocks::*;
pub use exercises::*;
pub use runbooks::*;
pub use tasks::*;
pub use views::*;

str_enum!(IncidentKind {
    Ransomware => "ransomware",
    Phishing => "phishing",
    DataBreach => "data_breach",
    SystemDown => "system_down",
    SupplierCompromise => "supplier_compromise",
    DenialOfService => "denial_of_service",
    LostDevice => "lost_device",
    MedicalDevice => "medical_device",
});

impl IncidentKind {
    /// What frontline staff see: what is happening, in their words.
    pub fn plain(self) -> &'static str {
        match self {
            IncidentKind::Ransomware => "A ransom message is on a screen, or files will not open",
            IncidentKind::Phishing => {
                "I clicked a suspicious email or link, or gave my password away"
            }
            IncidentKind::DataBreach => "Patient or staff data went to the wrong person or place",
            IncidentKind::SystemDown => "A system is down or acting strangely",
            IncidentKind::SupplierCompromise => "A supplier told us they have been attacked",
            IncidentKind::DenialOfService => {
                "Our website or online services are flooded or unreachable"
            }
            IncidentKind::LostDevice => "A laptop, phone or memory stick is lost or stolen",
            IncidentKind::MedicalDevice => "A connected medical device is behaving oddly",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            IncidentKind::Ransomware => "Ransomware",
            IncidentKind::Phishing => "Phishing or credential compromise",
            IncidentKind::DataBreach => "Personal data breach",
            IncidentKind::SystemDown => "System outage or suspicious behaviour",
            IncidentKind::SupplierCompromise => "Supplier compromise",
            IncidentKind::DenialOfService => "Denial of service",
            IncidentKind::LostDevice => "Lost or stolen device",
            IncidentKind::MedicalDevice => "Compromised medical device",
        }
    }

    /// "Do this now": what the person who declared should do at once.
    pub fn first_steps(self) -> &'static [&'static str] {
        match self {
            IncidentKind::Ransomware => &[
                "Unplug the network cable and turn off Wi-Fi on the affected computer.",
                "Do not switch the computer off: evidence in its memory would be lost.",
                "Write down the time and what is on the screen (a photo on your phone is fine).",
                "Do not pay, and do not contact the attackers.",
                "Warn colleagues nearby not to log in to shared computers until told it is safe.",
            ],
            IncidentKind::Phishing => &[
                "Change your password now from a different device, if you can.",
                "Do not open the email or link again; do not forward it.",
                "Note the time, the sender and what you clicked or typed.",
                "If you entered a password, tell IT which systems it opens.",
            ],
            IncidentKind::DataBreach => &[
                "Do not try to delete or recall the data yourself unless it is safe to.",
                "Note what data went where, when, and to whom.",
                "If someone received it by mistake, ask them not to open or share it.",
            ],
            IncidentKind::SystemDown => &[
                "Note the time, the system, and what you see (error messages, slowness).",
                "Switch to your downtime (paper) procedures if patients are affected.",
                "Do not restart servers or shared devices until IT asks you to.",
            ],
            IncidentKind::SupplierCompromise => &[
                "Note who told you, when, and what they said.",
                "Do not reconnect to the supplier's systems until told it is safe.",
            ],
            IncidentKind::DenialOfService => &[
                "Note the time and which services are affected.",
                "Tell patients how else to reach you.",
            ],
            IncidentKind::LostDevice => &[
                "Note when and where you last had it, and what data was on it.",
                "Report theft to the police and keep the crime reference.",
            ],
            IncidentKind::MedicalDevice => &[
                "Make the patient safe first: use a backup device if you have one.",
                "Disconnect the device from the network but keep it powered if safe to.",
                "Note the device, its serial number and what it did.",
            ],
        }
    }

    /// Whether this kind usually involves personal data (the ICO clock applies).
    pub fn usually_personal_data(self) -> bool {
        matches!(
            self,
            IncidentKind::DataBreach | IncidentKind::LostDevice | IncidentKind::Ransomware
        )
    }
}

str_enum!(IncidentLevel {
    BusinessContinuity => "business_continuity",
    Critical => "critical",
    Major => "major",
});

impl IncidentLevel {
    /// How serious, for putting the most urgent first: a major incident outranks a critical
    /// one, which outranks a business continuity incident (NHS EPRR's order).
    pub fn rank(self) -> u8 {
        match self {
            IncidentLevel::BusinessContinuity => 1,
            IncidentLevel::Critical => 2,
            IncidentLevel::Major => 3,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            IncidentLevel::BusinessContinuity => "Business continuity incident",
            IncidentLevel::Critical => "Critical incident",
            IncidentLevel::Major => "Major incident",
        }
    }
}

str_enum!(IncidentStatus {
    Declared => "declared",
    Triaged => "triaged",
    Contained => "contained",
    Recovered => "recovered",
    Closed => "closed",
    StoodDown => "stood_down",
});

impl IncidentStatus {
    /// Still being handled: not closed or stood down.
    pub fn open(self) -> bool {
        !matches!(self, IncidentStatus::Closed | IncidentStatus::StoodDown)
    }
}

str_enum!(Phase {
    Detect => "detect",
    Triage => "triage",
    Contain => "contain",
    Notify => "notify",
    Continuity => "continuity",
    Recover => "recover",
    Review => "review",
});

impl Phase {
    pub fn label(self) -> &'static str {
        match self {
            Phase::Detect => "Detect",
            Phase::Triage => "Triage",
            Phase::Contain => "Contain",
            Phase::Notify => "Notify",
            Phase::Continuity => "Continuity",
            Phase::Recover => "Recover",
            Phase::Review => "Review",
        }
    }
}

str_enum!(PatientsAffected {
    Yes => "yes",
    No => "no",
    Unknown => "unknown",
});

str_enum!(Command {
    Gold => "gold",
    Silver => "silver",
    Bronze => "bronze",
    Loggist => "loggist",
    Comms => "comms",
});

impl Command {
    pub fn label(self) -> &'static str {
        match self {
            Command::Gold => "Gold (strategic)",
            Command::Silver => "Silver (tactical)",
            Command::Bronze => "Bronze (operational)",
            Command::Loggist => "Loggist",
            Command::Comms => "Communications lead",
        }
    }

    /// The role whose holder takes this command role when an incident is declared.
    pub fn role_key(self) -> &'static str {
        match self {
            Command::Gold => "gold_on_call",
            Command::Silver => "silver_on_call",
            Command::Bronze => "bronze_on_call",
            Command::Loggist => "loggist",
            Command::Comms => "comms_lead",
        }
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn exercises_fall_due_on_the_eprr_cadence() {
        use time::macros::datetime;
        let now = datetime!(2026-11-29 12:00 UTC);
        assert_eq!(next_due(None, ExerciseKind::Live, now), (now, true));
        let (due, overdue) = next_due(
            Some(datetime!(2026-05-31 09:00 UTC)),
            ExerciseKind::Communications,
            now,
        );
        assert_eq!(
            due,
            datetime!(2026-11-30 09:00 UTC),
            "six months on, clamped to the month's end"
        );
        assert!(!overdue);
        let (_, overdue) = next_due(
            Some(datetime!(2025-11-01 09:00 UTC)),
            ExerciseKind::Tabletop,
            now,
        );
        assert!(overdue, "a table-top more than twelve months ago");
        let (due, overdue) = next_due(
            Some(datetime!(2024-02-29 09:00 UTC)),
            ExerciseKind::Live,
            now,
        );
        assert_eq!(due, datetime!(2027-02-28 09:00 UTC));
        assert!(!overdue);
    }

    use super::*;
    use time::macros::datetime;

    #[test]
    fn every_kind_has_plain_words_first_steps_and_a_default_runbook() {
        let library = default_library();
        assert_eq!(library.len(), IncidentKind::ALL.len());
        for (kind, steps) in library {
            assert!(!kind.plain().is_empty() && !kind.first_steps().is_empty());
            assert!(steps.iter().any(|s| s.phase == Phase::Triage));
            assert!(
                steps
                    .iter()
                    .any(|s| s.phase == Phase::Notify && s.title.contains("CSOC"))
            );
            assert!(steps.iter().any(|s| s.phase == Phase::Review));
        }
    }

    #[test]
    fn ransomware_first_steps_say_disconnect_and_do_not_switch_off() {
        let steps = IncidentKind::Ransomware.first_steps().join(" ");
        assert!(
            steps.contains("Unplug the network")
                && steps.contains("Do not switch the computer off")
                && steps.contains("time")
        );
    }

    fn step(title: &str, depends: &str) -> StepInput {
        StepInput {
            phase: "contain".into(),
            title: title.into(),
            owner_role: "head_of_cyber".into(),
            due_minutes: "30".into(),
            instructions: "Do it.".into(),
            required: Some("on".into()),
            depends_on: depends.into(),
            remove: None,
        }
    }

    #[test]
    fn edited_steps_are_checked_and_blank_or_removed_rows_skipped() {
        let roles = vec!["head_of_cyber".to_owned()];
        let mut removed = step("Gone", "");
        removed.remove = Some("on".into());
        let blank = StepInput::default();
        let ok = validate_steps(
            &[
                step("Isolate", ""),
                removed.clone(),
                blank,
                step("Restore", "1"),
                step("Rebuild", "1, 4"),
            ],
            &roles,
        )
        .unwrap();
        assert_eq!(ok.len(), 3);
        assert_eq!(ok[1].depends_on, vec![1]);
        assert_eq!(
            ok[2].depends_on,
            vec![1, 2],
            "step 4 as shown is saved as step 2"
        );
        let waits_for_removed =
            validate_steps(&[step("A", ""), removed, step("C", "2")], &roles).unwrap_err();
        assert!(waits_for_removed.contains("Step 3 waits for step 2, which is being removed"));
        assert!(ok[0].required);
        let err = |s: StepInput| validate_steps(&[step("A", ""), s], &roles).unwrap_err();
        assert!(err(step("B", "2")).contains("Step 2: it can only wait for steps before it"));
        assert!(
            err(StepInput {
                owner_role: "nobody".into(),
                ..step("B", "")
            })
            .contains("choose the role")
        );
        assert!(
            err(StepInput {
                due_minutes: "soon".into(),
                ..step("B", "")
            })
            .contains("whole number")
        );
        assert!(
            err(StepInput {
                phase: "later".into(),
                ..step("B", "")
            })
            .contains("phase")
        );
        assert!(validate_steps(&[StepInput::default()], &roles).is_err());
    }

    #[test]
    fn the_dspt_text_carries_what_the_tool_asks_for() {
        let v = IncidentView {
            reference: "WL-1".into(),
            org_code: "G85028".into(),
            org_name: "Stockwell Group Practice".into(),
            kind: IncidentKind::Ransomware,
            level: IncidentLevel::Critical,
            status: IncidentStatus::Contained,
            summary: "Ransom note on reception PC".into(),
            location: "Reception".into(),
            patients_affected: PatientsAffected::Yes,
            personal_data: true,
            systems: "EMIS".into(),
            declared_by: "Sam Patel".into(),
            declared_at: "3 Jun 2024 09:00 UTC".into(),
            aware_at: "3 Jun 2024 08:45 UTC".into(),
            runbook: String::new(),
            tasks: vec![],
            first_steps: vec![],
            told: vec![],
            clocks: vec![Clock {
                body: "csoc".into(),
                label: "NHS England CSOC: report immediately".into(),
                due_at: String::new(),
                applies: true,
                why: String::new(),
                channel_hint: String::new(),
                state: obligations::State::Reported,
                overdue: false,
                late: false,
                reassessed: false,
                history: vec![],
                grade: None,
                impact: None,
                grading: None,
                minutes_left: 0,
                reported_at: Some("3 Jun 2024 09:20 UTC".into()),
                report_channel: None,
                report_reference: Some("CSOC-123".into()),
                report_purpose: Some("a request for support".into()),
            }],
            timeline: vec![],
            affected: vec![],
            commands: vec![],
            candidates: vec![],
            can_lead: false,
            parent: None,
            linked: vec![],
            unlinked_clients: vec![],
            can_link: false,
            dspt_text: String::new(),
            generated_at: String::new(),
            assets: Vec::new(),
            asset_choices: Vec::new(),
            exercise: None,
            paging: Vec::new(),
            dpo_contact: None,
        };
        let text = dspt_text(&v);
        for want in [
            "Stockwell Group Practice (ODS code G85028)",
            "Became aware: 3 Jun 2024 08:45 UTC",
            "Personal data involved: Yes",
            "Patients affected right now: Yes",
            "Reported: NHS England CSOC (a request for support) at 3 Jun 2024 09:20 UTC, reference CSOC-123",
            "- None recorded yet",
        ] {
            assert!(text.contains(want), "missing {want:?} in\n{text}");
        }
    }

    #[test]
    fn stored_names_round_trip() {
        for k in IncidentKind::ALL {
            assert_eq!(IncidentKind::parse(k.as_str()), Some(*k));
        }
        for s in TaskState::ALL {
            assert_eq!(TaskState::parse(s.as_str()), Some(*s));
        }
    }

    #[test]
    fn tasks_move_only_along_the_state_machine() {
        use TaskAction as A;
        use TaskState as S;
        assert_eq!(transition(S::Open, A::Acknowledge), Ok(S::Acknowledged));
        assert_eq!(transition(S::Open, A::Start), Ok(S::InProgress));
        assert_eq!(transition(S::Acknowledged, A::Start), Ok(S::InProgress));
        assert_eq!(transition(S::InProgress, A::Complete), Ok(S::Done));
        assert_eq!(transition(S::Open, A::Complete), Ok(S::Done));
        assert_eq!(
            transition(S::Acknowledged, A::NotApplicable),
            Ok(S::NotApplicable)
        );
        assert_eq!(transition(S::InProgress, A::Reassign), Ok(S::Open));
        assert_eq!(
            transition(S::Acknowledged, A::Acknowledge),
            Err(Refused::MovedOn),
            "acknowledged once only"
        );
        assert_eq!(transition(S::InProgress, A::Start), Err(Refused::MovedOn));
        for a in TaskAction::ALL {
            assert_eq!(transition(S::Done, *a), Err(Refused::Finished));
            assert_eq!(transition(S::NotApplicable, *a), Err(Refused::Finished));
        }
    }

    #[test]
    fn each_action_applies_from_the_states_it_always_did() {
        use TaskState as S;
        let live = vec![S::Open, S::Acknowledged, S::InProgress];
        assert_eq!(TaskAction::Acknowledge.applies_from(), vec![S::Open]);
        assert_eq!(
            TaskAction::Start.applies_from(),
            vec![S::Open, S::Acknowledged]
        );
        assert_eq!(TaskAction::Complete.applies_from(), live);
        assert_eq!(TaskAction::NotApplicable.applies_from(), live);
        assert_eq!(TaskAction::Reassign.applies_from(), live);
    }

    #[test]
    fn task_actions_keep_the_names_forms_post() {
        for (a, posted) in [
            (TaskAction::Acknowledge, "acknowledge"),
            (TaskAction::Start, "start"),
            (TaskAction::Complete, "complete"),
            (TaskAction::NotApplicable, "not_applicable"),
            (TaskAction::Reassign, "reassign"),
        ] {
            assert_eq!(a.as_str(), posted);
            assert_eq!(TaskAction::parse(posted), Some(a));
            assert_eq!(serde_json::to_string(&a).unwrap(), format!("\"{posted}\""));
        }
    }

    #[test]
    fn wire_rows_carry_typed_dates_as_rfc3339() {
        let row = IncidentRow {
            reference: "INC-1".into(),
            title: "Ransomware".into(),
            org_name: "Stockwell Group Practice".into(),
            status: IncidentStatus::Declared,
            level: IncidentLevel::Critical,
            declared_at: datetime!(2026-06-03 09:00 UTC),
            mine: true,
        };
        let json = serde_json::to_value(&row).unwrap();
        assert_eq!(json["declared_at"], "2026-06-03T09:00:00Z");
        assert_eq!(json["status"], "declared");
        assert_eq!(serde_json::from_value::<IncidentRow>(json).unwrap(), row);
        let entry = TimelineEntry {
            at: datetime!(2026-06-03 09:05 UTC),
            detail: "Declared".into(),
        };
        let back: TimelineEntry =
            serde_json::from_str(&serde_json::to_string(&entry).unwrap()).unwrap();
        assert_eq!(back, entry);
    }

    /// The columns hold these enums as text: the text must stay what was always stored.
    #[cfg(feature = "ssr")]
    #[test]
    fn stored_enums_keep_their_stored_text() {
        use sea_orm::ActiveEnum;
        fn same<T: ActiveEnum<Value = String> + Copy + PartialEq + std::fmt::Debug>(
            all: &[T],
            text: impl Fn(T) -> &'static str,
        ) {
            for v in all {
                assert_eq!(v.to_value(), text(*v));
                assert_eq!(T::try_from_value(&text(*v).to_owned()).unwrap(), *v);
            }
            assert!(T::try_from_value(&"nonsense".to_owned()).is_err());
        }
        same(TaskState::ALL, TaskState::as_str);
        same(IncidentStatus::ALL, IncidentStatus::as_str);
        same(IncidentLevel::ALL, IncidentLevel::as_str);
        assert_eq!(TaskState::InProgress.to_value(), "in_progress");
        assert_eq!(IncidentStatus::StoodDown.to_value(), "stood_down");
    }
}
