//! People: lookups, and the reads that respect who may see whom.

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use super::access::{self, User};
use super::entity::{organisation, person};
use super::orgs;
use crate::domain::auth::{Email, PersonView};
use crate::error::AppError;

pub async fn find_by_email(
    db: &impl ConnectionTrait,
    email: &str,
) -> Result<Option<person::Model>, AppError> {
    let Ok(email) = Email::parse(email) else {
        return Ok(None);
    };
    Ok(person::Entity::find()
        .filter(person::Column::Email.eq(email.as_str()))
        .one(db)
        .await?)
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
