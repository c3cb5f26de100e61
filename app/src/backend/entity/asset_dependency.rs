//! An asset depends on another.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "asset_dependency")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub asset_id: i64,
    pub depends_on_id: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
