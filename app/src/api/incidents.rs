//! Declaring incidents and working their tasks.

use leptos::prelude::*;

use crate::domain::incidents::{IncidentView, TaskView};
use crate::error::AppError;

/// Declares an incident. As a plain form post it redirects to the incident's page.
#[server(endpoint = "incidents/declare")]
pub async fn declare_incident(
    kind: String,
    location: String,
    patients_affected: String,
    summary: Option<String>,
    systems: Option<String>,
    personal_data: Option<String>,
    org_code: Option<String>,
) -> Result<String, AppError> {
    crate::backend::http::respond(
        async {
            use crate::domain::incidents::{IncidentKind, PatientsAffected};
            let state = crate::backend::state::current()?;
            let user = crate::backend::access::require_user(&state).await?;
            state.limits.action(user.person_id, "declare")?;
            let kind = IncidentKind::parse(&kind)
                .ok_or_else(|| AppError::Invalid("Choose what is happening.".into()))?;
            let patients = PatientsAffected::parse(&patients_affected).ok_or_else(|| {
                AppError::Invalid("Say whether patients are affected right now.".into())
            })?;
            let input = crate::backend::incidents::DeclareInput {
                org_code,
                kind,
                summary: summary.unwrap_or_default(),
                location,
                patients_affected: patients,
                systems: systems.unwrap_or_default(),
                personal_data: personal_data.map(|v| v == "yes" || v == "on"),
            };
            let reference = crate::backend::incidents::declare(&state.db, &user, input).await?;
            state.publish(&reference).await;
            leptos_axum::redirect(&format!("/incidents/{reference}"));
            Ok(reference)
        }
        .await,
    )
}

#[server(endpoint = "incidents/get")]
pub async fn get_incident(reference: String) -> Result<IncidentView, AppError> {
    crate::backend::http::respond(
        async {
            let state = crate::backend::state::current()?;
            let user = crate::backend::access::require_user(&state).await?;
            crate::backend::incidents::view(&state.db, &user, &reference).await
        }
        .await,
    )
}

/// (reference, kind, organisation, status, declared)
#[server(endpoint = "incidents/list")]
pub async fn list_incidents() -> Result<Vec<(String, String, String, String, String)>, AppError> {
    crate::backend::http::respond(
        async {
            let state = crate::backend::state::current()?;
            let user = crate::backend::access::require_user(&state).await?;
            crate::backend::incidents::list(&state.db, &user).await
        }
        .await,
    )
}

#[server(endpoint = "tasks/mine")]
pub async fn my_tasks() -> Result<Vec<TaskView>, AppError> {
    crate::backend::http::respond(
        async {
            let state = crate::backend::state::current()?;
            let user = crate::backend::access::require_user(&state).await?;
            crate::backend::incidents::my_tasks(&state.db, &user).await
        }
        .await,
    )
}

/// Acts on a task: `action` is acknowledge, start, complete, not_applicable or reassign.
#[server(endpoint = "tasks/act")]
pub async fn act_on_task(
    id: i64,
    action: String,
    note: Option<String>,
    to_email: Option<String>,
) -> Result<(), AppError> {
    crate::backend::http::respond(
        async {
            use crate::backend::incidents::TaskAction;
            let state = crate::backend::state::current()?;
            let user = crate::backend::access::require_user(&state).await?;
            let note = note.unwrap_or_default();
            let action = match action.as_str() {
                "acknowledge" => TaskAction::Acknowledge,
                "start" => TaskAction::Start,
                "complete" => TaskAction::Complete { note },
                "not_applicable" => TaskAction::NotApplicable { reason: note },
                "reassign" => TaskAction::Reassign {
                    to_email: to_email.unwrap_or_default(),
                    reason: note,
                },
                _ => return Err(AppError::Invalid("Unknown action.".into())),
            };
            let reference = crate::backend::incidents::act(&state.db, &user, id, action).await?;
            state.publish(&reference).await;
            Ok(())
        }
        .await,
    )
}

/// Changes an incident's level and/or status; a reason is required.
#[server(endpoint = "incidents/change")]
pub async fn change_incident(
    reference: String,
    level: Option<String>,
    status: Option<String>,
    reason: String,
) -> Result<(), AppError> {
    crate::backend::http::respond(
        async {
            use crate::domain::incidents::{IncidentLevel, IncidentStatus};
            let state = crate::backend::state::current()?;
            let user = crate::backend::access::require_user(&state).await?;
            let level = match level.as_deref().filter(|l| !l.is_empty()) {
                Some(l) => Some(
                    IncidentLevel::parse(l)
                        .ok_or_else(|| AppError::Invalid("Unknown level.".into()))?,
                ),
                None => None,
            };
            let status = match status.as_deref().filter(|s| !s.is_empty()) {
                Some(s) => Some(
                    IncidentStatus::parse(s)
                        .ok_or_else(|| AppError::Invalid("Unknown status.".into()))?,
                ),
                None => None,
            };
            crate::backend::incidents::change(&state.db, &user, &reference, level, status, &reason)
                .await?;
            state.publish(&reference).await;
            Ok(())
        }
        .await,
    )
}
