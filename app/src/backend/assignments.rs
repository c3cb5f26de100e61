//! Assignments: a named person holds a role in an organisation, with a deputy and contact
//! details, from a start to an end. Changing the holder ends one assignment and starts
//! another, so any past moment keeps its answer.

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait,
    QueryFilter, QueryOrder, Set, TransactionTrait,
};
use time::OffsetDateTime;

use super::access::{self, Action, User};
use super::audit::{self, Event};
use super::entity::{assignment, organisation, person};
use super::{orgs, roles};
use crate::domain::auth::MyHolding;
use crate::domain::gaps::{HoldingFact, Rules, is_stale};
use crate::domain::roles::parse_kinds;
use crate::error::AppError;

/// Assignments in force at `at`.
pub fn in_force_at(at: OffsetDateTime) -> Condition {
    Condition::all()
        .add(assignment::Column::StartsAt.lte(at))
        .add(
            Condition::any()
                .add(assignment::Column::EndsAt.is_null())
                .add(assignment::Column::EndsAt.gt(at)),
        )
}

/// Who held `role_key` at `org_code` at `at`.
pub async fn holder_at(
    db: &impl ConnectionTrait,
    org_code: &str,
    role_key: &str,
    at: OffsetDateTime,
) -> Result<Option<person::Model>, AppError> {
    let org = orgs::find_by_code(db, org_code)
        .await?
        .ok_or(AppError::NotFound)?;
    let role = roles::find_by_key(db, role_key)
        .await?
        .ok_or(AppError::NotFound)?;
    let Some(a) = assignment::Entity::find()
        .filter(assignment::Column::OrgId.eq(org.id))
        .filter(assignment::Column::RoleId.eq(role.id))
        .filter(in_force_at(at))
        .order_by_desc(assignment::Column::StartsAt)
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    Ok(person::Entity::find_by_id(a.person_id).one(db).await?)
}

/// What an admin supplies to give a role to someone.
#[derive(Debug, Clone, Default)]
pub struct AssignInput {
    pub org_code: String,
    pub role_key: String,
    pub holder_email: String,
    pub deputy_email: Option<String>,
    pub work_phone: Option<String>,
    pub out_of_hours_phone: Option<String>,
    pub contact_email: Option<String>,
    pub starts_at: Option<OffsetDateTime>,
}

fn phone(raw: Option<String>) -> Result<Option<String>, AppError> {
    let Some(p) = raw.map(|p| p.trim().to_owned()).filter(|p| !p.is_empty()) else {
        return Ok(None);
    };
    let digits = p.chars().filter(char::is_ascii_digit).count();
    if p.len() > 32 || digits < 5 || !p.chars().all(|c| c.is_ascii_digit() || " +()-".contains(c)) {
        return Err(AppError::Invalid(format!(
            "“{p}” is not a phone number. Use digits, spaces and + ( ) -."
        )));
    }
    Ok(Some(p))
}

/// The organisation, holder and deputy an assignment names: the organisation one the admin
/// administers, and holder and deputy people they keep; anyone else does not exist for them.
async fn parties(
    db: &DatabaseConnection,
    actor: &User,
    input: &AssignInput,
) -> Result<(organisation::Model, person::Model, Option<person::Model>), AppError> {
    let org = access::org_in_reach(db, actor, &input.org_code, Action::Administer).await;
    let holder = access::person_in_reach(db, actor, &input.holder_email, Action::Administer).await;
    let deputy = match input
        .deputy_email
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty())
    {
        Some(e) => Some(access::person_in_reach(db, actor, e, Action::Administer).await),
        None => None,
    };
    access::absent_first(&[
        org.as_ref().err(),
        holder.as_ref().err(),
        deputy.as_ref().and_then(|d| d.as_ref().err()),
    ])?;
    Ok((org?, holder?, deputy.transpose()?))
}

/// An optional email field: blank is none, anything else must be an address.
fn optional_email(raw: Option<&str>) -> Result<Option<String>, AppError> {
    match raw.map(str::trim).filter(|e| !e.is_empty()) {
        Some(e) => Ok(Some(
            crate::domain::auth::Email::parse(e)
                .map_err(AppError::Invalid)?
                .as_str()
                .to_owned(),
        )),
        None => Ok(None),
    }
}

/// Gives a role to a person (ending whoever held it), within the admin's subtree.
pub async fn assign(
    db: &DatabaseConnection,
    actor: &User,
    input: AssignInput,
) -> Result<i64, AppError> {
    let (org, holder, deputy) = parties(db, actor, &input).await?;
    let role = roles::find_by_key(db, &input.role_key)
        .await?
        .ok_or(AppError::NotFound)?;
    let kind = org.summary().kind;
    if !parse_kinds(&role.applies_to).contains(&kind) {
        return Err(AppError::Invalid(format!(
            "{} does not apply to a {}.",
            role.name,
            kind.label().to_lowercase()
        )));
    }
    let contact_email = optional_email(input.contact_email.as_deref())?;
    let work_phone = phone(input.work_phone)?;
    let out_of_hours_phone = phone(input.out_of_hours_phone)?;
    let now = OffsetDateTime::now_utc();
    let starts_at = input.starts_at.unwrap_or(now);

    let txn = db.begin().await?;
    assignment::Entity::update_many()
        .col_expr(assignment::Column::EndsAt, Expr::value(starts_at))
        .filter(assignment::Column::OrgId.eq(org.id))
        .filter(assignment::Column::RoleId.eq(role.id))
        .filter(assignment::Column::EndsAt.is_null())
        .exec(&txn)
        .await?;
    let row = assignment::ActiveModel {
        org_id: Set(org.id),
        role_id: Set(role.id),
        person_id: Set(holder.id),
        deputy_id: Set(deputy.as_ref().map(|d| d.id)),
        work_phone: Set(work_phone),
        out_of_hours_phone: Set(out_of_hours_phone),
        contact_email: Set(contact_email),
        starts_at: Set(starts_at),
        ends_at: Set(None),
        confirmed_at: Set(None),
        created_at: Set(now),
        created_by: Set(Some(actor.person_id)),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        Event {
            actor: Some(actor.person_id),
            action: "role_assigned",
            org: Some(org.id),
            subject: Some(holder.email.clone()),
            detail: Some(format!(
                "{} (deputy {})",
                role.key,
                deputy.map_or("none".into(), |d| d.email)
            )),
            ..Default::default()
        },
    )
    .await?;
    txn.commit().await?;
    Ok(row.id)
}

/// Ends an assignment now (the role falls vacant).
pub async fn end(
    db: &DatabaseConnection,
    actor: &User,
    assignment_id: i64,
) -> Result<(), AppError> {
    let a = assignment::Entity::find_by_id(assignment_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    access::org_id_in_reach(db, actor, a.org_id, Action::Administer).await?;
    let txn = db.begin().await?;
    let ended = assignment::Entity::update_many()
        .col_expr(
            assignment::Column::EndsAt,
            Expr::value(OffsetDateTime::now_utc()),
        )
        .filter(assignment::Column::Id.eq(a.id))
        .filter(assignment::Column::EndsAt.is_null())
        .exec(&txn)
        .await?;
    if ended.rows_affected != 1 {
        return Err(AppError::Conflict(
            "That assignment has already ended.".into(),
        ));
    }
    audit::record(
        &txn,
        Event {
            actor: Some(actor.person_id),
            action: "role_ended",
            org: Some(a.org_id),
            detail: Some(format!("assignment {}", a.id)),
            ..Default::default()
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// The holder confirms "I hold this role and these details are right".
pub async fn confirm(
    db: &DatabaseConnection,
    user: &User,
    assignment_id: i64,
) -> Result<(), AppError> {
    let txn = db.begin().await?;
    let done = assignment::Entity::update_many()
        .col_expr(
            assignment::Column::ConfirmedAt,
            Expr::value(OffsetDateTime::now_utc()),
        )
        .filter(assignment::Column::Id.eq(assignment_id))
        .filter(assignment::Column::PersonId.eq(user.person_id))
        .filter(assignment::Column::EndsAt.is_null())
        .exec(&txn)
        .await?;
    if done.rows_affected != 1 {
        return Err(AppError::NotFound);
    }
    audit::record(
        &txn,
        Event {
            actor: Some(user.person_id),
            action: "role_confirmed",
            detail: Some(format!("assignment {assignment_id}")),
            ..Default::default()
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// The caller's current assignments.
pub async fn of_person(
    db: &impl ConnectionTrait,
    person_id: i64,
) -> Result<Vec<assignment::Model>, AppError> {
    Ok(assignment::Entity::find()
        .filter(assignment::Column::PersonId.eq(person_id))
        .filter(assignment::Column::EndsAt.is_null())
        .all(db)
        .await?)
}

/// The caller's current holdings, with whether each is due for confirmation.
pub async fn mine(db: &impl ConnectionTrait, person_id: i64) -> Result<Vec<MyHolding>, AppError> {
    use super::entity::{organisation, role};
    let holdings = of_person(db, person_id).await?;
    if holdings.is_empty() {
        return Ok(Vec::new());
    }
    let rules = Rules {
        now: OffsetDateTime::now_utc(),
        attestation_days: super::settings::get_i64(db, super::settings::ATTESTATION_DAYS).await?,
        max_mandatory_roles: usize::MAX,
    };
    let org_ids: Vec<i64> = holdings.iter().map(|h| h.org_id).collect();
    let orgs: std::collections::HashMap<i64, organisation::Model> = organisation::Entity::find()
        .filter(organisation::Column::Id.is_in(org_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|o| (o.id, o))
        .collect();
    let roles: std::collections::HashMap<i64, role::Model> = role::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.id, r))
        .collect();
    Ok(holdings
        .into_iter()
        .map(|h| {
            let fact = holding_fact(&h);
            MyHolding {
                id: h.id,
                org_code: orgs
                    .get(&h.org_id)
                    .map(|o| o.code.clone())
                    .unwrap_or_default(),
                org_name: orgs
                    .get(&h.org_id)
                    .map(|o| o.name.clone())
                    .unwrap_or_default(),
                role_name: roles
                    .get(&h.role_id)
                    .map(|r| r.name.clone())
                    .unwrap_or_default(),
                // The day on UK clocks, as every date on the pages.
                confirmed: h.confirmed_at.map(|t| {
                    crate::domain::dates::long(crate::domain::rota::london_local(t).date())
                }),
                stale: is_stale(&fact, &rules),
            }
        })
        .collect())
}

/// What the gap rules need to know of a holding.
pub(crate) fn holding_fact(h: &assignment::Model) -> HoldingFact {
    HoldingFact {
        org_id: h.org_id,
        role_id: h.role_id,
        person_id: h.person_id,
        deputy_id: h.deputy_id,
        confirmed_at: h.confirmed_at,
        starts_at: h.starts_at,
    }
}
