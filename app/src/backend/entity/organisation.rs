//! An organisation row.

use sea_orm::entity::prelude::*;

use crate::domain::org::{OrgKind, OrgSummary};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "organisation")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub code: String,
    pub name: String,
    pub kind: String,
    pub status: crate::domain::org::OrgStatus,
    pub opened_on: Option<TimeDate>,
    pub closed_on: Option<TimeDate>,
    pub postcode: Option<String>,
    /// Designated by DHSC as an operator of essential services (trusts and ICBs are one by
    /// their kind; this is for the independent providers DHSC names).
    pub essential_service: bool,
    /// Whether its people may sign in with a password (off: single sign-on only).
    pub password_sign_in: bool,
    pub created_at: TimeDateTimeWithTimeZone,
    pub updated_at: TimeDateTimeWithTimeZone,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    pub fn summary(&self) -> OrgSummary {
        OrgSummary {
            code: self.code.clone(),
            name: self.name.clone(),
            kind: self.kind(),
            status: self.status,
        }
    }

    /// Its kind. Rows are only written through `OrgKind::as_str`; an unknown value means a
    /// newer schema wrote it, and showing it as a supplier-less national body is safer than
    /// failing the whole page.
    pub fn kind(&self) -> OrgKind {
        OrgKind::parse(&self.kind).unwrap_or(OrgKind::National)
    }
}
