//! HTTP tests: each boots the real application on a fresh SQLite file and a random port.

mod accountability;
mod assets;
mod auth;
mod authz;
mod channels;
mod clients;
mod compression;
mod escalation;
mod external_contacts;
mod extractor;
mod helpers;
mod hostile_input;
mod imports;
mod incident_command;
mod incidents;
mod on_call;
mod orgs;
mod reach;
mod replies;
mod rotas;
mod secrets_at_rest;
mod security;
mod sessions;
mod sign_in_load;
mod storage;
mod texts;
