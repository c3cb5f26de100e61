//! Accounts and access: credentials, MFA, recovery codes, invitations, organisation-scoped
//! grants, server-side sessions and the audit trail.

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
enum Account {
    Table,
    PersonId,
    PasswordHash,
    PasswordChangedAt,
    TotpSecret,
    TotpEnabledAt,
    TotpLastStep,
    FailedAttempts,
    LockedUntil,
    LastSignInAt,
}

#[derive(DeriveIden)]
enum RecoveryCode {
    Table,
    Id,
    PersonId,
    CodeHash,
    UsedAt,
}

#[derive(DeriveIden)]
enum Invite {
    Table,
    Id,
    TokenHash,
    Email,
    DisplayName,
    OrgId,
    Role,
    InvitedBy,
    CreatedAt,
    ExpiresAt,
    UsedAt,
}

#[derive(DeriveIden)]
enum AccessGrant {
    Table,
    Id,
    PersonId,
    OrgId,
    Role,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Session {
    Table,
    Id,
    PersonId,
    Data,
    ExpiresAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum AuditEvent {
    Table,
    Id,
    At,
    ActorId,
    Action,
    OrgId,
    Subject,
    Detail,
    Client,
}

fn id_col<T: IntoIden>(name: T) -> ColumnDef {
    ColumnDef::new(name)
        .big_integer()
        .not_null()
        .auto_increment()
        .primary_key()
        .to_owned()
}

fn person_fk<T: IntoIden + 'static>(table: T, col: T, name: &str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(table, col)
        .to(Person::Table, Person::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Account::Table)
                    .col(
                        ColumnDef::new(Account::PersonId)
                            .big_integer()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Account::PasswordHash).string_len(255).null())
                    .col(
                        ColumnDef::new(Account::PasswordChangedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(ColumnDef::new(Account::TotpSecret).string_len(128).null())
                    .col(
                        ColumnDef::new(Account::TotpEnabledAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(ColumnDef::new(Account::TotpLastStep).big_integer().null())
                    .col(
                        ColumnDef::new(Account::FailedAttempts)
                            .integer()
                            .not_null()
                            .default(0),
                    )
                    .col(
                        ColumnDef::new(Account::LockedUntil)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(Account::LastSignInAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .foreign_key(&mut person_fk(
                        Account::Table,
                        Account::PersonId,
                        "fk_account_person",
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(RecoveryCode::Table)
                    .col(id_col(RecoveryCode::Id))
                    .col(
                        ColumnDef::new(RecoveryCode::PersonId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(RecoveryCode::CodeHash)
                            .string_len(128)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(RecoveryCode::UsedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .foreign_key(&mut person_fk(
                        RecoveryCode::Table,
                        RecoveryCode::PersonId,
                        "fk_recovery_code_person",
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Invite::Table)
                    .col(id_col(Invite::Id))
                    .col(
                        ColumnDef::new(Invite::TokenHash)
                            .string_len(128)
                            .not_null()
                            .unique_key(),
                    )
                    .col(ColumnDef::new(Invite::Email).string_len(254).not_null())
                    .col(
                        ColumnDef::new(Invite::DisplayName)
                            .string_len(120)
                            .not_null(),
                    )
                    .col(ColumnDef::new(Invite::OrgId).big_integer().not_null())
                    .col(ColumnDef::new(Invite::Role).string_len(24).not_null())
                    .col(ColumnDef::new(Invite::InvitedBy).big_integer().null())
                    .col(
                        ColumnDef::new(Invite::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Invite::ExpiresAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Invite::UsedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_invite_org")
                            .from(Invite::Table, Invite::OrgId)
                            .to(Organisation::Table, Organisation::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(AccessGrant::Table)
                    .col(id_col(AccessGrant::Id))
                    .col(
                        ColumnDef::new(AccessGrant::PersonId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(AccessGrant::OrgId).big_integer().not_null())
                    .col(ColumnDef::new(AccessGrant::Role).string_len(24).not_null())
                    .col(
                        ColumnDef::new(AccessGrant::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(&mut person_fk(
                        AccessGrant::Table,
                        AccessGrant::PersonId,
                        "fk_access_grant_person",
                    ))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_access_grant_org")
                            .from(AccessGrant::Table, AccessGrant::OrgId)
                            .to(Organisation::Table, Organisation::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_access_grant")
                    .table(AccessGrant::Table)
                    .col(AccessGrant::PersonId)
                    .col(AccessGrant::OrgId)
                    .col(AccessGrant::Role)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Session::Table)
                    .col(
                        ColumnDef::new(Session::Id)
                            .string_len(64)
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Session::PersonId).big_integer().null())
                    .col(ColumnDef::new(Session::Data).text().not_null())
                    .col(
                        ColumnDef::new(Session::ExpiresAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Session::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, col) in [
            ("idx_session_person", Session::PersonId),
            ("idx_session_expires", Session::ExpiresAt),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Session::Table)
                        .col(col)
                        .to_owned(),
                )
                .await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(AuditEvent::Table)
                    .col(id_col(AuditEvent::Id))
                    .col(
                        ColumnDef::new(AuditEvent::At)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(AuditEvent::ActorId).big_integer().null())
                    .col(ColumnDef::new(AuditEvent::Action).string_len(64).not_null())
                    .col(ColumnDef::new(AuditEvent::OrgId).big_integer().null())
                    .col(ColumnDef::new(AuditEvent::Subject).string_len(254).null())
                    .col(ColumnDef::new(AuditEvent::Detail).text().null())
                    .col(ColumnDef::new(AuditEvent::Client).string_len(64).null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_audit_event_at")
                    .table(AuditEvent::Table)
                    .col(AuditEvent::At)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            AuditEvent::Table.into_iden(),
            Session::Table.into_iden(),
            AccessGrant::Table.into_iden(),
            Invite::Table.into_iden(),
            RecoveryCode::Table.into_iden(),
            Account::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
