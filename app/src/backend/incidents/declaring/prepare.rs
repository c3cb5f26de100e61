//! Building a declaration's rows from its plan: checked and routed, nothing read or written.

use sea_orm::{ActiveModelTrait, ActiveValue::NotSet, EntityTrait, IntoActiveModel, Set, Value};
use time::{Duration, OffsetDateTime};

use crate::backend::access::User;
use crate::backend::paging::Channels;

use crate::backend::entity::{incident, incident_asset, incident_command, task};
use crate::backend::escalation;
use crate::backend::{audit, timeline};
use crate::domain::incidents::{Command, IncidentKind, IncidentLevel, IncidentStatus, TaskState};
use crate::error::AppError;

use crate::backend::incidents::declaring::plan::{Plan, Routed};
use crate::backend::incidents::declaring::{DeclareInput, bounded};

/// One table's new rows, as values for the columns the first row sets (rows built by the
/// same code set the same columns). Built on the declaring request's task, so the writer
/// only fills in ids and sends them.
#[derive(Debug, Default)]
pub(crate) struct Rows {
    pub(crate) table: &'static str,
    pub(crate) columns: Vec<&'static str>,
    pub(crate) values: Vec<Vec<Value>>,
}

impl Rows {
    pub(crate) fn push<A: ActiveModelTrait>(&mut self, mut row: A) -> Result<(), AppError> {
        use sea_orm::{EntityName, IdenStatic, Iterable};
        let first = self.values.is_empty();
        let mut values = Vec::with_capacity(self.columns.len());
        for c in <A::Entity as EntityTrait>::Column::iter() {
            if let Some(v) = row.take(c).into_value() {
                if first {
                    self.columns.push(c.as_str());
                }
                values.push(v);
            }
        }
        if first {
            self.table = A::Entity::default().table_name();
        }
        if values.len() != self.columns.len() {
            return Err(crate::backend::errors::internal(
                "declare",
                &"rows set different columns",
            ));
        }
        self.values.push(values);
        Ok(())
    }

    /// Where `column` is in each row.
    pub(crate) fn at(&self, column: &str) -> Option<usize> {
        self.columns.iter().position(|c| *c == column)
    }

    /// Moves `other`'s rows onto the end of these.
    pub(crate) fn append(&mut self, other: Rows) {
        if self.values.is_empty() {
            self.table = other.table;
            self.columns = other.columns;
        }
        self.values.extend(other.values);
    }
}

/// Sets an id column (when the table has it) in every row to the id `id(row index)` gives.
pub(crate) fn give_ids(
    rows: &mut Rows,
    column: &str,
    mut id: impl FnMut(usize) -> Option<i64>,
) -> Result<(), AppError> {
    let Some(at) = rows.at(column) else {
        return Ok(());
    };
    for (i, row) in rows.values.iter_mut().enumerate() {
        let id =
            id(i).ok_or_else(|| crate::backend::errors::internal("declare", &"ids miscounted"))?;
        row[at] = Value::BigInt(Some(id));
    }
    Ok(())
}

/// What an escalation-tracking row follows: a task or a command role, by position among
/// the declaration's own.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Subject {
    Task(usize),
    Command(usize),
}

/// A declaration read, checked, routed and built into rows, ready to be written: only its
/// ids are still to be given.
#[derive(Debug)]
pub struct Prepared {
    pub(crate) reference: String,
    pub(crate) incident: Rows,
    pub(crate) tasks: Rows,
    pub(crate) commands: Rows,
    /// Escalation tracking for every task and the Gold acknowledgement.
    pub(crate) tracking: Rows,
    pub(crate) tracking_of: Vec<Subject>,
    /// Each assignee's inbox notice, by the position of its task.
    pub(crate) told: Rows,
    pub(crate) told_of: Vec<usize>,
    /// Each assignee's pages by their notification rules, by the position of its task.
    pub(crate) pages: Rows,
    pub(crate) pages_of: Vec<usize>,
    pub(crate) affected: Rows,
    pub(crate) audit: Rows,
    /// The first timeline entry, hashed once the incident's id is known.
    pub(crate) declared_at: OffsetDateTime,
    pub(crate) actor: i64,
    pub(crate) detail: String,
    /// The incident's facts, recorded by the first entry.
    pub(crate) facts: String,
    /// What the plan it was routed by was read under.
    pub(crate) routed: Routed,
    /// Everyone given a task or a command role, once each.
    pub(crate) people: Vec<i64>,
}

pub(crate) fn new_reference(now: OffsetDateTime) -> String {
    format!(
        "WL-{}-{}",
        now.format(time::macros::format_description!("[year][month][day]"))
            .unwrap_or_default(),
        &crate::backend::tokens::new_token()[..8]
            .to_uppercase()
            .replace(['-', '_'], "X")
    )
}

/// Builds a declaration's rows from its plan: checked and routed, nothing read or written.
/// Each assignee is paged by their notification rules on `channels`.
pub(crate) fn prepare(
    actor: &User,
    plan: &Plan,
    input: &DeclareInput,
    parent: Option<i64>,
    channels: Channels,
) -> Result<Prepared, AppError> {
    let summary = bounded(&input.summary, "what is happening", 2000, false)?;
    let location = bounded(&input.location, "where it is happening", 200, true)?;
    let systems = bounded(&input.systems, "which systems", 500, false)?;
    let now = timeline::now();
    let personal_data = input
        .personal_data
        .unwrap_or(input.kind == IncidentKind::DataBreach);
    let reference = new_reference(now);
    let (org, rb) = (&plan.org, &plan.runbook);
    let mut p = Prepared {
        detail: declared_detail(actor, plan, input),
        reference: reference.clone(),
        incident: Rows::default(),
        tasks: Rows::default(),
        commands: Rows::default(),
        tracking: Rows::default(),
        tracking_of: Vec::with_capacity(plan.steps.len() + 1),
        told: Rows::default(),
        told_of: Vec::with_capacity(plan.steps.len()),
        pages: Rows::default(),
        pages_of: Vec::new(),
        affected: Rows::default(),
        audit: Rows::default(),
        declared_at: now,
        actor: actor.person_id,
        facts: timeline::facts_text(&timeline::declared_facts(
            org.id,
            input.kind.as_str(),
            IncidentLevel::BusinessContinuity.as_str(),
            IncidentStatus::Declared.as_str(),
            now,
            now,
            personal_data,
            input.exercise.map(|e| e.as_str()),
        )),
        routed: plan.routed,
        people: Vec::new(),
    };
    p.incident.push(incident_row(
        input,
        Checked {
            reference: reference.clone(),
            summary,
            location,
            systems,
            personal_data,
            org_id: org.id,
            runbook_id: rb.id,
            parent,
            declared_by: actor.person_id,
            at: now,
        },
    ))?;
    add_tasks(&mut p, plan, input.exercise.is_some(), channels, now)?;
    add_commands(&mut p, plan, now)?;
    add_assets(&mut p, &input.assets, actor.person_id, now)?;
    p.people.sort_unstable();
    p.people.dedup();
    p.audit.push(audit::entry(audit::Event {
        actor: Some(actor.person_id),
        action: "incident_declared",
        org: Some(org.id),
        subject: Some(reference),
        ..Default::default()
    }))?;
    Ok(p)
}

/// The first timeline entry's words: what was declared where, by whom, and by which runbook.
fn declared_detail(actor: &User, plan: &Plan, input: &DeclareInput) -> String {
    format!(
        "{}{} declared at {} using {} v{} ({})",
        input
            .exercise
            .map(|e| format!("EXERCISE ({}): ", e.label()))
            .unwrap_or_default(),
        input.kind.title(),
        plan.org.name,
        plan.runbook.title,
        plan.runbook.version,
        actor.name
    )
}

/// A declaration's columns as checked and decided, besides what is taken from the input
/// as it is.
struct Checked {
    reference: String,
    summary: String,
    location: String,
    systems: String,
    personal_data: bool,
    org_id: i64,
    runbook_id: i64,
    parent: Option<i64>,
    declared_by: i64,
    at: OffsetDateTime,
}

/// The incident's row: declared now, at business-continuity level.
fn incident_row(input: &DeclareInput, f: Checked) -> incident::ActiveModel {
    incident::ActiveModel {
        id: Set(0),
        reference: Set(f.reference),
        org_id: Set(f.org_id),
        kind: Set(input.kind.as_str().to_owned()),
        level: Set(IncidentLevel::BusinessContinuity),
        status: Set(IncidentStatus::Declared),
        summary: Set(f.summary),
        location: Set(f.location),
        patients_affected: Set(input.patients_affected.as_str().to_owned()),
        personal_data: Set(f.personal_data),
        systems: Set(f.systems),
        declared_by: Set(f.declared_by),
        declared_at: Set(f.at),
        aware_at: Set(f.at),
        runbook_id: Set(f.runbook_id),
        updated_at: Set(f.at),
        parent_id: Set(f.parent),
        exercise: Set(input.exercise.map(|e| e.as_str().to_owned())),
    }
}

/// The runbook's steps as tasks, each routed to its holder and tracked for escalation from
/// now on, and one inbox notice per assignee for all of theirs, with the pages their
/// notification rules ask for.
fn add_tasks(
    p: &mut Prepared,
    plan: &Plan,
    exercise: bool,
    channels: Channels,
    now: OffsetDateTime,
) -> Result<(), AppError> {
    let org = &plan.org;
    let reference = p.reference.clone();
    // Every task escalates from now on.
    let mut tasks = Vec::with_capacity(plan.steps.len());
    for (k, s) in plan.steps.iter().enumerate() {
        let (assignee, found_at, routing) = plan.router.route(&s.owner_role);
        let due = now + Duration::minutes(s.due_minutes.into());
        let t = task::Model {
            id: 0,
            incident_id: 0,
            position: s.position,
            phase: s.phase.clone(),
            title: s.title.clone(),
            instructions: s.instructions.clone(),
            required: s.required,
            owner_role: s.owner_role.clone(),
            org_id: found_at,
            assignee_id: assignee,
            routing,
            state: TaskState::Open,
            due_at: due,
            acknowledged_at: None,
            started_at: None,
            completed_at: None,
            note: None,
            updated_at: now,
        };
        p.tracking.push(escalation::tracking(
            escalation::TASK,
            0,
            0,
            org.id,
            escalation::first_deadline(&plan.policy, now, Some(due)),
            now,
        ))?;
        p.tracking_of.push(Subject::Task(k));
        tasks.push(t);
    }
    // Each assignee finds their tasks in their inbox: one notice per person.
    let mut told: Vec<(i64, Vec<usize>)> = Vec::new();
    for (k, t) in tasks.iter().enumerate() {
        let Some(a) = t.assignee_id else { continue };
        match told.iter_mut().find(|(person, _)| *person == a) {
            Some((_, ks)) => ks.push(k),
            None => told.push((a, vec![k])),
        }
    }
    p.people.extend(told.iter().map(|(a, _)| *a));
    for (a, ks) in told {
        let theirs: Vec<&task::Model> = ks.iter().map(|k| &tasks[*k]).collect();
        if let Some(notice) = escalation::assigned_all(&theirs, a, &reference, exercise, now) {
            for rule in plan.paging.rules(a, channels) {
                p.pages.push(escalation::outbox::paged(
                    &notice, a, &rule, &reference, exercise, now,
                ))?;
                p.pages_of.push(ks[0]);
            }
            p.told.push(notice)?;
            p.told_of.push(ks[0]);
        }
    }
    for t in tasks {
        // Nothing has happened to a new task yet: those columns start empty (NULL) without
        // being sent.
        let mut t = t.into_active_model();
        t.acknowledged_at = NotSet;
        t.started_at = NotSet;
        t.completed_at = NotSet;
        t.note = NotSet;
        p.tasks.push(t)?;
    }
    Ok(())
}

/// The command roles (Gold, Silver, Bronze) given to their on-call holders; the Gold
/// commander's acknowledgement escalates like a task.
fn add_commands(p: &mut Prepared, plan: &Plan, now: OffsetDateTime) -> Result<(), AppError> {
    let org = &plan.org;
    for (j, c) in Command::ALL
        .iter()
        .filter_map(|c| plan.router.route(c.role_key()).0.map(|person| (*c, person)))
        .enumerate()
    {
        let (command, person) = c;
        p.people.push(person);
        // So does the Gold commander's acknowledgement.
        if command == Command::Gold {
            p.tracking.push(escalation::tracking(
                escalation::COMMAND,
                0,
                0,
                org.id,
                escalation::first_deadline(&plan.policy, now, None),
                now,
            ))?;
            p.tracking_of.push(Subject::Command(j));
        }
        p.commands.push(incident_command::ActiveModel {
            id: Set(0),
            incident_id: Set(0),
            command: Set(command.as_str().to_owned()),
            person_id: Set(person),
            assigned_at: Set(now),
            assigned_by: NotSet,
            acknowledged_at: NotSet,
        })?;
    }
    Ok(())
}

/// The catalogued assets named as affected, each once.
fn add_assets(
    p: &mut Prepared,
    assets: &[i64],
    actor: i64,
    now: OffsetDateTime,
) -> Result<(), AppError> {
    let mut assets = assets.to_vec();
    assets.sort_unstable();
    assets.dedup();
    for a in assets {
        p.affected.push(incident_asset::ActiveModel {
            incident_id: Set(0),
            asset_id: Set(a),
            added_at: Set(now),
            added_by: Set(Some(actor)),
            ..Default::default()
        })?;
    }
    Ok(())
}
