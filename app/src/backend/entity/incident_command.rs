//! Who holds a command role (Gold, Silver, Bronze, loggist, communications) in an incident.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "incident_command")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub incident_id: i64,
    pub command: String,
    pub person_id: i64,
    pub assigned_at: TimeDateTimeWithTimeZone,
    pub assigned_by: Option<i64>,
    pub acknowledged_at: Option<TimeDateTimeWithTimeZone>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
