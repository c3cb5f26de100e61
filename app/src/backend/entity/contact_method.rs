//! A way to reach a person besides the inbox and their email: a mobile number for text
//! messages, usable once verified by a code sent to it.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "contact_method")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub person_id: i64,
    /// `sms`.
    pub kind: String,
    /// The mobile number in international form (`+447700900123`).
    pub address: String,
    pub verified_at: Option<TimeDateTimeWithTimeZone>,
    /// A keyed hash of the code last sent, until it is used or replaced.
    pub code_hash: Option<String>,
    pub code_expires_at: Option<TimeDateTimeWithTimeZone>,
    /// Wrong answers to the code last sent.
    pub code_tries: i32,
    /// Codes sent since `window_started_at`.
    pub codes_sent: i32,
    pub window_started_at: Option<TimeDateTimeWithTimeZone>,
    pub created_at: TimeDateTimeWithTimeZone,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
