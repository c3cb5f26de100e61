//! An OpenID Connect provider people may sign in with.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "identity_provider")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// In its addresses: `/sso/{slug}/start`.
    pub slug: String,
    /// On the sign-in button: "Sign in with {name}".
    pub name: String,
    pub issuer: String,
    pub client_id: String,
    /// Where the client secret is read from (never stored in the database).
    pub client_secret_file: String,
    /// Email domains it may sign in, comma-separated (`nhs.net`).
    pub allowed_domains: String,
    /// A claim holding an ODS code the person must belong to, when set.
    pub org_claim: Option<String>,
    /// Its `amr` claim saying "mfa" counts as Wardline's second factor.
    pub trust_mfa: bool,
    pub enabled: bool,
    pub created_at: TimeDateTimeWithTimeZone,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
