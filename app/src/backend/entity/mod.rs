//! Database entities. They stay on the server and convert into `domain` types.

pub mod access_grant;
pub mod account;
pub mod assignment;
pub mod audit_event;
pub mod import_job;
pub mod invite;
pub mod org_link;
pub mod organisation;
pub mod person;
pub mod recovery_code;
pub mod role;
pub mod session;
pub mod setting;
pub mod supplier_service;
