//! The outbox: one row per (subject, level, round, recipient, channel), delivered at least
//! once with retries.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notification")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub subject: String,
    pub subject_id: i64,
    pub incident_id: i64,
    pub level: i32,
    pub round: i32,
    pub recipient_key: String,
    pub person_id: Option<i64>,
    pub channel: String,
    pub title: String,
    pub body: String,
    pub status: crate::domain::escalation::NotificationStatus,
    pub attempts: i32,
    pub next_attempt_at: TimeDateTimeWithTimeZone,
    pub claimed_until: Option<TimeDateTimeWithTimeZone>,
    pub last_error: Option<String>,
    pub created_at: TimeDateTimeWithTimeZone,
    pub delivered_at: Option<TimeDateTimeWithTimeZone>,
    pub read_at: Option<TimeDateTimeWithTimeZone>,
    pub link_used_at: Option<TimeDateTimeWithTimeZone>,
    /// Times it was sent again after a crash left it mid-send (at most once).
    pub repeats: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
