//! What the API changes: declaring an incident, acknowledging and completing tasks. Only a
//! token made for writing may, and never a regulator's.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use app::backend::state::AppState;
use app::domain::incidents::{IncidentKind, PatientsAffected, TaskAction};
use app::error::AppError;

use super::{Caller, Json, Problem, json};

/// A declaration, as the declaration form takes it.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Declaration {
    /// The organisation declaring (an ODS code); the holder's own when they have one.
    pub org: Option<String>,
    pub kind: IncidentKind,
    /// Where it is happening (a site, a ward).
    pub location: String,
    pub patients_affected: PatientsAffected,
    pub summary: Option<String>,
    pub systems: Option<String>,
    /// Whether personal data is involved, when known.
    pub personal_data: Option<bool>,
}

/// A declared incident.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Declared {
    pub reference: String,
    /// Where to read it.
    pub href: String,
}

/// Declares an incident: its runbook's tasks go to the people holding each role, who are
/// paged and escalated past as if it had been declared on the page.
#[utoipa::path(post, path = "/api/v1/incidents", tag = "incidents", request_body = Declaration,
    responses((status = 201, body = Declared), (status = "4XX", body = Problem)),
    security(("token" = [])))]
pub async fn declare(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Json(d): Json<Declaration>,
) -> Result<Response, Problem> {
    let user = caller.writer()?;
    state.limits.action(user.person_id, "declare").await?;
    let input = app::backend::incidents::DeclareInput {
        org_code: d.org,
        kind: d.kind,
        summary: d.summary.unwrap_or_default(),
        location: d.location,
        patients_affected: d.patients_affected,
        systems: d.systems.unwrap_or_default(),
        personal_data: d.personal_data,
        assets: Vec::new(),
        exercise: None,
    };
    let declared = state.declarations.declare(&state.db, user, input).await?;
    let reference = declared.reference.clone();
    state.publish_declared(declared);
    let mut res = json(&Declared {
        href: format!("/api/v1/incidents/{reference}"),
        reference,
    });
    *res.status_mut() = StatusCode::CREATED;
    Ok(res)
}

/// A note with a task's change.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskNote {
    pub note: Option<String>,
}

async fn act(
    state: &AppState,
    caller: &Caller,
    id: i64,
    action: TaskAction,
    note: Option<String>,
) -> Result<Response, Problem> {
    let user = caller.0.writer()?;
    let reference = app::backend::incidents::act_paging(
        &state.db,
        user,
        id,
        action,
        note.as_deref().unwrap_or_default(),
        "",
        state.declarations.channels(),
    )
    .await?;
    state.declarations.pages_written();
    state.publish(&reference).await;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The note of a task change: the body is optional, and when sent it is a `TaskNote`.
fn optional_note(body: &[u8]) -> Result<Option<String>, Problem> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    serde_json::from_slice::<TaskNote>(body)
        .map(|n| n.note)
        .map_err(|_| {
            Problem::new(
                400,
                "The body is not a task note: send {\"note\": \"…\"}, or nothing.",
            )
        })
}

/// Acknowledges a task: its holder has seen it, and escalation past them stops.
#[utoipa::path(post, path = "/api/v1/tasks/{id}/acknowledge", tag = "tasks",
    params(("id" = i64, Path, description = "The task's id")), request_body(content = Option<TaskNote>),
    responses((status = 204), (status = "4XX", body = Problem)),
    security(("token" = [])))]
pub async fn acknowledge(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, Problem> {
    let id = task_id(&id)?;
    act(
        &state,
        &caller,
        id,
        TaskAction::Acknowledge,
        optional_note(&body)?,
    )
    .await
}

/// Completes a task, with an optional note of what was done.
#[utoipa::path(post, path = "/api/v1/tasks/{id}/complete", tag = "tasks",
    params(("id" = i64, Path, description = "The task's id")), request_body(content = Option<TaskNote>),
    responses((status = 204), (status = "4XX", body = Problem)),
    security(("token" = [])))]
pub async fn complete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, Problem> {
    let id = task_id(&id)?;
    act(
        &state,
        &caller,
        id,
        TaskAction::Complete,
        optional_note(&body)?,
    )
    .await
}

fn task_id(raw: &str) -> Result<i64, Problem> {
    raw.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| AppError::NotFound.into())
}
