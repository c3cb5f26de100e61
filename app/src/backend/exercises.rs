//! Exercises: any runbook run as a drill at an organisation, for real (tasks, acknowledgements
//! and escalations) but marked everywhere and kept out of reporting clocks and statistics;
//! the EPRR cadence with overdue flags; and the report afterwards.

use std::collections::{HashMap, HashSet};

use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
};

use super::access::{self, User};
use super::entity::{incident, notification, person, review, role, task};
use super::incidents::{self, DeclareInput};
use super::{orgs, timeline};
use crate::domain::dates::moment;
use crate::domain::incidents::{
    CadenceRow, ExerciseKind, ExerciseReport, ExerciseTask, Exercises, IncidentKind,
    PatientsAffected, TaskState, next_due,
};
use crate::error::AppError;

/// Starts an exercise of `kind` at an organisation: its leads and admins only. Written by the
/// declarations writer like every incident.
pub async fn start(
    declarations: &incidents::Declarations,
    db: &DatabaseConnection,
    user: &User,
    org_code: &str,
    kind: IncidentKind,
    exercise: ExerciseKind,
    scenario: &str,
) -> Result<incidents::Declared, AppError> {
    let org = access::org_in_reach(db, user, org_code, access::Action::Lead).await?;
    let scenario = scenario.trim();
    declarations
        .declare(
            db,
            user,
            DeclareInput {
                org_code: Some(org.code),
                kind,
                summary: if scenario.is_empty() {
                    format!("{}: {}", exercise.label(), kind.title())
                } else {
                    scenario.to_owned()
                },
                location: format!("{} (not a real incident)", exercise.label()),
                patients_affected: PatientsAffected::No,
                systems: String::new(),
                personal_data: Some(false),
                assets: Vec::new(),
                exercise: Some(exercise),
            },
        )
        .await
}

/// The last exercise of each kind at these organisations, by kind. A real incident whose
/// review records its lessons stands in for a live exercise (NHS EPRR).
pub async fn last_held(
    db: &impl ConnectionTrait,
    org_ids: &[i64],
) -> Result<HashMap<(i64, ExerciseKind), incident::Model>, AppError> {
    use sea_orm::sea_query::Query;
    let exercises = incident::Entity::find()
        .filter(incident::Column::OrgId.is_in(org_ids.to_vec()))
        .filter(incident::Column::Exercise.is_not_null())
        .all(db)
        .await?;
    let learned: HashSet<i64> = review::Entity::find()
        .filter(review::Column::Lessons.ne(""))
        .filter(
            review::Column::IncidentId.in_subquery(
                Query::select()
                    .column(incident::Column::Id)
                    .from(incident::Entity)
                    .and_where(incident::Column::OrgId.is_in(org_ids.to_vec()))
                    .and_where(incident::Column::Exercise.is_null())
                    .to_owned(),
            ),
        )
        .all(db)
        .await?
        .into_iter()
        .map(|r| r.incident_id)
        .collect();
    let real = incident::Entity::find()
        .filter(incident::Column::Id.is_in(learned.iter().copied()))
        .all(db)
        .await?;
    Ok(last_of(exercises.iter().chain(&real), &learned))
}

/// As [`last_held`], from incidents already read and the real ones among them whose review
/// records lessons (`learned`); other real incidents are passed over.
pub fn last_of<'a>(
    incidents: impl IntoIterator<Item = &'a incident::Model>,
    learned: &HashSet<i64>,
) -> HashMap<(i64, ExerciseKind), incident::Model> {
    let mut last: HashMap<(i64, ExerciseKind), incident::Model> = HashMap::new();
    for i in incidents {
        let kind = match i.exercise.as_deref() {
            Some(k) => ExerciseKind::parse(k),
            None => learned.contains(&i.id).then_some(ExerciseKind::Live),
        };
        if let Some(k) = kind {
            let newer = last
                .get(&(i.org_id, k))
                .is_none_or(|held| held.declared_at < i.declared_at);
            if newer {
                last.insert((i.org_id, k), i.clone());
            }
        }
    }
    last
}

/// The cadence rows for one organisation, from [`last_held`].
pub fn cadence(
    org_id: i64,
    last: &HashMap<(i64, ExerciseKind), incident::Model>,
    now: time::OffsetDateTime,
) -> Vec<CadenceRow> {
    ExerciseKind::ALL
        .iter()
        .map(|k| {
            let held = last.get(&(org_id, *k));
            let (due, overdue) = next_due(held.map(|i| i.declared_at), *k, now);
            CadenceRow {
                kind: *k,
                every_months: k.every_months(),
                last: held.map(|i| (i.reference.clone(), moment(i.declared_at))),
                due: if held.is_none() {
                    "now: never held".into()
                } else {
                    moment(due)
                },
                overdue,
            }
        })
        .collect()
}

/// An organisation's exercises page.
pub async fn overview(
    db: &impl ConnectionTrait,
    user: &User,
    org_code: &str,
) -> Result<Exercises, AppError> {
    let org = orgs::find_by_code(db, org_code)
        .await?
        .ok_or(AppError::NotFound)?;
    if !access::within(&access::readable_orgs(db, user).await?, org.id) {
        return Err(AppError::NotFound);
    }
    let now = timeline::now();
    let last = last_held(db, &[org.id]).await?;
    let held = incident::Entity::find()
        .filter(incident::Column::OrgId.eq(org.id))
        .filter(incident::Column::Exercise.is_not_null())
        .order_by_desc(incident::Column::DeclaredAt)
        .all(db)
        .await?
        .into_iter()
        .map(|i| {
            (
                i.reference,
                i.exercise
                    .as_deref()
                    .and_then(ExerciseKind::parse)
                    .map(|e| e.label())
                    .unwrap_or("Exercise")
                    .to_owned(),
                IncidentKind::parse(&i.kind)
                    .map(|k| k.title())
                    .unwrap_or("Incident")
                    .to_owned(),
                moment(i.declared_at),
                i.status.as_str().replace('_', " "),
            )
        })
        .collect();
    Ok(Exercises {
        can_start: incidents::may_lead(db, user, org.id).await?,
        cadence: cadence(org.id, &last, now),
        org_code: org.code,
        org_name: org.name,
        held,
    })
}

fn median(mut v: Vec<i64>) -> Option<i64> {
    if v.is_empty() {
        return None;
    }
    v.sort_unstable();
    Some(v[v.len() / 2])
}

/// What an exercise task says about the routing: nobody held its role, or it could not
/// reach them.
fn routing_gap(t: &task::Model, role: &str) -> Option<String> {
    if t.assignee_id.is_none() {
        Some(format!(
            "Nobody holds {role} anywhere up the tree: “{}” had no owner.",
            t.title
        ))
    } else if t.routing.contains("no ") || t.routing.contains("cannot be reached") {
        Some(format!("“{}”: {}", t.title, t.routing))
    } else {
        None
    }
}

/// How one task went: who had it, minutes to acknowledge, whether it missed its time, and
/// how often it escalated.
fn task_row(
    t: &task::Model,
    role: String,
    people: &HashMap<i64, String>,
    fired: &HashMap<i64, i32>,
    declared_at: time::OffsetDateTime,
    now: time::OffsetDateTime,
) -> ExerciseTask {
    let acked = t.acknowledged_at.or(t.started_at).or(t.completed_at);
    let done = matches!(t.state, TaskState::Done | TaskState::NotApplicable);
    ExerciseTask {
        title: t.title.clone(),
        role,
        assignee: t.assignee_id.and_then(|a| people.get(&a).cloned()),
        minutes_to_acknowledge: acked.map(|a| (a - declared_at).whole_minutes()),
        state: t.state.label().to_owned(),
        missed: match acked {
            Some(a) => a > t.due_at,
            None => now > t.due_at,
        } || (!done && now > t.due_at),
        escalations: fired.get(&t.id).copied().unwrap_or(0),
    }
}

/// How many escalation steps fired for each of the incident's tasks: each step writes
/// notifications under its (level, round).
async fn escalation_steps(
    db: &impl ConnectionTrait,
    incident_id: i64,
) -> Result<HashMap<i64, i32>, AppError> {
    let steps: std::collections::HashSet<(i64, i32, i32)> = notification::Entity::find()
        .filter(notification::Column::IncidentId.eq(incident_id))
        .filter(notification::Column::Subject.eq(super::escalation::TASK))
        .filter(notification::Column::Level.gt(0))
        .all(db)
        .await?
        .into_iter()
        .map(|n| (n.subject_id, n.level, n.round))
        .collect();
    let mut fired: HashMap<i64, i32> = HashMap::new();
    for (task_id, _, _) in steps {
        *fired.entry(task_id).or_default() += 1;
    }
    Ok(fired)
}

/// Per role: how many of its tasks were acknowledged, of how many, and the median minutes
/// to acknowledge.
fn per_role(rows: &[ExerciseTask]) -> Vec<(String, usize, usize, Option<i64>)> {
    let mut keys: Vec<&String> = rows.iter().map(|r| &r.role).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .map(|k| {
            let mine: Vec<&ExerciseTask> = rows.iter().filter(|r| &r.role == k).collect();
            let times: Vec<i64> = mine
                .iter()
                .filter_map(|r| r.minutes_to_acknowledge)
                .collect();
            (k.clone(), times.len(), mine.len(), median(times))
        })
        .collect()
}

/// The report on an exercise: time to acknowledge per task and role, what was missed, how
/// many escalations fired, and the gaps it found.
pub async fn report(
    db: &impl ConnectionTrait,
    user: &User,
    reference: &str,
) -> Result<ExerciseReport, AppError> {
    let inc = incidents::find_readable(db, user, reference).await?;
    let Some(exercise) = inc.exercise.as_deref().and_then(ExerciseKind::parse) else {
        return Err(AppError::Invalid(
            "That is a real incident, not an exercise: it has no exercise report.".into(),
        ));
    };
    let now = timeline::now();
    let tasks = task::Entity::find()
        .filter(task::Column::IncidentId.eq(inc.id))
        .order_by_asc(task::Column::Position)
        .all(db)
        .await?;
    let fired = escalation_steps(db, inc.id).await?;
    let people: HashMap<i64, String> = person::Entity::find()
        .filter(
            person::Column::Id.is_in(
                tasks
                    .iter()
                    .filter_map(|t| t.assignee_id)
                    .collect::<Vec<_>>(),
            ),
        )
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.id, p.display_name))
        .collect();
    let roles: HashMap<String, String> = role::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.key, r.name))
        .collect();
    let mut gaps = Vec::new();
    let rows: Vec<ExerciseTask> = tasks
        .iter()
        .map(|t| {
            let role = roles
                .get(&t.owner_role)
                .cloned()
                .unwrap_or(t.owner_role.clone());
            if let Some(gap) = routing_gap(t, &role) {
                gaps.push(gap);
            }
            task_row(t, role, &people, &fired, inc.declared_at, now)
        })
        .collect();
    let by_role = per_role(&rows);
    for r in rows
        .iter()
        .filter(|r| r.escalations > 0 && r.minutes_to_acknowledge.is_none())
    {
        gaps.push(format!(
            "“{}” escalated {} times and nobody acknowledged it.",
            r.title, r.escalations
        ));
    }
    let org_name = super::entity::organisation::Entity::find_by_id(inc.org_id)
        .one(db)
        .await?
        .map(|o| o.name)
        .unwrap_or_default();
    Ok(ExerciseReport {
        missed: rows.iter().filter(|r| r.missed).count(),
        escalations: rows.iter().map(|r| r.escalations).sum(),
        reference: inc.reference,
        org_name,
        exercise: exercise.label().to_owned(),
        kind: IncidentKind::parse(&inc.kind)
            .map(|k| k.title())
            .unwrap_or("Incident")
            .to_owned(),
        started: moment(inc.declared_at),
        tasks: rows,
        per_role: by_role,
        gaps,
    })
}
