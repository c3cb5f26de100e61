//! Post-incident reviews (for incidents and exercises): what happened, what went well, the
//! lessons, and actions with owners and due dates, followed until closed.

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
enum Review {
    Table,
    Id,
    IncidentId,
    WhatHappened,
    WentWell,
    Lessons,
    UpdatedAt,
    UpdatedBy,
}

#[derive(DeriveIden)]
enum ReviewAction {
    Table,
    Id,
    IncidentId,
    Title,
    OwnerId,
    DueOn,
    ClosedAt,
    ClosedBy,
    ClosingNote,
    CreatedAt,
    CreatedBy,
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
                    .table(Review::Table)
                    .col(
                        ColumnDef::new(Review::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(Review::IncidentId)
                            .big_integer()
                            .not_null()
                            .unique_key(),
                    )
                    .col(ColumnDef::new(Review::WhatHappened).text().not_null())
                    .col(ColumnDef::new(Review::WentWell).text().not_null())
                    .col(ColumnDef::new(Review::Lessons).text().not_null())
                    .col(
                        ColumnDef::new(Review::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(Review::UpdatedBy).big_integer().null())
                    .foreign_key(&mut fk(
                        "fk_review_incident",
                        (Review::Table, Review::IncidentId),
                        (Incident::Table, Incident::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "fk_review_updated_by",
                        (Review::Table, Review::UpdatedBy),
                        (Person::Table, Person::Id),
                        ForeignKeyAction::SetNull,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ReviewAction::Table)
                    .col(
                        ColumnDef::new(ReviewAction::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(ReviewAction::IncidentId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ReviewAction::Title)
                            .string_len(300)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ReviewAction::OwnerId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(ReviewAction::DueOn).date().not_null())
                    .col(
                        ColumnDef::new(ReviewAction::ClosedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(ColumnDef::new(ReviewAction::ClosedBy).big_integer().null())
                    .col(ColumnDef::new(ReviewAction::ClosingNote).text().null())
                    .col(
                        ColumnDef::new(ReviewAction::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(ReviewAction::CreatedBy).big_integer().null())
                    .foreign_key(&mut fk(
                        "fk_review_action_incident",
                        (ReviewAction::Table, ReviewAction::IncidentId),
                        (Incident::Table, Incident::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "fk_review_action_owner",
                        (ReviewAction::Table, ReviewAction::OwnerId),
                        (Person::Table, Person::Id),
                        ForeignKeyAction::Restrict,
                    ))
                    .foreign_key(&mut fk(
                        "fk_review_action_closed_by",
                        (ReviewAction::Table, ReviewAction::ClosedBy),
                        (Person::Table, Person::Id),
                        ForeignKeyAction::SetNull,
                    ))
                    .foreign_key(&mut fk(
                        "fk_review_action_created_by",
                        (ReviewAction::Table, ReviewAction::CreatedBy),
                        (Person::Table, Person::Id),
                        ForeignKeyAction::SetNull,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_review_action_owner")
                    .table(ReviewAction::Table)
                    .col(ReviewAction::OwnerId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ReviewAction::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Review::Table).to_owned())
            .await
    }
}
