//! Server-only code: state, database access, services per area and the demo loader.

pub mod db;
pub mod demo;
pub mod entity;
pub mod errors;
pub mod http;
pub mod orgs;
pub mod state;
