//! Declaring incidents and working their tasks.

// A server function's arguments are the fields of its form, as a plain form post sends
// them; the declaration form has eight, and the macro also generates the client side.
#![allow(clippy::too_many_arguments)]

use leptos::prelude::*;

use crate::domain::incidents::{IncidentRow, IncidentView, TaskAction, TaskView};
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
    assets: Option<Vec<i64>>,
) -> Result<String, AppError> {
    crate::backend::http::respond(
        async {
            use crate::domain::incidents::{IncidentKind, PatientsAffected};
            let (state, user) = crate::backend::caller::caller().await?;
            state.limits.action(user.person_id, "declare").await?;
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
                assets: assets.unwrap_or_default(),
                exercise: None,
            };
            let declared = state.declarations.declare(&state.db, &user, input).await?;
            let reference = declared.reference.clone();
            state.publish_declared(declared);
            crate::backend::http::redirect(&format!("/incidents/{reference}"));
            Ok(reference)
        }
        .await,
    )
}

#[server(endpoint = "incidents/get")]
pub async fn get_incident(reference: String) -> Result<IncidentView, AppError> {
    crate::backend::http::respond(
        async {
            let (state, user) = crate::backend::caller::caller().await?;
            crate::backend::incidents::view(&state.db, &user, &reference).await
        }
        .await,
    )
}

/// One page of the incidents the caller may see (50 a page, from 1; none asked is the
/// first), their own first.
#[server(endpoint = "incidents/list")]
pub async fn list_incidents(
    page: Option<u64>,
) -> Result<crate::domain::listing::Listing<IncidentRow>, AppError> {
    crate::backend::http::respond(
        async {
            let (state, user) = crate::backend::caller::caller().await?;
            crate::backend::incidents::list(&state.db, &user, page.unwrap_or(1)).await
        }
        .await,
    )
}

/// "My tasks" as a worklist: open tasks grouped under their incidents, most urgent first.
#[server(endpoint = "tasks/worklist")]
pub async fn my_worklist() -> Result<Vec<crate::domain::incidents::WorkItem>, AppError> {
    crate::backend::http::respond(
        async {
            let (state, user) = crate::backend::caller::caller().await?;
            crate::backend::incidents::my_worklist(&state.db, &user).await
        }
        .await,
    )
}

#[server(endpoint = "tasks/mine")]
pub async fn my_tasks() -> Result<Vec<TaskView>, AppError> {
    crate::backend::http::respond(
        async {
            let (state, user) = crate::backend::caller::caller().await?;
            crate::backend::incidents::my_tasks(&state.db, &user).await
        }
        .await,
    )
}

/// Acts on a task. A plain form posts `action` as acknowledge, start, complete,
/// not_applicable or reassign (`TaskAction`'s names).
#[server(endpoint = "tasks/act")]
pub async fn act_on_task(
    id: i64,
    action: TaskAction,
    note: Option<String>,
    to_email: Option<String>,
) -> Result<(), AppError> {
    crate::backend::http::respond(
        async {
            let (state, user) = crate::backend::caller::caller().await?;
            let reference = crate::backend::incidents::act_paging(
                &state.db,
                &user,
                id,
                action,
                note.as_deref().unwrap_or_default(),
                to_email.as_deref().unwrap_or_default(),
                state.declarations.channels(),
            )
            .await?;
            state.declarations.pages_written();
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
            let (state, user) = crate::backend::caller::caller().await?;
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

/// Records a report made against an obligation: `body` is one of the ledger's obligations
/// (csoc, ico, nis, mhra, police, commissioner, controller); `purpose`, for the CSOC only,
/// is information or support; `channel` says how it was made.
#[server(endpoint = "incidents/lead/report")]
pub async fn record_report(
    reference: String,
    body: String,
    reported_at: Option<String>,
    their_reference: String,
    purpose: Option<String>,
    channel: Option<String>,
) -> Result<(), AppError> {
    crate::backend::http::respond(
        async {
            let (state, user) = crate::backend::caller::caller().await?;
            crate::backend::incidents::record_report(
                &state.db,
                &user,
                &reference,
                crate::backend::incidents::Report {
                    body: &body,
                    reported_at: reported_at.as_deref(),
                    their_reference: &their_reference,
                    purpose: purpose.as_deref(),
                    channel: channel.as_deref(),
                },
            )
            .await?;
            state.publish(&reference).await;
            Ok(())
        }
        .await,
    )
}

/// Records that an obligation was assessed as not reportable, with the reason.
#[server(endpoint = "incidents/lead/not_reportable")]
pub async fn decide_not_reportable(
    reference: String,
    obligation: String,
    reason: String,
) -> Result<(), AppError> {
    lead_decision(
        reference,
        obligation,
        crate::backend::incidents::Decision::NotReportable(reason),
    )
    .await
}

/// Answers NIS's significant-impact questions: the 72 hours start once the impact is found
/// significant. Checkboxes arrive as "on" or not at all.
#[server(endpoint = "incidents/lead/nis_impact")]
pub async fn assess_nis_impact(
    reference: String,
    service_disrupted: Option<String>,
    people_affected: Option<String>,
    hours: Option<String>,
    area: String,
    significant: String,
) -> Result<(), AppError> {
    use crate::domain::incidents::obligations::Impact;
    let impact = Impact {
        service_disrupted: service_disrupted.is_some_and(|v| !v.is_empty()),
        people_affected: count(people_affected, "how many people are affected")?,
        hours: count(hours, "how many hours it has lasted")?,
        area,
        significant: match significant.as_str() {
            "yes" => true,
            "no" => false,
            _ => {
                return Err(AppError::Invalid(
                    "Say whether the impact is significant.".into(),
                ));
            }
        },
    };
    lead_decision(
        reference,
        "nis".into(),
        crate::backend::incidents::Decision::Impact(impact),
    )
    .await
}

/// Grades a personal-data breach as the DSPT incident reporting tool does, with what UK
/// GDPR Article 33(3) asks the report to hold.
#[server(endpoint = "incidents/lead/dspt_grade")]
pub async fn grade_breach(
    reference: String,
    likelihood: String,
    severity: String,
    nature: String,
    categories: Option<String>,
    people: Option<String>,
    records: Option<String>,
    consequences: Option<String>,
    measures: Option<String>,
) -> Result<(), AppError> {
    use crate::domain::incidents::obligations::Grading;
    let scale = |raw: &str, what: &str| {
        raw.trim()
            .parse::<u8>()
            .map_err(|_| AppError::Invalid(format!("Choose {what}.")))
    };
    let grading = Grading {
        likelihood: scale(&likelihood, "how likely harm is")?,
        severity: scale(&severity, "how severe the harm would be")?,
        nature,
        categories: categories.unwrap_or_default(),
        people: count(people, "how many people are concerned")?,
        records: count(records, "how many records are concerned")?,
        consequences: consequences.unwrap_or_default(),
        measures: measures.unwrap_or_default(),
    };
    lead_decision(
        reference,
        "ico".into(),
        crate::backend::incidents::Decision::Graded(grading),
    )
    .await
}

/// A whole number a person typed; empty is 0 (not known).
#[cfg(feature = "ssr")]
fn count(raw: Option<String>, what: &str) -> Result<u32, AppError> {
    let raw = raw.unwrap_or_default();
    let raw = raw.trim().replace(',', "");
    if raw.is_empty() {
        return Ok(0);
    }
    raw.parse::<u32>()
        .map_err(|_| AppError::Invalid(format!("Give {what} as a whole number.")))
}

#[cfg(feature = "ssr")]
async fn lead_decision(
    reference: String,
    obligation: String,
    decision: crate::backend::incidents::Decision,
) -> Result<(), AppError> {
    crate::backend::http::respond(
        async {
            let (state, user) = crate::backend::caller::caller().await?;
            crate::backend::incidents::decide(&state.db, &user, &reference, &obligation, decision)
                .await?;
            state.publish(&reference).await;
            Ok(())
        }
        .await,
    )
}

/// Sets when the organisation became aware of the incident (UK time, not later than the
/// declaration), with the reason; every reporting clock counts from it.
#[server(endpoint = "incidents/lead/awareness")]
pub async fn set_awareness(
    reference: String,
    aware_at: String,
    reason: String,
) -> Result<(), AppError> {
    crate::backend::http::respond(
        async {
            let (state, user) = crate::backend::caller::caller().await?;
            crate::backend::incidents::set_awareness(
                &state.db, &user, &reference, &aware_at, &reason,
            )
            .await?;
            state.publish(&reference).await;
            Ok(())
        }
        .await,
    )
}

/// Gives a command role (gold, silver, bronze, loggist, comms) to a role holder; an empty
/// person clears it.
#[server(endpoint = "incidents/lead/command")]
pub async fn assign_command(
    reference: String,
    command: String,
    person: Option<String>,
) -> Result<(), AppError> {
    crate::backend::http::respond(
        async {
            use crate::domain::incidents::Command;
            let (state, user) = crate::backend::caller::caller().await?;
            let command = Command::parse(&command)
                .ok_or_else(|| AppError::Invalid("Unknown command role.".into()))?;
            let person = match person.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
                Some(p) => Some(
                    p.parse::<i64>()
                        .map_err(|_| AppError::Invalid("Choose a person from the list.".into()))?,
                ),
                None => None,
            };
            crate::backend::incidents::assign_command(
                &state.db, &user, &reference, command, person,
            )
            .await?;
            state.publish(&reference).await;
            Ok(())
        }
        .await,
    )
}

/// Adds another affected organisation, by ODS code.
#[server(endpoint = "incidents/lead/affect")]
pub async fn add_affected(reference: String, org_code: String) -> Result<(), AppError> {
    crate::backend::http::respond(
        async {
            let (state, user) = crate::backend::caller::caller().await?;
            crate::backend::incidents::add_affected(
                &state.db,
                &user,
                &reference,
                &org_code,
                state.declarations.channels(),
            )
            .await?;
            state.declarations.pages_written();
            state.publish(&reference).await;
            Ok(())
        }
        .await,
    )
}

/// From a supplier's incident, opens linked incidents at the organisations it serves.
#[server(endpoint = "incidents/lead/link")]
pub async fn open_linked(reference: String) -> Result<Vec<String>, AppError> {
    crate::backend::http::respond(
        async {
            let (state, user) = crate::backend::caller::caller().await?;
            let refs = crate::backend::incidents::open_linked(
                &state.db,
                &user,
                &reference,
                &state.declarations,
            )
            .await?;
            state.publish(&reference).await;
            for r in &refs {
                state.publish(r).await;
            }
            Ok(refs)
        }
        .await,
    )
}

/// Checks the hash chain of every timeline the caller administers.
#[server(endpoint = "incidents/verify")]
pub async fn verify_timelines() -> Result<Vec<crate::domain::incidents::TimelineCheck>, AppError> {
    crate::backend::http::respond(
        async {
            let (state, user) = crate::backend::caller::caller().await?;
            Ok(
                crate::backend::incidents::verify_timelines(&state.db, &user)
                    .await?
                    .into_iter()
                    .map(|c| crate::domain::incidents::TimelineCheck {
                        whole: c.result.is_ok(),
                        found: match c.result {
                            Ok(n) => format!("{n} entries, chain whole"),
                            Err(_) => c.finding.describe(),
                        },
                        reference: c.reference,
                    })
                    .collect(),
            )
        }
        .await,
    )
}

/// The declaring organisation's catalogued assets, for the declaration form.
#[server(endpoint = "incidents/declare_options")]
pub async fn declare_options() -> Result<crate::domain::assets::DeclareOptions, AppError> {
    crate::backend::http::respond(
        async {
            let (state, user) = crate::backend::caller::caller().await?;
            crate::backend::assets::declare_options(&state.db, &user).await
        }
        .await,
    )
}

/// Links a catalogued asset to an incident (its leads).
#[server(endpoint = "incidents/lead/asset")]
pub async fn link_asset(reference: String, asset_id: i64) -> Result<(), AppError> {
    crate::backend::http::respond(
        async {
            let (state, user) = crate::backend::caller::caller().await?;
            crate::backend::incidents::link_asset(&state.db, &user, &reference, asset_id).await?;
            state.publish(&reference).await;
            Ok(())
        }
        .await,
    )
}
