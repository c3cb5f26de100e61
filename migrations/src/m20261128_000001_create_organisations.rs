//! Organisations, their parent links with effective dates, and supplier relationships.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Organisation {
    Table,
    Id,
    Code,
    Name,
    Kind,
    Status,
    OpenedOn,
    ClosedOn,
    Postcode,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum OrgLink {
    Table,
    Id,
    ChildId,
    ParentId,
    ValidFrom,
    ValidTo,
}

#[derive(DeriveIden)]
enum SupplierService {
    Table,
    Id,
    SupplierId,
    ClientId,
    Service,
    ValidFrom,
    ValidTo,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Organisation::Table)
                    .col(
                        ColumnDef::new(Organisation::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(Organisation::Code)
                            .string_len(16)
                            .not_null()
                            .unique_key(),
                    )
                    .col(
                        ColumnDef::new(Organisation::Name)
                            .string_len(200)
                            .not_null(),
                    )
                    .col(ColumnDef::new(Organisation::Kind).string_len(24).not_null())
                    .col(
                        ColumnDef::new(Organisation::Status)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(ColumnDef::new(Organisation::OpenedOn).date().null())
                    .col(ColumnDef::new(Organisation::ClosedOn).date().null())
                    .col(ColumnDef::new(Organisation::Postcode).string_len(16).null())
                    .col(
                        ColumnDef::new(Organisation::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Organisation::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_organisation_kind")
                    .table(Organisation::Table)
                    .col(Organisation::Kind)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(OrgLink::Table)
                    .col(
                        ColumnDef::new(OrgLink::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(OrgLink::ChildId).big_integer().not_null())
                    .col(ColumnDef::new(OrgLink::ParentId).big_integer().not_null())
                    .col(ColumnDef::new(OrgLink::ValidFrom).date().not_null())
                    .col(ColumnDef::new(OrgLink::ValidTo).date().null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_org_link_child")
                            .from(OrgLink::Table, OrgLink::ChildId)
                            .to(Organisation::Table, Organisation::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_org_link_parent")
                            .from(OrgLink::Table, OrgLink::ParentId)
                            .to(Organisation::Table, Organisation::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, col) in [
            ("idx_org_link_child", OrgLink::ChildId),
            ("idx_org_link_parent", OrgLink::ParentId),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(OrgLink::Table)
                        .col(col)
                        .to_owned(),
                )
                .await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(SupplierService::Table)
                    .col(
                        ColumnDef::new(SupplierService::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(SupplierService::SupplierId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(SupplierService::ClientId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(SupplierService::Service)
                            .string_len(200)
                            .not_null(),
                    )
                    .col(ColumnDef::new(SupplierService::ValidFrom).date().not_null())
                    .col(ColumnDef::new(SupplierService::ValidTo).date().null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_supplier_service_supplier")
                            .from(SupplierService::Table, SupplierService::SupplierId)
                            .to(Organisation::Table, Organisation::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_supplier_service_client")
                            .from(SupplierService::Table, SupplierService::ClientId)
                            .to(Organisation::Table, Organisation::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_supplier_service")
                    .table(SupplierService::Table)
                    .col(SupplierService::SupplierId)
                    .col(SupplierService::ClientId)
                    .col(SupplierService::Service)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(SupplierService::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(OrgLink::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Organisation::Table).to_owned())
            .await
    }
}
