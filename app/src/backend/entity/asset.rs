//! One asset in an organisation's catalogue.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "asset")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub org_id: i64,
    pub name: String,
    pub kind: String,
    /// The Information Asset Owner.
    pub owner_id: Option<i64>,
    pub supplier_id: Option<i64>,
    pub clinical_service: String,
    pub patient_safety_critical: bool,
    pub os: String,
    pub os_version: String,
    pub end_of_support: Option<TimeDate>,
    pub site_id: Option<i64>,
    pub updated_at: TimeDateTimeWithTimeZone,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
