//! A report made against one of an incident's clocks (CSOC, ICO, NIS).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "incident_report")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub incident_id: i64,
    pub body: String,
    pub reported_at: TimeDateTimeWithTimeZone,
    pub reference: String,
    /// For a CSOC report: `information` or `support`.
    pub purpose: Option<String>,
    pub recorded_by: i64,
    pub recorded_at: TimeDateTimeWithTimeZone,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
