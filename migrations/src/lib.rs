//! Schema migrations, run at start-up. Each migration declares its own identifiers,
//! never imports entities, has a `down`, and stays portable between SQLite and PostgreSQL.

pub use sea_orm_migration::prelude::*;

mod m20261128_000001_create_organisations;
mod m20261128_000002_create_people;
mod m20261128_000003_create_accounts;
mod m20261128_000004_create_accountability;
mod m20261128_000005_create_import_jobs;
mod m20261128_000006_create_incidents;
mod m20261128_000007_incident_command_and_reports;
mod m20261128_000008_create_escalation;
mod m20261128_000009_create_assets;
mod m20261129_000010_change_generation;
mod m20261129_000011_incident_assets;
mod m20261129_000012_exercises;
mod m20261129_000013_reviews;
mod m20261129_000101_audit_outcome_and_grant_requests;
mod m20261129_000401_sign_timelines;
mod m20261129_000501_on_call_rotas;
mod m20261129_000601_contact_methods;
mod m20261129_000701_external_contacts;
mod m20261130_000702_webhook_format;
mod m20261130_000801_notification_rules;
mod m20261130_000901_reply_codes;
mod m20261130_001001_calendar_feeds;
mod m20261130_001101_rota_versions;
mod m20261130_001201_caller_generation;
mod m20261130_001202_sealed_secret_columns;
mod m20261130_001301_shared_rate_limits;
mod m20261130_001401_csoc_report_purpose;
mod m20261130_001501_obligations_ledger;
mod m20261201_001601_accountability_history;
mod m20261201_001701_api_tokens_and_alerts;
mod m20261201_001801_single_sign_on;
mod m20261202_001901_generation_parts;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261128_000001_create_organisations::Migration),
            Box::new(m20261128_000002_create_people::Migration),
            Box::new(m20261128_000003_create_accounts::Migration),
            Box::new(m20261128_000004_create_accountability::Migration),
            Box::new(m20261128_000005_create_import_jobs::Migration),
            Box::new(m20261128_000006_create_incidents::Migration),
            Box::new(m20261128_000007_incident_command_and_reports::Migration),
            Box::new(m20261128_000008_create_escalation::Migration),
            Box::new(m20261128_000009_create_assets::Migration),
            Box::new(m20261129_000010_change_generation::Migration),
            Box::new(m20261129_000011_incident_assets::Migration),
            Box::new(m20261129_000012_exercises::Migration),
            Box::new(m20261129_000013_reviews::Migration),
            Box::new(m20261129_000101_audit_outcome_and_grant_requests::Migration),
            Box::new(m20261129_000401_sign_timelines::Migration),
            Box::new(m20261129_000501_on_call_rotas::Migration),
            Box::new(m20261129_000601_contact_methods::Migration),
            Box::new(m20261129_000701_external_contacts::Migration),
            Box::new(m20261130_000702_webhook_format::Migration),
            Box::new(m20261130_000801_notification_rules::Migration),
            Box::new(m20261130_000901_reply_codes::Migration),
            Box::new(m20261130_001001_calendar_feeds::Migration),
            Box::new(m20261130_001101_rota_versions::Migration),
            Box::new(m20261130_001201_caller_generation::Migration),
            Box::new(m20261130_001202_sealed_secret_columns::Migration),
            Box::new(m20261130_001301_shared_rate_limits::Migration),
            Box::new(m20261130_001401_csoc_report_purpose::Migration),
            Box::new(m20261130_001501_obligations_ledger::Migration),
            Box::new(m20261201_001601_accountability_history::Migration),
            Box::new(m20261201_001701_api_tokens_and_alerts::Migration),
            Box::new(m20261201_001801_single_sign_on::Migration),
            Box::new(m20261202_001901_generation_parts::Migration),
        ]
    }
}
