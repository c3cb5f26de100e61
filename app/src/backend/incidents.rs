//! Incidents: declaring one instantiates the runbook version in force into tasks, in one
//! transaction; each task goes to the current holder of its role in the organisation, else
//! the deputy, else up the tree, and every fallback is written down. Task changes are
//! conditional updates, so two people acting at once get one outcome.

use std::collections::HashMap;

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait,
    QueryFilter, QueryOrder, Set, TransactionTrait,
};
use time::{Duration, OffsetDateTime};

use super::access::{self, User};
use super::assignments::in_force_at;
use super::entity::{
    assignment, incident, incident_event, organisation, person, role, runbook, runbook_step, task,
};
use super::{audit, orgs};
use crate::domain::incidents::{
    Clock, IncidentKind, IncidentLevel, IncidentStatus, IncidentView, PatientsAffected, Phase,
    TaskState, TaskView, clocks, default_library,
};
use crate::domain::org::OrgKind;
use crate::error::AppError;

fn fmt(t: OffsetDateTime) -> String {
    t.format(time::macros::format_description!(
        "[day padding:none] [month repr:short] [year] [hour]:[minute] UTC"
    ))
    .unwrap_or_default()
}

/// Adds version 1 of the national default runbook for any kind that has none.
pub async fn seed_runbooks(db: &impl ConnectionTrait) -> Result<usize, AppError> {
    let mut added = 0;
    for (kind, steps) in default_library() {
        let exists = runbook::Entity::find()
            .filter(runbook::Column::Kind.eq(kind.as_str()))
            .filter(runbook::Column::OrgId.is_null())
            .one(db)
            .await?
            .is_some();
        if exists {
            continue;
        }
        let rb = runbook::ActiveModel {
            org_id: Set(None),
            kind: Set(kind.as_str().to_owned()),
            version: Set(1),
            title: Set(format!("{} (national default)", kind.title())),
            created_at: Set(OffsetDateTime::now_utc()),
            created_by: Set(None),
            ..Default::default()
        }
        .insert(db)
        .await?;
        for (i, s) in steps.iter().enumerate() {
            runbook_step::ActiveModel {
                runbook_id: Set(rb.id),
                position: Set(i as i32 + 1),
                phase: Set(s.phase.as_str().to_owned()),
                title: Set(s.title.clone()),
                owner_role: Set(s.owner_role.clone()),
                due_minutes: Set(s.due_minutes),
                instructions: Set(s.instructions.clone()),
                required: Set(s.required),
                depends_on: Set(s
                    .depends_on
                    .iter()
                    .map(i32::to_string)
                    .collect::<Vec<_>>()
                    .join(",")),
                ..Default::default()
            }
            .insert(db)
            .await?;
        }
        added += 1;
    }
    Ok(added)
}

/// The runbook in force for an incident at `org_id`: the latest version of the nearest
/// organisation's own (the organisation, then each ancestor), else the latest national one.
pub async fn runbook_in_force(
    db: &impl ConnectionTrait,
    org_id: i64,
    kind: IncidentKind,
) -> Result<runbook::Model, AppError> {
    let mut chain = vec![org_id];
    chain.extend(orgs::ancestors(db, org_id).await?);
    for org in chain {
        if let Some(rb) = runbook::Entity::find()
            .filter(runbook::Column::Kind.eq(kind.as_str()))
            .filter(runbook::Column::OrgId.eq(org))
            .order_by_desc(runbook::Column::Version)
            .one(db)
            .await?
        {
            return Ok(rb);
        }
    }
    runbook::Entity::find()
        .filter(runbook::Column::Kind.eq(kind.as_str()))
        .filter(runbook::Column::OrgId.is_null())
        .order_by_desc(runbook::Column::Version)
        .one(db)
        .await?
        .ok_or_else(|| super::errors::internal("runbook", &"no national runbook"))
}

/// Who gets a task for `role_key` at `org_id`: the holder, else the deputy, else the same up
/// the tree. Returns (person, organisation where found, how it was routed).
pub async fn route(
    db: &impl ConnectionTrait,
    org_id: i64,
    role_key: &str,
    at: OffsetDateTime,
) -> Result<(Option<i64>, Option<i64>, String), AppError> {
    let Some(role) = role::Entity::find()
        .filter(role::Column::Key.eq(role_key))
        .one(db)
        .await?
    else {
        return Ok((
            None,
            None,
            format!("No role “{role_key}” in the catalogue."),
        ));
    };
    let mut chain = vec![org_id];
    chain.extend(orgs::ancestors(db, org_id).await?);
    let names: HashMap<i64, String> = organisation::Entity::find()
        .filter(organisation::Column::Id.is_in(chain.clone()))
        .all(db)
        .await?
        .into_iter()
        .map(|o| (o.id, o.name))
        .collect();
    let mut notes = Vec::new();
    for org in chain {
        let name = names.get(&org).cloned().unwrap_or_default();
        let holding = assignment::Entity::find()
            .filter(assignment::Column::OrgId.eq(org))
            .filter(assignment::Column::RoleId.eq(role.id))
            .filter(in_force_at(at))
            .one(db)
            .await?;
        if let Some(h) = holding {
            let holder = person::Entity::find_by_id(h.person_id).one(db).await?;
            if holder.as_ref().is_some_and(|p| !p.disabled) {
                notes.push(format!("{} at {name}", role.name));
                return Ok((Some(h.person_id), Some(org), notes.join("; then ")));
            }
            notes.push(format!(
                "the {} at {name} cannot be reached (account disabled)",
                role.name
            ));
            if let Some(d) = h.deputy_id
                && person::Entity::find_by_id(d)
                    .one(db)
                    .await?
                    .is_some_and(|p| !p.disabled)
            {
                notes.push(format!("deputy {} at {name}", role.name));
                return Ok((Some(d), Some(org), notes.join("; so ")));
            }
        } else {
            notes.push(format!("no {} at {name}", role.name));
        }
    }
    notes.push("nobody holds it anywhere above: flagged for national attention".into());
    Ok((None, None, notes.join("; ")))
}

/// What staff tell Wardline when declaring.
#[derive(Debug, Clone)]
pub struct DeclareInput {
    pub org_code: Option<String>,
    pub kind: IncidentKind,
    pub summary: String,
    pub location: String,
    pub patients_affected: PatientsAffected,
    pub systems: String,
    pub personal_data: Option<bool>,
}

fn bounded(raw: &str, what: &str, max: usize, required: bool) -> Result<String, AppError> {
    let v = raw.trim();
    if required && v.is_empty() {
        return Err(AppError::Invalid(format!("Tell us {what}.")));
    }
    if v.chars().count() > max {
        return Err(AppError::Invalid(format!(
            "Keep {what} to {max} characters."
        )));
    }
    Ok(v.to_owned())
}

/// Declares an incident and gives out its tasks. Returns the reference.
#[tracing::instrument(skip_all, err)]
pub async fn declare(
    db: &DatabaseConnection,
    user: &User,
    input: DeclareInput,
) -> Result<String, AppError> {
    let summary = bounded(&input.summary, "what is happening", 2000, false)?;
    let location = bounded(&input.location, "where it is happening", 200, true)?;
    let systems = bounded(&input.systems, "which systems", 500, false)?;
    let org = match input
        .org_code
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
    {
        Some(code) => orgs::find_by_code(db, code)
            .await?
            .ok_or(AppError::NotFound)?,
        None => {
            let first = user.grants.first().ok_or(AppError::Forbidden)?.0;
            organisation::Entity::find_by_id(first)
                .one(db)
                .await?
                .ok_or(AppError::NotFound)?
        }
    };
    if !access::within(&access::readable_orgs(db, user).await?, org.id) {
        return Err(AppError::NotFound);
    }
    let now = OffsetDateTime::now_utc();
    let personal_data = input
        .personal_data
        .unwrap_or(input.kind == IncidentKind::DataBreach);
    let reference = format!(
        "WL-{}-{}",
        now.format(time::macros::format_description!("[year][month][day]"))
            .unwrap_or_default(),
        &super::tokens::new_token()[..6]
            .to_uppercase()
            .replace(['-', '_'], "X")
    );

    let txn = db.begin().await?;
    let rb = runbook_in_force(&txn, org.id, input.kind).await?;
    let inc = incident::ActiveModel {
        reference: Set(reference.clone()),
        org_id: Set(org.id),
        kind: Set(input.kind.as_str().to_owned()),
        level: Set(IncidentLevel::BusinessContinuity.as_str().to_owned()),
        status: Set(IncidentStatus::Declared.as_str().to_owned()),
        summary: Set(summary),
        location: Set(location),
        patients_affected: Set(input.patients_affected.as_str().to_owned()),
        personal_data: Set(personal_data),
        systems: Set(systems),
        declared_by: Set(user.person_id),
        declared_at: Set(now),
        aware_at: Set(now),
        runbook_id: Set(rb.id),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let steps = runbook_step::Entity::find()
        .filter(runbook_step::Column::RunbookId.eq(rb.id))
        .order_by_asc(runbook_step::Column::Position)
        .all(&txn)
        .await?;
    for s in steps {
        let (assignee, found_at, routing) = route(&txn, org.id, &s.owner_role, now).await?;
        task::ActiveModel {
            incident_id: Set(inc.id),
            position: Set(s.position),
            phase: Set(s.phase),
            title: Set(s.title),
            instructions: Set(s.instructions),
            required: Set(s.required),
            owner_role: Set(s.owner_role),
            org_id: Set(found_at),
            assignee_id: Set(assignee),
            routing: Set(routing),
            state: Set(TaskState::Open.as_str().to_owned()),
            due_at: Set(now + Duration::minutes(s.due_minutes.into())),
            acknowledged_at: Set(None),
            started_at: Set(None),
            completed_at: Set(None),
            note: Set(None),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
    }
    event(
        &txn,
        inc.id,
        Some(user.person_id),
        "declared",
        format!(
            "{} declared at {} using {} v{}",
            input.kind.title(),
            org.name,
            rb.title,
            rb.version
        ),
    )
    .await?;
    audit::record(
        &txn,
        audit::Event {
            actor: Some(user.person_id),
            action: "incident_declared",
            org: Some(org.id),
            subject: Some(reference.clone()),
            ..Default::default()
        },
    )
    .await?;
    txn.commit().await?;
    Ok(reference)
}

async fn event(
    db: &impl ConnectionTrait,
    incident_id: i64,
    actor: Option<i64>,
    kind: &str,
    detail: String,
) -> Result<(), AppError> {
    incident_event::ActiveModel {
        incident_id: Set(incident_id),
        at: Set(OffsetDateTime::now_utc()),
        actor_id: Set(actor),
        kind: Set(kind.to_owned()),
        detail: Set(detail),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

async fn find_readable(
    db: &impl ConnectionTrait,
    user: &User,
    reference: &str,
) -> Result<incident::Model, AppError> {
    let inc = incident::Entity::find()
        .filter(incident::Column::Reference.eq(reference.trim()))
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    if !access::within(&access::readable_orgs(db, user).await?, inc.org_id) {
        return Err(AppError::NotFound);
    }
    Ok(inc)
}

async fn task_views(
    db: &impl ConnectionTrait,
    user: &User,
    tasks: Vec<task::Model>,
    refs: &HashMap<i64, String>,
) -> Result<Vec<TaskView>, AppError> {
    let ids: Vec<i64> = tasks.iter().filter_map(|t| t.assignee_id).collect();
    let people: HashMap<i64, String> = person::Entity::find()
        .filter(person::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.id, p.display_name))
        .collect();
    let now = OffsetDateTime::now_utc();
    Ok(tasks
        .into_iter()
        .map(|t| {
            let state = TaskState::parse(&t.state).unwrap_or(TaskState::Open);
            TaskView {
                id: t.id,
                incident_reference: refs.get(&t.incident_id).cloned().unwrap_or_default(),
                position: t.position,
                phase: Phase::parse(&t.phase).unwrap_or(Phase::Triage),
                title: t.title,
                instructions: t.instructions,
                required: t.required,
                owner_role: t.owner_role,
                assignee: t.assignee_id.and_then(|a| people.get(&a).cloned()),
                routing: t.routing,
                overdue: matches!(
                    state,
                    TaskState::Open | TaskState::Acknowledged | TaskState::InProgress
                ) && now > t.due_at,
                state,
                due_at: fmt(t.due_at),
                note: t.note,
                mine: t.assignee_id == Some(user.person_id),
            }
        })
        .collect())
}

pub async fn view(
    db: &impl ConnectionTrait,
    user: &User,
    reference: &str,
) -> Result<IncidentView, AppError> {
    let inc = find_readable(db, user, reference).await?;
    let org = organisation::Entity::find_by_id(inc.org_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let tasks = task::Entity::find()
        .filter(task::Column::IncidentId.eq(inc.id))
        .order_by_asc(task::Column::Position)
        .all(db)
        .await?;
    let refs = HashMap::from([(inc.id, inc.reference.clone())]);
    let tasks = task_views(db, user, tasks, &refs).await?;
    let mut told: Vec<String> = tasks.iter().filter_map(|t| t.assignee.clone()).collect();
    told.sort();
    told.dedup();
    let declared_by = person::Entity::find_by_id(inc.declared_by)
        .one(db)
        .await?
        .map(|p| p.display_name)
        .unwrap_or_default();
    let rb = runbook::Entity::find_by_id(inc.runbook_id).one(db).await?;
    let kind = IncidentKind::parse(&inc.kind).unwrap_or(IncidentKind::SystemDown);
    let now = OffsetDateTime::now_utc();
    let oes = matches!(org.summary().kind, OrgKind::Trust | OrgKind::Icb);
    let clocks = clocks(inc.aware_at, now, inc.personal_data, oes)
        .into_iter()
        .map(|(body, label, due, overdue)| Clock {
            body: body.into(),
            label: label.into(),
            due_at: fmt(due),
            applies: body == "csoc"
                || (body == "ico" && inc.personal_data)
                || (body == "nis" && oes),
            overdue,
            minutes_left: (due - now).whole_minutes(),
        })
        .collect();
    let timeline = incident_event::Entity::find()
        .filter(incident_event::Column::IncidentId.eq(inc.id))
        .order_by_asc(incident_event::Column::At)
        .all(db)
        .await?
        .into_iter()
        .map(|e| (fmt(e.at), e.detail))
        .collect();
    Ok(IncidentView {
        reference: inc.reference,
        org_code: org.code,
        org_name: org.name,
        kind,
        level: IncidentLevel::parse(&inc.level).unwrap_or(IncidentLevel::BusinessContinuity),
        status: IncidentStatus::parse(&inc.status).unwrap_or(IncidentStatus::Declared),
        summary: inc.summary,
        location: inc.location,
        patients_affected: PatientsAffected::parse(&inc.patients_affected)
            .unwrap_or(PatientsAffected::Unknown),
        personal_data: inc.personal_data,
        systems: inc.systems,
        declared_by,
        declared_at: fmt(inc.declared_at),
        aware_at: fmt(inc.aware_at),
        runbook: rb
            .map(|r| format!("{} (version {})", r.title, r.version))
            .unwrap_or_default(),
        tasks,
        first_steps: kind.first_steps().iter().map(|s| (*s).to_owned()).collect(),
        told,
        clocks,
        timeline,
    })
}

/// The caller's open tasks across incidents.
pub async fn my_tasks(db: &impl ConnectionTrait, user: &User) -> Result<Vec<TaskView>, AppError> {
    let tasks = task::Entity::find()
        .filter(task::Column::AssigneeId.eq(user.person_id))
        .filter(task::Column::State.is_in([
            TaskState::Open.as_str(),
            TaskState::Acknowledged.as_str(),
            TaskState::InProgress.as_str(),
        ]))
        .order_by_asc(task::Column::DueAt)
        .all(db)
        .await?;
    let ids: Vec<i64> = tasks.iter().map(|t| t.incident_id).collect();
    let refs: HashMap<i64, String> = incident::Entity::find()
        .filter(incident::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|i| (i.id, i.reference))
        .collect();
    task_views(db, user, tasks, &refs).await
}

/// What can be done to a task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskAction {
    Acknowledge,
    Start,
    Complete { note: String },
    NotApplicable { reason: String },
    Reassign { to_email: String, reason: String },
}

/// Acts on a task. The change is one conditional update: it only happens if the task is
/// still in a state the action applies to, so of two people acting at once one wins and
/// the other is told it has moved on.
#[tracing::instrument(skip_all, err)]
pub async fn act(
    db: &DatabaseConnection,
    user: &User,
    task_id: i64,
    action: TaskAction,
) -> Result<String, AppError> {
    let t = task::Entity::find_by_id(task_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let inc = incident::Entity::find_by_id(t.incident_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    if !access::within(&access::readable_orgs(db, user).await?, inc.org_id) {
        return Err(AppError::NotFound);
    }
    let admin = access::within(&access::administered_orgs(db, user).await?, inc.org_id);
    if t.assignee_id != Some(user.person_id) && !admin {
        return Err(AppError::Forbidden);
    }
    if user.is_read_only_user() {
        return Err(AppError::Forbidden);
    }
    let now = OffsetDateTime::now_utc();
    use TaskState::*;
    let live = [Open.as_str(), Acknowledged.as_str(), InProgress.as_str()];
    let mut q = task::Entity::update_many()
        .filter(task::Column::Id.eq(t.id))
        .col_expr(task::Column::UpdatedAt, Expr::value(now));
    let (from, detail): (Vec<&str>, String) = match &action {
        TaskAction::Acknowledge => {
            q = q
                .col_expr(task::Column::State, Expr::value(Acknowledged.as_str()))
                .col_expr(task::Column::AcknowledgedAt, Expr::value(now));
            (vec![Open.as_str()], format!("“{}” acknowledged", t.title))
        }
        TaskAction::Start => {
            q = q
                .col_expr(task::Column::State, Expr::value(InProgress.as_str()))
                .col_expr(task::Column::StartedAt, Expr::value(now));
            if t.acknowledged_at.is_none() {
                q = q.col_expr(task::Column::AcknowledgedAt, Expr::value(now));
            }
            (
                vec![Open.as_str(), Acknowledged.as_str()],
                format!("“{}” started", t.title),
            )
        }
        TaskAction::Complete { note } => {
            let note = bounded(note, "what was done", 4000, true)?;
            q = q
                .col_expr(task::Column::State, Expr::value(Done.as_str()))
                .col_expr(task::Column::CompletedAt, Expr::value(now))
                .col_expr(task::Column::Note, Expr::value(note.clone()));
            (live.to_vec(), format!("“{}” done: {note}", t.title))
        }
        TaskAction::NotApplicable { reason } => {
            let reason = bounded(reason, "why it does not apply", 1000, true)?;
            q = q
                .col_expr(task::Column::State, Expr::value(NotApplicable.as_str()))
                .col_expr(task::Column::Note, Expr::value(reason.clone()));
            (
                live.to_vec(),
                format!("“{}” marked not applicable: {reason}", t.title),
            )
        }
        TaskAction::Reassign { to_email, reason } => {
            let reason = bounded(reason, "why it is reassigned", 1000, true)?;
            let to = super::people::find_by_email(db, to_email)
                .await?
                .filter(|p| !p.disabled)
                .ok_or_else(|| {
                    AppError::Invalid("Nobody with that email can take the task.".into())
                })?;
            q = q
                .col_expr(task::Column::AssigneeId, Expr::value(to.id))
                .col_expr(task::Column::State, Expr::value(Open.as_str()))
                .col_expr(
                    task::Column::AcknowledgedAt,
                    Expr::value(Option::<OffsetDateTime>::None),
                )
                .col_expr(
                    task::Column::Routing,
                    Expr::value(format!(
                        "reassigned to {} by {}: {reason}",
                        to.display_name, user.name
                    )),
                );
            (
                live.to_vec(),
                format!("“{}” reassigned to {}: {reason}", t.title, to.display_name),
            )
        }
    };
    let txn = db.begin().await?;
    let changed = q
        .filter(task::Column::State.is_in(from))
        .filter(match t.assignee_id {
            Some(a) => Condition::all().add(task::Column::AssigneeId.eq(a)),
            None => Condition::all().add(task::Column::AssigneeId.is_null()),
        })
        .exec(&txn)
        .await?;
    if changed.rows_affected != 1 {
        return Err(AppError::Conflict(
            "Someone else has already moved this task on. Reload to see where it stands.".into(),
        ));
    }
    event(
        &txn,
        inc.id,
        Some(user.person_id),
        "task",
        format!("{detail} ({})", user.name),
    )
    .await?;
    audit::record(
        &txn,
        audit::Event {
            actor: Some(user.person_id),
            action: "task_changed",
            org: Some(inc.org_id),
            subject: Some(inc.reference.clone()),
            detail: Some(detail),
            ..Default::default()
        },
    )
    .await?;
    txn.commit().await?;
    Ok(inc.reference)
}

/// Incidents the caller may see, newest first: (reference, title, organisation, status, declared).
pub async fn list(
    db: &impl ConnectionTrait,
    user: &User,
) -> Result<Vec<(String, String, String, String, String)>, AppError> {
    let scope = access::readable_orgs(db, user).await?;
    let mut q = incident::Entity::find().order_by_desc(incident::Column::DeclaredAt);
    if let Some(ids) = &scope {
        q = q.filter(incident::Column::OrgId.is_in(ids.iter().copied().collect::<Vec<_>>()));
    }
    let rows = q.all(db).await?;
    let orgs: HashMap<i64, String> = organisation::Entity::find()
        .filter(organisation::Column::Id.is_in(rows.iter().map(|r| r.org_id).collect::<Vec<_>>()))
        .all(db)
        .await?
        .into_iter()
        .map(|o| (o.id, o.name))
        .collect();
    Ok(rows
        .into_iter()
        .map(|r| {
            let kind = IncidentKind::parse(&r.kind)
                .map(|k| k.title())
                .unwrap_or("Incident");
            (
                r.reference,
                kind.to_owned(),
                orgs.get(&r.org_id).cloned().unwrap_or_default(),
                r.status,
                fmt(r.declared_at),
            )
        })
        .collect())
}

/// Changes an incident's level and/or status, with a reason on the timeline. Leads and
/// admins over the incident's organisation may; staff and regulators may not.
pub async fn change(
    db: &DatabaseConnection,
    user: &User,
    reference: &str,
    level: Option<IncidentLevel>,
    status: Option<IncidentStatus>,
    reason: &str,
) -> Result<(), AppError> {
    use crate::domain::auth::AccessRole;
    let reason = bounded(reason, "why it changes", 1000, true)?;
    let inc = find_readable(db, user, reference).await?;
    let leads: Vec<i64> = user
        .grants
        .iter()
        .filter(|(_, r)| {
            matches!(
                r,
                AccessRole::Lead | AccessRole::OrgAdmin | AccessRole::NationalAdmin
            )
        })
        .map(|(o, _)| *o)
        .collect();
    let may = user.is_national_admin() || access::subtree(db, &leads).await?.contains(&inc.org_id);
    if !may || user.is_read_only_user() {
        return Err(AppError::Forbidden);
    }
    if level.is_none() && status.is_none() {
        return Err(AppError::Invalid("Choose a new level or status.".into()));
    }
    let mut detail = Vec::new();
    let mut q = incident::Entity::update_many()
        .filter(incident::Column::Id.eq(inc.id))
        // Only from what the person saw: a change made meanwhile by someone else wins.
        .filter(incident::Column::Level.eq(inc.level.clone()))
        .filter(incident::Column::Status.eq(inc.status.clone()))
        .col_expr(
            incident::Column::UpdatedAt,
            Expr::value(OffsetDateTime::now_utc()),
        );
    if let Some(l) = level {
        q = q.col_expr(incident::Column::Level, Expr::value(l.as_str()));
        detail.push(format!(
            "level {} → {}",
            inc.level.replace('_', " "),
            l.as_str().replace('_', " ")
        ));
    }
    if let Some(s) = status {
        q = q.col_expr(incident::Column::Status, Expr::value(s.as_str()));
        detail.push(format!(
            "status {} → {}",
            inc.status.replace('_', " "),
            s.as_str().replace('_', " ")
        ));
    }
    let txn = db.begin().await?;
    if q.exec(&txn).await?.rows_affected != 1 {
        return Err(AppError::Conflict(
            "Someone else changed this incident just now. Reload to see it.".into(),
        ));
    }
    let detail = format!("{}: {reason} ({})", detail.join(", "), user.name);
    event(
        &txn,
        inc.id,
        Some(user.person_id),
        "changed",
        detail.clone(),
    )
    .await?;
    audit::record(
        &txn,
        audit::Event {
            actor: Some(user.person_id),
            action: "incident_changed",
            org: Some(inc.org_id),
            subject: Some(inc.reference.clone()),
            detail: Some(detail),
            ..Default::default()
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::{db, demo};
    use migrations::{Migrator, MigratorTrait};

    #[tokio::test]
    async fn the_national_library_is_seeded_once_and_found_for_any_organisation() {
        let conn = db::connect("sqlite::memory:").await.unwrap();
        Migrator::up(&conn, None).await.unwrap();
        demo::load(&conn).await.unwrap();
        assert_eq!(seed_runbooks(&conn).await.unwrap(), IncidentKind::ALL.len());
        assert_eq!(seed_runbooks(&conn).await.unwrap(), 0);
        let practice = orgs::find_by_code(&conn, "G85028").await.unwrap().unwrap();
        let rb = runbook_in_force(&conn, practice.id, IncidentKind::Ransomware)
            .await
            .unwrap();
        assert_eq!((rb.org_id, rb.version), (None, 1));
    }
}
