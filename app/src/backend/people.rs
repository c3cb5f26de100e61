//! People: lookups, the reads that respect who may see whom, and the admin changes to a
//! person, each allowed only to admins whose subtree holds the person's home organisation.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
    TransactionTrait,
};

use super::access::{self, User};
use super::audit::{self, Event};
use super::entity::{organisation, person};
use super::{mfa, orgs, sessions};
use crate::domain::auth::PersonView;
use crate::error::AppError;

pub async fn find_by_email(
    db: &impl ConnectionTrait,
    email: &str,
) -> Result<Option<person::Model>, AppError> {
    Ok(person::find_by_email(db, email).await?)
}

fn view(p: person::Model, org: Option<&organisation::Model>) -> PersonView {
    PersonView {
        name: p.display_name,
        email: p.email,
        job_title: p.job_title,
        org_code: org.map(|o| o.code.clone()),
        org_name: org.map(|o| o.name.clone()),
        disabled: p.disabled,
    }
}

/// The people of one organisation, if the caller may read it.
pub async fn list_in_org(
    db: &impl ConnectionTrait,
    user: &User,
    org_code: &str,
) -> Result<Vec<PersonView>, AppError> {
    let org = orgs::find_by_code(db, org_code)
        .await?
        .ok_or(AppError::NotFound)?;
    if !access::within(&access::readable_orgs(db, user).await?, org.id) {
        return Err(AppError::NotFound);
    }
    Ok(person::Entity::find()
        .filter(person::Column::OrgId.eq(org.id))
        .order_by_asc(person::Column::DisplayName)
        .all(db)
        .await?
        .into_iter()
        .map(|p| view(p, Some(&org)))
        .collect())
}

/// One person, if the caller may read their organisation.
pub async fn get_visible(
    db: &impl ConnectionTrait,
    user: &User,
    email: &str,
) -> Result<PersonView, AppError> {
    let p = find_by_email(db, email).await?.ok_or(AppError::NotFound)?;
    let Some(org_id) = p.org_id else {
        return Err(AppError::NotFound);
    };
    if !access::within(&access::readable_orgs(db, user).await?, org_id) {
        return Err(AppError::NotFound);
    }
    let org = organisation::Entity::find_by_id(org_id).one(db).await?;
    Ok(view(p, org.as_ref()))
}

/// A person the actor administers: their home organisation lies in the actor's admin
/// subtree (anywhere, for national admins). Anyone else, and the actor themselves, is
/// `NotFound`, so an admin learns nothing about people beyond their reach.
pub async fn administered_person(
    db: &impl ConnectionTrait,
    actor: &User,
    email: &str,
) -> Result<person::Model, AppError> {
    let p = find_by_email(db, email).await?.ok_or(AppError::NotFound)?;
    let scope = access::administered_orgs(db, actor).await?;
    if p.id == actor.person_id || !p.org_id.is_some_and(|o| access::within(&scope, o)) {
        return Err(AppError::NotFound);
    }
    Ok(p)
}

/// Disables (or re-enables) a person the actor administers; disabling ends their sessions.
pub async fn set_disabled(
    db: &sea_orm::DatabaseConnection,
    actor: &User,
    email: &str,
    disabled: bool,
) -> Result<(), AppError> {
    let p = administered_person(db, actor, email).await?;
    mark_disabled(db, Some(actor.person_id), p.id, disabled).await
}

/// Resets the two-step verification of a person the actor administers (a lost phone): they
/// are signed out everywhere and enrol again at their next sign-in.
pub async fn reset_mfa(
    db: &sea_orm::DatabaseConnection,
    actor: &User,
    email: &str,
    client: Option<String>,
) -> Result<(), AppError> {
    let p = administered_person(db, actor, email).await?;
    mfa::reset(db, actor.person_id, p.id, client).await
}

/// Disables or re-enables a person; disabling ends all their sessions at once.
pub async fn mark_disabled(
    db: &sea_orm::DatabaseConnection,
    actor: Option<i64>,
    person_id: i64,
    disabled: bool,
) -> Result<(), AppError> {
    let txn = db.begin().await?;
    let p = person::Entity::find_by_id(person_id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    let email = p.email.clone();
    let was = p.disabled;
    let mut row: person::ActiveModel = p.into();
    row.disabled = Set(disabled);
    row.update(&txn).await?;
    // Kept, so a chart of an earlier moment shows whether they were disabled then.
    if was != disabled {
        super::entity::person_status::ActiveModel {
            person_id: Set(person_id),
            disabled: Set(disabled),
            changed_at: Set(time::OffsetDateTime::now_utc()),
            changed_by: Set(actor),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
    }
    if disabled {
        sessions::end_all(&txn, person_id, None).await?;
    }
    audit::record(
        &txn,
        Event {
            actor,
            action: if disabled {
                "person_disabled"
            } else {
                "person_enabled"
            },
            subject: Some(email),
            ..Default::default()
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}
