//! API tokens, service accounts and alert integrations.
//!
//! A service account is a person row (so grants, disabling and the audit trail work as they
//! do for people) with a `service_account` row naming the organisation that owns it. API
//! tokens belong to a person or a service account, are scoped to organisations and to read
//! or write, and are stored only as a SHA-256 of their 256 random bits. An integration key
//! lets one alert source (a SIEM, an EDR) open incidents at its organisation as its own
//! service account; `alert_thread` holds, per key and alert key, the incident that alert
//! opened, so a repeat adds to it instead of opening another.

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
enum Incident {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum ServiceAccount {
    Table,
    PersonId,
    OrgId,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ApiToken {
    Table,
    Id,
    PersonId,
    Name,
    Prefix,
    SecretHash,
    Scope,
    CanWrite,
    CreatedBy,
    CreatedAt,
    ExpiresAt,
    RevokedAt,
    LastUsedAt,
}

#[derive(DeriveIden)]
enum IntegrationKey {
    Table,
    Id,
    OrgId,
    PersonId,
    Source,
    Kind,
    Prefix,
    SecretHash,
    EmailLocal,
    CreatedBy,
    CreatedAt,
    RevokedAt,
    LastUsedAt,
}

#[derive(DeriveIden)]
enum AlertThread {
    Table,
    Id,
    IntegrationKeyId,
    AlertKey,
    IncidentId,
    ClaimedAt,
    LastAt,
    Received,
    LastStatus,
}

fn id(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col)
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
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(from.0, from.1)
        .to(to.0, to.1)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use ServiceAccount as S;
        manager
            .create_table(
                Table::create()
                    .table(S::Table)
                    .col(
                        ColumnDef::new(S::PersonId)
                            .big_integer()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(S::OrgId).big_integer().not_null())
                    .col(ColumnDef::new(S::CreatedBy).big_integer().null())
                    .col(
                        ColumnDef::new(S::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(&mut fk(
                        "fk_service_account_person",
                        (S::Table, S::PersonId),
                        (Person::Table, Person::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_service_account_org",
                        (S::Table, S::OrgId),
                        (Organisation::Table, Organisation::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        use ApiToken as T;
        manager
            .create_table(
                Table::create()
                    .table(T::Table)
                    .col(id(T::Id))
                    .col(ColumnDef::new(T::PersonId).big_integer().not_null())
                    .col(ColumnDef::new(T::Name).string_len(100).not_null())
                    .col(ColumnDef::new(T::Prefix).string_len(16).not_null())
                    .col(
                        ColumnDef::new(T::SecretHash)
                            .string_len(64)
                            .not_null()
                            .unique_key(),
                    )
                    .col(ColumnDef::new(T::Scope).text().not_null())
                    .col(ColumnDef::new(T::CanWrite).boolean().not_null())
                    .col(ColumnDef::new(T::CreatedBy).big_integer().null())
                    .col(
                        ColumnDef::new(T::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(T::ExpiresAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(T::RevokedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(T::LastUsedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .foreign_key(&mut fk(
                        "fk_api_token_person",
                        (T::Table, T::PersonId),
                        (Person::Table, Person::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_api_token_person")
                    .table(T::Table)
                    .col(T::PersonId)
                    .to_owned(),
            )
            .await?;
        use IntegrationKey as K;
        manager
            .create_table(
                Table::create()
                    .table(K::Table)
                    .col(id(K::Id))
                    .col(ColumnDef::new(K::OrgId).big_integer().not_null())
                    .col(ColumnDef::new(K::PersonId).big_integer().not_null())
                    .col(ColumnDef::new(K::Source).string_len(100).not_null())
                    .col(ColumnDef::new(K::Kind).string_len(40).not_null())
                    .col(ColumnDef::new(K::Prefix).string_len(16).not_null())
                    .col(
                        ColumnDef::new(K::SecretHash)
                            .string_len(64)
                            .not_null()
                            .unique_key(),
                    )
                    .col(
                        ColumnDef::new(K::EmailLocal)
                            .string_len(64)
                            .not_null()
                            .unique_key(),
                    )
                    .col(ColumnDef::new(K::CreatedBy).big_integer().null())
                    .col(
                        ColumnDef::new(K::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(K::RevokedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(K::LastUsedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .foreign_key(&mut fk(
                        "fk_integration_key_org",
                        (K::Table, K::OrgId),
                        (Organisation::Table, Organisation::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_integration_key_person",
                        (K::Table, K::PersonId),
                        (Person::Table, Person::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        use AlertThread as A;
        manager
            .create_table(
                Table::create()
                    .table(A::Table)
                    .col(id(A::Id))
                    .col(ColumnDef::new(A::IntegrationKeyId).big_integer().not_null())
                    .col(ColumnDef::new(A::AlertKey).string_len(200).not_null())
                    .col(ColumnDef::new(A::IncidentId).big_integer().null())
                    .col(
                        ColumnDef::new(A::ClaimedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(A::LastAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(A::Received).big_integer().not_null())
                    .col(ColumnDef::new(A::LastStatus).string_len(20).not_null())
                    .foreign_key(&mut fk(
                        "fk_alert_thread_key",
                        (A::Table, A::IntegrationKeyId),
                        (IntegrationKey::Table, IntegrationKey::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_alert_thread_incident",
                        (A::Table, A::IncidentId),
                        (Incident::Table, Incident::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_alert_thread_key")
                    .table(A::Table)
                    .col(A::IntegrationKeyId)
                    .col(A::AlertKey)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            AlertThread::Table.into_iden(),
            IntegrationKey::Table.into_iden(),
            ApiToken::Table.into_iden(),
            ServiceAccount::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
