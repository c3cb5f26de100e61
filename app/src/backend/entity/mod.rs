//! Database entities. They stay on the server and convert into `domain` types.

pub mod access_grant;
pub mod account;
pub mod assignment;
pub mod audit_event;
pub mod import_job;
pub mod incident;
pub mod incident_command;
pub mod incident_event;
pub mod incident_org;
pub mod incident_report;
pub mod invite;
pub mod org_link;
pub mod organisation;
pub mod person;
pub mod recovery_code;
pub mod role;
pub mod runbook;
pub mod runbook_step;
pub mod session;
pub mod setting;
pub mod supplier_service;
pub mod task;
