//! A service Wardline tells but that is not a user (NHS England's CSOC, an ICB's on-call
//! line, a supplier's security desk): national when `org_id` is empty, else an
//! organisation's own. Escalation levels name it by `key`.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "external_contact")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub org_id: Option<i64>,
    #[sea_orm(unique)]
    pub key: String,
    pub name: String,
    pub phone: String,
    /// Empty until an admin sets it: no email is then sent.
    pub email: String,
    pub reporting_route: String,
    pub updated_at: TimeDateTimeWithTimeZone,
    pub updated_by: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
