//! A person asking a colleague to cover a period of a schedule; accepted, it becomes an override.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "cover_request")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub schedule_id: i64,
    pub requester_id: i64,
    pub cover_id: i64,
    pub starts_at: TimeDateTimeWithTimeZone,
    pub ends_at: TimeDateTimeWithTimeZone,
    /// "open", "accepted" or "declined".
    pub status: crate::domain::rota::CoverStatus,
    pub override_id: Option<i64>,
    pub created_at: TimeDateTimeWithTimeZone,
    pub answered_at: Option<TimeDateTimeWithTimeZone>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
