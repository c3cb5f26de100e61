//! HTTP tests: each boots the real application on a fresh SQLite file and a random port.

mod accountability;
mod assets;
mod auth;
mod authz;
mod escalation;
mod helpers;
mod imports;
mod incident_command;
mod incidents;
mod orgs;
mod reach;
mod security;
mod storage;
