//! An organisation's escalation policy (no organisation: the national default).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "escalation_policy")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub org_id: Option<i64>,
    pub repeat_count: i32,
    pub updated_at: TimeDateTimeWithTimeZone,
    pub updated_by: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
