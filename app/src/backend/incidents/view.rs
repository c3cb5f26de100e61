//! Reading incidents: the incident page's view, the list, and a person's open tasks.

use std::collections::{HashMap, HashSet};

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use time::OffsetDateTime;

use crate::backend::access::{self, User};
use crate::backend::assignments::in_force_at;

use crate::backend::entity::{
    assignment, incident, incident_command, incident_event, organisation, person, role, runbook,
    supplier_service, task,
};
use crate::backend::orgs;
use crate::domain::incidents::{
    AffectedOrg, Candidate, Command, CommandView, ExerciseKind, IncidentKind, IncidentView,
    LinkedView, PageRow, ParentIncident, PatientsAffected, Phase, TaskState, TaskView,
    TimelineEntry, dspt_text,
};
use crate::domain::org::OrgKind;
use crate::error::AppError;

use crate::domain::dates::moment as fmt;

use crate::backend::incidents::access::{find_readable, incident_orgs, may_lead};

pub(crate) async fn task_views(
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
            let state = t.state;
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

// Long because the incident page's view is one struct of some forty fields, filled from
// what is read here; each part that takes more than a few lines is a function of its own.
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
    let exercise = inc.exercise.as_deref().and_then(ExerciseKind::parse);
    let clocks = super::obligations::ledger(db, &inc, &org, kind, exercise.is_some(), now).await?;
    let dpo_contact = if inc.personal_data {
        super::obligations::dpo_contact(db, inc.org_id, now).await?
    } else {
        None
    };
    let timeline = timeline_of(db, inc.id).await?;
    let affected = affected_of(db, &all_orgs).await?;
    let commands = commands_of(db, &inc, user).await?;
    let can_lead = may_lead(db, user, inc.org_id).await?;
    let candidates = if can_lead {
        command_candidates(db, &inc).await?
    } else {
        Vec::new()
    };
    let parent = parent_of(db, &inc).await?;
    let (linked, unlinked_clients) = linked_of(db, &inc, org_kind).await?;
    let assets = crate::backend::assets::of_incident(db, inc.id).await?;
    // Leads may tie more of the organisations' systems to it.
    let asset_choices = if can_lead {
        let all = crate::backend::assets::of_orgs(db, &all_orgs).await?;
        all.into_iter()
            .filter(|a| !assets.iter().any(|l| l.id == a.id))
            .collect()
    } else {
        Vec::new()
    };
    let paging = paging_of(db, inc.id, &tasks).await?;
    let mut v = IncidentView {
        paging,
        exercise,
        assets,
        asset_choices,
        reference: inc.reference,
        org_code: org.code,
        org_name: org.name,
        kind,
        level: inc.level,
        status: inc.status,
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
        dpo_contact,
    };
    v.dspt_text = dspt_text(&v);
    Ok(v)
}

/// The incident's timeline, oldest first.
async fn timeline_of(db: &impl ConnectionTrait, id: i64) -> Result<Vec<TimelineEntry>, AppError> {
    Ok(incident_event::Entity::find()
        .filter(incident_event::Column::IncidentId.eq(id))
        .order_by_asc(incident_event::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|e| TimelineEntry {
            at: e.at,
            detail: e.detail,
        })
        .collect())
}

/// The organisations added to the incident besides its own (the first of `all_orgs`).
async fn affected_of(
    db: &impl ConnectionTrait,
    all_orgs: &[i64],
) -> Result<Vec<AffectedOrg>, AppError> {
    let names: HashMap<i64, AffectedOrg> = organisation::Entity::find()
        .filter(organisation::Column::Id.is_in(all_orgs.to_vec()))
        .all(db)
        .await?
        .into_iter()
        .map(|o| {
            (
                o.id,
                AffectedOrg {
                    code: o.code,
                    name: o.name,
                },
            )
        })
        .collect();
    Ok(all_orgs
        .iter()
        .skip(1)
        .filter_map(|o| names.get(o).cloned())
        .collect())
}

/// Every message about the incident's tasks, oldest first: to whom, how, when, and where it
/// is (a text's delivery receipt when Notify has sent one).
async fn paging_of(
    db: &impl ConnectionTrait,
    incident_id: i64,
    tasks: &[TaskView],
) -> Result<Vec<PageRow>, AppError> {
    use crate::backend::entity::{notification, text_message};
    let rows = notification::Entity::find()
        .filter(notification::Column::IncidentId.eq(incident_id))
        .filter(notification::Column::Subject.eq("task"))
        .order_by_asc(notification::Column::Id)
        .all(db)
        .await?;
    let ids: Vec<i64> = rows.iter().map(|n| n.id).collect();
    let mut texts: HashMap<i64, text_message::Model> = HashMap::new();
    for t in text_message::Entity::find()
        .filter(text_message::Column::NotificationId.is_in(ids))
        .order_by_asc(text_message::Column::Id)
        .all(db)
        .await?
    {
        if let Some(n) = t.notification_id {
            texts.insert(n, t);
        }
    }
    let people: HashMap<i64, String> = person::Entity::find()
        .filter(person::Column::Id.is_in(rows.iter().filter_map(|n| n.person_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.id, p.display_name))
        .collect();
    let contacts = crate::backend::contacts_external::names_for_keys(
        db,
        rows.iter().map(|n| n.recipient_key.as_str()),
    )
    .await?;
    let by_task: HashMap<i64, &TaskView> = tasks.iter().map(|t| (t.id, t)).collect();
    Ok(rows
        .into_iter()
        .filter_map(|n| {
            let t = by_task.get(&n.subject_id)?;
            let who = match n.person_id {
                Some(p) => people.get(&p).cloned().unwrap_or_default(),
                None => contacts
                    .get(&n.recipient_key)
                    .cloned()
                    .unwrap_or_else(|| "The organisation's channel".into()),
            };
            let status = page_status(&n, texts.get(&n.id));
            Some(PageRow {
                task_id: t.id,
                task: t.title.clone(),
                who,
                how: match n.channel.as_str() {
                    "sms" => "Text message",
                    "email" => "Email",
                    "inbox" => "In Wardline",
                    "webhook" => "Channel",
                    "teams" => "Microsoft Teams",
                    _ => "Other",
                }
                .into(),
                level: n.level,
                at: n.created_at,
                status,
                acknowledged: !matches!(t.state, TaskState::Open),
            })
        })
        .collect())
}

/// Where one message is, in words.
fn page_status(
    n: &crate::backend::entity::notification::Model,
    text: Option<&crate::backend::entity::text_message::Model>,
) -> String {
    use crate::domain::escalation::NotificationStatus;
    let when = |at: OffsetDateTime| crate::domain::dates::moment(at);
    match (n.status, text) {
        (NotificationStatus::Sent, _) if n.channel == "inbox" => "In their inbox".into(),
        (NotificationStatus::Sent, Some(t)) => match t.status.as_str() {
            "delivered" => format!(
                "Delivered{}",
                t.status_at
                    .map(|a| format!(" {}", when(a)))
                    .unwrap_or_default()
            ),
            "accepted" | "created" | "sending" | "pending" => {
                "Sent to GOV.UK Notify, awaiting the delivery receipt".into()
            }
            other => format!("Not delivered ({})", other.replace('-', " ")),
        },
        (NotificationStatus::Sent, None) => format!(
            "Sent{}",
            n.delivered_at
                .map(|a| format!(" {}", when(a)))
                .unwrap_or_default()
        ),
        (NotificationStatus::Failed, _) => format!(
            "Failed after {} attempts{}",
            n.attempts,
            n.last_error
                .as_deref()
                .map(|e| format!(": {e}"))
                .unwrap_or_default()
        ),
        (NotificationStatus::Cancelled, _) => "Not needed: acknowledged first".into(),
        (_, _) if n.attempts > 0 => format!(
            "Retrying (attempt {} failed{})",
            n.attempts,
            n.last_error
                .as_deref()
                .map(|e| format!(": {e}"))
                .unwrap_or_default()
        ),
        (_, _) => "Waiting to send".into(),
    }
}

/// The command roles (Gold, Silver, Bronze), who holds each and whether they acknowledged.
async fn commands_of(
    db: &impl ConnectionTrait,
    inc: &incident::Model,
    user: &User,
) -> Result<Vec<CommandView>, AppError> {
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
    Ok(Command::ALL
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
        .collect())
}

/// The incident this one was opened from.
async fn parent_of(
    db: &impl ConnectionTrait,
    inc: &incident::Model,
) -> Result<Option<ParentIncident>, AppError> {
    Ok(match inc.parent_id {
        Some(pid) => match incident::Entity::find_by_id(pid).one(db).await? {
            Some(p) => {
                let name = organisation::Entity::find_by_id(p.org_id)
                    .one(db)
                    .await?
                    .map(|o| o.name)
                    .unwrap_or_default();
                Some(ParentIncident {
                    reference: p.reference,
                    org_name: name,
                })
            }
            None => None,
        },
        None => None,
    })
}

/// The incidents opened from this one (a supplier's, at its clients) with their progress,
/// and, for a supplier, the clients that have none yet.
async fn linked_of(
    db: &impl ConnectionTrait,
    inc: &incident::Model,
    org_kind: OrgKind,
) -> Result<(Vec<LinkedView>, Vec<String>), AppError> {
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
                status: c.status,
                tasks_done: mine
                    .iter()
                    .filter(|t| matches!(t.state, TaskState::Done | TaskState::NotApplicable))
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
    Ok((linked, unlinked_clients))
}

/// People who may take a command role: holders of any role, in force now, at the incident's
/// organisations and their ancestors.
pub(crate) async fn command_candidates(
    db: &impl ConnectionTrait,
    inc: &incident::Model,
) -> Result<Vec<Candidate>, AppError> {
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
    let mut out: Vec<Candidate> = Vec::new();
    for h in holdings {
        let Some(p) = people.get(&h.person_id) else {
            continue;
        };
        if out.iter().any(|c| c.person_id == p.id) {
            continue;
        }
        out.push(Candidate {
            person_id: p.id,
            label: format!(
                "{}, {} at {}",
                p.display_name,
                roles.get(&h.role_id).cloned().unwrap_or_default(),
                names.get(&h.org_id).cloned().unwrap_or_default()
            ),
        });
    }
    out.sort_by(|a, b| a.label.cmp(&b.label));
    Ok(out)
}

/// The organisations a supplier serves now that have no incident linked to `linked_orgs`.
pub(crate) async fn unlinked_clients(
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
