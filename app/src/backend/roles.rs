//! The role catalogue: seeded with the NHS roles at start-up (adding any a new release
//! brings, never undoing an admin's edits), extended by national admins.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use time::OffsetDateTime;

use super::entity::role;
use crate::domain::org::OrgKind;
use crate::domain::roles::{RoleView, SEED, join_kinds, parse_kinds};
use crate::error::AppError;

pub fn view(r: &role::Model) -> RoleView {
    RoleView {
        key: r.key.clone(),
        name: r.name.clone(),
        description: r.description.clone(),
        applies_to: parse_kinds(&r.applies_to),
        mandatory: r.mandatory,
        system: r.system,
    }
}

/// Adds the seeded roles that are missing. Returns how many were added.
pub async fn seed(db: &impl ConnectionTrait) -> Result<usize, AppError> {
    let mut added = 0;
    for (key, name, kinds, mandatory, description) in SEED {
        if role::Entity::find()
            .filter(role::Column::Key.eq(*key))
            .one(db)
            .await?
            .is_none()
        {
            role::ActiveModel {
                key: Set((*key).to_owned()),
                name: Set((*name).to_owned()),
                description: Set(Some((*description).to_owned())),
                applies_to: Set(join_kinds(kinds)),
                mandatory: Set(*mandatory),
                system: Set(true),
                created_at: Set(OffsetDateTime::now_utc()),
                ..Default::default()
            }
            .insert(db)
            .await?;
            added += 1;
        }
    }
    Ok(added)
}

pub async fn all(db: &impl ConnectionTrait) -> Result<Vec<role::Model>, AppError> {
    Ok(role::Entity::find()
        .order_by_asc(role::Column::Id)
        .all(db)
        .await?)
}

pub async fn find_by_key(
    db: &impl ConnectionTrait,
    key: &str,
) -> Result<Option<role::Model>, AppError> {
    Ok(role::Entity::find()
        .filter(role::Column::Key.eq(key.trim()))
        .one(db)
        .await?)
}

/// Adds a role to the catalogue (national admins only; checked by the caller).
pub async fn add(
    db: &impl ConnectionTrait,
    key: &str,
    name: &str,
    applies_to: &[OrgKind],
    mandatory: bool,
    description: Option<String>,
) -> Result<RoleView, AppError> {
    let key = key.trim().to_lowercase();
    if key.is_empty()
        || key.len() > 48
        || !key
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        return Err(AppError::Invalid(
            "A role key is 1 to 48 lower-case letters, digits or underscores.".into(),
        ));
    }
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 120 {
        return Err(AppError::Invalid(
            "Give the role a name of up to 120 characters.".into(),
        ));
    }
    if applies_to.is_empty() {
        return Err(AppError::Invalid(
            "Say which kinds of organisation the role applies to.".into(),
        ));
    }
    let row = role::ActiveModel {
        key: Set(key),
        name: Set(name.to_owned()),
        description: Set(description.filter(|d| !d.trim().is_empty())),
        applies_to: Set(join_kinds(applies_to)),
        mandatory: Set(mandatory),
        system: Set(false),
        created_at: Set(OffsetDateTime::now_utc()),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(|e| match AppError::from(e) {
        AppError::Conflict(_) => AppError::Conflict("A role with that key already exists.".into()),
        other => other,
    })?;
    Ok(view(&row))
}
