//! What an incident needs beyond its tasks: the other organisations it affects, its command
//! roles (Gold, Silver, Bronze, loggist, communications), the reports made against its
//! clocks, links from a supplier's incident to those it opened at the organisations served,
//! and a hash chain over the timeline so that an altered entry is found.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Organisation {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Person {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Incident {
    Table,
    Id,
    ParentId,
}

#[derive(DeriveIden)]
enum Runbook {
    Table,
    OrgId,
    Kind,
    Version,
}

#[derive(DeriveIden)]
enum IncidentEvent {
    Table,
    IncidentId,
    PrevHash,
    Hash,
}

#[derive(DeriveIden)]
enum IncidentOrg {
    Table,
    Id,
    IncidentId,
    OrgId,
    AddedAt,
    AddedBy,
}

#[derive(DeriveIden)]
enum IncidentCommand {
    Table,
    Id,
    IncidentId,
    Command,
    PersonId,
    AssignedAt,
    AssignedBy,
}

#[derive(DeriveIden)]
enum IncidentReport {
    Table,
    Id,
    IncidentId,
    Body,
    ReportedAt,
    Reference,
    RecordedBy,
    RecordedAt,
}

fn id<T: IntoIden>(c: T) -> ColumnDef {
    ColumnDef::new(c)
        .big_integer()
        .not_null()
        .auto_increment()
        .primary_key()
        .to_owned()
}

fn fk(
    name: &str,
    from: (impl IntoIden, impl IntoIden),
    to: (impl IntoIden, impl IntoIden),
    on_delete: ForeignKeyAction,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(from.0, from.1)
        .to(to.0, to.1)
        .on_delete(on_delete)
        .to_owned()
}

fn at<T: IntoIden>(c: T) -> ColumnDef {
    ColumnDef::new(c)
        .timestamp_with_time_zone()
        .not_null()
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Two admins saving at once cannot both make the same version.
        manager
            .create_index(
                Index::create()
                    .name("uq_runbook_version")
                    .table(Runbook::Table)
                    .col(Runbook::OrgId)
                    .col(Runbook::Kind)
                    .col(Runbook::Version)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // One column per statement: SQLite alters a table one change at a time.
        manager
            .alter_table(
                Table::alter()
                    .table(Incident::Table)
                    .add_column(ColumnDef::new(Incident::ParentId).big_integer().null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_incident_parent")
                    .table(Incident::Table)
                    .col(Incident::ParentId)
                    .to_owned(),
            )
            .await?;
        // Entries written before the chain existed keep NULLs until the server seals them.
        for col in [IncidentEvent::PrevHash, IncidentEvent::Hash] {
            manager
                .alter_table(
                    Table::alter()
                        .table(IncidentEvent::Table)
                        .add_column(ColumnDef::new(col).string_len(64).null())
                        .to_owned(),
                )
                .await?;
        }
        // No two entries may claim the same predecessor: a fork in the chain cannot be
        // written, even by two servers appending at once.
        manager
            .create_index(
                Index::create()
                    .name("uq_incident_event_prev")
                    .table(IncidentEvent::Table)
                    .col(IncidentEvent::IncidentId)
                    .col(IncidentEvent::PrevHash)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(IncidentOrg::Table)
                    .col(id(IncidentOrg::Id))
                    .col(
                        ColumnDef::new(IncidentOrg::IncidentId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(IncidentOrg::OrgId).big_integer().not_null())
                    .col(at(IncidentOrg::AddedAt))
                    .col(ColumnDef::new(IncidentOrg::AddedBy).big_integer().null())
                    .foreign_key(&mut fk(
                        "fk_incident_org_incident",
                        (IncidentOrg::Table, IncidentOrg::IncidentId),
                        (Incident::Table, Incident::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "fk_incident_org_org",
                        (IncidentOrg::Table, IncidentOrg::OrgId),
                        (Organisation::Table, Organisation::Id),
                        ForeignKeyAction::Restrict,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_incident_org")
                    .table(IncidentOrg::Table)
                    .col(IncidentOrg::IncidentId)
                    .col(IncidentOrg::OrgId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_incident_org_org")
                    .table(IncidentOrg::Table)
                    .col(IncidentOrg::OrgId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(IncidentCommand::Table)
                    .col(id(IncidentCommand::Id))
                    .col(
                        ColumnDef::new(IncidentCommand::IncidentId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(IncidentCommand::Command)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(IncidentCommand::PersonId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(at(IncidentCommand::AssignedAt))
                    .col(
                        ColumnDef::new(IncidentCommand::AssignedBy)
                            .big_integer()
                            .null(),
                    )
                    .foreign_key(&mut fk(
                        "fk_incident_command_incident",
                        (IncidentCommand::Table, IncidentCommand::IncidentId),
                        (Incident::Table, Incident::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "fk_incident_command_person",
                        (IncidentCommand::Table, IncidentCommand::PersonId),
                        (Person::Table, Person::Id),
                        ForeignKeyAction::Restrict,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_incident_command")
                    .table(IncidentCommand::Table)
                    .col(IncidentCommand::IncidentId)
                    .col(IncidentCommand::Command)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(IncidentReport::Table)
                    .col(id(IncidentReport::Id))
                    .col(
                        ColumnDef::new(IncidentReport::IncidentId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(IncidentReport::Body)
                            .string_len(8)
                            .not_null(),
                    )
                    .col(at(IncidentReport::ReportedAt))
                    .col(
                        ColumnDef::new(IncidentReport::Reference)
                            .string_len(100)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(IncidentReport::RecordedBy)
                            .big_integer()
                            .not_null(),
                    )
                    .col(at(IncidentReport::RecordedAt))
                    .foreign_key(&mut fk(
                        "fk_incident_report_incident",
                        (IncidentReport::Table, IncidentReport::IncidentId),
                        (Incident::Table, Incident::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "fk_incident_report_person",
                        (IncidentReport::Table, IncidentReport::RecordedBy),
                        (Person::Table, Person::Id),
                        ForeignKeyAction::Restrict,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_incident_report")
                    .table(IncidentReport::Table)
                    .col(IncidentReport::IncidentId)
                    .col(IncidentReport::Body)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            IncidentReport::Table.into_iden(),
            IncidentCommand::Table.into_iden(),
            IncidentOrg::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(t).to_owned())
                .await?;
        }
        manager
            .drop_index(
                Index::drop()
                    .name("uq_incident_event_prev")
                    .table(IncidentEvent::Table)
                    .to_owned(),
            )
            .await?;
        for col in [IncidentEvent::Hash, IncidentEvent::PrevHash] {
            manager
                .alter_table(
                    Table::alter()
                        .table(IncidentEvent::Table)
                        .drop_column(col)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .drop_index(
                Index::drop()
                    .name("uq_runbook_version")
                    .table(Runbook::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("idx_incident_parent")
                    .table(Incident::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Incident::Table)
                    .drop_column(Incident::ParentId)
                    .to_owned(),
            )
            .await
    }
}
