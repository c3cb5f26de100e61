//! On-call rota history (issue 15.1, "who was on call at time T"): after every change to an
//! organisation's rotas, the whole of them (each schedule's rules, rotations, participants and
//! overrides still to come, and which roles each schedule holds) is kept as one version, so
//! asking about a past moment reads the rotas as they were then, not as they are now.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Organisation {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum RotaVersion {
    Table,
    Id,
    OrgId,
    ValidFrom,
    Definition,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(RotaVersion::Table)
                    .col(
                        ColumnDef::new(RotaVersion::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(RotaVersion::OrgId).big_integer().not_null())
                    .col(
                        ColumnDef::new(RotaVersion::ValidFrom)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(RotaVersion::Definition).text().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_rota_version_org")
                            .from(RotaVersion::Table, RotaVersion::OrgId)
                            .to(Organisation::Table, Organisation::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_rota_version_org_from")
                    .table(RotaVersion::Table)
                    .col(RotaVersion::OrgId)
                    .col(RotaVersion::ValidFrom)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(RotaVersion::Table).to_owned())
            .await
    }
}
