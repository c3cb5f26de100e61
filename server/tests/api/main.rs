//! HTTP tests: each boots the real application on a fresh SQLite file and a random port.

mod accountability;
mod assets;
mod auth;
mod authz;
mod clients;
mod compression;
mod escalation;
mod extractor;
mod helpers;
mod hostile_input;
mod imports;
mod incident_command;
mod incidents;
mod orgs;
mod paging;
mod reach;
mod rotas;
mod secrets_at_rest;
mod security;
mod sessions;
mod sign_in_load;
mod storage;
mod texts;
