//! Where one task's (or command acknowledgement's) escalation stands.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "escalation")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub subject: String,
    pub subject_id: i64,
    pub incident_id: i64,
    pub org_id: i64,
    /// 0 while only the assignee has been told; n once level n's targets have been.
    pub level: i32,
    /// Which pass along the path (repeats start again at level 1).
    pub round: i32,
    /// When the next step is due; NULL once there is nothing left to do.
    pub fires_at: Option<TimeDateTimeWithTimeZone>,
    pub acknowledged_at: Option<TimeDateTimeWithTimeZone>,
    /// Still unacknowledged after the last level: shown nationally.
    pub flagged: bool,
    pub updated_at: TimeDateTimeWithTimeZone,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
