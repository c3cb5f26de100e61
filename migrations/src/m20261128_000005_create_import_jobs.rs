//! Import jobs: an upload's progress and report, kept in the database so any app instance
//! can show it and a restart does not lose it.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ImportJob {
    Table,
    Id,
    Kind,
    FileName,
    Status,
    Done,
    Total,
    Report,
    CreatedBy,
    CreatedAt,
    FinishedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ImportJob::Table)
                    .col(
                        ColumnDef::new(ImportJob::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(ImportJob::Kind).string_len(24).not_null())
                    .col(
                        ColumnDef::new(ImportJob::FileName)
                            .string_len(255)
                            .not_null(),
                    )
                    .col(ColumnDef::new(ImportJob::Status).string_len(16).not_null())
                    .col(
                        ColumnDef::new(ImportJob::Done)
                            .big_integer()
                            .not_null()
                            .default(0),
                    )
                    .col(
                        ColumnDef::new(ImportJob::Total)
                            .big_integer()
                            .not_null()
                            .default(0),
                    )
                    .col(ColumnDef::new(ImportJob::Report).text().null())
                    .col(ColumnDef::new(ImportJob::CreatedBy).big_integer().null())
                    .col(
                        ColumnDef::new(ImportJob::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ImportJob::FinishedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ImportJob::Table).to_owned())
            .await
    }
}
