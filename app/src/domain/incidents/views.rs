//! Incidents as pages show them: the incident, its tasks, timeline, command roles and
//! links, the list, and the DSPT report text.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::*;

/// A task as pages show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct IncidentRow {
    pub reference: String,
    /// What kind of incident, marked when it is an exercise.
    pub title: String,
    pub org_name: String,
    pub status: IncidentStatus,
    pub level: IncidentLevel,
    #[serde(with = "time::serde::rfc3339")]
    pub declared_at: OffsetDateTime,
    /// The viewer declared it or has a task in it.
    pub mine: bool,
}

impl IncidentRow {
    /// Still being handled: not closed or stood down.
    pub fn open(&self) -> bool {
        self.status.open()
    }
}

/// One incident's timeline, checked: whether its hash chain is whole, and what was found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TimelineCheck {
    pub reference: String,
    pub whole: bool,
    pub found: String,
}

/// One incident's open tasks for one person, as "My tasks" lists them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct WorkItem {
    pub reference: String,
    /// What kind of incident, marked when it is an exercise.
    pub title: String,
    pub exercise: bool,
    pub level: IncidentLevel,
    pub org_name: String,
    #[serde(with = "time::serde::rfc3339")]
    pub declared_at: OffsetDateTime,
    /// When the first of these tasks falls due.
    #[serde(with = "time::serde::rfc3339")]
    pub first_due: OffsetDateTime,
    pub tasks: Vec<TaskView>,
}

impl WorkItem {
    /// How many of these tasks are past their time.
    pub fn overdue(&self) -> usize {
        self.tasks.iter().filter(|t| t.overdue).count()
    }
}

/// Most urgent first: incidents with overdue tasks, then real incidents before exercises,
/// the highest level, the task due soonest, and the newest.
pub fn most_urgent_first(items: &mut [WorkItem]) {
    items.sort_by(|a, b| {
        (b.overdue() > 0)
            .cmp(&(a.overdue() > 0))
            .then(a.exercise.cmp(&b.exercise))
            .then(b.level.rank().cmp(&a.level.rank()))
            .then(a.first_due.cmp(&b.first_due))
            .then(b.declared_at.cmp(&a.declared_at))
            .then(a.reference.cmp(&b.reference))
    });
}

/// One line of an incident's timeline as its page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TimelineEntry {
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub detail: String,
}

/// Another organisation an incident affects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AffectedOrg {
    /// The ODS code.
    pub code: String,
    pub name: String,
}

/// Someone who may be given a command role or own a review action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Candidate {
    pub person_id: i64,
    /// "name, role at organisation".
    pub label: String,
}

/// The supplier incident an incident was opened from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ParentIncident {
    pub reference: String,
    /// The supplier's name.
    pub org_name: String,
}

/// An incident as its page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
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
    /// Who was paged about each task, how, when, and whether it reached them.
    pub paging: Vec<PageRow>,
    /// How to reach the organisation's data protection officer (for the ICO report).
    #[serde(default)]
    pub dpo_contact: Option<String>,
}

/// One message Wardline sent (or is sending) about a task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PageRow {
    pub task_id: i64,
    pub task: String,
    /// The person, an external contact, or the organisation's channel.
    pub who: String,
    /// "Text message", "Email", "In Wardline", "Channel".
    pub how: String,
    /// 0: when the task was given; 1 and on: the escalation level.
    pub level: i32,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// Where the message is: delivered, waiting, retrying, failed (with why).
    pub status: String,
    /// The task has been acknowledged (or taken further) since.
    pub acknowledged: bool,
}

/// A command role in one incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct LinkedView {
    pub reference: String,
    pub org_name: String,
    pub status: IncidentStatus,
    pub tasks_done: usize,
    pub tasks_total: usize,
}

/// What UK GDPR Article 33(3) asks a breach report to hold, from the latest DSPT grading.
fn article_33(v: &IncidentView, out: &mut Vec<String>) {
    out.push(String::new());
    out.push("The breach (UK GDPR Article 33(3)):".into());
    let grading = v
        .clocks
        .iter()
        .find(|c| c.body == "ico")
        .and_then(|c| c.grading.as_ref());
    let Some(g) = grading else {
        out.push(
            "- Not graded yet: grade likelihood and severity in Wardline to fill this in.".into(),
        );
        return;
    };
    let count = |n: u32| {
        if n == 0 {
            "not known yet".to_owned()
        } else {
            format!("about {n}")
        }
    };
    out.push(format!("- Nature of the breach: {}", or_none(&g.nature)));
    out.push(format!(
        "- People concerned: {}; {}; records concerned: {}",
        or_none(&g.categories),
        count(g.people),
        count(g.records)
    ));
    out.push(format!(
        "- Data protection officer or contact point: {}",
        v.dpo_contact
            .as_deref()
            .unwrap_or("no data protection officer is named in Wardline for this organisation")
    ));
    out.push(format!(
        "- Likely consequences: {}",
        or_none(&g.consequences)
    ));
    out.push(format!(
        "- Measures taken or proposed: {}",
        or_none(&g.measures)
    ));
    out.push(format!("- Grade: {}", g.meaning()));
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
            "Reported: {}{} at {}, reference {}",
            c.label.split(':').next().unwrap_or(&c.label),
            c.report_purpose
                .as_deref()
                .map(|p| format!(" ({p})"))
                .unwrap_or_default(),
            c.reported_at.as_deref().unwrap_or_default(),
            c.report_reference.as_deref().unwrap_or_default()
        ));
    }
    if v.personal_data {
        article_33(v, &mut out);
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

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn task(id: i64, reference: &str, overdue: bool) -> TaskView {
        TaskView {
            id,
            incident_reference: reference.into(),
            position: 1,
            phase: Phase::Triage,
            title: "Confirm the scope".into(),
            instructions: String::new(),
            required: true,
            owner_role: "cyber_lead".into(),
            assignee: Some("Owen Fraser".into()),
            routing: String::new(),
            state: TaskState::Open,
            due_at: String::new(),
            overdue,
            note: None,
            mine: true,
            can_act: true,
        }
    }

    fn item(
        reference: &str,
        level: IncidentLevel,
        exercise: bool,
        overdue: bool,
        due: OffsetDateTime,
    ) -> WorkItem {
        WorkItem {
            reference: reference.into(),
            title: "Ransomware".into(),
            exercise,
            level,
            org_name: "Stockwell Group Practice".into(),
            declared_at: datetime!(2026-11-30 03:00 UTC),
            first_due: due,
            tasks: vec![task(1, reference, overdue), task(2, reference, false)],
        }
    }

    #[test]
    fn the_worklist_puts_overdue_then_real_then_higher_level_then_soonest_due_first() {
        let soon = datetime!(2026-11-30 03:15 UTC);
        let later = datetime!(2026-11-30 04:00 UTC);
        let mut items = vec![
            item("EXERCISE-MAJOR", IncidentLevel::Major, true, false, soon),
            item(
                "BC-LATER",
                IncidentLevel::BusinessContinuity,
                false,
                false,
                later,
            ),
            item(
                "BC-SOON",
                IncidentLevel::BusinessContinuity,
                false,
                false,
                soon,
            ),
            item("CRITICAL", IncidentLevel::Critical, false, false, later),
            item(
                "OVERDUE-BC",
                IncidentLevel::BusinessContinuity,
                false,
                true,
                later,
            ),
        ];
        most_urgent_first(&mut items);
        let order: Vec<&str> = items.iter().map(|i| i.reference.as_str()).collect();
        assert_eq!(
            order,
            [
                "OVERDUE-BC",
                "CRITICAL",
                "BC-SOON",
                "BC-LATER",
                "EXERCISE-MAJOR"
            ]
        );
        assert_eq!(items[0].overdue(), 1);
        assert_eq!(items[1].overdue(), 0);
    }
}
