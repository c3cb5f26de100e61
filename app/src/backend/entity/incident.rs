//! A declared incident.

use sea_orm::entity::prelude::*;

use crate::domain::incidents::{IncidentLevel, IncidentStatus};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "incident")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub reference: String,
    pub org_id: i64,
    pub kind: String,
    pub level: IncidentLevel,
    pub status: IncidentStatus,
    pub summary: String,
    pub location: String,
    pub patients_affected: String,
    pub personal_data: bool,
    pub systems: String,
    pub declared_by: i64,
    pub declared_at: TimeDateTimeWithTimeZone,
    pub aware_at: TimeDateTimeWithTimeZone,
    pub runbook_id: i64,
    pub updated_at: TimeDateTimeWithTimeZone,
    /// The supplier's incident this one was opened from.
    pub parent_id: Option<i64>,
    /// Set when this is an exercise: "communications", "tabletop" or "live".
    pub exercise: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
