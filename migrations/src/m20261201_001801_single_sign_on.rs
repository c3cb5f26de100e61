//! Single sign-on: the OpenID Connect providers a national admin configures (the client
//! secret stays in a file, named here), the provider identities linked to people (by the
//! provider's subject, so a reused email address cannot take an account over), and whether
//! an organisation's people may still sign in with a password.

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
    PasswordSignIn,
}

#[derive(DeriveIden)]
enum IdentityProvider {
    Table,
    Id,
    Slug,
    Name,
    Issuer,
    ClientId,
    ClientSecretFile,
    AllowedDomains,
    OrgClaim,
    TrustMfa,
    Enabled,
    CreatedAt,
}

#[derive(DeriveIden)]
enum SsoIdentity {
    Table,
    Id,
    ProviderId,
    Subject,
    PersonId,
    LinkedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use IdentityProvider as P;
        manager
            .create_table(
                Table::create()
                    .table(P::Table)
                    .col(
                        ColumnDef::new(P::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(P::Slug)
                            .string_len(40)
                            .not_null()
                            .unique_key(),
                    )
                    .col(ColumnDef::new(P::Name).string_len(100).not_null())
                    .col(ColumnDef::new(P::Issuer).string_len(500).not_null())
                    .col(ColumnDef::new(P::ClientId).string_len(300).not_null())
                    .col(
                        ColumnDef::new(P::ClientSecretFile)
                            .string_len(500)
                            .not_null(),
                    )
                    .col(ColumnDef::new(P::AllowedDomains).text().not_null())
                    .col(ColumnDef::new(P::OrgClaim).string_len(100).null())
                    .col(ColumnDef::new(P::TrustMfa).boolean().not_null())
                    .col(ColumnDef::new(P::Enabled).boolean().not_null())
                    .col(
                        ColumnDef::new(P::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        use SsoIdentity as I;
        manager
            .create_table(
                Table::create()
                    .table(I::Table)
                    .col(
                        ColumnDef::new(I::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(I::ProviderId).big_integer().not_null())
                    .col(ColumnDef::new(I::Subject).string_len(255).not_null())
                    .col(ColumnDef::new(I::PersonId).big_integer().not_null())
                    .col(
                        ColumnDef::new(I::LinkedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_sso_identity_provider")
                            .from(I::Table, I::ProviderId)
                            .to(IdentityProvider::Table, IdentityProvider::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_sso_identity_person")
                            .from(I::Table, I::PersonId)
                            .to(Person::Table, Person::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_sso_identity_subject")
                    .table(I::Table)
                    .col(I::ProviderId)
                    .col(I::Subject)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_sso_identity_person")
                    .table(I::Table)
                    .col(I::ProviderId)
                    .col(I::PersonId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Organisation::Table)
                    .add_column(
                        ColumnDef::new(Organisation::PasswordSignIn)
                            .boolean()
                            .not_null()
                            .default(true),
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
                    .drop_column(Organisation::PasswordSignIn)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(SsoIdentity::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(IdentityProvider::Table).to_owned())
            .await
    }
}
