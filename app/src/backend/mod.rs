//! Server-only code: state, database access, services per area and the demo loader.

pub mod access;
pub mod assignments;
pub mod audit;
pub mod auth;
pub mod chart;
pub mod db;
pub mod demo;
pub mod entity;
pub mod errors;
pub mod escalation;
pub mod http;
pub mod import;
pub mod incidents;
pub mod invites;
pub mod limits;
pub mod mfa;
pub mod orgs;
pub mod passwords;
pub mod people;
pub mod roles;
pub mod runbooks;
pub mod sessions;
pub mod settings;
pub mod state;
pub mod timeline;
pub mod tokens;
