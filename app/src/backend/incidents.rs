//! Incidents: declaring one instantiates the runbook version in force into tasks, in one
//! transaction; each task goes to the current holder of its role in the organisation, else
//! the deputy, else up the tree, and every fallback is written down. Task changes are
//! conditional updates, so two people acting at once get one outcome.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ColumnTrait, Condition, ConnectionTrait,
    DatabaseConnection, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter, QueryOrder, Set,
    TransactionTrait, Value,
};
use time::{Duration, OffsetDateTime};

use super::access::{self, User};
use super::assignments::in_force_at;
use tokio::sync::{mpsc, oneshot};

use super::entity::notification;
use super::entity::{
    asset, assignment, incident, incident_asset, incident_command, incident_event, incident_org,
    incident_report, organisation, person, role, runbook, runbook_step, supplier_service, task,
};
use super::escalation;
use super::{audit, generation, orgs, timeline};
use crate::domain::incidents::{
    Clock, Command, CommandView, ExerciseKind, IncidentKind, IncidentLevel, IncidentStatus,
    IncidentView, LinkedView, PatientsAffected, Phase, TaskState, TaskView, clocks,
    default_library, dspt_text,
};
use crate::domain::org::OrgKind;
use crate::error::AppError;

use crate::domain::dates::moment as fmt;

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
    let chain = orgs::chain(db, org_id).await?;
    runbook_in_force_along(db, &chain, kind).await
}

/// As [`runbook_in_force`], for a chain already read: one query.
pub async fn runbook_in_force_along(
    db: &impl ConnectionTrait,
    chain: &[i64],
    kind: IncidentKind,
) -> Result<runbook::Model, AppError> {
    let candidates = runbook::Entity::find()
        .filter(runbook::Column::Kind.eq(kind.as_str()))
        .filter(
            Condition::any()
                .add(runbook::Column::OrgId.is_in(chain.to_vec()))
                .add(runbook::Column::OrgId.is_null()),
        )
        .order_by_desc(runbook::Column::Version)
        .all(db)
        .await?;
    chain
        .iter()
        .map(Some)
        .chain([None])
        .find_map(|owner| {
            candidates
                .iter()
                .find(|r| r.org_id.as_ref() == owner && r.version > 0)
                .cloned()
        })
        .ok_or_else(|| super::errors::internal("runbook", &"no national runbook"))
}

/// Routing for one organisation, loaded in a handful of queries: the organisation and its
/// ancestors, the role catalogue, the holdings in force along that chain and who of those
/// people can be reached. Routing each step is then done in memory.
#[derive(Debug)]
pub struct Router {
    chain: Vec<i64>,
    names: HashMap<i64, String>,
    roles: HashMap<String, (i64, String)>,
    holdings: HashMap<(i64, i64), (i64, Option<i64>)>,
    reachable: HashSet<i64>,
    /// When a holding along the chain next starts or ends (the routing changes then).
    valid_until: Option<OffsetDateTime>,
}

impl Router {
    pub async fn load(
        db: &impl ConnectionTrait,
        org_id: i64,
        at: OffsetDateTime,
    ) -> Result<Router, AppError> {
        let chain = orgs::chain(db, org_id).await?;
        Router::along(db, chain, at).await
    }

    /// For a chain already read (the organisation first, then its ancestors).
    pub async fn along(
        db: &impl ConnectionTrait,
        chain: Vec<i64>,
        at: OffsetDateTime,
    ) -> Result<Router, AppError> {
        let names = organisation::Entity::find()
            .filter(organisation::Column::Id.is_in(chain.clone()))
            .all(db)
            .await?
            .into_iter()
            .map(|o| (o.id, o.name))
            .collect();
        let roles = role::Entity::find()
            .all(db)
            .await?
            .into_iter()
            .map(|r| (r.key, (r.id, r.name)))
            .collect();
        let mut holdings = HashMap::new();
        let mut people = Vec::new();
        let mut valid_until: Option<OffsetDateTime> = None;
        for h in assignment::Entity::find()
            .filter(assignment::Column::OrgId.is_in(chain.clone()))
            .filter(
                Condition::any()
                    .add(assignment::Column::EndsAt.is_null())
                    .add(assignment::Column::EndsAt.gt(at)),
            )
            .order_by_asc(assignment::Column::Id)
            .all(db)
            .await?
        {
            // The routing read now stays true until the next holding starts or ends.
            let boundary = if h.starts_at > at {
                Some(h.starts_at)
            } else {
                h.ends_at
            };
            if let Some(b) = boundary {
                valid_until = Some(valid_until.map_or(b, |v| v.min(b)));
            }
            if h.starts_at > at {
                continue;
            }
            people.push(h.person_id);
            people.extend(h.deputy_id);
            holdings
                .entry((h.org_id, h.role_id))
                .or_insert((h.person_id, h.deputy_id));
        }
        let reachable = person::Entity::find()
            .filter(person::Column::Id.is_in(people))
            .filter(person::Column::Disabled.eq(false))
            .all(db)
            .await?
            .into_iter()
            .map(|p| p.id)
            .collect();
        Ok(Router {
            chain,
            names,
            roles,
            holdings,
            reachable,
            valid_until,
        })
    }

    /// Who gets a task for `role_key`: the holder, else the deputy, else the same up the
    /// tree. Returns (person, organisation where found, how it was routed).
    pub fn route(&self, role_key: &str) -> (Option<i64>, Option<i64>, String) {
        self.route_from(role_key, 0)
    }

    /// Everyone this router could name.
    pub fn people(&self) -> impl Iterator<Item = i64> + '_ {
        self.reachable.iter().copied()
    }

    /// As [`Router::route`], starting `skip` organisations up the chain (1: the parent).
    pub fn route_from(&self, role_key: &str, skip: usize) -> (Option<i64>, Option<i64>, String) {
        let Some((role_id, role_name)) = self.roles.get(role_key) else {
            return (
                None,
                None,
                format!("No role “{role_key}” in the catalogue."),
            );
        };
        let mut notes = Vec::new();
        for org in self.chain.iter().skip(skip) {
            let name = self.names.get(org).map(String::as_str).unwrap_or_default();
            match self.holdings.get(&(*org, *role_id)) {
                Some((holder, deputy)) => {
                    if self.reachable.contains(holder) {
                        notes.push(format!("{role_name} at {name}"));
                        return (Some(*holder), Some(*org), notes.join("; then "));
                    }
                    notes.push(format!(
                        "the {role_name} at {name} cannot be reached (account disabled)"
                    ));
                    if let Some(d) = deputy.filter(|d| self.reachable.contains(d)) {
                        notes.push(format!("deputy {role_name} at {name}"));
                        return (Some(d), Some(*org), notes.join("; so "));
                    }
                }
                None => notes.push(format!("no {role_name} at {name}")),
            }
        }
        notes.push("nobody holds it anywhere above: flagged for national attention".into());
        (None, None, notes.join("; "))
    }
}

/// Who gets a task for `role_key` at `org_id` (see [`Router::route`]).
pub async fn route(
    db: &impl ConnectionTrait,
    org_id: i64,
    role_key: &str,
    at: OffsetDateTime,
) -> Result<(Option<i64>, Option<i64>, String), AppError> {
    Ok(Router::load(db, org_id, at).await?.route(role_key))
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
    /// Catalogued assets of the declaring organisation that are affected.
    pub assets: Vec<i64>,
    /// Set when this is an exercise, not a real incident.
    pub exercise: Option<ExerciseKind>,
}

/// Trimmed text, refused when required and empty or when longer than `max` characters.
pub(crate) fn bounded(
    raw: &str,
    what: &str,
    max: usize,
    required: bool,
) -> Result<String, AppError> {
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

/// What a plan, and every declaration routed by it, was read under: the change generation
/// read before it, and when a holding along the chain next starts or ends. While both still
/// hold, the plan is true.
#[derive(Debug, Clone, Copy)]
struct Routed {
    generation: i64,
    valid_until: Option<OffsetDateTime>,
}

impl Routed {
    fn current(&self, generation: i64, at: OffsetDateTime) -> bool {
        self.generation == generation && self.valid_until.is_none_or(|u| at < u)
    }
}

/// Everything a declaration at one organisation of one kind reads before it writes: the
/// organisation and its ancestors, the runbook in force and its steps, who holds each role
/// and the escalation policy, with what it was read under.
#[derive(Debug)]
pub struct Plan {
    routed: Routed,
    org: organisation::Model,
    chain: Vec<i64>,
    runbook: runbook::Model,
    steps: Vec<runbook_step::Model>,
    router: Router,
    policy: escalation::Policy,
}

impl Plan {
    /// Reads the plan for a declaration of `kind` at `org` (whose chain is `chain`).
    pub async fn load(
        db: &impl ConnectionTrait,
        org: organisation::Model,
        chain: Vec<i64>,
        kind: IncidentKind,
        at: OffsetDateTime,
    ) -> Result<Plan, AppError> {
        let generation = generation::read(db).await?;
        let runbook = runbook_in_force_along(db, &chain, kind).await?;
        let steps = runbook_step::Entity::find()
            .filter(runbook_step::Column::RunbookId.eq(runbook.id))
            .order_by_asc(runbook_step::Column::Position)
            .all(db)
            .await?;
        let router = Router::along(db, chain.clone(), at).await?;
        let policy = escalation::policy_along(db, &chain).await?;
        Ok(Plan {
            routed: Routed {
                generation,
                valid_until: router.valid_until,
            },
            org,
            chain,
            runbook,
            steps,
            router,
            policy,
        })
    }
}

/// One table's new rows, as values for the columns the first row sets (rows built by the
/// same code set the same columns). Built on the declaring request's task, so the writer
/// only fills in ids and sends them.
#[derive(Debug, Default)]
struct Rows {
    table: &'static str,
    columns: Vec<&'static str>,
    values: Vec<Vec<Value>>,
}

impl Rows {
    fn push<A: ActiveModelTrait>(&mut self, mut row: A) -> Result<(), AppError> {
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
            return Err(super::errors::internal(
                "declare",
                &"rows set different columns",
            ));
        }
        self.values.push(values);
        Ok(())
    }

    /// Where `column` is in each row.
    fn at(&self, column: &str) -> Option<usize> {
        self.columns.iter().position(|c| *c == column)
    }

    /// Moves `other`'s rows onto the end of these.
    fn append(&mut self, other: Rows) {
        if self.values.is_empty() {
            self.table = other.table;
            self.columns = other.columns;
        }
        self.values.extend(other.values);
    }
}

/// Sets an id column (when the table has it) in every row to the id `id(row index)` gives.
fn give_ids(
    rows: &mut Rows,
    column: &str,
    mut id: impl FnMut(usize) -> Option<i64>,
) -> Result<(), AppError> {
    let Some(at) = rows.at(column) else {
        return Ok(());
    };
    for (i, row) in rows.values.iter_mut().enumerate() {
        let id = id(i).ok_or_else(|| super::errors::internal("declare", &"ids miscounted"))?;
        row[at] = Value::BigInt(Some(id));
    }
    Ok(())
}

/// What an escalation-tracking row follows: a task or a command role, by position among
/// the declaration's own.
#[derive(Debug, Clone, Copy)]
enum Subject {
    Task(usize),
    Command(usize),
}

/// A declaration read, checked, routed and built into rows, ready to be written: only its
/// ids are still to be given.
#[derive(Debug)]
pub struct Prepared {
    reference: String,
    incident: Rows,
    tasks: Rows,
    commands: Rows,
    /// Escalation tracking for every task and the Gold acknowledgement.
    tracking: Rows,
    tracking_of: Vec<Subject>,
    /// Each assignee's inbox notice, by the position of its task.
    told: Rows,
    told_of: Vec<usize>,
    affected: Rows,
    audit: Rows,
    /// The first timeline entry, hashed once the incident's id is known.
    declared_at: OffsetDateTime,
    actor: i64,
    detail: String,
    /// The incident's facts, recorded by the first entry.
    facts: String,
    /// What the plan it was routed by was read under.
    routed: Routed,
}

fn new_reference(now: OffsetDateTime) -> String {
    format!(
        "WL-{}-{}",
        now.format(time::macros::format_description!("[year][month][day]"))
            .unwrap_or_default(),
        &super::tokens::new_token()[..8]
            .to_uppercase()
            .replace(['-', '_'], "X")
    )
}

/// Builds a declaration's rows from its plan: checked and routed, nothing read or written.
fn prepare(
    actor: &User,
    plan: &Plan,
    input: &DeclareInput,
    parent: Option<i64>,
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
        detail: format!(
            "{}{} declared at {} using {} v{} ({})",
            input
                .exercise
                .map(|e| format!("EXERCISE ({}): ", e.label()))
                .unwrap_or_default(),
            input.kind.title(),
            org.name,
            rb.title,
            rb.version,
            actor.name
        ),
        reference: reference.clone(),
        incident: Rows::default(),
        tasks: Rows::default(),
        commands: Rows::default(),
        tracking: Rows::default(),
        tracking_of: Vec::with_capacity(plan.steps.len() + 1),
        told: Rows::default(),
        told_of: Vec::with_capacity(plan.steps.len()),
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
    };
    p.incident.push(incident::ActiveModel {
        id: Set(0),
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
        declared_by: Set(actor.person_id),
        declared_at: Set(now),
        aware_at: Set(now),
        runbook_id: Set(rb.id),
        updated_at: Set(now),
        parent_id: Set(parent),
        exercise: Set(input.exercise.map(|e| e.as_str().to_owned())),
    })?;
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
            state: TaskState::Open.as_str().to_owned(),
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
    for (a, ks) in told {
        let theirs: Vec<&task::Model> = ks.iter().map(|k| &tasks[*k]).collect();
        if let Some(notice) =
            escalation::assigned_all(&theirs, a, &reference, input.exercise.is_some(), now)
        {
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
    for (j, c) in Command::ALL
        .iter()
        .filter_map(|c| plan.router.route(c.role_key()).0.map(|person| (*c, person)))
        .enumerate()
    {
        let (command, person) = c;
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
    let mut assets = input.assets.clone();
    assets.sort_unstable();
    assets.dedup();
    for a in assets {
        p.affected.push(incident_asset::ActiveModel {
            incident_id: Set(0),
            asset_id: Set(a),
            added_at: Set(now),
            added_by: Set(Some(actor.person_id)),
            ..Default::default()
        })?;
    }
    p.audit.push(audit::entry(audit::Event {
        actor: Some(actor.person_id),
        action: "incident_declared",
        org: Some(org.id),
        subject: Some(reference),
        ..Default::default()
    }))?;
    Ok(p)
}

/// Most rows in one insert statement (well within SQLite's and PostgreSQL's limits on
/// parameters for the widest table written here).
const ROWS_PER_INSERT: usize = 128;

/// Insert statements for `tables`, made one at a time as they are asked for: rows go in runs
/// of 128, then of the largest power of two left (64, 32, …, 1), so each table has a
/// handful of statement shapes that the driver prepares once and reuses, however many rows
/// a batch holds.
fn inserts(
    backend: sea_orm::DbBackend,
    tables: Vec<Rows>,
) -> impl Iterator<Item = sea_orm::Statement> {
    use std::fmt::Write as _;
    tables.into_iter().flat_map(move |t| {
        let head = format!(
            "INSERT INTO \"{}\" ({}) VALUES ",
            t.table,
            t.columns
                .iter()
                .map(|c| format!("\"{c}\""))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let width = t.columns.len();
        let mut left = t.values.len();
        let mut rows = t.values.into_iter();
        std::iter::from_fn(move || {
            if left == 0 {
                return None;
            }
            let n = if left >= ROWS_PER_INSERT {
                ROWS_PER_INSERT
            } else {
                1 << (usize::BITS - 1 - left.leading_zeros())
            };
            left -= n;
            let mut sql = String::with_capacity(head.len() + n * (width * 5 + 4));
            sql.push_str(&head);
            let mut values = Vec::with_capacity(n * width);
            for (i, row) in rows.by_ref().take(n).enumerate() {
                sql.push_str(if i == 0 { "(" } else { ", (" });
                for j in 0..width {
                    if j > 0 {
                        sql.push_str(", ");
                    }
                    if backend == sea_orm::DbBackend::Postgres {
                        let _ = write!(sql, "${}", values.len() + j + 1);
                    } else {
                        sql.push('?');
                    }
                }
                values.extend(row);
                sql.push(')');
            }
            Some(sea_orm::Statement::from_sql_and_values(
                backend, sql, values,
            ))
        })
    })
}

/// Executes statements one after another, making each next one while the database runs
/// the one before (so building and executing overlap instead of taking turns). The direct
/// SQLite path has the same loop over the driver's own statements.
async fn execute_overlapped(
    db: &impl ConnectionTrait,
    mut statements: impl Iterator<Item = sea_orm::Statement>,
) -> Result<(), AppError> {
    let mut current = statements.next();
    while let Some(statement) = current {
        let (done, next) = tokio::join!(db.execute_raw(statement), async { statements.next() });
        done?;
        current = next;
    }
    Ok(())
}

/// Ids for `n` new rows of `table`, taken before they are inserted so that nothing has to be
/// read back. On SQLite the caller's transaction already holds the write lock, so nobody
/// else can insert before it commits: the ids follow the highest ever given (the table's
/// AUTOINCREMENT counter, or its highest row). On PostgreSQL they come from the table's
/// own sequence.
async fn reserve_ids(
    db: &impl ConnectionTrait,
    table: &'static str,
    n: usize,
) -> Result<Vec<i64>, AppError> {
    use sea_orm::{DbBackend, Statement};
    if n == 0 {
        return Ok(Vec::new());
    }
    let backend = db.get_database_backend();
    if backend == DbBackend::Postgres {
        let rows = db
            .query_all_raw(Statement::from_string(
                backend,
                format!(
                    "SELECT nextval(pg_get_serial_sequence('{table}', 'id')) AS value \
                     FROM generate_series(1, {n})"
                ),
            ))
            .await?;
        return rows
            .into_iter()
            .map(|r| r.try_get::<i64>("", "value").map_err(AppError::from))
            .collect();
    }
    let row = db
        .query_one_raw(Statement::from_string(backend, sqlite_highest_id(table)))
        .await?
        .ok_or_else(|| super::errors::internal("declare", &"no highest id"))?;
    Ok(ids_after(row.try_get("", "value")?, n))
}

/// Gives prepared declarations their ids (`incident_ids` one each, `task_ids` and
/// `command_ids` in order) and gathers their rows table by table, parents before children
/// for the foreign keys: the incident, its tasks, its command roles, the affected assets,
/// escalation tracking for every task and the Gold acknowledgement, each assignee's inbox
/// notice, the first timeline entry and the audit record. Returns the tables and (id,
/// reference) per declaration, in order.
fn with_ids(
    ps: Vec<Prepared>,
    incident_ids: &[i64],
    task_ids: &[i64],
    command_ids: &[i64],
) -> Result<(Vec<Rows>, Written), AppError> {
    let miscounted = || super::errors::internal("declare", &"ids miscounted");
    if incident_ids.len() != ps.len() {
        return Err(miscounted());
    }
    let mut tables: [Rows; 9] = Default::default();
    let mut out = Vec::with_capacity(ps.len());
    let (mut first_task, mut first_command) = (0, 0);
    for (mut p, &id) in ps.into_iter().zip(incident_ids) {
        let tasks = task_ids.get(first_task..first_task + p.tasks.values.len());
        let commands = command_ids.get(first_command..first_command + p.commands.values.len());
        let (tasks, commands) = tasks.zip(commands).ok_or_else(miscounted)?;
        first_task += tasks.len();
        first_command += commands.len();
        give_ids(&mut p.incident, "id", |_| Some(id))?;
        give_ids(&mut p.tasks, "id", |i| tasks.get(i).copied())?;
        give_ids(&mut p.commands, "id", |i| commands.get(i).copied())?;
        give_ids(&mut p.tracking, "subject_id", |i| {
            match p.tracking_of.get(i)? {
                Subject::Task(k) => tasks.get(*k).copied(),
                Subject::Command(j) => commands.get(*j).copied(),
            }
        })?;
        give_ids(&mut p.told, "subject_id", |i| {
            tasks.get(*p.told_of.get(i)?).copied()
        })?;
        for rows in [
            &mut p.tasks,
            &mut p.commands,
            &mut p.tracking,
            &mut p.told,
            &mut p.affected,
        ] {
            give_ids(rows, "incident_id", |_| Some(id))?;
        }
        let (mut event, mut head) = (Rows::default(), Rows::default());
        let (first, signed) = timeline::first_entry(
            id,
            p.declared_at,
            Some(p.actor),
            "declared",
            p.detail,
            p.facts,
        )?;
        event.push(first)?;
        head.push(signed)?;
        let rows = [
            p.incident, p.tasks, p.commands, p.affected, p.tracking, p.told, event, head, p.audit,
        ];
        for (table, rows) in tables.iter_mut().zip(rows) {
            table.append(rows);
        }
        out.push((id, p.reference));
    }
    Ok((tables.into(), out))
}

/// (id, reference) of each declaration written, in order.
type Written = Vec<(i64, String)>;

/// How many ids of each kind a batch needs: incidents, tasks, command roles.
fn id_counts(ps: &[Prepared]) -> [usize; 3] {
    [
        ps.len(),
        ps.iter().map(|p| p.tasks.values.len()).sum(),
        ps.iter().map(|p| p.commands.values.len()).sum(),
    ]
}

/// Writes prepared declarations in the caller's transaction, which must already hold the
/// write lock (its first statement was a write). Ids are given up front, so however many
/// declarations and steps it is one insert per table (chunked only past the parameter
/// limits) and nothing is read back. Returns (id, reference) per declaration, in order.
async fn write_all(
    db: &impl ConnectionTrait,
    ps: Vec<Prepared>,
) -> Result<Vec<(i64, String)>, AppError> {
    let [incidents, tasks, commands] = id_counts(&ps);
    let incident_ids = reserve_ids(db, "incident", incidents).await?;
    let task_ids = reserve_ids(db, "task", tasks).await?;
    let command_ids = reserve_ids(db, "incident_command", commands).await?;
    let (tables, out) = with_ids(ps, &incident_ids, &task_ids, &command_ids)?;
    execute_overlapped(db, inserts(db.get_database_backend(), tables)).await?;
    Ok(out)
}

/// The batch writer's path on SQLite: straight through the driver on one pooled connection,
/// in a transaction that takes the write lock as it begins, each statement's arguments made
/// while the one before runs (through SeaORM they would be copied and converted in turn
/// with the driver's thread waiting). Returns `None`, having written nothing, when a
/// declaration in the batch was routed by a plan that is no longer current, or was already
/// taken: the general path routes it again.
async fn commit_batch_sqlite(
    pool: &sea_orm::sqlx::SqlitePool,
    batch: &mut [Job],
) -> Result<Option<(i64, Vec<Result<String, AppError>>)>, AppError> {
    use sea_orm::sqlx::{self, AssertSqlSafe, IntoArguments};
    let failed = |e: sqlx::Error| super::errors::internal("declare", &e);
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.map_err(failed)?;
    let generation: i64 = sqlx::query_scalar(generation::READ)
        .fetch_one(&mut *tx)
        .await
        .map_err(failed)?;
    let now = timeline::now();
    let current = |j: &Job| {
        j.prepared
            .as_ref()
            .is_some_and(|p| p.routed.current(generation, now))
    };
    if !batch.iter().all(current) {
        return Ok(None);
    }
    let ps: Vec<Prepared> = batch.iter_mut().filter_map(|j| j.prepared.take()).collect();
    let mut ids = Vec::with_capacity(3);
    for (table, n) in ["incident", "task", "incident_command"]
        .into_iter()
        .zip(id_counts(&ps))
    {
        let highest: i64 = sqlx::query_scalar(AssertSqlSafe(sqlite_highest_id(table)))
            .fetch_one(&mut *tx)
            .await
            .map_err(failed)?;
        ids.push(ids_after(highest, n));
    }
    let (tables, out) = with_ids(ps, &ids[0], &ids[1], &ids[2])?;
    let mut statements = inserts(sea_orm::DbBackend::Sqlite, tables).map(|s| {
        let values = s.values.unwrap_or(sea_orm::Values(Vec::new()));
        let arguments: sqlx::sqlite::SqliteArguments =
            IntoArguments::<sqlx::Sqlite>::into_arguments(sea_query_sqlx::SqlxValues(values));
        (s.sql, arguments)
    });
    let mut current = statements.next();
    while let Some((sql, arguments)) = current {
        let (done, next) = tokio::join!(
            sqlx::query_with(AssertSqlSafe(sql), arguments).execute(&mut *tx),
            async { statements.next() }
        );
        done.map_err(failed)?;
        current = next;
    }
    tx.commit().await.map_err(failed)?;
    Ok(Some((
        generation,
        out.into_iter()
            .map(|(_, reference)| Ok(reference))
            .collect(),
    )))
}

/// The `n` ids that follow `highest`.
fn ids_after(highest: i64, n: usize) -> Vec<i64> {
    (1..=n as i64).map(|i| highest + i).collect()
}

/// The highest id `table` has ever given on SQLite (its AUTOINCREMENT counter, or its
/// highest row): the next ids follow it while the caller holds the write lock.
fn sqlite_highest_id(table: &str) -> String {
    format!(
        "SELECT MAX(COALESCE((SELECT MAX(id) FROM {table}), 0), \
         COALESCE((SELECT seq FROM sqlite_sequence WHERE name = '{table}'), 0)) AS value"
    )
}

/// Finds the organisation a declaration is for; `NotFound` when there is none.
async fn declaring_org(
    db: &impl ConnectionTrait,
    user: &User,
    org_code: Option<&str>,
) -> Result<(organisation::Model, Vec<i64>), AppError> {
    let org = match org_code.map(str::trim).filter(|c| !c.is_empty()) {
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
    let chain = orgs::chain(db, org.id).await?;
    may_declare(user, &chain)?;
    Ok((org, chain))
}

/// A person may declare at an organisation their grants reach (the chain: the organisation
/// first). Otherwise it is as if the organisation did not exist.
fn may_declare(user: &User, chain: &[i64]) -> Result<(), AppError> {
    access::reaches_along(user, chain, access::Action::Act)
}

/// Refuses assets that are not in the declaring organisation's catalogue.
async fn check_assets(
    db: &impl ConnectionTrait,
    org_id: i64,
    assets: &[i64],
) -> Result<(), AppError> {
    if assets.is_empty() {
        return Ok(());
    }
    if assets.len() > 100 {
        return Err(AppError::Invalid(
            "Choose at most 100 affected systems; describe the rest in words.".into(),
        ));
    }
    let mut wanted = assets.to_vec();
    wanted.sort_unstable();
    wanted.dedup();
    let found = asset::Entity::find()
        .filter(asset::Column::OrgId.eq(org_id))
        .filter(asset::Column::Id.is_in(wanted.clone()))
        .count(db)
        .await?;
    // An asset of another organisation is as if it did not exist.
    if found as usize != wanted.len() {
        return Err(AppError::NotFound);
    }
    Ok(())
}

/// Reads the plan and prepares a declaration, every read on `db`.
async fn plan_and_prepare(
    db: &impl ConnectionTrait,
    user: &User,
    input: &DeclareInput,
) -> Result<Prepared, AppError> {
    let (org, chain) = declaring_org(db, user, input.org_code.as_deref()).await?;
    check_assets(db, org.id, &input.assets).await?;
    let plan = Plan::load(db, org, chain, input.kind, timeline::now()).await?;
    prepare(user, &plan, input, None)
}

/// Declares an incident and gives out its tasks, in one transaction. Returns the reference.
#[tracing::instrument(skip_all, err)]
pub async fn declare(
    db: &DatabaseConnection,
    user: &User,
    input: DeclareInput,
) -> Result<String, AppError> {
    let prepared = plan_and_prepare(db, user, &input).await?;
    let txn = db.begin().await?;
    generation::read_for_write(&txn).await?;
    let mut written = write_all(&txn, vec![prepared]).await?;
    txn.commit().await?;
    written
        .pop()
        .map(|(_, reference)| reference)
        .ok_or_else(|| super::errors::internal("declare", &"nothing written"))
}

/// A declaration waiting for the writer, with what is needed to route it again if what it
/// was routed by has changed by then.
struct Job {
    /// Taken by the writer when it writes it; routed again if it has to write it again.
    prepared: Option<Prepared>,
    user: User,
    input: DeclareInput,
    reply: oneshot::Sender<Result<String, AppError>>,
}

/// Plans kept in memory, per (organisation as asked for, kind).
#[derive(Debug)]
struct Plans {
    /// The generation the writer last found in the database.
    seen: AtomicI64,
    map: Mutex<HashMap<(String, IncidentKind), Arc<Plan>>>,
}

/// Most declarations written in one transaction.
const BATCH_MOST: usize = 256;

/// How many times the writer lets waiting requests run before it writes a batch.
const GATHER_ROUNDS: usize = 8;

/// Plans kept before the cache starts again (each is a few kilobytes).
const PLANS_KEPT: usize = 4096;

/// Writes declarations through one writer that commits whatever is waiting together (group
/// commit): one durable commit and one insert per table for a burst of declarations
/// instead of one each. Routing is read once per organisation and kind and kept while the
/// database's change generation says it is still true; the writer checks that generation
/// under its write lock and routes again any declaration whose plan went out of date. A
/// declaration's reference is returned only after the commit that holds it.
#[derive(Clone, Debug)]
pub struct Declarations {
    tx: mpsc::Sender<Job>,
    plans: Arc<Plans>,
}

impl Declarations {
    /// Starts the writer on the current Tokio runtime.
    pub fn start(db: DatabaseConnection) -> Declarations {
        let (tx, mut rx) = mpsc::channel::<Job>(4096);
        let plans = Arc::new(Plans {
            seen: AtomicI64::new(i64::MIN),
            map: Mutex::new(HashMap::new()),
        });
        let writer_plans = plans.clone();
        tokio::spawn(async move {
            let mut batch = Vec::with_capacity(BATCH_MOST);
            while rx.recv_many(&mut batch, BATCH_MOST).await > 0 {
                // Declarations being prepared at this moment join this batch instead of
                // waiting for it to commit: let them run, and take what they sent, for as
                // long as more keep coming (a few rounds at most, no timer involved).
                for _ in 0..GATHER_ROUNDS {
                    tokio::task::yield_now().await;
                    let before = batch.len();
                    while batch.len() < BATCH_MOST {
                        match rx.try_recv() {
                            Ok(job) => batch.push(job),
                            Err(_) => break,
                        }
                    }
                    if batch.len() == before {
                        break;
                    }
                }
                write_batch(&db, &writer_plans, std::mem::take(&mut batch)).await;
            }
        });
        Declarations { tx, plans }
    }

    /// Declares an incident: checked and routed on the caller's task, written by the writer.
    #[tracing::instrument(skip_all, err)]
    pub async fn declare(
        &self,
        db: &DatabaseConnection,
        user: &User,
        input: DeclareInput,
    ) -> Result<String, AppError> {
        let plan = self.plan(db, user, &input).await?;
        may_declare(user, &plan.chain)?;
        check_assets(db, plan.org.id, &input.assets).await?;
        let prepared = prepare(user, &plan, &input, None)?;
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Job {
                prepared: Some(prepared),
                user: user.clone(),
                input,
                reply,
            })
            .await
            .map_err(|_| AppError::Unavailable)?;
        answer.await.map_err(|_| AppError::Unavailable)?
    }

    /// The plan for this declaration: the one kept, while the writer has seen nothing
    /// change since it was read, else read again.
    async fn plan(
        &self,
        db: &DatabaseConnection,
        user: &User,
        input: &DeclareInput,
    ) -> Result<Arc<Plan>, AppError> {
        let asked = match input.org_code.as_deref().map(str::trim) {
            Some(code) if !code.is_empty() => code.to_ascii_uppercase(),
            _ => format!("#{}", user.grants.first().ok_or(AppError::Forbidden)?.0),
        };
        let key = (asked, input.kind);
        let now = timeline::now();
        let seen = self.plans.seen.load(Ordering::Acquire);
        if let Some(plan) = self
            .plans
            .lock()
            .get(&key)
            .filter(|p| p.routed.current(seen, now))
        {
            return Ok(plan.clone());
        }
        let (org, chain) = declaring_org(db, user, input.org_code.as_deref()).await?;
        let plan = Arc::new(Plan::load(db, org, chain, input.kind, now).await?);
        let mut map = self.plans.lock();
        if map.len() >= PLANS_KEPT {
            map.clear();
        }
        map.insert(key, plan.clone());
        Ok(plan)
    }
}

impl Plans {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(String, IncidentKind), Arc<Plan>>> {
        // A panic while holding it leaves only a cache behind: keep using it.
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }
}

async fn write_batch(db: &DatabaseConnection, plans: &Plans, mut batch: Vec<Job>) {
    // The common case: every declaration in one transaction, one durable commit.
    match commit_batch(db, &mut batch).await {
        Ok((generation, outcomes)) => {
            plans.seen.store(generation, Ordering::Release);
            for (job, outcome) in batch.into_iter().zip(outcomes) {
                let _ = job.reply.send(outcome);
            }
        }
        // Something in the batch failed (and the whole batch rolled back): write each
        // alone, routed again, so one bad declaration cannot take the others with it.
        Err(_) => {
            for mut job in batch {
                let one = commit_batch(db, std::slice::from_mut(&mut job)).await;
                let outcome = match one {
                    Ok((_, mut o)) => o.pop().unwrap_or(Err(AppError::Unavailable)),
                    Err(e) => Err(e),
                };
                let _ = job.reply.send(outcome);
            }
        }
    }
}

/// Writes a batch in one transaction. Under the write lock it reads the change generation;
/// a declaration routed by a plan that is no longer current is routed again there and
/// then (and refused if its organisation or the person's right to declare there is gone).
/// Returns the generation and each declaration's outcome, in order.
async fn commit_batch(
    db: &DatabaseConnection,
    batch: &mut [Job],
) -> Result<(i64, Vec<Result<String, AppError>>), AppError> {
    if db.get_database_backend() == sea_orm::DbBackend::Sqlite
        && let Some(done) = commit_batch_sqlite(db.get_sqlite_connection_pool(), batch).await?
    {
        return Ok(done);
    }
    let txn = db.begin().await?;
    let generation = generation::read_for_write(&txn).await?;
    let now = timeline::now();
    let mut ready = Vec::with_capacity(batch.len());
    let mut refused: HashMap<usize, AppError> = HashMap::new();
    for (i, job) in batch.iter_mut().enumerate() {
        if let Some(p) = job.prepared.take_if(|p| p.routed.current(generation, now)) {
            ready.push(p);
            continue;
        }
        match plan_and_prepare(&txn, &job.user, &job.input).await {
            Ok(again) => ready.push(again),
            Err(e @ AppError::Internal(_)) => return Err(e),
            Err(e) => {
                refused.insert(i, e);
            }
        }
    }
    let mut written = write_all(&txn, ready).await?.into_iter();
    txn.commit().await?;
    let outcomes = (0..batch.len())
        .map(|i| match refused.remove(&i) {
            Some(e) => Err(e),
            None => written
                .next()
                .map(|(_, reference)| reference)
                .ok_or_else(|| super::errors::internal("declare", &"batch miscounted")),
        })
        .collect();
    Ok((generation, outcomes))
}

async fn event(
    db: &impl ConnectionTrait,
    incident_id: i64,
    actor: Option<i64>,
    kind: &str,
    detail: String,
) -> Result<(), AppError> {
    timeline::append(db, incident_id, actor, kind, detail).await
}

/// Takes the write lock for an incident's transaction before it reads anything, so SQLite
/// never has to upgrade a read snapshot (which fails when another writer got in between).
pub(crate) async fn touch(db: &impl ConnectionTrait, incident_id: i64) -> Result<(), AppError> {
    incident::Entity::update_many()
        .filter(incident::Column::Id.eq(incident_id))
        .col_expr(incident::Column::UpdatedAt, Expr::value(timeline::now()))
        .exec(db)
        .await?;
    Ok(())
}

/// Organisations an incident belongs to: where it was declared and those added since.
async fn incident_orgs(
    db: &impl ConnectionTrait,
    inc: &incident::Model,
) -> Result<Vec<i64>, AppError> {
    let mut ids = vec![inc.org_id];
    ids.extend(
        incident_org::Entity::find()
            .filter(incident_org::Column::IncidentId.eq(inc.id))
            .order_by_asc(incident_org::Column::Id)
            .all(db)
            .await?
            .into_iter()
            .map(|o| o.org_id),
    );
    Ok(ids)
}

/// Leads and admins over an incident's organisation (or a national admin) lead it.
pub(crate) async fn may_lead(
    db: &impl ConnectionTrait,
    user: &User,
    org_id: i64,
) -> Result<bool, AppError> {
    if user.is_read_only_user() {
        return Ok(false);
    }
    Ok(access::scope(db, user, access::Action::Lead)
        .await?
        .contains(org_id))
}

/// As [`find_readable`], by the incident's id.
pub(crate) async fn find_readable_by_id(
    db: &impl ConnectionTrait,
    user: &User,
    id: i64,
) -> Result<incident::Model, AppError> {
    let inc = incident::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    find_readable(db, user, &inc.reference).await
}

pub(crate) async fn find_readable(
    db: &impl ConnectionTrait,
    user: &User,
    reference: &str,
) -> Result<incident::Model, AppError> {
    let inc = incident::Entity::find()
        .filter(incident::Column::Reference.eq(reference.trim()))
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let scope = access::readable_orgs(db, user).await?;
    if access::within(&scope, inc.org_id) {
        return Ok(inc);
    }
    // People at an organisation added as affected see the incident too.
    if incident_orgs(db, &inc)
        .await?
        .iter()
        .any(|o| access::within(&scope, *o))
    {
        return Ok(inc);
    }
    Err(AppError::NotFound)
}

async fn task_views(
    db: &impl ConnectionTrait,
    user: &User,
    tasks: Vec<task::Model>,
    refs: &HashMap<i64, String>,
    admin_over: &HashSet<i64>,
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
    let writer = !user.is_read_only_user();
    Ok(tasks
        .into_iter()
        .map(|t| {
            let state = TaskState::parse(&t.state).unwrap_or(TaskState::Open);
            let mine = t.assignee_id == Some(user.person_id);
            let live = matches!(
                state,
                TaskState::Open | TaskState::Acknowledged | TaskState::InProgress
            );
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
                overdue: live && now > t.due_at,
                state,
                due_at: fmt(t.due_at),
                note: t.note,
                mine,
                can_act: writer && live && (mine || admin_over.contains(&t.incident_id)),
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
    let all_orgs = incident_orgs(db, &inc).await?;
    let admin = access::administered_orgs(db, user).await?;
    let admin_over: HashSet<i64> =
        if !user.is_read_only_user() && access::within(&admin, inc.org_id) {
            HashSet::from([inc.id])
        } else {
            HashSet::new()
        };
    let tasks = task::Entity::find()
        .filter(task::Column::IncidentId.eq(inc.id))
        .order_by_asc(task::Column::Position)
        .all(db)
        .await?;
    let refs = HashMap::from([(inc.id, inc.reference.clone())]);
    let tasks = task_views(db, user, tasks, &refs, &admin_over).await?;
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
    let org_kind = org.summary().kind;
    let oes = matches!(org_kind, OrgKind::Trust | OrgKind::Icb);
    let reports: HashMap<String, incident_report::Model> = incident_report::Entity::find()
        .filter(incident_report::Column::IncidentId.eq(inc.id))
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.body.clone(), r))
        .collect();
    let exercise = inc.exercise.as_deref().and_then(ExerciseKind::parse);
    // An exercise reports to nobody: it runs no reporting clocks.
    let clocks = clocks(inc.aware_at, now, inc.personal_data, oes)
        .into_iter()
        .filter(|_| exercise.is_none())
        .map(|(body, label, due, overdue)| {
            let report = reports.get(body);
            Clock {
                body: body.into(),
                label: label.into(),
                due_at: fmt(due),
                applies: body == "csoc"
                    || (body == "ico" && inc.personal_data)
                    || (body == "nis" && oes),
                overdue: overdue && report.is_none(),
                minutes_left: (due - now).whole_minutes(),
                reported_at: report.map(|r| fmt(r.reported_at)),
                report_reference: report.map(|r| r.reference.clone()),
            }
        })
        .collect();
    let timeline = incident_event::Entity::find()
        .filter(incident_event::Column::IncidentId.eq(inc.id))
        .order_by_asc(incident_event::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|e| (fmt(e.at), e.detail))
        .collect();
    let names: HashMap<i64, (String, String)> = organisation::Entity::find()
        .filter(organisation::Column::Id.is_in(all_orgs.clone()))
        .all(db)
        .await?
        .into_iter()
        .map(|o| (o.id, (o.code, o.name)))
        .collect();
    let affected = all_orgs[1..]
        .iter()
        .filter_map(|o| names.get(o).cloned())
        .collect();
    let held: HashMap<String, (i64, bool)> = incident_command::Entity::find()
        .filter(incident_command::Column::IncidentId.eq(inc.id))
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.command, (c.person_id, c.acknowledged_at.is_some())))
        .collect();
    let commanders: HashMap<i64, String> = person::Entity::find()
        .filter(person::Column::Id.is_in(held.values().map(|h| h.0).collect::<Vec<_>>()))
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.id, p.display_name))
        .collect();
    let commands = Command::ALL
        .iter()
        .map(|c| {
            let h = held.get(c.as_str()).copied();
            let person_id = h.map(|h| h.0);
            CommandView {
                command: *c,
                person: person_id.and_then(|p| commanders.get(&p).cloned()),
                person_id,
                acknowledged: h.is_some_and(|h| h.1),
                mine: person_id == Some(user.person_id),
            }
        })
        .collect();
    let can_lead = may_lead(db, user, inc.org_id).await?;
    let candidates = if can_lead {
        command_candidates(db, &inc).await?
    } else {
        Vec::new()
    };
    let parent = match inc.parent_id {
        Some(pid) => match incident::Entity::find_by_id(pid).one(db).await? {
            Some(p) => {
                let name = organisation::Entity::find_by_id(p.org_id)
                    .one(db)
                    .await?
                    .map(|o| o.name)
                    .unwrap_or_default();
                Some((p.reference, name))
            }
            None => None,
        },
        None => None,
    };
    let children = incident::Entity::find()
        .filter(incident::Column::ParentId.eq(inc.id))
        .order_by_asc(incident::Column::Id)
        .all(db)
        .await?;
    let child_tasks = task::Entity::find()
        .filter(task::Column::IncidentId.is_in(children.iter().map(|c| c.id).collect::<Vec<_>>()))
        .all(db)
        .await?;
    let child_orgs: HashMap<i64, String> = organisation::Entity::find()
        .filter(
            organisation::Column::Id.is_in(children.iter().map(|c| c.org_id).collect::<Vec<_>>()),
        )
        .all(db)
        .await?
        .into_iter()
        .map(|o| (o.id, o.name))
        .collect();
    let linked = children
        .iter()
        .map(|c| {
            let mine: Vec<&task::Model> = child_tasks
                .iter()
                .filter(|t| t.incident_id == c.id)
                .collect();
            LinkedView {
                reference: c.reference.clone(),
                org_name: child_orgs.get(&c.org_id).cloned().unwrap_or_default(),
                status: IncidentStatus::parse(&c.status).unwrap_or(IncidentStatus::Declared),
                tasks_done: mine
                    .iter()
                    .filter(|t| {
                        t.state == TaskState::Done.as_str()
                            || t.state == TaskState::NotApplicable.as_str()
                    })
                    .count(),
                tasks_total: mine.len(),
            }
        })
        .collect();
    let unlinked_clients = if org_kind == OrgKind::Supplier {
        let linked_orgs: HashSet<i64> = children.iter().map(|c| c.org_id).collect();
        unlinked_clients(db, inc.org_id, &linked_orgs)
            .await?
            .into_iter()
            .map(|o| o.name)
            .collect()
    } else {
        Vec::new()
    };
    let assets = super::assets::of_incident(db, inc.id).await?;
    let asset_choices = if can_lead {
        super::assets::of_orgs(db, &all_orgs)
            .await?
            .into_iter()
            .filter(|a| !assets.iter().any(|l| l.id == a.id))
            .collect()
    } else {
        Vec::new()
    };
    let mut v = IncidentView {
        exercise,
        assets,
        asset_choices,
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
        affected,
        commands,
        candidates,
        can_lead,
        parent,
        linked,
        unlinked_clients,
        can_link: can_lead || (inc.declared_by == user.person_id && !user.is_read_only_user()),
        dspt_text: String::new(),
        generated_at: fmt(now),
    };
    v.dspt_text = dspt_text(&v);
    Ok(v)
}

/// People who may take a command role: holders of any role, in force now, at the incident's
/// organisations and their ancestors. (person id, "name, role at organisation")
pub(crate) async fn command_candidates(
    db: &impl ConnectionTrait,
    inc: &incident::Model,
) -> Result<Vec<(i64, String)>, AppError> {
    let mut orgs_in = Vec::new();
    for o in incident_orgs(db, inc).await? {
        orgs_in.push(o);
        orgs_in.extend(orgs::ancestors(db, o).await?);
    }
    let holdings = assignment::Entity::find()
        .filter(assignment::Column::OrgId.is_in(orgs_in.clone()))
        .filter(in_force_at(OffsetDateTime::now_utc()))
        .all(db)
        .await?;
    let people: HashMap<i64, person::Model> = person::Entity::find()
        .filter(person::Column::Id.is_in(holdings.iter().map(|h| h.person_id).collect::<Vec<_>>()))
        .filter(person::Column::Disabled.eq(false))
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    let roles: HashMap<i64, String> = role::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.id, r.name))
        .collect();
    let names: HashMap<i64, String> = organisation::Entity::find()
        .filter(organisation::Column::Id.is_in(orgs_in))
        .all(db)
        .await?
        .into_iter()
        .map(|o| (o.id, o.name))
        .collect();
    let mut out: Vec<(i64, String)> = Vec::new();
    for h in holdings {
        let Some(p) = people.get(&h.person_id) else {
            continue;
        };
        if out.iter().any(|(id, _)| *id == p.id) {
            continue;
        }
        out.push((
            p.id,
            format!(
                "{}, {} at {}",
                p.display_name,
                roles.get(&h.role_id).cloned().unwrap_or_default(),
                names.get(&h.org_id).cloned().unwrap_or_default()
            ),
        ));
    }
    out.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(out)
}

/// The organisations a supplier serves now that have no incident linked to `linked_orgs`.
async fn unlinked_clients(
    db: &impl ConnectionTrait,
    supplier_id: i64,
    linked_orgs: &HashSet<i64>,
) -> Result<Vec<organisation::Model>, AppError> {
    let clients: Vec<i64> = supplier_service::Entity::find()
        .filter(supplier_service::Column::SupplierId.eq(supplier_id))
        .filter(supplier_service::Column::ValidTo.is_null())
        .all(db)
        .await?
        .into_iter()
        .map(|s| s.client_id)
        .filter(|c| !linked_orgs.contains(c))
        .collect();
    Ok(organisation::Entity::find()
        .filter(organisation::Column::Id.is_in(clients))
        .order_by_asc(organisation::Column::Name)
        .all(db)
        .await?)
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
    task_views(db, user, tasks, &refs, &HashSet::new()).await
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
    let inc = find_readable(db, user, &inc.reference).await?;
    let admin = access::within(&access::administered_orgs(db, user).await?, inc.org_id);
    if t.assignee_id != Some(user.person_id) && !admin {
        return Err(AppError::Forbidden);
    }
    if user.is_read_only_user() {
        return Err(AppError::Forbidden);
    }
    let now = timeline::now();
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
            let to = access::person_in_reach(db, user, to_email, access::Action::Act).await?;
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
    let restart_at = match &action {
        TaskAction::Reassign { .. } => {
            let policy = escalation::policy_for(db, inc.org_id).await?;
            Some(escalation::first_deadline(&policy, now, Some(t.due_at)))
        }
        _ => None,
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
    // In the same transaction: acknowledging stops the escalation; reassigning starts it
    // again for the new assignee, who is told in their inbox.
    match restart_at {
        Some(fires_at) => {
            escalation::restart(&txn, escalation::TASK, t.id, fires_at, now).await?;
            let moved = task::Entity::find_by_id(t.id)
                .one(&txn)
                .await?
                .ok_or(AppError::NotFound)?;
            if let Some(a) = moved.assignee_id {
                notification::Entity::insert(escalation::assigned(&moved, a, &inc.reference, now))
                    .on_conflict_do_nothing_on([
                        notification::Column::Subject,
                        notification::Column::SubjectId,
                        notification::Column::Level,
                        notification::Column::Round,
                        notification::Column::RecipientKey,
                        notification::Column::Channel,
                    ])
                    .exec_without_returning(&txn)
                    .await?;
            }
        }
        None => escalation::acknowledge(&txn, escalation::TASK, t.id, now).await?,
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
        let ids: Vec<i64> = ids.iter().copied().collect();
        let also: Vec<i64> = incident_org::Entity::find()
            .filter(incident_org::Column::OrgId.is_in(ids.clone()))
            .all(db)
            .await?
            .into_iter()
            .map(|o| o.incident_id)
            .collect();
        q = q.filter(
            Condition::any()
                .add(incident::Column::OrgId.is_in(ids))
                .add(incident::Column::Id.is_in(also)),
        );
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
            let kind = match r.exercise.as_deref().and_then(ExerciseKind::parse) {
                Some(e) => format!("EXERCISE ({}): {kind}", e.label()),
                None => kind.to_owned(),
            };
            (
                r.reference,
                kind,
                orgs.get(&r.org_id).cloned().unwrap_or_default(),
                r.status,
                fmt(r.declared_at),
            )
        })
        .collect())
}

/// A lead's change to an incident, checked and ready to find the incident.
async fn lead_incident(
    db: &impl ConnectionTrait,
    user: &User,
    reference: &str,
) -> Result<incident::Model, AppError> {
    let inc = find_readable(db, user, reference).await?;
    if !may_lead(db, user, inc.org_id).await? {
        return Err(AppError::Forbidden);
    }
    Ok(inc)
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
    let reason = bounded(reason, "why it changes", 1000, true)?;
    let inc = lead_incident(db, user, reference).await?;
    if level.is_none() && status.is_none() {
        return Err(AppError::Invalid("Choose a new level or status.".into()));
    }
    let mut detail = Vec::new();
    let mut q = incident::Entity::update_many()
        .filter(incident::Column::Id.eq(inc.id))
        // Only from what the person saw: a change made meanwhile by someone else wins.
        .filter(incident::Column::Level.eq(inc.level.clone()))
        .filter(incident::Column::Status.eq(inc.status.clone()))
        .col_expr(incident::Column::UpdatedAt, Expr::value(timeline::now()));
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
    finish(&txn, user, &inc, "changed", "incident_changed", detail).await?;
    txn.commit().await?;
    Ok(())
}

/// Writes the timeline entry and the audit record for a lead's change.
pub(crate) async fn finish(
    txn: &impl ConnectionTrait,
    user: &User,
    inc: &incident::Model,
    kind: &str,
    action: &str,
    detail: String,
) -> Result<(), AppError> {
    event(txn, inc.id, Some(user.person_id), kind, detail.clone()).await?;
    audit::record(
        txn,
        audit::Event {
            actor: Some(user.person_id),
            action,
            org: Some(inc.org_id),
            subject: Some(inc.reference.clone()),
            detail: Some(detail),
            ..Default::default()
        },
    )
    .await
}

/// Records that a report was made against a clock (csoc, ico or nis): when, and the
/// reference the receiving body gave. Recording again corrects it; both stay on the timeline.
pub async fn record_report(
    db: &DatabaseConnection,
    user: &User,
    reference: &str,
    body: &str,
    reported_at: Option<&str>,
    their_reference: &str,
) -> Result<(), AppError> {
    let label = match body {
        "csoc" => "NHS England CSOC",
        "ico" => "the ICO",
        "nis" => "DHSC (NIS)",
        _ => return Err(AppError::Invalid("Choose who the report went to.".into())),
    };
    let their_reference = bounded(their_reference, "the reference you were given", 100, true)?;
    let now = timeline::now();
    let at = crate::domain::dates::parse_moment(reported_at.unwrap_or_default())
        .map_err(AppError::Invalid)?
        .unwrap_or(now);
    if at > now + Duration::minutes(5) {
        return Err(AppError::Invalid(
            "A report cannot be made in the future.".into(),
        ));
    }
    let inc = lead_incident(db, user, reference).await?;
    let txn = db.begin().await?;
    touch(&txn, inc.id).await?;
    let existing = incident_report::Entity::find()
        .filter(incident_report::Column::IncidentId.eq(inc.id))
        .filter(incident_report::Column::Body.eq(body))
        .one(&txn)
        .await?;
    let corrected = existing.is_some();
    match existing {
        Some(r) => {
            let mut m: incident_report::ActiveModel = r.into();
            m.reported_at = Set(at);
            m.reference = Set(their_reference.clone());
            m.recorded_by = Set(user.person_id);
            m.recorded_at = Set(now);
            m.update(&txn).await?;
        }
        None => {
            incident_report::ActiveModel {
                incident_id: Set(inc.id),
                body: Set(body.to_owned()),
                reported_at: Set(at),
                reference: Set(their_reference.clone()),
                recorded_by: Set(user.person_id),
                recorded_at: Set(now),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
        }
    }
    let detail = format!(
        "{} to {label} at {}, reference {their_reference} ({})",
        if corrected {
            "Report corrected: made"
        } else {
            "Reported"
        },
        fmt(at),
        user.name
    );
    finish(&txn, user, &inc, "report", "incident_reported", detail).await?;
    txn.commit().await?;
    Ok(())
}

/// Gives a command role to one of the people holding a role around the incident, or
/// clears it (`person` None).
pub async fn assign_command(
    db: &DatabaseConnection,
    user: &User,
    reference: &str,
    command: Command,
    person: Option<i64>,
) -> Result<(), AppError> {
    let inc = lead_incident(db, user, reference).await?;
    let name = match person {
        Some(p) => Some(
            command_candidates(db, &inc)
                .await?
                .into_iter()
                .find(|(id, _)| *id == p)
                // Only the people the incident's page offers; anyone else does not exist.
                .ok_or(AppError::NotFound)?
                .1,
        ),
        None => None,
    };
    let policy = escalation::policy_for(db, inc.org_id).await?;
    let now = timeline::now();
    let txn = db.begin().await?;
    touch(&txn, inc.id).await?;
    let old = incident_command::Entity::find()
        .filter(incident_command::Column::IncidentId.eq(inc.id))
        .filter(incident_command::Column::Command.eq(command.as_str()))
        .one(&txn)
        .await?;
    incident_command::Entity::delete_many()
        .filter(incident_command::Column::IncidentId.eq(inc.id))
        .filter(incident_command::Column::Command.eq(command.as_str()))
        .exec(&txn)
        .await?;
    let new = match person {
        Some(p) => Some(
            incident_command::ActiveModel {
                incident_id: Set(inc.id),
                command: Set(command.as_str().to_owned()),
                person_id: Set(p),
                assigned_at: Set(now),
                assigned_by: Set(Some(user.person_id)),
                ..Default::default()
            }
            .insert(&txn)
            .await?,
        ),
        None => None,
    };
    if command == Command::Gold {
        // The old commander's acknowledgement no longer matters; the new one's does.
        if let Some(o) = old {
            escalation::acknowledge(&txn, escalation::COMMAND, o.id, now).await?;
        }
        if let Some(n) = new {
            escalation::tracking(
                escalation::COMMAND,
                n.id,
                inc.id,
                inc.org_id,
                escalation::first_deadline(&policy, now, None),
                now,
            )
            .insert(&txn)
            .await?;
        }
    }
    let detail = match name {
        Some(n) => format!("{}: {n} (given by {})", command.label(), user.name),
        None => format!("{}: nobody now (cleared by {})", command.label(), user.name),
    };
    finish(&txn, user, &inc, "command", "incident_command", detail).await?;
    txn.commit().await?;
    Ok(())
}

/// How taking an escalated task went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Taken {
    /// The caller acknowledged it and now holds it.
    Taken,
    /// Someone acknowledged it first; nothing changed.
    AlreadyAcknowledged,
}

/// Someone an escalation reached acknowledges the task and takes it on. With `spend_link`,
/// the signed email link is used up in the same transaction (it works once).
pub async fn take_escalated(
    db: &DatabaseConnection,
    user: &User,
    notification_id: i64,
    spend_link: bool,
) -> Result<(Taken, String), AppError> {
    let n = notification::Entity::find_by_id(notification_id)
        .one(db)
        .await?
        .filter(|n| n.person_id == Some(user.person_id) && n.subject == escalation::TASK)
        .ok_or(AppError::NotFound)?;
    if user.is_read_only_user() {
        return Err(AppError::Forbidden);
    }
    let t = task::Entity::find_by_id(n.subject_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let inc = incident::Entity::find_by_id(t.incident_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let now = timeline::now();
    let txn = db.begin().await?;
    if spend_link {
        let spent = notification::Entity::update_many()
            .filter(notification::Column::Id.eq(n.id))
            .filter(notification::Column::LinkUsedAt.is_null())
            .col_expr(notification::Column::LinkUsedAt, Expr::value(now))
            .exec(&txn)
            .await?;
        if spent.rows_affected != 1 {
            return Err(AppError::Conflict(
                "This link has already been used. Open the incident in Wardline instead.".into(),
            ));
        }
    }
    let taken = task::Entity::update_many()
        .filter(task::Column::Id.eq(t.id))
        .filter(task::Column::State.eq(TaskState::Open.as_str()))
        .col_expr(
            task::Column::State,
            Expr::value(TaskState::Acknowledged.as_str()),
        )
        .col_expr(task::Column::AcknowledgedAt, Expr::value(now))
        .col_expr(task::Column::AssigneeId, Expr::value(user.person_id))
        .col_expr(
            task::Column::Routing,
            Expr::value(format!(
                "{}; taken on escalation (level {}) by {}",
                t.routing, n.level, user.name
            )),
        )
        .col_expr(task::Column::UpdatedAt, Expr::value(now))
        .exec(&txn)
        .await?;
    if taken.rows_affected != 1 {
        txn.commit().await?;
        return Ok((Taken::AlreadyAcknowledged, inc.reference));
    }
    escalation::acknowledge(&txn, escalation::TASK, t.id, now).await?;
    let detail = format!(
        "“{}” acknowledged on escalation and taken by {}{}",
        t.title,
        user.name,
        if spend_link {
            " (from the email link)"
        } else {
            ""
        }
    );
    finish(&txn, user, &inc, "task", "task_taken", detail).await?;
    txn.commit().await?;
    Ok((Taken::Taken, inc.reference))
}

/// The Gold commander acknowledges taking command, which stops that escalation.
pub async fn acknowledge_command(
    db: &DatabaseConnection,
    user: &User,
    reference: &str,
) -> Result<(), AppError> {
    let inc = find_readable(db, user, reference).await?;
    let now = timeline::now();
    let txn = db.begin().await?;
    let changed = incident_command::Entity::update_many()
        .filter(incident_command::Column::IncidentId.eq(inc.id))
        .filter(incident_command::Column::Command.eq(Command::Gold.as_str()))
        .filter(incident_command::Column::PersonId.eq(user.person_id))
        .filter(incident_command::Column::AcknowledgedAt.is_null())
        .col_expr(incident_command::Column::AcknowledgedAt, Expr::value(now))
        .exec(&txn)
        .await?;
    if changed.rows_affected != 1 {
        return Err(AppError::Conflict(
            "You do not hold Gold on this incident, or it is already acknowledged.".into(),
        ));
    }
    let gold = incident_command::Entity::find()
        .filter(incident_command::Column::IncidentId.eq(inc.id))
        .filter(incident_command::Column::Command.eq(Command::Gold.as_str()))
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    escalation::acknowledge(&txn, escalation::COMMAND, gold.id, now).await?;
    let detail = format!("Gold command acknowledged by {}", user.name);
    finish(&txn, user, &inc, "command", "command_acknowledged", detail).await?;
    txn.commit().await?;
    Ok(())
}

/// Adds another affected organisation. Its people can then see the incident, and its cyber
/// lead (or whoever the routing finds) gets a task to assess the impact there.
pub async fn add_affected(
    db: &DatabaseConnection,
    user: &User,
    reference: &str,
    org_code: &str,
) -> Result<(), AppError> {
    // What the request names is checked first: out of reach, it answers as absent whatever
    // else is wrong with the request.
    let org = access::org_in_reach(db, user, org_code, access::Action::Lead).await?;
    let inc = lead_incident(db, user, reference).await?;
    let now = timeline::now();
    let (assignee, found_at, routing) = route(db, org.id, "head_of_cyber", now).await?;
    let txn = db.begin().await?;
    touch(&txn, inc.id).await?;
    if incident_orgs(&txn, &inc).await?.contains(&org.id) {
        return Err(AppError::Invalid(format!(
            "{} is already on this incident.",
            org.name
        )));
    }
    incident_org::ActiveModel {
        incident_id: Set(inc.id),
        org_id: Set(org.id),
        added_at: Set(now),
        added_by: Set(Some(user.person_id)),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let position = task::Entity::find()
        .filter(task::Column::IncidentId.eq(inc.id))
        .order_by_desc(task::Column::Position)
        .one(&txn)
        .await?
        .map(|t| t.position)
        .unwrap_or(0)
        + 1;
    task::ActiveModel {
        incident_id: Set(inc.id),
        position: Set(position),
        phase: Set(Phase::Triage.as_str().to_owned()),
        title: Set(format!("Assess the impact at {}", org.name)),
        instructions: Set(format!(
            "{} has been added to this incident. Find out which services and systems there are affected, and whether patients are.",
            org.name
        )),
        required: Set(true),
        owner_role: Set("head_of_cyber".into()),
        org_id: Set(found_at),
        assignee_id: Set(assignee),
        routing: Set(routing),
        state: Set(TaskState::Open.as_str().to_owned()),
        due_at: Set(now + Duration::minutes(60)),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let detail = format!(
        "{} ({}) added as affected ({})",
        org.name, org.code, user.name
    );
    finish(&txn, user, &inc, "scope", "incident_scope", detail).await?;
    txn.commit().await?;
    Ok(())
}

/// Links a catalogued asset of an organisation the incident affects; its leads only.
pub async fn link_asset(
    db: &DatabaseConnection,
    user: &User,
    reference: &str,
    asset_id: i64,
) -> Result<(), AppError> {
    let a = access::asset_in_reach(db, user, asset_id, access::Action::Lead).await?;
    let inc = lead_incident(db, user, reference).await?;
    let txn = db.begin().await?;
    touch(&txn, inc.id).await?;
    if !incident_orgs(&txn, &inc).await?.contains(&a.org_id) {
        return Err(AppError::Invalid(
            "That asset belongs to an organisation this incident does not affect. Add the organisation first.".into(),
        ));
    }
    let already = incident_asset::Entity::find()
        .filter(incident_asset::Column::IncidentId.eq(inc.id))
        .filter(incident_asset::Column::AssetId.eq(a.id))
        .one(&txn)
        .await?;
    if already.is_some() {
        return Err(AppError::Invalid(format!(
            "{} is already linked to this incident.",
            a.name
        )));
    }
    incident_asset::ActiveModel {
        incident_id: Set(inc.id),
        asset_id: Set(a.id),
        added_at: Set(timeline::now()),
        added_by: Set(Some(user.person_id)),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let detail = format!("{} linked as affected ({})", a.name, user.name);
    finish(&txn, user, &inc, "assets", "incident_asset", detail).await?;
    txn.commit().await?;
    Ok(())
}

/// From a supplier's incident, opens a linked incident at every organisation the supplier
/// serves that has none yet, each with its own runbook tasks, all in one transaction.
/// Returns the new references.
pub async fn open_linked(
    db: &DatabaseConnection,
    user: &User,
    reference: &str,
) -> Result<Vec<String>, AppError> {
    let inc = find_readable(db, user, reference).await?;
    if inc.declared_by != user.person_id && !may_lead(db, user, inc.org_id).await? {
        return Err(AppError::Forbidden);
    }
    if user.is_read_only_user() {
        return Err(AppError::Forbidden);
    }
    let supplier = organisation::Entity::find_by_id(inc.org_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    if supplier.summary().kind != OrgKind::Supplier {
        return Err(AppError::Invalid(
            "Only a supplier's incident opens linked incidents.".into(),
        ));
    }
    let already: HashSet<i64> = incident::Entity::find()
        .filter(incident::Column::ParentId.eq(inc.id))
        .all(db)
        .await?
        .into_iter()
        .map(|c| c.org_id)
        .collect();
    let clients = unlinked_clients(db, inc.org_id, &already).await?;
    if clients.is_empty() {
        return Err(AppError::Invalid(
            "Every organisation this supplier serves already has a linked incident.".into(),
        ));
    }
    let mut prepared = Vec::new();
    for client in &clients {
        let input = DeclareInput {
            org_code: None,
            kind: IncidentKind::SupplierCompromise,
            summary: format!(
                "{} reports an incident ({}): {}",
                supplier.name, inc.reference, inc.summary
            )
            .chars()
            .take(2000)
            .collect(),
            location: format!("Services from {}", supplier.name)
                .chars()
                .take(200)
                .collect(),
            patients_affected: PatientsAffected::Unknown,
            systems: inc.systems.clone(),
            personal_data: Some(inc.personal_data),
            assets: Vec::new(),
            exercise: inc.exercise.as_deref().and_then(ExerciseKind::parse),
        };
        let chain = orgs::chain(db, client.id).await?;
        let plan = Plan::load(db, client.clone(), chain, input.kind, timeline::now()).await?;
        prepared.push(prepare(user, &plan, &input, Some(inc.id))?);
    }
    let txn = db.begin().await?;
    touch(&txn, inc.id).await?;
    // Checked again under the write lock: a second click finds the first one's incidents.
    let now_linked = incident::Entity::find()
        .filter(incident::Column::ParentId.eq(inc.id))
        .all(&txn)
        .await?;
    if now_linked.len() != already.len() {
        return Err(AppError::Conflict(
            "Linked incidents were opened just now. Reload to see them.".into(),
        ));
    }
    let refs: Vec<String> = write_all(&txn, prepared)
        .await?
        .into_iter()
        .map(|(_, reference)| reference)
        .collect();
    let names: Vec<String> = clients.iter().map(|c| c.name.clone()).collect();
    let detail = format!(
        "Linked incidents opened at {} ({})",
        names.join(", "),
        user.name
    );
    finish(&txn, user, &inc, "linked", "incident_linked", detail).await?;
    txn.commit().await?;
    Ok(refs)
}

/// Checks the timelines of the incidents the caller administers (all, for a national admin).
pub async fn verify_timelines(
    db: &impl ConnectionTrait,
    user: &User,
) -> Result<Vec<timeline::Check>, AppError> {
    let scope = access::administered_orgs(db, user).await?;
    let ids = match scope {
        None => None,
        Some(orgs) if !orgs.is_empty() => Some(
            incident::Entity::find()
                .filter(incident::Column::OrgId.is_in(orgs.into_iter().collect::<Vec<_>>()))
                .all(db)
                .await?
                .into_iter()
                .map(|i| i.id)
                .collect(),
        ),
        Some(_) => return Err(AppError::Forbidden),
    };
    timeline::verify_all(db, ids).await
}

/// An incident for export: what its page shows, plus every timeline entry with its hashes
/// and the result of checking the chain.
pub async fn export(
    db: &impl ConnectionTrait,
    user: &User,
    reference: &str,
) -> Result<serde_json::Value, AppError> {
    let v = view(db, user, reference).await?;
    let inc = find_readable(db, user, reference).await?;
    let entries: Vec<serde_json::Value> = incident_event::Entity::find()
        .filter(incident_event::Column::IncidentId.eq(inc.id))
        .order_by_asc(incident_event::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|e| {
            serde_json::json!({
                "at": e.at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
                "kind": e.kind,
                "detail": e.detail,
                "prev_hash": e.prev_hash,
                "hash": e.hash,
            })
        })
        .collect();
    let check = match timeline::verify(db, inc.id).await? {
        Ok(n) => serde_json::json!({ "whole": true, "entries": n }),
        Err((n, why)) => serde_json::json!({ "whole": false, "entry": n, "problem": why }),
    };
    Ok(serde_json::json!({
        "exported_at": timeline::now().format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
        "incident": v,
        "timeline": entries,
        "timeline_check": check,
    }))
}

/// An incident's people to tell about a change: its assignees and command roles.
pub async fn people_of(db: &impl ConnectionTrait, incident_id: i64) -> Result<Vec<i64>, AppError> {
    let mut people: Vec<i64> = task::Entity::find()
        .filter(task::Column::IncidentId.eq(incident_id))
        .all(db)
        .await?
        .into_iter()
        .filter_map(|t| t.assignee_id)
        .collect();
    people.extend(
        incident_command::Entity::find()
            .filter(incident_command::Column::IncidentId.eq(incident_id))
            .all(db)
            .await?
            .into_iter()
            .map(|c| c.person_id),
    );
    people.sort_unstable();
    people.dedup();
    Ok(people)
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
