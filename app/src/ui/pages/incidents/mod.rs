//! Declaring an incident, the incident page with its runbook tasks, the list of incidents
//! and "my tasks". Every form is a plain form post, so a phone without the WebAssembly
//! (or with it still loading) can declare and act.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api::escalation::AcknowledgeCommand;
use crate::api::incidents::{
    ActOnTask, AddAffected, AssessNisImpact, AssignCommand, ChangeIncident, DecideNotReportable,
    DeclareIncident, GradeBreach, LinkAsset, OpenLinked, RecordReport, SetAwareness,
    declare_options, get_incident, list_incidents, my_worklist, verify_timelines,
};
use crate::domain::assets::Support;
use crate::domain::dates::moment;
use crate::domain::incidents::{
    Command, IncidentKind, IncidentLevel, IncidentStatus, IncidentView, PatientsAffected,
    TaskAction, TaskView, transition,
};
use crate::error::AppError;
use crate::ui::components::forms::ErrorSummary;
use crate::ui::components::live::LiveUpdates;
use crate::ui::components::raw_text::TextArea;

mod declare;
mod incident;
mod lists;
mod obligations;
mod print;

pub use declare::DeclarePage;
pub use incident::IncidentPage;
pub use lists::{IncidentsPage, MyTasksPage, TimelinesPage};
pub use print::IncidentPrintPage;

use incident::{Summary, TaskTable};

/// "WL-…: Ransomware", or marked as an exercise.
fn incident_title(i: &IncidentView) -> String {
    match i.exercise {
        Some(e) => format!(
            "EXERCISE {}: {} ({})",
            i.reference,
            i.kind.title(),
            e.label()
        ),
        None => format!("{}: {}", i.reference, i.kind.title()),
    }
}

fn status_label(s: IncidentStatus) -> String {
    let raw = s.as_str().replace('_', " ");
    let mut c = raw.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}
