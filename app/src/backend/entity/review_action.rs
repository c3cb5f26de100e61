//! An action from a post-incident review, with its owner and due date, until closed.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "review_action")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub incident_id: i64,
    pub title: String,
    pub owner_id: i64,
    pub due_on: TimeDate,
    pub closed_at: Option<TimeDateTimeWithTimeZone>,
    pub closed_by: Option<i64>,
    pub closing_note: Option<String>,
    pub created_at: TimeDateTimeWithTimeZone,
    pub created_by: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
