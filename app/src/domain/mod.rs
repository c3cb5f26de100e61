//! Types both sides use: DTOs, validated newtypes and pure rules. No I/O.

pub mod auth;
pub mod dates;
pub mod org;
pub mod tree;
