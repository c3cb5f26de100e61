//! Server functions: the HTTP surface of Wardline, one file per area. Each checks who may
//! call it, calls into `backend`, and returns `domain` types.

pub mod admin;
pub mod auth;
pub mod orgs;
