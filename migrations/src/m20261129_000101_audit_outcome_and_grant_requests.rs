//! Every audit row says how the attempt ended (`success`, `failure`, `refused` …), so failed
//! second factors, refused invitations and denied exports sit beside the changes they guard.
//! An invitation can now be refused by the person it names (a grant request to an existing
//! account), which `refused_at` records.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AuditEvent {
    Table,
    Outcome,
}

#[derive(DeriveIden)]
enum Invite {
    Table,
    RefusedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(AuditEvent::Table)
                    .add_column(
                        ColumnDef::new(AuditEvent::Outcome)
                            .string_len(16)
                            .not_null()
                            .default("success"),
                    )
                    .to_owned(),
            )
            .await?;
        // Rows written before this column: the one failure then audited was named by its action.
        manager
            .get_connection()
            .execute_unprepared(
                "UPDATE audit_event SET outcome = 'failure' WHERE action = 'sign_in_failed'",
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Invite::Table)
                    .add_column(
                        ColumnDef::new(Invite::RefusedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Invite::Table)
                    .drop_column(Invite::RefusedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(AuditEvent::Table)
                    .drop_column(AuditEvent::Outcome)
                    .to_owned(),
            )
            .await
    }
}
