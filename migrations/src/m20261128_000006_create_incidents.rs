//! Incidents and their runbooks: versioned runbook templates (national defaults that an
//! organisation may override), declared incidents, the tasks instantiated from a runbook
//! version, the incident timeline and the reporting clocks.

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
enum Runbook {
    Table,
    Id,
    OrgId,
    Kind,
    Version,
    Title,
    CreatedAt,
    CreatedBy,
}

#[derive(DeriveIden)]
enum RunbookStep {
    Table,
    Id,
    RunbookId,
    Position,
    Phase,
    Title,
    OwnerRole,
    DueMinutes,
    Instructions,
    Required,
    DependsOn,
}

#[derive(DeriveIden)]
enum Incident {
    Table,
    Id,
    Reference,
    OrgId,
    Kind,
    Level,
    Status,
    Summary,
    Location,
    PatientsAffected,
    PersonalData,
    Systems,
    DeclaredBy,
    DeclaredAt,
    AwareAt,
    RunbookId,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Task {
    Table,
    Id,
    IncidentId,
    Position,
    Phase,
    Title,
    Instructions,
    Required,
    OwnerRole,
    OrgId,
    AssigneeId,
    Routing,
    State,
    DueAt,
    AcknowledgedAt,
    StartedAt,
    CompletedAt,
    Note,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum IncidentEvent {
    Table,
    Id,
    IncidentId,
    At,
    ActorId,
    Kind,
    Detail,
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

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Runbook::Table)
                    .col(id(Runbook::Id))
                    .col(ColumnDef::new(Runbook::OrgId).big_integer().null())
                    .col(ColumnDef::new(Runbook::Kind).string_len(32).not_null())
                    .col(ColumnDef::new(Runbook::Version).integer().not_null())
                    .col(ColumnDef::new(Runbook::Title).string_len(200).not_null())
                    .col(
                        ColumnDef::new(Runbook::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(Runbook::CreatedBy).big_integer().null())
                    .foreign_key(&mut fk(
                        "fk_runbook_org",
                        (Runbook::Table, Runbook::OrgId),
                        (Organisation::Table, Organisation::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_runbook_kind")
                    .table(Runbook::Table)
                    .col(Runbook::Kind)
                    .col(Runbook::OrgId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RunbookStep::Table)
                    .col(id(RunbookStep::Id))
                    .col(
                        ColumnDef::new(RunbookStep::RunbookId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(RunbookStep::Position).integer().not_null())
                    .col(ColumnDef::new(RunbookStep::Phase).string_len(16).not_null())
                    .col(
                        ColumnDef::new(RunbookStep::Title)
                            .string_len(200)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(RunbookStep::OwnerRole)
                            .string_len(48)
                            .not_null(),
                    )
                    .col(ColumnDef::new(RunbookStep::DueMinutes).integer().not_null())
                    .col(ColumnDef::new(RunbookStep::Instructions).text().not_null())
                    .col(ColumnDef::new(RunbookStep::Required).boolean().not_null())
                    .col(
                        ColumnDef::new(RunbookStep::DependsOn)
                            .string_len(200)
                            .not_null(),
                    )
                    .foreign_key(&mut fk(
                        "fk_runbook_step_runbook",
                        (RunbookStep::Table, RunbookStep::RunbookId),
                        (Runbook::Table, Runbook::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Incident::Table)
                    .col(id(Incident::Id))
                    .col(
                        ColumnDef::new(Incident::Reference)
                            .string_len(32)
                            .not_null()
                            .unique_key(),
                    )
                    .col(ColumnDef::new(Incident::OrgId).big_integer().not_null())
                    .col(ColumnDef::new(Incident::Kind).string_len(32).not_null())
                    .col(ColumnDef::new(Incident::Level).string_len(32).not_null())
                    .col(ColumnDef::new(Incident::Status).string_len(16).not_null())
                    .col(ColumnDef::new(Incident::Summary).text().not_null())
                    .col(
                        ColumnDef::new(Incident::Location)
                            .string_len(200)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Incident::PatientsAffected)
                            .string_len(8)
                            .not_null(),
                    )
                    .col(ColumnDef::new(Incident::PersonalData).boolean().not_null())
                    .col(ColumnDef::new(Incident::Systems).string_len(500).not_null())
                    .col(
                        ColumnDef::new(Incident::DeclaredBy)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Incident::DeclaredAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Incident::AwareAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(Incident::RunbookId).big_integer().not_null())
                    .col(
                        ColumnDef::new(Incident::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(&mut fk(
                        "fk_incident_org",
                        (Incident::Table, Incident::OrgId),
                        (Organisation::Table, Organisation::Id),
                        ForeignKeyAction::Restrict,
                    ))
                    .foreign_key(&mut fk(
                        "fk_incident_declared_by",
                        (Incident::Table, Incident::DeclaredBy),
                        (Person::Table, Person::Id),
                        ForeignKeyAction::Restrict,
                    ))
                    .foreign_key(&mut fk(
                        "fk_incident_runbook",
                        (Incident::Table, Incident::RunbookId),
                        (Runbook::Table, Runbook::Id),
                        ForeignKeyAction::Restrict,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_incident_org")
                    .table(Incident::Table)
                    .col(Incident::OrgId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Task::Table)
                    .col(id(Task::Id))
                    .col(ColumnDef::new(Task::IncidentId).big_integer().not_null())
                    .col(ColumnDef::new(Task::Position).integer().not_null())
                    .col(ColumnDef::new(Task::Phase).string_len(16).not_null())
                    .col(ColumnDef::new(Task::Title).string_len(200).not_null())
                    .col(ColumnDef::new(Task::Instructions).text().not_null())
                    .col(ColumnDef::new(Task::Required).boolean().not_null())
                    .col(ColumnDef::new(Task::OwnerRole).string_len(48).not_null())
                    .col(ColumnDef::new(Task::OrgId).big_integer().null())
                    .col(ColumnDef::new(Task::AssigneeId).big_integer().null())
                    .col(ColumnDef::new(Task::Routing).text().not_null())
                    .col(ColumnDef::new(Task::State).string_len(16).not_null())
                    .col(
                        ColumnDef::new(Task::DueAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Task::AcknowledgedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(Task::StartedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(Task::CompletedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(ColumnDef::new(Task::Note).text().null())
                    .col(
                        ColumnDef::new(Task::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(&mut fk(
                        "fk_task_incident",
                        (Task::Table, Task::IncidentId),
                        (Incident::Table, Incident::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "fk_task_assignee",
                        (Task::Table, Task::AssigneeId),
                        (Person::Table, Person::Id),
                        ForeignKeyAction::SetNull,
                    ))
                    .to_owned(),
            )
            .await?;
        for (name, col) in [
            ("idx_task_incident", Task::IncidentId),
            ("idx_task_assignee", Task::AssigneeId),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Task::Table)
                        .col(col)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(IncidentEvent::Table)
                    .col(id(IncidentEvent::Id))
                    .col(
                        ColumnDef::new(IncidentEvent::IncidentId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(IncidentEvent::At)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(IncidentEvent::ActorId).big_integer().null())
                    .col(
                        ColumnDef::new(IncidentEvent::Kind)
                            .string_len(32)
                            .not_null(),
                    )
                    .col(ColumnDef::new(IncidentEvent::Detail).text().not_null())
                    .foreign_key(&mut fk(
                        "fk_incident_event_incident",
                        (IncidentEvent::Table, IncidentEvent::IncidentId),
                        (Incident::Table, Incident::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_incident_event_incident")
                    .table(IncidentEvent::Table)
                    .col(IncidentEvent::IncidentId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(IncidentEvent::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Task::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Incident::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(RunbookStep::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Runbook::Table).to_owned())
            .await
    }
}
