//! Reply codes: the short code each text about a task carries, so the person it was sent to
//! can acknowledge (`ACK 4821`) or escalate (`ESC 4821`) by replying. Only a keyed hash of
//! the code is kept, in `live_key` while the code works (unique, so no two live codes are
//! the same) and cleared once it is used or has expired.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Person {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Task {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Notification {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum ReplyCode {
    Table,
    Id,
    TaskId,
    PersonId,
    NotificationId,
    IncidentId,
    LiveKey,
    CreatedAt,
    ExpiresAt,
    UsedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ReplyCode::Table)
                    .col(
                        ColumnDef::new(ReplyCode::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(ReplyCode::TaskId).big_integer().not_null())
                    .col(ColumnDef::new(ReplyCode::PersonId).big_integer().not_null())
                    .col(
                        ColumnDef::new(ReplyCode::NotificationId)
                            .big_integer()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(ReplyCode::IncidentId)
                            .big_integer()
                            .not_null(),
                    )
                    // NULL once spent or expired; NULLs never clash in a unique index, in
                    // SQLite or PostgreSQL.
                    .col(ColumnDef::new(ReplyCode::LiveKey).string_len(128).null())
                    .col(
                        ColumnDef::new(ReplyCode::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ReplyCode::ExpiresAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ReplyCode::UsedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_reply_code_task")
                            .from(ReplyCode::Table, ReplyCode::TaskId)
                            .to(Task::Table, Task::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_reply_code_person")
                            .from(ReplyCode::Table, ReplyCode::PersonId)
                            .to(Person::Table, Person::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_reply_code_notification")
                            .from(ReplyCode::Table, ReplyCode::NotificationId)
                            .to(Notification::Table, Notification::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_reply_code_live_key")
                    .table(ReplyCode::Table)
                    .col(ReplyCode::LiveKey)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_reply_code_task")
                    .table(ReplyCode::Table)
                    .col(ReplyCode::TaskId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ReplyCode::Table).to_owned())
            .await
    }
}
