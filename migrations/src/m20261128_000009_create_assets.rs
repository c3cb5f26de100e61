//! The asset catalogue: each organisation's hardware, software, connected medical devices,
//! network and cloud services, with owner, supplier, criticality, operating system and end
//! of support, and what each depends on.

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
enum Asset {
    Table,
    Id,
    OrgId,
    Name,
    Kind,
    OwnerId,
    SupplierId,
    ClinicalService,
    PatientSafetyCritical,
    Os,
    OsVersion,
    EndOfSupport,
    SiteId,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum AssetDependency {
    Table,
    Id,
    AssetId,
    DependsOnId,
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
                    .table(Asset::Table)
                    .col(
                        ColumnDef::new(Asset::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Asset::OrgId).big_integer().not_null())
                    .col(ColumnDef::new(Asset::Name).string_len(200).not_null())
                    .col(ColumnDef::new(Asset::Kind).string_len(24).not_null())
                    .col(ColumnDef::new(Asset::OwnerId).big_integer().null())
                    .col(ColumnDef::new(Asset::SupplierId).big_integer().null())
                    .col(
                        ColumnDef::new(Asset::ClinicalService)
                            .string_len(200)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Asset::PatientSafetyCritical)
                            .boolean()
                            .not_null(),
                    )
                    .col(ColumnDef::new(Asset::Os).string_len(100).not_null())
                    .col(ColumnDef::new(Asset::OsVersion).string_len(100).not_null())
                    .col(ColumnDef::new(Asset::EndOfSupport).date().null())
                    .col(ColumnDef::new(Asset::SiteId).big_integer().null())
                    .col(
                        ColumnDef::new(Asset::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(&mut fk(
                        "fk_asset_org",
                        (Asset::Table, Asset::OrgId),
                        (Organisation::Table, Organisation::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "fk_asset_owner",
                        (Asset::Table, Asset::OwnerId),
                        (Person::Table, Person::Id),
                        ForeignKeyAction::SetNull,
                    ))
                    .foreign_key(&mut fk(
                        "fk_asset_supplier",
                        (Asset::Table, Asset::SupplierId),
                        (Organisation::Table, Organisation::Id),
                        ForeignKeyAction::SetNull,
                    ))
                    .foreign_key(&mut fk(
                        "fk_asset_site",
                        (Asset::Table, Asset::SiteId),
                        (Organisation::Table, Organisation::Id),
                        ForeignKeyAction::SetNull,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_asset_org_name")
                    .table(Asset::Table)
                    .col(Asset::OrgId)
                    .col(Asset::Name)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_asset_supplier")
                    .table(Asset::Table)
                    .col(Asset::SupplierId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AssetDependency::Table)
                    .col(
                        ColumnDef::new(AssetDependency::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(AssetDependency::AssetId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(AssetDependency::DependsOnId)
                            .big_integer()
                            .not_null(),
                    )
                    .foreign_key(&mut fk(
                        "fk_asset_dependency_asset",
                        (AssetDependency::Table, AssetDependency::AssetId),
                        (Asset::Table, Asset::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "fk_asset_dependency_on",
                        (AssetDependency::Table, AssetDependency::DependsOnId),
                        (Asset::Table, Asset::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_asset_dependency")
                    .table(AssetDependency::Table)
                    .col(AssetDependency::AssetId)
                    .col(AssetDependency::DependsOnId)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AssetDependency::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Asset::Table).to_owned())
            .await
    }
}
