//! One version of an organisation's on-call rotas, in force from `valid_from` until the next
//! (`definition` is a `domain::rota::RotaSnapshot` as JSON).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "rota_version")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub org_id: i64,
    pub valid_from: TimeDateTimeWithTimeZone,
    #[sea_orm(column_type = "Text")]
    pub definition: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
