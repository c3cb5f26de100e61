//! Contact methods (a person's mobile number, verified by a code sent to it before use) and
//! the text messages sent through GOV.UK Notify, with the delivery status its receipts
//! report, found by the reference Wardline gave each.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Person {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Notification {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum ContactMethod {
    Table,
    Id,
    PersonId,
    Kind,
    Address,
    VerifiedAt,
    CodeHash,
    CodeExpiresAt,
    CodeTries,
    CodesSent,
    WindowStartedAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum TextMessage {
    Table,
    Id,
    Reference,
    PersonId,
    NotificationId,
    Purpose,
    Status,
    StatusAt,
    ProviderId,
    CreatedAt,
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
                    .table(ContactMethod::Table)
                    .col(
                        ColumnDef::new(ContactMethod::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(ContactMethod::PersonId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ContactMethod::Kind)
                            .string_len(20)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ContactMethod::Address)
                            .string_len(40)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ContactMethod::VerifiedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(ContactMethod::CodeHash)
                            .string_len(128)
                            .null(),
                    )
                    .col(
                        ColumnDef::new(ContactMethod::CodeExpiresAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(ContactMethod::CodeTries)
                            .integer()
                            .not_null()
                            .default(0),
                    )
                    .col(
                        ColumnDef::new(ContactMethod::CodesSent)
                            .integer()
                            .not_null()
                            .default(0),
                    )
                    .col(
                        ColumnDef::new(ContactMethod::WindowStartedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(ContactMethod::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(&mut fk(
                        "fk_contact_method_person",
                        (ContactMethod::Table, ContactMethod::PersonId),
                        (Person::Table, Person::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_contact_method_person_kind")
                    .table(ContactMethod::Table)
                    .col(ContactMethod::PersonId)
                    .col(ContactMethod::Kind)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(TextMessage::Table)
                    .col(
                        ColumnDef::new(TextMessage::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(TextMessage::Reference)
                            .string_len(64)
                            .not_null()
                            .unique_key(),
                    )
                    .col(ColumnDef::new(TextMessage::PersonId).big_integer().null())
                    .col(
                        ColumnDef::new(TextMessage::NotificationId)
                            .big_integer()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(TextMessage::Purpose)
                            .string_len(20)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(TextMessage::Status)
                            .string_len(40)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(TextMessage::StatusAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(TextMessage::ProviderId)
                            .string_len(64)
                            .null(),
                    )
                    .col(
                        ColumnDef::new(TextMessage::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(&mut fk(
                        "fk_text_message_person",
                        (TextMessage::Table, TextMessage::PersonId),
                        (Person::Table, Person::Id),
                        ForeignKeyAction::SetNull,
                    ))
                    .foreign_key(&mut fk(
                        "fk_text_message_notification",
                        (TextMessage::Table, TextMessage::NotificationId),
                        (Notification::Table, Notification::Id),
                        ForeignKeyAction::SetNull,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_text_message_notification")
                    .table(TextMessage::Table)
                    .col(TextMessage::NotificationId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(TextMessage::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(ContactMethod::Table).to_owned())
            .await
    }
}
