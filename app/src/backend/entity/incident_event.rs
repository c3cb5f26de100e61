//! A line on an incident's timeline.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "incident_event")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub incident_id: i64,
    pub at: TimeDateTimeWithTimeZone,
    pub actor_id: Option<i64>,
    pub kind: String,
    pub detail: String,
    /// The hash of the entry before (64 zeros for the first); NULL only before sealing.
    pub prev_hash: Option<String>,
    pub hash: Option<String>,
    /// The incident's facts after the change this entry records (only on entries that
    /// change them, and the first); covered by the hash.
    pub facts: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
