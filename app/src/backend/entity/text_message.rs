//! Each text message handed to GOV.UK Notify, by the reference Wardline gave it, with the
//! delivery status Notify's receipts report.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "text_message")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub reference: String,
    pub person_id: Option<i64>,
    /// The outbox row it delivers (escalation pages), if any.
    pub notification_id: Option<i64>,
    /// `page`, `verify` or `test`.
    pub purpose: String,
    /// `accepted` when Notify took it, then what its receipts say (`delivered`,
    /// `permanent-failure`, `temporary-failure`, `technical-failure`). Kept as Notify's own
    /// words, not an enum: a status Notify adds later is recorded rather than refused.
    pub status: String,
    pub status_at: Option<TimeDateTimeWithTimeZone>,
    /// Notify's own id for the message.
    pub provider_id: Option<String>,
    pub created_at: TimeDateTimeWithTimeZone,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
