//! Types both sides use: DTOs, validated newtypes and pure rules. No I/O.

pub mod accountability;
pub mod assets;
pub mod auth;
pub mod breakglass;
pub mod caf;
pub mod channel_post;
pub mod contacts;
pub mod dates;
pub mod escalation;
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
