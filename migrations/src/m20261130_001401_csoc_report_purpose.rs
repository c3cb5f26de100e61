//! What a report to NHS England's CSOC was for: `information` or `support` (a request for
//! help), as the CSOC asks every report to say. Empty for reports to other bodies and for
//! reports recorded before this.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum IncidentReport {
    Table,
    Purpose,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(IncidentReport::Table)
                    .add_column(
                        ColumnDef::new(IncidentReport::Purpose)
                            .string_len(20)
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
                    .table(IncidentReport::Table)
                    .drop_column(IncidentReport::Purpose)
                    .to_owned(),
            )
            .await
    }
}
