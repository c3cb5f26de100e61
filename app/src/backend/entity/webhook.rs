//! An organisation's channel webhook (Teams, Slack): a signed POST per escalation, written
//! in the channel's format.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub org_id: i64,
    pub url: String,
    pub secret: String,
    pub enabled: bool,
    pub updated_at: TimeDateTimeWithTimeZone,
    /// `teams`, `slack` or `json` (see `domain::channel_post::ChannelFormat`).
    pub format: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
