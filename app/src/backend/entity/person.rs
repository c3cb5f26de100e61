//! A person known to Wardline.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "person")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub display_name: String,
    #[sea_orm(unique)]
    pub email: String,
    pub job_title: Option<String>,
    pub org_id: Option<i64>,
    pub disabled: bool,
    pub created_at: TimeDateTimeWithTimeZone,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// The person with this email (compared in its normalised form), if any. Here so that both
/// `people` and the reach checks in `access` find people the same way.
pub async fn find_by_email(db: &impl ConnectionTrait, email: &str) -> Result<Option<Model>, DbErr> {
    let Ok(email) = crate::domain::auth::Email::parse(email) else {
        return Ok(None);
    };
    Entity::find()
        .filter(Column::Email.eq(email.as_str()))
        .one(db)
        .await
}
