//! A person's place in a rotation's turn order.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "rotation_member")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub rotation_id: i64,
    pub position: i32,
    pub person_id: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
