//! An on-call rotation: people take turns, one shift each, handing over at a London time.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "rotation")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub org_id: i64,
    pub name: String,
    pub shift_count: i32,
    /// "hours", "days" or "weeks".
    pub shift_unit: String,
    /// "HH:MM", London wall-clock time.
    pub handover: String,
    pub start_on: TimeDate,
    pub created_at: TimeDateTimeWithTimeZone,
    pub created_by: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
