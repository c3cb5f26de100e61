//! Tamper-evident timelines: each entry that changes an incident's facts records them
//! (covered by its hash), and each incident's chain has a signed head.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum IncidentEvent {
    Table,
    Facts,
}

#[derive(DeriveIden)]
enum TimelineHead {
    Table,
    IncidentId,
    Entries,
    HeadHash,
    KeyId,
    Signature,
    SignedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(IncidentEvent::Table)
                    .add_column(ColumnDef::new(IncidentEvent::Facts).text().null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(TimelineHead::Table)
                    .col(
                        ColumnDef::new(TimelineHead::IncidentId)
                            .big_integer()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(TimelineHead::Entries)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(TimelineHead::HeadHash).string().not_null())
                    .col(ColumnDef::new(TimelineHead::KeyId).string().not_null())
                    .col(ColumnDef::new(TimelineHead::Signature).string().not_null())
                    .col(
                        ColumnDef::new(TimelineHead::SignedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(TimelineHead::Table).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(IncidentEvent::Table)
                    .drop_column(IncidentEvent::Facts)
                    .to_owned(),
            )
            .await
    }
}
