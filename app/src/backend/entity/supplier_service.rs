//! A supplier serving an organisation with a named service.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "supplier_service")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub supplier_id: i64,
    pub client_id: i64,
    pub service: String,
    pub valid_from: TimeDate,
    pub valid_to: Option<TimeDate>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
