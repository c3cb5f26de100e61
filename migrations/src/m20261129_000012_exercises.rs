//! Exercises: an incident can be a drill (a communications test, a table-top or a live
//! exercise). Its tasks, acknowledgements and escalations run for real; it is marked
//! everywhere and kept out of reporting clocks and statistics.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Incident {
    Table,
    Exercise,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Incident::Table)
                    .add_column(ColumnDef::new(Incident::Exercise).string_len(24).null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Incident::Table)
                    .drop_column(Incident::Exercise)
                    .to_owned(),
            )
            .await
    }
}
