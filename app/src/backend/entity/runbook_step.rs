//! A step of a runbook version.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "runbook_step")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub runbook_id: i64,
    pub position: i32,
    pub phase: String,
    pub title: String,
    pub owner_role: String,
    pub due_minutes: i32,
    pub instructions: String,
    pub required: bool,
    pub depends_on: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
