//! A change to a schedule for a period: add, remove or replace a person.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "schedule_override")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub schedule_id: i64,
    pub starts_at: TimeDateTimeWithTimeZone,
    pub ends_at: TimeDateTimeWithTimeZone,
    /// "add", "remove" or "replace".
    pub kind: String,
    /// Added, removed, or the one who takes over.
    pub person_id: i64,
    /// For "replace": the person replaced.
    pub replaces_id: Option<i64>,
    pub created_at: TimeDateTimeWithTimeZone,
    pub created_by: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
