//! Who may read or lead an incident, and the organisations it belongs to.

use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::backend::access::{self, User};

use crate::backend::entity::{incident, incident_command, incident_org, task};
use crate::backend::timeline;
use crate::error::AppError;

pub(crate) async fn event(
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
pub(crate) async fn incident_orgs(
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
    readable(db, user, inc).await
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
    readable(db, user, inc).await
}

/// The incident already read, if `user` may see it (its organisation or an affected one
/// within their scope); otherwise not found, so its existence is not given away.
pub(crate) async fn readable(
    db: &impl ConnectionTrait,
    user: &User,
    inc: incident::Model,
) -> Result<incident::Model, AppError> {
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

/// A task and the incident it belongs to, or not found. No access check: callers decide.
pub(crate) async fn task_with_incident(
    db: &impl ConnectionTrait,
    task_id: i64,
) -> Result<(task::Model, incident::Model), AppError> {
    let t = task::Entity::find_by_id(task_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let inc = incident::Entity::find_by_id(t.incident_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok((t, inc))
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
