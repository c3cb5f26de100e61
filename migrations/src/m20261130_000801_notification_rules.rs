//! Notification rules: how each person is paged ("text and email at once; text again after
//! 5 minutes"), as ordered (channel, delay) pairs, at most one of each. An outbox row
//! counts the times it was sent again after a crash left it mid-send (`repeats`), so a
//! message repeats at most once and says so. The rules, the email preference and verified
//! mobiles are read by a declaration's cached plan: their changes bump the change
//! generation like the other tables the plan reads (migration 000010).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

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
    Repeats,
}

#[derive(DeriveIden)]
enum NotificationRule {
    Table,
    Id,
    PersonId,
    Channel,
    DelayMinutes,
    CreatedAt,
}

/// Tables the declaration plan now also reads, with the columns whose change matters.
const WATCHED: [(&str, &str); 3] = [
    ("notification_rule", ""),
    ("notification_pref", ""),
    ("contact_method", "address, verified_at"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(NotificationRule::Table)
                    .col(
                        ColumnDef::new(NotificationRule::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(NotificationRule::PersonId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(NotificationRule::Channel)
                            .string_len(10)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(NotificationRule::DelayMinutes)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(NotificationRule::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_notification_rule_person")
                            .from(NotificationRule::Table, NotificationRule::PersonId)
                            .to(Person::Table, Person::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_notification_rule_person_channel_delay")
                    .table(NotificationRule::Table)
                    .col(NotificationRule::PersonId)
                    .col(NotificationRule::Channel)
                    .col(NotificationRule::DelayMinutes)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Notification::Table)
                    .add_column(
                        ColumnDef::new(Notification::Repeats)
                            .integer()
                            .not_null()
                            .default(0),
                    )
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        for (table, columns) in WATCHED {
            let update = if columns.is_empty() {
                "UPDATE".to_owned()
            } else {
                format!("UPDATE OF {columns}")
            };
            match manager.get_database_backend() {
                DbBackend::Postgres => {
                    db.execute_unprepared(&format!(
                        "CREATE TRIGGER generation_{table} AFTER INSERT OR {update} OR DELETE \
                         ON {table} FOR EACH STATEMENT EXECUTE FUNCTION bump_change_generation()"
                    ))
                    .await?;
                }
                _ => {
                    for (name, op) in [
                        ("insert", "INSERT"),
                        ("update", &update),
                        ("delete", "DELETE"),
                    ] {
                        db.execute_unprepared(&format!(
                            "CREATE TRIGGER generation_{table}_{name} AFTER {op} ON {table} \
                             BEGIN UPDATE change_generation SET value = value + 1 WHERE id = 1; END"
                        ))
                        .await?;
                    }
                }
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for (table, _) in WATCHED {
            match manager.get_database_backend() {
                DbBackend::Postgres => {
                    db.execute_unprepared(&format!(
                        "DROP TRIGGER IF EXISTS generation_{table} ON {table}"
                    ))
                    .await?;
                }
                _ => {
                    for name in ["insert", "update", "delete"] {
                        db.execute_unprepared(&format!(
                            "DROP TRIGGER IF EXISTS generation_{table}_{name}"
                        ))
                        .await?;
                    }
                }
            }
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Notification::Table)
                    .drop_column(Notification::Repeats)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(NotificationRule::Table).to_owned())
            .await
    }
}
