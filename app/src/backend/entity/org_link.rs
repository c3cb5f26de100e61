//! A period during which one organisation sat under another.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "org_link")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub child_id: i64,
    pub parent_id: i64,
    pub valid_from: TimeDate,
    pub valid_to: Option<TimeDate>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
