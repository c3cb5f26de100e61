//! One decision in an incident's obligations ledger. Rows are only ever added: the latest
//! per obligation is where it stands, the earlier ones are its history.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "incident_obligation")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub incident_id: i64,
    /// `Duty::as_str`.
    pub obligation: String,
    /// `Decision::as_str`.
    pub decision: String,
    /// For a report: when it was made.
    pub reported_at: Option<TimeDateTimeWithTimeZone>,
    pub channel: Option<String>,
    pub reference: Option<String>,
    /// For a CSOC report: `information` or `support`.
    pub purpose: Option<String>,
    pub reason: Option<String>,
    /// The NIS answers or the DSPT grading, as JSON.
    pub detail: Option<String>,
    pub decided_by: i64,
    pub decided_at: TimeDateTimeWithTimeZone,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
