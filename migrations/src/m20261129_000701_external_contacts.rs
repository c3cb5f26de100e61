//! External contacts: services Wardline tells but that are not its users (NHS England's
//! CSOC, an ICB's on-call line, a supplier's security desk), national (no organisation) or
//! an organisation's own. The national default escalation policy's last level names the
//! CSOC contact instead of a `csoc_duty` role nobody signs in as.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ExternalContact {
    Table,
    Id,
    OrgId,
    Key,
    Name,
    Phone,
    Email,
    ReportingRoute,
    UpdatedAt,
    UpdatedBy,
}

#[derive(DeriveIden)]
enum Organisation {
    Table,
    Id,
}

/// The national default's last level as it was seeded, and as it is now.
const OLD_LAST: &str = r#"[{"type":"role","key":"csoc_duty","above":true,"org":null}]"#;
const NEW_LAST: &str = r#"[{"type":"external","key":"csoc"}]"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ExternalContact::Table)
                    .col(
                        ColumnDef::new(ExternalContact::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(ExternalContact::OrgId).big_integer().null())
                    .col(
                        ColumnDef::new(ExternalContact::Key)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ExternalContact::Name)
                            .string_len(200)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ExternalContact::Phone)
                            .string_len(40)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ExternalContact::Email)
                            .string_len(320)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ExternalContact::ReportingRoute)
                            .text()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ExternalContact::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ExternalContact::UpdatedBy)
                            .big_integer()
                            .null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_external_contact_org")
                            .from(ExternalContact::Table, ExternalContact::OrgId)
                            .to(Organisation::Table, Organisation::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // A key names one contact wherever a policy uses it.
        manager
            .create_index(
                Index::create()
                    .name("uq_external_contact_key")
                    .table(ExternalContact::Table)
                    .col(ExternalContact::Key)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared(&format!(
                "UPDATE escalation_level SET targets = '{NEW_LAST}' WHERE targets = '{OLD_LAST}' \
                 AND policy_id IN (SELECT id FROM escalation_policy WHERE org_id IS NULL)"
            ))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(&format!(
                "UPDATE escalation_level SET targets = '{OLD_LAST}' WHERE targets = '{NEW_LAST}' \
                 AND policy_id IN (SELECT id FROM escalation_policy WHERE org_id IS NULL)"
            ))
            .await?;
        manager
            .drop_table(Table::drop().table(ExternalContact::Table).to_owned())
            .await
    }
}
