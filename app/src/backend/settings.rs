//! Settings an admin can change at run time, with their defaults.

use sea_orm::sea_query::OnConflict;
use sea_orm::{ConnectionTrait, EntityTrait, Set};

use super::entity::setting;
use crate::error::AppError;

pub const ATTESTATION_DAYS: (&str, i64) = ("attestation_days", 90);
pub const MAX_MANDATORY_ROLES: (&str, i64) = ("max_mandatory_roles", 3);

pub async fn get_i64(
    db: &impl ConnectionTrait,
    (key, default): (&str, i64),
) -> Result<i64, AppError> {
    Ok(setting::Entity::find_by_id(key.to_owned())
        .one(db)
        .await?
        .and_then(|s| s.value.parse().ok())
        .unwrap_or(default))
}

pub async fn set_i64(db: &impl ConnectionTrait, key: &str, value: i64) -> Result<(), AppError> {
    setting::Entity::insert(setting::ActiveModel {
        key: Set(key.to_owned()),
        value: Set(value.to_string()),
    })
    .on_conflict(
        OnConflict::column(setting::Column::Key)
            .update_column(setting::Column::Value)
            .to_owned(),
    )
    .exec(db)
    .await?;
    Ok(())
}
