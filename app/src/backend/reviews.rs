//! Post-incident reviews for incidents and exercises: leads write what happened, what went
//! well and the lessons, and set actions with owners and due dates; an action's owner (or a
//! lead) closes it, once. Every change is on the incident's timeline and in the audit log.

use std::collections::HashMap;

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, Set, TransactionTrait,
};

use super::access::User;
use super::entity::{person, review, review_action};
use super::incidents::{self, command_candidates, find_readable, finish, may_lead, touch};
use super::timeline;
use crate::domain::dates::moment;
use crate::domain::incidents::IncidentKind;
use crate::domain::reviews::{ActionView, MAX_TEXT, ReviewView, parse_due};
use crate::error::AppError;

fn text(raw: &str, what: &str) -> Result<String, AppError> {
    incidents::bounded(raw, what, MAX_TEXT, false)
}

/// Actions as shown, with who may close each.
async fn action_views(
    db: &impl ConnectionTrait,
    user: &User,
    actions: Vec<review_action::Model>,
    references: &HashMap<i64, String>,
    leads_of: &HashMap<i64, bool>,
) -> Result<Vec<ActionView>, AppError> {
    let people: HashMap<i64, String> = person::Entity::find()
        .filter(
            person::Column::Id.is_in(
                actions
                    .iter()
                    .flat_map(|a| [Some(a.owner_id), a.closed_by])
                    .flatten()
                    .collect::<Vec<_>>(),
            ),
        )
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.id, p.display_name))
        .collect();
    let today = timeline::now().date();
    Ok(actions
        .into_iter()
        .map(|a| ActionView {
            id: a.id,
            reference: references.get(&a.incident_id).cloned().unwrap_or_default(),
            owner: people.get(&a.owner_id).cloned().unwrap_or_default(),
            due_on: a.due_on.to_string(),
            overdue: a.closed_at.is_none() && a.due_on < today,
            closed: a.closed_at.map(|at| {
                format!(
                    "Closed {} by {}{}",
                    moment(at),
                    a.closed_by
                        .and_then(|p| people.get(&p).cloned())
                        .unwrap_or_default(),
                    a.closing_note
                        .as_ref()
                        .filter(|n| !n.is_empty())
                        .map(|n| format!(": {n}"))
                        .unwrap_or_default()
                )
            }),
            can_close: a.closed_at.is_none()
                && !user.is_read_only_user()
                && (a.owner_id == user.person_id
                    || leads_of.get(&a.incident_id).copied().unwrap_or(false)),
            title: a.title,
        })
        .collect())
}

/// The review page for an incident or exercise.
pub async fn view(
    db: &impl ConnectionTrait,
    user: &User,
    reference: &str,
) -> Result<ReviewView, AppError> {
    let inc = find_readable(db, user, reference).await?;
    let can_edit = may_lead(db, user, inc.org_id).await?;
    let r = review::Entity::find()
        .filter(review::Column::IncidentId.eq(inc.id))
        .one(db)
        .await?;
    let actions = review_action::Entity::find()
        .filter(review_action::Column::IncidentId.eq(inc.id))
        .order_by_asc(review_action::Column::Id)
        .all(db)
        .await?;
    let references = HashMap::from([(inc.id, inc.reference.clone())]);
    let leads = HashMap::from([(inc.id, can_edit)]);
    let updated_by = match r.as_ref().and_then(|r| r.updated_by) {
        Some(p) => person::Entity::find_by_id(p)
            .one(db)
            .await?
            .map(|p| p.display_name),
        None => None,
    };
    Ok(ReviewView {
        title: IncidentKind::parse(&inc.kind)
            .map(|k| k.title())
            .unwrap_or("Incident")
            .to_owned(),
        exercise: inc.exercise.is_some(),
        what_happened: r
            .as_ref()
            .map(|r| r.what_happened.clone())
            .unwrap_or_default(),
        went_well: r.as_ref().map(|r| r.went_well.clone()).unwrap_or_default(),
        lessons: r.as_ref().map(|r| r.lessons.clone()).unwrap_or_default(),
        updated: r.as_ref().map(|r| {
            format!(
                "{} by {}",
                moment(r.updated_at),
                updated_by.clone().unwrap_or_default()
            )
        }),
        actions: action_views(db, user, actions, &references, &leads).await?,
        owners: if can_edit {
            command_candidates(db, &inc).await?
        } else {
            Vec::new()
        },
        can_edit,
        reference: inc.reference,
    })
}

/// Saves the review's text (the incident's leads).
pub async fn save(
    db: &DatabaseConnection,
    user: &User,
    reference: &str,
    what_happened: &str,
    went_well: &str,
    lessons: &str,
) -> Result<(), AppError> {
    let inc = find_readable(db, user, reference).await?;
    if !may_lead(db, user, inc.org_id).await? {
        return Err(AppError::Forbidden);
    }
    let (what_happened, went_well, lessons) = (
        text(what_happened, "what happened")?,
        text(went_well, "what went well")?,
        text(lessons, "the lessons")?,
    );
    let now = timeline::now();
    let txn = db.begin().await?;
    touch(&txn, inc.id).await?;
    let existing = review::Entity::find()
        .filter(review::Column::IncidentId.eq(inc.id))
        .one(&txn)
        .await?;
    let mut row = match existing {
        Some(r) => r.into(),
        None => review::ActiveModel {
            incident_id: Set(inc.id),
            ..Default::default()
        },
    };
    row.what_happened = Set(what_happened);
    row.went_well = Set(went_well);
    row.lessons = Set(lessons);
    row.updated_at = Set(now);
    row.updated_by = Set(Some(user.person_id));
    row.save(&txn).await?;
    let detail = format!("Post-incident review saved ({})", user.name);
    finish(&txn, user, &inc, "review", "review_saved", detail).await?;
    txn.commit().await?;
    Ok(())
}

/// Adds an action with an owner and due date (the incident's leads). The owner must be
/// someone who holds a role at the incident's organisations or above.
pub async fn add_action(
    db: &DatabaseConnection,
    user: &User,
    reference: &str,
    title: &str,
    owner_id: i64,
    due_on: &str,
) -> Result<(), AppError> {
    let inc = find_readable(db, user, reference).await?;
    if !may_lead(db, user, inc.org_id).await? {
        return Err(AppError::Forbidden);
    }
    let title = title.trim();
    if title.is_empty() {
        return Err(AppError::Invalid("Say what the action is.".into()));
    }
    if title.chars().count() > 300 {
        return Err(AppError::Invalid(
            "Keep the action to 300 characters.".into(),
        ));
    }
    let due = parse_due(due_on).map_err(AppError::Invalid)?;
    if due < timeline::now().date() {
        return Err(AppError::Invalid("The due date has already passed.".into()));
    }
    let owners = command_candidates(db, &inc).await?;
    // Only the people the review offers as owners; anyone else does not exist.
    let Some(owner) = owners
        .iter()
        .find(|c| c.person_id == owner_id)
        .map(|c| &c.label)
    else {
        return Err(AppError::NotFound);
    };
    let now = timeline::now();
    let txn = db.begin().await?;
    touch(&txn, inc.id).await?;
    review_action::ActiveModel {
        incident_id: Set(inc.id),
        title: Set(title.to_owned()),
        owner_id: Set(owner_id),
        due_on: Set(due),
        closed_at: Set(None),
        closed_by: Set(None),
        closing_note: Set(None),
        created_at: Set(now),
        created_by: Set(Some(user.person_id)),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let detail = format!(
        "Review action “{title}” for {owner}, due {due} ({})",
        user.name
    );
    finish(&txn, user, &inc, "review", "review_action_added", detail).await?;
    txn.commit().await?;
    Ok(())
}

/// Closes an action, with a note: its owner or the incident's leads; once.
pub async fn close_action(
    db: &DatabaseConnection,
    user: &User,
    action_id: i64,
    note: &str,
) -> Result<(), AppError> {
    let a = review_action::Entity::find_by_id(action_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let inc = incidents::find_readable_by_id(db, user, a.incident_id).await?;
    if user.is_read_only_user()
        || (a.owner_id != user.person_id && !may_lead(db, user, inc.org_id).await?)
    {
        return Err(AppError::Forbidden);
    }
    let note = text(note, "the note")?;
    let now = timeline::now();
    let txn = db.begin().await?;
    touch(&txn, inc.id).await?;
    // Conditional: two people closing at once get one outcome.
    let closed = review_action::Entity::update_many()
        .filter(review_action::Column::Id.eq(a.id))
        .filter(review_action::Column::ClosedAt.is_null())
        .col_expr(review_action::Column::ClosedAt, Expr::value(now))
        .col_expr(review_action::Column::ClosedBy, Expr::value(user.person_id))
        .col_expr(
            review_action::Column::ClosingNote,
            Expr::value(note.clone()),
        )
        .exec(&txn)
        .await?;
    if closed.rows_affected == 0 {
        return Err(AppError::Conflict(
            "That action is already closed. Reload to see who closed it.".into(),
        ));
    }
    let detail = format!(
        "Review action “{}” closed ({}){}",
        a.title,
        user.name,
        if note.is_empty() {
            String::new()
        } else {
            format!(": {note}")
        }
    );
    finish(&txn, user, &inc, "review", "review_action_closed", detail).await?;
    txn.commit().await?;
    Ok(())
}

/// The open actions a person owns, across every incident, soonest due first.
pub async fn my_actions(
    db: &impl ConnectionTrait,
    user: &User,
) -> Result<Vec<ActionView>, AppError> {
    let actions = review_action::Entity::find()
        .filter(review_action::Column::OwnerId.eq(user.person_id))
        .filter(review_action::Column::ClosedAt.is_null())
        .order_by_asc(review_action::Column::DueOn)
        .all(db)
        .await?;
    let references: HashMap<i64, String> = super::entity::incident::Entity::find()
        .filter(
            super::entity::incident::Column::Id
                .is_in(actions.iter().map(|a| a.incident_id).collect::<Vec<_>>()),
        )
        .all(db)
        .await?
        .into_iter()
        .map(|i| (i.id, i.reference))
        .collect();
    action_views(db, user, actions, &references, &HashMap::new()).await
}
