//! One alert (by its source's key for it) and the incident it opened: a repeat while that
//! incident is open adds to its timeline instead of opening another.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "alert_thread")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub integration_key_id: i64,
    pub alert_key: String,
    /// `None` while the first alert's incident is being declared.
    pub incident_id: Option<i64>,
    pub claimed_at: TimeDateTimeWithTimeZone,
    pub last_at: TimeDateTimeWithTimeZone,
    pub received: i64,
    pub last_status: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
