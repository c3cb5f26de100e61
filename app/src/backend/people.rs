//! People: lookups by email and id.

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use super::entity::person;
use crate::domain::auth::Email;
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
