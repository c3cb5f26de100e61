//! A task of an incident, made from a runbook step.

use sea_orm::entity::prelude::*;

use crate::domain::incidents::TaskState;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "task")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub incident_id: i64,
    pub position: i32,
    pub phase: String,
    pub title: String,
    pub instructions: String,
    pub required: bool,
    pub owner_role: String,
    pub org_id: Option<i64>,
    pub assignee_id: Option<i64>,
    pub routing: String,
    pub state: TaskState,
    pub due_at: TimeDateTimeWithTimeZone,
    pub acknowledged_at: Option<TimeDateTimeWithTimeZone>,
    pub started_at: Option<TimeDateTimeWithTimeZone>,
    pub completed_at: Option<TimeDateTimeWithTimeZone>,
    pub note: Option<String>,
    pub updated_at: TimeDateTimeWithTimeZone,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
