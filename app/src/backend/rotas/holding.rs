//! A role held by a schedule instead of a named person, and the gaps that leaves.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, Set, TransactionTrait,
};
use time::OffsetDateTime;

use crate::backend::access::{self, Action, User};
use crate::backend::audit::{self, Event};
use crate::backend::entity::{on_call_schedule, role_schedule};
use crate::backend::rotas::reading::{gap_hours, load};
use crate::backend::rotas::schedule_in_reach;
use crate::error::AppError;

/// Lets an on-call schedule hold a role at the organisation with this code (organisation
/// admins); routing, escalation and the chart then name whoever is on call.
#[tracing::instrument(skip_all, err)]
pub async fn hold_role(
    db: &DatabaseConnection,
    user: &User,
    org_code: &str,
    role_key: &str,
    schedule_id: i64,
    client: Option<String>,
) -> Result<(), AppError> {
    let org = access::org_in_reach(db, user, org_code, Action::Administer).await?;
    let s = schedule_in_reach(db, user, schedule_id, Action::Administer).await?;
    if s.org_id != org.id {
        return Err(AppError::NotFound);
    }
    let role = crate::backend::entity::role::Entity::find()
        .filter(crate::backend::entity::role::Column::Key.eq(role_key.trim()))
        .one(db)
        .await?
        .ok_or_else(|| AppError::Invalid("Choose a role from the catalogue.".into()))?;
    let txn = db.begin().await?;
    role_schedule::Entity::delete_many()
        .filter(role_schedule::Column::OrgId.eq(org.id))
        .filter(role_schedule::Column::RoleId.eq(role.id))
        .exec(&txn)
        .await?;
    role_schedule::ActiveModel {
        org_id: Set(org.id),
        role_id: Set(role.id),
        schedule_id: Set(s.id),
        created_at: Set(crate::backend::timeline::now()),
        created_by: Set(Some(user.person_id)),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        Event {
            actor: Some(user.person_id),
            action: "rota_role_held",
            org: Some(org.id),
            subject: Some(format!("schedule:{}", s.id)),
            detail: Some(role.key),
            client,
            outcome: None,
        },
    )
    .await?;
    super::history::record(&txn, org.id, crate::backend::timeline::now()).await?;
    txn.commit().await?;
    Ok(())
}

/// Hands a role held by a schedule back to its named holder (organisation admins): routing,
/// escalation and the chart name the person assigned the role again (or show it vacant).
#[tracing::instrument(skip_all, err)]
pub async fn release_role(
    db: &DatabaseConnection,
    user: &User,
    org_code: &str,
    role_key: &str,
    client: Option<String>,
) -> Result<(), AppError> {
    let org = access::org_in_reach(db, user, org_code, Action::Administer).await?;
    let role = crate::backend::entity::role::Entity::find()
        .filter(crate::backend::entity::role::Column::Key.eq(role_key.trim()))
        .one(db)
        .await?
        .ok_or_else(|| AppError::Invalid("Choose a role from the catalogue.".into()))?;
    let txn = db.begin().await?;
    let Some(held) = role_schedule::Entity::find()
        .filter(role_schedule::Column::OrgId.eq(org.id))
        .filter(role_schedule::Column::RoleId.eq(role.id))
        .one(&txn)
        .await?
    else {
        return Err(AppError::Invalid(
            "No on-call schedule holds that role here.".into(),
        ));
    };
    role_schedule::Entity::delete_by_id(held.id)
        .exec(&txn)
        .await?;
    audit::record(
        &txn,
        Event {
            actor: Some(user.person_id),
            action: "rota_role_released",
            org: Some(org.id),
            subject: Some(format!("schedule:{}", held.schedule_id)),
            detail: Some(role.key),
            client,
            outcome: None,
        },
    )
    .await?;
    super::history::record(&txn, org.id, crate::backend::timeline::now()).await?;
    txn.commit().await?;
    Ok(())
}

/// Accountability gaps with rotas taken in: a role held by a schedule is not vacant, but is
/// a gap ([`GapKind::OnCallGap`]) when the schedule has nobody on call for some of the next
/// [`GAP_DAYS`] days.
pub async fn with_on_call_gaps(
    db: &impl ConnectionTrait,
    mut gaps: Vec<crate::domain::gaps::Gap>,
    at: OffsetDateTime,
    shown: impl Fn(i64) -> bool,
) -> Result<Vec<crate::domain::gaps::Gap>, AppError> {
    use crate::domain::gaps::{Gap, GapKind};
    let held = role_schedule::Entity::find()
        .order_by_asc(role_schedule::Column::Id)
        .all(db)
        .await?;
    if held.is_empty() {
        return Ok(gaps);
    }
    gaps.retain(|g| {
        g.kind != GapKind::Vacant
            || !held
                .iter()
                .any(|h| h.org_id == g.org_id && h.role_id == g.role_id)
    });
    let schedules = on_call_schedule::Entity::find()
        .filter(on_call_schedule::Column::Id.is_in(held.iter().map(|h| h.schedule_id)))
        .all(db)
        .await?;
    let loaded = load(db, schedules, at).await?;
    for h in held.iter().filter(|h| shown(h.org_id)) {
        if gap_hours(&loaded.schedule(h.schedule_id), at) > 0 {
            gaps.push(Gap {
                org_id: h.org_id,
                role_id: h.role_id,
                person_id: None,
                kind: GapKind::OnCallGap,
            });
        }
    }
    Ok(gaps)
}

/// The schedule holding a role in an organisation, if one does.
pub async fn schedule_for_role(
    db: &impl ConnectionTrait,
    org_id: i64,
    role_id: i64,
) -> Result<Option<i64>, AppError> {
    Ok(role_schedule::Entity::find()
        .filter(role_schedule::Column::OrgId.eq(org_id))
        .filter(role_schedule::Column::RoleId.eq(role_id))
        .one(db)
        .await?
        .map(|r| r.schedule_id))
}
