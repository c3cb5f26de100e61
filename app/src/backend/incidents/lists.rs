//! Lists: the incidents a person may see, a page at a time, and a person's open tasks as a
//! worklist.

use std::collections::{HashMap, HashSet};

use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use time::OffsetDateTime;

use crate::backend::access::{self, User};

use crate::backend::entity::{incident, incident_org, organisation, task};
use crate::domain::incidents::{
    ExerciseKind, IncidentKind, IncidentLevel, IncidentRow, IncidentStatus, TaskState, TaskView,
    WorkItem, most_urgent_first,
};
use crate::domain::listing::Listing;
use crate::error::AppError;

use crate::backend::incidents::view::task_views;

/// The person's open tasks, the one due first first, with the incidents they belong to.
async fn open_tasks(
    db: &impl ConnectionTrait,
    user: &User,
) -> Result<(Vec<task::Model>, Vec<incident::Model>), AppError> {
    let tasks = task::Entity::find()
        .filter(task::Column::AssigneeId.eq(user.person_id))
        .filter(task::Column::State.is_in([
            TaskState::Open,
            TaskState::Acknowledged,
            TaskState::InProgress,
        ]))
        .order_by_asc(task::Column::DueAt)
        .order_by_asc(task::Column::Id)
        .all(db)
        .await?;
    let ids: Vec<i64> = tasks.iter().map(|t| t.incident_id).collect();
    let incidents = incident::Entity::find()
        .filter(incident::Column::Id.is_in(ids))
        .all(db)
        .await?;
    Ok((tasks, incidents))
}

pub async fn my_tasks(db: &impl ConnectionTrait, user: &User) -> Result<Vec<TaskView>, AppError> {
    let (tasks, incidents) = open_tasks(db, user).await?;
    let refs: HashMap<i64, String> = incidents.into_iter().map(|i| (i.id, i.reference)).collect();
    task_views(db, user, tasks, &refs, &HashSet::new()).await
}

/// "My tasks" as a worklist: the person's open tasks grouped under their incidents, the
/// most urgent incident first (`domain::incidents::most_urgent_first`).
pub async fn my_worklist(
    db: &impl ConnectionTrait,
    user: &User,
) -> Result<Vec<WorkItem>, AppError> {
    let (tasks, incidents) = open_tasks(db, user).await?;
    let first_due: HashMap<i64, OffsetDateTime> = tasks
        .iter()
        .rev()
        .map(|t| (t.incident_id, t.due_at))
        .collect();
    let names = org_names(db, incidents.iter().map(|i| i.org_id)).await?;
    let refs: HashMap<i64, String> = incidents
        .iter()
        .map(|i| (i.id, i.reference.clone()))
        .collect();
    let mut views = task_views(db, user, tasks, &refs, &HashSet::new()).await?;
    let mut items: Vec<WorkItem> = incidents
        .into_iter()
        .map(|i| {
            let (mine, rest): (Vec<TaskView>, Vec<TaskView>) = views
                .drain(..)
                .partition(|t| t.incident_reference == i.reference);
            views = rest;
            WorkItem {
                title: title_of(&i),
                exercise: i.exercise.is_some(),
                level: i.level,
                org_name: names.get(&i.org_id).cloned().unwrap_or_default(),
                declared_at: i.declared_at,
                first_due: first_due.get(&i.id).copied().unwrap_or(i.declared_at),
                reference: i.reference,
                tasks: mine,
            }
        })
        .filter(|w| !w.tasks.is_empty())
        .collect();
    most_urgent_first(&mut items);
    Ok(items)
}

/// What kind of incident, marked when it is an exercise.
fn title_of(i: &incident::Model) -> String {
    let kind = IncidentKind::parse(&i.kind)
        .map(|k| k.title())
        .unwrap_or("Incident");
    match i.exercise.as_deref().and_then(ExerciseKind::parse) {
        Some(e) => format!("EXERCISE ({}): {kind}", e.label()),
        None => kind.to_owned(),
    }
}

async fn org_names(
    db: &impl ConnectionTrait,
    ids: impl Iterator<Item = i64>,
) -> Result<HashMap<i64, String>, AppError> {
    Ok(organisation::Entity::find()
        .filter(organisation::Column::Id.is_in(ids.collect::<HashSet<_>>()))
        .all(db)
        .await?
        .into_iter()
        .map(|o| (o.id, o.name))
        .collect())
}

/// One page of the incidents the caller may see: their own first (declared by them or with
/// a task of theirs), then those still open, the highest level first, then the newest. The
/// database orders and cuts the page, so a national team's list reads 50 rows, not England.
pub async fn list(
    db: &impl ConnectionTrait,
    user: &User,
    page: u64,
) -> Result<Listing<IncidentRow>, AppError> {
    list_where(db, user, page, &IncidentFilter::default()).await
}

/// Which incidents a list holds, besides the caller's reach.
#[derive(Debug, Clone, Default)]
pub struct IncidentFilter {
    /// Only those still open (`Some(true)`) or only those over (`Some(false)`).
    pub open: Option<bool>,
    /// Only those of this organisation (its code; it must be within the caller's reach).
    pub org_code: Option<String>,
}

/// As [`list`], narrowed by `filter`.
pub async fn list_where(
    db: &impl ConnectionTrait,
    user: &User,
    page: u64,
    filter: &IncidentFilter,
) -> Result<Listing<IncidentRow>, AppError> {
    use sea_orm::sea_query::Query;
    use sea_orm::{PaginatorTrait, QuerySelect};

    let scope = access::readable_orgs(db, user).await?;
    let mut q = incident::Entity::find();
    if let Some(code) = &filter.org_code {
        let org = access::org_in_reach(db, user, code, access::Action::Read).await?;
        q = q.filter(incident::Column::OrgId.eq(org.id));
    }
    let over = [
        crate::domain::incidents::IncidentStatus::Closed,
        crate::domain::incidents::IncidentStatus::StoodDown,
    ];
    match filter.open {
        Some(true) => q = q.filter(incident::Column::Status.is_not_in(over)),
        Some(false) => q = q.filter(incident::Column::Status.is_in(over)),
        None => {}
    }
    if let Some(ids) = &scope {
        let ids: Vec<i64> = ids.iter().copied().collect();
        let affected = Query::select()
            .column(incident_org::Column::IncidentId)
            .from(incident_org::Entity)
            .and_where(incident_org::Column::OrgId.is_in(ids.clone()))
            .to_owned();
        q = q.filter(
            Condition::any()
                .add(incident::Column::OrgId.is_in(ids))
                .add(incident::Column::Id.in_subquery(affected)),
        );
    }
    let total = q.clone().count(db).await?;
    let (page, skip) = crate::domain::listing::window(page, total);

    let rows = in_order(q, user)
        .offset(skip)
        .limit(crate::domain::listing::PER_PAGE)
        .all(db)
        .await?;

    let with_my_tasks: HashSet<i64> = task::Entity::find()
        .filter(task::Column::AssigneeId.eq(user.person_id))
        .filter(task::Column::IncidentId.is_in(rows.iter().map(|r| r.id).collect::<Vec<_>>()))
        .all(db)
        .await?
        .into_iter()
        .map(|t| t.incident_id)
        .collect();
    let names = org_names(db, rows.iter().map(|r| r.org_id)).await?;
    let items = rows
        .into_iter()
        .map(|r| IncidentRow {
            title: title_of(&r),
            org_name: names.get(&r.org_id).cloned().unwrap_or_default(),
            status: r.status,
            level: r.level,
            declared_at: r.declared_at,
            mine: r.declared_by == user.person_id || with_my_tasks.contains(&r.id),
            reference: r.reference,
        })
        .collect();
    Ok(Listing::from_page(items, page, total))
}

/// The list's order: the caller's own first (declared by them or with a task of theirs),
/// then those still open, the highest level first, then the newest.
fn in_order(
    q: sea_orm::Select<incident::Entity>,
    user: &User,
) -> sea_orm::Select<incident::Entity> {
    use sea_orm::sea_query::{CaseStatement, Expr, Order, Query, SimpleExpr};
    let with_my_tasks = Query::select()
        .column(task::Column::IncidentId)
        .from(task::Entity)
        .and_where(task::Column::AssigneeId.eq(user.person_id))
        .to_owned();
    let mine = Expr::case(
        Condition::any()
            .add(incident::Column::DeclaredBy.eq(user.person_id))
            .add(incident::Column::Id.in_subquery(with_my_tasks)),
        1,
    )
    .finally(0);
    let finished: Vec<IncidentStatus> = IncidentStatus::ALL
        .iter()
        .copied()
        .filter(|s| !s.open())
        .collect();
    let open = Expr::case(incident::Column::Status.is_in(finished), 0).finally(1);
    let level = IncidentLevel::ALL
        .iter()
        .fold(CaseStatement::new(), |case, l| {
            case.case(incident::Column::Level.eq(*l), i32::from(l.rank()))
        })
        .finally(0);
    q.order_by(Into::<SimpleExpr>::into(mine), Order::Desc)
        .order_by(Into::<SimpleExpr>::into(open), Order::Desc)
        .order_by(Into::<SimpleExpr>::into(level), Order::Desc)
        .order_by_desc(incident::Column::DeclaredAt)
        .order_by_desc(incident::Column::Reference)
}
