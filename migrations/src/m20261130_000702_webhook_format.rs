//! How an organisation's channel webhook is written: `teams` (an Adaptive Card, as a Teams
//! Workflows "when a webhook request is received" flow takes it), `slack` (Slack-compatible
//! `text` and `blocks`), or `json` (Wardline's own signed JSON). Webhooks saved before this
//! keep the JSON they were getting.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Webhook {
    Table,
    Format,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Webhook::Table)
                    .add_column(
                        ColumnDef::new(Webhook::Format)
                            .string_len(10)
                            .not_null()
                            .default("json"),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Webhook::Table)
                    .drop_column(Webhook::Format)
                    .to_owned(),
            )
            .await
    }
}
