//! The reply code a text about a task carried, kept only as a keyed hash while it works.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "reply_code")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub task_id: i64,
    /// The person the text went to: the only one the code works for.
    pub person_id: i64,
    /// The outbox row whose text carried it.
    pub notification_id: Option<i64>,
    pub incident_id: i64,
    /// `key id.hmac` of the code while it works; NULL once used or expired.
    #[sea_orm(unique)]
    pub live_key: Option<String>,
    pub created_at: TimeDateTimeWithTimeZone,
    pub expires_at: TimeDateTimeWithTimeZone,
    pub used_at: Option<TimeDateTimeWithTimeZone>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
