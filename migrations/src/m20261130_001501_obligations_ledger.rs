//! The obligations ledger: every decision a lead makes about an incident's reporting
//! obligations (reported, not reportable and why, the NIS significant-impact answers, the
//! DSPT grading), one row each, never updated, so a reassessment keeps what it replaced.
//! Reports recorded before the ledger become its first rows. Organisations also carry
//! whether DHSC designated them an operator of essential services (trusts and ICBs are one
//! by their kind).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Incident {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Person {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Organisation {
    Table,
    EssentialService,
}

#[derive(DeriveIden)]
enum IncidentObligation {
    Table,
    Id,
    IncidentId,
    Obligation,
    Decision,
    ReportedAt,
    Channel,
    Reference,
    Purpose,
    Reason,
    Detail,
    DecidedBy,
    DecidedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use IncidentObligation as O;
        manager
            .create_table(
                Table::create()
                    .table(O::Table)
                    .col(
                        ColumnDef::new(O::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(O::IncidentId).big_integer().not_null())
                    .col(ColumnDef::new(O::Obligation).string_len(20).not_null())
                    .col(ColumnDef::new(O::Decision).string_len(20).not_null())
                    .col(
                        ColumnDef::new(O::ReportedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(ColumnDef::new(O::Channel).string_len(100).null())
                    .col(ColumnDef::new(O::Reference).string_len(100).null())
                    .col(ColumnDef::new(O::Purpose).string_len(20).null())
                    .col(ColumnDef::new(O::Reason).text().null())
                    .col(ColumnDef::new(O::Detail).text().null())
                    .col(ColumnDef::new(O::DecidedBy).big_integer().not_null())
                    .col(
                        ColumnDef::new(O::DecidedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_incident_obligation_incident")
                            .from(O::Table, O::IncidentId)
                            .to(Incident::Table, Incident::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_incident_obligation_person")
                            .from(O::Table, O::DecidedBy)
                            .to(Person::Table, Person::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_incident_obligation_incident")
                    .table(O::Table)
                    .col(O::IncidentId)
                    .col(O::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared(
                "INSERT INTO incident_obligation \
                 (incident_id, obligation, decision, reported_at, reference, purpose, decided_by, decided_at) \
                 SELECT incident_id, body, 'reported', reported_at, reference, purpose, recorded_by, recorded_at \
                 FROM incident_report ORDER BY id",
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Organisation::Table)
                    .add_column(
                        ColumnDef::new(Organisation::EssentialService)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Organisation::Table)
                    .drop_column(Organisation::EssentialService)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(IncidentObligation::Table).to_owned())
            .await
    }
}
