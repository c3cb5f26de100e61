//! Named accountability: the role catalogue and who holds each role where, with deputies,
//! contact details, dates (history is never overwritten) and attestation; plus settings.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Person {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Organisation {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Role {
    Table,
    Id,
    Key,
    Name,
    Description,
    AppliesTo,
    Mandatory,
    System,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Assignment {
    Table,
    Id,
    OrgId,
    RoleId,
    PersonId,
    DeputyId,
    WorkPhone,
    OutOfHoursPhone,
    ContactEmail,
    StartsAt,
    EndsAt,
    ConfirmedAt,
    CreatedAt,
    CreatedBy,
}

#[derive(DeriveIden)]
enum Setting {
    Table,
    Key,
    Value,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Role::Table)
                    .col(
                        ColumnDef::new(Role::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(Role::Key)
                            .string_len(48)
                            .not_null()
                            .unique_key(),
                    )
                    .col(ColumnDef::new(Role::Name).string_len(120).not_null())
                    .col(ColumnDef::new(Role::Description).text().null())
                    .col(ColumnDef::new(Role::AppliesTo).string_len(200).not_null())
                    .col(
                        ColumnDef::new(Role::Mandatory)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .col(
                        ColumnDef::new(Role::System)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .col(
                        ColumnDef::new(Role::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Assignment::Table)
                    .col(
                        ColumnDef::new(Assignment::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Assignment::OrgId).big_integer().not_null())
                    .col(ColumnDef::new(Assignment::RoleId).big_integer().not_null())
                    .col(
                        ColumnDef::new(Assignment::PersonId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(Assignment::DeputyId).big_integer().null())
                    .col(ColumnDef::new(Assignment::WorkPhone).string_len(32).null())
                    .col(
                        ColumnDef::new(Assignment::OutOfHoursPhone)
                            .string_len(32)
                            .null(),
                    )
                    .col(
                        ColumnDef::new(Assignment::ContactEmail)
                            .string_len(254)
                            .null(),
                    )
                    .col(
                        ColumnDef::new(Assignment::StartsAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Assignment::EndsAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(Assignment::ConfirmedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(Assignment::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(Assignment::CreatedBy).big_integer().null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_assignment_org")
                            .from(Assignment::Table, Assignment::OrgId)
                            .to(Organisation::Table, Organisation::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_assignment_role")
                            .from(Assignment::Table, Assignment::RoleId)
                            .to(Role::Table, Role::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_assignment_person")
                            .from(Assignment::Table, Assignment::PersonId)
                            .to(Person::Table, Person::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_assignment_deputy")
                            .from(Assignment::Table, Assignment::DeputyId)
                            .to(Person::Table, Person::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, cols) in [
            (
                "idx_assignment_org_role",
                vec![Assignment::OrgId, Assignment::RoleId],
            ),
            ("idx_assignment_person", vec![Assignment::PersonId]),
        ] {
            let mut idx = Index::create()
                .name(name)
                .table(Assignment::Table)
                .to_owned();
            for c in cols {
                idx.col(c);
            }
            manager.create_index(idx).await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(Setting::Table)
                    .col(
                        ColumnDef::new(Setting::Key)
                            .string_len(64)
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Setting::Value).string_len(1000).not_null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Setting::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Assignment::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Role::Table).to_owned())
            .await
    }
}
