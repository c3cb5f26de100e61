//! A change counter kept by the database itself: triggers bump it whenever anything a
//! declaration reads before it writes changes (the organisation tree, people, roles and who
//! holds them, runbooks, escalation policies). The declaration writer keeps what it read in
//! memory and compares this one number, inside its own transaction, before trusting it.
//!
//! Triggers rather than application code so that no path (an import, an admin page, a
//! hand-run SQL fix, another app instance) can change those tables without bumping it.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ChangeGeneration {
    Table,
    Id,
    Value,
}

/// The tables a declaration's plan is read from.
const WATCHED: [&str; 9] = [
    "organisation",
    "org_link",
    "person",
    "role",
    "assignment",
    "runbook",
    "runbook_step",
    "escalation_policy",
    "escalation_level",
];

const OPS: [&str; 3] = ["insert", "update", "delete"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ChangeGeneration::Table)
                    .col(
                        ColumnDef::new(ChangeGeneration::Id)
                            .big_integer()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(ChangeGeneration::Value)
                            .big_integer()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        db.execute_unprepared("INSERT INTO change_generation (id, value) VALUES (1, 0)")
            .await?;
        match manager.get_database_backend() {
            DbBackend::Postgres => {
                db.execute_unprepared(
                    "CREATE FUNCTION bump_change_generation() RETURNS trigger AS $$ \
                     BEGIN UPDATE change_generation SET value = value + 1 WHERE id = 1; \
                     RETURN NULL; END $$ LANGUAGE plpgsql",
                )
                .await?;
                for table in WATCHED {
                    db.execute_unprepared(&format!(
                        "CREATE TRIGGER generation_{table} AFTER INSERT OR UPDATE OR DELETE \
                         ON {table} FOR EACH STATEMENT EXECUTE FUNCTION bump_change_generation()"
                    ))
                    .await?;
                }
            }
            _ => {
                // SQLite has row triggers only; bumping one cached row costs little.
                for table in WATCHED {
                    for op in OPS {
                        db.execute_unprepared(&format!(
                            "CREATE TRIGGER generation_{table}_{op} AFTER {op} ON {table} \
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
        match manager.get_database_backend() {
            DbBackend::Postgres => {
                for table in WATCHED {
                    db.execute_unprepared(&format!(
                        "DROP TRIGGER IF EXISTS generation_{table} ON {table}"
                    ))
                    .await?;
                }
                db.execute_unprepared("DROP FUNCTION IF EXISTS bump_change_generation()")
                    .await?;
            }
            _ => {
                for table in WATCHED {
                    for op in OPS {
                        db.execute_unprepared(&format!(
                            "DROP TRIGGER IF EXISTS generation_{table}_{op}"
                        ))
                        .await?;
                    }
                }
            }
        }
        manager
            .drop_table(Table::drop().table(ChangeGeneration::Table).to_owned())
            .await
    }
}
