//! Notification preferences: whether a person takes escalation email (on unless turned off).

use sea_orm::{ConnectionTrait, EntityTrait, Set};

use crate::backend::entity::notification_pref;
use crate::backend::timeline;
use crate::error::AppError;

/// Whether the caller takes escalation emails (on unless turned off).
pub async fn wants_email(db: &impl ConnectionTrait, person_id: i64) -> Result<bool, AppError> {
    Ok(notification_pref::Entity::find_by_id(person_id)
        .one(db)
        .await?
        .is_none_or(|p| p.email))
}

pub async fn set_wants_email(
    db: &impl ConnectionTrait,
    person_id: i64,
    email: bool,
) -> Result<(), AppError> {
    use sea_orm::sea_query::OnConflict;
    notification_pref::Entity::insert(notification_pref::ActiveModel {
        person_id: Set(person_id),
        email: Set(email),
        updated_at: Set(timeline::now()),
    })
    .on_conflict(
        OnConflict::column(notification_pref::Column::PersonId)
            .update_columns([
                notification_pref::Column::Email,
                notification_pref::Column::UpdatedAt,
            ])
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(())
}
