//! An alert source's key: alerts sent with it open incidents at its organisation, raised by
//! its service account.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "integration_key")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub org_id: i64,
    /// The service account incidents from this source are raised by.
    pub person_id: i64,
    /// What the source is, as the organisation names it ("Trust SIEM").
    pub source: String,
    /// The kind of incident an alert opens unless it names one (`IncidentKind::as_str`).
    pub kind: String,
    pub prefix: String,
    pub secret_hash: String,
    /// The local part of the address that accepts this source's alerts by email.
    pub email_local: String,
    pub created_by: Option<i64>,
    pub created_at: TimeDateTimeWithTimeZone,
    pub revoked_at: Option<TimeDateTimeWithTimeZone>,
    pub last_used_at: Option<TimeDateTimeWithTimeZone>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
