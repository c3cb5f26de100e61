//! Incidents in plain language: what kinds there are, what to do first, how serious they
//! are, where they stand, the default runbook library, and the reporting clocks.

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

macro_rules! str_enum {
    ($name:ident { $($variant:ident => $s:literal),+ $(,)? }) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        // On the server each is also a SeaORM active enum, stored as the same text, so
        // entities hold the typed value (no migration: the strings are unchanged).
        #[cfg_attr(feature = "ssr", derive(sea_orm::EnumIter, sea_orm::DeriveActiveEnum))]
        #[cfg_attr(
            feature = "ssr",
            sea_orm(
                rs_type = "String",
                db_type = "String(sea_orm::sea_query::StringLen::None)"
            )
        )]
        pub enum $name { $(#[cfg_attr(feature = "ssr", sea_orm(string_value = $s))] $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $s),+ }
            }

            pub fn parse(raw: &str) -> Option<$name> {
                $name::ALL.iter().copied().find(|v| v.as_str() == raw)
            }
        }
    };
}

str_enum!(ExerciseKind {
    Communications => "communications",
    Tabletop => "tabletop",
    Live => "live",
});

impl ExerciseKind {
    pub fn label(self) -> &'static str {
        match self {
            ExerciseKind::Communications => "Communications test",
            ExerciseKind::Tabletop => "Table-top exercise",
            ExerciseKind::Live => "Live exercise",
        }
    }

    /// How often NHS EPRR expects one, in months.
    pub fn every_months(self) -> u8 {
        match self {
            ExerciseKind::Communications => 6,
            ExerciseKind::Tabletop => 12,
            ExerciseKind::Live => 36,
        }
    }
}

/// One exercise kind's standing at an organisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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

str_enum!(TaskState {
    Open => "open",
    Acknowledged => "acknowledged",
    InProgress => "in_progress",
    Done => "done",
    NotApplicable => "not_applicable",
});

impl TaskState {
    pub fn label(self) -> &'static str {
        match self {
            TaskState::Open => "Waiting for acknowledgement",
            TaskState::Acknowledged => "Acknowledged",
            TaskState::InProgress => "In progress",
            TaskState::Done => "Done",
            TaskState::NotApplicable => "Not applicable",
        }
    }
}

str_enum!(TaskAction {
    Acknowledge => "acknowledge",
    Start => "start",
    Complete => "complete",
    NotApplicable => "not_applicable",
    Reassign => "reassign",
});

/// Why an action does not apply to a task where it stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// The task is done or marked not applicable; nothing more can happen to it.
    Finished,
    /// The task has moved past the point where this action makes sense (starting or
    /// acknowledging a task already under way).
    MovedOn,
}

/// The task state machine: where a task in state `from` goes when `action` is taken, or why
/// it cannot be. Reassigning hands the task to someone new, who must acknowledge it again.
pub fn transition(from: TaskState, action: TaskAction) -> Result<TaskState, Refused> {
    use TaskAction as A;
    use TaskState as S;
    match (from, action) {
        (S::Done | S::NotApplicable, _) => Err(Refused::Finished),
        (S::Open, A::Acknowledge) => Ok(S::Acknowledged),
        (S::Open | S::Acknowledged, A::Start) => Ok(S::InProgress),
        (_, A::Acknowledge | A::Start) => Err(Refused::MovedOn),
        (_, A::Complete) => Ok(S::Done),
        (_, A::NotApplicable) => Ok(S::NotApplicable),
        (_, A::Reassign) => Ok(S::Open),
    }
}

impl TaskAction {
    /// The states a task may be in for this action to apply.
    pub fn applies_from(self) -> Vec<TaskState> {
        TaskState::ALL
            .iter()
            .copied()
            .filter(|s| transition(*s, self).is_ok())
            .collect()
    }
}

str_enum!(PatientsAffected {
    Yes => "yes",
    No => "no",
    Unknown => "unknown",
});

/// A step of a runbook template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepTemplate {
    pub phase: Phase,
    pub title: String,
    pub owner_role: String,
    pub due_minutes: i32,
    pub instructions: String,
    pub required: bool,
    /// Positions (1-based) of steps that must finish first.
    pub depends_on: Vec<i32>,
}

type Step = (Phase, &'static str, &'static str, i32, &'static str, bool);

fn common_notify(personal: bool) -> Vec<Step> {
    let mut v: Vec<Step> = vec![
        (
            Phase::Notify,
            "Report to the NHS England CSOC",
            "head_of_cyber",
            60,
            "Call the Cyber Security Operations Centre on 0300 303 5222 (24 hours) and record the reference.",
            true,
        ),
        (
            Phase::Notify,
            "Decide whether NIS reporting applies",
            "siro",
            24 * 60,
            "If the incident significantly affects an essential service, report to DHSC through the DSPT incident reporting tool within 72 hours of becoming aware.",
            true,
        ),
    ];
    if personal {
        v.push((Phase::Notify, "Assess and report the personal-data breach", "dpo", 24 * 60, "Grade likelihood and severity in the DSPT incident reporting tool; it notifies the ICO when required. The ICO deadline is 72 hours from becoming aware.", true));
    }
    v
}

/// The national default library, grounded in the standard NHS incident response plan:
/// detect and report, triage and declare, contain, notify, keep services running, recover,
/// review. (kind, steps)
pub fn default_library() -> Vec<(IncidentKind, Vec<StepTemplate>)> {
    use IncidentKind::*;
    let mut out = Vec::new();
    for kind in IncidentKind::ALL.iter().copied() {
        let mut steps: Vec<Step> = vec![(
            Phase::Triage,
            "Triage and declare the incident level",
            "head_of_cyber",
            15,
            "Confirm what is happening, how many systems and sites are affected, and declare the level (business continuity, critical or major).",
            true,
        )];
        match kind {
            Ransomware => steps.extend([
                (Phase::Contain, "Isolate affected systems", "head_of_cyber", 30, "Disconnect affected machines and segments from the network. Do not switch machines off. Preserve logs.", true),
                (Phase::Contain, "Stand up strategic command", "gold_on_call", 30, "Gold takes strategic command; Silver runs the tactical response.", true),
            ]),
            Phishing => steps.extend([
                (Phase::Contain, "Reset credentials and revoke sessions", "head_of_cyber", 30, "Reset the passwords entered, revoke sessions and check mailbox rules and sign-in logs.", true),
            ]),
            DataBreach => steps.extend([
                (Phase::Contain, "Contain the disclosure", "ig_lead", 60, "Recover or secure the data; ask recipients to delete it and confirm in writing.", true),
                (Phase::Triage, "Inform the Caldicott Guardian", "caldicott_guardian", 120, "The Caldicott Guardian advises on patient confidentiality and informing patients.", true),
            ]),
            SystemDown => steps.extend([
                (Phase::Contain, "Find out whether the cause is a cyber attack", "head_of_cyber", 60, "Check monitoring and alerts; treat as ransomware if in doubt.", true),
            ]),
            SupplierCompromise => steps.extend([
                (Phase::Contain, "Cut or restrict the supplier's connections", "head_of_cyber", 60, "Disable supplier VPNs and accounts until the supplier confirms it is safe.", true),
                (Phase::Notify, "Tell the ICB and other affected organisations", "siro", 240, "A supplier incident fans out: the supplier is the processor, each organisation a controller.", true),
            ]),
            DenialOfService => steps.extend([
                (Phase::Contain, "Engage network and hosting providers", "head_of_cyber", 60, "Ask providers to filter the traffic.", true),
            ]),
            LostDevice => steps.extend([
                (Phase::Contain, "Wipe or lock the device remotely", "head_of_cyber", 60, "Check encryption status; wipe if it cannot be recovered.", true),
            ]),
            MedicalDevice => steps.extend([
                (Phase::Contain, "Make patients safe and isolate the device", "head_of_cyber", 30, "Work with clinical engineering; report to the MHRA if patient safety is affected.", true),
            ]),
        }
        steps.extend(common_notify(kind.usually_personal_data()));
        steps.extend([
            (Phase::Continuity, "Run downtime procedures", "silver_on_call", 60, "Switch to paper processes, arrange mutual aid and diverts if services cannot run.", false),
            (Phase::Recover, "Recover systems from clean backups", "head_of_cyber", 3 * 24 * 60, "Rebuild from known-good, immutable backups; confirm integrity before reconnecting.", true),
            (Phase::Review, "Hold a post-incident review", "siro", 14 * 24 * 60, "Record what happened, what went well, lessons, and actions with owners.", true),
        ]);
        let templates = steps
            .into_iter()
            .enumerate()
            .map(
                |(i, (phase, title, owner, due, text, required))| StepTemplate {
                    phase,
                    title: title.into(),
                    owner_role: owner.into(),
                    due_minutes: due,
                    instructions: text.into(),
                    required,
                    // Everything after triage waits for triage.
                    depends_on: if i == 0 { vec![] } else { vec![1] },
                },
            )
            .collect();
        out.push((kind, templates));
    }
    out
}

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

/// A task as pages show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskView {
    pub id: i64,
    pub incident_reference: String,
    pub position: i32,
    pub phase: Phase,
    pub title: String,
    pub instructions: String,
    pub required: bool,
    pub owner_role: String,
    pub assignee: Option<String>,
    pub routing: String,
    pub state: TaskState,
    pub due_at: String,
    pub overdue: bool,
    pub note: Option<String>,
    pub mine: bool,
    /// The viewer may act on it: it is theirs, or they administer the organisation.
    pub can_act: bool,
}

/// An incident as the list of incidents shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentRow {
    pub reference: String,
    /// What kind of incident, marked when it is an exercise.
    pub title: String,
    pub org_name: String,
    pub status: IncidentStatus,
    #[serde(with = "time::serde::rfc3339")]
    pub declared_at: OffsetDateTime,
}

/// One line of an incident's timeline as its page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineEntry {
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub detail: String,
}

/// Another organisation an incident affects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AffectedOrg {
    /// The ODS code.
    pub code: String,
    pub name: String,
}

/// Someone who may be given a command role or own a review action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candidate {
    pub person_id: i64,
    /// "name, role at organisation".
    pub label: String,
}

/// The supplier incident an incident was opened from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParentIncident {
    pub reference: String,
    /// The supplier's name.
    pub org_name: String,
}

/// An incident as its page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentView {
    pub reference: String,
    pub org_code: String,
    pub org_name: String,
    pub kind: IncidentKind,
    pub level: IncidentLevel,
    pub status: IncidentStatus,
    pub summary: String,
    pub location: String,
    pub patients_affected: PatientsAffected,
    pub personal_data: bool,
    pub systems: String,
    pub declared_by: String,
    pub declared_at: String,
    pub aware_at: String,
    pub runbook: String,
    pub tasks: Vec<TaskView>,
    pub first_steps: Vec<String>,
    pub told: Vec<String>,
    pub clocks: Vec<Clock>,
    pub timeline: Vec<TimelineEntry>,
    /// Other organisations affected.
    pub affected: Vec<AffectedOrg>,
    pub commands: Vec<CommandView>,
    /// People who may be given a command role.
    pub candidates: Vec<Candidate>,
    /// The viewer leads here: may change level and status, command roles, reports, scope.
    pub can_lead: bool,
    /// The supplier incident this one was opened from.
    pub parent: Option<ParentIncident>,
    /// Incidents opened from this one at the organisations a supplier serves.
    pub linked: Vec<LinkedView>,
    /// Organisations this supplier serves that have no linked incident yet.
    pub unlinked_clients: Vec<String>,
    /// The viewer may open those linked incidents (the declarer or a lead).
    pub can_link: bool,
    /// Text to paste into the DSPT incident reporting tool.
    pub dspt_text: String,
    /// When this view was read (for printed copies).
    pub generated_at: String,
    /// Catalogued assets the incident affects.
    pub assets: Vec<crate::domain::assets::AssetRef>,
    /// For leads: the affected organisations' other assets, which may be linked.
    pub asset_choices: Vec<crate::domain::assets::AssetRef>,
    /// Set when this is an exercise, not a real incident.
    pub exercise: Option<ExerciseKind>,
}

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

/// A command role in one incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandView {
    pub command: Command,
    pub person: Option<String>,
    pub person_id: Option<i64>,
    /// Gold only: the commander has acknowledged taking command.
    pub acknowledged: bool,
    /// The viewer holds it.
    pub mine: bool,
}

/// A linked incident as the supplier's incident shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkedView {
    pub reference: String,
    pub org_name: String,
    pub status: IncidentStatus,
    pub tasks_done: usize,
    pub tasks_total: usize,
}

/// The report text for the DSPT incident reporting tool, from what Wardline holds.
pub fn dspt_text(v: &IncidentView) -> String {
    if let Some(e) = v.exercise {
        return format!(
            "{} {} is an exercise ({}), not a real incident: do not report it in the DSPT incident reporting tool.",
            v.org_name,
            v.reference,
            e.label()
        );
    }
    let yes_no = |b: bool| if b { "Yes" } else { "No" };
    let mut out = vec![
        format!("Organisation: {} (ODS code {})", v.org_name, v.org_code),
        format!("Wardline reference: {}", v.reference),
        format!("Incident type: {}", v.kind.title()),
        format!("Level: {}", v.level.label()),
        format!("Status: {}", v.status.as_str().replace('_', " ")),
        format!("Became aware: {}", v.aware_at),
        format!("Declared: {} by {}", v.declared_at, v.declared_by),
        format!("What happened: {}", or_none(&v.summary)),
        format!("Where: {}", v.location),
        format!("Systems affected: {}", or_none(&v.systems)),
        format!(
            "Patients affected right now: {}",
            match v.patients_affected {
                PatientsAffected::Yes => "Yes",
                PatientsAffected::No => "No",
                PatientsAffected::Unknown => "Not known yet",
            }
        ),
        format!("Personal data involved: {}", yes_no(v.personal_data)),
    ];
    if !v.affected.is_empty() {
        let names: Vec<String> = v
            .affected
            .iter()
            .map(|a| format!("{} ({})", a.name, a.code))
            .collect();
        out.push(format!(
            "Other organisations affected: {}",
            names.join(", ")
        ));
    }
    for c in v.clocks.iter().filter(|c| c.reported_at.is_some()) {
        out.push(format!(
            "Reported: {} at {}, reference {}",
            c.label.split(':').next().unwrap_or(&c.label),
            c.reported_at.as_deref().unwrap_or_default(),
            c.report_reference.as_deref().unwrap_or_default()
        ));
    }
    let done: Vec<String> = v
        .tasks
        .iter()
        .filter(|t| t.state == TaskState::Done)
        .map(|t| match &t.note {
            Some(n) if !n.is_empty() => format!("- {}: {n}", t.title),
            _ => format!("- {}", t.title),
        })
        .collect();
    out.push(String::new());
    out.push("Actions taken so far:".into());
    if done.is_empty() {
        out.push("- None recorded yet".into());
    } else {
        out.extend(done);
    }
    let contacts: Vec<String> = v
        .commands
        .iter()
        .filter_map(|c| {
            c.person
                .as_ref()
                .map(|p| format!("- {}: {p}", c.command.label()))
        })
        .collect();
    if !contacts.is_empty() {
        out.push(String::new());
        out.push("Incident command:".into());
        out.extend(contacts);
    }
    out.join("\n")
}

fn or_none(s: &str) -> &str {
    if s.trim().is_empty() { "Not given" } else { s }
}

/// One runbook version as its page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunbookView {
    pub id: i64,
    pub kind: IncidentKind,
    pub version: i32,
    pub title: String,
    /// Whose it is: "National default" or the organisation's name.
    pub owner: String,
    pub owner_code: Option<String>,
    pub created_at: String,
    pub steps: Vec<StepTemplate>,
    /// The viewer may save a new version for `for_code`.
    pub editable: bool,
    /// The organisation a saved edit will belong to.
    pub for_code: Option<String>,
    /// Earlier versions of the same owner: (version, created).
    pub history: Vec<(i32, String)>,
}

/// The runbooks in force for an organisation: (kind, title, version, owner).
pub type RunbookIndex = Vec<(IncidentKind, String, i32, String)>;

/// One step as an editor sends it: text fields, checked by `validate_steps`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepInput {
    pub phase: String,
    pub title: String,
    pub owner_role: String,
    pub due_minutes: String,
    pub instructions: String,
    #[serde(default)]
    pub required: Option<String>,
    #[serde(default)]
    pub depends_on: String,
    /// Ticked to leave the step out of the new version.
    #[serde(default)]
    pub remove: Option<String>,
}

/// Turns edited steps into templates. Rows with no title and no instructions are blank
/// rows and are skipped; every other problem is reported with its step number.
pub fn validate_steps(
    input: &[StepInput],
    role_keys: &[String],
) -> Result<Vec<StepTemplate>, String> {
    // Steps are numbered as the editor shows them (n); dependencies name those numbers and
    // are renumbered to the saved positions once removed and blank rows are gone.
    let blank = |s: &StepInput| s.title.trim().is_empty() && s.instructions.trim().is_empty();
    let mut position = std::collections::HashMap::new();
    for (i, s) in input.iter().enumerate() {
        if s.remove.is_none() && !blank(s) {
            let next = position.len() as i32 + 1;
            position.insert(i as i32 + 1, next);
        }
    }
    if position.is_empty() {
        return Err("A runbook needs at least one step.".into());
    }
    if position.len() > 60 {
        return Err("Keep a runbook to 60 steps.".into());
    }
    let mut out = Vec::new();
    for (i, s) in input.iter().enumerate() {
        let n = i as i32 + 1;
        let Some(&here) = position.get(&n) else {
            continue;
        };
        let phase =
            Phase::parse(s.phase.trim()).ok_or_else(|| format!("Step {n}: choose a phase."))?;
        let title = s.title.trim();
        if title.is_empty() || title.chars().count() > 200 {
            return Err(format!("Step {n}: give a title of up to 200 characters."));
        }
        let owner = s.owner_role.trim();
        if !role_keys.iter().any(|k| k == owner) {
            return Err(format!("Step {n}: choose the role that owns it."));
        }
        let due: i32 = s.due_minutes.trim().parse().map_err(|_| {
            format!("Step {n}: give the minutes after declaration it is due, as a whole number.")
        })?;
        if !(0..=60 * 24 * 30).contains(&due) {
            return Err(format!(
                "Step {n}: a step is due within 30 days (43200 minutes)."
            ));
        }
        if s.instructions.chars().count() > 4000 {
            return Err(format!(
                "Step {n}: keep the instructions to 4000 characters."
            ));
        }
        let mut depends_on = Vec::new();
        for part in s
            .depends_on
            .split([',', ' '])
            .filter(|p| !p.trim().is_empty())
        {
            let d: i32 = part.trim().parse().map_err(|_| {
                format!("Step {n}: list the steps it waits for by number, like 1, 2.")
            })?;
            if d < 1 || d >= n {
                return Err(format!(
                    "Step {n}: it can only wait for steps before it (1 to {}).",
                    n - 1
                ));
            }
            let Some(&saved) = position.get(&d) else {
                return Err(format!(
                    "Step {n} waits for step {d}, which is being removed or is empty."
                ));
            };
            if !depends_on.contains(&saved) {
                depends_on.push(saved);
            }
        }
        debug_assert_eq!(here as usize, out.len() + 1);
        out.push(StepTemplate {
            phase,
            title: title.to_owned(),
            owner_role: owner.to_owned(),
            due_minutes: due,
            instructions: s.instructions.trim().to_owned(),
            required: s.required.is_some(),
            depends_on,
        });
    }
    Ok(out)
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

    #[test]
    fn clocks_run_72_hours_from_awareness_and_only_where_they_apply() {
        let aware = datetime!(2024-06-03 09:00 UTC);
        let c = clocks(aware, aware + Duration::hours(80), true, false);
        let ico = c.iter().find(|c| c.0 == "ico").unwrap();
        assert_eq!(ico.2, datetime!(2024-06-06 09:00 UTC));
        assert!(ico.3, "80 hours after awareness the ICO report is overdue");
        let nis = c.iter().find(|c| c.0 == "nis").unwrap();
        assert!(!nis.3, "NIS does not apply to a GP practice");
        let early = clocks(aware, aware + Duration::hours(10), true, true);
        assert!(!early.iter().find(|c| c.0 == "ico").unwrap().3);
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
                overdue: false,
                minutes_left: 0,
                reported_at: Some("3 Jun 2024 09:20 UTC".into()),
                report_reference: Some("CSOC-123".into()),
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
        };
        let text = dspt_text(&v);
        for want in [
            "Stockwell Group Practice (ODS code G85028)",
            "Became aware: 3 Jun 2024 08:45 UTC",
            "Personal data involved: Yes",
            "Patients affected right now: Yes",
            "Reported: NHS England CSOC at 3 Jun 2024 09:20 UTC, reference CSOC-123",
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
            declared_at: datetime!(2026-06-03 09:00 UTC),
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
