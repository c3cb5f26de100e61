//! Types both sides use: DTOs, validated newtypes and pure rules. No I/O.

/// An enum of fixed words: serialised in snake case, `as_str`/`parse`/`ALL`, and on the
/// server a SeaORM active enum stored as the same text (so entities hold the typed value
/// and no migration is needed).
macro_rules! str_enum {
    ($name:ident { $($(#[$doc:meta])* $variant:ident => $s:literal),+ $(,)? }) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        // On the server each is also a SeaORM active enum, stored as the same text, so
        // entities hold the typed value (no migration: the strings are unchanged).
        #[cfg_attr(feature = "ssr", derive(sea_orm::EnumIter, sea_orm::DeriveActiveEnum, utoipa::ToSchema))]
        #[cfg_attr(
            feature = "ssr",
            sea_orm(
                rs_type = "String",
                db_type = "String(sea_orm::sea_query::StringLen::None)"
            )
        )]
        pub enum $name { $($(#[$doc])* #[cfg_attr(feature = "ssr", sea_orm(string_value = $s))] $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $s),+ }
            }

            pub fn parse(raw: &str) -> Option<$name> {
                $name::ALL.iter().copied().find(|v| v.as_str() == raw)
            }
        }
    };
}

pub mod accountability;
pub mod api;
pub mod assets;
pub mod auth;
pub mod breakglass;
pub mod caf;
pub mod channel_post;
pub mod contacts;
pub mod dates;
pub mod escalation;
pub mod forms;
pub mod gaps;
pub mod imports;
pub mod incidents;
pub mod listing;
pub mod org;
pub mod paging;
pub mod redirect;
pub mod replies;
pub mod reviews;
pub mod roles;
pub mod rota;
pub mod tree;
