//! An API token: held by a person or a service account, scoped to organisations and to read
//! or write, stored only as the SHA-256 of its secret.

use sea_orm::entity::prelude::*;

// No `Debug` that could print a secret: the row holds only its hash.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "api_token")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub person_id: i64,
    pub name: String,
    /// The token's first characters, shown so its holder can tell tokens apart.
    pub prefix: String,
    pub secret_hash: String,
    /// Organisation ids, comma-separated; empty for every organisation the holder reaches.
    pub scope: String,
    pub can_write: bool,
    pub created_by: Option<i64>,
    pub created_at: TimeDateTimeWithTimeZone,
    pub expires_at: TimeDateTimeWithTimeZone,
    pub revoked_at: Option<TimeDateTimeWithTimeZone>,
    pub last_used_at: Option<TimeDateTimeWithTimeZone>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
